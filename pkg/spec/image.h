/*
 * pkg/spec image documents: typed structs for the OCI image-spec v1.1 (index, manifest,
 * image config, image layout) and Docker schema2 (manifest list, manifest, container
 * image config, docker-archive manifest.json and repositories).
 *
 * Parsing works from bytes (pkg/json) and validates: bad input is EINVAL with a message
 * that names the field, e.g. "manifest: layers[3]: size: must be >= 0, got -1".
 * Parsed documents keep their DOM (->dom) as they came, and their digest (->digest, of
 * the bytes parsed): the stored and digested form of a pulled document is always its
 * original bytes; generation is for documents we create (import, commit, save).
 * Generation is compact JSON with the keys in the order the specs list them; string maps
 * (annotations, labels) are written with sorted keys, as Go does.
 *
 * All structs own their strings. Building an image for `import`:
 *
 *     cfg = spec_image_config_new();                 // this host's os/arch, rootfs "layers"
 *     cfg->created = spec_time_now();
 *     spec_image_config_add_diff_id(cfg, diff_id, err);
 *     spec_image_config_add_history(cfg, &hist);      // copied: hist's strings stay the caller's
 *     spec_image_config_generate(cfg, &cfg_bytes, cfg_digest, err);
 *     m = spec_manifest_new(SPEC_FORMAT_OCI);
 *     spec_descriptor_set(&m->config, m->config.media_type, cfg_digest, cfg_bytes.len, err);
 *     spec_manifest_add_layer(m, SPEC_MT_OCI_LAYER_GZIP, blob_digest, blob_size, err);
 *     spec_manifest_generate(m, &man_bytes, man_digest, err);
 */
#ifndef SKIFF_SPEC_IMAGE_H
#define SKIFF_SPEC_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/digest/digest.h"
#include "pkg/json/json.h"
#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/strv.h"

/* ---- media types ---- */

#define SPEC_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define SPEC_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define SPEC_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define SPEC_MT_OCI_EMPTY "application/vnd.oci.empty.v1+json"
#define SPEC_MT_OCI_LAYOUT_HEADER "application/vnd.oci.layout.header.v1+json"
#define SPEC_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define SPEC_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define SPEC_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define SPEC_MT_OCI_LAYER_ND "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define SPEC_MT_OCI_LAYER_ND_GZIP "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define SPEC_MT_OCI_LAYER_ND_ZSTD "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

#define SPEC_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define SPEC_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define SPEC_MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define SPEC_MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define SPEC_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define SPEC_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define SPEC_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define SPEC_MT_DOCKER_FOREIGN_LAYER "application/vnd.docker.image.rootfs.foreign.diff.tar"
#define SPEC_MT_DOCKER_FOREIGN_LAYER_GZIP "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

/* Annotation keys. */
#define SPEC_ANNOTATION_CREATED "org.opencontainers.image.created"
#define SPEC_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"
#define SPEC_ANNOTATION_BASE_DIGEST "org.opencontainers.image.base.digest"
#define SPEC_ANNOTATION_BASE_NAME "org.opencontainers.image.base.name"
#define SPEC_ANNOTATION_CONTAINERD_NAME "io.containerd.image.name"

enum spec_format { SPEC_FORMAT_OCI, SPEC_FORMAT_DOCKER };
enum spec_compression {
	SPEC_COMPRESSION_UNKNOWN = -1,
	SPEC_COMPRESSION_NONE,
	SPEC_COMPRESSION_GZIP,
	SPEC_COMPRESSION_ZSTD
};

/* True when mt is syntactically a media type (RFC 6838 "type/subtype", no parameters). */
bool spec_media_type_valid(const char *mt);
/* One of the OCI or Docker layer types above. */
bool spec_layer_media_type_known(const char *mt);
/* Compression of a known layer type; SPEC_COMPRESSION_UNKNOWN for anything else. */
enum spec_compression spec_layer_compression(const char *mt);
/* Nondistributable (OCI) or foreign (Docker) layer: not pushed to registries. */
bool spec_layer_nondistributable(const char *mt);
/* The (distributable) layer type for fmt and c; NULL when fmt has none (Docker + zstd). */
const char *spec_layer_media_type(enum spec_format fmt, enum spec_compression c);
bool spec_media_type_is_index(const char *mt);	  /* OCI index or Docker manifest list */
bool spec_media_type_is_manifest(const char *mt); /* OCI manifest or Docker schema2 manifest */
bool spec_media_type_is_config(const char *mt);	  /* OCI or Docker image config */
/* Format of a manifest/index/config/layer media type; -1 when it is neither OCI nor Docker. */
int spec_media_type_format(const char *mt);

/*
 * What a manifest-ish document is: its mediaType when it has a known one, else guessed
 * from its shape as containers/image does (schemaVersion 1 -> Docker schema1;
 * "manifests" -> OCI index; "config"/"layers" -> OCI manifest). *ret is one of the
 * SPEC_MT_ constants (static). EINVAL for bad JSON, a non-object, or an unknown type.
 */
int spec_detect_media_type(const char *buf, size_t len, const char **ret, struct skiff_err **err);

/* ---- small types ---- */

/* A string map that keeps insertion order (generation sorts the keys). */
struct spec_kv {
	char *key;
	char *value;
};
struct spec_map {
	struct spec_kv *items;
	size_t len, alloc;
};
const char *spec_map_get(const struct spec_map *m, const char *key);
void spec_map_set(struct spec_map *m, const char *key, const char *value); /* copies; replaces */
bool spec_map_remove(struct spec_map *m, const char *key);
void spec_map_copy(struct spec_map *dst, const struct spec_map *src); /* dst must be empty */
void spec_map_release(struct spec_map *m);

/* A point in time. set is false for an absent time (it is then not generated). */
struct spec_time {
	int64_t sec;  /* since the Unix epoch, UTC */
	int32_t nsec; /* 0 .. 999999999 */
	bool set;
};
/* Parse RFC 3339 ("2024-01-02T03:04:05.123456789+01:00", "...Z"; 't'/'z' accepted;
 * years 0000-9999; any number of fraction digits, beyond 9 truncated). EINVAL naming s. */
int spec_time_parse(const char *s, struct spec_time *ret, struct skiff_err **err);
/* Append t as Go's RFC3339Nano in UTC: fraction without trailing zeros, "Z".
 * EINVAL when t is not set, nsec is out of range, or the year is outside 0000-9999. */
int spec_time_format(const struct spec_time *t, struct strbuf *out, struct skiff_err **err);
struct spec_time spec_time_now(void);

/* GOARCH/GOOS of this build ("amd64", "arm64", "arm", "386", "ppc64le", "s390x", ...). */
const char *spec_goarch(void);
const char *spec_goos(void);
/* Default variant for spec_goarch(): "v8" on arm64, "v7"/"v6"/"v5" on arm, else NULL. */
const char *spec_goarch_variant(void);
/* Map a uname -m / alias ("x86_64", "aarch64", "armv7l", "i686", "armhf") to a GOARCH,
 * with its variant (NULL when none); NULL when unknown. ret_variant may be NULL. */
const char *spec_goarch_from_uname(const char *machine, const char **ret_variant);

/* ---- descriptors ---- */

struct spec_platform {
	char *architecture; /* required */
	char *os;	    /* required */
	char *os_version;
	struct strv os_features;
	char *variant;
};

struct spec_descriptor {
	char *media_type; /* required */
	char *digest;	  /* required, "sha256:<hex>" */
	int64_t size;	  /* required, >= 0 */
	struct strv urls;
	struct spec_map annotations;
	char *data;			/* OCI 1.1 embedded data, base64 as in the document */
	struct spec_platform *platform; /* NULL when absent */
	char *artifact_type;
};

/* Replace media type, digest and size (validated; EINVAL naming the bad one). */
int spec_descriptor_set(struct spec_descriptor *d, const char *media_type, const char *digest, int64_t size,
			struct skiff_err **err);
/* Deep copy; dst must be zeroed or released. */
void spec_descriptor_copy(struct spec_descriptor *dst, const struct spec_descriptor *src);
/* Free what d owns and zero it (d itself is not freed). */
void spec_descriptor_release(struct spec_descriptor *d);
/* Validate a descriptor (media type, digest, size, platform). */
int spec_descriptor_check(const struct spec_descriptor *d, struct skiff_err **err);
struct spec_platform *spec_platform_new(const char *architecture, const char *os, const char *variant);
struct spec_platform *spec_platform_copy(const struct spec_platform *p); /* NULL gives NULL */
void spec_platform_free(struct spec_platform *p);

struct spec_descriptor_list {
	struct spec_descriptor *v; /* pointers into v are invalidated when the list grows */
	size_t len, alloc;
};

/* ---- image manifest (OCI) / schema2 manifest (Docker) ---- */

struct spec_manifest {
	char *media_type; /* always set after parse (OCI manifest when the document has none) */
	char *artifact_type;
	struct spec_descriptor config;
	struct spec_descriptor_list layers;
	struct spec_descriptor *subject; /* NULL when absent */
	struct spec_map annotations;
	struct json *dom;		 /* the parsed document; NULL for built ones */
	char digest[DIGEST_STR_LEN + 1]; /* of the bytes parsed; "" for built ones */
};

/* Parse and validate (schemaVersion 2, a manifest mediaType if any, config and layers
 * descriptors). Unknown layer types are accepted here (artifacts); see validate_image. */
int spec_manifest_parse(const char *buf, size_t len, struct spec_manifest **ret, struct skiff_err **err);
/* Check that m describes a runnable image: an image config type and known layer types. */
int spec_manifest_validate_image(const struct spec_manifest *m, struct skiff_err **err);
/* A new empty manifest of fmt: mediaType set, config.media_type set to fmt's config type. */
struct spec_manifest *spec_manifest_new(enum spec_format fmt);
/* Append a layer descriptor (validated). */
int spec_manifest_add_layer(struct spec_manifest *m, const char *media_type, const char *digest, int64_t size,
			    struct skiff_err **err);
/* Validate and append compact JSON to out; ret_digest (may be NULL) gets its digest.
 * Docker schema2 manifests cannot carry artifactType, subject or annotations (EINVAL). */
int spec_manifest_generate(const struct spec_manifest *m, struct strbuf *out, char ret_digest[DIGEST_STR_LEN + 1],
			   struct skiff_err **err);
enum spec_format spec_manifest_format(const struct spec_manifest *m);
void spec_manifest_free(struct spec_manifest *m);

/* ---- image index (OCI) / manifest list (Docker) ---- */

struct spec_index {
	char *media_type; /* always set after parse (OCI index when the document has none) */
	char *artifact_type;
	struct spec_descriptor_list manifests;
	struct spec_descriptor *subject;
	struct spec_map annotations;
	struct json *dom;
	char digest[DIGEST_STR_LEN + 1];
};

int spec_index_parse(const char *buf, size_t len, struct spec_index **ret, struct skiff_err **err);
struct spec_index *spec_index_new(enum spec_format fmt);
/* Append an entry; platform (may be NULL) is copied. Returns the new descriptor (valid
 * until the next append) so the caller can add annotations, or NULL with *err set. */
struct spec_descriptor *spec_index_add(struct spec_index *idx, const char *media_type, const char *digest, int64_t size,
				       const struct spec_platform *platform, struct skiff_err **err);
/* The first entry whose org.opencontainers.image.ref.name is ref; NULL when none. */
const struct spec_descriptor *spec_index_find_ref(const struct spec_index *idx, const char *ref);
int spec_index_generate(const struct spec_index *idx, struct strbuf *out, char ret_digest[DIGEST_STR_LEN + 1],
			struct skiff_err **err);
enum spec_format spec_index_format(const struct spec_index *idx);
void spec_index_free(struct spec_index *idx);

/* ---- image config ---- */

struct spec_healthcheck { /* Docker only; durations in nanoseconds, 0: inherit */
	struct strv test;
	int64_t interval, timeout, start_period, start_interval;
	int64_t retries;
};

struct spec_container_config {
	char *user;
	struct strv exposed_ports; /* keys of the ExposedPorts object: "80/tcp" */
	struct strv env;
	struct strv entrypoint;
	struct strv cmd;
	struct strv volumes; /* keys of the Volumes object */
	char *working_dir;
	struct spec_map labels;
	char *stop_signal;
	bool args_escaped;
	struct spec_healthcheck *healthcheck; /* NULL when absent */
	struct strv on_build;
	struct strv shell;
	struct json *extra; /* object of the keys not listed above (Hostname, ...); NULL if none */
};

struct spec_history {
	struct spec_time created;
	char *created_by;
	char *author;
	char *comment;
	bool empty_layer;
};

struct spec_image_config {
	struct spec_time created;
	char *author;
	char *architecture;
	char *os;
	char *os_version;
	struct strv os_features;
	char *variant;
	struct spec_container_config config;
	struct strv diff_ids; /* rootfs.diff_ids (rootfs.type is always "layers") */
	struct spec_history *history;
	size_t n_history, alloc_history;
	/* Top-level keys not listed above (docker's container_config, docker_version ...),
	 * kept on parse and written after the known keys on generate; NULL if none.
	 * Clear it (json_free + NULL) to drop them. */
	struct json *extra;
	struct json *dom;		 /* the parsed document as it came; NULL for built ones */
	char digest[DIGEST_STR_LEN + 1]; /* of the bytes parsed; "" for built ones */
};

/* Parse and validate: rootfs.type "layers", diff_ids digests, types of every known field
 * (null is accepted as absent, as Go does; Entrypoint/Cmd/Shell may be a single string,
 * as Docker's strslice). architecture and os are not required (old Docker images). */
int spec_image_config_parse(const char *buf, size_t len, struct spec_image_config **ret, struct skiff_err **err);
/* The same for bytes whose digest ("sha256:...") is already known (a stored image's
 * config: its id), which saves hashing them (and starting libcrypto) again. */
int spec_image_config_parse_known(const char *buf, size_t len, const char *digest, struct spec_image_config **ret,
				  struct skiff_err **err);
/* A new config for this host: architecture spec_goarch() (+ variant), os "linux". */
struct spec_image_config *spec_image_config_new(void);
int spec_image_config_add_diff_id(struct spec_image_config *c, const char *diff_id, struct skiff_err **err);
/* Append a copy of h. */
void spec_image_config_add_history(struct spec_image_config *c, const struct spec_history *h);
/* Number of history entries without empty_layer. */
size_t spec_image_config_layer_history(const struct spec_image_config *c);
/* Validate (architecture and os required) and append compact JSON to out. */
int spec_image_config_generate(const struct spec_image_config *c, struct strbuf *out,
			       char ret_digest[DIGEST_STR_LEN + 1], struct skiff_err **err);
void spec_image_config_free(struct spec_image_config *c);
void spec_history_release(struct spec_history *h);

/* EINVAL unless the manifest's layer count equals the config's diff_ids count and, when
 * check_history and the config has history, the number of non-empty history entries. */
int spec_check_layer_counts(const struct spec_manifest *m, const struct spec_image_config *c, bool check_history,
			    struct skiff_err **err);

/* ---- docker-archive (docker save/load) ---- */

struct spec_layer_source {
	char *diff_id;
	struct spec_descriptor desc;
};

struct spec_archive_image {
	char *config;	       /* path in the archive, "<hex>.json" or "blobs/sha256/<hex>" */
	struct strv repo_tags; /* "docker.io/library/busybox:latest" or "busybox:latest" */
	struct strv layers;    /* paths in the archive, bottom first */
	char *parent;
	struct spec_layer_source *layer_sources;
	size_t n_layer_sources, alloc_layer_sources;
};

/* manifest.json: an array of images. Paths are not checked for ".." or absolute names:
 * resolve them inside the archive root. */
struct spec_archive_manifest {
	struct spec_archive_image *images;
	size_t len, alloc;
};

int spec_archive_manifest_parse(const char *buf, size_t len, struct spec_archive_manifest **ret,
				struct skiff_err **err);
struct spec_archive_manifest *spec_archive_manifest_new(void);
/* Append a zeroed image entry and return it (valid until the next append). */
struct spec_archive_image *spec_archive_manifest_add(struct spec_archive_manifest *am);
int spec_archive_manifest_generate(const struct spec_archive_manifest *am, struct strbuf *out, struct skiff_err **err);
void spec_archive_manifest_free(struct spec_archive_manifest *am);

/* The legacy `repositories` file: {"repo":{"tag":"<layer id>"}}. */
struct spec_repo_tag {
	const char *repo; /* "busybox" */
	const char *tag;  /* "latest" */
	const char *id;	  /* 64 hex digits: the top layer's v1 id */
};
int spec_docker_repositories_generate(const struct spec_repo_tag *tags, size_t n, struct strbuf *out,
				      struct skiff_err **err);

/* ---- OCI image layout ---- */

#define SPEC_OCI_LAYOUT_FILE "oci-layout"
#define SPEC_OCI_LAYOUT_VERSION "1.0.0"
#define SPEC_OCI_INDEX_FILE "index.json" /* an OCI index: spec_index_parse/generate */
#define SPEC_OCI_BLOBS_DIR "blobs"

void spec_oci_layout_generate(struct strbuf *out);
/* Check an oci-layout file: an object with imageLayoutVersion "1.0.0". */
int spec_oci_layout_check(const char *buf, size_t len, struct skiff_err **err);

static inline void spec_manifest_freep(struct spec_manifest **p)
{
	if (*p)
		spec_manifest_free(*p);
}
static inline void spec_index_freep(struct spec_index **p)
{
	if (*p)
		spec_index_free(*p);
}
static inline void spec_image_config_freep(struct spec_image_config **p)
{
	if (*p)
		spec_image_config_free(*p);
}
static inline void spec_archive_manifest_freep(struct spec_archive_manifest **p)
{
	if (*p)
		spec_archive_manifest_free(*p);
}
#define cleanup_spec_manifest __attribute__((cleanup(spec_manifest_freep)))
#define cleanup_spec_index __attribute__((cleanup(spec_index_freep)))
#define cleanup_spec_image_config __attribute__((cleanup(spec_image_config_freep)))
#define cleanup_spec_archive_manifest __attribute__((cleanup(spec_archive_manifest_freep)))

#endif
