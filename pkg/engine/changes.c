/* Container filesystem changes: diff, layer tars for commit, export. See changes.h. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "pkg/engine/changes.h"
#include "pkg/image/image.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/hashmap.h"
#include "vendor-free/pathres.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

/* Deeper trees are refused: each level holds a directory fd (and the lower layers'). */
#define MAX_DEPTH 500

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

/* ---------------- change lists ---------------- */

void change_list_release(struct change_list *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->v[i].path);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

const char *change_kind_letter(enum change_kind k)
{
	switch (k) {
	case CHANGE_ADD:
		return "A";
	case CHANGE_DELETE:
		return "D";
	default:
		return "C";
	}
}

static void insert_change(struct change_list *l, size_t at, const char *path, enum change_kind k)
{
	ALLOC_GROW(l->v, l->len + 1, l->alloc);
	memmove(&l->v[at + 1], &l->v[at], (l->len - at) * sizeof(*l->v));
	l->v[at].path = xstrdup(path);
	l->v[at].kind = k;
	l->len++;
}

static void add_change(struct change_list *l, const char *path, enum change_kind k)
{
	insert_change(l, l->len, path, k);
}

/* "/a" + "b" -> "/a/b"; the root is "" */
static char *join(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* The names in directory dfd (not . and ..), sorted bytewise. dfd stays open. */
static int read_names(int dfd, const char *path, struct strv *ret, struct skiff_err **err)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_make(err, errno, "open %s", *path ? path : "/");
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return err_make(err, e, "read %s", *path ? path : "/");
	}
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strv_push(ret, de->d_name);
		errno = 0;
	}
	int e = errno;
	closedir(d);
	if (e)
		return err_make(err, e, "read %s", *path ? path : "/");
	strv_sort(ret);
	return 0;
}

static int open_subdir(int dfd, const char *name)
{
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Go's sameFsTime: equal, or equal seconds when one side has no nanoseconds. */
static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && (a->tv_nsec == b->tv_nsec || a->tv_nsec == 0 || b->tv_nsec == 0);
}

static bool is_whiteout_dev(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* overlayfs' opaque marker on directory fd (root: trusted.*; user namespaces: user.*;
 * fuse-overlayfs: its own). */
static bool is_opaque(int fd)
{
	static const char *const names[] = {"trusted.overlay.opaque", "user.overlay.opaque",
					    "user.fuseoverlayfs.opaque"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char v[4];
		ssize_t n = fgetxattr(fd, names[i], v, sizeof(v));
		if (n == 1 && v[0] == 'y')
			return true;
	}
	return false;
}

/* ---------------- overlay: the upper dir against the lower layers ---------------- */

struct ov_walk {
	struct change_list *out;
	struct hashmap changed_dirs; /* paths of directories recorded as changes */
};

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static int ov_dir(struct ov_walk *w, int dfd, const char *path, const int *lowers, size_t nl, unsigned depth,
		  struct skiff_err **err)
{
	if (depth > MAX_DEPTH)
		return err_makex(err, ELOOP, "%s: more than %d directory levels", path, MAX_DEPTH);
	cleanup_strv struct strv names = STRV_INIT;
	if (read_names(dfd, path, &names, err) < 0)
		return -1;
	for (size_t i = 0; i < names.len; i++) {
		const char *name = names.v[i];
		struct stat st;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return err_make(err, errno, "stat %s/%s", path, name);
		cleanup_free char *child = join(path, name);
		cleanup_close int sub = -1;
		enum change_kind kind = CHANGE_ADD;
		bool record = true;
		if (is_whiteout_dev(&st)) {
			kind = CHANGE_DELETE;
		} else if (!strncmp(name, WH_PREFIX, strlen(WH_PREFIX)) && name[strlen(WH_PREFIX)]) {
			/* an OCI-style whiteout file (fuse-overlayfs without mknod) */
			if (!strcmp(name, WH_OPAQUE))
				continue;
			free(child);
			child = join(path, name + strlen(WH_PREFIX));
			kind = CHANGE_DELETE;
		} else {
			if (S_ISDIR(st.st_mode)) {
				sub = open_subdir(dfd, name);
				if (sub < 0)
					return err_make(err, errno, "open %s", child);
			}
			if (sub >= 0 && is_opaque(sub)) {
				kind = CHANGE_DELETE; /* as podman: the old directory is gone */
			} else {
				for (size_t k = 0; k < nl; k++) {
					struct stat lst;
					if (lowers[k] < 0 || fstatat(lowers[k], name, &lst, AT_SYMLINK_NOFOLLOW) < 0)
						continue;
					kind = CHANGE_MODIFY;
					/* a directory that is only there as the parent of changes */
					if (S_ISDIR(st.st_mode) && S_ISDIR(lst.st_mode) && st.st_mode == lst.st_mode &&
					    st.st_size == lst.st_size && same_time(&st.st_mtim, &lst.st_mtim))
						record = false;
					break;
				}
			}
		}
		if (record) {
			if (S_ISDIR(st.st_mode))
				hashmap_put(&w->changed_dirs, child, NULL, NULL);
			if (kind != CHANGE_MODIFY && *path && !hashmap_lookup(&w->changed_dirs, path, NULL)) {
				add_change(w->out, path, CHANGE_MODIFY);
				hashmap_put(&w->changed_dirs, path, NULL, NULL);
			}
			add_change(w->out, child, kind);
		}
		if (sub < 0)
			continue;
		int *sublowers = xcalloc(nl ? nl : 1, sizeof(int));
		for (size_t k = 0; k < nl; k++)
			sublowers[k] = lowers[k] < 0 ? -1 : open_subdir(lowers[k], name);
		int rc = ov_dir(w, sub, child, sublowers, nl, depth + 1, err);
		close_fds(sublowers, nl);
		free(sublowers);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int changes_overlay(int upperfd, const int *lowerfds, size_t nlower, struct change_list *ret, struct skiff_err **err)
{
	struct ov_walk w = {.out = ret, .changed_dirs = HASHMAP_INIT};
	int rc = ov_dir(&w, upperfd, "", lowerfds, nlower, 0, err);
	hashmap_release(&w.changed_dirs, NULL);
	return rc;
}

/* ---------------- two trees (vfs) ---------------- */

static bool read_link_eq(int afd, int bfd, const char *name)
{
	char a[4096], b[4096];
	ssize_t na = readlinkat(afd, name, a, sizeof(a));
	ssize_t nb = readlinkat(bfd, name, b, sizeof(b));
	return na >= 0 && na == nb && !memcmp(a, b, (size_t)na);
}

static bool stat_differ(const struct stat *a, const struct stat *b)
{
	if (a->st_mode != b->st_mode || a->st_uid != b->st_uid || a->st_gid != b->st_gid || a->st_rdev != b->st_rdev)
		return true;
	return !S_ISDIR(a->st_mode) && (a->st_size != b->st_size || !same_time(&a->st_mtim, &b->st_mtim));
}

/* Merge two sorted name lists. */
static void merge_names(const struct strv *a, const struct strv *b, struct strv *out)
{
	size_t i = 0, k = 0;
	while (i < a->len || k < b->len) {
		int c = i >= a->len ? 1 : k >= b->len ? -1 : strcmp(a->v[i], b->v[k]);
		if (c <= 0)
			strv_push(out, a->v[i]);
		else
			strv_push(out, b->v[k]);
		if (c <= 0)
			i++;
		if (c >= 0)
			k++;
	}
}

static int tree_dir(struct change_list *out, int bfd, int nfd, const char *path, unsigned depth, struct skiff_err **err)
{
	if (depth > MAX_DEPTH)
		return err_makex(err, ELOOP, "%s: more than %d directory levels", path, MAX_DEPTH);
	cleanup_strv struct strv bn = STRV_INIT, nn = STRV_INIT, all = STRV_INIT;
	if ((bfd >= 0 && read_names(bfd, path, &bn, err) < 0) || read_names(nfd, path, &nn, err) < 0)
		return -1;
	merge_names(&bn, &nn, &all);
	for (size_t i = 0; i < all.len; i++) {
		const char *name = all.v[i];
		struct stat bs, ns;
		bool in_b = bfd >= 0 && fstatat(bfd, name, &bs, AT_SYMLINK_NOFOLLOW) == 0;
		bool in_n = fstatat(nfd, name, &ns, AT_SYMLINK_NOFOLLOW) == 0;
		cleanup_free char *child = join(path, name);
		if (!in_n) {
			if (in_b)
				add_change(out, child, CHANGE_DELETE);
			continue;
		}
		bool recorded = false;
		if (!in_b) {
			add_change(out, child, CHANGE_ADD);
			recorded = true;
		} else if (stat_differ(&bs, &ns) || (S_ISLNK(ns.st_mode) && !read_link_eq(bfd, nfd, name))) {
			add_change(out, child, CHANGE_MODIFY);
			recorded = true;
		}
		if (!S_ISDIR(ns.st_mode))
			continue;
		size_t mark = out->len;
		cleanup_close int nsub = open_subdir(nfd, name);
		if (nsub < 0)
			return err_make(err, errno, "open %s", child);
		cleanup_close int bsub = in_b && S_ISDIR(bs.st_mode) ? open_subdir(bfd, name) : -1;
		if (tree_dir(out, bsub, nsub, child, depth + 1, err) < 0)
			return -1;
		/* a directory with changes inside is a change itself, listed before them */
		if (out->len > mark && !recorded)
			insert_change(out, mark, child, CHANGE_MODIFY);
	}
	return 0;
}

int changes_trees(int basefd, int newfd, struct change_list *ret, struct skiff_err **err)
{
	return tree_dir(ret, basefd, newfd, "", 0, err);
}

/* ---------------- tar writing ---------------- */

struct tarw {
	struct archive *a;
	changes_write_fn write;
	void *ud;
	int write_errno;
	struct hashmap links; /* "dev:ino" of files with several links -> their tar path */
};

static la_ssize_t tarw_cb(struct archive *a, void *ud, const void *buf, size_t n)
{
	struct tarw *t = ud;
	if (t->write(t->ud, buf, n) < 0) {
		t->write_errno = errno ? errno : EIO;
		archive_set_error(a, t->write_errno, "write: %s", strerror(t->write_errno));
		return -1;
	}
	return (la_ssize_t)n;
}

static int tar_error(struct tarw *t, const char *what, struct skiff_err **err)
{
	if (t->write_errno)
		return err_make(err, t->write_errno, "write tar (%s)", what);
	return err_makex(err, EIO, "write tar (%s): %s", what, archive_error_string(t->a));
}

static int tarw_open(struct tarw *t, changes_write_fn write, void *ud, struct skiff_err **err)
{
	memset(t, 0, sizeof(*t));
	t->write = write;
	t->ud = ud;
	t->links = (struct hashmap)HASHMAP_INIT;
	t->a = archive_write_new();
	if (!t->a)
		return err_makex(err, ENOMEM, "archive_write_new");
	if (archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
	    archive_write_open(t->a, t, NULL, tarw_cb, NULL) != ARCHIVE_OK) {
		tar_error(t, "open", err);
		archive_write_free(t->a);
		t->a = NULL;
		return -1;
	}
	return 0;
}

/* Finish (close) the tar when ok, and free everything. */
static int tarw_finish(struct tarw *t, bool ok, struct skiff_err **err)
{
	int rc = 0;
	if (t->a && ok && archive_write_close(t->a) != ARCHIVE_OK)
		rc = tar_error(t, "close", err);
	if (t->a)
		archive_write_free(t->a);
	t->a = NULL;
	hashmap_release(&t->links, free);
	return rc;
}

static int write_header(struct tarw *t, struct archive_entry *e, const char *tarpath, struct skiff_err **err)
{
	int r = archive_write_header(t->a, e);
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return tar_error(t, tarpath, err);
	return 0;
}

/* An empty regular file: an OCI whiteout. */
static int tar_whiteout(struct tarw *t, const char *tarpath, const struct stat *st, struct skiff_err **err)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, tarpath);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0);
	archive_entry_set_size(e, 0);
	if (st)
		archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	int rc = write_header(t, e, tarpath, err);
	archive_entry_free(e);
	return rc;
}

static int copy_content(struct tarw *t, int fd, int64_t size, const char *tarpath, struct skiff_err **err)
{
	char buf[65536];
	int64_t left = size;
	while (left > 0) {
		ssize_t n = read(fd, buf, left < (int64_t)sizeof(buf) ? (size_t)left : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_make(err, errno, "read %s", tarpath);
		if (n == 0)
			return err_makex(err, EIO, "%s: file changed as we read it (shorter than %lld bytes)", tarpath,
					 (long long)size);
		if (archive_write_data(t->a, buf, (size_t)n) != n)
			return tar_error(t, tarpath, err);
		left -= n;
	}
	return 0;
}

/* One entry of dirfd (name, stat st) at tarpath in the archive. Sockets are skipped
 * (tar cannot hold them). */
static int tar_entry(struct tarw *t, int dirfd, const char *name, const struct stat *st, const char *tarpath,
		     struct skiff_err **err)
{
	if (S_ISSOCK(st->st_mode))
		return 0;
	struct archive_entry *e = archive_entry_new();
	cleanup_close int fd = -1;
	int rc = -1;
	archive_entry_set_pathname(e, tarpath);
	archive_entry_set_mode(e, st->st_mode);
	archive_entry_set_uid(e, st->st_uid);
	archive_entry_set_gid(e, st->st_gid);
	archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	archive_entry_set_size(e, 0);
	if (S_ISREG(st->st_mode)) {
		if (st->st_nlink > 1) {
			char key[64];
			snprintf(key, sizeof(key), "%llu:%llu", (unsigned long long)st->st_dev,
				 (unsigned long long)st->st_ino);
			const char *first = hashmap_get(&t->links, key);
			if (first) {
				archive_entry_set_hardlink(e, first);
				rc = write_header(t, e, tarpath, err);
				goto out;
			}
			hashmap_put(&t->links, key, xstrdup(tarpath), NULL);
		}
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
		struct stat now;
		if (fd < 0 || fstat(fd, &now) < 0) {
			err_make(err, errno, "open %s", tarpath);
			goto out;
		}
		if (!S_ISREG(now.st_mode) || now.st_ino != st->st_ino) {
			err_makex(err, EIO, "%s: file changed as we read it", tarpath);
			goto out;
		}
		char cap[512];
		ssize_t cn = fgetxattr(fd, "security.capability", cap, sizeof(cap));
		if (cn > 0)
			archive_entry_xattr_add_entry(e, "security.capability", cap, (size_t)cn);
		archive_entry_set_size(e, st->st_size);
	} else if (S_ISLNK(st->st_mode)) {
		char target[4097];
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		if (n < 0) {
			err_make(err, errno, "read link %s", tarpath);
			goto out;
		}
		target[n] = '\0';
		archive_entry_set_symlink(e, target);
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		archive_entry_set_rdevmajor(e, major(st->st_rdev));
		archive_entry_set_rdevminor(e, minor(st->st_rdev));
	}
	if (write_header(t, e, tarpath, err) < 0)
		goto out;
	if (fd >= 0 && copy_content(t, fd, st->st_size, tarpath, err) < 0)
		goto out;
	rc = 0;
out:
	archive_entry_free(e);
	return rc;
}

/* "a/b" and "dir" -> "a/b/dir/" for directories, "a/b/f" else; the root is "". */
static char *tar_name(const char *dir, const char *name, bool is_dir)
{
	return xasprintf("%s%s%s%s", dir, *dir ? "/" : "", name, is_dir ? "/" : "");
}

/* Walk dfd writing every entry; upper: convert overlay whiteouts. */
static int tar_walk(struct tarw *t, int dfd, const char *dir, bool upper, unsigned depth, struct skiff_err **err)
{
	if (depth > MAX_DEPTH)
		return err_makex(err, ELOOP, "%s: more than %d directory levels", dir, MAX_DEPTH);
	cleanup_strv struct strv names = STRV_INIT;
	if (read_names(dfd, dir, &names, err) < 0)
		return -1;
	for (size_t i = 0; i < names.len; i++) {
		const char *name = names.v[i];
		struct stat st;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return err_make(err, errno, "stat %s/%s", dir, name);
		if (upper && is_whiteout_dev(&st)) {
			cleanup_free char *wh = xasprintf("%s%s", WH_PREFIX, name);
			cleanup_free char *tp = tar_name(dir, wh, false);
			if (tar_whiteout(t, tp, &st, err) < 0)
				return -1;
			continue;
		}
		bool is_dir = S_ISDIR(st.st_mode);
		cleanup_free char *tp = tar_name(dir, name, is_dir);
		if (tar_entry(t, dfd, name, &st, tp, err) < 0)
			return -1;
		if (!is_dir)
			continue;
		cleanup_close int sub = open_subdir(dfd, name);
		if (sub < 0)
			return err_make(err, errno, "open %s", tp);
		if (upper && is_opaque(sub)) {
			cleanup_free char *op = xasprintf("%s%s", tp, WH_OPAQUE);
			if (tar_whiteout(t, op, &st, err) < 0)
				return -1;
		}
		tp[strlen(tp) - 1] = '\0'; /* without the trailing slash */
		if (tar_walk(t, sub, tp, upper, depth + 1, err) < 0)
			return -1;
	}
	return 0;
}

static int tar_dir(int dfd, bool upper, changes_write_fn write, void *ud, struct skiff_err **err)
{
	struct tarw t;
	if (tarw_open(&t, write, ud, err) < 0)
		return -1;
	int rc = tar_walk(&t, dfd, "", upper, 0, err);
	if (tarw_finish(&t, rc == 0, err) < 0)
		rc = -1;
	return rc;
}

int changes_tar_upper(int upperfd, changes_write_fn write, void *ud, struct skiff_err **err)
{
	return tar_dir(upperfd, true, write, ud, err);
}

int changes_tar_tree(int rootfd, changes_write_fn write, void *ud, struct skiff_err **err)
{
	return tar_dir(rootfd, false, write, ud, err);
}

/* Write path (relative, no trailing slash) from newfd unless done has it; its parent
 * directories first. */
static int list_entry(struct tarw *t, int newfd, const char *path, struct hashmap *done, struct skiff_err **err)
{
	if (hashmap_lookup(done, path, NULL))
		return 0;
	const char *slash = strrchr(path, '/');
	if (slash) {
		cleanup_free char *parent = xstrndup(path, (size_t)(slash - path));
		if (list_entry(t, newfd, parent, done, err) < 0)
			return -1;
	}
	cleanup_free char *base = NULL;
	cleanup_close int pfd = pathres_open_parent(newfd, path, 0, &base, err);
	if (pfd < 0)
		return -1;
	struct stat st;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_make(err, errno, "stat %s", path);
	cleanup_free char *tp = S_ISDIR(st.st_mode) ? xasprintf("%s/", path) : xstrdup(path);
	/* pfd is O_PATH: regular files are opened again below it by tar_entry */
	if (tar_entry(t, pfd, base, &st, tp, err) < 0)
		return -1;
	hashmap_put(done, path, NULL, NULL);
	return 0;
}

int changes_tar_list(int newfd, const struct change_list *l, changes_write_fn write, void *ud, struct skiff_err **err)
{
	struct tarw t;
	struct hashmap done = HASHMAP_INIT;
	if (tarw_open(&t, write, ud, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < l->len; i++) {
		const char *path = l->v[i].path;
		while (*path == '/')
			path++;
		if (!*path)
			continue;
		if (l->v[i].kind != CHANGE_DELETE) {
			rc = list_entry(&t, newfd, path, &done, err);
			continue;
		}
		const char *slash = strrchr(path, '/');
		cleanup_free char *parent = slash ? xstrndup(path, (size_t)(slash - path)) : NULL;
		if (parent)
			rc = list_entry(&t, newfd, parent, &done, err);
		cleanup_free char *wh = xasprintf("%s%s%s%s", parent ? parent : "", parent ? "/" : "", WH_PREFIX,
						  slash ? slash + 1 : path);
		if (rc == 0)
			rc = tar_whiteout(&t, wh, NULL, err);
	}
	hashmap_release(&done, NULL);
	if (tarw_finish(&t, rc == 0, err) < 0)
		rc = -1;
	return rc;
}

/* ---------------- on containers ---------------- */

/* What the engine and the runtime make in every container (podman's "init inodes"):
 * not the user's changes. */
static const char *const init_paths[] = {
	"/dev", "/etc/hostname", "/etc/hosts",	       "/etc/resolv.conf", "/etc/mtab", "/proc",
	"/run", "/run/notify",	 "/run/.containerenv", "/run/secrets",	   "/sys",	"/run/skiff-init",
};

static int open_dir_path(const char *path, int *ret, struct skiff_err **err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_make(err, errno, "open %s", path);
	*ret = fd;
	return 0;
}

static char *layer_diff_path(struct engine *e, const char *layer)
{
	return xasprintf("%s/layers/%s/diff", store_graphroot(e->store), layer);
}

static bool is_vfs(struct engine *e)
{
	return !strcmp(store_driver(e->store), "vfs");
}

/* The layers of c's image, bottom first. */
static int image_layers(struct engine *e, struct ctr *c, struct strv *ret, struct skiff_err **err)
{
	struct store_image *img = NULL;
	if (store_image_get(e->store, c->row.image_id, &img, err) < 0)
		return err_wrap(err, "image of container %s", c->row.name);
	for (size_t i = 0; i < img->layers.len; i++)
		strv_push(ret, img->layers.v[i]);
	store_image_free(img);
	return 0;
}

/* vfs: the image's top layer tree (-1 for an image without layers) and c's tree. */
static int vfs_trees(struct engine *e, struct ctr *c, int *ret_base, int *ret_new, struct skiff_err **err)
{
	cleanup_strv struct strv layers = STRV_INIT;
	if (image_layers(e, c, &layers, err) < 0)
		return -1;
	cleanup_close int base = -1;
	if (layers.len) {
		cleanup_free char *p = layer_diff_path(e, layers.v[layers.len - 1]);
		if (open_dir_path(p, &base, err) < 0)
			return -1;
	}
	cleanup_free char *dir = store_container_dir(e->store, c->row.id);
	cleanup_free char *rootfs = xasprintf("%s/rootfs", dir);
	if (open_dir_path(rootfs, ret_new, err) < 0)
		return -1;
	*ret_base = TAKE_FD(base);
	return 0;
}

/* The overlay upper directory upper over the first nl of layers (bottom first). */
static int changes_over_layers(struct engine *e, const char *upper, const struct strv *layers, size_t nl,
			       struct change_list *ret, struct skiff_err **err)
{
	cleanup_close int ufd = -1;
	if (open_dir_path(upper, &ufd, err) < 0)
		return -1;
	int *lowers = xcalloc(nl ? nl : 1, sizeof(int));
	int rc = 0;
	for (size_t i = 0; i < nl; i++)
		lowers[i] = -1;
	for (size_t i = 0; rc == 0 && i < nl; i++) { /* top first */
		cleanup_free char *p = layer_diff_path(e, layers->v[nl - 1 - i]);
		rc = open_dir_path(p, &lowers[i], err);
	}
	if (rc == 0)
		rc = changes_overlay(ufd, lowers, nl, ret, err);
	close_fds(lowers, nl);
	free(lowers);
	return rc;
}

static int diff_raw(struct engine *e, struct ctr *c, struct change_list *ret, struct skiff_err **err)
{
	if (is_vfs(e)) {
		cleanup_close int base = -1, new = -1;
		if (vfs_trees(e, c, &base, &new, err) < 0)
			return -1;
		return changes_trees(base, new, ret, err);
	}
	cleanup_strv struct strv layers = STRV_INIT;
	if (image_layers(e, c, &layers, err) < 0)
		return -1;
	cleanup_free char *dir = store_container_dir(e->store, c->row.id);
	cleanup_free char *upper = xasprintf("%s/diff", dir);
	return changes_over_layers(e, upper, &layers, layers.len, ret, err);
}

int image_diff(struct engine *e, const char *ref, struct change_list *ret, struct skiff_err **err)
{
	struct store_image *img = NULL;
	if (image_lookup(e->store, ref, &img, err) < 0)
		return -1;
	cleanup_strv struct strv layers = STRV_INIT;
	for (size_t i = 0; i < img->layers.len; i++)
		strv_push(&layers, img->layers.v[i]);
	store_image_free(img);
	struct change_list l = {0};
	int rc = 0;
	size_t n = layers.len;
	if (n && is_vfs(e)) {
		/* whole trees: the top one against its parent's (or nothing) */
		cleanup_close int base = -1, top = -1;
		cleanup_free char *tp = layer_diff_path(e, layers.v[n - 1]);
		cleanup_free char *bp = n > 1 ? layer_diff_path(e, layers.v[n - 2]) : NULL;
		rc = open_dir_path(tp, &top, err);
		if (rc == 0 && bp)
			rc = open_dir_path(bp, &base, err);
		if (rc == 0)
			rc = changes_trees(base, top, &l, err);
	} else if (n) {
		/* the top layer's directory is an overlay upper over the others */
		cleanup_free char *tp = layer_diff_path(e, layers.v[n - 1]);
		rc = changes_over_layers(e, tp, &layers, n - 1, &l, err);
	}
	if (rc < 0) {
		change_list_release(&l);
		return err_wrap(err, "changes of image %s", ref);
	}
	*ret = l;
	return 0;
}

int ctr_diff(struct engine *e, struct ctr *c, struct change_list *ret, struct skiff_err **err)
{
	struct change_list all = {0};
	if (diff_raw(e, c, &all, err) < 0) {
		change_list_release(&all);
		return err_wrap(err, "changes of container %s", c->row.name);
	}
	struct change_list out = {0};
	for (size_t i = 0; i < all.len; i++) {
		bool init = false;
		for (size_t k = 0; k < ARRAY_SIZE(init_paths) && !init; k++)
			init = !strcmp(all.v[i].path, init_paths[k]);
		if (init) {
			free(all.v[i].path);
			continue;
		}
		ALLOC_GROW(out.v, out.len + 1, out.alloc);
		out.v[out.len++] = all.v[i];
	}
	free(all.v);
	*ret = out;
	return 0;
}

/* The merged root filesystem of c, mounted when needed: *ret_mounted says so. */
static int rootfs_open(struct engine *e, struct ctr *c, int *ret_fd, bool *ret_mounted, struct skiff_err **err)
{
	bool was = c->row.mounted;
	cleanup_free char *path = NULL;
	if (ctr_mount(e, c, &path, err) < 0)
		return -1;
	int fd = -1;
	if (open_dir_path(path, &fd, err) < 0) {
		if (!was) {
			struct skiff_err *e2 = NULL;
			ctr_umount(e, c, &e2);
			err_free(e2);
		}
		return -1;
	}
	*ret_fd = fd;
	*ret_mounted = !was;
	return 0;
}

static int rootfs_close(struct engine *e, struct ctr *c, int fd, bool mounted, struct skiff_err **err)
{
	close(fd);
	return mounted && !is_vfs(e) ? ctr_umount(e, c, err) : 0;
}

static int write_fd(void *ud, const void *buf, size_t n)
{
	int fd = *(int *)ud;
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int ctr_export(struct engine *e, struct ctr *c, int out_fd, struct skiff_err **err)
{
	int fd = -1;
	bool mounted = false;
	if (rootfs_open(e, c, &fd, &mounted, err) < 0)
		return err_wrap(err, "export %s", c->row.name);
	int rc = changes_tar_tree(fd, write_fd, &out_fd, err);
	struct skiff_err *e2 = NULL;
	if (rootfs_close(e, c, fd, mounted, rc < 0 ? &e2 : err) < 0 && rc == 0)
		rc = -1;
	err_free(e2);
	if (rc < 0)
		return err_wrap(err, "export %s", c->row.name);
	return 0;
}

static void env_put(struct strv *env, const char *kv)
{
	size_t kl = strcspn(kv, "=");
	for (size_t i = 0; i < env->len; i++)
		if (!strncmp(env->v[i], kv, kl) && env->v[i][kl] == '=') {
			free(env->v[i]);
			env->v[i] = xstrdup(kv);
			return;
		}
	strv_push(env, kv);
}

static bool env_has(const struct strv *env, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < env->len; i++)
		if (!strncmp(env->v[i], key, kl) && env->v[i][kl] == '=')
			return true;
	return false;
}

static void strv_copy(struct strv *dst, const struct strv *src)
{
	strv_release(dst);
	for (size_t i = 0; i < src->len; i++)
		strv_push(dst, src->v[i]);
}

int ctr_commit_config(struct engine *e, struct ctr *c, struct spec_image_config **ret, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (store_image_config(e->store, c->row.image_id, &buf, &len, err) < 0)
		return err_wrap(err, "image of container %s", c->row.name);
	cleanup_free char *digest = xasprintf("sha256:%s", c->row.image_id);
	cleanup_spec_image_config struct spec_image_config *ic = NULL;
	if (spec_image_config_parse_known(buf, len, digest, &ic, err) < 0)
		return err_wrap(err, "config of image %s", c->row.image_id);
	const struct ctr_config *cc = c->cfg;
	struct spec_container_config *k = &ic->config;
	/* Env as the container's process gets it (without HOSTNAME and HOME) */
	if (!env_has(&k->env, "PATH"))
		env_put(&k->env, SPEC_RUNTIME_DEFAULT_PATH);
	for (size_t i = 0; i < cc->env.len; i++)
		env_put(&k->env, cc->env.v[i]);
	if (cc->tty && !env_has(&k->env, "TERM"))
		env_put(&k->env, "TERM=xterm");
	/* --entrypoint replaces the image's and drops its Cmd; a command replaces Cmd */
	if (cc->has_entrypoint) {
		bool empty = !cc->entrypoint.len || (cc->entrypoint.len == 1 && !*cc->entrypoint.v[0]);
		if (empty)
			strv_release(&k->entrypoint);
		else
			strv_copy(&k->entrypoint, &cc->entrypoint);
		strv_release(&k->cmd);
	}
	if (cc->command.len)
		strv_copy(&k->cmd, &cc->command);
	if (cc->workdir && *cc->workdir) {
		free(k->working_dir);
		k->working_dir = xstrdup(cc->workdir);
	} else if (!k->working_dir || !*k->working_dir) {
		free(k->working_dir);
		k->working_dir = xstrdup("/");
	}
	if (cc->user && *cc->user) {
		free(k->user);
		k->user = xstrdup(cc->user);
	}
	for (size_t i = 0; i < cc->labels.len; i++)
		spec_map_set(&k->labels, cc->labels.items[i].key, cc->labels.items[i].value);
	if (cc->stop_signal > 0) {
		free(k->stop_signal);
		k->stop_signal = xasprintf("%d", cc->stop_signal);
	}
	*ret = TAKE_PTR(ic);
	return 0;
}

/* Write c's new layer (or, squash, its whole rootfs) as a tar to fd. */
static int write_layer(struct engine *e, struct ctr *c, bool squash, int fd, struct skiff_err **err)
{
	if (squash) {
		int rfd = -1;
		bool mounted = false;
		if (rootfs_open(e, c, &rfd, &mounted, err) < 0)
			return -1;
		int rc = changes_tar_tree(rfd, write_fd, &fd, err);
		struct skiff_err *e2 = NULL;
		if (rootfs_close(e, c, rfd, mounted, rc < 0 ? &e2 : err) < 0)
			rc = -1;
		err_free(e2);
		return rc;
	}
	if (is_vfs(e)) {
		cleanup_close int base = -1, new = -1;
		struct change_list l = {0};
		int rc = vfs_trees(e, c, &base, &new, err);
		if (rc == 0)
			rc = changes_trees(base, new, &l, err);
		if (rc == 0)
			rc = changes_tar_list(new, &l, write_fd, &fd, err);
		change_list_release(&l);
		return rc;
	}
	cleanup_free char *dir = store_container_dir(e->store, c->row.id);
	cleanup_free char *upper = xasprintf("%s/diff", dir);
	cleanup_close int ufd = -1;
	if (open_dir_path(upper, &ufd, err) < 0)
		return -1;
	return changes_tar_upper(ufd, write_fd, &fd, err);
}

int ctr_commit(struct engine *e, struct ctr *c, const struct ctr_commit_opts *o, char **ret_id, struct skiff_err **err)
{
	cleanup_spec_image_config struct spec_image_config *ic = NULL;
	cleanup_free char *name = NULL;
	if (ctr_commit_config(e, c, &ic, err) < 0)
		return -1;
	for (size_t i = 0; o->changes && i < o->changes->len; i++)
		if (image_apply_change(ic, o->changes->v[i], err) < 0)
			return -1;
	if (o->reference && image_commit_name(o->reference, &name, err) < 0)
		return -1;

	bool paused = false;
	if (o->pause && !strcmp(ctr_state_name(c), "running")) {
		if (ctr_pause(e, c, true, err) < 0)
			return err_wrap(err, "commit %s", c->row.name);
		paused = true;
	}
	cleanup_close int fd = -1;
	const char *tmpdir = e->cfg && e->cfg->tmpdir && *e->cfg->tmpdir ? e->cfg->tmpdir : "/var/tmp";
	int rc = tmpfile_in_dir(tmpdir, &fd, err);
	if (rc == 0)
		rc = write_layer(e, c, o->squash, fd, err);
	if (paused) {
		struct skiff_err *e2 = NULL;
		if (ctr_pause(e, c, false, rc < 0 ? &e2 : err) < 0)
			rc = -1;
		err_free(e2);
	}
	if (rc == 0 && lseek(fd, 0, SEEK_SET) < 0)
		rc = err_make(err, errno, "rewind the layer");
	if (rc < 0)
		return err_wrap(err, "commit %s", c->row.name);
	struct store_layer_src src = {.read = store_read_fd, .ud = &fd};
	struct image_commit_opts io = {
		.base_id = c->row.image_id,
		.base_name = c->cfg->image_name && *c->cfg->image_name ? c->cfg->image_name : c->cfg->image,
		.config = ic,
		.layer = &src,
		.reference = o->reference,
		.author = o->author,
		.message = o->message,
		.format = o->format,
		.squash = o->squash,
		.progress = o->progress,
		.progress_ud = o->progress_ud,
	};
	if (image_commit(e->store, &io, ret_id, err) < 0)
		return err_wrap(err, "commit %s", c->row.name);
	return 0;
}
