/* Image records: list, lookup, names, commit, delete. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pkg/digest/digest.h"
#include "pkg/store/store-internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/crashpoint.h"
#include "vendor-free/xalloc.h"

void store_image_free(struct store_image *img)
{
	if (!img)
		return;
	free(img->id);
	strv_release(&img->names);
	free(img->digest);
	free(img->manifest_type);
	strv_release(&img->layers);
	free(img->parent);
	free(img->labels_json);
	free(img);
}

void store_images_free(struct store_image **imgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_image_free(imgs[i]);
	free(imgs);
}

static char *col_strdup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? xstrdup((const char *)t) : NULL;
}

#define IMAGE_COLS "id, digest, manifest_type, created, created_nsec, added, size, parent, labels"

static struct store_image *image_from_row(sqlite3_stmt *st)
{
	struct store_image *img = xzalloc(sizeof(*img));
	img->id = col_strdup(st, 0);
	img->digest = col_strdup(st, 1);
	img->manifest_type = col_strdup(st, 2);
	img->created = sqlite3_column_int64(st, 3);
	img->created_nsec = sqlite3_column_int64(st, 4);
	img->added = sqlite3_column_int64(st, 5);
	img->size = (uint64_t)sqlite3_column_int64(st, 6);
	img->parent = col_strdup(st, 7);
	img->labels_json = col_strdup(st, 8);
	return img;
}

static int load_names_layers(struct store *s, struct store_image *img, struct skiff_err **err)
{
	if (db_strv(s, "SELECT name FROM names WHERE image_id = ? ORDER BY seq", img->id, &img->names, err) < 0)
		return err_wrap(err, "read image names");
	if (db_strv(s, "SELECT layer_id FROM image_layers WHERE image_id = ? ORDER BY idx", img->id, &img->layers,
		    err) < 0)
		return err_wrap(err, "read image layers");
	return 0;
}

static int cmp_image_id(const void *a, const void *b)
{
	return strcmp((*(struct store_image *const *)a)->id, (*(struct store_image *const *)b)->id);
}

static struct store_image *find_image(struct store_image **byid, size_t n, const char *id)
{
	size_t lo = 0, hi = n;
	if (!id)
		return NULL;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(byid[mid]->id, id);
		if (!c)
			return byid[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int store_image_list(struct store *s, struct store_image ***ret, size_t *ret_n, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	struct store_image **v = NULL;
	size_t n = 0, alloc = 0;
	int rc;

	if (s->empty) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	/* One pass over images, one over names, one over layers: constant query count. */
	if (db_prepare(s, "SELECT " IMAGE_COLS " FROM images ORDER BY added DESC, rowid DESC", &st, err) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(v, n + 1, alloc);
		v[n++] = image_from_row(st);
	}
	if (rc != SQLITE_DONE) {
		store_images_free(v, n);
		return db_error(s, err, "list images");
	}
	sqlite3_finalize(st);
	st = NULL;
	/* Attach names and layers by binary search over ids. */
	struct store_image **byid = xcalloc(n ? n : 1, sizeof(*byid));
	if (n)
		memcpy(byid, v, n * sizeof(*v));
	qsort(byid, n, sizeof(*byid), cmp_image_id);
	static const char *const q[2] = {
		"SELECT image_id, name FROM names ORDER BY image_id, seq",
		"SELECT image_id, layer_id FROM image_layers ORDER BY image_id, idx",
	};
	for (int k = 0; k < 2; k++) {
		if (db_prepare(s, q[k], &st, err) < 0)
			goto fail;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct store_image *img = find_image(byid, n, (const char *)sqlite3_column_text(st, 0));
			if (img)
				strv_push(k == 0 ? &img->names : &img->layers,
					  (const char *)sqlite3_column_text(st, 1));
		}
		sqlite3_finalize(st);
		st = NULL;
		if (rc != SQLITE_DONE) {
			db_error(s, err, "list images");
			goto fail;
		}
	}
	free(byid);
	*ret = v;
	*ret_n = n;
	return 0;
fail:
	free(byid);
	store_images_free(v, n);
	return -1;
}

static int image_by_id(struct store *s, const char *id, struct store_image **ret, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	struct store_image *img;
	int rc;
	if (db_prepare(s, "SELECT " IMAGE_COLS " FROM images WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return err_makex(err, ENOENT, "%s: image not known", id);
	if (rc != SQLITE_ROW)
		return db_error(s, err, "read image");
	img = image_from_row(st);
	if (load_names_layers(s, img, err) < 0) {
		store_image_free(img);
		return -1;
	}
	*ret = img;
	return 0;
}

int store_image_by_name(struct store *s, const char *full_name, struct store_image **ret, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	cleanup_free char *id = NULL;
	int rc;
	if (s->empty)
		return err_makex(err, ENOENT, "%s: image not known", full_name);
	if (db_prepare(s, "SELECT image_id FROM names WHERE name = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, full_name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return err_makex(err, ENOENT, "%s: image not known", full_name);
	if (rc != SQLITE_ROW)
		return db_error(s, err, "look up image name");
	id = col_strdup(st, 0);
	return image_by_id(s, id, ret, err);
}

int store_image_get(struct store *s, const char *id_or_name, struct store_image **ret, struct skiff_err **err)
{
	const char *p = id_or_name;
	size_t len;
	if (s->empty)
		return err_makex(err, ENOENT, "%s: image not known", id_or_name);
	if (strncmp(p, "sha256:", 7) == 0)
		p += 7;
	len = strlen(p);
	if (len >= 3 && len <= 64 && strspn(p, "0123456789abcdef") == len) {
		cleanup_stmt sqlite3_stmt *st = NULL;
		cleanup_free char *id = NULL;
		int rc, matches = 0;
		if (db_prepare(s, "SELECT id FROM images WHERE id >= ?1 AND id < ?1 || 'g' LIMIT 2", &st, err) < 0)
			return -1;
		sqlite3_bind_text(st, 1, p, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (!matches)
				id = col_strdup(st, 0);
			matches++;
		}
		if (rc != SQLITE_DONE)
			return db_error(s, err, "look up image id");
		if (matches > 1)
			return err_makex(err, EINVAL, "%s: image ID prefix is ambiguous", id_or_name);
		if (matches == 1)
			return image_by_id(s, id, ret, err);
	}
	return store_image_by_name(s, id_or_name, ret, err);
}

bool store_image_exists(struct store *s, const char *id)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (s->empty || db_prepare(s, "SELECT 1 FROM images WHERE id = ?", &st, NULL) < 0)
		return false;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return sqlite3_step(st) == SQLITE_ROW;
}

static int read_blob(struct store *s, const char *col, const char *id, char **ret, size_t *ret_len,
		     struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	cleanup_free char *sql = xasprintf("SELECT %s FROM image_data WHERE id = ?", col);
	int rc;
	if (s->empty)
		return err_makex(err, ENOENT, "%s: image not known", id);
	if (db_prepare(s, sql, &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return err_makex(err, ENOENT, "%s: image not known", id);
	if (rc != SQLITE_ROW)
		return db_error(s, err, "read image");
	if (sqlite3_column_type(st, 0) == SQLITE_NULL)
		return err_makex(err, ENOENT, "image %s has no %s", id, col);
	size_t n = (size_t)sqlite3_column_bytes(st, 0);
	char *b = xmalloc(n + 1);
	memcpy(b, sqlite3_column_blob(st, 0), n);
	b[n] = '\0';
	*ret = b;
	*ret_len = n;
	return 0;
}

int store_image_config(struct store *s, const char *id, char **ret, size_t *ret_len, struct skiff_err **err)
{
	return read_blob(s, "config", id, ret, ret_len, err);
}

int store_image_manifest(struct store *s, const char *id, char **ret, size_t *ret_len, struct skiff_err **err)
{
	return read_blob(s, "manifest", id, ret, ret_len, err);
}

static int64_t next_seq(struct store *s)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_prepare(s, "SELECT coalesce(max(seq), 0) + 1 FROM names", &st, NULL) < 0 ||
	    sqlite3_step(st) != SQLITE_ROW)
		return 1;
	return sqlite3_column_int64(st, 0);
}

/* Inside a transaction. */
static int set_name(struct store *s, const char *id, const char *name, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_prepare(s,
		       "INSERT INTO names(name, image_id, seq) VALUES (?1, ?2, ?3) "
		       "ON CONFLICT(name) DO UPDATE SET image_id = ?2, seq = ?3 WHERE image_id != ?2",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, next_seq(s));
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, err, "set image name");
	return 0;
}

int store_image_add_name(struct store *s, const char *id, const char *name, struct skiff_err **err)
{
	if (db_begin(s, err) < 0)
		return -1;
	if (!store_image_exists(s, id)) {
		db_rollback(s);
		return err_makex(err, ENOENT, "%s: image not known", id);
	}
	if (set_name(s, id, name, err) < 0) {
		db_rollback(s);
		return -1;
	}
	return db_commit(s, err);
}

int store_image_remove_name(struct store *s, const char *id, const char *name, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_prepare(s, "DELETE FROM names WHERE name = ? AND image_id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, err, "remove image name");
	if (sqlite3_changes(s->db) == 0)
		return err_makex(err, ENOENT, "%s: tag not known", name);
	return 0;
}

int store_image_commit(struct store *s, const struct store_image_new *in, char **ret_id, bool *ret_existed,
		       struct skiff_err **err)
{
	char digest[DIGEST_STR_LEN + 1], mdigest[DIGEST_STR_LEN + 1];
	const char *id;
	bool existed;
	uint64_t size = 0;

	digest_buf(in->config, in->config_len, digest);
	id = digest_hex(digest);
	if (in->manifest)
		digest_buf(in->manifest, in->manifest_len, mdigest);
	if (db_begin(s, err) < 0)
		return -1;
	existed = store_image_exists(s, id);
	/* Every layer must be complete now (GC cannot take a held one). */
	for (size_t i = 0; in->layers && i < in->layers->len; i++) {
		cleanup_stmt sqlite3_stmt *st = NULL;
		if (db_prepare(s, "SELECT size FROM layers WHERE id = ? AND state = 0", &st, err) < 0)
			goto fail;
		sqlite3_bind_text(st, 1, in->layers->v[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			err_makex(err, EIO, "layer %s is missing", in->layers->v[i]);
			goto fail;
		}
		size += (uint64_t)sqlite3_column_int64(st, 0);
	}
	if (!existed) {
		cleanup_stmt sqlite3_stmt *st = NULL;
		if (db_prepare(s,
			       "INSERT INTO images(id, manifest_type, digest, created, created_nsec,"
			       " added, size, labels, parent) VALUES (?1,?4,?5,?6,?7,?8,?9,?10,?11)",
			       &st, err) < 0)
			goto fail;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (in->manifest) {
			sqlite3_bind_text(st, 4, in->manifest_type, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 5, mdigest, -1, SQLITE_STATIC);
		}
		sqlite3_bind_int64(st, 6, in->created);
		sqlite3_bind_int64(st, 7, in->created_nsec);
		sqlite3_bind_int64(st, 8, (int64_t)time(NULL));
		sqlite3_bind_int64(st, 9, (int64_t)size);
		if (in->labels_json)
			sqlite3_bind_text(st, 10, in->labels_json, -1, SQLITE_STATIC);
		if (in->parent)
			sqlite3_bind_text(st, 11, in->parent, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_error(s, err, "insert image");
			goto fail;
		}
		/* The documents live apart, so listing images never reads them. */
		cleanup_stmt sqlite3_stmt *d = NULL;
		if (db_prepare(s, "INSERT INTO image_data(id, config, manifest) VALUES (?,?,?)", &d, err) < 0)
			goto fail;
		sqlite3_bind_text(d, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(d, 2, in->config, (int)in->config_len, SQLITE_STATIC);
		if (in->manifest)
			sqlite3_bind_blob(d, 3, in->manifest, (int)in->manifest_len, SQLITE_STATIC);
		if (sqlite3_step(d) != SQLITE_DONE) {
			db_error(s, err, "insert image documents");
			goto fail;
		}
		for (size_t i = 0; in->layers && i < in->layers->len; i++) {
			cleanup_stmt sqlite3_stmt *l = NULL;
			if (db_prepare(s, "INSERT INTO image_layers(image_id, idx, layer_id) VALUES (?,?,?)", &l, err) <
			    0)
				goto fail;
			sqlite3_bind_text(l, 1, id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(l, 2, (int64_t)i);
			sqlite3_bind_text(l, 3, in->layers->v[i], -1, SQLITE_STATIC);
			if (sqlite3_step(l) != SQLITE_DONE) {
				db_error(s, err, "insert image layer");
				goto fail;
			}
		}
	}
	for (size_t i = 0; in->names && i < in->names->len; i++)
		if (set_name(s, id, in->names->v[i], err) < 0)
			goto fail;
	if (db_commit(s, err) < 0)
		return -1;
	if (ret_id)
		*ret_id = xstrdup(id);
	if (ret_existed)
		*ret_existed = existed;
	return 0;
fail:
	db_rollback(s);
	return -1;
}

int store_image_delete(struct store *s, const char *id, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_begin(s, err) < 0)
		return -1;
	if (db_prepare(s, "DELETE FROM images WHERE id = ?", &st, err) < 0) {
		db_rollback(s);
		return -1;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_error(s, err, "delete image");
		db_rollback(s);
		return -1;
	}
	if (sqlite3_changes(s->db) == 0) {
		db_rollback(s);
		return err_makex(err, ENOENT, "%s: image not known", id);
	}
	if (db_commit(s, err) < 0)
		return -1;
	crashpoint("image-deleted");
	return store_gc_layers(s, err);
}

int store_image_count(struct store *s, uint64_t *ret, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (s->empty) {
		*ret = 0;
		return 0;
	}
	if (db_prepare(s, "SELECT count(*) FROM images", &st, err) < 0)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW)
		return db_error(s, err, "count images");
	*ret = (uint64_t)sqlite3_column_int64(st, 0);
	return 0;
}
