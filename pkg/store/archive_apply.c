/* Applying layer tar entries to a directory: every path cleaned and resolved inside the
 * root without following symlinks; whiteouts as overlay devices/xattrs or deletions. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "pkg/store/archive-internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/pathres.h"
#include "vendor-free/strv.h"
#include "vendor-free/xalloc.h"

#define WH_PREFIX ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"

/* One entry being applied. */
struct ent {
	struct apply_ctx *c;
	struct archive_entry *e;
	const char *name; /* as in the tar, for messages */
	char *path;	  /* clean, relative */
	char *base;	  /* its last component */
	int parentfd;	  /* O_PATH fd of its directory, or -1 */
	bool borrowed;	  /* parentfd belongs to the parent cache */
};

static void ent_release(struct ent *x)
{
	free(x->path);
	free(x->base);
	if (x->parentfd >= 0 && !x->borrowed)
		close(x->parentfd);
}

void apply_pcache_drop(struct apply_ctx *c)
{
	if (c->pcache_valid)
		close(c->pcache_fd);
	free(c->pcache_dir);
	c->pcache_dir = NULL;
	c->pcache_valid = false;
}

/* For a regular file: reuse the cached parent when it is the same directory, else
 * open it and cache it. 0, or -1. */
static int open_parent(struct ent *x, bool mkdir, struct skiff_err **err);
static int open_parent_cached(struct ent *x, struct skiff_err **err)
{
	struct apply_ctx *c = x->c;
	const char *slash = strrchr(x->path, '/');
	size_t dlen = slash ? (size_t)(slash - x->path) : 0;

	if (c->pcache_valid && strlen(c->pcache_dir) == dlen && !strncmp(c->pcache_dir, x->path, dlen)) {
		x->parentfd = c->pcache_fd;
		x->borrowed = true;
		x->base = xstrdup(slash ? slash + 1 : x->path);
		return 0;
	}
	apply_pcache_drop(c);
	if (open_parent(x, true, err) < 0)
		return -1;
	c->pcache_dir = xstrndup(x->path, dlen);
	c->pcache_fd = x->parentfd;
	c->pcache_valid = true;
	x->borrowed = true;
	return 0;
}

/* 'layer entry "NAME": ...'; eerr appends strerror(status) when status > 0, eerrx never. */
__attribute__((format(printf, 5, 0))) static int entry_verr(struct skiff_err **err, const char *name, int status,
							    bool with_strerror, const char *fmt, va_list ap)
{
	cleanup_free char *msg = xvasprintf(fmt, ap);
	if (with_strerror)
		return err_make(err, status, "layer entry \"%s\": %s", name, msg);
	return err_makex(err, status, "layer entry \"%s\": %s", name, msg);
}

__attribute__((format(printf, 4, 5))) static int eerr(struct skiff_err **err, const char *name, int status,
						      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = entry_verr(err, name, status, true, fmt, ap);
	va_end(ap);
	return rc;
}

__attribute__((format(printf, 4, 5))) static int eerrx(struct skiff_err **err, const char *name, int status,
						       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = entry_verr(err, name, status, false, fmt, ap);
	va_end(ap);
	return rc;
}

/* Move *from into *err (keeping an error already there). */
static int take_err(struct skiff_err **err, struct skiff_err **from)
{
	struct skiff_err *e = *from;
	*from = NULL;
	if (!err || *err)
		err_free(e);
	else
		*err = e;
	return -1;
}

void apply_ctx_release(struct apply_ctx *c)
{
	for (size_t i = 0; i < c->ndirs; i++)
		free(c->dirs[i].path);
	free(c->dirs);
	c->dirs = NULL;
	c->ndirs = c->dirs_alloc = 0;
	hashmap_release(&c->paths, NULL);
	apply_pcache_drop(c);
	err_clear(&c->io_err);
}

/* ---- what this layer created ---- */

static void forget_dir(struct apply_ctx *c, const char *path)
{
	void *v = NULL;
	if (hashmap_lookup(&c->paths, path, &v) && v)
		c->dirs[(uintptr_t)v - 1].valid = false;
}

static void mark_ancestors(struct apply_ctx *c, const char *path)
{
	cleanup_free char *p = xstrdup(path);
	for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (!hashmap_lookup(&c->paths, p, NULL))
			hashmap_put(&c->paths, p, NULL, NULL);
		*s = '/';
	}
}

/* path now holds something other than a directory, made by this layer. (Only DELETE
 * mode needs to know every path: opaque directories keep what this layer made.) */
static void mark_path(struct apply_ctx *c, const char *path)
{
	forget_dir(c, path);
	if (c->opts->whiteout_mode != ARCHIVE_WHITEOUT_DELETE)
		return;
	hashmap_put(&c->paths, path, NULL, NULL);
	mark_ancestors(c, path);
}

/* path is a directory of this layer: its times are set at the end. */
static void mark_dir(struct apply_ctx *c, const char *path, const struct timespec ts[2])
{
	void *v = NULL;
	struct dir_times *d;

	if (hashmap_lookup(&c->paths, path, &v) && v) {
		d = &c->dirs[(uintptr_t)v - 1];
	} else {
		ALLOC_GROW(c->dirs, c->ndirs + 1, c->dirs_alloc);
		d = &c->dirs[c->ndirs++];
		d->path = xstrdup(path);
		hashmap_put(&c->paths, path, (void *)(uintptr_t)c->ndirs, NULL);
	}
	d->ts[0] = ts[0];
	d->ts[1] = ts[1];
	d->valid = true;
	if (c->opts->whiteout_mode == ARCHIVE_WHITEOUT_DELETE)
		mark_ancestors(c, path);
}

/* ---- metadata ---- */

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	if (!archive_entry_mtime_is_set(e)) {
		ts[0].tv_sec = ts[1].tv_sec = 0;
		ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
		return;
	}
	ts[1].tv_sec = (time_t)archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	if (ts[1].tv_nsec < 0 || ts[1].tv_nsec >= 1000000000L)
		ts[1].tv_nsec = 0;
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = (time_t)archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
		if (ts[0].tv_nsec < 0 || ts[0].tv_nsec >= 1000000000L)
			ts[0].tv_nsec = 0;
	} else {
		ts[0] = ts[1];
	}
}

/* Chown the object: fd (>= 0), or base in x->parentfd (never followed). */
static int owner_at(struct ent *x, int fd, const char *base, struct skiff_err **err)
{
	la_int64_t uid = archive_entry_uid(x->e), gid = archive_entry_gid(x->e);
	int rc;

	if (x->c->opts->ignore_owners)
		return 0;
	if (uid < 0 || gid < 0 || uid >= UINT32_MAX || gid >= UINT32_MAX)
		return eerrx(err, x->name, EINVAL, "invalid owner %lld:%lld", (long long)uid, (long long)gid);
	if (fd >= 0)
		rc = fchown(fd, (uid_t)uid, (gid_t)gid);
	else
		rc = fchownat(x->parentfd, base, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW);
	if (rc < 0 && errno == EINVAL) /* the id is not mapped in this user namespace */
		return err_makex(err, EINVAL,
				 "potentially insufficient UIDs or GIDs available in user namespace (requested "
				 "%lld:%lld for /%s): "
				 "check /etc/subuid and /etc/subgid",
				 (long long)uid, (long long)gid, x->path);
	if (rc < 0)
		return eerr(err, x->name, errno, "chown %lld:%lld", (long long)uid, (long long)gid);
	return 0;
}

static int apply_owner(struct ent *x, int fd, struct skiff_err **err)
{
	return owner_at(x, fd, x->base, err);
}

static int apply_mode(struct ent *x, int fd, struct skiff_err **err)
{
	mode_t mode = (mode_t)(archive_entry_mode(x->e) & 07777);
	int rc = fd >= 0 ? fchmod(fd, mode) : fchmodat(x->parentfd, x->base, mode, 0);
	if (rc < 0)
		return eerr(err, x->name, errno, "chmod %04o", (unsigned)mode);
	return 0;
}

static bool xattr_wanted(const struct apply_ctx *c, const char *name)
{
	if (!strncmp(name, "user.", 5) || !strcmp(name, "security.capability"))
		return true;
	if (!strncmp(name, "trusted.", 8))
		return c->trusted_xattrs;
	return false;
}

/* fd >= 0: the object; else base in parentfd, not followed (through /proc). */
static int apply_xattrs(struct ent *x, int fd, struct skiff_err **err)
{
	const char *name;
	const void *value;
	size_t size;

	archive_entry_xattr_reset(x->e);
	while (archive_entry_xattr_next(x->e, &name, &value, &size) == ARCHIVE_OK) {
		int rc;
		if (!name || !xattr_wanted(x->c, name))
			continue;
		if (fd >= 0) {
			rc = fsetxattr(fd, name, value, size, 0);
		} else {
			cleanup_free char *p = xasprintf("/proc/self/fd/%d/%s", x->parentfd, x->base);
			rc = lsetxattr(p, name, value, size, 0);
		}
		/* as docker: file systems or objects without xattr support are not an error */
		if (rc < 0 && errno != ENOTSUP && errno != EPERM && !(fd < 0 && errno == ENOENT))
			return eerr(err, x->name, errno, "set xattr %s", name);
	}
	return 0;
}

static int apply_times(struct ent *x, int fd, struct skiff_err **err)
{
	struct timespec ts[2];
	int rc;

	entry_times(x->e, ts);
	if (fd >= 0)
		rc = futimens(fd, ts);
	else
		rc = utimensat(x->parentfd, x->base, ts, AT_SYMLINK_NOFOLLOW);
	if (rc < 0)
		return eerr(err, x->name, errno, "set times");
	return 0;
}

/* ---- the body (read through libarchive, written to fd and/or the tar-split) ---- */

static int read_body(struct ent *x, int fd, const char *ref_path, struct skiff_err **err)
{
	struct apply_ctx *c = x->c;
	uint64_t total = 0;

	if (tarsplit_entry_begin(c->ts, c->entries, ref_path, err) < 0)
		return err_wrap(err, "layer entry \"%s\"", x->name);
	for (;;) {
		const void *buf;
		size_t n;
		la_int64_t off;
		int r = archive_read_data_block(c->tar, &buf, &n, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			apply_tar_error(c, err);
			return err_wrap(err, "layer entry \"%s\"", x->name);
		}
		if (off < 0 || (uint64_t)off != total)
			return eerrx(err, x->name, EINVAL, "sparse files are not supported");
		if (fd >= 0 && n && write_all(fd, buf, n) < 0)
			return eerr(err, x->name, errno, "write");
		if (tarsplit_entry_data(c->ts, buf, n, err) < 0)
			return err_wrap(err, "layer entry \"%s\"", x->name);
		total += n;
	}
	if (tarsplit_entry_end(c->ts, total, err) < 0)
		return err_wrap(err, "layer entry \"%s\"", x->name);
	return 0;
}

/* ---- placing objects ---- */

/* Open the directory of x->path (creating missing parents when mkdir) into x->parentfd.
 * 0, 1 when it does not exist (only without mkdir), or -1. */
static int open_parent(struct ent *x, bool mkdir, struct skiff_err **err)
{
	cleanup_err struct skiff_err *perr = NULL;
	x->parentfd = pathres_open_parent(x->c->dirfd, x->path, mkdir ? PATHRES_MKDIR : 0, &x->base, &perr);
	if (x->parentfd >= 0)
		return 0;
	if (perr->status == ELOOP)
		return eerrx(err, x->name, EINVAL, "parent is a symlink (%s)", perr->msg);
	if (perr->status == ENOTDIR)
		return eerrx(err, x->name, EINVAL, "parent is not a directory (%s)", perr->msg);
	if (perr->status == ENOENT && !mkdir)
		return 1;
	take_err(err, &perr);
	return err_wrap(err, "layer entry \"%s\"", x->name);
}

/* Make room for x: remove what is at its place, except a directory when keep_dir.
 * 1 when a directory was kept, else 0; or -1. */
static int make_room(struct ent *x, const char *base, bool keep_dir, struct skiff_err **err)
{
	struct stat st;

	if (fstatat(x->parentfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return eerr(err, x->name, errno, "stat");
	}
	if (S_ISDIR(st.st_mode)) {
		if (keep_dir)
			return 1;
		if (rm_rf_at(x->parentfd, base, err) < 0)
			return err_wrap(err, "layer entry \"%s\": replace a directory", x->name);
		return 0;
	}
	if (unlinkat(x->parentfd, base, 0) < 0 && errno != ENOENT)
		return eerr(err, x->name, errno, "remove the existing %s", base);
	return 0;
}

/* Owner and mode of a regular file this entry just created (fd): chown and chmod only
 * what differs from what creating it gave (an fstat costs much less than either, and
 * most files already have the creator's owner and their mode). Creating never sets
 * setuid, setgid or sticky bits, so a mode with them is always set, after the chown
 * (which would clear them). */
static int apply_new_file_meta(struct ent *x, int fd, struct skiff_err **err)
{
	la_int64_t uid = archive_entry_uid(x->e), gid = archive_entry_gid(x->e);
	mode_t mode = (mode_t)(archive_entry_mode(x->e) & 07777);
	struct stat st;

	if (fstat(fd, &st) < 0)
		return apply_owner(x, fd, err) < 0 || apply_mode(x, fd, err) < 0 ? -1 : 0;
	if (!x->c->opts->ignore_owners && (uid != (la_int64_t)st.st_uid || gid != (la_int64_t)st.st_gid) &&
	    apply_owner(x, fd, err) < 0)
		return -1;
	if ((st.st_mode & 07777) != mode && apply_mode(x, fd, err) < 0)
		return -1;
	return 0;
}

static int do_file(struct ent *x, struct skiff_err **err)
{
	/* created with its permission bits (the umask may take some away: then chmod) */
	const mode_t cmode = (mode_t)(archive_entry_mode(x->e) & 0777);
	cleanup_close int fd = -1;

	/* O_EXCL|O_NOFOLLOW: a file is created, never written through a link. Most
	 * entries are new, so try that first and make room only when something is there.
	 * (The new file's fd is writable whatever its mode.) */
	fd = openat(x->parentfd, x->base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, cmode);
	if (fd < 0 && errno == EEXIST) {
		/* Replacing something: the tree changes, so the cache goes (this entry
		 * keeps the directory it already opened). */
		if (x->borrowed) {
			x->c->pcache_valid = false;
			x->borrowed = false;
		}
		apply_pcache_drop(x->c);
		if (make_room(x, x->base, false, err) < 0)
			return -1;
		fd = openat(x->parentfd, x->base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, cmode);
	}
	if (fd < 0)
		return eerr(err, x->name, errno, "create");
	if (read_body(x, fd, x->path, err) < 0)
		return -1;
	/* chmod after chown (which clears setuid), capabilities after both */
	if (apply_new_file_meta(x, fd, err) < 0 || apply_xattrs(x, fd, err) < 0 || apply_times(x, fd, err) < 0)
		return -1;
	mark_path(x->c, x->path);
	return 0;
}

static int do_dir(struct ent *x, struct skiff_err **err)
{
	cleanup_close int fd = -1;
	struct timespec ts[2];

	if (read_body(x, -1, NULL, err) < 0)
		return -1;
	if (x->parentfd < 0) { /* the root itself */
		fd = openat(x->c->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		int kept = make_room(x, x->base, true, err);
		if (kept < 0)
			return -1;
		if (!kept && mkdirat(x->parentfd, x->base, 0700) < 0)
			return eerr(err, x->name, errno, "mkdir");
		fd = openat(x->parentfd, x->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return eerr(err, x->name, errno, "open the directory");
	if (apply_owner(x, fd, err) < 0 || apply_mode(x, fd, err) < 0 || apply_xattrs(x, fd, err) < 0)
		return -1;
	entry_times(x->e, ts);
	mark_dir(x->c, x->path, ts);
	return 0;
}

static int do_symlink(struct ent *x, struct skiff_err **err)
{
	const char *target = archive_entry_symlink(x->e);

	if (!target || !*target)
		return eerrx(err, x->name, EINVAL, "symlink without a target");
	if (read_body(x, -1, NULL, err) < 0 || make_room(x, x->base, false, err) < 0)
		return -1;
	/* the target is data: stored as it is, resolved only by whoever uses the link */
	if (symlinkat(target, x->parentfd, x->base) < 0)
		return eerr(err, x->name, errno, "symlink");
	if (apply_owner(x, -1, err) < 0 || apply_xattrs(x, -1, err) < 0 || apply_times(x, -1, err) < 0)
		return -1;
	mark_path(x->c, x->path);
	return 0;
}

static int do_node(struct ent *x, mode_t type, struct skiff_err **err)
{
	dev_t dev = 0;

	if (read_body(x, -1, NULL, err) < 0 || make_room(x, x->base, false, err) < 0)
		return -1;
	if (type != S_IFIFO)
		dev = makedev((unsigned)archive_entry_rdevmajor(x->e), (unsigned)archive_entry_rdevminor(x->e));
	if (mknodat(x->parentfd, x->base, type | 0600, dev) < 0) {
		if (errno == EPERM && type != S_IFIFO) { /* unprivileged: devices are skipped */
			x->c->skipped_devices++;
			return 0;
		}
		return eerr(err, x->name, errno, "mknod");
	}
	if (apply_owner(x, -1, err) < 0 || apply_mode(x, -1, err) < 0 || apply_xattrs(x, -1, err) < 0 ||
	    apply_times(x, -1, err) < 0)
		return -1;
	mark_path(x->c, x->path);
	return 0;
}

static int do_hardlink(struct ent *x, const char *link, struct skiff_err **err)
{
	cleanup_err struct skiff_err *perr = NULL;
	cleanup_free char *tpath = NULL, *tbase = NULL;
	cleanup_close int tparent = -1;
	struct stat tst, st;

	if (archive_entry_size(x->e) > 0)
		return eerrx(err, x->name, EINVAL, "hard link with content is not supported");
	if (read_body(x, -1, NULL, err) < 0)
		return -1;
	if (path_clean(link, &tpath, NULL) < 0)
		return eerrx(err, x->name, EINVAL, "hard link target \"%s\" escapes the layer root", link);
	if (!strcmp(tpath, "."))
		return eerrx(err, x->name, EINVAL, "hard link target \"%s\" is not a regular file", link);
	tparent = pathres_open_parent(x->c->dirfd, tpath, 0, &tbase, &perr);
	if (tparent < 0) {
		if (perr->status == ELOOP)
			return eerrx(err, x->name, EINVAL, "hard link target \"%s\": parent is a symlink", link);
		if (perr->status == ENOENT || perr->status == ENOTDIR)
			return eerrx(err, x->name, EINVAL, "hard link target \"%s\" does not exist", link);
		take_err(err, &perr);
		return err_wrap(err, "layer entry \"%s\": hard link target \"%s\"", x->name, link);
	}
	if (fstatat(tparent, tbase, &tst, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return eerrx(err, x->name, EINVAL, "hard link target \"%s\" does not exist", link);
		return eerr(err, x->name, errno, "hard link target \"%s\"", link);
	}
	if (!S_ISREG(tst.st_mode))
		return eerrx(err, x->name, EINVAL, "hard link target \"%s\" is not a regular file", link);
	if (fstatat(x->parentfd, x->base, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == tst.st_dev &&
	    st.st_ino == tst.st_ino) {
		/* already that file (a link to itself, or a repeated entry) */
	} else {
		if (make_room(x, x->base, false, err) < 0)
			return -1;
		if (linkat(tparent, tbase, x->parentfd, x->base, 0) < 0)
			return eerr(err, x->name, errno, "link to \"%s\"", link);
	}
	/* as docker: the link's header metadata applies to the (shared) file */
	if (apply_owner(x, -1, err) < 0 || apply_mode(x, -1, err) < 0 || apply_times(x, -1, err) < 0)
		return -1;
	mark_path(x->c, x->path);
	return 0;
}

/* ---- whiteouts ---- */

/* Remove what in the directory dfd (at path dir) this layer did not create. */
static int prune(struct apply_ctx *c, int dfd, const char *dir, const char *name, struct skiff_err **err)
{
	cleanup_strv struct strv names = STRV_INIT;
	cleanup_dir DIR *d = NULL;
	struct dirent *de;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return eerr(err, name, errno, "open %s", dir);
	}
	while ((errno = 0, de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strv_push(&names, de->d_name);
	if (errno)
		return eerr(err, name, errno, "read %s", dir);
	for (size_t i = 0; i < names.len; i++) {
		cleanup_free char *child = strcmp(dir, ".") ? xasprintf("%s/%s", dir, names.v[i]) : xstrdup(names.v[i]);
		struct stat st;

		if (!hashmap_lookup(&c->paths, child, NULL)) {
			if (rm_rf_at(dfd, names.v[i], err) < 0)
				return err_wrap(err, "layer entry \"%s\"", name);
			continue;
		}
		if (fstatat(dfd, names.v[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
			cleanup_close int sub =
				openat(dfd, names.v[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				return eerr(err, name, errno, "open %s", child);
			if (prune(c, sub, child, name, err) < 0)
				return -1;
		}
	}
	return 0;
}

static int do_opaque(struct ent *x, struct skiff_err **err)
{
	const bool overlay = x->c->opts->whiteout_mode == ARCHIVE_WHITEOUT_OVERLAY;
	cleanup_free char *dir = NULL;
	cleanup_close int dfd = -1;
	const char *slash;
	int r;

	if (read_body(x, -1, NULL, err) < 0)
		return -1;
	r = open_parent(x, overlay, err);
	if (r != 0)
		return r < 0 ? -1 : 0; /* DELETE mode, no such directory: nothing to empty */
	dfd = openat(x->parentfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return eerr(err, x->name, errno, "open the directory");
	if (overlay) {
		const char *key = x->c->opts->userns_xattrs ? "user.overlay.opaque" : "trusted.overlay.opaque";
		if (fsetxattr(dfd, key, "y", 1, 0) < 0)
			return eerr(err, x->name, errno, "set %s", key);
		return 0;
	}
	slash = strrchr(x->path, '/');
	dir = slash ? xstrndup(x->path, (size_t)(slash - x->path)) : xstrdup(".");
	return prune(x->c, dfd, dir, x->name, err);
}

static int do_whiteout(struct ent *x, const char *victim, struct skiff_err **err)
{
	const bool overlay = x->c->opts->whiteout_mode == ARCHIVE_WHITEOUT_OVERLAY;
	cleanup_free char *vpath = NULL;
	const char *slash;
	int r;

	if (!*victim || !strcmp(victim, ".") || !strcmp(victim, ".."))
		return eerrx(err, x->name, EINVAL, "invalid whiteout");
	if (read_body(x, -1, NULL, err) < 0)
		return -1;
	r = open_parent(x, overlay, err);
	if (r != 0)
		return r < 0 ? -1 : 0; /* DELETE mode, no such directory: nothing to delete */
	if (make_room(x, victim, false, err) < 0)
		return -1;
	slash = strrchr(x->path, '/');
	vpath = slash ? xasprintf("%.*s/%s", (int)(slash - x->path), x->path, victim) : xstrdup(victim);
	if (!overlay) {
		forget_dir(x->c, vpath);
		return 0;
	}
	/* overlayfs whiteout: a 0:0 character device (unprivileged since Linux 5.8) */
	if (mknodat(x->parentfd, victim, S_IFCHR, makedev(0, 0)) < 0)
		return eerr(err, x->name, errno, "create the whiteout device %s", victim);
	if (owner_at(x, -1, victim, err) < 0)
		return -1;
	mark_path(x->c, vpath);
	return 0;
}

/* ---- one entry ---- */

int apply_entry(struct apply_ctx *c, struct archive_entry *e, struct skiff_err **err)
{
	struct ent x = {.c = c, .e = e, .parentfd = -1};
	const char *link, *base;
	int rc = -1;

	x.name = archive_entry_pathname(e);
	if (!x.name)
		return err_makex(err, EINVAL, "layer entry %llu has no name", (unsigned long long)c->entries + 1);
	if (path_clean(x.name, &x.path, NULL) < 0)
		return eerrx(err, x.name, EINVAL, "path escapes the layer root");
	if (strlen(x.path) >= PATH_MAX) {
		rc = eerrx(err, x.name, ENAMETOOLONG, "path is too long");
		goto out;
	}
	if (archive_entry_sparse_count(e) > 0) {
		rc = eerrx(err, x.name, EINVAL, "sparse files are not supported");
		goto out;
	}
	base = strrchr(x.path, '/');
	base = base ? base + 1 : x.path;
	link = archive_entry_hardlink(e);
	if (link || archive_entry_filetype(e) != AE_IFREG || !strncmp(base, WH_PREFIX, strlen(WH_PREFIX)))
		apply_pcache_drop(c);

	if (!strcmp(base, WH_OPAQUE)) {
		rc = do_opaque(&x, err);
		goto out;
	}
	if (!strncmp(base, WH_META_PREFIX, strlen(WH_META_PREFIX)) ||
	    !strncmp(x.path, WH_META_PREFIX, strlen(WH_META_PREFIX))) {
		rc = read_body(&x, -1, NULL, err); /* aufs metadata: not part of the tree */
		goto out;
	}
	if (!strncmp(base, WH_PREFIX, strlen(WH_PREFIX))) {
		rc = do_whiteout(&x, base + strlen(WH_PREFIX), err);
		goto out;
	}

	if (!strcmp(x.path, ".")) {
		if (link || archive_entry_filetype(e) != AE_IFDIR) {
			rc = eerrx(err, x.name, EINVAL, "cannot replace the layer root");
			goto out;
		}
		rc = do_dir(&x, err);
		goto out;
	}
	if (!link && archive_entry_filetype(e) == AE_IFREG) {
		if (open_parent_cached(&x, err) < 0)
			goto out;
		rc = do_file(&x, err);
		goto out;
	}
	apply_pcache_drop(c);
	if (open_parent(&x, true, err) < 0)
		goto out;
	if (link) {
		rc = do_hardlink(&x, link, err);
		goto out;
	}
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
		rc = do_file(&x, err);
		break;
	case AE_IFDIR:
		rc = do_dir(&x, err);
		break;
	case AE_IFLNK:
		rc = do_symlink(&x, err);
		break;
	case AE_IFCHR:
		rc = do_node(&x, S_IFCHR, err);
		break;
	case AE_IFBLK:
		rc = do_node(&x, S_IFBLK, err);
		break;
	case AE_IFIFO:
		rc = do_node(&x, S_IFIFO, err);
		break;
	default:
		rc = eerrx(err, x.name, EINVAL, "unsupported entry type 0%o", (unsigned)archive_entry_filetype(e));
		break;
	}
out:
	ent_release(&x);
	return rc;
}

int apply_dir_times(struct apply_ctx *c, struct skiff_err **err)
{
	for (size_t i = c->ndirs; i > 0; i--) {
		struct dir_times *d = &c->dirs[i - 1];
		cleanup_free char *base = NULL;
		cleanup_close int pfd = -1;
		struct stat st;
		int rc;

		if (!d->valid)
			continue;
		if (!strcmp(d->path, ".")) {
			rc = utimensat(c->dirfd, ".", d->ts, 0);
		} else {
			pfd = pathres_open_parent(c->dirfd, d->path, 0, &base, NULL);
			/* gone or replaced since (by a later entry): nothing to do */
			if (pfd < 0 || fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
				continue;
			rc = utimensat(pfd, base, d->ts, AT_SYMLINK_NOFOLLOW);
		}
		if (rc < 0)
			return err_make(err, errno, "layer entry \"%s\": set times", d->path);
	}
	return 0;
}
