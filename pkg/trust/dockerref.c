/*
 * Docker references for policy matching: distribution/reference's grammar and
 * normalisation (see pkg/image/reference.h for the grammar), plus the policy scopes
 * of a reference as containers/image computes them.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkg/trust/internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#define NAME_MAX_LEN 255

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_word(char c)
{
	return is_alnum(c) || c == '_';
}

/* host [":" port]: dns labels [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])? joined by ".", or
 * "[" ipv6 "]". */
static bool valid_domain(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return false;
	if (s[0] == '[') {
		for (i = 1; i < n && (is_hex(s[i]) || s[i] == ':' || s[i] == '.'); i++)
			;
		if (i == 1 || i >= n || s[i] != ']')
			return false;
		i++;
	} else {
		for (;;) {
			size_t start = i;
			while (i < n && (is_alnum(s[i]) || s[i] == '-'))
				i++;
			if (i == start || s[start] == '-' || s[i - 1] == '-')
				return false;
			if (i < n && s[i] == '.') {
				i++;
				continue;
			}
			break;
		}
	}
	if (i == n)
		return true;
	if (s[i] != ':' || i + 1 == n)
		return false;
	for (i++; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )* */
static bool valid_component(const char *s, size_t n)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;
		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == start)
			return false;
		if (i == n)
			return true;
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
		else if (s[i] == '-')
			while (i < n && s[i] == '-')
				i++;
		else
			return false;
	}
}

static bool valid_path(const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (!valid_component(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

/* tag := [\w][\w.-]{0,127} */
static bool valid_tag(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128 || !is_word(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* digest := [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)* ":" [0-9a-fA-F]{32,} */
static bool valid_digest(const char *s)
{
	const char *colon = strchr(s, ':');
	size_t i = 0, n;

	if (!colon)
		return false;
	n = (size_t)(colon - s);
	for (;;) {
		if (i >= n || !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
		while (i < n && is_alnum(s[i]))
			i++;
		if (i == n)
			break;
		if (!strchr("-_+.", s[i]))
			return false;
		i++;
	}
	n = strlen(colon + 1);
	if (n < 32)
		return false;
	for (size_t j = 0; j < n; j++)
		if (!is_hex(colon[1 + j]))
			return false;
	return true;
}

static bool is_64hex(const char *s)
{
	size_t n = strlen(s);
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

void dref_release(struct dref *r)
{
	free(r->name);
	free(r->tag);
	free(r->digest);
	r->name = r->tag = r->digest = NULL;
}

char *dref_string(const struct dref *r)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, r->name);
	if (r->tag)
		strbuf_addf(&sb, ":%s", r->tag);
	if (r->digest)
		strbuf_addf(&sb, "@%s", r->digest);
	return strbuf_detach(&sb, NULL);
}

static int bad(struct skiff_err **err, const char *s, const char *why)
{
	return err_makex(err, EINVAL, "invalid reference format: \"%s\": %s", s, why);
}

int dref_parse(const char *s, bool canonical, struct dref *ret, struct skiff_err **err)
{
	cleanup_free char *rest = NULL;
	cleanup_free char *domain = NULL;
	struct dref r = {0};
	const char *slash, *at, *colon, *lastslash;
	char *digest = NULL, *tag = NULL;

	if (!*s)
		return bad(err, s, "empty");
	if (strlen(s) > 4096)
		return err_makex(err, EINVAL, "invalid reference format: %zu bytes long", strlen(s));
	if (is_64hex(s))
		return err_makex(err, EINVAL,
				 "invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s);

	/* Split the domain as docker does: the first element is one when it has "." or
	 * ":", is "localhost", or has an uppercase letter. */
	slash = strchr(s, '/');
	if (slash) {
		size_t n = (size_t)(slash - s);
		bool upper = false;
		for (size_t i = 0; i < n; i++)
			upper |= s[i] >= 'A' && s[i] <= 'Z';
		if (memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && !strncmp(s, "localhost", 9)) || upper) {
			domain = xstrndup(s, n);
			rest = xstrdup(slash + 1);
		}
	}
	if (!domain) {
		domain = xstrdup("docker.io");
		rest = xstrdup(s);
	}
	if (!strcmp(domain, "index.docker.io")) {
		free(domain);
		domain = xstrdup("docker.io");
	}
	if (!strcmp(domain, "docker.io") && !strchr(rest, '/')) {
		char *t = xasprintf("library/%s", rest);
		free(rest);
		rest = t;
	}

	at = strchr(rest, '@');
	if (at) {
		digest = (char *)at + 1;
		*(char *)at = '\0';
		if (!valid_digest(digest))
			return bad(err, s, "invalid digest");
	}
	lastslash = strrchr(rest, '/');
	colon = strrchr(lastslash ? lastslash : rest, ':');
	if (colon) {
		tag = (char *)colon + 1;
		*(char *)colon = '\0';
		if (!valid_tag(tag))
			return bad(err, s, "invalid tag");
	}
	for (const char *p = rest; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			return bad(err, s, "repository name must be lowercase");
	if (!valid_domain(domain, strlen(domain)))
		return bad(err, s, "invalid domain");
	if (!valid_path(rest, strlen(rest)))
		return bad(err, s, "invalid repository path");
	if (strlen(domain) + 1 + strlen(rest) > NAME_MAX_LEN)
		return bad(err, s, "repository name must not be more than 255 characters");

	r.name = xasprintf("%s/%s", domain, rest);
	r.domain_len = strlen(domain);
	r.tag = tag ? xstrdup(tag) : NULL;
	r.digest = digest ? xstrdup(digest) : NULL;
	if (canonical) {
		cleanup_free char *str = dref_string(&r);
		if (strcmp(str, s) != 0) {
			dref_release(&r);
			return bad(err, s, "repository name must be canonical");
		}
	}
	*ret = r;
	return 0;
}

int dref_policy_identity(const struct dref *r, char **ret, struct skiff_err **err)
{
	if (r->tag && r->digest)
		return err_makex(err, EINVAL, "Unexpected Docker reference %s:%s@%s with both a name and a digest",
				 r->name, r->tag, r->digest);
	if (!r->tag && !r->digest)
		return err_makex(err, EINVAL, "Docker reference %s with neither a tag nor a digest", r->name);
	*ret = r->tag ? xasprintf("%s:%s", r->name, r->tag) : xasprintf("%s@%s", r->name, r->digest);
	return 0;
}

void dref_policy_namespaces(const struct dref *r, struct strv *out)
{
	cleanup_free char *name = xstrdup(r->name);
	char *colon, *dot;

	for (;;) {
		strv_push(out, name);
		char *slash = strrchr(name, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	/* name is now the host[:port]; wildcards are of the host without the port. */
	colon = strchr(name, ':');
	if (colon)
		*colon = '\0';
	for (char *p = name; (dot = strchr(p, '.')); p = dot + 1)
		strv_pushf(out, "*.%s", dot + 1);
}

bool dref_valid_remap_prefix(const char *s)
{
	const char *slash = strchr(s, '/');

	if (!slash)
		return valid_domain(s, strlen(s));
	return valid_domain(s, (size_t)(slash - s)) && valid_path(slash + 1, strlen(slash + 1));
}

int trust_home(char **ret, struct skiff_err **err)
{
	const char *h = getenv("HOME");
	long max = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t size = max > 0 ? (size_t)max : 16384;
	struct passwd pw, *res = NULL;

	if (h && h[0] == '/') {
		*ret = xstrdup(h);
		return 0;
	}
	cleanup_free char *buf = xmalloc(size);
	int r = getpwuid_r(geteuid(), &pw, buf, size, &res);
	if (r != 0)
		return err_make(err, r, "find the home directory (HOME is not set)");
	if (!res || pw.pw_dir[0] != '/')
		return err_makex(err, ENOENT, "find the home directory: HOME is not set and uid %u has none",
				 (unsigned)geteuid());
	*ret = xstrdup(pw.pw_dir);
	return 0;
}
