/*
 * pkg/store/archive: apply an image layer (a tar, plain or gzip/zstd-compressed) to a
 * directory in one streaming pass, and reassemble the byte-identical tar afterwards.
 *
 * archive_apply() reads the blob once. Two libarchive readers are chained: the first
 * (raw format, gzip and zstd filters) decompresses; its output is hashed (the diffID),
 * walked 512-byte block by block for the tar-split, and fed to the second (tar formats),
 * which extracts. The blob as read is hashed too (the layer digest). Every entry path is
 * cleaned and resolved inside the layer root without following symlinks (vendor-free/
 * pathres); hostile paths are refused, never clamped. Hard links must point at regular
 * files inside the root. Existing entries are replaced (a file is never written through
 * a symlink or another hard link); directories are kept and updated. Owners are applied
 * before modes (setuid survives), then xattrs (user.*, security.capability, and trusted.*
 * as real root), then times; directory times last, in reverse order. Sparse files, hard
 * links with content and xattrs other than those are not supported (refused or skipped).
 * On any error the directory is left half-written: the caller discards it.
 *
 *     struct archive_apply_opts o = { .whiteout_mode = ARCHIVE_WHITEOUT_OVERLAY,
 *                                     .expected_diffid = diff_id, .tarsplit_fd = splitfd };
 *     struct archive_apply_result r;
 *     if (archive_apply(blobfd, difffd, &o, &r, err) < 0)
 *             return err_wrap(err, "layer %s", diff_id);
 *
 * ---- Tar-split format (version 1) ----
 *
 * The tar-split lets the original uncompressed tar be rebuilt from the unpacked
 * directory: every byte of the tar that is not the content of an unpacked regular file
 * (headers, PAX/GNU extension headers and their payloads, padding, the end-of-archive
 * blocks and anything after them) is stored raw; regular-file content is stored as a
 * reference to the file. The file is a gzip stream (zlib) of:
 *
 *     "SKIFFTS1"                                   8-byte magic
 *     records, each a one-byte tag:
 *       'R' u32 n, n bytes                         n raw bytes of the tar (1 <= n <= 1 MiB)
 *       'F' u64 size, u32 len, len bytes (path)    size bytes: the content of the regular
 *                                                  file at path (clean, relative to the
 *                                                  layer root; 1 <= len < PATH_MAX)
 *       'E' u64 total, 71 bytes diffID             the end: the tar's size and its
 *                                                  "sha256:<hex>"; nothing may follow
 *
 * Integers are little-endian. Concatenating the records' bytes in order gives the tar.
 * Limitation: a regular file that a later entry of the same layer overwrites or removes
 * cannot be reassembled (archive_tarsplit_write() then fails "layer content changed").
 */
#ifndef SKIFF_STORE_ARCHIVE_H
#define SKIFF_STORE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/digest/digest.h"
#include "vendor-free/err.h"

enum archive_whiteout_mode {
	/* For overlay storage: the directory holds only this layer. ".wh.NAME" becomes a
	 * 0:0 character device NAME; ".wh..wh..opq" in D sets the opaque xattr on D
	 * (trusted.overlay.opaque=y, or user.overlay.opaque=y with userns_xattrs). */
	ARCHIVE_WHITEOUT_OVERLAY = 0,
	/* For vfs storage: the directory already holds the parent layers' merged tree.
	 * ".wh.NAME" deletes NAME (recursively); ".wh..wh..opq" in D deletes everything
	 * in D that this layer did not create. */
	ARCHIVE_WHITEOUT_DELETE = 1,
};

struct archive_apply_opts {
	int whiteout_mode;	     /* enum archive_whiteout_mode */
	bool userns_xattrs;	     /* running in a user namespace: user.overlay.* xattrs, no trusted.* */
	bool ignore_owners;	     /* do not chown (tests as non-root) */
	const char *expected_digest; /* "sha256:..." of the blob as read, or NULL */
	const char *expected_diffid; /* "sha256:..." of the uncompressed tar, or NULL */
	int tarsplit_fd;	     /* write the tar-split here (at its offset); -1: none (set it:
				      * 0 is a valid fd) */
};

struct archive_apply_result {
	char diffid[DIGEST_STR_LEN + 1]; /* sha256 of the uncompressed tar */
	char digest[DIGEST_STR_LEN + 1]; /* sha256 of the blob as read */
	uint64_t size;			 /* uncompressed tar size */
	uint64_t compressed_size;	 /* blob size */
	uint64_t entries;		 /* tar entries applied (whiteouts included) */
	uint64_t skipped_devices;	 /* device nodes skipped: mknod not permitted */
};

/* Source of blob bytes: returns the number of bytes read (at most n), 0 at the end, or
 * a negative value on failure (-errno, or -1 with errno set). */
typedef long (*archive_read_fn)(void *ud, void *buf, size_t n);
/* Sink of tar bytes: 0, or a negative value on failure (-errno, or -1 with errno set). */
typedef int (*archive_write_fn)(void *ud, const void *buf, size_t n);

/* Apply the layer blob read from blob_fd (from its offset to its end) into dirfd.
 * A digest that does not match is EINVAL "digest mismatch: expected X, got Y" (the blob)
 * or "diffID digest mismatch: expected X, got Y" (the tar). Bad entries are EINVAL
 * 'layer entry "PATH": ...' (path escapes the layer root, parent is a symlink, ...);
 * a corrupt stream is EINVAL naming the problem (truncated gzip input, ...). */
int archive_apply(int blob_fd, int dirfd, const struct archive_apply_opts *opts, struct archive_apply_result *ret,
		  struct skiff_err **err);
/* The same, reading the blob through read(ud, ...). */
int archive_apply_read(archive_read_fn read, void *ud, int dirfd, const struct archive_apply_opts *opts,
		       struct archive_apply_result *ret, struct skiff_err **err);

/* Rebuild the layer's uncompressed tar from the tar-split read from tarsplit_fd and the
 * files in dirfd (opened inside it, never following symlinks), writing it to out_fd.
 * The tar's sha256 must equal expected_diffid (or, when NULL, the one the tar-split
 * records): otherwise EINVAL "layer content changed: ...", and what was written is
 * wrong, so the caller discards it. A malformed tar-split is EINVAL "corrupt tar-split". */
int archive_tarsplit_write(int dirfd, int tarsplit_fd, int out_fd, const char *expected_diffid, struct skiff_err **err);
/* The same, writing through write(ud, ...). */
int archive_tarsplit_write_cb(int dirfd, int tarsplit_fd, archive_write_fn write, void *ud, const char *expected_diffid,
			      struct skiff_err **err);

#endif
