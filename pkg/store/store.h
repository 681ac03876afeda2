/*
 * pkg/store: the image (and later container) store.
 *
 * Metadata lives in one SQLite database (WAL, busy timeout): every change is one
 * transaction. Content lives in files: layers/<layer-id>/ holds an unpacked layer
 * (diff/) and the tar-split that reassembles its original tar (tar-split.gz).
 * Manifests and configs are small and live in the database itself, so committing an
 * image is a single transaction. Layer content is staged under tmp/ and renamed into
 * place; a layer row is 'incomplete' until its directory is whole. A per-layer OFD
 * lock (locks/layer-<id>) makes concurrent creators fetch a layer once and keeps
 * garbage collection off layers that an uncommitted operation still uses.
 * See docs/design/store.md.
 */
#ifndef SKIFF_STORE_H
#define SKIFF_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vendor-free/err.h"
#include "vendor-free/strv.h"

struct store;

struct store_opts {
	const char *graphroot;
	const char *runroot;
	const char *driver;	   /* "overlay" or "vfs" */
	bool userns;		   /* content is written inside a user namespace (rootless) */
	bool recover;		   /* may remove leftovers (needs to own the content: root or in the userns) */
	bool readonly_ok;	   /* a missing store is fine: behave as empty (no directories created) */
	const char *mount_program; /* overlay.mount_program (fuse-overlayfs); NULL: native overlay */
};

int store_open(const struct store_opts *opts, struct store **ret, struct skiff_err **err);
void store_close(struct store *s);
const char *store_graphroot(const struct store *s);
const char *store_driver(const struct store *s);
int store_graphroot_fd(const struct store *s);
bool store_userns(const struct store *s);

/* ---- images ---- */

struct store_image {
	char *id;	     /* 64 hex: the config digest */
	struct strv names;   /* full references, oldest first */
	char *digest;	     /* manifest digest "sha256:..." (may be NULL) */
	char *manifest_type; /* media type of the stored manifest */
	int64_t created;     /* from the config, unix seconds (0 unknown) */
	int64_t created_nsec;
	int64_t added;	    /* when it entered this store, unix seconds */
	uint64_t size;	    /* sum of the layers' uncompressed sizes */
	struct strv layers; /* layer ids, bottom first */
	char *parent;	    /* parent image id (builds), may be NULL */
	char *labels_json;  /* config.Labels as JSON text (for filters), may be NULL */
};

void store_image_free(struct store_image *img);
void store_images_free(struct store_image **imgs, size_t n);

/* Every image, newest (added) first. */
int store_image_list(struct store *s, struct store_image ***ret, size_t *ret_n, struct skiff_err **err);
/* By full ID, unique ID prefix (>= 3 hex, "sha256:" allowed), or exact stored name.
 * Not found: ENOENT "NAME: image not known". Ambiguous prefix: EINVAL. */
int store_image_get(struct store *s, const char *id_or_name, struct store_image **ret, struct skiff_err **err);
int store_image_by_name(struct store *s, const char *full_name, struct store_image **ret, struct skiff_err **err);
int store_image_config(struct store *s, const char *id, char **ret, size_t *ret_len, struct skiff_err **err);
int store_image_manifest(struct store *s, const char *id, char **ret, size_t *ret_len, struct skiff_err **err);
bool store_image_exists(struct store *s, const char *id);

/* Add name to image id; a name held by another image moves (docker tag semantics). */
int store_image_add_name(struct store *s, const char *id, const char *name, struct skiff_err **err);
/* ENOENT when the image does not have that name. */
int store_image_remove_name(struct store *s, const char *id, const char *name, struct skiff_err **err);

struct store_image_new {
	const char *config; /* raw bytes; the image id is their sha256 */
	size_t config_len;
	const char *manifest; /* raw bytes, may be NULL */
	size_t manifest_len;
	const char *manifest_type;
	const struct strv *layers; /* layer ids bottom first, all complete and held by the caller */
	const struct strv *names;  /* names to (re)assign to this image */
	int64_t created, created_nsec;
	const char *labels_json;
	const char *parent;
};
/* Insert (or, when the id exists, merge names into) an image; one transaction. */
int store_image_commit(struct store *s, const struct store_image_new *img, char **ret_id, bool *ret_existed,
		       struct skiff_err **err);
/* Delete the image row and then every layer no image references; content removal
 * happens outside the transaction. */
int store_image_delete(struct store *s, const char *id, struct skiff_err **err);

/* ---- containers ---- */

struct store_container {
	char *id;	 /* 64 hex */
	char *name;	 /* unique */
	char *image_id;	 /* the image it was made from */
	int64_t created; /* unix ns */
	char *config;	 /* the engine's JSON (ctr_config) */
	/* run state, kept by the engine */
	char *status; /* "created", "running", "paused", "stopped", "exited", "removing" */
	int pid, monitor_pid;
	uint64_t monitor_start;		 /* start time of the monitor (pid reuse) */
	int64_t started_at, finished_at; /* unix ns; 0: never */
	int exit_code;
	bool oom_killed;
	int restart_count;
	bool mounted; /* the rootfs is mounted */
};
void store_container_release(struct store_container *c);
void store_containers_free(struct store_container *v, size_t n);

/* Insert the row (incomplete) and make graphroot/containers/ID/{diff,work,userdata}
 * (vfs: rootfs, a copy of the image's top layer), then mark it complete. A taken
 * name is EEXIST naming the container that holds it. */
int store_container_create(struct store *s, const char *id, const char *name, const char *image_id, const char *config,
			   struct skiff_err **err);
/* By full id, name, or unique id prefix (ENOENT "no container with name or ID \"x\" found";
 * an ambiguous prefix is EINVAL). */
int store_container_get(struct store *s, const char *ref, struct store_container *ret, struct skiff_err **err);
/* All complete containers, newest first. */
int store_container_list(struct store *s, struct store_container **ret, size_t *ret_n, struct skiff_err **err);
/* Write the run-state fields of c (by c->id) in one transaction. */
int store_container_set_state(struct store *s, const struct store_container *c, struct skiff_err **err);
int store_container_rename(struct store *s, const char *id, const char *name, struct skiff_err **err);
/* Unmount (if mounted), remove the content and the row (marked first, so recovery finishes
 * a killed delete). */
int store_container_delete(struct store *s, const char *id, struct skiff_err **err);
/* graphroot/containers/ID (caller frees). */
char *store_container_dir(struct store *s, const char *id);
/* Mount the rootfs (overlay of the image's layers + the container's diff; vfs: its copy)
 * and give its path (caller frees). Mounting twice is fine. */
int store_container_mount(struct store *s, const char *id, char **ret_path, struct skiff_err **err);
/* The same, with the files' ids shifted for a container in a user namespace of its own
 * (--userns=auto): on-disk id i shows as uid/gid + i, for size ids (fuse-overlayfs). */
struct store_idmap {
	uint32_t uid, gid, size;
};
int store_container_mount_mapped(struct store *s, const char *id, const struct store_idmap *map, char **ret_path,
				 struct skiff_err **err);
int store_container_umount(struct store *s, const char *id, struct skiff_err **err);
/* The ids of the containers made from image_id. */
int store_image_containers(struct store *s, const char *image_id, struct strv *ret, struct skiff_err **err);

/* ---- layers ---- */

struct store_layer_info {
	char *id;
	char *parent;
	char *diff_id;
	char *compressed_digest;
	uint64_t size, compressed_size;
};
void store_layer_info_release(struct store_layer_info *l);
int store_layer_info(struct store *s, const char *id, struct store_layer_info *ret, struct skiff_err **err);

/* The layer id (chain id) of diff_id on top of parent (NULL for a base layer). */
void store_chain_id(const char *parent_id, const char *diff_id, char out[65]);

struct store_layer_hold; /* a shared hold on layers that keeps GC away until released */
struct store_layer_hold *store_hold_new(struct store *s);
void store_hold_release(struct store_layer_hold *h);

/* Input of a layer's content: a read callback over the (possibly compressed) blob. */
typedef long (*store_read_fn)(void *ud, void *buf, size_t n);
/* A store_read_fn over an fd (ud points at the int fd): read(2), retried on EINTR. */
long store_read_fd(void *ud, void *buf, size_t n);

struct store_layer_src {
	store_read_fn read;
	void *ud;
	const char *expected_diff_id; /* verified when set */
	const char *expected_digest;  /* of the blob as read; verified when set */
};

/*
 * Make layer `id` (already computed as the chain id) exist, holding it in h. When it
 * already exists nothing is read and *ret_created is false. Otherwise the content is
 * read from src, verified, unpacked in staging and renamed into place. Threads may
 * ensure different layers at once (sharing s and h); nothing else in the store is
 * thread-safe.
 */
int store_layer_ensure(struct store *s, struct store_layer_hold *h, const char *id, const char *parent,
		       const char *diff_id, const struct store_layer_src *src, bool *ret_created,
		       struct skiff_err **err);
/* True when the layer exists and is complete. */
bool store_layer_complete(struct store *s, const char *id);
/* True when layers hold whole trees (vfs), so a layer can only be made after its parent. */
bool store_layers_need_parent(const struct store *s);
/* True when the layer exists and is complete (and then holds it in h). */
bool store_layer_hold_existing(struct store *s, struct store_layer_hold *h, const char *id);
/* Unpack a layer whose diff id is not known in advance (import): returns its id. */
int store_layer_create_unknown(struct store *s, struct store_layer_hold *h, const char *parent,
			       const struct store_layer_src *src, char **ret_id, char **ret_diff_id,
			       struct skiff_err **err);
/* Write the layer's original uncompressed tar through write (verifying its diff id).
 * Threads may write different layers at once. */
typedef int (*store_write_fn)(void *ud, const void *buf, size_t n);
int store_layer_write_tar(struct store *s, const char *id, store_write_fn write, void *ud, struct skiff_err **err);
/* Writes an OCI layer tar of the overlay upper dir at dirfd through write (the store has
 * no tar writer: pkg/engine's changes_tar_upper() is one). */
typedef int (*store_tar_dir_fn)(void *ud, int dirfd, store_write_fn write, void *wud, struct skiff_err **err);
/* Make container ctr_id's writable layer (overlay: its upper dir, whiteouts and opaque
 * directories as overlayfs keeps them) a new layer on parent, held in h, without a copy:
 * the container is unmounted and its upper dir renamed into staging (an empty one takes
 * its place); the tar tar_dir(ud, ...) writes of it is hashed (the diff id) and recorded
 * as the tar-split, never stored, so the layer is what store_layer_create_unknown() makes
 * of that tar: same id, same diff id, same tar out. ENOTSUP with vfs. On failure the
 * upper dir is put back where it can be. */
int store_layer_create_from_container(struct store *s, struct store_layer_hold *h, const char *parent,
				      const char *ctr_id, store_tar_dir_fn tar_dir, void *ud, char **ret_id,
				      char **ret_diff_id, struct skiff_err **err);

/* Remember the compressed blob a push made of layer id (so the next push finds it in
 * the registry instead of compressing again). Thread-safe like store_layer_ensure(). */
int store_layer_set_blob(struct store *s, const char *id, const char *digest, uint64_t size, struct skiff_err **err);

/* Remove the complete layers no image references and no command holds (what a failed
 * pull or build left). */
int store_prune_layers(struct store *s, struct skiff_err **err);

/* ---- build cache (buildcache.c): a build step's key (64 hex) -> the image it made ---- */
/* ENOENT when there is no entry (or its image is gone). */
int store_build_cache_get(struct store *s, const char *key, char **ret_image_id, struct skiff_err **err);
/* Record (or replace) an entry; ENOENT when the image does not exist. */
int store_build_cache_put(struct store *s, const char *key, const char *image_id, struct skiff_err **err);

/* ---- maintenance ---- */
struct store_check_report {
	struct strv problems; /* one line each */
	unsigned repaired;
};
int store_check(struct store *s, bool repair, struct store_check_report *ret, struct skiff_err **err);
struct store_usage {
	uint64_t images, layers;
	uint64_t images_size;
	uint64_t layers_disk;
};
int store_usage(struct store *s, struct store_usage *ret, struct skiff_err **err);
/* Remove everything under graphroot and runroot that skiff made. */
int store_reset(const char *graphroot, const char *runroot, struct skiff_err **err);
int store_image_count(struct store *s, uint64_t *ret, struct skiff_err **err);

/* ---- volumes (volumes.c): graphroot/volumes/NAME/_data ---- */

struct store_volume {
	char *name;
	char *driver;	    /* "local" */
	char *options_json; /* {"type": ..., "device": ..., "o": ...} as given to create, or NULL */
	char *labels_json;  /* {"k": "v"} or NULL */
	int64_t created;    /* unix ns */
	bool anonymous;	    /* made for one container (-v /path, image VOLUME) */
	bool needs_copy;    /* the image's content at the first mount point is still to be copied in */
};
void store_volume_release(struct store_volume *v);
void store_volumes_free(struct store_volume *v, size_t n);
/* Insert the row (marked creating), make volumes/NAME/_data, mark it complete. A taken
 * name is EEXIST "volume with name NAME already exists". */
int store_volume_create(struct store *s, const struct store_volume *v, struct skiff_err **err);
/* ENOENT "no such volume NAME". */
int store_volume_get(struct store *s, const char *name, struct store_volume *ret, struct skiff_err **err);
/* All complete volumes, by name. */
int store_volume_list(struct store *s, struct store_volume **ret, size_t *ret_n, struct skiff_err **err);
/* The ids of the containers that use the volume (sorted). */
int store_volume_users(struct store *s, const char *name, struct strv *ret, struct skiff_err **err);
/* The names of the volumes a container uses; anonymous_only: only its anonymous ones. */
int store_container_volumes(struct store *s, const char *ctr_id, bool anonymous_only, struct strv *ret,
			    struct skiff_err **err);
/* Record that container ctr_id uses the volumes (one transaction; ENOENT naming a missing
 * volume). The reference goes with the container's row. */
int store_volume_attach(struct store *s, const char *ctr_id, const struct strv *names, struct skiff_err **err);
/* Mark (in the same transaction that checks no container uses it: EBUSY "volume is being
 * used by the following container(s): ID..."), remove volumes/NAME (unmounting _data when
 * something is mounted there), delete the row. */
int store_volume_delete(struct store *s, const char *name, struct skiff_err **err);
/* The first mount's copy-up is done (needs_copy false). */
int store_volume_set_copied(struct store *s, const char *name, struct skiff_err **err);
/* Copy the tree at srcfd (a directory in a container's rootfs) into the volume's _data,
 * owners, modes and times included, when _data is still empty; then needs_copy is false. */
int store_volume_copy_up(struct store *s, const char *name, int srcfd, struct skiff_err **err);
/* graphroot/volumes/NAME and graphroot/volumes/NAME/_data (caller frees). */
char *store_volume_dir(struct store *s, const char *name);
char *store_volume_data(struct store *s, const char *name);

#endif
