/* push */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "cmd/skiff/progress.h"
#include "cmd/skiff/regopts.h"
#include "cmd/skiff/skiff.h"
#include "pkg/image/push.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"

static struct {
	struct cli_reg_flags reg;
	const char *digestfile, *format, *sign_by, *compression, *sign_passphrase_file;
	bool quiet, remove_signatures, no_trust;
	long level;
} ps = {.reg = CLI_REG_FLAGS_INIT, .level = -1};

static const struct cli_opt push_opts[] = {
	CLI_REG_OPTS(ps.reg),
	{"compression-format", 0, OPT_STRING, &ps.compression, "FORMAT",
	 "Compression format to use for the layers (gzip only)", 0},
	{"compression-level", 0, OPT_INT, &ps.level, "LEVEL",
	 "Compression level, 1 (fastest, the default) to 9 (smallest)", 0},
	{"digestfile", 0, OPT_STRING, &ps.digestfile, "PATH",
	 "Write the digest of the pushed image to the specified file", 0},
	{"disable-content-trust", 0, OPT_BOOL, &ps.no_trust, NULL, "This is a Docker specific option and is a NOOP", 0},
	{"format", 'f', OPT_STRING, &ps.format, "FORMAT",
	 "Manifest type (oci, v2s2) to use in the destination (default: the stored one)", 0},
	{"quiet", 'q', OPT_BOOL, &ps.quiet, NULL, "Suppress output information when pushing images", 0},
	{"remove-signatures", 0, OPT_BOOL, &ps.remove_signatures, NULL,
	 "Discard any pre-existing signatures in the image", 0},
	{"sign-by", 0, OPT_STRING, &ps.sign_by, "FINGERPRINT", "Sign the image with the GPG key of FINGERPRINT", 0},
	{"sign-passphrase-file", 0, OPT_STRING, &ps.sign_passphrase_file, "PATH",
	 "Read the passphrase of the --sign-by key from PATH", 0},
	{0},
};

static int push_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct image_push_opts o = {
		.format = ps.format,
		.remove_signatures = ps.remove_signatures,
		.compression_level = ps.level < 0 ? 1 : (int)ps.level,
	};
	struct cli_reg reg;
	char digest[DIGEST_STR_LEN + 1];
	const char *dest = argc > 1 ? argv[1] : NULL;

	cleanup_free char *pass = NULL;
	if (ps.sign_passphrase_file) {
		size_t len;
		if (read_file_at(AT_FDCWD, ps.sign_passphrase_file, 4096, &pass, &len, err) < 0)
			return err_wrap(err, "--sign-passphrase-file");
		pass[strcspn(pass, "\n")] = '\0';
	}
	if (ps.compression && strcmp(ps.compression, "gzip") != 0)
		return err_makex(err, ENOTSUP, "--compression-format %s: only gzip is supported", ps.compression);
	if (ps.level != -1 && (ps.level < 1 || ps.level > 9))
		return err_makex(err, EINVAL, "invalid --compression-level %ld: want 1 to 9", ps.level);
	if (cli_reg_setup(ctx, &ps.reg, &reg, err) < 0)
		return -1;
	if (cli_reg_push_target(&reg, dest ? dest : argv[0], &o.insecure, err) < 0) {
		cli_reg_release(&reg);
		return -1;
	}
	o.reg = reg.ro;
	o.sign_by = ps.sign_by;
	o.sign_passphrase = pass;
	o.rootless = ctx->cfg.rootless;
	struct progress *pr = progress_new(stderr, ps.quiet);
	o.progress = progress_event;
	o.progress_ud = pr;
	int rc = image_push(ctx->store, argv[0], dest, &o, digest, err);
	progress_free(pr);
	cli_reg_release(&reg);
	if (rc < 0)
		return -1;
	if (ps.digestfile && write_file_atomic(AT_FDCWD, ps.digestfile, digest, strlen(digest), 0644, err) < 0)
		return err_wrap(err, "--digestfile");
	return 0;
}

const struct cli_impl cli_push = {
	.usage = "[options] IMAGE [DESTINATION]",
	.description = "Push an image from local storage to a registry (DESTINATION, or the image's name). Layers "
		       "the registry already has are skipped, layers another repository of the same registry has are "
		       "mounted, and the others are compressed with gzip while they are uploaded; the blob digests "
		       "are remembered so that pushing again uploads nothing.",
	.opts = push_opts,
	.min_args = 1,
	.max_args = 2,
	.run = push_run,
};
