/*
 * skiff-runtime: an OCI runtime with crun's command line, a thin front over pkg/runtime.
 * Global options come before the command word, as with crun and runc.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/skiff-runtime/runtime-cli.h"
#include "pkg/json/json.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"

extern char **environ;

/* One line to the --log file: text, or JSON as crun writes it for podman to read. */
static void log_line(const struct global *g, const char *level, const char *msg)
{
	if (!g->log)
		return;
	cleanup_close int fd = open(g->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	struct strbuf sb = STRBUF_INIT;
	char ts[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (g->log_format && !strcmp(g->log_format, "json")) {
		strbuf_addstr(&sb, "{\"msg\":");
		json_quote(msg, strlen(msg), &sb);
		strbuf_addf(&sb, ",\"level\":\"%s\",\"time\":\"%s\"}\n", level, ts);
	} else {
		strbuf_addf(&sb, "%s %s: %s\n", ts, level, msg);
	}
	if (write(fd, sb.buf, sb.len) < 0) {
		/* nowhere left to report it */
	}
	strbuf_release(&sb);
}

int fail(const struct global *g, struct skiff_err *e)
{
	fprintf(stderr, "skiff-runtime: %s\n", e->msg);
	log_line(g, "error", e->msg);
	err_free(e);
	return 1;
}

void warn_all(const struct global *g, struct strv *warnings)
{
	for (size_t i = 0; i < warnings->len; i++) {
		fprintf(stderr, "skiff-runtime: warning: %s\n", warnings->v[i]);
		log_line(g, "warning", warnings->v[i]);
	}
	strv_release(warnings);
}

bool want_args(const struct global *g, const char *cmd, int argc, char **argv, int n, const char *what)
{
	(void)g;
	if (argc - optind == n)
		return true;
	if (argc - optind > n)
		fprintf(stderr, "skiff-runtime: %s: unexpected argument `%s`\n", cmd, argv[optind + n]);
	else
		fprintf(stderr, "skiff-runtime: %s: missing %s\n", cmd, what);
	return false;
}

static const struct {
	const char *name;
	int (*fn)(struct global *, int, char **);
	bool sealed; /* runs from a sealed copy of the binary (CVE-2019-5736) */
	const char *summary;
} commands[] = {
	{"checkpoint", cmd_checkpoint, false, "checkpoint a running container (CRIU)"},
	{"create", cmd_create, true, "create a container"},
	{"delete", cmd_delete, false, "remove definition for a container"},
	{"exec", cmd_exec, true, "exec a command in a running container"},
	{"features", cmd_features, false, "show the enabled features"},
	{"kill", cmd_kill, false, "send a signal to the container init process"},
	{"list", cmd_list, false, "list known containers"},
	{"pause", cmd_pause, false, "pause all the processes in the container"},
	{"restore", cmd_restore, false, "restore a container from a checkpoint (CRIU)"},
	{"resume", cmd_resume, false, "unpause the processes in the container"},
	{"run", cmd_run, true, "run a container"},
	{"spec", cmd_spec, false, "generate a configuration file"},
	{"start", cmd_start, false, "start a container"},
	{"state", cmd_state, false, "output the state of a container"},
};

static void usage(FILE *f)
{
	fputs("Usage: skiff-runtime [OPTION...] COMMAND [OPTION...]\n\nCOMMANDS:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "\t%-10s - %s\n", commands[i].name, commands[i].summary);
	fputs("\nOPTIONS:\n"
	      "\t--root=DIR             root directory for container state\n"
	      "\t--log=FILE             also write errors to FILE\n"
	      "\t--log-format=FORMAT    text or json\n"
	      "\t--cgroup-manager=MGR   cgroupfs, systemd or disabled\n"
	      "\t--systemd-cgroup       use systemd cgroups (falls back to cgroupfs)\n"
	      "\t--rootless=VALUE       accepted for crun compatibility\n"
	      "\t--debug                produce verbose output\n"
	      "\t--version, -v          print the version\n"
	      "\t--help, -h             this help\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'R'},
		{"log", required_argument, NULL, 'L'},
		{"log-format", required_argument, NULL, 'F'},
		{"log-level", required_argument, NULL, 'l'},
		{"cgroup-manager", required_argument, NULL, 'C'},
		{"rootless", required_argument, NULL, 'r'},
		{"debug", no_argument, NULL, 'd'},
		{"systemd-cgroup", no_argument, NULL, 's'},
		{"version", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct global g = {0};
	int c;

	/* global options end at the command word */
	while ((c = getopt_long(argc, argv, "+vVh", opts, NULL)) != -1) {
		switch (c) {
		case 'R':
			g.rt.root = optarg;
			break;
		case 'L':
			g.log = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
				fprintf(stderr, "skiff-runtime: --log-format: unknown format `%s` (text or json)\n",
					optarg);
				return 1;
			}
			g.log_format = optarg;
			break;
		case 'C':
			if (strcmp(optarg, "cgroupfs") && strcmp(optarg, "systemd") && strcmp(optarg, "disabled")) {
				fprintf(stderr, "skiff-runtime: --cgroup-manager: unknown manager `%s`\n", optarg);
				return 1;
			}
			g.rt.cgroup_manager = optarg;
			break;
		case 'l':
		case 'r':
			break;
		case 'd':
			g.rt.debug = true;
			break;
		case 's':
			g.systemd_cgroup = true;
			g.rt.cgroup_manager = "systemd";
			break;
		case 'v':
		case 'V':
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
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	const char *cmd = argv[optind];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name))
			continue;
		if (commands[i].sealed && !getenv("SKIFF_RUNTIME_NO_CLONE")) {
			struct skiff_err *err = NULL;
			if (rt_ensure_cloned_binary(argv, environ, &err) < 0)
				return fail(&g, err);
		}
		return commands[i].fn(&g, argc - optind, argv + optind);
	}
	fprintf(stderr, "skiff-runtime: unknown command `%s`\n", cmd);
	return 1;
}
