/* Internals shared by the pkg/store files. */
#ifndef SKIFF_STORE_INTERNAL_H
#define SKIFF_STORE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>

#include "pkg/store/store.h"
#include "vendor-free/lock.h"

enum { LAYER_COMPLETE = 0, LAYER_INCOMPLETE = 1, LAYER_DELETING = 2 };

struct store {
	char *graphroot, *runroot, *driver;
	int rootfd;		      /* graphroot */
	int layersfd;		      /* graphroot/layers */
	int tmpfd;		      /* graphroot/tmp */
	int locksfd;		      /* graphroot/locks */
	struct skiff_lock store_lock; /* locks/store, held shared while open */
	bool userns;
	char *mount_program; /* overlay.mount_program, or NULL */
	bool empty;	     /* read-only open of a store that does not exist yet */
	sqlite3 *db;
	/* store_layer_ensure() may run on several threads at once (pull): the connection
	 * is opened NOMUTEX, so its database steps take this. */
	pthread_mutex_t layer_mu;
};

/* Run sql (no results) ; EIO error naming what failed. */
int db_exec(struct store *s, const char *sql, struct skiff_err **err);
int db_prepare(struct store *s, const char *sql, sqlite3_stmt **ret, struct skiff_err **err);
int db_error(struct store *s, struct skiff_err **err, const char *what);
/* Run a query (with one optional text parameter) and append column 0 of every row. */
int db_strv(struct store *s, const char *sql, const char *param, struct strv *out, struct skiff_err **err);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int db_begin(struct store *s, struct skiff_err **err);
int db_commit(struct store *s, struct skiff_err **err);
void db_rollback(struct store *s);
static inline void stmt_finalizep(sqlite3_stmt **st)
{
	if (*st)
		sqlite3_finalize(*st);
}
#define cleanup_stmt __attribute__((cleanup(stmt_finalizep)))

/* system check: containers without their content, on a broken image, and directories
 * without a record (removed when repair; the containers before their images). */
int store_check_containers(struct store *s, bool repair, const struct strv *bad_images, struct strv *problems,
			   unsigned *repaired, struct skiff_err **err);
/* Remove containers whose create or delete was interrupted. */
int store_recover_containers(struct store *s, struct skiff_err **err);

/* Remove volumes whose create or delete was interrupted. */
int store_recover_volumes(struct store *s, struct skiff_err **err);

/* Layers GC: delete complete layers that no image references and nobody holds. */
int store_gc_layers(struct store *s, struct skiff_err **err);
/* Remove leftovers of killed commands (called with the store lock held exclusively). */
int store_recover(struct store *s, struct skiff_err **err);
/* The names in a directory (without . and ..), appended to ret. */
int store_list_dir(int dirfd, const char *what, struct strv *ret, struct skiff_err **err);
/* Remove layer directories that no row describes. */
int store_remove_orphan_layer_dirs(struct store *s, struct skiff_err **err);
/* Copy a tree exactly (vfs layers start as a copy of their parent). */
int store_copy_tree(int srcfd, int dstfd, struct skiff_err **err);
/* Remove a layer directory and its row (caller holds the layer lock exclusively). */
int store_layer_remove_content(struct store *s, const char *id, struct skiff_err **err);

/* A layer being made under tmp/ (layers.c). */
struct staging {
	char name[128];
	int fd;	     /* staging dir */
	int difffd;  /* staging/diff */
	int splitfd; /* staging/tar-split.gz */
};
struct archive_apply_result;
/* tmp/layer-HINT-...: with an empty diff/ and a new tar-split.gz (fds set to -1 first). */
int staging_new(struct store *s, const char *hint, struct staging *st, struct skiff_err **err);
void staging_close(struct staging *st);
/* Close, and remove the directory unless it was moved into place. */
void staging_discard(struct store *s, struct staging *st);
/* Make the complete staging stg (res: its tar's diff id and sizes) layer
 * chain(parent, diff id), held in h: row (incomplete), rename, complete; an existing
 * complete layer with that id is kept and stg discarded. stg is consumed either way. */
int staging_install(struct store *s, struct store_layer_hold *h, const char *parent, struct staging *stg,
		    const struct archive_apply_result *res, char **ret_id, char **ret_diff_id, struct skiff_err **err);

#endif
