/* container checkpoint / restore (see checkpoint.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/engine/checkpoint.h"
#include "pkg/engine/copy.h"
#include "pkg/monitor/client.h"
#include "pkg/store/store.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/strv.h"
#include "vendor-free/xalloc.h"

static const char *criu_binary(void)
{
	const char *p = getenv("SKIFF_CRIU");
	return p && *p ? p : "criu";
}

/* The first line of text that says "Error", else its last line. */
static char *reason_line(const char *text)
{
	const char *best = NULL, *last = NULL;
	size_t best_n = 0, last_n = 0;
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		if (n) {
			last = p;
			last_n = n;
			if (!best && memmem(p, n, "Error", 5)) {
				best = p;
				best_n = n;
			}
		}
		p += n + (p[n] == '\n');
	}
	if (!best) {
		best = last;
		best_n = last_n;
	}
	return best ? xstrndup(best, best_n > 400 ? 400 : best_n) : xstrdup("no output");
}

int ctr_criu_check(struct skiff_err **err)
{
	const char *criu = criu_binary();
	cleanup_strbuf struct strbuf out = STRBUF_INIT, errout = STRBUF_INIT;
	int status = 0;
	if (run_capture((const char *const[]){criu, "--version", NULL}, NULL, &out, &errout, &status, err) < 0)
		return err_wrap(err, "CRIU is needed to checkpoint and restore containers");
	if (status != 0)
		return err_makex(err, ENOENT, "%s --version exited with status %d", criu, status);
	const char *v = strstr(out.buf, "Version:");
	cleanup_free char *version = NULL;
	if (v) {
		v += strlen("Version:");
		v += strspn(v, " \t");
		version = xstrndup(v, strcspn(v, " \t\n"));
	} else {
		version = xstrdup("(unknown version)");
	}
	strbuf_reset(&out);
	strbuf_reset(&errout);
	if (run_capture((const char *const[]){criu, "check", NULL}, NULL, &out, &errout, &status, err) < 0)
		return err_wrap(err, "criu check");
	if (status == 0)
		return 0;
	strbuf_add(&errout, out.buf, out.len);
	cleanup_free char *why = reason_line(errout.buf);
	const char *reason = "it does not pass its own check";
	if (strstr(errout.buf, "vdso") || strstr(errout.buf, "vDSO"))
		reason = "it does not know this kernel's vDSO layout (CRIU >= 4.1 does)";
	return err_makex(err, EOPNOTSUPP, "CRIU %s cannot checkpoint on this kernel: %s (criu check: %s)", version,
			 reason, why);
}

static char *checkpoint_dir(struct engine *e, const char *id)
{
	return xasprintf("%s/containers/%s/checkpoint", store_graphroot(e->store), id);
}

/* What podman refuses too, before anything is touched. */
static int preflight(struct engine *e, struct ctr *c, const char *what, struct skiff_err **err)
{
	if (e->cfg->rootless || geteuid() != 0)
		return err_makex(err, EPERM, "%s %s: checkpoint and restore need root (CRIU), as with podman", what,
				 c->row.name);
	if (c->cfg && c->cfg->tty)
		return err_makex(err, ENOTSUP, "%s %s: a container with a terminal (-t) cannot be checkpointed", what,
				 c->row.name);
	if (ctr_criu_check(err) < 0)
		return err_wrap(err, "%s %s", what, c->row.name);
	return 0;
}

/* `RUNTIME --root R checkpoint ...`; the error is the runtime's last stderr line. */
static int runtime_checkpoint(struct engine *e, struct ctr *c, const struct ctr_checkpoint_opts *o, const char *dir,
			      struct skiff_err **err)
{
	cleanup_free char *root = ctr_runtime_root(e);
	cleanup_strv struct strv argv = STRV_INIT;
	strv_push(&argv, ctr_runtime_of(e, c));
	strv_push(&argv, "--root");
	strv_push(&argv, root);
	strv_push(&argv, "checkpoint");
	strv_push(&argv, "--image-path");
	strv_push(&argv, dir);
	if (o->leave_running)
		strv_push(&argv, "--leave-running");
	if (o->tcp_established)
		strv_push(&argv, "--tcp-established");
	strv_push(&argv, c->row.id);
	cleanup_strbuf struct strbuf errout = STRBUF_INIT;
	int status = 0;
	if (run_capture((const char *const *)argv.v, NULL, NULL, &errout, &status, err) < 0)
		return -1;
	if (status != 0) {
		strbuf_rtrim(&errout);
		const char *msg = errout.buf;
		const char *p = strrchr(msg, '\n');
		if (p)
			msg = p + 1;
		if (!strncmp(msg, "skiff-runtime: ", 15))
			msg += 15;
		return err_makex(err, EIO, "%s", *msg ? msg : "the runtime's checkpoint failed");
	}
	return 0;
}

static int export_tar(const char *dir, const char *path, struct skiff_err **err)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_make(err, errno, "export %s", path);
	cleanup_free char *src = xasprintf("%s/.", dir);
	struct copy_loc from = {.rootfd = AT_FDCWD, .in_root = false, .path = src, .where = "the host"};
	struct copy_opts co = {.keep_owner = true};
	if (copy_tar_out(&from, fd, &co, err) < 0 || fsync(fd) < 0)
		return err_wrap(err, "export %s", path);
	return 0;
}

static int import_tar(const char *path, const char *dir, struct skiff_err **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_make(err, errno, "import %s", path);
	struct copy_loc to = {.rootfd = AT_FDCWD, .in_root = false, .path = dir, .where = "the host"};
	struct copy_opts co = {.keep_owner = true, .overwrite = true, .skip_devices = true};
	if (copy_tar_in(fd, &to, &co, err) < 0)
		return err_wrap(err, "import %s", path);
	struct stat st;
	cleanup_free char *inv = xasprintf("%s/inventory.img", dir);
	if (stat(inv, &st) < 0)
		return err_makex(err, EINVAL, "import %s: not a checkpoint (no inventory.img)", path);
	return 0;
}

/* Empty the checkpoint directory (made when missing). */
static int fresh_dir(const char *dir, struct skiff_err **err)
{
	cleanup_free char *parent = xstrdup(dir);
	char *slash = strrchr(parent, '/');
	*slash = 0;
	if (mkdir_p_at(AT_FDCWD, parent, 0700, err) < 0)
		return -1;
	cleanup_close int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return err_make(err, errno, "open %s", parent);
	if (rm_rf_at(pfd, slash + 1, err) < 0)
		return -1;
	if (mkdirat(pfd, slash + 1, 0700) < 0)
		return err_make(err, errno, "create %s", dir);
	return 0;
}

static void remove_dir(const char *dir)
{
	cleanup_free char *parent = xstrdup(dir);
	char *slash = strrchr(parent, '/');
	*slash = 0;
	cleanup_close int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct skiff_err *e = NULL;
	if (pfd >= 0 && rm_rf_at(pfd, slash + 1, &e) < 0)
		err_free(e);
}

int ctr_checkpoint(struct engine *e, struct ctr *c, const struct ctr_checkpoint_opts *o, struct skiff_err **err)
{
	if (ctr_refresh(e, c, err) < 0)
		return -1;
	if (strcmp(ctr_state_name(c), "running"))
		return err_makex(err, EINVAL, "checkpoint %s: the container is %s, not running", c->row.name,
				 ctr_state_name(c));
	if (preflight(e, c, "checkpoint", err) < 0)
		return -1;
	cleanup_free char *dir = checkpoint_dir(e, c->row.id);
	if (fresh_dir(dir, err) < 0)
		return err_wrap(err, "checkpoint %s", c->row.name);
	/* we record the end ourselves: the monitor leaves its exit command (--rm) to us, and
	 * the end the dump brings is not one to restart from */
	int fd = -1;
	struct skiff_err *e2 = NULL;
	if (!o->leave_running && ctr_connect(e, c, &fd, &e2) == 0 &&
	    mon_attach_flags(fd, MON_ATTACH_CLEANUP | MON_ATTACH_NORESTART, &e2) < 0) {
		close(fd);
		fd = -1;
	}
	err_clear(&e2);
	int rc = runtime_checkpoint(e, c, o, dir, err);
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		return err_wrap(err, "checkpoint %s", c->row.name);
	}
	if (!o->leave_running) {
		int code = 0;
		rc = ctr_wait(e, c, &code, err);
		if (fd >= 0)
			close(fd);
		if (rc < 0)
			return err_wrap(err, "checkpoint %s", c->row.name);
		ctr_event(e, c, "checkpoint");
	}
	if (!o->keep) {
		cleanup_free char *log = xasprintf("%s/dump.log", dir);
		(void)unlink(log);
	}
	if (o->export_path && export_tar(dir, o->export_path, err) < 0)
		return err_wrap(err, "checkpoint %s", c->row.name);
	return 0;
}

int ctr_restore(struct engine *e, struct ctr *c, const struct ctr_restore_opts *o, struct skiff_err **err)
{
	if (ctr_refresh(e, c, err) < 0)
		return -1;
	if (!strcmp(ctr_state_name(c), "running") || !strcmp(ctr_state_name(c), "paused"))
		return err_makex(err, EEXIST, "restore %s: the container is %s", c->row.name, ctr_state_name(c));
	if (preflight(e, c, "restore", err) < 0)
		return -1;
	cleanup_free char *dir = checkpoint_dir(e, c->row.id);
	if (o->import_path) {
		if (fresh_dir(dir, err) < 0 || import_tar(o->import_path, dir, err) < 0)
			return err_wrap(err, "restore %s", c->row.name);
	} else {
		cleanup_free char *inv = xasprintf("%s/inventory.img", dir);
		struct stat st;
		if (stat(inv, &st) < 0)
			return err_makex(err, ENOENT,
					 "restore %s: the container has no checkpoint (container checkpoint "
					 "makes one)",
					 c->row.name);
	}
	if (ctr_start_restore(e, c, dir, err) < 0)
		return err_wrap(err, "restore %s", c->row.name);
	ctr_event(e, c, "restore");
	if (!o->keep)
		remove_dir(dir);
	return 0;
}
