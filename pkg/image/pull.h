/*
 * pkg/image/pull: registry -> store. The manifest (and, for an index, the platform's
 * manifest) and the config are fetched; every layer the store lacks is downloaded on a
 * thread of its own (up to PULL_PARALLEL at once), decompressed, verified and unpacked
 * in one streaming pass; the image is committed last, in one transaction. A layer the
 * store has (or another pull is making: the per-layer lock) is never fetched. On failure
 * nothing new stays in the store.
 */
#ifndef SKIFF_IMAGE_PULL_H
#define SKIFF_IMAGE_PULL_H

#include <stdbool.h>
#include <stdint.h>

#include "pkg/registry/registry.h"
#include "pkg/store/store.h"
#include "vendor-free/err.h"

#define PULL_PARALLEL 6

enum pull_event {
	PULL_TRYING,	    /* ref: "Trying to pull REF..." */
	PULL_SIGNATURES,    /* "Getting image source signatures" */
	PULL_BLOB_START,    /* digest, total */
	PULL_BLOB_PROGRESS, /* digest, done, total */
	PULL_BLOB_DONE,	    /* digest, total */
	PULL_BLOB_SKIPPED,  /* digest: already in the store */
	PULL_CONFIG,	    /* digest */
	PULL_MANIFEST,	    /* "Writing manifest to image destination" */
};

struct pull_progress {
	enum pull_event ev;
	const char *ref;
	const char *digest;
	uint64_t done, total;
};

/* Called one at a time (from the pulling threads). */
typedef void (*pull_progress_fn)(void *ud, const struct pull_progress *p);

/* Where a name is pulled from: the caller's registries.conf view. */
struct pull_source {
	char *name;		       /* full name to store: "docker.io/library/busybox" */
	struct registry_endpoint *eps; /* tried in order (mirrors first) */
	size_t neps;
};

struct image_pull_opts {
	const char *os, *arch, *variant; /* platform; NULL: the host's */
	struct registry_opts reg;	 /* TLS, credentials, retries */
	pull_progress_fn progress;
	void *progress_ud;
	/* Resolve a (possibly short) reference to candidate sources; NULL: the reference's
	 * own domain, over HTTPS (HTTP for loopback hosts). */
	int (*sources)(void *ud, const char *domain, const char *path, bool short_name, bool by_digest,
		       struct pull_source **ret, size_t *ret_n, struct skiff_err **err);
	void *sources_ud;
	/* signatures: policy.json (NULL: podman's default places; none there: accept
	 * anything, as docker) and registries.d for the lookaside storage */
	const char *signature_policy;
	bool rootless;
};

void pull_sources_free(struct pull_source *v, size_t n);

/* Pull input ("busybox", "quay.io/x/y:1", "host:5000/a@sha256:...") into the store and
 * give the image id. */
int image_pull(struct store *s, const char *input, const struct image_pull_opts *o, char **ret_id,
	       struct skiff_err **err);

/* --all-tags: every "name:tag" of the repository input names (which must have no tag
 * or digest), from the first source that lists them. */
int image_pull_list_tags(const char *input, const struct image_pull_opts *o, struct strv *ret, struct skiff_err **err);

#endif
