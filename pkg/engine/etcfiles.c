/* pkg/engine etcfiles: /etc/passwd and /etc/group lookups inside a container's rootfs, and
 * the hosts, resolv.conf, hostname and .containerenv files of its userdata dir. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/engine/container.h"
#include "pkg/engine/ctrconfig-internal.h"
#include "pkg/spec/image.h"
#include "pkg/store/store.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/pathres.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

/* ---- reading /etc/passwd and /etc/group in the rootfs ---- */

/* Read path (e.g. "/etc/passwd") inside rootfd into *ret. A missing file (or rootfd < 0)
 * gives *ret NULL and 0. Anything but a regular file, or one over CTR_ETC_FILE_MAX bytes,
 * is an error; a NUL byte ends the text. */
static int read_in_root(int rootfd, const char *path, char **ret, struct skiff_err **err)
{
	cleanup_close int fd = -1;
	struct skiff_err *e = NULL;
	struct stat st;

	*ret = NULL;
	if (rootfd < 0)
		return 0;
	/* O_NONBLOCK: a FIFO planted at /etc/passwd must not hang us (it is refused below) */
	fd = pathres_open(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, PATHRES_IN_ROOT, &e);
	if (fd < 0) {
		if (e->status == ENOENT || e->status == ENOTDIR) {
			err_free(e);
			return 0;
		}
		ctr_err(err, e->status, "read %s in the container: %s", path, e->msg);
		err_free(e);
		return -1;
	}
	if (fstat(fd, &st) < 0)
		return err_make(err, errno, "stat %s in the container", path);
	if (!S_ISREG(st.st_mode))
		return ctr_err(err, EINVAL, "%s in the container is not a regular file", path);
	if (read_all_fd(fd, CTR_ETC_FILE_MAX, ret, NULL, err) < 0)
		return err_wrap(err, "read %s in the container", path);
	return 0;
}

/* Split the next line off *cursor; NULL at the end. */
static char *next_line(char **cursor)
{
	char *l = *cursor, *nl;
	if (!l || !*l)
		return NULL;
	nl = strchr(l, '\n');
	if (nl) {
		*nl = '\0';
		*cursor = nl + 1;
	} else {
		*cursor = l + strlen(l);
	}
	return l;
}

/* Split line at ':' into at most max fields (the last keeps the rest); the count. */
static size_t split_colon(char *line, char **f, size_t max)
{
	size_t n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < max; p++) {
		if (*p == ':') {
			*p = '\0';
			f[n++] = p + 1;
		}
	}
	return n;
}

/* A uid/gid: decimal, 0 .. 2^32-2 ((uint32_t)-1 means "no id" to the kernel). */
static bool parse_id(const char *s, uint32_t *ret)
{
	char *end;
	unsigned long long v;

	if (!*s || strlen(s) > 10 || strspn(s, "0123456789") != strlen(s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX - 1)
		return false;
	*ret = (uint32_t)v;
	return true;
}

/* Entries point into the file's buffer. Malformed lines (bad ids, too few fields,
 * comments, NIS "+"/"-" lines) are dropped: they never match, and never become uid 0. */
struct pw_entry {
	const char *name, *home;
	uint32_t uid, gid;
};
struct gr_entry {
	const char *name;
	const char *members; /* comma-separated; "" when none */
	uint32_t gid;
};

static void parse_passwd(char *buf, struct pw_entry **ret, size_t *ret_n)
{
	struct pw_entry *v = NULL;
	size_t n = 0, alloc = 0;
	char *cur = buf, *line;

	while (buf && (line = next_line(&cur))) {
		char *f[7];
		size_t nf;
		uint32_t u, g;
		if (line[0] == '#' || line[0] == '+' || line[0] == '-')
			continue;
		nf = split_colon(line, f, 7);
		if (nf < 4 || !parse_id(f[2], &u) || !parse_id(f[3], &g))
			continue;
		ALLOC_GROW(v, n + 1, alloc);
		v[n++] = (struct pw_entry){.name = f[0], .home = nf > 5 ? f[5] : "", .uid = u, .gid = g};
	}
	*ret = v;
	*ret_n = n;
}

static void parse_group(char *buf, struct gr_entry **ret, size_t *ret_n)
{
	struct gr_entry *v = NULL;
	size_t n = 0, alloc = 0;
	char *cur = buf, *line;

	while (buf && (line = next_line(&cur))) {
		char *f[4];
		size_t nf;
		uint32_t g;
		if (line[0] == '#' || line[0] == '+' || line[0] == '-')
			continue;
		nf = split_colon(line, f, 4);
		if (nf < 3 || !parse_id(f[2], &g))
			continue;
		ALLOC_GROW(v, n + 1, alloc);
		v[n++] = (struct gr_entry){.name = f[0], .members = nf > 3 ? f[3] : "", .gid = g};
	}
	*ret = v;
	*ret_n = n;
}

static bool is_member(const char *members, const char *name)
{
	size_t nlen = strlen(name);
	for (const char *p = members; *p;) {
		size_t n = strcspn(p, ",");
		if (n == nlen && strncmp(p, name, n) == 0)
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

static const struct gr_entry *group_find(const struct gr_entry *g, size_t n, const char *arg, bool numeric, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (numeric ? g[i].gid == id : strcmp(g[i].name, arg) == 0)
			return &g[i];
	return NULL;
}

void ctr_u32_list_add(struct spec_rt_u32_list *l, uint32_t v)
{
	for (size_t i = 0; i < l->len; i++)
		if (l->v[i] == v)
			return;
	ALLOC_GROW(l->v, l->len + 1, l->alloc);
	l->v[l->len++] = v;
}

void ctr_exec_user_release(struct ctr_exec_user *u)
{
	if (!u)
		return;
	free(u->name);
	free(u->home);
	free(u->sgids.v);
	memset(u, 0, sizeof(*u));
}

int ctr_lookup_exec_user(int rootfd, const char *spec, struct ctr_exec_user *ret, struct skiff_err **err)
{
	cleanup_free char *pwbuf = NULL, *grbuf = NULL, *user = NULL;
	cleanup_free struct pw_entry *pw = NULL;
	cleanup_free struct gr_entry *gr = NULL;
	struct ctr_exec_user u = {0};
	const struct pw_entry *match = NULL;
	const char *group = NULL, *colon;
	size_t npw = 0, ngr = 0;
	bool user_num, group_num = false;
	uint32_t uid_arg = 0, gid_arg = 0;

	if (!spec)
		spec = "";
	if (strlen(spec) > 256 || strpbrk(spec, "\n\r\t "))
		return ctr_err(err, EINVAL, "invalid user \"%.256s\"", spec);
	colon = strchr(spec, ':');
	if (colon && strchr(colon + 1, ':'))
		return ctr_err(err, EINVAL, "invalid user \"%s\": expected USER[:GROUP]", spec);
	user = colon ? xstrndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
	if (colon && colon[1])
		group = colon + 1;

	user_num = !*user || all_digits(user);
	if (*user && user_num && !parse_id(user, &uid_arg))
		return ctr_err(err, EINVAL, "invalid user \"%s\": uid out of range", spec);
	if (group) {
		group_num = all_digits(group);
		if (group_num && !parse_id(group, &gid_arg))
			return ctr_err(err, EINVAL, "invalid user \"%s\": gid out of range", spec);
	}

	if (read_in_root(rootfd, "/etc/passwd", &pwbuf, err) < 0)
		return -1;
	parse_passwd(pwbuf, &pw, &npw);
	for (size_t i = 0; i < npw && !match; i++)
		if (user_num ? pw[i].uid == uid_arg : strcmp(pw[i].name, user) == 0)
			match = &pw[i];
	if (match) {
		u.uid = match->uid;
		u.gid = match->gid;
		u.name = xstrdup(match->name);
		u.home = xstrdup(match->home);
	} else if (!user_num) {
		return ctr_err(err, ENOENT, "unable to find user %s: no matching entries in passwd file", user);
	} else {
		u.uid = uid_arg; /* a numeric uid needs no entry: gid 0, as runc */
	}

	if (group || match) {
		if (read_in_root(rootfd, "/etc/group", &grbuf, err) < 0) {
			ctr_exec_user_release(&u);
			return -1;
		}
		parse_group(grbuf, &gr, &ngr);
	}
	if (group) {
		const struct gr_entry *g = group_find(gr, ngr, group, group_num, gid_arg);
		if (g) {
			u.gid = g->gid;
		} else if (!group_num) {
			ctr_exec_user_release(&u);
			return ctr_err(err, ENOENT, "unable to find group %s: no matching entries in group file",
				       group);
		} else {
			u.gid = gid_arg;
		}
	} else if (match) {
		for (size_t i = 0; i < ngr; i++)
			if (is_member(gr[i].members, match->name))
				ctr_u32_list_add(&u.sgids, gr[i].gid);
	}
	*ret = u;
	return 0;
}

int ctr_lookup_groups(int rootfd, const struct strv *groups, struct spec_rt_u32_list *gids, struct skiff_err **err)
{
	cleanup_free char *grbuf = NULL;
	cleanup_free struct gr_entry *gr = NULL;
	size_t ngr = 0;

	if (!groups->len)
		return 0;
	if (read_in_root(rootfd, "/etc/group", &grbuf, err) < 0)
		return -1;
	parse_group(grbuf, &gr, &ngr);
	for (size_t i = 0; i < groups->len; i++) {
		const char *name = groups->v[i];
		bool num = all_digits(name);
		uint32_t id = 0;
		const struct gr_entry *g;

		if (!*name || strlen(name) > 256)
			return ctr_err(err, EINVAL, "invalid group \"%.256s\"", name);
		if (num && !parse_id(name, &id))
			return ctr_err(err, EINVAL, "invalid group \"%s\": gid out of range", name);
		g = group_find(gr, ngr, name, num, id);
		if (!g && !num)
			return ctr_err(err, ENOENT, "unable to find group %s: no matching entries in group file", name);
		ctr_u32_list_add(gids, g ? g->gid : id);
	}
	return 0;
}

/* ---- hostname ---- */

bool ctr_ns_is_host(const char *mode)
{
	return mode && strcmp(mode, "host") == 0;
}

int ctr_hostname(const struct ctr_config *c, char **ret, struct skiff_err **err)
{
	if (ctr_ns_is_host(c->uts_mode)) {
		char buf[256];
		if (gethostname(buf, sizeof(buf)) < 0)
			return err_make(err, errno, "gethostname");
		buf[sizeof(buf) - 1] = '\0';
		*ret = xstrdup(buf);
		return 0;
	}
	if (c->hostname && *c->hostname) {
		*ret = xstrdup(c->hostname);
		return 0;
	}
	if (!c->id || strlen(c->id) < 12)
		return ctr_err(err, EINVAL, "container has no id to name its host after");
	*ret = xstrndup(c->id, 12);
	return 0;
}

/* A name that can go on a hosts or resolv.conf line as one word. */
static bool word_ok(const char *s)
{
	if (!*s || strlen(s) > 1024)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == '#' || *s == 0x7f)
			return false;
	return true;
}

static bool ip_ok(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* ---- hosts ---- */

/* Names the user's --add-host entries took: the engine's own lines add only the others
 * (as podman's etchosts). */
static bool seen_name(const struct strv *seen, const char *name)
{
	return strv_contains(seen, name);
}

static void hosts_line(struct strbuf *out, const struct strv *seen, const char *ip, const char *const *names, size_t n)
{
	size_t written = 0;
	for (size_t i = 0; i < n; i++) {
		if (!names[i] || !*names[i] || seen_name(seen, names[i]))
			continue;
		strbuf_addstr(out, written ? " " : ip);
		if (!written)
			strbuf_addch(out, '\t');
		strbuf_addstr(out, names[i]);
		written++;
	}
	if (written)
		strbuf_addch(out, '\n');
}

static int build_hosts(const struct ctr_config *c, const char *hostname, struct strbuf *out, struct skiff_err **err)
{
	cleanup_strv struct strv seen = STRV_INIT;
	static const char *const lh[] = {"localhost"};

	/* --add-host first, as podman: the user's entries win */
	for (size_t i = 0; i < c->add_host.len; i++) {
		const char *e = c->add_host.v[i];
		const char *colon = strchr(e, ':');
		cleanup_strv struct strv names = STRV_INIT;
		cleanup_free char *hn = NULL;

		if (ctr_parse_add_host(e, err) < 0)
			return -1;
		hn = xstrndup(e, (size_t)(colon - e));
		strv_split(&names, hn, ';');
		strbuf_addf(out, "%s\t", colon + 1);
		for (size_t k = 0; k < names.len; k++) {
			strbuf_addf(out, "%s%s", k ? " " : "", names.v[k]);
			if (!seen_name(&seen, names.v[k]))
				strv_push(&seen, names.v[k]);
		}
		strbuf_addch(out, '\n');
	}
	hosts_line(out, &seen, "127.0.0.1", lh, 1);
	hosts_line(out, &seen, "::1", lh, 1);
	/* the container's own names; its address is not known here: loopback answers */
	const char *own[] = {hostname, c->name && strcmp(c->name, hostname) != 0 ? c->name : NULL};
	for (size_t i = 0; i < ARRAY_SIZE(own); i++)
		if (own[i] && !word_ok(own[i]))
			return ctr_err(err, EINVAL, "invalid host name \"%.256s\"", own[i]);
	hosts_line(out, &seen, "127.0.1.1", own, ARRAY_SIZE(own));
	return 0;
}

/* ---- resolv.conf ---- */

struct resolv {
	struct strv ns, search, options;
};

static void resolv_release(struct resolv *r)
{
	strv_release(&r->ns);
	strv_release(&r->search);
	strv_release(&r->options);
}

/* Read nameserver/search/domain/options lines of a resolv.conf (missing: empty). */
static int resolv_read(const char *path, struct resolv *r, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	struct skiff_err *e = NULL;
	char *cur, *line;

	if (read_file_at(AT_FDCWD, path, CTR_ETC_FILE_MAX, &buf, NULL, &e) < 0) {
		if (e->status == ENOENT) {
			err_free(e);
			return 0;
		}
		ctr_err(err, e->status, "host resolv.conf: %s", e->msg);
		err_free(e);
		return -1;
	}
	cur = buf;
	while ((line = next_line(&cur))) {
		cleanup_strv struct strv w = STRV_INIT;
		char *tok, *save = NULL;
		for (tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
			if (tok[0] == '#' || tok[0] == ';')
				break;
			strv_push(&w, tok);
		}
		if (w.len < 2)
			continue;
		if (!strcmp(w.v[0], "nameserver")) {
			if (ip_ok(w.v[1]))
				strv_push(&r->ns, w.v[1]);
		} else if (!strcmp(w.v[0], "search") || !strcmp(w.v[0], "domain")) {
			/* the last of search/domain wins, as the resolver does */
			strv_release(&r->search);
			for (size_t i = 1; i < w.len; i++)
				strv_push(&r->search, w.v[i]);
		} else if (!strcmp(w.v[0], "options")) {
			for (size_t i = 1; i < w.len; i++)
				strv_push(&r->options, w.v[i]);
		}
	}
	return 0;
}

static bool is_localhost_ns(const char *ip)
{
	return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0;
}

static void drop_localhost(struct strv *ns)
{
	for (size_t i = 0; i < ns->len;) {
		if (is_localhost_ns(ns->v[i]))
			strv_remove(ns, i);
		else
			i++;
	}
}

static int build_resolv(const struct ctr_config *c, const char *host_resolv, struct strbuf *out, struct skiff_err **err)
{
	struct resolv r = {0};
	bool host_net = ctr_ns_is_host(c->network);
	bool stub = false;

	if (host_resolv && resolv_read(host_resolv, &r, err) < 0)
		goto fail;
	if (c->dns.len) {
		strv_release(&r.ns);
		for (size_t i = 0; i < c->dns.len; i++) {
			if (!ip_ok(c->dns.v[i])) {
				ctr_err(err, EINVAL, "invalid --dns \"%.256s\": not an IP address", c->dns.v[i]);
				goto fail;
			}
			strv_push(&r.ns, c->dns.v[i]);
		}
	} else if (!host_net) {
		stub = strv_contains(&r.ns, "127.0.0.53");
		drop_localhost(&r.ns);
		/* systemd-resolved's stub: its upstream servers are in the other file */
		if (!r.ns.len && stub && host_resolv && strcmp(host_resolv, "/etc/resolv.conf") == 0) {
			struct resolv up = {0};
			if (resolv_read("/run/systemd/resolve/resolv.conf", &up, NULL) == 0) {
				drop_localhost(&up.ns);
				strv_release(&r.ns);
				r.ns = up.ns;
				up.ns = (struct strv)STRV_INIT;
			}
			resolv_release(&up);
		}
		if (!r.ns.len) {
			strv_push(&r.ns, "8.8.8.8");
			strv_push(&r.ns, "8.8.4.4");
		}
	}
	if (c->dns_search.len) {
		strv_release(&r.search);
		for (size_t i = 0; i < c->dns_search.len; i++) {
			const char *d = c->dns_search.v[i];
			if (!strcmp(d, "."))
				continue; /* docker: "." means no search domains */
			if (!word_ok(d)) {
				ctr_err(err, EINVAL, "invalid --dns-search \"%.256s\"", d);
				goto fail;
			}
			strv_push(&r.search, d);
		}
	}
	if (c->dns_option.len) {
		strv_release(&r.options);
		for (size_t i = 0; i < c->dns_option.len; i++) {
			if (!word_ok(c->dns_option.v[i])) {
				ctr_err(err, EINVAL, "invalid --dns-option \"%.256s\"", c->dns_option.v[i]);
				goto fail;
			}
			strv_push(&r.options, c->dns_option.v[i]);
		}
	}
	if (r.search.len) {
		strbuf_addstr(out, "search");
		for (size_t i = 0; i < r.search.len; i++)
			strbuf_addf(out, " %s", r.search.v[i]);
		strbuf_addch(out, '\n');
	}
	for (size_t i = 0; i < r.ns.len; i++)
		strbuf_addf(out, "nameserver %s\n", r.ns.v[i]);
	if (r.options.len) {
		strbuf_addstr(out, "options");
		for (size_t i = 0; i < r.options.len; i++)
			strbuf_addf(out, " %s", r.options.v[i]);
		strbuf_addch(out, '\n');
	}
	resolv_release(&r);
	return 0;
fail:
	resolv_release(&r);
	return -1;
}

int ctr_write_etc_files(int userdata_dirfd, const struct ctr_config *c, const char *host_resolv, struct skiff_err **err)
{
	cleanup_free char *hostname = NULL;
	cleanup_strbuf struct strbuf hosts = STRBUF_INIT;
	cleanup_strbuf struct strbuf resolv = STRBUF_INIT;
	cleanup_strbuf struct strbuf hn = STRBUF_INIT;

	if (ctr_hostname(c, &hostname, err) < 0)
		return -1;
	if (!word_ok(hostname))
		return ctr_err(err, EINVAL, "invalid host name \"%.256s\"", hostname);
	if (build_hosts(c, hostname, &hosts, err) < 0 || build_resolv(c, host_resolv, &resolv, err) < 0)
		return -1;
	strbuf_addf(&hn, "%s\n", hostname);
	if (write_file_replace(userdata_dirfd, "hosts", hosts.buf, hosts.len, 0644, err) < 0 ||
	    write_file_replace(userdata_dirfd, "resolv.conf", resolv.buf, resolv.len, 0644, err) < 0 ||
	    write_file_replace(userdata_dirfd, "hostname", hn.buf, hn.len, 0644, err) < 0 ||
	    write_file_replace(userdata_dirfd, ".containerenv", "", 0, 0644, err) < 0)
		return err_wrap(err, "write /etc files of the container");
	return 0;
}

int ctr_lookup_container_user(struct engine *e, const struct ctr *c, const char *user, int rootfd,
			      struct ctr_exec_user *ret, struct skiff_err **err)
{
	const char *spec = user && *user ? user : NULL;
	struct spec_image_config *ic = NULL;
	if (!spec && c->row.image_id && *c->row.image_id) {
		cleanup_free char *buf = NULL;
		size_t len = 0;
		char dig[80];
		snprintf(dig, sizeof(dig), "sha256:%s", c->row.image_id);
		cleanup_err struct skiff_err *e2 = NULL;
		/* an image removed since (rmi -f) leaves the user unknown: root, as podman */
		if (store_image_config(e->store, c->row.image_id, &buf, &len, &e2) == 0 &&
		    spec_image_config_parse_known(buf, len, dig, &ic, &e2) == 0 && ic->config.user && *ic->config.user)
			spec = ic->config.user;
	}
	int rc = ctr_lookup_exec_user(rootfd, spec ? spec : "", ret, err);
	if (ic)
		spec_image_config_free(ic);
	return rc;
}
