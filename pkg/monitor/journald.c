/* The journald log driver: systemd's native journal protocol (see journald.h). */
#include "pkg/monitor/journald.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

#define SHORT_ID_LEN 12

void mon_journal_field(struct strbuf *out, const char *key, const char *value, size_t len)
{
	strbuf_addstr(out, key);
	if (!memchr(value, '\n', len)) {
		strbuf_addch(out, '=');
		strbuf_add(out, value, len);
		strbuf_addch(out, '\n');
		return;
	}
	unsigned char le[8];
	uint64_t n = len;
	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(n >> (8 * i));
	strbuf_addch(out, '\n');
	strbuf_add(out, le, sizeof(le));
	strbuf_add(out, value, len);
	strbuf_addch(out, '\n');
}

static void field_str(struct strbuf *out, const char *key, const char *value)
{
	mon_journal_field(out, key, value, strlen(value));
}

int mon_journal_ids_encode(struct strbuf *out, const struct mon_journal_ids *ids, struct skiff_err **err)
{
	if (!ids || !ids->id || strlen(ids->id) <= SHORT_ID_LEN)
		return err_makex(err, EINVAL, "log driver journald: container id \"%s\" is too short",
				 ids && ids->id ? ids->id : "");
	const char *ident = ids->tag && *ids->tag ? ids->tag : ids->name && *ids->name ? ids->name : NULL;

	field_str(out, "CONTAINER_ID_FULL", ids->id);
	mon_journal_field(out, "CONTAINER_ID", ids->id, SHORT_ID_LEN);
	if (ids->name && *ids->name)
		field_str(out, "CONTAINER_NAME", ids->name);
	if (ids->tag && *ids->tag)
		field_str(out, "CONTAINER_TAG", ids->tag);
	if (ident)
		field_str(out, "SYSLOG_IDENTIFIER", ident);
	else
		mon_journal_field(out, "SYSLOG_IDENTIFIER", ids->id, SHORT_ID_LEN);
	return 0;
}

void mon_journal_entry(struct strbuf *out, const struct strbuf *ids, enum mon_stream stream, bool partial,
		       const char *msg, size_t len)
{
	mon_journal_field(out, "MESSAGE", msg, len);
	strbuf_add(out, ids->buf, ids->len);
	strbuf_addstr(out, stream == MON_STREAM_STDERR ? "PRIORITY=3\n" : "PRIORITY=6\n");
	if (partial)
		strbuf_addstr(out, "CONTAINER_PARTIAL_MESSAGE=true\n");
}

static int journal_connect(struct mon_journal *j, struct skiff_err **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(j->socket);

	if (n >= sizeof(sa.sun_path))
		return err_makex(err, ENAMETOOLONG, "journal socket %s: name too long", j->socket);
	memcpy(sa.sun_path, j->socket, n + 1);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_make(err, errno, "journal socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		if (e == ENOENT || e == ECONNREFUSED)
			return err_makex(err, e, "journald is not running: %s is %s", j->socket,
					 e == ENOENT ? "missing" : "not answering");
		return err_make(err, e, "connect to journald at %s", j->socket);
	}
	/* entries up to 8 MiB go as datagrams where the kernel allows it */
	int sz = 8 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (j->fd >= 0)
		close(j->fd);
	j->fd = fd;
	return 0;
}

int mon_journal_open(struct mon_journal *j, const char *socket, const struct mon_journal_ids *ids,
		     struct skiff_err **err)
{
	struct mon_journal n = {.fd = -1, .socket = xstrdup(socket ? socket : MON_JOURNAL_SOCKET), .ids = STRBUF_INIT};

	if (mon_journal_ids_encode(&n.ids, ids, err) < 0 || journal_connect(&n, err) < 0) {
		mon_journal_close(&n);
		return -1;
	}
	*j = n;
	return 0;
}

/* The entry in a sealed memfd, its fd the only thing sent (the protocol's way for big ones). */
static int send_memfd(struct mon_journal *j, const char *entry, size_t len, struct skiff_err **err)
{
	cleanup_close int mfd = memfd_create("journal-entry", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return err_make(err, errno, "journal: memfd_create");
	if (write_all(mfd, entry, len) < 0)
		return err_make(err, errno, "journal: write memfd");
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return err_make(err, errno, "journal: seal memfd");

	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct msghdr mh = {.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &mfd, sizeof(int));
	while (sendmsg(j->fd, &mh, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			return err_make(err, errno, "journal: send a %zu-byte entry to %s", len, j->socket);
	}
	return 0;
}

int mon_journal_send(struct mon_journal *j, const char *entry, size_t len, struct skiff_err **err)
{
	bool retried = false;

	for (;;) {
		ssize_t n = j->fd >= 0 ? send(j->fd, entry, len, MSG_NOSIGNAL) : -1;
		if (n >= 0)
			return 0;
		int e = j->fd >= 0 ? errno : ENOTCONN;
		if (e == EINTR)
			continue;
		if (e == EMSGSIZE || e == ENOBUFS)
			return send_memfd(j, entry, len, err);
		if ((e == ECONNREFUSED || e == ENOTCONN || e == ENOENT) && !retried) {
			/* journald restarted: its socket is a new one */
			retried = true;
			if (journal_connect(j, err) < 0)
				return -1;
			continue;
		}
		return err_make(err, e, "journal: send to %s", j->socket);
	}
}

int mon_journal_write(struct mon_journal *j, enum mon_stream stream, const char *data, size_t len,
		      struct skiff_err **err)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	struct skiff_err *first = NULL;
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
		struct skiff_err *e = NULL;

		strbuf_reset(&sb);
		mon_journal_entry(&sb, &j->ids, stream, !nl, data + pos, n);
		if (mon_journal_send(j, sb.buf, sb.len, &e) < 0) {
			if (!first)
				first = e;
			else
				err_free(e);
		}
		pos += n + (nl ? 1 : 0);
	}
	if (first) {
		if (err)
			*err = first;
		else
			err_free(first);
		return -1;
	}
	return 0;
}

void mon_journal_close(struct mon_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	free(j->socket);
	j->socket = NULL;
	strbuf_release(&j->ids);
}
