/*
 * pkg/config/registries: podman's registries.conf (containers-registries.conf(5), v2
 * and the deprecated v1 format), its drop-in directories
 * (containers-registries.conf.d(5)) and the short-name alias cache, read in podman's
 * places and order, merged as podman merges them.
 *
 *     cleanup_regconf struct regconf *rc = NULL;
 *     if (regconf_load_default(geteuid() != 0, &rc, err) < 0)
 *             return -1;
 *     struct reg_endpoint *eps; size_t n;
 *     if (regconf_pull_sources(rc, "example.com/foo/app:1.0", false, &eps, &n, err) < 0)
 *             return -1;   // EACCES when the registry is blocked
 *     for (size_t i = 0; i < n; i++)
 *             try(eps[i].name, eps[i].insecure);   // mirrors first, the primary last
 *     reg_endpoints_free(eps, n);
 *
 * Files and precedence (what podman 4/5 does, checked against podman here):
 * - the main file is $CONTAINERS_REGISTRIES_CONF when set (it must exist); else
 *   $HOME/.config/containers/registries.conf when it exists (podman reads $HOME, not
 *   $XDG_CONFIG_HOME, for this file, for root too); else /etc/containers/registries.conf
 *   (a missing file is an empty configuration);
 * - then the *.conf files of the drop-in directories, each in lexical order: with the
 *   user's main file only the user's $HOME/.config/containers/registries.conf.d;
 *   otherwise /etc/containers/registries.conf.d then the user's directory (also with
 *   $CONTAINERS_REGISTRIES_CONF, as podman);
 * - each later file overrides: unqualified-search-registries, credential-helpers and
 *   short-name-mode are replaced when the file sets them; [[registry]] tables are
 *   merged by prefix (same prefix: the later table replaces the earlier one whole);
 *   [aliases] are merged by name, and an alias set to "" erases an earlier one;
 * - the alias cache ($XDG_CACHE_HOME/containers/short-name-aliases.conf, ~/.cache/...
 *   rootless; /var/cache/containers/short-name-aliases.conf as root) has precedence
 *   over the aliases of the registries.conf files, as the man page says.
 *
 * The v1 format ([registries.search], [registries.insecure], [registries.block]) is
 * read in the main file, as podman: search becomes unqualified-search-registries,
 * insecure/block become [[registry]] tables with prefix = location. A drop-in in v1
 * format, or a file mixing v1 and v2 keys, is an EINVAL error naming the file.
 *
 * Errors name the file (and the line where one is known): "PATH: line N: insecure:
 * expected boolean, got string". Unknown keys are ignored.
 */
#ifndef SKIFF_REGISTRIES_H
#define SKIFF_REGISTRIES_H

#include <stdbool.h>
#include <stddef.h>

#include "vendor-free/err.h"
#include "vendor-free/strv.h"

struct regconf; /* parsed, merged configuration (opaque) */

/* Where the files are. NULL skips a file or directory. */
struct regconf_paths {
	const char *env_file;	   /* $CONTAINERS_REGISTRIES_CONF: the main file when set; it must exist */
	const char *system_file;   /* /etc/containers/registries.conf */
	const char *user_file;	   /* $HOME/.config/containers/registries.conf: replaces system_file if it exists */
	const char *system_dropin; /* /etc/containers/registries.conf.d (not read with user_file) */
	const char *user_dropin;   /* $HOME/.config/containers/registries.conf.d */
	const char *alias_cache;   /* short-name-aliases.conf (missing is fine) */
};

/* Read and merge the files named in p (see above for the order). */
int regconf_load(const struct regconf_paths *p, struct regconf **ret, struct skiff_err **err);

/*
 * The paths podman uses, from the environment: CONTAINERS_REGISTRIES_CONF, HOME (the
 * password database when unset), XDG_CACHE_HOME (rootless alias cache). rootless picks
 * the alias cache: the user's cache directory, else /var/cache/containers. The strings
 * are allocated in ret_buf (release with strv_release) so that ret can point into it.
 */
int regconf_default_paths(bool rootless, struct regconf_paths *ret, struct strv *ret_buf, struct skiff_err **err);
/* regconf_default_paths() + regconf_load(). */
int regconf_load_default(bool rootless, struct regconf **ret, struct skiff_err **err);

void regconf_free(struct regconf *c);
static inline void regconf_freep(struct regconf **p)
{
	if (*p)
		regconf_free(*p);
}
#define cleanup_regconf __attribute__((cleanup(regconf_freep)))

/* One place to pull from (or push to). */
struct reg_endpoint {
	char *name;	/* the reference rewritten for this endpoint: host[:port]/path[:tag|@digest] */
	char *location; /* the endpoint: the configured location, else the name's host[:port] */
	bool insecure;	/* plain HTTP and unverified TLS allowed */
	bool mirror;	/* a [[registry.mirror]], not the primary location */
};
void reg_endpoints_free(struct reg_endpoint *v, size_t n);
void reg_endpoint_release(struct reg_endpoint *e);

/*
 * Where to pull name from. name is a fully-qualified reference, "host[:port]/path"
 * with an optional ":tag" or "@digest" (docker.io names already normalised to
 * docker.io/library/x); by_digest says the pull is by digest. The [[registry]] with the
 * longest matching prefix decides: its mirrors in order (only with by_digest when
 * mirror-by-digest-only; each mirror's pull-from-mirror "digest-only"/"tag-only" keeps
 * it to digest/tag pulls), then the primary location, each with the matched prefix
 * rewritten to its location. No matching [[registry]]: the name itself. A blocked
 * registry is EACCES "registry PREFIX is blocked in FILE". *ret_n >= 1 on success.
 */
int regconf_pull_sources(const struct regconf *c, const char *name, bool by_digest, struct reg_endpoint **ret,
			 size_t *ret_n, struct skiff_err **err);

/*
 * Where to push name: as podman, pushes ignore location and mirrors (containers-
 * registries.conf(5): "Redirection and mirrors are currently processed only when
 * reading images"), so ret->name is name itself; insecure comes from the matching
 * [[registry]], and a blocked one is the EACCES error of regconf_pull_sources().
 * ret is written only on success (release with reg_endpoint_release).
 */
int regconf_push_target(const struct regconf *c, const char *name, struct reg_endpoint *ret, struct skiff_err **err);

/* insecure of the [[registry]] whose prefix matches host_port (a bare "host[:port]"). */
bool regconf_insecure(const struct regconf *c, const char *host_port);
/* blocked, likewise, for a bare "host[:port]" or a full name. */
bool regconf_blocked(const struct regconf *c, const char *name);

enum regconf_short_mode {
	REGCONF_SHORT_PERMISSIVE, /* the default */
	REGCONF_SHORT_ENFORCING,
	REGCONF_SHORT_DISABLED,
};

/* What a short name resolves to. Release with regconf_resolution_release(). */
struct regconf_resolution {
	char *alias;		      /* fully-qualified (normalised) repository, or NULL */
	char *alias_origin;	      /* the file the alias came from (with alias) */
	struct strv candidates;	      /* without alias: "registry/name" to try, in order (may be empty) */
	char *search_origin;	      /* the file that set unqualified-search-registries, or NULL */
	enum regconf_short_mode mode; /* short-name-mode */
};
void regconf_resolution_release(struct regconf_resolution *r);

/*
 * Resolve a short name, an unqualified repository such as "busybox" or "org/app"
 * without tag or digest (strip them first; a name with a registry is EINVAL). An alias
 * from the alias cache or the registries.conf files wins; otherwise the candidates are
 * every unqualified-search-registries entry + "/" + name ("docker.io/library/" for a
 * one-component name on docker.io). When no file sets unqualified-search-registries at
 * all, the candidate is docker.io alone (docker's behaviour); set to [] it is none.
 * ret is written only on success.
 */
int regconf_resolve_short(const struct regconf *c, const char *name, struct regconf_resolution *ret,
			  struct skiff_err **err);

/* "enforcing", "permissive" (the default) or "disabled". */
const char *regconf_short_name_mode(const struct regconf *c);
enum regconf_short_mode regconf_short_mode(const struct regconf *c);

/* unqualified-search-registries as merged (NULL when no file sets it). */
const struct strv *regconf_search_registries(const struct regconf *c);
/* credential-helpers as merged; ["containers-auth.json"] when none is set. */
const struct strv *regconf_credential_helpers(const struct regconf *c);
/* The files that were read, in order (for messages such as "blocked in ..."). */
const struct strv *regconf_files(const struct regconf *c);

/*
 * Record "name" = "value" in the alias cache file cache_file, as podman does after a
 * short-name prompt: name a short name, value a fully-qualified repository without tag
 * or digest (both checked: EINVAL naming the bad one). The other aliases in the file are
 * kept (a malformed file is an error, never overwritten). The parent directory is
 * created (0700); the write is atomic (temp file + fsync + rename, mode 0600) under an
 * OFD lock on "cache_file.lock" (podman's lock file, whose POSIX locks conflict with it).
 */
int regconf_record_alias(const char *cache_file, const char *name, const char *value, struct skiff_err **err);

#endif
