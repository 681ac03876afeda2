/* Manifest lists in the database: see lists.h. */
#include "pkg/store/lists.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/store/store-internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

void store_list_free(struct store_list *l)
{
	if (!l)
		return;
	free(l->id);
	free(l->name);
	free(l->doc);
	for (size_t i = 0; i < l->ninst; i++) {
		free(l->inst[i].digest);
		free(l->inst[i].image_id);
		free(l->inst[i].source);
	}
	free(l->inst);
	free(l);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? xstrdup((const char *)t) : NULL;
}

static int list_by_id(struct store *s, const char *id, struct store_list **ret, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL, *in = NULL;
	struct store_list *l;
	size_t alloc = 0;
	int rc;

	if (db_prepare(s, "SELECT id, name, created, doc FROM manifest_lists WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return err_makex(err, ENOENT, "%s: image not known", id);
	if (rc != SQLITE_ROW)
		return db_error(s, err, "read manifest list");
	l = xzalloc(sizeof(*l));
	l->id = col_dup(st, 0);
	l->name = col_dup(st, 1);
	l->created = sqlite3_column_int64(st, 2);
	l->doc_len = (size_t)sqlite3_column_bytes(st, 3);
	l->doc = xmalloc(l->doc_len + 1);
	memcpy(l->doc, sqlite3_column_blob(st, 3), l->doc_len);
	l->doc[l->doc_len] = '\0';
	if (db_prepare(s,
		       "SELECT digest, image_id, source FROM manifest_list_instances WHERE list_id = ? ORDER BY digest",
		       &in, err) < 0) {
		store_list_free(l);
		return -1;
	}
	sqlite3_bind_text(in, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(in)) == SQLITE_ROW) {
		ALLOC_GROW(l->inst, l->ninst + 1, alloc);
		struct store_list_instance *i = &l->inst[l->ninst++];
		i->digest = col_dup(in, 0);
		i->image_id = col_dup(in, 1);
		i->source = col_dup(in, 2);
	}
	if (rc != SQLITE_DONE) {
		store_list_free(l);
		return db_error(s, err, "read manifest list instances");
	}
	*ret = l;
	return 0;
}

int store_list_get(struct store *s, const char *id_or_name, struct store_list **ret, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	cleanup_free char *id = NULL;
	const char *p = id_or_name;
	size_t len;
	int rc, matches = 0;

	if (s->empty)
		return err_makex(err, ENOENT, "%s: image not known", id_or_name);
	if (db_prepare(s, "SELECT id FROM manifest_lists WHERE name = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id_or_name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		id = col_dup(st, 0);
		return list_by_id(s, id, ret, err);
	}
	if (rc != SQLITE_DONE)
		return db_error(s, err, "look up manifest list");
	sqlite3_finalize(st);
	st = NULL;
	if (!strncmp(p, "sha256:", 7))
		p += 7;
	len = strlen(p);
	if (len < 3 || len > 64 || strspn(p, "0123456789abcdef") != len)
		return err_makex(err, ENOENT, "%s: image not known", id_or_name);
	if (db_prepare(s, "SELECT id FROM manifest_lists WHERE id >= ?1 AND id < ?1 || 'g' LIMIT 2", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, p, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!matches++)
			id = col_dup(st, 0);
	}
	if (rc != SQLITE_DONE)
		return db_error(s, err, "look up manifest list id");
	if (matches > 1)
		return err_makex(err, EINVAL, "%s: manifest list ID prefix is ambiguous", id_or_name);
	if (!matches)
		return err_makex(err, ENOENT, "%s: image not known", id_or_name);
	return list_by_id(s, id, ret, err);
}

int store_list_names(struct store *s, struct strv *names, struct strv *ids, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	int rc;
	if (s->empty)
		return 0;
	if (db_prepare(s, "SELECT name, id FROM manifest_lists ORDER BY name", &st, err) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		strv_push(names, (const char *)sqlite3_column_text(st, 0));
		if (ids)
			strv_push(ids, (const char *)sqlite3_column_text(st, 1));
	}
	if (rc != SQLITE_DONE)
		return db_error(s, err, "list manifest lists");
	return 0;
}

/* Inside the transaction: the name is free (no image, no other list has it). */
static int check_name_free(struct store *s, const struct store_list *l, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	int rc;
	if (db_prepare(s,
		       "SELECT image_id FROM names WHERE name = ?1 "
		       "UNION ALL SELECT id FROM manifest_lists WHERE name = ?1 LIMIT 1",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, l->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return err_makex(err, EEXIST,
				 "image name \"%s\" is already associated with image \"%s\": that name is "
				 "already in use",
				 l->name, (const char *)sqlite3_column_text(st, 0));
	if (rc != SQLITE_DONE)
		return db_error(s, err, "check manifest list name");
	return 0;
}

static int write_list(struct store *s, const struct store_list *l, bool create, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL, *del = NULL;
	if (create) {
		if (check_name_free(s, l, err) < 0)
			return -1;
		if (db_prepare(s, "INSERT INTO manifest_lists(id, name, created, doc) VALUES (?1, ?2, ?3, ?4)", &st,
			       err) < 0)
			return -1;
	} else if (db_prepare(s, "UPDATE manifest_lists SET doc = ?4 WHERE id = ?1", &st, err) < 0) {
		return -1;
	}
	sqlite3_bind_text(st, 1, l->id, -1, SQLITE_STATIC);
	if (create) {
		sqlite3_bind_text(st, 2, l->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, l->created);
	}
	sqlite3_bind_blob(st, 4, l->doc, (int)l->doc_len, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, err, "write manifest list");
	if (!create && sqlite3_changes(s->db) == 0)
		return err_makex(err, ENOENT, "manifest list %s: image not known", l->id);
	if (db_prepare(s, "DELETE FROM manifest_list_instances WHERE list_id = ?", &del, err) < 0)
		return -1;
	sqlite3_bind_text(del, 1, l->id, -1, SQLITE_STATIC);
	if (sqlite3_step(del) != SQLITE_DONE)
		return db_error(s, err, "write manifest list instances");
	for (size_t i = 0; i < l->ninst; i++) {
		const struct store_list_instance *in = &l->inst[i];
		cleanup_stmt sqlite3_stmt *ins = NULL;
		if (db_prepare(s,
			       "INSERT OR REPLACE INTO manifest_list_instances(list_id, digest, image_id, source) "
			       "VALUES (?, ?, ?, ?)",
			       &ins, err) < 0)
			return -1;
		sqlite3_bind_text(ins, 1, l->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, in->digest, -1, SQLITE_STATIC);
		if (in->image_id)
			sqlite3_bind_text(ins, 3, in->image_id, -1, SQLITE_STATIC);
		if (in->source)
			sqlite3_bind_text(ins, 4, in->source, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			if ((sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_CONSTRAINT)
				return err_makex(err, ENOENT, "%s: image not known", in->image_id);
			return db_error(s, err, "write manifest list instance");
		}
	}
	return 0;
}

int store_list_save(struct store *s, const struct store_list *l, bool create, struct skiff_err **err)
{
	if (s->empty)
		return err_makex(err, EROFS, "the store does not exist");
	if (db_begin(s, err) < 0)
		return -1;
	if (write_list(s, l, create, err) < 0) {
		db_rollback(s);
		return -1;
	}
	return db_commit(s, err);
}

int store_list_delete(struct store *s, const char *id, struct skiff_err **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (s->empty)
		return err_makex(err, ENOENT, "%s: image not known", id);
	/* the instance rows go with it (ON DELETE CASCADE): one statement, one transaction */
	if (db_prepare(s, "DELETE FROM manifest_lists WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, err, "delete manifest list");
	if (sqlite3_changes(s->db) == 0)
		return err_makex(err, ENOENT, "%s: image not known", id);
	return 0;
}
