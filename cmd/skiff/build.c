/* build (image build): a Dockerfile and a context into an image (pkg/build). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/skiff/ctr-cli.h"
#include "cmd/skiff/progress.h"
#include "cmd/skiff/regopts.h"
#include "cmd/skiff/skiff.h"
#include "pkg/build/build.h"
#include "pkg/image/pull.h"
#include "pkg/spec/image.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

static struct {
	struct strv tags, files, build_args, labels, secrets, cache_from, annotations;
	const char *target, *pull, *iidfile, *format, *network, *platform;
	bool layers, rm, no_cache, force_rm, quiet, squash, squash_all, pull_always, pull_never;
	struct cli_reg_flags reg;
} bo = {.reg = CLI_REG_FLAGS_INIT, .layers = true, .rm = true};

static const struct cli_opt build_opts[] = {
	{"build-arg", 0, OPT_LIST, &bo.build_args, "NAME[=VALUE]",
	 "Set a build-time variable (NAME alone: from the environment)", 0},
	{"cache-from", 0, OPT_LIST, &bo.cache_from, "IMAGE",
	 "Reuse the layers of IMAGE (pulled when missing; repeatable or a comma list) for steps that miss the local "
	 "cache",
	 0},
	{"file", 'f', OPT_LIST, &bo.files, "FILE", "Containerfile/Dockerfile to use (\"-\": stdin)", 0},
	{"force-rm", 0, OPT_BOOL, &bo.force_rm, NULL, "Always remove intermediate containers, even after a failure", 0},
	{"format", 0, OPT_STRING, &bo.format, "FORMAT", "Format of the image manifest and metadata (oci, docker)", 0},
	{"iidfile", 0, OPT_STRING, &bo.iidfile, "FILE", "Write the image ID to the file", 0},
	{"label", 0, OPT_LIST, &bo.labels, "KEY=VALUE", "Set a label on the image", 0},
	{"layers", 0, OPT_BOOL, &bo.layers, NULL,
	 "Cache intermediate images (default true; false: no cache, intermediate images removed)", 0},
	{"network", 0, OPT_STRING, &bo.network, "MODE",
	 "Network of RUN instructions: host (the default: no per-step setup), none, or private/default (podman's "
	 "own network, as run)",
	 0},
	{"no-cache", 0, OPT_BOOL, &bo.no_cache, NULL, "Do not use existing cached images", 0},
	{"platform", 0, OPT_STRING, &bo.platform, "OS/ARCH[/VARIANT]", "Platform of the image (only the native one)",
	 0},
	{"pull", 0, OPT_STRING, &bo.pull, "POLICY",
	 "Pull the base images: missing (default), always, never (true: always, false: missing)", 0},
	{"quiet", 'q', OPT_BOOL, &bo.quiet, NULL, "Print only the image ID", 0},
	{"rm", 0, OPT_BOOL, &bo.rm, NULL,
	 "Remove intermediate containers after a successful build (default true; --rm=false keeps them)", 0},
	{"secret", 0, OPT_LIST, &bo.secrets, "id=ID,src=FILE", "A secret for RUN --mount=type=secret,id=ID", 0},
	{"squash", 0, OPT_BOOL, &bo.squash, NULL, "Squash the final stage's new layers into one", 0},
	{"squash-all", 0, OPT_BOOL, &bo.squash_all, NULL, "Squash the whole image into one layer", 0},
	{"tag", 't', OPT_LIST, &bo.tags, "NAME", "Name the resulting image (repeatable)", 0},
	{"target", 0, OPT_STRING, &bo.target, "STAGE", "Build up to this stage", 0},
	CLI_REG_OPTS(bo.reg),
	{0},
};

struct pull_ctx {
	struct skiff_ctx *ctx;
	bool quiet;
};

static int pull_image(void *ud, const char *ref, char **ret_id, struct skiff_err **err)
{
	struct pull_ctx *pc = ud;
	struct image_pull_opts po = {0};
	struct cli_reg reg;
	if (cli_reg_setup(pc->ctx, &bo.reg, &reg, err) < 0)
		return -1;
	reg.quiet = pc->quiet;
	cli_reg_pull_opts(&reg, &po);
	struct progress *pr = progress_new(stderr, pc->quiet);
	po.progress = progress_event;
	po.progress_ud = pr;
	int rc = image_pull(pc->ctx->store, ref, &po, ret_id, err);
	if (rc == 0)
		cli_reg_record_alias(&reg);
	progress_free(pr);
	cli_reg_release(&reg);
	return rc;
}

static void log_line(void *ud, const char *line)
{
	(void)ud;
	printf("%s\n", line);
	fflush(stdout);
}

static void debug_line(void *ud, const char *line)
{
	(void)ud;
	fprintf(stderr, "DEBU[0000] %s\n", line);
}

static void warn_line(void *ud, const char *line)
{
	(void)ud;
	fprintf(stderr, "WARN[0000] %s\n", line);
}

static void reset_opts(void)
{
	strv_release(&bo.tags);
	strv_release(&bo.files);
	strv_release(&bo.build_args);
	strv_release(&bo.labels);
	strv_release(&bo.secrets);
	strv_release(&bo.cache_from);
	bo.layers = bo.rm = true;
}

static int build_cmd(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct build_opts o = {.out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO};
	cleanup_strv struct strv args = STRV_INIT;
	int status = -1, run_status = -1;
	cleanup_free char *id = NULL;
	cleanup_close int devnull = -1;
	struct engine e;
	if (bo.files.len > 1) {
		err_makex(err, EINVAL, "only one --file is supported");
		goto out;
	}
	if (bo.format && !strcmp(bo.format, "docker"))
		o.format = SPEC_FORMAT_DOCKER;
	else if (bo.format && strcmp(bo.format, "oci")) {
		err_makex(err, EINVAL, "unrecognized image type \"%s\": use oci or docker", bo.format);
		goto out;
	}
	if (!bo.pull || !strcmp(bo.pull, "missing") || !strcmp(bo.pull, "false") || !strcmp(bo.pull, "ifmissing"))
		o.pull = BUILD_PULL_MISSING;
	else if (!strcmp(bo.pull, "always") || !strcmp(bo.pull, "true") || !strcmp(bo.pull, "newer"))
		o.pull = BUILD_PULL_ALWAYS;
	else if (!strcmp(bo.pull, "never"))
		o.pull = BUILD_PULL_NEVER;
	else {
		err_makex(err, EINVAL, "invalid --pull \"%s\": use always, missing or never", bo.pull);
		goto out;
	}
	if (bo.platform) {
		cleanup_free char *native = xasprintf("%s/%s", spec_goos(), spec_goarch());
		if (strcmp(bo.platform, native) && strncmp(bo.platform, native, strlen(native))) {
			err_makex(err, ENOTSUP, "--platform %s: only the native platform (%s) can be built",
				  bo.platform, native);
			goto out;
		}
	}
	for (size_t i = 0; i < bo.build_args.len; i++) {
		const char *a = bo.build_args.v[i];
		if (strchr(a, '=')) {
			strv_push(&args, a);
		} else if (getenv(a)) {
			strv_pushf(&args, "%s=%s", a, getenv(a));
		}
	}
	if (ctr_cli_engine(ctx, &e, err) < 0)
		goto out;
	struct pull_ctx pc = {.ctx = ctx, .quiet = bo.quiet};
	const char *dbg = getenv("SKIFF_DEBUG_CACHE");
	o.context = argc ? argv[0] : ".";
	o.file = bo.files.len ? bo.files.v[0] : NULL;
	o.tags = &bo.tags;
	o.target = bo.target;
	o.build_args = &args;
	o.labels = &bo.labels;
	o.no_cache = bo.no_cache;
	o.no_layers = !bo.layers;
	o.keep_containers = !bo.rm;
	o.force_rm = bo.force_rm;
	o.network = bo.network;
	o.squash = bo.squash;
	o.squash_all = bo.squash_all;
	o.secrets = &bo.secrets;
	o.cache_from = &bo.cache_from;
	o.debug_cache = (dbg && *dbg && strcmp(dbg, "0")) || skiff_log_debug(ctx);
	o.tmpdir = ctx->cfg.tmpdir;
	o.runtime = ctx->runtime;
	o.log = bo.quiet ? NULL : log_line;
	o.debug = o.debug_cache ? debug_line : NULL;
	o.warn = warn_line;
	o.pull_image = pull_image;
	o.pull_ud = &pc;
	if (bo.quiet) { /* podman: -q prints the image ID and nothing else, RUN output included */
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (devnull < 0) {
			ctr_cli_engine_release(&e);
			err_make(err, errno, "open /dev/null");
			goto out;
		}
		o.out_fd = o.err_fd = devnull;
	}
	int rc = build_run(&e, &o, &id, &run_status, err);
	ctr_cli_engine_release(&e);
	if (rc < 0) {
		status = run_status >= 0 ? run_status : -1;
		if (run_status >= 0) { /* podman: the RUN's status is the build's */
			fprintf(stderr, "Error: %s\n", (*err)->msg);
			err_clear(err);
		}
		goto out;
	}
	if (bo.iidfile) {
		cleanup_close int fd = open(bo.iidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		cleanup_free char *line = xasprintf("sha256:%s", id);
		if (fd < 0 || write_all(fd, line, strlen(line)) < 0) {
			err_make(err, errno, "write the image ID to %s", bo.iidfile);
			goto out;
		}
	}
	printf("%s\n", id);
	status = 0;
out:
	reset_opts();
	return status;
}

const struct cli_impl cli_build = {
	.usage = "[options] [CONTEXT]",
	.description =
		"Build an image from a Containerfile or Dockerfile (-f; default: Containerfile, else Dockerfile in the "
		"context) and a context: a directory (default \".\"), a tarball, or \"-\" (a tar or a Dockerfile on "
		"stdin). Each RUN runs in a container as `run` does and is committed as a layer; COPY and ADD copy "
		"from the context (minus .containerignore/.dockerignore) or from an earlier stage or image "
		"(--from); the other instructions change the image's config. Stages the --target does not need are "
		"skipped. Each step's result is cached (by the parent image, the instruction after ARG/ENV "
		"expansion, the build args in scope and the content of COPY/ADD sources): an unchanged step prints "
		"\"--> Using cache ID\"; --no-cache builds again, --layers=false keeps no intermediate images. "
		"After a miss, a --cache-from image whose history and layers continue the build with the step gives "
		"its layer (as docker's --cache-from: for a store that has not built the image; an image that cannot "
		"be found or pulled is a warning). SKIFF_DEBUG_CACHE=1 (or --log-level=debug) says why a step missed. "
		"A failing RUN stops the build "
		"with its exit status. RUN uses the host's network unless --network (or RUN --network) says "
		"otherwise (podman gives each RUN a private network; skiff skips that setup, as BuildKit does "
		"rootless); /etc/hosts, /etc/resolv.conf, /etc/hostname, /run/.containerenv and RUN --mount targets "
		"stay out of layers. WORKDIR makes its directory. --squash makes the target stage's new layers one, "
		"--squash-all the whole image. Prints STEP lines and, last, the image ID (with -q, only the ID).",
	.opts = build_opts,
	.max_args = 1,
	.run = build_cmd,
};
