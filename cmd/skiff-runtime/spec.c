/* skiff-runtime spec */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cmd/skiff-runtime/runtime-cli.h"
#include "pkg/spec/runtime.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"

/* skiff-runtime spec [--rootless] [-b DIR] */
int cmd_spec(struct global *g, int argc, char **argv)
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
		return fail(g, err);
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
	return rc < 0 ? fail(g, err) : 0;
}
