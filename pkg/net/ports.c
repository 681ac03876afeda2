/* pkg/net ports: -p/--publish specs, free host ports, and how ps/port/inspect show them. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pkg/net/net.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

/* "80" or "80-90" within [lo, 65535] -> first, count; false on anything else */
static bool port_range(const char *s, size_t len, unsigned lo, uint16_t *ret_first, uint16_t *ret_count)
{
	unsigned a = 0, b = 0;
	size_t i = 0, digits = 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9' && digits < 6; i++, digits++)
		a = a * 10 + (unsigned)(s[i] - '0');
	if (!digits)
		return false;
	b = a;
	if (i < len && s[i] == '-') {
		i++;
		b = 0;
		digits = 0;
		for (; i < len && s[i] >= '0' && s[i] <= '9' && digits < 6; i++, digits++)
			b = b * 10 + (unsigned)(s[i] - '0');
		if (!digits)
			return false;
	}
	if (i != len || a < lo || a > 65535 || b < a || b > 65535)
		return false;
	*ret_first = (uint16_t)a;
	*ret_count = (uint16_t)(b - a + 1);
	return true;
}

static int parse_proto(const char *spec, const char *p, char out[4], struct skiff_err **err)
{
	if (!p || !strcmp(p, "tcp")) {
		snprintf(out, 4, "tcp");
		return 0;
	}
	if (!strcmp(p, "udp")) {
		snprintf(out, 4, "udp");
		return 0;
	}
	if (!strcmp(p, "sctp"))
		return err_makex(err, ENOTSUP, "publish \"%s\": sctp is not supported by skiff's networks", spec);
	return err_makex(err, EINVAL, "invalid port format \"%s\": unknown protocol \"%s\" (tcp, udp)", spec, p);
}

int net_parse_port(const char *spec, struct net_port *ret, struct skiff_err **err)
{
	struct net_port p = {.range = 1};
	cleanup_free char *s = xstrdup(spec);
	char *proto = strrchr(s, '/');
	if (proto)
		*proto++ = '\0';
	if (parse_proto(spec, proto, p.proto, err) < 0)
		return -1;
	char *rest = s;
	/* [v6]:... */
	if (rest[0] == '[') {
		char *close = strchr(rest, ']');
		if (!close || close[1] != ':')
			return err_makex(err, EINVAL, "invalid port format \"%s\": bad IPv6 address", spec);
		*close = '\0';
		struct in6_addr a6;
		if (inet_pton(AF_INET6, rest + 1, &a6) != 1)
			return err_makex(err, EINVAL, "invalid port format \"%s\": bad IP address \"%s\"", spec,
					 rest + 1);
		snprintf(p.host_ip, sizeof(p.host_ip), "%s", rest + 1);
		rest = close + 2;
		char *c = strrchr(rest, ':');
		if (!c)
			return err_makex(err, EINVAL, "invalid port format \"%s\": an address needs a host port field",
					 spec);
	}
	char *parts[3] = {0};
	int np = 0;
	for (char *t = rest;; np++) {
		if (np == 3)
			return err_makex(err, EINVAL, "invalid port format \"%s\": too many colons", spec);
		parts[np] = t;
		char *c = strchr(t, ':');
		if (!c) {
			np++;
			break;
		}
		*c = '\0';
		t = c + 1;
	}
	const char *ip = NULL, *host = NULL, *ctr = parts[np - 1];
	if (np == 3) {
		ip = parts[0];
		host = parts[1];
	} else if (np == 2) {
		host = parts[0]; /* also [v6]:host:ctr, split after the address */
	}
	if (p.host_ip[0] && np == 3)
		return err_makex(err, EINVAL, "invalid port format \"%s\": too many colons", spec);
	if (ip && *ip) {
		struct in_addr a4;
		if (inet_pton(AF_INET, ip, &a4) != 1)
			return err_makex(err, EINVAL, "invalid port format \"%s\": bad IP address \"%s\"", spec, ip);
		snprintf(p.host_ip, sizeof(p.host_ip), "%s", ip);
	}
	uint16_t n = 0;
	if (!port_range(ctr, strlen(ctr), 1, &p.ctr_port, &p.range))
		return err_makex(err, EINVAL, "invalid port format \"%s\": bad container port \"%s\"", spec, ctr);
	if (host && *host) {
		if (!port_range(host, strlen(host), 1, &p.host_port, &n))
			return err_makex(err, EINVAL, "invalid port format \"%s\": bad host port \"%s\"", spec, host);
		if (n != p.range)
			return err_makex(err, EINVAL,
					 "invalid port format \"%s\": host and container port ranges differ in length",
					 spec);
	}
	*ret = p;
	return 0;
}

int net_parse_expose(const char *spec, struct net_port *ret, struct skiff_err **err)
{
	struct net_port p = {.range = 1};
	cleanup_free char *s = xstrdup(spec);
	char *proto = strchr(s, '/');
	if (proto)
		*proto++ = '\0';
	if (parse_proto(spec, proto, p.proto, err) < 0)
		return -1;
	if (!port_range(s, strlen(s), 1, &p.ctr_port, &p.range))
		return err_makex(err, EINVAL, "invalid exposed port \"%s\"", spec);
	*ret = p;
	return 0;
}

static int sock_for(const struct net_port *p, uint16_t port, int *ret_fd, uint16_t *ret_port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int af = AF_INET;
	if (p->host_ip[0] && strchr(p->host_ip, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		af = a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		if (inet_pton(AF_INET6, p->host_ip, &a->sin6_addr) != 1)
			return -EINVAL;
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		if (p->host_ip[0] && inet_pton(AF_INET, p->host_ip, &a->sin_addr) != 1)
			return -EINVAL;
		len = sizeof(*a);
	}
	int fd = socket(af, (strcmp(p->proto, "udp") ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* as the helpers do: a TIME_WAIT left by an earlier run is no conflict, a listener is */
	int one = 1;
	if (strcmp(p->proto, "udp") && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (ret_port) {
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		*ret_port = ntohs(af == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						: ((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	*ret_fd = fd;
	return 0;
}

static const char *shown_ip(const struct net_port *p)
{
	return p->host_ip[0] ? p->host_ip : "0.0.0.0";
}

/* Bind every port of p's host range (kept bound in fds until the caller closes them). */
static int bind_range(const struct net_port *p, uint16_t first, int *fds)
{
	for (unsigned i = 0; i < p->range; i++) {
		int r = sock_for(p, (uint16_t)(first + i), &fds[i], NULL);
		if (r < 0) {
			for (unsigned j = 0; j < i; j++)
				close(fds[j]);
			return r;
		}
	}
	return 0;
}

int net_ports_bind(const struct net_port *p, int *fds, struct skiff_err **err)
{
	int r = bind_range(p, p->host_port, fds);
	if (r < 0)
		return err_make(err, -r, "publish %s:%u%s/%s", shown_ip(p), p->host_port, p->range > 1 ? "(range)" : "",
				p->proto);
	return 0;
}

int net_ports_assign(struct net_port *v, size_t n, struct skiff_err **err)
{
	for (size_t i = 0; i < n; i++) {
		struct net_port *p = &v[i];
		if (p->host_port)
			continue;
		int *fds = xcalloc(p->range, sizeof(int));
		int r = -EADDRINUSE;
		for (int attempt = 0; attempt < 100 && r < 0; attempt++) {
			int fd;
			uint16_t first = 0;
			r = sock_for(p, 0, &fd, &first);
			if (r < 0)
				break;
			close(fd);
			if ((unsigned)first + p->range - 1 > 65535) {
				r = -EADDRINUSE;
				continue;
			}
			r = bind_range(p, first, fds);
			if (r == 0) {
				for (unsigned j = 0; j < p->range; j++)
					close(fds[j]);
				p->host_port = first;
			}
		}
		free(fds);
		if (r < 0)
			return err_make(err, -r, "pick a free host port for %s/%u/%s", shown_ip(p), p->ctr_port,
					p->proto);
	}
	return 0;
}

int net_ports_check_free(const struct net_port *v, size_t n, struct skiff_err **err)
{
	for (size_t i = 0; i < n; i++) {
		int *fds = xcalloc(v[i].range, sizeof(int));
		int r = bind_range(&v[i], v[i].host_port, fds);
		if (r == 0)
			for (unsigned j = 0; j < v[i].range; j++)
				close(fds[j]);
		free(fds);
		if (r < 0)
			return err_make(err, -r, "publish %s:%u%s/%s", shown_ip(&v[i]), v[i].host_port,
					v[i].range > 1 ? "(range)" : "", v[i].proto);
	}
	return 0;
}

static void add_range(struct strbuf *out, unsigned first, unsigned count)
{
	if (count > 1)
		strbuf_addf(out, "%u-%u", first, first + count - 1);
	else
		strbuf_addf(out, "%u", first);
}

static void add_ip_raw(struct strbuf *out, const struct net_port *p)
{
	if (strchr(p->host_ip, ':'))
		strbuf_addf(out, "[%s]", p->host_ip);
	else
		strbuf_addstr(out, p->host_ip);
}

void net_port_string(const struct net_port *p, struct strbuf *out)
{
	add_ip_raw(out, p);
	strbuf_addch(out, ':');
	if (p->host_port)
		add_range(out, p->host_port, p->range);
	strbuf_addch(out, ':');
	add_range(out, p->ctr_port, p->range);
	strbuf_addf(out, "/%s", p->proto);
}

static void add_ip(struct strbuf *out, const struct net_port *p)
{
	if (strchr(shown_ip(p), ':'))
		strbuf_addf(out, "[%s]", p->host_ip);
	else
		strbuf_addstr(out, shown_ip(p));
}

void net_ports_format(const struct net_port *v, size_t n, struct strbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			strbuf_addstr(out, ", ");
		add_ip(out, &v[i]);
		strbuf_addch(out, ':');
		add_range(out, v[i].host_port, v[i].range);
		strbuf_addstr(out, "->");
		add_range(out, v[i].ctr_port, v[i].range);
		strbuf_addf(out, "/%s", v[i].proto);
	}
}

size_t net_ports_print(const struct net_port *v, size_t n, const char *filter, struct strbuf *out)
{
	unsigned want = 0;
	char proto[8] = "tcp";
	if (filter) {
		char *end;
		unsigned long w = strtoul(filter, &end, 10);
		if (end == filter || w > 65535 || (*end && *end != '/'))
			return 0;
		want = (unsigned)w;
		if (*end == '/')
			snprintf(proto, sizeof(proto), "%s", end + 1);
	}
	size_t lines = 0;
	for (size_t i = 0; i < n; i++) {
		for (unsigned k = 0; k < v[i].range; k++) {
			unsigned cp = v[i].ctr_port + k, hp = v[i].host_port + k;
			if (filter && (cp != want || strcmp(proto, v[i].proto)))
				continue;
			if (!filter)
				strbuf_addf(out, "%u/%s -> ", cp, v[i].proto);
			add_ip(out, &v[i]);
			strbuf_addf(out, ":%u\n", hp);
			lines++;
		}
	}
	return lines;
}
