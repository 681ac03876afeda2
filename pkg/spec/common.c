/* pkg/spec: string maps (labels, annotations, sysctls) and the JSON type helpers the
 * runtime spec needs, apart from image.c so that a binary using only the runtime spec
 * (skiff-runtime) does not pull in image handling and its digests (libcrypto). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/spec/image.h"
#include "pkg/spec/image_internal.h"
#include "vendor-free/xalloc.h"

const char *spec_map_get(const struct spec_map *m, const char *key)
{
	for (size_t i = 0; i < m->len; i++)
		if (strcmp(m->items[i].key, key) == 0)
			return m->items[i].value;
	return NULL;
}

static void map_set_take(struct spec_map *m, char *key, char *value)
{
	for (size_t i = 0; i < m->len; i++) {
		if (strcmp(m->items[i].key, key) == 0) {
			free(key);
			free(m->items[i].value);
			m->items[i].value = value;
			return;
		}
	}
	ALLOC_GROW(m->items, m->len + 1, m->alloc);
	m->items[m->len].key = key;
	m->items[m->len].value = value;
	m->len++;
}

void spec_map_set(struct spec_map *m, const char *key, const char *value)
{
	map_set_take(m, xstrdup(key), xstrdup(value));
}

bool spec_map_remove(struct spec_map *m, const char *key)
{
	for (size_t i = 0; i < m->len; i++) {
		if (strcmp(m->items[i].key, key) == 0) {
			free(m->items[i].key);
			free(m->items[i].value);
			memmove(m->items + i, m->items + i + 1, (m->len - i - 1) * sizeof(*m->items));
			m->len--;
			return true;
		}
	}
	return false;
}

void spec_map_copy(struct spec_map *dst, const struct spec_map *src)
{
	for (size_t i = 0; i < src->len; i++)
		spec_map_set(dst, src->items[i].key, src->items[i].value);
}

void spec_map_release(struct spec_map *m)
{
	for (size_t i = 0; i < m->len; i++) {
		free(m->items[i].key);
		free(m->items[i].value);
	}
	free(m->items);
	m->items = NULL;
	m->len = m->alloc = 0;
}

/* ---- JSON types ---- */

const char *specj_type_name(const struct json *j)
{
	if (!j)
		return "nothing";
	switch (j->type) {
	case JSON_NULL:
		return "null";
	case JSON_BOOL:
		return "boolean";
	case JSON_NUMBER:
		return "number";
	case JSON_STRING:
		return "string";
	case JSON_ARRAY:
		return "array";
	case JSON_OBJECT:
		return "object";
	}
	return "?";
}

int specj_expect_object(const struct json *j, const char *what, struct skiff_err **err)
{
	if (json_is(j, JSON_OBJECT))
		return 0;
	if (what)
		return err_makex(err, EINVAL, "%s: expected an object, got %s", what, specj_type_name(j));
	return err_makex(err, EINVAL, "expected an object, got %s", specj_type_name(j));
}
