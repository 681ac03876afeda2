/* pkg/cli: declarative option tables and a getopt-like parser for them. */
#ifndef SKIFF_CLI_OPTS_H
#define SKIFF_CLI_OPTS_H

#include <stdbool.h>
#include <stdio.h>

#include "vendor-free/err.h"
#include "vendor-free/strv.h"

enum cli_opt_type {
	OPT_END = 0,
	OPT_BOOL,   /* bool *; "--x", "--x=false" */
	OPT_STRING, /* const char ** (points into argv) */
	OPT_LIST,   /* struct strv *; repeatable */
	OPT_INT,    /* long * */
};

enum {
	OPT_HIDDEN = 1 << 0, /* accepted, not listed in help */
};

struct cli_opt {
	const char *long_name;
	char short_name;
	enum cli_opt_type type;
	void *value;
	const char *argname; /* for help: "FORMAT" */
	const char *help;
	unsigned flags;
};

enum {
	CLI_PARSE_STOP_AT_POSITIONAL = 1 << 0, /* options end at the first non-option (run IMAGE CMD...) */
};

/*
 * Parse argv[0..argc) (argv[0] is the first argument, not the command name). Options
 * and positionals may be mixed unless CLI_PARSE_STOP_AT_POSITIONAL; "--" ends options.
 * Positionals are collected, in order, into *positional (pointers into argv, not owned).
 * --help/-h set *help. Errors: EINVAL "unknown flag: --x", "flag needs an argument: -f".
 */
int cli_parse(const struct cli_opt *opts, int argc, char **argv, unsigned flags, bool *help, int *ret_npos,
	      char ***ret_pos, struct skiff_err **err);

/* Print "Options:" lines for help. */
void cli_print_opts(FILE *f, const struct cli_opt *opts);

#endif
