/* Opening the store: directories, the database and its schema, crash recovery. */
#include "pkg/store/store-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/lock.h"
#include "vendor-free/xalloc.h"

#define SCHEMA_VERSION 5

static const char *const migrations[SCHEMA_VERSION] = {
	/* 1: images and layers */
	"CREATE TABLE layers ("
	"  id TEXT PRIMARY KEY,"
	"  parent TEXT,"
	"  diff_id TEXT NOT NULL,"
	"  compressed_digest TEXT,"
	"  compressed_size INTEGER NOT NULL DEFAULT 0,"
	"  size INTEGER NOT NULL DEFAULT 0,"
	"  state INTEGER NOT NULL,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE images ("
	"  id TEXT PRIMARY KEY,"
	"  manifest_type TEXT,"
	"  digest TEXT,"
	"  created INTEGER NOT NULL DEFAULT 0,"
	"  created_nsec INTEGER NOT NULL DEFAULT 0,"
	"  added INTEGER NOT NULL,"
	"  size INTEGER NOT NULL DEFAULT 0,"
	"  labels TEXT,"
	"  parent TEXT);"
	"CREATE TABLE image_data ("
	"  id TEXT PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,"
	"  config BLOB NOT NULL,"
	"  manifest BLOB);"
	"CREATE TABLE image_layers ("
	"  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
	"  idx INTEGER NOT NULL,"
	"  layer_id TEXT NOT NULL REFERENCES layers(id),"
	"  PRIMARY KEY (image_id, idx));"
	"CREATE INDEX image_layers_layer ON image_layers(layer_id);"
	"CREATE TABLE names ("
	"  name TEXT PRIMARY KEY,"
	"  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL);"
	"CREATE INDEX names_image ON names(image_id);"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
	/* 2: containers (state: 0 complete, 1 being created, 2 being removed) */
	"CREATE TABLE containers ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  image_id TEXT NOT NULL REFERENCES images(id),"
	"  created INTEGER NOT NULL,"
	"  state INTEGER NOT NULL,"
	"  config BLOB NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'created',"
	"  pid INTEGER NOT NULL DEFAULT 0,"
	"  monitor_pid INTEGER NOT NULL DEFAULT 0,"
	"  monitor_start INTEGER NOT NULL DEFAULT 0,"
	"  started_at INTEGER NOT NULL DEFAULT 0,"
	"  finished_at INTEGER NOT NULL DEFAULT 0,"
	"  exit_code INTEGER NOT NULL DEFAULT 0,"
	"  oom_killed INTEGER NOT NULL DEFAULT 0,"
	"  restart_count INTEGER NOT NULL DEFAULT 0,"
	"  mounted INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX containers_image ON containers(image_id);",
	/* 3: manifest lists (pkg/store/lists.c); an instance forgets its image when it goes */
	"CREATE TABLE manifest_lists ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL,"
	"  doc BLOB NOT NULL);"
	"CREATE TABLE manifest_list_instances ("
	"  list_id TEXT NOT NULL REFERENCES manifest_lists(id) ON DELETE CASCADE,"
	"  digest TEXT NOT NULL,"
	"  image_id TEXT REFERENCES images(id) ON DELETE SET NULL,"
	"  source TEXT,"
	"  PRIMARY KEY (list_id, digest));"
	"CREATE INDEX manifest_list_instances_image ON manifest_list_instances(image_id);",
	/* 4: volumes (pkg/store/volumes.c; state: 0 complete, 1 being created, 2 being removed)
	 * and which container uses which (a volume in use cannot go) */
	"CREATE TABLE volumes ("
	"  name TEXT PRIMARY KEY,"
	"  driver TEXT NOT NULL,"
	"  options TEXT,"
	"  labels TEXT,"
	"  created INTEGER NOT NULL,"
	"  anonymous INTEGER NOT NULL DEFAULT 0,"
	"  needs_copy INTEGER NOT NULL DEFAULT 1,"
	"  state INTEGER NOT NULL);"
	"CREATE TABLE container_volumes ("
	"  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
	"  volume TEXT NOT NULL REFERENCES volumes(name),"
	"  PRIMARY KEY (container_id, volume));"
	"CREATE INDEX container_volumes_volume ON container_volumes(volume);",
	/* 5: the build cache (pkg/store/buildcache.c): a step's key -> the image it made; an
	 * entry goes with its image */
	"CREATE TABLE build_cache ("
	"  key TEXT PRIMARY KEY,"
	"  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
	"  created INTEGER NOT NULL);"
	"CREATE INDEX build_cache_image ON build_cache(image_id);",
};

int db_error(struct store *s, struct skiff_err **err, const char *what)
{
	int code = sqlite3_extended_errcode(s->db);
	int status = EIO;
	if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
		status = EBUSY;
	else if ((code & 0xff) == SQLITE_READONLY || (code & 0xff) == SQLITE_PERM)
		status = EACCES;
	else if ((code & 0xff) == SQLITE_FULL)
		status = ENOSPC;
	return err_makex(err, status, "database: %s: %s", what, sqlite3_errmsg(s->db));
}

int db_exec(struct store *s, const char *sql, struct skiff_err **err)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(s, err, "exec");
	return 0;
}

int db_prepare(struct store *s, const char *sql, sqlite3_stmt **ret, struct skiff_err **err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, ret, NULL) != SQLITE_OK)
		return db_error(s, err, "prepare");
	return 0;
}

int db_strv(struct store *s, const char *sql, const char *param, struct strv *out, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	int rc;
	if (db_prepare(s, sql, &st, err) < 0)
		return -1;
	if (param)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		strv_push(out, (const char *)sqlite3_column_text(st, 0));
	if (rc != SQLITE_DONE)
		return db_error(s, err, "query");
	return 0;
}

int db_begin(struct store *s, struct skiff_err **err)
{
	return db_exec(s, "BEGIN IMMEDIATE", err);
}

int db_commit(struct store *s, struct skiff_err **err)
{
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_error(s, err, "commit");
		db_rollback(s);
		return -1;
	}
	return 0;
}

void db_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int schema_version(struct store *s, int *ret, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_prepare(s, "PRAGMA user_version", &st, err) < 0)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW)
		return db_error(s, err, "read schema version");
	*ret = sqlite3_column_int(st, 0);
	return 0;
}

static int migrate(struct store *s, struct skiff_err **err)
{
	int v;
	if (schema_version(s, &v, err) < 0)
		return -1;
	if (v == SCHEMA_VERSION)
		return 0;
	if (v > SCHEMA_VERSION)
		return err_makex(
			err, EPROTO,
			"store %s has schema version %d, newer than this skiff understands (%d): upgrade skiff",
			s->graphroot, v, SCHEMA_VERSION);
	if (db_begin(s, err) < 0)
		return -1;
	/* Re-read inside the write transaction: another process may have migrated. */
	if (schema_version(s, &v, err) < 0)
		goto fail;
	for (; v < SCHEMA_VERSION; v++) {
		char pragma[64];
		if (db_exec(s, migrations[v], err) < 0)
			goto fail;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if (db_exec(s, pragma, err) < 0)
			goto fail;
	}
	return db_commit(s, err);
fail:
	db_rollback(s);
	return err_wrap(err, "migrate store schema");
}

/* A store keeps the driver it was made with: layers of two drivers do not mix. */
static int check_driver(struct store *s, struct skiff_err **err)
{
	const char *have;
	for (int attempt = 0; attempt < 2; attempt++) {
		cleanup_stmt sqlite3_stmt *sel = NULL;
		if (db_prepare(s, "SELECT value FROM meta WHERE key = 'driver'", &sel, err) < 0)
			return -1;
		int rc = sqlite3_step(sel);
		if (rc == SQLITE_ROW) {
			have = (const char *)sqlite3_column_text(sel, 0);
			if (strcmp(have, s->driver) != 0)
				return err_makex(
					err, EINVAL,
					"database storage driver \"%s\" does not match the requested driver \"%s\": "
					"use --storage-driver %s, or `skiff system reset` to start over",
					have, s->driver, have);
			return 0;
		}
		if (rc != SQLITE_DONE)
			return db_error(s, err, "read storage driver");
		/* A new store: record ours (a concurrent first open may win; then compare). */
		cleanup_stmt sqlite3_stmt *ins = NULL;
		if (db_prepare(s, "INSERT OR IGNORE INTO meta(key, value) VALUES ('driver', ?)", &ins, err) < 0)
			return -1;
		sqlite3_bind_text(ins, 1, s->driver, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			return db_error(s, err, "record storage driver");
	}
	return 0;
}

bool store_layers_need_parent(const struct store *s)
{
	return strcmp(s->driver, "vfs") == 0;
}

static int open_dir(int dirfd, const char *name, bool create, int *ret, struct skiff_err **err)
{
	int fd;
	if (create && mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return err_make(err, errno, "mkdir %s", name);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_make(err, errno, "open %s", name);
	*ret = fd;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->db)
		sqlite3_close_v2(s->db);
	pthread_mutex_destroy(&s->layer_mu);
	for (int *fd = &s->rootfd; fd <= &s->locksfd; fd++)
		if (*fd >= 0)
			close(*fd);
	lock_close(&s->store_lock);
	free(s->graphroot);
	free(s->runroot);
	free(s->driver);
	free(s->mount_program);
	free(s);
}

int store_open(const struct store_opts *opts, struct store **ret, struct skiff_err **err)
{
	struct store *s = xzalloc(sizeof(*s));
	pthread_mutex_init(&s->layer_mu, NULL);
	struct stat st;
	char *dbpath = NULL;
	int rc;

	s->rootfd = s->layersfd = s->tmpfd = s->locksfd = -1;
	s->store_lock = (struct skiff_lock)SKIFF_LOCK_INIT;
	s->graphroot = xstrdup(opts->graphroot);
	s->runroot = xstrdup(opts->runroot ? opts->runroot : opts->graphroot);
	s->driver = xstrdup(opts->driver ? opts->driver : "overlay");
	s->userns = opts->userns;
	s->mount_program = opts->mount_program ? xstrdup(opts->mount_program) : NULL;

	if (opts->readonly_ok && stat(opts->graphroot, &st) < 0 && errno == ENOENT) {
		s->empty = true;
		*ret = s;
		return 0;
	}
	if (mkdir_p_at(AT_FDCWD, s->graphroot, 0700, err) < 0)
		goto fail;
	if (open_dir(AT_FDCWD, s->graphroot, false, &s->rootfd, err) < 0 ||
	    open_dir(s->rootfd, "layers", true, &s->layersfd, err) < 0 ||
	    open_dir(s->rootfd, "tmp", true, &s->tmpfd, err) < 0 ||
	    open_dir(s->rootfd, "locks", true, &s->locksfd, err) < 0)
		goto fail;

	/* Every process holds the store lock shared; one that finds nobody else
	 * takes it exclusively first and cleans up after killed commands. */
	if (lock_open(s->locksfd, "store", &s->store_lock, err) < 0)
		goto fail;
	bool exclusive = false;
	if (opts->recover) {
		rc = lock_take(&s->store_lock, LOCK_EXCL, false, err);
		if (rc == 0)
			exclusive = true;
		else if (err_status(*err) == EAGAIN)
			err_clear(err);
		else
			goto fail;
	}
	if (!exclusive && lock_take(&s->store_lock, LOCK_SHARED, true, err) < 0)
		goto fail;

	dbpath = xasprintf("%s/skiff.db", s->graphroot);
	if (sqlite3_open_v2(dbpath, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		err_makex(err, EIO, "open database %s: %s", dbpath, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 60000);
	sqlite3_extended_result_codes(s->db, 1);
	if (db_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", err) < 0)
		goto fail;
	if (migrate(s, err) < 0 || check_driver(s, err) < 0)
		goto fail;
	if (exclusive) {
		if (store_recover(s, err) < 0)
			goto fail;
		if (lock_take(&s->store_lock, LOCK_SHARED, true, err) < 0)
			goto fail;
	}
	free(dbpath);
	*ret = s;
	return 0;
fail:
	err_wrap(err, "open store %s", opts->graphroot);
	free(dbpath);
	store_close(s);
	return -1;
}

const char *store_graphroot(const struct store *s)
{
	return s->graphroot;
}

const char *store_driver(const struct store *s)
{
	return s->driver;
}

int store_graphroot_fd(const struct store *s)
{
	return s->rootfd;
}

bool store_userns(const struct store *s)
{
	return s->userns;
}

int store_list_dir(int dirfd, const char *what, struct strv *ret, struct skiff_err **err)
{
	cleanup_dir DIR *d = NULL;
	struct dirent *de;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_make(err, errno, "open %s", what);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return err_make(err, errno, "read %s", what);
	}
	errno = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strv_push(ret, de->d_name);
	if (errno)
		return err_make(err, errno, "read %s", what);
	return 0;
}

/* Remove the entries of dirfd that keep() (NULL: all) says are garbage. */
static int remove_entries(struct store *s, int dirfd, const char *what, bool (*keep)(struct store *, const char *),
			  struct skiff_err **err)
{
	struct strv names = STRV_INIT;
	int rc = store_list_dir(dirfd, what, &names, err);
	for (size_t i = 0; rc == 0 && i < names.len; i++) {
		if (keep && keep(s, names.v[i]))
			continue;
		if (rm_rf_at(dirfd, names.v[i], err) < 0)
			rc = err_wrap(err, "remove leftover %s/%s", what, names.v[i]);
	}
	strv_release(&names);
	return rc;
}

static bool layer_has_row(struct store *s, const char *id);
int store_remove_orphan_layer_dirs(struct store *s, struct skiff_err **err)
{
	return remove_entries(s, s->layersfd, "layers", layer_has_row, err);
}

static bool layer_has_row(struct store *s, const char *id)
{
	cleanup_stmt sqlite3_stmt *q = NULL;
	if (id[0] == '.' || db_prepare(s, "SELECT 1 FROM layers WHERE id = ?", &q, NULL) < 0)
		return true;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	return sqlite3_step(q) == SQLITE_ROW;
}

int store_recover(struct store *s, struct skiff_err **err)
{
	struct strv ids = STRV_INIT;
	int rc;

	/* 1. staging leftovers: nobody else is running, so all of tmp/ is garbage. */
	if (remove_entries(s, s->tmpfd, "tmp", NULL, err) < 0)
		return -1;
	/* 2. layers that never completed, or were being deleted. */
	if (db_strv(s, "SELECT id FROM layers WHERE state != 0", NULL, &ids, err) < 0) {
		strv_release(&ids);
		return err_wrap(err, "list incomplete layers");
	}
	rc = 0;
	for (size_t i = 0; rc == 0 && i < ids.len; i++)
		rc = store_layer_remove_content(s, ids.v[i], err);
	strv_release(&ids);
	if (rc < 0)
		return -1;
	/* 3. containers killed half-created or half-removed */
	if (store_recover_containers(s, err) < 0)
		return -1;
	/* 3b. volumes killed half-created or half-removed */
	if (store_recover_volumes(s, err) < 0)
		return -1;
	/* 4. complete layers no image references (killed before the image commit). Every
	 * layer directory gets its row before it is renamed into place, so directories
	 * without a row come only from outside meddling: `system check --repair`. */
	return store_gc_layers(s, err);
}
