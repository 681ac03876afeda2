/* cmd/skiff/progress: pull/push progress, as podman shows it: bars per blob on a
 * terminal, plain lines otherwise, nothing with -q. */
#ifndef SKIFF_CMD_PROGRESS_H
#define SKIFF_CMD_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

#include "pkg/image/pull.h"

struct progress;
struct progress *progress_new(FILE *out, bool quiet);
/* A pull_progress_fn: ud is the struct progress. */
void progress_event(void *ud, const struct pull_progress *p);
void progress_free(struct progress *pr);

#endif
