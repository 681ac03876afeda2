/*
 * pkg/build/context: the build context (a directory, a tarball or stdin) with its
 * Dockerfile and ignore file, and the COPY/ADD machinery the stage executor calls.
 *
 * Every path named by a Dockerfile or found in a context, an image or a tar is resolved
 * inside its root (vendor-free/pathres): "../x", absolute paths and symlinks never reach
 * outside the context on the source side, nor outside the rootfs on the destination side.
 *
 *     struct bctx *c;
 *     if (bctx_open(".", NULL, store_tmp, &c, err) < 0)
 *             return -1;                 // "cannot find Containerfile or Dockerfile in ."
 *     struct bcopy_src src = { .rootfd = c->dirfd, .ignore = c->ignore, .is_context = true };
 *     struct bcopy_opts o = { .srcs = &srcs, .dest = "/app/", .workdir = "/" };
 *     if (bcopy_digest(&src, &o, &key, err) < 0 || bcopy_run(&src, rootfd, &o, err) < 0)
 *             ...
 *     bctx_close(c);
 */
#ifndef SKIFF_BUILD_CONTEXT_H
#define SKIFF_BUILD_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pkg/dockerfile/dockerfile.h"
#include "vendor-free/err.h"
#include "vendor-free/strv.h"

struct bctx {
	char *dir;		  /* the context root (a directory; for a tarball, where it was unpacked) */
	int dirfd;		  /* an O_DIRECTORY fd of dir */
	char *tmpdir;		  /* made by bctx_open (tar/stdin contexts), removed by bctx_close; or NULL */
	struct df_ignore *ignore; /* .containerignore / .dockerignore / <Dockerfile>.dockerignore; NULL if none */
	char *dockerfile;	  /* path of the Dockerfile, for messages ("-" for stdin) */
	char *dockerfile_buf;	  /* its content, NUL-terminated */
	size_t dockerfile_len;
};

/*
 * Open a build context.
 *   context:    a directory; a tarball (.tar, .tar.gz/.tgz, .tar.bz2, .tar.xz, .tar.zst:
 *               any file libarchive reads as a tar), unpacked (contained) under tmp_parent;
 *               or "-": stdin is a tar (compressed or not) or, when it is not an archive,
 *               a Dockerfile alone with an empty context (as docker build -).
 *   file:       -f: NULL looks for Containerfile then Dockerfile in the context; a relative
 *               path is relative to the current directory (as podman/docker -f); "-" reads
 *               the Dockerfile from stdin (context must then not be "-").
 *   tmp_parent: where to unpack (the store's tmp dir).
 * Ignore file: <context>/.containerignore, else <context>/.dockerignore; with -f, a
 * "<file>.containerignore"/"<file>.dockerignore" next to the file wins (buildkit).
 * Errors: ENOENT "cannot find Containerfile or Dockerfile in CONTEXT", ENOENT naming a
 * missing context or -f file, EINVAL for an unreadable tar or a bad ignore file. */
int bctx_open(const char *context, const char *file, const char *tmp_parent, struct bctx **ret, struct skiff_err **err);
void bctx_close(struct bctx *c);

/* Where COPY/ADD read from. */
struct bcopy_src {
	int rootfd;			/* the context dir, or another stage's / an image's rootfs */
	const struct df_ignore *ignore; /* context only (NULL: nothing is excluded) */
	bool is_context;		/* ADD may fetch URLs and extract tars from the context only */
};

struct bcopy_opts {
	const struct strv *srcs; /* the sources, expanded ("<<NAME" for a heredoc, URLs for ADD) */
	const char *dest;	 /* expanded; relative to workdir unless absolute; a trailing '/' = a dir */
	const char *workdir;	 /* the stage's WORKDIR ("/" when NULL) */
	bool add;		 /* ADD: URLs are downloaded, local tars extracted */
	bool link;		 /* --link: accepted, same result (no separate layer here) */
	bool have_chown;	 /* --chown: uid/gid (else 0:0; context owners are never copied) */
	uid_t uid;
	gid_t gid;
	bool have_chmod; /* --chmod: mode for files and dirs copied (dest parents stay 0755) */
	mode_t mode;
	const struct df_heredoc *heredocs; /* COPY <<EOF: bodies used as given (the executor expands) */
	size_t nheredocs;
	bool ignore_owners; /* do not chown (tests as non-root, rootless without a mapping) */
};

/*
 * The cache key of a COPY/ADD: "sha256:..." over what the sources match after globbing and
 * the ignore rules, in order (globs and directories sorted): per entry its path relative to
 * the match, type, mode, size, content (file bytes), symlink target; heredoc names and
 * bodies; URLs as their text (not fetched). Not in it: mtimes and owners (never copied),
 * dest, --chown/--chmod (the executor keys on the instruction text for those).
 * Errors are those of bcopy_run for a missing source.
 */
int bcopy_digest(const struct bcopy_src *s, const struct bcopy_opts *o, char **ret_digest, struct skiff_err **err);

/*
 * Do a COPY/ADD into the rootfs dest_rootfd (docker's semantics): globs (*, ?, [..]) in
 * each source; a directory copies its contents; several sources (or a glob) need a dest
 * ending in "/" or an existing directory; dest's missing parents are made (0755, owned by
 * the --chown owner, else root: as podman);
 * files keep their mode unless --chmod; owners 0:0 unless --chown; symlinks are copied as
 * symlinks; hard links within one copy are kept. ADD of a local tar (plain, gz, bz2, xz,
 * zst) extracts it at dest (entries contained in dest's root); ADD of an http(s) URL
 * downloads it (mode 0600, name from the URL path, not extracted). COPY of a URL is an
 * error. Errors name the source: "COPY failed: no source files were specified",
 * "stat x: no such file or directory", "... escapes the root".
 */
int bcopy_run(const struct bcopy_src *s, int dest_rootfd, const struct bcopy_opts *o, struct skiff_err **err);

/* Resolve a --chown spec "user[:group]" (names or numbers) through the rootfs's
 * /etc/passwd and /etc/group (read inside rootfd). A user alone takes the user's primary
 * group from passwd; a numeric user alone is uid:uid (as podman). Unknown names are ENOENT
 * "no such user: NAME" / "no such group: NAME". */
int bcopy_chown_lookup(int rootfd, const char *spec, uid_t *ret_uid, gid_t *ret_gid, struct skiff_err **err);

#endif
