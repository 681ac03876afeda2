/* The k8s-file log: writer (log.h) and line parser (client.h). */
#include "pkg/monitor/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

/* Write out what is formatted once the buffer holds this much. */
#define LOG_FLUSH_AT 16384

static const char *stream_name(enum mon_stream s)
{
	return s == MON_STREAM_STDERR ? "stderr" : "stdout";
}

void mon_log_format_time(struct strbuf *out, int64_t time_ns, long gmtoff)
{
	int64_t secs = time_ns / 1000000000, ns = time_ns % 1000000000;
	long off = gmtoff < 0 ? -gmtoff : gmtoff;
	struct tm tm;
	time_t t;

	if (ns < 0) {
		ns += 1000000000;
		secs--;
	}
	t = (time_t)(secs + gmtoff);
	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	strbuf_addf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%09ld%c%02ld:%02ld", tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)ns, gmtoff < 0 ? '-' : '+', off / 3600,
		    off % 3600 / 60);
}

/* One record: TIME STREAM F|P CONTENT\n */
static void format_record(struct strbuf *out, const char *ts, size_t ts_len, enum mon_stream stream, bool partial,
			  const char *data, size_t len)
{
	strbuf_add(out, ts, ts_len);
	strbuf_addch(out, ' ');
	strbuf_addstr(out, stream_name(stream));
	strbuf_addstr(out, partial ? " P " : " F ");
	strbuf_add(out, data, len);
	strbuf_addch(out, '\n');
}

/* Calls fn for each record of a chunk: lines ended by '\n' are full, a tail is partial. */
static int for_each_record(const char *data, size_t len, int (*fn)(void *, bool, const char *, size_t), void *ctx)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;

		if (fn(ctx, !nl, data + pos, n) < 0)
			return -1;
		pos += n + (nl ? 1 : 0);
	}
	return 0;
}

struct fmt_ctx {
	struct strbuf *out;
	struct strbuf ts;
	enum mon_stream stream;
	struct mon_log *log; /* writing: flush when the buffer is full */
	struct skiff_err **err;
};

static int log_flush(struct mon_log *l, struct skiff_err **err)
{
	if (!l->buf.len)
		return 0;
	if (l->size_max > 0 && l->size + (int64_t)l->buf.len > l->size_max && l->size > 0) {
		if (ftruncate(l->fd, 0) < 0)
			return err_make(err, errno, "truncate log %s", l->path);
		l->size = 0;
	}
	if (write_all(l->fd, l->buf.buf, l->buf.len) < 0) {
		int saved = errno;
		strbuf_reset(&l->buf);
		return err_make(err, saved, "write log %s", l->path);
	}
	l->size += (int64_t)l->buf.len;
	strbuf_reset(&l->buf);
	return 0;
}

static int add_record(void *p, bool partial, const char *data, size_t len)
{
	struct fmt_ctx *c = p;

	format_record(c->out, c->ts.buf, c->ts.len, c->stream, partial, data, len);
	/* With a size limit every record is checked against it on its own. */
	if (c->log && (c->out->len >= LOG_FLUSH_AT || c->log->size_max > 0))
		return log_flush(c->log, c->err);
	return 0;
}

void mon_log_format(struct strbuf *out, int64_t time_ns, long gmtoff, enum mon_stream stream, const char *data,
		    size_t len)
{
	struct fmt_ctx c = {.out = out, .ts = STRBUF_INIT, .stream = stream};

	mon_log_format_time(&c.ts, time_ns, gmtoff);
	(void)for_each_record(data, len, add_record, &c);
	strbuf_release(&c.ts);
}

static void now_local(int64_t *ret_ns, long *ret_gmtoff)
{
	struct timespec ts;
	struct tm tm;
	time_t t;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = ts.tv_sec;
	*ret_gmtoff = localtime_r(&t, &tm) ? tm.tm_gmtoff : 0;
	*ret_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int log_open_fd(struct mon_log *l, struct skiff_err **err)
{
	struct stat st;
	int fd;

	fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd < 0)
		return err_make(err, errno, "open log %s", l->path);
	if (fstat(fd, &st) < 0) {
		int saved = errno;
		close(fd);
		return err_make(err, saved, "stat log %s", l->path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return err_makex(err, EINVAL, "log %s is not a regular file", l->path);
	}
	l->fd = fd;
	l->size = st.st_size;
	return 0;
}

int mon_log_open(struct mon_log *l, enum mon_log_driver driver, const char *path, int64_t size_max,
		 struct skiff_err **err)
{
	struct mon_log n = {.driver = driver, .fd = -1, .size_max = size_max, .buf = STRBUF_INIT};

	if (driver == MON_LOG_K8S_FILE) {
		if (!path || !*path)
			return err_makex(err, EINVAL, "log driver k8s-file needs a log path");
		n.path = xstrdup(path);
		if (log_open_fd(&n, err) < 0) {
			free(n.path);
			return -1;
		}
	}
	*l = n;
	return 0;
}

int mon_log_write(struct mon_log *l, enum mon_stream stream, const char *data, size_t len, struct skiff_err **err)
{
	struct fmt_ctx c = {.out = &l->buf, .ts = STRBUF_INIT, .stream = stream, .log = l, .err = err};
	int64_t now;
	long gmtoff;
	int r;

	if (l->driver == MON_LOG_NONE || l->fd < 0 || !len)
		return 0;
	now_local(&now, &gmtoff);
	mon_log_format_time(&c.ts, now, gmtoff);
	r = for_each_record(data, len, add_record, &c);
	strbuf_release(&c.ts);
	if (r == 0)
		r = log_flush(l, err);
	strbuf_reset(&l->buf);
	if (l->buf.alloc > 4 * LOG_FLUSH_AT)
		strbuf_release(&l->buf); /* keep the monitor small */
	return r;
}

int mon_log_reopen(struct mon_log *l, struct skiff_err **err)
{
	if (l->driver == MON_LOG_NONE)
		return 0;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	return log_open_fd(l, err);
}

void mon_log_close(struct mon_log *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	free(l->path);
	l->path = NULL;
	strbuf_release(&l->buf);
}

/* ---- parsing ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (the era arithmetic of civil calendars). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n decimal digits at *p into *ret. */
static bool digits(const char **p, const char *end, int n, unsigned *ret)
{
	unsigned v = 0;

	if (end - *p < n)
		return false;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

static bool expect(const char **p, const char *end, char c)
{
	if (*p < end && **p == c) {
		(*p)++;
		return true;
	}
	return false;
}

static bool parse_time(const char *s, const char *end, int64_t *ret)
{
	static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
	int64_t ns = 0, off = 0;
	const char *p = s;

	if (!digits(&p, end, 4, &y) || !expect(&p, end, '-') || !digits(&p, end, 2, &mo) || !expect(&p, end, '-') ||
	    !digits(&p, end, 2, &d) || !(expect(&p, end, 'T') || expect(&p, end, 't')) || !digits(&p, end, 2, &h) ||
	    !expect(&p, end, ':') || !digits(&p, end, 2, &mi) || !expect(&p, end, ':') || !digits(&p, end, 2, &sec))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 || sec > 60)
		return false;
	if (expect(&p, end, '.')) {
		int n = 0;
		while (p < end && *p >= '0' && *p <= '9') {
			if (++n > 9)
				return false;
			ns = ns * 10 + (*p++ - '0');
		}
		if (n == 0)
			return false;
		for (; n < 9; n++)
			ns *= 10;
	}
	if (expect(&p, end, 'Z') || expect(&p, end, 'z')) {
		off = 0;
	} else if (p < end && (*p == '+' || *p == '-')) {
		int sign = *p++ == '-' ? -1 : 1;
		if (!digits(&p, end, 2, &oh) || !expect(&p, end, ':') || !digits(&p, end, 2, &om) || oh > 23 || om > 59)
			return false;
		off = sign * (int64_t)(oh * 3600 + om * 60);
	} else {
		return false;
	}
	if (p != end)
		return false;
	if (sec == 60)
		sec = 59; /* a leap second: as close as a unix time gets */
	*ret = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - off) * 1000000000 + ns;
	return true;
}

/* A short, printable quote of hostile input for messages. */
static void quote(struct strbuf *sb, const char *s, size_t len)
{
	size_t n = len > 40 ? 40 : len;

	strbuf_addch(sb, '"');
	for (size_t i = 0; i < n; i++)
		strbuf_addch(sb, s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
	strbuf_addstr(sb, len > n ? "\"..." : "\"");
}

static int bad_field(struct skiff_err **err, const char *field, const char *s, size_t len)
{
	cleanup_strbuf struct strbuf q = STRBUF_INIT;

	quote(&q, s, len);
	return err_makex(err, EINVAL, "log line: bad %s %s", field, q.buf);
}

int mon_log_parse_line(const char *line, size_t len, struct mon_log_line *ret, struct skiff_err **err)
{
	struct mon_log_line l = {0};
	const char *end, *p, *sp;

	if (!line)
		return err_makex(err, EINVAL, "log line: none");
	if (len && line[len - 1] == '\n')
		len--;
	end = line + len;
	sp = memchr(line, ' ', len);
	if (!sp)
		return bad_field(err, "line (no fields)", line, len);
	if (!parse_time(line, sp, &l.time_ns))
		return bad_field(err, "time", line, (size_t)(sp - line));
	p = sp + 1;
	if (end - p >= 7 && !memcmp(p, "stdout ", 7))
		l.stream = MON_STREAM_STDOUT;
	else if (end - p >= 7 && !memcmp(p, "stderr ", 7))
		l.stream = MON_STREAM_STDERR;
	else
		return bad_field(err, "stream", p, (size_t)(end - p));
	p += 7;
	if (p < end && (*p == 'F' || *p == 'P') && (p + 1 == end || p[1] == ' ')) {
		l.partial = *p == 'P';
		p += p + 1 == end ? 1 : 2;
	} else {
		return bad_field(err, "tag (not F or P)", p, (size_t)(end - p));
	}
	l.content = p;
	l.content_len = (size_t)(end - p);
	*ret = l;
	return 0;
}
