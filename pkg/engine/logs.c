/* Reading a container's k8s-file log: logs, with --follow, --tail, --since, --until. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/engine/container.h"
#include "pkg/monitor/client.h"
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

int ctr_logs(struct engine *e, struct ctr *c, const struct ctr_logs_opts *o, struct skiff_err **err)
{
	cleanup_free char *path = ctr_log_path(e, c->row.id);
	if (c->cfg->log_driver && !strcmp(c->cfg->log_driver, "none"))
		return err_makex(err, EINVAL, "container %s uses log driver \"none\": it has no logs", c->row.name);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		return err_make(err, errno, "open %s", path);
	struct strbuf buf = STRBUF_INIT;
	size_t used = 0;
	off_t offset = 0;
	if (fd >= 0) {
		char chunk[65536];
		ssize_t n;
		while ((n = read(fd, chunk, sizeof(chunk))) > 0)
			strbuf_add(&buf, chunk, (size_t)n);
		offset = (off_t)buf.len;
	}
	long skip = 0;
	if (o->tail >= 0) {
		long total = count_full_lines(buf.buf, buf.len);
		skip = total > o->tail ? total - o->tail : 0;
	}
	each_line(o, buf.buf, buf.len, &used, o->name, skip);
	memmove(buf.buf, buf.buf + used, buf.len - used);
	strbuf_setlen(&buf, buf.len - used);
	if (!o->follow) {
		strbuf_release(&buf);
		return 0;
	}
	/* follow until the container is no longer running, then drain */
	cleanup_close int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	cleanup_free char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	if (in >= 0)
		inotify_add_watch(in, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO);
	int rc = 0;
	for (;;) {
		bool running = false;
		if (ctr_refresh(e, c, err) < 0) {
			rc = -1;
			break;
		}
		const char *s = ctr_state_name(c);
		running = !strcmp(s, "running") || !strcmp(s, "paused") || !strcmp(s, "stopping") ||
			  (!strcmp(s, "created") && c->row.monitor_pid > 0);
		if (fd < 0)
			fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			struct stat st;
			if (fstat(fd, &st) == 0 && st.st_size < offset) {
				/* truncated (log size limit): start over */
				offset = 0;
				lseek(fd, 0, SEEK_SET);
				strbuf_reset(&buf);
			}
			char chunk[65536];
			ssize_t n;
			while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
				strbuf_add(&buf, chunk, (size_t)n);
				offset += n;
			}
			each_line(o, buf.buf, buf.len, &used, o->name, 0);
			memmove(buf.buf, buf.buf + used, buf.len - used);
			strbuf_setlen(&buf, buf.len - used);
		}
		if (!running)
			break;
		struct pollfd p = {.fd = in, .events = POLLIN};
		if (poll(&p, in >= 0 ? 1 : 0, 250) > 0) {
			char ev[4096];
			while (read(in, ev, sizeof(ev)) > 0) {
			}
		}
	}
	strbuf_release(&buf);
	return rc;
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
