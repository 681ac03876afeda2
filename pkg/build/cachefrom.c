/*
 * pkg/build --cache-from: reusing the layers of images built elsewhere (docker's classic
 * builder and podman do the same). The images named are looked up in the store and pulled
 * when missing (a warning, never an error, when that fails). When a step that makes a
 * layer misses the local cache, an image matches if its history begins with this build's
 * history so far plus the step's entry (created_by and empty_layer of each) and its layers
 * begin with this build's layers: its next layer is the step's result. created_by carries
 * what the step's cache key does (build args, COPY sources' digest and flags, RUN mounts,
 * expanded metadata), so equal histories over equal layers mean the same step.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/build/build-internal.h"
#include "pkg/image/image.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

struct cf_image {
	char *name;
	char *id;
	struct spec_image_config *cfg;
	struct strv layers; /* layer ids, as cfg->diff_ids */
	size_t unaccounted; /* layers without a history entry (at the bottom) */
};

struct cachefrom {
	struct cf_image *v;
	size_t n;
};

static void cf_warn(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cf_warn(struct builder *b, const char *fmt, ...)
{
	if (!b->o->warn)
		return;
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	b->o->warn(b->o->log_ud, sb.buf);
	strbuf_release(&sb);
}

/* The image named, from the store or pulled. */
static int cf_resolve(struct builder *b, const char *name, char **ret_id, struct skiff_err **err)
{
	struct store_image *img = NULL;
	struct skiff_err *e = NULL;
	if (image_lookup(b->e->store, name, &img, &e) == 0) {
		*ret_id = xstrdup(img->id);
		store_image_free(img);
		return 0;
	}
	if (err_status(e) != ENOENT || b->o->pull == BUILD_PULL_NEVER || !b->o->pull_image) {
		*err = e;
		return -1;
	}
	err_free(e);
	return b->o->pull_image(b->o->pull_ud, name, ret_id, err);
}

static int cf_load_one(struct builder *b, const char *name, struct cf_image *ret, struct skiff_err **err)
{
	cleanup_free char *id = NULL, *buf = NULL;
	size_t len = 0;
	struct store_image *img = NULL;
	if (cf_resolve(b, name, &id, err) < 0)
		return -1;
	if (store_image_config(b->e->store, id, &buf, &len, err) < 0)
		return -1;
	cleanup_free char *digest = xasprintf("sha256:%s", id);
	struct spec_image_config *c = NULL;
	if (spec_image_config_parse_known(buf, len, digest, &c, err) < 0)
		return err_wrap(err, "config of image %s", id);
	if (store_image_get(b->e->store, id, &img, err) < 0) {
		spec_image_config_free(c);
		return -1;
	}
	size_t hl = spec_image_config_layer_history(c);
	if (img->layers.len != c->diff_ids.len || hl > c->diff_ids.len) {
		err_makex(err, EINVAL, "image %s has %zu layers, %zu diff ids and %zu layer history entries", id,
			  img->layers.len, c->diff_ids.len, hl);
		store_image_free(img);
		spec_image_config_free(c);
		return -1;
	}
	ret->name = xstrdup(name);
	ret->id = TAKE_PTR(id);
	ret->cfg = c;
	ret->layers = img->layers;
	img->layers = (struct strv)STRV_INIT;
	ret->unaccounted = c->diff_ids.len - hl;
	store_image_free(img);
	return 0;
}

/* The images of --cache-from (repeatable, each a comma list), once. */
static struct cachefrom *cf_load(struct builder *b)
{
	if (b->cf)
		return b->cf;
	struct cachefrom *cf = xzalloc(sizeof(*cf));
	const struct strv *names = b->o->cache_from;
	cleanup_strv struct strv all = STRV_INIT;
	for (size_t i = 0; names && i < names->len; i++) {
		cleanup_strv struct strv parts = STRV_INIT;
		strv_split(&parts, names->v[i], ',');
		for (size_t k = 0; k < parts.len; k++) {
			char *p = parts.v[k];
			while (*p == ' ' || *p == '\t')
				p++;
			size_t l = strlen(p);
			while (l && (p[l - 1] == ' ' || p[l - 1] == '\t'))
				p[--l] = '\0';
			if (*p && !strv_contains(&all, p))
				strv_push(&all, p);
		}
	}
	cf->v = all.len ? xcalloc(all.len, sizeof(*cf->v)) : NULL;
	for (size_t i = 0; i < all.len; i++) {
		struct skiff_err *e = NULL;
		if (cf_load_one(b, all.v[i], &cf->v[cf->n], &e) < 0) {
			cf_warn(b, "--cache-from %s: not used: %s", all.v[i], e->msg);
			err_free(e);
			continue;
		}
		stage_debug(b, "cache-from: %s is image %.12s (%zu layers)", all.v[i], cf->v[cf->n].id,
			    cf->v[cf->n].layers.len);
		cf->n++;
	}
	b->cf = cf;
	return cf;
}

void cachefrom_free(struct cachefrom *cf)
{
	if (!cf)
		return;
	for (size_t i = 0; i < cf->n; i++) {
		free(cf->v[i].name);
		free(cf->v[i].id);
		spec_image_config_free(cf->v[i].cfg);
		strv_release(&cf->v[i].layers);
	}
	free(cf->v);
	free(cf);
}

static bool same_str(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* Entry i of the history this build would have after the step: the committed config's,
 * then the pending ones, then h. */
static const struct spec_history *want_at(const struct stage *st, const struct spec_history *h, size_t i)
{
	if (i < st->cfg->n_history)
		return &st->cfg->history[i];
	i -= st->cfg->n_history;
	if (i < st->nhist)
		return &st->hist[i];
	return h;
}

/* Does image c continue st with h? Then its layer at index st's layer count is the step's. */
static bool cf_matches(const struct stage *st, const struct spec_history *h, const struct cf_image *c)
{
	const struct spec_image_config *mine = st->cfg;
	size_t m = mine->n_history + st->nhist + 1;
	size_t p = mine->diff_ids.len;
	if (c->cfg->n_history < m || c->cfg->diff_ids.len <= p)
		return false;
	size_t nonempty = 0;
	for (size_t i = 0; i < m; i++) {
		const struct spec_history *w = want_at(st, h, i), *got = &c->cfg->history[i];
		if (w->empty_layer != got->empty_layer || !same_str(w->created_by, got->created_by))
			return false;
		if (!w->empty_layer)
			nonempty++;
	}
	/* the same layers below, and the step's layer where this build puts it */
	if (c->unaccounted + nonempty != p + 1)
		return false;
	for (size_t i = 0; i < p; i++)
		if (strcmp(mine->diff_ids.v[i], c->cfg->diff_ids.v[i]))
			return false;
	return true;
}

bool cachefrom_lookup(struct stage *st, const struct spec_history *h, struct skiff_err **err)
{
	struct builder *b = st->b;
	if (b->o->no_cache || b->o->no_layers || !b->o->cache_from || !b->o->cache_from->len || h->empty_layer)
		return false;
	struct cachefrom *cf = cf_load(b);
	size_t p = st->cfg->diff_ids.len;
	for (size_t i = 0; i < cf->n; i++) {
		const struct cf_image *c = &cf->v[i];
		if (!cf_matches(st, h, c))
			continue;
		const char *layer = c->layers.v[p];
		if (!store_layer_complete(b->e->store, layer)) {
			stage_debug(b, "cache-from: layer %.12s of %s is missing", layer, c->name);
			continue;
		}
		/* layer ids are chain ids: this one sits on st's top layer */
		cleanup_free char *diff_id = xstrdup(c->cfg->diff_ids.v[p]);
		if (stage_commit_layer(st, layer, diff_id, h, err) < 0) {
			err_wrap(err, "reuse layer %.12s of --cache-from %s", layer, c->name);
			return false;
		}
		stage_debug(b, "cache-from: step matches layer %zu of %s", p + 1, c->name);
		return true;
	}
	stage_debug(b, "cache-from: no image continues this build with \"%s\"", h->created_by);
	return false;
}
