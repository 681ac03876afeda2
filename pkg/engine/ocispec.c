/* pkg/engine ocispec: a container's configuration + its image's config -> the OCI runtime
 * spec, as podman's pkg/specgen/generate and libpod's generateSpec make it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pkg/engine/ctrconfig-internal.h"
#include "pkg/spec/seccomp.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/pathres.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#define INIT_PATH "/run/skiff-init"
#define RLIMIT_DEFAULT 1048576u /* podman's RLimitDefaultValue */
#define SECCOMP_PROFILE_MAX (4u << 20)
#define MAX_HOST_DEVICES 4096

/* podman 4's defaults (containers/common DefaultMaskedPaths, DefaultReadOnlyPaths). */
static const char *const masked_paths[] = {
	"/proc/acpi",	    "/proc/kcore",	 "/proc/keys",	      "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware",    "/sys/fs/selinux",	 "/sys/dev/block",    "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
	"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* ---- capabilities ---- */

static const char *const cap_names[] = {
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_DAC_READ_SEARCH",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",
	"CAP_NET_RAW",
	"CAP_IPC_LOCK",
	"CAP_IPC_OWNER",
	"CAP_SYS_MODULE",
	"CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",
	"CAP_SYS_ADMIN",
	"CAP_SYS_BOOT",
	"CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",
	"CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG",
	"CAP_MKNOD",
	"CAP_LEASE",
	"CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",
	"CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN",
	"CAP_SYSLOG",
	"CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ",
	"CAP_PERFMON",
	"CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

static int cap_index(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (strcmp(cap_names[i], name) == 0)
			return (int)i;
	return -1;
}

static bool in_bounding(int idx)
{
	return prctl(PR_CAPBSET_READ, (unsigned long)idx, 0, 0, 0) == 1;
}

/* The engine's bounding set, sorted by name (podman's capabilities.BoundingSet). */
static void bounding_set(struct strv *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (in_bounding((int)i))
			strv_push(out, cap_names[i]);
	strv_sort(out);
}

/* "net_admin" / "CAP_NET_ADMIN" / "all" -> "CAP_NET_ADMIN" / "ALL"; unknown: EINVAL. */
static int cap_normalize(const struct strv *in, struct strv *out, struct skiff_err **err)
{
	for (size_t i = 0; i < in->len; i++) {
		cleanup_free char *up = xstrdup(in->v[i]);
		cleanup_free char *full = NULL;
		for (char *p = up; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		if (strcmp(up, "ALL") == 0) {
			strv_push(out, "ALL");
			continue;
		}
		full = strncmp(up, "CAP_", 4) == 0 ? xstrdup(up) : xasprintf("CAP_%s", up);
		if (cap_index(full) < 0)
			return ctr_err(err, EINVAL, "unknown capability \"%.64s\"", in->v[i]);
		strv_push(out, full);
	}
	return 0;
}

/* podman's capabilities.MergeCapabilities: base + adds - drops, sorted; "ALL" in drops
 * keeps only the adds, "ALL" in adds starts from the bounding set. */
static int cap_merge(const struct strv *base, const struct strv *adds_in, const struct strv *drops_in, struct strv *out,
		     struct skiff_err **err)
{
	cleanup_strv struct strv adds = STRV_INIT, drops = STRV_INIT, all = STRV_INIT, res = STRV_INIT;
	const struct strv *from = base;

	if (cap_normalize(adds_in, &adds, err) < 0 || cap_normalize(drops_in, &drops, err) < 0)
		return -1;
	if (strv_contains(&drops, "ALL")) {
		if (strv_contains(&adds, "ALL"))
			return ctr_err(err, EINVAL, "adding all caps and removing all caps not allowed");
		for (size_t i = 0; i < adds.len; i++)
			if (!strv_contains(&res, adds.v[i]))
				strv_push(&res, adds.v[i]);
	} else {
		if (strv_contains(&adds, "ALL")) {
			bounding_set(&all);
			from = &all;
			strv_release(&adds);
		}
		for (size_t i = 0; i < adds.len; i++)
			if (strv_contains(&drops, adds.v[i]))
				return ctr_err(err, EINVAL, "capability \"%s\" cannot be dropped and added", adds.v[i]);
		for (size_t i = 0; i < from->len; i++)
			if (!strv_contains(&drops, from->v[i]) && !strv_contains(&res, from->v[i]))
				strv_push(&res, from->v[i]);
		for (size_t i = 0; i < adds.len; i++)
			if (!strv_contains(&res, adds.v[i]))
				strv_push(&res, adds.v[i]);
	}
	strv_sort(&res);
	/* only what the engine itself may hand on */
	for (size_t i = 0; i < res.len; i++)
		if (in_bounding(cap_index(res.v[i])))
			strv_push(out, res.v[i]);
	return 0;
}

static void strv_copy(struct strv *dst, const struct strv *src)
{
	strv_release(dst);
	for (size_t i = 0; i < src->len; i++)
		strv_push(dst, src->v[i]);
}

static int set_caps(struct spec_runtime *s, const struct ctr_config *c, bool root, struct skiff_err **err)
{
	struct spec_rt_process *p = spec_runtime_ensure_process(s);
	struct spec_rt_caps *caps = p->capabilities;
	cleanup_strv struct strv list = STRV_INIT, user = STRV_INIT;

	if (!caps)
		caps = p->capabilities = xzalloc(sizeof(*caps));
	if (c->privileged) {
		bounding_set(&list);
	} else {
		cleanup_strv struct strv base = STRV_INIT;
		strv_copy(&base, &caps->bounding); /* spec_runtime_default's: podman's default set */
		if (cap_merge(&base, &c->cap_add, &c->cap_drop, &list, err) < 0)
			return -1;
	}
	strv_copy(&caps->bounding, &list);
	strv_release(&caps->inheritable);
	strv_release(&caps->ambient);
	if (root) {
		strv_copy(&caps->effective, &list);
		strv_copy(&caps->permitted, &list);
		return 0;
	}
	/* a non-root user gets only what was added, in all sets, so that it survives exec */
	if (!c->privileged) {
		cleanup_strv struct strv none = STRV_INIT;
		if (cap_merge(&none, &c->cap_add, &none, &user, err) < 0)
			return -1;
	}
	strv_copy(&caps->effective, &user);
	strv_copy(&caps->permitted, &user);
	strv_copy(&caps->inheritable, &user);
	strv_copy(&caps->ambient, &user);
	return 0;
}

static bool have_cap(int cap)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return (d[cap / 32].effective >> (cap % 32)) & 1u;
}

/* ---- process ---- */

/* Set KEY=VALUE (kv) in env, replacing an entry of the same key. */
static void env_put(struct strv *env, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	for (size_t i = 0; i < env->len; i++) {
		if (strncmp(env->v[i], kv, klen) == 0 && (env->v[i][klen] == '=' || env->v[i][klen] == '\0')) {
			free(env->v[i]);
			env->v[i] = xstrdup(kv);
			return;
		}
	}
	strv_push(env, kv);
}

static bool env_has(const struct strv *env, const char *key)
{
	size_t klen = strlen(key);
	for (size_t i = 0; i < env->len; i++)
		if (strncmp(env->v[i], key, klen) == 0 && env->v[i][klen] == '=')
			return true;
	return false;
}

static bool is_empty_entrypoint(const struct strv *ep)
{
	return ep->len == 0 || (ep->len == 1 && ep->v[0][0] == '\0');
}

static int set_args(struct spec_runtime *s, const struct ctr_config *c, const struct spec_container_config *ic,
		    const struct ctr_spec_env *env, struct skiff_err **err)
{
	struct strv *args = &s->process->args;
	const struct strv *ep = c->has_entrypoint ? &c->entrypoint : ic ? &ic->entrypoint : NULL;
	const struct strv *cmd = &c->command;

	/* --entrypoint drops the image's Cmd; a command replaces it */
	if (!cmd->len && !c->has_entrypoint && ic)
		cmd = &ic->cmd;
	strv_release(args);
	if (c->init) {
		if (!env->init_path || !*env->init_path)
			return ctr_err(err, EINVAL, "--init: no init binary configured");
		if (c->pid_mode && *c->pid_mode && strcmp(c->pid_mode, "private") != 0)
			return ctr_err(err, EINVAL, "--init needs a private PID namespace (--pid %s)", c->pid_mode);
		strv_push(args, INIT_PATH);
		strv_push(args, "--");
	}
	if (ep && !is_empty_entrypoint(ep))
		for (size_t i = 0; i < ep->len; i++)
			strv_push(args, ep->v[i]);
	for (size_t i = 0; i < cmd->len; i++)
		strv_push(args, cmd->v[i]);
	if (args->len == (c->init ? 2u : 0u))
		return ctr_err(err, EINVAL,
			       "no command specified: no command or entrypoint given, and none in the image");
	return 0;
}

static void set_env(struct spec_runtime *s, const struct ctr_config *c, const struct spec_container_config *ic,
		    const char *hostname, const char *home)
{
	struct strv *e = &s->process->env;

	strv_release(e);
	for (size_t i = 0; ic && i < ic->env.len; i++)
		env_put(e, ic->env.v[i]);
	if (!env_has(e, "PATH"))
		env_put(e, SPEC_RUNTIME_DEFAULT_PATH);
	for (size_t i = 0; i < c->env.len; i++)
		env_put(e, c->env.v[i]);
	if (c->tty && !env_has(e, "TERM"))
		env_put(e, "TERM=xterm");
	if (!env_has(e, "HOSTNAME"))
		strv_pushf(e, "HOSTNAME=%s", hostname);
	if (!env_has(e, "HOME"))
		strv_pushf(e, "HOME=%s", home && *home ? home : "/");
}

/* ---- --userns=keep-id (rootless) ---- */

/* From our own map (we are root of the rootless namespace): the host id our 0 stands for,
 * and how many ids the namespace has. */
static int own_map(const char *file, uint32_t *ret_host, uint32_t *ret_size, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (read_file_at(AT_FDCWD, file, 65536, &buf, &len, err) < 0)
		return -1;
	uint64_t total = 0;
	bool found = false;
	for (char *l = buf; l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		unsigned long in, out, n;
		if (sscanf(l, "%lu %lu %lu", &in, &out, &n) == 3) {
			total += n;
			if (in == 0) {
				*ret_host = (uint32_t)out;
				found = true;
			}
		}
		l = nl ? nl + 1 : NULL;
	}
	if (!found || total < 2 || total > UINT32_MAX)
		return ctr_err(err, EINVAL, "--userns=keep-id: %s maps no range to use", file);
	*ret_size = (uint32_t)total;
	return 0;
}

static bool keep_id(const struct ctr_config *c)
{
	return c->userns_mode && !strcmp(c->userns_mode, "keep-id");
}

/* container 0..U-1 -> 1..U, U -> 0 (us), U+1.. -> U+1.. : the user keeps their id */
static int keep_id_maps(struct spec_rt_idmaps *m, const char *file, uint32_t *ret_id, struct skiff_err **err)
{
	uint32_t host, size;
	if (own_map(file, &host, &size, err) < 0)
		return -1;
	if (host >= size)
		return ctr_err(err, EINVAL, "--userns=keep-id: id %u is outside the %u ids of the user namespace", host,
			       size);
	free(m->v);
	memset(m, 0, sizeof(*m));
	struct spec_rt_idmap v[3];
	size_t n = 0;
	if (host > 0)
		v[n++] = (struct spec_rt_idmap){.container_id = 0, .host_id = 1, .size = host};
	v[n++] = (struct spec_rt_idmap){.container_id = host, .host_id = 0, .size = 1};
	if (size - 1 > host)
		v[n++] = (struct spec_rt_idmap){.container_id = host + 1, .host_id = host + 1, .size = size - 1 - host};
	m->v = xcalloc(n, sizeof(*m->v));
	memcpy(m->v, v, n * sizeof(*v));
	m->len = m->alloc = n;
	*ret_id = host;
	return 0;
}

static int set_user(struct spec_runtime *s, const struct ctr_config *c, const struct spec_container_config *ic,
		    const struct ctr_spec_env *env, struct ctr_exec_user *u, struct skiff_err **err)
{
	const char *spec = c->user && *c->user ? c->user : ic && ic->user && *ic->user ? ic->user : "";
	struct spec_rt_user *pu = &s->process->user;
	char kid[32];
	if (keep_id(c) && !(c->user && *c->user)) {
		/* the user's own ids, as podman's keep-id */
		uint32_t uh, us, gh, gs;
		if (own_map("/proc/self/uid_map", &uh, &us, err) < 0 ||
		    own_map("/proc/self/gid_map", &gh, &gs, err) < 0)
			return -1;
		snprintf(kid, sizeof(kid), "%u:%u", uh, gh);
		spec = kid;
	}

	if (ctr_lookup_exec_user(env->rootfs_fd, spec, u, err) < 0)
		return -1;
	pu->uid = u->uid;
	pu->gid = u->gid;
	pu->has_umask = true;
	pu->umask = 022;
	free(pu->additional_gids.v);
	memset(&pu->additional_gids, 0, sizeof(pu->additional_gids));
	/* as podman: the primary group, --group-add, then the memberships in /etc/group */
	ctr_u32_list_add(&pu->additional_gids, u->gid);
	if (ctr_lookup_groups(env->rootfs_fd, &c->group_add, &pu->additional_gids, err) < 0)
		return err_wrap(err, "--group-add");
	for (size_t i = 0; i < u->sgids.len; i++)
		ctr_u32_list_add(&pu->additional_gids, u->sgids.v[i]);
	return 0;
}

/* podman: rlimits it cannot raise (rootless, or no CAP_SYS_RESOURCE) are clamped to ours. */
static void set_rlimits(struct spec_runtime *s, const struct ctr_config *c, const struct ctr_spec_env *env)
{
	static const struct {
		const char *name;
		int res;
	} defs[] = {{"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC}};
	struct spec_rt_process *p = s->process;
	bool clamp = env->rootless || !have_cap(CAP_SYS_RESOURCE);

	for (size_t i = 0; i < p->n_rlimits; i++)
		free(p->rlimits[i].type);
	p->n_rlimits = 0;
	for (size_t i = 0; i < ARRAY_SIZE(defs); i++) {
		uint64_t soft = RLIMIT_DEFAULT, hard = RLIMIT_DEFAULT;
		struct rlimit rl;
		if (clamp && getrlimit(defs[i].res, &rl) == 0) {
			if ((uint64_t)rl.rlim_cur < soft)
				soft = rl.rlim_cur;
			if ((uint64_t)rl.rlim_max < hard)
				hard = rl.rlim_max;
			if (soft > hard)
				soft = hard;
		}
		spec_runtime_set_rlimit(s, defs[i].name, hard, soft);
	}
	for (size_t i = 0; i < c->n_ulimits; i++)
		spec_runtime_set_rlimit(s, c->ulimits[i].name, c->ulimits[i].hard, c->ulimits[i].soft);
}

static int set_oom(struct spec_runtime *s, const struct ctr_config *c, const struct ctr_spec_env *env,
		   struct skiff_err **err)
{
	int v = c->oom_score_adj;

	if (!c->has_oom_score_adj)
		return 0;
	if (v < -1000 || v > 1000)
		return ctr_err(err, EINVAL, "invalid --oom-score-adj %d: must be in -1000..1000", v);
	if (env->rootless) {
		/* an unprivileged process cannot go below its own value */
		cleanup_free char *buf = NULL;
		if (read_file_at(AT_FDCWD, "/proc/self/oom_score_adj", 64, &buf, NULL, NULL) == 0) {
			int cur = atoi(buf);
			if (v < cur)
				v = cur;
		}
	}
	s->process->has_oom_score_adj = true;
	s->process->oom_score_adj = v;
	return 0;
}

/* ---- mounts ---- */

enum mnt_origin { MNT_DEFAULT, MNT_ETC, MNT_USER };

struct mnt {
	char *dest, *type, *src;
	struct strv opts;
	enum mnt_origin origin;
};

struct mnt_list {
	struct mnt *v;
	size_t len, alloc;
};

static void mnt_list_release(struct mnt_list *l)
{
	for (size_t i = 0; i < l->len; i++) {
		free(l->v[i].dest);
		free(l->v[i].type);
		free(l->v[i].src);
		strv_release(&l->v[i].opts);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static struct mnt *mnt_add(struct mnt_list *l, enum mnt_origin origin, const char *dest, const char *type,
			   const char *src, const char *opts)
{
	struct mnt *m;
	ALLOC_GROW(l->v, l->len + 1, l->alloc);
	m = &l->v[l->len++];
	memset(m, 0, sizeof(*m));
	m->origin = origin;
	m->dest = xstrdup(dest);
	m->type = xstrdup(type);
	m->src = src ? xstrdup(src) : NULL;
	if (opts && *opts)
		strv_split(&m->opts, opts, ',');
	return m;
}

static bool user_mount_at(const struct ctr_config *c, const char *dest)
{
	for (size_t i = 0; i < c->n_mounts; i++)
		if (c->mounts[i].destination && strcmp(c->mounts[i].destination, dest) == 0)
			return true;
	return false;
}

static size_t path_depth(const char *p)
{
	size_t n = 0;
	if (strcmp(p, "/") == 0)
		return 0;
	for (; *p; p++)
		n += *p == '/';
	return n;
}

static bool any_of(const struct strv *o, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strv_contains(o, names[i]))
			return true;
	return false;
}

/* podman's util.ProcessOptions for a -v/--mount bind or a --tmpfs: defaults for what the
 * user left out, engine-only options (z, Z, U, copy, nocopy, notmpcopyup) dropped. */
static int user_mount_opts(const struct ctr_mount *um, struct strv *out, struct skiff_err **err)
{
	static const char *const drop[] = {"z", "Z", "U", "copy", "nocopy", "notmpcopyup"};
	static const char *const props[] = {"shared",  "rshared",  "slave",	 "rslave",
					    "private", "rprivate", "unbindable", "runbindable"};
	static const char *const rw[] = {"ro", "rw"};
	bool tmpfs = strcmp(um->type, "tmpfs") == 0;
	bool nosuid = true, nodev = true, noexec = true;

	for (size_t i = 0; i < um->options.len; i++) {
		bool dropped = false;
		for (size_t k = 0; k < ARRAY_SIZE(drop); k++)
			dropped |= strcmp(um->options.v[i], drop[k]) == 0;
		if (!dropped)
			strv_push(out, um->options.v[i]);
	}
	if (!any_of(out, rw, ARRAY_SIZE(rw)))
		strv_push(out, "rw");
	if (!any_of(out, props, ARRAY_SIZE(props)))
		strv_push(out, "rprivate");
	if (!tmpfs) {
		/* keep the flags the source's mount has: the kernel refuses to clear them in a
		 * user namespace */
		struct statvfs sv;
		if (!um->source || statvfs(um->source, &sv) < 0)
			return err_make(err, um->source ? errno : EINVAL, "bind mount source %s",
					um->source ? um->source : "(none)");
		nosuid = sv.f_flag & ST_NOSUID;
		nodev = sv.f_flag & ST_NODEV;
		noexec = sv.f_flag & ST_NOEXEC;
	}
	if (nosuid && !strv_contains(out, "suid") && !strv_contains(out, "nosuid"))
		strv_push(out, "nosuid");
	if (nodev && !strv_contains(out, "dev") && !strv_contains(out, "nodev"))
		strv_push(out, "nodev");
	if (noexec && !strv_contains(out, "exec") && !strv_contains(out, "noexec"))
		strv_push(out, "noexec");
	if (tmpfs) {
		if (!strv_contains(out, "tmpcopyup") && !strv_contains(&um->options, "notmpcopyup"))
			strv_push(out, "tmpcopyup");
	} else if (!strv_contains(out, "bind") && !strv_contains(out, "rbind")) {
		strv_push(out, "rbind");
	}
	return 0;
}

/* Is gid 5 (tty) mapped in our user namespace? (podman: GetAvailableGids >= 5) */
static bool gid5_mapped(void)
{
	cleanup_free char *buf = NULL;
	char *cur, *line;

	if (read_file_at(AT_FDCWD, "/proc/self/gid_map", 1u << 16, &buf, NULL, NULL) < 0)
		return true;
	for (cur = buf; (line = strsep(&cur, "\n"));) {
		unsigned long long inside, outside, count;
		if (sscanf(line, "%llu %llu %llu", &inside, &outside, &count) == 3 && inside <= 5 && 5 < inside + count)
			return true;
	}
	return false;
}

static int default_mounts(struct mnt_list *l, const struct ctr_config *c, const struct ctr_spec_env *env,
			  bool cgroup_rw, struct skiff_err **err)
{
	const char *ro_rw = c->privileged ? "rw" : "ro";
	bool ipc_host = ctr_ns_is_host(c->ipc_mode);
	struct strbuf o = STRBUF_INIT;

	if (env->rootless && ctr_ns_is_host(c->pid_mode))
		mnt_add(l, MNT_DEFAULT, "/proc", "bind", "/proc", "rbind,nosuid,noexec,nodev");
	else
		mnt_add(l, MNT_DEFAULT, "/proc", "proc", "proc", "nosuid,noexec,nodev");
	mnt_add(l, MNT_DEFAULT, "/dev", "tmpfs", "tmpfs",
		c->read_only && !c->read_only_tmpfs ? "nosuid,strictatime,mode=755,size=65536k,ro"
						    : "nosuid,strictatime,mode=755,size=65536k");
	mnt_add(l, MNT_DEFAULT, "/dev/pts", "devpts", "devpts",
		!env->rootless || gid5_mapped() ? "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"
						: "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620");
	if (ipc_host)
		mnt_add(l, MNT_DEFAULT, "/dev/shm", "bind", "/dev/shm", "bind,rprivate,nosuid,noexec,nodev");
	else if (c->ipc_mode && strncmp(c->ipc_mode, "container:", 10) == 0 && env->ipc_shm_source)
		mnt_add(l, MNT_DEFAULT, "/dev/shm", "bind", env->ipc_shm_source, "bind,rprivate,nosuid,noexec,nodev");
	else if (!c->ipc_mode || strcmp(c->ipc_mode, "none") != 0)
		mnt_add(l, MNT_DEFAULT, "/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k");
	if (env->rootless && ipc_host)
		mnt_add(l, MNT_DEFAULT, "/dev/mqueue", "bind", "/dev/mqueue", "bind,nosuid,noexec,nodev");
	else
		mnt_add(l, MNT_DEFAULT, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
	if (env->rootless) {
		/* as podman where it cannot mount a sysfs: the host's, read-only */
		strbuf_addf(&o, "rprivate,nosuid,noexec,nodev,%s,rbind", ro_rw);
		mnt_add(l, MNT_DEFAULT, "/sys", "bind", "/sys", o.buf);
		strbuf_reset(&o);
		strbuf_addf(&o, "rprivate,nosuid,noexec,nodev,%s", cgroup_rw ? "rw" : "ro");
		mnt_add(l, MNT_DEFAULT, "/sys/fs/cgroup", "cgroup", "/sys/fs/cgroup", o.buf);
	} else {
		mnt_add(l, MNT_DEFAULT, "/sys", "sysfs", "sysfs",
			c->privileged ? "rprivate,nosuid,noexec,nodev,rw" : "nosuid,noexec,nodev,ro");
		strbuf_addf(&o, "rprivate,nosuid,noexec,nodev,relatime,%s", cgroup_rw ? "rw" : "ro");
		mnt_add(l, MNT_DEFAULT, "/sys/fs/cgroup", "cgroup", "cgroup", o.buf);
	}
	strbuf_release(&o);

	/* the files ctr_write_etc_files wrote */
	{
		static const struct {
			const char *dest, *file;
		} etc[] = {{"/etc/hosts", "hosts"},
			   {"/etc/resolv.conf", "resolv.conf"},
			   {"/etc/hostname", "hostname"},
			   {"/run/.containerenv", ".containerenv"}};
		if (!env->userdata || env->userdata[0] != '/')
			return ctr_err(err, EINVAL, "container userdata dir \"%s\" is not an absolute path",
				       env->userdata ? env->userdata : "");
		for (size_t i = 0; i < ARRAY_SIZE(etc); i++) {
			cleanup_free char *src = xasprintf("%s/%s", env->userdata, etc[i].file);
			struct strbuf eo = STRBUF_INIT;
			/* podman: no resolv.conf without a network */
			if (!strcmp(etc[i].file, "resolv.conf") && c->network && !strcmp(c->network, "none"))
				continue;
			strbuf_addstr(&eo, "bind,rprivate");
			if (!strcmp(etc[i].file, ".containerenv"))
				strbuf_addstr(&eo, ",ro");
			if (c->read_only)
				strbuf_addstr(&eo, strcmp(etc[i].file, ".containerenv") ? ",ro,nosuid,noexec,nodev"
											: ",nosuid,noexec,nodev");
			mnt_add(l, MNT_ETC, etc[i].dest, "bind", src, eo.buf);
			strbuf_release(&eo);
		}
	}
	if (c->init)
		mnt_add(l, MNT_ETC, INIT_PATH, "bind", env->init_path, "bind,rprivate,ro");
	if (c->read_only && c->read_only_tmpfs) {
		static const char *const rot[] = {"/tmp", "/var/tmp", "/run"};
		for (size_t i = 0; i < ARRAY_SIZE(rot); i++)
			mnt_add(l, MNT_ETC, rot[i], "tmpfs", "tmpfs", "rw,rprivate,nosuid,nodev,tmpcopyup");
	}
	return 0;
}

static int user_mounts(struct mnt_list *l, const struct ctr_config *c, const char *volumes_dir, struct skiff_err **err)
{
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct ctr_mount *um = &c->mounts[i];
		struct mnt *m;
		/* a volume is a bind of its data directory (pkg/engine/volumes.c) */
		cleanup_free char *vsrc = NULL;
		struct ctr_mount vm;
		if (um->type && !strcmp(um->type, "volume")) {
			if (!um->source || !volumes_dir || strchr(um->source, '/'))
				return ctr_err(err, EINVAL, "mount %zu: volume \"%s\" without a name or volumes dir", i,
					       um->source ? um->source : "");
			vsrc = xasprintf("%s/%s/_data", volumes_dir, um->source);
			vm = *um;
			vm.type = (char *)"bind";
			vm.source = vsrc;
			um = &vm;
		}

		if (!um->type || (strcmp(um->type, "bind") != 0 && strcmp(um->type, "tmpfs") != 0))
			return ctr_err(err, EINVAL, "mount %zu: unsupported type \"%s\"", i, um->type ? um->type : "");
		if (!um->destination || um->destination[0] != '/')
			return ctr_err(err, EINVAL, "mount %zu: destination \"%s\" is not absolute", i,
				       um->destination ? um->destination : "");
		for (size_t k = 0; k < i; k++)
			if (strcmp(c->mounts[k].destination, um->destination) == 0)
				return ctr_err(err, EINVAL, "duplicate mount destination %s", um->destination);
		m = mnt_add(l, MNT_USER, um->destination, um->type,
			    strcmp(um->type, "tmpfs") == 0 ? "tmpfs" : um->source, NULL);
		if (user_mount_opts(um, &m->opts, err) < 0)
			return -1;
	}
	return 0;
}

/* Drop defaults that a user mount replaces (same destination; everything under /dev when
 * the user mounts /dev), stable-sort by depth (parents first, as podman's sortMounts), and
 * move the result into the spec. */
static void finish_mounts(struct spec_runtime *s, struct mnt_list *l, const struct ctr_config *c)
{
	bool user_dev = user_mount_at(c, "/dev");
	size_t maxd = 0;

	for (size_t i = 0; i < s->n_mounts; i++) {
		free(s->mounts[i].destination);
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		strv_release(&s->mounts[i].options);
		json_free(s->mounts[i].extra);
	}
	s->n_mounts = 0;
	for (size_t i = 0; i < l->len; i++)
		if (path_depth(l->v[i].dest) > maxd)
			maxd = path_depth(l->v[i].dest);
	for (size_t d = 0; d <= maxd; d++) {
		for (size_t i = 0; i < l->len; i++) {
			struct mnt *m = &l->v[i];
			struct spec_rt_mount *sm;
			if (path_depth(m->dest) != d)
				continue;
			if (m->origin != MNT_USER &&
			    (user_mount_at(c, m->dest) || (user_dev && strncmp(m->dest, "/dev/", 5) == 0)))
				continue;
			sm = spec_runtime_add_mount(s, m->dest, m->type, m->src, NULL);
			sm->options = m->opts;
			m->opts = (struct strv)STRV_INIT;
		}
	}
}

/* --privileged: the host's devices (runc's HostDevices: char and block nodes under /dev,
 * without pts, shm, fd, mqueue and the console). */
struct hostdev {
	char *path;
	char type;
	int64_t major, minor;
	uint32_t mode, uid, gid;
};
struct hostdev_list {
	struct hostdev *v;
	size_t len, alloc;
};

static void scan_devices(int dfd, const char *dir, int depth, struct hostdev_list *out)
{
	static const char *const skip[] = {"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"};
	cleanup_dir DIR *d = NULL;
	struct dirent *de;

	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) && out->len < MAX_HOST_DEVICES) {
		struct stat st;
		bool skipped = false;
		cleanup_free char *path = NULL;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (S_ISDIR(st.st_mode)) {
			for (size_t i = 0; i < ARRAY_SIZE(skip); i++)
				skipped |= strcmp(de->d_name, skip[i]) == 0;
			if (skipped || depth >= 8)
				continue;
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				scan_devices(sub, path, depth + 1, out);
			continue;
		}
		if ((!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) || !strcmp(path, "/dev/console"))
			continue;
		ALLOC_GROW(out->v, out->len + 1, out->alloc);
		out->v[out->len++] = (struct hostdev){.path = TAKE_PTR(path),
						      .type = S_ISCHR(st.st_mode) ? 'c' : 'b',
						      .major = major(st.st_rdev),
						      .minor = minor(st.st_rdev),
						      .mode = st.st_mode & 07777,
						      .uid = st.st_uid,
						      .gid = st.st_gid};
	}
}

static void add_privileged_devices(struct spec_runtime *s, struct mnt_list *l, const struct ctr_config *c,
				   bool rootless)
{
	struct spec_rt_linux *lx = spec_runtime_ensure_linux(s);
	struct hostdev_list devs = {0};
	int dfd = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd >= 0)
		scan_devices(dfd, "/dev", 0, &devs);
	if (lx->resources) {
		for (size_t i = 0; i < lx->resources->n_devices; i++) {
			free(lx->resources->devices[i].type);
			free(lx->resources->devices[i].access);
		}
		lx->resources->n_devices = 0;
	}
	for (size_t i = 0; i < devs.len; i++) {
		struct hostdev *h = &devs.v[i];
		if (rootless) {
			/* no mknod in a user namespace: bind them */
			if (strcmp(h->path, "/dev/ptmx") != 0 && strncmp(h->path, "/dev/tty", 8) != 0 &&
			    !user_mount_at(c, h->path))
				mnt_add(l, MNT_ETC, h->path, "bind", h->path, "slave,nosuid,noexec,rw,rbind");
		} else {
			struct spec_rt_device *d;
			ALLOC_GROW(lx->devices, lx->n_devices + 1, lx->alloc_devices);
			d = &lx->devices[lx->n_devices++];
			memset(d, 0, sizeof(*d));
			d->path = xstrdup(h->path);
			d->type = h->type;
			d->major = h->major;
			d->minor = h->minor;
			d->has_file_mode = d->has_uid = d->has_gid = true;
			d->file_mode = h->mode;
			d->uid = h->uid;
			d->gid = h->gid;
		}
		free(h->path);
	}
	free(devs.v);
	if (!rootless) {
		struct spec_rt_device_rule *r;
		if (!lx->resources)
			lx->resources = xzalloc(sizeof(*lx->resources));
		ALLOC_GROW(lx->resources->devices, 1, lx->resources->alloc_devices);
		r = &lx->resources->devices[0];
		memset(r, 0, sizeof(*r));
		r->allow = true;
		r->access = xstrdup("rwm");
		lx->resources->n_devices = 1;
	}
}

/* ---- masked paths ---- */

static bool unmasked(const char *path, const struct strv *unmask)
{
	for (size_t i = 0; i < unmask->len; i++) {
		cleanup_strv struct strv pats = STRV_INIT;
		if (strcasecmp(unmask->v[i], "all") == 0)
			return true;
		strv_split(&pats, unmask->v[i], ':');
		for (size_t k = 0; k < pats.len; k++)
			if (fnmatch(pats.v[k], path, FNM_PATHNAME) == 0)
				return true;
	}
	return false;
}

static int set_masked(struct spec_runtime *s, const struct ctr_config *c, const struct ctr_spec_env *env,
		      struct skiff_err **err)
{
	struct spec_rt_linux *l = spec_runtime_ensure_linux(s);

	strv_release(&l->masked_paths);
	strv_release(&l->readonly_paths);
	if (!c->privileged) {
		for (size_t i = 0; i < ARRAY_SIZE(masked_paths); i++)
			if (!unmasked(masked_paths[i], &c->unmask))
				strv_push(&l->masked_paths, masked_paths[i]);
		for (size_t i = 0; i < ARRAY_SIZE(readonly_paths); i++)
			if (!unmasked(readonly_paths[i], &c->unmask))
				strv_push(&l->readonly_paths, readonly_paths[i]);
		/* the host's /sys is bound in rootless: hide its kernel knobs */
		if (env->rootless && !unmasked("/sys/kernel", &c->unmask))
			strv_push(&l->masked_paths, "/sys/kernel");
		if (env->rootless && ctr_ns_is_host(c->pid_mode))
			return 0;
	}
	for (size_t i = 0; i < c->mask.len; i++) {
		cleanup_strv struct strv parts = STRV_INIT;
		strv_split(&parts, c->mask.v[i], ':');
		for (size_t k = 0; k < parts.len; k++) {
			if (parts.v[k][0] != '/')
				return ctr_err(err, EINVAL, "invalid mask path \"%.256s\": must be absolute",
					       parts.v[k]);
			if (!strv_contains(&l->masked_paths, parts.v[k]))
				strv_push(&l->masked_paths, parts.v[k]);
		}
	}
	return 0;
}

/* ---- namespaces ---- */

enum ns_how { NS_NEW, NS_HOST, NS_JOIN };

static int ns_mode(const char *flag, const char *mode, enum spec_ns_type t, const struct ctr_spec_env *env,
		   enum ns_how *how, const char **path, struct skiff_err **err)
{
	*path = NULL;
	if (!mode || !*mode || !strcmp(mode, "private")) {
		*how = NS_NEW;
	} else if (!strcmp(mode, "host")) {
		*how = NS_HOST;
	} else if (!strncmp(mode, "container:", 10)) {
		if (!mode[10])
			return ctr_err(err, EINVAL, "invalid --%s \"%s\": no container named", flag, mode);
		if (!env->ns_paths[t])
			return ctr_err(err, EINVAL, "--%s %s: the container's namespace was not resolved", flag, mode);
		*how = NS_JOIN;
		*path = env->ns_paths[t];
	} else if (!strncmp(mode, "ns:", 3)) {
		if (mode[3] != '/')
			return ctr_err(err, EINVAL, "invalid --%s \"%s\": ns: needs an absolute path", flag, mode);
		*how = NS_JOIN;
		*path = mode + 3;
	} else if (t == SPEC_NS_NETWORK) {
		/* none, bridge, pasta, slirp4netns or a network name: a namespace of its own
		 * (only lo here), or the one the engine made and connected (pkg/net) */
		*how = env->ns_paths[t] ? NS_JOIN : NS_NEW;
		*path = env->ns_paths[t];
	} else if (t == SPEC_NS_IPC && (!strcmp(mode, "none") || !strcmp(mode, "shareable"))) {
		*how = NS_NEW;
	} else {
		return ctr_err(err, EINVAL, "invalid --%s \"%s\"", flag, mode);
	}
	return 0;
}

static bool cgroup2_unified(void)
{
	struct statfs fs;
	return statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

static int set_namespaces(struct spec_runtime *s, const struct ctr_config *c, const struct ctr_spec_env *env,
			  struct skiff_err **err)
{
	const struct {
		enum spec_ns_type t;
		const char *flag, *mode;
	} all[] = {
		{SPEC_NS_PID, "pid", c->pid_mode},	  {SPEC_NS_NETWORK, "network", c->network},
		{SPEC_NS_IPC, "ipc", c->ipc_mode},	  {SPEC_NS_UTS, "uts", c->uts_mode},
		{SPEC_NS_MOUNT, "mount", NULL},		  {SPEC_NS_CGROUP, "cgroupns", c->cgroupns_mode},
		{SPEC_NS_USER, "userns", c->userns_mode},
	};
	struct spec_rt_linux *l = spec_runtime_ensure_linux(s);

	for (size_t i = 0; i < l->n_namespaces; i++)
		free(l->namespaces[i].path);
	l->n_namespaces = 0;
	/* rootless: the engine already runs in its user namespace; nothing to map */
	free(l->uid_mappings.v);
	free(l->gid_mappings.v);
	memset(&l->uid_mappings, 0, sizeof(l->uid_mappings));
	memset(&l->gid_mappings, 0, sizeof(l->gid_mappings));

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		enum ns_how how = NS_NEW;
		const char *path;
		const char *mode = all[i].mode;

		if (all[i].t == SPEC_NS_USER && ctr_userns_is_auto(c)) {
			/* a namespace of its own: 0.. -> the ids picked at create */
			if (!c->userns_size)
				return ctr_err(err, EINVAL, "--userns=auto: the container has no ids picked");
			l->uid_mappings.v = xcalloc(1, sizeof(*l->uid_mappings.v));
			l->uid_mappings.v[0] = (struct spec_rt_idmap){0, c->userns_uid, c->userns_size};
			l->uid_mappings.len = l->uid_mappings.alloc = 1;
			l->gid_mappings.v = xcalloc(1, sizeof(*l->gid_mappings.v));
			l->gid_mappings.v[0] = (struct spec_rt_idmap){0, c->userns_gid, c->userns_size};
			l->gid_mappings.len = l->gid_mappings.alloc = 1;
			spec_runtime_set_namespace(s, SPEC_NS_USER, NULL);
			continue;
		}
		if (all[i].t == SPEC_NS_USER) {
			/* no user namespace of its own unless one is joined, or keep-id */
			if (mode && !strcmp(mode, "keep-id")) {
				uint32_t u, g;
				if (!env->rootless)
					return ctr_err(err, EINVAL, "--userns=keep-id is only supported rootless");
				if (keep_id_maps(&l->uid_mappings, "/proc/self/uid_map", &u, err) < 0 ||
				    keep_id_maps(&l->gid_mappings, "/proc/self/gid_map", &g, err) < 0)
					return -1;
				spec_runtime_set_namespace(s, SPEC_NS_USER, NULL);
				continue;
			}
			if (mode && *mode && strcmp(mode, "host") != 0 && strncmp(mode, "container:", 10) != 0 &&
			    strncmp(mode, "ns:", 3) != 0)
				return ctr_err(err, ENOTSUP, "--userns %s is not supported yet", mode);
			if (!mode || !*mode || !strcmp(mode, "host"))
				continue;
		}
		if (all[i].t == SPEC_NS_CGROUP && (!mode || !*mode) && !cgroup2_unified())
			mode = "host"; /* podman's default on cgroup v1 */
		if (ns_mode(all[i].flag, mode, all[i].t, env, &how, &path, err) < 0)
			return -1;
		if (how == NS_HOST)
			continue;
		spec_runtime_set_namespace(s, all[i].t, path);
	}
	return 0;
}

/* ---- resources ---- */

static struct spec_rt_resources *res(struct spec_runtime *s)
{
	struct spec_rt_linux *l = spec_runtime_ensure_linux(s);
	if (!l->resources)
		l->resources = xzalloc(sizeof(*l->resources));
	return l->resources;
}

static int set_resources(struct spec_runtime *s, const struct ctr_config *c, struct skiff_err **err)
{
	if (c->memory < 0 || c->memory_reservation < 0 || c->memory_swap < -1)
		return ctr_err(err, EINVAL, "invalid memory limits: negative size");
	if (c->memory_swap && !c->memory)
		return ctr_err(err, EINVAL, "--memory-swap needs --memory");
	if (c->memory_swap > 0 && c->memory_swap < c->memory)
		return ctr_err(err, EINVAL, "--memory-swap %" PRId64 " must be at least --memory %" PRId64,
			       c->memory_swap, c->memory);
	if (c->memory && c->memory_reservation > c->memory)
		return ctr_err(err, EINVAL, "--memory-reservation %" PRId64 " must not exceed --memory %" PRId64,
			       c->memory_reservation, c->memory);
	if (c->memory || c->memory_reservation) {
		struct spec_rt_resources *r = res(s);
		if (!r->memory)
			r->memory = xzalloc(sizeof(*r->memory));
		if (c->memory) {
			r->memory->has_limit = true;
			r->memory->limit = c->memory;
			r->memory->has_swap = true;
			/* podman: swap twice the memory unless given */
			r->memory->swap = c->memory_swap	      ? c->memory_swap
					  : c->memory > INT64_MAX / 2 ? -1
								      : 2 * c->memory;
		}
		if (c->memory_reservation) {
			r->memory->has_reservation = true;
			r->memory->reservation = c->memory_reservation;
		}
	}

	if (c->cpus < 0 || !isfinite(c->cpus))
		return ctr_err(err, EINVAL, "invalid --cpus %g", c->cpus);
	if (c->cpus > 0 && (c->cpu_period || c->cpu_quota))
		return ctr_err(err, EINVAL, "--cpus conflicts with --cpu-period and --cpu-quota");
	if (c->cpu_quota < -1)
		return ctr_err(err, EINVAL, "invalid --cpu-quota %" PRId64, c->cpu_quota);
	if (c->cpus > 0 || c->cpu_period || c->cpu_quota || c->cpu_shares || c->cpuset_cpus || c->cpuset_mems) {
		struct spec_rt_resources *r = res(s);
		struct spec_rt_cpu *cpu = r->cpu;
		if (!cpu)
			cpu = r->cpu = xzalloc(sizeof(*cpu));
		if (c->cpus > 0) {
			double q = c->cpus * 100000.0;
			if (q >= 9.2e18)
				return ctr_err(err, EINVAL, "invalid --cpus %g: too large", c->cpus);
			cpu->has_period = cpu->has_quota = true;
			cpu->period = 100000;
			cpu->quota = (int64_t)llround(q);
		}
		if (c->cpu_period) {
			cpu->has_period = true;
			cpu->period = c->cpu_period;
		}
		if (c->cpu_quota) {
			cpu->has_quota = true;
			cpu->quota = c->cpu_quota;
		}
		if (c->cpu_shares) {
			cpu->has_shares = true;
			cpu->shares = c->cpu_shares;
		}
		if (c->cpuset_cpus && *c->cpuset_cpus)
			cpu->cpus = xstrdup(c->cpuset_cpus);
		if (c->cpuset_mems && *c->cpuset_mems)
			cpu->mems = xstrdup(c->cpuset_mems);
	}
	if (c->has_pids_limit) {
		struct spec_rt_resources *r = res(s);
		r->has_pids = true;
		r->pids_limit = c->pids_limit > 0 ? c->pids_limit : -1;
	}
	return 0;
}

/* ---- sysctls ---- */

static int set_sysctls(struct spec_runtime *s, const struct ctr_config *c, struct skiff_err **err)
{
	struct spec_rt_linux *l = spec_runtime_ensure_linux(s);
	bool net_host = ctr_ns_is_host(c->network) || (c->network && !strncmp(c->network, "container:", 10));

	for (size_t i = 0; i < c->sysctls.len; i++) {
		const char *kv = c->sysctls.v[i];
		const char *eq = strchr(kv, '=');
		cleanup_free char *key = NULL;
		if (!eq || eq == kv || strlen(kv) > 4096)
			return ctr_err(err, EINVAL, "invalid --sysctl \"%.256s\": expected KEY=VALUE", kv);
		key = xstrndup(kv, (size_t)(eq - kv));
		if (ctr_ns_is_host(c->ipc_mode) && !strncmp(key, "fs.mqueue.", 10))
			return ctr_err(err, EINVAL, "--sysctl %s can't be set since IPC namespace set to host", key);
		if (ctr_ns_is_host(c->network) && !strncmp(key, "net.", 4))
			return ctr_err(err, EINVAL, "--sysctl %s can't be set since network namespace set to host",
				       key);
		if (ctr_ns_is_host(c->uts_mode) &&
		    (!strcmp(key, "kernel.domainname") || !strcmp(key, "kernel.hostname")))
			return ctr_err(err, EINVAL, "--sysctl %s can't be set since UTS namespace set to host", key);
		spec_map_set(&l->sysctl, key, eq + 1);
	}
	/* containers.conf's default_sysctls: ping works for everyone in a network of its own */
	if (!net_host && !spec_map_get(&l->sysctl, "net.ipv4.ping_group_range"))
		spec_map_set(&l->sysctl, "net.ipv4.ping_group_range", "0 0");
	return 0;
}

/* ---- seccomp ---- */

static int set_seccomp(struct spec_runtime *s, const struct ctr_config *c, const struct ctr_spec_env *env,
		       struct skiff_err **err)
{
	struct spec_rt_linux *l = spec_runtime_ensure_linux(s);
	cleanup_free char *buf = NULL;
	const char *profile = c->seccomp_profile;
	const char *text;
	size_t len;
	struct json *oci = NULL;

	json_free(l->seccomp);
	l->seccomp = NULL;
	if (profile && !strcmp(profile, "unconfined"))
		return 0;
	if (c->privileged && (!profile || !*profile))
		return 0;
	if (c->seccomp_json) {
		text = c->seccomp_json;
	} else {
		const char *path = profile && *profile ? profile : env->seccomp_default;
		if (!path || !*path)
			return ctr_err(err, EINVAL, "no seccomp profile: no default profile configured");
		if (read_file_at(AT_FDCWD, path, SECCOMP_PROFILE_MAX, &buf, NULL, err) < 0)
			return err_wrap(err, "seccomp profile");
		text = buf;
	}
	len = strlen(text);
	if (spec_seccomp_profile_to_oci(text, len, &s->process->capabilities->bounding, NULL, &oci, err) < 0)
		return -1;
	l->seccomp = oci;
	return 0;
}

/* ---- all together ---- */

int ctr_oci_spec(const struct ctr_config *c, const struct spec_image_config *img, const struct ctr_spec_env *env,
		 struct spec_runtime **ret, struct skiff_err **err)
{
	const struct spec_container_config *ic = img ? &img->config : NULL;
	cleanup_spec_runtime struct spec_runtime *s = NULL;
	cleanup_free char *hostname = NULL;
	struct ctr_exec_user u = {0};
	struct mnt_list mounts = {0};
	const char *cwd;
	bool cgroup_rw;
	int rc = -1;

	if (!env->rootfs || !*env->rootfs)
		return ctr_err(err, EINVAL, "container spec: no rootfs");
	s = spec_runtime_default(env->rootless);
	free(s->root_path);
	s->root_path = xstrdup(env->rootfs);
	s->root_readonly = c->read_only;

	if (ctr_hostname(c, &hostname, err) < 0)
		return -1;
	free(s->hostname);
	s->hostname = NULL;
	if (!c->uts_mode || !*c->uts_mode || !strcmp(c->uts_mode, "private"))
		s->hostname = xstrdup(hostname);

	s->process->terminal = c->tty;
	s->process->no_new_privileges = c->no_new_privileges;
	if (set_args(s, c, ic, env, err) < 0)
		return -1;

	cwd = c->workdir && *c->workdir			  ? c->workdir
	      : ic && ic->working_dir && *ic->working_dir ? ic->working_dir
							  : "/";
	if (cwd[0] != '/')
		return ctr_err(err, EINVAL, "working directory \"%.256s\" is not an absolute path", cwd);
	free(s->process->cwd);
	s->process->cwd = xstrdup(cwd);

	if (set_user(s, c, ic, env, &u, err) < 0)
		goto out;
	set_env(s, c, ic, hostname, u.home);
	if (set_caps(s, c, u.uid == 0, err) < 0)
		goto out;
	set_rlimits(s, c, env);
	if (set_oom(s, c, env, err) < 0 || set_seccomp(s, c, env, err) < 0 || set_namespaces(s, c, env, err) < 0)
		goto out;

	cgroup_rw = c->privileged || unmasked("/sys/fs/cgroup", &c->unmask);
	if (default_mounts(&mounts, c, env, cgroup_rw, err) < 0)
		goto out;
	if (c->privileged)
		add_privileged_devices(s, &mounts, c, env->rootless);
	if (user_mounts(&mounts, c, env->volumes_dir, err) < 0)
		goto out;
	finish_mounts(s, &mounts, c);
	if (set_masked(s, c, env, err) < 0 || set_resources(s, c, err) < 0 || set_sysctls(s, c, err) < 0)
		goto out;
	spec_map_release(&s->annotations);
	spec_map_copy(&s->annotations, &c->annotations);

	if (spec_runtime_validate(s, err) < 0) {
		err_wrap(err, "container spec");
		goto out;
	}
	*ret = TAKE_PTR(s);
	rc = 0;
out:
	ctr_exec_user_release(&u);
	mnt_list_release(&mounts);
	return rc;
}

/* ---- exec ---- */

int ctr_oci_exec_process(const struct ctr_config *c, const char *spec_json, size_t len,
			 const struct ctr_exec_process *x, char **ret, struct skiff_err **err)
{
	cleanup_spec_runtime struct spec_runtime *s = NULL;
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	cleanup_json struct json *j = NULL;
	struct ctr_exec_user u = {0};
	int rc = -1;

	if (!x->argv || !x->argv[0])
		return err_makex(err, EINVAL, "exec: no command given");
	if (spec_runtime_parse(spec_json, len, &s, err) < 0 || !s->process) {
		if (!*err)
			err_makex(err, EINVAL, "the container's spec has no process");
		return err_wrap(err, "container spec");
	}
	struct spec_rt_process *p = s->process;
	strv_release(&p->args);
	for (const char *const *a = x->argv; *a; a++)
		strv_push(&p->args, *a);
	p->terminal = x->tty;
	p->has_console_size = x->tty && x->rows && x->cols;
	p->console_height = x->rows;
	p->console_width = x->cols;
	if (x->workdir && *x->workdir) {
		if (x->workdir[0] != '/')
			return ctr_err(err, EINVAL, "working directory \"%.256s\" is not an absolute path", x->workdir);
		free(p->cwd);
		p->cwd = xstrdup(x->workdir);
	}
	bool home_given = false;
	for (const char *const *e = x->env; e && *e; e++) {
		const char *kv = *e;
		const char *eq = strchr(kv, '=');
		if (!eq)
			continue;
		cleanup_free char *key = xstrndup(kv, (size_t)(eq - kv));
		spec_runtime_setenv(s, key, eq + 1);
		home_given |= !strcmp(key, "HOME");
	}
	if (x->tty) {
		bool has_term = false;
		for (size_t i = 0; i < p->env.len; i++)
			has_term |= !strncmp(p->env.v[i], "TERM=", 5);
		if (!has_term)
			spec_runtime_setenv(s, "TERM", "xterm");
	}
	bool root = p->user.uid == 0;
	if (x->user && *x->user) {
		/* /etc/passwd and /etc/group inside the container's rootfs */
		cleanup_close int rootfd = s->root_path ? open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
		if (ctr_lookup_exec_user(rootfd, x->user, &u, err) < 0)
			goto out;
		p->user.uid = u.uid;
		p->user.gid = u.gid;
		free(p->user.additional_gids.v);
		memset(&p->user.additional_gids, 0, sizeof(p->user.additional_gids));
		for (size_t i = 0; i < u.sgids.len; i++)
			ctr_u32_list_add(&p->user.additional_gids, u.sgids.v[i]);
		if (u.home && !home_given)
			spec_runtime_setenv(s, "HOME", u.home);
		root = u.uid == 0;
	}
	/* the container's capabilities again (its bounding set is the merged one), for this
	 * user, and all of the engine's with --privileged */
	struct ctr_config tmp = *c;
	tmp.privileged = c->privileged || x->privileged;
	if (set_caps(s, &tmp, root, err) < 0)
		goto out;
	if (spec_runtime_generate(s, &out, err) < 0 || json_parse(out.buf, out.len, &j, err) < 0)
		goto out;
	struct json *proc = json_object_get(j, "process");
	if (!proc) {
		err_makex(err, EINVAL, "exec: no process in the generated spec");
		goto out;
	}
	strbuf_reset(&out);
	json_dump(proc, 0, &out);
	*ret = strbuf_detach(&out, NULL);
	rc = 0;
out:
	ctr_exec_user_release(&u);
	return rc;
}
