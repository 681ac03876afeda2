/* OCI runtime-spec config.json: free, parse, validate, generate. The default spec and
 * the builders are in runtime_default.c. */
#include "pkg/spec/runtime.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/spec/image_internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

/* "ctx.key" for messages; ctx may be "" at the top level. */
#define FP "%s%s%s"
#define FA(ctx, key) (ctx), (*(ctx) ? "." : ""), (key)

static const char *const ns_names[SPEC_NS_COUNT_] = {
	[SPEC_NS_PID] = "pid", [SPEC_NS_NETWORK] = "network", [SPEC_NS_MOUNT] = "mount",   [SPEC_NS_IPC] = "ipc",
	[SPEC_NS_UTS] = "uts", [SPEC_NS_USER] = "user",	      [SPEC_NS_CGROUP] = "cgroup", [SPEC_NS_TIME] = "time",
};

static const char *const rlimit_names[] = {
	"RLIMIT_AS",	  "RLIMIT_CORE",     "RLIMIT_CPU",	  "RLIMIT_DATA",   "RLIMIT_FSIZE", "RLIMIT_LOCKS",
	"RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",	  "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_RSS",
	"RLIMIT_RTPRIO",  "RLIMIT_RTTIME",   "RLIMIT_SIGPENDING", "RLIMIT_STACK",
};

static const char *const top_keys[] = {
	"ociVersion", "process", "root", "hostname", "domainname", "mounts", "hooks", "annotations", "linux",
};
static const char *const process_keys[] = {
	"terminal",	   "consoleSize",     "user",	     "args",	     "env", "cwd", "capabilities", "rlimits",
	"noNewPrivileges", "apparmorProfile", "oomScoreAdj", "selinuxLabel",
};
static const char *const user_keys[] = {"uid", "gid", "umask", "additionalGids", "username"};
static const char *const mount_keys[] = {"destination", "type", "source", "options"};
static const char *const linux_keys[] = {
	"uidMappings", "gidMappings",	    "sysctl",	   "resources",	    "cgroupsPath", "namespaces",  "devices",
	"seccomp",     "rootfsPropagation", "maskedPaths", "readonlyPaths", "mountLabel",  "personality",
};
static const char *const resources_keys[] = {"devices", "memory", "cpu", "pids"};
static const char *const memory_keys[] = {"limit", "reservation", "swap"};
static const char *const cpu_keys[] = {"shares", "quota", "period", "cpus", "mems"};

static const char *const propagations[] = {
	"shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable",
};

const char *spec_ns_type_name(enum spec_ns_type t)
{
	if ((int)t < 0 || t >= SPEC_NS_COUNT_)
		return NULL;
	return ns_names[t];
}

int spec_ns_type_from_name(const char *name)
{
	for (int i = 0; name && i < SPEC_NS_COUNT_; i++)
		if (strcmp(name, ns_names[i]) == 0)
			return i;
	return -1;
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

bool spec_rlimit_type_known(const char *name)
{
	return in_list(name, rlimit_names, ARRAY_SIZE(rlimit_names));
}

/* ---- free ---- */

static void caps_free(struct spec_rt_caps *c)
{
	if (!c)
		return;
	strv_release(&c->bounding);
	strv_release(&c->effective);
	strv_release(&c->inheritable);
	strv_release(&c->permitted);
	strv_release(&c->ambient);
	free(c);
}

static void process_free(struct spec_rt_process *p)
{
	if (!p)
		return;
	free(p->user.additional_gids.v);
	free(p->user.username);
	json_free(p->user.extra);
	strv_release(&p->args);
	strv_release(&p->env);
	free(p->cwd);
	caps_free(p->capabilities);
	for (size_t i = 0; i < p->n_rlimits; i++)
		free(p->rlimits[i].type);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	json_free(p->extra);
	free(p);
}

static void resources_free(struct spec_rt_resources *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_devices; i++) {
		free(r->devices[i].type);
		free(r->devices[i].access);
	}
	free(r->devices);
	if (r->memory)
		json_free(r->memory->extra);
	free(r->memory);
	if (r->cpu) {
		free(r->cpu->cpus);
		free(r->cpu->mems);
		json_free(r->cpu->extra);
	}
	free(r->cpu);
	json_free(r->extra);
	free(r);
}

static void linux_free(struct spec_rt_linux *l)
{
	if (!l)
		return;
	free(l->uid_mappings.v);
	free(l->gid_mappings.v);
	spec_map_release(&l->sysctl);
	resources_free(l->resources);
	free(l->cgroups_path);
	for (size_t i = 0; i < l->n_namespaces; i++)
		free(l->namespaces[i].path);
	free(l->namespaces);
	for (size_t i = 0; i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	json_free(l->seccomp);
	free(l->rootfs_propagation);
	strv_release(&l->masked_paths);
	strv_release(&l->readonly_paths);
	free(l->mount_label);
	if (l->personality) {
		free(l->personality->domain);
		strv_release(&l->personality->flags);
		free(l->personality);
	}
	json_free(l->extra);
	free(l);
}

void spec_runtime_free(struct spec_runtime *s)
{
	if (!s)
		return;
	free(s->oci_version);
	process_free(s->process);
	free(s->root_path);
	free(s->hostname);
	free(s->domainname);
	for (size_t i = 0; i < s->n_mounts; i++) {
		struct spec_rt_mount *m = &s->mounts[i];
		free(m->destination);
		free(m->type);
		free(m->source);
		strv_release(&m->options);
		json_free(m->extra);
	}
	free(s->mounts);
	json_free(s->hooks);
	spec_map_release(&s->annotations);
	linux_free(s->linux_spec);
	json_free(s->extra);
	free(s);
}

/* ---- typed readers: errors name "ctx.key" ---- */

static bool absent(const struct json *v)
{
	return !v || v->type == JSON_NULL;
}

static int type_error(struct skiff_err **err, const char *ctx, const char *key, const char *want, const struct json *v)
{
	return err_makex(err, EINVAL, FP ": expected %s, got %s", FA(ctx, key), want, specj_type_name(v));
}

/* An object (or absent, *ret NULL); other types are an error. */
static int rd_obj(const struct json *o, const char *ctx, const char *key, const struct json **ret,
		  struct skiff_err **err)
{
	const struct json *v = json_object_get(o, key);
	if (absent(v)) {
		*ret = NULL;
		return 0;
	}
	if (v->type != JSON_OBJECT)
		return type_error(err, ctx, key, "an object", v);
	*ret = v;
	return 0;
}

static int rd_arr(const struct json *o, const char *ctx, const char *key, const struct json **ret,
		  struct skiff_err **err)
{
	const struct json *v = json_object_get(o, key);
	if (absent(v)) {
		*ret = NULL;
		return 0;
	}
	if (v->type != JSON_ARRAY)
		return type_error(err, ctx, key, "an array", v);
	*ret = v;
	return 0;
}

static bool has_nul(const struct json *v)
{
	return strlen(v->u.str.s) != v->u.str.len;
}

static int rd_str(const struct json *o, const char *ctx, const char *key, char **ret, struct skiff_err **err)
{
	const struct json *v = json_object_get(o, key);
	if (absent(v))
		return 0;
	if (v->type != JSON_STRING)
		return type_error(err, ctx, key, "a string", v);
	if (has_nul(v))
		return err_makex(err, EINVAL, FP ": string contains a NUL byte", FA(ctx, key));
	free(*ret);
	*ret = xstrdup(v->u.str.s);
	return 0;
}

static int rd_strv(const struct json *o, const char *ctx, const char *key, struct strv *out, struct skiff_err **err)
{
	const struct json *a = NULL;
	cleanup_strv struct strv sv = STRV_INIT;

	if (rd_arr(o, ctx, key, &a, err) < 0)
		return -1;
	if (!a)
		return 0;
	for (size_t i = 0; i < a->u.arr.len; i++) {
		const struct json *it = a->u.arr.items[i];
		if (!json_is(it, JSON_STRING))
			return err_makex(err, EINVAL, FP "[%zu]: expected a string, got %s", FA(ctx, key), i,
					 specj_type_name(it));
		if (has_nul(it))
			return err_makex(err, EINVAL, FP "[%zu]: string contains a NUL byte", FA(ctx, key), i);
		strv_push(&sv, it->u.str.s);
	}
	strv_release(out);
	*out = sv;
	sv = (struct strv)STRV_INIT;
	return 0;
}

static int rd_map(const struct json *o, const char *ctx, const char *key, struct spec_map *out, struct skiff_err **err)
{
	const struct json *v;
	struct spec_map m = {0};

	if (rd_obj(o, ctx, key, &v, err) < 0)
		return -1;
	if (!v)
		return 0;
	for (size_t i = 0; i < v->u.obj.len; i++) {
		const struct json *val = v->u.obj.vals[i];
		if (!json_is(val, JSON_STRING) || has_nul(val)) {
			spec_map_release(&m);
			if (!json_is(val, JSON_STRING))
				return err_makex(err, EINVAL, FP ": \"%.128s\": expected a string, got %s",
						 FA(ctx, key), v->u.obj.keys[i], specj_type_name(val));
			return err_makex(err, EINVAL, FP ": \"%.128s\": string contains a NUL byte", FA(ctx, key),
					 v->u.obj.keys[i]);
		}
		ALLOC_GROW(m.items, m.len + 1, m.alloc);
		m.items[m.len].key = xstrdup(v->u.obj.keys[i]);
		m.items[m.len].value = xstrdup(val->u.str.s);
		m.len++;
	}
	spec_map_release(out);
	*out = m;
	return 0;
}

static int rd_bool(const struct json *o, const char *ctx, const char *key, bool *ret, struct skiff_err **err)
{
	const struct json *v = json_object_get(o, key);
	if (absent(v))
		return 0;
	if (v->type != JSON_BOOL)
		return type_error(err, ctx, key, "a boolean", v);
	*ret = v->u.b;
	return 0;
}

static int rd_i64(const struct json *o, const char *ctx, const char *key, int64_t *ret, bool *ret_present,
		  struct skiff_err **err)
{
	const struct json *v = json_object_get(o, key);
	if (absent(v))
		return 0;
	if (v->type != JSON_NUMBER)
		return type_error(err, ctx, key, "an integer", v);
	if (!v->u.num.is_int)
		return err_makex(err, EINVAL, FP ": expected an integer, got %g", FA(ctx, key), v->u.num.d);
	*ret = v->u.num.i;
	if (ret_present)
		*ret_present = true;
	return 0;
}

/* 0 .. max. Integers above INT64_MAX only come as doubles: those up to 2^64 are accepted
 * (18446744073709551615, RLIM_INFINITY, rounds to 2^64 and gives UINT64_MAX). */
static int rd_uint(const struct json *o, const char *ctx, const char *key, uint64_t max, uint64_t *ret,
		   bool *ret_present, struct skiff_err **err)
{
	const struct json *v = json_object_get(o, key);
	uint64_t u;

	if (absent(v))
		return 0;
	if (v->type != JSON_NUMBER)
		return type_error(err, ctx, key, "an integer", v);
	if (v->u.num.is_int) {
		if (v->u.num.i < 0)
			return err_makex(err, EINVAL, FP ": must be >= 0, got %" PRId64, FA(ctx, key), v->u.num.i);
		u = (uint64_t)v->u.num.i;
	} else {
		/* Not an int64: only integers in [2^63, 2^64] (all doubles there are integral). */
		double d = v->u.num.d;
		if (!(d >= 9223372036854775808.0 && d <= 18446744073709551616.0))
			return err_makex(err, EINVAL, FP ": expected an integer, got %g", FA(ctx, key), d);
		u = d >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)d;
	}
	if (u > max)
		return err_makex(err, EINVAL, FP ": must be <= %" PRIu64 ", got %" PRIu64, FA(ctx, key), max, u);
	*ret = u;
	if (ret_present)
		*ret_present = true;
	return 0;
}

static int rd_u32(const struct json *o, const char *ctx, const char *key, uint32_t *ret, bool *ret_present,
		  struct skiff_err **err)
{
	uint64_t u = 0;
	bool present = false;
	if (rd_uint(o, ctx, key, UINT32_MAX, &u, &present, err) < 0)
		return -1;
	if (present) {
		*ret = (uint32_t)u;
		if (ret_present)
			*ret_present = true;
	}
	return 0;
}

static bool is_known(const char *key, const char *const *known, size_t n)
{
	return in_list(key, known, n);
}

#define EXTRA(obj, keys) specj_collect_extra((obj), (keys), ARRAY_SIZE(keys))

/* ---- parse ---- */

static int parse_user(const struct json *j, struct spec_rt_user *u, struct skiff_err **err)
{
	static const char ctx[] = "process.user";
	const struct json *a = NULL;

	if (rd_u32(j, ctx, "uid", &u->uid, NULL, err) < 0 || rd_u32(j, ctx, "gid", &u->gid, NULL, err) < 0 ||
	    rd_u32(j, ctx, "umask", &u->umask, &u->has_umask, err) < 0 ||
	    rd_str(j, ctx, "username", &u->username, err) < 0 || rd_arr(j, ctx, "additionalGids", &a, err) < 0)
		return -1;
	for (size_t i = 0; a && i < a->u.arr.len; i++) {
		const struct json *it = a->u.arr.items[i];
		if (!json_is(it, JSON_NUMBER) || !it->u.num.is_int || it->u.num.i < 0 || it->u.num.i > UINT32_MAX)
			return err_makex(err, EINVAL, "%s.additionalGids[%zu]: expected an integer 0..4294967295", ctx,
					 i);
		ALLOC_GROW(u->additional_gids.v, u->additional_gids.len + 1, u->additional_gids.alloc);
		u->additional_gids.v[u->additional_gids.len++] = (uint32_t)it->u.num.i;
	}
	u->extra = EXTRA(j, user_keys);
	return 0;
}

static int parse_caps(const struct json *j, struct spec_rt_caps *c, struct skiff_err **err)
{
	static const char ctx[] = "process.capabilities";
	if (rd_strv(j, ctx, "bounding", &c->bounding, err) < 0 ||
	    rd_strv(j, ctx, "effective", &c->effective, err) < 0 ||
	    rd_strv(j, ctx, "inheritable", &c->inheritable, err) < 0 ||
	    rd_strv(j, ctx, "permitted", &c->permitted, err) < 0 || rd_strv(j, ctx, "ambient", &c->ambient, err) < 0)
		return -1;
	return 0;
}

static int parse_rlimits(const struct json *a, struct spec_rt_process *p, struct skiff_err **err)
{
	for (size_t i = 0; a && i < a->u.arr.len; i++) {
		const struct json *it = a->u.arr.items[i];
		cleanup_free char *ctx = xasprintf("process.rlimits[%zu]", i);
		struct spec_rt_rlimit *r;

		if (!json_is(it, JSON_OBJECT))
			return err_makex(err, EINVAL, "%s: expected an object, got %s", ctx, specj_type_name(it));
		ALLOC_GROW(p->rlimits, p->n_rlimits + 1, p->alloc_rlimits);
		r = &p->rlimits[p->n_rlimits++];
		memset(r, 0, sizeof(*r));
		if (rd_str(it, ctx, "type", &r->type, err) < 0 ||
		    rd_uint(it, ctx, "hard", UINT64_MAX, &r->hard, NULL, err) < 0 ||
		    rd_uint(it, ctx, "soft", UINT64_MAX, &r->soft, NULL, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_process(const struct json *j, struct spec_rt_process *p, struct skiff_err **err)
{
	static const char ctx[] = "process";
	const struct json *o = NULL, *a = NULL;
	int64_t adj = 0;

	if (rd_bool(j, ctx, "terminal", &p->terminal, err) < 0 || rd_obj(j, ctx, "consoleSize", &o, err) < 0)
		return -1;
	if (o) {
		p->has_console_size = true;
		if (rd_u32(o, "process.consoleSize", "height", &p->console_height, NULL, err) < 0 ||
		    rd_u32(o, "process.consoleSize", "width", &p->console_width, NULL, err) < 0)
			return -1;
	}
	if (rd_obj(j, ctx, "user", &o, err) < 0)
		return -1;
	if (o && parse_user(o, &p->user, err) < 0)
		return -1;
	if (rd_strv(j, ctx, "args", &p->args, err) < 0 || rd_strv(j, ctx, "env", &p->env, err) < 0 ||
	    rd_str(j, ctx, "cwd", &p->cwd, err) < 0 || rd_obj(j, ctx, "capabilities", &o, err) < 0)
		return -1;
	if (o) {
		p->capabilities = xzalloc(sizeof(*p->capabilities));
		if (parse_caps(o, p->capabilities, err) < 0)
			return -1;
	}
	if (rd_arr(j, ctx, "rlimits", &a, err) < 0 || parse_rlimits(a, p, err) < 0)
		return -1;
	if (rd_bool(j, ctx, "noNewPrivileges", &p->no_new_privileges, err) < 0 ||
	    rd_str(j, ctx, "apparmorProfile", &p->apparmor_profile, err) < 0 ||
	    rd_i64(j, ctx, "oomScoreAdj", &adj, &p->has_oom_score_adj, err) < 0 ||
	    rd_str(j, ctx, "selinuxLabel", &p->selinux_label, err) < 0)
		return -1;
	if (p->has_oom_score_adj) {
		if (adj < -1000 || adj > 1000)
			return err_makex(err, EINVAL, "process.oomScoreAdj: must be in -1000..1000, got %" PRId64, adj);
		p->oom_score_adj = (int)adj;
	}
	p->extra = EXTRA(j, process_keys);
	return 0;
}

static int parse_mounts(const struct json *a, struct spec_runtime *s, struct skiff_err **err)
{
	for (size_t i = 0; a && i < a->u.arr.len; i++) {
		const struct json *it = a->u.arr.items[i];
		cleanup_free char *ctx = xasprintf("mounts[%zu]", i);
		struct spec_rt_mount *m;

		if (!json_is(it, JSON_OBJECT))
			return err_makex(err, EINVAL, "%s: expected an object, got %s", ctx, specj_type_name(it));
		ALLOC_GROW(s->mounts, s->n_mounts + 1, s->alloc_mounts);
		m = &s->mounts[s->n_mounts++];
		memset(m, 0, sizeof(*m));
		if (rd_str(it, ctx, "destination", &m->destination, err) < 0 ||
		    rd_str(it, ctx, "type", &m->type, err) < 0 || rd_str(it, ctx, "source", &m->source, err) < 0 ||
		    rd_strv(it, ctx, "options", &m->options, err) < 0)
			return -1;
		m->extra = EXTRA(it, mount_keys);
	}
	return 0;
}

static int parse_idmaps(const struct json *o, const char *key, struct spec_rt_idmaps *out, struct skiff_err **err)
{
	const struct json *a = NULL;

	if (rd_arr(o, "linux", key, &a, err) < 0)
		return -1;
	if (a && a->u.arr.len > SPEC_RT_MAX_ID_MAPPINGS)
		return err_makex(err, EINVAL, "linux.%s: too many mappings (%zu, max %d)", key, a->u.arr.len,
				 SPEC_RT_MAX_ID_MAPPINGS);
	for (size_t i = 0; a && i < a->u.arr.len; i++) {
		const struct json *it = a->u.arr.items[i];
		cleanup_free char *ctx = xasprintf("linux.%s[%zu]", key, i);
		struct spec_rt_idmap m = {0};
		bool has_c = false, has_h = false, has_s = false;

		if (!json_is(it, JSON_OBJECT))
			return err_makex(err, EINVAL, "%s: expected an object, got %s", ctx, specj_type_name(it));
		if (rd_u32(it, ctx, "containerID", &m.container_id, &has_c, err) < 0 ||
		    rd_u32(it, ctx, "hostID", &m.host_id, &has_h, err) < 0 ||
		    rd_u32(it, ctx, "size", &m.size, &has_s, err) < 0)
			return -1;
		if (!has_c || !has_h || !has_s)
			return err_makex(err, EINVAL, "%s.%s: missing", ctx,
					 !has_c	  ? "containerID"
					 : !has_h ? "hostID"
						  : "size");
		ALLOC_GROW(out->v, out->len + 1, out->alloc);
		out->v[out->len++] = m;
	}
	return 0;
}

static int parse_namespaces(const struct json *a, struct spec_rt_linux *l, struct skiff_err **err)
{
	for (size_t i = 0; a && i < a->u.arr.len; i++) {
		const struct json *it = a->u.arr.items[i];
		cleanup_free char *ctx = xasprintf("linux.namespaces[%zu]", i);
		cleanup_free char *type = NULL;
		struct spec_rt_namespace *ns;
		int t;

		if (!json_is(it, JSON_OBJECT))
			return err_makex(err, EINVAL, "%s: expected an object, got %s", ctx, specj_type_name(it));
		if (rd_str(it, ctx, "type", &type, err) < 0)
			return -1;
		if (!type)
			return err_makex(err, EINVAL, "%s.type: missing", ctx);
		t = spec_ns_type_from_name(type);
		if (t < 0)
			return err_makex(err, EINVAL, "%s.type: unknown namespace type \"%.64s\"", ctx, type);
		ALLOC_GROW(l->namespaces, l->n_namespaces + 1, l->alloc_namespaces);
		ns = &l->namespaces[l->n_namespaces++];
		memset(ns, 0, sizeof(*ns));
		ns->type = (enum spec_ns_type)t;
		if (rd_str(it, ctx, "path", &ns->path, err) < 0)
			return -1;
		if (ns->path && !*ns->path) { /* Go's omitempty: "" is no path */
			free(ns->path);
			ns->path = NULL;
		}
	}
	return 0;
}

static int parse_devices(const struct json *a, struct spec_rt_linux *l, struct skiff_err **err)
{
	for (size_t i = 0; a && i < a->u.arr.len; i++) {
		const struct json *it = a->u.arr.items[i];
		cleanup_free char *ctx = xasprintf("linux.devices[%zu]", i);
		cleanup_free char *type = NULL;
		struct spec_rt_device *d;
		bool has_major = false, has_minor = false;

		if (!json_is(it, JSON_OBJECT))
			return err_makex(err, EINVAL, "%s: expected an object, got %s", ctx, specj_type_name(it));
		ALLOC_GROW(l->devices, l->n_devices + 1, l->alloc_devices);
		d = &l->devices[l->n_devices++];
		memset(d, 0, sizeof(*d));
		if (rd_str(it, ctx, "path", &d->path, err) < 0 || rd_str(it, ctx, "type", &type, err) < 0 ||
		    rd_i64(it, ctx, "major", &d->major, &has_major, err) < 0 ||
		    rd_i64(it, ctx, "minor", &d->minor, &has_minor, err) < 0 ||
		    rd_u32(it, ctx, "fileMode", &d->file_mode, &d->has_file_mode, err) < 0 ||
		    rd_u32(it, ctx, "uid", &d->uid, &d->has_uid, err) < 0 ||
		    rd_u32(it, ctx, "gid", &d->gid, &d->has_gid, err) < 0)
			return -1;
		if (!type)
			return err_makex(err, EINVAL, "%s.type: missing", ctx);
		if (strlen(type) != 1 || !strchr("cbup", type[0]))
			return err_makex(err, EINVAL, "%s.type: must be one of c, b, u, p, got \"%.32s\"", ctx, type);
		d->type = type[0];
		if (d->type != 'p' && (!has_major || !has_minor))
			return err_makex(err, EINVAL, "%s.%s: missing (required for type %c)", ctx,
					 has_major ? "minor" : "major", d->type);
	}
	return 0;
}

static int parse_device_rules(const struct json *a, struct spec_rt_resources *r, struct skiff_err **err)
{
	for (size_t i = 0; a && i < a->u.arr.len; i++) {
		const struct json *it = a->u.arr.items[i];
		cleanup_free char *ctx = xasprintf("linux.resources.devices[%zu]", i);
		struct spec_rt_device_rule *d;
		const struct json *allow;

		if (!json_is(it, JSON_OBJECT))
			return err_makex(err, EINVAL, "%s: expected an object, got %s", ctx, specj_type_name(it));
		allow = json_object_get(it, "allow");
		if (absent(allow))
			return err_makex(err, EINVAL, "%s.allow: missing", ctx);
		ALLOC_GROW(r->devices, r->n_devices + 1, r->alloc_devices);
		d = &r->devices[r->n_devices++];
		memset(d, 0, sizeof(*d));
		if (rd_bool(it, ctx, "allow", &d->allow, err) < 0 || rd_str(it, ctx, "type", &d->type, err) < 0 ||
		    rd_i64(it, ctx, "major", &d->major, &d->has_major, err) < 0 ||
		    rd_i64(it, ctx, "minor", &d->minor, &d->has_minor, err) < 0 ||
		    rd_str(it, ctx, "access", &d->access, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_resources(const struct json *j, struct spec_rt_resources *r, struct skiff_err **err)
{
	static const char ctx[] = "linux.resources";
	const struct json *o = NULL, *a = NULL;

	if (rd_arr(j, ctx, "devices", &a, err) < 0 || parse_device_rules(a, r, err) < 0)
		return -1;
	if (rd_obj(j, ctx, "memory", &o, err) < 0)
		return -1;
	if (o) {
		static const char mctx[] = "linux.resources.memory";
		struct spec_rt_memory *m = r->memory = xzalloc(sizeof(*r->memory));
		if (rd_i64(o, mctx, "limit", &m->limit, &m->has_limit, err) < 0 ||
		    rd_i64(o, mctx, "reservation", &m->reservation, &m->has_reservation, err) < 0 ||
		    rd_i64(o, mctx, "swap", &m->swap, &m->has_swap, err) < 0)
			return -1;
		m->extra = EXTRA(o, memory_keys);
	}
	if (rd_obj(j, ctx, "cpu", &o, err) < 0)
		return -1;
	if (o) {
		static const char cctx[] = "linux.resources.cpu";
		struct spec_rt_cpu *c = r->cpu = xzalloc(sizeof(*r->cpu));
		if (rd_uint(o, cctx, "shares", UINT64_MAX, &c->shares, &c->has_shares, err) < 0 ||
		    rd_i64(o, cctx, "quota", &c->quota, &c->has_quota, err) < 0 ||
		    rd_uint(o, cctx, "period", UINT64_MAX, &c->period, &c->has_period, err) < 0 ||
		    rd_str(o, cctx, "cpus", &c->cpus, err) < 0 || rd_str(o, cctx, "mems", &c->mems, err) < 0)
			return -1;
		c->extra = EXTRA(o, cpu_keys);
	}
	if (rd_obj(j, ctx, "pids", &o, err) < 0)
		return -1;
	if (o) {
		r->has_pids = true;
		if (rd_i64(o, "linux.resources.pids", "limit", &r->pids_limit, NULL, err) < 0)
			return -1;
	}
	r->extra = EXTRA(j, resources_keys);
	return 0;
}

static int parse_linux(const struct json *j, struct spec_rt_linux *l, struct skiff_err **err)
{
	static const char ctx[] = "linux";
	const struct json *o = NULL, *a = NULL;

	if (parse_idmaps(j, "uidMappings", &l->uid_mappings, err) < 0 ||
	    parse_idmaps(j, "gidMappings", &l->gid_mappings, err) < 0 ||
	    rd_map(j, ctx, "sysctl", &l->sysctl, err) < 0 || rd_obj(j, ctx, "resources", &o, err) < 0)
		return -1;
	if (o) {
		l->resources = xzalloc(sizeof(*l->resources));
		if (parse_resources(o, l->resources, err) < 0)
			return -1;
	}
	if (rd_str(j, ctx, "cgroupsPath", &l->cgroups_path, err) < 0 || rd_arr(j, ctx, "namespaces", &a, err) < 0 ||
	    parse_namespaces(a, l, err) < 0 || rd_arr(j, ctx, "devices", &a, err) < 0 || parse_devices(a, l, err) < 0 ||
	    rd_obj(j, ctx, "seccomp", &o, err) < 0)
		return -1;
	if (o)
		l->seccomp = json_clone(o);
	if (rd_str(j, ctx, "rootfsPropagation", &l->rootfs_propagation, err) < 0 ||
	    rd_strv(j, ctx, "maskedPaths", &l->masked_paths, err) < 0 ||
	    rd_strv(j, ctx, "readonlyPaths", &l->readonly_paths, err) < 0 ||
	    rd_str(j, ctx, "mountLabel", &l->mount_label, err) < 0 || rd_obj(j, ctx, "personality", &o, err) < 0)
		return -1;
	if (o) {
		l->personality = xzalloc(sizeof(*l->personality));
		if (rd_str(o, "linux.personality", "domain", &l->personality->domain, err) < 0 ||
		    rd_strv(o, "linux.personality", "flags", &l->personality->flags, err) < 0)
			return -1;
	}
	l->extra = EXTRA(j, linux_keys);
	return 0;
}

static int parse_spec(const struct json *j, struct spec_runtime *s, struct skiff_err **err)
{
	const struct json *o = NULL, *a = NULL;

	if (rd_str(j, "", "ociVersion", &s->oci_version, err) < 0 || rd_obj(j, "", "process", &o, err) < 0)
		return -1;
	if (o) {
		s->process = xzalloc(sizeof(*s->process));
		if (parse_process(o, s->process, err) < 0)
			return -1;
	}
	if (rd_obj(j, "", "root", &o, err) < 0)
		return -1;
	if (o && (rd_str(o, "root", "path", &s->root_path, err) < 0 ||
		  rd_bool(o, "root", "readonly", &s->root_readonly, err) < 0))
		return -1;
	if (rd_str(j, "", "hostname", &s->hostname, err) < 0 || rd_str(j, "", "domainname", &s->domainname, err) < 0 ||
	    rd_arr(j, "", "mounts", &a, err) < 0 || parse_mounts(a, s, err) < 0 || rd_obj(j, "", "hooks", &o, err) < 0)
		return -1;
	if (o)
		s->hooks = json_clone(o);
	if (rd_map(j, "", "annotations", &s->annotations, err) < 0 || rd_obj(j, "", "linux", &o, err) < 0)
		return -1;
	if (o) {
		s->linux_spec = xzalloc(sizeof(*s->linux_spec));
		if (parse_linux(o, s->linux_spec, err) < 0)
			return -1;
	}
	s->extra = EXTRA(j, top_keys);
	return 0;
}

int spec_runtime_parse(const char *buf, size_t len, struct spec_runtime **ret, struct skiff_err **err)
{
	cleanup_json struct json *j = NULL;
	cleanup_spec_runtime struct spec_runtime *s = NULL;

	if (json_parse(buf, len, &j, err) < 0)
		return err_wrap(err, "runtime spec");
	if (specj_expect_object(j, "runtime spec", err) < 0)
		return -1;
	s = xzalloc(sizeof(*s));
	if (parse_spec(j, s, err) < 0 || spec_runtime_validate(s, err) < 0)
		return err_wrap(err, "runtime spec");
	*ret = TAKE_PTR(s);
	return 0;
}

/* ---- validate ---- */

/* EINVAL naming the field (fmt...) unless p is a non-empty absolute path of sane length;
 * a NULL p is fine unless required. */
static int __attribute__((format(printf, 4, 5)))
check_path(const char *p, bool required, struct skiff_err **err, const char *fmt, ...)
{
	cleanup_free char *what = NULL;
	va_list ap;

	if ((!p || !*p) && !required)
		return 0;
	if (p && p[0] == '/' && strlen(p) <= SPEC_RT_MAX_PATH)
		return 0;
	va_start(ap, fmt);
	what = xvasprintf(fmt, ap);
	va_end(ap);
	if (!p || !*p)
		return err_makex(err, EINVAL, "%s: missing", what);
	if (p[0] != '/')
		return err_makex(err, EINVAL, "%s: must be absolute, got \"%.128s\"", what, p);
	return err_makex(err, EINVAL, "%s: too long (%zu bytes, max %d)", what, strlen(p), SPEC_RT_MAX_PATH);
}

static bool semver_ok(const char *v)
{
	/* MAJOR.MINOR.PATCH[-pre][+build] */
	for (int part = 0; part < 3; part++) {
		if (*v < '0' || *v > '9')
			return false;
		while (*v >= '0' && *v <= '9')
			v++;
		if (part < 2 && *v++ != '.')
			return false;
	}
	if (*v && *v != '-' && *v != '+')
		return false;
	for (; *v; v++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-+", *v))
			return false;
	return true;
}

static bool cap_name_ok(const char *c)
{
	size_t n = strlen(c);
	if (n <= 4 || n > 64 || strncmp(c, "CAP_", 4) != 0)
		return false;
	for (size_t i = 4; i < n; i++)
		if (!((c[i] >= 'A' && c[i] <= 'Z') || (c[i] >= '0' && c[i] <= '9') || c[i] == '_'))
			return false;
	return true;
}

static int check_caps(const struct spec_rt_caps *c, struct skiff_err **err)
{
	const struct {
		const char *name;
		const struct strv *sv;
	} sets[] = {
		{"bounding", &c->bounding},   {"effective", &c->effective}, {"inheritable", &c->inheritable},
		{"permitted", &c->permitted}, {"ambient", &c->ambient},
	};
	for (size_t k = 0; k < ARRAY_SIZE(sets); k++)
		for (size_t i = 0; i < sets[k].sv->len; i++)
			if (!cap_name_ok(sets[k].sv->v[i]))
				return err_makex(err, EINVAL,
						 "process.capabilities.%s[%zu]: invalid capability \"%.64s\"",
						 sets[k].name, i, sets[k].sv->v[i]);
	return 0;
}

static int check_process(const struct spec_rt_process *p, struct skiff_err **err)
{
	if (!p->args.len)
		return err_makex(err, EINVAL, "process.args: must not be empty");
	if (check_path(p->cwd, true, err, "process.cwd") < 0)
		return -1;
	if (p->user.additional_gids.len > 65536)
		return err_makex(err, EINVAL, "process.user.additionalGids: too many (%zu, max 65536)",
				 p->user.additional_gids.len);
	if (p->user.has_umask && p->user.umask > 0777)
		return err_makex(err, EINVAL, "process.user.umask: must be <= 0777, got %#o", p->user.umask);
	if (p->capabilities && check_caps(p->capabilities, err) < 0)
		return -1;
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct spec_rt_rlimit *r = &p->rlimits[i];
		if (!r->type)
			return err_makex(err, EINVAL, "process.rlimits[%zu].type: missing", i);
		if (!spec_rlimit_type_known(r->type))
			return err_makex(err, EINVAL, "process.rlimits[%zu].type: unknown rlimit type \"%.64s\"", i,
					 r->type);
		if (r->soft > r->hard)
			return err_makex(err, EINVAL,
					 "process.rlimits[%zu]: soft limit %" PRIu64 " is above hard limit %" PRIu64, i,
					 r->soft, r->hard);
		for (size_t k = 0; k < i; k++)
			if (strcmp(p->rlimits[k].type, r->type) == 0)
				return err_makex(err, EINVAL, "process.rlimits[%zu].type: duplicate rlimit type \"%s\"",
						 i, r->type);
	}
	if (p->has_oom_score_adj && (p->oom_score_adj < -1000 || p->oom_score_adj > 1000))
		return err_makex(err, EINVAL, "process.oomScoreAdj: must be in -1000..1000, got %d", p->oom_score_adj);
	if (p->extra && p->extra->type != JSON_OBJECT)
		return err_makex(err, EINVAL, "process: extra keys must be an object");
	return 0;
}

static int check_idmaps(const struct spec_rt_idmaps *m, const char *key, struct skiff_err **err)
{
	if (m->len > SPEC_RT_MAX_ID_MAPPINGS)
		return err_makex(err, EINVAL, "linux.%s: too many mappings (%zu, max %d)", key, m->len,
				 SPEC_RT_MAX_ID_MAPPINGS);
	for (size_t i = 0; i < m->len; i++) {
		const struct spec_rt_idmap *e = &m->v[i];
		if (e->size == 0)
			return err_makex(err, EINVAL, "linux.%s[%zu].size: must not be 0", key, i);
		if ((uint64_t)e->container_id + e->size > ((uint64_t)1 << 32) ||
		    (uint64_t)e->host_id + e->size > ((uint64_t)1 << 32))
			return err_makex(err, EINVAL, "linux.%s[%zu]: range overflows 32-bit ids", key, i);
	}
	return 0;
}

static bool cpuset_ok(const char *s)
{
	return strspn(s, "0123456789,-") == strlen(s);
}

static int check_resources(const struct spec_rt_resources *r, struct skiff_err **err)
{
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct spec_rt_device_rule *d = &r->devices[i];
		if (d->type && (strlen(d->type) != 1 || !strchr("acb", d->type[0])))
			return err_makex(err, EINVAL,
					 "linux.resources.devices[%zu].type: must be a, c or b, got \"%.32s\"", i,
					 d->type);
		if (d->access && (!*d->access || strspn(d->access, "rwm") != strlen(d->access)))
			return err_makex(
				err, EINVAL,
				"linux.resources.devices[%zu].access: must be letters of \"rwm\", got \"%.32s\"", i,
				d->access);
		if ((d->has_major && d->major < -1) || (d->has_minor && d->minor < -1))
			return err_makex(err, EINVAL, "linux.resources.devices[%zu]: major/minor must be >= -1", i);
	}
	if (r->memory) {
		const struct spec_rt_memory *m = r->memory;
		const struct {
			const char *name;
			bool has;
			int64_t v;
		} f[] = {{"limit", m->has_limit, m->limit},
			 {"reservation", m->has_reservation, m->reservation},
			 {"swap", m->has_swap, m->swap}};
		for (size_t i = 0; i < ARRAY_SIZE(f); i++)
			if (f[i].has && f[i].v < -1)
				return err_makex(err, EINVAL, "linux.resources.memory.%s: must be >= -1, got %" PRId64,
						 f[i].name, f[i].v);
	}
	if (r->cpu) {
		if (r->cpu->has_quota && r->cpu->quota < -1)
			return err_makex(err, EINVAL, "linux.resources.cpu.quota: must be >= -1, got %" PRId64,
					 r->cpu->quota);
		if (r->cpu->cpus && !cpuset_ok(r->cpu->cpus))
			return err_makex(err, EINVAL, "linux.resources.cpu.cpus: invalid cpu list \"%.64s\"",
					 r->cpu->cpus);
		if (r->cpu->mems && !cpuset_ok(r->cpu->mems))
			return err_makex(err, EINVAL, "linux.resources.cpu.mems: invalid node list \"%.64s\"",
					 r->cpu->mems);
	}
	return 0;
}

static int check_linux(const struct spec_rt_linux *l, struct skiff_err **err)
{
	bool seen[SPEC_NS_COUNT_] = {false};

	if (check_idmaps(&l->uid_mappings, "uidMappings", err) < 0 ||
	    check_idmaps(&l->gid_mappings, "gidMappings", err) < 0)
		return -1;
	if (l->resources && check_resources(l->resources, err) < 0)
		return -1;
	for (size_t i = 0; i < l->n_namespaces; i++) {
		const struct spec_rt_namespace *ns = &l->namespaces[i];
		if (!spec_ns_type_name(ns->type))
			return err_makex(err, EINVAL, "linux.namespaces[%zu].type: unknown namespace type %d", i,
					 (int)ns->type);
		if (seen[ns->type])
			return err_makex(err, EINVAL, "linux.namespaces[%zu].type: duplicate namespace type \"%s\"", i,
					 spec_ns_type_name(ns->type));
		seen[ns->type] = true;
		if (check_path(ns->path, false, err, "linux.namespaces[%zu].path", i) < 0)
			return -1;
	}
	for (size_t i = 0; i < l->n_devices; i++) {
		const struct spec_rt_device *d = &l->devices[i];
		if (check_path(d->path, true, err, "linux.devices[%zu].path", i) < 0)
			return -1;
		if (!d->type || !strchr("cbup", d->type))
			return err_makex(err, EINVAL, "linux.devices[%zu].type: must be one of c, b, u, p", i);
		if (d->major < 0 || d->minor < 0)
			return err_makex(err, EINVAL, "linux.devices[%zu]: major/minor must be >= 0", i);
	}
	if (l->seccomp && l->seccomp->type != JSON_OBJECT)
		return err_makex(err, EINVAL, "linux.seccomp: expected an object, got %s", specj_type_name(l->seccomp));
	if (l->rootfs_propagation && *l->rootfs_propagation &&
	    !in_list(l->rootfs_propagation, propagations, ARRAY_SIZE(propagations)))
		return err_makex(err, EINVAL, "linux.rootfsPropagation: unknown propagation \"%.64s\"",
				 l->rootfs_propagation);
	for (size_t i = 0; i < l->masked_paths.len; i++)
		if (check_path(l->masked_paths.v[i], true, err, "linux.maskedPaths[%zu]", i) < 0)
			return -1;
	for (size_t i = 0; i < l->readonly_paths.len; i++)
		if (check_path(l->readonly_paths.v[i], true, err, "linux.readonlyPaths[%zu]", i) < 0)
			return -1;
	if (l->personality && (!l->personality->domain || (strcmp(l->personality->domain, "LINUX") != 0 &&
							   strcmp(l->personality->domain, "LINUX32") != 0)))
		return err_makex(err, EINVAL, "linux.personality.domain: must be LINUX or LINUX32, got \"%.32s\"",
				 l->personality->domain ? l->personality->domain : "");
	return 0;
}

int spec_runtime_validate(const struct spec_runtime *s, struct skiff_err **err)
{
	if (!s->oci_version || !*s->oci_version)
		return err_makex(err, EINVAL, "ociVersion: missing");
	if (strlen(s->oci_version) > 64 || !semver_ok(s->oci_version))
		return err_makex(err, EINVAL, "ociVersion: not a SemVer version: \"%.64s\"", s->oci_version);
	if (s->process && check_process(s->process, err) < 0)
		return -1;
	if (!s->root_path || !*s->root_path)
		return err_makex(err, EINVAL, "root.path: missing");
	if (strlen(s->root_path) > SPEC_RT_MAX_PATH)
		return err_makex(err, EINVAL, "root.path: too long (%zu bytes, max %d)", strlen(s->root_path),
				 SPEC_RT_MAX_PATH);
	if (s->hostname && strlen(s->hostname) > SPEC_RT_MAX_HOSTNAME)
		return err_makex(err, EINVAL, "hostname: too long (%zu bytes, max %d)", strlen(s->hostname),
				 SPEC_RT_MAX_HOSTNAME);
	if (s->domainname && strlen(s->domainname) > SPEC_RT_MAX_HOSTNAME)
		return err_makex(err, EINVAL, "domainname: too long (%zu bytes, max %d)", strlen(s->domainname),
				 SPEC_RT_MAX_HOSTNAME);
	for (size_t i = 0; i < s->n_mounts; i++)
		if (check_path(s->mounts[i].destination, true, err, "mounts[%zu].destination", i) < 0)
			return -1;
	if (s->hooks && s->hooks->type != JSON_OBJECT)
		return err_makex(err, EINVAL, "hooks: expected an object, got %s", specj_type_name(s->hooks));
	if (s->linux_spec && check_linux(s->linux_spec, err) < 0)
		return -1;
	return 0;
}

/* ---- generate ----
 * Written straight into a strbuf (not through the DOM) so that uint64 values above
 * INT64_MAX come out as integers. A separator goes before every key or array element
 * unless the previous byte opened an object/array or was a key's colon. */

static void g_sep(struct strbuf *out)
{
	char c = out->len ? out->buf[out->len - 1] : '{';
	if (c != '{' && c != '[' && c != ':')
		strbuf_addch(out, ',');
}

static void g_key(struct strbuf *out, const char *key)
{
	g_sep(out);
	json_quote(key, strlen(key), out);
	strbuf_addch(out, ':');
}

static void g_strval(struct strbuf *out, const char *s)
{
	json_quote(s, strlen(s), out);
}

/* omitempty */
static void g_str(struct strbuf *out, const char *key, const char *s)
{
	if (!s || !*s)
		return;
	g_key(out, key);
	g_strval(out, s);
}

static void g_u64(struct strbuf *out, const char *key, uint64_t v)
{
	g_key(out, key);
	strbuf_addf(out, "%" PRIu64, v);
}

static void g_i64(struct strbuf *out, const char *key, int64_t v)
{
	g_key(out, key);
	strbuf_addf(out, "%" PRId64, v);
}

static void g_true(struct strbuf *out, const char *key, bool b)
{
	if (!b)
		return;
	g_key(out, key);
	strbuf_addstr(out, "true");
}

static void g_strv(struct strbuf *out, const char *key, const struct strv *sv)
{
	if (!sv->len)
		return;
	g_key(out, key);
	strbuf_addch(out, '[');
	for (size_t i = 0; i < sv->len; i++) {
		g_sep(out);
		g_strval(out, sv->v[i]);
	}
	strbuf_addch(out, ']');
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp((*(const struct spec_kv *const *)a)->key, (*(const struct spec_kv *const *)b)->key);
}

static void g_map(struct strbuf *out, const char *key, const struct spec_map *m)
{
	cleanup_free const struct spec_kv **sorted = NULL;

	if (!m->len)
		return;
	sorted = xcalloc(m->len, sizeof(*sorted));
	for (size_t i = 0; i < m->len; i++)
		sorted[i] = &m->items[i];
	qsort(sorted, m->len, sizeof(*sorted), cmp_kv);
	g_key(out, key);
	strbuf_addch(out, '{');
	for (size_t i = 0; i < m->len; i++) {
		g_key(out, sorted[i]->key);
		g_strval(out, sorted[i]->value);
	}
	strbuf_addch(out, '}');
}

static void g_json(struct strbuf *out, const char *key, const struct json *j)
{
	if (!j)
		return;
	g_key(out, key);
	json_dump(j, 0, out);
}

/* Extra keys (an object), skipping any a caller put there that we write ourselves. */
static void g_extra(struct strbuf *out, const struct json *extra, const char *const *known, size_t n)
{
	if (!json_is(extra, JSON_OBJECT))
		return;
	for (size_t i = 0; i < extra->u.obj.len; i++)
		if (!is_known(extra->u.obj.keys[i], known, n))
			g_json(out, extra->u.obj.keys[i], extra->u.obj.vals[i]);
}
#define G_EXTRA(out, extra, keys) g_extra((out), (extra), (keys), ARRAY_SIZE(keys))

static void g_open(struct strbuf *out, const char *key, char c)
{
	g_key(out, key);
	strbuf_addch(out, c);
}

static void g_elem_open(struct strbuf *out)
{
	g_sep(out);
	strbuf_addch(out, '{');
}

static void gen_process(const struct spec_rt_process *p, struct strbuf *out)
{
	const struct spec_rt_user *u = &p->user;

	g_open(out, "process", '{');
	g_true(out, "terminal", p->terminal);
	if (p->has_console_size) {
		g_open(out, "consoleSize", '{');
		g_u64(out, "height", p->console_height);
		g_u64(out, "width", p->console_width);
		strbuf_addch(out, '}');
	}
	g_open(out, "user", '{');
	g_u64(out, "uid", u->uid);
	g_u64(out, "gid", u->gid);
	if (u->has_umask)
		g_u64(out, "umask", u->umask);
	if (u->additional_gids.len) {
		g_open(out, "additionalGids", '[');
		for (size_t i = 0; i < u->additional_gids.len; i++) {
			g_sep(out);
			strbuf_addf(out, "%" PRIu32, u->additional_gids.v[i]);
		}
		strbuf_addch(out, ']');
	}
	g_str(out, "username", u->username);
	G_EXTRA(out, u->extra, user_keys);
	strbuf_addch(out, '}');
	g_strv(out, "args", &p->args);
	g_strv(out, "env", &p->env);
	g_str(out, "cwd", p->cwd);
	if (p->capabilities) {
		const struct spec_rt_caps *c = p->capabilities;
		g_open(out, "capabilities", '{');
		g_strv(out, "bounding", &c->bounding);
		g_strv(out, "effective", &c->effective);
		g_strv(out, "inheritable", &c->inheritable);
		g_strv(out, "permitted", &c->permitted);
		g_strv(out, "ambient", &c->ambient);
		strbuf_addch(out, '}');
	}
	if (p->n_rlimits) {
		g_open(out, "rlimits", '[');
		for (size_t i = 0; i < p->n_rlimits; i++) {
			g_elem_open(out);
			g_key(out, "type");
			g_strval(out, p->rlimits[i].type);
			g_u64(out, "hard", p->rlimits[i].hard);
			g_u64(out, "soft", p->rlimits[i].soft);
			strbuf_addch(out, '}');
		}
		strbuf_addch(out, ']');
	}
	g_true(out, "noNewPrivileges", p->no_new_privileges);
	g_str(out, "apparmorProfile", p->apparmor_profile);
	if (p->has_oom_score_adj)
		g_i64(out, "oomScoreAdj", p->oom_score_adj);
	g_str(out, "selinuxLabel", p->selinux_label);
	G_EXTRA(out, p->extra, process_keys);
	strbuf_addch(out, '}');
}

static void gen_mounts(const struct spec_runtime *s, struct strbuf *out)
{
	if (!s->n_mounts)
		return;
	g_open(out, "mounts", '[');
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct spec_rt_mount *m = &s->mounts[i];
		g_elem_open(out);
		g_key(out, "destination");
		g_strval(out, m->destination);
		g_str(out, "type", m->type);
		g_str(out, "source", m->source);
		g_strv(out, "options", &m->options);
		G_EXTRA(out, m->extra, mount_keys);
		strbuf_addch(out, '}');
	}
	strbuf_addch(out, ']');
}

static void gen_idmaps(struct strbuf *out, const char *key, const struct spec_rt_idmaps *m)
{
	if (!m->len)
		return;
	g_open(out, key, '[');
	for (size_t i = 0; i < m->len; i++) {
		g_elem_open(out);
		g_u64(out, "containerID", m->v[i].container_id);
		g_u64(out, "hostID", m->v[i].host_id);
		g_u64(out, "size", m->v[i].size);
		strbuf_addch(out, '}');
	}
	strbuf_addch(out, ']');
}

static void gen_resources(const struct spec_rt_resources *r, struct strbuf *out)
{
	g_open(out, "resources", '{');
	if (r->n_devices) {
		g_open(out, "devices", '[');
		for (size_t i = 0; i < r->n_devices; i++) {
			const struct spec_rt_device_rule *d = &r->devices[i];
			g_elem_open(out);
			g_key(out, "allow");
			strbuf_addstr(out, d->allow ? "true" : "false");
			g_str(out, "type", d->type);
			if (d->has_major)
				g_i64(out, "major", d->major);
			if (d->has_minor)
				g_i64(out, "minor", d->minor);
			g_str(out, "access", d->access);
			strbuf_addch(out, '}');
		}
		strbuf_addch(out, ']');
	}
	if (r->memory) {
		const struct spec_rt_memory *m = r->memory;
		g_open(out, "memory", '{');
		if (m->has_limit)
			g_i64(out, "limit", m->limit);
		if (m->has_reservation)
			g_i64(out, "reservation", m->reservation);
		if (m->has_swap)
			g_i64(out, "swap", m->swap);
		G_EXTRA(out, m->extra, memory_keys);
		strbuf_addch(out, '}');
	}
	if (r->cpu) {
		const struct spec_rt_cpu *c = r->cpu;
		g_open(out, "cpu", '{');
		if (c->has_shares)
			g_u64(out, "shares", c->shares);
		if (c->has_quota)
			g_i64(out, "quota", c->quota);
		if (c->has_period)
			g_u64(out, "period", c->period);
		g_str(out, "cpus", c->cpus);
		g_str(out, "mems", c->mems);
		G_EXTRA(out, c->extra, cpu_keys);
		strbuf_addch(out, '}');
	}
	if (r->has_pids) {
		g_open(out, "pids", '{');
		g_i64(out, "limit", r->pids_limit);
		strbuf_addch(out, '}');
	}
	G_EXTRA(out, r->extra, resources_keys);
	strbuf_addch(out, '}');
}

static void gen_linux(const struct spec_rt_linux *l, struct strbuf *out)
{
	g_open(out, "linux", '{');
	gen_idmaps(out, "uidMappings", &l->uid_mappings);
	gen_idmaps(out, "gidMappings", &l->gid_mappings);
	g_map(out, "sysctl", &l->sysctl);
	if (l->resources)
		gen_resources(l->resources, out);
	g_str(out, "cgroupsPath", l->cgroups_path);
	if (l->n_namespaces) {
		g_open(out, "namespaces", '[');
		for (size_t i = 0; i < l->n_namespaces; i++) {
			g_elem_open(out);
			g_key(out, "type");
			g_strval(out, spec_ns_type_name(l->namespaces[i].type));
			g_str(out, "path", l->namespaces[i].path);
			strbuf_addch(out, '}');
		}
		strbuf_addch(out, ']');
	}
	if (l->n_devices) {
		g_open(out, "devices", '[');
		for (size_t i = 0; i < l->n_devices; i++) {
			const struct spec_rt_device *d = &l->devices[i];
			char type[2] = {d->type, '\0'};
			g_elem_open(out);
			g_key(out, "path");
			g_strval(out, d->path);
			g_key(out, "type");
			g_strval(out, type);
			if (d->type != 'p') {
				g_i64(out, "major", d->major);
				g_i64(out, "minor", d->minor);
			}
			if (d->has_file_mode)
				g_u64(out, "fileMode", d->file_mode);
			if (d->has_uid)
				g_u64(out, "uid", d->uid);
			if (d->has_gid)
				g_u64(out, "gid", d->gid);
			strbuf_addch(out, '}');
		}
		strbuf_addch(out, ']');
	}
	g_json(out, "seccomp", l->seccomp);
	g_str(out, "rootfsPropagation", l->rootfs_propagation);
	g_strv(out, "maskedPaths", &l->masked_paths);
	g_strv(out, "readonlyPaths", &l->readonly_paths);
	g_str(out, "mountLabel", l->mount_label);
	if (l->personality) {
		g_open(out, "personality", '{');
		g_str(out, "domain", l->personality->domain);
		g_strv(out, "flags", &l->personality->flags);
		strbuf_addch(out, '}');
	}
	G_EXTRA(out, l->extra, linux_keys);
	strbuf_addch(out, '}');
}

int spec_runtime_generate(const struct spec_runtime *s, struct strbuf *out, struct skiff_err **err)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;

	if (spec_runtime_validate(s, err) < 0)
		return err_wrap(err, "runtime spec");
	strbuf_addch(&sb, '{');
	g_key(&sb, "ociVersion");
	g_strval(&sb, s->oci_version);
	if (s->process)
		gen_process(s->process, &sb);
	g_open(&sb, "root", '{');
	g_key(&sb, "path");
	g_strval(&sb, s->root_path);
	g_true(&sb, "readonly", s->root_readonly);
	strbuf_addch(&sb, '}');
	g_str(&sb, "hostname", s->hostname);
	g_str(&sb, "domainname", s->domainname);
	gen_mounts(s, &sb);
	g_json(&sb, "hooks", s->hooks);
	g_map(&sb, "annotations", &s->annotations);
	if (s->linux_spec)
		gen_linux(s->linux_spec, &sb);
	G_EXTRA(&sb, s->extra, top_keys);
	strbuf_addch(&sb, '}');
	strbuf_add(out, sb.buf, sb.len);
	return 0;
}
