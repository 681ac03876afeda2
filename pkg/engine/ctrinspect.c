/* `inspect` of a container: podman's JSON shape, from the store row, the configuration
 * and, while it has one, the OCI spec it runs with. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pkg/net/bridge.h"
#include "pkg/engine/container.h"
#include "pkg/engine/ctrconfig-internal.h"
#include "pkg/spec/runtime.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/signame.h"
#include "vendor-free/xalloc.h"

static void set_time(struct json *o, const char *key, int64_t ns)
{
	char buf[80];
	if (ns <= 0) {
		json_object_set_string(o, key, "0001-01-01T00:00:00Z");
		return;
	}
	time_t t = ns / 1000000000;
	struct tm tm;
	localtime_r(&t, &tm);
	size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, ".%09lld", (long long)(ns % 1000000000));
	char z[8];
	strftime(z, sizeof(z), "%z", &tm);
	snprintf(buf + n, sizeof(buf) - n, "%.3s:%.2s", z, z + 3);
	json_object_set_string(o, key, buf);
}

/* The spec the container runs with, when its bundle is there. */
static struct spec_runtime *load_spec(struct engine *e, const struct ctr *c)
{
	cleanup_free char *dir = ctr_rundir(e, c->row.id);
	cleanup_free char *path = xasprintf("%s/config.json", dir);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	struct skiff_err *er = NULL;
	struct spec_runtime *s = NULL;
	if (read_file_at(AT_FDCWD, path, 64 << 20, &buf, &len, &er) < 0 || spec_runtime_parse(buf, len, &s, &er) < 0)
		s = NULL;
	err_free(er);
	return s;
}

int ctr_inspect_json(struct engine *e, struct ctr *c, struct json **ret, struct skiff_err **err)
{
	(void)err;
	const struct ctr_config *cfg = c->cfg;
	struct spec_runtime *spec = load_spec(e, c);
	const char *status = ctr_state_name(c);
	struct json *j = json_new_object();
	json_object_set_string(j, "Id", c->row.id);
	set_time(j, "Created", c->row.created);
	struct strv args = STRV_INIT;
	if (spec && spec->process) {
		for (size_t i = 0; i < spec->process->args.len; i++)
			strv_push(&args, spec->process->args.v[i]);
	} else {
		for (size_t i = 0; i < cfg->entrypoint.len; i++)
			strv_push(&args, cfg->entrypoint.v[i]);
		for (size_t i = 0; i < cfg->command.len; i++)
			strv_push(&args, cfg->command.v[i]);
	}
	json_object_set_string(j, "Path", args.len ? args.v[0] : "");
	struct json *ja = json_new_array();
	for (size_t i = 1; i < args.len; i++)
		json_array_append(ja, json_new_string(args.v[i]));
	json_object_set(j, "Args", ja);

	struct json *st = json_new_object();
	json_object_set_string(st, "OciVersion", SPEC_RUNTIME_VERSION);
	json_object_set_string(st, "Status", status);
	json_object_set_bool(st, "Running", !strcmp(status, "running"));
	json_object_set_bool(st, "Paused", !strcmp(status, "paused"));
	json_object_set_bool(st, "Restarting", false);
	json_object_set_bool(st, "OOMKilled", c->row.oom_killed);
	json_object_set_bool(st, "Dead", false);
	json_object_set_int(st, "Pid", c->row.pid);
	json_object_set_int(st, "ConmonPid", c->row.monitor_pid);
	json_object_set_int(st, "ExitCode", c->row.exit_code);
	json_object_set_string(st, "Error", "");
	set_time(st, "StartedAt", c->row.started_at);
	set_time(st, "FinishedAt", c->row.finished_at);
	struct json *health = NULL;
	struct skiff_err *e2 = NULL;
	if (ctr_health_state(e, c, &health, &e2) < 0)
		err_free(e2);
	if (health)
		json_object_set(st, "Health", health);
	json_object_set_bool(st, "CheckpointedAt", false);
	json_object_set(j, "State", st);

	json_object_set_string(j, "Image", c->row.image_id);
	json_object_set_string(j, "ImageDigest", "");
	json_object_set_string(j, "ImageName", cfg->image_name ? cfg->image_name : cfg->image);
	cleanup_free char *cdir = store_container_dir(e->store, c->row.id);
	cleanup_free char *rundir = ctr_rundir(e, c->row.id);
	cleanup_free char *merged =
		xasprintf("%s/%s", cdir, strcmp(store_driver(e->store), "vfs") ? "merged" : "rootfs");
	json_object_set_string(j, "Rootfs", "");
	json_object_set_string(j, "Pod", "");
	cleanup_free char *resolv = xasprintf("%s/resolv.conf", rundir);
	cleanup_free char *hostname = xasprintf("%s/hostname", rundir);
	cleanup_free char *hosts = xasprintf("%s/hosts", rundir);
	json_object_set_string(j, "ResolvConfPath", resolv);
	json_object_set_string(j, "HostnamePath", hostname);
	json_object_set_string(j, "HostsPath", hosts);
	json_object_set_string(j, "StaticDir", cdir);
	cleanup_free char *log = ctr_log_path(e, c->row.id);
	json_object_set_string(j, "OCIRuntime", e->runtime);
	json_object_set_string(j, "ConmonPidFile", rundir);
	json_object_set_string(j, "Name", c->row.name);
	json_object_set_int(j, "RestartCount", c->row.restart_count);
	json_object_set_string(j, "Driver", store_driver(e->store));
	json_object_set_string(j, "MountLabel", "");
	json_object_set_string(j, "ProcessLabel", "");
	json_object_set_string(j, "AppArmorProfile", "");
	struct json *eff = json_new_array(), *bnd = json_new_array();
	if (spec && spec->process && spec->process->capabilities) {
		json_free(eff);
		json_free(bnd);
		eff = ctr_strv_json(&spec->process->capabilities->effective);
		bnd = ctr_strv_json(&spec->process->capabilities->bounding);
	}
	json_object_set(j, "EffectiveCaps", eff);
	json_object_set(j, "BoundingCaps", bnd);
	json_object_set(j, "ExecIDs", json_new_array());
	struct json *gd = json_new_object();
	json_object_set_string(gd, "Name", store_driver(e->store));
	struct json *gdd = json_new_object();
	cleanup_free char *upper = xasprintf("%s/diff", cdir);
	cleanup_free char *work = xasprintf("%s/work", cdir);
	json_object_set_string(gdd, "MergedDir", merged);
	if (strcmp(store_driver(e->store), "vfs")) {
		json_object_set_string(gdd, "UpperDir", upper);
		json_object_set_string(gdd, "WorkDir", work);
	}
	json_object_set(gd, "Data", gdd);
	json_object_set(j, "GraphDriver", gd);
	struct json *mounts = json_new_array();
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct ctr_mount *m = &cfg->mounts[i];
		struct json *mj = json_new_object();
		json_object_set_string(mj, "Type", m->type);
		if (!strcmp(m->type, "volume") && m->source) {
			/* podman: the volume's name, and its data directory as the source */
			char *data = store_volume_data(e->store, m->source);
			json_object_set_string(mj, "Name", m->source);
			json_object_set_string(mj, "Source", data ? data : "");
			free(data);
		} else {
			json_object_set_string(mj, "Source", m->source ? m->source : "");
		}
		json_object_set_string(mj, "Destination", m->destination);
		json_object_set_string(mj, "Driver", !strcmp(m->type, "volume") ? "local" : "");
		json_object_set_string(mj, "Mode", "");
		json_object_set(mj, "Options", ctr_strv_json(&m->options));
		json_object_set_bool(mj, "RW", !strv_contains(&m->options, "ro"));
		json_object_set_string(mj, "Propagation", "rprivate");
		json_array_append(mounts, mj);
	}
	json_object_set(j, "Mounts", mounts);
	json_object_set(j, "Dependencies", json_new_array());
	struct json *ns = json_new_object();
	json_object_set(ns, "Ports", ctr_ports_json(cfg));
	/* bridge networks of a running container: their addresses, and the first one at
	 * the top level as docker shows it */
	struct json *nets = net_bridge_status(e->cfg->runroot, c->row.id);
	const struct json *first = nets && nets->u.obj.len ? nets->u.obj.vals[0] : NULL;
	json_object_set_string(ns, "IPAddress", first ? json_object_get_string(first, "IPAddress") : "");
	json_object_set_string(ns, "Gateway", first ? json_object_get_string(first, "Gateway") : "");
	json_object_set_string(ns, "MacAddress", first ? json_object_get_string(first, "MacAddress") : "");
	json_object_set(ns, "Networks", nets ? nets : json_new_object());
	json_object_set(j, "NetworkSettings", ns);
	json_object_set_string(j, "Namespace", "");
	json_object_set_bool(j, "IsInfra", false);

	struct json *cf = json_new_object();
	json_object_set_string(cf, "Hostname",
			       spec && spec->hostname ? spec->hostname : (cfg->hostname ? cfg->hostname : ""));
	json_object_set_string(cf, "Domainname", "");
	json_object_set_string(cf, "User", cfg->user ? cfg->user : "");
	json_object_set_bool(cf, "AttachStdin", cfg->interactive);
	json_object_set_bool(cf, "AttachStdout", false);
	json_object_set_bool(cf, "AttachStderr", false);
	json_object_set_bool(cf, "Tty", cfg->tty);
	json_object_set_bool(cf, "OpenStdin", cfg->interactive);
	json_object_set_bool(cf, "StdinOnce", false);
	if (spec && spec->process)
		json_object_set(cf, "Env", ctr_strv_json(&spec->process->env));
	else
		json_object_set(cf, "Env", ctr_strv_json(&cfg->env));
	json_object_set(cf, "Cmd", ctr_strv_json(&cfg->command));
	json_object_set_string(cf, "Image", cfg->image_name ? cfg->image_name : cfg->image);
	json_object_set(cf, "Volumes", json_new_null());
	json_object_set_string(cf, "WorkingDir",
			       spec && spec->process && spec->process->cwd ? spec->process->cwd
									   : (cfg->workdir ? cfg->workdir : "/"));
	if (cfg->has_entrypoint)
		json_object_set(cf, "Entrypoint", ctr_strv_json(&cfg->entrypoint));
	else
		json_object_set(cf, "Entrypoint", json_new_string(""));
	json_object_set(cf, "OnBuild", json_new_null());
	json_object_set(cf, "Labels", ctr_map_json(&cfg->labels));
	json_object_set(cf, "Annotations", ctr_map_json(&cfg->annotations));
	const char *sn = sig_name(cfg->stop_signal > 0 ? cfg->stop_signal : 15);
	json_object_set_string(cf, "StopSignal", sn ? sn : "SIGTERM");
	json_object_set_string(cf, "Umask", "0022");
	json_object_set_int(cf, "StopTimeout", cfg->has_stop_timeout ? cfg->stop_timeout : 10);
	if (cfg->health_test.len) {
		struct json *h = json_new_object();
		json_object_set(h, "Test", ctr_strv_json(&cfg->health_test));
		json_object_set_int(h, "StartPeriod", cfg->health_start_period);
		json_object_set_int(h, "Interval", cfg->health_interval);
		json_object_set_int(h, "Timeout", cfg->health_timeout);
		json_object_set_int(h, "Retries", cfg->health_retries);
		json_object_set(cf, "Healthcheck", h);
		json_object_set_string(cf, "HealthcheckOnFailureAction",
				       cfg->health_on_failure ? cfg->health_on_failure : "none");
	}
	json_object_set(j, "Config", cf);

	struct json *hc = json_new_object();
	struct json *binds = json_new_array();
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct ctr_mount *m = &cfg->mounts[i];
		if (strcmp(m->type, "bind"))
			continue;
		char *b = xasprintf("%s:%s%s", m->source ? m->source : "", m->destination,
				    strv_contains(&m->options, "ro") ? ":ro" : "");
		json_array_append(binds, json_new_string(b));
		free(b);
	}
	json_object_set(hc, "Binds", binds);
	json_object_set_string(hc, "NetworkMode", cfg->network && *cfg->network ? cfg->network : "private");
	struct json *rp = json_new_object();
	json_object_set_string(rp, "Name", cfg->restart == CTR_RESTART_NO ? "" : ctr_restart_name(cfg->restart));
	json_object_set_int(rp, "MaximumRetryCount", cfg->restart_max);
	json_object_set(hc, "RestartPolicy", rp);
	json_object_set_bool(hc, "AutoRemove", cfg->rm);
	json_object_set(hc, "CapAdd", ctr_strv_json(&cfg->cap_add));
	json_object_set(hc, "CapDrop", ctr_strv_json(&cfg->cap_drop));
	json_object_set_bool(hc, "Privileged", cfg->privileged);
	json_object_set_bool(hc, "ReadonlyRootfs", cfg->read_only);
	json_object_set_int(hc, "Memory", cfg->memory);
	json_object_set_int(hc, "MemoryReservation", cfg->memory_reservation);
	json_object_set_int(hc, "MemorySwap", cfg->memory_swap);
	json_object_set_int(hc, "NanoCpus", (int64_t)(cfg->cpus * 1e9));
	json_object_set_int(hc, "CpuShares", (int64_t)cfg->cpu_shares);
	json_object_set_int(hc, "CpuPeriod", (int64_t)cfg->cpu_period);
	json_object_set_int(hc, "CpuQuota", cfg->cpu_quota);
	json_object_set_string(hc, "CpusetCpus", cfg->cpuset_cpus ? cfg->cpuset_cpus : "");
	json_object_set_int(hc, "PidsLimit", cfg->has_pids_limit ? cfg->pids_limit : 0);
	struct json *ul = json_new_array();
	for (size_t i = 0; i < cfg->n_ulimits; i++) {
		struct json *u = json_new_object();
		json_object_set_string(u, "Name", cfg->ulimits[i].name);
		json_object_set_int(u, "Soft", (int64_t)cfg->ulimits[i].soft);
		json_object_set_int(u, "Hard", (int64_t)cfg->ulimits[i].hard);
		json_array_append(ul, u);
	}
	json_object_set(hc, "Ulimits", ul);
	struct json *lc = json_new_object();
	json_object_set_string(lc, "Type", cfg->log_driver ? cfg->log_driver : "k8s-file");
	json_object_set(lc, "Config", ctr_log_config_json(cfg));
	json_object_set_string(lc, "Path", log);
	json_object_set(hc, "LogConfig", lc);
	json_object_set_string(hc, "PidMode", cfg->pid_mode && *cfg->pid_mode ? cfg->pid_mode : "private");
	json_object_set_string(hc, "IpcMode", cfg->ipc_mode && *cfg->ipc_mode ? cfg->ipc_mode : "private");
	json_object_set_string(hc, "UTSMode", cfg->uts_mode && *cfg->uts_mode ? cfg->uts_mode : "private");
	json_object_set_string(hc, "UsernsMode", cfg->userns_mode ? cfg->userns_mode : "");
	json_object_set_bool(hc, "Init", cfg->init);
	json_object_set_string(hc, "Runtime", "oci");
	json_object_set(j, "HostConfig", hc);
	strv_release(&args);
	if (spec)
		spec_runtime_free(spec);
	*ret = j;
	return 0;
}
