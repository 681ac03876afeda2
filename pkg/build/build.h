/*
 * pkg/build: the stage executor behind `skiff build`.
 *
 * A Dockerfile's stages run in order, only those the target needs. FROM takes scratch, a
 * local image, an earlier stage, or a pulled image (through the caller's pull callback, so
 * registry settings stay the CLI's). Each RUN is a container on the same path as
 * `skiff run` (ctr_create, ctr_start, ctr_attach), whose writable layer is committed as
 * the next layer; COPY/ADD run bcopy_run (pkg/build/context.h) into a build container's
 * mounted rootfs (into a staging directory over scratch); metadata instructions change
 * the config in memory and are committed with the next layer (or at the end of the stage)
 * as history entries with empty_layer.
 *
 * The cache (a store table, key -> image): a step's key is sha256 over the parent's key
 * state (the last image's id and the metadata instructions since, expanded), the
 * instruction expanded, for RUN the build args in scope (they are in its environment),
 * and for COPY/ADD the content digest of the sources (bcopy_digest). A hit reuses the
 * image without any container work. After a miss, --cache-from images (pulled when
 * missing) are searched for one whose history and layers continue this build with the
 * step: its layer is reused under the config this build makes (pkg/build/cachefrom.c).
 */
#ifndef SKIFF_BUILD_H
#define SKIFF_BUILD_H

#include <stdbool.h>

#include "pkg/engine/container.h"
#include "pkg/spec/image.h"
#include "vendor-free/err.h"
#include "vendor-free/strv.h"

enum build_pull { BUILD_PULL_MISSING, BUILD_PULL_ALWAYS, BUILD_PULL_NEVER };

struct build_opts {
	const char *context;	       /* directory, tarball or "-" */
	const char *file;	       /* -f (NULL: Containerfile/Dockerfile in the context) */
	const struct strv *tags;       /* -t names as given (stored as image_commit_name makes them) */
	const char *target;	       /* --target stage (NULL: the last) */
	const struct strv *build_args; /* NAME=VALUE (the CLI resolves a bare NAME from its environment) */
	const struct strv *labels;     /* --label K=V: on the final image */
	enum build_pull pull;
	bool no_cache;		    /* look nothing up (results are still recorded) */
	bool no_layers;		    /* --layers=false: no cache, intermediate images removed */
	bool keep_containers;	    /* --rm=false: leave the containers of successful RUNs */
	bool force_rm;		    /* --force-rm: remove failed RUN containers too (always done here) */
	enum spec_format format;    /* oci or docker */
	const char *network;	    /* RUN's network mode (NULL: "host"; "default"/"private": the engine's, as run) */
	bool squash;		    /* the final stage's new layers as one */
	bool squash_all;	    /* the whole image as one layer */
	const struct strv *secrets; /* --secret id=X,src=FILE */
	const struct strv *cache_from; /* --cache-from images (each may be a comma list): see cachefrom.c */
	bool debug_cache;	       /* log why each step missed */
	const char *tmpdir;	       /* layer tars (NULL: /var/tmp) */
	const char *runtime;	       /* --runtime for RUN containers (NULL: the engine's) */
	int out_fd, err_fd;	       /* RUN's stdout and stderr */

	/* "STEP 1/3: FROM x", "--> Using cache ...", "--> 0123456789ab", "COMMIT name"; NULL: quiet */
	void (*log)(void *ud, const char *line);
	/* debug lines (cache misses), NULL: none */
	void (*debug)(void *ud, const char *line);
	/* warnings (a --cache-from image that cannot be had), NULL: none */
	void (*warn)(void *ud, const char *line);
	void *log_ud;
	/* Pull ref into the store (the CLI's registry settings) and give its image id. */
	int (*pull_image)(void *ud, const char *ref, char **ret_id, struct skiff_err **err);
	void *pull_ud;
};

/*
 * Build. *ret_id is the final image's id (64 hex). A RUN that exits non-zero fails the
 * build with 'error building at STEP "RUN false": exit status 1' and *ret_run_status (which
 * may be NULL) gets its status (the one output written on failure); nothing is left
 * behind: its container is removed, no tag is set, intermediate images of a build without
 * layers are removed.
 */
int build_run(struct engine *e, const struct build_opts *o, char **ret_id, int *ret_run_status, struct skiff_err **err);

/* ---- for tests and the executor's files ---- */

/* The created_by of a RUN in history, buildah's form: "/bin/sh -c CMD", with build args
 * in scope "|N A=1 B=2 /bin/sh -c CMD" (proxy args left out). Caller frees. */
char *build_run_created_by(const struct strv *shell, const char *cmd, const struct strv *args);

/* docker's ARG rules: is name one of the predefined proxy args (usable without ARG and never
 * kept in history)? */
bool build_is_proxy_arg(const char *name);

#endif
