/* pkg/store: what network connect/disconnect change in a container's record. */
#ifndef SKIFF_STORE_NETWORKS_H
#define SKIFF_STORE_NETWORKS_H

#include "pkg/store/store.h"

/* Replace the engine's JSON config of container id (ENOENT when it is gone). */
int store_container_set_config(struct store *s, const char *id, const char *config, struct skiff_err **err);

#endif
