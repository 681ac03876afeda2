/* Container commands: start, stop, kill, rm, wait, container exists, container cleanup. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/skiff/ctr-cli.h"
#include "cmd/skiff/output.h"
#include "pkg/image/image.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/signame.h"
#include "vendor-free/xalloc.h"

/* ---------------- the engine ---------------- */

static char *self_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return xstrdup(".");
	buf[n] = 0;
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = 0;
	return xstrdup(buf);
}

/* The first of the candidates that exists (caller frees), else NULL. */
static char *first_existing(const char *a, const char *b, int mode)
{
	if (a && access(a, mode) == 0)
		return xstrdup(a);
	if (b && access(b, mode) == 0)
		return xstrdup(b);
	return NULL;
}

int ctr_cli_engine(struct skiff_ctx *ctx, struct engine *e, struct skiff_err **err)
{
	memset(e, 0, sizeof(*e));
	e->store = ctx->store;
	e->cfg = &ctx->cfg;
	cleanup_free char *dir = self_dir();
	cleanup_free char *mon1 = xasprintf("%s/skiff-monitor", dir);
	cleanup_free char *rt1 = xasprintf("%s/skiff-runtime", dir);
	cleanup_free char *sc1 = xasprintf("%s/../data/seccomp.json", dir);
	cleanup_free char *self = xasprintf("%s/skiff", dir);
	const char *env_mon = getenv("SKIFF_MONITOR_PATH");
	e->monitor = first_existing(env_mon ? env_mon : mon1, SKIFF_LIBEXECDIR "/skiff-monitor", X_OK);
	if (!e->monitor)
		return err_makex(err, ENOENT, "skiff-monitor not found (looked in %s and %s)", dir, SKIFF_LIBEXECDIR);
	if (ctx->runtime && *ctx->runtime)
		e->runtime_owned = xstrdup(ctx->runtime);
	else
		e->runtime_owned = first_existing(rt1, NULL, X_OK);
	if (!e->runtime_owned)
		e->runtime_owned = xstrdup("skiff-runtime");
	e->runtime = e->runtime_owned;
	e->seccomp_profile = first_existing(sc1, SKIFF_DATADIR "/seccomp.json", R_OK);
	cleanup_free char *init1 = xasprintf("%s/skiff-init", dir);
	e->init_path = first_existing(init1, SKIFF_LIBEXECDIR "/skiff-init", X_OK);
	e->skiff = first_existing(self, NULL, X_OK);
	if (!e->skiff)
		e->skiff = xstrdup("skiff");
	strv_push(&e->global_args, "--root");
	strv_push(&e->global_args, ctx->cfg.graphroot);
	strv_push(&e->global_args, "--runroot");
	strv_push(&e->global_args, ctx->cfg.runroot);
	strv_push(&e->global_args, "--storage-driver");
	strv_push(&e->global_args, ctx->cfg.driver);
	if (ctx->runtime) {
		strv_push(&e->global_args, "--runtime");
		strv_push(&e->global_args, ctx->runtime);
	}
	return 0;
}

void ctr_cli_engine_release(struct engine *e)
{
	free((char *)e->monitor);
	free(e->runtime_owned);
	free((char *)e->seccomp_profile);
	free((char *)e->init_path);
	free((char *)e->skiff);
	strv_release(&e->global_args);
	memset(e, 0, sizeof(*e));
}

int ctr_cli_attach_stdio(struct engine *e, struct ctr *c, bool in, bool sig_proxy, const char *detach_keys, bool start,
			 struct skiff_err **err)
{
	struct ctr_attach_opts ao = {
		.in = in && c->cfg->interactive,
		.out = true,
		.err = true,
		.in_fd = 0,
		.out_fd = 1,
		.err_fd = 2,
		.tty = c->cfg->tty,
		.sig_proxy = sig_proxy && !c->cfg->tty,
		.detach_keys = detach_keys,
	};
	int code = 0;
	int r = ctr_attach(e, c, &ao, start, &code, err);
	if (r < 0)
		return -1;
	return r == 1 ? 0 : code; /* detached: 0 */
}

int ctr_cli_start_status(const struct skiff_err *err)
{
	if (!err)
		return 125;
	/* the runtime's words for the container's command, as podman matches crun's */
	if (!strstr(err->msg, "executable file"))
		return 125;
	if (strstr(err->msg, "not found") || strstr(err->msg, "No such file or directory"))
		return 127;
	if (strstr(err->msg, "ermission denied") || strstr(err->msg, "is a directory"))
		return 126;
	return 125;
}

/* ---------------- helpers for commands over several containers ---------------- */

/* Resolve the arguments (or every container with all); fn for each; errors after the
 * first are printed, the last one returned, as podman reports several. */
typedef int (*ctr_fn)(struct engine *e, struct ctr *c, const char *as_given, struct skiff_err **err);

static void keep_last(struct skiff_err **last, struct skiff_err *e1)
{
	if (*last) {
		fprintf(stderr, "Error: %s\n", (*last)->msg);
		err_free(*last);
	}
	*last = e1;
}

/* prestop >= -1: stop every running one of them at once first (timeout; -1: each its own),
 * so that their stop timeouts and exits overlap (rm -f, stop -a). */
static int for_each_stopping(struct skiff_ctx *ctx, int argc, char **argv, bool all, bool ignore_missing, ctr_fn fn,
			     int prestop, bool removing, struct skiff_err **err)
{
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct skiff_err *last = NULL;
	struct ctr *v = NULL;
	size_t n = 0;
	const char **given = NULL;
	if (all) {
		if (ctr_list(&e, &v, &n, err) < 0) {
			ctr_cli_engine_release(&e);
			return -1;
		}
		given = xcalloc(n ? n : 1, sizeof(*given));
		for (size_t i = 0; i < n; i++)
			given[i] = v[i].row.id;
	} else {
		v = xcalloc(argc ? (size_t)argc : 1, sizeof(*v));
		given = xcalloc(argc ? (size_t)argc : 1, sizeof(*given));
		for (int i = 0; i < argc; i++) {
			struct skiff_err *e1 = NULL;
			if (ctr_lookup(&e, argv[i], &v[n], &e1) == 0) {
				given[n++] = argv[i];
				continue;
			}
			if (ignore_missing && e1->status == ENOENT)
				err_clear(&e1);
			else
				keep_last(&last, e1);
		}
	}
	if (prestop >= -1 && n > 1) {
		struct skiff_err *e1 = NULL;
		if (ctr_stop_many(&e, v, n, prestop, removing, &e1) < 0)
			keep_last(&last, e1);
	}
	for (size_t i = 0; i < n; i++) {
		struct skiff_err *e1 = NULL;
		if (fn(&e, &v[i], given[i], &e1) < 0)
			keep_last(&last, e1);
	}
	ctr_list_free(v, n);
	free(given);
	ctr_cli_engine_release(&e);
	if (last) {
		*err = last;
		return -1;
	}
	return 0;
}

static int for_each(struct skiff_ctx *ctx, int argc, char **argv, bool all, bool ignore_missing, ctr_fn fn,
		    struct skiff_err **err)
{
	return for_each_stopping(ctx, argc, argv, all, ignore_missing, fn, -2, false, err);
}

static void print_given(struct ctr *c, const char *as_given)
{
	(void)c;
	printf("%s\n", as_given);
	fflush(stdout);
}

/* ---------------- start ---------------- */

static struct {
	bool attach, interactive, sig_proxy;
	const char *detach_keys;
} st = {.sig_proxy = true};

static const struct cli_opt start_opts[] = {
	{"attach", 'a', OPT_BOOL, &st.attach, NULL, "Attach container's STDOUT and STDERR", 0},
	{"detach-keys", 0, OPT_STRING, &st.detach_keys, "KEYS", "Override the key sequence for detaching", 0},
	{"interactive", 'i', OPT_BOOL, &st.interactive, NULL, "Keep STDIN open even if not attached", 0},
	{"sig-proxy", 0, OPT_BOOL, &st.sig_proxy, NULL, "Proxy received signals to the process (with --attach)", 0},
	{0},
};

static int start_one(struct engine *e, struct ctr *c, const char *as_given, struct skiff_err **err)
{
	if (ctr_start(e, c, false, err) < 0)
		return -1;
	print_given(c, as_given);
	return 0;
}

static int start_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	if (!st.attach)
		return for_each(ctx, argc, argv, false, false, start_one, err) < 0 ? -1 : 0;
	if (argc != 1)
		return err_makex(err, EINVAL, "you cannot start and attach multiple containers at once");
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr c = {0};
	int status = -1;
	if (ctr_lookup(&e, argv[0], &c, err) < 0)
		goto out;
	if (ctr_start(&e, &c, true, err) < 0) {
		status = ctr_cli_start_status(*err);
		goto out;
	}
	status = ctr_cli_attach_stdio(&e, &c, st.interactive, st.sig_proxy, st.detach_keys, true, err);
out:
	ctr_release(&c);
	ctr_cli_engine_release(&e);
	return status;
}

const struct cli_impl cli_start = {
	.usage = "[options] CONTAINER [CONTAINER...]",
	.description = "Start one or more containers.",
	.opts = start_opts,
	.min_args = 1,
	.max_args = -1,
	.run = start_run,
};

/* ---------------- stop ---------------- */

static struct {
	bool all, ignore;
	long time;
} sp = {.time = -1};

static const struct cli_opt stop_opts[] = {
	{"all", 'a', OPT_BOOL, &sp.all, NULL, "Stop all running containers", 0},
	{"ignore", 'i', OPT_BOOL, &sp.ignore, NULL, "Ignore errors when a specified container is missing", 0},
	{"time", 't', OPT_INT, &sp.time, "SECONDS", "Seconds to wait for stop before killing the container", 0},
	{0},
};

static int stop_one(struct engine *e, struct ctr *c, const char *as_given, struct skiff_err **err)
{
	if (ctr_stop(e, c, (int)sp.time, err) < 0)
		return -1;
	print_given(c, as_given);
	return 0;
}

static int stop_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	if (!sp.all && argc == 0)
		return err_makex(err, EINVAL, "you must provide at least one container name or ID");
	if (sp.all && argc)
		return err_makex(err, EINVAL, "--all and container names or IDs cannot be used together");
	return for_each_stopping(ctx, argc, argv, sp.all, sp.ignore, stop_one, (int)sp.time, false, err) < 0 ? -1 : 0;
}

const struct cli_impl cli_stop = {
	.usage = "[options] CONTAINER [CONTAINER...]",
	.description = "Stop one or more running containers: the stop signal, then SIGKILL after the timeout.",
	.opts = stop_opts,
	.max_args = -1,
	.run = stop_run,
};

/* ---------------- restart ---------------- */

static int restart_one(struct engine *e, struct ctr *c, const char *as_given, struct skiff_err **err)
{
	if (ctr_stop(e, c, (int)sp.time, err) < 0 || ctr_start(e, c, false, err) < 0)
		return -1;
	ctr_event(e, c, "restart");
	print_given(c, as_given);
	return 0;
}

static int restart_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	if (!sp.all && argc == 0)
		return err_makex(err, EINVAL, "you must provide at least one container name or ID");
	return for_each(ctx, argc, argv, sp.all, false, restart_one, err) < 0 ? -1 : 0;
}

static const struct cli_opt restart_opts[] = {
	{"all", 'a', OPT_BOOL, &sp.all, NULL, "Restart all containers", 0},
	{"time", 't', OPT_INT, &sp.time, "SECONDS", "Seconds to wait for stop before killing the container", 0},
	{0},
};

const struct cli_impl cli_restart = {
	.usage = "[options] CONTAINER [CONTAINER...]",
	.description = "Restart one or more containers.",
	.opts = restart_opts,
	.max_args = -1,
	.run = restart_run,
};

/* ---------------- kill ---------------- */

static struct {
	bool all;
	const char *signal;
	int sig;
} kl;

static const struct cli_opt kill_opts[] = {
	{"all", 'a', OPT_BOOL, &kl.all, NULL, "Signal all running containers", 0},
	{"signal", 's', OPT_STRING, &kl.signal, "SIGNAL", "Signal to send to the container (default KILL)", 0},
	{0},
};

static int kill_one(struct engine *e, struct ctr *c, const char *as_given, struct skiff_err **err)
{
	if (kl.all && strcmp(ctr_state_name(c), "running"))
		return 0;
	if (ctr_kill(e, c, kl.sig, err) < 0)
		return -1;
	print_given(c, as_given);
	return 0;
}

static int kill_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	kl.sig = 9;
	if (kl.signal && sig_from_name(kl.signal, &kl.sig, err) < 0)
		return -1;
	if (!kl.all && argc == 0)
		return err_makex(err, EINVAL, "you must provide at least one container name or ID");
	return for_each(ctx, argc, argv, kl.all, false, kill_one, err) < 0 ? -1 : 0;
}

const struct cli_impl cli_kill = {
	.usage = "[options] CONTAINER [CONTAINER...]",
	.description = "Kill one or more running containers with a specific signal.",
	.opts = kill_opts,
	.max_args = -1,
	.run = kill_run,
};

/* ---------------- rm ---------------- */

static struct {
	bool all, force, volumes, ignore;
	long time;
} rm = {.time = -1};

static const struct cli_opt rm_opts[] = {
	{"all", 'a', OPT_BOOL, &rm.all, NULL, "Remove all containers", 0},
	{"force", 'f', OPT_BOOL, &rm.force, NULL, "Force removal of a running or unusable container", 0},
	{"ignore", 'i', OPT_BOOL, &rm.ignore, NULL, "Ignore errors when a specified container is missing", 0},
	{"time", 't', OPT_INT, &rm.time, "SECONDS", "Seconds to wait for stop before killing the container", 0},
	{"volumes", 'v', OPT_BOOL, &rm.volumes, NULL, "Remove anonymous volumes associated with the container", 0},
	{0},
};

static int rm_one(struct engine *e, struct ctr *c, const char *as_given, struct skiff_err **err)
{
	c->remove_volumes = rm.volumes;
	if (ctr_remove(e, c, rm.force, err) < 0)
		return -1;
	print_given(c, as_given);
	return 0;
}

static int rm_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	if (!rm.all && argc == 0)
		return err_makex(err, EINVAL, "you must provide at least one container name or ID");
	/* as podman: -f also ignores containers that do not exist */
	if (for_each_stopping(ctx, argc, argv, rm.all, rm.ignore || rm.force, rm_one, rm.force ? 0 : -2, true, err) < 0)
		return (*err)->status == ENOENT ? 1 : (*err)->status == EBUSY ? 2 : -1;
	return 0;
}

const struct cli_impl cli_rm = {
	.usage = "[options] CONTAINER [CONTAINER...]",
	.description = "Remove one or more containers.",
	.opts = rm_opts,
	.max_args = -1,
	.run = rm_run,
};

/* ---------------- wait ---------------- */

static struct {
	struct strv conditions;
	bool ignore;
	const char *interval;
} wt;

static const struct cli_opt wait_opts[] = {
	{"condition", 0, OPT_LIST, &wt.conditions, "STATE",
	 "Condition to wait on: created, running, paused, stopped or exited (default)", 0},
	{"ignore", 0, OPT_BOOL, &wt.ignore, NULL, "Ignore a missing container (exit code -1)", 0},
	{"interval", 'i', OPT_STRING, &wt.interval, "DURATION", "Accepted for compatibility: waiting is event-driven",
	 OPT_HIDDEN},
	{0},
};

/* --condition running|created|paused: poll the state (the monitor records no event for them) */
static bool wait_state_reached(struct engine *e, struct ctr *c, struct skiff_err **err)
{
	for (;;) {
		for (size_t i = 0; i < wt.conditions.len; i++)
			if (!strcmp(wt.conditions.v[i], ctr_state_name(c)))
				return true;
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
		struct ctr again = {0};
		if (ctr_lookup(e, c->row.id, &again, err) < 0)
			return false;
		ctr_release(c);
		*c = again;
	}
}

static int wait_one(struct engine *e, struct ctr *c, const char *as_given, struct skiff_err **err)
{
	(void)as_given;
	int code = 0;
	bool state_only = wt.conditions.len > 0;
	for (size_t i = 0; i < wt.conditions.len; i++)
		if (!strcmp(wt.conditions.v[i], "stopped") || !strcmp(wt.conditions.v[i], "exited"))
			state_only = false;
	if (state_only) {
		if (!wait_state_reached(e, c, err))
			return -1;
		code = -1; /* podman prints -1 when the condition is not an exit */
	} else if (ctr_wait(e, c, &code, err) < 0) {
		return -1;
	}
	printf("%d\n", code);
	fflush(stdout);
	return 0;
}

static int wait_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	for (size_t i = 0; i < wt.conditions.len; i++) {
		const char *w = wt.conditions.v[i];
		if (strcmp(w, "stopped") && strcmp(w, "exited") && strcmp(w, "running") && strcmp(w, "created") &&
		    strcmp(w, "paused"))
			return err_makex(
				err, EINVAL,
				"unsupported wait condition \"%s\" (created, running, paused, stopped, exited)", w);
	}
	if (wt.ignore) {
		for (int i = 0; i < argc; i++) {
			struct engine e;
			if (ctr_cli_engine(ctx, &e, err) < 0)
				return -1;
			struct ctr c = {0};
			struct skiff_err *e1 = NULL;
			if (ctr_lookup(&e, argv[i], &c, &e1) < 0) {
				printf("-1\n");
				err_free(e1);
			} else {
				if (wait_one(&e, &c, argv[i], &e1) < 0) {
					ctr_release(&c);
					ctr_cli_engine_release(&e);
					*err = e1;
					return -1;
				}
				ctr_release(&c);
			}
			ctr_cli_engine_release(&e);
		}
		return 0;
	}
	return for_each(ctx, argc, argv, false, false, wait_one, err) < 0 ? -1 : 0;
}

const struct cli_impl cli_wait = {
	.usage = "[options] CONTAINER [CONTAINER...]",
	.description = "Block until one or more containers stop, then print their exit codes.",
	.opts = wait_opts,
	.min_args = 1,
	.max_args = -1,
	.run = wait_run,
};

/* ---------------- container exists ---------------- */

static int exists_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)argc;
	struct store_container row = {0};
	if (store_container_get(ctx->store, argv[0], &row, err) < 0) {
		if ((*err)->status == ENOENT) {
			err_clear(err);
			return 1;
		}
		return -1;
	}
	store_container_release(&row);
	return 0;
}

const struct cli_impl cli_container_exists = {
	.usage = "CONTAINER",
	.description = "Check if a container exists in local storage (exit status 0: yes, 1: no).",
	.min_args = 1,
	.max_args = 1,
	.run = exists_run,
};

/* ---------------- container cleanup (the monitor's exit command) ---------------- */

static struct {
	bool rm;
} cu;

static const struct cli_opt cleanup_opts[] = {
	{"rm", 0, OPT_BOOL, &cu.rm, NULL, "Remove the container after cleaning up", 0},
	{0},
};

static int cleanup_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)argc;
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	int rc = ctr_cleanup(&e, argv[0], cu.rm, err);
	ctr_cli_engine_release(&e);
	if (rc < 0 && (*err)->status == ENOENT) {
		err_clear(err); /* removed already (run --rm did it) */
		return 0;
	}
	return rc < 0 ? -1 : 0;
}

const struct cli_impl cli_container_cleanup = {
	.usage = "[options] CONTAINER",
	.description = "Clean up a container's resources after it exited (what the monitor runs).",
	.opts = cleanup_opts,
	.min_args = 1,
	.max_args = 1,
	.run = cleanup_run,
};

/* ---------------- inspect ---------------- */

int ctr_cli_inspect_one(struct skiff_ctx *ctx, const char *ref, struct json **ret, struct skiff_err **err)
{
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr c = {0};
	int rc = ctr_lookup(&e, ref, &c, err);
	if (rc == 0)
		rc = ctr_inspect_json(&e, &c, ret, err);
	ctr_release(&c);
	ctr_cli_engine_release(&e);
	return rc;
}

static struct {
	const char *format;
	bool size, latest;
} ci;

static const struct cli_opt cinspect_opts[] = {
	{"format", 'f', OPT_STRING, &ci.format, "FORMAT", "Format the output using the given Go template or json", 0},
	{"latest", 'l', OPT_BOOL, &ci.latest, NULL, "Act on the latest container skiff is aware of", 0},
	{"size", 's', OPT_BOOL, &ci.size, NULL, "Display the total file size", 0},
	{0},
};

static int cinspect_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	return cli_inspect_objects(ctx, argc, argv, "container", ci.format, err);
}

const struct cli_impl cli_container_inspect = {
	.usage = "[options] CONTAINER [CONTAINER...]",
	.description = "Display the configuration of one or more containers in JSON (podman's shape).",
	.opts = cinspect_opts,
	.min_args = 1,
	.max_args = -1,
	.run = cinspect_run,
};

/* ---------------- pause, unpause ---------------- */

static struct {
	bool all;
} pz;

static const struct cli_opt pause_opts[] = {
	{"all", 'a', OPT_BOOL, &pz.all, NULL, "Act on all running (or paused) containers", 0},
	{0},
};

static int pause_one(struct engine *e, struct ctr *c, const char *as_given, struct skiff_err **err)
{
	if (pz.all && strcmp(ctr_state_name(c), "running"))
		return 0;
	if (ctr_pause(e, c, true, err) < 0)
		return -1;
	print_given(c, as_given);
	return 0;
}

static int unpause_one(struct engine *e, struct ctr *c, const char *as_given, struct skiff_err **err)
{
	if (pz.all && strcmp(ctr_state_name(c), "paused"))
		return 0;
	if (ctr_pause(e, c, false, err) < 0)
		return -1;
	print_given(c, as_given);
	return 0;
}

static int pause_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	if (!pz.all && argc == 0)
		return err_makex(err, EINVAL, "you must provide at least one container name or ID");
	return for_each(ctx, argc, argv, pz.all, false, pause_one, err) < 0 ? -1 : 0;
}

static int unpause_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	if (!pz.all && argc == 0)
		return err_makex(err, EINVAL, "you must provide at least one container name or ID");
	return for_each(ctx, argc, argv, pz.all, false, unpause_one, err) < 0 ? -1 : 0;
}

const struct cli_impl cli_pause = {
	.usage = "[options] CONTAINER [CONTAINER...]",
	.description = "Pause all the processes in one or more containers (freezes their cgroup).",
	.opts = pause_opts,
	.max_args = -1,
	.run = pause_run,
};

const struct cli_impl cli_unpause = {
	.usage = "[options] CONTAINER [CONTAINER...]",
	.description = "Unpause the processes in one or more containers.",
	.opts = pause_opts,
	.max_args = -1,
	.run = unpause_run,
};

/* ---------------- rename ---------------- */

static int rename_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)argc;
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr c = {0};
	int rc = ctr_lookup(&e, argv[0], &c, err);
	if (rc == 0)
		rc = ctr_rename(&e, &c, argv[1], err);
	ctr_release(&c);
	ctr_cli_engine_release(&e);
	return rc < 0 ? -1 : 0;
}

const struct cli_impl cli_rename = {
	.usage = "CONTAINER NAME",
	.description = "Rename an existing container.",
	.min_args = 2,
	.max_args = 2,
	.run = rename_run,
};

/* ---------------- container prune ---------------- */

static struct {
	bool force;
	struct strv filters;
} pr;

static const struct cli_opt prune_opts[] = {
	{"force", 'f', OPT_BOOL, &pr.force, NULL, "Do not prompt for confirmation", 0},
	{"filter", 0, OPT_LIST, &pr.filters, "FILTER", "Provide filter values (label=KEY[=VALUE])", 0},
	{0},
};

static int prune_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < pr.filters.len; i++)
		if (strncmp(pr.filters.v[i], "label=", 6))
			return err_makex(err, EINVAL, "invalid filter \"%s\" (label=KEY[=VALUE])", pr.filters.v[i]);
	if (!pr.force) {
		fputs("WARNING! This will remove all non running containers.\nAre you sure you want to continue? "
		      "[y/N] ",
		      stdout);
		fflush(stdout);
		char line[64] = "";
		if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y'))
			return 0;
	}
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr *v = NULL;
	size_t n = 0;
	int rc = ctr_list(&e, &v, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *s = ctr_state_name(&v[i]);
		if (!strcmp(s, "running") || !strcmp(s, "paused") || !strcmp(s, "stopping"))
			continue;
		bool ok = true;
		for (size_t f = 0; ok && f < pr.filters.len; f++) {
			const char *kv = pr.filters.v[f] + 6, *eq = strchr(kv, '=');
			cleanup_free char *key = eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
			const char *have = spec_map_get(&v[i].cfg->labels, key);
			ok = have && (!eq || !strcmp(have, eq + 1));
		}
		if (!ok)
			continue;
		struct skiff_err *e1 = NULL;
		if (ctr_remove(&e, &v[i], false, &e1) < 0) {
			fprintf(stderr, "Error: %s\n", e1->msg);
			err_free(e1);
			continue;
		}
		printf("%s\n", v[i].row.id);
	}
	ctr_list_free(v, n);
	ctr_cli_engine_release(&e);
	return rc;
}

const struct cli_impl cli_container_prune = {
	.usage = "[options]",
	.description = "Remove all stopped containers.",
	.opts = prune_opts,
	.max_args = 0,
	.run = prune_run,
};

/* ---------------- top ---------------- */

static const struct header_name top_headers[] = {
	{"User", "USER"}, {"CPU", "%CPU"}, {"Elapsed", "ELAPSED"}, {"Time", "TIME"}, {"Command", "COMMAND"}, {0},
};

static int top_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	static const char *const cols[] = {"User", "PID", "PPID", "CPU", "Elapsed", "TTY", "Time", "Command"};
	struct strv want = STRV_INIT;
	for (int i = 1; i < argc; i++) {
		const char *d = argv[i];
		static const char *const aliases[][2] = {{"user", "User"}, {"pid", "PID"},	 {"ppid", "PPID"},
							 {"pcpu", "CPU"},  {"etime", "Elapsed"}, {"tty", "TTY"},
							 {"time", "Time"}, {"args", "Command"},	 {"comm", "Command"}};
		const char *col = NULL;
		for (size_t k = 0; k < sizeof(aliases) / sizeof(aliases[0]); k++)
			if (!strcmp(aliases[k][0], d))
				col = aliases[k][1];
		if (!col) {
			strv_release(&want);
			return err_makex(err, EINVAL, "unknown descriptor: %s", d);
		}
		strv_push(&want, col);
	}
	if (!want.len)
		for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++)
			strv_push(&want, cols[k]);
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0) {
		strv_release(&want);
		return -1;
	}
	struct ctr c = {0};
	struct json *rows = NULL;
	int rc = ctr_lookup(&e, argv[0], &c, err);
	if (rc == 0)
		rc = ctr_top(&e, &c, &rows, err);
	if (rc == 0) {
		struct strbuf t = STRBUF_INIT;
		for (size_t k = 0; k < want.len; k++)
			strbuf_addf(&t, "%s{{.%s}}", k ? "\t" : "table ", want.v[k]);
		rc = output_rows(t.buf, NULL, rows, NULL, top_headers, err);
		strbuf_release(&t);
	}
	if (rows)
		json_free(rows);
	strv_release(&want);
	ctr_release(&c);
	ctr_cli_engine_release(&e);
	return rc < 0 ? -1 : 0;
}

const struct cli_impl cli_top = {
	.usage = "CONTAINER [FORMAT-DESCRIPTORS...]",
	.description = "Display the running processes of a container (descriptors: user pid ppid pcpu etime tty time "
		       "args comm).",
	.min_args = 1,
	.max_args = -1,
	.run = top_run,
};

/* ---------------- mount, umount ---------------- */

static int mount_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	int rc = 0;
	if (argc == 0) {
		struct ctr *v = NULL;
		size_t n = 0;
		rc = ctr_list(&e, &v, &n, err);
		for (size_t i = 0; rc == 0 && i < n; i++)
			if (v[i].row.mounted) {
				cleanup_free char *dir = store_container_dir(e.store, v[i].row.id);
				printf("%.12s  %s/%s\n", v[i].row.id, dir,
				       strcmp(store_driver(e.store), "vfs") ? "merged" : "rootfs");
			}
		ctr_list_free(v, n);
	}
	for (int i = 0; rc == 0 && i < argc; i++) {
		struct ctr c = {0};
		char *path = NULL;
		rc = ctr_lookup(&e, argv[i], &c, err);
		if (rc == 0)
			rc = ctr_mount(&e, &c, &path, err);
		if (rc == 0)
			printf("%s\n", path);
		free(path);
		ctr_release(&c);
	}
	ctr_cli_engine_release(&e);
	return rc < 0 ? -1 : 0;
}

static int umount_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	int rc = 0;
	for (int i = 0; rc == 0 && i < argc; i++) {
		struct ctr c = {0};
		rc = ctr_lookup(&e, argv[i], &c, err);
		if (rc == 0)
			rc = ctr_umount(&e, &c, err);
		if (rc == 0)
			printf("%s\n", c.row.id);
		ctr_release(&c);
	}
	ctr_cli_engine_release(&e);
	return rc < 0 ? -1 : 0;
}

const struct cli_impl cli_mount = {
	.usage = "[CONTAINER...]",
	.description = "Mount a container's root filesystem and print where (rootless: visible in `skiff unshare`).",
	.max_args = -1,
	.run = mount_run,
};

const struct cli_impl cli_umount = {
	.usage = "CONTAINER [CONTAINER...]",
	.description = "Unmount a container's root filesystem (a running container keeps it).",
	.min_args = 1,
	.max_args = -1,
	.run = umount_run,
};

/* rmi -f: the containers made from an image go first, as podman does. */
int ctr_cli_remove_users(struct skiff_ctx *ctx, const char *image, struct skiff_err **err)
{
	struct store_image *img = NULL;
	if (image_lookup(ctx->store, image, &img, err) < 0) {
		if (err_status(*err) == ENOENT) {
			err_clear(err); /* image_remove reports it */
			return 0;
		}
		return -1;
	}
	struct strv users = STRV_INIT;
	int rc = store_image_containers(ctx->store, img->id, &users, err);
	store_image_free(img);
	if (rc < 0 || !users.len) {
		strv_release(&users);
		return rc;
	}
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0) {
		strv_release(&users);
		return -1;
	}
	for (size_t i = 0; rc == 0 && i < users.len; i++) {
		struct ctr c = {0};
		rc = ctr_lookup(&e, users.v[i], &c, err);
		if (rc == 0)
			rc = ctr_remove(&e, &c, true, err);
		ctr_release(&c);
	}
	ctr_cli_engine_release(&e);
	strv_release(&users);
	return rc;
}
