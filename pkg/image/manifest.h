/*
 * pkg/image/manifest: manifest lists (Docker manifest lists and OCI image indexes) made
 * locally, as `podman manifest` makes them: create a list, add local images or remote
 * references to it, annotate its entries, inspect it (or any remote reference), push it
 * with its images, remove it. Lists are kept by pkg/store/lists.
 *
 * The document half (mlist_*) is pure and holds every field podman writes, in podman's
 * key order, so that `manifest inspect` prints what podman prints.
 */
#ifndef SKIFF_IMAGE_MANIFEST_H
#define SKIFF_IMAGE_MANIFEST_H

#include <stdbool.h>
#include <stdint.h>

#include "pkg/digest/digest.h"
#include "pkg/image/image.h"
#include "pkg/image/pull.h"
#include "pkg/image/push.h"
#include "pkg/spec/image.h"
#include "pkg/store/lists.h"
#include "pkg/store/store.h"
#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/strv.h"

/* ---- the document ---- */

struct mlist_entry {
	char *media_type;
	char *digest;
	int64_t size;
	struct strv urls;
	bool has_platform;
	char *arch, *os, *os_version, *variant;
	struct strv os_features, features;
	struct spec_map annotations;
};

struct mlist {
	char *media_type; /* SPEC_MT_DOCKER_LIST or SPEC_MT_OCI_INDEX */
	struct mlist_entry *v;
	size_t len, alloc;
	struct spec_map annotations; /* the index's own (OCI) */
};

/* An empty list of that media type (NULL: Docker manifest list, podman's default). */
struct mlist *mlist_new(const char *media_type);
void mlist_free(struct mlist *l);
static inline void mlist_freep(struct mlist **l)
{
	if (*l)
		mlist_free(*l);
}
#define cleanup_mlist __attribute__((cleanup(mlist_freep)))

/* Parse a Docker manifest list or OCI index. EINVAL naming the bad field
 * ("manifests[1]: digest: ..."). Unknown keys are dropped. */
int mlist_parse(const char *buf, size_t len, struct mlist **ret, struct skiff_err **err);
/* As podman writes it: indent 0 compact (what is pushed), else that many spaces (inspect).
 * In Docker form (fmt) the entries' keys are mediaType, size, digest, urls, platform,
 * annotations; in OCI form mediaType, digest, size, urls, annotations, platform. An empty
 * list shows "manifests": null when indented (as podman), [] when compact. */
void mlist_generate(const struct mlist *l, int indent, struct strbuf *out);
/* Index of the entry with digest, or -1. */
long mlist_find(const struct mlist *l, const char *digest);
/* The entry for digest: the existing one (its platform and annotations reset), or a new
 * one at the end. EINVAL for a bad digest, media type or size. */
struct mlist_entry *mlist_put(struct mlist *l, const char *media_type, const char *digest, int64_t size,
			      struct skiff_err **err);
/* ENOENT 'no instance matching digest "D" found in manifest list'. */
int mlist_remove(struct mlist *l, const char *digest, struct skiff_err **err);

/* What add and annotate may set on an entry (NULL/empty: leave alone). */
struct manifest_platform_opts {
	const char *arch, *os, *variant, *os_version;
	const struct strv *os_features; /* each "a,b" is split at commas */
	const struct strv *features;
	const struct strv *annotations; /* "KEY=VALUE"; when given they replace the entry's */
};
/* Apply o to e. EINVAL 'no value given for annotation "K"' and the like. */
int mlist_entry_apply(struct mlist_entry *e, const struct manifest_platform_opts *o, struct skiff_err **err);
/* Parse "KEY=VALUE" annotations into m (EINVAL naming the bad one). */
int manifest_parse_annotations(const struct strv *in, struct spec_map *m, struct skiff_err **err);

/* ---- lists in the store ---- */

/* Find a list as podman does: ID, exact name, then a short name matched against the
 * lists' names. ENOENT "X: image not known"; when X is an image but not a list,
 * EMEDIUMTYPE "X: image is not a manifest list". */
int manifest_list_lookup(struct store *s, const char *input, struct store_list **ret, struct skiff_err **err);

/* Create the list name ("x" is stored as "localhost/x:latest"); with amend an existing list
 * of that name is kept. ret_id gets its id. */
int manifest_list_create(struct store *s, const char *name, bool amend, char **ret_id, struct skiff_err **err);

struct manifest_add_opts {
	bool all; /* a remote index: add all its entries (else the one for this platform) */
	struct manifest_platform_opts plat;
	const struct image_pull_opts *pull; /* registries for remote references (NULL: none allowed) */
};
/* Add image to list: "docker://REF" is remote, "containers-storage:X" local, anything else
 * a local image when one matches, else a remote reference. ret_id gets the list's id. */
int manifest_list_add(struct store *s, const char *list, const char *image, const struct manifest_add_opts *o,
		      char **ret_id, struct skiff_err **err);
/* Change the entry named by instance (a digest, or a local image in the list). */
int manifest_list_annotate(struct store *s, const char *list, const char *instance,
			   const struct manifest_platform_opts *o, char **ret_id, struct skiff_err **err);
/* Remove the entry with digest from list. */
int manifest_list_remove(struct store *s, const char *list, const char *digest, char **ret_id, struct skiff_err **err);
/* The list's document as podman prints it (4-space indent) into out. */
int manifest_list_inspect(struct store *s, const char *list, struct strbuf *out, struct skiff_err **err);
/* A remote reference's manifest or index, re-indented (4 spaces). ret_single (may be NULL)
 * is set when it is a single image's manifest, not a list. */
int manifest_remote_inspect(const char *ref, const struct image_pull_opts *o, struct strbuf *out, bool *ret_single,
			    struct skiff_err **err);
/* Delete list (not its images), reporting as rmi does. */
int manifest_list_delete(struct store *s, const char *list, struct image_rm_report *rep, struct skiff_err **err);

struct manifest_push_opts {
	struct image_push_opts push; /* registry options, format ("oci", "v2s2"; NULL: the list's), progress */
	bool all;		     /* push the instances first (local images; remote ones are copied) */
	bool rm;		     /* remove the local list when the push succeeded */
	void (*on_instance)(void *ud, const char *digest, size_t i, size_t n); /* "Copying image ..." */
	void *on_instance_ud;
};
/* Push list to dest ("[docker://]host/path:tag"; NULL: the list's name). ret_digest gets
 * the pushed index's digest. */
int manifest_list_push(struct store *s, const char *list, const char *dest, const struct manifest_push_opts *o,
		       char ret_digest[DIGEST_STR_LEN + 1], struct skiff_err **err);

#endif
