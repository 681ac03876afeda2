#include "vendor-free/pathres.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2_H 1
#endif
#endif

#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/strv.h"
#include "vendor-free/xalloc.h"

#ifndef HAVE_OPENAT2_H
struct open_how {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
#endif

#ifndef SYS_openat2
#define SYS_openat2 437 /* the same number on every architecture */
#endif

#define MAX_SYMLINKS 40 /* as the kernel's MAXSYMLINKS */
#define EAGAIN_RETRIES 16

int path_clean(const char *in, char **ret, struct skiff_err **err)
{
	struct strbuf out = STRBUF_INIT;
	const char *p = in;

	while (*p) {
		const char *e;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *slash;
			if (out.len == 0) {
				strbuf_release(&out);
				return err_makex(err, EINVAL, "path \"%s\" escapes the root", in);
			}
			slash = memrchr(out.buf, '/', out.len);
			strbuf_setlen(&out, slash ? (size_t)(slash - out.buf) : 0);
		} else {
			if (out.len)
				strbuf_addch(&out, '/');
			strbuf_add(&out, p, n);
		}
		p = e;
	}
	if (!out.len)
		strbuf_addch(&out, '.');
	*ret = strbuf_detach(&out, NULL);
	return 0;
}

static int sys_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
	struct open_how how;
	bool wants_mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(unsigned)flags;
	how.mode = wants_mode ? (uint64_t)(mode & 07777) : 0;
	how.resolve = resolve;
	for (int i = 0; i < EAGAIN_RETRIES; i++) {
		long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN && errno != EINTR)
			break;
	}
	return -1;
}

/* openat2() is missing or refused (seccomp filters answer ENOSYS or EPERM): walk instead.
 * The walk is as safe, only slower; a genuine EPERM comes back from it as well. */
static bool openat2_unusable(int e)
{
	return e == ENOSYS || e == EPERM || e == E2BIG || e == EAGAIN || e == ENAMETOOLONG;
}

static int open_error(struct skiff_err **err, int e, const char *path)
{
	if (e == EXDEV)
		return err_makex(err, EXDEV, "open %s: path escapes the root", path);
	return err_make(err, e, "open %s", path);
}

/* Push the components of path onto todo in reverse order (the last one pushed is the
 * next to resolve); empty and "." components are dropped. */
static void push_components(struct strv *todo, const char *path)
{
	cleanup_strv struct strv parts = STRV_INIT;

	strv_split(&parts, path, '/');
	for (size_t i = parts.len; i > 0; i--) {
		const char *c = parts.v[i - 1];
		if (!*c || !strcmp(c, "."))
			continue;
		strv_push(todo, c);
	}
}

static char *strv_pop(struct strv *sv)
{
	char *s = sv->v[sv->len - 1];
	sv->v[--sv->len] = NULL;
	return s;
}

static int readlink_alloc(int dirfd, const char *name, char **ret)
{
	size_t size = 256;

	for (;;) {
		char *buf = xmalloc(size);
		ssize_t n = readlinkat(dirfd, name, buf, size);
		if (n < 0) {
			free(buf);
			return -1;
		}
		if ((size_t)n < size) {
			buf[n] = '\0';
			*ret = buf;
			return 0;
		}
		free(buf);
		if (size >= (1u << 20)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		size *= 2;
	}
}

struct walk {
	int rootfd;
	unsigned how;
	const char *path; /* for messages */
	int *fds;	  /* fds[0] is rootfd (not owned), fds[1..depth] are owned */
	size_t depth, alloc;
	struct strv todo;
	unsigned links;
};

static void walk_release(struct walk *w)
{
	for (size_t i = 1; i <= w->depth; i++)
		close(w->fds[i]);
	free(w->fds);
	strv_release(&w->todo);
}

static void walk_pop_to_root(struct walk *w)
{
	while (w->depth > 0)
		close(w->fds[w->depth--]);
}

/* The component name in the current directory is a symlink: queue its target. */
static int walk_follow(struct walk *w, const char *name, struct skiff_err **err)
{
	cleanup_free char *target = NULL;
	int cur = w->fds[w->depth];

	if (w->how & PATHRES_NO_SYMLINKS)
		return err_make(err, ELOOP, "open %s", w->path);
	if (++w->links > MAX_SYMLINKS)
		return err_make(err, ELOOP, "open %s", w->path);
	if (readlink_alloc(cur, name, &target) < 0)
		return err_make(err, errno, "open %s: readlink %s", w->path, name);
	if (target[0] == '/') {
		if (!(w->how & PATHRES_IN_ROOT))
			return open_error(err, EXDEV, w->path);
		walk_pop_to_root(w);
	}
	if (!*target)
		return err_make(err, ENOENT, "open %s", w->path);
	push_components(&w->todo, target);
	return 0;
}

static int walk_open(int rootfd, const char *rel, int flags, mode_t mode, unsigned how, const char *path,
		     struct skiff_err **err)
{
	struct walk w = {.rootfd = rootfd, .how = how, .path = path, .todo = STRV_INIT};
	size_t len = strlen(rel);
	bool must_dir = len > 0 && rel[len - 1] == '/';
	int ret = -1;

	ALLOC_GROW(w.fds, 1, w.alloc);
	w.fds[0] = rootfd;
	push_components(&w.todo, rel);

	for (;;) {
		cleanup_free char *comp = NULL;
		int cur = w.fds[w.depth];
		struct stat st;
		bool last;
		int fd;

		if (w.todo.len == 0) { /* the path names the directory we are in */
			fd = openat(cur, ".", flags | (must_dir ? O_DIRECTORY : 0), mode);
			if (fd < 0) {
				open_error(err, errno, path);
				break;
			}
			ret = fd;
			break;
		}
		comp = strv_pop(&w.todo);
		last = w.todo.len == 0;
		if (!strcmp(comp, "..")) {
			if (w.depth > 0)
				close(w.fds[w.depth--]);
			else if (!(how & PATHRES_IN_ROOT)) {
				open_error(err, EXDEV, path);
				break;
			}
			continue;
		}
		if (!last) {
			fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				open_error(err, errno, path);
				break;
			}
			if (fstat(fd, &st) < 0) {
				err_make(err, errno, "open %s: stat %s", path, comp);
				close(fd);
				break;
			}
			if (S_ISLNK(st.st_mode)) {
				close(fd);
				if (walk_follow(&w, comp, err) < 0)
					break;
				continue;
			}
			if (!S_ISDIR(st.st_mode)) {
				close(fd);
				open_error(err, ENOTDIR, path);
				break;
			}
			ALLOC_GROW(w.fds, w.depth + 2, w.alloc);
			w.fds[++w.depth] = fd;
			continue;
		}

		/* the last component: open it with the caller's flags */
		bool follow = !(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL));
		if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) && follow) {
			if (walk_follow(&w, comp, err) < 0)
				break;
			continue;
		}
		/* O_NOFOLLOW: a symlink swapped in since the fstatat() is refused, not followed */
		fd = openat(cur, comp, flags | O_NOFOLLOW | (must_dir ? O_DIRECTORY : 0), mode);
		if (fd < 0) {
			open_error(err, errno, path);
			break;
		}
		if (follow && (flags & O_PATH)) {
			if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
				close(fd);
				err_make(err, ELOOP, "open %s", path);
				break;
			}
		}
		ret = fd;
		break;
	}
	walk_release(&w);
	return ret;
}

int pathres_open(int rootfd, const char *path, int flags, mode_t mode, unsigned how, struct skiff_err **err)
{
	const char *rel = path;

	while (*rel == '/')
		rel++;
	if (!*rel)
		rel = ".";
	flags |= O_CLOEXEC;
	if (!(how & PATHRES_WALK) && strlen(rel) < PATH_MAX) {
		uint64_t resolve = RESOLVE_NO_MAGICLINKS;
		int fd;

		resolve |= (how & PATHRES_IN_ROOT) ? RESOLVE_IN_ROOT : RESOLVE_BENEATH;
		if (how & PATHRES_NO_SYMLINKS)
			resolve |= RESOLVE_NO_SYMLINKS;
		fd = sys_openat2(rootfd, rel, flags, mode, resolve);
		if (fd >= 0)
			return fd;
		if (!openat2_unusable(errno))
			return open_error(err, errno, path);
	}
	return walk_open(rootfd, rel, flags, mode, how, path, err);
}

/* Open (creating when asked) the directory dir inside rootfd one component at a time,
 * never following a symlink. dir is clean and relative. */
static int parent_walk(int rootfd, const char *dir, bool mkdir, const char *path, struct skiff_err **err)
{
	cleanup_strv struct strv parts = STRV_INIT;
	struct strbuf prefix = STRBUF_INIT;
	int cur = rootfd;

	strv_split(&parts, dir, '/');
	for (size_t i = 0; i < parts.len; i++) {
		const char *comp = parts.v[i];
		struct stat st;
		int fd;

		if (prefix.len)
			strbuf_addch(&prefix, '/');
		strbuf_addstr(&prefix, comp);
		fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && mkdir) {
			if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST) {
				err_make(err, errno, "%s: mkdir %s", path, prefix.buf);
				goto fail;
			}
			fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			/* the umask may have taken bits off: make it exactly 0755 */
			if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) != 0755) {
				int rfd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (rfd < 0 || fchmod(rfd, 0755) < 0) {
					err_make(err, errno, "%s: chmod %s", path, prefix.buf);
					if (rfd >= 0)
						close(rfd);
					close(fd);
					goto fail;
				}
				close(rfd);
			}
		}
		if (fd < 0) {
			err_make(err, errno, "%s: open %s", path, prefix.buf);
			goto fail;
		}
		if (fstat(fd, &st) < 0) {
			err_make(err, errno, "%s: stat %s", path, prefix.buf);
			close(fd);
			goto fail;
		}
		if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
			close(fd);
			if (S_ISLNK(st.st_mode))
				err_makex(err, ELOOP, "%s: %s is a symlink", path, prefix.buf);
			else
				err_makex(err, ENOTDIR, "%s: %s is not a directory", path, prefix.buf);
			goto fail;
		}
		if (cur != rootfd)
			close(cur);
		cur = fd;
	}
	strbuf_release(&prefix);
	if (cur == rootfd) {
		cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (cur < 0)
			return err_make(err, errno, "%s: open the root", path);
	}
	return cur;
fail:
	strbuf_release(&prefix);
	if (cur != rootfd)
		close(cur);
	return -1;
}

int pathres_open_parent(int rootfd, const char *path, unsigned how, char **ret_basename, struct skiff_err **err)
{
	cleanup_free char *clean = NULL;
	char *slash;
	const char *base;
	int fd = -1;

	if (path_clean(path, &clean, err) < 0)
		return -1;
	if (!strcmp(clean, "."))
		return err_makex(err, EINVAL, "path \"%s\" names the root, which has no parent", path);
	slash = strrchr(clean, '/');
	if (!slash) {
		base = clean;
		fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return err_make(err, errno, "%s: open the root", path);
	} else {
		*slash = '\0';
		base = slash + 1;
		if (!(how & PATHRES_WALK) && strlen(clean) < PATH_MAX)
			fd = sys_openat2(rootfd, clean, O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
					 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		/* on any failure the walk creates what is missing or names the culprit */
		if (fd < 0) {
			fd = parent_walk(rootfd, clean, how & PATHRES_MKDIR, path, err);
			if (fd < 0)
				return -1;
		}
	}
	*ret_basename = xstrdup(base);
	return fd;
}
