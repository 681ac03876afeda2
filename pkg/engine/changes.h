/*
 * pkg/engine changes: what a container changed in its filesystem (`diff`), its layer as
 * an OCI layer tar (`commit`), and its whole root filesystem as a tar (`export`).
 *
 * Overlay: the writable layer is graphroot/containers/ID/diff (overlayfs' upper dir).
 * Every entry there is a change: a 0/0 character device is a deletion (overlayfs'
 * whiteout), a directory with the opaque xattr (trusted.overlay.opaque, or
 * user.overlay.opaque / user.fuseoverlayfs.opaque in a user namespace) replaced the
 * lower one, anything else is C when a lower layer has that path, else A. As podman
 * (containers/storage's overlay changes): a directory identical to the lower one (mode,
 * size, mtime) is not listed unless something was added or deleted in it; an opaque
 * directory is listed as D (its new entries follow).
 * vfs: there is no upper dir; the container's tree is compared with its image's top
 * layer tree (mode, owner, device number, symlink target, and size and mtime for
 * non-directories); a directory with a change inside is C.
 *
 * Order is a walk of the tree, names sorted bytewise in each directory (podman's).
 * Layer tars are pax with whiteouts in the OCI form: ".wh.NAME" for a deletion and
 * "DIR/.wh..wh..opq" for an opaque directory.
 */
#ifndef SKIFF_ENGINE_CHANGES_H
#define SKIFF_ENGINE_CHANGES_H

#include <stdbool.h>
#include <stddef.h>

#include "pkg/engine/container.h"
#include "pkg/spec/image.h"
#include "vendor-free/err.h"
#include "vendor-free/strv.h"

/* podman's numbering (containers/storage ChangeType). */
enum change_kind { CHANGE_MODIFY = 0, CHANGE_ADD = 1, CHANGE_DELETE = 2 };

struct change {
	char *path; /* absolute in the container: "/etc/passwd" */
	enum change_kind kind;
};

struct change_list {
	struct change *v;
	size_t len, alloc;
};

void change_list_release(struct change_list *l);
/* "C", "A", "D" */
const char *change_kind_letter(enum change_kind k);

/* Changes of an overlay upper dir against lower layer trees (top first). Appends to ret. */
int changes_overlay(int upperfd, const int *lowerfds, size_t nlower, struct change_list *ret, struct skiff_err **err);
/* Changes of tree newfd against tree basefd (-1: an empty tree). Appends to ret. */
int changes_trees(int basefd, int newfd, struct change_list *ret, struct skiff_err **err);

/* Sink of tar bytes: 0, or -1 with errno set. */
typedef int (*changes_write_fn)(void *ud, const void *buf, size_t n);

/* An OCI layer tar of an overlay upper dir (whiteouts converted). */
int changes_tar_upper(int upperfd, changes_write_fn write, void *ud, struct skiff_err **err);
/* An OCI layer tar of a change list over tree newfd (vfs): A and C entries from newfd
 * (with their parent directories), D as whiteouts. */
int changes_tar_list(int newfd, const struct change_list *l, changes_write_fn write, void *ud, struct skiff_err **err);
/* A tar of the whole tree at rootfd (export, squash). */
int changes_tar_tree(int rootfd, changes_write_fn write, void *ud, struct skiff_err **err);

/* ---- on containers ---- */

/* The changes of c against its image, without the paths the engine itself creates
 * for a run (/etc/hosts, /etc/resolv.conf, /etc/hostname, /run/.containerenv, ...). */
int ctr_diff(struct engine *e, struct ctr *c, struct change_list *ret, struct skiff_err **err);
/* Write a tar of c's root filesystem (the merged view) to out_fd. */
int ctr_export(struct engine *e, struct ctr *c, int out_fd, struct skiff_err **err);

/* The image config c would have as an image: its image's config with the container's
 * own Env, Entrypoint, Cmd, WorkingDir, User, Labels and StopSignal. */
int ctr_commit_config(struct engine *e, struct ctr *c, struct spec_image_config **ret, struct skiff_err **err);

struct ctr_commit_opts {
	const char *reference;	    /* name for the new image, or NULL */
	const struct strv *changes; /* -c */
	const char *author, *message;
	enum spec_format format;
	bool squash;
	bool pause; /* pause a running container during the commit */
	void (*progress)(void *ud, const char *line);
	void *progress_ud;
};
/* Make an image of c: its image's layers + its writable layer (or one layer holding its
 * whole root filesystem with squash), with ctr_commit_config + the changes. *ret_id is
 * the new image's id. */
int ctr_commit(struct engine *e, struct ctr *c, const struct ctr_commit_opts *o, char **ret_id, struct skiff_err **err);

/* The changes of an image's top layer against the layers below it (`diff IMAGE`). */
int image_diff(struct engine *e, const char *ref, struct change_list *ret, struct skiff_err **err);

#endif
