/* Manifest lists: see manifest.h. The document first, then the lists in the store, then
 * the registry side (remote references, push). */
#include "pkg/image/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "pkg/image/image-internal.h"
#include "pkg/image/reference.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

#define MLIST_MAX_ENTRIES 4096

struct mlist *mlist_new(const char *media_type)
{
	struct mlist *l = xzalloc(sizeof(*l));
	l->media_type = xstrdup(media_type ? media_type : SPEC_MT_DOCKER_LIST);
	return l;
}

static void entry_release(struct mlist_entry *e)
{
	free(e->media_type);
	free(e->digest);
	strv_release(&e->urls);
	free(e->arch);
	free(e->os);
	free(e->os_version);
	free(e->variant);
	strv_release(&e->os_features);
	strv_release(&e->features);
	spec_map_release(&e->annotations);
	memset(e, 0, sizeof(*e));
}

void mlist_free(struct mlist *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->len; i++)
		entry_release(&l->v[i]);
	free(l->v);
	free(l->media_type);
	spec_map_release(&l->annotations);
	free(l);
}

/* ---- parse ---- */

static int get_string(const struct json *obj, const char *key, bool required, char **ret, struct skiff_err **err)
{
	const struct json *v = json_object_get(obj, key);
	if (!v || json_is(v, JSON_NULL)) {
		if (required)
			return err_makex(err, EINVAL, "%s: missing", key);
		return 0;
	}
	if (!json_is(v, JSON_STRING))
		return err_makex(err, EINVAL, "%s: must be a string", key);
	if (memchr(v->u.str.s, '\0', v->u.str.len))
		return err_makex(err, EINVAL, "%s: contains a NUL byte", key);
	free(*ret);
	*ret = xstrdup(v->u.str.s);
	return 0;
}

static int get_strv(const struct json *obj, const char *key, struct strv *ret, struct skiff_err **err)
{
	const struct json *v = json_object_get(obj, key);
	if (!v || json_is(v, JSON_NULL))
		return 0;
	if (!json_is(v, JSON_ARRAY))
		return err_makex(err, EINVAL, "%s: must be an array of strings", key);
	for (size_t i = 0; i < json_array_len(v); i++) {
		const char *s = json_string(json_array_get(v, i));
		if (!s)
			return err_makex(err, EINVAL, "%s[%zu]: must be a string", key, i);
		strv_push(ret, s);
	}
	return 0;
}

static int get_map(const struct json *obj, const char *key, struct spec_map *ret, struct skiff_err **err)
{
	const struct json *v = json_object_get(obj, key);
	if (!v || json_is(v, JSON_NULL))
		return 0;
	if (!json_is(v, JSON_OBJECT))
		return err_makex(err, EINVAL, "%s: must be an object of strings", key);
	for (size_t i = 0; i < v->u.obj.len; i++) {
		const char *s = json_string(v->u.obj.vals[i]);
		if (!s)
			return err_makex(err, EINVAL, "%s: %s: must be a string", key, v->u.obj.keys[i]);
		spec_map_set(ret, v->u.obj.keys[i], s);
	}
	return 0;
}

static int parse_platform(const struct json *p, struct mlist_entry *e, struct skiff_err **err)
{
	if (!json_is(p, JSON_OBJECT))
		return err_makex(err, EINVAL, "must be an object");
	e->has_platform = true;
	if (get_string(p, "architecture", true, &e->arch, err) < 0 || get_string(p, "os", true, &e->os, err) < 0 ||
	    get_string(p, "os.version", false, &e->os_version, err) < 0 ||
	    get_strv(p, "os.features", &e->os_features, err) < 0 ||
	    get_string(p, "variant", false, &e->variant, err) < 0 || get_strv(p, "features", &e->features, err) < 0)
		return -1;
	return 0;
}

static int parse_entry(const struct json *j, struct mlist_entry *e, struct skiff_err **err)
{
	const struct json *size, *plat;
	if (!json_is(j, JSON_OBJECT))
		return err_makex(err, EINVAL, "must be an object");
	if (get_string(j, "mediaType", true, &e->media_type, err) < 0 ||
	    get_string(j, "digest", true, &e->digest, err) < 0)
		return -1;
	if (!spec_media_type_valid(e->media_type))
		return err_makex(err, EINVAL, "mediaType: \"%.128s\" is not a media type", e->media_type);
	if (!digest_valid(e->digest))
		return err_makex(err, EINVAL, "digest: \"%.128s\" is not a sha256 digest", e->digest);
	size = json_object_get(j, "size");
	if (!size || !json_is(size, JSON_NUMBER) || !size->u.num.is_int || size->u.num.i < 0)
		return err_makex(err, EINVAL, "size: must be an integer >= 0");
	e->size = size->u.num.i;
	if (get_strv(j, "urls", &e->urls, err) < 0 || get_map(j, "annotations", &e->annotations, err) < 0)
		return -1;
	plat = json_object_get(j, "platform");
	if (plat && !json_is(plat, JSON_NULL) && parse_platform(plat, e, err) < 0)
		return err_wrap(err, "platform");
	return 0;
}

int mlist_parse(const char *buf, size_t len, struct mlist **ret, struct skiff_err **err)
{
	cleanup_json struct json *j = NULL;
	cleanup_mlist struct mlist *l = NULL;
	const struct json *sv, *mf;
	char *mt = NULL;

	if (json_parse(buf, len, &j, err) < 0)
		return err_wrap(err, "manifest list");
	if (!json_is(j, JSON_OBJECT))
		return err_makex(err, EINVAL, "manifest list: not a JSON object");
	sv = json_object_get(j, "schemaVersion");
	if (!sv || !json_is(sv, JSON_NUMBER) || !sv->u.num.is_int || sv->u.num.i != 2)
		return err_makex(err, EINVAL, "manifest list: schemaVersion: must be 2");
	if (get_string(j, "mediaType", false, &mt, err) < 0)
		return err_wrap(err, "manifest list");
	if (mt && !spec_media_type_is_index(mt)) {
		err_makex(err, EINVAL, "manifest list: mediaType: %.128s is not a manifest list or index type", mt);
		free(mt);
		return -1;
	}
	l = mlist_new(mt ? mt : SPEC_MT_OCI_INDEX);
	free(mt);
	mf = json_object_get(j, "manifests");
	if (mf && !json_is(mf, JSON_NULL)) {
		if (!json_is(mf, JSON_ARRAY))
			return err_makex(err, EINVAL, "manifest list: manifests: must be an array");
		if (json_array_len(mf) > MLIST_MAX_ENTRIES)
			return err_makex(err, EINVAL, "manifest list: more than %d entries", MLIST_MAX_ENTRIES);
		for (size_t i = 0; i < json_array_len(mf); i++) {
			ALLOC_GROW(l->v, l->len + 1, l->alloc);
			struct mlist_entry *e = &l->v[l->len++];
			memset(e, 0, sizeof(*e));
			if (parse_entry(json_array_get(mf, i), e, err) < 0)
				return err_wrap(err, "manifest list: manifests[%zu]", i);
		}
	}
	if (get_map(j, "annotations", &l->annotations, err) < 0)
		return err_wrap(err, "manifest list");
	*ret = TAKE_PTR(l);
	return 0;
}

/* ---- generate ---- */

static struct json *strv_json(const struct strv *sv)
{
	struct json *a = json_new_array();
	for (size_t i = 0; i < sv->len; i++)
		json_array_append(a, json_new_string(sv->v[i]));
	return a;
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct spec_kv *)a)->key, ((const struct spec_kv *)b)->key);
}

/* Go writes maps with sorted keys. */
static struct json *map_json(const struct spec_map *m)
{
	struct json *o = json_new_object();
	struct spec_kv *v = xcalloc(m->len ? m->len : 1, sizeof(*v));
	memcpy(v, m->items, m->len * sizeof(*v));
	qsort(v, m->len, sizeof(*v), cmp_kv);
	for (size_t i = 0; i < m->len; i++)
		json_object_set_string(o, v[i].key, v[i].value);
	free(v);
	return o;
}

static struct json *platform_json(const struct mlist_entry *e, bool docker)
{
	struct json *p = json_new_object();
	json_object_set_string(p, "architecture", e->arch ? e->arch : "");
	json_object_set_string(p, "os", e->os ? e->os : "");
	if (e->os_version && *e->os_version)
		json_object_set_string(p, "os.version", e->os_version);
	if (e->os_features.len)
		json_object_set(p, "os.features", strv_json(&e->os_features));
	if (e->variant && *e->variant)
		json_object_set_string(p, "variant", e->variant);
	if (docker && e->features.len)
		json_object_set(p, "features", strv_json(&e->features));
	return p;
}

static struct json *entry_json(const struct mlist_entry *e, bool docker)
{
	struct json *o = json_new_object();
	json_object_set_string(o, "mediaType", e->media_type);
	if (docker) {
		json_object_set_int(o, "size", e->size);
		json_object_set_string(o, "digest", e->digest);
	} else {
		json_object_set_string(o, "digest", e->digest);
		json_object_set_int(o, "size", e->size);
	}
	if (e->urls.len)
		json_object_set(o, "urls", strv_json(&e->urls));
	if (!docker && e->annotations.len)
		json_object_set(o, "annotations", map_json(&e->annotations));
	if (e->has_platform)
		json_object_set(o, "platform", platform_json(e, docker));
	if (docker && e->annotations.len)
		json_object_set(o, "annotations", map_json(&e->annotations));
	return o;
}

void mlist_generate(const struct mlist *l, int indent, struct strbuf *out)
{
	bool docker = !strcmp(l->media_type, SPEC_MT_DOCKER_LIST);
	cleanup_json struct json *doc = json_new_object();
	json_object_set_int(doc, "schemaVersion", 2);
	json_object_set_string(doc, "mediaType", l->media_type);
	if (!l->len && indent) {
		json_object_set(doc, "manifests", json_new_null());
	} else {
		struct json *a = json_new_array();
		for (size_t i = 0; i < l->len; i++)
			json_array_append(a, entry_json(&l->v[i], docker));
		json_object_set(doc, "manifests", a);
	}
	if (!docker && l->annotations.len)
		json_object_set(doc, "annotations", map_json(&l->annotations));
	json_dump(doc, indent, out);
}

/* ---- edit ---- */

long mlist_find(const struct mlist *l, const char *digest)
{
	for (size_t i = 0; i < l->len; i++)
		if (!strcmp(l->v[i].digest, digest))
			return (long)i;
	return -1;
}

struct mlist_entry *mlist_put(struct mlist *l, const char *media_type, const char *digest, int64_t size,
			      struct skiff_err **err)
{
	struct mlist_entry *e;
	long i;
	if (!digest || !digest_valid(digest)) {
		err_makex(err, EINVAL, "invalid image digest \"%s\"", digest ? digest : "");
		return NULL;
	}
	if (!media_type || !spec_media_type_valid(media_type)) {
		err_makex(err, EINVAL, "image %s: invalid media type \"%s\"", digest, media_type ? media_type : "");
		return NULL;
	}
	if (size < 0) {
		err_makex(err, EINVAL, "image %s: invalid size %lld", digest, (long long)size);
		return NULL;
	}
	i = mlist_find(l, digest);
	if (i >= 0) {
		e = &l->v[i];
		struct strv urls = e->urls;
		e->urls = (struct strv)STRV_INIT;
		entry_release(e);
		e->urls = urls;
	} else {
		if (l->len >= MLIST_MAX_ENTRIES) {
			err_makex(err, E2BIG, "a manifest list holds at most %d images", MLIST_MAX_ENTRIES);
			return NULL;
		}
		ALLOC_GROW(l->v, l->len + 1, l->alloc);
		e = &l->v[l->len++];
		memset(e, 0, sizeof(*e));
	}
	e->media_type = xstrdup(media_type);
	e->digest = xstrdup(digest);
	e->size = size;
	return e;
}

int mlist_remove(struct mlist *l, const char *digest, struct skiff_err **err)
{
	long i = mlist_find(l, digest);
	if (i < 0)
		return err_makex(err, ENOENT, "no instance matching digest \"%s\" found in manifest list", digest);
	entry_release(&l->v[i]);
	memmove(&l->v[i], &l->v[i + 1], (l->len - (size_t)i - 1) * sizeof(*l->v));
	l->len--;
	return 0;
}

int manifest_parse_annotations(const struct strv *in, struct spec_map *m, struct skiff_err **err)
{
	for (size_t i = 0; in && i < in->len; i++) {
		const char *eq = strchr(in->v[i], '=');
		if (!eq)
			return err_makex(err, EINVAL, "no value given for annotation \"%s\"", in->v[i]);
		if (eq == in->v[i])
			return err_makex(err, EINVAL, "no key given for annotation \"%s\"", in->v[i]);
		cleanup_free char *key = xstrndup(in->v[i], (size_t)(eq - in->v[i]));
		spec_map_set(m, key, eq + 1);
	}
	return 0;
}

static void set_str(char **field, const char *v)
{
	if (!v)
		return;
	free(*field);
	*field = *v ? xstrdup(v) : NULL;
}

static void set_list(struct strv *field, const struct strv *in)
{
	if (!in || !in->len)
		return;
	strv_release(field);
	for (size_t i = 0; i < in->len; i++) {
		struct strv parts = STRV_INIT;
		strv_split(&parts, in->v[i], ',');
		for (size_t k = 0; k < parts.len; k++)
			if (*parts.v[k] && !strv_contains(field, parts.v[k]))
				strv_push(field, parts.v[k]);
		strv_release(&parts);
	}
}

int mlist_entry_apply(struct mlist_entry *e, const struct manifest_platform_opts *o, struct skiff_err **err)
{
	struct spec_map ann = {0};
	if (o->annotations && o->annotations->len) {
		if (manifest_parse_annotations(o->annotations, &ann, err) < 0) {
			spec_map_release(&ann);
			return -1;
		}
		spec_map_release(&e->annotations);
		e->annotations = ann;
	}
	if (o->arch && !*o->arch)
		return err_makex(err, EINVAL, "--arch must not be empty");
	if (o->os && !*o->os)
		return err_makex(err, EINVAL, "--os must not be empty");
	if (o->arch || o->os || o->variant || o->os_version || (o->os_features && o->os_features->len) ||
	    (o->features && o->features->len))
		e->has_platform = true;
	set_str(&e->arch, o->arch);
	set_str(&e->os, o->os);
	set_str(&e->variant, o->variant);
	set_str(&e->os_version, o->os_version);
	set_list(&e->os_features, o->os_features);
	set_list(&e->features, o->features);
	if (e->has_platform && (!e->arch || !e->os))
		return err_makex(err, EINVAL, "image %s: platform needs an architecture and an OS", e->digest);
	return 0;
}

/* ==== lists in the store ==== */

static int load_doc(const struct store_list *sl, struct mlist **ret, struct skiff_err **err)
{
	if (mlist_parse(sl->doc, sl->doc_len, ret, err) < 0)
		return err_wrap(err, "stored manifest list %s", sl->name);
	return 0;
}

/* Replace sl's document with ml. */
static void set_doc(struct store_list *sl, const struct mlist *ml)
{
	struct strbuf sb = STRBUF_INIT;
	mlist_generate(ml, 0, &sb);
	free(sl->doc);
	sl->doc = strbuf_detach(&sb, &sl->doc_len);
}

static struct store_list_instance *find_inst(struct store_list *sl, const char *digest)
{
	for (size_t i = 0; i < sl->ninst; i++)
		if (!strcmp(sl->inst[i].digest, digest))
			return &sl->inst[i];
	return NULL;
}

static void set_inst(struct store_list *sl, const char *digest, const char *image_id, const char *source)
{
	struct store_list_instance *in = find_inst(sl, digest);
	if (!in) {
		sl->inst = xreallocarray(sl->inst, sl->ninst + 1, sizeof(*sl->inst));
		in = &sl->inst[sl->ninst++];
		memset(in, 0, sizeof(*in));
		in->digest = xstrdup(digest);
	}
	free(in->image_id);
	free(in->source);
	in->image_id = image_id ? xstrdup(image_id) : NULL;
	in->source = source ? xstrdup(source) : NULL;
}

static void drop_inst(struct store_list *sl, const char *digest)
{
	struct store_list_instance *in = find_inst(sl, digest);
	if (!in)
		return;
	free(in->digest);
	free(in->image_id);
	free(in->source);
	size_t i = (size_t)(in - sl->inst);
	memmove(in, in + 1, (sl->ninst - i - 1) * sizeof(*in));
	sl->ninst--;
}

int manifest_list_lookup(struct store *s, const char *input, struct store_list **ret, struct skiff_err **err)
{
	struct skiff_err *e = NULL;
	struct strv names = STRV_INIT;
	const char *best_name = NULL;
	int best = REF_MATCH_NONE, nbest = 0, rc;

	if (!*input)
		return err_makex(err, EINVAL, "manifest list name must not be empty");
	if (store_list_get(s, input, ret, &e) == 0)
		return 0;
	if (err_status(e) != ENOENT) {
		*err = e;
		return -1;
	}
	err_clear(&e);
	if (store_list_names(s, &names, NULL, err) < 0) {
		strv_release(&names);
		return -1;
	}
	for (size_t i = 0; i < names.len; i++) {
		int r = ref_match(names.v[i], input, 0);
		if (r > best) {
			best = r;
			nbest = 1;
			best_name = names.v[i];
		} else if (r == best && r != REF_MATCH_NONE) {
			nbest++;
		}
	}
	if (best != REF_MATCH_NONE && nbest > 1)
		rc = err_makex(err, EINVAL, "%s: short name is ambiguous: more than one manifest list matches", input);
	else if (best != REF_MATCH_NONE)
		rc = store_list_get(s, best_name, ret, err);
	else {
		/* podman's lists are images: say so when the name is an image's */
		struct store_image *img = NULL;
		if (image_lookup(s, input, &img, &e) == 0) {
			rc = err_makex(err, EMEDIUMTYPE, "%s: image is not a manifest list",
				       img->names.len ? img->names.v[0] : input);
			store_image_free(img);
		} else {
			err_free(e);
			rc = err_makex(err, ENOENT, "%s: image not known", input);
		}
	}
	strv_release(&names);
	return rc;
}

static void random_id(char out[65])
{
	unsigned char b[32];
	size_t got = 0;
	while (got < sizeof(b)) {
		ssize_t k = getrandom(b + got, sizeof(b) - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			/* no entropy source at all: the time and pid still make it unique here */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			char seed[64];
			snprintf(seed, sizeof(seed), "%lld.%ld.%d", (long long)ts.tv_sec, ts.tv_nsec, (int)getpid());
			char d[DIGEST_STR_LEN + 1];
			digest_buf(seed, strlen(seed), d);
			memcpy(out, digest_hex(d), 65);
			return;
		}
		got += (size_t)k;
	}
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

int manifest_list_create(struct store *s, const char *name, bool amend, char **ret_id, struct skiff_err **err)
{
	cleanup_free char *full = NULL;
	cleanup_ref struct image_ref *r = NULL;
	char id[65];

	if (ref_parse(name, &r, err) < 0)
		return -1;
	if (r->digest)
		return err_makex(err, EINVAL, "%s: a manifest list name cannot have a digest", name);
	if (image_commit_name(name, &full, err) < 0)
		return -1;
	if (amend) {
		struct store_list *sl = NULL;
		struct skiff_err *e = NULL;
		if (store_list_get(s, full, &sl, &e) == 0) {
			*ret_id = xstrdup(sl->id);
			store_list_free(sl);
			return 0;
		}
		if (err_status(e) != ENOENT) {
			*err = e;
			return -1;
		}
		err_free(e);
	}
	cleanup_mlist struct mlist *ml = mlist_new(NULL);
	struct store_list sl = {.name = full, .created = (int64_t)time(NULL)};
	random_id(id);
	sl.id = id;
	struct strbuf sb = STRBUF_INIT;
	mlist_generate(ml, 0, &sb);
	sl.doc = sb.buf;
	sl.doc_len = sb.len;
	int rc = store_list_save(s, &sl, true, err);
	strbuf_release(&sb);
	if (rc < 0)
		return err_wrap(err, "creating image to hold manifest list");
	image_event(s, "create", id, full);
	*ret_id = xstrdup(id);
	return 0;
}

/* The platform of an image config into e. */
static void platform_from_config(struct mlist_entry *e, const struct spec_image_config *c)
{
	e->has_platform = true;
	set_str(&e->arch, c->architecture ? c->architecture : spec_goarch());
	set_str(&e->os, c->os ? c->os : "linux");
	set_str(&e->variant, c->variant);
	set_str(&e->os_version, c->os_version);
	strv_release(&e->os_features);
	for (size_t i = 0; i < c->os_features.len; i++)
		strv_push(&e->os_features, c->os_features.v[i]);
}

static int add_local(struct store *s, struct store_list *sl, struct mlist *ml, const struct store_image *img,
		     const struct manifest_platform_opts *plat, struct skiff_err **err)
{
	cleanup_free char *manifest = NULL, *config = NULL;
	cleanup_spec_image_config struct spec_image_config *cfg = NULL;
	size_t mlen = 0, clen = 0;
	char digest[DIGEST_STR_LEN + 1], cdigest[DIGEST_STR_LEN + 1];
	struct mlist_entry *e;

	if (store_image_manifest(s, img->id, &manifest, &mlen, err) < 0)
		return err_wrap(err, "image %s", img->id);
	if (!img->manifest_type || !spec_media_type_is_manifest(img->manifest_type))
		return err_makex(err, EINVAL, "image %s: stored manifest type %s cannot be listed", img->id,
				 img->manifest_type ? img->manifest_type : "(none)");
	digest_buf(manifest, mlen, digest);
	if (store_image_config(s, img->id, &config, &clen, err) < 0)
		return err_wrap(err, "image %s", img->id);
	snprintf(cdigest, sizeof(cdigest), "sha256:%s", img->id);
	if (spec_image_config_parse_known(config, clen, cdigest, &cfg, err) < 0)
		return err_wrap(err, "image %s", img->id);
	e = mlist_put(ml, img->manifest_type, digest, (int64_t)mlen, err);
	if (!e)
		return -1;
	platform_from_config(e, cfg);
	if (mlist_entry_apply(e, plat, err) < 0)
		return -1;
	set_inst(sl, digest, img->id, NULL);
	return 0;
}

/* ==== remote references ==== */

struct remote {
	struct registry *r;
	struct registry_repo *rp;
	struct image_ref *ref;
	char *name; /* "host/path" of the source that answered */
	struct registry_manifest top;
};

static void remote_release(struct remote *rm)
{
	registry_manifest_release(&rm->top);
	registry_repo_free(rm->rp);
	registry_free(rm->r);
	if (rm->ref)
		ref_free(rm->ref);
	free(rm->name);
	memset(rm, 0, sizeof(*rm));
}

static const char *strip_transport(const char *in)
{
	return !strncmp(in, "docker://", 9) ? in + 9 : in;
}

/* Open ref's repository (through registries.conf's sources when o has them) and fetch its
 * manifest. */
static int remote_fetch(const char *input, const struct image_pull_opts *o, struct remote *ret, struct skiff_err **err)
{
	struct remote rm = {0};
	struct pull_source *src = NULL;
	size_t nsrc = 0;
	struct skiff_err *last = NULL;
	const char *in = strip_transport(input);

	if (!o)
		return err_makex(err, EINVAL, "%s: not a local image, and no registry access", input);
	if (ref_parse(in, &rm.ref, err) < 0)
		return -1;
	const char *tagref = rm.ref->digest ? rm.ref->digest : rm.ref->tag;
	if (o->sources) {
		if (o->sources(o->sources_ud, rm.ref->domain, rm.ref->path, rm.ref->domain_implicit,
			       rm.ref->digest != NULL, &src, &nsrc, err) < 0)
			goto fail;
	} else {
		src = xcalloc(1, sizeof(*src));
		src->name = xasprintf("%s/%s", rm.ref->domain, rm.ref->path);
		src->eps = xcalloc(1, sizeof(*src->eps));
		src->eps[0].host = xstrdup(rm.ref->domain);
		src->neps = nsrc = 1;
	}
	if (registry_new(&o->reg, &rm.r, err) < 0)
		goto fail;
	for (size_t i = 0; i < nsrc; i++) {
		const char *slash = strchr(src[i].name, '/');
		for (size_t k = 0; k < src[i].neps; k++) {
			struct registry_endpoint conn = src[i].eps[k];
			const char *path = slash ? slash + 1 : src[i].name;
			cleanup_free char *lhost = NULL;
			const char *ls = conn.location ? strchr(conn.location, '/') : NULL;
			if (ls) {
				lhost = xstrndup(conn.location, (size_t)(ls - conn.location));
				conn.location = lhost;
				path = ls + 1;
			}
			err_clear(&last);
			if (registry_repo_open(rm.r, &conn, path, REGISTRY_PULL, &rm.rp, &last) == 0 &&
			    registry_manifest_get(rm.rp, tagref, &rm.top, &last) == 0) {
				rm.name = xstrdup(src[i].name);
				pull_sources_free(src, nsrc);
				*ret = rm;
				return 0;
			}
			registry_repo_free(rm.rp);
			rm.rp = NULL;
		}
	}
	if (!last)
		err_makex(&last, ENOENT, "no registry to look in");
	*err = last;
fail:
	pull_sources_free(src, nsrc);
	remote_release(&rm);
	return err_wrap(err, "reading image \"docker://%s\"", in);
}

/* The entry of idx for the wanted (or this) platform. */
static const struct mlist_entry *choose_entry(const struct mlist *idx, const struct image_pull_opts *o)
{
	const char *os = o && o->os ? o->os : spec_goos();
	const char *arch = o && o->arch ? o->arch : spec_goarch();
	const char *variant = o && o->variant ? o->variant : NULL;
	const struct mlist_entry *best = NULL;
	for (size_t i = 0; i < idx->len; i++) {
		const struct mlist_entry *e = &idx->v[i];
		if (!e->has_platform || strcmp(e->os, os) || strcmp(e->arch, arch))
			continue;
		if (variant && (!e->variant || strcmp(e->variant, variant)))
			continue;
		if (!best)
			best = e;
	}
	return best;
}

static void copy_entry(struct mlist_entry *dst, const struct mlist_entry *src)
{
	dst->has_platform = src->has_platform;
	set_str(&dst->arch, src->arch);
	set_str(&dst->os, src->os);
	set_str(&dst->variant, src->variant);
	set_str(&dst->os_version, src->os_version);
	for (size_t i = 0; i < src->os_features.len; i++)
		strv_push(&dst->os_features, src->os_features.v[i]);
	for (size_t i = 0; i < src->features.len; i++)
		strv_push(&dst->features, src->features.v[i]);
	for (size_t i = 0; i < src->urls.len; i++)
		if (!strv_contains(&dst->urls, src->urls.v[i]))
			strv_push(&dst->urls, src->urls.v[i]);
	spec_map_copy(&dst->annotations, &src->annotations);
}

static int add_remote(struct store_list *sl, struct mlist *ml, const char *image, const struct manifest_add_opts *o,
		      struct skiff_err **err)
{
	struct remote rm = {0};
	int rc = -1;
	if (remote_fetch(image, o->pull, &rm, err) < 0)
		return -1;
	if (spec_media_type_is_index(rm.top.media_type)) {
		cleanup_mlist struct mlist *idx = NULL;
		if (mlist_parse(rm.top.data, rm.top.len, &idx, err) < 0) {
			err_wrap(err, "%s", image);
			goto out;
		}
		if (!o->all) {
			const struct mlist_entry *want = choose_entry(idx, o->pull);
			if (!want) {
				err_makex(err, ENOENT, "%s: no image found in manifest list for architecture %s, OS %s",
					  image, o->pull && o->pull->arch ? o->pull->arch : spec_goarch(),
					  o->pull && o->pull->os ? o->pull->os : spec_goos());
				goto out;
			}
			struct mlist_entry *e = mlist_put(ml, want->media_type, want->digest, want->size, err);
			if (!e)
				goto out;
			copy_entry(e, want);
			if (mlist_entry_apply(e, &o->plat, err) < 0)
				goto out;
			set_inst(sl, want->digest, NULL, rm.name);
		} else {
			for (size_t i = 0; i < idx->len; i++) {
				struct mlist_entry *e =
					mlist_put(ml, idx->v[i].media_type, idx->v[i].digest, idx->v[i].size, err);
				if (!e)
					goto out;
				copy_entry(e, &idx->v[i]);
				set_inst(sl, idx->v[i].digest, NULL, rm.name);
			}
		}
		rc = 0;
		goto out;
	}
	if (!spec_media_type_is_manifest(rm.top.media_type)) {
		err_makex(err, EINVAL, "%s: %s is neither an image manifest nor a list", image, rm.top.media_type);
		goto out;
	}
	{
		cleanup_spec_manifest struct spec_manifest *m = NULL;
		cleanup_spec_image_config struct spec_image_config *cfg = NULL;
		cleanup_free char *config = NULL;
		size_t clen = 0;
		if (spec_manifest_parse(rm.top.data, rm.top.len, &m, err) < 0 ||
		    registry_blob_get(rm.rp, m->config.digest, REGISTRY_CONFIG_MAX, &config, &clen, err) < 0 ||
		    spec_image_config_parse(config, clen, &cfg, err) < 0) {
			err_wrap(err, "%s", image);
			goto out;
		}
		struct mlist_entry *e = mlist_put(ml, rm.top.media_type, rm.top.digest, (int64_t)rm.top.len, err);
		if (!e)
			goto out;
		platform_from_config(e, cfg);
		if (mlist_entry_apply(e, &o->plat, err) < 0)
			goto out;
		set_inst(sl, rm.top.digest, NULL, rm.name);
	}
	rc = 0;
out:
	remote_release(&rm);
	return rc;
}

static int add_one(struct store *s, struct store_list *sl, struct mlist *ml, const char *image,
		   const struct manifest_add_opts *o, struct skiff_err **err)
{
	struct store_image *img = NULL;
	struct skiff_err *e = NULL;
	if (!strncmp(image, "docker://", 9))
		return add_remote(sl, ml, image, o, err);
	if (!strncmp(image, "containers-storage:", 19)) {
		if (image_lookup(s, image + 19, &img, err) < 0)
			return -1;
	} else if (image_lookup(s, image, &img, &e) < 0) {
		if (err_status(e) != ENOENT || !o->pull) {
			*err = e;
			return -1;
		}
		err_free(e);
		return add_remote(sl, ml, image, o, err);
	}
	int rc = add_local(s, sl, ml, img, &o->plat, err);
	store_image_free(img);
	return rc;
}

int manifest_list_add(struct store *s, const char *list, const char *image, const struct manifest_add_opts *o,
		      char **ret_id, struct skiff_err **err)
{
	cleanup_store_list struct store_list *sl = NULL;
	cleanup_mlist struct mlist *ml = NULL;
	if (manifest_list_lookup(s, list, &sl, err) < 0 || load_doc(sl, &ml, err) < 0)
		return -1;
	if (add_one(s, sl, ml, image, o, err) < 0)
		return err_wrap(err, "adding %s to manifest list %s", image, sl->name);
	set_doc(sl, ml);
	if (store_list_save(s, sl, false, err) < 0)
		return -1;
	*ret_id = xstrdup(sl->id);
	return 0;
}

/* The digest instance names: a digest, or a local image in the list. */
static int instance_digest(struct store *s, const struct mlist *ml, const char *instance, char **ret,
			   struct skiff_err **err)
{
	if (!strncmp(instance, "sha256:", 7)) {
		if (!digest_valid(instance))
			return err_makex(err, EINVAL, "invalid image digest \"%s\": want sha256: and 64 hex digits",
					 instance);
		*ret = xstrdup(instance);
		return 0;
	}
	struct store_image *img = NULL;
	struct skiff_err *e = NULL;
	if (image_lookup(s, instance, &img, &e) < 0) {
		err_free(e);
		return err_makex(err, EINVAL, "invalid image digest \"%s\": not a digest nor a local image", instance);
	}
	if (img->digest && mlist_find(ml, img->digest) >= 0) {
		*ret = xstrdup(img->digest);
		store_image_free(img);
		return 0;
	}
	int rc = err_makex(err, ENOENT, "image %s is not in the manifest list", instance);
	store_image_free(img);
	return rc;
}

int manifest_list_annotate(struct store *s, const char *list, const char *instance,
			   const struct manifest_platform_opts *o, char **ret_id, struct skiff_err **err)
{
	cleanup_store_list struct store_list *sl = NULL;
	cleanup_mlist struct mlist *ml = NULL;
	cleanup_free char *digest = NULL;
	long i;
	if (manifest_list_lookup(s, list, &sl, err) < 0 || load_doc(sl, &ml, err) < 0 ||
	    instance_digest(s, ml, instance, &digest, err) < 0)
		return -1;
	i = mlist_find(ml, digest);
	if (i < 0)
		return err_makex(err, ENOENT, "no instance matching digest \"%s\" found in manifest list %s", digest,
				 sl->name);
	if (mlist_entry_apply(&ml->v[i], o, err) < 0)
		return -1;
	set_doc(sl, ml);
	if (store_list_save(s, sl, false, err) < 0)
		return -1;
	*ret_id = xstrdup(sl->id);
	return 0;
}

int manifest_list_remove(struct store *s, const char *list, const char *digest, char **ret_id, struct skiff_err **err)
{
	cleanup_store_list struct store_list *sl = NULL;
	cleanup_mlist struct mlist *ml = NULL;
	if (manifest_list_lookup(s, list, &sl, err) < 0 || load_doc(sl, &ml, err) < 0)
		return -1;
	if (!digest_valid(digest))
		return err_makex(err, EINVAL, "invalid image digest \"%s\": want sha256: and 64 hex digits", digest);
	if (mlist_remove(ml, digest, err) < 0)
		return err_wrap(err, "removing from manifest list %s", list);
	drop_inst(sl, digest);
	set_doc(sl, ml);
	if (store_list_save(s, sl, false, err) < 0)
		return -1;
	*ret_id = xstrdup(sl->id);
	return 0;
}

int manifest_list_inspect(struct store *s, const char *list, struct strbuf *out, struct skiff_err **err)
{
	cleanup_store_list struct store_list *sl = NULL;
	cleanup_mlist struct mlist *ml = NULL;
	if (manifest_list_lookup(s, list, &sl, err) < 0 || load_doc(sl, &ml, err) < 0)
		return -1;
	mlist_generate(ml, 4, out);
	return 0;
}

int manifest_remote_inspect(const char *ref, const struct image_pull_opts *o, struct strbuf *out, bool *ret_single,
			    struct skiff_err **err)
{
	struct remote rm = {0};
	cleanup_json struct json *j = NULL;
	if (remote_fetch(ref, o, &rm, err) < 0)
		return -1;
	if (json_parse(rm.top.data, rm.top.len, &j, err) < 0) {
		remote_release(&rm);
		return err_wrap(err, "manifest of %s", ref);
	}
	bool single = !spec_media_type_is_index(rm.top.media_type);
	remote_release(&rm);
	json_dump(j, 4, out);
	if (ret_single)
		*ret_single = single;
	return 0;
}

int manifest_list_delete(struct store *s, const char *list, struct image_rm_report *rep, struct skiff_err **err)
{
	cleanup_store_list struct store_list *sl = NULL;
	if (manifest_list_lookup(s, list, &sl, err) < 0)
		return -1;
	if (store_list_delete(s, sl->id, err) < 0)
		return -1;
	image_event(s, "untag", sl->id, sl->name);
	image_event(s, "remove", sl->id, list);
	strv_push(&rep->untagged, sl->name);
	strv_push(&rep->deleted, sl->id);
	return 0;
}

/* ==== push ==== */

/* Copy instance digest, added from repository source ("host/path"), into rp when rp lacks
 * it: its blobs are mounted (same registry) or streamed, then its manifest is put. */
static int copy_remote(struct registry *r, struct registry_repo *rp, const char *dest_host, const char *source,
		       const char *digest, struct skiff_err **err)
{
	char have[DIGEST_STR_LEN + 1];
	struct skiff_err *e = NULL;
	if (registry_manifest_head(rp, digest, have, &e) == 0)
		return 0;
	if (err_status(e) != ENOENT) {
		*err = e;
		return -1;
	}
	err_free(e);

	const char *slash = strchr(source, '/');
	if (!slash)
		return err_makex(err, EINVAL, "instance %s: bad source \"%s\"", digest, source);
	cleanup_free char *host = xstrndup(source, (size_t)(slash - source));
	struct registry_endpoint ep = {.host = host};
	struct registry_repo *src = NULL;
	struct registry_manifest m = {0};
	cleanup_spec_manifest struct spec_manifest *sm = NULL;
	int rc = -1;

	if (registry_repo_open(r, &ep, slash + 1, REGISTRY_PULL, &src, err) < 0 ||
	    registry_manifest_get(src, digest, &m, err) < 0)
		goto out;
	if (!spec_media_type_is_manifest(m.media_type)) {
		err_makex(err, ENOTSUP, "instance %s is a %s: only image manifests are copied", digest, m.media_type);
		goto out;
	}
	if (spec_manifest_parse(m.data, m.len, &sm, err) < 0)
		goto out;
	for (size_t i = 0; i <= sm->layers.len; i++) {
		const struct spec_descriptor *d = i ? &sm->layers.v[i - 1] : &sm->config;
		int x = registry_blob_exists(rp, d->digest, NULL, err);
		if (x < 0)
			goto out;
		if (x)
			continue;
		if (!strcmp(host, dest_host)) {
			x = registry_blob_mount(rp, d->digest, slash + 1, err);
			if (x < 0)
				goto out;
			if (x)
				continue;
		}
		struct registry_blob_reader *br = NULL;
		char got[DIGEST_STR_LEN + 1];
		uint64_t size = 0;
		if (registry_blob_open(src, d->digest, d->size, &br, err) < 0)
			goto out;
		int up = registry_blob_upload(rp, registry_blob_read, br, got, &size, err);
		if (up < 0 && registry_blob_error(br)) {
			err_clear(err);
			registry_blob_take_error(br, err);
		}
		registry_blob_close(br);
		if (up < 0)
			goto out;
		if (strcmp(got, d->digest) != 0) {
			err_makex(err, EIO, "blob %s arrived as %s", d->digest, got);
			goto out;
		}
	}
	if (registry_manifest_put(rp, digest, m.data, m.len, m.media_type, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		err_wrap(err, "copying instance %s from %s", digest, source);
	registry_manifest_release(&m);
	registry_repo_free(src);
	return rc;
}

int manifest_list_push(struct store *s, const char *list, const char *dest, const struct manifest_push_opts *o,
		       char ret_digest[DIGEST_STR_LEN + 1], struct skiff_err **err)
{
	cleanup_store_list struct store_list *sl = NULL;
	cleanup_mlist struct mlist *ml = NULL;
	cleanup_ref struct image_ref *ref = NULL;
	struct registry *r = NULL;
	struct registry_repo *rp = NULL;
	struct strbuf doc = STRBUF_INIT;
	char digest[DIGEST_STR_LEN + 1];
	const char *fmt_name;
	int rc = -1;

	if (manifest_list_lookup(s, list, &sl, err) < 0 || load_doc(sl, &ml, err) < 0)
		return -1;
	if (!dest)
		dest = sl->name;
	dest = strip_transport(dest);
	if (ref_parse(dest, &ref, err) < 0)
		return -1;
	if (ref->digest)
		return err_makex(err, EINVAL, "cannot push to a digest reference \"%s\": name a tag", dest);
	if (!o->push.format)
		fmt_name = !strcmp(ml->media_type, SPEC_MT_OCI_INDEX) ? "oci" : "v2s2";
	else if (!strcmp(o->push.format, "oci"))
		fmt_name = "oci";
	else if (!strcmp(o->push.format, "v2s2") || !strcmp(o->push.format, "docker"))
		fmt_name = "v2s2";
	else
		return err_makex(err, EINVAL, "unsupported manifest format \"%s\": use oci or v2s2", o->push.format);
	free(ml->media_type);
	ml->media_type = xstrdup(!strcmp(fmt_name, "oci") ? SPEC_MT_OCI_INDEX : SPEC_MT_DOCKER_LIST);

	struct registry_endpoint ep = {.host = ref->domain, .insecure = o->push.insecure};
	if (registry_new(&o->push.reg, &r, err) < 0 ||
	    registry_repo_open(r, &ep, ref->path, REGISTRY_PUSH, &rp, err) < 0)
		goto out;
	for (size_t i = 0; o->all && i < ml->len; i++) {
		struct mlist_entry *e = &ml->v[i];
		struct store_list_instance *in = find_inst(sl, e->digest);
		if (o->on_instance)
			o->on_instance(o->on_instance_ud, e->digest, i + 1, ml->len);
		if (in && in->image_id) {
			struct image_push_opts po = o->push;
			struct registry_manifest m = {0};
			char pushed[DIGEST_STR_LEN + 1];
			po.format = fmt_name;
			po.by_digest = true;
			if (image_push(s, in->image_id, dest, &po, pushed, err) < 0)
				goto out;
			/* the pushed manifest (recompressed layers) is what the list must name */
			if (registry_manifest_get(rp, pushed, &m, err) < 0)
				goto out;
			free(e->media_type);
			e->media_type = xstrdup(m.media_type);
			free(e->digest);
			e->digest = xstrdup(pushed);
			e->size = (int64_t)m.len;
			registry_manifest_release(&m);
		} else if (in && in->source) {
			if (copy_remote(r, rp, ref->domain, in->source, e->digest, err) < 0)
				goto out;
		} else {
			err_makex(err, ENOENT,
				  "instance %s is neither a local image (was it removed?) nor from a registry: "
				  "add it again or push without --all",
				  e->digest);
			goto out;
		}
	}
	mlist_generate(ml, 0, &doc);
	if (registry_manifest_put(rp, ref->tag, doc.buf, doc.len, ml->media_type, err) < 0)
		goto out;
	digest_buf(doc.buf, doc.len, digest);
	image_event(s, "push", sl->id, dest);
	if (o->rm) {
		if (store_list_delete(s, sl->id, err) < 0)
			goto out;
		image_event(s, "remove", sl->id, sl->name);
	}
	memcpy(ret_digest, digest, sizeof(digest));
	rc = 0;
out:
	if (rc < 0)
		err_wrap(err, "pushing manifest list %s to %s", sl->name, dest);
	strbuf_release(&doc);
	registry_repo_free(rp);
	registry_free(r);
	return rc;
}
