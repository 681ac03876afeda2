/* pkg/engine ctrconfig: the container configuration, its JSON form in the store, and
 * random container names. */
#include "pkg/engine/ctrconfig.h"
#include "pkg/engine/ctrconfig-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

/* ---- new / free ---- */

struct ctr_config *ctr_config_new(void)
{
	struct ctr_config *c = xzalloc(sizeof(*c));
	c->read_only_tmpfs = true;
	c->stop_timeout = 10;
	c->log_driver = xstrdup("k8s-file");
	/* not given: the image's, else the defaults (ctr_resolve_health) */
	c->health_interval = c->health_timeout = c->health_start_period = -1;
	c->health_retries = CTR_HEALTH_UNSET;
	return c;
}

void ctr_mount_release(struct ctr_mount *m)
{
	if (!m)
		return;
	free(m->type);
	free(m->source);
	free(m->destination);
	strv_release(&m->options);
	memset(m, 0, sizeof(*m));
}

void ctr_config_free(struct ctr_config *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->name);
	free(c->image);
	free(c->image_id);
	free(c->image_name);
	strv_release(&c->entrypoint);
	strv_release(&c->command);
	strv_release(&c->env);
	free(c->workdir);
	free(c->user);
	strv_release(&c->group_add);
	strv_release(&c->volumes_from);
	free(c->hostname);
	for (size_t i = 0; i < c->n_ulimits; i++)
		free(c->ulimits[i].name);
	free(c->ulimits);
	for (size_t i = 0; i < c->n_mounts; i++)
		ctr_mount_release(&c->mounts[i]);
	free(c->mounts);
	strv_release(&c->cap_add);
	strv_release(&c->cap_drop);
	free(c->seccomp_profile);
	free(c->seccomp_json);
	strv_release(&c->mask);
	strv_release(&c->unmask);
	free(c->cpuset_cpus);
	free(c->cpuset_mems);
	free(c->network);
	free(c->pid_mode);
	free(c->ipc_mode);
	free(c->uts_mode);
	free(c->userns_mode);
	free(c->cgroupns_mode);
	strv_release(&c->dns);
	strv_release(&c->dns_search);
	strv_release(&c->dns_option);
	strv_release(&c->add_host);
	spec_map_release(&c->labels);
	spec_map_release(&c->annotations);
	free(c->log_driver);
	free(c->log_tag);
	free(c->runtime);
	strv_release(&c->sysctls);
	strv_release(&c->health_test);
	free(c->health_on_failure);
	free(c->ports);
	strv_release(&c->networks);
	strv_release(&c->net_aliases);
	free(c->net_ip);
	free(c->net_ip6);
	free(c);
}

const char *ctr_restart_name(enum ctr_restart r)
{
	switch (r) {
	case CTR_RESTART_NO:
		return "no";
	case CTR_RESTART_ON_FAILURE:
		return "on-failure";
	case CTR_RESTART_ALWAYS:
		return "always";
	case CTR_RESTART_UNLESS_STOPPED:
		return "unless-stopped";
	}
	return "no";
}

/* ---- log options ---- */

int ctr_parse_log_max_file(const char *s, unsigned *ret, struct skiff_err **err)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; s && s[i] >= '0' && s[i] <= '9' && i < 8; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (!s || !*s || s[i] || v < 1 || v > CTR_LOG_MAX_FILE_MAX)
		return ctr_err(err, EINVAL, "invalid max-file \"%.32s\": want a number of files from 1 to %d",
			       s ? s : "", CTR_LOG_MAX_FILE_MAX);
	*ret = (unsigned)v;
	return 0;
}

/* 1048576 -> "1m", 1536 -> "1536" */
static char *size_string(int64_t v)
{
	static const char units[] = {'g', 'm', 'k'};

	for (int i = 0; i < 3; i++) {
		int64_t m = (int64_t)1 << (10 * (3 - i));
		if (v >= m && v % m == 0)
			return xasprintf("%" PRId64 "%c", v / m, units[i]);
	}
	return xasprintf("%" PRId64, v);
}

struct json *ctr_log_config_json(const struct ctr_config *c)
{
	struct json *o;

	if (c->log_size_max <= 0 && c->log_max_file < 1 && !c->log_tag)
		return json_new_null();
	o = json_new_object();
	if (c->log_tag)
		json_object_set_string(o, "tag", c->log_tag);
	if (c->log_max_file >= 1) {
		cleanup_free char *s = xasprintf("%u", c->log_max_file);
		json_object_set_string(o, "max-file", s);
	}
	if (c->log_size_max > 0) {
		cleanup_free char *s = size_string(c->log_size_max);
		json_object_set_string(o, "max-size", s);
	}
	return o;
}

/* ---- to JSON ---- */

static void set_str(struct json *o, const char *key, const char *s)
{
	if (s)
		json_object_set_string(o, key, s);
}

struct json *ctr_strv_json(const struct strv *sv)
{
	struct json *a = json_new_array();
	for (size_t i = 0; i < sv->len; i++)
		json_array_append(a, json_new_string(sv->v[i]));
	return a;
}

struct json *ctr_map_json(const struct spec_map *m)
{
	struct json *o = json_new_object();
	for (size_t i = 0; i < m->len; i++)
		json_object_set_string(o, m->items[i].key, m->items[i].value);
	return o;
}

/* uint64 as JSON: UINT64_MAX (unlimited) is -1; anything else above INT64_MAX is clamped. */
static struct json *u64_json(uint64_t v)
{
	if (v == UINT64_MAX)
		return json_new_int(-1);
	return json_new_int(v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

struct json *ctr_config_to_json(const struct ctr_config *c)
{
	struct json *o = json_new_object();
	struct json *a;

	set_str(o, "id", c->id);
	set_str(o, "name", c->name);
	set_str(o, "image", c->image);
	set_str(o, "image_id", c->image_id);
	set_str(o, "image_name", c->image_name);
	json_object_set_int(o, "created", c->created);

	if (c->has_entrypoint)
		json_object_set(o, "entrypoint", ctr_strv_json(&c->entrypoint));
	json_object_set(o, "command", ctr_strv_json(&c->command));
	json_object_set(o, "env", ctr_strv_json(&c->env));
	set_str(o, "workdir", c->workdir);
	set_str(o, "user", c->user);
	json_object_set(o, "group_add", ctr_strv_json(&c->group_add));
	set_str(o, "hostname", c->hostname);
	json_object_set_bool(o, "tty", c->tty);
	json_object_set_bool(o, "interactive", c->interactive);
	json_object_set_bool(o, "init", c->init);
	a = json_new_array();
	for (size_t i = 0; i < c->n_ulimits; i++) {
		struct json *u = json_new_object();
		set_str(u, "name", c->ulimits[i].name);
		json_object_set(u, "soft", u64_json(c->ulimits[i].soft));
		json_object_set(u, "hard", u64_json(c->ulimits[i].hard));
		json_array_append(a, u);
	}
	json_object_set(o, "ulimits", a);
	if (c->has_oom_score_adj)
		json_object_set_int(o, "oom_score_adj", c->oom_score_adj);

	json_object_set_bool(o, "rm", c->rm);
	json_object_set_string(o, "restart", ctr_restart_name(c->restart));
	json_object_set_int(o, "restart_max", c->restart_max);
	json_object_set_int(o, "stop_signal", c->stop_signal);
	if (c->has_stop_timeout)
		json_object_set_int(o, "stop_timeout", c->stop_timeout);

	a = json_new_array();
	for (size_t i = 0; i < c->n_mounts; i++) {
		struct json *m = json_new_object();
		set_str(m, "type", c->mounts[i].type);
		set_str(m, "source", c->mounts[i].source);
		set_str(m, "destination", c->mounts[i].destination);
		json_object_set(m, "options", ctr_strv_json(&c->mounts[i].options));
		json_array_append(a, m);
	}
	json_object_set(o, "mounts", a);
	json_object_set_bool(o, "read_only", c->read_only);
	json_object_set_bool(o, "read_only_tmpfs", c->read_only_tmpfs);

	json_object_set_bool(o, "privileged", c->privileged);
	json_object_set(o, "cap_add", ctr_strv_json(&c->cap_add));
	json_object_set(o, "cap_drop", ctr_strv_json(&c->cap_drop));
	set_str(o, "seccomp_profile", c->seccomp_profile);
	set_str(o, "seccomp_json", c->seccomp_json);
	json_object_set_bool(o, "no_new_privileges", c->no_new_privileges);
	json_object_set(o, "mask", ctr_strv_json(&c->mask));
	json_object_set(o, "unmask", ctr_strv_json(&c->unmask));

	json_object_set_int(o, "memory", c->memory);
	json_object_set_int(o, "memory_reservation", c->memory_reservation);
	json_object_set_int(o, "memory_swap", c->memory_swap);
	json_object_set(o, "cpu_shares", u64_json(c->cpu_shares));
	json_object_set(o, "cpus", json_new_double(c->cpus));
	json_object_set(o, "cpu_period", u64_json(c->cpu_period));
	json_object_set_int(o, "cpu_quota", c->cpu_quota);
	set_str(o, "cpuset_cpus", c->cpuset_cpus);
	set_str(o, "cpuset_mems", c->cpuset_mems);
	if (c->has_pids_limit)
		json_object_set_int(o, "pids_limit", c->pids_limit);

	set_str(o, "network", c->network);
	set_str(o, "pid", c->pid_mode);
	set_str(o, "ipc", c->ipc_mode);
	set_str(o, "uts", c->uts_mode);
	set_str(o, "userns", c->userns_mode);
	set_str(o, "cgroupns", c->cgroupns_mode);
	json_object_set_int(o, "userns_uid", c->userns_uid);
	json_object_set_int(o, "userns_gid", c->userns_gid);
	json_object_set_int(o, "userns_size", c->userns_size);
	json_object_set(o, "dns", ctr_strv_json(&c->dns));
	json_object_set(o, "dns_search", ctr_strv_json(&c->dns_search));
	json_object_set(o, "dns_option", ctr_strv_json(&c->dns_option));
	json_object_set(o, "add_host", ctr_strv_json(&c->add_host));

	json_object_set(o, "labels", ctr_map_json(&c->labels));
	json_object_set(o, "annotations", ctr_map_json(&c->annotations));
	set_str(o, "log_driver", c->log_driver);
	set_str(o, "log_tag", c->log_tag);
	json_object_set_int(o, "log_size_max", c->log_size_max);
	json_object_set_int(o, "log_max_file", c->log_max_file);
	set_str(o, "runtime", c->runtime);
	json_object_set(o, "sysctls", ctr_strv_json(&c->sysctls));
	json_object_set(o, "health_test", ctr_strv_json(&c->health_test));
	json_object_set_int(o, "health_interval", c->health_interval);
	json_object_set_int(o, "health_timeout", c->health_timeout);
	json_object_set_int(o, "health_start_period", c->health_start_period);
	json_object_set_int(o, "health_retries", c->health_retries);
	set_str(o, "health_on_failure", c->health_on_failure);
	struct json *pa = json_new_array();
	for (size_t i = 0; i < c->n_ports; i++) {
		struct strbuf sb = STRBUF_INIT;
		net_port_string(&c->ports[i], &sb);
		json_array_append(pa, json_new_string(sb.buf));
		strbuf_release(&sb);
	}
	json_object_set(o, "ports", pa);
	json_object_set_bool(o, "publish_all", c->publish_all);
	json_object_set(o, "networks", ctr_strv_json(&c->networks));
	json_object_set(o, "net_aliases", ctr_strv_json(&c->net_aliases));
	set_str(o, "net_ip", c->net_ip);
	set_str(o, "net_ip6", c->net_ip6);
	return o;
}

bool ctr_health_argv(const struct ctr_config *c, struct strv *ret)
{
	const struct strv *t = &c->health_test;
	if (t->len == 0 || !strcmp(t->v[0], "NONE"))
		return false;
	if (!strcmp(t->v[0], "CMD-SHELL")) {
		if (t->len < 2)
			return false;
		strv_push(ret, "/bin/sh");
		strv_push(ret, "-c");
		strv_push(ret, t->v[1]);
		return true;
	}
	size_t from = !strcmp(t->v[0], "CMD") ? 1 : 0;
	if (from >= t->len)
		return false;
	for (size_t i = from; i < t->len; i++)
		strv_push(ret, t->v[i]);
	return true;
}

/* ---- from JSON ----
 * Every reader: absent or null keeps the default; a value of another type is EINVAL naming
 * the key ("container config: mounts[1].destination: expected a string, got number"). */

#define CFG "container config: "

static const char *type_name(const struct json *v)
{
	static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
	return v && (size_t)v->type < ARRAY_SIZE(names) ? names[v->type] : "nothing";
}

static const struct json *field(const struct json *o, const char *key)
{
	const struct json *v = json_object_get(o, key);
	return v && v->type != JSON_NULL ? v : NULL;
}

static int wrong_type(struct skiff_err **err, const char *ctx, const char *key, const char *want, const struct json *v)
{
	return ctr_err(err, EINVAL, CFG "%s%s: expected %s, got %s", ctx, key, want, type_name(v));
}

static int get_str(const struct json *o, const char *ctx, const char *key, char **dst, struct skiff_err **err)
{
	const struct json *v = field(o, key);
	if (!v)
		return 0;
	if (v->type != JSON_STRING)
		return wrong_type(err, ctx, key, "a string", v);
	if (strlen(v->u.str.s) != v->u.str.len)
		return ctr_err(err, EINVAL, CFG "%s%s: string contains a NUL byte", ctx, key);
	free(*dst);
	*dst = xstrdup(v->u.str.s);
	return 0;
}

static int get_bool(const struct json *o, const char *key, bool *dst, struct skiff_err **err)
{
	const struct json *v = field(o, key);
	if (!v)
		return 0;
	if (v->type != JSON_BOOL)
		return wrong_type(err, "", key, "a boolean", v);
	*dst = v->u.b;
	return 0;
}

/* An integer in [min, max]. */
static int get_int_range(const struct json *o, const char *ctx, const char *key, int64_t min, int64_t max, int64_t *dst,
			 bool *present, struct skiff_err **err)
{
	const struct json *v = field(o, key);
	if (present)
		*present = false;
	if (!v)
		return 0;
	if (v->type != JSON_NUMBER || !v->u.num.is_int)
		return wrong_type(err, ctx, key, "an integer", v);
	if (v->u.num.i < min || v->u.num.i > max)
		return ctr_err(err, EINVAL, CFG "%s%s: %" PRId64 " is out of range %" PRId64 "..%" PRId64, ctx, key,
			       v->u.num.i, min, max);
	*dst = v->u.num.i;
	if (present)
		*present = true;
	return 0;
}

static int get_i64(const struct json *o, const char *key, int64_t *dst, struct skiff_err **err)
{
	return get_int_range(o, "", key, INT64_MIN, INT64_MAX, dst, NULL, err);
}

/* A uint64 written by u64_json: -1 is UINT64_MAX. */
static int get_u64(const struct json *o, const char *ctx, const char *key, uint64_t *dst, struct skiff_err **err)
{
	int64_t v = 0;
	bool present;
	if (get_int_range(o, ctx, key, -1, INT64_MAX, &v, &present, err) < 0)
		return -1;
	if (present)
		*dst = v < 0 ? UINT64_MAX : (uint64_t)v;
	return 0;
}

static int get_strv(const struct json *o, const char *ctx, const char *key, struct strv *dst, struct skiff_err **err)
{
	const struct json *v = field(o, key);
	struct strv tmp = STRV_INIT;

	if (!v)
		return 0;
	if (v->type != JSON_ARRAY)
		return wrong_type(err, ctx, key, "an array", v);
	for (size_t i = 0; i < v->u.arr.len; i++) {
		const struct json *it = v->u.arr.items[i];
		if (it->type != JSON_STRING || strlen(it->u.str.s) != it->u.str.len) {
			strv_release(&tmp);
			if (it->type != JSON_STRING)
				return ctr_err(err, EINVAL, CFG "%s%s[%zu]: expected a string, got %s", ctx, key, i,
					       type_name(it));
			return ctr_err(err, EINVAL, CFG "%s%s[%zu]: string contains a NUL byte", ctx, key, i);
		}
		strv_push(&tmp, it->u.str.s);
	}
	strv_release(dst);
	*dst = tmp;
	return 0;
}

static int get_map(const struct json *o, const char *key, struct spec_map *dst, struct skiff_err **err)
{
	const struct json *v = field(o, key);
	struct spec_map tmp = {0};

	if (!v)
		return 0;
	if (v->type != JSON_OBJECT)
		return wrong_type(err, "", key, "an object", v);
	for (size_t i = 0; i < v->u.obj.len; i++) {
		const struct json *it = v->u.obj.vals[i];
		if (it->type != JSON_STRING || strlen(it->u.str.s) != it->u.str.len) {
			spec_map_release(&tmp);
			return ctr_err(err, EINVAL, CFG "%s.\"%.100s\": expected a string, got %s", key,
				       v->u.obj.keys[i],
				       it->type == JSON_STRING ? "a string with a NUL byte" : type_name(it));
		}
		spec_map_set(&tmp, v->u.obj.keys[i], it->u.str.s);
	}
	spec_map_release(dst);
	*dst = tmp;
	return 0;
}

static int get_ulimits(const struct json *o, struct ctr_config *c, struct skiff_err **err)
{
	const struct json *v = field(o, "ulimits");
	char ctx[48];

	if (!v)
		return 0;
	if (v->type != JSON_ARRAY)
		return wrong_type(err, "", "ulimits", "an array", v);
	for (size_t i = 0; i < v->u.arr.len; i++) {
		const struct json *it = v->u.arr.items[i];
		struct ctr_ulimit u = {0};
		snprintf(ctx, sizeof(ctx), "ulimits[%zu].", i);
		if (it->type != JSON_OBJECT)
			return ctr_err(err, EINVAL, CFG "ulimits[%zu]: expected an object, got %s", i, type_name(it));
		if (get_str(it, ctx, "name", &u.name, err) < 0)
			return -1;
		if (!u.name)
			return ctr_err(err, EINVAL, CFG "ulimits[%zu].name: missing", i);
		if (get_u64(it, ctx, "soft", &u.soft, err) < 0 || get_u64(it, ctx, "hard", &u.hard, err) < 0) {
			free(u.name);
			return -1;
		}
		ALLOC_GROW(c->ulimits, c->n_ulimits + 1, c->alloc_ulimits);
		c->ulimits[c->n_ulimits++] = u;
	}
	return 0;
}

static int get_mounts(const struct json *o, struct ctr_config *c, struct skiff_err **err)
{
	const struct json *v = field(o, "mounts");
	char ctx[48];

	if (!v)
		return 0;
	if (v->type != JSON_ARRAY)
		return wrong_type(err, "", "mounts", "an array", v);
	for (size_t i = 0; i < v->u.arr.len; i++) {
		const struct json *it = v->u.arr.items[i];
		struct ctr_mount m = {0};
		snprintf(ctx, sizeof(ctx), "mounts[%zu].", i);
		if (it->type != JSON_OBJECT)
			return ctr_err(err, EINVAL, CFG "mounts[%zu]: expected an object, got %s", i, type_name(it));
		if (get_str(it, ctx, "type", &m.type, err) < 0 || get_str(it, ctx, "source", &m.source, err) < 0 ||
		    get_str(it, ctx, "destination", &m.destination, err) < 0 ||
		    get_strv(it, ctx, "options", &m.options, err) < 0) {
			ctr_mount_release(&m);
			return -1;
		}
		if (!m.type || !m.destination) {
			const char *what = m.type ? "destination" : "type";
			ctr_mount_release(&m);
			return ctr_err(err, EINVAL, CFG "mounts[%zu].%s: missing", i, what);
		}
		ALLOC_GROW(c->mounts, c->n_mounts + 1, c->alloc_mounts);
		c->mounts[c->n_mounts++] = m;
	}
	return 0;
}

static int get_restart(const struct json *o, struct ctr_config *c, struct skiff_err **err)
{
	static const enum ctr_restart all[] = {CTR_RESTART_NO, CTR_RESTART_ON_FAILURE, CTR_RESTART_ALWAYS,
					       CTR_RESTART_UNLESS_STOPPED};
	const struct json *v = field(o, "restart");
	if (!v)
		return 0;
	if (v->type != JSON_STRING)
		return wrong_type(err, "", "restart", "a string", v);
	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		if (strcmp(v->u.str.s, ctr_restart_name(all[i])) == 0) {
			c->restart = all[i];
			return 0;
		}
	}
	return ctr_err(err, EINVAL, CFG "restart: unknown policy \"%.64s\"", v->u.str.s);
}

static int get_cpus(const struct json *o, struct ctr_config *c, struct skiff_err **err)
{
	const struct json *v = field(o, "cpus");
	if (!v)
		return 0;
	if (v->type != JSON_NUMBER)
		return wrong_type(err, "", "cpus", "a number", v);
	if (!isfinite(v->u.num.d) || v->u.num.d < 0)
		return ctr_err(err, EINVAL, CFG "cpus: must be >= 0, got %g", v->u.num.d);
	c->cpus = v->u.num.d;
	return 0;
}

static int config_read(const struct json *j, struct ctr_config *c, struct skiff_err **err)
{
	int64_t n, max_file = 0;
	bool present;

	if (get_str(j, "", "id", &c->id, err) < 0 || get_str(j, "", "name", &c->name, err) < 0 ||
	    get_str(j, "", "image", &c->image, err) < 0 || get_str(j, "", "image_id", &c->image_id, err) < 0 ||
	    get_str(j, "", "image_name", &c->image_name, err) < 0 || get_i64(j, "created", &c->created, err) < 0)
		return -1;

	if (field(j, "entrypoint")) {
		if (get_strv(j, "", "entrypoint", &c->entrypoint, err) < 0)
			return -1;
		c->has_entrypoint = true;
	}
	if (get_strv(j, "", "command", &c->command, err) < 0 || get_strv(j, "", "env", &c->env, err) < 0 ||
	    get_str(j, "", "workdir", &c->workdir, err) < 0 || get_str(j, "", "user", &c->user, err) < 0 ||
	    get_strv(j, "", "group_add", &c->group_add, err) < 0 || get_str(j, "", "hostname", &c->hostname, err) < 0 ||
	    get_bool(j, "tty", &c->tty, err) < 0 || get_bool(j, "interactive", &c->interactive, err) < 0 ||
	    get_bool(j, "init", &c->init, err) < 0 || get_ulimits(j, c, err) < 0)
		return -1;
	if (get_int_range(j, "", "oom_score_adj", -1000, 1000, &n, &present, err) < 0)
		return -1;
	if (present) {
		c->has_oom_score_adj = true;
		c->oom_score_adj = (int)n;
	}

	if (get_bool(j, "rm", &c->rm, err) < 0 || get_restart(j, c, err) < 0)
		return -1;
	if (get_int_range(j, "", "restart_max", 0, UINT32_MAX, &n, &present, err) < 0)
		return -1;
	if (present)
		c->restart_max = (unsigned)n;
	if (get_int_range(j, "", "stop_signal", 0, 64, &n, &present, err) < 0)
		return -1;
	if (present)
		c->stop_signal = (int)n;
	if (get_int_range(j, "", "stop_timeout", 0, UINT32_MAX, &n, &present, err) < 0)
		return -1;
	if (present) {
		c->has_stop_timeout = true;
		c->stop_timeout = (unsigned)n;
	}

	if (get_mounts(j, c, err) < 0 || get_bool(j, "read_only", &c->read_only, err) < 0 ||
	    get_bool(j, "read_only_tmpfs", &c->read_only_tmpfs, err) < 0)
		return -1;

	if (get_bool(j, "privileged", &c->privileged, err) < 0 || get_strv(j, "", "cap_add", &c->cap_add, err) < 0 ||
	    get_strv(j, "", "cap_drop", &c->cap_drop, err) < 0 ||
	    get_str(j, "", "seccomp_profile", &c->seccomp_profile, err) < 0 ||
	    get_str(j, "", "seccomp_json", &c->seccomp_json, err) < 0 ||
	    get_bool(j, "no_new_privileges", &c->no_new_privileges, err) < 0 ||
	    get_strv(j, "", "mask", &c->mask, err) < 0 || get_strv(j, "", "unmask", &c->unmask, err) < 0)
		return -1;

	if (get_int_range(j, "", "memory", 0, INT64_MAX, &c->memory, NULL, err) < 0 ||
	    get_int_range(j, "", "memory_reservation", 0, INT64_MAX, &c->memory_reservation, NULL, err) < 0 ||
	    get_int_range(j, "", "memory_swap", -1, INT64_MAX, &c->memory_swap, NULL, err) < 0 ||
	    get_u64(j, "", "cpu_shares", &c->cpu_shares, err) < 0 || get_cpus(j, c, err) < 0 ||
	    get_u64(j, "", "cpu_period", &c->cpu_period, err) < 0 ||
	    get_int_range(j, "", "cpu_quota", -1, INT64_MAX, &c->cpu_quota, NULL, err) < 0 ||
	    get_str(j, "", "cpuset_cpus", &c->cpuset_cpus, err) < 0 ||
	    get_str(j, "", "cpuset_mems", &c->cpuset_mems, err) < 0 ||
	    get_int_range(j, "", "pids_limit", -1, INT64_MAX, &c->pids_limit, &c->has_pids_limit, err) < 0)
		return -1;

	if (get_str(j, "", "network", &c->network, err) < 0 || get_str(j, "", "pid", &c->pid_mode, err) < 0 ||
	    get_str(j, "", "ipc", &c->ipc_mode, err) < 0 || get_str(j, "", "uts", &c->uts_mode, err) < 0 ||
	    get_str(j, "", "userns", &c->userns_mode, err) < 0 ||
	    get_str(j, "", "cgroupns", &c->cgroupns_mode, err) < 0 || get_strv(j, "", "dns", &c->dns, err) < 0 ||
	    get_strv(j, "", "dns_search", &c->dns_search, err) < 0 ||
	    get_strv(j, "", "dns_option", &c->dns_option, err) < 0 ||
	    get_strv(j, "", "add_host", &c->add_host, err) < 0)
		return -1;

	if (get_map(j, "labels", &c->labels, err) < 0 || get_map(j, "annotations", &c->annotations, err) < 0 ||
	    get_str(j, "", "log_driver", &c->log_driver, err) < 0 || get_str(j, "", "log_tag", &c->log_tag, err) < 0 ||
	    get_int_range(j, "", "log_size_max", -1, INT64_MAX, &c->log_size_max, NULL, err) < 0 ||
	    get_int_range(j, "", "log_max_file", 0, CTR_LOG_MAX_FILE_MAX, &max_file, NULL, err) < 0 ||
	    get_str(j, "", "runtime", &c->runtime, err) < 0 || get_strv(j, "", "sysctls", &c->sysctls, err) < 0)
		return -1;
	c->log_max_file = (unsigned)max_file;
	int64_t retries = c->health_retries;
	if (get_strv(j, "", "health_test", &c->health_test, err) < 0 ||
	    get_int_range(j, "", "health_interval", -1, INT64_MAX, &c->health_interval, NULL, err) < 0 ||
	    get_int_range(j, "", "health_timeout", -1, INT64_MAX, &c->health_timeout, NULL, err) < 0 ||
	    get_int_range(j, "", "health_start_period", -1, INT64_MAX, &c->health_start_period, NULL, err) < 0 ||
	    get_int_range(j, "", "health_retries", 0, CTR_HEALTH_UNSET, &retries, NULL, err) < 0 ||
	    get_str(j, "", "health_on_failure", &c->health_on_failure, err) < 0)
		return -1;
	c->health_retries = (unsigned)retries;
	int64_t uu = 0, ug = 0, us = 0;
	if (get_int_range(j, "", "userns_uid", 0, UINT32_MAX, &uu, NULL, err) < 0 ||
	    get_int_range(j, "", "userns_gid", 0, UINT32_MAX, &ug, NULL, err) < 0 ||
	    get_int_range(j, "", "userns_size", 0, UINT32_MAX, &us, NULL, err) < 0)
		return -1;
	c->userns_uid = (uint32_t)uu;
	c->userns_gid = (uint32_t)ug;
	c->userns_size = (uint32_t)us;
	struct strv ports = STRV_INIT;
	int rc = get_strv(j, "", "ports", &ports, err);
	for (size_t i = 0; rc == 0 && i < ports.len; i++)
		if (ctr_parse_publish(ports.v[i], c, err) < 0)
			rc = err_wrap(err, CFG "ports[%zu]", i);
	strv_release(&ports);
	if (rc < 0 || get_bool(j, "publish_all", &c->publish_all, err) < 0)
		return -1;
	if (get_strv(j, "", "networks", &c->networks, err) < 0 ||
	    get_strv(j, "", "net_aliases", &c->net_aliases, err) < 0 || get_str(j, "", "net_ip", &c->net_ip, err) < 0 ||
	    get_str(j, "", "net_ip6", &c->net_ip6, err) < 0)
		return -1;
	return 0;
}

int ctr_config_from_json(const struct json *j, struct ctr_config **ret, struct skiff_err **err)
{
	cleanup_ctr_config struct ctr_config *c = NULL;

	if (!j || j->type != JSON_OBJECT)
		return ctr_err(err, EINVAL, CFG "expected an object, got %s", type_name(j));
	c = ctr_config_new();
	if (config_read(j, c, err) < 0)
		return -1;
	*ret = TAKE_PTR(c);
	return 0;
}

/* ---- random names ---- */

static const char *const adjectives[] = {
	"agile",      "amazing",   "awesome",	  "blissful",  "bold",	  "brave",     "busy",	    "calm",
	"charming",   "clever",	   "cool",	  "cranky",    "crazy",	  "curious",   "dazzling",  "determined",
	"eager",      "ecstatic",  "elastic",	  "elated",    "elegant", "epic",      "fervent",   "festive",
	"focused",    "friendly",  "frosty",	  "funny",     "gallant", "gentle",    "gifted",    "goofy",
	"gracious",   "happy",	   "hardcore",	  "hopeful",   "hungry",  "inspiring", "jolly",	    "jovial",
	"keen",	      "kind",	   "laughing",	  "loving",    "lucid",	  "magical",   "modest",    "musing",
	"mystifying", "nervous",   "nice",	  "nifty",     "nimble",  "nostalgic", "objective", "optimistic",
	"peaceful",   "pensive",   "practical",	  "priceless", "quirky",  "quizzical", "relaxed",   "reverent",
	"romantic",   "sad",	   "serene",	  "sharp",     "silly",	  "sleepy",    "stoic",	    "strange",
	"sweet",      "tender",	   "thirsty",	  "trusting",  "upbeat",  "vibrant",   "vigilant",  "vigorous",
	"wizardly",   "wonderful", "xenodochial", "youthful",  "zealous", "zen",
};

static const char *const surnames[] = {
	"agnesi",   "albattani", "allen",      "archimedes",	"babbage",    "banach",	 "bardeen",    "bartik",
	"bell",	    "bhabha",	 "blackwell",  "bohr",		"boole",      "borg",	 "bose",       "brahmagupta",
	"brattain", "cannon",	 "cerf",       "chandrasekhar", "chatelet",   "curie",	 "darwin",     "davinci",
	"dijkstra", "dirac",	 "einstein",   "elion",		"engelbart",  "euclid",	 "euler",      "faraday",
	"fermat",   "fermi",	 "feynman",    "franklin",	"galileo",    "gauss",	 "goldberg",   "goodall",
	"hamilton", "hawking",	 "heisenberg", "hertz",		"hodgkin",    "hopper",	 "hypatia",    "jackson",
	"johnson",  "kalam",	 "kepler",     "knuth",		"kowalevski", "lamarr",	 "leakey",     "lovelace",
	"lumiere",  "maxwell",	 "mccarthy",   "meitner",	"mendel",     "minsky",	 "mirzakhani", "morse",
	"napier",   "nash",	 "newton",     "noether",	"pascal",     "pasteur", "perlman",    "planck",
	"poincare", "ramanujan", "ritchie",    "rosalind",	"sammet",     "shannon", "shockley",   "sinoussi",
	"stallman", "swanson",	 "tesla",      "thompson",	"torvalds",   "turing",	 "volhard",    "wiles",
	"wilson",   "wing",	 "wozniak",    "wright",	"yalow",      "yonath",
};

static uint32_t random_u32(void)
{
	uint32_t v;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
		return v;
	/* no entropy yet (early boot): mix the clock and the pid */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	v = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec * 2654435761u ^ (uint32_t)getpid() * 40503u;
	return v;
}

char *ctr_random_name(void)
{
	const char *a = adjectives[random_u32() % ARRAY_SIZE(adjectives)];
	const char *s = surnames[random_u32() % ARRAY_SIZE(surnames)];
	return xasprintf("%s_%s", a, s);
}
