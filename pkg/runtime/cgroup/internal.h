/* Internal to pkg/runtime/cgroup/: the backend table, the cgroup object, the pure parsers
 * and conversions (unit-tested on their own) and the file helpers the backends share. */
#ifndef SKIFF_RUNTIME_CGROUP_INTERNAL_H
#define SKIFF_RUNTIME_CGROUP_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "pkg/runtime/cgroup.h"

/* One cgroup mount from mountinfo. */
struct cg_mount {
	char *mountpoint;  /* absolute, unescaped */
	char *root;	   /* the mount's root inside its hierarchy ("/" usually) */
	char *controllers; /* v1: "cpu,cpuacct", "memory", "name=systemd"; v2: "" */
	bool v2;
};
struct cg_layout {
	struct cg_mount *v;
	size_t len, alloc;
};
/* Parse mountinfo text: cgroup and cgroup2 mounts that are visible (a later mount on or
 * above a mount point hides it), one per hierarchy (first wins). Appends to an empty *out;
 * EINVAL naming the line for malformed text (*out is released then). */
int cg_parse_mountinfo(const char *text, struct cg_layout *out, struct skiff_err **err);
void cg_layout_release(struct cg_layout *l);
/* Choose a mode: the side with more of cpu, cpuset, memory, pids wins (ties to v2, when
 * mounted); v1 with only other controllers still beats nothing. v2_controllers is the
 * cgroup2 root's cgroup.controllers (space-separated, may be NULL). */
enum rt_cgroup_mode cg_choose_mode(const struct cg_layout *l, const char *v2_controllers);

/* /proc/self/cgroup: "ID:CONTROLLERS:PATH" lines. */
struct cg_self_entry {
	unsigned id;
	char *controllers; /* "" for the v2 line */
	char *path;	   /* absolute */
};
struct cg_self {
	struct cg_self_entry *v;
	size_t len, alloc;
};
int cg_parse_proc_cgroup(const char *text, struct cg_self *out, struct skiff_err **err);
void cg_self_release(struct cg_self *s);
/* The path for a hierarchy: v2, the "0::" line; v1, the line with the same controller set. */
const char *cg_self_lookup(const struct cg_self *s, const char *controllers, bool v2);

/* Comma-separated controller lists. */
bool cg_controllers_has(const char *list, const char *name);
bool cg_controllers_equal(const char *a, const char *b);

/* cgroupsPath -> "/a/b" (absolute) or "a/b" (relative); see cgroup.h. EINVAL naming it. */
int cg_normalize_path(const char *cgroups_path, const char *id, bool rootless, char **ret, struct skiff_err **err);

/* Conversions. */
uint64_t cg_shares_to_weight(uint64_t shares); /* 0 for 0 (not set); clamps to 2..262144 */
/* cpu.max text, NULL when nothing is to be written. Quota 0 and period 0 are "not set", a
 * negative quota is "max". current is the present cpu.max, used for its quota when only a
 * period is given (may be NULL: "max"). */
char *cg_v2_cpu_max(bool has_quota, int64_t quota, bool has_period, uint64_t period, const char *current);
/* "c 1:3 rwm", "a *:* rwm". */
int cg_v1_device_rule(const struct spec_rt_device_rule *r, char **ret, struct skiff_err **err);
/* The checks rt_cgroup_open() makes on resources (EINVAL naming the field). */
int cg_validate_resources(const struct spec_rt_resources *r, struct skiff_err **err);
/* Append the podman flags of the limits r asks for ("--memory", "--pids-limit" ...). */
void cg_requested_flags(const struct spec_rt_resources *r, struct strv *out);
/* Does r need a write to controller ("memory", "cpu", "cpuset", "pids", "devices")? */
bool cg_needs_controller(const struct spec_rt_resources *r, const char *controller);
/* Is any controller of a comma list needed? */
bool cg_needs_any(const struct spec_rt_resources *r, const char *controllers);

/* The object. */
struct cg_dir {
	char *controllers; /* as in struct cg_mount */
	char *mountpoint;
	char *path; /* under the mount point, absolute form: "/skiff/abc" */
	char *dir;  /* mountpoint + path */
	bool used;  /* false: not joined (not delegated, or dropped) */
};

struct cg_ops;
struct rt_cgroup {
	const struct cg_ops *ops;
	struct cg_dir *dirs;
	size_t n_dirs, alloc_dirs;
	const struct spec_rt_resources *resources; /* from the config; may be NULL */
	bool rootless;
	unsigned timeout_ms; /* bound for freeze waits and EBUSY rmdir retries */
};

struct cg_ops {
	enum rt_cgroup_mode mode;
	int (*enter)(struct rt_cgroup *cg, pid_t pid, struct strv *warnings, struct skiff_err **err);
	int (*update)(struct rt_cgroup *cg, const struct spec_rt_resources *r, struct skiff_err **err);
	int (*freeze)(struct rt_cgroup *cg, bool freeze, struct skiff_err **err);
	int (*pids)(struct rt_cgroup *cg, pid_t **ret, size_t *ret_n, struct skiff_err **err);
	int (*kill_all)(struct rt_cgroup *cg, int sig, struct skiff_err **err);
	int (*destroy)(struct rt_cgroup *cg, struct skiff_err **err);
	int (*oom_killed)(struct rt_cgroup *cg, bool *ret, struct skiff_err **err);
	int (*stats)(struct rt_cgroup *cg, struct rt_cgroup_stats *ret, struct skiff_err **err);
};
extern const struct cg_ops cg_ops_v1, cg_ops_v2, cg_ops_disabled;

/* Reopen with mountinfo text (NULL: read /proc/self/mountinfo). */
int cg_from_serialized_with(const char *s, const char *mountinfo, struct rt_cgroup **ret, struct skiff_err **err);
/* Turn cg into a DISABLED manager (drops its directories). */
void cg_make_disabled(struct rt_cgroup *cg);
/* "cgroups: REASON; running without resource limits (--memory ignored)" into warnings. */
void cg_warn_disabled(struct strv *warnings, const char *reason, const struct spec_rt_resources *r);
/* The used directory whose hierarchy has controller; NULL if none. */
struct cg_dir *cg_find_dir(struct rt_cgroup *cg, const char *controller);
size_t cg_count_used(const struct rt_cgroup *cg);

/* Files. Errors name the full path: "cgroup: write \"VALUE\" to DIR/FILE: strerror". */
int cg_write(const char *dir, const char *file, const char *value, struct skiff_err **err);
int cg_read(const char *dir, const char *file, char **ret, struct skiff_err **err);
/* A single number ("max" is UINT64_MAX). */
int cg_read_u64(const char *dir, const char *file, uint64_t *ret, struct skiff_err **err);
/* "KEY VALUE" lines (memory.events, cpu.stat, memory.oom_control): *ret_found false when
 * the key is absent. */
int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *ret, bool *ret_found,
		  struct skiff_err **err);
/* Parse cgroup.procs text (one positive pid a line), appending; what names it in errors. */
int cg_parse_pids(const char *text, const char *what, pid_t **v, size_t *n, size_t *alloc, struct skiff_err **err);
/* cgroup.procs of dir and of every sub-cgroup (depth-bounded). */
int cg_collect_pids(const char *dir, pid_t **ret, size_t *ret_n, struct skiff_err **err);
/* Create mountpoint + path one level at a time; hook (may be NULL) runs for every level
 * below the mount point after it exists, with its parent directory. */
typedef int (*cg_level_hook)(const char *parent, const char *dir, void *data, struct skiff_err **err);
int cg_mkdir_path(const char *mountpoint, const char *path, cg_level_hook hook, void *data, struct skiff_err **err);
/* rmdir dir after its sub-cgroups, retrying EBUSY for up to timeout_ms; ENOENT is fine. */
int cg_rmdir_tree(const char *dir, unsigned timeout_ms, struct skiff_err **err);
/* Sleep a little (growing with *iter); false once timeout_ms since start have passed. */
bool cg_backoff(const struct timespec *start, unsigned timeout_ms, unsigned *iter);
/* freeze, signal every pid, thaw (for v1 and v2 without cgroup.kill). */
int cg_kill_each(struct rt_cgroup *cg, int sig, struct skiff_err **err);
/* The errnos rootless degrades on rather than fails. */
static inline bool cg_errno_degradable(int e)
{
	return e == EACCES || e == EPERM || e == EROFS || e == ENOENT;
}

/* A write while applying resources: with lenient (rootless enter), a degradable failure
 * becomes a warning in warnings and 0. */
struct cg_apply {
	bool lenient;
	struct strv *warnings;
};
int cg_apply_write(struct cg_apply *a, const char *dir, const char *file, const char *value, struct skiff_err **err);
/* The same for an error already made: takes e; 0 when it became a warning, else -1 with
 * e moved to *err. */
int cg_apply_fail(struct cg_apply *a, struct skiff_err *e, struct skiff_err **err);
/* cg_read_u64 where a missing directory (d NULL) or file gives 0 (for stats). */
int cg_read_u64_opt(const struct cg_dir *d, const char *file, uint64_t *ret, struct skiff_err **err);

#endif
