/*
 * pkg/engine containers: create, start (through skiff-monitor and an OCI runtime),
 * stop, kill, remove, wait, and keeping the store's idea of each container in step
 * with what its monitor recorded.
 *
 * Where things live (ID is the 64-hex container id):
 *   graphroot/containers/ID/     writable layer, merged mount point, userdata/ctr.log
 *   runroot/containers/ID/       per boot: config.json (the bundle), hosts, resolv.conf,
 *                                hostname, the monitor's ctl socket, pidfile, monitor.pid
 *                                and the exit record
 *   runroot/runtime/             the OCI runtime's --root
 * A wiped runroot (a reboot) leaves rows that say running with no monitor: they read as
 * exited with an unknown code (-1).
 */
#ifndef SKIFF_ENGINE_CONTAINER_H
#define SKIFF_ENGINE_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "pkg/config/config.h"
#include "pkg/engine/ctrconfig.h"
#include "pkg/store/store.h"
#include "vendor-free/err.h"
#include "vendor-free/strv.h"

struct engine {
	struct store *store;
	const struct skiff_config *cfg;
	const char *runtime;	     /* OCI runtime: a path, or a name found in $PATH */
	char *runtime_owned;	     /* what runtime points to when the engine allocated it */
	const char *monitor;	     /* skiff-monitor path */
	const char *skiff;	     /* this skiff binary, for the monitor's exit command */
	struct strv global_args;     /* --root, --runroot, --storage-driver ... for the exit command */
	const char *seccomp_profile; /* the default profile (data/seccomp.json) */
	const char *init_path;	     /* --init binary */
};

struct ctr {
	struct store_container row;
	struct ctr_config *cfg;
	bool removing;	     /* ctr_remove is under way (ctr_stop leaves --rm to it) */
	bool remove_volumes; /* ctr_remove also removes its anonymous volumes (rm -v; --rm always does) */
};
void ctr_release(struct ctr *c);

/* Podman's state names for status, and the short form for ps ("Up 3 seconds", "Exited (0) 2 minutes ago"). */
const char *ctr_state_name(const struct ctr *c);

/* Resolve the image, name the container, create its record and writable layer.
 * Fills cfg->id, name, image_id, image_name, created. */
int ctr_create(struct engine *e, struct ctr_config *cfg, struct skiff_err **err);
/* At create: -P's exposed ports, the default network (rootless: pasta, else slirp4netns; as
 * root only when ports are published), and host ports picked for -p without one. */
int ctr_network_resolve(struct engine *e, struct ctr_config *cfg, const struct strv *exposed, struct skiff_err **err);
/* By id, name or id prefix; the state is refreshed from the monitor's record. */
int ctr_lookup(struct engine *e, const char *ref, struct ctr *ret, struct skiff_err **err);
/* Every container, newest first, each refreshed. */
int ctr_list(struct engine *e, struct ctr **ret, size_t *ret_n, struct skiff_err **err);
void ctr_list_free(struct ctr *v, size_t n);
/* Bring c->row up to date with the monitor (exit record, or a monitor that is gone). */
int ctr_refresh(struct engine *e, struct ctr *c, struct skiff_err **err);

/* Mount, write the spec and start the monitor. With attach_first the monitor waits for
 * a START on its control socket (ctr_attach_start); else the container is started. A
 * container already running is left as it is. */
int ctr_start(struct engine *e, struct ctr *c, bool attach_first, struct skiff_err **err);
/* Start c from the CRIU checkpoint in checkpoint_dir (the monitor runs the runtime's restore). */
int ctr_start_restore(struct engine *e, struct ctr *c, const char *checkpoint_dir, struct skiff_err **err);
/* Record that the monitor has started c (after a START on its socket). */
int ctr_mark_started(struct engine *e, struct ctr *c, struct skiff_err **err);
/* The OCI runtime of c (its own --runtime, else the engine's) and its --root (caller frees). */
const char *ctr_runtime_of(struct engine *e, const struct ctr *c);
char *ctr_runtime_root(struct engine *e);
/* 64 random hex digits (a container or exec session id). */
void ctr_random_id(char out[65]);
/* The per-boot directory of c (caller frees). */
char *ctr_rundir(struct engine *e, const char *id);
/* Stop: the stop signal, then SIGKILL after timeout (negative: the container's own).
 * Waits until it has exited. Stopped containers are fine. */
int ctr_stop(struct engine *e, struct ctr *c, int timeout, struct skiff_err **err);
/* Stop several at once: every stop signal first, then the exits (a container's stop
 * timeout runs alongside the others'). Refreshes each, and removes the --rm ones unless
 * the caller is removing them anyway. */
int ctr_stop_many(struct engine *e, struct ctr *v, size_t n, int timeout, bool removing, struct skiff_err **err);
int ctr_kill(struct engine *e, struct ctr *c, int sig, struct skiff_err **err);
/* Remove; a running container needs force (then it is killed first). */
int ctr_remove(struct engine *e, struct ctr *c, bool force, struct skiff_err **err);
/* Wait until the container is not running (or removed) and give its exit code. */
int ctr_wait(struct engine *e, struct ctr *c, int *ret_code, struct skiff_err **err);
/* pause/unpause: freeze the cgroup through the runtime. */
int ctr_pause(struct engine *e, struct ctr *c, bool pause, struct skiff_err **err);
int ctr_rename(struct engine *e, struct ctr *c, const char *name, struct skiff_err **err);
/* Mount the rootfs (kept until umount or the end of a run) and give its path. */
int ctr_mount(struct engine *e, struct ctr *c, char **ret_path, struct skiff_err **err);
int ctr_umount(struct engine *e, struct ctr *c, struct skiff_err **err);
/* The processes of a running container: ps-like rows (top.c). */
int ctr_top(struct engine *e, struct ctr *c, struct json **ret_rows, struct skiff_err **err);

/* Log a container event (status "attach", "exec", "restart" ...) in the events log, with
 * c's name, image and labels; a failure to log is ignored. (create, init, start, died,
 * cleanup, stop, kill, pause, unpause, rename, mount, unmount and remove log themselves.) */
void ctr_event(struct engine *e, const struct ctr *c, const char *status);

/* The monitor's exit command: record the exit, unmount, and remove with rm. */
int ctr_cleanup(struct engine *e, const char *ref, bool rm, struct skiff_err **err);
/* The log file (graphroot/containers/ID/userdata/ctr.log; caller frees). */
char *ctr_log_path(struct engine *e, const char *id);
/* Connect to the monitor's control socket. */
int ctr_connect(struct engine *e, struct ctr *c, int *ret_fd, struct skiff_err **err);

/* ---- attach (attach.c) ---- */
struct ctr_attach_opts {
	bool in, out, err; /* which streams */
	int in_fd, out_fd, err_fd;
	bool tty;		 /* the container has a terminal: in_fd is put in raw mode when it is one */
	bool sig_proxy;		 /* forward SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 to the container */
	const char *detach_keys; /* "ctrl-p,ctrl-q" (default; "" disables) */
	bool cleanup;		 /* the caller cleans up after the exit: the monitor skips its exit command */
};
/* Attach to the monitor of c, START it when start (the monitor waits for it), and copy
 * streams until the container exits: *ret_code is its status. Returns 1 (not 0) when the
 * user detached with the detach keys. */
int ctr_attach(struct engine *e, struct ctr *c, const struct ctr_attach_opts *o, bool start, int *ret_code,
	       struct skiff_err **err);
/* The same with the monitor in dir: the container's (exec false), or an exec session's
 * (exec true: the container's record is left alone). */
int ctr_attach_dir(struct engine *e, struct ctr *c, const char *dir, bool exec, const struct ctr_attach_opts *o,
		   bool start, int *ret_code, struct skiff_err **err);

/* ---- --userns=auto (userns.c) ---- */
/* Pick the container's ids (cfg->userns_uid/gid/size) from a range no other --userns=auto
 * container uses; ENOENT/ENOSPC naming what is missing. */
int ctr_userns_auto(struct engine *e, struct ctr_config *cfg, struct skiff_err **err);
/* Let the container's root (another user) through the store's directories to its rootfs
 * and per-boot files. */
int ctr_userns_auto_paths(struct engine *e, struct ctr *c, struct skiff_err **err);

/* ---- healthchecks (exec.c) ---- */
#define CTR_HEALTH_PROCESS "health-process.json"
/* With a healthcheck, write its process (the container's, with the test's argv) into the
 * per-boot directory (rundirfd) for the monitor; without one, nothing. */
int ctr_health_process(struct engine *e, struct ctr *c, int rundirfd, struct skiff_err **err);
/* podman's State.Health from the monitor's record ({"Status":...,"FailingStreak":...,"Log":[...]});
 * *ret NULL when the container has no healthcheck or no record yet. */
int ctr_health_state(struct engine *e, struct ctr *c, struct json **ret, struct skiff_err **err);
/* "healthy", "unhealthy", "starting", or NULL (none): for ps. */
const char *ctr_health_status(struct engine *e, struct ctr *c);
/* healthcheck run: run it now through the monitor; *ret_status "healthy"/"unhealthy"/... */
int ctr_healthcheck_run(struct engine *e, struct ctr *c, char **ret_status, struct skiff_err **err);

/* ---- exec (exec.c) ---- */
struct ctr_exec_opts {
	const char *const *argv; /* the command, NULL-terminated */
	const char *const *env;	 /* KEY=VALUE (or KEY: from the environment), NULL-terminated; may be NULL */
	const char *user;	 /* -u USER[:GROUP]; NULL: the container's */
	const char *workdir;	 /* -w; NULL: the container's */
	bool tty, interactive, detach, privileged;
	const char *detach_keys;
	unsigned preserve_fds; /* pass fds 3..3+N-1 (runs the runtime directly, no monitor) */
};
/* Run a process in the running container c. Foreground: attached to stdio until it exits,
 * *ret_code its status (1 returned when the user detached). Detached: *ret_session gets the
 * exec session's id (caller frees) and this returns at once. */
int ctr_exec(struct engine *e, struct ctr *c, const struct ctr_exec_opts *o, int *ret_code, char **ret_session,
	     struct skiff_err **err);

/* podman's `inspect` JSON of a container (ctrinspect.c). */
int ctr_inspect_json(struct engine *e, struct ctr *c, struct json **ret, struct skiff_err **err);

/* ---- logs (logs.c) ---- */
struct ctr_logs_opts {
	bool follow, timestamps;
	long tail;		    /* -1: all */
	int64_t since_ns, until_ns; /* 0: unbounded */
	const char *name;	    /* prefix each line (--names) */
	int out_fd, err_fd;
};
int ctr_logs(struct engine *e, struct ctr *c, const struct ctr_logs_opts *o, struct skiff_err **err);
/* --since/--until values: RFC 3339, unix seconds, or a duration before now ("10m"). */
int ctr_parse_log_time(const char *s, int64_t *ret, struct skiff_err **err);

/* "ctrl-p,ctrl-q" -> bytes; EINVAL naming a bad key. */
int ctr_parse_detach_keys(const char *s, char *ret, size_t *ret_len, struct skiff_err **err);

#endif
