#include "vendor-free/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/strv.h"
#include "vendor-free/xalloc.h"

#define READ_CHUNK (64 * 1024)
#define COPY_CHUNK (128 * 1024)

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) { /* should not happen for len > 0; avoid spinning */
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int copy_rw(int in, int out, uint64_t *total)
{
	cleanup_free char *buf = xmalloc(COPY_CHUNK);

	for (;;) {
		ssize_t n = read(in, buf, COPY_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;
		if (write_all(out, buf, (size_t)n) < 0)
			return -1;
		*total += (uint64_t)n;
	}
}

int copy_fd(int in, int out, uint64_t *ret_n)
{
	uint64_t total = 0;

	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1u << 30, 0);
		if (n > 0) {
			total += (uint64_t)n;
			continue;
		}
		if (n == 0 && total > 0)
			break; /* EOF */
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP &&
		    errno != EBADF && errno != EPERM && errno != ETXTBSY)
			return -1;
		/* Not supported here (pipes, sockets, some file systems), or 0 on the
		 * first call, which some file systems (procfs, sysfs) report instead of
		 * copying: let read/write decide. */
		if (copy_rw(in, out, &total) < 0)
			return -1;
		break;
	}
	if (ret_n)
		*ret_n = total;
	return 0;
}

int read_all_fd(int fd, size_t max, char **ret, size_t *ret_len, struct skiff_err **err)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	struct stat st;
	size_t hint = READ_CHUNK;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((uint64_t)st.st_size > max)
			return err_makex(err, EFBIG, "file too large: %jd bytes, at most %zu allowed",
					 (intmax_t)st.st_size, max);
		hint = (size_t)st.st_size + 1; /* +1 to see EOF without growing */
	}
	strbuf_grow(&sb, hint);
	for (;;) {
		size_t room = sb.alloc - sb.len - 1;
		ssize_t n;

		if (room == 0) {
			strbuf_grow(&sb, READ_CHUNK);
			room = sb.alloc - sb.len - 1;
		}
		n = read(fd, sb.buf + sb.len, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_make(err, errno, "read");
		}
		if (n == 0)
			break;
		if ((size_t)n > max - sb.len) /* sb.len <= max holds here */
			return err_makex(err, EFBIG, "file too large: more than %zu bytes", max);
		strbuf_setlen(&sb, sb.len + (size_t)n);
	}
	*ret = strbuf_detach(&sb, ret_len);
	return 0;
}

int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len, struct skiff_err **err)
{
	cleanup_close int fd = -1;

	if (!name || !*name)
		return err_makex(err, EINVAL, "read file: empty name");
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_make(err, errno, "open %s", name);
	if (read_all_fd(fd, max, ret, ret_len, err) < 0)
		return err_wrap(err, "read %s", name);
	return 0;
}

int fsync_dir_at(int dirfd, const char *name, struct skiff_err **err)
{
	cleanup_close int fd = -1;
	const char *n = name && *name ? name : ".";

	fd = openat(dirfd, n, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_make(err, errno, "open directory %s", n);
	if (fsync(fd) < 0)
		return err_make(err, errno, "fsync directory %s", n);
	return 0;
}

/* A fresh temporary name for base in its directory: ".BASE.tmp-PID-RANDOM". */
static char *temp_name(const char *base)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		struct timespec ts = {0};
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r ^= ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&r;
	}
	/* stay under NAME_MAX whatever the length of base */
	return xasprintf(".%.200s.tmp-%ld-%016llx", base, (long)getpid(), (unsigned long long)r);
}

/* Write data to fd and make it durable with the final mode. */
static int fill_tmp(int fd, const void *data, size_t len, mode_t mode, const char *name, bool durable,
		    struct skiff_err **err)
{
	if (write_all(fd, data, len) < 0)
		return err_make(err, errno, "write %s", name);
	if (fchmod(fd, mode & 07777) < 0)
		return err_make(err, errno, "chmod %s", name);
	if (durable && fsync(fd) < 0)
		return err_make(err, errno, "fsync %s", name);
	return 0;
}

/*
 * O_TMPFILE path: returns 0 and the linked temporary name in *ret_tmp, 1 when
 * O_TMPFILE (or /proc for linking it) is unavailable so that the caller falls
 * back to a named temporary file, -1 on error.
 */
static int write_via_tmpfile(int pfd, const char *base, const char *name, const void *data, size_t len, mode_t mode,
			     bool durable, char **ret_tmp, struct skiff_err **err)
{
	cleanup_close int fd = -1;
	char proc[64];

	fd = openat(pfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode & 07777);
	if (fd < 0) {
		if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL || errno == ENOENT)
			return 1;
		return err_make(err, errno, "create temporary file for %s", name);
	}
	if (fill_tmp(fd, data, len, mode, name, durable, err) < 0)
		return -1;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	for (int attempt = 0; attempt < 100; attempt++) {
		cleanup_free char *tmp = temp_name(base);
		if (linkat(AT_FDCWD, proc, pfd, tmp, AT_SYMLINK_FOLLOW) == 0) {
			*ret_tmp = TAKE_PTR(tmp);
			return 0;
		}
		if (errno == EEXIST)
			continue;
		if (errno == ENOENT || errno == ENOTDIR || errno == EACCES || errno == EPERM)
			return 1; /* no /proc here */
		return err_make(err, errno, "link temporary file for %s", name);
	}
	return err_makex(err, EEXIST, "link temporary file for %s: no free temporary name", name);
}

static int write_via_named(int pfd, const char *base, const char *name, const void *data, size_t len, mode_t mode,
			   bool durable, char **ret_tmp, struct skiff_err **err)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		cleanup_free char *tmp = temp_name(base);
		cleanup_close int fd =
			openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			return err_make(err, errno, "create temporary file for %s", name);
		}
		if (fill_tmp(fd, data, len, mode, name, durable, err) < 0) {
			unlinkat(pfd, tmp, 0);
			return -1;
		}
		*ret_tmp = TAKE_PTR(tmp);
		return 0;
	}
	return err_makex(err, EEXIST, "create temporary file for %s: no free temporary name", name);
}

static int write_file(int dirfd, const char *name, const void *data, size_t len, mode_t mode, bool durable,
		      struct skiff_err **err)
{
	cleanup_free char *parent = NULL;
	cleanup_free char *tmp = NULL;
	cleanup_close int pfd = -1;
	const char *slash, *base;
	int r;

	if (!name || !*name)
		return err_makex(err, EINVAL, "write file: empty name");
	if (!data && len > 0)
		return err_makex(err, EINVAL, "write %s: no data", name);
	slash = strrchr(name, '/');
	base = slash ? slash + 1 : name;
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return err_makex(err, EINVAL, "write %s: not a file name", name);
	if (slash)
		parent = slash == name ? xstrdup("/") : xstrndup(name, (size_t)(slash - name));
	pfd = openat(dirfd, parent ? parent : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return err_make(err, errno, "write %s: open directory %s", name, parent ? parent : ".");

	r = write_via_tmpfile(pfd, base, name, data, len, mode, durable, &tmp, err);
	if (r > 0)
		r = write_via_named(pfd, base, name, data, len, mode, durable, &tmp, err);
	if (r < 0)
		return -1;
	if (renameat(pfd, tmp, pfd, base) < 0) {
		int e = errno;
		unlinkat(pfd, tmp, 0);
		return err_make(err, e, "rename temporary file to %s", name);
	}
	if (durable && fsync(pfd) < 0)
		return err_make(err, errno, "write %s: fsync directory", name);
	return 0;
}

int write_file_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode, struct skiff_err **err)
{
	return write_file(dirfd, name, data, len, mode, true, err);
}

int write_file_replace(int dirfd, const char *name, const void *data, size_t len, mode_t mode, struct skiff_err **err)
{
	return write_file(dirfd, name, data, len, mode, false, err);
}

int mkdir_p_at(int dirfd, const char *path, mode_t mode, struct skiff_err **err)
{
	cleanup_free char *copy = NULL;
	cleanup_close int cur = -1;
	char *p;

	if (!path || !*path)
		return err_makex(err, EINVAL, "mkdir: empty path");
	copy = xstrdup(path);
	p = copy;
	if (*p == '/') {
		cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (cur < 0)
			return err_make(err, errno, "mkdir %s: open /", path);
		while (*p == '/')
			p++;
	}
	while (*p) {
		char *end = strchrnul(p, '/');
		bool last = !*end;
		int at = cur >= 0 ? cur : dirfd;
		int next;

		*end = '\0';
		if (strcmp(p, ".") != 0) {
			int mk = mkdirat(at, p, mode);
			int mkerr = errno;

			next = openat(at, p, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (next < 0) {
				/* report why mkdir failed unless the name simply exists */
				int e = (mk < 0 && mkerr != EEXIST) ? mkerr : errno;
				return err_make(err, e, "mkdir %s", copy);
			}
			if (cur >= 0)
				close(cur);
			cur = next;
		}
		if (last)
			break;
		*end = '/';
		p = end;
		while (*p == '/')
			p++;
	}
	return 0;
}

/* ---- rm -rf ---- */

/* Directory fds kept open along the path; deeper down, a level closes its
 * parent's fd and gets it back through ".." (checked by device and inode),
 * so that a hostile tree deeper than RLIMIT_NOFILE still goes away. */
#define RM_FD_DEPTH 64

struct rmrf {
	dev_t dev;	    /* the device of the top directory */
	struct strbuf path; /* the path being worked on, for messages */
	struct skiff_err **err;
	unsigned failed; /* how many errors so far */
	bool lost;	 /* could not get back to a parent: stop */
};

static int rm_fail(struct rmrf *rm, int status, const char *what)
{
	rm->failed++;
	return err_make(rm->err, status, "rm -rf: %s %s", what, rm->path.buf);
}

/* Is the directory name in dfd (whose lstat is st) the root of another mount? */
static bool other_mount(const struct rmrf *rm, int dfd, const char *name, const struct stat *st)
{
	if (st->st_dev != rm->dev)
		return true;
#ifdef STATX_ATTR_MOUNT_ROOT
	struct statx sx;
	if (statx(dfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &sx) == 0 &&
	    (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		return true;
#endif
	return false;
}

/* Open directory name in dfd without following symlinks; make it searchable
 * and writable for us if needed. -1 with errno on failure. */
static int open_dir_for_removal(int dfd, const char *name)
{
	struct stat st;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

	if (fd < 0 && errno == EACCES) {
		/* no read or search permission: fchmodat with AT_SYMLINK_NOFOLLOW
		 * never follows a symlink swapped in meanwhile */
		if (fchmodat(dfd, name, 0700, AT_SYMLINK_NOFOLLOW) < 0) {
			errno = EACCES;
			return -1;
		}
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	}
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700)
		(void)fchmod(fd, (st.st_mode & 07777) | 0700); /* a failure shows up as EACCES later */
	return fd;
}

static void rm_children(struct rmrf *rm, int *fdp, unsigned depth);

/* Remove the directory name (lstat st) of *dfdp, which may be closed and
 * reopened meanwhile. 0: gone; 1: changed meanwhile, look again; -1: failed
 * (reported). */
static int rm_dir(struct rmrf *rm, int *dfdp, const char *name, const struct stat *st, unsigned depth)
{
	unsigned failed_before = rm->failed;
	bool closed_parent = false;
	struct stat pst;
	int sub;

	if (other_mount(rm, *dfdp, name, st)) {
		rm->failed++;
		err_makex(rm->err, EBUSY, "rm -rf: %s is another mount, not removing it", rm->path.buf);
		return -1;
	}
	sub = open_dir_for_removal(*dfdp, name);
	if (sub < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP)
			return 1; /* replaced by a non-directory meanwhile */
		return rm_fail(rm, errno, "open");
	}
	if (depth >= RM_FD_DEPTH) {
		if (fstat(*dfdp, &pst) < 0) {
			close(sub);
			return rm_fail(rm, errno, "stat parent of");
		}
		close(*dfdp);
		*dfdp = -1;
		closed_parent = true;
	}
	rm_children(rm, &sub, depth + 1);
	if (closed_parent) {
		struct stat again;
		*dfdp = openat(sub, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (*dfdp < 0 || fstat(*dfdp, &again) < 0 || again.st_dev != pst.st_dev || again.st_ino != pst.st_ino) {
			close(sub);
			rm->lost = true;
			rm->failed++;
			err_makex(rm->err, EBUSY, "rm -rf: %s was moved while being removed", rm->path.buf);
			return -1;
		}
	}
	close(sub);
	if (rm->lost)
		return -1;
	if (unlinkat(*dfdp, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
		return 0;
	if (errno == ENOTEMPTY && rm->failed != failed_before)
		return -1; /* a child could not be removed: that error was reported */
	if (errno == ENOTEMPTY)
		return 1; /* something was added meanwhile: go again */
	return rm_fail(rm, errno, "rmdir");
}

/* Remove the entry name of the directory *dfdp. */
static void rm_entry(struct rmrf *rm, int *dfdp, const char *name, unsigned depth)
{
	size_t saved = rm->path.len;
	struct stat st;
	int attempt, r = 1;

	if (rm->path.len)
		strbuf_addch(&rm->path, '/');
	strbuf_addstr(&rm->path, name);

	/* a few rounds in case the entry is swapped for another kind meanwhile */
	for (attempt = 0; attempt < 3 && r > 0 && !rm->lost; attempt++) {
		if (fstatat(*dfdp, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = errno == ENOENT ? 0 : rm_fail(rm, errno, "stat");
		} else if (S_ISDIR(st.st_mode)) {
			r = rm_dir(rm, dfdp, name, &st, depth);
		} else if (unlinkat(*dfdp, name, 0) == 0 || errno == ENOENT) {
			r = 0;
		} else if (errno != EISDIR) { /* EISDIR: replaced by a directory meanwhile */
			r = rm_fail(rm, errno, "unlink");
		}
	}
	if (r > 0) {
		rm->failed++;
		err_makex(rm->err, EAGAIN, "rm -rf: %s keeps changing", rm->path.buf);
	}
	strbuf_setlen(&rm->path, saved);
}

/* Remove everything in the directory *fdp (kept open, possibly reopened).
 * The names are read first, so that *fdp may be closed while descending. */
static void rm_children(struct rmrf *rm, int *fdp, unsigned depth)
{
	cleanup_strv struct strv names = STRV_INIT;
	int fd = fcntl(*fdp, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		rm_fail(rm, errno, "open");
		return;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				rm_fail(rm, errno, "read directory");
			break;
		}
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strv_push(&names, de->d_name);
	}
	closedir(d);
	for (size_t i = 0; i < names.len && !rm->lost; i++)
		rm_entry(rm, fdp, names.v[i], depth);
}

int rm_rf_at(int dirfd, const char *name, struct skiff_err **err)
{
	struct rmrf rm = {.path = STRBUF_INIT, .err = err};
	cleanup_free char *top = NULL;
	size_t n;
	struct stat st;

	if (!name || !*name)
		return err_makex(err, EINVAL, "rm -rf: empty name");
	/* "link/" would make the kernel follow the symlink: drop trailing slashes */
	n = strlen(name);
	while (n > 0 && name[n - 1] == '/')
		n--;
	top = xstrndup(name, n);
	if (!*top || !strcmp(top, ".") || !strcmp(top, "..") ||
	    (strlen(top) >= 3 && !strcmp(top + strlen(top) - 3, "/..")) ||
	    (strlen(top) >= 2 && !strcmp(top + strlen(top) - 2, "/.")))
		return err_makex(err, EINVAL, "rm -rf: refusing to remove '%s'", name);
	if (fstatat(dirfd, top, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_make(err, errno, "rm -rf: stat %s", top);
	}
	rm.dev = st.st_dev;
	rm_entry(&rm, &dirfd, top, 0); /* depth 0 never closes the caller's dirfd */
	strbuf_release(&rm.path);
	return rm.failed ? -1 : 0;
}

int tmpfile_in_dir(const char *dir, int *ret_fd, struct skiff_err **err)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		char *tmpl = xasprintf("%s/.skiff-tmp-XXXXXX", dir);
		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0)
			(void)unlink(tmpl);
		free(tmpl);
	}
	if (fd < 0)
		return err_make(err, errno, "create a temporary file in %s", dir);
	*ret_fd = fd;
	return 0;
}
