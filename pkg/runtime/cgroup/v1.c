/*
 * cgroup v1 (legacy): one directory per mounted hierarchy (cpu, cpuacct, cpuset, memory,
 * devices, freezer, blkio, pids, name=systemd ...), each under its own mount point. The
 * container joins every hierarchy it could create; limits go to the hierarchy that holds
 * their controller. A cgroup2 mount beside them (hybrid hosts) is not joined.
 */
#include "pkg/runtime/cgroup/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

/* v1 numbers: -1 is unlimited. */
static char *v1_num(int64_t v)
{
	return v < 0 ? xstrdup("-1") : xasprintf("%" PRId64, v);
}

static bool blank(const char *s)
{
	return s[strspn(s, " \n")] == '\0';
}

/* A new cpuset cgroup has empty cpuset.cpus and cpuset.mems, and no task can join it until
 * they are set: copy them from the parent. */
static int cpuset_hook(const char *parent, const char *dir, void *data, struct skiff_err **err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		cleanup_free char *cur = NULL, *up = NULL;
		if (cg_read(dir, files[i], &cur, err) < 0)
			return -1;
		if (!blank(cur))
			continue;
		if (cg_read(parent, files[i], &up, err) < 0)
			return -1;
		up[strcspn(up, "\n")] = '\0';
		if (blank(up))
			continue; /* the parent has nothing either (e.g. no memory nodes): nothing to copy */
		if (cg_write(dir, files[i], up, err) < 0)
			return -1;
	}
	return 0;
}

/* The directory for a controller r needs; *ret NULL when it need not or (lenient) cannot. */
static int need_dir(struct rt_cgroup *cg, const struct spec_rt_resources *r, const char *controller, struct cg_apply *a,
		    struct cg_dir **ret, struct skiff_err **err)
{
	struct cg_dir *d = cg_find_dir(cg, controller);

	*ret = NULL;
	if (!cg_needs_controller(r, controller))
		return 0;
	if (d) {
		*ret = d;
		return 0;
	}
	struct skiff_err *e = NULL;
	err_makex(&e, ENOENT, "cgroup: no %s hierarchy is mounted or usable, but %s limits were requested", controller,
		  controller);
	return cg_apply_fail(a, e, err);
}

static int v1_memory(struct rt_cgroup *cg, const struct spec_rt_resources *r, struct cg_apply *a,
		     struct skiff_err **err)
{
	const struct spec_rt_memory *m = r->memory;
	struct cg_dir *d;

	if (need_dir(cg, r, "memory", a, &d, err) < 0)
		return -1;
	if (!d)
		return 0;
	bool want_limit = m->has_limit && m->limit != 0;
	bool want_swap = m->has_swap && m->swap != 0;
	bool swap_done = false;
	cleanup_free char *limit = v1_num(m->limit), *swap = v1_num(m->swap);

	if (want_limit) {
		struct skiff_err *e = NULL;
		if (cg_write(d->dir, "memory.limit_in_bytes", limit, &e) < 0) {
			/* The kernel keeps memsw >= limit: raising the limit above the present
			 * memsw needs memsw first. */
			if (!want_swap || err_status(e) != EINVAL)
				return cg_apply_fail(a, e, err);
			err_free(e);
			if (cg_apply_write(a, d->dir, "memory.memsw.limit_in_bytes", swap, err) < 0 ||
			    cg_apply_write(a, d->dir, "memory.limit_in_bytes", limit, err) < 0)
				return -1;
			swap_done = true;
		}
	}
	if (want_swap && !swap_done && cg_apply_write(a, d->dir, "memory.memsw.limit_in_bytes", swap, err) < 0)
		return -1;
	if (m->has_reservation && m->reservation != 0) {
		cleanup_free char *v = v1_num(m->reservation);
		if (cg_apply_write(a, d->dir, "memory.soft_limit_in_bytes", v, err) < 0)
			return -1;
	}
	return 0;
}

static int v1_cpu(struct rt_cgroup *cg, const struct spec_rt_resources *r, struct cg_apply *a, struct skiff_err **err)
{
	const struct spec_rt_cpu *c = r->cpu;
	struct cg_dir *d;

	if (need_dir(cg, r, "cpu", a, &d, err) < 0)
		return -1;
	if (d && c->has_shares && c->shares) {
		cleanup_free char *v = xasprintf("%" PRIu64, c->shares);
		if (cg_apply_write(a, d->dir, "cpu.shares", v, err) < 0)
			return -1;
	}
	if (d && c->has_period && c->period) {
		cleanup_free char *v = xasprintf("%" PRIu64, c->period);
		if (cg_apply_write(a, d->dir, "cpu.cfs_period_us", v, err) < 0)
			return -1;
	}
	if (d && c->has_quota && c->quota) {
		cleanup_free char *v = v1_num(c->quota);
		if (cg_apply_write(a, d->dir, "cpu.cfs_quota_us", v, err) < 0)
			return -1;
	}

	if (need_dir(cg, r, "cpuset", a, &d, err) < 0)
		return -1;
	if (d && c->cpus && *c->cpus && cg_apply_write(a, d->dir, "cpuset.cpus", c->cpus, err) < 0)
		return -1;
	if (d && c->mems && *c->mems && cg_apply_write(a, d->dir, "cpuset.mems", c->mems, err) < 0)
		return -1;
	return 0;
}

static int v1_apply(struct rt_cgroup *cg, const struct spec_rt_resources *r, struct cg_apply *a, struct skiff_err **err)
{
	struct cg_dir *d;

	if (!r)
		return 0;
	if (r->memory && v1_memory(cg, r, a, err) < 0)
		return -1;
	if (r->cpu && v1_cpu(cg, r, a, err) < 0)
		return -1;
	if (need_dir(cg, r, "pids", a, &d, err) < 0)
		return -1;
	if (d) {
		cleanup_free char *v = r->pids_limit > 0 ? xasprintf("%" PRId64, r->pids_limit) : xstrdup("max");
		if (cg_apply_write(a, d->dir, "pids.max", v, err) < 0)
			return -1;
	}
	if (need_dir(cg, r, "devices", a, &d, err) < 0)
		return -1;
	for (size_t i = 0; d && i < r->n_devices; i++) {
		cleanup_free char *rule = NULL;
		if (cg_v1_device_rule(&r->devices[i], &rule, err) < 0)
			return -1;
		if (cg_apply_write(a, d->dir, r->devices[i].allow ? "devices.allow" : "devices.deny", rule, err) < 0)
			return -1;
	}
	return 0;
}

/* A hierarchy failed: drop it with a warning when allowed, else fail with e. */
static int drop_or_fail(struct rt_cgroup *cg, struct cg_dir *d, struct skiff_err *e, struct strv *warnings,
			struct skiff_err **err)
{
	if ((cg->rootless && cg_errno_degradable(err_status(e))) || !cg_needs_any(cg->resources, d->controllers)) {
		if (warnings)
			strv_pushf(warnings, "cgroups: %s; %s controller not used", e->msg, d->controllers);
		err_free(e);
		d->used = false;
		return 0;
	}
	*err = e;
	return -1;
}

static int v1_enter(struct rt_cgroup *cg, pid_t pid, struct strv *warnings, struct skiff_err **err)
{
	struct cg_apply a = {.lenient = cg->rootless, .warnings = warnings};
	char pidstr[24];

	for (size_t i = 0; i < cg->n_dirs; i++) {
		struct cg_dir *d = &cg->dirs[i];
		struct skiff_err *e = NULL;
		if (!d->used)
			continue;
		cg_level_hook hook = cg_controllers_has(d->controllers, "cpuset") ? cpuset_hook : NULL;
		if (cg_mkdir_path(d->mountpoint, d->path, hook, NULL, &e) < 0 &&
		    drop_or_fail(cg, d, e, warnings, err) < 0)
			return -1;
	}
	if (v1_apply(cg, cg->resources, &a, err) < 0)
		return -1;
	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	for (size_t i = 0; i < cg->n_dirs; i++) {
		struct cg_dir *d = &cg->dirs[i];
		struct skiff_err *e = NULL;
		if (d->used && cg_write(d->dir, "cgroup.procs", pidstr, &e) < 0 &&
		    drop_or_fail(cg, d, e, warnings, err) < 0)
			return -1;
	}
	if (cg_count_used(cg) == 0) {
		cg_warn_disabled(warnings, "no cgroup could be joined", cg->resources);
		cg_make_disabled(cg);
	}
	return 0;
}

static int v1_update(struct rt_cgroup *cg, const struct spec_rt_resources *r, struct skiff_err **err)
{
	struct cg_apply a = {.lenient = false, .warnings = NULL};
	return v1_apply(cg, r, &a, err);
}

static int v1_freeze(struct rt_cgroup *cg, bool freeze, struct skiff_err **err)
{
	struct cg_dir *d = cg_find_dir(cg, "freezer");
	const char *want = freeze ? "FROZEN" : "THAWED";
	struct timespec start;
	unsigned iter = 0;

	if (!d)
		return err_makex(err, ENOTSUP, "cgroup: no freezer hierarchy");
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		cleanup_free char *state = NULL;
		/* Writing again nudges a cgroup stuck in FREEZING (new tasks arrived). */
		if (cg_write(d->dir, "freezer.state", want, err) < 0 ||
		    cg_read(d->dir, "freezer.state", &state, err) < 0)
			return -1;
		state[strcspn(state, "\n")] = '\0';
		if (!strcmp(state, want))
			return 0;
		if (!cg_backoff(&start, cg->timeout_ms, &iter)) {
			if (freeze) {
				cleanup_err struct skiff_err *e = NULL;
				cg_write(d->dir, "freezer.state", "THAWED", &e);
			}
			cleanup_free char *q = xstrndup(state, 32);
			return err_makex(err, ETIMEDOUT, "cgroup: %s/freezer.state: still \"%s\" after %u ms", d->dir,
					 q, cg->timeout_ms);
		}
	}
}

/* The hierarchy whose cgroup.procs lists the container. */
static struct cg_dir *primary(struct rt_cgroup *cg)
{
	static const char *const order[] = {"pids", "freezer", "memory"};
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		struct cg_dir *d = cg_find_dir(cg, order[i]);
		if (d)
			return d;
	}
	for (size_t i = 0; i < cg->n_dirs; i++)
		if (cg->dirs[i].used)
			return &cg->dirs[i];
	return NULL;
}

static int v1_pids(struct rt_cgroup *cg, pid_t **ret, size_t *ret_n, struct skiff_err **err)
{
	struct cg_dir *d = primary(cg);
	if (!d)
		return err_makex(err, ENOTSUP, "cgroup: no hierarchy in use");
	return cg_collect_pids(d->dir, ret, ret_n, err);
}

static int v1_destroy(struct rt_cgroup *cg, struct skiff_err **err)
{
	int rc = 0;
	for (size_t i = 0; i < cg->n_dirs; i++) {
		cleanup_err struct skiff_err *e = NULL;
		if (cg->dirs[i].used && cg_rmdir_tree(cg->dirs[i].dir, cg->timeout_ms, &e) < 0 && rc == 0) {
			*err = TAKE_PTR(e);
			rc = -1;
		}
	}
	return rc;
}

static int v1_oom_killed(struct rt_cgroup *cg, bool *ret, struct skiff_err **err)
{
	struct cg_dir *d = cg_find_dir(cg, "memory");
	uint64_t n = 0;
	bool found = false;

	if (!d)
		return err_makex(err, ENOTSUP, "cgroup: no memory hierarchy");
	if (cg_read_keyed(d->dir, "memory.oom_control", "oom_kill", &n, &found, err) < 0)
		return -1;
	*ret = found && n > 0;
	return 0;
}

static int v1_stats(struct rt_cgroup *cg, struct rt_cgroup_stats *ret, struct skiff_err **err)
{
	struct rt_cgroup_stats st = {0};
	struct cg_dir *mem = cg_find_dir(cg, "memory");

	if (cg_read_u64_opt(mem, "memory.usage_in_bytes", &st.mem_usage, err) < 0 ||
	    cg_read_u64_opt(mem, "memory.limit_in_bytes", &st.mem_limit, err) < 0 ||
	    cg_read_u64_opt(cg_find_dir(cg, "cpuacct"), "cpuacct.usage", &st.cpu_usage_ns, err) < 0 ||
	    cg_read_u64_opt(cg_find_dir(cg, "pids"), "pids.current", &st.pids_current, err) < 0)
		return -1;
	/* v1 says "unlimited" as LONG_MAX rounded down to a page */
	if (st.mem_limit >= (uint64_t)INT64_MAX - (1u << 20))
		st.mem_limit = UINT64_MAX;
	*ret = st;
	return 0;
}

const struct cg_ops cg_ops_v1 = {
	.mode = RT_CGROUP_V1,
	.enter = v1_enter,
	.update = v1_update,
	.freeze = v1_freeze,
	.pids = v1_pids,
	.kill_all = cg_kill_each,
	.destroy = v1_destroy,
	.oom_killed = v1_oom_killed,
	.stats = v1_stats,
};
