/*
 * `commit`: a new image from a base image's layers plus one more layer (a container's
 * changes), or from one layer alone (--squash); and the Dockerfile instructions that
 * `commit -c` and `import -c` apply to an image config.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pkg/image/image.h"
#include "pkg/image/reference.h"
#include "pkg/spec/image.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/signame.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

/* ---------------- -c: Dockerfile instructions ---------------- */

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* A JSON array of strings into out; false (out untouched) when v is not one. */
static bool json_string_array(const char *v, struct strv *out)
{
	cleanup_json struct json *j = NULL;
	cleanup_err struct skiff_err *e = NULL;
	if (json_parse(v, strlen(v), &j, &e) < 0 || !json_is(j, JSON_ARRAY))
		return false;
	for (size_t i = 0; i < json_array_len(j); i++)
		if (!json_string(json_array_get(j, i)))
			return false;
	for (size_t i = 0; i < json_array_len(j); i++)
		strv_push(out, json_string(json_array_get(j, i)));
	return true;
}

/* CMD/ENTRYPOINT: the JSON array (exec) form, else the shell form (as docker, a '['
 * that is not a JSON array of strings is the shell form). */
static void parse_command(const char *v, struct strv *out)
{
	strv_release(out);
	if (*v == '[' && json_string_array(v, out))
		return;
	strv_push(out, "/bin/sh");
	strv_push(out, "-c");
	strv_push(out, v);
}

/* Split v into shell-like words: whitespace separates, '…' and "…" quote, backslash
 * escapes (outside single quotes). An unterminated quote is EINVAL. */
static int shell_words(const char *v, struct strv *out, struct skiff_err **err)
{
	struct strbuf w = STRBUF_INIT;
	const char *p = skip_space(v);
	while (*p) {
		char q = 0;
		strbuf_reset(&w);
		for (; *p; p++) {
			if (q) {
				if (*p == q)
					q = 0;
				else if (q == '"' && *p == '\\' && (p[1] == '"' || p[1] == '\\'))
					strbuf_addch(&w, *++p);
				else
					strbuf_addch(&w, *p);
			} else if (*p == '"' || *p == '\'') {
				q = *p;
			} else if (*p == '\\' && p[1]) {
				strbuf_addch(&w, *++p);
			} else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
				break;
			} else {
				strbuf_addch(&w, *p);
			}
		}
		if (q) {
			strbuf_release(&w);
			return err_makex(err, EINVAL, "unterminated %s quote", q == '"' ? "double" : "single");
		}
		strv_push(out, w.buf);
		p = skip_space(p);
	}
	strbuf_release(&w);
	return 0;
}

static void env_set(struct strv *env, const char *k, const char *v)
{
	size_t kl = strlen(k);
	for (size_t i = 0; i < env->len; i++)
		if (!strncmp(env->v[i], k, kl) && env->v[i][kl] == '=') {
			free(env->v[i]);
			env->v[i] = xasprintf("%s=%s", k, v);
			return;
		}
	strv_pushf(env, "%s=%s", k, v);
}

/* ENV / LABEL: KEY=VALUE words (quotes removed), or the old "KEY VALUE" form (one pair,
 * the value is the rest). */
static int parse_pairs(const char *v, const char *what, bool is_env, struct spec_image_config *c,
		       struct skiff_err **err)
{
	cleanup_strv struct strv words = STRV_INIT;
	if (shell_words(v, &words, err) < 0)
		return -1;
	if (!words.len)
		return err_makex(err, EINVAL, "%s needs at least one argument", what);
	if (!strchr(words.v[0], '=')) {
		/* old form: the first word is the key, the rest of the line the value */
		size_t kl = strcspn(v, " \t\n\r");
		cleanup_free char *k = xstrndup(v, kl);
		const char *val = skip_space(v + kl);
		if (!*val)
			return err_makex(err, EINVAL, "%s \"%s\" has no value: use %s KEY=VALUE or %s KEY VALUE", what,
					 k, what, what);
		if (is_env)
			env_set(&c->config.env, k, val);
		else
			spec_map_set(&c->config.labels, k, val);
		return 0;
	}
	for (size_t i = 0; i < words.len; i++) {
		char *eq = strchr(words.v[i], '=');
		if (!eq)
			return err_makex(err, EINVAL, "\"%s\" is not KEY=VALUE", words.v[i]);
		if (eq == words.v[i])
			return err_makex(err, EINVAL, "\"%s\": the key is empty", words.v[i]);
		*eq = '\0';
		if (is_env)
			env_set(&c->config.env, words.v[i], eq + 1);
		else
			spec_map_set(&c->config.labels, words.v[i], eq + 1);
	}
	return 0;
}

static int parse_port(const char *s, unsigned long *ret, struct skiff_err **err)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)*s) || errno || n < 1 || n > 65535)
		return err_makex(err, EINVAL, "invalid port \"%s\"", s);
	*ret = n;
	return 0;
}

/* EXPOSE 80 8080/udp 9000-9002/tcp */
static int parse_expose(const char *v, struct spec_image_config *c, struct skiff_err **err)
{
	cleanup_strv struct strv words = STRV_INIT;
	if (shell_words(v, &words, err) < 0)
		return -1;
	for (size_t i = 0; i < words.len; i++) {
		cleanup_free char *port = xstrdup(words.v[i]);
		const char *proto = "tcp";
		char *slash = strchr(port, '/');
		if (slash) {
			*slash = '\0';
			proto = slash + 1;
			for (char *q = slash + 1; *q; q++)
				*q = (char)tolower((unsigned char)*q);
			if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp"))
				return err_makex(err, EINVAL, "invalid protocol \"%s\" in \"%s\"", proto, words.v[i]);
		}
		unsigned long lo, hi;
		char *dash = strchr(port, '-');
		if (dash)
			*dash = '\0';
		if (parse_port(port, &lo, err) < 0 || (dash && parse_port(dash + 1, &hi, err) < 0))
			return err_wrap(err, "EXPOSE %s", words.v[i]);
		if (!dash)
			hi = lo;
		if (hi < lo)
			return err_makex(err, EINVAL, "EXPOSE %s: invalid range", words.v[i]);
		for (unsigned long p = lo; p <= hi; p++) {
			cleanup_free char *k = xasprintf("%lu/%s", p, proto);
			if (!strv_contains(&c->config.exposed_ports, k))
				strv_push(&c->config.exposed_ports, k);
		}
	}
	return 0;
}

static int parse_volume(const char *v, struct spec_image_config *c, struct skiff_err **err)
{
	cleanup_strv struct strv vols = STRV_INIT;
	if (!(*v == '[' && json_string_array(v, &vols)) && shell_words(v, &vols, err) < 0)
		return -1;
	for (size_t i = 0; i < vols.len; i++) {
		if (!*vols.v[i])
			return err_makex(err, EINVAL, "VOLUME: empty path");
		if (!strv_contains(&c->config.volumes, vols.v[i]))
			strv_push(&c->config.volumes, vols.v[i]);
	}
	return 0;
}

static int parse_stopsignal(const char *v, struct spec_image_config *c, struct skiff_err **err)
{
	int sig;
	if (sig_from_name(v, &sig, err) < 0)
		return err_wrap(err, "STOPSIGNAL");
	free(c->config.stop_signal);
	c->config.stop_signal = xasprintf("%d", sig); /* podman stores the number */
	return 0;
}

static void set_workdir(struct spec_image_config *c, const char *v)
{
	char *w;
	if (v[0] == '/' || !c->config.working_dir || !*c->config.working_dir)
		w = v[0] == '/' ? xstrdup(v) : xasprintf("/%s", v);
	else /* relative: under the previous WORKDIR, as docker */
		w = xasprintf("%s%s%s", c->config.working_dir,
			      c->config.working_dir[strlen(c->config.working_dir) - 1] == '/' ? "" : "/", v);
	free(c->config.working_dir);
	c->config.working_dir = w;
}

static const char *const instructions =
	"CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR";

int image_apply_change(struct spec_image_config *c, const char *change, struct skiff_err **err)
{
	const char *p = skip_space(change);
	size_t kl = strcspn(p, " \t\n\r=");
	cleanup_free char *key = xstrndup(p, kl);
	for (char *q = key; *q; q++)
		*q = (char)toupper((unsigned char)*q);
	const char *v = p + kl;
	if (*v == '=')
		v++;
	v = skip_space(v);
	/* the value without trailing whitespace */
	cleanup_free char *val = xstrdup(v);
	size_t vl = strlen(val);
	while (vl && (val[vl - 1] == ' ' || val[vl - 1] == '\t' || val[vl - 1] == '\n' || val[vl - 1] == '\r'))
		val[--vl] = '\0';

	static const char *const known[] = {"CMD",     "ENTRYPOINT", "ENV",  "EXPOSE", "LABEL",
					    "ONBUILD", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"};
	bool ok = false;
	for (size_t i = 0; i < ARRAY_SIZE(known) && !ok; i++)
		ok = !strcmp(key, known[i]);
	if (!ok)
		return err_makex(err, EINVAL, "invalid change \"%s\": invalid instruction %s (known: %s)", change,
				 key[0] ? key : "(empty)", instructions);
	if (!*val)
		return err_makex(err, EINVAL, "invalid change \"%s\": must be formatted as KEY VALUE", change);

	int rc = 0;
	if (!strcmp(key, "CMD"))
		parse_command(val, &c->config.cmd);
	else if (!strcmp(key, "ENTRYPOINT"))
		parse_command(val, &c->config.entrypoint);
	else if (!strcmp(key, "ENV"))
		rc = parse_pairs(val, key, true, c, err);
	else if (!strcmp(key, "LABEL"))
		rc = parse_pairs(val, key, false, c, err);
	else if (!strcmp(key, "EXPOSE"))
		rc = parse_expose(val, c, err);
	else if (!strcmp(key, "VOLUME"))
		rc = parse_volume(val, c, err);
	else if (!strcmp(key, "STOPSIGNAL"))
		rc = parse_stopsignal(val, c, err);
	else if (!strcmp(key, "WORKDIR"))
		set_workdir(c, val);
	else if (!strcmp(key, "USER")) {
		free(c->config.user);
		c->config.user = xstrdup(val);
	} else { /* ONBUILD */
		size_t il = strcspn(val, " \t\n\r");
		if ((il == 7 && !strncasecmp(val, "ONBUILD", 7)) || (il == 4 && !strncasecmp(val, "FROM", 4)) ||
		    (il == 10 && !strncasecmp(val, "MAINTAINER", 10)))
			rc = err_makex(err, EINVAL, "ONBUILD %.*s is not allowed", (int)il, val);
		else
			strv_push(&c->config.on_build, val);
	}
	if (rc < 0)
		return err_wrap(err, "invalid change \"%s\"", change);
	return 0;
}

/* ---------------- commit ---------------- */

int image_commit_name(const char *input, char **ret, struct skiff_err **err)
{
	cleanup_ref struct image_ref *r = NULL;
	if (ref_parse(input, &r, err) < 0)
		return -1;
	if (r->domain_implicit) {
		/* podman names committed images without a registry localhost/NAME */
		cleanup_free char *local = xasprintf("localhost/%s", input);
		ref_free(TAKE_PTR(r));
		if (ref_parse(local, &r, err) < 0)
			return -1;
	}
	if (r->digest)
		return err_makex(err, EINVAL, "%s: an image name for commit cannot have a digest", input);
	*ret = ref_string(r);
	return 0;
}

static void progress(const struct image_commit_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(const struct image_commit_opts *o, const char *fmt, ...)
{
	if (!o->progress)
		return;
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *line = xvasprintf(fmt, ap);
	va_end(ap);
	o->progress(o->progress_ud, line);
}

char *image_labels_json(const struct spec_map *labels)
{
	if (!labels->len)
		return NULL;
	struct json *lj = json_new_object();
	struct strbuf sb = STRBUF_INIT;
	for (size_t k = 0; k < labels->len; k++)
		json_object_set_string(lj, labels->items[k].key, labels->items[k].value);
	json_dump(lj, 0, &sb);
	json_free(lj);
	return strbuf_detach(&sb, NULL);
}

int image_hold_layers(struct store *s, struct store_layer_hold *h, const char *image_id, struct strv *ids,
		      struct strv *diff_ids, struct strv *sizes, struct skiff_err **err)
{
	struct store_image *img = NULL;
	if (store_image_get(s, image_id, &img, err) < 0)
		return err_wrap(err, "base image");
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < img->layers.len; i++) {
		const char *id = img->layers.v[i];
		struct store_layer_info info;
		if (!store_layer_hold_existing(s, h, id))
			rc = err_makex(err, ENOENT, "layer %s of image %s is missing", id, img->id);
		else if (store_layer_info(s, id, &info, err) < 0)
			rc = -1;
		else {
			strv_push(ids, id);
			if (diff_ids)
				strv_push(diff_ids, info.diff_id);
			strv_pushf(sizes, "%llu", (unsigned long long)info.size);
			store_layer_info_release(&info);
		}
	}
	store_image_free(img);
	return rc;
}

int image_store_built(struct store *s, struct spec_image_config *c, enum spec_format format, const struct strv *layers,
		      const struct strv *sizes, const struct strv *names, const char *parent, char **ret_id,
		      char *ret_config_digest, struct skiff_err **err)
{
	cleanup_spec_manifest struct spec_manifest *m = spec_manifest_new(format);
	cleanup_strbuf struct strbuf cfg = STRBUF_INIT, man = STRBUF_INIT;
	char cdigest[DIGEST_STR_LEN + 1];
	if (layers->len != c->diff_ids.len || sizes->len != c->diff_ids.len)
		return err_makex(err, EINVAL, "%zu layers, but the config lists %zu", layers->len, c->diff_ids.len);
	json_free(c->dom); /* a document of our own now */
	c->dom = NULL;
	c->digest[0] = '\0';
	if (spec_image_config_generate(c, &cfg, cdigest, err) < 0)
		return -1;
	const char *lmt = spec_layer_media_type(format, SPEC_COMPRESSION_NONE);
	if (spec_descriptor_set(&m->config, m->config.media_type, cdigest, (int64_t)cfg.len, err) < 0)
		return -1;
	for (size_t i = 0; i < c->diff_ids.len; i++)
		if (spec_manifest_add_layer(m, lmt, c->diff_ids.v[i], strtoll(sizes->v[i], NULL, 10), err) < 0)
			return -1;
	if (spec_manifest_generate(m, &man, NULL, err) < 0)
		return -1;
	cleanup_free char *labels = image_labels_json(&c->config.labels);
	struct store_image_new in = {
		.config = cfg.buf,
		.config_len = cfg.len,
		.manifest = man.buf,
		.manifest_len = man.len,
		.manifest_type = m->media_type,
		.layers = layers,
		.names = names,
		.created = c->created.sec,
		.created_nsec = c->created.nsec,
		.labels_json = labels,
		.parent = parent,
	};
	if (store_image_commit(s, &in, ret_id, NULL, err) < 0)
		return -1;
	if (ret_config_digest)
		memcpy(ret_config_digest, cdigest, sizeof(cdigest));
	return 0;
}

int image_commit(struct store *s, const struct image_commit_opts *o, char **ret_id, struct skiff_err **err)
{
	struct spec_image_config *c = o->config;
	struct store_layer_hold *h = store_hold_new(s);
	cleanup_strv struct strv layers = STRV_INIT, diff_ids = STRV_INIT, sizes = STRV_INIT, names = STRV_INIT;
	cleanup_free char *name = NULL, *layer_id = NULL, *diff_id = NULL;
	char cdigest[DIGEST_STR_LEN + 1];
	int rc = -1;

	if (o->reference && image_commit_name(o->reference, &name, err) < 0)
		goto out;
	if (o->squash) {
		/* one layer holding everything: the base's layers and history go */
		strv_release(&c->diff_ids);
		for (size_t i = 0; i < c->n_history; i++)
			spec_history_release(&c->history[i]);
		c->n_history = 0;
	} else if (o->base_id && image_hold_layers(s, h, o->base_id, &layers, &diff_ids, &sizes, err) < 0) {
		goto out;
	}
	if (!o->squash && diff_ids.len != c->diff_ids.len) {
		err_makex(err, EINVAL, "base image has %zu layers but its config lists %zu", diff_ids.len,
			  c->diff_ids.len);
		goto out;
	}
	const char *parent = layers.len ? layers.v[layers.len - 1] : NULL;
	if (store_layer_create_unknown(s, h, parent, o->layer, &layer_id, &diff_id, err) < 0) {
		err_wrap(err, "store the new layer");
		goto out;
	}
	struct store_layer_info info;
	if (store_layer_info(s, layer_id, &info, err) < 0)
		goto out;
	strv_push(&layers, layer_id);
	strv_push(&diff_ids, diff_id);
	strv_pushf(&sizes, "%llu", (unsigned long long)info.size);
	store_layer_info_release(&info);

	progress(o, "Getting image source signatures");
	for (size_t i = 0; i < diff_ids.len; i++)
		progress(o, "Copying blob %s", diff_ids.v[i]);

	c->created = spec_time_now();
	if (o->author) {
		free(c->author);
		c->author = xstrdup(o->author);
	}
	if (spec_image_config_add_diff_id(c, diff_id, err) < 0)
		goto out;
	{
		cleanup_free char *from = o->base_name ? xasprintf("FROM %s", o->base_name) : NULL;
		struct spec_history hist = {
			.created = c->created,
			.created_by = (char *)"/bin/sh",
			.author = c->author,
			.comment = (char *)(o->message ? o->message : from),
		};
		spec_image_config_add_history(c, &hist);
	}
	if (name)
		strv_push(&names, name);
	if (image_store_built(s, c, o->format, &layers, &sizes, &names, o->squash ? NULL : o->base_id, ret_id, cdigest,
			      err) < 0)
		goto out;
	progress(o, "Copying config %s", cdigest);
	progress(o, "Writing manifest to image destination");
	progress(o, "Storing signatures");
	rc = 0;
out:
	store_hold_release(h);
	return rc;
}
