/* Unit tests for the rotated k8s-file log of pkg/monitor/log.h: the writer's rotation
 * (--log-max-file) and mon_log_files_open(), the reader's consistent set of files, also
 * against a writer rotating in another process; and the engine's --log-opt max-file (parse,
 * store, inspect). tests/system/226-log-rotate.bats runs it end to end. */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/engine/ctrconfig.h"
#include "pkg/json/json.h"
#include "pkg/monitor/log.h"
#include "pkg/monitor/monitor.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

struct tmp {
	char path[PATH_MAX];
	char *log; /* path/ctr.log */
	int dfd;
};

static int setup(void **state)
{
	struct tmp *t = xzalloc(sizeof(*t));
	const char *base = getenv("TMPDIR");

	snprintf(t->path, sizeof(t->path), "%s/skiff-test-logrotate-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(t->path))
		return -1;
	t->dfd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dfd < 0)
		return -1;
	t->log = xasprintf("%s/ctr.log", t->path);
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
	free(t->log);
	free(t);
	return 0;
}

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

static off_t size_of(struct tmp *t, const char *name)
{
	struct stat st;

	if (fstatat(t->dfd, name, &st, 0) < 0)
		return -1;
	return st.st_size;
}

static void write_line(struct mon_log *l, long n)
{
	struct skiff_err *err = NULL;
	char line[64];
	int len = snprintf(line, sizeof(line), "line %ld\n", n);

	if (mon_log_write(l, MON_STREAM_STDOUT, line, (size_t)len, &err) < 0)
		fail_msg("write line %ld: %s", n, err->msg);
}

/*
 * Read the set at path, oldest first, and check its records: each parses, each file ends
 * with a whole record, and the numbers of "line N" contents run on by one with no gap or
 * repeat. *ret_first / *ret_last get the first and last number (0 and -1 for none).
 */
static void read_set(const char *path, unsigned max_file, size_t *ret_files, long *ret_first, long *ret_last)
{
	struct skiff_err *err = NULL;
	struct mon_log_files f;
	long first = 0, last = -1;

	if (mon_log_files_open(path, max_file, &f, &err) < 0)
		fail_msg("files: %s", err->msg);
	for (size_t i = 0; i < f.n; i++) {
		cleanup_free char *buf = NULL;
		size_t len, pos = 0;

		if (read_all_fd(f.v[i].fd, SIZE_MAX, &buf, &len, &err) < 0)
			fail_msg("read: %s", err->msg);
		/* the newest file may be read in the middle of a write */
		if (len && buf[len - 1] != '\n' && i + 1 < f.n)
			fail_msg("file %zu of %zu ends inside a record", i, f.n);
		while (pos < len) {
			char *nl = memchr(buf + pos, '\n', len - pos);
			struct mon_log_line l;
			long n;

			if (!nl)
				break;
			if (mon_log_parse_line(buf + pos, (size_t)(nl - (buf + pos)), &l, &err) < 0)
				fail_msg("parse: %s", err->msg);
			assert_false(l.partial);
			if (l.content_len < 6 || memcmp(l.content, "line ", 5))
				fail_msg("unexpected record %.*s", (int)l.content_len, l.content);
			n = strtol(l.content + 5, NULL, 10);
			if (last >= 0 && n != last + 1)
				fail_msg("line %ld follows line %ld (file %zu of %zu)", n, last, i, f.n);
			if (last < 0)
				first = n;
			last = n;
			pos = (size_t)(nl - buf) + 1;
		}
	}
	*ret_files = f.n;
	mon_log_files_close(&f);
	*ret_first = first;
	*ret_last = last;
}

static void test_rotate(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	struct mon_log l;
	size_t files;
	long first, last;

	if (mon_log_open(&l, MON_LOG_K8S_FILE, t->log, 300, &err) < 0)
		fail_msg("open: %s", err->msg);
	mon_log_set_max_file(&l, 3);
	for (long i = 1; i <= 100; i++)
		write_line(&l, i);
	/* three files, none over the limit, no fourth, no temporary left */
	for (const char *const *n = (const char *const[]){"ctr.log", "ctr.log.1", "ctr.log.2", NULL}; *n; n++) {
		off_t sz = size_of(t, *n);
		if (sz <= 0 || sz > 300)
			fail_msg("%s has %lld bytes", *n, (long long)sz);
	}
	assert_int_equal(size_of(t, "ctr.log.3"), -1);
	assert_int_equal(size_of(t, "ctr.log.rotate"), -1);
	read_set(t->log, 3, &files, &first, &last);
	assert_int_equal(files, 3);
	assert_int_equal(last, 100);
	assert_true(first > 1); /* the oldest were dropped */

	/* a record bigger than the limit gets a file of its own, not split */
	{
		char big[600];
		memset(big, 'x', sizeof(big));
		big[sizeof(big) - 1] = '\n';
		assert_int_equal(mon_log_write(&l, MON_STREAM_STDERR, big, sizeof(big), &err), 0);
		write_line(&l, 101);
		assert_true(size_of(t, "ctr.log.1") > 600);
		assert_true(size_of(t, "ctr.log") < 300);
	}
	mon_log_close(&l);

	/* a new writer (a restarted monitor) goes on from the sizes on disk */
	if (mon_log_open(&l, MON_LOG_K8S_FILE, t->log, 300, &err) < 0)
		fail_msg("reopen: %s", err->msg);
	mon_log_set_max_file(&l, 3);
	for (long i = 1000; i < 1100; i++)
		write_line(&l, i);
	mon_log_close(&l);
	read_set(t->log, 3, &files, &first, &last);
	assert_int_equal(files, 3);
	assert_int_equal(last, 1099);

	/* max-file 2: one rotated file */
	{
		cleanup_free char *p2 = xasprintf("%s/two.log", t->path);
		if (mon_log_open(&l, MON_LOG_K8S_FILE, p2, 200, &err) < 0)
			fail_msg("open: %s", err->msg);
		mon_log_set_max_file(&l, 2);
		for (long i = 1; i <= 50; i++)
			write_line(&l, i);
		mon_log_close(&l);
		assert_true(size_of(t, "two.log.1") > 0);
		assert_int_equal(size_of(t, "two.log.2"), -1);
		read_set(p2, 2, &files, &first, &last);
		assert_int_equal(files, 2);
		assert_int_equal(last, 50);
	}
}

static void test_truncate_default(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	struct mon_log l;
	size_t files;
	long first, last;

	/* max_file 0 and 1: podman's truncation, no rotated file */
	for (unsigned mf = 0; mf <= 1; mf++) {
		if (mon_log_open(&l, MON_LOG_K8S_FILE, t->log, 300, &err) < 0)
			fail_msg("open: %s", err->msg);
		mon_log_set_max_file(&l, mf);
		for (long i = 1; i <= 50; i++)
			write_line(&l, i);
		mon_log_close(&l);
		assert_int_equal(size_of(t, "ctr.log.1"), -1);
		assert_true(size_of(t, "ctr.log") <= 300);
		read_set(t->log, mf, &files, &first, &last);
		assert_int_equal(files, 1);
		assert_int_equal(last, 50);
		assert_int_equal(unlinkat(t->dfd, "ctr.log", 0), 0);
	}
	/* no size limit: max-file alone never rotates */
	if (mon_log_open(&l, MON_LOG_K8S_FILE, t->log, 0, &err) < 0)
		fail_msg("open: %s", err->msg);
	mon_log_set_max_file(&l, 3);
	for (long i = 1; i <= 50; i++)
		write_line(&l, i);
	mon_log_close(&l);
	assert_int_equal(size_of(t, "ctr.log.1"), -1);
	read_set(t->log, 3, &files, &first, &last);
	assert_int_equal(first, 1);
	assert_int_equal(last, 50);
}

static void test_rotate_failure_and_gaps(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	struct mon_log l;
	size_t files;
	long first, last;
	char line[] = "line 7\n";

	/* the new file cannot be made: the error names it, the record still lands, in the old file */
	assert_int_equal(mkdirat(t->dfd, "ctr.log.rotate", 0700), 0);
	if (mon_log_open(&l, MON_LOG_K8S_FILE, t->log, 100, &err) < 0)
		fail_msg("open: %s", err->msg);
	mon_log_set_max_file(&l, 4);
	for (long i = 1; i <= 6; i++) {
		char b[16];
		int n = snprintf(b, sizeof(b), "line %ld\n", i);
		if (mon_log_write(&l, MON_STREAM_STDOUT, b, (size_t)n, &err) < 0) {
			check_err(err, EISDIR, "ctr.log.rotate", NULL);
			err_clear(&err);
		}
	}
	assert_true(size_of(t, "ctr.log") > 100);
	assert_int_equal(size_of(t, "ctr.log.1"), -1);
	/* and once it can, rotation resumes */
	assert_int_equal(unlinkat(t->dfd, "ctr.log.rotate", AT_REMOVEDIR), 0);
	assert_int_equal(mon_log_write(&l, MON_STREAM_STDOUT, line, strlen(line), &err), 0);
	assert_true(size_of(t, "ctr.log.1") > 100);
	read_set(t->log, 4, &files, &first, &last);
	assert_int_equal(files, 2);
	assert_int_equal(first, 1);
	assert_int_equal(last, 7);

	/* a gap (ctr.log.1 moved away): only what is below it moves, the rest stays older */
	assert_int_equal(renameat(t->dfd, "ctr.log.1", t->dfd, "ctr.log.2"), 0);
	write_line(&l, 8);
	assert_true(size_of(t, "ctr.log.2") > 100); /* lines 1-6, untouched */
	assert_int_equal(size_of(t, "ctr.log.3"), -1);
	read_set(t->log, 4, &files, &first, &last);
	assert_int_equal(files, 3);
	assert_int_equal(first, 1);
	assert_int_equal(last, 8);
	/* with no gap left, the oldest is dropped at max-file */
	write_line(&l, 9);
	write_line(&l, 10);
	assert_true(size_of(t, "ctr.log.3") > 0);
	assert_int_equal(size_of(t, "ctr.log.4"), -1);
	read_set(t->log, 4, &files, &first, &last);
	assert_int_equal(files, 4);
	assert_int_equal(first, 7);
	assert_int_equal(last, 10);
	mon_log_close(&l);
}

static void test_files_hostile(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	struct mon_log_files f;

	/* no log yet: an empty set */
	assert_int_equal(mon_log_files_open(t->log, 5, &f, &err), 0);
	assert_int_equal(f.n, 0);
	assert_int_equal(mon_log_files_find(&f, 1, 1), -1);
	mon_log_files_close(&f);

	/* a rotated name that is a directory: EINVAL naming it, nothing leaked */
	{
		int fd = openat(t->dfd, "ctr.log", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(mkdirat(t->dfd, "ctr.log.1", 0700), 0);
	assert_int_equal(mon_log_files_open(t->log, 5, &f, &err), -1);
	check_err(err, EINVAL, "ctr.log.1", "not a regular file", NULL);
	err_clear(&err);
	/* files beyond max_file are not looked at */
	assert_int_equal(mon_log_files_open(t->log, 1, &f, &err), 0);
	assert_int_equal(f.n, 1);
	{
		struct stat st;
		assert_int_equal(fstat(f.v[0].fd, &st), 0);
		assert_int_equal(mon_log_files_find(&f, st.st_dev, st.st_ino), 0);
	}
	mon_log_files_close(&f);
	assert_int_equal(unlinkat(t->dfd, "ctr.log.1", AT_REMOVEDIR), 0);

	/* a gap of one is bridged, two in a row end the set */
	assert_int_equal(symlinkat("ctr.log", t->dfd, "ctr.log.2"), 0); /* the same file twice */
	{
		int fd = openat(t->dfd, "ctr.log.5", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(mon_log_files_open(t->log, 10, &f, &err), 0);
	assert_int_equal(f.n, 1); /* ctr.log.2 is ctr.log (counted once); ctr.log.5 is past the gap */
	mon_log_files_close(&f);

	/* no path */
	assert_int_equal(mon_log_files_open(NULL, 3, &f, &err), -1);
	check_err(err, EINVAL, "no path", NULL);
	err_clear(&err);
	assert_int_equal(mon_log_files_open("", 3, &f, &err), -1);
	err_clear(&err);
}

/* A writer rotating as fast as it can in a child; every set the reader opens meanwhile is
 * gap-free and repeat-free, and the log's own name never goes missing. */
static void concurrent(struct tmp *t, unsigned max_file)
{
	long total = 20000;
	bool created = false;
	pid_t pid;

	for (unsigned i = 0; i < 8; i++) {
		cleanup_free char *name = mon_log_file_name(t->log, i);
		(void)unlink(name);
	}
	pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct skiff_err *err = NULL;
		struct mon_log l;

		if (mon_log_open(&l, MON_LOG_K8S_FILE, t->log, 512, &err) < 0)
			_exit(2);
		mon_log_set_max_file(&l, max_file);
		for (long i = 1; i <= total; i++) {
			char b[32];
			int n = snprintf(b, sizeof(b), "line %ld\n", i);
			if (mon_log_write(&l, MON_STREAM_STDOUT, b, (size_t)n, &err) < 0)
				_exit(3);
		}
		mon_log_close(&l);
		_exit(0);
	}
	int status, sets = 0;
	long seen_last = -1;
	for (;;) {
		size_t files;
		long first, last;
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (created && access(t->log, F_OK) < 0)
			fail_msg("%s went missing during a rotation (max-file %u)", t->log, max_file);
		created = created || access(t->log, F_OK) == 0;
		read_set(t->log, max_file, &files, &first, &last);
		assert_true(files <= max_file);
		sets++;
		if (last > seen_last)
			seen_last = last;
		if (w == pid)
			break;
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(seen_last, total);
	assert_true(sets > 1);
}

static void test_concurrent(void **state)
{
	concurrent(*state, 4);
	concurrent(*state, 2);
}

/* ---- --log-opt max-file in the engine ---- */

static char *config_dump(const struct json *j)
{
	struct strbuf sb = STRBUF_INIT;

	json_dump(j, 0, &sb);
	return strbuf_detach(&sb, NULL);
}

static void test_log_opts(void **state)
{
	static const char *const bad[] = {"0",	"",    "x",   "-1",    "+3",	      " 3",
					  "3 ", "1.5", "0x3", "10001", "99999999999", NULL};
	struct skiff_err *err = NULL;
	unsigned v = 0;
	(void)state;

	assert_int_equal(ctr_parse_log_max_file("1", &v, &err), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ctr_parse_log_max_file("10000", &v, &err), 0);
	assert_int_equal(v, 10000);
	assert_int_equal(CTR_LOG_MAX_FILE_MAX, MON_LOG_MAX_FILE_MAX);
	for (const char *const *b = bad; *b; b++) {
		v = 7;
		assert_int_equal(ctr_parse_log_max_file(*b, &v, &err), -1);
		cleanup_free char *want = xasprintf("invalid max-file \"%s\"", *b);
		check_err(err, EINVAL, want, NULL);
		err_clear(&err);
		assert_int_equal(v, 7); /* untouched on failure */
	}
	assert_int_equal(ctr_parse_log_max_file(NULL, &v, &err), -1);
	err_clear(&err);

	/* stored with the container, shown in inspect's LogConfig.Config */
	{
		cleanup_ctr_config struct ctr_config *c = ctr_config_new();
		cleanup_ctr_config struct ctr_config *c2 = NULL;
		cleanup_json struct json *lc = ctr_log_config_json(c);
		assert_true(json_is(lc, JSON_NULL));
		c->log_max_file = 3;
		c->log_size_max = 10 << 20;
		cleanup_json struct json *lc2 = ctr_log_config_json(c);
		cleanup_free char *txt = config_dump(lc2);
		assert_string_equal(txt, "{\"max-file\":\"3\",\"max-size\":\"10m\"}");
		cleanup_json struct json *j = ctr_config_to_json(c);
		assert_int_equal(ctr_config_from_json(j, &c2, &err), 0);
		assert_int_equal(c2->log_max_file, 3);
		c->log_size_max = 1500;
		c->log_max_file = 0;
		cleanup_json struct json *lc3 = ctr_log_config_json(c);
		cleanup_free char *txt3 = config_dump(lc3);
		assert_string_equal(txt3, "{\"max-size\":\"1500\"}");
	}
	/* a hostile store record: out of range, wrong type */
	{
		static const char *const recs[] = {"{\"log_max_file\": 10001}", "{\"log_max_file\": -1}",
						   "{\"log_max_file\": \"3\"}", NULL};
		for (const char *const *r = recs; *r; r++) {
			cleanup_json struct json *j = NULL;
			struct ctr_config *c = NULL;
			assert_int_equal(json_parse(*r, strlen(*r), &j, &err), 0);
			assert_int_equal(ctr_config_from_json(j, &c, &err), -1);
			assert_null(c);
			check_err(err, EINVAL, "log_max_file", NULL);
			err_clear(&err);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rotate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncate_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_failure_and_gaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
		cmocka_unit_test(test_log_opts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
