/*
 * The container's stdio and its creation: pipes (or a console socket that receives the pty
 * master), `RUNTIME create`, the pid file; then reading output and writing stdin.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "pkg/monitor/internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/xalloc.h"

#define CONSOLE_SOCKET "console.sock"
#define PIDFILE "pidfile"
/* Keep at most this much of the runtime's stderr (its last lines make the message). */
#define RT_STDERR_KEEP 4096

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

static int make_pipe(int *ret_r, int *ret_w, struct skiff_err **err)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return err_make(err, errno, "pipe");
	*ret_r = p[0];
	*ret_w = p[1];
	return 0;
}

static int console_listen(struct monitor *m, int *ret, struct skiff_err **err)
{
	cleanup_close int fd = -1;
	struct sockaddr_un sa;
	socklen_t len;
	mode_t old;
	int r;

	if (unlinkat(m->dirfd, CONSOLE_SOCKET, 0) < 0 && errno != ENOENT)
		return err_make(err, errno, "remove %s/%s", m->o->dir, CONSOLE_SOCKET);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_make(err, errno, "console socket");
	if (mon_sockaddr_at(m->dirfd, CONSOLE_SOCKET, &sa, &len, err) < 0)
		return -1;
	old = umask(0177); /* 0600: only the runtime (our user) may hand us a terminal */
	r = bind(fd, (struct sockaddr *)&sa, len);
	umask(old);
	if (r < 0)
		return err_make(err, errno, "bind %s/%s", m->o->dir, CONSOLE_SOCKET);
	if (listen(fd, 1) < 0)
		return err_make(err, errno, "listen on %s/%s", m->o->dir, CONSOLE_SOCKET);
	*ret = TAKE_FD(fd);
	return 0;
}

/* The pty master the runtime sent over the console socket (it has exited by now). */
static int console_receive(struct monitor *m, int lfd, int *ret, struct skiff_err **err)
{
	cleanup_close int conn = -1;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	char byte[64];
	struct iovec iov = {.iov_base = byte, .iov_len = sizeof(byte)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	int master = -1;
	ssize_t n;

	conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (conn < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return err_makex(err, EIO, "the runtime did not connect to the console socket");
		return err_make(err, errno, "accept on the console socket");
	}
	do
		n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return err_make(err, errno, "receive the pty master from the runtime");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (master < 0)
				master = fd;
			else
				close(fd); /* exactly one is expected; ignore the rest */
		}
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		if (master >= 0)
			close(master);
		return err_makex(err, EIO, "the runtime sent too many fds over the console socket");
	}
	if (master < 0)
		return err_makex(err, EIO, "the runtime sent no pty master over the console socket");
	if (!isatty(master)) {
		close(master);
		return err_makex(err, EIO, "the runtime sent a console fd that is not a terminal");
	}
	(void)m;
	*ret = master;
	return 0;
}

/* Read what the pipe has, keeping the tail of it; false at EOF. */
static bool read_tail(int fd, struct strbuf *sb)
{
	char buf[1024];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0;
		strbuf_add(sb, buf, (size_t)n);
		if (sb->len > 2 * RT_STDERR_KEEP) {
			memmove(sb->buf, sb->buf + sb->len - RT_STDERR_KEEP, RT_STDERR_KEEP);
			strbuf_setlen(sb, RT_STDERR_KEEP);
		}
	}
}

/* Wait for `RUNTIME create` to exit, reading its stderr meanwhile. */
static int wait_runtime(pid_t pid, int pidfd, int err_r, struct strbuf *errout, int *ret_status, struct skiff_err **err)
{
	int efd = err_r;

	for (;;) {
		struct pollfd p[2] = {{.fd = efd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
		int r = poll(p, 2, pidfd >= 0 ? -1 : 100);

		if (r < 0 && errno != EINTR) {
			int saved = errno;
			kill(pid, SIGKILL);
			(void)spawn_wait(pid, NULL);
			return err_make(err, saved, "poll");
		}
		if (r > 0 && (p[0].revents & (POLLIN | POLLHUP)) && !read_tail(efd, errout))
			efd = -1; /* EOF: only the runtime's exit is left to wait for */
		if (pidfd >= 0 && !(p[1].revents & POLLIN))
			continue;
		if (pidfd < 0) {
			int st;
			pid_t w = waitpid(pid, &st, WNOHANG);
			if (w == 0)
				continue;
			if (w < 0)
				return err_make(err, errno, "wait for the runtime");
			*ret_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
		if (spawn_wait(pid, ret_status) < 0)
			return err_make(err, errno, "wait for the runtime");
		break;
	}
	(void)read_tail(err_r, errout);
	return 0;
}

static int read_pidfile(struct monitor *m, pid_t *ret, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	unsigned long v;
	char *end;

	if (read_file_at(m->dirfd, PIDFILE, 64, &buf, NULL, err) < 0)
		return err_wrap(err, "the runtime's pid file");
	errno = 0;
	v = strtoul(buf, &end, 10);
	while (*end == '\n' || *end == ' ')
		end++;
	if (errno || end == buf || *end || buf[0] < '0' || buf[0] > '9' || v == 0 || v > INT_MAX)
		return err_makex(err, EINVAL, "the runtime's pid file %s/%s holds no pid", m->o->dir, PIDFILE);
	*ret = (pid_t)v;
	return 0;
}

/* oom_kill N in the --oom-file (cgroup v2 memory.events, v1 memory.oom_control); 0 if none. */
static uint64_t read_oom_count(const char *path)
{
	cleanup_free char *buf = NULL;
	struct skiff_err *err = NULL;
	const char *p;

	if (!path)
		return 0;
	if (read_file_at(AT_FDCWD, path, 65536, &buf, NULL, &err) < 0) {
		err_clear(&err);
		return 0;
	}
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, "oom_kill ", 9))
			return strtoull(p + 9, NULL, 10);
	}
	return 0;
}

bool ctr_oom_killed(struct monitor *m)
{
	return read_oom_count(m->o->oom_file) > m->oom_base;
}

/* After a successful create: the pty master (terminal mode), the pid and a pidfd. */
static int created_take(struct monitor *m, int console, int *master, int *in_w, pid_t *ret_pid, int *ret_pidfd,
			struct skiff_err **err)
{
	cleanup_close int pidfd = -1;
	pid_t pid = 0;

	if (m->o->terminal) {
		int r = console_receive(m, console, master, err);
		(void)unlinkat(m->dirfd, CONSOLE_SOCKET, 0);
		if (r < 0)
			return -1;
		if (set_nonblock(*master) < 0)
			return err_make(err, errno, "set the pty master non-blocking");
		if (m->o->stdin_open) {
			*in_w = fcntl(*master, F_DUPFD_CLOEXEC, 3);
			if (*in_w < 0)
				return err_make(err, errno, "dup the pty master");
		}
	}
	if (read_pidfile(m, &pid, err) < 0)
		return -1;
	/* The container's init is our child now (we are its subreaper), so the pid cannot be
	 * reused before we reap it. */
	pidfd = pidfd_open_compat(pid);
	if (pidfd < 0)
		return err_make(err, errno, "pidfd_open %d", (int)pid);
	if (mon_watch(m, pidfd, EPOLLIN, &m->src_pidfd, err) < 0)
		return -1;
	*ret_pid = pid;
	*ret_pidfd = TAKE_FD(pidfd);
	return 0;
}

/* The n bytes at m->iobuf + 1: to the log and to the clients attached to that stream. */
static void emit(struct monitor *m, enum mon_stream stream, size_t n)
{
	struct skiff_err *err = NULL;

	if (mon_log_write(&m->log, stream, m->iobuf + 1, n, &err) < 0)
		err_clear(&err); /* a full disk must not stop the container */
	m->iobuf[0] = (char)(stream == MON_STREAM_STDERR ? MON_PKT_STDERR : MON_PKT_STDOUT);
	ctl_broadcast(m, stream == MON_STREAM_STDERR ? MON_ATTACH_STDERR : MON_ATTACH_STDOUT, m->iobuf, n + 1);
}

int ctr_create(struct monitor *m, struct skiff_err **err)
{
	const struct monitor_opts *o = m->o;
	cleanup_close int out_r = -1, out_w = -1, err_r = -1, err_w = -1, in_r = -1, in_w = -1;
	cleanup_close int console = -1, master = -1, pidfd = -1, rt_pidfd = -1;
	cleanup_strv struct strv argv = STRV_INIT;
	cleanup_strbuf struct strbuf errout = STRBUF_INIT;
	struct spawn_opts so = SPAWN_OPTS_INIT;
	pid_t rt_pid = 0, pid = 0;
	int status = 0;

	if (unlinkat(m->dirfd, PIDFILE, 0) < 0 && errno != ENOENT)
		return err_make(err, errno, "remove %s/%s", o->dir, PIDFILE);
	if (make_pipe(&err_r, &err_w, err) < 0)
		return -1;
	so.stderr_fd = err_w;
	if (o->terminal) {
		if (console_listen(m, &console, err) < 0)
			return -1;
		so.stdin_fd = SPAWN_DEVNULL;
		so.stdout_fd = SPAWN_DEVNULL;
	} else {
		if (make_pipe(&out_r, &out_w, err) < 0)
			return -1;
		so.stdout_fd = out_w;
		so.stdin_fd = SPAWN_DEVNULL;
		if (o->stdin_open) {
			if (make_pipe(&in_r, &in_w, err) < 0)
				return -1;
			so.stdin_fd = in_r;
		}
	}
	if (set_nonblock(err_r) < 0 || (out_r >= 0 && set_nonblock(out_r) < 0) || (in_w >= 0 && set_nonblock(in_w) < 0))
		return err_make(err, errno, "set the stdio pipes non-blocking");

	if (o->exec_process) {
		/* the runtime exits once the process runs; we, the subreaper, inherit it */
		mon_runtime_argv(m, &argv, "exec");
		strv_push(&argv, "--detach");
		strv_push(&argv, "--process");
		strv_push(&argv, o->exec_process);
	} else if (o->restore && !m->restored) {
		/* the restored process runs at once and inherits the runtime's stdio */
		mon_runtime_argv(m, &argv, "restore");
		strv_push(&argv, "--image-path");
		strv_push(&argv, o->restore);
		strv_push(&argv, "--bundle");
		strv_push(&argv, o->bundle);
		strv_push(&argv, "--detach");
	} else {
		mon_runtime_argv(m, &argv, "create");
		strv_push(&argv, "--bundle");
		strv_push(&argv, o->bundle);
	}
	strv_push(&argv, "--pid-file");
	strv_pushf(&argv, "%s/%s", o->dir, PIDFILE);
	if (o->terminal) {
		strv_push(&argv, "--console-socket");
		strv_pushf(&argv, "%s/%s", o->dir, CONSOLE_SOCKET);
	}
	strv_push(&argv, o->id);
	bool restoring = !o->exec_process && o->restore && !m->restored;
	const char *what = o->exec_process ? "runtime exec" : restoring ? "runtime restore" : "runtime create";
	if (spawn((const char *const *)argv.v, &so, &rt_pid, &rt_pidfd, err) < 0)
		return err_wrap(err, "%s", what);
	close(TAKE_FD(err_w));
	close(TAKE_FD(out_w));
	close(TAKE_FD(in_r));
	if (wait_runtime(rt_pid, rt_pidfd, err_r, &errout, &status, err) < 0)
		return err_wrap(err, "%s", what);
	if (status != 0) {
		cleanup_free char *line = mon_last_line(errout.buf);
		if (console >= 0)
			(void)unlinkat(m->dirfd, CONSOLE_SOCKET, 0);
		if (*line)
			return err_makex(err, EIO, "%s", line);
		return err_makex(err, EIO, "%s exited with status %d", what, status);
	}
	if (created_take(m, console, &master, &in_w, &pid, &pidfd, err) < 0) {
		/* The runtime created a container that we cannot serve: it must not stay. (An
		 * exec'd process we cannot serve was killed by created_take or dies with its
		 * pipes.) */
		struct skiff_err *e2 = NULL;
		if (!o->exec_process && mon_runtime_simple(m, "delete", true, &e2) < 0)
			err_clear(&e2);
		return -1;
	}
	if (o->terminal)
		close(TAKE_FD(err_r)); /* only the runtime's, in terminal mode */

	m->ctr_pid = pid;
	m->pidfd = TAKE_FD(pidfd);
	m->out_fd = o->terminal ? TAKE_FD(master) : TAKE_FD(out_r);
	m->err_fd = o->terminal ? -1 : TAKE_FD(err_r);
	m->in_fd = TAKE_FD(in_w);
	m->stdin_closed = false;
	m->oom_base = read_oom_count(o->oom_file);
	/* an exec'd process runs from the start */
	m->started_at = o->exec_process || restoring ? mon_now_ns() : 0;
	m->state = o->exec_process || restoring ? ST_RUNNING : ST_CREATED;
	if (restoring)
		m->restored = true;
	if (mon_watch(m, m->out_fd, EPOLLIN, &m->src_out, err) < 0)
		return -1;
	m->out_watched = true;
	if (m->err_fd >= 0) {
		if (mon_watch(m, m->err_fd, EPOLLIN, &m->src_err, err) < 0)
			return -1;
		m->err_watched = true;
	}
	/* An exec'd process shares the runtime's stderr pipe and runs before the runtime has
	 * exited: what it wrote meanwhile was read as the runtime's and is its own. */
	if (o->exec_process && !o->terminal) {
		for (size_t off = 0; off < errout.len;) {
			size_t n = errout.len - off > MON_READ_CHUNK ? MON_READ_CHUNK : errout.len - off;
			memcpy(m->iobuf + 1, errout.buf + off, n);
			emit(m, MON_STREAM_STDERR, n);
			off += n;
		}
	}
	return 0;
}

static void unwatch_stream(struct monitor *m, enum src_kind which)
{
	if (which == SRC_STDOUT && m->out_watched) {
		mon_unwatch(m, m->out_fd);
		m->out_watched = false;
	} else if (which == SRC_STDERR && m->err_watched) {
		mon_unwatch(m, m->err_fd);
		m->err_watched = false;
	}
}

/* One read; true when it got data. */
static bool output_once(struct monitor *m, enum src_kind which)
{
	int fd = which == SRC_STDERR ? m->err_fd : m->out_fd;
	enum mon_stream stream = which == SRC_STDERR ? MON_STREAM_STDERR : MON_STREAM_STDOUT;
	ssize_t n;

	if (fd < 0)
		return false;
	do
		n = read(fd, m->iobuf + 1, MON_READ_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return false;
	if (n <= 0) {
		/* EOF, or EIO from a pty master whose slave is closed everywhere */
		unwatch_stream(m, which);
		return false;
	}
	emit(m, stream, (size_t)n);
	return true;
}

void ctr_output_pause(struct monitor *m, bool pause)
{
	struct skiff_err *err = NULL;

	if (m->output_paused == pause)
		return;
	m->output_paused = pause;
	if (pause) {
		if (m->out_watched)
			mon_unwatch(m, m->out_fd);
		if (m->err_watched)
			mon_unwatch(m, m->err_fd);
		return;
	}
	if (m->out_watched && mon_watch(m, m->out_fd, EPOLLIN, &m->src_out, &err) < 0)
		err_clear(&err);
	if (m->err_watched && mon_watch(m, m->err_fd, EPOLLIN, &m->src_err, &err) < 0)
		err_clear(&err);
}

void ctr_output(struct monitor *m, enum src_kind which)
{
	(void)output_once(m, which);
}

void ctr_drain(struct monitor *m)
{
	/* Bounded: a process of the container that outlived init may keep writing. */
	for (int i = 0; i < 256 && m->out_watched && output_once(m, SRC_STDOUT); i++)
		;
	for (int i = 0; i < 256 && m->err_watched && output_once(m, SRC_STDERR); i++)
		;
}

static void close_stdin(struct monitor *m)
{
	if (m->in_fd >= 0) {
		if (m->stdin_buf.len)
			mon_unwatch(m, m->in_fd);
		close(m->in_fd);
		m->in_fd = -1;
	}
	strbuf_release(&m->stdin_buf);
	ctl_unpause_all(m);
}

void ctr_stdin_write(struct monitor *m, struct mon_client *c, const char *data, size_t len)
{
	struct skiff_err *err = NULL;

	if (m->in_fd < 0 || m->stdin_closed || !len)
		return;
	if (!m->stdin_buf.len) {
		ssize_t n;
		do
			n = write(m->in_fd, data, len);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			close_stdin(m); /* EPIPE: nobody reads the container's stdin any more */
			return;
		}
		if (n > 0) {
			data += n;
			len -= (size_t)n;
		}
		if (!len)
			return;
		if (mon_watch(m, m->in_fd, EPOLLOUT, &m->src_in, &err) < 0) {
			err_clear(&err);
			close_stdin(m);
			return;
		}
	}
	strbuf_add(&m->stdin_buf, data, len);
	if (c && !c->paused) {
		c->paused = true;
		ctl_client_rewatch(m, c);
	}
}

void ctr_stdin_flush(struct monitor *m)
{
	ssize_t n;

	if (m->in_fd < 0)
		return;
	do
		n = write(m->in_fd, m->stdin_buf.buf, m->stdin_buf.len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n < 0) {
		close_stdin(m);
		return;
	}
	memmove(m->stdin_buf.buf, m->stdin_buf.buf + n, m->stdin_buf.len - (size_t)n);
	strbuf_setlen(&m->stdin_buf, m->stdin_buf.len - (size_t)n);
	if (m->stdin_buf.len)
		return;
	mon_unwatch(m, m->in_fd);
	strbuf_release(&m->stdin_buf);
	ctl_unpause_all(m);
	if (m->stdin_closed && !m->o->terminal)
		close_stdin(m);
}

void ctr_stdin_close(struct monitor *m)
{
	m->stdin_closed = true;
	/* A pipe gets its EOF once the pending data is in; a terminal has no EOF to give (the
	 * client sends ^D itself if it wants one): data is just not forwarded any more. */
	if (m->o->terminal) {
		if (m->in_fd >= 0 && m->stdin_buf.len)
			mon_unwatch(m, m->in_fd);
		strbuf_release(&m->stdin_buf);
		ctl_unpause_all(m);
		return;
	}
	if (!m->stdin_buf.len)
		close_stdin(m);
}

int ctr_resize(struct monitor *m, unsigned rows, unsigned cols, struct skiff_err **err)
{
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};

	if (!m->o->terminal)
		return err_makex(err, ENOTTY, "the container has no terminal");
	if (m->out_fd < 0)
		return err_makex(err, ESRCH, "the container is not running");
	if (ioctl(m->out_fd, TIOCSWINSZ, &ws) < 0)
		return err_make(err, errno, "resize the terminal");
	return 0;
}

void ctr_close_stdio(struct monitor *m)
{
	unwatch_stream(m, SRC_STDOUT);
	unwatch_stream(m, SRC_STDERR);
	close_stdin(m);
	if (m->out_fd >= 0)
		close(m->out_fd);
	if (m->err_fd >= 0)
		close(m->err_fd);
	m->out_fd = m->err_fd = -1;
	m->stdin_closed = false;
}
