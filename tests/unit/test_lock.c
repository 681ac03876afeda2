/* Unit tests for vendor-free/lock (OFD locks). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vendor-free/fileio.h"
#include "vendor-free/lock.h"
#include "vendor-free/xalloc.h"

struct tmp {
	char path[PATH_MAX];
	int dfd;
};

static int setup(void **state)
{
	struct tmp *t = xzalloc(sizeof(*t));
	const char *base = getenv("TMPDIR");

	snprintf(t->path, sizeof(t->path), "%s/skiff-test-lock-XXXXXX", base && *base ? base : "/tmp");
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
	int r;

	close(t->dfd);
	r = rm_rf_at(AT_FDCWD, t->path, &err);
	err_free(err);
	free(t);
	return r;
}

static void expect_busy(struct skiff_lock *l, enum lock_mode mode)
{
	struct skiff_err *err = NULL;
	assert_int_equal(lock_take(l, mode, false, &err), -1);
	assert_non_null(err);
	assert_int_equal(err_status(err), EAGAIN);
	assert_non_null(strstr(err->msg, l->name));
	err_free(err);
}

static void test_conflict_in_one_process(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	struct skiff_lock a = SKIFF_LOCK_INIT, b = SKIFF_LOCK_INIT;

	assert_int_equal(lock_open(t->dfd, "x.lock", &a, &err), 0);
	assert_int_equal(lock_open(t->dfd, "x.lock", &b, &err), 0);
	assert_int_equal(lock_take(&a, LOCK_EXCL, false, &err), 0);
	assert_int_equal(a.mode, LOCK_EXCL);
	/* two descriptions in one process conflict */
	expect_busy(&b, LOCK_EXCL);
	expect_busy(&b, LOCK_SHARED);
	assert_int_equal(b.mode, LOCK_NONE);
	/* taking what is held again is a no-op */
	assert_int_equal(lock_take(&a, LOCK_EXCL, false, &err), 0);
	assert_int_equal(lock_release(&a, &err), 0);
	assert_int_equal(a.mode, LOCK_NONE);
	assert_int_equal(lock_release(&a, &err), 0); /* twice is fine */
	assert_int_equal(lock_take(&b, LOCK_EXCL, false, &err), 0);
	expect_busy(&a, LOCK_SHARED);
	lock_close(&b); /* close releases */
	assert_int_equal(b.fd, -1);
	lock_close(&b); /* idempotent */
	assert_int_equal(lock_take(&a, LOCK_SHARED, false, &err), 0);
	lock_close(&a);
}

static void test_shared_shared(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	struct skiff_lock a = SKIFF_LOCK_INIT, b = SKIFF_LOCK_INIT, c = SKIFF_LOCK_INIT;

	assert_int_equal(lock_open(t->dfd, "s.lock", &a, &err), 0);
	assert_int_equal(lock_open(t->dfd, "s.lock", &b, &err), 0);
	assert_int_equal(lock_open(t->dfd, "s.lock", &c, &err), 0);
	assert_int_equal(lock_take(&a, LOCK_SHARED, false, &err), 0);
	assert_int_equal(lock_take(&b, LOCK_SHARED, true, &err), 0);
	expect_busy(&c, LOCK_EXCL);
	/* upgrade fails while another sharer holds it, and keeps the shared lock */
	expect_busy(&a, LOCK_EXCL);
	assert_int_equal(a.mode, LOCK_SHARED);
	expect_busy(&c, LOCK_EXCL);
	lock_close(&b);
	assert_int_equal(lock_take(&a, LOCK_EXCL, false, &err), 0); /* upgrade, now alone */
	expect_busy(&c, LOCK_SHARED);
	lock_close(&a);
	lock_close(&c);
}

static void test_downgrade(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	struct skiff_lock a = SKIFF_LOCK_INIT, b = SKIFF_LOCK_INIT;

	assert_int_equal(lock_open(t->dfd, "d.lock", &a, &err), 0);
	assert_int_equal(lock_open(t->dfd, "d.lock", &b, &err), 0);
	/* downgrade needs an exclusive lock */
	assert_int_equal(lock_downgrade(&a, &err), -1);
	assert_int_equal(err->status, EINVAL);
	assert_non_null(strstr(err->msg, "d.lock"));
	err_clear(&err);
	assert_int_equal(lock_take(&a, LOCK_EXCL, true, &err), 0);
	expect_busy(&b, LOCK_SHARED);
	assert_int_equal(lock_downgrade(&a, &err), 0);
	assert_int_equal(a.mode, LOCK_SHARED);
	assert_int_equal(lock_take(&b, LOCK_SHARED, false, &err), 0); /* a sharer gets in */
	expect_busy(&b, LOCK_EXCL);
	lock_close(&a);
	lock_close(&b);
}

/* A child holds the lock: the parent's try fails; the parent's blocking take
 * succeeds as soon as the child exits (the kernel drops its locks). */
static void test_child_holds(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	struct skiff_lock mine = SKIFF_LOCK_INIT;
	int ready[2], go[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct skiff_lock l = SKIFF_LOCK_INIT;
		close(ready[0]);
		close(go[1]);
		if (lock_open(t->dfd, "c.lock", &l, &err) < 0 || lock_take(&l, LOCK_EXCL, true, &err) < 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		if (read(go[0], &c, 1) < 0) /* wait until told (or the parent dies) */
			_exit(3);
		_exit(0); /* exit without unlocking or closing */
	}
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);

	assert_int_equal(lock_open(t->dfd, "c.lock", &mine, &err), 0);
	expect_busy(&mine, LOCK_EXCL);
	expect_busy(&mine, LOCK_SHARED);
	assert_int_equal(write(go[1], "g", 1), 1);
	/* blocks until the child is gone */
	assert_int_equal(lock_take(&mine, LOCK_EXCL, true, &err), 0);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	lock_close(&mine);
	close(ready[0]);
	close(go[1]);
}

/* OFD locks follow the open file description: a child forked while we hold
 * the lock shares it, and the lock outlives our close while the child keeps
 * its copy of the descriptor. */
static void test_inherited_description(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	struct skiff_lock held = SKIFF_LOCK_INIT, other = SKIFF_LOCK_INIT;
	int go[2];
	pid_t pid;

	assert_int_equal(lock_open(t->dfd, "i.lock", &held, &err), 0);
	assert_int_equal(lock_open(t->dfd, "i.lock", &other, &err), 0);
	assert_int_equal(lock_take(&held, LOCK_EXCL, false, &err), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c;
		close(go[1]);
		close(other.fd);
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	close(go[0]);
	lock_close(&held);
	expect_busy(&other, LOCK_EXCL); /* the child still has the description */
	close(go[1]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(lock_take(&other, LOCK_EXCL, false, &err), 0);
	lock_close(&other);
}

/* A blocked waiter is woken by release, not by polling. */
static void test_wait_wakes(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	struct skiff_lock l = SKIFF_LOCK_INIT;
	int done[2];
	pid_t pid;
	char c;

	assert_int_equal(lock_open(t->dfd, "w.lock", &l, &err), 0);
	assert_int_equal(lock_take(&l, LOCK_EXCL, false, &err), 0);
	assert_int_equal(pipe2(done, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct skiff_lock w = SKIFF_LOCK_INIT;
		close(done[0]);
		if (lock_open(t->dfd, "w.lock", &w, &err) < 0 || lock_take(&w, LOCK_SHARED, true, &err) < 0)
			_exit(1);
		(void)!write(done[1], "d", 1);
		_exit(0);
	}
	close(done[1]);
	/* the child must still be waiting after a while */
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	int fl = fcntl(done[0], F_GETFL);
	assert_int_equal(fcntl(done[0], F_SETFL, fl | O_NONBLOCK), 0);
	assert_int_equal(read(done[0], &c, 1), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(fcntl(done[0], F_SETFL, fl), 0);
	assert_int_equal(lock_release(&l, &err), 0);
	assert_int_equal(read(done[0], &c, 1), 1);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(done[0]);
	lock_close(&l);
}

static void test_errors(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	struct skiff_lock l = SKIFF_LOCK_INIT;

	/* a symlink at the name is not followed */
	assert_int_equal(symlinkat("elsewhere", t->dfd, "sym.lock"), 0);
	assert_int_equal(lock_open(t->dfd, "sym.lock", &l, &err), -1);
	assert_int_equal(err->status, ELOOP);
	assert_non_null(strstr(err->msg, "sym.lock"));
	err_clear(&err);
	assert_int_equal(l.fd, -1);
	assert_int_equal(faccessat(t->dfd, "elsewhere", F_OK, 0), -1);

	assert_int_equal(lock_open(t->dfd, "missing-dir/x.lock", &l, &err), -1);
	assert_int_equal(err->status, ENOENT);
	assert_non_null(strstr(err->msg, "missing-dir/x.lock"));
	err_clear(&err);
	assert_int_equal(lock_open(t->dfd, "", &l, &err), -1);
	assert_int_equal(err->status, EINVAL);
	err_clear(&err);

	/* operations on a closed lock */
	assert_int_equal(lock_take(&l, LOCK_EXCL, false, &err), -1);
	assert_int_equal(err->status, EBADF);
	err_clear(&err);
	assert_int_equal(lock_release(&l, &err), -1);
	err_clear(&err);
	assert_int_equal(lock_downgrade(&l, &err), -1);
	err_clear(&err);

	assert_int_equal(lock_open(t->dfd, "ok.lock", &l, &err), 0);
	/* opening into an open lock object is refused (it would leak the fd) */
	assert_int_equal(lock_open(t->dfd, "ok.lock", &l, &err), -1);
	assert_int_equal(err->status, EINVAL);
	err_clear(&err);
	assert_int_equal(lock_take(&l, (enum lock_mode)7, false, &err), -1);
	assert_int_equal(err->status, EINVAL);
	err_clear(&err);
	assert_int_equal(lock_take(&l, LOCK_NONE, false, &err), -1);
	err_clear(&err);
	lock_close(&l);

	/* a read-only lock file (not ours) can be locked shared only */
	if (geteuid() == 0) {
		pid_t pid;
		int st;
		assert_int_equal(fchmod(t->dfd, 0755), 0);
		assert_int_equal(write_file_atomic(t->dfd, "ro.lock", "", 0, 0444, &err), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct skiff_lock r = SKIFF_LOCK_INIT;
			if (setgid(65534) < 0 || setuid(65534) < 0)
				_exit(2);
			if (lock_open(t->dfd, "ro.lock", &r, &err) < 0)
				_exit(3);
			if (lock_take(&r, LOCK_SHARED, false, &err) < 0)
				_exit(4);
			if (lock_take(&r, LOCK_EXCL, false, &err) == 0 || err->status != EBADF)
				_exit(5);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
}

static void test_cleanup_attribute(void **state)
{
	struct tmp *t = *state;
	struct skiff_err *err = NULL;
	struct skiff_lock other = SKIFF_LOCK_INIT;

	{
		cleanup_lock struct skiff_lock l = SKIFF_LOCK_INIT;
		assert_int_equal(lock_open(t->dfd, "scope.lock", &l, &err), 0);
		assert_int_equal(lock_take(&l, LOCK_EXCL, false, &err), 0);
	}
	assert_int_equal(lock_open(t->dfd, "scope.lock", &other, &err), 0);
	assert_int_equal(lock_take(&other, LOCK_EXCL, false, &err), 0);
	lock_close(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_conflict_in_one_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_downgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inherited_description, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_wakes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cleanup_attribute, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
