/* The engine's side of the monitor (client.h): spawn it, talk to DIR/ctl, check it lives. */
#include "pkg/monitor/client.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/strv.h"
#include "vendor-free/xalloc.h"

/* How long mon_connect waits for the VERSION packet. */
#define CONNECT_TIMEOUT_MS 30000
#define SYNC_LINE_MAX 4096

static void push_opt(struct strv *argv, const char *name, const char *value)
{
	if (!value)
		return;
	strv_push(argv, name);
	strv_push(argv, value);
}

/* The first line of s (at most 300 bytes), for messages. */
static char *first_line(const char *s)
{
	size_t n = strcspn(s, "\n");
	return xstrndup(s, n > 300 ? 300 : n);
}

static int read_sync_line(int fd, struct strbuf *line, struct skiff_err **err)
{
	char buf[256];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_make(err, errno, "read the monitor's sync pipe");
		if (n == 0)
			return 0;
		strbuf_add(line, buf, (size_t)n);
		nl = memchr(line->buf, '\n', line->len);
		if (nl) {
			strbuf_setlen(line, (size_t)(nl - line->buf));
			return 0;
		}
		if (line->len > SYNC_LINE_MAX)
			return err_makex(err, EIO, "the monitor's sync line is longer than %d bytes", SYNC_LINE_MAX);
	}
}

/* A pid; "0" too with zero_ok (an exec session that has no process before its START). */
static int parse_pid(const char *s, const char **end, pid_t *ret, bool zero_ok)
{
	char *e;
	long v;

	if (zero_ok && s[0] == '0' && (s[1] == ' ' || s[1] == '\0')) {
		*end = s + 1;
		*ret = 0;
		return 0;
	}
	if (*s < '1' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &e, 10);
	if (errno || v <= 0 || v > INT_MAX)
		return -1;
	*end = e;
	*ret = (pid_t)v;
	return 0;
}

static int parse_sync(const char *line, pid_t *ret_ctr, pid_t *ret_mon, struct skiff_err **err)
{
	const char *p;
	pid_t ctr, mon;

	if (!strncmp(line, "error ", 6))
		return err_makex(err, EIO, "%s", line + 6);
	if (strncmp(line, "ok ", 3) || parse_pid(line + 3, &p, &ctr, true) < 0 || *p != ' ' ||
	    parse_pid(p + 1, &p, &mon, false) < 0 || *p)
		return err_makex(err, EIO, "the monitor sent a malformed sync line \"%.100s\"", line);
	*ret_ctr = ctr;
	*ret_mon = mon;
	return 0;
}

int mon_spawn(const struct mon_spawn_opts *o, pid_t *ret_ctr_pid, pid_t *ret_mon_pid, struct skiff_err **err)
{
	cleanup_strv struct strv argv = STRV_INIT;
	cleanup_close int sync_r = -1, sync_w = -1, err_r = -1, err_w = -1;
	cleanup_strbuf struct strbuf line = STRBUF_INIT;
	cleanup_strbuf struct strbuf errout = STRBUF_INIT;
	struct spawn_opts so = SPAWN_OPTS_INIT;
	pid_t pid, ctr = 0, mon = 0;
	int status, p[2];

	if (!o->monitor_path || !o->id || !o->bundle || !o->dir || !o->runtime)
		return err_makex(err, EINVAL,
				 "spawn monitor: the monitor path, id, bundle, dir and runtime are required");
	strv_push(&argv, o->monitor_path);
	push_opt(&argv, "--id", o->id);
	push_opt(&argv, "--bundle", o->bundle);
	push_opt(&argv, "--dir", o->dir);
	push_opt(&argv, "--runtime", o->runtime);
	for (const char *const *a = o->runtime_args; a && *a; a++)
		push_opt(&argv, "--runtime-arg", *a);
	if (o->terminal)
		strv_push(&argv, "--terminal");
	if (o->stdin_open)
		strv_push(&argv, "--stdin");
	if (o->start)
		strv_push(&argv, "--start");
	push_opt(&argv, "--log-path", o->log_path);
	push_opt(&argv, "--log-driver", o->log_driver);
	push_opt(&argv, "--name", o->name);
	push_opt(&argv, "--log-tag", o->log_tag);
	if (o->log_size_max > 0) {
		strv_push(&argv, "--log-size-max");
		strv_pushf(&argv, "%" PRId64, o->log_size_max);
	}
	if (o->log_max_file > 1) {
		strv_push(&argv, "--log-max-file");
		strv_pushf(&argv, "%u", o->log_max_file);
	}
	push_opt(&argv, "--oom-file", o->oom_file);
	push_opt(&argv, "--restart", o->restart);
	if (o->stop_signal > 0) {
		strv_push(&argv, "--stop-signal");
		strv_pushf(&argv, "%d", o->stop_signal);
	}
	if (o->stop_timeout >= 0) {
		strv_push(&argv, "--stop-timeout");
		strv_pushf(&argv, "%d", o->stop_timeout);
	}
	push_opt(&argv, "--exec-process", o->exec_process);
	push_opt(&argv, "--restore", o->restore);
	if (o->health_process) {
		push_opt(&argv, "--health-process", o->health_process);
		strv_push(&argv, "--health-interval");
		strv_pushf(&argv, "%" PRIu64, o->health_interval_ms);
		strv_push(&argv, "--health-timeout");
		strv_pushf(&argv, "%" PRIu64, o->health_timeout_ms);
		strv_push(&argv, "--health-start-period");
		strv_pushf(&argv, "%" PRIu64, o->health_start_period_ms);
		strv_push(&argv, "--health-retries");
		strv_pushf(&argv, "%u", o->health_retries);
		push_opt(&argv, "--health-on-failure", o->health_on_failure);
	}
	push_opt(&argv, "--exit-command", o->exit_command);
	for (const char *const *a = o->exit_command_args; o->exit_command && a && *a; a++)
		push_opt(&argv, "--exit-command-arg", *a);
	strv_push(&argv, "--sync-fd");
	strv_push(&argv, "3");

	if (pipe2(p, O_CLOEXEC) < 0)
		return err_make(err, errno, "spawn monitor: pipe");
	sync_r = p[0];
	sync_w = p[1];
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_make(err, errno, "spawn monitor: pipe");
	err_r = p[0];
	err_w = p[1];
	so.stdin_fd = SPAWN_DEVNULL;
	so.stdout_fd = SPAWN_DEVNULL;
	so.stderr_fd = err_w;
	so.extra_fds = &sync_w;
	so.n_extra_fds = 1;
	if (spawn((const char *const *)argv.v, &so, &pid, NULL, err) < 0)
		return err_wrap(err, "spawn monitor");
	close(TAKE_FD(sync_w));
	close(TAKE_FD(err_w));
	/* The first process exits as soon as the monitor has detached. */
	if (spawn_wait(pid, &status) < 0)
		return err_make(err, errno, "spawn monitor: wait");
	/* What it said on stderr (a bad option, say) is in the pipe by now; the detached monitor
	 * has /dev/null there or will soon, so do not wait for EOF. */
	if (fcntl(err_r, F_SETFL, O_NONBLOCK) == 0) {
		char buf[1024];
		ssize_t n;
		while ((n = read(err_r, buf, sizeof(buf))) > 0 && errout.len < 4096)
			strbuf_add(&errout, buf, (size_t)n);
	}
	if (read_sync_line(sync_r, &line, err) < 0)
		return err_wrap(err, "spawn monitor");
	if (!line.len) {
		cleanup_free char *first = first_line(errout.buf);
		if (status != 0 && *first)
			return err_makex(err, EIO, "spawn monitor: exited with status %d: %s", status, first);
		if (status != 0)
			return err_makex(err, EIO, "spawn monitor: exited with status %d", status);
		return err_makex(err, EIO, "spawn monitor: the monitor exited without reporting");
	}
	if (parse_sync(line.buf, &ctr, &mon, err) < 0)
		return -1;
	*ret_ctr_pid = ctr;
	*ret_mon_pid = mon;
	return 0;
}

/* ---- the control socket ---- */

int mon_recv(int fd, struct mon_packet *ret, struct skiff_err **err)
{
	struct skiff_err *e = NULL;
	ssize_t n;

	do
		n = recv(fd, ret->buf, MON_PKT_MAX, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == ECONNRESET)
			return 0;
		return err_make(err, errno, "receive from the monitor");
	}
	if (n == 0)
		return 0;
	if (n > MON_PKT_MAX)
		return err_makex(err, EPROTO, "the monitor sent a packet of %zd bytes (at most %d)", n, MON_PKT_MAX);
	if (mon_msg_decode(ret->buf, (size_t)n, &ret->msg, &e) < 0) {
		int r = err_makex(err, EPROTO, "the monitor sent a bad packet: %s", e->msg);
		err_free(e);
		return r;
	}
	return 1;
}

static int send_msg(int fd, const struct mon_msg *m, struct skiff_err **err)
{
	char buf[MON_PKT_MAX];
	size_t len;
	ssize_t n;

	if (mon_msg_encode(m, buf, sizeof(buf), &len, err) < 0)
		return -1;
	do
		n = send(fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return err_make(err, errno, "send to the monitor");
	return 0;
}

/* Send a request and wait for its REPLY; ret_text (may be NULL) gets the reply's text. */
static int request(int fd, const struct mon_msg *m, char **ret_text, struct skiff_err **err)
{
	struct mon_packet *p;
	int r;

	if (send_msg(fd, m, err) < 0)
		return -1;
	p = xmalloc(sizeof(*p));
	for (;;) {
		r = mon_recv(fd, p, err);
		if (r <= 0)
			break;
		if (p->msg.type == MON_PKT_REPLY)
			break;
	}
	if (r == 0)
		r = err_makex(err, ECONNRESET, "the monitor closed the connection");
	else if (r > 0 && p->msg.code != 0)
		r = err_makex(err, p->msg.code > 0 ? p->msg.code : EIO, "%s",
			      p->msg.len ? p->msg.data : "the monitor refused");
	else if (r > 0) {
		r = 0;
		if (ret_text)
			*ret_text = xstrndup(p->msg.data, p->msg.len);
	}
	free(p);
	return r;
}

int mon_connect(const char *dir, int *ret_fd, char **ret_state, struct skiff_err **err)
{
	cleanup_close int dfd = -1, fd = -1;
	struct mon_packet *p;
	struct sockaddr_un sa;
	struct pollfd pfd;
	socklen_t len;
	int r;

	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "open %s", dir);
	if (mon_sockaddr_at(dfd, "ctl", &sa, &len, err) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_make(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
		if (errno == ENOENT)
			return err_makex(err, ENOENT, "no monitor control socket %s/ctl", dir);
		return err_make(err, errno, "connect to the monitor %s/ctl", dir);
	}
	pfd = (struct pollfd){.fd = fd, .events = POLLIN};
	do
		r = poll(&pfd, 1, CONNECT_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return err_make(err, errno, "poll");
	if (r == 0)
		return err_makex(err, ETIMEDOUT, "the monitor %s/ctl did not answer", dir);
	p = xmalloc(sizeof(*p));
	r = mon_recv(fd, p, err);
	if (r == 0)
		r = err_makex(err, ECONNRESET, "the monitor %s/ctl closed the connection", dir);
	else if (r > 0 && p->msg.type != MON_PKT_VERSION)
		r = err_makex(err, EPROTO, "the monitor %s/ctl did not start with its version", dir);
	else if (r > 0 && p->msg.version != MON_PROTO_VERSION)
		r = err_makex(err, EPROTO, "the monitor %s/ctl speaks protocol version %u; this skiff speaks %d", dir,
			      p->msg.version, MON_PROTO_VERSION);
	else if (r > 0) {
		r = 0;
		if (ret_state)
			*ret_state = xstrndup(p->msg.data, p->msg.len);
	}
	free(p);
	if (r < 0)
		return -1;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int mon_start(int fd, struct skiff_err **err)
{
	struct mon_msg m = {.type = MON_PKT_START};
	return request(fd, &m, NULL, err);
}

int mon_stop(int fd, uint32_t timeout, int sig, struct skiff_err **err)
{
	struct mon_msg m = {.type = MON_PKT_STOP, .timeout = timeout, .signal = (uint8_t)sig};

	if (sig < 0 || sig > 255)
		return err_makex(err, EINVAL, "invalid signal %d", sig);
	return request(fd, &m, NULL, err);
}

int mon_kill(int fd, int sig, struct skiff_err **err)
{
	struct mon_msg m = {.type = MON_PKT_KILL, .signal = (uint8_t)sig};

	if (sig <= 0 || sig > 255)
		return err_makex(err, EINVAL, "invalid signal %d", sig);
	return request(fd, &m, NULL, err);
}

int mon_status(int fd, char **ret_text, struct skiff_err **err)
{
	struct mon_msg m = {.type = MON_PKT_STATUS};
	return request(fd, &m, ret_text, err);
}

int mon_healthcheck(int fd, char **ret_status, struct skiff_err **err)
{
	struct mon_msg m = {.type = MON_PKT_HEALTHCHECK};
	return request(fd, &m, ret_status, err);
}

int mon_reopen_log(int fd, struct skiff_err **err)
{
	struct mon_msg m = {.type = MON_PKT_LOG_REOPEN};
	return request(fd, &m, NULL, err);
}

int mon_attach(int fd, bool in, bool out, bool err_, struct skiff_err **err)
{
	struct mon_msg m = {.type = MON_PKT_ATTACH};

	m.flags =
		(uint8_t)((in ? MON_ATTACH_STDIN : 0) | (out ? MON_ATTACH_STDOUT : 0) | (err_ ? MON_ATTACH_STDERR : 0));
	return request(fd, &m, NULL, err);
}

int mon_attach_flags(int fd, unsigned flags, struct skiff_err **err)
{
	struct mon_msg m = {.type = MON_PKT_ATTACH, .flags = (uint8_t)flags};
	return request(fd, &m, NULL, err);
}

int mon_send_stdin(int fd, const void *buf, size_t len, struct skiff_err **err)
{
	const char *p = buf;

	while (len) {
		size_t n = len > MON_DATA_MAX ? MON_DATA_MAX : len;
		struct mon_msg m = {.type = MON_PKT_STDIN, .data = p, .len = n};
		if (send_msg(fd, &m, err) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int mon_close_stdin(int fd, struct skiff_err **err)
{
	struct mon_msg m = {.type = MON_PKT_STDIN_CLOSE};
	return send_msg(fd, &m, err);
}

int mon_resize(int fd, unsigned rows, unsigned cols, struct skiff_err **err)
{
	struct mon_msg m = {.type = MON_PKT_RESIZE, .rows = (uint16_t)rows, .cols = (uint16_t)cols};

	if (rows > UINT16_MAX || cols > UINT16_MAX)
		return err_makex(err, EINVAL, "invalid terminal size %ux%u", rows, cols);
	return send_msg(fd, &m, err);
}

/* ---- monitor.pid ---- */

/* A process that exited but is not reaped yet (its parent, often pid 1 for a detached
 * monitor, may take its time) still has its /proc entry: it is not alive. */
static bool proc_exited(pid_t pid)
{
	char path[64], buf[512];
	cleanup_close int fd = -1;
	const char *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n == 0 || errno == ESRCH;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

int mon_alive(const char *dir, bool *ret, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	cleanup_close int dfd = -1;
	struct skiff_err *e = NULL;
	unsigned long long want;
	uint64_t have;
	const char *p;
	char *end;
	pid_t pid;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "open %s", dir);
	if (read_file_at(dfd, "monitor.pid", 256, &buf, NULL, &e) < 0) {
		if (err_status(e) == ENOENT) {
			err_free(e);
			*ret = false;
			return 0;
		}
		*err = e;
		return err_wrap(err, "monitor of %s", dir);
	}
	if (parse_pid(buf, &p, &pid, false) < 0 || *p != ' ' || p[1] < '0' || p[1] > '9')
		goto bad;
	errno = 0;
	want = strtoull(p + 1, &end, 10);
	if (errno || (*end != '\n' && *end != '\0') || (*end == '\n' && end[1]))
		goto bad;
	if (proc_starttime(pid, &have) < 0) {
		if (errno == ESRCH) {
			*ret = false;
			return 0;
		}
		return err_make(err, errno, "start time of process %d", (int)pid);
	}
	*ret = have == want && !proc_exited(pid);
	return 0;
bad:
	return err_makex(err, EINVAL, "%s/monitor.pid is malformed (want \"PID STARTTIME\")", dir);
}
