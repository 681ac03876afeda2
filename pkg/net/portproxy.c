/*
 * pkg/net port proxy: published tcp ports of a slirp4netns container (net.h), as podman's
 * rootlessport. The engine binds and listens on the host ports itself; the proxy (bin/skiff
 * re-executed as NET_PORTPROXY_ARGV1, in its own session) joins the container's network
 * namespace, so that every socket it creates from then on is inside, and for each accepted
 * connection connects to TARGET:PORT there and moves the bytes with splice(2) through a pipe
 * per direction: no copy through user space and no user-mode TCP stack (slirp4netns's
 * add_hostfwd runs every byte through libslirp).
 *
 * Per connection two threads, one per direction; a direction that reaches EOF shuts down the
 * writing side of the other socket (half-close passes through), and the connection's sockets
 * close when both directions are done.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pkg/net/net-internal.h"
#include "pkg/net/net.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strv.h"
#include "vendor-free/xalloc.h"

#define PROXY_LOG "proxy.log"
#define PIPE_BYTES (1 << 20)
#define THREAD_STACK (64 * 1024)

struct conn {
	int client, ctr;
	atomic_int refs; /* one per direction */
};

struct pump {
	struct conn *c;
	int from, to;
};

struct start {
	int client;
	struct sockaddr_in target;
};

static void conn_put(struct conn *c)
{
	if (atomic_fetch_sub(&c->refs, 1) == 1) {
		close(c->client);
		close(c->ctr);
		free(c);
	}
}

/* Move bytes from -> to until EOF or an error on either side. */
static void pump_bytes(int from, int to)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	(void)fcntl(p[1], F_SETPIPE_SZ, PIPE_BYTES); /* the default 64 KiB when refused */
	for (;;) {
		ssize_t n = splice(from, NULL, p[1], NULL, PIPE_BYTES, SPLICE_F_MOVE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		while (n > 0) {
			ssize_t w = splice(p[0], NULL, to, NULL, (size_t)n, SPLICE_F_MOVE);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				goto out;
			n -= w;
		}
	}
out:
	close(p[0]);
	close(p[1]);
}

static void *pump_run(void *arg)
{
	struct pump *p = arg;
	pump_bytes(p->from, p->to);
	shutdown(p->to, SHUT_WR);
	shutdown(p->from, SHUT_RD);
	conn_put(p->c);
	free(p);
	return NULL;
}

static bool detached_thread(void *(*fn)(void *), void *arg)
{
	pthread_attr_t a;
	pthread_t t;
	if (pthread_attr_init(&a) != 0)
		return false;
	bool ok = pthread_attr_setstacksize(&a, THREAD_STACK) == 0 &&
		  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED) == 0 && pthread_create(&t, &a, fn, arg) == 0;
	pthread_attr_destroy(&a);
	return ok;
}

/* A connection's first thread: connect inside, start the other direction, run this one. */
static void *conn_start(void *arg)
{
	struct start *st = arg;
	int one = 1, client = st->client;
	int ctr = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctr < 0 || connect(ctr, (struct sockaddr *)&st->target, sizeof(st->target)) < 0) {
		/* nothing listens inside (yet): the client sees its connection closed */
		if (ctr >= 0)
			close(ctr);
		close(client);
		free(st);
		return NULL;
	}
	free(st);
	(void)setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(ctr, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct conn *c = xmalloc(sizeof(*c));
	c->client = client;
	c->ctr = ctr;
	atomic_init(&c->refs, 2);
	struct pump *back = xmalloc(sizeof(*back)), *fwd = xmalloc(sizeof(*fwd));
	*back = (struct pump){.c = c, .from = ctr, .to = client};
	*fwd = (struct pump){.c = c, .from = client, .to = ctr};
	if (!detached_thread(pump_run, back)) {
		free(back);
		conn_put(c); /* the reference of the direction that never ran */
	}
	return pump_run(fwd);
}

int net_portproxy_main(int argc, char **argv)
{
	/* argv: NETNS TARGET CTRPORT...; fd 3: readiness ("1"), fd 4+i: the listener of CTRPORT i */
	if (argc < 3) {
		fprintf(stderr, "usage: skiff %s NETNS TARGET CTRPORT...\n", NET_PORTPROXY_ARGV1);
		return 2;
	}
	size_t n = (size_t)argc - 2;
	struct sockaddr_in target = {.sin_family = AF_INET};
	if (inet_pton(AF_INET, argv[1], &target.sin_addr) != 1) {
		fprintf(stderr, "port proxy: bad target address \"%s\"\n", argv[1]);
		return 2;
	}
	uint16_t *ports = xcalloc(n, sizeof(*ports));
	struct pollfd *pf = xcalloc(n, sizeof(*pf));
	for (size_t i = 0; i < n; i++) {
		char *end;
		unsigned long p = strtoul(argv[2 + i], &end, 10);
		if (!*argv[2 + i] || *end || p == 0 || p > 65535) {
			fprintf(stderr, "port proxy: bad port \"%s\"\n", argv[2 + i]);
			free(ports);
			free(pf);
			return 2;
		}
		ports[i] = (uint16_t)p;
		pf[i] = (struct pollfd){.fd = 4 + (int)i, .events = POLLIN};
		/* a connection reset between poll and accept must not block the loop */
		int fl = fcntl(pf[i].fd, F_GETFL);
		if (fl < 0 || fcntl(pf[i].fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			fprintf(stderr, "port proxy: listener for port %u (fd %d): %s\n", ports[i], pf[i].fd,
				strerror(errno));
			free(ports);
			free(pf);
			return 2;
		}
	}
	/* two sockets per connection: as many as the hard limit allows */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	(void)prctl(PR_SET_NAME, "skiff-portproxy", 0, 0, 0); /* what ps and pgrep show */
	int nsfd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "port proxy: join the network namespace %s: %s\n", argv[0], strerror(errno));
		free(ports);
		free(pf);
		return 1;
	}
	close(nsfd);
	if (write(3, "1", 1) != 1) {
		free(ports);
		free(pf);
		return 1;
	}
	close(3);
	for (;;) {
		if (poll(pf, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "port proxy: poll: %s\n", strerror(errno));
			break;
		}
		for (size_t i = 0; i < n; i++) {
			if (!(pf[i].revents & POLLIN))
				continue;
			int c = accept4(pf[i].fd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0) {
				/* out of fds: let connections end before the next try, not spin */
				if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
					nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
				continue; /* EAGAIN: gone before we took it */
			}
			struct start *st = xmalloc(sizeof(*st));
			st->client = c;
			st->target = target;
			st->target.sin_port = htons(ports[i]);
			if (!detached_thread(conn_start, st)) {
				close(c);
				free(st);
			}
		}
	}
	free(ports);
	free(pf);
	return 1;
}

int net_portproxy_start(int dirfd, const char *dir, const char *netns, const char *target, const struct net_port *ports,
			size_t n, struct skiff_err **err)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ports[i].proto, "tcp"))
			total += ports[i].range;
	if (!total)
		return 0;
	int *fds = xcalloc(total + 1, sizeof(int)); /* [0]: the readiness pipe's write end */
	struct strv argv = STRV_INIT;
	strv_push(&argv, "/proc/self/exe");
	strv_push(&argv, NET_PORTPROXY_ARGV1);
	strv_push(&argv, netns);
	strv_push(&argv, target);
	size_t k = 1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct net_port *p = &ports[i];
		if (strcmp(p->proto, "tcp"))
			continue;
		if (net_ports_bind(p, fds + k, err) < 0) {
			rc = -1;
			break;
		}
		for (unsigned j = 0; j < p->range; j++, k++) {
			strv_pushf(&argv, "%u", p->ctr_port + j);
			if (rc == 0 && listen(fds[k], 4096) < 0)
				rc = err_make(err, errno, "publish %s:%u/tcp: listen",
					      p->host_ip[0] ? p->host_ip : "0.0.0.0", p->host_port + j);
		}
	}
	int ready[2] = {-1, -1};
	if (rc == 0 && pipe2(ready, O_CLOEXEC) < 0)
		rc = err_make(err, errno, "pipe");
	pid_t pid = 0;
	if (rc == 0) {
		fds[0] = ready[1];
		rc = net_spawn_detached((const char *const *)argv.v, dir, dirfd, PROXY_LOG, fds, total + 1, &pid, err);
		close(ready[1]);
	}
	for (size_t j = 1; j < k; j++)
		close(fds[j]);
	free(fds);
	strv_release(&argv);
	if (rc == 0)
		rc = net_write_pid_file(dirfd, NET_PORTPROXY_PIDFILE, pid, err);
	if (rc == 0) {
		char c = 0;
		struct pollfd p = {.fd = ready[0], .events = POLLIN};
		if (poll(&p, 1, 10000) <= 0 || read(ready[0], &c, 1) != 1 || c != '1') {
			cleanup_free char *log = NULL;
			size_t len = 0;
			struct skiff_err *e2 = NULL;
			if (read_file_at(dirfd, PROXY_LOG, 4096, &log, &len, &e2) < 0)
				err_free(e2);
			while (log && len && log[len - 1] == '\n')
				log[--len] = '\0';
			rc = err_makex(err, EIO, "the port proxy did not start: %s", log && *log ? log : "no message");
		}
	}
	if (ready[0] >= 0)
		close(ready[0]);
	return rc;
}
