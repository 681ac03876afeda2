/* Registry credentials: auth.json and docker's config files (see auth.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkg/config/auth.h"
#include "pkg/json/json.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

/* ---------------- base64 ---------------- */

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *auth_base64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	struct strbuf sb = STRBUF_INIT;

	strbuf_grow(&sb, (len + 2) / 3 * 4);
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;
		if (n > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (n > 2)
			v |= in[i + 2];
		strbuf_addch(&sb, b64_alphabet[(v >> 18) & 63]);
		strbuf_addch(&sb, b64_alphabet[(v >> 12) & 63]);
		strbuf_addch(&sb, n > 1 ? b64_alphabet[(v >> 6) & 63] : '=');
		strbuf_addch(&sb, n > 2 ? b64_alphabet[v & 63] : '=');
	}
	return strbuf_detach(&sb, NULL);
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;
	return p ? (int)(p - b64_alphabet) : -1;
}

int auth_base64_decode(const char *s, char **ret, size_t *ret_len, struct skiff_err **err)
{
	size_t len = strlen(s), pad = 0;
	struct strbuf out = STRBUF_INIT;
	uint32_t acc = 0;
	int bits = 0;

	while (len > 0 && s[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if (len % 4 == 1 || (pad && (len + pad) % 4 != 0))
		return err_makex(err, EINVAL, "not base64 (length %zu)", strlen(s));
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(s[i]);
		if (v < 0) {
			strbuf_release(&out);
			return err_makex(err, EINVAL, "not base64 (byte %zu)", i);
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			strbuf_addch(&out, (char)((acc >> bits) & 0xff));
		}
	}
	*ret = strbuf_detach(&out, ret_len);
	return 0;
}

/* ---------------- paths ---------------- */

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

char *auth_explicit_file(const char *authfile)
{
	const char *f = authfile && *authfile ? authfile : env_nonempty("REGISTRY_AUTH_FILE");
	if (f)
		return xstrdup(f);
	const char *dc = env_nonempty("DOCKER_CONFIG");
	if (dc)
		return xasprintf("%s/config.json", dc);
	return NULL;
}

char *auth_default_file(const char *authfile)
{
	char *f = auth_explicit_file(authfile);
	if (f)
		return f;
	const char *rt = env_nonempty("XDG_RUNTIME_DIR");
	if (rt)
		return xasprintf("%s/containers/auth.json", rt);
	return xasprintf("/run/containers/%u/auth.json", (unsigned)getuid());
}

void auth_paths_default(struct auth_paths *p, const char *authfile)
{
	memset(p, 0, sizeof(*p));
	p->primary = auth_explicit_file(authfile);
	if (p->primary)
		return; /* an explicit file is the only one */
	p->primary = auth_default_file(NULL);
	const char *home = env_nonempty("HOME");
	const char *xdg = env_nonempty("XDG_CONFIG_HOME");
	if (xdg)
		p->xdg_config = xasprintf("%s/containers/auth.json", xdg);
	else if (home)
		p->xdg_config = xasprintf("%s/.config/containers/auth.json", home);
	if (home) {
		p->docker = xasprintf("%s/.docker/config.json", home);
		p->dockercfg = xasprintf("%s/.dockercfg", home);
	}
}

void auth_paths_release(struct auth_paths *p)
{
	free(p->primary);
	free(p->xdg_config);
	free(p->docker);
	free(p->dockercfg);
	memset(p, 0, sizeof(*p));
}

void auth_cred_release(struct auth_cred *c)
{
	free(c->user);
	if (c->pass)
		explicit_bzero(c->pass, strlen(c->pass));
	free(c->pass);
	free(c->identity_token);
	free(c->file);
	free(c->key);
	memset(c, 0, sizeof(*c));
}

/* ---------------- keys ---------------- */

static bool has_scheme(const char *s, const char **rest)
{
	if (strncmp(s, "https://", 8) == 0) {
		*rest = s + 8;
		return true;
	}
	if (strncmp(s, "http://", 7) == 0) {
		*rest = s + 7;
		return true;
	}
	*rest = s;
	return false;
}

static bool is_docker_hub(const char *host, size_t n)
{
	static const char *const names[] = {"docker.io", "index.docker.io", "registry-1.docker.io"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == n && memcmp(names[i], host, n) == 0)
			return true;
	return false;
}

/*
 * The registry a key names when it is the whole registry: "quay.io", "https://quay.io",
 * "http://quay.io/v1/", "https://index.docker.io/v1/" (docker.io names are one:
 * "docker.io"). NULL for a namespace or repository key ("quay.io/org"), which only ever
 * matches exactly. Caller frees.
 */
static char *key_registry(const char *key)
{
	const char *rest;
	bool url = has_scheme(key, &rest);
	size_t n = strcspn(rest, "/");
	const char *path = rest + n;

	static const char *const api_paths[] = {"", "/", "/v1", "/v1/", "/v2", "/v2/"};
	bool registry_only = false;

	if (n == 0)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(api_paths) && !registry_only; i++)
		registry_only = strcmp(path, api_paths[i]) == 0 && (url || i < 2);
	if (!registry_only)
		return NULL; /* quay.io/org, https://quay.io/org */
	if (is_docker_hub(rest, n))
		return xstrdup("docker.io");
	return xstrndup(rest, n);
}

int auth_parse_key(const char *arg, char **ret_key, char **ret_registry, struct skiff_err **err)
{
	const char *rest;
	cleanup_free char *key = NULL;

	if (!arg || !*arg)
		return err_makex(err, EINVAL, "empty registry name");
	for (const char *c = arg; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return err_makex(err, EINVAL, "invalid registry %s: contains a space or control character",
					 arg);
	if (has_scheme(arg, &rest)) {
		/* a URL: its host[:port], the rest dropped (podman's replaceURLByHostPort) */
		key = xstrndup(rest, strcspn(rest, "/"));
	} else {
		key = xstrdup(arg);
		size_t n = strlen(key);
		while (n > 0 && key[n - 1] == '/')
			key[--n] = 0;
	}
	if (!*key)
		return err_makex(err, EINVAL, "invalid registry %s: no host", arg);
	const char *slash = strchr(key, '/');
	if (slash) {
		if (strchr(key, '@') || strchr(slash, ':'))
			return err_makex(err, EINVAL, "reference %s contains tag or digest", arg);
		if (strstr(key, "//"))
			return err_makex(err, EINVAL, "invalid reference %s: empty path component", arg);
		for (const char *c = slash + 1; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				return err_makex(err, EINVAL, "invalid reference %s: repository name must be lowercase",
						 arg);
	} else if (strchr(key, '@')) {
		return err_makex(err, EINVAL, "invalid registry %s", arg);
	}
	if (ret_registry)
		*ret_registry = xstrndup(key, strcspn(key, "/"));
	*ret_key = TAKE_PTR(key);
	return 0;
}

/* ---------------- the file ---------------- */

/* Read and check file. Missing: 0 with *ret NULL. legacy: the top level is the auths map,
 * returned wrapped as {"auths": ...} so that callers see one shape. */
static int load_file(const char *file, bool legacy, struct json **ret, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	cleanup_json struct json *j = NULL;

	if (read_file_at(AT_FDCWD, file, AUTH_FILE_MAX, &buf, &len, err) < 0) {
		if (err_status(*err) == ENOENT) {
			err_clear(err);
			*ret = NULL;
			return 0;
		}
		return -1;
	}
	if (json_parse(buf, len, &j, err) < 0)
		return err_wrap(err, "%s: not valid JSON", file);
	if (!json_is(j, JSON_OBJECT))
		return err_makex(err, EINVAL, "%s: not a JSON object", file);
	if (legacy) {
		struct json *w = json_new_object();
		json_object_set(w, "auths", TAKE_PTR(j));
		j = w;
	}
	struct json *auths = json_object_get(j, "auths");
	if (auths && !json_is(auths, JSON_OBJECT) && !json_is(auths, JSON_NULL))
		return err_makex(err, EINVAL, "%s: \"auths\" is not an object", file);
	for (size_t i = 0; auths && json_is(auths, JSON_OBJECT) && i < auths->u.obj.len; i++) {
		const char *k = auths->u.obj.keys[i];
		struct json *e = auths->u.obj.vals[i];
		if (!json_is(e, JSON_OBJECT))
			return err_makex(err, EINVAL, "%s: auths entry %s is not an object", file, k);
		struct json *a = json_object_get(e, "auth");
		if (a && !json_is(a, JSON_STRING) && !json_is(a, JSON_NULL))
			return err_makex(err, EINVAL, "%s: auths entry %s: \"auth\" is not a string", file, k);
		struct json *t = json_object_get(e, "identitytoken");
		if (t && !json_is(t, JSON_STRING) && !json_is(t, JSON_NULL))
			return err_makex(err, EINVAL, "%s: auths entry %s: \"identitytoken\" is not a string", file, k);
	}
	struct json *ch = json_object_get(j, "credHelpers");
	if (ch && !json_is(ch, JSON_OBJECT) && !json_is(ch, JSON_NULL))
		return err_makex(err, EINVAL, "%s: \"credHelpers\" is not an object", file);
	for (size_t i = 0; ch && json_is(ch, JSON_OBJECT) && i < ch->u.obj.len; i++)
		if (!json_is(ch->u.obj.vals[i], JSON_STRING) || !*json_string(ch->u.obj.vals[i]))
			return err_makex(err, EINVAL, "%s: credHelpers entry %s is not a helper name", file,
					 ch->u.obj.keys[i]);
	struct json *cs = json_object_get(j, "credsStore");
	if (cs && !json_is(cs, JSON_STRING) && !json_is(cs, JSON_NULL))
		return err_makex(err, EINVAL, "%s: \"credsStore\" is not a string", file);
	*ret = TAKE_PTR(j);
	return 0;
}

/* The helper named for registry in j's credHelpers, or NULL. A key there may be a URL. */
static const char *cred_helper_for(const struct json *j, const char *registry)
{
	const struct json *ch = json_object_get(j, "credHelpers");
	cleanup_free char *want = key_registry(registry);

	for (size_t i = 0; json_is(ch, JSON_OBJECT) && i < ch->u.obj.len; i++) {
		if (strcmp(ch->u.obj.keys[i], registry) == 0)
			return json_string(ch->u.obj.vals[i]);
	}
	for (size_t i = 0; want && json_is(ch, JSON_OBJECT) && i < ch->u.obj.len; i++) {
		cleanup_free char *r = key_registry(ch->u.obj.keys[i]);
		if (r && strcmp(r, want) == 0)
			return json_string(ch->u.obj.vals[i]);
	}
	return NULL;
}

/* Helper names are a suffix of an executable name: no path separators. */
static int check_helper_name(const char *name, struct skiff_err **err)
{
	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return err_makex(err, EINVAL, "invalid credential helper name \"%s\"", name);
	return 0;
}

#define HELPER_NOT_FOUND "credentials not found in native keychain"

/*
 * Run docker-credential-NAME VERB with input on stdin (docker-credential-helpers protocol).
 * 0 with its stdout in *out, 1 when it says the credentials are not found, -1 on error.
 */
static int helper_run(const char *name, const char *verb, const char *input, struct strbuf *out, struct skiff_err **err)
{
	cleanup_free char *prog = NULL;
	cleanup_close int rfd = -1;
	cleanup_close int wfd = -1;
	struct strbuf errout = STRBUF_INIT;
	int fds[2], status = 0;

	if (check_helper_name(name, err) < 0)
		return -1;
	prog = xasprintf("docker-credential-%s", name);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_make(err, errno, "%s %s: pipe", prog, verb);
	rfd = fds[0];
	wfd = fds[1];
	/* the input is a host name or a small JSON object: it fits the pipe buffer */
	if (strlen(input) > 4096)
		return err_makex(err, E2BIG, "%s %s: input too long", prog, verb);
	if (write_all(wfd, input, strlen(input)) < 0)
		return err_make(err, errno, "%s %s: write", prog, verb);
	close(TAKE_FD(wfd));

	struct spawn_opts o = SPAWN_OPTS_INIT;
	o.stdin_fd = rfd;
	const char *const argv[] = {prog, verb, NULL};
	if (run_capture(argv, &o, out, &errout, &status, err) < 0) {
		strbuf_release(&errout);
		return err_wrap(err, "credential helper");
	}
	if (status != 0) {
		strbuf_rtrim(out);
		strbuf_rtrim(&errout);
		if (strstr(out->buf, HELPER_NOT_FOUND) || strstr(errout.buf, HELPER_NOT_FOUND)) {
			strbuf_release(&errout);
			return 1;
		}
		err_makex(err, EIO, "%s %s: exit status %d: %.200s", prog, verb, status,
			  errout.len ? errout.buf : out->buf);
		strbuf_release(&errout);
		return -1;
	}
	strbuf_release(&errout);
	return 0;
}

/* `get` through helper name for registry: 0 filled, 1 none, -1 error. */
static int helper_get(const char *name, const char *registry, const char *file, struct auth_cred *ret,
		      struct skiff_err **err)
{
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	cleanup_json struct json *j = NULL;

	int r = helper_run(name, "get", registry, &out, err);
	if (r < 0)
		return err_wrap(err, "%s: credentials for %s", file, registry);
	if (r == 1)
		return 1;
	if (json_parse(out.buf, out.len, &j, err) < 0)
		return err_wrap(err, "%s: credentials for %s: docker-credential-%s get: not JSON", file, registry,
				name);
	const char *user = json_object_get_string(j, "Username");
	const char *secret = json_object_get_string(j, "Secret");
	if (!secret || !*secret)
		return 1;
	memset(ret, 0, sizeof(*ret));
	if (user && strcmp(user, "<token>") == 0) {
		ret->identity_token = xstrdup(secret);
	} else {
		ret->user = xstrdup(user ? user : "");
		ret->pass = xstrdup(secret);
	}
	ret->file = xstrdup(file);
	ret->key = xasprintf("helper %s", name);
	return 0;
}

/* Decode an auths entry into *ret: 0 filled, 1 an empty entry (docker's marker when a
 * helper keeps the secret), -1 error naming file and key. */
static int decode_entry(const struct json *e, const char *file, const char *key, struct auth_cred *ret,
			struct skiff_err **err)
{
	const char *auth = json_object_get_string(e, "auth");
	const char *tok = json_object_get_string(e, "identitytoken");
	cleanup_free char *plain = NULL;
	size_t len = 0;
	struct auth_cred c = {0};

	if ((!auth || !*auth) && (!tok || !*tok))
		return 1;
	if (auth && *auth) {
		if (auth_base64_decode(auth, &plain, &len, err) < 0)
			return err_wrap(err, "%s: auths entry %s: \"auth\"", file, key);
		char *colon = memchr(plain, ':', len);
		if (!colon || memchr(plain, 0, len)) {
			explicit_bzero(plain, len);
			return err_makex(err, EINVAL, "%s: auths entry %s: \"auth\" is not base64 of user:password",
					 file, key);
		}
		c.user = xstrndup(plain, (size_t)(colon - plain));
		c.pass = xstrdup(colon + 1);
		explicit_bzero(plain, len);
	}
	if (tok && *tok)
		c.identity_token = xstrdup(tok);
	c.file = xstrdup(file);
	c.key = xstrdup(key);
	*ret = c;
	return 0;
}

/* Look ref up in one loaded file: 0 found, 1 none, -1 error. */
static int lookup(const struct json *j, const char *file, const char *ref, bool legacy, struct auth_cred *ret,
		  struct skiff_err **err)
{
	const struct json *auths = json_object_get(j, "auths");
	cleanup_free char *registry = xstrndup(ref, strcspn(ref, "/"));
	const char *helper = cred_helper_for(j, registry);
	int r;

	if (helper)
		return helper_get(helper, registry, file, ret, err);
	if (json_is(auths, JSON_OBJECT)) {
		/* exact keys, most specific first (the legacy format knows registries only) */
		cleanup_free char *name = xstrdup(legacy ? registry : ref);
		for (;;) {
			const struct json *e = json_object_get(auths, name);
			if (e) {
				r = decode_entry(e, file, name, ret, err);
				if (r <= 0)
					return r;
				break; /* an empty marker: the registry's helper, below */
			}
			char *slash = strrchr(name, '/');
			if (!slash)
				break;
			*slash = 0;
		}
		/* then the registry's URL-form keys, normalised */
		cleanup_free char *want = key_registry(registry);
		for (size_t i = 0; want && i < auths->u.obj.len; i++) {
			cleanup_free char *kr = key_registry(auths->u.obj.keys[i]);
			if (!kr || strcmp(kr, want) != 0 || strcmp(auths->u.obj.keys[i], registry) == 0)
				continue;
			r = decode_entry(auths->u.obj.vals[i], file, auths->u.obj.keys[i], ret, err);
			if (r <= 0)
				return r;
		}
	}
	const char *store = json_object_get_string(j, "credsStore");
	if (store && *store)
		return helper_get(store, registry, file, ret, err);
	return 1;
}

int auth_get(const struct auth_paths *p, const char *ref, struct auth_cred *ret, struct skiff_err **err)
{
	cleanup_free char *key = NULL;
	const char *files[] = {p->primary, p->xdg_config, p->docker, p->dockercfg};

	if (auth_parse_key(ref, &key, NULL, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		cleanup_json struct json *j = NULL;
		bool legacy = i == 3;
		if (!files[i])
			continue;
		if (load_file(files[i], legacy, &j, err) < 0)
			return -1;
		if (!j)
			continue;
		int r = lookup(j, files[i], key, legacy, ret, err);
		if (r <= 0)
			return r;
	}
	return 1;
}

/* ---------------- writing ---------------- */

static void obj_remove_at(struct json *obj, size_t i)
{
	free(obj->u.obj.keys[i]);
	json_free(obj->u.obj.vals[i]);
	memmove(obj->u.obj.keys + i, obj->u.obj.keys + i + 1, (obj->u.obj.len - i - 1) * sizeof(*obj->u.obj.keys));
	memmove(obj->u.obj.vals + i, obj->u.obj.vals + i + 1, (obj->u.obj.len - i - 1) * sizeof(*obj->u.obj.vals));
	obj->u.obj.len--;
}

/* The "auths" object of j, made (or replacing a null) if missing. */
static struct json *auths_of(struct json *j)
{
	struct json *a = json_object_get(j, "auths");
	if (!json_is(a, JSON_OBJECT)) {
		a = json_new_object();
		json_object_set(j, "auths", a);
	}
	return a;
}

static int save_file(const char *file, const struct json *j, struct skiff_err **err)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	cleanup_free char *dir = xstrdup(file);
	char *slash = strrchr(dir, '/');

	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir_p_at(AT_FDCWD, dir, 0700, err) < 0)
			return err_wrap(err, "%s", file);
	}
	json_dump(j, 4, &sb);
	strbuf_addch(&sb, '\n');
	if (write_file_atomic(AT_FDCWD, file, sb.buf, sb.len, 0600, err) < 0)
		return err_wrap(err, "write %s", file);
	return 0;
}

int auth_set(const char *file, const char *key, const char *user, const char *pass, char **ret_where,
	     struct skiff_err **err)
{
	cleanup_free char *k = NULL;
	cleanup_free char *registry = NULL;
	cleanup_json struct json *j = NULL;

	if (auth_parse_key(key, &k, &registry, err) < 0)
		return -1;
	if (strchr(user, ':'))
		return err_makex(err, EINVAL, "username %s: contains ':'", user);
	if (load_file(file, false, &j, err) < 0)
		return -1;
	if (!j)
		j = json_new_object();
	const char *helper = cred_helper_for(j, registry);
	if (helper) {
		cleanup_strbuf struct strbuf in = STRBUF_INIT;
		cleanup_strbuf struct strbuf out = STRBUF_INIT;
		cleanup_json struct json *req = json_new_object();
		json_object_set_string(req, "ServerURL", registry);
		json_object_set_string(req, "Username", user);
		json_object_set_string(req, "Secret", pass);
		json_dump(req, 0, &in);
		int r = helper_run(helper, "store", in.buf, &out, err);
		explicit_bzero(in.buf, in.len);
		if (r != 0) {
			if (r == 1)
				err_makex(err, EIO, "docker-credential-%s store: refused", helper);
			return err_wrap(err, "%s: store credentials for %s", file, registry);
		}
		if (ret_where)
			*ret_where = xasprintf("credential helper: %s", helper);
		return 0;
	}
	struct json *auths = auths_of(j);
	cleanup_free char *plain = xasprintf("%s:%s", user, pass);
	struct json *e = json_new_object();
	char *b64 = auth_base64_encode(plain, strlen(plain));
	explicit_bzero(plain, strlen(plain));
	json_object_set_string(e, "auth", b64);
	free(b64);
	json_object_set(auths, k, e);
	if (save_file(file, j, err) < 0)
		return -1;
	if (ret_where)
		*ret_where = xstrdup(file);
	return 0;
}

int auth_remove(const char *file, const char *key, struct skiff_err **err)
{
	cleanup_free char *k = NULL;
	cleanup_free char *registry = NULL;
	cleanup_json struct json *j = NULL;
	bool removed = false, changed = false;

	if (auth_parse_key(key, &k, &registry, err) < 0)
		return -1;
	if (load_file(file, false, &j, err) < 0)
		return -1;
	if (!j)
		return err_makex(err, ENOENT, "not logged into %s", k);
	const char *helper = cred_helper_for(j, registry);
	if (helper && strcmp(k, registry) == 0) {
		cleanup_strbuf struct strbuf out = STRBUF_INIT;
		int r = helper_run(helper, "erase", registry, &out, err);
		if (r < 0)
			return err_wrap(err, "%s: remove credentials for %s", file, registry);
		removed = r == 0;
	}
	struct json *auths = json_object_get(j, "auths");
	for (size_t i = 0; json_is(auths, JSON_OBJECT) && i < auths->u.obj.len; i++) {
		if (strcmp(auths->u.obj.keys[i], k) == 0) {
			obj_remove_at(auths, i);
			removed = changed = true;
			break;
		}
	}
	if (!changed && strcmp(k, registry) == 0) {
		cleanup_free char *want = key_registry(k);
		for (size_t i = 0; want && json_is(auths, JSON_OBJECT) && i < auths->u.obj.len; i++) {
			cleanup_free char *kr = key_registry(auths->u.obj.keys[i]);
			if (kr && strcmp(kr, want) == 0) {
				obj_remove_at(auths, i);
				removed = changed = true;
				break;
			}
		}
	}
	if (!removed)
		return err_makex(err, ENOENT, "not logged into %s", k);
	if (changed && save_file(file, j, err) < 0)
		return -1;
	return 0;
}

int auth_remove_all(const char *file, struct skiff_err **err)
{
	cleanup_json struct json *j = NULL;

	if (load_file(file, false, &j, err) < 0)
		return -1;
	if (!j)
		return 0;
	const struct json *ch = json_object_get(j, "credHelpers");
	for (size_t i = 0; json_is(ch, JSON_OBJECT) && i < ch->u.obj.len; i++) {
		cleanup_strbuf struct strbuf out = STRBUF_INIT;
		if (helper_run(json_string(ch->u.obj.vals[i]), "erase", ch->u.obj.keys[i], &out, err) < 0)
			return err_wrap(err, "%s: remove credentials for %s", file, ch->u.obj.keys[i]);
	}
	json_object_set(j, "auths", json_new_object());
	return save_file(file, j, err);
}
