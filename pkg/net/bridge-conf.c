/* pkg/net: bridge network configs, one netavark-style JSON file per network. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/digest/digest.h"
#include "pkg/net/bridge-internal.h"
#include "pkg/net/bridge.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/xalloc.h"

void net_network_release(struct net_network *n)
{
	free(n->name);
	free(n->id);
	free(n->driver);
	free(n->iface);
	free(n->created);
	strv_release(&n->labels);
	*n = (struct net_network){0};
}

void net_network_list_free(struct net_network *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		net_network_release(&v[i]);
	free(v);
}

int net_cidr4(const char *s, uint32_t *ret_net, unsigned *ret_len)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	struct in_addr a;
	char *end;
	unsigned long len = strtoul(slash + 1, &end, 10);
	if (inet_pton(AF_INET, buf, &a) != 1 || !slash[1] || *end || len > 30)
		return -1;
	uint32_t mask = len ? ~0u << (32 - len) : 0;
	*ret_net = ntohl(a.s_addr) & mask;
	*ret_len = (unsigned)len;
	return 0;
}

void net_addr4(uint32_t a, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

int net_parse_mtu(const char *s, unsigned *ret)
{
	if (!s || *s < '0' || *s > '9' || strlen(s) > 5)
		return -1;
	char *end;
	unsigned long m = strtoul(s, &end, 10);
	if (*end || m < 68 || m > 65535)
		return -1;
	*ret = (unsigned)m;
	return 0;
}

unsigned net_default_route_mtu(const char *text, bool ipv6, unsigned (*mtu_of)(const char *name, void *ctx), void *ctx)
{
	unsigned best_metric = 0, mtu = 0;
	bool found = false;
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[512], dev[17] = "";
		unsigned metric = 0;
		bool dflt = false;
		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			if (ipv6) {
				/* dst dst_len src src_len next_hop metric refcnt use flags device */
				char dst[33], src[33], hop[33];
				unsigned dl, sl, ref, use, fl;
				dflt = sscanf(buf, "%32s %x %32s %x %32s %x %x %x %x %16s", dst, &dl, src, &sl, hop,
					      &metric, &ref, &use, &fl, dev) == 10 &&
				       dl == 0 && strspn(dst, "0") == 32 && (fl & 0x0001) /* RTF_UP */ &&
				       !(fl & 0x0200) /* RTF_REJECT */ && strcmp(dev, "lo");
			} else {
				/* Iface Destination Gateway Flags RefCnt Use Metric Mask ... */
				unsigned d, g, fl, ref, use, mask;
				dflt = sscanf(buf, "%16s %x %x %x %u %u %u %x", dev, &d, &g, &fl, &ref, &use, &metric,
					      &mask) == 8 &&
				       d == 0 && mask == 0 && (fl & 0x0001) /* RTF_UP */;
			}
		}
		if (dflt && (!found || metric < best_metric)) {
			unsigned m = mtu_of(dev, ctx);
			if (m) {
				found = true;
				best_metric = metric;
				mtu = m;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return mtu;
}

int net_parse4(const char *s, uint32_t *ret)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*ret = ntohl(a.s_addr);
	return 0;
}

bool net_in_subnet(uint32_t a, uint32_t net, unsigned len)
{
	uint32_t mask = len ? ~0u << (32 - len) : 0;
	return (a & mask) == net;
}

int net_parse6(const char *s, struct in6_addr *ret)
{
	struct in6_addr a;
	if (!s || !strchr(s, ':') || inet_pton(AF_INET6, s, &a) != 1)
		return -1;
	*ret = a;
	return 0;
}

static void mask6(struct in6_addr *a, unsigned len)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = len > 8 * i ? len - 8 * i : 0;
		if (bits < 8)
			a->s6_addr[i] &= (uint8_t)(0xff00u >> bits);
	}
}

int net_cidr6(const char *s, struct in6_addr *ret_net, unsigned *ret_len)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(buf) || !slash[1])
		return -1;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	char *end;
	unsigned long len = strtoul(slash + 1, &end, 10);
	struct in6_addr a;
	if (*end || len < 8 || len > 124 || slash[1] == '-' || net_parse6(buf, &a) < 0)
		return -1;
	mask6(&a, (unsigned)len);
	*ret_net = a;
	*ret_len = (unsigned)len;
	return 0;
}

void net_addr6(const struct in6_addr *a, char out[46])
{
	if (!inet_ntop(AF_INET6, a, out, 46))
		out[0] = '\0';
}

bool net_in_subnet6(const struct in6_addr *a, const struct in6_addr *net, unsigned len)
{
	struct in6_addr m = *a;
	mask6(&m, len);
	return !memcmp(&m, net, sizeof(m));
}

void net_add6(const struct in6_addr *net, uint32_t off, struct in6_addr *ret)
{
	struct in6_addr r = *net;
	uint64_t carry = off;
	for (int i = 15; i >= 0 && carry; i--) {
		carry += r.s6_addr[i];
		r.s6_addr[i] = (uint8_t)(carry & 0xff);
		carry >>= 8;
	}
	*ret = r;
}

void net_store_tag(const char *graphroot, char out[7])
{
	/* the default rootful store keeps the names it always had */
	size_t l = graphroot ? strlen(graphroot) : 0;
	while (l > 1 && graphroot[l - 1] == '/')
		l--;
	if (!l || (l == 14 && !strncmp(graphroot, "/var/lib/skiff", 14))) {
		out[0] = '\0';
		return;
	}
	char d[DIGEST_STR_LEN + 1];
	digest_buf(graphroot, l, d);
	memcpy(out, digest_hex(d), 6);
	out[6] = '\0';
}

void net_store_table(const char *tag, char out[16])
{
	snprintf(out, 16, "skiff%s%s", tag[0] ? "_" : "", tag);
}

static bool overlaps(uint32_t n1, unsigned l1, uint32_t n2, unsigned l2)
{
	unsigned l = l1 < l2 ? l1 : l2;
	return net_in_subnet(n1, n2 & (l ? ~0u << (32 - l) : 0), l);
}

static char *netdir(const char *graphroot)
{
	return xasprintf("%s/networks", graphroot);
}

static bool valid_name(const char *n)
{
	if (!n || !*n || strlen(n) > 200)
		return false;
	for (const char *p = n; *p; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
		if (!alnum && (p == n || (*p != '_' && *p != '.' && *p != '-')))
			return false;
	}
	return true;
}

struct json *net_network_json(const struct net_network *n)
{
	struct json *o = json_new_object();
	json_object_set_string(o, "name", n->name);
	json_object_set_string(o, "id", n->id);
	json_object_set_string(o, "driver", n->driver);
	json_object_set_string(o, "network_interface", n->iface);
	json_object_set_string(o, "created", n->created);
	struct json *subs = json_new_array();
	struct json *s = json_new_object();
	json_object_set_string(s, "subnet", n->subnet);
	json_object_set_string(s, "gateway", n->gateway);
	if (n->range[0] && n->subnet[0]) {
		struct json *lr = json_new_object();
		uint32_t net;
		unsigned len;
		char a[16], b[16];
		if (net_cidr4(n->range, &net, &len) == 0) {
			net_addr4(net + (len < 32 ? 1 : 0), a);
			net_addr4(net | (len ? ~(~0u << (32 - len)) - 1 : ~0u - 1), b);
			json_object_set_string(lr, "start_ip", a);
			json_object_set_string(lr, "end_ip", b);
		}
		json_object_set(s, "lease_range", lr);
	}
	if (n->subnet[0])
		json_array_append(subs, s);
	else
		json_free(s); /* an IPv6-only network */
	if (n->subnet6[0]) {
		s = json_new_object();
		json_object_set_string(s, "subnet", n->subnet6);
		json_object_set_string(s, "gateway", n->gateway6);
		json_array_append(subs, s);
	}
	json_object_set(o, "subnets", subs);
	json_object_set_bool(o, "ipv6_enabled", n->ipv6);
	json_object_set_bool(o, "internal", n->internal);
	json_object_set_bool(o, "dns_enabled", true);
	struct json *l = n->labels.len ? json_new_object() : NULL; /* podman leaves out empty labels */
	for (size_t i = 0; i < n->labels.len; i++) {
		const char *eq = strchr(n->labels.v[i], '=');
		cleanup_free char *k =
			xstrndup(n->labels.v[i], eq ? (size_t)(eq - n->labels.v[i]) : strlen(n->labels.v[i]));
		json_object_set_string(l, k, eq ? eq + 1 : "");
	}
	if (l)
		json_object_set(o, "labels", l);
	if (n->mtu) { /* netavark's options: strings */
		struct json *opts = json_new_object();
		char v[16];
		snprintf(v, sizeof(v), "%u", n->mtu);
		json_object_set_string(opts, "mtu", v);
		json_object_set(o, "options", opts);
	}
	struct json *ipam = json_new_object();
	json_object_set_string(ipam, "driver", "host-local");
	json_object_set(o, "ipam_options", ipam);
	return o;
}

static void cpy(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "");
}

static int network_from_json(const struct json *j, const char *file, struct net_network *ret, struct skiff_err **err)
{
	const char *name = json_object_get_string(j, "name"), *id = json_object_get_string(j, "id");
	const char *iface = json_object_get_string(j, "network_interface");
	struct json *subs = json_object_get(j, "subnets");
	if (!name || !id || !iface || !json_array_len(subs))
		return err_makex(err, EINVAL, "network config %s: name, id, network_interface and subnets are needed",
				 file);
	struct net_network n = {0};
	n.name = xstrdup(name);
	n.id = xstrdup(id);
	n.iface = xstrdup(iface);
	const char *d = json_object_get_string(j, "driver"), *c = json_object_get_string(j, "created");
	n.driver = xstrdup(d ? d : "bridge");
	n.created = xstrdup(c ? c : "");
	for (size_t i = 0; i < json_array_len(subs); i++) {
		const struct json *s = json_array_get(subs, i);
		const char *sn = json_object_get_string(s, "subnet"), *gw = json_object_get_string(s, "gateway");
		if (sn && strchr(sn, ':')) {
			cpy(n.subnet6, sizeof(n.subnet6), sn);
			cpy(n.gateway6, sizeof(n.gateway6), gw);
		} else if (sn) {
			cpy(n.subnet, sizeof(n.subnet), sn);
			cpy(n.gateway, sizeof(n.gateway), gw);
			const char *st = json_string(json_get_path(s, "lease_range", "start_ip", NULL));
			const char *en = json_string(json_get_path(s, "lease_range", "end_ip", NULL));
			uint32_t a, b;
			if (st && en && net_parse4(st, &a) == 0 && net_parse4(en, &b) == 0 && b >= a) {
				uint32_t size = b - a + 3;
				unsigned len = 32;
				while (len > 0 && (1u << (32 - len)) < size)
					len--;
				char x[16];
				net_addr4(a - 1, x);
				snprintf(n.range, sizeof(n.range), "%s/%u", x, len);
			}
		}
	}
	uint32_t net;
	unsigned len;
	struct in6_addr n6, g6;
	bool v4 = net_cidr4(n.subnet, &net, &len) == 0 && net_parse4(n.gateway, &net) == 0;
	bool v6 = net_cidr6(n.subnet6, &n6, &len) == 0 && net_parse6(n.gateway6, &g6) == 0 &&
		  net_in_subnet6(&g6, &n6, len);
	if ((n.subnet[0] && !v4) || (n.subnet6[0] && !v6) || (!v4 && !v6)) {
		net_network_release(&n);
		return err_makex(err, EINVAL, "network config %s: no valid subnet and gateway (IPv4 or IPv6)", file);
	}
	struct json *b = json_object_get(j, "internal");
	n.internal = json_is(b, JSON_BOOL) && b->u.b;
	b = json_object_get(j, "ipv6_enabled");
	n.ipv6 = (json_is(b, JSON_BOOL) && b->u.b) || v6;
	const char *mtu = json_string(json_get_path(j, "options", "mtu", NULL));
	if (mtu && net_parse_mtu(mtu, &n.mtu) < 0) {
		net_network_release(&n);
		return err_makex(err, EINVAL, "network config %s: bad options.mtu \"%s\" (68-65535)", file, mtu);
	}
	struct json *l = json_object_get(j, "labels");
	for (size_t i = 0; json_is(l, JSON_OBJECT) && i < l->u.obj.len; i++) {
		const char *v = json_string(l->u.obj.vals[i]);
		strv_pushf(&n.labels, "%s=%s", l->u.obj.keys[i], v ? v : "");
	}
	*ret = n;
	return 0;
}

static int read_network(int dfd, const char *file, struct net_network *ret, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (read_file_at(dfd, file, 1 << 20, &buf, &len, err) < 0)
		return -1;
	cleanup_json struct json *j = NULL;
	if (json_parse(buf, len, &j, err) < 0)
		return err_wrap(err, "network config %s", file);
	return network_from_json(j, file, ret, err);
}

/* Every config on disk (not the default unless written). */
static int read_all(const char *graphroot, struct net_network **ret, size_t *ret_n, struct skiff_err **err)
{
	cleanup_free char *dir = netdir(graphroot);
	if (mkdir_p_at(AT_FDCWD, dir, 0700, err) < 0)
		return -1;
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "open %s", dir);
	DIR *d = fdopendir(dup(dfd));
	if (!d)
		return err_make(err, errno, "read %s", dir);
	struct strv files = STRV_INIT;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] != '.' && l > 5 && !strcmp(de->d_name + l - 5, ".json"))
			strv_push(&files, de->d_name);
	}
	closedir(d);
	strv_sort(&files);
	struct net_network *v = xcalloc(files.len + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < files.len; i++) {
		if (read_network(dfd, files.v[i], &v[n], err) < 0) {
			net_network_list_free(v, n);
			strv_release(&files);
			return -1;
		}
		n++;
	}
	strv_release(&files);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Does the host route an overlapping subnet through an interface that is not iface? */
static bool host_routes(uint32_t net, unsigned len, const char *iface)
{
	cleanup_fclose FILE *f = fopen("/proc/net/route", "re");
	char line[256];
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char ifn[64];
		unsigned dst, gw, flags, mask;
		if (sscanf(line, "%63s %x %x %x %*d %*d %*d %x", ifn, &dst, &gw, &flags, &mask) != 5 || mask == 0)
			continue;
		uint32_t d = ntohl(dst), m = ntohl(mask);
		unsigned ml = (unsigned)__builtin_popcount(m);
		if (strcmp(ifn, iface) && overlaps(net, len, d, ml))
			return true;
	}
	return false;
}

static bool subnet_taken(const struct net_network *v, size_t n, uint32_t net, unsigned len, const char *iface)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t o;
		unsigned ol;
		if (net_cidr4(v[i].subnet, &o, &ol) == 0 && overlaps(net, len, o, ol))
			return true;
	}
	return host_routes(net, len, iface);
}

static void random_hex(char *out, size_t nbytes)
{
	unsigned char b[32];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t r = fd >= 0 ? read(fd, b, nbytes) : -1;
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", r == (ssize_t)nbytes ? b[i] : (unsigned)(rand() & 255));
}

static int write_network(const char *graphroot, const struct net_network *n, bool excl, struct skiff_err **err)
{
	cleanup_free char *dir = netdir(graphroot);
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "open %s", dir);
	cleanup_free char *file = xasprintf("%s.json", n->name);
	if (excl) {
		/* the name is claimed by the file's creation */
		int fd = openat(dfd, file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return errno == EEXIST ? err_makex(err, EEXIST, "network name %s already used", n->name)
					       : err_make(err, errno, "create %s/%s", dir, file);
		close(fd);
	}
	struct json *j = net_network_json(n);
	struct strbuf sb = STRBUF_INIT;
	json_dump(j, 2, &sb);
	strbuf_addch(&sb, '\n');
	json_free(j);
	int rc = write_file_atomic(dfd, file, sb.buf, sb.len, 0644, err);
	strbuf_release(&sb);
	if (rc < 0 && excl)
		unlinkat(dfd, file, 0);
	return rc;
}

static char *now_rfc3339(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	localtime_r(&ts.tv_sec, &tm);
	char b[64], z[8];
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(z, sizeof(z), "%z", &tm);
	return xasprintf("%s.%09ld%.3s:%s", b, ts.tv_nsec, z, z + 3);
}

static bool iface_exists(const char *name)
{
	cleanup_free char *p = xasprintf("/sys/class/net/%s", name);
	return access(p, F_OK) == 0;
}

static int pick_subnet4(const struct net_network *all, size_t n_all, const struct net_create_opts *o, bool is_default,
			struct net_network *n, struct skiff_err **err)
{
	uint32_t net = 0, gw = 0;
	unsigned len = 0;
	char a[16];
	if (o->subnet) {
		if (net_cidr4(o->subnet, &net, &len) < 0)
			return err_makex(err, EINVAL,
					 "invalid --subnet \"%s\": expected an IPv4 CIDR such as 10.89.5.0/24 "
					 "or an IPv6 one such as fd00:1::/64",
					 o->subnet);
		if (subnet_taken(all, n_all, net, len, n->iface))
			return err_makex(err, EEXIST, "subnet %s is already used on the host or by another network",
					 o->subnet);
	} else {
		bool found = false;
		if (is_default && !subnet_taken(all, n_all, 10u << 24 | 88u << 16, 16, n->iface)) {
			net = 10u << 24 | 88u << 16;
			len = 16;
			found = true;
		}
		for (unsigned k = 0; !found && k < 256; k++) {
			net = 10u << 24 | 89u << 16 | k << 8;
			len = 24;
			found = !subnet_taken(all, n_all, net, len, n->iface);
		}
		if (!found)
			return err_makex(err, ENOSPC, "no free subnet in 10.89.0.0/16: give one with --subnet");
	}
	net_addr4(net, a);
	snprintf(n->subnet, sizeof(n->subnet), "%s/%u", a, len);
	gw = net + 1;
	if (o->gateway && (net_parse4(o->gateway, &gw) < 0 || !net_in_subnet(gw, net, len)))
		return err_makex(err, EINVAL, "invalid --gateway \"%s\": not an address in %s", o->gateway, n->subnet);
	net_addr4(gw, n->gateway);
	uint32_t rn;
	unsigned rl;
	if (o->range && (net_cidr4(o->range, &rn, &rl) < 0 || rl < len || !net_in_subnet(rn, net, len)))
		return err_makex(err, EINVAL, "invalid --ip-range \"%s\": not a CIDR inside %s", o->range, n->subnet);
	if (o->range)
		cpy(n->range, sizeof(n->range), o->range);
	return 0;
}

static bool subnet6_taken(const struct net_network *all, size_t n_all, const struct in6_addr *net, unsigned len)
{
	for (size_t i = 0; i < n_all; i++) {
		struct in6_addr o;
		unsigned ol;
		if (net_cidr6(all[i].subnet6, &o, &ol) == 0 &&
		    (net_in_subnet6(net, &o, ol) || net_in_subnet6(&o, net, len)))
			return true;
	}
	return false;
}

/* The given IPv6 subnet, else a unique local fdXX:XXXX:XXXX:XXXX::/64 (RFC 4193: random). */
static int pick_subnet6(const struct net_network *all, size_t n_all, const struct net_create_opts *o,
			struct net_network *n, struct skiff_err **err)
{
	struct in6_addr net, gw;
	unsigned len = 64;
	if (o->subnet6) {
		if (net_cidr6(o->subnet6, &net, &len) < 0)
			return err_makex(err, EINVAL,
					 "invalid --subnet \"%s\": expected an IPv6 CIDR such as fd00:1::/64 "
					 "(prefix length 8 to 124)",
					 o->subnet6);
		if (subnet6_taken(all, n_all, &net, len))
			return err_makex(err, EEXIST, "subnet %s is already used by another network", o->subnet6);
	} else {
		bool found = false;
		for (int tries = 0; !found && tries < 16; tries++) {
			char hex[17];
			random_hex(hex, 7);
			memset(&net, 0, sizeof(net));
			net.s6_addr[0] = 0xfd;
			for (int i = 0; i < 7; i++) {
				unsigned v;
				sscanf(hex + 2 * i, "%2x", &v);
				net.s6_addr[1 + i] = (uint8_t)v;
			}
			found = !subnet6_taken(all, n_all, &net, 64);
		}
		if (!found)
			return err_makex(err, ENOSPC, "no free IPv6 subnet: give one with --subnet");
	}
	char a[46];
	net_addr6(&net, a);
	snprintf(n->subnet6, sizeof(n->subnet6), "%s/%u", a, len);
	net_add6(&net, 1, &gw);
	if (o->gateway6 &&
	    (net_parse6(o->gateway6, &gw) < 0 || !net_in_subnet6(&gw, &net, len) || !memcmp(&gw, &net, sizeof(gw))))
		return err_makex(err, EINVAL, "invalid --gateway \"%s\": not a host address in %s", o->gateway6,
				 n->subnet6);
	net_addr6(&gw, n->gateway6);
	return 0;
}

static int make_network(const char *graphroot, const char *name, const struct net_create_opts *o, bool is_default,
			struct net_network *ret, struct skiff_err **err)
{
	if (!valid_name(name))
		return err_makex(err, EINVAL, "invalid network name \"%s\": must match [a-zA-Z0-9][a-zA-Z0-9_.-]*",
				 name ? name : "");
	if (o->driver && strcmp(o->driver, "bridge"))
		return err_makex(err, ENOTSUP, "network driver \"%s\" is not supported (bridge)", o->driver);
	struct net_network *all = NULL;
	size_t n_all = 0;
	if (read_all(graphroot, &all, &n_all, err) < 0)
		return -1;
	struct net_network n = {0};
	int rc = 0;
	n.name = xstrdup(name);
	n.driver = xstrdup("bridge");
	n.internal = o->internal;
	n.ipv6 = o->ipv6;
	char tag[7];
	net_store_tag(graphroot, tag);
	if (is_default) {
		n.id = xstrdup(NET_DEFAULT_ID);
		n.iface = tag[0] ? xasprintf("sk%s-0", tag) : xstrdup("skiff0");
	} else {
		char id[65];
		random_hex(id, 32);
		n.id = xstrdup(id);
		for (unsigned k = 1; !n.iface; k++) {
			cleanup_free char *c = tag[0] ? xasprintf("sk%s-%u", tag, k) : xasprintf("skiff%u", k);
			bool used = iface_exists(c);
			for (size_t i = 0; !used && i < n_all; i++)
				used = !strcmp(all[i].iface, c);
			if (!used)
				n.iface = xstrdup(c);
		}
	}
	n.created = now_rfc3339();
	for (size_t i = 0; o->labels && i < o->labels->len; i++)
		strv_push(&n.labels, o->labels->v[i]);
	static const char docker_mtu[] = "com.docker.network.driver.mtu";
	for (size_t i = 0; rc == 0 && o->options && i < o->options->len; i++) {
		const char *kv = o->options->v[i], *eq = strchr(kv, '=');
		size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);
		if ((kl == 3 && !strncmp(kv, "mtu", 3)) ||
		    (kl == sizeof(docker_mtu) - 1 && !strncmp(kv, docker_mtu, kl))) {
			if (!eq || net_parse_mtu(eq + 1, &n.mtu) < 0)
				rc = err_makex(err, EINVAL, "-o %s: the MTU must be a number from 68 to 65535", kv);
		} else
			rc = err_makex(err, ENOTSUP, "-o %s: unsupported bridge network option \"%.*s\" (mtu)", kv,
				       (int)kl, kv);
	}
	/* podman: an IPv6 --subnet alone makes an IPv6-only network */
	bool v4 = o->subnet || !o->subnet6;
	if (o->subnet6)
		n.ipv6 = true;
	if (rc == 0 && !v4 && (o->gateway || o->range))
		rc = err_makex(err, EINVAL, "--%s %s: the network has no IPv4 subnet",
			       o->gateway ? "gateway" : "ip-range", o->gateway ? o->gateway : o->range);
	else if (rc == 0 && v4)
		rc = pick_subnet4(all, n_all, o, is_default, &n, err);
	if (rc == 0 && n.ipv6)
		rc = pick_subnet6(all, n_all, o, &n, err);
	for (size_t i = 0; rc == 0 && i < n_all; i++)
		if (!strcmp(all[i].name, name))
			rc = err_makex(err, EEXIST, "network name %s already used", name);
	net_network_list_free(all, n_all);
	if (rc == 0)
		rc = write_network(graphroot, &n, true, err);
	if (rc < 0) {
		net_network_release(&n);
		return -1;
	}
	*ret = n;
	return 0;
}

int net_network_create(const char *graphroot, const char *name, const struct net_create_opts *o,
		       struct net_network *ret, struct skiff_err **err)
{
	if (name && !strcmp(name, NET_DEFAULT_NAME))
		return err_makex(err, EEXIST, "network name %s already used", name);
	return make_network(graphroot, name, o, false, ret, err);
}

static int ensure_default(const char *graphroot, struct net_network *all, size_t n, struct net_network *ret,
			  struct skiff_err **err)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(all[i].name, NET_DEFAULT_NAME)) {
			*ret = all[i];
			all[i] = (struct net_network){0};
			return 0;
		}
	struct net_create_opts o = {0};
	int rc = make_network(graphroot, NET_DEFAULT_NAME, &o, true, ret, err);
	if (rc < 0 && err_status(*err) == EEXIST) {
		/* made beside us: read it */
		err_clear(err);
		cleanup_free char *dir = netdir(graphroot);
		cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return err_make(err, errno, "open %s", dir);
		return read_network(dfd, NET_DEFAULT_NAME ".json", ret, err);
	}
	return rc;
}

int net_network_list(const char *graphroot, struct net_network **ret, size_t *ret_n, struct skiff_err **err)
{
	struct net_network *all = NULL;
	size_t n = 0;
	if (read_all(graphroot, &all, &n, err) < 0)
		return -1;
	struct net_network def;
	if (ensure_default(graphroot, all, n, &def, err) < 0) {
		net_network_list_free(all, n);
		return -1;
	}
	struct net_network *v = xcalloc(n + 1, sizeof(*v));
	size_t k = 0;
	v[k++] = def;
	for (size_t i = 0; i < n; i++)
		if (all[i].name)
			v[k++] = all[i];
	free(all);
	*ret = v;
	*ret_n = k;
	return 0;
}

int net_network_get(const char *graphroot, const char *name_or_id, struct net_network *ret, struct skiff_err **err)
{
	struct net_network *v = NULL;
	size_t n = 0;
	if (net_network_list(graphroot, &v, &n, err) < 0)
		return -1;
	ssize_t hit = -1;
	size_t prefix_hits = 0;
	for (size_t i = 0; i < n && hit < 0; i++)
		if (!strcmp(v[i].name, name_or_id) || !strcmp(v[i].id, name_or_id))
			hit = (ssize_t)i;
	for (size_t i = 0; hit < 0 && i < n; i++)
		if (strlen(name_or_id) >= 1 && !strncmp(v[i].id, name_or_id, strlen(name_or_id)))
			prefix_hits++;
	for (size_t i = 0; hit < 0 && prefix_hits == 1 && i < n; i++)
		if (!strncmp(v[i].id, name_or_id, strlen(name_or_id)))
			hit = (ssize_t)i;
	if (hit < 0) {
		net_network_list_free(v, n);
		return err_makex(err, ENOENT, "unable to find network with name or ID %s: network not found",
				 name_or_id);
	}
	*ret = v[hit];
	v[hit] = (struct net_network){0};
	net_network_list_free(v, n);
	return 0;
}

/* A store other than the default whose last bridge went has no use for its table: drop it (a
 * later setup makes it anew; a table on the bridges of the default store stays). */
static void drop_table_without_bridges(const char *graphroot)
{
	char tag[7], table[16];
	net_store_tag(graphroot, tag);
	if (!tag[0])
		return;
	cleanup_free char *prefix = xasprintf("sk%s-", tag);
	DIR *d = opendir("/sys/class/net");
	struct dirent *de;
	bool left = false;
	while (d && !left && (de = readdir(d)))
		left = !strncmp(de->d_name, prefix, strlen(prefix));
	if (d)
		closedir(d);
	if (left || !d)
		return;
	net_store_table(tag, table);
	cleanup_free char *script = xasprintf("table inet %s\ndelete table inet %s\n", table, table);
	struct skiff_err *e2 = NULL;
	net_nft_apply(script, &e2);
	err_free(e2);
}

int net_network_remove(const char *graphroot, const char *name, struct skiff_err **err)
{
	struct net_network n;
	if (net_network_get(graphroot, name, &n, err) < 0)
		return -1;
	int rc = 0;
	if (!strcmp(n.name, NET_DEFAULT_NAME)) {
		rc = err_makex(err, EPERM, "default network %s cannot be removed", n.name);
	} else {
		cleanup_free char *dir = netdir(graphroot);
		cleanup_free char *file = xasprintf("%s/%s.json", dir, n.name);
		if (unlink(file) < 0)
			rc = err_make(err, errno, "remove %s", file);
		/* rootless: the bridge is in the rootless namespace, gone with its last user */
		if (rc == 0 && !net_in_userns() && iface_exists(n.iface) &&
		    net_ip(NULL, err, "link", "del", n.iface, NULL) < 0)
			rc = err_wrap(err, "network %s", n.name);
		if (rc == 0)
			drop_table_without_bridges(graphroot);
	}
	net_network_release(&n);
	return rc;
}
