/* info, system check, system reset, system df, unshare */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cmd/skiff/output.h"
#include "cmd/skiff/ctr-cli.h"
#include "cmd/skiff/skiff.h"
#include "pkg/engine/volumes.h"
#include "pkg/spec/image.h"
#include "pkg/store/store.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/humanize.h"
#include "vendor-free/xalloc.h"

static const char *info_format;

static const struct cli_opt info_opts[] = {
	{"format", 'f', OPT_STRING, &info_format, "FORMAT", "Change the output format to JSON or a Go template", 0},
	{0},
};

static int info_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct utsname u;
	uint64_t nimages = 0;
	struct json *o, *host, *store, *ver;
	if (uname(&u) < 0)
		return err_make(err, errno, "uname");
	if (store_image_count(ctx->store, &nimages, err) < 0)
		return -1;
	o = json_new_object();
	host = json_new_object();
	json_object_set_string(host, "arch", spec_goarch());
	json_object_set_string(host, "os", "linux");
	json_object_set_string(host, "hostname", u.nodename);
	json_object_set_string(host, "kernel", u.release);
	json_object_set_int(host, "cpus", sysconf(_SC_NPROCESSORS_ONLN));
	json_object_set_bool(host, "rootless", ctx->cfg.rootless);
	struct json *sec = json_new_object();
	json_object_set_bool(sec, "rootless", ctx->cfg.rootless);
	json_object_set(host, "security", sec);
	json_object_set(o, "host", host);
	store = json_new_object();
	json_object_set_string(store, "graphRoot", ctx->cfg.graphroot);
	json_object_set_string(store, "runRoot", ctx->cfg.runroot);
	json_object_set_string(store, "graphDriverName", ctx->cfg.driver);
	json_object_set_string(store, "configFile", ctx->cfg.storage_conf ? ctx->cfg.storage_conf : "");
	json_object_set_string(store, "imageCopyTmpDir", ctx->cfg.tmpdir);
	struct json *images = json_new_object();
	json_object_set_int(images, "number", (int64_t)nimages);
	json_object_set(store, "imageStore", images);
	json_object_set(o, "store", store);
	ver = json_new_object();
	json_object_set_string(ver, "Version", SKIFF_VERSION);
	{
		cleanup_free char *osarch = xasprintf("linux/%s", spec_goarch());
		json_object_set_string(ver, "OsArch", osarch);
	}
	json_object_set(o, "version", ver);
	int rc = 0;
	if (info_format && strcmp(info_format, "json")) {
		/* Templates see podman's Go field names; JSON shows its json tags. */
		struct json *g = json_new_object(), *gh = json_new_object(), *gs = json_new_object();
		struct json *gsec = json_new_object(), *gis = json_new_object(), *gv = json_new_object();
		json_object_set_string(gh, "Arch", spec_goarch());
		json_object_set_string(gh, "Hostname", u.nodename);
		json_object_set_string(gh, "Kernel", u.release);
		json_object_set_string(gh, "OS", "linux");
		json_object_set_int(gh, "CPUs", sysconf(_SC_NPROCESSORS_ONLN));
		json_object_set_bool(gsec, "Rootless", ctx->cfg.rootless);
		json_object_set(gh, "Security", gsec);
		json_object_set(g, "Host", gh);
		json_object_set_string(gs, "GraphRoot", ctx->cfg.graphroot);
		json_object_set_string(gs, "RunRoot", ctx->cfg.runroot);
		json_object_set_string(gs, "GraphDriverName", ctx->cfg.driver);
		json_object_set_string(gs, "ConfigFile", ctx->cfg.storage_conf ? ctx->cfg.storage_conf : "");
		json_object_set_int(gis, "Number", (int64_t)nimages);
		json_object_set(gs, "ImageStore", gis);
		json_object_set(g, "Store", gs);
		json_object_set_string(gv, "Version", SKIFF_VERSION);
		json_object_set(g, "Version", gv);
		json_free(o);
		rc = output_rows(info_format, NULL, g, NULL, NULL, err);
		json_free(g);
		return rc;
	}
	if (info_format) {
		output_json(o);
	} else {
		printf("host:\n  arch: %s\n  hostname: %s\n  kernel: %s\n  os: linux\n  rootless: %s\n", spec_goarch(),
		       u.nodename, u.release, ctx->cfg.rootless ? "true" : "false");
		printf("store:\n  configFile: %s\n  graphDriverName: %s\n  graphRoot: %s\n  imageStore:\n    number: "
		       "%llu\n"
		       "  runRoot: %s\n",
		       ctx->cfg.storage_conf ? ctx->cfg.storage_conf : "", ctx->cfg.driver, ctx->cfg.graphroot,
		       (unsigned long long)nimages, ctx->cfg.runroot);
		printf("version:\n  OsArch: linux/%s\n  Version: %s\n", spec_goarch(), SKIFF_VERSION);
	}
	json_free(o);
	return 0;
}

const struct cli_impl cli_info = {
	.usage = "[options]",
	.description = "Display skiff related system information: host, store paths and counts, rootless mode.",
	.opts = info_opts,
	.max_args = 0,
	.run = info_run,
};

static bool check_repair;

static const struct cli_opt check_opts[] = {
	{"repair", 'r', OPT_BOOL, &check_repair, NULL, "Remove inconsistent images and layers", 0},
	{0},
};

static int check_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct store_check_report rep = {STRV_INIT, 0};
	if (store_check(ctx->store, check_repair, &rep, err) < 0) {
		strv_release(&rep.problems);
		return -1;
	}
	for (size_t i = 0; i < rep.problems.len; i++)
		printf("%s\n", rep.problems.v[i]);
	int status = rep.problems.len && rep.repaired < rep.problems.len ? 1 : 0;
	if (rep.problems.len && check_repair)
		printf("repaired %u problem%s\n", rep.repaired, rep.repaired == 1 ? "" : "s");
	strv_release(&rep.problems);
	return status;
}

const struct cli_impl cli_system_check = {
	.usage = "[options]",
	.description = "Check the store for consistency: every image's layers exist and are complete, and every "
		       "layer's content is present. With --repair, remove what is broken. Exit status 1 when "
		       "problems remain.",
	.opts = check_opts,
	.max_args = 0,
	.run = check_run,
};

static bool reset_force;

static const struct cli_opt reset_opts[] = {
	{"force", 'f', OPT_BOOL, &reset_force, NULL, "Do not prompt for confirmation", 0},
	{0},
};

static int reset_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	if (!reset_force) {
		char answer[16] = "";
		fprintf(stderr, "WARNING! This will remove:\n        - all containers\n        - all images\n"
				"        - all build cache\nAre you sure you want to continue? [y/N] ");
		if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
			return 0;
	}
	/* the containers first: their monitors and processes go, their mounts with them */
	struct skiff_err *e = NULL;
	if (skiff_open_store(ctx, NEED_USERNS, &e) == 0) {
		struct engine eng;
		if (ctr_cli_engine(ctx, &eng, &e) == 0) {
			struct ctr *v = NULL;
			size_t n = 0;
			if (ctr_list(&eng, &v, &n, &e) == 0) {
				for (size_t i = 0; i < n; i++) {
					struct skiff_err *e1 = NULL;
					if (ctr_remove(&eng, &v[i], true, &e1) < 0)
						skiff_warn(ctx, "%s", e1->msg);
					err_free(e1);
				}
			}
			ctr_list_free(v, n);
			ctr_cli_engine_release(&eng);
		}
		store_close(ctx->store);
		ctx->store = NULL;
	}
	if (e) {
		skiff_warn(ctx, "%s", e->msg);
		err_free(e);
	}
	return store_reset(ctx->cfg.graphroot, ctx->cfg.runroot, err);
}

const struct cli_impl cli_system_reset = {
	.usage = "[options]",
	.description = "Reset skiff storage back to its initial state: remove all images and layers.",
	.opts = reset_opts,
	.max_args = 0,
	.run = reset_run,
};

static const char *df_format;
static bool df_verbose;

static const struct cli_opt df_opts[] = {
	{"format", 0, OPT_STRING, &df_format, "FORMAT", "Pretty-print with a Go template or json", 0},
	{"verbose", 'v', OPT_BOOL, &df_verbose, NULL, "Show detailed information on disk usage", 0},
	{0},
};

static const struct header_name df_headers[] = {{"TotalCount", "TOTAL"}, {0}};

static int df_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct store_usage u;
	char size[32];
	uint64_t nvol = 0, vactive = 0, vbytes = 0;
	struct engine e;
	if (store_usage(ctx->store, &u, err) < 0)
		return -1;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	int vr = vol_usage(&e, &nvol, &vactive, &vbytes, err);
	ctr_cli_engine_release(&e);
	if (vr < 0)
		return -1;
	struct json *rows = json_new_array();
	static const char *const types[] = {"Images", "Containers", "Local Volumes"};
	for (int i = 0; i < 3; i++) {
		struct json *r = json_new_object();
		uint64_t total = i == 0	  ? u.images
				 : i == 2 ? nvol
					  : 0,
			 bytes = i == 0	  ? u.images_size
				 : i == 2 ? vbytes
					  : 0;
		json_object_set_string(r, "Type", types[i]);
		json_object_set_int(r, "Total", (int64_t)total);
		json_object_set_int(r, "TotalCount", (int64_t)total);
		json_object_set_int(r, "Active", i == 2 ? (int64_t)vactive : 0);
		human_size_precision((double)bytes, 4, false, size,
				     sizeof(size)); /* podman: units.HumanSize, "2.029MB" */
		json_object_set_string(r, "Size", size);
		json_object_set_int(r, "RawSize", (int64_t)bytes);
		cleanup_free char *rec = xasprintf("%s (100%%)", size);
		json_object_set_string(r, "Reclaimable", bytes ? rec : "0B (0%)");
		json_array_append(rows, r);
	}
	int rc = output_rows(df_format, "table {{.Type}}\t{{.Total}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}", rows,
			     NULL, df_headers, err);
	json_free(rows);
	return rc;
}

const struct cli_impl cli_system_df = {
	.usage = "[options]",
	.description = "Show skiff disk usage.",
	.opts = df_opts,
	.max_args = 0,
	.run = df_run,
};

static int unshare_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	const char *shell = getenv("SHELL");
	if (!ctx->cfg.rootless)
		return err_makex(err, EPERM, "please use unshare with rootless");
	if (setenv("CONTAINERS_GRAPHROOT", ctx->cfg.graphroot, 1) < 0 ||
	    setenv("CONTAINERS_RUNROOT", ctx->cfg.runroot, 1) < 0)
		return err_make(err, errno, "setenv");
	fflush(stdout);
	if (argc == 0) {
		char *sh[] = {(char *)(shell && *shell ? shell : "/bin/sh"), NULL};
		argv = sh;
	}
	execvp(argv[0], argv);
	int e = errno;
	fprintf(stderr, "Error: exec %s: %s\n", argv[0], strerror(e));
	return e == ENOENT ? 127 : 126;
}

const struct cli_impl cli_unshare = {
	.usage = "[options] [COMMAND [ARG...]]",
	.description = "Run a command (default: $SHELL) inside the rootless user and mount namespaces, where the "
		       "store's files show their image owners.",
	.parse_flags = CLI_PARSE_STOP_AT_POSITIONAL,
	.max_args = -1,
	.run = unshare_run,
};
