/* port: the published ports of a container, as podman port. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd/skiff/ctr-cli.h"
#include "cmd/skiff/skiff.h"
#include "pkg/engine/container.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

static struct {
	bool all;
} po;

static const struct cli_opt port_opts[] = {
	{"all", 'a', OPT_BOOL, &po.all, NULL, "Display port information for all containers", 0},
	{0},
};

static int port_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	if (po.all && argc > 0)
		return err_makex(err, EINVAL, "--all and a container cannot be given together");
	if (!po.all && argc < 1)
		return err_makex(err, EINVAL, "a container must be given (or --all)");
	const char *filter = !po.all && argc > 1 ? argv[1] : NULL;
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr *v = NULL;
	size_t n = 0;
	int rc = 0;
	if (po.all) {
		rc = ctr_list(&e, &v, &n, err);
	} else {
		v = xcalloc(1, sizeof(*v));
		rc = ctr_lookup(&e, argv[0], v, err);
		n = rc == 0 ? 1 : 0;
	}
	struct strbuf out = STRBUF_INIT;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct strbuf one = STRBUF_INIT;
		size_t lines = net_ports_print(v[i].cfg->ports, v[i].cfg->n_ports, filter, &one);
		/* --all: each mapping after the container's short id */
		for (char *l = one.buf; po.all && *l;) {
			char *nl = strchr(l, '\n');
			size_t len = nl ? (size_t)(nl - l) : strlen(l);
			strbuf_addf(&out, "%.12s\t%.*s\n", v[i].row.id, (int)len, l);
			l += len + (nl ? 1 : 0);
		}
		if (!po.all)
			strbuf_add(&out, one.buf, one.len);
		if (filter && !lines)
			rc = err_makex(err, ENOENT, "failed to find published port \"%s\"", filter);
		strbuf_release(&one);
	}
	if (rc == 0)
		fputs(out.buf, stdout);
	strbuf_release(&out);
	ctr_list_free(v, n);
	ctr_cli_engine_release(&e);
	return rc;
}

const struct cli_impl cli_port = {
	.usage = "[options] CONTAINER [PORT[/PROTO]]",
	.description = "List the port mappings of a container, or the host address of one of its ports "
		       "(\"80/tcp -> 0.0.0.0:8080\").",
	.opts = port_opts,
	.min_args = 0,
	.max_args = 2,
	.run = port_run,
};
