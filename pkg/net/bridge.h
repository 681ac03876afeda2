/*
 * pkg/net bridge networks (rootful), as podman with netavark does them, without a daemon.
 *
 * Configs: one JSON file per network in graphroot/networks/NAME.json, in netavark's format
 * (what `network inspect` prints). The default network is named "podman" (so scripts that
 * say --network podman work); its bridge is "skiff0", not podman's "podman0", so that a podman
 * on the same host keeps its own. It is written on first use with 10.88.0.0/16, or the first
 * free 10.89.N.0/24 when the host already routes 10.88.0.0/16 (a podman beside us).
 *
 * Per container (runroot/networks/ID): the pinned namespace (netns) and bridge.json, the
 * container's attachments (network, bridge, interface, address, gateway), its names and ports.
 * Addresses are files runroot/ipam/NETWORK/ADDR holding the container id, made with O_EXCL.
 * The host veth is "sk" + 10 hex of the id + the attachment index, so leftovers of a crash are
 * found by name; the veth dies with the namespace anyway.
 *
 * Firewall: one nftables table per store, "inet skiff" (the default store), regenerated whole
 * from every bridge.json and applied atomically (`nft -f`) on each change and by `network
 * reload`: masquerade per non-internal subnet (ip and ip6), port DNAT to the container's IPv4
 * and IPv6 addresses (prerouting and output, with 127.0.0.1 through route_localnet, ::1 by
 * a masquerade of loopback sources), and a forward filter that keeps internal networks in.
 *
 * Two stores on one host (--root A, --root B) do not share a bridge or a table: any store but
 * the default /var/lib/skiff names them after 6 hex digits of sha256(graphroot), TAG: bridges
 * skTAG-0 (its "podman"), skTAG-1..., table "inet skiff_TAG". Bridges and tables stay while
 * their store does (a container's start changes no rule it does not need); such a bridge's
 * alias names its runroot, and the next bridge setup or `network reload` on the host removes
 * the bridges and table of a store whose runroot is gone (a deleted test store).
 *
 * MTU: a network made with -o mtu=N has that MTU on the bridge and every veth, as podman's.
 * Without it, the veths (and so the bridge, whose MTU is the least of its ports') get
 * NET_LINK_MTU, 65520 as pasta's and slirp4netns's taps, while each container's default routes
 * carry the MTU of the link the host's own default route leaves by (1500 when there is none):
 * what leaves the host is sized as before, but traffic between the host and its containers
 * (published ports, 127.0.0.1 included) and between containers moves in 64 KiB frames, not
 * 1500-byte ones (2.3x the TCP throughput here). A veth that joins a bridge whose other ports
 * have a smaller MTU (containers started before) takes theirs, so one segment has one MTU.
 *
 * IPv6 (--ipv6, or an IPv6 --subnet): a dual-stack network (an IPv6 --subnet alone: IPv6
 * only, as podman) with a random fdXX:XXXX:XXXX:XXXX::/64 when none is given; containers get
 * an address of each family (--ip6 for a fixed one), the bridge the gateways, the namespace
 * a default route per family.
 *
 * Names: each attached container's /etc/hosts (a file the engine owns, bind-mounted) is its
 * base content plus "ADDR NAME ALIAS..." for every container sharing a network, rewritten in
 * place (same inode) whenever a container on the network starts or stops. No DNS server to
 * run or kill, and the files are current at the moment the change happens.
 */
#ifndef SKIFF_NET_BRIDGE_H
#define SKIFF_NET_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "pkg/json/json.h"
#include "pkg/net/net.h"
#include "vendor-free/err.h"
#include "vendor-free/strv.h"

#define NET_DEFAULT_NAME "podman"
#define NET_BRIDGE_MODE "bridge" /* ctr_config.network of a container on bridge networks */
#define NET_LINK_MTU 65520	 /* the veths of a network without -o mtu */
#define NET_DEFAULT_ID "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9"

struct net_network {
	char *name, *id, *driver, *iface, *created;
	char subnet[50], gateway[46], range[50]; /* IPv4 ("" on an IPv6-only network); range "" for the whole subnet */
	char subnet6[50], gateway6[46];		 /* IPv6 (ipv6 true), "" otherwise */
	bool internal, ipv6;
	unsigned mtu;	    /* options.mtu (-o mtu=N); 0: the default, see NET_LINK_MTU */
	struct strv labels; /* "k=v" */
};
void net_network_release(struct net_network *n);

struct net_create_opts {
	const char *driver;		      /* NULL or "bridge" */
	const char *subnet, *gateway, *range; /* IPv4 */
	const char *subnet6, *gateway6;	      /* IPv6; alone (no subnet): an IPv6-only network */
	bool internal, ipv6;		      /* ipv6 without subnet6: a random unique local /64 */
	const struct strv *labels;	      /* "k=v" */
	const struct strv *options;	      /* -o "k=v": mtu (or com.docker.network.driver.mtu) */
};
/* A name [a-zA-Z0-9][a-zA-Z0-9_.-]*: EEXIST when taken; the subnet is picked when NULL. */
int net_network_create(const char *graphroot, const char *name, const struct net_create_opts *o,
		       struct net_network *ret, struct skiff_err **err);
/* By name, full id or id prefix; "podman" is made on first use. ENOENT naming it. */
int net_network_get(const char *graphroot, const char *name_or_id, struct net_network *ret, struct skiff_err **err);
/* Every network, the default first (made if missing), the others by name. */
int net_network_list(const char *graphroot, struct net_network **ret, size_t *ret_n, struct skiff_err **err);
void net_network_list_free(struct net_network *v, size_t n);
/* Remove the config and the bridge (the caller checked that no container uses it);
 * the default network is EPERM. */
int net_network_remove(const char *graphroot, const char *name, struct skiff_err **err);
/* netavark's JSON for inspect. */
struct json *net_network_json(const struct net_network *n);

struct net_bridge_setup {
	const char *runroot, *graphroot;
	const char *id, *name;	     /* the container */
	const struct strv *networks; /* names, in order: eth0, eth1... */
	const struct strv *aliases;  /* --network-alias */
	const char *static_ip;	     /* --ip, on the first network; NULL to pick */
	const char *static_ip6;	     /* --ip6, likewise (the first network must have IPv6) */
	const struct net_port *ports;
	size_t n_ports;
	const char *hosts; /* the container's hosts file (kept as the base of the names) */
};
/* Create and pin the namespace, attach it to each network, apply the firewall and names.
 * Undone on failure; *ret_netns gets the namespace file. */
int net_bridge_setup(const struct net_bridge_setup *s, char **ret_netns, struct skiff_err **err);
/* Attach one more network to a set-up container (connect) / detach one (disconnect). */
int net_bridge_connect(const char *runroot, const char *graphroot, const char *id, const char *network,
		       const struct strv *aliases, struct skiff_err **err);
int net_bridge_disconnect(const char *runroot, const char *id, const char *network, struct skiff_err **err);
/* Release addresses, unpin the namespace, refresh firewall and names. Fine when nothing is set up. */
int net_bridge_teardown(const char *runroot, const char *id, struct skiff_err **err);
/* Regenerate the nftables table and every attached container's hosts file (network reload). */
int net_bridge_sync(const char *runroot, struct skiff_err **err);
/* inspect's NetworkSettings.Networks of a set-up container: {"NAME": {"IPAddress": ...}};
 * NULL when it is not set up. */
struct json *net_bridge_status(const char *runroot, const char *id);

#endif
