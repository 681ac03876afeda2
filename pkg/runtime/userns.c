/* User namespaces: writing a new namespace's uid and gid maps. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pkg/runtime/internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/strbuf.h"

bool rt_running_rootless(void)
{
	if (geteuid() != 0)
		return true;
	/* root, but maybe of a user namespace: the initial one maps all 2^32 ids */
	cleanup_free char *buf = NULL;
	size_t len = 0;
	struct skiff_err *e = NULL;
	if (read_file_at(AT_FDCWD, "/proc/self/uid_map", 4096, &buf, &len, &e) < 0) {
		err_free(e);
		return false;
	}
	unsigned long a, b, n;
	if (sscanf(buf, "%lu %lu %lu", &a, &b, &n) == 3 && a == 0 && b == 0 && n == 4294967295UL)
		return false;
	return true;
}

static void map_text(const struct spec_rt_idmaps *m, struct strbuf *sb)
{
	for (size_t i = 0; i < m->len; i++)
		strbuf_addf(sb, "%u %u %u\n", m->v[i].container_id, m->v[i].host_id, m->v[i].size);
}

static int write_proc(pid_t pid, const char *file, const char *data, struct skiff_err **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_make(err, errno, "open %s", path);
	size_t len = strlen(data);
	ssize_t n = write(fd, data, len);
	if (n < 0)
		return err_make(err, errno, "write %s", path);
	if ((size_t)n != len)
		return err_makex(err, EIO, "write %s: short write", path);
	return 0;
}

/* newuidmap PID  ctr host size ... */
static int run_helper(const char *helper, pid_t pid, const struct spec_rt_idmaps *m, struct skiff_err **err)
{
	struct strv argv = STRV_INIT;
	strv_push(&argv, helper);
	strv_pushf(&argv, "%d", (int)pid);
	for (size_t i = 0; i < m->len; i++) {
		strv_pushf(&argv, "%u", m->v[i].container_id);
		strv_pushf(&argv, "%u", m->v[i].host_id);
		strv_pushf(&argv, "%u", m->v[i].size);
	}
	struct strbuf errout = STRBUF_INIT;
	struct spawn_opts o = SPAWN_OPTS_INIT;
	o.stdin_fd = SPAWN_DEVNULL;
	int status = 0;
	int rc = run_capture((const char *const *)argv.v, &o, NULL, &errout, &status, err);
	strv_release(&argv);
	if (rc == 0 && status != 0) {
		strbuf_rtrim(&errout);
		rc = err_makex(err, EPERM, "%s: %s", helper, errout.len ? errout.buf : "failed");
	}
	strbuf_release(&errout);
	return rc;
}

/* One mapping of our own id: an unprivileged process may write it itself. */
static bool own_single(const struct spec_rt_idmaps *m, unsigned id)
{
	return m->len == 1 && m->v[0].size == 1 && m->v[0].host_id == id;
}

int rt_write_id_maps(pid_t pid, const struct spec_rt_linux *l, bool rootless, struct skiff_err **err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = 0;
	bool privileged = geteuid() == 0;
	const struct spec_rt_idmaps *um = &l->uid_mappings, *gm = &l->gid_mappings;

	if (um->len == 0 || gm->len == 0) {
		return err_makex(err, EINVAL, "user namespace: linux.uidMappings and linux.gidMappings are required");
	}
	(void)rootless;
	if (privileged || own_single(gm, getegid())) {
		if (!privileged && write_proc(pid, "setgroups", "deny", err) < 0)
			return err_wrap(err, "user namespace");
		map_text(gm, &sb);
		rc = write_proc(pid, "gid_map", sb.buf, err);
	} else {
		rc = run_helper("newgidmap", pid, gm, err);
	}
	strbuf_reset(&sb);
	if (rc == 0) {
		if (privileged || own_single(um, geteuid())) {
			map_text(um, &sb);
			rc = write_proc(pid, "uid_map", sb.buf, err);
		} else {
			rc = run_helper("newuidmap", pid, um, err);
		}
	}
	strbuf_release(&sb);
	return rc < 0 ? err_wrap(err, "user namespace: map ids") : 0;
}
