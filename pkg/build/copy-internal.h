/* Internal to pkg/build: the tar and URL halves of COPY/ADD and of the build context. */
#ifndef SKIFF_BUILD_COPY_INTERNAL_H
#define SKIFF_BUILD_COPY_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "vendor-free/err.h"

struct copy_owner {
	bool ignore; /* do not chown at all */
	bool force;  /* use uid/gid for every entry (else the tar's owners) */
	uid_t uid;
	gid_t gid;
};

/* Remove what is at name in dirfd (never following it) unless it is a directory: EISDIR
 * "cannot replace directory PATH with a non-directory". A missing name is fine. */
int copy_replace_nondir(int dirfd, const char *name, const char *path, struct skiff_err **err);

/* Whether fd (a regular file, read from offset 0) is a tar that libarchive reads, plain or
 * compressed (gzip, bzip2, xz, zstd...). The offset is rewound. */
bool copy_is_tar(int fd);

/* Extract the tar read from fd into the directory dstfd. Entry paths are cleaned and must
 * stay inside dstfd ('tar entry "../x": path escapes the root' otherwise); no entry is
 * written through a symlink (a symlinked parent is ELOOP naming the entry); hard links
 * must point at regular files already extracted. Device nodes that cannot be made
 * (EPERM) are skipped. */
int copy_extract_tar(int fd, int dstfd, const struct copy_owner *own, struct skiff_err **err);

/* Download an http(s) URL into a new file name in dirfd (replacing a non-directory there)
 * with mode 0600 and the given owner. A failed fetch is an error naming the URL and the
 * HTTP status or curl's reason; the partial file is removed. */
int copy_fetch_url(const char *url, int dirfd, const char *name, const struct copy_owner *own, struct skiff_err **err);

/* The file name a URL's path ends in ("index.html"... never: "" when there is none). */
char *copy_url_basename(const char *url);

static inline bool copy_is_url(const char *s)
{
	return __builtin_strncmp(s, "http://", 7) == 0 || __builtin_strncmp(s, "https://", 8) == 0;
}

#endif
