/* network create/ls/inspect/rm/prune/exists/reload/connect/disconnect: thin fronts over
 * pkg/net/bridge.h and pkg/engine/network.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/skiff/ctr-cli.h"
#include "cmd/skiff/output.h"
#include "cmd/skiff/skiff.h"
#include "pkg/engine/network.h"
#include "pkg/net/bridge.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

static const char *graph(struct engine *e)
{
	return store_graphroot(e->store);
}

/* ---------------- create ---------------- */

static struct {
	const char *driver, *range;
	struct strv labels, subnets, gateways, opts;
	bool internal, ipv6, ignore;
} cr;

static const struct cli_opt create_opts[] = {
	{"driver", 'd', OPT_STRING, &cr.driver, "DRIVER", "Driver to manage the network (bridge)", 0},
	{"gateway", 0, OPT_LIST, &cr.gateways, "IP",
	 "Gateway of the subnet of its family (default: the subnet's first address)", 0},
	{"ignore", 0, OPT_BOOL, &cr.ignore, NULL, "Do not fail if the network already exists", 0},
	{"internal", 0, OPT_BOOL, &cr.internal, NULL, "Restrict external access from this network", 0},
	{"ip-range", 0, OPT_STRING, &cr.range, "CIDR", "Allocate container IPs from this range (inside the subnet)", 0},
	{"ipv6", 0, OPT_BOOL, &cr.ipv6, NULL,
	 "Enable IPv6: dual stack, with a random unique local fdXX:XXXX:XXXX:XXXX::/64 unless an IPv6 --subnet is "
	 "given",
	 0},
	{"label", 0, OPT_LIST, &cr.labels, "KEY=VALUE", "Set metadata on a network", 0},
	{"opt", 'o', OPT_LIST, &cr.opts, "KEY=VALUE",
	 "Set a driver option: mtu=N (or com.docker.network.driver.mtu=N), the MTU of the bridge and every "
	 "container link. Without it the links get 65520 and each container's default route the MTU of the "
	 "host's uplink",
	 0},
	{"subnet", 0, OPT_LIST, &cr.subnets, "CIDR",
	 "Subnet in CIDR format, IPv4 (default: a free 10.89.N.0/24) or IPv6 (fd00:1::/64); one of each family. An "
	 "IPv6 subnet alone makes an IPv6-only network",
	 0},
	{0},
};

static int create_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct net_create_opts o = {.driver = cr.driver,
				    .range = cr.range,
				    .internal = cr.internal,
				    .ipv6 = cr.ipv6,
				    .labels = &cr.labels,
				    .options = &cr.opts};
	/* one subnet and one gateway of each family, told apart by a colon */
	for (size_t i = 0; i < cr.subnets.len; i++) {
		const char **slot = strchr(cr.subnets.v[i], ':') ? &o.subnet6 : &o.subnet;
		if (*slot) {
			ctr_cli_engine_release(&e);
			return err_makex(err, EINVAL, "--subnet %s: only one %s subnet per network", cr.subnets.v[i],
					 slot == &o.subnet6 ? "IPv6" : "IPv4");
		}
		*slot = cr.subnets.v[i];
	}
	for (size_t i = 0; i < cr.gateways.len; i++) {
		const char **slot = strchr(cr.gateways.v[i], ':') ? &o.gateway6 : &o.gateway;
		if (*slot || (slot == &o.gateway6 && !o.subnet6 && !cr.ipv6)) {
			ctr_cli_engine_release(&e);
			return err_makex(err, EINVAL, "--gateway %s: no %s subnet for it", cr.gateways.v[i],
					 slot == &o.gateway6 ? "(other) IPv6" : "other IPv4");
		}
		*slot = cr.gateways.v[i];
	}
	cleanup_free char *name = NULL;
	if (argc)
		name = xstrdup(argv[0]);
	else {
		/* podman: podman1, podman2... */
		for (unsigned k = 1; !name; k++) {
			struct net_network n;
			struct skiff_err *e2 = NULL;
			char *c = xasprintf("podman%u", k);
			if (net_network_get(graph(&e), c, &n, &e2) < 0) {
				err_free(e2);
				name = c;
			} else {
				net_network_release(&n);
				free(c);
			}
		}
	}
	struct net_network n;
	int rc = net_network_create(graph(&e), name, &o, &n, err);
	if (rc < 0 && cr.ignore && err_status(*err) == EEXIST) {
		err_clear(err);
		rc = 0;
		printf("%s\n", name);
	} else if (rc == 0) {
		printf("%s\n", n.name);
		net_network_release(&n);
	}
	ctr_cli_engine_release(&e);
	return rc;
}

const struct cli_impl cli_network_create = {
	.usage = "[options] [NAME]",
	.description =
		"Create a bridge network NAME (podmanN when none is given), kept as netavark-style JSON in "
		"graphroot/networks/NAME.json. Without --subnet the first free 10.89.N.0/24 is used; --ipv6 adds an "
		"IPv6 subnet (dual stack), and an IPv6 --subnet alone makes an IPv6-only network, as podman. "
		"Containers join it with --network NAME and get an address of each family, a default route per "
		"family, masquerade and -p for both. A store other than the default names its bridges skTAG-N and "
		"its nftables table skiff_TAG after sha256(graphroot), so that two stores leave each other alone. "
		"Rootless, the bridge lives in a network namespace of the user's own "
		"(runroot/networks/rootless-netns), with slirp4netns attached for outbound traffic and -p (IPv4); it "
		"is made by the first container on a user network and removed with the last one. Prints the name.",
	.opts = create_opts,
	.max_args = 1,
	.run = create_run,
};

/* ---------------- ls ---------------- */

static struct {
	const char *format;
	struct strv filters;
	bool quiet, noheading, no_trunc;
} ls;

static const struct cli_opt ls_opts[] = {
	{"filter", 'f', OPT_LIST, &ls.filters, "FILTER", "Provide filter values (name=, id=, driver=, label=)", 0},
	{"format", 0, OPT_STRING, &ls.format, "FORMAT", "Pretty-print networks using JSON or a Go template", 0},
	{"no-trunc", 0, OPT_BOOL, &ls.no_trunc, NULL, "Do not truncate the network ID", 0},
	{"noheading", 'n', OPT_BOOL, &ls.noheading, NULL, "Do not print headers", 0},
	{"quiet", 'q', OPT_BOOL, &ls.quiet, NULL, "Display only network names", 0},
	{0},
};

static const struct header_name net_headers[] = {
	{"ID", "NETWORK ID"}, {"Name", "NAME"}, {"Driver", "DRIVER"}, {NULL, NULL}};

static bool filter_match(const struct net_network *n, const struct strv *filters, struct skiff_err **err, int *rc)
{
	for (size_t i = 0; i < filters->len; i++) {
		const char *f = filters->v[i], *eq = strchr(f, '=');
		if (!eq) {
			*rc = err_makex(err, EINVAL, "invalid filter \"%s\": expected KEY=VALUE", f);
			return false;
		}
		size_t kl = (size_t)(eq - f);
		const char *v = eq + 1;
		if (kl == 4 && !strncmp(f, "name", 4)) {
			if (!strstr(n->name, v))
				return false;
		} else if (kl == 2 && !strncmp(f, "id", 2)) {
			if (strncmp(n->id, v, strlen(v)))
				return false;
		} else if (kl == 6 && !strncmp(f, "driver", 6)) {
			if (strcmp(n->driver, v))
				return false;
		} else if (kl == 5 && !strncmp(f, "label", 5)) {
			bool hit = false;
			for (size_t k = 0; !hit && k < n->labels.len; k++)
				hit = strchr(v, '=') ? !strcmp(n->labels.v[k], v)
						     : !strncmp(n->labels.v[k], v, strlen(v)) &&
							       n->labels.v[k][strlen(v)] == '=';
			if (!hit)
				return false;
		} else {
			*rc = err_makex(err, EINVAL, "invalid filter \"%.*s\" (name, id, driver, label)", (int)kl, f);
			return false;
		}
	}
	return true;
}

static int ls_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)argc;
	(void)argv;
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct net_network *v = NULL;
	size_t n = 0;
	int rc = net_network_list(graph(&e), &v, &n, err);
	struct json *rows = json_new_array(), *full = json_new_array();
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (!filter_match(&v[i], &ls.filters, err, &rc))
			continue;
		struct json *r = json_new_object();
		char buf[80];
		json_object_set_string(r, "ID", output_id(v[i].id, ls.no_trunc, buf));
		json_object_set_string(r, "Name", v[i].name);
		json_object_set_string(r, "Driver", v[i].driver);
		json_object_set_string(r, "NetworkInterface", v[i].iface);
		json_object_set_bool(r, "Internal", v[i].internal);
		json_object_set_bool(r, "IPv6Enabled", v[i].ipv6);
		json_object_set_string(r, "Created", v[i].created);
		json_array_append(rows, r);
		json_array_append(full, net_network_json(&v[i]));
	}
	if (rc == 0) {
		const char *def =
			ls.noheading ? "{{.ID}}\t{{.Name}}\t{{.Driver}}" : "table {{.ID}}\t{{.Name}}\t{{.Driver}}";
		if (ls.quiet)
			def = "{{.Name}}";
		rc = output_rows(ls.quiet ? NULL : ls.format, def, rows, full, net_headers, err);
	}
	json_free(rows);
	json_free(full);
	net_network_list_free(v, n);
	ctr_cli_engine_release(&e);
	return rc;
}

const struct cli_impl cli_network_ls = {
	.usage = "[options]",
	.description = "List networks: the default (podman) first, then the others by name.",
	.opts = ls_opts,
	.max_args = 0,
	.run = ls_run,
};

/* ---------------- inspect ---------------- */

static struct {
	const char *format;
} insp;

/* A Go template names podman's struct fields ({{.Name}}, {{.Options}}), not the JSON keys: add
 * those names beside the keys (maps that the JSON leaves out are empty, as podman's). */
static void go_field_names(struct json *j)
{
	static const char *const names[][2] = {
		{"name", "Name"},
		{"id", "ID"},
		{"driver", "Driver"},
		{"network_interface", "NetworkInterface"},
		{"created", "Created"},
		{"subnets", "Subnets"},
		{"ipv6_enabled", "IPv6Enabled"},
		{"internal", "Internal"},
		{"dns_enabled", "DNSEnabled"},
		{"labels", "Labels"},
		{"options", "Options"},
		{"ipam_options", "IPAMOptions"},
		{"containers", "Containers"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		const struct json *v = json_object_get(j, names[i][0]);
		json_object_set(j, names[i][1], v ? json_clone(v) : json_new_object());
	}
}

static const struct cli_opt inspect_opts[] = {
	{"format", 'f', OPT_STRING, &insp.format, "FORMAT", "Pretty-print network to JSON or using a Go template", 0},
	{0},
};

static int inspect_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct json *all = json_new_array();
	int status = 0, rc = 0;
	for (int i = 0; i < argc; i++) {
		struct net_network n;
		struct skiff_err *e2 = NULL;
		if (net_network_get(graph(&e), argv[i], &n, &e2) < 0) {
			fprintf(stderr, "Error: %s\n", e2->msg);
			err_free(e2);
			status = 125;
			continue;
		}
		struct json *j = net_network_json(&n);
		struct strv users = STRV_INIT;
		struct json *ctrs = json_new_object();
		if (eng_network_users(&e, n.name, &users, &e2) == 0) {
			for (size_t k = 0; k < users.len; k++) {
				struct ctr c;
				if (ctr_lookup(&e, users.v[k], &c, &e2) < 0) {
					err_clear(&e2);
					continue;
				}
				struct json *o = json_new_object();
				json_object_set_string(o, "name", c.row.name);
				json_object_set(ctrs, c.row.id, o);
				ctr_release(&c);
			}
		}
		err_free(e2);
		strv_release(&users);
		json_object_set(j, "containers", ctrs);
		json_array_append(all, j);
		net_network_release(&n);
	}
	if (!insp.format || !strcmp(insp.format, "json"))
		output_json(all);
	else {
		for (size_t i = 0; i < json_array_len(all); i++)
			go_field_names(json_array_get(all, i));
		rc = output_rows(insp.format, NULL, all, NULL, NULL, err);
	}
	json_free(all);
	ctr_cli_engine_release(&e);
	return rc < 0 ? rc : status;
}

const struct cli_impl cli_network_inspect = {
	.usage = "[options] NETWORK [NETWORK...]",
	.description = "Display the configuration of networks, in netavark's JSON (with the containers on them).",
	.opts = inspect_opts,
	.min_args = 1,
	.max_args = -1,
	.run = inspect_run,
};

/* ---------------- rm ---------------- */

static struct {
	bool force;
	long time;
} rmo;

static const struct cli_opt rm_opts[] = {
	{"force", 'f', OPT_BOOL, &rmo.force, NULL, "Remove the containers that use the network too", 0},
	{0},
};

static int rm_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	int status = 0;
	for (int i = 0; i < argc; i++) {
		struct skiff_err *e2 = NULL;
		if (eng_network_rm(&e, argv[i], rmo.force, &e2) < 0) {
			fprintf(stderr, "Error: %s\n", e2->msg);
			status = err_status(e2) == ENOENT ? (status ? status : 1) : 2;
			err_free(e2);
			continue;
		}
		printf("%s\n", argv[i]);
	}
	ctr_cli_engine_release(&e);
	return status;
}

const struct cli_impl cli_network_rm = {
	.usage = "[options] NETWORK [NETWORK...]",
	.description = "Remove networks. A network that containers use is refused (exit 2) unless -f, which removes "
		       "those containers first. The default network cannot be removed.",
	.opts = rm_opts,
	.min_args = 1,
	.max_args = -1,
	.run = rm_run,
};

/* ---------------- prune ---------------- */

static struct {
	bool force;
} pr;

static const struct cli_opt prune_opts[] = {
	{"force", 'f', OPT_BOOL, &pr.force, NULL, "Do not prompt for confirmation", 0},
	{0},
};

static int prune_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)argc;
	(void)argv;
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct net_network *v = NULL;
	size_t n = 0;
	int rc = net_network_list(graph(&e), &v, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (!strcmp(v[i].name, NET_DEFAULT_NAME))
			continue;
		struct strv users = STRV_INIT;
		rc = eng_network_users(&e, v[i].name, &users, err);
		if (rc == 0 && !users.len && (rc = net_network_remove(graph(&e), v[i].name, err)) == 0)
			printf("%s\n", v[i].name);
		strv_release(&users);
	}
	net_network_list_free(v, n);
	ctr_cli_engine_release(&e);
	return rc;
}

const struct cli_impl cli_network_prune = {
	.usage = "[options]",
	.description = "Remove every network that no container uses (never the default). Prints their names.",
	.opts = prune_opts,
	.max_args = 0,
	.run = prune_run,
};

/* ---------------- exists ---------------- */

static int exists_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)argc;
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct net_network n;
	int rc = net_network_get(graph(&e), argv[0], &n, err);
	ctr_cli_engine_release(&e);
	if (rc < 0 && err_status(*err) == ENOENT) {
		err_clear(err);
		return 1;
	}
	if (rc == 0)
		net_network_release(&n);
	return rc;
}

const struct cli_impl cli_network_exists = {
	.usage = "NETWORK",
	.description = "Check if a network exists (exit status 0: yes, 1: no).",
	.min_args = 1,
	.max_args = 1,
	.run = exists_run,
};

/* ---------------- reload ---------------- */

static int reload_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)argc;
	(void)argv;
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	int rc = net_bridge_sync(e.cfg->runroot, err);
	ctr_cli_engine_release(&e);
	return rc;
}

static struct {
	bool all;
} rl;

static const struct cli_opt reload_opts[] = {
	{"all", 'a', OPT_BOOL, &rl.all, NULL, "Reload the network of every container (always done)", 0},
	{0},
};

const struct cli_impl cli_network_reload = {
	.usage = "[options] [CONTAINER...]",
	.description = "Rebuild the firewall rules (the nftables table inet skiff) and the hosts files of every "
		       "container on a bridge network, after a firewall reload flushed them.",
	.opts = reload_opts,
	.max_args = -1,
	.run = reload_run,
};

/* ---------------- connect / disconnect ---------------- */

static struct {
	struct strv aliases;
} cn;

static const struct cli_opt connect_opts[] = {
	{"alias", 0, OPT_LIST, &cn.aliases, "NAME", "Add a network-scoped alias for the container", 0},
	{0},
};

static int connect_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)argc;
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr c;
	int rc = ctr_lookup(&e, argv[1], &c, err);
	if (rc == 0) {
		rc = eng_network_connect(&e, argv[0], &c, &cn.aliases, err);
		ctr_release(&c);
	}
	ctr_cli_engine_release(&e);
	return rc;
}

const struct cli_impl cli_network_connect = {
	.usage = "[options] NETWORK CONTAINER",
	.description = "Connect a container to a network: a running one gets the next ethN at once.",
	.opts = connect_opts,
	.min_args = 2,
	.max_args = 2,
	.run = connect_run,
};

static struct {
	bool force;
} dc;

static const struct cli_opt disconnect_opts[] = {
	{"force", 'f', OPT_BOOL, &dc.force, NULL, "Force the disconnection (accepted for compatibility)", 0},
	{0},
};

static int disconnect_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)argc;
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr c;
	int rc = ctr_lookup(&e, argv[1], &c, err);
	if (rc == 0) {
		rc = eng_network_disconnect(&e, argv[0], &c, err);
		ctr_release(&c);
	}
	ctr_cli_engine_release(&e);
	return rc;
}

const struct cli_impl cli_network_disconnect = {
	.usage = "[options] NETWORK CONTAINER",
	.description = "Disconnect a container from a network: a running one loses that interface at once.",
	.opts = disconnect_opts,
	.min_args = 2,
	.max_args = 2,
	.run = disconnect_run,
};
