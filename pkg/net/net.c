/* pkg/net: a pinned network namespace per container, connected by pasta or slirp4netns. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/json/json.h"
#include "pkg/net/net-internal.h"
#include "pkg/net/net.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/strv.h"
#include "vendor-free/xalloc.h"

#define PASTA_DNS "169.254.1.1"
#define SLIRP_DNS "10.0.2.3"
#define SLIRP_HOST "10.0.2.2"
#define SLIRP_GUEST "10.0.2.100"
#define HELPER_LOG_MAX 4096

enum net_mode net_mode_of(const char *network)
{
	if (!network)
		return NET_NONE_HELPER;
	if (!strcmp(network, "pasta") || !strncmp(network, "pasta:", 6))
		return NET_PASTA;
	if (!strcmp(network, "slirp4netns") || !strncmp(network, "slirp4netns:", 12))
		return NET_SLIRP4NETNS;
	return NET_NONE_HELPER;
}

/* The options after "mode:", split at commas. */
static void mode_opts(const char *network, struct strv *ret)
{
	const char *c = strchr(network, ':');
	if (c && c[1])
		strv_split(ret, c + 1, ',');
}

static bool bool_word(const char *v, bool *ret)
{
	if (!strcmp(v, "true")) {
		*ret = true;
		return true;
	}
	if (!strcmp(v, "false")) {
		*ret = false;
		return true;
	}
	return false;
}

struct slirp_opts {
	bool allow_host_loopback, enable_ipv6;
	bool slirp_ports; /* port_handler=slirp4netns: -p through its API (the source address kept) */
	unsigned mtu;
};

static int slirp_parse(const char *network, struct slirp_opts *ret, struct skiff_err **err)
{
	struct slirp_opts o = {.mtu = 65520};
	struct strv opts = STRV_INIT;
	mode_opts(network, &opts);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < opts.len; i++) {
		const char *s = opts.v[i];
		const char *eq = strchr(s, '=');
		const char *v = eq ? eq + 1 : "";
		size_t kl = eq ? (size_t)(eq - s) : strlen(s);
		char *end;
		if (kl == 19 && !strncmp(s, "allow_host_loopback", kl) && bool_word(v, &o.allow_host_loopback))
			continue;
		if (kl == 11 && !strncmp(s, "enable_ipv6", kl) && bool_word(v, &o.enable_ipv6))
			continue;
		if (kl == 3 && !strncmp(s, "mtu", kl)) {
			unsigned long m = strtoul(v, &end, 10);
			if (*v && !*end && m >= 68 && m <= 65521) {
				o.mtu = (unsigned)m;
				continue;
			}
		}
		if (kl == 12 && !strncmp(s, "port_handler", kl) &&
		    (!strcmp(v, "slirp4netns") || !strcmp(v, "rootlesskit"))) {
			o.slirp_ports = !strcmp(v, "slirp4netns");
			continue;
		}
		rc = err_makex(
			err, EINVAL,
			"--network %s: invalid option \"%s\" (allow_host_loopback=BOOL, enable_ipv6=BOOL, mtu=N, "
			"port_handler=rootlesskit|slirp4netns)",
			network, s);
	}
	strv_release(&opts);
	if (rc == 0)
		*ret = o;
	return rc;
}

int net_check_mode(const char *network, struct skiff_err **err)
{
	struct slirp_opts so;
	switch (net_mode_of(network)) {
	case NET_SLIRP4NETNS:
		return slirp_parse(network, &so, err);
	case NET_PASTA:
	case NET_NONE_HELPER:
		return 0;
	}
	return 0;
}

char *net_find_tool(const char *name)
{
	const char *path = getenv("PATH");
	struct strv dirs = STRV_INIT;
	strv_split(&dirs, path && *path ? path : "/usr/local/bin:/usr/bin:/bin", ':');
	/* a user's PATH often lacks the sbin directories (Debian's does) */
	strv_split(&dirs, "/usr/local/sbin:/usr/sbin:/sbin", ':');
	char *found = NULL;
	for (size_t i = 0; !found && i < dirs.len; i++) {
		char *p = xasprintf("%s/%s", dirs.v[i], name);
		if (*dirs.v[i] == '/' && access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	strv_release(&dirs);
	return found;
}

static bool in_path(const char *name)
{
	cleanup_free char *p = net_find_tool(name);
	return p != NULL;
}

bool net_have_helper(enum net_mode m)
{
	return m == NET_PASTA ? in_path("pasta") : m == NET_SLIRP4NETNS ? in_path("slirp4netns") : true;
}

const char *net_dns_server(enum net_mode m)
{
	return m == NET_PASTA ? PASTA_DNS : m == NET_SLIRP4NETNS ? SLIRP_DNS : NULL;
}

/* The host's IPv4 default gateway from /proc/net/route. */
static bool default_gateway(char out[46])
{
	cleanup_fclose FILE *f = fopen("/proc/net/route", "re");
	char line[256];
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char ifn[64];
		unsigned dst, gw;
		if (sscanf(line, "%63s %x %x", ifn, &dst, &gw) == 3 && dst == 0 && gw != 0) {
			unsigned char *b = (unsigned char *)&gw;
			snprintf(out, 46, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
			return true;
		}
	}
	return false;
}

bool net_host_address(enum net_mode m, const char *network, char out[46])
{
	(void)network;
	if (m == NET_SLIRP4NETNS) {
		snprintf(out, 46, "%s", SLIRP_HOST);
		return true;
	}
	/* pasta maps its gateway address to the host (unless --no-map-gw) */
	return m == NET_PASTA && default_gateway(out);
}

int net_write_etc(int dirfd, const char *nameserver, const char *host, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	struct strbuf sb = STRBUF_INIT;
	if (nameserver) {
		if (read_file_at(dirfd, "resolv.conf", 1 << 20, &buf, &len, err) < 0)
			return err_wrap(err, "resolv.conf");
		strbuf_addf(&sb, "nameserver %s\n", nameserver);
		strbuf_add(&sb, buf, len);
		int rc = write_file_replace(dirfd, "resolv.conf", sb.buf, sb.len, 0644, err);
		strbuf_release(&sb);
		free(buf);
		buf = NULL;
		if (rc < 0)
			return -1;
	}
	if (host) {
		if (read_file_at(dirfd, "hosts", 1 << 20, &buf, &len, err) < 0)
			return err_wrap(err, "hosts");
		strbuf_add(&sb, buf, len);
		if (sb.len && sb.buf[sb.len - 1] != '\n')
			strbuf_addch(&sb, '\n');
		strbuf_addf(&sb, "%s\thost.containers.internal host.docker.internal\n", host);
		int rc = write_file_replace(dirfd, "hosts", sb.buf, sb.len, 0644, err);
		strbuf_release(&sb);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int net_make_netns(const char *path, const char *ping_range, struct skiff_err **err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_make(err, errno, "create %s", path);
	close(fd);
	pid_t pid = fork();
	if (pid < 0)
		return err_make(err, errno, "fork");
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0)
			_exit(errno & 0x7f);
		if (ping_range) {
			/* best effort: a read-only /proc/sys leaves ping needing CAP_NET_RAW */
			int pf = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);
			if (pf >= 0) {
				if (write(pf, ping_range, strlen(ping_range)) < 0) {
					/* see above */
				}
				close(pf);
			}
		}
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct ifreq ifr = {0};
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
		if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
			_exit(errno & 0x7f);
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			_exit(errno & 0x7f);
		if (mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0)
			_exit((errno & 0x7f) | 0x80);
		_exit(0);
	}
	int status = 0;
	if (spawn_wait(pid, &status) < 0)
		return err_make(err, errno, "wait for the namespace maker");
	if (status == 0)
		return 0;
	if (status & 0x80)
		return err_make(err, status & 0x7f, "pin the network namespace on %s", path);
	return err_make(err, status, "create a network namespace");
}

int net_write_pid_file(int dirfd, const char *name, pid_t pid, struct skiff_err **err)
{
	uint64_t st = 0;
	if (proc_starttime(pid, &st) < 0)
		return err_make(err, errno, "helper process %d", (int)pid);
	cleanup_free char *s = xasprintf("%d %llu\n", (int)pid, (unsigned long long)st);
	return write_file_replace(dirfd, name, s, strlen(s), 0600, err);
}

int net_spawn_detached(const char *const *argv, const char *cwd, int dirfd, const char *log, const int *fds,
		       size_t nfds, pid_t *ret_pid, struct skiff_err **err)
{
	int pidp[2];
	if (pipe2(pidp, O_CLOEXEC) < 0)
		return err_make(err, errno, "pipe");
	int logfd = openat(dirfd, log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	pid_t mid = logfd < 0 ? -1 : fork();
	if (mid == 0) {
		/* the middle process: start the helper in a session of its own, tell its pid, go */
		struct spawn_opts o = SPAWN_OPTS_INIT;
		o.stdin_fd = SPAWN_DEVNULL;
		o.stdout_fd = logfd;
		o.stderr_fd = logfd;
		o.new_session = true;
		o.cwd = cwd;
		o.extra_fds = fds;
		o.n_extra_fds = nfds;
		pid_t pid = 0;
		struct skiff_err *e2 = NULL;
		if (spawn(argv, &o, &pid, NULL, &e2) < 0)
			pid = -err_status(e2);
		if (write(pidp[1], &pid, sizeof(pid)) != sizeof(pid))
			_exit(1);
		_exit(0);
	}
	int saved = errno;
	close(pidp[1]);
	if (logfd >= 0)
		close(logfd);
	if (mid < 0) {
		close(pidp[0]);
		return err_make(err, saved, "start %s", argv[0]);
	}
	int st;
	spawn_wait(mid, &st);
	pid_t pid = 0;
	ssize_t r = read(pidp[0], &pid, sizeof(pid));
	close(pidp[0]);
	if (r != sizeof(pid) || pid <= 0)
		return err_make(err, r == sizeof(pid) && pid < 0 ? -pid : EIO, "exec %s", argv[0]);
	*ret_pid = pid;
	return 0;
}

static void helper_log(int dirfd, struct strbuf *out)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	struct skiff_err *e2 = NULL;
	if (read_file_at(dirfd, "helper.log", HELPER_LOG_MAX, &buf, &len, &e2) == 0) {
		/* pasta (2023) complains about a missing syslog on every line */
		struct strv lines = STRV_INIT;
		strv_split(&lines, buf, '\n');
		for (size_t i = 0; i < lines.len; i++) {
			if (!*lines.v[i] || strstr(lines.v[i], "to syslog") || strstr(lines.v[i], "Changing to nobody"))
				continue;
			if (out->len)
				strbuf_addstr(out, "; ");
			strbuf_addstr(out, lines.v[i]);
		}
		strv_release(&lines);
	}
	err_free(e2);
}

static void port_arg(struct strbuf *sb, const struct net_port *p)
{
	if (p->host_ip[0])
		strbuf_addf(sb, "%s/", p->host_ip);
	if (p->range > 1)
		strbuf_addf(sb, "%u-%u:%u-%u", p->host_port, p->host_port + p->range - 1, p->ctr_port,
			    p->ctr_port + p->range - 1);
	else
		strbuf_addf(sb, "%u:%u", p->host_port, p->ctr_port);
}

static int start_pasta(const struct net_setup *s, int dirfd, const char *netns, struct skiff_err **err)
{
	struct strv argv = STRV_INIT;
	strv_push(&argv, "pasta");
	strv_push(&argv, "--config-net");
	strv_push(&argv, "--quiet");
	if (s->as_root)
		strv_pushf(&argv, "--runas=0:0");
	bool tcp = false, udp = false;
	for (size_t i = 0; i < s->n_ports; i++) {
		struct strbuf a = STRBUF_INIT;
		port_arg(&a, &s->ports[i]);
		bool is_udp = !strcmp(s->ports[i].proto, "udp");
		strv_push(&argv, is_udp ? "-u" : "-t");
		strv_push(&argv, a.buf);
		strbuf_release(&a);
		*(is_udp ? &udp : &tcp) = true;
	}
	if (!tcp)
		strv_push(&argv, "-t"), strv_push(&argv, "none");
	if (!udp)
		strv_push(&argv, "-u"), strv_push(&argv, "none");
	strv_push(&argv, "-T"), strv_push(&argv, "none");
	strv_push(&argv, "-U"), strv_push(&argv, "none");
	strv_push(&argv, "--dns-forward"), strv_push(&argv, PASTA_DNS);
	struct strv extra = STRV_INIT;
	mode_opts(s->network, &extra);
	for (size_t i = 0; i < extra.len; i++)
		strv_push(&argv, extra.v[i]);
	strv_release(&extra);
	strv_pushf(&argv, "--pid=%s/pasta.pid", s->dir);
	strv_pushf(&argv, "--netns=%s", netns);

	int logfd = openat(dirfd, "helper.log", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (logfd < 0) {
		strv_release(&argv);
		return err_make(err, errno, "create %s/helper.log", s->dir);
	}
	struct spawn_opts o = SPAWN_OPTS_INIT;
	o.stdin_fd = SPAWN_DEVNULL;
	o.stdout_fd = logfd;
	o.stderr_fd = logfd;
	o.new_session = true;
	pid_t pid;
	int status = 0;
	int rc = spawn((const char *const *)argv.v, &o, &pid, NULL, err);
	close(logfd);
	strv_release(&argv);
	if (rc < 0)
		return -1;
	if (spawn_wait(pid, &status) < 0)
		return err_make(err, errno, "wait for pasta");
	if (status != 0) {
		struct strbuf msg = STRBUF_INIT;
		helper_log(dirfd, &msg);
		rc = err_makex(err, status == 1 && strstr(msg.buf, "bind") ? EADDRINUSE : EIO,
			       "pasta failed (status %d): %s", status, msg.len ? msg.buf : "no message");
		strbuf_release(&msg);
		return rc;
	}
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (read_file_at(dirfd, "pasta.pid", 64, &buf, &len, err) < 0)
		return err_wrap(err, "pasta");
	long p = strtol(buf, NULL, 10);
	if (p <= 0)
		return err_makex(err, EIO, "pasta: bad pid file \"%s\"", buf);
	return net_write_pid_file(dirfd, "helper.pid", (pid_t)p, err);
}

int net_slirp_api(const char *sock, const char *what, const char *req, long *ret_id, struct skiff_err **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(sock) >= sizeof(sa.sun_path))
		return err_makex(err, ENAMETOOLONG, "slirp4netns API socket path %s is too long", what);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return err_make(err, errno, "connect to slirp4netns at %s", what);
	if (write_all(fd, req, strlen(req)) < 0)
		return err_make(err, errno, "slirp4netns API");
	shutdown(fd, SHUT_WR);
	struct strbuf reply = STRBUF_INIT;
	char buf[1024];
	ssize_t r;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (reply.len < 65536 && poll(&p, 1, 5000) > 0 && (r = read(fd, buf, sizeof(buf))) > 0)
		strbuf_add(&reply, buf, (size_t)r);
	cleanup_json struct json *j = NULL;
	int rc = 0;
	if (json_parse(reply.buf, reply.len, &j, err) < 0) {
		rc = err_wrap(err, "slirp4netns API reply");
	} else if (json_object_get(j, "error")) {
		const char *d = json_object_get_string(json_object_get(j, "error"), "desc");
		rc = err_makex(err, d && strstr(d, "in use") ? EADDRINUSE : EIO, "slirp4netns: %s",
			       d ? d : "request refused");
	} else if (ret_id) {
		struct json *id = json_object_get(json_object_get(j, "return"), "id");
		if (!json_is(id, JSON_NUMBER))
			rc = err_makex(err, EIO, "slirp4netns API: no id in the reply");
		else
			*ret_id = (long)id->u.num.i;
	}
	strbuf_release(&reply);
	return rc;
}

static int start_slirp(const struct net_setup *s, int dirfd, const char *netns, struct skiff_err **err)
{
	struct slirp_opts so;
	if (slirp_parse(s->network, &so, err) < 0)
		return -1;
	/* relative to its working directory (s->dir), and reached through our fd of that
	 * directory: a long runroot would not fit in sun_path's 108 bytes */
	cleanup_free char *sock = xasprintf("/proc/self/fd/%d/slirp.sock", dirfd);
	struct strv argv = STRV_INIT;
	strv_push(&argv, "slirp4netns");
	strv_push(&argv, "--configure");
	strv_pushf(&argv, "--mtu=%u", so.mtu);
	if (!so.allow_host_loopback)
		strv_push(&argv, "--disable-host-loopback");
	if (so.enable_ipv6)
		strv_push(&argv, "--enable-ipv6");
	strv_push(&argv, "--api-socket=slirp.sock");
	strv_push(&argv, "--ready-fd=3");
	strv_push(&argv, "--netns-type=path");
	strv_push(&argv, netns);
	strv_push(&argv, "tap0");

	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0) {
		strv_release(&argv);
		return err_make(err, errno, "pipe");
	}
	pid_t pid = 0;
	int rc = net_spawn_detached((const char *const *)argv.v, s->dir, dirfd, "helper.log", &ready[1], 1, &pid, err);
	strv_release(&argv);
	close(ready[1]);
	if (rc < 0) {
		close(ready[0]);
		return -1;
	}
	rc = net_write_pid_file(dirfd, "helper.pid", pid, err);
	/* "1" on the ready fd once the tap is configured; EOF: it died */
	char c = 0;
	struct pollfd p = {.fd = ready[0], .events = POLLIN};
	if (rc == 0 && (poll(&p, 1, 10000) <= 0 || read(ready[0], &c, 1) != 1 || c != '1')) {
		struct strbuf msg = STRBUF_INIT;
		helper_log(dirfd, &msg);
		rc = err_makex(err, EIO, "slirp4netns did not start: %s", msg.len ? msg.buf : "no message");
		strbuf_release(&msg);
	}
	close(ready[0]);
	/* tcp through skiff's own proxy (podman's default port_handler, rootlesskit, does the
	 * same); udp, and everything with port_handler=slirp4netns, through slirp4netns */
	if (rc == 0 && !so.slirp_ports)
		rc = net_portproxy_start(dirfd, s->dir, netns, SLIRP_GUEST, s->ports, s->n_ports, err);
	for (size_t i = 0; rc == 0 && i < s->n_ports; i++) {
		const struct net_port *np = &s->ports[i];
		if (!so.slirp_ports && !strcmp(np->proto, "tcp"))
			continue;
		for (unsigned k = 0; rc == 0 && k < np->range; k++) {
			cleanup_free char *req = xasprintf(
				"{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"%s\",\"host_addr\":\"%s\","
				"\"host_port\":%u,\"guest_addr\":\"%s\",\"guest_port\":%u}}",
				np->proto, np->host_ip[0] ? np->host_ip : "0.0.0.0", np->host_port + k, SLIRP_GUEST,
				np->ctr_port + k);
			if (net_slirp_api(sock, sock, req, NULL, err) < 0)
				rc = err_wrap(err, "publish %s:%u/%s", np->host_ip[0] ? np->host_ip : "0.0.0.0",
					      np->host_port + k, np->proto);
		}
	}
	return rc;
}

int net_setup(const struct net_setup *s, char **ret_netns, struct skiff_err **err)
{
	enum net_mode m = net_mode_of(s->network);
	if (m == NET_NONE_HELPER)
		return err_makex(err, EINVAL, "network mode \"%s\" needs no helper", s->network);
	if (!net_have_helper(m))
		return err_makex(err, ENOENT, "--network %s: %s is not installed (package %s)", s->network,
				 m == NET_PASTA ? "pasta" : "slirp4netns", m == NET_PASTA ? "passt" : "slirp4netns");
	if (!s->keep_netns && net_teardown(s->dir, err) < 0)
		return -1;
	if (mkdir_p_at(AT_FDCWD, s->dir, 0700, err) < 0)
		return -1;
	cleanup_close int dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dirfd < 0)
		return err_make(err, errno, "open %s", s->dir);
	char *netns = xasprintf("%s/netns", s->dir);
	int rc = s->keep_netns ? 0 : net_make_netns(netns, NULL, err);
	if (rc == 0)
		rc = m == NET_PASTA ? start_pasta(s, dirfd, netns, err) : start_slirp(s, dirfd, netns, err);
	if (rc < 0) {
		struct skiff_err *e2 = NULL;
		net_teardown(s->dir, &e2);
		err_free(e2);
		free(netns);
		return -1;
	}
	*ret_netns = netns;
	return 0;
}

static void kill_helper(int dirfd, const char *pidfile)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	struct skiff_err *e2 = NULL;
	if (read_file_at(dirfd, pidfile, 64, &buf, &len, &e2) < 0) {
		err_free(e2);
		return;
	}
	int pid = 0;
	unsigned long long want = 0;
	uint64_t st = 0;
	if (sscanf(buf, "%d %llu", &pid, &want) != 2 || pid <= 0 || proc_starttime(pid, &st) < 0 || st != want)
		return; /* gone, or the pid belongs to someone else now */
	cleanup_close int pfd = pidfd_open_compat(pid);
	kill(pid, SIGTERM);
	struct pollfd p = {.fd = pfd, .events = POLLIN};
	if (pfd >= 0 && poll(&p, 1, 2000) > 0)
		return;
	if (proc_starttime(pid, &st) == 0 && st == want)
		kill(pid, SIGKILL);
}

int net_teardown(const char *dir, struct skiff_err **err)
{
	cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dirfd < 0) {
		if (errno == ENOENT)
			return 0;
		return err_make(err, errno, "open %s", dir);
	}
	kill_helper(dirfd, "helper.pid");
	kill_helper(dirfd, NET_PORTPROXY_PIDFILE);
	cleanup_free char *netns = xasprintf("%s/netns", dir);
	if (umount2(netns, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
		return err_make(err, errno, "unmount %s", netns);
	cleanup_free char *parent = xstrdup(dir);
	char *slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return err_makex(err, EINVAL, "bad network directory %s", dir);
	*slash = '\0';
	cleanup_close int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return err_make(err, errno, "open %s", parent);
	return rm_rf_at(pfd, slash + 1, err);
}
