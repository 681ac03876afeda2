/* manifest create/add/annotate/inspect/push/remove/rm/exists: thin fronts over
 * pkg/image/manifest. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/skiff/progress.h"
#include "cmd/skiff/regopts.h"
#include "cmd/skiff/skiff.h"
#include "pkg/image/manifest.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

/* Registry access for remote references: the flags, then registries.conf. */
static int reg_begin(struct skiff_ctx *ctx, const struct cli_reg_flags *f, struct cli_reg *reg,
		     struct image_pull_opts *po, struct skiff_err **err)
{
	if (cli_reg_setup(ctx, f, reg, err) < 0)
		return -1;
	cli_reg_pull_opts(reg, po);
	return 0;
}

/* ---------------- create / add ---------------- */

#define PLATFORM_OPTS(s)                                                                                                 \
	{"annotation", 0, OPT_LIST, &(s).annotations, "KEY=VALUE", "Set an annotation for the specified image", 0},      \
		{"arch", 0, OPT_STRING, &(s).arch, "ARCH", "Override the architecture of the specified image", 0},       \
		{"features", 0, OPT_LIST, &(s).features, "FEATURES", "Override the features of the specified image", 0}, \
		{"os", 0, OPT_STRING, &(s).os, "OS", "Override the OS of the specified image", 0},                       \
		{"os-version",                                                                                           \
		 0,                                                                                                      \
		 OPT_STRING,                                                                                             \
		 &(s).os_version,                                                                                        \
		 "VERSION",                                                                                              \
		 "Override the OS version of the specified image",                                                       \
		 0},                                                                                                     \
	{                                                                                                                \
		"variant", 0, OPT_STRING, &(s).variant, "VARIANT", "Override the variant of the specified image", 0      \
	}

struct plat_flags {
	const char *arch, *os, *os_version, *variant;
	struct strv annotations, features, os_features;
};

static void plat_opts(const struct plat_flags *f, struct manifest_platform_opts *o)
{
	o->arch = f->arch;
	o->os = f->os;
	o->os_version = f->os_version;
	o->variant = f->variant;
	o->annotations = &f->annotations;
	o->features = &f->features;
	o->os_features = &f->os_features;
}

static struct {
	struct cli_reg_flags reg;
	struct plat_flags plat;
	bool all, amend;
} ad = {.reg = CLI_REG_FLAGS_INIT};

static const struct cli_opt create_opts[] = {
	{"all", 0, OPT_BOOL, &ad.all, NULL, "Add all of the lists' images if the images to add are lists", 0},
	{"amend", 'a', OPT_BOOL, &ad.amend, NULL, "Modify an existing list if one with the desired name already exists",
	 0},
	CLI_REG_OPTS(ad.reg),
	{0},
};

static const struct cli_opt add_opts[] = {
	{"all", 0, OPT_BOOL, &ad.all, NULL, "Add all of the list's images if the image is a list", 0},
	CLI_REG_OPTS(ad.reg),
	PLATFORM_OPTS(ad.plat),
	{0},
};

static int add_images(struct skiff_ctx *ctx, const char *list, int n, char **images, char **ret_id,
		      struct skiff_err **err)
{
	struct image_pull_opts po = {0};
	struct cli_reg reg;
	struct manifest_add_opts o = {.all = ad.all, .pull = &po};
	int rc = 0;
	if (reg_begin(ctx, &ad.reg, &reg, &po, err) < 0)
		return -1;
	plat_opts(&ad.plat, &o.plat);
	for (int i = 0; i < n && rc == 0; i++) {
		free(*ret_id);
		*ret_id = NULL;
		rc = manifest_list_add(ctx->store, list, images[i], &o, ret_id, err);
	}
	cli_reg_release(&reg);
	return rc;
}

static int create_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	cleanup_free char *id = NULL;
	if (manifest_list_create(ctx->store, argv[0], ad.amend, &id, err) < 0)
		return -1;
	if (argc > 1 && add_images(ctx, argv[0], argc - 1, argv + 1, &id, err) < 0)
		return -1;
	printf("%s\n", id);
	return 0;
}

const struct cli_impl cli_manifest_create = {
	.usage = "[options] LIST [IMAGE...]",
	.description = "Create a manifest list (a Docker manifest list, or an OCI image index once pushed with "
		       "--format oci) named LIST, stored locally as localhost/LIST:latest for a short name, and add "
		       "the IMAGEs to it as `manifest add` does. Prints the list's ID.",
	.opts = create_opts,
	.min_args = 1,
	.max_args = -1,
	.run = create_run,
};

static int add_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	cleanup_free char *id = NULL;
	if (add_images(ctx, argv[0], argc - 1, argv + 1, &id, err) < 0)
		return -1;
	printf("%s\n", id);
	return 0;
}

const struct cli_impl cli_manifest_add = {
	.usage = "[options] LIST IMAGE [IMAGE...]",
	.description = "Add images to a manifest list. IMAGE is a local image (also written "
		       "containers-storage:IMAGE), or a registry reference (docker://REF, or a name no local image "
		       "has): its manifest is fetched, and for a list the entry for this platform (all entries "
		       "with --all). The entry's platform comes from the image's config unless --arch, --os, "
		       "--variant, --os-version or --features override it. Adding an image already in the list "
		       "replaces its entry. Prints the list's ID.",
	.opts = add_opts,
	.min_args = 2,
	.max_args = -1,
	.run = add_run,
};

/* ---------------- annotate ---------------- */

static struct plat_flags an;

static const struct cli_opt annotate_opts[] = {
	PLATFORM_OPTS(an),
	{"os-features", 0, OPT_LIST, &an.os_features, "FEATURES", "Override the OS features of the specified image", 0},
	{0},
};

static int annotate_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct manifest_platform_opts o = {0};
	cleanup_free char *id = NULL;
	(void)argc;
	plat_opts(&an, &o);
	if (manifest_list_annotate(ctx->store, argv[0], argv[1], &o, &id, err) < 0)
		return -1;
	printf("%s\n", id);
	return 0;
}

const struct cli_impl cli_manifest_annotate = {
	.usage = "[options] LIST IMAGE",
	.description = "Add or update information about an entry of a manifest list: IMAGE is the entry's digest "
		       "(sha256:...) or a local image in the list. --annotation replaces the entry's annotations; "
		       "the other options set the platform fields. Prints the list's ID.",
	.opts = annotate_opts,
	.min_args = 2,
	.max_args = 2,
	.run = annotate_run,
};

/* ---------------- inspect ---------------- */

static struct {
	struct cli_reg_flags reg;
} in = {.reg = CLI_REG_FLAGS_INIT};

static const struct cli_opt inspect_opts[] = {
	CLI_REG_OPTS(in.reg),
	{0},
};

static int inspect_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct strbuf out = STRBUF_INIT;
	struct skiff_err *e = NULL;
	(void)argc;
	if (strncmp(argv[0], "docker://", 9) != 0) {
		if (manifest_list_inspect(ctx->store, argv[0], &out, &e) == 0) {
			printf("%s\n", out.buf);
			strbuf_release(&out);
			return 0;
		}
		/* not a local list: podman looks in the registry */
		if (err_status(e) != ENOENT && err_status(e) != EMEDIUMTYPE) {
			*err = e;
			return -1;
		}
		err_free(e);
	}
	struct image_pull_opts po = {0};
	struct cli_reg reg;
	bool single = false;
	if (reg_begin(ctx, &in.reg, &reg, &po, err) < 0)
		return -1;
	int rc = manifest_remote_inspect(argv[0], &po, &out, &single, err);
	cli_reg_release(&reg);
	if (rc == 0) {
		if (single)
			skiff_warn(ctx, "The manifest type of %s is not a manifest list but a single image.", argv[0]);
		printf("%s\n", out.buf);
	}
	strbuf_release(&out);
	return rc;
}

const struct cli_impl cli_manifest_inspect = {
	.usage = "[options] LIST|IMAGE",
	.description = "Display the contents of a manifest list or image index as JSON. A name that is not a local "
		       "list (or docker://REF) is looked up in its registry, and its manifest (a list, or a single "
		       "image's manifest) is shown.",
	.opts = inspect_opts,
	.min_args = 1,
	.max_args = 1,
	.run = inspect_run,
};

/* ---------------- push ---------------- */

static struct {
	struct cli_reg_flags reg;
	const char *digestfile, *format, *sign_by, *compression;
	bool all, quiet, rm, remove_signatures;
} ps = {.reg = CLI_REG_FLAGS_INIT, .all = true};

static const struct cli_opt push_opts[] = {
	{"all", 0, OPT_BOOL, &ps.all, NULL, "Also push the images in the list (default true)", 0},
	CLI_REG_OPTS(ps.reg),
	{"compression-format", 0, OPT_STRING, &ps.compression, "FORMAT",
	 "Compression format to use for the layers (gzip only)", 0},
	{"digestfile", 0, OPT_STRING, &ps.digestfile, "PATH", "Write the digest of the pushed list to PATH", 0},
	{"format", 'f', OPT_STRING, &ps.format, "FORMAT",
	 "Manifest type (oci or v2s2) to use for the list and its images (default: the list's)", 0},
	{"quiet", 'q', OPT_BOOL, &ps.quiet, NULL, "Don't output progress information when pushing lists", 0},
	{"remove-signatures", 0, OPT_BOOL, &ps.remove_signatures, NULL, "Don't copy signatures when pushing images", 0},
	{"rm", 0, OPT_BOOL, &ps.rm, NULL, "Remove the manifest list if push succeeds", 0},
	{"sign-by", 0, OPT_STRING, &ps.sign_by, "FINGERPRINT", "Sign the image with the GPG key of FINGERPRINT", 0},
	{0},
};

static void on_instance(void *ud, const char *digest, size_t i, size_t n)
{
	(void)ud;
	if (ps.quiet)
		return;
	if (i == 1)
		fprintf(stderr, "Getting image list signatures\nCopying %zu of %zu images in list\n", n, n);
	fprintf(stderr, "Copying image %s (%zu/%zu)\n", digest, i, n);
}

static int push_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct manifest_push_opts o = {.all = ps.all, .rm = ps.rm, .on_instance = on_instance};
	struct cli_reg reg;
	char digest[DIGEST_STR_LEN + 1];
	const char *dest = argc > 1 ? argv[1] : NULL;
	cleanup_store_list struct store_list *sl = NULL;

	if (ps.sign_by)
		return err_makex(err, ENOTSUP, "--sign-by: signing is not supported yet");
	if (ps.compression && strcmp(ps.compression, "gzip") != 0)
		return err_makex(err, ENOTSUP, "--compression-format %s: only gzip is supported", ps.compression);
	if (!dest) {
		/* the destination's registries.conf entry is the list's name's */
		if (manifest_list_lookup(ctx->store, argv[0], &sl, err) < 0)
			return -1;
		dest = sl->name;
	}
	if (cli_reg_setup(ctx, &ps.reg, &reg, err) < 0)
		return -1;
	if (cli_reg_push_target(&reg, dest, &o.push.insecure, err) < 0) {
		cli_reg_release(&reg);
		return -1;
	}
	o.push.reg = reg.ro;
	o.push.format = ps.format;
	o.push.remove_signatures = ps.remove_signatures;
	struct progress *pr = progress_new(stderr, ps.quiet);
	o.push.progress = progress_event;
	o.push.progress_ud = pr;
	int rc = manifest_list_push(ctx->store, argv[0], dest, &o, digest, err);
	progress_free(pr);
	cli_reg_release(&reg);
	if (rc < 0)
		return -1;
	if (!ps.quiet)
		fprintf(stderr, "Writing manifest list to image destination\nStoring list signatures\n");
	if (ps.digestfile && write_file_atomic(AT_FDCWD, ps.digestfile, digest, strlen(digest), 0644, err) < 0)
		return err_wrap(err, "--digestfile");
	return 0;
}

const struct cli_impl cli_manifest_push = {
	.usage = "[options] LIST [DESTINATION]",
	.description = "Push a manifest list to a registry as DESTINATION ([docker://]HOST/PATH:TAG; default: the "
		       "list's name). With --all (the default) each local image in the list is pushed first, by "
		       "digest, and the list names what was pushed; entries added from a registry are copied "
		       "(mounted within one registry). Without it the registry must already hold every entry.",
	.opts = push_opts,
	.min_args = 1,
	.max_args = 2,
	.run = push_run,
};

/* ---------------- remove / rm / exists ---------------- */

static int remove_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	cleanup_free char *id = NULL;
	(void)argc;
	if (manifest_list_remove(ctx->store, argv[0], argv[1], &id, err) < 0)
		return -1;
	printf("%s\n", id);
	return 0;
}

const struct cli_impl cli_manifest_remove = {
	.usage = "LIST DIGEST",
	.description = "Remove the entry with DIGEST from a manifest list. Prints the list's ID.",
	.min_args = 2,
	.max_args = 2,
	.run = remove_run,
};

static int rm_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct image_rm_report rep = {STRV_INIT, STRV_INIT};
	int status = 0;
	(void)err;
	for (int i = 0; i < argc; i++) {
		struct skiff_err *e = NULL;
		if (manifest_list_delete(ctx->store, argv[i], &rep, &e) < 0) {
			/* as rmi: every failure reported, exit 1 when one was not found */
			fprintf(stderr, "Error: %s\n", e->msg);
			if (status == 0 || status == 1)
				status = err_status(e) == ENOENT ? 1 : 125;
			err_free(e);
		}
	}
	for (size_t i = 0; i < rep.untagged.len; i++)
		printf("Untagged: %s\n", rep.untagged.v[i]);
	for (size_t i = 0; i < rep.deleted.len; i++)
		printf("Deleted: %s\n", rep.deleted.v[i]);
	image_rm_report_release(&rep);
	return status;
}

const struct cli_impl cli_manifest_rm = {
	.usage = "LIST [LIST...]",
	.description = "Remove manifest lists from local storage (not the images they list). Exit status 1 when a "
		       "list does not exist.",
	.min_args = 1,
	.max_args = -1,
	.run = rm_run,
};

static int exists_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct store_list *sl = NULL;
	struct skiff_err *e = NULL;
	(void)argc;
	if (manifest_list_lookup(ctx->store, argv[0], &sl, &e) == 0) {
		store_list_free(sl);
		return 0;
	}
	if (err_status(e) == ENOENT) {
		err_free(e);
		return 1;
	}
	*err = e;
	return -1;
}

const struct cli_impl cli_manifest_exists = {
	.usage = "LIST",
	.description = "Check if a manifest list exists in local storage. Exit status 0 when it does, 1 when it does "
		       "not (an image that is not a list is an error).",
	.min_args = 1,
	.max_args = 1,
	.run = exists_run,
};
