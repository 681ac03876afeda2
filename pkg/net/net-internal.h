/* pkg/net: helpers shared by net.c and portproxy.c (not part of the API). */
#ifndef SKIFF_NET_NET_INTERNAL_H
#define SKIFF_NET_NET_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

#include "pkg/net/net.h"
#include "vendor-free/err.h"

/* Where a container's network directory records the proxy's pid and start time. */
#define NET_PORTPROXY_PIDFILE "proxy.pid"

/* Record pid and its start time in dirfd's file name (what net_teardown kills). */
int net_write_pid_file(int dirfd, const char *name, pid_t pid, struct skiff_err **err);

/* Start argv in a session of its own through a middle process that exits at once (so the
 * helper outlives the CLI and is nobody's child here), with cwd, stdout and stderr on the
 * file log under dirfd, and fds[i] as its fd 3+i; *ret_pid gets its pid. */
int net_spawn_detached(const char *const *argv, const char *cwd, int dirfd, const char *log, const int *fds,
		       size_t nfds, pid_t *ret_pid, struct skiff_err **err);

/* Publish the tcp ports of ports[] through the port proxy: listen on each host port here
 * (EADDRINUSE naming it), start the proxy on those sockets, joined to the namespace file
 * netns and connecting to target (an IPv4 address inside), and record it in dir's
 * NET_PORTPROXY_PIDFILE (net_teardown kills it). Nothing to do without tcp ports. */
int net_portproxy_start(int dirfd, const char *dir, const char *netns, const char *target, const struct net_port *ports,
			size_t n, struct skiff_err **err);

#endif
