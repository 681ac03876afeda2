/*
 * pkg/engine ctrconfig: what a user asked of a container (`skiff create/run` flags), kept
 * in the store as JSON, and the pieces that turn it into an OCI runtime spec.
 *
 *   cfg -> ctr_config_to_json -> store; store -> ctr_config_from_json -> cfg
 *   cfg + image config + ctr_spec_env -> ctr_oci_spec -> config.json for the runtime
 */
#ifndef SKIFF_ENGINE_CTRCONFIG_H
#define SKIFF_ENGINE_CTRCONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "pkg/json/json.h"
#include "pkg/net/net.h"
#include "pkg/spec/image.h"
#include "pkg/spec/runtime.h"
#include "vendor-free/err.h"
#include "vendor-free/strv.h"

/* -v/--volume, --mount, --tmpfs */
struct ctr_mount {
	char *type;   /* "bind", "tmpfs", "volume" */
	char *source; /* host path for bind; the volume's name (NULL: anonymous, named at create); NULL for tmpfs */
	char *destination;   /* absolute, cleaned */
	struct strv options; /* "ro", "rw", "rprivate", "nosuid", "size=64m", "mode=1777", ... */
};

struct ctr_ulimit {
	char *name; /* "RLIMIT_NOFILE" */
	uint64_t soft, hard;
};

enum ctr_restart { CTR_RESTART_NO, CTR_RESTART_ON_FAILURE, CTR_RESTART_ALWAYS, CTR_RESTART_UNLESS_STOPPED };

struct ctr_config {
	/* identity */
	char *id;	  /* 64 hex */
	char *name;	  /* unique; generated "adjective_noun" when not given */
	char *image;	  /* the reference as the user typed it */
	char *image_id;	  /* 64 hex */
	char *image_name; /* the resolved full name, e.g. "docker.io/library/busybox:latest" */
	int64_t created;  /* unix ns */

	/* process */
	bool has_entrypoint;	    /* --entrypoint given (may be "" to clear the image's) */
	struct strv entrypoint;	    /* --entrypoint: one word, or a JSON array string split */
	struct strv command;	    /* the arguments after IMAGE */
	struct strv env;	    /* -e and --env-file, resolved: KEY=VALUE; applied after the image's */
	char *workdir;		    /* -w */
	char *user;		    /* -u "uid[:gid]" or "name[:group]" */
	struct strv group_add;	    /* --group-add */
	char *hostname;		    /* --hostname; default: the first 12 hex of the id */
	bool tty, interactive;	    /* -t, -i */
	bool init;		    /* --init */
	struct ctr_ulimit *ulimits; /* --ulimit */
	size_t n_ulimits, alloc_ulimits;
	bool has_oom_score_adj;
	int oom_score_adj;

	/* lifecycle */
	bool rm;		  /* --rm */
	enum ctr_restart restart; /* --restart */
	unsigned restart_max;	  /* on-failure:N (0: no limit) */
	int stop_signal;	  /* --stop-signal; 0: the image's StopSignal, else SIGTERM */
	bool has_stop_timeout;
	unsigned stop_timeout; /* --stop-timeout / -t; default 10 */

	/* filesystem */
	struct ctr_mount *mounts;
	size_t n_mounts, alloc_mounts;
	struct strv volumes_from; /* --volumes-from CTR[:ro|rw]: resolved into mounts at create, not stored */
	bool read_only;		  /* --read-only */
	bool read_only_tmpfs;	  /* --read-only-tmpfs (default true): tmpfs on /tmp /var/tmp /run with --read-only */

	/* security */
	bool privileged;
	struct strv cap_add, cap_drop; /* "CAP_NET_ADMIN" or "ALL" */
	char *seccomp_profile;	       /* NULL default; "unconfined"; or a file path (read at create) */
	char *seccomp_json;	       /* the profile's contents when a file was given */
	bool no_new_privileges;	       /* --security-opt no-new-privileges */
	struct strv mask, unmask;      /* --security-opt mask=/a:/b, unmask=ALL|/a */

	/* resources (0 / has_*: not set) */
	int64_t memory, memory_reservation, memory_swap; /* bytes; swap -1: unlimited */
	uint64_t cpu_shares;
	double cpus;	     /* --cpus */
	uint64_t cpu_period; /* --cpu-period */
	int64_t cpu_quota;   /* --cpu-quota */
	char *cpuset_cpus, *cpuset_mems;
	bool has_pids_limit;
	int64_t pids_limit; /* --pids-limit; -1/0 unlimited */

	/* namespaces: "" (private), "host", "container:<id>", "ns:<path>"; network also "none" */
	char *network, *pid_mode, *ipc_mode, *uts_mode, *userns_mode, *cgroupns_mode;
	/* --userns=auto[:size=N]: the range picked at create (container 0.. -> these ids) */
	uint32_t userns_uid, userns_gid, userns_size;
	struct strv dns, dns_search, dns_option, add_host; /* --dns..., --add-host host:ip */

	/* metadata */
	struct spec_map labels;	     /* -l/--label, --label-file; image labels merged at create */
	struct spec_map annotations; /* --annotation */
	char *log_driver;	     /* "k8s-file" (default), "json-file", "journald", "none" */
	char *log_tag;		     /* --log-opt tag=: journald's CONTAINER_TAG (NULL: none) */
	int64_t log_size_max;	     /* --log-opt max-size; 0: none */
	unsigned log_max_file;	     /* --log-opt max-file: > 1 rotates at max-size; 0: not given (1) */
	char *runtime;		     /* --runtime: NULL for the default */
	struct strv sysctls;	     /* --sysctl k=v */

	/* healthcheck, resolved at create from the --health-* flags and the image's HEALTHCHECK:
	 * an empty test (or ["NONE"]) is none. Durations in ns; interval 0: only on request. */
	struct strv health_test; /* ["CMD-SHELL", "cmd"] or ["CMD", "prog", "arg"...] */
	int64_t health_interval, health_timeout, health_start_period;
	unsigned health_retries;
	char *health_on_failure; /* none (NULL), kill, restart, stop */

	/* published ports (-p, and -P's EXPOSEd ones), host ports picked at create */
	struct net_port *ports;
	size_t n_ports, alloc_ports;
	bool publish_all; /* -P */

	/* bridge networks (pkg/net/bridge.h), when network is "bridge": their names in order
	 * (eth0, eth1...), --network-alias, and --ip on the first */
	struct strv networks, net_aliases;
	char *net_ip;
	char *net_ip6;
};

/* --userns=auto[:size=N] (userns.c) */
bool ctr_userns_is_auto(const struct ctr_config *c);

#define CTR_HEALTH_UNSET UINT32_MAX
/* At create: the --health-* flags over the image's HEALTHCHECK (img may be NULL) over
 * docker's defaults (30 s interval and timeout, 3 retries, no start period). */
void ctr_resolve_health(struct ctr_config *c, const struct spec_healthcheck *img);
/* A Go duration: "1m30s", "500ms", "2h", "1.5s" (ns, us, ms, s, m, h); "0" alone. EINVAL
 * naming s otherwise. */
int ctr_parse_duration(const char *s, int64_t *ret_ns, struct skiff_err **err);
/* The healthcheck's argv from c->health_test (CMD-SHELL runs /bin/sh -c); false when there
 * is none. */
bool ctr_health_argv(const struct ctr_config *c, struct strv *ret);

struct ctr_config *ctr_config_new(void);
void ctr_config_free(struct ctr_config *c);
static inline void ctr_config_freep(struct ctr_config **p)
{
	if (*p)
		ctr_config_free(*p);
}
#define cleanup_ctr_config __attribute__((cleanup(ctr_config_freep)))

/* Serialise for the store (every field; stable key names) and back. Unknown keys are
 * ignored; a wrong type is EINVAL naming the key. */
struct json *ctr_config_to_json(const struct ctr_config *c);
int ctr_config_from_json(const struct json *j, struct ctr_config **ret, struct skiff_err **err);

/* ---- flag values (each names the bad value in its error, as podman) ---- */
/* "512m", "1g", "1024" (bytes), "1.5g"; -1 for "-1" when allow_neg (swap). */
int ctr_parse_bytes(const char *s, bool allow_neg, int64_t *ret, struct skiff_err **err);
/* --log-opt max-file=N: 1 to CTR_LOG_MAX_FILE_MAX (as skiff-monitor --log-max-file). */
#define CTR_LOG_MAX_FILE_MAX 10000
int ctr_parse_log_max_file(const char *s, unsigned *ret, struct skiff_err **err);
/* HostConfig.LogConfig.Config as docker shows it: {"max-file": "3", "max-size": "1k"} for the
 * options given, or null. */
struct json *ctr_log_config_json(const struct ctr_config *c);
/* --cpus "1.5" -> 1.5 (> 0, <= number of cpus is NOT checked) */
int ctr_parse_cpus(const char *s, double *ret, struct skiff_err **err);
/* --ulimit "nofile=1024:2048", "nproc=512", "core=-1" (unlimited) */
int ctr_parse_ulimit(const char *s, struct ctr_ulimit *ret, struct skiff_err **err);
/* -v "SRC:DST[:OPTS]", "DST" alone is an anonymous volume (type "volume", no source); SRC is
 * absolute, or "./x" / "../x" resolved against the current directory as podman, or a volume
 * name (type "volume"; podman's name rule). OPTS: ro,rw,z,Z,
 * [r]shared/[r]slave/[r]private, nosuid, nodev, noexec, suid, dev, exec, U, copy, nocopy. */
int ctr_parse_volume(const char *s, struct ctr_mount *ret, struct skiff_err **err);
/* --tmpfs "/run:rw,size=64m,mode=1777" */
int ctr_parse_tmpfs(const char *s, struct ctr_mount *ret, struct skiff_err **err);
/* --mount "type=bind,source=/a,destination=/b,ro" (type=bind|tmpfs|volume (volume-nocopy); src/source,
 * dst/destination/target, ro/readonly[=true|false], bind-propagation=, tmpfs-size=, tmpfs-mode=) */
int ctr_parse_mount(const char *s, struct ctr_mount *ret, struct skiff_err **err);
/* --restart "no", "on-failure[:N]", "always", "unless-stopped" */
int ctr_parse_restart(const char *s, enum ctr_restart *ret, unsigned *ret_max, struct skiff_err **err);
const char *ctr_restart_name(enum ctr_restart r);
/* --env-file: KEY=VALUE lines, "#" comments, blank lines; a bare KEY takes the value from
 * the environment (dropped when unset), as docker. Appends to env. */
int ctr_parse_env_file(const char *path, struct strv *env, struct skiff_err **err);
/* -e "KEY=VALUE" or "KEY" (from the environment; dropped when unset) or "KEY*" prefix
 * globs (podman); appends to env. An empty key is EINVAL. */
int ctr_parse_env(const char *s, struct strv *env, struct skiff_err **err);
/* -l "k=v" / "k" (empty value) into labels; --label-file lines likewise. */
int ctr_parse_label(const char *s, struct spec_map *labels, struct skiff_err **err);
int ctr_parse_label_file(const char *path, struct spec_map *labels, struct skiff_err **err);
/* --add-host "name:ip" or "name1;name2:ip" (ip may be IPv6; "host-gateway" is ENOTSUP for now) */
int ctr_parse_add_host(const char *s, struct skiff_err **err);
void ctr_mount_release(struct ctr_mount *m);
/* -p/--publish into c->ports (net_parse_port's rules). */
int ctr_parse_publish(const char *s, struct ctr_config *c, struct skiff_err **err);
/* -P: every port in exposed ("80/tcp", an image's EXPOSE) that no -p publishes, with a host
 * port to pick. */
int ctr_publish_exposed(struct ctr_config *c, const struct strv *exposed, struct skiff_err **err);
/* inspect's NetworkSettings.Ports: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}. */
struct json *ctr_ports_json(const struct ctr_config *c);

/* A random docker-style name "adjective_surname" (caller frees). */
char *ctr_random_name(void);

/* ---- the OCI spec ---- */
struct ctr_spec_env {
	const char *rootfs;	     /* the mounted rootfs (root.path) */
	int rootfs_fd;		     /* an O_PATH fd of it, for /etc/passwd and /etc/group */
	const char *userdata;	     /* the container's per-boot dir: hosts, resolv.conf, hostname live here */
	bool rootless;		     /* the engine runs in the rootless user namespace */
	const char *seccomp_default; /* path of the default profile (data/seccomp.json installed) */
	const char *init_path;	     /* --init: the init binary on the host to bind at /run/skiff-init */
	const char *host_resolv;     /* "/etc/resolv.conf" (tests may point elsewhere) */
	/* Modes "container:<id>": the other container's namespace files (/proc/PID/ns/net ...),
	 * resolved by the caller, indexed by enum spec_ns_type; NULL there is EINVAL. */
	const char *ns_paths[SPEC_NS_COUNT_];
	/* --ipc container:<id>: a host path of that container's /dev/shm to bind (NULL: a
	 * private tmpfs). */
	const char *ipc_shm_source;
	/* graphroot/volumes: mounts of type "volume" bind NAME/_data from here */
	const char *volumes_dir;
};

/*
 * Build the OCI runtime spec as podman does:
 * - process.args: entrypoint + command per docker's rules (--entrypoint replaces the image's
 *   Entrypoint and drops its Cmd unless a command is given; a command replaces Cmd);
 *   no command at all is EINVAL "no command specified";
 * - env: the image's Env, then PATH default when missing, then HOSTNAME, then cfg->env
 *   (overriding by key), TERM=xterm with -t; HOME from /etc/passwd (or "/") unless set;
 * - cwd: -w, else the image's WorkingDir, else "/";
 * - user: cfg->user, else the image's User, resolved against the rootfs' /etc/passwd and
 *   /etc/group (numeric ids need no entry; a name without an entry is ENOENT naming it);
 *   additional gids from /etc/group membership plus --group-add;
 * - capabilities: podman's default set (spec_runtime_default's) +cap_add -cap_drop ("ALL"),
 *   all of them with --privileged, always within the engine's bounding set; for a non-root
 *   user effective/permitted/inheritable/ambient are the cap_add ones only (as podman), for
 *   root inheritable and ambient are empty; unknown names are EINVAL;
 * - no_new_privileges; seccomp: the default profile converted for the final capabilities
 *   (spec_seccomp_profile_to_oci), none with unconfined or --privileged;
 * - mounts: the default set, /etc/hosts /etc/resolv.conf /etc/hostname bound from
 *   userdata (written by ctr_write_etc_files), cfg->mounts, --tmpfs, with --read-only the
 *   read-only-tmpfs set; masked/readonly paths (none with --privileged, mask/unmask);
 * - namespaces per the modes (rootless: no user namespace of its own: the engine already
 *   runs in one; the network namespace is private (only lo) unless "host");
 * - rlimits: RLIMIT_NOFILE and RLIMIT_NPROC 1048576 by default as podman 4, clamped to the
 *   engine's own limits when rootless or without CAP_SYS_RESOURCE (as podman), overridden
 *   by --ulimit;
 * - resources from the resource fields; --privileged: all devices allowed, host /dev nodes;
 * - hostname, annotations (cfg->annotations), oom_score_adj, sysctls;
 * - with --init: process.args prefixed by /run/skiff-init -- (bind-mounted from init_path).
 */
int ctr_oci_spec(const struct ctr_config *c, const struct spec_image_config *img, const struct ctr_spec_env *env,
		 struct spec_runtime **ret, struct skiff_err **err);

/* Write hosts, resolv.conf, hostname and an empty .containerenv into the userdata dir
 * (dirfd): hosts has
 * 127.0.0.1 localhost, ::1 localhost, the container's hostname and --add-host entries;
 * resolv.conf is the host's (host_resolv) with --dns/--dns-search/--dns-option applied,
 * and without 127.x nameservers unless the network is "host" (then 8.8.8.8 / 8.8.4.4 when
 * none remain, as podman). */
int ctr_write_etc_files(int userdata_dirfd, const struct ctr_config *c, const char *host_resolv,
			struct skiff_err **err);

#endif
