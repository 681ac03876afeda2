/* Unit tests for pkg/net ports: -p specs (good and hostile), the canonical round trip,
 * ps/port formatting, and picking free host ports. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "pkg/net/net.h"
#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"

static void parse_ok(const char *spec, const char *ip, unsigned host, unsigned ctr, unsigned range, const char *proto)
{
	struct net_port p;
	struct skiff_err *err = NULL;
	if (net_parse_port(spec, &p, &err) < 0)
		fail_msg("%s: %s", spec, err->msg);
	assert_string_equal(p.host_ip, ip);
	assert_int_equal(p.host_port, host);
	assert_int_equal(p.ctr_port, ctr);
	assert_int_equal(p.range, range);
	assert_string_equal(p.proto, proto);
	/* the stored form reads back the same */
	struct strbuf sb = STRBUF_INIT;
	net_port_string(&p, &sb);
	struct net_port q;
	assert_int_equal(net_parse_port(sb.buf, &q, &err), 0);
	assert_memory_equal(&p, &q, sizeof(p));
	strbuf_release(&sb);
}

static void test_parse_good(void **state)
{
	(void)state;
	parse_ok("80", "", 0, 80, 1, "tcp");
	parse_ok("8080:80", "", 8080, 80, 1, "tcp");
	parse_ok("127.0.0.1:8080:80/udp", "127.0.0.1", 8080, 80, 1, "udp");
	parse_ok("127.0.0.1::80", "127.0.0.1", 0, 80, 1, "tcp");
	parse_ok("9000-9002:8000-8002", "", 9000, 8000, 3, "tcp");
	parse_ok("8000-8001", "", 0, 8000, 2, "tcp");
	parse_ok("[::1]:8080:80", "::1", 8080, 80, 1, "tcp");
	parse_ok("[::1]::80/udp", "::1", 0, 80, 1, "udp");
}

static void parse_bad(const char *spec, int status, const char *needle)
{
	struct net_port p = {0};
	struct skiff_err *err = NULL;
	assert_int_equal(net_parse_port(spec, &p, &err), -1);
	assert_int_equal(err_status(err), status);
	if (!strstr(err->msg, needle) || !strstr(err->msg, spec))
		fail_msg("-p %s: \"%s\" lacks \"%s\" or the spec", spec, err->msg, needle);
	err_free(err);
}

static void test_parse_bad(void **state)
{
	(void)state;
	parse_bad("", EINVAL, "container port");
	parse_bad("abc", EINVAL, "container port");
	parse_bad("0", EINVAL, "container port");
	parse_bad("65536", EINVAL, "container port");
	parse_bad("99999999999999999999", EINVAL, "container port");
	parse_bad("80-70", EINVAL, "container port");
	parse_bad("8080-8081:80", EINVAL, "differ in length");
	parse_bad("1.2.3:80:80", EINVAL, "bad IP");
	parse_bad("1:2:3:4", EINVAL, "too many colons");
	parse_bad("[::1:80:80", EINVAL, "IPv6");
	parse_bad("[zz]:80:80", EINVAL, "bad IP");
	parse_bad("80/sctp", ENOTSUP, "sctp");
	parse_bad("80/icmp", EINVAL, "unknown protocol");
	parse_bad("80/", EINVAL, "unknown protocol");
	parse_bad("a\nb", EINVAL, "container port");
}

static void test_format(void **state)
{
	(void)state;
	struct net_port v[2];
	struct skiff_err *err = NULL;
	assert_int_equal(net_parse_port("127.0.0.1:9000-9001:8000-8001/udp", &v[0], &err), 0);
	assert_int_equal(net_parse_port("8080:80", &v[1], &err), 0);
	struct strbuf sb = STRBUF_INIT;
	net_ports_format(v, 2, &sb);
	assert_string_equal(sb.buf, "127.0.0.1:9000-9001->8000-8001/udp, 0.0.0.0:8080->80/tcp");
	strbuf_setlen(&sb, 0);
	assert_int_equal(net_ports_print(v, 2, NULL, &sb), 3);
	assert_string_equal(sb.buf, "8000/udp -> 127.0.0.1:9000\n8001/udp -> 127.0.0.1:9001\n80/tcp -> 0.0.0.0:8080\n");
	strbuf_setlen(&sb, 0);
	assert_int_equal(net_ports_print(v, 2, "8001/udp", &sb), 1);
	assert_string_equal(sb.buf, "127.0.0.1:9001\n");
	strbuf_setlen(&sb, 0);
	assert_int_equal(net_ports_print(v, 2, "8001", &sb), 0);
	assert_int_equal(net_ports_print(v, 2, "junk", &sb), 0);
	strbuf_release(&sb);
}

static void test_assign(void **state)
{
	(void)state;
	struct net_port v[2];
	struct skiff_err *err = NULL;
	assert_int_equal(net_parse_port("127.0.0.1::80", &v[0], &err), 0);
	assert_int_equal(net_parse_port("127.0.0.1::7000-7003/udp", &v[1], &err), 0);
	assert_int_equal(net_ports_assign(v, 2, &err), 0);
	assert_true(v[0].host_port > 0);
	assert_true(v[1].host_port > 0 && v[1].host_port + 3 <= 65535);
	assert_int_equal(net_ports_check_free(v, 2, &err), 0);
	struct net_port e;
	assert_int_equal(net_parse_expose("443/tcp", &e, &err), 0);
	assert_int_equal(e.ctr_port, 443);
	assert_int_equal(net_parse_expose("x/tcp", &e, &err), -1);
	assert_non_null(strstr(err->msg, "x/tcp"));
	err_free(err);
}

static void test_modes(void **state)
{
	(void)state;
	struct skiff_err *err = NULL;
	assert_int_equal(net_mode_of("pasta:-T,auto"), NET_PASTA);
	assert_int_equal(net_mode_of("slirp4netns"), NET_SLIRP4NETNS);
	assert_int_equal(net_mode_of("pastafarian"), NET_NONE_HELPER);
	assert_int_equal(net_mode_of(NULL), NET_NONE_HELPER);
	assert_int_equal(net_check_mode("slirp4netns:allow_host_loopback=true,mtu=1500,port_handler=slirp4netns", &err),
			 0);
	assert_int_equal(net_check_mode("slirp4netns:mtu=1", &err), -1);
	assert_non_null(strstr(err->msg, "mtu=1"));
	err_free(err);
	err = NULL;
	assert_int_equal(net_check_mode("slirp4netns:port_handler=rootlesskit", &err), 0);
	const char *bad[] = {"slirp4netns:port_handler=", "slirp4netns:port_handler=rootlesskitx",
			     "slirp4netns:port_handler", "slirp4netns:port_handlerx=slirp4netns"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(net_check_mode(bad[i], &err), -1);
		assert_int_equal(err_status(err), EINVAL);
		assert_non_null(strstr(err->msg, "port_handler=rootlesskit|slirp4netns"));
		err_clear(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good), cmocka_unit_test(test_parse_bad), cmocka_unit_test(test_format),
		cmocka_unit_test(test_assign),	   cmocka_unit_test(test_modes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
