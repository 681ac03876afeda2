/* start, state, kill, delete, pause/resume, list, features. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pkg/json/json.h"
#include "pkg/runtime/cgroup.h"
#include "pkg/runtime/internal.h"
#include "pkg/runtime/seccomp.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/xalloc.h"

struct loaded {
	int dirfd;
	struct rt_state st;
	enum rt_status status;
};

static int load(const struct rt_global *g, const char *id, struct loaded *ret, struct skiff_err **err)
{
	int dirfd;
	if (rt_state_open(g, id, &dirfd, err) < 0)
		return -1;
	if (rt_state_read(dirfd, &ret->st, err) < 0) {
		close(dirfd);
		return err_wrap(err, "container %s", id);
	}
	ret->dirfd = dirfd;
	ret->status = rt_state_status(dirfd, &ret->st);
	return 0;
}

static void unload(struct loaded *l)
{
	rt_state_release(&l->st);
	if (l->dirfd >= 0)
		close(l->dirfd);
}

int rt_start(const struct rt_global *g, const char *id, struct skiff_err **err)
{
	struct loaded l;
	if (load(g, id, &l, err) < 0)
		return -1;
	int rc = 0;
	if (l.status != RT_CREATED) {
		rc = err_makex(err, EINVAL, "container `%s` is not in created state (%s)", id,
			       rt_status_name(l.status));
		goto out;
	}
	/* the init holds the fifo open O_RDWR and blocks reading it */
	int fd = openat(l.dirfd, "exec.fifo", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		rc = err_make(err, errno == ENXIO ? ESRCH : errno, "start %s: open exec.fifo", id);
		goto out;
	}
	if (write(fd, "0", 1) != 1)
		rc = err_make(err, errno, "start %s: write exec.fifo", id);
	close(fd);
	if (rc == 0 && unlinkat(l.dirfd, "exec.fifo", 0) < 0 && errno != ENOENT)
		rc = err_make(err, errno, "start %s: remove exec.fifo", id);
out:
	unload(&l);
	return rc;
}

static void state_json(const struct loaded *l, struct json *j)
{
	json_object_set_string(j, "ociVersion", SPEC_RUNTIME_VERSION);
	json_object_set_string(j, "id", l->st.id);
	json_object_set_int(j, "pid", l->status == RT_STOPPED ? 0 : l->st.pid);
	json_object_set_string(j, "status", rt_status_name(l->status));
	json_object_set_string(j, "bundle", l->st.bundle);
	json_object_set_string(j, "rootfs", l->st.rootfs);
	json_object_set_string(j, "created", l->st.created);
	json_object_set_string(j, "owner", l->st.owner);
	if (l->st.annotations)
		json_object_set(j, "annotations", json_clone(l->st.annotations));
}

int rt_state(const struct rt_global *g, const char *id, struct strbuf *out, struct skiff_err **err)
{
	struct loaded l;
	if (load(g, id, &l, err) < 0)
		return -1;
	struct json *j = json_new_object();
	state_json(&l, j);
	json_dump(j, 2, out);
	strbuf_addch(out, '\n');
	json_free(j);
	unload(&l);
	return 0;
}

static int open_cgroup(const struct loaded *l, struct rt_cgroup **ret, struct skiff_err **err)
{
	return rt_cgroup_from_serialized(l->st.cgroup && *l->st.cgroup ? l->st.cgroup : "disabled", ret, err);
}

static int signal_init(const struct loaded *l, int sig, struct skiff_err **err)
{
	cleanup_close int pfd = rt_state_pidfd(&l->st);
	if (pfd < 0)
		return err_makex(err, ESRCH, "container `%s` is not running", l->st.id);
	if (syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0)
		return err_make(err, errno, "kill %s", l->st.id);
	return 0;
}

int rt_kill(const struct rt_global *g, const char *id, int sig, bool all, struct skiff_err **err)
{
	struct loaded l;
	if (load(g, id, &l, err) < 0)
		return -1;
	int rc = 0;
	if (l.status == RT_STOPPED) {
		rc = err_makex(err, ESRCH, "container `%s` is not running", id);
	} else if (all) {
		struct rt_cgroup *cg = NULL;
		if (open_cgroup(&l, &cg, err) < 0) {
			rc = -1;
		} else {
			if (rt_cgroup_mode(cg) == RT_CGROUP_DISABLED)
				rc = signal_init(&l, sig, err);
			else
				rc = rt_cgroup_kill_all(cg, sig, err);
			rt_cgroup_free(cg);
		}
	} else {
		rc = signal_init(&l, sig, err);
	}
	unload(&l);
	return rc;
}

/* Wait (bounded) until the init has exited. */
static int wait_gone(const struct loaded *l, int timeout_ms, struct skiff_err **err)
{
	cleanup_close int pfd = rt_state_pidfd(&l->st);
	if (pfd < 0)
		return 0;
	struct pollfd p = {.fd = pfd, .events = POLLIN};
	int n;
	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return err_makex(err, ETIMEDOUT, "container `%s` did not exit after SIGKILL", l->st.id);
	return 0;
}

int rt_delete(const struct rt_global *g, const char *id, bool force, struct skiff_err **err)
{
	struct loaded l;
	if (load(g, id, &l, err) < 0)
		return -1;
	int rc = 0;
	struct rt_cgroup *cg = NULL;
	if (open_cgroup(&l, &cg, err) < 0) {
		unload(&l);
		return -1;
	}
	if (l.status != RT_STOPPED) {
		if (!force) {
			rc = err_makex(err, EBUSY, "cannot delete container `%s` that is not stopped: %s", id,
				       rt_status_name(l.status));
			goto out;
		}
		if (rt_cgroup_mode(cg) != RT_CGROUP_DISABLED) {
			struct skiff_err *e = NULL;
			rt_cgroup_kill_all(cg, SIGKILL, &e);
			err_free(e);
		}
		struct skiff_err *e = NULL;
		if (signal_init(&l, SIGKILL, &e) < 0)
			err_free(e);
		if (wait_gone(&l, 10000, err) < 0) {
			rc = -1;
			goto out;
		}
	}
	if (rt_cgroup_destroy(cg, err) < 0) {
		rc = -1;
		goto out;
	}
	rc = rt_state_remove(g, id, err);
out:
	rt_cgroup_free(cg);
	unload(&l);
	return rc < 0 ? err_wrap(err, "delete %s", id) : 0;
}

int rt_pause(const struct rt_global *g, const char *id, bool pause, struct skiff_err **err)
{
	struct loaded l;
	if (load(g, id, &l, err) < 0)
		return -1;
	int rc = 0;
	struct rt_cgroup *cg = NULL;
	if (l.status != (pause ? RT_RUNNING : RT_PAUSED)) {
		rc = err_makex(err, EINVAL, "container `%s` is %s", id, rt_status_name(l.status));
	} else if (open_cgroup(&l, &cg, err) < 0) {
		rc = -1;
	} else if (rt_cgroup_mode(cg) == RT_CGROUP_DISABLED) {
		rc = err_makex(err, ENOTSUP, "container `%s` has no cgroup to freeze (cgroups are unavailable here)",
			       id);
	} else {
		rc = rt_cgroup_freeze(cg, pause, err);
		if (rc == 0 && pause) {
			int fd = openat(l.dirfd, "paused", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
			if (fd < 0)
				rc = err_make(err, errno, "mark paused");
			else
				close(fd);
		} else if (rc == 0 && unlinkat(l.dirfd, "paused", 0) < 0 && errno != ENOENT) {
			rc = err_make(err, errno, "unmark paused");
		}
	}
	if (cg)
		rt_cgroup_free(cg);
	unload(&l);
	return rc < 0 ? err_wrap(err, "%s %s", pause ? "pause" : "resume", id) : 0;
}

int rt_list(const struct rt_global *g, const char *format, bool quiet, struct strbuf *out, struct skiff_err **err)
{
	cleanup_free char *def = g->root ? NULL : rt_default_root();
	const char *root = g->root ? g->root : def;
	DIR *d = opendir(root);
	bool json = format && !strcmp(format, "json");
	struct json *arr = json_new_array();
	if (!d && errno != ENOENT) {
		json_free(arr);
		return err_make(err, errno, "list %s", root);
	}
	struct strv ids = STRV_INIT;
	for (struct dirent *de; d && (de = readdir(d));)
		if (de->d_name[0] != '.')
			strv_push(&ids, de->d_name);
	if (d)
		closedir(d);
	strv_sort(&ids);
	if (!quiet && !json)
		strbuf_addf(out, "%-20s %-8s %-10s %-40s %-31s %s\n", "NAME", "PID", "STATUS", "BUNDLE PATH", "CREATED",
			    "OWNER");
	for (size_t i = 0; i < ids.len; i++) {
		struct loaded l;
		struct skiff_err *e = NULL;
		if (load(g, ids.v[i], &l, &e) < 0) {
			err_free(e);
			continue;
		}
		if (quiet) {
			strbuf_addf(out, "%s\n", l.st.id);
		} else if (json) {
			struct json *j = json_new_object();
			state_json(&l, j);
			json_array_append(arr, j);
		} else {
			strbuf_addf(out, "%-20s %-8d %-10s %-40s %-31s %s\n", l.st.id,
				    l.status == RT_STOPPED ? 0 : l.st.pid, rt_status_name(l.status), l.st.bundle,
				    l.st.created, l.st.owner);
		}
		unload(&l);
	}
	if (json) {
		json_dump(arr, 2, out);
		strbuf_addch(out, '\n');
	}
	json_free(arr);
	strv_release(&ids);
	return 0;
}

int rt_features(struct strbuf *out, struct skiff_err **err)
{
	struct json *j = json_new_object();
	json_object_set_string(j, "ociVersionMin", "1.0.0");
	json_object_set_string(j, "ociVersionMax", "1.2.0");
	struct json *hooks = json_new_array();
	json_object_set(j, "hooks", hooks);
	struct json *mo = json_new_array();
	static const char *const mopts[] = {"async",	     "atime",	    "bind",	   "defaults", "dev",
					    "diratime",	     "dirsync",	    "exec",	   "mand",     "noatime",
					    "nodev",	     "nodiratime",  "noexec",	   "nomand",   "norelatime",
					    "nostrictatime", "nosuid",	    "nosymfollow", "private",  "rbind",
					    "relatime",	     "remount",	    "ro",	   "rprivate", "rshared",
					    "rslave",	     "runbindable", "rw",	   "shared",   "slave",
					    "strictatime",   "suid",	    "symfollow",   "sync",     "unbindable"};
	for (size_t i = 0; i < sizeof(mopts) / sizeof(mopts[0]); i++)
		json_array_append(mo, json_new_string(mopts[i]));
	json_object_set(j, "mountOptions", mo);
	struct json *lx = json_new_object();
	struct json *ns = json_new_array();
	for (int t = 0; t < SPEC_NS_COUNT_; t++)
		json_array_append(ns, json_new_string(spec_ns_type_name((enum spec_ns_type)t)));
	json_object_set(lx, "namespaces", ns);
	struct json *caps = json_new_array();
	for (int v = 0; v <= 40; v++) {
		if (!CAP_IS_SUPPORTED(v))
			continue;
		char *name = cap_to_name((cap_value_t)v);
		if (name && !strncasecmp(name, "cap_", 4)) {
			for (char *p = name; *p; p++)
				*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
			json_array_append(caps, json_new_string(name));
		}
		if (name)
			cap_free(name);
	}
	json_object_set(lx, "capabilities", caps);
	struct json *cg = json_new_object();
	json_object_set_bool(cg, "v1", true);
	json_object_set_bool(cg, "v2", true);
	json_object_set_bool(cg, "systemd", false);
	json_object_set_bool(cg, "systemdUser", false);
	json_object_set(lx, "cgroup", cg);
	struct json *sc = json_new_object();
	json_object_set_bool(sc, "enabled", true);
	struct json *acts = json_new_array(), *ops = json_new_array();
	for (const char *const *a = rt_seccomp_actions(); *a; a++)
		json_array_append(acts, json_new_string(*a));
	for (const char *const *o = rt_seccomp_operators(); *o; o++)
		json_array_append(ops, json_new_string(*o));
	json_object_set(sc, "actions", acts);
	json_object_set(sc, "operators", ops);
	json_object_set(lx, "seccomp", sc);
	json_object_set(j, "linux", lx);
	struct json *ann = json_new_object();
	json_object_set_string(ann, "org.opencontainers.runc.checkpoint.enabled", "false");
	json_object_set_string(ann, "io.github.skiff.version", SKIFF_VERSION);
	json_object_set(j, "annotations", ann);
	json_dump(j, 2, out);
	strbuf_addch(out, '\n');
	json_free(j);
	(void)err;
	return 0;
}

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

int rt_ensure_cloned_binary(char **argv, char **envp, struct skiff_err **err)
{
	cleanup_close int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return err_make(err, errno, "open /proc/self/exe");
	int seals = fcntl(self, F_GET_SEALS);
	int want = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	if (seals >= 0 && (seals & want) == want)
		return 0; /* already running from the sealed copy */
	struct stat st;
	if (fstat(self, &st) < 0)
		return err_make(err, errno, "stat /proc/self/exe");
	cleanup_close int mfd = memfd_create("skiff-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return err_make(err, errno, "memfd_create");
	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_make(err, n < 0 ? errno : EIO, "copy /proc/self/exe");
	}
	/* F_SEAL_WRITE is EBUSY while the kernel still holds references to the pages sendfile
	 * moved (seen under load): they go within milliseconds */
	int r;
	for (int tries = 0; (r = fcntl(mfd, F_ADD_SEALS, want)) < 0 && errno == EBUSY && tries < 50; tries++) {
		struct timespec ts = {0, 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (r < 0)
		return err_make(err, errno, "seal the runtime copy");
	fexecve(mfd, argv, envp);
	return err_make(err, errno, "re-exec the sealed runtime copy");
}
