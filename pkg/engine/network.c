/* pkg/engine: bridge networks seen from the containers. */
#include <errno.h>
#include <string.h>

#include "pkg/engine/ctrconfig.h"
#include "pkg/engine/network.h"
#include "pkg/net/bridge.h"
#include "pkg/store/networks.h"
#include "vendor-free/xalloc.h"

int eng_network_users(struct engine *e, const char *name, struct strv *ret, struct skiff_err **err)
{
	struct ctr *v = NULL;
	size_t n = 0;
	if (ctr_list(e, &v, &n, err) < 0)
		return -1;
	struct strv ids = STRV_INIT;
	for (size_t i = 0; i < n; i++)
		if (v[i].cfg && strv_contains(&v[i].cfg->networks, name))
			strv_push(&ids, v[i].row.id);
	ctr_list_free(v, n);
	*ret = ids;
	return 0;
}

int eng_network_rm(struct engine *e, const char *name, bool force, struct skiff_err **err)
{
	struct net_network n;
	const char *g = store_graphroot(e->store);
	if (net_network_get(g, name, &n, err) < 0)
		return -1;
	struct strv users = STRV_INIT;
	int rc = eng_network_users(e, n.name, &users, err);
	if (rc == 0 && !strcmp(n.name, NET_DEFAULT_NAME))
		rc = err_makex(err, EPERM, "default network %s cannot be removed", n.name);
	if (rc == 0 && users.len && !force)
		rc = err_makex(err, EBUSY,
			       "%s has associated containers with it. Use -f to forcibly delete containers and pods: "
			       "network is being used",
			       n.name);
	for (size_t i = 0; rc == 0 && i < users.len; i++) {
		struct ctr c;
		if ((rc = ctr_lookup(e, users.v[i], &c, err)) < 0)
			break;
		rc = ctr_remove(e, &c, true, err);
		ctr_release(&c);
	}
	if (rc == 0)
		rc = net_network_remove(g, n.name, err);
	strv_release(&users);
	net_network_release(&n);
	return rc;
}

static int save_config(struct engine *e, struct ctr *c, struct skiff_err **err)
{
	struct json *j = ctr_config_to_json(c->cfg);
	struct strbuf sb = STRBUF_INIT;
	json_dump(j, 0, &sb);
	json_free(j);
	int rc = store_container_set_config(e->store, c->row.id, sb.buf, err);
	strbuf_release(&sb);
	return rc;
}

static bool running(struct ctr *c)
{
	return !strcmp(ctr_state_name(c), "running") || !strcmp(ctr_state_name(c), "paused");
}

int eng_network_connect(struct engine *e, const char *network, struct ctr *c, const struct strv *aliases,
			struct skiff_err **err)
{
	struct net_network n;
	if (net_network_get(store_graphroot(e->store), network, &n, err) < 0)
		return -1;
	int rc = 0;
	if (!c->cfg->network || strcmp(c->cfg->network, NET_BRIDGE_MODE))
		rc = err_makex(err, EINVAL, "container %s is not on a bridge network (--network %s)", c->row.name,
			       c->cfg->network && *c->cfg->network ? c->cfg->network : "private");
	else if (strv_contains(&c->cfg->networks, n.name))
		rc = err_makex(err, EEXIST, "container %s is already connected to network %s", c->row.name, n.name);
	if (rc == 0 && running(c)) {
		struct strv al = STRV_INIT;
		for (size_t i = 0; i < c->cfg->net_aliases.len; i++)
			strv_push(&al, c->cfg->net_aliases.v[i]);
		for (size_t i = 0; aliases && i < aliases->len; i++)
			strv_push(&al, aliases->v[i]);
		rc = net_bridge_connect(e->cfg->runroot, store_graphroot(e->store), c->row.id, n.name, &al, err);
		strv_release(&al);
	}
	if (rc == 0) {
		strv_push(&c->cfg->networks, n.name);
		rc = save_config(e, c, err);
	}
	net_network_release(&n);
	return rc;
}

int eng_network_disconnect(struct engine *e, const char *network, struct ctr *c, struct skiff_err **err)
{
	struct net_network n;
	if (net_network_get(store_graphroot(e->store), network, &n, err) < 0)
		return -1;
	ssize_t at = -1;
	for (size_t i = 0; i < c->cfg->networks.len; i++)
		if (!strcmp(c->cfg->networks.v[i], n.name))
			at = (ssize_t)i;
	int rc = 0;
	if (at < 0)
		rc = err_makex(err, ENOENT, "container %s is not connected to network %s", c->row.name, n.name);
	if (rc == 0 && running(c))
		rc = net_bridge_disconnect(e->cfg->runroot, c->row.id, n.name, err);
	if (rc == 0) {
		strv_remove(&c->cfg->networks, (size_t)at);
		rc = save_config(e, c, err);
	}
	net_network_release(&n);
	return rc;
}
