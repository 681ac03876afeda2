/* load, save, import */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/skiff/skiff.h"
#include "pkg/image/image.h"
#include "pkg/store/store.h"
#include "vendor-free/cleanup.h"

static struct {
	const char *input;
	bool quiet;
} ld;

static const struct cli_opt load_opts[] = {
	{"input", 'i', OPT_STRING, &ld.input, "FILE", "Read from specified archive file (default: stdin)", 0},
	{"quiet", 'q', OPT_BOOL, &ld.quiet, NULL, "Suppress the output", 0},
	{0},
};

static int load_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct image_load_opts o = {.input = ld.input, .tmpdir = ctx->cfg.tmpdir};
	struct strv names = STRV_INIT;
	if (image_load(ctx->store, &o, &names, err) < 0) {
		strv_release(&names);
		return -1;
	}
	for (size_t i = 0; i < names.len; i++)
		printf("Loaded image: %s\n", names.v[i]);
	strv_release(&names);
	return 0;
}

const struct cli_impl cli_load = {
	.usage = "[options]",
	.description = "Load images from a docker-archive or oci-archive (plain, gzip or zstd compressed), "
		       "from a file given with -i or from standard input.",
	.opts = load_opts,
	.max_args = 0,
	.run = load_run,
};

static struct {
	const char *output, *format;
	bool multi, quiet, compress;
} sv;

static const struct cli_opt save_opts[] = {
	{"compress", 0, OPT_BOOL, &sv.compress, NULL,
	 "Compress tarball image layers when saving to a directory (not supported yet, ignored)", OPT_HIDDEN},
	{"format", 0, OPT_STRING, &sv.format, "FORMAT",
	 "Save image to docker-archive, oci-archive or oci-dir (default docker-archive)", 0},
	{"multi-image-archive", 'm', OPT_BOOL, &sv.multi, NULL, "Write several images into one docker-archive", 0},
	{"output", 'o', OPT_STRING, &sv.output, "FILE",
	 "Write to a specified file (default: stdout, which must be redirected)", 0},
	{"quiet", 'q', OPT_BOOL, &sv.quiet, NULL, "Suppress the output", 0},
	{0},
};

static int save_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct image_save_opts o = {.output = sv.output, .multi = sv.multi};
	struct strv inputs = STRV_INIT;
	int rc;
	if (!sv.format || !strcmp(sv.format, "docker-archive"))
		o.format = SAVE_DOCKER_ARCHIVE;
	else if (!strcmp(sv.format, "oci-archive"))
		o.format = SAVE_OCI_ARCHIVE;
	else if (!strcmp(sv.format, "oci-dir"))
		o.format = SAVE_OCI_DIR;
	else
		return err_makex(err, EINVAL, "unsupported format \"%s\": use docker-archive, oci-archive or oci-dir",
				 sv.format);
	if (argc > 1 && o.format == SAVE_DOCKER_ARCHIVE)
		o.multi = true;
	if (argc > 1 && o.format != SAVE_DOCKER_ARCHIVE)
		return err_makex(err, EINVAL, "%s can hold only one image; use docker-archive (-m) for several",
				 sv.format);
	if ((!sv.output || !strcmp(sv.output, "-")) && isatty(STDOUT_FILENO))
		return err_makex(err, EINVAL, "refusing to save to terminal. Use -o flag or redirect");
	if (o.format == SAVE_OCI_DIR && (!sv.output || !strcmp(sv.output, "-")))
		return err_makex(err, EINVAL, "oci-dir needs a directory: use -o DIR");
	for (int i = 0; i < argc; i++)
		strv_push(&inputs, argv[i]);
	rc = image_save(ctx->store, &o, &inputs, err);
	strv_release(&inputs);
	return rc;
}

const struct cli_impl cli_save = {
	.usage = "[options] IMAGE [IMAGE...]",
	.description = "Save one or more images to a docker-archive, oci-archive or oci-dir. Layers are written "
		       "uncompressed and byte-identical to the ones loaded, so digests survive a round trip.",
	.opts = save_opts,
	.min_args = 1,
	.max_args = -1,
	.run = save_run,
};

static struct {
	struct strv changes;
	const char *message;
	bool quiet;
} im;

static const struct cli_opt import_opts[] = {
	{"change", 'c', OPT_LIST, &im.changes, "INSTRUCTION",
	 "Apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL)", 0},
	{"message", 'm', OPT_STRING, &im.message, "MESSAGE", "Set commit message for imported image", 0},
	{"quiet", 'q', OPT_BOOL, &im.quiet, NULL, "Suppress output", 0},
	{0},
};

static int import_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct image_import_opts o = {
		.input = argv[0],
		.reference = argc > 1 ? argv[1] : NULL,
		.changes = &im.changes,
		.message = im.message,
		.tmpdir = ctx->cfg.tmpdir,
	};
	cleanup_free char *id = NULL;
	if (image_import(ctx->store, &o, &id, err) < 0)
		return -1;
	printf("sha256:%s\n", id);
	return 0;
}

const struct cli_impl cli_import = {
	.usage = "[options] PATH [REFERENCE]",
	.description = "Create an image from a tarball of a root filesystem (PATH, or - for standard input).",
	.opts = import_opts,
	.min_args = 1,
	.max_args = 2,
	.run = import_run,
};
