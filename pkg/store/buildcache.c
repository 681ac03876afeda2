/* The build cache: which image a build step made, by the step's key (pkg/build). */
#include "pkg/store/store-internal.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

int store_build_cache_get(struct store *s, const char *key, char **ret_image_id, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (s->empty)
		return err_makex(err, ENOENT, "no build cache entry %s", key);
	if (db_prepare(s, "SELECT image_id FROM build_cache WHERE key = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return err_makex(err, ENOENT, "no build cache entry %s", key);
	if (rc != SQLITE_ROW)
		return db_error(s, err, "read the build cache");
	const char *id = (const char *)sqlite3_column_text(st, 0);
	if (!id)
		return err_makex(err, ENOENT, "no build cache entry %s", key);
	*ret_image_id = xstrdup(id);
	return 0;
}

int store_build_cache_put(struct store *s, const char *key, const char *image_id, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_begin(s, err) < 0)
		return -1;
	if (!store_image_exists(s, image_id)) {
		db_rollback(s);
		return err_makex(err, ENOENT, "%s: image not known", image_id);
	}
	if (db_prepare(s, "INSERT OR REPLACE INTO build_cache (key, image_id, created) VALUES (?, ?, ?)", &st, err) <
	    0) {
		db_rollback(s);
		return -1;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, image_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_error(s, err, "write the build cache");
		db_rollback(s);
		return -1;
	}
	return db_commit(s, err);
}
