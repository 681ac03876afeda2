/*
 * Containers in the store: one row each (SQLite) and graphroot/containers/ID holding the
 * writable layer (diff + work for overlay, a rootfs copy for vfs), the merged mount point
 * and userdata (the log). A row is marked incomplete (state 1) before its directory exists
 * and being-removed (state 2) before its directory goes, so recovery can finish either.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/store/store-internal.h"
#include "pkg/store/store.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

enum { CTR_COMPLETE = 0, CTR_CREATING = 1, CTR_REMOVING = 2 };

#define CTR_COLUMNS                                                                                                    \
	"id, name, image_id, created, config, status, pid, monitor_pid, monitor_start, started_at, finished_at, "      \
	"exit_code, oom_killed, restart_count, mounted"

void store_container_release(struct store_container *c)
{
	free(c->id);
	free(c->name);
	free(c->image_id);
	free(c->config);
	free(c->status);
	memset(c, 0, sizeof(*c));
}

void store_containers_free(struct store_container *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_container_release(&v[i]);
	free(v);
}

char *store_container_dir(struct store *s, const char *id)
{
	return xasprintf("%s/containers/%s", s->graphroot, id);
}

static char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return xstrdup(t ? (const char *)t : "");
}

static void row_to_container(sqlite3_stmt *st, struct store_container *c)
{
	c->id = col_text(st, 0);
	c->name = col_text(st, 1);
	c->image_id = col_text(st, 2);
	c->created = sqlite3_column_int64(st, 3);
	c->config = col_text(st, 4);
	c->status = col_text(st, 5);
	c->pid = sqlite3_column_int(st, 6);
	c->monitor_pid = sqlite3_column_int(st, 7);
	c->monitor_start = (uint64_t)sqlite3_column_int64(st, 8);
	c->started_at = sqlite3_column_int64(st, 9);
	c->finished_at = sqlite3_column_int64(st, 10);
	c->exit_code = sqlite3_column_int(st, 11);
	c->oom_killed = sqlite3_column_int(st, 12) != 0;
	c->restart_count = sqlite3_column_int(st, 13);
	c->mounted = sqlite3_column_int(st, 14) != 0;
}

static int containers_dirfd(struct store *s, int *ret, struct skiff_err **err)
{
	if (mkdirat(s->rootfd, "containers", 0700) < 0 && errno != EEXIST)
		return err_make(err, errno, "create %s/containers", s->graphroot);
	int fd = openat(s->rootfd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_make(err, errno, "open %s/containers", s->graphroot);
	*ret = fd;
	return 0;
}

static int set_row_state(struct store *s, const char *id, int state, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_prepare(s, "UPDATE containers SET state = ? WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int(st, 1, state);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, err, "update container");
	return 0;
}

/* The image's layers, top first (the overlay lowerdir order). */
static int image_layers_top_first(struct store *s, const char *image_id, struct strv *ret, struct skiff_err **err)
{
	return db_strv(s, "SELECT layer_id FROM image_layers WHERE image_id = ? ORDER BY idx DESC", image_id, ret, err);
}

static int make_content(struct store *s, const char *id, const char *image_id, struct skiff_err **err)
{
	cleanup_close int cfd = -1;
	if (containers_dirfd(s, &cfd, err) < 0)
		return -1;
	if (mkdirat(cfd, id, 0700) < 0 && errno != EEXIST)
		return err_make(err, errno, "create container directory %s", id);
	cleanup_close int dfd = openat(cfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return err_make(err, errno, "open container directory %s", id);
	static const char *const dirs[] = {"userdata", "merged"};
	for (size_t i = 0; i < 2; i++)
		if (mkdirat(dfd, dirs[i], 0700) < 0 && errno != EEXIST)
			return err_make(err, errno, "create %s/%s", id, dirs[i]);
	if (!strcmp(s->driver, "vfs")) {
		/* vfs layers are whole trees: the container gets a copy of the top one */
		struct strv layers = STRV_INIT;
		int rc = image_layers_top_first(s, image_id, &layers, err);
		if (rc == 0 && mkdirat(dfd, "rootfs", 0755) < 0 && errno != EEXIST)
			rc = err_make(err, errno, "create %s/rootfs", id);
		if (rc == 0 && layers.len) {
			cleanup_free char *src = xasprintf("%s/diff", layers.v[0]);
			cleanup_close int sfd =
				openat(s->layersfd, src, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			cleanup_close int tfd = openat(dfd, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			if (sfd < 0 || tfd < 0)
				rc = err_make(err, errno, "open layer %s", layers.v[0]);
			else
				rc = store_copy_tree(sfd, tfd, err);
		}
		strv_release(&layers);
		return rc;
	}
	static const char *const ov[] = {"diff", "work"};
	for (size_t i = 0; i < 2; i++)
		if (mkdirat(dfd, ov[i], i == 0 ? 0755 : 0700) < 0 && errno != EEXIST)
			return err_make(err, errno, "create %s/%s", id, ov[i]);
	return 0;
}

int store_container_create(struct store *s, const char *id, const char *name, const char *image_id, const char *config,
			   struct skiff_err **err)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (db_begin(s, err) < 0)
		return -1;
	{
		cleanup_stmt sqlite3_stmt *q = NULL;
		if (db_prepare(s, "SELECT id FROM containers WHERE name = ?", &q, err) < 0)
			goto fail;
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW) {
			err_makex(err, EEXIST,
				  "the container name \"%s\" is already in use by %s. You have to remove that "
				  "container to "
				  "be able to reuse that name: that name is already in use",
				  name, (const char *)sqlite3_column_text(q, 0));
			goto fail;
		}
	}
	{
		cleanup_stmt sqlite3_stmt *st = NULL;
		if (db_prepare(
			    s,
			    "INSERT INTO containers(id, name, image_id, created, state, config) VALUES (?,?,?,?,?,?)",
			    &st, err) < 0)
			goto fail;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, image_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
		sqlite3_bind_int(st, 5, CTR_CREATING);
		sqlite3_bind_blob(st, 6, config, (int)strlen(config), SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_error(s, err, "insert container");
			goto fail;
		}
	}
	if (db_commit(s, err) < 0)
		return -1;
	if (make_content(s, id, image_id, err) < 0 || set_row_state(s, id, CTR_COMPLETE, err) < 0) {
		struct skiff_err *e2 = NULL;
		store_container_delete(s, id, &e2);
		err_free(e2);
		return err_wrap(err, "create container %s", name);
	}
	return 0;
fail:
	db_rollback(s);
	return -1;
}

int store_container_get(struct store *s, const char *ref, struct store_container *ret, struct skiff_err **err)
{
	if (s->empty)
		return err_makex(err, ENOENT, "no container with name or ID \"%s\" found: no such container", ref);
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_prepare(s, "SELECT " CTR_COLUMNS " FROM containers WHERE state = 0 AND (id = ?1 OR name = ?1)", &st,
		       err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		row_to_container(st, ret);
		return 0;
	}
	/* a unique id prefix */
	size_t n = strlen(ref);
	bool hex = n > 0 && n < 64;
	for (size_t i = 0; i < n && hex; i++)
		hex = (ref[i] >= '0' && ref[i] <= '9') || (ref[i] >= 'a' && ref[i] <= 'f');
	if (hex) {
		cleanup_stmt sqlite3_stmt *p = NULL;
		cleanup_free char *pat = xasprintf("%s*", ref);
		if (db_prepare(s, "SELECT " CTR_COLUMNS " FROM containers WHERE state = 0 AND id GLOB ? LIMIT 2", &p,
			       err) < 0)
			return -1;
		sqlite3_bind_text(p, 1, pat, -1, SQLITE_STATIC);
		if (sqlite3_step(p) == SQLITE_ROW) {
			struct store_container c = {0};
			row_to_container(p, &c);
			if (sqlite3_step(p) == SQLITE_ROW) {
				store_container_release(&c);
				return err_makex(err, EINVAL, "more than one container matches the ID prefix \"%s\"",
						 ref);
			}
			*ret = c;
			return 0;
		}
	}
	return err_makex(err, ENOENT, "no container with name or ID \"%s\" found: no such container", ref);
}

int store_container_list(struct store *s, struct store_container **ret, size_t *ret_n, struct skiff_err **err)
{
	*ret = NULL;
	*ret_n = 0;
	if (s->empty)
		return 0;
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_prepare(s, "SELECT " CTR_COLUMNS " FROM containers WHERE state = 0 ORDER BY created DESC", &st, err) < 0)
		return -1;
	struct store_container *v = NULL;
	size_t n = 0, alloc = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(v, n + 1, alloc);
		memset(&v[n], 0, sizeof(v[n]));
		row_to_container(st, &v[n++]);
	}
	if (rc != SQLITE_DONE) {
		store_containers_free(v, n);
		return db_error(s, err, "list containers");
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int store_container_set_state(struct store *s, const struct store_container *c, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_prepare(s,
		       "UPDATE containers SET status = ?, pid = ?, monitor_pid = ?, monitor_start = ?, started_at = ?, "
		       "finished_at = ?, exit_code = ?, oom_killed = ?, restart_count = ?, mounted = ? WHERE id = ?",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, c->status ? c->status : "created", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, c->pid);
	sqlite3_bind_int(st, 3, c->monitor_pid);
	sqlite3_bind_int64(st, 4, (int64_t)c->monitor_start);
	sqlite3_bind_int64(st, 5, c->started_at);
	sqlite3_bind_int64(st, 6, c->finished_at);
	sqlite3_bind_int(st, 7, c->exit_code);
	sqlite3_bind_int(st, 8, c->oom_killed);
	sqlite3_bind_int(st, 9, c->restart_count);
	sqlite3_bind_int(st, 10, c->mounted);
	sqlite3_bind_text(st, 11, c->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, err, "update container state");
	if (sqlite3_changes(s->db) == 0)
		return err_makex(err, ENOENT, "container %s is gone", c->id);
	return 0;
}

int store_container_rename(struct store *s, const char *id, const char *name, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_prepare(s, "UPDATE containers SET name = ? WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return err_makex(err, EEXIST, "the container name \"%s\" is already in use", name);
	if (rc != SQLITE_DONE)
		return db_error(s, err, "rename container");
	return 0;
}

static int umount_merged(struct store *s, const char *id, struct skiff_err **err)
{
	if (!strcmp(s->driver, "vfs"))
		return 0;
	cleanup_free char *mp = xasprintf("%s/containers/%s/merged", s->graphroot, id);
	if (umount2(mp, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return err_make(err, errno, "unmount %s", mp);
	return 0;
}

static int remove_content(struct store *s, const char *id, struct skiff_err **err)
{
	if (umount_merged(s, id, err) < 0)
		return -1;
	cleanup_close int cfd = -1;
	if (containers_dirfd(s, &cfd, err) < 0)
		return -1;
	return rm_rf_at(cfd, id, err);
}

int store_container_delete(struct store *s, const char *id, struct skiff_err **err)
{
	if (set_row_state(s, id, CTR_REMOVING, err) < 0 || remove_content(s, id, err) < 0)
		return err_wrap(err, "remove container %s", id);
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (db_prepare(s, "DELETE FROM containers WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, err, "delete container");
	return 0;
}

int store_recover_containers(struct store *s, struct skiff_err **err)
{
	struct strv ids = STRV_INIT;
	if (db_strv(s, "SELECT id FROM containers WHERE state != 0", NULL, &ids, err) < 0) {
		strv_release(&ids);
		return err_wrap(err, "list incomplete containers");
	}
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < ids.len; i++)
		rc = store_container_delete(s, ids.v[i], err);
	strv_release(&ids);
	return rc;
}

int store_image_containers(struct store *s, const char *image_id, struct strv *ret, struct skiff_err **err)
{
	if (s->empty)
		return 0;
	return db_strv(s, "SELECT id FROM containers WHERE image_id = ? ORDER BY created", image_id, ret, err);
}

/* mount(2) overlay; paths relative to the graphroot keep the options short */
static int mount_native(struct store *s, const char *opts, const char *rel, struct skiff_err **err)
{
	cleanup_close int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || fchdir(s->rootfd) < 0)
		return err_make(err, errno, "chdir to the graphroot");
	int rc = mount("overlay", rel, "overlay", MS_NODEV, opts);
	int e = errno;
	if (fchdir(cwd) < 0) {
		/* the old cwd is gone: nothing relies on it */
	}
	return rc < 0 ? err_make(err, e, "overlay") : 0;
}

/* overlay.mount_program (fuse-overlayfs), run in the graphroot for the same short paths */
static int mount_with_program(struct store *s, const char *prog, const char *opts, const char *rel,
			      struct skiff_err **err)
{
	struct strbuf o = STRBUF_INIT;
	strbuf_addstr(&o, opts);
	/* fuse-overlayfs has no userxattr (it keeps its own xattrs): drop that one option,
	 * not what follows it (--userns=auto's uidmapping, rootless) */
	char *ux = strstr(o.buf, ",userxattr");
	if (ux && (ux[10] == ',' || ux[10] == '\0')) {
		size_t at = (size_t)(ux - o.buf);
		memmove(ux, ux + 10, o.len - at - 10 + 1);
		strbuf_setlen(&o, o.len - 10);
	}
	const char *argv[] = {prog, "-o", o.buf, rel, NULL};
	struct spawn_opts so = SPAWN_OPTS_INIT;
	so.cwd = s->graphroot;
	so.stdin_fd = SPAWN_DEVNULL;
	struct strbuf errout = STRBUF_INIT;
	int status = 0;
	int rc = run_capture(argv, &so, NULL, &errout, &status, err);
	if (rc == 0 && status != 0) {
		strbuf_rtrim(&errout);
		rc = err_makex(err, EIO, "%s: %s", prog, errout.len ? errout.buf : "failed");
	}
	strbuf_release(&errout);
	strbuf_release(&o);
	return rc;
}

int store_container_mount(struct store *s, const char *id, char **ret_path, struct skiff_err **err)
{
	return store_container_mount_mapped(s, id, NULL, ret_path, err);
}

int store_container_mount_mapped(struct store *s, const char *id, const struct store_idmap *map, char **ret_path,
				 struct skiff_err **err)
{
	cleanup_free char *dir = store_container_dir(s, id);
	if (!strcmp(s->driver, "vfs")) {
		if (map)
			return err_makex(err, ENOTSUP, "an id-mapped rootfs (--userns=auto) needs the overlay driver");
		*ret_path = xasprintf("%s/rootfs", dir);
		return 0;
	}
	cleanup_free char *merged = xasprintf("%s/merged", dir);
	struct stat a, b;
	if (stat(merged, &a) == 0 && stat(dir, &b) == 0 && a.st_dev != b.st_dev) {
		*ret_path = TAKE_PTR(merged); /* already mounted */
		return 0;
	}
	struct store_container c = {0};
	if (store_container_get(s, id, &c, err) < 0)
		return -1;
	struct strv layers = STRV_INIT;
	int rc = image_layers_top_first(s, c.image_id, &layers, err);
	store_container_release(&c);
	if (rc < 0) {
		strv_release(&layers);
		return -1;
	}
	/* Paths relative to the graphroot keep the option string short (a page at most). */
	struct strbuf opts = STRBUF_INIT;
	strbuf_addstr(&opts, "lowerdir=");
	for (size_t i = 0; i < layers.len; i++)
		strbuf_addf(&opts, "%slayers/%s/diff", i ? ":" : "", layers.v[i]);
	if (!layers.len) {
		/* an image without layers: overlay still wants a lower directory */
		cleanup_free char *empty = xasprintf("containers/%s/empty", id);
		if (mkdirat(s->rootfd, empty, 0700) < 0 && errno != EEXIST) {
			strv_release(&layers);
			strbuf_release(&opts);
			return err_make(err, errno, "create %s", empty);
		}
		strbuf_addf(&opts, "containers/%s/empty", id);
	}
	strbuf_addf(&opts, ",upperdir=containers/%s/diff,workdir=containers/%s/work", id, id);
	if (s->userns)
		strbuf_addstr(&opts, ",userxattr");
	strv_release(&layers);
	cleanup_free char *rel = xasprintf("containers/%s/merged", id);
	if (map) {
		/* fuse-overlayfs shows the files' ids shifted: on disk 0 is the container's root,
		 * which the container's user namespace maps to map->uid */
		strbuf_addf(&opts, ",uidmapping=0:%u:%u,gidmapping=0:%u:%u,allow_other", map->uid, map->size, map->gid,
			    map->size);
		rc = mount_with_program(s, s->mount_program ? s->mount_program : "fuse-overlayfs", opts.buf, rel, err);
	} else if (s->mount_program) {
		rc = mount_with_program(s, s->mount_program, opts.buf, rel, err);
	} else {
		rc = mount_native(s, opts.buf, rel, err);
		if (rc < 0 && (err_status(*err) == EPERM || err_status(*err) == EINVAL || err_status(*err) == ENODEV)) {
			/* no native overlay here (an old kernel in a user namespace): fuse-overlayfs */
			struct skiff_err *native = TAKE_PTR(*err);
			rc = mount_with_program(s, "fuse-overlayfs", opts.buf, rel, err);
			if (rc < 0) {
				err_clear(err);
				*err = native;
			} else {
				err_free(native);
			}
		}
	}
	if (rc < 0) {
		err_wrap(err, "mount the rootfs of container %s (%zu bytes of overlay options)", id, opts.len);
		strbuf_release(&opts);
		return -1;
	}
	strbuf_release(&opts);
	*ret_path = TAKE_PTR(merged);
	return 0;
}

int store_container_umount(struct store *s, const char *id, struct skiff_err **err)
{
	return umount_merged(s, id, err);
}

int store_check_containers(struct store *s, bool repair, const struct strv *bad_images, struct strv *problems,
			   unsigned *repaired, struct skiff_err **err)
{
	struct strv ids = STRV_INIT, images = STRV_INIT, remove = STRV_INIT, dirs = STRV_INIT;
	int rc = 0;
	cleanup_close int cfd = openat(s->rootfd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (db_strv(s, "SELECT id FROM containers WHERE state = 0 ORDER BY id", NULL, &ids, err) < 0 ||
	    db_strv(s, "SELECT image_id FROM containers WHERE state = 0 ORDER BY id", NULL, &images, err) < 0 ||
	    (cfd >= 0 && store_list_dir(cfd, "containers", &dirs, err) < 0)) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < ids.len; i++) {
		struct stat st;
		if (cfd < 0 || fstatat(cfd, ids.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
			strv_pushf(problems, "container %s: content missing", ids.v[i]);
			strv_push(&remove, ids.v[i]);
		} else if (i < images.len && strv_contains(bad_images, images.v[i])) {
			strv_pushf(problems, "container %s: image %s broken", ids.v[i], images.v[i]);
			strv_push(&remove, ids.v[i]);
		}
	}
	for (size_t i = 0; i < dirs.len; i++) {
		if (!strv_contains(&ids, dirs.v[i])) {
			cleanup_stmt sqlite3_stmt *q = NULL;
			bool has_row = false;
			if (db_prepare(s, "SELECT 1 FROM containers WHERE id = ?", &q, err) < 0) {
				rc = -1;
				goto out;
			}
			sqlite3_bind_text(q, 1, dirs.v[i], -1, SQLITE_STATIC);
			has_row = sqlite3_step(q) == SQLITE_ROW; /* being created or removed right now */
			if (!has_row)
				strv_pushf(problems, "container directory %s: no record", dirs.v[i]);
			if (!has_row && repair) {
				if (remove_content(s, dirs.v[i], err) < 0) {
					rc = -1;
					goto out;
				}
				(*repaired)++;
			}
		}
	}
	for (size_t i = 0; repair && i < remove.len; i++) {
		if (store_container_delete(s, remove.v[i], err) < 0) {
			rc = -1;
			goto out;
		}
		(*repaired)++;
	}
out:
	strv_release(&ids);
	strv_release(&images);
	strv_release(&remove);
	strv_release(&dirs);
	return rc;
}
