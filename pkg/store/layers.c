/* Layers: create (once, under a per-layer lock), hold, reassemble, garbage-collect. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/digest/digest.h"
#include "pkg/store/archive.h"
#include "pkg/store/store-internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/crashpoint.h"
#include "vendor-free/fileio.h"
#include "vendor-free/lock.h"
#include "vendor-free/xalloc.h"

struct held {
	char *id;
	struct skiff_lock lock;
};

struct store_layer_hold {
	struct store *s;
	struct held *v;
	size_t n, alloc;
};

void store_layer_info_release(struct store_layer_info *l)
{
	free(l->id);
	free(l->parent);
	free(l->diff_id);
	free(l->compressed_digest);
	memset(l, 0, sizeof(*l));
}

void store_chain_id(const char *parent_id, const char *diff_id, char out[65])
{
	char d[DIGEST_STR_LEN + 1];
	if (!parent_id) {
		snprintf(out, 65, "%s", digest_valid(diff_id) ? digest_hex(diff_id) : diff_id);
		return;
	}
	cleanup_free char *s = xasprintf("sha256:%s %s", parent_id, diff_id);
	digest_buf(s, strlen(s), d);
	snprintf(out, 65, "%s", digest_hex(d));
}

struct store_layer_hold *store_hold_new(struct store *s)
{
	struct store_layer_hold *h = xzalloc(sizeof(*h));
	h->s = s;
	return h;
}

void store_hold_release(struct store_layer_hold *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++) {
		lock_close(&h->v[i].lock);
		free(h->v[i].id);
	}
	free(h->v);
	free(h);
}

static void hold_add(struct store_layer_hold *h, const char *id, struct skiff_lock *l)
{
	ALLOC_GROW(h->v, h->n + 1, h->alloc);
	h->v[h->n].id = xstrdup(id);
	h->v[h->n].lock = *l;
	*l = (struct skiff_lock)SKIFF_LOCK_INIT;
	h->n++;
}

static bool hold_has(struct store_layer_hold *h, const char *id)
{
	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->v[i].id, id))
			return true;
	return false;
}

static int layer_lock(struct store *s, const char *id, enum lock_mode mode, bool wait, struct skiff_lock *ret,
		      struct skiff_err **err)
{
	cleanup_free char *name = xasprintf("layer-%s", id);
	struct skiff_lock l = SKIFF_LOCK_INIT;
	if (lock_open(s->locksfd, name, &l, err) < 0)
		return -1;
	if (lock_take(&l, mode, wait, err) < 0) {
		lock_close(&l);
		return -1;
	}
	*ret = l;
	return 0;
}

/* -1 no row, else the state. */
static int layer_state(struct store *s, const char *id, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	int rc;
	if (db_prepare(s, "SELECT state FROM layers WHERE id = ?", &st, err) < 0)
		return -2;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -1;
	if (rc != SQLITE_ROW) {
		db_error(s, err, "read layer");
		return -2;
	}
	return sqlite3_column_int(st, 0);
}

int store_layer_info(struct store *s, const char *id, struct store_layer_info *ret, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	int rc;
	if (db_prepare(s,
		       "SELECT id, parent, diff_id, compressed_digest, size, compressed_size FROM layers "
		       "WHERE id = ? AND state = 0",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return err_makex(err, ENOENT, "layer %s not known", id);
	if (rc != SQLITE_ROW)
		return db_error(s, err, "read layer");
	memset(ret, 0, sizeof(*ret));
	for (int i = 0; i < 4; i++) {
		const unsigned char *t = sqlite3_column_text(st, i);
		char **f[] = {&ret->id, &ret->parent, &ret->diff_id, &ret->compressed_digest};
		*f[i] = t ? xstrdup((const char *)t) : NULL;
	}
	ret->size = (uint64_t)sqlite3_column_int64(st, 4);
	ret->compressed_size = (uint64_t)sqlite3_column_int64(st, 5);
	return 0;
}

bool store_layer_complete(struct store *s, const char *id)
{
	return layer_state(s, id, NULL) == LAYER_COMPLETE;
}

bool store_layer_hold_existing(struct store *s, struct store_layer_hold *h, const char *id)
{
	struct skiff_lock fd = SKIFF_LOCK_INIT;
	if (hold_has(h, id))
		return true;
	if (layer_lock(s, id, LOCK_SHARED, true, &fd, NULL) < 0)
		return false;
	if (layer_state(s, id, NULL) != LAYER_COMPLETE) {
		lock_close(&fd);
		return false;
	}
	hold_add(h, id, &fd);
	return true;
}

int store_layer_remove_content(struct store *s, const char *id, struct skiff_err **err)
{
	cleanup_free char *tmpname = xasprintf("del-%s-%ld", id, (long)getpid());
	cleanup_stmt sqlite3_stmt *st = NULL;

	if (renameat(s->layersfd, id, s->tmpfd, tmpname) < 0 && errno != ENOENT)
		return err_make(err, errno, "move layer %s out of the way", id);
	if (db_prepare(s, "DELETE FROM layers WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, err, "delete layer");
	if (rm_rf_at(s->tmpfd, tmpname, err) < 0)
		return err_wrap(err, "remove layer %s", id);
	return 0;
}

int staging_new(struct store *s, const char *hint, struct staging *st, struct skiff_err **err)
{
	static unsigned counter;
	st->fd = st->difffd = st->splitfd = -1;
	for (int tries = 0;; tries++) {
		snprintf(st->name, sizeof(st->name), "layer-%.16s-%ld-%u-%ld", hint, (long)getpid(),
			 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED), (long)time(NULL));
		if (mkdirat(s->tmpfd, st->name, 0700) == 0)
			break;
		if (errno != EEXIST || tries > 100)
			return err_make(err, errno, "create staging directory in %s/tmp", s->graphroot);
	}
	st->fd = openat(s->tmpfd, st->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (st->fd < 0)
		return err_make(err, errno, "open staging directory");
	if (mkdirat(st->fd, "diff", 0755) < 0)
		return err_make(err, errno, "create staging diff directory");
	st->difffd = openat(st->fd, "diff", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (st->difffd < 0)
		return err_make(err, errno, "open staging diff directory");
	st->splitfd = openat(st->fd, "tar-split.gz", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (st->splitfd < 0)
		return err_make(err, errno, "create tar-split");
	return 0;
}

void staging_close(struct staging *st)
{
	if (st->fd >= 0)
		close(st->fd);
	if (st->difffd >= 0)
		close(st->difffd);
	if (st->splitfd >= 0)
		close(st->splitfd);
	st->fd = st->difffd = st->splitfd = -1;
}

void staging_discard(struct store *s, struct staging *st)
{
	staging_close(st);
	if (st->name[0])
		rm_rf_at(s->tmpfd, st->name, NULL);
	st->name[0] = '\0';
}

static int unpack(struct store *s, struct staging *stg, const char *parent, const struct store_layer_src *src,
		  struct archive_apply_result *res, struct skiff_err **err)
{
	bool vfs = strcmp(s->driver, "vfs") == 0;
	struct archive_apply_opts o = {
		.whiteout_mode = vfs ? ARCHIVE_WHITEOUT_DELETE : ARCHIVE_WHITEOUT_OVERLAY,
		.userns_xattrs = s->userns,
		.expected_digest = src->expected_digest,
		.expected_diffid = src->expected_diff_id,
		.tarsplit_fd = stg->splitfd,
	};
	if (vfs && parent) {
		/* vfs: a layer directory holds the whole tree, its parent's included. */
		cleanup_free char *pdiff = xasprintf("%s/diff", parent);
		cleanup_close int pfd = openat(s->layersfd, pdiff, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (pfd < 0)
			return err_make(err, errno, "open parent layer %s", parent);
		if (store_copy_tree(pfd, stg->difffd, err) < 0)
			return err_wrap(err, "copy parent layer %s", parent);
	}
	if (archive_apply_read(src->read, src->ud, stg->difffd, &o, res, err) < 0)
		return -1;
	if (fsync(stg->splitfd) < 0)
		return err_make(err, errno, "fsync tar-split");
	return 0;
}

static int insert_layer(struct store *s, const char *id, const char *parent, const char *diff_id, int state,
			const struct archive_apply_result *res, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_prepare(
		    s,
		    "INSERT INTO layers(id, parent, diff_id, compressed_digest, compressed_size, size, state, created)"
		    " VALUES (?,?,?,?,?,?,?,?)",
		    &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (parent)
		sqlite3_bind_text(st, 2, parent, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, diff_id, -1, SQLITE_STATIC);
	if (res) {
		sqlite3_bind_text(st, 4, res->digest, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (int64_t)res->compressed_size);
		sqlite3_bind_int64(st, 6, (int64_t)res->size);
	} else {
		sqlite3_bind_int64(st, 5, 0);
		sqlite3_bind_int64(st, 6, 0);
	}
	sqlite3_bind_int(st, 7, state);
	sqlite3_bind_int64(st, 8, (int64_t)time(NULL));
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, err, "insert layer");
	return 0;
}

static int complete_layer(struct store *s, const char *id, const struct archive_apply_result *res,
			  struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_prepare(s,
		       "UPDATE layers SET state = 0, compressed_digest = ?, compressed_size = ?, size = ? WHERE id = ?",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, res->digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)res->compressed_size);
	sqlite3_bind_int64(st, 3, (int64_t)res->size);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, err, "complete layer");
	return 0;
}

int store_layer_ensure(struct store *s, struct store_layer_hold *h, const char *id, const char *parent,
		       const char *diff_id, const struct store_layer_src *src, bool *ret_created,
		       struct skiff_err **err)
{
	struct staging stg = {.fd = -1, .difffd = -1, .splitfd = -1};
	struct archive_apply_result res;
	struct skiff_lock fd = SKIFF_LOCK_INIT;
	int state;

	pthread_mutex_lock(&s->layer_mu);
	bool held = hold_has(h, id);
	pthread_mutex_unlock(&s->layer_mu);
	if (held) {
		*ret_created = false;
		return 0;
	}
	if (layer_lock(s, id, LOCK_EXCL, true, &fd, err) < 0)
		return err_wrap(err, "lock layer %s", id);
	pthread_mutex_lock(&s->layer_mu);
	state = layer_state(s, id, err);
	if (state == -2)
		goto fail_locked;
	if (state == LAYER_COMPLETE) {
		if (lock_downgrade(&fd, err) < 0)
			goto fail_locked;
		hold_add(h, id, &fd);
		pthread_mutex_unlock(&s->layer_mu);
		*ret_created = false;
		return 0;
	}
	/* We hold the layer lock: any row or directory is a dead command's leftover. */
	if (state >= 0 && store_layer_remove_content(s, id, err) < 0)
		goto fail_locked;
	if (insert_layer(s, id, parent, diff_id, LAYER_INCOMPLETE, NULL, err) < 0)
		goto fail_locked;
	pthread_mutex_unlock(&s->layer_mu);
	if (staging_new(s, id, &stg, err) < 0 || unpack(s, &stg, parent, src, &res, err) < 0)
		goto fail_row;
	staging_close(&stg);
	crashpoint("layer-unpacked");
	if (renameat(s->tmpfd, stg.name, s->layersfd, id) < 0) {
		err_make(err, errno, "move layer %s into place", id);
		goto fail_row;
	}
	stg.name[0] = '\0';
	crashpoint("layer-renamed");
	pthread_mutex_lock(&s->layer_mu);
	if (complete_layer(s, id, &res, err) < 0) {
		pthread_mutex_unlock(&s->layer_mu);
		goto fail_row;
	}
	if (lock_downgrade(&fd, err) < 0)
		goto fail_locked;
	hold_add(h, id, &fd);
	pthread_mutex_unlock(&s->layer_mu);
	*ret_created = true;
	return 0;
fail_row:
	staging_discard(s, &stg);
	pthread_mutex_lock(&s->layer_mu);
	store_layer_remove_content(s, id, NULL);
fail_locked:
	pthread_mutex_unlock(&s->layer_mu);
	staging_discard(s, &stg);
	lock_close(&fd);
	return err_wrap(err, "layer %s", diff_id ? diff_id : id);
}

int store_layer_create_unknown(struct store *s, struct store_layer_hold *h, const char *parent,
			       const struct store_layer_src *src, char **ret_id, char **ret_diff_id,
			       struct skiff_err **err)
{
	struct staging stg = {.fd = -1, .difffd = -1, .splitfd = -1};
	struct archive_apply_result res;

	if (staging_new(s, "new", &stg, err) < 0 || unpack(s, &stg, parent, src, &res, err) < 0) {
		staging_discard(s, &stg);
		return err_wrap(err, "create layer");
	}
	return staging_install(s, h, parent, &stg, &res, ret_id, ret_diff_id, err);
}

int staging_install(struct store *s, struct store_layer_hold *h, const char *parent, struct staging *stg,
		    const struct archive_apply_result *rp, char **ret_id, char **ret_diff_id, struct skiff_err **err)
{
	const struct archive_apply_result res = *rp;
	char id[65];
	struct skiff_lock fd = SKIFF_LOCK_INIT;
	int state;

	staging_close(stg);
	store_chain_id(parent, res.diffid, id);
	pthread_mutex_lock(&s->layer_mu);
	bool held = hold_has(h, id);
	pthread_mutex_unlock(&s->layer_mu);
	if (held) {
		/* this hold has it: complete, and ours to keep */
		staging_discard(s, stg);
		*ret_id = xstrdup(id);
		*ret_diff_id = xstrdup(res.diffid);
		return 0;
	}
	struct skiff_err *busy = NULL;
	if (layer_lock(s, id, LOCK_EXCL, false, &fd, &busy) < 0) {
		if (err_status(busy) != EAGAIN) {
			*err = busy;
			goto fail;
		}
		err_free(busy);
		/* Held: most often shared, on a complete layer (perhaps by another hold of this
		 * very process, whose lock an exclusive one of ours would wait on for ever). A
		 * shared lock waits only for a creator; a complete layer is then ours as it is. */
		if (layer_lock(s, id, LOCK_SHARED, true, &fd, err) < 0)
			goto fail;
		state = layer_state(s, id, err);
		if (state == -2)
			goto fail;
		if (state == LAYER_COMPLETE)
			goto have;
		lock_close(&fd);
		if (layer_lock(s, id, LOCK_EXCL, true, &fd, err) < 0)
			goto fail;
	}
	state = layer_state(s, id, err);
	if (state == -2)
		goto fail;
	if (state != LAYER_COMPLETE) {
		if (state >= 0 && store_layer_remove_content(s, id, err) < 0)
			goto fail;
		/* the row first (incomplete), so recovery knows the directory */
		if (insert_layer(s, id, parent, res.diffid, LAYER_INCOMPLETE, &res, err) < 0)
			goto fail;
		if (renameat(s->tmpfd, stg->name, s->layersfd, id) < 0) {
			err_make(err, errno, "move layer %s into place", id);
			store_layer_remove_content(s, id, NULL);
			goto fail;
		}
		stg->name[0] = '\0';
		if (complete_layer(s, id, &res, err) < 0) {
			store_layer_remove_content(s, id, NULL);
			goto fail;
		}
	}
	if (lock_downgrade(&fd, err) < 0)
		goto fail;
have:
	staging_discard(s, stg);
	if (!hold_has(h, id))
		hold_add(h, id, &fd);
	else
		lock_close(&fd);
	*ret_id = xstrdup(id);
	*ret_diff_id = xstrdup(res.diffid);
	return 0;
fail:
	staging_discard(s, stg);
	lock_close(&fd);
	return err_wrap(err, "create layer");
}

int store_layer_write_tar(struct store *s, const char *id, store_write_fn write, void *ud, struct skiff_err **err)
{
	struct store_layer_info info;
	cleanup_close int dirfd = -1;
	cleanup_close int difffd = -1;
	cleanup_close int splitfd = -1;
	int rc;

	pthread_mutex_lock(&s->layer_mu);
	rc = store_layer_info(s, id, &info, err);
	pthread_mutex_unlock(&s->layer_mu);
	if (rc < 0)
		return -1;
	dirfd = openat(s->layersfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dirfd >= 0)
		difffd = openat(dirfd, "diff", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (difffd >= 0)
		splitfd = openat(dirfd, "tar-split.gz", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (splitfd < 0) {
		rc = err_make(err, errno, "open layer %s", id);
		store_layer_info_release(&info);
		return rc;
	}
	rc = archive_tarsplit_write_cb(difffd, splitfd, write, ud, info.diff_id, err);
	if (rc < 0)
		err_wrap(err, "layer %s", info.diff_id);
	store_layer_info_release(&info);
	return rc;
}

int store_gc_layers(struct store *s, struct skiff_err **err)
{
	struct strv ids = STRV_INIT;
	struct held *marked = NULL;
	size_t nmarked = 0, alloc = 0;
	int rc;

	if (db_begin(s, err) < 0)
		return -1;
	if (db_strv(s, "SELECT id FROM layers WHERE state = 0 AND id NOT IN (SELECT layer_id FROM image_layers)", NULL,
		    &ids, err) < 0) {
		err_wrap(err, "list unused layers");
		goto fail;
	}
	for (size_t i = 0; i < ids.len; i++) {
		struct skiff_lock fd = SKIFF_LOCK_INIT;
		struct skiff_err *e = NULL;
		/* A layer some running command holds is not ours to delete. */
		if (layer_lock(s, ids.v[i], LOCK_EXCL, false, &fd, &e) < 0) {
			err_free(e);
			continue;
		}
		cleanup_stmt sqlite3_stmt *u = NULL;
		if (db_prepare(s, "UPDATE layers SET state = 2 WHERE id = ?", &u, err) < 0) {
			lock_close(&fd);
			goto fail;
		}
		sqlite3_bind_text(u, 1, ids.v[i], -1, SQLITE_STATIC);
		if (sqlite3_step(u) != SQLITE_DONE) {
			lock_close(&fd);
			db_error(s, err, "mark layer for deletion");
			goto fail;
		}
		ALLOC_GROW(marked, nmarked + 1, alloc);
		marked[nmarked].id = ids.v[i];
		marked[nmarked].lock = fd;
		nmarked++;
	}
	if (db_commit(s, err) < 0)
		goto fail_nodb;
	if (nmarked)
		crashpoint("layers-marked");
	rc = 0;
	for (size_t i = 0; i < nmarked; i++) {
		if (rc == 0 && store_layer_remove_content(s, marked[i].id, err) < 0)
			rc = -1;
		lock_close(&marked[i].lock);
	}
	free(marked);
	strv_release(&ids);
	return rc;
fail:
	db_rollback(s);
fail_nodb:
	for (size_t i = 0; i < nmarked; i++)
		lock_close(&marked[i].lock);
	free(marked);
	strv_release(&ids);
	return -1;
}

long store_read_fd(void *ud, void *buf, size_t n)
{
	int fd = *(int *)ud;
	ssize_t r;
	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return (long)r;
}

int store_prune_layers(struct store *s, struct skiff_err **err)
{
	return store_gc_layers(s, err);
}

int store_layer_set_blob(struct store *s, const char *id, const char *digest, uint64_t size, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (!digest_valid(digest))
		return err_makex(err, EINVAL, "invalid blob digest \"%s\"", digest);
	pthread_mutex_lock(&s->layer_mu);
	int rc = db_prepare(
		s, "UPDATE layers SET compressed_digest = ?, compressed_size = ? WHERE id = ? AND state = 0", &st, err);
	if (rc == 0) {
		sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)size);
		sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_error(s, err, "record blob of layer");
	}
	pthread_mutex_unlock(&s->layer_mu);
	return rc;
}
