/* cmd/skiff: shared declarations of the CLI front. */
#ifndef SKIFF_CMD_H
#define SKIFF_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "pkg/cli/opts.h"
#include "pkg/config/config.h"
#include "vendor-free/err.h"

struct store;

/* Setup flags: the dispatcher prepares only what a command needs (git's RUN_SETUP). */
enum {
	NEED_STORE = 1 << 0,  /* open the store (runs crash recovery) */
	NEED_USERNS = 1 << 1, /* rootless: join (or create) the user namespace first */
	CMD_HIDDEN = 1 << 2,  /* not listed in help or completions */
	CMD_GROUP = 1 << 3,   /* a group word ("image", "system"): lists its subcommands */
	NEED_CONFIG = 1 << 4, /* load the configuration only */
};

struct skiff_ctx {
	struct skiff_config cfg;
	struct config_overrides ov;
	struct store *store;
	const char *log_level;
	const char *runtime; /* --runtime */
	bool in_userns;
	const char *argv0;
};

/* The implementation behind one or more command-table rows. */
struct cli_impl {
	const char *usage;	 /* after the command name: "[options] IMAGE [IMAGE...]" */
	const char *description; /* longer text for --help and the man page */
	const struct cli_opt *opts;
	unsigned parse_flags;	/* CLI_PARSE_* */
	int min_args, max_args; /* positional count; max -1 = unlimited */
	/* Returns the exit status (>= 0), or -1 with *err set (exit 125). */
	int (*run)(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err);
};

struct cli_command {
	const char *name; /* "images", "image ls" */
	const struct cli_impl *impl;
	unsigned flags;
	const char *summary;
};

#define CMD(name, impl, flags, summary) extern const struct cli_impl impl;
#include "cmd/skiff/commands.def"
#undef CMD

extern const struct cli_command skiff_commands[];
extern const size_t skiff_ncommands;
extern const struct cli_opt skiff_global_opts[];

/* Load the configuration, join the user namespace and open the store as flags say. */
int skiff_setup(struct skiff_ctx *ctx, unsigned flags, struct skiff_err **err);
/* Open the store on demand (for commands that decide late). */
int skiff_open_store(struct skiff_ctx *ctx, unsigned flags, struct skiff_err **err);
bool skiff_log_debug(const struct skiff_ctx *ctx);
void skiff_warn(const struct skiff_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Release what the dispatcher prepared. */
void skiff_close(struct skiff_ctx *ctx);

/* Print usage/help of the command at table row c. */
void skiff_print_help(FILE *f, const struct cli_command *c);

#endif
