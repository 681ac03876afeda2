/* pkg/build cache: step keys, lookups and records in the store, and committing a step. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkg/build/build-internal.h"
#include "pkg/digest/digest.h"
#include "pkg/engine/changes.h"
#include "pkg/image/image.h"
#include "pkg/json/json.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

void cache_key(const char *parent, const char *pending, const char *step, char out[65])
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	/* length-prefixed fields: no two different inputs give the same material */
	const char *parts[] = {"skiff-build-cache-v1", parent ? parent : "scratch", pending ? pending : "", step};
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		strbuf_addf(&sb, "%zu:%s\n", strlen(parts[i]), parts[i]);
	char d[DIGEST_STR_LEN + 1];
	digest_buf(sb.buf, sb.len, d);
	memcpy(out, digest_hex(d), 64);
	out[64] = '\0';
}

bool cache_lookup(struct builder *b, const char *key, char **ret_id)
{
	if (b->o->no_cache || b->o->no_layers)
		return false;
	char *id = NULL;
	struct skiff_err *e = NULL;
	if (store_build_cache_get(b->e->store, key, &id, &e) < 0) {
		err_free(e);
		return false;
	}
	if (!store_image_exists(b->e->store, id)) {
		free(id);
		return false;
	}
	*ret_id = id;
	return true;
}

void cache_record(struct builder *b, const char *key, const char *image_id)
{
	if (b->o->no_layers)
		return;
	struct skiff_err *e = NULL;
	if (store_build_cache_put(b->e->store, key, image_id, &e) < 0)
		stage_debug(b, "cache: not recorded: %s", e->msg);
	err_free(e);
}

int cache_tmpfile(struct builder *b, int *ret, struct skiff_err **err)
{
	return tmpfile_in_dir(b->o->tmpdir && *b->o->tmpdir ? b->o->tmpdir : "/var/tmp", ret, err);
}

static int tar_upper(void *ud, int dirfd, store_write_fn write, void *wud, struct skiff_err **err)
{
	(void)ud;
	return changes_tar_upper(dirfd, write, wud, err);
}

/* stage_commit, with the new layer from layer_fd, or container ctr's upper dir (moved,
 * not copied), or an existing layer (have_layer with have_diff_id), or none. */
static int commit(struct stage *st, int layer_fd, const char *ctr, const char *have_layer, const char *have_diff_id,
		  const struct spec_history *h, struct skiff_err **err)
{
	struct builder *b = st->b;
	struct store *s = b->e->store;
	struct spec_image_config *c = st->cfg;
	struct store_layer_hold *hold = store_hold_new(s);
	cleanup_strv struct strv layers = STRV_INIT, sizes = STRV_INIT, names = STRV_INIT;
	cleanup_free char *layer_id = NULL, *diff_id = NULL, *id = NULL;
	int rc = -1;

	if (st->image_id && image_hold_layers(s, hold, st->image_id, &layers, NULL, &sizes, err) < 0)
		goto out;
	if (layers.len != c->diff_ids.len) {
		err_makex(err, EINVAL, "image %s has %zu layers but its config lists %zu",
			  st->image_id ? st->image_id : "scratch", layers.len, c->diff_ids.len);
		goto out;
	}
	if (layer_fd >= 0 || ctr) {
		int fd = layer_fd;
		struct store_layer_src src = {.read = store_read_fd, .ud = &fd};
		const char *parent = layers.len ? layers.v[layers.len - 1] : NULL;
		if ((ctr ? store_layer_create_from_container(s, hold, parent, ctr, tar_upper, NULL, &layer_id, &diff_id,
							     err)
			 : store_layer_create_unknown(s, hold, parent, &src, &layer_id, &diff_id, err)) < 0) {
			err_wrap(err, "store the new layer");
			goto out;
		}
		struct store_layer_info info;
		if (store_layer_info(s, layer_id, &info, err) < 0)
			goto out;
		strv_push(&layers, layer_id);
		strv_pushf(&sizes, "%llu", (unsigned long long)info.size);
		store_layer_info_release(&info);
		if (spec_image_config_add_diff_id(c, diff_id, err) < 0)
			goto out;
	} else if (have_layer) {
		struct store_layer_info info;
		if (!store_layer_hold_existing(s, hold, have_layer)) {
			err_makex(err, ENOENT, "layer %s is missing", have_layer);
			goto out;
		}
		if (store_layer_info(s, have_layer, &info, err) < 0)
			goto out;
		strv_push(&layers, have_layer);
		strv_pushf(&sizes, "%llu", (unsigned long long)info.size);
		store_layer_info_release(&info);
		if (spec_image_config_add_diff_id(c, have_diff_id, err) < 0)
			goto out;
	}
	c->created = spec_time_now();
	for (size_t i = 0; i < st->nhist; i++) {
		st->hist[i].created = c->created;
		spec_image_config_add_history(c, &st->hist[i]);
	}
	if (h) {
		struct spec_history hh = *h;
		hh.created = c->created;
		spec_image_config_add_history(c, &hh);
	}
	if (image_store_built(s, c, b->o->format, &layers, &sizes, &names, st->image_id, &id, NULL, err) < 0)
		goto out;
	strv_push(&b->temp_images, id);
	free(st->image_id);
	st->image_id = TAKE_PTR(id);
	/* the history now lives in the config */
	for (size_t i = 0; i < st->nhist; i++)
		spec_history_release(&st->hist[i]);
	st->nhist = 0;
	strbuf_reset(&st->pending);
	rc = 0;
out:
	store_hold_release(hold);
	return rc;
}

int stage_commit(struct stage *st, int layer_fd, const struct spec_history *h, struct skiff_err **err)
{
	return commit(st, layer_fd, NULL, NULL, NULL, h, err);
}

int stage_commit_container(struct stage *st, const char *ctr_id, const struct spec_history *h, struct skiff_err **err)
{
	return commit(st, -1, ctr_id, NULL, NULL, h, err);
}

int stage_commit_layer(struct stage *st, const char *layer_id, const char *diff_id, const struct spec_history *h,
		       struct skiff_err **err)
{
	return commit(st, -1, NULL, layer_id, diff_id, h, err);
}
