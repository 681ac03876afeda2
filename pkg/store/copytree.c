/* Copy a directory tree exactly (owners, modes, times, xattrs, hardlinks, devices):
 * how the vfs driver starts a layer from its parent's full tree. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "pkg/store/store-internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/hashmap.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

struct copy {
	int srcroot, dstroot;
	struct hashmap links; /* "dev:ino" -> relative path of the first copy */
};

static int copy_xattrs(int srcfd, int dstfd, const char *path, struct skiff_err **err)
{
	char names[4096];
	ssize_t n = flistxattr(srcfd, names, sizeof(names));
	if (n < 0)
		return errno == ENOTSUP ? 0 : err_make(err, errno, "list xattrs of %s", path);
	for (char *k = names; k < names + n; k += strlen(k) + 1) {
		char val[4096];
		ssize_t vl = fgetxattr(srcfd, k, val, sizeof(val));
		if (vl < 0)
			continue;
		if (fsetxattr(dstfd, k, val, (size_t)vl, 0) < 0 && errno != ENOTSUP && errno != EPERM)
			return err_make(err, errno, "set xattr %s on %s", k, path);
	}
	return 0;
}

static int copy_meta_fd(int fd, const struct stat *st, const char *path, struct skiff_err **err)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	if (fchown(fd, st->st_uid, st->st_gid) < 0)
		return err_make(err, errno, "chown %s", path);
	if (fchmod(fd, st->st_mode & 07777) < 0)
		return err_make(err, errno, "chmod %s", path);
	if (futimens(fd, ts) < 0)
		return err_make(err, errno, "set times of %s", path);
	return 0;
}

static int copy_dir(struct copy *c, int srcdir, int dstdir, const char *rel, struct skiff_err **err);

static int copy_entry(struct copy *c, int srcdir, int dstdir, const char *name, const char *rel, struct skiff_err **err)
{
	struct stat st;
	if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_make(err, errno, "stat %s", rel);
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		char key[64];
		snprintf(key, sizeof(key), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
		const char *first = hashmap_get(&c->links, key);
		if (first) {
			if (linkat(c->dstroot, first, dstdir, name, 0) < 0)
				return err_make(err, errno, "link %s", rel);
			return 0;
		}
		hashmap_put(&c->links, key, xstrdup(rel), NULL);
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdirat(dstdir, name, 0700) < 0)
			return err_make(err, errno, "mkdir %s", rel);
		cleanup_close int s = openat(srcdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		cleanup_close int d = openat(dstdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0 || d < 0)
			return err_make(err, errno, "open %s", rel);
		if (copy_dir(c, s, d, rel, err) < 0 || copy_xattrs(s, d, rel, err) < 0)
			return -1;
		return copy_meta_fd(d, &st, rel, err);
	}
	if (S_ISREG(st.st_mode)) {
		cleanup_close int s = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		cleanup_close int d = openat(dstdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (s < 0 || d < 0)
			return err_make(err, errno, "open %s", rel);
		if (copy_fd(s, d, NULL) < 0)
			return err_make(err, errno, "copy %s", rel);
		if (copy_xattrs(s, d, rel, err) < 0)
			return -1;
		return copy_meta_fd(d, &st, rel, err);
	}
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX + 1];
		ssize_t n = readlinkat(srcdir, name, target, PATH_MAX);
		struct timespec ts[2] = {st.st_atim, st.st_mtim};
		if (n < 0)
			return err_make(err, errno, "readlink %s", rel);
		target[n] = '\0';
		if (symlinkat(target, dstdir, name) < 0)
			return err_make(err, errno, "symlink %s", rel);
		if (fchownat(dstdir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
			return err_make(err, errno, "chown %s", rel);
		utimensat(dstdir, name, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	/* devices (overlay-style whiteouts never reach vfs), fifos, sockets */
	if (mknodat(dstdir, name, st.st_mode, st.st_rdev) < 0) {
		if (errno == EPERM)
			return 0; /* unprivileged: devices are skipped, as on unpack */
		return err_make(err, errno, "mknod %s", rel);
	}
	if (fchownat(dstdir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(dstdir, name, st.st_mode & 07777, 0) < 0)
		return err_make(err, errno, "set owner of %s", rel);
	return 0;
}

static int copy_dir(struct copy *c, int srcdir, int dstdir, const char *rel, struct skiff_err **err)
{
	int fd = dup(srcdir);
	cleanup_dir DIR *d = NULL;
	struct dirent *de;
	if (fd < 0)
		return err_make(err, errno, "dup");
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return err_make(err, errno, "read %s", rel);
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		cleanup_free char *sub = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		if (copy_entry(c, srcdir, dstdir, de->d_name, sub, err) < 0)
			return -1;
	}
	return 0;
}

int store_copy_tree(int srcfd, int dstfd, struct skiff_err **err)
{
	struct copy c = {.srcroot = srcfd, .dstroot = dstfd, .links = HASHMAP_INIT};
	struct stat st;
	int rc = copy_dir(&c, srcfd, dstfd, "", err);
	if (rc == 0 && fstat(srcfd, &st) == 0)
		rc = copy_meta_fd(dstfd, &st, "/", err);
	hashmap_release(&c.links, free);
	return rc;
}
