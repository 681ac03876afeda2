/*
 * pkg/net: rtnetlink over plain NETLINK_ROUTE sockets (libc and the kernel's headers only), for
 * the bridge path: links, veth pairs, bridges, addresses, default routes. Every request asks
 * for an ACK; a refusal is reported as "WHAT: strerror" (plus the kernel's extended-ACK text
 * when it sends one), e.g. "create veth sk0123456789: File exists".
 *
 * A socket works in the network namespace it was created in: nl_open_netns() creates it in a
 * short-lived thread that joins the namespace, so the caller's own thread never moves.
 *
 * The message builder and the reply parser are pure functions over buffers, unit-tested with
 * hostile input (tests/unit/test_netlink.c).
 */
#ifndef SKIFF_NET_NETLINK_H
#define SKIFF_NET_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vendor-free/err.h"

struct nl_sock {
	int fd;
	uint32_t seq;
};
#define NL_SOCK_INIT                                                                                                   \
	{                                                                                                              \
		.fd = -1, .seq = 0                                                                                     \
	}

/* A socket in the caller's network namespace / in the namespace file netns. */
int nl_open(struct nl_sock *ret, struct skiff_err **err);
int nl_open_netns(const char *netns, struct nl_sock *ret, struct skiff_err **err);
/* Another netlink family (NETLINK_NETFILTER ...), in the caller's namespace. */
int nl_open_proto(int protocol, struct nl_sock *ret, struct skiff_err **err);
void nl_close(struct nl_sock *s);

struct nl_link {
	int index;
	unsigned flags; /* IFF_* */
	unsigned mtu;
	int master; /* 0 when none */
	char name[16];
	char kind[16]; /* IFLA_INFO_KIND: "bridge", "veth", "" */
};
/* By name (index 0) or index (name NULL); ENODEV naming it when there is no such link. */
int nl_link_get(struct nl_sock *s, const char *name, int index, struct nl_link *ret, struct skiff_err **err);
int nl_link_index(struct nl_sock *s, const char *name, int *ret_index, struct skiff_err **err);
/* A veth pair: name here, peer in the namespace peer_netns_fd (-1: here too); both ends with
 * MTU mtu (0: the kernel's 1500); the peer's MAC address peer_mac[6] (NULL: a random one). */
int nl_veth_create(struct nl_sock *s, const char *name, const char *peer, int peer_netns_fd, unsigned mtu,
		   const unsigned char *peer_mac, struct skiff_err **err);
/* A bridge named name unless a link of that name exists (EEXIST when it is not a bridge). */
int nl_bridge_ensure(struct nl_sock *s, const char *name, int *ret_index, struct skiff_err **err);
int nl_link_set_master(struct nl_sock *s, int index, int master, struct skiff_err **err);
int nl_link_set_up(struct nl_sock *s, int index, bool up, struct skiff_err **err);
int nl_link_set_mtu(struct nl_sock *s, int index, unsigned mtu, struct skiff_err **err);
/* IFLA_IFALIAS (what /sys/class/net/NAME/ifalias shows); EINVAL when it is too long. */
int nl_link_set_alias(struct nl_sock *s, int index, const char *alias, struct skiff_err **err);
/* ENODEV naming it when there is no such link. */
int nl_link_del(struct nl_sock *s, const char *name, struct skiff_err **err);

#define NL_ADDR_REPLACE 1u /* replace an existing equal address instead of EEXIST */
#define NL_ADDR_NODAD 2u   /* IPv6: no duplicate address detection */
/* cidr: "10.88.0.1/16" or "fd00::1/64"; EINVAL naming it when malformed. */
int nl_addr_add(struct nl_sock *s, int index, const char *cidr, unsigned flags, struct skiff_err **err);
/* A default route via gw ("10.88.0.1" or "fd00::1") out of index; mtu: its MTU metric (0:
 * none, the link's). */
int nl_route_add_default(struct nl_sock *s, int index, const char *gw, unsigned mtu, struct skiff_err **err);

struct nl_msg;
/* Send m and wait for its ACK; the payload of the reply of type want (0: none expected) is
 * copied to ret_buf (at most cap bytes; *ret_len its length). what...: the error's context. */
int nl_request(struct nl_sock *s, struct nl_msg *m, uint16_t want, void *ret_buf, size_t cap, size_t *ret_len,
	       struct skiff_err **err, const char *fmt, ...) __attribute__((format(printf, 8, 9)));

/* ---- the pure parts (exposed for the unit tests) ---- */

#define NL_MSG_MAX 1024
struct nl_msg {
	union {
		uint32_t align;
		unsigned char buf[NL_MSG_MAX];
	} u;
	size_t len;
	bool overflow; /* an attribute did not fit: the message must not be sent */
};
/* Start a request of type with flags (NLM_F_REQUEST|NLM_F_ACK added) and a family header. */
void nl_msg_init(struct nl_msg *m, uint16_t type, uint16_t flags, const void *hdr, size_t hdr_len);
void nl_msg_put(struct nl_msg *m, uint16_t type, const void *data, size_t len);
void nl_msg_put_str(struct nl_msg *m, uint16_t type, const char *s);
void nl_msg_put_u32(struct nl_msg *m, uint16_t type, uint32_t v);
/* Nested attributes: begin returns the offset to give to end. */
size_t nl_msg_nest_begin(struct nl_msg *m, uint16_t type);
void nl_msg_nest_end(struct nl_msg *m, size_t at);

/* What a reply buffer (one datagram) held for request seq. */
struct nl_reply {
	bool done;	/* the ACK (or error) for seq arrived */
	int error;	/* the kernel's errno, 0 for success */
	char msg[128];	/* the extended-ACK text, "" when none */
	bool have_link; /* an RTM_NEWLINK for seq arrived, parsed into link */
	struct nl_link link;
	uint16_t want;		     /* set by the caller: the type whose payload to keep */
	bool have;		     /* a message of type want arrived */
	unsigned char payload[1024]; /* its payload after the netlink header (cut at 1024) */
	size_t payload_len;
};
/* Walk the messages in buf, accumulating into r; messages for other sequence numbers are
 * skipped. EBADMSG naming the fault on a truncated or inconsistent buffer. */
int nl_reply_parse(const void *buf, size_t len, uint32_t seq, struct nl_reply *r, struct skiff_err **err);

/* The first attribute of type (flags masked) among the attributes in [p, p+len): 0 with
 * its data, -1 when absent or when the attributes are malformed before it. */
int nl_attr_find(const void *p, size_t len, uint16_t type, const void **ret_data, size_t *ret_len);

#endif
