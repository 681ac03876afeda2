/* registries.conf, its drop-ins and the short-name alias cache: see registries.h. */
#include "pkg/config/registries.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/lock.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/toml.h"
#include "vendor-free/xalloc.h"

#define AUTH_FILE_HELPER "containers-auth.json"
#define NAME_MAX_LEN 255 /* the longest repository name a reference may have */

enum pull_from {
	PULL_ALL,
	PULL_DIGEST_ONLY,
	PULL_TAG_ONLY,
};

struct reg_mirror {
	char *location;
	bool insecure;
	enum pull_from pull;
};

struct reg_entry {
	char *prefix;	/* never empty */
	char *location; /* "" only with a "*." prefix: no rewrite */
	bool insecure, blocked, by_digest_only;
	struct reg_mirror *mirrors;
	size_t n_mirrors, alloc_mirrors;
	const char *origin; /* the file (a string of regconf.files) */
	size_t line;
	size_t seq; /* position in its file: the first of equal prefixes wins */
};

struct alias {
	char *name;
	char *value; /* normalised; NULL: erased by "" */
	const char *origin;
};

struct alias_list {
	struct alias *v; /* sorted by name, unique */
	size_t n, alloc;
};

struct regconf {
	struct reg_entry *regs; /* sorted by prefix, unique */
	size_t n_regs, alloc_regs;
	struct strv search;
	bool search_set;
	const char *search_origin;
	struct strv creds;
	bool creds_set;
	enum regconf_short_mode mode;
	bool mode_set;
	struct alias_list aliases;	 /* from registries.conf files */
	struct alias_list cache_aliases; /* from the alias cache: consulted first */
	struct strv files;		 /* owns the origin strings */
};

/* ---- reference syntax (distribution's grammar, enough for configuration) ---- */

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* host[:port]: dot-separated labels of letters, digits and inner '-', or [IPv6]. */
static bool valid_domain(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return false;
	if (s[0] == '[') {
		for (i = 1; i < n && s[i] != ']'; i++)
			if (!is_alnum(s[i]) && s[i] != ':' && s[i] != '.' && s[i] != '%')
				return false;
		if (i >= n || i == 1)
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
		if (!is_digit(s[i]))
			return false;
	return true;
}

/* One path component: [a-z0-9]+ separated by '.', '_', '__' or runs of '-'. */
static bool valid_component(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t start = i;
		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == start)
			return false;
		if (i == n)
			return true;
		if (s[i] == '.' || s[i] == '_') {
			i += (s[i] == '_' && i + 1 < n && s[i + 1] == '_') ? 2 : 1;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return false;
		}
		if (i == n)
			return false;
	}
	return n > 0;
}

static bool valid_tag(const char *s, size_t n)
{
	if (n == 0 || n > 128 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

static bool valid_digest(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t alen, hlen;

	if (!colon)
		return false;
	alen = (size_t)(colon - s);
	hlen = n - alen - 1;
	if (alen == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')) || hlen < 32)
		return false;
	for (size_t i = 1; i < alen; i++)
		if (!is_alnum(s[i]) && !strchr("-_+.", s[i]))
			return false;
	for (size_t i = alen + 1; i < n; i++)
		if (!is_digit(s[i]) && !((s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

/* A reference split: [domain/]path[:tag][@digest]; lengths into the string. */
struct refparts {
	size_t domain_len; /* 0: no domain */
	size_t name_len;   /* domain + '/' + path */
	bool tag, digest;
};

/* Does the first component look like a registry (docker's rule)? */
static bool looks_like_domain(const char *s, size_t n)
{
	if (n == 9 && strncmp(s, "localhost", 9) == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '.' || s[i] == ':' || (s[i] >= 'A' && s[i] <= 'Z'))
			return true;
	return false;
}

static bool parse_ref(const char *s, struct refparts *ret)
{
	size_t len = strlen(s), end = len;
	const char *at = strchr(s, '@');
	struct refparts rp = {0};

	if (at) {
		if (!valid_digest(at + 1, len - (size_t)(at - s) - 1))
			return false;
		rp.digest = true;
		end = (size_t)(at - s);
	}
	const char *slash = memrchr(s, '/', end);
	const char *colon = memrchr(s, ':', end);
	if (colon && (!slash || colon > slash)) {
		if (!valid_tag(colon + 1, end - (size_t)(colon - s) - 1))
			return false;
		rp.tag = true;
		end = (size_t)(colon - s);
	}
	const char *first = memchr(s, '/', end);
	size_t i = 0;
	if (first && looks_like_domain(s, (size_t)(first - s))) {
		if (!valid_domain(s, (size_t)(first - s)))
			return false;
		rp.domain_len = (size_t)(first - s);
		i = rp.domain_len + 1;
	}
	if (end > NAME_MAX_LEN || i >= end)
		return false;
	while (i <= end) {
		const char *next = memchr(s + i, '/', end - i);
		size_t n = next ? (size_t)(next - (s + i)) : end - i;
		if (!valid_component(s + i, n))
			return false;
		i += n + 1;
	}
	rp.name_len = end;
	*ret = rp;
	return true;
}

/* Check a short name (the left side of an alias, or what the user typed). */
static int check_short_name(const char *name, struct skiff_err **err)
{
	struct refparts rp;

	if (!parse_ref(name, &rp))
		return err_makex(err, EINVAL, "invalid short name \"%.256s\"", name);
	if (rp.digest)
		return err_makex(err, EINVAL, "invalid short name \"%.256s\": must not contain a digest", name);
	if (rp.tag)
		return err_makex(err, EINVAL, "invalid short name \"%.256s\": must not contain a tag", name);
	if (rp.domain_len)
		return err_makex(err, EINVAL, "invalid short name \"%.256s\": must not contain a registry", name);
	return 0;
}

/* docker.io normalisation: index.docker.io -> docker.io, docker.io/x -> docker.io/library/x. */
static char *normalize_name(const char *domain, size_t dlen, const char *path)
{
	bool hub = (dlen == 9 && strncmp(domain, "docker.io", 9) == 0) ||
		   (dlen == 15 && strncmp(domain, "index.docker.io", 15) == 0);

	if (!hub)
		return xasprintf("%.*s/%s", (int)dlen, domain, path);
	return xasprintf("docker.io/%s%s", strchr(path, '/') ? "" : "library/", path);
}

/* Check an alias value: a repository with a registry, no tag or digest; normalised. */
static int parse_alias_value(const char *value, char **ret, struct skiff_err **err)
{
	struct refparts rp;

	if (!parse_ref(value, &rp))
		return err_makex(err, EINVAL, "invalid alias value \"%.256s\"", value);
	if (rp.digest)
		return err_makex(err, EINVAL, "invalid alias value \"%.256s\": must not contain a digest", value);
	if (rp.tag)
		return err_makex(err, EINVAL, "invalid alias value \"%.256s\": must not contain a tag", value);
	if (!rp.domain_len || (!(rp.domain_len == 9 && strncmp(value, "localhost", 9) == 0) &&
			       !memchr(value, '.', rp.domain_len) && !memchr(value, ':', rp.domain_len)))
		return err_makex(err, EINVAL,
				 "invalid alias value \"%.256s\": must contain a registry and a repository", value);
	*ret = normalize_name(value, rp.domain_len, value + rp.domain_len + 1);
	return 0;
}

/* ---- the configuration ---- */

static void mirror_release(struct reg_mirror *m)
{
	free(m->location);
}

static void entry_release(struct reg_entry *e)
{
	free(e->prefix);
	free(e->location);
	for (size_t i = 0; i < e->n_mirrors; i++)
		mirror_release(&e->mirrors[i]);
	free(e->mirrors);
	memset(e, 0, sizeof(*e));
}

static void aliases_release(struct alias_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Everything but files (which a per-file partial configuration does not own). */
static void regconf_clear(struct regconf *c)
{
	for (size_t i = 0; i < c->n_regs; i++)
		entry_release(&c->regs[i]);
	free(c->regs);
	c->regs = NULL;
	c->n_regs = c->alloc_regs = 0;
	strv_release(&c->search);
	strv_release(&c->creds);
	aliases_release(&c->aliases);
	aliases_release(&c->cache_aliases);
}

void regconf_free(struct regconf *c)
{
	if (!c)
		return;
	regconf_clear(c);
	strv_release(&c->files);
	free(c);
}

static void strv_move(struct strv *dst, struct strv *src)
{
	strv_release(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

static int alias_cmp(const void *a, const void *b)
{
	return strcmp(((const struct alias *)a)->name, ((const struct alias *)b)->name);
}

static const struct alias *alias_find(const struct alias_list *l, const char *name)
{
	struct alias key = {.name = (char *)name};
	return l->n ? bsearch(&key, l->v, l->n, sizeof(*l->v), alias_cmp) : NULL;
}

/* Merge upd (sorted, unique) into dst (sorted, unique), upd winning; upd is emptied. */
static void aliases_merge(struct alias_list *dst, struct alias_list *upd)
{
	struct alias_list out = {0};
	size_t i = 0, j = 0;

	out.alloc = dst->n + upd->n;
	out.v = xreallocarray(NULL, out.alloc ? out.alloc : 1, sizeof(*out.v));
	while (i < dst->n || j < upd->n) {
		int cmp = i == dst->n ? 1 : j == upd->n ? -1 : strcmp(dst->v[i].name, upd->v[j].name);
		if (cmp < 0) {
			out.v[out.n++] = dst->v[i++];
			continue;
		}
		if (cmp == 0) {
			free(dst->v[i].name);
			free(dst->v[i].value);
			i++;
		}
		out.v[out.n++] = upd->v[j++];
	}
	free(dst->v);
	free(upd->v);
	memset(upd, 0, sizeof(*upd));
	*dst = out;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct reg_entry *x = a, *y = b;
	int r = strcmp(x->prefix, y->prefix);
	if (r)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Merge the registries of upd into dst by prefix (upd's table replaces dst's); upd is emptied. */
static void registries_merge(struct regconf *dst, struct regconf *upd)
{
	size_t n = dst->n_regs + upd->n_regs, i = 0, j = 0, k = 0;
	struct reg_entry *out = xreallocarray(NULL, n ? n : 1, sizeof(*out));

	while (i < dst->n_regs || j < upd->n_regs) {
		int cmp = i == dst->n_regs   ? 1
			  : j == upd->n_regs ? -1
					     : strcmp(dst->regs[i].prefix, upd->regs[j].prefix);
		if (cmp < 0) {
			out[k++] = dst->regs[i++];
			continue;
		}
		if (cmp == 0)
			entry_release(&dst->regs[i++]);
		out[k++] = upd->regs[j++];
	}
	free(dst->regs);
	free(upd->regs);
	upd->regs = NULL;
	upd->n_regs = upd->alloc_regs = 0;
	dst->regs = out;
	dst->n_regs = k;
	dst->alloc_regs = n;
}

/* What a later file sets replaces what came before (podman's updateWithConfigurationFrom). */
static void regconf_merge(struct regconf *dst, struct regconf *upd)
{
	registries_merge(dst, upd);
	if (upd->search_set) {
		strv_move(&dst->search, &upd->search);
		dst->search_set = true;
		dst->search_origin = upd->search_origin;
	}
	if (upd->creds_set) {
		strv_move(&dst->creds, &upd->creds);
		dst->creds_set = true;
	}
	if (upd->mode_set) {
		dst->mode = upd->mode;
		dst->mode_set = true;
	}
	aliases_merge(&dst->aliases, &upd->aliases);
}

/* ---- reading one file ---- */

/* Trailing '/' removed; "http://" and "https://" refused. */
static int clean_location(const char *what, const char *s, size_t line, char **ret, struct skiff_err **err)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		n--;
	if (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0)
		return err_makex(err, EINVAL, "line %zu: %s \"%s\": URI schemes are not supported", line, what, s);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return err_makex(err, EINVAL, "line %zu: %s \"%s\": whitespace or control character", line,
					 what, s);
	*ret = xstrndup(s, n);
	return 0;
}

/* A location: host[:port][/path...][:tag|@digest], like a prefix without the wildcard. */
static int check_location(const char *what, const char *loc, size_t line, struct skiff_err **err)
{
	const char *slash = strchr(loc, '/');
	size_t dlen = slash ? (size_t)(slash - loc) : strlen(loc);
	struct refparts rp;

	if (!valid_domain(loc, dlen))
		return err_makex(err, EINVAL, "line %zu: %s \"%s\": not a valid host[:port]", line, what, loc);
	if (!slash)
		return 0;
	/* the host is known: check the rest as a reference below it */
	cleanup_free char *probe = xasprintf("h.h/%s", slash + 1);
	if (!parse_ref(probe, &rp))
		return err_makex(err, EINVAL, "line %zu: %s \"%s\": invalid repository path", line, what, loc);
	return 0;
}

static int parse_pull_from(const char *s, const char *loc, size_t line, enum pull_from *ret, struct skiff_err **err)
{
	if (!*s || strcmp(s, "all") == 0)
		*ret = PULL_ALL;
	else if (strcmp(s, "digest-only") == 0)
		*ret = PULL_DIGEST_ONLY;
	else if (strcmp(s, "tag-only") == 0)
		*ret = PULL_TAG_ONLY;
	else
		return err_makex(err, EINVAL,
				 "line %zu: pull-from-mirror \"%s\" of mirror \"%s\": expected \"all\", "
				 "\"digest-only\" or \"tag-only\"",
				 line, s, loc);
	return 0;
}

/* The items of an array of tables under key (a [[key]] or key = [{...}]); 0 when absent. */
static int get_table_array(const struct toml *tab, const char *key, const struct toml **ret, struct skiff_err **err)
{
	const struct toml *v = toml_table_get(tab, key);

	if (!v)
		return 0;
	if (v->type != TOML_ARRAY)
		return err_makex(err, EINVAL, "line %zu: %s: expected an array of tables ([[%s]]), got %s", v->line,
				 key, key, toml_type_name(v->type));
	for (size_t i = 0; i < toml_array_len(v); i++) {
		const struct toml *it = toml_array_at(v, i);
		if (it->type != TOML_TABLE)
			return err_makex(err, EINVAL, "line %zu: %s: item %zu: expected a table, got %s", it->line, key,
					 i + 1, toml_type_name(it->type));
	}
	*ret = v;
	return 1;
}

static int parse_mirror(const struct toml *t, struct reg_entry *e, struct skiff_err **err)
{
	const char *loc = NULL, *pull = NULL;
	struct reg_mirror m = {0};

	if (toml_get_string(t, "location", &loc, err) < 0 || toml_get_bool(t, "insecure", &m.insecure, err) < 0 ||
	    toml_get_string(t, "pull-from-mirror", &pull, err) < 0)
		return -1;
	if (!loc || !*loc)
		return err_makex(err, EINVAL, "line %zu: mirror of \"%s\": location is unset", t->line, e->prefix);
	if (clean_location("mirror location", loc, t->line, &m.location, err) < 0)
		return -1;
	if (check_location("mirror location", m.location, t->line, err) < 0 ||
	    (pull && parse_pull_from(pull, m.location, t->line, &m.pull, err) < 0)) {
		mirror_release(&m);
		return -1;
	}
	if (pull && *pull && e->by_digest_only) {
		err_makex(err, EINVAL,
			  "line %zu: mirror \"%s\": pull-from-mirror cannot be set when registry \"%s\" sets "
			  "mirror-by-digest-only",
			  t->line, m.location, e->prefix);
		mirror_release(&m);
		return -1;
	}
	ALLOC_GROW(e->mirrors, e->n_mirrors + 1, e->alloc_mirrors);
	e->mirrors[e->n_mirrors++] = m;
	return 0;
}

/* One [[registry]] table into e (released by the caller on error). */
static int parse_registry(const struct toml *t, struct reg_entry *e, struct skiff_err **err)
{
	const char *prefix = NULL, *loc = NULL, *pull = NULL;
	const struct toml *mirrors = NULL;
	int r;

	e->line = t->line;
	if (toml_get_string(t, "prefix", &prefix, err) < 0 || toml_get_string(t, "location", &loc, err) < 0 ||
	    toml_get_bool(t, "insecure", &e->insecure, err) < 0 || toml_get_bool(t, "blocked", &e->blocked, err) < 0 ||
	    toml_get_bool(t, "mirror-by-digest-only", &e->by_digest_only, err) < 0 ||
	    toml_get_string(t, "pull-from-mirror", &pull, err) < 0)
		return -1;
	if (clean_location("location", loc ? loc : "", t->line, &e->location, err) < 0)
		return -1;
	if (!prefix || !*prefix) {
		if (!*e->location)
			return err_makex(err, EINVAL, "line %zu: [[registry]]: both location and prefix are unset",
					 t->line);
		e->prefix = xstrdup(e->location);
	} else if (clean_location("prefix", prefix, t->line, &e->prefix, err) < 0) {
		return -1;
	}
	if (!*e->prefix)
		return err_makex(err, EINVAL, "line %zu: [[registry]]: prefix \"%s\" is empty", t->line, prefix);
	if (strncmp(e->prefix, "*.", 2) == 0) {
		if (strpbrk(e->prefix, "/@:") || !valid_domain(e->prefix + 2, strlen(e->prefix + 2)))
			return err_makex(err, EINVAL,
					 "line %zu: wildcard prefix \"%s\" must have the form *.example.com", t->line,
					 e->prefix);
	} else if (!*e->location) {
		return err_makex(err, EINVAL,
				 "line %zu: [[registry]] prefix \"%s\": location is unset and the prefix is not of "
				 "the form *.example.com",
				 t->line, e->prefix);
	} else if (strchr(e->prefix, '*')) {
		return err_makex(err, EINVAL, "line %zu: prefix \"%s\": '*' is allowed only as a leading \"*.\"",
				 t->line, e->prefix);
	}
	if (*e->location && check_location("location", e->location, t->line, err) < 0)
		return -1;
	if (pull && *pull)
		return err_makex(err, EINVAL,
				 "line %zu: pull-from-mirror must not be set for the non-mirror registry \"%s\"",
				 t->line, e->prefix);
	r = get_table_array(t, "mirror", &mirrors, err);
	if (r < 0)
		return -1;
	for (size_t i = 0; r > 0 && i < toml_array_len(mirrors); i++)
		if (parse_mirror(toml_array_at(mirrors, i), e, err) < 0)
			return -1;
	return 0;
}

static int add_alias(struct alias_list *l, const char *name, const char *value, size_t line, const char *origin,
		     struct skiff_err **err)
{
	char *norm = NULL;

	if (check_short_name(name, err) < 0)
		return err_wrap(err, "line %zu: [aliases]", line);
	if (*value && parse_alias_value(value, &norm, err) < 0)
		return err_wrap(err, "line %zu: [aliases] \"%s\"", line, name);
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n++] = (struct alias){xstrdup(name), norm, origin};
	return 0;
}

/* [aliases] of doc into l, sorted. */
static int parse_aliases(const struct toml *doc, const char *origin, struct alias_list *l, struct skiff_err **err)
{
	const struct toml *tab = NULL;

	if (toml_get_table(doc, "aliases", &tab, err) < 0)
		return -1;
	for (size_t i = 0; i < toml_table_len(tab); i++) {
		const char *name = toml_table_key_at(tab, i);
		const struct toml *v = toml_table_value_at(tab, i);
		if (v->type != TOML_STRING)
			return err_makex(err, EINVAL, "line %zu: [aliases] \"%s\": expected string, got %s", v->line,
					 name, toml_type_name(v->type));
		if (add_alias(l, name, toml_string(v), v->line, origin, err) < 0)
			return -1;
	}
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), alias_cmp); /* TOML keys are unique: no duplicates */
	return 0;
}

static const char *const v2_keys[] = {
	"registry", "unqualified-search-registries",	  "credential-helpers", "short-name-mode",
	"aliases",  "additional-layer-store-auth-helper",
};

/* The v1 lists: [registries.search] registries = [...] etc.; 1 when any is present. */
static int v1_present(const struct toml *doc, struct skiff_err **err)
{
	static const char *const lists[] = {"search", "insecure", "block"};
	const struct toml *regs = NULL;
	int found = 0, r;

	r = toml_get_table(doc, "registries", &regs, err);
	if (r <= 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		const struct toml *t = NULL;
		if (toml_get_table(regs, lists[i], &t, err) < 0)
			return err_wrap(err, "[registries]");
		if (toml_table_get(t, "registries"))
			found = 1;
	}
	return found;
}

static struct reg_entry *v1_registry(struct regconf *out, const char *loc)
{
	for (size_t i = 0; i < out->n_regs; i++)
		if (strcmp(out->regs[i].location, loc) == 0)
			return &out->regs[i];
	ALLOC_GROW(out->regs, out->n_regs + 1, out->alloc_regs);
	struct reg_entry *e = &out->regs[out->n_regs];
	*e = (struct reg_entry){.prefix = xstrdup(loc), .location = xstrdup(loc), .seq = out->n_regs};
	out->n_regs++;
	return e;
}

/* v1 to v2: search -> unqualified-search-registries, block/insecure -> [[registry]]. */
static int parse_v1(const struct toml *doc, const char *origin, struct regconf *out, struct skiff_err **err)
{
	static const char *const lists[] = {"block", "insecure"};
	const struct toml *regs = toml_table_get(doc, "registries");

	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		const struct toml *t = toml_table_get(regs, lists[i]);
		cleanup_strv struct strv v = STRV_INIT;
		if (toml_get_strv(t, "registries", &v, err) < 0)
			return err_wrap(err, "[registries.%s]", lists[i]);
		for (size_t j = 0; j < v.len; j++) {
			cleanup_free char *loc = NULL;
			size_t line = toml_table_get(t, "registries")->line;
			if (clean_location("registry", v.v[j], line, &loc, err) < 0)
				return err_wrap(err, "[registries.%s]", lists[i]);
			if (!*loc)
				return err_makex(err, EINVAL, "line %zu: [registries.%s]: empty registry", line,
						 lists[i]);
			if (check_location("registry", loc, line, err) < 0)
				return -1;
			struct reg_entry *e = v1_registry(out, loc);
			e->origin = origin;
			e->line = line;
			if (i == 0)
				e->blocked = true;
			else
				e->insecure = true;
		}
	}
	if (toml_get_strv(toml_table_get(regs, "search"), "registries", &out->search, err) < 0)
		return err_wrap(err, "[registries.search]");
	out->search_set = toml_table_get(toml_table_get(regs, "search"), "registries") != NULL;
	return 0;
}

/* A registry mentioned several times must agree on insecure and blocked (podman's check). */
static int key_cmp(const void *a, const void *b)
{
	const struct reg_entry *x = *(const struct reg_entry *const *)a, *y = *(const struct reg_entry *const *)b;
	const char *kx = *x->location ? x->location : x->prefix, *ky = *y->location ? y->location : y->prefix;
	return strcmp(kx, ky);
}

static int check_conflicts(struct regconf *out, struct skiff_err **err)
{
	if (out->n_regs < 2)
		return 0;
	cleanup_free struct reg_entry **by = xreallocarray(NULL, out->n_regs, sizeof(*by));
	for (size_t i = 0; i < out->n_regs; i++)
		by[i] = &out->regs[i];
	qsort(by, out->n_regs, sizeof(*by), key_cmp);
	for (size_t i = 1; i < out->n_regs; i++) {
		const struct reg_entry *a = by[i - 1], *b = by[i];
		const char *what = a->insecure != b->insecure ? "insecure"
				   : a->blocked != b->blocked ? "blocked"
							      : NULL;
		if (key_cmp(&by[i - 1], &by[i]) != 0 || !what)
			continue;
		return err_makex(err, EINVAL,
				 "registry \"%s\" is defined multiple times with conflicting '%s' settings (lines %zu "
				 "and %zu)",
				 *b->location ? b->location : b->prefix, what, a->line, b->line);
	}
	return 0;
}

/* Sort by prefix and keep the first table of each prefix (podman ignores the later ones). */
static void sort_dedupe(struct regconf *out)
{
	size_t k = 0;

	if (!out->n_regs)
		return;
	qsort(out->regs, out->n_regs, sizeof(*out->regs), entry_cmp);
	for (size_t i = 0; i < out->n_regs; i++) {
		if (k > 0 && strcmp(out->regs[k - 1].prefix, out->regs[i].prefix) == 0) {
			entry_release(&out->regs[i]);
			continue;
		}
		out->regs[k++] = out->regs[i];
	}
	out->n_regs = k;
}

static int parse_v2(const struct toml *doc, const char *origin, struct regconf *out, struct skiff_err **err)
{
	const struct toml *regs = NULL;
	const char *mode = NULL;
	int r;

	r = toml_get_strv(doc, "unqualified-search-registries", &out->search, err);
	if (r < 0)
		return -1;
	out->search_set = r > 0;
	r = toml_get_strv(doc, "credential-helpers", &out->creds, err);
	if (r < 0)
		return -1;
	out->creds_set = r > 0;
	if (toml_get_string(doc, "short-name-mode", &mode, err) < 0)
		return -1;
	if (mode && *mode) {
		out->mode_set = true;
		if (strcmp(mode, "enforcing") == 0)
			out->mode = REGCONF_SHORT_ENFORCING;
		else if (strcmp(mode, "permissive") == 0)
			out->mode = REGCONF_SHORT_PERMISSIVE;
		else if (strcmp(mode, "disabled") == 0)
			out->mode = REGCONF_SHORT_DISABLED;
		else
			return err_makex(err, EINVAL,
					 "line %zu: short-name-mode \"%s\": expected \"enforcing\", \"permissive\" or "
					 "\"disabled\"",
					 toml_table_get(doc, "short-name-mode")->line, mode);
	}
	r = get_table_array(doc, "registry", &regs, err);
	if (r < 0)
		return -1;
	for (size_t i = 0; r > 0 && i < toml_array_len(regs); i++) {
		ALLOC_GROW(out->regs, out->n_regs + 1, out->alloc_regs);
		struct reg_entry *e = &out->regs[out->n_regs];
		*e = (struct reg_entry){.origin = origin, .seq = i};
		if (parse_registry(toml_array_at(regs, i), e, err) < 0) {
			entry_release(e);
			return -1;
		}
		out->n_regs++;
	}
	if (parse_aliases(doc, origin, &out->aliases, err) < 0)
		return -1;
	return 0;
}

/* Check and normalise unqualified-search-registries: host[:port] each. */
static int check_search(const struct toml *doc, struct regconf *out, struct skiff_err **err)
{
	const struct toml *arr = toml_table_get(doc, "unqualified-search-registries");
	size_t line = arr ? arr->line : 0;

	if (!arr) { /* v1 */
		const struct toml *t = toml_get(doc, "registries.search", "registries");
		line = t ? t->line : 0;
	}
	for (size_t i = 0; i < out->search.len; i++) {
		char *s = out->search.v[i];
		size_t n = strlen(s);
		while (n > 0 && s[n - 1] == '/')
			s[--n] = '\0';
		if (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 || !valid_domain(s, n))
			return err_makex(err, EINVAL,
					 "line %zu: unqualified-search-registries: invalid entry \"%s\" (expected "
					 "host[:port])",
					 line, s);
	}
	return 0;
}

/* Read path into out (a fresh partial configuration). dropin: v1 is refused. */
static int load_file(const char *path, const char *origin, bool dropin, struct regconf *out, struct skiff_err **err)
{
	cleanup_toml struct toml *doc = NULL;
	bool v2 = false;
	int v1;

	if (toml_parse_file(path, &doc, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(v2_keys); i++)
		if (toml_table_get(doc, v2_keys[i]))
			v2 = true;
	v1 = v1_present(doc, err);
	if (v1 < 0)
		return err_wrap(err, "%s", path);
	if (v1 && dropin)
		return err_makex(err, EINVAL,
				 "%s: drop-in files must use the v2 format ([registries.*] tables are the v1 format)",
				 path);
	if (v1 && v2)
		return err_makex(err, EINVAL, "%s: mixing the v1 format ([registries.*]) and v2 keys is not supported",
				 path);
	if ((v1 ? parse_v1(doc, origin, out, err) : parse_v2(doc, origin, out, err)) < 0 ||
	    check_search(doc, out, err) < 0 || check_conflicts(out, err) < 0)
		return err_wrap(err, "%s", path);
	if (out->search_set)
		out->search_origin = origin;
	sort_dedupe(out);
	return 0;
}

/* Load one file and merge it into c. missing_ok: a file that does not exist is skipped. */
static int merge_file(struct regconf *c, const char *path, bool dropin, bool missing_ok, struct skiff_err **err)
{
	struct regconf part = {0};
	const char *origin;

	strv_push(&c->files, path);
	origin = c->files.v[c->files.len - 1];
	if (load_file(path, origin, dropin, &part, err) < 0) {
		regconf_clear(&part);
		if (missing_ok && err_status(*err) == ENOENT) {
			err_clear(err);
			strv_remove(&c->files, c->files.len - 1);
			return 0;
		}
		return -1;
	}
	regconf_merge(c, &part);
	regconf_clear(&part);
	return 0;
}

/* The *.conf files of dir (not recursing), in lexical order; a missing dir is none. */
static int dropin_files(const char *dir, struct strv *ret, struct skiff_err **err)
{
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_dir DIR *d = NULL;
	struct dirent *de;
	struct strv names = STRV_INIT;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return err_make(err, errno, "read registries.conf.d directory %s", dir);
	}
	d = fdopendir(fd);
	if (!d)
		return err_make(err, errno, "read registries.conf.d directory %s", dir);
	fd = -1;
	for (errno = 0; (de = readdir(d)); errno = 0) {
		size_t n = strlen(de->d_name);
		struct stat st;
		if (n < 5 || strcmp(de->d_name + n - 5, ".conf") != 0)
			continue;
		if (de->d_type == DT_DIR)
			continue;
		if (de->d_type != DT_REG && (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || S_ISDIR(st.st_mode)))
			continue; /* gone, a dangling symlink, or a directory */
		strv_pushf(&names, "%s/%s", dir, de->d_name);
	}
	if (errno) {
		strv_release(&names);
		return err_make(err, errno, "read registries.conf.d directory %s", dir);
	}
	strv_sort(&names);
	for (size_t i = 0; i < names.len; i++)
		strv_push(ret, names.v[i]);
	strv_release(&names);
	return 0;
}

static int load_cache(struct regconf *c, const char *path, struct skiff_err **err)
{
	cleanup_toml struct toml *doc = NULL;
	const char *origin;

	if (toml_parse_file(path, &doc, err) < 0) {
		if (err_status(*err) == ENOENT) {
			err_clear(err);
			return 0;
		}
		return err_wrap(err, "short-name alias cache");
	}
	strv_push(&c->files, path);
	origin = c->files.v[c->files.len - 1];
	if (parse_aliases(doc, origin, &c->cache_aliases, err) < 0)
		return err_wrap(err, "short-name alias cache %s", path);
	return 0;
}

static bool file_exists(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0;
}

int regconf_load(const struct regconf_paths *p, struct regconf **ret, struct skiff_err **err)
{
	struct regconf *c = xzalloc(sizeof(*c));
	cleanup_strv struct strv files = STRV_INIT;
	const char *dirs[2] = {NULL, NULL};
	const char *main_file = NULL;
	bool main_missing_ok = true;

	if (p->env_file && *p->env_file) {
		main_file = p->env_file;
		main_missing_ok = false;
		dirs[0] = p->system_dropin;
		dirs[1] = p->user_dropin;
	} else if (file_exists(p->user_file)) {
		main_file = p->user_file;
		dirs[0] = p->user_dropin;
	} else {
		main_file = p->system_file;
		dirs[0] = p->system_dropin;
		dirs[1] = p->user_dropin;
	}
	if (main_file && merge_file(c, main_file, false, main_missing_ok, err) < 0)
		goto fail;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (dirs[i] && dropin_files(dirs[i], &files, err) < 0)
			goto fail;
	for (size_t i = 0; i < files.len; i++)
		if (merge_file(c, files.v[i], true, true, err) < 0) /* removed since listed: skipped */
			goto fail;
	if (p->alias_cache && load_cache(c, p->alias_cache, err) < 0)
		goto fail;
	if (!c->creds.len) {
		strv_release(&c->creds);
		strv_push(&c->creds, AUTH_FILE_HELPER);
	}
	*ret = c;
	return 0;
fail:
	regconf_free(c);
	return -1;
}

/* $HOME if absolute, else the user database's home; NULL when neither is known. */
static char *home_dir(void)
{
	const char *h = getenv("HOME");
	long max = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t size = max > 0 ? (size_t)max : 16384;
	struct passwd pw, *res = NULL;

	if (h && h[0] == '/')
		return xstrdup(h);
	cleanup_free char *buf = xmalloc(size);
	if (getpwuid_r(getuid(), &pw, buf, size, &res) != 0 || !res || !pw.pw_dir || pw.pw_dir[0] != '/')
		return NULL;
	return xstrdup(pw.pw_dir);
}

int regconf_default_paths(bool rootless, struct regconf_paths *ret, struct strv *ret_buf, struct skiff_err **err)
{
	struct strv buf = STRV_INIT;
	cleanup_free char *home = home_dir();
	const char *env = getenv("CONTAINERS_REGISTRIES_CONF");
	const char *xdg_cache = getenv("XDG_CACHE_HOME");
	ssize_t env_i = -1, user_i = -1, cache_i = -1;

	if (env && *env) {
		env_i = (ssize_t)buf.len;
		strv_push(&buf, env);
	}
	if (home) {
		user_i = (ssize_t)buf.len;
		strv_pushf(&buf, "%s/.config/containers/registries.conf", home);
		strv_pushf(&buf, "%s/.config/containers/registries.conf.d", home);
	}
	if (!rootless) {
		cache_i = (ssize_t)buf.len;
		strv_push(&buf, "/var/cache/containers/short-name-aliases.conf");
	} else if (xdg_cache && xdg_cache[0] == '/') {
		cache_i = (ssize_t)buf.len;
		strv_pushf(&buf, "%s/containers/short-name-aliases.conf", xdg_cache);
	} else if (home) {
		cache_i = (ssize_t)buf.len;
		strv_pushf(&buf, "%s/.cache/containers/short-name-aliases.conf", home);
	} else {
		strv_release(&buf);
		return err_makex(err, ENOENT,
				 "find the short-name alias cache: neither XDG_CACHE_HOME nor a home directory is "
				 "known");
	}
	*ret = (struct regconf_paths){
		.env_file = env_i >= 0 ? buf.v[env_i] : NULL,
		.system_file = "/etc/containers/registries.conf",
		.system_dropin = "/etc/containers/registries.conf.d",
		.user_file = user_i >= 0 ? buf.v[user_i] : NULL,
		.user_dropin = user_i >= 0 ? buf.v[user_i + 1] : NULL,
		.alias_cache = cache_i >= 0 ? buf.v[cache_i] : NULL,
	};
	strv_release(ret_buf);
	*ret_buf = buf;
	return 0;
}

int regconf_load_default(bool rootless, struct regconf **ret, struct skiff_err **err)
{
	cleanup_strv struct strv buf = STRV_INIT;
	struct regconf_paths p;

	if (regconf_default_paths(rootless, &p, &buf, err) < 0)
		return -1;
	return regconf_load(&p, ret, err);
}

/* ---- lookups ---- */

/* Length of ref matched by prefix (podman's rule), or -1. */
static ssize_t match_prefix(const char *ref, const char *prefix)
{
	size_t plen = strlen(prefix);

	if (strncmp(prefix, "*.", 2) == 0) {
		const char *suffix = prefix + 1; /* ".example.com" */
		size_t slen = plen - 1;
		size_t hlen = strcspn(ref, "/");
		for (const char *s = ref; (s = strstr(s, suffix)) && (size_t)(s - ref) + slen <= hlen; s++) {
			char c = s[slen];
			if (c == '\0' || c == ':' || c == '/' || c == '@')
				return (ssize_t)((size_t)(s - ref) + slen);
		}
		return -1;
	}
	if (strncmp(ref, prefix, plen) != 0)
		return -1;
	if (ref[plen] == '\0' || ref[plen] == ':' || ref[plen] == '/' || ref[plen] == '@')
		return (ssize_t)plen;
	return -1;
}

/* The [[registry]] with the longest prefix matching ref, and the matched length. */
static const struct reg_entry *find_registry(const struct regconf *c, const char *ref, size_t *ret_len)
{
	const struct reg_entry *best = NULL;
	size_t best_plen = 0;

	for (size_t i = 0; i < c->n_regs; i++) {
		size_t plen = strlen(c->regs[i].prefix);
		ssize_t m;
		if (plen <= best_plen)
			continue;
		m = match_prefix(ref, c->regs[i].prefix);
		if (m < 0)
			continue;
		best = &c->regs[i];
		best_plen = plen;
		if (ret_len)
			*ret_len = (size_t)m;
	}
	return best;
}

void reg_endpoint_release(struct reg_endpoint *e)
{
	if (!e)
		return;
	free(e->name);
	free(e->location);
	e->name = e->location = NULL;
}

void reg_endpoints_free(struct reg_endpoint *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		reg_endpoint_release(&v[i]);
	free(v);
}

static int check_name(const char *name, struct skiff_err **err)
{
	size_t hlen = strcspn(name, "/@");

	if (hlen == 0 || !valid_domain(name, hlen))
		return err_makex(err, EINVAL, "\"%s\" is not a fully-qualified image name (host[:port]/path)", name);
	for (const char *s = name; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return err_makex(err, EINVAL, "image name \"%s\": whitespace or control character", name);
	return 0;
}

static int check_blocked(const struct reg_entry *r, const char *name, struct skiff_err **err)
{
	if (r && r->blocked)
		return err_makex(err, EACCES, "registry %s is blocked in %s (line %zu)", r->prefix,
				 r->origin ? r->origin : "registries.conf", r->line);
	return 0;
}

static void endpoint_set(struct reg_endpoint *ep, const char *name, size_t mlen, const char *loc, bool insecure,
			 bool mirror)
{
	ep->name = *loc ? xasprintf("%s%s", loc, name + mlen) : xstrdup(name);
	ep->location = *loc ? xstrdup(loc) : xstrndup(name, strcspn(name, "/@"));
	ep->insecure = insecure;
	ep->mirror = mirror;
}

int regconf_pull_sources(const struct regconf *c, const char *name, bool by_digest, struct reg_endpoint **ret,
			 size_t *ret_n, struct skiff_err **err)
{
	size_t mlen = 0, n = 0;
	const struct reg_entry *r;
	struct reg_endpoint *v;

	if (check_name(name, err) < 0)
		return -1;
	r = find_registry(c, name, &mlen);
	if (check_blocked(r, name, err) < 0)
		return -1;
	if (!r) {
		v = xzalloc(sizeof(*v));
		endpoint_set(v, name, 0, "", false, false);
		*ret = v;
		*ret_n = 1;
		return 0;
	}
	v = xcalloc(r->n_mirrors + 1, sizeof(*v));
	for (size_t i = 0; i < r->n_mirrors; i++) {
		const struct reg_mirror *m = &r->mirrors[i];
		if (r->by_digest_only && !by_digest)
			continue;
		if ((m->pull == PULL_DIGEST_ONLY && !by_digest) || (m->pull == PULL_TAG_ONLY && by_digest))
			continue;
		endpoint_set(&v[n++], name, mlen, m->location, m->insecure, true);
	}
	endpoint_set(&v[n++], name, mlen, r->location, r->insecure, false);
	*ret = v;
	*ret_n = n;
	return 0;
}

int regconf_push_target(const struct regconf *c, const char *name, struct reg_endpoint *ret, struct skiff_err **err)
{
	const struct reg_entry *r;

	if (check_name(name, err) < 0)
		return -1;
	r = find_registry(c, name, NULL);
	if (check_blocked(r, name, err) < 0)
		return -1;
	endpoint_set(ret, name, 0, "", r && r->insecure, false);
	return 0;
}

bool regconf_insecure(const struct regconf *c, const char *host_port)
{
	const struct reg_entry *r = find_registry(c, host_port, NULL);
	return r && r->insecure;
}

bool regconf_blocked(const struct regconf *c, const char *name)
{
	const struct reg_entry *r = find_registry(c, name, NULL);
	return r && r->blocked;
}

/* ---- short names ---- */

void regconf_resolution_release(struct regconf_resolution *r)
{
	if (!r)
		return;
	free(r->alias);
	free(r->alias_origin);
	strv_release(&r->candidates);
	free(r->search_origin);
	memset(r, 0, sizeof(*r));
}

int regconf_resolve_short(const struct regconf *c, const char *name, struct regconf_resolution *ret,
			  struct skiff_err **err)
{
	struct regconf_resolution res = {.mode = c->mode};
	const struct alias *a;

	if (check_short_name(name, err) < 0)
		return -1;
	a = alias_find(&c->cache_aliases, name);
	if (!a)
		a = alias_find(&c->aliases, name);
	if (a && a->value) {
		res.alias = xstrdup(a->value);
		res.alias_origin = xstrdup(a->origin);
		*ret = res;
		return 0;
	}
	if (!c->search_set) {
		strv_push_take(&res.candidates, normalize_name("docker.io", 9, name));
	} else {
		for (size_t i = 0; i < c->search.len; i++) {
			const char *reg = c->search.v[i];
			strv_push_take(&res.candidates, normalize_name(reg, strlen(reg), name));
		}
		res.search_origin = c->search_origin ? xstrdup(c->search_origin) : NULL;
	}
	*ret = res;
	return 0;
}

enum regconf_short_mode regconf_short_mode(const struct regconf *c)
{
	return c->mode;
}

const char *regconf_short_name_mode(const struct regconf *c)
{
	switch (c->mode) {
	case REGCONF_SHORT_ENFORCING:
		return "enforcing";
	case REGCONF_SHORT_DISABLED:
		return "disabled";
	case REGCONF_SHORT_PERMISSIVE:
		break;
	}
	return "permissive";
}

const struct strv *regconf_search_registries(const struct regconf *c)
{
	return c->search_set ? &c->search : NULL;
}

const struct strv *regconf_credential_helpers(const struct regconf *c)
{
	return &c->creds;
}

const struct strv *regconf_files(const struct regconf *c)
{
	return &c->files;
}

/* ---- the alias cache ---- */

/* s as a TOML basic string. */
static void toml_quote(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			strbuf_addf(sb, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			strbuf_addf(sb, "\\u%04X", ch);
		else
			strbuf_addch(sb, (char)ch);
	}
	strbuf_addch(sb, '"');
}

struct kv {
	const char *k, *v;
};

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->k, ((const struct kv *)b)->k);
}

int regconf_record_alias(const char *cache_file, const char *name, const char *value, struct skiff_err **err)
{
	cleanup_lock struct skiff_lock lock = SKIFF_LOCK_INIT;
	cleanup_toml struct toml *doc = NULL;
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	cleanup_free char *lockname = NULL, *dir = NULL, *norm = NULL;
	cleanup_free struct kv *kv = NULL;
	const struct toml *tab = NULL;
	size_t n = 0;
	const char *slash = strrchr(cache_file, '/');

	if (check_short_name(name, err) < 0 || parse_alias_value(value, &norm, err) < 0)
		return err_wrap(err, "record short-name alias in %s", cache_file);
	if (slash && slash != cache_file) {
		dir = xstrndup(cache_file, (size_t)(slash - cache_file));
		if (mkdir_p_at(AT_FDCWD, dir, 0700, err) < 0)
			return err_wrap(err, "record short-name alias");
	}
	lockname = xasprintf("%s.lock", cache_file);
	if (lock_open(AT_FDCWD, lockname, &lock, err) < 0 || lock_take(&lock, LOCK_EXCL, true, err) < 0)
		return err_wrap(err, "record short-name alias in %s", cache_file);
	if (toml_parse_file(cache_file, &doc, err) < 0) {
		if (err_status(*err) != ENOENT)
			return err_wrap(err, "record short-name alias");
		err_clear(err);
	}
	/* the existing entries must be valid: a damaged cache is reported, not overwritten */
	struct alias_list old = {0};
	int r = parse_aliases(doc, cache_file, &old, err);
	aliases_release(&old);
	if (r < 0)
		return err_wrap(err, "record short-name alias: %s", cache_file);
	tab = toml_table_get(doc, "aliases");
	kv = xcalloc(toml_table_len(tab) + 1, sizeof(*kv));
	for (size_t i = 0; i < toml_table_len(tab); i++) {
		const char *k = toml_table_key_at(tab, i);
		if (strcmp(k, name) != 0)
			kv[n++] = (struct kv){k, toml_string(toml_table_value_at(tab, i))};
	}
	kv[n++] = (struct kv){name, value};
	qsort(kv, n, sizeof(*kv), kv_cmp);
	strbuf_addstr(&out, "[aliases]\n");
	for (size_t i = 0; i < n; i++) {
		strbuf_addstr(&out, "  ");
		toml_quote(&out, kv[i].k);
		strbuf_addstr(&out, " = ");
		toml_quote(&out, kv[i].v);
		strbuf_addch(&out, '\n');
	}
	if (write_file_atomic(AT_FDCWD, cache_file, out.buf, out.len, 0600, err) < 0)
		return err_wrap(err, "record short-name alias");
	return 0;
}
