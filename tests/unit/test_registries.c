#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/config/registries.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

struct fix {
	char dir[256];
	char *sys, *sysd, *user, *userd, *cache, *env;
	struct regconf_paths paths; /* system + user files and dirs + cache; env unset */
};

static char *path_in(struct fix *fx, const char *name)
{
	return xasprintf("%s/%s", fx->dir, name);
}

/* Write content to dir/name (creating parent directories); returns the path. */
static char *write_file(struct fix *fx, const char *name, const char *content)
{
	char *path = path_in(fx, name);
	for (char *s = path + strlen(fx->dir) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
		*s = '/';
	}
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	assert_true(fputs(content, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void put(struct fix *fx, const char *name, const char *content)
{
	free(write_file(fx, name, content));
}

static char *read_whole(const char *path)
{
	FILE *f = fopen(path, "re");
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;

	assert_non_null(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb, NULL);
}

static int setup(void **state)
{
	struct fix *fx = xzalloc(sizeof(*fx));

	const char *tmp = getenv("TMPDIR");

	if (!tmp || tmp[0] != '/')
		tmp = "/tmp";
	assert_true((size_t)snprintf(fx->dir, sizeof(fx->dir), "%s/test_registries.XXXXXX", tmp) < sizeof(fx->dir));
	assert_non_null(mkdtemp(fx->dir));
	fx->sys = path_in(fx, "etc/registries.conf");
	fx->sysd = path_in(fx, "etc/registries.conf.d");
	fx->user = path_in(fx, "home/registries.conf");
	fx->userd = path_in(fx, "home/registries.conf.d");
	fx->cache = path_in(fx, "cache/containers/short-name-aliases.conf");
	fx->env = path_in(fx, "env.conf");
	fx->paths = (struct regconf_paths){NULL, fx->sys, fx->user, fx->sysd, fx->userd, fx->cache};
	*state = fx;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fix *fx = *state;
	assert_int_equal(nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(fx->sys);
	free(fx->sysd);
	free(fx->user);
	free(fx->userd);
	free(fx->cache);
	free(fx->env);
	free(fx);
	return 0;
}

static struct regconf *load_ok(const struct regconf_paths *p)
{
	struct skiff_err *err = NULL;
	struct regconf *c = NULL;
	if (regconf_load(p, &c, &err) < 0) {
		print_error("unexpected error: %s\n", err->msg);
		err_free(err);
		fail();
	}
	assert_non_null(c);
	return c;
}

/* The message must contain every string of the NULL-terminated list. */
static void check_err(struct skiff_err *err, int status, va_list ap)
{
	const char *want;

	assert_non_null(err);
	if (err->status != status) {
		print_error("want status %d, got %d: '%s'\n", status, err->status, err->msg);
		err_free(err);
		fail();
	}
	while ((want = va_arg(ap, const char *))) {
		if (!strstr(err->msg, want)) {
			print_error("want '%s' in '%s'\n", want, err->msg);
			err_free(err);
			fail();
		}
	}
	err_free(err);
}

static void load_err(const struct regconf_paths *p, int status, ...)
{
	struct skiff_err *err = NULL;
	struct regconf *c = (struct regconf *)0x5a;
	va_list ap;

	assert_int_equal(regconf_load(p, &c, &err), -1);
	assert_ptr_equal(c, (struct regconf *)0x5a);
	va_start(ap, status);
	check_err(err, status, ap);
	va_end(ap);
}

/* Load the system file alone with content; must fail with status and the strings. */
static void content_err(struct fix *fx, const char *content, int status, ...)
{
	struct skiff_err *err = NULL;
	struct regconf *c = NULL;
	va_list ap;

	put(fx, "etc/registries.conf", content);
	assert_int_equal(regconf_load(&fx->paths, &c, &err), -1);
	assert_null(c);
	va_start(ap, status);
	check_err(err, status, ap);
	va_end(ap);
}

static struct regconf *content_ok(struct fix *fx, const char *content)
{
	put(fx, "etc/registries.conf", content);
	return load_ok(&fx->paths);
}

/* The candidates of a short name, joined with ",", or "alias:VALUE@ORIGIN". */
static char *resolve(const struct regconf *c, const char *name)
{
	struct regconf_resolution r;
	struct skiff_err *err = NULL;
	struct strbuf sb = STRBUF_INIT;

	if (regconf_resolve_short(c, name, &r, &err) < 0) {
		print_error("resolve %s: %s\n", name, err->msg);
		err_free(err);
		fail();
	}
	if (r.alias) {
		strbuf_addf(&sb, "alias:%s@%s", r.alias, r.alias_origin);
	} else {
		for (size_t i = 0; i < r.candidates.len; i++)
			strbuf_addf(&sb, "%s%s", i ? "," : "", r.candidates.v[i]);
	}
	regconf_resolution_release(&r);
	return strbuf_detach(&sb, NULL);
}

static void resolve_is(const struct regconf *c, const char *name, const char *want)
{
	cleanup_free char *got = resolve(c, name);
	assert_string_equal(got, want);
}

/* name must resolve to alias value, from the file rel (relative to the fixture). */
static void alias_is(struct fix *fx, const struct regconf *c, const char *name, const char *value, const char *rel)
{
	cleanup_free char *want = xasprintf("alias:%s@%s/%s", value, fx->dir, rel);
	resolve_is(c, name, want);
}

/* Pull sources as "name|location|i|m;..." (i insecure, m mirror). */
static char *sources(const struct regconf *c, const char *name, bool by_digest)
{
	struct reg_endpoint *v = NULL;
	size_t n = 0;
	struct skiff_err *err = NULL;
	struct strbuf sb = STRBUF_INIT;

	if (regconf_pull_sources(c, name, by_digest, &v, &n, &err) < 0) {
		strbuf_addf(&sb, "error %d: %s", err->status, err->msg);
		err_free(err);
		return strbuf_detach(&sb, NULL);
	}
	assert_true(n >= 1);
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s|%s|%s|%s", i ? ";" : "", v[i].name, v[i].location, v[i].insecure ? "i" : "",
			    v[i].mirror ? "m" : "");
	reg_endpoints_free(v, n);
	return strbuf_detach(&sb, NULL);
}

static void sources_is(const struct regconf *c, const char *name, bool by_digest, const char *want)
{
	cleanup_free char *got = sources(c, name, by_digest);
	assert_string_equal(got, want);
}

/* ---- files and precedence ---- */

static void test_no_files(void **state)
{
	struct fix *fx = *state;
	struct regconf *c = load_ok(&fx->paths);

	assert_null(regconf_search_registries(c));
	assert_int_equal(regconf_credential_helpers(c)->len, 1);
	assert_string_equal(regconf_credential_helpers(c)->v[0], "containers-auth.json");
	assert_string_equal(regconf_short_name_mode(c), "permissive");
	assert_int_equal(regconf_short_mode(c), REGCONF_SHORT_PERMISSIVE);
	assert_int_equal(regconf_files(c)->len, 0);
	/* nothing configured: docker.io, as docker */
	resolve_is(c, "busybox", "docker.io/library/busybox");
	resolve_is(c, "org/app", "docker.io/org/app");
	sources_is(c, "quay.io/a/b:1", false, "quay.io/a/b:1|quay.io||");
	assert_false(regconf_insecure(c, "quay.io"));
	regconf_free(c);
	regconf_free(NULL);
}

static void test_precedence(void **state)
{
	struct fix *fx = *state;
	struct regconf *c;
	cleanup_free char *sys_alias = NULL, *user_alias = NULL;

	put(fx, "etc/registries.conf", "unqualified-search-registries = [\"sys.example\"]\n");
	put(fx, "etc/registries.conf.d/50-sys.conf", "[aliases]\n\"sysalias\" = \"sys.example/a\"\n");
	put(fx, "home/registries.conf.d/50-user.conf", "[aliases]\n\"useralias\" = \"user.example/a\"\n");
	sys_alias = xasprintf("alias:sys.example/a@%s/etc/registries.conf.d/50-sys.conf", fx->dir);
	user_alias = xasprintf("alias:user.example/a@%s/home/registries.conf.d/50-user.conf", fx->dir);

	/* the system file, then the system drop-ins, then the user's */
	c = load_ok(&fx->paths);
	resolve_is(c, "x", "sys.example/x");
	resolve_is(c, "sysalias", sys_alias);
	resolve_is(c, "useralias", user_alias);
	assert_int_equal(regconf_files(c)->len, 3);
	assert_string_equal(regconf_files(c)->v[0], fx->sys);
	regconf_free(c);

	/* the user's file replaces the system file and the system drop-ins */
	put(fx, "home/registries.conf", "unqualified-search-registries = [\"user.example\"]\n");
	c = load_ok(&fx->paths);
	resolve_is(c, "x", "user.example/x");
	resolve_is(c, "sysalias", "user.example/sysalias");
	resolve_is(c, "useralias", user_alias);
	assert_int_equal(regconf_files(c)->len, 2);
	assert_string_equal(regconf_files(c)->v[0], fx->user);
	regconf_free(c);

	/* $CONTAINERS_REGISTRIES_CONF replaces both files; both drop-in dirs still apply (as podman) */
	put(fx, "env.conf", "unqualified-search-registries = [\"env.example\"]\n");
	struct regconf_paths p = fx->paths;
	p.env_file = fx->env;
	c = load_ok(&p);
	resolve_is(c, "x", "env.example/x");
	resolve_is(c, "sysalias", sys_alias);
	resolve_is(c, "useralias", user_alias);
	regconf_free(c);

	/* ... and must exist */
	assert_int_equal(unlink(fx->env), 0);
	load_err(&p, ENOENT, fx->env, NULL);

	/* a drop-in directory that is a file is an error naming it */
	p = fx->paths;
	p.system_dropin = fx->sys;
	p.user_file = NULL;
	load_err(&p, ENOTDIR, fx->sys, NULL);
}

static void test_dropin_merge(void **state)
{
	struct fix *fx = *state;
	struct regconf *c;

	put(fx, "etc/registries.conf",
	    "unqualified-search-registries = [\"a.example\", \"b.example\"]\n"
	    "credential-helpers = [\"pass\"]\n"
	    "short-name-mode = \"enforcing\"\n"
	    "[[registry]]\nprefix = \"r.example\"\nlocation = \"r.example\"\ninsecure = true\n"
	    "[[registry.mirror]]\nlocation = \"m1.example\"\n"
	    "[[registry]]\nlocation = \"keep.example\"\nblocked = true\n"
	    "[aliases]\n\"one\" = \"a.example/one\"\n\"two\" = \"a.example/two\"\n");
	/* lexical order: "10-..." before "2-..." */
	put(fx, "etc/registries.conf.d/2-second.conf",
	    "unqualified-search-registries = [\"second.example\"]\n"
	    "[aliases]\n\"two\" = \"\"\n");
	put(fx, "etc/registries.conf.d/10-first.conf",
	    "unqualified-search-registries = [\"first.example\"]\n"
	    "[[registry]]\nprefix = \"r.example\"\nlocation = \"other.example\"\n"
	    "[aliases]\n\"one\" = \"first.example/one\"\n\"three\" = \"first.example/three\"\n");
	put(fx, "etc/registries.conf.d/ignored.txt", "this = is not TOML [\n");
	put(fx, "etc/registries.conf.d/dir.conf/x.conf", "unqualified-search-registries = [\"dir.example\"]\n");
	put(fx, "home/registries.conf.d/00-user.conf", "short-name-mode = \"disabled\"\n");
	c = load_ok(&fx->paths);
	/* replaced by the later file that sets it */
	resolve_is(c, "x", "second.example/x");
	/* kept: no later file sets them */
	assert_string_equal(regconf_credential_helpers(c)->v[0], "pass");
	assert_string_equal(regconf_short_name_mode(c), "disabled");
	/* the [[registry]] with the same prefix is replaced whole: no mirror, not insecure */
	sources_is(c, "r.example/app:1", false, "other.example/app:1|other.example||");
	assert_false(regconf_insecure(c, "r.example"));
	/* the others stay */
	assert_true(regconf_blocked(c, "keep.example/x"));
	/* aliases merged; "" erases */
	alias_is(fx, c, "one", "first.example/one", "etc/registries.conf.d/10-first.conf");
	resolve_is(c, "two", "second.example/two");
	alias_is(fx, c, "three", "first.example/three", "etc/registries.conf.d/10-first.conf");
	regconf_free(c);
}

/* ---- matching, rewriting, mirrors ---- */

static void test_prefix_match(void **state)
{
	struct fix *fx = *state;
	struct regconf *c =
		content_ok(fx, "[[registry]]\nlocation = \"example.com\"\ninsecure = true\n"
			       "[[registry]]\nprefix = \"example.com/foo\"\nlocation = \"foo.local/x\"\n"
			       "[[registry]]\nprefix = \"example.com/foo/bar\"\nlocation = \"bar.local\"\n"
			       "[[registry]]\nprefix = \"*.wild.com\"\ninsecure = true\n"
			       "[[registry]]\nprefix = \"*.deep.wild.com\"\nlocation = \"deep.local\"\n"
			       "[[registry]]\nprefix = \"tagged.com/app:v1\"\nlocation = \"v1.local/app\"\n");

	/* the longest matching prefix wins */
	sources_is(c, "example.com/other", false, "example.com/other|example.com|i|");
	sources_is(c, "example.com/foo/app:1", false, "foo.local/x/app:1|foo.local/x||");
	sources_is(c, "example.com/foo/bar/baz", false, "bar.local/baz|bar.local||");
	sources_is(c, "example.com/foo/bar", false, "bar.local|bar.local||");
	/* a path prefix matches only at '/', ':' or '@' */
	sources_is(c, "example.com/foobar", false, "example.com/foobar|example.com|i|");
	sources_is(c, "example.com/foo:tag", false, "foo.local/x:tag|foo.local/x||");
	sources_is(c, "example.com/foo@sha256:0123456789abcdef0123456789abcdef", true,
		   "foo.local/x@sha256:0123456789abcdef0123456789abcdef|foo.local/x||");
	sources_is(c, "example.community/x", false, "example.community/x|example.community||");
	/* a host prefix also matches host:port (podman's rule) */
	sources_is(c, "example.com:5000/x", false, "example.com:5000/x|example.com|i|");
	/* wildcards: any number of subdomains, in the host part only */
	sources_is(c, "a.wild.com/x", false, "a.wild.com/x|a.wild.com|i|");
	sources_is(c, "x.y.wild.com:5000/x", false, "x.y.wild.com:5000/x|x.y.wild.com:5000|i|");
	sources_is(c, "wild.com/x", false, "wild.com/x|wild.com||");
	sources_is(c, "notwild.com/x", false, "notwild.com/x|notwild.com||");
	sources_is(c, "evil.com/a.wild.com", false, "evil.com/a.wild.com|evil.com||");
	sources_is(c, "a.wild.community/x", false, "a.wild.community/x|a.wild.community||");
	sources_is(c, "a.deep.wild.com/img", false, "deep.local/img|deep.local||");
	/* a prefix with a tag */
	sources_is(c, "tagged.com/app:v1", false, "v1.local/app|v1.local/app||");
	sources_is(c, "tagged.com/app:v2", false, "tagged.com/app:v2|tagged.com||");
	sources_is(c, "tagged.com/app:v1.2", false, "tagged.com/app:v1.2|tagged.com||");

	assert_true(regconf_insecure(c, "example.com"));
	assert_true(regconf_insecure(c, "a.wild.com"));
	assert_false(regconf_insecure(c, "foo.local"));
	assert_false(regconf_insecure(c, "wild.com"));

	/* not a fully-qualified name */
	sources_is(c, "/x", false, "error 22: \"/x\" is not a fully-qualified image name (host[:port]/path)");
	sources_is(c, "", false, "error 22: \"\" is not a fully-qualified image name (host[:port]/path)");
	sources_is(c, "bad_host/x", false,
		   "error 22: \"bad_host/x\" is not a fully-qualified image name (host[:port]/path)");
	sources_is(c, "a.com/x y", false, "error 22: image name \"a.com/x y\": whitespace or control character");
	regconf_free(c);
}

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_mirrors(void **state)
{
	struct fix *fx = *state;
	struct regconf *c =
		content_ok(fx, "[[registry]]\n"
			       "prefix = \"example.com/foo\"\n"
			       "location = \"internal.example.net/bar/\"\n"
			       "[[registry.mirror]]\nlocation = \"mirror-0.local/mirror-for-foo\"\n"
			       "[[registry.mirror]]\nlocation = \"mirror-1.local/mirrors/foo\"\ninsecure = true\n"
			       "[[registry.mirror]]\nlocation = \"digest.local\"\npull-from-mirror = \"digest-only\"\n"
			       "[[registry.mirror]]\nlocation = \"tag.local\"\npull-from-mirror = \"tag-only\"\n"
			       "[[registry.mirror]]\nlocation = \"all.local:5000\"\npull-from-mirror = \"all\"\n"
			       "[[registry]]\nlocation = \"registry.com\"\nmirror-by-digest-only = true\n"
			       "mirror = [{location = \"mirror.registry.com\"}]\n");

	sources_is(c, "example.com/foo/image:latest", false,
		   "mirror-0.local/mirror-for-foo/image:latest|mirror-0.local/mirror-for-foo||m;"
		   "mirror-1.local/mirrors/foo/image:latest|mirror-1.local/mirrors/foo|i|m;"
		   "tag.local/image:latest|tag.local||m;"
		   "all.local:5000/image:latest|all.local:5000||m;"
		   "internal.example.net/bar/image:latest|internal.example.net/bar||");
	sources_is(c, "example.com/foo/image@" DIGEST, true,
		   "mirror-0.local/mirror-for-foo/image@" DIGEST "|mirror-0.local/mirror-for-foo||m;"
		   "mirror-1.local/mirrors/foo/image@" DIGEST "|mirror-1.local/mirrors/foo|i|m;"
		   "digest.local/image@" DIGEST "|digest.local||m;"
		   "all.local:5000/image@" DIGEST "|all.local:5000||m;"
		   "internal.example.net/bar/image@" DIGEST "|internal.example.net/bar||");
	/* mirror-by-digest-only: the mirrors only for digests */
	sources_is(c, "registry.com/x:1", false, "registry.com/x:1|registry.com||");
	sources_is(c, "registry.com/x@" DIGEST, true,
		   "mirror.registry.com/x@" DIGEST "|mirror.registry.com||m;registry.com/x@" DIGEST "|registry.com||");
	regconf_free(c);
}

static void test_blocked_push(void **state)
{
	struct fix *fx = *state;
	struct regconf *c =
		content_ok(fx, "[[registry]]\nlocation = \"blocked.example\"\nblocked = true\n"
			       "[[registry]]\nprefix = \"ok.example/bad\"\nlocation = \"ok.example/bad\"\n"
			       "blocked = true\n"
			       "[[registry]]\nprefix = \"example.com/foo\"\nlocation = \"elsewhere.local\"\n"
			       "insecure = true\n"
			       "[[registry.mirror]]\nlocation = \"mirror.local\"\n");
	struct reg_endpoint ep = {(char *)"untouched", NULL, false, false};
	struct skiff_err *err = NULL;
	cleanup_free char *blocked = xasprintf("error 13: registry blocked.example is blocked in %s (line 1)", fx->sys);
	cleanup_free char *bad = xasprintf("error 13: registry ok.example/bad is blocked in %s (line 4)", fx->sys);

	sources_is(c, "blocked.example/x:1", false, blocked);
	sources_is(c, "blocked.example:443/x:1", false, blocked);
	sources_is(c, "ok.example/bad/x", false, bad);
	sources_is(c, "ok.example/good/x", false, "ok.example/good/x|ok.example||");
	assert_true(regconf_blocked(c, "blocked.example"));
	assert_true(regconf_blocked(c, "ok.example/bad:tag"));
	assert_false(regconf_blocked(c, "ok.example"));

	/* push: the name itself (no rewrite, no mirror), insecure from the registry, blocked refused */
	assert_int_equal(regconf_push_target(c, "example.com/foo/app:1", &ep, &err), 0);
	assert_string_equal(ep.name, "example.com/foo/app:1");
	assert_string_equal(ep.location, "example.com");
	assert_true(ep.insecure);
	assert_false(ep.mirror);
	reg_endpoint_release(&ep);
	assert_null(ep.name);
	reg_endpoint_release(&ep);
	reg_endpoint_release(NULL);
	assert_int_equal(regconf_push_target(c, "other.example/app", &ep, &err), 0);
	assert_false(ep.insecure);
	reg_endpoint_release(&ep);

	ep.name = (char *)"untouched";
	assert_int_equal(regconf_push_target(c, "blocked.example/x", &ep, &err), -1);
	assert_int_equal(err->status, EACCES);
	assert_non_null(strstr(err->msg, "registry blocked.example is blocked in"));
	err_clear(&err);
	assert_string_equal(ep.name, "untouched");
	assert_int_equal(regconf_push_target(c, "no host", &ep, &err), -1);
	assert_int_equal(err->status, EINVAL);
	err_clear(&err);
	regconf_free(c);
}

/* ---- short names and aliases ---- */

static void short_err(const struct regconf *c, const char *name, const char *want)
{
	struct regconf_resolution r = {.alias = (char *)"untouched"};
	struct skiff_err *err = NULL;

	assert_int_equal(regconf_resolve_short(c, name, &r, &err), -1);
	assert_int_equal(err->status, EINVAL);
	if (!strstr(err->msg, want)) {
		print_error("want '%s' in '%s'\n", want, err->msg);
		fail();
	}
	err_free(err);
	assert_string_equal(r.alias, "untouched");
}

static void test_short_names(void **state)
{
	struct fix *fx = *state;
	struct regconf *c = content_ok(fx, "unqualified-search-registries = [\"quay.io\", \"docker.io/\", "
					   "\"localhost:5000\"]\n"
					   "short-name-mode = \"enforcing\"\n");
	struct regconf_resolution r;
	struct skiff_err *err = NULL;

	resolve_is(c, "busybox", "quay.io/busybox,docker.io/library/busybox,localhost:5000/busybox");
	resolve_is(c, "org/app", "quay.io/org/app,docker.io/org/app,localhost:5000/org/app");
	assert_int_equal(regconf_resolve_short(c, "busybox", &r, &err), 0);
	assert_null(r.alias);
	assert_string_equal(r.search_origin, fx->sys);
	assert_int_equal(r.mode, REGCONF_SHORT_ENFORCING);
	regconf_resolution_release(&r);
	regconf_resolution_release(&r);
	assert_string_equal(regconf_short_name_mode(c), "enforcing");
	assert_int_equal(regconf_search_registries(c)->len, 3);
	assert_string_equal(regconf_search_registries(c)->v[1], "docker.io");

	short_err(c, "quay.io/busybox", "invalid short name \"quay.io/busybox\": must not contain a registry");
	short_err(c, "localhost/busybox", "must not contain a registry");
	short_err(c, "busybox:latest", "must not contain a tag");
	short_err(c, "busybox@" DIGEST, "must not contain a digest");
	short_err(c, "BusyBox", "invalid short name \"BusyBox\"");
	short_err(c, "", "invalid short name \"\"");
	short_err(c, "a//b", "invalid short name");
	short_err(c, "a/", "invalid short name");
	short_err(c, "-a", "invalid short name");
	{
		/* a huge name: refused, the message stays short */
		char *big = xmalloc(100001);
		struct regconf_resolution r;
		struct skiff_err *err = NULL;
		memset(big, 'a', 100000);
		big[100000] = '\0';
		assert_int_equal(regconf_resolve_short(c, big, &r, &err), -1);
		assert_int_equal(err->status, EINVAL);
		assert_true(strlen(err->msg) < 400);
		err_free(err);
		free(big);
	}
	regconf_free(c);

	/* set to nothing: no candidates at all */
	c = content_ok(fx, "unqualified-search-registries = []\nshort-name-mode = \"disabled\"\n");
	resolve_is(c, "busybox", "");
	assert_string_equal(regconf_short_name_mode(c), "disabled");
	assert_int_equal(regconf_search_registries(c)->len, 0);
	regconf_free(c);
	c = content_ok(fx, "short-name-mode = \"\"\n");
	assert_string_equal(regconf_short_name_mode(c), "permissive");
	regconf_free(c);
}

static void test_aliases(void **state)
{
	struct fix *fx = *state;
	struct regconf *c;

	put(fx, "etc/registries.conf",
	    "unqualified-search-registries = [\"quay.io\"]\n"
	    "[aliases]\n"
	    "\"alpine\" = \"docker.io/alpine\"\n"
	    "\"hub\" = \"index.docker.io/org/hub\"\n"
	    "\"org/app\" = \"registry.example:5000/org/app\"\n"
	    "\"local\" = \"localhost/local\"\n"
	    "\"cached\" = \"config.example/cached\"\n"
	    "\"hidden\" = \"config.example/hidden\"\n");
	put(fx, "cache/containers/short-name-aliases.conf",
	    "[aliases]\n"
	    "  \"cached\" = \"cache.example/cached\"\n"
	    "  \"hidden\" = \"\"\n"
	    "  \"onlycache\" = \"cache.example/only\"\n");
	c = load_ok(&fx->paths);
	alias_is(fx, c, "alpine", "docker.io/library/alpine", "etc/registries.conf");
	alias_is(fx, c, "hub", "docker.io/org/hub", "etc/registries.conf");
	alias_is(fx, c, "org/app", "registry.example:5000/org/app", "etc/registries.conf");
	alias_is(fx, c, "local", "localhost/local", "etc/registries.conf");
	/* the cache has precedence; "" there hides the configured alias */
	alias_is(fx, c, "cached", "cache.example/cached", "cache/containers/short-name-aliases.conf");
	alias_is(fx, c, "onlycache", "cache.example/only", "cache/containers/short-name-aliases.conf");
	resolve_is(c, "hidden", "quay.io/hidden");
	resolve_is(c, "other", "quay.io/other");
	regconf_free(c);

	/* bad aliases: the file, the line and the offending name */
	content_err(fx, "[aliases]\n\"quay.io/x\" = \"quay.io/x\"\n", EINVAL, fx->sys, "line 2",
		    "invalid short name \"quay.io/x\": must not contain a registry", NULL);
	content_err(fx, "[aliases]\n\"x:1\" = \"quay.io/x\"\n", EINVAL, fx->sys, "must not contain a tag", NULL);
	content_err(fx, "[aliases]\n\n\"x\" = \"org/x\"\n", EINVAL, fx->sys, "line 3",
		    "invalid alias value \"org/x\": must contain a registry", NULL);
	content_err(fx, "[aliases]\n\"x\" = \"quay.io/x:latest\"\n", EINVAL, fx->sys, "must not contain a tag", NULL);
	content_err(fx, "[aliases]\n\"x\" = \"quay.io/x@" DIGEST "\"\n", EINVAL, "must not contain a digest", NULL);
	content_err(fx, "[aliases]\n\"x\" = 5\n", EINVAL, fx->sys, "line 2", "\"x\": expected string, got integer",
		    NULL);
	content_err(fx, "aliases = [\"x\"]\n", EINVAL, fx->sys, "aliases: expected table, got array", NULL);

	/* a bad cache is an error naming it */
	put(fx, "etc/registries.conf", "");
	put(fx, "cache/containers/short-name-aliases.conf", "[aliases]\n\"x\" = \"nohost/x\"\n");
	load_err(&fx->paths, EINVAL, fx->cache, "must contain a registry", NULL);
	put(fx, "cache/containers/short-name-aliases.conf", "[aliases\n");
	load_err(&fx->paths, EINVAL, fx->cache, "line 1", NULL);
}

/* ---- hostile and malformed input ---- */

static void test_bad_files(void **state)
{
	struct fix *fx = *state;
	struct regconf *c;

	/* malformed TOML: the file and the line */
	content_err(fx, "\n\n[[registry]\n", EINVAL, fx->sys, "line 3", NULL);
	content_err(fx, "unqualified-search-registries = [\"a\"\n", EINVAL, fx->sys, "line 1", "unterminated array",
		    NULL);
	content_err(fx, "a = \"\xff\"\n", EINVAL, fx->sys, "invalid UTF-8", NULL);
	/* wrong types: the key, the file, the line */
	content_err(fx, "[[registry]]\nlocation = \"x.example\"\ninsecure = \"yes\"\n", EINVAL, fx->sys, "line 3",
		    "insecure: expected boolean, got string", NULL);
	content_err(fx, "[[registry]]\nlocation = \"x.example\"\n[[registry.mirror]]\nlocation = 7\n", EINVAL, fx->sys,
		    "line 4", "location: expected string, got integer", NULL);
	content_err(fx, "unqualified-search-registries = \"quay.io\"\n", EINVAL, fx->sys,
		    "unqualified-search-registries: expected array, got string", NULL);
	content_err(fx, "unqualified-search-registries = [1]\n", EINVAL, fx->sys, "item 1: expected string", NULL);
	content_err(fx, "credential-helpers = [true]\n", EINVAL, fx->sys, "credential-helpers", NULL);
	content_err(fx, "short-name-mode = 1\n", EINVAL, fx->sys, "short-name-mode: expected string", NULL);
	content_err(fx, "[registry]\nlocation = \"x.example\"\n", EINVAL, fx->sys, "line 1",
		    "registry: expected an array of tables ([[registry]]), got table", NULL);
	content_err(fx, "registry = [1]\n", EINVAL, fx->sys, "registry: item 1: expected a table, got integer", NULL);
	content_err(fx, "[[registry]]\nlocation = \"x.example\"\nmirror = \"m.example\"\n", EINVAL, fx->sys,
		    "mirror: expected an array of tables", NULL);
	/* bad values */
	content_err(fx, "short-name-mode = \"strict\"\n", EINVAL, fx->sys, "short-name-mode \"strict\"", NULL);
	content_err(fx, "unqualified-search-registries = [\"https://quay.io\"]\n", EINVAL, fx->sys,
		    "invalid entry \"https://quay.io\"", NULL);
	content_err(fx, "unqualified-search-registries = [\"quay.io/org\"]\n", EINVAL, "invalid entry \"quay.io/org\"",
		    NULL);
	content_err(fx, "unqualified-search-registries = [\"\"]\n", EINVAL, "invalid entry \"\"", NULL);
	/* empty prefix: the location is the prefix; neither is an error */
	c = content_ok(fx, "[[registry]]\nprefix = \"\"\nlocation = \"x.example\"\ninsecure = true\n");
	assert_true(regconf_insecure(c, "x.example"));
	regconf_free(c);
	content_err(fx, "[[registry]]\ninsecure = true\n", EINVAL, fx->sys, "line 1",
		    "both location and prefix are unset", NULL);
	content_err(fx, "[[registry]]\nprefix = \"\"\nlocation = \"\"\n", EINVAL, "both location and prefix are unset",
		    NULL);
	content_err(fx, "[[registry]]\nprefix = \"/\"\nlocation = \"x.example\"\n", EINVAL, "prefix \"/\" is empty",
		    NULL);
	content_err(fx, "[[registry]]\nprefix = \"x.example\"\n", EINVAL, "location is unset", NULL);
	/* invalid locations */
	content_err(fx, "[[registry]]\nlocation = \"https://x.example\"\n", EINVAL, fx->sys, "line 1",
		    "location \"https://x.example\": URI schemes are not supported", NULL);
	content_err(fx, "[[registry]]\nlocation = \"x.example/a b\"\n", EINVAL, "whitespace or control character",
		    NULL);
	content_err(fx, "[[registry]]\nlocation = \"bad_host/x\"\n", EINVAL,
		    "location \"bad_host/x\": not a valid host", NULL);
	content_err(fx, "[[registry]]\nlocation = \"x.example:port/x\"\n", EINVAL, "not a valid host", NULL);
	content_err(fx, "[[registry]]\nlocation = \"x.example/UPPER\"\n", EINVAL, "invalid repository path", NULL);
	content_err(fx, "[[registry]]\nlocation = \"x.example//x\"\n", EINVAL, "invalid repository path", NULL);
	content_err(fx, "[[registry]]\nlocation = \"x.example\"\n[[registry.mirror]]\ninsecure = true\n", EINVAL,
		    fx->sys, "line 3", "mirror of \"x.example\": location is unset", NULL);
	content_err(fx, "[[registry]]\nlocation = \"x.example\"\n[[registry.mirror]]\nlocation = \"http://m\"\n",
		    EINVAL, "mirror location \"http://m\": URI schemes", NULL);
	/* wildcards */
	content_err(fx, "[[registry]]\nprefix = \"*.example.com/foo\"\n", EINVAL,
		    "wildcard prefix \"*.example.com/foo\" must have the form *.example.com", NULL);
	content_err(fx, "[[registry]]\nprefix = \"*.example.com:5000\"\n", EINVAL, "must have the form", NULL);
	content_err(fx, "[[registry]]\nprefix = \"example.*.com\"\nlocation = \"x.example\"\n", EINVAL,
		    "'*' is allowed only as a leading", NULL);
	/* mirror usage */
	content_err(fx, "[[registry]]\nlocation = \"x.example\"\npull-from-mirror = \"all\"\n", EINVAL,
		    "pull-from-mirror must not be set for the non-mirror registry \"x.example\"", NULL);
	content_err(fx,
		    "[[registry]]\nlocation = \"x.example\"\n[[registry.mirror]]\nlocation = \"m.example\"\n"
		    "pull-from-mirror = \"sometimes\"\n",
		    EINVAL, fx->sys, "pull-from-mirror \"sometimes\" of mirror \"m.example\"", NULL);
	content_err(fx,
		    "[[registry]]\nlocation = \"x.example\"\nmirror-by-digest-only = true\n[[registry.mirror]]\n"
		    "location = \"m.example\"\npull-from-mirror = \"digest-only\"\n",
		    EINVAL, "pull-from-mirror cannot be set when registry \"x.example\" sets mirror-by-digest-only",
		    NULL);
	/* the same registry twice with conflicting settings */
	content_err(fx,
		    "[[registry]]\nprefix = \"a.example\"\nlocation = \"x.example\"\ninsecure = true\n"
		    "[[registry]]\nprefix = \"b.example\"\nlocation = \"x.example\"\n",
		    EINVAL, fx->sys, "registry \"x.example\" is defined multiple times with conflicting 'insecure'",
		    NULL);
	/* the same prefix twice in one file: the first wins (podman) */
	c = content_ok(fx, "[[registry]]\nprefix = \"a.example\"\nlocation = \"first.example\"\n"
			   "[[registry]]\nprefix = \"a.example\"\nlocation = \"second.example\"\n");
	sources_is(c, "a.example/x", false, "first.example/x|first.example||");
	regconf_free(c);
	/* unknown keys and tables are ignored */
	c = content_ok(fx, "future-key = 1\nadditional-layer-store-auth-helper = \"h\"\n"
			   "[[registry]]\nlocation = \"x.example\"\nweird = true\n"
			   "[[registry.mirror]]\nlocation = \"m.example\"\nalso = [1, 2]\n"
			   "[something]\na = { b = 1 }\n");
	sources_is(c, "x.example/y", false, "m.example/y|m.example||m;x.example/y|x.example||");
	regconf_free(c);
	/* a directory, or an unreadable name, where the file should be */
	assert_int_equal(unlink(fx->sys), 0);
	assert_int_equal(mkdir(fx->sys, 0700), 0);
	load_err(&fx->paths, EISDIR, fx->sys, NULL);
	assert_int_equal(rmdir(fx->sys), 0);
	/* a bad drop-in names the drop-in */
	put(fx, "etc/registries.conf", "");
	put(fx, "home/registries.conf.d/bad.conf", "x = [\n");
	cleanup_free char *bad = path_in(fx, "home/registries.conf.d/bad.conf");
	load_err(&fx->paths, EINVAL, bad, "line 1", NULL);
}

static void test_v1(void **state)
{
	struct fix *fx = *state;
	struct regconf *c =
		content_ok(fx, "[registries.search]\nregistries = ['registry1.com', 'registry2.com/']\n"
			       "[registries.insecure]\nregistries = ['registry3.com']\n"
			       "[registries.block]\nregistries = ['registry.untrusted.com', 'registry.unsafe.com']\n");

	resolve_is(c, "x", "registry1.com/x,registry2.com/x");
	assert_true(regconf_insecure(c, "registry3.com"));
	assert_false(regconf_insecure(c, "registry1.com"));
	assert_true(regconf_blocked(c, "registry.unsafe.com/x"));
	sources_is(c, "registry3.com/x", false, "registry3.com/x|registry3.com|i|");
	regconf_free(c);

	/* a registry both blocked and insecure is one entry */
	c = content_ok(fx,
		       "[registries.insecure]\nregistries = ['r.com']\n[registries.block]\nregistries = ['r.com']\n");
	assert_true(regconf_insecure(c, "r.com"));
	assert_true(regconf_blocked(c, "r.com"));
	regconf_free(c);

	content_err(fx, "unqualified-search-registries = ['a.com']\n[registries.search]\nregistries = ['b.com']\n",
		    EINVAL, fx->sys, "mixing the v1 format", NULL);
	content_err(fx, "[registries.block]\nregistries = ['']\n", EINVAL, fx->sys, "empty registry", NULL);
	content_err(fx, "[registries.block]\nregistries = ['http://x.com']\n", EINVAL, "URI schemes", NULL);
	content_err(fx, "[registries.block]\nregistries = 'x.com'\n", EINVAL, fx->sys,
		    "registries: expected array, got string", NULL);
	content_err(fx, "registries = 1\n", EINVAL, fx->sys, "registries: expected table", NULL);
	content_err(fx, "[registries]\nsearch = 1\n", EINVAL, fx->sys, "search: expected table", NULL);

	/* a drop-in must be v2 */
	put(fx, "etc/registries.conf", "");
	cleanup_free char *din = write_file(fx, "etc/registries.conf.d/v1.conf",
					    "[registries.search]\nregistries = ['registry1.com']\n");
	load_err(&fx->paths, EINVAL, din, "drop-in files must use the v2 format", NULL);
}

static void test_huge(void **state)
{
	struct fix *fx = *state;
	struct strbuf sb = STRBUF_INIT;
	struct regconf *c;
	struct timespec t0, t1;

	/* over the size limit: refused, naming the file */
	strbuf_addstr(&sb, "unqualified-search-registries = [\"quay.io\"]\n");
	while (sb.len <= (17u << 20))
		strbuf_addstr(&sb, "# padding padding padding padding padding padding padding padding padding\n");
	content_err(fx, sb.buf, EFBIG, fx->sys, "larger than", NULL);

	/* big but valid: many registries and aliases, merged with a drop-in */
	strbuf_reset(&sb);
	for (int i = 0; i < 5000; i++)
		strbuf_addf(&sb, "[[registry]]\nprefix = \"r%d.example/p\"\nlocation = \"l%d.example\"\n%s", i, i,
			    i % 2 ? "insecure = true\n" : "");
	strbuf_addstr(&sb, "[aliases]\n");
	for (int i = 0; i < 5000; i++)
		strbuf_addf(&sb, "\"a%d\" = \"r%d.example/a\"\n", i, i);
	put(fx, "etc/registries.conf.d/big.conf", sb.buf);
	strbuf_reset(&sb);
	for (int i = 0; i < 5000; i += 2)
		strbuf_addf(&sb, "[[registry]]\nprefix = \"r%d.example/p\"\nlocation = \"new%d.example\"\n", i, i);
	put(fx, "home/registries.conf.d/big2.conf", sb.buf);
	strbuf_release(&sb);
	put(fx, "etc/registries.conf", "");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	c = load_ok(&fx->paths);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 10);
	sources_is(c, "r4321.example/p/x", false, "l4321.example/x|l4321.example|i|");
	sources_is(c, "r4320.example/p/x", false, "new4320.example/x|new4320.example||");
	alias_is(fx, c, "a4999", "r4999.example/a", "etc/registries.conf.d/big.conf");
	regconf_free(c);
}

/* ---- the alias cache ---- */

static void record_err(const char *file, const char *name, const char *value, int status, const char *want)
{
	struct skiff_err *err = NULL;

	assert_int_equal(regconf_record_alias(file, name, value, &err), -1);
	assert_non_null(err);
	if (err->status != status || !strstr(err->msg, want)) {
		print_error("want %d '%s', got %d '%s'\n", status, want, err->status, err->msg);
		fail();
	}
	err_free(err);
}

static void test_record_alias(void **state)
{
	struct fix *fx = *state;
	struct skiff_err *err = NULL;
	struct regconf *c;
	struct stat st;

	put(fx, "etc/registries.conf", "[aliases]\n\"app\" = \"config.example/app\"\n");
	/* the cache directory does not exist yet */
	assert_int_equal(regconf_record_alias(fx->cache, "busybox", "docker.io/library/busybox", &err), 0);
	assert_int_equal(stat(fx->cache, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	{
		cleanup_free char *dir = path_in(fx, "cache/containers");
		assert_int_equal(stat(dir, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0700);
	}
	assert_int_equal(regconf_record_alias(fx->cache, "app", "cache.example/app", &err), 0);
	assert_int_equal(regconf_record_alias(fx->cache, "org/tool", "localhost:5000/org/tool", &err), 0);
	/* replacing a name keeps the others */
	assert_int_equal(regconf_record_alias(fx->cache, "busybox", "quay.io/busybox", &err), 0);
	{
		cleanup_free char *text = read_whole(fx->cache);
		assert_string_equal(text, "[aliases]\n"
					  "  \"app\" = \"cache.example/app\"\n"
					  "  \"busybox\" = \"quay.io/busybox\"\n"
					  "  \"org/tool\" = \"localhost:5000/org/tool\"\n");
	}
	c = load_ok(&fx->paths);
	alias_is(fx, c, "busybox", "quay.io/busybox", "cache/containers/short-name-aliases.conf");
	alias_is(fx, c, "app", "cache.example/app", "cache/containers/short-name-aliases.conf");
	alias_is(fx, c, "org/tool", "localhost:5000/org/tool", "cache/containers/short-name-aliases.conf");
	regconf_free(c);

	/* other entries written by hand (or by podman) are kept, "" included */
	put(fx, "cache/containers/short-name-aliases.conf",
	    "# by hand\n[aliases]\n\"keep\" = \"k.example/keep\"\n\"erased\" = \"\"\n[other]\nx = 1\n");
	assert_int_equal(regconf_record_alias(fx->cache, "new", "n.example/new", &err), 0);
	{
		cleanup_free char *text = read_whole(fx->cache);
		assert_string_equal(text, "[aliases]\n"
					  "  \"erased\" = \"\"\n"
					  "  \"keep\" = \"k.example/keep\"\n"
					  "  \"new\" = \"n.example/new\"\n");
	}

	/* bad input: refused, the file unchanged */
	record_err(fx->cache, "quay.io/x", "quay.io/x", EINVAL, "invalid short name \"quay.io/x\"");
	record_err(fx->cache, "x:1", "quay.io/x", EINVAL, "must not contain a tag");
	record_err(fx->cache, "x", "x", EINVAL, "invalid alias value \"x\": must contain a registry");
	record_err(fx->cache, "x", "quay.io/x:1", EINVAL, "must not contain a tag");
	record_err(fx->cache, "x\"", "quay.io/x", EINVAL, "invalid short name");
	record_err(fx->cache, "x", "quay.io/x\n[evil]", EINVAL, "invalid alias value");
	{
		cleanup_free char *text = read_whole(fx->cache);
		assert_non_null(strstr(text, "\"new\" = \"n.example/new\""));
		assert_null(strstr(text, "\"x\""));
	}
	/* a damaged cache is reported, never overwritten */
	put(fx, "cache/containers/short-name-aliases.conf", "[aliases]\n\"a\" = \n");
	record_err(fx->cache, "x", "quay.io/x", EINVAL, "line 2");
	put(fx, "cache/containers/short-name-aliases.conf", "[aliases]\n\"a\" = 1\n");
	record_err(fx->cache, "x", "quay.io/x", EINVAL, "expected string, got integer");
	put(fx, "cache/containers/short-name-aliases.conf", "[aliases]\n\"Bad\" = \"quay.io/x\"\n");
	record_err(fx->cache, "x", "quay.io/x", EINVAL, "invalid short name \"Bad\"");
	{
		cleanup_free char *text = read_whole(fx->cache);
		assert_string_equal(text, "[aliases]\n\"Bad\" = \"quay.io/x\"\n");
	}
	/* the parent is a file */
	{
		cleanup_free char *under = path_in(fx, "etc/registries.conf/aliases.conf");
		record_err(under, "x", "quay.io/x", ENOTDIR, "registries.conf");
	}
}

/* ---- the real places ---- */

static void test_default_paths(void **state)
{
	struct fix *fx = *state;
	struct regconf_paths p;
	struct strv buf = STRV_INIT;
	struct skiff_err *err = NULL;
	struct regconf *c = NULL;
	cleanup_free char *home = path_in(fx, "home");
	cleanup_free char *xdg = path_in(fx, "xdgcache");

	setenv("HOME", home, 1);
	setenv("XDG_CACHE_HOME", xdg, 1);
	setenv("XDG_CONFIG_HOME", "/nonexistent", 1); /* podman does not use it for registries.conf */
	setenv("CONTAINERS_REGISTRIES_CONF", fx->env, 1);
	assert_int_equal(regconf_default_paths(true, &p, &buf, &err), 0);
	assert_string_equal(p.env_file, fx->env);
	assert_string_equal(p.system_file, "/etc/containers/registries.conf");
	assert_string_equal(p.system_dropin, "/etc/containers/registries.conf.d");
	{
		cleanup_free char *uf = xasprintf("%s/.config/containers/registries.conf", home);
		cleanup_free char *ud = xasprintf("%s/.config/containers/registries.conf.d", home);
		cleanup_free char *ac = xasprintf("%s/containers/short-name-aliases.conf", xdg);
		assert_string_equal(p.user_file, uf);
		assert_string_equal(p.user_dropin, ud);
		assert_string_equal(p.alias_cache, ac);
	}
	unsetenv("XDG_CACHE_HOME");
	assert_int_equal(regconf_default_paths(true, &p, &buf, &err), 0);
	{
		cleanup_free char *ac = xasprintf("%s/.cache/containers/short-name-aliases.conf", home);
		assert_string_equal(p.alias_cache, ac);
	}
	unsetenv("CONTAINERS_REGISTRIES_CONF");
	assert_int_equal(regconf_default_paths(false, &p, &buf, &err), 0);
	assert_null(p.env_file);
	assert_string_equal(p.alias_cache, "/var/cache/containers/short-name-aliases.conf");
	strv_release(&buf);

	/* regconf_load_default() reads $CONTAINERS_REGISTRIES_CONF */
	put(fx, "env.conf", "unqualified-search-registries = [\"env.example\"]\nshort-name-mode = \"disabled\"\n");
	setenv("CONTAINERS_REGISTRIES_CONF", fx->env, 1);
	setenv("XDG_CACHE_HOME", xdg, 1);
	assert_int_equal(regconf_load_default(true, &c, &err), 0);
	assert_string_equal(regconf_search_registries(c)->v[0], "env.example");
	assert_string_equal(regconf_files(c)->v[0], fx->env);
	regconf_free(c);
	c = NULL;
	assert_int_equal(unlink(fx->env), 0);
	assert_int_equal(regconf_load_default(true, &c, &err), -1);
	assert_int_equal(err->status, ENOENT);
	assert_non_null(strstr(err->msg, fx->env));
	err_clear(&err);
	assert_null(c);
	unsetenv("CONTAINERS_REGISTRIES_CONF");
	unsetenv("XDG_CACHE_HOME");
	unsetenv("XDG_CONFIG_HOME");
}

/* The host's own drop-ins (podman's shortnames.conf) must load, when present. */
static void test_host_shortnames(void **state)
{
	const char *dir = "/etc/containers/registries.conf.d";
	struct regconf_paths p = {.system_dropin = dir};
	struct regconf *c;
	struct stat st;

	if (stat("/etc/containers/registries.conf.d/shortnames.conf", &st) != 0)
		skip();
	c = load_ok(&p);
	{
		cleanup_free char *got = resolve(c, "fedora");
		assert_true(strncmp(got, "alias:registry.fedoraproject.org/fedora@", 40) == 0);
	}
	regconf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropin_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mirrors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocked_push, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aliases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_alias, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_shortnames, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
