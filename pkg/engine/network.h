/* pkg/engine: bridge networks and the containers on them (network rm, connect, disconnect). */
#ifndef SKIFF_ENGINE_NETWORK_H
#define SKIFF_ENGINE_NETWORK_H

#include "pkg/engine/container.h"
#include "vendor-free/strv.h"

/* The ids of the containers configured on network name. */
int eng_network_users(struct engine *e, const char *name, struct strv *ret, struct skiff_err **err);
/* Remove a network: EBUSY naming a container that uses it, unless force (then those
 * containers are removed first, as podman does). */
int eng_network_rm(struct engine *e, const char *name, bool force, struct skiff_err **err);
/* Add/remove a network of a container (live when it runs): aliases may be NULL. */
int eng_network_connect(struct engine *e, const char *network, struct ctr *c, const struct strv *aliases,
			struct skiff_err **err);
int eng_network_disconnect(struct engine *e, const char *network, struct ctr *c, struct skiff_err **err);

#endif
