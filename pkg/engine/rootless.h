/*
 * pkg/engine/rootless: the rootless user namespace. One small pause process holds a
 * user namespace (mapped with newuidmap/newgidmap from /etc/subuid and /etc/subgid)
 * and a mount namespace owned by it; every skiff invocation that needs them joins
 * both with setns(), so layers unpack with the right owners and mounts persist
 * between invocations. See docs/design/rootless.md.
 */
#ifndef SKIFF_ROOTLESS_H
#define SKIFF_ROOTLESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "pkg/config/config.h"
#include "vendor-free/err.h"

struct id_range {
	unsigned long start, count;
};

/* Parse an /etc/subuid-format file for user (name or numeric uid). ENOENT when no range. */
int rootless_read_ranges(const char *path, const char *user, uid_t uid, struct id_range *ret, struct skiff_err **err);

/*
 * Make the calling process root in the rootless user namespace, creating the pause
 * process when none is alive. Must be called before any thread is started. The
 * process's working directory is kept. *ret_warning gets an allocated warning to show
 * (single-id mapping fallback) or NULL.
 */
int rootless_join(const struct skiff_config *cfg, char **ret_warning, struct skiff_err **err);

/* True when this process is in a user namespace other than the initial one. */
bool rootless_in_userns(void);

#endif
