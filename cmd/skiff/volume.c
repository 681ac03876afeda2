/* volume create/ls/inspect/rm/prune/exists/export/import: thin fronts over pkg/engine/volumes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/skiff/ctr-cli.h"
#include "cmd/skiff/output.h"
#include "cmd/skiff/skiff.h"
#include "pkg/engine/ctrconfig.h"
#include "pkg/engine/volumes.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

/* ---------------- create ---------------- */

static struct {
	const char *driver;
	struct strv opts, labels;
	bool ignore;
} cr;

static const struct cli_opt create_opts[] = {
	{"driver", 'd', OPT_STRING, &cr.driver, "DRIVER", "Volume driver (local)", 0},
	{"ignore", 0, OPT_BOOL, &cr.ignore, NULL, "Do not fail if the volume already exists", 0},
	{"label", 'l', OPT_LIST, &cr.labels, "KEY=VALUE", "Set metadata for the volume", 0},
	{"opt", 'o', OPT_LIST, &cr.opts, "KEY=VALUE",
	 "Set driver options: type=, device=, o= (mounted at first use; root only)", 0},
	{0},
};

static int create_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct engine e;
	struct spec_map labels = {0};
	for (size_t i = 0; i < cr.labels.len; i++)
		if (ctr_parse_label(cr.labels.v[i], &labels, err) < 0) {
			spec_map_release(&labels);
			return -1;
		}
	if (ctr_cli_engine(ctx, &e, err) < 0) {
		spec_map_release(&labels);
		return -1;
	}
	struct vol_create_opts o = {.driver = cr.driver, .options = &cr.opts, .labels = &labels, .ignore = cr.ignore};
	cleanup_free char *name = NULL;
	int rc = vol_create(&e, argc ? argv[0] : NULL, &o, &name, err);
	if (rc == 0)
		printf("%s\n", name);
	spec_map_release(&labels);
	ctr_cli_engine_release(&e);
	return rc;
}

const struct cli_impl cli_volume_create = {
	.usage = "[options] [NAME]",
	.description = "Create a volume NAME (a random name when none is given) with the local driver, in "
		       "graphroot/volumes/NAME/_data. A name must match [a-zA-Z0-9][a-zA-Z0-9_.-]*. With -o type=, "
		       "device= and o= the device is mounted there when a container first uses it (root only). "
		       "Prints the name.",
	.opts = create_opts,
	.max_args = 1,
	.run = create_run,
};

/* ---------------- ls ---------------- */

static struct {
	struct strv filters;
	const char *format;
	bool quiet, noheading;
} ls;

static const struct cli_opt ls_opts[] = {
	{"filter", 'f', OPT_LIST, &ls.filters, "FILTER",
	 "Filter volume output (name=, label=, driver=, dangling=, anonymous=)", 0},
	{"format", 0, OPT_STRING, &ls.format, "FORMAT", "Format volume output using JSON or a Go template", 0},
	{"noheading", 'n', OPT_BOOL, &ls.noheading, NULL, "Do not print headers", 0},
	{"quiet", 'q', OPT_BOOL, &ls.quiet, NULL, "Print volume output in quiet mode (names only)", 0},
	{0},
};

static const struct header_name vol_headers[] = {
	{"Name", "VOLUME NAME"}, {"Driver", "DRIVER"}, {"Mountpoint", "MOUNTPOINT"}, {"Scope", "SCOPE"}, {NULL, NULL}};

static int ls_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)argc;
	(void)argv;
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	cleanup_json struct json *arr = NULL;
	int rc = vol_list(&e, &ls.filters, &arr, err);
	if (rc == 0) {
		const char *def = ls.noheading ? "{{.Driver}}\t{{.Name}}" : "table {{.Driver}}\t{{.Name}}";
		if (ls.quiet)
			def = "{{.Name}}";
		rc = output_rows(ls.quiet ? NULL : ls.format, def, arr, NULL, vol_headers, err);
	}
	ctr_cli_engine_release(&e);
	return rc;
}

const struct cli_impl cli_volume_ls = {
	.usage = "[options]",
	.description = "List volumes, by name.",
	.opts = ls_opts,
	.max_args = 0,
	.run = ls_run,
};

/* ---------------- inspect ---------------- */

static struct {
	const char *format;
	bool all;
} insp;

static const struct cli_opt inspect_opts[] = {
	{"all", 'a', OPT_BOOL, &insp.all, NULL, "Inspect all volumes", 0},
	{"format", 'f', OPT_STRING, &insp.format, "FORMAT", "Format volume output using JSON or a Go template", 0},
	{0},
};

static int inspect_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	if (!insp.all && argc == 0)
		return err_makex(err, EINVAL, "provide one or more volume names or use --all");
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct json *all = NULL;
	int status = 0, rc = 0;
	if (insp.all) {
		rc = vol_list(&e, NULL, &all, err);
	} else {
		all = json_new_array();
		for (int i = 0; i < argc; i++) {
			struct json *j = NULL;
			struct skiff_err *e2 = NULL;
			if (vol_inspect(&e, argv[i], &j, &e2) < 0) {
				fprintf(stderr, "Error: %s\n", e2->msg);
				err_free(e2);
				status = 125;
				continue;
			}
			json_array_append(all, j);
		}
	}
	if (rc == 0) {
		if (!insp.format || !strcmp(insp.format, "json"))
			output_json(all);
		else
			rc = output_rows(insp.format, NULL, all, NULL, NULL, err);
	}
	json_free(all);
	ctr_cli_engine_release(&e);
	return rc < 0 ? rc : status;
}

const struct cli_impl cli_volume_inspect = {
	.usage = "[options] VOLUME [VOLUME...]",
	.description = "Display detailed information on one or more volumes, in podman's JSON.",
	.opts = inspect_opts,
	.max_args = -1,
	.run = inspect_run,
};

/* ---------------- rm ---------------- */

static struct {
	bool all, force;
} rmv;

static const struct cli_opt rm_opts[] = {
	{"all", 'a', OPT_BOOL, &rmv.all, NULL, "Remove all volumes", 0},
	{"force", 'f', OPT_BOOL, &rmv.force, NULL,
	 "Remove a volume by force: the containers that use it are removed first", 0},
	{0},
};

static int rm_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	if (!rmv.all && argc == 0)
		return err_makex(err, EINVAL, "choose either one or more volumes or all");
	if (rmv.all && argc)
		return err_makex(err, EINVAL, "choose either one or more volumes or all");
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct strv names = STRV_INIT;
	int rc = 0, status = 0;
	if (rmv.all) {
		cleanup_json struct json *arr = NULL;
		rc = vol_list(&e, NULL, &arr, err);
		for (size_t i = 0; rc == 0 && i < json_array_len(arr); i++)
			strv_push(&names, json_object_get_string(json_array_get(arr, i), "Name"));
	} else {
		for (int i = 0; i < argc; i++)
			strv_push(&names, argv[i]);
	}
	for (size_t i = 0; rc == 0 && i < names.len; i++) {
		struct skiff_err *e2 = NULL;
		if (vol_remove(&e, names.v[i], rmv.force, &e2) < 0) {
			/* as podman: 1 no such volume, 2 in use, else 125; the others still go */
			int st = err_status(e2) == ENOENT ? 1 : err_status(e2) == EBUSY ? 2 : 125;
			if (status)
				fprintf(stderr, "Error: %s\n", e2->msg);
			else {
				*err = e2;
				e2 = NULL;
			}
			err_free(e2);
			if (!status)
				status = st;
			continue;
		}
		printf("%s\n", names.v[i]);
	}
	strv_release(&names);
	ctr_cli_engine_release(&e);
	if (rc < 0)
		return -1;
	if (status) {
		/* the first error is printed by the dispatcher (exit 125) unless it is 1 or 2 */
		if (status != 125) {
			fprintf(stderr, "Error: %s\n", (*err)->msg);
			err_clear(err);
			return status;
		}
		return -1;
	}
	return 0;
}

const struct cli_impl cli_volume_rm = {
	.usage = "[options] VOLUME [VOLUME...]",
	.description = "Remove one or more volumes. A volume that a container uses is not removed (exit 2) "
		       "unless --force, which removes those containers first; an unknown volume is exit 1.",
	.opts = rm_opts,
	.max_args = -1,
	.run = rm_run,
};

/* ---------------- prune ---------------- */

static struct {
	bool force;
	struct strv filters;
} pr;

static const struct cli_opt prune_opts[] = {
	{"filter", 0, OPT_LIST, &pr.filters, "FILTER", "Provide filter values (label=, label!=)", 0},
	{"force", 'f', OPT_BOOL, &pr.force, NULL, "Do not prompt for confirmation", 0},
	{0},
};

static int prune_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)argc;
	(void)argv;
	if (!pr.force) {
		fputs("WARNING! This will remove all volumes not used by at least one container. The following "
		      "volumes will be removed:\nAre you sure you want to continue? [y/N] ",
		      stdout);
		fflush(stdout);
		char line[64] = "";
		if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y'))
			return 0;
	}
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct strv removed = STRV_INIT;
	int rc = vol_prune(&e, &pr.filters, &removed, err);
	for (size_t i = 0; i < removed.len; i++)
		printf("%s\n", removed.v[i]);
	strv_release(&removed);
	ctr_cli_engine_release(&e);
	return rc;
}

const struct cli_impl cli_volume_prune = {
	.usage = "[options]",
	.description = "Remove all volumes that no container uses.",
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
	cleanup_json struct json *j = NULL;
	int rc = vol_inspect(&e, argv[0], &j, err);
	ctr_cli_engine_release(&e);
	if (rc < 0 && err_status(*err) == ENOENT) {
		err_clear(err);
		return 1;
	}
	return rc;
}

const struct cli_impl cli_volume_exists = {
	.usage = "VOLUME",
	.description = "Check if a volume exists (exit status 0: yes, 1: no).",
	.min_args = 1,
	.max_args = 1,
	.run = exists_run,
};

/* ---------------- export ---------------- */

static struct {
	const char *output;
} ex;

static const struct cli_opt export_opts[] = {
	{"output", 'o', OPT_STRING, &ex.output, "FILE",
	 "Write to a specified file (default: stdout, which must be redirected)", 0},
	{0},
};

static int export_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)argc;
	int fd = STDOUT_FILENO;
	cleanup_close int ofd = -1;
	if (ex.output && strcmp(ex.output, "-") != 0) {
		ofd = open(ex.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (ofd < 0)
			return err_make(err, errno, "open %s", ex.output);
		fd = ofd;
	} else if (isatty(STDOUT_FILENO)) {
		return err_makex(err, EINVAL,
				 "cannot write to terminal, use command-line redirection or the --output flag");
	}
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	int rc = vol_export(&e, argv[0], fd, err);
	ctr_cli_engine_release(&e);
	if (rc == 0 && ofd >= 0 && fsync(ofd) < 0 && errno != EINVAL)
		rc = err_make(err, errno, "write %s", ex.output);
	return rc;
}

const struct cli_impl cli_volume_export = {
	.usage = "[options] VOLUME",
	.description = "Export the content of volume VOLUME (its _data directory) as a tar archive, to standard output "
		       "or to the file named with --output. Standard output must not be a terminal.",
	.opts = export_opts,
	.min_args = 1,
	.max_args = 1,
	.run = export_run,
};

/* ---------------- import ---------------- */

static int import_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	int fd = STDIN_FILENO;
	cleanup_close int ifd = -1;
	if (argc > 1 && strcmp(argv[1], "-") != 0) {
		ifd = open(argv[1], O_RDONLY | O_CLOEXEC);
		if (ifd < 0)
			return err_make(err, errno, "open %s", argv[1]);
		fd = ifd;
	}
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	int rc = vol_import(&e, argv[0], fd, err);
	ctr_cli_engine_release(&e);
	return rc;
}

const struct cli_impl cli_volume_import = {
	.usage = "VOLUME [FILE|-]",
	.description =
		"Import the content of a tar archive (plain, gzip, bzip2, xz or zstd; \"-\" or no FILE: standard "
		"input) into the existing volume VOLUME. Entries replace what the volume holds under the same "
		"names. Every entry is created inside the volume: one that climbs out with \"..\" or through a "
		"symbolic link is refused, naming it.",
	.min_args = 1,
	.max_args = 2,
	.run = import_run,
};
