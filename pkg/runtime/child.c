/*
 * The container's init, from clone() to execve(): namespaces, rootfs, terminal, then
 * (once started) rlimits, user, capabilities, no_new_privs, seccomp and exec.
 *
 * Until it reports READY, a failure goes back to the runtime over the sync socket and
 * the child exits 1. After that the runtime may be gone (create has returned), so a
 * failure is written to the container's stderr, and the exit status says what kind:
 * 127 executable not found, 126 cannot execute, 1 anything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pkg/runtime/internal.h"
#include "pkg/runtime/seccomp.h"
#include "vendor-free/cleanup.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int ns_flag(enum spec_ns_type t)
{
	switch (t) {
	case SPEC_NS_PID:
		return CLONE_NEWPID;
	case SPEC_NS_NETWORK:
		return CLONE_NEWNET;
	case SPEC_NS_MOUNT:
		return CLONE_NEWNS;
	case SPEC_NS_IPC:
		return CLONE_NEWIPC;
	case SPEC_NS_UTS:
		return CLONE_NEWUTS;
	case SPEC_NS_USER:
		return CLONE_NEWUSER;
	case SPEC_NS_CGROUP:
		return CLONE_NEWCGROUP;
	case SPEC_NS_TIME:
		return 0x80; /* CLONE_NEWTIME */
	default:
		return 0;
	}
}

/* True when fd is the namespace of type t this process is already in. */
static bool in_namespace(int fd, enum spec_ns_type t)
{
	static const char *const names[SPEC_NS_COUNT_] = {
		[SPEC_NS_PID] = "pid", [SPEC_NS_NETWORK] = "net", [SPEC_NS_MOUNT] = "mnt",     [SPEC_NS_IPC] = "ipc",
		[SPEC_NS_UTS] = "uts", [SPEC_NS_USER] = "user",	  [SPEC_NS_CGROUP] = "cgroup", [SPEC_NS_TIME] = "time",
	};
	if ((unsigned)t >= SPEC_NS_COUNT_ || !names[t])
		return false;
	char path[32];
	snprintf(path, sizeof(path), "/proc/self/ns/%s", names[t]);
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Join the namespaces the spec names by path (the user namespace first), except the
 * pid namespace: the runtime joined that one before clone, for its children; with a new
 * user namespace, so it did the network and ipc ones. */
static int join_namespaces(struct rt_ctx *c, struct skiff_err **err)
{
	const struct spec_rt_linux *l = c->spec->linux_spec;
	if (!l)
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < l->n_namespaces; i++) {
			const struct spec_rt_namespace *ns = &l->namespaces[i];
			if (!ns->path || ns->type == SPEC_NS_PID)
				continue;
			if ((pass == 0) != (ns->type == SPEC_NS_USER))
				continue;
			cleanup_close int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return err_make(err, errno, "open %s namespace %s", spec_ns_type_name(ns->type),
						ns->path);
			if (c->new_userns && in_namespace(fd, ns->type))
				continue; /* the runtime joined it before clone */
			if (setns(fd, ns_flag(ns->type)) < 0)
				return err_make(err, errno, "join %s namespace %s", spec_ns_type_name(ns->type),
						ns->path);
		}
	}
	return 0;
}

static int setup(struct rt_ctx *c, struct skiff_err **err)
{
	const struct spec_runtime *s = c->spec;
	const struct spec_rt_process *p = s->process;

	/* a new user namespace: rt_setup_rootfs makes us its root, once the rootfs and the
	 * mount sources are open */
	if (join_namespaces(c, err) < 0)
		return -1;
	if (s->hostname && *s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return err_make(err, errno, "set the hostname");
	if (s->domainname && *s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return err_make(err, errno, "set the domain name");
	if (!(c->clone_flags & CLONE_NEWNS) && !spec_runtime_find_namespace(s, SPEC_NS_MOUNT))
		return err_makex(err, EINVAL, "a mount namespace is required");
	if (rt_setup_rootfs(c, err) < 0 || rt_finish_rootfs(c, err) < 0)
		return -1;
	if (p->terminal) {
		int master = -1;
		if (rt_setup_terminal(p, &master, err) < 0)
			return err_wrap(err, "terminal");
		int rc = rt_sync_send(c->sync_sock[1], RT_SYNC_PTY, 0, NULL, master);
		close(master);
		if (rc < 0)
			return err_make(err, errno, "send the terminal");
	} else if (setsid() < 0) {
		return err_make(err, errno, "setsid");
	}
	if (p->cwd && chdir(p->cwd) < 0)
		return err_make(err, errno, "chdir to `%s`", p->cwd);
	if (rt_apply_rlimits(p, err) < 0)
		return -1;
	if (p->has_oom_score_adj) {
		char v[16];
		int n = snprintf(v, sizeof(v), "%d", p->oom_score_adj);
		cleanup_close int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, v, (size_t)n) != n)
			return err_make(err, errno, "set oom_score_adj %d", p->oom_score_adj);
	}
	const struct spec_rt_linux *l = s->linux_spec;
	if (l && l->personality && l->personality->domain && !strcmp(l->personality->domain, "LINUX32") &&
	    personality(PER_LINUX32) < 0)
		return err_make(err, errno, "personality LINUX32");
	return 0;
}

/* After start: drop to the process's identity and exec. */
static int finish(struct rt_ctx *c, const char *exe, struct skiff_err **err)
{
	const struct spec_rt_process *p = c->spec->process;
	/* setgroups is denied in a namespace whose gid map an unprivileged user wrote */
	bool setgroups_ok = true;
	{
		char buf[16] = "";
		cleanup_close int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0 && !strncmp(buf, "deny", 4))
			setgroups_ok = false;
	}
	/* Without no_new_privs only CAP_SYS_ADMIN may load a filter: load it while we still
	 * hold it (as runc and crun do); with no_new_privs, as late as possible. */
	if (!p->no_new_privileges && c->seccomp && rt_seccomp_load(c->seccomp, err) < 0)
		return err_wrap(err, "seccomp");
	if (rt_drop_bounding(p, err) < 0 || rt_apply_user(p, setgroups_ok, err) < 0 || rt_apply_caps(p, err) < 0)
		return -1;
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_make(err, errno, "no_new_privs");
	if (p->no_new_privileges && c->seccomp && rt_seccomp_load(c->seccomp, err) < 0)
		return err_wrap(err, "seccomp");
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(exe, p->args.v, p->env.v ? p->env.v : (char *[]){NULL});
	return err_make(err, errno, "exec %s", exe);
}

void rt_child_main(struct rt_ctx *c)
{
	struct skiff_err *err = NULL;
	struct rt_sync_msg m;
	int sock = c->sync_sock[1];
	cleanup_free char *exe = NULL;

	/* Nothing but stdio and the preserved fds may reach the container: every other fd
	 * closes on exec (CVE-2024-21626). */
	if (syscall(SYS_close_range, 3 + c->opts->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		for (int fd = 3 + (int)c->opts->preserve_fds; fd < 1024; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (rt_sync_recv(sock, &m, NULL) < 0 || m.type != RT_SYNC_GO)
		_exit(1);
	/* not dumpable until exec: nothing in the container may open our /proc entries */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (setup(c, &err) < 0 || rt_find_executable(c->spec->process, &exe, &err) < 0) {
		rt_sync_send(sock, RT_SYNC_ERROR, err->status, err->msg, -1);
		_exit(1);
	}
	/* from here on the runtime may exit: do not die with it */
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	if (rt_sync_send(sock, RT_SYNC_READY, 0, NULL, -1) < 0)
		_exit(1);
	close(sock);
	/* wait for start: a byte on the exec fifo (opened O_RDWR, so read blocks) */
	char b;
	ssize_t n;
	do
		n = read(c->fifo_fd, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(1);
	close(c->fifo_fd);
	finish(c, exe, &err);
	fprintf(stderr, "skiff-runtime: %s\n", err->msg);
	_exit(err->status == ENOENT ? 127 : err->status == EACCES || err->status == ENOEXEC ? 126 : 1);
}
