/* Preparing what a command needs: configuration, the rootless user namespace, the store. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/skiff/skiff.h"
#include "pkg/engine/rootless.h"
#include "pkg/store/store.h"

bool skiff_log_debug(const struct skiff_ctx *ctx)
{
	return ctx->log_level && (!strcmp(ctx->log_level, "debug") || !strcmp(ctx->log_level, "trace"));
}

void skiff_warn(const struct skiff_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	if (ctx->log_level && (!strcmp(ctx->log_level, "error") || !strcmp(ctx->log_level, "fatal") ||
			       !strcmp(ctx->log_level, "panic")))
		return;
	fputs("WARN[0000] ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int skiff_setup(struct skiff_ctx *ctx, unsigned flags, struct skiff_err **err)
{
	if (config_load(&ctx->cfg, &ctx->ov, err) < 0)
		return -1;
	if ((flags & NEED_USERNS) && ctx->cfg.rootless) {
		char *warning = NULL;
		if (rootless_join(&ctx->cfg, &warning, err) < 0)
			return -1;
		if (warning) {
			skiff_warn(ctx, "%s", warning);
			free(warning);
		}
		ctx->in_userns = true;
	}
	if (flags & NEED_STORE)
		return skiff_open_store(ctx, flags, err);
	return 0;
}

int skiff_open_store(struct skiff_ctx *ctx, unsigned flags, struct skiff_err **err)
{
	struct store_opts o = {
		.graphroot = ctx->cfg.graphroot,
		.runroot = ctx->cfg.runroot,
		.driver = ctx->cfg.driver,
		.userns = ctx->cfg.rootless,
		/* Only a process that owns the content may clean up after others. */
		.recover = !ctx->cfg.rootless || ctx->in_userns,
		/* Read-only commands on a store that does not exist yet see it empty. */
		.readonly_ok = !(flags & NEED_USERNS),
	};
	if (ctx->store)
		return 0;
	return store_open(&o, &ctx->store, err);
}

void skiff_close(struct skiff_ctx *ctx)
{
	store_close(ctx->store);
	ctx->store = NULL;
	config_release(&ctx->cfg);
}
