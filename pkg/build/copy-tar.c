/* ADD's local tar extraction and a tarball build context: libarchive reads, every entry
 * is placed inside the destination directory through vendor-free/pathres. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pkg/build/copy-internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/pathres.h"
#include "vendor-free/xalloc.h"

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}
#define cleanup_archive __attribute__((cleanup(archive_freep)))

static struct archive *tar_reader(int fd)
{
	struct archive *a = archive_read_new();
	if (!a)
		return NULL;
	if (archive_read_support_filter_all(a) != ARCHIVE_OK || archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

bool copy_is_tar(int fd)
{
	bool is = false;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return false;
	{
		cleanup_archive struct archive *a = tar_reader(fd);
		struct archive_entry *e;
		if (a)
			is = archive_read_next_header(a, &e) == ARCHIVE_OK;
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		return false;
	return is;
}

/* Remove what is at name in dirfd unless it is a directory (then EISDIR). */
int copy_replace_nondir(int dirfd, const char *name, const char *path, struct skiff_err **err)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : err_make(err, errno, "stat %s", path);
	if (S_ISDIR(st.st_mode))
		return err_makex(err, EISDIR, "cannot replace directory %s with a non-directory", path);
	if (unlinkat(dirfd, name, 0) < 0)
		return err_make(err, errno, "remove %s", path);
	return 0;
}

static int entry_owner(const struct copy_owner *own, struct archive_entry *e, uid_t *uid, gid_t *gid)
{
	if (own->ignore)
		return 0;
	*uid = own->force ? own->uid : (uid_t)archive_entry_uid(e);
	*gid = own->force ? own->gid : (gid_t)archive_entry_gid(e);
	return 1;
}

static int extract_data(struct archive *a, int fd, const char *path, struct skiff_err **err)
{
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK)
			return err_makex(err, EINVAL, "tar entry \"%s\": %s", path, archive_error_string(a));
		if (len && pwrite(fd, buf, len, off) != (ssize_t)len)
			return err_make(err, errno ? errno : EIO, "write %s", path);
	}
}

static int extract_entry(struct archive *a, struct archive_entry *e, int dstfd, const struct copy_owner *own,
			 struct skiff_err **err)
{
	const char *raw = archive_entry_pathname(e);
	cleanup_free char *path = NULL, *base = NULL;
	cleanup_close int pfd = -1;
	mode_t mode = archive_entry_perm(e);
	mode_t type = archive_entry_filetype(e);
	const char *hl = archive_entry_hardlink(e);
	uid_t uid = 0;
	gid_t gid = 0;
	bool chown_it = entry_owner(own, e, &uid, &gid);
	struct timespec ts[2] = {{archive_entry_atime(e), archive_entry_atime_nsec(e)},
				 {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};

	if (!raw)
		return err_makex(err, EINVAL, "tar entry without a name");
	if (path_clean(raw, &path, err) < 0)
		return err_wrap(err, "tar entry \"%s\"", raw);
	if (!strcmp(path, "."))
		return 0; /* the root itself: keep the destination's own mode and owner */
	pfd = pathres_open_parent(dstfd, path, PATHRES_MKDIR, &base, err);
	if (pfd < 0)
		return err_wrap(err, "tar entry \"%s\"", raw);
	if (!archive_entry_atime_is_set(e))
		ts[0] = ts[1];

	if (hl) {
		cleanup_free char *tpath = NULL, *tbase = NULL;
		cleanup_close int tfd = -1;
		struct stat st;
		if (path_clean(hl, &tpath, err) < 0)
			return err_wrap(err, "tar entry \"%s\": link target", raw);
		tfd = pathres_open_parent(dstfd, tpath, 0, &tbase, err);
		if (tfd < 0)
			return err_wrap(err, "tar entry \"%s\": link target", raw);
		if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			return err_makex(err, EINVAL, "tar entry \"%s\": hard link to \"%s\", not an extracted file",
					 raw, hl);
		if (copy_replace_nondir(pfd, base, path, err) < 0)
			return -1;
		if (linkat(tfd, tbase, pfd, base, 0) < 0)
			return err_make(err, errno, "link %s", path);
		return 0;
	}
	switch (type) {
	case AE_IFDIR: {
		struct stat st;
		cleanup_close int fd = -1;
		if (mkdirat(pfd, base, 0700) < 0) {
			if (errno != EEXIST)
				return err_make(err, errno, "mkdir %s", path);
			if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
				return err_make(err, errno, "stat %s", path);
			if (!S_ISDIR(st.st_mode)) {
				if (unlinkat(pfd, base, 0) < 0 || mkdirat(pfd, base, 0700) < 0)
					return err_make(err, errno, "replace %s with a directory", path);
			}
		}
		fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return err_make(err, errno, "open %s", path);
		if (chown_it && fchown(fd, uid, gid) < 0)
			return err_make(err, errno, "chown %s", path);
		if (fchmod(fd, mode) < 0)
			return err_make(err, errno, "chmod %s", path);
		return 0;
	}
	case AE_IFREG: {
		cleanup_close int fd = -1;
		if (copy_replace_nondir(pfd, base, path, err) < 0)
			return -1;
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_make(err, errno, "create %s", path);
		if (extract_data(a, fd, path, err) < 0)
			return -1;
		if (ftruncate(fd, archive_entry_size(e)) < 0)
			return err_make(err, errno, "truncate %s", path);
		if (chown_it && fchown(fd, uid, gid) < 0)
			return err_make(err, errno, "chown %s", path);
		if (fchmod(fd, mode) < 0)
			return err_make(err, errno, "chmod %s", path);
		if (futimens(fd, ts) < 0)
			return err_make(err, errno, "set times of %s", path);
		return 0;
	}
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		if (!target)
			return err_makex(err, EINVAL, "tar entry \"%s\": symlink without a target", raw);
		if (copy_replace_nondir(pfd, base, path, err) < 0)
			return -1;
		if (symlinkat(target, pfd, base) < 0)
			return err_make(err, errno, "symlink %s", path);
		if (chown_it && fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return err_make(err, errno, "chown %s", path);
		(void)utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	case AE_IFIFO:
	case AE_IFCHR:
	case AE_IFBLK:
		if (copy_replace_nondir(pfd, base, path, err) < 0)
			return -1;
		if (mknodat(pfd, base, type | mode, archive_entry_rdev(e)) < 0) {
			if (errno == EPERM && type != AE_IFIFO)
				return 0; /* unprivileged: devices are skipped, as on layer unpack */
			return err_make(err, errno, "mknod %s", path);
		}
		if (chown_it && fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return err_make(err, errno, "chown %s", path);
		if (fchmodat(pfd, base, mode, 0) < 0)
			return err_make(err, errno, "chmod %s", path);
		return 0;
	default:
		return 0; /* sockets and unknown types are not extracted */
	}
}

int copy_extract_tar(int fd, int dstfd, const struct copy_owner *own, struct skiff_err **err)
{
	cleanup_archive struct archive *a = NULL;
	struct archive_entry *e;
	int r;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return err_make(err, errno, "seek");
	a = tar_reader(fd);
	if (!a)
		return err_makex(err, EINVAL, "not a tar archive");
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		if (extract_entry(a, e, dstfd, own, err) < 0)
			return -1;
	}
	if (r != ARCHIVE_EOF)
		return err_makex(err, EINVAL, "read tar: %s", archive_error_string(a));
	return 0;
}
