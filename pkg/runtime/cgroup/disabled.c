/*
 * The disabled manager: no cgroup at all (rootless without delegation, no cgroup mounts,
 * or --cgroup-manager disabled). Entering and destroying do nothing; what needs a cgroup
 * is ENOTSUP.
 */
#include "pkg/runtime/cgroup/internal.h"

#include <errno.h>
#include <stdlib.h>

#include "vendor-free/strbuf.h"

#define NO_CGROUP "cgroup: this container runs without a cgroup (cgroups disabled)"

static int dis_enter(struct rt_cgroup *cg, pid_t pid, struct strv *warnings, struct skiff_err **err)
{
	return 0;
}

static int dis_update(struct rt_cgroup *cg, const struct spec_rt_resources *r, struct skiff_err **err)
{
	struct strv flags = STRV_INIT;
	struct strbuf sb = STRBUF_INIT;

	cg_requested_flags(r, &flags);
	if (!flags.len)
		return 0;
	for (size_t i = 0; i < flags.len; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", flags.v[i]);
	strv_release(&flags);
	err_makex(err, ENOTSUP, "%s: cannot apply %s", NO_CGROUP, sb.buf);
	strbuf_release(&sb);
	return -1;
}

static int dis_freeze(struct rt_cgroup *cg, bool freeze, struct skiff_err **err)
{
	return err_makex(err, ENOTSUP, NO_CGROUP);
}

static int dis_pids(struct rt_cgroup *cg, pid_t **ret, size_t *ret_n, struct skiff_err **err)
{
	return err_makex(err, ENOTSUP, NO_CGROUP);
}

static int dis_kill_all(struct rt_cgroup *cg, int sig, struct skiff_err **err)
{
	return err_makex(err, ENOTSUP, NO_CGROUP);
}

static int dis_destroy(struct rt_cgroup *cg, struct skiff_err **err)
{
	return 0;
}

static int dis_oom_killed(struct rt_cgroup *cg, bool *ret, struct skiff_err **err)
{
	return err_makex(err, ENOTSUP, NO_CGROUP);
}

static int dis_stats(struct rt_cgroup *cg, struct rt_cgroup_stats *ret, struct skiff_err **err)
{
	return err_makex(err, ENOTSUP, NO_CGROUP);
}

const struct cg_ops cg_ops_disabled = {
	.mode = RT_CGROUP_DISABLED,
	.enter = dis_enter,
	.update = dis_update,
	.freeze = dis_freeze,
	.pids = dis_pids,
	.kill_all = dis_kill_all,
	.destroy = dis_destroy,
	.oom_killed = dis_oom_killed,
	.stats = dis_stats,
};
