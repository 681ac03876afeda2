/*
 * String-keyed hash map: char * keys (copied in) to void * values (owned by
 * the caller unless hashmap_release() is given a free function).
 * Open addressing, linear probing, deletion by backward shift (no
 * tombstones). Keys are hashed with SipHash-1-3 under a per-map random key,
 * so that keys from images or users cannot force collisions.
 *
 *     struct hashmap m = HASHMAP_INIT;
 *     hashmap_put(&m, "io.podman.label", value, NULL);
 *     const char *k; void *v;
 *     for (size_t it = 0; hashmap_next(&m, &it, &k, &v);)
 *             ...
 *     hashmap_release(&m, free);
 *
 * Iteration order is unspecified (sort if it matters). Do not put or remove
 * while iterating (a removal shifts entries back): collect the keys first.
 * Replacing the value of an existing key is fine.
 */
#ifndef SKIFF_HASHMAP_H
#define SKIFF_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hashmap_entry {
	char *key; /* NULL: empty slot */
	void *value;
	uint64_t hash;
};

struct hashmap {
	struct hashmap_entry *slots;
	size_t cap; /* 0 or a power of two */
	size_t len;
	uint64_t k0, k1; /* SipHash key, chosen at the first insertion */
};

#define HASHMAP_INIT                                                                                                   \
	{                                                                                                              \
		.slots = NULL, .cap = 0, .len = 0, .k0 = 0, .k1 = 0                                                    \
	}

/* Insert key (copied) -> value, or replace the value of an existing key.
 * Returns true when key was there; then *ret_old (may be NULL) gets the
 * value it replaced. */
bool hashmap_put(struct hashmap *m, const char *key, void *value, void **ret_old);

/* The value of key, or NULL when absent (use hashmap_lookup to tell a
 * stored NULL from a missing key). */
void *hashmap_get(const struct hashmap *m, const char *key);

/* true when key is present; then *ret_value (may be NULL) gets its value. */
bool hashmap_lookup(const struct hashmap *m, const char *key, void **ret_value);

/* Remove key. true when it was present; then *ret_old (may be NULL) gets the
 * value, which the caller now owns. */
bool hashmap_remove(struct hashmap *m, const char *key, void **ret_old);

static inline size_t hashmap_size(const struct hashmap *m)
{
	return m->len;
}

/* Iterate: start with *iter = 0; each call yields the next entry and returns
 * true, false at the end. ret_key and ret_value may be NULL. The key stays
 * owned by the map. */
bool hashmap_next(const struct hashmap *m, size_t *iter, const char **ret_key, void **ret_value);

/* Free every key and (with free_value not NULL) every value; the map is
 * empty and reusable afterwards. */
void hashmap_release(struct hashmap *m, void (*free_value)(void *));

#endif
