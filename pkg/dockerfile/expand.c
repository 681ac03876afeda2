/*
 * Word expansion with docker's rules (buildkit's frontend/dockerfile/shell lexer): quotes,
 * the escape character, $VAR, ${VAR} and the ${VAR<modifier>word} forms. Bytes, not runes:
 * the escape character and every syntax character are ASCII, and a byte >= 0x80 counts as
 * a letter in names (Go's unicode.IsLetter for UTF-8 letters).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/dockerfile/dockerfile.h"
#include "pkg/dockerfile/internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

/* Words being split at unquoted whitespace, as buildkit's wordsStruct. */
struct words {
	struct strv *out;
	struct strbuf cur;
	bool in_word;
};

struct lex {
	const char *s;
	size_t len, pos;
	const struct df_lex_opts *o;
	const struct strv *vars;
	struct strv *used;
	int depth;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static void words_raw_char(struct words *w, char c)
{
	if (!w)
		return;
	strbuf_addch(&w->cur, c);
	w->in_word = true;
}

static void words_char(struct words *w, char c)
{
	if (!w)
		return;
	if (is_space(c)) {
		if (w->in_word && w->cur.len > 0) {
			strv_push_take(w->out, strbuf_detach(&w->cur, NULL));
			w->in_word = false;
		}
		return;
	}
	words_raw_char(w, c);
}

static void words_string(struct words *w, const char *s, size_t n)
{
	for (size_t i = 0; w && i < n; i++)
		words_char(w, s[i]);
}

static void words_raw_string(struct words *w, const char *s, size_t n)
{
	if (!w)
		return;
	strbuf_add(&w->cur, s, n);
	w->in_word = true;
}

static void words_finish(struct words *w)
{
	if (w->cur.len > 0)
		strv_push_take(w->out, strbuf_detach(&w->cur, NULL));
	w->in_word = false;
}

static int peek(const struct lex *lx)
{
	return lx->pos < lx->len ? (unsigned char)lx->s[lx->pos] : -1;
}

static int next(struct lex *lx)
{
	return lx->pos < lx->len ? (unsigned char)lx->s[lx->pos++] : -1;
}

static bool is_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

static bool is_special_param(int c)
{
	return c == '@' || c == '*' || c == '#' || c == '?' || c == '-' || c == '$' || c == '!' || c == '0';
}

static void process_name(struct lex *lx, struct strbuf *name)
{
	while (peek(lx) >= 0) {
		int c = peek(lx);
		if (name->len == 0 && c >= '0' && c <= '9') {
			while (peek(lx) >= '0' && peek(lx) <= '9')
				strbuf_addch(name, (char)next(lx));
			return;
		}
		if (name->len == 0 && is_special_param(c)) {
			strbuf_addch(name, (char)next(lx));
			return;
		}
		if (!is_name_char(c))
			return;
		strbuf_addch(name, (char)next(lx));
	}
}

/* The value of name: the last "name=" entry wins. */
static const char *get_env(struct lex *lx, const char *name)
{
	size_t n = strlen(name);
	if (lx->used && !strv_contains(lx->used, name))
		strv_push(lx->used, name);
	for (size_t i = lx->vars ? lx->vars->len : 0; i-- > 0;) {
		const char *e = lx->vars->v[i];
		if (strncmp(e, name, n) == 0 && e[n] == '=')
			return e + n + 1;
	}
	return NULL;
}

static int process_stop_on(struct lex *lx, int stop, bool raw_escapes, struct strbuf *out, struct words *w,
			   struct skiff_err **err);

static int process_single_quote(struct lex *lx, struct strbuf *out, struct skiff_err **err)
{
	int c = next(lx);
	if (lx->o->raw_quotes)
		strbuf_addch(out, (char)c);
	for (;;) {
		c = next(lx);
		if (c < 0)
			return err_makex(err, EINVAL, "unterminated single quote");
		if (c == '\'') {
			if (lx->o->raw_quotes)
				strbuf_addch(out, (char)c);
			return 0;
		}
		strbuf_addch(out, (char)c);
	}
}

static int process_dollar(struct lex *lx, struct strbuf *out, struct skiff_err **err);

static int process_double_quote(struct lex *lx, struct strbuf *out, struct skiff_err **err)
{
	int c = next(lx);
	if (lx->o->raw_quotes)
		strbuf_addch(out, (char)c);
	for (;;) {
		switch (peek(lx)) {
		case -1:
			return err_makex(err, EINVAL, "unterminated double quote");
		case '"':
			c = next(lx);
			if (lx->o->raw_quotes)
				strbuf_addch(out, (char)c);
			return 0;
		case '$':
			if (process_dollar(lx, out, err) < 0)
				return -1;
			break;
		default:
			c = next(lx);
			if (c == (unsigned char)lx->o->escape) {
				if (lx->o->raw_escapes)
					strbuf_addch(out, (char)c);
				int p = peek(lx);
				if (p < 0)
					continue; /* an escape at the end of the word is dropped */
				if (p == '"' || p == '$' || p == (unsigned char)lx->o->escape)
					c = next(lx);
			}
			strbuf_addch(out, (char)c);
		}
	}
}

/* A pattern of ${VAR#pattern} and friends as fnmatch(3) reads it: buildkit's patterns
 * have only "*", "?" and escapes of "*", "?" and "\", no bracket expressions. */
static int shell_pattern(const char *pat, struct strbuf *out, struct skiff_err **err)
{
	for (const char *p = pat; *p; p++) {
		if (*p == '\\') {
			if (p[1] == '}' || p[1] == '/')
				continue;
			if (p[1] != '*' && p[1] != '?' && p[1] != '\\')
				return err_makex(err, EINVAL, "invalid pattern (%s) in substitution: invalid escape",
						 pat);
			strbuf_addch(out, '\\');
			strbuf_addch(out, *++p);
		} else if (*p == '[' || *p == ']') {
			strbuf_addch(out, '\\');
			strbuf_addch(out, *p);
		} else {
			strbuf_addch(out, *p);
		}
	}
	return 0;
}

static bool match_n(const char *pat, const char *s, size_t n)
{
	cleanup_free char *t = xstrndup(s, n);
	return fnmatch(pat, t, 0) == 0;
}

/* ${VAR#pat} (prefix) or ${VAR%pat} (suffix), shortest or longest (greedy). */
static int trim_pattern(const char *value, const char *word, bool suffix, bool greedy, struct strbuf *out,
			struct skiff_err **err)
{
	struct strbuf pat cleanup_strbuf = STRBUF_INIT;
	if (shell_pattern(word, &pat, err) < 0)
		return -1;
	size_t n = strlen(value);
	for (size_t k = 0; k <= n; k++) {
		size_t len = greedy ? n - k : k;
		bool m = suffix ? match_n(pat.buf, value + n - len, len) : match_n(pat.buf, value, len);
		if (m) {
			if (suffix)
				strbuf_add(out, value, n - len);
			else
				strbuf_addstr(out, value + len);
			return 0;
		}
	}
	strbuf_addstr(out, value);
	return 0;
}

/* ${VAR/pat/repl} and ${VAR//pat/repl}: at the leftmost position that matches, the longest
 * match; after an empty match the next character is kept and the search moves on. */
static int replace_pattern(const char *value, const char *pattern, const char *repl, bool all, struct strbuf *out,
			   struct skiff_err **err)
{
	struct strbuf pat cleanup_strbuf = STRBUF_INIT;
	if (shell_pattern(pattern, &pat, err) < 0)
		return -1;
	size_t n = strlen(value), i = 0;
	bool replaced = false;
	while (i <= n) {
		size_t len = n - i + 1;
		bool found = false;
		while (!(replaced && !all) && len-- > 0)
			if (match_n(pat.buf, value + i, len)) {
				found = true;
				break;
			}
		if (!found) {
			if (i < n)
				strbuf_addch(out, value[i]);
			i++;
			continue;
		}
		replaced = true;
		strbuf_addstr(out, repl);
		if (len > 0) {
			i += len;
			continue;
		}
		if (i < n)
			strbuf_addch(out, value[i]);
		i++;
	}
	return 0;
}

static int process_braces(struct lex *lx, struct strbuf *out, struct skiff_err **err)
{
	struct strbuf name cleanup_strbuf = STRBUF_INIT;
	struct strbuf word cleanup_strbuf = STRBUF_INIT;
	next(lx); /* '{' */
	switch (peek(lx)) {
	case -1:
		return err_makex(err, EINVAL, "syntax error: missing '}'");
	case '{':
	case '}':
	case ':':
		return err_makex(err, EINVAL, "syntax error: bad substitution");
	}
	process_name(lx, &name);
	int c = next(lx);
	char mod[3] = {(char)c, 0, 0};
	bool null_is_unset = false;
	const char *value;

	switch (c) {
	case '}':
		value = get_env(lx, name.buf);
		if (!value && lx->o->skip_unset)
			strbuf_addf(out, "${%s}", name.buf);
		else
			strbuf_addstr(out, value ? value : "");
		return 0;
	case ':':
		null_is_unset = true;
		c = next(lx);
		mod[1] = (char)(c < 0 ? 0 : c);
		/* fall through */
	case '+':
	case '-':
	case '?':
	case '#':
	case '%': {
		if (c < 0)
			return err_makex(err, EINVAL, "syntax error: missing '}'");
		if (process_stop_on(lx, '}', c == '#' || c == '%', &word, NULL, err) < 0)
			return -1;
		value = get_env(lx, name.buf);
		if (!value && lx->o->skip_unset) {
			strbuf_addf(out, "${%s%s%s}", name.buf, mod, word.buf);
			return 0;
		}
		bool empty = !value || (null_is_unset && !*value);
		switch (c) {
		case '-':
			strbuf_addstr(out, empty ? word.buf : value);
			return 0;
		case '+':
			if (!empty)
				strbuf_addstr(out, word.buf);
			return 0;
		case '?':
			if (!value)
				return err_makex(err, EINVAL, "%s: %s", name.buf,
						 word.len ? word.buf : "is not allowed to be unset");
			if (empty)
				return err_makex(err, EINVAL, "%s: %s", name.buf,
						 word.len ? word.buf : "is not allowed to be empty");
			strbuf_addstr(out, value);
			return 0;
		case '#':
		case '%': {
			bool greedy = word.buf[0] == c;
			return trim_pattern(value ? value : "", word.buf + (greedy ? 1 : 0), c == '%', greedy, out,
					    err);
		}
		}
		return err_makex(err, EINVAL, "unsupported modifier (%s) in substitution", mod);
	}
	case '/': {
		struct strbuf repl cleanup_strbuf = STRBUF_INIT;
		bool all = peek(lx) == '/';
		if (all)
			next(lx);
		if (process_stop_on(lx, '/', true, &word, NULL, err) < 0)
			return -1;
		if (process_stop_on(lx, '}', true, &repl, NULL, err) < 0)
			return -1;
		value = get_env(lx, name.buf);
		if (!value && lx->o->skip_unset) {
			strbuf_addf(out, "${%s/%s%s/%s}", name.buf, all ? "/" : "", word.buf, repl.buf);
			return 0;
		}
		return replace_pattern(value ? value : "", word.buf, repl.buf, all, out, err);
	}
	case -1:
		return err_makex(err, EINVAL, "syntax error: missing '}'");
	default:
		return err_makex(err, EINVAL, "unsupported modifier (%s) in substitution", mod);
	}
}

static int process_dollar(struct lex *lx, struct strbuf *out, struct skiff_err **err)
{
	next(lx); /* '$' */
	if (peek(lx) != '{') {
		struct strbuf name cleanup_strbuf = STRBUF_INIT;
		process_name(lx, &name);
		if (name.len == 0) {
			strbuf_addch(out, '$');
			return 0;
		}
		const char *value = get_env(lx, name.buf);
		if (!value && lx->o->skip_unset)
			strbuf_addf(out, "$%s", name.buf);
		else
			strbuf_addstr(out, value ? value : "");
		return 0;
	}
	if (lx->depth >= DF_MAX_NESTING)
		return err_makex(err, EINVAL, "substitutions nested more than %d deep", DF_MAX_NESTING);
	lx->depth++;
	int r = process_braces(lx, out, err);
	lx->depth--;
	return r;
}

static int process_stop_on(struct lex *lx, int stop, bool raw_escapes, struct strbuf *out, struct words *w,
			   struct skiff_err **err)
{
	while (peek(lx) >= 0) {
		int c = peek(lx);
		if (stop >= 0 && c == stop) {
			next(lx);
			return 0;
		}
		if (c == '\'' || c == '"' || c == '$') {
			struct strbuf tmp cleanup_strbuf = STRBUF_INIT;
			int r = c == '\''  ? process_single_quote(lx, &tmp, err)
				: c == '"' ? process_double_quote(lx, &tmp, err)
					   : process_dollar(lx, &tmp, err);
			if (r < 0)
				return -1;
			strbuf_add(out, tmp.buf, tmp.len);
			if (c == '$')
				words_string(w, tmp.buf, tmp.len);
			else
				words_raw_string(w, tmp.buf, tmp.len);
			continue;
		}
		c = next(lx);
		if (c == (unsigned char)lx->o->escape) {
			if (raw_escapes) {
				words_raw_char(w, (char)c);
				strbuf_addch(out, (char)c);
			}
			c = next(lx);
			if (c < 0)
				break;
			words_raw_char(w, (char)c);
		} else {
			words_char(w, (char)c);
		}
		strbuf_addch(out, (char)c);
	}
	if (stop >= 0)
		return err_makex(err, EINVAL, "syntax error: missing '%c'", stop);
	return 0;
}

/* The word for messages: at most 200 bytes of it. */
static void quote_word(struct strbuf *sb, const char *word)
{
	size_t n = strlen(word);
	strbuf_addch(sb, '"');
	strbuf_add(sb, word, n > 200 ? 200 : n);
	if (n > 200)
		strbuf_addstr(sb, "...");
	strbuf_addch(sb, '"');
}

int df_lex(const char *word, const struct df_lex_opts *o, const struct strv *vars, struct strv *ret_used, char **ret,
	   struct strv *ret_words, struct skiff_err **err)
{
	struct lex lx = {.s = word, .len = strlen(word), .o = o, .vars = vars, .used = ret_used};
	struct strbuf out cleanup_strbuf = STRBUF_INIT;
	struct strv words cleanup_strv = STRV_INIT;
	struct words w = {.out = &words, .cur = STRBUF_INIT};

	if (process_stop_on(&lx, -1, o->raw_escapes, &out, ret_words ? &w : NULL, err) < 0) {
		strbuf_release(&w.cur);
		struct strbuf q cleanup_strbuf = STRBUF_INIT;
		quote_word(&q, word);
		return err_wrap(err, "expand %s", q.buf);
	}
	if (ret_words) {
		words_finish(&w);
		strbuf_release(&w.cur);
		for (size_t i = 0; i < words.len; i++)
			strv_push(ret_words, words.v[i]);
	}
	if (ret)
		*ret = strbuf_detach(&out, NULL);
	return 0;
}

int df_expand(const char *word, char escape, const struct strv *vars, struct strv *ret_used, char **ret,
	      struct skiff_err **err)
{
	struct df_lex_opts o = {.escape = escape};
	return df_lex(word, &o, vars, ret_used, ret, NULL, err);
}

int df_expand_words(const char *text, char escape, const struct strv *vars, struct strv *ret_used,
		    struct strv *ret_words, struct skiff_err **err)
{
	struct df_lex_opts o = {.escape = escape};
	return df_lex(text, &o, vars, ret_used, NULL, ret_words, err);
}
