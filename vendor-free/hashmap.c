#include "vendor-free/hashmap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "vendor-free/xalloc.h"

#define MIN_CAP 16

/* ---- SipHash-1-3 (Aumasson & Bernstein), written from the paper ---- */

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#define SIPROUND                                                                                                       \
	do {                                                                                                           \
		v0 += v1;                                                                                              \
		v1 = rotl(v1, 13);                                                                                     \
		v1 ^= v0;                                                                                              \
		v0 = rotl(v0, 32);                                                                                     \
		v2 += v3;                                                                                              \
		v3 = rotl(v3, 16);                                                                                     \
		v3 ^= v2;                                                                                              \
		v0 += v3;                                                                                              \
		v3 = rotl(v3, 21);                                                                                     \
		v3 ^= v0;                                                                                              \
		v2 += v1;                                                                                              \
		v1 = rotl(v1, 17);                                                                                     \
		v1 ^= v2;                                                                                              \
		v2 = rotl(v2, 32);                                                                                     \
	} while (0)

static uint64_t siphash13(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t last = (uint64_t)len << 56;
	size_t whole = len & ~(size_t)7;

	for (size_t i = 0; i < whole; i += 8) {
		uint64_t m = load_le64(p + i);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t i = 0; i < (len & 7); i++)
		last |= (uint64_t)p[whole + i] << (8 * i);
	v3 ^= last;
	SIPROUND;
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- the table ---- */

static void seed(struct hashmap *m)
{
	uint64_t k[2] = {0, 0};

	if (getrandom(k, sizeof(k), GRND_NONBLOCK) != (ssize_t)sizeof(k)) {
		/* no entropy yet (early boot): weaker, still differs per map */
		struct timespec ts = {0};
		clock_gettime(CLOCK_MONOTONIC, &ts);
		k[0] ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)m;
		k[1] ^= (uint64_t)ts.tv_sec * 0xbf58476d1ce4e5b9ULL ^ (uint64_t)(uintptr_t)&ts;
	}
	m->k0 = k[0];
	m->k1 = k[1];
}

static uint64_t hash_key(const struct hashmap *m, const char *key)
{
	return siphash13(m->k0, m->k1, key, strlen(key));
}

/* The slot holding key, or (with *found false) the empty slot where it would go. */
static size_t probe(const struct hashmap *m, const char *key, uint64_t h, bool *found)
{
	size_t mask = m->cap - 1;
	size_t i = (size_t)h & mask;

	for (;;) {
		const struct hashmap_entry *e = &m->slots[i];
		if (!e->key) {
			*found = false;
			return i;
		}
		if (e->hash == h && !strcmp(e->key, key)) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
}

static void resize(struct hashmap *m, size_t cap)
{
	struct hashmap_entry *old = m->slots;
	size_t oldcap = m->cap;

	m->slots = xcalloc(cap, sizeof(*m->slots));
	m->cap = cap;
	for (size_t i = 0; i < oldcap; i++) {
		size_t j;
		if (!old[i].key)
			continue;
		j = (size_t)old[i].hash & (cap - 1);
		while (m->slots[j].key)
			j = (j + 1) & (cap - 1);
		m->slots[j] = old[i];
	}
	free(old);
}

bool hashmap_put(struct hashmap *m, const char *key, void *value, void **ret_old)
{
	uint64_t h;
	bool found;
	size_t i;

	if (!m->cap) {
		seed(m);
		resize(m, MIN_CAP);
	} else if ((m->len + 1) * 10 > m->cap * 7) { /* keep the load under 70% */
		resize(m, m->cap * 2);
	}
	h = hash_key(m, key);
	i = probe(m, key, h, &found);
	if (found) {
		if (ret_old)
			*ret_old = m->slots[i].value;
		m->slots[i].value = value;
		return true;
	}
	m->slots[i].key = xstrdup(key);
	m->slots[i].value = value;
	m->slots[i].hash = h;
	m->len++;
	return false;
}

bool hashmap_lookup(const struct hashmap *m, const char *key, void **ret_value)
{
	bool found;
	size_t i;

	if (!m->len)
		return false;
	i = probe(m, key, hash_key(m, key), &found);
	if (found && ret_value)
		*ret_value = m->slots[i].value;
	return found;
}

void *hashmap_get(const struct hashmap *m, const char *key)
{
	void *v = NULL;

	return hashmap_lookup(m, key, &v) ? v : NULL;
}

bool hashmap_remove(struct hashmap *m, const char *key, void **ret_old)
{
	size_t mask = m->cap - 1;
	bool found;
	size_t i, j;

	if (!m->len)
		return false;
	i = probe(m, key, hash_key(m, key), &found);
	if (!found)
		return false;
	if (ret_old)
		*ret_old = m->slots[i].value;
	free(m->slots[i].key);
	m->len--;
	/* Backward shift: pull later entries of the run into the hole unless that
	 * would move one before its home slot. */
	j = i;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!m->slots[j].key)
			break;
		home = (size_t)m->slots[j].hash & mask;
		/* can the entry at j move to i? only if home is not in (i, j] cyclically */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = NULL;
	m->slots[i].value = NULL;
	m->slots[i].hash = 0;
	return true;
}

bool hashmap_next(const struct hashmap *m, size_t *iter, const char **ret_key, void **ret_value)
{
	for (size_t i = *iter; i < m->cap; i++) {
		if (!m->slots[i].key)
			continue;
		if (ret_key)
			*ret_key = m->slots[i].key;
		if (ret_value)
			*ret_value = m->slots[i].value;
		*iter = i + 1;
		return true;
	}
	*iter = m->cap;
	return false;
}

void hashmap_release(struct hashmap *m, void (*free_value)(void *))
{
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->slots[i].key)
			continue;
		free(m->slots[i].key);
		if (free_value)
			free_value(m->slots[i].value);
	}
	free(m->slots);
	m->slots = NULL;
	m->cap = 0;
	m->len = 0;
}
