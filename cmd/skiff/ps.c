/* ps: list containers, with podman's columns, filters and --format. */
#include <errno.h>
#include <fnmatch.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/skiff/ctr-cli.h"
#include "cmd/skiff/output.h"
#include "pkg/image/image.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/humanize.h"
#include "vendor-free/xalloc.h"

static struct {
	bool all, quiet, latest, no_trunc, size, noheading, external, sync;
	long last;
	const char *format;
	struct strv filters;
} o = {.last = -1};

static const struct cli_opt ps_opts[] = {
	{"all", 'a', OPT_BOOL, &o.all, NULL, "Show all the containers, default is only running containers", 0},
	{"external", 0, OPT_BOOL, &o.external, NULL, "Accepted for compatibility", OPT_HIDDEN},
	{"filter", 'f', OPT_LIST, &o.filters, "FILTER",
	 "Filter output based on conditions given (status, name, id, label, ancestor, exited, health)", 0},
	{"format", 0, OPT_STRING, &o.format, "FORMAT", "Pretty-print containers to JSON or using a Go template", 0},
	{"last", 'n', OPT_INT, &o.last, "N", "Print the N last created containers (all states)", 0},
	{"latest", 'l', OPT_BOOL, &o.latest, NULL, "Act on the latest container skiff is aware of", 0},
	{"noheading", 0, OPT_BOOL, &o.noheading, NULL, "Do not print headers", 0},
	{"no-trunc", 0, OPT_BOOL, &o.no_trunc, NULL, "Display the extended information", 0},
	{"quiet", 'q', OPT_BOOL, &o.quiet, NULL, "Print the numeric IDs of the containers only", 0},
	{"size", 's', OPT_BOOL, &o.size, NULL, "Display the total file sizes", 0},
	{"sync", 0, OPT_BOOL, &o.sync, NULL, "Accepted for compatibility: state is always synced", OPT_HIDDEN},
	{0},
};

static const struct header_name ps_headers[] = {
	{"ID", "CONTAINER ID"},
	{"Image", "IMAGE"},
	{"Command", "COMMAND"},
	{"Created", "CREATED"},
	{"CreatedHuman", "CREATED"},
	{"Status", "STATUS"},
	{"Ports", "PORTS"},
	{"Names", "NAMES"},
	{"Size", "SIZE"},
	{"State", "STATE"},
	{"Labels", "LABELS"},
	{"CreatedAt", "CREATED AT"},
	{"Pid", "PID"},
	{"ExitCode", "EXIT CODE"},
	{"Mounts", "MOUNTS"},
	{0},
};

/* The command as podman shows it: entrypoint + command from the config. */
static void command_of(const struct ctr *c, struct strv *ret)
{
	for (size_t i = 0; i < c->cfg->entrypoint.len; i++)
		strv_push(ret, c->cfg->entrypoint.v[i]);
	for (size_t i = 0; i < c->cfg->command.len; i++)
		strv_push(ret, c->cfg->command.v[i]);
}

static void status_text(const struct ctr *c, const char *health, char *buf, size_t n)
{
	const char *s = ctr_state_name(c);
	int64_t now = time(NULL);
	char d[64];
	if (!strcmp(s, "running") || !strcmp(s, "paused") || !strcmp(s, "stopping")) {
		/* podman 4 words it "Up 5 seconds ago" */
		human_duration_ago(now - c->row.started_at / 1000000000, d, sizeof(d));
		snprintf(buf, n, "Up %s%s%s%s%s", d, !strcmp(s, "paused") ? " (Paused)" : "", health ? " (" : "",
			 health ? health : "", health ? ")" : "");
	} else if (!strcmp(s, "exited") || !strcmp(s, "stopped")) {
		human_duration_ago(now - c->row.finished_at / 1000000000, d, sizeof(d));
		snprintf(buf, n, "Exited (%d) %s", c->row.exit_code, d);
	} else {
		snprintf(buf, n, "Created");
	}
}

static bool match_filter(struct engine *e, struct ctr *c, const char *f, struct skiff_err **err, bool *ok)
{
	const char *eq = strchr(f, '=');
	if (!eq)
		return err_makex(err, EINVAL, "invalid filter \"%s\": want KEY=VALUE", f), false;
	size_t kl = (size_t)(eq - f);
	const char *v = eq + 1;
	if (!strncmp(f, "status", kl) && kl == 6) {
		static const char *const known[] = {"created", "exited",   "paused",   "running",   "unknown",
						    "stopped", "stopping", "removing", "configured"};
		bool k = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			k |= !strcmp(known[i], v);
		if (!k)
			return err_makex(err, EINVAL, "invalid filter \"%s\": unknown status \"%s\"", f, v), false;
		*ok = !strcmp(ctr_state_name(c), v);
	} else if (!strncmp(f, "name", kl) && kl == 4) {
		*ok = strstr(c->row.name, v) != NULL || fnmatch(v, c->row.name, 0) == 0;
	} else if (!strncmp(f, "id", kl) && kl == 2) {
		*ok = !strncmp(c->row.id, v, strlen(v));
	} else if (!strncmp(f, "label", kl) && kl == 5) {
		const char *veq = strchr(v, '=');
		cleanup_free char *key = veq ? xstrndup(v, (size_t)(veq - v)) : xstrdup(v);
		const char *have = spec_map_get(&c->cfg->labels, key);
		*ok = have && (!veq || !strcmp(have, veq + 1));
	} else if (!strncmp(f, "ancestor", kl) && kl == 8) {
		*ok = !strncmp(c->row.image_id, v, strlen(v)) || !strcmp(c->cfg->image, v) ||
		      (c->cfg->image_name && !strcmp(c->cfg->image_name, v));
		if (!*ok && c->cfg->image_name) {
			/* "busybox" matches docker.io/library/busybox:latest */
			cleanup_free char *norm = NULL;
			struct skiff_err *e2 = NULL;
			if (image_normalize_name(v, &norm, &e2) == 0)
				*ok = !strcmp(norm, c->cfg->image_name);
			err_free(e2);
		}
	} else if (!strncmp(f, "health", kl) && kl == 6) {
		/* podman: healthy, unhealthy, starting, or none (no healthcheck) */
		if (strcmp(v, "healthy") && strcmp(v, "unhealthy") && strcmp(v, "starting") && strcmp(v, "none"))
			return err_makex(err, EINVAL,
					 "invalid filter \"%s\": health is healthy, unhealthy, starting or none", f),
			       false;
		const char *h = !strcmp(ctr_state_name(c), "running") ? ctr_health_status(e, c) : NULL;
		*ok = h ? !strcmp(h, v) : !strcmp(v, "none");
	} else if (!strncmp(f, "exited", kl) && kl == 6) {
		char *end;
		long code = strtol(v, &end, 10);
		if (*end || !*v)
			return err_makex(err, EINVAL, "invalid filter \"%s\": exit code must be a number", f), false;
		*ok = !strcmp(ctr_state_name(c), "exited") && c->row.exit_code == code;
	} else {
		return err_makex(err, EINVAL, "invalid filter \"%s\"", f), false;
	}
	return true;
}

static uint64_t tree_bytes;
static int add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F)
		tree_bytes += (uint64_t)st->st_size;
	return 0;
}

/* podman's SIZE column: the writable layer, and with the image ("12B (virtual 2.03MB)") */
static void size_text(struct engine *e, const struct ctr *c, char *buf, size_t n)
{
	cleanup_free char *dir = store_container_dir(e->store, c->row.id);
	cleanup_free char *rw = xasprintf("%s/%s", dir, strcmp(store_driver(e->store), "vfs") ? "diff" : "rootfs");
	tree_bytes = 0;
	if (nftw(rw, add_size, 16, FTW_PHYS) < 0)
		tree_bytes = 0;
	uint64_t own = tree_bytes, image = 0;
	struct store_image *img = NULL;
	struct skiff_err *er = NULL;
	if (store_image_get(e->store, c->row.image_id, &img, &er) == 0) {
		image = img->size;
		store_image_free(img);
	}
	err_free(er);
	char a[32], b[32];
	human_size_precision((double)own, 3, false, a, sizeof(a));
	human_size_precision((double)(own + image), 3, false, b, sizeof(b));
	snprintf(buf, n, "%s (virtual %s)", a, b);
}

static char *rfc3339(int64_t ns)
{
	char buf[64];
	time_t t = ns / 1000000000;
	struct tm tm;
	localtime_r(&t, &tm);
	size_t n = strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%09lld ", (long long)(ns % 1000000000));
	n = strlen(buf);
	strftime(buf + n, sizeof(buf) - n, "%z %Z", &tm);
	return xstrdup(buf);
}

static int ps_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)argc;
	(void)argv;
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr *v = NULL;
	size_t n = 0;
	int rc = -1;
	struct json *rows = json_new_array();
	if (ctr_list(&e, &v, &n, err) < 0)
		goto out;
	bool all = o.all || o.latest || o.last >= 0 || o.filters.len;
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		struct ctr *c = &v[i];
		bool ok = all || !strcmp(ctr_state_name(c), "running") || !strcmp(ctr_state_name(c), "paused");
		for (size_t f = 0; ok && f < o.filters.len; f++)
			if (!match_filter(&e, c, o.filters.v[f], err, &ok))
				goto out;
		if (!ok)
			continue;
		if (o.latest && shown >= 1)
			break;
		if (o.last >= 0 && shown >= (size_t)o.last)
			break;
		shown++;
		struct json *r = json_new_object();
		char id[80], st[96], created[64];
		output_id(c->row.id, false, id);
		json_object_set_string(r, "ID", o.no_trunc ? c->row.id : id);
		json_object_set_string(r, "Id", c->row.id);
		json_object_set_string(r, "Image", c->cfg->image_name ? c->cfg->image_name : c->cfg->image);
		json_object_set_string(r, "ImageID", c->row.image_id);
		struct strv cmd = STRV_INIT;
		command_of(c, &cmd);
		struct strbuf cs = STRBUF_INIT;
		for (size_t k = 0; k < cmd.len; k++)
			strbuf_addf(&cs, "%s%s", k ? " " : "", cmd.v[k]);
		if (!o.no_trunc && cs.len > 17) {
			strbuf_setlen(&cs, 17);
			strbuf_addstr(&cs, "...");
		}
		json_object_set_string(r, "Command", cs.buf);
		strbuf_release(&cs);
		struct json *cmdarr = json_new_array();
		for (size_t k = 0; k < cmd.len; k++)
			json_array_append(cmdarr, json_new_string(cmd.v[k]));
		strv_release(&cmd);
		human_duration_ago(time(NULL) - c->row.created / 1000000000, created, sizeof(created));
		json_object_set_string(r, "Created", created);
		json_object_set_string(r, "CreatedHuman", created);
		cleanup_free char *cat = rfc3339(c->row.created);
		json_object_set_string(r, "CreatedAt", cat);
		status_text(c, !strcmp(ctr_state_name(c), "running") ? ctr_health_status(&e, c) : NULL, st, sizeof(st));
		json_object_set_string(r, "Status", st);
		json_object_set_string(r, "State", ctr_state_name(c));
		struct strbuf ports = STRBUF_INIT;
		net_ports_format(c->cfg->ports, c->cfg->n_ports, &ports);
		json_object_set_string(r, "Ports", ports.buf);
		strbuf_release(&ports);
		json_object_set_string(r, "Names", c->row.name);
		json_object_set_int(r, "Pid", c->row.pid);
		json_object_set_int(r, "ExitCode", c->row.exit_code);
		char sz[96] = "";
		if (o.size || (o.format && strstr(o.format, ".Size")))
			size_text(&e, c, sz, sizeof(sz));
		json_object_set_string(r, "Size", sz);
		json_object_set_string(r, "Mounts", "");
		struct strbuf ls = STRBUF_INIT;
		for (size_t k = 0; k < c->cfg->labels.len; k++)
			strbuf_addf(&ls, "%s%s=%s", k ? "," : "", c->cfg->labels.items[k].key,
				    c->cfg->labels.items[k].value);
		json_object_set_string(r, "Labels", ls.buf);
		strbuf_release(&ls);
		/* what --format json shows, podman's shape */
		struct json *jr = json_new_object();
		json_object_set_bool(jr, "AutoRemove", c->cfg->rm);
		json_object_set(jr, "Command", cmdarr);
		json_object_set_string(jr, "CreatedAt", created);
		json_object_set_bool(jr, "Exited", !strcmp(ctr_state_name(c), "exited"));
		json_object_set_int(jr, "ExitedAt", c->row.finished_at / 1000000000);
		json_object_set_int(jr, "ExitCode", c->row.exit_code);
		json_object_set_string(jr, "Id", c->row.id);
		json_object_set_string(jr, "Image", c->cfg->image_name ? c->cfg->image_name : c->cfg->image);
		json_object_set_string(jr, "ImageID", c->row.image_id);
		struct json *labels = json_new_object();
		for (size_t k = 0; k < c->cfg->labels.len; k++)
			json_object_set_string(labels, c->cfg->labels.items[k].key, c->cfg->labels.items[k].value);
		json_object_set(jr, "Labels", labels);
		struct json *names = json_new_array();
		json_array_append(names, json_new_string(c->row.name));
		json_object_set(jr, "Names", names);
		json_object_set_int(jr, "Pid", c->row.pid);
		json_object_set_int(jr, "StartedAt", c->row.started_at / 1000000000);
		json_object_set_string(jr, "State", ctr_state_name(c));
		json_object_set_string(jr, "Status", st);
		json_object_set_int(jr, "Created", c->row.created / 1000000000);
		json_object_set(r, "_json", jr);
		json_array_append(rows, r);
	}
	if (o.quiet) {
		for (size_t i = 0; i < json_array_len(rows); i++) {
			struct json *r = json_array_get(rows, i);
			printf("%s\n", json_object_get_string(r, o.no_trunc ? "Id" : "ID"));
		}
		rc = 0;
		goto out;
	}
	struct json *jrows = json_new_array();
	for (size_t i = 0; i < json_array_len(rows); i++)
		json_array_append(jrows, json_clone(json_object_get(json_array_get(rows, i), "_json")));
	const char *def =
		o.noheading
			? "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Created}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\n"
			: "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Created}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
	if (o.size && !o.format)
		def = "table "
		      "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Created}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}";
	rc = output_rows(o.format, def, rows, jrows, ps_headers, err);
	json_free(jrows);
out:
	json_free(rows);
	ctr_list_free(v, n);
	ctr_cli_engine_release(&e);
	return rc;
}

const struct cli_impl cli_ps = {
	.usage = "[options]",
	.description = "List containers: running ones, or all with -a.",
	.opts = ps_opts,
	.max_args = 0,
	.run = ps_run,
};
