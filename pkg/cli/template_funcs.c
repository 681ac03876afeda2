/*
 * The template function library and Go's fmt over decoded JSON values: %v printing,
 * printf verbs and flags, and encoding/json's compact output (podman's "json").
 */
#include "pkg/cli/template_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/cli/table.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

#define MAX_WIDTH 1000000 /* printf width and precision, pad counts (Go's fmt limit) */

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

const struct json *tmpl_keep(struct tmpl_arena *a, struct json *j)
{
	ALLOC_GROW(a->v, a->len + 1, a->alloc);
	a->v[a->len++] = j;
	return j;
}

void tmpl_arena_release(struct tmpl_arena *a)
{
	for (size_t i = 0; i < a->len; i++)
		json_free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->len = a->alloc = 0;
}

void tmpl_put_utf8(struct strbuf *sb, uint32_t r)
{
	if (r < 0x80) {
		strbuf_addch(sb, (char)r);
	} else if (r < 0x800) {
		strbuf_addch(sb, (char)(0xc0 | (r >> 6)));
		strbuf_addch(sb, (char)(0x80 | (r & 0x3f)));
	} else if (r < 0x10000) {
		strbuf_addch(sb, (char)(0xe0 | (r >> 12)));
		strbuf_addch(sb, (char)(0x80 | ((r >> 6) & 0x3f)));
		strbuf_addch(sb, (char)(0x80 | (r & 0x3f)));
	} else {
		strbuf_addch(sb, (char)(0xf0 | (r >> 18)));
		strbuf_addch(sb, (char)(0x80 | ((r >> 12) & 0x3f)));
		strbuf_addch(sb, (char)(0x80 | ((r >> 6) & 0x3f)));
		strbuf_addch(sb, (char)(0x80 | (r & 0x3f)));
	}
}

uint32_t tmpl_utf8_decode(const char *s, size_t n)
{
	static const unsigned char lead_mask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
	uint32_t r = (unsigned char)s[0] & lead_mask[n];

	for (size_t k = 1; k < n; k++)
		r = (r << 6) | ((unsigned char)s[k] & 0x3fu);
	return r;
}

/* ---- values ---- */

const char *tmpl_type_name(const struct json *j)
{
	if (!j)
		return "<nil>";
	switch (j->type) {
	case JSON_NULL:
		return "<nil>";
	case JSON_BOOL:
		return "bool";
	case JSON_NUMBER:
		return j->u.num.is_int ? "int" : "float64";
	case JSON_STRING:
		return "string";
	case JSON_ARRAY:
		return "[]interface {}";
	case JSON_OBJECT:
		return "map[string]interface {}";
	}
	return "?";
}

bool tmpl_is_nil(const struct json *j)
{
	return !j || j->type == JSON_NULL;
}

bool tmpl_truth(const struct json *j)
{
	if (!j)
		return false;
	switch (j->type) {
	case JSON_NULL:
		return false;
	case JSON_BOOL:
		return j->u.b;
	case JSON_NUMBER:
		return j->u.num.is_int ? j->u.num.i != 0 : j->u.num.d != 0;
	case JSON_STRING:
		return j->u.str.len > 0;
	case JSON_ARRAY:
		return j->u.arr.len > 0;
	case JSON_OBJECT:
		return j->u.obj.len > 0;
	}
	return false;
}

/* An integer, or a float with an integral value (Go's untyped constants). */
static bool get_int(const struct json *j, int64_t *v)
{
	if (!j || j->type != JSON_NUMBER)
		return false;
	if (j->u.num.is_int) {
		*v = j->u.num.i;
		return true;
	}
	if (j->u.num.d != floor(j->u.num.d) || fabs(j->u.num.d) > 9.0e18)
		return false;
	*v = (int64_t)j->u.num.d;
	return true;
}

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tmpl_kv *)a)->k, ((const struct tmpl_kv *)b)->k);
}

struct tmpl_kv *tmpl_sorted_members(const struct json *obj)
{
	struct tmpl_kv *kv = xcalloc(obj->u.obj.len ? obj->u.obj.len : 1, sizeof(*kv));

	for (size_t i = 0; i < obj->u.obj.len; i++)
		kv[i] = (struct tmpl_kv){obj->u.obj.keys[i], obj->u.obj.vals[i]};
	qsort(kv, obj->u.obj.len, sizeof(*kv), kv_cmp);
	return kv;
}

/* ---- Go's fmt ---- */

struct spec {
	bool minus, plus, sharp, space, zero;
	bool has_wid, has_prec;
	int wid, prec;
	char verb[5]; /* the verb's bytes, for %!x(...) */
};

static const struct spec plain_v = {.verb = "v"};

static void pad(struct strbuf *out, const char *s, size_t len, const struct spec *sp)
{
	size_t w = text_width(s, len), want = sp->has_wid ? (size_t)sp->wid : 0;

	if (w >= want) {
		strbuf_add(out, s, len);
	} else if (sp->minus) {
		strbuf_add(out, s, len);
		strbuf_addchars(out, ' ', want - w);
	} else {
		strbuf_addchars(out, sp->zero ? '0' : ' ', want - w);
		strbuf_add(out, s, len);
	}
}

/* Shortest decimal digits that read back as d: d = 0.DIGITS * 10^(exp+1). */
static size_t float_digits(double d, char dig[24], int *exp)
{
	char buf[64];
	size_t nd = 0;
	int n = 0;

	for (int prec = 0; prec < 17; prec++) {
		n = snprintf(buf, sizeof(buf), "%.*e", prec, d);
		if (n > 0 && (size_t)n < sizeof(buf) && strtod(buf, NULL) == d)
			break;
	}
	for (const char *c = buf[0] == '-' ? buf + 1 : buf; *c && *c != 'e'; c++)
		if (is_digit(*c) && nd < 23)
			dig[nd++] = *c;
	while (nd > 1 && dig[nd - 1] == '0')
		nd--;
	dig[nd] = '\0';
	*exp = atoi(strchr(buf, 'e') ? strchr(buf, 'e') + 1 : "0");
	return nd;
}

/* Go's strconv.FormatFloat(d, 'g' or 'e' or 'f', -1, 64); mode 'g' switches at 1e-4 and 1e+6. */
static void go_float(struct strbuf *out, double d, char mode)
{
	char dig[24];
	int exp;
	size_t nd;

	if (isnan(d)) {
		strbuf_addstr(out, "NaN");
		return;
	}
	if (isinf(d)) {
		strbuf_addstr(out, d > 0 ? "+Inf" : "-Inf");
		return;
	}
	nd = float_digits(d, dig, &exp);
	if (signbit(d))
		strbuf_addch(out, '-');
	if (d == 0)
		exp = 0;
	if (mode == 'e' || (mode == 'g' && (exp < -4 || exp >= 6))) {
		strbuf_addch(out, dig[0]);
		if (nd > 1) {
			strbuf_addch(out, '.');
			strbuf_add(out, dig + 1, nd - 1);
		}
		strbuf_addf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
		return;
	}
	if (exp < 0) {
		strbuf_addstr(out, "0.");
		strbuf_addchars(out, '0', (size_t)(-exp - 1));
		strbuf_add(out, dig, nd);
		return;
	}
	for (size_t k = 0; k <= (size_t)exp; k++)
		strbuf_addch(out, k < nd ? dig[k] : '0');
	if (nd > (size_t)exp + 1) {
		strbuf_addch(out, '.');
		strbuf_add(out, dig + exp + 1, nd - (size_t)exp - 1);
	}
}

static void fmt_value(struct strbuf *out, int verb, const struct spec *sp, const struct json *j);

static void bad_verb(struct strbuf *out, const struct spec *sp, const struct json *j)
{
	strbuf_addstr(out, "%!");
	strbuf_addstr(out, sp->verb);
	strbuf_addch(out, '(');
	if (tmpl_is_nil(j)) {
		strbuf_addstr(out, "<nil>");
	} else {
		strbuf_addstr(out, tmpl_type_name(j));
		strbuf_addch(out, '=');
		fmt_value(out, 'v', &plain_v, j);
	}
	strbuf_addch(out, ')');
}

/* strconv.Quote, close enough: printable non-ASCII is kept as is. */
static void go_quote(struct strbuf *out, const char *s, size_t len)
{
	strbuf_addch(out, '"');
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = text_utf8_len(s + i, len - i);
		const char *esc = NULL;

		if (n == 0) {
			strbuf_addf(out, "\\x%02x", c);
			i++;
			continue;
		}
		if (n > 1) {
			uint32_t r = tmpl_utf8_decode(s + i, n);
			if (r < 0xa0 || r == 0x2028 || r == 0x2029 || r == 0xfeff)
				strbuf_addf(out, "\\u%04x", r); /* not printable */
			else
				strbuf_add(out, s + i, n);
			i += n;
			continue;
		}
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\a':
			esc = "\\a";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		case '\v':
			esc = "\\v";
			break;
		}
		if (esc)
			strbuf_addstr(out, esc);
		else if (c < 0x20 || c == 0x7f)
			strbuf_addf(out, "\\x%02x", c);
		else
			strbuf_addch(out, (char)c);
		i++;
	}
	strbuf_addch(out, '"');
}

static void fmt_string(struct strbuf *out, int verb, const struct spec *sp, const char *s, size_t len,
		       const struct json *j)
{
	struct strbuf tmp = STRBUF_INIT;

	if (sp->has_prec) { /* at most prec characters */
		size_t i = 0;
		for (int k = 0; k < sp->prec && i < len; k++) {
			size_t n = text_utf8_len(s + i, len - i);
			i += n ? n : 1;
		}
		len = i;
	}
	switch (verb) {
	case 'v':
	case 's':
		pad(out, s, len, sp);
		break;
	case 'q':
		go_quote(&tmp, s, len);
		pad(out, tmp.buf, tmp.len, sp);
		break;
	case 'x':
	case 'X':
		for (size_t i = 0; i < len; i++)
			strbuf_addf(&tmp, verb == 'x' ? "%02x" : "%02X", (unsigned char)s[i]);
		pad(out, tmp.buf, tmp.len, sp);
		break;
	default:
		bad_verb(out, sp, j);
	}
	strbuf_release(&tmp);
}

/* Build "%<flags>*.*ll<conv>" for the C library. */
static void c_format(char f[16], const struct spec *sp, const char *conv, bool sharp_ok)
{
	size_t k = 0;

	f[k++] = '%';
	if (sp->minus)
		f[k++] = '-';
	if (sp->plus)
		f[k++] = '+';
	if (sp->space)
		f[k++] = ' ';
	if (sp->zero)
		f[k++] = '0';
	if (sp->sharp && sharp_ok)
		f[k++] = '#';
	f[k++] = '*';
	f[k++] = '.';
	f[k++] = '*';
	while (*conv)
		f[k++] = *conv++;
	f[k] = '\0';
}

static void fmt_int(struct strbuf *out, int verb, const struct spec *sp, int64_t v, const struct json *j)
{
	int wid = sp->has_wid ? sp->wid : 0, prec = sp->has_prec ? sp->prec : -1;
	struct strbuf tmp = STRBUF_INIT;
	char f[16];

	switch (verb) {
	case 'v':
	case 'd':
		c_format(f, sp, "lld", false);
		strbuf_addf(out, f, wid, prec, (long long)v);
		break;
	case 'x':
	case 'X':
	case 'o': {
		const char conv[] = {'l', 'l', (char)verb, '\0'};
		if (v >= 0) {
			c_format(f, sp, conv, true);
			strbuf_addf(out, f, wid, prec, (unsigned long long)v);
		} else { /* Go prints the sign and the magnitude */
			struct spec inner = {.sharp = sp->sharp, .has_prec = sp->has_prec, .prec = sp->prec};
			strbuf_addch(&tmp, '-');
			c_format(f, &inner, conv, true);
			strbuf_addf(&tmp, f, 0, prec, (unsigned long long)0 - (unsigned long long)v);
			pad(out, tmp.buf, tmp.len, sp);
		}
		break;
	}
	case 'c':
	case 'q':
		if (v < 0 || v > 0x10ffff || (v >= 0xd800 && v < 0xe000))
			v = 0xfffd;
		if (verb == 'q')
			strbuf_addch(&tmp, '\'');
		tmpl_put_utf8(&tmp, (uint32_t)v);
		if (verb == 'q')
			strbuf_addch(&tmp, '\'');
		pad(out, tmp.buf, tmp.len, sp);
		break;
	default:
		bad_verb(out, sp, j);
	}
	strbuf_release(&tmp);
}

static void fmt_float(struct strbuf *out, int verb, const struct spec *sp, double d, const struct json *j)
{
	struct strbuf tmp = STRBUF_INIT;
	char f[16];

	if ((verb == 'v' || verb == 'g' || verb == 'G') && !sp->has_prec) {
		if (sp->plus && !signbit(d))
			strbuf_addch(&tmp, '+');
		else if (sp->space && !signbit(d))
			strbuf_addch(&tmp, ' ');
		go_float(&tmp, d, 'g');
		if (verb == 'G')
			for (size_t i = 0; i < tmp.len; i++)
				if (tmp.buf[i] == 'e')
					tmp.buf[i] = 'E';
		if (sp->zero && !sp->minus && sp->has_wid && text_width(tmp.buf, tmp.len) < (size_t)sp->wid) {
			size_t sign = tmp.len && strchr("+- ", tmp.buf[0]) ? 1 : 0;
			strbuf_add(out, tmp.buf, sign);
			strbuf_addchars(out, '0', (size_t)sp->wid - tmp.len);
			strbuf_add(out, tmp.buf + sign, tmp.len - sign);
		} else {
			pad(out, tmp.buf, tmp.len, sp);
		}
	} else if ((verb && strchr("eEfFgG", verb)) || verb == 'v') {
		const char conv[] = {verb == 'v' ? 'g' : (char)verb, '\0'};
		c_format(f, sp, conv, true);
		strbuf_addf(out, f, sp->has_wid ? sp->wid : 0, sp->has_prec ? sp->prec : 6, d);
	} else {
		bad_verb(out, sp, j);
	}
	strbuf_release(&tmp);
}

/* Format j as Go's fmt does for an interface{} holding the decoded JSON value. */
static void fmt_value(struct strbuf *out, int verb, const struct spec *sp, const struct json *j)
{
	if (tmpl_is_nil(j)) {
		if (verb == 'v')
			pad(out, "<nil>", 5, sp);
		else
			bad_verb(out, sp, j);
		return;
	}
	switch (j->type) {
	case JSON_NULL:
		break;
	case JSON_BOOL:
		if (verb == 'v' || verb == 't')
			pad(out, j->u.b ? "true" : "false", j->u.b ? 4 : 5, sp);
		else
			bad_verb(out, sp, j);
		break;
	case JSON_NUMBER:
		if (j->u.num.is_int)
			fmt_int(out, verb, sp, j->u.num.i, j);
		else
			fmt_float(out, verb, sp, j->u.num.d, j);
		break;
	case JSON_STRING:
		fmt_string(out, verb, sp, j->u.str.s, j->u.str.len, j);
		break;
	case JSON_ARRAY:
		strbuf_addch(out, '[');
		for (size_t i = 0; i < j->u.arr.len; i++) {
			if (i)
				strbuf_addch(out, ' ');
			fmt_value(out, verb, sp, j->u.arr.items[i]);
		}
		strbuf_addch(out, ']');
		break;
	case JSON_OBJECT: {
		struct tmpl_kv *kv = tmpl_sorted_members(j);
		strbuf_addstr(out, "map[");
		for (size_t i = 0; i < j->u.obj.len; i++) {
			if (i)
				strbuf_addch(out, ' ');
			fmt_string(out, verb, sp, kv[i].k, strlen(kv[i].k), NULL);
			strbuf_addch(out, ':');
			fmt_value(out, verb, sp, kv[i].v);
		}
		strbuf_addch(out, ']');
		free(kv);
		break;
	}
	}
}

/* Parse a width or precision; -1 when it is too large (Go then reports NOVERB). */
static int parse_num(const char *f, size_t *i, size_t n, int *v, bool *present)
{
	long num = 0;

	*present = false;
	while (*i < n && is_digit(f[*i])) {
		num = num * 10 + (f[*i] - '0');
		if (num > MAX_WIDTH)
			return -1;
		*present = true;
		(*i)++;
	}
	*v = (int)num;
	return 0;
}

static void go_sprintf(struct strbuf *out, const char *f, size_t n, const struct json **argv, size_t argc)
{
	size_t argi = 0, i = 0;

	while (i < n) {
		struct spec sp = {0};
		size_t vlen;

		if (f[i] != '%') {
			size_t j = i;
			while (j < n && f[j] != '%')
				j++;
			strbuf_add(out, f + i, j - i);
			i = j;
			continue;
		}
		for (i++; i < n; i++) {
			if (f[i] == '#')
				sp.sharp = true;
			else if (f[i] == '0')
				sp.zero = !sp.minus;
			else if (f[i] == '+')
				sp.plus = true;
			else if (f[i] == '-')
				sp.minus = true, sp.zero = false;
			else if (f[i] == ' ')
				sp.space = true;
			else
				break;
		}
		if (parse_num(f, &i, n, &sp.wid, &sp.has_wid) < 0) {
			strbuf_addstr(out, "%!(NOVERB)");
			break;
		}
		if (i < n && f[i] == '.') {
			i++;
			if (parse_num(f, &i, n, &sp.prec, &sp.has_prec) < 0) {
				strbuf_addstr(out, "%!(NOVERB)");
				break;
			}
			sp.has_prec = true; /* "%.f" is precision 0 */
		}
		if (i >= n) {
			strbuf_addstr(out, "%!(NOVERB)");
			break;
		}
		vlen = text_utf8_len(f + i, n - i);
		vlen = vlen ? vlen : 1;
		memcpy(sp.verb, f + i, vlen);
		sp.verb[vlen] = '\0';
		i += vlen;
		if (sp.verb[0] == '%' && vlen == 1) {
			strbuf_addch(out, '%');
			continue;
		}
		if (argi >= argc) {
			strbuf_addf(out, "%%!%s(MISSING)", sp.verb);
			continue;
		}
		fmt_value(out, vlen == 1 ? sp.verb[0] : 0, &sp, argv[argi++]);
	}
	if (argi < argc) {
		strbuf_addstr(out, "%!(EXTRA ");
		for (size_t k = argi; k < argc; k++) {
			if (k > argi)
				strbuf_addstr(out, ", ");
			if (tmpl_is_nil(argv[k])) {
				strbuf_addstr(out, "<nil>");
				continue;
			}
			strbuf_addstr(out, tmpl_type_name(argv[k]));
			strbuf_addch(out, '=');
			fmt_value(out, 'v', &plain_v, argv[k]);
		}
		strbuf_addch(out, ')');
	}
}

/* encoding/json with SetEscapeHTML(false), as podman's "json" function. */
static void go_json(struct strbuf *out, const struct json *j)
{
	if (tmpl_is_nil(j)) {
		strbuf_addstr(out, "null");
		return;
	}
	switch (j->type) {
	case JSON_NULL:
		break;
	case JSON_BOOL:
		strbuf_addstr(out, j->u.b ? "true" : "false");
		break;
	case JSON_NUMBER:
		if (j->u.num.is_int) {
			strbuf_addf(out, "%lld", (long long)j->u.num.i);
		} else if (!isfinite(j->u.num.d)) {
			strbuf_addstr(out, "null");
		} else {
			double a = fabs(j->u.num.d);
			size_t before = out->len;
			go_float(out, j->u.num.d, a != 0 && (a < 1e-6 || a >= 1e21) ? 'e' : 'f');
			/* Go writes e-07 as e-7 */
			if (out->len - before >= 4 && out->buf[out->len - 4] == 'e' && out->buf[out->len - 3] == '-' &&
			    out->buf[out->len - 2] == '0') {
				out->buf[out->len - 2] = out->buf[out->len - 1];
				strbuf_setlen(out, out->len - 1);
			}
		}
		break;
	case JSON_STRING: {
		const char *s = j->u.str.s;
		size_t len = j->u.str.len;
		strbuf_addch(out, '"');
		for (size_t i = 0; i < len;) {
			unsigned char c = (unsigned char)s[i];
			size_t n = text_utf8_len(s + i, len - i);
			if (!n) {
				strbuf_addstr(out, "\\ufffd");
				i++;
			} else if (n == 3 && c == 0xe2 && (unsigned char)s[i + 1] == 0x80 &&
				   ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
				strbuf_addstr(out, (unsigned char)s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
				i += 3;
			} else if (n > 1) {
				strbuf_add(out, s + i, n);
				i += n;
			} else {
				const char *e = c == '"'    ? "\\\""
						: c == '\\' ? "\\\\"
						: c == '\n' ? "\\n"
						: c == '\r' ? "\\r"
						: c == '\t' ? "\\t"
						: c == '\b' ? "\\b"
						: c == '\f' ? "\\f"
							    : NULL;
				if (e)
					strbuf_addstr(out, e);
				else if (c < 0x20)
					strbuf_addf(out, "\\u%04x", c);
				else
					strbuf_addch(out, (char)c);
				i++;
			}
		}
		strbuf_addch(out, '"');
		break;
	}
	case JSON_ARRAY:
		strbuf_addch(out, '[');
		for (size_t i = 0; i < j->u.arr.len; i++) {
			if (i)
				strbuf_addch(out, ',');
			go_json(out, j->u.arr.items[i]);
		}
		strbuf_addch(out, ']');
		break;
	case JSON_OBJECT:
		strbuf_addch(out, '{');
		for (size_t i = 0; i < j->u.obj.len; i++) {
			struct json key = {.type = JSON_STRING};
			if (i)
				strbuf_addch(out, ',');
			key.u.str.s = j->u.obj.keys[i];
			key.u.str.len = strlen(j->u.obj.keys[i]);
			go_json(out, &key);
			strbuf_addch(out, ':');
			go_json(out, j->u.obj.vals[i]);
		}
		strbuf_addch(out, '}');
		break;
	}
}

void tmpl_print_value(struct strbuf *out, const struct json *j)
{
	fmt_value(out, 'v', &plain_v, j);
}

/* ---- functions ---- */

__attribute__((format(printf, 2, 3))) static int ferr(struct tmpl_call *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vmake(x->err, EINVAL, 0, fmt, ap);
	va_end(ap);
	return -1;
}

static const struct json *keep_strbuf(struct tmpl_call *x, struct strbuf *sb)
{
	const struct json *j = tmpl_keep(x->arena, json_new_stringn(sb->buf, sb->len));
	strbuf_release(sb);
	return j;
}

static int need_str(struct tmpl_call *x, const struct json *j, const char **s, size_t *len)
{
	if (!j)
		return ferr(x, "invalid value; expected string");
	if (j->type != JSON_STRING)
		return ferr(x, "wrong type for value; expected string; got %s", tmpl_type_name(j));
	*s = j->u.str.s;
	*len = j->u.str.len;
	return 0;
}

static int need_int(struct tmpl_call *x, const struct json *j, int64_t *v)
{
	if (!j)
		return ferr(x, "invalid value; expected int");
	if (!get_int(j, v))
		return ferr(x, "wrong type for value; expected int; got %s", tmpl_type_name(j));
	return 0;
}

static int fn_case(struct tmpl_call *x, const struct json **argv, const struct json **ret, int mode)
{
	struct strbuf sb = STRBUF_INIT;
	const char *s = NULL;
	size_t len = 0;
	bool word = false;

	if (need_str(x, argv[0], &s, &len) < 0)
		return -1;
	strbuf_add(&sb, s, len);
	for (size_t i = 0; i < sb.len; i++) {
		char c = sb.buf[i];
		bool lower = c >= 'a' && c <= 'z', upper = c >= 'A' && c <= 'Z';
		if ((mode == 'u' || (mode == 't' && !word)) && lower)
			sb.buf[i] = (char)(c - 'a' + 'A');
		else if (mode == 'l' && upper)
			sb.buf[i] = (char)(c - 'A' + 'a');
		/* strings.Title: ASCII letters, digits and '_' (and non-ASCII) continue a word */
		word = lower || upper || is_digit(c) || c == '_' || (unsigned char)c >= 0x80;
	}
	*ret = keep_strbuf(x, &sb);
	return 0;
}

static int fn_upper(struct tmpl_call *x, const struct json **argv, size_t argc, const struct json **ret)
{
	return fn_case(x, argv, ret, 'u');
}

static int fn_lower(struct tmpl_call *x, const struct json **argv, size_t argc, const struct json **ret)
{
	return fn_case(x, argv, ret, 'l');
}

static int fn_title(struct tmpl_call *x, const struct json **argv, size_t argc, const struct json **ret)
{
	return fn_case(x, argv, ret, 't');
}

static int fn_json(struct tmpl_call *x, const struct json **argv, size_t argc, const struct json **ret)
{
	struct strbuf sb = STRBUF_INIT;

	go_json(&sb, argv[0]);
	*ret = keep_strbuf(x, &sb);
	return 0;
}

static int fn_join(struct tmpl_call *x, const struct json **argv, size_t argc, const struct json **ret)
{
	struct strbuf sb = STRBUF_INIT;
	const struct json *l = argv[0];
	const char *sep = NULL;
	size_t seplen = 0;

	if (need_str(x, argv[1], &sep, &seplen) < 0)
		return -1;
	if (!tmpl_is_nil(l) && l->type != JSON_ARRAY)
		return ferr(x, "wrong type for value; expected []string; got %s", tmpl_type_name(l));
	for (size_t i = 0; !tmpl_is_nil(l) && i < l->u.arr.len; i++) {
		const struct json *e = l->u.arr.items[i];
		if (!e || e->type != JSON_STRING) {
			strbuf_release(&sb);
			return ferr(x, "wrong type for value; expected []string; got element %zu of type %s", i,
				    tmpl_type_name(e));
		}
		if (i)
			strbuf_add(&sb, sep, seplen);
		strbuf_add(&sb, e->u.str.s, e->u.str.len);
	}
	*ret = keep_strbuf(x, &sb);
	return 0;
}

static int fn_truncate(struct tmpl_call *x, const struct json **argv, size_t argc, const struct json **ret)
{
	const char *s = NULL;
	size_t len = 0;
	int64_t n = 0;

	if (need_str(x, argv[0], &s, &len) < 0 || need_int(x, argv[1], &n) < 0)
		return -1;
	if (n < 0)
		return ferr(x, "negative length %lld", (long long)n);
	if ((uint64_t)n < len) {
		len = (size_t)n;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80) /* keep characters whole */
			len--;
	}
	*ret = tmpl_keep(x->arena, json_new_stringn(s, len));
	return 0;
}

static int fn_pad(struct tmpl_call *x, const struct json **argv, size_t argc, const struct json **ret)
{
	struct strbuf sb = STRBUF_INIT;
	int64_t pre = 0, post = 0;
	const char *s = NULL;
	size_t len = 0;

	if (need_str(x, argv[0], &s, &len) < 0 || need_int(x, argv[1], &pre) < 0 || need_int(x, argv[2], &post) < 0)
		return -1;
	if (pre < 0 || post < 0 || pre > MAX_WIDTH || post > MAX_WIDTH)
		return ferr(x, "pad count out of range (0 to %d)", MAX_WIDTH);
	if (len) {
		strbuf_addchars(&sb, ' ', (size_t)pre);
		strbuf_add(&sb, s, len);
		strbuf_addchars(&sb, ' ', (size_t)post);
	}
	*ret = keep_strbuf(x, &sb);
	return 0;
}

static int fn_split(struct tmpl_call *x, const struct json **argv, size_t argc, const struct json **ret)
{
	struct json *l;
	const char *s = NULL, *sep = NULL;
	size_t len = 0, seplen = 0;

	if (need_str(x, argv[0], &s, &len) < 0 || need_str(x, argv[1], &sep, &seplen) < 0)
		return -1;
	l = json_new_array();
	if (!seplen) { /* one element per character */
		for (size_t i = 0; i < len;) {
			size_t n = text_utf8_len(s + i, len - i);
			n = n ? n : 1;
			json_array_append(l, json_new_stringn(s + i, n));
			i += n;
		}
	} else {
		const char *p = s, *end = s + len, *hit;
		while ((hit = memmem(p, (size_t)(end - p), sep, seplen))) {
			json_array_append(l, json_new_stringn(p, (size_t)(hit - p)));
			p = hit + seplen;
		}
		json_array_append(l, json_new_stringn(p, (size_t)(end - p)));
	}
	*ret = tmpl_keep(x->arena, l);
	return 0;
}

static int fn_len(struct tmpl_call *x, const struct json **argv, size_t argc, const struct json **ret)
{
	const struct json *j = argv[0];
	size_t n = 0;

	if (tmpl_is_nil(j))
		n = 0;
	else if (j->type == JSON_STRING)
		n = j->u.str.len;
	else if (j->type == JSON_ARRAY)
		n = j->u.arr.len;
	else if (j->type == JSON_OBJECT)
		n = j->u.obj.len;
	else
		return ferr(x, "len of type %s", tmpl_type_name(j));
	*ret = tmpl_keep(x->arena, json_new_int((int64_t)n));
	return 0;
}

static int fn_index(struct tmpl_call *x, const struct json **argv, size_t argc, const struct json **ret)
{
	const struct json *v = argv[0];

	for (size_t k = 1; k < argc; k++) {
		const struct json *key = argv[k];
		int64_t i;

		if (tmpl_is_nil(v)) {
			*ret = tmpl_keep(x->arena, json_new_string("")); /* a nil map[string]string */
			return 0;
		}
		if (v->type == JSON_OBJECT) {
			if (!key || key->type != JSON_STRING)
				return ferr(x, "cannot index map with %s", tmpl_type_name(key));
			if (!(v = json_object_get(v, key->u.str.s))) {
				*ret = tmpl_keep(x->arena, json_new_string("")); /* zero value of map[string]string */
				return 0;
			}
			continue;
		}
		if (v->type != JSON_ARRAY && v->type != JSON_STRING)
			return ferr(x, "can't index item of type %s", tmpl_type_name(v));
		if (!get_int(key, &i))
			return ferr(x, "cannot index slice/array with type %s", tmpl_type_name(key));
		size_t len = v->type == JSON_ARRAY ? v->u.arr.len : v->u.str.len;
		if (i < 0 || (uint64_t)i >= len)
			return ferr(x, "index out of range: %lld", (long long)i);
		if (v->type == JSON_ARRAY)
			v = v->u.arr.items[i];
		else
			v = tmpl_keep(x->arena, json_new_int((unsigned char)v->u.str.s[i]));
	}
	*ret = v;
	return 0;
}

static int fn_print(struct tmpl_call *x, const struct json **argv, size_t argc, const struct json **ret)
{
	struct strbuf sb = STRBUF_INIT;
	bool ln = strcmp(x->name, "println") == 0, prev_str = false;

	for (size_t k = 0; k < argc; k++) {
		bool is_str = argv[k] && argv[k]->type == JSON_STRING;
		if (k && (ln || (!is_str && !prev_str)))
			strbuf_addch(&sb, ' ');
		fmt_value(&sb, 'v', &plain_v, argv[k]);
		prev_str = is_str;
	}
	if (ln)
		strbuf_addch(&sb, '\n');
	*ret = keep_strbuf(x, &sb);
	return 0;
}

static int fn_printf(struct tmpl_call *x, const struct json **argv, size_t argc, const struct json **ret)
{
	struct strbuf sb = STRBUF_INIT;
	const char *f = NULL;
	size_t len = 0;

	if (need_str(x, argv[0], &f, &len) < 0)
		return -1;
	go_sprintf(&sb, f, len, argv + 1, argc - 1);
	*ret = keep_strbuf(x, &sb);
	return 0;
}

static int fn_not(struct tmpl_call *x, const struct json **argv, size_t argc, const struct json **ret)
{
	*ret = tmpl_keep(x->arena, json_new_bool(!tmpl_truth(argv[0])));
	return 0;
}

/* Compare a and b: *ret < 0, 0, > 0. Errors for types Go cannot compare. */
static int compare(struct tmpl_call *x, const struct json *a, const struct json *b, bool ordered, int *ret)
{
	if (tmpl_is_nil(a) || tmpl_is_nil(b)) {
		if (ordered)
			return ferr(x, "invalid type for comparison");
		*ret = tmpl_is_nil(a) && tmpl_is_nil(b) ? 0 : 1;
		return 0;
	}
	if (a->type != b->type)
		return ferr(x, "incompatible types for comparison");
	switch (a->type) {
	case JSON_BOOL:
		if (ordered)
			return ferr(x, "invalid type for comparison");
		*ret = a->u.b != b->u.b;
		return 0;
	case JSON_NUMBER:
		if (a->u.num.is_int && b->u.num.is_int)
			*ret = (a->u.num.i > b->u.num.i) - (a->u.num.i < b->u.num.i);
		else
			*ret = (a->u.num.d > b->u.num.d) - (a->u.num.d < b->u.num.d);
		return 0;
	case JSON_STRING: {
		size_t n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
		int c = memcmp(a->u.str.s, b->u.str.s, n);
		*ret = c ? c : (a->u.str.len > b->u.str.len) - (a->u.str.len < b->u.str.len);
		return 0;
	}
	default:
		return ferr(x, "non-comparable type %s", tmpl_type_name(a));
	}
}

static int fn_compare(struct tmpl_call *x, const struct json **argv, size_t argc, const struct json **ret)
{
	const char *op = x->name;
	bool res = false;
	int c;

	if (op[0] == 'e' || op[0] == 'n') { /* eq a b...: a equals any of them; ne a b */
		for (size_t k = 1; k < argc && !res; k++) {
			if (compare(x, argv[0], argv[k], false, &c) < 0)
				return -1;
			res = c == 0;
		}
		if (op[0] == 'n')
			res = !res;
	} else {
		if (compare(x, argv[0], argv[1], true, &c) < 0)
			return -1;
		res = op[0] == 'l' ? (op[1] == 't' ? c < 0 : c <= 0) : (op[1] == 't' ? c > 0 : c >= 0);
	}
	*ret = tmpl_keep(x->arena, json_new_bool(res));
	return 0;
}

static const struct tmpl_func funcs[] = {
	{"and", 1, -1, NULL},	    {"eq", 2, -1, fn_compare},	  {"ge", 2, 2, fn_compare},
	{"gt", 2, 2, fn_compare},   {"index", 1, -1, fn_index},	  {"join", 2, 2, fn_join},
	{"json", 1, 1, fn_json},    {"le", 2, 2, fn_compare},	  {"len", 1, 1, fn_len},
	{"lower", 1, 1, fn_lower},  {"lt", 2, 2, fn_compare},	  {"ne", 2, 2, fn_compare},
	{"not", 1, 1, fn_not},	    {"or", 1, -1, NULL},	  {"pad", 3, 3, fn_pad},
	{"print", 0, -1, fn_print}, {"printf", 1, -1, fn_printf}, {"println", 0, -1, fn_print},
	{"split", 2, 2, fn_split},  {"title", 1, 1, fn_title},	  {"truncate", 2, 2, fn_truncate},
	{"upper", 1, 1, fn_upper},
};

const struct tmpl_func *tmpl_func_find(const char *name)
{
	for (size_t k = 0; k < ARRAY_SIZE(funcs); k++)
		if (strcmp(funcs[k].name, name) == 0)
			return &funcs[k];
	return NULL;
}
