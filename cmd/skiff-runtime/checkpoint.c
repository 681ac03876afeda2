/* skiff-runtime checkpoint, restore: crun's command lines over pkg/runtime/criu.c */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/skiff-runtime/runtime-cli.h"
#include "pkg/runtime/criu.h"

enum {
	OPT_IMAGE = 0x100,
	OPT_WORK,
	OPT_LEAVE,
	OPT_TCP,
	OPT_SHELL,
	OPT_UNIX,
	OPT_LOCKS,
	OPT_BUNDLE,
	OPT_PIDFILE,
	OPT_CONSOLE,
	OPT_DETACH,
	OPT_MANAGE_CGROUPS,
};

static int run(struct global *g, int argc, char **argv, bool restore)
{
	static const struct option opts[] = {
		{"image-path", required_argument, NULL, OPT_IMAGE},
		{"work-path", required_argument, NULL, OPT_WORK},
		{"leave-running", no_argument, NULL, OPT_LEAVE},
		{"tcp-established", no_argument, NULL, OPT_TCP},
		{"shell-job", no_argument, NULL, OPT_SHELL},
		{"ext-unix-sk", no_argument, NULL, OPT_UNIX},
		{"file-locks", no_argument, NULL, OPT_LOCKS},
		{"manage-cgroups-mode", required_argument, NULL, OPT_MANAGE_CGROUPS},
		{"bundle", required_argument, NULL, OPT_BUNDLE},
		{"pid-file", required_argument, NULL, OPT_PIDFILE},
		{"console-socket", required_argument, NULL, OPT_CONSOLE},
		{"detach", no_argument, NULL, OPT_DETACH},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *cmd = restore ? "restore" : "checkpoint";
	struct rt_criu_opts o = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, restore ? "+b:dh" : "+h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_IMAGE:
			o.image_path = optarg;
			break;
		case OPT_WORK:
			o.work_path = optarg;
			break;
		case OPT_LEAVE:
			o.leave_running = true;
			break;
		case OPT_TCP:
			o.tcp_established = true;
			break;
		case OPT_SHELL:
			o.shell_job = true;
			break;
		case OPT_UNIX:
			o.ext_unix_sk = true;
			break;
		case OPT_LOCKS:
			o.file_locks = true;
			break;
		case OPT_MANAGE_CGROUPS:
			break; /* cgroups are always left alone (ignore) */
		case 'b':
		case OPT_BUNDLE:
			o.bundle = optarg;
			break;
		case OPT_PIDFILE:
			o.pid_file = optarg;
			break;
		case OPT_CONSOLE:
			o.console_socket = optarg;
			break;
		case 'd':
		case OPT_DETACH:
			o.detach = true;
			break;
		case 'h':
			if (restore)
				puts("Usage: skiff-runtime restore --image-path DIR [--work-path DIR] [--bundle DIR]\n"
				     "       [--pid-file FILE] [--detach] [--tcp-established] [--shell-job] "
				     "[--ext-unix-sk]\n"
				     "       [--file-locks] CONTAINER\n"
				     "Restore a container from a CRIU checkpoint ($SKIFF_CRIU, else criu in PATH).\n"
				     "The restored process inherits this command's stdin, stdout and stderr.");
			else
				puts("Usage: skiff-runtime checkpoint --image-path DIR [--work-path DIR] "
				     "[--leave-running]\n"
				     "       [--tcp-established] [--shell-job] [--ext-unix-sk] [--file-locks] "
				     "CONTAINER\n"
				     "Checkpoint a running container with CRIU ($SKIFF_CRIU, else criu in PATH).");
			return 0;
		default:
			return 1;
		}
	}
	if (!want_args(g, cmd, argc, argv, 1, "CONTAINER"))
		return 1;
	if (!restore && (o.bundle || o.pid_file || o.console_socket || o.detach)) {
		fprintf(stderr, "skiff-runtime: checkpoint: --bundle, --pid-file, --console-socket and --detach are "
				"restore options\n");
		return 1;
	}
	o.id = argv[optind];
	struct skiff_err *err = NULL;
	if (rt_criu_check(NULL, &err) < 0)
		return fail(g, err);
	int rc = restore ? rt_restore(&g->rt, &o, &err) : rt_checkpoint(&g->rt, &o, &err);
	return rc < 0 ? fail(g, err) : 0;
}

int cmd_checkpoint(struct global *g, int argc, char **argv)
{
	return run(g, argc, argv, false);
}

int cmd_restore(struct global *g, int argc, char **argv)
{
	return run(g, argc, argv, true);
}
