/* skiff: the CLI. Parses global flags, finds the command in the table, prepares what
 * the command's setup flags ask for, runs it, and reports an error once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/skiff/skiff.h"
#include "pkg/net/net.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"

#define CMD(name, impl, flags, summary) {name, &impl, flags, summary},
const struct cli_command skiff_commands[] = {
#include "cmd/skiff/commands.def"
};
#undef CMD
const size_t skiff_ncommands = ARRAY_SIZE(skiff_commands);

static struct {
	const char *root, *runroot, *driver, *log_level, *tmpdir, *runtime;
	struct strv storage_opts;
	bool version;
} g;

const struct cli_opt skiff_global_opts[] = {
	{"root", 0, OPT_STRING, &g.root, "PATH",
	 "Path to the root directory in which data, including images, is stored", 0},
	{"runroot", 0, OPT_STRING, &g.runroot, "PATH",
	 "Path to the 'run directory' where all state information is stored", 0},
	{"storage-driver", 0, OPT_STRING, &g.driver, "DRIVER",
	 "Select which storage driver is used to manage storage of images and containers (overlay, vfs)", 0},
	{"storage-opt", 0, OPT_LIST, &g.storage_opts, "OPTION", "Used to pass an option to the storage driver", 0},
	{"runtime", 0, OPT_STRING, &g.runtime, "PATH",
	 "OCI runtime to use (skiff-runtime by default; crun, runc, or a path)", 0},
	{"tmpdir", 0, OPT_STRING, &g.tmpdir, "PATH", "Path to the tmp directory for big temporary files", 0},
	{"log-level", 0, OPT_STRING, &g.log_level, "LEVEL",
	 "Log messages above specified level (trace, debug, info, warn, error, fatal, panic)", 0},
	{"version", 'v', OPT_BOOL, &g.version, NULL, "Version of skiff", 0},
	{0},
};

static const struct cli_command *find_command(int argc, char **argv, int *ret_words)
{
	/* Longest match of one or two words. */
	if (argc >= 2) {
		for (size_t i = 0; i < skiff_ncommands; i++) {
			const char *n = skiff_commands[i].name;
			const char *sp = strchr(n, ' ');
			if (sp && strncmp(n, argv[0], (size_t)(sp - n)) == 0 && strlen(argv[0]) == (size_t)(sp - n) &&
			    strcmp(sp + 1, argv[1]) == 0) {
				*ret_words = 2;
				return &skiff_commands[i];
			}
		}
	}
	for (size_t i = 0; i < skiff_ncommands; i++) {
		if (strcmp(skiff_commands[i].name, argv[0]) == 0) {
			*ret_words = 1;
			return &skiff_commands[i];
		}
	}
	return NULL;
}

static void print_commands(FILE *f, const char *group)
{
	size_t glen = group ? strlen(group) : 0;
	fputs("\nAvailable Commands:\n", f);
	for (size_t i = 0; i < skiff_ncommands; i++) {
		const struct cli_command *c = &skiff_commands[i];
		const char *sp = strchr(c->name, ' ');
		if (c->flags & CMD_HIDDEN)
			continue;
		if (group) {
			if (!sp || strncmp(c->name, group, glen) != 0 || c->name[glen] != ' ')
				continue;
			fprintf(f, "  %-14s %s\n", sp + 1, c->summary);
		} else if (!sp) {
			fprintf(f, "  %-14s %s\n", c->name, c->summary);
		}
	}
}

void skiff_print_help(FILE *f, const struct cli_command *c)
{
	if (c->impl->description)
		fprintf(f, "%s\n\n", c->impl->description);
	else
		fprintf(f, "%s\n\n", c->summary);
	fprintf(f, "Usage:\n  skiff %s %s\n", c->name, c->impl->usage ? c->impl->usage : "");
	if (c->flags & CMD_GROUP)
		print_commands(f, c->name);
	cli_print_opts(f, c->impl->opts);
}

static void print_main_help(FILE *f)
{
	fputs("Manage pods, containers and images\n\nUsage:\n  skiff [options] COMMAND\n", f);
	print_commands(f, NULL);
	cli_print_opts(f, skiff_global_opts);
}

/* skiff help [COMMAND...] */
static int help_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	int words;
	const struct cli_command *c;
	if (argc == 0) {
		print_main_help(stdout);
		return 0;
	}
	c = find_command(argc, argv, &words);
	if (!c)
		return err_makex(err, EINVAL, "unrecognized command `skiff %s`", argv[0]);
	skiff_print_help(stdout, c);
	return 0;
}

const struct cli_impl cli_help = {
	.usage = "[COMMAND]",
	.description = "Show help for skiff or one of its commands.",
	.max_args = 2,
	.run = help_run,
};

/* A group word alone ("skiff image") lists its subcommands. */
const struct cli_impl cli_group = {
	.usage = "COMMAND",
	.max_args = -1,
};

static int report(struct skiff_err *e)
{
	fprintf(stderr, "Error: %s\n", e->msg);
	err_free(e);
	return 125;
}

int main(int argc, char **argv)
{
	struct skiff_ctx ctx = {.argv0 = argv[0]};
	struct skiff_err *err = NULL;
	bool help = false;
	char **pos = NULL;
	int npos = 0, words = 0, rc;
	const struct cli_command *c;

	/* the port proxy a slirp4netns container's published ports run through (pkg/net/net.h) */
	if (argc >= 2 && !strcmp(argv[1], NET_PORTPROXY_ARGV1))
		return net_portproxy_main(argc - 2, argv + 2);
	/* Global flags stop at the command word. */
	if (cli_parse(skiff_global_opts, argc - 1, argv + 1, CLI_PARSE_STOP_AT_POSITIONAL, &help, &npos, &pos, &err) <
	    0)
		return report(err);
	if (g.log_level) {
		static const char *const levels[] = {"trace",	"debug", "info",  "warn",
						     "warning", "error", "fatal", "panic"};
		bool ok = false;
		for (size_t i = 0; i < ARRAY_SIZE(levels); i++)
			ok |= !strcmp(g.log_level, levels[i]);
		if (!ok) {
			free(pos);
			fprintf(stderr,
				"Error: log level \"%s\" is not one of trace, debug, info, warn, error, fatal, panic\n",
				g.log_level);
			return 125;
		}
	}
	if (g.version) {
		printf("skiff version %s\n", SKIFF_VERSION);
		free(pos);
		return 0;
	}
	if (npos == 0) {
		free(pos);
		print_main_help(help ? stdout : stderr);
		return help ? 0 : 125;
	}
	/* pos[0] is the command word; the rest of argv follows it. */
	char **rest = pos;
	int nrest = npos;
	c = find_command(nrest, rest, &words);
	if (!c) {
		fprintf(stderr, "Error: unrecognized command `skiff %s`\nTry 'skiff --help' for more information\n",
			rest[0]);
		free(pos);
		return 125;
	}
	if (help) {
		skiff_print_help(stdout, c);
		free(pos);
		return 0;
	}
	if (c->flags & CMD_GROUP) {
		if (nrest > words && (!strcmp(rest[words], "--help") || !strcmp(rest[words], "-h"))) {
			skiff_print_help(stdout, c);
			free(pos);
			return 0;
		}
		if (nrest > words) {
			fprintf(stderr,
				"Error: unrecognized command `skiff %s %s`\nTry 'skiff %s --help' for more "
				"information\n",
				c->name, rest[words], c->name);
		} else {
			skiff_print_help(stderr, c);
			fprintf(stderr, "Error: missing command 'skiff %s COMMAND'\n", c->name);
		}
		free(pos);
		return 125;
	}

	ctx.ov.root = g.root;
	ctx.ov.runroot = g.runroot;
	ctx.ov.storage_driver = g.driver;
	ctx.ov.storage_opts = &g.storage_opts;
	ctx.ov.tmpdir = g.tmpdir;
	ctx.log_level = g.log_level;
	ctx.runtime = g.runtime;

	char **cpos = NULL;
	int cnpos = 0;
	bool chelp = false;
	if (cli_parse(c->impl->opts, nrest - words, rest + words, c->impl->parse_flags, &chelp, &cnpos, &cpos, &err) <
	    0) {
		free(pos);
		return report(err);
	}
	if (chelp) {
		skiff_print_help(stdout, c);
		rc = 0;
		goto out;
	}
	if (cnpos < c->impl->min_args || (c->impl->max_args >= 0 && cnpos > c->impl->max_args)) {
		if (c->impl->min_args == c->impl->max_args && c->impl->min_args == 0)
			fprintf(stderr, "Error: `skiff %s` takes no arguments\n", c->name);
		else if (cnpos < c->impl->min_args)
			fprintf(stderr, "Error: `skiff %s` requires at least %d argument%s\n", c->name,
				c->impl->min_args, c->impl->min_args == 1 ? "" : "s");
		else
			fprintf(stderr, "Error: `skiff %s` accepts at most %d argument%s\n", c->name, c->impl->max_args,
				c->impl->max_args == 1 ? "" : "s");
		fprintf(stderr, "See 'skiff %s --help'\n", c->name);
		rc = 125;
		goto out;
	}
	if ((c->flags & (NEED_STORE | NEED_USERNS | NEED_CONFIG)) && skiff_setup(&ctx, c->flags, &err) < 0) {
		rc = report(err);
		goto out;
	}
	rc = c->impl->run(&ctx, cnpos, cpos, &err);
	if (rc < 0) {
		rc = report(err);
	} else if (err) {
		/* a status of its own with an error to show (126/127 from run) */
		report(err);
	}
out:
	skiff_close(&ctx);
	free(cpos);
	free(pos);
	return rc;
}
