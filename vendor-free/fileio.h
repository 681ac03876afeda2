/*
 * File and directory helpers, "fd first, path second": every function takes a
 * directory fd (or AT_FDCWD) and a name relative to it. Every fd is O_CLOEXEC.
 *
 *     if (write_file_atomic(dfd, "config.json", buf, len, 0644, err) < 0)
 *             return err_wrap(err, "container %s", id);
 */
#ifndef SKIFF_FILEIO_H
#define SKIFF_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vendor-free/err.h"

/* Write all len bytes, retrying short writes and EINTR. 0, or -1 with errno set. */
int write_all(int fd, const void *buf, size_t len);

/* Copy in to out until EOF of in (copy_file_range when both allow it, else
 * read/write). *ret_n (may be NULL) gets the number of bytes copied.
 * 0, or -1 with errno set. */
int copy_fd(int in, int out, uint64_t *ret_n);

/* Read fd to EOF. More than max bytes is an EFBIG error (pass SIZE_MAX for no
 * limit). *ret is NUL-terminated (the NUL is not counted in *ret_len, which
 * may be NULL); the caller frees it. */
int read_all_fd(int fd, size_t max, char **ret, size_t *ret_len, struct skiff_err **err);

/* Open and read a whole file (symlinks are followed). A file larger than max
 * bytes is an EFBIG error naming it. Same ownership as read_all_fd(). */
int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len, struct skiff_err **err);

/* Replace name (relative to dirfd; it may contain '/') with exactly data:
 * an unnamed O_TMPFILE (or a unique ".name.tmp-..." file where O_TMPFILE is
 * unavailable) in the same directory is written, fchmod()ed to mode (the
 * umask does not apply), fsync()ed, renamed over name, and the directory is
 * fsync()ed. Readers see either the old or the new content, never a mix. */
int write_file_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode, struct skiff_err **err);
/* The same replacement, all or nothing for readers, without the fsyncs: for per-boot
 * state (the runroot) that a crash makes worthless anyway. */
int write_file_replace(int dirfd, const char *name, const void *data, size_t len, mode_t mode, struct skiff_err **err);

/* fsync the directory name relative to dirfd (name NULL or "" : dirfd itself). */
int fsync_dir_at(int dirfd, const char *name, struct skiff_err **err);

/* mkdir -p: create path and its missing parents with mode (less the umask).
 * Existing directories (and symlinks to directories) are fine; an existing
 * non-directory component is an ENOTDIR error naming it. */
int mkdir_p_at(int dirfd, const char *path, mode_t mode, struct skiff_err **err);
/* An unnamed temporary file (read-write, 0600) in dir: O_TMPFILE, else a unique file
 * unlinked at once. Gone when the fd is closed. */
int tmpfile_in_dir(const char *dir, int *ret_fd, struct skiff_err **err);

/* rm -rf: remove name (relative to dirfd) and everything below it.
 * - never follows a symlink (a symlink is unlinked, not its target);
 * - directories without u+rwx are chmod()ed so that they can be emptied;
 * - does not cross into other mounts (st_dev differs, or the mount root
 *   flag of statx): those are left alone and reported as an EBUSY error after
 *   removing everything else;
 * - files that vanish meanwhile (ENOENT) are fine, and so is a missing name;
 * - immutable or append-only files are not touched: their EPERM is reported.
 * On error it keeps going and returns the first error, naming the path. */
int rm_rf_at(int dirfd, const char *name, struct skiff_err **err);

#endif
