/* Image commands: images, image exists, tag, untag, rmi, image prune, history, inspect. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/skiff/ctr-cli.h"
#include "cmd/skiff/output.h"
#include "cmd/skiff/skiff.h"
#include "pkg/image/image.h"
#include "pkg/image/reference.h"
#include "pkg/spec/image.h"
#include "pkg/store/store.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/humanize.h"
#include "vendor-free/xalloc.h"

/* ---------------- images ---------------- */

static struct {
	bool all, quiet, digests, no_trunc, noheading;
	const char *format, *sort;
	struct strv filters;
} ls;

static const struct cli_opt ls_opts[] = {
	{"all", 'a', OPT_BOOL, &ls.all, NULL, "Show all images (default hides intermediate images)", 0},
	{"digests", 0, OPT_BOOL, &ls.digests, NULL, "Show digests", 0},
	{"filter", 'f', OPT_LIST, &ls.filters, "FILTER",
	 "Filter output based on conditions provided (reference, dangling, label, before, since)", 0},
	{"format", 0, OPT_STRING, &ls.format, "FORMAT", "Change the output format to JSON or a Go template", 0},
	{"noheading", 'n', OPT_BOOL, &ls.noheading, NULL, "Do not print column headings", 0},
	{"no-trunc", 0, OPT_BOOL, &ls.no_trunc, NULL, "Do not truncate output", 0},
	{"quiet", 'q', OPT_BOOL, &ls.quiet, NULL, "Display only image IDs", 0},
	{"sort", 0, OPT_STRING, &ls.sort, "KEY", "Sort by created, id, repository, size or tag (default: created)", 0},
	{0},
};

static const struct header_name image_headers[] = {
	{"ID", "IMAGE ID"},
	{"CreatedSince", "CREATED"},
	{"CreatedAt", "CREATED AT"},
	{0},
};

struct row {
	struct store_image *img;
	char *repo, *tag;
};

static int cmp_rows(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	const char *k = ls.sort ? ls.sort : "created";
	int c = 0;
	if (!strcmp(k, "id"))
		c = strcmp(x->img->id, y->img->id);
	else if (!strcmp(k, "repository"))
		c = strcmp(x->repo, y->repo);
	else if (!strcmp(k, "tag"))
		c = strcmp(x->tag, y->tag);
	else if (!strcmp(k, "size"))
		c = x->img->size < y->img->size ? -1 : x->img->size > y->img->size;
	if (c)
		return c;
	/* created: newest first */
	if (x->img->created != y->img->created)
		return x->img->created > y->img->created ? -1 : 1;
	if (x->img->created_nsec != y->img->created_nsec)
		return x->img->created_nsec > y->img->created_nsec ? -1 : 1;
	c = strcmp(x->img->id, y->img->id);
	return c ? c : strcmp(x->repo, y->repo);
}

static void split_name(const char *name, char **repo, char **tag)
{
	const char *at = strchr(name, '@');
	const char *slash = strrchr(name, '/');
	const char *colon = strrchr(slash ? slash : name, ':');
	if (at) {
		*repo = xstrndup(name, (size_t)(at - name));
		*tag = xstrdup("<none>");
		return;
	}
	if (colon) {
		*repo = xstrndup(name, (size_t)(colon - name));
		*tag = xstrdup(colon + 1);
	} else {
		*repo = xstrdup(name);
		*tag = xstrdup("<none>");
	}
}

struct filters {
	int dangling; /* -1 any */
	struct strv refs, labels;
	struct store_image *before, *since;
};

static bool label_match(const struct store_image *img, const char *want)
{
	cleanup_json struct json *labels = NULL;
	const char *eq = strchr(want, '=');
	cleanup_free char *key = eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
	if (!img->labels_json || json_parse(img->labels_json, strlen(img->labels_json), &labels, NULL) < 0)
		return false;
	struct json *v = json_object_get(labels, key);
	if (!v)
		return false;
	return !eq || (json_string(v) && !strcmp(json_string(v), eq + 1));
}

static bool ref_filter_match(const char *name, const char *pattern)
{
	if (ref_match_repo(name, pattern))
		return true;
	/* podman also accepts globs against the full and the familiar name */
	if (fnmatch(pattern, name, 0) == 0)
		return true;
	cleanup_ref struct image_ref *r = NULL;
	if (ref_parse(name, &r, NULL) == 0) {
		cleanup_free char *fam = ref_familiar(r);
		cleanup_free char *famname = ref_familiar_name(r);
		if (fnmatch(pattern, fam, 0) == 0 || fnmatch(pattern, famname, 0) == 0)
			return true;
	}
	return false;
}

static int parse_filters(struct skiff_ctx *ctx, struct filters *f, struct skiff_err **err)
{
	f->dangling = -1;
	for (size_t i = 0; i < ls.filters.len; i++) {
		const char *fl = ls.filters.v[i];
		const char *eq = strchr(fl, '=');
		if (!eq)
			return err_makex(err, EINVAL, "invalid filter \"%s\": expected KEY=VALUE", fl);
		size_t kl = (size_t)(eq - fl);
		const char *v = eq + 1;
		if (kl == 9 && !strncmp(fl, "reference", kl)) {
			strv_push(&f->refs, v);
		} else if (kl == 8 && !strncmp(fl, "dangling", kl)) {
			if (!strcmp(v, "true"))
				f->dangling = 1;
			else if (!strcmp(v, "false"))
				f->dangling = 0;
			else
				return err_makex(err, EINVAL, "invalid filter \"%s\": dangling must be true or false",
						 fl);
		} else if (kl == 5 && !strncmp(fl, "label", kl)) {
			strv_push(&f->labels, v);
		} else if ((kl == 6 && !strncmp(fl, "before", kl)) || (kl == 5 && !strncmp(fl, "since", kl))) {
			struct store_image **slot = fl[0] == 'b' ? &f->before : &f->since;
			if (image_lookup(ctx->store, v, slot, err) < 0)
				return err_wrap(err, "filter %.*s", (int)kl, fl);
		} else {
			return err_makex(err, EINVAL, "invalid filter \"%.*s\"", (int)kl, fl);
		}
	}
	return 0;
}

static bool image_passes(const struct filters *f, const struct store_image *img)
{
	if (f->dangling == 1 && img->names.len)
		return false;
	if (f->dangling == 0 && !img->names.len)
		return false;
	for (size_t i = 0; i < f->labels.len; i++)
		if (!label_match(img, f->labels.v[i]))
			return false;
	if (f->before && !(img->created < f->before->created ||
			   (img->created == f->before->created && img->created_nsec < f->before->created_nsec)))
		return false;
	if (f->since && !(img->created > f->since->created ||
			  (img->created == f->since->created && img->created_nsec > f->since->created_nsec)))
		return false;
	return true;
}

static void time_text(int64_t sec, char *buf, size_t n)
{
	struct tm tm;
	time_t t = (time_t)sec;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
}

static struct json *row_json(const struct row *r)
{
	struct json *o = json_new_object();
	char idbuf[80], size[32], created[64];
	char ago[64];
	human_duration_ago((int64_t)time(NULL) - r->img->created, ago, sizeof(ago));
	human_size_precision((double)r->img->size, 3, true, size, sizeof(size));
	time_text(r->img->created, created, sizeof(created));
	json_object_set_string(o, "ID", output_id(r->img->id, ls.no_trunc, idbuf));
	json_object_set_string(o, "Repository", r->repo);
	json_object_set_string(o, "Tag", r->tag);
	json_object_set_string(o, "Digest", r->img->digest ? r->img->digest : "");
	json_object_set_string(o, "Created", ago);
	json_object_set_string(o, "CreatedSince", ago);
	json_object_set_string(o, "CreatedAt", created);
	json_object_set_string(o, "Size", size);
	json_object_set_string(o, "VirtualSize", size);
	json_object_set_string(o, "SharedSize", "0 B");
	struct json *names = json_new_array();
	for (size_t i = 0; i < r->img->names.len; i++)
		json_array_append(names, json_new_string(r->img->names.v[i]));
	json_object_set(o, "Names", names);
	json_object_set_bool(o, "Dangling", r->img->names.len == 0);
	json_object_set_int(o, "Containers", 0);
	json_object_set_bool(o, "ReadOnly", false);
	struct json *labels = NULL;
	if (!r->img->labels_json || json_parse(r->img->labels_json, strlen(r->img->labels_json), &labels, NULL) < 0)
		labels = json_new_object();
	json_object_set(o, "Labels", labels);
	return o;
}

/* podman's `images --format json` object. */
static struct json *image_json(const struct store_image *img)
{
	struct json *o = json_new_object();
	char created[64];
	json_object_set_string(o, "Id", img->id);
	json_object_set_string(o, "ParentId", img->parent ? img->parent : "");
	struct json *tags = json_new_array();
	for (size_t i = 0; i < img->names.len; i++)
		json_array_append(tags, json_new_string(img->names.v[i]));
	json_object_set(o, "RepoTags", tags);
	json_object_set(o, "RepoDigests", json_new_array());
	json_object_set_int(o, "Size", (int64_t)img->size);
	json_object_set_int(o, "SharedSize", 0);
	json_object_set_int(o, "VirtualSize", (int64_t)img->size);
	struct json *labels = NULL;
	if (!img->labels_json || json_parse(img->labels_json, strlen(img->labels_json), &labels, NULL) < 0)
		labels = json_new_object();
	json_object_set(o, "Labels", labels);
	json_object_set_int(o, "Containers", 0);
	struct json *names = json_new_array();
	for (size_t i = 0; i < img->names.len; i++)
		json_array_append(names, json_new_string(img->names.v[i]));
	json_object_set(o, "Names", names);
	json_object_set_string(o, "Digest", img->digest ? img->digest : "");
	json_object_set_int(o, "Created", img->created);
	time_text(img->created, created, sizeof(created));
	json_object_set_string(o, "CreatedAt", created);
	return o;
}

static int images_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct store_image **imgs = NULL;
	struct row *rows = NULL;
	size_t n = 0, nrows = 0, alloc = 0;
	struct filters f = {0};
	int rc = -1;

	if (ls.sort && strcmp(ls.sort, "created") && strcmp(ls.sort, "id") && strcmp(ls.sort, "repository") &&
	    strcmp(ls.sort, "size") && strcmp(ls.sort, "tag"))
		return err_makex(err, EINVAL,
				 "\"%s\" is not a valid sort key: use created, id, repository, size or tag", ls.sort);
	if (parse_filters(ctx, &f, err) < 0)
		goto out;
	if (argc == 1)
		strv_push(&f.refs, argv[0]);
	if (store_image_list(ctx->store, &imgs, &n, err) < 0)
		goto out;
	/* podman's --format json shape differs from the template fields: build it only then */
	bool json_mode = ls.format && (!strcmp(ls.format, "json") || !strcmp(ls.format, "{{json .}}"));
	struct json *jrows = json_new_array();
	struct json *jimages = json_new_array();
	for (size_t i = 0; i < n; i++) {
		struct store_image *img = imgs[i];
		bool any = false;
		if (!image_passes(&f, img))
			continue;
		for (size_t k = 0; k < img->names.len; k++) {
			bool ok = f.refs.len == 0;
			for (size_t p = 0; p < f.refs.len && !ok; p++)
				ok = ref_filter_match(img->names.v[k], f.refs.v[p]);
			if (!ok)
				continue;
			ALLOC_GROW(rows, nrows + 1, alloc);
			rows[nrows].img = img;
			split_name(img->names.v[k], &rows[nrows].repo, &rows[nrows].tag);
			nrows++;
			any = true;
		}
		if (!img->names.len && f.refs.len == 0) {
			ALLOC_GROW(rows, nrows + 1, alloc);
			rows[nrows].img = img;
			rows[nrows].repo = xstrdup("<none>");
			rows[nrows].tag = xstrdup("<none>");
			nrows++;
			any = true;
		}
		if (any && json_mode)
			json_array_append(jimages, image_json(img));
	}
	if (nrows > 1)
		qsort(rows, nrows, sizeof(*rows), cmp_rows);
	if (ls.quiet) {
		struct strv seen = STRV_INIT;
		for (size_t i = 0; i < nrows; i++) {
			char idbuf[80];
			const char *id = output_id(rows[i].img->id, ls.no_trunc, idbuf);
			if (strv_contains(&seen, id))
				continue;
			strv_push(&seen, id);
			printf("%s\n", id);
		}
		strv_release(&seen);
		rc = 0;
	} else {
		for (size_t i = 0; i < nrows; i++)
			json_array_append(jrows, row_json(&rows[i]));
		const char *def =
			ls.digests
				? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
				: "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
		cleanup_free char *noheading_def = NULL;
		if (ls.noheading && !ls.format)
			noheading_def = xstrdup(def + 6);
		rc = output_rows(ls.format, noheading_def ? noheading_def : def, jrows, jimages, image_headers, err);
	}
	json_free(jrows);
	json_free(jimages);
out:
	for (size_t i = 0; i < nrows; i++) {
		free(rows[i].repo);
		free(rows[i].tag);
	}
	free(rows);
	store_images_free(imgs, n);
	strv_release(&f.refs);
	strv_release(&f.labels);
	store_image_free(f.before);
	store_image_free(f.since);
	return rc;
}

const struct cli_impl cli_images = {
	.usage = "[options] [IMAGE]",
	.description = "List images in local storage.",
	.opts = ls_opts,
	.max_args = 1,
	.run = images_run,
};

/* ---------------- image exists ---------------- */

static int exists_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct store_image *img = NULL;
	struct skiff_err *e = NULL;
	if (image_lookup(ctx->store, argv[0], &img, &e) == 0) {
		store_image_free(img);
		return 0;
	}
	if (err_status(e) == ENOENT) {
		err_free(e);
		return 1;
	}
	*err = e;
	return -1;
}

const struct cli_impl cli_image_exists = {
	.usage = "IMAGE",
	.description = "Check if an image exists in local storage. Exit status 0 when it does, 1 when it does not.",
	.min_args = 1,
	.max_args = 1,
	.run = exists_run,
};

/* ---------------- tag / untag ---------------- */

static int tag_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct store_image *img = NULL;
	int rc = 0;
	if (image_lookup(ctx->store, argv[0], &img, err) < 0)
		return -1;
	for (int i = 1; i < argc && rc == 0; i++) {
		cleanup_free char *name = NULL;
		cleanup_ref struct image_ref *r = NULL;
		if (ref_parse(argv[i], &r, err) < 0) {
			rc = -1;
			break;
		}
		if (r->digest) {
			rc = err_makex(err, EINVAL, "%s: cannot tag with a digest", argv[i]);
			break;
		}
		name = ref_string(r);
		rc = image_tag(ctx->store, img, name, err);
	}
	store_image_free(img);
	return rc;
}

const struct cli_impl cli_tag = {
	.usage = "IMAGE TARGET_NAME[:TAG] [TARGET_NAME[:TAG]...]",
	.description = "Add one or more names to a local image.",
	.min_args = 2,
	.max_args = -1,
	.run = tag_run,
};

static int untag_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct store_image *img = NULL;
	int rc = 0;
	if (image_lookup(ctx->store, argv[0], &img, err) < 0)
		return -1;
	if (argc == 1) {
		for (size_t i = 0; i < img->names.len && rc == 0; i++)
			rc = image_untag(ctx->store, img, img->names.v[i], err);
	}
	for (int i = 1; i < argc && rc == 0; i++) {
		cleanup_free char *name = NULL;
		if (image_normalize_name(argv[i], &name, err) < 0) {
			rc = -1;
			break;
		}
		if (!strv_contains(&img->names, name)) {
			rc = err_makex(err, ENOENT, "%s: tag not known", name);
			break;
		}
		rc = image_untag(ctx->store, img, name, err);
	}
	store_image_free(img);
	return rc;
}

const struct cli_impl cli_untag = {
	.usage = "IMAGE [IMAGE...]",
	.description = "Remove one or more names from a locally-stored image; with only IMAGE, remove all its names.",
	.min_args = 1,
	.max_args = -1,
	.run = untag_run,
};

/* ---------------- rmi / image rm ---------------- */

static struct {
	bool force, all, ignore;
} rm;

static const struct cli_opt rm_opts[] = {
	{"all", 'a', OPT_BOOL, &rm.all, NULL, "Remove all images", 0},
	{"force", 'f', OPT_BOOL, &rm.force, NULL, "Force removal of the image", 0},
	{"ignore", 'i', OPT_BOOL, &rm.ignore, NULL, "Ignore errors if a specified image does not exist", 0},
	{0},
};

static void print_report(const struct image_rm_report *rep)
{
	for (size_t i = 0; i < rep->untagged.len; i++)
		printf("Untagged: %s\n", rep->untagged.v[i]);
	for (size_t i = 0; i < rep->deleted.len; i++)
		printf("Deleted: %s\n", rep->deleted.v[i]);
}

static int rmi_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct image_rm_report rep = {STRV_INIT, STRV_INIT};
	int status = 0;
	if (rm.all && argc)
		return err_makex(err, EINVAL, "when using the --all switch, you may not pass any images names or IDs");
	if (!rm.all && !argc)
		return err_makex(err, EINVAL, "image name or ID must be specified");
	if (rm.all) {
		struct store_image **imgs = NULL;
		size_t n = 0;
		if (store_image_list(ctx->store, &imgs, &n, err) < 0)
			return -1;
		for (size_t i = 0; i < n && status == 0; i++) {
			if (rm.force && ctr_cli_remove_users(ctx, imgs[i]->id, err) < 0)
				status = -1;
			else if (image_remove(ctx->store, imgs[i]->id, true, &rep, err) < 0)
				status = -1;
		}
		store_images_free(imgs, n);
		print_report(&rep);
		image_rm_report_release(&rep);
		return status;
	}
	for (int i = 0; i < argc; i++) {
		struct skiff_err *e = NULL;
		if ((rm.force && ctr_cli_remove_users(ctx, argv[i], &e) < 0) ||
		    image_remove(ctx->store, argv[i], rm.force, &rep, &e) < 0) {
			if (err_status(e) == ENOENT && (rm.ignore || rm.force)) {
				err_free(e);
				continue;
			}
			/* podman reports every failure and exits 1 when an image was not found */
			fprintf(stderr, "Error: %s\n", e->msg);
			if (status == 0 || status == 1)
				status = err_status(e) == ENOENT ? 1 : (err_status(e) == EBUSY ? 2 : 125);
			err_free(e);
		}
	}
	print_report(&rep);
	image_rm_report_release(&rep);
	return status;
}

const struct cli_impl cli_rmi = {
	.usage = "[options] IMAGE [IMAGE...]",
	.description = "Remove one or more images from local storage.",
	.opts = rm_opts,
	.max_args = -1,
	.run = rmi_run,
};

/* ---------------- image prune ---------------- */

static struct {
	bool all, force;
} prune;

static const struct cli_opt prune_opts[] = {
	{"all", 'a', OPT_BOOL, &prune.all, NULL, "Remove all images not in use by containers, not just dangling ones",
	 0},
	{"force", 'f', OPT_BOOL, &prune.force, NULL, "Do not prompt for confirmation", 0},
	{0},
};

static int prune_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct image_rm_report rep = {STRV_INIT, STRV_INIT};
	if (!prune.force) {
		char answer[16] = "";
		fprintf(stderr,
			"WARNING! This command removes all %s images.\nAre you sure you want to continue? [y/N] ",
			prune.all ? "images not in use by containers" : "dangling");
		if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
			return 0;
	}
	int rc = image_prune(ctx->store, prune.all, &rep, err);
	for (size_t i = 0; i < rep.deleted.len; i++)
		printf("%s\n", rep.deleted.v[i]);
	image_rm_report_release(&rep);
	return rc;
}

const struct cli_impl cli_image_prune = {
	.usage = "[options]",
	.description = "Remove dangling images (with --all, every image not used by a container).",
	.opts = prune_opts,
	.max_args = 0,
	.run = prune_run,
};

/* ---------------- history ---------------- */

static struct {
	bool human, no_trunc, quiet;
	const char *format;
} hist = {.human = true};

static const struct cli_opt hist_opts[] = {
	{"format", 0, OPT_STRING, &hist.format, "FORMAT", "Change the output to JSON or a Go template", 0},
	{"human", 'H', OPT_BOOL, &hist.human, NULL, "Display sizes and dates in human readable format (default true)",
	 0},
	{"no-trunc", 0, OPT_BOOL, &hist.no_trunc, NULL, "Do not truncate the output", 0},
	{"quiet", 'q', OPT_BOOL, &hist.quiet, NULL, "Display the numeric IDs only", 0},
	{0},
};

static const struct header_name hist_headers[] = {
	{"CreatedSince", "CREATED"},
	{"CreatedBy", "CREATED BY"},
	{0},
};

static int history_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct store_image *img = NULL;
	struct json *raw = NULL;
	int rc;
	if (image_lookup(ctx->store, argv[0], &img, err) < 0)
		return -1;
	rc = image_history_json(ctx->store, img, &raw, err);
	store_image_free(img);
	if (rc < 0)
		return -1;
	if (hist.quiet) {
		for (size_t i = 0; i < json_array_len(raw); i++) {
			char idbuf[80];
			printf("%s\n",
			       output_id(json_object_get_string(json_array_get(raw, i), "ID"), hist.no_trunc, idbuf));
		}
		json_free(raw);
		return 0;
	}
	struct json *rows = json_new_array();
	for (size_t i = 0; i < json_array_len(raw); i++) {
		const struct json *h = json_array_get(raw, i);
		struct json *r = json_new_object();
		char idbuf[80], size[32];
		int64_t created = json_object_get(h, "Created")->u.num.i;
		int64_t sz = json_object_get(h, "Size")->u.num.i;
		char ago[64];
		human_duration_ago((int64_t)time(NULL) - created, ago, sizeof(ago));
		const char *by = json_object_get_string(h, "CreatedBy");
		json_object_set_string(r, "ID", output_id(json_object_get_string(h, "ID"), hist.no_trunc, idbuf));
		json_object_set_string(r, "Created", ago);
		json_object_set_string(r, "CreatedSince", ago);
		char at[64];
		time_text(created, at, sizeof(at));
		json_object_set_string(r, "CreatedAt", at);
		if (!hist.no_trunc && strlen(by) > 45) {
			cleanup_free char *t = xasprintf("%.42s...", by);
			json_object_set_string(r, "CreatedBy", t);
		} else {
			json_object_set_string(r, "CreatedBy", by);
		}
		if (hist.human)
			human_size_precision((double)sz, 3, true, size, sizeof(size));
		else
			snprintf(size, sizeof(size), "%lld", (long long)sz);
		json_object_set_string(r, "Size", size);
		json_object_set_string(r, "Comment", json_object_get_string(h, "Comment"));
		json_object_set(r, "Tags", json_clone(json_object_get(h, "Tags")));
		json_array_append(rows, r);
	}
	rc = output_rows(hist.format, "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}", rows,
			 raw, hist_headers, err);
	json_free(rows);
	json_free(raw);
	return rc;
}

const struct cli_impl cli_history = {
	.usage = "[options] IMAGE",
	.description = "Show the history of an image.",
	.opts = hist_opts,
	.min_args = 1,
	.max_args = 1,
	.run = history_run,
};

/* ---------------- inspect ---------------- */

static struct {
	const char *format, *type;
	bool size;
} insp;

static const struct cli_opt insp_opts[] = {
	{"format", 'f', OPT_STRING, &insp.format, "FORMAT", "Format the output using the given Go template or json", 0},
	{"type", 't', OPT_STRING, &insp.type, "TYPE", "Only inspect objects of this type (container, image, all)", 0},
	{"size", 's', OPT_BOOL, &insp.size, NULL, "Display the total file size (containers)", 0},
	{0},
};

static int inspect_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	return cli_inspect_objects(ctx, argc, argv, insp.type, insp.format, err);
}

int cli_inspect_objects(struct skiff_ctx *ctx, int argc, char **argv, const char *type, const char *format,
			struct skiff_err **err)
{
	struct json *all = json_new_array();
	int status = 0;
	if (type && strcmp(type, "image") && strcmp(type, "all") && strcmp(type, "container")) {
		json_free(all);
		return err_makex(err, EINVAL, "invalid type \"%s\": must be container, image or all", type);
	}
	bool want_ctr = !type || strcmp(type, "image");
	bool want_img = !type || strcmp(type, "container");
	for (int i = 0; i < argc; i++) {
		struct store_image *img = NULL;
		struct json *j = NULL;
		struct skiff_err *e = NULL;
		if (want_ctr) {
			int r = ctr_cli_inspect_one(ctx, argv[i], &j, &e);
			if (r == 0) {
				json_array_append(all, j);
				continue;
			}
			if (err_status(e) != ENOENT || !want_img) {
				if (err_status(e) == ENOENT)
					fprintf(stderr, "Error: no such container \"%s\"\n", argv[i]);
				else
					fprintf(stderr, "Error: %s\n", e->msg);
				err_free(e);
				status = 125;
				continue;
			}
			err_clear(&e);
		}
		if (image_lookup(ctx->store, argv[i], &img, &e) < 0 ||
		    image_inspect_json(ctx->store, img, &j, &e) < 0) {
			if (err_status(e) == ENOENT)
				fprintf(stderr, "Error: no such object: \"%s\"\n", argv[i]);
			else
				fprintf(stderr, "Error: %s\n", e->msg);
			err_free(e);
			store_image_free(img);
			status = 125;
			continue;
		}
		store_image_free(img);
		json_array_append(all, j);
	}
	int rc = 0;
	if (!format || !strcmp(format, "json")) {
		output_json(all);
	} else {
		rc = output_rows(format, NULL, all, NULL, NULL, err);
	}
	json_free(all);
	return rc < 0 ? rc : status;
}

const struct cli_impl cli_inspect = {
	.usage = "[options] NAME [NAME...]",
	.description = "Display the configuration of one or more containers or images in JSON (podman's shape).",
	.opts = insp_opts,
	.min_args = 1,
	.max_args = -1,
	.run = inspect_run,
};
