/* pull */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/skiff/progress.h"
#include "cmd/skiff/regopts.h"
#include "cmd/skiff/skiff.h"
#include "pkg/image/pull.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

static struct {
	struct cli_reg_flags reg;
	const char *arch, *os, *variant, *platform;
	bool quiet, all_tags, no_trust;
} pl = {.reg = CLI_REG_FLAGS_INIT};

static const struct cli_opt pull_opts[] = {
	{"all-tags", 'a', OPT_BOOL, &pl.all_tags, NULL, "All tagged images in the repository will be pulled", 0},
	{"arch", 0, OPT_STRING, &pl.arch, "ARCH",
	 "Use ARCH instead of the architecture of the machine for choosing images", 0},
	CLI_REG_OPTS(pl.reg),
	{"disable-content-trust", 0, OPT_BOOL, &pl.no_trust, NULL, "This is a Docker specific option and is a NOOP", 0},
	{"os", 0, OPT_STRING, &pl.os, "OS", "Use OS instead of the running OS for choosing images", 0},
	{"platform", 0, OPT_STRING, &pl.platform, "OS/ARCH[/VARIANT]", "Specify the platform for selecting the image",
	 0},
	{"quiet", 'q', OPT_BOOL, &pl.quiet, NULL, "Suppress output information when pulling images", 0},
	{"variant", 0, OPT_STRING, &pl.variant, "VARIANT",
	 "Use VARIANT instead of the running architecture variant for choosing images", 0},
	{0},
};

static int pull_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct image_pull_opts o = {.os = pl.os, .arch = pl.arch, .variant = pl.variant};
	cleanup_free char *plat = NULL;
	struct cli_reg reg;
	int rc = 0;

	if (pl.platform) {
		if (pl.os || pl.arch || pl.variant)
			return err_makex(err, EINVAL, "--platform conflicts with --os, --arch and --variant");
		if (cli_parse_platform(pl.platform, &plat, &o.os, &o.arch, &o.variant, err) < 0)
			return -1;
	}
	if (cli_reg_setup(ctx, &pl.reg, &reg, err) < 0)
		return -1;
	reg.quiet = pl.quiet;
	cli_reg_pull_opts(&reg, &o);
	struct progress *pr = progress_new(stderr, pl.quiet);
	o.progress = progress_event;
	o.progress_ud = pr;
	for (int i = 0; i < argc && rc == 0; i++) {
		struct strv refs = STRV_INIT;
		if (pl.all_tags) {
			if (image_pull_list_tags(argv[i], &o, &refs, err) < 0) {
				rc = -1;
				break;
			}
		} else {
			strv_push(&refs, argv[i]);
		}
		for (size_t k = 0; k < refs.len && rc == 0; k++) {
			cleanup_free char *id = NULL;
			if (image_pull(ctx->store, refs.v[k], &o, &id, err) < 0) {
				rc = -1;
			} else {
				printf("%s\n", id);
				cli_reg_record_alias(&reg);
			}
		}
		strv_release(&refs);
	}
	progress_free(pr);
	cli_reg_release(&reg);
	return rc;
}

const struct cli_impl cli_pull = {
	.usage = "[options] IMAGE [IMAGE...]",
	.description = "Pull images from a registry into local storage. Layers are downloaded in parallel and "
		       "unpacked while they arrive; layers already in the store are not fetched again. A short "
		       "name is resolved with registries.conf (unqualified-search-registries and aliases), "
		       "docker.io when nothing is configured.",
	.opts = pull_opts,
	.min_args = 1,
	.max_args = -1,
	.run = pull_run,
};
