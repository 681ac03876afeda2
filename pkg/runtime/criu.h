/*
 * Checkpoint and restore with CRIU (pkg/runtime/criu.c), as crun does it: the `criu` binary
 * (SKIFF_CRIU, else `criu` in PATH) dumps the container's process tree into an image
 * directory, and restores it later into a new state entry for the same bundle.
 *
 * Dump: --tree INIT, every bind mount of the spec external (mnt[DEST]:DEST), a network
 * namespace the spec joins external (net[INODE]:extRootNetNS), cgroups ignored. The targets
 * of the init's fds 0-2 go to IMAGE/descriptors.json, so that restore can hand the new
 * stdio (the caller's fds 0-2) to the restored process with --inherit-fd: the monitor keeps
 * serving them.
 * Restore: --restore-detached --root ROOTFS, the bind mounts mapped to their sources, the
 * joined network namespace passed in; the restored init is reparented to the caller's
 * subreaper (the monitor). Logs: WORK/dump.log, WORK/restore.log.
 */
#ifndef SKIFF_RUNTIME_CRIU_H
#define SKIFF_RUNTIME_CRIU_H

#include <stdbool.h>

#include "pkg/runtime/runtime.h"
#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"

struct rt_criu_opts {
	const char *id;
	const char *image_path; /* required */
	const char *work_path;	/* NULL: image_path */
	bool leave_running, tcp_established, shell_job, ext_unix_sk, file_locks;
	/* restore */
	const char *bundle; /* NULL: "." */
	const char *pid_file, *console_socket;
	bool detach;
};

/* The criu binary skiff runs: $SKIFF_CRIU, else "criu" (found in PATH). */
const char *rt_criu_binary(void);

/* `criu --version` and `criu check`: 0 when CRIU can checkpoint here. Otherwise EOPNOTSUPP
 * (ENOENT when it is not installed) with "CRIU VERSION cannot checkpoint on this kernel:
 * REASON (criu check: LAST ERROR LINE)". ret_version (may be NULL): "4.1", caller frees. */
int rt_criu_check(char **ret_version, struct skiff_err **err);

int rt_checkpoint(const struct rt_global *g, const struct rt_criu_opts *o, struct skiff_err **err);
/* The container o->id must not exist; it is created running (restore is create + start). */
int rt_restore(const struct rt_global *g, const struct rt_criu_opts *o, struct skiff_err **err);

#endif
