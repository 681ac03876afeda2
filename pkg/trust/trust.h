/*
 * pkg/trust: image signature policy and "simple signing", in podman's formats so that
 * podman's files work unchanged (containers-policy.json(5), containers-registries.d(5),
 * containers-signature(5)).
 *
 * - policy.json: the default requirements and transports.docker.<scope> requirement
 *   lists. The most specific scope wins: the full reference ("host/repo:tag" or
 *   "host/repo@sha256:.."), the repository, each parent namespace, the host
 *   ("host:port" as written), then "*.example.com" wildcards, then "" (the transport
 *   default), then "default". Requirement types: insecureAcceptAnything, reject and
 *   signedBy (keyType GPGKeys; keyPath | keyPaths | keyData; signedIdentity
 *   matchExact, matchRepoDigestOrExact (the default), matchRepository,
 *   exactReference, exactRepository, remapIdentity). sigstoreSigned and
 *   signedBaseLayer are parsed (so such files load) but reject every image.
 *   Parsing is strict, as podman's: an unknown or mistyped field fails the whole file.
 * - simple signing: an OpenPGP signed message (not detached) whose payload is
 *   {"critical":{"identity":{"docker-reference":REF},"image":{"docker-manifest-digest":
 *   DIGEST},"type":"atomic container signature"},"optional":{"creator":..,"timestamp":..}}
 *   made and checked with gpgme. libgpgme is loaded with dlopen() on first use (as
 *   pkg/registry does for libcurl): linking it would load three more libraries in
 *   every skiff process.
 * - registries.d: *.yaml files (libyaml, loaded with dlopen() too) naming the
 *   "lookaside" signature storage per scope; signatures live at
 *   BASE/PATH@sha256=HEX/signature-N (PATH: the repository without its host; N from 1).
 *
 * Wiring (pull): load the policy once; after the manifest of the chosen platform is
 * fetched and before any blob, if trust_needs_signatures() fetch the signatures from
 * trust_lookaside_for(.., write=false) + trust_sig_url() (http(s): pkg/registry; file://:
 * trust_sigs_read()); then trust_check(). Nothing is stored when it fails.
 * Wiring (push --sign-by KEY): after the manifest is pushed, trust_sign() with the
 * destination reference and the pushed manifest's digest, then trust_sig_store() at
 * trust_lookaside_for(.., write=true).
 */
#ifndef SKIFF_TRUST_H
#define SKIFF_TRUST_H

#include <stdbool.h>
#include <stddef.h>

#include "vendor-free/err.h"

/* One signature blob as stored (raw OpenPGP bytes). */
struct trust_sig {
	char *data;
	size_t len;
};
void trust_sigs_free(struct trust_sig *v, size_t n);

/* ---- policy.json ---- */

struct trust_policy; /* opaque */

#define TRUST_POLICY_SYSTEM "/etc/containers/policy.json"
#define TRUST_POLICY_USER ".config/containers/policy.json" /* under $HOME */

/*
 * Load path, or with path NULL podman's default: $HOME/.config/containers/policy.json
 * if it exists (for root too, as podman), else /etc/containers/policy.json. (podman
 * reads no environment variable for it; --signature-policy gives path.)
 * No file: ENOENT `no policy.json file found at any of the following: "..", ".."`.
 * A malformed file: EINVAL `invalid policy in "PATH": reason` on one line.
 */
int trust_policy_load(const char *path, struct trust_policy **ret, struct skiff_err **err);
/* Parse a policy from memory; origin names it in errors. */
int trust_policy_parse(const char *data, size_t len, const char *origin, struct trust_policy **ret,
		       struct skiff_err **err);
void trust_policy_free(struct trust_policy *p);
static inline void trust_policy_freep(struct trust_policy **p)
{
	if (*p)
		trust_policy_free(*p);
}
#define cleanup_trust_policy __attribute__((cleanup(trust_policy_freep)))
/* The file it was loaded from (or the origin given to trust_policy_parse). */
const char *trust_policy_path(const struct trust_policy *p);

/*
 * The scope whose requirements apply to name in the docker transport: the matching
 * transports.docker key, "" for the transport default, or NULL for "default".
 * name: a reference, normalised as docker does ("busybox" = docker.io/library/busybox:latest).
 * EINVAL when name is not a valid reference.
 */
int trust_policy_scope(const struct trust_policy *p, const char *name, const char **ret_scope, struct skiff_err **err);

/* True when the requirements for name include a signedBy (so the caller must fetch
 * signatures). An invalid name answers true: trust_check() will refuse it. */
bool trust_needs_signatures(const struct trust_policy *p, const char *name);

/*
 * Decide whether the image name (a reference, normalised as docker does; a name
 * without tag or digest means ":latest") with this manifest (raw bytes: the manifest
 * of the chosen platform, whose sha256 is computed) may be pulled, given the
 * signatures found for that manifest digest. 0: accepted. EACCES with podman's
 * message otherwise, e.g. "Source image rejected: A signature was required, but no
 * signature exists", "Source image rejected: Running image docker://NAME is rejected
 * by policy.". EINVAL for a bad name or a name@digest whose digest is not the
 * manifest's.
 */
int trust_check(const struct trust_policy *p, const char *name, const char *manifest, size_t len,
		const struct trust_sig *sigs, size_t nsigs, struct skiff_err **err);

/* ---- simple signing ---- */

/* The signed payload for docker_reference and manifest_digest (compact JSON, creator
 * "skiff VERSION", timestamp now). */
int trust_sig_payload(const char *docker_reference, const char *manifest_digest, char **ret, size_t *ret_len,
		      struct skiff_err **err);

/*
 * Sign with the secret key named by key (a fingerprint, key ID or user ID that matches
 * exactly one secret key) from the keyring in $GNUPGHOME (or ~/.gnupg). passphrase:
 * NULL lets gpg-agent ask (or use a key without one); otherwise it is given to gpg
 * with loopback pinentry (--sign-passphrase-file). Returns the binary signature.
 * docker_reference: the destination, fully qualified with a tag ("host/repo:tag").
 */
int trust_sign(const char *key, const char *passphrase, const char *docker_reference, const char *manifest_digest,
	       char **ret_sig, size_t *ret_len, struct skiff_err **err);

/* ---- registries.d and lookaside storage ---- */

struct trust_regd; /* parsed, merged registries.d (opaque) */

#define TRUST_REGD_SYSTEM "/etc/containers/registries.d"
#define TRUST_REGD_USER ".config/containers/registries.d" /* under $HOME */
#define TRUST_LOOKASIDE_ROOT "/var/lib/containers/sigstore"
#define TRUST_LOOKASIDE_USER ".local/share/containers/sigstore" /* under $HOME */
#define TRUST_MAX_SIGNATURES 128
#define TRUST_MAX_SIGNATURE_SIZE (4u << 20)

/*
 * Load every *.yaml in dir, or with dir NULL podman's choice: $HOME/.config/containers/
 * registries.d if it exists, else /etc/containers/registries.d (one directory, not
 * both). A missing directory is an empty configuration. A scope (or default-docker)
 * defined in two files, or a malformed file, is EINVAL naming the file(s).
 */
int trust_regd_load(const char *dir, struct trust_regd **ret, struct skiff_err **err);
void trust_regd_free(struct trust_regd *c);
static inline void trust_regd_freep(struct trust_regd **p)
{
	if (*p)
		trust_regd_free(*p);
}
#define cleanup_trust_regd __attribute__((cleanup(trust_regd_freep)))

/*
 * The lookaside base URL for the image name, already followed by "/" and the
 * repository path (no host, tag or digest): the most specific docker scope with a
 * value, then default-docker; for write, lookaside-staging (or sigstore-staging) comes
 * before lookaside (or sigstore). Nothing configured: file:// of
 * /var/lib/containers/sigstore, or with rootless $HOME/.local/share/containers/sigstore.
 */
int trust_regd_lookaside(const struct trust_regd *c, const char *name, bool write, bool rootless, char **ret_url,
			 struct skiff_err **err);
/* trust_regd_load(NULL) + trust_regd_lookaside(). */
int trust_lookaside_for(bool rootless, const char *name, bool write, char **ret_url, struct skiff_err **err);

/* BASE@ALG=HEX/signature-N for a base from trust_regd_lookaside(), a manifest digest
 * ("sha256:HEX") and index N >= 1. EINVAL for an invalid digest. */
int trust_sig_url(const char *base, const char *digest, unsigned index, char **ret, struct skiff_err **err);

/* Read signature-1, signature-2, .. until one is missing, from a file:// base.
 * No signatures is not an error (*ret_n = 0). EINVAL for other URL schemes. */
int trust_sigs_read(const char *base, const char *digest, struct trust_sig **ret, size_t *ret_n,
		    struct skiff_err **err);

/* Add sig to the signatures of digest under a file:// base: written (atomically, 0644,
 * directories 0755) as the first free signature-N, or nothing when an identical
 * signature is already there. EINVAL for other schemes (http(s) lookaside is read-only,
 * as in podman). */
int trust_sig_store(const char *base, const char *digest, const void *sig, size_t len, struct skiff_err **err);

#endif
