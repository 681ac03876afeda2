/*
 * --userns=auto[:size=N]: a user namespace of the container's own, its ids picked at create
 * from a range no other such container uses (podman's rule):
 * as root, the "containers" entries of /etc/subuid and /etc/subgid (podman's); rootless, the
 * ids of the rootless user namespace but 0 (the user's own subordinate range).
 * The size defaults to 1024 (podman's auto-userns-min-size). The rootfs is mounted with the
 * files' ids shifted to match (store_container_mount_mapped).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pkg/engine/container.h"
#include "pkg/engine/ctrconfig-internal.h"
#include "pkg/json/json.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

#define AUTO_SIZE_DEFAULT 1024

bool ctr_userns_is_auto(const struct ctr_config *c)
{
	return c->userns_mode && (!strcmp(c->userns_mode, "auto") || !strncmp(c->userns_mode, "auto:", 5));
}

/* "auto" or "auto:size=N" */
static int auto_size(const char *mode, uint32_t *ret, struct skiff_err **err)
{
	*ret = AUTO_SIZE_DEFAULT;
	if (!strcmp(mode, "auto"))
		return 0;
	const char *opt = mode + 5;
	if (strncmp(opt, "size=", 5) != 0)
		return ctr_err(err, ENOTSUP, "--userns=%.64s: only size=N is supported", mode);
	char *end;
	unsigned long v = strtoul(opt + 5, &end, 10);
	if (*end || !opt[5] || v < 1 || v > 1u << 30)
		return ctr_err(err, EINVAL, "--userns=%.64s: invalid size", mode);
	*ret = (uint32_t)v;
	return 0;
}

/* The first "containers" range of an /etc/subuid-style file. */
static int subid_range(const char *file, uint32_t *ret_start, uint32_t *ret_count, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (read_file_at(AT_FDCWD, file, 1u << 20, &buf, &len, err) < 0) {
		if (err_status(*err) != ENOENT)
			return -1;
		err_clear(err);
	}
	for (char *l = buf; l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		unsigned long start, count;
		if (!strncmp(l, "containers:", 11) && sscanf(l + 11, "%lu:%lu", &start, &count) == 2 && count > 0 &&
		    start + count - 1 <= UINT32_MAX) {
			*ret_start = (uint32_t)start;
			*ret_count = (uint32_t)count;
			return 0;
		}
		l = nl ? nl + 1 : NULL;
	}
	return ctr_err(err, ENOENT,
		       "--userns=auto: cannot find mappings for user containers: no subordinate ids for user "
		       "\"containers\" in %s",
		       file);
}

/* Rootless: the ids of our own namespace (which newuidmap gave the user's subordinate range
 * from 1 on, 0 being the user); the contiguous run that starts at 1, as podman (1..N). */
static int ns_range(const char *file, uint32_t *ret_start, uint32_t *ret_count, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (read_file_at(AT_FDCWD, file, 1u << 16, &buf, &len, err) < 0)
		return -1;
	uint64_t end = 1;
	for (bool grew = true; grew;) {
		grew = false;
		for (char *l = buf; l && *l;) {
			unsigned long inner, outer, count;
			if (sscanf(l, "%lu %lu %lu", &inner, &outer, &count) == 3 && inner <= end &&
			    inner + count > end) {
				end = inner + count;
				grew = true;
			}
			l = strchr(l, '\n');
			l = l ? l + 1 : NULL;
		}
	}
	*ret_start = 1;
	*ret_count = (uint32_t)(end - 1 > UINT32_MAX - 1 ? UINT32_MAX - 1 : end - 1);
	return 0;
}

int ctr_userns_auto(struct engine *e, struct ctr_config *cfg, struct skiff_err **err)
{
	uint32_t size, us, uc, gs, gc;
	if (auto_size(cfg->userns_mode, &size, err) < 0)
		return -1;
	cleanup_free char *who = NULL; /* rootless: whose subordinate ids */
	if (e->cfg->rootless) {
		struct passwd *pw = getpwuid(e->cfg->uid);
		who = pw ? xasprintf("user %s", pw->pw_name) : xasprintf("uid %u", (unsigned)e->cfg->uid);
		if (ns_range("/proc/self/uid_map", &us, &uc, err) < 0 ||
		    ns_range("/proc/self/gid_map", &gs, &gc, err) < 0)
			return err_wrap(err, "--userns=auto");
		if (uc == 0 || gc == 0)
			return ctr_err(err, ENOSPC,
				       "--userns=auto: %s has no subordinate ids (no range in /etc/subuid and "
				       "/etc/subgid, or newuidmap failed): a container needs %u",
				       who, size);
	} else if (subid_range("/etc/subuid", &us, &uc, err) < 0 || subid_range("/etc/subgid", &gs, &gc, err) < 0) {
		return -1;
	}
	uint32_t avail = uc < gc ? uc : gc;
	if (size > avail && who)
		return ctr_err(err, ENOSPC,
			       "--userns=auto: a size of %u is more than the %u subordinate ids of %s "
			       "(/etc/subuid, /etc/subgid)",
			       size, avail, who);
	if (size > avail)
		return ctr_err(err, ENOSPC, "--userns=auto: a size of %u is more than the %u ids available", size,
			       avail);

	/* the offsets other containers took, into the common range */
	struct store_container *rows = NULL;
	size_t n = 0;
	if (store_container_list(e->store, &rows, &n, err) < 0)
		return -1;
	struct {
		uint64_t lo, hi;
	} *used = xcalloc(n ? n : 1, sizeof(*used));
	size_t nused = 0;
	for (size_t i = 0; i < n; i++) {
		cleanup_json struct json *j = NULL;
		struct ctr_config *o = NULL;
		struct skiff_err *e2 = NULL;
		if (json_parse(rows[i].config, strlen(rows[i].config), &j, &e2) == 0 &&
		    ctr_config_from_json(j, &o, &e2) == 0 && ctr_userns_is_auto(o) && o->userns_size &&
		    o->userns_uid >= us) {
			used[nused].lo = o->userns_uid - us;
			used[nused].hi = used[nused].lo + o->userns_size;
			nused++;
		}
		err_free(e2);
		if (o)
			ctr_config_free(o);
	}
	store_containers_free(rows, n);
	/* the lowest offset that overlaps none of them */
	uint64_t off = 0;
	for (bool moved = true; moved;) {
		moved = false;
		for (size_t i = 0; i < nused; i++)
			if (off < used[i].hi && used[i].lo < off + size) {
				off = used[i].hi;
				moved = true;
			}
	}
	free(used);
	if (off + size > avail)
		return ctr_err(err, ENOSPC, "--userns=auto: no free range of %u ids is left (%u ids in all)", size,
			       avail);
	cfg->userns_uid = us + (uint32_t)off;
	cfg->userns_gid = gs + (uint32_t)off;
	cfg->userns_size = size;
	return 0;
}

/* The runtime opens the rootfs and binds the per-boot files as the container's root, which
 * is some other user here: the directories on the way must let it through (podman makes
 * them 0711 too). Listing stays the owner's. */
int ctr_userns_auto_paths(struct engine *e, struct ctr *c, struct skiff_err **err)
{
	/* Rootless, the runtime reaches them before it becomes the container's root (as
	 * skiff-runtime does as root too); a user's 0700 home is theirs to keep. */
	if (e->cfg->rootless)
		return 0;
	cleanup_free char *cdir = xasprintf("%s/containers/%s", e->cfg->graphroot, c->row.id);
	cleanup_free char *rdir = ctr_rundir(e, c->row.id);
	cleanup_free char *cpar = xasprintf("%s/containers", e->cfg->graphroot);
	cleanup_free char *rpar = xasprintf("%s/containers", e->cfg->runroot);
	const char *dirs[] = {e->cfg->graphroot, cpar, cdir, e->cfg->runroot, rpar, rdir};
	/* above the store: not ours to change; say which one is in the way */
	for (size_t i = 0; i < 2; i++) {
		cleanup_free char *p = xstrdup(i ? e->cfg->runroot : e->cfg->graphroot);
		for (char *slash = strrchr(p, '/'); slash && slash > p; slash = strrchr(p, '/')) {
			*slash = 0;
			struct stat st;
			if (stat(p, &st) == 0 && (st.st_mode & 0001) == 0)
				return err_makex(
					err, EACCES,
					"--userns=auto: the container's root cannot reach its files: %s is not "
					"searchable by other users (mode %04o)",
					p, (unsigned)(st.st_mode & 07777));
		}
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		struct stat st;
		if (stat(dirs[i], &st) < 0)
			return err_make(err, errno, "--userns=auto: %s", dirs[i]);
		if ((st.st_mode & 0011) != 0011 && chmod(dirs[i], (st.st_mode & 07777) | 0011) < 0)
			return err_make(err, errno, "--userns=auto: make %s traversable", dirs[i]);
	}
	return 0;
}
