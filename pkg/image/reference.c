/*
 * Image references: a hand-written parser for the distribution/reference grammar
 * (see reference.h) that names the reason for every refusal, plus docker's
 * normalisation, formatting and podman-style local name matching.
 */
#include "pkg/image/reference.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#define QUOTE_MAX 128 /* bytes of hostile input echoed in an error message */
#define LEGACY_DOMAIN "index.docker.io"
#define LIBRARY_PREFIX "library/"
#define LIBRARY_PREFIX_LEN (sizeof(LIBRARY_PREFIX) - 1)

/* A piece of the input: p == NULL means absent. */
struct span {
	const char *p;
	size_t n;
};

/* The input split by the grammar, validated, not yet normalised. */
struct raw_ref {
	struct span domain;
	struct span path;
	struct span tag;
	struct span digest;
};

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_lower(c) || is_upper(c) || is_digit(c);
}

static bool is_lower_alnum(char c)
{
	return is_lower(c) || is_digit(c);
}

static bool is_word(char c) /* \w */
{
	return is_alnum(c) || c == '_';
}

static bool is_lower_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool is_hex(char c)
{
	return is_lower_hex(c) || (c >= 'A' && c <= 'F');
}

static bool span_eq(struct span s, const char *str)
{
	return s.p && strlen(str) == s.n && memcmp(s.p, str, s.n) == 0;
}

static bool span_has(struct span s, char c)
{
	return s.p && memchr(s.p, c, s.n) != NULL;
}

static bool all_lower_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_lower_hex(p[i]))
			return false;
	return true;
}

/* Append p[0..n) as a double-quoted string: quotes and backslashes escaped, bytes
 * outside printable ASCII as \xNN (so no terminal control sequence gets through),
 * and at most QUOTE_MAX bytes of it. */
static void add_quoted(struct strbuf *sb, const char *p, size_t n)
{
	size_t shown = n > QUOTE_MAX ? QUOTE_MAX : n;

	strbuf_addch(sb, '"');
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '"' || c == '\\') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, (char)c);
		} else if (c < 0x20 || c >= 0x7f) {
			strbuf_addf(sb, "\\x%02x", c);
		} else {
			strbuf_addch(sb, (char)c);
		}
	}
	strbuf_addch(sb, '"');
	if (shown < n)
		strbuf_addf(sb, "... (%zu bytes)", n);
}

static char *quote(struct span s)
{
	struct strbuf sb = STRBUF_INIT;
	add_quoted(&sb, s.p, s.n);
	return strbuf_detach(&sb, NULL);
}

/* EINVAL: `invalid reference format: "<input>": <reason>`; returns -1. */
static int fail(struct skiff_err **err, const char *s, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct skiff_err **err, const char *s, size_t len, const char *fmt, ...)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (!err)
		return -1;
	strbuf_addstr(&sb, "invalid reference format: ");
	add_quoted(&sb, s, len);
	strbuf_addstr(&sb, ": ");
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return err_makex(err, EINVAL, "%s", sb.buf);
}

static int check_tag(const char *s, size_t len, struct span tag, struct skiff_err **err)
{
	if (tag.n == 0)
		return fail(err, s, len, "empty tag");
	bool ok = is_word(tag.p[0]);
	for (size_t i = 1; ok && i < tag.n; i++)
		ok = is_word(tag.p[i]) || tag.p[i] == '.' || tag.p[i] == '-';
	if (!ok) {
		cleanup_free char *q = quote(tag);
		return fail(err, s, len,
			    "invalid tag %s: a tag is letters, digits, '_', '.' and '-', "
			    "not starting with '.' or '-'",
			    q);
	}
	if (tag.n > REF_TAG_MAX)
		return fail(err, s, len, "tag too long (%zu characters, at most %d)", tag.n, REF_TAG_MAX);
	return 0;
}

static int check_digest(const char *s, size_t len, struct span d, struct skiff_err **err)
{
	cleanup_free char *q = quote(d);
	const char *colon = memchr(d.p, ':', d.n);
	size_t alg_n, i = 0;

	if (d.n == 0)
		return fail(err, s, len, "empty digest");
	if (!colon)
		return fail(err, s, len, "invalid digest %s: expected ALGORITHM:HEX", q);
	/* algorithm := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )* */
	alg_n = (size_t)(colon - d.p);
	for (;;) {
		if (i >= alg_n || !(is_upper(d.p[i]) || is_lower(d.p[i])))
			return fail(err, s, len, "invalid digest algorithm in %s", q);
		while (i < alg_n && is_alnum(d.p[i]))
			i++;
		if (i == alg_n)
			break;
		if (!strchr("-_+.", d.p[i]))
			return fail(err, s, len, "invalid digest algorithm in %s", q);
		i++;
	}
	if (alg_n != 6 || memcmp(d.p, "sha256", 6) != 0) {
		cleanup_free char *alg = quote((struct span){d.p, alg_n});
		return fail(err, s, len, "unsupported digest algorithm %s (only sha256 is supported)", alg);
	}
	const char *hex = colon + 1;
	size_t hex_n = d.n - alg_n - 1;
	if (hex_n != 64 || !all_lower_hex(hex, hex_n)) {
		bool hexish = true;
		for (i = 0; i < hex_n; i++)
			hexish = hexish && is_hex(hex[i]);
		if (hexish && hex_n == 64)
			return fail(err, s, len, "invalid sha256 digest %s: hex must be lowercase", q);
		return fail(err, s, len, "invalid sha256 digest %s: need 64 hex characters", q);
	}
	return 0;
}

/* domain := ( dns-name | "[" ipv6 "]" ) [ ":" port ] */
static int check_domain(const char *s, size_t len, struct span d, struct skiff_err **err)
{
	cleanup_free char *q = quote(d);
	size_t i = 0;

	if (d.n > 0 && d.p[0] == '[') {
		i = 1;
		while (i < d.n && (is_hex(d.p[i]) || d.p[i] == ':'))
			i++;
		if (i == 1 || i >= d.n || d.p[i] != ']')
			return fail(err, s, len, "invalid IPv6 address in domain %s", q);
		i++;
	} else {
		for (;;) {
			size_t start = i;
			while (i < d.n && (is_alnum(d.p[i]) || d.p[i] == '-'))
				i++;
			if (i == start || d.p[start] == '-' || d.p[i - 1] == '-')
				return fail(err, s, len, "invalid domain %s", q);
			if (i < d.n && d.p[i] == '.') {
				i++;
				continue;
			}
			break;
		}
	}
	if (i == d.n)
		return 0;
	if (d.p[i] != ':')
		return fail(err, s, len, "invalid domain %s", q);
	size_t start = ++i;
	unsigned long port = 0;
	while (i < d.n && is_digit(d.p[i]) && i - start < 6)
		port = port * 10 + (unsigned long)(d.p[i++] - '0');
	if (i == start || i != d.n || port > 65535)
		return fail(err, s, len, "invalid port in domain %s", q);
	return 0;
}

/* component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )* */
static int check_component(const char *s, size_t len, struct span c, struct skiff_err **err)
{
	size_t i = 0;

	if (!is_lower_alnum(c.p[0])) {
		cleanup_free char *q = quote(c);
		return fail(err, s, len, "path component %s must start with a lowercase letter or digit", q);
	}
	for (;;) {
		while (i < c.n && is_lower_alnum(c.p[i]))
			i++;
		if (i == c.n)
			return 0;
		char sep = c.p[i];
		if (sep == '.') {
			i++;
		} else if (sep == '_') {
			i++;
			if (i < c.n && c.p[i] == '_')
				i++;
		} else if (sep == '-') {
			while (i < c.n && c.p[i] == '-')
				i++;
		} else {
			return fail(err, s, len, "invalid character '%c' in repository name", sep);
		}
		if (i == c.n) {
			cleanup_free char *q = quote(c);
			return fail(err, s, len, "path component %s must end with a lowercase letter or digit", q);
		}
		if (!is_lower_alnum(c.p[i])) {
			cleanup_free char *q = quote(c);
			if (strchr("._-", c.p[i]))
				return fail(err, s, len, "invalid separator in path component %s", q);
			return fail(err, s, len, "invalid character '%c' in repository name", c.p[i]);
		}
	}
}

static int check_path(const char *s, size_t len, struct span path, struct skiff_err **err)
{
	for (size_t i = 0; i < path.n; i++)
		if (is_upper(path.p[i]))
			return fail(err, s, len, "repository name must be lowercase");
	size_t start = 0;
	for (;;) {
		const char *slash = memchr(path.p + start, '/', path.n - start);
		size_t end = slash ? (size_t)(slash - path.p) : path.n;
		if (end == start) {
			cleanup_free char *q = quote(path);
			return fail(err, s, len, "repository name %s has an empty component", q);
		}
		if (check_component(s, len, (struct span){path.p + start, end - start}, err) < 0)
			return -1;
		if (!slash)
			return 0;
		start = end + 1;
	}
}

/* Split and validate s by the grammar; no normalisation. */
static int parse_raw(const char *s, size_t len, struct raw_ref *ret, struct skiff_err **err)
{
	struct raw_ref r = {{NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
	struct span name = {s, len};

	if (len == 0)
		return fail(err, s, len, "empty reference");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0)
			return fail(err, s, len, "contains a NUL byte at offset %zu", i);
		if (c == ' ')
			return fail(err, s, len, "contains a space at offset %zu", i);
		if (c < 0x20 || c >= 0x7f)
			return fail(err, s, len, "invalid byte 0x%02x at offset %zu", c, i);
	}
	if (len == 64 && all_lower_hex(s, len))
		return fail(err, s, len, "cannot specify 64-byte hexadecimal strings (an image ID, not a name)");

	/* name [":" tag] ["@" digest]: the digest follows the first '@' ... */
	const char *at = memchr(s, '@', len);
	if (at) {
		r.digest = (struct span){at + 1, len - (size_t)(at - s) - 1};
		name.n = (size_t)(at - s);
		if (check_digest(s, len, r.digest, err) < 0)
			return -1;
	}
	/* ... and the tag the first ':' after the last '/' (a domain may have ':'). */
	const char *last = memrchr(name.p, '/', name.n);
	const char *seg = last ? last + 1 : name.p;
	const char *colon = memchr(seg, ':', name.n - (size_t)(seg - name.p));
	if (colon) {
		r.tag = (struct span){colon + 1, name.n - (size_t)(colon - name.p) - 1};
		name.n = (size_t)(colon - name.p);
	}
	if (name.n == 0)
		return fail(err, s, len, "empty repository name");
	if (r.tag.p && check_tag(s, len, r.tag, err) < 0)
		return -1;

	/* The first element is a domain when it is "localhost", contains '.' or ':',
	 * or has an uppercase letter (namespaces never do). */
	r.path = name;
	const char *slash = memchr(name.p, '/', name.n);
	if (slash) {
		struct span first = {name.p, (size_t)(slash - name.p)};
		bool upper = false;
		for (size_t i = 0; i < first.n; i++)
			upper = upper || is_upper(first.p[i]);
		if (span_eq(first, "localhost") || span_has(first, '.') || span_has(first, ':') || upper) {
			r.domain = first;
			r.path = (struct span){slash + 1, name.n - first.n - 1};
			if (check_domain(s, len, r.domain, err) < 0)
				return -1;
		}
	}
	if (check_path(s, len, r.path, err) < 0)
		return -1;
	*ret = r;
	return 0;
}

enum { NORM_DEFAULT_TAG = 1 };

static int normalise(const char *s, size_t len, const struct raw_ref *raw, int flags, struct image_ref **ret,
		     struct skiff_err **err)
{
	struct image_ref *r;
	const char *domain = REF_DEFAULT_DOMAIN;
	size_t domain_n = strlen(REF_DEFAULT_DOMAIN);
	bool library;

	if (raw->domain.p && !span_eq(raw->domain, LEGACY_DOMAIN)) {
		domain = raw->domain.p;
		domain_n = raw->domain.n;
	}
	library = domain_n == strlen(REF_DEFAULT_DOMAIN) && memcmp(domain, REF_DEFAULT_DOMAIN, domain_n) == 0 &&
		  !span_has(raw->path, '/');
	size_t name_n = domain_n + 1 + (library ? LIBRARY_PREFIX_LEN : 0) + raw->path.n;
	if (name_n > REF_NAME_MAX)
		return fail(err, s, len, "repository name must not be more than %d characters (it is %zu)",
			    REF_NAME_MAX, name_n);

	r = xzalloc(sizeof(*r));
	r->domain = xstrndup(domain, domain_n);
	r->domain_implicit = raw->domain.p == NULL;
	if (library)
		r->path = xasprintf(LIBRARY_PREFIX "%.*s", (int)raw->path.n, raw->path.p);
	else
		r->path = xstrndup(raw->path.p, raw->path.n);
	if (raw->tag.p)
		r->tag = xstrndup(raw->tag.p, raw->tag.n);
	if (raw->digest.p)
		r->digest = xstrndup(raw->digest.p, raw->digest.n);
	if (!r->tag && !r->digest && (flags & NORM_DEFAULT_TAG)) {
		r->tag = xstrdup(REF_DEFAULT_TAG);
		r->tag_implicit = true;
	}
	*ret = r;
	return 0;
}

int ref_parse_n(const char *s, size_t len, struct image_ref **ret, struct skiff_err **err)
{
	struct raw_ref raw;

	if (!s)
		return err_makex(err, EINVAL, "invalid reference format: no reference given");
	if (parse_raw(s, len, &raw, err) < 0)
		return -1;
	return normalise(s, len, &raw, NORM_DEFAULT_TAG, ret, err);
}

int ref_parse(const char *s, struct image_ref **ret, struct skiff_err **err)
{
	return ref_parse_n(s, s ? strlen(s) : 0, ret, err);
}

int ref_parse_name_only(const char *s, struct image_ref **ret, struct skiff_err **err)
{
	struct raw_ref raw;
	size_t len;

	if (!s)
		return err_makex(err, EINVAL, "invalid reference format: no repository name given");
	len = strlen(s);
	if (parse_raw(s, len, &raw, err) < 0)
		return -1;
	if (raw.digest.p)
		return fail(err, s, len, "a digest is not allowed in a repository name");
	if (raw.tag.p)
		return fail(err, s, len, "a tag is not allowed in a repository name");
	return normalise(s, len, &raw, 0, ret, err);
}

void ref_free(struct image_ref *r)
{
	if (!r)
		return;
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	free(r);
}

struct image_ref *ref_dup(const struct image_ref *r)
{
	struct image_ref *d = xzalloc(sizeof(*d));

	d->domain = xstrdup(r->domain);
	d->path = xstrdup(r->path);
	d->tag = r->tag ? xstrdup(r->tag) : NULL;
	d->digest = r->digest ? xstrdup(r->digest) : NULL;
	d->tag_implicit = r->tag_implicit;
	d->domain_implicit = r->domain_implicit;
	return d;
}

char *ref_name(const struct image_ref *r)
{
	return xasprintf("%s/%s", r->domain, r->path);
}

static char *with_suffix(char *name, const struct image_ref *r)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, name);
	free(name);
	if (r->tag)
		strbuf_addf(&sb, ":%s", r->tag);
	if (r->digest)
		strbuf_addf(&sb, "@%s", r->digest);
	return strbuf_detach(&sb, NULL);
}

char *ref_string(const struct image_ref *r)
{
	return with_suffix(ref_name(r), r);
}

char *ref_familiar_name(const struct image_ref *r)
{
	if (strcmp(r->domain, REF_DEFAULT_DOMAIN) != 0)
		return ref_name(r);
	/* "library/x" -> "x", but "library/a/b" stays (not an official image) */
	if (strncmp(r->path, LIBRARY_PREFIX, LIBRARY_PREFIX_LEN) == 0 && !strchr(r->path + LIBRARY_PREFIX_LEN, '/'))
		return xstrdup(r->path + LIBRARY_PREFIX_LEN);
	return xstrdup(r->path);
}

char *ref_familiar(const struct image_ref *r)
{
	return with_suffix(ref_familiar_name(r), r);
}

bool ref_looks_like_id(const char *s)
{
	size_t n;

	if (!s)
		return false;
	if (strncmp(s, "sha256:", 7) == 0)
		s += 7;
	n = strlen(s);
	return n >= 1 && n <= 64 && all_lower_hex(s, n);
}

/* path is p, or ends with "/" + p. */
static bool path_has_suffix(const char *path, struct span p)
{
	size_t n = strlen(path);

	if (n == p.n)
		return memcmp(path, p.p, n) == 0;
	return n > p.n && path[n - p.n - 1] == '/' && memcmp(path + n - p.n, p.p, p.n) == 0;
}

enum ref_match_rank ref_match(const char *stored, const char *input, unsigned flags)
{
	cleanup_ref struct image_ref *st = NULL;
	cleanup_ref struct image_ref *in = NULL;
	struct raw_ref raw;
	size_t len;

	if (!stored || !input)
		return REF_MATCH_NONE;
	if (ref_parse(stored, &st, NULL) < 0)
		return REF_MATCH_NONE;
	len = strlen(input);
	if (parse_raw(input, len, &raw, NULL) < 0 || normalise(input, len, &raw, NORM_DEFAULT_TAG, &in, NULL) < 0)
		return REF_MATCH_NONE;

	if (in->digest) {
		if (!st->digest || strcmp(st->digest, in->digest) != 0)
			return REF_MATCH_NONE;
	} else if (!in->tag_implicit) {
		if (!st->tag || strcmp(st->tag, in->tag) != 0)
			return REF_MATCH_NONE;
	} else if (!(flags & REF_MATCH_ANY_TAG)) {
		if (!st->tag || strcmp(st->tag, REF_DEFAULT_TAG) != 0)
			return REF_MATCH_NONE;
	}

	bool same_name = strcmp(st->domain, in->domain) == 0 && strcmp(st->path, in->path) == 0;
	if (!in->domain_implicit)
		return same_name ? REF_MATCH_EXACT : REF_MATCH_NONE;
	if (same_name)
		return REF_MATCH_SHORT;
	if (strcmp(st->domain, "localhost") == 0 && strlen(st->path) == raw.path.n &&
	    memcmp(st->path, raw.path.p, raw.path.n) == 0)
		return REF_MATCH_SHORT;
	if (path_has_suffix(st->path, raw.path))
		return REF_MATCH_SUFFIX;
	return REF_MATCH_NONE;
}

bool ref_match_name(const char *stored, const char *input)
{
	return ref_match(stored, input, 0) != REF_MATCH_NONE;
}

bool ref_match_repo(const char *stored, const char *pattern)
{
	return ref_match(stored, pattern, REF_MATCH_ANY_TAG) != REF_MATCH_NONE;
}
