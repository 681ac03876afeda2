/* skiff-runtime start, state, kill, delete, pause, resume, list, features */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/skiff-runtime/runtime-cli.h"
#include "vendor-free/signame.h"
#include "vendor-free/strbuf.h"

/* Commands that take only CONTAINER (and --help). */
static const char *one_id(struct global *g, const char *cmd, int argc, char **argv, const char *help)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: skiff-runtime %s CONTAINER\n%s\n", cmd, help);
			return "";
		}
		return NULL;
	}
	if (!want_args(g, cmd, argc, argv, 1, "CONTAINER"))
		return NULL;
	return argv[optind];
}

static int emit(const struct global *g, int rc, struct strbuf *out, struct skiff_err *err)
{
	if (rc < 0) {
		strbuf_release(out);
		return fail(g, err);
	}
	fwrite(out->buf, 1, out->len, stdout);
	strbuf_release(out);
	return 0;
}

int cmd_start(struct global *g, int argc, char **argv)
{
	const char *id = one_id(g, "start", argc, argv, "Start a created container.");
	if (!id)
		return 1;
	if (!*id)
		return 0;
	struct skiff_err *err = NULL;
	return rt_start(&g->rt, id, &err) < 0 ? fail(g, err) : 0;
}

int cmd_state(struct global *g, int argc, char **argv)
{
	const char *id = one_id(g, "state", argc, argv, "Print the state of a container as JSON.");
	if (!id)
		return 1;
	if (!*id)
		return 0;
	struct skiff_err *err = NULL;
	struct strbuf out = STRBUF_INIT;
	int rc = rt_state(&g->rt, id, &out, &err);
	return emit(g, rc, &out, err);
}

static int pause_resume(struct global *g, int argc, char **argv, bool pause)
{
	const char *cmd = pause ? "pause" : "resume";
	const char *id =
		one_id(g, cmd, argc, argv, pause ? "Freeze every process of a container." : "Thaw a paused container.");
	if (!id)
		return 1;
	if (!*id)
		return 0;
	struct skiff_err *err = NULL;
	return rt_pause(&g->rt, id, pause, &err) < 0 ? fail(g, err) : 0;
}

int cmd_pause(struct global *g, int argc, char **argv)
{
	return pause_resume(g, argc, argv, true);
}

int cmd_resume(struct global *g, int argc, char **argv)
{
	return pause_resume(g, argc, argv, false);
}

int cmd_kill(struct global *g, int argc, char **argv)
{
	static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}, {0}};
	bool all = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+ah", opts, NULL)) != -1) {
		if (c == 'a') {
			all = true;
		} else if (c == 'h') {
			puts("Usage: skiff-runtime kill [-a|--all] CONTAINER [SIGNAL]\n"
			     "Send SIGNAL (default TERM) to the container's init, or with --all to every process.");
			return 0;
		} else {
			return 1;
		}
	}
	int n = argc - optind;
	if (n < 1 || n > 2) {
		fprintf(stderr, "skiff-runtime: kill: expected CONTAINER [SIGNAL]\n");
		return 1;
	}
	struct skiff_err *err = NULL;
	int sig = 15;
	if (n == 2 && sig_from_name(argv[optind + 1], &sig, &err) < 0)
		return fail(g, err);
	return rt_kill(&g->rt, argv[optind], sig, all, &err) < 0 ? fail(g, err) : 0;
}

int cmd_delete(struct global *g, int argc, char **argv)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {0}};
	bool force = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
		if (c == 'f') {
			force = true;
		} else if (c == 'h') {
			puts("Usage: skiff-runtime delete [-f|--force] CONTAINER\n"
			     "Remove a stopped container's state; --force kills a running one first.");
			return 0;
		} else {
			return 1;
		}
	}
	if (!want_args(g, "delete", argc, argv, 1, "CONTAINER"))
		return 1;
	struct skiff_err *err = NULL;
	return rt_delete(&g->rt, argv[optind], force, &err) < 0 ? fail(g, err) : 0;
}

int cmd_list(struct global *g, int argc, char **argv)
{
	static const struct option opts[] = {{"quiet", no_argument, NULL, 'q'},
					     {"format", required_argument, NULL, 'f'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	bool quiet = false;
	const char *format = "table";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+qf:h", opts, NULL)) != -1) {
		if (c == 'q') {
			quiet = true;
		} else if (c == 'f') {
			format = optarg;
		} else if (c == 'h') {
			puts("Usage: skiff-runtime list [-q|--quiet] [-f|--format table|json]");
			return 0;
		} else {
			return 1;
		}
	}
	if (strcmp(format, "table") && strcmp(format, "json")) {
		fprintf(stderr, "skiff-runtime: list: invalid format `%s` (table or json)\n", format);
		return 1;
	}
	if (!want_args(g, "list", argc, argv, 0, ""))
		return 1;
	struct skiff_err *err = NULL;
	struct strbuf out = STRBUF_INIT;
	int rc = rt_list(&g->rt, format, quiet, &out, &err);
	return emit(g, rc, &out, err);
}

int cmd_features(struct global *g, int argc, char **argv)
{
	optind = 1;
	if (!want_args(g, "features", argc, argv, 0, ""))
		return 1;
	struct skiff_err *err = NULL;
	struct strbuf out = STRBUF_INIT;
	int rc = rt_features(&out, &err);
	return emit(g, rc, &out, err);
}
