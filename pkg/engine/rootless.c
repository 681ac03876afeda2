#include "pkg/engine/rootless.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/lock.h"
#include "vendor-free/spawn.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

int rootless_read_ranges(const char *path, const char *user, uid_t uid, struct id_range *ret, struct skiff_err **err)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	char line[512];
	char uidstr[32];

	if (!f)
		return err_make(err, errno, "open %s", path);
	snprintf(uidstr, sizeof(uidstr), "%u", (unsigned)uid);
	while (fgets(line, sizeof(line), f)) {
		char *name = line, *start, *count, *end;
		if (line[0] == '#')
			continue;
		start = strchr(name, ':');
		if (!start)
			continue;
		*start++ = '\0';
		count = strchr(start, ':');
		if (!count)
			continue;
		*count++ = '\0';
		if (strcmp(name, uidstr) != 0 && (!user || strcmp(name, user) != 0))
			continue;
		errno = 0;
		unsigned long s = strtoul(start, &end, 10);
		if (errno || end == start)
			continue;
		unsigned long c = strtoul(count, &end, 10);
		if (errno || end == count || c == 0)
			continue;
		ret->start = s;
		ret->count = c;
		return 0;
	}
	return err_makex(err, ENOENT, "no range for user %s in %s", user ? user : uidstr, path);
}

bool rootless_in_userns(void)
{
	char buf[256];
	cleanup_fclose FILE *f = fopen("/proc/self/uid_map", "re");
	if (!f || !fgets(buf, sizeof(buf), f))
		return false;
	unsigned long a, b, c;
	if (sscanf(buf, "%lu %lu %lu", &a, &b, &c) != 3)
		return false;
	return !(a == 0 && b == 0 && c == 4294967295UL);
}

static char *pause_path(const struct skiff_config *cfg, const char *what)
{
	return xasprintf("%s/skiff-pause.%s", cfg->runtime_dir ? cfg->runtime_dir : cfg->runroot, what);
}

/* Join the namespaces of pid; ESRCH when it is not (or no longer) our pause process. */
static int join_pid(pid_t pid, uint64_t starttime, struct skiff_err **err)
{
	uint64_t st;
	char path[64];
	cleanup_close int userfd = -1;
	cleanup_close int mntfd = -1;
	cleanup_free char *cwd = getcwd(NULL, 0);

	if (pid <= 0 || proc_starttime(pid, &st) < 0 || st != starttime)
		return err_makex(err, ESRCH, "pause process %d is gone", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	userfd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	mntfd = open(path, O_RDONLY | O_CLOEXEC);
	if (userfd < 0 || mntfd < 0)
		return err_makex(err, ESRCH, "pause process %d is gone", (int)pid);
	/* Recheck identity now that the namespace fds are open. */
	if (proc_starttime(pid, &st) < 0 || st != starttime)
		return err_makex(err, ESRCH, "pause process %d is gone", (int)pid);
	if (setns(userfd, CLONE_NEWUSER) < 0)
		return err_make(err, errno, "join the user namespace of pause process %d", (int)pid);
	if (setns(mntfd, CLONE_NEWNS) < 0)
		return err_make(err, errno, "join the mount namespace of pause process %d", (int)pid);
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return err_make(err, errno, "become root in the user namespace");
	/* setns(CLONE_NEWNS) moved us to the namespace's root directory. */
	if (cwd && chdir(cwd) < 0 && chdir("/") < 0)
		return err_make(err, errno, "chdir");
	return 0;
}

static int read_pidfile(const char *path, pid_t *ret_pid, uint64_t *ret_start)
{
	cleanup_free char *buf = NULL;
	size_t len;
	long pid;
	unsigned long long start;
	if (read_file_at(AT_FDCWD, path, 128, &buf, &len, NULL) < 0)
		return -1;
	if (sscanf(buf, "%ld %llu", &pid, &start) != 2 || pid <= 0)
		return -1;
	*ret_pid = (pid_t)pid;
	*ret_start = start;
	return 0;
}

static void xwrite1(int fd, char c)
{
	while (write(fd, &c, 1) < 0 && errno == EINTR)
		;
}

static int xread1(int fd)
{
	char c;
	ssize_t n;
	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? c : -1;
}

/* The pause process: create the user namespace, wait to be mapped, make a mount
 * namespace, then sleep forever holding both. Never returns. */
static void __attribute__((noreturn)) pause_main(int to_parent, int from_parent)
{
	sigset_t all;
	int devnull;

	if (unshare(CLONE_NEWUSER) < 0) {
		xwrite1(to_parent, 'E');
		_exit(1);
	}
	xwrite1(to_parent, 'U');
	if (xread1(from_parent) != 'M')
		_exit(1);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		xwrite1(to_parent, 'E');
		_exit(1);
	}
	setsid();
	if (chdir("/") < 0)
		_exit(1);
	prctl(PR_SET_NAME, "skiff-pause", 0, 0, 0);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
	}
	close_range(3, (unsigned)to_parent - 1, 0);
	close_range((unsigned)from_parent + 1, ~0U, 0);
	/* Only SIGKILL/SIGTERM end it. */
	sigfillset(&all);
	sigdelset(&all, SIGTERM);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGTERM, SIG_DFL);
	xwrite1(to_parent, 'R');
	close(to_parent);
	close(from_parent);
	for (;;)
		pause();
}

static int run_map_tool(const char *tool, pid_t pid, unsigned long id, const struct id_range *r, struct skiff_err **err)
{
	char spid[32], sid[32], sstart[32], scount[32];
	const char *argv[] = {tool, spid, "0", sid, "1", "1", sstart, scount, NULL};
	struct strbuf out = STRBUF_INIT, errout = STRBUF_INIT;
	int status = 0, rc;

	snprintf(spid, sizeof(spid), "%d", (int)pid);
	snprintf(sid, sizeof(sid), "%lu", id);
	snprintf(sstart, sizeof(sstart), "%lu", r->start);
	snprintf(scount, sizeof(scount), "%lu", r->count);
	rc = run_capture(argv, NULL, &out, &errout, &status, err);
	if (rc == 0 && status != 0) {
		strbuf_rtrim(&errout);
		rc = err_makex(err, EPERM, "%s: exit status %d: %s", tool, status, errout.buf);
	}
	strbuf_release(&out);
	strbuf_release(&errout);
	return rc;
}

static int write_proc(pid_t pid, const char *file, const char *text, struct skiff_err **err)
{
	char path[64];
	cleanup_close int fd = -1;
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_make(err, errno, "open %s", path);
	if (write_all(fd, text, strlen(text)) < 0)
		return err_make(err, errno, "write %s", path);
	return 0;
}

static int map_ids(const struct skiff_config *cfg, pid_t pid, char **ret_warning, struct skiff_err **err)
{
	struct passwd *pw = getpwuid(cfg->uid);
	const char *user = pw ? pw->pw_name : NULL;
	struct id_range ur, gr;
	struct skiff_err *e = NULL;
	gid_t gid = getgid();

	if (rootless_read_ranges("/etc/subuid", user, cfg->uid, &ur, &e) == 0 &&
	    rootless_read_ranges("/etc/subgid", user, cfg->uid, &gr, &e) == 0 &&
	    run_map_tool("newuidmap", pid, cfg->uid, &ur, &e) == 0 && run_map_tool("newgidmap", pid, gid, &gr, &e) == 0)
		return 0;
	/* Single-id fallback: only our own uid and gid exist in the namespace. */
	char map[64];
	*ret_warning = xasprintf("using a single UID/GID mapping (%s); images with files owned by other users "
				 "cannot be used: add a range for %s to /etc/subuid and /etc/subgid",
				 e ? e->msg : "no subordinate ids", user ? user : "this user");
	err_free(e);
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)cfg->uid);
	if (write_proc(pid, "uid_map", map, err) < 0)
		return -1;
	if (write_proc(pid, "setgroups", "deny", err) < 0)
		return -1;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	return write_proc(pid, "gid_map", map, err);
}

static int create_pause(const struct skiff_config *cfg, const char *pidfile, char **ret_warning, struct skiff_err **err)
{
	int up[2], down[2];
	pid_t pid;
	int c;
	uint64_t start;

	if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0)
		return err_make(err, errno, "pipe");
	pid = fork();
	if (pid < 0)
		return err_make(err, errno, "fork");
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		/* keep the two pipe ends as fds 3 and 4, close the rest */
		if (dup3(up[1], 100, 0) < 0 || dup3(down[0], 101, 0) < 0)
			_exit(1);
		pause_main(100, 101);
	}
	close(up[1]);
	close(down[0]);
	c = xread1(up[0]);
	if (c != 'U') {
		close(up[0]);
		close(down[1]);
		waitpid(pid, NULL, 0);
		return err_makex(err, EPERM, "cannot create a user namespace (unprivileged user namespaces disabled?)");
	}
	if (map_ids(cfg, pid, ret_warning, err) < 0) {
		kill(pid, SIGKILL);
		close(up[0]);
		close(down[1]);
		waitpid(pid, NULL, 0);
		return err_wrap(err, "map ids into the user namespace");
	}
	xwrite1(down[1], 'M');
	c = xread1(up[0]);
	close(up[0]);
	close(down[1]);
	if (c != 'R') {
		waitpid(pid, NULL, 0);
		return err_makex(err, EPERM, "cannot create the rootless mount namespace");
	}
	if (proc_starttime(pid, &start) < 0)
		return err_makex(err, ESRCH, "pause process died");
	cleanup_free char *text = xasprintf("%d %llu\n", (int)pid, (unsigned long long)start);
	if (write_file_atomic(AT_FDCWD, pidfile, text, strlen(text), 0600, err) < 0)
		return err_wrap(err, "write %s", pidfile);
	return join_pid(pid, start, err);
}

int rootless_join(const struct skiff_config *cfg, char **ret_warning, struct skiff_err **err)
{
	cleanup_free char *pidfile = pause_path(cfg, "pid");
	cleanup_free char *lockfile = pause_path(cfg, "lock");
	cleanup_free char *dir = NULL;
	struct skiff_err *e = NULL;
	pid_t pid;
	uint64_t start;
	struct skiff_lock lockfd = SKIFF_LOCK_INIT;
	int rc;

	*ret_warning = NULL;
	if (geteuid() == 0)
		return 0;
	if (read_pidfile(pidfile, &pid, &start) == 0) {
		if (join_pid(pid, start, &e) == 0)
			return 0;
		if (err_status(e) != ESRCH) {
			*err = e;
			return err_wrap(err, "join the rootless user namespace");
		}
		err_clear(&e);
	}
	dir = xstrdup(pidfile);
	*strrchr(dir, '/') = '\0';
	if (mkdir_p_at(AT_FDCWD, dir, 0700, err) < 0)
		return err_wrap(err, "create the runtime directory");
	if (lock_open(AT_FDCWD, lockfile, &lockfd, err) < 0 || lock_take(&lockfd, LOCK_EXCL, true, err) < 0) {
		lock_close(&lockfd);
		return err_wrap(err, "lock %s", lockfile);
	}
	/* Someone may have made it while we waited. */
	if (read_pidfile(pidfile, &pid, &start) == 0 && join_pid(pid, start, &e) == 0) {
		lock_close(&lockfd);
		return 0;
	}
	err_clear(&e);
	rc = create_pause(cfg, pidfile, ret_warning, err);
	lock_close(&lockfd);
	if (rc < 0)
		return err_wrap(err, "set up the rootless user namespace");
	return 0;
}
