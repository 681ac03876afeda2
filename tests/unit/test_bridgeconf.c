/* Unit tests for pkg/net bridge configs: IPv6 prefixes (good and hostile), address arithmetic,
 * the per-store names, and network create with --ipv6 / IPv6 subnets in a scratch graphroot. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/net/bridge-internal.h"
#include "pkg/net/bridge.h"
#include "vendor-free/err.h"
#include "vendor-free/xalloc.h"

static void cidr6_ok(const char *s, const char *net, unsigned len)
{
	struct in6_addr a;
	unsigned l = 0;
	char out[46];
	if (net_cidr6(s, &a, &l) < 0)
		fail_msg("%s was refused", s);
	net_addr6(&a, out);
	assert_string_equal(out, net);
	assert_int_equal(l, len);
}

static void test_cidr6(void **state)
{
	(void)state;
	cidr6_ok("fd00:1::/64", "fd00:1::", 64);
	cidr6_ok("fd00:1::77/64", "fd00:1::", 64); /* host bits cleared */
	cidr6_ok("2001:db8:0:0:0:0:0:0/48", "2001:db8::", 48);
	cidr6_ok("fd12:3456:789a:bcde::/124", "fd12:3456:789a:bcde::", 124);
	static const char *const bad[] = {"fd00::",
					  "fd00::/",
					  "fd00::/0",
					  "fd00::/7",
					  "fd00::/125",
					  "fd00::/130",
					  "fd00::/-64",
					  "fd00::/64x",
					  "10.0.0.0/24",
					  "/64",
					  "zz::/64",
					  "fd00:::/64",
					  "fd00::/6400000000000000000000"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct in6_addr a;
		unsigned l = 99;
		if (net_cidr6(bad[i], &a, &l) == 0)
			fail_msg("%s was accepted", bad[i]);
		assert_int_equal(l, 99); /* untouched on failure */
	}
	/* a long string does not overflow */
	char big[200];
	memset(big, 'f', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[150] = '/';
	struct in6_addr a;
	unsigned l;
	assert_int_equal(net_cidr6(big, &a, &l), -1);
}

static void test_add6(void **state)
{
	(void)state;
	struct in6_addr net, r;
	unsigned len;
	char out[46];
	assert_int_equal(net_cidr6("fd00:1::/64", &net, &len), 0);
	net_add6(&net, 2, &r);
	net_addr6(&r, out);
	assert_string_equal(out, "fd00:1::2");
	net_add6(&net, 0x10000, &r); /* a carry into the next group */
	net_addr6(&r, out);
	assert_string_equal(out, "fd00:1::1:0");
	assert_true(net_in_subnet6(&r, &net, 64));
	struct in6_addr other;
	assert_int_equal(net_parse6("fd00:2::1", &other), 0);
	assert_false(net_in_subnet6(&other, &net, 64));
	assert_int_equal(net_parse6("10.0.0.1", &other), -1);
	assert_int_equal(net_parse6(NULL, &other), -1);
}

static void test_parse_mtu(void **state)
{
	(void)state;
	unsigned m = 0;
	assert_int_equal(net_parse_mtu("68", &m), 0);
	assert_int_equal(m, 68);
	assert_int_equal(net_parse_mtu("65535", &m), 0);
	assert_int_equal(m, 65535);
	assert_int_equal(net_parse_mtu("09000", &m), 0);
	assert_int_equal(m, 9000);
	const char *bad[] = {"",
			     "67",
			     "65536",
			     "-1",
			     "+1500",
			     " 1500",
			     "1500 ",
			     "1500x",
			     "0x5dc",
			     "1e3",
			     "99999999999999999999",
			     "18446744073709553116",
			     "abc",
			     "1500\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		m = 7;
		if (net_parse_mtu(bad[i], &m) == 0)
			fail_msg("\"%s\" was taken as an MTU", bad[i]);
		assert_int_equal(m, 7);
	}
	assert_int_equal(net_parse_mtu(NULL, &m), -1);
}

static unsigned fake_mtu(const char *name, void *ctx)
{
	(void)ctx;
	if (!strcmp(name, "eth0"))
		return 1400;
	if (!strcmp(name, "wg0"))
		return 1420;
	if (!strcmp(name, "jumbo"))
		return 9000;
	return 0; /* unknown link */
}

static void test_default_route_mtu(void **state)
{
	(void)state;
	const char *v4 = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
			 "jumbo\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
			 "wg0\t00000000\t00000000\t0001\t0\t0\t50\t00000000\t0\t0\t0\n"
			 "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
			 "gone\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
	/* the default with the lowest metric whose link is known */
	assert_int_equal(net_default_route_mtu(v4, false, fake_mtu, NULL), 1400);
	/* a default route that is down does not count */
	const char *down = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n"
			   "eth0\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\n"
			   "wg0\t00000000\t00000000\t0001\t0\t0\t50\t00000000\n";
	assert_int_equal(net_default_route_mtu(down, false, fake_mtu, NULL), 1420);
	const char *v6 = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
			 "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 lo\n"
			 "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 "
			 "00000000000000000000000000000000 00000100 00000001 00000000 00000001 jumbo\n"
			 "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
			 "fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth0\n";
	assert_int_equal(net_default_route_mtu(v6, true, fake_mtu, NULL), 1400);
	/* nothing: no default route, or garbage */
	const char *none[] = {"",
			      "Iface\tDestination\n",
			      "jumbo\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n",
			      "\n\n\n",
			      "eth0 00000000",
			      "eth0\t00000000\t0\t0001\t0\t0\t0\tzz\n",
			      "averyveryverylonginterfacename\t00000000\t0\t0001\t0\t0\t0\t00000000\n"};
	for (size_t i = 0; i < sizeof(none) / sizeof(*none); i++)
		assert_int_equal(net_default_route_mtu(none[i], false, fake_mtu, NULL), 0);
	assert_int_equal(net_default_route_mtu(v4, true, fake_mtu, NULL), 0);
	/* a line longer than any real one is skipped, not overrun */
	char *big = xmalloc(100000);
	memset(big, 'a', 99999);
	big[99999] = '\0';
	assert_int_equal(net_default_route_mtu(big, false, fake_mtu, NULL), 0);
	free(big);
}

static void test_store_names(void **state)
{
	(void)state;
	char tag[7], table[16];
	net_store_tag("/var/lib/skiff", tag);
	assert_string_equal(tag, "");
	net_store_tag("/var/lib/skiff/", tag);
	assert_string_equal(tag, "");
	net_store_table(tag, table);
	assert_string_equal(table, "skiff");
	/* printf %s /tmp/a | sha256sum */
	net_store_tag("/tmp/a", tag);
	assert_int_equal(strlen(tag), 6);
	assert_string_equal(tag, "d9b741");
	net_store_tag("/tmp/a/", tag);
	assert_string_equal(tag, "d9b741");
	net_store_table(tag, table);
	assert_string_equal(table, "skiff_d9b741");
	char other[7];
	net_store_tag("/tmp/b", other);
	assert_string_not_equal(tag, other);
}

static char *scratch(void)
{
	char tmpl[] = "/tmp/test_bridgeconf.XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return xstrdup(d);
}

static void rmrf(const char *d)
{
	pid_t p = fork();
	if (p == 0) {
		execlp("rm", "rm", "-rf", d, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(p, &st, 0);
}

static void test_create_ipv6(void **state)
{
	(void)state;
	char *g = scratch();
	struct skiff_err *err = NULL;
	struct net_network n;
	/* --ipv6 alone: dual stack with a random unique local /64 */
	struct net_create_opts o = {.subnet = "10.231.50.0/24", .ipv6 = true};
	if (net_network_create(g, "ds", &o, &n, &err) < 0)
		fail_msg("%s", err->msg);
	assert_string_equal(n.subnet, "10.231.50.0/24");
	assert_true(n.ipv6);
	assert_int_equal(strncmp(n.subnet6, "fd", 2), 0);
	assert_non_null(strstr(n.subnet6, "::/64"));
	assert_non_null(strstr(n.gateway6, "::1"));
	assert_int_equal(strncmp(n.iface, "sk", 2), 0); /* not the default store: skTAG-N */
	assert_non_null(strchr(n.iface, '-'));
	net_network_release(&n);
	/* read back as written */
	assert_int_equal(net_network_get(g, "ds", &n, &err), 0);
	assert_true(n.ipv6);
	assert_int_equal(strncmp(n.subnet6, "fd", 2), 0);
	net_network_release(&n);

	/* an IPv6 subnet alone: IPv6 only, the gateway given */
	struct net_create_opts o6 = {.subnet6 = "fd33:5::/64", .gateway6 = "fd33:5::fe"};
	if (net_network_create(g, "only6", &o6, &n, &err) < 0)
		fail_msg("%s", err->msg);
	assert_string_equal(n.subnet, "");
	assert_string_equal(n.subnet6, "fd33:5::/64");
	assert_string_equal(n.gateway6, "fd33:5::fe");
	net_network_release(&n);
	struct json *j = NULL;
	assert_int_equal(net_network_get(g, "only6", &n, &err), 0);
	j = net_network_json(&n);
	assert_int_equal(json_array_len(json_object_get(j, "subnets")), 1);
	json_free(j);
	net_network_release(&n);

	/* hostile and conflicting input: an error naming it, nothing written */
	struct {
		struct net_create_opts o;
		int code;
		const char *msg;
	} bad[] = {
		{{.subnet6 = "fd33:5:0:0::/64"}, EEXIST, "fd33:5:0:0::/64"},
		{{.subnet6 = "fd33:6::/130"}, EINVAL, "fd33:6::/130"},
		{{.subnet6 = "fd33:7::/64", .gateway6 = "fd33:8::1"}, EINVAL, "fd33:8::1"},
		{{.subnet6 = "fd33:7::/64", .gateway6 = "fd33:7::"}, EINVAL, "fd33:7::"},
		{{.subnet6 = "fd33:7::/64", .range = "10.1.0.0/24"}, EINVAL, "10.1.0.0/24"},
		{{.subnet6 = "fd33:7::/64", .gateway = "10.1.0.1"}, EINVAL, "10.1.0.1"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(net_network_create(g, "bad", &bad[i].o, &n, &err), -1);
		assert_int_equal(err_status(err), bad[i].code);
		if (!strstr(err->msg, bad[i].msg))
			fail_msg("case %zu: \"%s\" does not name %s", i, err->msg, bad[i].msg);
		err_clear(&err);
		struct skiff_err *e2 = NULL;
		assert_int_equal(net_network_get(g, "bad", &n, &e2), -1);
		err_free(e2);
	}
	rmrf(g);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr6),
		cmocka_unit_test(test_add6),
		cmocka_unit_test(test_store_names),
		cmocka_unit_test(test_parse_mtu),
		cmocka_unit_test(test_default_route_mtu),
		cmocka_unit_test(test_create_ipv6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
