/* Attaching a terminal or pipes to a container through its monitor. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "pkg/engine/container.h"
#include "pkg/monitor/client.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

int ctr_parse_detach_keys(const char *s, char *ret, size_t *ret_len, struct skiff_err **err)
{
	size_t n = 0;
	if (!s || !*s) {
		*ret_len = 0;
		return 0;
	}
	struct strv keys = STRV_INIT;
	strv_split(&keys, s, ',');
	int rc = 0;
	for (size_t i = 0; i < keys.len && rc == 0; i++) {
		const char *k = keys.v[i];
		if (n >= 16) {
			rc = err_makex(err, EINVAL, "detach keys \"%s\": too many keys", s);
		} else if (strlen(k) == 1) {
			ret[n++] = k[0];
		} else if (!strncmp(k, "ctrl-", 5) && strlen(k) == 6) {
			char ch = k[5];
			if (ch >= 'a' && ch <= 'z')
				ret[n++] = (char)(ch - 'a' + 1);
			else if (ch == '@')
				ret[n++] = 0;
			else if (ch == '[')
				ret[n++] = 27;
			else if (ch == '\\')
				ret[n++] = 28;
			else if (ch == ']')
				ret[n++] = 29;
			else if (ch == '^')
				ret[n++] = 30;
			else if (ch == '_')
				ret[n++] = 31;
			else
				rc = err_makex(err, EINVAL, "invalid detach key \"%s\"", k);
		} else {
			rc = err_makex(err, EINVAL, "invalid detach key \"%s\"", k);
		}
	}
	strv_release(&keys);
	if (rc == 0)
		*ret_len = n;
	return rc;
}

static void resize(int ctl, int fd)
{
	struct winsize ws;
	struct skiff_err *e = NULL;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		mon_resize(ctl, ws.ws_row, ws.ws_col, &e);
	err_free(e);
}

/* Connect to the monitor in dir (a container's, or an exec session's). */
static int connect_dir(const char *dir, struct ctr *c, int *ret_fd, struct skiff_err **err)
{
	char *state = NULL;
	int rc = mon_connect(dir, ret_fd, &state, err);
	free(state);
	if (rc < 0)
		return err_wrap(err, "container %s: monitor", c->row.name);
	return 0;
}

static void proxy_signal(const char *dir, struct ctr *c, int sig)
{
	int fd = -1;
	struct skiff_err *er = NULL;
	if (connect_dir(dir, c, &fd, &er) == 0) {
		mon_kill(fd, sig, &er);
		close(fd);
	}
	err_free(er);
}

int ctr_attach(struct engine *e, struct ctr *c, const struct ctr_attach_opts *o, bool start, int *ret_code,
	       struct skiff_err **err)
{
	cleanup_free char *dir = ctr_rundir(e, c->row.id);
	if (!start)
		ctr_event(e, c, "attach");
	return ctr_attach_dir(e, c, dir, false, o, start, ret_code, err);
}

int ctr_attach_dir(struct engine *e, struct ctr *c, const char *dir, bool exec, const struct ctr_attach_opts *o,
		   bool start, int *ret_code, struct skiff_err **err)
{
	char keys[16];
	size_t nkeys = 0, matched = 0;
	if (ctr_parse_detach_keys(o->detach_keys ? o->detach_keys : "ctrl-p,ctrl-q", keys, &nkeys, err) < 0)
		return -1;
	int ctl = -1;
	if (connect_dir(dir, c, &ctl, err) < 0)
		return -1;
	int rc = -1;
	struct termios saved;
	bool raw = false;
	sigset_t mask, oldmask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	if (o->sig_proxy) {
		int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			sigaddset(&mask, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	struct mon_packet *p = xmalloc(sizeof(*p));
	bool in_open = o->in;

	unsigned flags = (o->in ? MON_ATTACH_STDIN : 0) | (o->out ? MON_ATTACH_STDOUT : 0) |
			 (o->err ? MON_ATTACH_STDERR : 0) | (o->cleanup ? MON_ATTACH_CLEANUP : 0);
	if (mon_attach_flags(ctl, flags, err) < 0)
		goto out;
	if (o->tty && o->in && isatty(o->in_fd) && tcgetattr(o->in_fd, &saved) == 0) {
		struct termios t = saved;
		/* wholly raw, output too: the container's pty has done the output processing
		 * (\n to \r\n) already, and doing it twice gives \r\r\n */
		cfmakeraw(&t);
		if (tcsetattr(o->in_fd, TCSADRAIN, &t) == 0)
			raw = true;
	}
	if (o->tty)
		resize(ctl, isatty(o->out_fd) ? o->out_fd : o->in_fd);
	if (start) {
		int sfd2 = -1;
		if (connect_dir(dir, c, &sfd2, err) < 0)
			goto out;
		int r = mon_start(sfd2, err);
		close(sfd2);
		if (r < 0 || (!exec && ctr_mark_started(e, c, err) < 0))
			goto out;
		/* an exec session's pty is made by START */
		if (o->tty && exec)
			resize(ctl, isatty(o->out_fd) ? o->out_fd : o->in_fd);
	}
	int code = -1;
	for (;;) {
		struct pollfd pf[3] = {{.fd = ctl, .events = POLLIN},
				       {.fd = sfd, .events = POLLIN},
				       {.fd = in_open ? o->in_fd : -1, .events = POLLIN}};
		int n = poll(pf, 3, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_make(err, errno, "attach: poll");
			goto out;
		}
		if (pf[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if ((int)si.ssi_signo == SIGWINCH) {
					if (o->tty)
						resize(ctl, isatty(o->out_fd) ? o->out_fd : o->in_fd);
				} else {
					proxy_signal(dir, c, (int)si.ssi_signo);
				}
			}
		}
		if (pf[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			char buf[8192];
			ssize_t r = read(o->in_fd, buf, sizeof(buf));
			if (r <= 0) {
				in_open = false;
				mon_close_stdin(ctl, err);
				err_clear(err);
			} else {
				size_t keep = (size_t)r;
				if (o->tty && nkeys) {
					for (ssize_t i = 0; i < r; i++) {
						if (buf[i] == keys[matched]) {
							if (++matched == nkeys) {
								rc = 1; /* detached */
								goto out;
							}
						} else {
							matched = buf[i] == keys[0] ? 1 : 0;
						}
					}
				}
				if (mon_send_stdin(ctl, buf, keep, err) < 0) {
					/* the container is gone and the monitor has hung up: its
					 * exit packet may still be ahead of the hang-up */
					if (err_status(*err) != EPIPE && err_status(*err) != ECONNRESET)
						goto out;
					err_clear(err);
					in_open = false;
				}
			}
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			int r = mon_recv(ctl, p, err);
			if (r < 0)
				goto out;
			if (r == 0)
				break; /* the monitor closed: the exit record says the rest */
			switch (p->msg.type) {
			case MON_PKT_STDOUT:
				write_all(o->out_fd, p->msg.data, p->msg.len);
				break;
			case MON_PKT_STDERR:
				write_all(o->err_fd, p->msg.data, p->msg.len);
				break;
			case MON_PKT_EXIT:
				code = p->msg.code;
				goto done;
			default:
				break;
			}
		}
	}
done:
	/* The monitor closed without an EXIT: the process ended (its record says how), or this
	 * client fell behind its output for too long and was dropped. */
	if (code < 0 && exec) {
		struct mon_exit ex;
		if (mon_read_exit(dir, &ex, err) < 0) {
			err_clear(err);
			err_makex(err, EIO,
				  "the exec session's monitor dropped this client (it read no output for "
				  "seconds); the process goes on");
			goto out;
		}
		code = ex.exit_code;
	} else if (code < 0) {
		if (ctr_refresh(e, c, err) < 0)
			goto out;
		if (!strcmp(ctr_state_name(c), "running")) {
			err_makex(err, EIO,
				  "container %s: the monitor dropped this client (it read no output for "
				  "seconds); the container goes on",
				  c->row.name);
			goto out;
		}
		code = c->row.exit_code;
	}
	*ret_code = code;
	rc = 0;
out:
	if (raw)
		tcsetattr(o->in_fd, TCSADRAIN, &saved);
	free(p);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	close(ctl);
	return rc;
}
