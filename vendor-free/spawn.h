/*
 * Starting and waiting for processes.
 *
 *     struct spawn_opts o = SPAWN_OPTS_INIT;
 *     o.stdin_fd = SPAWN_DEVNULL;
 *     if (spawn((const char *const[]){ "newuidmap", pid, ..., NULL }, &o, &pid, NULL, err) < 0)
 *             return err_wrap(err, "map user ids");
 *
 * An exec failure (missing binary, no permission, bad cwd) is reported to the
 * caller as an error ("exec newuidmap: No such file or directory"), never as a
 * child exit status: the child tells the parent through a CLOEXEC pipe.
 */
#ifndef SKIFF_SPAWN_H
#define SKIFF_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"

#define SPAWN_DEVNULL (-1) /* connect the stream to /dev/null */
#define SPAWN_INHERIT (-2) /* leave the caller's fd 0/1/2 as it is */

struct spawn_opts {
	const char *const *env; /* NULL: inherit environ */
	const char *cwd;	/* NULL: inherit */
	/* fd to dup onto 0/1/2, or SPAWN_DEVNULL, or SPAWN_INHERIT */
	int stdin_fd, stdout_fd, stderr_fd;
	/* Extra fds to pass: extra_fds[i] becomes fd 3+i in the child (as podman's
	 * --preserve-fds and systemd's LISTEN_FDS). Every other fd above 2 is closed
	 * on exec, CLOEXEC or not. */
	const int *extra_fds;
	size_t n_extra_fds;
	bool new_session; /* setsid() in the child */
};

/* All inherited, no extra fds. A zeroed struct would dup fd 0 onto 1 and 2:
 * always start from this. */
#define SPAWN_OPTS_INIT                                                                                                \
	{                                                                                                              \
		.env = NULL, .cwd = NULL, .stdin_fd = SPAWN_INHERIT, .stdout_fd = SPAWN_INHERIT,                       \
		.stderr_fd = SPAWN_INHERIT, .extra_fds = NULL, .n_extra_fds = 0, .new_session = false                  \
	}

/*
 * Start argv[0] with arguments argv (NULL-terminated). argv[0] without a '/'
 * is searched in $PATH (from opts->env if it sets PATH, else this process's,
 * else a default), as execvp() does. opts NULL = SPAWN_OPTS_INIT. In the
 * child, signal dispositions are reset to default and the signal mask is
 * emptied. *ret_pid gets the pid; ret_pidfd (may be NULL) a pidfd for it, or
 * -1 when the kernel has no pidfd_open. The caller must reap the child
 * (spawn_wait), and must not have SIGCHLD set to SIG_IGN.
 */
int spawn(const char *const argv[], const struct spawn_opts *opts, pid_t *ret_pid, int *ret_pidfd,
	  struct skiff_err **err);

/* waitpid(), retried on EINTR. *ret_status (may be NULL): the exit code, or
 * 128+signal when killed by a signal (as a shell reports it).
 * 0, or -1 with errno set. */
int spawn_wait(pid_t pid, int *ret_status);

/*
 * Run argv to completion and collect its output: stdout is appended to out
 * and stderr to errout (each may be NULL: then opts decides where it goes).
 * Both pipes are drained together with poll(), so any amount of output on
 * either stream is fine. opts NULL: stdin is /dev/null, the rest inherited.
 * ret_status gets the status as spawn_wait() reports it, and a non-zero
 * status is not an error; with ret_status NULL a non-zero status is an EIO
 * error naming the program and quoting the start of its stderr.
 */
int run_capture(const char *const argv[], const struct spawn_opts *opts, struct strbuf *out, struct strbuf *errout,
		int *ret_status, struct skiff_err **err);

/* pidfd_open(pid, 0) by syscall, whatever the libc: a CLOEXEC fd, or -1 with
 * errno (ENOSYS before Linux 5.3, ESRCH when pid is gone). */
int pidfd_open_compat(pid_t pid);

/* The start time of pid (field 22 of /proc/PID/stat, clock ticks since boot),
 * parsed after the last ')' so that any command name is fine. With the pid it
 * identifies a process across pid reuse. pid 0 means this process.
 * 0, or -1 with errno (ESRCH: no such process; EINVAL: unparsable). */
int proc_starttime(pid_t pid, uint64_t *ret);

#endif
