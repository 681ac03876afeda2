/*
 * pkg/json: the only user of yajl. A small DOM (objects keep insertion order), a
 * parser with errors that name the byte offset, and a generator (compact or
 * indented).
 */
#ifndef SKIFF_JSON_H
#define SKIFF_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	union {
		bool b;
		struct {
			bool is_int; /* integral and fits int64 */
			int64_t i;
			double d;
		} num;
		struct {
			char *s;
			size_t len;
		} str;
		struct {
			struct json **items;
			size_t len, alloc;
		} arr;
		struct {
			char **keys;
			struct json **vals;
			size_t len, alloc;
		} obj;
	} u;
};

/* Parse len bytes. Max nesting depth 512. On failure: EINVAL with "offset N: reason". */
int json_parse(const char *buf, size_t len, struct json **ret, struct skiff_err **err);
void json_free(struct json *j);
static inline void json_freep(struct json **p)
{
	if (*p)
		json_free(*p);
}
#define cleanup_json __attribute__((cleanup(json_freep)))

/* Constructors (never fail). */
struct json *json_new_null(void);
struct json *json_new_bool(bool b);
struct json *json_new_int(int64_t i);
struct json *json_new_double(double d);
struct json *json_new_string(const char *s); /* NULL gives JSON null */
struct json *json_new_stringn(const char *s, size_t n);
struct json *json_new_array(void);
struct json *json_new_object(void);
struct json *json_clone(const struct json *j);

/* Containers take ownership of val. json_object_set replaces an existing key. */
void json_array_append(struct json *arr, struct json *val);
void json_object_set(struct json *obj, const char *key, struct json *val);
/* Convenience setters. */
void json_object_set_string(struct json *obj, const char *key, const char *s);
void json_object_set_int(struct json *obj, const char *key, int64_t i);
void json_object_set_bool(struct json *obj, const char *key, bool b);

/* Accessors: NULL / defaults when absent or of another type. */
struct json *json_object_get(const struct json *obj, const char *key);
const char *json_object_get_string(const struct json *obj, const char *key);
/* Follow a path of keys: json_get_path(j, "config", "Env", NULL). */
struct json *json_get_path(const struct json *j, ...) __attribute__((sentinel));
size_t json_array_len(const struct json *arr);
struct json *json_array_get(const struct json *arr, size_t i);
const char *json_string(const struct json *j); /* NULL unless a string */
bool json_is(const struct json *j, enum json_type t);

/* Serialise. indent: 0 compact, else that many spaces per level. */
void json_dump(const struct json *j, int indent, struct strbuf *out);
/* Quote s as a JSON string into out. */
void json_quote(const char *s, size_t len, struct strbuf *out);

#endif
