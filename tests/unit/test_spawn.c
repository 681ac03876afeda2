/* Unit tests for vendor-free/spawn. Uses /bin/sh and coreutils. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#define SH(script) ((const char *const[]){"/bin/sh", "-c", script, NULL})

/* Run a shell script, return its status, capture stdout (and stderr). */
static int sh_capture(const char *script, const struct spawn_opts *o, struct strbuf *out, struct strbuf *errout)
{
	struct skiff_err *err = NULL;
	int status = -1;

	if (run_capture(SH(script), o, out, errout, &status, &err) < 0)
		fail_msg("run_capture(%s): %s", script, err->msg);
	return status;
}

static void test_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(sh_capture("exit 0", NULL, NULL, NULL), 0);
	assert_int_equal(sh_capture("exit 3", NULL, NULL, NULL), 3);
	assert_int_equal(sh_capture("exit 255", NULL, NULL, NULL), 255);
	assert_int_equal(sh_capture("exit 256", NULL, NULL, NULL), 0);

	/* spawn + spawn_wait directly, via $PATH */
	struct skiff_err *err = NULL;
	pid_t pid = -1;
	int status = -1;
	assert_int_equal(spawn((const char *const[]){"false", NULL}, NULL, &pid, NULL, &err), 0);
	assert_true(pid > 0);
	assert_int_equal(spawn_wait(pid, &status), 0);
	assert_int_equal(status, 1);
	/* not our child (any more) */
	assert_int_equal(spawn_wait(pid, &status), -1);
	assert_int_equal(errno, ECHILD);
}

static void test_signals(void **state)
{
	(void)state;
	assert_int_equal(sh_capture("kill -TERM $$", NULL, NULL, NULL), 128 + SIGTERM);
	assert_int_equal(sh_capture("kill -KILL $$", NULL, NULL, NULL), 128 + SIGKILL);
	assert_int_equal(sh_capture("kill -SEGV $$", NULL, NULL, NULL), 128 + SIGSEGV);

	/* a killed child whose output we capture */
	struct skiff_err *err = NULL;
	pid_t pid;
	int status;
	assert_int_equal(spawn((const char *const[]){"sleep", "30", NULL}, NULL, &pid, NULL, &err), 0);
	assert_int_equal(kill(pid, SIGINT), 0);
	assert_int_equal(spawn_wait(pid, &status), 0);
	assert_int_equal(status, 128 + SIGINT);
}

static void expect_spawn_error(const char *const argv[], const struct spawn_opts *o, int status, const char *msg)
{
	struct skiff_err *err = NULL;
	pid_t pid = 12345;
	int pidfd = 12345;

	assert_int_equal(spawn(argv, o, &pid, &pidfd, &err), -1);
	assert_non_null(err);
	if (err->status != status || strcmp(err->msg, msg) != 0)
		fail_msg("got status %d '%s', want %d '%s'", err->status, err->msg, status, msg);
	assert_int_equal(pid, 12345); /* outputs untouched */
	assert_int_equal(pidfd, 12345);
	err_free(err);
}

static void test_exec_errors(void **state)
{
	struct spawn_opts o = SPAWN_OPTS_INIT;
	char dir[] = "/tmp/skiff-test-spawn-XXXXXX";
	char *noexec, *msg;
	int dfd;
	(void)state;

	expect_spawn_error((const char *const[]){"/nonexistent/prog", NULL}, NULL, ENOENT,
			   "exec /nonexistent/prog: No such file or directory");
	expect_spawn_error((const char *const[]){"skiff-no-such-program-x", "arg", NULL}, NULL, ENOENT,
			   "exec skiff-no-such-program-x: No such file or directory");
	/* PATH from the child's environment decides */
	o.env = (const char *const[]){"PATH=/nonexistent", NULL};
	expect_spawn_error((const char *const[]){"sh", "-c", "true", NULL}, &o, ENOENT,
			   "exec sh: No such file or directory");
	o.env = NULL;

	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	struct skiff_err *err = NULL;
	assert_int_equal(write_file_atomic(dfd, "noexec", "#!/bin/sh\n", 10, 0644, &err), 0);
	assert_int_equal(write_file_atomic(dfd, "badformat",
					   "\x7f"
					   "ELF garbage",
					   12, 0755, &err),
			 0);
	noexec = xasprintf("%s/noexec", dir);
	msg = xasprintf("exec %s: Permission denied", noexec);
	expect_spawn_error((const char *const[]){noexec, NULL}, NULL, EACCES, msg);
	free(msg);
	msg = xasprintf("exec %s: Permission denied", dir);
	expect_spawn_error((const char *const[]){dir, NULL}, NULL, EACCES, msg);
	free(msg);
	free(noexec);
	/* found in PATH but not executable: EACCES, as execvp says */
	o.env = (const char *const[]){NULL, NULL};
	char *pathenv = xasprintf("PATH=/nonexistent:%s", dir);
	((const char **)o.env)[0] = pathenv;
	expect_spawn_error((const char *const[]){"noexec", NULL}, &o, EACCES, "exec noexec: Permission denied");
	free(pathenv);
	o.env = NULL;
	/* the kernel refuses the format: reported from the child */
	char *bad = xasprintf("%s/badformat", dir);
	msg = xasprintf("exec %s: Exec format error", bad);
	expect_spawn_error((const char *const[]){bad, NULL}, NULL, ENOEXEC, msg);
	free(msg);
	free(bad);
	close(dfd);
	assert_int_equal(rm_rf_at(AT_FDCWD, dir, &err), 0);

	/* chdir failure */
	o.cwd = "/nonexistent-dir";
	expect_spawn_error(SH("true"), &o, ENOENT, "exec /bin/sh: chdir /nonexistent-dir: No such file or directory");
	o.cwd = NULL;

	/* bad arguments */
	expect_spawn_error(NULL, NULL, EINVAL, "exec: no program given");
	expect_spawn_error((const char *const[]){NULL}, NULL, EINVAL, "exec: no program given");
	expect_spawn_error((const char *const[]){"", NULL}, NULL, EINVAL, "exec: no program given");
	o.stdout_fd = 9999;
	expect_spawn_error(SH("true"), &o, EBADF, "exec /bin/sh: fd 9999 for fd 1 is not open");
	o.stdout_fd = SPAWN_INHERIT;
	o.extra_fds = (const int[]){9998};
	o.n_extra_fds = 1;
	expect_spawn_error(SH("true"), &o, EBADF, "exec /bin/sh: extra fd 9998 is not open");

	/* run_capture reports the same way */
	struct strbuf out = STRBUF_INIT;
	int status = 77;
	assert_int_equal(run_capture((const char *const[]){"/nonexistent/x", NULL}, NULL, &out, NULL, &status, &err),
			 -1);
	assert_string_equal(err->msg, "exec /nonexistent/x: No such file or directory");
	assert_int_equal(status, 77);
	err_clear(&err);
	strbuf_release(&out);
}

static void test_large_output(void **state)
{
	struct strbuf out = STRBUF_INIT, errout = STRBUF_INIT;
	(void)state;

	/* 5 MB on each stream, interleaved in 100 kB pieces: a reader that
	 * drained one pipe at a time would deadlock */
	assert_int_equal(sh_capture("i=0; while [ $i -lt 50 ]; do "
				    "head -c 100000 /dev/zero | tr '\\0' a; "
				    "head -c 100000 /dev/zero | tr '\\0' b >&2; i=$((i+1)); done",
				    NULL, &out, &errout),
			 0);
	assert_int_equal(out.len, 5000000);
	assert_int_equal(errout.len, 5000000);
	assert_int_equal(strspn(out.buf, "a"), 5000000);
	assert_int_equal(strspn(errout.buf, "b"), 5000000);
	strbuf_release(&out);
	strbuf_release(&errout);

	/* only stderr captured, stdout to /dev/null */
	struct spawn_opts o = SPAWN_OPTS_INIT;
	o.stdout_fd = SPAWN_DEVNULL;
	assert_int_equal(sh_capture("head -c 300000 /dev/zero; echo e >&2", &o, NULL, &errout), 0);
	assert_string_equal(errout.buf, "e\n");
	strbuf_release(&errout);
}

static void test_env_and_cwd(void **state)
{
	struct spawn_opts o = SPAWN_OPTS_INIT;
	struct strbuf out = STRBUF_INIT;
	(void)state;

	o.env = (const char *const[]){"FOO=bar baz", "EMPTY=", NULL};
	assert_int_equal(sh_capture("echo \"$FOO|${EMPTY-unset}|${HOME-nohome}\"", &o, &out, NULL), 0);
	assert_string_equal(out.buf, "bar baz||nohome\n");
	strbuf_reset(&out);

	/* NULL env inherits ours */
	assert_int_equal(setenv("SKIFF_TEST_SPAWN", "inherited", 1), 0);
	assert_int_equal(sh_capture("echo $SKIFF_TEST_SPAWN", NULL, &out, NULL), 0);
	assert_string_equal(out.buf, "inherited\n");
	unsetenv("SKIFF_TEST_SPAWN");
	strbuf_reset(&out);

	/* empty env: nothing at all */
	o.env = (const char *const[]){NULL};
	assert_int_equal(run_capture((const char *const[]){"/usr/bin/env", NULL}, &o, &out, NULL, NULL, NULL), 0);
	assert_string_equal(out.buf, "");

	o.env = NULL;
	o.cwd = "/";
	assert_int_equal(sh_capture("pwd", &o, &out, NULL), 0);
	assert_string_equal(out.buf, "/\n");
	strbuf_release(&out);
}

static void test_stdio_and_fds(void **state)
{
	struct spawn_opts o = SPAWN_OPTS_INIT;
	struct strbuf out = STRBUF_INIT;
	struct skiff_err *err = NULL;
	int in[2], extra[2];
	char buf[64];
	(void)state;

	/* stdin from a pipe */
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(write_all(in[1], "fed in\n", 7), 0);
	close(in[1]);
	o.stdin_fd = in[0];
	assert_int_equal(run_capture((const char *const[]){"cat", NULL}, &o, &out, NULL, NULL, &err), 0);
	assert_string_equal(out.buf, "fed in\n");
	close(in[0]);
	strbuf_reset(&out);

	/* stdin /dev/null (the default of run_capture without opts) */
	assert_int_equal(run_capture((const char *const[]){"cat", NULL}, NULL, &out, NULL, NULL, &err), 0);
	assert_string_equal(out.buf, "");

	/* an extra fd becomes fd 3; nothing else leaks, CLOEXEC or not */
	int leak = open("/dev/null", O_RDONLY); /* deliberately without O_CLOEXEC */
	assert_true(leak >= 0);
	assert_int_equal(pipe2(extra, O_CLOEXEC), 0);
	o = (struct spawn_opts)SPAWN_OPTS_INIT;
	o.extra_fds = (const int[]){extra[1]};
	o.n_extra_fds = 1;
	assert_int_equal(sh_capture("echo to-three >&3; ls /proc/$$/fd", &o, &out, NULL), 0);
	assert_string_equal(out.buf, "0\n1\n2\n3\n"); /* the shell's fds */
	close(extra[1]);
	assert_int_equal(read(extra[0], buf, sizeof(buf)), 9);
	assert_memory_equal(buf, "to-three\n", 9);
	close(extra[0]);
	close(leak);
	strbuf_release(&out);
}

/* Sources that collide with targets: stdout and stderr swapped, and extra
 * fds passed in reverse order of their numbers. Runs in a child so that our
 * own fds 1 and 2 stay as they are. */
static void test_fd_shuffle(void **state)
{
	int a[2], b[2], c[2], d[2];
	pid_t pid;
	int st;
	char buf[64];
	ssize_t n;
	(void)state;

	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_int_equal(pipe2(b, O_CLOEXEC), 0);
	assert_int_equal(pipe2(c, O_CLOEXEC), 0);
	assert_int_equal(pipe2(d, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct spawn_opts o = SPAWN_OPTS_INIT;
		struct skiff_err *err = NULL;
		pid_t p;
		int status;

		/* a on 1, b on 2, c on 4, d on 3 */
		if (dup2(a[1], 1) < 0 || dup2(b[1], 2) < 0 || dup2(c[1], 4) < 0 || dup2(d[1], 3) < 0)
			_exit(10);
		o.stdout_fd = 2;
		o.stderr_fd = 1;
		o.extra_fds = (const int[]){4, 3}; /* c becomes 3, d becomes 4 */
		o.n_extra_fds = 2;
		if (spawn(SH("echo out; echo err >&2; echo three >&3; echo four >&4"), &o, &p, NULL, &err) < 0)
			_exit(11);
		if (spawn_wait(p, &status) < 0)
			_exit(12);
		_exit(status);
	}
	close(a[1]);
	close(b[1]);
	close(c[1]);
	close(d[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	n = read(a[0], buf, sizeof(buf));
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "err\n", 4);
	n = read(b[0], buf, sizeof(buf));
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "out\n", 4);
	n = read(c[0], buf, sizeof(buf));
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "three\n", 6);
	n = read(d[0], buf, sizeof(buf));
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "four\n", 5);
	close(a[0]);
	close(b[0]);
	close(c[0]);
	close(d[0]);
}

static void test_signals_reset_and_session(void **state)
{
	struct spawn_opts o = SPAWN_OPTS_INIT;
	struct strbuf out = STRBUF_INIT;
	sigset_t set, old;
	(void)state;

	/* ignored and blocked signals here must not be so in the child */
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	assert_int_equal(run_capture((const char *const[]){"grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status", NULL},
				     NULL, &out, NULL, NULL, NULL),
			 0);
	/* Signals 32 and 33 are glibc's own (SIGCANCEL, SIGSETXID): sigaction refuses
	 * them, so a disposition inherited from whoever started the tests stays. */
	unsigned long long blk = 1, ign = 1;
	assert_int_equal(sscanf(out.buf, "SigBlk:\t%llx\nSigIgn:\t%llx", &blk, &ign), 2);
	assert_int_equal(blk & ~0x180000000ULL, 0);
	assert_int_equal(ign & ~0x180000000ULL, 0);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	strbuf_reset(&out);

	/* new session: the shell leads its own session */
	long shpid = 0, sid = -1;
	o.new_session = true;
	assert_int_equal(sh_capture("echo $$ $(cut -d' ' -f6 /proc/$$/stat)", &o, &out, NULL), 0);
	assert_int_equal(sscanf(out.buf, "%ld %ld", &shpid, &sid), 2);
	assert_true(shpid > 0);
	assert_int_equal(shpid, sid);
	strbuf_reset(&out);
	/* and without it, it does not */
	o.new_session = false;
	assert_int_equal(sh_capture("echo $$ $(cut -d' ' -f6 /proc/$$/stat)", &o, &out, NULL), 0);
	assert_int_equal(sscanf(out.buf, "%ld %ld", &shpid, &sid), 2);
	assert_int_not_equal(shpid, sid);
	strbuf_release(&out);
}

static void test_run_capture_status_error(void **state)
{
	struct skiff_err *err = NULL;
	struct strbuf out = STRBUF_INIT;
	(void)state;

	/* no ret_status: a failure is an error quoting stderr's first line */
	assert_int_equal(run_capture(SH("echo partial; echo 'bad thing happened' >&2; echo more >&2; exit 4"), NULL,
				     &out, NULL, NULL, &err),
			 -1);
	assert_int_equal(err->status, EIO);
	assert_string_equal(err->msg, "/bin/sh exited with status 4: bad thing happened");
	assert_string_equal(out.buf, "partial\n");
	err_clear(&err);
	assert_int_equal(run_capture(SH("kill -9 $$"), NULL, NULL, NULL, NULL, &err), -1);
	assert_string_equal(err->msg, "/bin/sh exited with status 137");
	err_clear(&err);
	assert_int_equal(run_capture(SH("exit 0"), NULL, NULL, NULL, NULL, &err), 0);
	strbuf_release(&out);
}

static void test_pidfd(void **state)
{
	struct skiff_err *err = NULL;
	pid_t pid;
	int pidfd = -1, status;
	(void)state;

	assert_int_equal(spawn((const char *const[]){"sleep", "0.2", NULL}, NULL, &pid, &pidfd, &err), 0);
	if (pidfd < 0) {
		print_message("skipped: no pidfd_open in this kernel\n");
		assert_int_equal(spawn_wait(pid, &status), 0);
		skip();
	}
	assert_true(fcntl(pidfd, F_GETFD) & FD_CLOEXEC);
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 0), 0);	/* still running */
	assert_int_equal(poll(&p, 1, 5000), 1); /* readable once it exits */
	assert_int_equal(spawn_wait(pid, &status), 0);
	assert_int_equal(status, 0);
	close(pidfd);

	pidfd = pidfd_open_compat(getpid());
	assert_true(pidfd >= 0);
	close(pidfd);
	assert_int_equal(pidfd_open_compat(-5), -1);
	assert_int_equal(errno, EINVAL);
}

static void test_proc_starttime(void **state)
{
	uint64_t self = 0, self0 = 0, child1 = 0, child2 = 0, v = 0;
	int go[2], ready[2];
	pid_t pid;
	char c;
	(void)state;

	assert_int_equal(proc_starttime(getpid(), &self), 0);
	assert_int_equal(proc_starttime(0, &self0), 0);
	assert_true(self > 0);
	assert_int_equal(self, self0);

	/* a command name with ") " in it must not confuse the parser: the start
	 * time read before and after renaming the child is the same */
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		prctl(PR_SET_NAME, "x) 1 2 3 (y) z", 0, 0, 0);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		if (read(go[0], &c, 1) < 0)
			_exit(3);
		_exit(0);
	}
	assert_int_equal(proc_starttime(pid, &child1), 0);
	assert_int_equal(write(go[1], "g", 1), 1);
	assert_int_equal(read(ready[0], &c, 1), 1);
	char *buf = NULL;
	struct skiff_err *err = NULL;
	char *path = xasprintf("/proc/%d/stat", (int)pid);
	assert_int_equal(read_file_at(AT_FDCWD, path, 4096, &buf, NULL, &err), 0);
	assert_non_null(strstr(buf, "(x) 1 2 3 (y) z)"));
	free(buf);
	free(path);
	assert_int_equal(proc_starttime(pid, &child2), 0);
	assert_int_equal(child1, child2);
	assert_true(child1 >= self);
	close(go[1]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(go[0]);
	close(ready[0]);
	close(ready[1]);

	/* gone, or never there: ESRCH; output untouched */
	v = 42;
	assert_int_equal(proc_starttime(pid, &v), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(proc_starttime(INT_MAX, &v), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(proc_starttime(-1, &v), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(v, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_exec_errors),
		cmocka_unit_test(test_large_output),
		cmocka_unit_test(test_env_and_cwd),
		cmocka_unit_test(test_stdio_and_fds),
		cmocka_unit_test(test_fd_shuffle),
		cmocka_unit_test(test_signals_reset_and_session),
		cmocka_unit_test(test_run_capture_status_error),
		cmocka_unit_test(test_pidfd),
		cmocka_unit_test(test_proc_starttime),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
