/* Internals shared by pkg/image files. */
#ifndef SKIFF_IMAGE_INTERNAL_H
#define SKIFF_IMAGE_INTERNAL_H

#include "pkg/store/store.h"
#include "vendor-free/err.h"

/* Open path for reading (NULL or "-": stdin). A stream that cannot seek (a pipe) is
 * first copied to an unlinked file in tmpdir, so archives can be read twice. */
int image_open_input(const char *path, const char *tmpdir, int *ret_fd, struct skiff_err **err);

/* Log an image event (tag, untag, remove, load, save, import) in the store's events log;
 * a failure to log never fails the operation. */
void image_event(struct store *s, const char *status, const char *id, const char *name);

#endif
