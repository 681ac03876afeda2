/* skiff-runtime create / run */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/skiff-runtime/runtime-cli.h"
#include "vendor-free/strv.h"

static int create_or_run(struct global *g, int argc, char **argv, bool run)
{
	static const struct option opts[] = {
		{"bundle", required_argument, NULL, 'b'},
		{"config", required_argument, NULL, 'f'},
		{"console-socket", required_argument, NULL, 'c'},
		{"pid-file", required_argument, NULL, 'p'},
		{"preserve-fds", required_argument, NULL, 'P'},
		{"no-pivot", no_argument, NULL, 'n'},
		{"no-new-keyring", no_argument, NULL, 'k'},
		{"no-subreaper", no_argument, NULL, 'S'},
		{"detach", no_argument, NULL, 'd'},
		{"keep", no_argument, NULL, 'K'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct rt_create_opts o = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, run ? "+b:f:dh" : "+b:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o.bundle = optarg;
			break;
		case 'f':
			o.config = optarg;
			break;
		case 'c':
			o.console_socket = optarg;
			break;
		case 'p':
			o.pid_file = optarg;
			break;
		case 'P': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 0 || n > 65536) {
				fprintf(stderr, "skiff-runtime: --preserve-fds: invalid number `%s`\n", optarg);
				return 1;
			}
			o.preserve_fds = (unsigned)n;
			break;
		}
		case 'n':
			o.no_pivot = true;
			break;
		case 'k': /* never makes a keyring anyway */
		case 'S':
		case 'K':
			break;
		case 'd':
			if (!run)
				return 1;
			o.detach = true;
			break;
		case 'h':
			printf("Usage: skiff-runtime %s [OPTION...] CONTAINER\n"
			       "  -b, --bundle=DIR          the bundle (default: .)\n"
			       "  -f, --config=FILE         the config.json (default: BUNDLE/config.json)\n"
			       "      --console-socket=PATH send the pty master here (process.terminal)\n"
			       "      --pid-file=FILE       write the container's pid\n"
			       "      --preserve-fds=N      pass fds 3..3+N-1 into the container\n"
			       "      --no-pivot            do not use pivot_root\n"
			       "      --no-new-keyring      accepted (no keyring is ever made)\n%s",
			       run ? "run" : "create",
			       run ? "  -d, --detach              do not wait for the container\n" : "");
			return 0;
		default:
			return 1;
		}
	}
	if (!want_args(g, run ? "run" : "create", argc, argv, 1, "CONTAINER"))
		return 1;
	o.id = argv[optind];
	struct strv warnings = STRV_INIT;
	struct skiff_err *err = NULL;
	int rc, status = 0;
	if (run)
		rc = rt_run(&g->rt, &o, &warnings, &status, &err);
	else
		rc = rt_create(&g->rt, &o, &warnings, &err);
	warn_all(g, &warnings);
	if (rc < 0)
		return fail(g, err);
	return status;
}

int cmd_create(struct global *g, int argc, char **argv)
{
	return create_or_run(g, argc, argv, false);
}

int cmd_run(struct global *g, int argc, char **argv)
{
	return create_or_run(g, argc, argv, true);
}
