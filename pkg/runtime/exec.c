/*
 * exec: run another process in a running container: its namespaces, cgroup, and the
 * security floor of its spec (capabilities, no_new_privs, seccomp), with the process
 * from --process or the container's own with the arguments replaced.
 *
 * The runtime becomes a child subreaper and forks a helper that joins the namespaces
 * (setns on a pidfd of the init) and forks the process itself, so that it is inside the
 * container's pid namespace; the helper exits and the process is reparented to us.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/json/json.h"
#include "pkg/runtime/cgroup.h"
#include "pkg/runtime/internal.h"
#include "pkg/runtime/seccomp.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

/* The namespaces of pid that differ from ours, as CLONE_NEW* flags. */
static int differing_namespaces(pid_t pid)
{
	static const struct {
		const char *name;
		int flag;
	} ns[] = {
		{"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},	      {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
		{"net", CLONE_NEWNET},	 {"cgroup", CLONE_NEWCGROUP}, {"pid", CLONE_NEWPID},
	};
	int flags = 0;
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		char a[64], b[64];
		struct stat sa, sb;
		snprintf(a, sizeof(a), "/proc/%d/ns/%s", (int)pid, ns[i].name);
		snprintf(b, sizeof(b), "/proc/self/ns/%s", ns[i].name);
		if (stat(a, &sa) == 0 && stat(b, &sb) == 0 && (sa.st_ino != sb.st_ino || sa.st_dev != sb.st_dev))
			flags |= ns[i].flag;
	}
	return flags;
}

/* The container's spec, from its bundle. */
static int load_bundle_spec(const struct rt_state *st, struct spec_runtime **ret, struct skiff_err **err)
{
	cleanup_free char *path = xasprintf("%s/config.json", st->bundle);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (read_file_at(AT_FDCWD, path, 64 << 20, &buf, &len, err) < 0)
		return err_wrap(err, "exec");
	if (spec_runtime_parse(buf, len, ret, err) < 0)
		return err_wrap(err, "%s", path);
	return 0;
}

/* --process FILE: a process object, parsed through a minimal spec around it. */
static int load_process_file(const char *file, struct spec_runtime **ret, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (read_file_at(AT_FDCWD, file, 16 << 20, &buf, &len, err) < 0)
		return err_wrap(err, "--process");
	struct strbuf doc = STRBUF_INIT;
	strbuf_addstr(&doc, "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"/\"},\"process\":");
	strbuf_add(&doc, buf, len);
	strbuf_addch(&doc, '}');
	int rc = spec_runtime_parse(doc.buf, doc.len, ret, err);
	strbuf_release(&doc);
	return rc < 0 ? err_wrap(err, "--process %s", file) : 0;
}

static void apply_overrides(struct spec_rt_process *p, const struct rt_exec_opts *o)
{
	if (o->args.len) {
		strv_release(&p->args);
		for (size_t i = 0; i < o->args.len; i++)
			strv_push(&p->args, o->args.v[i]);
	}
	for (size_t i = 0; i < o->env.len; i++) {
		const char *eq = strchr(o->env.v[i], '=');
		size_t kl = eq ? (size_t)(eq - o->env.v[i]) : strlen(o->env.v[i]);
		for (size_t k = 0; k < p->env.len; k++)
			if (!strncmp(p->env.v[k], o->env.v[i], kl) && p->env.v[k][kl] == '=') {
				strv_remove(&p->env, k);
				break;
			}
		strv_push(&p->env, o->env.v[i]);
	}
	if (o->cwd) {
		free(p->cwd);
		p->cwd = xstrdup(o->cwd);
	}
	if (o->user) {
		char *end;
		p->user.uid = (uint32_t)strtoul(o->user, &end, 10);
		p->user.gid = *end == ':' ? (uint32_t)strtoul(end + 1, NULL, 10) : p->user.uid;
		p->user.additional_gids.len = 0;
	}
	if (o->tty)
		p->terminal = true;
	if (o->no_new_privs)
		p->no_new_privileges = true;
	for (size_t i = 0; i < o->caps.len && p->capabilities; i++) {
		struct spec_rt_caps *c = p->capabilities;
		struct strv *sets[] = {&c->bounding, &c->effective, &c->permitted};
		for (size_t k = 0; k < 3; k++)
			if (!strv_contains(sets[k], o->caps.v[i]))
				strv_push(sets[k], o->caps.v[i]);
	}
}

/* In the process, once inside every namespace: never returns. */
static __attribute__((noreturn)) void exec_child(struct spec_rt_process *p, struct rt_seccomp *sc, int sync)
{
	struct skiff_err *err = NULL;
	cleanup_free char *exe = NULL;
	if (p->terminal) {
		int master = -1;
		if (rt_setup_terminal(p, &master, &err) < 0)
			goto fail;
		if (rt_sync_send(sync, RT_SYNC_PTY, 0, NULL, master) < 0) {
			err_make(&err, errno, "send the terminal");
			goto fail;
		}
		close(master);
	} else if (setsid() < 0 && errno != EPERM) {
		err_make(&err, errno, "setsid");
		goto fail;
	}
	if (p->cwd && chdir(p->cwd) < 0) {
		err_make(&err, errno, "chdir to `%s`", p->cwd);
		goto fail;
	}
	if (rt_apply_rlimits(p, &err) < 0 || rt_find_executable(p, &exe, &err) < 0)
		goto fail;
	char buf[16] = "";
	bool setgroups_ok = true;
	int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0 && !strncmp(buf, "deny", 4))
			setgroups_ok = false;
		close(fd);
	}
	if (!p->no_new_privileges && sc && rt_seccomp_load(sc, &err) < 0)
		goto fail;
	if (rt_drop_bounding(p, &err) < 0 || rt_apply_user(p, setgroups_ok, &err) < 0 || rt_apply_caps(p, &err) < 0)
		goto fail;
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		err_make(&err, errno, "no_new_privs");
		goto fail;
	}
	if (p->no_new_privileges && sc && rt_seccomp_load(sc, &err) < 0)
		goto fail;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(exe, p->args.v, p->env.v ? p->env.v : (char *[]){NULL});
	err_make(&err, errno, "exec %s", exe);
fail:
	rt_sync_send(sync, RT_SYNC_ERROR, err->status, err->msg, -1);
	_exit(err->status == ENOENT ? 127 : err->status == EACCES ? 126 : 1);
}

int rt_exec(const struct rt_global *g, const struct rt_exec_opts *o, int *ret_status, struct skiff_err **err)
{
	int dirfd = -1;
	struct rt_state st = {0};
	struct spec_runtime *spec = NULL, *pspec = NULL;
	struct rt_seccomp *sc = NULL;
	struct rt_cgroup *cg = NULL;
	int socks[2] = {-1, -1};
	cleanup_close int pidfd = -1;
	int rc = -1;

	if (rt_state_open(g, o->id, &dirfd, err) < 0 || rt_state_read(dirfd, &st, err) < 0)
		goto out;
	if (rt_state_status(dirfd, &st) != RT_RUNNING) {
		err_makex(err, EINVAL, "container `%s` is not running", o->id);
		goto out;
	}
	if (load_bundle_spec(&st, &spec, err) < 0)
		goto out;
	if (o->process_file && load_process_file(o->process_file, &pspec, err) < 0)
		goto out;
	struct spec_rt_process *p = pspec ? pspec->process : spec->process;
	if (!p) {
		err_makex(err, EINVAL, "exec: no process to run");
		goto out;
	}
	apply_overrides(p, o);
	if (!p->args.len) {
		err_makex(err, EINVAL, "exec: no command given");
		goto out;
	}
	if (p->terminal && !o->console_socket) {
		err_makex(err, EINVAL, "exec: a terminal needs --console-socket");
		goto out;
	}
	if (spec->linux_spec && spec->linux_spec->seccomp &&
	    rt_seccomp_compile(spec->linux_spec->seccomp, &sc, err) < 0)
		goto out;
	pidfd = rt_state_pidfd(&st);
	if (pidfd < 0) {
		err_makex(err, ESRCH, "container `%s` is not running", o->id);
		goto out;
	}
	int nsflags = differing_namespaces(st.pid);
	/* the cgroup first: what we fork inherits it */
	if (st.cgroup && strcmp(st.cgroup, "disabled")) {
		struct strv w = STRV_INIT;
		if (rt_cgroup_from_serialized(st.cgroup, &cg, err) < 0 || rt_cgroup_enter(cg, getpid(), &w, err) < 0) {
			strv_release(&w);
			goto out;
		}
		strv_release(&w);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) < 0) {
		err_make(err, errno, "socketpair");
		goto out;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	pid_t helper = fork();
	if (helper < 0) {
		err_make(err, errno, "fork");
		goto out;
	}
	if (helper == 0) {
		close(socks[0]);
		syscall(SYS_close_range, 3 + o->preserve_fds, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */);
		if (nsflags && setns(pidfd, nsflags) < 0) {
			char m[128];
			snprintf(m, sizeof(m), "join the namespaces of pid %d: %s", (int)st.pid, strerror(errno));
			rt_sync_send(socks[1], RT_SYNC_ERROR, errno, m, -1);
			_exit(1);
		}
		pid_t child = fork();
		if (child == 0)
			exec_child(p, sc, socks[1]);
		char num[32];
		snprintf(num, sizeof(num), "%d", (int)child);
		rt_sync_send(socks[1], child < 0 ? RT_SYNC_ERROR : RT_SYNC_READY, child < 0 ? errno : 0,
			     child < 0 ? "fork" : num, -1);
		_exit(child < 0);
	}
	close(socks[1]);
	socks[1] = -1;
	int hs;
	waitpid(helper, &hs, 0);
	pid_t child = -1;
	for (;;) {
		struct rt_sync_msg m;
		int fd = -1;
		if (rt_sync_recv(socks[0], &m, &fd) < 0)
			break; /* EOF: the process exec'd (or died: its status says) */
		if (m.type == RT_SYNC_ERROR) {
			if (child > 0)
				waitpid(child, NULL, 0);
			err_makex(err, m.status ? m.status : EIO, "exec: %s", m.text);
			goto out;
		}
		if (m.type == RT_SYNC_READY)
			child = atoi(m.text);
		if (m.type == RT_SYNC_PTY && fd >= 0) {
			int r = rt_send_console(o->console_socket, fd, err);
			close(fd);
			if (r < 0)
				goto out;
		}
	}
	if (child <= 0) {
		err_makex(err, EIO, "exec: the process did not start");
		goto out;
	}
	if (o->pid_file) {
		char num[32];
		int n = snprintf(num, sizeof(num), "%d", (int)child);
		if (write_file_replace(AT_FDCWD, o->pid_file, num, (size_t)n, 0644, err) < 0)
			goto out;
	}
	if (o->detach) {
		*ret_status = 0;
		rc = 0;
		goto out;
	}
	int ws;
	while (waitpid(child, &ws, 0) < 0) {
		if (errno != EINTR) {
			err_make(err, errno, "wait for the exec'd process");
			goto out;
		}
	}
	*ret_status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	rc = 0;
out:
	for (int i = 0; i < 2; i++)
		if (socks[i] >= 0)
			close(socks[i]);
	if (cg)
		rt_cgroup_free(cg);
	if (sc)
		rt_seccomp_free(sc);
	if (spec)
		spec_runtime_free(spec);
	if (pspec)
		spec_runtime_free(pspec);
	rt_state_release(&st);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}
