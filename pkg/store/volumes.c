/*
 * Volumes in the store: one row each (SQLite) and graphroot/volumes/NAME/_data. As with
 * containers, a row is marked being-created (state 1) before its directory exists and
 * being-removed (state 2) before its directory goes, so recovery can finish either.
 * container_volumes says which container uses which volume; it goes with the container's
 * row (ON DELETE CASCADE), and a volume that a container uses cannot be deleted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/store/store-internal.h"
#include "pkg/store/store.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

enum { VOL_COMPLETE = 0, VOL_CREATING = 1, VOL_REMOVING = 2 };

#define VOL_COLUMNS "name, driver, options, labels, created, anonymous, needs_copy"

void store_volume_release(struct store_volume *v)
{
	free(v->name);
	free(v->driver);
	free(v->options_json);
	free(v->labels_json);
	memset(v, 0, sizeof(*v));
}

void store_volumes_free(struct store_volume *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_volume_release(&v[i]);
	free(v);
}

char *store_volume_dir(struct store *s, const char *name)
{
	return xasprintf("%s/volumes/%s", s->graphroot, name);
}

char *store_volume_data(struct store *s, const char *name)
{
	return xasprintf("%s/volumes/%s/_data", s->graphroot, name);
}

static char *col_opt(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? xstrdup((const char *)t) : NULL;
}

static void row_to_volume(sqlite3_stmt *st, struct store_volume *v)
{
	v->name = col_opt(st, 0);
	v->driver = col_opt(st, 1);
	v->options_json = col_opt(st, 2);
	v->labels_json = col_opt(st, 3);
	v->created = sqlite3_column_int64(st, 4);
	v->anonymous = sqlite3_column_int(st, 5) != 0;
	v->needs_copy = sqlite3_column_int(st, 6) != 0;
}

/* A name becomes a directory: refuse anything that is not one plain component. The
 * engine checks podman's stricter rule; this is the store's own floor. */
static int check_name(const char *name, struct skiff_err **err)
{
	if (!name || !*name || strlen(name) > 255 || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..") ||
	    strchr(name, '\n'))
		return err_makex(err, EINVAL, "invalid volume name \"%.64s\"", name ? name : "");
	return 0;
}

static int volumes_dirfd(struct store *s, int *ret, struct skiff_err **err)
{
	if (mkdirat(s->rootfd, "volumes", 0700) < 0 && errno != EEXIST)
		return err_make(err, errno, "create %s/volumes", s->graphroot);
	int fd = openat(s->rootfd, "volumes", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_make(err, errno, "open %s/volumes", s->graphroot);
	*ret = fd;
	return 0;
}

static int set_state(struct store *s, const char *name, int state, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_prepare(s, "UPDATE volumes SET state = ? WHERE name = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int(st, 1, state);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, err, "update volume");
	return 0;
}

int store_volume_create(struct store *s, const struct store_volume *v, struct skiff_err **err)
{
	cleanup_close int vfd = -1;
	cleanup_close int nfd = -1;
	if (check_name(v->name, err) < 0)
		return -1;
	if (s->empty)
		return err_makex(err, EROFS, "store %s does not exist", s->graphroot);
	{
		cleanup_stmt sqlite3_stmt *st = NULL;
		if (db_prepare(s,
			       "INSERT INTO volumes(name, driver, options, labels, created, anonymous, needs_copy, "
			       "state) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
			       &st, err) < 0)
			return -1;
		sqlite3_bind_text(st, 1, v->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, v->driver ? v->driver : "local", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, v->options_json, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, v->labels_json, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, v->created);
		sqlite3_bind_int(st, 6, v->anonymous);
		sqlite3_bind_int(st, 7, v->needs_copy);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_CONSTRAINT || (sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_CONSTRAINT)
			return err_makex(err, EEXIST, "volume with name %s already exists: volume already exists",
					 v->name);
		if (rc != SQLITE_DONE)
			return db_error(s, err, "insert volume");
	}
	int rc = volumes_dirfd(s, &vfd, err);
	if (rc == 0 && mkdirat(vfd, v->name, 0700) < 0 && errno != EEXIST)
		rc = err_make(err, errno, "create volume directory %s", v->name);
	if (rc == 0 && (nfd = openat(vfd, v->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		rc = err_make(err, errno, "open volume directory %s", v->name);
	if (rc == 0 && mkdirat(nfd, "_data", 0755) < 0 && errno != EEXIST)
		rc = err_make(err, errno, "create %s/_data", v->name);
	/* the umask must not narrow what containers of other users see */
	if (rc == 0 && fchmodat(nfd, "_data", 0755, 0) < 0)
		rc = err_make(err, errno, "chmod %s/_data", v->name);
	if (rc == 0)
		rc = set_state(s, v->name, VOL_COMPLETE, err);
	if (rc < 0) {
		struct skiff_err *e2 = NULL;
		if (store_volume_delete(s, v->name, &e2) < 0)
			err_free(e2);
		return err_wrap(err, "create volume %s", v->name);
	}
	return 0;
}

int store_volume_get(struct store *s, const char *name, struct store_volume *ret, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (s->empty)
		return err_makex(err, ENOENT, "no volume with name \"%s\" found: no such volume", name);
	if (db_prepare(s, "SELECT " VOL_COLUMNS " FROM volumes WHERE name = ? AND state = 0", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return err_makex(err, ENOENT, "no volume with name \"%s\" found: no such volume", name);
	if (rc != SQLITE_ROW)
		return db_error(s, err, "read volume");
	row_to_volume(st, ret);
	return 0;
}

int store_volume_list(struct store *s, struct store_volume **ret, size_t *ret_n, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	struct store_volume *v = NULL;
	size_t n = 0, alloc = 0;
	int rc;
	if (s->empty) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (db_prepare(s, "SELECT " VOL_COLUMNS " FROM volumes WHERE state = 0 ORDER BY name", &st, err) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(v, n + 1, alloc);
		memset(&v[n], 0, sizeof(v[n]));
		row_to_volume(st, &v[n++]);
	}
	if (rc != SQLITE_DONE) {
		store_volumes_free(v, n);
		return db_error(s, err, "list volumes");
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int store_volume_users(struct store *s, const char *name, struct strv *ret, struct skiff_err **err)
{
	if (s->empty)
		return 0;
	return db_strv(s, "SELECT container_id FROM container_volumes WHERE volume = ? ORDER BY container_id", name,
		       ret, err);
}

int store_container_volumes(struct store *s, const char *ctr_id, bool anonymous_only, struct strv *ret,
			    struct skiff_err **err)
{
	if (s->empty)
		return 0;
	return db_strv(s,
		       anonymous_only ? "SELECT v.name FROM container_volumes c JOIN volumes v ON v.name = c.volume "
					"WHERE c.container_id = ? AND v.anonymous = 1 ORDER BY v.name"
				      : "SELECT volume FROM container_volumes WHERE container_id = ? ORDER BY volume",
		       ctr_id, ret, err);
}

int store_volume_attach(struct store *s, const char *ctr_id, const struct strv *names, struct skiff_err **err)
{
	if (!names->len)
		return 0;
	if (db_begin(s, err) < 0)
		return -1;
	for (size_t i = 0; i < names->len; i++) {
		cleanup_stmt sqlite3_stmt *q = NULL;
		if (db_prepare(s, "SELECT 1 FROM volumes WHERE name = ? AND state = 0", &q, err) < 0)
			goto fail;
		sqlite3_bind_text(q, 1, names->v[i], -1, SQLITE_STATIC);
		int rc = sqlite3_step(q);
		if (rc == SQLITE_DONE) {
			err_makex(err, ENOENT, "no volume with name \"%s\" found: no such volume", names->v[i]);
			goto fail;
		}
		if (rc != SQLITE_ROW) {
			db_error(s, err, "read volume");
			goto fail;
		}
		cleanup_stmt sqlite3_stmt *st = NULL;
		if (db_prepare(s, "INSERT OR IGNORE INTO container_volumes(container_id, volume) VALUES (?, ?)", &st,
			       err) < 0)
			goto fail;
		sqlite3_bind_text(st, 1, ctr_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, names->v[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_error(s, err, "record volume use");
			goto fail;
		}
	}
	return db_commit(s, err);
fail:
	db_rollback(s);
	return -1;
}

/* Something mounted on _data (a volume with mount options): unmount it first, so the
 * removal does not go into the device. */
static void umount_data(struct store *s, const char *name)
{
	cleanup_free char *data = store_volume_data(s, name);
	struct stat a, b;
	cleanup_free char *dir = store_volume_dir(s, name);
	if (stat(data, &a) == 0 && stat(dir, &b) == 0 && a.st_dev != b.st_dev)
		umount2(data, MNT_DETACH);
}

static int remove_content(struct store *s, const char *name, struct skiff_err **err)
{
	cleanup_close int vfd = -1;
	umount_data(s, name);
	vfd = openat(s->rootfd, "volumes", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (vfd < 0 && errno != ENOENT)
		return err_make(err, errno, "open %s/volumes", s->graphroot);
	if (vfd >= 0 && rm_rf_at(vfd, name, err) < 0)
		return err_wrap(err, "remove volume %s", name);
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_prepare(s, "DELETE FROM volumes WHERE name = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, err, "delete volume");
	return 0;
}

int store_volume_delete(struct store *s, const char *name, struct skiff_err **err)
{
	struct strv users = STRV_INIT;
	if (check_name(name, err) < 0)
		return -1;
	if (s->empty)
		return err_makex(err, ENOENT, "no volume with name \"%s\" found: no such volume", name);
	if (db_begin(s, err) < 0)
		return -1;
	{
		cleanup_stmt sqlite3_stmt *q = NULL;
		if (db_prepare(s, "SELECT 1 FROM volumes WHERE name = ?", &q, err) < 0)
			goto fail;
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
		int rc = sqlite3_step(q);
		if (rc == SQLITE_DONE) {
			err_makex(err, ENOENT, "no volume with name \"%s\" found: no such volume", name);
			goto fail;
		}
		if (rc != SQLITE_ROW) {
			db_error(s, err, "read volume");
			goto fail;
		}
	}
	if (store_volume_users(s, name, &users, err) < 0)
		goto fail;
	if (users.len) {
		struct strbuf sb = STRBUF_INIT;
		for (size_t i = 0; i < users.len; i++)
			strbuf_addf(&sb, "%s%s", i ? ", " : "", users.v[i]);
		err_makex(err, EBUSY, "volume %s is being used by the following container(s): %s: volume is being used",
			  name, sb.buf);
		strbuf_release(&sb);
		goto fail;
	}
	if (set_state(s, name, VOL_REMOVING, err) < 0 || db_commit(s, err) < 0)
		goto fail;
	strv_release(&users);
	return remove_content(s, name, err);
fail:
	db_rollback(s);
	strv_release(&users);
	return -1;
}

int store_volume_set_copied(struct store *s, const char *name, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_prepare(s, "UPDATE volumes SET needs_copy = 0 WHERE name = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, err, "update volume");
	return 0;
}

int store_recover_volumes(struct store *s, struct skiff_err **err)
{
	struct strv names = STRV_INIT;
	if (db_strv(s, "SELECT name FROM volumes WHERE state != 0", NULL, &names, err) < 0) {
		strv_release(&names);
		return err_wrap(err, "list incomplete volumes");
	}
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < names.len; i++)
		if (check_name(names.v[i], err) < 0 || remove_content(s, names.v[i], err) < 0)
			rc = -1;
	strv_release(&names);
	return rc;
}

int store_volume_copy_up(struct store *s, const char *name, int srcfd, struct skiff_err **err)
{
	if (check_name(name, err) < 0)
		return -1;
	cleanup_free char *data = store_volume_data(s, name);
	cleanup_close int dfd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return err_make(err, errno, "open %s", data);
	struct strv entries = STRV_INIT;
	int rc = store_list_dir(dfd, data, &entries, err);
	bool empty = entries.len == 0;
	strv_release(&entries);
	if (rc < 0)
		return -1;
	if (empty && store_copy_tree(srcfd, dfd, err) < 0)
		return err_wrap(err, "copy up into volume %s", name);
	return store_volume_set_copied(s, name, err);
}
