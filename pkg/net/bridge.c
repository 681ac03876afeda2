/* pkg/net: containers on bridge networks: namespace, veths, addresses, firewall, names. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/net/bridge-internal.h"
#include "pkg/net/bridge.h"
#include "pkg/net/netlink.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/crashpoint.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/xalloc.h"

#define STATE "bridge.json"

int net_lock_runroot(const char *runroot, const char *name, int *ret_fd, struct skiff_err **err)
{
	cleanup_free char *dir = xasprintf("%s/networks", runroot);
	if (mkdir_p_at(AT_FDCWD, dir, 0700, err) < 0)
		return -1;
	cleanup_free char *p = xasprintf("%s/%s", dir, name);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_make(err, errno, "open %s", p);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return err_make(err, e, "lock %s", p);
		}
	*ret_fd = fd;
	return 0;
}

/* One lock for every bridge change of this runroot: addresses, bridges, the table. */
static int lock_bridges(const char *runroot, int *ret_fd, struct skiff_err **err)
{
	return net_lock_runroot(runroot, ".bridge.lock", ret_fd, err);
}

static char *ctr_dir(const char *runroot, const char *id)
{
	return xasprintf("%s/networks/%s", runroot, id);
}

static int read_state(const char *runroot, const char *id, struct json **ret, struct skiff_err **err)
{
	cleanup_free char *dir = ctr_dir(runroot, id);
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "open %s", dir);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (read_file_at(dfd, STATE, 1 << 20, &buf, &len, err) < 0)
		return -1;
	if (json_parse(buf, len, ret, err) < 0)
		return err_wrap(err, "%s/%s", dir, STATE);
	return 0;
}

static int write_state(const char *runroot, const char *id, const struct json *st, struct skiff_err **err)
{
	cleanup_free char *dir = ctr_dir(runroot, id);
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "open %s", dir);
	struct strbuf sb = STRBUF_INIT;
	json_dump(st, 0, &sb);
	int rc = write_file_replace(dfd, STATE, sb.buf, sb.len, 0600, err);
	strbuf_release(&sb);
	return rc;
}

static void write_sysctl(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, v, strlen(v)) < 0) {
			/* best effort: a read-only /proc/sys shows up as no route later */
		}
		close(fd);
	}
}

/* ---- addresses: runroot/ipam/NETWORK/ADDR holds the container id ---- */

static int teardown_locked(const char *runroot, const char *id, struct skiff_err **err);

/*
 * Whether the container owner still holds its addresses. Leases, the state file and the links
 * are made under the bridges lock, which the caller holds, and a setup marks its state
 * "setting_up" until it is done: a lease whose owner has no state file, or one still marked,
 * is what a setup killed half-way left (a crash). Its links, leases and pinned namespace go
 * now; the container, if it is still there, makes them again when it starts.
 */
static bool owner_alive(const char *runroot, const char *owner)
{
	struct json *st = NULL;
	struct skiff_err *e2 = NULL;
	bool alive = read_state(runroot, owner, &st, &e2) == 0;
	if (alive) {
		struct json *b = json_object_get(st, "setting_up");
		alive = !(json_is(b, JSON_BOOL) && b->u.b);
	}
	json_free(st);
	err_clear(&e2);
	if (!alive && teardown_locked(runroot, owner, &e2) < 0)
		err_free(e2);
	return alive;
}

static int ipam_dir(const char *runroot, const struct net_network *n, int *ret_fd, struct skiff_err **err)
{
	cleanup_free char *dir = xasprintf("%s/ipam/%s", runroot, n->name);
	if (mkdir_p_at(AT_FDCWD, dir, 0700, err) < 0)
		return -1;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "open %s", dir);
	*ret_fd = dfd;
	return 0;
}

/* Claim address s for id: 0 when claimed, 1 when a live container holds it, -1 on error. */
static int ipam_claim(int dfd, const char *runroot, const char *id, const char *s, struct skiff_err **err)
{
	for (int tries = 0; tries < 2; tries++) {
		int fd = openat(dfd, s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0) {
			int rc = write_all(fd, id, strlen(id));
			close(fd);
			if (rc < 0) {
				unlinkat(dfd, s, 0);
				return err_make(err, errno, "record address %s", s);
			}
			return 0;
		}
		if (errno != EEXIST)
			return err_make(err, errno, "record address %s", s);
		/* a container that is gone (a crash) gives its address back */
		cleanup_free char *owner = NULL;
		size_t ol = 0;
		struct skiff_err *e2 = NULL;
		if (read_file_at(dfd, s, 128, &owner, &ol, &e2) < 0 || !ol || owner_alive(runroot, owner)) {
			err_free(e2);
			return 1;
		}
		unlinkat(dfd, s, 0);
	}
	return 1;
}

static int ipam_take(const char *runroot, const struct net_network *n, const char *id, const char *want, char out[16],
		     struct skiff_err **err)
{
	uint32_t net, gw = 0, lo, hi, a;
	unsigned len;
	if (net_cidr4(n->range[0] ? n->range : n->subnet, &net, &len) < 0)
		return err_makex(err, EINVAL, "network %s: bad subnet %s", n->name, n->subnet);
	net_parse4(n->gateway, &gw);
	lo = net + 1;
	hi = (net | ~(~0u << (32 - len))) - 1;
	if (want) {
		uint32_t snet;
		unsigned slen;
		net_cidr4(n->subnet, &snet, &slen);
		if (net_parse4(want, &a) < 0 || !net_in_subnet(a, snet, slen) || a == gw || a == snet ||
		    a == (snet | ~(~0u << (32 - slen))))
			return err_makex(err, EINVAL, "--ip %s is not a free host address of network %s (%s)", want,
					 n->name, n->subnet);
		lo = hi = a;
	}
	cleanup_close int dfd = -1;
	if (ipam_dir(runroot, n, &dfd, err) < 0)
		return -1;
	for (a = lo; a <= hi && a >= lo; a++) {
		if (a == gw)
			continue;
		char s[16];
		net_addr4(a, s);
		int r = ipam_claim(dfd, runroot, id, s, err);
		if (r < 0)
			return err_wrap(err, "network %s", n->name);
		if (r == 0) {
			memcpy(out, s, 16);
			return 0;
		}
	}
	if (want)
		return err_makex(err, EADDRINUSE, "--ip %s: the address is already in use on network %s", want,
				 n->name);
	return err_makex(err, ENOSPC, "network %s: no free address in %s", n->name, n->range[0] ? n->range : n->subnet);
}

/* An IPv6 address of n for id (want: --ip6), the same files as IPv4 (names with colons). */
static int ipam_take6(const char *runroot, const struct net_network *n, const char *id, const char *want, char out[46],
		      struct skiff_err **err)
{
	struct in6_addr net, gw, a;
	unsigned len;
	if (net_cidr6(n->subnet6, &net, &len) < 0 || net_parse6(n->gateway6, &gw) < 0)
		return err_makex(err, EINVAL, "network %s: bad IPv6 subnet %s", n->name, n->subnet6);
	uint64_t last = 128 - len >= 24 ? (1u << 24) : ((uint64_t)1 << (128 - len)) - 1, lo = 1;
	if (want) {
		if (net_parse6(want, &a) < 0 || !net_in_subnet6(&a, &net, len) || !memcmp(&a, &gw, sizeof(a)) ||
		    !memcmp(&a, &net, sizeof(a)))
			return err_makex(err, EINVAL, "--ip6 %s is not a free host address of network %s (%s)", want,
					 n->name, n->subnet6);
	}
	cleanup_close int dfd = -1;
	if (ipam_dir(runroot, n, &dfd, err) < 0)
		return -1;
	for (uint64_t off = lo; want ? off == lo : off < last; off++) {
		if (!want)
			net_add6(&net, (uint32_t)off, &a);
		if (!memcmp(&a, &gw, sizeof(a)))
			continue;
		char s[46];
		net_addr6(&a, s);
		int r = ipam_claim(dfd, runroot, id, s, err);
		if (r < 0)
			return err_wrap(err, "network %s", n->name);
		if (r == 0) {
			memcpy(out, s, 46);
			return 0;
		}
	}
	if (want)
		return err_makex(err, EADDRINUSE, "--ip6 %s: the address is already in use on network %s", want,
				 n->name);
	return err_makex(err, ENOSPC, "network %s: no free address in %s", n->name, n->subnet6);
}

/* Give back every address held by id (on network only, when not NULL). */
static void ipam_release(const char *runroot, const char *id, const char *network)
{
	cleanup_free char *dir = xasprintf("%s/ipam", runroot);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || (network && strcmp(de->d_name, network)))
			continue;
		int nfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *nd = nfd >= 0 ? fdopendir(nfd) : NULL;
		if (!nd) {
			if (nfd >= 0)
				close(nfd);
			continue;
		}
		struct dirent *ae;
		while ((ae = readdir(nd))) {
			if (ae->d_name[0] == '.')
				continue;
			char *owner = NULL;
			size_t ol = 0;
			struct skiff_err *e2 = NULL;
			if (read_file_at(dirfd(nd), ae->d_name, 128, &owner, &ol, &e2) == 0 && !strcmp(owner, id))
				unlinkat(dirfd(nd), ae->d_name, 0);
			free(owner);
			err_free(e2);
		}
		closedir(nd);
	}
	closedir(d);
}

/* ---- links ---- */

/* A bridge of a store other than the default says whose it is in its alias, "skiff:RUNROOT",
 * so that it can be removed once that store is gone (sweep_orphans). */
#define OWNER_PREFIX "skiff:"

static bool tagged_bridge(const char *name)
{
	size_t l = strlen(name);
	if (l < 10 || strncmp(name, "sk", 2) || name[8] != '-')
		return false;
	for (size_t i = 2; i < 8; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	for (size_t i = 9; i < l; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	return true;
}

static char *link_alias(const char *name)
{
	cleanup_free char *p = xasprintf("/sys/class/net/%s/ifalias", name);
	char *buf = NULL;
	size_t len = 0;
	struct skiff_err *e2 = NULL;
	if (read_file_at(AT_FDCWD, p, 4096, &buf, &len, &e2) < 0) {
		err_free(e2);
		return NULL;
	}
	while (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return buf;
}

static int ensure_bridge(struct nl_sock *host, const char *runroot, const struct net_network *n, int *ret_index,
			 struct skiff_err **err)
{
	int bidx;
	uint32_t net;
	unsigned len;
	if (nl_bridge_ensure(host, n->iface, &bidx, err) < 0)
		return err_wrap(err, "network %s", n->name);
	if (tagged_bridge(n->iface)) {
		cleanup_free char *owner = xasprintf(OWNER_PREFIX "%s", runroot);
		cleanup_free char *was = link_alias(n->iface);
		if ((!was || strcmp(was, owner)) && strlen(owner) < 256 &&
		    nl_link_set_alias(host, bidx, owner, err) < 0)
			return err_wrap(err, "network %s", n->name);
	}
	if (n->subnet[0]) {
		net_cidr4(n->subnet, &net, &len);
		cleanup_free char *addr = xasprintf("%s/%u", n->gateway, len);
		if (nl_addr_add(host, bidx, addr, NL_ADDR_REPLACE, err) < 0)
			return err_wrap(err, "network %s", n->name);
	}
	if (n->subnet6[0]) {
		struct in6_addr n6;
		if (net_cidr6(n->subnet6, &n6, &len) < 0)
			return err_makex(err, EINVAL, "network %s: bad IPv6 subnet %s", n->name, n->subnet6);
		/* the bridge must take IPv6 addresses; forwarding, as netavark sets it */
		cleanup_free char *dis = xasprintf("/proc/sys/net/ipv6/conf/%s/disable_ipv6", n->iface);
		write_sysctl(dis, "0");
		write_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1");
		cleanup_free char *a6 = xasprintf("%s/%u", n->gateway6, len);
		if (nl_addr_add(host, bidx, a6, NL_ADDR_REPLACE | NL_ADDR_NODAD, err) < 0)
			return err_wrap(err, "network %s", n->name);
	}
	struct nl_link bl;
	if (nl_link_get(host, NULL, bidx, &bl, err) < 0 ||
	    (n->mtu && bl.mtu != n->mtu && nl_link_set_mtu(host, bidx, n->mtu, err) < 0) ||
	    nl_link_set_up(host, bidx, true, err) < 0)
		return err_wrap(err, "network %s", n->name);
	if (n->subnet[0]) {
		write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
		cleanup_free char *rl = xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", n->iface);
		write_sysctl(rl, "1");
	}
	*ret_index = bidx;
	return 0;
}

/* Delete a host link; a missing one is fine. */
static void del_link(struct nl_sock *host, const char *name)
{
	struct skiff_err *e2 = NULL;
	nl_link_del(host, name, &e2);
	err_free(e2);
}

/* Docker's MAC for an IPv4 address, 02:42:a:b:c:d: a container that gets an address another
 * just gave back has its MAC too, so the neighbours' caches (the host's, the bridge's other
 * containers') stay right. False for anything else (IPv6 only: the kernel's random one). */
static bool mac_of(const char *ip, unsigned char mac[6])
{
	uint32_t a4;
	if (net_parse4(ip, &a4) < 0)
		return false;
	mac[0] = 0x02;
	mac[1] = 0x42;
	for (int i = 0; i < 4; i++)
		mac[2 + i] = (unsigned char)(a4 >> (24 - 8 * i));
	return true;
}

static unsigned link_mtu(const char *name, void *ctx)
{
	struct nl_link l;
	struct skiff_err *e2 = NULL;
	if (nl_link_get(ctx, name, 0, &l, &e2) < 0) {
		err_free(e2);
		return 0;
	}
	return l.mtu;
}

/* The MTU of the link the default route of family ipv6 leaves by, in the calling thread's
 * namespace (the host's, or the rootless network namespace on the thread that joined it);
 * 0 when there is no such route. */
static unsigned uplink_mtu(struct nl_sock *host, bool ipv6)
{
	cleanup_free char *text = NULL;
	size_t len = 0;
	struct skiff_err *e2 = NULL;
	if (read_file_at(AT_FDCWD, ipv6 ? "/proc/thread-self/net/ipv6_route" : "/proc/thread-self/net/route", 1 << 20,
			 &text, &len, &e2) < 0) {
		err_free(e2);
		return 0;
	}
	return net_default_route_mtu(text, ipv6, link_mtu, host);
}

/* The links of one attachment: the veth pair on the bridge, the addresses (addr, addr6: CIDRs,
 * either NULL), lo, the default routes. MTUs as bridge.h says. */
static int plumb(const char *runroot, const char *netns, const struct net_network *n, const char *veth,
		 const char *ifname, const char *addr, const char *addr6, bool default_route, struct skiff_err **err)
{
	struct nl_sock host = NL_SOCK_INIT, ns = NL_SOCK_INIT;
	cleanup_close int nsfd = open(netns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return err_make(err, errno, "open network namespace %s", netns);
	if (nl_open(&host, err) < 0)
		return -1;
	int rc = 0, bidx = 0, vidx = 0, cidx = 0, lidx = 0;
	unsigned want = n->mtu ? n->mtu : NET_LINK_MTU, mtu = want, route4 = 0, route6 = 0;
	struct nl_link bl = {0};
	unsigned char mac[6];
	cleanup_free char *ip4 = addr ? xstrndup(addr, strcspn(addr, "/")) : NULL;
	bool have_mac = ip4 && mac_of(ip4, mac);
	del_link(&host, veth); /* a leftover of a crash */
	if (ensure_bridge(&host, runroot, n, &bidx, err) < 0 ||
	    nl_veth_create(&host, veth, ifname, nsfd, want, have_mac ? mac : NULL, err) < 0 ||
	    nl_link_index(&host, veth, &vidx, err) < 0 || nl_link_set_master(&host, vidx, bidx, err) < 0 ||
	    nl_link_get(&host, NULL, bidx, &bl, err) < 0)
		goto fail;
	crashpoint("net-veth-created"); /* a veth and an address, recorded as setting_up (owner_alive) */
	/* one MTU per segment: a default-MTU bridge has the least of its ports' (older containers') */
	if (!n->mtu && bl.mtu >= 68 && bl.mtu < want) {
		mtu = bl.mtu;
		if (nl_link_set_mtu(&host, vidx, mtu, err) < 0)
			goto fail;
	}
	if (!n->mtu && default_route) {
		/* what leaves the host keeps the uplink's size */
		unsigned up4 = uplink_mtu(&host, false), up6 = uplink_mtu(&host, true);
		route4 = up4 ? up4 : 1500;
		route6 = up6 ? up6 : route4;
		route4 = route4 < mtu ? route4 : 0;
		route6 = route6 < mtu && route6 >= 1280 ? route6 : 0;
	}
	if (nl_link_set_up(&host, vidx, true, err) < 0 || nl_open_netns(netns, &ns, err) < 0 ||
	    nl_link_index(&ns, ifname, &cidx, err) < 0 || (mtu != want && nl_link_set_mtu(&ns, cidx, mtu, err) < 0) ||
	    (addr && nl_addr_add(&ns, cidx, addr, 0, err) < 0) ||
	    (addr6 && nl_addr_add(&ns, cidx, addr6, NL_ADDR_NODAD, err) < 0) ||
	    nl_link_set_up(&ns, cidx, true, err) < 0 || nl_link_index(&ns, "lo", &lidx, err) < 0 ||
	    nl_link_set_up(&ns, lidx, true, err) < 0 ||
	    (default_route && addr && nl_route_add_default(&ns, cidx, n->gateway, route4, err) < 0) ||
	    (default_route && addr6 && nl_route_add_default(&ns, cidx, n->gateway6, route6, err) < 0))
		goto fail;
	nl_close(&ns);
	nl_close(&host);
	return 0;
fail:
	rc = err_wrap(err, "network %s", n->name);
	nl_close(&ns);
	nl_close(&host);
	return rc;
}

/*
 * networks/.bridges: {"table": "skiff", "tag": "", "nets": [{"bridge", "subnet", "subnet6",
 * "internal"}]} for every bridge a container was attached to, and the store's nftables table.
 * Its masquerade (or internal filter) rules stay while the bridge exists, so a container's
 * start and stop leave the ruleset alone when it has no -p, and nft is not run.
 */
#define BRIDGES ".bridges"

static struct json *read_bridges(const char *runroot)
{
	cleanup_free char *p = xasprintf("%s/networks/%s", runroot, BRIDGES);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	struct json *j = NULL;
	struct skiff_err *e2 = NULL;
	if (read_file_at(AT_FDCWD, p, 1 << 20, &buf, &len, &e2) < 0 || json_parse(buf, len, &j, &e2) < 0 ||
	    !json_is(json_object_get(j, "nets"), JSON_ARRAY)) {
		err_free(e2);
		json_free(j);
		j = json_new_object();
		json_object_set(j, "nets", json_new_array());
	}
	return j;
}

static int write_bridges(const char *runroot, const struct json *j, struct skiff_err **err)
{
	cleanup_free char *dir = xasprintf("%s/networks", runroot);
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "open %s", dir);
	struct strbuf sb = STRBUF_INIT;
	json_dump(j, 0, &sb);
	int rc = write_file_replace(dfd, BRIDGES, sb.buf, sb.len, 0600, err);
	strbuf_release(&sb);
	return rc;
}

/* Record n's bridge and the store's table (a no-op when they are recorded as they are). */
static int remember_bridge(const char *runroot, const char *graphroot, const struct net_network *n,
			   struct skiff_err **err)
{
	struct json *j = read_bridges(runroot);
	char tag[7], table[16];
	net_store_tag(graphroot, tag);
	net_store_table(tag, table);
	bool dirty = strcmp(json_object_get_string(j, "table") ?: "", table) != 0;
	if (dirty) {
		json_object_set_string(j, "table", table);
		json_object_set_string(j, "tag", tag);
	}
	struct json *nets = json_object_get(j, "nets");
	struct json *hit = NULL;
	for (size_t i = 0; !hit && i < json_array_len(nets); i++)
		if (!strcmp(json_object_get_string(json_array_get(nets, i), "bridge") ?: "", n->iface))
			hit = json_array_get(nets, i);
	struct json *in = hit ? json_object_get(hit, "internal") : NULL;
	int rc = 0;
	if (!hit || strcmp(json_object_get_string(hit, "subnet") ?: "", n->subnet) ||
	    strcmp(json_object_get_string(hit, "subnet6") ?: "", n->subnet6) || !json_is(in, JSON_BOOL) ||
	    in->u.b != n->internal) {
		if (!hit) {
			hit = json_new_object();
			json_array_append(nets, hit);
		}
		json_object_set_string(hit, "bridge", n->iface);
		json_object_set_string(hit, "subnet", n->subnet);
		json_object_set_string(hit, "subnet6", n->subnet6);
		json_object_set_bool(hit, "internal", n->internal);
		dirty = true;
	}
	if (dirty)
		rc = write_bridges(runroot, j, err);
	json_free(j);
	return rc;
}

/* The recorded bridges that still exist (forgetting the others). */
static struct json *live_bridges(const char *runroot)
{
	struct json *j = read_bridges(runroot);
	struct json *nets = json_object_get(j, "nets");
	size_t k = 0, n = json_array_len(nets);
	for (size_t i = 0; i < n; i++) {
		struct json *a = nets->u.arr.items[i];
		const char *br = json_object_get_string(a, "bridge");
		/* by ifindex, in this thread's namespace (/sys shows the one it was mounted in) */
		if (br && if_nametoindex(br) != 0)
			nets->u.arr.items[k++] = a;
		else
			json_free(a);
	}
	nets->u.arr.len = k;
	if (k != n) {
		struct skiff_err *e2 = NULL;
		write_bridges(runroot, j, &e2);
		err_free(e2);
	}
	return j;
}

/* Attach the namespace to n as ethIDX; the attachment is appended to st's "nets". */
static int attach(const char *runroot, const char *graphroot, const char *netns, const char *id,
		  const struct net_network *n, unsigned idx, const char *want_ip, const char *want_ip6,
		  const struct strv *aliases, struct json *st, struct skiff_err **err)
{
	char ip[16] = "", ip6[46] = "";
	uint32_t net;
	unsigned len = 0, len6 = 0;
	struct in6_addr n6;
	if (want_ip && !n->subnet[0])
		return err_makex(err, EINVAL, "--ip %s: network %s has no IPv4 subnet", want_ip, n->name);
	if (want_ip6 && !n->subnet6[0])
		return err_makex(err, EINVAL, "--ip6 %s: network %s has no IPv6 subnet (create it with --ipv6)",
				 want_ip6, n->name);
	if (n->subnet[0] && net_cidr4(n->subnet, &net, &len) < 0)
		return err_makex(err, EINVAL, "network %s: bad subnet %s", n->name, n->subnet);
	if (n->subnet6[0] && net_cidr6(n->subnet6, &n6, &len6) < 0)
		return err_makex(err, EINVAL, "network %s: bad IPv6 subnet %s", n->name, n->subnet6);
	if (n->subnet[0] && ipam_take(runroot, n, id, want_ip, ip, err) < 0)
		return -1;
	if (n->subnet6[0] && ipam_take6(runroot, n, id, want_ip6, ip6, err) < 0) {
		ipam_release(runroot, id, n->name);
		return -1;
	}
	char veth[IFNAMSIZ], ifname[IFNAMSIZ];
	snprintf(veth, sizeof(veth), "sk%.10s%u", id, idx);
	snprintf(ifname, sizeof(ifname), "eth%u", idx);
	struct json *a = json_new_object();
	json_object_set_string(a, "network", n->name);
	json_object_set_string(a, "network_id", n->id);
	json_object_set_string(a, "bridge", n->iface);
	json_object_set_string(a, "subnet", n->subnet);
	json_object_set_string(a, "ifname", ifname);
	json_object_set_string(a, "veth", veth);
	if (ip[0]) {
		json_object_set_string(a, "ip", ip);
		json_object_set_int(a, "prefix", len);
		json_object_set_string(a, "gateway", n->gateway);
	}
	if (ip6[0]) {
		json_object_set_string(a, "subnet6", n->subnet6);
		json_object_set_string(a, "ip6", ip6);
		json_object_set_int(a, "prefix6", len6);
		json_object_set_string(a, "gateway6", n->gateway6);
	}
	json_object_set_bool(a, "internal", n->internal);
	struct json *al = json_new_array();
	for (size_t i = 0; aliases && i < aliases->len; i++)
		json_array_append(al, json_new_string(aliases->v[i]));
	json_object_set(a, "aliases", al);
	/* the first non-internal network gives the default route */
	bool route = !n->internal && !json_is(json_object_get(st, "default_via"), JSON_STRING);
	/* recorded before the links exist: a crash leaves what teardown looks for */
	struct json *nets = json_object_get(st, "nets");
	json_array_append(nets, a);
	if (write_state(runroot, id, st, err) < 0 || remember_bridge(runroot, graphroot, n, err) < 0)
		return -1;
	cleanup_free char *addr = ip[0] ? xasprintf("%s/%u", ip, len) : NULL;
	cleanup_free char *addr6 = ip6[0] ? xasprintf("%s/%u", ip6, len6) : NULL;
	if (plumb(runroot, netns, n, veth, ifname, addr, addr6, route, err) < 0)
		return -1;
	if (route)
		json_object_set_string(st, "default_via", n->name);
	return write_state(runroot, id, st, err);
}

/* ---- firewall and names, from every bridge.json ---- */

static void load_states(const char *runroot, struct json ***ret, size_t *ret_n)
{
	cleanup_free char *dir = xasprintf("%s/networks", runroot);
	struct json **v = NULL;
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		struct json *j = NULL;
		struct skiff_err *e2 = NULL;
		if (read_state(runroot, de->d_name, &j, &e2) < 0) {
			err_free(e2);
			continue;
		}
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = j;
	}
	if (d)
		closedir(d);
	*ret = v;
	*ret_n = n;
}

/* One DNAT rule: family 4 or 6, to the container's address ip. */
static void nft_port_rule(struct strbuf *sb, const char *table, const struct net_port *p, int family, const char *ip)
{
	strbuf_addf(sb, "add rule inet %s ports ", table);
	if (p->host_ip[0] && strcmp(p->host_ip, "0.0.0.0") && strcmp(p->host_ip, "::"))
		strbuf_addf(sb, "%s daddr %s ", family == 6 ? "ip6" : "ip", p->host_ip);
	else
		strbuf_addf(sb, "meta nfproto %s ", family == 6 ? "ipv6" : "ipv4");
	const char *fam = family == 6 ? "ip6" : "ip";
	const char *lb = family == 6 ? "[" : "", *rb = family == 6 ? "]" : "";
	if (p->range > 1)
		strbuf_addf(sb, "%s dport %u-%u dnat %s to %s%s%s:%u-%u\n", p->proto, p->host_port,
			    p->host_port + p->range - 1, fam, lb, ip, rb, p->ctr_port, p->ctr_port + p->range - 1);
	else
		strbuf_addf(sb, "%s dport %u dnat %s to %s%s%s:%u\n", p->proto, p->host_port, fam, lb, ip, rb,
			    p->ctr_port);
}

/* The DNAT rules of one container, to the addresses of its first network: a host address of
 * one family goes to that family's address, "every address" to both. */
static void nft_ports(struct strbuf *sb, const char *table, const struct json *st)
{
	struct json *ports = json_object_get(st, "ports");
	struct json *nets = json_object_get(st, "nets");
	const struct json *first = json_array_len(nets) ? json_array_get(nets, 0) : NULL;
	const char *ip = json_object_get_string(first, "ip"), *ip6 = json_object_get_string(first, "ip6");
	for (size_t i = 0; first && i < json_array_len(ports); i++) {
		struct net_port p;
		struct skiff_err *e2 = NULL;
		if (net_parse_port(json_string(json_array_get(ports, i)), &p, &e2) < 0) {
			err_free(e2);
			continue;
		}
		bool host6 = strchr(p.host_ip, ':') != NULL, any = !p.host_ip[0] || !strcmp(p.host_ip, "::");
		if (ip && (!host6 || any))
			nft_port_rule(sb, table, &p, 4, ip);
		if (ip6 && (host6 || !p.host_ip[0]))
			nft_port_rule(sb, table, &p, 6, ip6);
	}
}

static void build_ruleset(const char *table, struct json **v, size_t n, struct strbuf *sb)
{
	strbuf_addf(sb,
		    "table inet %s\ndelete table inet %s\n"
		    "table inet %s {\n"
		    "\tchain ports { }\n"
		    "\tchain prerouting { type nat hook prerouting priority dstnat; policy accept; fib daddr "
		    "type local jump ports; }\n"
		    "\tchain output { type nat hook output priority -100; policy accept; fib daddr type local "
		    "jump ports; }\n"
		    "\tchain postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
		    "\tchain forward { type filter hook forward priority filter; policy accept; }\n"
		    "}\n",
		    table, table, table);
	struct strv seen = STRV_INIT;
	for (size_t i = 0; i < n; i++) {
		struct json *nets = json_object_get(v[i], "nets");
		for (size_t k = 0; k < json_array_len(nets); k++) {
			const struct json *a = json_array_get(nets, k);
			const char *br = json_object_get_string(a, "bridge"),
				   *sub = json_object_get_string(a, "subnet"),
				   *sub6 = json_object_get_string(a, "subnet6");
			struct json *in = json_object_get(a, "internal");
			if (!br || strv_contains(&seen, br))
				continue;
			strv_push(&seen, br);
			if (json_is(in, JSON_BOOL) && in->u.b) {
				strbuf_addf(sb,
					    "add rule inet %s forward iifname \"%s\" oifname != \"%s\" drop\n"
					    "add rule inet %s forward oifname \"%s\" iifname != \"%s\" drop\n",
					    table, br, br, table, br, br);
				continue;
			}
			if (sub && sub[0])
				strbuf_addf(
					sb,
					"add rule inet %s postrouting ip saddr %s ip daddr != %s masquerade\n"
					"add rule inet %s postrouting oifname \"%s\" ip saddr 127.0.0.0/8 masquerade\n",
					table, sub, sub, table, br);
			if (sub6 && sub6[0])
				strbuf_addf(sb,
					    "add rule inet %s postrouting ip6 saddr %s ip6 daddr != %s masquerade\n"
					    "add rule inet %s postrouting oifname \"%s\" ip6 saddr ::1 masquerade\n",
					    table, sub6, sub6, table, br);
		}
		nft_ports(sb, table, v[i]);
	}
	strv_release(&seen);
}

/* Rewrite the hosts file of each container in place: its base plus its peers. */
static void write_hosts(struct json **v, size_t n, size_t self)
{
	const char *hosts = json_object_get_string(v[self], "hosts");
	const char *base = json_object_get_string(v[self], "hosts_base");
	if (!hosts || !base)
		return;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, base);
	if (sb.len && sb.buf[sb.len - 1] != '\n')
		strbuf_addch(&sb, '\n');
	struct json *mine = json_object_get(v[self], "nets");
	for (size_t i = 0; i < n; i++) {
		struct json *theirs = json_object_get(v[i], "nets");
		for (size_t k = 0; k < json_array_len(theirs); k++) {
			const struct json *a = json_array_get(theirs, k);
			const char *net = json_object_get_string(a, "network");
			bool shared = false;
			for (size_t m = 0; !shared && m < json_array_len(mine); m++)
				shared = !strcmp(json_object_get_string(json_array_get(mine, m), "network") ?: "",
						 net ? net : "-");
			/* a line per address: IPv4 first, which resolvers prefer to a unique local IPv6 */
			static const char *const keys[] = {"ip", "ip6"};
			for (size_t f = 0; shared && f < 2; f++) {
				const char *ip = json_object_get_string(a, keys[f]);
				if (!ip)
					continue;
				const char *name = json_object_get_string(v[i], "name");
				strbuf_addf(&sb, "%s\t%s", ip, name ? name : "");
				const char *id = json_object_get_string(v[i], "id");
				if (id)
					strbuf_addf(&sb, " %.12s", id);
				struct json *al = json_object_get(a, "aliases");
				for (size_t x = 0; x < json_array_len(al); x++)
					strbuf_addf(&sb, " %s", json_string(json_array_get(al, x)) ?: "");
				strbuf_addch(&sb, '\n');
			}
		}
	}
	/* in place: the file is bind-mounted, a rename would not be seen */
	int fd = open(hosts, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		if (write_all(fd, sb.buf, sb.len) < 0) {
			/* the next change rewrites it */
		}
		close(fd);
	}
	strbuf_release(&sb);
}

/* The table recorded in .bridges when it is one of ours ("skiff", "skiff_" + 6 hex), else NULL. */
static const char *recorded_table(const struct json *br)
{
	const char *t = json_object_get_string(br, "table");
	if (!t || strncmp(t, "skiff", 5))
		return NULL;
	if (!t[5])
		return t;
	if (t[5] != '_' || strlen(t) != 12)
		return NULL;
	for (const char *c = t + 6; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return NULL;
	return t;
}

/*
 * Remove the bridges (and the table) of the stores that are gone: a bridge skTAG-N whose alias
 * names a runroot without a networks directory (a test store deleted with rm -rf, say). Cheap:
 * one look at /sys/class/net; nft runs only when there is a table to drop.
 */
static void sweep_orphans(void)
{
	DIR *d = opendir("/sys/class/net");
	if (!d)
		return;
	struct strv tags = STRV_INIT;
	struct nl_sock host = NL_SOCK_INIT;
	struct skiff_err *e2 = NULL;
	bool have_nl = false;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!tagged_bridge(de->d_name))
			continue;
		cleanup_free char *alias = link_alias(de->d_name);
		if (!alias || strncmp(alias, OWNER_PREFIX, strlen(OWNER_PREFIX)))
			continue;
		cleanup_free char *nets = xasprintf("%s/networks", alias + strlen(OWNER_PREFIX));
		if (access(nets, F_OK) == 0 || errno != ENOENT)
			continue;
		if (have_nl || (have_nl = nl_open(&host, &e2) == 0))
			del_link(&host, de->d_name);
		cleanup_free char *tag = xstrndup(de->d_name + 2, 6);
		if (!strv_contains(&tags, tag))
			strv_push(&tags, tag);
	}
	closedir(d);
	nl_close(&host);
	err_clear(&e2);
	for (size_t i = 0; i < tags.len; i++) {
		char table[16];
		net_store_table(tags.v[i], table);
		cleanup_free char *script = xasprintf("table inet %s\ndelete table inet %s\n", table, table);
		net_nft_apply(script, &e2);
		err_clear(&e2);
	}
	strv_release(&tags);
}

static int sync_locked_force(const char *runroot, bool force, struct skiff_err **err)
{
	struct json **v = NULL;
	size_t n = 0;
	load_states(runroot, &v, &n);
	/* the recorded bridges first, so that their rules keep their place */
	struct json **all = xcalloc(n + 1, sizeof(*all));
	all[0] = live_bridges(runroot);
	if (n)
		memcpy(all + 1, v, n * sizeof(*v));
	const char *table = recorded_table(all[0]);
	int rc = 0;
	if (table) {
		struct strbuf sb = STRBUF_INIT;
		build_ruleset(table, all, n + 1, &sb);
		cleanup_free char *dir = xasprintf("%s/networks", runroot);
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		rc = dfd < 0 ? err_make(err, errno, "open %s", dir)
			     : net_nft_sync(table, sb.buf, dfd, ".nft-applied", force, err);
		if (dfd >= 0)
			close(dfd);
		strbuf_release(&sb);
	}
	json_free(all[0]);
	free(all);
	for (size_t i = 0; i < n; i++)
		write_hosts(v, n, i);
	for (size_t i = 0; i < n; i++)
		json_free(v[i]);
	free(v);
	return rc;
}

static int sync_locked(const char *runroot, struct skiff_err **err)
{
	return sync_locked_force(runroot, false, err);
}

int net_bridge_sync(const char *runroot, struct skiff_err **err)
{
	if (net_rootless_mode(runroot))
		return net_rootless_bridge_sync(runroot, err);
	int lfd;
	if (lock_bridges(runroot, &lfd, err) < 0)
		return -1;
	sweep_orphans();
	int rc = sync_locked_force(runroot, true, err);
	close(lfd);
	return rc;
}

static int teardown_locked(const char *runroot, const char *id, struct skiff_err **err)
{
	struct json *st = NULL;
	struct skiff_err *e2 = NULL;
	struct nl_sock host = NL_SOCK_INIT;
	if (read_state(runroot, id, &st, &e2) == 0 && nl_open(&host, &e2) == 0) {
		struct json *nets = json_object_get(st, "nets");
		for (size_t k = 0; k < json_array_len(nets); k++) {
			const char *veth = json_object_get_string(json_array_get(nets, k), "veth");
			if (veth)
				del_link(&host, veth);
		}
	}
	json_free(st);
	nl_close(&host);
	err_free(e2);
	ipam_release(runroot, id, NULL);
	cleanup_free char *dir = ctr_dir(runroot, id);
	return net_teardown(dir, err);
}

int net_bridge_teardown(const char *runroot, const char *id, struct skiff_err **err)
{
	cleanup_free char *dir = ctr_dir(runroot, id);
	cleanup_free char *stp = xasprintf("%s/%s", dir, STATE);
	if (access(stp, F_OK) < 0 && access(dir, F_OK) < 0)
		return 0;
	if (net_rootless_mode(runroot))
		return net_rootless_bridge_teardown(runroot, id, err);
	int lfd;
	if (lock_bridges(runroot, &lfd, err) < 0)
		return -1;
	int rc = teardown_locked(runroot, id, err);
	if (rc == 0)
		rc = sync_locked(runroot, err);
	close(lfd);
	return rc;
}

int net_bridge_setup(const struct net_bridge_setup *s, char **ret_netns, struct skiff_err **err)
{
	if (!s->networks || !s->networks->len)
		return err_makex(err, EINVAL, "no network to attach");
	if (net_rootless_mode(s->runroot))
		return net_rootless_bridge_setup(s, ret_netns, err);
	int lfd;
	if (lock_bridges(s->runroot, &lfd, err) < 0)
		return -1;
	sweep_orphans();
	int rc = teardown_locked(s->runroot, s->id, err);
	cleanup_free char *dir = ctr_dir(s->runroot, s->id);
	char *netns = xasprintf("%s/netns", dir);
	if (rc == 0)
		rc = mkdir_p_at(AT_FDCWD, dir, 0700, err);
	if (rc == 0)
		/* unprivileged ICMP echo (ping without CAP_NET_RAW), as podman sets it */
		rc = net_make_netns(netns, "0 2147483647", err);
	struct json *st = json_new_object();
	json_object_set_string(st, "id", s->id);
	json_object_set_string(st, "name", s->name);
	json_object_set_string(st, "hosts", s->hosts);
	json_object_set(st, "nets", json_new_array());
	struct json *pa = json_new_array();
	for (size_t i = 0; i < s->n_ports; i++) {
		struct strbuf p = STRBUF_INIT;
		net_port_string(&s->ports[i], &p);
		json_array_append(pa, json_new_string(p.buf));
		strbuf_release(&p);
	}
	json_object_set(st, "ports", pa);
	json_object_set_bool(st, "setting_up", true); /* until every link is made (owner_alive) */
	if (rc == 0 && s->hosts) {
		cleanup_free char *buf = NULL;
		size_t len = 0;
		if (read_file_at(AT_FDCWD, s->hosts, 1 << 20, &buf, &len, err) < 0)
			rc = err_wrap(err, "hosts");
		else
			json_object_set_string(st, "hosts_base", buf);
	}
	for (size_t i = 0; rc == 0 && i < s->networks->len; i++) {
		struct net_network n;
		if ((rc = net_network_get(s->graphroot, s->networks->v[i], &n, err)) < 0)
			break;
		rc = attach(s->runroot, s->graphroot, netns, s->id, &n, (unsigned)i, i == 0 ? s->static_ip : NULL,
			    i == 0 ? s->static_ip6 : NULL, s->aliases, st, err);
		net_network_release(&n);
	}
	if (rc == 0) {
		json_object_set_bool(st, "setting_up", false);
		rc = write_state(s->runroot, s->id, st, err);
	}
	if (rc == 0)
		rc = sync_locked(s->runroot, err);
	json_free(st);
	if (rc < 0) {
		struct skiff_err *e2 = NULL;
		teardown_locked(s->runroot, s->id, &e2);
		err_clear(&e2);
		sync_locked(s->runroot, &e2);
		err_free(e2);
		close(lfd);
		free(netns);
		return -1;
	}
	close(lfd);
	*ret_netns = netns;
	return 0;
}

int net_bridge_connect(const char *runroot, const char *graphroot, const char *id, const char *network,
		       const struct strv *aliases, struct skiff_err **err)
{
	if (net_rootless_mode(runroot))
		return net_rootless_bridge_connect(runroot, graphroot, id, network, aliases, false, err);
	struct net_network n;
	if (net_network_get(graphroot, network, &n, err) < 0)
		return -1;
	int lfd;
	if (lock_bridges(runroot, &lfd, err) < 0) {
		net_network_release(&n);
		return -1;
	}
	struct json *st = NULL;
	int rc = read_state(runroot, id, &st, err);
	unsigned idx = 0;
	struct json *nets = rc == 0 ? json_object_get(st, "nets") : NULL;
	for (size_t k = 0; rc == 0 && k < json_array_len(nets); k++) {
		const struct json *a = json_array_get(nets, k);
		unsigned x = 0;
		if (!strcmp(json_object_get_string(a, "network") ?: "", n.name))
			rc = err_makex(err, EEXIST, "container is already connected to network %s", n.name);
		if (sscanf(json_object_get_string(a, "ifname") ?: "", "eth%u", &x) == 1 && x + 1 > idx)
			idx = x + 1;
	}
	cleanup_free char *cdir = ctr_dir(runroot, id);
	cleanup_free char *netns = xasprintf("%s/netns", cdir);
	if (rc == 0)
		rc = attach(runroot, graphroot, netns, id, &n, idx, NULL, NULL, aliases, st, err);
	if (rc == 0)
		rc = sync_locked(runroot, err);
	json_free(st);
	net_network_release(&n);
	close(lfd);
	return rc;
}

int net_bridge_disconnect(const char *runroot, const char *id, const char *network, struct skiff_err **err)
{
	if (net_rootless_mode(runroot))
		return net_rootless_bridge_connect(runroot, NULL, id, network, NULL, true, err);
	int lfd;
	if (lock_bridges(runroot, &lfd, err) < 0)
		return -1;
	struct json *st = NULL;
	int rc = read_state(runroot, id, &st, err);
	struct json *nets = rc == 0 ? json_object_get(st, "nets") : NULL;
	ssize_t hit = -1;
	for (size_t k = 0; rc == 0 && k < json_array_len(nets); k++)
		if (!strcmp(json_object_get_string(json_array_get(nets, k), "network") ?: "", network))
			hit = (ssize_t)k;
	if (rc == 0 && hit < 0)
		rc = err_makex(err, ENOENT, "container is not connected to network %s", network);
	if (rc == 0) {
		const char *veth = json_object_get_string(json_array_get(nets, (size_t)hit), "veth");
		struct nl_sock host = NL_SOCK_INIT;
		struct skiff_err *e2 = NULL;
		if (veth && nl_open(&host, &e2) == 0)
			del_link(&host, veth);
		nl_close(&host);
		err_free(e2);
		ipam_release(runroot, id, network);
		json_free(nets->u.arr.items[hit]);
		memmove(&nets->u.arr.items[hit], &nets->u.arr.items[hit + 1],
			(nets->u.arr.len - (size_t)hit - 1) * sizeof(*nets->u.arr.items));
		nets->u.arr.len--;
		rc = write_state(runroot, id, st, err);
	}
	if (rc == 0)
		rc = sync_locked(runroot, err);
	json_free(st);
	close(lfd);
	return rc;
}

struct json *net_bridge_status(const char *runroot, const char *id)
{
	struct json *st = NULL;
	struct skiff_err *e2 = NULL;
	if (read_state(runroot, id, &st, &e2) < 0) {
		err_free(e2);
		return NULL;
	}
	struct json *o = json_new_object();
	struct json *nets = json_object_get(st, "nets");
	for (size_t k = 0; k < json_array_len(nets); k++) {
		const struct json *a = json_array_get(nets, k);
		struct json *x = json_new_object();
		json_object_set_string(x, "EndpointID", "");
		json_object_set_string(x, "Gateway", json_object_get_string(a, "gateway") ?: "");
		json_object_set_string(x, "IPAddress", json_object_get_string(a, "ip") ?: "");
		unsigned char m[6];
		char mac[18] = "";
		if (mac_of(json_object_get_string(a, "ip") ?: "", m))
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		json_object_set_string(x, "MacAddress", mac);
		struct json *p = json_object_get(a, "prefix");
		json_object_set_int(x, "IPPrefixLen", json_is(p, JSON_NUMBER) ? p->u.num.i : 0);
		json_object_set_string(x, "IPv6Gateway", json_object_get_string(a, "gateway6") ?: "");
		json_object_set_string(x, "GlobalIPv6Address", json_object_get_string(a, "ip6") ?: "");
		p = json_object_get(a, "prefix6");
		json_object_set_int(x, "GlobalIPv6PrefixLen", json_is(p, JSON_NUMBER) ? p->u.num.i : 0);
		json_object_set_string(x, "NetworkID", json_object_get_string(a, "network_id"));
		json_object_set_string(x, "InterfaceName", json_object_get_string(a, "ifname"));
		struct json *al = json_object_get(a, "aliases");
		json_object_set(x, "Aliases", al ? json_clone(al) : json_new_array());
		json_object_set(o, json_object_get_string(a, "network") ?: "", x);
	}
	json_free(st);
	return o;
}
