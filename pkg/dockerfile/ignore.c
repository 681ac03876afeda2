/*
 * .dockerignore with docker's rules (moby/patternmatcher and its ignorefile reader): each
 * pattern is cleaned like Go's filepath.Clean, "*" and "?" do not cross "/", "**" crosses
 * directories, "\" escapes, "[...]" is a class; the last pattern that matches a path or
 * one of its parent directories decides, "!" patterns re-include.
 *
 * Patterns are compiled to a token list and matched by simulating the automaton over the
 * path (time linear in the path for a given pattern, whatever the pattern holds).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/dockerfile/dockerfile.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

enum tok_kind {
	T_LIT,	      /* one byte */
	T_ANY,	      /* "?": one byte but "/" */
	T_CLASS,      /* "[...]" */
	T_STAR,	      /* "*": bytes but "/" */
	T_DSTAR_DIRS, /* "**" or "**" "/" before more pattern: any run ending in a slash, or nothing */
	T_DSTAR_ANY,  /* "**" at the end (or leading, before a literal rest): anything */
};

struct tok {
	enum tok_kind kind;
	unsigned char c;
	unsigned char set[32]; /* T_CLASS: bit per byte, negation folded in */
};

struct pattern {
	char *text; /* cleaned, without "!" */
	bool exclusion;
	struct tok *t;
	size_t n;
};

struct df_ignore {
	struct pattern *p;
	size_t n;
	bool exclusions;
};

void df_ignore_free(struct df_ignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->n; i++) {
		free(ig->p[i].text);
		free(ig->p[i].t);
	}
	free(ig->p);
	free(ig);
}

DEFINE_CLEANUP_FUNC(struct df_ignore, df_ignore_free)

/* Go's filepath.Clean on a '/'-separated path. */
static char *clean_path(const char *path)
{
	struct strbuf out = STRBUF_INIT;
	bool rooted = path[0] == '/';
	size_t dotdot = 0; /* how much of out is leading ".." that cannot be popped */
	const char *s = path;
	if (!*path)
		return xstrdup(".");
	if (rooted) {
		strbuf_addch(&out, '/');
		dotdot = 1;
	}
	while (*s) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 0 || (n == 1 && s[0] == '.')) {
			/* skip */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (out.len > dotdot) {
				size_t w = out.len;
				while (w > dotdot && out.buf[w - 1] != '/')
					w--;
				if (w > dotdot)
					w--; /* the '/' before the popped component */
				strbuf_setlen(&out, w);
			} else if (!rooted) {
				if (out.len > 0)
					strbuf_addch(&out, '/');
				strbuf_addstr(&out, "..");
				dotdot = out.len;
			}
		} else {
			if (out.len > 0 && !(rooted && out.len == 1))
				strbuf_addch(&out, '/');
			strbuf_add(&out, s, n);
		}
		s += n;
		if (*s == '/')
			s++;
	}
	if (out.len == 0)
		strbuf_addch(&out, '.');
	return strbuf_detach(&out, NULL);
}

static void set_bit(unsigned char *set, unsigned char c)
{
	set[c / 8] |= (unsigned char)(1u << (c % 8));
}

static bool has_bit(const unsigned char *set, unsigned char c)
{
	return set[c / 8] & (1u << (c % 8));
}

/* "[...]" at *pp (after the '['): filepath.Match's class syntax. */
static int compile_class(const char *pat, const char **pp, struct tok *t, struct skiff_err **err)
{
	const char *p = *pp;
	bool neg = false;
	bool any = false;
	if (*p == '^') {
		neg = true;
		p++;
	}
	for (;;) {
		if (!*p)
			return err_makex(err, EINVAL, "syntax error in pattern \"%s\": unterminated [", pat);
		if (*p == ']' && any)
			break;
		unsigned char lo = (unsigned char)*p++;
		if (lo == '\\') {
			if (!*p)
				return err_makex(err, EINVAL, "syntax error in pattern \"%s\": trailing \\", pat);
			lo = (unsigned char)*p++;
		} else if (lo == ']' || lo == '-') {
			return err_makex(err, EINVAL, "syntax error in pattern \"%s\": bad character class", pat);
		}
		unsigned char hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			hi = (unsigned char)*p++;
			if (hi == '\\') {
				if (!*p)
					return err_makex(err, EINVAL, "syntax error in pattern \"%s\": trailing \\",
							 pat);
				hi = (unsigned char)*p++;
			}
			if (hi < lo)
				return err_makex(err, EINVAL, "syntax error in pattern \"%s\": bad range", pat);
		}
		for (unsigned c = lo; c <= hi; c++)
			set_bit(t->set, (unsigned char)c);
		any = true;
	}
	if (neg)
		for (size_t i = 0; i < sizeof(t->set); i++)
			t->set[i] = (unsigned char)~t->set[i];
	*pp = p + 1;
	return 0;
}

static bool has_wildcards(const char *s)
{
	return strpbrk(s, "*?[]\\") != NULL;
}

static int compile(struct pattern *pt, struct skiff_err **err)
{
	const char *pat = pt->text, *p = pat;
	size_t alloc = 0;
	while (*p) {
		ALLOC_GROW(pt->t, pt->n + 1, alloc);
		struct tok *t = &pt->t[pt->n++];
		memset(t, 0, sizeof(*t));
		if (p[0] == '*' && p[1] == '*') {
			bool at_start = p == pat;
			p += 2;
			if (*p == '/')
				p++;
			if (!*p)
				t->kind = T_DSTAR_ANY;
			else if (at_start && p[-1] != '/' && !has_wildcards(p))
				t->kind = T_DSTAR_ANY; /* patternmatcher's suffix match */
			else
				t->kind = T_DSTAR_DIRS;
		} else if (*p == '*') {
			t->kind = T_STAR;
			p++;
		} else if (*p == '?') {
			t->kind = T_ANY;
			p++;
		} else if (*p == '[') {
			t->kind = T_CLASS;
			p++;
			if (compile_class(pat, &p, t, err) < 0)
				return -1;
		} else if (*p == '\\') {
			t->kind = T_LIT;
			if (!p[1])
				return err_makex(err, EINVAL, "syntax error in pattern \"%s\": trailing \\", pat);
			t->c = (unsigned char)p[1];
			p += 2;
		} else {
			t->kind = T_LIT;
			t->c = (unsigned char)*p++;
		}
	}
	return 0;
}

static void closure(const struct pattern *pt, bool *st)
{
	for (size_t i = 0; i < pt->n; i++)
		if (st[i] && (pt->t[i].kind == T_STAR || pt->t[i].kind == T_DSTAR_DIRS || pt->t[i].kind == T_DSTAR_ANY))
			st[i + 1] = true;
}

static bool pattern_match(const struct pattern *pt, const char *path, size_t len)
{
	size_t n = pt->n;
	bool small[2][2][33];
	bool *buf = NULL;
	bool *cur, *curT, *nx, *nxT;
	if (n + 1 <= 33) {
		memset(small, 0, sizeof(small));
		cur = small[0][0], curT = small[0][1], nx = small[1][0], nxT = small[1][1];
	} else {
		buf = xcalloc(4 * (n + 1), sizeof(bool));
		cur = buf, curT = buf + (n + 1), nx = buf + 2 * (n + 1), nxT = buf + 3 * (n + 1);
	}
	cur[0] = true;
	closure(pt, cur);
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)path[k];
		bool alive = false;
		memset(nx, 0, n + 1);
		memset(nxT, 0, n + 1);
		for (size_t i = 0; i < n; i++) {
			const struct tok *t = &pt->t[i];
			if (curT[i]) {
				nxT[i] = true;
				if (c == '/')
					nx[i + 1] = true;
			}
			if (!cur[i])
				continue;
			switch (t->kind) {
			case T_LIT:
				if (c == t->c)
					nx[i + 1] = true;
				break;
			case T_ANY:
				if (c != '/')
					nx[i + 1] = true;
				break;
			case T_CLASS:
				if (has_bit(t->set, c))
					nx[i + 1] = true;
				break;
			case T_STAR:
				if (c != '/')
					nx[i] = true;
				break;
			case T_DSTAR_ANY:
				nx[i] = true;
				break;
			case T_DSTAR_DIRS:
				nxT[i] = true;
				if (c == '/')
					nx[i + 1] = true;
				break;
			}
		}
		closure(pt, nx);
		for (size_t i = 0; i <= n; i++)
			alive |= nx[i] || nxT[i];
		bool *tmp = cur;
		cur = nx, nx = tmp;
		tmp = curT, curT = nxT, nxT = tmp;
		if (!alive)
			break;
	}
	bool ok = cur[n];
	free(buf);
	return ok;
}

int df_ignore_parse(const char *buf, size_t len, struct df_ignore **ret, struct skiff_err **err)
{
	__attribute__((cleanup(df_ignore_freep))) struct df_ignore *ig = xzalloc(sizeof(*ig));
	size_t alloc = 0, i = 0, lineno = 0;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - buf) : len;
		lineno++;
		if (memchr(buf + i, '\0', e - i))
			return err_makex(err, EINVAL, ".dockerignore:%zu: NUL byte in the file", lineno);
		cleanup_free char *line = xstrndup(buf + i, e - i);
		i = e + 1;
		if (line[0] == '#')
			continue;
		char *s = line;
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\v' || *s == '\f')
			s++;
		size_t n = strlen(s);
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\v' ||
				 s[n - 1] == '\f'))
			s[--n] = 0;
		if (!*s)
			continue;
		bool invert = s[0] == '!';
		if (invert) {
			s++;
			while (*s == ' ' || *s == '\t')
				s++;
		}
		cleanup_free char *pat = NULL;
		if (*s) {
			cleanup_free char *c = clean_path(s);
			const char *v = (strlen(c) > 1 && c[0] == '/') ? c + 1 : c;
			pat = xstrdup(v);
		} else {
			pat = xstrdup("");
		}
		if (invert && !*pat)
			return err_makex(err, EINVAL, ".dockerignore:%zu: illegal exclusion pattern: \"!\"", lineno);
		/* patternmatcher cleans again; the "!" stays outside */
		cleanup_free char *again = clean_path(pat);
		ALLOC_GROW(ig->p, ig->n + 1, alloc);
		struct pattern *pt = &ig->p[ig->n++];
		memset(pt, 0, sizeof(*pt));
		pt->text = TAKE_PTR(again);
		pt->exclusion = invert;
		ig->exclusions |= invert;
		if (compile(pt, err) < 0)
			return err_wrap(err, ".dockerignore:%zu", lineno);
	}
	*ret = TAKE_PTR(ig);
	return 0;
}

bool df_ignore_excluded(const struct df_ignore *ig, const char *relpath)
{
	bool matched = false;
	size_t len = strlen(relpath);
	const char *slash = strrchr(relpath, '/');
	for (size_t i = 0; i < ig->n; i++) {
		const struct pattern *pt = &ig->p[i];
		if (pt->exclusion != matched)
			continue;
		bool m = pattern_match(pt, relpath, len);
		/* a parent directory that matches counts too */
		for (const char *p = relpath; !m && slash && p && p <= slash; p = strchr(p + 1, '/')) {
			if (*p == '/' && p > relpath)
				m = pattern_match(pt, relpath, (size_t)(p - relpath));
			if (p == slash)
				break;
		}
		if (m)
			matched = !pt->exclusion;
	}
	return matched;
}

bool df_ignore_may_reinclude(const struct df_ignore *ig, const char *reldir)
{
	if (!ig->exclusions)
		return false;
	size_t dl = strlen(reldir);
	for (size_t i = 0; i < ig->n; i++) {
		const struct pattern *pt = &ig->p[i];
		if (!pt->exclusion)
			continue;
		/* the literal start of the pattern, up to its first wildcard */
		size_t lit = strcspn(pt->text, "*?[\\");
		/* compare "reldir/" with that prefix as far as both go */
		size_t k = 0;
		bool ok = true;
		for (; ok && k < lit && k <= dl; k++) {
			char dc = k < dl ? reldir[k] : '/';
			ok = pt->text[k] == dc;
		}
		if (ok)
			return true;
	}
	return false;
}
