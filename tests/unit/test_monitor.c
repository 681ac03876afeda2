/* Unit tests for pkg/monitor: exit record, k8s-file log, control protocol, client side,
 * restart policy. The monitor process itself is tested by tests/system/110-monitor.bats. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/monitor/client.h"
#include "pkg/monitor/internal.h"
#include "pkg/monitor/log.h"
#include "pkg/monitor/monitor.h"
#include "pkg/monitor/proto.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

struct tmp {
	char path[PATH_MAX];
	int dfd;
};

static int setup(void **state)
{
	struct tmp *t = xzalloc(sizeof(*t));
	const char *base = getenv("TMPDIR");

	snprintf(t->path, sizeof(t->path), "%s/skiff-test-monitor-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(t->path))
		return -1;
	t->dfd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dfd < 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;

	close(t->dfd);
	if (rm_rf_at(AT_FDCWD, t->path, &err) < 0) {
		fprintf(stderr, "teardown: %s\n", err->msg);
		err_clear(&err);
	}
	free(t);
	return 0;
}

static void write_at(struct tmp *t, const char *name, const char *data, size_t len)
{
	struct skiff_err *err = NULL;

	if (write_file_atomic(t->dfd, name, data, len, 0644, &err) < 0)
		fail_msg("write %s: %s", name, err->msg);
}

/* err is set, has status, and its message contains each of the NULL-terminated needles. */
static void check_err(struct skiff_err *err, int status, ...)
{
	va_list ap;
	const char *needle;

	assert_non_null(err);
	if (err->status != status)
		fail_msg("status %d (%s), expected %d", err->status, err->msg, status);
	va_start(ap, status);
	while ((needle = va_arg(ap, const char *)))
		if (!strstr(err->msg, needle))
			fail_msg("message \"%s\" does not contain \"%s\"", err->msg, needle);
	va_end(ap);
}

/* ---- exit record ---- */

static void assert_exit_equal(const struct mon_exit *a, const struct mon_exit *b)
{
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->exit_code, b->exit_code);
	assert_int_equal(a->signal, b->signal);
	assert_int_equal(a->restart_count, b->restart_count);
	assert_int_equal(a->oom_killed, b->oom_killed);
	assert_int_equal(a->stopped_by_user, b->stopped_by_user);
	assert_true(a->started_at == b->started_at);
	assert_true(a->finished_at == b->finished_at);
}

static void test_exit_roundtrip(void **state)
{
	struct mon_exit cases[] = {
		{.pid = 123,
		 .exit_code = 137,
		 .signal = 9,
		 .restart_count = 0,
		 .oom_killed = false,
		 .stopped_by_user = true,
		 .started_at = 1795367772193835252,
		 .finished_at = 1795367772194243619},
		{.pid = 1, .exit_code = 0},
		{.pid = INT_MAX,
		 .exit_code = 255,
		 .signal = 0,
		 .restart_count = INT_MAX,
		 .oom_killed = true,
		 .started_at = INT64_MAX,
		 .finished_at = INT64_MAX},
		{.pid = 7, .exit_code = -1},
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cleanup_strbuf struct strbuf sb = STRBUF_INIT;
		struct skiff_err *err = NULL;
		struct mon_exit e;

		mon_exit_format(&cases[i], &sb);
		assert_int_equal(sb.buf[sb.len - 1], '\n');
		if (mon_exit_parse(sb.buf, sb.len, "rec", &e, &err) < 0)
			fail_msg("parse %s: %s", sb.buf, err->msg);
		assert_exit_equal(&e, &cases[i]);
	}
}

static void test_exit_exact_shape(void **state)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	struct mon_exit e = {.pid = 123, .exit_code = 137, .signal = 9, .started_at = 5, .finished_at = 6};
	(void)state;

	mon_exit_format(&e, &sb);
	assert_string_equal(
		sb.buf,
		"{\"version\":1,\"pid\":123,\"exitCode\":137,\"signal\":9,\"oomKilled\":false,"
		"\"startedAt\":5,\"finishedAt\":6,\"restartCount\":0,\"stoppedByUser\":false,\"restarting\":false}\n");
}

static void test_exit_tolerant(void **state)
{
	static const char *const ok[] = {
		/* any order, whitespace, unknown keys of every JSON kind, escapes in keys */
		" {\"exitCode\" : 3 ,\"version\":1}\n\n",
		"{\"x\":{\"a\":[1,2.5e-3,{\"b\":null}],\"c\":\"s\\\"t\\u00e9\"},\"version\":1,\"exitCode\":3}",
		"{\"version\":1,\"exit\\u0043ode\":3,\"future\":[true,false,null,-0.5,\"\"]}",
		"{\"version\":1,\"exitCode\":3,\"pid\":-0}",
		"{\"version\":1,\"exitCode\":3,\"\\u0000odd\\ud83d\":1}",
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct skiff_err *err = NULL;
		struct mon_exit e;
		if (mon_exit_parse(ok[i], strlen(ok[i]), "rec", &e, &err) < 0)
			fail_msg("case %zu (%s): %s", i, ok[i], err->msg);
		assert_int_equal(e.exit_code, 3);
	}
}

static void test_exit_hostile(void **state)
{
	static const struct {
		const char *in, *needle;
	} bad[] = {
		{"", "expected '{'"},
		{"   ", "expected '{'"},
		{"[]", "expected '{'"},
		{"{", "expected a string"},
		{"{}", "no \"version\""},
		{"{\"version\":1}", "no \"exitCode\""},
		{"{\"version\":2,\"exitCode\":0}", "version 2 is not supported"},
		{"{\"version\":1,\"exitCode\":\"3\"}", "expected a value"},
		{"{\"version\":1,\"exitCode\":1.5}", "not an integer: key exitCode"},
		{"{\"version\":1,\"exitCode\":1e3}", "not an integer: key exitCode"},
		{"{\"version\":1,\"exitCode\":99999999999}", "out of range: key exitCode"},
		{"{\"version\":1,\"exitCode\":-99999999999}", "out of range: key exitCode"},
		{"{\"version\":1,\"exitCode\":0,\"pid\":-1}", "out of range: key pid"},
		{"{\"version\":1,\"exitCode\":0,\"startedAt\":99999999999999999999}", "out of range: key startedAt"},
		{"{\"version\":1,\"exitCode\":0,\"exitCode\":1}", "duplicate key exitCode"},
		{"{\"version\":1,\"exitCode\":0} x", "trailing data"},
		{"{\"version\":1,\"exitCode\":0}{}", "trailing data"},
		{"{\"version\":1,\"exitCode\":0,}", "expected a string"},
		{"{\"version\":1 \"exitCode\":0}", "expected ',' or '}'"},
		{"{\"version\" 1}", "expected ':'"},
		{"{\"version\":01,\"exitCode\":0}", "expected ',' or '}'"},
		{"{\"version\":-,\"exitCode\":0}", "expected a value"},
		{"{\"version\":1,\"exitCode\":0,\"oomKilled\":1}", "not true or false: key oomKilled"},
		{"{\"version\":1,\"exitCode\":0,\"oomKilled\":tru}", "not true or false"},
		{"{\"version\":1,\"exitCode\":0,\"x\":tru}", "expected a value"},
		{"{\"version\":1,\"exitCode\":0,\"x\":\"abc", "unterminated string"},
		{"{\"version\":1,\"exitCode\":0,\"x\":\"a\tb\"}", "control character"},
		{"{\"version\":1,\"exitCode\":0,\"x\":\"\\q\"}", "bad escape"},
		{"{\"version\":1,\"exitCode\":0,\"x\":\"\\u12\"}", "bad \\u escape"},
		{"{\"version\":1,\"exitCode\":0,\"x\":[1,2}", "expected ',' or ']'"},
		{"{\"version\":1,\"exitCode\":0,\"x\":{\"a\":1,}}", "expected a string"},
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct skiff_err *err = NULL;
		struct mon_exit e = {.pid = 42};
		if (mon_exit_parse(bad[i].in, strlen(bad[i].in), "DIR/exit", &e, &err) == 0)
			fail_msg("case %zu (%s) parsed", i, bad[i].in);
		check_err(err, EINVAL, "DIR/exit", bad[i].needle, NULL);
		assert_int_equal(e.pid, 42); /* untouched */
		err_clear(&err);
	}

	/* deep nesting in an unknown value */
	{
		cleanup_strbuf struct strbuf sb = STRBUF_INIT;
		struct skiff_err *err = NULL;
		struct mon_exit e;
		strbuf_addstr(&sb, "{\"version\":1,\"exitCode\":0,\"x\":");
		strbuf_addchars(&sb, '[', 100000);
		assert_int_equal(mon_exit_parse(sb.buf, sb.len, "deep", &e, &err), -1);
		check_err(err, EINVAL, "deep", "nested too deeply", NULL);
		err_clear(&err);
	}
	/* every truncation of a good record fails cleanly */
	{
		cleanup_strbuf struct strbuf sb = STRBUF_INIT;
		struct mon_exit in = {.pid = 5, .exit_code = 1, .started_at = 10};
		mon_exit_format(&in, &sb);
		strbuf_rtrim(&sb);
		for (size_t n = 0; n < sb.len; n++) {
			struct skiff_err *err = NULL;
			struct mon_exit e;
			if (mon_exit_parse(sb.buf, n, "cut", &e, &err) == 0)
				fail_msg("truncated at %zu parsed: %.*s", n, (int)n, sb.buf);
			check_err(err, EINVAL, "cut", NULL);
			err_clear(&err);
		}
	}
}

static void test_exit_files(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	struct mon_exit in = {.pid = 9, .exit_code = 143, .signal = 15, .restart_count = 2, .stopped_by_user = true};
	struct mon_exit out;
	int dfd;

	/* none yet: ENOENT */
	assert_int_equal(mon_read_exit(t->path, &out, &err), -1);
	check_err(err, ENOENT, "exit", NULL);
	err_clear(&err);

	/* the monitor writes through an O_PATH directory fd */
	dfd = open(t->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	if (mon_exit_write(dfd, &in, &err) < 0)
		fail_msg("write: %s", err->msg);
	close(dfd);
	if (mon_read_exit(t->path, &out, &err) < 0)
		fail_msg("read: %s", err->msg);
	assert_exit_equal(&in, &out);

	/* a NUL byte, garbage, a huge file: EINVAL or EFBIG naming the file */
	write_at(t, "exit", "{\"version\":1,\0\"exitCode\":0}", 27);
	assert_int_equal(mon_read_exit(t->path, &out, &err), -1);
	check_err(err, EINVAL, t->path, "/exit", "NUL", NULL);
	err_clear(&err);
	write_at(t, "exit", "\x89PNG\r\n", 6);
	assert_int_equal(mon_read_exit(t->path, &out, &err), -1);
	check_err(err, EINVAL, t->path, "/exit", NULL);
	err_clear(&err);
	{
		char *big = xmalloc(200000);
		memset(big, ' ', 200000);
		write_at(t, "exit", big, 200000);
		free(big);
	}
	assert_int_equal(mon_read_exit(t->path, &out, &err), -1);
	check_err(err, EFBIG, "exit", NULL);
	err_clear(&err);

	/* not a directory */
	assert_int_equal(mon_read_exit("/nonexistent/skiff-monitor-test", &out, &err), -1);
	check_err(err, ENOENT, "/nonexistent/skiff-monitor-test", NULL);
	err_clear(&err);
}

/* ---- k8s-file log ---- */

static void test_log_time_format(void **state)
{
	static const struct {
		int64_t ns;
		long off;
		const char *want;
	} cases[] = {
		{0, 0, "1970-01-01T00:00:00.000000000+00:00"},
		{1795366800123456789, 0, "2026-11-22T17:00:00.123456789+00:00"},
		{1795366800123456789, 3600, "2026-11-22T18:00:00.123456789+01:00"},
		{1795366800000000001, -(5 * 3600 + 30 * 60), "2026-11-22T11:30:00.000000001-05:30"},
		{951782400000000000, 0, "2000-02-29T00:00:00.000000000+00:00"},
		{-1, 0, "1969-12-31T23:59:59.999999999+00:00"},
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cleanup_strbuf struct strbuf sb = STRBUF_INIT;
		mon_log_format_time(&sb, cases[i].ns, cases[i].off);
		assert_string_equal(sb.buf, cases[i].want);
	}
}

static void test_log_format(void **state)
{
	const int64_t t = 1795366800123456789;
	const char *ts = "2026-11-22T17:00:00.123456789+00:00";
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	cleanup_strbuf struct strbuf want = STRBUF_INIT;
	(void)state;

	mon_log_format(&sb, t, 0, MON_STREAM_STDOUT, "hello\nworld", 11);
	strbuf_addf(&want, "%s stdout F hello\n%s stdout P world\n", ts, ts);
	assert_string_equal(sb.buf, want.buf);

	strbuf_reset(&sb);
	strbuf_reset(&want);
	mon_log_format(&sb, t, 0, MON_STREAM_STDERR, "a\n\nb\n", 5);
	strbuf_addf(&want, "%s stderr F a\n%s stderr F \n%s stderr F b\n", ts, ts, ts);
	assert_string_equal(sb.buf, want.buf);

	/* nothing for nothing; a lone newline is one empty full line */
	strbuf_reset(&sb);
	mon_log_format(&sb, t, 0, MON_STREAM_STDOUT, "", 0);
	assert_int_equal(sb.len, 0);
	mon_log_format(&sb, t, 0, MON_STREAM_STDOUT, "\n", 1);
	strbuf_reset(&want);
	strbuf_addf(&want, "%s stdout F \n", ts);
	assert_string_equal(sb.buf, want.buf);

	/* binary content, \r and NULs pass through untouched */
	strbuf_reset(&sb);
	mon_log_format(&sb, t, 0, MON_STREAM_STDOUT, "x\r\0y", 4);
	assert_int_equal(sb.len, strlen(ts) + strlen(" stdout P ") + 4 + 1);
	assert_memory_equal(sb.buf + sb.len - 5, "x\r\0y\n", 5);
}

/* Format chunks, parse the records back, and get the same bytes and times. */
static void test_log_roundtrip(void **state)
{
	const int64_t t = 1795366800123456789;
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	cleanup_strbuf struct strbuf back = STRBUF_INIT;
	char *big = xmalloc(100000);
	const char *p, *end;
	size_t records = 0;
	(void)state;

	for (size_t i = 0; i < 100000; i++)
		big[i] = (char)('a' + i % 26);
	mon_log_format(&sb, t, 3600, MON_STREAM_STDOUT, "one two  three\n", 15);
	mon_log_format(&sb, t, 3600, MON_STREAM_STDOUT, big, 100000); /* a long line without newline */
	mon_log_format(&sb, t, 3600, MON_STREAM_STDOUT, "\n", 1);
	for (p = sb.buf, end = sb.buf + sb.len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct skiff_err *err = NULL;
		struct mon_log_line l;
		assert_non_null(nl);
		if (mon_log_parse_line(p, (size_t)(nl - p + 1), &l, &err) < 0)
			fail_msg("parse: %s", err->msg);
		assert_true(l.time_ns == t);
		assert_int_equal(l.stream, MON_STREAM_STDOUT);
		strbuf_add(&back, l.content, l.content_len);
		if (!l.partial)
			strbuf_addch(&back, '\n');
		records++;
		p = nl + 1;
	}
	assert_int_equal(records, 3);
	assert_int_equal(back.len, 15 + 100000 + 1);
	assert_memory_equal(back.buf, "one two  three\n", 15);
	assert_memory_equal(back.buf + 15, big, 100000);
	free(big);
}

static void test_log_parse_forms(void **state)
{
	static const struct {
		const char *line;
		int64_t ns;
		enum mon_stream stream;
		bool partial;
		const char *content;
	} ok[] = {
		/* conmon's form */
		{"2026-11-22T17:00:00.123456789+00:00 stdout F hi\n", 1795366800123456789, MON_STREAM_STDOUT, false,
		 "hi"},
		/* podman's Go RFC3339Nano: trimmed fraction, Z */
		{"2026-11-22T17:00:00.5Z stderr P x y", 1795366800500000000, MON_STREAM_STDERR, true, "x y"},
		{"2026-11-22T17:00:00Z stdout F ", 1795366800000000000, MON_STREAM_STDOUT, false, ""},
		{"2026-11-22T17:00:00Z stdout F", 1795366800000000000, MON_STREAM_STDOUT, false, ""},
		{"2026-11-22T18:30:00+01:30 stdout F  lead", 1795366800000000000, MON_STREAM_STDOUT, false, " lead"},
		{"2026-11-22T12:00:00-05:00 stdout F tab\there", 1795366800000000000, MON_STREAM_STDOUT, false,
		 "tab\there"},
		{"1970-01-01T00:00:00Z stdout F epoch", 0, MON_STREAM_STDOUT, false, "epoch"},
		{"2016-12-31T23:59:60Z stdout F leap", 1483228799000000000, MON_STREAM_STDOUT, false, "leap"},
		{"2024-02-29T00:00:00Z stdout F leapday", 1709164800000000000, MON_STREAM_STDOUT, false, "leapday"},
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct skiff_err *err = NULL;
		struct mon_log_line l;
		if (mon_log_parse_line(ok[i].line, strlen(ok[i].line), &l, &err) < 0)
			fail_msg("case %zu (%s): %s", i, ok[i].line, err->msg);
		if (l.time_ns != ok[i].ns)
			fail_msg("case %zu: time %lld, expected %lld", i, (long long)l.time_ns, (long long)ok[i].ns);
		assert_int_equal(l.stream, ok[i].stream);
		assert_int_equal(l.partial, ok[i].partial);
		assert_int_equal(l.content_len, strlen(ok[i].content));
		assert_memory_equal(l.content, ok[i].content, l.content_len);
	}
}

static void test_log_parse_hostile(void **state)
{
	static const struct {
		const char *line;
		const char *needle;
	} bad[] = {
		{"", "no fields"},
		{"\n", "no fields"},
		{"garbage", "no fields"},
		{"x stdout F a", "bad time \"x\""},
		{"2026-13-01T00:00:00Z stdout F a", "bad time"},
		{"2026-02-29T00:00:00Z stdout F a", "bad time"},
		{"2026-04-31T00:00:00Z stdout F a", "bad time"},
		{"2026-01-01T24:00:00Z stdout F a", "bad time"},
		{"2026-01-01T00:60:00Z stdout F a", "bad time"},
		{"2026-01-01T00:00:61Z stdout F a", "bad time"},
		{"2026-01-01T00:00:00 stdout F a", "bad time"},
		{"2026-01-01T00:00:00.Z stdout F a", "bad time"},
		{"2026-01-01T00:00:00.1234567890Z stdout F a", "bad time"},
		{"2026-01-01T00:00:00+1:00 stdout F a", "bad time"},
		{"2026-01-01T00:00:00+01:60 stdout F a", "bad time"},
		{"2026-01-01T00:00:00ZZ stdout F a", "bad time"},
		{"2026-1-01T00:00:00Z stdout F a", "bad time"},
		{"+026-01-01T00:00:00Z stdout F a", "bad time"},
		{"2026-01-01T00:00:00Z stdin F a", "bad stream \"stdin F a\""},
		{"2026-01-01T00:00:00Z stdout", "bad stream"},
		{"2026-01-01T00:00:00Z stdout X a", "bad tag"},
		{"2026-01-01T00:00:00Z stdout Fa", "bad tag"},
		{"2026-01-01T00:00:00Z stdout ", "bad tag"},
		{"2026-01-01T00:00:00Z \x01\x02\xff F a", "bad stream \"??? F a\""},
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct skiff_err *err = NULL;
		struct mon_log_line l = {.content_len = 77};
		if (mon_log_parse_line(bad[i].line, strlen(bad[i].line), &l, &err) == 0)
			fail_msg("case %zu (%s) parsed", i, bad[i].line);
		check_err(err, EINVAL, "log line", bad[i].needle, NULL);
		assert_int_equal(l.content_len, 77);
		err_clear(&err);
	}
	/* a very long garbage time is quoted short */
	{
		char *junk = xmalloc(10001);
		struct skiff_err *err = NULL;
		struct mon_log_line l;
		memset(junk, 'x', 10000);
		junk[9000] = ' ';
		junk[10000] = '\0';
		assert_int_equal(mon_log_parse_line(junk, 10000, &l, &err), -1);
		check_err(err, EINVAL, "bad time", "...", NULL);
		assert_true(strlen(err->msg) < 200);
		err_clear(&err);
		free(junk);
	}
	/* a NUL inside the time field */
	{
		struct skiff_err *err = NULL;
		struct mon_log_line l;
		assert_int_equal(mon_log_parse_line("2026\0-01-01T00:00:00Z stdout F a", 33, &l, &err), -1);
		check_err(err, EINVAL, "bad time", NULL);
		err_clear(&err);
		assert_int_equal(mon_log_parse_line(NULL, 0, &l, &err), -1);
		check_err(err, EINVAL, NULL);
		err_clear(&err);
	}
}

static void test_log_writer(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	struct mon_log l;
	cleanup_free char *path = xasprintf("%s/ctr.log", t->path);
	cleanup_free char *moved = xasprintf("%s/ctr.log.1", t->path);
	cleanup_free char *buf = NULL;
	size_t len;

	if (mon_log_open(&l, MON_LOG_K8S_FILE, path, 300, &err) < 0)
		fail_msg("open: %s", err->msg);
	assert_int_equal(mon_log_write(&l, MON_STREAM_STDOUT, "first\n", 6, &err), 0);
	assert_int_equal(read_file_at(t->dfd, "ctr.log", SIZE_MAX, &buf, &len, &err), 0);
	assert_non_null(strstr(buf, " stdout F first\n"));
	free(TAKE_PTR(buf));

	/* past 300 bytes: truncated to 0 before the write, as podman does */
	for (int i = 0; i < 6; i++)
		assert_int_equal(mon_log_write(&l, MON_STREAM_STDERR, "0123456789\n", 11, &err), 0);
	assert_int_equal(read_file_at(t->dfd, "ctr.log", SIZE_MAX, &buf, &len, &err), 0);
	assert_true(len <= 300);
	assert_null(strstr(buf, "first"));
	assert_non_null(strstr(buf, " stderr F 0123456789\n"));
	free(TAKE_PTR(buf));

	/* a chunk of many short lines is flushed in pieces, none lost */
	{
		struct mon_log big;
		char *chunk = xmalloc(8192);
		memset(chunk, '\n', 8192);
		assert_int_equal(mon_log_open(&big, MON_LOG_K8S_FILE, moved, 0, &err), 0);
		assert_int_equal(mon_log_write(&big, MON_STREAM_STDOUT, chunk, 8192, &err), 0);
		mon_log_close(&big);
		assert_int_equal(read_file_at(t->dfd, "ctr.log.1", SIZE_MAX, &buf, &len, &err), 0);
		assert_int_equal(len, 8192 * (35 + strlen(" stdout F \n")));
		free(TAKE_PTR(buf));
		free(chunk);
		assert_int_equal(unlink(moved), 0);
	}

	/* rotated away: reopen writes a new file */
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(mon_log_reopen(&l, &err), 0);
	assert_int_equal(mon_log_write(&l, MON_STREAM_STDOUT, "after\n", 6, &err), 0);
	assert_int_equal(read_file_at(t->dfd, "ctr.log", SIZE_MAX, &buf, &len, &err), 0);
	assert_non_null(strstr(buf, " stdout F after\n"));
	free(TAKE_PTR(buf));
	mon_log_close(&l);

	/* driver none: nothing opened or written */
	assert_int_equal(mon_log_open(&l, MON_LOG_NONE, NULL, 0, &err), 0);
	assert_int_equal(mon_log_write(&l, MON_STREAM_STDOUT, "x\n", 2, &err), 0);
	assert_int_equal(mon_log_reopen(&l, &err), 0);
	mon_log_close(&l);

	/* a directory, a missing parent, no path */
	assert_int_equal(mon_log_open(&l, MON_LOG_K8S_FILE, t->path, 0, &err), -1);
	check_err(err, EISDIR, t->path, NULL);
	err_clear(&err);
	{
		cleanup_free char *nope = xasprintf("%s/no/such/log", t->path);
		assert_int_equal(mon_log_open(&l, MON_LOG_K8S_FILE, nope, 0, &err), -1);
		check_err(err, ENOENT, nope, NULL);
		err_clear(&err);
	}
	assert_int_equal(mon_log_open(&l, MON_LOG_K8S_FILE, NULL, 0, &err), -1);
	check_err(err, EINVAL, "k8s-file", NULL);
	err_clear(&err);
}

/* ---- protocol ---- */

static void roundtrip(const struct mon_msg *in)
{
	struct skiff_err *err = NULL;
	char buf[MON_PKT_MAX + 1];
	struct mon_msg out;
	size_t n;

	if (mon_msg_encode(in, buf, sizeof(buf), &n, &err) < 0)
		fail_msg("encode %c: %s", in->type, err->msg);
	if (mon_msg_decode(buf, n, &out, &err) < 0)
		fail_msg("decode %c: %s", in->type, err->msg);
	assert_int_equal(out.type, in->type);
	assert_int_equal(out.version, in->version);
	assert_int_equal(out.flags, in->flags);
	assert_int_equal(out.signal, in->signal);
	assert_int_equal(out.rows, in->rows);
	assert_int_equal(out.cols, in->cols);
	assert_int_equal(out.timeout, in->timeout);
	assert_int_equal(out.code, in->code);
	assert_int_equal(out.exit_signal, in->exit_signal);
	assert_int_equal(out.len, in->len);
	if (in->len)
		assert_memory_equal(out.data, in->data, in->len);
	assert_int_equal(out.data[out.len], '\0');
}

static void test_proto_roundtrip(void **state)
{
	char *big = xmalloc(MON_DATA_MAX);
	(void)state;

	memset(big, 'z', MON_DATA_MAX);
	roundtrip(&(struct mon_msg){.type = MON_PKT_VERSION, .version = 1, .data = "state=running", .len = 13});
	roundtrip(&(struct mon_msg){.type = MON_PKT_STDOUT, .data = "a\0b", .len = 3});
	roundtrip(&(struct mon_msg){.type = MON_PKT_STDERR, .data = big, .len = MON_DATA_MAX});
	roundtrip(&(struct mon_msg){.type = MON_PKT_STDIN});
	roundtrip(&(struct mon_msg){.type = MON_PKT_EXIT, .code = 137, .exit_signal = 9});
	roundtrip(&(struct mon_msg){.type = MON_PKT_EXIT, .code = -1, .exit_signal = INT32_MAX});
	roundtrip(&(struct mon_msg){.type = MON_PKT_REPLY, .code = EPROTO, .data = "unknown", .len = 7});
	roundtrip(&(struct mon_msg){.type = MON_PKT_REPLY});
	roundtrip(&(struct mon_msg){.type = MON_PKT_ATTACH, .flags = MON_ATTACH_ALL});
	roundtrip(&(struct mon_msg){.type = MON_PKT_STDIN_CLOSE});
	roundtrip(&(struct mon_msg){.type = MON_PKT_RESIZE, .rows = 65535, .cols = 80});
	roundtrip(&(struct mon_msg){.type = MON_PKT_START});
	roundtrip(&(struct mon_msg){.type = MON_PKT_STOP, .timeout = MON_STOP_DEFAULT_TIMEOUT, .signal = 15});
	roundtrip(&(struct mon_msg){.type = MON_PKT_KILL, .signal = 255});
	roundtrip(&(struct mon_msg){.type = MON_PKT_STATUS});
	roundtrip(&(struct mon_msg){.type = MON_PKT_LOG_REOPEN});
	free(big);
}

static void test_proto_wire(void **state)
{
	struct skiff_err *err = NULL;
	char buf[64];
	size_t n;
	(void)state;

	/* big-endian, exactly as docs/design/monitor.md shows */
	assert_int_equal(mon_msg_encode(&(struct mon_msg){.type = MON_PKT_EXIT, .code = 137, .exit_signal = 9}, buf,
					sizeof(buf), &n, &err),
			 0);
	assert_int_equal(n, 9);
	assert_memory_equal(buf, "x\0\0\0\x89\0\0\0\x09", 9);
	assert_int_equal(mon_msg_encode(&(struct mon_msg){.type = MON_PKT_STOP, .timeout = 10, .signal = 15}, buf,
					sizeof(buf), &n, &err),
			 0);
	assert_memory_equal(buf, "T\0\0\0\x0a\x0f", 6);
	assert_int_equal(n, 6);
	assert_int_equal(mon_msg_encode(&(struct mon_msg){.type = MON_PKT_RESIZE, .rows = 24, .cols = 0x1234}, buf,
					sizeof(buf), &n, &err),
			 0);
	assert_memory_equal(buf, "W\0\x18\x12\x34", 5);
	assert_int_equal(mon_msg_encode(&(struct mon_msg){.type = MON_PKT_REPLY, .code = -2, .data = "no", .len = 2},
					buf, sizeof(buf), &n, &err),
			 0);
	assert_memory_equal(buf, "r\xff\xff\xff\xfeno", 7);
}

static void test_proto_hostile(void **state)
{
	static const struct {
		const char *raw;
		size_t n;
		const char *needle;
	} bad[] = {
		{"", 0, "empty packet"},
		{"x", 1, "EXIT: 0 bytes"},
		{"x\0\0\0\0\0\0\0\0\0", 10, "EXIT: 9 bytes of payload, expected 8"},
		{"r\0\0", 3, "REPLY: 2 bytes of payload, expected at least 4"},
		{"V", 1, "VERSION"},
		{"A", 1, "ATTACH"},
		{"A\1\2", 3, "ATTACH"},
		{"W\0\0\0", 4, "RESIZE"},
		{"T\0\0\0\0", 5, "STOP"},
		{"K", 1, "KILL"},
		{"S!", 2, "START"},
		{"Q\n", 2, "STATUS"},
		{"C\0", 2, "STDIN_CLOSE"},
		{"L\0", 2, "LOG_REOPEN"},
	};
	char buf[MON_PKT_MAX + 1];
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct skiff_err *err = NULL;
		struct mon_msg m = {.type = 0x7f};
		memcpy(buf, bad[i].raw, bad[i].n);
		assert_int_equal(mon_msg_decode(buf, bad[i].n, &m, &err), -1);
		check_err(err, EINVAL, bad[i].needle, NULL);
		assert_int_equal(m.type, 0x7f);
		err_clear(&err);
	}
	/* unknown types decode (the monitor answers EPROTO); too long is EMSGSIZE */
	{
		struct skiff_err *err = NULL;
		struct mon_msg m;
		memcpy(buf, "\xffhello", 6);
		assert_int_equal(mon_msg_decode(buf, 6, &m, &err), 0);
		assert_int_equal(m.type, 0xff);
		assert_false(mon_pkt_known(m.type));
		assert_int_equal(m.len, 5);
		assert_true(mon_pkt_known(MON_PKT_STOP));
		assert_int_equal(mon_msg_decode(buf, MON_PKT_MAX + 1, &m, &err), -1);
		check_err(err, EMSGSIZE, NULL);
		err_clear(&err);
	}
	/* encode refuses what it cannot say */
	{
		struct skiff_err *err = NULL;
		char *big = xzalloc(MON_PKT_MAX + 10);
		size_t n;
		assert_int_equal(
			mon_msg_encode(&(struct mon_msg){.type = MON_PKT_STDIN, .data = big, .len = MON_PKT_MAX}, big,
				       MON_PKT_MAX + 10, &n, &err),
			-1);
		check_err(err, EMSGSIZE, "STDIN", NULL);
		err_clear(&err);
		assert_int_equal(mon_msg_encode(&(struct mon_msg){.type = MON_PKT_STDOUT, .data = "abc", .len = 3}, buf,
						3, &n, &err),
				 -1);
		check_err(err, EMSGSIZE, NULL);
		err_clear(&err);
		assert_int_equal(mon_msg_encode(&(struct mon_msg){.type = 'Z'}, buf, sizeof(buf), &n, &err), -1);
		check_err(err, EINVAL, "unknown type 0x5a", NULL);
		err_clear(&err);
		assert_int_equal(mon_msg_encode(&(struct mon_msg){.type = MON_PKT_KILL, .data = "x", .len = 1}, buf,
						sizeof(buf), &n, &err),
				 -1);
		check_err(err, EINVAL, "KILL", "no data", NULL);
		err_clear(&err);
		assert_int_equal(
			mon_msg_encode(&(struct mon_msg){.type = MON_PKT_STDIN, .len = 4}, buf, sizeof(buf), &n, &err),
			-1);
		check_err(err, EINVAL, NULL);
		err_clear(&err);
		free(big);
	}
}

static void test_sockaddr(void **state)
{
	struct skiff_err *err = NULL;
	struct sockaddr_un sa;
	socklen_t len;
	char name[200];
	(void)state;

	assert_int_equal(mon_sockaddr_at(7, "ctl", &sa, &len, &err), 0);
	assert_string_equal(sa.sun_path, "/proc/self/fd/7/ctl");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + strlen("/proc/self/fd/7/ctl") + 1);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(mon_sockaddr_at(7, name, &sa, &len, &err), -1);
	check_err(err, ENAMETOOLONG, "nnnn", NULL);
	err_clear(&err);
}

/* ---- client side, against a scripted monitor on a socketpair ---- */

static void put(int fd, const char *raw, size_t n)
{
	assert_int_equal(send(fd, raw, n, 0), (ssize_t)n);
}

static void test_client_requests(void **state)
{
	struct skiff_err *err = NULL;
	struct mon_packet *p = xmalloc(sizeof(*p));
	char *text = NULL;
	char buf[64];
	int sv[2];
	(void)state;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);

	/* output and EXIT before the REPLY are skipped */
	put(sv[1], "ohello", 6);
	put(sv[1], "x\0\0\0\0\0\0\0\0", 9);
	put(sv[1], "r\0\0\0\0", 5);
	assert_int_equal(mon_start(sv[0], &err), 0);
	assert_int_equal(recv(sv[1], buf, sizeof(buf), 0), 1);
	assert_int_equal(buf[0], 'S');

	/* an error reply carries its errno and text */
	put(sv[1], "r\0\0\0\x03the container is not running", 34);
	assert_int_equal(mon_kill(sv[0], SIGKILL, &err), -1);
	check_err(err, ESRCH, "the container is not running", NULL);
	err_clear(&err);
	assert_int_equal(recv(sv[1], buf, sizeof(buf), 0), 2);
	assert_memory_equal(buf, "K\x09", 2);

	/* STATUS text */
	put(sv[1], "r\0\0\0\0state=running pid=5 restarts=0\n", 36);
	assert_int_equal(mon_status(sv[0], &text, &err), 0);
	assert_string_equal(text, "state=running pid=5 restarts=0\n");
	free(text);
	assert_int_equal(recv(sv[1], buf, sizeof(buf), 0), 1);

	/* a malformed packet from the monitor is EPROTO */
	put(sv[1], "x\0\0", 3);
	assert_int_equal(mon_stop(sv[0], 5, 0, &err), -1);
	check_err(err, EPROTO, "bad packet", "EXIT", NULL);
	err_clear(&err);
	assert_int_equal(recv(sv[1], buf, sizeof(buf), 0), 6);
	assert_memory_equal(buf, "T\0\0\0\x05\0", 6);

	/* a packet larger than the protocol allows */
	{
		char *big = xzalloc(MON_PKT_MAX + 100);
		big[0] = 'o';
		put(sv[1], big, MON_PKT_MAX + 100);
		assert_int_equal(mon_recv(sv[0], p, &err), -1);
		check_err(err, EPROTO, "bytes", NULL);
		err_clear(&err);
		free(big);
	}

	/* stream packets; stdin is split into packets */
	{
		char *data = xmalloc(MON_DATA_MAX + 10);
		memset(data, 'd', MON_DATA_MAX + 10);
		assert_int_equal(mon_send_stdin(sv[0], data, MON_DATA_MAX + 10, &err), 0);
		assert_int_equal(mon_recv(sv[1], p, &err), 1);
		assert_int_equal(p->msg.type, MON_PKT_STDIN);
		assert_int_equal(p->msg.len, MON_DATA_MAX);
		assert_int_equal(mon_recv(sv[1], p, &err), 1);
		assert_int_equal(p->msg.len, 10);
		free(data);
	}
	assert_int_equal(mon_resize(sv[0], 24, 80, &err), 0);
	assert_int_equal(mon_recv(sv[1], p, &err), 1);
	assert_int_equal(p->msg.type, MON_PKT_RESIZE);
	assert_int_equal(p->msg.rows, 24);
	assert_int_equal(p->msg.cols, 80);
	assert_int_equal(mon_resize(sv[0], 70000, 80, &err), -1);
	check_err(err, EINVAL, "70000x80", NULL);
	err_clear(&err);
	assert_int_equal(mon_kill(sv[0], 0, &err), -1);
	check_err(err, EINVAL, "invalid signal 0", NULL);
	err_clear(&err);
	assert_int_equal(mon_close_stdin(sv[0], &err), 0);
	assert_int_equal(mon_recv(sv[1], p, &err), 1);
	assert_int_equal(p->msg.type, MON_PKT_STDIN_CLOSE);

	/* the monitor goes away in the middle of a request */
	close(sv[1]);
	assert_int_equal(mon_reopen_log(sv[0], &err), -1);
	assert_non_null(err);
	err_clear(&err);
	assert_int_equal(mon_recv(sv[0], p, &err), 0);
	close(sv[0]);
	free(p);
}

/* A one-shot monitor stand-in: accepts one connection on DIR/ctl and sends raw. */
static pid_t fake_server(const char *dir, const char *raw, size_t n)
{
	struct skiff_err *err = NULL;
	struct sockaddr_un sa;
	socklen_t len;
	int dfd, lfd;
	pid_t pid;

	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(mon_sockaddr_at(dfd, "ctl", &sa, &len, &err), 0);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	(void)unlinkat(dfd, "ctl", 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, len), 0);
	assert_int_equal(listen(lfd, 1), 0);
	close(dfd);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int c = accept(lfd, NULL, NULL);
		char b;
		if (c < 0 || (n && send(c, raw, n, 0) != (ssize_t)n))
			_exit(1);
		(void)recv(c, &b, 1, 0); /* until the client closes */
		_exit(0);
	}
	close(lfd);
	return pid;
}

static void test_client_connect(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	cleanup_strbuf struct strbuf deep = STRBUF_INIT;
	char *st = NULL;
	pid_t pid;
	int fd, status;

	/* a directory deeper than sun_path's 108 bytes */
	strbuf_addstr(&deep, t->path);
	for (int i = 0; i < 6; i++)
		strbuf_addstr(&deep, "/a-rather-long-directory-name-for-sun-path");
	assert_int_equal(mkdir_p_at(AT_FDCWD, deep.buf, 0700, &err), 0);
	assert_true(deep.len > 200);

	assert_int_equal(mon_connect(deep.buf, &fd, NULL, &err), -1);
	check_err(err, ENOENT, "no monitor control socket", NULL);
	err_clear(&err);

	pid = fake_server(deep.buf, "V\x01state=created pid=9 restarts=0\n", 34);
	if (mon_connect(deep.buf, &fd, &st, &err) < 0)
		fail_msg("connect: %s", err->msg);
	assert_string_equal(st, "state=created pid=9 restarts=0\n");
	free(st);
	close(fd);
	assert_int_equal(spawn_wait(pid, &status), 0);
	assert_int_equal(status, 0);

	pid = fake_server(deep.buf, "V\x02", 2);
	assert_int_equal(mon_connect(deep.buf, &fd, NULL, &err), -1);
	check_err(err, EPROTO, "protocol version 2", NULL);
	err_clear(&err);
	assert_int_equal(spawn_wait(pid, &status), 0);

	pid = fake_server(deep.buf, "r\0\0\0\0", 5);
	assert_int_equal(mon_connect(deep.buf, &fd, NULL, &err), -1);
	check_err(err, EPROTO, "did not start with its version", NULL);
	err_clear(&err);
	assert_int_equal(spawn_wait(pid, &status), 0);

	pid = fake_server(deep.buf, "V", 1);
	assert_int_equal(mon_connect(deep.buf, &fd, NULL, &err), -1);
	check_err(err, EPROTO, "VERSION", NULL);
	err_clear(&err);
	assert_int_equal(spawn_wait(pid, &status), 0);
}

/* ---- monitor.pid ---- */

static void test_alive(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	uint64_t st;
	bool alive = true;
	static const char *const bad[] = {"",	  "x",	 "12",	   "12 ",     "12 x",
					  "-1 5", "0 5", "12 5 6", "12 5\nx", "99999999999 1"};

	/* none: not alive */
	assert_int_equal(mon_alive(t->path, &alive, &err), 0);
	assert_false(alive);

	assert_int_equal(proc_starttime(0, &st), 0);
	strbuf_addf(&sb, "%d %llu\n", (int)getpid(), (unsigned long long)st);
	write_at(t, "monitor.pid", sb.buf, sb.len);
	assert_int_equal(mon_alive(t->path, &alive, &err), 0);
	assert_true(alive);

	/* the same pid with another start time: pid reuse, not our monitor */
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%d %llu\n", (int)getpid(), (unsigned long long)st + 1);
	write_at(t, "monitor.pid", sb.buf, sb.len);
	assert_int_equal(mon_alive(t->path, &alive, &err), 0);
	assert_false(alive);

	/* a pid that is gone */
	{
		pid_t pid = fork();
		int status;
		if (pid == 0)
			_exit(0);
		assert_int_equal(spawn_wait(pid, &status), 0);
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%d 5\n", (int)pid);
		write_at(t, "monitor.pid", sb.buf, sb.len);
		alive = true;
		assert_int_equal(mon_alive(t->path, &alive, &err), 0);
		assert_false(alive);
	}

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		write_at(t, "monitor.pid", bad[i], strlen(bad[i]));
		alive = true;
		if (mon_alive(t->path, &alive, &err) == 0)
			fail_msg("case %zu (%s) accepted", i, bad[i]);
		check_err(err, EINVAL, "monitor.pid", t->path, NULL);
		assert_true(alive);
		err_clear(&err);
	}
}

/* ---- restart policy ---- */

static void test_restart_parse(void **state)
{
	static const struct {
		const char *in;
		enum mon_restart_kind kind;
		unsigned max;
	} ok[] = {
		{"", MON_RESTART_NO, 0},
		{"no", MON_RESTART_NO, 0},
		{"on-failure", MON_RESTART_ON_FAILURE, 0},
		{"on-failure:3", MON_RESTART_ON_FAILURE, 3},
		{"on-failure:0", MON_RESTART_ON_FAILURE, 0},
		{"always", MON_RESTART_ALWAYS, 0},
		{"unless-stopped", MON_RESTART_UNLESS_STOPPED, 0},
	};
	static const char *const bad[] = {"yes",
					  "No",
					  "always:3",
					  "no:1",
					  "on-failure:",
					  "on-failure:-1",
					  "on-failure:x",
					  "on-failure:1x",
					  "on-failure:99999999999",
					  "on-failure:+1",
					  "on-failure::1",
					  " always",
					  "on"};
	struct skiff_err *err = NULL;
	struct mon_restart_policy p;
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		if (mon_restart_parse(ok[i].in, &p, &err) < 0)
			fail_msg("%s: %s", ok[i].in, err->msg);
		assert_int_equal(p.kind, ok[i].kind);
		assert_int_equal(p.max_retries, ok[i].max);
	}
	assert_int_equal(mon_restart_parse(NULL, &p, &err), 0);
	assert_int_equal(p.kind, MON_RESTART_NO);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		p.kind = MON_RESTART_ALWAYS;
		if (mon_restart_parse(bad[i], &p, &err) == 0)
			fail_msg("%s accepted", bad[i]);
		check_err(err, EINVAL, bad[i], NULL);
		assert_int_equal(p.kind, MON_RESTART_ALWAYS);
		err_clear(&err);
	}
}

static void test_restart_decision(void **state)
{
	static const struct {
		struct mon_restart_policy p;
		int code;
		bool by_user;
		unsigned restarts;
		bool want;
	} t[] = {
		{{MON_RESTART_NO, 0}, 1, false, 0, false},
		{{MON_RESTART_NO, 0}, 0, false, 0, false},
		{{MON_RESTART_ALWAYS, 0}, 0, false, 0, true},
		{{MON_RESTART_ALWAYS, 0}, 137, false, 1000, true},
		{{MON_RESTART_ALWAYS, 0}, 137, true, 0, false},
		{{MON_RESTART_UNLESS_STOPPED, 0}, 0, false, 5, true},
		{{MON_RESTART_UNLESS_STOPPED, 0}, 143, true, 0, false},
		{{MON_RESTART_ON_FAILURE, 0}, 0, false, 0, false},
		{{MON_RESTART_ON_FAILURE, 0}, 1, false, 0, true},
		{{MON_RESTART_ON_FAILURE, 0}, 1, false, 100000, true},
		{{MON_RESTART_ON_FAILURE, 0}, 137, true, 0, false},
		{{MON_RESTART_ON_FAILURE, 2}, 1, false, 0, true},
		{{MON_RESTART_ON_FAILURE, 2}, 1, false, 1, true},
		{{MON_RESTART_ON_FAILURE, 2}, 1, false, 2, false},
		{{MON_RESTART_ON_FAILURE, 2}, 0, false, 0, false},
		{{MON_RESTART_ON_FAILURE, 2}, -1, false, 0, true},
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (mon_restart_wanted(&t[i].p, t[i].code, t[i].by_user, t[i].restarts) != t[i].want)
			fail_msg("case %zu: expected %s", i, t[i].want ? "restart" : "no restart");

	assert_int_equal(mon_restart_delay_ms(0), 100);
	assert_int_equal(mon_restart_delay_ms(1), 200);
	assert_int_equal(mon_restart_delay_ms(6), 6400);
	assert_int_equal(mon_restart_delay_ms(7), 10000);
	assert_int_equal(mon_restart_delay_ms(40), 10000);
	assert_int_equal(mon_restart_delay_ms(UINT_MAX), 10000);
}

/* ---- the runtime's stderr, for messages ---- */

static void test_last_line(void **state)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{"", ""},
		{"\n\n  \r\n", ""},
		{"only", "only"},
		{"warming up\nreal error: no such file\n\n", "real error: no such file"},
		{"a\r\nb \r\n", "b"},
	};
	char *big = xmalloc(2001), *got;
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		got = mon_last_line(t[i].in);
		assert_string_equal(got, t[i].want);
		free(got);
	}
	memset(big, 'q', 2000);
	big[0] = 'X';
	big[2000] = '\0';
	got = mon_last_line(big);
	assert_int_equal(strlen(got), 500);
	free(got);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_roundtrip),
		cmocka_unit_test(test_exit_exact_shape),
		cmocka_unit_test(test_exit_tolerant),
		cmocka_unit_test(test_exit_hostile),
		cmocka_unit_test_setup_teardown(test_exit_files, setup, teardown),
		cmocka_unit_test(test_log_time_format),
		cmocka_unit_test(test_log_format),
		cmocka_unit_test(test_log_roundtrip),
		cmocka_unit_test(test_log_parse_forms),
		cmocka_unit_test(test_log_parse_hostile),
		cmocka_unit_test_setup_teardown(test_log_writer, setup, teardown),
		cmocka_unit_test(test_proto_roundtrip),
		cmocka_unit_test(test_proto_wire),
		cmocka_unit_test(test_proto_hostile),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_client_requests),
		cmocka_unit_test_setup_teardown(test_client_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alive, setup, teardown),
		cmocka_unit_test(test_restart_parse),
		cmocka_unit_test(test_restart_decision),
		cmocka_unit_test(test_last_line),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
