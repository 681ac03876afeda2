/* Internal to pkg/trust. */
#ifndef SKIFF_TRUST_INTERNAL_H
#define SKIFF_TRUST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "pkg/trust/trust.h"
#include "vendor-free/err.h"
#include "vendor-free/strv.h"

/*
 * A docker reference, parsed by the distribution/reference grammar. (pkg/image has the
 * full parser but sits a layer above; this is the part policy matching needs.)
 */
struct dref {
	char *name;	   /* "docker.io/library/busybox" */
	size_t domain_len; /* "docker.io" */
	char *tag;	   /* or NULL */
	char *digest;	   /* "sha256:.." or NULL */
};

/* Parse with docker's normalisation ("busybox" -> docker.io/library/busybox). With
 * canonical, the input must already be in normalised form (ParseNamed). */
int dref_parse(const char *s, bool canonical, struct dref *ret, struct skiff_err **err);
void dref_release(struct dref *r);
static inline void dref_cleanup(struct dref *r)
{
	dref_release(r);
}
#define cleanup_dref __attribute__((cleanup(dref_cleanup)))
/* name[:tag][@digest] (allocated). */
char *dref_string(const struct dref *r);
static inline bool dref_name_only(const struct dref *r)
{
	return !r->tag && !r->digest;
}
/* The policy identity ("name:tag" or "name@digest") of a tagged or digested reference,
 * and the scopes to try after it, most specific first (repository, namespaces, host,
 * "*.domain" wildcards). */
int dref_policy_identity(const struct dref *r, char **ret, struct skiff_err **err);
void dref_policy_namespaces(const struct dref *r, struct strv *out);
/* A remapIdentity prefix: host[:port], or host[:port]/path without tag or digest. */
bool dref_valid_remap_prefix(const char *s);

/* ---- gpgme (gpg.c) ---- */

struct gpg_verifier; /* an ephemeral keyring holding the trusted keys */

/* Import the keyrings (each binary or armored, holding one or more keys; each is
 * imported on its own, so formats may differ) into a new temporary keyring.
 * EACCES "No public keys imported" when there is none. */
int gpg_verifier_new(const struct trust_sig *keyrings, size_t n, struct gpg_verifier **ret, struct skiff_err **err);
void gpg_verifier_free(struct gpg_verifier *v);
/* Check one signed message: exactly one good signature by a key of the keyring. On
 * success *ret_payload is the signed content (NUL-terminated). The error message is
 * the reason (no "Source image rejected" prefix). */
int gpg_verify(struct gpg_verifier *v, const char *sig, size_t len, char **ret_payload, size_t *ret_len,
	       struct skiff_err **err);
/* Sign payload as an OpenPGP signed message (binary) with the key from the default
 * keyring. */
int gpg_sign(const char *key, const char *passphrase, const char *payload, size_t len, char **ret, size_t *ret_len,
	     struct skiff_err **err);

/* ---- the signature payload (sigpayload in policy.c) ---- */
struct sig_payload {
	char *digest;	 /* critical.image.docker-manifest-digest */
	char *reference; /* critical.identity.docker-reference */
};
/* Parse strictly as containers-signature(5) says; EINVAL naming the problem. */
int sig_payload_parse(const char *data, size_t len, struct sig_payload *ret, struct skiff_err **err);
void sig_payload_release(struct sig_payload *p);

/* The value of $HOME (absolute) or the user database's home directory (allocated). */
int trust_home(char **ret, struct skiff_err **err);

#endif
