/*
 * cgroup v2 (unified): one directory. Every ancestor below the mount point gets the
 * controllers it has enabled in cgroup.subtree_control, so the container's cgroup has the
 * limit files. Device rules need a BPF program on v2 and are not applied (silently).
 */
#include "pkg/runtime/cgroup/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

static char *v2_num(int64_t v)
{
	return v < 0 ? xstrdup("max") : xasprintf("%" PRId64, v);
}

static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ' || p[-1] == '+') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return true;
	return false;
}

/* Enable in parent every controller it has that is not yet enabled. Failures are not
 * errors here: a limit file that is then missing is reported by name. */
static int enable_hook(const char *parent, const char *dir, void *data, struct skiff_err **err)
{
	cleanup_free char *avail = NULL, *enabled = NULL;
	cleanup_err struct skiff_err *e = NULL;
	cleanup_strv struct strv want = STRV_INIT;
	struct strbuf sb = STRBUF_INIT;

	if (cg_read(parent, "cgroup.controllers", &avail, &e) < 0)
		return 0;
	if (cg_read(parent, "cgroup.subtree_control", &enabled, &e) < 0)
		err_clear(&e);
	avail[strcspn(avail, "\n")] = '\0';
	strv_split(&want, avail, ' ');
	for (size_t i = 0; i < want.len; i++) {
		if (!*want.v[i] || (enabled && has_word(enabled, want.v[i])))
			continue;
		strbuf_addf(&sb, "%s+%s", sb.len ? " " : "", want.v[i]);
	}
	if (sb.len && cg_write(parent, "cgroup.subtree_control", sb.buf, &e) < 0) {
		/* one refused controller fails the whole write: try them one by one */
		err_clear(&e);
		for (size_t i = 0; i < want.len; i++) {
			if (!*want.v[i] || (enabled && has_word(enabled, want.v[i])))
				continue;
			cleanup_free char *one = xasprintf("+%s", want.v[i]);
			if (cg_write(parent, "cgroup.subtree_control", one, &e) < 0)
				err_clear(&e);
		}
	}
	strbuf_release(&sb);
	return 0;
}

static int v2_apply(struct rt_cgroup *cg, const struct spec_rt_resources *r, struct cg_apply *a, struct skiff_err **err)
{
	const char *dir = cg->dirs[0].dir;

	if (!r)
		return 0;
	const struct spec_rt_memory *m = r->memory;
	if (m && m->has_limit && m->limit != 0) {
		cleanup_free char *v = v2_num(m->limit);
		if (cg_apply_write(a, dir, "memory.max", v, err) < 0)
			return -1;
	}
	if (m && m->has_reservation && m->reservation != 0) {
		cleanup_free char *v = v2_num(m->reservation);
		if (cg_apply_write(a, dir, "memory.low", v, err) < 0)
			return -1;
	}
	if (m && m->has_swap && m->swap != 0) {
		/* the spec's swap is memory+swap; memory.swap.max is swap alone */
		int64_t s = m->swap;
		if (s > 0 && m->has_limit && m->limit > 0)
			s -= m->limit;
		cleanup_free char *v = v2_num(s);
		if (cg_apply_write(a, dir, "memory.swap.max", v, err) < 0)
			return -1;
	}

	const struct spec_rt_cpu *c = r->cpu;
	if (c && c->has_shares && c->shares) {
		cleanup_free char *v = xasprintf("%" PRIu64, cg_shares_to_weight(c->shares));
		if (cg_apply_write(a, dir, "cpu.weight", v, err) < 0)
			return -1;
	}
	if (c) {
		cleanup_free char *cur = NULL;
		if (c->has_period && c->period && !(c->has_quota && c->quota)) {
			cleanup_err struct skiff_err *e = NULL;
			if (cg_read(dir, "cpu.max", &cur, &e) < 0)
				cur = NULL;
		}
		cleanup_free char *v = cg_v2_cpu_max(c->has_quota, c->quota, c->has_period, c->period, cur);
		if (v && cg_apply_write(a, dir, "cpu.max", v, err) < 0)
			return -1;
		if (c->cpus && *c->cpus && cg_apply_write(a, dir, "cpuset.cpus", c->cpus, err) < 0)
			return -1;
		if (c->mems && *c->mems && cg_apply_write(a, dir, "cpuset.mems", c->mems, err) < 0)
			return -1;
	}
	if (r->has_pids) {
		cleanup_free char *v = r->pids_limit > 0 ? xasprintf("%" PRId64, r->pids_limit) : xstrdup("max");
		if (cg_apply_write(a, dir, "pids.max", v, err) < 0)
			return -1;
	}
	/* r->devices: needs BPF_CGROUP_DEVICE; not implemented, deliberately silent. */
	return 0;
}

static bool needs_limits(const struct spec_rt_resources *r)
{
	return cg_needs_any(r, "memory,cpu,cpuset,pids");
}

static int v2_enter(struct rt_cgroup *cg, pid_t pid, struct strv *warnings, struct skiff_err **err)
{
	struct cg_apply a = {.lenient = cg->rootless, .warnings = warnings};
	struct cg_dir *d = &cg->dirs[0];
	struct skiff_err *e = NULL;
	char pidstr[24];

	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	if (cg_mkdir_path(d->mountpoint, d->path, enable_hook, NULL, &e) < 0)
		goto fail;
	if (v2_apply(cg, cg->resources, &a, err) < 0)
		return -1;
	if (cg_write(d->dir, "cgroup.procs", pidstr, &e) < 0)
		goto fail;
	return 0;

fail:
	if ((cg->rootless && cg_errno_degradable(err_status(e))) || !needs_limits(cg->resources)) {
		cleanup_free char *reason = xstrdup(e->msg);
		err_free(e);
		cg_warn_disabled(warnings, reason, cg->resources);
		cg_make_disabled(cg);
		return 0;
	}
	*err = e;
	return -1;
}

static int v2_update(struct rt_cgroup *cg, const struct spec_rt_resources *r, struct skiff_err **err)
{
	struct cg_apply a = {.lenient = false, .warnings = NULL};
	return v2_apply(cg, r, &a, err);
}

/* Wait until cgroup.events says "frozen N". */
static int wait_frozen(struct rt_cgroup *cg, const char *dir, bool freeze, struct skiff_err **err)
{
	struct timespec start;
	unsigned iter = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		uint64_t v = 0;
		bool found = false;
		if (cg_read_keyed(dir, "cgroup.events", "frozen", &v, &found, err) < 0)
			return -1;
		if (found && (v != 0) == freeze)
			return 0;
		if (!cg_backoff(&start, cg->timeout_ms, &iter))
			return err_makex(err, ETIMEDOUT, "cgroup: %s/cgroup.events: not %s after %u ms", dir,
					 freeze ? "frozen" : "thawed", cg->timeout_ms);
	}
}

static int v2_freeze(struct rt_cgroup *cg, bool freeze, struct skiff_err **err)
{
	const char *dir = cg->dirs[0].dir;
	struct skiff_err *e = NULL;

	if (cg_write(dir, "cgroup.freeze", freeze ? "1" : "0", &e) < 0) {
		if (err_status(e) != ENOENT) {
			*err = e;
			return -1;
		}
		err_free(e);
		return err_makex(err, ENOTSUP, "cgroup: %s has no cgroup.freeze (kernel older than 5.2?)", dir);
	}
	if (wait_frozen(cg, dir, freeze, err) < 0) {
		if (freeze) {
			cleanup_err struct skiff_err *te = NULL;
			cg_write(dir, "cgroup.freeze", "0", &te);
		}
		return -1;
	}
	return 0;
}

static int v2_pids(struct rt_cgroup *cg, pid_t **ret, size_t *ret_n, struct skiff_err **err)
{
	return cg_collect_pids(cg->dirs[0].dir, ret, ret_n, err);
}

static int v2_kill_all(struct rt_cgroup *cg, int sig, struct skiff_err **err)
{
	const char *dir = cg->dirs[0].dir;
	cleanup_free char *kill_file = xasprintf("%s/cgroup.kill", dir);

	/* cgroup.kill (Linux 5.14) sends SIGKILL to the whole subtree, race-free */
	if (sig == SIGKILL && access(kill_file, F_OK) == 0)
		return cg_write(dir, "cgroup.kill", "1", err);
	return cg_kill_each(cg, sig, err);
}

static int v2_destroy(struct rt_cgroup *cg, struct skiff_err **err)
{
	return cg_rmdir_tree(cg->dirs[0].dir, cg->timeout_ms, err);
}

static int v2_oom_killed(struct rt_cgroup *cg, bool *ret, struct skiff_err **err)
{
	const char *dir = cg->dirs[0].dir;
	struct skiff_err *e = NULL;
	uint64_t n = 0;
	bool found = false;

	if (cg_read_keyed(dir, "memory.events", "oom_kill", &n, &found, &e) < 0) {
		if (err_status(e) != ENOENT) {
			*err = e;
			return -1;
		}
		err_free(e);
		return err_makex(err, ENOTSUP, "cgroup: %s has no memory controller", dir);
	}
	*ret = found && n > 0;
	return 0;
}

static int v2_stats(struct rt_cgroup *cg, struct rt_cgroup_stats *ret, struct skiff_err **err)
{
	struct rt_cgroup_stats st = {0};
	struct cg_dir *d = &cg->dirs[0];
	struct skiff_err *e = NULL;
	uint64_t usec = 0;
	bool found = false;

	if (cg_read_u64_opt(d, "memory.current", &st.mem_usage, err) < 0 ||
	    cg_read_u64_opt(d, "memory.max", &st.mem_limit, err) < 0 ||
	    cg_read_u64_opt(d, "pids.current", &st.pids_current, err) < 0)
		return -1;
	if (cg_read_keyed(d->dir, "cpu.stat", "usage_usec", &usec, &found, &e) < 0) {
		if (err_status(e) != ENOENT) {
			*err = e;
			return -1;
		}
		err_free(e);
	}
	st.cpu_usage_ns = usec > UINT64_MAX / 1000 ? UINT64_MAX : usec * 1000;
	*ret = st;
	return 0;
}

const struct cg_ops cg_ops_v2 = {
	.mode = RT_CGROUP_V2,
	.enter = v2_enter,
	.update = v2_update,
	.freeze = v2_freeze,
	.pids = v2_pids,
	.kill_all = v2_kill_all,
	.destroy = v2_destroy,
	.oom_killed = v2_oom_killed,
	.stats = v2_stats,
};
