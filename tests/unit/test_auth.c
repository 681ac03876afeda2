#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/config/auth.h"
#include "pkg/json/json.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

struct fix {
	char dir[256];
	struct auth_paths p; /* primary, xdg_config, docker, dockercfg under dir (not created) */
	char *old_path;
};

static char *path_in(struct fix *fx, const char *name)
{
	return xasprintf("%s/%s", fx->dir, name);
}

static void put(const char *path, const char *content, mode_t mode)
{
	struct skiff_err *err = NULL;
	cleanup_free char *dir = xstrdup(path);
	*strrchr(dir, '/') = 0;
	assert_int_equal(mkdir_p_at(AT_FDCWD, dir, 0700, &err), 0);
	assert_int_equal(write_file_atomic(AT_FDCWD, path, content, strlen(content), mode, &err), 0);
}

static char *slurp(const char *path)
{
	struct skiff_err *err = NULL;
	char *buf = NULL;
	assert_int_equal(read_file_at(AT_FDCWD, path, 1 << 20, &buf, NULL, &err), 0);
	return buf;
}

static const char *const env_vars[] = {"REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "DOCKER_CONFIG",
				       "HOME"};

static int setup(void **state)
{
	struct fix *fx = xzalloc(sizeof(*fx));
	const char *tmp = getenv("TMPDIR");
	assert_true(snprintf(fx->dir, sizeof(fx->dir), "%s/test_auth.XXXXXX", tmp && *tmp ? tmp : "/tmp") <
		    (int)sizeof(fx->dir));
	assert_non_null(mkdtemp(fx->dir));
	for (size_t i = 0; i < ARRAY_SIZE(env_vars); i++)
		unsetenv(env_vars[i]);
	fx->p.primary = path_in(fx, "run/containers/auth.json");
	fx->p.xdg_config = path_in(fx, "config/containers/auth.json");
	fx->p.docker = path_in(fx, "home/.docker/config.json");
	fx->p.dockercfg = path_in(fx, "home/.dockercfg");
	const char *path = getenv("PATH");
	fx->old_path = xstrdup(path ? path : "/usr/bin:/bin");
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
	chmod(fx->dir, 0700);
	assert_int_equal(nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	auth_paths_release(&fx->p);
	setenv("PATH", fx->old_path, 1);
	free(fx->old_path);
	free(fx);
	return 0;
}

/* auth_get that must find ref: checks user and pass (NULL: not set) and the matched key. */
static void expect(struct fix *fx, const char *ref, const char *user, const char *pass, const char *key,
		   const char *file)
{
	struct skiff_err *err = NULL;
	struct auth_cred c = {0};
	int r = auth_get(&fx->p, ref, &c, &err);
	if (r != 0) {
		print_error("auth_get %s: %d %s\n", ref, r, err ? err->msg : "(none)");
		err_free(err);
		fail();
	}
	if (user)
		assert_string_equal(c.user, user);
	else
		assert_null(c.user);
	if (pass)
		assert_string_equal(c.pass, pass);
	else
		assert_null(c.pass);
	if (key)
		assert_string_equal(c.key, key);
	if (file)
		assert_string_equal(c.file, file);
	auth_cred_release(&c);
}

static void expect_none(struct fix *fx, const char *ref)
{
	struct skiff_err *err = NULL;
	struct auth_cred c = {0};
	int r = auth_get(&fx->p, ref, &c, &err);
	if (r != 1) {
		print_error("auth_get %s: %d %s\n", ref, r, err ? err->msg : "(found)");
		err_free(err);
		auth_cred_release(&c);
		fail();
	}
	assert_null(c.user);
}

/* auth_get fails with an error whose message has all of the given parts. */
static void expect_error(struct fix *fx, const char *ref, const char *part1, const char *part2)
{
	struct skiff_err *err = NULL;
	struct auth_cred c = {0};
	assert_int_equal(auth_get(&fx->p, ref, &c, &err), -1);
	assert_non_null(err);
	assert_null(c.user);
	assert_null(strchr(err->msg, '\n'));
	if (!strstr(err->msg, part1) || (part2 && !strstr(err->msg, part2))) {
		print_error("message \"%s\" lacks \"%s\" / \"%s\"\n", err->msg, part1, part2 ? part2 : "");
		err_free(err);
		fail();
	}
	err_free(err);
}

/* ---------------- tests ---------------- */

static void test_base64(void **state)
{
	struct {
		const char *plain, *b64;
	} cases[] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"user:pass", "dXNlcjpwYXNz"}};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct skiff_err *err = NULL;
		cleanup_free char *e = auth_base64_encode(cases[i].plain, strlen(cases[i].plain));
		assert_string_equal(e, cases[i].b64);
		cleanup_free char *d = NULL;
		size_t n = 99;
		assert_int_equal(auth_base64_decode(cases[i].b64, &d, &n, &err), 0);
		assert_int_equal(n, strlen(cases[i].plain));
		assert_string_equal(d, cases[i].plain);
	}
	/* unpadded is accepted; garbage, bad length, padding in the middle are not */
	struct skiff_err *err = NULL;
	cleanup_free char *d = NULL;
	assert_int_equal(auth_base64_decode("Zm8", &d, NULL, &err), 0);
	assert_string_equal(d, "fo");
	const char *bad[] = {"!!!!", "Z", "Zm9v=", "Zg=a", "Zm 9v", "Zg==="};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *out = NULL;
		assert_int_equal(auth_base64_decode(bad[i], &out, NULL, &err), -1);
		assert_null(out);
		assert_int_equal(err->status, EINVAL);
		err_clear(&err);
	}
}

static void test_parse_key(void **state)
{
	struct {
		const char *arg, *key, *reg;
	} ok[] = {
		{"quay.io", "quay.io", "quay.io"},
		{"localhost:5000", "localhost:5000", "localhost:5000"},
		{"quay.io/org/repo", "quay.io/org/repo", "quay.io"},
		{"https://quay.io/v2/", "quay.io", "quay.io"},
		{"http://localhost:5000/v1/x", "localhost:5000", "localhost:5000"},
		{"quay.io/", "quay.io", "quay.io"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct skiff_err *err = NULL;
		cleanup_free char *k = NULL;
		cleanup_free char *r = NULL;
		assert_int_equal(auth_parse_key(ok[i].arg, &k, &r, &err), 0);
		assert_string_equal(k, ok[i].key);
		assert_string_equal(r, ok[i].reg);
	}
	const char *bad[] = {"",	 "quay.io/org/repo:tag", "quay.io/r@sha256:00", "a b",
			     "https://", "quay.io//x",		 "quay.io/Org",		"x\ny"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct skiff_err *err = NULL;
		char *k = NULL;
		assert_int_equal(auth_parse_key(bad[i], &k, NULL, &err), -1);
		assert_null(k);
		assert_int_equal(err->status, EINVAL);
		err_free(err);
	}
}

static void test_paths_default(void **state)
{
	struct fix *fx = *state;
	struct auth_paths p;

	setenv("HOME", "/h", 1);
	setenv("XDG_RUNTIME_DIR", "/run/user/7", 1);
	auth_paths_default(&p, NULL);
	assert_string_equal(p.primary, "/run/user/7/containers/auth.json");
	assert_string_equal(p.xdg_config, "/h/.config/containers/auth.json");
	assert_string_equal(p.docker, "/h/.docker/config.json");
	assert_string_equal(p.dockercfg, "/h/.dockercfg");
	auth_paths_release(&p);

	setenv("XDG_CONFIG_HOME", "/cfg", 1);
	unsetenv("XDG_RUNTIME_DIR");
	auth_paths_default(&p, NULL);
	cleanup_free char *run = xasprintf("/run/containers/%u/auth.json", (unsigned)getuid());
	assert_string_equal(p.primary, run);
	assert_string_equal(p.xdg_config, "/cfg/containers/auth.json");
	assert_string_equal(p.docker, "/h/.docker/config.json");
	auth_paths_release(&p);
	assert_null(auth_explicit_file(NULL));
	assert_null(auth_explicit_file(""));

	/* $DOCKER_CONFIG/config.json is podman's default --authfile */
	setenv("DOCKER_CONFIG", "/dc", 1);
	auth_paths_default(&p, NULL);
	assert_string_equal(p.primary, "/dc/config.json");
	assert_null(p.xdg_config);
	assert_null(p.docker);
	auth_paths_release(&p);

	/* an explicit file is the only one, --authfile before $REGISTRY_AUTH_FILE */
	setenv("REGISTRY_AUTH_FILE", "/env.json", 1);
	auth_paths_default(&p, NULL);
	assert_string_equal(p.primary, "/env.json");
	assert_null(p.xdg_config);
	assert_null(p.docker);
	assert_null(p.dockercfg);
	auth_paths_release(&p);
	auth_paths_default(&p, "/flag.json");
	assert_string_equal(p.primary, "/flag.json");
	assert_null(p.docker);
	auth_paths_release(&p);
	cleanup_free char *f = auth_default_file(NULL);
	assert_string_equal(f, "/env.json");

	unsetenv("HOME");
	unsetenv("REGISTRY_AUTH_FILE");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("DOCKER_CONFIG");
	auth_paths_default(&p, NULL);
	assert_null(p.xdg_config);
	assert_null(p.docker);
	assert_null(p.dockercfg);
	auth_paths_release(&p);
	(void)fx;
}

static void test_lookup_order(void **state)
{
	struct fix *fx = *state;

	expect_none(fx, "quay.io"); /* no file at all */
	put(fx->p.primary,
	    "{\"auths\": {\"quay.io\": {\"auth\": \"dXNlcjpwYXNz\"},"
	    " \"quay.io/org\": {\"auth\": \"b3JnOm9yZ3B3\"},"
	    " \"quay.io/org/repo\": {\"auth\": \"cmVwbzpyZXBvcHc=\"}}}",
	    0600);
	expect(fx, "quay.io", "user", "pass", "quay.io", fx->p.primary);
	expect(fx, "quay.io/other/x", "user", "pass", "quay.io", NULL);
	expect(fx, "quay.io/org", "org", "orgpw", "quay.io/org", NULL);
	expect(fx, "quay.io/org/x", "org", "orgpw", "quay.io/org", NULL);
	expect(fx, "quay.io/org/repo", "repo", "repopw", "quay.io/org/repo", NULL);
	expect(fx, "quay.io/org/repo/deeper", "repo", "repopw", "quay.io/org/repo", NULL);
	expect(fx, "https://quay.io/v2/", "user", "pass", "quay.io", NULL);
	expect_none(fx, "quay.io.evil.com");
	expect_none(fx, "docker.io");

	/* fallbacks in order: the first file with an entry decides */
	put(fx->p.xdg_config, "{\"auths\": {\"docker.io\": {\"auth\": \"eGRnOnB3\"}}}", 0600);
	put(fx->p.docker, "{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"ZG9jazpwdw==\"}}}", 0600);
	put(fx->p.dockercfg, "{\"https://legacy.example/v1/\": {\"auth\": \"bGVnOnB3\", \"email\": \"x@y\"}}", 0600);
	expect(fx, "docker.io", "xdg", "pw", "docker.io", fx->p.xdg_config);
	assert_int_equal(unlink(fx->p.xdg_config), 0);
	expect(fx, "docker.io", "dock", "pw", "https://index.docker.io/v1/", fx->p.docker);
	expect(fx, "index.docker.io/library/busybox", "dock", "pw", NULL, fx->p.docker);
	expect(fx, "registry-1.docker.io", "dock", "pw", NULL, fx->p.docker);
	expect(fx, "legacy.example/ns/repo", "leg", "pw", "https://legacy.example/v1/", fx->p.dockercfg);
	/* a namespace key in URL form is not a registry key */
	put(fx->p.primary, "{\"auths\": {\"https://ns.example/org\": {\"auth\": \"dXNlcjpwYXNz\"}}}", 0600);
	expect_none(fx, "ns.example");
	/* scheme, port and trailing slash forms */
	put(fx->p.primary,
	    "{\"auths\": {\"http://localhost:5000\": {\"auth\": \"dXNlcjpwYXNz\"},"
	    " \"https://r.example/\": {\"auth\": \"b3JnOm9yZ3B3\"}}}",
	    0600);
	expect(fx, "localhost:5000/a/b", "user", "pass", "http://localhost:5000", NULL);
	expect(fx, "r.example", "org", "orgpw", "https://r.example/", NULL);
	expect_none(fx, "localhost");
}

static void test_identity_token_and_extras(void **state)
{
	struct fix *fx = *state;
	struct skiff_err *err = NULL;
	struct auth_cred c = {0};

	put(fx->p.primary,
	    "{\"auths\": {\"tok.example\": {\"identitytoken\": \"T0K\"},"
	    " \"both.example\": {\"auth\": \"dTpwOnc=\", \"identitytoken\": \"T2\"},"
	    " \"empty.example\": {}, \"nul.example\": {\"auth\": null}}, \"HttpHeaders\": {\"X\": \"y\"}}",
	    0600);
	assert_int_equal(auth_get(&fx->p, "tok.example/r", &c, &err), 0);
	assert_null(c.user);
	assert_null(c.pass);
	assert_string_equal(c.identity_token, "T0K");
	auth_cred_release(&c);
	/* the password is everything after the first ':' */
	assert_int_equal(auth_get(&fx->p, "both.example", &c, &err), 0);
	assert_string_equal(c.user, "u");
	assert_string_equal(c.pass, "p:w");
	assert_string_equal(c.identity_token, "T2");
	auth_cred_release(&c);
	expect_none(fx, "empty.example");
	expect_none(fx, "nul.example");
}

static void test_hostile_files(void **state)
{
	struct fix *fx = *state;
	const char *p = fx->p.primary;

	put(p, "not json", 0600);
	expect_error(fx, "quay.io", p, "not valid JSON");
	put(p, "", 0600);
	expect_error(fx, "quay.io", p, "not valid JSON");
	put(p, "[1,2]", 0600);
	expect_error(fx, "quay.io", p, "not a JSON object");
	put(p, "{\"auths\": []}", 0600);
	expect_error(fx, "quay.io", p, "\"auths\" is not an object");
	put(p, "{\"auths\": {\"quay.io\": \"dXNlcjpwYXNz\"}}", 0600);
	expect_error(fx, "quay.io", p, "auths entry quay.io is not an object");
	put(p, "{\"auths\": {\"quay.io\": {\"auth\": 5}}}", 0600);
	expect_error(fx, "quay.io", p, "\"auth\" is not a string");
	put(p, "{\"auths\": {\"quay.io\": {\"auth\": \"!!not-base64\"}}}", 0600);
	expect_error(fx, "quay.io", p, "auths entry quay.io");
	put(p, "{\"auths\": {\"quay.io\": {\"auth\": \"dXNlcg==\"}}}", 0600); /* "user" */
	expect_error(fx, "quay.io", p, "not base64 of user:password");
	put(p, "{\"auths\": {}, \"credHelpers\": [\"x\"]}", 0600);
	expect_error(fx, "quay.io", p, "credHelpers");
	put(p, "{\"auths\": {}, \"credHelpers\": {\"quay.io\": \"../../bin/sh\"}}", 0600);
	expect_error(fx, "quay.io", "invalid credential helper name", p);
	/* a bad entry of another registry does not matter for this one */
	put(p, "{\"auths\": {\"a.example\": {\"auth\": \"!!\"}, \"quay.io\": {\"auth\": \"dXNlcjpwYXNz\"}}}", 0600);
	expect(fx, "quay.io", "user", "pass", NULL, NULL);
	/* keys with odd schemes are not URLs: they only match exactly */
	put(p, "{\"auths\": {\"ftp://quay.io\": {\"auth\": \"dXNlcjpwYXNz\"}, \"https://\": {\"auth\": \"!!\"}}}",
	    0600);
	expect_none(fx, "quay.io");
	/* deep nesting, huge file */
	struct strbuf big = STRBUF_INIT;
	strbuf_addstr(&big, "{\"auths\": {\"quay.io\": {\"auth\": \"");
	strbuf_addchars(&big, 'A', AUTH_FILE_MAX);
	strbuf_addstr(&big, "\"}}}");
	put(p, big.buf, 0600);
	strbuf_release(&big);
	expect_error(fx, "quay.io", p, NULL);
	struct strbuf deep = STRBUF_INIT;
	strbuf_addchars(&deep, '[', 100000);
	put(p, deep.buf, 0600);
	strbuf_release(&deep);
	expect_error(fx, "quay.io", p, NULL);
	/* unreadable: a directory in the file's place (root reads any mode) */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0700), 0);
	expect_error(fx, "quay.io", p, NULL);
	assert_int_equal(rmdir(p), 0);
	if (geteuid() != 0) {
		put(p, "{}", 0000);
		expect_error(fx, "quay.io", p, "Permission denied");
	}
	/* bad refs */
	expect_error(fx, "quay.io/r:tag", "contains tag or digest", NULL);
	expect_error(fx, "", "empty registry", NULL);
}

static void test_set_remove(void **state)
{
	struct fix *fx = *state;
	struct skiff_err *err = NULL;
	cleanup_free char *file = path_in(fx, "new/dir/auth.json");
	cleanup_free char *where = NULL;
	struct stat st;

	assert_int_equal(auth_set(file, "https://quay.io/v2/", "user", "pass", &where, &err), 0);
	assert_string_equal(where, file);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	cleanup_free char *dir = path_in(fx, "new/dir");
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0077, 0);

	free(fx->p.primary);
	fx->p.primary = xstrdup(file);
	expect(fx, "quay.io", "user", "pass", "quay.io", file);

	/* other keys and unknown fields are kept; an entry is replaced */
	put(file,
	    "{\"auths\": {\"a.example\": {\"auth\": \"YTpi\", \"email\": \"k\"}, \"quay.io\": {\"auth\": \"eDp5\"}},"
	    " \"credHelpers\": {}, \"HttpHeaders\": {\"User-Agent\": \"me\"}, \"detachKeys\": \"ctrl-q\"}",
	    0644);
	assert_int_equal(auth_set(file, "quay.io", "new", "pw", NULL, &err), 0);
	assert_int_equal(auth_set(file, "quay.io/org/repo", "r", "rp", NULL, &err), 0);
	expect(fx, "quay.io", "new", "pw", NULL, NULL);
	expect(fx, "quay.io/org/repo", "r", "rp", NULL, NULL);
	expect(fx, "a.example", "a", "b", NULL, NULL);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	cleanup_free char *text = slurp(file);
	cleanup_json struct json *j = NULL;
	assert_int_equal(json_parse(text, strlen(text), &j, &err), 0);
	assert_string_equal(json_string(json_get_path(j, "HttpHeaders", "User-Agent", NULL)), "me");
	assert_string_equal(json_object_get_string(j, "detachKeys"), "ctrl-q");
	assert_string_equal(json_string(json_get_path(j, "auths", "a.example", "email", NULL)), "k");

	/* remove one: the namespace entry stays */
	assert_int_equal(auth_remove(file, "quay.io", &err), 0);
	expect_none(fx, "quay.io");
	expect(fx, "quay.io/org/repo", "r", "rp", NULL, NULL);
	assert_int_equal(auth_remove(file, "quay.io", &err), -1);
	assert_int_equal(err->status, ENOENT);
	assert_string_equal(err->msg, "not logged into quay.io");
	err_clear(&err);
	assert_int_equal(auth_remove(file, "quay.io/org", &err), -1);
	assert_int_equal(err->status, ENOENT);
	err_clear(&err);
	assert_int_equal(auth_remove(file, "quay.io/org/repo", &err), 0);

	/* a URL-form key is removed by its registry name */
	put(file, "{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"YTpi\"}}, \"detachKeys\": \"x\"}", 0600);
	assert_int_equal(auth_remove(file, "docker.io", &err), 0);
	expect_none(fx, "docker.io");

	/* remove all keeps the rest */
	assert_int_equal(auth_set(file, "a.example", "a", "b", NULL, &err), 0);
	assert_int_equal(auth_set(file, "b.example", "a", "b", NULL, &err), 0);
	assert_int_equal(auth_remove_all(file, &err), 0);
	expect_none(fx, "a.example");
	expect_none(fx, "b.example");
	free(text);
	text = slurp(file);
	assert_non_null(strstr(text, "\"auths\": {}"));
	assert_non_null(strstr(text, "detachKeys"));

	/* missing file */
	cleanup_free char *none = path_in(fx, "none.json");
	assert_int_equal(auth_remove(none, "quay.io", &err), -1);
	assert_int_equal(err->status, ENOENT);
	err_clear(&err);
	assert_int_equal(auth_remove_all(none, &err), 0);
	assert_int_equal(access(none, F_OK), -1);

	/* a broken file is never overwritten */
	put(file, "{broken", 0600);
	assert_int_equal(auth_set(file, "quay.io", "u", "p", NULL, &err), -1);
	assert_non_null(strstr(err->msg, file));
	err_clear(&err);
	assert_int_equal(auth_remove_all(file, &err), -1);
	err_clear(&err);
	free(text);
	text = slurp(file);
	assert_string_equal(text, "{broken");

	/* bad input */
	assert_int_equal(auth_set(file, "quay.io:tag/x:y", "u", "p", NULL, &err), -1);
	err_clear(&err);
	put(file, "{}", 0600);
	assert_int_equal(auth_set(file, "quay.io", "u:x", "p", NULL, &err), -1);
	assert_non_null(strstr(err->msg, "u:x"));
	err_clear(&err);
	/* a directory that cannot be made */
	cleanup_free char *blocked = path_in(fx, "none.json/sub/auth.json");
	put(none, "x", 0600);
	assert_int_equal(auth_set(blocked, "quay.io", "u", "p", NULL, &err), -1);
	assert_non_null(strstr(err->msg, blocked));
	err_clear(&err);
}

/* A fake docker-credential-test in PATH that logs its calls. */
static void install_helper(struct fix *fx)
{
	cleanup_free char *bin = path_in(fx, "bin");
	cleanup_free char *script = path_in(fx, "bin/docker-credential-test");
	cleanup_free char *log = path_in(fx, "helper.log");
	cleanup_free char *text =
		xasprintf("#!/bin/sh\n"
			  "in=$(cat)\n"
			  "echo \"$1 $in\" >> %s\n"
			  "case \"$1 $in\" in\n"
			  "'get helped.example') echo "
			  "'{\"ServerURL\":\"helped.example\",\"Username\":\"hu\",\"Secret\":\"hs\"}' ;;\n"
			  "'get tok.example') echo "
			  "'{\"ServerURL\":\"tok.example\",\"Username\":\"<token>\",\"Secret\":\"T\"}' ;;\n"
			  "'get bad.example') echo 'garbage' ;;\n"
			  "'get fail.example') echo 'helper broke' >&2; exit 3 ;;\n"
			  "get*) echo 'credentials not found in native keychain'; exit 1 ;;\n"
			  "store*|erase*) ;;\n"
			  "esac\n",
			  log);
	put(script, text, 0755);
	cleanup_free char *path = xasprintf("%s:%s", bin, fx->old_path);
	setenv("PATH", path, 1);
}

static void test_cred_helpers(void **state)
{
	struct fix *fx = *state;
	struct skiff_err *err = NULL;
	struct auth_cred c = {0};

	install_helper(fx);
	put(fx->p.primary,
	    "{\"auths\": {\"helped.example\": {\"auth\": \"dXNlcjpwYXNz\"}, \"store.example\": {}},"
	    " \"credHelpers\": {\"helped.example\": \"test\", \"tok.example\": \"test\", \"bad.example\": \"test\","
	    " \"fail.example\": \"test\", \"gone.example\": \"test\", \"missing.example\": \"nosuchhelper\"}}",
	    0600);
	/* the helper wins over the auths entry */
	expect(fx, "helped.example/r", "hu", "hs", "helper test", fx->p.primary);
	assert_int_equal(auth_get(&fx->p, "tok.example", &c, &err), 0);
	assert_null(c.user);
	assert_string_equal(c.identity_token, "T");
	auth_cred_release(&c);
	expect_none(fx, "gone.example");
	expect_error(fx, "bad.example", "docker-credential-test get: not JSON", fx->p.primary);
	expect_error(fx, "fail.example", "helper broke", "exit status 3");
	expect_error(fx, "missing.example", "docker-credential-nosuchhelper", fx->p.primary);

	/* credsStore: for registries without a credHelpers entry */
	put(fx->p.primary, "{\"auths\": {\"store.example\": {}}, \"credsStore\": \"test\"}", 0600);
	expect(fx, "helped.example", "hu", "hs", "helper test", NULL);
	expect_none(fx, "store.example");

	/* store and erase go through the helper, the file is untouched */
	cleanup_free char *file = path_in(fx, "h.json");
	put(file, "{\"credHelpers\": {\"helped.example\": \"test\"}}", 0600);
	cleanup_free char *where = NULL;
	assert_int_equal(auth_set(file, "helped.example", "u", "p", &where, &err), 0);
	assert_string_equal(where, "credential helper: test");
	assert_int_equal(auth_remove(file, "helped.example", &err), 0);
	assert_int_equal(auth_remove_all(file, &err), 0);
	cleanup_free char *log_path = path_in(fx, "helper.log");
	cleanup_free char *log = slurp(log_path);
	assert_non_null(strstr(log, "store {\"ServerURL\":\"helped.example\",\"Username\":\"u\",\"Secret\":\"p\"}"));
	assert_non_null(strstr(log, "erase helped.example"));
	cleanup_free char *text = slurp(file);
	assert_null(strstr(text, "\"auth\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_parse_key),
		cmocka_unit_test_setup_teardown(test_paths_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_token_and_extras, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cred_helpers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
