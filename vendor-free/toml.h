/*
 * vendor-free/toml: a reader for the TOML 1.0 subset that containers.conf,
 * storage.conf and registries.conf use. libc only.
 *
 * Supported: comments, [table], [a."b".c], [[array.of.tables]], bare/quoted/dotted
 * keys, basic and literal strings (single- and multi-line, all TOML 1.0 escapes),
 * integers (decimal with _ and sign, 0x/0o/0b), floats (incl. inf/nan), booleans,
 * arrays (multi-line, trailing comma, nested, mixed types), inline tables, and
 * dates/times, which are checked for shape and kept as the text written.
 * Not supported: "\u0000" in strings (C strings), inline tables across lines
 * (TOML 1.1). The document must be UTF-8 without NUL bytes; nesting (tables
 * and arrays together) is limited to TOML_MAX_DEPTH.
 *
 * Errors are EINVAL with "line N: what is wrong".
 *
 *     cleanup_toml struct toml *doc = NULL;
 *     if (toml_parse_file(path, &doc, err) < 0)
 *             return -1;
 *     const struct toml *mp = toml_get(doc, "storage.options.overlay", "mount_program");
 *     const char *s = toml_string(mp);      // NULL when absent or not a string
 */
#ifndef SKIFF_TOML_H
#define SKIFF_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vendor-free/err.h"
#include "vendor-free/strv.h"

#define TOML_MAX_DEPTH 128
/* toml_parse_file() refuses bigger files (EFBIG). */
#define TOML_MAX_FILE_SIZE (16u << 20)

enum toml_type {
	TOML_TABLE,
	TOML_ARRAY,
	TOML_STRING,
	TOML_INT,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME, /* offset/local date-time, local date or local time, as written */
};

struct toml {
	enum toml_type type;
	size_t line;	/* where the value, or the table's header, was written (1-based; root: 0) */
	unsigned depth; /* internal */
	unsigned flags; /* internal: how a table or array was defined */
	union {
		struct {
			char *s; /* NUL-terminated, valid UTF-8, no NUL inside */
			size_t len;
		} str;	   /* TOML_STRING, TOML_DATETIME */
		int64_t i; /* TOML_INT */
		double d;  /* TOML_FLOAT */
		bool b;	   /* TOML_BOOL */
		struct {
			struct toml **items;
			size_t len, alloc;
		} arr; /* TOML_ARRAY */
		struct {
			char **keys; /* in document order */
			struct toml **vals;
			size_t len, alloc;
			size_t *index, index_cap; /* internal hash index */
		} tab;				  /* TOML_TABLE */
	} u;
};

/* Parse len bytes into a tree whose root is a table. */
int toml_parse(const char *buf, size_t len, struct toml **ret, struct skiff_err **err);
/* Read and parse a file; errors are "PATH: line N: ..." (ENOENT etc. when it cannot be read). */
int toml_parse_file(const char *path, struct toml **ret, struct skiff_err **err);
void toml_free(struct toml *t);
static inline void toml_freep(struct toml **p)
{
	if (*p)
		toml_free(*p);
}
#define cleanup_toml __attribute__((cleanup(toml_freep)))

/* "table", "array", "string", "integer", "float", "boolean", "datetime". */
const char *toml_type_name(enum toml_type type);
bool toml_is(const struct toml *t, enum toml_type type); /* false for NULL */

/* The value of key (exact, not split at dots) in table tab; NULL if absent or tab is not a table. */
const struct toml *toml_table_get(const struct toml *tab, const char *key);
/*
 * Follow path, a dotted list of bare keys ("storage.options.overlay"; NULL or "" is t
 * itself), through tables, then look up key in the table reached (key NULL: return
 * that table). NULL when anything on the way is absent or not a table.
 */
const struct toml *toml_get(const struct toml *t, const char *path, const char *key);

/* Entries of a table / items of an array; 0 / NULL when t has another type or i is out of range. */
size_t toml_table_len(const struct toml *t);
const char *toml_table_key_at(const struct toml *t, size_t i);
const struct toml *toml_table_value_at(const struct toml *t, size_t i);
size_t toml_array_len(const struct toml *t);
const struct toml *toml_array_at(const struct toml *t, size_t i);

/* Scalar accessors; NULL / def when t is NULL or of another type. */
const char *toml_string(const struct toml *t); /* strings and datetimes */
int64_t toml_int_or(const struct toml *t, int64_t def);
double toml_float_or(const struct toml *t, double def); /* integers convert */
bool toml_bool_or(const struct toml *t, bool def);

/*
 * Typed lookups of key in table tab for configuration readers: 1 and *ret set when the
 * key is present with the right type, 0 when absent (tab NULL counts as absent), -1 and
 * EINVAL "line N: KEY: expected a string, not an integer" when the type is wrong.
 * toml_get_strv appends the items of an array of strings to ret (nothing on error).
 */
int toml_get_string(const struct toml *tab, const char *key, const char **ret, struct skiff_err **err);
int toml_get_int(const struct toml *tab, const char *key, int64_t *ret, struct skiff_err **err);
int toml_get_bool(const struct toml *tab, const char *key, bool *ret, struct skiff_err **err);
int toml_get_table(const struct toml *tab, const char *key, const struct toml **ret, struct skiff_err **err);
int toml_get_strv(const struct toml *tab, const char *key, struct strv *ret, struct skiff_err **err);

#endif
