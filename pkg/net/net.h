/*
 * pkg/net: user-mode networking for containers (pasta, slirp4netns) and published ports.
 *
 * Design (podman's, without a daemon): the engine creates the container's network
 * namespace itself and pins it with a bind mount on a file under the runroot
 * (runroot/networks/ID/netns). A helper (pasta or slirp4netns) is started attached to that
 * file, in the background, so it outlives the CLI; the OCI spec joins the same path. The
 * helper's pid and start time are recorded beside it (helper.pid), and net_teardown kills
 * it and unpins the namespace when the engine sees the container end (cleanup, stop, rm).
 * Rootless, all this happens inside the rootless user and mount namespaces the CLI has
 * joined: the pin persists in the pause process's mount namespace.
 *
 *   pasta:        pasta --config-net -t/-u PORTS -T none -U none --dns-forward 169.254.1.1
 *                       --netns PATH -P PIDFILE  (it daemonizes; a port in use makes it fail)
 *   slirp4netns:  slirp4netns --configure --mtu 65520 [--disable-host-loopback]
 *                       --api-socket SOCK --netns-type path PATH tap0, double-forked into its
 *                       own session. Published tcp ports go through skiff's port proxy (as
 *                       podman's default port_handler=rootlesskit): the engine listens on the
 *                       host ports itself (a port in use is its error) and hands the sockets
 *                       to `skiff __skiff-port-proxy`, which joins the namespace and splices
 *                       each connection to 10.0.2.100:PORT inside (the container sees that
 *                       source address). udp, and every port with port_handler=slirp4netns
 *                       (which keeps the client's address), go through slirp4netns's API
 *                       socket (add_hostfwd), which reports a port in use.
 */
#ifndef SKIFF_NET_NET_H
#define SKIFF_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"

/* One -p entry: host_ip:host_port-(host_port+range-1):ctr_port-(ctr_port+range-1)/proto. */
struct net_port {
	char host_ip[48];   /* "" for every address; IPv6 without brackets */
	uint16_t host_port; /* 0: pick a free one (net_ports_assign) */
	uint16_t ctr_port;
	uint16_t range; /* >= 1 */
	char proto[4];	/* "tcp" or "udp" */
};

/*
 * Parse -p/--publish: [ip:][hostPort:]containerPort[/proto], ports or ranges "a-b" (the host
 * and container ranges of the same length), ip as a.b.c.d or [v6], an empty hostPort (ip::80)
 * picks one. proto is tcp (default) or udp; sctp is ENOTSUP. EINVAL naming the spec otherwise.
 */
int net_parse_port(const char *spec, struct net_port *ret, struct skiff_err **err);
/* The canonical -p form of p, which net_parse_port reads back: "IP:HOST:CTR/proto" with IP
 * empty for every address or [v6], HOST empty when not picked yet, ranges as "a-b". */
void net_port_string(const struct net_port *p, struct strbuf *out);
/* "80/tcp" or "80" (an image's EXPOSE key) -> a port with no host side. */
int net_parse_expose(const char *spec, struct net_port *ret, struct skiff_err **err);
/* Give every port with host_port 0 free consecutive host ports (bound and released now). */
int net_ports_assign(struct net_port *v, size_t n, struct skiff_err **err);
/* Check that each host port can be bound now (EADDRINUSE naming it). */
int net_ports_check_free(const struct net_port *v, size_t n, struct skiff_err **err);
/* Bind (not listen) every host port of p's range, SO_REUSEADDR for tcp: fds[0..range-1];
 * EADDRINUSE naming the port. */
int net_ports_bind(const struct net_port *p, int *fds, struct skiff_err **err);
/* ps's PORTS column: "0.0.0.0:8080->80/tcp, 127.0.0.1:9000-9001->9000-9001/udp". */
void net_ports_format(const struct net_port *v, size_t n, struct strbuf *out);
/* One mapping per line as `port` prints it ("80/tcp -> 0.0.0.0:8080"); with filter ("80" or
 * "80/udp") only that container port, as "0.0.0.0:8080". Returns the number of lines. */
size_t net_ports_print(const struct net_port *v, size_t n, const char *filter, struct strbuf *out);

enum net_mode { NET_NONE_HELPER, NET_PASTA, NET_SLIRP4NETNS };

/* "pasta[:opts]" / "slirp4netns[:opts]" -> the helper; anything else NET_NONE_HELPER. */
enum net_mode net_mode_of(const char *network);
/* Validate the options of a pasta/slirp4netns mode (slirp4netns: allow_host_loopback=,
 * mtu=, enable_ipv6=, port_handler=rootlesskit|slirp4netns). */
int net_check_mode(const char *network, struct skiff_err **err);
/* The path of the executable name in $PATH or, failing that, /usr/local/sbin, /usr/sbin or
 * /sbin (malloc'd); NULL when there is none. */
char *net_find_tool(const char *name);
/* Whether pasta / slirp4netns can be found in $PATH. */
bool net_have_helper(enum net_mode m);

struct net_setup {
	const char *dir;     /* runroot/networks/ID: created; holds netns, helper.pid, api.sock */
	const char *network; /* "pasta[:a,b]" or "slirp4netns[:k=v,...]" */
	const struct net_port *ports;
	size_t n_ports;
	bool as_root;	 /* euid 0 (in whatever user namespace): pasta --runas 0:0 */
	bool keep_netns; /* attach to the namespace already pinned on dir/netns (a new helper) */
};
/* Create and pin the namespace, start the helper, publish the ports. On failure everything
 * made is undone. *ret_netns gets the namespace file (caller frees). */
int net_setup(const struct net_setup *s, char **ret_netns, struct skiff_err **err);
/* Kill the helper, unpin the namespace, remove dir. Fine when there is nothing to undo. */
int net_teardown(const char *dir, struct skiff_err **err);
/* The nameserver and host.containers.internal address inside for that mode (static strings;
 * host may be NULL: use the host's default gateway, which pasta maps to the host). */
const char *net_dns_server(enum net_mode m);
/* host.containers.internal for m into out[46]; false when there is none. */
bool net_host_address(enum net_mode m, const char *network, char out[46]);
/* Rewrite userdata's resolv.conf (dirfd) with nameserver first (others kept), and append
 * "ADDR host.containers.internal" to its hosts when host is not NULL. */
int net_write_etc(int dirfd, const char *nameserver, const char *host, struct skiff_err **err);

/* A new network namespace with lo up, pinned (bind-mounted) on path, made in a child so
 * the caller stays where it is; ping_range (may be NULL) is written to its
 * net.ipv4.ping_group_range. */
int net_make_netns(const char *path, const char *ping_range, struct skiff_err **err);

/* One request on slirp4netns's API socket sock (what names it in messages); its error
 * reply becomes ours; *ret_id gets the reply's "return.id" when asked for. */
int net_slirp_api(const char *sock, const char *what, const char *req, long *ret_id, struct skiff_err **err);

/* The port proxy, run as `skiff NET_PORTPROXY_ARGV1 NETNS TARGET CTRPORT...` with fd 3+i
 * listening for CTRPORT i on the host: it joins NETNS and splices every connection it
 * accepts to TARGET:CTRPORT, both ways, until both sides have closed. Runs until killed;
 * returns an exit status when it cannot start. */
#define NET_PORTPROXY_ARGV1 "__skiff-port-proxy"
int net_portproxy_main(int argc, char **argv);

#endif
