/* The container process: rlimits, user and groups, capabilities, the executable. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/runtime/internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

static const struct {
	const char *name;
	int res;
} rlimits[] = {
	{"RLIMIT_AS", RLIMIT_AS},
	{"RLIMIT_CORE", RLIMIT_CORE},
	{"RLIMIT_CPU", RLIMIT_CPU},
	{"RLIMIT_DATA", RLIMIT_DATA},
	{"RLIMIT_FSIZE", RLIMIT_FSIZE},
	{"RLIMIT_LOCKS", RLIMIT_LOCKS},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
	{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
	{"RLIMIT_NICE", RLIMIT_NICE},
	{"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_NPROC", RLIMIT_NPROC},
	{"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
	{"RLIMIT_RTTIME", RLIMIT_RTTIME},
	{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
	{"RLIMIT_STACK", RLIMIT_STACK},
};

int rt_apply_rlimits(const struct spec_rt_process *p, struct skiff_err **err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct spec_rt_rlimit *r = &p->rlimits[i];
		int res = -1;
		for (size_t k = 0; k < sizeof(rlimits) / sizeof(rlimits[0]); k++)
			if (!strcmp(rlimits[k].name, r->type))
				res = rlimits[k].res;
		if (res < 0)
			return err_makex(err, EINVAL, "rlimit %s: unknown", r->type);
		struct rlimit rl = {.rlim_cur = r->soft, .rlim_max = r->hard};
		if (setrlimit(res, &rl) == 0)
			continue;
		if (errno != EPERM)
			return err_make(err, errno, "setrlimit %s", r->type);
		/* Raising a hard limit needs CAP_SYS_RESOURCE: clamp to the hard limit we hold. */
		struct rlimit cur;
		if (getrlimit(res, &cur) < 0)
			return err_make(err, errno, "getrlimit %s", r->type);
		if (rl.rlim_max <= cur.rlim_max)
			return err_make(err, EPERM, "setrlimit %s", r->type);
		rl.rlim_max = cur.rlim_max;
		if (rl.rlim_cur > rl.rlim_max)
			rl.rlim_cur = rl.rlim_max;
		if (setrlimit(res, &rl) < 0)
			return err_make(err, errno, "setrlimit %s", r->type);
	}
	return 0;
}

int rt_apply_user(const struct spec_rt_process *p, bool setgroups_allowed, struct skiff_err **err)
{
	const struct spec_rt_user *u = &p->user;
	if (setgroups_allowed) {
		const struct spec_rt_u32_list *g = &u->additional_gids;
		gid_t *gids = g->len ? xcalloc(g->len, sizeof(gid_t)) : NULL;
		for (size_t i = 0; i < g->len; i++)
			gids[i] = g->v[i];
		int rc = setgroups(g->len, gids);
		free(gids);
		if (rc < 0)
			return err_make(err, errno, "setgroups");
	} else if (u->additional_gids.len) {
		return err_makex(err, EPERM, "additional groups: the user namespace denies setgroups");
	}
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return err_make(err, errno, "setgid %u", u->gid);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return err_make(err, errno, "keep capabilities");
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return err_make(err, errno, "setuid %u", u->uid);
	umask(u->has_umask ? (mode_t)u->umask : 022);
	return 0;
}

int rt_capability_from_name(const char *name, int *ret, struct skiff_err **err)
{
	cap_value_t v;
	if (strncasecmp(name, "CAP_", 4) != 0 || cap_from_name(name, &v) < 0)
		return err_makex(err, EINVAL, "unknown capability \"%s\"", name);
	*ret = (int)v;
	return 0;
}

static int caps_set(cap_t c, cap_flag_t flag, const struct strv *names, uint64_t *mask, struct skiff_err **err)
{
	for (size_t i = 0; i < names->len; i++) {
		int v;
		if (rt_capability_from_name(names->v[i], &v, err) < 0)
			return -1;
		if (v > CAP_LAST_CAP && !CAP_IS_SUPPORTED(v))
			continue; /* newer than this kernel: nothing to grant */
		cap_value_t cv = v;
		if (c && cap_set_flag(c, flag, 1, &cv, CAP_SET) < 0)
			return err_make(err, errno, "capability %s", names->v[i]);
		if (mask && v < 64)
			*mask |= 1ULL << v;
	}
	return 0;
}

/* Before the uid changes: drop what the bounding set does not keep. */
static int drop_bounding(const struct spec_rt_caps *caps, struct skiff_err **err)
{
	uint64_t keep = 0;
	if (caps_set(NULL, CAP_PERMITTED, &caps->bounding, &keep, err) < 0)
		return -1;
	int last = cap_max_bits() - 1;
	for (int v = 0; v <= last && v < 64; v++) {
		if (keep & (1ULL << v))
			continue;
		if (prctl(PR_CAPBSET_DROP, v, 0, 0, 0) < 0 && errno != EINVAL)
			return err_make(err, errno, "drop capability %d from the bounding set", v);
	}
	return 0;
}

int rt_apply_caps(const struct spec_rt_process *p, struct skiff_err **err)
{
	const struct spec_rt_caps *caps = p->capabilities;
	if (!caps)
		return 0;
	cap_t c = cap_init();
	if (!c)
		return err_make(err, errno, "capabilities");
	int rc = -1;
	if (caps_set(c, CAP_EFFECTIVE, &caps->effective, NULL, err) < 0 ||
	    caps_set(c, CAP_PERMITTED, &caps->permitted, NULL, err) < 0 ||
	    caps_set(c, CAP_INHERITABLE, &caps->inheritable, NULL, err) < 0)
		goto out;
	if (cap_set_proc(c) < 0) {
		err_make(err, errno, "set capabilities");
		goto out;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		err_make(err, errno, "clear ambient capabilities");
		goto out;
	}
	for (size_t i = 0; i < caps->ambient.len; i++) {
		int v;
		if (rt_capability_from_name(caps->ambient.v[i], &v, err) < 0)
			goto out;
		/* like crun: an ambient cap that is not permitted+inheritable is skipped */
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, v, 0, 0) < 0 && errno != EPERM && errno != EINVAL) {
			err_make(err, errno, "raise ambient capability %s", caps->ambient.v[i]);
			goto out;
		}
	}
	rc = 0;
out:
	cap_free(c);
	return rc;
}

int rt_drop_bounding(const struct spec_rt_process *p, struct skiff_err **err)
{
	return p->capabilities ? drop_bounding(p->capabilities, err) : 0;
}

static const char *env_path(const struct spec_rt_process *p)
{
	for (size_t i = 0; i < p->env.len; i++)
		if (!strncmp(p->env.v[i], "PATH=", 5))
			return p->env.v[i] + 5;
	return &SPEC_RUNTIME_DEFAULT_PATH[5];
}

int rt_find_executable(const struct spec_rt_process *p, char **ret, struct skiff_err **err)
{
	const char *name = p->args.v[0];
	struct stat st;
	if (!*name)
		return err_makex(err, ENOENT, "executable file `` not found");
	if (strchr(name, '/')) {
		if (stat(name, &st) < 0)
			return err_make(err, errno, "executable file `%s`", name);
		if (S_ISDIR(st.st_mode))
			return err_makex(err, EACCES, "executable file `%s` is a directory", name);
		*ret = xstrdup(name);
		return 0;
	}
	const char *path = env_path(p);
	bool denied = false;
	while (path) {
		const char *colon = strchr(path, ':');
		size_t dlen = colon ? (size_t)(colon - path) : strlen(path);
		char *cand = NULL;
		if (asprintf(&cand, "%.*s/%s", (int)dlen, dlen ? path : ".", name) < 0)
			return err_make(err, ENOMEM, "executable file `%s`", name);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(cand, X_OK) == 0 || geteuid() == 0) {
				*ret = cand;
				return 0;
			}
			denied = true;
		}
		free(cand);
		path = colon ? colon + 1 : NULL;
	}
	if (denied)
		return err_make(err, EACCES, "executable file `%s`", name);
	return err_makex(err, ENOENT, "executable file `%s` not found in $PATH: No such file or directory", name);
}
