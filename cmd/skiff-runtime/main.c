/*
 * skiff-runtime: an OCI runtime with crun's command line, a thin front over
 * pkg/runtime. This first increment has `spec`; create/start/run/state/kill/delete/exec
 * come with pkg/runtime (issue: containers).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkg/spec/runtime.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/err.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"

struct global {
	const char *root, *log, *log_format;
	bool debug, systemd_cgroup;
};

static int fail(struct skiff_err *e)
{
	fprintf(stderr, "skiff-runtime: %s\n", e->msg);
	err_free(e);
	return 1;
}

static void usage(FILE *f)
{
	fputs("Usage: skiff-runtime [OPTION...] COMMAND [OPTION...]\n\n"
	      "COMMANDS:\n"
	      "\tspec      - generate a configuration file\n\n"
	      "OPTIONS:\n"
	      "\t--root=DIR          root directory for container state\n"
	      "\t--log=FILE          log file\n"
	      "\t--log-format=FORMAT text or json\n"
	      "\t--debug             produce verbose output\n"
	      "\t--systemd-cgroup    use systemd for cgroups (accepted, not used)\n"
	      "\t--version, -v       print the version\n"
	      "\t--help, -h          this help\n",
	      f);
}

/* skiff-runtime spec [--rootless] [-b DIR] */
static int cmd_spec(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rootless", no_argument, NULL, 'r'},
		{"bundle", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *bundle = ".";
	bool rootless = geteuid() != 0;
	struct skiff_err *err = NULL;
	struct strbuf out = STRBUF_INIT;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rootless = true;
			break;
		case 'b':
			bundle = optarg;
			break;
		case 'h':
			puts("Usage: skiff-runtime spec [--rootless] [-b|--bundle DIR]\n"
			     "Write a default config.json into the bundle directory.");
			return 0;
		default:
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "skiff-runtime: spec: unexpected argument `%s`\n", argv[optind]);
		return 1;
	}
	cleanup_close int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err_make(&err, errno, "open bundle %s", bundle);
		return fail(err);
	}
	if (faccessat(dfd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		fprintf(stderr, "skiff-runtime: spec: file `config.json` already exists in %s\n", bundle);
		return 1;
	}
	struct spec_runtime *spec = spec_runtime_default(rootless);
	int rc = spec_runtime_generate(spec, &out, &err);
	spec_runtime_free(spec);
	if (rc == 0)
		rc = write_file_atomic(dfd, "config.json", out.buf, out.len, 0644, &err);
	strbuf_release(&out);
	return rc < 0 ? fail(err) : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'R'},
		{"log", required_argument, NULL, 'L'},
		{"log-format", required_argument, NULL, 'F'},
		{"debug", no_argument, NULL, 'd'},
		{"systemd-cgroup", no_argument, NULL, 's'},
		{"version", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct global g = {0};
	int c;

	/* global options end at the command word */
	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'R':
			g.root = optarg;
			break;
		case 'L':
			g.log = optarg;
			break;
		case 'F':
			g.log_format = optarg;
			break;
		case 'd':
			g.debug = true;
			break;
		case 's':
			g.systemd_cgroup = true;
			break;
		case 'v':
			printf("skiff-runtime version %s\nspec: 1.2.0\n+SECCOMP +CAP +USERNS\n", SKIFF_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	(void)g; /* state dir, logging and cgroup manager come with create/start */
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	const char *cmd = argv[optind];
	if (!strcmp(cmd, "spec"))
		return cmd_spec(argc - optind, argv + optind);
	fprintf(stderr, "skiff-runtime: unknown command `%s`\n", cmd);
	return 1;
}
