/* exec and attach: working inside a running container. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/skiff/ctr-cli.h"
#include "vendor-free/cleanup.h"

/* The container argv[0] names, or the newest one with --latest. */
static int find_ctr(struct engine *e, bool latest, const char *ref, struct ctr *ret, struct skiff_err **err)
{
	if (!latest)
		return ctr_lookup(e, ref, ret, err);
	struct ctr *v = NULL;
	size_t n = 0;
	if (ctr_list(e, &v, &n, err) < 0)
		return -1;
	if (n == 0) {
		ctr_list_free(v, n);
		return err_makex(err, ENOENT, "no containers to act on");
	}
	/* hand the newest over; free the rest */
	*ret = v[0];
	memset(&v[0], 0, sizeof(v[0]));
	ctr_list_free(v, n);
	return 0;
}

/* ---------------- exec ---------------- */

static struct {
	bool detach, interactive, tty, privileged, latest;
	const char *detach_keys, *user, *workdir;
	struct strv env, env_file;
	long preserve_fds;
} x;

static const struct cli_opt exec_opts[] = {
	{"detach", 'd', OPT_BOOL, &x.detach, NULL, "Run the exec session in detached mode (backgrounded)", 0},
	{"detach-keys", 0, OPT_STRING, &x.detach_keys, "KEYS",
	 "Select the key sequence for detaching a container (ctrl-p,ctrl-q)", 0},
	{"env", 'e', OPT_LIST, &x.env, "KEY=VALUE", "Set environment variables", 0},
	{"env-file", 0, OPT_LIST, &x.env_file, "FILE", "Read in a file of environment variables", 0},
	{"interactive", 'i', OPT_BOOL, &x.interactive, NULL, "Keep STDIN open even if not attached", 0},
	{"latest", 'l', OPT_BOOL, &x.latest, NULL, "Act on the latest container skiff is aware of", 0},
	{"preserve-fds", 0, OPT_INT, &x.preserve_fds, "N", "Pass N additional file descriptors to the process", 0},
	{"privileged", 0, OPT_BOOL, &x.privileged, NULL, "Give the process extended privileges (all capabilities)", 0},
	{"tty", 't', OPT_BOOL, &x.tty, NULL, "Allocate a pseudo-TTY", 0},
	{"user", 'u', OPT_STRING, &x.user, "USER[:GROUP]",
	 "Sets the username or UID used and optionally the groupname or GID", 0},
	{"workdir", 'w', OPT_STRING, &x.workdir, "DIR", "Working directory inside the container", 0},
	{0},
};

static int exec_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	int first = x.latest ? 0 : 1;
	if (argc <= first)
		return err_makex(err, EINVAL, "must provide a non-empty command to start an exec session");
	if (x.preserve_fds < 0 || x.preserve_fds > 4096)
		return err_makex(err, EINVAL, "invalid value %ld for --preserve-fds", x.preserve_fds);
	cleanup_strv struct strv env = STRV_INIT;
	for (size_t i = 0; i < x.env_file.len; i++)
		if (ctr_parse_env_file(x.env_file.v[i], &env, err) < 0)
			return -1;
	for (size_t i = 0; i < x.env.len; i++)
		if (ctr_parse_env(x.env.v[i], &env, err) < 0)
			return -1;

	if (x.detach_keys) {
		/* before the session (and its monitor) exists */
		char keys[64];
		size_t nkeys;
		if (ctr_parse_detach_keys(x.detach_keys, keys, &nkeys, err) < 0)
			return -1;
	}

	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr c = {0};
	int status = -1;
	if (find_ctr(&e, x.latest, argv[0], &c, err) < 0)
		goto out;
	struct ctr_exec_opts eo = {
		.argv = (const char *const *)argv + first,
		.env = (const char *const *)env.v,
		.user = x.user,
		.workdir = x.workdir,
		.tty = x.tty,
		.interactive = x.interactive,
		.detach = x.detach,
		.privileged = x.privileged,
		.detach_keys = x.detach_keys,
		.preserve_fds = (unsigned)x.preserve_fds,
	};
	int code = 0;
	char *session = NULL;
	int r = ctr_exec(&e, &c, &eo, &code, &session, err);
	if (r < 0) {
		/* podman's 126/127 for a command that cannot run */
		status = ctr_cli_start_status(*err);
		goto out;
	}
	if (session) {
		printf("%s\n", session);
		free(session);
	}
	status = code;
out:
	ctr_release(&c);
	ctr_cli_engine_release(&e);
	return status;
}

const struct cli_impl cli_exec = {
	.usage = "[options] CONTAINER COMMAND [ARG...]",
	.description = "Run a process in a running container. The process joins the container's namespaces, "
		       "cgroup and security settings; skiff exits with its exit status.",
	.opts = exec_opts,
	.parse_flags = CLI_PARSE_STOP_AT_POSITIONAL,
	.min_args = 1,
	.max_args = -1,
	.run = exec_run,
};

/* ---------------- attach ---------------- */

static struct {
	bool no_stdin, sig_proxy, latest;
	const char *detach_keys;
} at = {.sig_proxy = true};

static const struct cli_opt attach_opts[] = {
	{"detach-keys", 0, OPT_STRING, &at.detach_keys, "KEYS",
	 "Select the key sequence for detaching a container (ctrl-p,ctrl-q)", 0},
	{"latest", 'l', OPT_BOOL, &at.latest, NULL, "Act on the latest container skiff is aware of", 0},
	{"no-stdin", 0, OPT_BOOL, &at.no_stdin, NULL, "Do not attach STDIN", 0},
	{"sig-proxy", 0, OPT_BOOL, &at.sig_proxy, NULL, "Proxy received signals to the container's process", 0},
	{0},
};

static int attach_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	if (!at.latest && argc != 1)
		return err_makex(err, EINVAL, "attach requires the name or ID of one running container");
	if (at.latest && argc != 0)
		return err_makex(err, EINVAL, "--latest and containers cannot be used together");
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr c = {0};
	int status = -1;
	if (find_ctr(&e, at.latest, argc ? argv[0] : NULL, &c, err) < 0)
		goto out;
	if (strcmp(ctr_state_name(&c), "running") != 0) {
		err_makex(err, EBUSY, "you can only attach to running containers");
		goto out;
	}
	status = ctr_cli_attach_stdio(&e, &c, !at.no_stdin, at.sig_proxy, at.detach_keys, false, err);
out:
	ctr_release(&c);
	ctr_cli_engine_release(&e);
	return status;
}

const struct cli_impl cli_attach = {
	.usage = "[options] CONTAINER",
	.description = "Attach to a running container: its output, and its input when it was created with "
		       "--interactive. Several clients may attach at once. Detach with the detach keys "
		       "(ctrl-p,ctrl-q) and the container runs on.",
	.opts = attach_opts,
	.max_args = -1,
	.run = attach_run,
};

/* ---------------- healthcheck run ---------------- */

static int healthcheck_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)argc;
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr c = {0};
	int status = -1;
	char *result = NULL;
	if (ctr_lookup(&e, argv[0], &c, err) < 0 || ctr_healthcheck_run(&e, &c, &result, err) < 0)
		goto out;
	/* podman: nothing and 0 when healthy, else the state and 1 */
	if (strcmp(result, "healthy") != 0) {
		printf("%s\n", result);
		status = 1;
	} else {
		status = 0;
	}
	free(result);
out:
	ctr_release(&c);
	ctr_cli_engine_release(&e);
	return status;
}

const struct cli_impl cli_healthcheck_run = {
	.usage = "CONTAINER",
	.description = "Run the container's health check now, as its monitor does on its interval, and record the "
		       "result. Exits 0 when healthy, 1 (printing the state) when not.",
	.min_args = 1,
	.max_args = 1,
	.run = healthcheck_run,
};
