/* Unit tests for pkg/events: records, times, filters, appending, rotation, reading, following. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pkg/events/events.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

#define NS 1000000000LL

struct tmp {
	char path[PATH_MAX];
	char dir[PATH_MAX + 16]; /* path/events */
};

static int setup(void **state)
{
	struct tmp *t = xzalloc(sizeof(*t));
	const char *base = getenv("TMPDIR");
	snprintf(t->path, sizeof(t->path), "%s/skiff-test-events-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(t->path))
		return -1;
	snprintf(t->dir, sizeof(t->dir), "%s/events", t->path);
	setenv("TZ", "UTC", 1);
	tzset();
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	int r = rm_rf_at(AT_FDCWD, t->path, &err);
	err_free(err);
	free(t);
	return r < 0 ? -1 : 0;
}

/* ---- helpers ---- */

struct collected {
	struct strv lines; /* "type status name" per event */
	struct strv ids;
	int stop_after; /* > 0: return 1 after this many */
};

static int collect(const struct event *ev, void *ud, struct skiff_err **err)
{
	struct collected *c = ud;
	(void)err;
	strv_pushf(&c->lines, "%s %s %s", ev->type, ev->status, ev->name);
	strv_push(&c->ids, ev->id);
	if (c->stop_after > 0 && (int)c->lines.len >= c->stop_after)
		return 1;
	return 0;
}

static void collected_release(struct collected *c)
{
	strv_release(&c->lines);
	strv_release(&c->ids);
}

static void read_all(const char *dir, const struct events_filter *f, struct collected *c)
{
	struct events_read_opts o = {.filter = f, .from_start = true, .stop_fd = -1};
	struct skiff_err *err = NULL;
	int rc = events_read_at(dir, &o, collect, c, &err);
	if (rc < 0)
		fail_msg("events_read_at: %s", err->msg);
}

static void append(const char *dir, uint64_t max, const char *type, const char *status, const char *id,
		   const char *name, int64_t t)
{
	struct events_attr a[] = {{"zeta", "1"}, {"alpha", "two"}};
	struct event_new ev = {.type = type,
			       .status = status,
			       .id = id,
			       .name = name,
			       .image = "localhost/img:1",
			       .attrs = a,
			       .nattrs = 2,
			       .time_ns = t};
	struct skiff_err *err = NULL;
	if (events_append_at(dir, max, &ev, &err) < 0)
		fail_msg("events_append_at: %s", err->msg);
}

static void write_raw(const char *dir, const char *name, const char *data, size_t len)
{
	struct skiff_err *err = NULL;
	assert_int_equal(mkdir_p_at(AT_FDCWD, dir, 0700, &err), 0);
	cleanup_free char *p = xasprintf("%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, data, len), 0);
	close(fd);
}

static int64_t now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

/* ---- times ---- */

static void test_format_time(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	int64_t t = 1704207845LL * NS + 500000000; /* 2024-01-02T15:04:05.5Z */
	events_format_time(t, &sb);
	assert_string_equal(sb.buf, "2024-01-02 15:04:05.5 +0000 UTC");
	strbuf_reset(&sb);
	events_format_rfc3339(t, &sb);
	assert_string_equal(sb.buf, "2024-01-02T15:04:05.5Z");
	strbuf_reset(&sb);
	events_format_rfc3339(1704207845LL * NS, &sb);
	assert_string_equal(sb.buf, "2024-01-02T15:04:05Z");
	strbuf_reset(&sb);
	events_format_time(1704207845LL * NS + 123456789, &sb);
	assert_string_equal(sb.buf, "2024-01-02 15:04:05.123456789 +0000 UTC");

	/* a zone east of UTC, as Go prints it */
	setenv("TZ", "CET-1", 1);
	tzset();
	strbuf_reset(&sb);
	events_format_time(t, &sb);
	assert_string_equal(sb.buf, "2024-01-02 16:04:05.5 +0100 CET");
	strbuf_reset(&sb);
	events_format_rfc3339(t, &sb);
	assert_string_equal(sb.buf, "2024-01-02T16:04:05.5+01:00");
	/* and it reads back to the same instant */
	int64_t back = 0;
	assert_int_equal(events_parse_time(sb.buf, 0, &back, NULL), 0);
	assert_int_equal(back, t);
	setenv("TZ", "UTC", 1);
	tzset();
	strbuf_release(&sb);
}

static void test_parse_time(void **state)
{
	(void)state;
	int64_t n = 1704207845LL * NS, v = 0;
	struct skiff_err *err = NULL;
	assert_int_equal(events_parse_time("10m", n, &v, &err), 0);
	assert_int_equal(v, n - 600 * NS);
	assert_int_equal(events_parse_time("1h30m", n, &v, &err), 0);
	assert_int_equal(v, n - 5400 * NS);
	assert_int_equal(events_parse_time("1.5s", n, &v, &err), 0);
	assert_int_equal(v, n - 1500000000LL);
	assert_int_equal(events_parse_time("300ms", n, &v, &err), 0);
	assert_int_equal(v, n - 300000000LL);
	assert_int_equal(events_parse_time("-1m", n, &v, &err), 0); /* the future */
	assert_int_equal(v, n + 60 * NS);
	assert_int_equal(events_parse_time("1700000000", n, &v, &err), 0);
	assert_int_equal(v, 1700000000LL * NS);
	assert_int_equal(events_parse_time("1700000000.25", n, &v, &err), 0);
	assert_int_equal(v, 1700000000LL * NS + 250000000);
	assert_int_equal(events_parse_time("2024-01-02T15:04:05Z", n, &v, &err), 0);
	assert_int_equal(v, n);
	assert_int_equal(events_parse_time("2024-01-02T17:04:05.000000001+02:00", n, &v, &err), 0);
	assert_int_equal(v, n + 1);
	assert_int_equal(events_parse_time("2024-01-02T15:04:05", n, &v, &err), 0); /* local = UTC here */
	assert_int_equal(v, n);
	assert_int_equal(events_parse_time("2024-01-02", n, &v, &err), 0);
	assert_int_equal(v, 1704153600LL * NS);

	static const char *const bad[] = {"",
					  "soon",
					  "10x",
					  "2024-13-01",
					  "2024-01-02T25:00:00Z",
					  "2024-01-02T10:00:00+5",
					  "1h-",
					  "12.5.5",
					  "99999999999999999999",
					  "m"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 42;
		assert_int_equal(events_parse_time(bad[i], n, &v, &err), -1);
		assert_non_null(err);
		assert_true(err->status == EINVAL || err->status == ERANGE);
		assert_non_null(strstr(err->msg, bad[i]));
		assert_int_equal(v, 42); /* untouched on failure */
		err_clear(&err);
	}
}

/* ---- records ---- */

static void test_append_and_read(void **state)
{
	struct tmp *t = *state;
	int64_t base = 1704207845LL * NS;
	append(t->dir, 0, "container", "create", "abcdef0123456789", "c1", base);
	int code = 3;
	struct event_new died = {.type = "container",
				 .status = "died",
				 .id = "abcdef0123456789",
				 .name = "c1",
				 .image = "localhost/img:1",
				 .has_exit_code = true,
				 .exit_code = code,
				 .time_ns = base + 1};
	assert_int_equal(events_append_at(t->dir, 0, &died, NULL), 0);
	append(t->dir, 0, "image", "tag", "0123456789abcdef", "localhost/x:1", base + 2);

	/* the exact record podman writes */
	cleanup_free char *buf = NULL;
	cleanup_free char *path = xasprintf("%s/events.log", t->dir);
	assert_int_equal(read_file_at(AT_FDCWD, path, 1 << 20, &buf, NULL, NULL), 0);
	const char *want =
		"{\"ID\":\"abcdef0123456789\",\"Image\":\"localhost/img:1\",\"Name\":\"c1\",\"Status\":\"create\","
		"\"Time\":\"2024-01-02T15:04:05Z\",\"Type\":\"container\",\"Attributes\":{\"alpha\":\"two\",\"zeta\":"
		"\"1\"}}\n"
		"{\"ContainerExitCode\":3,\"ID\":\"abcdef0123456789\",\"Image\":\"localhost/img:1\",\"Name\":\"c1\","
		"\"Status\":\"died\",\"Time\":\"2024-01-02T15:04:05.000000001Z\",\"Type\":\"container\","
		"\"Attributes\":null}\n";
	assert_memory_equal(buf, want, strlen(want));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	struct collected c = {0};
	read_all(t->dir, NULL, &c);
	assert_int_equal(c.lines.len, 3);
	assert_string_equal(c.lines.v[0], "container create c1");
	assert_string_equal(c.lines.v[1], "container died c1");
	assert_string_equal(c.lines.v[2], "image tag localhost/x:1");
	collected_release(&c);

	/* a line round-trips, and prints as podman does */
	const char *line = strchr(want, '\n') + 1;
	struct event ev;
	assert_int_equal(event_parse(line, strchr(line, '\n') - line, &ev, NULL), 0);
	assert_true(ev.has_exit_code);
	assert_int_equal(ev.exit_code, 3);
	struct strbuf sb = STRBUF_INIT;
	event_to_json_line(&ev, &sb);
	assert_int_equal(sb.len, (size_t)(strchr(line, '\n') - line));
	assert_memory_equal(sb.buf, line, sb.len);
	strbuf_reset(&sb);
	event_human(&ev, false, &sb);
	assert_string_equal(sb.buf, "2024-01-02 15:04:05.000000001 +0000 UTC container died abcdef0123456789 "
				    "(image=localhost/img:1, name=c1)");
	strbuf_reset(&sb);
	event_human(&ev, true, &sb);
	assert_string_equal(sb.buf, "2024-01-02 15:04:05.000000001 +0000 UTC container died abcdef012345 "
				    "(image=localhost/img:1, name=c1)");
	struct json *row = event_to_template_row(&ev);
	assert_string_equal(json_object_get_string(row, "Time"), "2024-01-02 15:04:05.000000001 +0000 UTC");
	assert_int_equal(json_object_get(row, "ContainerExitCode")->u.num.i, 3);
	assert_int_equal(json_object_get(row, "TimeNano")->u.num.i, base + 1);
	json_free(row);
	event_release(&ev);

	/* labels print after the name, sorted */
	assert_int_equal(event_parse(want, strchr(want, '\n') - want, &ev, NULL), 0);
	strbuf_reset(&sb);
	event_human(&ev, false, &sb);
	assert_string_equal(sb.buf, "2024-01-02 15:04:05 +0000 UTC container create abcdef0123456789 "
				    "(image=localhost/img:1, name=c1, alpha=two, zeta=1)");
	event_release(&ev);

	/* images and system events have their own shapes */
	const char *img = "{\"ID\":\"0123456789abcdef\",\"Name\":\"localhost/x:1\",\"Status\":\"untag\",\"Time\":"
			  "\"2024-01-02T15:04:05Z\",\"Type\":\"image\",\"Attributes\":null}";
	assert_int_equal(event_parse(img, strlen(img), &ev, NULL), 0);
	strbuf_reset(&sb);
	event_human(&ev, false, &sb);
	assert_string_equal(sb.buf, "2024-01-02 15:04:05 +0000 UTC image untag 0123456789abcdef localhost/x:1");
	event_release(&ev);
	const char *sys = "{\"Status\":\"refresh\",\"Time\":\"2024-01-02T15:04:05Z\",\"Type\":\"system\"}";
	assert_int_equal(event_parse(sys, strlen(sys), &ev, NULL), 0);
	strbuf_reset(&sb);
	event_human(&ev, false, &sb);
	assert_string_equal(sb.buf, "2024-01-02 15:04:05 +0000 UTC system refresh");
	event_release(&ev);
	strbuf_release(&sb);
}

static void test_append_errors(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	struct event_new ev = {.type = "container"};
	assert_int_equal(events_append_at(t->dir, 0, &ev, &err), -1);
	assert_int_equal(err->status, EINVAL);
	err_clear(&err);

	/* the events directory is a file */
	write_raw(t->path, "notadir", "x", 1);
	cleanup_free char *bad = xasprintf("%s/notadir/events", t->path);
	ev.status = "create";
	assert_int_equal(events_append_at(bad, 0, &ev, &err), -1);
	assert_non_null(strstr(err->msg, "notadir"));
	err_clear(&err);

	/* huge attributes are dropped, the event is kept */
	size_t big = EVENTS_MAX_LINE * 2;
	char *v = xmalloc(big + 1);
	memset(v, 'v', big);
	v[big] = 0;
	struct events_attr a = {"huge", v};
	struct event_new hev = {.type = "container", .status = "create", .name = "big", .attrs = &a, .nattrs = 1};
	assert_int_equal(events_append_at(t->dir, 0, &hev, &err), 0);
	/* a name that big cannot be logged at all */
	hev.name = v;
	hev.nattrs = 0;
	assert_int_equal(events_append_at(t->dir, 0, &hev, &err), -1);
	assert_int_equal(err->status, E2BIG);
	err_clear(&err);
	free(v);
	struct collected c = {0};
	read_all(t->dir, NULL, &c);
	assert_int_equal(c.lines.len, 1);
	assert_string_equal(c.lines.v[0], "container create big");
	collected_release(&c);

	/* the limit from the environment, and a bad one */
	setenv("SKIFF_EVENTS_LOGFILE_MAX_SIZE", "lots", 1);
	assert_int_equal(events_append(t->path, &hev, &err), -1);
	assert_non_null(strstr(err->msg, "SKIFF_EVENTS_LOGFILE_MAX_SIZE"));
	err_clear(&err);
	unsetenv("SKIFF_EVENTS_LOGFILE_MAX_SIZE");
}

static void test_hostile_lines(void **state)
{
	struct tmp *t = *state;
	const char *good = "{\"ID\":\"aa\",\"Name\":\"ok\",\"Status\":\"start\",\"Time\":\"2024-01-02T15:04:05Z\","
			   "\"Type\":\"container\"}\n";
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, good);
	strbuf_addstr(&sb, "garbage\n");
	strbuf_addstr(&sb, "\n");
	strbuf_addstr(&sb, "[1,2,3]\n");
	strbuf_addstr(&sb, "\"string\"\n");
	strbuf_addstr(&sb, "{\"Status\":\"start\",\"Time\":\"2024-01-02T15:04:05Z\"}\n");	       /* no Type */
	strbuf_addstr(&sb, "{\"Type\":\"container\",\"Time\":\"2024-01-02T15:04:05Z\"}\n");	       /* no Status */
	strbuf_addstr(&sb, "{\"Type\":\"container\",\"Status\":\"start\"}\n");			       /* no Time */
	strbuf_addstr(&sb, "{\"Type\":\"container\",\"Status\":\"start\",\"Time\":\"yesterday\"}\n");  /* bad Time */
	strbuf_addstr(&sb, "{\"Type\":\"container\",\"Status\":\"start\",\"Time\":\"2024-01-02\"}\n"); /* no clock */
	strbuf_addstr(&sb, "{\"Type\":1,\"Status\":\"start\",\"Time\":\"2024-01-02T15:04:05Z\"}\n");
	strbuf_addstr(&sb, "{\"Type\":\"container\",\"Status\":\"died\",\"Time\":\"2024-01-02T15:04:05Z\","
			   "\"ContainerExitCode\":\"x\"}\n");
	strbuf_addstr(&sb, "{\"Type\":\"container\",\"Status\":\"died\",\"Time\":\"2024-01-02T15:04:05Z\","
			   "\"ContainerExitCode\":99999999999}\n");
	strbuf_addstr(&sb, "{\"Type\":\"container\",\"Status\":\"x\",\"Time\":\"2024-01-02T15:04:05Z\","
			   "\"Attributes\":[1]}\n");
	strbuf_addstr(&sb,
		      "{\"Type\":\"container\",\"Status\":\"x\",\"Time\":\"2024-01-02T15:04:05Z\"\n"); /* truncated */
	strbuf_add(&sb, "{\"Type\":\0\"x\"}\n", 14);
	/* a line over the limit, made of a valid-looking prefix */
	strbuf_addstr(&sb, "{\"Type\":\"container\",\"Status\":\"huge\",\"Time\":\"2024-01-02T15:04:05Z\",\"Name\":\"");
	strbuf_addchars(&sb, 'n', EVENTS_MAX_LINE * 3);
	strbuf_addstr(&sb, "\"}\n");
	/* non-string attribute values are dropped, the event stays */
	strbuf_addstr(&sb, "{\"ID\":\"bb\",\"Name\":\"attrs\",\"Status\":\"start\",\"Time\":\"2024-01-02T15:04:05Z\","
			   "\"Type\":\"container\",\"Attributes\":{\"n\":1,\"s\":\"v\",\"o\":{}}}\n");
	strbuf_addstr(&sb, good);
	/* a last line cut short by a crash */
	strbuf_addstr(&sb, "{\"ID\":\"cc\",\"Name\":\"cut\",\"Status\":\"st");
	write_raw(t->dir, "events.log", sb.buf, sb.len);
	strbuf_release(&sb);

	struct collected c = {0};
	read_all(t->dir, NULL, &c);
	assert_int_equal(c.lines.len, 3);
	assert_string_equal(c.lines.v[0], "container start ok");
	assert_string_equal(c.lines.v[1], "container start attrs");
	assert_string_equal(c.lines.v[2], "container start ok");
	collected_release(&c);

	const char *a = "{\"Name\":\"attrs\",\"Status\":\"start\",\"Time\":\"2024-01-02T15:04:05Z\","
			"\"Type\":\"container\",\"Attributes\":{\"n\":1,\"s\":\"v\"}}";
	struct event ev;
	assert_int_equal(event_parse(a, strlen(a), &ev, NULL), 0);
	assert_int_equal(ev.nattrs, 1);
	assert_string_equal(ev.attrs[0].key, "s");
	event_release(&ev);

	/* errors name what is wrong */
	struct skiff_err *err = NULL;
	const char *nostatus = "{\"Type\":\"container\",\"Time\":\"2024-01-02T15:04:05Z\"}";
	assert_int_equal(event_parse(nostatus, strlen(nostatus), &ev, &err), -1);
	assert_non_null(strstr(err->msg, "Status"));
	err_clear(&err);
	assert_int_equal(event_parse("{]", 2, &ev, &err), -1);
	assert_int_equal(err->status, EINVAL);
	err_clear(&err);

	/* appending after a crash-cut line: the first new event joins the cut one and is lost
	 * with it; the events after it are read */
	append(t->dir, 0, "container", "remove", "dd", "after1", 0);
	append(t->dir, 0, "container", "remove", "dd", "after2", 0);
	read_all(t->dir, NULL, &c);
	assert_int_equal(c.lines.len, 4);
	assert_string_equal(c.lines.v[3], "container remove after2");
	collected_release(&c);
}

/* ---- filters ---- */

static void test_filters(void **state)
{
	struct tmp *t = *state;
	int64_t b = 1704207845LL * NS;
	append(t->dir, 0, "container", "create", "aaaa1111", "web", b);
	append(t->dir, 0, "container", "start", "aaaa1111", "web", b + 1);
	append(t->dir, 0, "container", "died", "bbbb2222", "db", b + 2);
	append(t->dir, 0, "image", "tag", "aaaa9999", "localhost/web:1", b + 3);
	append(t->dir, 0, "volume", "create", "", "webdata", b + 4);

	struct {
		const char *filters[3];
		int64_t since, until;
		size_t want;
	} cases[] = {
		{{"container=web"}, 0, 0, 2},
		{{"container=aaaa"}, 0, 0, 2}, /* an ID prefix; not the image with that prefix */
		{{"container=bbbb2222"}, 0, 0, 1},
		{{"container=nothing"}, 0, 0, 0},
		{{"CONTAINER=web"}, 0, 0, 2},
		{{"container=web", "container=db"}, 0, 0, 3}, /* one key: alternatives */
		{{"container=web", "event=start"}, 0, 0, 1},  /* two keys: both */
		{{"event=die"}, 0, 0, 1},		      /* docker's word */
		{{"status=create"}, 0, 0, 2},
		{{"type=image"}, 0, 0, 1},
		{{"image=localhost/web:1"}, 0, 0, 1},
		{{"image=aaaa"}, 0, 0, 1},
		{{"volume=web"}, 0, 0, 1}, /* a name prefix */
		{{"label=alpha"}, 0, 0, 5},
		{{"label=alpha=two"}, 0, 0, 5},
		{{"label=alpha=one"}, 0, 0, 0},
		{{"label=zeta=1", "type=volume"}, 0, 0, 1},
		{{NULL}, b + 1, 0, 3}, /* since: strictly after */
		{{NULL}, 0, b + 2, 2}, /* until: strictly before */
		{{NULL}, b, b + 4, 3},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strv fs = STRV_INIT;
		for (int k = 0; k < 3 && cases[i].filters[k]; k++)
			strv_push(&fs, cases[i].filters[k]);
		struct events_filter *f = NULL;
		struct skiff_err *err = NULL;
		assert_int_equal(events_filter_new(&fs, cases[i].since, cases[i].until, &f, &err), 0);
		struct collected c = {0};
		read_all(t->dir, f, &c);
		if (c.lines.len != cases[i].want)
			fail_msg("case %zu (%s): got %zu events, want %zu", i,
				 cases[i].filters[0] ? cases[i].filters[0] : "-", c.lines.len, cases[i].want);
		collected_release(&c);
		events_filter_free(f);
		strv_release(&fs);
	}

	/* bad filters are errors that name them */
	static const char *const bad[] = {"nokey", "colour=red", "=x"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct strv fs = STRV_INIT;
		strv_push(&fs, bad[i]);
		struct events_filter *f = (struct events_filter *)&fs; /* must stay untouched */
		struct skiff_err *err = NULL;
		assert_int_equal(events_filter_new(&fs, 0, 0, &f, &err), -1);
		assert_ptr_equal(f, (struct events_filter *)&fs);
		assert_int_equal(err->status, EINVAL);
		assert_non_null(strstr(err->msg, "is an invalid filter"));
		err_clear(&err);
		strv_release(&fs);
	}

	/* a stopping callback stops */
	struct collected c = {.stop_after = 2};
	read_all(t->dir, NULL, &c);
	assert_int_equal(c.lines.len, 2);
	collected_release(&c);
}

/* ---- rotation ---- */

static void test_rotation(void **state)
{
	struct tmp *t = *state;
	const uint64_t max = 4096;
	char name[32];
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "c%03d", i);
		append(t->dir, max, "container", "start", "id", name, 0);
	}
	cleanup_free char *cur = xasprintf("%s/events.log", t->dir);
	cleanup_free char *old = xasprintf("%s/events.log.1", t->dir);
	struct stat sc, so;
	assert_int_equal(stat(cur, &sc), 0);
	assert_int_equal(stat(old, &so), 0);
	assert_true((uint64_t)sc.st_size <= max);
	assert_true((uint64_t)so.st_size <= max);
	cleanup_free char *two = xasprintf("%s/events.log.2", t->dir);
	assert_int_equal(access(two, F_OK), -1); /* one old file */

	/* readers see .1 then the current file: the newest events, in order, ending with c099 */
	struct collected c = {0};
	read_all(t->dir, NULL, &c);
	assert_true(c.lines.len > 10 && c.lines.len < 100);
	assert_string_equal(c.lines.v[c.lines.len - 1], "container start c099");
	for (size_t i = 1; i < c.lines.len; i++)
		assert_true(strcmp(c.lines.v[i - 1], c.lines.v[i]) < 0);
	collected_release(&c);

	/* max 0: never rotates */
	struct skiff_err *err = NULL;
	assert_int_equal(rm_rf_at(AT_FDCWD, t->dir, &err), 0);
	for (int i = 0; i < 100; i++)
		append(t->dir, 0, "container", "start", "id", "x", 0);
	assert_int_equal(access(old, F_OK), -1);
}

/* Writers at once: every line whole, none lost (without rotation), all readable (with it). */
static void test_concurrent_appends(void **state)
{
	struct tmp *t = *state;
	for (int round = 0; round < 2; round++) {
		uint64_t max = round ? 16384 : 0;
		pid_t kids[4];
		for (int k = 0; k < 4; k++) {
			kids[k] = fork();
			assert_true(kids[k] >= 0);
			if (kids[k] == 0) {
				char name[32];
				for (int i = 0; i < 150; i++) {
					snprintf(name, sizeof(name), "k%d-%03d", k, i);
					struct event_new ev = {.type = "container", .status = "start", .name = name};
					if (events_append_at(t->dir, max, &ev, NULL) < 0)
						_exit(1);
				}
				_exit(0);
			}
		}
		for (int k = 0; k < 4; k++) {
			int st;
			assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
			assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		}
		/* count lines in the files: each parses */
		size_t lines = 0;
		for (int f = 0; f < 2; f++) {
			cleanup_free char *p = xasprintf("%s/events.log%s", t->dir, f ? ".1" : "");
			cleanup_free char *buf = NULL;
			struct skiff_err *err = NULL;
			if (read_file_at(AT_FDCWD, p, 1 << 24, &buf, NULL, &err) < 0) {
				err_free(err);
				continue;
			}
			for (char *q = buf; *q; q++)
				lines += *q == '\n';
		}
		struct collected c = {0};
		read_all(t->dir, NULL, &c);
		assert_int_equal(c.lines.len, lines);
		if (!round)
			assert_int_equal(c.lines.len, 600);
		/* each writer's own events stay in its order */
		for (int k = 0; k < 4; k++) {
			char prev[32] = "";
			for (size_t i = 0; i < c.lines.len; i++) {
				char pre[32];
				snprintf(pre, sizeof(pre), "container start k%d-", k);
				if (strncmp(c.lines.v[i], pre, strlen(pre)))
					continue;
				assert_true(strcmp(prev, c.lines.v[i] + 16) < 0);
				snprintf(prev, sizeof(prev), "%s", c.lines.v[i] + 16);
			}
		}
		collected_release(&c);
		struct skiff_err *err = NULL;
		assert_int_equal(rm_rf_at(AT_FDCWD, t->dir, &err), 0);
	}
}

/* ---- following ---- */

static void test_follow(void **state)
{
	struct tmp *t = *state;
	/* old events: not shown without from_start */
	append(t->dir, 0, "container", "create", "id", "before", 0);
	pid_t kid = fork();
	assert_true(kid >= 0);
	if (kid == 0) {
		struct timespec d = {0, 150 * 1000 * 1000};
		nanosleep(&d, NULL);
		char name[32];
		/* enough to rotate a few times while the parent follows */
		for (int i = 0; i < 60; i++) {
			snprintf(name, sizeof(name), "n%03d", i);
			struct event_new ev = {.type = "container", .status = "start", .name = name};
			if (events_append_at(t->dir, 2048, &ev, NULL) < 0)
				_exit(1);
			if (i % 10 == 0)
				nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
		}
		struct event_new last = {.type = "container", .status = "remove", .name = "last"};
		_exit(events_append_at(t->dir, 2048, &last, NULL) < 0 ? 1 : 0);
	}
	struct collected c = {0};
	struct strv fs = STRV_INIT;
	strv_push(&fs, "event=start");
	strv_push(&fs, "event=remove");
	struct events_filter *f = NULL;
	assert_int_equal(events_filter_new(&fs, 0, 0, &f, NULL), 0);
	c.stop_after = 61;
	struct events_read_opts o = {
		.filter = f, .follow = true, .until_ns = now() + 20 * NS, .stop_fd = -1, .poll_ms = 50};
	struct skiff_err *err = NULL;
	assert_int_equal(events_read_at(t->dir, &o, collect, &c, &err), 0);
	int st;
	assert_int_equal(waitpid(kid, &st, 0), kid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(c.lines.len, 61);
	for (int i = 0; i < 60; i++) {
		char want[64];
		snprintf(want, sizeof(want), "container start n%03d", i);
		assert_string_equal(c.lines.v[i], want);
	}
	assert_string_equal(c.lines.v[60], "container remove last");
	collected_release(&c);
	events_filter_free(f);
	strv_release(&fs);

	/* until in the past: reads what is there and returns */
	struct events_read_opts o2 = {.from_start = true, .follow = true, .until_ns = now() - NS, .stop_fd = -1};
	assert_int_equal(events_read_at(t->dir, &o2, collect, &c, &err), 0);
	assert_true(c.lines.len > 0);
	collected_release(&c);

	/* a stop fd ends the wait */
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	struct events_read_opts o3 = {.follow = true, .stop_fd = p[0]};
	assert_int_equal(events_read_at(t->dir, &o3, collect, &c, &err), 0);
	assert_int_equal(c.lines.len, 0);
	close(p[0]);
	close(p[1]);

	/* following a log that does not exist yet creates its directory */
	cleanup_free char *fresh = xasprintf("%s/fresh/events", t->path);
	struct events_read_opts o4 = {.follow = true, .until_ns = now() + 50 * 1000 * 1000, .stop_fd = -1};
	assert_int_equal(events_read_at(fresh, &o4, collect, &c, &err), 0);
	struct stat sd;
	assert_int_equal(stat(fresh, &sd), 0);
	/* without follow, a missing log is empty */
	cleanup_free char *none = xasprintf("%s/none/events", t->path);
	read_all(none, NULL, &c);
	assert_int_equal(c.lines.len, 0);
	assert_int_equal(stat(none, &sd), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_format_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_appends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
