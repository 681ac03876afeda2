#include "pkg/json/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

#define JSON_MAX_DEPTH 512

struct parse_ctx {
	struct json *root;
	struct json *stack[JSON_MAX_DEPTH];
	char *pending_key[JSON_MAX_DEPTH];
	int depth;
	const char *error;
};

static struct json *new_node(enum json_type t)
{
	struct json *j = xzalloc(sizeof(*j));
	j->type = t;
	return j;
}

struct json *json_new_null(void)
{
	return new_node(JSON_NULL);
}

struct json *json_new_bool(bool b)
{
	struct json *j = new_node(JSON_BOOL);
	j->u.b = b;
	return j;
}

struct json *json_new_int(int64_t i)
{
	struct json *j = new_node(JSON_NUMBER);
	j->u.num.is_int = true;
	j->u.num.i = i;
	j->u.num.d = (double)i;
	return j;
}

struct json *json_new_double(double d)
{
	struct json *j = new_node(JSON_NUMBER);
	j->u.num.d = d;
	if (d == floor(d) && fabs(d) < 9.2e18) {
		j->u.num.is_int = true;
		j->u.num.i = (int64_t)d;
	}
	return j;
}

struct json *json_new_stringn(const char *s, size_t n)
{
	struct json *j = new_node(JSON_STRING);
	j->u.str.s = xmalloc(n + 1);
	memcpy(j->u.str.s, s, n);
	j->u.str.s[n] = '\0';
	j->u.str.len = n;
	return j;
}

struct json *json_new_string(const char *s)
{
	if (!s)
		return json_new_null();
	return json_new_stringn(s, strlen(s));
}

struct json *json_new_array(void)
{
	return new_node(JSON_ARRAY);
}

struct json *json_new_object(void)
{
	return new_node(JSON_OBJECT);
}

void json_free(struct json *j)
{
	if (!j)
		return;
	switch (j->type) {
	case JSON_STRING:
		free(j->u.str.s);
		break;
	case JSON_ARRAY:
		for (size_t i = 0; i < j->u.arr.len; i++)
			json_free(j->u.arr.items[i]);
		free(j->u.arr.items);
		break;
	case JSON_OBJECT:
		for (size_t i = 0; i < j->u.obj.len; i++) {
			free(j->u.obj.keys[i]);
			json_free(j->u.obj.vals[i]);
		}
		free(j->u.obj.keys);
		free(j->u.obj.vals);
		break;
	default:
		break;
	}
	free(j);
}

struct json *json_clone(const struct json *j)
{
	struct json *c;
	if (!j)
		return NULL;
	switch (j->type) {
	case JSON_STRING:
		return json_new_stringn(j->u.str.s, j->u.str.len);
	case JSON_ARRAY:
		c = json_new_array();
		for (size_t i = 0; i < j->u.arr.len; i++)
			json_array_append(c, json_clone(j->u.arr.items[i]));
		return c;
	case JSON_OBJECT:
		c = json_new_object();
		for (size_t i = 0; i < j->u.obj.len; i++)
			json_object_set(c, j->u.obj.keys[i], json_clone(j->u.obj.vals[i]));
		return c;
	default:
		c = new_node(j->type);
		c->u = j->u;
		return c;
	}
}

void json_array_append(struct json *arr, struct json *val)
{
	ALLOC_GROW(arr->u.arr.items, arr->u.arr.len + 1, arr->u.arr.alloc);
	arr->u.arr.items[arr->u.arr.len++] = val;
}

static void object_set_take_key(struct json *obj, char *key, struct json *val)
{
	for (size_t i = 0; i < obj->u.obj.len; i++) {
		if (strcmp(obj->u.obj.keys[i], key) == 0) {
			free(key);
			json_free(obj->u.obj.vals[i]);
			obj->u.obj.vals[i] = val;
			return;
		}
	}
	size_t alloc = obj->u.obj.alloc;
	ALLOC_GROW(obj->u.obj.keys, obj->u.obj.len + 1, alloc);
	alloc = obj->u.obj.alloc;
	ALLOC_GROW(obj->u.obj.vals, obj->u.obj.len + 1, obj->u.obj.alloc);
	(void)alloc;
	obj->u.obj.keys[obj->u.obj.len] = key;
	obj->u.obj.vals[obj->u.obj.len] = val;
	obj->u.obj.len++;
}

void json_object_set(struct json *obj, const char *key, struct json *val)
{
	object_set_take_key(obj, xstrdup(key), val);
}

void json_object_set_string(struct json *obj, const char *key, const char *s)
{
	json_object_set(obj, key, json_new_string(s));
}

void json_object_set_int(struct json *obj, const char *key, int64_t i)
{
	json_object_set(obj, key, json_new_int(i));
}

void json_object_set_bool(struct json *obj, const char *key, bool b)
{
	json_object_set(obj, key, json_new_bool(b));
}

struct json *json_object_get(const struct json *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->u.obj.len; i++)
		if (strcmp(obj->u.obj.keys[i], key) == 0)
			return obj->u.obj.vals[i];
	return NULL;
}

const char *json_object_get_string(const struct json *obj, const char *key)
{
	return json_string(json_object_get(obj, key));
}

struct json *json_get_path(const struct json *j, ...)
{
	va_list ap;
	const char *key;
	va_start(ap, j);
	while (j && (key = va_arg(ap, const char *)))
		j = json_object_get(j, key);
	va_end(ap);
	return (struct json *)j;
}

size_t json_array_len(const struct json *arr)
{
	return arr && arr->type == JSON_ARRAY ? arr->u.arr.len : 0;
}

struct json *json_array_get(const struct json *arr, size_t i)
{
	if (!arr || arr->type != JSON_ARRAY || i >= arr->u.arr.len)
		return NULL;
	return arr->u.arr.items[i];
}

const char *json_string(const struct json *j)
{
	return j && j->type == JSON_STRING ? j->u.str.s : NULL;
}

bool json_is(const struct json *j, enum json_type t)
{
	return j && j->type == t;
}

/* ---- parser ---- */

static int add_value(struct parse_ctx *c, struct json *v)
{
	if (c->depth == 0) {
		if (c->root) {
			json_free(v);
			c->error = "trailing data";
			return 0;
		}
		c->root = v;
		return 1;
	}
	struct json *top = c->stack[c->depth - 1];
	if (top->type == JSON_ARRAY) {
		json_array_append(top, v);
	} else {
		char *key = c->pending_key[c->depth - 1];
		c->pending_key[c->depth - 1] = NULL;
		if (!key) {
			json_free(v);
			c->error = "value without key";
			return 0;
		}
		object_set_take_key(top, key, v);
	}
	return 1;
}

static int push(struct parse_ctx *c, struct json *v)
{
	if (c->depth >= JSON_MAX_DEPTH) {
		json_free(v);
		c->error = "nesting too deep";
		return 0;
	}
	if (!add_value(c, v))
		return 0;
	c->stack[c->depth] = v;
	c->pending_key[c->depth] = NULL;
	c->depth++;
	return 1;
}

static int cb_null(void *ctx)
{
	return add_value(ctx, json_new_null());
}

static int cb_boolean(void *ctx, int b)
{
	return add_value(ctx, json_new_bool(b));
}

static int cb_number(void *ctx, const char *s, size_t len)
{
	struct parse_ctx *c = ctx;
	char tmp[64];
	struct json *j;

	if (len >= sizeof(tmp)) {
		c->error = "number too long";
		return 0;
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	j = new_node(JSON_NUMBER);
	if (!memchr(tmp, '.', len) && !memchr(tmp, 'e', len) && !memchr(tmp, 'E', len)) {
		char *end;
		errno = 0;
		long long v = strtoll(tmp, &end, 10);
		if (errno == 0 && *end == '\0') {
			j->u.num.is_int = true;
			j->u.num.i = v;
			j->u.num.d = (double)v;
			return add_value(c, j);
		}
	}
	j->u.num.d = strtod(tmp, NULL);
	return add_value(c, j);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
	return add_value(ctx, json_new_stringn((const char *)s, len));
}

static int cb_start_map(void *ctx)
{
	return push(ctx, json_new_object());
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct parse_ctx *c = ctx;
	free(c->pending_key[c->depth - 1]);
	c->pending_key[c->depth - 1] = xstrndup((const char *)s, len);
	if (strlen(c->pending_key[c->depth - 1]) != len) {
		c->error = "NUL byte in object key";
		return 0;
	}
	return 1;
}

static int cb_end(void *ctx)
{
	struct parse_ctx *c = ctx;
	c->depth--;
	free(c->pending_key[c->depth]);
	c->pending_key[c->depth] = NULL;
	return 1;
}

static int cb_start_array(void *ctx)
{
	return push(ctx, json_new_array());
}

static const yajl_callbacks callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_boolean,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_map_key,
	.yajl_end_map = cb_end,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_end,
};

int json_parse(const char *buf, size_t len, struct json **ret, struct skiff_err **err)
{
	struct parse_ctx c = {0};
	yajl_handle h = yajl_alloc(&callbacks, NULL, &c);
	yajl_status st;
	int rc = 0;

	if (!h)
		return err_makex(err, ENOMEM, "json: cannot allocate parser");
	st = yajl_parse(h, (const unsigned char *)buf, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	if (st != yajl_status_ok || c.error) {
		size_t off = yajl_get_bytes_consumed(h);
		if (c.error) {
			rc = err_makex(err, EINVAL, "invalid JSON at offset %zu: %s", off, c.error);
		} else {
			unsigned char *m = yajl_get_error(h, 0, (const unsigned char *)buf, len);
			char *msg = m ? (char *)m : (char *)"parse error";
			/* yajl says e.g. "lexical error: invalid char in json text.\n" */
			size_t ml = strcspn(msg, "\n");
			rc = err_makex(err, EINVAL, "invalid JSON at offset %zu: %.*s", off, (int)ml, msg);
			if (m)
				yajl_free_error(h, m);
		}
		while (c.depth > 0) {
			c.depth--;
			free(c.pending_key[c.depth]);
		}
		json_free(c.root);
		yajl_free(h);
		return rc;
	}
	yajl_free(h);
	if (!c.root)
		return err_makex(err, EINVAL, "invalid JSON: empty document");
	*ret = c.root;
	return 0;
}

/* ---- generator ---- */

void json_quote(const char *s, size_t len, struct strbuf *out)
{
	static const char hex[] = "0123456789abcdef";
	strbuf_addch(out, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		switch (ch) {
		case '"':
			strbuf_addstr(out, "\\\"");
			break;
		case '\\':
			strbuf_addstr(out, "\\\\");
			break;
		case '\n':
			strbuf_addstr(out, "\\n");
			break;
		case '\r':
			strbuf_addstr(out, "\\r");
			break;
		case '\t':
			strbuf_addstr(out, "\\t");
			break;
		case '\b':
			strbuf_addstr(out, "\\b");
			break;
		case '\f':
			strbuf_addstr(out, "\\f");
			break;
		case '<':
		case '>':
		case '&':
			/* Go's encoding/json escapes these; podman output does too. */
			strbuf_addstr(out, "\\u00");
			strbuf_addch(out, hex[ch >> 4]);
			strbuf_addch(out, hex[ch & 15]);
			break;
		default:
			if (ch < 0x20) {
				strbuf_addstr(out, "\\u00");
				strbuf_addch(out, hex[ch >> 4]);
				strbuf_addch(out, hex[ch & 15]);
			} else {
				strbuf_addch(out, (char)ch);
			}
		}
	}
	strbuf_addch(out, '"');
}

static void newline(struct strbuf *out, int indent, int level)
{
	if (!indent)
		return;
	strbuf_addch(out, '\n');
	strbuf_addchars(out, ' ', (size_t)indent * (size_t)level);
}

static void dump(const struct json *j, int indent, int level, struct strbuf *out)
{
	if (!j) {
		strbuf_addstr(out, "null");
		return;
	}
	switch (j->type) {
	case JSON_NULL:
		strbuf_addstr(out, "null");
		break;
	case JSON_BOOL:
		strbuf_addstr(out, j->u.b ? "true" : "false");
		break;
	case JSON_NUMBER:
		if (j->u.num.is_int)
			strbuf_addf(out, "%lld", (long long)j->u.num.i);
		else if (isfinite(j->u.num.d))
			strbuf_addf(out, "%.17g", j->u.num.d);
		else
			strbuf_addstr(out, "null");
		break;
	case JSON_STRING:
		json_quote(j->u.str.s, j->u.str.len, out);
		break;
	case JSON_ARRAY:
		if (!j->u.arr.len) {
			strbuf_addstr(out, "[]");
			break;
		}
		strbuf_addch(out, '[');
		for (size_t i = 0; i < j->u.arr.len; i++) {
			if (i)
				strbuf_addch(out, ',');
			newline(out, indent, level + 1);
			dump(j->u.arr.items[i], indent, level + 1, out);
		}
		newline(out, indent, level);
		strbuf_addch(out, ']');
		break;
	case JSON_OBJECT:
		if (!j->u.obj.len) {
			strbuf_addstr(out, "{}");
			break;
		}
		strbuf_addch(out, '{');
		for (size_t i = 0; i < j->u.obj.len; i++) {
			if (i)
				strbuf_addch(out, ',');
			newline(out, indent, level + 1);
			json_quote(j->u.obj.keys[i], strlen(j->u.obj.keys[i]), out);
			strbuf_addstr(out, indent ? ": " : ":");
			dump(j->u.obj.vals[i], indent, level + 1, out);
		}
		newline(out, indent, level);
		strbuf_addch(out, '}');
		break;
	}
}

void json_dump(const struct json *j, int indent, struct strbuf *out)
{
	dump(j, indent, 0, out);
}
