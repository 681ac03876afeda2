/*
 * What the engine uses of the monitor: start one, talk to its control socket, read what it
 * leaves behind (the exit record, the k8s-file log, monitor.pid). docs/design/monitor.md.
 *
 *     struct mon_spawn_opts o = MON_SPAWN_OPTS_INIT;
 *     o.monitor_path = p; o.id = id; o.bundle = b; o.dir = d; o.runtime = "crun"; o.start = true;
 *     if (mon_spawn(&o, &ctr, &mon, err) < 0)
 *             return err_wrap(err, "start container %s", id);
 */
#ifndef SKIFF_MONITOR_CLIENT_H
#define SKIFF_MONITOR_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pkg/monitor/proto.h"
#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"

/* skiff-monitor's command line (NULL/0 fields are left out: the monitor's defaults). */
struct mon_spawn_opts {
	const char *monitor_path, *id, *bundle, *dir, *runtime;
	const char *const *runtime_args; /* NULL-terminated, may be NULL */
	bool terminal, stdin_open, start;
	const char *log_path, *log_driver; /* log_driver NULL: k8s-file when log_path is set */
	const char *name, *log_tag;	   /* journald: CONTAINER_NAME, CONTAINER_TAG */
	int64_t log_size_max;		   /* <= 0: no limit */
	unsigned log_max_file;		   /* > 1: rotate, keeping this many files */
	const char *oom_file, *restart, *exit_command;
	const char *const *exit_command_args; /* NULL-terminated, may be NULL */
	int stop_signal;		      /* 0: the monitor's default, SIGTERM */
	int stop_timeout;		      /* seconds; -1: the monitor's default, 10 (0 is SIGKILL at once) */
	const char *exec_process;	      /* an exec session: the process.json to run */
	const char *restore;		      /* a CRIU checkpoint directory to restore from */
	const char *health_process;	      /* the healthcheck's process.json; NULL: none */
	uint64_t health_interval_ms, health_timeout_ms, health_start_period_ms;
	unsigned health_retries;
	const char *health_on_failure; /* NULL: none */
};

/* Start from this: a zeroed struct would ask for a stop timeout of 0. */
#define MON_SPAWN_OPTS_INIT                                                                                            \
	{                                                                                                              \
		.stop_timeout = -1                                                                                     \
	}

/* Spawn the monitor and read its sync line. On "ok CTRPID MONPID" fill both pids; on
 * "error MSG" fail with MSG (EIO); when the monitor dies without a word, EIO quoting its
 * stderr. The monitor is detached (double fork, own session) when this returns. */
int mon_spawn(const struct mon_spawn_opts *o, pid_t *ret_ctr_pid, pid_t *ret_mon_pid, struct skiff_err **err);

/* Connect to DIR/ctl (any path length) and read the VERSION packet: EPROTO when the monitor
 * speaks another version. ret_state (may be NULL) gets the status text, caller frees. */
int mon_connect(const char *dir, int *ret_fd, char **ret_state, struct skiff_err **err);

/* Requests. Each waits for the monitor's REPLY and fails with its errno and message; data and
 * EXIT packets that arrive meanwhile are skipped, so make requests on a connection that is
 * not attached (or read with mon_recv yourself). */
int mon_start(int fd, struct skiff_err **err);
/* timeout MON_STOP_DEFAULT_TIMEOUT / sig 0: the monitor's defaults. Returns once the signal
 * was sent; the exit shows in the exit record. */
int mon_stop(int fd, uint32_t timeout, int sig, struct skiff_err **err);
int mon_kill(int fd, int sig, struct skiff_err **err);
/* "state=running pid=N restarts=N\n" (caller frees). */
int mon_status(int fd, char **ret_text, struct skiff_err **err);
int mon_reopen_log(int fd, struct skiff_err **err);
/* Run the healthcheck now and wait for it: "healthy", "unhealthy" or "starting" (caller
 * frees); ENOTSUP when the container has none, ESRCH when it is not running. */
int mon_healthcheck(int fd, char **ret_status, struct skiff_err **err);
int mon_attach(int fd, bool in, bool out, bool err_, struct skiff_err **err);
/* ATTACH with MON_ATTACH_* flags (MON_ATTACH_CLEANUP among them). */
int mon_attach_flags(int fd, unsigned flags, struct skiff_err **err);

/* Stream packets (no reply): data to the container's stdin (split into packets as needed),
 * end of stdin, window size. */
int mon_send_stdin(int fd, const void *buf, size_t len, struct skiff_err **err);
int mon_close_stdin(int fd, struct skiff_err **err);
int mon_resize(int fd, unsigned rows, unsigned cols, struct skiff_err **err);

/* Read one packet: 1 with *ret filled, 0 when the monitor closed the connection, -1 on
 * error (a malformed packet is EPROTO). Unknown types are returned as they are. */
int mon_recv(int fd, struct mon_packet *ret, struct skiff_err **err);

/* ---- the exit record, DIR/exit ---- */

struct mon_exit {
	int pid, exit_code, signal, restart_count;
	bool oom_killed, stopped_by_user;
	bool restarting;		 /* the monitor restarts the container after this exit (restart policy) */
	int64_t started_at, finished_at; /* unix ns; started_at 0: never started */
};

/* The one-line JSON the monitor writes (with a trailing newline). */
void mon_exit_format(const struct mon_exit *e, struct strbuf *out);
/* Parse that shape: keys in any order, unknown keys (any JSON value) ignored; version must
 * be 1 and exitCode present. Anything else is EINVAL naming what (prefixed by `what`). */
int mon_exit_parse(const char *buf, size_t len, const char *what, struct mon_exit *ret, struct skiff_err **err);
/* Read DIR/exit: ENOENT when there is none (the container has not exited). */
int mon_read_exit(const char *dir, struct mon_exit *ret, struct skiff_err **err);

/* ---- the k8s-file log ---- */

enum mon_stream { MON_STREAM_STDOUT = 1, MON_STREAM_STDERR = 2 };

struct mon_log_line {
	int64_t time_ns; /* unix ns */
	enum mon_stream stream;
	bool partial;	     /* P: no newline ended this chunk; F: the content ended a line */
	const char *content; /* points into the line, without the trailing '\n' */
	size_t content_len;
};

/* Parse one log line (the trailing '\n' optional): "TIME STREAM F|P CONTENT", TIME in
 * RFC 3339 with nanoseconds optional and a zone (Z or +hh:mm), as conmon and podman write
 * it. EINVAL naming the bad field. */
int mon_log_parse_line(const char *line, size_t len, struct mon_log_line *ret, struct skiff_err **err);

/* Is the monitor whose DIR/monitor.pid this is alive (pid and start time match, and it is
 * no zombie)? No monitor.pid, or no such process: false. A malformed file is EINVAL. */
int mon_alive(const char *dir, bool *ret, struct skiff_err **err);

#endif
