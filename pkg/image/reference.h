/*
 * pkg/image/reference: image references ("busybox", "quay.io/org/app:1.2",
 * "localhost:5000/x@sha256:...") parsed by the distribution/reference grammar and
 * normalised as docker does:
 *
 *     reference  := name [ ":" tag ] [ "@" digest ]
 *     name       := [ domain "/" ] path
 *     domain     := host [ ":" port ]         host: dns-name | "[" ipv6 "]"
 *     path       := component [ "/" component ]*
 *     component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *     tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *     digest     := "sha256:" 64 lowercase hex (other algorithms are refused)
 *
 * The first "/"-separated element is the domain when it is "localhost", contains
 * "." or ":", or has an uppercase letter; otherwise there is no domain. Normalisation:
 * no domain -> "docker.io"; "index.docker.io" -> "docker.io"; docker.io with a
 * one-component path -> "library/" prefix; neither tag nor digest -> tag "latest".
 * The whole name (domain "/" path) is at most 255 characters.
 *
 * A bare 64-hex string is refused (it is an image ID); callers that accept both IDs
 * and names try ref_looks_like_id() and an ID lookup first.
 */
#ifndef SKIFF_IMAGE_REFERENCE_H
#define SKIFF_IMAGE_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>

#include "vendor-free/err.h"

#define REF_NAME_MAX 255 /* domain + "/" + path */
#define REF_TAG_MAX 128
#define REF_DEFAULT_DOMAIN "docker.io"
#define REF_DEFAULT_TAG "latest"

struct image_ref {
	char *domain;	      /* "docker.io", "quay.io", "localhost:5000", "[::1]:5000"; never NULL */
	char *path;	      /* "library/busybox", "org/app"; never NULL */
	char *tag;	      /* "latest", "1.2"; NULL when only a digest was given */
	char *digest;	      /* "sha256:<64 hex>" or NULL */
	bool tag_implicit;    /* tag is "latest" because the input named neither tag nor digest */
	bool domain_implicit; /* the input had no domain (a short name): docker.io was filled in */
};

/* Parse and normalise s. EINVAL: `invalid reference format: "<s>": <reason>` (the
 * input is quoted with non-printable bytes escaped and long inputs shortened). */
int ref_parse(const char *s, struct image_ref **ret, struct skiff_err **err);
/* Same for len bytes that need not be NUL-terminated (e.g. a JSON string); an
 * embedded NUL byte is an error. */
int ref_parse_n(const char *s, size_t len, struct image_ref **ret, struct skiff_err **err);
/* Parse a repository name without tag or digest (ret->tag stays NULL,
 * tag_implicit false); a tag or digest is an error. */
int ref_parse_name_only(const char *s, struct image_ref **ret, struct skiff_err **err);

void ref_free(struct image_ref *r);
struct image_ref *ref_dup(const struct image_ref *r);
static inline void ref_freep(struct image_ref **r)
{
	if (*r)
		ref_free(*r);
}
#define cleanup_ref __attribute__((cleanup(ref_freep)))

/* Strings below are allocated (caller frees) and never NULL. */
/* "docker.io/library/busybox" */
char *ref_name(const struct image_ref *r);
/* "docker.io/library/busybox:latest", "name@sha256:..", "name:tag@sha256:.." */
char *ref_string(const struct image_ref *r);
/* Docker's short form: "busybox:latest", "user/app:1", "quay.io/x/y:2", "busybox@sha256:.." */
char *ref_familiar(const struct image_ref *r);
/* Familiar name without tag or digest: "busybox", "user/app", "quay.io/x/y". */
char *ref_familiar_name(const struct image_ref *r);

/* True for 1..64 lowercase hex characters, optionally prefixed "sha256:" (then
 * at least one hex character): something to try as an image ID (prefix) first. */
bool ref_looks_like_id(const char *s);

/*
 * Local lookup by name, podman style. stored is a full name from the store
 * ("docker.io/library/busybox:latest" or "...@sha256:.."), input what the user typed.
 *
 * Name part:
 *  - input with a domain ("quay.io/x", "localhost/x", "docker.io/x"): the
 *    normalised names must be equal                           -> REF_MATCH_EXACT
 *  - short input ("busybox", "library/busybox", "org/app"): stored is its docker.io
 *    normalisation or "localhost/<input>"                     -> REF_MATCH_SHORT
 *  - short input whose path equals stored's path or is a trailing run of whole
 *    components of it ("app" vs "quay.io/org/app")            -> REF_MATCH_SUFFIX
 * Tag/digest part: an input digest must equal stored's digest (an input tag is then
 * ignored); an explicit input tag must equal stored's tag; no tag and no digest means
 * stored's tag must be "latest" -- or, with REF_MATCH_ANY_TAG (`images REPO`), any
 * stored tag or digest.
 * Unparsable stored names or inputs never match.
 */
enum ref_match_rank {
	REF_MATCH_NONE = 0,
	REF_MATCH_SUFFIX = 1,
	REF_MATCH_SHORT = 2,
	REF_MATCH_EXACT = 3,
};
#define REF_MATCH_ANY_TAG 0x1u
enum ref_match_rank ref_match(const char *stored, const char *input, unsigned flags);
/* ref_match(stored, input, 0) != REF_MATCH_NONE: "busybox" matches
 * "docker.io/library/busybox:latest". */
bool ref_match_name(const char *stored, const char *input);
/* ref_match(stored, pattern, REF_MATCH_ANY_TAG) != REF_MATCH_NONE: the
 * `images REPO[:TAG]` filter, where an omitted tag matches every tag. */
bool ref_match_repo(const char *stored, const char *pattern);

#endif
