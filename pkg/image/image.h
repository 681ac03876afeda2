/*
 * pkg/image: images as users see them — lookup by name or ID, tag, remove, inspect,
 * history, prune, and the load/save/import pipelines between archives and the store.
 * The CLI and the API server are thin fronts over these functions.
 */
#ifndef SKIFF_IMAGE_H
#define SKIFF_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pkg/json/json.h"
#include "pkg/store/store.h"
#include "vendor-free/err.h"
#include "vendor-free/strv.h"

/* Find an image as podman does: full or short ID, exact name, then a short name
 * ("busybox", "busybox:latest", "library/busybox") matched against stored names.
 * ENOENT "INPUT: image not known". */
int image_lookup(struct store *s, const char *input, struct store_image **ret, struct skiff_err **err);

/* Normalise a user's name for storing: "busybox" -> "docker.io/library/busybox:latest". */
int image_normalize_name(const char *input, char **ret, struct skiff_err **err);

/* Add or remove one name of img (a full name, as stored), logging a tag/untag event. */
int image_tag(struct store *s, const struct store_image *img, const char *name, struct skiff_err **err);
int image_untag(struct store *s, const struct store_image *img, const char *name, struct skiff_err **err);

/* ---- load / save / import ---- */
struct image_load_opts {
	const char *input; /* path, or NULL/"-" for stdin */
	const char *tmpdir;
};
/* Load every image of a docker-archive or oci-archive (plain, gzip or zstd). ret_names
 * gets what to report: each name, or "sha256:<id>" for an image without one. */
int image_load(struct store *s, const struct image_load_opts *o, struct strv *ret_names, struct skiff_err **err);

enum image_save_format { SAVE_DOCKER_ARCHIVE, SAVE_OCI_ARCHIVE, SAVE_OCI_DIR };
struct image_save_opts {
	enum image_save_format format;
	const char *output; /* file or directory (oci-dir); NULL/"-" for stdout (archives only) */
	bool multi;	    /* docker-archive with several images */
};
/* inputs: what the user named (names keep their tag in the archive; IDs save untagged). */
int image_save(struct store *s, const struct image_save_opts *o, const struct strv *inputs, struct skiff_err **err);

struct image_import_opts {
	const char *input;	    /* tarball path or "-" for stdin */
	const char *reference;	    /* optional name */
	const struct strv *changes; /* Dockerfile instructions: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR,
				       VOLUME, STOPSIGNAL */
	const char *message;	    /* history comment */
	const char *tmpdir;
};
int image_import(struct store *s, const struct image_import_opts *o, char **ret_id, struct skiff_err **err);

/* ---- presentation ---- */
/* podman's `image inspect` object for one image. */
int image_inspect_json(struct store *s, const struct store_image *img, struct json **ret, struct skiff_err **err);
/* `history` rows: objects with ID, Created (unix), CreatedBy, Size, Comment, Tags. */
int image_history_json(struct store *s, const struct store_image *img, struct json **ret, struct skiff_err **err);

/* ---- removal ---- */
struct image_rm_report {
	struct strv untagged; /* names */
	struct strv deleted;  /* ids */
};
void image_rm_report_release(struct image_rm_report *r);
/* Remove what input names: a name that is one of several only untags it; an ID of an
 * image with several names needs force. */
int image_remove(struct store *s, const char *input, bool force, struct image_rm_report *rep, struct skiff_err **err);
/* Remove dangling images (all unused with all). */
int image_prune(struct store *s, bool all, struct image_rm_report *rep, struct skiff_err **err);

/* ==== commit (pkg/image/commit.c; added for `skiff commit`) ==== */
#include "pkg/spec/image.h"

/* Apply one Dockerfile instruction to c, as `commit -c` and `import -c` take them: CMD,
 * ENTRYPOINT (JSON array or shell form), ENV and LABEL (KEY=VALUE words, quotes allowed,
 * or the old "KEY VALUE"), EXPOSE (PORT[-PORT][/tcp|udp|sctp]), ONBUILD, STOPSIGNAL
 * (stored as its number, as podman), USER, VOLUME (JSON array or words), WORKDIR
 * (relative to the previous one). EINVAL 'invalid change "X": ...' naming the problem. */
int image_apply_change(struct spec_image_config *c, const char *change, struct skiff_err **err);
/* The store's labels column for an image: its config's labels as a JSON object (NULL when
 * it has none). */
char *image_labels_json(const struct spec_map *labels);
/* Hold the layers of image image_id in h; push their ids, diff ids (when diff_ids is not
 * NULL) and sizes. ENOENT naming a missing layer. */
int image_hold_layers(struct store *s, struct store_layer_hold *h, const char *image_id, struct strv *ids,
		      struct strv *diff_ids, struct strv *sizes, struct skiff_err **err);
/* Store a new image: config c (its diff_ids naming layers, whose sizes are in sizes) is
 * generated afresh, a manifest of format made over the layers, and the image committed
 * with names and parent. *ret_id is the image's id; ret_config_digest (may be NULL) gets the
 * config's digest. */
int image_store_built(struct store *s, struct spec_image_config *c, enum spec_format format, const struct strv *layers,
		      const struct strv *sizes, const struct strv *names, const char *parent, char **ret_id,
		      char *ret_config_digest, struct skiff_err **err);
/* A commit's image name: "x" -> "localhost/x:latest" (podman's); EINVAL when invalid. */
int image_commit_name(const char *input, char **ret, struct skiff_err **err);

struct image_commit_opts {
	const char *base_id;			      /* image whose layers come first (NULL: none) */
	const char *base_name;			      /* for the history comment "FROM <base_name>" */
	struct spec_image_config *config;	      /* the new config: the base's with the container's settings
							 and changes applied; commit adds the layer and history */
	const struct store_layer_src *layer;	      /* the new layer's tar */
	const char *reference;			      /* name, or NULL */
	const char *author;			      /* config and history author (NULL: keep the base's) */
	const char *message;			      /* history comment (NULL: "FROM <base_name>") */
	enum spec_format format;		      /* manifest and config media types */
	bool squash;				      /* the layer holds the whole rootfs: no base layers or history */
	void (*progress)(void *ud, const char *line); /* podman's progress lines, or NULL */
	void *progress_ud;
};
int image_commit(struct store *s, const struct image_commit_opts *o, char **ret_id, struct skiff_err **err);
/* ==== end of commit ==== */

#endif
