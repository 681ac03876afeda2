/* Unit tests for pkg/net rootless user networks: when bridge work is routed into the rootless
 * network namespace (only in a user namespace, not on the thread already inside), and the
 * refusals that come before anything is made (IPv6 host addresses for -p). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/net/bridge-internal.h"
#include "pkg/net/bridge.h"
#include "vendor-free/err.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

static char *tmp_runroot(void)
{
	const char *base = getenv("TMPDIR");
	char *d = xasprintf("%s/test-rootless-netns.XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(d));
	return d;
}

static void rm_tmp(char *d)
{
	struct skiff_err *err = NULL;
	char *slash = strrchr(d, '/');
	*slash = '\0';
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(rm_rf_at(fd, slash + 1, &err), 0);
	close(fd);
	free(d);
}

static void test_host_namespace(void **state)
{
	(void)state;
	/* the initial user namespace (root or not): the rootful code paths, unrouted */
	assert_false(net_in_userns());
	char *rr = tmp_runroot();
	assert_false(net_rootless_mode(rr));
	assert_false(net_rootless_mode(NULL));
	rm_tmp(rr);
}

/* In a child in a new user namespace: 0 when every check passed, else the failed check's number. */
static int in_userns_checks(const char *rr)
{
	if (!net_in_userns())
		return 1;
	if (!net_rootless_mode(rr))
		return 2;
	if (net_rootless_mode(NULL))
		return 3;
	/* a pin that is a plain file (a leftover after the pause process went) is not "inside" */
	char *dir = xasprintf("%s/networks/rootless-netns", rr);
	struct skiff_err *err = NULL;
	if (mkdir_p_at(AT_FDCWD, dir, 0700, &err) < 0)
		return 4;
	char *pin = xasprintf("%s/netns", dir);
	int fd = open(pin, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return 5;
	close(fd);
	if (!net_rootless_mode(rr))
		return 6;
	/* udp -p on an IPv6 host address (slirp4netns forwards IPv4 only; tcp goes through the
	 * port proxy): refused, naming it, before anything is made */
	struct net_port p = {.host_port = 8080, .ctr_port = 80, .range = 1, .proto = "udp"};
	snprintf(p.host_ip, sizeof(p.host_ip), "::1");
	struct strv nets = STRV_INIT;
	strv_push(&nets, "n1");
	struct net_bridge_setup s = {
		.runroot = rr, .graphroot = rr, .id = "abc", .name = "c", .networks = &nets, .ports = &p, .n_ports = 1};
	char *netns = NULL;
	int rc = net_bridge_setup(&s, &netns, &err);
	strv_release(&nets);
	if (rc != -1 || netns || !err || err_status(err) != ENOTSUP || !strstr(err->msg, "::1"))
		return 7;
	err_free(err);
	char *lock = xasprintf("%s/networks/.rootless.lock", rr);
	if (access(lock, F_OK) == 0)
		return 8; /* the refusal came after the lock: too late */
	free(lock);
	free(pin);
	free(dir);
	return 0;
}

static void test_user_namespace(void **state)
{
	(void)state;
	char *rr = tmp_runroot();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(100); /* no user namespaces here */
		_exit(in_userns_checks(rr));
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 100) {
		rm_tmp(rr);
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
	rm_tmp(rr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_namespace),
		cmocka_unit_test(test_user_namespace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
