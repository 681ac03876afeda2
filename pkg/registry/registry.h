/*
 * pkg/registry: the client side of the OCI distribution spec (v2) on libcurl.
 *
 *     struct registry *r;                        one per command: connections, tokens
 *     registry_new(&opts, &r, err);
 *     struct registry_repo *rp;                  one repository on one endpoint
 *     registry_repo_open(r, &(struct registry_endpoint){"docker.io", NULL, false},
 *                        "library/busybox", REGISTRY_PULL, &rp, err);
 *     registry_manifest_get(rp, "latest", &m, err);
 *     registry_blob_open(rp, digest, size, &br, err);   a store_read_fn-shaped stream
 *
 * Auth follows the registry's challenge: Basic with the credentials the caller's
 * callback gives, or Bearer tokens from the realm (cached per scope). HTTPS is tried
 * first; plain HTTP only for insecure registries, --tls-verify=false, or loopback
 * hosts (docker's rule). Transient failures (connection resets, 408, 429, 5xx) are
 * retried with back-off, honouring Retry-After; a blob that breaks mid-stream resumes
 * with a Range request. Errors carry the registry's own message.
 *
 * Thread-safety: a registry may be shared by threads; a repo and a blob reader belong to
 * one thread at a time.
 */
#ifndef SKIFF_REGISTRY_H
#define SKIFF_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/digest/digest.h"
#include "vendor-free/err.h"
#include "vendor-free/strv.h"

#define REGISTRY_MANIFEST_MAX (4u << 20) /* as containers/image: bigger manifests are refused */
#define REGISTRY_CONFIG_MAX (32u << 20)

struct registry_creds {
	char *user, *pass;
	char *identity_token; /* OAuth2 refresh token, may be NULL */
};
void registry_creds_release(struct registry_creds *c);

/* Credentials for host ("docker.io", "localhost:5000") and repository path: 0 and *ret
 * filled, 1 when there are none, -1 on error. */
typedef int (*registry_cred_fn)(void *ud, const char *host, const char *path, struct registry_creds *ret,
				struct skiff_err **err);

struct registry_opts {
	int tls_verify;	      /* 1 verify (default), 0 --tls-verify=false */
	const char *cert_dir; /* --cert-dir: replaces the certs.d lookup; NULL: default places */
	bool rootless;	      /* adds $XDG_CONFIG_HOME/containers/certs.d to the lookup */
	registry_cred_fn creds;
	void *creds_ud;
	const struct registry_creds *fixed_creds; /* --creds / login: used instead of creds() */
	unsigned retries;			  /* transient failures retried this often (0: never) */
	unsigned retry_delay_ms;		  /* first back-off (default 1000, doubles) */
};

struct registry;
int registry_new(const struct registry_opts *o, struct registry **ret, struct skiff_err **err);
void registry_free(struct registry *r);

/* Where a repository is reached (registries.conf: a registry's location or a mirror). */
struct registry_endpoint {
	const char *host;     /* as named in the reference: "docker.io", "localhost:5000" */
	const char *location; /* host[:port][/path-prefix] to connect to; NULL: host */
	bool insecure;	      /* plain HTTP and unverified TLS allowed */
};

enum registry_access { REGISTRY_PULL = 1, REGISTRY_PUSH = 2 };

struct registry_repo;
/* Nothing is sent until the first request (which pings /v2/ and authenticates). */
int registry_repo_open(struct registry *r, const struct registry_endpoint *ep, const char *path,
		       enum registry_access access, struct registry_repo **ret, struct skiff_err **err);
void registry_repo_free(struct registry_repo *rp);
/* Ping and authenticate now (what the first request would do). */
int registry_repo_connect(struct registry_repo *rp, struct skiff_err **err);
/* "host/path" for messages. */
const char *registry_repo_name(const struct registry_repo *rp);

/* ---- manifests ---- */

struct registry_manifest {
	char *data;
	size_t len;
	char *media_type;
	char digest[DIGEST_STR_LEN + 1]; /* of data */
};
void registry_manifest_release(struct registry_manifest *m);
/* GET a manifest or index by tag or digest. A digest reference is verified against the
 * bytes; the media type comes from the content (Content-Type when it says nothing). */
int registry_manifest_get(struct registry_repo *rp, const char *ref, struct registry_manifest *ret,
			  struct skiff_err **err);
/* HEAD: 0 with the digest the registry reports (Docker-Content-Digest), ENOENT (-1) when
 * the manifest does not exist. */
int registry_manifest_head(struct registry_repo *rp, const char *ref, char ret_digest[DIGEST_STR_LEN + 1],
			   struct skiff_err **err);
int registry_manifest_put(struct registry_repo *rp, const char *ref, const char *data, size_t len,
			  const char *media_type, struct skiff_err **err);

/* ---- blobs ---- */

/* A small blob (a config) into memory, verified against digest; refused over max bytes. */
int registry_blob_get(struct registry_repo *rp, const char *digest, size_t max, char **ret, size_t *ret_len,
		      struct skiff_err **err);
/* 1 (and its size) when the repository has the blob, 0 when not. */
int registry_blob_exists(struct registry_repo *rp, const char *digest, int64_t *ret_size, struct skiff_err **err);

/* A blob as a stream. Nothing is fetched until the first read. size < 0: unknown. */
struct registry_blob_reader;
int registry_blob_open(struct registry_repo *rp, const char *digest, int64_t size, struct registry_blob_reader **ret,
		       struct skiff_err **err);
/* store_read_fn-shaped: bytes read, 0 at the end, -1 with errno set and the error kept
 * (registry_blob_error()). Reading more than the declared size is an error. */
long registry_blob_read(void *reader, void *buf, size_t n);
/* The error that made a read fail (owned by the reader), or NULL. */
const struct skiff_err *registry_blob_error(const struct registry_blob_reader *br);
/* Move the reader's error into *err (wrapped by the caller); -1. */
int registry_blob_take_error(struct registry_blob_reader *br, struct skiff_err **err);
uint64_t registry_blob_received(const struct registry_blob_reader *br);
/* Called from read with the bytes received so far. */
void registry_blob_on_progress(struct registry_blob_reader *br, void (*fn)(void *ud, uint64_t done), void *ud);
void registry_blob_close(struct registry_blob_reader *br);

/* Cross-repository mount of digest from repository path from (same registry): 1 mounted,
 * 0 when the registry started an upload instead (it is cancelled). */
int registry_blob_mount(struct registry_repo *rp, const char *digest, const char *from, struct skiff_err **err);

/* Upload a blob whose digest is known, from memory (monolithic POST + PUT). */
int registry_blob_put(struct registry_repo *rp, const char *digest, const void *data, size_t len,
		      struct skiff_err **err);
/* Upload a stream (chunked PATCH while hashing, then PUT ?digest=); gives the digest and
 * size of what was sent. */
typedef long (*registry_read_fn)(void *ud, void *buf, size_t n);
int registry_blob_upload(struct registry_repo *rp, registry_read_fn read, void *ud, char ret_digest[DIGEST_STR_LEN + 1],
			 uint64_t *ret_size, struct skiff_err **err);

/* ---- misc ---- */

/* GET /v2/ on the registry with the credentials of o: 0 when accepted, EACCES when not. */
int registry_check_login(struct registry *r, const struct registry_endpoint *ep, struct skiff_err **err);

/* Tags of a repository (GET /v2/NAME/tags/list, following Link pagination). */
int registry_tags(struct registry_repo *rp, struct strv *ret, struct skiff_err **err);

/* GET a URL that is not a registry's (signature lookaside storage): 0 with the body,
 * 1 when it is not there (404). */
int registry_get_url(struct registry *r, const char *url, size_t max, char **ret, size_t *ret_len,
		     struct skiff_err **err);

/* search: Docker Hub's v1 API where the registry has it, else the v2 catalog's names
 * that contain term. limit 0: no limit. */
struct registry_search_result {
	char *name; /* repository path, without the registry */
	char *description;
	unsigned stars;
	bool official, automated;
};
int registry_search(struct registry *r, const struct registry_endpoint *ep, const char *term, unsigned limit,
		    struct registry_search_result **ret, size_t *ret_n, struct skiff_err **err);
void registry_search_results_free(struct registry_search_result *v, size_t n);

/* ---- parsers (exported for tests) ---- */

struct registry_challenge {
	char *scheme; /* "basic", "bearer" (lowercase) */
	char *realm, *service, *scope, *error;
};
void registry_challenge_release(struct registry_challenge *c);
/* Parse a WWW-Authenticate header value (the first challenge whose scheme is Basic or
 * Bearer). EINVAL naming what is wrong. */
int registry_challenge_parse(const char *hdr, struct registry_challenge *ret, struct skiff_err **err);
/* The registry's error body {"errors":[{"code":..,"message":..}]} as "code: message"
 * text (lowercased code, joined by "; "), or NULL when the body is not that. */
char *registry_error_text(const char *body, size_t len);

#endif
