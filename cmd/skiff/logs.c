/* logs: a container's output from its k8s-file log. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd/skiff/ctr-cli.h"

static struct {
	bool follow, timestamps, names, latest;
	long tail;
	const char *since, *until;
} o = {.tail = -1};

static const struct cli_opt logs_opts[] = {
	{"follow", 'f', OPT_BOOL, &o.follow, NULL, "Follow log output", 0},
	{"latest", 'l', OPT_BOOL, &o.latest, NULL, "Act on the latest container skiff is aware of", 0},
	{"names", 'n', OPT_BOOL, &o.names, NULL, "Output the container name in the log", 0},
	{"since", 0, OPT_STRING, &o.since, "TIME", "Show logs since TIME (RFC 3339, unix time, or a duration like 10m)",
	 0},
	{"tail", 0, OPT_INT, &o.tail, "N", "Output the specified number of LINES at the end of the logs (-1: all)", 0},
	{"timestamps", 't', OPT_BOOL, &o.timestamps, NULL, "Output the timestamps in the log", 0},
	{"until", 0, OPT_STRING, &o.until, "TIME", "Show logs until TIME", 0},
	{0},
};

static int logs_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct ctr_logs_opts lo = {
		.follow = o.follow, .timestamps = o.timestamps, .tail = o.tail, .out_fd = 1, .err_fd = 2};
	if (o.tail < -1)
		return err_makex(err, EINVAL, "invalid value %ld for --tail", o.tail);
	if (o.since && ctr_parse_log_time(o.since, &lo.since_ns, err) < 0)
		return err_wrap(err, "--since");
	if (o.until && ctr_parse_log_time(o.until, &lo.until_ns, err) < 0)
		return err_wrap(err, "--until");
	if (!o.latest && argc == 0)
		return err_makex(err, EINVAL, "you must provide at least one container name or ID");
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	int rc = 0;
	if (o.latest) {
		struct ctr *v = NULL;
		size_t n = 0;
		rc = ctr_list(&e, &v, &n, err);
		if (rc == 0 && n == 0)
			rc = err_makex(err, ENOENT, "no containers to show logs for");
		if (rc == 0) {
			lo.name = o.names ? v[0].row.name : NULL;
			rc = ctr_logs(&e, &v[0], &lo, err);
		}
		ctr_list_free(v, n);
	}
	for (int i = 0; rc == 0 && i < argc && !o.latest; i++) {
		struct ctr c = {0};
		if (ctr_lookup(&e, argv[i], &c, err) < 0) {
			rc = -1;
			break;
		}
		lo.name = o.names || argc > 1 ? c.row.name : NULL;
		rc = ctr_logs(&e, &c, &lo, err);
		ctr_release(&c);
	}
	fflush(stdout);
	ctr_cli_engine_release(&e);
	return rc;
}

const struct cli_impl cli_logs = {
	.usage = "[options] CONTAINER [CONTAINER...]",
	.description = "Fetch the logs of one or more containers. A container with the k8s-file or json-file log "
		       "driver is read from its log file (all its rotated files, oldest first); one with the journald "
		       "driver from the systemd journal, its entries matched by CONTAINER_ID_FULL (this needs "
		       "libsystemd.so.0, loaded when used).",
	.opts = logs_opts,
	.max_args = -1,
	.run = logs_run,
};
