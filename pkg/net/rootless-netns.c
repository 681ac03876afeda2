/*
 * pkg/net: rootless user networks, as podman 4's "rootless netns".
 *
 * Rootless, skiff may not touch the host's network namespace. So bridge networks live in one
 * network namespace per runroot, made inside the rootless user namespace (whose root has
 * CAP_NET_ADMIN over it) and pinned on runroot/networks/rootless-netns/netns. slirp4netns is
 * attached to it (tap0, 10.0.2.100, the way out, masqueraded by slirp) with its pid in
 * helper.pid and its API socket (slirp.sock) beside the pin. Inside it, the rootful code runs
 * unchanged: bridges, veths to each container's namespace, addresses, nftables, hosts files.
 * The engine's calls (net_bridge_setup, teardown, connect, disconnect, sync) are routed here
 * when the caller is in a user namespace; the work runs on a thread that joins the rootless
 * namespace (setns is per thread, and root of a user namespace cannot go back to the host's).
 *
 * Published ports: tcp through the container's port proxy (net-internal.h: the engine
 * listens on HOST_IP:P, IPv4 or IPv6, and the proxy, joined to the rootless namespace,
 * connects to the container's address and port there), udp through slirp4netns, which forwards host HOST_IP:P to
 * 10.0.2.100:P (add_hostfwd; the forwards are listed in the container's network directory as
 * rootless-ports, to be removed with it or added again to a replaced helper). Inside, the
 * DNAT rule of the bridge code, which matches P on any local address in there, sends it on
 * to the container's address and port.
 *
 * Lifetime: the namespace and slirp4netns are made by the first container that joins a user
 * network and removed (helper killed, pin unmounted) when the last one leaves, under
 * runroot/networks/.rootless.lock. A pin that is no longer a namespace (the pause process and
 * its mount namespace were gone) is made anew on the next use; a dead helper is replaced by a
 * new one attached to the same namespace, so the containers keep their bridges (their
 * published ports come back when they restart).
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <unistd.h>

#include "pkg/json/json.h"
#include "pkg/net/bridge-internal.h"
#include "pkg/net/bridge.h"
#include "pkg/net/net-internal.h"
#include "pkg/net/net.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/strv.h"
#include "vendor-free/xalloc.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

#define RL_DIR "rootless-netns"
#define RL_PORTS "rootless-ports"
#define RL_GUEST "10.0.2.100"

bool net_in_userns(void)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	struct skiff_err *e2 = NULL;
	if (read_file_at(AT_FDCWD, "/proc/self/uid_map", 4096, &buf, &len, &e2) < 0) {
		err_free(e2);
		return false;
	}
	unsigned long a = 0, b = 0, n = 0;
	return sscanf(buf, "%lu %lu %lu", &a, &b, &n) != 3 || a != 0 || b != 0 || n != 4294967295ul;
}

static char *rl_dir(const char *runroot)
{
	return xasprintf("%s/networks/%s", runroot, RL_DIR);
}

static char *rl_pin(const char *runroot)
{
	return xasprintf("%s/networks/%s/netns", runroot, RL_DIR);
}

/* Whether path is a pinned namespace (a bind mount of nsfs); its identity in *ret. */
static bool is_pin(const char *path, struct stat *ret)
{
	struct statfs sf;
	struct stat st;
	if (statfs(path, &sf) < 0 || (unsigned long)sf.f_type != (unsigned long)NSFS_MAGIC || stat(path, &st) < 0)
		return false;
	if (ret)
		*ret = st;
	return true;
}

bool net_rootless_mode(const char *runroot)
{
	if (!runroot || !net_in_userns())
		return false;
	cleanup_free char *pin = rl_pin(runroot);
	struct stat ps, me;
	/* the worker thread, already inside: the bridge code runs as it does rootful */
	if (is_pin(pin, &ps) && stat("/proc/thread-self/ns/net", &me) == 0 && me.st_ino == ps.st_ino &&
	    me.st_dev == ps.st_dev)
		return false;
	return true;
}

static int lock_rootless(const char *runroot, int *ret_fd, struct skiff_err **err)
{
	return net_lock_runroot(runroot, ".rootless.lock", ret_fd, err);
}

/* Whether the helper recorded in dir/helper.pid is still the process it was. */
static bool helper_alive(const char *dir)
{
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	struct skiff_err *e2 = NULL;
	if (dfd < 0 || read_file_at(dfd, "helper.pid", 64, &buf, &len, &e2) < 0) {
		err_free(e2);
		return false;
	}
	int pid = 0;
	unsigned long long want = 0;
	uint64_t st = 0;
	if (sscanf(buf, "%d %llu", &pid, &want) != 2 || pid <= 0 || proc_starttime(pid, &st) < 0 || st != want)
		return false;
	/* an exited helper that nobody reaped (its parent is gone) is a zombie: dead too */
	cleanup_free char *stat = xasprintf("/proc/%d/stat", pid);
	cleanup_free char *sbuf = NULL;
	size_t slen = 0;
	if (read_file_at(AT_FDCWD, stat, 4096, &sbuf, &slen, &e2) < 0) {
		err_free(e2);
		return false;
	}
	const char *paren = strrchr(sbuf, ')');
	return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

static void readd_forwards(const char *runroot);

/* The rootless namespace with its helper, made (or replaced, when stale) if needed. */
static int ensure(const char *runroot, struct skiff_err **err)
{
	cleanup_free char *dir = rl_dir(runroot);
	cleanup_free char *pin = rl_pin(runroot);
	if (is_pin(pin, NULL) && helper_alive(dir))
		return 0;
	if (!net_have_helper(NET_SLIRP4NETNS))
		return err_makex(err, ENOENT,
				 "rootless bridge networks need slirp4netns (package slirp4netns) for the rootless "
				 "network namespace");
	/* a dead helper with the namespace still pinned (and containers attached to its bridges):
	 * a new helper for the same namespace; no pin (the pause process and its mounts went): all anew */
	struct net_setup s = {.dir = dir, .network = "slirp4netns", .as_root = true, .keep_netns = is_pin(pin, NULL)};
	if (s.keep_netns) {
		cleanup_free char *sock = xasprintf("%s/slirp.sock", dir);
		if (unlink(sock) < 0 && errno != ENOENT)
			return err_make(err, errno, "remove %s", sock);
	}
	cleanup_free char *netns = NULL;
	if (net_setup(&s, &netns, err) < 0)
		return err_wrap(err, "rootless network namespace %s", dir);
	if (s.keep_netns)
		readd_forwards(runroot);
	return 0;
}

/* Any container attached (a networks/ID/bridge.json other than ours)? */
static bool in_use(const char *runroot)
{
	cleanup_free char *dir = xasprintf("%s/networks", runroot);
	DIR *d = opendir(dir);
	struct dirent *de;
	bool used = false;
	while (d && !used && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, RL_DIR))
			continue;
		cleanup_free char *st = xasprintf("%s/%s/bridge.json", dir, de->d_name);
		used = access(st, F_OK) == 0;
	}
	if (d)
		closedir(d);
	return used;
}

/* The last user left: kill the helper and unpin (best effort; the next use replaces it). */
static void drop_if_idle(const char *runroot)
{
	if (in_use(runroot))
		return;
	cleanup_free char *dir = rl_dir(runroot);
	struct skiff_err *e2 = NULL;
	net_teardown(dir, &e2);
	err_free(e2);
}

struct call {
	const char *pin;
	int (*fn)(void *arg, struct skiff_err **err);
	void *arg;
	int rc;
	struct skiff_err *err;
};

static void *call_main(void *p)
{
	struct call *c = p;
	int fd = open(c->pin, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		c->rc = err_make(&c->err, errno, "open %s", c->pin);
		return NULL;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		c->rc = err_make(&c->err, errno, "join the rootless network namespace %s", c->pin);
		close(fd);
		return NULL;
	}
	close(fd);
	c->rc = c->fn(c->arg, &c->err);
	return NULL;
}

/* Run fn(arg) on a thread inside the rootless namespace (made when needed). */
static int run_inside(const char *runroot, int (*fn)(void *, struct skiff_err **), void *arg, struct skiff_err **err)
{
	if (ensure(runroot, err) < 0)
		return -1;
	cleanup_free char *pin = rl_pin(runroot);
	struct call c = {.pin = pin, .fn = fn, .arg = arg};
	pthread_t t;
	int e = pthread_create(&t, NULL, call_main, &c);
	if (e != 0)
		return err_make(err, e, "start a thread for the rootless network namespace");
	pthread_join(t, NULL);
	if (c.rc < 0) {
		if (err)
			*err = c.err;
		else
			err_free(c.err);
		return -1;
	}
	return 0;
}

/* ---- slirp4netns port forwards ---- */

/* One request on the helper's API socket; *ret_id gets "return.id" when asked for. */
static int slirp_call(const char *runroot, const char *req, long *ret_id, struct skiff_err **err)
{
	cleanup_free char *dir = rl_dir(runroot);
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "open %s", dir);
	/* through our fd of the directory: a long runroot would not fit in sun_path */
	char sock[64];
	snprintf(sock, sizeof(sock), "/proc/self/fd/%d/slirp.sock", dfd);
	cleanup_free char *what = xasprintf("%s/slirp.sock", dir);
	return net_slirp_api(sock, what, req, ret_id, err);
}

/* Ask the helper to forward host ADDR:PORT/proto to RL_GUEST:PORT; *ret_fwd gets its id. */
static int add_forward(const char *runroot, const char *proto, const char *addr, unsigned port, long *ret_fwd,
		       struct skiff_err **err)
{
	cleanup_free char *req =
		xasprintf("{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"%s\",\"host_addr\":\"%s\","
			  "\"host_port\":%u,\"guest_addr\":\"%s\",\"guest_port\":%u}}",
			  proto, addr, port, RL_GUEST, port);
	if (slirp_call(runroot, req, ret_fwd, err) < 0)
		return err_wrap(err, "publish %s:%u/%s", addr, port, proto);
	return 0;
}

/*
 * networks/ID/rootless-ports: one forward a line, "FWD PROTO ADDR PORT" (FWD: the helper's id).
 * Removed from the helper at teardown; added again (with new ids) to a replaced helper.
 */
static void remove_forwards(const char *runroot, const char *id)
{
	cleanup_free char *dir = xasprintf("%s/networks/%s", runroot, id);
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	struct skiff_err *e2 = NULL;
	if (dfd < 0 || read_file_at(dfd, RL_PORTS, 1 << 20, &buf, &len, &e2) < 0) {
		err_free(e2);
		return;
	}
	struct strv lines = STRV_INIT;
	strv_split(&lines, buf, '\n');
	for (size_t i = 0; i < lines.len; i++) {
		long fwd;
		if (sscanf(lines.v[i], "%ld", &fwd) != 1)
			continue;
		cleanup_free char *req = xasprintf("{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":%ld}}", fwd);
		slirp_call(runroot, req, NULL, &e2); /* a dead helper took its forwards along */
		err_clear(&e2);
	}
	strv_release(&lines);
	unlinkat(dfd, RL_PORTS, 0);
}

static int write_forwards(const char *runroot, const char *id, const struct strbuf *sb, struct skiff_err **err)
{
	cleanup_free char *dir = xasprintf("%s/networks/%s", runroot, id);
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "open %s", dir);
	return write_file_replace(dfd, RL_PORTS, sb->buf, sb->len, 0600, err);
}

static int add_forwards(const struct net_bridge_setup *s, struct skiff_err **err)
{
	/* tcp through the port proxy, joined to the rootless namespace and connecting to tap0's
	 * address there, where the DNAT rule takes over; udp through slirp4netns */
	cleanup_free char *dir = xasprintf("%s/networks/%s", s->runroot, s->id);
	cleanup_free char *pin = rl_pin(s->runroot);
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "open %s", dir);
	/* straight to the container's address on its first network and the container port (so one
	 * host port may be published on two host addresses); without an IPv4 address, to tap0's
	 * and the host port, where the DNAT rule matches it (as slirp4netns forwards P to P) */
	char ip[16] = "";
	struct json *status = net_bridge_status(s->runroot, s->id);
	if (json_is(status, JSON_OBJECT) && status->u.obj.len)
		snprintf(ip, sizeof(ip), "%s", json_object_get_string(status->u.obj.vals[0], "IPAddress") ?: "");
	json_free(status);
	struct net_port *inside = s->n_ports ? xcalloc(s->n_ports, sizeof(*inside)) : NULL;
	for (size_t i = 0; i < s->n_ports; i++) {
		inside[i] = s->ports[i];
		if (!ip[0])
			inside[i].ctr_port = inside[i].host_port;
	}
	int prc = net_portproxy_start(dfd, dir, pin, ip[0] ? ip : RL_GUEST, inside, s->n_ports, err);
	free(inside);
	if (prc < 0)
		return -1;
	struct strbuf sb = STRBUF_INIT;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < s->n_ports; i++) {
		const struct net_port *np = &s->ports[i];
		const char *addr = np->host_ip[0] ? np->host_ip : "0.0.0.0";
		if (!strcmp(np->proto, "tcp"))
			continue;
		for (unsigned k = 0; rc == 0 && k < np->range; k++) {
			long fwd = 0;
			if ((rc = add_forward(s->runroot, np->proto, addr, np->host_port + k, &fwd, err)) == 0)
				strbuf_addf(&sb, "%ld %s %s %u\n", fwd, np->proto, addr, np->host_port + k);
		}
	}
	/* recorded even when incomplete: teardown removes what was added */
	struct skiff_err *e2 = NULL;
	if (write_forwards(s->runroot, s->id, &sb, rc < 0 ? &e2 : err) < 0 && rc == 0)
		rc = -1;
	err_free(e2);
	strbuf_release(&sb);
	return rc;
}

/* A new helper: every container's forwards again (best effort: a port taken since is lost). */
static void readd_forwards(const char *runroot)
{
	cleanup_free char *dir = xasprintf("%s/networks", runroot);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, RL_DIR))
			continue;
		cleanup_free char *p = xasprintf("%s/%s/%s", dir, de->d_name, RL_PORTS);
		cleanup_free char *buf = NULL;
		size_t len = 0;
		struct skiff_err *e2 = NULL;
		if (read_file_at(AT_FDCWD, p, 1 << 20, &buf, &len, &e2) < 0) {
			err_free(e2);
			continue;
		}
		struct strv lines = STRV_INIT;
		strv_split(&lines, buf, '\n');
		struct strbuf sb = STRBUF_INIT;
		for (size_t i = 0; i < lines.len; i++) {
			long fwd;
			char proto[8], addr[64];
			unsigned port;
			if (sscanf(lines.v[i], "%ld %7s %63s %u", &fwd, proto, addr, &port) != 4)
				continue;
			if (add_forward(runroot, proto, addr, port, &fwd, &e2) == 0)
				strbuf_addf(&sb, "%ld %s %s %u\n", fwd, proto, addr, port);
			err_clear(&e2);
		}
		write_forwards(runroot, de->d_name, &sb, &e2);
		err_free(e2);
		strbuf_release(&sb);
		strv_release(&lines);
	}
	if (d)
		closedir(d);
}

/* ---- the routed calls ---- */

struct setup_args {
	const struct net_bridge_setup *s;
	char *netns;
};

static int setup_cb(void *p, struct skiff_err **err)
{
	struct setup_args *a = p;
	return net_bridge_setup(a->s, &a->netns, err);
}

struct teardown_args {
	const char *runroot, *id;
};

static int teardown_cb(void *p, struct skiff_err **err)
{
	struct teardown_args *a = p;
	return net_bridge_teardown(a->runroot, a->id, err);
}

int net_rootless_bridge_setup(const struct net_bridge_setup *s, char **ret_netns, struct skiff_err **err)
{
	/* inside, a port is P on tap0's address whatever the host address: that one is slirp's */
	struct net_port *ports = s->n_ports ? xcalloc(s->n_ports, sizeof(*ports)) : NULL;
	for (size_t i = 0; i < s->n_ports; i++) {
		ports[i] = s->ports[i];
		if (strchr(ports[i].host_ip, ':') && strcmp(ports[i].proto, "tcp")) {
			free(ports);
			return err_makex(err, ENOTSUP,
					 "-p %s: rootless bridge networks publish udp on IPv4 host addresses only",
					 s->ports[i].host_ip);
		}
		ports[i].host_ip[0] = '\0';
	}
	struct net_bridge_setup in = *s;
	in.ports = ports;
	struct setup_args a = {.s = &in};
	int lfd;
	if (lock_rootless(s->runroot, &lfd, err) < 0) {
		free(ports);
		return -1;
	}
	int rc = run_inside(s->runroot, setup_cb, &a, err);
	free(ports);
	if (rc == 0 && (rc = add_forwards(s, err)) < 0) {
		struct skiff_err *e2 = NULL;
		remove_forwards(s->runroot, s->id);
		struct teardown_args t = {s->runroot, s->id};
		run_inside(s->runroot, teardown_cb, &t, &e2);
		err_free(e2);
		free(a.netns);
		a.netns = NULL;
	}
	if (rc < 0)
		drop_if_idle(s->runroot);
	close(lfd);
	if (rc == 0)
		*ret_netns = a.netns;
	return rc;
}

int net_rootless_bridge_teardown(const char *runroot, const char *id, struct skiff_err **err)
{
	int lfd;
	if (lock_rootless(runroot, &lfd, err) < 0)
		return -1;
	remove_forwards(runroot, id);
	struct teardown_args t = {runroot, id};
	int rc = run_inside(runroot, teardown_cb, &t, err);
	drop_if_idle(runroot);
	close(lfd);
	return rc;
}

struct connect_args {
	const char *runroot, *graphroot, *id, *network;
	const struct strv *aliases;
	bool disconnect;
};

static int connect_cb(void *p, struct skiff_err **err)
{
	struct connect_args *a = p;
	if (a->disconnect)
		return net_bridge_disconnect(a->runroot, a->id, a->network, err);
	return net_bridge_connect(a->runroot, a->graphroot, a->id, a->network, a->aliases, err);
}

int net_rootless_bridge_connect(const char *runroot, const char *graphroot, const char *id, const char *network,
				const struct strv *aliases, bool disconnect, struct skiff_err **err)
{
	int lfd;
	if (lock_rootless(runroot, &lfd, err) < 0)
		return -1;
	struct connect_args a = {runroot, graphroot, id, network, aliases, disconnect};
	int rc = run_inside(runroot, connect_cb, &a, err);
	close(lfd);
	return rc;
}

static int sync_cb(void *p, struct skiff_err **err)
{
	struct teardown_args *a = p;
	return net_bridge_sync(a->runroot, err);
}

int net_rootless_bridge_sync(const char *runroot, struct skiff_err **err)
{
	int lfd;
	if (lock_rootless(runroot, &lfd, err) < 0)
		return -1;
	int rc = 0;
	struct teardown_args a = {runroot, NULL};
	if (in_use(runroot))
		rc = run_inside(runroot, sync_cb, &a, err);
	close(lfd);
	return rc;
}
