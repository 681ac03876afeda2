/* run and create: the flags that describe a container, and running it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cmd/skiff/ctr-cli.h"
#include "cmd/skiff/progress.h"
#include "cmd/skiff/regopts.h"
#include "cmd/skiff/skiff.h"
#include "pkg/engine/container.h"
#include "pkg/engine/ctrconfig.h"
#include "pkg/image/image.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/signame.h"
#include "vendor-free/xalloc.h"

static struct {
	bool detach, interactive, tty, rm, init, read_only, read_only_tmpfs, privileged, sig_proxy;
	const char *name, *workdir, *user, *entrypoint, *hostname, *restart, *stop_signal, *memory, *memory_swap,
		*memory_reservation, *cpus, *cpuset_cpus, *cpuset_mems, *network, *pid, *ipc, *uts, *userns, *cgroupns,
		*log_driver, *runtime, *detach_keys, *pull, *platform, *cidfile, *health_cmd, *health_interval,
		*health_timeout, *health_start_period, *health_on_failure, *ip, *ip6;
	bool no_healthcheck, publish_all;
	struct strv publish;
	long health_retries;
	long stop_timeout, cpu_shares, cpu_period, cpu_quota, pids_limit, oom_score_adj;
	bool has_stop_timeout_set;
	struct strv env, env_file, labels, label_file, annotations, volumes, tmpfs, mounts, cap_add, cap_drop,
		security_opt, ulimits, dns, dns_search, dns_option, add_host, log_opt, sysctl, group_add, attach,
		volumes_from, network_alias;
	/* pulling a missing image */
	struct cli_reg_flags reg;
	const char *arch, *os, *variant;
	bool quiet;
} o = {.reg = CLI_REG_FLAGS_INIT};

/* --health-* and --no-healthcheck into c (the image's HEALTHCHECK fills the rest at create). */
static int health_flags(struct ctr_config *c, struct skiff_err **err)
{
	if (o.no_healthcheck) {
		if (o.health_cmd)
			return err_makex(err, EINVAL, "cannot specify both --no-healthcheck and --health-cmd");
		strv_push(&c->health_test, "NONE");
	} else if (o.health_cmd) {
		if (!*o.health_cmd)
			return err_makex(err, EINVAL, "--health-cmd: must not be empty");
		/* a JSON array is the exec form, as podman */
		cleanup_json struct json *j = NULL;
		struct skiff_err *e2 = NULL;
		if (o.health_cmd[0] == '[' && json_parse(o.health_cmd, strlen(o.health_cmd), &j, &e2) == 0 &&
		    json_is(j, JSON_ARRAY) && json_array_len(j) > 0) {
			strv_push(&c->health_test, "CMD");
			for (size_t i = 0; i < json_array_len(j); i++) {
				const char *s = json_string(json_array_get(j, i));
				if (!s)
					return err_makex(err, EINVAL, "--health-cmd \"%s\": not an array of strings",
							 o.health_cmd);
				strv_push(&c->health_test, s);
			}
		} else {
			err_free(e2);
			strv_push(&c->health_test, "CMD-SHELL");
			strv_push(&c->health_test, o.health_cmd);
		}
	}
	if (o.health_interval) {
		if (!strcmp(o.health_interval, "disable"))
			c->health_interval = 0;
		else if (ctr_parse_duration(o.health_interval, &c->health_interval, err) < 0)
			return err_wrap(err, "--health-interval");
		else if (c->health_interval == 0)
			return err_makex(err, EINVAL, "--health-interval: must be at least 1s, or \"disable\"");
	}
	if (o.health_timeout) {
		if (ctr_parse_duration(o.health_timeout, &c->health_timeout, err) < 0)
			return err_wrap(err, "--health-timeout");
		if (c->health_timeout < 1000000)
			return err_makex(err, EINVAL, "--health-timeout: must be at least 1ms");
	}
	if (o.health_start_period && ctr_parse_duration(o.health_start_period, &c->health_start_period, err) < 0)
		return err_wrap(err, "--health-start-period");
	if (o.health_retries) {
		if (o.health_retries < 1 || o.health_retries > 1000000)
			return err_makex(err, EINVAL, "--health-retries: must be at least 1, not %ld",
					 o.health_retries);
		c->health_retries = (unsigned)o.health_retries;
	}
	if (o.health_on_failure) {
		static const char *const acts[] = {"none", "kill", "restart", "stop"};
		bool ok = false;
		for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
			ok |= !strcmp(o.health_on_failure, acts[i]);
		if (!ok)
			return err_makex(err, EINVAL, "invalid --health-on-failure \"%s\" (none, kill, restart, stop)",
					 o.health_on_failure);
		if (strcmp(o.health_on_failure, "none"))
			c->health_on_failure = xstrdup(o.health_on_failure);
	}
	return 0;
}

#define RUN_OPTS(DETACH)                                                                                                 \
	{"add-host", 0, OPT_LIST, &o.add_host, "HOST:IP", "Add a custom host-to-IP mapping", 0},                         \
		{"annotation", 0, OPT_LIST, &o.annotations, "KEY=VALUE", "Add an annotation to the container", 0},       \
		{"attach", 'a', OPT_LIST, &o.attach, "STREAM", "Attach to STDIN, STDOUT or STDERR", 0},                  \
		{"cap-add", 0, OPT_LIST, &o.cap_add, "CAP", "Add capabilities to the container", 0},                     \
		{"cap-drop", 0, OPT_LIST, &o.cap_drop, "CAP", "Drop capabilities from the container", 0},                \
		{"cgroupns", 0, OPT_STRING, &o.cgroupns, "MODE", "cgroup namespace to use (host or private)", 0},        \
		{"cidfile", 0, OPT_STRING, &o.cidfile, "FILE", "Write the container ID to the file", 0},                 \
		{"cpu-period", 0, OPT_INT, &o.cpu_period, "N", "Limit the CPU CFS period (microseconds)", 0},            \
		{"cpu-quota", 0, OPT_INT, &o.cpu_quota, "N", "Limit the CPU CFS quota (microseconds)", 0},               \
		{"cpu-shares", 'c', OPT_INT, &o.cpu_shares, "SHARES", "CPU shares (relative weight)", 0},                \
		{"cpus", 0, OPT_STRING, &o.cpus, "NUMBER", "Number of CPUs", 0},                                         \
		{"cpuset-cpus",                                                                                          \
		 0,                                                                                                      \
		 OPT_STRING,                                                                                             \
		 &o.cpuset_cpus,                                                                                         \
		 "CPUS",                                                                                                 \
		 "CPUs in which to allow execution (0-3, 0,1)",                                                          \
		 0},                                                                                                     \
		{"cpuset-mems", 0, OPT_STRING, &o.cpuset_mems, "NODES", "Memory nodes in which to allow execution", 0},  \
		DETACH{"detach-keys",                                                                                    \
		       0,                                                                                                \
		       OPT_STRING,                                                                                       \
		       &o.detach_keys,                                                                                   \
		       "KEYS",                                                                                           \
		       "Override the key sequence for detaching a container (default ctrl-p,ctrl-q)",                    \
		       0},                                                                                               \
		{"dns", 0, OPT_LIST, &o.dns, "IP", "Set custom DNS servers", 0},                                         \
		{"dns-option", 0, OPT_LIST, &o.dns_option, "OPTION", "Set custom DNS options", 0},                       \
		{"dns-search", 0, OPT_LIST, &o.dns_search, "DOMAIN", "Set custom DNS search domains", 0},                \
		{"entrypoint", 0, OPT_STRING, &o.entrypoint, "CMD", "Overwrite the default ENTRYPOINT of the image", 0}, \
		{"env", 'e', OPT_LIST, &o.env, "KEY=VALUE", "Set environment variables in the container", 0},            \
		{"env-file", 0, OPT_LIST, &o.env_file, "FILE", "Read in a file of environment variables", 0},            \
		{"group-add", 0, OPT_LIST, &o.group_add, "GROUP", "Add additional groups to join", 0},                   \
		{"health-cmd",                                                                                           \
		 0,                                                                                                      \
		 OPT_STRING,                                                                                             \
		 &o.health_cmd,                                                                                          \
		 "COMMAND",                                                                                              \
		 "Set a healthcheck command for the container",                                                          \
		 0},                                                                                                     \
		{"health-interval",                                                                                      \
		 0,                                                                                                      \
		 OPT_STRING,                                                                                             \
		 &o.health_interval,                                                                                     \
		 "DURATION",                                                                                             \
		 "Time between healthchecks (\"disable\": only on request; default 30s)",                                \
		 0},                                                                                                     \
		{"health-on-failure",                                                                                    \
		 0,                                                                                                      \
		 OPT_STRING,                                                                                             \
		 &o.health_on_failure,                                                                                   \
		 "ACTION",                                                                                               \
		 "What an unhealthy container does (none, kill, restart, stop)",                                         \
		 0},                                                                                                     \
		{"health-retries",                                                                                       \
		 0,                                                                                                      \
		 OPT_INT,                                                                                                \
		 &o.health_retries,                                                                                      \
		 "N",                                                                                                    \
		 "Failures in a row before the container is unhealthy (default 3)",                                      \
		 0},                                                                                                     \
		{"health-start-period",                                                                                  \
		 0,                                                                                                      \
		 OPT_STRING,                                                                                             \
		 &o.health_start_period,                                                                                 \
		 "DURATION",                                                                                             \
		 "Time for the container to start before failures count (default 0s)",                                   \
		 0},                                                                                                     \
		{"health-timeout",                                                                                       \
		 0,                                                                                                      \
		 OPT_STRING,                                                                                             \
		 &o.health_timeout,                                                                                      \
		 "DURATION",                                                                                             \
		 "Time a healthcheck may take before it fails (default 30s)",                                            \
		 0},                                                                                                     \
		{"hostname", 0, OPT_STRING, &o.hostname, "NAME", "Set the container host name", 0},                      \
		{"init",                                                                                                 \
		 0,                                                                                                      \
		 OPT_BOOL,                                                                                               \
		 &o.init,                                                                                                \
		 NULL,                                                                                                   \
		 "Run an init inside the container that forwards signals and reaps "                                     \
		 "processes",                                                                                            \
		 0},                                                                                                     \
		{"interactive", 'i', OPT_BOOL, &o.interactive, NULL, "Keep STDIN open even if not attached", 0},         \
		{"ipc", 0, OPT_STRING, &o.ipc, "MODE", "IPC namespace to use (host, private, container:NAME)", 0},       \
		{"label", 'l', OPT_LIST, &o.labels, "KEY=VALUE", "Set metadata on the container", 0},                    \
		{"label-file", 0, OPT_LIST, &o.label_file, "FILE", "Read in a line delimited file of labels", 0},        \
		{"log-driver",                                                                                           \
		 0,                                                                                                      \
		 OPT_STRING,                                                                                             \
		 &o.log_driver,                                                                                          \
		 "DRIVER",                                                                                               \
		 "Log driver: k8s-file, json-file, journald, none",                                                      \
		 0},                                                                                                     \
		{"log-opt", 0, OPT_LIST, &o.log_opt, "OPT", "Log driver options (max-size=SIZE, max-file=N, tag=TAG)",   \
		 0},                                                                                                     \
		{"memory", 'm', OPT_STRING, &o.memory, "LIMIT", "Memory limit (format: <number>[<unit>], e.g. 512m)",    \
		 0},                                                                                                     \
		{"memory-reservation", 0, OPT_STRING, &o.memory_reservation, "LIMIT", "Memory soft limit", 0},           \
		{"memory-swap",                                                                                          \
		 0,                                                                                                      \
		 OPT_STRING,                                                                                             \
		 &o.memory_swap,                                                                                         \
		 "LIMIT",                                                                                                \
		 "Swap limit equal to memory plus swap (-1: unlimited)",                                                 \
		 0},                                                                                                     \
		{"mount", 0, OPT_LIST, &o.mounts, "MOUNT", "Attach a filesystem mount to the container", 0},             \
		{"name", 0, OPT_STRING, &o.name, "NAME", "Assign a name to the container", 0},                           \
		{"network",                                                                                              \
		 0,                                                                                                      \
		 OPT_STRING,                                                                                             \
		 &o.network,                                                                                             \
		 "MODE",                                                                                                 \
		 "Network mode (bridge, NETWORK[,NETWORK], pasta[:OPTS], slirp4netns[:OPTS], none, host, private, "      \
		 "container:NAME, ns:PATH). slirp4netns options: allow_host_loopback=BOOL, enable_ipv6=BOOL, mtu=N, "    \
		 "port_handler=rootlesskit (the default: tcp ports through skiff's port proxy) or slirp4netns "          \
		 "(through "                                                                                             \
		 "slirp4netns, keeping the client's address)",                                                           \
		 0},                                                                                                     \
		{"network-alias",                                                                                        \
		 0,                                                                                                      \
		 OPT_LIST,                                                                                               \
		 &o.network_alias,                                                                                       \
		 "ALIAS",                                                                                                \
		 "Add a network-scoped alias for the container",                                                         \
		 0},                                                                                                     \
		{"ip", 0, OPT_STRING, &o.ip, "ADDRESS", "Static IPv4 address on the (first) bridge network", 0},         \
		{"ip6", 0, OPT_STRING, &o.ip6, "ADDRESS", "Static IPv6 address on the (first) bridge network", 0},       \
		{"net", 0, OPT_STRING, &o.network, "MODE", "Network mode (none, host, private)", OPT_HIDDEN},            \
		{"no-healthcheck", 0, OPT_BOOL, &o.no_healthcheck, NULL, "Disable healthchecks on the container", 0},    \
		{"oom-score-adj",                                                                                        \
		 0,                                                                                                      \
		 OPT_INT,                                                                                                \
		 &o.oom_score_adj,                                                                                       \
		 "N",                                                                                                    \
		 "Tune the host's OOM preferences (-1000 to 1000)",                                                      \
		 0},                                                                                                     \
		{"pid", 0, OPT_STRING, &o.pid, "MODE", "PID namespace to use (host, private, container:NAME)", 0},       \
		{"pids-limit", 0, OPT_INT, &o.pids_limit, "N", "Tune the container's pids limit (-1 unlimited)", 0},     \
		{"platform", 0, OPT_STRING, &o.platform, "OS/ARCH[/VARIANT]", "Platform of the image to pull", 0},       \
		{"privileged", 0, OPT_BOOL, &o.privileged, NULL, "Give extended privileges to the container", 0},        \
		{"publish",                                                                                              \
		 'p',                                                                                                    \
		 OPT_LIST,                                                                                               \
		 &o.publish,                                                                                             \
		 "[IP:][HOSTPORT:]CTRPORT[/PROTO]",                                                                      \
		 "Publish a container's port, or a range of ports, to the host",                                         \
		 0},                                                                                                     \
		{"publish-all",                                                                                          \
		 'P',                                                                                                    \
		 OPT_BOOL,                                                                                               \
		 &o.publish_all,                                                                                         \
		 NULL,                                                                                                   \
		 "Publish all exposed ports to random ports on the host",                                                \
		 0},                                                                                                     \
		{"pull", 0, OPT_STRING, &o.pull, "POLICY", "Pull image policy: missing (default), always, never, newer", \
		 0},                                                                                                     \
		{"quiet", 'q', OPT_BOOL, &o.quiet, NULL, "Suppress output information when pulling images", 0},          \
		{"arch", 0, OPT_STRING, &o.arch, "ARCH", "Architecture of the image to pull", 0},                        \
		{"os", 0, OPT_STRING, &o.os, "OS", "Operating system of the image to pull", 0},                          \
		{"variant", 0, OPT_STRING, &o.variant, "VARIANT", "Architecture variant of the image to pull", 0},       \
		CLI_REG_OPTS(o.reg),                                                                                     \
		{"read-only", 0, OPT_BOOL, &o.read_only, NULL, "Make the container's root filesystem read-only", 0},     \
		{"read-only-tmpfs",                                                                                      \
		 0,                                                                                                      \
		 OPT_BOOL,                                                                                               \
		 &o.read_only_tmpfs,                                                                                     \
		 NULL,                                                                                                   \
		 "With --read-only, mount tmpfs on /run, /tmp and /var/tmp (default true)",                              \
		 0},                                                                                                     \
		{"restart",  0,	       OPT_STRING,                                                                       \
		 &o.restart, "POLICY", "Restart policy: no, on-failure[:max_retries], always, unless-stopped",           \
		 0},                                                                                                     \
		{"rm", 0, OPT_BOOL, &o.rm, NULL, "Remove the container when it exits", 0},                               \
		{"runtime", 0, OPT_STRING, &o.runtime, "PATH", "OCI runtime to use (crun, runc, or a path)", 0},         \
		{"security-opt",                                                                                         \
		 0,                                                                                                      \
		 OPT_LIST,                                                                                               \
		 &o.security_opt,                                                                                        \
		 "OPT",                                                                                                  \
		 "Security options (seccomp=unconfined|FILE, no-new-privileges, mask=, unmask=)",                        \
		 0},                                                                                                     \
		{"sig-proxy",                                                                                            \
		 0,                                                                                                      \
		 OPT_BOOL,                                                                                               \
		 &o.sig_proxy,                                                                                           \
		 NULL,                                                                                                   \
		 "Proxy received signals to the process (default true)",                                                 \
		 0},                                                                                                     \
		{"stop-signal",                                                                                          \
		 0,                                                                                                      \
		 OPT_STRING,                                                                                             \
		 &o.stop_signal,                                                                                         \
		 "SIGNAL",                                                                                               \
		 "Signal to stop the container (default SIGTERM)",                                                       \
		 0},                                                                                                     \
		{"stop-timeout",                                                                                         \
		 0,                                                                                                      \
		 OPT_INT,                                                                                                \
		 &o.stop_timeout,                                                                                        \
		 "SECONDS",                                                                                              \
		 "Timeout to stop the container (default 10)",                                                           \
		 0},                                                                                                     \
		{"sysctl", 0, OPT_LIST, &o.sysctl, "KEY=VALUE", "Set namespaced kernel parameters", 0},                  \
		{"tmpfs", 0, OPT_LIST, &o.tmpfs, "PATH[:OPTS]", "Mount a temporary filesystem", 0},                      \
		{"tty", 't', OPT_BOOL, &o.tty, NULL, "Allocate a pseudo-TTY for the container", 0},                      \
		{"ulimit", 0, OPT_LIST, &o.ulimits, "NAME=SOFT[:HARD]", "Set ulimits in the container", 0},              \
		{"user", 'u', OPT_STRING, &o.user, "USER[:GROUP]", "Username or UID, and optionally a group", 0},        \
		{"userns",  0,	    OPT_STRING,                                                                          \
		 &o.userns, "MODE", "User namespace to use (host, keep-id rootless, auto[:size=N] as root)",             \
		 0},                                                                                                     \
		{"uts", 0, OPT_STRING, &o.uts, "MODE", "UTS namespace to use (host, private, container:NAME)", 0},       \
		{"volume", 'v', OPT_LIST, &o.volumes, "SRC:DST[:OPTS]", "Bind mount a volume into the container", 0},    \
		{"volumes-from",                                                                                         \
		 0,                                                                                                      \
		 OPT_LIST,                                                                                               \
		 &o.volumes_from,                                                                                        \
		 "CONTAINER[:ro|rw]",                                                                                    \
		 "Mount the volumes of the specified container(s)",                                                      \
		 0},                                                                                                     \
		{"workdir", 'w', OPT_STRING, &o.workdir, "DIR", "Working directory inside the container", 0},            \
	{                                                                                                                \
		0                                                                                                        \
	}

#define DETACH_OPT                                                                                                     \
	{"detach", 'd', OPT_BOOL, &o.detach, NULL, "Run the container in the background and print its ID", 0},
#define NO_DETACH

static const struct cli_opt run_opts[] = {RUN_OPTS(DETACH_OPT)};
static const struct cli_opt create_opts[] = {RUN_OPTS(NO_DETACH)};

static void reset_opts(void)
{
	memset(&o, 0, sizeof(o));
	o.read_only_tmpfs = true;
	o.sig_proxy = true;
	o.stop_timeout = -1;
	o.oom_score_adj = -100000;
	o.pids_limit = -100000;
}

static char *dupopt(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* "container:NAME" -> "container:ID" */
static int ns_mode(struct skiff_ctx *ctx, struct engine *e, const char *flag, const char *v, char **ret,
		   struct skiff_err **err)
{
	(void)ctx;
	if (!v || !*v || !strcmp(v, "private")) {
		*ret = xstrdup("");
		return 0;
	}
	if (!strcmp(v, "host") || (!strcmp(flag, "network") && !strcmp(v, "none")) || !strncmp(v, "ns:", 3)) {
		*ret = xstrdup(v);
		return 0;
	}
	if (!strncmp(v, "container:", 10)) {
		struct ctr c = {0};
		if (ctr_lookup(e, v + 10, &c, err) < 0)
			return err_wrap(err, "--%s", flag);
		*ret = xasprintf("container:%s", c.row.id);
		ctr_release(&c);
		return 0;
	}
	if (!strcmp(flag, "network") && (!strcmp(v, "pasta") || !strncmp(v, "pasta:", 6) || !strcmp(v, "slirp4netns") ||
					 !strncmp(v, "slirp4netns:", 12))) {
		*ret = xstrdup(v);
		return 0;
	}
	if (!strcmp(flag, "network") && !strcmp(v, "bridge")) {
		*ret = xstrdup(""); /* the default network as root */
		return 0;
	}
	if (!strcmp(flag, "network")) {
		*ret = xstrdup(v); /* network names: the engine checks them */
		return 0;
	}
	return err_makex(err, EINVAL, "invalid value \"%s\" for --%s", v, flag);
}

static int build_config(struct skiff_ctx *ctx, struct engine *e, int argc, char **argv, struct ctr_config **ret,
			struct skiff_err **err)
{
	cleanup_ctr_config struct ctr_config *c = ctr_config_new();
	c->image = xstrdup(argv[0]);
	for (int i = 1; i < argc; i++)
		strv_push(&c->command, argv[i]);
	c->name = dupopt(o.name);
	if (o.entrypoint) {
		c->has_entrypoint = true;
		if (o.entrypoint[0] == '[') {
			cleanup_json struct json *j = NULL;
			if (json_parse(o.entrypoint, strlen(o.entrypoint), &j, err) < 0 || !json_is(j, JSON_ARRAY))
				return err_makex(err, EINVAL, "invalid value \"%s\" for --entrypoint", o.entrypoint);
			for (size_t i = 0; i < json_array_len(j); i++) {
				const char *s = json_string(json_array_get(j, i));
				if (!s)
					return err_makex(err, EINVAL, "invalid value \"%s\" for --entrypoint",
							 o.entrypoint);
				strv_push(&c->entrypoint, s);
			}
		} else if (*o.entrypoint) {
			strv_push(&c->entrypoint, o.entrypoint);
		}
	}
	for (size_t i = 0; i < o.env_file.len; i++)
		if (ctr_parse_env_file(o.env_file.v[i], &c->env, err) < 0)
			return -1;
	for (size_t i = 0; i < o.env.len; i++)
		if (ctr_parse_env(o.env.v[i], &c->env, err) < 0)
			return -1;
	c->workdir = dupopt(o.workdir);
	c->user = dupopt(o.user);
	c->hostname = dupopt(o.hostname);
	for (size_t i = 0; i < o.group_add.len; i++)
		strv_push(&c->group_add, o.group_add.v[i]);
	c->tty = o.tty;
	c->interactive = o.interactive;
	c->init = o.init;
	c->rm = o.rm;
	c->read_only = o.read_only;
	c->read_only_tmpfs = o.read_only_tmpfs;
	c->privileged = o.privileged;
	for (size_t i = 0; i < o.ulimits.len; i++) {
		struct ctr_ulimit u;
		if (ctr_parse_ulimit(o.ulimits.v[i], &u, err) < 0)
			return -1;
		ALLOC_GROW(c->ulimits, c->n_ulimits + 1, c->alloc_ulimits);
		c->ulimits[c->n_ulimits++] = u;
	}
	if (o.oom_score_adj != -100000) {
		if (o.oom_score_adj < -1000 || o.oom_score_adj > 1000)
			return err_makex(err, EINVAL, "invalid value \"%ld\" for --oom-score-adj: must be -1000..1000",
					 o.oom_score_adj);
		c->has_oom_score_adj = true;
		c->oom_score_adj = (int)o.oom_score_adj;
	}
	if (o.restart && ctr_parse_restart(o.restart, &c->restart, &c->restart_max, err) < 0)
		return -1;
	if (o.restart && c->rm && c->restart != CTR_RESTART_NO)
		return err_makex(err, EINVAL,
				 "the --rm option conflicts with --restart, when the restartPolicy is not \"no\"");
	if (o.stop_signal && sig_from_name(o.stop_signal, &c->stop_signal, err) < 0)
		return err_wrap(err, "--stop-signal");
	if (health_flags(c, err) < 0)
		return -1;
	if (o.stop_timeout >= 0) {
		c->has_stop_timeout = true;
		c->stop_timeout = (unsigned)o.stop_timeout;
	}
	for (size_t i = 0; i < o.volumes.len; i++) {
		ALLOC_GROW(c->mounts, c->n_mounts + 1, c->alloc_mounts);
		if (ctr_parse_volume(o.volumes.v[i], &c->mounts[c->n_mounts], err) < 0)
			return -1;
		c->n_mounts++;
	}
	for (size_t i = 0; i < o.volumes_from.len; i++)
		strv_push(&c->volumes_from, o.volumes_from.v[i]);
	for (size_t i = 0; i < o.tmpfs.len; i++) {
		ALLOC_GROW(c->mounts, c->n_mounts + 1, c->alloc_mounts);
		if (ctr_parse_tmpfs(o.tmpfs.v[i], &c->mounts[c->n_mounts], err) < 0)
			return -1;
		c->n_mounts++;
	}
	for (size_t i = 0; i < o.mounts.len; i++) {
		ALLOC_GROW(c->mounts, c->n_mounts + 1, c->alloc_mounts);
		if (ctr_parse_mount(o.mounts.v[i], &c->mounts[c->n_mounts], err) < 0)
			return -1;
		c->n_mounts++;
	}
	for (size_t i = 0; i < o.cap_add.len; i++)
		strv_push(&c->cap_add, o.cap_add.v[i]);
	for (size_t i = 0; i < o.cap_drop.len; i++)
		strv_push(&c->cap_drop, o.cap_drop.v[i]);
	for (size_t i = 0; i < o.security_opt.len; i++) {
		const char *s = o.security_opt.v[i];
		if (!strcmp(s, "no-new-privileges") || !strcmp(s, "no-new-privileges=true") ||
		    !strcmp(s, "no-new-privileges:true")) {
			c->no_new_privileges = true;
		} else if (!strncmp(s, "seccomp=", 8) || !strncmp(s, "seccomp:", 8)) {
			free(c->seccomp_profile);
			c->seccomp_profile = xstrdup(s + 8);
			if (strcmp(s + 8, "unconfined")) {
				size_t len = 0;
				free(c->seccomp_json);
				c->seccomp_json = NULL;
				if (read_file_at(AT_FDCWD, s + 8, 16 << 20, &c->seccomp_json, &len, err) < 0)
					return err_wrap(err, "--security-opt seccomp");
			}
		} else if (!strncmp(s, "mask=", 5)) {
			strv_split(&c->mask, s + 5, ':');
		} else if (!strncmp(s, "unmask=", 7)) {
			strv_split(&c->unmask, s + 7, ':');
		} else if (!strncmp(s, "label=", 6) || !strncmp(s, "apparmor=", 9)) {
			/* no SELinux or AppArmor on this host: accepted and ignored, as podman does there */
		} else {
			return err_makex(err, EINVAL, "invalid --security-opt \"%s\"", s);
		}
	}
	if (o.memory && ctr_parse_bytes(o.memory, false, &c->memory, err) < 0)
		return err_wrap(err, "--memory");
	if (o.memory_swap && ctr_parse_bytes(o.memory_swap, true, &c->memory_swap, err) < 0)
		return err_wrap(err, "--memory-swap");
	if (o.memory_reservation && ctr_parse_bytes(o.memory_reservation, false, &c->memory_reservation, err) < 0)
		return err_wrap(err, "--memory-reservation");
	if (o.cpus && ctr_parse_cpus(o.cpus, &c->cpus, err) < 0)
		return -1;
	if (o.cpu_shares < 0 || o.cpu_period < 0)
		return err_makex(err, EINVAL, "--cpu-shares and --cpu-period must not be negative");
	c->cpu_shares = (uint64_t)o.cpu_shares;
	c->cpu_period = (uint64_t)o.cpu_period;
	c->cpu_quota = o.cpu_quota;
	c->cpuset_cpus = dupopt(o.cpuset_cpus);
	c->cpuset_mems = dupopt(o.cpuset_mems);
	if (o.pids_limit != -100000) {
		c->has_pids_limit = true;
		c->pids_limit = o.pids_limit;
	}
	for (size_t i = 0; i < o.network_alias.len; i++)
		strv_push(&c->net_aliases, o.network_alias.v[i]);
	c->net_ip = dupopt(o.ip);
	c->net_ip6 = dupopt(o.ip6);
	if (ns_mode(ctx, e, "network", o.network, &c->network, err) < 0 ||
	    ns_mode(ctx, e, "pid", o.pid, &c->pid_mode, err) < 0 ||
	    ns_mode(ctx, e, "ipc", o.ipc, &c->ipc_mode, err) < 0 ||
	    ns_mode(ctx, e, "uts", o.uts, &c->uts_mode, err) < 0 ||
	    ns_mode(ctx, e, "cgroupns", o.cgroupns, &c->cgroupns_mode, err) < 0)
		return -1;
	if (o.userns && *o.userns && strcmp(o.userns, "host") && strcmp(o.userns, "keep-id") &&
	    strcmp(o.userns, "auto") && strncmp(o.userns, "auto:", 5))
		return err_makex(err, ENOTSUP, "--userns=%s is not supported yet (host, keep-id, auto)", o.userns);
	c->userns_mode = xstrdup(o.userns ? o.userns : "");
	for (size_t i = 0; i < o.publish.len; i++)
		if (ctr_parse_publish(o.publish.v[i], c, err) < 0)
			return -1;
	c->publish_all = o.publish_all;
	for (size_t i = 0; i < o.dns.len; i++)
		strv_push(&c->dns, o.dns.v[i]);
	for (size_t i = 0; i < o.dns_search.len; i++)
		strv_push(&c->dns_search, o.dns_search.v[i]);
	for (size_t i = 0; i < o.dns_option.len; i++)
		strv_push(&c->dns_option, o.dns_option.v[i]);
	for (size_t i = 0; i < o.add_host.len; i++) {
		if (ctr_parse_add_host(o.add_host.v[i], err) < 0)
			return -1;
		strv_push(&c->add_host, o.add_host.v[i]);
	}
	for (size_t i = 0; i < o.label_file.len; i++)
		if (ctr_parse_label_file(o.label_file.v[i], &c->labels, err) < 0)
			return -1;
	for (size_t i = 0; i < o.labels.len; i++)
		if (ctr_parse_label(o.labels.v[i], &c->labels, err) < 0)
			return -1;
	for (size_t i = 0; i < o.annotations.len; i++)
		if (ctr_parse_label(o.annotations.v[i], &c->annotations, err) < 0)
			return err_wrap(err, "--annotation");
	/* podman writes json-file in the k8s-file format too, and keeps the name */
	if (o.log_driver && !strcmp(o.log_driver, "journald") && access("/run/systemd/journal/socket", F_OK) < 0)
		return err_makex(
			err, ENOENT,
			"log driver journald: journald is not running: /run/systemd/journal/socket is missing");
	if (o.log_driver && strcmp(o.log_driver, "k8s-file") && strcmp(o.log_driver, "json-file") &&
	    strcmp(o.log_driver, "none") && strcmp(o.log_driver, "journald"))
		return err_makex(err, EINVAL,
				 "invalid value \"%s\" for --log-driver (k8s-file, json-file, journald, none)",
				 o.log_driver);
	free(c->log_driver);
	c->log_driver = xstrdup(o.log_driver ? o.log_driver : "k8s-file");
	for (size_t i = 0; i < o.log_opt.len; i++) {
		const char *s = o.log_opt.v[i];
		if (!strncmp(s, "max-size=", 9)) {
			if (ctr_parse_bytes(s + 9, false, &c->log_size_max, err) < 0)
				return err_wrap(err, "--log-opt");
		} else if (!strncmp(s, "max-file=", 9)) {
			if (ctr_parse_log_max_file(s + 9, &c->log_max_file, err) < 0)
				return err_wrap(err, "--log-opt");
		} else if (!strncmp(s, "tag=", 4)) {
			free(c->log_tag);
			c->log_tag = xstrdup(s + 4);
		} else if (strncmp(s, "path=", 5)) {
			return err_makex(err, EINVAL, "invalid --log-opt \"%s\"", s);
		}
	}
	c->runtime = dupopt(o.runtime);
	for (size_t i = 0; i < o.sysctl.len; i++) {
		if (!strchr(o.sysctl.v[i], '='))
			return err_makex(err, EINVAL, "invalid --sysctl \"%s\": want KEY=VALUE", o.sysctl.v[i]);
		strv_push(&c->sysctls, o.sysctl.v[i]);
	}
	if (o.pull && strcmp(o.pull, "never") && strcmp(o.pull, "missing") && strcmp(o.pull, "always") &&
	    strcmp(o.pull, "newer") && strcmp(o.pull, "true") && strcmp(o.pull, "false"))
		return err_makex(err, EINVAL, "invalid --pull \"%s\": use always, missing, never or newer", o.pull);
	for (size_t i = 0; i < o.attach.len; i++) {
		const char *a = o.attach.v[i];
		if (strcasecmp(a, "stdin") && strcasecmp(a, "stdout") && strcasecmp(a, "stderr"))
			return err_makex(err, EINVAL,
					 "invalid stream \"%s\" for --attach: must be STDIN, STDOUT, STDERR", a);
	}
	*ret = TAKE_PTR(c);
	return 0;
}

static bool attach_has(const char *stream)
{
	if (!o.attach.len)
		return strcasecmp(stream, "stdin") || o.interactive;
	for (size_t i = 0; i < o.attach.len; i++)
		if (!strcasecmp(o.attach.v[i], stream))
			return true;
	return false;
}

static int write_cidfile(const char *id, struct skiff_err **err)
{
	if (!o.cidfile)
		return 0;
	int fd = open(o.cidfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_make(err, errno, "--cidfile %s", o.cidfile);
	int rc = write_all(fd, id, strlen(id));
	close(fd);
	return rc < 0 ? err_make(err, errno, "--cidfile %s", o.cidfile) : 0;
}

/* podman warns once that rootless limits need a delegated cgroup v2 */
static void warn_rootless_limits(struct skiff_ctx *ctx, const struct ctr_config *c)
{
	struct statfs fs;
	bool limits = c->memory || c->memory_swap || c->memory_reservation || c->cpus > 0 || c->cpu_shares ||
		      c->cpu_quota || c->cpu_period || c->cpuset_cpus || c->cpuset_mems || c->has_pids_limit;
	if (!ctx->cfg.rootless || !limits)
		return;
	if (statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == 0x63677270 /* CGROUP2_SUPER_MAGIC */)
		return; /* the runtime uses a delegated cgroup when there is one, and warns itself */
	skiff_warn(ctx, "Resource limits are not supported and ignored on cgroups V1 rootless systems");
}

/* --pull: find the image, or pull it. */
static int ensure_image(struct skiff_ctx *ctx, struct ctr_config *cfg, struct skiff_err **err)
{
	const char *policy = !o.pull || !strcmp(o.pull, "false") ? "missing"
			     : !strcmp(o.pull, "true")		 ? "always"
								 : o.pull;
	struct store_image *img = NULL;
	struct skiff_err *e = NULL;
	bool have = image_lookup(ctx->store, cfg->image, &img, &e) == 0;
	store_image_free(img);
	if (!have && err_status(e) != ENOENT) {
		*err = e;
		return -1;
	}
	if (!strcmp(policy, "never") || (have && !strcmp(policy, "missing"))) {
		if (have)
			return 0;
		*err = e;
		return -1;
	}
	err_clear(&e);
	struct image_pull_opts po = {.os = o.os, .arch = o.arch, .variant = o.variant};
	cleanup_free char *plat = NULL, *id = NULL;
	struct cli_reg reg;
	if (o.platform && cli_parse_platform(o.platform, &plat, &po.os, &po.arch, &po.variant, err) < 0)
		return -1;
	if (cli_reg_setup(ctx, &o.reg, &reg, err) < 0)
		return -1;
	reg.quiet = o.quiet;
	cli_reg_pull_opts(&reg, &po);
	struct progress *pr = progress_new(stderr, o.quiet);
	po.progress = progress_event;
	po.progress_ud = pr;
	int rc = image_pull(ctx->store, cfg->image, &po, &id, &e);
	if (rc == 0)
		cli_reg_record_alias(&reg);
	progress_free(pr);
	cli_reg_release(&reg);
	if (rc < 0) {
		if (have && !strcmp(policy, "newer")) {
			err_free(e); /* the local image will do */
			return 0;
		}
		*err = e;
		return -1;
	}
	/* a short name resolved through registries.conf: make sure create finds it */
	if (image_lookup(ctx->store, cfg->image, &img, &e) < 0) {
		err_free(e);
		free(cfg->image);
		cfg->image = TAKE_PTR(id);
	}
	store_image_free(img);
	return 0;
}

static int create_common(struct skiff_ctx *ctx, struct engine *e, int argc, char **argv, struct ctr *ret,
			 struct skiff_err **err)
{
	struct ctr_config *cfg = NULL;
	if (build_config(ctx, e, argc, argv, &cfg, err) < 0)
		return -1;
	warn_rootless_limits(ctx, cfg);
	if (ensure_image(ctx, cfg, err) < 0) {
		ctr_config_free(cfg);
		return -1;
	}
	int rc = ctr_create(e, cfg, err);
	if (rc == 0)
		rc = ctr_lookup(e, cfg->id, ret, err);
	ctr_config_free(cfg);
	if (rc == 0 && write_cidfile(ret->row.id, err) < 0)
		return -1;
	return rc;
}

static int cmd_create(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr c = {0};
	int rc = create_common(ctx, &e, argc, argv, &c, err);
	if (rc == 0) {
		printf("%s\n", c.row.id);
		ctr_release(&c);
	}
	ctr_cli_engine_release(&e);
	reset_opts();
	return rc;
}

static int cmd_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	struct ctr c = {0};
	int status = -1;
	if (o.detach && o.rm && o.restart && strcmp(o.restart, "no")) {
		err_makex(err, EINVAL, "the --rm option conflicts with --restart");
		goto out;
	}
	if (create_common(ctx, &e, argc, argv, &c, err) < 0)
		goto out;
	if (ctr_start(&e, &c, !o.detach, err) < 0) {
		/* podman's 126/127 for a command that cannot run; --rm leaves nothing behind */
		status = ctr_cli_start_status(*err);
		if (c.cfg->rm) {
			struct skiff_err *e2 = NULL;
			ctr_remove(&e, &c, true, &e2);
			err_free(e2);
		}
		goto out;
	}
	if (o.detach) {
		printf("%s\n", c.row.id);
		status = 0;
		goto out;
	}
	struct ctr_attach_opts ao = {
		.in = attach_has("stdin") && o.interactive,
		.out = attach_has("stdout"),
		.err = attach_has("stderr"),
		.in_fd = 0,
		.out_fd = 1,
		.err_fd = 2,
		.tty = o.tty,
		.sig_proxy = o.sig_proxy && !o.tty,
		.detach_keys = o.detach_keys,
		.cleanup = true,
	};
	int code = 0;
	int r = ctr_attach(&e, &c, &ao, true, &code, err);
	if (r < 0)
		goto out;
	if (r == 1) {
		status = 0; /* detached: it keeps running */
		goto out;
	}
	status = code < 0 ? 125 : code;
	{
		/* the monitor left the cleanup to us: record the exit (and unmount), or remove */
		struct ctr again = {0};
		struct skiff_err *e2 = NULL;
		if (ctr_lookup(&e, c.row.id, &again, &e2) == 0) {
			if (c.cfg->rm)
				ctr_remove(&e, &again, true, &e2);
			ctr_release(&again);
		}
		if (e2 && e2->status != ENOENT)
			skiff_warn(ctx, "%s", e2->msg);
		err_free(e2);
	}
out:
	ctr_release(&c);
	ctr_cli_engine_release(&e);
	reset_opts();
	return status;
}

static int run_entry(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	return cmd_run(ctx, argc, argv, err);
}

static int create_entry(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	return cmd_create(ctx, argc, argv, err);
}

__attribute__((constructor)) static void init_opts(void)
{
	reset_opts();
}

const struct cli_impl cli_run = {
	.usage = "[options] IMAGE [COMMAND [ARG...]]",
	.description = "Run a command in a new container.",
	.opts = run_opts,
	.parse_flags = CLI_PARSE_STOP_AT_POSITIONAL,
	.min_args = 1,
	.max_args = -1,
	.run = run_entry,
};

const struct cli_impl cli_create = {
	.usage = "[options] IMAGE [COMMAND [ARG...]]",
	.description = "Create a new container without starting it.",
	.opts = create_opts,
	.parse_flags = CLI_PARSE_STOP_AT_POSITIONAL,
	.min_args = 1,
	.max_args = -1,
	.run = create_entry,
};
