/* Checkpoint and restore by running the criu binary (see criu.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/json/json.h"
#include "pkg/runtime/criu.h"
#include "pkg/runtime/internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/strv.h"
#include "vendor-free/xalloc.h"

#define DESCRIPTORS "descriptors.json"

const char *rt_criu_binary(void)
{
	const char *p = getenv("SKIFF_CRIU");
	return p && *p ? p : "criu";
}

/* The first line of text that says "Error" (else the last non-empty line), trimmed. */
static char *last_error_line(const char *text)
{
	const char *best = NULL, *last = NULL;
	size_t best_n = 0, last_n = 0;
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n) {
			last = p;
			last_n = n;
			if (!best && memmem(p, n, "Error", 5)) {
				best = p;
				best_n = n;
			}
		}
		p = nl ? nl + 1 : p + n;
	}
	if (!best) {
		best = last;
		best_n = last_n;
	}
	if (!best)
		return xstrdup("");
	if (best_n > 400)
		best_n = 400;
	return xstrndup(best, best_n);
}

/* The reason in a criu log file, for an error message. */
static char *log_reason(const char *dir, const char *name)
{
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	struct skiff_err *e = NULL;
	if (dfd < 0 || read_file_at(dfd, name, 16 << 20, &buf, &len, &e) < 0) {
		err_free(e);
		return xstrdup("no log");
	}
	return last_error_line(buf);
}

int rt_criu_check(char **ret_version, struct skiff_err **err)
{
	const char *criu = rt_criu_binary();
	cleanup_strbuf struct strbuf out = STRBUF_INIT, errout = STRBUF_INIT;
	int status = 0;
	const char *const vargv[] = {criu, "--version", NULL};
	if (run_capture(vargv, NULL, &out, &errout, &status, err) < 0)
		return err_wrap(err, "CRIU is needed to checkpoint and restore containers");
	if (status != 0)
		return err_makex(err, ENOENT, "%s --version exited with status %d", criu, status);
	cleanup_free char *version = NULL;
	const char *v = strstr(out.buf, "Version:");
	if (v) {
		v += strlen("Version:");
		v += strspn(v, " \t");
		version = xstrndup(v, strcspn(v, " \t\n"));
	} else {
		version = xstrdup("(unknown version)");
	}
	strbuf_reset(&out);
	strbuf_reset(&errout);
	const char *const cargv[] = {criu, "check", NULL};
	if (run_capture(cargv, NULL, &out, &errout, &status, err) < 0)
		return err_wrap(err, "criu check");
	if (status != 0) {
		strbuf_add(&errout, out.buf, out.len);
		cleanup_free char *why = last_error_line(errout.buf);
		const char *reason = "it does not pass its own check";
		if (strstr(errout.buf, "vdso") || strstr(errout.buf, "vDSO"))
			reason = "it does not know this kernel's vDSO layout (CRIU >= 4.1 does)";
		else if (geteuid() != 0)
			reason = "it needs root";
		return err_makex(err, EOPNOTSUPP, "CRIU %s cannot checkpoint on this kernel: %s (criu check: %s)",
				 version, reason, *why ? why : "no output");
	}
	if (ret_version)
		*ret_version = TAKE_PTR(version);
	return 0;
}

static int load_spec(const char *bundle, struct spec_runtime **ret, struct skiff_err **err)
{
	cleanup_close int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "bundle %s", bundle);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (read_file_at(dfd, "config.json", 64 << 20, &buf, &len, err) < 0)
		return err_wrap(err, "bundle %s", bundle);
	if (spec_runtime_parse(buf, len, ret, err) < 0)
		return err_wrap(err, "%s/config.json", bundle);
	return 0;
}

static const char *netns_path(const struct spec_runtime *s)
{
	const struct spec_rt_linux *l = s->linux_spec;
	for (size_t i = 0; l && i < l->n_namespaces; i++)
		if (l->namespaces[i].type == SPEC_NS_NETWORK && l->namespaces[i].path && *l->namespaces[i].path)
			return l->namespaces[i].path;
	return NULL;
}

/* The options both directions share. */
static void common_args(struct strv *argv, const struct rt_criu_opts *o, const char *work, const char *log)
{
	strv_push(argv, "-D");
	strv_push(argv, o->image_path);
	strv_push(argv, "-W");
	strv_push(argv, work);
	strv_push(argv, "-o");
	strv_push(argv, log);
	strv_push(argv, "-v4");
	strv_push(argv, "--manage-cgroups=ignore");
	if (o->tcp_established)
		strv_push(argv, "--tcp-established");
	if (o->shell_job)
		strv_push(argv, "--shell-job");
	if (o->ext_unix_sk)
		strv_push(argv, "--ext-unix-sk");
	if (o->file_locks)
		strv_push(argv, "--file-locks");
}

static int run_criu(const struct strv *argv, const struct spawn_opts *so, const char *work, const char *log,
		    const char *what, struct skiff_err **err)
{
	pid_t pid = 0;
	int status = 0;
	if (spawn((const char *const *)argv->v, so, &pid, NULL, err) < 0)
		return err_wrap(err, "criu %s", what);
	if (spawn_wait(pid, &status) < 0)
		return err_make(err, errno, "wait for criu %s", what);
	if (status != 0) {
		cleanup_free char *why = log_reason(work, log);
		return err_makex(err, EIO, "criu %s failed: %s (see %s/%s)", what, why, work, log);
	}
	return 0;
}

static int make_dir(const char *path, struct skiff_err **err)
{
	return mkdir_p_at(AT_FDCWD, path, 0700, err);
}

/* The external-file key CRIU gives fd of pid ("file[MNTID:INODE]", hex), for a file outside
 * the container's mounts (the monitor's /dev/null). */
static int external_file_key(pid_t pid, int fd, char **ret, struct skiff_err **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (read_file_at(AT_FDCWD, path, 1 << 16, &buf, &len, err) < 0)
		return -1;
	const char *m = strstr(buf, "mnt_id:");
	if (!m)
		return err_makex(err, EINVAL, "%s: no mnt_id", path);
	unsigned long mnt = strtoul(m + strlen("mnt_id:"), NULL, 10);
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	if (stat(path, &st) < 0)
		return err_make(err, errno, "stat %s", path);
	*ret = xasprintf("file[%lx:%llx]", mnt, (unsigned long long)st.st_ino);
	return 0;
}

/* descriptors.json: what restore passes in with --inherit-fd for the init's fds 0-2:
 * "pipe:[123]", "socket:[45]", "file[MNTID:INODE]" (also pushed as --external to argv),
 * or "" (left to CRIU). */
static int save_descriptors(pid_t pid, const char *image, struct strv *argv, struct skiff_err **err)
{
	cleanup_json struct json *a = json_new_array();
	for (int fd = 0; fd < 3; fd++) {
		char link[64], target[PATH_MAX];
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n < 0) {
			if (errno != ENOENT)
				return err_make(err, errno, "readlink %s", link);
			n = 0;
		}
		target[n] = 0;
		if (n == 0 || !strncmp(target, "pipe:[", 6) || !strncmp(target, "socket:[", 8)) {
			json_array_append(a, json_new_string(target));
			continue;
		}
		if (!strncmp(target, "/dev/pts/", 9) || !strncmp(target, "anon_inode:", 11)) {
			json_array_append(a, json_new_string(""));
			continue;
		}
		cleanup_free char *key = NULL;
		if (external_file_key(pid, fd, &key, err) < 0)
			return -1;
		strv_pushf(argv, "--external=%s", key);
		json_array_append(a, json_new_string(key));
	}
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	json_dump(a, 0, &sb);
	cleanup_close int dfd = open(image, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "open %s", image);
	return write_file_atomic(dfd, DESCRIPTORS, sb.buf, sb.len, 0600, err);
}

static int dump(const struct rt_criu_opts *o, const struct rt_state *st, const char *work, struct skiff_err **err)
{
	cleanup_spec_runtime struct spec_runtime *spec = NULL;
	cleanup_strv struct strv argv = STRV_INIT;
	if (load_spec(st->bundle, &spec, err) < 0 || make_dir(o->image_path, err) < 0 || make_dir(work, err) < 0)
		return -1;
	strv_push(&argv, rt_criu_binary());
	strv_push(&argv, "dump");
	common_args(&argv, o, work, "dump.log");
	strv_push(&argv, "-t");
	strv_pushf(&argv, "%d", (int)st->pid);
	if (o->leave_running)
		strv_push(&argv, "--leave-running");
	if (save_descriptors(st->pid, o->image_path, &argv, err) < 0)
		return -1;
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (rt_mount_is_bind(&spec->mounts[i]))
			strv_pushf(&argv, "--external=mnt[%s]:%s", spec->mounts[i].destination,
				   spec->mounts[i].destination);
	if (netns_path(spec)) {
		char link[64];
		struct stat sst;
		snprintf(link, sizeof(link), "/proc/%d/ns/net", (int)st->pid);
		if (stat(link, &sst) < 0)
			return err_make(err, errno, "stat %s", link);
		strv_pushf(&argv, "--external=net[%lu]:extRootNetNS", (unsigned long)sst.st_ino);
	}
	struct spawn_opts so = SPAWN_OPTS_INIT;
	so.stdin_fd = SPAWN_DEVNULL;
	so.stdout_fd = SPAWN_DEVNULL;
	return run_criu(&argv, &so, work, "dump.log", "dump", err);
}

int rt_checkpoint(const struct rt_global *g, const struct rt_criu_opts *o, struct skiff_err **err)
{
	if (!o->image_path || !*o->image_path)
		return err_makex(err, EINVAL, "checkpoint: --image-path is required");
	const char *work = o->work_path && *o->work_path ? o->work_path : o->image_path;
	cleanup_close int dirfd = -1;
	struct rt_state st = {0};
	if (rt_state_open(g, o->id, &dirfd, err) < 0 || rt_state_read(dirfd, &st, err) < 0)
		return err_wrap(err, "checkpoint %s", o->id);
	int rc;
	enum rt_status status = rt_state_status(dirfd, &st);
	if (status != RT_RUNNING && status != RT_PAUSED)
		rc = err_makex(err, EINVAL, "container %s is %s, not running", o->id, rt_status_name(status));
	else
		rc = dump(o, &st, work, err);
	rt_state_release(&st);
	return rc < 0 ? err_wrap(err, "checkpoint %s", o->id) : 0;
}

static char *absolute(const char *p)
{
	if (p[0] == '/')
		return xstrdup(p);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return xstrdup(p);
	return xasprintf("%s/%s", cwd, p);
}

/* The --inherit-fd keys for fds 0-2 from descriptors.json (empty when there is none). */
static int load_descriptors(const char *image, struct strv *ret, struct skiff_err **err)
{
	cleanup_close int dfd = open(image, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "checkpoint image %s", image);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	struct skiff_err *e = NULL;
	if (read_file_at(dfd, DESCRIPTORS, 1 << 20, &buf, &len, &e) < 0) {
		if (e->status == ENOENT) {
			err_free(e);
			return 0;
		}
		*err = e;
		return -1;
	}
	cleanup_json struct json *j = NULL;
	if (json_parse(buf, len, &j, err) < 0)
		return err_wrap(err, "%s/%s", image, DESCRIPTORS);
	if (!json_is(j, JSON_ARRAY))
		return err_makex(err, EINVAL, "%s/%s: not an array", image, DESCRIPTORS);
	for (size_t i = 0; i < json_array_len(j) && i < 3; i++) {
		const char *s = json_string(json_array_get(j, i));
		bool ok = s && (!strncmp(s, "pipe:[", 6) || !strncmp(s, "socket:[", 8) || !strncmp(s, "file[", 5));
		strv_push(ret, ok ? s : "");
	}
	return 0;
}

/* Run criu restore and record the restored init in the state directory dirfd. */
static int restore_in(const struct rt_criu_opts *o, const char *bundle, const char *rootfs,
		      const struct spec_runtime *spec, const struct strv *desc, int dirfd, struct skiff_err **err)
{
	const char *work = o->work_path && *o->work_path ? o->work_path : o->image_path;
	cleanup_free char *pidfile = xasprintf("%s/restore.pid", work);
	if (unlink(pidfile) < 0 && errno != ENOENT)
		return err_make(err, errno, "remove %s", pidfile);
	cleanup_strv struct strv argv = STRV_INIT;
	strv_push(&argv, rt_criu_binary());
	strv_push(&argv, "restore");
	common_args(&argv, o, work, "restore.log");
	strv_push(&argv, "--root");
	strv_push(&argv, rootfs);
	strv_push(&argv, "--restore-detached");
	strv_push(&argv, "--pidfile");
	strv_push(&argv, pidfile);
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (rt_mount_is_bind(&spec->mounts[i]) && spec->mounts[i].source)
			strv_pushf(&argv, "--external=mnt[%s]:%s", spec->mounts[i].destination, spec->mounts[i].source);
	for (size_t i = 0; i < desc->len; i++)
		if (*desc->v[i])
			strv_pushf(&argv, "--inherit-fd=fd[%zu]:%s", i, desc->v[i]);
	cleanup_close int netfd = -1;
	const char *np = netns_path(spec);
	struct spawn_opts so = SPAWN_OPTS_INIT;
	if (np) {
		netfd = open(np, O_RDONLY | O_CLOEXEC);
		if (netfd < 0)
			return err_make(err, errno, "open the network namespace %s", np);
		strv_push(&argv, "--inherit-fd=fd[3]:extRootNetNS");
		so.extra_fds = &netfd;
		so.n_extra_fds = 1;
	}
	if (run_criu(&argv, &so, work, "restore.log", "restore", err) < 0)
		return -1;

	cleanup_close int wfd = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (wfd < 0)
		return err_make(err, errno, "open %s", work);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (read_file_at(wfd, "restore.pid", 64, &buf, &len, err) < 0)
		return -1;
	char *end = NULL;
	long pid = strtol(buf, &end, 10);
	if (pid <= 0 || pid > INT_MAX || (*end && *end != '\n'))
		return err_makex(err, EINVAL, "%s: not a pid: `%s`", pidfile, buf);
	cleanup_free char *created = rt_now_rfc3339();
	struct rt_state st = {
		.id = (char *)o->id,
		.bundle = (char *)bundle,
		.rootfs = (char *)rootfs,
		.pid = (pid_t)pid,
		.owner = (char *)"",
		.rootless = rt_running_rootless(),
		.created = created,
	};
	if (proc_starttime(st.pid, &st.starttime) < 0)
		return err_make(err, errno, "start time of the restored pid %ld", pid);
	if (rt_state_write(dirfd, &st, err) < 0)
		return -1;
	if (o->pid_file) {
		char num[32];
		int n = snprintf(num, sizeof(num), "%ld", pid);
		if (write_file_replace(AT_FDCWD, o->pid_file, num, (size_t)n, 0644, err) < 0)
			return err_wrap(err, "pid file");
	}
	return 0;
}

int rt_restore(const struct rt_global *g, const struct rt_criu_opts *o, struct skiff_err **err)
{
	if (!o->image_path || !*o->image_path)
		return err_makex(err, EINVAL, "restore: --image-path is required");
	if (o->console_socket)
		return err_makex(err, ENOTSUP, "restore: a container with a terminal cannot be restored");
	const char *work = o->work_path && *o->work_path ? o->work_path : o->image_path;
	cleanup_free char *bundle = absolute(o->bundle ? o->bundle : ".");
	cleanup_spec_runtime struct spec_runtime *spec = NULL;
	cleanup_strv struct strv desc = STRV_INIT;
	if (rt_check_id(o->id, err) < 0 || load_spec(bundle, &spec, err) < 0 ||
	    load_descriptors(o->image_path, &desc, err) < 0 || make_dir(work, err) < 0)
		return err_wrap(err, "restore %s", o->id);
	cleanup_free char *rootfs =
		spec->root_path[0] == '/' ? xstrdup(spec->root_path) : xasprintf("%s/%s", bundle, spec->root_path);
	cleanup_close int dirfd = -1;
	if (rt_state_dir_create(g, o->id, &dirfd, err) < 0)
		return err_wrap(err, "restore %s", o->id);
	if (restore_in(o, bundle, rootfs, spec, &desc, dirfd, err) < 0) {
		struct skiff_err *e2 = NULL;
		if (rt_state_remove(g, o->id, &e2) < 0)
			err_free(e2);
		return err_wrap(err, "restore %s", o->id);
	}
	return 0;
}
