/* pkg/digest: sha256 digests, the threaded digester, digest string validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pkg/digest/digest.h"

static void test_known_vectors(void **state)
{
	char out[DIGEST_STR_LEN + 1];
	(void)state;
	digest_buf("", 0, out);
	assert_string_equal(out, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest_buf("abc", 3, out);
	assert_string_equal(out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_async_matches_sync(void **state)
{
	size_t total = (5u << 20) + 12345; /* several slots and a partial one */
	unsigned char *data = malloc(total);
	char want[DIGEST_STR_LEN + 1], got[DIGEST_STR_LEN + 1];
	uint32_t x = 12345;
	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < total; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (unsigned char)(x >> 16);
	}
	digest_buf(data, total, want);
	struct digester_async *a = digester_async_new();
	/* odd chunk sizes: some smaller than a slot, some spanning several */
	size_t off = 0, step = 1;
	while (off < total) {
		size_t n = step < total - off ? step : total - off;
		digester_async_update(a, data + off, n);
		off += n;
		step = step * 7 + 3;
		if (step > (3u << 20))
			step = 17;
	}
	digester_async_final(a, got);
	digester_async_free(a);
	assert_string_equal(got, want);

	/* empty stream, and free without final */
	a = digester_async_new();
	digester_async_final(a, got);
	digester_async_free(a);
	assert_string_equal(got, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	a = digester_async_new();
	digester_async_update(a, data, 100);
	digester_async_free(a);
	free(data);
}

static void test_validation(void **state)
{
	static const char *const bad[] = {
		"",
		"sha256:",
		"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",   /* 63 */
		"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555", /* 65 */
		"sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",  /* upper */
		"sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"sha256:../../etc/passwd",
	};
	struct skiff_err *err = NULL;
	(void)state;
	assert_true(digest_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(digest_valid(bad[i]));
		assert_int_equal(digest_check(bad[i], &err), -1);
		assert_non_null(err);
		assert_non_null(strstr(err->msg, i == 6 ? "unsupported digest algorithm" : "invalid digest"));
		err_clear(&err);
	}
	assert_false(digest_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_async_matches_sync),
		cmocka_unit_test(test_validation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
