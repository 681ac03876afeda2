/* Container state on disk: ROOT/ID/state.json and ROOT/ID/exec.fifo. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/json/json.h"
#include "pkg/runtime/internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/xalloc.h"

char *rt_default_root(void)
{
	if (!rt_running_rootless())
		return xstrdup("/run/skiff-runtime");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char *r = NULL;
	if (xdg && *xdg && asprintf(&r, "%s/skiff-runtime", xdg) >= 0)
		return r;
	if (asprintf(&r, "/tmp/skiff-runtime-%u", (unsigned)geteuid()) < 0)
		abort();
	return r;
}

int rt_check_id(const char *id, struct skiff_err **err)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0)
		return err_makex(err, EINVAL, "container id is empty");
	if (n > 1024)
		return err_makex(err, EINVAL, "container id is longer than 1024 bytes");
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			  (i > 0 && (ch == '_' || ch == '.' || ch == '-'));
		if (!ok)
			return err_makex(err, EINVAL, "invalid container id `%s`", id);
	}
	return 0;
}

static int open_root(const struct rt_global *g, bool create, int *ret, struct skiff_err **err)
{
	cleanup_free char *def = g->root ? NULL : rt_default_root();
	const char *root = g->root ? g->root : def;
	if (create && mkdir_p_at(AT_FDCWD, root, 0700, err) < 0)
		return err_wrap(err, "state root");
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_make(err, errno, "state root %s", root);
	*ret = fd;
	return 0;
}

int rt_state_dir_create(const struct rt_global *g, const char *id, int *ret_dirfd, struct skiff_err **err)
{
	cleanup_close int rootfd = -1;
	if (rt_check_id(id, err) < 0 || open_root(g, true, &rootfd, err) < 0)
		return -1;
	if (mkdirat(rootfd, id, 0700) < 0) {
		if (errno == EEXIST)
			return err_makex(err, EEXIST, "container `%s` already exists", id);
		return err_make(err, errno, "create the state of %s", id);
	}
	int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_make(err, errno, "open the state of %s", id);
	*ret_dirfd = fd;
	return 0;
}

int rt_state_open(const struct rt_global *g, const char *id, int *ret_dirfd, struct skiff_err **err)
{
	cleanup_close int rootfd = -1;
	if (rt_check_id(id, err) < 0)
		return -1;
	if (open_root(g, false, &rootfd, err) < 0) {
		if (err_status(*err) == ENOENT) {
			err_clear(err);
			return err_makex(err, ENOENT, "container `%s` does not exist", id);
		}
		return -1;
	}
	int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return err_makex(err, ENOENT, "container `%s` does not exist", id);
		return err_make(err, errno, "open the state of %s", id);
	}
	if (faccessat(fd, "state.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		close(fd);
		return err_makex(err, ENOENT, "container `%s` does not exist", id);
	}
	*ret_dirfd = fd;
	return 0;
}

int rt_state_remove(const struct rt_global *g, const char *id, struct skiff_err **err)
{
	cleanup_close int rootfd = -1;
	if (rt_check_id(id, err) < 0 || open_root(g, false, &rootfd, err) < 0)
		return -1;
	return rm_rf_at(rootfd, id, err);
}

int rt_state_write(int dirfd, const struct rt_state *s, struct skiff_err **err)
{
	struct json *j = json_new_object();
	json_object_set_string(j, "id", s->id);
	json_object_set_int(j, "pid", s->pid);
	json_object_set_int(j, "starttime", (int64_t)s->starttime);
	json_object_set_string(j, "bundle", s->bundle);
	json_object_set_string(j, "rootfs", s->rootfs);
	json_object_set_string(j, "created", s->created);
	json_object_set_string(j, "owner", s->owner ? s->owner : "");
	json_object_set_string(j, "cgroup", s->cgroup ? s->cgroup : "disabled");
	json_object_set_bool(j, "rootless", s->rootless);
	if (s->annotations)
		json_object_set(j, "annotations", json_clone(s->annotations));
	struct strbuf sb = STRBUF_INIT;
	json_dump(j, 0, &sb);
	json_free(j);
	int rc = write_file_replace(dirfd, "state.json", sb.buf, sb.len, 0600, err);
	strbuf_release(&sb);
	return rc;
}

void rt_state_release(struct rt_state *s)
{
	free(s->id);
	free(s->bundle);
	free(s->rootfs);
	free(s->created);
	free(s->owner);
	free(s->cgroup);
	if (s->annotations)
		json_free(s->annotations);
	memset(s, 0, sizeof(*s));
}

static char *dup_field(const struct json *j, const char *k)
{
	const char *v = json_object_get_string(j, k);
	return xstrdup(v ? v : "");
}

int rt_state_read(int dirfd, struct rt_state *ret, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (read_file_at(dirfd, "state.json", 1 << 20, &buf, &len, err) < 0)
		return -1;
	cleanup_json struct json *j = NULL;
	if (json_parse(buf, len, &j, err) < 0 || !json_is(j, JSON_OBJECT))
		return err_wrap(err, "state.json");
	struct json *pid = json_object_get(j, "pid"), *st = json_object_get(j, "starttime");
	if (!json_is(pid, JSON_NUMBER) || !json_is(st, JSON_NUMBER) || !json_object_get_string(j, "id"))
		return err_makex(err, EINVAL, "state.json: missing id, pid or starttime");
	struct rt_state s = {
		.id = dup_field(j, "id"),
		.bundle = dup_field(j, "bundle"),
		.rootfs = dup_field(j, "rootfs"),
		.created = dup_field(j, "created"),
		.owner = dup_field(j, "owner"),
		.cgroup = dup_field(j, "cgroup"),
		.pid = (pid_t)pid->u.num.i,
		.starttime = (uint64_t)st->u.num.i,
	};
	struct json *rl = json_object_get(j, "rootless");
	s.rootless = json_is(rl, JSON_BOOL) && rl->u.b;
	struct json *a = json_object_get(j, "annotations");
	if (json_is(a, JSON_OBJECT))
		s.annotations = json_clone(a);
	*ret = s;
	return 0;
}

const char *rt_status_name(enum rt_status s)
{
	static const char *const names[] = {"created", "running", "paused", "stopped"};
	return names[s];
}

static bool alive(const struct rt_state *s)
{
	uint64_t st;
	if (s->pid <= 0 || proc_starttime(s->pid, &st) < 0 || st != s->starttime)
		return false;
	/* a zombie has exited */
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)s->pid);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = 0;
	char *rp = strrchr(buf, ')');
	return !(rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}

enum rt_status rt_state_status(int dirfd, const struct rt_state *s)
{
	if (!alive(s))
		return RT_STOPPED;
	if (faccessat(dirfd, "exec.fifo", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return RT_CREATED;
	/* rt_pause marks a frozen container */
	if (faccessat(dirfd, "paused", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return RT_PAUSED;
	return RT_RUNNING;
}

int rt_state_pidfd(const struct rt_state *s)
{
	int fd = pidfd_open_compat(s->pid);
	if (fd < 0)
		return -1;
	uint64_t st;
	if (proc_starttime(s->pid, &st) < 0 || st != s->starttime) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}
