/* Unit tests for vendor-free/fileio, in a fresh temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

struct tmp {
	char path[PATH_MAX];
	int dfd;
};

static int setup(void **state)
{
	struct tmp *t = xzalloc(sizeof(*t));
	const char *base = getenv("TMPDIR");

	snprintf(t->path, sizeof(t->path), "%s/skiff-test-fileio-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(t->path))
		return -1;
	t->dfd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dfd < 0)
		return -1;
	/* let the tests that drop to nobody in; the parent dir is 1777 or ours */
	if (fchmod(t->dfd, 0755) < 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	char *parent = xstrdup(t->path), *slash = strrchr(parent, '/');
	int r;

	*slash = '\0';
	close(t->dfd);
	r = rm_rf_at(AT_FDCWD, t->path, &err);
	if (r < 0) {
		fprintf(stderr, "teardown: %s\n", err->msg);
		err_free(err);
	}
	free(parent);
	free(t);
	return r;
}

/* No cmocka asserts here: also used in forked children. */
static int try_put(int dfd, const char *name, const char *content)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r;

	if (fd < 0)
		return -1;
	r = write_all(fd, content, strlen(content));
	close(fd);
	return r;
}

static void put(int dfd, const char *name, const char *content)
{
	assert_int_equal(try_put(dfd, name, content), 0);
}

#define SKIP_BECAUSE(why)                                                                                              \
	do {                                                                                                           \
		print_message("skipped: %s\n", why);                                                                   \
		skip();                                                                                                \
	} while (0)

static bool exists(int dfd, const char *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static size_t count_entries(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdopendir(fd);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_write_read_atomic(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	mode_t old_umask;

	old_umask = umask(077);
	assert_int_equal(write_file_atomic(t->dfd, "a.json", "{\"x\":1}", 7, 0644, &err), 0);
	umask(old_umask);
	assert_int_equal(read_file_at(t->dfd, "a.json", 1024, &buf, &len, &err), 0);
	assert_int_equal(len, 7);
	assert_string_equal(buf, "{\"x\":1}");
	free(buf);
	assert_int_equal(fstatat(t->dfd, "a.json", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0644); /* exactly mode, umask ignored */

	/* replace: same name, new content, new mode, no temporary left behind */
	assert_int_equal(write_file_atomic(t->dfd, "a.json", "new", 3, 0600, &err), 0);
	assert_int_equal(read_file_at(t->dfd, "a.json", 1024, &buf, &len, &err), 0);
	assert_string_equal(buf, "new");
	free(buf);
	assert_int_equal(fstatat(t->dfd, "a.json", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_entries(t->dfd), 1);

	/* empty content, and a name in a subdirectory */
	assert_int_equal(mkdirat(t->dfd, "sub", 0755), 0);
	assert_int_equal(write_file_atomic(t->dfd, "sub/empty", NULL, 0, 0644, &err), 0);
	assert_int_equal(read_file_at(t->dfd, "sub/empty", 10, &buf, &len, &err), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);

	/* absolute path, dirfd ignored */
	char *abs = xasprintf("%s/abs", t->path);
	assert_int_equal(write_file_atomic(-1, abs, "x", 1, 0644, &err), 0);
	free(abs);
	assert_true(exists(t->dfd, "abs"));

	/* replacing a symlink replaces the link, not its target */
	put(t->dfd, "target", "keep");
	assert_int_equal(symlinkat("target", t->dfd, "link"), 0);
	assert_int_equal(write_file_atomic(t->dfd, "link", "over", 4, 0644, &err), 0);
	assert_int_equal(read_file_at(t->dfd, "target", 100, &buf, NULL, &err), 0);
	assert_string_equal(buf, "keep");
	free(buf);
	assert_int_equal(fstatat(t->dfd, "link", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
}

/* write_file_replace: the same all-or-nothing replacement, without the fsyncs */
static void test_write_replace(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	assert_int_equal(write_file_replace(t->dfd, "exit", "{\"code\":1}", 10, 0644, &err), 0);
	assert_int_equal(write_file_replace(t->dfd, "exit", "{}", 2, 0600, &err), 0);
	assert_int_equal(read_file_at(t->dfd, "exit", 100, &buf, &len, &err), 0);
	assert_int_equal(len, 2);
	assert_string_equal(buf, "{}");
	free(buf);
	assert_int_equal(fstatat(t->dfd, "exit", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_entries(t->dfd), 1); /* no temporary left */
	assert_int_equal(write_file_replace(t->dfd, "", "x", 1, 0644, &err), -1);
	assert_int_equal(err->status, EINVAL);
	err_clear(&err);
	assert_int_equal(write_file_replace(t->dfd, "nosuchdir/f", "x", 1, 0644, &err), -1);
	assert_non_null(strstr(err->msg, "nosuchdir"));
	err_clear(&err);
}

static void test_write_atomic_large(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	size_t n = 5 * 1024 * 1024 + 17;
	char *data = xmalloc(n), *back = NULL;
	size_t len;

	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 31 + 7);
	assert_int_equal(write_file_atomic(t->dfd, "big", data, n, 0644, &err), 0);
	assert_int_equal(read_file_at(t->dfd, "big", SIZE_MAX, &back, &len, &err), 0);
	assert_int_equal(len, n);
	assert_memory_equal(data, back, n);
	free(back);
	/* exactly at the limit is fine, one byte less is EFBIG */
	assert_int_equal(read_file_at(t->dfd, "big", n, &back, &len, &err), 0);
	free(back);
	back = (char *)0x1;
	assert_int_equal(read_file_at(t->dfd, "big", n - 1, &back, &len, &err), -1);
	assert_ptr_equal(back, (char *)0x1); /* untouched */
	assert_int_equal(err->status, EFBIG);
	assert_non_null(strstr(err->msg, "big"));
	err_free(err);
	free(data);
}

/* Without /proc the O_TMPFILE cannot be linked in: the named temporary file
 * fallback must do the job (needs root for a mount namespace). */
static void test_write_atomic_without_proc(void **state)
{
	struct tmp *t = *state;
	pid_t pid;
	int st;

	if (geteuid() != 0)
		SKIP_BECAUSE("needs root to hide /proc in a mount namespace");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct skiff_err *err = NULL;
		char *buf = NULL;

		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", "/proc", "tmpfs", 0, "size=1m") < 0)
			_exit(77);
		if (write_file_atomic(t->dfd, "f", "named", 5, 0640, &err) < 0) {
			fprintf(stderr, "%s\n", err->msg);
			_exit(2);
		}
		if (read_file_at(t->dfd, "f", 100, &buf, NULL, &err) < 0 || strcmp(buf, "named"))
			_exit(3);
		free(buf);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		SKIP_BECAUSE("no mount namespace or tmpfs mount allowed here");
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(count_entries(t->dfd), 1); /* no temporary left */
	struct stat sb;
	assert_int_equal(fstatat(t->dfd, "f", &sb, 0), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
}

static void test_write_atomic_errors(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;

	assert_int_equal(write_file_atomic(t->dfd, "nodir/file", "x", 1, 0644, &err), -1);
	assert_int_equal(err->status, ENOENT);
	assert_non_null(strstr(err->msg, "nodir/file"));
	err_clear(&err);

	assert_int_equal(write_file_atomic(t->dfd, "", "x", 1, 0644, &err), -1);
	assert_int_equal(err->status, EINVAL);
	err_clear(&err);
	assert_int_equal(write_file_atomic(t->dfd, "dir/", "x", 1, 0644, &err), -1);
	assert_int_equal(err->status, EINVAL);
	assert_non_null(strstr(err->msg, "dir/"));
	err_clear(&err);
	assert_int_equal(write_file_atomic(t->dfd, "..", "x", 1, 0644, &err), -1);
	assert_int_equal(err->status, EINVAL);
	err_clear(&err);

	/* a directory where the file should go: rename fails, no temp left */
	assert_int_equal(mkdirat(t->dfd, "isdir", 0755), 0);
	assert_int_equal(write_file_atomic(t->dfd, "isdir", "x", 1, 0644, &err), -1);
	assert_non_null(strstr(err->msg, "isdir"));
	err_clear(&err);
	assert_int_equal(count_entries(t->dfd), 1);

	/* read errors name the file */
	char *buf = NULL;
	assert_int_equal(read_file_at(t->dfd, "missing", 10, &buf, NULL, &err), -1);
	assert_int_equal(err->status, ENOENT);
	assert_non_null(strstr(err->msg, "missing"));
	assert_null(buf);
	err_clear(&err);
	assert_int_equal(read_file_at(t->dfd, "isdir", 10, &buf, NULL, &err), -1);
	assert_int_equal(err->status, EISDIR);
	assert_non_null(strstr(err->msg, "isdir"));
	err_clear(&err);
}

/* A file that grows past max while being read (no size from fstat: a pipe). */
static void test_read_all_fd_limit(void **state)
{
	struct skiff_err *err = NULL;
	int p[2];
	char *buf = NULL;
	size_t len;
	(void)state;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write_all(p[1], "0123456789", 10), 0);
	close(p[1]);
	assert_int_equal(read_all_fd(p[0], 9, &buf, &len, &err), -1);
	assert_int_equal(err->status, EFBIG);
	assert_null(buf);
	err_clear(&err);
	close(p[0]);

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write_all(p[1], "0123456789", 10), 0);
	close(p[1]);
	assert_int_equal(read_all_fd(p[0], 10, &buf, &len, &err), 0);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789");
	free(buf);
	close(p[0]);

	/* /proc files report size 0 but have content */
	assert_int_equal(read_file_at(AT_FDCWD, "/proc/self/stat", 65536, &buf, &len, &err), 0);
	assert_true(len > 10);
	free(buf);

	/* a bad fd */
	assert_int_equal(read_all_fd(-1, 10, &buf, &len, &err), -1);
	assert_int_equal(err->status, EBADF);
	err_clear(&err);
}

static void test_write_all_pipe_and_copy_fd(void **state)
{
	struct tmp *t = *state;
	size_t n = 3 * 1024 * 1024;
	char *data = xmalloc(n);
	uint64_t copied = 0;
	int p[2];
	pid_t pid;
	(void)t;

	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i % 251);
	/* write_all through a pipe (many short writes) into a file via copy_fd */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		_exit(write_all(p[1], data, n) == 0 ? 0 : 1);
	}
	close(p[1]);
	int out = openat(t->dfd, "copy1", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(out >= 0);
	assert_int_equal(copy_fd(p[0], out, &copied), 0);
	assert_int_equal(copied, n);
	close(p[0]);
	close(out);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* file to file (copy_file_range) */
	int in = openat(t->dfd, "copy1", O_RDONLY | O_CLOEXEC);
	out = openat(t->dfd, "copy2", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_int_equal(copy_fd(in, out, &copied), 0);
	assert_int_equal(copied, n);
	close(in);
	close(out);
	struct skiff_err *err = NULL;
	char *back = NULL;
	size_t len;
	assert_int_equal(read_file_at(t->dfd, "copy2", n, &back, &len, &err), 0);
	assert_int_equal(len, n);
	assert_memory_equal(back, data, n);
	free(back);

	/* empty file copies 0 bytes; a proc file (size 0, content) copies its content */
	put(t->dfd, "empty", "");
	in = openat(t->dfd, "empty", O_RDONLY | O_CLOEXEC);
	out = openat(t->dfd, "copy3", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_int_equal(copy_fd(in, out, &copied), 0);
	assert_int_equal(copied, 0);
	close(in);
	in = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	assert_int_equal(copy_fd(in, out, &copied), 0);
	assert_true(copied > 0);
	close(in);
	close(out);

	/* errors: errno set, ret_n untouched */
	copied = 42;
	assert_int_equal(copy_fd(-1, 1, &copied), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(copied, 42);
	/* writing to a pipe whose reader is gone: EPIPE (SIGPIPE ignored here) */
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	assert_int_equal(write_all(p[1], "x", 1), -1);
	assert_int_equal(errno, EPIPE);
	close(p[1]);
	signal(SIGPIPE, SIG_DFL);
	free(data);
}

static void test_fsync_dir(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;

	assert_int_equal(fsync_dir_at(t->dfd, NULL, &err), 0);
	assert_int_equal(fsync_dir_at(t->dfd, "", &err), 0);
	assert_int_equal(fsync_dir_at(AT_FDCWD, t->path, &err), 0);
	put(t->dfd, "file", "x");
	assert_int_equal(fsync_dir_at(t->dfd, "file", &err), -1);
	assert_int_equal(err->status, ENOTDIR);
	assert_non_null(strstr(err->msg, "file"));
	err_clear(&err);
	assert_int_equal(fsync_dir_at(t->dfd, "nope", &err), -1);
	assert_int_equal(err->status, ENOENT);
	assert_non_null(strstr(err->msg, "nope"));
	err_clear(&err);
}

static void test_tmpfile_in_dir(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	int fd = -1;

	assert_int_equal(tmpfile_in_dir(t->path, &fd, &err), 0);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	char buf[4] = {0};
	assert_int_equal(read(fd, buf, 3), 3);
	assert_string_equal(buf, "abc");
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* unnamed: nothing shows in the directory */
	DIR *d = opendir(t->path);
	assert_non_null(d);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	assert_int_equal(n, 0);
	close(fd);

	char *missing = xasprintf("%s/nope", t->path);
	fd = -1;
	assert_int_equal(tmpfile_in_dir(missing, &fd, &err), -1);
	assert_int_equal(fd, -1);
	assert_int_equal(err->status, ENOENT);
	assert_non_null(strstr(err->msg, missing));
	err_clear(&err);
	free(missing);
}

static void test_mkdir_p(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	struct stat st;

	assert_int_equal(mkdir_p_at(t->dfd, "a/b/c", 0755, &err), 0);
	assert_int_equal(fstatat(t->dfd, "a/b/c", &st, 0), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* again: fine; with odd slashes and dots */
	assert_int_equal(mkdir_p_at(t->dfd, "a/b/c", 0755, &err), 0);
	assert_int_equal(mkdir_p_at(t->dfd, "a//b/./c/d/", 0700, &err), 0);
	assert_int_equal(fstatat(t->dfd, "a/b/c/d", &st, 0), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(mkdir_p_at(t->dfd, "a/b/../e", 0755, &err), 0);
	assert_true(exists(t->dfd, "a/e"));
	/* absolute */
	char *abs = xasprintf("%s/x/y", t->path);
	assert_int_equal(mkdir_p_at(-1, abs, 0755, &err), 0);
	free(abs);
	assert_true(exists(t->dfd, "x/y"));
	/* through a symlink to a directory, as mkdir -p */
	assert_int_equal(symlinkat("a", t->dfd, "la"), 0);
	assert_int_equal(mkdir_p_at(t->dfd, "la/z", 0755, &err), 0);
	assert_true(exists(t->dfd, "a/z"));

	/* a file in the way: ENOTDIR naming it */
	put(t->dfd, "a/file", "x");
	assert_int_equal(mkdir_p_at(t->dfd, "a/file/sub", 0755, &err), -1);
	assert_int_equal(err->status, ENOTDIR);
	assert_non_null(strstr(err->msg, "a/file"));
	assert_null(strstr(err->msg, "sub"));
	err_clear(&err);
	assert_int_equal(mkdir_p_at(t->dfd, "a/file", 0755, &err), -1);
	assert_int_equal(err->status, ENOTDIR);
	err_clear(&err);
	/* dangling symlink in the way */
	assert_int_equal(symlinkat("nowhere", t->dfd, "dangling"), 0);
	assert_int_equal(mkdir_p_at(t->dfd, "dangling/sub", 0755, &err), -1);
	assert_non_null(strstr(err->msg, "dangling"));
	err_clear(&err);
	assert_int_equal(mkdir_p_at(t->dfd, "", 0755, &err), -1);
	assert_int_equal(err->status, EINVAL);
	err_clear(&err);
	/* a too long component */
	char longname[300];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(mkdir_p_at(t->dfd, longname, 0755, &err), -1);
	assert_int_equal(err->status, ENAMETOOLONG);
	err_clear(&err);
}

/* Build a tree with files, nested dirs, symlinks (one pointing outside, one
 * to a directory outside), a fifo, a read-only dir and an unreadable dir.
 * 0 or -1 (no cmocka asserts: also used in forked children). */
static int make_tree(int dfd)
{
	char *path;

	if (mkdirat(dfd, "tree", 0755) < 0 || try_put(dfd, "tree/f1", "1") < 0 || mkdirat(dfd, "tree/d", 0755) < 0 ||
	    mkdirat(dfd, "tree/d/e", 0755) < 0 || try_put(dfd, "tree/d/e/f2", "2") < 0 ||
	    symlinkat("../../outside", dfd, "tree/d/to-outside-dir") < 0 ||
	    symlinkat("../outside/precious", dfd, "tree/to-outside-file") < 0 || mkfifoat(dfd, "tree/fifo", 0644) < 0 ||
	    mkdirat(dfd, "tree/ro", 0755) < 0 || try_put(dfd, "tree/ro/f3", "3") < 0 ||
	    mkdirat(dfd, "tree/ro/sub", 0755) < 0 || try_put(dfd, "tree/ro/sub/f4", "4") < 0 ||
	    fchmodat(dfd, "tree/ro/sub", 0555, 0) < 0 || fchmodat(dfd, "tree/ro", 0555, 0) < 0 ||
	    mkdirat(dfd, "tree/noperm", 0755) < 0 || try_put(dfd, "tree/noperm/f5", "5") < 0 ||
	    mkdirat(dfd, "tree/noperm/sub", 0755) < 0 || fchmodat(dfd, "tree/noperm/sub", 0000, 0) < 0 ||
	    fchmodat(dfd, "tree/noperm", 0000, 0) < 0)
		return -1;
	/* deep nesting */
	path = xstrdup("tree/deep");
	for (int i = 0; i < 100; i++) {
		char *next;
		if (mkdirat(dfd, path, 0755) < 0) {
			free(path);
			return -1;
		}
		next = xasprintf("%s/x", path);
		free(path);
		path = next;
	}
	free(path);
	return 0;
}

static void test_rm_rf(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;

	assert_int_equal(mkdirat(t->dfd, "outside", 0755), 0);
	put(t->dfd, "outside/precious", "keep me");
	assert_int_equal(make_tree(t->dfd), 0);
	assert_int_equal(rm_rf_at(t->dfd, "tree", &err), 0);
	assert_false(exists(t->dfd, "tree"));
	/* the symlink targets outside survive */
	char *buf = NULL;
	assert_int_equal(read_file_at(t->dfd, "outside/precious", 100, &buf, NULL, &err), 0);
	assert_string_equal(buf, "keep me");
	free(buf);

	/* top-level symlink: the link goes, the target stays */
	assert_int_equal(symlinkat("outside", t->dfd, "toplink"), 0);
	assert_int_equal(rm_rf_at(t->dfd, "toplink", &err), 0);
	assert_false(exists(t->dfd, "toplink"));
	assert_true(exists(t->dfd, "outside/precious"));
	/* even with a trailing slash, which would make the kernel follow it */
	assert_int_equal(symlinkat("outside", t->dfd, "toplink"), 0);
	assert_int_equal(rm_rf_at(t->dfd, "toplink/", &err), 0);
	assert_false(exists(t->dfd, "toplink"));
	assert_true(exists(t->dfd, "outside/precious"));

	/* a plain file, a missing name */
	put(t->dfd, "plain", "x");
	assert_int_equal(rm_rf_at(t->dfd, "plain", &err), 0);
	assert_false(exists(t->dfd, "plain"));
	assert_int_equal(rm_rf_at(t->dfd, "never-was", &err), 0);
	assert_int_equal(rm_rf_at(t->dfd, "never/was", &err), 0);

	/* refused names */
	const char *bad[] = {"", ".", "..", "/", "//", "a/..", "a/.", "./"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(rm_rf_at(t->dfd, bad[i], &err), -1);
		assert_int_equal(err->status, EINVAL);
		err_clear(&err);
	}
	assert_true(exists(t->dfd, "outside/precious"));
	/* through a path, and an absolute one */
	assert_int_equal(mkdir_p_at(t->dfd, "p/q/r", 0755, &err), 0);
	assert_int_equal(rm_rf_at(t->dfd, "p/q", &err), 0);
	assert_true(exists(t->dfd, "p"));
	assert_false(exists(t->dfd, "p/q"));
	char *abs = xasprintf("%s/p", t->path);
	assert_int_equal(rm_rf_at(AT_FDCWD, abs, &err), 0);
	free(abs);
	assert_false(exists(t->dfd, "p"));
}

/* A tree much deeper than the fd limit (a hostile layer can be one). */
static void test_rm_rf_deeper_than_fd_limit(void **state)
{
	struct tmp *t = *state;
	pid_t pid;
	int st;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = {.rlim_cur = 100, .rlim_max = 100};
		struct skiff_err *err = NULL;
		int fd;

		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(2);
		fd = dup(t->dfd);
		for (int i = 0; i < 3000; i++) {
			int next;
			if (mkdirat(fd, "d", 0755) < 0 || try_put(fd, "f", "x") < 0)
				_exit(3);
			next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (next < 0)
				_exit(4);
			close(fd);
			fd = next;
		}
		close(fd);
		if (rm_rf_at(t->dfd, "d", &err) < 0) {
			fprintf(stderr, "%.200s\n", err->msg);
			_exit(5);
		}
		if (faccessat(t->dfd, "d", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			_exit(6);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(count_entries(t->dfd), 1); /* just "f" */
}

/* As an unprivileged user (root bypasses permissions): read-only and
 * unreadable directories are still removed. */
static void test_rm_rf_unprivileged(void **state)
{
	struct tmp *t = *state;
	pid_t pid;
	int st;

	assert_int_equal(mkdirat(t->dfd, "u", 0777), 0);
	assert_int_equal(fchmodat(t->dfd, "u", 0777, 0), 0);
	assert_int_equal(mkdirat(t->dfd, "outside", 0755), 0);
	put(t->dfd, "outside/precious", "keep me");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct skiff_err *err = NULL;
		int ufd;

		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(2);
		ufd = openat(t->dfd, "u", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (ufd < 0)
			_exit(3);
		if (symlinkat("../outside", ufd, "outside") < 0)
			_exit(4);
		if (make_tree(ufd) < 0)
			_exit(7);
		if (rm_rf_at(ufd, "tree", &err) < 0) {
			fprintf(stderr, "rm_rf_at: %s\n", err->msg);
			_exit(5);
		}
		if (faccessat(ufd, "tree", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			_exit(6);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(exists(t->dfd, "outside/precious"));
}

/* Files that cannot be removed: the error names the file, the rest goes. */
static void test_rm_rf_failure_reported(void **state)
{
	struct tmp *t = *state;
	pid_t pid;
	int st;

	/* a root-owned sticky directory with a root-owned file: nobody cannot
	 * unlink it, but can remove its own files next to it */
	assert_int_equal(mkdirat(t->dfd, "shared", 01777), 0);
	assert_int_equal(fchmodat(t->dfd, "shared", 01777, 0), 0);
	put(t->dfd, "shared/roots", "x");
	if (geteuid() != 0)
		SKIP_BECAUSE("needs root to own a file that nobody cannot remove");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct skiff_err *err = NULL;
		int fd;

		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		fd = openat(t->dfd, "shared/mine", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			_exit(3);
		close(fd);
		if (rm_rf_at(t->dfd, "shared", &err) == 0)
			_exit(4);
		if (err->status != EPERM && err->status != EACCES)
			_exit(5);
		if (!strstr(err->msg, "shared/roots")) {
			fprintf(stderr, "message: %s\n", err->msg);
			_exit(6);
		}
		err_free(err);
		if (faccessat(t->dfd, "shared/mine", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			_exit(7); /* the removable part was removed */
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(exists(t->dfd, "shared/roots"));
}

/* A mount inside the tree is not crossed (needs root for mount). */
static void test_rm_rf_mount(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	pid_t pid;
	int st;

	if (geteuid() != 0)
		SKIP_BECAUSE("needs root to mount");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* a private mount namespace, so nothing leaks if we die */
		if (unshare(CLONE_NEWNS) < 0)
			_exit(77);
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(77);
		/* an fd opened before unshare() walks the old namespace's mounts */
		int dfd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			_exit(2);
		if (mkdirat(dfd, "m", 0755) < 0 || mkdirat(dfd, "m/mnt", 0755) < 0)
			_exit(2);
		if (try_put(dfd, "m/file", "x") < 0)
			_exit(2);
		char *target = xasprintf("%s/m/mnt", t->path);
		if (mount("tmpfs", target, "tmpfs", 0, "size=1m") < 0)
			_exit(77);
		int fd = openat(dfd, "m/mnt/inmount", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			_exit(3);
		close(fd);
		if (rm_rf_at(dfd, "m", &err) == 0)
			_exit(4);
		if (err->status != EBUSY || !strstr(err->msg, "m/mnt"))
			_exit(5);
		err_free(err);
		err = NULL;
		if (faccessat(dfd, "m/mnt/inmount", F_OK, 0) < 0) {
			perror("faccessat m/mnt/inmount");
			_exit(6);
		} /* the mount's content is untouched */
		if (faccessat(dfd, "m/file", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			_exit(7); /* the rest is gone */
		/* a bind mount of the same file system is caught too (mount root flag) */
		char *bsrc = xasprintf("%s/outside-bind", t->path);
		if (mkdir(bsrc, 0755) < 0 || umount(target) < 0)
			_exit(8);
		if (mount(bsrc, target, NULL, MS_BIND, NULL) < 0)
			_exit(9);
		if (try_put(dfd, "outside-bind/keep", "x") < 0)
			_exit(9);
		if (rm_rf_at(dfd, "m", &err) == 0 || err->status != EBUSY)
			_exit(10);
		err_free(err);
		if (faccessat(dfd, "outside-bind/keep", F_OK, 0) < 0)
			_exit(11);
		umount(target);
		free(target);
		free(bsrc);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		SKIP_BECAUSE("no mount namespace or tmpfs mount allowed here");
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_read_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_without_proc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_errors, setup, teardown),
		cmocka_unit_test(test_read_all_fd_limit),
		cmocka_unit_test_setup_teardown(test_write_all_pipe_and_copy_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fsync_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmpfile_in_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rm_rf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rm_rf_deeper_than_fd_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rm_rf_unprivileged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rm_rf_failure_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rm_rf_mount, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
