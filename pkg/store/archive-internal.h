/* Internals shared by pkg/store/archive.c (the streaming driver), archive_apply.c (entries
 * onto disk) and tarsplit.c (the tar-split walker, writer and reassembly). */
#ifndef SKIFF_STORE_ARCHIVE_INTERNAL_H
#define SKIFF_STORE_ARCHIVE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "pkg/store/archive.h"
#include "vendor-free/err.h"
#include "vendor-free/hashmap.h"

struct archive;
struct archive_entry;
struct digester;

/* ---- tar-split writer (tarsplit.c) ----
 * tarsplit_feed() gets every byte of the uncompressed tar, in order, as the tar reader
 * consumes it, and walks the 512-byte blocks itself: headers, extension headers and
 * padding are stored raw; an entry's body is left out and later supplied by the
 * extractor, which reads it through libarchive: as a file reference (tarsplit_entry_begin
 * with a path) or inline (NULL path; the bytes come with tarsplit_entry_data). Bodies the
 * walker and libarchive disagree on are an error, so the split always matches the tar. */
struct tarsplit;

/* fd < 0: write nothing (the walker still checks the tar framing). */
struct tarsplit *tarsplit_new(int fd, struct skiff_err **err);
void tarsplit_free(struct tarsplit *ts);
int tarsplit_feed(struct tarsplit *ts, const void *buf, size_t n, struct skiff_err **err);
/* Entry number index (0-based, in libarchive's order) starts; ref_path: its body is the
 * content of that regular file (clean, relative), or NULL to store the body inline. */
int tarsplit_entry_begin(struct tarsplit *ts, uint64_t index, const char *ref_path, struct skiff_err **err);
int tarsplit_entry_data(struct tarsplit *ts, const void *buf, size_t n, struct skiff_err **err);
/* The body is over: nread bytes were read through libarchive. */
int tarsplit_entry_end(struct tarsplit *ts, uint64_t nread, struct skiff_err **err);
/* Every byte was fed: check the walk ended cleanly, write the end record, close. */
int tarsplit_finish(struct tarsplit *ts, uint64_t total, const char *diffid, struct skiff_err **err);

/* ---- applying entries (archive_apply.c) ---- */

struct dir_times {
	char *path; /* clean, relative; "." is the root */
	struct timespec ts[2];
	bool valid;
};

struct apply_ctx {
	const struct archive_apply_opts *opts;
	int dirfd;
	bool trusted_xattrs; /* may set trusted.* (real root) */
	struct archive *tar; /* the tar reader */
	struct tarsplit *ts;
	/* the directories this layer made (value: index + 1 into dirs[]) and, in DELETE
	 * mode, every other path it made and their parents (value: NULL) */
	struct hashmap paths;
	struct dir_times *dirs;
	size_t ndirs, dirs_alloc;
	uint64_t entries, skipped_devices;
	/* the parent directory of the last regular file, kept open for the next one in the
	 * same directory (runs of files are the common case); dropped by any other entry */
	char *pcache_dir;
	int pcache_fd;
	bool pcache_valid;
	/* the first failure inside a reader callback (source, decompression, walker): it
	 * explains the tar reader's error better than libarchive's own message */
	struct skiff_err *io_err;
};

void apply_ctx_release(struct apply_ctx *c);
/* Forget the cached parent directory. */
void apply_pcache_drop(struct apply_ctx *c);
/* Apply the entry the tar reader is positioned on (entry number c->entries). */
int apply_entry(struct apply_ctx *c, struct archive_entry *e, struct skiff_err **err);
/* Set the deferred directory times, last entry first. */
int apply_dir_times(struct apply_ctx *c, struct skiff_err **err);
/* The tar reader failed: report io_err when there is one, else libarchive's message
 * (EINVAL: the tar is bad). (archive.c) */
int apply_tar_error(struct apply_ctx *c, struct skiff_err **err);

#endif
