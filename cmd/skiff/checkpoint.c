/* skiff container checkpoint, container restore */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd/skiff/ctr-cli.h"
#include "pkg/engine/checkpoint.h"
#include "vendor-free/xalloc.h"

static struct {
	bool all, leave_running, keep, tcp_established;
	const char *export_path, *import_path, *name;
} cp;

static void report(struct skiff_err **last, struct skiff_err *e1)
{
	if (*last) {
		fprintf(stderr, "Error: %s\n", (*last)->msg);
		err_free(*last);
	}
	*last = e1;
}

/* Each container named (or all with -a, those in state want): fn, then its id on stdout. */
static int each(struct skiff_ctx *ctx, int argc, char **argv, const char *want, bool restore, struct skiff_err **err)
{
	if (!cp.all && argc == 0)
		return err_makex(err, EINVAL, "you must provide at least one container name or ID");
	if (cp.all && argc > 0)
		return err_makex(err, EINVAL, "--all and a container name or ID cannot be used together");
	if ((cp.export_path || cp.import_path) && (cp.all || argc > 1))
		return err_makex(err, EINVAL, "--%s works with one container only", restore ? "import" : "export");
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr *v = NULL;
	size_t n = 0;
	struct skiff_err *last = NULL;
	if (cp.all) {
		if (ctr_list(&e, &v, &n, &last) < 0)
			n = 0;
	} else {
		v = xcalloc((size_t)argc, sizeof(*v));
		for (int i = 0; i < argc; i++) {
			struct skiff_err *e1 = NULL;
			if (ctr_lookup(&e, argv[i], &v[n], &e1) == 0)
				n++;
			else
				report(&last, e1);
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct skiff_err *e1 = NULL;
		int rc;
		if (cp.all && strcmp(ctr_state_name(&v[i]), want))
			continue;
		if (restore) {
			struct ctr_restore_opts ro = {.keep = cp.keep, .import_path = cp.import_path};
			rc = ctr_restore(&e, &v[i], &ro, &e1);
		} else {
			struct ctr_checkpoint_opts co = {.leave_running = cp.leave_running,
							 .keep = cp.keep,
							 .tcp_established = cp.tcp_established,
							 .export_path = cp.export_path};
			rc = ctr_checkpoint(&e, &v[i], &co, &e1);
		}
		if (rc < 0 && cp.all && e1->status == ENOENT) {
			err_free(e1); /* exited without a checkpoint */
			continue;
		}
		if (rc < 0) {
			report(&last, e1);
			continue;
		}
		printf("%s\n", v[i].row.id);
		fflush(stdout);
	}
	ctr_list_free(v, n);
	ctr_cli_engine_release(&e);
	if (last) {
		*err = last;
		return -1;
	}
	return 0;
}

static const struct cli_opt checkpoint_opts[] = {
	{"all", 'a', OPT_BOOL, &cp.all, NULL, "Checkpoint all running containers", 0},
	{"leave-running", 'R', OPT_BOOL, &cp.leave_running, NULL,
	 "Leave the container running after writing the checkpoint", 0},
	{"keep", 'k', OPT_BOOL, &cp.keep, NULL, "Keep all temporary checkpoint files (CRIU's dump.log)", 0},
	{"export", 'e', OPT_STRING, &cp.export_path, "FILE", "Also export the checkpoint to a tar file", 0},
	{"tcp-established", 0, OPT_BOOL, &cp.tcp_established, NULL,
	 "Checkpoint a container with established TCP connections", 0},
	{0},
};

static int checkpoint_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	return each(ctx, argc, argv, "running", false, err);
}

const struct cli_impl cli_checkpoint = {
	.usage = "[options] CONTAINER [CONTAINER...]",
	.description =
		"Checkpoint one or more running containers with CRIU: their processes are written to an image in the "
		"container's directory (GRAPHROOT/containers/ID/checkpoint) and, unless --leave-running, the container "
		"ends in state exited until `container restore` runs it again. Needs root and a CRIU that passes `criu "
		"check` ($SKIFF_CRIU, else criu in PATH); otherwise the command fails (125) and the container runs on "
		"untouched. Containers with a terminal (-t) cannot be checkpointed. Prints each container's ID.",
	.opts = checkpoint_opts,
	.max_args = -1,
	.run = checkpoint_run,
};

static const struct cli_opt restore_opts[] = {
	{"all", 'a', OPT_BOOL, &cp.all, NULL, "Restore all checkpointed containers", 0},
	{"keep", 'k', OPT_BOOL, &cp.keep, NULL, "Keep the checkpoint and CRIU's restore.log after restoring", 0},
	{"import", 'i', OPT_STRING, &cp.import_path, "FILE",
	 "Restore from a checkpoint exported with checkpoint --export", 0},
	{0},
};

static int restore_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	return each(ctx, argc, argv, "exited", true, err);
}

const struct cli_impl cli_restore = {
	.usage = "[options] CONTAINER [CONTAINER...]",
	.description = "Restore one or more containers from their checkpoint (container checkpoint), or one "
		       "container from a checkpoint exported to a tar file (--import). The container runs again under "
		       "a new monitor with a new pid; its log goes on. Needs root and a CRIU that passes `criu check`. "
		       "Prints each container's ID.",
	.opts = restore_opts,
	.max_args = -1,
	.run = restore_run,
};
