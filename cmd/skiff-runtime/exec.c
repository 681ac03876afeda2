/* skiff-runtime exec */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/skiff-runtime/runtime-cli.h"
#include "vendor-free/strv.h"

int cmd_exec(struct global *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"process", required_argument, NULL, 'p'},
		{"console-socket", required_argument, NULL, 'c'},
		{"pid-file", required_argument, NULL, 'P'},
		{"tty", no_argument, NULL, 't'},
		{"detach", no_argument, NULL, 'd'},
		{"cwd", required_argument, NULL, 'w'},
		{"env", required_argument, NULL, 'e'},
		{"user", required_argument, NULL, 'u'},
		{"cap", required_argument, NULL, 'C'},
		{"no-new-privs", no_argument, NULL, 'n'},
		{"preserve-fds", required_argument, NULL, 'F'},
		{"process-label", required_argument, NULL, 'L'},
		{"apparmor", required_argument, NULL, 'A'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct rt_exec_opts o = {0};
	int c, rc = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:tde:u:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.process_file = optarg;
			break;
		case 'c':
			o.console_socket = optarg;
			break;
		case 'P':
			o.pid_file = optarg;
			break;
		case 't':
			o.tty = true;
			break;
		case 'd':
			o.detach = true;
			break;
		case 'w':
			o.cwd = optarg;
			break;
		case 'e':
			strv_push(&o.env, optarg);
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'C':
			strv_push(&o.caps, optarg);
			break;
		case 'n':
			o.no_new_privs = true;
			break;
		case 'F': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 0 || n > 65536) {
				fprintf(stderr, "skiff-runtime: --preserve-fds: invalid number `%s`\n", optarg);
				goto out;
			}
			o.preserve_fds = (unsigned)n;
			break;
		}
		case 'L':
		case 'A':
			break; /* no SELinux or AppArmor here */
		case 'h':
			puts("Usage: skiff-runtime exec [OPTION...] CONTAINER [COMMAND [ARG...]]\n"
			     "  -p, --process=FILE        the process (JSON) to run\n"
			     "  -t, --tty                 a terminal (with --console-socket)\n"
			     "  -d, --detach              do not wait for the process\n"
			     "      --console-socket=PATH where the pty master goes\n"
			     "      --pid-file=FILE       write the process's pid\n"
			     "  -e, --env=KEY=VALUE       add to the environment\n"
			     "  -u, --user=UID[:GID]      run as\n"
			     "  -w, --cwd=DIR             working directory\n"
			     "      --cap=CAP             add a capability\n"
			     "      --no-new-privs        set no_new_privs\n"
			     "      --preserve-fds=N      pass fds 3..3+N-1");
			rc = 0;
			goto out;
		default:
			goto out;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "skiff-runtime: exec: missing CONTAINER\n");
		goto out;
	}
	o.id = argv[optind];
	for (int i = optind + 1; i < argc; i++)
		strv_push(&o.args, argv[i]);
	if (!o.process_file && !o.args.len) {
		fprintf(stderr, "skiff-runtime: exec: missing COMMAND (or --process)\n");
		goto out;
	}
	struct skiff_err *err = NULL;
	int status = 0;
	if (rt_exec(&g->rt, &o, &status, &err) < 0) {
		/* as a shell: 127 for a command not found, 126 for one that cannot run */
		int code = err->status == ENOENT && strstr(err->msg, "executable file")	  ? 127
			   : err->status == EACCES && strstr(err->msg, "executable file") ? 126
											  : 1;
		fail(g, err);
		rc = code;
	} else {
		rc = status;
	}
out:
	strv_release(&o.args);
	strv_release(&o.env);
	strv_release(&o.caps);
	return rc;
}
