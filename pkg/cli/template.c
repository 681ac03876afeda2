/*
 * A Go text/template subset over pkg/json values. The parser is recursive descent over
 * the normalised format and builds a small tree (text, actions, if/range/with); the
 * executor walks it with a stack of variables. Values are const struct json pointers;
 * NULL is Go's "no value" (a missing map key). Values made during execution (function
 * results, range indexes) live in an arena freed when the execution ends.
 */
#include "pkg/cli/template.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/cli/table.h"
#include "pkg/cli/template_int.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/strv.h"
#include "vendor-free/xalloc.h"

#define MAX_DEPTH 100 /* nested if/range/with and parentheses */

/* ---- the tree ---- */

enum node_type { N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH };
enum arg_type { A_DOT, A_VAR, A_PIPE, A_FUNC, A_CONST, A_NIL };

struct pipe;
struct arg {
	enum arg_type type;
	size_t pos, end;
	char *var;		    /* A_VAR: "$" or "$name" */
	const struct tmpl_func *fn; /* A_FUNC */
	struct json *value;	    /* A_CONST, A_NIL */
	struct pipe *pipe;	    /* A_PIPE */
	struct strv fields;	    /* .A.B after the operand */
};

struct cmd {
	struct arg **args;
	size_t nargs, alloc;
};

struct pipe {
	char *vars[2];
	size_t nvars;
	bool assign; /* "=" rather than ":=" */
	struct cmd **cmds;
	size_t ncmds, alloc;
};

struct node;
struct nodes {
	struct node **v;
	size_t len, alloc;
};

struct node {
	enum node_type type;
	size_t pos;
	char *text; /* N_TEXT: the text; others: the action's source, for headers */
	size_t len;
	struct pipe *pipe;
	struct nodes body, alt; /* alt: the {{else}} part */
};

struct template
{
	bool table;
	char *src; /* normalised format */
	size_t len;
	size_t *map; /* src offset -> offset in orig */
	char *orig;
	struct nodes root;
};

static void free_pipe(struct pipe *pp);

static void free_arg(struct arg *a)
{
	free(a->var);
	if (a->value)
		json_free(a->value);
	if (a->pipe)
		free_pipe(a->pipe);
	strv_release(&a->fields);
	free(a);
}

static void free_pipe(struct pipe *pp)
{
	for (size_t i = 0; i < pp->ncmds; i++) {
		for (size_t j = 0; j < pp->cmds[i]->nargs; j++)
			free_arg(pp->cmds[i]->args[j]);
		free(pp->cmds[i]->args);
		free(pp->cmds[i]);
	}
	free(pp->cmds);
	free(pp->vars[0]);
	free(pp->vars[1]);
	free(pp);
}

static void free_nodes(struct nodes *l)
{
	for (size_t i = 0; i < l->len; i++) {
		struct node *n = l->v[i];
		free(n->text);
		if (n->pipe)
			free_pipe(n->pipe);
		free_nodes(&n->body);
		free_nodes(&n->alt);
		free(n);
	}
	free(l->v);
}

void template_free(struct template *t)
{
	if (!t)
		return;
	free_nodes(&t->root);
	free(t->src);
	free(t->map);
	free(t->orig);
	free(t);
}

bool template_is_table(const struct template *t)
{
	return t->table;
}

/* ---- errors with positions ---- */

static void where(const struct template *t, size_t pos, size_t *line, size_t *col)
{
	size_t off = t->map[pos <= t->len ? pos : t->len];

	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && t->orig[i]; i++) {
		if (t->orig[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

__attribute__((format(printf, 4, 0))) static int verr_at(const struct template *t, struct skiff_err **err, size_t pos,
							 const char *fmt, va_list ap)
{
	cleanup_free char *msg = xvasprintf(fmt, ap);
	size_t line, col;

	where(t, pos, &line, &col);
	return err_makex(err, EINVAL, "template: %zu:%zu: %s", line, col, msg);
}

/* ---- normalisation ---- */

const char *template_pick(const char *fmt, const char *def)
{
	if (!fmt || !*fmt || strcmp(fmt, "table") == 0)
		return def;
	return fmt;
}

struct norm {
	struct strbuf sb;
	size_t *map;
	size_t alloc;
};

static void norm_add(struct norm *n, char c, size_t from)
{
	ALLOC_GROW(n->map, n->sb.len + 2, n->alloc);
	n->map[n->sb.len] = from;
	strbuf_addch(&n->sb, c);
}

/* Copy an action verbatim from s[i] (just past "{{"); return the index past "}}". */
static size_t norm_action(struct norm *n, const char *s, size_t i)
{
	while (s[i]) {
		char q = s[i];
		if (q == '}' && s[i + 1] == '}') {
			norm_add(n, '}', i);
			norm_add(n, '}', i + 1);
			return i + 2;
		}
		size_t stop = i + 1;
		if (q == '"' || q == '\'' || q == '`') { /* a quoted string: up to its end */
			while (s[stop] && s[stop] != q && (q == '`' || s[stop] != '\n'))
				stop += q != '`' && s[stop] == '\\' && s[stop + 1] ? 2 : 1;
			if (s[stop] == q)
				stop++;
		} else if (q == '/' && s[i + 1] == '*') { /* a comment */
			const char *e = strstr(s + i + 2, "*/");
			stop = e ? (size_t)(e - s) + 2 : strlen(s);
		}
		for (; i < stop; i++)
			norm_add(n, s[i], i);
	}
	return i;
}

char *template_normalize(const char *fmt, bool *ret_table, size_t **ret_map)
{
	struct norm n = {.sb = STRBUF_INIT};
	bool table = false;
	size_t i = 0, end = strlen(fmt);

	if (strncmp(fmt, "table ", 6) == 0) {
		table = true;
		i = 6;
	} else if (strcmp(fmt, "table") == 0) {
		table = true;
		i = 5;
	}
	ALLOC_GROW(n.map, 1, n.alloc);
	while (i < end) {
		if (fmt[i] == '{' && fmt[i + 1] == '{') {
			norm_add(&n, '{', i);
			norm_add(&n, '{', i + 1);
			i = norm_action(&n, fmt, i + 2);
		} else if (fmt[i] == '\\' && (fmt[i + 1] == 't' || fmt[i + 1] == 'n')) {
			norm_add(&n, fmt[i + 1] == 't' ? '\t' : '\n', i);
			i += 2;
		} else {
			norm_add(&n, table && fmt[i] == ' ' ? '\t' : fmt[i], i);
			i++;
		}
	}
	if (!n.sb.len || n.sb.buf[n.sb.len - 1] != '\n')
		norm_add(&n, '\n', end);
	ALLOC_GROW(n.map, n.sb.len + 1, n.alloc);
	n.map[n.sb.len] = end;
	if (ret_table)
		*ret_table = table;
	if (ret_map)
		*ret_map = n.map;
	else
		free(n.map);
	return strbuf_detach(&n.sb, NULL);
}

/* ---- the parser ---- */

enum stop { STOP_NONE, STOP_EOF, STOP_END, STOP_ELSE };

struct parser {
	struct template *t;
	const char *s;
	size_t len, i;
	bool trim_next;	 /* the last action ended with " -}}" */
	size_t close_at; /* where the last closing delimiter (and its space) began */
	int depth;
	struct strv vars;
	struct skiff_err **err;
};

__attribute__((format(printf, 3, 4))) static int perr(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verr_at(p->t, p->err, pos, fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}

static int at(const struct parser *p, size_t k)
{
	return k < p->len ? (unsigned char)p->s[k] : 0;
}

static void skip_ws(struct parser *p)
{
	while (is_space(at(p, p->i)))
		p->i++;
}

/* Is a closing "}}" or " -}}" next? If so, give the index past it. */
static bool close_ahead(const struct parser *p, size_t *ret_end, bool *ret_trim)
{
	size_t j = p->i;

	while (is_space(at(p, j)))
		j++;
	if (at(p, j) == '}' && at(p, j + 1) == '}') {
		*ret_end = j + 2;
		*ret_trim = false;
		return true;
	}
	if (j > p->i && at(p, j) == '-' && at(p, j + 1) == '}' && at(p, j + 2) == '}') {
		*ret_end = j + 3;
		*ret_trim = true;
		return true;
	}
	return false;
}

/* A printable description of the character at k, for messages. */
static const char *describe(const struct parser *p, size_t k, char buf[16])
{
	int c = at(p, k);

	if (!c)
		return "end of input";
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, 16, "\"%c\"", c);
	else
		snprintf(buf, 16, "byte 0x%02x", (unsigned)c);
	return buf;
}

static int expect_close(struct parser *p, size_t pos, const char *what)
{
	size_t end;
	bool trim;
	char d[16];

	if (close_ahead(p, &end, &trim)) {
		p->close_at = p->i;
		p->i = end;
		p->trim_next = trim;
		return 0;
	}
	skip_ws(p);
	if (p->i >= p->len)
		return perr(p, pos, "unclosed action");
	return perr(p, p->i, "unexpected %s in %s", describe(p, p->i, d), what);
}

static struct node *add_node(struct nodes *l, enum node_type type, size_t pos)
{
	struct node *n = xzalloc(sizeof(*n));

	n->type = type;
	n->pos = pos;
	ALLOC_GROW(l->v, l->len + 1, l->alloc);
	l->v[l->len++] = n;
	return n;
}

static const char *const keywords[] = {"if",	 "else",     "end",   "range", "with",
				       "define", "template", "block", "break", "continue"};

static bool is_keyword(const char *w)
{
	for (size_t k = 0; k < ARRAY_SIZE(keywords); k++)
		if (strcmp(w, keywords[k]) == 0)
			return true;
	return false;
}

static char *read_word(struct parser *p)
{
	size_t start = p->i;

	while (is_alnum(at(p, p->i)))
		p->i++;
	return xstrndup(p->s + start, p->i - start);
}

static int hexval(int c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode one Go escape at p->i (just past the backslash) into sb. */
static int parse_escape(struct parser *p, char quote, struct strbuf *sb)
{
	static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\";
	size_t pos = p->i - 1, digits = 0;
	uint32_t v = 0;
	int c = at(p, p->i++);
	const char *e;

	if (c == quote) {
		strbuf_addch(sb, (char)c);
		return 0;
	}
	for (e = simple; *e; e += 2)
		if (c && *e == c) {
			strbuf_addch(sb, e[1]);
			return 0;
		}
	switch (c) {
	case 'x':
		digits = 2;
		break;
	case 'u':
		digits = 4;
		break;
	case 'U':
		digits = 8;
		break;
	default:
		if (c >= '0' && c <= '7') {
			v = (uint32_t)(c - '0');
			for (int k = 0; k < 2; k++) {
				c = at(p, p->i++);
				if (c < '0' || c > '7')
					return perr(p, pos, "invalid escape in quoted string");
				v = v * 8 + (uint32_t)(c - '0');
			}
			if (v > 255)
				return perr(p, pos, "invalid escape in quoted string");
			strbuf_addch(sb, (char)v);
			return 0;
		}
		return perr(p, pos, "invalid escape in quoted string");
	}
	for (size_t k = 0; k < digits; k++) {
		int h = hexval(at(p, p->i++));
		if (h < 0)
			return perr(p, pos, "invalid escape in quoted string");
		v = v * 16 + (uint32_t)h;
	}
	if (c == 'x')
		strbuf_addch(sb, (char)v);
	else if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000))
		return perr(p, pos, "invalid escape in quoted string");
	else
		tmpl_put_utf8(sb, v);
	return 0;
}

static int parse_string(struct parser *p, struct strbuf *sb)
{
	size_t pos = p->i;
	int q = at(p, p->i++);

	for (;;) {
		int c = at(p, p->i);
		if (q == '`' && p->i >= p->len)
			return perr(p, pos, "unterminated raw quoted string");
		if (q != '`' && (p->i >= p->len || c == '\n'))
			return perr(p, pos, "unterminated quoted string");
		p->i++;
		if (c == q)
			return 0;
		if (c == '\\' && q != '`') {
			if (parse_escape(p, (char)q, sb) < 0)
				return -1;
		} else if (c != '\r' || q != '`') { /* Go drops CR from raw strings */
			strbuf_addch(sb, (char)c);
		}
	}
}

static int parse_number(struct parser *p, struct arg *a)
{
	size_t start = p->i;
	cleanup_free char *tok = NULL;
	char *end;

	if (at(p, p->i) == '+' || at(p, p->i) == '-')
		p->i++;
	while (is_alnum(at(p, p->i)) || at(p, p->i) == '.' ||
	       ((at(p, p->i) == '+' || at(p, p->i) == '-') && at(p, p->i - 1) && strchr("eEpP", at(p, p->i - 1))))
		p->i++;
	tok = xstrndup(p->s + start, p->i - start);
	errno = 0;
	long long v = strtoll(tok, &end, 0);
	if (!*end && errno == 0) {
		a->value = json_new_int(v);
		return 0;
	}
	errno = 0;
	double d = strtod(tok, &end);
	if (*end || errno || !isfinite(d))
		return perr(p, start, "bad number syntax: \"%s\"", tok);
	a->value = json_new_double(d);
	a->value->u.num.is_int = false; /* Go: a constant written as 1e6 or 2.0 is a float64 */
	return 0;
}

static void parse_fields(struct parser *p, struct arg *a)
{
	while (at(p, p->i) == '.' && is_alpha(at(p, p->i + 1))) {
		p->i++;
		strv_push_take(&a->fields, read_word(p));
	}
}

static int parse_pipeline(struct parser *p, size_t pos, size_t maxvars, bool paren, const char *ctx,
			  struct pipe **slot);

static int parse_operand(struct parser *p, struct cmd *cmd)
{
	struct arg *a = xzalloc(sizeof(*a));
	struct strbuf sb = STRBUF_INIT;
	int c = at(p, p->i), r = 0;
	char d[16];

	a->pos = p->i;
	ALLOC_GROW(cmd->args, cmd->nargs + 1, cmd->alloc);
	cmd->args[cmd->nargs++] = a;

	if (c == '.' && !is_digit(at(p, p->i + 1))) {
		a->type = A_DOT;
		if (is_alpha(at(p, p->i + 1)))
			parse_fields(p, a);
		else
			p->i++;
	} else if (c == '$') {
		p->i++;
		cleanup_free char *name = read_word(p);
		a->type = A_VAR;
		a->var = xasprintf("$%s", name);
		if (*name && !strv_contains(&p->vars, a->var))
			return perr(p, a->pos, "undefined variable \"%s\"", a->var);
		parse_fields(p, a);
	} else if (c == '"' || c == '`') {
		r = parse_string(p, &sb);
		a->type = A_CONST;
		a->value = json_new_stringn(sb.buf, sb.len);
	} else if (c == '\'') {
		size_t n;
		p->i++;
		if (at(p, p->i) == '\\') {
			p->i++;
			r = parse_escape(p, '\'', &sb);
		} else if (p->i < p->len) {
			n = text_utf8_len(p->s + p->i, p->len - p->i);
			strbuf_add(&sb, p->s + p->i, n ? n : 1);
			p->i += n ? n : 1;
		}
		if (r == 0 && (at(p, p->i) != '\'' || !sb.len || text_utf8_len(sb.buf, sb.len) != sb.len))
			r = perr(p, a->pos, "malformed character constant");
		if (r == 0) {
			p->i++;
			a->type = A_CONST;
			a->value = json_new_int(tmpl_utf8_decode(sb.buf, sb.len));
		}
	} else if (c == '(') {
		if (++p->depth > MAX_DEPTH) {
			r = perr(p, a->pos, "nesting too deep (more than %d levels)", MAX_DEPTH);
		} else {
			p->i++;
			a->type = A_PIPE;
			r = parse_pipeline(p, a->pos, 0, true, "parenthesized pipeline", &a->pipe);
			if (r == 0 && at(p, p->i) != ')')
				r = perr(p, a->pos, "unclosed left paren");
			if (r == 0) {
				p->i++;
				p->depth--;
				parse_fields(p, a);
			}
		}
	} else if (is_digit(c) || c == '.' ||
		   ((c == '-' || c == '+') &&
		    (is_digit(at(p, p->i + 1)) || (at(p, p->i + 1) == '.' && is_digit(at(p, p->i + 2)))))) {
		a->type = A_CONST;
		r = parse_number(p, a);
	} else if (is_alpha(c)) {
		cleanup_free char *w = read_word(p);
		if (strcmp(w, "true") == 0 || strcmp(w, "false") == 0) {
			a->type = A_CONST;
			a->value = json_new_bool(w[0] == 't');
		} else if (strcmp(w, "nil") == 0) {
			a->type = A_NIL;
			a->value = json_new_null();
		} else if (is_keyword(w)) {
			r = perr(p, a->pos, "unexpected {{%s}} in command", w);
		} else if (!(a->fn = tmpl_func_find(w))) {
			r = perr(p, a->pos, "function \"%s\" not defined", w);
		} else {
			a->type = A_FUNC;
		}
	} else {
		r = perr(p, a->pos, "unexpected %s in command", describe(p, p->i, d));
	}
	strbuf_release(&sb);
	a->end = p->i;
	return r;
}

static int parse_command(struct parser *p, bool paren, struct cmd *cmd)
{
	size_t end;
	bool trim;
	char d[16];

	for (;;) {
		if (close_ahead(p, &end, &trim))
			return 0;
		skip_ws(p);
		int c = at(p, p->i);
		if (!c || c == '|')
			return 0;
		if (c == ')') {
			if (!paren)
				return perr(p, p->i, "unexpected \")\"");
			return 0;
		}
		if (parse_operand(p, cmd) < 0)
			return -1;
		c = at(p, p->i);
		if (c && !is_space(c) && c != '|' && c != ')' && !(c == '}' && at(p, p->i + 1) == '}'))
			return perr(p, p->i, "unexpected %s in operand", describe(p, p->i, d));
	}
}

static void describe_want(const struct tmpl_func *f, char buf[32])
{
	if (f->max < 0)
		snprintf(buf, 32, "at least %d", f->min);
	else if (f->min == f->max)
		snprintf(buf, 32, "%d", f->min);
	else
		snprintf(buf, 32, "%d to %d", f->min, f->max);
}

static int check_arity(struct parser *p, const struct arg *a, size_t n)
{
	char want[32];

	if ((int)n < a->fn->min || (a->fn->max >= 0 && (int)n > a->fn->max)) {
		describe_want(a->fn, want);
		return perr(p, a->pos, "wrong number of args for %s: want %s got %zu", a->fn->name, want, n);
	}
	return 0;
}

static int check_pipeline(struct parser *p, const struct pipe *pp)
{
	for (size_t k = 0; k < pp->ncmds; k++) {
		const struct cmd *c = pp->cmds[k];
		const struct arg *a0 = c->args[0];
		size_t n = c->nargs - 1 + (k > 0);

		if (a0->type == A_FUNC && check_arity(p, a0, n) < 0)
			return -1;
		if (a0->type == A_NIL)
			return perr(p, a0->pos, "nil is not a command");
		if (a0->type != A_FUNC && n > 0)
			return perr(p, a0->pos, "can't give argument to non-function %.*s", (int)(a0->end - a0->pos),
				    p->s + a0->pos);
		for (size_t j = 1; j < c->nargs; j++)
			if (c->args[j]->type == A_FUNC && check_arity(p, c->args[j], 0) < 0)
				return -1;
	}
	return 0;
}

/* Parse "[$a[, $b] :=|=] cmd | cmd ...", stopping before "}}" or ")". */
static int parse_pipeline(struct parser *p, size_t pos, size_t maxvars, bool paren, const char *ctx, struct pipe **slot)
{
	struct pipe *pp = *slot = xzalloc(sizeof(*pp));
	size_t j = p->i;
	char d[16];

	while (is_space(at(p, j)))
		j++;
	if (maxvars && at(p, j) == '$') {
		size_t save = p->i = j;
		for (;;) {
			p->i++;
			cleanup_free char *name = read_word(p);
			pp->vars[pp->nvars++] = xasprintf("$%s", name);
			skip_ws(p);
			if (at(p, p->i) != ',' || pp->nvars == maxvars)
				break;
			p->i++;
			skip_ws(p);
			if (at(p, p->i) != '$')
				return perr(p, p->i, "unexpected %s in declaration", describe(p, p->i, d));
		}
		if (at(p, p->i) == ':' && at(p, p->i + 1) == '=') {
			p->i += 2;
		} else if (at(p, p->i) == '=' && at(p, p->i + 1) != '=') {
			p->i += 1;
			pp->assign = true;
		} else if (pp->nvars > 1 || at(p, p->i) == ',') {
			return perr(p, save, "expected := after variables in %s", ctx);
		} else { /* an operand, not a declaration */
			free(pp->vars[0]);
			pp->vars[0] = NULL;
			pp->nvars = 0;
			p->i = save;
		}
		for (size_t k = 0; pp->assign && k < pp->nvars; k++)
			if (strcmp(pp->vars[k], "$") != 0 && !strv_contains(&p->vars, pp->vars[k]))
				return perr(p, save, "undefined variable \"%s\"", pp->vars[k]);
		for (size_t k = 0; k < pp->nvars; k++)
			if (strcmp(pp->vars[k], "$") == 0)
				return perr(p, save, "cannot declare or assign \"$\"");
	}
	for (;;) {
		struct cmd *c = xzalloc(sizeof(*c));
		ALLOC_GROW(pp->cmds, pp->ncmds + 1, pp->alloc);
		pp->cmds[pp->ncmds++] = c;
		if (parse_command(p, paren, c) < 0)
			return -1;
		if (!c->nargs) {
			if (p->i >= p->len)
				return perr(p, pos, paren ? "unclosed left paren" : "unclosed action");
			if (pp->ncmds == 1)
				return perr(p, pos, "missing value for %s", ctx);
			return perr(p, p->i, "missing command after \"|\" in %s", ctx);
		}
		size_t j = p->i; /* do not eat the space of a " -}}" */
		while (is_space(at(p, j)))
			j++;
		if (at(p, j) != '|')
			break;
		p->i = j + 1;
	}
	if (check_pipeline(p, pp) < 0)
		return -1;
	for (size_t k = 0; !pp->assign && k < pp->nvars; k++)
		strv_push(&p->vars, pp->vars[k]);
	return 0;
}

static int parse_list(struct parser *p, struct nodes *out, enum stop *ret_stop, size_t *ret_pos);

static void set_source(struct parser *p, struct node *n, size_t from)
{
	size_t to = p->close_at > from ? p->close_at : from;

	while (to > from && is_space(p->s[to - 1]))
		to--;
	n->text = xstrndup(p->s + from, to - from);
	n->len = to - from;
}

/* {{if|range|with pipeline}} list [{{else [if|with ...]}} list] {{end}} */
static int parse_control(struct parser *p, enum node_type type, size_t pos, size_t src, const char *kw,
			 struct nodes *out)
{
	struct node *n = add_node(out, type, pos);
	size_t mark = p->vars.len, spos = pos, end;
	enum stop stop;
	bool trim;
	char d[16];

	if (++p->depth > MAX_DEPTH)
		return perr(p, pos, "nesting too deep (more than %d levels)", MAX_DEPTH);
	if (parse_pipeline(p, pos, type == N_RANGE ? 2 : 1, false, kw, &n->pipe) < 0 || expect_close(p, pos, kw) < 0)
		return -1;
	set_source(p, n, src);
	if (parse_list(p, &n->body, &stop, &spos) < 0)
		return -1;
	if (stop == STOP_ELSE) {
		size_t epos = spos;
		if (close_ahead(p, &end, &trim)) {
			p->i = end;
			p->trim_next = trim;
			if (parse_list(p, &n->alt, &stop, &spos) < 0)
				return -1;
			if (stop == STOP_ELSE)
				return perr(p, spos, "expected {{end}}; found {{else}}");
		} else {
			skip_ws(p);
			size_t save = p->i;
			cleanup_free char *w = read_word(p);
			if (!((type == N_IF && strcmp(w, "if") == 0) || (type == N_WITH && strcmp(w, "with") == 0))) {
				p->i = save;
				return perr(p, save, "unexpected %s after {{else}} in {{%s}}",
					    *w ? w : describe(p, save, d), kw);
			}
			/* {{else if X}} is {{else}}{{if X}}...{{end}} sharing this {{end}}. */
			if (parse_control(p, type, epos, save, kw, &n->alt) < 0)
				return -1;
			stop = STOP_END;
		}
	}
	if (stop != STOP_END)
		return perr(p, pos, "unexpected EOF: missing {{end}} for {{%s}}", kw);
	while (p->vars.len > mark)
		strv_remove(&p->vars, p->vars.len - 1);
	p->depth--;
	return 0;
}

/* Parse one action; p->i is just past "{{" (and a trim marker). */
static int parse_action(struct parser *p, size_t pos, struct nodes *out, enum stop *ret_stop)
{
	size_t end, src;
	bool trim;

	*ret_stop = STOP_NONE;
	if (close_ahead(p, &end, &trim))
		return perr(p, pos, "missing value for command");
	skip_ws(p);
	src = p->i;
	if (at(p, p->i) == '/' && at(p, p->i + 1) == '*') {
		const char *e = strstr(p->s + p->i + 2, "*/");
		if (!e)
			return perr(p, pos, "unclosed comment");
		p->i = (size_t)(e - p->s) + 2;
		if (!close_ahead(p, &end, &trim))
			return perr(p, pos, "comment ends before closing delimiter");
		p->i = end;
		p->trim_next = trim;
		return 0;
	}
	if (p->i >= p->len)
		return perr(p, pos, "unclosed action");
	if (is_alpha(at(p, p->i))) {
		size_t save = p->i;
		cleanup_free char *w = read_word(p);
		if (strcmp(w, "end") == 0) {
			*ret_stop = STOP_END;
			return expect_close(p, pos, "{{end}}");
		}
		if (strcmp(w, "else") == 0) {
			*ret_stop = STOP_ELSE;
			return 0;
		}
		if (strcmp(w, "if") == 0)
			return parse_control(p, N_IF, pos, src, "if", out);
		if (strcmp(w, "range") == 0)
			return parse_control(p, N_RANGE, pos, src, "range", out);
		if (strcmp(w, "with") == 0)
			return parse_control(p, N_WITH, pos, src, "with", out);
		if (is_keyword(w))
			return perr(p, pos, "{{%s}} is not supported", w);
		p->i = save;
	}
	struct node *n = add_node(out, N_ACTION, pos);
	if (parse_pipeline(p, pos, 1, false, "command", &n->pipe) < 0 || expect_close(p, pos, "command") < 0)
		return -1;
	set_source(p, n, src);
	return 0;
}

static int parse_list(struct parser *p, struct nodes *out, enum stop *ret_stop, size_t *ret_pos)
{
	for (;;) {
		const char *o = strstr(p->s + p->i, "{{");
		size_t start = p->i, end = o ? (size_t)(o - p->s) : p->len;
		bool ltrim = o && at(p, end + 2) == '-' && is_space(at(p, end + 3));
		enum stop stop;

		if (p->trim_next)
			while (start < end && is_space(p->s[start]))
				start++;
		p->trim_next = false;
		if (ltrim)
			while (end > start && is_space(p->s[end - 1]))
				end--;
		if (end > start) {
			struct node *n = add_node(out, N_TEXT, start);
			n->text = xstrndup(p->s + start, end - start);
			n->len = end - start;
		}
		if (!o) {
			p->i = p->len;
			*ret_stop = STOP_EOF;
			return 0;
		}
		end = (size_t)(o - p->s);
		p->i = end + (ltrim ? 3 : 2);
		if (parse_action(p, end, out, &stop) < 0)
			return -1;
		if (stop != STOP_NONE) {
			*ret_stop = stop;
			*ret_pos = end;
			return 0;
		}
	}
}

int template_parse(const char *fmt, struct template **ret, struct skiff_err **err)
{
	struct template *t = xzalloc(sizeof(*t));
	struct parser p = {.t = t, .err = err};
	enum stop stop;
	size_t spos = 0;
	int r;

	t->orig = xstrdup(fmt);
	t->src = template_normalize(fmt, &t->table, &t->map);
	t->len = strlen(t->src);
	p.s = t->src;
	p.len = t->len;
	r = parse_list(&p, &t->root, &stop, &spos);
	if (r == 0 && stop == STOP_END)
		r = perr(&p, spos, "unexpected {{end}}");
	if (r == 0 && stop == STOP_ELSE)
		r = perr(&p, spos, "unexpected {{else}}");
	strv_release(&p.vars);
	if (r < 0) {
		template_free(t);
		return -1;
	}
	*ret = t;
	return 0;
}

/* ---- execution ---- */

struct var {
	const char *name;
	const struct json *val;
};

struct exec {
	const struct template *t;
	const struct json *root;
	struct skiff_err **err;
	struct var *vars;
	size_t nvars, vars_alloc;
	struct tmpl_arena arena;
};

__attribute__((format(printf, 3, 4))) static int xerr(struct exec *x, size_t pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verr_at(x->t, x->err, pos, fmt, ap);
	va_end(ap);
	return -1;
}

static void push_var(struct exec *x, const char *name, const struct json *v)
{
	ALLOC_GROW(x->vars, x->nvars + 1, x->vars_alloc);
	x->vars[x->nvars++] = (struct var){name, v};
}

static struct var *find_var(struct exec *x, const char *name)
{
	for (size_t k = x->nvars; k > 0; k--)
		if (strcmp(x->vars[k - 1].name, name) == 0)
			return &x->vars[k - 1];
	return NULL;
}

static int eval_pipe(struct exec *x, const struct json *dot, const struct pipe *pp, bool declare,
		     const struct json **ret);

static int fields_of(struct exec *x, const struct json *v, const struct arg *a, const struct json **ret)
{
	for (size_t k = 0; k < a->fields.len; k++) {
		const char *name = a->fields.v[k];
		if (tmpl_is_nil(v)) {
			v = NULL;
			continue;
		}
		if (v->type != JSON_OBJECT)
			return xerr(x, a->pos, "can't evaluate field %s in type %s", name, tmpl_type_name(v));
		v = json_object_get(v, name);
	}
	*ret = v;
	return 0;
}

static int call(struct exec *x, const struct json *dot, const struct arg *fa, struct arg *const *args, size_t nargs,
		const struct json *piped, bool has_piped, const struct json **ret);

static int eval_arg(struct exec *x, const struct json *dot, const struct arg *a, const struct json **ret)
{
	const struct json *v = NULL;
	struct var *var;

	switch (a->type) {
	case A_DOT:
		v = dot;
		break;
	case A_VAR:
		if (strcmp(a->var, "$") == 0) {
			v = x->root;
		} else if ((var = find_var(x, a->var))) {
			v = var->val;
		} else {
			return xerr(x, a->pos, "undefined variable \"%s\"", a->var);
		}
		break;
	case A_PIPE:
		if (eval_pipe(x, dot, a->pipe, false, &v) < 0)
			return -1;
		break;
	case A_FUNC:
		return call(x, dot, a, NULL, 0, NULL, false, ret);
	case A_CONST:
	case A_NIL:
		*ret = a->value;
		return 0;
	}
	return fields_of(x, v, a, ret);
}

static int call(struct exec *x, const struct json *dot, const struct arg *fa, struct arg *const *args, size_t nargs,
		const struct json *piped, bool has_piped, const struct json **ret)
{
	const struct tmpl_func *f = fa->fn;
	size_t n = nargs + (has_piped ? 1 : 0);
	cleanup_free const struct json **argv = xcalloc(n ? n : 1, sizeof(*argv));

	for (size_t k = 0; k < n; k++) {
		if (k < nargs) {
			if (eval_arg(x, dot, args[k], &argv[k]) < 0)
				return -1;
		} else {
			argv[k] = piped;
		}
		if (!f->fn && (k + 1 == n || tmpl_truth(argv[k]) == (f->name[0] == 'o'))) {
			*ret = argv[k]; /* and/or: the first deciding value, lazily */
			return 0;
		}
	}
	struct tmpl_call c = {.name = f->name, .arena = &x->arena, .err = x->err};
	if (f->fn(&c, argv, n, ret) < 0) {
		size_t line, col;
		where(x->t, fa->pos, &line, &col);
		return err_wrap(x->err, "template: %zu:%zu: error calling %s", line, col, f->name);
	}
	return 0;
}

static int eval_pipe(struct exec *x, const struct json *dot, const struct pipe *pp, bool declare,
		     const struct json **ret)
{
	const struct json *v = NULL;

	for (size_t k = 0; k < pp->ncmds; k++) {
		const struct cmd *c = pp->cmds[k];
		if (c->args[0]->type == A_FUNC) {
			if (call(x, dot, c->args[0], c->args + 1, c->nargs - 1, v, k > 0, &v) < 0)
				return -1;
		} else if (eval_arg(x, dot, c->args[0], &v) < 0) {
			return -1;
		}
	}
	for (size_t k = 0; declare && k < pp->nvars; k++) {
		struct var *var;
		if (pp->assign && (var = find_var(x, pp->vars[k])))
			var->val = v;
		else
			push_var(x, pp->vars[k], v);
	}
	*ret = v;
	return 0;
}

static int exec_list(struct exec *x, const struct json *dot, const struct nodes *l, struct strbuf *out);

static int exec_range(struct exec *x, const struct json *dot, const struct node *n, struct strbuf *out)
{
	const struct pipe *pp = n->pipe;
	const struct json *v;
	size_t mark = x->nvars, inner, count = 0;
	struct tmpl_kv *kv = NULL;
	int r = 0;

	if (eval_pipe(x, dot, pp, false, &v) < 0)
		return -1;
	if (!pp->assign)
		for (size_t k = 0; k < pp->nvars; k++)
			push_var(x, pp->vars[k], NULL);
	inner = x->nvars;
	if (tmpl_is_nil(v)) {
		count = 0;
	} else if (v->type == JSON_ARRAY || v->type == JSON_OBJECT) {
		count = v->type == JSON_ARRAY ? v->u.arr.len : v->u.obj.len;
		if (v->type == JSON_OBJECT)
			kv = tmpl_sorted_members(v);
		for (size_t i = 0; i < count && r == 0; i++) {
			const struct json *elem = kv ? kv[i].v : v->u.arr.items[i];
			const struct json *vals[2] = {elem, NULL};
			if (pp->nvars == 2) {
				vals[0] = kv ? tmpl_keep(&x->arena, json_new_string(kv[i].k))
					     : tmpl_keep(&x->arena, json_new_int((int64_t)i));
				vals[1] = elem;
			}
			for (size_t k = 0; k < pp->nvars; k++) {
				struct var *var = pp->assign ? find_var(x, pp->vars[k]) : &x->vars[mark + k];
				if (var)
					var->val = vals[k];
			}
			r = exec_list(x, elem, &n->body, out);
			x->nvars = inner;
		}
		free(kv);
	} else {
		struct strbuf sb = STRBUF_INIT;
		tmpl_print_value(&sb, v);
		r = xerr(x, n->pos, "range can't iterate over %s", sb.buf);
		strbuf_release(&sb);
	}
	if (r == 0 && count == 0)
		r = exec_list(x, dot, &n->alt, out);
	x->nvars = mark;
	return r;
}

static int exec_node(struct exec *x, const struct json *dot, const struct node *n, struct strbuf *out)
{
	const struct json *v;
	size_t mark = x->nvars;
	int r;

	switch (n->type) {
	case N_TEXT:
		strbuf_add(out, n->text, n->len);
		return 0;
	case N_ACTION:
		if (eval_pipe(x, dot, n->pipe, true, &v) < 0)
			return -1;
		if (n->pipe->nvars)
			return 0;
		if (!v)
			strbuf_addstr(out, "<no value>");
		else
			tmpl_print_value(out, v);
		return 0;
	case N_IF:
	case N_WITH:
		if (eval_pipe(x, dot, n->pipe, true, &v) < 0)
			return -1;
		if (tmpl_truth(v))
			r = exec_list(x, n->type == N_WITH ? v : dot, &n->body, out);
		else
			r = exec_list(x, dot, &n->alt, out);
		x->nvars = mark;
		return r;
	case N_RANGE:
		return exec_range(x, dot, n, out);
	}
	return 0;
}

static int exec_list(struct exec *x, const struct json *dot, const struct nodes *l, struct strbuf *out)
{
	for (size_t i = 0; i < l->len; i++)
		if (exec_node(x, dot, l->v[i], out) < 0)
			return -1;
	return 0;
}

int template_execute(const struct template *t, const struct json *data, struct strbuf *out, struct skiff_err **err)
{
	struct exec x = {.t = t, .root = data, .err = err};
	size_t saved = out->len;
	int r = exec_list(&x, data, &t->root, out);

	if (r < 0)
		strbuf_setlen(out, saved);
	tmpl_arena_release(&x.arena);
	free(x.vars);
	return r;
}

/* ---- headers ---- */

static int char_class(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || c >= 0x80)
		return 1; /* lower (non-ASCII letters never split a word here) */
	if (c >= 'A' && c <= 'Z')
		return 2;
	if (is_digit(c))
		return 3;
	return 4;
}

void template_default_header(const char *field, struct strbuf *out)
{
	size_t len = strlen(field);
	bool valid = true;

	for (size_t i = 0; i < len && valid;) {
		size_t n = text_utf8_len(field + i, len - i);
		valid = n > 0;
		i += n;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)field[i];
		if (valid && i > 0 && (c & 0xc0) != 0x80) {
			int prev = char_class((unsigned char)field[i - 1]), cur = char_class(c);
			int next = i + 1 < len ? char_class((unsigned char)field[i + 1]) : 0;
			/* a split between classes, except that the last capital of a run of
			 * capitals starts the next word: "PDFLoader" -> "PDF Loader" */
			if ((cur != prev && !(prev == 2 && cur == 1)) || (prev == 2 && cur == 2 && next == 1))
				strbuf_addch(out, ' ');
		}
		strbuf_addch(out, c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : (char)c);
	}
}

/* The first field of dot (or of $) named in a pipeline, depth first. */
static const struct arg *first_field(const struct pipe *pp)
{
	for (size_t k = 0; pp && k < pp->ncmds; k++) {
		for (size_t j = 0; j < pp->cmds[k]->nargs; j++) {
			const struct arg *a = pp->cmds[k]->args[j], *f;
			if (a->fields.len && (a->type == A_DOT || (a->type == A_VAR && strcmp(a->var, "$") == 0)))
				return a;
			if (a->type == A_PIPE && (f = first_field(a->pipe)))
				return f;
		}
	}
	return NULL;
}

void template_header(const struct template *t, template_header_fn *header_for, void *ud, struct strbuf *out)
{
	for (size_t i = 0; i < t->root.len; i++) {
		const struct node *n = t->root.v[i];
		const struct arg *a;

		if (n->type == N_TEXT) {
			strbuf_add(out, n->text, n->len);
			continue;
		}
		if (n->type == N_ACTION && n->pipe->nvars)
			continue;
		if ((a = first_field(n->pipe))) {
			struct strbuf path = STRBUF_INIT;
			const char *h;
			for (size_t k = 0; k < a->fields.len; k++) {
				if (k)
					strbuf_addch(&path, '.');
				strbuf_addstr(&path, a->fields.v[k]);
			}
			h = header_for ? header_for(path.buf, ud) : NULL;
			if (h)
				strbuf_addstr(out, h);
			else
				template_default_header(a->fields.v[a->fields.len - 1], out);
			strbuf_release(&path);
			continue;
		}
		for (size_t k = 0; k < n->len; k++) {
			char c = n->text[k];
			strbuf_addch(out, c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c);
		}
	}
}

int template_render(const struct template *t, const struct json *rows, bool header, template_header_fn *header_for,
		    void *ud, struct strbuf *out, struct skiff_err **err)
{
	struct strbuf buf = STRBUF_INIT;

	if (t->table && header)
		template_header(t, header_for, ud, &buf);
	if (rows && rows->type == JSON_ARRAY) {
		for (size_t i = 0; i < rows->u.arr.len; i++) {
			if (template_execute(t, rows->u.arr.items[i], &buf, err) < 0) {
				strbuf_release(&buf);
				return -1;
			}
		}
	} else if (rows && template_execute(t, rows, &buf, err) < 0) {
		strbuf_release(&buf);
		return -1;
	}
	if (t->table)
		tabwrite(buf.buf, buf.len, out);
	else
		strbuf_add(out, buf.buf, buf.len);
	strbuf_release(&buf);
	return 0;
}
