/*
 * pkg/engine checkpoint: `container checkpoint` and `container restore` with CRIU, through
 * the OCI runtime's checkpoint/restore commands (crun's command line) and the monitor's
 * restore mode. The image lives in GRAPHROOT/containers/ID/checkpoint until a restore uses
 * it; --export/--import carry it as a tar. CRIU ($SKIFF_CRIU, else criu in PATH) must pass
 * `criu check`: otherwise EOPNOTSUPP "CRIU V cannot checkpoint on this kernel: ..." before
 * the container is touched. Root only (as podman).
 */
#ifndef SKIFF_ENGINE_CHECKPOINT_H
#define SKIFF_ENGINE_CHECKPOINT_H

#include <stdbool.h>

#include "pkg/engine/container.h"
#include "vendor-free/err.h"

struct ctr_checkpoint_opts {
	bool leave_running;	 /* -R: the container keeps running */
	bool keep;		 /* keep CRIU's dump.log */
	bool tcp_established;	 /* checkpoint established TCP connections */
	const char *export_path; /* -e: also write the checkpoint as a tar there */
};
/* The container must be running; without leave_running it ends "exited". */
int ctr_checkpoint(struct engine *e, struct ctr *c, const struct ctr_checkpoint_opts *o, struct skiff_err **err);

struct ctr_restore_opts {
	bool keep;		 /* keep the checkpoint (and restore.log) after the restore */
	const char *import_path; /* -i: the checkpoint comes from this tar (checkpoint --export) */
};
/* The container must not be running and must have a checkpoint (or import one). It runs
 * again, under a new monitor, with a new pid; its log goes on. */
int ctr_restore(struct engine *e, struct ctr *c, const struct ctr_restore_opts *o, struct skiff_err **err);

/* `criu check` for the engine: 0, or EOPNOTSUPP/ENOENT with the reason. */
int ctr_criu_check(struct skiff_err **err);

#endif
