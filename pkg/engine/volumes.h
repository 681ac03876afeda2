/*
 * pkg/engine volumes: named and anonymous volumes as podman's "local" driver keeps them
 * (graphroot/volumes/NAME/_data, metadata in the store), and what containers do with
 * them: -v NAME:/path, -v /path, --mount type=volume, the image's VOLUMEs, copy-up of
 * the image's content into a new volume on first use, rm -v.
 */
#ifndef SKIFF_ENGINE_VOLUMES_H
#define SKIFF_ENGINE_VOLUMES_H

#include <stdbool.h>
#include <sys/types.h>

#include "pkg/engine/container.h"
#include "pkg/json/json.h"
#include "pkg/spec/image.h"
#include "vendor-free/err.h"
#include "vendor-free/strv.h"

/* podman's rule [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 255 bytes; EINVAL naming it. */
int vol_check_name(const char *name, struct skiff_err **err);

struct vol_create_opts {
	const char *driver;	       /* NULL or "local" */
	const struct strv *options;    /* -o KEY=VALUE: type, device, o (and the podman ones below) */
	const struct spec_map *labels; /* may be NULL */
	bool ignore;		       /* an existing name is fine */
	bool anonymous;
};
/* Create (name NULL: a random 64-hex name) and give the name. Options type/device/o
 * (a mount(2) at first use) need root: EPERM when rootless. */
int vol_create(struct engine *e, const char *name, const struct vol_create_opts *o, char **ret_name,
	       struct skiff_err **err);
/* podman's volume inspect object. */
int vol_inspect(struct engine *e, const char *name, struct json **ret, struct skiff_err **err);
/* volume ls --filter: name=, label=KEY[=VALUE], driver=, dangling=true|false, anonymous=;
 * several values of one key OR, different keys AND. EINVAL naming a bad filter. Returns the
 * inspect objects of the matches, by name. */
int vol_list(struct engine *e, const struct strv *filters, struct json **ret, struct skiff_err **err);
/* Remove; in use is EBUSY unless force (then the containers using it are removed first). */
int vol_remove(struct engine *e, const char *name, bool force, struct skiff_err **err);
/* Remove the unused volumes that match filters (label=, label!=); their names appended. */
int vol_prune(struct engine *e, const struct strv *filters, struct strv *ret_removed, struct skiff_err **err);
/* The total size of the volumes' _data and how many (for system df). */
int vol_usage(struct engine *e, uint64_t *ret_count, uint64_t *ret_active, uint64_t *ret_bytes, struct skiff_err **err);

/* ---- container hooks ---- */
/* At create, before the record: add the image's VOLUMEs that no mount covers as anonymous
 * volumes, create the missing named ones and the anonymous ones (cfg->mounts of type
 * "volume" get their names), resolve --volumes-from. ret_names: the volumes it uses. */
int vol_ctr_prepare(struct engine *e, struct ctr_config *cfg, const struct spec_image_config *img,
		    const struct strv *volumes_from, struct strv *ret_names, struct skiff_err **err);
/* After the record: remember which volumes the container uses. */
int vol_ctr_attach(struct engine *e, const char *ctr_id, const struct strv *names, struct skiff_err **err);
/* At start, with the rootfs mounted: mount volumes with mount options (root), copy the
 * image's content into volumes that still need it (not with nocopy), and :U chown. */
int vol_ctr_start(struct engine *e, struct ctr *c, const char *rootfs, struct skiff_err **err);
/* The anonymous volumes of a container (call before its row goes). */
int vol_ctr_anonymous(struct engine *e, const char *ctr_id, struct strv *ret, struct skiff_err **err);
/* Remove those volumes when nothing else uses them (after the container's row went). */
int vol_remove_unused(struct engine *e, const struct strv *names, struct skiff_err **err);
/* The host directory of a volume's data (caller frees). */
char *vol_data_path(struct engine *e, const char *name);

/* ---- export, import, :U ---- */
/* volume export: the content of the volume's _data as a POSIX tar written to out_fd
 * (entries relative to _data, no top entry; owners, modes, times, symlinks and hard
 * links kept; nothing followed out of it). ENOENT for no such volume. */
int vol_export(struct engine *e, const char *name, int out_fd, struct skiff_err **err);
/* volume import: extract the tar read from in_fd (plain, gzip, bzip2, xz or zstd) into
 * the volume's _data, replacing what is there under the same names. Every member is
 * created below _data without following a symlink: a member that climbs out with "..",
 * an absolute link target used as a parent, or a parent that is a symlink is EINVAL
 * naming it (a leading '/' is dropped). Owners are kept where permitted. The volume
 * counts as filled: no copy-up from an image happens later. */
int vol_import(struct engine *e, const char *name, int in_fd, struct skiff_err **err);
/* chown -R of the tree at dirfd (the directory itself included) to uid:gid, never
 * following a symlink (links are chowned themselves) nor leaving dirfd's file system;
 * setuid/setgid bits that chown cleared are put back. Errors name the path. */
int vol_chown_tree(int dirfd, const char *where, uid_t uid, gid_t gid, struct skiff_err **err);

#endif
