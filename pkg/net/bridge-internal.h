/* pkg/net: helpers shared by the bridge files (not part of the API). */
#ifndef SKIFF_NET_BRIDGE_INTERNAL_H
#define SKIFF_NET_BRIDGE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "vendor-free/err.h"

struct in6_addr; /* <netinet/in.h>, which nft.c's linux headers cannot be mixed with */

/* "a.b.c.d/len" (len <= 30) -> the network (host order) and the length; -1 when invalid. */
int net_cidr4(const char *s, uint32_t *ret_net, unsigned *ret_len);
int net_parse4(const char *s, uint32_t *ret);
void net_addr4(uint32_t a, char out[16]);
/* A link MTU: decimal digits, 68..65535; -1 otherwise. */
int net_parse_mtu(const char *s, unsigned *ret);
/* The uplink MTU in /proc/.../net/route or ipv6_route text (what the calling thread's
 * namespace shows): the device of the default route with the lowest metric, whose MTU
 * mtu_of(name, ctx) says (0: unknown); 0 when there is no default route. */
unsigned net_default_route_mtu(const char *text, bool ipv6, unsigned (*mtu_of)(const char *name, void *ctx), void *ctx);
bool net_in_subnet(uint32_t a, uint32_t net, unsigned len);
/* "addr/len" IPv6 (len 8..124) -> the network (host bits cleared) and the length; -1 when invalid. */
int net_cidr6(const char *s, struct in6_addr *ret_net, unsigned *ret_len);
int net_parse6(const char *s, struct in6_addr *ret);
void net_addr6(const struct in6_addr *a, char out[46]);
bool net_in_subnet6(const struct in6_addr *a, const struct in6_addr *net, unsigned len);
/* net + off (a host number: off < 2^(128-len) is the caller's to check). */
void net_add6(const struct in6_addr *net, uint32_t off, struct in6_addr *ret);
/*
 * A store's own names, so that two stores on one host (--root A, --root B) leave each other's
 * bridges and firewall alone: tag "" for the default graphroot /var/lib/skiff (bridges skiff0,
 * skiff1..., table inet skiff), else the first 6 hex digits of sha256(graphroot) (bridges
 * skTAG-0, skTAG-1..., table inet skiff_TAG).
 */
void net_store_tag(const char *graphroot, char out[7]);
/* The nftables table of a tag: "skiff" or "skiff_TAG" (out[16]). */
void net_store_table(const char *tag, char out[16]);
/* Run `ip ARGS... NULL`, inside the namespace file netns when not NULL (the calling thread
 * joins it for the spawn and returns). The error quotes ip's message. */
int net_ip(const char *netns, struct skiff_err **err, ...) __attribute__((sentinel));
/* Lock runroot/networks/NAME (made when missing) for writing: an fd to close to unlock. */
int net_lock_runroot(const char *runroot, const char *name, int *ret_fd, struct skiff_err **err);
/* Apply an nftables script (`nft -f`), atomically. */
int net_nft_apply(const char *script, struct skiff_err **err);
/* The handle of nftables table "inet NAME" (over nfnetlink); ENOENT when there is none. */
int net_nft_table_handle(const char *table, uint64_t *ret, struct skiff_err **err);
/* Apply script, which rebuilds table inet TABLE whole, unless the file stamp (under dirfd)
 * says the table was made from this script and the table still has that handle (it is made
 * anew, with a new handle, by every apply: a flushed ruleset is noticed); force: apply anyway. */
int net_nft_sync(const char *table, const char *script, int dirfd, const char *stamp, bool force,
		 struct skiff_err **err);

/* Rootless user networks (rootless-netns.c): whether the caller is in a user namespace; whether
 * bridge work must be routed into runroot's rootless network namespace (false on the thread
 * that already runs inside it); the routed calls, which run the net_bridge_* of the same
 * name there and keep the namespace and its slirp4netns alive while a container is attached. */
bool net_in_userns(void);
bool net_rootless_mode(const char *runroot);
struct net_bridge_setup;
struct strv;
int net_rootless_bridge_setup(const struct net_bridge_setup *s, char **ret_netns, struct skiff_err **err);
int net_rootless_bridge_teardown(const char *runroot, const char *id, struct skiff_err **err);
int net_rootless_bridge_connect(const char *runroot, const char *graphroot, const char *id, const char *network,
				const struct strv *aliases, bool disconnect, struct skiff_err **err);
int net_rootless_bridge_sync(const char *runroot, struct skiff_err **err);

#endif
