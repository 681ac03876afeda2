/* Applying a layer blob: the streaming driver. Reader 1 (raw format, gzip/zstd filters)
 * decompresses what the source gives; reader 2 (tar) reads reader 1's output through a
 * callback that hashes it (diffID) and walks it for the tar-split. The source is hashed
 * as read (digest). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "pkg/digest/digest.h"
#include "pkg/store/archive-internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

struct driver {
	struct apply_ctx c;
	archive_read_fn read;
	void *ud;
	struct archive *dec; /* decompressor */
	/* Hashing runs on threads of their own while the layer unpacks. The blob is read
	 * straight into dblob's buffers (no copy). dtar exists only when the blob is
	 * compressed (the tar is copied to it); an uncompressed blob is the tar. */
	struct digester_async *dblob;
	struct digester_async *dtar;
	size_t pending; /* bytes of the buffer libarchive holds, committed on the next read */
	uint64_t blob_size, tar_size;
	bool src_eof, dec_eof;
	bool plain;  /* no compression: the blob is the tar, so one hash serves both */
	char *inbuf; /* dblob's buffer being read by libarchive */
};

int apply_tar_error(struct apply_ctx *c, struct skiff_err **err)
{
	const char *msg;

	if (c->io_err) {
		struct skiff_err *e = c->io_err;
		c->io_err = NULL;
		if (!err || *err)
			err_free(e);
		else
			*err = e;
		return -1;
	}
	msg = archive_error_string(c->tar);
	return err_makex(err, EINVAL, "layer tar: %s", msg ? msg : "read error");
}

/* Next bytes of the blob: n > 0, 0 at its end, -1 on error (in io_err). libarchive
 * may use the previous buffer until it calls here again, so that is when it goes to
 * the hashing thread (which only reads it). */
static long src_read(struct driver *d)
{
	size_t cap;
	long n;

	if (d->pending) {
		digester_async_commit(d->dblob, d->pending);
		d->pending = 0;
	}
	if (d->src_eof)
		return 0;
	d->inbuf = digester_async_acquire(d->dblob, &cap);
	do
		n = d->read(d->ud, d->inbuf, cap);
	while (n == -EINTR || (n == -1 && errno == EINTR));
	if (n < 0) {
		int e = n < -1 ? (int)-n : (errno ? errno : EIO);
		return err_make(&d->c.io_err, e, "read layer blob");
	}
	if ((size_t)n > cap)
		return err_makex(&d->c.io_err, EIO, "read layer blob: source returned too much");
	if (n == 0)
		d->src_eof = true;
	d->pending = (size_t)n;
	d->blob_size += (uint64_t)n;
	return n;
}

static la_ssize_t dec_read_cb(struct archive *a, void *ud, const void **buf)
{
	struct driver *d = ud;
	long n = src_read(d);

	if (n < 0) {
		archive_set_error(a, EIO, "%s", d->c.io_err->msg);
		return -1;
	}
	*buf = d->inbuf;
	return n;
}

/* Next decompressed bytes: hashed and walked. n > 0, 0 at the end, -1 (in io_err). */
static long dec_next(struct driver *d, const void **buf)
{
	for (;;) {
		const void *p;
		size_t n;
		la_int64_t off;
		int r;

		if (d->dec_eof)
			return 0;
		r = archive_read_data_block(d->dec, &p, &n, &off);
		if (r == ARCHIVE_EOF) {
			d->dec_eof = true;
			return 0;
		}
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			const char *msg = archive_error_string(d->dec);
			return err_makex(&d->c.io_err, EINVAL, "decompress layer: %s", msg ? msg : "error");
		}
		if (!n)
			continue;
		if (!d->plain)
			digester_async_update(d->dtar, p, n);
		d->tar_size += n;
		if (tarsplit_feed(d->c.ts, p, n, &d->c.io_err) < 0)
			return -1;
		*buf = p;
		return (long)n;
	}
}

static la_ssize_t tar_read_cb(struct archive *a, void *ud, const void **buf)
{
	struct driver *d = ud;
	long n = dec_next(d, buf);

	if (n < 0) {
		archive_set_error(a, EINVAL, "%s", d->c.io_err->msg);
		return -1;
	}
	return n;
}

static int open_decompressor(struct driver *d, struct skiff_err **err)
{
	struct archive_entry *ae;
	const char *msg;

	d->dec = archive_read_new();
	if (!d->dec)
		return err_makex(err, ENOMEM, "libarchive: out of memory");
	/* only built-in decompressors: never an external program on untrusted data */
	if (archive_read_support_filter_gzip(d->dec) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(d->dec) != ARCHIVE_OK)
		return err_makex(err, ENOTSUP, "libarchive lacks built-in gzip or zstd support");
	if (archive_read_support_format_raw(d->dec) != ARCHIVE_OK)
		return err_makex(err, ENOTSUP, "libarchive: %s", archive_error_string(d->dec));
	if (archive_read_open(d->dec, d, NULL, dec_read_cb, NULL) == ARCHIVE_OK &&
	    archive_read_next_header(d->dec, &ae) == ARCHIVE_OK) {
		/* Filter 0 is the last one applied; "none" means the bytes pass unchanged. */
		d->plain = archive_filter_count(d->dec) <= 1 || archive_filter_code(d->dec, 0) == ARCHIVE_FILTER_NONE;
		/* a plain blob is its own tar: its hash serves both, no second thread */
		if (!d->plain)
			d->dtar = digester_async_new();
		return 0;
	}
	if (d->c.io_err)
		return apply_tar_error(&d->c, err);
	if (d->src_eof && d->blob_size == 0)
		return err_makex(err, EINVAL, "layer blob is empty");
	msg = archive_error_string(d->dec);
	return err_makex(err, EINVAL, "decompress layer: %s", msg ? msg : "error");
}

static int open_tar(struct driver *d, struct skiff_err **err)
{
	const char *msg;

	d->c.tar = archive_read_new();
	if (!d->c.tar)
		return err_makex(err, ENOMEM, "libarchive: out of memory");
	if (archive_read_support_format_tar(d->c.tar) != ARCHIVE_OK)
		return err_makex(err, ENOTSUP, "libarchive: %s", archive_error_string(d->c.tar));
	/* "._name" files are files, not AppleDouble metadata for "name" */
	if (archive_read_set_format_option(d->c.tar, "tar", "mac-ext", NULL) < ARCHIVE_WARN)
		return err_makex(err, ENOTSUP, "libarchive: %s", archive_error_string(d->c.tar));
	if (archive_read_open(d->c.tar, d, NULL, tar_read_cb, NULL) == ARCHIVE_OK)
		return 0;
	if (d->c.io_err)
		return apply_tar_error(&d->c, err);
	if (d->dec_eof && d->tar_size == 0)
		return err_makex(err, EINVAL, "layer tar is empty");
	msg = archive_error_string(d->c.tar);
	return err_makex(err, EINVAL, "layer is not a tar archive (or uses an unsupported compression): %s",
			 msg ? msg : "unknown format");
}

/* After the tar's end: the rest of the decompressed stream (stored in the tar-split)
 * and the rest of the blob count too. */
static int drain(struct driver *d, struct skiff_err **err)
{
	const void *p;
	long n;

	while ((n = dec_next(d, &p)) > 0)
		;
	while (n == 0 && (n = src_read(d)) > 0)
		;
	return n < 0 ? apply_tar_error(&d->c, err) : 0;
}

static void driver_release(struct driver *d)
{
	if (d->c.tar)
		archive_read_free(d->c.tar);
	if (d->dec)
		archive_read_free(d->dec);
	tarsplit_free(d->c.ts);
	apply_ctx_release(&d->c);
	digester_async_free(d->dtar);
	digester_async_free(d->dblob);
}

static int run(struct driver *d, struct archive_apply_result *res, struct skiff_err **err)
{
	const struct archive_apply_opts *o = d->c.opts;

	if (open_decompressor(d, err) < 0 || open_tar(d, err) < 0)
		return -1;
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(d->c.tar, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) /* ARCHIVE_RETRY: a damaged header */
			return apply_tar_error(&d->c, err);
		if (apply_entry(&d->c, e, err) < 0)
			return -1;
		d->c.entries++;
	}
	if (apply_dir_times(&d->c, err) < 0 || drain(d, err) < 0)
		return -1;
	memset(res, 0, sizeof(*res));
	if (d->pending) {
		digester_async_commit(d->dblob, d->pending);
		d->pending = 0;
	}
	digester_async_final(d->dblob, res->digest);
	if (d->plain)
		memcpy(res->diffid, res->digest, sizeof(res->diffid));
	else
		digester_async_final(d->dtar, res->diffid);
	res->size = d->tar_size;
	res->compressed_size = d->blob_size;
	res->entries = d->c.entries;
	res->skipped_devices = d->c.skipped_devices;
	if (tarsplit_finish(d->c.ts, d->tar_size, res->diffid, err) < 0)
		return -1;
	if (o->expected_digest && strcmp(o->expected_digest, res->digest) != 0)
		return err_makex(err, EINVAL, "digest mismatch: expected %s, got %s", o->expected_digest, res->digest);
	if (o->expected_diffid && strcmp(o->expected_diffid, res->diffid) != 0)
		return err_makex(err, EINVAL, "diffID digest mismatch: expected %s, got %s", o->expected_diffid,
				 res->diffid);
	return 0;
}

int archive_apply_read(archive_read_fn read, void *ud, int dirfd, const struct archive_apply_opts *opts,
		       struct archive_apply_result *ret, struct skiff_err **err)
{
	struct driver d;
	struct archive_apply_result res;
	int rc;

	if (opts->whiteout_mode != ARCHIVE_WHITEOUT_OVERLAY && opts->whiteout_mode != ARCHIVE_WHITEOUT_DELETE)
		return err_makex(err, EINVAL, "apply layer: unknown whiteout mode %d", opts->whiteout_mode);
	if ((opts->expected_digest && digest_check(opts->expected_digest, err) < 0) ||
	    (opts->expected_diffid && digest_check(opts->expected_diffid, err) < 0))
		return err_wrap(err, "apply layer");
	memset(&d, 0, sizeof(d));
	d.c.opts = opts;
	d.c.dirfd = dirfd;
	d.c.trusted_xattrs = !opts->userns_xattrs && geteuid() == 0;
	d.c.paths = (struct hashmap)HASHMAP_INIT;
	d.read = read;
	d.ud = ud;
	d.c.ts = tarsplit_new(opts->tarsplit_fd, err);
	if (!d.c.ts)
		return -1;
	d.dblob = digester_async_new();
	rc = run(&d, &res, err);
	driver_release(&d);
	if (rc < 0)
		return -1;
	*ret = res;
	return 0;
}

static long fd_read(void *ud, void *buf, size_t n)
{
	ssize_t r = read(*(int *)ud, buf, n);
	return r < 0 ? -(long)errno : (long)r;
}

int archive_apply(int blob_fd, int dirfd, const struct archive_apply_opts *opts, struct archive_apply_result *ret,
		  struct skiff_err **err)
{
	return archive_apply_read(fd_read, &blob_fd, dirfd, opts, ret, err);
}
