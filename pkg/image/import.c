/* `import`: a root filesystem tarball becomes a one-layer image. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkg/digest/digest.h"
#include "pkg/image/image-internal.h"
#include "pkg/image/image.h"
#include "pkg/spec/image.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

int image_import(struct store *s, const struct image_import_opts *o, char **ret_id, struct skiff_err **err)
{
	cleanup_spec_image_config struct spec_image_config *c = spec_image_config_new();
	struct store_layer_hold *h = NULL;
	struct strv layers = STRV_INIT, sizes = STRV_INIT, names = STRV_INIT;
	cleanup_free char *layer_id = NULL;
	cleanup_free char *diff_id = NULL;
	cleanup_free char *name = NULL;
	int fd = -1, rc = -1;

	if (o->reference && image_normalize_name(o->reference, &name, err) < 0)
		return -1;
	for (size_t i = 0; o->changes && i < o->changes->len; i++)
		if (image_apply_change(c, o->changes->v[i], err) < 0)
			return -1;
	if (image_open_input(o->input, o->tmpdir, &fd, err) < 0)
		return err_wrap(err, "import");
	h = store_hold_new(s);
	struct store_layer_src src = {.read = store_read_fd, .ud = &fd};
	if (store_layer_create_unknown(s, h, NULL, &src, &layer_id, &diff_id, err) < 0)
		goto out;
	struct store_layer_info info;
	if (store_layer_info(s, layer_id, &info, err) < 0)
		goto out;
	strv_pushf(&sizes, "%llu", (unsigned long long)info.size);
	store_layer_info_release(&info);
	c->created = spec_time_now();
	if (spec_image_config_add_diff_id(c, diff_id, err) < 0)
		goto out;
	{
		cleanup_free char *by = xasprintf("/bin/sh -c #(nop) ADD file:%s in / ", digest_hex(diff_id));
		struct spec_history hist = {
			.created = c->created,
			.created_by = by,
			.comment = (char *)(o->message ? o->message : "imported from tarball"),
		};
		spec_image_config_add_history(c, &hist);
	}
	strv_push(&layers, layer_id);
	if (name)
		strv_push(&names, name);
	rc = image_store_built(s, c, SPEC_FORMAT_OCI, &layers, &sizes, &names, NULL, ret_id, NULL, err);
	if (rc == 0 && ret_id)
		image_event(s, "import", *ret_id, o->input && strcmp(o->input, "-") ? o->input : "stdin");
out:
	if (fd >= 0)
		close(fd);
	store_hold_release(h);
	strv_release(&layers);
	strv_release(&sizes);
	strv_release(&names);
	if (rc < 0)
		err_wrap(err, "import %s", o->input);
	return rc;
}
