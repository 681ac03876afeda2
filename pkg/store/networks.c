/* pkg/store: a container's config rewritten when its networks change (connect, disconnect). */
#include <errno.h>

#include "pkg/store/networks.h"
#include "pkg/store/store-internal.h"

int store_container_set_config(struct store *s, const char *id, const char *config, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_prepare(s, "UPDATE containers SET config = ? WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, config, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, err, "update container config");
	if (sqlite3_changes(s->db) == 0)
		return err_makex(err, ENOENT, "container %s is gone", id);
	return 0;
}
