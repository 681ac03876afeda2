/*
 * skiff-monitor: the per-container monitor. Parses the command line, detaches (double fork,
 * setsid; not with --foreground) and calls monitor_run() (pkg/monitor).
 *
 * Hidden modes for tests and debugging, over the client library (pkg/monitor/client.h):
 *   skiff-monitor --client DIR status|start|stop [TIMEOUT [SIGNAL]]|kill SIGNAL|log-reopen|
 *                 resize ROWS COLS|attach [--no-stdin]|exit|alive
 *   skiff-monitor --spawn [monitor options]    start a monitor with mon_spawn(), print its sync
 *   skiff-monitor --parse-log FILE             print a k8s-file log's content (stdout/stderr)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/monitor/client.h"
#include "pkg/monitor/monitor.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/err.h"
#include "vendor-free/fileio.h"
#include "vendor-free/signame.h"
#include "vendor-free/strv.h"
#include "vendor-free/xalloc.h"

static int fail(struct skiff_err *e)
{
	fprintf(stderr, "skiff-monitor: %s\n", e->msg);
	err_free(e);
	return 1;
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("skiff-monitor: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see --help)\n", stderr);
	return 1;
}

static void usage(FILE *f)
{
	fputs("Usage: skiff-monitor --id ID --bundle DIR --dir DIR --runtime PATH [OPTION...]\n"
	      "Create a container with an OCI runtime and watch over it until it exits.\n\n"
	      "  --runtime-arg ARG        global runtime argument, before the subcommand (repeatable)\n"
	      "  --terminal               give the container a pty (received on DIR/console.sock)\n"
	      "  --stdin                  keep the container's stdin open for attached clients\n"
	      "  --log-path FILE          the container log\n"
	      "  --log-driver DRIVER      k8s-file (default with --log-path), journald or none\n"
	      "  --name NAME              the container's name (journald: CONTAINER_NAME)\n"
	      "  --log-tag TAG            journald: CONTAINER_TAG and SYSLOG_IDENTIFIER\n"
	      "  --log-size-max BYTES     truncate the log when it would grow past this\n"
	      "  --log-max-file N         rotate it instead, keeping N files (FILE, FILE.1 ...)\n"
	      "  --start                  start the container at once (else on a START request)\n"
	      "  --sync-fd N              write \"ok CTRPID MONPID\" or \"error MSG\" there\n"
	      "  --oom-file PATH          cgroup file with an oom_kill count (memory.events)\n"
	      "  --restart POLICY         no, on-failure[:N], always, unless-stopped\n"
	      "  --stop-signal SIGNAL     default TERM\n"
	      "  --stop-timeout SECONDS   default 10\n"
	      "  --exit-command PATH      run after the container exited for good\n"
	      "  --exit-command-arg ARG   its arguments (repeatable)\n"
	      "  --exec-process FILE      an exec session: run FILE (an OCI process) in the running\n"
	      "                           container ID instead of creating it\n"
	      "  --restore DIR            restore the container from the CRIU checkpoint DIR\n"
	      "                           (RUNTIME restore) instead of creating it\n"
	      "  --health-process FILE    a healthcheck: FILE (an OCI process) run with RUNTIME exec\n"
	      "  --health-interval MS     between checks (0: only on a HEALTHCHECK request)\n"
	      "  --health-timeout MS      a check running longer fails (default 30000)\n"
	      "  --health-start-period MS failures in this time after the start do not count\n"
	      "  --health-retries N       failures in a row that make it unhealthy (default 3)\n"
	      "  --health-on-failure ACT  none, kill, restart or stop when it turns unhealthy\n"
	      "  --foreground             do not detach\n",
	      f);
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *ret)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*ret = v;
	return 0;
}

/* A signal number or name (TERM, SIGTERM, 15); -1 when invalid. */
static int parse_signal(const char *s)
{
	struct skiff_err *err = NULL;
	int sig;

	if (sig_from_name(s, &sig, &err) < 0) {
		err_free(err);
		return -1;
	}
	return sig;
}

/* Relative paths are made absolute: the detached monitor works from "/". */
static char *absolute(const char *p)
{
	char cwd[PATH_MAX];

	if (!p || p[0] == '/')
		return p ? xstrdup(p) : NULL;
	if (!getcwd(cwd, sizeof(cwd)))
		return xstrdup(p);
	return xasprintf("%s/%s", cwd, p);
}

/* A program: absolute when it has a '/', else left to the PATH search. */
static char *program(const char *p)
{
	return p && !strchr(p, '/') ? xstrdup(p) : absolute(p);
}

struct args {
	struct monitor_opts o;
	struct strv runtime_args, exit_args;
	const char *log_driver;
	const char *restart;
	bool foreground, spawn, stop_timeout_set;
	/* owned copies */
	char *dir, *bundle, *runtime, *log_path, *oom_file, *exit_command, *exec_process, *health_process, *restore;
};

enum {
	OPT_ID = 256,
	OPT_BUNDLE,
	OPT_DIR,
	OPT_RUNTIME,
	OPT_RUNTIME_ARG,
	OPT_TERMINAL,
	OPT_STDIN,
	OPT_LOG_PATH,
	OPT_LOG_DRIVER,
	OPT_NAME,
	OPT_LOG_TAG,
	OPT_LOG_SIZE_MAX,
	OPT_LOG_MAX_FILE,
	OPT_START,
	OPT_SYNC_FD,
	OPT_OOM_FILE,
	OPT_RESTART,
	OPT_STOP_SIGNAL,
	OPT_STOP_TIMEOUT,
	OPT_EXIT_COMMAND,
	OPT_EXIT_COMMAND_ARG,
	OPT_FOREGROUND,
	OPT_CLIENT,
	OPT_SPAWN,
	OPT_PARSE_LOG,
	OPT_EXEC_PROCESS,
	OPT_RESTORE,
	OPT_HEALTH_PROCESS,
	OPT_HEALTH_INTERVAL,
	OPT_HEALTH_TIMEOUT,
	OPT_HEALTH_START_PERIOD,
	OPT_HEALTH_RETRIES,
	OPT_HEALTH_ON_FAILURE,
	OPT_HELP,
	OPT_VERSION,
};

static int client_main(const char *dir, int argc, char **argv);
static int parse_log_main(const char *path);

/* 0: parsed, run the monitor; 1: exit with *ret_exit (a hidden mode or --help ran, or an
 * error was printed and *ret_exit is still 1). */
static int parse_args(int argc, char **argv, struct args *a, int *ret_exit)
{
	static const struct option opts[] = {
		{"id", required_argument, NULL, OPT_ID},
		{"bundle", required_argument, NULL, OPT_BUNDLE},
		{"dir", required_argument, NULL, OPT_DIR},
		{"runtime", required_argument, NULL, OPT_RUNTIME},
		{"runtime-arg", required_argument, NULL, OPT_RUNTIME_ARG},
		{"terminal", no_argument, NULL, OPT_TERMINAL},
		{"stdin", no_argument, NULL, OPT_STDIN},
		{"log-path", required_argument, NULL, OPT_LOG_PATH},
		{"log-driver", required_argument, NULL, OPT_LOG_DRIVER},
		{"name", required_argument, NULL, OPT_NAME},
		{"log-tag", required_argument, NULL, OPT_LOG_TAG},
		{"log-size-max", required_argument, NULL, OPT_LOG_SIZE_MAX},
		{"log-max-file", required_argument, NULL, OPT_LOG_MAX_FILE},
		{"start", no_argument, NULL, OPT_START},
		{"sync-fd", required_argument, NULL, OPT_SYNC_FD},
		{"oom-file", required_argument, NULL, OPT_OOM_FILE},
		{"restart", required_argument, NULL, OPT_RESTART},
		{"stop-signal", required_argument, NULL, OPT_STOP_SIGNAL},
		{"stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT},
		{"exit-command", required_argument, NULL, OPT_EXIT_COMMAND},
		{"exit-command-arg", required_argument, NULL, OPT_EXIT_COMMAND_ARG},
		{"exec-process", required_argument, NULL, OPT_EXEC_PROCESS},
		{"restore", required_argument, NULL, OPT_RESTORE},
		{"health-process", required_argument, NULL, OPT_HEALTH_PROCESS},
		{"health-interval", required_argument, NULL, OPT_HEALTH_INTERVAL},
		{"health-timeout", required_argument, NULL, OPT_HEALTH_TIMEOUT},
		{"health-start-period", required_argument, NULL, OPT_HEALTH_START_PERIOD},
		{"health-retries", required_argument, NULL, OPT_HEALTH_RETRIES},
		{"health-on-failure", required_argument, NULL, OPT_HEALTH_ON_FAILURE},
		{"foreground", no_argument, NULL, OPT_FOREGROUND},
		{"client", required_argument, NULL, OPT_CLIENT},
		{"spawn", no_argument, NULL, OPT_SPAWN},
		{"parse-log", required_argument, NULL, OPT_PARSE_LOG},
		{"help", no_argument, NULL, OPT_HELP},
		{"version", no_argument, NULL, OPT_VERSION},
		{0},
	};
	struct monitor_opts *o = &a->o;
	struct skiff_err *err = NULL;
	unsigned long long v;
	int c, sig;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ID:
			o->id = optarg;
			break;
		case OPT_BUNDLE:
			free(a->bundle);
			a->bundle = absolute(optarg);
			break;
		case OPT_DIR:
			free(a->dir);
			a->dir = absolute(optarg);
			break;
		case OPT_RUNTIME:
			free(a->runtime);
			a->runtime = program(optarg);
			break;
		case OPT_RUNTIME_ARG:
			strv_push(&a->runtime_args, optarg);
			break;
		case OPT_TERMINAL:
			o->terminal = true;
			break;
		case OPT_STDIN:
			o->stdin_open = true;
			break;
		case OPT_LOG_PATH:
			free(a->log_path);
			a->log_path = absolute(optarg);
			break;
		case OPT_NAME:
			a->o.ctr_name = optarg;
			break;
		case OPT_LOG_TAG:
			a->o.log_tag = optarg;
			break;
		case OPT_LOG_DRIVER:
			if (strcmp(optarg, "k8s-file") && strcmp(optarg, "none") && strcmp(optarg, "journald"))
				return usage_error("unsupported log driver \"%s\" (k8s-file, journald, none)", optarg);
			a->log_driver = optarg;
			break;
		case OPT_LOG_SIZE_MAX:
			if (parse_uint(optarg, INT64_MAX, &v) < 0)
				return usage_error("invalid --log-size-max \"%s\"", optarg);
			o->log_size_max = (int64_t)v;
			break;
		case OPT_LOG_MAX_FILE:
			if (parse_uint(optarg, MON_LOG_MAX_FILE_MAX, &v) < 0 || v < 1)
				return usage_error("invalid --log-max-file \"%s\" (1 to 10000)", optarg);
			o->log_max_file = (unsigned)v;
			break;
		case OPT_START:
			o->start = true;
			break;
		case OPT_SYNC_FD:
			if (parse_uint(optarg, INT_MAX, &v) < 0 || v < 3 || fcntl((int)v, F_GETFD) < 0)
				return usage_error("invalid --sync-fd \"%s\" (an open fd above 2)", optarg);
			o->sync_fd = (int)v;
			break;
		case OPT_OOM_FILE:
			free(a->oom_file);
			a->oom_file = absolute(optarg);
			break;
		case OPT_RESTART:
			if (mon_restart_parse(optarg, &o->restart, &err) < 0)
				return fail(err);
			a->restart = optarg;
			break;
		case OPT_STOP_SIGNAL:
			sig = parse_signal(optarg);
			if (sig < 1)
				return usage_error("invalid --stop-signal \"%s\"", optarg);
			o->stop_signal = sig;
			break;
		case OPT_STOP_TIMEOUT:
			if (parse_uint(optarg, INT_MAX, &v) < 0)
				return usage_error("invalid --stop-timeout \"%s\"", optarg);
			o->stop_timeout = (unsigned)v;
			a->stop_timeout_set = true;
			break;
		case OPT_EXIT_COMMAND:
			free(a->exit_command);
			a->exit_command = program(optarg);
			break;
		case OPT_EXIT_COMMAND_ARG:
			strv_push(&a->exit_args, optarg);
			break;
		case OPT_EXEC_PROCESS:
			free(a->exec_process);
			a->exec_process = absolute(optarg);
			break;
		case OPT_RESTORE:
			free(a->restore);
			a->restore = absolute(optarg);
			break;
		case OPT_HEALTH_PROCESS:
			free(a->health_process);
			a->health_process = absolute(optarg);
			break;
		case OPT_HEALTH_INTERVAL:
		case OPT_HEALTH_TIMEOUT:
		case OPT_HEALTH_START_PERIOD:
			if (parse_uint(optarg, UINT64_MAX / 1000000, &v) < 0)
				return usage_error("invalid healthcheck time \"%s\" (milliseconds)", optarg);
			if (c == OPT_HEALTH_INTERVAL)
				o->health_interval_ms = v;
			else if (c == OPT_HEALTH_TIMEOUT)
				o->health_timeout_ms = v;
			else
				o->health_start_period_ms = v;
			break;
		case OPT_HEALTH_RETRIES:
			if (parse_uint(optarg, 1000000, &v) < 0)
				return usage_error("invalid --health-retries \"%s\"", optarg);
			o->health_retries = (unsigned)v;
			break;
		case OPT_HEALTH_ON_FAILURE:
			if (mon_health_action_parse(optarg, &o->health_on_failure) < 0)
				return usage_error("invalid --health-on-failure \"%s\" (none, kill, restart, stop)",
						   optarg);
			break;
		case OPT_FOREGROUND:
			a->foreground = true;
			break;
		case OPT_SPAWN:
			a->spawn = true;
			break;
		case OPT_CLIENT:
			*ret_exit = client_main(optarg, argc - optind, argv + optind);
			return 1;
		case OPT_PARSE_LOG:
			*ret_exit = parse_log_main(optarg);
			return 1;
		case OPT_HELP:
			usage(stdout);
			*ret_exit = 0;
			return 1;
		case OPT_VERSION:
			printf("skiff-monitor version %s\n", SKIFF_VERSION);
			*ret_exit = 0;
			return 1;
		default:
			return 1; /* getopt printed it */
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument \"%s\"", argv[optind]);
	if (!o->id || !*o->id)
		return usage_error("%s is required", "--id");
	if (!a->bundle || !a->dir || !a->runtime)
		return usage_error("%s are required", "--bundle, --dir and --runtime");
	if (a->exit_args.len && !a->exit_command)
		return usage_error("%s needs --exit-command", "--exit-command-arg");
	o->bundle = a->bundle;
	o->dir = a->dir;
	o->runtime = a->runtime;
	o->log_path = a->log_path;
	o->oom_file = a->oom_file;
	o->exit_command = a->exit_command;
	o->exec_process = a->exec_process;
	o->restore = a->restore;
	o->health_process = a->health_process;
	o->runtime_args = (const char *const *)a->runtime_args.v;
	o->exit_command_args = (const char *const *)a->exit_args.v;
	if (a->log_driver)
		o->log_driver = !strcmp(a->log_driver, "none")	     ? MON_LOG_NONE
				: !strcmp(a->log_driver, "journald") ? MON_LOG_JOURNALD
								     : MON_LOG_K8S_FILE;
	else
		o->log_driver = a->log_path ? MON_LOG_K8S_FILE : MON_LOG_NONE;
	if (o->log_driver == MON_LOG_K8S_FILE && !a->log_path)
		return usage_error("%s needs --log-path", "--log-driver k8s-file");
	return 0;
}

/* skiff-monitor --spawn ...: the engine's way in, for tests. */
static int spawn_main(struct args *a)
{
	struct mon_spawn_opts so = MON_SPAWN_OPTS_INIT;
	struct skiff_err *err = NULL;
	char self[PATH_MAX];
	ssize_t n;
	pid_t ctr, mon;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		perror("skiff-monitor: readlink /proc/self/exe");
		return 1;
	}
	self[n] = '\0';
	so.monitor_path = self;
	so.id = a->o.id;
	so.bundle = a->o.bundle;
	so.dir = a->o.dir;
	so.runtime = a->o.runtime;
	so.runtime_args = a->o.runtime_args;
	so.terminal = a->o.terminal;
	so.stdin_open = a->o.stdin_open;
	so.start = a->o.start;
	so.log_path = a->o.log_path;
	so.log_driver = a->log_driver;
	so.name = a->o.ctr_name;
	so.log_tag = a->o.log_tag;
	so.log_size_max = a->o.log_size_max;
	so.log_max_file = a->o.log_max_file;
	so.oom_file = a->o.oom_file;
	so.restart = a->restart;
	so.exit_command = a->o.exit_command;
	so.exit_command_args = a->o.exit_command_args;
	so.exec_process = a->o.exec_process;
	so.restore = a->o.restore;
	so.stop_signal = a->o.stop_signal;
	so.stop_timeout = a->stop_timeout_set ? (int)a->o.stop_timeout : -1;
	if (mon_spawn(&so, &ctr, &mon, &err) < 0)
		return fail(err);
	printf("ok %d %d\n", (int)ctr, (int)mon);
	return 0;
}

/* Close every fd but 0-2 and the sync fd, which becomes 3. */
static int close_fds(struct monitor_opts *o)
{
	if (o->sync_fd >= 0 && o->sync_fd != 3) {
		if (dup3(o->sync_fd, 3, O_CLOEXEC) < 0)
			return -1;
		o->sync_fd = 3;
	}
	return close_range(o->sync_fd >= 0 ? 4 : 3, ~0U, 0);
}

static void sync_error(int fd, const char *what)
{
	if (fd >= 0) {
		dprintf(fd, "error %s: %s\n", what, strerror(errno));
		close(fd);
	}
}

/*
 * Double fork. The first process exits 0 once the middle one is reaped (the engine waits for
 * it, so no zombie stays); the middle one setsid()s, forks and exits; the grandchild returns 0
 * and becomes the monitor, on /dev/null and "/".
 */
static int detach(struct monitor_opts *o)
{
	pid_t pid = fork();
	int st, fd;

	if (pid < 0) {
		sync_error(o->sync_fd, "fork");
		return -1;
	}
	if (pid > 0) {
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				_exit(1);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
	}
	if (setsid() < 0) {
		sync_error(o->sync_fd, "setsid");
		_exit(1);
	}
	pid = fork();
	if (pid < 0) {
		sync_error(o->sync_fd, "fork");
		_exit(1);
	}
	if (pid > 0)
		_exit(0);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) {
		sync_error(o->sync_fd, "open /dev/null");
		_exit(1);
	}
	if (fd > 2)
		close(fd);
	if (chdir("/") < 0) {
		sync_error(o->sync_fd, "chdir /");
		_exit(1);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = {.runtime_args = STRV_INIT, .exit_args = STRV_INIT};
	struct skiff_err *err = NULL;
	int status = 1, r;

	monitor_opts_init(&a.o);
	r = parse_args(argc, argv, &a, &status);
	if (r == 0) {
		if (a.spawn) {
			status = spawn_main(&a);
		} else if (close_fds(&a.o) < 0) {
			perror("skiff-monitor: close fds");
			status = 1;
		} else if (!a.foreground && detach(&a.o) < 0) {
			perror("skiff-monitor: fork");
			status = 1;
		} else {
			status = monitor_run(&a.o, &err) < 0 ? fail(err) : 0;
		}
	}
	strv_release(&a.runtime_args);
	strv_release(&a.exit_args);
	free(a.dir);
	free(a.bundle);
	free(a.runtime);
	free(a.log_path);
	free(a.oom_file);
	free(a.exit_command);
	free(a.exec_process);
	free(a.health_process);
	free(a.restore);
	return status;
}

/* ---- --client ---- */

static int attach_loop(int fd, bool with_stdin)
{
	struct mon_packet *p = xmalloc(sizeof(*p));
	struct skiff_err *err = NULL;
	bool in_open = with_stdin;
	char buf[8192];
	int status = 1;

	for (;;) {
		struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN}, {.fd = in_open ? 0 : -1, .events = POLLIN}};
		int r = poll(pfd, 2, -1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			perror("skiff-monitor: poll");
			break;
		}
		if (pfd[1].revents) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			int k = 0;
			if (n > 0)
				k = mon_send_stdin(fd, buf, (size_t)n, &err);
			else
				k = mon_close_stdin(fd, &err);
			if (n <= 0)
				in_open = false;
			if (k < 0) {
				/* the monitor hung up after the container exited: read what it
				 * sent before (the exit packet) instead of failing */
				if (err->status != EPIPE && err->status != ECONNRESET) {
					status = fail(err);
					break;
				}
				err_clear(&err);
				in_open = false;
			}
		}
		if (pfd[0].revents) {
			r = mon_recv(fd, p, &err);
			if (r < 0) {
				status = fail(err);
				break;
			}
			if (r == 0) {
				fputs("skiff-monitor: the monitor closed the connection\n", stderr);
				break;
			}
			if (p->msg.type == MON_PKT_STDOUT || p->msg.type == MON_PKT_STDERR) {
				if (write_all(p->msg.type == MON_PKT_STDOUT ? 1 : 2, p->msg.data, p->msg.len) < 0)
					break;
			} else if (p->msg.type == MON_PKT_EXIT) {
				status = p->msg.code;
				break;
			}
		}
	}
	free(p);
	return status;
}

static int print_exit(const char *dir)
{
	struct skiff_err *err = NULL;
	struct mon_exit e;

	if (mon_read_exit(dir, &e, &err) < 0)
		return fail(err);
	printf("pid=%d exitCode=%d signal=%d oomKilled=%s restartCount=%d stoppedByUser=%s startedAt=%" PRId64
	       " finishedAt=%" PRId64 "\n",
	       e.pid, e.exit_code, e.signal, e.oom_killed ? "true" : "false", e.restart_count,
	       e.stopped_by_user ? "true" : "false", e.started_at, e.finished_at);
	return 0;
}

static int client_main(const char *dir, int argc, char **argv)
{
	struct skiff_err *err = NULL;
	cleanup_free char *text = NULL;
	cleanup_close int fd = -1;
	const char *cmd = argc > 0 ? argv[0] : NULL;
	unsigned long long a1 = 0, a2 = 0;
	int r;

	if (!cmd) {
		fputs("skiff-monitor: --client DIR needs a command\n", stderr);
		return 1;
	}
	if (!strcmp(cmd, "exit"))
		return print_exit(dir);
	if (!strcmp(cmd, "alive")) {
		bool alive;
		if (mon_alive(dir, &alive, &err) < 0)
			return fail(err);
		puts(alive ? "true" : "false");
		return alive ? 0 : 1;
	}
	if (mon_connect(dir, &fd, NULL, &err) < 0)
		return fail(err);
	if (!strcmp(cmd, "status") && argc == 1) {
		r = mon_status(fd, &text, &err);
		if (r == 0)
			fputs(text, stdout);
	} else if (!strcmp(cmd, "start") && argc == 1) {
		r = mon_start(fd, &err);
	} else if (!strcmp(cmd, "log-reopen") && argc == 1) {
		r = mon_reopen_log(fd, &err);
	} else if (!strcmp(cmd, "stop") && argc <= 3) {
		int sig = argc == 3 ? parse_signal(argv[2]) : 0;
		if ((argc >= 2 && parse_uint(argv[1], UINT32_MAX - 1, &a1) < 0) || sig < 0)
			return usage_error("usage: --client DIR stop [TIMEOUT [SIGNAL]]%s", "");
		r = mon_stop(fd, argc >= 2 ? (uint32_t)a1 : MON_STOP_DEFAULT_TIMEOUT, sig, &err);
	} else if (!strcmp(cmd, "kill") && argc == 2) {
		int sig = parse_signal(argv[1]);
		if (sig < 1)
			return usage_error("invalid signal \"%s\"", argv[1]);
		r = mon_kill(fd, sig, &err);
	} else if (!strcmp(cmd, "resize") && argc == 3) {
		if (parse_uint(argv[1], UINT16_MAX, &a1) < 0 || parse_uint(argv[2], UINT16_MAX, &a2) < 0)
			return usage_error("usage: --client DIR resize ROWS COLS%s", "");
		r = mon_resize(fd, (unsigned)a1, (unsigned)a2, &err);
	} else if (!strcmp(cmd, "attach") && (argc == 1 || (argc == 2 && !strcmp(argv[1], "--no-stdin")))) {
		bool with_stdin = argc == 1;
		if (mon_attach(fd, with_stdin, true, true, &err) < 0)
			return fail(err);
		return attach_loop(fd, with_stdin);
	} else {
		return usage_error("unknown client command \"%s\"", cmd);
	}
	return r < 0 ? fail(err) : 0;
}

/* ---- --parse-log ---- */

static int parse_log_main(const char *path)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	cleanup_free char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;

	if (!f) {
		fprintf(stderr, "skiff-monitor: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		struct skiff_err *err = NULL;
		struct mon_log_line l;
		FILE *out;

		lineno++;
		if (mon_log_parse_line(line, (size_t)n, &l, &err) < 0) {
			fflush(stdout);
			fprintf(stderr, "skiff-monitor: %s line %zu: %s\n", path, lineno, err->msg);
			err_free(err);
			return 1;
		}
		out = l.stream == MON_STREAM_STDERR ? stderr : stdout;
		fwrite(l.content, 1, l.content_len, out);
		if (!l.partial)
			fputc('\n', out);
	}
	return 0;
}
