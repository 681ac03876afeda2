/* Preparing what a command needs: the store, the rootless user namespace. */
#include <errno.h>
#include <stdlib.h>

#include "cmd/skiff/skiff.h"

int skiff_open_store(struct skiff_ctx *ctx, struct skiff_err **err)
{
	return err_makex(err, ENOSYS, "store not implemented yet");
}

void skiff_close(struct skiff_ctx *ctx)
{
	config_release(&ctx->cfg);
}
