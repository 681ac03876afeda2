/* pkg/build layer: what a build step does to a tree besides copying: WORKDIR's directories,
 * and keeping the mount targets a RUN container needed out of its layer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "pkg/build/build-internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/pathres.h"
#include "vendor-free/xalloc.h"

int build_mkdir_in_root(int rootfd, const char *path, struct skiff_err **err)
{
	cleanup_free char *clean = NULL;
	if (path_clean(path, &clean, err) < 0)
		return -1;
	if (!strcmp(clean, "."))
		return 0;
	/* each prefix: resolved in the root (symlinks stay inside it), made when missing */
	for (char *p = clean;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		struct skiff_err *e = NULL;
		int fd = pathres_open(rootfd, clean, O_PATH | O_DIRECTORY, 0, PATHRES_IN_ROOT, &e);
		if (fd >= 0) {
			close(fd);
		} else if (err_status(e) != ENOENT) {
			*err = e;
			return err_wrap(err, "create %s", path);
		} else {
			err_free(e);
			char *slash = strrchr(clean, '/');
			const char *name = slash ? slash + 1 : clean;
			if (slash)
				*slash = '\0';
			cleanup_close int dfd = pathres_open(rootfd, slash ? clean : ".", O_PATH | O_DIRECTORY, 0,
							     PATHRES_IN_ROOT, err);
			if (slash)
				*slash = '/';
			if (dfd < 0)
				return err_wrap(err, "create %s", path);
			if (mkdirat(dfd, name, 0755) < 0 && errno != EEXIST)
				return err_make(err, errno, "create %s", path);
			if (fchmodat(dfd, name, 0755, 0) < 0)
				return err_make(err, errno, "chmod %s", path);
		}
		*p = saved;
		if (!saved)
			break;
	}
	return 0;
}

static bool is_opaque(int dirfd, const char *name)
{
	static const char *const attrs[] = {"trusted.overlay.opaque", "user.overlay.opaque",
					    "user.fuseoverlayfs.opaque"};
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return true; /* cannot tell: keep it */
	char v[4];
	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++)
		if (fgetxattr(fd, attrs[i], v, sizeof(v)) > 0)
			return true;
	return false;
}

static bool dir_empty(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	bool empty = true;
	struct dirent *de;
	while (empty && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

/* Is path (clean, relative) in tree basefd? No symlink on the way is followed. */
static bool in_base(int basefd, const char *path)
{
	if (basefd < 0)
		return false;
	struct skiff_err *e = NULL;
	cleanup_free char *name = NULL;
	cleanup_close int dfd = pathres_open_parent(basefd, path, 0, &name, &e);
	err_free(e);
	struct stat st;
	return dfd >= 0 && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Remove path from tree if it is what a mount target leaves: an empty regular file or an
 * empty (not opaque) directory that the base does not have. */
static bool strip_one(int treefd, int basefd, const char *path, bool dirs_only)
{
	struct skiff_err *e = NULL;
	cleanup_free char *name = NULL;
	cleanup_close int dfd = pathres_open_parent(treefd, path, 0, &name, &e);
	err_free(e);
	struct stat st;
	if (dfd < 0 || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || in_base(basefd, path))
		return false;
	if (S_ISREG(st.st_mode) && st.st_size == 0 && !dirs_only)
		return unlinkat(dfd, name, 0) == 0;
	if (S_ISDIR(st.st_mode) && dir_empty(dfd, name) && !is_opaque(dfd, name))
		return unlinkat(dfd, name, AT_REMOVEDIR) == 0;
	return false;
}

void build_strip_mount_targets(int treefd, int basefd, const struct strv *targets)
{
	for (size_t i = 0; i < targets->len; i++) {
		cleanup_free char *clean = NULL;
		struct skiff_err *e = NULL;
		if (path_clean(targets->v[i], &clean, &e) < 0 || !strcmp(clean, ".")) {
			err_free(e);
			continue;
		}
		if (!strip_one(treefd, basefd, clean, false))
			continue;
		/* the parents it alone needed */
		for (char *slash = strrchr(clean, '/'); slash; slash = strrchr(clean, '/')) {
			*slash = '\0';
			if (!strip_one(treefd, basefd, clean, true))
				break;
		}
	}
}
