/*
 * Signal names as kill(1), docker and podman take them: "TERM", "SIGTERM", "sigterm",
 * "15", "RTMIN+3", "SIGRTMAX-1".
 */
#ifndef SKIFF_SIGNAME_H
#define SKIFF_SIGNAME_H

#include "vendor-free/err.h"

/* The number for a name or number; EINVAL "invalid signal \"X\"" otherwise. */
int sig_from_name(const char *s, int *ret, struct skiff_err **err);
/* "SIGTERM" for 15; "SIGRTMIN+3"; NULL for an unknown number. Static storage. */
const char *sig_name(int sig);

#endif
