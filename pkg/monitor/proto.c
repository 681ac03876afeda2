/* The control protocol's packets (proto.h). */
#include "pkg/monitor/proto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void put_u16(char *p, uint16_t v)
{
	p[0] = (char)(v >> 8);
	p[1] = (char)v;
}

static void put_u32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

static uint16_t get_u16(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (uint16_t)(u[0] << 8 | u[1]);
}

static uint32_t get_u32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | (uint32_t)u[3];
}

/* Bytes of fixed fields after the type byte, and whether data follows them. */
struct layout {
	uint8_t type;
	const char *name;
	size_t fixed;
	bool data;
};

static const struct layout layouts[] = {
	{MON_PKT_VERSION, "VERSION", 1, true},
	{MON_PKT_STDOUT, "STDOUT", 0, true},
	{MON_PKT_STDERR, "STDERR", 0, true},
	{MON_PKT_EXIT, "EXIT", 8, false},
	{MON_PKT_REPLY, "REPLY", 4, true},
	{MON_PKT_ATTACH, "ATTACH", 1, false},
	{MON_PKT_STDIN, "STDIN", 0, true},
	{MON_PKT_STDIN_CLOSE, "STDIN_CLOSE", 0, false},
	{MON_PKT_RESIZE, "RESIZE", 4, false},
	{MON_PKT_START, "START", 0, false},
	{MON_PKT_STOP, "STOP", 5, false},
	{MON_PKT_KILL, "KILL", 1, false},
	{MON_PKT_STATUS, "STATUS", 0, false},
	{MON_PKT_LOG_REOPEN, "LOG_REOPEN", 0, false},
	{MON_PKT_HEALTHCHECK, "HEALTHCHECK", 0, false},
};

static const struct layout *layout_of(uint8_t type)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].type == type)
			return &layouts[i];
	return NULL;
}

bool mon_pkt_known(uint8_t type)
{
	return layout_of(type) != NULL;
}

int mon_msg_encode(const struct mon_msg *m, char *buf, size_t cap, size_t *ret_len, struct skiff_err **err)
{
	const struct layout *l = layout_of(m->type);
	size_t n;

	if (!l)
		return err_makex(err, EINVAL, "encode packet: unknown type 0x%02x", m->type);
	if (!l->data && m->len)
		return err_makex(err, EINVAL, "encode packet %s: this type carries no data", l->name);
	if (m->len && !m->data)
		return err_makex(err, EINVAL, "encode packet %s: no data for %zu bytes", l->name, m->len);
	n = 1 + l->fixed + m->len;
	if (m->len > MON_PKT_MAX || n > MON_PKT_MAX || n > cap)
		return err_makex(err, EMSGSIZE, "encode packet %s: %zu bytes do not fit in %zu", l->name, n,
				 cap < MON_PKT_MAX ? cap : (size_t)MON_PKT_MAX);
	buf[0] = (char)m->type;
	switch (m->type) {
	case MON_PKT_VERSION:
		buf[1] = (char)m->version;
		break;
	case MON_PKT_EXIT:
		put_u32(buf + 1, (uint32_t)m->code);
		put_u32(buf + 5, (uint32_t)m->exit_signal);
		break;
	case MON_PKT_REPLY:
		put_u32(buf + 1, (uint32_t)m->code);
		break;
	case MON_PKT_ATTACH:
		buf[1] = (char)m->flags;
		break;
	case MON_PKT_RESIZE:
		put_u16(buf + 1, m->rows);
		put_u16(buf + 3, m->cols);
		break;
	case MON_PKT_STOP:
		put_u32(buf + 1, m->timeout);
		buf[5] = (char)m->signal;
		break;
	case MON_PKT_KILL:
		buf[1] = (char)m->signal;
		break;
	default:
		break;
	}
	if (m->len)
		memcpy(buf + 1 + l->fixed, m->data, m->len);
	*ret_len = n;
	return 0;
}

int mon_msg_decode(char *raw, size_t n, struct mon_msg *ret, struct skiff_err **err)
{
	struct mon_msg m = {0};
	const struct layout *l;

	if (n == 0)
		return err_makex(err, EINVAL, "empty packet");
	if (n > MON_PKT_MAX)
		return err_makex(err, EMSGSIZE, "packet of %zu bytes (at most %d)", n, MON_PKT_MAX);
	raw[n] = '\0';
	m.type = (uint8_t)raw[0];
	l = layout_of(m.type);
	if (!l) {
		m.data = raw + 1;
		m.len = n - 1;
		*ret = m;
		return 0;
	}
	if (n - 1 < l->fixed || (!l->data && n - 1 != l->fixed))
		return err_makex(err, EINVAL, "packet %s: %zu bytes of payload, expected %s%zu", l->name, n - 1,
				 l->data ? "at least " : "", l->fixed);
	switch (m.type) {
	case MON_PKT_VERSION:
		m.version = (uint8_t)raw[1];
		break;
	case MON_PKT_EXIT:
		m.code = (int32_t)get_u32(raw + 1);
		m.exit_signal = (int32_t)get_u32(raw + 5);
		break;
	case MON_PKT_REPLY:
		m.code = (int32_t)get_u32(raw + 1);
		break;
	case MON_PKT_ATTACH:
		m.flags = (uint8_t)raw[1];
		break;
	case MON_PKT_RESIZE:
		m.rows = get_u16(raw + 1);
		m.cols = get_u16(raw + 3);
		break;
	case MON_PKT_STOP:
		m.timeout = get_u32(raw + 1);
		m.signal = (uint8_t)raw[5];
		break;
	case MON_PKT_KILL:
		m.signal = (uint8_t)raw[1];
		break;
	default:
		break;
	}
	m.data = raw + 1 + l->fixed;
	m.len = n - 1 - l->fixed;
	*ret = m;
	return 0;
}

int mon_sockaddr_at(int dirfd, const char *name, struct sockaddr_un *ret, socklen_t *ret_len, struct skiff_err **err)
{
	struct sockaddr_un sa;
	int n;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd, name);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return err_makex(err, ENAMETOOLONG, "socket name %s is too long", name);
	*ret = sa;
	*ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
	return 0;
}
