/*
 * pkg/engine copy: `skiff cp`, files and directories between a container's root
 * filesystem and the host (or another container), or a tar stream.
 *
 * Docker's rules (docs.docker.com "docker container cp"): SRC a file: DEST missing ->
 * a file created at DEST (its parent must exist); DEST a file -> overwritten; DEST a
 * directory -> copied into it under SRC's name. SRC a directory: DEST missing -> made
 * with SRC's contents; DEST a file -> error; DEST a directory -> SRC copied into it, or,
 * for "SRC/.", SRC's contents merged into it. A DEST ending in '/' must be an existing
 * directory; a SRC ending in '/' or "/." must be a directory. A symlink at the end of
 * SRC is copied as a symlink unless follow_link (-L); a symlink at the end of DEST is
 * followed. Symlinks inside a copied tree are always copied as symlinks.
 *
 * Safety (docs/design/cp.md): a path in a container is resolved as if the container's
 * root were "/" (vendor-free/pathres, RESOLVE_IN_ROOT): "..", absolute symlinks and
 * symlinks to "/" all stay inside it. Below the resolved top, every entry is opened
 * relative to an already open directory fd with O_NOFOLLOW, created with O_EXCL, and
 * an existing entry is unlinked and replaced, never written through; tar members are
 * cleaned and created below the destination without following any symlink. So neither
 * a read nor a write reaches outside the root, even while the container changes files.
 */
#ifndef SKIFF_ENGINE_COPY_H
#define SKIFF_ENGINE_COPY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pkg/engine/container.h"
#include "vendor-free/err.h"

/* One side of a copy: a path and where it is resolved. */
struct copy_loc {
	int rootfd;	   /* a container's rootfs (an O_PATH directory fd), or AT_FDCWD for the host */
	bool in_root;	   /* resolve inside rootfd as chroot would (a container); else as the host does */
	const char *path;  /* as the user wrote it ("/etc/", "dir/.", "-" is not special here) */
	const char *where; /* for messages: "container c1", "the host" */
};

struct copy_opts {
	bool chown;	      /* give everything written uid:gid */
	uid_t uid;	      /* (with chown) */
	gid_t gid;	      /* (with chown) */
	bool keep_owner;      /* without chown: keep the source's owners where permitted */
	bool overwrite;	      /* a directory may replace a non-directory and vice versa */
	bool follow_link;     /* -L: follow a symlink at the end of SRC (inside its root) */
	bool skip_devices;    /* create no device nodes (copying to the host, as podman) */
	uint64_t ret_copied;  /* out: entries written */
	uint64_t ret_skipped; /* out: device nodes and sockets that could not be or were not created */
};

/* Copy src to dst by the rules above. Errors name the path and the side:
 * ENOENT '"/x" could not be found on container c1: ...', ENOTDIR, EISDIR "destination
 * must be a directory when copying a directory", EEXIST "cannot overwrite ..." (without
 * overwrite). On error what was copied so far stays. */
int copy_path(const struct copy_loc *src, const struct copy_loc *dst, struct copy_opts *o, struct skiff_err **err);

/* Extract the tar read from in_fd (plain, gzip, bzip2, xz or zstd) into the directory
 * dst (which must exist: else ENOTDIR/ENOENT "destination must be a directory when
 * copying from stdin"). Members are cleaned: a leading '/' is dropped, one that climbs
 * out with ".." or goes through a symlink is EINVAL naming it; missing parent
 * directories are made. */
int copy_tar_in(int in_fd, const struct copy_loc *dst, struct copy_opts *o, struct skiff_err **err);

/* Write src as a tar (POSIX pax) to out_fd: the top entry is named after SRC's last
 * component ("SRC/." and the root: its contents, without a top entry). Owners, modes,
 * times, symlinks and hard links are kept. */
int copy_tar_out(const struct copy_loc *src, int out_fd, struct copy_opts *o, struct skiff_err **err);

/* ---- containers ---- */

struct ctr_copy_opts {
	bool archive;	  /* -a (podman's default): what is copied into a container is owned by its user */
	bool overwrite;	  /* --overwrite */
	bool follow_link; /* -L */
};

/* Copy between a container and the host, or between two containers: src_ctr or dst_ctr
 * NULL names the host (not both: EINVAL). Each container's rootfs is mounted for the
 * copy and unmounted after unless it was mounted before (a running container keeps
 * its rootfs). With archive, files copied into a container get the uid and primary gid
 * of its user (--user, else the image's User, resolved in its /etc/passwd; root when
 * none), as podman; files copied to the host belong to the caller. */
int ctr_copy(struct engine *e, struct ctr *src_ctr, const char *src, struct ctr *dst_ctr, const char *dst,
	     const struct ctr_copy_opts *o, struct skiff_err **err);
/* `cp - CTR:DIR`: extract a tar from in_fd into the directory dst of c. */
int ctr_copy_from_tar(struct engine *e, struct ctr *c, int in_fd, const char *dst, const struct ctr_copy_opts *o,
		      struct skiff_err **err);
/* `cp CTR:SRC -`: write src of c as a tar to out_fd. */
int ctr_copy_to_tar(struct engine *e, struct ctr *c, const char *src, int out_fd, const struct ctr_copy_opts *o,
		    struct skiff_err **err);

#endif
