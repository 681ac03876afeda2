/* create and run: the runtime's side of making a container. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pkg/json/json.h"
#include "pkg/runtime/cgroup.h"
#include "pkg/runtime/internal.h"
#include "pkg/runtime/seccomp.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

static int ns_clone_flag(enum spec_ns_type t)
{
	static const int flags[SPEC_NS_COUNT_] = {
		[SPEC_NS_PID] = CLONE_NEWPID,	    [SPEC_NS_NETWORK] = CLONE_NEWNET,
		[SPEC_NS_MOUNT] = CLONE_NEWNS,	    [SPEC_NS_IPC] = CLONE_NEWIPC,
		[SPEC_NS_UTS] = CLONE_NEWUTS,	    [SPEC_NS_USER] = CLONE_NEWUSER,
		[SPEC_NS_CGROUP] = CLONE_NEWCGROUP, [SPEC_NS_TIME] = 0x80,
	};
	return (unsigned)t < SPEC_NS_COUNT_ ? flags[t] : 0;
}

char *rt_now_rfc3339(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%09ldZ", ts.tv_nsec);
	return xstrdup(buf);
}

static int load_spec(struct rt_ctx *c, struct skiff_err **err)
{
	const struct rt_create_opts *o = c->opts;
	char *b = realpath(o->bundle ? o->bundle : ".", NULL);
	if (!b)
		return err_make(err, errno, "bundle %s", o->bundle ? o->bundle : ".");
	c->bundle = b;
	cleanup_free char *cfgpath = NULL;
	if (o->config)
		cfgpath = xstrdup(o->config);
	else if (asprintf(&cfgpath, "%s/config.json", c->bundle) < 0)
		abort();
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (read_file_at(AT_FDCWD, cfgpath, 64 << 20, &buf, &len, err) < 0)
		return -1;
	if (spec_runtime_parse(buf, len, &c->spec, err) < 0)
		return err_wrap(err, "%s", cfgpath);
	if (!c->spec->process)
		return err_makex(err, EINVAL, "%s: no process to run", cfgpath);
	cleanup_free char *root = NULL;
	if (c->spec->root_path[0] == '/')
		root = xstrdup(c->spec->root_path);
	else if (asprintf(&root, "%s/%s", c->bundle, c->spec->root_path) < 0)
		abort();
	c->rootfs = realpath(root, NULL);
	if (!c->rootfs)
		return err_make(err, errno, "rootfs %s", root);
	if (c->spec->process->terminal && !o->console_socket)
		return err_makex(err, EINVAL, "process.terminal needs --console-socket");
	return 0;
}

struct created {
	pid_t pid;
	struct rt_cgroup *cg;
};

static void abort_child(struct created *cr)
{
	if (cr->pid > 0) {
		kill(cr->pid, SIGKILL);
		spawn_wait(cr->pid, NULL);
	}
	if (cr->cg) {
		struct skiff_err *e = NULL;
		rt_cgroup_destroy(cr->cg, &e);
		err_free(e);
	}
}

/* Talk to the child until it is READY; forward its pty to the console socket. */
static int await_ready(struct rt_ctx *c, struct strv *warnings, struct skiff_err **err)
{
	for (;;) {
		struct rt_sync_msg m;
		int fd = -1;
		if (rt_sync_recv(c->sync_sock[0], &m, &fd) < 0) {
			if (errno == EPIPE)
				return err_makex(err, EIO, "the container process exited during set-up");
			return err_make(err, errno, "read from the container process");
		}
		switch (m.type) {
		case RT_SYNC_READY:
			return 0;
		case RT_SYNC_ERROR:
			return err_makex(err, m.status ? m.status : EIO, "%s", m.text);
		case RT_SYNC_WARNING:
			strv_push(warnings, m.text);
			break;
		case RT_SYNC_PTY: {
			int rc = fd >= 0 ? rt_send_console(c->opts->console_socket, fd, err)
					 : err_makex(err, EPROTO, "terminal: no fd received");
			if (fd >= 0)
				close(fd);
			if (rc < 0)
				return -1;
			break;
		}
		default:
			if (fd >= 0)
				close(fd);
			return err_makex(err, EPROTO, "unexpected message %d from the container process", m.type);
		}
	}
}

static void add_rule(struct spec_rt_resources *r, const char *type, int64_t major, int64_t minor, const char *access)
{
	ALLOC_GROW(r->devices, r->n_devices + 1, r->alloc_devices);
	struct spec_rt_device_rule *d = &r->devices[r->n_devices++];
	memset(d, 0, sizeof(*d));
	d->allow = true;
	d->type = xstrdup(type);
	d->has_major = d->has_minor = true;
	d->major = major;
	d->minor = minor;
	d->access = xstrdup(access);
}

/* As runc and crun: whatever the spec's device rules deny, the devices every container
 * has (and the nodes it lists) stay usable. */
static void add_default_device_rules(struct spec_runtime *s)
{
	struct spec_rt_linux *l = s->linux_spec;
	if (!l || !l->resources || !l->resources->n_devices)
		return;
	struct spec_rt_resources *r = l->resources;
	static const struct {
		const char *type;
		int64_t major, minor;
		const char *access;
	} defaults[] = {
		{"c", -1, -1, "m"}, {"b", -1, -1, "m"}, {"c", 1, 3, "rwm"},    {"c", 1, 5, "rwm"},
		{"c", 1, 7, "rwm"}, {"c", 1, 8, "rwm"}, {"c", 1, 9, "rwm"},    {"c", 5, 0, "rwm"},
		{"c", 5, 1, "rwm"}, {"c", 5, 2, "rwm"}, {"c", 136, -1, "rwm"}, {"c", 10, 200, "rwm"},
	};
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		add_rule(r, defaults[i].type, defaults[i].major, defaults[i].minor, defaults[i].access);
	for (size_t i = 0; i < l->n_devices; i++) {
		char t[2] = {l->devices[i].type == 'u' ? 'c' : l->devices[i].type, 0};
		if (t[0] != 'p')
			add_rule(r, t, l->devices[i].major, l->devices[i].minor, "rwm");
	}
}

static int join_pid_ns(const struct spec_runtime *s, struct skiff_err **err)
{
	const struct spec_rt_namespace *ns = spec_runtime_find_namespace(s, SPEC_NS_PID);
	if (!ns || !ns->path)
		return 0;
	cleanup_close int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_make(err, errno, "open pid namespace %s", ns->path);
	if (setns(fd, CLONE_NEWPID) < 0)
		return err_make(err, errno, "join pid namespace %s", ns->path);
	return 0;
}

/* The namespace a sysctl belongs to, for those the runtime may write for the container. */
static enum spec_ns_type sysctl_ns(const char *key)
{
	static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
					  "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
	if (!strncmp(key, "net.", 4))
		return SPEC_NS_NETWORK;
	if (!strncmp(key, "fs.mqueue.", 10))
		return SPEC_NS_IPC;
	for (size_t i = 0; i < sizeof(ipc) / sizeof(ipc[0]); i++)
		if (!strcmp(key, ipc[i]))
			return SPEC_NS_IPC;
	return SPEC_NS_COUNT_;
}

/* id of the container's user namespace as seen from ours, through its maps; false if unmapped. */
static bool map_id(const struct spec_rt_idmaps *m, unsigned long id, unsigned long *ret)
{
	for (size_t i = 0; i < m->len; i++)
		if (id >= m->v[i].container_id && id - m->v[i].container_id < m->v[i].size) {
			*ret = m->v[i].host_id + (id - m->v[i].container_id);
			return true;
		}
	return false;
}

/*
 * Write a sysctl of a namespace joined before the user namespace: the container's root
 * could not (the files belong to the root of the namespace's owner). Group ids in
 * net.ipv4.ping_group_range are read in the writer's user namespace: translate them
 * through the gid map when both ends map.
 */
static int write_joined_sysctl(const struct spec_rt_linux *l, const char *key, const char *value,
			       struct skiff_err **err)
{
	char mapped[64];
	unsigned long lo, hi, mlo, mhi;
	int end = 0;
	if (!strcmp(key, "net.ipv4.ping_group_range") && sscanf(value, "%lu %lu%n", &lo, &hi, &end) == 2 &&
	    !value[end] && map_id(&l->gid_mappings, lo, &mlo) && map_id(&l->gid_mappings, hi, &mhi)) {
		snprintf(mapped, sizeof(mapped), "%lu %lu", mlo, mhi);
		value = mapped;
	}
	return rt_write_sysctl(key, value, err);
}

/*
 * With a new user namespace, the runtime joins the network and ipc namespaces named by
 * path before clone (as crun does): setns needs CAP_SYS_ADMIN in the user namespace that
 * owns the target, and the child has capabilities only in its own new one. The child
 * inherits them (creating a user namespace does not change them) and skips joining what
 * it is already in (child.c). For the same reason the runtime writes their sysctls and
 * takes them out of the spec the child sees. The runtime stays in them: it only writes
 * the id maps and the state, and exits.
 */
static int join_before_userns(struct spec_runtime *s, struct skiff_err **err)
{
	struct spec_rt_linux *l = s->linux_spec;
	bool joined[SPEC_NS_COUNT_ + 1] = {false};
	for (size_t i = 0; l && i < l->n_namespaces; i++) {
		const struct spec_rt_namespace *ns = &l->namespaces[i];
		if (!ns->path || (ns->type != SPEC_NS_NETWORK && ns->type != SPEC_NS_IPC))
			continue;
		cleanup_close int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return err_make(err, errno, "open %s namespace %s", spec_ns_type_name(ns->type), ns->path);
		if (setns(fd, ns_clone_flag(ns->type)) < 0)
			return err_make(err, errno, "join %s namespace %s", spec_ns_type_name(ns->type), ns->path);
		joined[ns->type] = true;
	}
	for (size_t i = 0; l && i < l->sysctl.len;) {
		const struct spec_kv *kv = &l->sysctl.items[i];
		if (!joined[sysctl_ns(kv->key)]) {
			i++;
			continue;
		}
		if (write_joined_sysctl(l, kv->key, kv->value, err) < 0)
			return -1;
		spec_map_remove(&l->sysctl, kv->key);
	}
	return 0;
}

static uint64_t fnv1a(const char *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * Compiling a ~300-rule profile with libseccomp takes longer than the rest of create, and
 * every container of an engine uses the same few profiles: keep the BPF in
 * ROOT/.seccomp/<hash>. The file holds the whole key (libseccomp's version, the arch and
 * the profile) ahead of the filter, and a filter is used only when its key matches, so a
 * hash collision costs a compile, never a wrong filter.
 */
static int seccomp_cached(const struct rt_global *g, const struct json *sc, struct rt_seccomp **ret,
			  struct skiff_err **err)
{
	struct strbuf key = STRBUF_INIT;
	struct utsname un;
	uname(&un);
	strbuf_addf(&key, "%s\n%s\n", rt_seccomp_library_version(), un.machine);
	json_dump(sc, 0, &key);
	char name[40];
	snprintf(name, sizeof(name), "%016llx%016llx",
		 (unsigned long long)fnv1a(key.buf, key.len, 0xcbf29ce484222325ULL),
		 (unsigned long long)fnv1a(key.buf, key.len, 0x84222325cbf29ce4ULL));
	cleanup_free char *def = g->root ? NULL : rt_default_root();
	cleanup_free char *dir = xasprintf("%s/.seccomp", g->root ? g->root : def);
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		cleanup_free char *buf = NULL;
		size_t len = 0;
		struct skiff_err *e = NULL;
		if (read_file_at(dfd, name, 4 << 20, &buf, &len, &e) == 0 && len > key.len + 1 &&
		    !memcmp(buf, key.buf, key.len) && buf[key.len] == 0 &&
		    rt_seccomp_deserialize(buf + key.len + 1, len - key.len - 1, ret, &e) == 0) {
			strbuf_release(&key);
			return 0;
		}
		err_free(e);
	}
	if (rt_seccomp_compile(sc, ret, err) < 0) {
		strbuf_release(&key);
		return -1;
	}
	/* best effort: a cache that cannot be written only costs time */
	struct skiff_err *e = NULL;
	if (dfd < 0 && mkdir_p_at(AT_FDCWD, dir, 0700, &e) == 0)
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		strbuf_addch(&key, 0);
		rt_seccomp_serialize(*ret, &key);
		write_file_replace(dfd, name, key.buf, key.len, 0600, &e);
	}
	err_free(e);
	strbuf_release(&key);
	return 0;
}

static int do_create(struct rt_ctx *c, const struct rt_global *g, struct created *cr, struct strv *warnings,
		     struct skiff_err **err)
{
	struct spec_runtime *s = c->spec;
	const struct spec_rt_linux *l = s->linux_spec;

	for (size_t i = 0; l && i < l->n_namespaces; i++) {
		const struct spec_rt_namespace *ns = &l->namespaces[i];
		if (ns->path)
			continue;
		c->clone_flags |= (unsigned long)ns_clone_flag(ns->type);
	}
	c->new_userns = c->clone_flags & CLONE_NEWUSER;
	if (spec_runtime_find_namespace(s, SPEC_NS_USER) && spec_runtime_find_namespace(s, SPEC_NS_USER)->path &&
	    (c->clone_flags & CLONE_NEWPID))
		return err_makex(err, ENOTSUP,
				 "joining a user namespace together with a new pid namespace is not supported");
	if (join_pid_ns(s, err) < 0)
		return -1;
	if (c->new_userns && join_before_userns(s, err) < 0)
		return -1;
	if (l && l->seccomp && seccomp_cached(g, l->seccomp, &c->seccomp, err) < 0)
		return err_wrap(err, "seccomp");

	add_default_device_rules(s);
	struct rt_cgroup_config cc = {
		.id = c->opts->id,
		.cgroups_path = l ? l->cgroups_path : NULL,
		.resources = l ? l->resources : NULL,
		.manager = g->cgroup_manager,
		.rootless = c->rootless,
	};
	/* Without cgroups, say so only when the spec asks for limits (podman warns the same way:
	 * rootless without delegation is the normal case). */
	struct strv cgw = STRV_INIT;
	const struct spec_rt_resources *res = cc.resources;
	bool limits = res && (res->memory || res->cpu || res->has_pids);
	int cgrc = rt_cgroup_open(&cc, &cr->cg, &cgw, err);
	for (size_t i = 0; limits && i < cgw.len; i++)
		strv_push(warnings, cgw.v[i]);
	strv_release(&cgw);
	if (cgrc < 0)
		return -1;

	if (mkfifoat(c->state_dirfd, "exec.fifo", 0600) < 0)
		return err_make(err, errno, "create exec.fifo");
	c->fifo_fd = openat(c->state_dirfd, "exec.fifo", O_RDWR | O_CLOEXEC);
	if (c->fifo_fd < 0)
		return err_make(err, errno, "open exec.fifo");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sync_sock) < 0)
		return err_make(err, errno, "socketpair");

	pid_t pid = (pid_t)syscall(SYS_clone, c->clone_flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0)
		return err_make(err, errno, "clone the container process");
	if (pid == 0) {
		close(c->sync_sock[0]);
		rt_child_main(c);
	}
	cr->pid = pid;
	close(c->sync_sock[1]);
	c->sync_sock[1] = -1;

	if (c->new_userns && rt_write_id_maps(pid, l, c->rootless, err) < 0)
		return -1;
	if (rt_cgroup_enter(cr->cg, pid, warnings, err) < 0)
		return -1;
	if (rt_sync_send(c->sync_sock[0], RT_SYNC_GO, 0, NULL, -1) < 0)
		return err_make(err, errno, "release the container process");
	if (await_ready(c, warnings, err) < 0)
		return -1;

	struct rt_state st = {
		.id = (char *)c->opts->id,
		.bundle = c->bundle,
		.rootfs = c->rootfs,
		.pid = pid,
		.owner = (char *)"",
		.rootless = c->rootless,
	};
	if (proc_starttime(pid, &st.starttime) < 0)
		return err_make(err, errno, "start time of pid %d", (int)pid);
	cleanup_free char *created = rt_now_rfc3339();
	cleanup_free char *cgs = rt_cgroup_serialize(cr->cg);
	st.created = created;
	st.cgroup = cgs;
	struct json *ann = NULL;
	if (s->annotations.len) {
		ann = json_new_object();
		for (size_t i = 0; i < s->annotations.len; i++)
			json_object_set_string(ann, s->annotations.items[i].key, s->annotations.items[i].value);
	}
	st.annotations = ann;
	int rc = rt_state_write(c->state_dirfd, &st, err);
	if (ann)
		json_free(ann);
	if (rc < 0)
		return -1;
	if (c->opts->pid_file) {
		char num[32];
		int n = snprintf(num, sizeof(num), "%d", (int)pid);
		if (write_file_replace(AT_FDCWD, c->opts->pid_file, num, (size_t)n, 0644, err) < 0)
			return err_wrap(err, "pid file");
	}
	return 0;
}

static void ctx_release(struct rt_ctx *c)
{
	if (c->spec)
		spec_runtime_free(c->spec);
	free(c->bundle);
	free(c->rootfs);
	if (c->state_dirfd >= 0)
		close(c->state_dirfd);
	if (c->fifo_fd >= 0)
		close(c->fifo_fd);
	for (int i = 0; i < 2; i++)
		if (c->sync_sock[i] >= 0)
			close(c->sync_sock[i]);
	if (c->seccomp)
		rt_seccomp_free(c->seccomp);
}

/* create, keeping the child pid for run */
static int create(const struct rt_global *g, const struct rt_create_opts *o, struct strv *warnings, struct created *cr,
		  struct skiff_err **err)
{
	struct rt_ctx c = {.opts = o, .state_dirfd = -1, .fifo_fd = -1, .sync_sock = {-1, -1}};
	c.rootless = rt_running_rootless();
	int rc = -1;
	if (rt_check_id(o->id, err) < 0 || load_spec(&c, err) < 0)
		goto out;
	if (rt_state_dir_create(g, o->id, &c.state_dirfd, err) < 0)
		goto out;
	rc = do_create(&c, g, cr, warnings, err);
	if (rc < 0) {
		abort_child(cr);
		struct skiff_err *e2 = NULL;
		rt_state_remove(g, o->id, &e2);
		err_free(e2);
	}
out:
	ctx_release(&c);
	if (rc < 0 && cr->cg) {
		rt_cgroup_free(cr->cg);
		cr->cg = NULL;
	}
	return rc;
}

int rt_create(const struct rt_global *g, const struct rt_create_opts *o, struct strv *warnings, struct skiff_err **err)
{
	struct created cr = {0};
	int rc = create(g, o, warnings, &cr, err);
	if (cr.cg)
		rt_cgroup_free(cr.cg);
	return rc < 0 ? err_wrap(err, "create %s", o->id ? o->id : "") : 0;
}

int rt_run(const struct rt_global *g, const struct rt_create_opts *o, struct strv *warnings, int *ret_status,
	   struct skiff_err **err)
{
	/* Signals for the container wait until we can forward them. */
	sigset_t fwd, old;
	sigemptyset(&fwd);
	int sigs[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&fwd, sigs[i]);
	sigprocmask(SIG_BLOCK, &fwd, &old);

	struct created cr = {0};
	int rc = create(g, o, warnings, &cr, err);
	if (rc == 0)
		rc = rt_start(g, o->id, err);
	if (rc < 0 || o->detach) {
		if (rc < 0 && cr.pid > 0) {
			struct skiff_err *e2 = NULL;
			rt_delete(g, o->id, true, &e2);
			err_free(e2);
		}
		if (cr.cg)
			rt_cgroup_free(cr.cg);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (rc == 0)
			*ret_status = 0;
		return rc < 0 ? err_wrap(err, "run %s", o->id) : 0;
	}
	int status = 0;
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&fwd, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(cr.pid, sig);
			continue;
		}
		int ws;
		pid_t w;
		bool done = false;
		while ((w = waitpid(-1, &ws, WNOHANG)) > 0) {
			if (w == cr.pid) {
				status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
				done = true;
			}
		}
		if (done)
			break;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (cr.cg)
		rt_cgroup_free(cr.cg);
	if (rt_delete(g, o->id, true, err) < 0)
		return err_wrap(err, "run %s", o->id);
	*ret_status = status;
	return 0;
}
