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
	if (ctx->log_level &&
	    (!strcmp(ctx->log_level, "error") || !strcmp(ctx->log_level, "fatal") || !strcmp(ctx->log_level, "panic")))
		return;
	fputs("WARN[0000] ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Set in the environment of everything run inside the rootless namespace, so a
 * skiff started there (skiff unshare skiff images) knows it is rootless already. */
#define ROOTLESS_UID_ENV "_SKIFF_ROOTLESS_UID"

int skiff_setup(struct skiff_ctx *ctx, unsigned flags, struct skiff_err **err)
{
	const char *inherited = getenv(ROOTLESS_UID_ENV);
	if (inherited && geteuid() == 0 && rootless_in_userns()) {
		struct config_host host = {
			.rootless = true,
			.uid = (uid_t)strtoul(inherited, NULL, 10),
			.etc_storage_conf = "/etc/containers/storage.conf",
			.usr_storage_conf = "/usr/share/containers/storage.conf",
		};
		if (config_load_host(&ctx->cfg, &ctx->ov, &host, err) < 0)
			return -1;
		ctx->in_userns = true;
	} else if (config_load(&ctx->cfg, &ctx->ov, err) < 0) {
		return -1;
	}
	if ((flags & NEED_USERNS) && ctx->cfg.rootless && !ctx->in_userns) {
		char *warning = NULL;
		if (rootless_join(&ctx->cfg, &warning, err) < 0)
			return -1;
		if (warning) {
			skiff_warn(ctx, "%s", warning);
			free(warning);
		}
		ctx->in_userns = true;
		char uid[32];
		snprintf(uid, sizeof(uid), "%u", (unsigned)ctx->cfg.uid);
		if (setenv(ROOTLESS_UID_ENV, uid, 1) < 0)
			return err_make(err, errno, "setenv");
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
		/* Commands that change content clean up after killed ones; only a process
		 * that owns the content may (root, or rootless inside the namespace). */
		.recover = (flags & NEED_USERNS) && (!ctx->cfg.rootless || ctx->in_userns),
		/* Read-only commands on a store that does not exist yet see it empty. */
		.readonly_ok = !(flags & NEED_USERNS),
	};
	/* overlay.mount_program from storage.conf or --storage-opt (the last one wins) */
	for (size_t i = 0; i < ctx->cfg.driver_opts.len; i++) {
		const char *v = ctx->cfg.driver_opts.v[i];
		if (!strncmp(v, "overlay.mount_program=", 22))
			o.mount_program = v + 22;
		else if (!strncmp(v, "mount_program=", 14))
			o.mount_program = v + 14;
	}
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
