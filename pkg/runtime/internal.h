/* pkg/runtime internals shared by its files. */
#ifndef SKIFF_RUNTIME_INTERNAL_H
#define SKIFF_RUNTIME_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pkg/runtime/runtime.h"
#include "pkg/spec/runtime.h"
#include "vendor-free/err.h"

struct rt_seccomp;

/* ---- sync: messages between the runtime and the container child (SOCK_SEQPACKET) ---- */
enum rt_sync_type {
	RT_SYNC_GO = 1,	 /* parent: ids mapped, cgroup joined: set up the container */
	RT_SYNC_PTY,	 /* child: the pty master (SCM_RIGHTS) */
	RT_SYNC_READY,	 /* child: set up, waiting to be started */
	RT_SYNC_ERROR,	 /* child: set-up failed; errno + message */
	RT_SYNC_WARNING, /* child: a warning line */
};
struct rt_sync_msg {
	int32_t type;
	int32_t status;
	char text[1024];
};
int rt_sync_send(int sock, int type, int status, const char *text, int fd);
/* Receive one message; *ret_fd gets a passed fd or -1. -1 with errno on failure; EPIPE
 * when the peer is gone. */
int rt_sync_recv(int sock, struct rt_sync_msg *m, int *ret_fd);

/* ---- the container being created ---- */
struct rt_ctx {
	const struct rt_create_opts *opts;
	struct spec_runtime *spec;
	char *bundle;	  /* absolute */
	char *rootfs;	  /* absolute */
	int state_dirfd;  /* ROOT/ID */
	int fifo_fd;	  /* O_PATH to ROOT/ID/exec.fifo, or -1 (run) */
	int sync_sock[2]; /* [0] parent, [1] child */
	bool new_userns;  /* the spec makes a user namespace */
	bool rootless;	  /* not root in the initial user namespace */
	unsigned long clone_flags;
	struct rt_seccomp *seccomp;
};

/* ---- the child: everything from clone to execve (child.c) ---- */
/* Never returns: execs the process or _exits (127 not found, 126 cannot exec, 1 set-up). */
__attribute__((noreturn)) void rt_child_main(struct rt_ctx *c);

/* ---- mounts.c ---- */
/* Make the rootfs (mounts, devices, links), pivot into it, mask, make read-only. */
int rt_setup_rootfs(struct rt_ctx *c, struct skiff_err **err);
/* After pivot: masked paths, read-only paths, read-only root. */
int rt_finish_rootfs(struct rt_ctx *c, struct skiff_err **err);

/* ---- userns.c ---- */
int rt_write_id_maps(pid_t pid, const struct spec_rt_linux *l, bool rootless, struct skiff_err **err);
/* True when this process is not root of the initial user namespace. */
bool rt_running_rootless(void);

/* ---- process.c ---- */
int rt_apply_rlimits(const struct spec_rt_process *p, struct skiff_err **err);
int rt_apply_user(const struct spec_rt_process *p, bool setgroups_allowed, struct skiff_err **err);
int rt_apply_caps(const struct spec_rt_process *p, struct skiff_err **err);
/* Drop what the bounding set does not keep (before the uid changes). */
int rt_drop_bounding(const struct spec_rt_process *p, struct skiff_err **err);
/* Resolve args[0] in the container's PATH (process.env, else the default): *ret is the
 * path to exec. ENOENT/EACCES name the executable. */
int rt_find_executable(const struct spec_rt_process *p, char **ret, struct skiff_err **err);
int rt_capability_from_name(const char *name, int *ret, struct skiff_err **err);

/* ---- terminal.c ---- */
/* In the container: open a new pty from /dev/ptmx, make the slave the controlling tty
 * and stdio; *ret_master gets the master. */
int rt_setup_terminal(const struct spec_rt_process *p, int *ret_master, struct skiff_err **err);
/* Send fd over the AF_UNIX socket at path (the --console-socket protocol). */
int rt_send_console(const char *path, int fd, struct skiff_err **err);

/* ---- state.c ---- */
struct rt_state {
	char *id, *bundle, *rootfs, *created, *owner, *cgroup;
	pid_t pid;
	uint64_t starttime;
	bool rootless;
	struct json *annotations; /* object or NULL */
};
enum rt_status { RT_CREATED, RT_RUNNING, RT_PAUSED, RT_STOPPED };
const char *rt_status_name(enum rt_status s);
int rt_state_dir_create(const struct rt_global *g, const char *id, int *ret_dirfd, struct skiff_err **err);
int rt_state_open(const struct rt_global *g, const char *id, int *ret_dirfd, struct skiff_err **err);
int rt_state_remove(const struct rt_global *g, const char *id, struct skiff_err **err);
int rt_state_write(int dirfd, const struct rt_state *s, struct skiff_err **err);
int rt_state_read(int dirfd, struct rt_state *ret, struct skiff_err **err);
void rt_state_release(struct rt_state *s);
/* Is the init alive (pid + start time), and in which state? */
enum rt_status rt_state_status(int dirfd, const struct rt_state *s);
/* A pidfd for the init when it is alive, else -1 (ESRCH). */
int rt_state_pidfd(const struct rt_state *s);

/* Write /proc/sys/KEY (dots as slashes); a name with ".." or "/" is refused. */
int rt_write_sysctl(const char *key, const char *value, struct skiff_err **err);

/* The time now as RFC 3339 with nanoseconds (state.json's "created"). */
char *rt_now_rfc3339(void);
/* Whether a spec mount is a bind mount (type "bind", or a bind/rbind option). */
bool rt_mount_is_bind(const struct spec_rt_mount *m);

#endif
