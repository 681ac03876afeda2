/* Reading a container's k8s-file log: logs, with --follow, --tail, --since, --until, over
 * the files of a rotated log (--log-opt max-file) oldest first; and a journald container's
 * entries through libsystemd's sd_journal API, loaded with dlopen() when needed. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/engine/container.h"
#include "pkg/monitor/client.h"
#include "pkg/monitor/log.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

static void emit(const struct ctr_logs_opts *o, const struct mon_log_line *l, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	if (name)
		strbuf_addf(&sb, "%s ", name);
	if (o->timestamps) {
		char ts[64];
		time_t t = l->time_ns / 1000000000;
		struct tm tm;
		localtime_r(&t, &tm);
		size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(ts + n, sizeof(ts) - n, ".%09lld", (long long)(l->time_ns % 1000000000));
		n = strlen(ts);
		strftime(ts + n, sizeof(ts) - n, "%z", &tm);
		/* +0000 -> +00:00 as Go's RFC3339Nano */
		n = strlen(ts);
		if (n >= 5) {
			char tz[7] = {ts[n - 5], ts[n - 4], ts[n - 3], ':', ts[n - 2], ts[n - 1], 0};
			ts[n - 5] = 0;
			strbuf_addf(&sb, "%s%s ", ts, tz);
		}
	}
	strbuf_add(&sb, l->content, l->content_len);
	if (!l->partial)
		strbuf_addch(&sb, '\n');
	write_all(l->stream == MON_STREAM_STDERR ? o->err_fd : o->out_fd, sb.buf, sb.len);
	strbuf_release(&sb);
}

static bool in_window(const struct ctr_logs_opts *o, const struct mon_log_line *l)
{
	if (o->since_ns && l->time_ns < o->since_ns)
		return false;
	if (o->until_ns && l->time_ns > o->until_ns)
		return false;
	return true;
}

/* Lines of buf[0..len): complete ones are parsed; *used says how far. */
static void each_line(const struct ctr_logs_opts *o, const char *buf, size_t len, size_t *used, const char *name,
		      long skip_lines)
{
	size_t pos = 0;
	long idx = 0;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		if (!nl)
			break;
		size_t ll = (size_t)(nl - (buf + pos));
		struct mon_log_line l;
		struct skiff_err *e = NULL;
		if (mon_log_parse_line(buf + pos, ll, &l, &e) == 0) {
			if (idx >= skip_lines && in_window(o, &l))
				emit(o, &l, name);
			if (!l.partial)
				idx++;
		}
		err_free(e);
		pos += ll + 1;
	}
	*used = pos;
}

static long count_full_lines(const char *buf, size_t len)
{
	long n = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		if (!nl)
			break;
		size_t ll = (size_t)(nl - (buf + pos));
		struct mon_log_line l;
		struct skiff_err *e = NULL;
		if (mon_log_parse_line(buf + pos, ll, &l, &e) == 0 && !l.partial)
			n++;
		err_free(e);
		pos += ll + 1;
	}
	return n;
}

/* The log file being followed: the newest one, read up to offset. */
struct cur_file {
	int fd;
	dev_t dev;
	ino_t ino;
	off_t offset;
};

/* Append what is left of fd to buf; *offset moves on. */
static int read_rest(int fd, const char *path, struct strbuf *buf, off_t *offset, struct skiff_err **err)
{
	char chunk[65536];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_make(err, errno, "read log %s", path);
		}
		strbuf_add(buf, chunk, (size_t)n);
		*offset += n;
	}
	return 0;
}

/* A record never spans two files: a file that ended without a newline (a monitor killed
 * mid-write) must not join its last line to the next file's first. */
static void end_file(struct strbuf *buf)
{
	if (buf->len && buf->buf[buf->len - 1] != '\n')
		strbuf_addch(buf, '\n');
}

/* Read files from..n-1 of the set at path onto buf; the newest becomes *cur (its old fd
 * closed). from == n (nothing newer) leaves *cur alone. */
static int read_files(const char *path, struct mon_log_files *set, size_t from, struct strbuf *buf,
		      struct cur_file *cur, struct skiff_err **err)
{
	for (size_t i = from; i < set->n; i++) {
		off_t off = 0;
		if (read_rest(set->v[i].fd, path, buf, &off, err) < 0)
			return -1;
		if (i + 1 < set->n) {
			end_file(buf);
			continue;
		}
		if (cur->fd >= 0)
			close(cur->fd);
		*cur = (struct cur_file){.fd = set->v[i].fd, .dev = set->v[i].dev, .ino = set->v[i].ino, .offset = off};
		set->v[i].fd = -1;
	}
	return 0;
}

/* After cur was rotated away (path names another file now): what it still holds, then the
 * files after it, oldest first (all of them if it was dropped meanwhile). */
static int follow_rotation(const char *path, unsigned max_file, struct strbuf *buf, struct cur_file *cur,
			   struct skiff_err **err)
{
	struct mon_log_files set = {0};
	ssize_t k;
	int r;

	if (read_rest(cur->fd, path, buf, &cur->offset, err) < 0)
		return -1;
	if (mon_log_files_open(path, max_file, &set, err) < 0)
		return -1;
	k = mon_log_files_find(&set, cur->dev, cur->ino);
	if ((size_t)(k + 1) < set.n)
		end_file(buf);
	r = read_files(path, &set, (size_t)(k + 1), buf, cur, err);
	mon_log_files_close(&set);
	return r;
}

/* Has the file at path changed from cur (a rotation, or an outside log-reopen)? A missing
 * path is a rotation under way (or the container going): wait. */
static bool rotated(const char *path, const struct cur_file *cur)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return false;
	return st.st_dev != cur->dev || st.st_ino != cur->ino;
}

/* Emit the complete lines of buf (skipping the first skip), keep the rest. */
static void drain(const struct ctr_logs_opts *o, struct strbuf *buf, long skip)
{
	size_t used = 0;

	each_line(o, buf->buf, buf->len, &used, o->name, skip);
	memmove(buf->buf, buf->buf + used, buf->len - used);
	strbuf_setlen(buf, buf->len - used);
}

/* ---- the journald driver ---- */

typedef struct sd_journal sd_journal;

struct sdj_api {
	void *dl;
	int (*open)(sd_journal **ret, int flags);
	void (*close)(sd_journal *j);
	int (*add_match)(sd_journal *j, const void *data, size_t size);
	int (*seek_head)(sd_journal *j);
	int (*next)(sd_journal *j);
	int (*get_data)(sd_journal *j, const char *field, const void **data, size_t *len);
	int (*get_realtime_usec)(sd_journal *j, uint64_t *ret);
	int (*wait)(sd_journal *j, uint64_t timeout_usec);
};

#define SD_JOURNAL_LOCAL_ONLY 1

static int sdj_load(struct sdj_api *api, struct skiff_err **err)
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
		{"sd_journal_open", offsetof(struct sdj_api, open)},
		{"sd_journal_close", offsetof(struct sdj_api, close)},
		{"sd_journal_add_match", offsetof(struct sdj_api, add_match)},
		{"sd_journal_seek_head", offsetof(struct sdj_api, seek_head)},
		{"sd_journal_next", offsetof(struct sdj_api, next)},
		{"sd_journal_get_data", offsetof(struct sdj_api, get_data)},
		{"sd_journal_get_realtime_usec", offsetof(struct sdj_api, get_realtime_usec)},
		{"sd_journal_wait", offsetof(struct sdj_api, wait)},
	};

	memset(api, 0, sizeof(*api));
	api->dl = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!api->dl)
		return err_makex(err, ENOENT,
				 "log driver journald: cannot read the journal without libsystemd.so.0 (install the "
				 "libsystemd0 package): %s",
				 dlerror());
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(api->dl, syms[i].name);
		if (!p) {
			int rc = err_makex(err, ENOSYS, "libsystemd.so.0 has no %s", syms[i].name);
			dlclose(api->dl);
			api->dl = NULL;
			return rc;
		}
		memcpy((char *)api + syms[i].off, &p, sizeof(p));
	}
	return 0;
}

/* The value of field in the current entry (without "FIELD="), or false. */
static bool sdj_field(const struct sdj_api *api, sd_journal *j, const char *field, const char **ret, size_t *ret_len)
{
	const void *d;
	size_t len, fl = strlen(field);

	if (api->get_data(j, field, &d, &len) < 0 || len <= fl || memcmp(d, field, fl) || ((const char *)d)[fl] != '=')
		return false;
	*ret = (const char *)d + fl + 1;
	*ret_len = len - fl - 1;
	return true;
}

/* The current entry as a log line: false for an entry without MESSAGE. */
static bool sdj_line(const struct sdj_api *api, sd_journal *j, struct mon_log_line *ret)
{
	struct mon_log_line l = {.stream = MON_STREAM_STDOUT};
	const char *v;
	size_t vl;
	uint64_t usec = 0;

	if (!sdj_field(api, j, "MESSAGE", &l.content, &l.content_len)) {
		/* an empty MESSAGE= is an empty line */
		const void *d;
		size_t len;
		if (api->get_data(j, "MESSAGE", &d, &len) < 0 || len != 8)
			return false;
		l.content = "";
		l.content_len = 0;
	}
	if (sdj_field(api, j, "PRIORITY", &v, &vl) && vl == 1 && *v == '3')
		l.stream = MON_STREAM_STDERR;
	l.partial = sdj_field(api, j, "CONTAINER_PARTIAL_MESSAGE", &v, &vl) && vl == 4 && !memcmp(v, "true", 4);
	if (api->get_realtime_usec(j, &usec) >= 0)
		l.time_ns = (int64_t)usec * 1000;
	*ret = l;
	return true;
}

/* Emit the entries from the current position on; skip the first skip full lines. */
static int sdj_drain(const struct sdj_api *api, sd_journal *j, const struct ctr_logs_opts *o, long *skip,
		     struct skiff_err **err)
{
	int r;

	while ((r = api->next(j)) > 0) {
		struct mon_log_line l;
		if (!sdj_line(api, j, &l))
			continue;
		if (*skip > 0) {
			if (!l.partial)
				(*skip)--;
			continue;
		}
		if (in_window(o, &l))
			emit(o, &l, o->name);
	}
	if (r < 0)
		return err_make(err, -r, "read the journal");
	return 0;
}

static int logs_journald(struct engine *e, struct ctr *c, const struct ctr_logs_opts *o, struct skiff_err **err)
{
	cleanup_free char *match = xasprintf("CONTAINER_ID_FULL=%s", c->row.id);
	struct sdj_api api;
	sd_journal *j = NULL;
	int r, rc = -1;
	long skip = 0;

	if (sdj_load(&api, err) < 0)
		return -1;
	r = api.open(&j, SD_JOURNAL_LOCAL_ONLY);
	if (r < 0) {
		err_make(err, -r, "open the journal");
		goto out;
	}
	r = api.add_match(j, match, strlen(match));
	if (r >= 0)
		r = api.seek_head(j);
	if (r < 0) {
		err_make(err, -r, "journal: match %s", match);
		goto out;
	}
	if (o->tail >= 0) {
		/* count the full lines first: --tail counts lines, not entries */
		long total = 0;
		while ((r = api.next(j)) > 0) {
			struct mon_log_line l;
			if (sdj_line(&api, j, &l) && !l.partial)
				total++;
		}
		if (r < 0 || (r = api.seek_head(j)) < 0) {
			err_make(err, -r, "read the journal");
			goto out;
		}
		skip = total > o->tail ? total - o->tail : 0;
	}
	if (sdj_drain(&api, j, o, &skip, err) < 0)
		goto out;
	while (o->follow) {
		if (ctr_refresh(e, c, err) < 0)
			goto out;
		const char *s = ctr_state_name(c);
		bool running = !strcmp(s, "running") || !strcmp(s, "paused") || !strcmp(s, "stopping") ||
			       (!strcmp(s, "created") && c->row.monitor_pid > 0);
		r = api.wait(j, 250000);
		if (r < 0) {
			err_make(err, -r, "wait for the journal");
			goto out;
		}
		if (sdj_drain(&api, j, o, &skip, err) < 0)
			goto out;
		if (!running)
			break;
	}
	rc = 0;
out:
	if (j)
		api.close(j);
	/* libsystemd stays loaded: it keeps state (mempools, atfork handlers) past close */
	return rc;
}

int ctr_logs(struct engine *e, struct ctr *c, const struct ctr_logs_opts *o, struct skiff_err **err)
{
	cleanup_free char *path = ctr_log_path(e, c->row.id);
	unsigned max_file = c->cfg->log_max_file;
	struct mon_log_files set = {0};
	struct cur_file cur = {.fd = -1};
	cleanup_strbuf struct strbuf buf = STRBUF_INIT;
	cleanup_close int in = -1;
	int rc = 0;

	if (c->cfg->log_driver && !strcmp(c->cfg->log_driver, "none"))
		return err_makex(err, EINVAL, "container %s uses log driver \"none\": it has no logs", c->row.name);
	if (c->cfg->log_driver && !strcmp(c->cfg->log_driver, "journald")) {
		if (logs_journald(e, c, o, err) < 0)
			return err_wrap(err, "logs of container %s", c->row.name);
		return 0;
	}
	/* every file of a rotated log, oldest first */
	if (mon_log_files_open(path, max_file, &set, err) < 0)
		return err_wrap(err, "logs of container %s", c->row.name);
	rc = read_files(path, &set, 0, &buf, &cur, err);
	mon_log_files_close(&set);
	if (rc < 0)
		goto out;
	long skip = 0;
	if (o->tail >= 0) {
		long total = count_full_lines(buf.buf, buf.len);
		skip = total > o->tail ? total - o->tail : 0;
	}
	drain(o, &buf, skip);
	if (!o->follow)
		goto out;
	/* follow until the container is no longer running, then drain */
	in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (in >= 0) {
		cleanup_free char *dir = xstrdup(path);
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = 0;
		(void)inotify_add_watch(in, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO); /* else: poll */
	}
	for (;;) {
		if (ctr_refresh(e, c, err) < 0) {
			rc = -1;
			break;
		}
		const char *s = ctr_state_name(c);
		bool running = !strcmp(s, "running") || !strcmp(s, "paused") || !strcmp(s, "stopping") ||
			       (!strcmp(s, "created") && c->row.monitor_pid > 0);
		if (cur.fd < 0) {
			/* no log yet when we started */
			rc = mon_log_files_open(path, max_file, &set, err);
			if (rc == 0)
				rc = read_files(path, &set, 0, &buf, &cur, err);
			mon_log_files_close(&set);
		} else {
			struct stat st;
			if (fstat(cur.fd, &st) == 0 && st.st_size < cur.offset) {
				/* truncated (log size limit): start over */
				cur.offset = 0;
				if (lseek(cur.fd, 0, SEEK_SET) < 0) {
					rc = err_make(err, errno, "seek log %s", path);
					break;
				}
				strbuf_reset(&buf);
			}
			rc = read_rest(cur.fd, path, &buf, &cur.offset, err);
			if (rc == 0 && rotated(path, &cur))
				rc = follow_rotation(path, max_file, &buf, &cur, err);
		}
		if (rc < 0)
			break;
		drain(o, &buf, 0);
		if (!running)
			break;
		struct pollfd p = {.fd = in, .events = POLLIN};
		if (poll(&p, in >= 0 ? 1 : 0, 250) > 0) {
			char ev[4096];
			while (read(in, ev, sizeof(ev)) > 0) {
			}
		}
	}
out:
	if (cur.fd >= 0)
		close(cur.fd);
	if (rc < 0)
		return err_wrap(err, "logs of container %s", c->row.name);
	return 0;
}

/* "2026-11-22T17:00:00Z", "2026-11-22T17:00:00.5+01:00", "2026-11-22", unix seconds
 * ("1700000000[.5]"), or a duration before now ("10m", "1h30m", "45s"). */
int ctr_parse_log_time(const char *s, int64_t *ret, struct skiff_err **err)
{
	if (!s || !*s)
		return err_makex(err, EINVAL, "invalid time \"\"");
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	/* a duration */
	const char *p = s;
	int64_t total = 0;
	bool dur = true;
	while (*p && dur) {
		char *end;
		double v = strtod(p, &end);
		if (end == p) {
			dur = false;
			break;
		}
		int64_t unit;
		if (!strncmp(end, "ms", 2)) {
			unit = 1000000;
			end += 2;
		} else if (*end == 'h') {
			unit = 3600LL * 1000000000;
			end++;
		} else if (*end == 'm') {
			unit = 60LL * 1000000000;
			end++;
		} else if (*end == 's') {
			unit = 1000000000;
			end++;
		} else {
			dur = false;
			break;
		}
		total += (int64_t)(v * (double)unit);
		p = end;
	}
	if (dur && !*p) {
		*ret = now_ns - total;
		return 0;
	}
	/* unix seconds */
	char *end;
	double secs = strtod(s, &end);
	if (*end == 0 && end != s) {
		*ret = (int64_t)(secs * 1e9);
		return 0;
	}
	/* RFC 3339 and its shorter forms */
	struct tm tm = {0};
	const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest) {
		memset(&tm, 0, sizeof(tm));
		rest = strptime(s, "%Y-%m-%d", &tm);
	}
	if (!rest)
		return err_makex(err, EINVAL, "invalid time \"%s\": want RFC 3339, a unix timestamp or a duration", s);
	int64_t frac = 0;
	if (*rest == '.') {
		int64_t scale = 100000000;
		for (rest++; *rest >= '0' && *rest <= '9'; rest++) {
			frac += (*rest - '0') * scale;
			scale /= 10;
		}
	}
	int64_t off = 0;
	bool utc = false;
	if (*rest == 'Z') {
		utc = true;
		rest++;
	} else if (*rest == '+' || *rest == '-') {
		int hh, mm;
		if (sscanf(rest + 1, "%2d:%2d", &hh, &mm) != 2)
			return err_makex(err, EINVAL, "invalid time \"%s\": bad zone", s);
		off = (hh * 3600 + mm * 60) * (*rest == '-' ? -1 : 1);
		utc = true;
		rest += 6;
	}
	if (*rest)
		return err_makex(err, EINVAL, "invalid time \"%s\"", s);
	time_t t;
	if (utc) {
		t = timegm(&tm) - off;
	} else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	*ret = (int64_t)t * 1000000000 + frac;
	return 0;
}
