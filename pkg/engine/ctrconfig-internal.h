/*
 * pkg/engine ctrconfig internals shared by ocispec.c and etcfiles.c: the user and group
 * lookups in a container's rootfs (/etc/passwd, /etc/group, opened inside the root) and
 * the container's effective hostname.
 */
#ifndef SKIFF_ENGINE_CTRCONFIG_INTERNAL_H
#define SKIFF_ENGINE_CTRCONFIG_INTERNAL_H

#include <stdint.h>

#include "pkg/engine/ctrconfig.h"
#include "pkg/spec/runtime.h"
#include "vendor-free/err.h"
#include "vendor-free/strv.h"

/* Largest /etc/passwd, /etc/group or resolv.conf read. */
#define CTR_ETC_FILE_MAX (8u << 20)

/* What a "user[:group]" spec resolves to, as runc's GetExecUser. */
struct ctr_exec_user {
	uint32_t uid, gid;
	char *name;		       /* the matched passwd entry's name; NULL when none matched */
	char *home;		       /* its home; NULL when none matched */
	struct spec_rt_u32_list sgids; /* groups listing name as a member (only without ":group") */
};
void ctr_exec_user_release(struct ctr_exec_user *u);

/*
 * Resolve spec ("" is root: uid 0) against rootfd's /etc/passwd and /etc/group (missing
 * files have no entries; rootfd < 0 likewise). A numeric uid/gid needs no entry (gid 0 when
 * the uid has none); a name without an entry is ENOENT naming it; a malformed spec is EINVAL.
 */
int ctr_lookup_exec_user(int rootfd, const char *spec, struct ctr_exec_user *ret, struct skiff_err **err);

struct engine;
struct ctr;
/* The container's user as podman's getContainerUser finds it: user (--user) when set,
 * else the image's User (an image removed since: root), resolved as above. */
int ctr_lookup_container_user(struct engine *e, const struct ctr *c, const char *user, int rootfd,
			      struct ctr_exec_user *ret, struct skiff_err **err);

/* --group-add: append the gid of each name or number in groups to gids (names must exist
 * in /etc/group: ENOENT naming it). Duplicates are skipped. */
int ctr_lookup_groups(int rootfd, const struct strv *groups, struct spec_rt_u32_list *gids, struct skiff_err **err);

/* Append v to l unless it is there already. */
void ctr_u32_list_add(struct spec_rt_u32_list *l, uint32_t v);

/* The container's hostname: the host's with --uts host, else --hostname, else the first 12
 * characters of the id (EINVAL when there is neither). Caller frees. */
int ctr_hostname(const struct ctr_config *c, char **ret, struct skiff_err **err);

/* err_makex() with control characters of the message escaped (\n, \t, \xNN), so that a
 * hostile value never splits an error over lines. */
int ctr_err(struct skiff_err **err, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* True for a mode that names the host's namespace ("host"). */
bool ctr_ns_is_host(const char *mode);

/* An exec'd process: the container's (from its bundle's spec) with these changes. */
struct ctr_exec_process {
	const char *const *argv; /* NULL-terminated, not empty */
	const char *const *env;	 /* KEY=VALUE, set over the container's; NULL-terminated, may be NULL */
	const char *user;	 /* USER[:GROUP] resolved in the rootfs; NULL: the container's */
	const char *workdir;	 /* absolute; NULL: the container's */
	bool tty, privileged;
	unsigned rows, cols; /* the terminal's size at the start (0: unknown) */
};
/* The OCI process JSON (caller frees) for runtime exec --process: args, env (TERM=xterm with
 * a tty unless set), cwd, user (resolved in the spec's rootfs; HOME from its passwd entry
 * unless env sets it), and the capabilities as the container's for that user (all the engine
 * has with privileged). */
int ctr_oci_exec_process(const struct ctr_config *c, const char *spec_json, size_t len,
			 const struct ctr_exec_process *x, char **ret, struct skiff_err **err);

/* A JSON array of the strings / object of the map (new values). */
struct json *ctr_strv_json(const struct strv *sv);
struct json *ctr_map_json(const struct spec_map *m);

#endif
