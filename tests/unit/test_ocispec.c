/* Unit tests for pkg/engine ocispec (ctr_oci_spec) and etcfiles (ctr_write_etc_files, the
 * /etc/passwd and /etc/group lookups in a rootfs). Run from the repo root: the default
 * seccomp profile is data/seccomp.json. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/engine/ctrconfig-internal.h"
#include "pkg/engine/ctrconfig.h"
#include "pkg/spec/runtime.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char *tmp, *rootfs, *userdata, *resolv, *initbin, *srcdir;
static int rootfd = -1;

static const char passwd[] = "# users\n"
			     "root:x:0:0:root:/root:/bin/sh\n"
			     "app:x:1000:1000:App:/home/app:/bin/sh\n"
			     "bad:x:notanumber:0::/bad:/bin/sh\n"
			     "short:x\n"
			     "+nis:x:0:0::/:/bin/sh\n"
			     "nobody:x:65534:65534::/nonexistent:/bin/false\n";
static const char group[] = "root:x:0:\n"
			    "wheel:x:10:app,other\n"
			    "staff:x:20:someone,app\n"
			    "app:x:1000:\n"
			    "rootgrp:x:30:root\n"
			    "badgrp:x:zz:app\n";

static void ok(int rc, struct skiff_err **e)
{
	if (rc != 0) {
		print_error("unexpected error: %s\n", *e ? (*e)->msg : "(none)");
		err_clear(e);
		fail();
	}
}

static void check_err(int rc, struct skiff_err **e, int st, const char *want)
{
	if (rc != -1 || !*e || (*e)->status != st || !strstr((*e)->msg, want) || strchr((*e)->msg, '\n')) {
		print_error("rc %d, status %d (want %d), message \"%s\", wanted \"%s\"\n", rc, *e ? (*e)->status : 0,
			    st, *e ? (*e)->msg : "(none)", want);
		fail();
	}
	err_clear(e);
}

static void write_at(const char *dir, const char *name, const char *data, size_t len)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, name);
	struct skiff_err *e = NULL;
	ok(write_file_atomic(AT_FDCWD, p, data, len, 0644, &e), &e);
}

static int setup(void **state)
{
	(void)state;
	char t[] = "/tmp/test_ocispec.XXXXXX";
	struct skiff_err *e = NULL;

	if (!mkdtemp(t))
		return -1;
	tmp = xstrdup(t);
	rootfs = xasprintf("%s/rootfs", tmp);
	userdata = xasprintf("%s/userdata", tmp);
	srcdir = xasprintf("%s/src", tmp);
	resolv = xasprintf("%s/resolv.conf", tmp);
	initbin = xasprintf("%s/init", tmp);
	if (mkdir_p_at(AT_FDCWD, rootfs, 0755, &e) < 0 || mkdir_p_at(AT_FDCWD, userdata, 0755, &e) < 0 ||
	    mkdir_p_at(AT_FDCWD, srcdir, 0755, &e) < 0) {
		err_free(e);
		return -1;
	}
	cleanup_free char *etc = xasprintf("%s/etc", rootfs);
	if (mkdir(etc, 0755) < 0)
		return -1;
	write_at(etc, "passwd", passwd, strlen(passwd));
	write_at(etc, "group", group, strlen(group));
	write_at(tmp, "resolv.conf", "nameserver 1.1.1.1\n", 19);
	write_at(tmp, "init", "", 0);
	rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return rootfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	close(rootfd);
	rm_rf_at(AT_FDCWD, tmp, NULL);
	free(tmp);
	free(rootfs);
	free(userdata);
	free(srcdir);
	free(resolv);
	free(initbin);
	return 0;
}

static struct ctr_spec_env env_for(bool rootless)
{
	struct ctr_spec_env env = {
		.rootfs = rootfs,
		.rootfs_fd = rootfd,
		.userdata = userdata,
		.rootless = rootless,
		.seccomp_default = "data/seccomp.json",
		.init_path = initbin,
		.host_resolv = resolv,
	};
	return env;
}

static struct ctr_config *cfg_new(void)
{
	struct ctr_config *c = ctr_config_new();
	c->id = xstrdup(ID);
	c->name = xstrdup("test_ctr");
	return c;
}

static struct spec_image_config *img_new(const char *ep, const char *cmd)
{
	struct spec_image_config *i = spec_image_config_new();
	if (ep)
		strv_split(&i->config.entrypoint, ep, ' ');
	if (cmd)
		strv_split(&i->config.cmd, cmd, ' ');
	return i;
}

/* ctr_oci_spec must succeed and its spec must generate. */
static struct spec_runtime *spec_ok(const struct ctr_config *c, const struct spec_image_config *img,
				    const struct ctr_spec_env *env)
{
	struct spec_runtime *s = NULL;
	struct skiff_err *e = NULL;
	struct strbuf sb = STRBUF_INIT;

	ok(ctr_oci_spec(c, img, env, &s, &e), &e);
	ok(spec_runtime_generate(s, &sb, &e), &e);
	strbuf_release(&sb);
	return s;
}

static void spec_fails(const struct ctr_config *c, const struct spec_image_config *img, const struct ctr_spec_env *env,
		       int st, const char *want)
{
	struct spec_runtime *s = NULL;
	struct skiff_err *e = NULL;
	int rc = ctr_oci_spec(c, img, env, &s, &e);
	assert_null(s);
	check_err(rc, &e, st, want);
}

static char *joined(const struct strv *sv)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < sv->len; i++)
		strbuf_addf(&sb, "%s%s", i ? "," : "", sv->v[i]);
	return strbuf_detach(&sb, NULL);
}

static void strv_eq(const struct strv *sv, const char *want)
{
	cleanup_free char *j = joined(sv);
	assert_string_equal(j, want);
}

static const char *env_get(const struct spec_runtime *s, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < s->process->env.len; i++)
		if (!strncmp(s->process->env.v[i], key, n) && s->process->env.v[i][n] == '=')
			return s->process->env.v[i] + n + 1;
	return NULL;
}

static const struct spec_rt_mount *mnt(const struct spec_runtime *s, const char *dest)
{
	for (size_t i = 0; i < s->n_mounts; i++)
		if (!strcmp(s->mounts[i].destination, dest))
			return &s->mounts[i];
	return NULL;
}

static void mount_is(const struct spec_runtime *s, const char *dest, const char *type, const char *src,
		     const char *opts)
{
	const struct spec_rt_mount *m = mnt(s, dest);
	if (!m) {
		print_error("no mount at %s\n", dest);
		fail();
	}
	assert_string_equal(m->type, type);
	if (src)
		assert_string_equal(m->source, src);
	strv_eq(&m->options, opts);
}

static size_t mount_index(const struct spec_runtime *s, const char *dest)
{
	for (size_t i = 0; i < s->n_mounts; i++)
		if (!strcmp(s->mounts[i].destination, dest))
			return i;
	fail_msg("no mount at %s", dest);
	return 0;
}

static void gids_are(const struct spec_runtime *s, const uint32_t *want, size_t n)
{
	const struct spec_rt_u32_list *l = &s->process->user.additional_gids;
	assert_int_equal(l->len, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(l->v[i], want[i]);
}

/* ---- process.args ---- */

static void args_case(const char *img_ep, const char *img_cmd, bool has_ep, const char *ep, const char *cmd,
		      const char *want)
{
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new(img_ep, img_cmd);
	struct ctr_spec_env env = env_for(false);

	c->has_entrypoint = has_ep;
	if (has_ep)
		strv_push(&c->entrypoint, ep);
	if (cmd)
		strv_split(&c->command, cmd, ' ');
	if (!want) {
		spec_fails(c, img, &env, EINVAL, "no command specified");
		return;
	}
	cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
	strv_eq(&s->process->args, want);
}

static void test_args(void **state)
{
	(void)state;
	args_case(NULL, "sh", false, NULL, NULL, "sh");
	args_case("/ep", "a b", false, NULL, NULL, "/ep,a,b");
	args_case("/ep", "a b", false, NULL, "x y", "/ep,x,y");
	args_case(NULL, "sh", false, NULL, "echo hi", "echo,hi");
	args_case("/ep", "a b", true, "/other", NULL, "/other"); /* --entrypoint drops Cmd */
	args_case("/ep", "a b", true, "/other", "c", "/other,c");
	args_case("/ep", "a b", true, "", "echo hi", "echo,hi"); /* --entrypoint "" clears it */
	args_case("/ep", "a b", true, "", NULL, NULL);		 /* ... and the Cmd: nothing left */
	args_case(NULL, NULL, false, NULL, NULL, NULL);
	{
		/* no image config at all */
		cleanup_ctr_config struct ctr_config *c = cfg_new();
		struct ctr_spec_env env = env_for(false);
		spec_fails(c, NULL, &env, EINVAL, "no command specified");
		strv_push(&c->command, "/bin/true");
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, NULL, &env);
		strv_eq(&s->process->args, "/bin/true");
	}
}

static void test_init(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new("/ep", "a");
	struct ctr_spec_env env = env_for(false);

	c->init = true;
	cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
	strv_eq(&s->process->args, "/run/skiff-init,--,/ep,a");
	mount_is(s, "/run/skiff-init", "bind", initbin, "bind,rprivate,ro");

	env.init_path = NULL;
	spec_fails(c, img, &env, EINVAL, "--init");
	env.init_path = initbin;
	c->pid_mode = xstrdup("host");
	spec_fails(c, img, &env, EINVAL, "--pid host");
}

/* ---- env, cwd, hostname ---- */

static void test_env(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new(NULL, "sh");
	struct ctr_spec_env env = env_for(false);

	strv_push(&img->config.env, "PATH=/img/bin");
	strv_push(&img->config.env, "A=1");
	strv_push(&img->config.env, "B=2");
	strv_push(&c->env, "B=3");
	strv_push(&c->env, "C=4");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		strv_eq(&s->process->env, "PATH=/img/bin,A=1,B=3,C=4,HOSTNAME=0123456789ab,HOME=/root");
		assert_false(s->process->terminal);
	}
	/* no PATH in the image: the default; -t: TERM; HOME from the user's entry */
	strv_release(&img->config.env);
	c->tty = true;
	c->user = xstrdup("app");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_string_equal(env_get(s, "PATH"), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
		assert_string_equal(env_get(s, "TERM"), "xterm");
		assert_string_equal(env_get(s, "HOME"), "/home/app");
		assert_true(s->process->terminal);
	}
	/* what the user sets wins: TERM, HOME, HOSTNAME */
	strv_push(&c->env, "TERM=dumb");
	strv_push(&c->env, "HOME=/elsewhere");
	strv_push(&c->env, "HOSTNAME=mine");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_string_equal(env_get(s, "TERM"), "dumb");
		assert_string_equal(env_get(s, "HOME"), "/elsewhere");
		assert_string_equal(env_get(s, "HOSTNAME"), "mine");
	}
	/* a uid without an entry: HOME=/ */
	strv_release(&c->env);
	free(c->user);
	c->user = xstrdup("4321");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_string_equal(env_get(s, "HOME"), "/");
	}
}

static void test_cwd_hostname(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new(NULL, "sh");
	struct ctr_spec_env env = env_for(false);

	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_string_equal(s->process->cwd, "/");
		assert_string_equal(s->hostname, "0123456789ab");
		assert_string_equal(s->root_path, rootfs);
		assert_false(s->root_readonly);
		assert_true(s->process->user.has_umask);
		assert_int_equal(s->process->user.umask, 022);
	}
	img->config.working_dir = xstrdup("/srv");
	c->hostname = xstrdup("box");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_string_equal(s->process->cwd, "/srv");
		assert_string_equal(s->hostname, "box");
		assert_string_equal(env_get(s, "HOSTNAME"), "box");
	}
	c->workdir = xstrdup("/work");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_string_equal(s->process->cwd, "/work");
	}
	free(c->workdir);
	c->workdir = xstrdup("relative");
	spec_fails(c, img, &env, EINVAL, "\"relative\" is not an absolute path");
	free(c->workdir);
	c->workdir = NULL;
	free(c->id);
	c->id = NULL;
	free(c->hostname);
	c->hostname = NULL;
	spec_fails(c, img, &env, EINVAL, "no id");
}

/* ---- user ---- */

static void test_user(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new(NULL, "sh");
	struct ctr_spec_env env = env_for(false);

	{
		/* root: its memberships */
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		static const uint32_t g[] = {0, 30};
		assert_int_equal(s->process->user.uid, 0);
		assert_int_equal(s->process->user.gid, 0);
		gids_are(s, g, ARRAY_SIZE(g));
	}
	img->config.user = xstrdup("app"); /* the image's User */
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		static const uint32_t g[] = {1000, 10, 20};
		assert_int_equal(s->process->user.uid, 1000);
		assert_int_equal(s->process->user.gid, 1000);
		gids_are(s, g, ARRAY_SIZE(g));
	}
	c->user = xstrdup("1000"); /* numeric, with an entry: same */
	strv_push(&c->group_add, "wheel");
	strv_push(&c->group_add, "77");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		static const uint32_t g[] = {1000, 10, 77, 20};
		gids_are(s, g, ARRAY_SIZE(g));
	}
	strv_release(&c->group_add);
	free(c->user);
	c->user = xstrdup("app:staff"); /* explicit group: no memberships */
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		static const uint32_t g[] = {20};
		assert_int_equal(s->process->user.gid, 20);
		gids_are(s, g, ARRAY_SIZE(g));
	}
	free(c->user);
	c->user = xstrdup("4321:4444"); /* numbers need no entries */
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_int_equal(s->process->user.uid, 4321);
		assert_int_equal(s->process->user.gid, 4444);
	}
	free(c->user);
	c->user = xstrdup("4321");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_int_equal(s->process->user.gid, 0);
	}
	static const struct {
		const char *user;
		int st;
		const char *want;
	} bad[] = {
		{"nosuch", ENOENT, "unable to find user nosuch"},
		{"bad", ENOENT, "unable to find user bad"}, /* a malformed entry never matches */
		{"nis", ENOENT, "unable to find user nis"},
		{"app:nogroup", ENOENT, "unable to find group nogroup"},
		{"app:1:2", EINVAL, "\"app:1:2\""},
		{"99999999999", EINVAL, "uid out of range"},
		{"4294967295", EINVAL, "uid out of range"},
		{"app:99999999999", EINVAL, "gid out of range"},
		{"a\nb", EINVAL, "invalid user \"a\\nb\""},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		free(c->user);
		c->user = xstrdup(bad[i].user);
		spec_fails(c, img, &env, bad[i].st, bad[i].want);
	}
	free(c->user);
	c->user = xstrdup("app");
	strv_push(&c->group_add, "nosuchgroup");
	spec_fails(c, img, &env, ENOENT, "unable to find group nosuchgroup");
}

static void test_user_hostile_rootfs(void **state)
{
	(void)state;
	cleanup_free char *r2 = xasprintf("%s/rootfs2", tmp);
	cleanup_free char *etc = xasprintf("%s/etc", r2);
	cleanup_free char *pw = xasprintf("%s/passwd", etc);
	cleanup_free char *grp = xasprintf("%s/group", etc);
	cleanup_free char *hostpw = xasprintf("%s/evil-passwd", tmp);
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new(NULL, "sh");
	struct ctr_spec_env env = env_for(false);
	struct skiff_err *e = NULL;
	int fd;

	ok(mkdir_p_at(AT_FDCWD, etc, 0755, &e), &e);
	write_at(tmp, "evil-passwd", "evil:x:0:0::/root:/bin/sh\n", 26);
	/* a symlink that climbs out: resolved inside the rootfs, so the host file is not read */
	cleanup_free char *target = xasprintf("../../../../../../../..%s", hostpw);
	assert_int_equal(symlink(target, pw), 0);
	fd = open(r2, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	env.rootfs_fd = fd;
	c->user = xstrdup("evil");
	spec_fails(c, img, &env, ENOENT, "unable to find user evil");
	/* numeric users still work without any files */
	free(c->user);
	c->user = xstrdup("5");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_int_equal(s->process->user.uid, 5);
	}
	/* a FIFO at /etc/group must not hang the lookup */
	assert_int_equal(mkfifo(grp, 0644), 0);
	free(c->user);
	c->user = xstrdup("5:wheel");
	spec_fails(c, img, &env, EINVAL, "/etc/group in the container is not a regular file");
	close(fd);
}

/* ---- capabilities, seccomp ---- */

static const char *const podman_caps[] = {
	"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FOWNER",  "CAP_FSETID", "CAP_KILL",	  "CAP_NET_BIND_SERVICE",
	"CAP_SETFCAP", "CAP_SETGID",	   "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
};

/* CAP_X is in our bounding set? (the engine passes on only those) */
static bool bnd(const char *name)
{
	static const char *const all[] = {
		"CAP_CHOWN",
		"CAP_DAC_OVERRIDE",
		"CAP_DAC_READ_SEARCH",
		"CAP_FOWNER",
		"CAP_FSETID",
		"CAP_KILL",
		"CAP_SETGID",
		"CAP_SETUID",
		"CAP_SETPCAP",
		"CAP_LINUX_IMMUTABLE",
		"CAP_NET_BIND_SERVICE",
		"CAP_NET_BROADCAST",
		"CAP_NET_ADMIN",
		"CAP_NET_RAW",
		"CAP_IPC_LOCK",
		"CAP_IPC_OWNER",
		"CAP_SYS_MODULE",
		"CAP_SYS_RAWIO",
		"CAP_SYS_CHROOT",
		"CAP_SYS_PTRACE",
		"CAP_SYS_PACCT",
		"CAP_SYS_ADMIN",
		"CAP_SYS_BOOT",
		"CAP_SYS_NICE",
		"CAP_SYS_RESOURCE",
		"CAP_SYS_TIME",
		"CAP_SYS_TTY_CONFIG",
		"CAP_MKNOD",
		"CAP_LEASE",
		"CAP_AUDIT_WRITE",
		"CAP_AUDIT_CONTROL",
		"CAP_SETFCAP",
		"CAP_MAC_OVERRIDE",
		"CAP_MAC_ADMIN",
		"CAP_SYSLOG",
		"CAP_WAKE_ALARM",
		"CAP_BLOCK_SUSPEND",
		"CAP_AUDIT_READ",
		"CAP_PERFMON",
		"CAP_BPF",
		"CAP_CHECKPOINT_RESTORE",
	};
	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		if (!strcmp(all[i], name))
			return prctl(PR_CAPBSET_READ, (unsigned long)i, 0, 0, 0) == 1;
	return false;
}

/* The sorted list of names (those in our bounding set), joined. */
static char *expect_caps(const char *const *names, size_t n, const char *plus, const char *minus)
{
	cleanup_strv struct strv sv = STRV_INIT;
	for (size_t i = 0; i < n; i++)
		if ((!minus || strcmp(names[i], minus)) && bnd(names[i]))
			strv_push(&sv, names[i]);
	if (plus && bnd(plus))
		strv_push(&sv, plus);
	strv_sort(&sv);
	return joined(&sv);
}

static void caps_are(const struct strv *sv, const char *want)
{
	cleanup_free char *j = joined(sv);
	assert_string_equal(j, want);
}

static bool seccomp_allows(const struct json *sc, const char *name)
{
	const struct json *rules = json_object_get(sc, "syscalls");
	for (size_t i = 0; i < json_array_len(rules); i++) {
		const struct json *r = json_array_get(rules, i);
		const char *act = json_object_get_string(r, "action");
		const struct json *names = json_object_get(r, "names");
		if (!act || strcmp(act, "SCMP_ACT_ALLOW") != 0)
			continue;
		for (size_t k = 0; k < json_array_len(names); k++)
			if (!strcmp(json_string(json_array_get(names, k)), name))
				return true;
	}
	return false;
}

static void test_caps(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new(NULL, "sh");
	struct ctr_spec_env env = env_for(false);

	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		cleanup_free char *want = expect_caps(podman_caps, ARRAY_SIZE(podman_caps), NULL, NULL);
		const struct spec_rt_caps *k = s->process->capabilities;
		caps_are(&k->bounding, want);
		caps_are(&k->effective, want);
		caps_are(&k->permitted, want);
		assert_int_equal(k->inheritable.len, 0);
		assert_int_equal(k->ambient.len, 0);
		assert_false(s->process->no_new_privileges);
		/* seccomp by default, without keyctl for podman's default caps */
		assert_non_null(s->linux_spec->seccomp);
		assert_true(seccomp_allows(s->linux_spec->seccomp, "read"));
		assert_false(seccomp_allows(s->linux_spec->seccomp, "keyctl"));
	}
	strv_push(&c->cap_add, "net_admin");
	strv_push(&c->cap_drop, "CAP_CHOWN");
	c->no_new_privileges = true;
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		cleanup_free char *want =
			expect_caps(podman_caps, ARRAY_SIZE(podman_caps), "CAP_NET_ADMIN", "CAP_CHOWN");
		caps_are(&s->process->capabilities->bounding, want);
		caps_are(&s->process->capabilities->effective, want);
		assert_true(s->process->no_new_privileges);
	}
	/* --cap-drop ALL --cap-add NET_RAW */
	strv_release(&c->cap_add);
	strv_release(&c->cap_drop);
	strv_push(&c->cap_drop, "all");
	strv_push(&c->cap_add, "NET_RAW");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		caps_are(&s->process->capabilities->bounding, bnd("CAP_NET_RAW") ? "CAP_NET_RAW" : "");
	}
	/* a non-root user: only what was added, in every set */
	c->user = xstrdup("app");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		const struct spec_rt_caps *k = s->process->capabilities;
		const char *want = bnd("CAP_NET_RAW") ? "CAP_NET_RAW" : "";
		caps_are(&k->effective, want);
		caps_are(&k->permitted, want);
		caps_are(&k->inheritable, want);
		caps_are(&k->ambient, want);
	}
	strv_release(&c->cap_add);
	strv_release(&c->cap_drop);
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		const struct spec_rt_caps *k = s->process->capabilities;
		cleanup_free char *want = expect_caps(podman_caps, ARRAY_SIZE(podman_caps), NULL, NULL);
		caps_are(&k->bounding, want);
		assert_int_equal(k->effective.len, 0);
		assert_int_equal(k->permitted.len, 0);
		assert_int_equal(k->ambient.len, 0);
	}
	free(c->user);
	c->user = NULL;
	/* --cap-add ALL: the whole bounding set */
	strv_push(&c->cap_add, "ALL");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_true(strv_contains(&s->process->capabilities->bounding, "CAP_SYS_ADMIN") ==
			    bnd("CAP_SYS_ADMIN"));
		assert_true(strv_contains(&s->process->capabilities->bounding, "CAP_SYS_RESOURCE") ==
			    bnd("CAP_SYS_RESOURCE"));
	}
	strv_release(&c->cap_add);
	/* hostile names */
	strv_push(&c->cap_add, "CAP_BOGUS");
	spec_fails(c, img, &env, EINVAL, "unknown capability \"CAP_BOGUS\"");
	strv_release(&c->cap_add);
	strv_push(&c->cap_add, "ALL");
	strv_push(&c->cap_drop, "ALL");
	spec_fails(c, img, &env, EINVAL, "adding all caps and removing all caps");
	strv_release(&c->cap_add);
	strv_release(&c->cap_drop);
	strv_push(&c->cap_add, "NET_ADMIN");
	strv_push(&c->cap_drop, "net_admin");
	spec_fails(c, img, &env, EINVAL, "\"CAP_NET_ADMIN\" cannot be dropped and added");
	strv_release(&c->cap_add);
	strv_release(&c->cap_drop);

	/* unconfined: no seccomp */
	c->seccomp_profile = xstrdup("unconfined");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_null(s->linux_spec->seccomp);
	}
	/* a profile given as contents */
	free(c->seccomp_profile);
	c->seccomp_profile = xstrdup("/some/file.json");
	c->seccomp_json = xstrdup("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"keyctl\"],"
				  "\"action\":\"SCMP_ACT_ALLOW\"}]}");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_true(seccomp_allows(s->linux_spec->seccomp, "keyctl"));
	}
	free(c->seccomp_json);
	c->seccomp_json = xstrdup("{\"defaultAction\":\"SCMP_ACT_BOGUS\"}");
	spec_fails(c, img, &env, EINVAL, "SCMP_ACT_BOGUS");
	free(c->seccomp_json);
	c->seccomp_json = NULL;
	free(c->seccomp_profile);
	c->seccomp_profile = NULL;
	env.seccomp_default = "/nonexistent/seccomp.json";
	spec_fails(c, img, &env, ENOENT, "/nonexistent/seccomp.json");
}

static void test_privileged(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new(NULL, "sh");
	struct ctr_spec_env env = env_for(false);

	c->privileged = true;
	strv_push(&c->cap_drop, "ALL"); /* ignored with --privileged, as podman */
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		const struct spec_rt_linux *l = s->linux_spec;
		bool null_found = false;
		assert_true(strv_contains(&s->process->capabilities->bounding, "CAP_SYS_ADMIN") ==
			    bnd("CAP_SYS_ADMIN"));
		assert_int_equal(s->process->capabilities->effective.len, s->process->capabilities->bounding.len);
		assert_null(l->seccomp);
		assert_int_equal(l->masked_paths.len, 0);
		assert_int_equal(l->readonly_paths.len, 0);
		mount_is(s, "/sys", "sysfs", "sysfs", "rprivate,nosuid,noexec,nodev,rw");
		mount_is(s, "/sys/fs/cgroup", "cgroup", "cgroup", "rprivate,nosuid,noexec,nodev,relatime,rw");
		assert_int_equal(l->resources->n_devices, 1);
		assert_true(l->resources->devices[0].allow);
		assert_string_equal(l->resources->devices[0].access, "rwm");
		for (size_t i = 0; i < l->n_devices; i++)
			if (!strcmp(l->devices[i].path, "/dev/null")) {
				null_found = true;
				assert_int_equal(l->devices[i].type, 'c');
				assert_int_equal(l->devices[i].major, 1);
				assert_int_equal(l->devices[i].minor, 3);
			}
		assert_true(null_found);
	}
	env.rootless = true;
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_int_equal(s->linux_spec->n_devices, 0);
		mount_is(s, "/dev/null", "bind", "/dev/null", "slave,nosuid,noexec,rw,rbind");
		assert_null(mnt(s, "/dev/ptmx"));
		mount_is(s, "/sys", "bind", "/sys", "rprivate,nosuid,noexec,nodev,rw,rbind");
		assert_true(mount_index(s, "/dev") < mount_index(s, "/dev/null"));
	}
}

/* ---- mounts ---- */

static void test_mounts_default(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new(NULL, "sh");
	struct ctr_spec_env env = env_for(false);
	cleanup_free char *hosts = xasprintf("%s/hosts", userdata);
	cleanup_free char *rc = xasprintf("%s/resolv.conf", userdata);
	cleanup_free char *hn = xasprintf("%s/hostname", userdata);
	cleanup_free char *ce = xasprintf("%s/.containerenv", userdata);
	cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);

	mount_is(s, "/proc", "proc", "proc", "nosuid,noexec,nodev");
	mount_is(s, "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k");
	mount_is(s, "/dev/pts", "devpts", "devpts", "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5");
	mount_is(s, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
	mount_is(s, "/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k");
	mount_is(s, "/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro");
	mount_is(s, "/sys/fs/cgroup", "cgroup", "cgroup", "rprivate,nosuid,noexec,nodev,relatime,ro");
	mount_is(s, "/etc/hosts", "bind", hosts, "bind,rprivate");
	mount_is(s, "/etc/resolv.conf", "bind", rc, "bind,rprivate");
	mount_is(s, "/etc/hostname", "bind", hn, "bind,rprivate");
	mount_is(s, "/run/.containerenv", "bind", ce, "bind,rprivate,ro");
	assert_null(mnt(s, "/tmp"));
	/* parents first */
	for (size_t i = 1; i < s->n_mounts; i++) {
		size_t a = 0, b = 0;
		for (const char *p = s->mounts[i - 1].destination; *p; p++)
			a += *p == '/';
		for (const char *p = s->mounts[i].destination; *p; p++)
			b += *p == '/';
		assert_true(a <= b);
	}
	/* masked and read-only paths */
	assert_true(strv_contains(&s->linux_spec->masked_paths, "/proc/kcore"));
	assert_true(strv_contains(&s->linux_spec->readonly_paths, "/proc/sys"));
	assert_false(strv_contains(&s->linux_spec->masked_paths, "/sys/kernel"));
	/* the rootful device cgroup: deny all */
	assert_int_equal(s->linux_spec->resources->n_devices, 1);
	assert_false(s->linux_spec->resources->devices[0].allow);
	assert_string_equal(spec_map_get(&s->linux_spec->sysctl, "net.ipv4.ping_group_range"), "0 0");

	/* userdata must be absolute */
	env.userdata = "relative/dir";
	spec_fails(c, img, &env, EINVAL, "relative/dir");
}

static void test_mounts_user(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new(NULL, "sh");
	struct ctr_spec_env env = env_for(false);
	struct skiff_err *e = NULL;
	cleanup_free char *v1 = xasprintf("%s:/data:ro,z", srcdir);
	cleanup_free char *v2 = xasprintf("%s:/data/sub", srcdir);
	cleanup_free char *v3 = xasprintf("%s:/etc/hosts:ro", srcdir);
	cleanup_free char *v4 = xasprintf("type=bind,src=%s,dst=/m,bind-propagation=rslave", srcdir);

	ALLOC_GROW(c->mounts, 6, c->alloc_mounts);
	/* given deepest first: the spec must order parents first */
	ok(ctr_parse_volume(v2, &c->mounts[c->n_mounts++], &e), &e);
	ok(ctr_parse_volume(v1, &c->mounts[c->n_mounts++], &e), &e);
	ok(ctr_parse_volume(v3, &c->mounts[c->n_mounts++], &e), &e);
	ok(ctr_parse_mount(v4, &c->mounts[c->n_mounts++], &e), &e);
	ok(ctr_parse_tmpfs("/scratch:size=1m", &c->mounts[c->n_mounts++], &e), &e);
	ok(ctr_parse_tmpfs("/exec:exec,notmpcopyup", &c->mounts[c->n_mounts++], &e), &e);
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		mount_is(s, "/data", "bind", srcdir, "ro,rprivate,rbind");
		mount_is(s, "/data/sub", "bind", srcdir, "rw,rprivate,rbind");
		mount_is(s, "/m", "bind", srcdir, "rslave,rw,rbind");
		/* a user mount at /etc/hosts replaces the engine's */
		mount_is(s, "/etc/hosts", "bind", srcdir, "ro,rprivate,rbind");
		mount_is(s, "/scratch", "tmpfs", "tmpfs", "size=1m,rw,rprivate,nosuid,nodev,noexec,tmpcopyup");
		mount_is(s, "/exec", "tmpfs", "tmpfs", "exec,rw,rprivate,nosuid,nodev");
		assert_true(mount_index(s, "/data") < mount_index(s, "/data/sub"));
		size_t n = 0;
		for (size_t i = 0; i < s->n_mounts; i++)
			n += !strcmp(s->mounts[i].destination, "/etc/hosts");
		assert_int_equal(n, 1);
	}
	/* a missing source, a duplicate destination */
	free(c->mounts[0].source);
	c->mounts[0].source = xasprintf("%s/missing", tmp);
	spec_fails(c, img, &env, ENOENT, "missing");
	free(c->mounts[0].source);
	c->mounts[0].source = xstrdup(srcdir);
	free(c->mounts[0].destination);
	c->mounts[0].destination = xstrdup("/data");
	spec_fails(c, img, &env, EINVAL, "duplicate mount destination /data");
}

static void test_mounts_dev_override(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new(NULL, "sh");
	struct ctr_spec_env env = env_for(false);
	struct skiff_err *e = NULL;

	ALLOC_GROW(c->mounts, 1, c->alloc_mounts);
	ok(ctr_parse_tmpfs("/dev", &c->mounts[c->n_mounts++], &e), &e);
	cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
	/* everything the engine had under /dev goes with it */
	assert_null(mnt(s, "/dev/pts"));
	assert_null(mnt(s, "/dev/shm"));
	assert_null(mnt(s, "/dev/mqueue"));
	mount_is(s, "/dev", "tmpfs", "tmpfs", "rw,rprivate,nosuid,nodev,noexec,tmpcopyup");
}

static void test_read_only(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new(NULL, "sh");
	struct ctr_spec_env env = env_for(false);
	cleanup_free char *hosts = xasprintf("%s/hosts", userdata);
	struct skiff_err *e = NULL;

	c->read_only = true;
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_true(s->root_readonly);
		mount_is(s, "/tmp", "tmpfs", "tmpfs", "rw,rprivate,nosuid,nodev,tmpcopyup");
		mount_is(s, "/var/tmp", "tmpfs", "tmpfs", "rw,rprivate,nosuid,nodev,tmpcopyup");
		mount_is(s, "/run", "tmpfs", "tmpfs", "rw,rprivate,nosuid,nodev,tmpcopyup");
		mount_is(s, "/etc/hosts", "bind", hosts, "bind,rprivate,ro,nosuid,noexec,nodev");
		mount_is(s, "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k");
		assert_true(mount_index(s, "/run") < mount_index(s, "/run/.containerenv"));
	}
	/* a user's /tmp wins */
	ALLOC_GROW(c->mounts, 1, c->alloc_mounts);
	ok(ctr_parse_tmpfs("/tmp:size=2m", &c->mounts[c->n_mounts++], &e), &e);
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		mount_is(s, "/tmp", "tmpfs", "tmpfs", "size=2m,rw,rprivate,nosuid,nodev,noexec,tmpcopyup");
	}
	/* --read-only-tmpfs=false: no tmpfs, and /dev read-only too */
	c->read_only_tmpfs = false;
	ctr_mount_release(&c->mounts[0]);
	c->n_mounts = 0;
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_null(mnt(s, "/tmp"));
		assert_null(mnt(s, "/run"));
		mount_is(s, "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k,ro");
	}
}

/* ---- namespaces ---- */

static bool has_ns(const struct spec_runtime *s, enum spec_ns_type t, const char *path)
{
	const struct spec_rt_namespace *ns = spec_runtime_find_namespace(s, t);
	if (!ns)
		return false;
	return path ? ns->path && !strcmp(ns->path, path) : !ns->path;
}

static void test_namespaces(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new(NULL, "sh");
	struct ctr_spec_env env = env_for(false);

	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_true(has_ns(s, SPEC_NS_PID, NULL));
		assert_true(has_ns(s, SPEC_NS_NETWORK, NULL));
		assert_true(has_ns(s, SPEC_NS_IPC, NULL));
		assert_true(has_ns(s, SPEC_NS_UTS, NULL));
		assert_true(has_ns(s, SPEC_NS_MOUNT, NULL));
		assert_false(has_ns(s, SPEC_NS_USER, NULL));
	}
	c->pid_mode = xstrdup("host");
	c->ipc_mode = xstrdup("host");
	c->uts_mode = xstrdup("host");
	c->network = xstrdup("none");
	c->cgroupns_mode = xstrdup("private");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		char hn[256];
		assert_null(spec_runtime_find_namespace(s, SPEC_NS_PID));
		assert_null(spec_runtime_find_namespace(s, SPEC_NS_IPC));
		assert_null(spec_runtime_find_namespace(s, SPEC_NS_UTS));
		assert_true(has_ns(s, SPEC_NS_NETWORK, NULL)); /* none: a namespace with lo only */
		assert_true(has_ns(s, SPEC_NS_CGROUP, NULL));
		assert_null(s->hostname); /* no UTS namespace to name */
		assert_int_equal(gethostname(hn, sizeof(hn)), 0);
		assert_string_equal(env_get(s, "HOSTNAME"), hn);
		assert_null(mnt(s, "/etc/resolv.conf")); /* no network, no resolv.conf */
		mount_is(s, "/dev/shm", "bind", "/dev/shm", "bind,rprivate,nosuid,noexec,nodev");
	}
	free(c->network);
	c->network = xstrdup("container:abc");
	spec_fails(c, img, &env, EINVAL, "--network container:abc");
	env.ns_paths[SPEC_NS_NETWORK] = "/proc/4242/ns/net";
	free(c->ipc_mode);
	c->ipc_mode = xstrdup("ns:/run/ipcns/x");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_true(has_ns(s, SPEC_NS_NETWORK, "/proc/4242/ns/net"));
		assert_true(has_ns(s, SPEC_NS_IPC, "/run/ipcns/x"));
	}
	free(c->userns_mode);
	c->userns_mode = xstrdup("ns:/proc/1/ns/user");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_true(has_ns(s, SPEC_NS_USER, "/proc/1/ns/user"));
		assert_int_equal(s->linux_spec->uid_mappings.len, 0);
	}
	const struct {
		char **field;
		const char *mode;
		int st;
		const char *want;
	} bad[] = {
		{&c->ipc_mode, "ns:relative", EINVAL, "--ipc \"ns:relative\""},
		{&c->pid_mode, "bogus", EINVAL, "--pid \"bogus\""},
		{&c->uts_mode, "container:", EINVAL, "no container named"},
		{&c->userns_mode, "keep-id", EINVAL, "only supported rootless"},
		{&c->userns_mode, "auto", EINVAL, "no ids picked"},
		{&c->userns_mode, "nsfile", ENOTSUP, "--userns nsfile"},
		{&c->cgroupns_mode, "sometimes", EINVAL, "--cgroupns \"sometimes\""},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *saved = *bad[i].field;
		*bad[i].field = xstrdup(bad[i].mode);
		spec_fails(c, img, &env, bad[i].st, bad[i].want);
		free(*bad[i].field);
		*bad[i].field = saved;
	}
	/* --userns=auto with its ids picked: a namespace of its own, 0.. -> them */
	{
		char *saved = c->userns_mode;
		c->userns_mode = xstrdup("auto:size=2048");
		c->userns_uid = 300000;
		c->userns_gid = 400000;
		c->userns_size = 2048;
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_true(has_ns(s, SPEC_NS_USER, NULL));
		assert_int_equal(s->linux_spec->uid_mappings.len, 1);
		assert_int_equal(s->linux_spec->uid_mappings.v[0].container_id, 0);
		assert_int_equal(s->linux_spec->uid_mappings.v[0].host_id, 300000);
		assert_int_equal(s->linux_spec->uid_mappings.v[0].size, 2048);
		assert_int_equal(s->linux_spec->gid_mappings.v[0].host_id, 400000);
		free(c->userns_mode);
		c->userns_mode = saved;
		c->userns_size = 0;
	}
}

static void test_rootless(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new(NULL, "sh");
	struct ctr_spec_env env = env_for(true);

	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		const struct spec_rt_linux *l = s->linux_spec;
		assert_null(spec_runtime_find_namespace(s, SPEC_NS_USER));
		assert_int_equal(l->uid_mappings.len, 0);
		assert_int_equal(l->gid_mappings.len, 0);
		assert_true(has_ns(s, SPEC_NS_NETWORK, NULL));
		mount_is(s, "/sys", "bind", "/sys", "rprivate,nosuid,noexec,nodev,ro,rbind");
		mount_is(s, "/sys/fs/cgroup", "cgroup", "/sys/fs/cgroup", "rprivate,nosuid,noexec,nodev,ro");
		assert_true(strv_contains(&l->masked_paths, "/sys/kernel"));
		assert_true(!l->resources || l->resources->n_devices == 0);
	}
	c->pid_mode = xstrdup("host");
	c->ipc_mode = xstrdup("host");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		mount_is(s, "/proc", "bind", "/proc", "rbind,nosuid,noexec,nodev");
		mount_is(s, "/dev/mqueue", "bind", "/dev/mqueue", "bind,nosuid,noexec,nodev");
	}
}

/* ---- resources, rlimits, sysctls, annotations ---- */

static void test_resources(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new(NULL, "sh");
	struct ctr_spec_env env = env_for(false);

	c->memory = 512 << 20;
	c->memory_reservation = 256 << 20;
	c->cpus = 1.5;
	c->cpu_shares = 512;
	c->cpuset_cpus = xstrdup("0-1");
	c->has_pids_limit = true;
	c->pids_limit = 100;
	c->has_oom_score_adj = true;
	c->oom_score_adj = 100;
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		const struct spec_rt_resources *r = s->linux_spec->resources;
		assert_true(r->memory->has_limit);
		assert_int_equal(r->memory->limit, 512 << 20);
		assert_int_equal(r->memory->swap, 1024 << 20); /* twice, as podman */
		assert_int_equal(r->memory->reservation, 256 << 20);
		assert_true(r->cpu->has_quota && r->cpu->has_period);
		assert_int_equal(r->cpu->quota, 150000);
		assert_int_equal(r->cpu->period, 100000);
		assert_int_equal(r->cpu->shares, 512);
		assert_string_equal(r->cpu->cpus, "0-1");
		assert_true(r->has_pids);
		assert_int_equal(r->pids_limit, 100);
		assert_true(s->process->has_oom_score_adj);
		assert_int_equal(s->process->oom_score_adj, 100);
	}
	c->memory_swap = -1;
	c->pids_limit = 0;
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_int_equal(s->linux_spec->resources->memory->swap, -1);
		assert_int_equal(s->linux_spec->resources->pids_limit, -1);
	}
	c->memory_swap = 1 << 20;
	spec_fails(c, img, &env, EINVAL, "--memory-swap 1048576 must be at least --memory");
	c->memory_swap = 0;
	c->memory_reservation = 1LL << 40;
	spec_fails(c, img, &env, EINVAL, "--memory-reservation");
	c->memory_reservation = 0;
	c->cpu_period = 50000;
	spec_fails(c, img, &env, EINVAL, "--cpus conflicts");
	c->cpus = 0;
	c->cpu_quota = 25000;
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_int_equal(s->linux_spec->resources->cpu->period, 50000);
		assert_int_equal(s->linux_spec->resources->cpu->quota, 25000);
	}
	c->memory = 0;
	c->memory_swap = 1 << 30;
	spec_fails(c, img, &env, EINVAL, "--memory-swap needs --memory");
	c->memory_swap = 0;
	c->oom_score_adj = 5000;
	spec_fails(c, img, &env, EINVAL, "--oom-score-adj 5000");
	c->oom_score_adj = 0;
	free(c->cpuset_cpus);
	c->cpuset_cpus = xstrdup("0-1;rm");
	spec_fails(c, img, &env, EINVAL, "0-1;rm");
}

static const struct spec_rt_rlimit *rlimit(const struct spec_runtime *s, const char *type)
{
	for (size_t i = 0; i < s->process->n_rlimits; i++)
		if (!strcmp(s->process->rlimits[i].type, type))
			return &s->process->rlimits[i];
	return NULL;
}

static void test_rlimits(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new(NULL, "sh");
	struct ctr_spec_env env = env_for(true); /* rootless: clamped to ours */
	struct skiff_err *e = NULL;
	struct rlimit rl;

	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		const struct spec_rt_rlimit *r = rlimit(s, "RLIMIT_NOFILE");
		assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
		assert_non_null(r);
		assert_int_equal(r->hard, rl.rlim_max < 1048576 ? rl.rlim_max : 1048576);
		assert_int_equal(r->soft, rl.rlim_cur < 1048576 ? rl.rlim_cur : 1048576);
		assert_non_null(rlimit(s, "RLIMIT_NPROC"));
	}
	ALLOC_GROW(c->ulimits, 2, c->alloc_ulimits);
	ok(ctr_parse_ulimit("nofile=100:200", &c->ulimits[c->n_ulimits++], &e), &e);
	ok(ctr_parse_ulimit("core=-1", &c->ulimits[c->n_ulimits++], &e), &e);
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		const struct spec_rt_rlimit *r = rlimit(s, "RLIMIT_NOFILE");
		assert_int_equal(r->soft, 100);
		assert_int_equal(r->hard, 200);
		r = rlimit(s, "RLIMIT_CORE");
		assert_true(r->soft == UINT64_MAX && r->hard == UINT64_MAX);
		assert_int_equal(s->process->n_rlimits, 3);
	}
	/* a hostile ulimit from a stored config is caught */
	c->ulimits[0].soft = 300;
	spec_fails(c, img, &env, EINVAL, "soft limit 300 is above hard limit 200");
}

static void test_sysctls_annotations(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_spec_image_config struct spec_image_config *img = img_new(NULL, "sh");
	struct ctr_spec_env env = env_for(false);

	strv_push(&c->sysctls, "net.ipv4.ip_forward=1");
	strv_push(&c->sysctls, "kernel.msgmax=1000");
	spec_map_set(&c->annotations, "org.example/a", "b");
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_string_equal(spec_map_get(&s->linux_spec->sysctl, "net.ipv4.ip_forward"), "1");
		assert_string_equal(spec_map_get(&s->linux_spec->sysctl, "kernel.msgmax"), "1000");
		assert_string_equal(spec_map_get(&s->annotations, "org.example/a"), "b");
	}
	c->network = xstrdup("host");
	spec_fails(c, img, &env, EINVAL, "--sysctl net.ipv4.ip_forward can't be set");
	strv_release(&c->sysctls);
	{
		cleanup_spec_runtime struct spec_runtime *s = spec_ok(c, img, &env);
		assert_null(spec_runtime_find_namespace(s, SPEC_NS_NETWORK));
		assert_null(spec_map_get(&s->linux_spec->sysctl, "net.ipv4.ping_group_range"));
	}
	strv_push(&c->sysctls, "novalue");
	spec_fails(c, img, &env, EINVAL, "--sysctl \"novalue\"");
}

/* ---- /etc files ---- */

static char *read_ud(const char *name)
{
	cleanup_free char *p = xasprintf("%s/%s", userdata, name);
	char *buf = NULL;
	struct skiff_err *e = NULL;
	ok(read_file_at(AT_FDCWD, p, 1 << 20, &buf, NULL, &e), &e);
	return buf;
}

static void etc_ok(const struct ctr_config *c, const char *host_resolv)
{
	cleanup_close int dfd = open(userdata, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct skiff_err *e = NULL;
	ok(ctr_write_etc_files(dfd, c, host_resolv, &e), &e);
}

static void resolv_case(const char *host, const char *net, const char *dns, const char *search, const char *opt,
			const char *want)
{
	cleanup_ctr_config struct ctr_config *c = cfg_new();
	cleanup_free char *path = xasprintf("%s/host-resolv", tmp);
	write_at(tmp, "host-resolv", host, strlen(host));
	if (net)
		c->network = xstrdup(net);
	if (dns)
		strv_split(&c->dns, dns, ' ');
	if (search)
		strv_split(&c->dns_search, search, ' ');
	if (opt)
		strv_split(&c->dns_option, opt, ' ');
	etc_ok(c, path);
	cleanup_free char *got = read_ud("resolv.conf");
	assert_string_equal(got, want);
}

static void test_etc_files(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = cfg_new();

	strv_push(&c->add_host, "db;database:10.0.0.2");
	strv_push(&c->add_host, "v6host:fe80::1");
	strv_push(&c->add_host, "localhost:10.1.1.1"); /* the user's localhost wins */
	etc_ok(c, resolv);
	{
		cleanup_free char *hosts = read_ud("hosts");
		assert_string_equal(hosts, "10.0.0.2\tdb database\n"
					   "fe80::1\tv6host\n"
					   "10.1.1.1\tlocalhost\n"
					   "127.0.1.1\t0123456789ab test_ctr\n");
		cleanup_free char *hn = read_ud("hostname");
		assert_string_equal(hn, "0123456789ab\n");
		cleanup_free char *ce = read_ud(".containerenv");
		assert_string_equal(ce, "");
		cleanup_free char *rc = read_ud("resolv.conf");
		assert_string_equal(rc, "nameserver 1.1.1.1\n");
	}
	strv_release(&c->add_host);
	c->hostname = xstrdup("box");
	etc_ok(c, resolv);
	{
		cleanup_free char *hosts = read_ud("hosts");
		assert_string_equal(hosts, "127.0.0.1\tlocalhost\n"
					   "::1\tlocalhost\n"
					   "127.0.1.1\tbox test_ctr\n");
		cleanup_free char *hn = read_ud("hostname");
		assert_string_equal(hn, "box\n");
	}

	/* resolv.conf: systemd-resolved's stub and other loopback servers go */
	resolv_case("nameserver 127.0.0.53\nsearch example.com\noptions edns0 trust-ad\n", NULL, NULL, NULL, NULL,
		    "search example.com\nnameserver 8.8.8.8\nnameserver 8.8.4.4\noptions edns0 trust-ad\n");
	resolv_case("# comment\nnameserver 127.0.0.53\nnameserver 1.1.1.1 # trailing\nnameserver ::1\n"
		    "nameserver 2606:4700::1111\ndomain corp\nsortlist 1.2.3.4\nnameserver bogus\n",
		    NULL, NULL, NULL, NULL, "search corp\nnameserver 1.1.1.1\nnameserver 2606:4700::1111\n");
	/* host network: kept as it is */
	resolv_case("nameserver 127.0.0.53\n", "host", NULL, NULL, NULL, "nameserver 127.0.0.53\n");
	/* --dns, --dns-search, --dns-option replace the host's */
	resolv_case("nameserver 1.1.1.1\nsearch a b\noptions ndots:5\n", NULL, "9.9.9.9 2001:db8::1", "x.example",
		    "ndots:2", "search x.example\nnameserver 9.9.9.9\nnameserver 2001:db8::1\noptions ndots:2\n");
	resolv_case("nameserver 1.1.1.1\nsearch a b\n", NULL, NULL, ".", NULL, "nameserver 1.1.1.1\n");
	/* a missing host file: the public defaults */
	{
		cleanup_ctr_config struct ctr_config *c2 = cfg_new();
		cleanup_free char *missing = xasprintf("%s/no-such-resolv", tmp);
		etc_ok(c2, missing);
		cleanup_free char *got = read_ud("resolv.conf");
		assert_string_equal(got, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
	}

	/* hostile values are refused, one line each */
	static const struct {
		const char *field, *value, *want;
	} bad[] = {
		{"dns", "not-an-ip", "invalid --dns \"not-an-ip\""},
		{"dns", "1.2.3.4\nnameserver 6.6.6.6", "invalid --dns"},
		{"search", "a\nnameserver 6.6.6.6", "invalid --dns-search"},
		{"option", "ndots:1 x", "invalid --dns-option \"ndots:1 x\""},
		{"host", "h:notip", "bad IP address \"notip\""},
		{"host", "evil\n1.2.3.4 x:1.2.3.4", "bad host name"},
		{"hostname", "bad name", "invalid host name \"bad name\""},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cleanup_ctr_config struct ctr_config *c3 = cfg_new();
		cleanup_close int dfd = open(userdata, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct skiff_err *e = NULL;
		if (!strcmp(bad[i].field, "dns"))
			strv_push(&c3->dns, bad[i].value);
		else if (!strcmp(bad[i].field, "search"))
			strv_push(&c3->dns_search, bad[i].value);
		else if (!strcmp(bad[i].field, "option"))
			strv_push(&c3->dns_option, bad[i].value);
		else if (!strcmp(bad[i].field, "host"))
			strv_push(&c3->add_host, bad[i].value);
		else
			c3->hostname = xstrdup(bad[i].value);
		check_err(ctr_write_etc_files(dfd, c3, resolv, &e), &e, EINVAL, bad[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_cwd_hostname),
		cmocka_unit_test(test_user),
		cmocka_unit_test(test_user_hostile_rootfs),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_privileged),
		cmocka_unit_test(test_mounts_default),
		cmocka_unit_test(test_mounts_user),
		cmocka_unit_test(test_mounts_dev_override),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_namespaces),
		cmocka_unit_test(test_rootless),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_rlimits),
		cmocka_unit_test(test_sysctls_annotations),
		cmocka_unit_test(test_etc_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
