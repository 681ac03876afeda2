/* pkg/spec: string maps (labels, annotations, sysctls) and the JSON type helpers the
 * runtime spec needs, apart from image.c so that a binary using only the runtime spec
 * (skiff-runtime) does not pull in image handling and its digests (libcrypto). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/spec/image.h"
#include "pkg/spec/image_internal.h"
#include "vendor-free/cleanup.h"
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

/* ---- GOARCH ---- */

const char *spec_goarch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__i386__)
	return "386";
#elif defined(__aarch64__) && defined(__AARCH64EB__)
	return "arm64be";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__arm__) && defined(__ARMEB__)
	return "armbe";
#elif defined(__arm__)
	return "arm";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
	return "ppc64le";
#elif defined(__powerpc64__)
	return "ppc64";
#elif defined(__powerpc__)
	return "ppc";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#elif defined(__loongarch64)
	return "loong64";
#elif defined(__mips64) && defined(__MIPSEL__)
	return "mips64le";
#elif defined(__mips64)
	return "mips64";
#elif defined(__mips__) && defined(__MIPSEL__)
	return "mipsle";
#elif defined(__mips__)
	return "mips";
#elif defined(__sparc__) && defined(__arch64__)
	return "sparc64";
#else
	return "unknown";
#endif
}

const char *spec_goos(void)
{
	return "linux";
}

const char *spec_goarch_variant(void)
{
#if defined(__aarch64__)
	return "v8";
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7
	return "v7";
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH == 6
	return "v6";
#elif defined(__arm__)
	return "v5";
#else
	return NULL;
#endif
}

const char *spec_goarch_from_uname(const char *machine, const char **ret_variant)
{
	static const struct {
		const char *name, *arch, *variant;
	} map[] = {
		{"x86_64", "amd64", NULL},	{"amd64", "amd64", NULL},     {"x86-64", "amd64", NULL},
		{"i386", "386", NULL},		{"i486", "386", NULL},	      {"i586", "386", NULL},
		{"i686", "386", NULL},		{"386", "386", NULL},	      {"x86", "386", NULL},
		{"aarch64", "arm64", "v8"},	{"arm64", "arm64", "v8"},     {"armv8l", "arm", "v8"},
		{"armv7l", "arm", "v7"},	{"armv7", "arm", "v7"},	      {"armhf", "arm", "v7"},
		{"arm", "arm", "v7"},		{"armv6l", "arm", "v6"},      {"armv6", "arm", "v6"},
		{"armel", "arm", "v6"},		{"armv5tel", "arm", "v5"},    {"armv5l", "arm", "v5"},
		{"ppc64le", "ppc64le", NULL},	{"ppc64el", "ppc64le", NULL}, {"ppc64", "ppc64", NULL},
		{"s390x", "s390x", NULL},	{"riscv64", "riscv64", NULL}, {"loongarch64", "loong64", NULL},
		{"loong64", "loong64", NULL},	{"mips64", "mips64", NULL},   {"mips64el", "mips64le", NULL},
		{"mips64le", "mips64le", NULL}, {"mips", "mips", NULL},	      {"mipsel", "mipsle", NULL},
		{"mipsle", "mipsle", NULL},
	};
	if (!machine)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		if (strcmp(machine, map[i].name) == 0) {
			if (ret_variant)
				*ret_variant = map[i].variant;
			return map[i].arch;
		}
	}
	return NULL;
}

struct json *specj_collect_extra(const struct json *obj, const char *const *known, size_t n)
{
	struct json *extra = NULL;
	for (size_t i = 0; i < obj->u.obj.len; i++) {
		bool is_known = false;
		for (size_t k = 0; k < n && !is_known; k++)
			is_known = !strcmp(obj->u.obj.keys[i], known[k]);
		if (is_known)
			continue;
		if (!extra)
			extra = json_new_object();
		json_object_set(extra, obj->u.obj.keys[i], json_clone(obj->u.obj.vals[i]));
	}
	return extra;
}
