/* `stats`: a container's resource counters from its cgroup and /proc (see stats.h). */
#include "pkg/engine/stats.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#define STATS_FILE_MAX (4u << 20) /* kernel files are small; anything bigger is not one */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* Strict unsigned decimal at *p: advances *p. EINVAL/ERANGE via the return (errno value). */
static int take_u64(const char **p, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	if (!isdigit((unsigned char)*s))
		return EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return ERANGE;
		v = v * 10 + d;
	}
	*p = s;
	*ret = v;
	return 0;
}

/* A signed decimal from /proc/PID/stat (%ld fields): negative counts as 0. */
static int take_i64_clamped(const char **p, uint64_t *ret)
{
	bool neg = **p == '-';
	if (neg)
		(*p)++;
	uint64_t v;
	int r = take_u64(p, &v);
	if (r)
		return r;
	*ret = neg ? 0 : v;
	return 0;
}

static bool only_space(const char *s, const char *end)
{
	for (; end ? s < end : *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

int stats_parse_u64(const char *text, const char *what, uint64_t *ret, struct skiff_err **err)
{
	const char *p = text;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!strncmp(p, "max", 3) && only_space(p + 3, NULL)) {
		*ret = UINT64_MAX;
		return 0;
	}
	uint64_t v;
	int r = take_u64(&p, &v);
	if (r || !only_space(p, NULL))
		return err_makex(err, r == ERANGE ? ERANGE : EINVAL, "%s: %s: \"%.32s\"", what,
				 r == ERANGE ? "number out of range" : "not a number", text);
	*ret = v;
	return 0;
}

/* The line after the one at l (NULL at the end). */
static const char *next_line(const char *l)
{
	const char *nl = strchr(l, '\n');
	return nl ? nl + 1 : NULL;
}

int stats_parse_key(const char *text, const char *key, const char *what, uint64_t *ret, struct skiff_err **err)
{
	size_t kl = strlen(key);
	for (const char *l = text; l && *l; l = next_line(l)) {
		if (strncmp(l, key, kl) || (l[kl] != ' ' && l[kl] != ':' && l[kl] != '\t'))
			continue;
		const char *p = l + kl;
		if (*p == ':')
			p++;
		while (*p == ' ' || *p == '\t')
			p++;
		uint64_t v;
		int r = take_u64(&p, &v);
		const char *eol = strchr(p, '\n');
		if (r || !only_space(p, eol ? eol : p + strlen(p)))
			return err_makex(err, r == ERANGE ? ERANGE : EINVAL, "%s: %s: bad value", what, key);
		*ret = v;
		return 0;
	}
	return err_makex(err, ENOENT, "%s: no %s", what, key);
}

/* Split a copy of the line at l into whitespace-separated fields. */
static size_t line_fields(const char *l, char **copy, char *f[], size_t max)
{
	const char *eol = strchr(l, '\n');
	*copy = xstrndup(l, eol ? (size_t)(eol - l) : strlen(l));
	size_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(*copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return max + 1;
		f[n++] = t;
	}
	return n;
}

int stats_parse_blkio_v1(const char *text, const char *what, uint64_t *ret_read, uint64_t *ret_write,
			 struct skiff_err **err)
{
	uint64_t rd = 0, wr = 0;
	size_t lineno = 0;
	for (const char *l = text; l && *l; l = next_line(l)) {
		lineno++;
		cleanup_free char *copy = NULL;
		char *f[4];
		size_t n = line_fields(l, &copy, f, 3);
		if (n == 0)
			continue;
		if (n == 2 && !strcmp(f[0], "Total"))
			continue;
		if (n != 3 || !strchr(f[0], ':'))
			return err_makex(err, EINVAL, "%s: line %zu: expected \"MAJ:MIN OP BYTES\"", what, lineno);
		const char *p = f[2];
		uint64_t v;
		if (take_u64(&p, &v) || *p)
			return err_makex(err, EINVAL, "%s: line %zu: bad byte count", what, lineno);
		if (!strcasecmp(f[1], "Read"))
			rd = sat_add(rd, v);
		else if (!strcasecmp(f[1], "Write"))
			wr = sat_add(wr, v);
	}
	*ret_read = rd;
	*ret_write = wr;
	return 0;
}

int stats_parse_io_v2(const char *text, const char *what, uint64_t *ret_read, uint64_t *ret_write,
		      struct skiff_err **err)
{
	uint64_t rd = 0, wr = 0;
	size_t lineno = 0;
	for (const char *l = text; l && *l; l = next_line(l)) {
		lineno++;
		cleanup_free char *copy = NULL;
		char *f[16];
		size_t n = line_fields(l, &copy, f, 15);
		if (n == 0)
			continue;
		if (n > 15 || !strchr(f[0], ':'))
			return err_makex(err, EINVAL, "%s: line %zu: expected \"MAJ:MIN KEY=VALUE...\"", what, lineno);
		for (size_t i = 1; i < n; i++) {
			char *eq = strchr(f[i], '=');
			if (!eq)
				return err_makex(err, EINVAL, "%s: line %zu: \"%s\" is not KEY=VALUE", what, lineno,
						 f[i]);
			*eq = 0;
			bool r = !strcmp(f[i], "rbytes"), w = !strcmp(f[i], "wbytes");
			if (!r && !w)
				continue;
			const char *p = eq + 1;
			uint64_t v;
			if (take_u64(&p, &v) || *p)
				return err_makex(err, EINVAL, "%s: line %zu: bad %s", what, lineno, f[i]);
			if (r)
				rd = sat_add(rd, v);
			else
				wr = sat_add(wr, v);
		}
	}
	*ret_read = rd;
	*ret_write = wr;
	return 0;
}

int stats_parse_net_dev(const char *text, const char *what, uint64_t *ret_rx, uint64_t *ret_tx, struct skiff_err **err)
{
	const char *l = next_line(text);
	l = l ? next_line(l) : NULL;
	if (!l || !strchr(text, '|'))
		return err_makex(err, EINVAL, "%s: not a net/dev table (no header)", what);
	uint64_t rx = 0, tx = 0;
	size_t lineno = 2;
	for (; l && *l; l = next_line(l)) {
		lineno++;
		const char *eol = strchr(l, '\n');
		if (only_space(l, eol ? eol : l + strlen(l)))
			continue;
		const char *colon = strchr(l, ':');
		if (!colon || (eol && colon > eol))
			return err_makex(err, EINVAL, "%s: line %zu: no interface name", what, lineno);
		const char *name = l;
		while (*name == ' ')
			name++;
		size_t nl = (size_t)(colon - name);
		cleanup_free char *copy = NULL;
		char *f[18];
		size_t n = line_fields(colon + 1, &copy, f, 17);
		if (n < 9 || n > 17)
			return err_makex(err, EINVAL, "%s: line %zu: expected 16 counters", what, lineno);
		uint64_t v[2];
		for (int k = 0; k < 2; k++) {
			const char *p = f[k * 8];
			if (take_u64(&p, &v[k]) || *p)
				return err_makex(err, EINVAL, "%s: line %zu: bad byte count", what, lineno);
		}
		if (nl == 2 && !strncmp(name, "lo", 2))
			continue;
		rx = sat_add(rx, v[0]);
		tx = sat_add(tx, v[1]);
	}
	*ret_rx = rx;
	*ret_tx = tx;
	return 0;
}

int stats_parse_proc_stat(const char *text, const char *what, struct stats_proc_stat *ret, struct skiff_err **err)
{
	struct stats_proc_stat s = {0};
	const char *p = text;
	uint64_t pid;
	if (take_u64(&p, &pid) || pid > INT32_MAX || strncmp(p, " (", 2))
		return err_makex(err, EINVAL, "%s: expected \"PID (COMM) ...\"", what);
	const char *rp = strrchr(p, ')');
	if (!rp || rp[1] != ' ')
		return err_makex(err, EINVAL, "%s: no end of the command name", what);
	s.pid = (int)pid;
	p = rp + 2;
	/* field 3 is the state letter; then numbers: 4 ppid ... 14 utime 15 stime 16 cutime
	 * 17 cstime ... 20 num_threads ... 24 rss */
	if (!*p || p[1] != ' ')
		return err_makex(err, EINVAL, "%s: bad state field", what);
	p += 2;
	for (int idx = 4; idx <= 24; idx++) {
		uint64_t v;
		if (take_i64_clamped(&p, &v))
			return err_makex(err, EINVAL, "%s: field %d: not a number", what, idx);
		if (idx < 24 && *p != ' ')
			return err_makex(err, EINVAL, "%s: field %d: expected more fields", what, idx);
		if (idx == 24 && *p && *p != ' ' && *p != '\n')
			return err_makex(err, EINVAL, "%s: field %d: not a number", what, idx);
		p++;
		switch (idx) {
		case 4:
			if (v > INT32_MAX)
				return err_makex(err, EINVAL, "%s: field 4: bad parent pid", what);
			s.ppid = (int)v;
			break;
		case 14:
			s.utime = v;
			break;
		case 15:
			s.stime = v;
			break;
		case 16:
			s.cutime = v;
			break;
		case 17:
			s.cstime = v;
			break;
		case 20:
			s.threads = v;
			break;
		case 24:
			s.rss_pages = v;
			break;
		default:
			break;
		}
	}
	*ret = s;
	return 0;
}

int stats_cgroup_path(const char *proc_cgroup, const char *id, const char *controller, char **ret,
		      struct skiff_err **err)
{
	if (!id || strlen(id) < 12 || strchr(id, '/'))
		return err_makex(err, EINVAL, "cgroup of container \"%s\": not a container ID", id ? id : "");
	size_t lineno = 0;
	for (const char *l = proc_cgroup; l && *l; l = next_line(l)) {
		lineno++;
		const char *eol = strchr(l, '\n');
		size_t len = eol ? (size_t)(eol - l) : strlen(l);
		if (!len)
			continue;
		cleanup_free char *line = xstrndup(l, len);
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			return err_makex(err, EINVAL, "/proc/PID/cgroup: line %zu: expected \"ID:CONTROLLERS:PATH\"",
					 lineno);
		*c1 = *c2 = 0;
		const char *ctrls = c1 + 1, *path = c2 + 1;
		bool match = false;
		if (!controller) {
			match = !strcmp(line, "0") && !*ctrls;
		} else {
			struct strv v = STRV_INIT;
			strv_split(&v, ctrls, ',');
			match = strv_contains(&v, controller);
			strv_release(&v);
		}
		if (!match)
			continue;
		if (*path != '/')
			return err_makex(err, EINVAL, "/proc/PID/cgroup: line %zu: path \"%s\" is not absolute", lineno,
					 path);
		/* the first component that names the container ends its cgroup */
		for (const char *c = path + 1; *c;) {
			const char *slash = strchr(c, '/');
			size_t cl = slash ? (size_t)(slash - c) : strlen(c);
			if ((cl == 1 && c[0] == '.') || (cl == 2 && !strncmp(c, "..", 2)))
				return err_makex(err, EINVAL, "/proc/PID/cgroup: line %zu: \"..\" in path \"%s\"",
						 lineno, path);
			cleanup_free char *comp = xstrndup(c, cl);
			if (strstr(comp, id)) {
				*ret = xstrndup(path, (size_t)(c + cl - path));
				return 0;
			}
			c = slash ? slash + 1 : c + cl;
		}
		return err_makex(err, ENOENT, "cgroup %s of %s is not the container's", path,
				 controller ? controller : "v2");
	}
	return err_makex(err, ENOENT, "no %s cgroup", controller ? controller : "v2");
}

/* ---- sampling ---- */

/* Read dir/name; 1 with *ret set, 0 when it cannot be read (missing, no access), -1 on
 * other errors. */
static int read_opt(const char *dir, const char *name, char **ret, struct skiff_err **err)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, name);
	struct skiff_err *e = NULL;
	if (read_file_at(AT_FDCWD, path, STATS_FILE_MAX, ret, NULL, &e) == 0)
		return 1;
	int st = err_status(e);
	if (st == ENOENT || st == EACCES || st == EPERM || st == ENODEV || st == ENOTDIR || st == ESRCH) {
		err_free(e);
		return 0;
	}
	*err = e;
	return -1;
}

static int read_u64_opt(const char *dir, const char *name, bool *ok, uint64_t *ret, struct skiff_err **err)
{
	cleanup_free char *text = NULL;
	int r = read_opt(dir, name, &text, err);
	*ok = r > 0;
	if (r <= 0)
		return r;
	cleanup_free char *what = xasprintf("%s/%s", dir, name);
	return stats_parse_u64(text, what, ret, err);
}

static int read_key_opt(const char *dir, const char *name, const char *key, bool *ok, uint64_t *ret,
			struct skiff_err **err)
{
	cleanup_free char *text = NULL;
	int r = read_opt(dir, name, &text, err);
	*ok = false;
	if (r <= 0)
		return r;
	cleanup_free char *what = xasprintf("%s/%s", dir, name);
	struct skiff_err *e = NULL;
	if (stats_parse_key(text, key, what, ret, &e) < 0) {
		if (err_status(e) == ENOENT) {
			err_free(e);
			return 0;
		}
		*err = e;
		return -1;
	}
	*ok = true;
	return 0;
}

/* The container's directory in the hierarchy of controller (NULL: v2), or NULL. */
static char *cgroup_dir(const struct stats_env *env, const char *cgtext, const char *id, const char *controller)
{
	cleanup_free char *path = NULL;
	struct skiff_err *e = NULL;
	if (stats_cgroup_path(cgtext, id, controller, &path, &e) < 0) {
		err_free(e);
		return NULL;
	}
	struct stat st;
	if (!controller) {
		cleanup_free char *probe = xasprintf("%s/cgroup.controllers", env->cgroup);
		char *d = access(probe, F_OK) == 0 ? xasprintf("%s%s", env->cgroup, path)
						   : xasprintf("%s/unified%s", env->cgroup, path);
		if (stat(d, &st) == 0 && S_ISDIR(st.st_mode))
			return d;
		free(d);
		return NULL;
	}
	char *d = xasprintf("%s/%s%s", env->cgroup, controller, path);
	if (stat(d, &st) == 0 && S_ISDIR(st.st_mode))
		return d;
	free(d);
	return NULL;
}

static int sample_v2(const char *dir, struct stats_sample *s, struct skiff_err **err)
{
	bool ok;
	uint64_t v, w;
	if (read_key_opt(dir, "cpu.stat", "usage_usec", &ok, &v, err) < 0)
		return -1;
	if (ok) {
		s->cpu_ns = sat_mul(v, 1000);
		s->have |= STATS_CPU;
	}
	if (read_u64_opt(dir, "memory.current", &ok, &v, err) < 0)
		return -1;
	if (ok) {
		bool iok;
		uint64_t inactive = 0;
		if (read_key_opt(dir, "memory.stat", "inactive_file", &iok, &inactive, err) < 0)
			return -1;
		s->mem_usage = iok && inactive < v ? v - inactive : (iok ? 0 : v);
		s->have |= STATS_MEM;
		if (read_u64_opt(dir, "memory.max", &ok, &w, err) < 0)
			return -1;
		if (ok) {
			s->mem_limit = w == UINT64_MAX ? 0 : w;
			s->have |= STATS_MEM_LIMIT;
		}
	}
	if (read_u64_opt(dir, "pids.current", &ok, &v, err) < 0)
		return -1;
	if (ok) {
		s->pids = v;
		s->have |= STATS_PIDS;
	}
	cleanup_free char *io = NULL;
	int r = read_opt(dir, "io.stat", &io, err);
	if (r < 0)
		return -1;
	if (r > 0) {
		cleanup_free char *what = xasprintf("%s/io.stat", dir);
		if (stats_parse_io_v2(io, what, &s->blk_read, &s->blk_write, err) < 0)
			return -1;
		s->have |= STATS_BLOCK;
	}
	return 0;
}

static int sample_v1(const struct stats_env *env, const char *cgtext, const char *id, struct stats_sample *s,
		     struct skiff_err **err)
{
	bool ok;
	uint64_t v, w;
	if (!(s->have & STATS_CPU)) {
		cleanup_free char *d = cgroup_dir(env, cgtext, id, "cpuacct");
		if (d && read_u64_opt(d, "cpuacct.usage", &ok, &v, err) < 0)
			return -1;
		if (d && ok) {
			s->cpu_ns = v;
			s->have |= STATS_CPU;
		}
	}
	if (!(s->have & STATS_MEM)) {
		cleanup_free char *d = cgroup_dir(env, cgtext, id, "memory");
		if (d && read_u64_opt(d, "memory.usage_in_bytes", &ok, &v, err) < 0)
			return -1;
		if (d && ok) {
			bool iok;
			uint64_t inactive = 0;
			if (read_key_opt(d, "memory.stat", "total_inactive_file", &iok, &inactive, err) < 0)
				return -1;
			s->mem_usage = iok && inactive < v ? v - inactive : (iok ? 0 : v);
			s->have |= STATS_MEM;
			if (read_u64_opt(d, "memory.limit_in_bytes", &ok, &w, err) < 0)
				return -1;
			if (ok) {
				/* "unlimited" is a page-rounded INT64_MAX */
				s->mem_limit = w >= (UINT64_C(1) << 62) ? 0 : w;
				s->have |= STATS_MEM_LIMIT;
			}
		}
	}
	if (!(s->have & STATS_PIDS)) {
		cleanup_free char *d = cgroup_dir(env, cgtext, id, "pids");
		if (d && read_u64_opt(d, "pids.current", &ok, &v, err) < 0)
			return -1;
		if (d && ok) {
			s->pids = v;
			s->have |= STATS_PIDS;
		}
	}
	if (!(s->have & STATS_BLOCK)) {
		cleanup_free char *d = cgroup_dir(env, cgtext, id, "blkio");
		static const char *const files[] = {"blkio.throttle.io_service_bytes_recursive",
						    "blkio.io_service_bytes_recursive"};
		for (size_t i = 0; d && i < ARRAY_SIZE(files) && !(s->have & STATS_BLOCK); i++) {
			cleanup_free char *text = NULL;
			int r = read_opt(d, files[i], &text, err);
			if (r < 0)
				return -1;
			if (r == 0)
				continue;
			cleanup_free char *what = xasprintf("%s/%s", d, files[i]);
			if (stats_parse_blkio_v1(text, what, &s->blk_read, &s->blk_write, err) < 0)
				return -1;
			s->have |= STATS_BLOCK;
		}
	}
	return 0;
}

struct proc_ent {
	struct stats_proc_stat st;
	bool in;
};

/* The pid namespace of proc/<name> as dev:ino (stat follows the ns link). */
static bool pidns_of(const struct stats_env *env, const char *name, struct stat *ret)
{
	cleanup_free char *p = xasprintf("%s/%s/ns/pid", env->proc, name);
	return stat(p, ret) == 0;
}

/* CPU, memory, PIDs and block I/O that no cgroup gave, summed over the container's
 * processes: those in its pid namespace, or the descendants of pid when it shares ours. */
static int sample_proc(const struct stats_env *env, int pid, unsigned want, struct stats_sample *s,
		       struct skiff_err **err)
{
	char name[32];
	struct stat init_ns, self_ns;
	snprintf(name, sizeof(name), "%d", pid);
	if (!pidns_of(env, name, &init_ns))
		return err_make(err, errno == ENOENT ? ESRCH : errno, "%s/%d/ns/pid", env->proc, pid);
	bool by_ns = !pidns_of(env, "self", &self_ns) || self_ns.st_ino != init_ns.st_ino ||
		     self_ns.st_dev != init_ns.st_dev;

	cleanup_dir DIR *d = opendir(env->proc);
	if (!d)
		return err_make(err, errno, "open %s", env->proc);
	struct proc_ent *v = NULL;
	size_t n = 0, alloc = 0;
	int rc = 0;
	errno = 0;
	for (struct dirent *de; (de = readdir(d)); errno = 0) {
		const char *q = de->d_name;
		uint64_t num;
		if (take_u64(&q, &num) || *q || num == 0 || num > INT32_MAX)
			continue;
		if (by_ns) {
			struct stat st;
			if (!pidns_of(env, de->d_name, &st) || st.st_ino != init_ns.st_ino ||
			    st.st_dev != init_ns.st_dev)
				continue;
		}
		cleanup_free char *path = xasprintf("%s/%s/stat", env->proc, de->d_name);
		cleanup_free char *text = NULL;
		struct skiff_err *e = NULL;
		if (read_file_at(AT_FDCWD, path, STATS_FILE_MAX, &text, NULL, &e) < 0) {
			err_free(e); /* gone meanwhile */
			continue;
		}
		ALLOC_GROW(v, n + 1, alloc);
		memset(&v[n], 0, sizeof(v[n]));
		if (stats_parse_proc_stat(text, path, &v[n].st, err) < 0) {
			rc = -1;
			goto out;
		}
		v[n].in = by_ns || v[n].st.pid == pid;
		n++;
	}
	if (errno) {
		rc = err_make(err, errno, "read %s", env->proc);
		goto out;
	}
	if (!by_ns) {
		/* descendants of pid: mark children of marked processes until nothing changes */
		for (bool changed = true; changed;) {
			changed = false;
			for (size_t i = 0; i < n; i++) {
				if (v[i].in)
					continue;
				for (size_t k = 0; k < n; k++)
					if (v[k].in && v[k].st.pid == v[i].st.ppid) {
						v[i].in = changed = true;
						break;
					}
			}
		}
	}
	uint64_t ticks = 0, pages = 0, threads = 0, rd = 0, wr = 0, found = 0;
	bool io_ok = true;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].in)
			continue;
		found++;
		const struct stats_proc_stat *p = &v[i].st;
		ticks = sat_add(ticks, sat_add(sat_add(p->utime, p->stime), sat_add(p->cutime, p->cstime)));
		pages = sat_add(pages, p->rss_pages);
		threads = sat_add(threads, p->threads ? p->threads : 1);
		if (!(want & STATS_BLOCK) || !io_ok)
			continue;
		cleanup_free char *dir = xasprintf("%s/%d", env->proc, p->pid);
		cleanup_free char *io = NULL;
		int r = read_opt(dir, "io", &io, err);
		if (r < 0) {
			rc = -1;
			goto out;
		}
		if (r == 0) {
			cleanup_free char *st = xasprintf("%s/stat", dir);
			io_ok = access(st, F_OK) != 0; /* gone is fine; unreadable makes it unknown */
			continue;
		}
		uint64_t a, b;
		if (stats_parse_key(io, "read_bytes", dir, &a, err) < 0 ||
		    stats_parse_key(io, "write_bytes", dir, &b, err) < 0) {
			rc = err_wrap(err, "io");
			goto out;
		}
		rd = sat_add(rd, a);
		wr = sat_add(wr, b);
	}
	if (!found) {
		rc = err_makex(err, ESRCH, "process %d is gone", pid);
		goto out;
	}
	uint64_t tck = env->clk_tck ? env->clk_tck : (uint64_t)sysconf(_SC_CLK_TCK);
	uint64_t page = env->page_size ? env->page_size : (uint64_t)sysconf(_SC_PAGESIZE);
	if (!tck)
		tck = 100;
	if (want & STATS_CPU) {
		s->cpu_ns = sat_add(sat_mul(ticks / tck, 1000000000), (ticks % tck) * 1000000000 / tck);
		s->have |= STATS_CPU;
	}
	if (want & STATS_MEM) {
		s->mem_usage = sat_mul(pages, page);
		s->have |= STATS_MEM;
	}
	if (want & STATS_PIDS) {
		s->pids = threads;
		s->have |= STATS_PIDS;
	}
	if ((want & STATS_BLOCK) && io_ok) {
		s->blk_read = rd;
		s->blk_write = wr;
		s->have |= STATS_BLOCK;
	}
out:
	free(v);
	return rc;
}

int stats_sample_pid(const struct stats_env *env, int pid, const char *id, struct stats_sample *ret,
		     struct skiff_err **err)
{
	struct stats_sample s = {.running = true};
	cleanup_free char *cgpath = xasprintf("%s/%d/cgroup", env->proc, pid);
	cleanup_free char *cgtext = NULL;
	struct skiff_err *e = NULL;
	if (pid <= 0)
		return err_makex(err, ESRCH, "no process (pid %d)", pid);
	if (read_file_at(AT_FDCWD, cgpath, STATS_FILE_MAX, &cgtext, NULL, &e) < 0) {
		int st = err_status(e);
		err_free(e);
		if (st == ENOENT || st == ESRCH)
			return err_makex(err, ESRCH, "process %d is gone", pid);
		return err_make(err, st, "read %s", cgpath);
	}
	cleanup_free char *v2 = cgroup_dir(env, cgtext, id, NULL);
	if (v2 && sample_v2(v2, &s, err) < 0)
		return -1;
	if (s.have)
		s.cgroup_version = 2;
	unsigned before = s.have;
	if (sample_v1(env, cgtext, id, &s, err) < 0)
		return -1;
	if (s.have != before && !s.cgroup_version)
		s.cgroup_version = 1;
	s.from_cgroup = s.have;

	cleanup_free char *netdir = xasprintf("%s/%d/net", env->proc, pid);
	cleanup_free char *net = NULL;
	int r = read_opt(netdir, "dev", &net, err);
	if (r < 0)
		return -1;
	if (r > 0) {
		cleanup_free char *what = xasprintf("%s/dev", netdir);
		if (stats_parse_net_dev(net, what, &s.net_rx, &s.net_tx, err) < 0)
			return -1;
		s.have |= STATS_NET;
	}
	unsigned want = (STATS_CPU | STATS_MEM | STATS_PIDS | STATS_BLOCK) & ~s.have;
	if (want && sample_proc(env, pid, want, &s, err) < 0)
		return -1;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	s.when_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	*ret = s;
	return 0;
}

int ctr_stats_sample(struct engine *e, const struct ctr *c, struct stats_sample *ret, struct skiff_err **err)
{
	(void)e;
	struct stats_sample s = {0};
	const char *state = ctr_state_name(c);
	if ((!strcmp(state, "running") || !strcmp(state, "paused")) && c->row.pid > 0) {
		static const struct stats_env env = {.proc = "/proc", .cgroup = "/sys/fs/cgroup"};
		struct skiff_err *e2 = NULL;
		if (stats_sample_pid(&env, c->row.pid, c->row.id, &s, &e2) < 0) {
			if (err_status(e2) != ESRCH) {
				*err = e2;
				return err_wrap(err, "stats of container %s", c->row.name);
			}
			err_free(e2); /* it exited meanwhile: a stopped container's zeros */
			memset(&s, 0, sizeof(s));
		}
	}
	if (!s.running) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		s.when_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	}
	s.started_ns = c->row.started_at;
	*ret = s;
	return 0;
}

uint64_t stats_host_ram(void)
{
	struct sysinfo si;
	if (sysinfo(&si) < 0)
		return 0;
	return sat_mul((uint64_t)si.totalram, si.mem_unit ? si.mem_unit : 1);
}

static double pct(uint64_t part, int64_t whole)
{
	return whole > 0 ? (double)part / (double)whole * 100.0 : 0.0;
}

void stats_compute(const struct stats_sample *prev, const struct stats_sample *cur, uint64_t host_ram,
		   struct stats_view *ret)
{
	struct stats_view v = {.cpu_percent = -1, .avg_cpu_percent = -1, .mem_percent = -1, .mem_limit = 0};
	if (!cur->running) {
		v.cpu_percent = v.avg_cpu_percent = v.mem_percent = 0;
		*ret = v;
		return;
	}
	if (cur->have & STATS_CPU) {
		v.avg_cpu_percent = pct(cur->cpu_ns, cur->when_ns - cur->started_ns);
		v.cpu_percent = v.avg_cpu_percent;
		if (prev && prev->running && (prev->have & STATS_CPU) && prev->started_ns == cur->started_ns &&
		    prev->cpu_ns <= cur->cpu_ns && prev->when_ns < cur->when_ns)
			v.cpu_percent = pct(cur->cpu_ns - prev->cpu_ns, cur->when_ns - prev->when_ns);
	}
	if (cur->have & STATS_MEM_LIMIT) {
		if (!host_ram)
			host_ram = stats_host_ram();
		v.mem_limit = cur->mem_limit;
		if (host_ram && (!v.mem_limit || v.mem_limit > host_ram))
			v.mem_limit = host_ram;
		if ((cur->have & STATS_MEM) && v.mem_limit)
			v.mem_percent = (double)cur->mem_usage / (double)v.mem_limit * 100.0;
	}
	*ret = v;
}

/* Go's fmtFrac: "." and the digits of v (prec of them), trailing zeros dropped. */
static void add_frac(struct strbuf *sb, uint64_t v, int prec)
{
	char d[16];
	snprintf(d, sizeof(d), "%0*" PRIu64, prec, v);
	size_t n = strlen(d);
	while (n && d[n - 1] == '0')
		n--;
	if (n) {
		strbuf_addch(sb, '.');
		strbuf_add(sb, d, n);
	}
}

void stats_go_duration(uint64_t ns, char *buf, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	if (ns == 0) {
		strbuf_addstr(&sb, "0s");
	} else if (ns < 1000) {
		strbuf_addf(&sb, "%" PRIu64 "ns", ns);
	} else if (ns < 1000000) {
		strbuf_addf(&sb, "%" PRIu64, ns / 1000);
		add_frac(&sb, ns % 1000, 3);
		strbuf_addstr(&sb, "\xc2\xb5s");
	} else if (ns < 1000000000) {
		strbuf_addf(&sb, "%" PRIu64, ns / 1000000);
		add_frac(&sb, ns % 1000000, 6);
		strbuf_addstr(&sb, "ms");
	} else {
		uint64_t s = ns / 1000000000, h = s / 3600, m = s / 60 % 60;
		if (h)
			strbuf_addf(&sb, "%" PRIu64 "h", h);
		if (h || m)
			strbuf_addf(&sb, "%" PRIu64 "m", m);
		strbuf_addf(&sb, "%" PRIu64, s % 60);
		add_frac(&sb, ns % 1000000000, 9);
		strbuf_addch(&sb, 's');
	}
	snprintf(buf, n, "%s", sb.buf);
	strbuf_release(&sb);
}
