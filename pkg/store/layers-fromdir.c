/* A container's writable layer becomes a layer by rename: no tar is written to disk, none
 * is extracted. The layer's tar is generated from the directory (by the caller's writer),
 * and only hashed (the diff id) and walked for the tar-split, so that save and push give
 * back exactly that tar. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/digest/digest.h"
#include "pkg/store/archive-internal.h"
#include "pkg/store/store-internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/pathres.h"
#include "vendor-free/xalloc.h"

#define READ_BUF (128u << 10)

/* The writer, on a thread of its own, into a pipe. */
struct gen {
	store_tar_dir_fn tar_dir;
	void *ud;
	int dirfd, wfd;
	struct skiff_err *err;
	int rc;
};

static int gen_write(void *ud, const void *buf, size_t n)
{
	return write_all(*(int *)ud, buf, n);
}

static void *gen_main(void *arg)
{
	struct gen *g = arg;
	g->rc = g->tar_dir(g->ud, g->dirfd, gen_write, &g->wfd, &g->err);
	close(g->wfd); /* the reader's end of file */
	g->wfd = -1;
	return NULL;
}

/* The reader: what libarchive reads from the pipe is hashed and walked. */
struct rd {
	int fd;
	char *buf;
	struct digester_async *dtar;
	struct tarsplit *ts;
	uint64_t size;
	bool eof;
	struct skiff_err *io_err;
};

static long rd_next(struct rd *r, const void **ret)
{
	ssize_t n;
	if (r->eof)
		return 0;
	do
		n = read(r->fd, r->buf, READ_BUF);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return err_make(&r->io_err, errno, "read the layer tar");
	if (n == 0) {
		r->eof = true;
		return 0;
	}
	digester_async_update(r->dtar, r->buf, (size_t)n);
	r->size += (uint64_t)n;
	if (tarsplit_feed(r->ts, r->buf, (size_t)n, &r->io_err) < 0)
		return -1;
	*ret = r->buf;
	return (long)n;
}

static la_ssize_t rd_cb(struct archive *a, void *ud, const void **buf)
{
	struct rd *r = ud;
	long n = rd_next(r, buf);
	if (n < 0) {
		archive_set_error(a, EIO, "%s", r->io_err->msg);
		return -1;
	}
	return n;
}

static int tar_fail(struct archive *a, struct rd *r, struct skiff_err **err)
{
	if (r->io_err) {
		*err = r->io_err;
		r->io_err = NULL;
		return -1;
	}
	const char *msg = archive_error_string(a);
	return err_makex(err, EINVAL, "layer tar: %s", msg ? msg : "read error");
}

/* One entry: its body (a regular file's content) is a reference to the file at its
 * path in the directory, which is where the writer read it. */
static int record_entry(struct archive *a, struct rd *r, struct archive_entry *e, uint64_t index,
			struct skiff_err **err)
{
	const char *name = archive_entry_pathname(e);
	cleanup_free char *path = NULL;
	if (!name || path_clean(name, &path, NULL) < 0)
		return err_makex(err, EINVAL, "layer tar: entry %llu has a bad name", (unsigned long long)index + 1);
	bool file = archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e);
	if (tarsplit_entry_begin(r->ts, index, file ? path : NULL, err) < 0)
		return err_wrap(err, "layer entry \"%s\"", name);
	uint64_t total = 0;
	for (;;) {
		const void *buf;
		size_t n;
		la_int64_t off;
		int rc = archive_read_data_block(a, &buf, &n, &off);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
			return tar_fail(a, r, err);
		if (tarsplit_entry_data(r->ts, buf, n, err) < 0)
			return err_wrap(err, "layer entry \"%s\"", name);
		total += n;
	}
	if (tarsplit_entry_end(r->ts, total, err) < 0)
		return err_wrap(err, "layer entry \"%s\"", name);
	return 0;
}

/* Read the whole tar from r->fd into the hash and the tar-split. */
static int record(struct rd *r, struct archive_apply_result *res, struct skiff_err **err)
{
	struct archive *a = archive_read_new();
	int rc = -1;
	if (!a)
		return err_makex(err, ENOMEM, "libarchive: out of memory");
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_set_format_option(a, "tar", "mac-ext", NULL) < ARCHIVE_WARN) {
		err_makex(err, ENOTSUP, "libarchive: %s", archive_error_string(a));
		goto out;
	}
	if (archive_read_open(a, r, NULL, rd_cb, NULL) != ARCHIVE_OK) {
		tar_fail(a, r, err);
		goto out;
	}
	for (uint64_t index = 0;; index++) {
		struct archive_entry *e;
		int n = archive_read_next_header(a, &e);
		if (n == ARCHIVE_EOF)
			break;
		if (n != ARCHIVE_OK && n != ARCHIVE_WARN) {
			tar_fail(a, r, err);
			goto out;
		}
		if (record_entry(a, r, e, index, err) < 0)
			goto out;
	}
	/* the end-of-archive blocks and whatever follows are in the tar too */
	const void *p;
	long n;
	while ((n = rd_next(r, &p)) > 0)
		;
	if (n < 0) {
		tar_fail(a, r, err);
		goto out;
	}
	memset(res, 0, sizeof(*res));
	digester_async_final(r->dtar, res->diffid);
	memcpy(res->digest, res->diffid, sizeof(res->digest)); /* uncompressed: the blob is the tar */
	res->size = res->compressed_size = r->size;
	rc = 0;
out:
	archive_read_free(a);
	return rc;
}

/* Hash and record the tar tar_dir makes of the directory at stg->difffd. */
static int tar_of_dir(struct staging *stg, store_tar_dir_fn tar_dir, void *ud, struct archive_apply_result *res,
		      struct skiff_err **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_make(err, errno, "pipe");
	struct gen g = {.tar_dir = tar_dir, .ud = ud, .dirfd = stg->difffd, .wfd = p[1]};
	pthread_t th;
	int e = pthread_create(&th, NULL, gen_main, &g);
	if (e) {
		close(p[0]);
		close(p[1]);
		return err_make(err, e, "start the layer tar writer");
	}
	struct rd r = {.fd = p[0], .buf = xmalloc(READ_BUF), .dtar = digester_async_new()};
	int rc = -1;
	r.ts = tarsplit_new(stg->splitfd, err);
	if (r.ts)
		rc = record(&r, res, err);
	/* the writer ends only when its tar is read to the end (no SIGPIPE, no deadlock) */
	if (!r.eof) {
		char sink[4096];
		ssize_t n;
		do
			n = read(p[0], sink, sizeof(sink));
		while (n > 0 || (n < 0 && errno == EINTR));
	}
	pthread_join(th, NULL);
	close(p[0]);
	if (g.rc < 0) {
		/* the writer's failure explains the reader's */
		if (err) {
			err_clear(err);
			*err = g.err;
			g.err = NULL;
		}
		rc = err_wrap(err, "write the layer tar");
	} else if (rc == 0 && tarsplit_finish(r.ts, r.size, res->diffid, err) < 0) {
		rc = -1;
	}
	if (rc == 0 && fsync(stg->splitfd) < 0)
		rc = err_make(err, errno, "fsync tar-split");
	err_free(g.err);
	err_free(r.io_err);
	tarsplit_free(r.ts);
	digester_async_free(r.dtar);
	free(r.buf);
	return rc;
}

static bool valid_id(const char *id)
{
	return id && *id && !strchr(id, '/') && strcmp(id, ".") && strcmp(id, "..");
}

int store_layer_create_from_container(struct store *s, struct store_layer_hold *h, const char *parent,
				      const char *ctr_id, store_tar_dir_fn tar_dir, void *ud, char **ret_id,
				      char **ret_diff_id, struct skiff_err **err)
{
	struct staging stg = {.fd = -1, .difffd = -1, .splitfd = -1};
	struct archive_apply_result res;
	struct stat st;

	if (!strcmp(s->driver, "vfs"))
		return err_makex(err, ENOTSUP, "the vfs driver has no upper directory to make a layer of");
	if (!valid_id(ctr_id))
		return err_makex(err, EINVAL, "invalid container id \"%s\"", ctr_id ? ctr_id : "");
	cleanup_free char *upper = xasprintf("containers/%s/diff", ctr_id);
	if (fstatat(s->rootfd, upper, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_make(err, errno, "container %s: %s/%s", ctr_id, s->graphroot, upper);
	if (!S_ISDIR(st.st_mode))
		return err_makex(err, ENOTDIR, "container %s: %s/%s is not a directory", ctr_id, s->graphroot, upper);
	/* nothing may write into it any more */
	if (store_container_umount(s, ctr_id, err) < 0)
		return err_wrap(err, "container %s", ctr_id);
	if (staging_new(s, "ctr", &stg, err) < 0)
		goto fail;
	/* the staging's empty diff/ is replaced by the upper dir (the same filesystem) */
	close(stg.difffd);
	stg.difffd = -1;
	if (renameat(s->rootfd, upper, stg.fd, "diff") < 0) {
		err_make(err, errno, "move %s/%s to %s/tmp/%s", s->graphroot, upper, s->graphroot, stg.name);
		goto fail;
	}
	stg.difffd = openat(stg.fd, "diff", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	/* a layer root as an unpacked one has it (the tar has no entry for the root) */
	if (stg.difffd < 0 || fchmod(stg.difffd, 0755) < 0) {
		err_make(err, errno, "open the staged layer %s", stg.name);
		goto fail_moved;
	}
	if (tar_of_dir(&stg, tar_dir, ud, &res, err) < 0)
		goto fail_moved;
	/* the container keeps an (empty) upper dir, so removing it is as usual */
	if (mkdirat(s->rootfd, upper, 0755) < 0 && errno != EEXIST) {
		err_make(err, errno, "create %s/%s", s->graphroot, upper);
		goto fail_moved;
	}
	if (staging_install(s, h, parent, &stg, &res, ret_id, ret_diff_id, err) < 0)
		return err_wrap(err, "container %s", ctr_id);
	return 0;
fail_moved:
	/* give the container its layer back (best effort: it is removed anyway) */
	unlinkat(s->rootfd, upper, AT_REMOVEDIR);
	renameat(stg.fd, "diff", s->rootfd, upper);
fail:
	staging_discard(s, &stg);
	return err_wrap(err, "make a layer of container %s", ctr_id);
}
