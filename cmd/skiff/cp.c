/* cmd/skiff: cp — copy files and directories between containers and the host. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/skiff/ctr-cli.h"
#include "pkg/engine/copy.h"
#include "vendor-free/xalloc.h"

static struct {
	bool archive, overwrite, follow_link;
} cp = {.archive = true};

static const struct cli_opt cp_opts[] = {
	{"archive", 'a', OPT_BOOL, &cp.archive, NULL,
	 "Chown copied files to the primary uid/gid of the destination container (default true)", 0},
	{"follow-link", 'L', OPT_BOOL, &cp.follow_link, NULL, "Always follow a symlink at the end of SRC_PATH", 0},
	{"overwrite", 0, OPT_BOOL, &cp.overwrite, NULL,
	 "Allow to overwrite directories with non-directories and vice versa", 0},
	{0},
};

/* One argument: "-" (a tar stream), "CONTAINER:PATH", or a host path. As podman, an
 * argument starting with '.' or '/' is always a host path (so "./a:b" is a file). */
struct cp_arg {
	const char *ctr; /* NULL: the host */
	char *ctr_owned;
	const char *path;
	bool stream;
};

static int parse_arg(const char *s, struct cp_arg *ret, struct skiff_err **err)
{
	memset(ret, 0, sizeof(*ret));
	ret->path = s;
	if (!*s)
		return err_makex(err, EINVAL, "empty path");
	if (!strcmp(s, "-")) {
		ret->stream = true;
		return 0;
	}
	const char *colon = strchr(s, ':');
	if (s[0] == '.' || s[0] == '/' || !colon)
		return 0;
	ret->ctr = ret->ctr_owned = xstrndup(s, (size_t)(colon - s));
	ret->path = colon + 1;
	if (!*ret->path)
		return err_makex(err, EINVAL, "\"%s\": no path after the container name", s);
	return 0;
}

static int cp_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct cp_arg src, dst;
	(void)argc;
	if (parse_arg(argv[0], &src, err) < 0)
		return -1;
	if (parse_arg(argv[1], &dst, err) < 0) {
		free(src.ctr_owned);
		return -1;
	}
	int rc = -1;
	struct engine e;
	struct ctr sc = {0}, dc = {0};
	bool have_engine = false;
	struct ctr_copy_opts o = {.archive = cp.archive, .overwrite = cp.overwrite, .follow_link = cp.follow_link};

	if (src.stream && dst.stream) {
		err_makex(err, EINVAL, "\"-\" can be SRC_PATH or DEST_PATH, not both");
		goto out;
	}
	if ((src.stream && !dst.ctr) || (dst.stream && !src.ctr)) {
		err_makex(err, EINVAL, "a tar stream (\"-\") is copied %s a container: use CONTAINER:PATH",
			  src.stream ? "into" : "from");
		goto out;
	}
	if (!src.ctr && !dst.ctr) {
		err_makex(err, EINVAL, "invalid arguments %s, %s: you must use at least one container (CONTAINER:PATH)",
			  argv[0], argv[1]);
		goto out;
	}
	if (ctr_cli_engine(ctx, &e, err) < 0)
		goto out;
	have_engine = true;
	if (src.ctr && ctr_lookup(&e, src.ctr, &sc, err) < 0)
		goto out;
	bool same = src.ctr && dst.ctr && !strcmp(src.ctr, dst.ctr);
	if (dst.ctr && !same && ctr_lookup(&e, dst.ctr, &dc, err) < 0)
		goto out;
	struct ctr *sp = src.ctr ? &sc : NULL, *dp = dst.ctr ? (same ? &sc : &dc) : NULL;
	if (src.stream)
		rc = ctr_copy_from_tar(&e, dp, STDIN_FILENO, dst.path, &o, err);
	else if (dst.stream)
		rc = ctr_copy_to_tar(&e, sp, src.path, STDOUT_FILENO, &o, err);
	else
		rc = ctr_copy(&e, sp, src.path, dp, dst.path, &o, err);
out:
	ctr_release(&sc);
	ctr_release(&dc);
	if (have_engine)
		ctr_cli_engine_release(&e);
	free(src.ctr_owned);
	free(dst.ctr_owned);
	return rc < 0 ? -1 : 0;
}

const struct cli_impl cli_cp = {
	.usage = "[options] [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH",
	.description =
		"Copy files and directories between a container and the local filesystem, or between two containers. "
		"Container paths are relative to the container's root and never leave it, whatever its symlinks say. "
		"SRC_PATH a file: it becomes DEST_PATH, or goes into DEST_PATH when that is a directory. "
		"SRC_PATH a directory: DEST_PATH is created with its contents, or, when DEST_PATH is a directory, "
		"SRC_PATH goes into it (SRC_PATH/. : its contents do). A DEST_PATH ending in / must be a directory. "
		"\"-\" as SRC_PATH extracts a tar read from stdin into the directory DEST_PATH; as DEST_PATH it writes "
		"a tar of SRC_PATH to stdout. The container may be running or stopped. A path under the destination of "
		"a volume or bind mount of the container is copied to or from that mount's source, as the container "
		"sees it (symlinks included); a read-only mount refuses a copy into it.",
	.opts = cp_opts,
	.min_args = 2,
	.max_args = 2,
	.run = cp_run,
};
