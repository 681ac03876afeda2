/* cmd/skiff: events (being written). */
#include <errno.h>

#include "cmd/skiff/skiff.h"

static int not_yet(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)ctx;
	(void)argc;
	return err_makex(err, ENOSYS, "%s: not implemented yet", argv[0]);
}

const struct cli_impl cli_events = {
	.usage = "[options]",
	.max_args = -1,
	.run = not_yet,
};
