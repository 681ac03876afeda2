/*
 * policy.json: strict parsing (as containers/image's policy_config.go), scope
 * selection, and the decision for one image (policy_eval*.go), with podman's messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/config/auth.h"
#include "pkg/digest/digest.h"
#include "pkg/json/json.h"
#include "pkg/trust/internal.h"
#include "pkg/trust/trust.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/strv.h"
#include "vendor-free/xalloc.h"

#define POLICY_MAX_SIZE (4u << 20)
#define KEY_MAX_SIZE (16u << 20)

enum req_type { REQ_ACCEPT, REQ_REJECT, REQ_SIGNED_BY, REQ_SIGSTORE, REQ_SIGNED_BASE_LAYER };

enum ident_type {
	ID_MATCH_EXACT,
	ID_MATCH_REPO_DIGEST_OR_EXACT,
	ID_MATCH_REPOSITORY,
	ID_EXACT_REFERENCE,
	ID_EXACT_REPOSITORY,
	ID_REMAP,
};

struct req {
	enum req_type type;
	char *key_type;
	struct strv key_paths; /* keyPath (one) or keyPaths */
	char *key_data;	       /* decoded keyData, or NULL */
	size_t key_data_len;
	enum ident_type ident;
	char *ident_a; /* dockerReference / dockerRepository / prefix */
	char *ident_b; /* signedPrefix */
};

struct reqs {
	struct req *v;
	size_t n;
};

struct scope {
	char *name;
	struct reqs reqs;
};

struct trust_policy {
	char *path;
	struct reqs def;
	struct scope *docker; /* transports.docker, "" included */
	size_t ndocker;
};

static void reqs_release(struct reqs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct req *q = &r->v[i];
		free(q->key_type);
		strv_release(&q->key_paths);
		free(q->key_data);
		free(q->ident_a);
		free(q->ident_b);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

void trust_policy_free(struct trust_policy *p)
{
	if (!p)
		return;
	reqs_release(&p->def);
	for (size_t i = 0; i < p->ndocker; i++) {
		free(p->docker[i].name);
		reqs_release(&p->docker[i].reqs);
	}
	free(p->docker);
	free(p->path);
	free(p);
}

const char *trust_policy_path(const struct trust_policy *p)
{
	return p->path;
}

/* ---- strict JSON helpers ---- */

static const char *type_name(const struct json *j)
{
	static const char *const names[] = {"null", "bool", "number", "string", "array", "object"};
	return names[j->type];
}

/* Every key of obj must be in allowed (NULL-terminated): `Unknown key "k"`. */
static int only_keys(const struct json *obj, const char *const *allowed, struct skiff_err **err)
{
	for (size_t i = 0; i < obj->u.obj.len; i++) {
		bool ok = false;
		for (size_t k = 0; allowed[k] && !ok; k++)
			ok = !strcmp(obj->u.obj.keys[i], allowed[k]);
		if (!ok)
			return err_makex(err, EINVAL, "Unknown key \"%s\"", obj->u.obj.keys[i]);
	}
	return 0;
}

/* A string member; required: `Key "k" missing in a JSON object`. Absent and not
 * required: *ret = NULL. */
static int get_string(const struct json *obj, const char *key, bool required, const char **ret, struct skiff_err **err)
{
	struct json *v = json_object_get(obj, key);
	if (!v) {
		if (required)
			return err_makex(err, EINVAL, "Key \"%s\" missing in a JSON object", key);
		*ret = NULL;
		return 0;
	}
	if (v->type != JSON_STRING)
		return err_makex(err, EINVAL, "\"%s\" is a JSON %s, not a string", key, type_name(v));
	if (strlen(v->u.str.s) != v->u.str.len)
		return err_makex(err, EINVAL, "\"%s\" contains a NUL byte", key);
	*ret = v->u.str.s;
	return 0;
}

/* ---- parsing ---- */

static int parse_identity(const struct json *j, struct req *q, struct skiff_err **err)
{
	const char *t, *a, *b;
	cleanup_dref struct dref r = {0};

	if (j->type != JSON_OBJECT)
		return err_makex(err, EINVAL, "signedIdentity is a JSON %s, not an object", type_name(j));
	if (get_string(j, "type", true, &t, err) < 0)
		return err_wrap(err, "signedIdentity");
	if (!strcmp(t, "matchExact") || !strcmp(t, "matchRepoDigestOrExact") || !strcmp(t, "matchRepository")) {
		if (only_keys(j, (const char *const[]){"type", NULL}, err) < 0)
			return err_wrap(err, "signedIdentity %s", t);
		q->ident = !strcmp(t, "matchExact")	   ? ID_MATCH_EXACT
			   : !strcmp(t, "matchRepository") ? ID_MATCH_REPOSITORY
							   : ID_MATCH_REPO_DIGEST_OR_EXACT;
		return 0;
	}
	if (!strcmp(t, "exactReference")) {
		if (only_keys(j, (const char *const[]){"type", "dockerReference", NULL}, err) < 0 ||
		    get_string(j, "dockerReference", true, &a, err) < 0)
			return err_wrap(err, "signedIdentity %s", t);
		if (dref_parse(a, false, &r, err) < 0)
			return err_wrap(err, "Invalid format of dockerReference \"%s\"", a);
		if (dref_name_only(&r))
			return err_makex(err, EINVAL, "dockerReference \"%s\" contains neither a tag nor digest", a);
		q->ident = ID_EXACT_REFERENCE;
		q->ident_a = xstrdup(a);
		return 0;
	}
	if (!strcmp(t, "exactRepository")) {
		if (only_keys(j, (const char *const[]){"type", "dockerRepository", NULL}, err) < 0 ||
		    get_string(j, "dockerRepository", true, &a, err) < 0)
			return err_wrap(err, "signedIdentity %s", t);
		if (dref_parse(a, false, &r, err) < 0)
			return err_wrap(err, "Invalid format of dockerRepository \"%s\"", a);
		q->ident = ID_EXACT_REPOSITORY;
		q->ident_a = xstrdup(a);
		return 0;
	}
	if (!strcmp(t, "remapIdentity")) {
		if (only_keys(j, (const char *const[]){"type", "prefix", "signedPrefix", NULL}, err) < 0 ||
		    get_string(j, "prefix", true, &a, err) < 0 || get_string(j, "signedPrefix", true, &b, err) < 0)
			return err_wrap(err, "signedIdentity %s", t);
		if (!dref_valid_remap_prefix(a))
			return err_makex(err, EINVAL, "prefix \"%s\" is not valid", a);
		if (!dref_valid_remap_prefix(b))
			return err_makex(err, EINVAL, "prefix \"%s\" is not valid", b);
		q->ident = ID_REMAP;
		q->ident_a = xstrdup(a);
		q->ident_b = xstrdup(b);
		return 0;
	}
	return err_makex(err, EINVAL, "Unknown policy reference match type \"%s\"", t);
}

static int parse_signed_by(const struct json *j, struct req *q, struct skiff_err **err)
{
	static const char *const keys[] = {"type", "keyType", "keyPath", "keyPaths", "keyData", "signedIdentity", NULL};
	const char *kt, *path, *data;
	struct json *paths = json_object_get(j, "keyPaths");
	struct json *ident = json_object_get(j, "signedIdentity");
	int sources;

	if (only_keys(j, keys, err) < 0)
		return -1;
	if (get_string(j, "keyType", false, &kt, err) < 0 || get_string(j, "keyPath", false, &path, err) < 0 ||
	    get_string(j, "keyData", false, &data, err) < 0)
		return -1;
	if (!kt)
		return err_makex(err, EINVAL, "invalid keyType \"\"");
	if (strcmp(kt, "GPGKeys") && strcmp(kt, "signedByGPGKeys") && strcmp(kt, "X509Certificates") &&
	    strcmp(kt, "signedByX509CAs"))
		return err_makex(err, EINVAL, "Unrecognized keyType value \"%s\"", kt);
	sources = !!path + !!paths + !!data;
	if (sources == 0)
		return err_makex(
			err, EINVAL,
			"Exactly one of keyPath, keyPaths and keyData must be specified, none of them present");
	if (sources > 1)
		return err_makex(
			err, EINVAL,
			"Exactly one of keyPath, keyPaths and keyData must be specified, more than one present");
	q->type = REQ_SIGNED_BY;
	q->key_type = xstrdup(kt);
	if (path)
		strv_push(&q->key_paths, path);
	if (paths) {
		if (paths->type != JSON_ARRAY)
			return err_makex(err, EINVAL, "\"keyPaths\" is a JSON %s, not an array", type_name(paths));
		for (size_t i = 0; i < paths->u.arr.len; i++) {
			const char *s = json_string(paths->u.arr.items[i]);
			if (!s || strlen(s) != paths->u.arr.items[i]->u.str.len)
				return err_makex(err, EINVAL, "\"keyPaths\"[%zu] is not a string", i);
			strv_push(&q->key_paths, s);
		}
	}
	if (data && auth_base64_decode(data, &q->key_data, &q->key_data_len, err) < 0)
		return err_wrap(err, "keyData");
	if (!ident) {
		q->ident = ID_MATCH_REPO_DIGEST_OR_EXACT;
		return 0;
	}
	return parse_identity(ident, q, err);
}

static int parse_req(const struct json *j, struct req *q, struct skiff_err **err)
{
	const char *t;

	if (j->type != JSON_OBJECT)
		return err_makex(err, EINVAL, "a policy requirement is a JSON %s, not an object", type_name(j));
	if (get_string(j, "type", false, &t, err) < 0)
		return -1;
	if (!t)
		return err_makex(err, EINVAL, "Unknown policy requirement type \"\"");
	if (!strcmp(t, "insecureAcceptAnything") || !strcmp(t, "reject")) {
		q->type = !strcmp(t, "reject") ? REQ_REJECT : REQ_ACCEPT;
		return only_keys(j, (const char *const[]){"type", NULL}, err);
	}
	if (!strcmp(t, "signedBy"))
		return parse_signed_by(j, q, err);
	if (!strcmp(t, "sigstoreSigned")) {
		/* Not verified by skiff: any image under it is rejected, but the file loads. */
		q->type = REQ_SIGSTORE;
		return 0;
	}
	if (!strcmp(t, "signedBaseLayer")) {
		q->type = REQ_SIGNED_BASE_LAYER;
		return only_keys(j, (const char *const[]){"type", "baseLayerIdentity", NULL}, err);
	}
	return err_makex(err, EINVAL, "Unknown policy requirement type \"%s\"", t);
}

static int parse_reqs(const struct json *j, struct reqs *ret, struct skiff_err **err)
{
	struct reqs r = {0};

	if (j->type != JSON_ARRAY)
		return err_makex(err, EINVAL, "requirements are a JSON %s, not an array", type_name(j));
	if (j->u.arr.len == 0)
		return err_makex(err, EINVAL, "List of verification policy requirements must not be empty");
	r.v = xcalloc(j->u.arr.len, sizeof(*r.v));
	for (size_t i = 0; i < j->u.arr.len; i++) {
		r.n++;
		if (parse_req(j->u.arr.items[i], &r.v[i], err) < 0) {
			reqs_release(&r);
			return -1;
		}
	}
	*ret = r;
	return 0;
}

static int parse_policy(const struct json *root, struct trust_policy *p, struct skiff_err **err)
{
	struct json *def, *transports;

	if (root->type != JSON_OBJECT)
		return err_makex(err, EINVAL, "the policy is a JSON %s, not an object", type_name(root));
	if (only_keys(root, (const char *const[]){"default", "transports", NULL}, err) < 0)
		return -1;
	def = json_object_get(root, "default");
	if (!def || def->type == JSON_NULL)
		return err_makex(err, EINVAL, "Default policy is missing");
	if (parse_reqs(def, &p->def, err) < 0)
		return err_wrap(err, "default");
	transports = json_object_get(root, "transports");
	if (!transports || transports->type == JSON_NULL)
		return 0;
	if (transports->type != JSON_OBJECT)
		return err_makex(err, EINVAL, "transports is a JSON %s, not an object", type_name(transports));
	for (size_t t = 0; t < transports->u.obj.len; t++) {
		const char *tname = transports->u.obj.keys[t];
		const struct json *scopes = transports->u.obj.vals[t];
		bool docker = !strcmp(tname, "docker");

		if (scopes->type != JSON_OBJECT)
			return err_makex(err, EINVAL, "transports.%s is a JSON %s, not an object", tname,
					 type_name(scopes));
		if (docker)
			p->docker = xcalloc(scopes->u.obj.len ? scopes->u.obj.len : 1, sizeof(*p->docker));
		for (size_t s = 0; s < scopes->u.obj.len; s++) {
			struct reqs r = {0};
			/* Other transports are checked, then dropped: skiff pulls from registries only. */
			if (parse_reqs(scopes->u.obj.vals[s], &r, err) < 0)
				return err_wrap(err, "transports.%s \"%s\"", tname, scopes->u.obj.keys[s]);
			if (!docker) {
				reqs_release(&r);
				continue;
			}
			p->docker[p->ndocker].name = xstrdup(scopes->u.obj.keys[s]);
			p->docker[p->ndocker].reqs = r;
			p->ndocker++;
		}
	}
	return 0;
}

int trust_policy_parse(const char *data, size_t len, const char *origin, struct trust_policy **ret,
		       struct skiff_err **err)
{
	cleanup_json struct json *root = NULL;
	struct trust_policy *p;

	if (json_parse(data, len, &root, err) < 0)
		return err_wrap(err, "invalid policy in \"%s\"", origin);
	p = xzalloc(sizeof(*p));
	p->path = xstrdup(origin);
	if (parse_policy(root, p, err) < 0) {
		trust_policy_free(p);
		return err_wrap(err, "invalid policy in \"%s\"", origin);
	}
	*ret = p;
	return 0;
}

int trust_policy_load(const char *path, struct trust_policy **ret, struct skiff_err **err)
{
	cleanup_free char *home = NULL, *user = NULL, *data = NULL;
	size_t len;

	if (!path) {
		struct skiff_err *e = NULL;
		if (trust_home(&home, &e) == 0) {
			user = xasprintf("%s/%s", home, TRUST_POLICY_USER);
			if (access(user, F_OK) == 0)
				path = user;
		}
		err_free(e);
		if (!path && access(TRUST_POLICY_SYSTEM, F_OK) == 0)
			path = TRUST_POLICY_SYSTEM;
		if (!path)
			return err_makex(err, ENOENT,
					 "no policy.json file found at any of the following: \"%s\", \"%s\"",
					 user ? user : "$HOME/" TRUST_POLICY_USER, TRUST_POLICY_SYSTEM);
	}
	if (read_file_at(AT_FDCWD, path, POLICY_MAX_SIZE, &data, &len, err) < 0)
		return err_wrap(err, "read the signature policy");
	return trust_policy_parse(data, len, path, ret, err);
}

/* ---- scope selection ---- */

static const struct scope *find_scope(const struct trust_policy *p, const char *name)
{
	for (size_t i = 0; i < p->ndocker; i++)
		if (!strcmp(p->docker[i].name, name))
			return &p->docker[i];
	return NULL;
}

/* The requirements for r (tagged or digested) and the scope they came from. */
static int reqs_for(const struct trust_policy *p, const struct dref *r, const struct reqs **ret, const char **ret_scope,
		    struct skiff_err **err)
{
	cleanup_free char *identity = NULL;
	cleanup_strv struct strv ns = STRV_INIT;
	const struct scope *s;

	if (dref_policy_identity(r, &identity, err) < 0)
		return -1;
	s = find_scope(p, identity);
	dref_policy_namespaces(r, &ns);
	for (size_t i = 0; !s && i < ns.len; i++)
		s = find_scope(p, ns.v[i]);
	if (!s)
		s = find_scope(p, "");
	*ret = s ? &s->reqs : &p->def;
	*ret_scope = s ? s->name : NULL;
	return 0;
}

/* Parse the image name; a bare name means :latest, as the docker transport does. */
static int image_ref(const char *name, struct dref *ret, struct skiff_err **err)
{
	if (dref_parse(name, false, ret, err) < 0)
		return -1;
	if (dref_name_only(ret))
		ret->tag = xstrdup("latest");
	return 0;
}

int trust_policy_scope(const struct trust_policy *p, const char *name, const char **ret_scope, struct skiff_err **err)
{
	cleanup_dref struct dref r = {0};
	const struct reqs *reqs;

	if (image_ref(name, &r, err) < 0 || reqs_for(p, &r, &reqs, ret_scope, err) < 0)
		return -1;
	return 0;
}

bool trust_needs_signatures(const struct trust_policy *p, const char *name)
{
	cleanup_dref struct dref r = {0};
	const struct reqs *reqs;
	const char *scope;
	struct skiff_err *e = NULL;

	if (image_ref(name, &r, &e) < 0 || reqs_for(p, &r, &reqs, &scope, &e) < 0) {
		err_free(e);
		return true;
	}
	for (size_t i = 0; i < reqs->n; i++)
		if (reqs->v[i].type == REQ_SIGNED_BY)
			return true;
	return false;
}

/* ---- identity matching (policy_reference_match.go) ---- */

static bool repo_digest_or_exact(const struct dref *intended, const struct dref *sig)
{
	cleanup_free char *a = NULL, *b = NULL;

	if (dref_name_only(sig))
		return false;
	if (intended->tag) {
		a = dref_string(intended);
		b = dref_string(sig);
		return !strcmp(a, b);
	}
	if (intended->digest)
		return !strcmp(intended->name, sig->name);
	return false;
}

static bool identity_matches(const struct req *q, const struct dref *intended, const char *signed_ref)
{
	cleanup_dref struct dref sig = {0};
	cleanup_dref struct dref want = {0};
	cleanup_free char *a = NULL, *b = NULL;

	if (dref_parse(signed_ref, false, &sig, NULL) < 0)
		return false;
	switch (q->ident) {
	case ID_MATCH_EXACT:
		if (dref_name_only(intended) || dref_name_only(&sig))
			return false;
		a = dref_string(intended);
		b = dref_string(&sig);
		return !strcmp(a, b);
	case ID_MATCH_REPO_DIGEST_OR_EXACT:
		return repo_digest_or_exact(intended, &sig);
	case ID_MATCH_REPOSITORY:
		return !strcmp(intended->name, sig.name);
	case ID_EXACT_REFERENCE:
		if (dref_parse(q->ident_a, false, &want, NULL) < 0 || dref_name_only(&want) || dref_name_only(&sig))
			return false;
		a = dref_string(&want);
		b = dref_string(&sig);
		return !strcmp(a, b);
	case ID_EXACT_REPOSITORY:
		if (dref_parse(q->ident_a, false, &want, NULL) < 0)
			return false;
		return !strcmp(want.name, sig.name);
	case ID_REMAP: {
		size_t pl = strlen(q->ident_a);
		const char *name = intended->name;
		if (strncmp(name, q->ident_a, pl) != 0 || (name[pl] != '\0' && name[pl] != '/'))
			return repo_digest_or_exact(intended, &sig);
		cleanup_free char *full = dref_string(intended);
		cleanup_free char *remapped = xasprintf("%s%s", q->ident_b, full + pl);
		if (dref_parse(remapped, true, &want, NULL) < 0)
			return false;
		return repo_digest_or_exact(&want, &sig);
	}
	}
	return false;
}

/* ---- the signature payload ---- */

void sig_payload_release(struct sig_payload *p)
{
	free(p->digest);
	free(p->reference);
	p->digest = p->reference = NULL;
}

static int exact_object(const struct json *j, const char *what, const char *const *keys, struct skiff_err **err)
{
	if (!j)
		return err_makex(err, EINVAL, "Key \"%s\" missing in a JSON object", what);
	if (j->type != JSON_OBJECT)
		return err_makex(err, EINVAL, "%s is a JSON %s, not an object", what, type_name(j));
	if (only_keys(j, keys, err) < 0)
		return err_wrap(err, "%s", what);
	for (size_t i = 0; keys[i]; i++)
		if (!json_object_get(j, keys[i]))
			return err_makex(err, EINVAL, "%s: Key \"%s\" missing in a JSON object", what, keys[i]);
	return 0;
}

/* digest := algorithm ":" encoded, as go-digest parses it (sha256: 64 lowercase hex). */
static bool digest_parses(const char *d)
{
	const char *colon = strchr(d, ':');
	if (!colon || colon == d || !colon[1])
		return false;
	if (!strncmp(d, "sha256:", 7))
		return digest_valid(d);
	for (const char *p = d; p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("+._-", *p)))
			return false;
	for (const char *p = colon + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '=' ||
		      *p == '_' || *p == '-'))
			return false;
	return true;
}

int sig_payload_parse(const char *data, size_t len, struct sig_payload *ret, struct skiff_err **err)
{
	cleanup_json struct json *root = NULL;
	struct json *critical, *optional, *image, *identity, *v;
	const char *t, *digest, *ref;

	if (json_parse(data, len, &root, err) < 0)
		return -1;
	if (exact_object(root, "signature", (const char *const[]){"critical", "optional", NULL}, err) < 0)
		return -1;
	critical = json_object_get(root, "critical");
	optional = json_object_get(root, "optional");
	if (optional->type != JSON_OBJECT)
		return err_makex(err, EINVAL, "optional is a JSON %s, not an object", type_name(optional));
	if ((v = json_object_get(optional, "creator")) && v->type != JSON_STRING)
		return err_makex(err, EINVAL, "Field optional.creator is not a string");
	if ((v = json_object_get(optional, "timestamp")) && (v->type != JSON_NUMBER || !v->u.num.is_int))
		return err_makex(err, EINVAL, "Field optional.timestamp is not an integer");
	if (exact_object(critical, "critical", (const char *const[]){"type", "image", "identity", NULL}, err) < 0)
		return -1;
	if (get_string(critical, "type", true, &t, err) < 0)
		return err_wrap(err, "critical");
	if (strcmp(t, "atomic container signature") != 0)
		return err_makex(err, EINVAL, "Unrecognized signature type %s", t);
	image = json_object_get(critical, "image");
	identity = json_object_get(critical, "identity");
	if (exact_object(image, "critical.image", (const char *const[]){"docker-manifest-digest", NULL}, err) < 0 ||
	    get_string(image, "docker-manifest-digest", true, &digest, err) < 0)
		return -1;
	if (!digest_parses(digest))
		return err_makex(err, EINVAL, "invalid docker-manifest-digest value \"%s\"", digest);
	if (exact_object(identity, "critical.identity", (const char *const[]){"docker-reference", NULL}, err) < 0 ||
	    get_string(identity, "docker-reference", true, &ref, err) < 0)
		return -1;
	ret->digest = xstrdup(digest);
	ret->reference = xstrdup(ref);
	return 0;
}

int trust_sig_payload(const char *docker_reference, const char *manifest_digest, char **ret, size_t *ret_len,
		      struct skiff_err **err)
{
	cleanup_json struct json *root = json_new_object();
	struct json *critical = json_new_object(), *identity = json_new_object(), *image = json_new_object();
	struct json *optional = json_new_object();
	struct strbuf sb = STRBUF_INIT;

	if (!digest_parses(manifest_digest)) {
		json_free(critical), json_free(identity), json_free(image), json_free(optional);
		return err_makex(err, EINVAL, "invalid manifest digest \"%s\"", manifest_digest);
	}
	if (!*docker_reference) {
		json_free(critical), json_free(identity), json_free(image), json_free(optional);
		return err_makex(err, EINVAL, "empty docker reference");
	}
	/* Keys in the order Go's encoder writes them (sorted), so payloads compare. */
	json_object_set_string(identity, "docker-reference", docker_reference);
	json_object_set(critical, "identity", identity);
	json_object_set_string(image, "docker-manifest-digest", manifest_digest);
	json_object_set(critical, "image", image);
	json_object_set_string(critical, "type", "atomic container signature");
	json_object_set_string(optional, "creator", "skiff " SKIFF_VERSION);
	json_object_set_int(optional, "timestamp", (int64_t)time(NULL));
	json_object_set(root, "critical", critical);
	json_object_set(root, "optional", optional);
	json_dump(root, 0, &sb);
	*ret = strbuf_detach(&sb, ret_len);
	return 0;
}

int trust_sign(const char *key, const char *passphrase, const char *docker_reference, const char *manifest_digest,
	       char **ret_sig, size_t *ret_len, struct skiff_err **err)
{
	cleanup_free char *payload = NULL;
	cleanup_dref struct dref r = {0};
	size_t len;

	if (dref_parse(docker_reference, false, &r, err) < 0)
		return err_wrap(err, "sign");
	if (dref_name_only(&r))
		return err_makex(err, EINVAL, "sign %s: the reference has neither a tag nor a digest",
				 docker_reference);
	cleanup_free char *full = dref_string(&r);
	if (trust_sig_payload(full, manifest_digest, &payload, &len, err) < 0)
		return err_wrap(err, "sign %s", full);
	if (gpg_sign(key, passphrase, payload, len, ret_sig, ret_len, err) < 0)
		return err_wrap(err, "sign %s", full);
	return 0;
}

/* ---- evaluation ---- */

/* The trusted keyrings of a signedBy: keyData, or each file. */
static int load_keys(const struct req *q, struct trust_sig **ret, size_t *ret_n, struct skiff_err **err)
{
	size_t n = q->key_data ? 1 : q->key_paths.len;
	struct trust_sig *v = xcalloc(n ? n : 1, sizeof(*v));

	if (q->key_data) {
		v[0].data = xmalloc(q->key_data_len + 1);
		memcpy(v[0].data, q->key_data, q->key_data_len);
		v[0].len = q->key_data_len;
	}
	for (size_t i = 0; !q->key_data && i < n; i++) {
		if (read_file_at(AT_FDCWD, q->key_paths.v[i], KEY_MAX_SIZE, &v[i].data, &v[i].len, err) < 0) {
			trust_sigs_free(v, n);
			return -1;
		}
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* One signature against one signedBy (isSignatureAuthorAccepted). */
static int check_one(const struct req *q, struct gpg_verifier *v, const struct dref *intended,
		     const char *manifest_digest, const struct trust_sig *sig, struct skiff_err **err)
{
	cleanup_free char *payload = NULL;
	struct sig_payload sp = {0};
	size_t len;
	int r = -1;

	if (gpg_verify(v, sig->data, sig->len, &payload, &len, err) < 0)
		return -1;
	if (sig_payload_parse(payload, len, &sp, err) < 0)
		return -1;
	if (strcmp(sp.digest, manifest_digest) != 0)
		err_makex(err, EACCES, "Signature for digest %s does not match", sp.digest);
	else if (!identity_matches(q, intended, sp.reference))
		err_makex(err, EACCES, "Signature for identity %s is not accepted", sp.reference);
	else
		r = 0;
	sig_payload_release(&sp);
	return r;
}

static int check_signed_by(const struct req *q, const struct dref *intended, const char *manifest_digest,
			   const struct trust_sig *sigs, size_t nsigs, struct skiff_err **err)
{
	struct trust_sig *keys = NULL;
	size_t nkeys;
	struct gpg_verifier *v = NULL;
	struct strbuf reasons = STRBUF_INIT;
	size_t nrej = 0;
	int r = -1;

	if (strcmp(q->key_type, "GPGKeys") != 0)
		return err_makex(err, EACCES, "Unimplemented \"keyType\" value \"%s\"", q->key_type);
	if (nsigs == 0)
		return err_makex(err, EACCES, "A signature was required, but no signature exists");
	if (load_keys(q, &keys, &nkeys, err) < 0)
		return -1;
	int rv = gpg_verifier_new(keys, nkeys, &v, err);
	trust_sigs_free(keys, nkeys);
	if (rv < 0)
		return -1;
	for (size_t i = 0; i < nsigs; i++) {
		struct skiff_err *e = NULL;
		if (check_one(q, v, intended, manifest_digest, &sigs[i], &e) == 0) {
			r = 0;
			break;
		}
		if (nrej++)
			strbuf_addstr(&reasons, "; ");
		strbuf_addstr(&reasons, e->msg);
		err_free(e);
	}
	gpg_verifier_free(v);
	if (r < 0) {
		if (nrej == 1)
			err_makex(err, EACCES, "%s", reasons.buf);
		else
			err_makex(err, EACCES, "None of the signatures were accepted, reasons: %s", reasons.buf);
	}
	strbuf_release(&reasons);
	return r;
}

int trust_check(const struct trust_policy *p, const char *name, const char *manifest, size_t len,
		const struct trust_sig *sigs, size_t nsigs, struct skiff_err **err)
{
	cleanup_dref struct dref r = {0};
	cleanup_free char *full = NULL;
	const struct reqs *reqs;
	const char *scope;
	char digest[DIGEST_STR_LEN + 1];

	if (image_ref(name, &r, err) < 0 || reqs_for(p, &r, &reqs, &scope, err) < 0)
		return err_wrap(err, "signature policy");
	digest_buf(manifest, len, digest);
	if (r.digest && strcmp(r.digest, digest) != 0)
		return err_makex(err, EINVAL, "manifest digest %s does not match the reference %s@%s", digest, r.name,
				 r.digest);
	full = dref_string(&r);
	for (size_t i = 0; i < reqs->n; i++) {
		const struct req *q = &reqs->v[i];
		switch (q->type) {
		case REQ_ACCEPT:
			continue;
		case REQ_REJECT:
			return err_makex(err, EACCES,
					 "Source image rejected: Running image docker://%s is rejected by policy.",
					 full);
		case REQ_SIGSTORE:
			return err_makex(
				err, EACCES,
				"Source image rejected: sigstoreSigned signatures are not supported (policy %s)",
				p->path);
		case REQ_SIGNED_BASE_LAYER:
			return err_makex(err, EACCES, "Source image rejected: signedBaseLayer not implemented yet!");
		case REQ_SIGNED_BY:
			if (check_signed_by(q, &r, digest, sigs, nsigs, err) < 0)
				return err_wrap(err, "Source image rejected");
			continue;
		}
	}
	return 0;
}
