/* Unit tests for pkg/spec image documents. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/spec/image.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

/* "sha256:" + 64 times c (c a hex digit); rotating static buffers. */
static const char *D(char c)
{
	static char bufs[8][DIGEST_STR_LEN + 1];
	static int n;
	char *b = bufs[n++ % 8];
	memcpy(b, "sha256:", 7);
	memset(b + 7, c, 64);
	b[DIGEST_STR_LEN] = '\0';
	return b;
}

static void check_err(int rc, struct skiff_err **e, const char *want)
{
	if (rc != -1 || !*e || (*e)->status != EINVAL || !strstr((*e)->msg, want)) {
		print_error("rc %d, status %d, message \"%s\", wanted \"%s\"\n", rc, *e ? (*e)->status : 0,
			    *e ? (*e)->msg : "(none)", want);
		fail();
	}
	err_clear(e);
}

#define S(lit) (lit), strlen(lit)

/* ---- media types ---- */

static void test_media_types(void **state)
{
	(void)state;
	assert_true(spec_layer_media_type_known(SPEC_MT_OCI_LAYER));
	assert_true(spec_layer_media_type_known(SPEC_MT_OCI_LAYER_ND_ZSTD));
	assert_true(spec_layer_media_type_known(SPEC_MT_DOCKER_LAYER_GZIP));
	assert_true(spec_layer_media_type_known(SPEC_MT_DOCKER_FOREIGN_LAYER_GZIP));
	assert_false(spec_layer_media_type_known(SPEC_MT_OCI_CONFIG));
	assert_false(spec_layer_media_type_known("application/vnd.oci.image.layer.v1.tar+gzip+encrypted"));
	assert_false(spec_layer_media_type_known(NULL));

	assert_int_equal(spec_layer_compression(SPEC_MT_OCI_LAYER), SPEC_COMPRESSION_NONE);
	assert_int_equal(spec_layer_compression(SPEC_MT_OCI_LAYER_GZIP), SPEC_COMPRESSION_GZIP);
	assert_int_equal(spec_layer_compression(SPEC_MT_OCI_LAYER_ZSTD), SPEC_COMPRESSION_ZSTD);
	assert_int_equal(spec_layer_compression(SPEC_MT_OCI_LAYER_ND_GZIP), SPEC_COMPRESSION_GZIP);
	assert_int_equal(spec_layer_compression(SPEC_MT_DOCKER_LAYER_GZIP), SPEC_COMPRESSION_GZIP);
	assert_int_equal(spec_layer_compression(SPEC_MT_DOCKER_LAYER), SPEC_COMPRESSION_NONE);
	assert_int_equal(spec_layer_compression("text/plain"), SPEC_COMPRESSION_UNKNOWN);

	assert_true(spec_layer_nondistributable(SPEC_MT_OCI_LAYER_ND));
	assert_true(spec_layer_nondistributable(SPEC_MT_DOCKER_FOREIGN_LAYER_GZIP));
	assert_false(spec_layer_nondistributable(SPEC_MT_OCI_LAYER_GZIP));

	assert_string_equal(spec_layer_media_type(SPEC_FORMAT_OCI, SPEC_COMPRESSION_ZSTD), SPEC_MT_OCI_LAYER_ZSTD);
	assert_string_equal(spec_layer_media_type(SPEC_FORMAT_OCI, SPEC_COMPRESSION_NONE), SPEC_MT_OCI_LAYER);
	assert_string_equal(spec_layer_media_type(SPEC_FORMAT_DOCKER, SPEC_COMPRESSION_GZIP),
			    SPEC_MT_DOCKER_LAYER_GZIP);
	assert_null(spec_layer_media_type(SPEC_FORMAT_DOCKER, SPEC_COMPRESSION_ZSTD));

	assert_true(spec_media_type_is_index(SPEC_MT_DOCKER_LIST));
	assert_true(spec_media_type_is_index(SPEC_MT_OCI_INDEX));
	assert_false(spec_media_type_is_index(SPEC_MT_OCI_MANIFEST));
	assert_true(spec_media_type_is_manifest(SPEC_MT_DOCKER_MANIFEST));
	assert_false(spec_media_type_is_manifest(SPEC_MT_DOCKER_SCHEMA1));
	assert_true(spec_media_type_is_config(SPEC_MT_DOCKER_CONFIG));
	assert_int_equal(spec_media_type_format(SPEC_MT_DOCKER_LIST), SPEC_FORMAT_DOCKER);
	assert_int_equal(spec_media_type_format(SPEC_MT_OCI_LAYER_ZSTD), SPEC_FORMAT_OCI);
	assert_int_equal(spec_media_type_format("application/json"), -1);

	assert_true(spec_media_type_valid("application/vnd.oci.image.layer.v1.tar+gzip"));
	assert_true(spec_media_type_valid("application/vnd.cncf.helm.config.v1+json"));
	assert_false(spec_media_type_valid(""));
	assert_false(spec_media_type_valid("application"));
	assert_false(spec_media_type_valid("application/"));
	assert_false(spec_media_type_valid("/json"));
	assert_false(spec_media_type_valid("application/json; charset=utf-8"));
	assert_false(spec_media_type_valid("application/json/x"));
	assert_false(spec_media_type_valid(".app/json"));
	assert_false(spec_media_type_valid(NULL));
}

/* ---- times ---- */

static void test_time_parse(void **state)
{
	struct spec_time t;
	struct skiff_err *e = NULL;
	(void)state;

	assert_int_equal(spec_time_parse("2023-07-18T23:19:33.655005962Z", &t, &e), 0);
	assert_true(t.set);
	assert_int_equal(t.sec, 1689722373);
	assert_int_equal(t.nsec, 655005962);
	assert_int_equal(spec_time_parse("1970-01-01T00:00:00Z", &t, &e), 0);
	assert_int_equal(t.sec, 0);
	assert_int_equal(t.nsec, 0);
	assert_int_equal(spec_time_parse("2000-02-29T12:00:00+01:30", &t, &e), 0);
	assert_int_equal(t.sec, 951825600 - 5400);
	assert_int_equal(spec_time_parse("2000-02-29t12:00:00.5-02:00", &t, &e), 0);
	assert_int_equal(t.sec, 951825600 + 7200);
	assert_int_equal(t.nsec, 500000000);
	assert_int_equal(spec_time_parse("2016-12-31T23:59:59.1234567891234z", &t, &e), 0);
	assert_int_equal(t.sec, 1483228799);
	assert_int_equal(t.nsec, 123456789);
	assert_int_equal(spec_time_parse("0001-01-01T00:00:00Z", &t, &e), 0);
	assert_int_equal(t.sec, -62135596800LL);
	assert_int_equal(spec_time_parse("0000-01-01T00:00:00Z", &t, &e), 0);
	assert_int_equal(t.sec, -62167219200LL);
	assert_int_equal(spec_time_parse("9999-12-31T23:59:59.999999999Z", &t, &e), 0);
	assert_int_equal(t.sec, 253402300799LL);
	assert_null(e);

	static const char *const bad[] = {
		"",
		"2023-07-18",
		"2023-07-18T23:19:33",	/* no zone */
		"2023-07-18 23:19:33Z", /* space */
		"2023-02-29T00:00:00Z", /* not a leap year */
		"1900-02-29T00:00:00Z", /* not a leap year either */
		"2023-04-31T00:00:00Z",
		"2023-13-01T00:00:00Z",
		"2023-00-01T00:00:00Z",
		"2023-01-01T24:00:00Z",
		"2023-01-01T23:60:00Z",
		"2023-01-01T23:59:60Z", /* leap seconds are rejected, as Go does */
		"2023-01-01T00:00:00.Z",
		"2023-01-01T00:00:00+1:00",
		"2023-01-01T00:00:00+24:00",
		"2023-01-01T00:00:00+01:60",
		"2023-01-01T00:00:00Zjunk",
		"+2023-01-01T00:00:00Z",
		"2023-1-01T00:00:00Z",
		"20x3-01-01T00:00:00Z",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		t.set = false;
		check_err(spec_time_parse(bad[i], &t, &e), &e, "invalid RFC 3339 time");
		assert_false(t.set); /* not written on failure */
	}
	check_err(spec_time_parse(NULL, &t, &e), &e, "invalid time");
}

static void expect_format(int64_t sec, int32_t nsec, const char *want)
{
	struct spec_time t = {.sec = sec, .nsec = nsec, .set = true};
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	struct skiff_err *e = NULL;
	assert_int_equal(spec_time_format(&t, &sb, &e), 0);
	assert_string_equal(sb.buf, want);
}

static void test_time_format(void **state)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	struct skiff_err *e = NULL;
	struct spec_time t;
	(void)state;

	expect_format(0, 0, "1970-01-01T00:00:00Z");
	expect_format(1689722373, 655005962, "2023-07-18T23:19:33.655005962Z");
	expect_format(1689722373, 500000000, "2023-07-18T23:19:33.5Z");
	expect_format(1689722373, 120, "2023-07-18T23:19:33.00000012Z");
	expect_format(-1, 0, "1969-12-31T23:59:59Z");
	expect_format(-62135596800LL, 0, "0001-01-01T00:00:00Z");
	expect_format(951782400, 0, "2000-02-29T00:00:00Z");
	expect_format(253402300799LL, 999999999, "9999-12-31T23:59:59.999999999Z");

	t = (struct spec_time){.sec = 253402300800LL, .set = true};
	check_err(spec_time_format(&t, &sb, &e), &e, "year 10000");
	t = (struct spec_time){.sec = INT64_MIN, .set = true};
	check_err(spec_time_format(&t, &sb, &e), &e, "outside 0000-9999");
	t = (struct spec_time){.sec = INT64_MAX, .set = true};
	check_err(spec_time_format(&t, &sb, &e), &e, "outside 0000-9999");
	t = (struct spec_time){.sec = 0, .nsec = 1000000000, .set = true};
	check_err(spec_time_format(&t, &sb, &e), &e, "nanoseconds");
	t = (struct spec_time){0};
	check_err(spec_time_format(&t, &sb, &e), &e, "unset");
	assert_int_equal(sb.len, 0);

	/* Round trip through an offset: formatting is UTC. */
	assert_int_equal(spec_time_parse("2024-03-01T00:30:00.250+01:00", &t, &e), 0);
	assert_int_equal(spec_time_format(&t, &sb, &e), 0);
	assert_string_equal(sb.buf, "2024-02-29T23:30:00.25Z");

	t = spec_time_now();
	assert_true(t.set);
	assert_true(t.sec > 1700000000);
}

/* ---- platform helpers ---- */

static void test_goarch(void **state)
{
	const char *variant = "x";
	(void)state;
#if defined(__x86_64__)
	assert_string_equal(spec_goarch(), "amd64");
	assert_null(spec_goarch_variant());
#elif defined(__aarch64__)
	assert_string_equal(spec_goarch(), "arm64");
	assert_string_equal(spec_goarch_variant(), "v8");
#endif
	assert_string_equal(spec_goos(), "linux");
	assert_string_equal(spec_goarch_from_uname("x86_64", &variant), "amd64");
	assert_null(variant);
	assert_string_equal(spec_goarch_from_uname("aarch64", &variant), "arm64");
	assert_string_equal(variant, "v8");
	assert_string_equal(spec_goarch_from_uname("armv7l", &variant), "arm");
	assert_string_equal(variant, "v7");
	assert_string_equal(spec_goarch_from_uname("armv6l", NULL), "arm");
	assert_string_equal(spec_goarch_from_uname("i686", NULL), "386");
	assert_string_equal(spec_goarch_from_uname("ppc64le", NULL), "ppc64le");
	assert_string_equal(spec_goarch_from_uname("s390x", NULL), "s390x");
	assert_string_equal(spec_goarch_from_uname("riscv64", NULL), "riscv64");
	assert_string_equal(spec_goarch_from_uname("mips64el", NULL), "mips64le");
	assert_string_equal(spec_goarch_from_uname("loongarch64", NULL), "loong64");
	variant = "unchanged";
	assert_null(spec_goarch_from_uname("pdp11", &variant));
	assert_string_equal(variant, "unchanged");
	assert_null(spec_goarch_from_uname(NULL, NULL));
}

static void test_map(void **state)
{
	struct spec_map m = {0}, c = {0};
	(void)state;
	spec_map_set(&m, "b", "1");
	spec_map_set(&m, "a", "2");
	spec_map_set(&m, "b", "3");
	assert_int_equal(m.len, 2);
	assert_string_equal(spec_map_get(&m, "b"), "3");
	assert_string_equal(m.items[0].key, "b"); /* insertion order kept */
	spec_map_copy(&c, &m);
	assert_true(spec_map_remove(&m, "b"));
	assert_false(spec_map_remove(&m, "b"));
	assert_null(spec_map_get(&m, "b"));
	assert_string_equal(spec_map_get(&c, "b"), "3");
	spec_map_release(&m);
	spec_map_release(&c);
	assert_null(m.items);
}

/* ---- detection ---- */

static void test_detect(void **state)
{
	struct skiff_err *e = NULL;
	const char *mt = NULL;
	(void)state;

	assert_int_equal(
		spec_detect_media_type(
			S("{\"schemaVersion\":2,\"mediaType\":\"" SPEC_MT_DOCKER_LIST "\",\"manifests\":[]}"), &mt, &e),
		0);
	assert_string_equal(mt, SPEC_MT_DOCKER_LIST);
	assert_int_equal(spec_detect_media_type(S("{\"schemaVersion\":2,\"config\":{},\"layers\":[]}"), &mt, &e), 0);
	assert_string_equal(mt, SPEC_MT_OCI_MANIFEST);
	assert_int_equal(
		spec_detect_media_type(
			S("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" SPEC_MT_DOCKER_CONFIG "\"}}"), &mt, &e),
		0);
	assert_string_equal(mt, SPEC_MT_DOCKER_MANIFEST);
	assert_int_equal(spec_detect_media_type(S("{\"schemaVersion\":2,\"manifests\":[]}"), &mt, &e), 0);
	assert_string_equal(mt, SPEC_MT_OCI_INDEX);
	assert_int_equal(spec_detect_media_type(S("{\"schemaVersion\":1,\"fsLayers\":[]}"), &mt, &e), 0);
	assert_string_equal(mt, SPEC_MT_DOCKER_SCHEMA1);
	assert_int_equal(spec_detect_media_type(S("{\"schemaVersion\":1,\"signatures\":[]}"), &mt, &e), 0);
	assert_string_equal(mt, SPEC_MT_DOCKER_SCHEMA1_SIGNED);
	assert_int_equal(spec_detect_media_type(S("{\"mediaType\":\"" SPEC_MT_OCI_MANIFEST "\"}"), &mt, &e), 0);
	assert_string_equal(mt, SPEC_MT_OCI_MANIFEST);
	assert_null(e);

	mt = NULL;
	check_err(spec_detect_media_type(S("{\"schemaVersion\":2,\"mediaType\":\"text/html\"}"), &mt, &e), &e,
		  "unsupported mediaType \"text/html\"");
	check_err(spec_detect_media_type(S("{\"mediaType\":\"" SPEC_MT_OCI_MANIFEST "\\u0000x\"}"), &mt, &e), &e,
		  "unsupported mediaType");
	check_err(spec_detect_media_type(S("{\"mediaType\":7}"), &mt, &e), &e, "mediaType: expected a string");
	check_err(spec_detect_media_type(S("[1,2]"), &mt, &e), &e, "expected an object, got array");
	check_err(spec_detect_media_type(S("{\"schemaVersion\":2"), &mt, &e), &e, "invalid JSON");
	check_err(spec_detect_media_type(S("{\"schemaVersion\":2}"), &mt, &e), &e, "neither config");
	check_err(spec_detect_media_type(S("{\"schemaVersion\":\"2\",\"layers\":[]}"), &mt, &e), &e,
		  "no schemaVersion 2");
	check_err(spec_detect_media_type(S(""), &mt, &e), &e, "JSON");
	assert_null(mt);
}

/* ---- manifests ---- */

static char *oci_manifest_json(void)
{
	return xasprintf("{\"schemaVersion\":2,\"mediaType\":\"" SPEC_MT_OCI_MANIFEST "\","
			 "\"config\":{\"mediaType\":\"" SPEC_MT_OCI_CONFIG "\",\"digest\":\"%s\",\"size\":1470},"
			 "\"layers\":[{\"mediaType\":\"" SPEC_MT_OCI_LAYER_GZIP "\",\"digest\":\"%s\",\"size\":2},"
			 "{\"mediaType\":\"" SPEC_MT_OCI_LAYER_ZSTD "\",\"digest\":\"%s\",\"size\":0,"
			 "\"urls\":[\"https://example.com/l\"],\"annotations\":{\"k\":\"v\"},\"future\":1}],"
			 "\"subject\":{\"mediaType\":\"" SPEC_MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":9},"
			 "\"annotations\":{\"org.opencontainers.image.created\":\"2024-01-01T00:00:00Z\"},"
			 "\"unknown\":{\"x\":[1,2,3]}}",
			 D('c'), D('1'), D('2'), D('f'));
}

static void test_manifest_parse_oci(void **state)
{
	cleanup_free char *doc = oci_manifest_json();
	cleanup_spec_manifest struct spec_manifest *m = NULL;
	struct skiff_err *e = NULL;
	char want[DIGEST_STR_LEN + 1];
	const char *mt;
	(void)state;

	assert_int_equal(spec_detect_media_type(doc, strlen(doc), &mt, &e), 0);
	assert_string_equal(mt, SPEC_MT_OCI_MANIFEST);
	assert_int_equal(spec_manifest_parse(doc, strlen(doc), &m, &e), 0);
	assert_null(e);
	assert_int_equal(spec_manifest_format(m), SPEC_FORMAT_OCI);
	assert_string_equal(m->config.digest, D('c'));
	assert_int_equal(m->config.size, 1470);
	assert_int_equal(m->layers.len, 2);
	assert_string_equal(m->layers.v[0].media_type, SPEC_MT_OCI_LAYER_GZIP);
	assert_int_equal(spec_layer_compression(m->layers.v[1].media_type), SPEC_COMPRESSION_ZSTD);
	assert_int_equal(m->layers.v[1].size, 0);
	assert_string_equal(m->layers.v[1].urls.v[0], "https://example.com/l");
	assert_string_equal(spec_map_get(&m->layers.v[1].annotations, "k"), "v");
	assert_non_null(m->subject);
	assert_string_equal(m->subject->digest, D('f'));
	assert_string_equal(spec_map_get(&m->annotations, SPEC_ANNOTATION_CREATED), "2024-01-01T00:00:00Z");
	/* DOM kept with unknown fields; digest is of the input bytes. */
	assert_non_null(json_get_path(m->dom, "unknown", "x", NULL));
	digest_buf(doc, strlen(doc), want);
	assert_string_equal(m->digest, want);
	assert_int_equal(spec_manifest_validate_image(m, &e), 0);
}

static void test_manifest_parse_docker(void **state)
{
	cleanup_free char *doc = xasprintf(
		"{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"" SPEC_MT_DOCKER_MANIFEST "\",\n"
		"   \"config\": {\"mediaType\": \"" SPEC_MT_DOCKER_CONFIG "\", \"size\": 1457, \"digest\": \"%s\"},\n"
		"   \"layers\": [{\"mediaType\": \"" SPEC_MT_DOCKER_LAYER_GZIP
		"\", \"size\": 2591575, \"digest\": \"%s\"},"
		"{\"mediaType\": \"" SPEC_MT_DOCKER_FOREIGN_LAYER_GZIP "\", \"size\": 5, \"digest\": \"%s\","
		"\"urls\": [\"https://mcr.example/x\"]}]\n}",
		D('a'), D('b'), D('d'));
	cleanup_spec_manifest struct spec_manifest *m = NULL;
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	struct skiff_err *e = NULL;
	(void)state;

	assert_int_equal(spec_manifest_parse(doc, strlen(doc), &m, &e), 0);
	assert_int_equal(spec_manifest_format(m), SPEC_FORMAT_DOCKER);
	assert_int_equal(m->layers.v[0].size, 2591575);
	assert_true(spec_layer_nondistributable(m->layers.v[1].media_type));
	assert_int_equal(spec_manifest_validate_image(m, &e), 0);
	/* Regenerated in Docker's key order: mediaType, size, digest. */
	assert_int_equal(spec_manifest_generate(m, &out, NULL, &e), 0);
	cleanup_free char *want = xasprintf(
		"{\"schemaVersion\":2,\"mediaType\":\"" SPEC_MT_DOCKER_MANIFEST "\","
		"\"config\":{\"mediaType\":\"" SPEC_MT_DOCKER_CONFIG "\",\"size\":1457,\"digest\":\"%s\"},"
		"\"layers\":[{\"mediaType\":\"" SPEC_MT_DOCKER_LAYER_GZIP "\",\"size\":2591575,\"digest\":\"%s\"},"
		"{\"mediaType\":\"" SPEC_MT_DOCKER_FOREIGN_LAYER_GZIP "\",\"size\":5,\"digest\":\"%s\","
		"\"urls\":[\"https://mcr.example/x\"]}]}",
		D('a'), D('b'), D('d'));
	assert_string_equal(out.buf, want);
}

static void test_manifest_no_media_type(void **state)
{
	cleanup_free char *doc =
		xasprintf("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.acme.rocket.config\","
			  "\"digest\":\"%s\",\"size\":2},\"artifactType\":\"application/vnd.acme.rocket\"}",
			  D('e'));
	cleanup_spec_manifest struct spec_manifest *m = NULL;
	struct skiff_err *e = NULL;
	(void)state;

	assert_int_equal(spec_manifest_parse(doc, strlen(doc), &m, &e), 0);
	assert_string_equal(m->media_type, SPEC_MT_OCI_MANIFEST);
	assert_string_equal(m->artifact_type, "application/vnd.acme.rocket");
	assert_int_equal(m->layers.len, 0);
	/* An artifact is not a runnable image. */
	check_err(spec_manifest_validate_image(m, &e), &e,
		  "not an image: config mediaType application/vnd.acme.rocket.config");
}

struct bad_case {
	const char *doc; /* "%s" placeholders get valid digests */
	const char *want;
};

#define CFG "\"config\":{\"mediaType\":\"" SPEC_MT_OCI_CONFIG "\",\"digest\":\"%1$s\",\"size\":1}"
#define LAYER(x) "{\"mediaType\":\"" SPEC_MT_OCI_LAYER_GZIP "\",\"digest\":\"%1$s\",\"size\":" x "}"

static const struct bad_case bad_manifests[] = {
	{"{\"schemaVersion\":1," CFG "}", "manifest: schemaVersion: Docker schema1"},
	{"{\"schemaVersion\":3," CFG "}", "manifest: schemaVersion: unsupported version 3"},
	{"{\"schemaVersion\":\"2\"," CFG "}", "manifest: schemaVersion: expected an integer, got string"},
	{"{\"schemaVersion\":2.0," CFG "}", "manifest: schemaVersion: expected an integer, got 2"},
	{"{\"schemaVersion\":1e400," CFG "}", "schemaVersion: expected an integer"},
	{"{" CFG "}", "manifest: schemaVersion: missing"},
	{"{\"schemaVersion\":2}", "manifest: config: missing"},
	{"{\"schemaVersion\":2,\"config\":null}", "manifest: config: missing"},
	{"{\"schemaVersion\":2,\"config\":[]}", "manifest: config: expected an object, got array"},
	{"{\"schemaVersion\":2,\"mediaType\":\"" SPEC_MT_OCI_INDEX "\"," CFG "}",
	 "is not an image manifest type (it is an index)"},
	{"{\"schemaVersion\":2,\"mediaType\":\"text/plain\"," CFG "}",
	 "mediaType: text/plain is not an image manifest type"},
	{"{\"schemaVersion\":2,\"mediaType\":\"not a type\"," CFG "}", "mediaType: invalid media type \"not a type\""},
	{"{\"schemaVersion\":2,\"mediaType\":42," CFG "}", "mediaType: expected a string, got number"},
	{"{\"schemaVersion\":2,\"manifests\":[]}", "an index"},
	{"{\"schemaVersion\":2,\"config\":{\"digest\":\"%1$s\",\"size\":1}}", "config: mediaType: missing"},
	{"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" SPEC_MT_OCI_CONFIG "\",\"size\":1}}",
	 "config: digest: missing"},
	{"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" SPEC_MT_OCI_CONFIG "\",\"digest\":\"%1$s\"}}",
	 "config: size: missing"},
	{"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" SPEC_MT_OCI_CONFIG
	 "\",\"digest\":\"sha256:abc\",\"size\":1}}",
	 "config: digest: invalid digest sha256:abc"},
	{"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" SPEC_MT_OCI_CONFIG
	 "\",\"digest\":\"md5:abc\",\"size\":1}}",
	 "config: digest: unsupported digest algorithm in md5:abc"},
	{"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" SPEC_MT_OCI_CONFIG
	 "\",\"digest\":\"%1$s\\u0000\",\"size\":1}}",
	 "config: digest: string contains a NUL byte"},
	{"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" SPEC_MT_OCI_CONFIG
	 "\",\"digest\":\"sha256:\\u0000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"size\":1}}",
	 "config: digest: string contains a NUL byte"},
	{"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" SPEC_MT_OCI_CONFIG "\",\"digest\":7,\"size\":1}}",
	 "config: digest: expected a string, got number"},
	{"{\"schemaVersion\":2," CFG ",\"layers\":{}}", "manifest: layers: expected an array, got object"},
	{"{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER("1") ",\"x\"]}",
	 "manifest: layers[1]: expected an object, got string"},
	{"{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER("-1") "]}",
	 "manifest: layers[0]: size: must be >= 0, got -1"},
	{"{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER("1.5") "]}",
	 "layers[0]: size: expected an integer, got 1.5"},
	{"{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER("1e400") "]}", "layers[0]: size: expected an integer"},
	{"{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER("99999999999999999999") "]}",
	 "layers[0]: size: expected an integer"},
	{"{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER("\"12\"") "]}",
	 "layers[0]: size: expected an integer, got string"},
	{"{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER("true") "]}",
	 "layers[0]: size: expected an integer, got boolean"},
	{"{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":\"\",\"digest\":\"%1$s\",\"size\":1}]}",
	 "layers[0]: mediaType: invalid media type \"\""},
	{"{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":\"" SPEC_MT_OCI_LAYER
	 "\",\"digest\":\"%1$s\",\"size\":1,\"urls\":\"x\"}]}",
	 "layers[0]: urls: expected an array of strings, got string"},
	{"{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":\"" SPEC_MT_OCI_LAYER
	 "\",\"digest\":\"%1$s\",\"size\":1,\"urls\":[1]}]}",
	 "layers[0]: urls[0]: expected a string, got number"},
	{"{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":\"" SPEC_MT_OCI_LAYER
	 "\",\"digest\":\"%1$s\",\"size\":1,\"annotations\":{\"a\":1}}]}",
	 "layers[0]: annotations: \"a\": expected a string, got number"},
	{"{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":\"" SPEC_MT_OCI_LAYER
	 "\",\"digest\":\"%1$s\",\"size\":1,\"annotations\":[]}]}",
	 "layers[0]: annotations: expected an object of strings, got array"},
	{"{\"schemaVersion\":2," CFG ",\"annotations\":{\"a\":\"x\\u0000y\"}}",
	 "manifest: annotations: \"a\": string contains a NUL byte"},
	{"{\"schemaVersion\":2," CFG ",\"subject\":{\"mediaType\":\"" SPEC_MT_OCI_MANIFEST
	 "\",\"digest\":\"sha256:\",\"size\":1}}",
	 "manifest: subject: digest: invalid digest"},
	{"{\"schemaVersion\":2," CFG ",\"artifactType\":\"nope\"}",
	 "manifest: artifactType: invalid media type \"nope\""},
	{"{\"schemaVersion\":2,", "manifest: invalid JSON"},
	{"{\"schemaVersion\":2," CFG "} trailing", "manifest: invalid JSON"},
	{"", "manifest: invalid JSON"},
	{"null", "manifest: expected an object, got null"},
	{"\"manifest\"", "manifest: expected an object, got string"},
	{"[]", "manifest: expected an object, got array"},
};

static void test_manifest_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_manifests); i++) {
		cleanup_free char *doc = NULL;
		struct spec_manifest *m = NULL;
		struct skiff_err *e = NULL;
		/* Go-style positional %1$s: every placeholder gets the same valid digest. */
		doc = xasprintf(bad_manifests[i].doc, D('7'));
		check_err(spec_manifest_parse(doc, strlen(doc), &m, &e), &e, bad_manifests[i].want);
		assert_null(m);
	}
}

static void test_manifest_hostile(void **state)
{
	struct skiff_err *e = NULL;
	struct spec_manifest *m = NULL;
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	(void)state;

	/* Deep nesting: the JSON parser's depth limit answers, without recursion trouble. */
	strbuf_addstr(&sb, "{\"schemaVersion\":2,\"x\":");
	for (int i = 0; i < 100000; i++)
		strbuf_addch(&sb, '[');
	check_err(spec_manifest_parse(sb.buf, sb.len, &m, &e), &e, "nesting too deep");
	assert_null(m);

	/* A long digest is cut in the message. */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"size\":1,\"digest\":\"sha256:");
	strbuf_addchars(&sb, 'a', 100000);
	strbuf_addstr(&sb, "\"}}");
	check_err(spec_manifest_parse(sb.buf, sb.len, &m, &e), &e, "config: digest: invalid digest \"sha256:aaa");

	/* Truncated at every byte: an error every time, never a crash. */
	cleanup_free char *doc = oci_manifest_json();
	size_t n = strlen(doc);
	for (size_t cut = 0; cut < n; cut++) {
		if (spec_manifest_parse(doc, cut, &m, &e) == 0) {
			print_error("truncated at %zu parsed\n", cut);
			fail();
		}
		assert_null(m);
		assert_non_null(e);
		err_clear(&e);
	}

	/* Uppercase hex and bad lengths in digests. */
	for (int k = 0; k < 3; k++) {
		static const char *const digs[] = {
			"sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		};
		cleanup_free char *d = xasprintf("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"size\":1,"
						 "\"digest\":\"%s\"}}",
						 digs[k]);
		check_err(spec_manifest_parse(d, strlen(d), &m, &e), &e, "invalid digest");
	}
}

static void test_manifest_many_layers(void **state)
{
	cleanup_spec_manifest struct spec_manifest *m = spec_manifest_new(SPEC_FORMAT_OCI);
	cleanup_spec_manifest struct spec_manifest *p = NULL;
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	cleanup_strbuf struct strbuf again = STRBUF_INIT;
	char dg[DIGEST_STR_LEN + 1], dg2[DIGEST_STR_LEN + 1];
	struct skiff_err *e = NULL;
	(void)state;

	assert_int_equal(spec_descriptor_set(&m->config, m->config.media_type, D('0'), 10, &e), 0);
	for (int i = 0; i < 10000; i++) {
		char d[DIGEST_STR_LEN + 1];
		char num[16];
		snprintf(num, sizeof(num), "%d", i);
		digest_buf(num, strlen(num), d);
		assert_int_equal(spec_manifest_add_layer(m, SPEC_MT_OCI_LAYER_GZIP, d, i, &e), 0);
	}
	assert_int_equal(spec_manifest_generate(m, &out, dg, &e), 0);
	assert_int_equal(spec_manifest_parse(out.buf, out.len, &p, &e), 0);
	assert_int_equal(p->layers.len, 10000);
	assert_int_equal(p->layers.v[9999].size, 9999);
	assert_string_equal(p->digest, dg);
	assert_int_equal(spec_manifest_generate(p, &again, dg2, &e), 0);
	assert_string_equal(out.buf, again.buf); /* generation is a fixed point */
	assert_string_equal(dg, dg2);
}

static void test_manifest_build(void **state)
{
	cleanup_spec_manifest struct spec_manifest *m = spec_manifest_new(SPEC_FORMAT_OCI);
	cleanup_spec_manifest struct spec_manifest *dm = spec_manifest_new(SPEC_FORMAT_DOCKER);
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	char dg[DIGEST_STR_LEN + 1], want_dg[DIGEST_STR_LEN + 1];
	struct skiff_err *e = NULL;
	(void)state;

	/* Invalid input to the builders is refused and leaves m unchanged. */
	check_err(spec_manifest_add_layer(m, SPEC_MT_OCI_LAYER, "sha256:zz", 1, &e), &e, "invalid digest sha256:zz");
	check_err(spec_manifest_add_layer(m, SPEC_MT_OCI_LAYER, D('1'), -5, &e), &e, "invalid size -5");
	check_err(spec_manifest_add_layer(m, "bogus", D('1'), 5, &e), &e, "invalid media type \"bogus\"");
	assert_int_equal(m->layers.len, 0);
	/* The config descriptor has no digest yet. */
	check_err(spec_manifest_generate(m, &out, NULL, &e), &e, "manifest: config: digest: missing digest");
	assert_int_equal(out.len, 0);

	assert_int_equal(spec_descriptor_set(&m->config, m->config.media_type, D('c'), 321, &e), 0);
	assert_int_equal(spec_manifest_add_layer(m, SPEC_MT_OCI_LAYER_GZIP, D('1'), 100, &e), 0);
	spec_map_set(&m->annotations, "z", "1");
	spec_map_set(&m->annotations, "a<b>&", "2");
	assert_int_equal(spec_manifest_generate(m, &out, dg, &e), 0);
	cleanup_free char *want =
		xasprintf("{\"schemaVersion\":2,\"mediaType\":\"" SPEC_MT_OCI_MANIFEST "\","
			  "\"config\":{\"mediaType\":\"" SPEC_MT_OCI_CONFIG "\",\"digest\":\"%s\",\"size\":321},"
			  "\"layers\":[{\"mediaType\":\"" SPEC_MT_OCI_LAYER_GZIP "\",\"digest\":\"%s\",\"size\":100}],"
			  "\"annotations\":{\"a\\u003cb\\u003e\\u0026\":\"2\",\"z\":\"1\"}}",
			  D('c'), D('1'));
	assert_string_equal(out.buf, want);
	digest_buf(want, strlen(want), want_dg);
	assert_string_equal(dg, want_dg);

	/* Docker schema2 cannot carry annotations. */
	assert_int_equal(spec_descriptor_set(&dm->config, dm->config.media_type, D('c'), 1, &e), 0);
	spec_map_set(&dm->annotations, "a", "b");
	strbuf_reset(&out);
	check_err(spec_manifest_generate(dm, &out, NULL, &e), &e, "annotations: Docker schema2 has no");
	spec_map_release(&dm->annotations);
	assert_int_equal(spec_manifest_generate(dm, &out, NULL, &e), 0);
	assert_non_null(strstr(out.buf, "\"layers\":[]"));
}

/* ---- indexes ---- */

static void test_index(void **state)
{
	cleanup_free char *doc =
		xasprintf("{\"schemaVersion\":2,\"mediaType\":\"" SPEC_MT_OCI_INDEX "\",\"manifests\":["
			  "{\"mediaType\":\"" SPEC_MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":7143,"
			  "\"platform\":{\"architecture\":\"ppc64le\",\"os\":\"linux\"}},"
			  "{\"mediaType\":\"" SPEC_MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":7682,"
			  "\"annotations\":{\"" SPEC_ANNOTATION_REF_NAME "\":\"v1\"},"
			  "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\","
			  "\"os.version\":\"10\",\"os.features\":[\"sse4\"]}}],"
			  "\"annotations\":{\"com.example.key1\":\"value1\"}}",
			  D('1'), D('2'));
	cleanup_spec_index struct spec_index *idx = NULL;
	cleanup_spec_index struct spec_index *again = NULL;
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	struct skiff_err *e = NULL;
	const struct spec_descriptor *d;
	char dg[DIGEST_STR_LEN + 1];
	(void)state;

	assert_int_equal(spec_index_parse(doc, strlen(doc), &idx, &e), 0);
	assert_int_equal(spec_index_format(idx), SPEC_FORMAT_OCI);
	assert_int_equal(idx->manifests.len, 2);
	assert_string_equal(idx->manifests.v[0].platform->architecture, "ppc64le");
	assert_string_equal(idx->manifests.v[1].platform->variant, "v7");
	assert_string_equal(idx->manifests.v[1].platform->os_features.v[0], "sse4");
	d = spec_index_find_ref(idx, "v1");
	assert_non_null(d);
	assert_string_equal(d->digest, D('2'));
	assert_null(spec_index_find_ref(idx, "v2"));
	/* Regenerating a document written in spec order gives the same bytes back. */
	assert_int_equal(spec_index_generate(idx, &out, dg, &e), 0);
	cleanup_free char *canon =
		xasprintf("{\"schemaVersion\":2,\"mediaType\":\"" SPEC_MT_OCI_INDEX "\",\"manifests\":["
			  "{\"mediaType\":\"" SPEC_MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":7143,"
			  "\"platform\":{\"architecture\":\"ppc64le\",\"os\":\"linux\"}},"
			  "{\"mediaType\":\"" SPEC_MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":7682,"
			  "\"annotations\":{\"" SPEC_ANNOTATION_REF_NAME "\":\"v1\"},"
			  "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"os.version\":\"10\","
			  "\"os.features\":[\"sse4\"],\"variant\":\"v7\"}}],"
			  "\"annotations\":{\"com.example.key1\":\"value1\"}}",
			  D('1'), D('2'));
	assert_string_equal(out.buf, canon);
	assert_int_equal(spec_index_parse(out.buf, out.len, &again, &e), 0);
	assert_string_equal(again->digest, dg);
}

static void test_index_build_docker(void **state)
{
	cleanup_spec_index struct spec_index *idx = spec_index_new(SPEC_FORMAT_DOCKER);
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	struct spec_platform *p = spec_platform_new("arm64", "linux", "v8");
	struct spec_platform bad = {.architecture = (char *)"amd64"};
	struct skiff_err *e = NULL;
	struct spec_descriptor *d;
	(void)state;

	d = spec_index_add(idx, SPEC_MT_DOCKER_MANIFEST, D('3'), 525, p, &e);
	assert_non_null(d);
	spec_platform_free(p);
	assert_null(spec_index_add(idx, SPEC_MT_DOCKER_MANIFEST, "sha256:nope", 1, NULL, &e));
	check_err(-1, &e, "invalid digest sha256:nope");
	assert_null(spec_index_add(idx, SPEC_MT_DOCKER_MANIFEST, D('4'), 1, &bad, &e));
	check_err(-1, &e, "platform needs architecture and os");
	assert_int_equal(idx->manifests.len, 1);
	assert_int_equal(spec_index_generate(idx, &out, NULL, &e), 0);
	cleanup_free char *want =
		xasprintf("{\"schemaVersion\":2,\"mediaType\":\"" SPEC_MT_DOCKER_LIST "\",\"manifests\":["
			  "{\"mediaType\":\"" SPEC_MT_DOCKER_MANIFEST "\",\"size\":525,\"digest\":\"%s\","
			  "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}]}",
			  D('3'));
	assert_string_equal(out.buf, want);
}

static void test_descriptor_ops(void **state)
{
	cleanup_spec_index struct spec_index *idx = spec_index_new(SPEC_FORMAT_OCI);
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	struct spec_descriptor copy;
	struct spec_descriptor *d;
	struct skiff_err *e = NULL;
	(void)state;

	d = spec_index_add(idx, SPEC_MT_OCI_MANIFEST, D('1'), 10, NULL, &e);
	assert_non_null(d);
	spec_map_set(&d->annotations, SPEC_ANNOTATION_REF_NAME, "latest");
	strv_push(&d->urls, "https://example.com/m");
	d->platform = spec_platform_new("amd64", "linux", NULL);
	strv_push(&d->platform->os_features, "win32k");
	spec_descriptor_copy(&copy, d);
	/* Setting a descriptor from its own strings is safe. */
	assert_int_equal(spec_descriptor_set(&copy, copy.media_type, copy.digest, 11, &e), 0);
	assert_string_equal(copy.digest, D('1'));
	assert_int_equal(copy.size, 11);
	assert_string_equal(copy.platform->os_features.v[0], "win32k");
	assert_int_equal(spec_descriptor_check(&copy, &e), 0);
	free(copy.platform->os);
	copy.platform->os = NULL;
	check_err(spec_descriptor_check(&copy, &e), &e, "platform: os: missing");
	copy.size = -1;
	check_err(spec_descriptor_check(&copy, &e), &e, "size: must be >= 0, got -1");
	spec_descriptor_release(&copy);
	assert_null(copy.digest);

	assert_non_null(spec_index_find_ref(idx, "latest"));
	assert_int_equal(spec_index_generate(idx, &out, NULL, &e), 0);
	cleanup_free char *want = xasprintf(
		"{\"schemaVersion\":2,\"mediaType\":\"" SPEC_MT_OCI_INDEX "\",\"manifests\":["
		"{\"mediaType\":\"" SPEC_MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":10,"
		"\"urls\":[\"https://example.com/m\"],\"annotations\":{\"" SPEC_ANNOTATION_REF_NAME "\":\"latest\"},"
		"\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\",\"os.features\":[\"win32k\"]}}]}",
		D('1'));
	assert_string_equal(out.buf, want);
}

static const struct bad_case bad_indexes[] = {
	{"{\"schemaVersion\":2}", "index: manifests: missing"},
	{"{\"schemaVersion\":2,\"manifests\":{}}", "index: manifests: expected an array, got object"},
	{"{\"schemaVersion\":2,\"mediaType\":\"" SPEC_MT_DOCKER_MANIFEST "\",\"manifests\":[]}",
	 "is not an index type (it is a manifest)"},
	{"{\"schemaVersion\":2,\"config\":{},\"manifests\":[]}", "a manifest"},
	{"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" SPEC_MT_OCI_MANIFEST
	 "\",\"digest\":\"%1$s\",\"size\":1,"
	 "\"platform\":{\"os\":\"linux\"}}]}",
	 "index: manifests[0]: platform: architecture: missing"},
	{"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" SPEC_MT_OCI_MANIFEST
	 "\",\"digest\":\"%1$s\",\"size\":1,"
	 "\"platform\":{\"os\":\"linux\",\"architecture\":\"\"}}]}",
	 "index: manifests[0]: platform: architecture: empty"},
	{"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" SPEC_MT_OCI_MANIFEST
	 "\",\"digest\":\"%1$s\",\"size\":1,"
	 "\"platform\":\"linux/amd64\"}]}",
	 "index: manifests[0]: platform: expected an object, got string"},
	{"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" SPEC_MT_OCI_MANIFEST
	 "\",\"digest\":\"%1$s\",\"size\":1,"
	 "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\",\"os.features\":[null]}}]}",
	 "platform: os.features[0]: expected a string, got null"},
	{"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" SPEC_MT_OCI_MANIFEST
	 "\",\"digest\":\"%1$s\",\"size\":-9}]}",
	 "index: manifests[0]: size: must be >= 0, got -9"},
	{"{\"schemaVersion\":0,\"manifests\":[]}", "index: schemaVersion: unsupported version 0"},
};

static void test_index_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_indexes); i++) {
		cleanup_free char *doc = xasprintf(bad_indexes[i].doc, D('8'));
		struct spec_index *idx = NULL;
		struct skiff_err *e = NULL;
		check_err(spec_index_parse(doc, strlen(doc), &idx, &e), &e, bad_indexes[i].want);
		assert_null(idx);
	}
}

/* ---- image configs ---- */

static char *docker_config_json(void)
{
	return xasprintf(
		"{\"architecture\":\"amd64\",\"config\":{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"nobody\","
		"\"AttachStdin\":false,\"Tty\":false,\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{}},"
		"\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"A=b=c\"],"
		"\"Cmd\":\"sh\",\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"true\"],\"Interval\":30000000000,"
		"\"Retries\":3},\"Image\":\"%s\",\"Volumes\":null,\"WorkingDir\":\"/w\",\"Entrypoint\":null,"
		"\"OnBuild\":[\"RUN x\"],\"Labels\":{\"maintainer\":\"me\"},\"StopSignal\":\"SIGQUIT\","
		"\"Shell\":[\"/bin/bash\",\"-c\"],\"ArgsEscaped\":true},"
		"\"container\":\"3d2d\",\"container_config\":{\"Cmd\":[\"/bin/sh\",\"-c\",\"#(nop) \",\"CMD "
		"[\\\"sh\\\"]\"]},"
		"\"created\":\"2023-07-18T23:19:33.655005962Z\",\"docker_version\":\"20.10.23\","
		"\"history\":[{\"created\":\"2023-07-18T23:19:33.538571854Z\",\"created_by\":\"/bin/sh -c #(nop) ADD "
		"file:x in / \"},"
		"{\"created\":\"2023-07-18T23:19:33.655005962Z\",\"created_by\":\"/bin/sh -c #(nop)  CMD "
		"[\\\"sh\\\"]\","
		"\"empty_layer\":true},{\"created\":\"0001-01-01T00:00:00Z\",\"comment\":\"c\",\"author\":\"a\"}],"
		"\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]}}",
		D('9'), D('a'), D('b'));
}

static void test_config_parse_docker(void **state)
{
	cleanup_free char *doc = docker_config_json();
	cleanup_spec_image_config struct spec_image_config *c = NULL;
	struct skiff_err *e = NULL;
	(void)state;

	assert_int_equal(spec_image_config_parse(doc, strlen(doc), &c, &e), 0);
	assert_string_equal(c->architecture, "amd64");
	assert_string_equal(c->os, "linux");
	assert_int_equal(c->created.sec, 1689722373);
	assert_int_equal(c->created.nsec, 655005962);
	assert_string_equal(c->config.user, "nobody");
	assert_int_equal(c->config.exposed_ports.len, 2);
	assert_true(strv_contains(&c->config.exposed_ports, "53/udp"));
	assert_string_equal(c->config.env.v[1], "A=b=c");
	assert_int_equal(c->config.cmd.len, 1); /* strslice: a string is one argument */
	assert_string_equal(c->config.cmd.v[0], "sh");
	assert_int_equal(c->config.entrypoint.len, 0);
	assert_int_equal(c->config.volumes.len, 0);
	assert_string_equal(c->config.working_dir, "/w");
	assert_string_equal(spec_map_get(&c->config.labels, "maintainer"), "me");
	assert_string_equal(c->config.stop_signal, "SIGQUIT");
	assert_true(c->config.args_escaped);
	assert_non_null(c->config.healthcheck);
	assert_int_equal(c->config.healthcheck->interval, 30000000000LL);
	assert_int_equal(c->config.healthcheck->retries, 3);
	assert_string_equal(c->config.healthcheck->test.v[0], "CMD-SHELL");
	assert_string_equal(c->config.on_build.v[0], "RUN x");
	assert_string_equal(c->config.shell.v[1], "-c");
	assert_int_equal(c->diff_ids.len, 2);
	assert_string_equal(c->diff_ids.v[1], D('b'));
	assert_int_equal(c->n_history, 3);
	assert_true(c->history[1].empty_layer);
	assert_int_equal(c->history[2].created.sec, -62135596800LL);
	assert_string_equal(c->history[2].author, "a");
	assert_int_equal(spec_image_config_layer_history(c), 2);
	/* Unknown fields are kept, at both levels; the DOM is the document. */
	assert_string_equal(json_object_get_string(c->extra, "docker_version"), "20.10.23");
	assert_non_null(json_object_get(c->extra, "container_config"));
	assert_null(json_object_get(c->extra, "rootfs"));
	assert_non_null(json_object_get(c->config.extra, "Hostname"));
	assert_null(json_object_get(c->config.extra, "User"));
	assert_string_equal(json_object_get_string(c->dom, "container"), "3d2d");
}

static void test_config_roundtrip_extra(void **state)
{
	cleanup_free char *doc = docker_config_json();
	cleanup_spec_image_config struct spec_image_config *c = NULL;
	cleanup_spec_image_config struct spec_image_config *c2 = NULL;
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	cleanup_strbuf struct strbuf out2 = STRBUF_INIT;
	struct skiff_err *e = NULL;
	(void)state;

	assert_int_equal(spec_image_config_parse(doc, strlen(doc), &c, &e), 0);
	assert_int_equal(spec_image_config_generate(c, &out, NULL, &e), 0);
	assert_int_equal(spec_image_config_parse(out.buf, out.len, &c2, &e), 0);
	assert_string_equal(json_object_get_string(c2->extra, "docker_version"), "20.10.23");
	assert_string_equal(json_object_get_string(c2->config.extra, "Image"), D('9'));
	assert_int_equal(c2->n_history, 3);
	assert_int_equal(c2->created.nsec, 655005962);
	assert_int_equal(spec_image_config_generate(c2, &out2, NULL, &e), 0);
	assert_string_equal(out.buf, out2.buf);
	/* Known keys in spec order, then the unknown ones. */
	const char *arch = strstr(out.buf, "\"architecture\"");
	const char *cfg = strstr(out.buf, "\"config\"");
	const char *rootfs = strstr(out.buf, "\"rootfs\"");
	const char *dv = strstr(out.buf, "\"docker_version\"");
	assert_true(out.buf + 1 == strstr(out.buf, "\"created\""));
	assert_true(arch && cfg && rootfs && dv && arch < cfg && cfg < rootfs && rootfs < dv);
	/* Sets are written sorted, as Go writes maps. */
	assert_non_null(strstr(out.buf, "\"ExposedPorts\":{\"53/udp\":{},\"80/tcp\":{}}"));

	/* Dropping extra drops the unknown keys. */
	json_free(c2->extra);
	c2->extra = NULL;
	strbuf_reset(&out2);
	assert_int_equal(spec_image_config_generate(c2, &out2, NULL, &e), 0);
	assert_null(strstr(out2.buf, "docker_version"));
}

static void test_config_import(void **state)
{
	cleanup_spec_image_config struct spec_image_config *c = spec_image_config_new();
	cleanup_spec_manifest struct spec_manifest *m = spec_manifest_new(SPEC_FORMAT_OCI);
	cleanup_spec_image_config struct spec_image_config *pc = NULL;
	cleanup_spec_manifest struct spec_manifest *pm = NULL;
	cleanup_strbuf struct strbuf cfg = STRBUF_INIT;
	cleanup_strbuf struct strbuf man = STRBUF_INIT;
	char cfg_dg[DIGEST_STR_LEN + 1], man_dg[DIGEST_STR_LEN + 1], want_dg[DIGEST_STR_LEN + 1];
	struct skiff_err *e = NULL;
	const char *mt;
	(void)state;

	free(c->architecture);
	c->architecture = xstrdup("amd64");
	free(c->variant);
	c->variant = NULL;
	c->created = (struct spec_time){.sec = 1700000000, .nsec = 120000000, .set = true};
	check_err(spec_image_config_add_diff_id(c, "sha256:xyz", &e), &e, "image config: diff_id: invalid digest");
	assert_int_equal(spec_image_config_add_diff_id(c, D('d'), &e), 0);
	spec_image_config_add_history(c, &(struct spec_history){.created = c->created,
								.created_by = (char *)"skiff import",
								.comment = (char *)"imported from tarball"});
	strv_push(&c->config.env, "PATH=/bin");
	strv_push(&c->config.cmd, "/bin/sh");
	spec_map_set(&c->config.labels, "z", "last");
	spec_map_set(&c->config.labels, "a", "first");
	strv_push(&c->config.volumes, "/data");
	assert_int_equal(spec_image_config_generate(c, &cfg, cfg_dg, &e), 0);
	cleanup_free char *want =
		xasprintf("{\"created\":\"2023-11-14T22:13:20.12Z\",\"architecture\":\"amd64\",\"os\":\"linux\","
			  "\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"/bin/sh\"],\"Volumes\":{\"/data\":{}},"
			  "\"Labels\":{\"a\":\"first\",\"z\":\"last\"}},"
			  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]},"
			  "\"history\":[{\"created\":\"2023-11-14T22:13:20.12Z\",\"created_by\":\"skiff import\","
			  "\"comment\":\"imported from tarball\"}]}",
			  D('d'));
	assert_string_equal(cfg.buf, want);
	digest_buf(want, strlen(want), want_dg);
	assert_string_equal(cfg_dg, want_dg);

	assert_int_equal(spec_descriptor_set(&m->config, m->config.media_type, cfg_dg, (int64_t)cfg.len, &e), 0);
	assert_int_equal(spec_manifest_add_layer(m, SPEC_MT_OCI_LAYER_GZIP, D('e'), 4096, &e), 0);
	assert_int_equal(spec_manifest_generate(m, &man, man_dg, &e), 0);

	/* And back: detect, parse, walk, compare counts. */
	assert_int_equal(spec_detect_media_type(man.buf, man.len, &mt, &e), 0);
	assert_string_equal(mt, SPEC_MT_OCI_MANIFEST);
	assert_int_equal(spec_manifest_parse(man.buf, man.len, &pm, &e), 0);
	assert_string_equal(pm->digest, man_dg);
	assert_string_equal(pm->config.digest, cfg_dg);
	assert_int_equal(spec_image_config_parse(cfg.buf, cfg.len, &pc, &e), 0);
	assert_string_equal(pc->digest, cfg_dg);
	assert_int_equal(spec_check_layer_counts(pm, pc, true, &e), 0);
	assert_string_equal(pc->config.cmd.v[0], "/bin/sh");
	assert_null(pc->extra);
}

static void test_config_new_defaults(void **state)
{
	cleanup_spec_image_config struct spec_image_config *c = spec_image_config_new();
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	struct skiff_err *e = NULL;
	(void)state;

	assert_string_equal(c->architecture, spec_goarch());
	assert_string_equal(c->os, "linux");
	assert_int_equal(spec_image_config_generate(c, &out, NULL, &e), 0);
	assert_non_null(strstr(out.buf, "\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}"));
	free(c->os);
	c->os = NULL;
	strbuf_reset(&out);
	check_err(spec_image_config_generate(c, &out, NULL, &e), &e, "image config: os: missing");
	c->os = xstrdup("linux");
	c->created = (struct spec_time){.sec = INT64_MAX, .set = true};
	check_err(spec_image_config_generate(c, &out, NULL, &e), &e, "image config: created: time: year");
	c->created.set = false;
	strv_push(&c->diff_ids, "sha256:short");
	check_err(spec_image_config_generate(c, &out, NULL, &e), &e,
		  "image config: rootfs: diff_ids[0]: invalid digest");
}

#define ROOTFS "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}"

static const struct bad_case bad_configs[] = {
	{"{\"architecture\":\"amd64\",\"os\":\"linux\"}", "image config: rootfs: missing"},
	{"{\"rootfs\":null}", "image config: rootfs: missing"},
	{"{\"rootfs\":[]}", "image config: rootfs: expected an object, got array"},
	{"{\"rootfs\":{\"type\":\"layer\",\"diff_ids\":[]}}",
	 "image config: rootfs: type: must be \"layers\", got \"layer\""},
	{"{\"rootfs\":{\"diff_ids\":[]}}", "image config: rootfs: type: missing"},
	{"{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%1$s\",\"sha256:00\"]}}",
	 "image config: rootfs: diff_ids[1]: invalid digest sha256:00"},
	{"{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%1$s\\u0000\"]}}",
	 "image config: rootfs: diff_ids[0]: string contains a NUL byte"},
	{"{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":\"%1$s\"}}",
	 "image config: rootfs: diff_ids: expected an array of strings, got string"},
	{"{\"architecture\":7," ROOTFS "}", "image config: architecture: expected a string, got number"},
	{"{\"os\":{}," ROOTFS "}", "image config: os: expected a string, got object"},
	{"{\"created\":\"yesterday\"," ROOTFS "}", "image config: created: invalid RFC 3339 time \"yesterday\""},
	{"{\"created\":1700000000," ROOTFS "}", "image config: created: expected a string, got number"},
	{"{\"created\":\"2023-07-18T23:19:33Z\\u0000\"," ROOTFS "}",
	 "image config: created: string contains a NUL byte"},
	{"{\"config\":\"x\"," ROOTFS "}", "image config: config: expected an object, got string"},
	{"{\"config\":{\"Env\":[\"A=1\",2]}," ROOTFS "}",
	 "image config: config: Env[1]: expected a string, got number"},
	{"{\"config\":{\"Env\":\"A=1\"}," ROOTFS "}",
	 "image config: config: Env: expected an array of strings, got string"},
	{"{\"config\":{\"Cmd\":{}}," ROOTFS "}", "image config: config: Cmd: expected an array of strings, got object"},
	{"{\"config\":{\"Entrypoint\":[\"a\\u0000b\"]}," ROOTFS "}",
	 "config: Entrypoint[0]: string contains a NUL byte"},
	{"{\"config\":{\"ExposedPorts\":[\"80/tcp\"]}," ROOTFS "}",
	 "config: ExposedPorts: expected an object, got array"},
	{"{\"config\":{\"ExposedPorts\":{\"80/tcp\":\"yes\"}}," ROOTFS "}",
	 "config: ExposedPorts: \"80/tcp\": expected an object, got string"},
	{"{\"config\":{\"Volumes\":{\"/v\":1}}," ROOTFS "}", "config: Volumes: \"/v\": expected an object, got number"},
	{"{\"config\":{\"Labels\":{\"a\":null}}," ROOTFS "}", "config: Labels: \"a\": expected a string, got null"},
	{"{\"config\":{\"User\":0}," ROOTFS "}", "config: User: expected a string, got number"},
	{"{\"config\":{\"ArgsEscaped\":\"true\"}," ROOTFS "}", "config: ArgsEscaped: expected a boolean, got string"},
	{"{\"config\":{\"Healthcheck\":[]}," ROOTFS "}", "config: Healthcheck: expected an object, got array"},
	{"{\"config\":{\"Healthcheck\":{\"Interval\":-1}}," ROOTFS "}",
	 "config: Healthcheck: Interval: must be >= 0, got -1"},
	{"{\"config\":{\"Healthcheck\":{\"Retries\":1.5}}," ROOTFS "}",
	 "config: Healthcheck: Retries: expected an integer"},
	{"{\"config\":{\"Healthcheck\":{\"Test\":\"CMD true\"}}," ROOTFS "}",
	 "config: Healthcheck: Test: expected an array of strings, got string"},
	{"{\"history\":{}," ROOTFS "}", "image config: history: expected an array, got object"},
	{"{\"history\":[{},3]," ROOTFS "}", "image config: history[1]: expected an object, got number"},
	{"{\"history\":[{\"empty_layer\":1}]," ROOTFS "}",
	 "image config: history[0]: empty_layer: expected a boolean, got number"},
	{"{\"history\":[{\"created\":\"2023-02-30T00:00:00Z\"}]," ROOTFS "}",
	 "image config: history[0]: created: invalid RFC 3339 time"},
	{"{\"history\":[{\"created_by\":[]}]," ROOTFS "}",
	 "image config: history[0]: created_by: expected a string, got array"},
	{"[" ROOTFS "]", "invalid JSON"},
	{"[]", "image config: expected an object, got array"},
	{"{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}", "image config: invalid JSON"},
};

static void test_config_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_configs); i++) {
		cleanup_free char *doc = xasprintf(bad_configs[i].doc, D('5'));
		struct spec_image_config *c = NULL;
		struct skiff_err *e = NULL;
		check_err(spec_image_config_parse(doc, strlen(doc), &c, &e), &e, bad_configs[i].want);
		assert_null(c);
	}
}

static void test_config_lenient(void **state)
{
	/* What real images carry: nulls everywhere, no architecture, no diff_ids, a deep
	 * unknown value that is kept as it is. */
	cleanup_strbuf struct strbuf doc = STRBUF_INIT;
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	cleanup_spec_image_config struct spec_image_config *c = NULL;
	struct skiff_err *e = NULL;
	(void)state;

	strbuf_addstr(&doc, "{\"created\":null,\"author\":null,\"config\":{\"Env\":null,\"Cmd\":null,\"Labels\":null,"
			    "\"ExposedPorts\":{\"80/tcp\":null},\"Healthcheck\":null,\"OnBuild\":null},"
			    "\"history\":null,\"rootfs\":{\"type\":\"layers\"},\"deep\":");
	for (int i = 0; i < 400; i++)
		strbuf_addch(&doc, '[');
	for (int i = 0; i < 400; i++)
		strbuf_addch(&doc, ']');
	strbuf_addch(&doc, '}');
	assert_int_equal(spec_image_config_parse(doc.buf, doc.len, &c, &e), 0);
	assert_false(c->created.set);
	assert_null(c->architecture);
	assert_int_equal(c->diff_ids.len, 0);
	assert_int_equal(c->config.exposed_ports.len, 1);
	assert_null(c->config.healthcheck);
	assert_non_null(json_object_get(c->extra, "deep"));
	/* Cannot generate without architecture. */
	check_err(spec_image_config_generate(c, &out, NULL, &e), &e, "image config: architecture: missing");
}

static void test_layer_counts(void **state)
{
	cleanup_spec_manifest struct spec_manifest *m = spec_manifest_new(SPEC_FORMAT_OCI);
	cleanup_spec_image_config struct spec_image_config *c = spec_image_config_new();
	struct skiff_err *e = NULL;
	(void)state;

	assert_int_equal(spec_manifest_add_layer(m, SPEC_MT_OCI_LAYER, D('1'), 1, &e), 0);
	assert_int_equal(spec_manifest_add_layer(m, SPEC_MT_OCI_LAYER, D('2'), 1, &e), 0);
	assert_int_equal(spec_image_config_add_diff_id(c, D('3'), &e), 0);
	check_err(spec_check_layer_counts(m, c, false, &e), &e,
		  "manifest has 2 layers but its config has 1 rootfs.diff_ids");
	assert_int_equal(spec_image_config_add_diff_id(c, D('4'), &e), 0);
	assert_int_equal(spec_check_layer_counts(m, c, true, &e), 0); /* no history: nothing to compare */
	spec_image_config_add_history(c, &(struct spec_history){.created_by = (char *)"ADD a"});
	spec_image_config_add_history(c, &(struct spec_history){.created_by = (char *)"ENV x=1", .empty_layer = true});
	check_err(spec_check_layer_counts(m, c, true, &e), &e, "1 history entries with a layer but 2 rootfs.diff_ids");
	assert_int_equal(spec_check_layer_counts(m, c, false, &e), 0);
	spec_image_config_add_history(c, &(struct spec_history){.created_by = (char *)"ADD b"});
	assert_int_equal(spec_check_layer_counts(m, c, true, &e), 0);
}

/* ---- docker-archive ---- */

static void test_archive_manifest(void **state)
{
	cleanup_free char *doc = xasprintf(
		"[{\"Config\":\"%1$s.json\",\"RepoTags\":[\"busybox:latest\",\"busybox:1\"],"
		"\"Layers\":[\"%1$s/layer.tar\",\"blobs/sha256/%1$s\"]},"
		"{\"Config\":\"blobs/sha256/c\",\"RepoTags\":null,\"Layers\":[\"l.tar\"],\"Parent\":\"sha256:p\","
		"\"LayerSources\":{\"%2$s\":{\"mediaType\":\"" SPEC_MT_DOCKER_FOREIGN_LAYER_GZIP "\",\"size\":9,"
		"\"digest\":\"%3$s\",\"urls\":[\"https://x/y\"]}}}]",
		D('1') + 7, D('2'), D('3'));
	cleanup_spec_archive_manifest struct spec_archive_manifest *am = NULL;
	cleanup_spec_archive_manifest struct spec_archive_manifest *again = NULL;
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	cleanup_strbuf struct strbuf out2 = STRBUF_INIT;
	struct skiff_err *e = NULL;
	(void)state;

	assert_int_equal(spec_archive_manifest_parse(doc, strlen(doc), &am, &e), 0);
	assert_int_equal(am->len, 2);
	assert_int_equal(am->images[0].repo_tags.len, 2);
	assert_string_equal(am->images[0].repo_tags.v[1], "busybox:1");
	assert_int_equal(am->images[0].layers.len, 2);
	assert_int_equal(am->images[1].repo_tags.len, 0);
	assert_string_equal(am->images[1].parent, "sha256:p");
	assert_int_equal(am->images[1].n_layer_sources, 1);
	assert_string_equal(am->images[1].layer_sources[0].diff_id, D('2'));
	assert_int_equal(am->images[1].layer_sources[0].desc.size, 9);

	assert_int_equal(spec_archive_manifest_generate(am, &out, &e), 0);
	cleanup_free char *want = xasprintf(
		"[{\"Config\":\"%1$s.json\",\"RepoTags\":[\"busybox:latest\",\"busybox:1\"],"
		"\"Layers\":[\"%1$s/layer.tar\",\"blobs/sha256/%1$s\"]},"
		"{\"Config\":\"blobs/sha256/c\",\"RepoTags\":[],\"Layers\":[\"l.tar\"],\"Parent\":\"sha256:p\","
		"\"LayerSources\":{\"%2$s\":{\"mediaType\":\"" SPEC_MT_DOCKER_FOREIGN_LAYER_GZIP "\",\"size\":9,"
		"\"digest\":\"%3$s\",\"urls\":[\"https://x/y\"]}}}]",
		D('1') + 7, D('2'), D('3'));
	assert_string_equal(out.buf, want);
	assert_int_equal(spec_archive_manifest_parse(out.buf, out.len, &again, &e), 0);
	assert_int_equal(spec_archive_manifest_generate(again, &out2, &e), 0);
	assert_string_equal(out.buf, out2.buf);

	/* Built from scratch. */
	cleanup_spec_archive_manifest struct spec_archive_manifest *b = spec_archive_manifest_new();
	struct spec_archive_image *im = spec_archive_manifest_add(b);
	strbuf_reset(&out);
	check_err(spec_archive_manifest_generate(b, &out, &e), &e, "manifest.json: [0]: Config: missing");
	im->config = xstrdup("c.json");
	strv_push(&im->layers, "");
	check_err(spec_archive_manifest_generate(b, &out, &e), &e, "[0]: Layers[0]: empty path");
	strv_remove(&im->layers, 0);
	strbuf_reset(&out);
	assert_int_equal(spec_archive_manifest_generate(b, &out, &e), 0);
	assert_string_equal(out.buf, "[{\"Config\":\"c.json\",\"RepoTags\":[],\"Layers\":[]}]");
}

static const struct bad_case bad_archives[] = {
	{"{}", "docker-archive manifest.json: expected an array, got object"},
	{"[1]", "docker-archive manifest.json: [0]: expected an object, got number"},
	{"[{\"Layers\":[]}]", "docker-archive manifest.json: [0]: Config: missing"},
	{"[{\"Config\":\"\",\"Layers\":[]}]", "[0]: Config: empty path"},
	{"[{\"Config\":\"c\"}]", "[0]: Layers: missing"},
	{"[{\"Config\":\"c\",\"Layers\":[\"a\",7]}]", "[0]: Layers[1]: expected a string, got number"},
	{"[{\"Config\":\"c\",\"Layers\":[\"a\\u0000/../../x\"]}]", "[0]: Layers[0]: string contains a NUL byte"},
	{"[{\"Config\":\"c\",\"Layers\":[\"\"]}]", "[0]: Layers[0]: empty path"},
	{"[{\"Config\":\"c\",\"Layers\":[],\"RepoTags\":\"busybox\"}]", "[0]: RepoTags: expected an array of strings"},
	{"[{\"Config\":\"c\",\"Layers\":[],\"RepoTags\":[\"\"]}]", "[0]: RepoTags[0]: empty"},
	{"[{\"Config\":\"c\",\"Layers\":[],\"LayerSources\":[]}]", "[0]: LayerSources: expected an object, got array"},
	{"[{\"Config\":\"c\",\"Layers\":[],\"LayerSources\":{\"x\":{}}}]", "[0]: LayerSources: invalid digest x"},
	{"[{\"Config\":\"c\",\"Layers\":[],\"LayerSources\":{\"%1$s\":{\"size\":1}}}]", "LayerSources: sha256:"},
	{"[{\"Config\":\"c\",\"Layers\":[]},", "docker-archive manifest.json: invalid JSON"},
};

static void test_archive_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_archives); i++) {
		cleanup_free char *doc = xasprintf(bad_archives[i].doc, D('6'));
		struct spec_archive_manifest *am = NULL;
		struct skiff_err *e = NULL;
		check_err(spec_archive_manifest_parse(doc, strlen(doc), &am, &e), &e, bad_archives[i].want);
		assert_null(am);
	}
}

static void test_repositories(void **state)
{
	char id1[65], id2[65];
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	struct skiff_err *e = NULL;
	(void)state;

	memset(id1, '1', 64);
	id1[64] = '\0';
	memset(id2, '2', 64);
	id2[64] = '\0';
	struct spec_repo_tag tags[] = {
		{"busybox", "latest", id1},
		{"alpine", "3", id2},
		{"busybox", "1", id1},
	};
	assert_int_equal(spec_docker_repositories_generate(tags, 3, &out, &e), 0);
	cleanup_free char *want =
		xasprintf("{\"alpine\":{\"3\":\"%s\"},\"busybox\":{\"1\":\"%s\",\"latest\":\"%s\"}}", id2, id1, id1);
	assert_string_equal(out.buf, want);
	strbuf_reset(&out);
	assert_int_equal(spec_docker_repositories_generate(NULL, 0, &out, &e), 0);
	assert_string_equal(out.buf, "{}");

	strbuf_reset(&out);
	struct spec_repo_tag dup[] = {{"a", "t", id1}, {"a", "t", id2}};
	check_err(spec_docker_repositories_generate(dup, 2, &out, &e), &e, "duplicate tag a:t");
	struct spec_repo_tag badid[] = {{"a", "t", "sha256:1111"}};
	check_err(spec_docker_repositories_generate(badid, 1, &out, &e), &e, "a:t: invalid layer id \"sha256:1111\"");
	struct spec_repo_tag notag[] = {{"a", "", id1}};
	check_err(spec_docker_repositories_generate(notag, 1, &out, &e), &e, "a: empty tag");
	assert_int_equal(out.len, 0);
}

/* ---- OCI layout ---- */

static void test_oci_layout(void **state)
{
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	struct skiff_err *e = NULL;
	(void)state;

	spec_oci_layout_generate(&out);
	assert_string_equal(out.buf, "{\"imageLayoutVersion\":\"1.0.0\"}");
	assert_int_equal(spec_oci_layout_check(out.buf, out.len, &e), 0);
	assert_int_equal(spec_oci_layout_check(S("{ \"imageLayoutVersion\" : \"1.0.0\", \"x\": 1 }"), &e), 0);
	check_err(spec_oci_layout_check(S("{\"imageLayoutVersion\":\"2.0.0\"}"), &e), &e,
		  "oci-layout: imageLayoutVersion: unsupported version \"2.0.0\"");
	check_err(spec_oci_layout_check(S("{}"), &e), &e, "oci-layout: imageLayoutVersion: missing");
	check_err(spec_oci_layout_check(S("{\"imageLayoutVersion\":1}"), &e), &e,
		  "oci-layout: imageLayoutVersion: expected a string, got number");
	check_err(spec_oci_layout_check(S("[]"), &e), &e, "oci-layout: expected an object, got array");
	check_err(spec_oci_layout_check(S("{\"imageLayoutVersion\""), &e), &e, "oci-layout: invalid JSON");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_media_types),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_goarch),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_manifest_parse_oci),
		cmocka_unit_test(test_manifest_parse_docker),
		cmocka_unit_test(test_manifest_no_media_type),
		cmocka_unit_test(test_manifest_bad),
		cmocka_unit_test(test_manifest_hostile),
		cmocka_unit_test(test_manifest_many_layers),
		cmocka_unit_test(test_manifest_build),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_index_build_docker),
		cmocka_unit_test(test_index_bad),
		cmocka_unit_test(test_descriptor_ops),
		cmocka_unit_test(test_config_parse_docker),
		cmocka_unit_test(test_config_roundtrip_extra),
		cmocka_unit_test(test_config_import),
		cmocka_unit_test(test_config_new_defaults),
		cmocka_unit_test(test_config_bad),
		cmocka_unit_test(test_config_lenient),
		cmocka_unit_test(test_layer_counts),
		cmocka_unit_test(test_archive_manifest),
		cmocka_unit_test(test_archive_bad),
		cmocka_unit_test(test_repositories),
		cmocka_unit_test(test_oci_layout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
