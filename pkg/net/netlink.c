/* pkg/net: rtnetlink requests over NETLINK_ROUTE (see netlink.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pkg/net/netlink.h"

/* ---- building ---- */

static void put_raw(struct nl_msg *m, const void *data, size_t len)
{
	size_t alen = NLMSG_ALIGN(len);
	if (m->overflow || alen > NL_MSG_MAX - m->len) {
		m->overflow = true;
		return;
	}
	memset(m->u.buf + m->len, 0, alen);
	if (len)
		memcpy(m->u.buf + m->len, data, len);
	m->len += alen;
	((struct nlmsghdr *)m->u.buf)->nlmsg_len = (uint32_t)m->len;
}

void nl_msg_init(struct nl_msg *m, uint16_t type, uint16_t flags, const void *hdr, size_t hdr_len)
{
	memset(m, 0, sizeof(*m));
	struct nlmsghdr *h = (struct nlmsghdr *)m->u.buf;
	h->nlmsg_type = type;
	h->nlmsg_flags = (uint16_t)(flags | NLM_F_REQUEST | NLM_F_ACK);
	m->len = NLMSG_HDRLEN;
	h->nlmsg_len = (uint32_t)m->len;
	put_raw(m, hdr, hdr_len);
}

void nl_msg_put(struct nl_msg *m, uint16_t type, const void *data, size_t len)
{
	if (len > 0xffff - RTA_LENGTH(0) || m->overflow || RTA_SPACE(len) > NL_MSG_MAX - m->len) {
		m->overflow = true;
		return;
	}
	struct rtattr *a = (struct rtattr *)(m->u.buf + m->len);
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memset(RTA_DATA(a), 0, RTA_ALIGN(len));
	if (len)
		memcpy(RTA_DATA(a), data, len);
	m->len += RTA_SPACE(len);
	((struct nlmsghdr *)m->u.buf)->nlmsg_len = (uint32_t)m->len;
}

void nl_msg_put_str(struct nl_msg *m, uint16_t type, const char *s)
{
	nl_msg_put(m, type, s, strlen(s) + 1);
}

void nl_msg_put_u32(struct nl_msg *m, uint16_t type, uint32_t v)
{
	nl_msg_put(m, type, &v, sizeof(v));
}

size_t nl_msg_nest_begin(struct nl_msg *m, uint16_t type)
{
	size_t at = m->len;
	nl_msg_put(m, type, NULL, 0);
	return at;
}

void nl_msg_nest_end(struct nl_msg *m, size_t at)
{
	if (m->overflow || at + RTA_LENGTH(0) > m->len)
		return;
	size_t len = m->len - at;
	if (len > 0xffff) {
		m->overflow = true;
		return;
	}
	((struct rtattr *)(m->u.buf + at))->rta_len = (unsigned short)len;
}

/* ---- parsing ---- */

static int bad(struct skiff_err **err, const char *what, size_t off)
{
	return err_makex(err, EBADMSG, "malformed netlink reply: %s at offset %zu", what, off);
}

static void copy_str(char *dst, size_t cap, const void *src, size_t len)
{
	const char *s = src;
	size_t n = 0;
	while (n < len && n + 1 < cap && s[n])
		n++;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* The attributes in [p, p+len): calls back with each; -1 with off set on a bad one. */
typedef int (*attr_fn)(uint16_t type, const unsigned char *data, size_t len, void *ctx);
static int walk_attrs(const unsigned char *p, size_t len, attr_fn fn, void *ctx, size_t *bad_off)
{
	size_t off = 0;
	while (len - off >= sizeof(struct rtattr)) {
		struct rtattr a;
		memcpy(&a, p + off, sizeof(a));
		if (a.rta_len < sizeof(struct rtattr) || a.rta_len > len - off) {
			*bad_off = off;
			return -1;
		}
		if (fn(a.rta_type & NLA_TYPE_MASK, p + off + RTA_LENGTH(0), a.rta_len - RTA_LENGTH(0), ctx) < 0) {
			*bad_off = off;
			return -1;
		}
		size_t step = RTA_ALIGN(a.rta_len);
		if (step > len - off)
			break;
		off += step;
	}
	return 0;
}

static int linkinfo_attr(uint16_t type, const unsigned char *d, size_t len, void *ctx)
{
	struct nl_link *l = ctx;
	if (type == IFLA_INFO_KIND)
		copy_str(l->kind, sizeof(l->kind), d, len);
	return 0;
}

static int link_attr(uint16_t type, const unsigned char *d, size_t len, void *ctx)
{
	struct nl_link *l = ctx;
	uint32_t v;
	size_t dummy;
	switch (type) {
	case IFLA_IFNAME:
		copy_str(l->name, sizeof(l->name), d, len);
		return 0;
	case IFLA_MTU:
	case IFLA_MASTER:
		if (len < sizeof(v))
			return -1;
		memcpy(&v, d, sizeof(v));
		if (type == IFLA_MTU)
			l->mtu = v;
		else
			l->master = (int)v;
		return 0;
	case IFLA_LINKINFO:
		return walk_attrs(d, len, linkinfo_attr, l, &dummy);
	default:
		return 0;
	}
}

static int ack_attr(uint16_t type, const unsigned char *d, size_t len, void *ctx)
{
	struct nl_reply *r = ctx;
	if (type == NLMSGERR_ATTR_MSG)
		copy_str(r->msg, sizeof(r->msg), d, len);
	return 0;
}

static int parse_error(const unsigned char *p, size_t plen, uint16_t flags, struct nl_reply *r, size_t off,
		       struct skiff_err **err)
{
	struct nlmsgerr e;
	if (plen < sizeof(e.error))
		return bad(err, "short error message", off);
	memcpy(&e.error, p, sizeof(e.error));
	if (e.error > 0 || e.error < -4095)
		return bad(err, "error code out of range", off);
	r->done = true;
	r->error = -e.error;
	r->msg[0] = '\0';
	if (!(flags & NLM_F_ACK_TLVS) || plen < sizeof(e))
		return 0;
	/* the extended ACK follows the echoed request (its header only when capped) */
	memcpy(&e.msg, p + offsetof(struct nlmsgerr, msg), sizeof(e.msg));
	size_t tlv = sizeof(e);
	if (!(flags & NLM_F_CAPPED)) {
		if (e.msg.nlmsg_len < NLMSG_HDRLEN)
			return 0;
		tlv += NLMSG_ALIGN(e.msg.nlmsg_len) - NLMSG_HDRLEN;
	}
	size_t dummy;
	if (tlv < plen && walk_attrs(p + tlv, plen - tlv, ack_attr, r, &dummy) < 0)
		r->msg[0] = '\0'; /* the text is a courtesy: the errno stands */
	return 0;
}

int nl_reply_parse(const void *buf, size_t len, uint32_t seq, struct nl_reply *r, struct skiff_err **err)
{
	const unsigned char *b = buf;
	size_t off = 0;
	while (off < len) {
		struct nlmsghdr h;
		if (len - off < sizeof(h))
			return bad(err, "truncated header", off);
		memcpy(&h, b + off, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len - off)
			return bad(err, "message length out of bounds", off);
		const unsigned char *p = b + off + NLMSG_HDRLEN;
		size_t plen = h.nlmsg_len - NLMSG_HDRLEN;
		if (h.nlmsg_seq == seq) {
			if (h.nlmsg_type == NLMSG_ERROR) {
				if (parse_error(p, plen, h.nlmsg_flags, r, off, err) < 0)
					return -1;
			} else if (h.nlmsg_type == NLMSG_DONE) {
				r->done = true;
			} else if (h.nlmsg_type == RTM_NEWLINK) {
				struct ifinfomsg ifi;
				if (plen < sizeof(ifi))
					return bad(err, "short link message", off);
				memcpy(&ifi, p, sizeof(ifi));
				struct nl_link l = {.index = ifi.ifi_index, .flags = ifi.ifi_flags};
				size_t aoff = 0;
				if (walk_attrs(p + NLMSG_ALIGN(sizeof(ifi)), plen - NLMSG_ALIGN(sizeof(ifi)), link_attr,
					       &l, &aoff) < 0)
					return bad(err, "bad link attribute",
						   off + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifi)) + aoff);
				r->link = l;
				r->have_link = true;
			}
			if (r->want && h.nlmsg_type == r->want && !r->have) {
				r->payload_len = plen < sizeof(r->payload) ? plen : sizeof(r->payload);
				memcpy(r->payload, p, r->payload_len);
				r->have = true;
			}
		}
		size_t step = NLMSG_ALIGN(h.nlmsg_len);
		if (step > len - off)
			break;
		off += step;
	}
	return 0;
}

struct find {
	uint16_t type;
	const void *data;
	size_t len;
	bool found;
};

static int find_attr(uint16_t type, const unsigned char *d, size_t len, void *ctx)
{
	struct find *f = ctx;
	if (!f->found && type == f->type) {
		f->data = d;
		f->len = len;
		f->found = true;
	}
	return 0;
}

int nl_attr_find(const void *p, size_t len, uint16_t type, const void **ret_data, size_t *ret_len)
{
	struct find f = {.type = type};
	size_t off;
	if (walk_attrs(p, len, find_attr, &f, &off) < 0 && !f.found)
		return -1;
	if (!f.found)
		return -1;
	*ret_data = f.data;
	*ret_len = f.len;
	return 0;
}

/* ---- sockets ---- */

static int sock_new_proto(int protocol, int *ret_fd)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
	if (fd < 0)
		return -1;
	int one = 1;
	/* best effort: the kernel's text in errors, and no echo of the request in them */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	*ret_fd = fd;
	return 0;
}

static int sock_new(int *ret_fd)
{
	return sock_new_proto(NETLINK_ROUTE, ret_fd);
}

int nl_open_proto(int protocol, struct nl_sock *ret, struct skiff_err **err)
{
	int fd;
	if (sock_new_proto(protocol, &fd) < 0)
		return err_make(err, errno, "open a netlink socket (protocol %d)", protocol);
	ret->fd = fd;
	ret->seq = 0;
	return 0;
}

int nl_open(struct nl_sock *ret, struct skiff_err **err)
{
	int fd;
	if (sock_new(&fd) < 0)
		return err_make(err, errno, "open a netlink socket");
	ret->fd = fd;
	ret->seq = 0;
	return 0;
}

struct open_in {
	const char *netns;
	int fd, error;
	const char *step;
};

static void *open_in_thread(void *p)
{
	struct open_in *a = p;
	int ns = open(a->netns, O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		a->error = errno;
		a->step = "open network namespace";
		return NULL;
	}
	/* only this thread moves; it ends here, the socket stays in the namespace */
	if (setns(ns, CLONE_NEWNET) < 0) {
		a->error = errno;
		a->step = "join network namespace";
	} else if (sock_new(&a->fd) < 0) {
		a->error = errno;
		a->step = "open a netlink socket in network namespace";
	}
	close(ns);
	return NULL;
}

int nl_open_netns(const char *netns, struct nl_sock *ret, struct skiff_err **err)
{
	struct open_in a = {.netns = netns, .fd = -1};
	pthread_t t;
	int rc = pthread_create(&t, NULL, open_in_thread, &a);
	if (rc != 0)
		return err_make(err, rc, "start a thread to join network namespace %s", netns);
	rc = pthread_join(t, NULL);
	if (rc != 0) /* cannot happen for a joinable thread we own */
		return err_make(err, rc, "join the network namespace thread");
	if (a.fd < 0)
		return err_make(err, a.error, "%s %s", a.step, netns);
	ret->fd = a.fd;
	ret->seq = 0;
	return 0;
}

void nl_close(struct nl_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static int do_request(struct nl_sock *s, struct nl_msg *m, struct nl_reply *r, const char *what, struct skiff_err **err)
{
	if (m->overflow)
		return err_makex(err, EMSGSIZE, "%s: netlink request too long", what);
	struct nlmsghdr *h = (struct nlmsghdr *)m->u.buf;
	h->nlmsg_seq = ++s->seq;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	ssize_t n;
	while ((n = sendto(s->fd, m->u.buf, m->len, 0, (struct sockaddr *)&kernel, sizeof(kernel))) < 0)
		if (errno != EINTR)
			return err_make(err, errno, "%s: send the netlink request", what);
	union {
		uint32_t align;
		unsigned char b[16384];
	} buf;
	while (!r->done) {
		struct sockaddr_nl from;
		socklen_t flen = sizeof(from);
		n = recvfrom(s->fd, buf.b, sizeof(buf.b), MSG_TRUNC, (struct sockaddr *)&from, &flen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_make(err, errno, "%s: read the netlink reply", what);
		}
		if (flen < sizeof(from) || from.nl_pid != 0)
			continue; /* not from the kernel */
		if ((size_t)n > sizeof(buf.b))
			return err_makex(err, EMSGSIZE, "%s: netlink reply of %zd bytes truncated", what, n);
		if (nl_reply_parse(buf.b, (size_t)n, h->nlmsg_seq, r, err) < 0)
			return err_wrap(err, "%s", what);
	}
	if (r->error) {
		if (r->msg[0])
			return err_makex(err, r->error, "%s: %s (%s)", what, strerror(r->error), r->msg);
		return err_make(err, r->error, "%s", what);
	}
	return 0;
}

int nl_request(struct nl_sock *s, struct nl_msg *m, uint16_t want, void *ret_buf, size_t cap, size_t *ret_len,
	       struct skiff_err **err, const char *fmt, ...)
{
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	struct nl_reply *r = calloc(1, sizeof(*r));
	if (!r)
		return err_make(err, ENOMEM, "%s", what);
	r->want = want;
	int rc = do_request(s, m, r, what, err);
	if (rc == 0 && want) {
		if (!r->have)
			rc = err_makex(err, EBADMSG, "%s: the kernel sent no reply of type %u", what, want);
		else {
			size_t n = r->payload_len < cap ? r->payload_len : cap;
			memcpy(ret_buf, r->payload, n);
			*ret_len = n;
		}
	}
	free(r);
	return rc;
}

/* Send m, wait for its ACK; the link reply (if any) into ret_link. what...: the error's context. */
static int transact(struct nl_sock *s, struct nl_msg *m, struct nl_link *ret_link, struct skiff_err **err,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int transact(struct nl_sock *s, struct nl_msg *m, struct nl_link *ret_link, struct skiff_err **err,
		    const char *fmt, ...)
{
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	struct nl_reply r = {0};
	if (do_request(s, m, &r, what, err) < 0)
		return -1;
	if (ret_link) {
		if (!r.have_link)
			return err_makex(err, EBADMSG, "%s: the kernel sent no link", what);
		*ret_link = r.link;
	}
	return 0;
}

/* ---- links ---- */

static void link_msg(struct nl_msg *m, uint16_t type, uint16_t flags, int index, unsigned ifflags, unsigned change)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = ifflags, .ifi_change = change};
	nl_msg_init(m, type, flags, &ifi, sizeof(ifi));
}

static bool name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	return n > 0 && n < IFNAMSIZ;
}

int nl_link_get(struct nl_sock *s, const char *name, int index, struct nl_link *ret, struct skiff_err **err)
{
	struct nl_msg m;
	if (name && !name_ok(name))
		return err_makex(err, EINVAL, "bad interface name \"%s\"", name);
	link_msg(&m, RTM_GETLINK, 0, name ? 0 : index, 0, 0);
	if (name)
		nl_msg_put_str(&m, IFLA_IFNAME, name);
	if (name)
		return transact(s, &m, ret, err, "link %s", name);
	return transact(s, &m, ret, err, "link #%d", index);
}

int nl_link_index(struct nl_sock *s, const char *name, int *ret_index, struct skiff_err **err)
{
	struct nl_link l;
	if (nl_link_get(s, name, 0, &l, err) < 0)
		return -1;
	*ret_index = l.index;
	return 0;
}

int nl_veth_create(struct nl_sock *s, const char *name, const char *peer, int peer_netns_fd, unsigned mtu,
		   const unsigned char *peer_mac, struct skiff_err **err)
{
	if (!name_ok(name) || !name_ok(peer))
		return err_makex(err, EINVAL, "create veth %s: bad interface name", name ? name : "(null)");
	struct nl_msg m;
	link_msg(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, 0, 0);
	nl_msg_put_str(&m, IFLA_IFNAME, name);
	if (mtu)
		nl_msg_put_u32(&m, IFLA_MTU, mtu);
	size_t info = nl_msg_nest_begin(&m, IFLA_LINKINFO);
	nl_msg_put_str(&m, IFLA_INFO_KIND, "veth");
	size_t data = nl_msg_nest_begin(&m, IFLA_INFO_DATA);
	size_t pa = nl_msg_nest_begin(&m, VETH_INFO_PEER);
	struct ifinfomsg pifi = {.ifi_family = AF_UNSPEC};
	put_raw(&m, &pifi, sizeof(pifi));
	nl_msg_put_str(&m, IFLA_IFNAME, peer);
	if (mtu)
		nl_msg_put_u32(&m, IFLA_MTU, mtu);
	if (peer_mac)
		nl_msg_put(&m, IFLA_ADDRESS, peer_mac, 6);
	if (peer_netns_fd >= 0)
		nl_msg_put_u32(&m, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	nl_msg_nest_end(&m, pa);
	nl_msg_nest_end(&m, data);
	nl_msg_nest_end(&m, info);
	return transact(s, &m, NULL, err, "create veth %s (peer %s)", name, peer);
}

int nl_bridge_ensure(struct nl_sock *s, const char *name, int *ret_index, struct skiff_err **err)
{
	struct nl_link l;
	struct skiff_err *e2 = NULL;
	for (int tries = 0; tries < 2; tries++) {
		if (nl_link_get(s, name, 0, &l, &e2) == 0) {
			if (strcmp(l.kind, "bridge"))
				return err_makex(err, EEXIST, "bridge %s: a link of that name exists and is a %s", name,
						 l.kind[0] ? l.kind : "device");
			*ret_index = l.index;
			return 0;
		}
		if (err_status(e2) != ENODEV) {
			*err = e2;
			return -1;
		}
		err_clear(&e2);
		struct nl_msg m;
		link_msg(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, 0, 0);
		nl_msg_put_str(&m, IFLA_IFNAME, name);
		size_t info = nl_msg_nest_begin(&m, IFLA_LINKINFO);
		nl_msg_put_str(&m, IFLA_INFO_KIND, "bridge");
		nl_msg_nest_end(&m, info);
		if (transact(s, &m, NULL, &e2, "create bridge %s", name) < 0 && err_status(e2) != EEXIST) {
			*err = e2;
			return -1;
		}
		err_clear(&e2); /* made beside us: look again */
	}
	return err_makex(err, ENODEV, "bridge %s: made, then gone", name);
}

int nl_link_set_master(struct nl_sock *s, int index, int master, struct skiff_err **err)
{
	struct nl_msg m;
	link_msg(&m, RTM_NEWLINK, 0, index, 0, 0);
	nl_msg_put_u32(&m, IFLA_MASTER, (uint32_t)master);
	return transact(s, &m, NULL, err, "set the master of link #%d to #%d", index, master);
}

int nl_link_set_up(struct nl_sock *s, int index, bool up, struct skiff_err **err)
{
	struct nl_msg m;
	link_msg(&m, RTM_NEWLINK, 0, index, up ? IFF_UP : 0, IFF_UP);
	return transact(s, &m, NULL, err, "set link #%d %s", index, up ? "up" : "down");
}

int nl_link_set_mtu(struct nl_sock *s, int index, unsigned mtu, struct skiff_err **err)
{
	struct nl_msg m;
	link_msg(&m, RTM_NEWLINK, 0, index, 0, 0);
	nl_msg_put_u32(&m, IFLA_MTU, mtu);
	return transact(s, &m, NULL, err, "set the mtu of link #%d to %u", index, mtu);
}

int nl_link_set_alias(struct nl_sock *s, int index, const char *alias, struct skiff_err **err)
{
	if (!alias || strlen(alias) >= 256) /* IFALIASZ */
		return err_makex(err, EINVAL, "set the alias of link #%d: longer than 255 bytes", index);
	struct nl_msg m;
	link_msg(&m, RTM_NEWLINK, 0, index, 0, 0);
	nl_msg_put_str(&m, IFLA_IFALIAS, alias);
	if (m.overflow)
		return err_makex(err, EMSGSIZE, "set the alias of link #%d: the message is too long", index);
	return transact(s, &m, NULL, err, "set the alias of link #%d", index);
}

int nl_link_del(struct nl_sock *s, const char *name, struct skiff_err **err)
{
	if (!name_ok(name))
		return err_makex(err, EINVAL, "delete link: bad interface name \"%s\"", name ? name : "(null)");
	struct nl_msg m;
	link_msg(&m, RTM_DELLINK, 0, 0, 0, 0);
	nl_msg_put_str(&m, IFLA_IFNAME, name);
	return transact(s, &m, NULL, err, "delete link %s", name);
}

/* ---- addresses and routes ---- */

static int parse_addr(const char *s, unsigned char out[16], int *ret_family)
{
	if (inet_pton(AF_INET, s, out) == 1) {
		*ret_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*ret_family = AF_INET6;
		return 0;
	}
	return -1;
}

int nl_addr_add(struct nl_sock *s, int index, const char *cidr, unsigned flags, struct skiff_err **err)
{
	char a[64];
	const char *slash = strchr(cidr, '/');
	unsigned char bin[16];
	int family = 0;
	char *end = NULL;
	unsigned long len = 0;
	if (slash && (size_t)(slash - cidr) < sizeof(a)) {
		memcpy(a, cidr, (size_t)(slash - cidr));
		a[slash - cidr] = '\0';
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
	}
	if (!slash || (size_t)(slash - cidr) >= sizeof(a) || !slash[1] || *end || errno ||
	    parse_addr(a, bin, &family) < 0 || len > (family == AF_INET ? 32u : 128u))
		return err_makex(err, EINVAL, "add address %s: not an address/prefix", cidr);
	struct ifaddrmsg ifa = {.ifa_family = (unsigned char)family,
				.ifa_prefixlen = (unsigned char)len,
				.ifa_flags = (family == AF_INET6 && (flags & NL_ADDR_NODAD)) ? IFA_F_NODAD : 0,
				.ifa_scope = RT_SCOPE_UNIVERSE,
				.ifa_index = (unsigned)index};
	struct nl_msg m;
	nl_msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | ((flags & NL_ADDR_REPLACE) ? NLM_F_REPLACE : NLM_F_EXCL), &ifa,
		    sizeof(ifa));
	size_t blen = family == AF_INET ? 4 : 16;
	nl_msg_put(&m, IFA_LOCAL, bin, blen);
	nl_msg_put(&m, IFA_ADDRESS, bin, blen);
	return transact(s, &m, NULL, err, "add address %s to link #%d", cidr, index);
}

int nl_route_add_default(struct nl_sock *s, int index, const char *gw, unsigned mtu, struct skiff_err **err)
{
	unsigned char bin[16];
	int family = 0;
	if (parse_addr(gw, bin, &family) < 0)
		return err_makex(err, EINVAL, "add default route: bad gateway \"%s\"", gw);
	struct rtmsg rt = {.rtm_family = (unsigned char)family,
			   .rtm_table = RT_TABLE_MAIN,
			   .rtm_protocol = RTPROT_BOOT,
			   .rtm_scope = RT_SCOPE_UNIVERSE,
			   .rtm_type = RTN_UNICAST};
	struct nl_msg m;
	nl_msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof(rt));
	nl_msg_put(&m, RTA_GATEWAY, bin, family == AF_INET ? 4 : 16);
	nl_msg_put_u32(&m, RTA_OIF, (uint32_t)index);
	if (mtu) {
		size_t mx = nl_msg_nest_begin(&m, RTA_METRICS);
		nl_msg_put_u32(&m, RTAX_MTU, mtu);
		nl_msg_nest_end(&m, mx);
	}
	return transact(s, &m, NULL, err, "add default route via %s on link #%d", gw, index);
}
