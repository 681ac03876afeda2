/* Unit tests for vendor-free/hashmap. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vendor-free/hashmap.h"
#include "vendor-free/xalloc.h"

#define N 100000

static void test_basic(void **state)
{
	struct hashmap m = HASHMAP_INIT;
	void *old = NULL, *v = (void *)1;
	int a = 1, b = 2;
	(void)state;

	/* empty map: everything is absent, nothing crashes */
	assert_null(hashmap_get(&m, "x"));
	assert_false(hashmap_lookup(&m, "x", &v));
	assert_ptr_equal(v, (void *)1); /* untouched */
	assert_false(hashmap_remove(&m, "x", NULL));
	size_t it = 0;
	assert_false(hashmap_next(&m, &it, NULL, NULL));

	assert_false(hashmap_put(&m, "a", &a, &old));
	assert_null(old);
	assert_ptr_equal(hashmap_get(&m, "a"), &a);
	assert_true(hashmap_put(&m, "a", &b, &old)); /* replace */
	assert_ptr_equal(old, &a);
	assert_ptr_equal(hashmap_get(&m, "a"), &b);
	assert_int_equal(hashmap_size(&m), 1);

	/* a stored NULL differs from a missing key */
	assert_false(hashmap_put(&m, "null", NULL, NULL));
	assert_true(hashmap_lookup(&m, "null", &v));
	assert_null(v);
	assert_false(hashmap_lookup(&m, "nul", NULL));

	/* empty key, long key, bytes above 0x7f */
	char *longkey = xmalloc(10001);
	memset(longkey, 'k', 10000);
	longkey[10000] = '\0';
	assert_false(hashmap_put(&m, "", &a, NULL));
	assert_false(hashmap_put(&m, longkey, &b, NULL));
	assert_false(hashmap_put(&m, "\xff\xfe\x80", &a, NULL));
	assert_ptr_equal(hashmap_get(&m, ""), &a);
	assert_ptr_equal(hashmap_get(&m, longkey), &b);
	longkey[9999] = 'j';
	assert_null(hashmap_get(&m, longkey)); /* differs only in the last byte */
	free(longkey);
	assert_ptr_equal(hashmap_get(&m, "\xff\xfe\x80"), &a);

	assert_true(hashmap_remove(&m, "a", &old));
	assert_ptr_equal(old, &b);
	assert_null(hashmap_get(&m, "a"));
	assert_false(hashmap_remove(&m, "a", NULL));
	assert_int_equal(hashmap_size(&m), 4);

	/* keys are copied */
	char key[8] = "mutable";
	hashmap_put(&m, key, &a, NULL);
	key[0] = 'M';
	assert_ptr_equal(hashmap_get(&m, "mutable"), &a);
	assert_null(hashmap_get(&m, "Mutable"));

	hashmap_release(&m, NULL);
	assert_int_equal(hashmap_size(&m), 0);
	assert_null(hashmap_get(&m, "mutable"));
	/* reusable after release */
	hashmap_put(&m, "again", &a, NULL);
	assert_ptr_equal(hashmap_get(&m, "again"), &a);
	hashmap_release(&m, NULL);
}

static void test_100k(void **state)
{
	struct hashmap m = HASHMAP_INIT;
	char key[32];
	(void)state;

	for (uintptr_t i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key-%lu", (unsigned long)i);
		assert_false(hashmap_put(&m, key, (void *)(i + 1), NULL));
	}
	assert_int_equal(hashmap_size(&m), N);
	for (uintptr_t i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key-%lu", (unsigned long)i);
		assert_ptr_equal(hashmap_get(&m, key), (void *)(i + 1));
	}
	assert_null(hashmap_get(&m, "key-100000"));

	/* replace every third value */
	for (uintptr_t i = 0; i < N; i += 3) {
		void *old = NULL;
		snprintf(key, sizeof(key), "key-%lu", (unsigned long)i);
		assert_true(hashmap_put(&m, key, (void *)(i + 2 * N), &old));
		assert_ptr_equal(old, (void *)(i + 1));
	}
	assert_int_equal(hashmap_size(&m), N);

	/* remove the even ones: backward shifts must keep every other key findable */
	for (uintptr_t i = 0; i < N; i += 2) {
		snprintf(key, sizeof(key), "key-%lu", (unsigned long)i);
		assert_true(hashmap_remove(&m, key, NULL));
	}
	assert_int_equal(hashmap_size(&m), N / 2);
	for (uintptr_t i = 0; i < N; i++) {
		void *v = NULL;
		bool present;
		snprintf(key, sizeof(key), "key-%lu", (unsigned long)i);
		present = hashmap_lookup(&m, key, &v);
		if (i % 2 == 0) {
			assert_false(present);
		} else {
			assert_true(present);
			assert_ptr_equal(v, (void *)(i % 3 == 0 ? i + 2 * N : i + 1));
		}
	}

	/* iteration visits each remaining key exactly once */
	unsigned char *seen = xcalloc(N, 1);
	size_t count = 0, it = 0;
	const char *k;
	void *v;
	while (hashmap_next(&m, &it, &k, &v)) {
		unsigned long i;
		assert_int_equal(sscanf(k, "key-%lu", &i), 1);
		assert_true(i < N && i % 2 == 1);
		assert_int_equal(seen[i], 0);
		seen[i] = 1;
		count++;
	}
	assert_int_equal(count, N / 2);
	assert_false(hashmap_next(&m, &it, &k, &v)); /* stays at the end */
	free(seen);

	/* re-insert after removal, then remove everything */
	for (uintptr_t i = 0; i < N; i += 2) {
		snprintf(key, sizeof(key), "key-%lu", (unsigned long)i);
		assert_false(hashmap_put(&m, key, (void *)i, NULL));
	}
	assert_int_equal(hashmap_size(&m), N);
	for (uintptr_t i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key-%lu", (unsigned long)i);
		assert_true(hashmap_remove(&m, key, NULL));
	}
	assert_int_equal(hashmap_size(&m), 0);
	it = 0;
	assert_false(hashmap_next(&m, &it, NULL, NULL));
	hashmap_release(&m, NULL);
}

/* Owned values are freed by hashmap_release (ASan checks the leak). */
static void test_release_frees_values(void **state)
{
	struct hashmap m = HASHMAP_INIT;
	(void)state;
	for (int i = 0; i < 1000; i++) {
		char *key = xasprintf("k%d", i);
		hashmap_put(&m, key, xasprintf("value %d", i), NULL);
		free(key);
	}
	assert_string_equal(hashmap_get(&m, "k999"), "value 999");
	void *old = NULL;
	assert_true(hashmap_remove(&m, "k5", &old));
	assert_string_equal(old, "value 5");
	free(old);
	hashmap_release(&m, free);
}

/* Two maps hash differently (random per-map key): the same insertions give
 * different iteration orders, so an attacker cannot precompute collisions. */
static void test_seeded(void **state)
{
	struct hashmap a = HASHMAP_INIT, b = HASHMAP_INIT;
	char key[16];
	int differ = 0;
	(void)state;
	for (int i = 0; i < 64; i++) {
		snprintf(key, sizeof(key), "%d", i);
		hashmap_put(&a, key, NULL, NULL);
		hashmap_put(&b, key, NULL, NULL);
	}
	size_t ia = 0, ib = 0;
	const char *ka, *kb;
	while (hashmap_next(&a, &ia, &ka, NULL) && hashmap_next(&b, &ib, &kb, NULL))
		differ |= strcmp(ka, kb) != 0;
	assert_true(differ);
	hashmap_release(&a, NULL);
	hashmap_release(&b, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_100k),
		cmocka_unit_test(test_release_frees_values),
		cmocka_unit_test(test_seeded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
