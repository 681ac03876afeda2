/*
 * Healthchecks, run by the container's monitor on a timer of its own (no systemd timers, as
 * podman needs): `RUNTIME exec --process HEALTH_PROCESS ID` every interval while the
 * container runs, its output (first 4 KiB, as docker) and exit status kept; the state goes to
 * DIR/health as podman's inspect shape. docker's rules: starting until the first success;
 * a failure in the start period does not count; `retries` failures in a row make it
 * unhealthy; a check running longer than the timeout is killed and fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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

#define HEALTH_OUTPUT_MAX 4096
#define HEALTH_LOG_KEEP 5

const char *mon_health_status_name(enum mon_health_status s)
{
	switch (s) {
	case HEALTH_STARTING:
		return "starting";
	case HEALTH_HEALTHY:
		return "healthy";
	case HEALTH_UNHEALTHY:
		return "unhealthy";
	default:
		return "";
	}
}

int mon_health_action_parse(const char *s, enum mon_health_action *ret)
{
	static const char *const names[] = {"none", "kill", "restart", "stop"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*ret = (enum mon_health_action)i;
			return 0;
		}
	return -1;
}

bool mon_health_enabled(const struct monitor *m)
{
	return m->o->health_process != NULL;
}

static int64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void arm(struct monitor *m, uint64_t ms)
{
	struct itimerspec its = {0};
	its.it_value.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	if (ms == 0)
		its.it_value.tv_nsec = 1; /* at once (0 would disarm) */
	(void)timerfd_settime(m->health_timerfd, 0, &its, NULL);
}

static void disarm(struct monitor *m)
{
	struct itimerspec its = {0};
	(void)timerfd_settime(m->health_timerfd, 0, &its, NULL);
}

int mon_health_setup(struct monitor *m, struct skiff_err **err)
{
	if (!mon_health_enabled(m))
		return 0;
	m->health_timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (m->health_timerfd < 0)
		return err_make(err, errno, "healthcheck: timerfd");
	m->src_health_timer.kind = SRC_HEALTH_TIMER;
	m->src_health_pidfd.kind = SRC_HEALTH_PIDFD;
	m->src_health_out.kind = SRC_HEALTH_OUT;
	return mon_watch(m, m->health_timerfd, EPOLLIN, &m->src_health_timer, err);
}

/* JSON string (for the health file; the monitor has no JSON library). */
static void json_str(struct strbuf *out, const char *s, size_t n)
{
	strbuf_addch(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			strbuf_addf(out, "\\%c", c);
		else if (c == '\n')
			strbuf_addstr(out, "\\n");
		else if (c == '\t')
			strbuf_addstr(out, "\\t");
		else if (c < 0x20 || c == 0x7f)
			strbuf_addf(out, "\\u%04x", c);
		else
			strbuf_addch(out, (char)c);
	}
	strbuf_addch(out, '"');
}

static void write_state(struct monitor *m)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	struct skiff_err *err = NULL;

	strbuf_addf(&sb, "{\"Status\":\"%s\",\"FailingStreak\":%d,\"Log\":[", mon_health_status_name(m->health_status),
		    m->health_streak);
	for (size_t i = 0; i < m->health_log.len; i++)
		strbuf_addf(&sb, "%s%s", i ? "," : "", m->health_log.v[i]);
	strbuf_addstr(&sb, "]}\n");
	if (write_file_atomic(m->dirfd, "health", sb.buf, sb.len, 0644, &err) < 0)
		err_clear(&err);
}

void mon_health_on_start(struct monitor *m)
{
	if (!mon_health_enabled(m))
		return;
	m->health_status = HEALTH_STARTING;
	m->health_streak = 0;
	strv_release(&m->health_log);
	write_state(m);
	if (m->o->health_interval_ms)
		arm(m, m->o->health_interval_ms);
}

static void reply_waiting(struct monitor *m)
{
	for (struct mon_client *c = m->clients; c; c = c->next)
		if (c->health_waiting) {
			c->health_waiting = false;
			ctl_reply_text(m, c, 0, mon_health_status_name(m->health_status));
		}
}

static void act_on_failure(struct monitor *m)
{
	struct skiff_err *err = NULL;

	switch (m->o->health_on_failure) {
	case HEALTH_ACTION_KILL:
		(void)mon_send_signal(m, SIGKILL);
		break;
	case HEALTH_ACTION_STOP:
		if (mon_do_stop(m, MON_STOP_DEFAULT_TIMEOUT, 0, &err) < 0)
			err_clear(&err);
		break;
	case HEALTH_ACTION_RESTART:
		m->force_restart = true;
		if (mon_do_stop(m, MON_STOP_DEFAULT_TIMEOUT, 0, &err) < 0)
			err_clear(&err);
		break;
	default:
		break;
	}
}

/* The check ended with status (a shell's: 128+N for signal N), or timed out. */
static void check_done(struct monitor *m, int status, bool timed_out)
{
	int64_t end = mon_now_ns();
	cleanup_strbuf struct strbuf entry = STRBUF_INIT;
	long gmtoff = 0;
	time_t now = time(NULL);
	struct tm tm;

	if (localtime_r(&now, &tm))
		gmtoff = tm.tm_gmtoff;
	if (timed_out) {
		strbuf_reset(&m->health_out_buf);
		strbuf_addstr(&m->health_out_buf, "command timed out");
		status = -1;
	}
	strbuf_addstr(&entry, "{\"Start\":\"");
	mon_log_format_time(&entry, m->health_started, gmtoff);
	strbuf_addstr(&entry, "\",\"End\":\"");
	mon_log_format_time(&entry, end, gmtoff);
	strbuf_addf(&entry, "\",\"ExitCode\":%d,\"Output\":", status);
	json_str(&entry, m->health_out_buf.buf, m->health_out_buf.len);
	strbuf_addch(&entry, '}');
	strv_push(&m->health_log, entry.buf);
	while (m->health_log.len > HEALTH_LOG_KEEP)
		strv_remove(&m->health_log, 0);

	bool in_start_period = m->o->health_start_period_ms && m->started_mono &&
			       mono_now() - m->started_mono < (int64_t)m->o->health_start_period_ms * 1000000;
	enum mon_health_status before = m->health_status;
	if (status == 0) {
		m->health_status = HEALTH_HEALTHY;
		m->health_streak = 0;
	} else if (!(in_start_period && m->health_status == HEALTH_STARTING)) {
		m->health_streak++;
		if (m->health_streak >= (int)(m->o->health_retries ? m->o->health_retries : 1))
			m->health_status = HEALTH_UNHEALTHY;
	}
	write_state(m);
	reply_waiting(m);
	if (m->health_status == HEALTH_UNHEALTHY && before != HEALTH_UNHEALTHY)
		act_on_failure(m);
	if (m->state == ST_RUNNING && m->o->health_interval_ms)
		arm(m, m->o->health_interval_ms);
}

static void check_cleanup(struct monitor *m)
{
	if (m->health_out >= 0) {
		mon_unwatch(m, m->health_out);
		close(m->health_out);
		m->health_out = -1;
	}
	if (m->health_pidfd >= 0) {
		mon_unwatch(m, m->health_pidfd);
		close(m->health_pidfd);
		m->health_pidfd = -1;
	}
	m->health_pid = 0;
}

static void check_start(struct monitor *m)
{
	cleanup_strv struct strv argv = STRV_INIT;
	struct spawn_opts so = SPAWN_OPTS_INIT;
	struct skiff_err *err = NULL;
	int p[2];

	if (m->health_pid > 0 || m->state != ST_RUNNING)
		return;
	strbuf_reset(&m->health_out_buf);
	m->health_started = mon_now_ns();
	mon_runtime_argv(m, &argv, "exec");
	strv_push(&argv, "--process");
	strv_push(&argv, m->o->health_process);
	strv_push(&argv, m->o->id);
	if (pipe2(p, O_CLOEXEC) < 0) {
		check_done(m, 125, false);
		return;
	}
	/* the check's end blocks as any stdout; ours does not */
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		close(p[0]);
		close(p[1]);
		check_done(m, 125, false);
		return;
	}
	so.stdin_fd = SPAWN_DEVNULL;
	so.stdout_fd = p[1];
	so.stderr_fd = p[1];
	if (spawn((const char *const *)argv.v, &so, &m->health_pid, &m->health_pidfd, &err) < 0) {
		strbuf_addstr(&m->health_out_buf, err->msg);
		err_clear(&err);
		close(p[0]);
		close(p[1]);
		m->health_pid = 0;
		check_done(m, 125, false);
		return;
	}
	close(p[1]);
	m->health_out = p[0];
	if (mon_watch(m, m->health_out, EPOLLIN, &m->src_health_out, &err) < 0 ||
	    mon_watch(m, m->health_pidfd, EPOLLIN, &m->src_health_pidfd, &err) < 0) {
		err_clear(&err);
		(void)syscall(SYS_pidfd_send_signal, m->health_pidfd, SIGKILL, NULL, 0);
	}
	arm(m, m->o->health_timeout_ms ? m->o->health_timeout_ms : 30000);
}

void mon_health_on_output(struct monitor *m)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(m->health_out, buf, sizeof(buf))) > 0)
		if (m->health_out_buf.len < HEALTH_OUTPUT_MAX)
			strbuf_add(&m->health_out_buf, buf,
				   (size_t)n > HEALTH_OUTPUT_MAX - m->health_out_buf.len
					   ? HEALTH_OUTPUT_MAX - m->health_out_buf.len
					   : (size_t)n);
	if (n == 0) {
		mon_unwatch(m, m->health_out);
		close(m->health_out);
		m->health_out = -1;
	}
}

void mon_health_on_exit(struct monitor *m)
{
	int st = 0;

	if (m->health_pid <= 0)
		return;
	if (waitpid(m->health_pid, &st, WNOHANG) <= 0)
		return;
	if (m->health_out >= 0)
		mon_health_on_output(m);
	check_cleanup(m);
	check_done(m, WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st), false);
}

bool mon_health_reap(struct monitor *m, pid_t pid, int st)
{
	if (m->health_pid <= 0 || pid != m->health_pid)
		return false;
	if (m->health_out >= 0)
		mon_health_on_output(m);
	check_cleanup(m);
	check_done(m, WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st), false);
	return true;
}

void mon_health_on_timer(struct monitor *m)
{
	uint64_t n;

	if (read(m->health_timerfd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	if (m->health_pid > 0) {
		/* the check outran its timeout */
		(void)syscall(SYS_pidfd_send_signal, m->health_pidfd, SIGKILL, NULL, 0);
		(void)waitpid(m->health_pid, NULL, 0);
		check_cleanup(m);
		check_done(m, -1, true);
		return;
	}
	check_start(m);
}

void mon_health_on_ctr_exit(struct monitor *m)
{
	if (!mon_health_enabled(m))
		return;
	disarm(m);
	if (m->health_pid > 0) {
		(void)syscall(SYS_pidfd_send_signal, m->health_pidfd, SIGKILL, NULL, 0);
		(void)waitpid(m->health_pid, NULL, 0);
		check_cleanup(m);
	}
	for (struct mon_client *c = m->clients; c; c = c->next)
		if (c->health_waiting) {
			c->health_waiting = false;
			ctl_reply_text(m, c, ESRCH, "the container exited");
		}
}

void mon_health_request(struct monitor *m, struct mon_client *c)
{
	if (!mon_health_enabled(m)) {
		ctl_reply_text(m, c, ENOTSUP, "container has no defined healthcheck");
		return;
	}
	if (m->state != ST_RUNNING) {
		ctl_reply_text(m, c, ESRCH, "container is not running");
		return;
	}
	c->health_waiting = true;
	if (m->health_pid <= 0)
		check_start(m);
}

void mon_health_free(struct monitor *m)
{
	if (m->health_pid > 0) {
		(void)syscall(SYS_pidfd_send_signal, m->health_pidfd, SIGKILL, NULL, 0);
		(void)waitpid(m->health_pid, NULL, 0);
	}
	check_cleanup(m);
	if (m->health_timerfd >= 0)
		close(m->health_timerfd);
	m->health_timerfd = -1;
	strbuf_release(&m->health_out_buf);
	strv_release(&m->health_log);
}
