/* Image manifests (OCI manifest, Docker schema2) and indexes (OCI index, Docker manifest
 * list): detect, parse, validate, build, generate. */
#include "pkg/spec/image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/spec/image_internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

static const char *const known_types[] = {
	SPEC_MT_OCI_INDEX,	 SPEC_MT_OCI_MANIFEST,	 SPEC_MT_DOCKER_LIST,
	SPEC_MT_DOCKER_MANIFEST, SPEC_MT_DOCKER_SCHEMA1, SPEC_MT_DOCKER_SCHEMA1_SIGNED,
};

static const char *known_type(const char *mt)
{
	for (size_t i = 0; i < ARRAY_SIZE(known_types); i++)
		if (strcmp(mt, known_types[i]) == 0)
			return known_types[i];
	return NULL;
}

/* Guess the type of a document without a mediaType, as containers/image does. */
static const char *guess_type(const struct json *j)
{
	const char *cfg_mt = json_string(json_get_path(j, "config", "mediaType", NULL));
	if (json_object_get(j, "config") || json_object_get(j, "layers")) {
		if (cfg_mt && strcmp(cfg_mt, SPEC_MT_DOCKER_CONFIG) == 0)
			return SPEC_MT_DOCKER_MANIFEST;
		return SPEC_MT_OCI_MANIFEST;
	}
	if (json_object_get(j, "manifests"))
		return SPEC_MT_OCI_INDEX;
	return NULL;
}

int spec_detect_media_type(const char *buf, size_t len, const char **ret, struct skiff_err **err)
{
	cleanup_json struct json *j = NULL;
	struct json *mtj, *sv;
	const char *mt;

	if (json_parse(buf, len, &j, err) < 0)
		return err_wrap(err, "detect manifest type");
	if (specj_expect_object(j, "detect manifest type", err) < 0)
		return -1;
	mtj = json_object_get(j, "mediaType");
	if (mtj && mtj->type != JSON_NULL) {
		if (mtj->type != JSON_STRING)
			return err_makex(err, EINVAL, "detect manifest type: mediaType: expected a string, got %s",
					 specj_type_name(mtj));
		mt = known_type(mtj->u.str.s);
		if (!mt || strlen(mtj->u.str.s) != mtj->u.str.len)
			return err_makex(err, EINVAL, "detect manifest type: unsupported mediaType \"%.128s\"",
					 mtj->u.str.s);
		*ret = mt;
		return 0;
	}
	sv = json_object_get(j, "schemaVersion");
	if (json_is(sv, JSON_NUMBER) && sv->u.num.is_int && sv->u.num.i == 1) {
		*ret = json_object_get(j, "signatures") ? SPEC_MT_DOCKER_SCHEMA1_SIGNED : SPEC_MT_DOCKER_SCHEMA1;
		return 0;
	}
	if (!json_is(sv, JSON_NUMBER) || !sv->u.num.is_int || sv->u.num.i != 2)
		return err_makex(err, EINVAL, "detect manifest type: no mediaType and no schemaVersion 2");
	mt = guess_type(j);
	if (!mt)
		return err_makex(err, EINVAL,
				 "detect manifest type: no mediaType, and neither config, layers nor manifests");
	*ret = mt;
	return 0;
}

/* ---- manifest ---- */

void spec_manifest_free(struct spec_manifest *m)
{
	if (!m)
		return;
	free(m->media_type);
	free(m->artifact_type);
	spec_descriptor_release(&m->config);
	spec_descriptor_list_release(&m->layers);
	if (m->subject)
		spec_descriptor_release(m->subject);
	free(m->subject);
	spec_map_release(&m->annotations);
	json_free(m->dom);
	free(m);
}

enum spec_format spec_manifest_format(const struct spec_manifest *m)
{
	return m->media_type && strcmp(m->media_type, SPEC_MT_DOCKER_MANIFEST) == 0 ? SPEC_FORMAT_DOCKER
										    : SPEC_FORMAT_OCI;
}

static int parse_subject(const struct json *j, struct spec_descriptor **ret, struct skiff_err **err)
{
	struct json *s = json_object_get(j, "subject");
	struct spec_descriptor *d;

	if (!s || s->type == JSON_NULL)
		return 0;
	d = xzalloc(sizeof(*d));
	if (specj_descriptor(s, d, err) < 0) {
		free(d);
		return err_wrap(err, "subject");
	}
	*ret = d;
	return 0;
}

/* An array of descriptors; absent or null is empty unless required (then only null is). */
static int parse_descriptor_array(const struct json *j, const char *key, bool required, struct spec_descriptor_list *l,
				  struct skiff_err **err)
{
	struct json *a = json_object_get(j, key);

	if (!a && required)
		return err_makex(err, EINVAL, "%s: missing", key);
	if (!a || a->type == JSON_NULL)
		return 0;
	if (a->type != JSON_ARRAY)
		return err_makex(err, EINVAL, "%s: expected an array, got %s", key, specj_type_name(a));
	for (size_t i = 0; i < a->u.arr.len; i++) {
		struct spec_descriptor *d = spec_descriptor_list_add(l);
		if (specj_descriptor(a->u.arr.items[i], d, err) < 0) {
			l->len--;
			return err_wrap(err, "%s[%zu]", key, i);
		}
	}
	return 0;
}

static int parse_manifest(const struct json *j, struct spec_manifest *m, struct skiff_err **err)
{
	struct json *cfg;

	if (specj_schema_version(j, err) < 0 || specj_media_type(j, "mediaType", false, &m->media_type, err) < 0)
		return -1;
	if (m->media_type && !spec_media_type_is_manifest(m->media_type))
		return err_makex(err, EINVAL, "mediaType: %s is not an image manifest type%s", m->media_type,
				 spec_media_type_is_index(m->media_type) ? " (it is an index)" : "");
	if (!m->media_type) {
		const char *g = guess_type(j);
		if (g && spec_media_type_is_index(g))
			return err_makex(err, EINVAL, "no mediaType, and \"manifests\" but no config: an index");
		m->media_type = xstrdup(g ? g : SPEC_MT_OCI_MANIFEST);
	}
	if (specj_media_type(j, "artifactType", false, &m->artifact_type, err) < 0)
		return -1;
	cfg = json_object_get(j, "config");
	if (!cfg || cfg->type == JSON_NULL)
		return err_makex(err, EINVAL, "config: missing");
	if (specj_descriptor(cfg, &m->config, err) < 0)
		return err_wrap(err, "config");
	if (parse_descriptor_array(j, "layers", false, &m->layers, err) < 0 || parse_subject(j, &m->subject, err) < 0 ||
	    specj_map(j, "annotations", &m->annotations, err) < 0)
		return -1;
	return 0;
}

int spec_manifest_parse(const char *buf, size_t len, struct spec_manifest **ret, struct skiff_err **err)
{
	cleanup_json struct json *j = NULL;
	cleanup_spec_manifest struct spec_manifest *m = NULL;

	if (json_parse(buf, len, &j, err) < 0)
		return err_wrap(err, "manifest");
	if (specj_expect_object(j, "manifest", err) < 0)
		return -1;
	m = xzalloc(sizeof(*m));
	if (parse_manifest(j, m, err) < 0)
		return err_wrap(err, "manifest");
	digest_buf(buf, len, m->digest);
	m->dom = TAKE_PTR(j);
	*ret = TAKE_PTR(m);
	return 0;
}

int spec_manifest_validate_image(const struct spec_manifest *m, struct skiff_err **err)
{
	if (!spec_media_type_is_config(m->config.media_type))
		return err_makex(err, EINVAL, "manifest: not an image: config mediaType %.128s",
				 m->config.media_type ? m->config.media_type : "(none)");
	for (size_t i = 0; i < m->layers.len; i++)
		if (!spec_layer_media_type_known(m->layers.v[i].media_type))
			return err_makex(err, EINVAL, "manifest: layers[%zu]: unsupported layer mediaType %.128s", i,
					 m->layers.v[i].media_type);
	return 0;
}

struct spec_manifest *spec_manifest_new(enum spec_format fmt)
{
	struct spec_manifest *m = xzalloc(sizeof(*m));
	m->media_type = xstrdup(fmt == SPEC_FORMAT_DOCKER ? SPEC_MT_DOCKER_MANIFEST : SPEC_MT_OCI_MANIFEST);
	m->config.media_type = xstrdup(fmt == SPEC_FORMAT_DOCKER ? SPEC_MT_DOCKER_CONFIG : SPEC_MT_OCI_CONFIG);
	return m;
}

int spec_manifest_add_layer(struct spec_manifest *m, const char *media_type, const char *digest, int64_t size,
			    struct skiff_err **err)
{
	struct spec_descriptor d = {0};
	if (spec_descriptor_set(&d, media_type, digest, size, err) < 0)
		return err_wrap(err, "manifest: layer");
	*spec_descriptor_list_add(&m->layers) = d;
	return 0;
}

static int check_list(const struct spec_descriptor_list *l, const char *key, struct skiff_err **err)
{
	for (size_t i = 0; i < l->len; i++)
		if (spec_descriptor_check(&l->v[i], err) < 0)
			return err_wrap(err, "%s[%zu]", key, i);
	return 0;
}

static struct json *gen_list(const struct spec_descriptor_list *l, enum spec_format fmt)
{
	struct json *a = json_new_array();
	for (size_t i = 0; i < l->len; i++)
		json_array_append(a, specj_descriptor_gen(&l->v[i], fmt));
	return a;
}

/* Checks shared by manifests and indexes. */
static int check_common(enum spec_format fmt, const char *artifact_type, const struct spec_descriptor *subject,
			const struct spec_map *annotations, struct skiff_err **err)
{
	if (fmt == SPEC_FORMAT_DOCKER && (artifact_type || subject || annotations->len))
		return err_makex(err, EINVAL, "%s: Docker schema2 has no artifactType, subject or annotations",
				 artifact_type ? "artifactType"
				 : subject     ? "subject"
					       : "annotations");
	if (artifact_type && !spec_media_type_valid(artifact_type))
		return err_makex(err, EINVAL, "artifactType: invalid media type \"%.128s\"", artifact_type);
	if (subject && spec_descriptor_check(subject, err) < 0)
		return err_wrap(err, "subject");
	return 0;
}

int spec_manifest_generate(const struct spec_manifest *m, struct strbuf *out, char ret_digest[DIGEST_STR_LEN + 1],
			   struct skiff_err **err)
{
	enum spec_format fmt = spec_manifest_format(m);
	cleanup_json struct json *doc = NULL;

	if (!spec_media_type_is_manifest(m->media_type))
		return err_makex(err, EINVAL, "manifest: mediaType: %.128s is not an image manifest type",
				 m->media_type ? m->media_type : "(none)");
	if (check_common(fmt, m->artifact_type, m->subject, &m->annotations, err) < 0)
		return err_wrap(err, "manifest");
	if (spec_descriptor_check(&m->config, err) < 0)
		return err_wrap(err, "manifest: config");
	if (check_list(&m->layers, "layers", err) < 0)
		return err_wrap(err, "manifest");
	doc = json_new_object();
	json_object_set_int(doc, "schemaVersion", 2);
	json_object_set_string(doc, "mediaType", m->media_type);
	specj_add_string(doc, "artifactType", m->artifact_type);
	json_object_set(doc, "config", specj_descriptor_gen(&m->config, fmt));
	json_object_set(doc, "layers", gen_list(&m->layers, fmt));
	if (m->subject)
		json_object_set(doc, "subject", specj_descriptor_gen(m->subject, fmt));
	specj_add_map(doc, "annotations", &m->annotations);
	specj_emit(doc, out, ret_digest);
	return 0;
}

/* ---- index ---- */

void spec_index_free(struct spec_index *idx)
{
	if (!idx)
		return;
	free(idx->media_type);
	free(idx->artifact_type);
	spec_descriptor_list_release(&idx->manifests);
	if (idx->subject)
		spec_descriptor_release(idx->subject);
	free(idx->subject);
	spec_map_release(&idx->annotations);
	json_free(idx->dom);
	free(idx);
}

enum spec_format spec_index_format(const struct spec_index *idx)
{
	return idx->media_type && strcmp(idx->media_type, SPEC_MT_DOCKER_LIST) == 0 ? SPEC_FORMAT_DOCKER
										    : SPEC_FORMAT_OCI;
}

static int parse_index(const struct json *j, struct spec_index *idx, struct skiff_err **err)
{
	if (specj_schema_version(j, err) < 0 || specj_media_type(j, "mediaType", false, &idx->media_type, err) < 0)
		return -1;
	if (idx->media_type && !spec_media_type_is_index(idx->media_type))
		return err_makex(err, EINVAL, "mediaType: %s is not an index type%s", idx->media_type,
				 spec_media_type_is_manifest(idx->media_type) ? " (it is a manifest)" : "");
	if (!idx->media_type) {
		if (json_object_get(j, "config") || json_object_get(j, "layers"))
			return err_makex(err, EINVAL, "no mediaType, and config or layers: a manifest");
		idx->media_type = xstrdup(SPEC_MT_OCI_INDEX);
	}
	if (specj_media_type(j, "artifactType", false, &idx->artifact_type, err) < 0 ||
	    parse_descriptor_array(j, "manifests", true, &idx->manifests, err) < 0 ||
	    parse_subject(j, &idx->subject, err) < 0 || specj_map(j, "annotations", &idx->annotations, err) < 0)
		return -1;
	return 0;
}

int spec_index_parse(const char *buf, size_t len, struct spec_index **ret, struct skiff_err **err)
{
	cleanup_json struct json *j = NULL;
	cleanup_spec_index struct spec_index *idx = NULL;

	if (json_parse(buf, len, &j, err) < 0)
		return err_wrap(err, "index");
	if (specj_expect_object(j, "index", err) < 0)
		return -1;
	idx = xzalloc(sizeof(*idx));
	if (parse_index(j, idx, err) < 0)
		return err_wrap(err, "index");
	digest_buf(buf, len, idx->digest);
	idx->dom = TAKE_PTR(j);
	*ret = TAKE_PTR(idx);
	return 0;
}

struct spec_index *spec_index_new(enum spec_format fmt)
{
	struct spec_index *idx = xzalloc(sizeof(*idx));
	idx->media_type = xstrdup(fmt == SPEC_FORMAT_DOCKER ? SPEC_MT_DOCKER_LIST : SPEC_MT_OCI_INDEX);
	return idx;
}

struct spec_descriptor *spec_index_add(struct spec_index *idx, const char *media_type, const char *digest, int64_t size,
				       const struct spec_platform *platform, struct skiff_err **err)
{
	struct spec_descriptor d = {0};
	struct spec_descriptor *slot;

	if (spec_descriptor_set(&d, media_type, digest, size, err) < 0) {
		err_wrap(err, "index: entry");
		return NULL;
	}
	if (platform) {
		d.platform = spec_platform_copy(platform);
		if (!d.platform->architecture || !*d.platform->architecture || !d.platform->os || !*d.platform->os) {
			spec_descriptor_release(&d);
			err_makex(err, EINVAL, "index: entry %s: platform needs architecture and os", digest);
			return NULL;
		}
	}
	slot = spec_descriptor_list_add(&idx->manifests);
	*slot = d;
	return slot;
}

const struct spec_descriptor *spec_index_find_ref(const struct spec_index *idx, const char *ref)
{
	for (size_t i = 0; i < idx->manifests.len; i++) {
		const char *r = spec_map_get(&idx->manifests.v[i].annotations, SPEC_ANNOTATION_REF_NAME);
		if (r && strcmp(r, ref) == 0)
			return &idx->manifests.v[i];
	}
	return NULL;
}

int spec_index_generate(const struct spec_index *idx, struct strbuf *out, char ret_digest[DIGEST_STR_LEN + 1],
			struct skiff_err **err)
{
	enum spec_format fmt = spec_index_format(idx);
	cleanup_json struct json *doc = NULL;

	if (!spec_media_type_is_index(idx->media_type))
		return err_makex(err, EINVAL, "index: mediaType: %.128s is not an index type",
				 idx->media_type ? idx->media_type : "(none)");
	if (check_common(fmt, idx->artifact_type, idx->subject, &idx->annotations, err) < 0 ||
	    check_list(&idx->manifests, "manifests", err) < 0)
		return err_wrap(err, "index");
	doc = json_new_object();
	json_object_set_int(doc, "schemaVersion", 2);
	json_object_set_string(doc, "mediaType", idx->media_type);
	specj_add_string(doc, "artifactType", idx->artifact_type);
	json_object_set(doc, "manifests", gen_list(&idx->manifests, fmt));
	if (idx->subject)
		json_object_set(doc, "subject", specj_descriptor_gen(idx->subject, fmt));
	specj_add_map(doc, "annotations", &idx->annotations);
	specj_emit(doc, out, ret_digest);
	return 0;
}
