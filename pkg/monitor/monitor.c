/*
 * The monitor: setup, the event loop (epoll over a signalfd, the container's pidfd, a timerfd,
 * the control socket and the container's output), the exit record, restarts and the exit
 * command. One struct monitor; no globals. docs/design/monitor.md.
 */
#include "pkg/monitor/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pkg/monitor/internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/xalloc.h"

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424 /* the same number on every architecture */
#endif

/* The exit command gets this long before it is killed. */
#define EXIT_COMMAND_TIMEOUT_MS 60000
/* A run this long resets the restart back-off (as docker). */
#define BACKOFF_RESET_NS (10 * (int64_t)1000000000)

void monitor_opts_init(struct monitor_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->log_driver = MON_LOG_NONE;
	o->sync_fd = -1;
	o->restart.kind = MON_RESTART_NO;
	o->stop_signal = SIGTERM;
	o->stop_timeout = 10;
}

int64_t mon_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int mon_watch(struct monitor *m, int fd, uint32_t events, struct mon_src *src, struct skiff_err **err)
{
	struct epoll_event ev = {.events = events, .data.ptr = src};

	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return err_make(err, errno, "epoll_ctl add fd %d", fd);
	return 0;
}

void mon_unwatch(struct monitor *m, int fd)
{
	if (fd >= 0)
		(void)epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void mon_rewatch(struct monitor *m, int fd, uint32_t events, struct mon_src *src)
{
	struct epoll_event ev = {.events = events, .data.ptr = src};

	(void)epoll_ctl(m->epfd, EPOLL_CTL_MOD, fd, &ev);
}

const char *mon_state_name(enum mon_state s)
{
	switch (s) {
	case ST_CREATED:
		return "created";
	case ST_RUNNING:
		return "running";
	case ST_STOPPING:
		return "stopping";
	case ST_RESTARTING:
		return "restarting";
	default:
		return "exited";
	}
}

void mon_status_text(struct monitor *m, struct strbuf *out)
{
	strbuf_addf(out, "state=%s pid=%d restarts=%u\n", mon_state_name(m->state), (int)m->ctr_pid, m->restarts);
}

void mon_runtime_argv(struct monitor *m, struct strv *argv, const char *subcommand)
{
	strv_push(argv, m->o->runtime);
	for (const char *const *a = m->o->runtime_args; a && *a; a++)
		strv_push(argv, *a);
	strv_push(argv, subcommand);
}

char *mon_last_line(const char *s)
{
	const char *end = s + strlen(s), *start;

	while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	start = end;
	while (start > s && start[-1] != '\n')
		start--;
	if (end - start > 500)
		start = end - 500;
	return xstrndup(start, (size_t)(end - start));
}

/* RUNTIME [args] SUBCOMMAND [--force] ID, to completion. */
int mon_runtime_simple(struct monitor *m, const char *sub, bool force, struct skiff_err **err)
{
	cleanup_strv struct strv argv = STRV_INIT;
	cleanup_strbuf struct strbuf out = STRBUF_INIT, errout = STRBUF_INIT;
	int status = 0;

	mon_runtime_argv(m, &argv, sub);
	if (force)
		strv_push(&argv, "--force");
	strv_push(&argv, m->o->id);
	if (run_capture((const char *const *)argv.v, NULL, &out, &errout, &status, err) < 0)
		return err_wrap(err, "runtime %s", sub);
	if (status != 0) {
		cleanup_free char *line = mon_last_line(errout.buf);
		if (*line)
			return err_makex(err, EIO, "runtime %s: %s", sub, line);
		return err_makex(err, EIO, "runtime %s exited with status %d", sub, status);
	}
	return 0;
}

int mon_send_signal(struct monitor *m, int sig)
{
	if (m->pidfd >= 0)
		return (int)syscall(SYS_pidfd_send_signal, m->pidfd, sig, NULL, 0);
	return kill(m->ctr_pid, sig);
}

static void timer_set(struct monitor *m, enum timer_use use, uint64_t ms)
{
	struct itimerspec its = {0};

	its.it_value.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	if (use == TIMER_NONE)
		memset(&its, 0, sizeof(its));
	(void)timerfd_settime(m->timerfd, 0, &its, NULL);
	m->timer = use;
}

static bool ctr_alive_state(const struct monitor *m)
{
	/* an exec session before its START has no process yet */
	if (m->ctr_pid <= 0)
		return false;
	return m->state == ST_CREATED || m->state == ST_RUNNING || m->state == ST_STOPPING;
}

/* An exec session that never ran its process: quit without an exit record. */
static void end_unstarted_exec(struct monitor *m)
{
	timer_set(m, TIMER_NONE, 0);
	m->state = ST_EXITED;
	m->quit = true;
}

int mon_do_start(struct monitor *m, struct skiff_err **err)
{
	switch (m->state) {
	case ST_CREATED:
		break;
	case ST_RUNNING:
	case ST_STOPPING:
		return err_makex(err, EALREADY, "the container is already running");
	case ST_RESTARTING:
		return err_makex(err, EBUSY, "the container is restarting");
	default:
		return err_makex(err, ESRCH, "the container has exited");
	}
	if (m->o->exec_process) {
		/* an exec session waiting for its START: run the process now */
		timer_set(m, TIMER_NONE, 0);
		if (ctr_create(m, err) < 0) {
			end_unstarted_exec(m);
			return -1;
		}
	} else if (mon_runtime_simple(m, "start", false, err) < 0) {
		return -1;
	}
	m->state = ST_RUNNING;
	m->started_at = mon_now_ns();
	m->started_mono = mono_ns();
	mon_health_on_start(m);
	return 0;
}

/* No restart after this; the exit record (already written) says so. */
static void cancel_restart(struct monitor *m, bool by_user)
{
	struct skiff_err *err = NULL;

	timer_set(m, TIMER_NONE, 0);
	if (m->have_last && (by_user || m->last.restarting)) {
		m->last.stopped_by_user |= by_user;
		m->last.restarting = false;
		if (mon_exit_write(m->dirfd, &m->last, &err) < 0)
			err_clear(&err);
	}
	m->state = ST_EXITED;
	m->quit = true;
}

int mon_do_stop(struct monitor *m, uint32_t timeout, int sig, struct skiff_err **err)
{
	if (m->o->exec_process && m->state == ST_CREATED && m->ctr_pid <= 0) {
		end_unstarted_exec(m);
		return 0;
	}
	if (m->state == ST_RESTARTING) {
		m->stopped_by_user = true;
		cancel_restart(m, true);
		return 0;
	}
	if (!ctr_alive_state(m))
		return err_makex(err, ESRCH, "the container is not running");
	if (sig == 0)
		sig = m->o->stop_signal;
	if (timeout == MON_STOP_DEFAULT_TIMEOUT)
		timeout = m->o->stop_timeout;
	if (sig < 1 || sig >= SIGRTMAX + 1)
		return err_makex(err, EINVAL, "invalid stop signal %d", sig);
	m->stopped_by_user = true;
	m->state = ST_STOPPING;
	if (timeout == 0)
		sig = SIGKILL;
	if (mon_send_signal(m, sig) < 0 && errno != ESRCH)
		return err_make(err, errno, "send signal %d to the container", sig);
	if (sig != SIGKILL)
		timer_set(m, TIMER_STOP, (uint64_t)timeout * 1000);
	return 0;
}

/* docker: kill with a fatal signal disables the restart policy until the next start; a
 * signal a program uses for something else (HUP to reload, USR1 ...) does not. */
static bool manual_stop_signal(struct monitor *m, int sig)
{
	return sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGQUIT || sig == m->o->stop_signal;
}

int mon_do_kill(struct monitor *m, int sig, struct skiff_err **err)
{
	if (sig < 1 || sig >= SIGRTMAX + 1)
		return err_makex(err, EINVAL, "invalid signal %d", sig);
	if (m->o->exec_process && m->state == ST_CREATED && m->ctr_pid <= 0) {
		end_unstarted_exec(m);
		return 0;
	}
	if (!ctr_alive_state(m))
		return err_makex(err, ESRCH, "the container is not running");
	if (mon_send_signal(m, sig) < 0) {
		if (errno != ESRCH)
			return err_make(err, errno, "send signal %d to the container", sig);
		return err_makex(err, ESRCH, "the container is not running");
	}
	if (manual_stop_signal(m, sig))
		m->stopped_by_user = true;
	return 0;
}

/* ---- exit, restart ---- */

static void on_ctr_exit(struct monitor *m, int st, bool known)
{
	struct skiff_err *err = NULL;
	struct mon_exit e = {0};

	e.pid = (int)m->ctr_pid;
	if (!known) {
		e.exit_code = 255; /* not our child: the status is lost */
	} else if (WIFSIGNALED(st)) {
		e.signal = WTERMSIG(st);
		e.exit_code = 128 + e.signal;
	} else {
		e.exit_code = WEXITSTATUS(st);
	}
	e.started_at = m->started_at;
	e.finished_at = mon_now_ns();
	e.restart_count = (int)m->restarts;
	e.stopped_by_user = m->stopped_by_user;
	if (m->timer == TIMER_STOP)
		timer_set(m, TIMER_NONE, 0);
	mon_health_on_ctr_exit(m);
	mon_unwatch(m, m->pidfd);
	if (m->pidfd >= 0)
		close(m->pidfd);
	m->pidfd = -1;

	ctr_drain(m);
	ctr_close_stdio(m);
	e.oom_killed = ctr_oom_killed(m);
	bool forced = m->force_restart; /* --health-on-failure restart */
	m->force_restart = false;
	/* the record says whether a restart follows, so that the engine leaves the rootfs
	 * mounted during the back-off */
	e.restarting = !m->shutdown && !m->o->exec_process &&
		       (forced || mon_restart_wanted(&m->o->restart, e.exit_code, m->stopped_by_user, m->restarts));
	if (mon_exit_write(m->dirfd, &e, &err) < 0)
		err_clear(&err);
	m->last = e;
	m->have_last = true;
	ctl_send_exit(m, e.exit_code, e.signal);
	if (!m->o->exec_process && mon_runtime_simple(m, "delete", true, &err) < 0)
		err_clear(&err);
	m->ctr_pid = 0;

	if (e.restarting) {
		if (m->started_mono && mono_ns() - m->started_mono >= BACKOFF_RESET_NS)
			m->backoff_n = 0;
		timer_set(m, TIMER_RESTART, mon_restart_delay_ms(m->backoff_n));
		m->backoff_n++;
		m->state = ST_RESTARTING;
		m->cleanup_claimed = false; /* not the end: whoever claimed it cleaned up this run only */
		return;
	}
	m->state = ST_EXITED;
	m->quit = true;
}

static void restart(struct monitor *m)
{
	struct skiff_err *err = NULL;

	if (unlinkat(m->dirfd, "exit", 0) < 0 && errno != ENOENT) {
		cancel_restart(m, false);
		return;
	}
	m->restarts++;
	m->stopped_by_user = false;
	/* for the engine's RestartCount while this run goes on (the exit record goes now) */
	char n[16];
	snprintf(n, sizeof(n), "%u\n", m->restarts);
	if (write_file_atomic(m->dirfd, "restarts", n, strlen(n), 0644, &err) < 0)
		err_clear(&err);
	if (ctr_create(m, &err) < 0) {
		/* Give up, and say how the last run ended. */
		err_clear(&err);
		m->restarts--;
		m->last.restarting = false;
		if (mon_exit_write(m->dirfd, &m->last, &err) < 0)
			err_clear(&err);
		cancel_restart(m, false);
		return;
	}
	if (mon_do_start(m, &err) < 0) {
		/* The container is created but will not start: kill it, and let the exit path
		 * (record, delete, restart policy with back-off) take it from there. */
		err_clear(&err);
		(void)mon_send_signal(m, SIGKILL);
		m->state = ST_RUNNING;
	}
}

/* Reap every child that has exited; the container's init goes through on_ctr_exit(). */
static void reap(struct monitor *m)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);

		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0)
			break;
		if (m->ctr_pid > 0 && p == m->ctr_pid)
			on_ctr_exit(m, st, true);
		else
			(void)mon_health_reap(m, p, st);
	}
	if (m->pidfd >= 0 && m->ctr_pid > 0) {
		/* The pidfd says the container exited, but it is not our child (a runtime that
		 * did not leave it to us): the exit status is unknown. */
		struct pollfd p = {.fd = m->pidfd, .events = POLLIN};
		if (poll(&p, 1, 0) == 1) {
			/* it may also have exited since the loop above: then it is ours to reap
			 * here, with its status */
			int st;
			pid_t w = waitpid(m->ctr_pid, &st, WNOHANG);
			if (w == m->ctr_pid)
				on_ctr_exit(m, st, true);
			else if (w < 0 && errno == ECHILD)
				on_ctr_exit(m, 0, false);
		}
	}
}

static void on_signal(struct monitor *m)
{
	struct signalfd_siginfo si;

	for (;;) {
		ssize_t n = read(m->sigfd, &si, sizeof(si));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(si))
			return;
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(m);
			break;
		case SIGTERM:
		case SIGINT:
			m->shutdown = true; /* no restart after this */
			if (m->state == ST_RESTARTING)
				cancel_restart(m, false);
			/* fall through */
		case SIGHUP:
			if (ctr_alive_state(m))
				(void)mon_send_signal(m, (int)si.ssi_signo);
			break;
		default:
			break;
		}
	}
}

static void on_timer(struct monitor *m)
{
	uint64_t n;

	if (read(m->timerfd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	switch (m->timer) {
	case TIMER_STOP:
		m->timer = TIMER_NONE;
		if (ctr_alive_state(m))
			(void)mon_send_signal(m, SIGKILL);
		break;
	case TIMER_RESTART:
		m->timer = TIMER_NONE;
		if (m->state == ST_RESTARTING)
			restart(m);
		break;
	case TIMER_EXEC_START:
		/* nobody came to START this exec session (the CLI died): end it */
		m->timer = TIMER_NONE;
		if (m->state == ST_CREATED && m->ctr_pid <= 0)
			end_unstarted_exec(m);
		break;
	default:
		break;
	}
}

static int event_loop(struct monitor *m, struct skiff_err **err)
{
	struct epoll_event ev[16];

	/* after the container is gone, on until the clients have had all its output */
	while (!m->quit || ctl_pending(m)) {
		/* clients behind: check for stuck ones twice a second */
		bool watch_stalls = m->clients_behind > 0 || m->quit;
		int n = epoll_wait(m->epfd, ev, (int)ARRAY_SIZE(ev), watch_stalls ? 500 : -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_make(err, errno, "epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			struct mon_src *src = ev[i].data.ptr;

			switch (src->kind) {
			case SRC_SIGNAL:
				on_signal(m);
				break;
			case SRC_PIDFD:
				reap(m);
				break;
			case SRC_TIMER:
				on_timer(m);
				break;
			case SRC_LISTEN:
				ctl_accept(m);
				break;
			case SRC_STDOUT:
			case SRC_STDERR:
				ctr_output(m, src->kind);
				break;
			case SRC_STDIN:
				ctr_stdin_flush(m);
				break;
			case SRC_CLIENT:
				ctl_client_event(m, (struct mon_client *)src, ev[i].events);
				break;
			case SRC_HEALTH_TIMER:
				mon_health_on_timer(m);
				break;
			case SRC_HEALTH_PIDFD:
				mon_health_on_exit(m);
				break;
			case SRC_HEALTH_OUT:
				mon_health_on_output(m);
				break;
			}
		}
		if (watch_stalls)
			(void)ctl_check_stalled(m);
		ctl_free_dead(m);
	}
	return 0;
}

/* ---- setup and teardown ---- */

static void sync_send(struct monitor *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sync_send(struct monitor *m, const char *fmt, ...)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	int fd = m->sync_fd;
	va_list ap;

	if (fd < 0)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < sb.len; i++)
		if (sb.buf[i] == '\n' || sb.buf[i] == '\0')
			sb.buf[i] = ' '; /* one line */
	strbuf_addch(&sb, '\n');
	(void)write_all(fd, sb.buf, sb.len); /* EPIPE: the engine is gone; carry on */
	close(fd);
	m->sync_fd = -1;
}

static int write_monitor_pid(struct monitor *m, struct skiff_err **err)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	uint64_t st;

	if (proc_starttime(0, &st) < 0)
		return err_make(err, errno, "read the monitor's start time");
	strbuf_addf(&sb, "%d %" PRIu64 "\n", (int)getpid(), st);
	if (write_file_replace(m->dirfd, "monitor.pid", sb.buf, sb.len, 0644, err) < 0)
		return err_wrap(err, "write monitor.pid");
	return 0;
}

static void run_exit_command(struct monitor *m)
{
	const struct monitor_opts *o = m->o;
	cleanup_strv struct strv argv = STRV_INIT;
	struct skiff_err *err = NULL;
	struct spawn_opts so = SPAWN_OPTS_INIT;
	pid_t pid;
	int pidfd = -1;

	if (!o->exit_command || m->cleanup_claimed)
		return;
	strv_push(&argv, o->exit_command);
	for (const char *const *a = o->exit_command_args; a && *a; a++)
		strv_push(&argv, *a);
	so.stdin_fd = SPAWN_DEVNULL;
	if (spawn((const char *const *)argv.v, &so, &pid, &pidfd, &err) < 0) {
		err_clear(&err);
		return;
	}
	if (pidfd >= 0) {
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		int r;
		do
			r = poll(&p, 1, EXIT_COMMAND_TIMEOUT_MS);
		while (r < 0 && errno == EINTR);
		if (r == 0)
			kill(pid, SIGKILL);
		close(pidfd);
	}
	(void)spawn_wait(pid, NULL);
}

/* Setup failed after the container was created: it must not stay behind. */
static void abandon_container(struct monitor *m)
{
	struct skiff_err *err = NULL;

	if (m->ctr_pid > 0) {
		(void)mon_send_signal(m, SIGKILL);
		(void)waitpid(m->ctr_pid, NULL, 0);
		if (!m->o->exec_process && mon_runtime_simple(m, "delete", true, &err) < 0)
			err_clear(&err);
		m->ctr_pid = 0;
	}
}

static void monitor_free(struct monitor *m)
{
	mon_health_free(m);
	ctl_close_all(m);
	ctr_close_stdio(m);
	if (m->pidfd >= 0)
		close(m->pidfd);
	if (m->timerfd >= 0)
		close(m->timerfd);
	if (m->sigfd >= 0)
		close(m->sigfd);
	if (m->epfd >= 0)
		close(m->epfd);
	if (m->dirfd >= 0)
		close(m->dirfd);
	mon_log_close(&m->log);
	strbuf_release(&m->stdin_buf);
	free(m->iobuf);
	free(m->pkt);
}

static int setup(struct monitor *m, struct skiff_err **err)
{
	const struct monitor_opts *o = m->o;
	sigset_t set;

	if (!o->id || !*o->id || !o->bundle || !o->dir || !o->runtime)
		return err_makex(err, EINVAL, "the id, bundle, dir and runtime are required");
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return err_make(err, errno, "block signals");
	signal(SIGPIPE, SIG_IGN);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return err_make(err, errno, "become a child subreaper");
	m->dirfd = open(o->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (m->dirfd < 0)
		return err_make(err, errno, "open %s", o->dir);
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m->epfd < 0)
		return err_make(err, errno, "epoll_create");
	m->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (m->sigfd < 0)
		return err_make(err, errno, "signalfd");
	m->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (m->timerfd < 0)
		return err_make(err, errno, "timerfd");
	if (mon_watch(m, m->sigfd, EPOLLIN, &m->src_sig, err) < 0 ||
	    mon_watch(m, m->timerfd, EPOLLIN, &m->src_timer, err) < 0)
		return -1;
	if (unlinkat(m->dirfd, "exit", 0) < 0 && errno != ENOENT)
		return err_make(err, errno, "remove the old exit record %s/exit", o->dir);
	if (o->log_driver == MON_LOG_JOURNALD) {
		struct mon_journal_ids ids = {.id = o->id, .name = o->ctr_name, .tag = o->log_tag};
		if (mon_log_open_journald(&m->log, NULL, &ids, err) < 0)
			return -1;
	} else if (mon_log_open(&m->log, o->log_driver, o->log_path, o->log_size_max, err) < 0) {
		return -1;
	}
	mon_log_set_max_file(&m->log, o->log_max_file);
	if (mon_health_setup(m, err) < 0)
		return -1;
	if (o->exec_process && !o->start) {
		m->state = ST_CREATED; /* the process runs on START */
		timer_set(m, TIMER_EXEC_START, 60 * 1000);
	} else if (ctr_create(m, err) < 0) {
		return -1;
	}
	if (ctl_listen(m, err) < 0 || write_monitor_pid(m, err) < 0)
		return -1;
	if (o->restore && m->state == ST_RUNNING) {
		m->started_mono = mono_ns();
		mon_health_on_start(m);
	} else if (o->start && !o->exec_process && mon_do_start(m, err) < 0) {
		return -1;
	}
	return 0;
}

int monitor_run(const struct monitor_opts *o, struct skiff_err **err)
{
	struct monitor m = {
		.o = o,
		.dirfd = -1,
		.epfd = -1,
		.sigfd = -1,
		.timerfd = -1,
		.listen_fd = -1,
		.sync_fd = o->sync_fd,
		.pidfd = -1,
		.out_fd = -1,
		.err_fd = -1,
		.in_fd = -1,
		.stdin_buf = STRBUF_INIT,
		.log = {.fd = -1, .buf = STRBUF_INIT},
		.health_timerfd = -1,
		.health_pidfd = -1,
		.health_out = -1,
		.health_out_buf = STRBUF_INIT,
		.health_log = STRV_INIT,
	};
	int r;

	m.src_sig.kind = SRC_SIGNAL;
	m.src_pidfd.kind = SRC_PIDFD;
	m.src_timer.kind = SRC_TIMER;
	m.src_listen.kind = SRC_LISTEN;
	m.src_out.kind = SRC_STDOUT;
	m.src_err.kind = SRC_STDERR;
	m.src_in.kind = SRC_STDIN;
	m.iobuf = xmalloc(MON_PKT_MAX);
	m.pkt = xmalloc(sizeof(*m.pkt));

	if (setup(&m, err) < 0) {
		abandon_container(&m);
		sync_send(&m, "error %s", *err ? (*err)->msg : "setup failed");
		monitor_free(&m);
		return -1;
	}
	sync_send(&m, "ok %d %d", (int)m.ctr_pid, (int)getpid());

	r = event_loop(&m, err);
	if (r < 0)
		abandon_container(&m);
	ctl_close_all(&m);
	run_exit_command(&m);
	monitor_free(&m);
	return r;
}
