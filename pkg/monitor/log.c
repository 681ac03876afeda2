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

char *mon_log_file_name(const char *path, unsigned i)
{
	return i ? xasprintf("%s.%u", path, i) : xstrdup(path);
}

static bool name_exists(const char *name)
{
	struct stat st;

	return lstat(name, &st) == 0 || errno != ENOENT;
}

/* Make room at PATH.1: shift PATH.1 .. PATH.(g-1) up by one, where g is the first free
 * slot (or the last one, max_file-1, whose file is dropped). Highest first, so that a
 * reader sees at most one gap at a time. With max_file 2, PATH.1 is simply dropped. */
static int shift_rotated(const struct mon_log *l, struct skiff_err **err)
{
	unsigned g = 1;

	if (l->max_file == 2) {
		cleanup_free char *name = mon_log_file_name(l->path, 1);
		if (unlink(name) < 0 && errno != ENOENT)
			return err_make(err, errno, "rotate log: remove %s", name);
		return 0;
	}

	while (g < l->max_file - 1) {
		cleanup_free char *name = mon_log_file_name(l->path, g);
		if (!name_exists(name))
			break;
		g++;
	}
	for (unsigned i = g; i >= 2; i--) {
		cleanup_free char *from = mon_log_file_name(l->path, i - 1);
		cleanup_free char *to = mon_log_file_name(l->path, i);
		if (rename(from, to) < 0 && errno != ENOENT)
			return err_make(err, errno, "rotate log %s to %s", from, to);
	}
	return 0;
}

/* PATH -> PATH.1 and a new, empty PATH, which l writes from now on. */
static int log_rotate(struct mon_log *l, struct skiff_err **err)
{
	cleanup_free char *tmp = xasprintf("%s.rotate", l->path);
	cleanup_free char *first = mon_log_file_name(l->path, 1);
	cleanup_close int fd = -1;

	/* the new file first: a failure here leaves everything as it was */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0640);
	if (fd < 0)
		return err_make(err, errno, "rotate log: create %s", tmp);
	if (shift_rotated(l, err) < 0)
		goto fail;
	/* a link keeps PATH in place until the new file replaces it; where links are not
	 * allowed, PATH is missing for a moment (readers wait for it) */
	if (link(l->path, first) < 0 && errno != ENOENT && rename(l->path, first) < 0 && errno != ENOENT) {
		err_make(err, errno, "rotate log %s to %s", l->path, first);
		goto fail;
	}
	if (rename(tmp, l->path) < 0) {
		err_make(err, errno, "rotate log: rename %s to %s", tmp, l->path);
		goto fail;
	}
	close(l->fd);
	l->fd = TAKE_FD(fd);
	l->size = 0;
	return 0;
fail:
	(void)unlink(tmp);
	return -1;
}

static int log_flush(struct mon_log *l, struct skiff_err **err)
{
	int r = 0;

	if (!l->buf.len)
		return 0;
	if (l->size_max > 0 && l->size + (int64_t)l->buf.len > l->size_max && l->size > 0) {
		if (l->max_file > 1) {
			r = log_rotate(l, err); /* on failure: write on, to the old file */
		} else {
			if (ftruncate(l->fd, 0) < 0)
				return err_make(err, errno, "truncate log %s", l->path);
			l->size = 0;
		}
	}
	if (write_all(l->fd, l->buf.buf, l->buf.len) < 0) {
		int saved = errno;
		strbuf_reset(&l->buf);
		if (r < 0)
			return -1;
		return err_make(err, saved, "write log %s", l->path);
	}
	l->size += (int64_t)l->buf.len;
	strbuf_reset(&l->buf);
	return r;
}

struct fmt_ctx {
	struct strbuf *out;
	struct strbuf ts;
	enum mon_stream stream;
	struct mon_log *log;	/* writing: flush when the buffer is full */
	struct skiff_err *fail; /* the first failure; the rest of the chunk is still written */
};

/* Flush, keeping the first error in c->fail. */
static void ctx_flush(struct fmt_ctx *c)
{
	struct skiff_err *e = NULL;

	if (log_flush(c->log, &e) < 0) {
		if (!c->fail)
			c->fail = e;
		else
			err_free(e);
	}
}

static int add_record(void *p, bool partial, const char *data, size_t len)
{
	struct fmt_ctx *c = p;

	format_record(c->out, c->ts.buf, c->ts.len, c->stream, partial, data, len);
	/* With a size limit every record is checked against it on its own. */
	if (c->log && (c->out->len >= LOG_FLUSH_AT || c->log->size_max > 0))
		ctx_flush(c);
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

int mon_log_open_journald(struct mon_log *l, const char *socket, const struct mon_journal_ids *ids,
			  struct skiff_err **err)
{
	struct mon_log n = {.driver = MON_LOG_JOURNALD, .fd = -1, .buf = STRBUF_INIT};

	if (mon_journal_open(&n.journal, socket, ids, err) < 0)
		return -1;
	*l = n;
	return 0;
}

int mon_log_write(struct mon_log *l, enum mon_stream stream, const char *data, size_t len, struct skiff_err **err)
{
	struct fmt_ctx c = {.out = &l->buf, .ts = STRBUF_INIT, .stream = stream, .log = l};
	int64_t now;
	long gmtoff;

	if (l->driver == MON_LOG_JOURNALD)
		return len ? mon_journal_write(&l->journal, stream, data, len, err) : 0;
	if (l->driver == MON_LOG_NONE || l->fd < 0 || !len)
		return 0;
	now_local(&now, &gmtoff);
	mon_log_format_time(&c.ts, now, gmtoff);
	(void)for_each_record(data, len, add_record, &c);
	strbuf_release(&c.ts);
	ctx_flush(&c);
	strbuf_reset(&l->buf);
	if (l->buf.alloc > 4 * LOG_FLUSH_AT)
		strbuf_release(&l->buf); /* keep the monitor small */
	if (c.fail) {
		if (err)
			*err = c.fail;
		else
			err_free(c.fail);
		return -1;
	}
	return 0;
}

void mon_log_set_max_file(struct mon_log *l, unsigned max_file)
{
	l->max_file = max_file;
}

int mon_log_reopen(struct mon_log *l, struct skiff_err **err)
{
	if (l->driver == MON_LOG_NONE || l->driver == MON_LOG_JOURNALD)
		return 0;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	return log_open_fd(l, err);
}

void mon_log_close(struct mon_log *l)
{
	if (l->driver == MON_LOG_JOURNALD)
		mon_journal_close(&l->journal);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	free(l->path);
	l->path = NULL;
	strbuf_release(&l->buf);
}

/* ---- reading a rotated log ---- */

/* Tries before mon_log_files_open() settles for a set with duplicates dropped. */
#define FILES_TRIES 1000

void mon_log_files_close(struct mon_log_files *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].fd >= 0)
			close(f->v[i].fd);
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

ssize_t mon_log_files_find(const struct mon_log_files *f, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].dev == dev && f->v[i].ino == ino)
			return (ssize_t)i;
	return -1;
}

static void files_release(struct mon_log_file *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (v[i].fd >= 0)
			close(v[i].fd);
}

/* One pass, newest first, into f->v[i] for file i (fd -1: missing); *ret_n files looked at:
 * it stops after two missing in a row (a rotation leaves at most one gap). */
static int files_pass(const char *path, unsigned max_file, struct mon_log_file *v, unsigned *ret_n,
		      struct skiff_err **err)
{
	unsigned i, missing = 0;

	for (i = 0; i < max_file && missing < 2; i++) {
		cleanup_free char *name = mon_log_file_name(path, i);
		cleanup_close int fd = open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		struct stat st;

		v[i] = (struct mon_log_file){.fd = -1};
		if (fd < 0 && errno == ENOENT) {
			missing++;
			continue;
		}
		if (fd < 0 || fstat(fd, &st) < 0) {
			err_make(err, errno, "open log %s", name);
			goto fail;
		}
		if (!S_ISREG(st.st_mode)) {
			err_makex(err, EINVAL, "log %s is not a regular file", name);
			goto fail;
		}
		missing = 0;
		v[i] = (struct mon_log_file){.fd = TAKE_FD(fd), .dev = st.st_dev, .ino = st.st_ino};
	}
	*ret_n = i;
	return 0;
fail:
	files_release(v, i);
	return -1;
}

/* Does every name still name what the pass opened, with no file twice? */
static bool files_stable(const char *path, const struct mon_log_file *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		cleanup_free char *name = mon_log_file_name(path, i);
		struct stat st;

		if (stat(name, &st) < 0) {
			if (errno != ENOENT || v[i].fd >= 0)
				return false;
			continue;
		}
		if (v[i].fd < 0 || st.st_dev != v[i].dev || st.st_ino != v[i].ino)
			return false;
		for (unsigned j = 0; j < i; j++)
			if (v[j].fd >= 0 && v[j].dev == v[i].dev && v[j].ino == v[i].ino)
				return false;
	}
	return true;
}

int mon_log_files_open(const char *path, unsigned max_file, struct mon_log_files *ret, struct skiff_err **err)
{
	struct mon_log_files f = {0};
	struct mon_log_file *v;
	unsigned n = 0;

	if (!path || !*path)
		return err_makex(err, EINVAL, "log: no path");
	if (max_file < 1)
		max_file = 1;
	v = xcalloc(max_file, sizeof(*v));
	for (int tries = 0;; tries++) {
		if (files_pass(path, max_file, v, &n, err) < 0) {
			free(v);
			return -1;
		}
		if (files_stable(path, v, n) || tries == FILES_TRIES)
			break;
		files_release(v, n);
	}
	/* oldest first, missing and repeated files left out */
	f.v = xcalloc(n ? n : 1, sizeof(*f.v));
	for (unsigned i = n; i-- > 0;) {
		if (v[i].fd < 0)
			continue;
		if (mon_log_files_find(&f, v[i].dev, v[i].ino) >= 0) {
			close(v[i].fd);
			continue;
		}
		f.v[f.n++] = v[i];
	}
	free(v);
	*ret = f;
	return 0;
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
