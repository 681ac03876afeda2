/* cmd/skiff: commit, diff, export. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/skiff/ctr-cli.h"
#include "cmd/skiff/output.h"
#include "pkg/engine/changes.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

/* ---------------- diff ---------------- */

static struct {
	const char *format;
	bool latest;
} df;

static const struct cli_opt diff_opts[] = {
	{"format", 0, OPT_STRING, &df.format, "FORMAT", "Change the output format (json)", 0},
	{"latest", 'l', OPT_BOOL, &df.latest, NULL, "Act on the latest container skiff is aware of", 0},
	{0},
};

/* The newest container (-l). */
static int latest_ref(struct engine *e, char **ret, struct skiff_err **err)
{
	struct ctr *v = NULL;
	size_t n = 0;
	if (ctr_list(e, &v, &n, err) < 0)
		return -1;
	if (!n) {
		ctr_list_free(v, n);
		return err_makex(err, ENOENT, "no containers to act on with --latest");
	}
	*ret = xstrdup(v[0].row.id);
	ctr_list_free(v, n);
	return 0;
}

/* One container from argv[0] or -l. */
static int lookup_one(struct engine *e, int argc, char **argv, bool latest, struct ctr *ret, struct skiff_err **err)
{
	cleanup_free char *ref = NULL;
	if (latest && argc > 0)
		return err_makex(err, EINVAL, "--latest and containers cannot be used together");
	if (!latest && argc < 1)
		return err_makex(err, EINVAL, "a container name or ID is required");
	if (latest && latest_ref(e, &ref, err) < 0)
		return -1;
	return ctr_lookup(e, ref ? ref : argv[0], ret, err);
}

static void print_changes_json(const struct change_list *l)
{
	static const struct {
		const char *key;
		enum change_kind kind;
	} groups[] = {{"changed", CHANGE_MODIFY}, {"added", CHANGE_ADD}, {"deleted", CHANGE_DELETE}};
	struct json *o = json_new_object();
	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		struct json *a = NULL;
		for (size_t i = 0; i < l->len; i++) {
			if (l->v[i].kind != groups[g].kind)
				continue;
			if (!a)
				a = json_new_array();
			json_array_append(a, json_new_string(l->v[i].path));
		}
		if (a)
			json_object_set(o, groups[g].key, a);
	}
	struct strbuf sb = STRBUF_INIT;
	json_dump(o, 5, &sb); /* podman indents diff's JSON by five spaces */
	json_free(o);
	printf("%s\n", sb.buf);
	strbuf_release(&sb);
}

static int diff_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	if (df.format && strcmp(df.format, "json"))
		return err_makex(err, EINVAL, "--format %s: only json is supported", df.format);
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr c = {0};
	struct change_list l = {0};
	int rc = lookup_one(&e, argc, argv, df.latest, &c, err);
	if (rc == 0) {
		rc = ctr_diff(&e, &c, &l, err);
	} else if (err_status(*err) == ENOENT && argc == 1 && !df.latest) {
		/* not a container: an image's top layer, as podman */
		struct skiff_err *ctr_err = TAKE_PTR(*err);
		rc = image_diff(&e, argv[0], &l, err);
		if (rc < 0 && err_status(*err) == ENOENT) {
			err_clear(err);
			err_makex(err, ENOENT, "%s not found: no container or image of that name or ID", argv[0]);
		}
		err_free(ctr_err);
	}
	if (rc == 0 && df.format) {
		print_changes_json(&l);
	} else if (rc == 0) {
		for (size_t i = 0; i < l.len; i++)
			printf("%s %s\n", change_kind_letter(l.v[i].kind), l.v[i].path);
	}
	change_list_release(&l);
	ctr_release(&c);
	ctr_cli_engine_release(&e);
	return rc < 0 ? -1 : 0;
}

const struct cli_impl cli_diff = {
	.usage = "[options] CONTAINER|IMAGE",
	.description =
		"Show the changes in a container's filesystem since it was created from its image (or those of an "
		"image's top layer against the layers below it): one line per "
		"path, \"A\" added, \"C\" changed, \"D\" deleted, in the order of a walk of the tree (a directory "
		"with an added or deleted entry is listed as changed). The files skiff itself makes for a run "
		"(/etc/hosts, /etc/resolv.conf, /etc/hostname, /run/.containerenv ...) are left out. "
		"--format json groups the paths as {\"changed\", \"added\", \"deleted\"}.",
	.opts = diff_opts,
	.max_args = 1,
	.run = diff_run,
};

/* ---------------- export ---------------- */

static struct {
	const char *output;
} ex;

static const struct cli_opt export_opts[] = {
	{"output", 'o', OPT_STRING, &ex.output, "FILE",
	 "Write to a specified file (default: stdout, which must be redirected)", 0},
	{0},
};

static int export_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)argc;
	cleanup_close int fd = -1;
	bool to_file = ex.output && *ex.output && strcmp(ex.output, "-");
	if (!to_file && isatty(STDOUT_FILENO))
		return err_makex(err, EINVAL, "refusing to export to terminal: use -o or redirect the output");
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr c = {0};
	int rc = ctr_lookup(&e, argv[0], &c, err);
	if (rc == 0 && to_file) {
		fd = open(ex.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			rc = err_make(err, errno, "create %s", ex.output);
	}
	if (rc == 0)
		rc = ctr_export(&e, &c, to_file ? fd : STDOUT_FILENO, err);
	if (rc == 0 && to_file) {
		if (fsync(fd) < 0 && errno != EINVAL)
			rc = err_make(err, errno, "write %s", ex.output);
		else if (close(TAKE_FD(fd)) < 0)
			rc = err_make(err, errno, "write %s", ex.output);
	}
	if (rc < 0 && to_file && fd >= 0)
		unlink(ex.output); /* a half-written tar is no use */
	ctr_release(&c);
	ctr_cli_engine_release(&e);
	return rc < 0 ? -1 : 0;
}

const struct cli_impl cli_export = {
	.usage = "[options] CONTAINER",
	.description = "Export the container's root filesystem (its image's layers with the container's changes) as a "
		       "tar archive to stdout or to a file. Volumes and the mounts of a running container are not "
		       "included. A terminal as stdout is refused.",
	.opts = export_opts,
	.min_args = 1,
	.max_args = 1,
	.run = export_run,
};

/* ---------------- commit ---------------- */

static struct {
	const char *author, *message, *format, *iidfile;
	struct strv changes;
	bool pause, quiet, squash, include_volumes;
} cm;

static const struct cli_opt commit_opts[] = {
	{"author", 'a', OPT_STRING, &cm.author, "AUTHOR", "Set the author for the image committed", 0},
	{"change", 'c', OPT_LIST, &cm.changes, "INSTRUCTION",
	 "Apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, "
	 "WORKDIR",
	 0},
	{"format", 'f', OPT_STRING, &cm.format, "FORMAT", "Format of the image manifest and metadata (oci, docker)", 0},
	{"iidfile", 0, OPT_STRING, &cm.iidfile, "FILE", "Write the image ID to the file", 0},
	{"include-volumes", 0, OPT_BOOL, &cm.include_volumes, NULL, "Include container volumes as image volumes",
	 OPT_HIDDEN},
	{"message", 'm', OPT_STRING, &cm.message, "MESSAGE", "Set the commit message (the history comment)", 0},
	{"pause", 'p', OPT_BOOL, &cm.pause, NULL, "Pause container during commit", 0},
	{"quiet", 'q', OPT_BOOL, &cm.quiet, NULL, "Suppress output", 0},
	{"squash", 's', OPT_BOOL, &cm.squash, NULL, "Squash the image into one layer holding the whole filesystem", 0},
	{0},
};

static void print_progress(void *ud, const char *line)
{
	(void)ud;
	fprintf(stderr, "%s\n", line);
}

static int commit_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	enum spec_format fmt = SPEC_FORMAT_OCI;
	if (cm.format && !strcmp(cm.format, "docker"))
		fmt = SPEC_FORMAT_DOCKER;
	else if (cm.format && strcmp(cm.format, "oci"))
		return err_makex(err, EINVAL, "unrecognized image type \"%s\": use oci or docker", cm.format);
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr c = {0};
	cleanup_free char *id = NULL;
	struct ctr_commit_opts o = {
		.reference = argc > 1 ? argv[1] : NULL,
		.changes = &cm.changes,
		.author = cm.author,
		.message = cm.message,
		.format = fmt,
		.squash = cm.squash,
		.pause = cm.pause,
		.progress = cm.quiet ? NULL : print_progress,
	};
	int rc = ctr_lookup(&e, argv[0], &c, err);
	if (rc == 0)
		rc = ctr_commit(&e, &c, &o, &id, err);
	if (rc == 0 && cm.iidfile) {
		cleanup_close int fd = open(cm.iidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		cleanup_free char *line = xasprintf("sha256:%s", id);
		if (fd < 0 || write_all(fd, line, strlen(line)) < 0)
			rc = err_make(err, errno, "write the image ID to %s", cm.iidfile);
	}
	if (rc == 0)
		printf("%s\n", id);
	ctr_release(&c);
	ctr_cli_engine_release(&e);
	strv_release(&cm.changes);
	return rc < 0 ? -1 : 0;
}

const struct cli_impl cli_commit = {
	.usage = "[options] CONTAINER [IMAGE]",
	.description =
		"Create an image from a container: its image's layers plus one layer with the container's changes "
		"(with --squash, one layer holding its whole filesystem). The image's config takes the container's "
		"environment, entrypoint, command, working directory, user, labels and stop signal, then the -c "
		"instructions; a history entry (author -a, comment -m) is added. An IMAGE without a registry is "
		"stored as localhost/IMAGE. Prints progress to stderr (none with -q) and the new image's ID.",
	.opts = commit_opts,
	.min_args = 1,
	.max_args = 2,
	.run = commit_run,
};
