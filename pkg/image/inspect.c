/* `image inspect` and `history`: what podman shows, built from the stored config. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/image/image.h"
#include "pkg/image/reference.h"
#include "pkg/spec/image.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

static struct json *time_json(const struct spec_time *t)
{
	struct strbuf sb = STRBUF_INIT;
	struct spec_time zero = {.set = true};
	if (spec_time_format(t->set ? t : &zero, &sb, NULL) < 0)
		strbuf_addstr(&sb, "0001-01-01T00:00:00Z");
	struct json *j = json_new_string(sb.buf);
	strbuf_release(&sb);
	return j;
}

static struct json *strv_json(const struct strv *sv)
{
	struct json *a = json_new_array();
	for (size_t i = 0; i < sv->len; i++)
		json_array_append(a, json_new_string(sv->v[i]));
	return a;
}

static int load_config(struct store *s, const struct store_image *img, struct spec_image_config **ret,
		       struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	size_t len;
	if (store_image_config(s, img->id, &buf, &len, err) < 0)
		return -1;
	return spec_image_config_parse(buf, len, ret, err);
}

int image_inspect_json(struct store *s, const struct store_image *img, struct json **ret, struct skiff_err **err)
{
	cleanup_spec_image_config struct spec_image_config *cfg = NULL;
	struct json *o, *gd, *data, *rootfs;
	const struct json *dom_cfg;

	if (load_config(s, img, &cfg, err) < 0)
		return err_wrap(err, "image %s", img->id);
	o = json_new_object();
	json_object_set_string(o, "Id", img->id);
	json_object_set_string(o, "Digest", img->digest ? img->digest : "");
	/* names made by a pull by digest ("repo@sha256:...") are no tags */
	struct json *tags = json_new_array();
	for (size_t i = 0; i < img->names.len; i++)
		if (!strchr(img->names.v[i], '@'))
			json_array_append(tags, json_new_string(img->names.v[i]));
	json_object_set(o, "RepoTags", tags);
	struct json *rd = json_new_array();
	for (size_t i = 0; img->digest && i < img->names.len; i++) {
		cleanup_ref struct image_ref *r = NULL;
		if (ref_parse(img->names.v[i], &r, NULL) < 0)
			continue;
		cleanup_free char *name = ref_name(r);
		cleanup_free char *d = xasprintf("%s@%s", name, img->digest);
		bool dup = false;
		for (size_t k = 0; k < json_array_len(rd); k++)
			dup |= !strcmp(json_string(json_array_get(rd, k)), d);
		if (!dup)
			json_array_append(rd, json_new_string(d));
	}
	json_object_set(o, "RepoDigests", rd);
	json_object_set_string(o, "Parent", img->parent ? img->parent : "");
	json_object_set_string(o, "Comment",
			       cfg->n_history && cfg->history[cfg->n_history - 1].comment
				       ? cfg->history[cfg->n_history - 1].comment
				       : "");
	json_object_set(o, "Created", time_json(&cfg->created));
	dom_cfg = json_object_get(cfg->dom, "config");
	json_object_set(o, "Config", dom_cfg && dom_cfg->type == JSON_OBJECT ? json_clone(dom_cfg) : json_new_object());
	const char *ver = json_object_get_string(cfg->dom, "docker_version");
	json_object_set_string(o, "Version", ver ? ver : "");
	json_object_set_string(o, "Author", cfg->author ? cfg->author : "");
	json_object_set_string(o, "Architecture", cfg->architecture ? cfg->architecture : "");
	json_object_set_string(o, "Os", cfg->os ? cfg->os : "");
	json_object_set_int(o, "Size", (int64_t)img->size);
	json_object_set_int(o, "VirtualSize", (int64_t)img->size);
	gd = json_new_object();
	json_object_set_string(gd, "Name", store_driver(s));
	data = json_new_object();
	if (img->layers.len && !store_layers_need_parent(s)) {
		struct strbuf lower = STRBUF_INIT;
		for (size_t i = img->layers.len - 1; i-- > 0;) {
			if (lower.len)
				strbuf_addch(&lower, ':');
			strbuf_addf(&lower, "%s/layers/%s/diff", store_graphroot(s), img->layers.v[i]);
		}
		if (lower.len)
			json_object_set_string(data, "LowerDir", lower.buf);
		strbuf_release(&lower);
	}
	if (img->layers.len) {
		cleanup_free char *upper =
			xasprintf("%s/layers/%s/diff", store_graphroot(s), img->layers.v[img->layers.len - 1]);
		json_object_set_string(data, "UpperDir", upper);
	}
	json_object_set(gd, "Data", data);
	json_object_set(o, "GraphDriver", gd);
	rootfs = json_new_object();
	json_object_set_string(rootfs, "Type", "layers");
	json_object_set(rootfs, "Layers", strv_json(&cfg->diff_ids));
	json_object_set(o, "RootFS", rootfs);
	if (cfg->config.labels.len) {
		struct json *l = json_new_object();
		for (size_t i = 0; i < cfg->config.labels.len; i++)
			json_object_set_string(l, cfg->config.labels.items[i].key, cfg->config.labels.items[i].value);
		json_object_set(o, "Labels", l);
	} else {
		json_object_set(o, "Labels", json_new_null());
	}
	json_object_set(o, "Annotations", json_new_object());
	json_object_set_string(o, "ManifestType", img->manifest_type ? img->manifest_type : "");
	json_object_set_string(o, "User", cfg->config.user ? cfg->config.user : "");
	struct json *hist = json_get_path(cfg->dom, "history", NULL);
	json_object_set(o, "History", hist && hist->type == JSON_ARRAY ? json_clone(hist) : json_new_array());
	json_object_set(o, "NamesHistory", strv_json(&img->names));
	*ret = o;
	return 0;
}

int image_history_json(struct store *s, const struct store_image *img, struct json **ret, struct skiff_err **err)
{
	cleanup_spec_image_config struct spec_image_config *cfg = NULL;
	struct json *rows;
	size_t layer = img->layers.len;

	if (load_config(s, img, &cfg, err) < 0)
		return err_wrap(err, "image %s", img->id);
	rows = json_new_array();
	/* Newest first; the top entry carries the image ID, older ones "<missing>". */
	for (size_t k = cfg->n_history; k-- > 0;) {
		const struct spec_history *h = &cfg->history[k];
		struct json *r = json_new_object();
		uint64_t size = 0;
		if (!h->empty_layer && layer > 0) {
			struct store_layer_info info;
			layer--;
			if (store_layer_info(s, img->layers.v[layer], &info, NULL) == 0) {
				size = info.size;
				store_layer_info_release(&info);
			}
		}
		json_object_set_string(r, "ID", k == cfg->n_history - 1 ? img->id : "<missing>");
		json_object_set_int(r, "Created", h->created.set ? h->created.sec : 0);
		json_object_set_string(r, "CreatedBy", h->created_by ? h->created_by : "");
		json_object_set_int(r, "Size", (int64_t)size);
		json_object_set_string(r, "Comment", h->comment ? h->comment : "");
		json_object_set(r, "Tags", k == cfg->n_history - 1 ? strv_json(&img->names) : json_new_null());
		json_array_append(rows, r);
	}
	if (cfg->n_history == 0) {
		struct json *r = json_new_object();
		json_object_set_string(r, "ID", img->id);
		json_object_set_int(r, "Created", cfg->created.set ? cfg->created.sec : 0);
		json_object_set_string(r, "CreatedBy", "");
		json_object_set_int(r, "Size", (int64_t)img->size);
		json_object_set_string(r, "Comment", "");
		json_object_set(r, "Tags", strv_json(&img->names));
		json_array_append(rows, r);
	}
	*ret = rows;
	return 0;
}
