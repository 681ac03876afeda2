/* skiff-runtime: the command functions and what they share. */
#ifndef SKIFF_RUNTIME_CLI_H
#define SKIFF_RUNTIME_CLI_H

#include <stdbool.h>

#include "pkg/runtime/runtime.h"
#include "vendor-free/err.h"

struct global {
	struct rt_global rt;
	const char *log, *log_format;
	bool systemd_cgroup;
};

/* Report an error (stderr, and the --log file) and return 1. */
int fail(const struct global *g, struct skiff_err *e);
void warn_all(const struct global *g, struct strv *warnings);
/* Exactly n positional arguments after the options, or a usage error. */
bool want_args(const struct global *g, const char *cmd, int argc, char **argv, int n, const char *what);

int cmd_spec(struct global *g, int argc, char **argv);
int cmd_create(struct global *g, int argc, char **argv);
int cmd_run(struct global *g, int argc, char **argv);
int cmd_start(struct global *g, int argc, char **argv);
int cmd_state(struct global *g, int argc, char **argv);
int cmd_kill(struct global *g, int argc, char **argv);
int cmd_delete(struct global *g, int argc, char **argv);
int cmd_pause(struct global *g, int argc, char **argv);
int cmd_resume(struct global *g, int argc, char **argv);
int cmd_list(struct global *g, int argc, char **argv);
int cmd_features(struct global *g, int argc, char **argv);
int cmd_exec(struct global *g, int argc, char **argv);
int cmd_checkpoint(struct global *g, int argc, char **argv);
int cmd_restore(struct global *g, int argc, char **argv);

#endif
