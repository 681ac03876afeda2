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
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/config/auth.h"
#include "pkg/digest/digest.h"
#include "pkg/trust/internal.h"
#include "pkg/trust/trust.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

/* ---- fixture: a temporary directory, and (group-wide) two throwaway gpg keys ---- */

static char dir[256];	 /* per test */
static char gpgdir[256]; /* per group: GNUPGHOME with keys A and B */
static char fpr_a[64], fpr_b[64];
static bool have_gpg;

static const char manifest[] = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}";

static char *path_in(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void put(const char *name, const char *content)
{
	cleanup_free char *path = path_in(name);
	struct skiff_err *err = NULL;
	char *slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(mkdir_p_at(AT_FDCWD, path, 0755, &err), 0);
	*slash = '/';
	assert_int_equal(write_file_atomic(AT_FDCWD, path, content, strlen(content), 0644, &err), 0);
}

/* Run a shell command; its exit status. */
static int sh(const char *cmd)
{
	pid_t pid = fork();
	int st;
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || tmp[0] != '/' || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/test_trust.XXXXXX", tmp);
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	return 0;
}

static void read_fpr(const char *uid, char *out)
{
	cleanup_free char *cmd = xasprintf("gpg --batch --with-colons --list-secret-keys '%s' 2>/dev/null | "
					   "awk -F: '$1==\"fpr\"{print $10; exit}' > %s/fpr",
					   uid, gpgdir);
	cleanup_free char *path = xasprintf("%s/fpr", gpgdir);
	cleanup_free char *data = NULL;
	struct skiff_err *err = NULL;
	assert_int_equal(sh(cmd), 0);
	assert_int_equal(read_file_at(AT_FDCWD, path, 4096, &data, NULL, &err), 0);
	data[strcspn(data, "\n")] = '\0';
	assert_int_equal(strlen(data), 40);
	memcpy(out, data, 41);
}

static int group_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || tmp[0] != '/' || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(gpgdir, sizeof(gpgdir), "%s/test_trust_gpg.XXXXXX", tmp);
	assert_non_null(mkdtemp(gpgdir));
	setenv("GNUPGHOME", gpgdir, 1);
	if (sh("command -v gpg >/dev/null") != 0)
		return 0;
	cleanup_free char *cmd = xasprintf(
		"cd %s && for u in a b; do gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key "
		"\"skiff test $u <t-$u@example.com>\" ed25519 sign never >/dev/null 2>&1 || exit 1; "
		"gpg --batch --export \"t-$u@example.com\" > pub-$u.gpg || exit 1; "
		"gpg --batch --armor --export \"t-$u@example.com\" > pub-$u.asc || exit 1; done",
		gpgdir);
	if (sh(cmd) != 0)
		return 0;
	read_fpr("t-a@example.com", fpr_a);
	read_fpr("t-b@example.com", fpr_b);
	have_gpg = true;
	return 0;
}

static int group_teardown(void **state)
{
	cleanup_free char *cmd = xasprintf("gpgconf --homedir %s --kill all >/dev/null 2>&1", gpgdir);
	sh(cmd);
	nftw(gpgdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

#define NEED_GPG()                                                                                                     \
	do {                                                                                                           \
		if (!have_gpg)                                                                                         \
			skip();                                                                                        \
	} while (0)

/* ---- helpers ---- */

static void assert_msg_has(const struct skiff_err *e, const char *want)
{
	assert_non_null(e);
	if (!strstr(e->msg, want)) {
		print_error("message \"%s\" lacks \"%s\"\n", e->msg, want);
		fail();
	}
	assert_null(strchr(e->msg, '\n'));
}

static struct trust_policy *policy(const char *json)
{
	struct trust_policy *p = NULL;
	struct skiff_err *err = NULL;
	if (trust_policy_parse(json, strlen(json), "test.json", &p, &err) < 0) {
		print_error("unexpected error: %s\n", err->msg);
		err_free(err);
		fail();
	}
	return p;
}

static void scope_is(const struct trust_policy *p, const char *name, const char *want)
{
	const char *got = (const char *)1;
	struct skiff_err *err = NULL;
	assert_int_equal(trust_policy_scope(p, name, &got, &err), 0);
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static const char *manifest_digest(char out[DIGEST_STR_LEN + 1])
{
	digest_buf(manifest, strlen(manifest), out);
	return out;
}

/* ---- docker references ---- */

static void test_dref(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{"busybox", "docker.io/library/busybox"},
		{"busybox:1.36", "docker.io/library/busybox:1.36"},
		{"index.docker.io/user/app:v1", "docker.io/user/app:v1"},
		{"localhost/app", "localhost/app"},
		{"localhost:5000/a/b:t", "localhost:5000/a/b:t"},
		{"Quay.IO/org/app", "Quay.IO/org/app"},
		{"[::1]:5000/app:x", "[::1]:5000/app:x"},
		{"a.b/c__d-e.f@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		 "a.b/c__d-e.f@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	};
	static const char *const bad[] = {
		"",
		"UPPER/X",
		"x:",
		"host/a//b",
		"-host/x",
		"host/x:t@sha256:short",
		"host:po/x",
		"host/-x",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"host/x:" /* empty tag */,
		"host/x:t!",
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct dref r = {0};
		struct skiff_err *err = NULL;
		if (dref_parse(ok[i].in, false, &r, &err) < 0) {
			print_error("%s: %s\n", ok[i].in, err->msg);
			fail();
		}
		char *s = dref_string(&r);
		assert_string_equal(s, ok[i].out);
		free(s);
		dref_release(&r);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct dref r = {0};
		struct skiff_err *err = NULL;
		if (dref_parse(bad[i], false, &r, &err) == 0) {
			print_error("accepted \"%s\"\n", bad[i]);
			fail();
		}
		assert_int_equal(err->status, EINVAL);
		assert_null(r.name);
		err_free(err);
	}
	/* canonical (ParseNamed): "busybox" is not, its expansion is */
	struct dref r = {0};
	struct skiff_err *err = NULL;
	assert_int_equal(dref_parse("busybox:1", true, &r, &err), -1);
	assert_msg_has(err, "canonical");
	err_free(err);
	err = NULL;
	assert_int_equal(dref_parse("docker.io/library/busybox:1", true, &r, &err), 0);
	dref_release(&r);

	/* policy namespaces */
	struct strv ns = STRV_INIT;
	assert_int_equal(dref_parse("a.b.example.com:5000/ns/app:1", false, &r, &err), 0);
	dref_policy_namespaces(&r, &ns);
	const char *want[] = {"a.b.example.com:5000/ns/app",
			      "a.b.example.com:5000/ns",
			      "a.b.example.com:5000",
			      "*.b.example.com",
			      "*.example.com",
			      "*.com"};
	assert_int_equal(ns.len, ARRAY_SIZE(want));
	for (size_t i = 0; i < ns.len; i++)
		assert_string_equal(ns.v[i], want[i]);
	strv_release(&ns);
	dref_release(&r);
}

/* ---- policy.json ---- */

static const char full_policy[] =
	"{\"default\": [{\"type\": \"reject\"}],\n"
	" \"transports\": {\n"
	"  \"docker\": {\n"
	"   \"\": [{\"type\": \"insecureAcceptAnything\"}],\n"
	"   \"docker.io/library/busybox:latest\": [{\"type\": \"insecureAcceptAnything\"}],\n"
	"   \"docker.io/library/busybox\": [{\"type\": \"reject\"}],\n"
	"   \"docker.io/library\": [{\"type\": \"insecureAcceptAnything\"}],\n"
	"   \"localhost:5000\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": "
	"\"/nonexistent.gpg\"}],\n"
	"   \"localhost:5000/ns/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\": "
	"[{\"type\": \"reject\"}],\n"
	"   \"*.example.com\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyPaths\": [\"/a\", \"/b\"],\n"
	"       \"signedIdentity\": {\"type\": \"matchRepository\"}}],\n"
	"   \"quay.io\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyData\": \"AAEC\",\n"
	"       \"signedIdentity\": {\"type\": \"remapIdentity\", \"prefix\": \"quay.io\", \"signedPrefix\": "
	"\"vendor.io/x\"}}],\n"
	"   \"sig.io\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"/k.pub\", \"anything\": 1}],\n"
	"   \"er.io\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/k\",\n"
	"       \"signedIdentity\": {\"type\": \"exactReference\", \"dockerReference\": \"busybox:1\"}}],\n"
	"   \"erp.io\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/k\",\n"
	"       \"signedIdentity\": {\"type\": \"exactRepository\", \"dockerRepository\": \"busybox\"}}]\n"
	"  },\n"
	"  \"dir\": {\"\": [{\"type\": \"insecureAcceptAnything\"}]},\n"
	"  \"atomic\": {\"h:5000/ns\": [{\"type\": \"reject\"}]}\n"
	" }\n"
	"}\n";

static void test_policy_scopes(void **state)
{
	struct trust_policy *p = policy(full_policy);

	assert_string_equal(trust_policy_path(p), "test.json");
	scope_is(p, "busybox", "docker.io/library/busybox:latest");
	scope_is(p, "docker.io/library/busybox:latest", "docker.io/library/busybox:latest");
	scope_is(p, "busybox:1.36", "docker.io/library/busybox");
	scope_is(p, "alpine", "docker.io/library");
	scope_is(p, "user/app", "");
	scope_is(p, "localhost:5000/ns/app:1", "localhost:5000");
	scope_is(p, "localhost:5000/ns/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		 "localhost:5000/ns/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	scope_is(p, "localhost/app", "");
	scope_is(p, "reg.example.com/x/y:1", "*.example.com");
	scope_is(p, "a.b.example.com:443/x", "*.example.com");
	scope_is(p, "example.com/x", "");

	assert_false(trust_needs_signatures(p, "busybox"));
	assert_true(trust_needs_signatures(p, "localhost:5000/x"));
	assert_true(trust_needs_signatures(p, "reg.example.com/x"));
	assert_false(trust_needs_signatures(p, "sig.io/x")); /* sigstore: rejected without looking */
	assert_true(trust_needs_signatures(p, "NOT A NAME"));

	struct skiff_err *err = NULL;
	const char *scope;
	assert_int_equal(trust_policy_scope(p, "a b", &scope, &err), -1);
	assert_int_equal(err->status, EINVAL);
	err_free(err);
	trust_policy_free(p);

	/* no transports: the default */
	p = policy("{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}");
	scope_is(p, "busybox", NULL);
	trust_policy_free(p);
}

static void test_policy_decisions(void **state)
{
	struct trust_policy *p = policy(full_policy);
	struct skiff_err *err = NULL;

	assert_int_equal(trust_check(p, "busybox", manifest, strlen(manifest), NULL, 0, &err), 0);
	assert_int_equal(trust_check(p, "user/app:2", manifest, strlen(manifest), NULL, 0, &err), 0);

	assert_int_equal(trust_check(p, "busybox:1.36", manifest, strlen(manifest), NULL, 0, &err), -1);
	assert_int_equal(err->status, EACCES);
	assert_string_equal(err->msg, "Source image rejected: Running image docker://docker.io/library/busybox:1.36 "
				      "is rejected by policy.");
	err_clear(&err);

	assert_int_equal(trust_check(p, "localhost:5000/ns/app:1", manifest, strlen(manifest), NULL, 0, &err), -1);
	assert_int_equal(err->status, EACCES);
	assert_string_equal(err->msg, "Source image rejected: A signature was required, but no signature exists");
	err_clear(&err);

	/* a signature whose key file is missing: rejected, naming the file */
	struct trust_sig junk = {(char *)"junk", 4};
	assert_int_equal(trust_check(p, "localhost:5000/ns/app:1", manifest, strlen(manifest), &junk, 1, &err), -1);
	assert_msg_has(err, "Source image rejected: ");
	assert_msg_has(err, "/nonexistent.gpg");
	err_clear(&err);

	assert_int_equal(trust_check(p, "sig.io/x", manifest, strlen(manifest), NULL, 0, &err), -1);
	assert_int_equal(err->status, EACCES);
	assert_msg_has(err, "sigstoreSigned");
	err_clear(&err);

	/* name@digest must be the manifest's digest */
	assert_int_equal(trust_check(p,
				     "user/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
				     manifest, strlen(manifest), NULL, 0, &err),
			 -1);
	assert_int_equal(err->status, EINVAL);
	assert_msg_has(err, "does not match");
	err_clear(&err);

	assert_int_equal(trust_check(p, "Bad Name", manifest, strlen(manifest), NULL, 0, &err), -1);
	assert_int_equal(err->status, EINVAL);
	assert_msg_has(err, "Bad Name");
	err_clear(&err);
	trust_policy_free(p);

	/* default reject */
	p = policy("{\"default\":[{\"type\":\"reject\"}]}");
	assert_int_equal(trust_check(p, "quay.io/a/b:1", manifest, strlen(manifest), NULL, 0, &err), -1);
	assert_string_equal(err->msg,
			    "Source image rejected: Running image docker://quay.io/a/b:1 is rejected by policy.");
	err_clear(&err);
	trust_policy_free(p);

	/* all requirements must hold */
	p = policy("{\"default\":[{\"type\":\"insecureAcceptAnything\"},{\"type\":\"reject\"}]}");
	assert_int_equal(trust_check(p, "quay.io/a/b:1", manifest, strlen(manifest), NULL, 0, &err), -1);
	err_clear(&err);
	trust_policy_free(p);
}

static void test_policy_hostile(void **state)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{"", "test.json"},
		{"{", "test.json"},
		{"[]", "not an object"},
		{"{}", "Default policy is missing"},
		{"{\"default\": null}", "Default policy is missing"},
		{"{\"default\": []}", "must not be empty"},
		{"{\"default\": {}}", "not an array"},
		{"{\"default\": [{\"type\":\"reject\"}], \"extra\": 1}", "Unknown key \"extra\""},
		{"{\"default\": [{\"type\":\"bogus\"}]}", "Unknown policy requirement type \"bogus\""},
		{"{\"default\": [{}]}", "Unknown policy requirement type \"\""},
		{"{\"default\": [{\"type\": 5}]}", "not a string"},
		{"{\"default\": [\"reject\"]}", "not an object"},
		{"{\"default\": [{\"type\":\"reject\", \"x\": 1}]}", "Unknown key \"x\""},
		{"{\"default\": [{\"type\":\"insecureAcceptAnything\", \"keyPath\": \"/k\"}]}",
		 "Unknown key \"keyPath\""},
		{"{\"default\": [{\"type\":\"signedBy\", \"keyPath\": \"/k\"}]}", "invalid keyType"},
		{"{\"default\": [{\"type\":\"signedBy\", \"keyType\": \"PGP\", \"keyPath\": \"/k\"}]}",
		 "Unrecognized keyType value \"PGP\""},
		{"{\"default\": [{\"type\":\"signedBy\", \"keyType\": \"GPGKeys\"}]}", "none of them present"},
		{"{\"default\": [{\"type\":\"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/k\", \"keyData\": "
		 "\"AA==\"}]}",
		 "more than one present"},
		{"{\"default\": [{\"type\":\"signedBy\", \"keyType\": \"GPGKeys\", \"keyPaths\": \"/k\"}]}",
		 "not an array"},
		{"{\"default\": [{\"type\":\"signedBy\", \"keyType\": \"GPGKeys\", \"keyPaths\": [1]}]}", "keyPaths"},
		{"{\"default\": [{\"type\":\"signedBy\", \"keyType\": \"GPGKeys\", \"keyData\": \"!!!\"}]}", "keyData"},
		{"{\"default\": [{\"type\":\"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/k\", \"keyId\": "
		 "\"x\"}]}",
		 "Unknown key \"keyId\""},
		{"{\"default\": [{\"type\":\"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/k\", "
		 "\"signedIdentity\": {\"type\": \"matchAll\"}}]}",
		 "Unknown policy reference match type \"matchAll\""},
		{"{\"default\": [{\"type\":\"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/k\", "
		 "\"signedIdentity\": {\"type\": \"matchExact\", \"x\": 1}}]}",
		 "Unknown key \"x\""},
		{"{\"default\": [{\"type\":\"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/k\", "
		 "\"signedIdentity\": \"matchExact\"}]}",
		 "not an object"},
		{"{\"default\": [{\"type\":\"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/k\", "
		 "\"signedIdentity\": {\"type\": \"exactReference\", \"dockerReference\": \"busybox\"}}]}",
		 "contains neither a tag nor digest"},
		{"{\"default\": [{\"type\":\"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/k\", "
		 "\"signedIdentity\": {\"type\": \"exactReference\"}}]}",
		 "Key \"dockerReference\" missing"},
		{"{\"default\": [{\"type\":\"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/k\", "
		 "\"signedIdentity\": {\"type\": \"exactRepository\", \"dockerRepository\": \"Bad Repo\"}}]}",
		 "Invalid format of dockerRepository \"Bad Repo\""},
		{"{\"default\": [{\"type\":\"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/k\", "
		 "\"signedIdentity\": {\"type\": \"remapIdentity\", \"prefix\": \"a b\", \"signedPrefix\": "
		 "\"x.io\"}}]}",
		 "prefix \"a b\" is not valid"},
		{"{\"default\": [{\"type\":\"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/k\", "
		 "\"signedIdentity\": {\"type\": \"remapIdentity\", \"prefix\": \"x.io/a:tag\", \"signedPrefix\": "
		 "\"x.io\"}}]}",
		 "is not valid"},
		{"{\"default\": [{\"type\":\"reject\"}], \"transports\": []}", "not an object"},
		{"{\"default\": [{\"type\":\"reject\"}], \"transports\": {\"docker\": []}}", "not an object"},
		{"{\"default\": [{\"type\":\"reject\"}], \"transports\": {\"docker\": {\"x.io\": {}}}}", "x.io"},
		{"{\"default\": [{\"type\":\"reject\"}], \"transports\": {\"dir\": {\"\": []}}}", "must not be empty"},
		{"{\"default\": [{\"type\":\"reject\", \"type\": \"\\u0000\"}]}", "NUL"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct trust_policy *p = NULL;
		struct skiff_err *err = NULL;
		if (trust_policy_parse(cases[i].json, strlen(cases[i].json), "test.json", &p, &err) == 0) {
			print_error("accepted %s\n", cases[i].json);
			fail();
		}
		assert_null(p);
		assert_int_equal(err->status, EINVAL);
		assert_msg_has(err, "invalid policy in \"test.json\"");
		assert_msg_has(err, cases[i].want);
		err_free(err);
	}

	/* deep nesting is refused by the parser, not by a crash */
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "{\"default\":");
	strbuf_addchars(&sb, '[', 100000);
	struct trust_policy *p = NULL;
	struct skiff_err *err = NULL;
	assert_int_equal(trust_policy_parse(sb.buf, sb.len, "deep.json", &p, &err), -1);
	assert_msg_has(err, "deep.json");
	err_free(err);
	strbuf_release(&sb);
}

static void test_policy_load(void **state)
{
	struct trust_policy *p = NULL;
	struct skiff_err *err = NULL;
	cleanup_free char *missing = path_in("missing.json");
	cleanup_free char *bad = path_in("bad.json");
	cleanup_free char *home = path_in("home");
	cleanup_free char *user = path_in("home/.config/containers/policy.json");
	char *old_home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;

	assert_int_equal(trust_policy_load(missing, &p, &err), -1);
	assert_int_equal(err->status, ENOENT);
	assert_msg_has(err, missing);
	err_clear(&err);

	put("bad.json", "{\"default\": [{\"type\": \"nope\"}]}");
	assert_int_equal(trust_policy_load(bad, &p, &err), -1);
	assert_msg_has(err, bad);
	assert_msg_has(err, "nope");
	err_clear(&err);

	/* the user's file wins over /etc */
	put("home/.config/containers/policy.json", "{\"default\": [{\"type\": \"reject\"}]}");
	setenv("HOME", home, 1);
	assert_int_equal(trust_policy_load(NULL, &p, &err), 0);
	assert_string_equal(trust_policy_path(p), user);
	trust_policy_free(p);
	p = NULL;

	/* without it: /etc/containers/policy.json, or podman's error naming both */
	assert_int_equal(unlink(user), 0);
	if (access(TRUST_POLICY_SYSTEM, F_OK) == 0) {
		assert_int_equal(trust_policy_load(NULL, &p, &err), 0);
		assert_string_equal(trust_policy_path(p), TRUST_POLICY_SYSTEM);
		trust_policy_free(p);
	} else {
		assert_int_equal(trust_policy_load(NULL, &p, &err), -1);
		assert_int_equal(err->status, ENOENT);
		assert_msg_has(err, "no policy.json file found");
		assert_msg_has(err, user);
		err_clear(&err);
	}
	if (old_home)
		setenv("HOME", old_home, 1);
	else
		unsetenv("HOME");
	free(old_home);
}

/* ---- the signature payload ---- */

static void test_payload(void **state)
{
	char d[DIGEST_STR_LEN + 1];
	char *json = NULL;
	size_t len;
	struct skiff_err *err = NULL;
	struct sig_payload sp = {0};

	assert_int_equal(trust_sig_payload("localhost:5000/a/b:1", manifest_digest(d), &json, &len, &err), 0);
	assert_non_null(strstr(json, "{\"critical\":{\"identity\":{\"docker-reference\":\"localhost:5000/a/b:1\"},"
				     "\"image\":{\"docker-manifest-digest\":\"sha256:"));
	assert_non_null(strstr(json, "\"type\":\"atomic container signature\"},\"optional\":{\"creator\":\"skiff "));
	assert_int_equal(sig_payload_parse(json, len, &sp, &err), 0);
	assert_string_equal(sp.digest, d);
	assert_string_equal(sp.reference, "localhost:5000/a/b:1");
	sig_payload_release(&sp);
	free(json);

	assert_int_equal(trust_sig_payload("x.io/a:1", "sha256:nothex", &json, &len, &err), -1);
	assert_msg_has(err, "sha256:nothex");
	err_clear(&err);

#define CRIT_OK                                                                                                        \
	"\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":"                 \
	"\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"},"                                \
	"\"identity\":{\"docker-reference\":\"x.io/a:1\"}}"
	static const struct {
		const char *json, *want;
	} bad[] = {
		{"[]", "not an object"},
		{"{" CRIT_OK "}", "Key \"optional\" missing"},
		{"{" CRIT_OK ",\"optional\":{},\"extra\":1}", "Unknown key \"extra\""},
		{"{" CRIT_OK ",\"optional\":[]}", "not an object"},
		{"{" CRIT_OK ",\"optional\":{\"timestamp\":1.5}}", "optional.timestamp is not an integer"},
		{"{" CRIT_OK ",\"optional\":{\"creator\":1}}", "optional.creator is not a string"},
		{"{\"critical\":{\"type\":\"atomic container "
		 "signature\",\"image\":{\"docker-manifest-digest\":\"sha256:"
		 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}},\"optional\":{}}",
		 "Key \"identity\" missing"},
		{"{\"critical\":{\"type\":\"cosign\",\"image\":{\"docker-manifest-digest\":\"sha256:0123456789abcdef"
		 "0123456789abcdef0123456789abcdef0123456789abcdef\"},\"identity\":{\"docker-reference\":\"x.io/"
		 "a:1\"}},"
		 "\"optional\":{}}",
		 "Unrecognized signature type cosign"},
		{"{\"critical\":{\"type\":\"atomic container "
		 "signature\",\"image\":{\"docker-manifest-digest\":\"../x\"},"
		 "\"identity\":{\"docker-reference\":\"x.io/a:1\"}},\"optional\":{}}",
		 "invalid docker-manifest-digest value \"../x\""},
		{"{\"critical\":{\"type\":\"atomic container "
		 "signature\",\"image\":{\"docker-manifest-digest\":\"sha256:"
		 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"more\":1},"
		 "\"identity\":{\"docker-reference\":\"x.io/a:1\"}},\"optional\":{}}",
		 "Unknown key \"more\""},
		{"{\"critical\":{\"type\":\"atomic container "
		 "signature\",\"image\":{\"docker-manifest-digest\":\"sha256:"
		 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"},"
		 "\"identity\":{\"docker-reference\":7}},\"optional\":{}}",
		 "not a string"},
		{"{\"critical\":{\"type\":\"atomic container "
		 "signature\",\"image\":{\"docker-manifest-digest\":\"sha256:"
		 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"},"
		 "\"identity\":{\"docker-reference\":\"x.io/a:1\"},\"x\":null},\"optional\":{}}",
		 "Unknown key \"x\""},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (sig_payload_parse(bad[i].json, strlen(bad[i].json), &sp, &err) == 0) {
			print_error("accepted %s\n", bad[i].json);
			fail();
		}
		assert_null(sp.digest);
		assert_int_equal(err->status, EINVAL);
		assert_msg_has(err, bad[i].want);
		err_clear(&err);
	}
	/* unknown optional members are fine */
	const char *ok = "{" CRIT_OK ",\"optional\":{\"creator\":\"atomic 5.0\",\"timestamp\":1483228800,\"x\":[1]}}";
	assert_int_equal(sig_payload_parse(ok, strlen(ok), &sp, &err), 0);
	sig_payload_release(&sp);
}

/* ---- sign, then verify ---- */

static char *sign_or_fail(const char *key, const char *ref, const char *digest, size_t *len)
{
	char *sig = NULL;
	struct skiff_err *err = NULL;
	if (trust_sign(key, NULL, ref, digest, &sig, len, &err) < 0) {
		print_error("sign: %s\n", err->msg);
		err_free(err);
		fail();
	}
	return sig;
}

static char *signed_by_policy(const char *scope, const char *keyfield, const char *identity)
{
	return xasprintf("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"%s\":[{\"type\":"
			 "\"signedBy\",\"keyType\":\"GPGKeys\",%s%s%s}]}}}",
			 scope, keyfield, identity ? ",\"signedIdentity\":" : "", identity ? identity : "");
}

static int check(const char *pol, const char *name, const struct trust_sig *sigs, size_t n, struct skiff_err **err)
{
	struct trust_policy *p = policy(pol);
	int r = trust_check(p, name, manifest, strlen(manifest), sigs, n, err);
	trust_policy_free(p);
	return r;
}

static void test_sign_verify(void **state)
{
	NEED_GPG();
	char d[DIGEST_STR_LEN + 1], other[DIGEST_STR_LEN + 1];
	struct skiff_err *err = NULL;
	size_t len, len2, len3, len4;
	cleanup_free char *keya = xasprintf("\"keyPath\":\"%s/pub-a.gpg\"", gpgdir);
	cleanup_free char *keyb = xasprintf("\"keyPath\":\"%s/pub-b.asc\"", gpgdir);
	cleanup_free char *keyab = xasprintf("\"keyPaths\":[\"%s/pub-b.gpg\",\"%s/pub-a.asc\"]", gpgdir, gpgdir);
	cleanup_free char *pa = signed_by_policy("localhost:5000/test", keya, NULL);
	cleanup_free char *pb = signed_by_policy("localhost:5000/test", keyb, NULL);
	cleanup_free char *pab = signed_by_policy("localhost:5000/test", keyab, NULL);

	manifest_digest(d);
	digest_buf("other", 5, other);
	cleanup_free char *sig = sign_or_fail(fpr_a, "localhost:5000/test/img:v1", d, &len);
	struct trust_sig good = {sig, len};

	/* the right key */
	assert_int_equal(check(pa, "localhost:5000/test/img:v1", &good, 1, &err), 0);
	assert_int_equal(check(pab, "localhost:5000/test/img:v1", &good, 1, &err), 0);

	/* keyData: the same key inline */
	{
		cleanup_free char *data = NULL, *b64 = NULL, *path = xasprintf("%s/pub-a.gpg", gpgdir);
		size_t dl;
		assert_int_equal(read_file_at(AT_FDCWD, path, 1 << 20, &data, &dl, &err), 0);
		assert_true(dl > 0);
		b64 = auth_base64_encode(data, dl);
		cleanup_free char *field = xasprintf("\"keyData\":\"%s\"", b64);
		cleanup_free char *pd = signed_by_policy("localhost:5000", field, NULL);
		if (check(pd, "localhost:5000/test/img:v1", &good, 1, &err) < 0) {
			print_error("keyData: %s\n", err->msg);
			fail();
		}
	}

	/* wrong key */
	assert_int_equal(check(pb, "localhost:5000/test/img:v1", &good, 1, &err), -1);
	assert_int_equal(err->status, EACCES);
	assert_msg_has(err, "Source image rejected: ");
	err_clear(&err);

	/* tampered: every byte flip in the payload area must fail */
	{
		cleanup_free char *bad = xmalloc(len);
		for (size_t i = len / 4; i < len; i += len / 8) {
			memcpy(bad, sig, len);
			bad[i] ^= 0x20;
			struct trust_sig t = {bad, len};
			assert_int_equal(check(pa, "localhost:5000/test/img:v1", &t, 1, &err), -1);
			assert_msg_has(err, "Source image rejected: ");
			err_clear(&err);
		}
		/* truncated, empty, garbage */
		struct trust_sig t[] = {{sig, len / 2}, {sig, 0}, {(char *)"garbage", 7}};
		for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
			assert_int_equal(check(pa, "localhost:5000/test/img:v1", &t[i], 1, &err), -1);
			assert_msg_has(err, "Source image rejected: ");
			err_clear(&err);
		}
	}

	/* wrong digest */
	cleanup_free char *sig2 = sign_or_fail(fpr_a, "localhost:5000/test/img:v1", other, &len2);
	struct trust_sig wrongdigest = {sig2, len2};
	assert_int_equal(check(pa, "localhost:5000/test/img:v1", &wrongdigest, 1, &err), -1);
	assert_msg_has(err, "Source image rejected: Signature for digest ");
	assert_msg_has(err, other);
	assert_msg_has(err, "does not match");
	err_clear(&err);

	/* wrong identity */
	cleanup_free char *sig3 = sign_or_fail(fpr_a, "localhost:5000/test/evil:v1", d, &len3);
	struct trust_sig wrongid = {sig3, len3};
	assert_int_equal(check(pa, "localhost:5000/test/img:v1", &wrongid, 1, &err), -1);
	assert_string_equal(err->msg, "Source image rejected: Signature for identity "
				      "localhost:5000/test/evil:v1 is not accepted");
	err_clear(&err);

	/* several signatures: one good is enough; none good lists every reason */
	struct trust_sig two[] = {wrongdigest, good};
	assert_int_equal(check(pa, "localhost:5000/test/img:v1", two, 2, &err), 0);
	struct trust_sig bad2[] = {wrongdigest, wrongid};
	assert_int_equal(check(pa, "localhost:5000/test/img:v1", bad2, 2, &err), -1);
	assert_msg_has(err, "None of the signatures were accepted, reasons: Signature for digest");
	assert_msg_has(err, "; Signature for identity");
	err_clear(&err);

	/* signed by key B, selected by its e-mail address; the policy trusts A only */
	cleanup_free char *sig4 = sign_or_fail("t-b@example.com", "localhost:5000/test/img:v1", d, &len4);
	struct trust_sig byb = {sig4, len4};
	assert_int_equal(check(pb, "localhost:5000/test/img:v1", &byb, 1, &err), 0);
	assert_int_equal(check(pa, "localhost:5000/test/img:v1", &byb, 1, &err), -1);
	err_clear(&err);

	/* signing errors */
	char *s = NULL;
	assert_int_equal(trust_sign("nobody@nowhere.invalid", NULL, "x.io/a:1", d, &s, &len, &err), -1);
	assert_msg_has(err, "nobody@nowhere.invalid");
	err_clear(&err);
	assert_int_equal(trust_sign("example.com", NULL, "x.io/a:1", d, &s, &len, &err), -1);
	assert_msg_has(err, "matches 2 secret keys");
	err_clear(&err);
	assert_int_equal(trust_sign(fpr_a, NULL, "x.io/a", d, &s, &len, &err), -1);
	assert_msg_has(err, "neither a tag nor a digest");
	err_clear(&err);
	assert_int_equal(trust_sign(fpr_a, NULL, "Not A Ref", d, &s, &len, &err), -1);
	assert_int_equal(err->status, EINVAL);
	err_clear(&err);
	assert_null(s);

	/* a keyring file that holds no key */
	put("empty.gpg", "not a key\n");
	cleanup_free char *ekey = xasprintf("\"keyPath\":\"%s/empty.gpg\"", dir);
	cleanup_free char *pe = signed_by_policy("localhost:5000", ekey, NULL);
	assert_int_equal(check(pe, "localhost:5000/test/img:v1", &good, 1, &err), -1);
	assert_msg_has(err, "Source image rejected: ");
	err_clear(&err);
}

/* Each signedIdentity: (image pulled, identity signed, requirement, accepted?). */
static void test_identities(void **state)
{
	NEED_GPG();
	char d[DIGEST_STR_LEN + 1];
	manifest_digest(d);
	cleanup_free char *byd = xasprintf("r.io/ns/img@%s", d);
	static const char remap[] = "{\"type\":\"remapIdentity\",\"prefix\":\"mirror.local:5000/"
				    "vendor\",\"signedPrefix\":\"vendor.example.com\"}";
	const struct {
		const char *image, *signed_ref, *ident;
		bool ok;
	} cases[] = {
		{"r.io/ns/img:v1", "r.io/ns/img:v1", "{\"type\":\"matchExact\"}", true},
		{"r.io/ns/img:v1", "r.io/ns/img:v2", "{\"type\":\"matchExact\"}", false},
		{byd, "r.io/ns/img:v1", "{\"type\":\"matchExact\"}", false},
		{"busybox", "docker.io/library/busybox:latest", "{\"type\":\"matchExact\"}", true},
		{"docker.io/library/busybox:latest", "busybox:latest", "{\"type\":\"matchExact\"}", true},
		{"r.io/ns/img:v1", "r.io/ns/img:v1", NULL, true},
		{"r.io/ns/img:v1", "r.io/ns/img:v2", NULL, false},
		{byd, "r.io/ns/img:anything", NULL, true},
		{byd, "r.io/ns/other:v1", NULL, false},
		{byd, "r.io/ns/img", NULL, false},
		{"r.io/ns/img:v1", "r.io/ns/img", "{\"type\":\"matchRepoDigestOrExact\"}", false},
		{"r.io/ns/img", "r.io/ns/img:v9", "{\"type\":\"matchRepository\"}", true},
		{"r.io/ns/img:v1", "r.io/ns/other:v1", "{\"type\":\"matchRepository\"}", false},
		{"r.io/ns/img:v1", "vendor.io/p/img:1",
		 "{\"type\":\"exactReference\",\"dockerReference\":\"vendor.io/p/img:1\"}", true},
		{"r.io/ns/img:v1", "vendor.io/p/img:2",
		 "{\"type\":\"exactReference\",\"dockerReference\":\"vendor.io/p/img:1\"}", false},
		{"r.io/ns/img:v1", "vendor.io/p/img:7",
		 "{\"type\":\"exactRepository\",\"dockerRepository\":\"vendor.io/p/img\"}", true},
		{"r.io/ns/img:v1", "r.io/ns/img:v1",
		 "{\"type\":\"exactRepository\",\"dockerRepository\":\"vendor.io/p/img\"}", false},
		{"mirror.local:5000/vendor/app:1", "vendor.example.com/app:1", remap, true},
		{"mirror.local:5000/vendor/app:1", "vendor.example.com/app:2", remap, false},
		{"mirror.local:5000/vendor/app:1", "mirror.local:5000/vendor/app:1", remap, false},
		{"mirror.local:5000/vendorx/app:1", "mirror.local:5000/vendorx/app:1", remap, true},
		{"mirror.local:5000/vendor:1", "vendor.example.com:1", remap, false}, /* not a valid remapped name */
		{"r.io/ns/img:v1", "NOT VALID", NULL, false},
	};
	cleanup_free char *key = xasprintf("\"keyPath\":\"%s/pub-a.gpg\"", gpgdir);

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cleanup_free char *pol = signed_by_policy("", key, cases[i].ident);
		struct skiff_err *err = NULL;
		char *sig = NULL, *payload = NULL;
		size_t len, plen;
		/* sign the payload directly: the signed reference may be anything, even invalid */
		assert_int_equal(trust_sig_payload(cases[i].signed_ref, d, &payload, &plen, &err), 0);
		assert_int_equal(gpg_sign(fpr_a, NULL, payload, plen, &sig, &len, &err), 0);
		struct trust_sig s = {sig, len};
		int r = check(pol, cases[i].image, &s, 1, &err);
		if ((r == 0) != cases[i].ok) {
			print_error("case %zu: %s signed as %s under %s: %s\n", i, cases[i].image, cases[i].signed_ref,
				    cases[i].ident ? cases[i].ident : "(default)", err ? err->msg : "accepted");
			fail();
		}
		if (r < 0)
			assert_msg_has(err, "is not accepted");
		err_free(err);
		free(sig);
		free(payload);
	}
}

/* ---- registries.d ---- */

static struct trust_regd *regd_ok(const char *d)
{
	struct trust_regd *c = NULL;
	struct skiff_err *err = NULL;
	if (trust_regd_load(d, &c, &err) < 0) {
		print_error("unexpected error: %s\n", err->msg);
		err_free(err);
		fail();
	}
	return c;
}

static void url_is(const struct trust_regd *c, const char *name, bool write, const char *want)
{
	char *url = NULL;
	struct skiff_err *err = NULL;
	if (trust_regd_lookaside(c, name, write, false, &url, &err) < 0) {
		print_error("%s: %s\n", name, err->msg);
		fail();
	}
	assert_string_equal(url, want);
	free(url);
}

static void test_regd(void **state)
{
	cleanup_free char *rd = path_in("registries.d");
	put("registries.d/default.yaml", "# defaults\n"
					 "default-docker:\n"
					 "  lookaside: https://sigs.example.com/base\n"
					 "  lookaside-staging: file:///srv/staging\n");
	put("registries.d/example.yaml", "docker:\n"
					 "  registry.example.com:\n"
					 "    lookaside: https://registry-lookaside.example.com\n"
					 "  registry.example.com/mydepartment:\n"
					 "    lookaside: https://lookaside.mydepartment.example.com\n"
					 "    lookaside-staging: file:///mnt/mydepartment/lookaside-staging\n"
					 "  registry.example.com/mydepartment/myproject:mybranch:\n"
					 "    lookaside: http://localhost:4242/lookaside\n"
					 "    lookaside-staging: file:///home/useraccount/webroot/lookaside\n"
					 "  old.example.com:\n"
					 "    sigstore: https://old/sig\n"
					 "    sigstore-staging: file:///old/staging\n"
					 "    use-sigstore-attachments: true\n"
					 "  staging-only.example.com:\n"
					 "    lookaside-staging: file:///only/staging\n"
					 "  empty.example.com:\n"
					 "  '*.wild.example.com':\n"
					 "    lookaside: https://wild\n");
	put("registries.d/ignored.yml", "this: [is not read\n");
	put("registries.d/README", "not yaml at all: [\n");
	struct trust_regd *c = regd_ok(rd);

	url_is(c, "registry.example.com/a/b:1", false, "https://registry-lookaside.example.com/a/b");
	url_is(c, "registry.example.com/a/b:1", true, "https://registry-lookaside.example.com/a/b");
	url_is(c, "registry.example.com/mydepartment/x", false,
	       "https://lookaside.mydepartment.example.com/mydepartment/x");
	url_is(c, "registry.example.com/mydepartment/x", true,
	       "file:///mnt/mydepartment/lookaside-staging/mydepartment/x");
	url_is(c, "registry.example.com/mydepartment/myproject:mybranch", false,
	       "http://localhost:4242/lookaside/mydepartment/myproject");
	url_is(c, "registry.example.com/mydepartment/myproject:other", false,
	       "https://lookaside.mydepartment.example.com/mydepartment/myproject");
	url_is(c, "old.example.com/x", false, "https://old/sig/x");
	url_is(c, "old.example.com/x", true, "file:///old/staging/x");
	/* a scope with nothing for reading falls back to the next one */
	url_is(c, "staging-only.example.com/x", false, "https://sigs.example.com/base/x");
	url_is(c, "staging-only.example.com/x", true, "file:///only/staging/x");
	url_is(c, "empty.example.com/x", false, "https://sigs.example.com/base/x");
	url_is(c, "a.wild.example.com/x", false, "https://wild/x");
	url_is(c, "busybox", false, "https://sigs.example.com/base/library/busybox");
	url_is(c, "busybox", true, "file:///srv/staging/library/busybox");
	char *url = NULL;
	struct skiff_err *err = NULL;
	assert_int_equal(trust_regd_lookaside(c, "Bad Name", false, false, &url, &err), -1);
	assert_int_equal(err->status, EINVAL);
	assert_null(url);
	err_clear(&err);
	trust_regd_free(c);

	/* nothing configured: podman's default directories */
	cleanup_free char *none = path_in("none");
	c = regd_ok(none);
	url_is(c, "localhost:5000/a/b:1", false, "file:///var/lib/containers/sigstore/a/b");
	char *old_home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
	setenv("HOME", "/home/someone", 1);
	assert_int_equal(trust_regd_lookaside(c, "localhost:5000/a/b", true, true, &url, &err), 0);
	assert_string_equal(url, "file:///home/someone/.local/share/containers/sigstore/a/b");
	free(url);
	trust_regd_free(c);

	/* $HOME/.config/containers/registries.d replaces /etc's */
	cleanup_free char *home = path_in("home");
	setenv("HOME", home, 1);
	put("home/.config/containers/registries.d/x.yaml", "default-docker:\n  lookaside: file:///mine\n");
	assert_int_equal(trust_lookaside_for(false, "quay.io/a/b:1", false, &url, &err), 0);
	assert_string_equal(url, "file:///mine/a/b");
	free(url);
	if (old_home)
		setenv("HOME", old_home, 1);
	else
		unsetenv("HOME");
	free(old_home);
}

static void test_regd_hostile(void **state)
{
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{"docker: [a, b]\n", "docker must be a mapping"},
		{"- a\n- b\n", "must hold a mapping"},
		{"docker:\n  x.io:\n    lookaside: [a]\n", "lookaside must be a string"},
		{"docker:\n  x.io: [1]\n", "a section must be a mapping"},
		{"docker:\n  x.io:\n    lookaside: a\n  x.io:\n    lookaside: b\n", "already defined"},
		{"default-docker:\n  lookaside: a\ndefault-docker:\n  lookaside: b\n", "already defined"},
		{"docker:\n  x.io: &a\n    lookaside: a\n  y.io: *a\n", "aliases are not supported"},
		{"docker: {x.io: {lookaside: \"unterminated}\n", "line"},
		{"\tdocker:\n", "line"},
		{"docker:\n  ? [complex, key]\n  : {lookaside: a}\n", "a key must be a scalar"},
	};
	cleanup_free char *rd = path_in("rd");
	cleanup_free char *file = path_in("rd/bad.yaml");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct trust_regd *c = NULL;
		struct skiff_err *err = NULL;
		put("rd/bad.yaml", cases[i].yaml);
		if (trust_regd_load(rd, &c, &err) == 0) {
			print_error("accepted %s\n", cases[i].yaml);
			fail();
		}
		assert_null(c);
		assert_int_equal(err->status, EINVAL);
		assert_msg_has(err, file);
		assert_msg_has(err, cases[i].want);
		err_free(err);
	}
	/* deep nesting */
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "docker: ");
	strbuf_addchars(&sb, '[', 5000);
	put("rd/bad.yaml", sb.buf);
	strbuf_release(&sb);
	struct trust_regd *c = NULL;
	struct skiff_err *err = NULL;
	assert_int_equal(trust_regd_load(rd, &c, &err), -1);
	assert_msg_has(err, file);
	err_clear(&err);

	/* the same scope in two files names both */
	put("rd/bad.yaml", "docker:\n  x.io:\n    lookaside: a\n");
	put("rd/bad2.yaml", "docker:\n  x.io:\n    lookaside: b\n");
	assert_int_equal(trust_regd_load(rd, &c, &err), -1);
	assert_msg_has(err, "\"docker\" namespace \"x.io\" defined both in");
	assert_msg_has(err, file);
	assert_msg_has(err, "bad2.yaml");
	err_clear(&err);
	put("rd/bad2.yaml", "default-docker:\n  lookaside: b\n");
	put("rd/bad3.yaml", "default-docker:\n  lookaside: c\n");
	assert_int_equal(trust_regd_load(rd, &c, &err), -1);
	assert_msg_has(err, "\"default-docker\" defined both in");
	err_clear(&err);

	/* empty files and empty documents are fine */
	put("rd/bad2.yaml", "");
	put("rd/bad3.yaml", "# nothing\n---\n");
	c = regd_ok(rd);
	trust_regd_free(c);
}

/* ---- lookaside storage ---- */

static void test_lookaside_files(void **state)
{
	char d[DIGEST_STR_LEN + 1];
	struct skiff_err *err = NULL;
	struct trust_sig *sigs = NULL;
	size_t n = 99;
	char *url = NULL;
	cleanup_free char *base = xasprintf("file://%s/sig%%20store/ns/app", dir);

	manifest_digest(d);
	assert_int_equal(trust_sig_url("https://h/l/ns/app", d, 1, &url, &err), 0);
	cleanup_free char *want = xasprintf("https://h/l/ns/app@sha256=%s/signature-1", digest_hex(d));
	assert_string_equal(url, want);
	free(url);
	url = NULL;
	assert_int_equal(trust_sig_url("https://h/l", "sha256:../../x", 1, &url, &err), -1);
	assert_msg_has(err, "sha256:../../x");
	err_clear(&err);
	assert_int_equal(trust_sig_url("https://h/l", d, 0, &url, &err), -1);
	err_clear(&err);
	assert_null(url);

	/* nothing stored yet */
	assert_int_equal(trust_sigs_read(base, d, &sigs, &n, &err), 0);
	assert_int_equal(n, 0);
	trust_sigs_free(sigs, n);

	assert_int_equal(trust_sig_store(base, d, "first", 5, &err), 0);
	assert_int_equal(trust_sig_store(base, d, "first", 5, &err), 0); /* identical: not added again */
	assert_int_equal(trust_sig_store(base, d, "second\0bin", 10, &err), 0);
	assert_int_equal(trust_sigs_read(base, d, &sigs, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(sigs[0].data, "first", 5);
	assert_int_equal(sigs[1].len, 10);
	assert_memory_equal(sigs[1].data, "second\0bin", 10);
	trust_sigs_free(sigs, n);

	/* the layout on disk (percent escapes decoded), readable by podman */
	cleanup_free char *file = xasprintf("%s/sig store/ns/app@sha256=%s/signature-2", dir, digest_hex(d));
	struct stat st;
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);

	/* a gap ends the list, as in podman */
	cleanup_free char *third = xasprintf("%s/sig store/ns/app@sha256=%s/signature-4", dir, digest_hex(d));
	assert_int_equal(write_file_atomic(AT_FDCWD, third, "x", 1, 0644, &err), 0);
	assert_int_equal(trust_sigs_read(base, d, &sigs, &n, &err), 0);
	assert_int_equal(n, 2);
	trust_sigs_free(sigs, n);

	/* refused */
	assert_int_equal(trust_sig_store("https://h/l", d, "x", 1, &err), -1);
	assert_msg_has(err, "https://h/l");
	err_clear(&err);
	assert_int_equal(trust_sigs_read("http://h/l", d, &sigs, &n, &err), -1);
	err_clear(&err);
	assert_int_equal(trust_sig_store("file://host/x", d, "x", 1, &err), -1);
	assert_msg_has(err, "names no host");
	err_clear(&err);
	assert_int_equal(trust_sig_store("file:///a/../etc", d, "x", 1, &err), -1);
	assert_msg_has(err, "..");
	err_clear(&err);
	assert_int_equal(trust_sig_store("file:///a/%00", d, "x", 1, &err), -1);
	err_clear(&err);
	assert_int_equal(trust_sig_store(base, "sha256:nothex", "x", 1, &err), -1);
	assert_msg_has(err, "sha256:nothex");
	err_clear(&err);
	assert_int_equal(trust_sig_store(base, d, "", 0, &err), -1);
	err_clear(&err);

	/* a signature-N that is a directory: an error naming it, not a crash */
	cleanup_free char *sub = xasprintf("%s/sig store/ns/app@sha256=%s/signature-3", dir, digest_hex(d));
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(trust_sigs_read(base, d, &sigs, &n, &err), -1);
	assert_msg_has(err, "signature-3");
	err_clear(&err);
}

/* signed push then policy-verified pull, through the lookaside storage */
static void test_end_to_end(void **state)
{
	NEED_GPG();
	char d[DIGEST_STR_LEN + 1];
	struct skiff_err *err = NULL;
	char *sig = NULL, *wurl = NULL, *rurl = NULL;
	size_t len, n;
	struct trust_sig *sigs = NULL;
	cleanup_free char *rd = path_in("regd");
	cleanup_free char *yaml = xasprintf("docker:\n  localhost:5000:\n    lookaside: file://%s/ls\n", dir);
	put("regd/ls.yaml", yaml);
	struct trust_regd *c = regd_ok(rd);

	manifest_digest(d);
	assert_int_equal(trust_sign(fpr_a, NULL, "localhost:5000/e2e/app:1", d, &sig, &len, &err), 0);
	assert_int_equal(trust_regd_lookaside(c, "localhost:5000/e2e/app:1", true, false, &wurl, &err), 0);
	assert_int_equal(trust_sig_store(wurl, d, sig, len, &err), 0);

	assert_int_equal(trust_regd_lookaside(c, "localhost:5000/e2e/app:1", false, false, &rurl, &err), 0);
	assert_int_equal(trust_sigs_read(rurl, d, &sigs, &n, &err), 0);
	assert_int_equal(n, 1);
	cleanup_free char *key = xasprintf("\"keyPath\":\"%s/pub-a.gpg\"", gpgdir);
	cleanup_free char *pol = signed_by_policy("localhost:5000/e2e", key, NULL);
	assert_int_equal(check(pol, "localhost:5000/e2e/app:1", sigs, n, &err), 0);
	/* unsigned: refused */
	assert_int_equal(check(pol, "localhost:5000/e2e/other:1", NULL, 0, &err), -1);
	assert_string_equal(err->msg, "Source image rejected: A signature was required, but no signature exists");
	err_clear(&err);
	trust_sigs_free(sigs, n);
	free(sig);
	free(wurl);
	free(rurl);
	trust_regd_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dref),
		cmocka_unit_test(test_policy_scopes),
		cmocka_unit_test(test_policy_decisions),
		cmocka_unit_test(test_policy_hostile),
		cmocka_unit_test_setup_teardown(test_policy_load, setup, teardown),
		cmocka_unit_test(test_payload),
		cmocka_unit_test_setup_teardown(test_sign_verify, setup, teardown),
		cmocka_unit_test(test_identities),
		cmocka_unit_test_setup_teardown(test_regd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regd_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookaside_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_end_to_end, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
