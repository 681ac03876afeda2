/*
 * pkg/store/lists: manifest lists (image indexes) kept in local storage.
 *
 * A list is not an image: it has no config and no layers, so it lives in tables of its
 * own (schema version 3) rather than as an image row: manifest_lists holds its id (64
 * random hex), its one name, when it was made and the index document; manifest_list_instances
 * says, for each entry of the document, which local image it is (image_id, set to NULL when
 * that image is removed) or which remote reference it was added from (source). A save
 * replaces the document and all its instance rows in one transaction.
 */
#ifndef SKIFF_STORE_LISTS_H
#define SKIFF_STORE_LISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/store/store.h"
#include "vendor-free/err.h"
#include "vendor-free/strv.h"

struct store_list_instance {
	char *digest;	/* "sha256:..." as in the document */
	char *image_id; /* local image, or NULL */
	char *source;	/* "host/path" it was added from (remote instances), or NULL */
};

struct store_list {
	char *id;   /* 64 hex */
	char *name; /* full name: "localhost/mylist:latest" */
	int64_t created;
	char *doc; /* the index JSON */
	size_t doc_len;
	struct store_list_instance *inst;
	size_t ninst;
};

void store_list_free(struct store_list *l);
static inline void store_list_freep(struct store_list **l)
{
	if (*l)
		store_list_free(*l);
}
#define cleanup_store_list __attribute__((cleanup(store_list_freep)))

/* By full id, unique id prefix (>= 3 hex, "sha256:" allowed) or exact name.
 * ENOENT "X: image not known". */
int store_list_get(struct store *s, const char *id_or_name, struct store_list **ret, struct skiff_err **err);
/* The names of every list (and, in ids, their ids at the same index). */
int store_list_names(struct store *s, struct strv *names, struct strv *ids, struct skiff_err **err);
/* Write l (doc and instances) in one transaction. With create, insert a new list: EEXIST
 * when an image or another list has the name; otherwise update the list l->id (ENOENT when
 * it is gone). An instance's image_id must name an existing image. */
int store_list_save(struct store *s, const struct store_list *l, bool create, struct skiff_err **err);
/* Remove the list (its instance rows go with it). ENOENT when it does not exist. */
int store_list_delete(struct store *s, const char *id, struct skiff_err **err);

#endif
