/* pkg/registry: the parsers of what a registry sends (WWW-Authenticate challenges and
 * error bodies), with hostile input, and endpoint validation. No network. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pkg/registry/registry.h"

static void test_challenge_bearer(void **state)
{
	struct registry_challenge c = {0};
	struct skiff_err *err = NULL;
	(void)state;
	assert_int_equal(registry_challenge_parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry."
						  "docker.io\",scope=\"repository:library/busybox:pull\"",
						  &c, &err),
			 0);
	assert_string_equal(c.scheme, "bearer");
	assert_string_equal(c.realm, "https://auth.docker.io/token");
	assert_string_equal(c.service, "registry.docker.io");
	assert_string_equal(c.scope, "repository:library/busybox:pull");
	assert_null(c.error);
	registry_challenge_release(&c);

	/* case, spaces around "=", token values, an error parameter, unknown parameters */
	assert_int_equal(registry_challenge_parse("BEARER  Realm = \"http://127.0.0.1:1/t\" , service=reg, "
						  "foo=\"bar\", error=\"insufficient_scope\"",
						  &c, &err),
			 0);
	assert_string_equal(c.scheme, "bearer");
	assert_string_equal(c.realm, "http://127.0.0.1:1/t");
	assert_string_equal(c.service, "reg");
	assert_string_equal(c.error, "insufficient_scope");
	registry_challenge_release(&c);
}

static void test_challenge_basic_and_several(void **state)
{
	struct registry_challenge c = {0};
	struct skiff_err *err = NULL;
	(void)state;
	assert_int_equal(registry_challenge_parse("Basic realm=\"Registry Realm\"", &c, &err), 0);
	assert_string_equal(c.scheme, "basic");
	assert_string_equal(c.realm, "Registry Realm");
	registry_challenge_release(&c);
	/* an unknown scheme first: the next challenge is taken */
	assert_int_equal(registry_challenge_parse("Negotiate abc==, Basic realm=\"r\"", &c, &err), 0);
	assert_string_equal(c.scheme, "basic");
	registry_challenge_release(&c);
	assert_int_equal(
		registry_challenge_parse("Digest realm=\"x\", nonce=\"y\", Bearer realm=\"https://a/b\"", &c, &err), 0);
	assert_string_equal(c.scheme, "bearer");
	assert_string_equal(c.realm, "https://a/b");
	registry_challenge_release(&c);
	/* escapes in quoted strings */
	assert_int_equal(registry_challenge_parse("Basic realm=\"a \\\"quoted\\\" realm\"", &c, &err), 0);
	assert_string_equal(c.realm, "a \"quoted\" realm");
	registry_challenge_release(&c);
}

static void expect_bad(const char *hdr, int status, const char *needle)
{
	struct registry_challenge c = {0};
	struct skiff_err *err = NULL;
	assert_int_equal(registry_challenge_parse(hdr, &c, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->status, status);
	if (!strstr(err->msg, needle))
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", hdr, err->msg, needle);
	assert_null(strchr(err->msg, '\n'));
	assert_null(c.scheme);
	err_free(err);
}

static void test_challenge_hostile(void **state)
{
	(void)state;
	expect_bad("", ENOTSUP, "no Basic or Bearer challenge");
	expect_bad("   ", ENOTSUP, "no Basic or Bearer challenge");
	expect_bad("Negotiate", ENOTSUP, "no Basic or Bearer");
	expect_bad("Bearer service=\"x\"", EINVAL, "without realm");
	expect_bad("Bearer realm=\"\"", EINVAL, "without realm");
	expect_bad("Bearer realm=\"unterminated", EINVAL, "unterminated quoted string");
	expect_bad("Bearer realm=", EINVAL, "missing parameter value");
	expect_bad("Bearer realm=\"a\x01b\"", EINVAL, "control character");
	expect_bad("Bearer realm=\"x\", (", EINVAL, "unexpected character");
	expect_bad("=realm", EINVAL, "missing auth scheme");
	/* a huge header is refused before parsing */
	size_t n = 100000;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'a', n);
	memcpy(big, "Bearer realm=\"", 14);
	big[n] = '\0';
	expect_bad(big, EINVAL, "longer than");
	free(big);
}

static void test_error_text(void **state)
{
	(void)state;
	const char *b = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\",\"detail\":{}}]}";
	char *t = registry_error_text(b, strlen(b));
	assert_non_null(t);
	assert_string_equal(t, "manifest unknown");
	free(t);
	b = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"},"
	    "{\"code\":\"DENIED\",\"message\":\"no\\nway\"}]}";
	t = registry_error_text(b, strlen(b));
	assert_non_null(t);
	/* codes read as words; control characters from the registry never reach the terminal */
	assert_string_equal(t, "unauthorized: authentication required; denied: no?way");
	free(t);
	b = "{\"errors\":[{\"message\":\"only a message\"}]}";
	t = registry_error_text(b, strlen(b));
	assert_string_equal(t, "only a message");
	free(t);
}

static void test_error_text_hostile(void **state)
{
	(void)state;
	const char *bad[] = {
		"",
		"not json",
		"<html>502 Bad Gateway</html>",
		"{\"errors\":\"nope\"}",
		"{\"errors\":[]}",
		"{\"errors\":[1,2,3]}",
		"{\"errors\":[{\"code\":5}]}",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
		"{\"errors\":[{\"code\":\"A\",\"message\":\"b\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(registry_error_text(bad[i], strlen(bad[i])));
	assert_null(registry_error_text(NULL, 0));
	/* a long message is cut */
	size_t n = 10000;
	char *msg = malloc(n + 64);
	assert_non_null(msg);
	strcpy(msg, "{\"errors\":[{\"message\":\"");
	size_t off = strlen(msg);
	memset(msg + off, 'x', n);
	strcpy(msg + off + n, "\"}]}");
	char *t = registry_error_text(msg, strlen(msg));
	assert_non_null(t);
	assert_true(strlen(t) <= 400);
	free(t);
	free(msg);
}

static void test_endpoint_validation(void **state)
{
	struct registry *r = NULL;
	struct registry_repo *rp = NULL;
	struct skiff_err *err = NULL;
	struct registry_opts o = {.tls_verify = 1};
	(void)state;
	if (registry_new(&o, &r, &err) < 0) {
		/* libcurl missing: say so clearly (the message names the package) */
		assert_non_null(strstr(err->msg, "libcurl"));
		err_free(err);
		skip();
	}
	const char *bad[] = {"", "a/b", "host name", "x?y", "x#y", "u@host", "a\\b", "h\r\nX-Injected: 1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct registry_endpoint ep = {.host = bad[i]};
		assert_int_equal(registry_repo_open(r, &ep, "x/y", REGISTRY_PULL, &rp, &err), -1);
		assert_int_equal(err->status, EINVAL);
		assert_non_null(strstr(err->msg, "invalid registry address"));
		err_clear(&err);
	}
	struct registry_endpoint ep = {.host = "docker.io"};
	assert_int_equal(registry_repo_open(r, &ep, "library/busybox", REGISTRY_PUSH, &rp, &err), 0);
	assert_string_equal(registry_repo_name(rp), "docker.io/library/busybox");
	registry_repo_free(rp);
	registry_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_challenge_bearer),   cmocka_unit_test(test_challenge_basic_and_several),
		cmocka_unit_test(test_challenge_hostile),  cmocka_unit_test(test_error_text),
		cmocka_unit_test(test_error_text_hostile), cmocka_unit_test(test_endpoint_validation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
