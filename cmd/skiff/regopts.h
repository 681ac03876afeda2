/* cmd/skiff/regopts: the flags every registry command shares (--authfile, --cert-dir,
 * --creds, --tls-verify) and what they set up: credentials and registries.conf. */
#ifndef SKIFF_CMD_REGOPTS_H
#define SKIFF_CMD_REGOPTS_H

#include "cmd/skiff/skiff.h"
#include "pkg/config/auth.h"
#include "pkg/config/registries.h"
#include "pkg/image/pull.h"
#include "pkg/registry/registry.h"

struct cli_reg_flags {
	const char *authfile, *cert_dir, *creds;
	bool tls_verify;
	long retry;
	const char *retry_delay;
	const char *signature_policy;
};
#define CLI_REG_FLAGS_INIT                                                                                             \
	{                                                                                                              \
		.tls_verify = true, .retry = 3                                                                         \
	}

#define CLI_REG_OPTS(f)                                                                                                \
	{"authfile", 0, OPT_STRING, &(f).authfile, "PATH", "Path of the authentication file", 0},                      \
		{"cert-dir", 0,                                                                                        \
		 OPT_STRING, &(f).cert_dir,                                                                            \
		 "PATH",     "Use certificates at PATH (*.crt, *.cert, *.key) to connect to the registry",             \
		 0},                                                                                                   \
		{"creds",                                                                                              \
		 0,                                                                                                    \
		 OPT_STRING,                                                                                           \
		 &(f).creds,                                                                                           \
		 "USERNAME[:PASSWORD]",                                                                                \
		 "Use USERNAME[:PASSWORD] for accessing the registry",                                                 \
		 0},                                                                                                   \
		{"retry", 0, OPT_INT, &(f).retry, "N", "Number of times to retry in case of failure (default 3)", 0},  \
		{"retry-delay",                                                                                        \
		 0,                                                                                                    \
		 OPT_STRING,                                                                                           \
		 &(f).retry_delay,                                                                                     \
		 "DURATION",                                                                                           \
		 "Delay between retries in case of failure (default 1s, doubling)",                                    \
		 0},                                                                                                   \
		{"signature-policy",                                                                                   \
		 0,                                                                                                    \
		 OPT_STRING,                                                                                           \
		 &(f).signature_policy,                                                                                \
		 "PATH",                                                                                               \
		 "Path to a signature-policy file (default: policy.json in podman's places)",                          \
		 0},                                                                                                   \
	{                                                                                                              \
		"tls-verify", 0, OPT_BOOL, &(f).tls_verify, NULL,                                                      \
			"Require HTTPS and verify certificates when contacting registries (default true)", 0           \
	}

struct cli_reg {
	struct registry_opts ro;
	struct registry_creds fixed;
	char *authfile;
	bool rootless;
	struct auth_paths paths;
	struct regconf *conf;
	const char *signature_policy;
	bool quiet;			/* no "Resolved ... as an alias" */
	char *alias_name, *alias_value; /* a short name the user chose on the terminal */
};
/* ret must stay where it is while its options are in use (they point into it). */

int cli_reg_setup(struct skiff_ctx *ctx, const struct cli_reg_flags *f, struct cli_reg *ret, struct skiff_err **err);
/* registries.conf on a push destination: insecure, or EACCES when blocked. */
int cli_reg_push_target(struct cli_reg *r, const char *dest, bool *ret_insecure, struct skiff_err **err);
void cli_reg_pull_opts(struct cli_reg *r, struct image_pull_opts *o);
void cli_reg_release(struct cli_reg *r);
/* After a pull that worked: remember the user's choice for a short name (podman's cache). */
void cli_reg_record_alias(struct cli_reg *r);
/* --platform "os/arch[/variant]" into the three fields (pointing into *keep, a copy). */
int cli_parse_platform(const char *s, char **keep, const char **os, const char **arch, const char **variant,
		       struct skiff_err **err);

#endif
