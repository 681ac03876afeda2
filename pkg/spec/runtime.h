/*
 * pkg/spec runtime: typed structs for the OCI runtime-spec v1.2 config.json as crun and
 * runc consume it on Linux, with parse, validation, generation and the default spec that
 * `crun spec [--rootless]` / podman start from.
 *
 * Parsing checks types and semantics; bad input is EINVAL with a message that names the
 * field path, e.g. "runtime spec: linux.namespaces[2].type: unknown namespace type \"foo\"".
 * Keys this module does not model are kept as opaque JSON and written back: unknown
 * top-level keys (->extra), and the same for process, user, mounts, linux, resources,
 * memory and cpu. hooks and linux.seccomp are kept whole as JSON DOMs.
 *
 * Generation validates (same rules as parse) and writes compact JSON with the keys in the
 * order of the spec's Go bindings (specs-go/config.go), extra keys after the known ones,
 * string maps (annotations, sysctl) with sorted keys. Optional scalars follow Go's
 * omitempty: false booleans, empty strings and empty lists are not written; fields whose
 * presence matters carry a has_* flag. uint64 values above INT64_MAX (RLIM_INFINITY) are
 * written as plain integers.
 *
 *     cleanup_spec_runtime struct spec_runtime *s = spec_runtime_default(rootless);
 *     strv_release(&s->process->args); strv_push(&s->process->args, "/bin/true");
 *     spec_runtime_set_namespace(s, SPEC_NS_NETWORK, "/run/netns/x");
 *     spec_runtime_generate(s, &sb, err);
 */
#ifndef SKIFF_SPEC_RUNTIME_H
#define SKIFF_SPEC_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/json/json.h"
#include "pkg/spec/image.h"
#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/strv.h"

/* What default specs say: 1.0.0, as crun spec writes (crun 1.8 refuses "1.2.0"). */
#define SPEC_RUNTIME_VERSION "1.0.0"
#define SPEC_RUNTIME_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Limits enforced on parse and generate. */
#define SPEC_RT_MAX_PATH 4096	    /* PATH_MAX: destinations, paths, cwd */
#define SPEC_RT_MAX_HOSTNAME 64	    /* HOST_NAME_MAX; also domainname */
#define SPEC_RT_MAX_ID_MAPPINGS 340 /* the kernel's limit per map */

enum spec_ns_type {
	SPEC_NS_PID,
	SPEC_NS_NETWORK,
	SPEC_NS_MOUNT,
	SPEC_NS_IPC,
	SPEC_NS_UTS,
	SPEC_NS_USER,
	SPEC_NS_CGROUP,
	SPEC_NS_TIME,
	SPEC_NS_COUNT_
};
/* "pid", "network", ... ; NULL for an out-of-range value. */
const char *spec_ns_type_name(enum spec_ns_type t);
/* The type for a spec name; -1 when unknown. */
int spec_ns_type_from_name(const char *name);
/* True for a RLIMIT_* name Linux has ("RLIMIT_NOFILE"). */
bool spec_rlimit_type_known(const char *name);

struct spec_rt_u32_list {
	uint32_t *v;
	size_t len, alloc;
};

struct spec_rt_user {
	uint32_t uid, gid; /* always written */
	bool has_umask;
	uint32_t umask;
	struct spec_rt_u32_list additional_gids;
	char *username;
	struct json *extra; /* unknown keys; NULL if none */
};

struct spec_rt_caps {
	struct strv bounding, effective, inheritable, permitted, ambient; /* "CAP_CHOWN" ... */
};

struct spec_rt_rlimit {
	char *type; /* "RLIMIT_NOFILE" */
	uint64_t hard, soft;
};

struct spec_rt_process {
	bool terminal;
	bool has_console_size;
	uint32_t console_height, console_width;
	struct spec_rt_user user;
	struct strv args; /* required, non-empty */
	struct strv env;
	char *cwd;			   /* required, absolute */
	struct spec_rt_caps *capabilities; /* NULL when absent */
	struct spec_rt_rlimit *rlimits;
	size_t n_rlimits, alloc_rlimits;
	bool no_new_privileges;
	char *apparmor_profile;
	bool has_oom_score_adj;
	int oom_score_adj; /* -1000 .. 1000 */
	char *selinux_label;
	struct json *extra; /* scheduler, ioPriority, execCPUAffinity, ...; NULL if none */
};

struct spec_rt_mount {
	char *destination; /* required, absolute */
	char *type;
	char *source;
	struct strv options;
	struct json *extra; /* uidMappings, gidMappings, ...; NULL if none */
};

struct spec_rt_idmap {
	uint32_t container_id, host_id, size; /* size > 0; id + size <= 2^32 */
};
struct spec_rt_idmaps {
	struct spec_rt_idmap *v;
	size_t len, alloc;
};

struct spec_rt_namespace {
	enum spec_ns_type type;
	char *path; /* NULL: create a new one */
};

struct spec_rt_device {	      /* linux.devices: nodes to create */
	char *path;	      /* required, absolute */
	char type;	      /* 'c', 'b', 'u' or 'p' */
	int64_t major, minor; /* required unless type 'p' */
	bool has_file_mode, has_uid, has_gid;
	uint32_t file_mode, uid, gid;
};

struct spec_rt_device_rule { /* linux.resources.devices: the cgroup allow/deny list */
	bool allow;
	char *type; /* "a", "c", "b" or NULL (all) */
	bool has_major, has_minor;
	int64_t major, minor; /* -1: all */
	char *access;	      /* subset of "rwm" or NULL */
};

struct spec_rt_memory {
	bool has_limit, has_reservation, has_swap;
	int64_t limit, reservation, swap; /* bytes; -1 unlimited */
	struct json *extra;		  /* swappiness, disableOOMKiller, ...; NULL if none */
};

struct spec_rt_cpu {
	bool has_shares, has_quota, has_period;
	uint64_t shares;
	int64_t quota;
	uint64_t period;
	char *cpus, *mems;
	struct json *extra; /* burst, realtime*, idle; NULL if none */
};

struct spec_rt_resources {
	struct spec_rt_device_rule *devices;
	size_t n_devices, alloc_devices;
	struct spec_rt_memory *memory; /* NULL when absent */
	struct spec_rt_cpu *cpu;       /* NULL when absent */
	bool has_pids;
	int64_t pids_limit; /* <= 0: unlimited */
	struct json *extra; /* blockIO, hugepageLimits, network, rdma, unified ...; NULL if none */
};

struct spec_rt_personality {
	char *domain; /* "LINUX" or "LINUX32" */
	struct strv flags;
};

struct spec_rt_linux {
	struct spec_rt_idmaps uid_mappings, gid_mappings;
	struct spec_map sysctl;
	struct spec_rt_resources *resources; /* NULL when absent */
	char *cgroups_path;
	struct spec_rt_namespace *namespaces;
	size_t n_namespaces, alloc_namespaces;
	struct spec_rt_device *devices;
	size_t n_devices, alloc_devices;
	struct json *seccomp;	  /* opaque; NULL when absent */
	char *rootfs_propagation; /* [r]shared, [r]slave, [r]private, [r]unbindable or NULL */
	struct strv masked_paths, readonly_paths;
	char *mount_label;
	struct spec_rt_personality *personality; /* NULL when absent */
	struct json *extra;			 /* intelRdt, timeOffsets, ...; NULL if none */
};

struct spec_runtime {
	char *oci_version;		 /* required */
	struct spec_rt_process *process; /* NULL when absent */
	char *root_path;		 /* root.path, required */
	bool root_readonly;
	char *hostname;
	char *domainname;
	struct spec_rt_mount *mounts;
	size_t n_mounts, alloc_mounts;
	struct json *hooks; /* opaque object; NULL when absent */
	struct spec_map annotations;
	struct spec_rt_linux *linux_spec; /* "linux"; NULL when absent */
	struct json *extra;		  /* unknown top-level keys (solaris, windows, vm ...); NULL if none */
};

/* Parse and validate a config.json. */
int spec_runtime_parse(const char *buf, size_t len, struct spec_runtime **ret, struct skiff_err **err);
/* The checks parse makes, on a built spec. */
int spec_runtime_validate(const struct spec_runtime *s, struct skiff_err **err);
/* Validate and append compact JSON to out (out is unchanged on failure). */
int spec_runtime_generate(const struct spec_runtime *s, struct strbuf *out, struct skiff_err **err);
/*
 * What `crun spec [--rootless]` gives, with podman's default capabilities (bounding,
 * effective, permitted), RLIMIT_NOFILE 1024, noNewPrivileges, root "rootfs" read-only,
 * the standard /proc /dev /dev/pts /dev/shm /dev/mqueue /sys /sys/fs/cgroup mounts,
 * namespaces pid network ipc uts mount cgroup (+ user mapping geteuid()/getegid() to 0
 * when rootless; rootless /sys is a read-only rbind of the host's), crun's masked and
 * read-only paths, and a deny-all device cgroup rule when not rootless.
 */
struct spec_runtime *spec_runtime_default(bool rootless);
void spec_runtime_free(struct spec_runtime *s);

/* Builders. */
struct spec_rt_process *spec_runtime_ensure_process(struct spec_runtime *s);
struct spec_rt_linux *spec_runtime_ensure_linux(struct spec_runtime *s);
/* Append a mount; options is a comma-separated list or NULL. Returns the new mount (valid
 * until the next append). Not validated until generate. */
struct spec_rt_mount *spec_runtime_add_mount(struct spec_runtime *s, const char *destination, const char *type,
					     const char *source, const char *options);
/* The namespace entry of type t; NULL when there is none. */
struct spec_rt_namespace *spec_runtime_find_namespace(const struct spec_runtime *s, enum spec_ns_type t);
/* Add or replace the entry of type t (path NULL: a new namespace). */
void spec_runtime_set_namespace(struct spec_runtime *s, enum spec_ns_type t, const char *path);
/* Remove the entry of type t; false when there was none. */
bool spec_runtime_remove_namespace(struct spec_runtime *s, enum spec_ns_type t);
/* Set KEY=VALUE in process.env, replacing an entry with the same KEY. */
void spec_runtime_setenv(struct spec_runtime *s, const char *key, const char *value);
/* Add or replace the rlimit of type (not validated until generate). */
void spec_runtime_set_rlimit(struct spec_runtime *s, const char *type, uint64_t hard, uint64_t soft);

static inline void spec_runtime_freep(struct spec_runtime **p)
{
	if (*p)
		spec_runtime_free(*p);
}
#define cleanup_spec_runtime __attribute__((cleanup(spec_runtime_freep)))

#endif
