/*
 * Whole-file OFD locks (F_OFD_SETLK / F_OFD_SETLKW) on a lock file.
 *
 * An OFD lock belongs to an open file description, not to a process: two
 * lock_open()s of the same file conflict even inside one process (and across
 * threads), a lock survives fork() in the child as long as any descriptor to
 * that description lives, and it goes away when the last descriptor is closed
 * or the process dies. The kernel never reports a stale lock.
 *
 *     struct skiff_lock l = SKIFF_LOCK_INIT;
 *     if (lock_open(dfd, "layer-abc.lock", &l, err) < 0 ||
 *         lock_take(&l, LOCK_EXCL, true, err) < 0)
 *             ...
 *     lock_close(&l);
 *
 * Contention on a non-blocking lock_take() is -1 with an error whose status
 * is EAGAIN ("lock NAME: held by another process"): test err_status(*err) ==
 * EAGAIN, then err_clear(err).
 */
#ifndef SKIFF_LOCK_H
#define SKIFF_LOCK_H

#include <stdbool.h>

#include "vendor-free/err.h"

enum lock_mode {
	LOCK_NONE = 0,
	LOCK_SHARED = 1, /* many holders (F_RDLCK) */
	LOCK_EXCL = 2,	 /* one holder (F_WRLCK) */
};

struct skiff_lock {
	int fd;		     /* -1 when closed */
	enum lock_mode mode; /* what this description holds now */
	char *name;	     /* for messages */
};

#define SKIFF_LOCK_INIT                                                                                                \
	{                                                                                                              \
		.fd = -1, .mode = LOCK_NONE, .name = NULL                                                              \
	}

/* Open (creating, 0644) the lock file name relative to dirfd, never following
 * a symlink at name. Where the file cannot be opened for writing (read-only
 * file system, or a file of another user) it is opened read-only, and only
 * LOCK_SHARED can be taken. *ret must not be open; nothing is locked yet. */
int lock_open(int dirfd, const char *name, struct skiff_lock *ret, struct skiff_err **err);

/* Take the lock in mode (LOCK_SHARED or LOCK_EXCL) or convert the one held.
 * wait: block until granted (EINTR is retried); otherwise -1 with an EAGAIN
 * error when another description holds a conflicting lock. A failed upgrade
 * keeps the shared lock. The kernel does no deadlock detection for OFD locks:
 * two sharers upgrading with wait at once block forever, so upgrade without
 * wait, or release and take LOCK_EXCL. */
int lock_take(struct skiff_lock *l, enum lock_mode mode, bool wait, struct skiff_err **err);

/* Convert an exclusive lock to a shared one atomically: no other exclusive
 * holder can get in between. EINVAL if the lock is not held exclusively. */
int lock_downgrade(struct skiff_lock *l, struct skiff_err **err);

/* Release the lock (the file stays open). Releasing an unheld lock is fine. */
int lock_release(struct skiff_lock *l, struct skiff_err **err);

/* Close the file, which releases any lock. Safe on a closed lock, idempotent. */
void lock_close(struct skiff_lock *l);

static inline void lock_cleanup(struct skiff_lock *l)
{
	lock_close(l);
}
#define cleanup_lock __attribute__((cleanup(lock_cleanup)))

#endif
