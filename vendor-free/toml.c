/* TOML subset reader: see toml.h. A recursive-descent parser over a byte buffer. */
#include "vendor-free/toml.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

/* How a table or array came to be; decides whether it may be extended later. */
enum {
	F_DEFINED = 1u << 0, /* table: named by a [header] (or the root) */
	F_DOTTED = 1u << 1,  /* table: created by a dotted key */
	F_INLINE = 1u << 2,  /* table: an inline table, or inside one; sealed */
	F_AOT = 1u << 3,     /* array: made by [[header]]s */
};
/* Tables with none of DEFINED, DOTTED, INLINE were created implicitly by a header
 * ([a.b] creates a) and may be defined once later. */

#define INDEX_FROM 8 /* tables with this many keys get a hash index */
#define MSG_KEY_MAX 64

struct parser {
	const char *p, *end;
	size_t line;
	struct skiff_err **err;
	struct toml *root;
	struct toml *cur; /* the table that key = value lines go to */
};

__attribute__((format(printf, 3, 4))) static int perr_at(struct parser *ps, size_t line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	err_makex(ps->err, EINVAL, "line %zu: %s", line, msg);
	free(msg);
	return -1;
}
#define perr(ps, ...) perr_at((ps), (ps)->line, __VA_ARGS__)

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp, min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, cp = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void utf8_put(struct strbuf *sb, uint32_t cp)
{
	if (cp < 0x80) {
		strbuf_addch(sb, (char)cp);
	} else if (cp < 0x800) {
		strbuf_addch(sb, (char)(0xc0 | (cp >> 6)));
		strbuf_addch(sb, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		strbuf_addch(sb, (char)(0xe0 | (cp >> 12)));
		strbuf_addch(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_addch(sb, (char)(0x80 | (cp & 0x3f)));
	} else {
		strbuf_addch(sb, (char)(0xf0 | (cp >> 18)));
		strbuf_addch(sb, (char)(0x80 | ((cp >> 12) & 0x3f)));
		strbuf_addch(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_addch(sb, (char)(0x80 | (cp & 0x3f)));
	}
}

/* The whole document must be UTF-8 without NUL bytes. */
static int check_encoding(struct parser *ps)
{
	size_t line = 1;
	const unsigned char *s = (const unsigned char *)ps->p, *end = (const unsigned char *)ps->end;

	while (s < end) {
		size_t n;
		if (*s == '\0')
			return perr_at(ps, line, "NUL byte in document");
		if (*s == '\n')
			line++;
		n = utf8_seq(s, (size_t)(end - s));
		if (!n)
			return perr_at(ps, line, "invalid UTF-8 (byte 0x%02x)", *s);
		s += n;
	}
	return 0;
}

/* A short printable description of the character at p, for messages. */
static const char *chdesc(const struct parser *ps, char buf[32])
{
	const unsigned char *p = (const unsigned char *)ps->p;

	if (ps->p >= ps->end)
		return "end of input";
	if (*p == '\n' || (*p == '\r' && ps->p + 1 < ps->end && p[1] == '\n'))
		return "end of line";
	if (*p >= 0x21 && *p < 0x7f)
		snprintf(buf, 32, "'%c'", *p);
	else if (*p < 0x80)
		snprintf(buf, 32, "U+%04X", *p);
	else
		snprintf(buf, 32, "'%.*s'", (int)utf8_seq(p, (size_t)(ps->end - ps->p)), ps->p);
	return buf;
}

static bool is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Append key part s to a message, quoted unless it is bare, shortened if long. */
static void msg_key_part(struct strbuf *sb, const char *s)
{
	size_t len = strlen(s), n = len, i;
	bool bare = len > 0;

	for (i = 0; i < len; i++)
		if (!is_bare((unsigned char)s[i]))
			bare = false;
	if (n > MSG_KEY_MAX) {
		n = MSG_KEY_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	if (!bare)
		strbuf_addch(sb, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			strbuf_addf(sb, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			strbuf_addf(sb, "\\u%04X", c);
		else
			strbuf_addch(sb, (char)c);
	}
	if (n < len)
		strbuf_addstr(sb, "...");
	if (!bare)
		strbuf_addch(sb, '"');
}

/* "a.b.c" for parts[0..n) (caller frees). */
static char *msg_key(char *const *parts, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (i)
			strbuf_addch(&sb, '.');
		msg_key_part(&sb, parts[i]);
	}
	return strbuf_detach(&sb, NULL);
}

/* ---- nodes ---- */

const char *toml_type_name(enum toml_type type)
{
	switch (type) {
	case TOML_TABLE:
		return "table";
	case TOML_ARRAY:
		return "array";
	case TOML_STRING:
		return "string";
	case TOML_INT:
		return "integer";
	case TOML_FLOAT:
		return "float";
	case TOML_BOOL:
		return "boolean";
	case TOML_DATETIME:
		return "datetime";
	}
	return "unknown";
}

/* The type with its article, for messages: "an integer". */
static const char *a_type(enum toml_type type)
{
	switch (type) {
	case TOML_ARRAY:
		return "an array";
	case TOML_INT:
		return "an integer";
	case TOML_TABLE:
		return "a table";
	case TOML_STRING:
		return "a string";
	case TOML_FLOAT:
		return "a float";
	case TOML_BOOL:
		return "a boolean";
	case TOML_DATETIME:
		return "a datetime";
	}
	return "a value";
}

static struct toml *node_new(enum toml_type type, size_t line, unsigned depth)
{
	struct toml *t = xzalloc(sizeof(*t));
	t->type = type;
	t->line = line;
	t->depth = depth;
	return t;
}

/* A new node one level below parent, or an error when that is too deep. */
static int node_child(struct parser *ps, enum toml_type type, unsigned depth, struct toml **ret)
{
	if (depth > TOML_MAX_DEPTH)
		return perr(ps, "nesting deeper than %d levels", TOML_MAX_DEPTH);
	*ret = node_new(type, ps->line, depth);
	return 0;
}

void toml_free(struct toml *t)
{
	if (!t)
		return;
	switch (t->type) {
	case TOML_STRING:
	case TOML_DATETIME:
		free(t->u.str.s);
		break;
	case TOML_ARRAY:
		for (size_t i = 0; i < t->u.arr.len; i++)
			toml_free(t->u.arr.items[i]);
		free(t->u.arr.items);
		break;
	case TOML_TABLE:
		for (size_t i = 0; i < t->u.tab.len; i++) {
			free(t->u.tab.keys[i]);
			toml_free(t->u.tab.vals[i]);
		}
		free(t->u.tab.keys);
		free(t->u.tab.vals);
		free(t->u.tab.index);
		break;
	default:
		break;
	}
	free(t);
}

static uint64_t hash_key(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Index of key (n bytes) in table tab, or -1. */
static ssize_t table_find(const struct toml *tab, const char *key, size_t n)
{
	const char *const *keys = (const char *const *)tab->u.tab.keys;

	if (!tab->u.tab.index) {
		for (size_t i = 0; i < tab->u.tab.len; i++)
			if (strncmp(keys[i], key, n) == 0 && keys[i][n] == '\0')
				return (ssize_t)i;
		return -1;
	}
	size_t mask = tab->u.tab.index_cap - 1;
	for (size_t h = hash_key(key, n) & mask; tab->u.tab.index[h]; h = (h + 1) & mask) {
		size_t i = tab->u.tab.index[h] - 1;
		if (strncmp(keys[i], key, n) == 0 && keys[i][n] == '\0')
			return (ssize_t)i;
	}
	return -1;
}

static void index_put(struct toml *tab, size_t i)
{
	const char *k = tab->u.tab.keys[i];
	size_t mask = tab->u.tab.index_cap - 1;
	size_t h = hash_key(k, strlen(k)) & mask;

	while (tab->u.tab.index[h])
		h = (h + 1) & mask;
	tab->u.tab.index[h] = i + 1;
}

/* Add key (taken) = val (taken) to tab; the caller checked that key is new. */
static void table_add(struct toml *tab, char *key, struct toml *val)
{
	if (tab->u.tab.len == tab->u.tab.alloc) {
		size_t n = tab->u.tab.alloc ? tab->u.tab.alloc * 2 : 8;
		tab->u.tab.keys = xreallocarray(tab->u.tab.keys, n, sizeof(char *));
		tab->u.tab.vals = xreallocarray(tab->u.tab.vals, n, sizeof(struct toml *));
		tab->u.tab.alloc = n;
	}
	tab->u.tab.keys[tab->u.tab.len] = key;
	tab->u.tab.vals[tab->u.tab.len] = val;
	tab->u.tab.len++;
	if (tab->u.tab.len < INDEX_FROM)
		return;
	if (tab->u.tab.index && tab->u.tab.len * 2 <= tab->u.tab.index_cap) {
		index_put(tab, tab->u.tab.len - 1);
		return;
	}
	free(tab->u.tab.index);
	tab->u.tab.index_cap = 32;
	while (tab->u.tab.index_cap < tab->u.tab.len * 4)
		tab->u.tab.index_cap *= 2;
	tab->u.tab.index = xcalloc(tab->u.tab.index_cap, sizeof(size_t));
	for (size_t i = 0; i < tab->u.tab.len; i++)
		index_put(tab, i);
}

static void array_push(struct toml *arr, struct toml *val)
{
	ALLOC_GROW(arr->u.arr.items, arr->u.arr.len + 1, arr->u.arr.alloc);
	arr->u.arr.items[arr->u.arr.len++] = val;
}

/* An inline table and the tables made inside it cannot be extended afterwards. */
static void seal(struct toml *t)
{
	t->flags |= F_INLINE;
	for (size_t i = 0; i < t->u.tab.len; i++)
		if (t->u.tab.vals[i]->type == TOML_TABLE)
			seal(t->u.tab.vals[i]);
}

/* ---- lexing helpers ---- */

static int peek(const struct parser *ps)
{
	return ps->p < ps->end ? (unsigned char)*ps->p : -1;
}

static bool starts(const struct parser *ps, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(ps->end - ps->p) >= n && memcmp(ps->p, s, n) == 0;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

static bool at_newline(const struct parser *ps)
{
	return starts(ps, "\n") || starts(ps, "\r\n");
}

static void eat_newline(struct parser *ps)
{
	ps->p += *ps->p == '\r' ? 2 : 1;
	ps->line++;
}

static bool is_control(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* At '#': skip the comment up to (not including) the end of the line. */
static int skip_comment(struct parser *ps)
{
	for (ps->p++; ps->p < ps->end && !at_newline(ps); ps->p++)
		if (is_control((unsigned char)*ps->p))
			return perr(ps, "control character U+%04X in comment", (unsigned char)*ps->p);
	return 0;
}

/* Skip whitespace, comments and newlines (inside arrays). */
static int skip_ws_nl(struct parser *ps)
{
	for (;;) {
		skip_ws(ps);
		if (peek(ps) == '#') {
			if (skip_comment(ps) < 0)
				return -1;
		} else if (ps->p < ps->end && at_newline(ps)) {
			eat_newline(ps);
		} else if (peek(ps) == '\r') {
			return perr(ps, "carriage return not followed by a newline");
		} else {
			return 0;
		}
	}
}

/* ---- strings ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* After a backslash: one escape sequence. */
static int parse_escape(struct parser *ps, struct strbuf *sb)
{
	char buf[32];
	int c = peek(ps);
	int ndigits;
	uint32_t cp = 0;

	switch (c) {
	case 'b':
		strbuf_addch(sb, '\b');
		ps->p++;
		return 0;
	case 't':
		strbuf_addch(sb, '\t');
		ps->p++;
		return 0;
	case 'n':
		strbuf_addch(sb, '\n');
		ps->p++;
		return 0;
	case 'f':
		strbuf_addch(sb, '\f');
		ps->p++;
		return 0;
	case 'r':
		strbuf_addch(sb, '\r');
		ps->p++;
		return 0;
	case '"':
		strbuf_addch(sb, '"');
		ps->p++;
		return 0;
	case '\\':
		strbuf_addch(sb, '\\');
		ps->p++;
		return 0;
	case 'u':
		ndigits = 4;
		break;
	case 'U':
		ndigits = 8;
		break;
	default:
		return perr(ps, "invalid escape sequence in string: \\ followed by %s", chdesc(ps, buf));
	}
	ps->p++;
	for (int i = 0; i < ndigits; i++) {
		int v = hexval(peek(ps));
		if (v < 0)
			return perr(ps, "invalid escape sequence \\%c: expected %d hex digits", c, ndigits);
		cp = (cp << 4) | (uint32_t)v;
		ps->p++;
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return perr(ps, "invalid escape sequence \\%c%0*X: not a Unicode scalar value", c, ndigits, cp);
	if (cp == 0)
		return perr(ps, "escape sequence \\%c%0*X (NUL) is not supported", c, ndigits, cp);
	utf8_put(sb, cp);
	return 0;
}

/* Copy one (valid, checked) UTF-8 character or reject a control character. */
static int string_char(struct parser *ps, struct strbuf *sb)
{
	unsigned char c = (unsigned char)*ps->p;
	size_t n;

	if (is_control(c))
		return perr(ps, "control character U+%04X in string (use an escape sequence)", c);
	n = utf8_seq((const unsigned char *)ps->p, (size_t)(ps->end - ps->p));
	strbuf_add(sb, ps->p, n);
	ps->p += n;
	return 0;
}

/* At the opening quote of a single-line basic ("...") or literal ('...') string. */
static int parse_string1(struct parser *ps, struct strbuf *sb)
{
	char q = *ps->p++;

	for (;;) {
		if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '\r')
			return perr(ps, "unterminated string (missing %c)", q);
		if (*ps->p == q) {
			ps->p++;
			return 0;
		}
		if (q == '"' && *ps->p == '\\') {
			ps->p++;
			if (parse_escape(ps, sb) < 0)
				return -1;
			continue;
		}
		if (string_char(ps, sb) < 0)
			return -1;
	}
}

/* At the opening """ or ''' of a multi-line string. */
static int parse_string3(struct parser *ps, struct strbuf *sb)
{
	char q = *ps->p;
	size_t start = ps->line;

	ps->p += 3;
	if (ps->p < ps->end && at_newline(ps)) /* a newline right after the delimiter is trimmed */
		eat_newline(ps);
	for (;;) {
		if (ps->p >= ps->end)
			return perr_at(ps, start, "unterminated multi-line string (missing %c%c%c)", q, q, q);
		if (*ps->p == q) {
			size_t n = 0;
			while (ps->p + n < ps->end && ps->p[n] == q)
				n++;
			if (n >= 3) {
				if (n > 5)
					return perr(ps, "too many quotes (%zu) at the end of a multi-line string", n);
				strbuf_addchars(sb, q, n - 3);
				ps->p += n;
				return 0;
			}
			strbuf_addchars(sb, q, n);
			ps->p += n;
			continue;
		}
		if (at_newline(ps)) {
			strbuf_addch(sb, '\n');
			eat_newline(ps);
			continue;
		}
		if (q == '"' && *ps->p == '\\') {
			const char *save = ++ps->p;
			skip_ws(ps);
			if (ps->p < ps->end && at_newline(ps)) { /* line-ending backslash */
				for (;;) {
					skip_ws(ps);
					if (ps->p < ps->end && at_newline(ps))
						eat_newline(ps);
					else
						break;
				}
				continue;
			}
			ps->p = save;
			if (parse_escape(ps, sb) < 0)
				return -1;
			continue;
		}
		if (string_char(ps, sb) < 0)
			return -1;
	}
}

static int parse_string(struct parser *ps, struct strbuf *sb)
{
	if (starts(ps, "\"\"\"") || starts(ps, "'''"))
		return parse_string3(ps, sb);
	return parse_string1(ps, sb);
}

/* ---- keys ---- */

static int parse_key_part(struct parser *ps, char **ret)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[32];
	int c = peek(ps);

	if (c == '"' || c == '\'') {
		if (starts(ps, "\"\"\"") || starts(ps, "'''"))
			return perr(ps, "multi-line string used as a key");
		if (parse_string1(ps, &sb) < 0) {
			strbuf_release(&sb);
			return -1;
		}
		*ret = strbuf_detach(&sb, NULL);
		return 0;
	}
	if (!is_bare(c))
		return perr(ps, "expected a key, found %s", chdesc(ps, buf));
	const char *s = ps->p;
	while (ps->p < ps->end && is_bare((unsigned char)*ps->p))
		ps->p++;
	*ret = xstrndup(s, (size_t)(ps->p - s));
	return 0;
}

/* key = part *( ws '.' ws part ); leaves ps after the last part. */
static int parse_key(struct parser *ps, struct strv *parts)
{
	for (;;) {
		char *part = NULL;
		skip_ws(ps);
		if (parts->len >= TOML_MAX_DEPTH)
			return perr(ps, "key has more than %d parts", TOML_MAX_DEPTH);
		if (parse_key_part(ps, &part) < 0)
			return -1;
		strv_push_take(parts, part);
		skip_ws(ps);
		if (peek(ps) != '.')
			return 0;
		ps->p++;
	}
}

/* ---- scalars ---- */

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* n decimal digits into *v. */
static bool digits(const char **s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*s)++) {
		if (!is_digit(**s))
			return false;
		*v = *v * 10 + (**s - '0');
	}
	return true;
}

static bool parse_date(const char **s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d;

	if (!digits(s, 4, &y) || *(*s)++ != '-' || !digits(s, 2, &m) || *(*s)++ != '-' || !digits(s, 2, &d))
		return false;
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return false;
	return true;
}

static bool parse_time(const char **s)
{
	int h, m, sec;

	if (!digits(s, 2, &h) || *(*s)++ != ':' || !digits(s, 2, &m) || *(*s)++ != ':' || !digits(s, 2, &sec))
		return false;
	if (h > 23 || m > 59 || sec > 60)
		return false;
	if (**s == '.') {
		(*s)++;
		if (!is_digit(**s))
			return false;
		while (is_digit(**s))
			(*s)++;
	}
	return true;
}

static bool is_datetime(const char *s)
{
	int h, m;

	if (s[0] && s[1] && s[2] == ':')
		return parse_time(&s) && !*s;
	if (!parse_date(&s))
		return false;
	if (!*s)
		return true;
	if (*s != 'T' && *s != 't' && *s != ' ')
		return false;
	s++;
	if (!parse_time(&s))
		return false;
	if (*s == 'Z' || *s == 'z')
		return !s[1];
	if (*s == '+' || *s == '-') {
		s++;
		if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &m) || h > 23 || m > 59)
			return false;
	}
	return !*s;
}

/* One or more digits of the base, '_' only between digits. */
static bool digit_run(const char **s, int base)
{
	bool any = false;

	for (;;) {
		int v = hexval(**s);
		if (v >= 0 && v < base) {
			any = true;
			(*s)++;
		} else if (**s == '_' && any) {
			int w = hexval((*s)[1]);
			if (w < 0 || w >= base)
				return false;
			(*s)++;
		} else {
			return any;
		}
	}
}

/* Integer token into *ret: 1 ok, 0 not an integer, -1 out of range. */
static int scan_int(const char *tok, int64_t *ret)
{
	const char *s = tok;
	bool neg = false;
	int base = 10;
	uint64_t mag = 0, limit;

	if (tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'o' || tok[1] == 'b')) {
		base = tok[1] == 'x' ? 16 : tok[1] == 'o' ? 8 : 2;
		s += 2;
	} else if (*s == '+' || *s == '-') {
		neg = *s++ == '-';
	}
	const char *d = s;
	if (!digit_run(&s, base) || *s)
		return 0;
	if (base == 10 && d[0] == '0' && d[1])
		return 0; /* leading zero */
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *d; d++) {
		if (*d == '_')
			continue;
		uint64_t v = (uint64_t)hexval(*d);
		if (mag > (limit - v) / (uint64_t)base)
			return -1;
		mag = mag * (uint64_t)base + v;
	}
	if (neg)
		*ret = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	else
		*ret = (int64_t)mag;
	return 1;
}

/* Float token into *ret: 1 ok, 0 not a float, -1 out of range. */
static int scan_float(const char *tok, double *ret)
{
	const char *s = tok;
	bool frac_or_exp = false;

	if (*s == '+' || *s == '-')
		s++;
	if (strcmp(s, "inf") == 0 || strcmp(s, "nan") == 0) {
		double v = s[0] == 'i' ? INFINITY : NAN;
		*ret = tok[0] == '-' ? -v : v;
		return 1;
	}
	if (s[0] == '0' && s[1] && s[1] != '.' && s[1] != 'e' && s[1] != 'E')
		return 0; /* leading zero */
	if (!digit_run(&s, 10))
		return 0;
	if (*s == '.') {
		s++;
		if (!digit_run(&s, 10))
			return 0;
		frac_or_exp = true;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!digit_run(&s, 10))
			return 0;
		frac_or_exp = true;
	}
	if (*s || !frac_or_exp)
		return 0;

	cleanup_free char *clean = xmalloc(strlen(tok) + 1);
	char *o = clean;
	for (s = tok; *s; s++)
		if (*s != '_')
			*o++ = *s;
	*o = '\0';
	locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (c_locale == (locale_t)0)
		return 0;
	double v = strtod_l(clean, NULL, c_locale);
	freelocale(c_locale);
	if (isinf(v))
		return -1;
	*ret = v;
	return 1;
}

static bool is_token_char(int c)
{
	return is_bare(c) || c == '+' || c == '.' || c == ':';
}

static int parse_scalar(struct parser *ps, unsigned depth, struct toml **ret)
{
	char buf[32];
	const char *s = ps->p;
	struct toml *t;
	int64_t i;
	double d;
	int r;

	while (ps->p < ps->end && is_token_char((unsigned char)*ps->p))
		ps->p++;
	/* "1979-05-27 07:32:00": a date, a space, then a time */
	if (ps->p - s == 10 && s[4] == '-' && s[7] == '-' && ps->end - ps->p >= 4 && ps->p[0] == ' ' &&
	    is_digit(ps->p[1]) && is_digit(ps->p[2]) && ps->p[3] == ':') {
		ps->p++;
		while (ps->p < ps->end && is_token_char((unsigned char)*ps->p))
			ps->p++;
	}
	if (ps->p == s)
		return perr(ps, "expected a value, found %s", chdesc(ps, buf));
	cleanup_free char *tok = xstrndup(s, (size_t)(ps->p - s));
	size_t n = (size_t)(ps->p - s);
	int shown = n > MSG_KEY_MAX ? MSG_KEY_MAX : (int)n;
	const char *more = n > MSG_KEY_MAX ? "..." : "";

	if (node_child(ps, TOML_BOOL, depth, &t) < 0)
		return -1;
	if (strcmp(tok, "true") == 0 || strcmp(tok, "false") == 0) {
		t->u.b = tok[0] == 't';
		*ret = t;
		return 0;
	}
	if ((is_digit(tok[0]) && is_digit(tok[1]) && tok[2] == ':') ||
	    (n >= 5 && is_digit(tok[0]) && is_digit(tok[1]) && is_digit(tok[2]) && is_digit(tok[3]) && tok[4] == '-')) {
		if (!is_datetime(tok)) {
			free(t);
			return perr(ps, "invalid date or time '%.*s%s'", shown, tok, more);
		}
		t->type = TOML_DATETIME;
		t->u.str.len = n;
		t->u.str.s = TAKE_PTR(tok);
		*ret = t;
		return 0;
	}
	r = scan_int(tok, &i);
	if (r > 0) {
		t->type = TOML_INT;
		t->u.i = i;
		*ret = t;
		return 0;
	}
	if (r == 0 && !(tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'o' || tok[1] == 'b'))) {
		r = scan_float(tok, &d);
		if (r > 0) {
			t->type = TOML_FLOAT;
			t->u.d = d;
			*ret = t;
			return 0;
		}
	}
	free(t);
	if (r < 0)
		return perr(ps, "number '%.*s%s' is out of range", shown, tok, more);
	if (!is_digit(tok[0]) && tok[0] != '+' && tok[0] != '-' && tok[0] != '.')
		return perr(ps, "invalid value '%.*s%s' (strings must be quoted)", shown, tok, more);
	return perr(ps, "invalid number '%.*s%s'", shown, tok, more);
}

/* ---- values ---- */

static int parse_value(struct parser *ps, unsigned depth, struct toml **ret);
static int parse_keyval(struct parser *ps, struct toml *tab);

static int parse_array(struct parser *ps, unsigned depth, struct toml **ret)
{
	char buf[32];
	size_t start = ps->line;
	cleanup_toml struct toml *arr = NULL;

	if (node_child(ps, TOML_ARRAY, depth, &arr) < 0)
		return -1;
	ps->p++;
	for (;;) {
		struct toml *item = NULL;
		if (skip_ws_nl(ps) < 0)
			return -1;
		if (ps->p >= ps->end)
			return perr_at(ps, start, "unterminated array (missing ']')");
		if (*ps->p == ']')
			break;
		if (parse_value(ps, depth + 1, &item) < 0)
			return -1;
		array_push(arr, item);
		if (skip_ws_nl(ps) < 0)
			return -1;
		if (peek(ps) == ',') {
			ps->p++;
			continue;
		}
		if (peek(ps) == ']')
			break;
		if (ps->p >= ps->end)
			return perr_at(ps, start, "unterminated array (missing ']')");
		return perr(ps, "expected ',' or ']' in array, found %s", chdesc(ps, buf));
	}
	ps->p++;
	*ret = TAKE_PTR(arr);
	return 0;
}

static int parse_inline_table(struct parser *ps, unsigned depth, struct toml **ret)
{
	char buf[32];
	cleanup_toml struct toml *tab = NULL;

	if (node_child(ps, TOML_TABLE, depth, &tab) < 0)
		return -1;
	ps->p++;
	skip_ws(ps);
	if (peek(ps) == '}') {
		ps->p++;
		goto done;
	}
	for (;;) {
		if (parse_keyval(ps, tab) < 0)
			return -1;
		skip_ws(ps);
		if (peek(ps) == ',') {
			ps->p++;
			skip_ws(ps);
			if (peek(ps) == '}')
				return perr(ps, "trailing comma in inline table");
			continue;
		}
		if (peek(ps) == '}') {
			ps->p++;
			break;
		}
		if (ps->p >= ps->end || at_newline(ps))
			return perr(ps, "unterminated inline table (missing '}' on this line)");
		return perr(ps, "expected ',' or '}' in inline table, found %s", chdesc(ps, buf));
	}
done:
	seal(tab);
	*ret = TAKE_PTR(tab);
	return 0;
}

static int parse_value(struct parser *ps, unsigned depth, struct toml **ret)
{
	struct strbuf sb = STRBUF_INIT;
	struct toml *t;

	if (depth > TOML_MAX_DEPTH)
		return perr(ps, "nesting deeper than %d levels", TOML_MAX_DEPTH);
	switch (peek(ps)) {
	case '[':
		return parse_array(ps, depth, ret);
	case '{':
		return parse_inline_table(ps, depth, ret);
	case '"':
	case '\'':
		t = node_new(TOML_STRING, ps->line, depth);
		if (parse_string(ps, &sb) < 0) {
			strbuf_release(&sb);
			free(t);
			return -1;
		}
		t->u.str.s = strbuf_detach(&sb, &t->u.str.len);
		*ret = t;
		return 0;
	default:
		return parse_scalar(ps, depth, ret);
	}
}

/* key = value into tab (the current table, or an inline table being read). */
static int parse_keyval(struct parser *ps, struct toml *tab)
{
	char buf[32];
	cleanup_strv struct strv parts = STRV_INIT;
	struct toml *val;
	ssize_t idx;

	if (parse_key(ps, &parts) < 0)
		return -1;
	if (peek(ps) != '=') {
		cleanup_free char *k = msg_key(parts.v, parts.len);
		return perr(ps, "expected '=' after key %s, found %s", k, chdesc(ps, buf));
	}
	ps->p++;
	skip_ws(ps);
	for (size_t i = 0; i + 1 < parts.len; i++) {
		struct toml *sub = NULL;
		idx = table_find(tab, parts.v[i], strlen(parts.v[i]));
		if (idx < 0) {
			if (node_child(ps, TOML_TABLE, tab->depth + 1, &sub) < 0)
				return -1;
			sub->flags = F_DOTTED;
			table_add(tab, xstrdup(parts.v[i]), sub);
			tab = sub;
			continue;
		}
		sub = tab->u.tab.vals[idx];
		if (sub->type == TOML_TABLE && (sub->flags & F_DOTTED) && !(sub->flags & F_INLINE)) {
			tab = sub;
			continue;
		}
		cleanup_free char *k = msg_key(parts.v, parts.len);
		cleanup_free char *at = msg_key(parts.v, i + 1);
		if (sub->type != TOML_TABLE)
			return perr(ps, "key %s: %s is already %s (line %zu)", k, at, a_type(sub->type), sub->line);
		return perr(ps, "key %s: table %s (line %zu) cannot be extended with dotted keys", k, at, sub->line);
	}
	const char *last = parts.v[parts.len - 1];
	idx = table_find(tab, last, strlen(last));
	if (idx >= 0) {
		cleanup_free char *k = msg_key(parts.v, parts.len);
		return perr(ps, "duplicate key %s (first defined at line %zu)", k, tab->u.tab.vals[idx]->line);
	}
	if (parse_value(ps, tab->depth + 1, &val) < 0)
		return -1;
	table_add(tab, xstrdup(last), val);
	return 0;
}

/* [table] or [[array.of.tables]] */
static int parse_header(struct parser *ps)
{
	char buf[32];
	cleanup_strv struct strv parts = STRV_INIT;
	bool aot = starts(ps, "[[");
	struct toml *tab = ps->root, *sub = NULL;
	ssize_t idx;

	ps->p += aot ? 2 : 1;
	if (parse_key(ps, &parts) < 0)
		return -1;
	if (!starts(ps, aot ? "]]" : "]"))
		return perr(ps, "expected '%s' to close the table header, found %s", aot ? "]]" : "]", chdesc(ps, buf));
	ps->p += aot ? 2 : 1;

	cleanup_free char *k = msg_key(parts.v, parts.len);
	for (size_t i = 0; i + 1 < parts.len; i++) {
		idx = table_find(tab, parts.v[i], strlen(parts.v[i]));
		if (idx < 0) {
			if (node_child(ps, TOML_TABLE, tab->depth + 1, &sub) < 0)
				return -1;
			table_add(tab, xstrdup(parts.v[i]), sub);
			tab = sub;
			continue;
		}
		sub = tab->u.tab.vals[idx];
		cleanup_free char *at = msg_key(parts.v, i + 1);
		if (sub->type == TOML_TABLE && !(sub->flags & F_INLINE)) {
			tab = sub;
		} else if (sub->type == TOML_ARRAY && (sub->flags & F_AOT)) {
			tab = sub->u.arr.items[sub->u.arr.len - 1];
		} else if (sub->type == TOML_TABLE) {
			return perr(ps, "table [%s]: %s is an inline table (line %zu) and cannot be extended", k, at,
				    sub->line);
		} else {
			return perr(ps, "table [%s]: %s is already %s (line %zu)", k, at, a_type(sub->type), sub->line);
		}
	}
	const char *last = parts.v[parts.len - 1];
	idx = table_find(tab, last, strlen(last));
	sub = idx >= 0 ? tab->u.tab.vals[idx] : NULL;
	if (!aot) {
		if (!sub) {
			if (node_child(ps, TOML_TABLE, tab->depth + 1, &sub) < 0)
				return -1;
			table_add(tab, xstrdup(last), sub);
		} else if (sub->type != TOML_TABLE) {
			return perr(ps, "table [%s]: already defined as %s (line %zu)", k, a_type(sub->type),
				    sub->line);
		} else if (sub->flags & F_INLINE) {
			return perr(ps, "table [%s]: already defined as an inline table (line %zu)", k, sub->line);
		} else if (sub->flags & F_DOTTED) {
			return perr(ps, "table [%s]: already defined by dotted keys (line %zu)", k, sub->line);
		} else if (sub->flags & F_DEFINED) {
			return perr(ps, "table [%s] defined twice (first at line %zu)", k, sub->line);
		}
		sub->flags |= F_DEFINED;
		sub->line = ps->line;
		ps->cur = sub;
		return 0;
	}
	struct toml *arr = sub, *item = NULL;
	if (!arr) {
		if (node_child(ps, TOML_ARRAY, tab->depth + 1, &arr) < 0)
			return -1;
		arr->flags = F_AOT;
		table_add(tab, xstrdup(last), arr);
	} else if (arr->type != TOML_ARRAY || !(arr->flags & F_AOT)) {
		return perr(ps, "array of tables [[%s]]: already defined as %s (line %zu)", k,
			    arr->type == TOML_ARRAY ? "a static array" : a_type(arr->type), arr->line);
	}
	if (node_child(ps, TOML_TABLE, arr->depth + 1, &item) < 0)
		return -1;
	item->flags = F_DEFINED;
	array_push(arr, item);
	ps->cur = item;
	return 0;
}

static int parse_document(struct parser *ps)
{
	char buf[32];

	for (;;) {
		skip_ws(ps);
		if (ps->p >= ps->end)
			return 0;
		if (*ps->p == '#') {
			if (skip_comment(ps) < 0)
				return -1;
			continue;
		}
		if (at_newline(ps)) {
			eat_newline(ps);
			continue;
		}
		if (*ps->p == '\r')
			return perr(ps, "carriage return not followed by a newline");
		if (*ps->p == '[') {
			if (parse_header(ps) < 0)
				return -1;
		} else if (parse_keyval(ps, ps->cur) < 0) {
			return -1;
		}
		skip_ws(ps);
		if (peek(ps) == '#' && skip_comment(ps) < 0)
			return -1;
		if (ps->p < ps->end && !at_newline(ps))
			return perr(ps, "expected the end of the line, found %s", chdesc(ps, buf));
	}
}

int toml_parse(const char *buf, size_t len, struct toml **ret, struct skiff_err **err)
{
	struct parser ps = {.p = buf ? buf : "", .line = 1, .err = err};
	cleanup_toml struct toml *root = NULL;

	ps.end = ps.p + (buf ? len : 0);
	if (check_encoding(&ps) < 0)
		return -1;
	if (starts(&ps, "\xef\xbb\xbf")) /* byte order mark */
		ps.p += 3;
	root = node_new(TOML_TABLE, 0, 0);
	root->flags = F_DEFINED;
	ps.root = ps.cur = root;
	if (parse_document(&ps) < 0)
		return -1;
	*ret = TAKE_PTR(root);
	return 0;
}

int toml_parse_file(const char *path, struct toml **ret, struct skiff_err **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	struct stat st;

	if (fd < 0)
		return err_make(err, errno, "open %s", path);
	if (fstat(fd, &st) < 0)
		return err_make(err, errno, "stat %s", path);
	if (S_ISDIR(st.st_mode))
		return err_make(err, EISDIR, "read %s", path);
	if (S_ISREG(st.st_mode) && st.st_size > (off_t)TOML_MAX_FILE_SIZE)
		return err_makex(err, EFBIG, "%s: larger than %u bytes", path, TOML_MAX_FILE_SIZE);
	for (;;) {
		ssize_t n;
		strbuf_grow(&sb, 8192);
		n = read(fd, sb.buf + sb.len, sb.alloc - sb.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_make(err, errno, "read %s", path);
		if (n == 0)
			break;
		strbuf_setlen(&sb, sb.len + (size_t)n);
		if (sb.len > TOML_MAX_FILE_SIZE)
			return err_makex(err, EFBIG, "%s: larger than %u bytes", path, TOML_MAX_FILE_SIZE);
	}
	if (toml_parse(sb.buf, sb.len, ret, err) < 0)
		return err_wrap(err, "%s", path);
	return 0;
}

/* ---- lookups ---- */

bool toml_is(const struct toml *t, enum toml_type type)
{
	return t && t->type == type;
}

const struct toml *toml_table_get(const struct toml *tab, const char *key)
{
	ssize_t i;

	if (!toml_is(tab, TOML_TABLE) || !key)
		return NULL;
	i = table_find(tab, key, strlen(key));
	return i < 0 ? NULL : tab->u.tab.vals[i];
}

const struct toml *toml_get(const struct toml *t, const char *path, const char *key)
{
	if (!toml_is(t, TOML_TABLE))
		return NULL;
	if (path && *path) {
		for (const char *s = path;;) {
			const char *dot = strchr(s, '.');
			size_t n = dot ? (size_t)(dot - s) : strlen(s);
			ssize_t i = table_find(t, s, n);
			if (i < 0)
				return NULL;
			t = t->u.tab.vals[i];
			if (t->type != TOML_TABLE)
				return NULL;
			if (!dot)
				break;
			s = dot + 1;
		}
	}
	return key ? toml_table_get(t, key) : t;
}

size_t toml_table_len(const struct toml *t)
{
	return toml_is(t, TOML_TABLE) ? t->u.tab.len : 0;
}

const char *toml_table_key_at(const struct toml *t, size_t i)
{
	return i < toml_table_len(t) ? t->u.tab.keys[i] : NULL;
}

const struct toml *toml_table_value_at(const struct toml *t, size_t i)
{
	return i < toml_table_len(t) ? t->u.tab.vals[i] : NULL;
}

size_t toml_array_len(const struct toml *t)
{
	return toml_is(t, TOML_ARRAY) ? t->u.arr.len : 0;
}

const struct toml *toml_array_at(const struct toml *t, size_t i)
{
	return i < toml_array_len(t) ? t->u.arr.items[i] : NULL;
}

const char *toml_string(const struct toml *t)
{
	return t && (t->type == TOML_STRING || t->type == TOML_DATETIME) ? t->u.str.s : NULL;
}

int64_t toml_int_or(const struct toml *t, int64_t def)
{
	return toml_is(t, TOML_INT) ? t->u.i : def;
}

double toml_float_or(const struct toml *t, double def)
{
	if (toml_is(t, TOML_FLOAT))
		return t->u.d;
	return toml_is(t, TOML_INT) ? (double)t->u.i : def;
}

bool toml_bool_or(const struct toml *t, bool def)
{
	return toml_is(t, TOML_BOOL) ? t->u.b : def;
}

/* The value of key if it has type type (1), absent (0), or a type error (-1). */
static int get_typed(const struct toml *tab, const char *key, enum toml_type type, const struct toml **ret,
		     struct skiff_err **err)
{
	const struct toml *v = toml_table_get(tab, key);

	if (!v)
		return 0;
	if (v->type != type) {
		struct strbuf sb = STRBUF_INIT;
		msg_key_part(&sb, key);
		err_makex(err, EINVAL, "line %zu: %s: expected %s, got %s", v->line, sb.buf, toml_type_name(type),
			  toml_type_name(v->type));
		strbuf_release(&sb);
		return -1;
	}
	*ret = v;
	return 1;
}

int toml_get_string(const struct toml *tab, const char *key, const char **ret, struct skiff_err **err)
{
	const struct toml *v;
	int r = get_typed(tab, key, TOML_STRING, &v, err);
	if (r > 0)
		*ret = v->u.str.s;
	return r;
}

int toml_get_int(const struct toml *tab, const char *key, int64_t *ret, struct skiff_err **err)
{
	const struct toml *v;
	int r = get_typed(tab, key, TOML_INT, &v, err);
	if (r > 0)
		*ret = v->u.i;
	return r;
}

int toml_get_bool(const struct toml *tab, const char *key, bool *ret, struct skiff_err **err)
{
	const struct toml *v;
	int r = get_typed(tab, key, TOML_BOOL, &v, err);
	if (r > 0)
		*ret = v->u.b;
	return r;
}

int toml_get_table(const struct toml *tab, const char *key, const struct toml **ret, struct skiff_err **err)
{
	return get_typed(tab, key, TOML_TABLE, ret, err);
}

int toml_get_strv(const struct toml *tab, const char *key, struct strv *ret, struct skiff_err **err)
{
	const struct toml *v;
	int r = get_typed(tab, key, TOML_ARRAY, &v, err);

	if (r <= 0)
		return r;
	for (size_t i = 0; i < v->u.arr.len; i++) {
		const struct toml *item = v->u.arr.items[i];
		if (item->type != TOML_STRING) {
			struct strbuf sb = STRBUF_INIT;
			msg_key_part(&sb, key);
			err_makex(err, EINVAL, "line %zu: %s: item %zu: expected string, got %s", item->line, sb.buf,
				  i + 1, toml_type_name(item->type));
			strbuf_release(&sb);
			return -1;
		}
	}
	for (size_t i = 0; i < v->u.arr.len; i++)
		strv_push(ret, v->u.arr.items[i]->u.str.s);
	return 1;
}
