/*
 * The Dockerfile parser, with the rules of buildkit's frontend/dockerfile/parser: parser
 * directives at the top, comments, continuation lines (comment and blank lines inside a
 * continuation are skipped), leading "--flag" words, exec form as a JSON array of strings
 * with a silent fallback to shell form, heredocs, then the per-instruction checks of
 * buildkit's instructions package that need no variable values.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pkg/dockerfile/dockerfile.h"
#include "pkg/dockerfile/internal.h"
#include "pkg/json/json.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

/* A physical line longer than this is refused (buildkit's scanner stops at 64 KiB). */
#define DF_MAX_LINE (1024 * 1024)

static const struct {
	const char *name;
	enum df_kind kind;
	bool flags; /* takes --flags */
} kinds[] = {
	[DF_FROM] = {"FROM", DF_FROM, true},
	[DF_RUN] = {"RUN", DF_RUN, true},
	[DF_CMD] = {"CMD", DF_CMD, false},
	[DF_ENTRYPOINT] = {"ENTRYPOINT", DF_ENTRYPOINT, false},
	[DF_COPY] = {"COPY", DF_COPY, true},
	[DF_ADD] = {"ADD", DF_ADD, true},
	[DF_ENV] = {"ENV", DF_ENV, false},
	[DF_ARG] = {"ARG", DF_ARG, false},
	[DF_LABEL] = {"LABEL", DF_LABEL, false},
	[DF_EXPOSE] = {"EXPOSE", DF_EXPOSE, false},
	[DF_USER] = {"USER", DF_USER, false},
	[DF_WORKDIR] = {"WORKDIR", DF_WORKDIR, false},
	[DF_VOLUME] = {"VOLUME", DF_VOLUME, false},
	[DF_SHELL] = {"SHELL", DF_SHELL, false},
	[DF_HEALTHCHECK] = {"HEALTHCHECK", DF_HEALTHCHECK, true},
	[DF_ONBUILD] = {"ONBUILD", DF_ONBUILD, false},
	[DF_STOPSIGNAL] = {"STOPSIGNAL", DF_STOPSIGNAL, false},
	[DF_MAINTAINER] = {"MAINTAINER", DF_MAINTAINER, false},
};

const char *df_kind_name(enum df_kind k)
{
	if ((size_t)k < ARRAY_SIZE(kinds))
		return kinds[k].name;
	return "?";
}

/* ---- freeing ---- */

static void instr_release(struct df_instr *in)
{
	if (!in)
		return;
	free(in->text);
	for (size_t i = 0; i < in->nflags; i++) {
		free(in->flags[i].name);
		free(in->flags[i].value);
	}
	free(in->flags);
	for (size_t i = 0; i < in->nargs; i++)
		free(in->args[i]);
	free(in->args);
	for (size_t i = 0; i < in->nheredocs; i++) {
		free(in->heredocs[i].name);
		free(in->heredocs[i].body);
	}
	free(in->heredocs);
	if (in->trigger) {
		instr_release(in->trigger);
		free(in->trigger);
	}
	memset(in, 0, sizeof(*in));
}

void df_free(struct dockerfile *df)
{
	if (!df)
		return;
	free(df->path);
	free(df->syntax);
	for (size_t i = 0; i < df->nargs; i++)
		instr_release(&df->args[i]);
	free(df->args);
	for (size_t s = 0; s < df->nstages; s++) {
		struct df_stage *st = &df->stages[s];
		free(st->name);
		free(st->base);
		free(st->platform);
		if (st->from) {
			instr_release(st->from);
			free(st->from);
		}
		for (size_t i = 0; i < st->n; i++)
			instr_release(&st->instrs[i]);
		free(st->instrs);
	}
	free(df->stages);
	free(df);
}

/* ---- small helpers ---- */

struct parser {
	const char *path;
	char escape;
	int line; /* the instruction's first line, for messages */
};

static int perr(const struct parser *p, struct skiff_err **err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int perr(const struct parser *p, struct skiff_err **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	return err_makex(err, EINVAL, "%s:%d: %s", p->path, p->line, msg);
}

/* Go's unicode.IsSpace for ASCII. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* buildkit's reWhitespace: [\t\v\f\r ] */
static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static const char *skip_space(const char *s)
{
	while (is_space(*s))
		s++;
	return s;
}

static void args_push(struct df_instr *in, size_t *alloc, char *s)
{
	ALLOC_GROW(in->args, in->nargs + 1, *alloc);
	in->args[in->nargs++] = s;
}

/* Words separated by whitespace, nothing quoted (parseStringsWhitespaceDelimited). */
static void split_ws(struct df_instr *in, size_t *alloc, const char *s)
{
	for (;;) {
		while (is_ws(*s) || *s == '\n')
			s++;
		if (!*s)
			return;
		const char *e = s;
		while (*e && !is_ws(*e) && *e != '\n')
			e++;
		args_push(in, alloc, xstrndup(s, (size_t)(e - s)));
		s = e;
	}
}

/*
 * Words at unquoted whitespace, quotes and escapes kept (buildkit's parseWords, used for
 * ENV, LABEL and ARG).
 */
static void parse_words(const char *s, char esc, struct strv *out)
{
	struct strbuf w cleanup_strbuf = STRBUF_INIT;
	bool blank_ok = false, in_word = false;
	char quote = 0;
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!in_word && !quote) {
			if (is_space(c))
				continue;
			in_word = true;
		}
		if (!quote) {
			if (is_space(c)) {
				if (blank_ok || w.len)
					strv_push_take(out, strbuf_detach(&w, NULL));
				in_word = false;
				blank_ok = false;
				continue;
			}
			if (c == '\'' || c == '"') {
				quote = c;
				blank_ok = true;
			}
			if (c == esc) {
				if (i + 1 == n)
					continue;
				strbuf_addch(&w, c);
				c = s[++i];
			}
			strbuf_addch(&w, c);
			continue;
		}
		if (c == quote)
			quote = 0;
		if (c == esc && quote != '\'') {
			if (i + 1 == n) {
				quote = 0;
				continue;
			}
			strbuf_addch(&w, c);
			c = s[++i];
		}
		strbuf_addch(&w, c);
	}
	if ((in_word || quote) && (blank_ok || w.len))
		strv_push_take(out, strbuf_detach(&w, NULL));
}

/*
 * The leading "--name[=value]" words (buildkit's extractBuilderFlags: quotes removed, "\"
 * escapes the next character, a lone "--" ends the flags). Returns where the arguments
 * start.
 */
static const char *extract_flags(const char *line, struct df_instr *in)
{
	size_t alloc = 0, n = strlen(line), i = 0;
	struct strbuf w cleanup_strbuf = STRBUF_INIT;
	for (;;) {
		while (i < n && is_space(line[i]))
			i++;
		if (i >= n)
			return line + n;
		if (line[i] != '-' || i + 1 >= n || line[i + 1] != '-')
			return line + i;
		strbuf_reset(&w);
		bool blank_ok = false;
		char quote = 0;
		for (; i < n; i++) {
			char c = line[i];
			if (!quote) {
				if (is_space(c))
					break;
				if (c == '\'' || c == '"') {
					quote = c;
					blank_ok = true;
					continue;
				}
				if (c == '\\') {
					if (i + 1 == n)
						continue;
					c = line[++i];
				}
				strbuf_addch(&w, c);
				continue;
			}
			if (c == quote) {
				quote = 0;
				continue;
			}
			if (c == '\\') {
				if (i + 1 == n) {
					quote = 0;
					continue;
				}
				c = line[++i];
			}
			strbuf_addch(&w, c);
		}
		if (strcmp(w.buf, "--") == 0)
			return line + i;
		if (!blank_ok && w.len == 0)
			continue;
		/* "--name=value": the name without the dashes */
		const char *name = w.buf + 2;
		const char *eq = strchr(name, '=');
		ALLOC_GROW(in->flags, in->nflags + 1, alloc);
		struct df_flag *f = &in->flags[in->nflags++];
		f->name = eq ? xstrndup(name, (size_t)(eq - name)) : xstrdup(name);
		f->value = eq ? xstrdup(eq + 1) : NULL;
	}
}

/*
 * rest as a JSON array of strings. Returns 1 and fills args when it is one, 0 when rest is
 * not JSON (shell form), -1 when it is a JSON array with something other than strings.
 */
static int parse_json_array(const struct parser *p, const char *kind, const char *rest, struct df_instr *in,
			    struct skiff_err **err)
{
	cleanup_err struct skiff_err *jerr = NULL;
	cleanup_json struct json *j = NULL;
	rest = skip_space(rest);
	if (*rest != '[')
		return 0;
	if (json_parse(rest, strlen(rest), &j, &jerr) < 0 || !json_is(j, JSON_ARRAY))
		return 0;
	size_t n = json_array_len(j), alloc = 0;
	for (size_t i = 0; i < n; i++) {
		struct json *s = json_array_get(j, i);
		if (!json_is(s, JSON_STRING))
			return perr(p, err,
				    "%s: when using JSON array syntax, arrays must be comprised of strings only", kind);
		if (strlen(s->u.str.s) != s->u.str.len)
			return perr(p, err, "%s: NUL character in a JSON string", kind);
	}
	for (size_t i = 0; i < n; i++)
		args_push(in, &alloc, xstrdup(json_string(json_array_get(j, i))));
	in->exec_form = true;
	return 1;
}

/* parseMaybeJSON: exec form, or the whole text as args[0]. */
static int maybe_json(const struct parser *p, const char *kind, const char *rest, struct df_instr *in,
		      struct skiff_err **err)
{
	int r = parse_json_array(p, kind, rest, in, err);
	if (r < 0)
		return -1;
	if (r == 0 && *rest) {
		size_t alloc = 0;
		args_push(in, &alloc, xstrdup(rest));
	}
	return 0;
}

/* parseMaybeJSONToList: exec form, or the whitespace-separated words. */
static int maybe_json_list(const struct parser *p, const char *kind, const char *rest, struct df_instr *in,
			   struct skiff_err **err)
{
	int r = parse_json_array(p, kind, rest, in, err);
	if (r < 0)
		return -1;
	if (r == 0) {
		size_t alloc = 0;
		split_ws(in, &alloc, rest);
	}
	return 0;
}

/* ENV and LABEL: "key value" (old form) or key=value pairs. */
static int name_val(const struct parser *p, const char *kind, const char *rest, struct df_instr *in,
		    struct skiff_err **err)
{
	struct strv words cleanup_strv = STRV_INIT;
	size_t alloc = 0;
	parse_words(rest, p->escape, &words);
	if (words.len == 0)
		return perr(p, err, "%s requires at least one argument", kind);
	if (!strchr(words.v[0], '=')) {
		const char *e = rest;
		while (*e && !is_ws(*e))
			e++;
		const char *v = e;
		while (is_ws(*v))
			v++;
		if (!*v)
			return perr(p, err, "%s must have two arguments", kind);
		args_push(in, &alloc, xstrndup(rest, (size_t)(e - rest)));
		args_push(in, &alloc, xstrdup(v));
		return 0;
	}
	for (size_t i = 0; i < words.len; i++) {
		const char *eq = strchr(words.v[i], '=');
		if (!eq)
			return perr(p, err,
				    "%s: syntax error - can't find = in \"%s\". Must be of the form: name=value", kind,
				    words.v[i]);
		if (eq == words.v[i])
			return perr(p, err, "%s names can not be blank", kind);
		args_push(in, &alloc, xstrndup(words.v[i], (size_t)(eq - words.v[i])));
		args_push(in, &alloc, xstrdup(eq + 1));
	}
	return 0;
}

static int parse_arg(const struct parser *p, const char *rest, struct df_instr *in, struct skiff_err **err)
{
	struct strv words cleanup_strv = STRV_INIT;
	size_t alloc = 0;
	parse_words(rest, p->escape, &words);
	if (words.len == 0)
		return perr(p, err, "ARG requires at least one argument");
	for (size_t i = 0; i < words.len; i++) {
		const char *eq = strchr(words.v[i], '=');
		if (eq == words.v[i] || !words.v[i][0])
			return perr(p, err, "ARG names can not be blank");
		args_push(in, &alloc, eq ? xstrndup(words.v[i], (size_t)(eq - words.v[i])) : xstrdup(words.v[i]));
		args_push(in, &alloc, eq ? xstrdup(eq + 1) : NULL);
	}
	return 0;
}

static int parse_healthcheck(const struct parser *p, const char *rest, struct df_instr *in, struct skiff_err **err)
{
	size_t alloc = 0, sep = 0;
	while (rest[sep] && !is_space(rest[sep]))
		sep++;
	if (sep == 0)
		return perr(p, err, "HEALTHCHECK requires at least one argument");
	cleanup_free char *typ = xstrndup(rest, sep);
	for (char *c = typ; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	const char *cmd = skip_space(rest + sep);
	if (strcmp(typ, "NONE") == 0) {
		if (*cmd)
			return perr(p, err, "HEALTHCHECK NONE takes no arguments");
		args_push(in, &alloc, TAKE_PTR(typ));
		return 0;
	}
	if (strcmp(typ, "CMD") != 0)
		return perr(p, err, "HEALTHCHECK: unknown type \"%s\" (try CMD or NONE)", typ);
	args_push(in, &alloc, TAKE_PTR(typ));
	int r = parse_json_array(p, "HEALTHCHECK", cmd, in, err);
	if (r < 0)
		return -1;
	if (r == 0 && *cmd)
		args_push(in, &alloc, xstrdup(cmd));
	if (in->nargs < 2)
		return perr(p, err, "HEALTHCHECK: missing command after HEALTHCHECK CMD");
	return 0;
}

/* ---- heredocs ---- */

/*
 * Whether word is a heredoc opener, "[n]<<[-]NAME" (buildkit's parseHeredoc). Returns 1 and
 * fills h (name, expand, strip_tabs), 0 when it is not one, -1 on a lexing error.
 */
static int heredoc_word(const char *word, struct df_heredoc *h, struct skiff_err **err)
{
	const char *s = word;
	while (*s >= '0' && *s <= '9')
		s++;
	if (s[0] != '<' || s[1] != '<')
		return 0;
	s += 2;
	bool chomp = *s == '-';
	if (chomp)
		s++;
	if (!*s || strchr(s, '<'))
		return 0;
	struct df_lex_opts o = {.escape = '\\', .skip_unset = true};
	struct strv words cleanup_strv = STRV_INIT;
	struct strv raw cleanup_strv = STRV_INIT;
	if (df_lex(s, &o, NULL, NULL, NULL, &words, err) < 0)
		return -1;
	if (words.len != 1)
		return 0;
	o.raw_quotes = true;
	if (df_lex(s, &o, NULL, NULL, NULL, &raw, err) < 0)
		return -1;
	if (raw.len != 1)
		return 0;
	size_t q1 = 0, q2 = 0;
	for (const char *c = words.v[0]; *c; c++)
		q1 += *c == '\'' || *c == '"';
	for (const char *c = raw.v[0]; *c; c++)
		q2 += *c == '\'' || *c == '"';
	h->name = xstrdup(words.v[0]);
	h->expand = q1 == q2;
	h->strip_tabs = chomp;
	return 1;
}

/* The lines of the file, split once; each without its "\n" (and a "\r" before it). */
struct lines {
	const char **s;
	size_t *len;
	size_t n;
};

/* ---- one instruction ---- */

static int kind_of(const char *word, enum df_kind *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strcasecmp(word, kinds[i].name) == 0) {
			*ret = kinds[i].kind;
			return 0;
		}
	return -1;
}

/* Parse one logical line into in (its text, flags, args). Heredoc bodies come later. */
static int parse_instr(const struct parser *p, const char *line, struct df_instr *in, bool in_onbuild,
		       struct skiff_err **err)
{
	line = skip_space(line);
	const char *e = line;
	while (*e && !is_ws(*e) && *e != '\n')
		e++;
	cleanup_free char *word = xstrndup(line, (size_t)(e - line));
	size_t tl = strlen(line);
	while (tl > 0 && is_space(line[tl - 1]))
		tl--;
	in->text = xstrndup(line, tl);
	in->line = p->line;
	if (kind_of(word, &in->kind) < 0) {
		for (char *c = word; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		return perr(p, err, "unknown instruction: %s", word);
	}
	const char *name = kinds[in->kind].name;
	if (in_onbuild && (in->kind == DF_ONBUILD || in->kind == DF_FROM || in->kind == DF_MAINTAINER))
		return perr(p, err,
			    in->kind == DF_ONBUILD ? "chaining ONBUILD via ONBUILD ONBUILD isn't allowed"
						   : "%s isn't allowed as an ONBUILD trigger",
			    name);

	cleanup_free char *rest = NULL;
	{
		const char *r = extract_flags(e, in);
		size_t rl = strlen(r);
		r = skip_space(r);
		rl = strlen(r);
		while (rl > 0 && is_space(r[rl - 1]))
			rl--;
		rest = xstrndup(r, rl);
	}
	if (in->nflags && !kinds[in->kind].flags)
		return perr(p, err, "%s: unknown flag: --%s", name, in->flags[0].name);

	size_t alloc = 0;
	switch (in->kind) {
	case DF_FROM: {
		split_ws(in, &alloc, rest);
		if (in->nargs == 3 && strcasecmp(in->args[1], "AS") == 0) {
			const char *n = in->args[2];
			bool ok = isalpha((unsigned char)n[0]);
			for (const char *c = n; ok && *c; c++)
				ok = isalnum((unsigned char)*c) || *c == '-' || *c == '_' || *c == '.';
			if (!ok)
				return perr(
					p, err,
					"FROM: invalid name for build stage: \"%s\", name can't start with a number or "
					"contain symbols",
					n);
		} else if (in->nargs != 1) {
			return perr(p, err, "FROM requires either one or three arguments");
		}
		return 0;
	}
	case DF_RUN:
	case DF_CMD:
	case DF_ENTRYPOINT:
		if (maybe_json(p, name, rest, in, err) < 0)
			return -1;
		if (in->kind == DF_RUN && in->nargs == 0)
			return perr(p, err, "RUN requires at least one argument");
		return 0;
	case DF_SHELL: {
		int r = parse_json_array(p, name, rest, in, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return perr(p, err, "SHELL requires the arguments to be in JSON form");
		if (in->nargs == 0)
			return perr(p, err, "SHELL requires at least one argument");
		return 0;
	}
	case DF_COPY:
	case DF_ADD:
		if (maybe_json_list(p, name, rest, in, err) < 0)
			return -1;
		if (in->nargs < 2)
			return perr(p, err, "%s requires at least two arguments, but only %zu provided", name,
				    in->nargs);
		return 0;
	case DF_ENV:
	case DF_LABEL:
		return name_val(p, name, rest, in, err);
	case DF_ARG:
		return parse_arg(p, rest, in, err);
	case DF_EXPOSE:
		split_ws(in, &alloc, rest);
		if (in->nargs == 0)
			return perr(p, err, "EXPOSE requires at least one argument");
		return 0;
	case DF_VOLUME:
		if (maybe_json_list(p, name, rest, in, err) < 0)
			return -1;
		if (in->nargs == 0)
			return perr(p, err, "VOLUME requires at least one argument");
		return 0;
	case DF_USER:
	case DF_WORKDIR:
	case DF_STOPSIGNAL:
	case DF_MAINTAINER:
		if (!*rest)
			return perr(p, err, "%s requires exactly one argument", name);
		args_push(in, &alloc, TAKE_PTR(rest));
		return 0;
	case DF_HEALTHCHECK:
		return parse_healthcheck(p, rest, in, err);
	case DF_ONBUILD:
		if (!*rest)
			return perr(p, err, "ONBUILD requires at least one argument");
		in->trigger = xzalloc(sizeof(*in->trigger));
		if (parse_instr(p, rest, in->trigger, true, err) < 0)
			return -1;
		return 0;
	}
	return perr(p, err, "unknown instruction: %s", word);
}

/* The instruction that may carry heredocs: itself, or ONBUILD's trigger. */
static struct df_instr *heredoc_target(struct df_instr *in)
{
	if (in->kind == DF_ONBUILD)
		in = in->trigger;
	if (!in || (in->kind != DF_RUN && in->kind != DF_COPY && in->kind != DF_ADD) || in->exec_form)
		return NULL;
	return in;
}

/*
 * Read the heredoc bodies named on the logical line from the lines after *pos, as buildkit
 * does: every word of the line (quotes and escapes kept) that is "[n]<<[-]NAME" opens one,
 * in order.
 */
static int read_heredocs(const struct parser *p, const char *logical, struct df_instr *in, const struct lines *L,
			 size_t *pos, struct skiff_err **err)
{
	struct df_instr *t = heredoc_target(in);
	if (!t || !strstr(logical, "<<"))
		return 0;
	struct df_lex_opts o = {.escape = '\\', .raw_quotes = true, .raw_escapes = true};
	struct strv words cleanup_strv = STRV_INIT;
	cleanup_err struct skiff_err *lerr = NULL;
	if (df_lex(logical, &o, NULL, NULL, NULL, &words, &lerr) < 0)
		return 0; /* buildkit ignores a line it cannot lex here */
	size_t alloc = 0;
	for (size_t w = 0; w < words.len; w++) {
		struct df_heredoc h = {0};
		int r = heredoc_word(words.v[w], &h, err);
		if (r < 0)
			return err_wrap(err, "%s:%d: %s: heredoc %s", p->path, p->line, df_kind_name(t->kind),
					words.v[w]);
		if (r == 0)
			continue;
		struct strbuf body cleanup_strbuf = STRBUF_INIT;
		bool done = false;
		while (*pos < L->n) {
			const char *s = L->s[*pos];
			size_t n = L->len[(*pos)++];
			const char *cmp = s;
			size_t cn = n;
			if (h.strip_tabs)
				while (cn > 0 && *cmp == '\t')
					cmp++, cn--;
			if (cn == strlen(h.name) && memcmp(cmp, h.name, cn) == 0) {
				done = true;
				break;
			}
			if (h.strip_tabs) {
				s = cmp;
				n = cn;
			}
			strbuf_add(&body, s, n);
			strbuf_addch(&body, '\n');
		}
		if (!done) {
			int rr = perr(p, err, "%s: unterminated heredoc %s (no line \"%s\" before the end of the file)",
				      df_kind_name(t->kind), words.v[w], h.name);
			free(h.name);
			return rr;
		}
		h.body = strbuf_detach(&body, NULL);
		ALLOC_GROW(t->heredocs, t->nheredocs + 1, alloc);
		t->heredocs[t->nheredocs++] = h;
	}
	if ((t->kind == DF_COPY || t->kind == DF_ADD) && t->nheredocs) {
		/* sources named "<<NAME"; the destination cannot be a heredoc */
		for (size_t i = 0; i < t->nargs; i++) {
			struct df_heredoc h = {0};
			cleanup_err struct skiff_err *herr = NULL;
			if (heredoc_word(t->args[i], &h, &herr) <= 0)
				continue;
			if (i == t->nargs - 1) {
				free(h.name);
				return perr(p, err, "%s cannot accept a heredoc as a destination",
					    df_kind_name(t->kind));
			}
			free(t->args[i]);
			t->args[i] = xasprintf("<<%s", h.name);
			free(h.name);
		}
	}
	return 0;
}

/* ---- the file ---- */

/* buildkit's parser directive: "#" name "=" value, name a letter then letters/digits. */
static bool directive(const char *s, size_t n, char **ret_name, char **ret_value)
{
	size_t i = 0;
	if (i >= n || s[i] != '#')
		return false;
	i++;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	size_t ns = i;
	if (i >= n || !isalpha((unsigned char)s[i]))
		return false;
	while (i < n && isalnum((unsigned char)s[i]))
		i++;
	size_t ne = i;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i >= n || s[i] != '=')
		return false;
	i++;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	size_t ve = n;
	while (ve > i && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
		ve--;
	if (ve <= i)
		return false;
	*ret_name = xstrndup(s + ns, ne - ns);
	for (char *c = *ret_name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	*ret_value = xstrndup(s + i, ve - i);
	return true;
}

/* Whether the line ends in the escape character and optional blanks: strip them. */
static bool continues(const char *s, size_t *n, char esc)
{
	size_t e = *n;
	while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	if (e > 0 && s[e - 1] == esc) {
		*n = e - 1;
		return true;
	}
	return false;
}

static bool is_comment(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && is_space(s[i]))
		i++;
	return i < n && s[i] == '#';
}

static bool is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_space(s[i]))
			return false;
	return true;
}

static int split_lines(const char *path, const char *buf, size_t len, struct lines *L, struct skiff_err **err)
{
	size_t alloc = 0, alloc2 = 0;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - buf) : len;
		size_t n = e - i;
		if (n > DF_MAX_LINE)
			return err_makex(err, EINVAL, "%s:%zu: line longer than %d bytes", path, L->n + 1, DF_MAX_LINE);
		if (memchr(buf + i, '\0', n))
			return err_makex(err, EINVAL, "%s:%zu: NUL byte in the file", path, L->n + 1);
		if (n > 0 && buf[e - 1] == '\r')
			n--;
		ALLOC_GROW(L->s, L->n + 1, alloc);
		ALLOC_GROW(L->len, L->n + 1, alloc2);
		L->s[L->n] = buf + i;
		L->len[L->n] = n;
		L->n++;
		i = e + 1;
	}
	return 0;
}

static int add_directive(struct dockerfile *df, struct parser *p, const char *name, const char *value, unsigned *seen,
			 struct skiff_err **err)
{
	static const char *const known[] = {"escape", "syntax", "check"};
	for (size_t k = 0; k < ARRAY_SIZE(known); k++) {
		if (strcmp(name, known[k]) != 0)
			continue;
		if (*seen & (1u << k))
			return perr(p, err, "only one %s parser directive can be used", name);
		*seen |= 1u << k;
		if (k == 0) {
			if (strcmp(value, "\\") != 0 && strcmp(value, "`") != 0)
				return perr(p, err, "invalid escape token '%s' does not match ` or \\", value);
			df->escape = p->escape = value[0];
		} else if (k == 1) {
			df->syntax = xstrdup(value);
		}
		return 1;
	}
	return 0;
}

DEFINE_CLEANUP_FUNC(struct dockerfile, df_free)

struct pending {
	struct df_instr *v;
	size_t n, alloc;
};

static void pending_release(struct pending *pd)
{
	for (size_t i = 0; i < pd->n; i++)
		instr_release(&pd->v[i]);
	free(pd->v);
}

static void lines_release(struct lines *L)
{
	free(L->s);
	free(L->len);
}

/* Distribute the instructions into the global ARGs and the stages. */
static int build_stages(struct dockerfile *df, struct parser *p, struct pending *pd, struct skiff_err **err)
{
	size_t sa = 0, aa = 0, ia = 0;
	struct df_stage *cur = NULL;
	for (size_t i = 0; i < pd->n; i++) {
		struct df_instr *in = &pd->v[i];
		p->line = in->line;
		if (in->kind == DF_FROM) {
			ALLOC_GROW(df->stages, df->nstages + 1, sa);
			cur = &df->stages[df->nstages];
			memset(cur, 0, sizeof(*cur));
			cur->index = df->nstages++;
			cur->line = in->line;
			cur->base = xstrdup(in->args[0]);
			if (in->nargs == 3) {
				cur->name = xstrdup(in->args[2]);
				for (char *c = cur->name; *c; c++)
					*c = (char)tolower((unsigned char)*c);
				for (size_t s = 0; s + 1 < df->nstages; s++)
					if (df->stages[s].name && strcmp(df->stages[s].name, cur->name) == 0)
						return perr(p, err,
							    "FROM: duplicate stage name \"%s\" (also on line %d)",
							    cur->name, df->stages[s].line);
			}
			const char *plat = df_flag_get(in, "platform", NULL);
			cur->platform = plat ? xstrdup(plat) : NULL;
			cur->from = xmalloc(sizeof(*cur->from));
			*cur->from = *in;
			memset(in, 0, sizeof(*in));
			ia = 0;
			continue;
		}
		if (!cur) {
			if (in->kind != DF_ARG)
				return perr(p, err, "%s before the first FROM (only ARG may come before it)",
					    df_kind_name(in->kind));
			ALLOC_GROW(df->args, df->nargs + 1, aa);
			df->args[df->nargs++] = *in;
		} else {
			ALLOC_GROW(cur->instrs, cur->n + 1, ia);
			cur->instrs[cur->n++] = *in;
		}
		memset(in, 0, sizeof(*in));
	}
	if (df->nstages == 0)
		return err_makex(err, EINVAL, "%s: no FROM instruction: the file has no build stage", p->path);
	return 0;
}

int df_parse(const char *path, const char *buf, size_t len, struct dockerfile **ret, struct skiff_err **err)
{
	__attribute__((cleanup(df_freep))) struct dockerfile *df = xzalloc(sizeof(*df));
	__attribute__((cleanup(lines_release))) struct lines L = {0};
	__attribute__((cleanup(pending_release))) struct pending pd = {0};
	struct parser p = {.path = path ? path : "Dockerfile", .escape = '\\'};
	struct strbuf logical cleanup_strbuf = STRBUF_INIT;
	bool directives_done = false;
	unsigned seen = 0;

	df->path = xstrdup(p.path);
	df->escape = '\\';
	if (split_lines(p.path, buf, len, &L, err) < 0)
		return -1;

	size_t pos = 0;
	while (pos < L.n) {
		const char *s = L.s[pos];
		size_t n = L.len[pos++];
		p.line = (int)pos;
		while (n > 0 && is_space(*s))
			s++, n--;
		if (!directives_done) {
			cleanup_free char *dname = NULL;
			cleanup_free char *dvalue = NULL;
			int r = directive(s, n, &dname, &dvalue) ? add_directive(df, &p, dname, dvalue, &seen, err) : 0;
			if (r < 0)
				return -1;
			if (r == 0)
				directives_done = true;
		}
		if (n > 0 && s[0] == '#')
			n = 0;
		bool more = continues(s, &n, p.escape);
		if (!more && n == 0)
			continue;
		strbuf_reset(&logical);
		strbuf_add(&logical, s, n);
		while (more && pos < L.n) {
			const char *c = L.s[pos];
			size_t cn = L.len[pos++];
			if (is_comment(c, cn) || is_blank(c, cn))
				continue;
			more = continues(c, &cn, p.escape);
			strbuf_add(&logical, c, cn);
		}
		if (is_blank(logical.buf, logical.len))
			continue;
		ALLOC_GROW(pd.v, pd.n + 1, pd.alloc);
		struct df_instr *in = &pd.v[pd.n++];
		memset(in, 0, sizeof(*in));
		if (parse_instr(&p, logical.buf, in, false, err) < 0)
			return -1;
		if (read_heredocs(&p, logical.buf, in, &L, &pos, err) < 0)
			return -1;
	}
	if (build_stages(df, &p, &pd, err) < 0)
		return -1;
	*ret = TAKE_PTR(df);
	return 0;
}

const char *df_flag_get(const struct df_instr *in, const char *name, bool *ret_present)
{
	const char *v = NULL;
	bool present = false;
	for (size_t i = 0; i < in->nflags; i++)
		if (strcmp(in->flags[i].name, name) == 0) {
			v = in->flags[i].value;
			present = true;
		}
	if (ret_present)
		*ret_present = present;
	return v;
}

const struct df_stage *df_stage_find(const struct dockerfile *df, const char *name, size_t before)
{
	if (before > df->nstages)
		before = df->nstages;
	for (size_t i = 0; i < before; i++)
		if (df->stages[i].name && strcasecmp(df->stages[i].name, name) == 0)
			return &df->stages[i];
	if (*name && strspn(name, "0123456789") == strlen(name) && strlen(name) < 10) {
		size_t idx = strtoul(name, NULL, 10);
		if (idx < before)
			return &df->stages[idx];
	}
	return NULL;
}
