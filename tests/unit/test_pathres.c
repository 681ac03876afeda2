/* Unit tests for vendor-free/pathres: resolution inside a root, with openat2 and with
 * the userspace walk, against real directories holding hostile symlinks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/err.h"
#include "vendor-free/fileio.h"
#include "vendor-free/pathres.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

struct fixture {
	char *top;     /* the temp dir */
	char *outside; /* top/outside: must never be reached */
	int rootfd;    /* top/root */
};

/* Test trees go with the project's own rm -rf (vendor-free/fileio, tested there). */
static void rm_tree_at(int dfd, const char *name)
{
	rm_rf_at(dfd, name, NULL);
}

static void write_at(int dfd, const char *name, const char *text)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int setup(void **state)
{
	struct fixture *f = xzalloc(sizeof(*f));
	cleanup_free char *root = NULL, *abs_out = NULL;

	f->top = xstrdup("/tmp/skiff-test-pathres-XXXXXX");
	assert_non_null(mkdtemp(f->top));
	f->outside = xasprintf("%s/outside", f->top);
	root = xasprintf("%s/root", f->top);
	assert_int_equal(mkdir(f->outside, 0755), 0);
	assert_int_equal(mkdir(root, 0755), 0);
	int ofd = open(f->outside, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(ofd >= 0);
	write_at(ofd, "secret", "secret");
	close(ofd);

	f->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->rootfd >= 0);
	assert_int_equal(mkdirat(f->rootfd, "d", 0755), 0);
	write_at(f->rootfd, "d/f", "inside");
	assert_int_equal(mkdirat(f->rootfd, "etc", 0755), 0);
	write_at(f->rootfd, "etc/passwd", "fake");
	assert_int_equal(symlinkat("/etc", f->rootfd, "abs"), 0);
	assert_int_equal(symlinkat("../outside", f->rootfd, "rel_out"), 0);
	assert_int_equal(symlinkat("d/../../outside/secret", f->rootfd, "rel_out2"), 0);
	abs_out = xasprintf("%s/outside", f->top);
	assert_int_equal(symlinkat(abs_out, f->rootfd, "abs_out"), 0);
	assert_int_equal(symlinkat("/d/f", f->rootfd, "abs_in"), 0);
	assert_int_equal(symlinkat("d", f->rootfd, "dlink"), 0);
	assert_int_equal(symlinkat("loop2", f->rootfd, "loop1"), 0);
	assert_int_equal(symlinkat("loop1", f->rootfd, "loop2"), 0);
	assert_int_equal(symlinkat("nowhere", f->rootfd, "dangling"), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->rootfd);
	rm_tree_at(AT_FDCWD, f->top);
	free(f->outside);
	free(f->top);
	free(f);
	return 0;
}

/* Read a small file through fd. */
static void expect_content(int fd, const char *want)
{
	char buf[64] = {0};
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	if (strcmp(buf, want) != 0)
		fail_msg("read '%s', want '%s'", buf, want);
}

static void open_ok(struct fixture *f, const char *path, unsigned how, const char *want)
{
	struct skiff_err *err = NULL;
	int fd = pathres_open(f->rootfd, path, O_RDONLY, 0, how, &err);
	if (fd < 0)
		fail_msg("pathres_open(%s, %#x): %s", path, how, err->msg);
	expect_content(fd, want);
	close(fd);
}

static void open_fails(struct fixture *f, const char *path, unsigned how, int want_errno)
{
	struct skiff_err *err = NULL;
	int fd = pathres_open(f->rootfd, path, O_RDONLY, 0, how, &err);
	if (fd >= 0) {
		char buf[64] = {0};
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		(void)n;
		close(fd);
		fail_msg("pathres_open(%s, %#x) succeeded (read '%s'), want errno %d", path, how, buf, want_errno);
	}
	assert_non_null(err);
	if (err->status != want_errno)
		fail_msg("pathres_open(%s, %#x): status %d (%s), want %d", path, how, err->status, err->msg,
			 want_errno);
	assert_non_null(strstr(err->msg, path)); /* the message names the path */
	err_free(err);
}

static void test_path_clean(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{"", "."},
		{"/", "."},
		{".", "."},
		{"./", "."},
		{"a", "a"},
		{"./a//b/", "a/b"},
		{"/abs/x", "abs/x"},
		{"a/b/../c", "a/c"},
		{"a/..", "."},
		{"a/./b/.", "a/b"},
		{"...", "..."},
		{"a/..b", "a/..b"},
		{"//a///b//..//c", "a/c"},
		{"a/b/c/../../d", "a/d"},
		{".wh..wh..opq", ".wh..wh..opq"},
	};
	static const char *bad[] = {
		"..", "../x", "/..", "/abs/../../x", "a/../../x", "./../a", "a/b/../../../etc/passwd"};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct skiff_err *err = NULL;
		char *out = NULL;
		if (path_clean(ok[i].in, &out, &err) < 0)
			fail_msg("path_clean(%s): %s", ok[i].in, err->msg);
		if (strcmp(out, ok[i].out) != 0)
			fail_msg("path_clean(%s) = '%s', want '%s'", ok[i].in, out, ok[i].out);
		free(out);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct skiff_err *err = NULL;
		char *out = NULL;
		assert_int_equal(path_clean(bad[i], &out, &err), -1);
		assert_null(out);
		assert_int_equal(err->status, EINVAL);
		assert_non_null(strstr(err->msg, bad[i]));
		assert_non_null(strstr(err->msg, "escapes the root"));
		err_free(err);
	}
}

static void check_resolution(struct fixture *f, unsigned walk)
{
	const unsigned in_root = PATHRES_IN_ROOT | walk, beneath = walk, nosym = PATHRES_NO_SYMLINKS | walk;

	/* plain paths */
	open_ok(f, "d/f", in_root, "inside");
	open_ok(f, "/d/f", beneath, "inside");
	open_ok(f, "d/../d/./f", nosym, "inside");

	/* ".." above the root: clamped in the root, refused beneath it */
	open_ok(f, "../../../d/f", in_root, "inside");
	open_fails(f, "../outside/secret", beneath, EXDEV);
	open_fails(f, "../outside/secret", nosym, EXDEV);
	open_fails(f, "../outside/secret", in_root, ENOENT); /* root/outside does not exist */

	/* an absolute symlink to /etc: resolves to the root's own etc */
	open_ok(f, "abs/passwd", in_root, "fake");
	open_fails(f, "abs/passwd", beneath, EXDEV);
	open_fails(f, "abs/passwd", nosym, ELOOP);

	/* relative symlinks climbing out */
	open_fails(f, "rel_out/secret", in_root, ENOENT);
	open_fails(f, "rel_out/secret", beneath, EXDEV);
	open_fails(f, "rel_out2", in_root, ENOENT);
	open_fails(f, "rel_out2", beneath, EXDEV);
	/* an absolute symlink naming the real outside directory */
	open_fails(f, "abs_out/secret", in_root, ENOENT);
	open_fails(f, "abs_out/secret", beneath, EXDEV);

	/* symlinks staying inside */
	open_ok(f, "abs_in", in_root, "inside");
	open_fails(f, "abs_in", beneath, EXDEV); /* absolute symlinks are refused beneath */
	open_ok(f, "dlink/f", beneath, "inside");
	open_ok(f, "dlink/f", in_root, "inside");
	open_fails(f, "dlink/f", nosym, ELOOP);

	/* loops */
	open_fails(f, "loop1", in_root, ELOOP);
	open_fails(f, "loop1", beneath, ELOOP);
	open_fails(f, "loop2/x", in_root, ELOOP);

	/* not a directory */
	open_fails(f, "d/f/x", in_root, ENOTDIR);
}

static void test_resolution_openat2(void **state)
{
	check_resolution(*state, 0);
}

static void test_resolution_walk(void **state)
{
	check_resolution(*state, PATHRES_WALK);
}

static void check_create(struct fixture *f, unsigned walk)
{
	struct skiff_err *err = NULL;
	struct stat st;
	int fd;
	cleanup_free char *out_new = xasprintf("%s/new", f->outside);

	/* O_CREAT through an absolute symlink lands inside the root */
	fd = pathres_open(f->rootfd, "abs/created", O_WRONLY | O_CREAT | O_EXCL, 0600, PATHRES_IN_ROOT | walk, &err);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fstatat(f->rootfd, "etc/created", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(unlinkat(f->rootfd, "etc/created", 0), 0);
	assert_int_equal(access("/etc/created", F_OK), -1);

	/* ... and never outside */
	fd = pathres_open(f->rootfd, "abs_out/new", O_WRONLY | O_CREAT, 0600, PATHRES_IN_ROOT | walk, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err->status, ENOENT);
	err_clear(&err);
	fd = pathres_open(f->rootfd, "rel_out/new", O_WRONLY | O_CREAT, 0600, walk, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err->status, EXDEV);
	assert_non_null(strstr(err->msg, "escapes the root"));
	err_clear(&err);
	assert_int_equal(access(out_new, F_OK), -1);

	/* O_CREAT|O_EXCL on a dangling symlink: EEXIST, the link is not followed */
	fd = pathres_open(f->rootfd, "dangling", O_WRONLY | O_CREAT | O_EXCL, 0600, PATHRES_IN_ROOT | walk, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err->status, EEXIST);
	err_clear(&err);
	assert_int_equal(fstatat(f->rootfd, "nowhere", &st, AT_SYMLINK_NOFOLLOW), -1);

	/* O_PATH|O_NOFOLLOW gives the symlink itself, even with NO_SYMLINKS */
	fd = pathres_open(f->rootfd, "abs", O_PATH | O_NOFOLLOW, 0, PATHRES_NO_SYMLINKS | walk, &err);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	close(fd);
	/* and O_NOFOLLOW alone refuses it */
	fd = pathres_open(f->rootfd, "abs", O_RDONLY | O_NOFOLLOW, 0, PATHRES_IN_ROOT | walk, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err->status, ELOOP);
	err_clear(&err);

	/* the root itself */
	fd = pathres_open(f->rootfd, "/", O_RDONLY | O_DIRECTORY, 0, walk, &err);
	assert_true(fd >= 0);
	close(fd);
	fd = pathres_open(f->rootfd, "d/..", O_RDONLY | O_DIRECTORY, 0, walk, &err);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	struct stat rst;
	assert_int_equal(fstat(f->rootfd, &rst), 0);
	assert_int_equal(st.st_ino, rst.st_ino);
	close(fd);
	/* a trailing slash needs a directory */
	fd = pathres_open(f->rootfd, "d/f/", O_RDONLY, 0, walk, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err->status, ENOTDIR);
	err_clear(&err);
}

static void test_create_openat2(void **state)
{
	check_create(*state, 0);
}

static void test_create_walk(void **state)
{
	check_create(*state, PATHRES_WALK);
}

static void check_parent(struct fixture *f, unsigned walk)
{
	struct skiff_err *err = NULL;
	char *base = NULL;
	struct stat st;
	mode_t old = umask(077);
	int fd;

	/* missing parents are created 0755 exactly, whatever the umask */
	fd = pathres_open_parent(f->rootfd, "/p1/p2/./file", PATHRES_MKDIR | walk, &base, &err);
	umask(old);
	if (fd < 0)
		fail_msg("open_parent: %s", err->msg);
	assert_string_equal(base, "file");
	free(base);
	base = NULL;
	assert_int_equal(fstatat(f->rootfd, "p1/p2", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(fstatat(f->rootfd, "p1", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* the fd is usable with *at() */
	int ffd = openat(fd, "file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(ffd >= 0);
	close(ffd);
	close(fd);
	assert_int_equal(unlinkat(f->rootfd, "p1/p2/file", 0), 0);
	assert_int_equal(unlinkat(f->rootfd, "p1/p2", AT_REMOVEDIR), 0);
	assert_int_equal(unlinkat(f->rootfd, "p1", AT_REMOVEDIR), 0);

	/* top level: the root */
	fd = pathres_open_parent(f->rootfd, "top", walk, &base, &err);
	assert_true(fd >= 0);
	assert_string_equal(base, "top");
	free(base);
	base = NULL;
	close(fd);

	/* a symlink among the parents: ELOOP naming it, nothing created through it */
	fd = pathres_open_parent(f->rootfd, "abs/x/y", PATHRES_MKDIR | walk, &base, &err);
	assert_int_equal(fd, -1);
	assert_null(base);
	assert_int_equal(err->status, ELOOP);
	assert_non_null(strstr(err->msg, "abs is a symlink"));
	err_clear(&err);
	fd = pathres_open_parent(f->rootfd, "dlink/f", walk, &base, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err->status, ELOOP);
	assert_non_null(strstr(err->msg, "dlink is a symlink"));
	err_clear(&err);
	fd = pathres_open_parent(f->rootfd, "rel_out/secret", PATHRES_MKDIR | walk, &base, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err->status, ELOOP);
	err_clear(&err);

	/* a file among the parents */
	fd = pathres_open_parent(f->rootfd, "d/f/x", PATHRES_MKDIR | walk, &base, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err->status, ENOTDIR);
	assert_non_null(strstr(err->msg, "d/f is not a directory"));
	err_clear(&err);

	/* missing without PATHRES_MKDIR */
	fd = pathres_open_parent(f->rootfd, "missing/x", walk, &base, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err->status, ENOENT);
	assert_non_null(strstr(err->msg, "missing"));
	err_clear(&err);

	/* escapes and the root itself */
	fd = pathres_open_parent(f->rootfd, "d/../../outside/secret", PATHRES_MKDIR | walk, &base, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err->status, EINVAL);
	assert_non_null(strstr(err->msg, "escapes the root"));
	err_clear(&err);
	fd = pathres_open_parent(f->rootfd, "/./", walk, &base, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err->status, EINVAL);
	err_clear(&err);
	assert_null(base);
}

static void test_parent_openat2(void **state)
{
	check_parent(*state, 0);
}

static void test_parent_walk(void **state)
{
	check_parent(*state, PATHRES_WALK);
}

/* A path much longer than PATH_MAX: created and opened one component at a time. */
static void check_long_path(struct fixture *f, unsigned walk)
{
	struct strbuf p = STRBUF_INIT;
	struct skiff_err *err = NULL;
	char *base = NULL;
	int fd;

	strbuf_addstr(&p, walk ? "longw" : "longo");
	for (int i = 0; i < 40; i++)
		strbuf_addf(&p, "/%0200d", i);
	size_t dirlen = p.len;
	strbuf_addstr(&p, "/file");
	assert_true(p.len > PATH_MAX);
	fd = pathres_open_parent(f->rootfd, p.buf, PATHRES_MKDIR | walk, &base, &err);
	if (fd < 0)
		fail_msg("open_parent(long): %s", err->msg);
	assert_string_equal(base, "file");
	int ffd = openat(fd, base, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(ffd >= 0);
	assert_int_equal(write(ffd, "deep", 4), 4);
	close(ffd);
	close(fd);
	free(base);

	/* open it back */
	open_ok(f, p.buf, PATHRES_IN_ROOT | walk, "deep");
	open_ok(f, p.buf, PATHRES_NO_SYMLINKS | walk, "deep");
	/* a long path that climbs out with ".." at its end (41 levels, 43 "..") */
	strbuf_setlen(&p, dirlen);
	for (int i = 0; i < 43; i++)
		strbuf_addstr(&p, "/..");
	strbuf_addstr(&p, "/outside/secret");
	open_fails(f, p.buf, walk, EXDEV);
	strbuf_release(&p);
}

static void test_long_path_openat2(void **state)
{
	check_long_path(*state, 0);
}

static void test_long_path_walk(void **state)
{
	check_long_path(*state, PATHRES_WALK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_clean),
		cmocka_unit_test_setup_teardown(test_resolution_openat2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolution_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_openat2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parent_openat2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parent_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_path_openat2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_path_walk, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
