/* Image configs (OCI image config, Docker container image v1): parse, build, generate,
 * and the layer-count check against a manifest. */
#include "pkg/spec/image.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "pkg/spec/image_internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

static const char *const top_keys[] = {
	"created",     "author",  "architecture", "os",	    "os.version",
	"os.features", "variant", "config",	  "rootfs", "history",
};

static const char *const config_keys[] = {
	"User",	  "ExposedPorts", "Env",	 "Entrypoint",	"Cmd",	   "Volumes", "WorkingDir",
	"Labels", "StopSignal",	  "ArgsEscaped", "Healthcheck", "OnBuild", "Shell",
};

static bool is_known(const char *key, const char *const *known, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, known[i]) == 0)
			return true;
	return false;
}

/* Append extra's keys (those not known) to obj. */
static void add_extra(struct json *obj, const struct json *extra, const char *const *known, size_t n)
{
	if (!json_is(extra, JSON_OBJECT))
		return;
	for (size_t i = 0; i < extra->u.obj.len; i++)
		if (!is_known(extra->u.obj.keys[i], known, n))
			json_object_set(obj, extra->u.obj.keys[i], json_clone(extra->u.obj.vals[i]));
}

/* ---- free ---- */

static void healthcheck_free(struct spec_healthcheck *hc)
{
	if (!hc)
		return;
	strv_release(&hc->test);
	free(hc);
}

void spec_history_release(struct spec_history *h)
{
	free(h->created_by);
	free(h->author);
	free(h->comment);
	memset(h, 0, sizeof(*h));
}

static void container_config_release(struct spec_container_config *cc)
{
	free(cc->user);
	strv_release(&cc->exposed_ports);
	strv_release(&cc->env);
	strv_release(&cc->entrypoint);
	strv_release(&cc->cmd);
	strv_release(&cc->volumes);
	free(cc->working_dir);
	spec_map_release(&cc->labels);
	free(cc->stop_signal);
	healthcheck_free(cc->healthcheck);
	strv_release(&cc->on_build);
	strv_release(&cc->shell);
	json_free(cc->extra);
	memset(cc, 0, sizeof(*cc));
}

void spec_image_config_free(struct spec_image_config *c)
{
	if (!c)
		return;
	free(c->author);
	free(c->architecture);
	free(c->os);
	free(c->os_version);
	strv_release(&c->os_features);
	free(c->variant);
	container_config_release(&c->config);
	strv_release(&c->diff_ids);
	for (size_t i = 0; i < c->n_history; i++)
		spec_history_release(&c->history[i]);
	free(c->history);
	json_free(c->extra);
	json_free(c->dom);
	free(c);
}

/* ---- parse ---- */

static int nonneg_int(const struct json *obj, const char *key, int64_t *ret, struct skiff_err **err)
{
	int64_t v = 0;
	if (specj_int(obj, key, false, &v, NULL, err) < 0)
		return -1;
	if (v < 0)
		return err_makex(err, EINVAL, "%s: must be >= 0, got %lld", key, (long long)v);
	*ret = v;
	return 0;
}

static int parse_healthcheck(const struct json *j, struct spec_healthcheck **ret, struct skiff_err **err)
{
	struct spec_healthcheck *hc;

	if (specj_expect_object(j, NULL, err) < 0)
		return -1;
	hc = xzalloc(sizeof(*hc));
	if (specj_strv(j, "Test", false, &hc->test, err) < 0 || nonneg_int(j, "Interval", &hc->interval, err) < 0 ||
	    nonneg_int(j, "Timeout", &hc->timeout, err) < 0 ||
	    nonneg_int(j, "StartPeriod", &hc->start_period, err) < 0 ||
	    nonneg_int(j, "StartInterval", &hc->start_interval, err) < 0 ||
	    nonneg_int(j, "Retries", &hc->retries, err) < 0) {
		healthcheck_free(hc);
		return -1;
	}
	*ret = hc;
	return 0;
}

static int parse_container_config(const struct json *j, struct spec_container_config *cc, struct skiff_err **err)
{
	struct json *hc;

	if (specj_expect_object(j, NULL, err) < 0)
		return -1;
	if (specj_string(j, "User", false, &cc->user, err) < 0 ||
	    specj_set(j, "ExposedPorts", &cc->exposed_ports, err) < 0 ||
	    specj_strv(j, "Env", false, &cc->env, err) < 0 ||
	    specj_strv(j, "Entrypoint", true, &cc->entrypoint, err) < 0 ||
	    specj_strv(j, "Cmd", true, &cc->cmd, err) < 0 || specj_set(j, "Volumes", &cc->volumes, err) < 0 ||
	    specj_string(j, "WorkingDir", false, &cc->working_dir, err) < 0 ||
	    specj_map(j, "Labels", &cc->labels, err) < 0 ||
	    specj_string(j, "StopSignal", false, &cc->stop_signal, err) < 0 ||
	    specj_bool(j, "ArgsEscaped", &cc->args_escaped, err) < 0 ||
	    specj_strv(j, "OnBuild", false, &cc->on_build, err) < 0 ||
	    specj_strv(j, "Shell", true, &cc->shell, err) < 0)
		return -1;
	hc = json_object_get(j, "Healthcheck");
	if (hc && hc->type != JSON_NULL && parse_healthcheck(hc, &cc->healthcheck, err) < 0)
		return err_wrap(err, "Healthcheck");
	cc->extra = specj_collect_extra(j, config_keys, ARRAY_SIZE(config_keys));
	return 0;
}

static int parse_rootfs(const struct json *j, struct strv *diff_ids, struct skiff_err **err)
{
	cleanup_free char *type = NULL;

	if (!j || j->type == JSON_NULL)
		return err_makex(err, EINVAL, "missing");
	if (specj_expect_object(j, NULL, err) < 0 || specj_string(j, "type", true, &type, err) < 0)
		return -1;
	if (strcmp(type, "layers") != 0)
		return err_makex(err, EINVAL, "type: must be \"layers\", got \"%.64s\"", type);
	if (specj_strv(j, "diff_ids", false, diff_ids, err) < 0)
		return -1;
	for (size_t i = 0; i < diff_ids->len; i++)
		if (specj_digest_check(diff_ids->v[i], err) < 0)
			return err_wrap(err, "diff_ids[%zu]", i);
	return 0;
}

static int parse_history_entry(const struct json *j, struct spec_history *h, struct skiff_err **err)
{
	if (specj_expect_object(j, NULL, err) < 0 || specj_time(j, "created", &h->created, err) < 0 ||
	    specj_string(j, "created_by", false, &h->created_by, err) < 0 ||
	    specj_string(j, "author", false, &h->author, err) < 0 ||
	    specj_string(j, "comment", false, &h->comment, err) < 0 ||
	    specj_bool(j, "empty_layer", &h->empty_layer, err) < 0)
		return -1;
	return 0;
}

static int parse_history(const struct json *j, struct spec_image_config *c, struct skiff_err **err)
{
	if (!j || j->type == JSON_NULL)
		return 0;
	if (j->type != JSON_ARRAY)
		return err_makex(err, EINVAL, "history: expected an array, got %s", specj_type_name(j));
	for (size_t i = 0; i < j->u.arr.len; i++) {
		struct spec_history h = {0};
		if (parse_history_entry(j->u.arr.items[i], &h, err) < 0) {
			spec_history_release(&h);
			return err_wrap(err, "history[%zu]", i);
		}
		ALLOC_GROW(c->history, c->n_history + 1, c->alloc_history);
		c->history[c->n_history++] = h;
	}
	return 0;
}

static int parse_config(const struct json *j, struct spec_image_config *c, struct skiff_err **err)
{
	struct json *cc;

	if (specj_time(j, "created", &c->created, err) < 0 || specj_string(j, "author", false, &c->author, err) < 0 ||
	    specj_string(j, "architecture", false, &c->architecture, err) < 0 ||
	    specj_string(j, "os", false, &c->os, err) < 0 ||
	    specj_string(j, "os.version", false, &c->os_version, err) < 0 ||
	    specj_strv(j, "os.features", false, &c->os_features, err) < 0 ||
	    specj_string(j, "variant", false, &c->variant, err) < 0)
		return -1;
	cc = json_object_get(j, "config");
	if (cc && cc->type != JSON_NULL && parse_container_config(cc, &c->config, err) < 0)
		return err_wrap(err, "config");
	if (parse_rootfs(json_object_get(j, "rootfs"), &c->diff_ids, err) < 0)
		return err_wrap(err, "rootfs");
	if (parse_history(json_object_get(j, "history"), c, err) < 0)
		return -1;
	c->extra = specj_collect_extra(j, top_keys, ARRAY_SIZE(top_keys));
	return 0;
}

int spec_image_config_parse(const char *buf, size_t len, struct spec_image_config **ret, struct skiff_err **err)
{
	return spec_image_config_parse_known(buf, len, NULL, ret, err);
}

int spec_image_config_parse_known(const char *buf, size_t len, const char *digest, struct spec_image_config **ret,
				  struct skiff_err **err)
{
	cleanup_json struct json *j = NULL;
	cleanup_spec_image_config struct spec_image_config *c = NULL;

	if (json_parse(buf, len, &j, err) < 0)
		return err_wrap(err, "image config");
	if (specj_expect_object(j, "image config", err) < 0)
		return -1;
	c = xzalloc(sizeof(*c));
	if (parse_config(j, c, err) < 0)
		return err_wrap(err, "image config");
	if (digest && digest_valid(digest))
		snprintf(c->digest, sizeof(c->digest), "%s", digest);
	else
		digest_buf(buf, len, c->digest);
	c->dom = TAKE_PTR(j);
	*ret = TAKE_PTR(c);
	return 0;
}

/* ---- build ---- */

struct spec_image_config *spec_image_config_new(void)
{
	struct spec_image_config *c = xzalloc(sizeof(*c));
	const char *variant = spec_goarch_variant();
	c->architecture = xstrdup(spec_goarch());
	c->os = xstrdup(spec_goos());
	c->variant = variant ? xstrdup(variant) : NULL;
	return c;
}

int spec_image_config_add_diff_id(struct spec_image_config *c, const char *diff_id, struct skiff_err **err)
{
	if (specj_digest_check(diff_id, err) < 0)
		return err_wrap(err, "image config: diff_id");
	strv_push(&c->diff_ids, diff_id);
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void spec_image_config_add_history(struct spec_image_config *c, const struct spec_history *h)
{
	struct spec_history *n;
	ALLOC_GROW(c->history, c->n_history + 1, c->alloc_history);
	n = &c->history[c->n_history++];
	n->created = h->created;
	n->created_by = dup_or_null(h->created_by);
	n->author = dup_or_null(h->author);
	n->comment = dup_or_null(h->comment);
	n->empty_layer = h->empty_layer;
}

size_t spec_image_config_layer_history(const struct spec_image_config *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_history; i++)
		if (!c->history[i].empty_layer)
			n++;
	return n;
}

int spec_check_layer_counts(const struct spec_manifest *m, const struct spec_image_config *c, bool check_history,
			    struct skiff_err **err)
{
	if (m->layers.len != c->diff_ids.len)
		return err_makex(err, EINVAL, "manifest has %zu layers but its config has %zu rootfs.diff_ids",
				 m->layers.len, c->diff_ids.len);
	if (check_history && c->n_history) {
		size_t n = spec_image_config_layer_history(c);
		if (n != c->diff_ids.len)
			return err_makex(err, EINVAL,
					 "image config has %zu history entries with a layer but %zu rootfs.diff_ids", n,
					 c->diff_ids.len);
	}
	return 0;
}

/* ---- generate ---- */

static int add_time(struct json *obj, const char *key, const struct spec_time *t, struct skiff_err **err)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	if (!t->set)
		return 0;
	if (spec_time_format(t, &sb, err) < 0)
		return err_wrap(err, "%s", key);
	json_object_set_string(obj, key, sb.buf);
	return 0;
}

static void add_nonzero(struct json *obj, const char *key, int64_t v)
{
	if (v)
		json_object_set_int(obj, key, v);
}

static struct json *gen_container_config(const struct spec_container_config *cc)
{
	struct json *o = json_new_object();

	specj_add_string(o, "User", cc->user);
	specj_add_set(o, "ExposedPorts", &cc->exposed_ports);
	specj_add_strv(o, "Env", &cc->env);
	specj_add_strv(o, "Entrypoint", &cc->entrypoint);
	specj_add_strv(o, "Cmd", &cc->cmd);
	specj_add_set(o, "Volumes", &cc->volumes);
	specj_add_string(o, "WorkingDir", cc->working_dir);
	specj_add_map(o, "Labels", &cc->labels);
	specj_add_string(o, "StopSignal", cc->stop_signal);
	if (cc->args_escaped)
		json_object_set_bool(o, "ArgsEscaped", true);
	if (cc->healthcheck) {
		const struct spec_healthcheck *hc = cc->healthcheck;
		struct json *h = json_new_object();
		specj_add_strv(h, "Test", &hc->test);
		add_nonzero(h, "Interval", hc->interval);
		add_nonzero(h, "Timeout", hc->timeout);
		add_nonzero(h, "StartPeriod", hc->start_period);
		add_nonzero(h, "StartInterval", hc->start_interval);
		add_nonzero(h, "Retries", hc->retries);
		json_object_set(o, "Healthcheck", h);
	}
	specj_add_strv(o, "OnBuild", &cc->on_build);
	specj_add_strv(o, "Shell", &cc->shell);
	add_extra(o, cc->extra, config_keys, ARRAY_SIZE(config_keys));
	return o;
}

static int check_healthcheck(const struct spec_healthcheck *hc, struct skiff_err **err)
{
	if (!hc)
		return 0;
	if (hc->interval < 0 || hc->timeout < 0 || hc->start_period < 0 || hc->start_interval < 0 || hc->retries < 0)
		return err_makex(err, EINVAL, "config: Healthcheck: negative duration or retries");
	return 0;
}

int spec_image_config_generate(const struct spec_image_config *c, struct strbuf *out,
			       char ret_digest[DIGEST_STR_LEN + 1], struct skiff_err **err)
{
	cleanup_json struct json *doc = json_new_object();
	struct json *rootfs, *ids;

	if (!c->architecture || !*c->architecture)
		return err_makex(err, EINVAL, "image config: architecture: missing");
	if (!c->os || !*c->os)
		return err_makex(err, EINVAL, "image config: os: missing");
	if (check_healthcheck(c->config.healthcheck, err) < 0)
		return err_wrap(err, "image config");
	for (size_t i = 0; i < c->diff_ids.len; i++)
		if (specj_digest_check(c->diff_ids.v[i], err) < 0)
			return err_wrap(err, "image config: rootfs: diff_ids[%zu]", i);

	if (add_time(doc, "created", &c->created, err) < 0)
		return err_wrap(err, "image config");
	specj_add_string(doc, "author", c->author);
	json_object_set_string(doc, "architecture", c->architecture);
	json_object_set_string(doc, "os", c->os);
	specj_add_string(doc, "os.version", c->os_version);
	specj_add_strv(doc, "os.features", &c->os_features);
	specj_add_string(doc, "variant", c->variant);
	json_object_set(doc, "config", gen_container_config(&c->config));
	rootfs = json_new_object();
	json_object_set_string(rootfs, "type", "layers");
	ids = json_new_array();
	for (size_t i = 0; i < c->diff_ids.len; i++)
		json_array_append(ids, json_new_string(c->diff_ids.v[i]));
	json_object_set(rootfs, "diff_ids", ids);
	json_object_set(doc, "rootfs", rootfs);
	if (c->n_history) {
		struct json *hist = json_new_array();
		json_object_set(doc, "history", hist);
		for (size_t i = 0; i < c->n_history; i++) {
			const struct spec_history *h = &c->history[i];
			struct json *o = json_new_object();
			json_array_append(hist, o);
			if (add_time(o, "created", &h->created, err) < 0)
				return err_wrap(err, "image config: history[%zu]", i);
			specj_add_string(o, "created_by", h->created_by);
			specj_add_string(o, "author", h->author);
			specj_add_string(o, "comment", h->comment);
			if (h->empty_layer)
				json_object_set_bool(o, "empty_layer", true);
		}
	}
	add_extra(doc, c->extra, top_keys, ARRAY_SIZE(top_keys));
	specj_emit(doc, out, ret_digest);
	return 0;
}
