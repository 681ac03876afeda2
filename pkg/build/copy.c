/*
 * COPY and ADD: sources globbed and filtered by the ignore rules inside their root, copied
 * into a rootfs whose symlinks are followed only inside it; and the cache key over the
 * same sources.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/build/context.h"
#include "pkg/build/copy-internal.h"
#include "pkg/digest/digest.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/hashmap.h"
#include "vendor-free/pathres.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

enum match_kind { M_PATH, M_HEREDOC, M_URL };

struct match {
	enum match_kind kind;
	char *path; /* M_PATH: cleaned, relative to the source root ("." = the root) */
	const struct df_heredoc *hd;
	const char *url;
};

struct matches {
	struct match *v;
	size_t n, alloc;
};

static void matches_release(struct matches *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
}
#define cleanup_matches __attribute__((cleanup(matches_release)))

static void matches_push(struct matches *m, enum match_kind k, char *path, const struct df_heredoc *hd, const char *url)
{
	ALLOC_GROW(m->v, m->n + 1, m->alloc);
	m->v[m->n++] = (struct match){k, path, hd, url};
}

static const char *verb(const struct bcopy_opts *o)
{
	return o->add ? "ADD" : "COPY";
}

static bool excluded(const struct bcopy_src *s, const char *path)
{
	return s->ignore && strcmp(path, ".") != 0 && df_ignore_excluded(s->ignore, path);
}

static bool has_meta(const char *p)
{
	return strpbrk(p, "*?[\\") != NULL;
}

static char *path_join(const char *dir, const char *name)
{
	if (!strcmp(dir, "."))
		return xstrdup(name);
	return xasprintf("%s/%s", dir, name);
}

/* Sorted names in a directory fd, "." and ".." left out. */
static int list_dir(int dirfd, const char *path, struct strv *ret, struct skiff_err **err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_dir DIR *d = NULL;
	struct dirent *de;
	if (fd < 0)
		return err_make(err, errno, "open %s", path);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return err_make(err, errno, "read %s", path);
	}
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strv_push(ret, de->d_name);
		errno = 0;
	}
	if (errno)
		return err_make(err, errno, "read %s", path);
	strv_sort(ret);
	return 0;
}

/* Expand the glob components of pattern (cleaned, '/'-separated) from prefix on. */
static int glob_walk(const struct bcopy_src *s, const char *prefix, const char *rest, struct strv *out,
		     struct skiff_err **err)
{
	const char *slash = strchr(rest, '/');
	size_t clen = slash ? (size_t)(slash - rest) : strlen(rest);
	cleanup_free char *comp = xstrndup(rest, clen);
	const char *next = slash ? slash + 1 : NULL;
	cleanup_strv struct strv names = STRV_INIT;
	cleanup_close int dfd = -1;
	cleanup_err struct skiff_err *e = NULL;

	if (!has_meta(comp)) {
		cleanup_free char *p = path_join(prefix, comp);
		if (next)
			return glob_walk(s, p, next, out, err);
		cleanup_close int fd = pathres_open(s->rootfd, p, O_PATH, 0, PATHRES_IN_ROOT, &e);
		if (fd >= 0 && !excluded(s, p))
			strv_push(out, p);
		return 0;
	}
	dfd = pathres_open(s->rootfd, prefix, O_RDONLY | O_DIRECTORY, 0, PATHRES_IN_ROOT, &e);
	if (dfd < 0) {
		if (err_status(e) == ENOENT || err_status(e) == ENOTDIR)
			return 0;
		*err = TAKE_PTR(e);
		return -1;
	}
	if (list_dir(dfd, prefix, &names, err) < 0)
		return -1;
	for (size_t i = 0; i < names.len; i++) {
		cleanup_free char *p = NULL;
		if (fnmatch(comp, names.v[i], 0) != 0)
			continue;
		p = path_join(prefix, names.v[i]);
		if (next) {
			if (glob_walk(s, p, next, out, err) < 0)
				return -1;
		} else if (!excluded(s, p)) {
			strv_push(out, p);
		}
	}
	return 0;
}

static const struct df_heredoc *find_heredoc(const struct bcopy_opts *o, const char *name)
{
	for (size_t i = 0; i < o->nheredocs; i++)
		if (!strcmp(o->heredocs[i].name, name))
			return &o->heredocs[i];
	return NULL;
}

/* Every source to what it names, in order; globs sorted. */
static int expand_sources(const struct bcopy_src *s, const struct bcopy_opts *o, struct matches *m, bool *ret_multi,
			  struct skiff_err **err)
{
	bool multi = false;
	if (!o->srcs || o->srcs->len == 0)
		return err_makex(err, EINVAL, "%s failed: no source files were specified", verb(o));
	for (size_t i = 0; i < o->srcs->len; i++) {
		const char *src = o->srcs->v[i];
		cleanup_free char *clean = NULL;
		cleanup_err struct skiff_err *e = NULL;

		if (!strncmp(src, "<<", 2)) {
			const struct df_heredoc *hd = find_heredoc(o, src + 2);
			if (!hd)
				return err_makex(err, EINVAL, "%s: no here-document named %s", verb(o), src + 2);
			matches_push(m, M_HEREDOC, NULL, hd, NULL);
			continue;
		}
		if (copy_is_url(src)) {
			if (!o->add)
				return err_makex(err, EINVAL, "COPY %s: source can't be a URL (use ADD)", src);
			matches_push(m, M_URL, NULL, NULL, src);
			continue;
		}
		if (path_clean(src, &clean, &e) < 0)
			return err_makex(err, EPERM, "%s failed: forbidden path outside the build context: %s", verb(o),
					 src);
		if (has_meta(clean)) {
			cleanup_strv struct strv found = STRV_INIT;
			if (glob_walk(s, ".", clean, &found, err) < 0)
				return err_wrap(err, "%s %s", verb(o), src);
			if (found.len == 0)
				return err_makex(err, ENOENT,
						 "%s failed: no source files were specified (%s matches nothing)",
						 verb(o), src);
			if (found.len > 1)
				multi = true;
			for (size_t j = 0; j < found.len; j++)
				matches_push(m, M_PATH, xstrdup(found.v[j]), NULL, NULL);
			continue;
		}
		{
			cleanup_close int fd = pathres_open(s->rootfd, clean, O_PATH, 0, PATHRES_IN_ROOT, &e);
			struct stat st;
			bool dir = fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
			if (fd < 0 && err_status(e) != ENOENT && err_status(e) != ENOTDIR) {
				*err = TAKE_PTR(e);
				return err_wrap(err, "%s %s", verb(o), src);
			}
			if (fd < 0 || (excluded(s, clean) && !(dir && df_ignore_may_reinclude(s->ignore, clean))))
				return err_makex(err, ENOENT,
						 "%s failed: file not found in build context or excluded by "
						 ".dockerignore: stat %s: no such file or directory",
						 verb(o), src);
		}
		matches_push(m, M_PATH, TAKE_PTR(clean), NULL, NULL);
	}
	*ret_multi = multi || m->n > 1;
	return 0;
}

/* ---- the walk: one traversal for copying and for the cache key ---- */

struct cp {
	const struct bcopy_src *s;
	const struct bcopy_opts *o;
	int dstroot;
	struct digester *dg;  /* digest mode: hash, write nothing */
	struct hashmap links; /* "dev:ino" -> destination path (in dstroot) of the first copy */
};

static void hash_str(struct digester *dg, char tag, const char *s, size_t len)
{
	unsigned char hdr[9];
	hdr[0] = (unsigned char)tag;
	for (int i = 0; i < 8; i++)
		hdr[1 + i] = (unsigned char)((uint64_t)len >> (8 * i));
	digester_update(dg, hdr, sizeof(hdr));
	digester_update(dg, s, len);
}

static void hash_u64(struct digester *dg, char tag, uint64_t v)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
	hash_str(dg, tag, b, (size_t)n);
}

static int hash_content(struct digester *dg, int fd, const struct stat *st, const char *path, struct skiff_err **err)
{
	char buf[65536];
	ssize_t n;
	hash_u64(dg, 'S', (uint64_t)st->st_size);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_make(err, errno, "read %s", path);
		}
		digester_update(dg, buf, (size_t)n);
	}
	return 0;
}

static mode_t want_mode(const struct cp *c, const struct stat *st)
{
	return c->o->have_chmod ? (c->o->mode & 07777) : (st->st_mode & 07777);
}

/* Apply owner, mode and times to fd (a file or directory just written). */
static int set_meta_fd(const struct cp *c, int fd, mode_t mode, const struct stat *st, const char *path,
		       struct skiff_err **err)
{
	if (!c->o->ignore_owners && fchown(fd, c->o->have_chown ? c->o->uid : 0, c->o->have_chown ? c->o->gid : 0) < 0)
		return err_make(err, errno, "chown %s", path);
	if (fchmod(fd, mode) < 0)
		return err_make(err, errno, "chmod %s", path);
	if (st) {
		struct timespec ts[2] = {st->st_atim, st->st_mtim};
		if (futimens(fd, ts) < 0)
			return err_make(err, errno, "set times of %s", path);
	}
	return 0;
}

/* Open (making it when missing) the directory at the cleaned path rel of the destination
 * root, following symlinks only inside the root. Made directories are 0755, owned by the
 * --chown owner (else root), as podman does. */
static int dest_dir_depth(const struct cp *c, const char *rel, int depth, struct skiff_err **err);

/* Lexically clean path as if it were absolute inside a root: ".." at the root stays there. */
static char *clean_in_root(const char *path)
{
	cleanup_strv struct strv parts = STRV_INIT, out = STRV_INIT;
	struct strbuf sb = STRBUF_INIT;
	strv_split(&parts, path, '/');
	for (size_t i = 0; i < parts.len; i++) {
		const char *p = parts.v[i];
		if (!*p || !strcmp(p, "."))
			continue;
		if (!strcmp(p, "..")) {
			if (out.len)
				strv_remove(&out, out.len - 1);
			continue;
		}
		strv_push(&out, p);
	}
	for (size_t i = 0; i < out.len; i++) {
		if (i)
			strbuf_addch(&sb, '/');
		strbuf_addstr(&sb, out.v[i]);
	}
	if (!sb.len)
		strbuf_addch(&sb, '.');
	return strbuf_detach(&sb, NULL);
}

/* prefix (whose last component comp, in dir) is a dangling symlink: make the directory it
 * names, inside the root, and what follows it (rest). */
static int dest_dir_via_link(const struct cp *c, int dir, const char *comp, const char *prefix, const char *rest,
			     int depth, struct skiff_err **err)
{
	char target[PATH_MAX + 1];
	ssize_t n;
	cleanup_free char *parent = NULL, *joined = NULL, *clean = NULL;
	const char *slash = strrchr(prefix, '/');
	if (depth >= 40)
		return err_makex(err, ELOOP, "mkdir /%s: too many levels of symbolic links", prefix);
	n = readlinkat(dir, comp, target, PATH_MAX);
	if (n < 0)
		return err_make(err, errno == EINVAL ? EEXIST : errno, "mkdir /%s", prefix);
	target[n] = '\0';
	parent = slash ? xstrndup(prefix, (size_t)(slash - prefix)) : xstrdup("");
	joined = xasprintf("%s/%s/%s", target[0] == '/' ? "" : parent, target, rest);
	clean = clean_in_root(joined);
	return dest_dir_depth(c, clean, depth + 1, err);
}

static int dest_dir(const struct cp *c, const char *rel, struct skiff_err **err)
{
	return dest_dir_depth(c, rel, 0, err);
}

static int dest_dir_depth(const struct cp *c, const char *rel, int depth, struct skiff_err **err)
{
	cleanup_err struct skiff_err *e = NULL;
	int fd = pathres_open(c->dstroot, rel, O_RDONLY | O_DIRECTORY, 0, PATHRES_IN_ROOT, &e);
	cleanup_close int cur = -1;
	cleanup_strbuf struct strbuf prefix = STRBUF_INIT;
	const char *p = rel;

	if (fd >= 0)
		return fd;
	if (err_status(e) != ENOENT) {
		*err = TAKE_PTR(e);
		return -1;
	}
	err_clear(&e);
	cur = pathres_open(c->dstroot, ".", O_RDONLY | O_DIRECTORY, 0, PATHRES_IN_ROOT, err);
	if (cur < 0)
		return -1;
	while (*p) {
		size_t len = strcspn(p, "/");
		cleanup_free char *comp = xstrndup(p, len);
		int nfd;
		if (prefix.len)
			strbuf_addch(&prefix, '/');
		strbuf_add(&prefix, p, len);
		p += len;
		if (*p == '/')
			p++;
		nfd = pathres_open(c->dstroot, prefix.buf, O_RDONLY | O_DIRECTORY, 0, PATHRES_IN_ROOT, &e);
		if (nfd < 0) {
			if (err_status(e) != ENOENT) {
				*err = TAKE_PTR(e);
				return -1;
			}
			err_clear(&e);
			if (mkdirat(cur, comp, 0755) < 0) {
				if (errno == EEXIST)
					return dest_dir_via_link(c, cur, comp, prefix.buf, p, depth, err);
				return err_make(err, errno, "mkdir /%s", prefix.buf);
			}
			nfd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (nfd < 0)
				return err_make(err, errno, "open /%s", prefix.buf);
			if (fchmod(nfd, 0755) < 0 ||
			    (!c->o->ignore_owners &&
			     fchown(nfd, c->o->have_chown ? c->o->uid : 0, c->o->have_chown ? c->o->gid : 0) < 0)) {
				int saved = errno;
				close(nfd);
				return err_make(err, saved, "set owner of /%s", prefix.buf);
			}
		}
		close(cur);
		cur = nfd;
	}
	return TAKE_FD(cur);
}

/* The directory name in dstdir (dpath its path in the destination root) for a copied
 * directory: made when missing; an existing one is used (a symlink to one is followed
 * inside the root); anything else is replaced. */
static int make_dir_at(const struct cp *c, int dstdir, const char *name, const char *dpath, struct skiff_err **err)
{
	struct stat st;
	int fd;
	if (mkdirat(dstdir, name, 0700) < 0) {
		if (errno != EEXIST)
			return err_make(err, errno, "mkdir /%s", dpath);
		if (fstatat(dstdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return err_make(err, errno, "stat /%s", dpath);
		if (S_ISLNK(st.st_mode)) {
			cleanup_err struct skiff_err *e = NULL;
			fd = pathres_open(c->dstroot, dpath, O_RDONLY | O_DIRECTORY, 0, PATHRES_IN_ROOT, &e);
			if (fd >= 0)
				return fd;
		} else if (S_ISDIR(st.st_mode)) {
			goto open;
		}
		if (unlinkat(dstdir, name, 0) < 0 || mkdirat(dstdir, name, 0700) < 0)
			return err_make(err, errno, "replace /%s with a directory", dpath);
	}
open:
	fd = openat(dstdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_make(err, errno, "open /%s", dpath);
	return fd;
}

static int visit_tree(struct cp *c, int srcdir, const char *spath, int dstdir, const char *dpath, const char *hrel,
		      struct skiff_err **err);

/* One entry name of srcdir (its source path spath) to name in dstdir (dpath); hrel is its
 * path relative to the match, for the cache key. */
static int visit(struct cp *c, int srcdir, const char *sname, const char *spath, const struct stat *st, int dstdir,
		 const char *dname, const char *dpath, const char *hrel, struct skiff_err **err)
{
	mode_t mode = want_mode(c, st);

	if (c->dg) {
		hash_str(c->dg, 'P', hrel, strlen(hrel));
		hash_u64(c->dg, 'T', (uint64_t)(st->st_mode & S_IFMT));
		hash_u64(c->dg, 'M', (uint64_t)(st->st_mode & 07777));
	}
	if (S_ISDIR(st->st_mode)) {
		cleanup_close int sfd = openat(srcdir, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		cleanup_close int dfd = -1;
		if (sfd < 0)
			return err_make(err, errno, "open %s", spath);
		if (!c->dg) {
			dfd = make_dir_at(c, dstdir, dname, dpath, err);
			if (dfd < 0)
				return -1;
		}
		if (visit_tree(c, sfd, spath, dfd, dpath, hrel, err) < 0)
			return -1;
		return c->dg ? 0 : set_meta_fd(c, dfd, mode, st, dpath, err);
	}
	if (S_ISREG(st->st_mode)) {
		cleanup_close int sfd = openat(srcdir, sname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		cleanup_close int dfd = -1;
		char key[64];
		if (sfd < 0)
			return err_make(err, errno, "open %s", spath);
		if (c->dg)
			return hash_content(c->dg, sfd, st, spath, err);
		if (copy_replace_nondir(dstdir, dname, dpath, err) < 0)
			return -1;
		if (st->st_nlink > 1) {
			const char *first;
			snprintf(key, sizeof(key), "%llu:%llu", (unsigned long long)st->st_dev,
				 (unsigned long long)st->st_ino);
			first = hashmap_get(&c->links, key);
			if (first) {
				cleanup_free char *base = NULL;
				cleanup_err struct skiff_err *e = NULL;
				cleanup_close int pfd = pathres_open_parent(c->dstroot, first, 0, &base, &e);
				if (pfd >= 0 && linkat(pfd, base, dstdir, dname, 0) == 0)
					return 0;
				/* not linkable (a symlinked parent, another mount): copy it */
			} else {
				hashmap_put(&c->links, key, xstrdup(dpath), NULL);
			}
		}
		dfd = openat(dstdir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (dfd < 0)
			return err_make(err, errno, "create /%s", dpath);
		if (copy_fd(sfd, dfd, NULL) < 0)
			return err_make(err, errno, "copy %s to /%s", spath, dpath);
		return set_meta_fd(c, dfd, mode, st, dpath, err);
	}
	if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX + 1];
		ssize_t n = readlinkat(srcdir, sname, target, PATH_MAX);
		struct timespec ts[2] = {st->st_atim, st->st_mtim};
		if (n < 0)
			return err_make(err, errno, "readlink %s", spath);
		target[n] = '\0';
		if (c->dg) {
			hash_str(c->dg, 'L', target, (size_t)n);
			return 0;
		}
		if (copy_replace_nondir(dstdir, dname, dpath, err) < 0)
			return -1;
		if (symlinkat(target, dstdir, dname) < 0)
			return err_make(err, errno, "symlink /%s", dpath);
		if (!c->o->ignore_owners && fchownat(dstdir, dname, c->o->have_chown ? c->o->uid : 0,
						     c->o->have_chown ? c->o->gid : 0, AT_SYMLINK_NOFOLLOW) < 0)
			return err_make(err, errno, "chown /%s", dpath);
		(void)utimensat(dstdir, dname, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	if (S_ISFIFO(st->st_mode) || S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		if (c->dg) {
			hash_u64(c->dg, 'D', (uint64_t)st->st_rdev);
			return 0;
		}
		if (copy_replace_nondir(dstdir, dname, dpath, err) < 0)
			return -1;
		if (mknodat(dstdir, dname, (st->st_mode & S_IFMT) | mode, st->st_rdev) < 0) {
			if (errno == EPERM && !S_ISFIFO(st->st_mode))
				return 0; /* unprivileged: devices are skipped */
			return err_make(err, errno, "mknod /%s", dpath);
		}
		if (!c->o->ignore_owners && fchownat(dstdir, dname, c->o->have_chown ? c->o->uid : 0,
						     c->o->have_chown ? c->o->gid : 0, AT_SYMLINK_NOFOLLOW) < 0)
			return err_make(err, errno, "chown /%s", dpath);
		return 0;
	}
	return 0; /* sockets are not copied */
}

static int visit_tree(struct cp *c, int srcdir, const char *spath, int dstdir, const char *dpath, const char *hrel,
		      struct skiff_err **err)
{
	cleanup_strv struct strv names = STRV_INIT;
	if (list_dir(srcdir, spath, &names, err) < 0)
		return -1;
	for (size_t i = 0; i < names.len; i++) {
		const char *name = names.v[i];
		cleanup_free char *sp = path_join(spath, name);
		cleanup_free char *dp = path_join(dpath, name);
		cleanup_free char *hp = path_join(hrel, name);
		struct stat st;
		if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			return err_make(err, errno, "stat %s", sp);
		}
		if (excluded(c->s, sp) && !(S_ISDIR(st.st_mode) && df_ignore_may_reinclude(c->s->ignore, sp)))
			continue;
		if (visit(c, srcdir, name, sp, &st, dstdir, name, dp, hp, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- placing one match ---- */

struct dest {
	char *path; /* cleaned, relative to the destination root */
	bool dir;   /* a directory: things go inside it */
};

static int write_heredoc(const struct cp *c, const struct df_heredoc *hd, int dstdir, const char *name,
			 const char *dpath, struct skiff_err **err)
{
	cleanup_close int fd = -1;
	if (copy_replace_nondir(dstdir, name, dpath, err) < 0)
		return -1;
	fd = openat(dstdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_make(err, errno, "create /%s", dpath);
	if (write_all(fd, hd->body, strlen(hd->body)) < 0)
		return err_make(err, errno, "write /%s", dpath);
	return set_meta_fd(c, fd, c->o->have_chmod ? (c->o->mode & 07777) : 0644, NULL, dpath, err);
}

/* Split d->path + name into the parent directory fd (made) and the final name. */
static int dest_file(const struct cp *c, const struct dest *d, const char *name, char **ret_name, char **ret_path,
		     struct skiff_err **err)
{
	cleanup_free char *full = d->dir ? path_join(d->path, name) : xstrdup(d->path);
	cleanup_free char *parent = NULL;
	char *slash = strrchr(full, '/');
	int fd;
	if (!strcmp(full, "."))
		return err_makex(err, EINVAL, "destination is the root directory");
	parent = slash ? xstrndup(full, (size_t)(slash - full)) : xstrdup(".");
	fd = dest_dir(c, parent, err);
	if (fd < 0)
		return -1;
	*ret_name = xstrdup(slash ? slash + 1 : full);
	*ret_path = TAKE_PTR(full);
	return fd;
}

static int place(struct cp *c, const struct match *m, const struct dest *d, struct skiff_err **err)
{
	const struct bcopy_opts *o = c->o;
	cleanup_free char *name = NULL, *dpath = NULL;
	cleanup_close int pfd = -1;

	if (m->kind == M_HEREDOC) {
		pfd = dest_file(c, d, m->hd->name, &name, &dpath, err);
		return pfd < 0 ? -1 : write_heredoc(c, m->hd, pfd, name, dpath, err);
	}
	if (m->kind == M_URL) {
		cleanup_free char *base = copy_url_basename(m->url);
		struct copy_owner own = {o->ignore_owners, true, o->have_chown ? o->uid : 0,
					 o->have_chown ? o->gid : 0};
		if (d->dir && !*base)
			return err_makex(err, EINVAL,
					 "ADD %s: cannot tell a file name from the URL: name the destination file",
					 m->url);
		pfd = dest_file(c, d, base, &name, &dpath, err);
		return pfd < 0 ? -1 : copy_fetch_url(m->url, pfd, name, &own, err);
	}

	cleanup_close int sfd = pathres_open(c->s->rootfd, m->path, O_RDONLY, 0, PATHRES_IN_ROOT, err);
	struct stat st;
	if (sfd < 0)
		return -1;
	if (fstat(sfd, &st) < 0)
		return err_make(err, errno, "stat %s", m->path);
	if (S_ISDIR(st.st_mode)) {
		cleanup_close int dfd = dest_dir(c, d->path, err);
		if (dfd < 0)
			return -1;
		return visit_tree(c, sfd, m->path, dfd, d->path, ".", err);
	}
	if (o->add && c->s->is_context && S_ISREG(st.st_mode) && copy_is_tar(sfd)) {
		struct copy_owner own = {o->ignore_owners, o->have_chown, o->uid, o->gid};
		cleanup_close int dfd = dest_dir(c, d->path, err);
		if (dfd < 0)
			return -1;
		if (copy_extract_tar(sfd, dfd, &own, err) < 0)
			return err_wrap(err, "ADD %s", m->path);
		return 0;
	}
	{
		const char *slash = strrchr(m->path, '/');
		const char *base = slash ? slash + 1 : m->path;
		pfd = dest_file(c, d, base, &name, &dpath, err);
		if (pfd < 0)
			return -1;
		if (!S_ISREG(st.st_mode)) {
			/* a fifo or device: made from its parent, as inside a directory */
			cleanup_free char *parent = slash ? xstrndup(m->path, (size_t)(slash - m->path)) : xstrdup(".");
			cleanup_close int sdir =
				pathres_open(c->s->rootfd, parent, O_RDONLY | O_DIRECTORY, 0, PATHRES_IN_ROOT, err);
			if (sdir < 0)
				return -1;
			return visit(c, sdir, base, m->path, &st, pfd, name, dpath, ".", err);
		}
		/* through the resolved fd: a symlink source copies what it names */
		cleanup_close int dfd = -1;
		if (copy_replace_nondir(pfd, name, dpath, err) < 0)
			return -1;
		dfd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (dfd < 0)
			return err_make(err, errno, "create /%s", dpath);
		if (copy_fd(sfd, dfd, NULL) < 0)
			return err_make(err, errno, "copy %s to /%s", m->path, dpath);
		return set_meta_fd(c, dfd, want_mode(c, &st), &st, dpath, err);
	}
}

/* dest against workdir, cleaned; whether it names a directory. */
static int resolve_dest(const struct cp *c, bool multi, const struct matches *m, struct dest *ret,
			struct skiff_err **err)
{
	const struct bcopy_opts *o = c->o;
	const char *dest = o->dest && *o->dest ? o->dest : ".";
	const char *wd = o->workdir && *o->workdir ? o->workdir : "/";
	cleanup_free char *full = dest[0] == '/' ? xstrdup(dest) : xasprintf("%s/%s", wd, dest);
	cleanup_free char *clean = NULL;
	size_t dl = strlen(dest);
	bool dir = dest[dl - 1] == '/' || !strcmp(dest, ".") || (dl >= 2 && !strcmp(dest + dl - 2, "/.")) ||
		   !strcmp(dest, "..") || (dl >= 3 && !strcmp(dest + dl - 3, "/.."));

	if (path_clean(full, &clean, err) < 0)
		return err_wrap(err, "%s destination %s", verb(o), dest);
	if (!strcmp(clean, "."))
		dir = true;
	if (!dir) {
		cleanup_err struct skiff_err *e = NULL;
		cleanup_close int fd = pathres_open(c->dstroot, clean, O_RDONLY | O_DIRECTORY, 0, PATHRES_IN_ROOT, &e);
		if (fd >= 0)
			dir = true;
	}
	if (multi && !dir)
		return err_makex(err, EINVAL,
				 "When using %s with more than one source file, the destination must be a directory "
				 "and end with a / (%s)",
				 verb(o), dest);
	(void)m;
	ret->path = TAKE_PTR(clean);
	ret->dir = dir;
	return 0;
}

int bcopy_run(const struct bcopy_src *s, int dest_rootfd, const struct bcopy_opts *o, struct skiff_err **err)
{
	cleanup_matches struct matches m = {0};
	struct cp c = {.s = s, .o = o, .dstroot = dest_rootfd, .links = HASHMAP_INIT};
	struct dest d = {0};
	bool multi = false;
	int rc = 0;

	if (expand_sources(s, o, &m, &multi, err) < 0)
		return -1;
	if (resolve_dest(&c, multi, &m, &d, err) < 0)
		return -1;
	for (size_t i = 0; i < m.n && rc == 0; i++)
		rc = place(&c, &m.v[i], &d, err);
	free(d.path);
	hashmap_release(&c.links, free);
	return rc;
}

int bcopy_digest(const struct bcopy_src *s, const struct bcopy_opts *o, char **ret_digest, struct skiff_err **err)
{
	cleanup_matches struct matches m = {0};
	cleanup_digester struct digester *dg = digester_new();
	struct cp c = {.s = s, .o = o, .dstroot = -1, .dg = dg, .links = HASHMAP_INIT};
	char out[DIGEST_STR_LEN + 1];
	bool multi = false;

	if (expand_sources(s, o, &m, &multi, err) < 0)
		return -1;
	for (size_t i = 0; i < m.n; i++) {
		const struct match *mt = &m.v[i];
		hash_u64(dg, 'm', i);
		if (mt->kind == M_HEREDOC) {
			hash_str(dg, 'h', mt->hd->name, strlen(mt->hd->name));
			hash_str(dg, 'b', mt->hd->body, strlen(mt->hd->body));
			continue;
		}
		if (mt->kind == M_URL) {
			hash_str(dg, 'u', mt->url, strlen(mt->url));
			continue;
		}
		cleanup_close int sfd = pathres_open(s->rootfd, mt->path, O_RDONLY, 0, PATHRES_IN_ROOT, err);
		struct stat st;
		hash_str(dg, 's', mt->path, strlen(mt->path));
		if (sfd < 0)
			return -1;
		if (fstat(sfd, &st) < 0)
			return err_make(err, errno, "stat %s", mt->path);
		if (S_ISDIR(st.st_mode)) {
			hash_u64(dg, 'T', (uint64_t)S_IFDIR);
			if (visit_tree(&c, sfd, mt->path, -1, ".", ".", err) < 0)
				return -1;
			continue;
		}
		/* a file (or what a symlink source names), through the resolved fd */
		hash_u64(dg, 'T', (uint64_t)(st.st_mode & S_IFMT));
		hash_u64(dg, 'M', (uint64_t)(st.st_mode & 07777));
		if (S_ISREG(st.st_mode) && hash_content(dg, sfd, &st, mt->path, err) < 0)
			return -1;
	}
	digester_final(dg, out);
	*ret_digest = xstrdup(out);
	return 0;
}

/* ---- --chown ---- */

static bool parse_id(const char *s, unsigned long *ret)
{
	char *end;
	unsigned long v;
	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 0xfffffffeUL)
		return false;
	*ret = v;
	return true;
}

/* The line of a passwd/group file (read inside rootfd) whose field 0 is name, or (name
 * NULL) whose field 2 is id; its fields in ret. false when none. */
static bool db_find(const char *buf, const char *name, unsigned long id, struct strv *ret)
{
	const char *line = buf;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		cleanup_free char *l = nl ? xstrndup(line, (size_t)(nl - line)) : xstrdup(line);
		cleanup_strv struct strv f = STRV_INIT;
		unsigned long v;
		line = nl ? nl + 1 : NULL;
		if (!*l || *l == '#')
			continue;
		strv_split(&f, l, ':');
		if (f.len < 4)
			continue;
		if (name ? !strcmp(f.v[0], name) : (parse_id(f.v[2], &v) && v == id)) {
			*ret = f;
			f = (struct strv)STRV_INIT;
			return true;
		}
	}
	return false;
}

static int read_db(int rootfd, const char *path, char **ret, struct skiff_err **err)
{
	cleanup_err struct skiff_err *e = NULL;
	cleanup_close int fd = pathres_open(rootfd, path, O_RDONLY, 0, PATHRES_IN_ROOT, &e);
	if (fd < 0) {
		if (err_status(e) == ENOENT || err_status(e) == ENOTDIR) {
			*ret = xstrdup("");
			return 0;
		}
		*err = TAKE_PTR(e);
		return -1;
	}
	return read_all_fd(fd, 16u << 20, ret, NULL, err) < 0 ? err_wrap(err, "read /%s", path) : 0;
}

int bcopy_chown_lookup(int rootfd, const char *spec, uid_t *ret_uid, gid_t *ret_gid, struct skiff_err **err)
{
	cleanup_free char *user = NULL, *passwd = NULL, *group = NULL;
	const char *colon = strchr(spec, ':');
	const char *grp = colon ? colon + 1 : NULL;
	unsigned long uid, gid;
	bool have_gid = false;

	user = colon ? xstrndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
	if (!*user || (grp && !*grp) || (grp && strchr(grp, ':')))
		return err_makex(err, EINVAL, "invalid --chown value \"%s\": want user[:group]", spec);
	if (read_db(rootfd, "etc/passwd", &passwd, err) < 0)
		return -1;
	if (parse_id(user, &uid)) {
		/* a numeric user alone is uid:uid, whatever passwd says (as podman/buildah) */
	} else {
		cleanup_strv struct strv f = STRV_INIT;
		if (!db_find(passwd, user, 0, &f) || !parse_id(f.v[2], &uid))
			return err_makex(err, ENOENT, "--chown %s: no such user: %s", spec, user);
		if (!grp && parse_id(f.v[3], &gid))
			have_gid = true;
	}
	if (grp) {
		if (!parse_id(grp, &gid)) {
			cleanup_strv struct strv f = STRV_INIT;
			if (read_db(rootfd, "etc/group", &group, err) < 0)
				return -1;
			if (!db_find(group, grp, 0, &f) || !parse_id(f.v[2], &gid))
				return err_makex(err, ENOENT, "--chown %s: no such group: %s", spec, grp);
		}
		have_gid = true;
	}
	if (!have_gid)
		gid = uid;
	*ret_uid = (uid_t)uid;
	*ret_gid = (gid_t)gid;
	return 0;
}
