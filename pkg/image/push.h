/*
 * pkg/image/push: store -> registry. Each layer is checked in the registry first by the
 * blob digest the store remembers for it (from the pull that made it, or the last
 * push): a blob the registry has is skipped, one another repository of the same
 * registry has is mounted. Otherwise the layer's tar is regenerated from the store,
 * gzip-compressed and uploaded in one streaming pass (a chunked PATCH), and its digest
 * is remembered, so pushing again uploads nothing. Layers go up in parallel; the
 * config and then the manifest (same format as the stored one) come last.
 */
#ifndef SKIFF_IMAGE_PUSH_H
#define SKIFF_IMAGE_PUSH_H

#include "pkg/image/pull.h"
#include "pkg/registry/registry.h"
#include "pkg/store/store.h"

struct image_push_opts {
	struct registry_opts reg;
	bool insecure;		     /* registries.conf says the destination is insecure */
	const char *format;	     /* "oci", "v2s2" (docker); NULL: the stored manifest's */
	bool remove_signatures;	     /* accepted: skiff stores no signatures yet */
	int compression_level;	     /* gzip level 1-9 for compressible data (0: 1; random-looking data is stored) */
	const char *sign_by;	     /* GPG key: sign the pushed manifest (simple signing, lookaside) */
	const char *sign_passphrase; /* its passphrase, or NULL */
	bool rootless;		     /* registries.d places */
	bool by_digest;		     /* put the manifest by its digest, not dest's tag (manifest list instances) */
	pull_progress_fn progress;
	void *progress_ud;
};

/* Push local image src (name or id) to dest ("host/path[:tag]"; NULL: src's name).
 * ret_digest gets the pushed manifest's digest. */
int image_push(struct store *s, const char *src, const char *dest, const struct image_push_opts *o,
	       char ret_digest[DIGEST_STR_LEN + 1], struct skiff_err **err);

#endif
