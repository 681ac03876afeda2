#include "vendor-free/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

static const char *lock_name(const struct skiff_lock *l)
{
	return l->name ? l->name : "(unnamed)";
}

int lock_open(int dirfd, const char *name, struct skiff_lock *ret, struct skiff_err **err)
{
	int fd;

	if (!name || !*name)
		return err_makex(err, EINVAL, "lock: empty file name");
	if (!ret || ret->fd >= 0)
		return err_makex(err, EINVAL, "lock %s: lock object already open", name);
	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_make(err, errno, "open lock file %s", name);
	ret->fd = fd;
	ret->mode = LOCK_NONE;
	ret->name = xstrdup(name);
	return 0;
}

/* fcntl F_OFD_SETLK(W) on the whole file; -1 with errno. */
static int ofd_setlk(int fd, short type, bool wait)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 0; /* to the end, however large the file grows */
	fl.l_pid = 0; /* must be 0 for OFD locks */
	for (;;) {
		if (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

int lock_take(struct skiff_lock *l, enum lock_mode mode, bool wait, struct skiff_err **err)
{
	if (!l || l->fd < 0)
		return err_makex(err, EBADF, "lock %s: not open", l ? lock_name(l) : "(null)");
	if (mode != LOCK_SHARED && mode != LOCK_EXCL)
		return err_makex(err, EINVAL, "lock %s: bad mode %d", lock_name(l), (int)mode);
	if (l->mode == mode)
		return 0;
	if (ofd_setlk(l->fd, mode == LOCK_EXCL ? F_WRLCK : F_RDLCK, wait) < 0) {
		if (errno == EAGAIN || errno == EACCES)
			return err_makex(err, EAGAIN, "lock %s: held by another process", lock_name(l));
		if (errno == EBADF && mode == LOCK_EXCL)
			return err_makex(err, EBADF, "lock %s: opened read-only, cannot lock exclusively",
					 lock_name(l));
		return err_make(err, errno, "lock %s", lock_name(l));
	}
	l->mode = mode;
	return 0;
}

int lock_downgrade(struct skiff_lock *l, struct skiff_err **err)
{
	if (!l || l->fd < 0)
		return err_makex(err, EBADF, "downgrade lock %s: not open", l ? lock_name(l) : "(null)");
	if (l->mode != LOCK_EXCL)
		return err_makex(err, EINVAL, "downgrade lock %s: not held exclusively", lock_name(l));
	/* Converting our own write lock to a read lock never conflicts. */
	if (ofd_setlk(l->fd, F_RDLCK, false) < 0)
		return err_make(err, errno, "downgrade lock %s", lock_name(l));
	l->mode = LOCK_SHARED;
	return 0;
}

int lock_release(struct skiff_lock *l, struct skiff_err **err)
{
	if (!l || l->fd < 0)
		return err_makex(err, EBADF, "release lock %s: not open", l ? lock_name(l) : "(null)");
	if (l->mode == LOCK_NONE)
		return 0;
	if (ofd_setlk(l->fd, F_UNLCK, false) < 0)
		return err_make(err, errno, "release lock %s", lock_name(l));
	l->mode = LOCK_NONE;
	return 0;
}

void lock_close(struct skiff_lock *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->mode = LOCK_NONE;
	free(l->name);
	l->name = NULL;
}
