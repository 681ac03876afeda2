/*
 * The control socket, DIR/ctl (SOCK_SEQPACKET, 0600): clients, requests, replies, and the
 * container's output to attached clients. Protocol: proto.h, docs/design/monitor.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pkg/monitor/internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

#define CTL_SOCKET "ctl"
/* Replies and VERSION packets are small; their text is cut to fit. */
#define SMALL_PKT 2048

int ctl_listen(struct monitor *m, struct skiff_err **err)
{
	cleanup_close int fd = -1;
	struct sockaddr_un sa;
	socklen_t len;
	mode_t old;
	int r;

	if (unlinkat(m->dirfd, CTL_SOCKET, 0) < 0 && errno != ENOENT)
		return err_make(err, errno, "remove %s/%s", m->o->dir, CTL_SOCKET);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_make(err, errno, "control socket");
	if (mon_sockaddr_at(m->dirfd, CTL_SOCKET, &sa, &len, err) < 0)
		return -1;
	old = umask(0177); /* born 0600: no window where others may connect */
	r = bind(fd, (struct sockaddr *)&sa, len);
	umask(old);
	if (r < 0)
		return err_make(err, errno, "bind %s/%s", m->o->dir, CTL_SOCKET);
	if (fchmodat(m->dirfd, CTL_SOCKET, 0600, 0) < 0)
		return err_make(err, errno, "chmod %s/%s", m->o->dir, CTL_SOCKET);
	if (listen(fd, 16) < 0)
		return err_make(err, errno, "listen on %s/%s", m->o->dir, CTL_SOCKET);
	if (mon_watch(m, fd, EPOLLIN, &m->src_listen, err) < 0)
		return -1;
	m->listen_fd = TAKE_FD(fd);
	return 0;
}

/* Attached output backs up in a client's queue: over this mark the container's output is
 * not read until the client catches up (backpressure, as an attached docker client gets),
 * and a client that makes no progress for CLIENT_STALL_NS is dropped, so that a stuck one
 * holds the container up for that long at most. */
#define CLIENT_QUEUE_MARK (256 * 1024)
#define CLIENT_STALL_NS (3LL * 1000000000)

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t queued(const struct mon_client *c)
{
	return c->queue.len - c->queue_off;
}

void ctl_client_rewatch(struct monitor *m, struct mon_client *c)
{
	uint32_t ev = (c->paused ? 0 : EPOLLIN) | (queued(c) ? EPOLLOUT : 0);
	mon_rewatch(m, c->fd, ev, &c->src);
}

static void set_behind(struct monitor *m, struct mon_client *c, bool behind)
{
	if (c->behind == behind)
		return;
	c->behind = behind;
	if (behind) {
		c->stalled_since = mono_ns();
		if (m->clients_behind++ == 0)
			ctr_output_pause(m, true);
	} else if (--m->clients_behind == 0) {
		ctr_output_pause(m, false);
	}
}

void ctl_drop(struct monitor *m, struct mon_client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	set_behind(m, c, false);
	strbuf_release(&c->queue);
	c->queue_off = 0;
	mon_unwatch(m, c->fd);
	close(c->fd);
	c->fd = -1;
}

/* Send what is queued; drop the client on an error, or once its queued EXIT went out. */
static void flush_queue(struct monitor *m, struct mon_client *c)
{
	bool progress = false;

	while (queued(c)) {
		uint32_t len;
		ssize_t n;

		memcpy(&len, c->queue.buf + c->queue_off, sizeof(len));
		do
			n = send(c->fd, c->queue.buf + c->queue_off + sizeof(len), len, MSG_DONTWAIT | MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
			break;
		if (n < 0) {
			ctl_drop(m, c);
			return;
		}
		c->queue_off += sizeof(len) + len;
		progress = true;
	}
	if (!queued(c)) {
		strbuf_reset(&c->queue);
		c->queue_off = 0;
	} else if (c->queue_off > CLIENT_QUEUE_MARK) {
		/* keep the buffer from growing with what was sent */
		memmove(c->queue.buf, c->queue.buf + c->queue_off, queued(c));
		strbuf_setlen(&c->queue, queued(c));
		c->queue_off = 0;
	}
	if (progress)
		c->stalled_since = mono_ns();
	set_behind(m, c, queued(c) > CLIENT_QUEUE_MARK);
	if (!queued(c) && c->close_after_flush) {
		ctl_drop(m, c);
		return;
	}
	ctl_client_rewatch(m, c);
}

/* Send one whole packet without waiting; what the socket does not take is queued, in order. */
static void send_raw(struct monitor *m, struct mon_client *c, const char *buf, size_t len)
{
	ssize_t n = -1;

	if (c->dead)
		return;
	if (!queued(c)) {
		do
			n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n >= 0)
			return;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
			ctl_drop(m, c);
			return;
		}
	}
	uint32_t l = (uint32_t)len;
	bool was_empty = !queued(c);
	strbuf_add(&c->queue, &l, sizeof(l));
	strbuf_add(&c->queue, buf, len);
	if (was_empty)
		c->stalled_since = mono_ns();
	set_behind(m, c, queued(c) > CLIENT_QUEUE_MARK);
	if (was_empty)
		ctl_client_rewatch(m, c);
}

bool ctl_pending(const struct monitor *m)
{
	for (const struct mon_client *c = m->clients; c; c = c->next)
		if (!c->dead && queued(c))
			return true;
	return false;
}

bool ctl_check_stalled(struct monitor *m)
{
	int64_t now = mono_ns();
	bool pending = false;

	for (struct mon_client *c = m->clients; c; c = c->next) {
		if (c->dead || !queued(c))
			continue;
		if (now - c->stalled_since > CLIENT_STALL_NS)
			ctl_drop(m, c); /* stuck: the container must not wait for it any longer */
		else
			pending = true;
	}
	return pending;
}

static void send_msg(struct monitor *m, struct mon_client *c, const struct mon_msg *msg)
{
	struct skiff_err *err = NULL;
	char buf[SMALL_PKT];
	size_t len;

	if (mon_msg_encode(msg, buf, sizeof(buf), &len, &err) < 0) {
		err_clear(&err);
		ctl_drop(m, c);
		return;
	}
	send_raw(m, c, buf, len);
}

static void reply_text(struct monitor *m, struct mon_client *c, int code, const char *text)
{
	size_t n = strlen(text);
	struct mon_msg msg = {.type = MON_PKT_REPLY, .code = code, .data = text};

	msg.len = n > SMALL_PKT - 8 ? SMALL_PKT - 8 : n;
	send_msg(m, c, &msg);
}

void ctl_reply_text(struct monitor *m, struct mon_client *c, int code, const char *text)
{
	reply_text(m, c, code, text);
}

static void reply_err(struct monitor *m, struct mon_client *c, struct skiff_err *e)
{
	reply_text(m, c, e->status ? e->status : EIO, e->msg);
	err_free(e);
}

static void __attribute__((format(printf, 4, 5)))
reply(struct monitor *m, struct mon_client *c, int code, const char *fmt, ...)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	reply_text(m, c, code, sb.buf);
}

void ctl_accept(struct monitor *m)
{
	for (;;) {
		cleanup_strbuf struct strbuf st = STRBUF_INIT;
		struct skiff_err *err = NULL;
		struct mon_client *c;
		struct mon_msg msg = {.type = MON_PKT_VERSION, .version = MON_PROTO_VERSION};
		int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN; or EMFILE and the like: the client waits, or gives up */
		}
		c = xzalloc(sizeof(*c));
		c->src.kind = SRC_CLIENT;
		strbuf_init(&c->queue, 0);
		c->fd = fd;
		if (mon_watch(m, fd, EPOLLIN, &c->src, &err) < 0) {
			err_clear(&err);
			close(fd);
			free(c);
			continue;
		}
		c->next = m->clients;
		m->clients = c;
		mon_status_text(m, &st);
		msg.data = st.buf;
		msg.len = st.len;
		send_msg(m, c, &msg);
	}
}

static void handle(struct monitor *m, struct mon_client *c, const struct mon_msg *msg)
{
	struct skiff_err *err = NULL;

	switch (msg->type) {
	case MON_PKT_ATTACH:
		if (msg->flags & ~MON_ATTACH_KNOWN) {
			reply(m, c, EINVAL, "attach: unknown flags 0x%02x", msg->flags);
			return;
		}
		c->attach = msg->flags & ~MON_ATTACH_NORESTART;
		if (msg->flags & MON_ATTACH_NORESTART)
			m->stopped_by_user = true;
		reply(m, c, 0, "%s", "");
		return;
	case MON_PKT_STDIN:
		ctr_stdin_write(m, c, msg->data, msg->len);
		return;
	case MON_PKT_STDIN_CLOSE:
		ctr_stdin_close(m);
		return;
	case MON_PKT_RESIZE:
		if (ctr_resize(m, msg->rows, msg->cols, &err) < 0)
			err_clear(&err); /* no reply: resizes come in the middle of attached output */
		return;
	case MON_PKT_START:
		if (mon_do_start(m, &err) < 0) {
			reply_err(m, c, err);
			return;
		}
		break;
	case MON_PKT_STOP:
		if (mon_do_stop(m, msg->timeout, msg->signal, &err) < 0) {
			reply_err(m, c, err);
			return;
		}
		break;
	case MON_PKT_KILL:
		if (mon_do_kill(m, msg->signal, &err) < 0) {
			reply_err(m, c, err);
			return;
		}
		break;
	case MON_PKT_STATUS: {
		cleanup_strbuf struct strbuf st = STRBUF_INIT;
		mon_status_text(m, &st);
		reply_text(m, c, 0, st.buf);
		return;
	}
	case MON_PKT_HEALTHCHECK:
		mon_health_request(m, c); /* the REPLY comes when the check ends */
		return;
	case MON_PKT_LOG_REOPEN:
		if (mon_log_reopen(&m->log, &err) < 0) {
			reply_err(m, c, err);
			return;
		}
		break;
	default:
		reply(m, c, EPROTO, "unknown request type 0x%02x", msg->type);
		return;
	}
	reply(m, c, 0, "%s", "");
}

void ctl_client_event(struct monitor *m, struct mon_client *c, uint32_t events)
{
	struct skiff_err *err = NULL;
	struct mon_msg msg;
	ssize_t n;

	if (c->dead)
		return;
	if (events & EPOLLOUT) {
		flush_queue(m, c);
		if (c->dead)
			return;
	}
	if (c->paused || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		/* not reading: only a hang-up or error gets here */
		if (events & (EPOLLHUP | EPOLLERR))
			ctl_drop(m, c);
		return;
	}
	do
		n = recv(c->fd, m->pkt->buf, MON_PKT_MAX, MSG_DONTWAIT | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		ctl_drop(m, c);
		return;
	}
	if (n > MON_PKT_MAX) {
		reply(m, c, EMSGSIZE, "packet of %zd bytes is too large (at most %d)", n, MON_PKT_MAX);
		return;
	}
	if (mon_msg_decode(m->pkt->buf, (size_t)n, &msg, &err) < 0) {
		reply_err(m, c, err);
		return;
	}
	handle(m, c, &msg);
}

void ctl_broadcast(struct monitor *m, uint8_t attach_flag, const char *buf, size_t len)
{
	for (struct mon_client *c = m->clients; c; c = c->next)
		if (!c->dead && (c->attach & attach_flag))
			send_raw(m, c, buf, len);
}

void ctl_send_exit(struct monitor *m, int code, int sig)
{
	struct mon_msg msg = {.type = MON_PKT_EXIT, .code = code, .exit_signal = sig};

	for (struct mon_client *c = m->clients; c; c = c->next) {
		if (c->dead)
			continue;
		send_msg(m, c, &msg);
		if ((c->attach & MON_ATTACH_CLEANUP) && !c->dead)
			m->cleanup_claimed = true; /* the client cleans up: no exit command */
		/* the attach session ends with the container, once its output is all out */
		if (c->attach && queued(c))
			c->close_after_flush = true;
		else if (c->attach)
			ctl_drop(m, c);
	}
}

void ctl_unpause_all(struct monitor *m)
{
	for (struct mon_client *c = m->clients; c; c = c->next) {
		if (!c->dead && c->paused) {
			c->paused = false;
			ctl_client_rewatch(m, c);
		}
	}
}

void ctl_free_dead(struct monitor *m)
{
	struct mon_client **pp = &m->clients;

	while (*pp) {
		struct mon_client *c = *pp;
		if (c->dead) {
			*pp = c->next;
			free(c);
		} else {
			pp = &c->next;
		}
	}
}

void ctl_close_all(struct monitor *m)
{
	for (struct mon_client *c = m->clients; c; c = c->next)
		ctl_drop(m, c);
	ctl_free_dead(m);
	if (m->listen_fd >= 0) {
		mon_unwatch(m, m->listen_fd);
		close(m->listen_fd);
		m->listen_fd = -1;
		(void)unlinkat(m->dirfd, CTL_SOCKET, 0);
	}
}
