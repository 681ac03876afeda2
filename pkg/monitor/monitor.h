/*
 * skiff-monitor: the per-container monitor (like conmon). cmd/skiff-monitor parses the
 * command line into struct monitor_opts, detaches, and calls monitor_run(), which creates
 * and starts the container through an OCI runtime, serves it until it exits for good, and
 * returns. docs/design/monitor.md describes the whole life cycle.
 */
#ifndef SKIFF_MONITOR_H
#define SKIFF_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include "vendor-free/err.h"

enum mon_log_driver { MON_LOG_NONE, MON_LOG_K8S_FILE, MON_LOG_JOURNALD };
/* The most log files a rotated log keeps (--log-max-file). */
#define MON_LOG_MAX_FILE_MAX 10000

enum mon_restart_kind { MON_RESTART_NO, MON_RESTART_ON_FAILURE, MON_RESTART_ALWAYS, MON_RESTART_UNLESS_STOPPED };

struct mon_restart_policy {
	enum mon_restart_kind kind;
	unsigned max_retries; /* on-failure:N; 0: no limit (as docker) */
};

/* "no", "on-failure", "on-failure:N", "always", "unless-stopped" ("" is "no"). EINVAL naming
 * the bad value otherwise (":N" is for on-failure only). */
int mon_restart_parse(const char *s, struct mon_restart_policy *ret, struct skiff_err **err);

/* After an exit with exit_code (128+N for a signal), with restarts restarts done so far:
 * restart? Never after a stop by the user (docker: a manual stop disables the policy). */
bool mon_restart_wanted(const struct mon_restart_policy *p, int exit_code, bool stopped_by_user, unsigned restarts);

/* Delay before restart number n (0-based): 100 ms doubling, at most 10 s. */
unsigned mon_restart_delay_ms(unsigned n);

/* --health-on-failure: what becoming unhealthy does (podman's names). */
enum mon_health_action { HEALTH_ACTION_NONE, HEALTH_ACTION_KILL, HEALTH_ACTION_RESTART, HEALTH_ACTION_STOP };
/* "none", "kill", "restart", "stop": 0, else -1. */
int mon_health_action_parse(const char *s, enum mon_health_action *ret);

struct monitor_opts {
	const char *id, *bundle, *dir, *runtime;
	const char *const *runtime_args; /* global runtime args, before the subcommand; NULL-terminated */
	bool terminal, stdin_open, start;
	const char *log_path;
	enum mon_log_driver log_driver;
	const char *ctr_name, *log_tag; /* journald: CONTAINER_NAME, CONTAINER_TAG (may be NULL) */
	int64_t log_size_max;		/* <= 0: no limit */
	unsigned log_max_file;		/* > 1: rotate at log_size_max, keeping this many files */
	int sync_fd;			/* -1: none */
	const char *oom_file;
	struct mon_restart_policy restart;
	int stop_signal;       /* default SIGTERM */
	unsigned stop_timeout; /* seconds, default 10 */
	const char *exit_command;
	const char *const *exit_command_args; /* NULL-terminated, may be NULL */
	/* An exec session: run `RUNTIME exec --process FILE` in the running container ID instead
	 * of creating it (at once with start, else on START); no delete, no restart after. */
	const char *exec_process;
	/* Restore the container from this CRIU checkpoint directory (`RUNTIME restore`, running
	 * at once) instead of create + start; the first run only: a restart creates it anew. */
	const char *restore;
	/* Healthcheck: `RUNTIME exec --process health_process ID` every interval (0: only on
	 * request), killed after timeout; docker's retries and start period. */
	const char *health_process;
	uint64_t health_interval_ms, health_timeout_ms, health_start_period_ms;
	unsigned health_retries;
	enum mon_health_action health_on_failure;
};

/* Defaults for the fields above (no log, no sync fd, SIGTERM, 10 s, restart no). */
void monitor_opts_init(struct monitor_opts *o);

/*
 * Be the monitor: become a child subreaper, create the container (and start it with
 * o->start), report "ok CTRPID MONPID" or "error MSG" on o->sync_fd, then serve the
 * container until it exits and will not restart, run the exit command, and return 0.
 * -1 when setup failed (the error was also sent on the sync fd) or the loop broke.
 * Call it in a process of its own: it blocks signals for its signalfd and reaps children.
 */
int monitor_run(const struct monitor_opts *o, struct skiff_err **err);

#endif
