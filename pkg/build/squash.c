/* pkg/build squash: --squash (the target stage's new layers as one) and --squash-all (the
 * whole image as one layer). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkg/build/build-internal.h"
#include "pkg/engine/changes.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

static int load_config(struct builder *b, const char *id, struct spec_image_config **ret, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (store_image_config(b->e->store, id, &buf, &len, err) < 0)
		return -1;
	cleanup_free char *digest = xasprintf("sha256:%s", id);
	if (spec_image_config_parse_known(buf, len, digest, ret, err) < 0)
		return err_wrap(err, "config of image %s", id);
	return 0;
}

/* A mounted build container of image id: its rootfs fd. */
static int mount_image(struct builder *b, const char *id, struct bctr *bc, int *ret_fd, struct skiff_err **err)
{
	struct ctr_config *cc = ctr_config_new();
	int rc = bctr_create(b, id, cc, bc, err);
	ctr_config_free(cc);
	if (rc == 0)
		rc = bctr_mount(b, bc, ret_fd, err);
	return rc;
}

/* The layer: the whole tree of image_id, or its difference from base_id's tree. */
static int squash_layer(struct builder *b, const char *image_id, const char *base_id, int lfd, struct skiff_err **err)
{
	struct bctr top = {0}, base = {0};
	cleanup_close int topfd = -1, basefd = -1;
	int rc = mount_image(b, image_id, &top, &topfd, err);
	if (rc == 0 && base_id)
		rc = mount_image(b, base_id, &base, &basefd, err);
	if (rc == 0 && !base_id) {
		rc = changes_tar_tree(topfd, write_fd_fn, &lfd, err);
	} else if (rc == 0) {
		struct change_list l = {0};
		rc = changes_trees(basefd, topfd, &l, err);
		if (rc == 0)
			rc = changes_tar_list(topfd, &l, write_fd_fn, &lfd, err);
		change_list_release(&l);
	}
	if (rc == 0 && lseek(lfd, 0, SEEK_SET) < 0)
		rc = err_make(err, errno, "rewind the layer");
	bctr_remove(b, &top, false);
	bctr_remove(b, &base, false);
	return rc;
}

int build_squash(struct builder *b, const char *image_id, const char *base_id, char **ret_id, struct skiff_err **err)
{
	struct spec_image_config *cfg = NULL, *bcfg = NULL;
	cleanup_close int lfd = -1;
	size_t keep_layers = 0, keep_hist = 0;
	int rc = -1;
	if (base_id && !strcmp(base_id, image_id)) { /* nothing new over the base */
		*ret_id = xstrdup(image_id);
		return 0;
	}
	if (load_config(b, image_id, &cfg, err) < 0)
		goto out;
	if (base_id) {
		if (load_config(b, base_id, &bcfg, err) < 0)
			goto out;
		keep_layers = bcfg->diff_ids.len;
		keep_hist = bcfg->n_history;
	}
	if (cache_tmpfile(b, &lfd, err) < 0 || squash_layer(b, image_id, base_id, lfd, err) < 0)
		goto out;
	/* the base's layers stay; the rest of the history says what was squashed, without layers */
	while (cfg->diff_ids.len > keep_layers)
		strv_remove(&cfg->diff_ids, cfg->diff_ids.len - 1);
	for (size_t i = keep_hist; i < cfg->n_history; i++)
		cfg->history[i].empty_layer = true;
	struct stage st = {.b = b, .cfg = cfg, .pending = STRBUF_INIT};
	st.image_id = base_id ? xstrdup(base_id) : NULL;
	struct spec_history h = {
		.created_by = (char *)(base_id ? "skiff build --squash" : "skiff build --squash-all"),
		.comment = (char *)"squashed",
	};
	rc = stage_commit(&st, lfd, &h, err);
	if (rc == 0)
		*ret_id = TAKE_PTR(st.image_id);
	free(st.image_id);
	strbuf_release(&st.pending);
	if (rc < 0)
		err_wrap(err, "squash");
out:
	if (cfg)
		spec_image_config_free(cfg);
	if (bcfg)
		spec_image_config_free(bcfg);
	return rc;
}
