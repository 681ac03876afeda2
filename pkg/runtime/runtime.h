/*
 * pkg/runtime: skiff's OCI runtime library, the engine behind cmd/skiff-runtime. It takes
 * an OCI runtime-spec bundle (config.json + rootfs) and knows nothing of images or the
 * store. The commands follow crun's and runc's semantics:
 *
 *   create   clone the container init with its namespaces, map ids, set up the rootfs
 *            (mounts, devices, pivot_root, masked and read-only paths) and stop it just
 *            before the user process, waiting on ROOT/ID/exec.fifo;
 *   start    release it: it drops privileges (rlimits, user, capabilities, no_new_privs,
 *            seccomp) and execs process.args;
 *   run      create + start, then wait for the exit (or return at once when detached);
 *   state, kill, delete, pause, resume, list, features.
 *
 * State lives in ROOT/ID/state.json (ROOT: --root, else /run/skiff-runtime as root, else
 * $XDG_RUNTIME_DIR/skiff-runtime). The init's pid is stored with its start time, so a
 * recycled pid never passes for the container.
 *
 * Departures from crun, on purpose: no new session keyring is created (keys.maxkeys would
 * cap a user at ~200 containers; the default seccomp profile blocks the keyring calls), and
 * default rlimits that exceed the hard limit the runtime holds are clamped to it when it
 * lacks CAP_SYS_RESOURCE instead of failing.
 */
#ifndef SKIFF_RUNTIME_H
#define SKIFF_RUNTIME_H

#include <stdbool.h>
#include <sys/types.h>

#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/strv.h"

struct rt_global {
	const char *root;	    /* state root; NULL: the default */
	const char *cgroup_manager; /* "cgroupfs" (NULL), "systemd", "disabled" */
	bool debug;
};

struct rt_create_opts {
	const char *id;
	const char *bundle;	    /* NULL: "." */
	const char *config;	    /* NULL: BUNDLE/config.json */
	const char *pid_file;	    /* written with the init's pid */
	const char *console_socket; /* process.terminal: the pty master is sent here */
	unsigned preserve_fds;	    /* fds 3 .. 3+N-1 pass into the container */
	bool no_pivot;		    /* MS_MOVE + chroot instead of pivot_root (ramfs roots) */
	bool detach;		    /* run: return once started */
};

/* The default state root for this process (caller frees). */
char *rt_default_root(void);

/* Container ids: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 1024 bytes. */
int rt_check_id(const char *id, struct skiff_err **err);

/* Warnings (e.g. cgroups unavailable) are appended to warnings, one line each. */
int rt_create(const struct rt_global *g, const struct rt_create_opts *o, struct strv *warnings, struct skiff_err **err);
/* create + start; unless o->detach, wait for the init and delete the container, giving
 * its status as a shell would (code, or 128+signal) in *ret_status. */
int rt_run(const struct rt_global *g, const struct rt_create_opts *o, struct strv *warnings, int *ret_status,
	   struct skiff_err **err);
int rt_start(const struct rt_global *g, const char *id, struct skiff_err **err);
/* The OCI state JSON (ociVersion, id, status, pid, bundle, rootfs, created, owner,
 * annotations) appended to out. */
int rt_state(const struct rt_global *g, const char *id, struct strbuf *out, struct skiff_err **err);
int rt_kill(const struct rt_global *g, const char *id, int sig, bool all, struct skiff_err **err);
/* A running or created container needs force (SIGKILL, then wait, bounded). */
int rt_delete(const struct rt_global *g, const char *id, bool force, struct skiff_err **err);
int rt_pause(const struct rt_global *g, const char *id, bool pause, struct skiff_err **err);
/* `list`: a table (ID PID STATUS BUNDLE CREATED OWNER), quiet (ids) or JSON. */
int rt_list(const struct rt_global *g, const char *format, bool quiet, struct strbuf *out, struct skiff_err **err);
struct rt_exec_opts {
	const char *id;
	const char *process_file; /* --process: a process object (JSON) */
	struct strv args;	  /* the command, replacing process.args */
	struct strv env;	  /* -e KEY=VALUE, added or replaced */
	const char *cwd, *user;	  /* --cwd, -u UID[:GID] */
	struct strv caps;	  /* --cap CAP_X, added */
	bool tty, detach, no_new_privs;
	const char *console_socket, *pid_file;
	unsigned preserve_fds;
};
/* Run a process in a running container; unless detached, wait for it and give its
 * status (code, or 128+signal). */
int rt_exec(const struct rt_global *g, const struct rt_exec_opts *o, int *ret_status, struct skiff_err **err);
/* The runtime-spec features document. */
int rt_features(struct strbuf *out, struct skiff_err **err);

/*
 * CVE-2019-5736: before a container can see this process, make sure it runs from a
 * sealed memfd copy of its binary, so nothing in a container can write the host binary
 * through /proc/PID/exe. Re-executes argv (returns only on failure, or at once when
 * already sealed).
 */
int rt_ensure_cloned_binary(char **argv, char **envp, struct skiff_err **err);

#endif
