/* The events log: records, times, appending and rotation. Reading is in read.c. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/events/events.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/humanize.h"
#include "vendor-free/lock.h"
#include "vendor-free/xalloc.h"

#define NS 1000000000LL

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

char *events_dir(const char *graphroot)
{
	return xasprintf("%s/events", graphroot);
}

/* ---------------- times ---------------- */

/* Split t into whole seconds (floor) and nanoseconds 0..NS-1. */
static void split_ns(int64_t t, time_t *ret_sec, long *ret_nsec)
{
	int64_t s = t / NS, n = t % NS;
	if (n < 0) {
		n += NS;
		s--;
	}
	*ret_sec = (time_t)s;
	*ret_nsec = (long)n;
}

/* ".123" for 123000000 ns (Go's .999999999: trailing zeros and a lone dot dropped). */
static void add_frac(struct strbuf *out, long nsec)
{
	if (!nsec)
		return;
	char buf[16];
	snprintf(buf, sizeof(buf), ".%09ld", nsec);
	size_t n = strlen(buf);
	while (n > 1 && buf[n - 1] == '0')
		n--;
	strbuf_add(out, buf, n);
}

void events_format_time(int64_t t_ns, struct strbuf *out)
{
	time_t sec;
	long nsec;
	split_ns(t_ns, &sec, &nsec);
	struct tm tm;
	if (!localtime_r(&sec, &tm)) {
		strbuf_addf(out, "%lld", (long long)t_ns);
		return;
	}
	char buf[64];
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	strbuf_addstr(out, buf);
	add_frac(out, nsec);
	long off = tm.tm_gmtoff;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	char zone[32];
	snprintf(zone, sizeof(zone), "%c%02d%02d", sign, (int)(off / 3600 % 100), (int)(off / 60 % 60));
	strbuf_addf(out, " %s %s", zone, tm.tm_zone && *tm.tm_zone ? tm.tm_zone : zone);
}

void events_format_rfc3339(int64_t t_ns, struct strbuf *out)
{
	time_t sec;
	long nsec;
	split_ns(t_ns, &sec, &nsec);
	struct tm tm;
	if (!localtime_r(&sec, &tm)) {
		strbuf_addstr(out, "1970-01-01T00:00:00Z");
		return;
	}
	char buf[64];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	strbuf_addstr(out, buf);
	add_frac(out, nsec);
	long off = tm.tm_gmtoff;
	if (!off) {
		strbuf_addch(out, 'Z');
		return;
	}
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	strbuf_addf(out, "%c%02d:%02d", sign, (int)(off / 3600 % 100), (int)(off / 60 % 60));
}

/* n decimal digits at *p (advanced); -1 when they are not all digits. */
static int digits(const char **p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	return v;
}

/*
 * "YYYY-MM-DD[THH:MM[:SS[.frac]]][Z|±HH:MM]" (a space may stand for the T). need_zone: the
 * zone is required (records); else its absence means local time. 0, or -1 if s is not such a time.
 */
static int parse_datetime(const char *s, bool need_zone, bool need_clock, int64_t *ret)
{
	const char *p = s;
	struct tm tm = {0};
	int y = digits(&p, 4), mo, d;
	if (y < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 1 || mo > 12 || *p++ != '-' || (d = digits(&p, 2)) < 1 ||
	    d > 31)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	int64_t frac = 0;
	if (*p == 'T' || *p == 't' || (*p == ' ' && p[1] >= '0' && p[1] <= '9')) {
		p++;
		int h = digits(&p, 2), mi;
		if (h < 0 || h > 23 || *p++ != ':' || (mi = digits(&p, 2)) < 0 || mi > 59)
			return -1;
		tm.tm_hour = h;
		tm.tm_min = mi;
		if (*p == ':') {
			p++;
			int sec = digits(&p, 2);
			if (sec < 0 || sec > 60)
				return -1;
			tm.tm_sec = sec;
			if (*p == '.' || *p == ',') {
				p++;
				int64_t scale = NS / 10;
				int nd = 0;
				for (; *p >= '0' && *p <= '9'; p++, nd++) {
					frac += (*p - '0') * scale;
					scale /= 10;
				}
				if (nd == 0)
					return -1;
			}
		}
	} else if (need_clock) {
		return -1;
	}
	bool zoned = false;
	long off = 0;
	if (*p == 'Z' || *p == 'z') {
		zoned = true;
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		p++;
		int hh = digits(&p, 2), mm;
		if (hh < 0 || hh > 23 || *p++ != ':' || (mm = digits(&p, 2)) < 0 || mm > 59)
			return -1;
		off = sign * (hh * 3600L + mm * 60L);
		zoned = true;
	}
	if (*p || (need_zone && !zoned))
		return -1;
	time_t t;
	if (zoned) {
		t = timegm(&tm);
		t -= off;
	} else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	*ret = (int64_t)t * NS + frac;
	return 0;
}

/* Go's time.ParseDuration: [-+]?(number unit)+, units ns us µs ms s m h. */
static int parse_duration(const char *s, int64_t *ret)
{
	const char *p = s;
	int sign = 1;
	if (*p == '-' || *p == '+') {
		sign = *p == '-' ? -1 : 1;
		p++;
	}
	if (!*p)
		return -1;
	if (!strcmp(p, "0")) {
		*ret = 0;
		return 0;
	}
	double total = 0;
	while (*p) {
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return -1;
		char *end;
		errno = 0;
		double v = strtod(p, &end);
		if (end == p || errno)
			return -1;
		p = end;
		double unit;
		if (!strncmp(p, "ns", 2)) {
			unit = 1;
			p += 2;
		} else if (!strncmp(p, "us", 2)) {
			unit = 1e3;
			p += 2;
		} else if (!strncmp(p, "\xc2\xb5s", 3)) {
			unit = 1e3;
			p += 3;
		} else if (!strncmp(p, "ms", 2)) {
			unit = 1e6;
			p += 2;
		} else if (*p == 's') {
			unit = 1e9;
			p++;
		} else if (*p == 'm') {
			unit = 60e9;
			p++;
		} else if (*p == 'h') {
			unit = 3600e9;
			p++;
		} else {
			return -1;
		}
		total += v * unit;
	}
	if (!isfinite(total) || total > 9.2e18)
		return -1;
	*ret = sign * (int64_t)total;
	return 0;
}

int events_parse_time(const char *s, int64_t now, int64_t *ret, struct skiff_err **err)
{
	if (!s || !*s)
		return err_makex(err, EINVAL, "invalid time \"\": want RFC 3339, a unix timestamp or a duration");
	int64_t v;
	if (parse_duration(s, &v) == 0) {
		*ret = now - v;
		return 0;
	}
	/* unix seconds, with an optional fraction */
	const char *p = s;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p != s && (*p == 0 || *p == '.')) {
		int64_t secs = 0, frac = 0;
		const char *q = s;
		for (; q < p; q++) {
			if (secs > (INT64_MAX / NS - 10) / 10)
				return err_makex(err, ERANGE, "invalid time \"%s\": out of range", s);
			secs = secs * 10 + (*q - '0');
		}
		bool ok = true;
		if (*p == '.') {
			int64_t scale = NS / 10;
			for (p++; *p >= '0' && *p <= '9'; p++) {
				frac += (*p - '0') * scale;
				scale /= 10;
			}
			ok = *p == 0;
		}
		if (ok) {
			*ret = secs * NS + frac;
			return 0;
		}
	}
	if (parse_datetime(s, false, false, &v) == 0) {
		*ret = v;
		return 0;
	}
	return err_makex(err, EINVAL, "invalid time \"%s\": want RFC 3339, a unix timestamp or a duration", s);
}

/* ---------------- records ---------------- */

void event_release(struct event *ev)
{
	free(ev->type);
	free(ev->status);
	free(ev->id);
	free(ev->name);
	free(ev->image);
	for (size_t i = 0; i < ev->nattrs; i++) {
		free(ev->attrs[i].key);
		free(ev->attrs[i].value);
	}
	free(ev->attrs);
	memset(ev, 0, sizeof(*ev));
}

static int cmp_attr(const void *a, const void *b)
{
	return strcmp(((const struct events_attr *)a)->key, ((const struct events_attr *)b)->key);
}

/* podman's field order: ContainerExitCode, ID, Image, Name, Status, Time, Type, Attributes. */
static struct json *record_json(const char *type, const char *status, const char *id, const char *name,
				const char *image, bool has_exit, int exit_code, int64_t t,
				const struct events_attr *attrs, size_t nattrs)
{
	struct json *j = json_new_object();
	if (has_exit)
		json_object_set_int(j, "ContainerExitCode", exit_code);
	if (id && *id)
		json_object_set_string(j, "ID", id);
	if (image && *image)
		json_object_set_string(j, "Image", image);
	if (name && *name)
		json_object_set_string(j, "Name", name);
	json_object_set_string(j, "Status", status);
	struct strbuf ts = STRBUF_INIT;
	events_format_rfc3339(t, &ts);
	json_object_set_string(j, "Time", ts.buf);
	strbuf_release(&ts);
	json_object_set_string(j, "Type", type);
	if (!nattrs) {
		json_object_set(j, "Attributes", json_new_null());
		return j;
	}
	struct events_attr *sorted = xcalloc(nattrs, sizeof(*sorted));
	size_t n = 0;
	for (size_t i = 0; i < nattrs; i++)
		if (attrs[i].key)
			sorted[n++] = (struct events_attr){attrs[i].key, attrs[i].value ? attrs[i].value : ""};
	qsort(sorted, n, sizeof(*sorted), cmp_attr);
	struct json *a = json_new_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_string(a, sorted[i].key, sorted[i].value);
	free(sorted);
	json_object_set(j, "Attributes", a);
	return j;
}

void event_to_json_line(const struct event *ev, struct strbuf *out)
{
	struct events_attr *a = ev->nattrs ? xcalloc(ev->nattrs, sizeof(*a)) : NULL;
	for (size_t i = 0; i < ev->nattrs; i++)
		a[i] = (struct events_attr){ev->attrs[i].key, ev->attrs[i].value};
	struct json *j = record_json(ev->type, ev->status, ev->id, ev->name, ev->image, ev->has_exit_code,
				     ev->exit_code, ev->time_ns, a, ev->nattrs);
	json_dump(j, 0, out);
	json_free(j);
	free(a);
}

static char *dup_field(const struct json *j, const char *key)
{
	const char *s = json_object_get_string(j, key);
	return xstrdup(s ? s : "");
}

int event_parse(const char *line, size_t len, struct event *ret, struct skiff_err **err)
{
	cleanup_json struct json *j = NULL;
	if (json_parse(line, len, &j, err) < 0)
		return err_wrap(err, "event");
	if (!json_is(j, JSON_OBJECT))
		return err_makex(err, EINVAL, "event: not a JSON object");
	const char *type = json_object_get_string(j, "Type");
	const char *status = json_object_get_string(j, "Status");
	const char *ts = json_object_get_string(j, "Time");
	if (!type || !*type)
		return err_makex(err, EINVAL, "event: no Type");
	if (!status || !*status)
		return err_makex(err, EINVAL, "event: no Status");
	int64_t t;
	if (!ts || parse_datetime(ts, true, true, &t) < 0)
		return err_makex(err, EINVAL, "event: bad Time \"%s\"", ts ? ts : "");
	struct json *code = json_object_get(j, "ContainerExitCode");
	if (code && !json_is(code, JSON_NULL) &&
	    (!json_is(code, JSON_NUMBER) || !code->u.num.is_int || code->u.num.i < INT32_MIN ||
	     code->u.num.i > INT32_MAX))
		return err_makex(err, EINVAL, "event: bad ContainerExitCode");
	struct json *attrs = json_object_get(j, "Attributes");
	if (attrs && !json_is(attrs, JSON_NULL) && !json_is(attrs, JSON_OBJECT))
		return err_makex(err, EINVAL, "event: Attributes is not an object");

	struct event ev = {0};
	ev.type = xstrdup(type);
	ev.status = xstrdup(status);
	ev.id = dup_field(j, "ID");
	ev.name = dup_field(j, "Name");
	ev.image = dup_field(j, "Image");
	ev.time_ns = t;
	if (code && json_is(code, JSON_NUMBER)) {
		ev.has_exit_code = true;
		ev.exit_code = (int)code->u.num.i;
	}
	if (attrs && json_is(attrs, JSON_OBJECT) && attrs->u.obj.len) {
		ev.attrs = xcalloc(attrs->u.obj.len, sizeof(*ev.attrs));
		for (size_t i = 0; i < attrs->u.obj.len; i++) {
			const char *v = json_string(attrs->u.obj.vals[i]);
			if (!v)
				continue; /* podman's attributes are strings */
			ev.attrs[ev.nattrs].key = xstrdup(attrs->u.obj.keys[i]);
			ev.attrs[ev.nattrs].value = xstrdup(v);
			ev.nattrs++;
		}
		/* sorted by key (insertion sort: attribute lists are short) */
		for (size_t i = 1; i < ev.nattrs; i++)
			for (size_t k = i; k > 0 && strcmp(ev.attrs[k - 1].key, ev.attrs[k].key) > 0; k--) {
				__typeof__(ev.attrs[0]) tmp = ev.attrs[k];
				ev.attrs[k] = ev.attrs[k - 1];
				ev.attrs[k - 1] = tmp;
			}
	}
	*ret = ev;
	return 0;
}

static const char *maybe_trunc(const char *id, bool trunc, char buf[16])
{
	if (!trunc || strlen(id) <= 12)
		return id;
	memcpy(buf, id, 12);
	buf[12] = 0;
	return buf;
}

void event_human(const struct event *ev, bool trunc, struct strbuf *out)
{
	char b[16];
	const char *id = maybe_trunc(ev->id, trunc, b);
	events_format_time(ev->time_ns, out);
	strbuf_addf(out, " %s %s", ev->type, ev->status);
	if (!strcmp(ev->type, "container") || !strcmp(ev->type, "pod")) {
		strbuf_addf(out, " %s (image=%s, name=%s", id, ev->image, ev->name);
		for (size_t i = 0; i < ev->nattrs; i++)
			strbuf_addf(out, ", %s=%s", ev->attrs[i].key, ev->attrs[i].value);
		strbuf_addch(out, ')');
	} else if (!strcmp(ev->type, "image")) {
		strbuf_addf(out, " %s %s", id, ev->name);
	} else if (!strcmp(ev->type, "secret")) {
		strbuf_addf(out, " %s", id);
	} else if (*ev->name) {
		/* system, volume, machine, network and types we do not know */
		strbuf_addf(out, " %s", ev->name);
	}
}

struct json *event_to_template_row(const struct event *ev)
{
	struct json *j = json_new_object();
	if (ev->has_exit_code)
		json_object_set_int(j, "ContainerExitCode", ev->exit_code);
	json_object_set_string(j, "ID", ev->id);
	json_object_set_string(j, "Image", ev->image);
	json_object_set_string(j, "Name", ev->name);
	json_object_set_string(j, "Status", ev->status);
	struct strbuf ts = STRBUF_INIT;
	events_format_time(ev->time_ns, &ts);
	json_object_set_string(j, "Time", ts.buf);
	strbuf_release(&ts);
	json_object_set_int(j, "TimeNano", ev->time_ns);
	json_object_set_string(j, "Type", ev->type);
	struct json *a = json_new_object();
	for (size_t i = 0; i < ev->nattrs; i++)
		json_object_set_string(a, ev->attrs[i].key, ev->attrs[i].value);
	json_object_set(j, "Attributes", a);
	return j;
}

/* ---------------- appending ---------------- */

static int stat_log(int dfd, struct stat *st)
{
	if (fstatat(dfd, "events.log", st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	return -1;
}

/* Rename events.log to events.log.1 if adding len bytes would take it past max. */
static int maybe_rotate(int dfd, struct skiff_lock *l, size_t len, uint64_t max, struct skiff_err **err)
{
	struct stat st;
	if (stat_log(dfd, &st) < 0 || st.st_size == 0 || (uint64_t)st.st_size + len <= max)
		return 0;
	if (lock_take(l, LOCK_EXCL, true, err) < 0)
		return -1;
	int rc = 0;
	/* another writer may have rotated while we waited */
	if (stat_log(dfd, &st) == 0 && st.st_size > 0 && (uint64_t)st.st_size + len > max &&
	    renameat(dfd, "events.log", dfd, "events.log.1") < 0)
		rc = err_make(err, errno, "rotate events.log");
	struct skiff_err *e2 = NULL;
	if (lock_release(l, &e2) < 0 && rc == 0) {
		*err = e2;
		return -1;
	}
	err_free(e2);
	return rc;
}

int events_append_at(const char *dir, uint64_t max_size, const struct event_new *ev, struct skiff_err **err)
{
	if (!ev->type || !*ev->type || !ev->status || !*ev->status)
		return err_makex(err, EINVAL, "event: type and status are required");
	int64_t t = ev->time_ns ? ev->time_ns : now_ns();
	struct json *j = record_json(ev->type, ev->status, ev->id, ev->name, ev->image, ev->has_exit_code,
				     ev->exit_code, t, ev->attrs, ev->nattrs);
	cleanup_strbuf struct strbuf line = STRBUF_INIT;
	json_dump(j, 0, &line);
	json_free(j);
	if (line.len >= EVENTS_MAX_LINE) {
		/* keep lines small: drop the attributes (labels can be big) */
		j = record_json(ev->type, ev->status, ev->id, ev->name, ev->image, ev->has_exit_code, ev->exit_code, t,
				NULL, 0);
		strbuf_reset(&line);
		json_dump(j, 0, &line);
		json_free(j);
		if (line.len >= EVENTS_MAX_LINE)
			return err_makex(err, E2BIG, "event %s %s: record too large", ev->type, ev->status);
	}
	strbuf_addch(&line, '\n');

	if (mkdir_p_at(AT_FDCWD, dir, 0700, err) < 0)
		return err_wrap(err, "events");
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "open %s", dir);
	cleanup_lock struct skiff_lock l = SKIFF_LOCK_INIT;
	if (lock_open(dfd, "events.log.lock", &l, err) < 0)
		return err_wrap(err, "events");
	if (max_size && maybe_rotate(dfd, &l, line.len, max_size, err) < 0)
		return err_wrap(err, "%s", dir);
	/* shared: writers go together, a rotation waits for them (no line lands in .1 late) */
	if (lock_take(&l, LOCK_SHARED, true, err) < 0)
		return err_wrap(err, "events");
	cleanup_close int fd = openat(dfd, "events.log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_make(err, errno, "open %s/events.log", dir);
	/* one write: O_APPEND keeps concurrent lines whole */
	ssize_t n;
	do
		n = write(fd, line.buf, line.len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return err_make(err, errno, "write %s/events.log", dir);
	if ((size_t)n != line.len)
		return err_makex(err, EIO, "write %s/events.log: short write", dir);
	return 0;
}

int events_append(const char *graphroot, const struct event_new *ev, struct skiff_err **err)
{
	uint64_t max = EVENTS_DEFAULT_MAX_SIZE;
	const char *env = getenv("SKIFF_EVENTS_LOGFILE_MAX_SIZE");
	if (env && *env) {
		int64_t v;
		if (parse_size(env, &v, err) < 0)
			return err_wrap(err, "SKIFF_EVENTS_LOGFILE_MAX_SIZE");
		max = v > 0 ? (uint64_t)v : 0;
	}
	cleanup_free char *dir = events_dir(graphroot);
	return events_append_at(dir, max, ev, err);
}
