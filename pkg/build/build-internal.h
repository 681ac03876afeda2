/* Internals shared by the pkg/build executor files (build.c, stage.c, cache.c). */
#ifndef SKIFF_BUILD_INTERNAL_H
#define SKIFF_BUILD_INTERNAL_H

#include "pkg/build/build.h"
#include "pkg/build/context.h"
#include "pkg/dockerfile/dockerfile.h"
#include "vendor-free/strbuf.h"

struct builder {
	struct engine *e;
	const struct build_opts *o;
	struct bctx *ctx;
	struct dockerfile *df;
	struct strv global_args; /* NAME=VALUE of the ARGs before the first FROM (with --build-arg) */
	char **stage_ids;	 /* per stage: its image id once built (NULL: not built) */
	bool *needed;
	size_t step, nsteps;
	struct strv temp_images; /* intermediate images (removed without layers) */
	struct cachefrom *cf;	 /* --cache-from images (loaded at the first miss) */
	int run_status;		 /* a failed RUN's exit status (-1: none) */
	size_t target;		 /* the target stage */
	char *target_base;	 /* its FROM image (NULL: scratch) */
};

/* A RUN --mount=type=bind waiting for its step to run (stage.c). */
struct run_bind {
	size_t mount;	/* its index in the RUN container's mounts */
	char *from_id;	/* from=: the stage's or image's id; NULL: the context */
	char *source;	/* cleaned, relative to the root */
	bool rw;	/* writes go to a copy (context) or the source container's layer (from=) */
	struct bctr *c; /* from=: the container whose rootfs is bound */
	char *tmpdir;	/* the context copied (rw, or a .dockerignore to honour) */
};

struct stage {
	struct builder *b;
	const struct df_stage *st;
	char *base_name; /* for history and debug */
	char *image_id;	 /* last committed image (NULL: scratch, nothing committed) */
	struct spec_image_config *cfg;
	struct strbuf pending; /* key material of the metadata steps since image_id */
	struct spec_history *hist;
	size_t nhist, alloc_hist;
	struct strv args;  /* ARGs in scope: NAME=VALUE */
	bool cmd_set;	   /* CMD given in this stage (ENTRYPOINT keeps it) */
	bool cache_broken; /* a step missed: later steps cannot hit (their parent is new) */
	bool committed_here;
	struct strv workdirs; /* WORKDIRs not yet made in the tree: the next RUN/COPY (or the stage's end) makes them */
	struct run_bind *binds; /* the current RUN's binds */
	size_t n_binds, alloc_binds;
};

/* A build container (RUN, COPY's source and destination, squash). */
struct bctr {
	struct ctr c;
	bool created, mounted;
	char *rootfs;
};

/* stage.c */
/* Create a container of image_id from cfg (which gets the image, no healthcheck, --runtime). */
int bctr_create(struct builder *b, const char *image_id, struct ctr_config *cfg, struct bctr *ret,
		struct skiff_err **err);
/* Mount its rootfs: an O_DIRECTORY fd of it. */
int bctr_mount(struct builder *b, struct bctr *bc, int *ret_fd, struct skiff_err **err);
/* Unmount and (unless keep) remove; errors are ignored. bc is zeroed. */
void bctr_remove(struct builder *b, struct bctr *bc, bool keep);
/* changes_write_fn over an int fd. */
int write_fd_fn(void *ud, const void *buf, size_t n);

int stage_run(struct builder *b, size_t idx, struct skiff_err **err);
void stage_log(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void stage_debug(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* layer.c */
/* mkdir -p path inside rootfd (resolved in the root: symlinks cannot lead out), 0755. */
int build_mkdir_in_root(int rootfd, const char *path, struct skiff_err **err);
/* Remove from tree (an overlay upper dir, or a vfs rootfs) the mount targets a RUN needed
 * and nothing else: each of targets that is an empty regular file or an empty, not opaque
 * directory absent from basefd (the image's tree; -1: do not check), and the parents made
 * empty by that. */
void build_strip_mount_targets(int treefd, int basefd, const struct strv *targets);

/* squash.c */
/* --squash (base_id: the target's FROM image, whose layers stay) or --squash-all (base_id
 * NULL): image_id's other layers as one. *ret_id is the new image. */
int build_squash(struct builder *b, const char *image_id, const char *base_id, char **ret_id, struct skiff_err **err);

/* cache.c */
/* sha256 hex of key material (64 hex + NUL). */
void cache_key(const char *parent, const char *pending, const char *step, char out[65]);
/* A hit: the image for key (none with --no-cache / no layers). */
bool cache_lookup(struct builder *b, const char *key, char **ret_id);
void cache_record(struct builder *b, const char *key, const char *image_id);
/* Commit st's config (and its pending history) over st->image_id, with a new layer from
 * layer_fd (a tar, rewound) or none (-1). The new image becomes st->image_id. */
int stage_commit(struct stage *st, int layer_fd, const struct spec_history *h, struct skiff_err **err);
/* stage_commit with the writable layer (overlay upper dir) of stopped container ctr_id
 * moved into the store as the new layer: no tar round trip (the container is left with
 * an empty one). */
int stage_commit_container(struct stage *st, const char *ctr_id, const struct spec_history *h, struct skiff_err **err);
/* An unnamed temporary file for a layer tar. */
int cache_tmpfile(struct builder *b, int *ret, struct skiff_err **err);
/* stage_commit with an existing layer (layer_id, whose diff id is diff_id) as the new one. */
int stage_commit_layer(struct stage *st, const char *layer_id, const char *diff_id, const struct spec_history *h,
		       struct skiff_err **err);

/* cachefrom.c: --cache-from */
/* After a local miss of a step that makes layer h: an image of a --cache-from image (or a
 * prefix of its layers) whose history is st's so far plus h and whose layers are st's
 * plus one. On a match that layer and st's config are committed as st's new image (true).
 * false: no match (err unset) or, with *err set, the store failed. */
bool cachefrom_lookup(struct stage *st, const struct spec_history *h, struct skiff_err **err);
void cachefrom_free(struct cachefrom *cf);

#endif
