/*
 * pkg/runtime cgroup managers: put a container in a cgroup, apply linux.resources, and
 * later freeze, list, kill, measure and remove it. Backends sit behind a table of function
 * pointers (pkg/runtime/cgroup/internal.h): v2 (unified), v1 (legacy, one hierarchy per
 * controller set) and disabled.
 *
 * Detection reads /proc/self/mountinfo (never hardcoded paths). Hybrid hosts (v1
 * controller hierarchies plus a cgroup2 mount holding few or no controllers) use v1: the
 * mode with more of cpu/cpuset/memory/pids wins, ties go to v2. Rootless (cfg->rootless,
 * euid != 0, or a user namespace) uses cgroups only where the target's nearest existing
 * ancestor is writable (a delegated cgroup); otherwise it runs without limits and warns
 * once. Nothing here fails for lack of cgroups; only bad configuration is an error.
 *
 * Paths: cgroupsPath NULL or "" is "/skiff/<id>". An absolute path is relative to each
 * hierarchy's mount point; a relative one is under the runtime's own cgroup of that
 * hierarchy (/proc/self/cgroup); "slice:prefix:name" (systemd form) is the cgroupfs path
 * "/<slice>/<prefix>-<name>.scope" (empty slice: system.slice, user.slice rootless).
 *
 * Resources (linux.resources):
 *   memory.limit        v1 memory.limit_in_bytes      v2 memory.max
 *   memory.reservation  v1 memory.soft_limit_in_bytes v2 memory.low
 *   memory.swap (mem+swap total)
 *                       v1 memory.memsw.limit_in_bytes v2 memory.swap.max = swap - limit
 *   cpu.shares          v1 cpu.shares                 v2 cpu.weight (1 + ((s-2)*9999)/262142)
 *   cpu.quota/period    v1 cpu.cfs_quota_us/period_us v2 cpu.max "quota period" / "max period"
 *   cpu.cpus/mems       cpuset.cpus / cpuset.mems (v1: copied from the parent into every
 *                       new cpuset directory first, or no task could join)
 *   pids.limit          pids.max ("max" for <= 0)
 *   devices             v1 devices.deny / devices.allow in order. On v2 device rules are a
 *                       silent no-op (they need a BPF program; not implemented).
 * Zero memory limit/reservation/swap and zero shares mean "not set", as in runc. Other
 * keys (swappiness, disableOOMKiller, blockIO, hugepageLimits, unified, cpu burst and
 * realtime ...) are ignored.
 *
 *     struct rt_cgroup_config c = { .id = id, .cgroups_path = path, .resources = res };
 *     if (rt_cgroup_open(&c, &cg, &warnings, err) < 0)
 *             return err_wrap(err, "container %s", id);
 *     ... clone ...
 *     if (rt_cgroup_enter(cg, pid, &warnings, err) < 0) { rt_cgroup_destroy(cg, NULL); ... }
 *     state->cgroup = rt_cgroup_serialize(cg);
 */
#ifndef SKIFF_RUNTIME_CGROUP_H
#define SKIFF_RUNTIME_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pkg/spec/runtime.h"
#include "vendor-free/err.h"
#include "vendor-free/strv.h"

enum rt_cgroup_mode { RT_CGROUP_DISABLED, RT_CGROUP_V1, RT_CGROUP_V2 };

struct rt_cgroup_config {
	const char *id;		  /* container id (required unless cgroups_path is given) */
	const char *cgroups_path; /* linux.cgroupsPath or NULL (see above) */
	/* May be NULL. Not copied: it must stay valid until rt_cgroup_enter() returns. */
	const struct spec_rt_resources *resources;
	const char *manager; /* "cgroupfs" (NULL: the default), "disabled", "systemd" (falls
				back to cgroupfs with a warning) */
	bool rootless;
	/* Tests only: these texts replace /proc/self/mountinfo and /proc/self/cgroup, and
	   then euid and user namespace are not consulted (rootless is exactly the field). */
	const char *test_mountinfo;
	const char *test_proc_cgroup;
};

struct rt_cgroup; /* opaque */

/* Detect the layout and choose a mode. Lack of cgroups gives a DISABLED manager and one
 * line in *warnings (which may be NULL) naming the limits that are ignored. EINVAL for bad
 * configuration: cgroupsPath with "..", control characters or naming the root cgroup,
 * an unknown manager, invalid resources (swap below limit, bad cpuset or device rule). */
int rt_cgroup_open(const struct rt_cgroup_config *cfg, struct rt_cgroup **ret, struct strv *warnings,
		   struct skiff_err **err);
enum rt_cgroup_mode rt_cgroup_mode(const struct rt_cgroup *cg);
/* Create the cgroup(s), apply the resources given to open, move pid in. Rootless, a
 * controller that cannot be created, written or joined (EACCES/EPERM/EROFS/ENOENT) is
 * dropped with a warning (all dropped: the manager becomes DISABLED). As root, a failure in
 * a hierarchy that carries a requested limit is an error naming the file; other
 * hierarchies are dropped with a warning. On failure the caller should call destroy. */
int rt_cgroup_enter(struct rt_cgroup *cg, pid_t pid, struct strv *warnings, struct skiff_err **err);
/* Apply new resources (skiff-runtime update); every failure is an error. On a DISABLED
 * manager, ENOTSUP if r asks for any limit, else nothing. */
int rt_cgroup_update(struct rt_cgroup *cg, const struct spec_rt_resources *r, struct skiff_err **err);
/* Freeze or thaw and wait (bounded, ETIMEDOUT) until the kernel reports the state.
 * ENOTSUP when disabled or there is no freezer (v1). */
int rt_cgroup_freeze(struct rt_cgroup *cg, bool freeze, struct skiff_err **err);
/* Pids in the cgroup and its sub-cgroups (cgroup.procs). *ret is allocated (NULL when
 * empty). ENOTSUP when disabled. */
int rt_cgroup_pids(struct rt_cgroup *cg, pid_t **ret, size_t *ret_n, struct skiff_err **err);
/* Signal every process: v2 SIGKILL through cgroup.kill when present; otherwise freeze (if
 * possible), signal each pid, thaw. ENOTSUP when disabled. */
int rt_cgroup_kill_all(struct rt_cgroup *cg, int sig, struct skiff_err **err);
/* Remove the cgroup directories, sub-cgroups first, retrying EBUSY a bounded number of
 * times. Missing directories are fine; disabled: nothing to do. */
int rt_cgroup_destroy(struct rt_cgroup *cg, struct skiff_err **err);
/* One line to reopen the cgroup from another process: "disabled", "v2:/skiff/abc",
 * "v1:/skiff/abc" (tab-separated "controllers:path" or "controllers:-" entries follow when
 * a hierarchy differs from the first path or is not used). Caller frees. */
char *rt_cgroup_serialize(const struct rt_cgroup *cg);
/* Reopen from rt_cgroup_serialize()'s text (EINVAL naming it when malformed). The
 * hierarchies are detected again from /proc/self/mountinfo. */
int rt_cgroup_from_serialized(const char *s, struct rt_cgroup **ret, struct skiff_err **err);
/* Was a process in it OOM-killed? (v1 memory.oom_control / v2 memory.events oom_kill > 0).
 * ENOTSUP when disabled or there is no memory controller. */
int rt_cgroup_oom_killed(struct rt_cgroup *cg, bool *ret, struct skiff_err **err);

struct rt_cgroup_stats {
	uint64_t mem_usage, mem_limit; /* bytes; mem_limit UINT64_MAX: unlimited */
	uint64_t cpu_usage_ns;
	uint64_t pids_current;
};
/* Stats; a value whose controller or file is missing is 0. ENOTSUP when disabled. */
int rt_cgroup_stats(struct rt_cgroup *cg, struct rt_cgroup_stats *ret, struct skiff_err **err);
void rt_cgroup_free(struct rt_cgroup *cg);

static inline void rt_cgroup_freep(struct rt_cgroup **p)
{
	if (*p)
		rt_cgroup_free(*p);
}
#define cleanup_rt_cgroup __attribute__((cleanup(rt_cgroup_freep)))

#endif
