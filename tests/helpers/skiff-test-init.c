/* skiff-test-init: one static, libc-only, multi-call binary that can be a container's whole
 * rootfs, so runtime tests need no image and no network. It acts on argv[1], or on the
 * basename of argv[0] when that names a subcommand (a symlink /bin/echo -> skiff-test-init).
 * See tests/helpers/README.md for the subcommands.
 *
 * Exit codes: what the subcommand says (0 on success), 1 when the operation fails (one line
 * on stderr naming what failed), 125 for a usage error, 127 for an unknown subcommand.
 *
 * Build (static, libc only, no libskiff):
 *   cc -std=gnu11 -D_GNU_SOURCE -static -O2 -Wall -Wextra -Werror -Wstrict-prototypes -Wvla \
 *      -Wwrite-strings -Wmissing-prototypes -o skiff-test-init tests/helpers/skiff-test-init.c
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h> /* isfinite: a macro, no libm */
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#define PROG "skiff-test-init"
#define EXIT_FAIL 1
#define EXIT_USAGE 125
#define EXIT_UNKNOWN 127
#define UNUSED __attribute__((unused))

extern char **environ;

static const char *cmd_name; /* the subcommand, once known */

/* One line on stderr, "skiff-test-init: SUBCOMMAND: message", then exit with code. */
__attribute__((format(printf, 2, 3), noreturn)) static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", PROG);
	if (cmd_name)
		fprintf(stderr, "%s: ", cmd_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* Flush stdout and report a failed write: a test must not mistake lost output for success. */
static int finish(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EXIT_FAIL, "write to stdout: %s", strerror(errno));
	return code;
}

static long long parse_int(const char *s, long long min, long long max, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || isspace((unsigned char)*s) || *end || errno || v < min || v > max)
		die(EXIT_USAGE, "invalid %s '%s' (want an integer from %lld to %lld)", what, s, min, max);
	return v;
}

static double parse_seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || isspace((unsigned char)*s) || *end || errno || !isfinite(v) || v < 0 || v > 1e9)
		die(EXIT_USAGE, "invalid number of seconds '%s'", s);
	return v;
}

static void sleep_seconds(double secs)
{
	struct timespec t;
	int r;

	if (clock_gettime(CLOCK_MONOTONIC, &t) < 0)
		die(EXIT_FAIL, "clock_gettime: %s", strerror(errno));
	t.tv_sec += (time_t)secs;
	t.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	/* Absolute deadline: a signal with a handler neither cuts the sleep short nor stretches it. */
	while ((r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL)) == EINTR)
		;
	if (r != 0)
		die(EXIT_FAIL, "clock_nanosleep: %s", strerror(r));
}

static void write_all(int fd, const char *buf, size_t len, const char *what)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_FAIL, "write %s: %s", what, strerror(errno));
		}
		buf += n;
		len -= (size_t)n;
	}
}

static FILE *open_proc(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		die(EXIT_FAIL, "open %s: %s", path, strerror(errno));
	return f;
}

/* Prints the value of field key in /proc/self/status, or with key NULL every Cap* line as
 * "CapEff: 000001ffffffffff"; returns the number of lines printed. */
static int print_status(const char *key)
{
	FILE *f = open_proc("/proc/self/status");
	char *line = NULL, *colon, *v;
	size_t cap = 0;
	ssize_t n;
	int found = 0;

	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (!(colon = strchr(line, ':')))
			continue;
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		if (!key && strncmp(line, "Cap", 3) == 0)
			found += printf("%s: %s\n", line, v) > 0;
		else if (key && strcmp(line, key) == 0)
			found += puts(v) >= 0;
	}
	if (ferror(f))
		die(EXIT_FAIL, "read /proc/self/status: %s", strerror(errno));
	free(line);
	fclose(f);
	return found;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* ---- subcommands: each gets argc/argv with argv[0] the subcommand's name ---- */

static int do_true(UNUSED int argc, UNUSED char **argv)
{
	return 0;
}

static int do_false(UNUSED int argc, UNUSED char **argv)
{
	return 1;
}

static int do_exit(UNUSED int argc, UNUSED char **argv)
{
	return (int)parse_int(argv[1], 0, 255, "exit status");
}

static int do_echo(UNUSED int argc, UNUSED char **argv)
{
	for (int i = 1; i < argc; i++)
		printf("%s%s", i > 1 ? " " : "", argv[i]);
	putchar('\n');
	return finish(0);
}

static int do_cat(UNUSED int argc, UNUSED char **argv)
{
	const char *path = argc > 1 ? argv[1] : "-";
	int fd = 0;
	char buf[65536];
	ssize_t n;

	if (strcmp(path, "-") != 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die(EXIT_FAIL, "open %s: %s", path, strerror(errno));
	}
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(EXIT_FAIL, "read %s: %s", path, strerror(errno));
		if (n == 0)
			break;
		write_all(1, buf, (size_t)n, "stdout");
	}
	if (fd != 0)
		close(fd);
	return 0;
}

static int do_sleep(UNUSED int argc, UNUSED char **argv)
{
	sleep_seconds(parse_seconds(argv[1]));
	return 0;
}

static int do_pause(UNUSED int argc, UNUSED char **argv)
{
	/* Default dispositions: SIGTERM ends it, except as PID 1 (the kernel drops
	 * default-action signals sent to a namespace's init from inside it). */
	for (;;)
		pause();
	return 0;
}

static int do_isatty(UNUSED int argc, UNUSED char **argv)
{
	int fd = (int)parse_int(argv[1], 0, INT_MAX, "file descriptor");
	bool tty = isatty(fd);

	puts(tty ? "true" : "false");
	return finish(tty ? 0 : 1);
}

static int do_id(UNUSED int argc, UNUSED char **argv)
{
	int n = getgroups(0, NULL);
	gid_t *groups = malloc(((size_t)(n > 0 ? n : 0) + 1) * sizeof(*groups));

	if (!groups)
		die(EXIT_FAIL, "out of memory");
	if (n < 0 || (n = getgroups(n, groups)) < 0)
		die(EXIT_FAIL, "getgroups: %s", strerror(errno));
	printf("uid=%u gid=%u groups=", (unsigned)getuid(), (unsigned)getgid());
	for (int i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", (unsigned)groups[i]);
	putchar('\n');
	free(groups);
	return finish(0);
}

static int do_caps(UNUSED int argc, UNUSED char **argv)
{
	if (print_status(NULL) == 0)
		die(EXIT_FAIL, "no Cap* lines in /proc/self/status");
	return finish(0);
}

static int do_status(UNUSED int argc, UNUSED char **argv)
{
	if (!*argv[1] || strchr(argv[1], ':') || strchr(argv[1], '\n'))
		die(EXIT_USAGE, "invalid key '%s'", argv[1]);
	if (print_status(argv[1]) == 0)
		die(EXIT_FAIL, "no field '%s' in /proc/self/status", argv[1]);
	return finish(0);
}

/* The kernel escapes space, tab, newline and backslash in mountinfo as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
		    r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

static int do_mounts(UNUSED int argc, UNUSED char **argv)
{
	FILE *f = open_proc("/proc/self/mountinfo");
	char *line = NULL, *save, *field;
	size_t cap = 0;

	while (getline(&line, &cap, f) > 0) {
		/* id parent major:minor root mountpoint ... */
		field = strtok_r(line, " \n", &save);
		for (int i = 0; field && i < 4; i++)
			field = strtok_r(NULL, " \n", &save);
		if (!field)
			die(EXIT_FAIL, "malformed line in /proc/self/mountinfo");
		unescape_octal(field);
		puts(field);
	}
	if (ferror(f))
		die(EXIT_FAIL, "read /proc/self/mountinfo: %s", strerror(errno));
	free(line);
	fclose(f);
	return finish(0);
}

static int do_hostname(UNUSED int argc, UNUSED char **argv)
{
	struct utsname u;

	if (uname(&u) < 0)
		die(EXIT_FAIL, "uname: %s", strerror(errno));
	puts(u.nodename);
	return finish(0);
}

static int do_cwd(UNUSED int argc, UNUSED char **argv)
{
	char *cwd = getcwd(NULL, 0);

	if (!cwd)
		die(EXIT_FAIL, "getcwd: %s", strerror(errno));
	puts(cwd);
	free(cwd);
	return finish(0);
}

static int do_env(UNUSED int argc, UNUSED char **argv)
{
	for (char **e = environ; e && *e; e++)
		puts(*e);
	return finish(0);
}

static DIR *open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		die(EXIT_FAIL, "open %s: %s", path, strerror(errno));
	d = fdopendir(fd);
	if (!d)
		die(EXIT_FAIL, "opendir %s: %s", path, strerror(errno));
	return d;
}

static int do_ls(UNUSED int argc, UNUSED char **argv)
{
	DIR *d = open_dir(argv[1]);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;

	for (errno = 0; (e = readdir(d)); errno = 0) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				die(EXIT_FAIL, "out of memory");
		}
		if (!(names[n++] = strdup(e->d_name)))
			die(EXIT_FAIL, "out of memory");
	}
	if (errno)
		die(EXIT_FAIL, "readdir %s: %s", argv[1], strerror(errno));
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		puts(names[i]);
		free(names[i]);
	}
	free(names);
	return finish(0);
}

static int do_write(UNUSED int argc, UNUSED char **argv)
{
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		die(EXIT_FAIL, "open %s: %s", argv[1], strerror(errno));
	write_all(fd, argv[2], strlen(argv[2]), argv[1]);
	if (close(fd) < 0)
		die(EXIT_FAIL, "close %s: %s", argv[1], strerror(errno));
	return 0;
}

static const char *file_type(mode_t m)
{
	static const struct {
		mode_t fmt;
		const char *name;
	} types[] = {{S_IFREG, "file"},	 {S_IFDIR, "directory"}, {S_IFLNK, "symlink"}, {S_IFCHR, "char"},
		     {S_IFBLK, "block"}, {S_IFIFO, "fifo"},	 {S_IFSOCK, "socket"}};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if ((m & S_IFMT) == types[i].fmt)
			return types[i].name;
	return "unknown";
}

static int do_stat(UNUSED int argc, UNUSED char **argv)
{
	struct stat st;

	if (lstat(argv[1], &st) < 0)
		die(EXIT_FAIL, "stat %s: %s", argv[1], strerror(errno));
	printf("%04o %u %u %s\n", (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid,
	       file_type(st.st_mode));
	return finish(0);
}

static int do_memhog(UNUSED int argc, UNUSED char **argv)
{
	long long mb = parse_int(argv[1], 1, 1 << 20, "size in MB");
	double secs = argc > 2 ? parse_seconds(argv[2]) : 0;
	size_t len = (size_t)mb << 20;
	long page = sysconf(_SC_PAGESIZE);
	char *p;

	if (page <= 0)
		page = 4096;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die(EXIT_FAIL, "cannot map %lld MB: %s", mb, strerror(errno));
	/* Write every page, so the memory is charged (a cgroup limit shows as an OOM kill). */
	for (size_t off = 0; off < len; off += (size_t)page)
		p[off] = 1;
	printf("allocated %lld MB\n", mb);
	finish(0);
	sleep_seconds(secs);
	munmap(p, len);
	return 0;
}

static int do_fds(UNUSED int argc, UNUSED char **argv)
{
	DIR *d = open_dir("/proc/self/fd");
	int self = dirfd(d), *fds = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	char target[PATH_MAX];

	for (errno = 0; (e = readdir(d)); errno = 0) {
		char *end;
		long fd;
		if (e->d_name[0] == '.')
			continue;
		fd = strtol(e->d_name, &end, 10);
		if (*end || fd < 0 || fd > INT_MAX || fd == self)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			fds = realloc(fds, cap * sizeof(*fds));
			if (!fds)
				die(EXIT_FAIL, "out of memory");
		}
		fds[n++] = (int)fd;
	}
	if (errno)
		die(EXIT_FAIL, "readdir /proc/self/fd: %s", strerror(errno));
	if (n)
		qsort(fds, n, sizeof(*fds), cmp_int);
	for (size_t i = 0; i < n; i++) {
		char name[16];
		ssize_t len;
		snprintf(name, sizeof(name), "%d", fds[i]);
		len = readlinkat(self, name, target, sizeof(target) - 1);
		if (len < 0)
			snprintf(target, sizeof(target), "?");
		else
			target[len] = '\0';
		printf("%d %s\n", fds[i], target);
	}
	closedir(d);
	free(fds);
	return finish(0);
}

/* "TERM", "SIGTERM", "term" or "15". */
static int parse_signal(const char *s)
{
	const char *name = s;

	if (isdigit((unsigned char)*s))
		return (int)parse_int(s, 1, SIGRTMAX, "signal");
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (int sig = 1; sig < SIGRTMIN; sig++) {
		const char *abbrev = sigabbrev_np(sig);
		if (abbrev && *name && strcasecmp(abbrev, name) == 0)
			return sig;
	}
	die(EXIT_USAGE, "unknown signal '%s'", s);
}

static const char *signame(int sig)
{
	const char *s = sigabbrev_np(sig);
	return s ? s : "?";
}

static int do_signal_self(UNUSED int argc, UNUSED char **argv)
{
	int sig = parse_signal(argv[1]);
	sigset_t set;

	finish(0);
	/* Default action, unblocked: the test sees how a death by this signal is reported. */
	if (sig != SIGKILL && sig != SIGSTOP && signal(sig, SIG_DFL) == SIG_ERR)
		die(EXIT_FAIL, "signal %s: %s", argv[1], strerror(errno));
	sigemptyset(&set);
	sigaddset(&set, sig);
	if (sigprocmask(SIG_UNBLOCK, &set, NULL) < 0)
		die(EXIT_FAIL, "sigprocmask: %s", strerror(errno));
	if (kill(getpid(), sig) < 0)
		die(EXIT_FAIL, "kill %d: %s", sig, strerror(errno));
	die(EXIT_FAIL, "still alive after SIG%s (ignored by default, or this is PID 1)", signame(sig));
}

static void trap_term(UNUSED int sig)
{
	_exit(42);
}

static int do_trap_exit(UNUSED int argc, UNUSED char **argv)
{
	struct sigaction sa = {.sa_handler = trap_term};
	sigset_t set;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigprocmask(SIG_UNBLOCK, &set, NULL) < 0)
		die(EXIT_FAIL, "install SIGTERM handler: %s", strerror(errno));
	/* Tell the test the handler is in place, so its SIGTERM cannot come too early. */
	puts("ready");
	finish(0);
	for (;;)
		pause();
}

static int do_pid(UNUSED int argc, UNUSED char **argv)
{
	printf("%d\n", (int)getpid());
	return finish(0);
}

static const struct {
	const char *name;
	int resource;
} rlimits[] = {
	{"as", RLIMIT_AS},	     {"core", RLIMIT_CORE},	    {"cpu", RLIMIT_CPU},
	{"data", RLIMIT_DATA},	     {"fsize", RLIMIT_FSIZE},	    {"locks", RLIMIT_LOCKS},
	{"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
	{"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},	    {"rss", RLIMIT_RSS},
	{"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},	    {"sigpending", RLIMIT_SIGPENDING},
	{"stack", RLIMIT_STACK},
};

static void print_rlim(rlim_t v, char sep)
{
	if (v == RLIM_INFINITY)
		printf("unlimited%c", sep);
	else
		printf("%llu%c", (unsigned long long)v, sep);
}

static int do_rlimit(UNUSED int argc, UNUSED char **argv)
{
	const char *name = argv[1];
	struct rlimit rl;

	if (strncasecmp(name, "RLIMIT_", 7) == 0)
		name += 7;
	for (size_t i = 0; i < sizeof(rlimits) / sizeof(rlimits[0]); i++) {
		if (strcasecmp(rlimits[i].name, name) != 0)
			continue;
		if (getrlimit(rlimits[i].resource, &rl) < 0)
			die(EXIT_FAIL, "getrlimit %s: %s", argv[1], strerror(errno));
		print_rlim(rl.rlim_cur, ' ');
		print_rlim(rl.rlim_max, '\n');
		return finish(0);
	}
	die(EXIT_USAGE, "unknown resource limit '%s'", argv[1]);
}

/* The signals `init` passes on to its child. */
static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static int do_init(UNUSED int argc, UNUSED char **argv)
{
	sigset_t set, old;
	pid_t child, pid;
	int status, code = -1;

	/* Default dispositions: an ignored signal (a shell's background job ignores SIGINT)
	 * would never reach sigwaitinfo, and the child inherits them; an ignored SIGCHLD
	 * would reap the child before we see its status. */
	if (signal(SIGCHLD, SIG_DFL) == SIG_ERR)
		die(EXIT_FAIL, "signal SIGCHLD: %s", strerror(errno));
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
		sigaddset(&set, forwarded[i]);
		if (signal(forwarded[i], SIG_DFL) == SIG_ERR)
			die(EXIT_FAIL, "signal %d: %s", forwarded[i], strerror(errno));
	}
	/* Blocked before the fork: no SIGCHLD or SIGTERM can slip past sigwaitinfo. */
	if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
		die(EXIT_FAIL, "sigprocmask: %s", strerror(errno));
	/* Not PID 1 (run on the host): orphans of the child still come to us to be reaped. */
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		die(EXIT_FAIL, "PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	fflush(stdout);
	child = fork();
	if (child < 0)
		die(EXIT_FAIL, "fork: %s", strerror(errno));
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(argv[1], argv + 1);
		die(errno == ENOENT ? EXIT_UNKNOWN : 126, "exec %s: %s", argv[1], strerror(errno));
	}
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		if (sig < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_FAIL, "sigwaitinfo: %s", strerror(errno));
		}
		if (sig != SIGCHLD) {
			if (kill(child, sig) < 0 && errno != ESRCH)
				die(EXIT_FAIL, "forward SIG%s to %d: %s", signame(sig), (int)child, strerror(errno));
			continue;
		}
		/* Reap every zombie, ours or reparented to us. */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid != child)
				continue;
			if (WIFEXITED(status))
				code = WEXITSTATUS(status);
			else if (WIFSIGNALED(status))
				code = 128 + WTERMSIG(status);
		}
		if (pid < 0 && errno != ECHILD && errno != EINTR)
			die(EXIT_FAIL, "waitpid: %s", strerror(errno));
		if (code >= 0)
			return code;
	}
}

/* ---- dispatch ---- */

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	int min_args, max_args; /* -1: no limit */
	const char *usage;
} commands[] = {
	{"true", do_true, 0, -1, ""},
	{"false", do_false, 0, -1, ""},
	{"exit", do_exit, 1, 1, "N"},
	{"echo", do_echo, 0, -1, "[ARGS...]"},
	{"cat", do_cat, 0, 1, "[FILE]"},
	{"sleep", do_sleep, 1, 1, "SECONDS"},
	{"pause", do_pause, 0, 0, ""},
	{"isatty", do_isatty, 1, 1, "FD"},
	{"id", do_id, 0, 0, ""},
	{"caps", do_caps, 0, 0, ""},
	{"status", do_status, 1, 1, "KEY"},
	{"mounts", do_mounts, 0, 0, ""},
	{"hostname", do_hostname, 0, 0, ""},
	{"cwd", do_cwd, 0, 0, ""},
	{"env", do_env, 0, 0, ""},
	{"ls", do_ls, 1, 1, "DIR"},
	{"write", do_write, 2, 2, "FILE TEXT"},
	{"stat", do_stat, 1, 1, "PATH"},
	{"memhog", do_memhog, 1, 2, "MB [SECONDS]"},
	{"fds", do_fds, 0, 0, ""},
	{"signal-self", do_signal_self, 1, 1, "SIGNAL"},
	{"trap-exit", do_trap_exit, 0, 0, ""},
	{"pid", do_pid, 0, 0, ""},
	{"rlimit", do_rlimit, 1, 1, "NAME"},
	{"init", do_init, 1, -1, "COMMAND [ARGS...]"},
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *c = NULL;
	const char *base;

	if (argc < 1 || !argv[0])
		die(EXIT_USAGE, "no argv[0]");
	base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	c = find_command(base);
	if (!c) {
		if (argc < 2)
			die(EXIT_USAGE, "usage: %s SUBCOMMAND [ARGS...] (see tests/helpers/README.md)", PROG);
		argc--;
		argv++;
		c = find_command(argv[0]);
		if (!c)
			die(EXIT_UNKNOWN, "unknown subcommand '%s'", argv[0]);
	}
	cmd_name = c->name;
	if (argc - 1 < c->min_args || (c->max_args >= 0 && argc - 1 > c->max_args))
		die(EXIT_USAGE, "usage: %s %s%s%s", PROG, c->name, *c->usage ? " " : "", c->usage);
	return c->fn(argc, argv);
}
