/*
 * pkg/config/auth: registry credentials in podman's auth.json (containers-auth.json(5)),
 * with docker's ~/.docker/config.json and ~/.dockercfg read as fallbacks.
 *
 * The file: {"auths": {"KEY": {"auth": base64("user:pass"), "identitytoken": "..."}},
 * "credHelpers": {"REGISTRY": "NAME"}, "credsStore": "NAME", ...}. KEY is a registry
 * ("quay.io", "localhost:5000") or a namespace or repository in it ("quay.io/org",
 * "quay.io/org/repo"); a lookup for quay.io/org/repo tries "quay.io/org/repo",
 * "quay.io/org", then "quay.io" (the most specific wins), then keys docker writes as
 * URLs ("https://quay.io/v1/", "http://quay.io"), normalised to their host; docker.io,
 * index.docker.io and registry-1.docker.io are one registry. A credential helper
 * (credHelpers for the registry, else credsStore) is run as `docker-credential-NAME get`
 * (found in $PATH, no shell), as docker does. Writing keeps every other key and
 * unknown field, and replaces the file atomically (mode 0600, parent made 0700).
 *
 *     struct auth_paths p;
 *     auth_paths_default(&p, NULL);
 *     struct auth_cred c;
 *     int r = auth_get(&p, "quay.io/org/repo", &c, err);  // 0 found, 1 none, -1 error
 */
#ifndef SKIFF_CONFIG_AUTH_H
#define SKIFF_CONFIG_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "vendor-free/err.h"

/* Biggest credentials file read (a larger one is an EFBIG error naming it). */
#define AUTH_FILE_MAX (4u << 20)

/* The files read, in order; NULL entries are skipped. Only primary is ever written. */
struct auth_paths {
	char *primary;	  /* --authfile, $REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json,
			     $XDG_RUNTIME_DIR/containers/auth.json or /run/containers/UID/auth.json */
	char *xdg_config; /* $XDG_CONFIG_HOME/containers/auth.json (~/.config/containers/auth.json) */
	char *docker;	  /* ~/.docker/config.json */
	char *dockercfg;  /* ~/.dockercfg: the legacy format, whose top level is the "auths" map */
};

/*
 * Fill p from the environment, as podman 4 does. An explicit file (auth_explicit_file())
 * is the only one, read and written. Otherwise primary is $XDG_RUNTIME_DIR/containers/auth.json
 * (when XDG_RUNTIME_DIR is set, whoever runs) or /run/containers/UID/auth.json, and the
 * fallbacks follow ($HOME unset: only $XDG_CONFIG_HOME's).
 */
void auth_paths_default(struct auth_paths *p, const char *authfile);
/* The file named by the user: authfile (--authfile; NULL or "" for none), else
 * $REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json (podman's --authfile default);
 * NULL when none. Caller frees. */
char *auth_explicit_file(const char *authfile);
/* The file to write: the explicit one, else the default primary. Caller frees. */
char *auth_default_file(const char *authfile);
void auth_paths_release(struct auth_paths *p);

struct auth_cred {
	char *user;	      /* NULL with only an identity token */
	char *pass;	      /* NULL with only an identity token */
	char *identity_token; /* "identitytoken", or a helper's "<token>" secret; NULL if none */
	char *file;	      /* where it was found */
	char *key;	      /* the key that matched ("quay.io/org"), or "helper NAME" */
};
void auth_cred_release(struct auth_cred *c);

/*
 * The credentials for ref ("registry[:port][/path...]", no tag or digest; "https://host/v1/"
 * is taken as its host). Reads the files of p in order, skipping missing ones; the first
 * file with an entry for ref decides. Returns 0 and fills *ret (release it), 1 when no file
 * has one (*ret untouched), or -1: a file that is unreadable, not JSON, of the wrong shape,
 * or whose matching entry does not decode (an error naming the file and key), or a failing
 * credential helper (naming it).
 */
int auth_get(const struct auth_paths *p, const char *ref, struct auth_cred *ret, struct skiff_err **err);

/*
 * Store user:pass for key (a registry or registry/namespace/repo; a URL is reduced to
 * its host) in file, creating it (and its parent, 0700) if needed. When the file has a
 * credHelpers entry for the key's registry, the helper stores it instead
 * (`docker-credential-NAME store`). *ret_where (may be NULL) gets the file, or
 * "credential helper: NAME"; caller frees.
 */
int auth_set(const char *file, const char *key, const char *user, const char *pass, char **ret_where,
	     struct skiff_err **err);

/*
 * Remove key's entry from file (exactly key, else a URL-form key of the same registry), and
 * the key's registry's credHelpers credentials (`erase`). Nothing to remove (or no file):
 * ENOENT "not logged into KEY".
 */
int auth_remove(const char *file, const char *key, struct skiff_err **err);

/* Empty "auths" of file (keeping the other fields) and erase what its credHelpers hold. A
 * missing file is fine. */
int auth_remove_all(const char *file, struct skiff_err **err);

/*
 * Check and reduce a login/logout argument: "https://quay.io/v2/" -> "quay.io",
 * "quay.io/org/repo" stays. A tag, digest, blank, or space is an EINVAL error naming arg.
 * *ret_key: the key; *ret_registry (may be NULL): its registry part. Caller frees.
 */
int auth_parse_key(const char *arg, char **ret_key, char **ret_registry, struct skiff_err **err);

/* Base64 (standard alphabet, '=' padding). Decoding accepts missing padding and rejects
 * anything else that is not base64: -1 (EINVAL). *ret is NUL-terminated; caller frees. */
char *auth_base64_encode(const void *data, size_t len);
int auth_base64_decode(const char *s, char **ret, size_t *ret_len, struct skiff_err **err);

#endif
