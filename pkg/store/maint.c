/* Store maintenance: check/repair, disk usage, reset. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <unistd.h>

#include "pkg/store/store-internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

static bool layer_content_ok(struct store *s, const char *id)
{
	struct stat st;
	cleanup_free char *diff = xasprintf("%s/diff", id);
	cleanup_free char *split = xasprintf("%s/tar-split.gz", id);
	return fstatat(s->layersfd, diff, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
	       fstatat(s->layersfd, split, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int store_check(struct store *s, bool repair, struct store_check_report *ret, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	struct strv bad_images = STRV_INIT, bad_layers = STRV_INIT;
	int rc;

	if (s->empty)
		return 0;
	/* Layers whose content is missing, or that never completed. */
	if (db_prepare(s, "SELECT id, state FROM layers", &st, err) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		int state = sqlite3_column_int(st, 1);
		if (state != LAYER_COMPLETE) {
			strv_pushf(&ret->problems, "layer %s: incomplete", id);
			strv_push(&bad_layers, id);
		} else if (!layer_content_ok(s, id)) {
			strv_pushf(&ret->problems, "layer %s: content missing", id);
			strv_push(&bad_layers, id);
		}
	}
	if (rc != SQLITE_DONE) {
		rc = db_error(s, err, "check layers");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* Images whose layers are missing or broken. */
	if (db_prepare(s,
		       "SELECT DISTINCT il.image_id, il.layer_id FROM image_layers il LEFT JOIN layers l ON l.id = "
		       "il.layer_id"
		       " WHERE l.id IS NULL OR l.state != 0",
		       &st, err) < 0) {
		rc = -1;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *img = (const char *)sqlite3_column_text(st, 0);
		if (!strv_contains(&bad_images, img)) {
			strv_pushf(&ret->problems, "image %s: layer %s missing", img,
				   (const char *)sqlite3_column_text(st, 1));
			strv_push(&bad_images, img);
		}
	}
	if (rc != SQLITE_DONE) {
		rc = db_error(s, err, "check images");
		goto out;
	}
	for (size_t i = 0; i < bad_layers.len; i++) {
		cleanup_stmt sqlite3_stmt *q = NULL;
		if (db_prepare(s, "SELECT image_id FROM image_layers WHERE layer_id = ?", &q, err) < 0) {
			rc = -1;
			goto out;
		}
		sqlite3_bind_text(q, 1, bad_layers.v[i], -1, SQLITE_STATIC);
		while (sqlite3_step(q) == SQLITE_ROW) {
			const char *img = (const char *)sqlite3_column_text(q, 0);
			if (!strv_contains(&bad_images, img)) {
				strv_pushf(&ret->problems, "image %s: layer %s broken", img, bad_layers.v[i]);
				strv_push(&bad_images, img);
			}
		}
	}
	rc = store_check_containers(s, repair, &bad_images, &ret->problems, &ret->repaired, err);
	if (rc < 0)
		goto out;
	if (repair) {
		for (size_t i = 0; i < bad_images.len && rc == 0; i++) {
			cleanup_stmt sqlite3_stmt *d = NULL;
			if (db_prepare(s, "DELETE FROM images WHERE id = ?", &d, err) < 0) {
				rc = -1;
				break;
			}
			sqlite3_bind_text(d, 1, bad_images.v[i], -1, SQLITE_STATIC);
			if (sqlite3_step(d) != SQLITE_DONE)
				rc = db_error(s, err, "remove broken image");
			else
				ret->repaired++;
		}
		for (size_t i = 0; i < bad_layers.len && rc == 0; i++) {
			rc = store_layer_remove_content(s, bad_layers.v[i], err);
			if (rc == 0)
				ret->repaired++;
		}
		if (rc == 0)
			rc = store_gc_layers(s, err);
		if (rc == 0)
			rc = store_remove_orphan_layer_dirs(s, err);
	}
out:
	strv_release(&bad_images);
	strv_release(&bad_layers);
	return rc;
}

int store_usage(struct store *s, struct store_usage *ret, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	memset(ret, 0, sizeof(*ret));
	if (s->empty)
		return 0;
	if (db_prepare(s,
		       "SELECT (SELECT count(*) FROM images), (SELECT count(*) FROM layers),"
		       " (SELECT coalesce(sum(size), 0) FROM layers WHERE state = 0)",
		       &st, err) < 0)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW)
		return db_error(s, err, "disk usage");
	ret->images = (uint64_t)sqlite3_column_int64(st, 0);
	ret->layers = (uint64_t)sqlite3_column_int64(st, 1);
	ret->images_size = (uint64_t)sqlite3_column_int64(st, 2);
	ret->layers_disk = ret->images_size;
	return 0;
}

static int wipe_dir(const char *path, struct skiff_err **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	struct strv names = STRV_INIT;
	int rc;
	if (fd < 0)
		return errno == ENOENT ? 0 : err_make(err, errno, "open %s", path);
	rc = store_list_dir(fd, path, &names, err);
	for (size_t i = 0; rc == 0 && i < names.len; i++)
		if (rm_rf_at(fd, names.v[i], err) < 0)
			rc = err_wrap(err, "remove %s/%s", path, names.v[i]);
	strv_release(&names);
	return rc;
}

/* Container rootfs mounts left behind (a container whose record is gone): detach them
 * so the wipe, which never crosses a mount, can remove the directories. */
static void detach_container_mounts(const char *graphroot)
{
	cleanup_free char *dir = xasprintf("%s/containers", graphroot);
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	struct strv names = STRV_INIT;
	struct skiff_err *e = NULL;
	if (fd < 0 || store_list_dir(fd, dir, &names, &e) < 0) {
		err_free(e);
		strv_release(&names);
		return;
	}
	for (size_t i = 0; i < names.len; i++) {
		cleanup_free char *mp = xasprintf("%s/%s/merged", dir, names.v[i]);
		while (umount2(mp, MNT_DETACH) == 0) {
			/* stacked mounts: until none is left */
		}
	}
	strv_release(&names);
}

int store_reset(const char *graphroot, const char *runroot, struct skiff_err **err)
{
	detach_container_mounts(graphroot);
	if (wipe_dir(graphroot, err) < 0)
		return -1;
	if (runroot && strcmp(runroot, graphroot) && wipe_dir(runroot, err) < 0)
		return -1;
	return 0;
}
