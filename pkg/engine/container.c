/* Containers: create, start through the monitor, stop, kill, remove, wait, cleanup. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/engine/container.h"
#include "pkg/engine/volumes.h"
#include "pkg/events/events.h"
#include "pkg/image/image.h"
#include "pkg/monitor/client.h"
#include "pkg/net/bridge.h"
#include "pkg/net/net.h"
#include "pkg/spec/image.h"
#include "pkg/spec/runtime.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/pathres.h"
#include "vendor-free/spawn.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void ctr_release(struct ctr *c)
{
	store_container_release(&c->row);
	if (c->cfg)
		ctr_config_free(c->cfg);
	c->cfg = NULL;
}

void ctr_list_free(struct ctr *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ctr_release(&v[i]);
	free(v);
}

const char *ctr_state_name(const struct ctr *c)
{
	return c->row.status ? c->row.status : "created";
}

char *ctr_rundir(struct engine *e, const char *id)
{
	return xasprintf("%s/containers/%s", e->cfg->runroot, id);
}

char *ctr_log_path(struct engine *e, const char *id)
{
	return xasprintf("%s/containers/%s/userdata/ctr.log", e->cfg->graphroot, id);
}

/* Log a container event (podman's: labels as attributes); a failure never fails the command. */
static void log_event(struct engine *e, const char *id, const char *name, const struct ctr_config *cfg,
		      const char *status, const int *exit_code)
{
	size_t n = cfg ? cfg->labels.len : 0;
	struct events_attr *a = n ? xcalloc(n, sizeof(*a)) : NULL;
	for (size_t i = 0; i < n; i++)
		a[i] = (struct events_attr){cfg->labels.items[i].key, cfg->labels.items[i].value};
	struct event_new ev = {.type = "container",
			       .status = status,
			       .id = id,
			       .name = name,
			       .image = cfg ? cfg->image_name : NULL,
			       .attrs = a,
			       .nattrs = n,
			       .has_exit_code = exit_code != NULL,
			       .exit_code = exit_code ? *exit_code : 0};
	struct skiff_err *e2 = NULL;
	events_append(e->store ? store_graphroot(e->store) : e->cfg->graphroot, &ev, &e2);
	err_free(e2);
	free(a);
}

void ctr_event(struct engine *e, const struct ctr *c, const char *status)
{
	log_event(e, c->row.id, c->row.name, c->cfg, status, NULL);
}

char *ctr_runtime_root(struct engine *e)
{
	return xasprintf("%s/runtime", e->cfg->runroot);
}

void ctr_random_id(char out[65])
{
	unsigned char b[32];
	size_t got = 0;
	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			abort();
		got += (size_t)n;
	}
	for (size_t i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static int load_image_config(struct engine *e, const char *image_id, struct spec_image_config **ret,
			     struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (store_image_config(e->store, image_id, &buf, &len, err) < 0)
		return -1;
	char dig[80];
	snprintf(dig, sizeof(dig), "sha256:%s", image_id);
	if (spec_image_config_parse_known(buf, len, dig, ret, err) < 0)
		return err_wrap(err, "image %.12s: config", image_id);
	return 0;
}

int ctr_create(struct engine *e, struct ctr_config *cfg, struct skiff_err **err)
{
	struct store_image *img = NULL;
	if (image_lookup(e->store, cfg->image, &img, err) < 0)
		return -1;
	struct spec_image_config *ic = NULL;
	int rc = load_image_config(e, img->id, &ic, err);
	if (rc == 0 && !cfg->command.len && !ic->config.cmd.len &&
	    !(cfg->has_entrypoint ? cfg->entrypoint.len : ic->config.entrypoint.len))
		rc = err_makex(err, EINVAL, "no command or entrypoint provided, and no CMD or ENTRYPOINT from image");
	if (rc < 0)
		goto out;
	char id[65];
	ctr_random_id(id);
	free(cfg->id);
	cfg->id = xstrdup(id);
	free(cfg->image_id);
	cfg->image_id = xstrdup(img->id);
	free(cfg->image_name);
	cfg->image_name = xstrdup(img->names.len ? img->names.v[img->names.len - 1] : img->id);
	cfg->created = now_ns();
	ctr_resolve_health(cfg, ic->config.healthcheck);
	if ((rc = ctr_network_resolve(e, cfg, &ic->config.exposed_ports, err)) < 0)
		goto out;
	if (ctr_userns_is_auto(cfg) && (rc = ctr_userns_auto(e, cfg, err)) < 0)
		goto out;
	/* the image's labels, unless the user set the same key */
	for (size_t i = 0; i < ic->config.labels.len; i++)
		if (!spec_map_get(&cfg->labels, ic->config.labels.items[i].key))
			spec_map_set(&cfg->labels, ic->config.labels.items[i].key, ic->config.labels.items[i].value);
	struct strv vols = STRV_INIT; /* the volumes it uses (volumes.c) */
	if ((rc = vol_ctr_prepare(e, cfg, ic, &cfg->volumes_from, &vols, err)) < 0)
		goto out;
	bool named = cfg->name != NULL;
	for (int attempt = 0; attempt < 10; attempt++) {
		if (!named) {
			free(cfg->name);
			cfg->name = ctr_random_name();
		}
		struct json *j = ctr_config_to_json(cfg);
		struct strbuf sb = STRBUF_INIT;
		json_dump(j, 0, &sb);
		json_free(j);
		rc = store_container_create(e->store, cfg->id, cfg->name, cfg->image_id, sb.buf, err);
		strbuf_release(&sb);
		if (rc == 0 || named || err_status(*err) != EEXIST)
			break;
		err_clear(err);
	}
	if (rc == 0 && (rc = vol_ctr_attach(e, cfg->id, &vols, err)) < 0) {
		struct skiff_err *e2 = NULL;
		if (store_container_delete(e->store, cfg->id, &e2) < 0)
			err_free(e2);
	}
	if (rc < 0) {
		struct skiff_err *e2 = NULL;
		struct strv anon = STRV_INIT;
		for (size_t i = 0; i < cfg->n_mounts; i++)
			if (!strcmp(cfg->mounts[i].type, "volume") && cfg->mounts[i].source &&
			    strlen(cfg->mounts[i].source) == 64)
				strv_push(&anon, cfg->mounts[i].source);
		if (vol_remove_unused(e, &anon, &e2) < 0)
			err_free(e2);
		strv_release(&anon);
	}
	strv_release(&vols);
	if (rc == 0)
		log_event(e, cfg->id, cfg->name, cfg, "create", NULL);
out:
	if (ic)
		spec_image_config_free(ic);
	store_image_free(img);
	return rc;
}

/* The network's directory (runroot/networks/ID: the pinned netns and its helper). */
static char *net_dir(struct engine *e, const char *id)
{
	return xasprintf("%s/networks/%s", e->cfg->runroot, id);
}

/* A --network value that names bridge networks ("net1,net2"), not a mode. */
static bool ctr_network_is_named(const char *v)
{
	static const char *const modes[] = {"host", "none", "private", "bridge", "pasta", "slirp4netns"};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(v, modes[i]))
			return false;
	return *v && strncmp(v, "ns:", 3) && strncmp(v, "container:", 10) && net_mode_of(v) == NET_NONE_HELPER;
}

int ctr_network_resolve(struct engine *e, struct ctr_config *cfg, const struct strv *exposed, struct skiff_err **err)
{
	if (cfg->publish_all && ctr_publish_exposed(cfg, exposed, err) < 0)
		return err_wrap(err, "--publish-all");
	const char *net = cfg->network ? cfg->network : "";
	/* A user namespace of its own (keep-id, auto) is no obstacle: the runtime joins the
	 * network namespace (owned by ours) before it creates the container's. */
	if (!*net && !e->cfg->rootless) {
		/* rootful: the default bridge network, as podman */
		free(cfg->network);
		cfg->network = xstrdup(NET_BRIDGE_MODE);
		if (!cfg->networks.len)
			strv_push(&cfg->networks, NET_DEFAULT_NAME);
	} else if (!*net && (e->cfg->rootless || cfg->n_ports)) {
		/* rootless: pasta, else slirp4netns (podman 5's default) */
		const char *pick = net_have_helper(NET_PASTA)	      ? "pasta"
				   : net_have_helper(NET_SLIRP4NETNS) ? "slirp4netns"
								      : NULL;
		if (!pick && cfg->n_ports)
			return err_makex(err, ENOENT, "publishing ports needs pasta (package passt) or slirp4netns");
		if (pick) {
			free(cfg->network);
			cfg->network = xstrdup(pick);
		}
	} else if (*net && ctr_network_is_named(net)) {
		/* --network NAME[,NAME...]: bridge networks (rootless: in the rootless netns, pkg/net) */
		struct strv names = STRV_INIT;
		strv_split(&names, net, ',');
		for (size_t i = 0; i < names.len; i++) {
			struct net_network n;
			if (net_network_get(store_graphroot(e->store), names.v[i], &n, err) < 0) {
				strv_release(&names);
				return err_wrap(err, "--network");
			}
			if (!strv_contains(&cfg->networks, n.name))
				strv_push(&cfg->networks, n.name);
			net_network_release(&n);
		}
		strv_release(&names);
		free(cfg->network);
		cfg->network = xstrdup(NET_BRIDGE_MODE);
	}
	net = cfg->network ? cfg->network : "";
	if ((cfg->net_ip || cfg->net_ip6 || cfg->net_aliases.len) && strcmp(net, NET_BRIDGE_MODE))
		return err_makex(err, EINVAL,
				 "--ip, --ip6 and --network-alias need a bridge network (not --network %s)",
				 *net ? net : "private");
	if (!strcmp(net, NET_BRIDGE_MODE))
		return net_ports_assign(cfg->ports, cfg->n_ports, err);
	net = cfg->network ? cfg->network : "";
	if (net_check_mode(net, err) < 0)
		return -1;
	if (cfg->n_ports && net_mode_of(net) == NET_NONE_HELPER) {
		if (!strcmp(net, "host")) {
			cfg->n_ports = 0; /* podman discards them: the host's ports are the container's */
			return 0;
		}
		return err_makex(err, EINVAL, "cannot publish ports with --network %s", net);
	}
	return net_ports_assign(cfg->ports, cfg->n_ports, err);
}

static int load_ctr(struct engine *e, struct store_container *row, struct ctr *ret, struct skiff_err **err)
{
	cleanup_json struct json *j = NULL;
	struct ctr c = {.row = *row};
	memset(row, 0, sizeof(*row));
	if (json_parse(c.row.config, strlen(c.row.config), &j, err) < 0 || ctr_config_from_json(j, &c.cfg, err) < 0) {
		ctr_release(&c);
		return err_wrap(err, "container %.12s: configuration", c.row.id);
	}
	if (ctr_refresh(e, &c, err) < 0) {
		ctr_release(&c);
		return -1;
	}
	*ret = c;
	return 0;
}

int ctr_lookup(struct engine *e, const char *ref, struct ctr *ret, struct skiff_err **err)
{
	struct store_container row = {0};
	if (store_container_get(e->store, ref, &row, err) < 0)
		return -1;
	return load_ctr(e, &row, ret, err);
}

int ctr_list(struct engine *e, struct ctr **ret, size_t *ret_n, struct skiff_err **err)
{
	struct store_container *rows = NULL;
	size_t n = 0;
	if (store_container_list(e->store, &rows, &n, err) < 0)
		return -1;
	struct ctr *v = n ? xcalloc(n, sizeof(*v)) : NULL;
	size_t got = 0;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (load_ctr(e, &rows[i], &v[got], err) < 0) {
			rc = -1;
			break;
		}
		got++;
	}
	store_containers_free(rows, n);
	if (rc < 0) {
		ctr_list_free(v, got);
		return -1;
	}
	*ret = v;
	*ret_n = got;
	return 0;
}

static bool is_active(const struct ctr *c)
{
	const char *s = ctr_state_name(c);
	return !strcmp(s, "running") || !strcmp(s, "paused") || !strcmp(s, "stopping");
}

static int save(struct engine *e, struct ctr *c, struct skiff_err **err)
{
	return store_container_set_state(e->store, &c->row, err);
}

static void set_status(struct ctr *c, const char *s)
{
	free(c->row.status);
	c->row.status = xstrdup(s);
}

/* Several processes may notice that a container ended (ps, wait, the cleanup command): the first to create
 * the marker in the per-run directory logs it. */
static bool claim_exit_event(struct engine *e, const char *id)
{
	cleanup_free char *path = xasprintf("%s/containers/%s/exit-event", e->cfg->runroot, id);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		close(fd);
		return true;
	}
	return errno != EEXIST; /* no per-run directory (a reboot): log it */
}

/* Stop the network helper and unpin the namespace; a failure is not the caller's. */
static void net_down(struct engine *e, struct ctr *c)
{
	if (c->cfg && c->cfg->network && !strcmp(c->cfg->network, NET_BRIDGE_MODE)) {
		struct skiff_err *e3 = NULL;
		net_bridge_teardown(e->cfg->runroot, c->row.id, &e3);
		err_free(e3);
		return;
	}
	if (net_mode_of(c->cfg ? c->cfg->network : NULL) == NET_NONE_HELPER)
		return;
	cleanup_free char *dir = net_dir(e, c->row.id);
	struct skiff_err *e2 = NULL;
	net_teardown(dir, &e2);
	err_free(e2);
}

/* The container has ended: record it, and unmount the rootfs. */
static int mark_exited(struct engine *e, struct ctr *c, const struct mon_exit *ex, struct skiff_err **err)
{
	set_status(c, "exited");
	c->row.pid = 0;
	if (ex) {
		c->row.exit_code = ex->exit_code;
		c->row.oom_killed = ex->oom_killed;
		c->row.restart_count = ex->restart_count;
		if (ex->started_at)
			c->row.started_at = ex->started_at;
		c->row.finished_at = ex->finished_at ? ex->finished_at : now_ns();
	} else {
		c->row.exit_code = -1; /* the monitor is gone: nobody saw the exit */
		c->row.finished_at = now_ns();
	}
	if (c->row.mounted) {
		struct skiff_err *e2 = NULL;
		if (store_container_umount(e->store, c->row.id, &e2) == 0)
			c->row.mounted = false;
		err_free(e2);
	}
	net_down(e, c);
	if (save(e, c, err) < 0)
		return -1;
	if (claim_exit_event(e, c->row.id)) {
		log_event(e, c->row.id, c->row.name, c->cfg, "died", &c->row.exit_code);
		log_event(e, c->row.id, c->row.name, c->cfg, "cleanup", NULL);
	}
	return 0;
}

int ctr_refresh(struct engine *e, struct ctr *c, struct skiff_err **err)
{
	if (!is_active(c) && strcmp(ctr_state_name(c), "created"))
		return 0;
	if (!strcmp(ctr_state_name(c), "created") && c->row.monitor_pid == 0)
		return 0;
	cleanup_free char *dir = ctr_rundir(e, c->row.id);
	struct mon_exit ex;
	struct skiff_err *e2 = NULL;
	bool have_exit = mon_read_exit(dir, &ex, &e2) == 0;
	err_clear(&e2);
	bool alive = false;
	if (mon_alive(dir, &alive, &e2) < 0)
		alive = false;
	err_clear(&e2);
	if (have_exit) {
		/* between two runs of a restart (policy or --health-on-failure) the monitor is
		 * still there */
		if (alive && ex.restarting) {
			c->row.restart_count = ex.restart_count;
			return 0;
		}
		return mark_exited(e, c, &ex, err);
	}
	if (alive) {
		/* restarts done so far, which the monitor keeps for a running container */
		cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		cleanup_free char *buf = NULL;
		size_t len = 0;
		if (dfd >= 0 && read_file_at(dfd, "restarts", 32, &buf, &len, &e2) == 0)
			c->row.restart_count = (int)strtol(buf, NULL, 10);
		err_clear(&e2);
		return 0;
	}
	if (!strcmp(ctr_state_name(c), "created")) {
		/* a monitor waiting for an attach that never came, now gone */
		c->row.monitor_pid = 0;
		c->row.pid = 0;
		return save(e, c, err);
	}
	return mark_exited(e, c, NULL, err);
}

/* The OCI runtime of c: its own --runtime, else the engine's. */
const char *ctr_runtime_of(struct engine *e, const struct ctr *c)
{
	return c->cfg && c->cfg->runtime && *c->cfg->runtime ? c->cfg->runtime : e->runtime;
}

/* The runtime, for when there is no monitor to ask. */
static int run_runtime(struct engine *e, const struct ctr *c, const char *const *args, struct skiff_err **err)
{
	cleanup_free char *root = ctr_runtime_root(e);
	struct strv argv = STRV_INIT;
	strv_push(&argv, ctr_runtime_of(e, c));
	strv_push(&argv, "--root");
	strv_push(&argv, root);
	for (; *args; args++)
		strv_push(&argv, *args);
	struct strbuf errout = STRBUF_INIT;
	int status = 0;
	int rc = run_capture((const char *const *)argv.v, NULL, NULL, &errout, &status, err);
	if (rc == 0 && status != 0) {
		strbuf_rtrim(&errout);
		rc = err_makex(err, EIO, "%s %s: %s", argv.v[0], argv.v[3], errout.buf);
	}
	strbuf_release(&errout);
	strv_release(&argv);
	return rc;
}

static char *oom_file(const char *id)
{
	struct stat st;
	if (geteuid() != 0)
		return NULL;
	if (stat("/sys/fs/cgroup/memory", &st) == 0)
		return xasprintf("/sys/fs/cgroup/memory/skiff/%s/memory.oom_control", id);
	if (stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0)
		return xasprintf("/sys/fs/cgroup/skiff/%s/memory.events", id);
	return NULL;
}

/* The working directory exists in the rootfs when the process starts: a missing one is
 * made (owned by the container's root, 0755, as docker makes -w and the image's WorkingDir);
 * one that is not a directory is refused by name. */
static int ensure_workdir(int rootfd, const char *cwd, struct skiff_err **err)
{
	struct skiff_err *e2 = NULL;
	if (!cwd || !strcmp(cwd, "/"))
		return 0;
	int fd = pathres_open(rootfd, cwd, O_PATH | O_DIRECTORY, 0, PATHRES_IN_ROOT, &e2);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	int st = err_status(e2);
	err_free(e2);
	if (st == ENOTDIR)
		return err_makex(err, ENOTDIR, "workdir \"%s\" exists, but is not a directory", cwd);
	if (st != ENOENT)
		return err_makex(err, st, "workdir \"%s\": %s", cwd, strerror(st));
	cleanup_free char *base = NULL;
	cleanup_close int dfd = pathres_open_parent(rootfd, cwd, PATHRES_MKDIR, &base, err);
	if (dfd < 0)
		return err_wrap(err, "create workdir \"%s\"", cwd);
	if (mkdirat(dfd, base, 0755) < 0 && errno != EEXIST)
		return err_make(err, errno, "create workdir \"%s\"", cwd);
	return 0;
}

static int write_bundle(struct engine *e, struct ctr *c, const char *rootfs, int rundirfd, const char *netns,
			struct skiff_err **err)
{
	struct spec_image_config *ic = NULL;
	if (load_image_config(e, c->row.image_id, &ic, err) < 0)
		return -1;
	cleanup_close int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_free char *rundir = ctr_rundir(e, c->row.id);
	struct ctr_spec_env env = {
		.rootfs = rootfs,
		.rootfs_fd = rootfd,
		.userdata = rundir,
		.rootless = e->cfg->rootless,
		.seccomp_default = e->seccomp_profile,
		.init_path = e->init_path,
		.host_resolv = "/etc/resolv.conf",
	};
	cleanup_free char *voldir = xasprintf("%s/volumes", store_graphroot(e->store));
	env.volumes_dir = voldir;
	/* --pid/--ipc/--uts/--network container:ID: that container's namespaces */
	struct strv nsp = STRV_INIT;
	const char *modes[SPEC_NS_COUNT_] = {0};
	modes[SPEC_NS_PID] = c->cfg->pid_mode;
	modes[SPEC_NS_IPC] = c->cfg->ipc_mode;
	modes[SPEC_NS_UTS] = c->cfg->uts_mode;
	modes[SPEC_NS_NETWORK] = c->cfg->network;
	modes[SPEC_NS_CGROUP] = c->cfg->cgroupns_mode;
	static const char *const nsfile[SPEC_NS_COUNT_] = {[SPEC_NS_PID] = "pid",
							   [SPEC_NS_IPC] = "ipc",
							   [SPEC_NS_UTS] = "uts",
							   [SPEC_NS_NETWORK] = "net",
							   [SPEC_NS_CGROUP] = "cgroup"};
	for (int t = 0; t < SPEC_NS_COUNT_; t++) {
		if (!modes[t] || strncmp(modes[t], "container:", 10))
			continue;
		struct ctr other = {0};
		if (ctr_lookup(e, modes[t] + 10, &other, err) < 0) {
			strv_release(&nsp);
			spec_image_config_free(ic);
			return err_wrap(err, "--%s", nsfile[t]);
		}
		bool up = !strcmp(ctr_state_name(&other), "running") && other.row.pid > 0;
		int opid = other.row.pid;
		ctr_release(&other);
		if (!up) {
			strv_release(&nsp);
			spec_image_config_free(ic);
			return err_makex(err, EINVAL, "--%s %s: that container is not running", nsfile[t], modes[t]);
		}
		strv_pushf(&nsp, "/proc/%d/ns/%s", opid, nsfile[t]);
		env.ns_paths[t] = nsp.v[nsp.len - 1];
	}
	env.ns_paths[SPEC_NS_NETWORK] = netns ? netns : env.ns_paths[SPEC_NS_NETWORK];
	struct spec_runtime *spec = NULL;
	int rc = 0;
	if (rootfd < 0)
		rc = err_make(err, errno, "open rootfs %s", rootfs);
	if (rc == 0)
		rc = ctr_write_etc_files(rundirfd, c->cfg, env.host_resolv, err);
	if (rc == 0 && netns) {
		/* the helper's DNS forwarder (unless --dns) and host.containers.internal */
		enum net_mode m = net_mode_of(c->cfg->network);
		char host[46];
		bool has_host = net_host_address(m, c->cfg->network, host);
		rc = net_write_etc(rundirfd, c->cfg->dns.len ? NULL : net_dns_server(m), has_host ? host : NULL, err);
	}
	if (rc == 0)
		rc = ctr_oci_spec(c->cfg, ic, &env, &spec, err);
	if (rc == 0)
		rc = ensure_workdir(rootfd, spec->process ? spec->process->cwd : NULL, err);
	if (rc == 0) {
		struct spec_rt_linux *l = spec_runtime_ensure_linux(spec);
		free(l->cgroups_path);
		l->cgroups_path = xasprintf("/skiff/%s", c->row.id);
		/* A user namespace of its own does not own the network namespace the engine made
		 * (the runtime joins it first): its root has no CAP_NET_BIND_SERVICE there. Let it
		 * bind the low ports it could in a namespace of its own (docker's default). */
		const struct spec_rt_namespace *uns = spec_runtime_find_namespace(spec, SPEC_NS_USER);
		if (netns && uns && !uns->path && !spec_map_get(&l->sysctl, "net.ipv4.ip_unprivileged_port_start"))
			spec_map_set(&l->sysctl, "net.ipv4.ip_unprivileged_port_start", "0");
		struct strbuf sb = STRBUF_INIT;
		rc = spec_runtime_generate(spec, &sb, err);
		if (rc == 0)
			rc = write_file_replace(rundirfd, "config.json", sb.buf, sb.len, 0600, err);
		strbuf_release(&sb);
	}
	if (spec)
		spec_runtime_free(spec);
	spec_image_config_free(ic);
	strv_release(&nsp);
	return rc;
}

static int stop_signal(struct engine *e, struct ctr *c)
{
	(void)e;
	return c->cfg->stop_signal > 0 ? c->cfg->stop_signal : SIGTERM;
}

static int start(struct engine *e, struct ctr *c, bool attach_first, const char *restore, struct skiff_err **err);

int ctr_start(struct engine *e, struct ctr *c, bool attach_first, struct skiff_err **err)
{
	return start(e, c, attach_first, NULL, err);
}

int ctr_start_restore(struct engine *e, struct ctr *c, const char *checkpoint_dir, struct skiff_err **err)
{
	return start(e, c, false, checkpoint_dir, err);
}

static int start(struct engine *e, struct ctr *c, bool attach_first, const char *restore, struct skiff_err **err)
{
	if (is_active(c))
		return 0;
	cleanup_free char *rootfs = NULL;
	struct store_idmap map = {c->cfg->userns_uid, c->cfg->userns_gid, c->cfg->userns_size};
	bool mapped = ctr_userns_is_auto(c->cfg) && map.size;
	if (store_container_mount_mapped(e->store, c->row.id, mapped ? &map : NULL, &rootfs, err) < 0)
		return -1;
	c->row.mounted = true;
	if (vol_ctr_start(e, c, rootfs, err) < 0)
		return err_wrap(err, "container %s", c->row.name);
	cleanup_free char *rundir = ctr_rundir(e, c->row.id);
	cleanup_free char *parent = xasprintf("%s/containers", e->cfg->runroot);
	if (mkdir_p_at(AT_FDCWD, parent, 0700, err) < 0)
		return -1;
	cleanup_close int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return err_make(err, errno, "open %s", parent);
	/* a fresh per-boot directory: no stale exit record or socket */
	if (rm_rf_at(pfd, c->row.id, err) < 0)
		return -1;
	if (mkdirat(pfd, c->row.id, 0700) < 0)
		return err_make(err, errno, "create %s", rundir);
	cleanup_close int rfd = openat(pfd, c->row.id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (rfd < 0)
		return err_make(err, errno, "open %s", rundir);
	/* pasta/slirp4netns: a pinned namespace with its helper, joined by the spec */
	cleanup_free char *netns = NULL;
	if (net_mode_of(c->cfg->network) != NET_NONE_HELPER) {
		cleanup_free char *ndir = net_dir(e, c->row.id);
		struct net_setup ns = {.dir = ndir,
				       .network = c->cfg->network,
				       .ports = c->cfg->ports,
				       .n_ports = c->cfg->n_ports,
				       .as_root = geteuid() == 0};
		if (net_ports_check_free(c->cfg->ports, c->cfg->n_ports, err) < 0 || net_setup(&ns, &netns, err) < 0)
			return err_wrap(err, "container %s: network", c->row.name);
	}
	bool bridge = c->cfg->network && !strcmp(c->cfg->network, NET_BRIDGE_MODE);
	if (bridge) {
		cleanup_free char *ndir = net_dir(e, c->row.id);
		netns = xasprintf("%s/netns", ndir); /* made after the bundle */
	}
	if (write_bundle(e, c, rootfs, rfd, netns, err) < 0) {
		net_down(e, c);
		return err_wrap(err, "container %s", c->row.name);
	}
	if (bridge) {
		cleanup_free char *hosts = xasprintf("%s/hosts", rundir);
		cleanup_free char *made = NULL;
		struct net_bridge_setup bs = {.runroot = e->cfg->runroot,
					      .graphroot = store_graphroot(e->store),
					      .id = c->row.id,
					      .name = c->row.name,
					      .networks = &c->cfg->networks,
					      .aliases = &c->cfg->net_aliases,
					      .static_ip = c->cfg->net_ip,
					      .static_ip6 = c->cfg->net_ip6,
					      .ports = c->cfg->ports,
					      .n_ports = c->cfg->n_ports,
					      .hosts = hosts};
		if (net_ports_check_free(c->cfg->ports, c->cfg->n_ports, err) < 0 ||
		    net_bridge_setup(&bs, &made, err) < 0)
			return err_wrap(err, "container %s: network", c->row.name);
	}
	if (mapped && ctr_userns_auto_paths(e, c, err) < 0)
		return err_wrap(err, "container %s", c->row.name);
	/* the runtime's state of an earlier run whose monitor was killed */
	cleanup_free char *rtstate = xasprintf("%s/runtime/%s", e->cfg->runroot, c->row.id);
	if (access(rtstate, F_OK) == 0) {
		const char *d[] = {"delete", "--force", c->row.id, NULL};
		struct skiff_err *e2 = NULL;
		run_runtime(e, c, d, &e2);
		err_free(e2);
	}

	cleanup_free char *rtroot = ctr_runtime_root(e);
	const char *rtargs[] = {"--root", rtroot, NULL};
	cleanup_free char *log = ctr_log_path(e, c->row.id);
	cleanup_free char *oom = oom_file(c->row.id);
	char restart[48];
	if (c->cfg->restart == CTR_RESTART_ON_FAILURE && c->cfg->restart_max)
		snprintf(restart, sizeof(restart), "on-failure:%u", c->cfg->restart_max);
	else
		snprintf(restart, sizeof(restart), "%s", ctr_restart_name(c->cfg->restart));
	struct strv exit_args = STRV_INIT;
	for (size_t i = 0; i < e->global_args.len; i++)
		strv_push(&exit_args, e->global_args.v[i]);
	strv_push(&exit_args, "container");
	strv_push(&exit_args, "cleanup");
	if (c->cfg->rm)
		strv_push(&exit_args, "--rm");
	strv_push(&exit_args, c->row.id);

	struct mon_spawn_opts mo = MON_SPAWN_OPTS_INIT;
	cleanup_free char *health = NULL;
	if (ctr_health_process(e, c, rfd, err) < 0) {
		strv_release(&exit_args);
		return -1;
	}
	if (faccessat(rfd, CTR_HEALTH_PROCESS, F_OK, 0) == 0) {
		health = xasprintf("%s/%s", rundir, CTR_HEALTH_PROCESS);
		mo.health_process = health;
		mo.health_interval_ms = (uint64_t)c->cfg->health_interval / 1000000;
		mo.health_timeout_ms = (uint64_t)c->cfg->health_timeout / 1000000;
		mo.health_start_period_ms = (uint64_t)c->cfg->health_start_period / 1000000;
		mo.health_retries = c->cfg->health_retries;
		mo.health_on_failure = c->cfg->health_on_failure;
	}
	mo.monitor_path = e->monitor;
	mo.id = c->row.id;
	mo.bundle = rundir;
	mo.dir = rundir;
	mo.runtime = ctr_runtime_of(e, c);
	mo.runtime_args = rtargs;
	mo.terminal = c->cfg->tty;
	mo.stdin_open = c->cfg->interactive;
	mo.start = !attach_first;
	mo.restore = restore;
	mo.log_path = log;
	/* json-file is written in the k8s-file format (as podman does) */
	mo.log_driver =
		c->cfg->log_driver && !strcmp(c->cfg->log_driver, "json-file") ? "k8s-file" : c->cfg->log_driver;
	mo.name = c->row.name;
	mo.log_size_max = c->cfg->log_size_max;
	mo.log_max_file = c->cfg->log_max_file;
	mo.log_tag = c->cfg->log_tag;
	mo.oom_file = oom;
	mo.restart = restart;
	mo.exit_command = e->skiff;
	mo.exit_command_args = (const char *const *)exit_args.v;
	mo.stop_signal = stop_signal(e, c);
	mo.stop_timeout = c->cfg->has_stop_timeout ? (int)c->cfg->stop_timeout : 10;
	pid_t ctr_pid = 0, mon_pid = 0;
	int rc = mon_spawn(&mo, &ctr_pid, &mon_pid, err);
	strv_release(&exit_args);
	if (rc < 0) {
		struct skiff_err *e2 = NULL;
		net_down(e, c);
		if (store_container_umount(e->store, c->row.id, &e2) == 0)
			c->row.mounted = false;
		err_free(e2);
		save(e, c, NULL);
		return -1;
	}
	c->row.pid = ctr_pid;
	c->row.monitor_pid = mon_pid;
	uint64_t st = 0;
	proc_starttime(mon_pid, &st);
	c->row.monitor_start = st;
	c->row.exit_code = 0;
	c->row.oom_killed = false;
	c->row.finished_at = 0;
	if (!attach_first) {
		set_status(c, "running");
		c->row.started_at = now_ns();
	}
	if (save(e, c, err) < 0)
		return -1;
	ctr_event(e, c, "init");
	if (!attach_first)
		ctr_event(e, c, "start");
	return 0;
}

int ctr_mark_started(struct engine *e, struct ctr *c, struct skiff_err **err)
{
	set_status(c, "running");
	c->row.started_at = now_ns();
	if (save(e, c, err) < 0)
		return -1;
	ctr_event(e, c, "start");
	return 0;
}

int ctr_connect(struct engine *e, struct ctr *c, int *ret_fd, struct skiff_err **err)
{
	cleanup_free char *dir = ctr_rundir(e, c->row.id);
	char *state = NULL;
	int rc = mon_connect(dir, ret_fd, &state, err);
	free(state);
	return rc < 0 ? err_wrap(err, "container %s: monitor", c->row.name) : 0;
}

/* Wait until the monitor wrote the exit record or is gone; timeout_ms < 0: forever. */
static int wait_exit(struct engine *e, struct ctr *c, int timeout_ms, struct skiff_err **err)
{
	cleanup_free char *dir = ctr_rundir(e, c->row.id);
	cleanup_close int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (in >= 0 && inotify_add_watch(in, dir, IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF) < 0) {
		close(in);
		in = -1;
	}
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct mon_exit ex;
		struct skiff_err *e2 = NULL;
		bool alive = false;
		if (mon_read_exit(dir, &ex, &e2) == 0)
			return 0;
		err_clear(&e2);
		if (mon_alive(dir, &alive, &e2) < 0 || !alive) {
			err_clear(&e2);
			return 0;
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (timeout_ms >= 0 && spent >= timeout_ms)
			return err_makex(err, ETIMEDOUT, "container %s did not exit", c->row.name);
		/* inotify wakes us at once; the bounded poll also catches a monitor killed outright */
		struct pollfd p = {.fd = in, .events = POLLIN};
		int slice = 250;
		if (timeout_ms >= 0 && timeout_ms - spent < slice)
			slice = (int)(timeout_ms - spent);
		if (poll(&p, in >= 0 ? 1 : 0, slice) > 0) {
			char buf[4096];
			while (read(in, buf, sizeof(buf)) > 0) {
			}
		}
	}
}

int ctr_stop(struct engine *e, struct ctr *c, int timeout, struct skiff_err **err)
{
	if (!is_active(c))
		return 0;
	unsigned t = timeout >= 0 ? (unsigned)timeout : (c->cfg->has_stop_timeout ? c->cfg->stop_timeout : 10);
	int fd = -1;
	struct skiff_err *e2 = NULL;
	bool claimed = false;
	if (ctr_connect(e, c, &fd, &e2) == 0) {
		/* We clean up after the exit ourselves (record it, unmount, --rm): the monitor
		 * skips its exit command if EXIT reaches us; if we die first, it runs it. */
		if (mon_attach_flags(fd, MON_ATTACH_CLEANUP, &e2) == 0)
			claimed = true;
		err_clear(&e2);
		int rc = mon_stop(fd, t, stop_signal(e, c), &e2);
		if (rc == 0 && claimed) {
			/* EXIT, or the monitor closing us after it: the end of this run */
			struct mon_packet *p = xmalloc(sizeof(*p));
			struct pollfd pf = {.fd = fd, .events = POLLIN};
			while (poll(&pf, 1, (int)t * 1000 + 15000) > 0) {
				struct skiff_err *e3 = NULL;
				int r = mon_recv(fd, p, &e3);
				err_free(e3);
				if (r <= 0 || p->msg.type == MON_PKT_EXIT)
					break;
			}
			free(p);
		}
		close(fd);
		if (rc == 0 && wait_exit(e, c, (int)t * 1000 + 15000, err) < 0)
			return -1;
	}
	if (e2) {
		/* no monitor to ask: the runtime kills it */
		err_clear(&e2);
		const char *k[] = {"kill", c->row.id, "KILL", NULL};
		const char *d[] = {"delete", "--force", c->row.id, NULL};
		run_runtime(e, c, k, &e2);
		err_clear(&e2);
		run_runtime(e, c, d, &e2);
		err_clear(&e2);
	}
	if (ctr_refresh(e, c, err) < 0)
		return -1;
	if (!is_active(c))
		ctr_event(e, c, "stop");
	/* what the exit command would have done for --rm (ctr_remove goes on itself) */
	if (claimed && c->cfg->rm && !is_active(c) && !c->removing)
		return ctr_remove(e, c, false, err);
	return 0;
}

int ctr_stop_many(struct engine *e, struct ctr *v, size_t n, int timeout, bool removing, struct skiff_err **err)
{
	/* 1: the stop signal to every monitor, each connection claiming the cleanup */
	int *fds = xcalloc(n ? n : 1, sizeof(int));
	unsigned maxt = 0;
	for (size_t i = 0; i < n; i++) {
		fds[i] = -1;
		if (!is_active(&v[i]))
			continue;
		unsigned t =
			timeout >= 0 ? (unsigned)timeout : (v[i].cfg->has_stop_timeout ? v[i].cfg->stop_timeout : 10);
		struct skiff_err *e2 = NULL;
		int fd = -1;
		if (ctr_connect(e, &v[i], &fd, &e2) == 0 && mon_attach_flags(fd, MON_ATTACH_CLEANUP, &e2) == 0 &&
		    mon_stop(fd, t, stop_signal(e, &v[i]), &e2) == 0) {
			fds[i] = fd;
			if (t > maxt)
				maxt = t;
		} else if (fd >= 0) {
			close(fd);
		}
		err_free(e2);
	}
	/* 2: their exits, in any order; then each as ctr_stop finishes one */
	struct mon_packet *p = xmalloc(sizeof(*p));
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		bool signalled = fds[i] >= 0;
		if (fds[i] >= 0) {
			for (;;) {
				struct timespec now;
				clock_gettime(CLOCK_MONOTONIC, &now);
				long left =
					(long)maxt * 1000 + 15000 -
					((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
				struct pollfd pf = {.fd = fds[i], .events = POLLIN};
				if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
					break;
				struct skiff_err *e3 = NULL;
				int r = mon_recv(fds[i], p, &e3);
				err_free(e3);
				if (r <= 0 || p->msg.type == MON_PKT_EXIT)
					break;
			}
			close(fds[i]);
			fds[i] = -1;
		}
		/* a container whose monitor did not answer goes the single way */
		if (rc == 0 && is_active(&v[i]) && ctr_refresh(e, &v[i], err) < 0)
			rc = -1;
		if (rc == 0 && signalled && !is_active(&v[i]))
			ctr_event(e, &v[i], "stop");
		if (rc == 0 && is_active(&v[i]) && ctr_stop(e, &v[i], timeout, err) < 0)
			rc = -1;
		/* we claimed the cleanup: a --rm container goes now, unless the caller removes it */
		if (rc == 0 && !removing && v[i].cfg->rm && !is_active(&v[i]) && !v[i].removing &&
		    ctr_remove(e, &v[i], false, err) < 0)
			rc = -1;
	}
	free(p);
	free(fds);
	return rc;
}

int ctr_kill(struct engine *e, struct ctr *c, int sig, struct skiff_err **err)
{
	if (!is_active(c))
		return err_makex(err, EINVAL,
				 "can only kill running containers. %.12s is in state %s: container state improper",
				 c->row.id, ctr_state_name(c));
	int fd = -1;
	if (ctr_connect(e, c, &fd, err) < 0)
		return -1;
	int rc = mon_kill(fd, sig, err);
	close(fd);
	if (rc == 0)
		ctr_event(e, c, "kill");
	return rc;
}

int ctr_remove(struct engine *e, struct ctr *c, bool force, struct skiff_err **err)
{
	c->removing = true;
	if (is_active(c)) {
		if (!force)
			return err_makex(
				err, EBUSY,
				"cannot remove container %.12s as it is %s - running or paused containers cannot be "
				"removed without force: container state improper",
				c->row.id, ctr_state_name(c));
		if (ctr_stop(e, c, 0, err) < 0)
			return -1;
	}
	struct skiff_err *e2 = NULL;
	if (!strcmp(ctr_state_name(c), "created") && c->row.monitor_pid > 0) {
		/* a monitor still waiting for its start */
		int fd = -1;
		if (ctr_connect(e, c, &fd, &e2) == 0) {
			mon_kill(fd, SIGKILL, &e2);
			close(fd);
			wait_exit(e, c, 10000, &e2);
		}
		err_clear(&e2);
	}
	/* A monitor that saw the exit deletes the runtime's state and then exits: let it
	 * finish rather than run the runtime a second time beside it. */
	if (c->row.monitor_pid > 0) {
		cleanup_close int pfd = pidfd_open_compat(c->row.monitor_pid);
		uint64_t st = 0;
		if (pfd >= 0 && proc_starttime(c->row.monitor_pid, &st) == 0 && st == c->row.monitor_start) {
			struct pollfd p = {.fd = pfd, .events = POLLIN};
			while (poll(&p, 1, 10000) < 0 && errno == EINTR) {
			}
		}
	}
	/* the runtime's state, if a killed monitor left it behind */
	const char *d[] = {"delete", "--force", c->row.id, NULL};
	cleanup_free char *rtstate = xasprintf("%s/runtime/%s", e->cfg->runroot, c->row.id);
	if (access(rtstate, F_OK) == 0) {
		run_runtime(e, c, d, &e2);
		err_clear(&e2);
	}
	cleanup_free char *parent = xasprintf("%s/containers", e->cfg->runroot);
	cleanup_close int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	net_down(e, c);
	if (pfd >= 0 && rm_rf_at(pfd, c->row.id, err) < 0)
		return -1;
	/* rm -v, and --rm as podman: the anonymous volumes go with it */
	struct strv anon = STRV_INIT;
	if ((c->remove_volumes || c->cfg->rm) && vol_ctr_anonymous(e, c->row.id, &anon, err) < 0)
		return -1;
	if (store_container_delete(e->store, c->row.id, err) < 0) {
		strv_release(&anon);
		return -1;
	}
	int vrc = vol_remove_unused(e, &anon, err);
	strv_release(&anon);
	ctr_event(e, c, "remove");
	if (vrc < 0)
		return err_wrap(err, "container %.12s removed, but not its anonymous volumes", c->row.id);
	return 0;
}

int ctr_wait(struct engine *e, struct ctr *c, int *ret_code, struct skiff_err **err)
{
	while (is_active(c) || (!strcmp(ctr_state_name(c), "created") && c->row.monitor_pid > 0)) {
		if (wait_exit(e, c, -1, err) < 0 || ctr_refresh(e, c, err) < 0)
			return -1;
		if (is_active(c)) {
			/* restarting: wait for the next run's record to go, then for its end */
			struct store_container row = {0};
			if (store_container_get(e->store, c->row.id, &row, err) < 0)
				return -1;
			store_container_release(&row);
			cleanup_free char *dir = ctr_rundir(e, c->row.id);
			struct mon_exit ex;
			struct skiff_err *e2 = NULL;
			if (mon_read_exit(dir, &ex, &e2) == 0) {
				struct timespec ts = {0, 50 * 1000 * 1000};
				nanosleep(&ts, NULL);
			}
			err_clear(&e2);
		}
	}
	*ret_code = c->row.exit_code;
	return 0;
}

int ctr_cleanup(struct engine *e, const char *ref, bool rm, struct skiff_err **err)
{
	struct ctr c = {0};
	if (ctr_lookup(e, ref, &c, err) < 0)
		return -1;
	int rc = 0;
	if (rm && !is_active(&c))
		rc = ctr_remove(e, &c, false, err);
	ctr_release(&c);
	return rc;
}

int ctr_pause(struct engine *e, struct ctr *c, bool pause, struct skiff_err **err)
{
	const char *want = pause ? "running" : "paused";
	if (strcmp(ctr_state_name(c), want))
		return err_makex(err, EINVAL, "\"%s\" is not %s, can't %s: container state improper", c->row.name, want,
				 pause ? "pause" : "unpause");
	const char *args[] = {pause ? "pause" : "resume", c->row.id, NULL};
	if (run_runtime(e, c, args, err) < 0) {
		if (e->cfg->rootless)
			err_wrap(err, "%s: rootless containers have no cgroup to freeze on this host",
				 pause ? "pause" : "unpause");
		return -1;
	}
	set_status(c, pause ? "paused" : "running");
	if (save(e, c, err) < 0)
		return -1;
	ctr_event(e, c, pause ? "pause" : "unpause");
	return 0;
}

int ctr_rename(struct engine *e, struct ctr *c, const char *name, struct skiff_err **err)
{
	size_t n = strlen(name);
	bool ok = n > 0 && n <= 253;
	for (size_t i = 0; ok && i < n; i++) {
		char ch = name[i];
		ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		     (i > 0 && (ch == '_' || ch == '.' || ch == '-'));
	}
	if (!ok)
		return err_makex(err, EINVAL, "invalid container name \"%s\": must match [a-zA-Z0-9][a-zA-Z0-9_.-]*",
				 name);
	if (store_container_rename(e->store, c->row.id, name, err) < 0)
		return -1;
	log_event(e, c->row.id, name, c->cfg, "rename", NULL);
	return 0;
}

int ctr_mount(struct engine *e, struct ctr *c, char **ret_path, struct skiff_err **err)
{
	if (store_container_mount(e->store, c->row.id, ret_path, err) < 0)
		return -1;
	if (!c->row.mounted) {
		c->row.mounted = true;
		if (save(e, c, err) < 0) {
			free(*ret_path);
			*ret_path = NULL;
			return -1;
		}
	}
	ctr_event(e, c, "mount");
	return 0;
}

int ctr_umount(struct engine *e, struct ctr *c, struct skiff_err **err)
{
	if (is_active(c))
		return 0; /* its rootfs stays while it runs, as podman's */
	if (store_container_umount(e->store, c->row.id, err) < 0)
		return -1;
	c->row.mounted = false;
	if (save(e, c, err) < 0)
		return -1;
	ctr_event(e, c, "unmount");
	return 0;
}
