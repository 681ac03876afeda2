#include "vendor-free/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* the same number on every architecture */
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extern char **environ;

int pidfd_open_compat(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int spawn_wait(pid_t pid, int *ret_status)
{
	int st;

	for (;;) {
		if (waitpid(pid, &st, 0) >= 0)
			break;
		if (errno != EINTR)
			return -1;
	}
	if (ret_status) {
		if (WIFEXITED(st))
			*ret_status = WEXITSTATUS(st);
		else if (WIFSIGNALED(st))
			*ret_status = 128 + WTERMSIG(st);
		else
			*ret_status = 255;
	}
	return 0;
}

/* What the child reports through the error pipe when it cannot exec. */
enum child_stage { STAGE_SETSID = 1, STAGE_FDS, STAGE_CHDIR, STAGE_EXEC };
struct child_report {
	int stage;
	int err;
	int fd; /* STAGE_FDS: the target fd */
};

static const char *env_lookup(const char *const *env, const char *name)
{
	size_t n = strlen(name);

	for (; env && *env; env++)
		if (!strncmp(*env, name, n) && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

static bool is_executable(const char *path, int *eacces)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return false;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0) {
		*eacces = 1;
		return false;
	}
	return true;
}

/* execvp's search, done in the parent where allocating is fine. */
static int find_program(const char *file, const char *const *env, char **ret, struct skiff_err **err)
{
	const char *path = env_lookup(env, "PATH");
	const char *p;
	int eacces = 0;

	if (strchr(file, '/')) {
		*ret = xstrdup(file);
		return 0;
	}
	if (!path)
		path = getenv("PATH");
	if (!path)
		path = DEFAULT_PATH;
	p = path;
	for (;;) {
		const char *end = strchrnul(p, ':');
		size_t n = (size_t)(end - p);
		cleanup_free char *cand = n ? xasprintf("%.*s/%s", (int)n, p, file) : xstrdup(file);

		if (is_executable(cand, &eacces)) {
			*ret = TAKE_PTR(cand);
			return 0;
		}
		if (!*end)
			break;
		p = end + 1;
	}
	return err_make(err, eacces ? EACCES : ENOENT, "exec %s", file);
}

/* ---- in the child: async-signal-safe calls only from here ---- */

static __attribute__((noreturn)) void child_fail(int errfd, int stage, int fd)
{
	struct child_report r = {.stage = stage, .err = errno, .fd = fd};
	ssize_t n;

	do
		n = write(errfd, &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	_exit(127);
}

static __attribute__((noreturn)) void child_run(const char *path, const char *const argv[], const char *const *env,
						const struct spawn_opts *o, const int *src, int *tmp, size_t nfds,
						int errfd, const sigset_t *empty)
{
	struct sigaction dfl;
	int base = 3;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &dfl, NULL); /* fails for libc-reserved ones: fine */

	if (o->new_session && setsid() < 0)
		child_fail(errfd, STAGE_SETSID, -1);

	/* Move every source fd, and the error pipe, above every fd involved, so
	 * that the dup2s below cannot clobber a source that is yet to be used. */
	if ((int)nfds > base)
		base = (int)nfds;
	if (errfd >= base)
		base = errfd + 1;
	for (size_t i = 0; i < nfds; i++)
		if (src[i] >= base)
			base = src[i] + 1;
	errfd = fcntl(errfd, F_DUPFD_CLOEXEC, base);
	if (errfd < 0)
		_exit(127);
	for (size_t i = 0; i < nfds; i++) {
		tmp[i] = -1;
		if (src[i] >= 0) {
			tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, base);
			if (tmp[i] < 0)
				child_fail(errfd, STAGE_FDS, (int)i);
		}
	}
	for (size_t i = 0; i < nfds; i++)
		if (tmp[i] >= 0 && dup2(tmp[i], (int)i) < 0) /* dup2 clears CLOEXEC */
			child_fail(errfd, STAGE_FDS, (int)i);
	/* Whatever else is open, CLOEXEC or not, is not for the program. */
	(void)syscall(SYS_close_range, (unsigned)nfds, ~0U, CLOSE_RANGE_CLOEXEC);

	if (o->cwd && chdir(o->cwd) < 0)
		child_fail(errfd, STAGE_CHDIR, -1);
	sigprocmask(SIG_SETMASK, empty, NULL);
	execve(path, (char *const *)argv, (char *const *)env);
	child_fail(errfd, STAGE_EXEC, -1);
}

/* ---- in the parent ---- */

static int report_child_failure(const struct child_report *r, const char *path, const struct spawn_opts *o,
				struct skiff_err **err)
{
	switch (r->stage) {
	case STAGE_SETSID:
		return err_make(err, r->err, "exec %s: setsid", path);
	case STAGE_FDS:
		return err_make(err, r->err, "exec %s: set up fd %d", path, r->fd);
	case STAGE_CHDIR:
		return err_make(err, r->err, "exec %s: chdir %s", path, o->cwd);
	default:
		return err_make(err, r->err, "exec %s", path);
	}
}

int spawn(const char *const argv[], const struct spawn_opts *opts, pid_t *ret_pid, int *ret_pidfd,
	  struct skiff_err **err)
{
	const struct spawn_opts defaults = SPAWN_OPTS_INIT;
	const struct spawn_opts *o = opts ? opts : &defaults;
	const char *const *env = o->env ? o->env : (const char *const *)environ;
	cleanup_free char *path = NULL;
	cleanup_free int *src = NULL;
	cleanup_free int *tmp = NULL;
	cleanup_close int devnull = -1;
	cleanup_close int errpipe_r = -1;
	cleanup_close int errpipe_w = -1;
	const int std[3] = {o->stdin_fd, o->stdout_fd, o->stderr_fd};
	struct child_report report;
	sigset_t all, old, empty;
	size_t nfds;
	ssize_t n;
	pid_t pid;
	int pidfd = -1;

	if (!argv || !argv[0] || !*argv[0])
		return err_makex(err, EINVAL, "exec: no program given");
	if (!ret_pid)
		return err_makex(err, EINVAL, "exec %s: no place for the pid", argv[0]);
	if (o->n_extra_fds > 4096 || (o->n_extra_fds && !o->extra_fds))
		return err_makex(err, EINVAL, "exec %s: bad extra fd list (%zu fds)", argv[0], o->n_extra_fds);
	nfds = 3 + o->n_extra_fds;
	src = xcalloc(nfds, sizeof(*src));
	tmp = xcalloc(nfds, sizeof(*tmp));
	for (size_t i = 0; i < 3; i++) {
		if (std[i] == SPAWN_DEVNULL) {
			if (devnull < 0) {
				devnull = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
				if (devnull < 0)
					return err_make(err, errno, "exec %s: open /dev/null", argv[0]);
			}
			src[i] = devnull;
		} else if (std[i] == SPAWN_INHERIT) {
			src[i] = -1;
		} else if (std[i] < 0 || fcntl(std[i], F_GETFD) < 0) {
			return err_makex(err, EBADF, "exec %s: fd %d for fd %zu is not open", argv[0], std[i], i);
		} else {
			src[i] = std[i];
		}
	}
	for (size_t i = 0; i < o->n_extra_fds; i++) {
		int fd = o->extra_fds[i];
		if (fd < 0 || fcntl(fd, F_GETFD) < 0)
			return err_makex(err, EBADF, "exec %s: extra fd %d is not open", argv[0], fd);
		src[3 + i] = fd;
	}
	if (find_program(argv[0], env, &path, err) < 0)
		return -1;
	{
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return err_make(err, errno, "exec %s: pipe", argv[0]);
		errpipe_r = p[0];
		errpipe_w = p[1];
	}

	/* Block every signal across fork so that the child runs none of our
	 * handlers before it resets them. */
	sigfillset(&all);
	sigemptyset(&empty);
	if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0)
		return err_makex(err, EINVAL, "exec %s: cannot block signals", argv[0]);
	pid = fork();
	if (pid == 0)
		child_run(path, argv, env, o, src, tmp, nfds, errpipe_w, &empty);
	int fork_errno = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return err_make(err, fork_errno, "exec %s: fork", argv[0]);

	close(TAKE_FD(errpipe_w));
	do
		n = read(errpipe_r, &report, sizeof(report));
	while (n < 0 && errno == EINTR);
	if (n != 0) {
		int saved = errno;
		(void)spawn_wait(pid, NULL);
		if (n == (ssize_t)sizeof(report))
			return report_child_failure(&report, path, o, err);
		if (n < 0)
			return err_make(err, saved, "exec %s: read status from child", path);
		return err_makex(err, EIO, "exec %s: short status from child", path);
	}

	if (ret_pidfd) {
		/* The child is ours and not yet reaped, so its pid cannot be reused
		 * before this: pidfd_open after fork is race-free. */
		pidfd = pidfd_open_compat(pid);
		if (pidfd < 0 && errno != ENOSYS) {
			int saved = errno;
			kill(pid, SIGKILL);
			(void)spawn_wait(pid, NULL);
			return err_make(err, saved, "exec %s: pidfd_open", path);
		}
		*ret_pidfd = pidfd;
	}
	*ret_pid = pid;
	return 0;
}

/* The first line of s, at most 200 bytes, for messages. */
static char *first_line(const char *s)
{
	size_t n = strcspn(s, "\n");
	return xstrndup(s, n > 200 ? 200 : n);
}

int run_capture(const char *const argv[], const struct spawn_opts *opts, struct strbuf *out, struct strbuf *errout,
		int *ret_status, struct skiff_err **err)
{
	struct spawn_opts o = SPAWN_OPTS_INIT;
	cleanup_close int out_r = -1, out_w = -1, err_r = -1, err_w = -1;
	cleanup_strbuf struct strbuf errtmp = STRBUF_INIT;
	struct pollfd pfd[2];
	char buf[16384];
	pid_t pid;
	int status;

	if (opts)
		o = *opts;
	else
		o.stdin_fd = SPAWN_DEVNULL;
	if (!argv || !argv[0] || !*argv[0])
		return err_makex(err, EINVAL, "exec: no program given");
	if (out) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return err_make(err, errno, "exec %s: pipe", argv[0]);
		out_r = p[0];
		out_w = p[1];
		o.stdout_fd = out_w;
	}
	if (!errout && !ret_status)
		errout = &errtmp; /* keep it for the error message */
	if (errout) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return err_make(err, errno, "exec %s: pipe", argv[0]);
		err_r = p[0];
		err_w = p[1];
		o.stderr_fd = err_w;
	}
	if (spawn(argv, &o, &pid, NULL, err) < 0)
		return -1;
	close(TAKE_FD(out_w));
	close(TAKE_FD(err_w));

	pfd[0] = (struct pollfd){.fd = out_r, .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = err_r, .events = POLLIN};
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			kill(pid, SIGKILL);
			(void)spawn_wait(pid, NULL);
			return err_make(err, saved, "run %s: poll", argv[0]);
		}
		for (int i = 0; i < 2; i++) {
			struct strbuf *sb = i == 0 ? out : errout;
			ssize_t n;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n < 0) {
				int saved = errno;
				kill(pid, SIGKILL);
				(void)spawn_wait(pid, NULL);
				return err_make(err, saved, "run %s: read output", argv[0]);
			}
			if (n == 0) {
				pfd[i].fd = -1; /* EOF; the fd is closed by cleanup */
				continue;
			}
			strbuf_add(sb, buf, (size_t)n);
		}
	}
	if (spawn_wait(pid, &status) < 0)
		return err_make(err, errno, "run %s: wait", argv[0]);
	if (!ret_status) {
		if (status != 0) {
			cleanup_free char *line = first_line(errout->buf);
			if (*line)
				return err_makex(err, EIO, "%s exited with status %d: %s", argv[0], status, line);
			return err_makex(err, EIO, "%s exited with status %d", argv[0], status);
		}
		return 0;
	}
	*ret_status = status;
	return 0;
}

int proc_starttime(pid_t pid, uint64_t *ret)
{
	char path[64], buf[4096];
	cleanup_close int fd = -1;
	size_t len = 0;
	const char *p;
	unsigned long long v;
	char *end;

	if (pid < 0) {
		errno = EINVAL;
		return -1;
	}
	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/stat");
	else
		snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			errno = ESRCH;
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOENT)
				errno = ESRCH;
			return -1;
		}
		if (n == 0 || (len += (size_t)n) == sizeof(buf) - 1)
			break;
	}
	buf[len] = '\0';
	p = strrchr(buf, ')');
	if (!p) {
		errno = EINVAL;
		return -1;
	}
	p++;
	/* After ")" come field 3 (state) onwards; starttime is field 22. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p) {
			errno = EINVAL;
			return -1;
		}
	}
	p++;
	if (*p < '0' || *p > '9') {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno || (*end != ' ' && *end != '\n' && *end != '\0')) {
		errno = EINVAL;
		return -1;
	}
	*ret = v;
	return 0;
}
