/*
 * Private to pkg/cli/template*.c: Go's fmt over JSON values and the template function
 * library (template_funcs.c), used by the parser and executor (template.c).
 */
#ifndef SKIFF_CLI_TEMPLATE_INT_H
#define SKIFF_CLI_TEMPLATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/json/json.h"
#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"

/* Values made during one execution; freed together when it ends. */
struct tmpl_arena {
	struct json **v;
	size_t len, alloc;
};
/* Take j into the arena and return it. */
const struct json *tmpl_keep(struct tmpl_arena *a, struct json *j);
void tmpl_arena_release(struct tmpl_arena *a);

/* One function call. A function's error message has no position: the executor adds
 * "template: L:C: error calling NAME: ". */
struct tmpl_call {
	const char *name;
	struct tmpl_arena *arena;
	struct skiff_err **err;
};

/* Arguments and result: NULL is a missing value ("<no value>"). The result may be an
 * argument, a part of one, or a value kept in the arena. */
typedef int tmpl_func_fn(struct tmpl_call *c, const struct json **argv, size_t argc, const struct json **ret);

struct tmpl_func {
	const char *name;
	int min, max;	  /* number of arguments; max < 0: no limit */
	tmpl_func_fn *fn; /* NULL for "and" and "or", which the executor evaluates lazily */
};

const struct tmpl_func *tmpl_func_find(const char *name);

/* Go's type name for a decoded JSON value ("string", "int", "[]interface {}"). */
const char *tmpl_type_name(const struct json *j);
bool tmpl_is_nil(const struct json *j); /* missing or JSON null */
bool tmpl_truth(const struct json *j);	/* text/template's truth */
/* Append j as Go's fmt.Print does (%v); a missing value prints <nil>. */
void tmpl_print_value(struct strbuf *out, const struct json *j);

struct tmpl_kv {
	const char *k;
	const struct json *v;
};
/* The members of an object sorted by key (caller frees the array). */
struct tmpl_kv *tmpl_sorted_members(const struct json *obj);

void tmpl_put_utf8(struct strbuf *sb, uint32_t r);
/* The code point of the valid UTF-8 sequence s[0..n) (n from text_utf8_len()). */
uint32_t tmpl_utf8_decode(const char *s, size_t n);

#endif
