/*
 * exec: another process in a running container. Each exec session has a monitor of its
 * own (skiff-monitor --exec-process), as podman gives each one a conmon: it holds the
 * process's stdio or pty, so the CLI can detach and the process lives on, and it records
 * the exit status. The session lives in runroot/containers/ID/exec/SESSION/: process.json,
 * the monitor's ctl socket, pidfile and exit record. A foreground session's directory is
 * removed when it ends; detached ones go with the container's per-boot directory, or when a
 * later exec finds them finished.
 *
 * --preserve-fds needs the CLI's own fds in the process, which a detached monitor cannot
 * hand on: it runs `RUNTIME exec` directly, in the foreground, with the CLI's stdio.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/engine/container.h"
#include "pkg/engine/ctrconfig-internal.h"
#include "pkg/json/json.h"
#include "pkg/monitor/client.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/xalloc.h"

/* Largest config.json read back from a bundle. */
#define SPEC_MAX (16u << 20)

/* Remove the sessions under exec/ that have ended (an exit record, or no live monitor). */
static void prune_sessions(int execfd)
{
	int fd = fcntl(execfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *de;
	struct strv dead = STRV_INIT;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		cleanup_free char *exitrec = xasprintf("%s/exit", de->d_name);
		cleanup_free char *pidf = xasprintf("%s/monitor.pid", de->d_name);
		if (faccessat(execfd, exitrec, F_OK, 0) == 0 || faccessat(execfd, pidf, F_OK, 0) < 0)
			strv_push(&dead, de->d_name);
	}
	closedir(d);
	for (size_t i = 0; i < dead.len; i++) {
		struct skiff_err *e = NULL;
		rm_rf_at(execfd, dead.v[i], &e);
		err_free(e);
	}
	strv_release(&dead);
}

/* The process.json of this exec, from the container's bundle. */
static int build_process(struct ctr *c, int rundirfd, const struct ctr_exec_opts *o, char **ret, struct skiff_err **err)
{
	cleanup_free char *spec = NULL;
	size_t len = 0;
	if (read_file_at(rundirfd, "config.json", SPEC_MAX, &spec, &len, err) < 0)
		return err_wrap(err, "container %s: read its spec", c->row.name);
	struct ctr_exec_process x = {
		.argv = o->argv,
		.env = o->env,
		.user = o->user,
		.workdir = o->workdir,
		.tty = o->tty,
		.privileged = o->privileged,
	};
	struct winsize ws;
	if (o->tty && (ioctl(1, TIOCGWINSZ, &ws) == 0 || ioctl(0, TIOCGWINSZ, &ws) == 0)) {
		x.rows = ws.ws_row;
		x.cols = ws.ws_col;
	}
	return ctr_oci_exec_process(c->cfg, spec, len, &x, ret, err);
}

/* --preserve-fds: RUNTIME exec in the foreground with our stdio and fds 3..3+N-1. */
static int exec_direct(struct engine *e, struct ctr *c, const char *process_path, const struct ctr_exec_opts *o,
		       int *ret_code, struct skiff_err **err)
{
	if (o->tty || o->detach)
		return err_makex(err, EINVAL, "--preserve-fds cannot be used with --tty or --detach");
	cleanup_free char *rtroot = ctr_runtime_root(e);
	cleanup_strv struct strv argv = STRV_INIT;
	strv_push(&argv, ctr_runtime_of(e, c));
	strv_push(&argv, "--root");
	strv_push(&argv, rtroot);
	strv_push(&argv, "exec");
	strv_push(&argv, "--process");
	strv_push(&argv, process_path);
	strv_push(&argv, "--preserve-fds");
	strv_pushf(&argv, "%u", o->preserve_fds);
	strv_push(&argv, c->row.id);
	int *fds = xcalloc(o->preserve_fds, sizeof(int));
	for (unsigned i = 0; i < o->preserve_fds; i++) {
		fds[i] = 3 + (int)i;
		if (fcntl(fds[i], F_GETFD) < 0) {
			free(fds);
			return err_make(err, errno, "--preserve-fds %u: fd %d", o->preserve_fds, 3 + (int)i);
		}
	}
	struct spawn_opts so = SPAWN_OPTS_INIT;
	so.stdin_fd = o->interactive ? SPAWN_INHERIT : SPAWN_DEVNULL;
	so.extra_fds = fds;
	so.n_extra_fds = o->preserve_fds;
	pid_t pid = 0;
	int rc = spawn((const char *const *)argv.v, &so, &pid, NULL, err);
	free(fds);
	if (rc < 0)
		return err_wrap(err, "runtime exec");
	int status = 0;
	if (spawn_wait(pid, &status) < 0)
		return err_make(err, errno, "runtime exec: wait");
	*ret_code = status;
	return 0;
}

int ctr_exec(struct engine *e, struct ctr *c, const struct ctr_exec_opts *o, int *ret_code, char **ret_session,
	     struct skiff_err **err)
{
	if (strcmp(ctr_state_name(c), "running") != 0)
		return err_makex(err, EBUSY,
				 "can only create exec sessions on running containers: container state improper");
	cleanup_free char *rundir = ctr_rundir(e, c->row.id);
	cleanup_close int rfd = open(rundir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (rfd < 0)
		return err_make(err, errno, "open %s", rundir);
	cleanup_free char *process = NULL;
	if (build_process(c, rfd, o, &process, err) < 0)
		return -1;

	if (mkdirat(rfd, "exec", 0700) < 0 && errno != EEXIST)
		return err_make(err, errno, "create %s/exec", rundir);
	cleanup_close int xfd = openat(rfd, "exec", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (xfd < 0)
		return err_make(err, errno, "open %s/exec", rundir);
	prune_sessions(xfd);
	char id[65];
	ctr_random_id(id);
	if (mkdirat(xfd, id, 0700) < 0)
		return err_make(err, errno, "create exec session %s", id);
	cleanup_free char *dir = xasprintf("%s/exec/%s", rundir, id);
	cleanup_close int dfd = openat(xfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	cleanup_free char *process_path = xasprintf("%s/process.json", dir);
	cleanup_free char *rtroot = ctr_runtime_root(e);
	int rc = -1, code = 0;
	struct skiff_err *e2 = NULL;
	if (dfd < 0) {
		err_make(err, errno, "open %s", dir);
		goto out;
	}
	if (write_file_atomic(dfd, "process.json", process, strlen(process), 0600, err) < 0)
		goto out;

	if (o->preserve_fds) {
		rc = exec_direct(e, c, process_path, o, &code, err);
		if (rc == 0)
			*ret_code = code;
		goto out;
	}

	const char *rtargs[] = {"--root", rtroot, NULL};
	struct mon_spawn_opts mo = MON_SPAWN_OPTS_INIT;
	mo.monitor_path = e->monitor;
	mo.id = c->row.id;
	mo.bundle = rundir;
	mo.dir = dir;
	mo.runtime = ctr_runtime_of(e, c);
	mo.runtime_args = rtargs;
	mo.terminal = o->tty;
	mo.stdin_open = o->interactive;
	mo.start = o->detach;
	mo.log_driver = "none";
	mo.exec_process = process_path;
	pid_t pid = 0, mon = 0;
	if (mon_spawn(&mo, &pid, &mon, err) < 0)
		goto out;
	ctr_event(e, c, "exec");
	if (o->detach) {
		*ret_session = xstrdup(id);
		return 0; /* the session's directory stays while it runs */
	}
	struct ctr_attach_opts ao = {
		.in = o->interactive,
		.out = true,
		.err = true,
		.in_fd = 0,
		.out_fd = 1,
		.err_fd = 2,
		.tty = o->tty,
		.detach_keys = o->detach_keys,
	};
	rc = ctr_attach_dir(e, c, dir, true, &ao, true, &code, err);
	if (rc == 0)
		ctr_event(e, c, "exec_died");
	if (rc == 1) {
		*ret_code = 0; /* detached: the session runs on */
		return 1;
	}
	if (rc == 0)
		*ret_code = code;
out:
	if (rm_rf_at(xfd, id, &e2) < 0)
		err_free(e2);
	return rc;
}

/* ---- healthchecks ---- */

int ctr_health_process(struct engine *e, struct ctr *c, int rundirfd, struct skiff_err **err)
{
	(void)e;
	cleanup_strv struct strv argv = STRV_INIT;
	if (!ctr_health_argv(c->cfg, &argv))
		return 0;
	struct ctr_exec_opts o = {.argv = (const char *const *)argv.v};
	cleanup_free char *process = NULL;
	if (build_process(c, rundirfd, &o, &process, err) < 0)
		return err_wrap(err, "healthcheck");
	return write_file_atomic(rundirfd, CTR_HEALTH_PROCESS, process, strlen(process), 0600, err);
}

int ctr_health_state(struct engine *e, struct ctr *c, struct json **ret, struct skiff_err **err)
{
	cleanup_strv struct strv argv = STRV_INIT;
	*ret = NULL;
	if (!ctr_health_argv(c->cfg, &argv))
		return 0;
	cleanup_free char *dir = ctr_rundir(e, c->row.id);
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0; /* never started (or a reboot) */
	cleanup_free char *buf = NULL;
	size_t len = 0;
	struct skiff_err *e2 = NULL;
	if (read_file_at(dfd, "health", 1u << 20, &buf, &len, &e2) < 0) {
		int st = err_status(e2);
		err_free(e2);
		return st == ENOENT ? 0 : err_makex(err, EIO, "container %s: read its health record", c->row.name);
	}
	if (json_parse(buf, len, ret, err) < 0)
		return err_wrap(err, "container %s: its health record", c->row.name);
	return 0;
}

const char *ctr_health_status(struct engine *e, struct ctr *c)
{
	cleanup_json struct json *j = NULL;
	struct skiff_err *e2 = NULL;
	if (ctr_health_state(e, c, &j, &e2) < 0 || !j) {
		err_free(e2);
		return NULL;
	}
	const char *s = json_object_get_string(j, "Status");
	static const char *const known[] = {"starting", "healthy", "unhealthy"};
	for (size_t i = 0; s && i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(s, known[i]))
			return known[i];
	return NULL;
}

int ctr_healthcheck_run(struct engine *e, struct ctr *c, char **ret_status, struct skiff_err **err)
{
	cleanup_strv struct strv argv = STRV_INIT;
	if (!ctr_health_argv(c->cfg, &argv))
		return err_makex(err, ENOTSUP, "container %s has no defined healthcheck", c->row.name);
	if (strcmp(ctr_state_name(c), "running") != 0)
		return err_makex(err, EBUSY, "container %s is not running", c->row.name);
	int fd = -1;
	if (ctr_connect(e, c, &fd, err) < 0)
		return -1;
	int rc = mon_healthcheck(fd, ret_status, err);
	close(fd);
	if (rc == 0)
		ctr_event(e, c, "health_status");
	return rc < 0 ? err_wrap(err, "healthcheck") : 0;
}
