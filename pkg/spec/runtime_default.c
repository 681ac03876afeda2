/* OCI runtime spec: the default spec (`crun spec [--rootless]` with podman's defaults)
 * and small builders. */
#include "pkg/spec/runtime.h"

#include <string.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

/* podman's default capability set (containers.conf default_capabilities). */
static const char *const default_caps[] = {
	"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FOWNER",  "CAP_FSETID", "CAP_KILL",	  "CAP_NET_BIND_SERVICE",
	"CAP_SETFCAP", "CAP_SETGID",	   "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
};

static const char *const default_masked[] = {
	"/proc/acpi",	    "/proc/asound",	 "/proc/kcore",	      "/proc/keys",    "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
};

static const char *const default_readonly[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

struct spec_rt_process *spec_runtime_ensure_process(struct spec_runtime *s)
{
	if (!s->process)
		s->process = xzalloc(sizeof(*s->process));
	return s->process;
}

struct spec_rt_linux *spec_runtime_ensure_linux(struct spec_runtime *s)
{
	if (!s->linux_spec)
		s->linux_spec = xzalloc(sizeof(*s->linux_spec));
	return s->linux_spec;
}

struct spec_rt_mount *spec_runtime_add_mount(struct spec_runtime *s, const char *destination, const char *type,
					     const char *source, const char *options)
{
	struct spec_rt_mount *m;

	ALLOC_GROW(s->mounts, s->n_mounts + 1, s->alloc_mounts);
	m = &s->mounts[s->n_mounts++];
	memset(m, 0, sizeof(*m));
	m->destination = xstrdup(destination);
	m->type = type ? xstrdup(type) : NULL;
	m->source = source ? xstrdup(source) : NULL;
	if (options && *options)
		strv_split(&m->options, options, ',');
	return m;
}

struct spec_rt_namespace *spec_runtime_find_namespace(const struct spec_runtime *s, enum spec_ns_type t)
{
	const struct spec_rt_linux *l = s->linux_spec;
	for (size_t i = 0; l && i < l->n_namespaces; i++)
		if (l->namespaces[i].type == t)
			return &l->namespaces[i];
	return NULL;
}

void spec_runtime_set_namespace(struct spec_runtime *s, enum spec_ns_type t, const char *path)
{
	struct spec_rt_namespace *ns = spec_runtime_find_namespace(s, t);
	struct spec_rt_linux *l;

	if (!ns) {
		l = spec_runtime_ensure_linux(s);
		ALLOC_GROW(l->namespaces, l->n_namespaces + 1, l->alloc_namespaces);
		ns = &l->namespaces[l->n_namespaces++];
		memset(ns, 0, sizeof(*ns));
		ns->type = t;
	}
	free(ns->path);
	ns->path = path && *path ? xstrdup(path) : NULL;
}

bool spec_runtime_remove_namespace(struct spec_runtime *s, enum spec_ns_type t)
{
	struct spec_rt_linux *l = s->linux_spec;
	for (size_t i = 0; l && i < l->n_namespaces; i++) {
		if (l->namespaces[i].type != t)
			continue;
		free(l->namespaces[i].path);
		memmove(&l->namespaces[i], &l->namespaces[i + 1], (l->n_namespaces - i - 1) * sizeof(l->namespaces[0]));
		l->n_namespaces--;
		return true;
	}
	return false;
}

void spec_runtime_setenv(struct spec_runtime *s, const char *key, const char *value)
{
	struct spec_rt_process *p = spec_runtime_ensure_process(s);
	size_t klen = strlen(key);

	for (size_t i = 0; i < p->env.len; i++) {
		if (strncmp(p->env.v[i], key, klen) == 0 && p->env.v[i][klen] == '=') {
			free(p->env.v[i]);
			p->env.v[i] = xasprintf("%s=%s", key, value);
			return;
		}
	}
	strv_pushf(&p->env, "%s=%s", key, value);
}

void spec_runtime_set_rlimit(struct spec_runtime *s, const char *type, uint64_t hard, uint64_t soft)
{
	struct spec_rt_process *p = spec_runtime_ensure_process(s);
	struct spec_rt_rlimit *r = NULL;

	for (size_t i = 0; i < p->n_rlimits; i++)
		if (p->rlimits[i].type && strcmp(p->rlimits[i].type, type) == 0)
			r = &p->rlimits[i];
	if (!r) {
		ALLOC_GROW(p->rlimits, p->n_rlimits + 1, p->alloc_rlimits);
		r = &p->rlimits[p->n_rlimits++];
		r->type = xstrdup(type);
	}
	r->hard = hard;
	r->soft = soft;
}

static void push_all(struct strv *sv, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		strv_push(sv, v[i]);
}

static void add_idmap(struct spec_rt_idmaps *m, uint32_t container_id, uint32_t host_id, uint32_t size)
{
	ALLOC_GROW(m->v, m->len + 1, m->alloc);
	m->v[m->len++] = (struct spec_rt_idmap){.container_id = container_id, .host_id = host_id, .size = size};
}

struct spec_runtime *spec_runtime_default(bool rootless)
{
	struct spec_runtime *s = xzalloc(sizeof(*s));
	struct spec_rt_process *p;
	struct spec_rt_linux *l;
	struct spec_rt_caps *c;
	static const enum spec_ns_type ns[] = {SPEC_NS_PID, SPEC_NS_NETWORK, SPEC_NS_IPC,
					       SPEC_NS_UTS, SPEC_NS_MOUNT,   SPEC_NS_CGROUP};

	s->oci_version = xstrdup(SPEC_RUNTIME_VERSION);

	p = spec_runtime_ensure_process(s);
	p->terminal = true; /* as `crun spec`; the engine sets it per container */
	strv_push(&p->args, "sh");
	strv_push(&p->env, SPEC_RUNTIME_DEFAULT_PATH);
	strv_push(&p->env, "TERM=xterm");
	p->cwd = xstrdup("/");
	c = p->capabilities = xzalloc(sizeof(*p->capabilities));
	push_all(&c->bounding, default_caps, ARRAY_SIZE(default_caps));
	push_all(&c->effective, default_caps, ARRAY_SIZE(default_caps));
	push_all(&c->permitted, default_caps, ARRAY_SIZE(default_caps));
	spec_runtime_set_rlimit(s, "RLIMIT_NOFILE", 1024, 1024);
	p->no_new_privileges = true;

	s->root_path = xstrdup("rootfs");
	s->root_readonly = true;
	s->hostname = xstrdup("skiff");

	spec_runtime_add_mount(s, "/proc", "proc", "proc", NULL);
	spec_runtime_add_mount(s, "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k");
	spec_runtime_add_mount(s, "/dev/pts", "devpts", "devpts",
			       rootless ? "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620"
					: "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5");
	spec_runtime_add_mount(s, "/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k");
	spec_runtime_add_mount(s, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
	if (rootless)
		spec_runtime_add_mount(s, "/sys", "none", "/sys", "rbind,nosuid,noexec,nodev,ro");
	else
		spec_runtime_add_mount(s, "/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro");
	spec_runtime_add_mount(s, "/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev,relatime,ro");

	l = spec_runtime_ensure_linux(s);
	if (rootless) {
		add_idmap(&l->uid_mappings, 0, (uint32_t)geteuid(), 1);
		add_idmap(&l->gid_mappings, 0, (uint32_t)getegid(), 1);
	} else {
		l->resources = xzalloc(sizeof(*l->resources));
		l->resources->devices = xzalloc(sizeof(*l->resources->devices));
		l->resources->n_devices = l->resources->alloc_devices = 1;
		l->resources->devices[0].allow = false;
		l->resources->devices[0].access = xstrdup("rwm");
	}
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
		spec_runtime_set_namespace(s, ns[i], NULL);
	if (rootless)
		spec_runtime_set_namespace(s, SPEC_NS_USER, NULL);
	push_all(&l->masked_paths, default_masked, ARRAY_SIZE(default_masked));
	push_all(&l->readonly_paths, default_readonly, ARRAY_SIZE(default_readonly));
	return s;
}
