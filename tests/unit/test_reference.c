#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/image/reference.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIG "sha256:" HEX64

struct valid_case {
	const char *in;
	const char *string;   /* ref_string */
	const char *familiar; /* ref_familiar */
	const char *domain, *path, *tag, *digest;
	bool tag_implicit, domain_implicit;
};

static const struct valid_case valid[] = {
	{"busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io", "library/busybox", "latest",
	 NULL, true, true},
	{"busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36", "docker.io", "library/busybox", "1.36", NULL,
	 false, true},
	{"library/busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io", "library/busybox",
	 "latest", NULL, true, true},
	{"docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io", "library/busybox",
	 "latest", NULL, true, false},
	{"index.docker.io/busybox:musl", "docker.io/library/busybox:musl", "busybox:musl", "docker.io",
	 "library/busybox", "musl", NULL, false, false},
	{"index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io",
	 "library/busybox", "latest", NULL, true, false},
	{"docker.io/library/busybox:latest", "docker.io/library/busybox:latest", "busybox:latest", "docker.io",
	 "library/busybox", "latest", NULL, false, false},
	{"user/app:1", "docker.io/user/app:1", "user/app:1", "docker.io", "user/app", "1", NULL, false, true},
	{"docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest", "docker.io", "library/a/b",
	 "latest", NULL, true, false},
	{"quay.io/org/app:v1.2-rc_3", "quay.io/org/app:v1.2-rc_3", "quay.io/org/app:v1.2-rc_3", "quay.io", "org/app",
	 "v1.2-rc_3", NULL, false, false},
	{"quay.io/busybox", "quay.io/busybox:latest", "quay.io/busybox:latest", "quay.io", "busybox", "latest", NULL,
	 true, false},
	{"localhost/busybox", "localhost/busybox:latest", "localhost/busybox:latest", "localhost", "busybox", "latest",
	 NULL, true, false},
	{"localhost:5000/x", "localhost:5000/x:latest", "localhost:5000/x:latest", "localhost:5000", "x", "latest",
	 NULL, true, false},
	{"host:5000/path:tag", "host:5000/path:tag", "host:5000/path:tag", "host:5000", "path", "tag", NULL, false,
	 false},
	{"[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x:latest", "[::1]:5000", "x", "latest", NULL, true, false},
	{"[fe80::1:AbCd]/x/y:t", "[fe80::1:AbCd]/x/y:t", "[fe80::1:AbCd]/x/y:t", "[fe80::1:AbCd]", "x/y", "t", NULL,
	 false, false},
	{"127.0.0.1:65535/a/b/c:1", "127.0.0.1:65535/a/b/c:1", "127.0.0.1:65535/a/b/c:1", "127.0.0.1:65535", "a/b/c",
	 "1", NULL, false, false},
	{"my-registry.example.com:443/ns/img", "my-registry.example.com:443/ns/img:latest",
	 "my-registry.example.com:443/ns/img:latest", "my-registry.example.com:443", "ns/img", "latest", NULL, true,
	 false},
	/* Bare "localhost" and "host:port" without a path are docker.io names (as docker). */
	{"localhost", "docker.io/library/localhost:latest", "localhost:latest", "docker.io", "library/localhost",
	 "latest", NULL, true, true},
	{"localhost:5000", "docker.io/library/localhost:5000", "localhost:5000", "docker.io", "library/localhost",
	 "5000", NULL, false, true},
	{"example.com", "docker.io/library/example.com:latest", "example.com:latest", "docker.io",
	 "library/example.com", "latest", NULL, true, true},
	/* An uppercase first element can only be a domain. */
	{"Foo/bar", "Foo/bar:latest", "Foo/bar:latest", "Foo", "bar", "latest", NULL, true, false},
	{"a", "docker.io/library/a:latest", "a:latest", "docker.io", "library/a", "latest", NULL, true, true},
	{"a-b--c/d_e__f.g", "docker.io/a-b--c/d_e__f.g:latest", "a-b--c/d_e__f.g:latest", "docker.io",
	 "a-b--c/d_e__f.g", "latest", NULL, true, true},
	{"busybox@" DIG, "docker.io/library/busybox@" DIG, "busybox@" DIG, "docker.io", "library/busybox", NULL, DIG,
	 false, true},
	{"busybox:1@" DIG, "docker.io/library/busybox:1@" DIG, "busybox:1@" DIG, "docker.io", "library/busybox", "1",
	 DIG, false, true},
	{"quay.io/o/a:t@" DIG, "quay.io/o/a:t@" DIG, "quay.io/o/a:t@" DIG, "quay.io", "o/a", "t", DIG, false, false},
	{"x:_Tag", "docker.io/library/x:_Tag", "x:_Tag", "docker.io", "library/x", "_Tag", NULL, false, true},
	{"x:A.b-C", "docker.io/library/x:A.b-C", "x:A.b-C", "docker.io", "library/x", "A.b-C", NULL, false, true},
	/* Short hex strings are names too (callers try an ID lookup first). */
	{"abc", "docker.io/library/abc:latest", "abc:latest", "docker.io", "library/abc", "latest", NULL, true, true},
	{"sha256:abc", "docker.io/library/sha256:abc", "sha256:abc", "docker.io", "library/sha256", "abc", NULL, false,
	 true},
};

static void test_valid_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(valid); i++) {
		const struct valid_case *c = &valid[i];
		struct skiff_err *err = NULL;
		cleanup_ref struct image_ref *r = NULL;

		if (ref_parse(c->in, &r, &err) < 0)
			fail_msg("%s: unexpected error: %s", c->in, err->msg);
		assert_null(err);
		cleanup_free char *s = ref_string(r);
		cleanup_free char *f = ref_familiar(r);
		cleanup_free char *n = ref_name(r);
		cleanup_free char *want_name = xasprintf("%s/%s", c->domain, c->path);
		if (strcmp(s, c->string) != 0 || strcmp(f, c->familiar) != 0)
			fail_msg("%s: got %s / %s, want %s / %s", c->in, s, f, c->string, c->familiar);
		assert_string_equal(n, want_name);
		assert_string_equal(r->domain, c->domain);
		assert_string_equal(r->path, c->path);
		if (c->tag)
			assert_string_equal(r->tag, c->tag);
		else
			assert_null(r->tag);
		if (c->digest)
			assert_string_equal(r->digest, c->digest);
		else
			assert_null(r->digest);
		if (r->tag_implicit != c->tag_implicit || r->domain_implicit != c->domain_implicit)
			fail_msg("%s: implicit flags tag=%d domain=%d", c->in, r->tag_implicit, r->domain_implicit);

		/* The canonical string parses back to the same reference. */
		cleanup_ref struct image_ref *again = NULL;
		assert_int_equal(ref_parse(s, &again, &err), 0);
		cleanup_free char *s2 = ref_string(again);
		assert_string_equal(s, s2);

		/* The familiar form, too (bar the implicit flags). */
		cleanup_ref struct image_ref *fam = NULL;
		assert_int_equal(ref_parse(f, &fam, &err), 0);
		cleanup_free char *s3 = ref_string(fam);
		assert_string_equal(s, s3);

		cleanup_ref struct image_ref *d = ref_dup(r);
		cleanup_free char *s4 = ref_string(d);
		assert_string_equal(s, s4);
		assert_int_equal(d->tag_implicit, r->tag_implicit);
		assert_int_equal(d->domain_implicit, r->domain_implicit);
	}
}

struct invalid_case {
	const char *in;
	const char *reason; /* substring of the message */
};

static const struct invalid_case invalid[] = {
	{"", "empty reference"},
	{":tag", "empty repository name"},
	{"@" DIG, "empty repository name"},
	{"UPPER", "repository name must be lowercase"},
	{"busyBox:1", "repository name must be lowercase"},
	{"docker.io/UPPER", "repository name must be lowercase"},
	{"quay.io/Org/app", "repository name must be lowercase"},
	{"a//b", "repository name \"a//b\" has an empty component"},
	{"a/", "has an empty component"},
	{"/a", "has an empty component"},
	{"quay.io/", "has an empty component"},
	{"a/:tag", "has an empty component"},
	{"a:", "empty tag"},
	{"a:b:c", "invalid tag \"b:c\""},
	{"a:.tag", "invalid tag \".tag\""},
	{"a:-tag", "invalid tag \"-tag\""},
	{"a:t/x", "invalid port in domain \"a:t\""}, /* "a:t" reads as host:port */
	{"a@sha256:short", "invalid sha256 digest \"sha256:short\": need 64 hex characters"},
	{"a@sha256:" HEX64 "0", "need 64 hex characters"},
	{"a@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "hex must be lowercase"},
	{"a@sha512:" HEX64 HEX64, "unsupported digest algorithm \"sha512\""},
	{"a@md5:0123456789abcdef0123456789abcdef", "unsupported digest algorithm \"md5\""},
	{"a@SHA256:" HEX64, "unsupported digest algorithm \"SHA256\""},
	{"a@", "empty digest"},
	{"a@sha256", "expected ALGORITHM:HEX"},
	{"a@1sha:" HEX64, "invalid digest algorithm"},
	{"a@sha256:" HEX64 "@x", "need 64 hex characters"},
	{"a@" DIG "/x", "need 64 hex characters"},
	{"-leading", "path component \"-leading\" must start with a lowercase letter or digit"},
	{"_a", "must start with a lowercase letter or digit"},
	{"a-", "path component \"a-\" must end with a lowercase letter or digit"},
	{"a_", "must end with a lowercase letter or digit"},
	{"a..b", "invalid separator in path component \"a..b\""},
	{"a___b", "invalid separator"},
	{"a.-b", "invalid separator"},
	{"a!b", "invalid character '!' in repository name"},
	{"a\"b", "invalid character '\"' in repository name"},
	{"x/a:b/c", "invalid character ':' in repository name"},
	{"[]/x", "path component \"[]\" must start with"}, /* not domain-like: a path */
	{"[]:5000/x", "invalid IPv6 address in domain \"[]:5000\""},
	{"[::1/x", "invalid IPv6 address"},
	{"[zz]:5000/x", "invalid IPv6 address"},
	{"[::1]x/y", "invalid domain \"[::1]x\""},
	{"host:port/x", "invalid port in domain \"host:port\""},
	{"host:99999/x", "invalid port"},
	{"host:1234567/x", "invalid port"},
	{"host:/x", "invalid port"},
	{"-host.com/x", "invalid domain \"-host.com\""},
	{"host-.com/x", "invalid domain"},
	{"a..com/x", "invalid domain"},
	{"host_name.com/x", "invalid domain"},
	{".com/x", "invalid domain"},
	{"Foo!/x", "invalid domain"},
	{HEX64, "cannot specify 64-byte hexadecimal strings"},
	{"busy box", "contains a space at offset 4"},
	{" busybox", "contains a space at offset 0"},
	{"busybox\n", "invalid byte 0x0a at offset 7"},
	{"busyb\xc3\xb8x", "invalid byte 0xc3 at offset 5"},
	{"\xe2\x80\xae"
	 "busybox",
	 "invalid byte 0xe2 at offset 0"},
	{"a\x1b[31m", "invalid byte 0x1b"},
	{"a\x7f", "invalid byte 0x7f"},
};

/* Check the common shape of a refusal and that *ret was not touched. */
static void expect_invalid_n(const char *in, size_t len, const char *reason)
{
	struct skiff_err *err = NULL;
	struct image_ref *sentinel = (struct image_ref *)(uintptr_t)0x1;
	struct image_ref *r = sentinel;

	if (ref_parse_n(in, len, &r, &err) == 0)
		fail_msg("%.*s: parsed, want error \"%s\"", (int)len, in, reason);
	assert_ptr_equal(r, sentinel);
	assert_non_null(err);
	assert_int_equal(err->status, EINVAL);
	if (strncmp(err->msg, "invalid reference format: \"", 27) != 0 || !strstr(err->msg, reason))
		fail_msg("input %zu bytes: message \"%s\" lacks \"%s\"", len, err->msg, reason);
	/* Never echo control or non-ASCII bytes back. */
	for (const char *p = err->msg; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			fail_msg("raw byte 0x%02x in message \"%s\"", (unsigned char)*p, err->msg);
	err_free(err);
}

static void test_invalid_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		const char *in = invalid[i].in;
		expect_invalid_n(in, strlen(in), invalid[i].reason);

		/* The message names the input, quoted. */
		struct skiff_err *err = NULL;
		struct image_ref *r = NULL;
		assert_int_equal(ref_parse(in, &r, &err), -1);
		assert_null(r);
		bool printable = true;
		for (const char *p = in; *p; p++)
			printable = printable && *p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\';
		if (printable && strlen(in) <= 128) {
			cleanup_free char *q = xasprintf("invalid reference format: \"%s\": ", in);
			if (strncmp(err->msg, q, strlen(q)) != 0)
				fail_msg("message \"%s\" does not start with %s", err->msg, q);
		}
		err_free(err);

		/* NULL err is allowed: just -1. */
		assert_int_equal(ref_parse(in, &r, NULL), -1);
		assert_null(r);
	}
}

static void test_quoting(void **state)
{
	(void)state;
	struct skiff_err *err = NULL;
	struct image_ref *r = NULL;

	assert_int_equal(ref_parse("a\"b", &r, &err), -1);
	assert_non_null(strstr(err->msg, "\"a\\\"b\""));
	err_clear(&err);
	assert_int_equal(ref_parse("a\\b", &r, &err), -1);
	assert_non_null(strstr(err->msg, "\"a\\\\b\""));
	assert_non_null(strstr(err->msg, "invalid character '\\'"));
	err_clear(&err);
	assert_int_equal(ref_parse("a\x1b[31mb", &r, &err), -1);
	assert_non_null(strstr(err->msg, "\"a\\x1b[31mb\""));
	err_clear(&err);
}

static void test_nul_bytes(void **state)
{
	(void)state;
	expect_invalid_n("busy\0box", 8, "contains a NUL byte at offset 4");
	expect_invalid_n("\0", 1, "contains a NUL byte at offset 0");
	expect_invalid_n("busybox\0", 8, "contains a NUL byte at offset 7");
	/* A length-delimited, unterminated buffer parses fine. */
	char buf[] = {'a', 'l', 'p', 'i', 'n', 'e', ':', '3', 'X'};
	struct skiff_err *err = NULL;
	cleanup_ref struct image_ref *r = NULL;
	assert_int_equal(ref_parse_n(buf, 8, &r, &err), 0);
	cleanup_free char *s = ref_string(r);
	assert_string_equal(s, "docker.io/library/alpine:3");
	/* NULL input */
	struct image_ref *r2 = NULL;
	assert_int_equal(ref_parse(NULL, &r2, &err), -1);
	assert_int_equal(err->status, EINVAL);
	err_clear(&err);
	assert_int_equal(ref_parse_name_only(NULL, &r2, &err), -1);
	err_clear(&err);
	assert_null(r2);
}

static char *repeat(char c, size_t n)
{
	char *s = xmalloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_lengths(void **state)
{
	(void)state;
	struct skiff_err *err = NULL;

	/* docker.io/library/ is 18 characters: 237 more make exactly 255. */
	cleanup_free char *p237 = repeat('a', 237);
	cleanup_ref struct image_ref *r = NULL;
	assert_int_equal(ref_parse(p237, &r, &err), 0);
	cleanup_free char *n = ref_name(r);
	assert_int_equal(strlen(n), 255);

	cleanup_free char *p238 = repeat('a', 238);
	expect_invalid_n(p238, strlen(p238), "repository name must not be more than 255 characters (it is 256)");

	cleanup_free char *p300 = repeat('b', 300);
	expect_invalid_n(p300, 300, "must not be more than 255 characters");
	/* The echoed input is cut short. */
	struct image_ref *bad = NULL;
	assert_int_equal(ref_parse(p300, &bad, &err), -1);
	assert_non_null(strstr(err->msg, "... (300 bytes)"));
	assert_true(strlen(err->msg) < 300);
	err_clear(&err);

	/* quay.io/ + 247 = 255 */
	cleanup_free char *q247 = repeat('c', 247);
	cleanup_free char *quay_ok = xasprintf("quay.io/%s:t", q247);
	cleanup_ref struct image_ref *r2 = NULL;
	assert_int_equal(ref_parse(quay_ok, &r2, &err), 0);
	cleanup_free char *quay_bad = xasprintf("quay.io/%sc:t", q247);
	expect_invalid_n(quay_bad, strlen(quay_bad), "more than 255");

	/* A tag of 128 is fine, 129 is too long. */
	cleanup_free char *t128 = repeat('t', 128);
	cleanup_free char *ok = xasprintf("x:%s", t128);
	cleanup_ref struct image_ref *r3 = NULL;
	assert_int_equal(ref_parse(ok, &r3, &err), 0);
	assert_int_equal(strlen(r3->tag), 128);
	cleanup_free char *long_tag = xasprintf("x:%st", t128);
	expect_invalid_n(long_tag, strlen(long_tag), "tag too long (129 characters, at most 128)");

	/* A huge input is refused quickly, with a short message. */
	size_t big = 1 << 20;
	cleanup_free char *huge = repeat('a', big);
	assert_int_equal(ref_parse(huge, &bad, &err), -1);
	assert_true(strlen(err->msg) < 512);
	err_clear(&err);
	cleanup_free char *many = xmalloc(big + 1);
	for (size_t i = 0; i < big; i++)
		many[i] = i % 2 ? '/' : 'a';
	many[big - 1] = 'a'; /* a/a/.../aa: valid components, far too long */
	many[big] = '\0';
	assert_int_equal(ref_parse(many, &bad, &err), -1);
	assert_non_null(strstr(err->msg, "more than 255"));
	err_clear(&err);
	assert_null(bad);
}

static void test_name_only(void **state)
{
	(void)state;
	struct skiff_err *err = NULL;
	cleanup_ref struct image_ref *r = NULL;

	assert_int_equal(ref_parse_name_only("busybox", &r, &err), 0);
	assert_null(r->tag);
	assert_null(r->digest);
	assert_false(r->tag_implicit);
	cleanup_free char *s = ref_string(r);
	assert_string_equal(s, "docker.io/library/busybox");
	cleanup_free char *f = ref_familiar(r);
	assert_string_equal(f, "busybox");

	cleanup_ref struct image_ref *r2 = NULL;
	assert_int_equal(ref_parse_name_only("localhost:5000/a/b", &r2, &err), 0);
	cleanup_free char *n2 = ref_familiar_name(r2);
	assert_string_equal(n2, "localhost:5000/a/b");

	struct image_ref *bad = NULL;
	assert_int_equal(ref_parse_name_only("busybox:1", &bad, &err), -1);
	assert_non_null(strstr(err->msg, "\"busybox:1\": a tag is not allowed"));
	err_clear(&err);
	assert_int_equal(ref_parse_name_only("busybox@" DIG, &bad, &err), -1);
	assert_non_null(strstr(err->msg, "a digest is not allowed"));
	err_clear(&err);
	assert_int_equal(ref_parse_name_only("UPPER", &bad, &err), -1);
	assert_non_null(strstr(err->msg, "must be lowercase"));
	err_clear(&err);
	assert_int_equal(ref_parse_name_only("", &bad, &err), -1);
	err_clear(&err);
	assert_null(bad);
}

static void test_familiar(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"docker.io/library/busybox", "busybox"}, {"docker.io/library/a/b", "library/a/b"},
		{"docker.io/user/app", "user/app"},	  {"quay.io/library/x", "quay.io/library/x"},
		{"localhost/x", "localhost/x"},		  {"index.docker.io/user/app", "user/app"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct skiff_err *err = NULL;
		cleanup_ref struct image_ref *r = NULL;
		assert_int_equal(ref_parse_name_only(cases[i][0], &r, &err), 0);
		cleanup_free char *f = ref_familiar_name(r);
		assert_string_equal(f, cases[i][1]);
	}
}

static void test_looks_like_id(void **state)
{
	(void)state;
	assert_true(ref_looks_like_id("a"));
	assert_true(ref_looks_like_id("abc123"));
	assert_true(ref_looks_like_id(HEX64));
	assert_true(ref_looks_like_id(DIG));
	assert_true(ref_looks_like_id("sha256:0f"));
	assert_false(ref_looks_like_id(HEX64 "0"));
	assert_false(ref_looks_like_id("sha256:" HEX64 "0"));
	assert_false(ref_looks_like_id(""));
	assert_false(ref_looks_like_id("sha256:"));
	assert_false(ref_looks_like_id("ABC"));
	assert_false(ref_looks_like_id("abcg"));
	assert_false(ref_looks_like_id("busybox"));
	assert_false(ref_looks_like_id("sha512:abc"));
	assert_false(ref_looks_like_id(" abc"));
	assert_false(ref_looks_like_id(NULL));
}

struct match_case {
	const char *stored, *input;
	enum ref_match_rank name; /* ref_match(.., 0) */
	bool repo;		  /* ref_match_repo */
};

static const struct match_case matches[] = {
	{"docker.io/library/busybox:latest", "busybox", REF_MATCH_SHORT, true},
	{"docker.io/library/busybox:latest", "busybox:latest", REF_MATCH_SHORT, true},
	{"docker.io/library/busybox:latest", "library/busybox", REF_MATCH_SHORT, true},
	{"docker.io/library/busybox:latest", "docker.io/busybox", REF_MATCH_EXACT, true},
	{"docker.io/library/busybox:latest", "index.docker.io/busybox", REF_MATCH_EXACT, true},
	{"docker.io/library/busybox:latest", "docker.io/library/busybox:latest", REF_MATCH_EXACT, true},
	{"docker.io/library/busybox:latest", "busybox:1", REF_MATCH_NONE, false},
	{"docker.io/library/busybox:latest", "localhost/busybox", REF_MATCH_NONE, false},
	{"docker.io/library/busybox:latest", "quay.io/busybox", REF_MATCH_NONE, false},
	{"docker.io/library/busybox:latest", "box", REF_MATCH_NONE, false},
	{"docker.io/library/busybox:latest", "ybox", REF_MATCH_NONE, false},
	{"docker.io/library/busybox:latest", "busybox2", REF_MATCH_NONE, false},
	{"docker.io/library/busybox:1.36", "busybox", REF_MATCH_NONE, true},
	{"docker.io/library/busybox:1.36", "busybox:1.36", REF_MATCH_SHORT, true},
	{"docker.io/library/busybox:1.36", "busybox:1.3", REF_MATCH_NONE, false},
	{"localhost/busybox:latest", "localhost/busybox", REF_MATCH_EXACT, true},
	{"localhost/busybox:latest", "busybox", REF_MATCH_SHORT, true},
	{"localhost/busybox:latest", "busybox:latest", REF_MATCH_SHORT, true},
	{"localhost/busybox:latest", "busybox:2", REF_MATCH_NONE, false},
	{"localhost/busybox:latest", "localhost:5000/busybox", REF_MATCH_NONE, false},
	{"localhost/org/app:latest", "org/app", REF_MATCH_SHORT, true},
	{"quay.io/org/app:1", "app:1", REF_MATCH_SUFFIX, true},
	{"quay.io/org/app:1", "org/app:1", REF_MATCH_SUFFIX, true},
	{"quay.io/org/app:1", "app", REF_MATCH_NONE, true},
	{"quay.io/org/app:1", "quay.io/org/app", REF_MATCH_NONE, true},
	{"quay.io/org/app:1", "quay.io/org/app:1", REF_MATCH_EXACT, true},
	{"quay.io/org/app:1", "quay.io/org/app:2", REF_MATCH_NONE, false},
	{"quay.io/org/app:1", "quay.io/other/app:1", REF_MATCH_NONE, false},
	{"quay.io/org/app:1", "rg/app:1", REF_MATCH_NONE, false},
	{"quay.io/org/app:1", "quay.io/app:1", REF_MATCH_NONE, false},
	{"[::1]:5000/x:latest", "[::1]:5000/x", REF_MATCH_EXACT, true},
	{"[::1]:5000/x:latest", "x", REF_MATCH_SUFFIX, true},
	{"docker.io/library/busybox@" DIG, "busybox@" DIG, REF_MATCH_SHORT, true},
	{"docker.io/library/busybox@" DIG, "busybox:latest@" DIG, REF_MATCH_SHORT, true},
	{"docker.io/library/busybox@" DIG, "docker.io/library/busybox@" DIG, REF_MATCH_EXACT, true},
	{"docker.io/library/busybox@" DIG, "busybox", REF_MATCH_NONE, true},
	{"docker.io/library/busybox@" DIG, "busybox:latest", REF_MATCH_NONE, false},
	{"docker.io/library/busybox:latest", "busybox@" DIG, REF_MATCH_NONE, false},
	{"docker.io/library/busybox@" DIG,
	 "busybox@sha256:1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", REF_MATCH_NONE, false},
	/* Garbage on either side never matches. */
	{"not a name", "busybox", REF_MATCH_NONE, false},
	{"docker.io/library/busybox:latest", "Busybox", REF_MATCH_NONE, false},
	{"docker.io/library/busybox:latest", "", REF_MATCH_NONE, false},
	{"docker.io/library/busybox:latest", "busybox:", REF_MATCH_NONE, false},
	{"docker.io/library/busybox:latest", "busybox\n", REF_MATCH_NONE, false},
	{"", "", REF_MATCH_NONE, false},
	{HEX64, HEX64, REF_MATCH_NONE, false},
};

static void test_match(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(matches); i++) {
		const struct match_case *c = &matches[i];
		enum ref_match_rank got = ref_match(c->stored, c->input, 0);
		if (got != c->name)
			fail_msg("ref_match(%s, %s) = %d, want %d", c->stored, c->input, got, c->name);
		assert_int_equal(ref_match_name(c->stored, c->input), c->name != REF_MATCH_NONE);
		if (ref_match_repo(c->stored, c->input) != c->repo)
			fail_msg("ref_match_repo(%s, %s) = %d", c->stored, c->input, !c->repo);
	}
	assert_int_equal(ref_match(NULL, "busybox", 0), REF_MATCH_NONE);
	assert_int_equal(ref_match("docker.io/library/busybox:latest", NULL, 0), REF_MATCH_NONE);
	assert_false(ref_match_name(NULL, NULL));
	assert_false(ref_match_repo(NULL, NULL));
}

/* Every prefix and every single-byte mutation of some valid references is either
 * parsed into something that round-trips or refused with a well-formed message. */
static void test_mutations(void **state)
{
	(void)state;
	static const char *const seeds[] = {
		"quay.io:443/org/app:v1@" DIG,
		"[::1]:5000/a-b/c__d:t",
		"busybox",
	};
	static const char bytes[] = {'/', ':', '@', '.',  '_',	  '-',	  '[',	']', 'A',
				     'a', '0', ' ', '\0', '\x80', '\xff', '\\', '"'};
	for (size_t k = 0; k < ARRAY_SIZE(seeds); k++) {
		size_t len = strlen(seeds[k]);
		cleanup_free char *buf = xmalloc(len + 1);
		for (size_t i = 0; i <= len; i++) {
			for (size_t b = 0; b <= ARRAY_SIZE(bytes); b++) {
				size_t n = len;
				memcpy(buf, seeds[k], len + 1);
				if (b == ARRAY_SIZE(bytes))
					n = i; /* prefix */
				else if (i < len)
					buf[i] = bytes[b];
				else
					continue;
				struct skiff_err *err = NULL;
				struct image_ref *r = NULL;
				if (ref_parse_n(buf, n, &r, &err) == 0) {
					assert_null(err);
					cleanup_free char *s = ref_string(r);
					struct image_ref *again = NULL;
					assert_int_equal(ref_parse(s, &again, &err), 0);
					cleanup_free char *s2 = ref_string(again);
					assert_string_equal(s, s2);
					ref_free(again);
					ref_free(r);
				} else {
					assert_null(r);
					assert_non_null(err);
					assert_int_equal(err->status, EINVAL);
					assert_non_null(strstr(err->msg, "invalid reference format: \""));
					err_free(err);
				}
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_table), cmocka_unit_test(test_invalid_table),
		cmocka_unit_test(test_quoting),	    cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_lengths),	    cmocka_unit_test(test_name_only),
		cmocka_unit_test(test_familiar),    cmocka_unit_test(test_looks_like_id),
		cmocka_unit_test(test_match),	    cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
