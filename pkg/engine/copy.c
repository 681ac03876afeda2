/* pkg/engine copy: `skiff cp` (see copy.h and docs/design/cp.md). */
#include "pkg/engine/copy.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pkg/engine/ctrconfig-internal.h"
#include "pkg/engine/volumes.h"
#include "pkg/spec/image.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/hashmap.h"
#include "vendor-free/pathres.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#define MAX_LINK_HOPS 40 /* the kernel's MAXSYMLINKS */

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

static void archive_write_freep(struct archive **a)
{
	if (*a)
		archive_write_free(*a);
}

static void entry_freep(struct archive_entry **e)
{
	if (*e)
		archive_entry_free(*e);
}

/* ---------------- paths ---------------- */

/* A path split for resolution: dir is where the last component lives, name the last
 * component, or NULL when the path names a directory itself ("/", ".", "x/.", "x/.."). */
struct split {
	char *dir, *name;
	bool slash; /* it ended in '/' */
	bool dot;   /* it ended in "/." or is "." (or is the root): the contents of a directory */
};

static void split_release(struct split *s)
{
	free(s->dir);
	free(s->name);
}

static void split_path(const char *path, struct split *ret)
{
	size_t n = strlen(path);
	memset(ret, 0, sizeof(*ret));
	ret->slash = n > 0 && path[n - 1] == '/';
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 1 && path[0] == '/') {
		ret->dir = xstrdup("/");
		ret->dot = true;
		return;
	}
	if (n == 0) {
		ret->dir = xstrdup(".");
		ret->dot = true;
		return;
	}
	const char *last = memrchr(path, '/', n);
	const char *base = last ? last + 1 : path;
	size_t bl = (size_t)(path + n - base);
	if ((bl == 1 && base[0] == '.') || (bl == 2 && base[0] == '.' && base[1] == '.')) {
		ret->dir = xstrndup(path, n);
		ret->dot = bl == 1;
		return;
	}
	ret->name = xstrndup(base, bl);
	if (!last)
		ret->dir = xstrdup(".");
	else if (last == path)
		ret->dir = xstrdup("/");
	else
		ret->dir = xstrndup(path, (size_t)(last - path));
}

static int not_found(const struct copy_loc *l, int status, struct skiff_err **err)
{
	return err_make(err, status, "\"%s\" could not be found on %s", l->path, l->where);
}

/* Open (O_PATH) the directory dir of l. */
static int open_dir(const struct copy_loc *l, const char *dir, struct skiff_err **err)
{
	if (l->in_root) {
		cleanup_err struct skiff_err *e = NULL;
		int fd = pathres_open(l->rootfd, dir, O_PATH | O_DIRECTORY, 0, PATHRES_IN_ROOT, &e);
		if (fd < 0)
			return not_found(l, err_status(e) ? err_status(e) : ENOENT, err);
		return fd;
	}
	int fd = openat(l->rootfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return not_found(l, errno, err);
	return fd;
}

/* What a path resolves to: the entry name in dirfd, or dirfd itself (name NULL). */
struct target {
	int dirfd; /* O_PATH */
	char *name;
	bool exists;
	struct stat st;
	const struct view_mount *mount; /* the volume or bind mount dirfd is in (NULL: the rootfs) */
};

static void target_release(struct target *t)
{
	if (t->dirfd >= 0)
		close(t->dirfd);
	t->dirfd = -1;
	free(t->name);
	t->name = NULL;
}

/* ---------------- a container's view: its rootfs and its volumes and bind mounts ---------------- */

/* A volume or bind mount of a container, where cp finds it on the host. */
struct view_mount {
	const char *dest;  /* in the container, cleaned */
	char *source;	   /* on the host: the bind source, or the volume's _data */
	const char *label; /* for messages: "volume NAME", "bind mount SOURCE" */
	char *label_owned;
	bool ro;
};

/* The paths of a container as a process in it sees them: cp resolves a container path
 * component by component from its root; at each step a path that is a mount's destination
 * continues in that mount's source (so the deepest mount wins, as in the container), and a
 * symlink is read and resolved again from the container's root ("/" or "..") or from where
 * it is, wherever it lives: a symlink in a volume to /etc reaches the container's /etc, a
 * symlink in the rootfs into a volume reaches the volume. ".." never climbs above the root.
 * Every step opens relative to an open directory with O_NOFOLLOW. Podman does the same
 * for volumes and bind mounts. --tmpfs mounts are not reachable from the host: their paths
 * resolve in the rootfs below them. */
struct view {
	int rootfd;
	struct view_mount *m;
	size_t n;
};

static void view_release(struct view *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->m[i].source);
		free(v->m[i].label_owned);
	}
	free(v->m);
	v->m = NULL;
	v->n = 0;
}

static void view_init(struct engine *e, struct ctr *c, int rootfd, struct view *ret)
{
	struct view v = {.rootfd = rootfd};
	size_t n = c->cfg ? c->cfg->n_mounts : 0;

	v.m = xcalloc(n ? n : 1, sizeof(*v.m));
	for (size_t i = 0; i < n; i++) {
		const struct ctr_mount *cm = &c->cfg->mounts[i];
		struct view_mount *m = &v.m[v.n];

		if (!cm->type || !cm->source || !cm->destination || !strcmp(cm->type, "tmpfs"))
			continue;
		if (!strcmp(cm->type, "volume")) {
			m->source = vol_data_path(e, cm->source);
			m->label = m->label_owned = xasprintf("volume %s", cm->source);
		} else if (!strcmp(cm->type, "bind")) {
			m->source = xstrdup(cm->source);
			m->label = m->label_owned = xasprintf("bind mount %s", cm->source);
		} else {
			continue;
		}
		m->dest = cm->destination;
		m->ro = strv_contains(&cm->options, "ro") || strv_contains(&cm->options, "readonly");
		v.n++;
	}
	*ret = v;
}

/* One directory on the way: its fd, its name, the mount it is in. */
struct vstep {
	int fd;
	size_t len; /* of the logical path up to and including it */
	const struct view_mount *mount;
};

struct vsteps {
	struct vstep *v;
	size_t n, alloc;
};

static void vsteps_push(struct vsteps *s, int fd, size_t len, const struct view_mount *mount)
{
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 8;
		s->v = xreallocarray(s->v, s->alloc, sizeof(*s->v));
	}
	s->v[s->n++] = (struct vstep){.fd = fd, .len = len, .mount = mount};
}

static const struct view_mount *view_mount_at(const struct view *v, const char *logical)
{
	const struct view_mount *found = NULL;

	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->m[i].dest, logical))
			found = &v->m[i]; /* the last of two at one place is on top */
	return found;
}

/* Resolve path of l in v as resolve() does (the result may lie in a mount). */
static int view_resolve(const struct copy_loc *l, const struct view *v, const char *path, bool follow,
			struct target *ret, struct skiff_err **err)
{
	cleanup_strbuf struct strbuf logical = STRBUF_INIT; /* "/a/b": the directories walked, no symlinks */
	cleanup_free char *rest = xstrdup(path);
	struct vsteps s = {0};
	int hops = 0, rc = -1;
	struct target r = {.dirfd = -1};

	int rfd = openat(v->rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return err_make(err, errno, "open the root of %s", l->where);
	vsteps_push(&s, rfd, logical.len, NULL);
	const struct view_mount *rm = view_mount_at(v, "/");
	if (rm) {
		int fd = open(rm->source, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			err_make(err, errno, "%s: open %s", rm->label, rm->source);
			goto out;
		}
		vsteps_push(&s, fd, 0, rm);
	}
	size_t base = s.n; /* the steps below this are the root */
	for (;;) {
		char *p = rest;
		while (*p == '/')
			p++;
		if (!*p) {
			r.dirfd = fcntl(s.v[s.n - 1].fd, F_DUPFD_CLOEXEC, 3);
			if (r.dirfd < 0) {
				err_make(err, errno, "dup");
				goto out;
			}
			r.mount = s.v[s.n - 1].mount;
			break;
		}
		char *slash = strchr(p, '/');
		size_t cl = slash ? (size_t)(slash - p) : strlen(p);
		cleanup_free char *comp = xstrndup(p, cl);
		char *after = p + cl;
		while (*after == '/')
			after++;
		bool last = !*after;
		memmove(rest, after, strlen(after) + 1);
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			if (s.n > base) {
				close(s.v[--s.n].fd);
				strbuf_setlen(&logical, s.v[s.n - 1].len);
			}
			continue;
		}
		size_t before = logical.len;
		strbuf_addch(&logical, '/');
		strbuf_addstr(&logical, comp);
		const struct view_mount *m = view_mount_at(v, logical.buf);
		if (m) {
			int fd = open(m->source, O_PATH | O_CLOEXEC);
			struct stat sb;
			if (fd < 0 || fstat(fd, &sb) < 0) {
				err_make(err, errno, "%s (at %s): open %s", m->label, m->dest, m->source);
				if (fd >= 0)
					close(fd);
				goto out;
			}
			if (S_ISDIR(sb.st_mode)) {
				vsteps_push(&s, fd, logical.len, m);
				continue;
			}
			/* a file bind mount: the file itself, seen through its host directory */
			close(fd);
			if (!last) {
				not_found(l, ENOTDIR, err);
				goto out;
			}
			cleanup_free char *dir = xstrdup(m->source);
			char *b = strrchr(dir, '/');
			const char *bn = b ? b + 1 : dir;
			if (b)
				*b = 0;
			r.dirfd = open(b ? (b == dir ? "/" : dir) : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (r.dirfd < 0) {
				err_make(err, errno, "%s (at %s): open %s", m->label, m->dest, m->source);
				goto out;
			}
			r.name = xstrdup(bn);
			r.mount = m;
			break;
		}
		struct stat sb;
		int cur = s.v[s.n - 1].fd;
		if (fstatat(cur, comp, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT && last) {
				r.dirfd = fcntl(cur, F_DUPFD_CLOEXEC, 3);
				if (r.dirfd < 0) {
					err_make(err, errno, "dup");
					goto out;
				}
				r.name = TAKE_PTR(comp);
				r.mount = s.v[s.n - 1].mount;
				break;
			}
			not_found(l, errno, err);
			goto out;
		}
		if (S_ISLNK(sb.st_mode) && (!last || follow)) {
			char buf[PATH_MAX];
			if (++hops > MAX_LINK_HOPS) {
				not_found(l, ELOOP, err);
				goto out;
			}
			ssize_t ln = readlinkat(cur, comp, buf, sizeof(buf) - 1);
			if (ln < 0) {
				not_found(l, errno, err);
				goto out;
			}
			buf[ln] = 0;
			char *nr = xasprintf("%s/%s", buf, rest);
			free(rest);
			rest = nr;
			strbuf_setlen(&logical, before);
			if (buf[0] == '/') {
				while (s.n > base)
					close(s.v[--s.n].fd);
				strbuf_setlen(&logical, s.v[s.n - 1].len);
			}
			continue;
		}
		if (last) {
			r.dirfd = fcntl(cur, F_DUPFD_CLOEXEC, 3);
			if (r.dirfd < 0) {
				err_make(err, errno, "dup");
				goto out;
			}
			r.name = TAKE_PTR(comp);
			r.mount = s.v[s.n - 1].mount;
			break;
		}
		int fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			not_found(l, errno, err);
			goto out;
		}
		vsteps_push(&s, fd, logical.len, s.v[s.n - 1].mount);
	}
	if (r.name ? fstatat(r.dirfd, r.name, &r.st, AT_SYMLINK_NOFOLLOW) : fstat(r.dirfd, &r.st)) {
		if (errno != ENOENT || !r.name) {
			not_found(l, errno, err);
			goto out;
		}
	} else {
		r.exists = true;
	}
	*ret = r;
	r = (struct target){.dirfd = -1};
	rc = 0;
out:
	target_release(&r);
	for (size_t i = 0; i < s.n; i++)
		close(s.v[i].fd);
	free(s.v);
	return rc;
}

/* Resolve path on l; a symlink as the last component is followed when follow (inside
 * the root for a container: its target is resolved again from there). */
static int resolve(const struct copy_loc *l, const struct view *v, const char *path, bool follow, struct target *ret,
		   struct skiff_err **err)
{
	if (v && v->n)
		return view_resolve(l, v, path, follow, ret, err);
	cleanup_free char *cur = xstrdup(path);
	for (int hops = 0;; hops++) {
		struct split sp;
		split_path(cur, &sp);
		int dfd = open_dir(l, sp.dir, err);
		if (dfd < 0) {
			split_release(&sp);
			return -1;
		}
		struct target t = {.dirfd = dfd, .name = TAKE_PTR(sp.name)};
		cleanup_free char *dir = TAKE_PTR(sp.dir);
		split_release(&sp);
		if (!t.name) {
			if (fstat(dfd, &t.st) < 0) {
				int e = errno;
				target_release(&t);
				return err_make(err, e, "stat \"%s\" on %s", l->path, l->where);
			}
			t.exists = true;
			*ret = t;
			return 0;
		}
		if (fstatat(dfd, t.name, &t.st, AT_SYMLINK_NOFOLLOW) < 0) {
			int e = errno;
			if (e != ENOENT) {
				target_release(&t);
				return not_found(l, e, err);
			}
			*ret = t;
			return 0;
		}
		t.exists = true;
		if (!follow || !S_ISLNK(t.st.st_mode)) {
			*ret = t;
			return 0;
		}
		if (hops >= MAX_LINK_HOPS) {
			target_release(&t);
			return not_found(l, ELOOP, err);
		}
		char buf[PATH_MAX];
		ssize_t n = readlinkat(dfd, t.name, buf, sizeof(buf) - 1);
		int e = errno;
		target_release(&t);
		if (n < 0)
			return not_found(l, e, err);
		buf[n] = 0;
		free(cur);
		cur = buf[0] == '/' ? xstrdup(buf) : xasprintf("%s/%s", dir, buf);
	}
}

/* ---------------- writing entries below a directory fd ---------------- */

struct cpctx {
	struct copy_opts *o;
	const char *where;    /* the destination side, for messages */
	int basefd;	      /* hard-link paths are relative to this directory */
	struct strbuf rel;    /* the entry being written, relative to basefd */
	struct hashmap links; /* "dev:ino" of a source file with several links -> its first copy (rel) */
	dev_t top_dev;	      /* the directory made at the top of the copy: never copied into itself */
	ino_t top_ino;
	bool have_top;
};

static void cpctx_release(struct cpctx *x)
{
	strbuf_release(&x->rel);
	hashmap_release(&x->links, free);
}

static int fail(struct cpctx *x, int status, const char *what, struct skiff_err **err)
{
	return err_make(err, status, "%s \"%s\" on %s", what, x->rel.buf, x->where);
}

/* The owner to give an entry: the chown ids, the source's (keep_owner), or none. */
static bool owner_of(const struct cpctx *x, const struct stat *st, uid_t *uid, gid_t *gid, bool *strict)
{
	if (x->o->chown) {
		*uid = x->o->uid;
		*gid = x->o->gid;
		*strict = true;
		return true;
	}
	if (x->o->keep_owner) {
		*uid = st->st_uid;
		*gid = st->st_gid;
		*strict = false; /* unmapped or foreign ids: keep ours */
		return true;
	}
	return false;
}

static int chown_result(struct cpctx *x, int rc, bool strict, struct skiff_err **err)
{
	if (rc == 0)
		return 0;
	if (!strict && (errno == EPERM || errno == EINVAL))
		return 0;
	return fail(x, errno, "chown", err);
}

/* Owner, mode and times of an open file or directory (owner first: chown clears setuid). */
static int meta_fd(struct cpctx *x, int fd, const struct stat *st, struct skiff_err **err)
{
	uid_t uid;
	gid_t gid;
	bool strict;
	if (owner_of(x, st, &uid, &gid, &strict) && chown_result(x, fchown(fd, uid, gid), strict, err) < 0)
		return -1;
	if (fchmod(fd, st->st_mode & 07777) < 0)
		return fail(x, errno, "chmod", err);
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	if (futimens(fd, ts) < 0)
		return fail(x, errno, "set times of", err);
	return 0;
}

/* Owner and times of a symlink (never followed). */
static int meta_link(struct cpctx *x, int dfd, const char *name, const struct stat *st, struct skiff_err **err)
{
	uid_t uid;
	gid_t gid;
	bool strict;
	if (owner_of(x, st, &uid, &gid, &strict) &&
	    chown_result(x, fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW), strict, err) < 0)
		return -1;
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 && errno != EOPNOTSUPP)
		return fail(x, errno, "set times of", err);
	return 0;
}

/* Owner, mode and times of a device node or FIFO just made: through an O_PATH fd of
 * exactly that inode and its /proc/self/fd link, so that a symlink swapped in meanwhile
 * is never followed. */
static int meta_node(struct cpctx *x, int dfd, const char *name, const struct stat *st, struct skiff_err **err)
{
	cleanup_close int fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat now;
	if (fd < 0 || fstat(fd, &now) < 0)
		return fail(x, errno, "open", err);
	if ((now.st_mode & S_IFMT) != (st->st_mode & S_IFMT))
		return fail(x, EBUSY, "changed while copying:", err);
	uid_t uid;
	gid_t gid;
	bool strict;
	if (owner_of(x, st, &uid, &gid, &strict) &&
	    chown_result(x, fchownat(fd, "", uid, gid, AT_EMPTY_PATH), strict, err) < 0)
		return -1;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (chmod(proc, st->st_mode & 07777) < 0)
		return fail(x, errno, "chmod", err);
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	if (utimensat(AT_FDCWD, proc, ts, 0) < 0)
		return fail(x, errno, "set times of", err);
	return 0;
}

/* Make room for an entry of the given kind at dfd/name: an existing non-directory is
 * removed (replaced, never written through); an existing directory is kept for a
 * directory (*ret_isdir) and otherwise removed only with overwrite. */
static int make_room(struct cpctx *x, int dfd, const char *name, bool want_dir, bool *ret_isdir, struct skiff_err **err)
{
	struct stat st;
	*ret_isdir = false;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return fail(x, errno, "stat", err);
	}
	if (S_ISDIR(st.st_mode)) {
		if (want_dir) {
			*ret_isdir = true;
			return 0;
		}
		if (!x->o->overwrite)
			return err_makex(
				err, EEXIST,
				"cannot overwrite directory \"%s\" on %s with a non-directory (use --overwrite)",
				x->rel.buf, x->where);
		if (rm_rf_at(dfd, name, err) < 0)
			return -1;
		return 0;
	}
	if (want_dir && !x->o->overwrite)
		return err_makex(err, EEXIST,
				 "cannot overwrite non-directory \"%s\" on %s with a directory (use --overwrite)",
				 x->rel.buf, x->where);
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		return fail(x, errno, "remove", err);
	return 0;
}

/* Where the content of a regular file comes from. */
struct content {
	int fd;		   /* or -1 */
	struct archive *a; /* a tar being read */
};

static int write_content(struct cpctx *x, int out, const struct content *c, struct skiff_err **err)
{
	if (c->fd >= 0) {
		if (copy_fd(c->fd, out, NULL) < 0)
			return fail(x, errno, "copy", err);
		return 0;
	}
	char buf[65536];
	for (;;) {
		la_ssize_t n = archive_read_data(c->a, buf, sizeof(buf));
		if (n == 0)
			return 0;
		if (n < 0)
			return err_makex(err, EIO, "tar member \"%s\": %s", x->rel.buf, archive_error_string(c->a));
		if (write_all(out, buf, (size_t)n) < 0)
			return fail(x, errno, "write", err);
	}
}

static int put_file(struct cpctx *x, int dfd, const char *name, const struct stat *st, const struct content *c,
		    struct skiff_err **err)
{
	bool isdir;
	if (make_room(x, dfd, name, false, &isdir, err) < 0)
		return -1;
	/* O_EXCL: a symlink or anything else that appears meanwhile is an error, not followed */
	cleanup_close int out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return fail(x, errno, "create", err);
	if (write_content(x, out, c, err) < 0)
		return -1;
	return meta_fd(x, out, st, err);
}

static int put_symlink(struct cpctx *x, int dfd, const char *name, const struct stat *st, const char *target,
		       struct skiff_err **err)
{
	bool isdir;
	if (make_room(x, dfd, name, false, &isdir, err) < 0)
		return -1;
	if (symlinkat(target, dfd, name) < 0)
		return fail(x, errno, "create symlink", err);
	return meta_link(x, dfd, name, st, err);
}

/* FIFOs and device nodes (sockets are skipped). Returns 1 when skipped. */
static int put_node(struct cpctx *x, int dfd, const char *name, const struct stat *st, struct skiff_err **err)
{
	if (S_ISSOCK(st->st_mode) || ((S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) && x->o->skip_devices)) {
		x->o->ret_skipped++;
		return 1;
	}
	bool isdir;
	if (make_room(x, dfd, name, false, &isdir, err) < 0)
		return -1;
	if (mknodat(dfd, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0) {
		if (errno == EPERM && !S_ISFIFO(st->st_mode)) {
			x->o->ret_skipped++; /* no CAP_MKNOD (rootless) */
			return 1;
		}
		return fail(x, errno, "create", err);
	}
	return meta_node(x, dfd, name, st, err);
}

/* Make (or keep, when merging) the directory dfd/name and open it. */
static int put_dir(struct cpctx *x, int dfd, const char *name, struct skiff_err **err)
{
	bool isdir;
	if (make_room(x, dfd, name, true, &isdir, err) < 0)
		return -1;
	if (!isdir && mkdirat(dfd, name, 0700) < 0)
		return fail(x, errno, "create directory", err);
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail(x, errno, "open directory", err);
	return fd;
}

/* A hard link to an earlier copy, when st is a file with several links seen before.
 * Returns 1 when linked, 0 when the caller should copy (first sight: recorded). */
static int put_hardlink(struct cpctx *x, int dfd, const char *name, const struct stat *st, struct skiff_err **err)
{
	if (S_ISDIR(st->st_mode) || st->st_nlink < 2)
		return 0;
	char key[64];
	snprintf(key, sizeof(key), "%ju:%ju", (uintmax_t)st->st_dev, (uintmax_t)st->st_ino);
	const char *first = hashmap_get(&x->links, key);
	if (!first) {
		hashmap_put(&x->links, key, xstrdup(x->rel.buf), NULL);
		return 0;
	}
	cleanup_free char *base = NULL;
	cleanup_err struct skiff_err *e = NULL;
	cleanup_close int pfd = pathres_open_parent(x->basefd, first, 0, &base, &e);
	if (pfd < 0)
		return 0; /* the first copy is gone or unreachable: copy the content again */
	bool isdir;
	if (make_room(x, dfd, name, false, &isdir, err) < 0)
		return -1;
	if (linkat(pfd, base, dfd, name, 0) < 0)
		return 0;
	x->o->ret_copied++;
	return 1;
}

/* ---------------- tree to tree ---------------- */

static int copy_entry(struct cpctx *x, int sdir, const char *sname, int ddir, const char *dname,
		      struct skiff_err **err);

static int copy_children(struct cpctx *x, int sfd, int dfd, struct skiff_err **err)
{
	int rfd = dup(sfd);
	if (rfd < 0)
		return fail(x, errno, "read directory", err);
	cleanup_dir DIR *d = fdopendir(rfd);
	if (!d) {
		close(rfd);
		return fail(x, errno, "read directory", err);
	}
	size_t len = x->rel.len;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				return fail(x, errno, "read directory", err);
			return 0;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (len)
			strbuf_addch(&x->rel, '/');
		strbuf_addstr(&x->rel, de->d_name);
		int rc = copy_entry(x, sfd, de->d_name, dfd, de->d_name, err);
		strbuf_setlen(&x->rel, len);
		if (rc < 0)
			return -1;
	}
}

static int copy_entry(struct cpctx *x, int sdir, const char *sname, int ddir, const char *dname, struct skiff_err **err)
{
	struct stat st;
	if (fstatat(sdir, sname, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(x, errno, "stat source of", err);
	if (S_ISDIR(st.st_mode)) {
		if (x->have_top && st.st_dev == x->top_dev && st.st_ino == x->top_ino)
			return 0; /* the copy itself, inside what is being copied */
		cleanup_close int sfd = openat(sdir, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0)
			return fail(x, errno, "open source directory of", err);
		cleanup_close int dfd = put_dir(x, ddir, dname, err);
		if (dfd < 0)
			return -1;
		if (!x->have_top) {
			struct stat top;
			if (fstat(dfd, &top) == 0) {
				x->top_dev = top.st_dev;
				x->top_ino = top.st_ino;
				x->have_top = true;
			}
		}
		if (copy_children(x, sfd, dfd, err) < 0)
			return -1;
		x->o->ret_copied++;
		return meta_fd(x, dfd, &st, err);
	}
	int linked = put_hardlink(x, ddir, dname, &st, err);
	if (linked != 0)
		return linked < 0 ? -1 : 0;
	if (S_ISREG(st.st_mode)) {
		/* O_NONBLOCK: a FIFO swapped in meanwhile must not hang us (it is refused below) */
		cleanup_close int in = openat(sdir, sname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		struct stat now;
		if (in < 0 || fstat(in, &now) < 0)
			return fail(x, errno, "open source of", err);
		if (!S_ISREG(now.st_mode))
			return fail(x, EBUSY, "changed while copying:", err);
		int fl = fcntl(in, F_GETFL);
		if (fl < 0 || fcntl(in, F_SETFL, fl & ~O_NONBLOCK) < 0)
			return fail(x, errno, "open source of", err);
		struct content c = {.fd = in};
		if (put_file(x, ddir, dname, &now, &c, err) < 0)
			return -1;
	} else if (S_ISLNK(st.st_mode)) {
		char buf[PATH_MAX];
		ssize_t n = readlinkat(sdir, sname, buf, sizeof(buf) - 1);
		if (n < 0)
			return fail(x, errno, "read symlink", err);
		buf[n] = 0;
		if (put_symlink(x, ddir, dname, &st, buf, err) < 0)
			return -1;
	} else {
		int rc = put_node(x, ddir, dname, &st, err);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	x->o->ret_copied++;
	return 0;
}

/* Refuse to write below a read-only volume or bind mount. */
static int check_writable(const struct copy_loc *l, const struct target *t, struct skiff_err **err)
{
	if (!t->mount || !t->mount->ro)
		return 0;
	return err_makex(err, EROFS, "cannot copy to \"%s\" on %s: it is on a read-only mount (%s at %s)", l->path,
			 l->where, t->mount->label, t->mount->dest);
}

static int copy_path_v(const struct copy_loc *src, const struct view *sv, const struct copy_loc *dst,
		       const struct view *dv, struct copy_opts *o, struct skiff_err **err)
{
	struct split ss, ds;
	split_path(src->path, &ss);
	split_path(dst->path, &ds);
	cleanup_free char *sname = TAKE_PTR(ss.name);
	bool contents = ss.dot || !sname;
	bool dslash = ds.slash;
	split_release(&ss);
	split_release(&ds);

	struct target s = {.dirfd = -1}, d = {.dirfd = -1};
	struct cpctx x = {.o = o, .where = dst->where, .rel = STRBUF_INIT, .links = HASHMAP_INIT, .basefd = -1};
	int rc = -1;
	cleanup_close int tdir = -1;
	const char *tname = NULL;

	if (resolve(src, sv, src->path, o->follow_link || ss.slash || contents, &s, err) < 0)
		goto out;
	if (!s.exists) {
		not_found(src, ENOENT, err);
		goto out;
	}
	bool sdir = S_ISDIR(s.st.st_mode);
	if ((ss.slash || contents) && !sdir) {
		not_found(src, ENOTDIR, err);
		goto out;
	}
	if (resolve(dst, dv, dst->path, true, &d, err) < 0 || check_writable(dst, &d, err) < 0)
		goto out;
	if (!d.exists) {
		if (dslash) {
			not_found(dst, ENOENT, err);
			goto out;
		}
		tdir = TAKE_FD(d.dirfd);
		tname = d.name;
	} else if (S_ISDIR(d.st.st_mode)) {
		if (d.name) {
			tdir = openat(d.dirfd, d.name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (tdir < 0) {
				not_found(dst, errno, err);
				goto out;
			}
		} else {
			tdir = TAKE_FD(d.dirfd);
		}
		tname = contents ? NULL : sname;
	} else {
		if (sdir) {
			err_makex(err, EISDIR, "destination must be a directory when copying a directory");
			goto out;
		}
		if (dslash) {
			not_found(dst, ENOTDIR, err);
			goto out;
		}
		tdir = TAKE_FD(d.dirfd);
		tname = d.name;
	}

	x.basefd = tdir;
	if (!tname) {
		/* the contents of a directory, merged into an existing one */
		cleanup_close int sfd =
			s.name ? openat(s.dirfd, s.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
			       : openat(s.dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		cleanup_close int dfd = openat(tdir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sfd < 0 || dfd < 0) {
			err_make(err, errno, "open \"%s\"", sfd < 0 ? src->path : dst->path);
			goto out;
		}
		struct stat top;
		if (fstat(dfd, &top) == 0) {
			x.top_dev = top.st_dev;
			x.top_ino = top.st_ino;
			x.have_top = true;
		}
		rc = copy_children(&x, sfd, dfd, err);
	} else {
		strbuf_addstr(&x.rel, tname);
		/* a name that resolved to a directory itself (-L to "/") is copied as "." of it */
		rc = copy_entry(&x, s.dirfd, s.name ? s.name : ".", tdir, tname, err);
	}
out:
	target_release(&s);
	target_release(&d);
	cpctx_release(&x);
	return rc;
}

int copy_path(const struct copy_loc *src, const struct copy_loc *dst, struct copy_opts *o, struct skiff_err **err)
{
	return copy_path_v(src, NULL, dst, NULL, o, err);
}

/* ---------------- tar to tree ---------------- */

struct dirmeta {
	char *rel;
	struct stat st;
};

static int open_read_archive(int fd, struct archive **ret, struct skiff_err **err)
{
	struct archive *a = archive_read_new();
	if (!a)
		return err_makex(err, ENOMEM, "tar: out of memory");
	if (archive_read_support_filter_gzip(a) != ARCHIVE_OK || archive_read_support_filter_bzip2(a) != ARCHIVE_OK ||
	    archive_read_support_filter_xz(a) != ARCHIVE_OK || archive_read_support_filter_zstd(a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(a) != ARCHIVE_OK || archive_read_support_format_gnutar(a) != ARCHIVE_OK ||
	    archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		int rc = err_makex(err, EINVAL, "tar: %s",
				   archive_error_string(a) ? archive_error_string(a) : "cannot read");
		archive_read_free(a);
		return rc;
	}
	*ret = a;
	return 0;
}

static int tar_member(struct cpctx *x, struct archive *a, struct archive_entry *ent, int rootfd, struct dirmeta **dirs,
		      size_t *ndirs, size_t *alloc, struct skiff_err **err)
{
	const char *raw = archive_entry_pathname(ent);
	if (!raw || !*raw)
		return err_makex(err, EINVAL, "tar member without a name");
	cleanup_free char *rel = NULL;
	if (path_clean(raw, &rel, err) < 0)
		return err_wrap(err, "tar member \"%s\"", raw);
	if (!strcmp(rel, "."))
		return 0; /* the destination itself: left as it is */
	strbuf_reset(&x->rel);
	strbuf_addstr(&x->rel, rel);
	cleanup_free char *base = NULL;
	cleanup_close int pfd = pathres_open_parent(rootfd, rel, PATHRES_MKDIR, &base, err);
	if (pfd < 0)
		return err_wrap(err, "tar member \"%s\"", raw);

	struct stat st = *archive_entry_stat(ent);
	const char *hard = archive_entry_hardlink(ent);
	if (hard) {
		cleanup_free char *hrel = NULL, *hbase = NULL;
		if (path_clean(hard, &hrel, err) < 0)
			return err_wrap(err, "tar member \"%s\": hard link", raw);
		cleanup_close int hfd = pathres_open_parent(rootfd, hrel, 0, &hbase, err);
		if (hfd < 0)
			return err_wrap(err, "tar member \"%s\": hard link", raw);
		struct stat t;
		if (fstatat(hfd, hbase, &t, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(t.st_mode))
			return err_makex(err, EINVAL,
					 "tar member \"%s\": hard link to \"%s\", not a file in the archive", raw,
					 hard);
		bool isdir;
		if (make_room(x, pfd, base, false, &isdir, err) < 0)
			return -1;
		if (linkat(hfd, hbase, pfd, base, 0) < 0)
			return fail(x, errno, "hard link", err);
		x->o->ret_copied++;
		return 0;
	}
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR: {
		cleanup_close int dfd = put_dir(x, pfd, base, err);
		if (dfd < 0)
			return -1;
		ALLOC_GROW(*dirs, *ndirs + 1, *alloc);
		(*dirs)[*ndirs].rel = TAKE_PTR(rel);
		(*dirs)[*ndirs].st = st;
		(*ndirs)++;
		break;
	}
	case S_IFREG: {
		struct content c = {.fd = -1, .a = a};
		if (put_file(x, pfd, base, &st, &c, err) < 0)
			return -1;
		break;
	}
	case S_IFLNK: {
		const char *target = archive_entry_symlink(ent);
		if (!target)
			return err_makex(err, EINVAL, "tar member \"%s\": symlink without a target", raw);
		if (put_symlink(x, pfd, base, &st, target, err) < 0)
			return -1;
		break;
	}
	default: {
		int rc = put_node(x, pfd, base, &st, err);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	}
	x->o->ret_copied++;
	return 0;
}

static int copy_tar_in_v(int in_fd, const struct copy_loc *dst, const struct view *dv, struct copy_opts *o,
			 struct skiff_err **err)
{
	struct target d = {.dirfd = -1};
	if (resolve(dst, dv, dst->path, true, &d, err) < 0)
		return -1;
	if (check_writable(dst, &d, err) < 0) {
		target_release(&d);
		return -1;
	}
	if (!d.exists || !S_ISDIR(d.st.st_mode)) {
		int e = d.exists ? ENOTDIR : ENOENT;
		target_release(&d);
		return err_makex(err, e, "destination must be a directory when copying from stdin: \"%s\" on %s %s",
				 dst->path, dst->where, e == ENOENT ? "does not exist" : "is not a directory");
	}
	cleanup_close int rootfd = d.name ? openat(d.dirfd, d.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
					  : openat(d.dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	target_release(&d);
	if (rootfd < 0)
		return not_found(dst, errno, err);

	__attribute__((cleanup(archive_freep))) struct archive *a = NULL;
	if (open_read_archive(in_fd, &a, err) < 0)
		return -1;
	struct cpctx x = {.o = o, .where = dst->where, .rel = STRBUF_INIT, .links = HASHMAP_INIT, .basefd = rootfd};
	struct dirmeta *dirs = NULL;
	size_t ndirs = 0, alloc = 0;
	int rc = 0;
	for (;;) {
		struct archive_entry *ent;
		int r = archive_read_next_header(a, &ent);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			rc = err_makex(err, EINVAL, "tar: %s", archive_error_string(a));
			break;
		}
		if (tar_member(&x, a, ent, rootfd, &dirs, &ndirs, &alloc, err) < 0) {
			rc = -1;
			break;
		}
	}
	/* directories last, deepest first: their times and modes stay as in the tar */
	for (size_t i = ndirs; i > 0; i--) {
		struct dirmeta *m = &dirs[i - 1];
		if (rc == 0) {
			strbuf_reset(&x.rel);
			strbuf_addstr(&x.rel, m->rel);
			cleanup_close int fd = pathres_open(rootfd, m->rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
							    PATHRES_NO_SYMLINKS, err);
			if (fd < 0 || meta_fd(&x, fd, &m->st, err) < 0)
				rc = -1;
		}
		free(m->rel);
	}
	free(dirs);
	cpctx_release(&x);
	return rc;
}

int copy_tar_in(int in_fd, const struct copy_loc *dst, struct copy_opts *o, struct skiff_err **err)
{
	return copy_tar_in_v(in_fd, dst, NULL, o, err);
}

/* ---------------- tree to tar ---------------- */

struct tarout {
	struct archive *a;
	struct copy_opts *o;
	const struct copy_loc *src;
	struct strbuf name;   /* the member being written */
	struct hashmap links; /* "dev:ino" -> first member name */
};

static int tar_fail(struct tarout *t, struct skiff_err **err)
{
	return err_makex(err, EIO, "tar: \"%s\": %s", t->name.buf, archive_error_string(t->a));
}

static int tar_put(struct tarout *t, int sdir, const char *sname, struct skiff_err **err);

static int tar_children(struct tarout *t, int sfd, struct skiff_err **err)
{
	int rfd = dup(sfd);
	if (rfd < 0)
		return err_make(err, errno, "read directory \"%s\"", t->name.buf);
	cleanup_dir DIR *d = fdopendir(rfd);
	if (!d) {
		close(rfd);
		return err_make(err, errno, "read directory \"%s\"", t->name.buf);
	}
	size_t len = t->name.len;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				return err_make(err, errno, "read directory \"%s\"", t->name.buf);
			return 0;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (len)
			strbuf_addch(&t->name, '/');
		strbuf_addstr(&t->name, de->d_name);
		int rc = tar_put(t, sfd, de->d_name, err);
		strbuf_setlen(&t->name, len);
		if (rc < 0)
			return -1;
	}
}

static int tar_put(struct tarout *t, int sdir, const char *sname, struct skiff_err **err)
{
	struct stat st;
	if (fstatat(sdir, sname, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_make(err, errno, "stat \"%s\" on %s", t->name.buf, t->src->where);
	if (S_ISSOCK(st.st_mode)) {
		t->o->ret_skipped++;
		return 0;
	}
	__attribute__((cleanup(entry_freep))) struct archive_entry *ent = archive_entry_new();
	cleanup_close int fd = -1;
	archive_entry_copy_stat(ent, &st);
	archive_entry_set_pathname(ent, t->name.buf);
	if (S_ISDIR(st.st_mode)) {
		fd = openat(sdir, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return err_make(err, errno, "open \"%s\" on %s", t->name.buf, t->src->where);
	} else if (S_ISLNK(st.st_mode)) {
		char buf[PATH_MAX];
		ssize_t n = readlinkat(sdir, sname, buf, sizeof(buf) - 1);
		if (n < 0)
			return err_make(err, errno, "read symlink \"%s\" on %s", t->name.buf, t->src->where);
		buf[n] = 0;
		archive_entry_set_symlink(ent, buf);
	} else if (S_ISREG(st.st_mode)) {
		char key[64];
		snprintf(key, sizeof(key), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
		const char *first = st.st_nlink > 1 ? hashmap_get(&t->links, key) : NULL;
		if (first) {
			archive_entry_set_hardlink(ent, first);
			archive_entry_set_size(ent, 0);
		} else {
			if (st.st_nlink > 1)
				hashmap_put(&t->links, key, xstrdup(t->name.buf), NULL);
			fd = openat(sdir, sname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
			struct stat now;
			if (fd < 0 || fstat(fd, &now) < 0)
				return err_make(err, errno, "open \"%s\" on %s", t->name.buf, t->src->where);
			if (!S_ISREG(now.st_mode) || now.st_size != st.st_size)
				return err_makex(err, EBUSY, "\"%s\" on %s changed while copying", t->name.buf,
						 t->src->where);
		}
	}
	if (archive_write_header(t->a, ent) != ARCHIVE_OK)
		return tar_fail(t, err);
	t->o->ret_copied++;
	if (S_ISDIR(st.st_mode))
		return tar_children(t, fd, err);
	if (fd >= 0) {
		char buf[65536];
		int64_t left = st.st_size;
		while (left > 0) {
			ssize_t n = read(fd, buf, (size_t)(left < (int64_t)sizeof(buf) ? left : (int64_t)sizeof(buf)));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return err_make(err, errno, "read \"%s\" on %s", t->name.buf, t->src->where);
			if (n == 0)
				return err_makex(err, EBUSY, "\"%s\" on %s shrank while copying", t->name.buf,
						 t->src->where);
			if (archive_write_data(t->a, buf, (size_t)n) != n)
				return tar_fail(t, err);
			left -= n;
		}
	}
	return 0;
}

static int copy_tar_out_v(const struct copy_loc *src, const struct view *sv, int out_fd, struct copy_opts *o,
			  struct skiff_err **err)
{
	struct split ss;
	split_path(src->path, &ss);
	cleanup_free char *sname = TAKE_PTR(ss.name);
	bool contents = ss.dot || !sname, slash = ss.slash;
	split_release(&ss);

	struct target s = {.dirfd = -1};
	if (resolve(src, sv, src->path, o->follow_link || slash || contents, &s, err) < 0)
		return -1;
	if (!s.exists) {
		target_release(&s);
		return not_found(src, ENOENT, err);
	}
	if ((slash || contents) && !S_ISDIR(s.st.st_mode)) {
		target_release(&s);
		return not_found(src, ENOTDIR, err);
	}
	__attribute__((cleanup(archive_write_freep))) struct archive *a = archive_write_new();
	struct tarout t = {.a = a, .o = o, .src = src, .name = STRBUF_INIT, .links = HASHMAP_INIT};
	int rc = -1;
	if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(a, out_fd) != ARCHIVE_OK) {
		err_makex(err, EIO, "tar: %s", a && archive_error_string(a) ? archive_error_string(a) : "cannot write");
		goto out;
	}
	if (contents) {
		cleanup_close int sfd =
			s.name ? openat(s.dirfd, s.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
			       : openat(s.dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sfd < 0) {
			not_found(src, errno, err);
			goto out;
		}
		rc = tar_children(&t, sfd, err);
	} else {
		strbuf_addstr(&t.name, sname); /* -L keeps the name given, as docker */
		rc = tar_put(&t, s.dirfd, s.name ? s.name : ".", err);
	}
	if (rc == 0 && archive_write_close(a) != ARCHIVE_OK)
		rc = err_makex(err, EIO, "tar: %s", archive_error_string(a));
out:
	target_release(&s);
	strbuf_release(&t.name);
	hashmap_release(&t.links, free);
	return rc;
}

int copy_tar_out(const struct copy_loc *src, int out_fd, struct copy_opts *o, struct skiff_err **err)
{
	return copy_tar_out_v(src, NULL, out_fd, o, err);
}

/* ---------------- containers ---------------- */

struct mounted {
	struct ctr *c;
	int rootfd;
	bool was_mounted;
	char where[300];
	struct view view; /* the rootfs with the volumes and bind mounts */
};

static int mount_for_copy(struct engine *e, struct ctr *c, struct mounted *m, struct skiff_err **err)
{
	m->c = c;
	m->rootfd = -1;
	m->was_mounted = c->row.mounted;
	snprintf(m->where, sizeof(m->where), "container %s", c->row.name);
	cleanup_free char *path = NULL;
	if (ctr_mount(e, c, &path, err) < 0)
		return err_wrap(err, "mount container %s", c->row.name);
	m->rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (m->rootfd < 0) {
		int rc = err_make(err, errno, "open %s", path);
		if (!m->was_mounted) {
			cleanup_err struct skiff_err *e2 = NULL;
			ctr_umount(e, c, &e2);
		}
		return rc;
	}
	view_init(e, c, m->rootfd, &m->view);
	return 0;
}

/* Unmount unless it was mounted before; keeps the first error. */
static int unmount_after_copy(struct engine *e, struct mounted *m, int rc, struct skiff_err **err)
{
	if (!m->c)
		return rc;
	view_release(&m->view);
	if (m->rootfd >= 0)
		close(m->rootfd);
	m->rootfd = -1;
	if (m->was_mounted)
		return rc;
	cleanup_err struct skiff_err *e2 = NULL;
	/* it may have been started meanwhile: then its rootfs stays */
	if (ctr_refresh(e, m->c, &e2) < 0 || ctr_umount(e, m->c, &e2) < 0) {
		if (rc == 0) {
			*err = TAKE_PTR(e2);
			return err_wrap(err, "unmount container %s", m->c->row.name);
		}
	}
	return rc;
}

/* The ids files copied in get (podman's getContainerUser): --user, else the image's
 * User, looked up in the container's /etc/passwd and /etc/group. */
static int copy_owner(struct engine *e, struct ctr *c, int rootfd, struct copy_opts *o, struct skiff_err **err)
{
	struct ctr_exec_user u = {0};
	int rc = ctr_lookup_container_user(e, c, c->cfg ? c->cfg->user : NULL, rootfd, &u, err);
	if (rc == 0) {
		o->chown = true;
		o->uid = u.uid;
		o->gid = u.gid;
		ctr_exec_user_release(&u);
	}
	return rc < 0 ? err_wrap(err, "container %s: user", c->row.name) : 0;
}

int ctr_copy(struct engine *e, struct ctr *src_ctr, const char *src, struct ctr *dst_ctr, const char *dst,
	     const struct ctr_copy_opts *o, struct skiff_err **err)
{
	if (!src_ctr && !dst_ctr)
		return err_makex(err, EINVAL, "copying between two host paths: SRC or DEST must be CONTAINER:PATH");
	struct mounted ms = {0}, md = {0};
	struct copy_opts co = {.overwrite = o->overwrite, .follow_link = o->follow_link};
	struct copy_loc sl = {.rootfd = AT_FDCWD, .path = src, .where = "the host"};
	struct copy_loc dl = {.rootfd = AT_FDCWD, .path = dst, .where = "the host"};
	int rc = 0;
	if (src_ctr) {
		rc = mount_for_copy(e, src_ctr, &ms, err);
		if (rc == 0) {
			sl.rootfd = ms.rootfd;
			sl.in_root = true;
			sl.where = ms.where;
		}
	}
	if (rc == 0 && dst_ctr) {
		rc = mount_for_copy(e, dst_ctr, &md, err);
		if (rc == 0) {
			dl.rootfd = md.rootfd;
			dl.in_root = true;
			dl.where = md.where;
			if (o->archive)
				rc = copy_owner(e, dst_ctr, md.rootfd, &co, err);
			else
				co.keep_owner = true;
		}
	} else if (rc == 0) {
		co.skip_devices = true; /* to the host: files belong to the caller; no device nodes */
	}
	if (rc == 0)
		rc = copy_path_v(&sl, src_ctr ? &ms.view : NULL, &dl, dst_ctr ? &md.view : NULL, &co, err);
	rc = unmount_after_copy(e, &md, rc, err);
	return unmount_after_copy(e, &ms, rc, err);
}

int ctr_copy_from_tar(struct engine *e, struct ctr *c, int in_fd, const char *dst, const struct ctr_copy_opts *o,
		      struct skiff_err **err)
{
	struct mounted m = {0};
	if (mount_for_copy(e, c, &m, err) < 0)
		return -1;
	struct copy_opts co = {.overwrite = o->overwrite};
	struct copy_loc dl = {.rootfd = m.rootfd, .in_root = true, .path = dst, .where = m.where};
	int rc = 0;
	if (o->archive)
		rc = copy_owner(e, c, m.rootfd, &co, err);
	else
		co.keep_owner = true;
	if (rc == 0)
		rc = copy_tar_in_v(in_fd, &dl, &m.view, &co, err);
	return unmount_after_copy(e, &m, rc, err);
}

int ctr_copy_to_tar(struct engine *e, struct ctr *c, const char *src, int out_fd, const struct ctr_copy_opts *o,
		    struct skiff_err **err)
{
	struct mounted m = {0};
	if (mount_for_copy(e, c, &m, err) < 0)
		return -1;
	struct copy_opts co = {.follow_link = o->follow_link};
	struct copy_loc sl = {.rootfd = m.rootfd, .in_root = true, .path = src, .where = m.where};
	int rc = copy_tar_out_v(&sl, &m.view, out_fd, &co, err);
	return unmount_after_copy(e, &m, rc, err);
}
