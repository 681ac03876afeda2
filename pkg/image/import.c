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

static long read_fd(void *ud, void *buf, size_t n)
{
	int fd = *(int *)ud;
	ssize_t r;
	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return (long)r;
}

/* JSON array form ["a","b"] or shell form (wrapped in /bin/sh -c). */
static int parse_cmd(const char *v, bool shell_form_ok, struct strv *out, struct skiff_err **err)
{
	strv_release(out);
	while (isspace((unsigned char)*v))
		v++;
	if (*v == '[') {
		cleanup_json struct json *j = NULL;
		if (json_parse(v, strlen(v), &j, err) < 0)
			return err_wrap(err, "JSON array");
		if (j->type != JSON_ARRAY)
			return err_makex(err, EINVAL, "expected a JSON array of strings");
		for (size_t i = 0; i < json_array_len(j); i++) {
			const char *s = json_string(json_array_get(j, i));
			if (!s)
				return err_makex(err, EINVAL, "expected a JSON array of strings");
			strv_push(out, s);
		}
		return 0;
	}
	if (!shell_form_ok)
		return err_makex(err, EINVAL, "expected a JSON array");
	strv_push(out, "/bin/sh");
	strv_push(out, "-c");
	strv_push(out, v);
	return 0;
}

static void set_env(struct strv *env, const char *k, const char *v)
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

/* KEY=VALUE pairs or "KEY VALUE" (one pair). */
static int parse_pairs(const char *v, bool is_env, struct spec_image_config *c, struct skiff_err **err)
{
	const char *eq = strchr(v, '=');
	const char *sp = strpbrk(v, " \t");
	if (!eq || (sp && sp < eq)) {
		if (!sp)
			return err_makex(err, EINVAL, "missing value in \"%s\"", v);
		cleanup_free char *k = xstrndup(v, (size_t)(sp - v));
		while (isspace((unsigned char)*sp))
			sp++;
		if (is_env)
			set_env(&c->config.env, k, sp);
		else
			spec_map_set(&c->config.labels, k, sp);
		return 0;
	}
	struct strv parts = STRV_INIT;
	strv_split(&parts, v, ' ');
	for (size_t i = 0; i < parts.len; i++) {
		char *p = parts.v[i];
		if (!*p)
			continue;
		char *e = strchr(p, '=');
		if (!e) {
			strv_release(&parts);
			return err_makex(err, EINVAL, "\"%s\" is not KEY=VALUE", p);
		}
		*e = '\0';
		char *val = e + 1;
		size_t vl = strlen(val);
		if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
			val[vl - 1] = '\0';
			val++;
		}
		if (is_env)
			set_env(&c->config.env, p, val);
		else
			spec_map_set(&c->config.labels, p, val);
	}
	strv_release(&parts);
	return 0;
}

static int apply_change(struct spec_image_config *c, const char *change, struct skiff_err **err)
{
	const char *p = change;
	while (isspace((unsigned char)*p))
		p++;
	size_t kl = strcspn(p, " \t=");
	cleanup_free char *key = xstrndup(p, kl);
	const char *v = p + kl;
	while (*v == ' ' || *v == '\t' || (*v == '=' && v == p + kl))
		v++;
	for (char *q = key; *q; q++)
		*q = (char)toupper((unsigned char)*q);
	int rc = 0;
	if (!strcmp(key, "CMD"))
		rc = parse_cmd(v, true, &c->config.cmd, err);
	else if (!strcmp(key, "ENTRYPOINT"))
		rc = parse_cmd(v, true, &c->config.entrypoint, err);
	else if (!strcmp(key, "ENV"))
		rc = parse_pairs(v, true, c, err);
	else if (!strcmp(key, "LABEL"))
		rc = parse_pairs(v, false, c, err);
	else if (!strcmp(key, "USER")) {
		free(c->config.user);
		c->config.user = xstrdup(v);
	} else if (!strcmp(key, "WORKDIR")) {
		free(c->config.working_dir);
		c->config.working_dir = xstrdup(v);
	} else if (!strcmp(key, "STOPSIGNAL")) {
		free(c->config.stop_signal);
		c->config.stop_signal = xstrdup(v);
	} else if (!strcmp(key, "EXPOSE")) {
		struct strv ports = STRV_INIT;
		strv_split(&ports, v, ' ');
		for (size_t i = 0; i < ports.len; i++) {
			if (!*ports.v[i])
				continue;
			cleanup_free char *port =
				strchr(ports.v[i], '/') ? xstrdup(ports.v[i]) : xasprintf("%s/tcp", ports.v[i]);
			if (!strv_contains(&c->config.exposed_ports, port))
				strv_push(&c->config.exposed_ports, port);
		}
		strv_release(&ports);
	} else if (!strcmp(key, "VOLUME")) {
		struct strv vols = STRV_INIT;
		if (*v == '[')
			rc = parse_cmd(v, false, &vols, err);
		else
			strv_split(&vols, v, ' ');
		for (size_t i = 0; rc == 0 && i < vols.len; i++)
			if (*vols.v[i] && !strv_contains(&c->config.volumes, vols.v[i]))
				strv_push(&c->config.volumes, vols.v[i]);
		strv_release(&vols);
	} else {
		return err_makex(err, EINVAL,
				 "invalid change \"%s\": %s is not one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, "
				 "STOPSIGNAL, USER, VOLUME, WORKDIR",
				 change, key[0] ? key : "(empty)");
	}
	if (rc < 0)
		return err_wrap(err, "invalid change \"%s\"", change);
	return 0;
}

int image_import(struct store *s, const struct image_import_opts *o, char **ret_id, struct skiff_err **err)
{
	cleanup_spec_image_config struct spec_image_config *c = spec_image_config_new();
	cleanup_spec_manifest struct spec_manifest *m = spec_manifest_new(SPEC_FORMAT_OCI);
	struct store_layer_hold *h = NULL;
	struct strbuf cfg = STRBUF_INIT, man = STRBUF_INIT;
	struct strv layers = STRV_INIT, names = STRV_INIT;
	cleanup_free char *layer_id = NULL;
	cleanup_free char *diff_id = NULL;
	cleanup_free char *name = NULL;
	cleanup_free char *labels = NULL;
	char cdigest[DIGEST_STR_LEN + 1];
	int fd = -1, rc = -1;

	if (o->reference && image_normalize_name(o->reference, &name, err) < 0)
		return -1;
	for (size_t i = 0; o->changes && i < o->changes->len; i++)
		if (apply_change(c, o->changes->v[i], err) < 0)
			return -1;
	if (image_open_input(o->input, o->tmpdir, &fd, err) < 0)
		return err_wrap(err, "import");
	h = store_hold_new(s);
	struct store_layer_src src = {.read = read_fd, .ud = &fd};
	if (store_layer_create_unknown(s, h, NULL, &src, &layer_id, &diff_id, err) < 0)
		goto out;
	struct store_layer_info info;
	if (store_layer_info(s, layer_id, &info, err) < 0)
		goto out;
	uint64_t size = info.size;
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
	if (spec_image_config_generate(c, &cfg, cdigest, err) < 0)
		goto out;
	if (spec_descriptor_set(&m->config, SPEC_MT_OCI_CONFIG, cdigest, (int64_t)cfg.len, err) < 0 ||
	    spec_manifest_add_layer(m, SPEC_MT_OCI_LAYER, diff_id, (int64_t)size, err) < 0 ||
	    spec_manifest_generate(m, &man, NULL, err) < 0)
		goto out;
	strv_push(&layers, layer_id);
	if (name)
		strv_push(&names, name);
	struct store_image_new in = {
		.config = cfg.buf,
		.config_len = cfg.len,
		.manifest = man.buf,
		.manifest_len = man.len,
		.manifest_type = SPEC_MT_OCI_MANIFEST,
		.layers = &layers,
		.names = &names,
		.created = c->created.sec,
		.created_nsec = c->created.nsec,
	};
	if (c->config.labels.len) {
		struct json *lj = json_new_object();
		struct strbuf sb = STRBUF_INIT;
		for (size_t k = 0; k < c->config.labels.len; k++)
			json_object_set_string(lj, c->config.labels.items[k].key, c->config.labels.items[k].value);
		json_dump(lj, 0, &sb);
		json_free(lj);
		labels = strbuf_detach(&sb, NULL);
		in.labels_json = labels;
	}
	rc = store_image_commit(s, &in, ret_id, NULL, err);
	if (rc == 0 && ret_id)
		image_event(s, "import", *ret_id, o->input && strcmp(o->input, "-") ? o->input : "stdin");
out:
	if (fd >= 0)
		close(fd);
	store_hold_release(h);
	strbuf_release(&cfg);
	strbuf_release(&man);
	strv_release(&layers);
	strv_release(&names);
	if (rc < 0)
		err_wrap(err, "import %s", o->input);
	return rc;
}
