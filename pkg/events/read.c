/* Reading the events log: filters, the rotated file then the current one, follow mode. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/events/events.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

/* ---------------- filters ---------------- */

enum fkey { F_CONTAINER, F_IMAGE, F_POD, F_VOLUME, F_EVENT, F_TYPE, F_LABEL, F_NKEYS };

static const char *const fkey_names[F_NKEYS] = {"container", "image", "pod", "volume", "event", "type", "label"};

struct events_filter {
	struct strv vals[F_NKEYS]; /* alternatives per key; a key with none is not used */
	int64_t since_ns, until_ns;
};

void events_filter_free(struct events_filter *f)
{
	if (!f)
		return;
	for (int k = 0; k < F_NKEYS; k++)
		strv_release(&f->vals[k]);
	free(f);
}

int events_filter_new(const struct strv *filters, int64_t since_ns, int64_t until_ns, struct events_filter **ret,
		      struct skiff_err **err)
{
	struct events_filter *f = xzalloc(sizeof(*f));
	f->since_ns = since_ns;
	f->until_ns = until_ns;
	for (size_t i = 0; filters && i < filters->len; i++) {
		const char *s = filters->v[i];
		const char *eq = strchr(s, '=');
		if (!eq) {
			events_filter_free(f);
			return err_makex(err, EINVAL, "%s is an invalid filter", s);
		}
		size_t kl = (size_t)(eq - s);
		int key = -1;
		for (int k = 0; k < F_NKEYS; k++)
			if (strlen(fkey_names[k]) == kl && !strncasecmp(s, fkey_names[k], kl))
				key = k;
		if (kl == 6 && !strncasecmp(s, "status", 6))
			key = F_EVENT;
		if (key < 0) {
			events_filter_free(f);
			return err_makex(err, EINVAL, "%.*s is an invalid filter", (int)kl, s);
		}
		const char *v = eq + 1;
		if (key == F_EVENT && !strcmp(v, "die"))
			v = "died"; /* docker's word */
		strv_push(&f->vals[key], v);
	}
	*ret = f;
	return 0;
}

static bool match_one(enum fkey k, const char *v, const struct event *ev)
{
	switch (k) {
	case F_CONTAINER:
	case F_IMAGE:
	case F_POD: {
		static const char *const types[] = {[F_CONTAINER] = "container", [F_IMAGE] = "image", [F_POD] = "pod"};
		if (strcmp(ev->type, types[k]))
			return false;
		return !strcmp(ev->name, v) || !strncmp(ev->id, v, strlen(v));
	}
	case F_VOLUME:
		return !strcmp(ev->type, "volume") && !strncmp(ev->name, v, strlen(v));
	case F_EVENT:
		return !strcmp(ev->status, v);
	case F_TYPE:
		return !strcmp(ev->type, v);
	case F_LABEL: {
		const char *eq = strchr(v, '=');
		size_t kl = eq ? (size_t)(eq - v) : strlen(v);
		for (size_t i = 0; i < ev->nattrs; i++)
			if (strlen(ev->attrs[i].key) == kl && !strncmp(ev->attrs[i].key, v, kl) &&
			    (!eq || !strcmp(ev->attrs[i].value, eq + 1)))
				return true;
		return false;
	}
	case F_NKEYS:
		break;
	}
	return false;
}

bool events_filter_match(const struct events_filter *f, const struct event *ev)
{
	if (!f)
		return true;
	if (f->since_ns && !(ev->time_ns > f->since_ns))
		return false;
	if (f->until_ns && !(ev->time_ns < f->until_ns))
		return false;
	for (int k = 0; k < F_NKEYS; k++) {
		if (!f->vals[k].len)
			continue;
		bool any = false;
		for (size_t i = 0; i < f->vals[k].len && !any; i++)
			any = match_one((enum fkey)k, f->vals[k].v[i], ev);
		if (!any)
			return false;
	}
	return true;
}

/* ---------------- reading ---------------- */

struct reader {
	const struct events_read_opts *o;
	events_fn *fn;
	void *ud;
	struct strbuf partial; /* the start of a line not yet ended */
	bool skipping;	       /* inside a line over EVENTS_MAX_LINE: drop up to its newline */
	bool stop;
};

/* One complete line: parse, filter, hand over. Bad lines are skipped. */
static int one_line(struct reader *r, const char *line, size_t len, struct skiff_err **err)
{
	if (!len)
		return 0;
	struct event ev;
	struct skiff_err *e2 = NULL;
	if (event_parse(line, len, &ev, &e2) < 0) {
		err_free(e2);
		return 0;
	}
	int rc = 0;
	if (events_filter_match(r->o->filter, &ev)) {
		rc = r->fn(&ev, r->ud, err);
		if (rc > 0)
			r->stop = true;
	}
	event_release(&ev);
	return rc < 0 ? -1 : 0;
}

/* Feed bytes: complete lines are handled, the rest waits in r->partial. */
static int feed(struct reader *r, const char *buf, size_t n, struct skiff_err **err)
{
	while (n && !r->stop) {
		const char *nl = memchr(buf, '\n', n);
		size_t take = nl ? (size_t)(nl - buf) : n;
		if (r->skipping) {
			if (nl)
				r->skipping = false;
		} else if (r->partial.len + take > EVENTS_MAX_LINE) {
			strbuf_reset(&r->partial);
			r->skipping = !nl;
		} else if (nl) {
			int rc;
			if (r->partial.len) {
				strbuf_add(&r->partial, buf, take);
				rc = one_line(r, r->partial.buf, r->partial.len, err);
				strbuf_reset(&r->partial);
			} else {
				rc = one_line(r, buf, take, err);
			}
			if (rc < 0)
				return -1;
		} else {
			strbuf_add(&r->partial, buf, take);
		}
		if (!nl)
			break;
		buf += take + 1;
		n -= take + 1;
	}
	return 0;
}

/* Forget an unfinished line (the end of a file, or a line cut by a crash). */
static void drop_partial(struct reader *r)
{
	strbuf_reset(&r->partial);
	r->skipping = false;
}

/* Read fd to its current end. */
static int drain(struct reader *r, int fd, const char *what, struct skiff_err **err)
{
	char buf[65536];
	while (!r->stop) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_make(err, errno, "read %s", what);
		if (n == 0)
			return 0;
		if (feed(r, buf, (size_t)n, err) < 0)
			return -1;
	}
	return 0;
}

static int open_log(int dfd, const char *name, int *ret, struct skiff_err **err)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno != ENOENT)
		return err_make(err, errno, "open %s", name);
	*ret = fd;
	return 0;
}

static bool same_file(int fd, const struct stat *st)
{
	struct stat fst;
	return fstat(fd, &fst) == 0 && fst.st_ino == st->st_ino && fst.st_dev == st->st_dev;
}

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wait for a change in the directory, the stop fd, the until time or the poll interval.
 * Returns 1 when it is time to stop. */
static int wait_change(struct reader *r, int in)
{
	const struct events_read_opts *o = r->o;
	int timeout = o->poll_ms > 0 ? o->poll_ms : 1000;
	if (o->until_ns) {
		int64_t left = o->until_ns - wall_ns();
		if (left <= 0)
			return 1;
		if (left / 1000000 + 1 < timeout)
			timeout = (int)(left / 1000000) + 1;
	}
	struct pollfd p[2] = {{.fd = in, .events = POLLIN}, {.fd = o->stop_fd, .events = POLLIN}};
	int rc = poll(p, 2, timeout);
	if (rc > 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
		return 1;
	if (rc > 0 && (p[0].revents & POLLIN)) {
		char buf[4096];
		while (read(in, buf, sizeof(buf)) > 0) {
		}
	}
	return 0;
}

int events_read_at(const char *dir, const struct events_read_opts *o, events_fn *fn, void *ud, struct skiff_err **err)
{
	struct reader r = {.o = o, .fn = fn, .ud = ud, .partial = STRBUF_INIT};
	int rc = -1;
	cleanup_close int dfd = -1;
	cleanup_close int in = -1;
	cleanup_close int cur = -1;

	if (o->follow && mkdir_p_at(AT_FDCWD, dir, 0700, err) < 0)
		goto out;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT && !o->follow) {
			rc = 0;
			goto out;
		}
		rc = err_make(err, errno, "open %s", dir);
		goto out;
	}
	if (o->follow) {
		/* before the first read: nothing written after it is missed */
		in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (in >= 0 && inotify_add_watch(in, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM) < 0) {
			close(in);
			in = -1;
		}
	}
	/* the current file first, then the old one: a rotation in between shows as the same file */
	if (open_log(dfd, "events.log", &cur, err) < 0)
		goto out;
	if (o->from_start) {
		cleanup_close int old = -1;
		if (open_log(dfd, "events.log.1", &old, err) < 0)
			goto out;
		struct stat cst;
		if (old >= 0 && !(cur >= 0 && fstat(cur, &cst) == 0 && same_file(old, &cst))) {
			if (drain(&r, old, "events.log.1", err) < 0)
				goto out;
			drop_partial(&r);
		}
	} else if (cur >= 0 && lseek(cur, 0, SEEK_END) < 0) {
		rc = err_make(err, errno, "seek %s/events.log", dir);
		goto out;
	}
	for (;;) {
		if (r.stop)
			break;
		if (cur >= 0 && drain(&r, cur, "events.log", err) < 0)
			goto out;
		if (r.stop)
			break;
		/* rotated (or created) since we opened it: finish the old file, go on with the new */
		struct stat st;
		bool moved =
			fstatat(dfd, "events.log", &st, AT_SYMLINK_NOFOLLOW) == 0 && (cur < 0 || !same_file(cur, &st));
		if (moved) {
			if (cur >= 0) {
				if (drain(&r, cur, "events.log", err) < 0)
					goto out;
				drop_partial(&r);
				/* rotated twice since: the file in between is events.log.1, unread */
				struct stat ost;
				if (fstatat(dfd, "events.log.1", &ost, AT_SYMLINK_NOFOLLOW) == 0 &&
				    !same_file(cur, &ost)) {
					cleanup_close int mid = -1;
					if (open_log(dfd, "events.log.1", &mid, err) < 0)
						goto out;
					if (mid >= 0 && drain(&r, mid, "events.log.1", err) < 0)
						goto out;
				}
				close(cur);
				cur = -1;
			}
			drop_partial(&r);
			if (open_log(dfd, "events.log", &cur, err) < 0)
				goto out;
			continue;
		}
		if (!o->follow)
			break;
		if (wait_change(&r, in) > 0) {
			/* a last look: what was written before the stop */
			if (cur >= 0 && drain(&r, cur, "events.log", err) < 0)
				goto out;
			break;
		}
	}
	rc = 0;
out:
	strbuf_release(&r.partial);
	return rc;
}
