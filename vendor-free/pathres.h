/*
 * Safe path resolution inside a root directory fd: nothing a path names (through "..",
 * absolute paths or symlinks) can reach outside the root. Used for image layers,
 * `cp` into containers and anything else whose paths come from untrusted data.
 *
 * pathres_open() uses openat2(2) (RESOLVE_IN_ROOT / RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS);
 * where the kernel lacks it (ENOSYS, or EPERM from a seccomp filter) it walks the path
 * one component at a time with O_PATH|O_NOFOLLOW and interprets every symlink itself,
 * with the same semantics. Paths longer than PATH_MAX also take the walk.
 *
 * A path is always relative to the root: a leading '/' names the root itself.
 *
 *     int fd = pathres_open(rootfd, "etc/passwd", O_RDONLY, 0, PATHRES_IN_ROOT, err);
 *     if (fd < 0)
 *             return err_wrap(err, "container %s", id);
 */
#ifndef SKIFF_PATHRES_H
#define SKIFF_PATHRES_H

#include <sys/types.h>

#include "vendor-free/err.h"

enum {
	/* Resolve as if rootfd were "/" (chroot semantics): ".." at the root stays at the
	 * root and absolute symlinks restart at the root. Without it (the default,
	 * "beneath" semantics), symlinks inside the root are followed, but a path or
	 * symlink that would leave the root is an EXDEV error. */
	PATHRES_IN_ROOT = 1u << 0,
	/* Refuse every symlink on the way (ELOOP). The last component is opened with the
	 * caller's flags, so add O_NOFOLLOW (and O_PATH to get the link itself). */
	PATHRES_NO_SYMLINKS = 1u << 1,
	/* Do not try openat2(): always walk (for tests, and for callers that know the
	 * kernel refuses it). */
	PATHRES_WALK = 1u << 2,
	/* pathres_open_parent(): create missing parent directories (mode 0755, exactly). */
	PATHRES_MKDIR = 1u << 3,
};

/* Open path inside rootfd with open(2) flags and mode (O_CLOEXEC is always added).
 * Errors: EXDEV "... escapes the root" (beneath semantics), ELOOP for a refused
 * symlink or a loop (more than 40 links), ENOTDIR, ENOENT..., each naming path. */
int pathres_open(int rootfd, const char *path, int flags, mode_t mode, unsigned how, struct skiff_err **err);

/* Open the directory that holds the last component of path, never following a symlink
 * in any parent (ELOOP "... is a symlink" naming it) and never leaving the root.
 * path is cleaned first (path_clean()): climbing out is EINVAL "escapes the root", and
 * a path naming the root itself ("", ".", "/") is EINVAL. With PATHRES_MKDIR missing
 * parents are created with mode 0755; a parent that is not a directory is ENOTDIR.
 * Returns an O_PATH directory fd (usable as the dirfd of the *at() calls) and, in
 * *ret_basename, the last component (caller frees). (how: PATHRES_MKDIR, PATHRES_WALK) */
int pathres_open_parent(int rootfd, const char *path, unsigned how, char **ret_basename, struct skiff_err **err);

/* Lexically clean path, as Go's filepath.Clean, and make it relative: repeated and
 * trailing slashes, "." components and "x/.." pairs go; a leading '/' is dropped.
 * The root itself is ".". A ".." that would climb above the root is an EINVAL error
 * ("path X escapes the root"), never clamped. *ret is allocated. */
int path_clean(const char *in, char **ret, struct skiff_err **err);

#endif
