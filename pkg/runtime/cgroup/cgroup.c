/*
 * cgroup managers: layout detection (mountinfo, /proc/self/cgroup), cgroupsPath
 * normalisation, resource checks and conversions, the file helpers the backends share,
 * serialisation, and dispatch to the backend table (v1.c, v2.c, disabled.c).
 */
#include "pkg/runtime/cgroup/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#define CG_MAX_FILE (64u << 20) /* cgroup.procs of a huge cgroup stays far below */
#define CG_MAX_PATH 4096
#define CG_MAX_DEPTH 64
#define CG_DEFAULT_TIMEOUT_MS 2000

/* ---- small helpers ---- */

/* A copy of s fit for a one-line message: control characters become '?', long text is cut. */
static char *cg_quote(const char *s)
{
	size_t n = strnlen(s, 200);
	char *q = xstrndup(s, n);
	for (char *p = q; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return q;
}

static bool has_control_char(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Does the path have a ".." component? */
static bool has_dotdot(const char *p)
{
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchrnul(p, '/');
		if (e - p == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p = e;
	}
	return false;
}

/* Is the word in a list separated by sep? */
static bool word_in(const char *list, const char *word, char sep)
{
	size_t wl = strlen(word);
	if (!list || !wl)
		return false;
	for (const char *p = list; *p;) {
		const char *e = strchr(p, sep);
		size_t n = e ? (size_t)(e - p) : strlen(p);
		/* cgroup.controllers ends with a newline */
		while (n && (p[n - 1] == '\n' || p[n - 1] == ' '))
			n--;
		if (n == wl && !memcmp(p, word, wl))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

bool cg_controllers_has(const char *list, const char *name)
{
	return word_in(list, name, ',');
}

bool cg_controllers_equal(const char *a, const char *b)
{
	cleanup_strv struct strv sa = STRV_INIT, sb = STRV_INIT;
	strv_split(&sa, a, ',');
	strv_split(&sb, b, ',');
	if (sa.len != sb.len)
		return false;
	for (size_t i = 0; i < sa.len; i++)
		if (!strv_contains(&sb, sa.v[i]))
			return false;
	return true;
}

/* ---- mountinfo ---- */

void cg_layout_release(struct cg_layout *l)
{
	for (size_t i = 0; i < l->len; i++) {
		free(l->v[i].mountpoint);
		free(l->v[i].root);
		free(l->v[i].controllers);
	}
	free(l->v);
	l->v = NULL;
	l->len = l->alloc = 0;
}

/* Undo mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
static char *mi_unescape(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
		    p[3] <= '7') {
			char c = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			if (c)
				strbuf_addch(&sb, c);
			p += 3;
		} else {
			strbuf_addch(&sb, *p);
		}
	}
	return strbuf_detach(&sb, NULL);
}

/* Is path equal to or below dir? */
static bool path_at_or_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return true;
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/* The controllers of a v1 mount from its super options; "" when there are none. */
static char *mi_v1_controllers(const char *superopts)
{
	static const char *const not_controllers[] = {
		"rw", "ro", "xattr", "noprefix", "clone_children", "none", "cpuset_v2_mode", "favordynmods",
	};
	cleanup_strv struct strv opts = STRV_INIT;
	struct strbuf sb = STRBUF_INIT;

	strv_split(&opts, superopts, ',');
	for (size_t i = 0; i < opts.len; i++) {
		const char *o = opts.v[i];
		bool skip = !*o || !strncmp(o, "release_agent=", 14);
		for (size_t k = 0; !skip && k < ARRAY_SIZE(not_controllers); k++)
			skip = !strcmp(o, not_controllers[k]);
		if (skip)
			continue;
		if (sb.len)
			strbuf_addch(&sb, ',');
		strbuf_addstr(&sb, o);
	}
	return strbuf_detach(&sb, NULL);
}

static void layout_remove(struct cg_layout *l, size_t i)
{
	free(l->v[i].mountpoint);
	free(l->v[i].root);
	free(l->v[i].controllers);
	memmove(&l->v[i], &l->v[i + 1], (l->len - i - 1) * sizeof(l->v[0]));
	l->len--;
}

static int mi_line(char *line, size_t lineno, struct cg_layout *out, struct skiff_err **err)
{
	cleanup_strv struct strv f = STRV_INIT;
	size_t sep = 0;

	strv_split(&f, line, ' ');
	for (size_t i = 6; i < f.len; i++) {
		if (!strcmp(f.v[i], "-")) {
			sep = i;
			break;
		}
	}
	if (sep == 0)
		return err_makex(err, EINVAL,
				 "mountinfo line %zu: expected \"ID PARENT DEV ROOT MOUNTPOINT OPTIONS ... - "
				 "FSTYPE SOURCE SUPEROPTIONS\"",
				 lineno);
	if (sep + 3 >= f.len)
		return err_makex(err, EINVAL, "mountinfo line %zu: fields missing after \"-\"", lineno);

	cleanup_free char *mp = mi_unescape(f.v[4]);
	if (mp[0] != '/')
		return err_makex(err, EINVAL, "mountinfo line %zu: mount point is not absolute", lineno);

	/* A mount on or above an earlier cgroup mount hides it. */
	for (size_t i = out->len; i-- > 0;)
		if (path_at_or_below(out->v[i].mountpoint, mp))
			layout_remove(out, i);

	const char *fstype = f.v[sep + 1];
	bool v2 = !strcmp(fstype, "cgroup2");
	if (!v2 && strcmp(fstype, "cgroup"))
		return 0;

	cleanup_free char *ctrls = v2 ? xstrdup("") : mi_v1_controllers(f.v[sep + 3]);
	if (!v2 && !*ctrls)
		return 0;
	for (size_t i = 0; i < out->len; i++)
		if (out->v[i].v2 == v2 && (v2 || cg_controllers_equal(out->v[i].controllers, ctrls)))
			return 0; /* the same hierarchy again (a bind mount): first wins */

	cleanup_free char *root = mi_unescape(f.v[3]);
	if (root[0] != '/')
		return err_makex(err, EINVAL, "mountinfo line %zu: mount root is not absolute", lineno);
	ALLOC_GROW(out->v, out->len + 1, out->alloc);
	out->v[out->len++] = (struct cg_mount){
		.mountpoint = TAKE_PTR(mp),
		.root = TAKE_PTR(root),
		.controllers = TAKE_PTR(ctrls),
		.v2 = v2,
	};
	return 0;
}

int cg_parse_mountinfo(const char *text, struct cg_layout *out, struct skiff_err **err)
{
	cleanup_strv struct strv lines = STRV_INIT;

	strv_split(&lines, text ? text : "", '\n');
	for (size_t i = 0; i < lines.len; i++) {
		if (!*lines.v[i])
			continue;
		if (mi_line(lines.v[i], i + 1, out, err) < 0) {
			cg_layout_release(out);
			return -1;
		}
	}
	return 0;
}

static const char *const key_controllers[] = {"cpu", "cpuset", "memory", "pids"};

enum rt_cgroup_mode cg_choose_mode(const struct cg_layout *l, const char *v2_controllers)
{
	bool have_v2 = false, have_v1 = false;
	unsigned v1_score = 0, v2_score = 0;

	for (size_t i = 0; i < l->len; i++) {
		if (l->v[i].v2) {
			have_v2 = true;
			continue;
		}
		/* named hierarchies (name=systemd) hold no controller */
		if (strncmp(l->v[i].controllers, "name=", 5) || strchr(l->v[i].controllers, ','))
			have_v1 = true;
	}
	for (size_t k = 0; k < ARRAY_SIZE(key_controllers); k++) {
		for (size_t i = 0; i < l->len; i++) {
			if (!l->v[i].v2 && cg_controllers_has(l->v[i].controllers, key_controllers[k])) {
				v1_score++;
				break;
			}
		}
		if (have_v2 && word_in(v2_controllers, key_controllers[k], ' '))
			v2_score++;
	}
	if (have_v2 && v2_score >= v1_score)
		return RT_CGROUP_V2;
	if (have_v1)
		return RT_CGROUP_V1;
	return have_v2 ? RT_CGROUP_V2 : RT_CGROUP_DISABLED;
}

/* ---- /proc/self/cgroup ---- */

void cg_self_release(struct cg_self *s)
{
	for (size_t i = 0; i < s->len; i++) {
		free(s->v[i].controllers);
		free(s->v[i].path);
	}
	free(s->v);
	s->v = NULL;
	s->len = s->alloc = 0;
}

int cg_parse_proc_cgroup(const char *text, struct cg_self *out, struct skiff_err **err)
{
	cleanup_strv struct strv lines = STRV_INIT;

	strv_split(&lines, text ? text : "", '\n');
	for (size_t i = 0; i < lines.len; i++) {
		const char *l = lines.v[i];
		if (!*l)
			continue;
		const char *c1 = strchr(l, ':');
		const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		char *end = NULL;
		unsigned long id;

		errno = 0;
		id = c1 && c1 > l && l[0] >= '0' && l[0] <= '9' ? strtoul(l, &end, 10) : 0;
		if (!c2 || end != c1 || errno || id > UINT_MAX || c2[1] != '/') {
			cg_self_release(out);
			return err_makex(err, EINVAL, "/proc/self/cgroup line %zu: expected \"ID:CONTROLLERS:/PATH\"",
					 i + 1);
		}
		ALLOC_GROW(out->v, out->len + 1, out->alloc);
		out->v[out->len++] = (struct cg_self_entry){
			.id = (unsigned)id,
			.controllers = xstrndup(c1 + 1, (size_t)(c2 - c1 - 1)),
			.path = xstrdup(c2 + 1),
		};
	}
	return 0;
}

const char *cg_self_lookup(const struct cg_self *s, const char *controllers, bool v2)
{
	for (size_t i = 0; i < s->len; i++) {
		if (v2 ? (s->v[i].id == 0 && !*s->v[i].controllers)
		       : (*s->v[i].controllers && cg_controllers_equal(s->v[i].controllers, controllers)))
			return s->v[i].path;
	}
	return NULL;
}

/* ---- cgroupsPath ---- */

static bool bad_component(const char *s)
{
	return !strcmp(s, ".") || !strcmp(s, "..");
}

int cg_normalize_path(const char *cgroups_path, const char *id, bool rootless, char **ret, struct skiff_err **err)
{
	if (!cgroups_path || !*cgroups_path) {
		if (!id || !*id)
			return err_makex(err, EINVAL, "cgroup: no container id and no cgroupsPath");
		if (strchr(id, '/') || bad_component(id) || has_control_char(id) || strlen(id) > 1024) {
			cleanup_free char *q = cg_quote(id);
			return err_makex(err, EINVAL, "cgroup: container id \"%s\" cannot name a cgroup", q);
		}
		*ret = xasprintf("/skiff/%s", id);
		return 0;
	}

	cleanup_free char *q = cg_quote(cgroups_path);
	if (strlen(cgroups_path) > CG_MAX_PATH)
		return err_makex(err, EINVAL, "cgroupsPath \"%s...\": longer than %d bytes", q, CG_MAX_PATH);
	if (has_control_char(cgroups_path))
		return err_makex(err, EINVAL, "cgroupsPath \"%s\": control character", q);

	/* systemd form slice:prefix:name */
	const char *c1 = strchr(cgroups_path, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (c2 && !strchr(c2 + 1, ':') && !strchr(cgroups_path, '/')) {
		cleanup_free char *slice = xstrndup(cgroups_path, (size_t)(c1 - cgroups_path));
		cleanup_free char *prefix = xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
		const char *name = c2 + 1;
		if (!*name || bad_component(name) || bad_component(slice) || bad_component(prefix))
			return err_makex(err, EINVAL, "cgroupsPath \"%s\": expected \"slice:prefix:name\"", q);
		*ret = xasprintf("/%s/%s%s%s.scope",
				 *slice	    ? slice
				 : rootless ? "user.slice"
					    : "system.slice",
				 prefix, *prefix ? "-" : "", name);
		return 0;
	}

	if (has_dotdot(cgroups_path))
		return err_makex(err, EINVAL, "cgroupsPath \"%s\": \"..\" is not allowed", q);
	cleanup_strv struct strv parts = STRV_INIT;
	struct strbuf sb = STRBUF_INIT;
	strv_split(&parts, cgroups_path, '/');
	for (size_t i = 0; i < parts.len; i++) {
		if (!*parts.v[i] || !strcmp(parts.v[i], "."))
			continue;
		if (sb.len || cgroups_path[0] == '/')
			strbuf_addch(&sb, '/');
		strbuf_addstr(&sb, parts.v[i]);
	}
	if (!sb.len || !strcmp(sb.buf, "/")) {
		strbuf_release(&sb);
		return err_makex(err, EINVAL, "cgroupsPath \"%s\": names the root cgroup", q);
	}
	*ret = strbuf_detach(&sb, NULL);
	return 0;
}

/* ---- resources ---- */

uint64_t cg_shares_to_weight(uint64_t shares)
{
	if (shares == 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

char *cg_v2_cpu_max(bool has_quota, int64_t quota, bool has_period, uint64_t period, const char *current)
{
	bool q = has_quota && quota != 0, p = has_period && period != 0;

	if (!q && !p)
		return NULL;
	if (q && !p)
		return quota < 0 ? xstrdup("max") : xasprintf("%" PRId64, quota);
	if (q)
		return quota < 0 ? xasprintf("max %" PRIu64, period) : xasprintf("%" PRId64 " %" PRIu64, quota, period);
	/* period alone: keep the present quota */
	size_t n = current ? strcspn(current, " \n") : 0;
	bool numeric = n > 0 && n < 20 && strspn(current, "0123456789") == n;
	if (numeric)
		return xasprintf("%.*s %" PRIu64, (int)n, current, period);
	return xasprintf("max %" PRIu64, period);
}

static void dev_number(struct strbuf *sb, bool has, int64_t v)
{
	if (!has || v < 0)
		strbuf_addch(sb, '*');
	else
		strbuf_addf(sb, "%" PRId64, v);
}

static int check_device_rule(const struct spec_rt_device_rule *r, size_t i, struct skiff_err **err)
{
	if (r->type && (strlen(r->type) != 1 || !strchr("abc", r->type[0]))) {
		cleanup_free char *q = cg_quote(r->type);
		return err_makex(err, EINVAL, "linux.resources.devices[%zu].type \"%s\": expected a, b or c", i, q);
	}
	if ((r->has_major && r->major < -1) || (r->has_minor && r->minor < -1))
		return err_makex(err, EINVAL, "linux.resources.devices[%zu]: negative device number", i);
	if (r->access && (!*r->access || strspn(r->access, "rwm") != strlen(r->access))) {
		cleanup_free char *q = cg_quote(r->access);
		return err_makex(err, EINVAL, "linux.resources.devices[%zu].access \"%s\": expected letters of rwm", i,
				 q);
	}
	return 0;
}

int cg_v1_device_rule(const struct spec_rt_device_rule *r, char **ret, struct skiff_err **err)
{
	struct strbuf sb = STRBUF_INIT;

	if (check_device_rule(r, 0, err) < 0)
		return -1;
	strbuf_addf(&sb, "%c ", r->type ? r->type[0] : 'a');
	dev_number(&sb, r->has_major, r->major);
	strbuf_addch(&sb, ':');
	dev_number(&sb, r->has_minor, r->minor);
	strbuf_addf(&sb, " %s", r->access ? r->access : "rwm");
	*ret = strbuf_detach(&sb, NULL);
	return 0;
}

static int check_cpuset(const char *s, const char *what, struct skiff_err **err)
{
	if (s && strspn(s, "0123456789,-") != strlen(s)) {
		cleanup_free char *q = cg_quote(s);
		return err_makex(err, EINVAL, "linux.resources.cpu.%s \"%s\": expected a list like 0-3,5", what, q);
	}
	return 0;
}

int cg_validate_resources(const struct spec_rt_resources *r, struct skiff_err **err)
{
	if (!r)
		return 0;
	const struct spec_rt_memory *m = r->memory;
	if (m) {
		if ((m->has_limit && m->limit < -1) || (m->has_swap && m->swap < -1) ||
		    (m->has_reservation && m->reservation < -1))
			return err_makex(err, EINVAL, "linux.resources.memory: negative value other than -1");
		if (m->has_limit && m->has_swap && m->limit > 0 && m->swap > 0 && m->swap < m->limit)
			return err_makex(err, EINVAL,
					 "linux.resources.memory.swap (%" PRId64
					 ") is lower than memory.limit (%" PRId64 "); swap is memory+swap",
					 m->swap, m->limit);
	}
	if (r->cpu) {
		if (check_cpuset(r->cpu->cpus, "cpus", err) < 0 || check_cpuset(r->cpu->mems, "mems", err) < 0)
			return -1;
		if (r->cpu->has_shares && r->cpu->shares > UINT32_MAX)
			return err_makex(err, EINVAL, "linux.resources.cpu.shares %" PRIu64 ": too large",
					 r->cpu->shares);
	}
	for (size_t i = 0; i < r->n_devices; i++)
		if (check_device_rule(&r->devices[i], i, err) < 0)
			return -1;
	return 0;
}

void cg_requested_flags(const struct spec_rt_resources *r, struct strv *out)
{
	if (!r)
		return;
	const struct spec_rt_memory *m = r->memory;
	const struct spec_rt_cpu *c = r->cpu;
	if (m && m->has_limit && m->limit > 0)
		strv_push(out, "--memory");
	if (m && m->has_reservation && m->reservation > 0)
		strv_push(out, "--memory-reservation");
	if (m && m->has_swap && m->swap > 0)
		strv_push(out, "--memory-swap");
	if (c && c->has_shares && c->shares > 0)
		strv_push(out, "--cpu-shares");
	if (c && c->has_quota && c->quota > 0)
		strv_push(out, "--cpu-quota");
	if (c && c->cpus && *c->cpus)
		strv_push(out, "--cpuset-cpus");
	if (c && c->mems && *c->mems)
		strv_push(out, "--cpuset-mems");
	if (r->has_pids && r->pids_limit > 0)
		strv_push(out, "--pids-limit");
}

bool cg_needs_controller(const struct spec_rt_resources *r, const char *controller)
{
	if (!r)
		return false;
	const struct spec_rt_memory *m = r->memory;
	const struct spec_rt_cpu *c = r->cpu;
	if (!strcmp(controller, "memory"))
		return m && ((m->has_limit && m->limit) || (m->has_reservation && m->reservation) ||
			     (m->has_swap && m->swap));
	if (!strcmp(controller, "cpu"))
		return c &&
		       ((c->has_shares && c->shares) || (c->has_quota && c->quota) || (c->has_period && c->period));
	if (!strcmp(controller, "cpuset"))
		return c && ((c->cpus && *c->cpus) || (c->mems && *c->mems));
	if (!strcmp(controller, "pids"))
		return r->has_pids;
	if (!strcmp(controller, "devices"))
		return r->n_devices > 0;
	return false;
}

bool cg_needs_any(const struct spec_rt_resources *r, const char *controllers)
{
	cleanup_strv struct strv sv = STRV_INIT;
	strv_split(&sv, controllers, ',');
	for (size_t i = 0; i < sv.len; i++)
		if (cg_needs_controller(r, sv.v[i]))
			return true;
	return false;
}

/* ---- files ---- */

static char *join(const char *dir, const char *file)
{
	return xasprintf("%s/%s", dir, file);
}

int cg_write(const char *dir, const char *file, const char *value, struct skiff_err **err)
{
	cleanup_free char *path = join(dir, file);
	cleanup_close int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	size_t len = strlen(value);
	ssize_t n;

	if (fd < 0)
		return err_make(err, errno, "cgroup: write \"%s\" to %s", value, path);
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return err_make(err, errno, "cgroup: write \"%s\" to %s", value, path);
	if ((size_t)n != len)
		return err_makex(err, EIO, "cgroup: write \"%s\" to %s: short write", value, path);
	return 0;
}

int cg_read(const char *dir, const char *file, char **ret, struct skiff_err **err)
{
	cleanup_free char *path = join(dir, file);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return err_make(err, errno, "cgroup: read %s", path);
	if (read_all_fd(fd, CG_MAX_FILE, ret, NULL, err) < 0)
		return err_wrap(err, "cgroup: read %s", path);
	return 0;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end = NULL;
	if (!strncmp(s, "max", 3) && (s[3] == '\0' || s[3] == '\n')) {
		*ret = UINT64_MAX;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || (*end != '\0' && *end != '\n'))
		return -1;
	*ret = v;
	return 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *ret, struct skiff_err **err)
{
	cleanup_free char *s = NULL;
	uint64_t v;

	if (cg_read(dir, file, &s, err) < 0)
		return -1;
	if (parse_u64(s, &v) < 0) {
		cleanup_free char *q = cg_quote(s);
		return err_makex(err, EINVAL, "cgroup: %s/%s: not a number: \"%s\"", dir, file, q);
	}
	*ret = v;
	return 0;
}

int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *ret, bool *ret_found,
		  struct skiff_err **err)
{
	cleanup_free char *s = NULL;
	size_t kl = strlen(key);

	if (cg_read(dir, file, &s, err) < 0)
		return -1;
	for (char *l = s; *l;) {
		char *nl = strchrnul(l, '\n');
		if ((size_t)(nl - l) > kl && !strncmp(l, key, kl) && l[kl] == ' ') {
			uint64_t v;
			char saved = *nl;
			*nl = '\0';
			int rc = parse_u64(l + kl + 1, &v);
			*nl = saved;
			if (rc < 0)
				return err_makex(err, EINVAL, "cgroup: %s/%s: bad value for %s", dir, file, key);
			*ret = v;
			*ret_found = true;
			return 0;
		}
		l = *nl ? nl + 1 : nl;
	}
	*ret_found = false;
	return 0;
}

int cg_parse_pids(const char *text, const char *what, pid_t **v, size_t *n, size_t *alloc, struct skiff_err **err)
{
	size_t lineno = 0;
	for (const char *l = text; *l;) {
		const char *nl = strchrnul(l, '\n');
		lineno++;
		if (nl > l) {
			char *end = NULL;
			errno = 0;
			long p = *l >= '1' && *l <= '9' ? strtol(l, &end, 10) : 0;
			if (p <= 0 || errno || end != nl || p > INT_MAX)
				return err_makex(err, EINVAL, "cgroup: %s line %zu: not a pid", what, lineno);
			ALLOC_GROW(*v, *n + 1, *alloc);
			(*v)[(*n)++] = (pid_t)p;
		}
		l = *nl ? nl + 1 : nl;
	}
	return 0;
}

static int collect(const char *dir, unsigned depth, pid_t **v, size_t *n, size_t *alloc, struct skiff_err **err)
{
	cleanup_free char *text = NULL;
	cleanup_free char *procs = join(dir, "cgroup.procs");

	if (depth > CG_MAX_DEPTH)
		return err_makex(err, ELOOP, "cgroup: %s: more than %d levels of sub-cgroups", dir, CG_MAX_DEPTH);
	if (cg_read(dir, "cgroup.procs", &text, err) < 0)
		return -1;
	if (cg_parse_pids(text, procs, v, n, alloc, err) < 0)
		return -1;

	cleanup_dir DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0; /* removed meanwhile */
		return err_make(err, errno, "cgroup: open %s", dir);
	}
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				return err_make(err, errno, "cgroup: read %s", dir);
			break;
		}
		if (de->d_type != DT_DIR || bad_component(de->d_name))
			continue;
		cleanup_free char *sub = join(dir, de->d_name);
		cleanup_err struct skiff_err *e = NULL;
		if (collect(sub, depth + 1, v, n, alloc, &e) < 0) {
			if (err_status(e) == ENOENT)
				continue; /* a sub-cgroup that went away */
			*err = TAKE_PTR(e);
			return -1;
		}
	}
	return 0;
}

int cg_collect_pids(const char *dir, pid_t **ret, size_t *ret_n, struct skiff_err **err)
{
	pid_t *v = NULL;
	size_t n = 0, alloc = 0;

	if (collect(dir, 0, &v, &n, &alloc, err) < 0) {
		free(v);
		return -1;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int cg_mkdir_path(const char *mountpoint, const char *path, cg_level_hook hook, void *data, struct skiff_err **err)
{
	cleanup_strv struct strv parts = STRV_INIT;
	struct strbuf cur = STRBUF_INIT;
	int rc = 0;

	strbuf_addstr(&cur, mountpoint);
	strv_split(&parts, path, '/');
	for (size_t i = 0; i < parts.len && rc == 0; i++) {
		if (!*parts.v[i])
			continue;
		cleanup_free char *parent = xstrdup(cur.buf);
		if (cur.len && cur.buf[cur.len - 1] != '/')
			strbuf_addch(&cur, '/');
		strbuf_addstr(&cur, parts.v[i]);
		if (mkdir(cur.buf, 0755) < 0 && errno != EEXIST)
			rc = err_make(err, errno, "cgroup: mkdir %s", cur.buf);
		else if (hook)
			rc = hook(parent, cur.buf, data, err);
	}
	strbuf_release(&cur);
	return rc;
}

bool cg_backoff(const struct timespec *start, unsigned timeout_ms, unsigned *iter)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t elapsed = (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
	if (elapsed >= timeout_ms)
		return false;
	/* 1, 2, 4 ... ms, at most 50 ms */
	unsigned ms = *iter < 6 ? 1u << *iter : 50;
	(*iter)++;
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return true;
}

static int rmdir_children(const char *dir, unsigned depth, struct skiff_err **err)
{
	if (depth > CG_MAX_DEPTH)
		return err_makex(err, ELOOP, "cgroup: %s: more than %d levels of sub-cgroups", dir, CG_MAX_DEPTH);
	cleanup_dir DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : err_make(err, errno, "cgroup: open %s", dir);
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				return err_make(err, errno, "cgroup: read %s", dir);
			return 0;
		}
		if (de->d_type != DT_DIR || bad_component(de->d_name))
			continue;
		cleanup_free char *sub = join(dir, de->d_name);
		if (rmdir_children(sub, depth + 1, err) < 0)
			return -1;
		if (rmdir(sub) < 0 && errno != ENOENT)
			return err_make(err, errno, "cgroup: remove %s", sub);
	}
}

int cg_rmdir_tree(const char *dir, unsigned timeout_ms, struct skiff_err **err)
{
	struct timespec start;
	unsigned iter = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		cleanup_err struct skiff_err *e = NULL;
		if (rmdir_children(dir, 0, &e) == 0) {
			if (rmdir(dir) == 0 || errno == ENOENT)
				return 0;
			err_make(&e, errno, "cgroup: remove %s", dir);
		}
		if (err_status(e) != EBUSY || !cg_backoff(&start, timeout_ms, &iter)) {
			*err = TAKE_PTR(e);
			return -1;
		}
	}
}

int cg_kill_each(struct rt_cgroup *cg, int sig, struct skiff_err **err)
{
	cleanup_free pid_t *pids = NULL;
	size_t n = 0;
	cleanup_err struct skiff_err *fe = NULL;
	bool frozen = cg->ops->freeze(cg, true, &fe) == 0;
	int rc = 0;

	/* A freeze that timed out may have frozen some: thaw below anyway. */
	bool thaw = frozen || err_status(fe) == ETIMEDOUT;
	if (cg->ops->pids(cg, &pids, &n, err) < 0) {
		rc = -1;
	} else {
		for (size_t i = 0; i < n; i++) {
			if (kill(pids[i], sig) < 0 && errno != ESRCH && rc == 0)
				rc = err_make(err, errno, "cgroup: kill %d", (int)pids[i]);
		}
	}
	if (thaw) {
		cleanup_err struct skiff_err *te = NULL;
		if (cg->ops->freeze(cg, false, &te) < 0 && rc == 0) {
			*err = TAKE_PTR(te);
			rc = -1;
		}
	}
	return rc;
}

int cg_apply_fail(struct cg_apply *a, struct skiff_err *e, struct skiff_err **err)
{
	if (a->lenient && cg_errno_degradable(err_status(e))) {
		if (a->warnings)
			strv_pushf(a->warnings, "cgroups: %s; ignored", e->msg);
		err_free(e);
		return 0;
	}
	if (err && !*err)
		*err = e;
	else
		err_free(e);
	return -1;
}

int cg_apply_write(struct cg_apply *a, const char *dir, const char *file, const char *value, struct skiff_err **err)
{
	struct skiff_err *e = NULL;

	if (cg_write(dir, file, value, &e) == 0)
		return 0;
	return cg_apply_fail(a, e, err);
}

int cg_read_u64_opt(const struct cg_dir *d, const char *file, uint64_t *ret, struct skiff_err **err)
{
	cleanup_err struct skiff_err *e = NULL;
	uint64_t v = 0;

	if (d && cg_read_u64(d->dir, file, &v, &e) < 0) {
		if (err_status(e) != ENOENT) {
			*err = TAKE_PTR(e);
			return -1;
		}
		v = 0;
	}
	*ret = v;
	return 0;
}

/* ---- the object ---- */

static void dir_release(struct cg_dir *d)
{
	free(d->controllers);
	free(d->mountpoint);
	free(d->path);
	free(d->dir);
}

static void add_dir(struct rt_cgroup *cg, const char *controllers, const char *mountpoint, const char *path)
{
	size_t ml = strlen(mountpoint);
	ALLOC_GROW(cg->dirs, cg->n_dirs + 1, cg->alloc_dirs);
	cg->dirs[cg->n_dirs++] = (struct cg_dir){
		.controllers = xstrdup(controllers),
		.mountpoint = xstrdup(mountpoint),
		.path = xstrdup(path),
		.dir = !strcmp(path, "/")		 ? xstrdup(mountpoint)
		       : ml && mountpoint[ml - 1] == '/' ? xasprintf("%s%s", mountpoint, path + 1)
							 : xasprintf("%s%s", mountpoint, path),
		.used = true,
	};
}

void cg_make_disabled(struct rt_cgroup *cg)
{
	for (size_t i = 0; i < cg->n_dirs; i++)
		dir_release(&cg->dirs[i]);
	free(cg->dirs);
	cg->dirs = NULL;
	cg->n_dirs = cg->alloc_dirs = 0;
	cg->ops = &cg_ops_disabled;
}

void cg_warn_disabled(struct strv *warnings, const char *reason, const struct spec_rt_resources *r)
{
	cleanup_strv struct strv flags = STRV_INIT;
	struct strbuf sb = STRBUF_INIT;

	if (!warnings)
		return;
	cg_requested_flags(r, &flags);
	strbuf_addf(&sb, "cgroups: %s; running without resource limits", reason);
	for (size_t i = 0; i < flags.len; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : " (", flags.v[i]);
	if (flags.len)
		strbuf_addstr(&sb, " ignored)");
	strv_push_take(warnings, strbuf_detach(&sb, NULL));
}

struct cg_dir *cg_find_dir(struct rt_cgroup *cg, const char *controller)
{
	for (size_t i = 0; i < cg->n_dirs; i++)
		if (cg->dirs[i].used && cg_controllers_has(cg->dirs[i].controllers, controller))
			return &cg->dirs[i];
	return NULL;
}

size_t cg_count_used(const struct rt_cgroup *cg)
{
	size_t n = 0;
	for (size_t i = 0; i < cg->n_dirs; i++)
		n += cg->dirs[i].used;
	return n;
}

static struct rt_cgroup *cg_new(void)
{
	struct rt_cgroup *cg = xzalloc(sizeof(*cg));
	cg->ops = &cg_ops_disabled;
	cg->timeout_ms = CG_DEFAULT_TIMEOUT_MS;
	return cg;
}

void rt_cgroup_free(struct rt_cgroup *cg)
{
	if (!cg)
		return;
	cg_make_disabled(cg);
	free(cg);
}

/* Running in a user namespace that is not the initial one? */
static bool in_userns(void)
{
	cleanup_free char *s = NULL;
	cleanup_err struct skiff_err *e = NULL;
	unsigned long a, b, c;

	if (read_file_at(AT_FDCWD, "/proc/self/uid_map", 4096, &s, NULL, &e) < 0)
		return false;
	if (sscanf(s, "%lu %lu %lu", &a, &b, &c) != 3)
		return true;
	const char *nl = strchr(s, '\n');
	bool one_line = !nl || nl[1] == '\0';
	return !(a == 0 && b == 0 && c == 4294967295UL && one_line);
}

/* The nearest existing ancestor of dir (down to mountpoint) is writable to us? */
static bool delegated(const char *mountpoint, const char *dir)
{
	cleanup_free char *p = xstrdup(dir);
	size_t ml = strlen(mountpoint);

	for (;;) {
		struct stat st;
		if (stat(p, &st) == 0)
			return S_ISDIR(st.st_mode) && faccessat(AT_FDCWD, p, W_OK, AT_EACCESS) == 0;
		char *slash = strrchr(p, '/');
		if (!slash || (size_t)(slash - p) < ml || slash == p)
			return false;
		*slash = '\0';
	}
}

/* The cgroup path of a hierarchy under its mount point for a normalised cgroupsPath;
 * NULL (with *why set) when a relative path cannot be placed. */
static char *place(const char *norm, const struct cg_mount *m, const struct cg_self *self, const char **why)
{
	if (norm[0] == '/')
		return xstrdup(norm);
	const char *own = cg_self_lookup(self, m->controllers, m->v2);
	if (!own) {
		*why = "the runtime's own cgroup is not in /proc/self/cgroup";
		return NULL;
	}
	size_t rl = strlen(m->root);
	if (strcmp(m->root, "/") && !strncmp(own, m->root, rl) && (own[rl] == '/' || own[rl] == '\0'))
		own += rl;
	if (!*own)
		own = "/";
	if (has_dotdot(own)) {
		*why = "the runtime's own cgroup is outside the cgroup namespace";
		return NULL;
	}
	return xasprintf("%s/%s", strcmp(own, "/") ? own : "", norm);
}

static const char *proc_text(const char *override, const char *path, char **buf, struct skiff_err **err)
{
	if (override)
		return override;
	if (read_file_at(AT_FDCWD, path, CG_MAX_FILE, buf, NULL, err) < 0)
		return NULL;
	return *buf;
}

/* Fill cg's directories for mode; false (with a warning) when a path cannot be placed. */
static bool add_dirs(struct rt_cgroup *cg, enum rt_cgroup_mode mode, const char *norm, const struct cg_layout *layout,
		     const struct cg_self *self, struct strv *warnings)
{
	for (size_t i = 0; i < layout->len; i++) {
		const struct cg_mount *m = &layout->v[i];
		const char *why = NULL;
		if (m->v2 != (mode == RT_CGROUP_V2))
			continue;
		cleanup_free char *path = place(norm, m, self, &why);
		if (!path) {
			cleanup_free char *reason = xasprintf("cannot place cgroupsPath \"%s\": %s", norm, why);
			cg_warn_disabled(warnings, reason, cg->resources);
			return false;
		}
		add_dir(cg, m->controllers, m->mountpoint, path);
		if (cg->rootless && !delegated(m->mountpoint, cg->dirs[cg->n_dirs - 1].dir))
			cg->dirs[cg->n_dirs - 1].used = false;
		if (mode == RT_CGROUP_V2)
			break;
	}
	return true;
}

/* The mode for the host, or DISABLED with a warning; *layout and *self filled. */
static enum rt_cgroup_mode detect(const struct rt_cgroup_config *cfg, const char *norm, struct cg_layout *layout,
				  struct cg_self *self, struct strv *warnings)
{
	cleanup_free char *mi_buf = NULL, *self_buf = NULL, *ctl_buf = NULL;
	cleanup_err struct skiff_err *e = NULL;
	const char *mi = proc_text(cfg->test_mountinfo, "/proc/self/mountinfo", &mi_buf, &e);

	if (!mi || cg_parse_mountinfo(mi, layout, &e) < 0) {
		cleanup_free char *reason = xasprintf("cannot read the mount table (%s)", e->msg);
		cg_warn_disabled(warnings, reason, cfg->resources);
		return RT_CGROUP_DISABLED;
	}
	for (size_t i = 0; i < layout->len; i++) {
		if (layout->v[i].v2) {
			cleanup_free char *p = join(layout->v[i].mountpoint, "cgroup.controllers");
			if (read_file_at(AT_FDCWD, p, 65536, &ctl_buf, NULL, &e) < 0)
				err_clear(&e);
			break;
		}
	}
	enum rt_cgroup_mode mode = cg_choose_mode(layout, ctl_buf);
	if (mode == RT_CGROUP_DISABLED) {
		cg_warn_disabled(warnings, "no cgroup hierarchy is mounted", cfg->resources);
		return mode;
	}
	if (norm[0] != '/') {
		const char *ov = cfg->test_mountinfo ? (cfg->test_proc_cgroup ? cfg->test_proc_cgroup : "") : NULL;
		const char *st = proc_text(ov, "/proc/self/cgroup", &self_buf, &e);
		if (!st || cg_parse_proc_cgroup(st, self, &e) < 0) {
			cleanup_free char *reason = xasprintf("cannot read the runtime's own cgroup (%s)", e->msg);
			cg_warn_disabled(warnings, reason, cfg->resources);
			return RT_CGROUP_DISABLED;
		}
	}
	return mode;
}

int rt_cgroup_open(const struct rt_cgroup_config *cfg, struct rt_cgroup **ret, struct strv *warnings,
		   struct skiff_err **err)
{
	bool testing = cfg->test_mountinfo != NULL;
	bool rootless = cfg->rootless || (!testing && (geteuid() != 0 || in_userns()));
	cleanup_free char *norm = NULL;
	cleanup_rt_cgroup struct rt_cgroup *cg = cg_new();
	struct cg_layout layout = {0};
	struct cg_self self = {0};

	cg->rootless = rootless;
	cg->resources = cfg->resources;
	if (cfg->manager && strcmp(cfg->manager, "cgroupfs") && strcmp(cfg->manager, "disabled") &&
	    strcmp(cfg->manager, "systemd")) {
		cleanup_free char *q = cg_quote(cfg->manager);
		return err_makex(err, EINVAL, "cgroup: unknown cgroup manager \"%s\"", q);
	}
	if (cg_normalize_path(cfg->cgroups_path, cfg->id, rootless, &norm, err) < 0)
		return -1;
	if (cg_validate_resources(cfg->resources, err) < 0)
		return -1;

	if (cfg->manager && !strcmp(cfg->manager, "disabled")) {
		cleanup_strv struct strv flags = STRV_INIT;
		cg_requested_flags(cfg->resources, &flags);
		if (flags.len)
			cg_warn_disabled(warnings, "the cgroup manager is \"disabled\"", cfg->resources);
		*ret = TAKE_PTR(cg);
		return 0;
	}
	if (cfg->manager && !strcmp(cfg->manager, "systemd") && warnings)
		strv_push(warnings, "cgroups: the systemd cgroup manager is not supported; using cgroupfs");

	enum rt_cgroup_mode mode = detect(cfg, norm, &layout, &self, warnings);
	if (mode != RT_CGROUP_DISABLED && !add_dirs(cg, mode, norm, &layout, &self, warnings))
		mode = RT_CGROUP_DISABLED;
	cg_layout_release(&layout);
	cg_self_release(&self);

	if (mode == RT_CGROUP_DISABLED) {
		cg_make_disabled(cg);
	} else if (cg_count_used(cg) == 0) {
		cg_warn_disabled(warnings, "no delegated cgroup for rootless", cfg->resources);
		cg_make_disabled(cg);
	} else {
		cg->ops = mode == RT_CGROUP_V2 ? &cg_ops_v2 : &cg_ops_v1;
	}
	*ret = TAKE_PTR(cg);
	return 0;
}

enum rt_cgroup_mode rt_cgroup_mode(const struct rt_cgroup *cg)
{
	return cg->ops->mode;
}

int rt_cgroup_enter(struct rt_cgroup *cg, pid_t pid, struct strv *warnings, struct skiff_err **err)
{
	if (pid <= 0)
		return err_makex(err, EINVAL, "cgroup: bad pid %d", (int)pid);
	return cg->ops->enter(cg, pid, warnings, err);
}

int rt_cgroup_update(struct rt_cgroup *cg, const struct spec_rt_resources *r, struct skiff_err **err)
{
	if (cg_validate_resources(r, err) < 0)
		return -1;
	return cg->ops->update(cg, r, err);
}

int rt_cgroup_freeze(struct rt_cgroup *cg, bool freeze, struct skiff_err **err)
{
	return cg->ops->freeze(cg, freeze, err);
}

int rt_cgroup_pids(struct rt_cgroup *cg, pid_t **ret, size_t *ret_n, struct skiff_err **err)
{
	return cg->ops->pids(cg, ret, ret_n, err);
}

int rt_cgroup_kill_all(struct rt_cgroup *cg, int sig, struct skiff_err **err)
{
	return cg->ops->kill_all(cg, sig, err);
}

int rt_cgroup_destroy(struct rt_cgroup *cg, struct skiff_err **err)
{
	return cg->ops->destroy(cg, err);
}

int rt_cgroup_oom_killed(struct rt_cgroup *cg, bool *ret, struct skiff_err **err)
{
	return cg->ops->oom_killed(cg, ret, err);
}

int rt_cgroup_stats(struct rt_cgroup *cg, struct rt_cgroup_stats *ret, struct skiff_err **err)
{
	return cg->ops->stats(cg, ret, err);
}

/* ---- serialisation ---- */

char *rt_cgroup_serialize(const struct rt_cgroup *cg)
{
	struct strbuf sb = STRBUF_INIT;
	const struct cg_dir *first = NULL;

	if (cg->ops->mode == RT_CGROUP_DISABLED || cg->n_dirs == 0)
		return xstrdup("disabled");
	/* the most common path first, the others as overrides */
	size_t best = 0;
	for (size_t i = 0; i < cg->n_dirs; i++) {
		size_t count = 0;
		if (!cg->dirs[i].used)
			continue;
		for (size_t k = 0; k < cg->n_dirs; k++)
			count += cg->dirs[k].used && !strcmp(cg->dirs[k].path, cg->dirs[i].path);
		if (count > best) {
			best = count;
			first = &cg->dirs[i];
		}
	}
	if (!first)
		return xstrdup("disabled");
	strbuf_addf(&sb, "%s:%s", cg->ops->mode == RT_CGROUP_V2 ? "v2" : "v1", first->path);
	if (cg->ops->mode == RT_CGROUP_V1) {
		for (size_t i = 0; i < cg->n_dirs; i++) {
			const struct cg_dir *d = &cg->dirs[i];
			if (!d->used)
				strbuf_addf(&sb, "\t%s:-", d->controllers);
			else if (strcmp(d->path, first->path))
				strbuf_addf(&sb, "\t%s:%s", d->controllers, d->path);
		}
	}
	return strbuf_detach(&sb, NULL);
}

static bool serialized_path_ok(const char *p)
{
	return p[0] == '/' && !has_dotdot(p) && !has_control_char(p) && strlen(p) <= CG_MAX_PATH;
}

int cg_from_serialized_with(const char *s, const char *mountinfo, struct rt_cgroup **ret, struct skiff_err **err)
{
	cleanup_rt_cgroup struct rt_cgroup *cg = cg_new();
	cleanup_strv struct strv fields = STRV_INIT;
	cleanup_free char *q = cg_quote(s ? s : "");
	cleanup_free char *mi_buf = NULL;
	struct cg_layout layout = {0};
	bool v2;

	if (!s)
		return err_makex(err, EINVAL, "cgroup: no serialized state");
	if (!strcmp(s, "disabled")) {
		*ret = TAKE_PTR(cg);
		return 0;
	}
	if (strncmp(s, "v1:", 3) && strncmp(s, "v2:", 3))
		return err_makex(err, EINVAL, "cgroup: bad serialized state \"%s\"", q);
	v2 = s[1] == '2';
	strv_split(&fields, s + 3, '\t');
	if (!fields.len || !serialized_path_ok(fields.v[0]) || (v2 && fields.len != 1))
		return err_makex(err, EINVAL, "cgroup: bad serialized state \"%s\"", q);
	for (size_t i = 1; i < fields.len; i++) {
		const char *c = strchr(fields.v[i], ':');
		if (!c || c == fields.v[i] || (strcmp(c + 1, "-") && !serialized_path_ok(c + 1)))
			return err_makex(err, EINVAL, "cgroup: bad serialized state \"%s\"", q);
	}

	const char *mi = proc_text(mountinfo, "/proc/self/mountinfo", &mi_buf, err);
	if (!mi || cg_parse_mountinfo(mi, &layout, err) < 0)
		return err_wrap(err, "cgroup: reopen \"%s\"", q);
	for (size_t i = 0; i < layout.len; i++) {
		const struct cg_mount *m = &layout.v[i];
		const char *path = fields.v[0];
		bool used = true;
		if (m->v2 != v2)
			continue;
		for (size_t k = 1; k < fields.len; k++) {
			cleanup_free char *key =
				xstrndup(fields.v[k], (size_t)(strchr(fields.v[k], ':') - fields.v[k]));
			if (cg_controllers_equal(key, m->controllers)) {
				path = strchr(fields.v[k], ':') + 1;
				used = strcmp(path, "-") != 0;
				break;
			}
		}
		if (used)
			add_dir(cg, m->controllers, m->mountpoint, path);
		if (v2)
			break;
	}
	cg_layout_release(&layout);
	if (cg->n_dirs == 0)
		return err_makex(err, ENOENT, "cgroup: reopen \"%s\": no cgroup %s hierarchy is mounted", q,
				 v2 ? "v2" : "v1");
	cg->ops = v2 ? &cg_ops_v2 : &cg_ops_v1;
	*ret = TAKE_PTR(cg);
	return 0;
}

int rt_cgroup_from_serialized(const char *s, struct rt_cgroup **ret, struct skiff_err **err)
{
	return cg_from_serialized_with(s, NULL, ret, err);
}
