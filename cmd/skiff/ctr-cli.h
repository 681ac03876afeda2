/* cmd/skiff: what the container commands share. */
#ifndef SKIFF_CTR_CLI_H
#define SKIFF_CTR_CLI_H

#include "cmd/skiff/skiff.h"
#include "pkg/engine/container.h"

/* The engine for this invocation: binaries found next to skiff (a build tree or an
 * install), the default seccomp profile, the global flags for the exit command. */
int ctr_cli_engine(struct skiff_ctx *ctx, struct engine *ret, struct skiff_err **err);
void ctr_cli_engine_release(struct engine *e);
/* Attach the terminal or stdio to c (stdin when in and c is interactive), START it first
 * with start: the container's exit status, 0 when the user detached, -1 on error. */
int ctr_cli_attach_stdio(struct engine *e, struct ctr *c, bool in, bool sig_proxy, const char *detach_keys, bool start,
			 struct skiff_err **err);
/* podman's status for a container that could not start: 127 when the executable is
 * missing, 126 when it cannot be run, else 125. err stays set for the report. */
int ctr_cli_start_status(const struct skiff_err *err);

/* inspect of one container (ENOENT when there is none of that name). */
int ctr_cli_inspect_one(struct skiff_ctx *ctx, const char *ref, struct json **ret, struct skiff_err **err);

/* rmi -f: remove the containers made from image (none, or no such image: 0). */
int ctr_cli_remove_users(struct skiff_ctx *ctx, const char *image, struct skiff_err **err);

/* inspect NAME...: containers and/or images (type "container", "image", "all" or NULL),
 * printed as a JSON array or through format. Returns 125 when one was not found. */
int cli_inspect_objects(struct skiff_ctx *ctx, int argc, char **argv, const char *type, const char *format,
			struct skiff_err **err);

#endif
