/*
 * fake-runtime: just enough of the OCI runtime command line (crun's, runc's) for skiff-monitor's
 * tests, with no namespaces and no rootfs: the "container" is a host process.
 *
 *   fake-runtime [--root DIR] create --bundle B --pid-file F [--console-socket S] ID
 *   fake-runtime [--root DIR] start ID
 *   fake-runtime [--root DIR] state ID
 *   fake-runtime [--root DIR] kill ID [SIGNAL]
 *   fake-runtime [--root DIR] delete [--force] ID
 *
 * --root defaults to /tmp/fake-runtime-$UID; state lives in ROOT/ID (pid, bundle, and the
 * fifo "start"). create reads the command from B/cmd (one argv element per line) and forks the
 * container process, which waits on the fifo until `start`, then execs it (PATH search). With
 * --console-socket the process gets a new pty as its stdio and controlling terminal, and the
 * master goes to the socket. A bundle with a file "fail" makes create fail with that file's
 * first line on stderr. Other global options (--log, --log-format, --debug,
 * --systemd-cgroup) are accepted and ignored. Errors: one line on stderr, status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strv.h"
#include "vendor-free/xalloc.h"

static const char *root;

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fputs("fake-runtime: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((noreturn)) die_err(struct skiff_err *e)
{
	die("%s", e->msg);
}

static char *state_path(const char *id, const char *name)
{
	return name ? xasprintf("%s/%s/%s", root, id, name) : xasprintf("%s/%s", root, id);
}

static void check_id(const char *id)
{
	if (!*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, ".."))
		die("invalid container id \"%s\"", id);
}

static pid_t read_pid(const char *id)
{
	struct skiff_err *err = NULL;
	cleanup_free char *path = state_path(id, "pid");
	cleanup_free char *buf = NULL;
	long v;

	if (read_file_at(AT_FDCWD, path, 64, &buf, NULL, &err) < 0) {
		if (err_status(err) == ENOENT)
			die("container %s does not exist", id);
		die_err(err);
	}
	v = strtol(buf, NULL, 10);
	if (v <= 0)
		die("container %s: bad pid file", id);
	return (pid_t)v;
}

/* Alive and not a zombie. */
static bool alive(pid_t pid)
{
	char path[64], buf[512];
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static int parse_signal(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = {
		{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
		{"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"WINCH", SIGWINCH},
	};
	char *end;
	long v;

	if (*s >= '0' && *s <= '9') {
		v = strtol(s, &end, 10);
		if (*end || v < 1 || v > 64)
			die("invalid signal \"%s\"", s);
		return (int)v;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcasecmp(s, names[i].name))
			return names[i].sig;
	die("invalid signal \"%s\"", s);
}

/* Send fd over the unix socket at path (any length: connect through /proc/self/fd). */
static void send_console(const char *path, int fd)
{
	cleanup_free char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	const char *base = path;
	cleanup_close int dfd = -1, s = -1;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char byte = 'M';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c;

	if (slash) {
		*slash = '\0';
		base = slash + 1;
		dfd = open(*dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			die("open %s: %s", dir, strerror(errno));
		if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd, base) >=
		    sizeof(sa.sun_path))
			die("console socket name %s is too long", base);
	} else if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path) >= sizeof(sa.sun_path)) {
		die("console socket name %s is too long", path);
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("socket: %s", strerror(errno));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect to the console socket %s: %s", path, strerror(errno));
	memset(u.buf, 0, sizeof(u.buf));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0)
		die("send the pty master to %s: %s", path, strerror(errno));
}

/* The container process: stdio, wait for start, exec. Never returns. */
static void __attribute__((noreturn)) child(char **argv, const char *fifo, int master, const char *slave)
{
	int fd;

	if (setsid() < 0)
		die("setsid: %s", strerror(errno));
	if (master >= 0) {
		int s = open(slave, O_RDWR | O_CLOEXEC);
		if (s < 0)
			die("open %s: %s", slave, strerror(errno));
		if (ioctl(s, TIOCSCTTY, 0) < 0)
			die("TIOCSCTTY: %s", strerror(errno));
		if (dup2(s, 0) < 0 || dup2(s, 1) < 0 || dup2(s, 2) < 0)
			die("dup2: %s", strerror(errno));
		close(s);
		close(master);
	}
	/* Blocks until `start` opens the other end (runc's exec.fifo). */
	fd = open(fifo, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", fifo, strerror(errno));
	if (write(fd, "0", 1) != 1)
		die("write %s: %s", fifo, strerror(errno));
	close(fd);
	execvp(argv[0], argv);
	fprintf(stderr, "fake-runtime: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{"bundle", required_argument, NULL, 'b'},	  {"pid-file", required_argument, NULL, 'p'},
		{"console-socket", required_argument, NULL, 'c'}, {"no-pivot", no_argument, NULL, 'n'},
		{"no-new-keyring", no_argument, NULL, 'n'},	  {0},
	};
	const char *bundle = NULL, *pidfile = NULL, *console = NULL, *id;
	struct skiff_err *err = NULL;
	cleanup_strv struct strv cmd = STRV_INIT;
	cleanup_free char *buf = NULL, *path = NULL, *fifo = NULL, *dir = NULL, *pidtext = NULL;
	char slave[128] = "";
	int master = -1, c;
	pid_t pid;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+b:", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bundle = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'c':
			console = optarg;
			break;
		case 'n':
			break;
		default:
			exit(1);
		}
	}
	if (optind != argc - 1 || !bundle || !pidfile)
		die("usage: create --bundle B --pid-file F [--console-socket S] ID");
	id = argv[optind];
	check_id(id);

	path = xasprintf("%s/fail", bundle);
	if (exists(path)) {
		if (read_file_at(AT_FDCWD, path, 4096, &buf, NULL, &err) < 0)
			die_err(err);
		buf[strcspn(buf, "\n")] = '\0';
		fprintf(stderr, "fake-runtime: warming up\n");
		die("create %s: %s", id, *buf ? buf : "failed as the bundle asked");
	}
	free(path);
	path = xasprintf("%s/cmd", bundle);
	if (read_file_at(AT_FDCWD, path, 65536, &buf, NULL, &err) < 0)
		die_err(err);
	strv_split(&cmd, buf, '\n');
	while (cmd.len && !*cmd.v[cmd.len - 1])
		strv_remove(&cmd, cmd.len - 1);
	if (!cmd.len)
		die("%s: no command", path);

	if (mkdir_p_at(AT_FDCWD, root, 0700, &err) < 0)
		die_err(err);
	dir = state_path(id, NULL);
	if (mkdir(dir, 0700) < 0)
		die("container %s: %s", id, errno == EEXIST ? "exists already" : strerror(errno));
	free(path);
	path = state_path(id, "bundle");
	if (write_file_atomic(AT_FDCWD, path, bundle, strlen(bundle), 0644, &err) < 0)
		die_err(err);
	fifo = state_path(id, "start");
	if (mkfifo(fifo, 0600) < 0)
		die("mkfifo %s: %s", fifo, strerror(errno));

	if (console) {
		master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
		    ptsname_r(master, slave, sizeof(slave)) != 0)
			die("open a pty: %s", strerror(errno));
	}
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0)
		child(cmd.v, fifo, master, slave);

	pidtext = xasprintf("%d", (int)pid);
	free(path);
	path = state_path(id, "pid");
	if (write_file_atomic(AT_FDCWD, path, pidtext, strlen(pidtext), 0644, &err) < 0 ||
	    write_file_atomic(AT_FDCWD, pidfile, pidtext, strlen(pidtext), 0644, &err) < 0) {
		kill(pid, SIGKILL);
		die_err(err);
	}
	if (console) {
		send_console(console, master);
		close(master);
	}
	return 0;
}

static int cmd_start(const char *id)
{
	cleanup_free char *fifo = state_path(id, "start");
	cleanup_close int fd = -1;
	pid_t pid = read_pid(id);
	struct pollfd p;
	char byte;
	int r;

	if (!exists(fifo))
		die("container %s is not in the created state", id);
	if (!alive(pid))
		die("container %s: its process %d is gone", id, (int)pid);
	fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", fifo, strerror(errno));
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	do
		r = poll(&p, 1, 10000);
	while (r < 0 && errno == EINTR);
	if (r <= 0 || read(fd, &byte, 1) != 1)
		die("container %s did not take the start signal", id);
	unlink(fifo);
	return 0;
}

static const char *status_of(const char *id, pid_t pid)
{
	cleanup_free char *fifo = state_path(id, "start");

	if (!alive(pid))
		return "stopped";
	return exists(fifo) ? "created" : "running";
}

static int cmd_state(const char *id)
{
	struct skiff_err *err = NULL;
	cleanup_free char *path = state_path(id, "bundle");
	cleanup_free char *bundle = NULL;
	pid_t pid = read_pid(id);

	if (read_file_at(AT_FDCWD, path, PATH_MAX, &bundle, NULL, &err) < 0)
		die_err(err);
	/* ids and bundles of the tests need no JSON escaping */
	printf("{\n  \"ociVersion\": \"1.0.2\",\n  \"id\": \"%s\",\n  \"pid\": %d,\n  \"status\": \"%s\",\n"
	       "  \"bundle\": \"%s\"\n}\n",
	       id, (int)pid, status_of(id, pid), bundle);
	return 0;
}

static int cmd_kill(const char *id, const char *signame)
{
	int sig = parse_signal(signame ? signame : "TERM");
	pid_t pid = read_pid(id);

	if (!alive(pid))
		die("container %s is not running", id);
	if (kill(pid, sig) < 0)
		die("kill %d: %s", (int)pid, strerror(errno));
	return 0;
}

static int cmd_delete(int argc, char **argv)
{
	struct skiff_err *err = NULL;
	cleanup_free char *dir = NULL;
	bool force = false;
	const char *id = NULL;
	pid_t pid;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
			force = true;
		else if (!id)
			id = argv[i];
		else
			die("usage: delete [--force] ID");
	}
	if (!id)
		die("usage: delete [--force] ID");
	check_id(id);
	pid = read_pid(id);
	if (alive(pid)) {
		if (!force && strcmp(status_of(id, pid), "created"))
			die("container %s is running (use --force)", id);
		kill(pid, SIGKILL);
	}
	dir = state_path(id, NULL);
	if (rm_rf_at(AT_FDCWD, dir, &err) < 0)
		die_err(err);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'r'},	      {"log", required_argument, NULL, 'l'},
		{"log-format", required_argument, NULL, 'l'}, {"debug", no_argument, NULL, 'd'},
		{"systemd-cgroup", no_argument, NULL, 'd'},   {0},
	};
	cleanup_free char *def = NULL;
	const char *cmd;
	int c;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			root = optarg;
			break;
		case 'l':
		case 'd':
			break;
		default:
			return 1;
		}
	}
	if (!root) {
		def = xasprintf("/tmp/fake-runtime-%u", (unsigned)getuid());
		root = def;
	}
	if (optind >= argc)
		die("usage: fake-runtime [--root DIR] create|start|state|kill|delete ...");
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "create"))
		return cmd_create(argc, argv);
	if (!strcmp(cmd, "delete"))
		return cmd_delete(argc, argv);
	if (argc < 2)
		die("usage: %s ID", cmd);
	check_id(argv[1]);
	if (!strcmp(cmd, "start") && argc == 2)
		return cmd_start(argv[1]);
	if (!strcmp(cmd, "state") && argc == 2)
		return cmd_state(argv[1]);
	if (!strcmp(cmd, "kill") && argc <= 3)
		return cmd_kill(argv[1], argc == 3 ? argv[2] : NULL);
	die("unknown command or wrong arguments: %s", cmd);
}
