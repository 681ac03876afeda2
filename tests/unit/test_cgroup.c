/* Unit tests for pkg/runtime/cgroup: parsers, conversions, a fake cgroupfs in a tmp dir
 * for v1/v2/disabled, and (as root, where writable) one real cgroup. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/runtime/cgroup.h"
#include "pkg/runtime/cgroup/internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

/* ---- helpers ---- */

static void check_err(int rc, struct skiff_err **e, int status, const char *want)
{
	if (rc != -1 || !*e || (*e)->status != status || !strstr((*e)->msg, want)) {
		print_error("rc %d, status %d, message \"%s\", wanted %d \"%s\"\n", rc, *e ? (*e)->status : 0,
			    *e ? (*e)->msg : "(none)", status, want);
		fail();
	}
	err_clear(e);
}

static void ok(int rc, struct skiff_err **e)
{
	if (rc < 0 || *e) {
		print_error("unexpected error: %s\n", *e ? (*e)->msg : "(none)");
		fail();
	}
}

static void mkdirs(const char *path)
{
	struct skiff_err *e = NULL;
	ok(mkdir_p_at(AT_FDCWD, path, 0755, &e), &e);
}

static void mkdirsf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mkdirsf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *path = xvasprintf(fmt, ap);
	va_end(ap);
	mkdirs(path);
}

static void putf(const char *content, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(const char *content, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *path = xvasprintf(fmt, ap);
	va_end(ap);
	FILE *f = fopen(path, "we");
	if (!f) {
		print_error("create %s: %s\n", path, strerror(errno));
		fail();
	}
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
}

static char *getf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *getf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	struct skiff_err *e = NULL;
	va_start(ap, fmt);
	cleanup_free char *path = xvasprintf(fmt, ap);
	va_end(ap);
	if (read_file_at(AT_FDCWD, path, 1 << 20, &s, NULL, &e) < 0) {
		print_error("%s\n", e->msg);
		err_free(e);
		fail();
	}
	return s;
}

#define assert_file(want, ...)                                                                                         \
	do {                                                                                                           \
		cleanup_free char *got_ = getf(__VA_ARGS__);                                                           \
		assert_string_equal(got_, (want));                                                                     \
	} while (0)

static bool exists(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool exists(const char *fmt, ...)
{
	va_list ap;
	struct stat st;
	va_start(ap, fmt);
	cleanup_free char *path = xvasprintf(fmt, ap);
	va_end(ap);
	return stat(path, &st) == 0;
}

static char *tmpdir(void)
{
	char *t = xstrdup("/tmp/test_cgroup.XXXXXX");
	assert_non_null(mkdtemp(t));
	return t;
}

static void rmtree(const char *t)
{
	struct skiff_err *e = NULL;
	ok(rm_rf_at(AT_FDCWD, t, &e), &e);
}

/* Remove the regular files below dir (what the kernel does for cgroup dirs on rmdir). */
static void strip_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		cleanup_free char *p = xasprintf("%s/%s", dir, de->d_name);
		if (de->d_type == DT_DIR)
			strip_files(p);
		else
			assert_int_equal(unlink(p), 0);
	}
	closedir(d);
}

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

/* ---- mountinfo ---- */

static const char hybrid_mi[] = "22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
				"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
				"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
				"33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
				"34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
				"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
				"36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
				"37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
				"38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
				"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
				"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
				"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const struct cg_mount *find_mount(const struct cg_layout *l, const char *controllers, bool v2)
{
	for (size_t i = 0; i < l->len; i++)
		if (l->v[i].v2 == v2 && (v2 || cg_controllers_equal(l->v[i].controllers, controllers)))
			return &l->v[i];
	return NULL;
}

static void test_mountinfo_hybrid(void **state)
{
	struct cg_layout l = {0};
	struct skiff_err *e = NULL;

	ok(cg_parse_mountinfo(hybrid_mi, &l, &e), &e);
	assert_int_equal(l.len, 10);
	const struct cg_mount *m = find_mount(&l, "memory", false);
	assert_non_null(m);
	assert_string_equal(m->mountpoint, "/sys/fs/cgroup/memory");
	assert_string_equal(m->root, "/");
	assert_non_null(find_mount(&l, "name=systemd", false));
	m = find_mount(&l, NULL, true);
	assert_non_null(m);
	assert_string_equal(m->mountpoint, "/sys/fs/cgroup/unified");
	/* the cgroup2 holds only hugetlb: the v1 controllers win */
	assert_int_equal(cg_choose_mode(&l, "hugetlb\n"), RT_CGROUP_V1);
	assert_int_equal(cg_choose_mode(&l, NULL), RT_CGROUP_V1);
	/* a cgroup2 that holds everything wins the tie */
	assert_int_equal(cg_choose_mode(&l, "cpuset cpu io memory pids\n"), RT_CGROUP_V2);
	cg_layout_release(&l);
}

static void test_mountinfo_v2_v1_none(void **state)
{
	struct cg_layout l = {0};
	struct skiff_err *e = NULL;

	ok(cg_parse_mountinfo("29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 "
			      "cgroup2 rw,nsdelegate,memory_recursiveprot\n",
			      &l, &e),
	   &e);
	assert_int_equal(l.len, 1);
	assert_true(l.v[0].v2);
	assert_string_equal(l.v[0].controllers, "");
	assert_int_equal(cg_choose_mode(&l, "cpuset cpu io memory hugetlb pids rdma misc\n"), RT_CGROUP_V2);
	assert_int_equal(cg_choose_mode(&l, ""), RT_CGROUP_V2); /* nothing delegated, still v2 */
	cg_layout_release(&l);

	/* pure v1, co-mounted cpu,cpuacct, extra options, optional fields */
	ok(cg_parse_mountinfo("25 24 0:22 / /sys/fs/cgroup/systemd rw,nosuid shared:6 master:2 - cgroup cgroup "
			      "rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd\n"
			      "26 24 0:23 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:7 - cgroup cgroup "
			      "rw,cpuacct,cpu\n"
			      "27 24 0:24 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
			      &l, &e),
	   &e);
	assert_int_equal(l.len, 3);
	assert_string_equal(l.v[0].controllers, "name=systemd");
	assert_string_equal(l.v[1].controllers, "cpuacct,cpu");
	assert_true(cg_controllers_equal(l.v[1].controllers, "cpu,cpuacct"));
	assert_true(cg_controllers_has(l.v[1].controllers, "cpu"));
	assert_false(cg_controllers_has(l.v[1].controllers, "cpuset"));
	assert_string_equal(l.v[2].root, "/docker/abc");
	assert_int_equal(cg_choose_mode(&l, NULL), RT_CGROUP_V1);
	cg_layout_release(&l);

	/* none */
	ok(cg_parse_mountinfo("22 1 252:1 / / rw - ext4 /dev/vda1 rw\n", &l, &e), &e);
	assert_int_equal(l.len, 0);
	assert_int_equal(cg_choose_mode(&l, NULL), RT_CGROUP_DISABLED);
	cg_layout_release(&l);
	ok(cg_parse_mountinfo("", &l, &e), &e);
	assert_int_equal(l.len, 0);

	/* only a named hierarchy: no controller anywhere */
	ok(cg_parse_mountinfo("25 24 0:22 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n", &l, &e), &e);
	assert_int_equal(cg_choose_mode(&l, NULL), RT_CGROUP_DISABLED);
	cg_layout_release(&l);
}

static void test_mountinfo_escapes_shadow_dups(void **state)
{
	struct cg_layout l = {0};
	struct skiff_err *e = NULL;

	ok(cg_parse_mountinfo(
		   /* a cgroup2 hidden by a tmpfs mounted over it later */
		   "29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
		   "30 29 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
		   "31 30 0:28 / /sys/fs/cgroup/my\\040memory rw - cgroup cgroup rw,memory\n"
		   /* the same hierarchy bind-mounted again: first wins */
		   "32 22 0:28 / /other/memory rw - cgroup cgroup rw,memory\n",
		   &l, &e),
	   &e);
	assert_int_equal(l.len, 1);
	assert_false(l.v[0].v2);
	assert_string_equal(l.v[0].mountpoint, "/sys/fs/cgroup/my memory");
	cg_layout_release(&l);
}

static void test_mountinfo_hostile(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"22 1 252:1 / / rw - ext4 /dev/vda1 rw\ngarbage\n", "mountinfo line 2"},
		{"22 1 252:1 / / rw shared:1 ext4 /dev/vda1 rw\n", "mountinfo line 1"},
		{"22 1 252:1 / / rw - cgroup cgroup\n", "mountinfo line 1: fields missing"},
		{"22 1 0:1 / relative rw - cgroup cgroup rw,memory\n", "mount point is not absolute"},
		{"22 1 0:1 x /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", "mount root is not absolute"},
		{"1 2 3 4 5 6 7 8 9\n", "mountinfo line 1"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cg_layout l = {0};
		struct skiff_err *e = NULL;
		check_err(cg_parse_mountinfo(cases[i].text, &l, &e), &e, EINVAL, cases[i].want);
		assert_int_equal(l.len, 0);
		assert_null(l.v);
	}
}

/* ---- /proc/self/cgroup ---- */

static void test_proc_cgroup(void **state)
{
	struct cg_self s = {0};
	struct skiff_err *e = NULL;

	ok(cg_parse_proc_cgroup("9:name=systemd:/\n8:pids:/\n4:memory:/process_api/192c92d8\n"
				"2:cpuacct,cpu:/a:b\n0::/user.slice/x.scope\n",
				&s, &e),
	   &e);
	assert_int_equal(s.len, 5);
	assert_string_equal(cg_self_lookup(&s, "memory", false), "/process_api/192c92d8");
	assert_string_equal(cg_self_lookup(&s, "cpu,cpuacct", false), "/a:b");
	assert_string_equal(cg_self_lookup(&s, "name=systemd", false), "/");
	assert_string_equal(cg_self_lookup(&s, "", true), "/user.slice/x.scope");
	assert_null(cg_self_lookup(&s, "freezer", false));
	cg_self_release(&s);

	static const char *const bad[] = {
		"garbage\n", "1:memory\n", "x:memory:/a\n", "1:memory:relative\n", ":memory:/a\n", "99999999999:m:/\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		check_err(cg_parse_proc_cgroup(bad[i], &s, &e), &e, EINVAL, "/proc/self/cgroup line 1");
		assert_int_equal(s.len, 0);
	}
	check_err(cg_parse_proc_cgroup("0::/\nnope\n", &s, &e), &e, EINVAL, "line 2");
	assert_int_equal(s.len, 0);
}

/* ---- cgroupsPath ---- */

static void norm_is(const char *in, const char *id, bool rootless, const char *want)
{
	char *got = NULL;
	struct skiff_err *e = NULL;
	ok(cg_normalize_path(in, id, rootless, &got, &e), &e);
	assert_string_equal(got, want);
	free(got);
}

static void norm_fails(const char *in, const char *id, const char *want)
{
	char *got = NULL;
	struct skiff_err *e = NULL;
	check_err(cg_normalize_path(in, id, false, &got, &e), &e, EINVAL, want);
	assert_null(got);
}

static void test_normalize_path(void **state)
{
	norm_is(NULL, "abc", false, "/skiff/abc");
	norm_is("", "abc", false, "/skiff/abc");
	norm_is("/a//b/./c/", NULL, false, "/a/b/c");
	norm_is("a/b", NULL, false, "a/b");
	norm_is("./a", NULL, false, "a");
	norm_is("/a:b/c", NULL, false, "/a:b/c");
	norm_is("machine.slice:libpod:abc", NULL, false, "/machine.slice/libpod-abc.scope");
	norm_is(":libpod:abc", NULL, false, "/system.slice/libpod-abc.scope");
	norm_is(":libpod:abc", NULL, true, "/user.slice/libpod-abc.scope");
	norm_is("machine.slice::abc", NULL, false, "/machine.slice/abc.scope");
	norm_is("a:b:c/d", NULL, false, "a:b:c/d"); /* not the systemd form */

	norm_fails("../x", NULL, "cgroupsPath \"../x\": \"..\" is not allowed");
	norm_fails("/a/../b", NULL, "\"/a/../b\": \"..\"");
	norm_fails("a/..", NULL, "\"..\" is not allowed");
	norm_fails("/", NULL, "names the root cgroup");
	norm_fails("//./", NULL, "names the root cgroup");
	norm_fails(".", NULL, "names the root cgroup");
	norm_fails("/a\nb", NULL, "cgroupsPath \"/a?b\": control character");
	norm_fails("slice:prefix:", NULL, "expected \"slice:prefix:name\"");
	norm_fails("..:p:n", NULL, "expected \"slice:prefix:name\"");
	norm_fails("s:p:..", NULL, "expected \"slice:prefix:name\"");
	norm_fails(NULL, "../evil", "container id \"../evil\"");
	norm_fails(NULL, "a/b", "container id \"a/b\"");
	norm_fails(NULL, NULL, "no container id");
	char *longp = xmalloc(5000);
	memset(longp, 'a', 4999);
	longp[0] = '/';
	longp[4999] = '\0';
	norm_fails(longp, NULL, "longer than 4096");
	free(longp);
}

/* ---- conversions ---- */

static void test_conversions(void **state)
{
	assert_int_equal(cg_shares_to_weight(0), 0);
	assert_int_equal(cg_shares_to_weight(1), 1);
	assert_int_equal(cg_shares_to_weight(2), 1);
	assert_int_equal(cg_shares_to_weight(1024), 39);
	assert_int_equal(cg_shares_to_weight(512), 20);
	assert_int_equal(cg_shares_to_weight(262144), 10000);
	assert_int_equal(cg_shares_to_weight(1000000), 10000);

	static const struct {
		bool hq;
		int64_t q;
		bool hp;
		uint64_t p;
		const char *cur, *want;
	} cases[] = {
		{true, 50000, true, 100000, NULL, "50000 100000"},
		{true, -1, true, 100000, NULL, "max 100000"},
		{true, 50000, false, 0, NULL, "50000"},
		{true, -1, false, 0, NULL, "max"},
		{false, 0, true, 20000, "30000 100000\n", "30000 20000"},
		{false, 0, true, 20000, "max 100000\n", "max 20000"},
		{false, 0, true, 20000, NULL, "max 20000"},
		{false, 0, true, 20000, "garbage", "max 20000"},
		{true, 0, true, 0, NULL, NULL},
		{false, 0, false, 0, NULL, NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = cg_v2_cpu_max(cases[i].hq, cases[i].q, cases[i].hp, cases[i].p, cases[i].cur);
		if (!cases[i].want)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].want);
		free(got);
	}
}

static void test_device_rules(void **state)
{
	struct skiff_err *e = NULL;
	char *s = NULL;
	struct spec_rt_device_rule r = {.allow = true,
					.type = (char *)"c",
					.has_major = true,
					.major = 1,
					.has_minor = true,
					.minor = 3,
					.access = (char *)"rwm"};

	ok(cg_v1_device_rule(&r, &s, &e), &e);
	assert_string_equal(s, "c 1:3 rwm");
	free(s);
	r = (struct spec_rt_device_rule){.allow = false};
	ok(cg_v1_device_rule(&r, &s, &e), &e);
	assert_string_equal(s, "a *:* rwm");
	free(s);
	r = (struct spec_rt_device_rule){.type = (char *)"b",
					 .has_major = true,
					 .major = 8,
					 .has_minor = true,
					 .minor = -1,
					 .access = (char *)"r"};
	ok(cg_v1_device_rule(&r, &s, &e), &e);
	assert_string_equal(s, "b 8:* r");
	free(s);

	s = NULL;
	r = (struct spec_rt_device_rule){.type = (char *)"x"};
	check_err(cg_v1_device_rule(&r, &s, &e), &e, EINVAL, "type \"x\"");
	r = (struct spec_rt_device_rule){.type = (char *)"c\n"};
	check_err(cg_v1_device_rule(&r, &s, &e), &e, EINVAL, "type \"c?\"");
	r = (struct spec_rt_device_rule){.access = (char *)"rwx"};
	check_err(cg_v1_device_rule(&r, &s, &e), &e, EINVAL, "access \"rwx\"");
	r = (struct spec_rt_device_rule){.access = (char *)""};
	check_err(cg_v1_device_rule(&r, &s, &e), &e, EINVAL, "access \"\"");
	r = (struct spec_rt_device_rule){.has_major = true, .major = -7};
	check_err(cg_v1_device_rule(&r, &s, &e), &e, EINVAL, "negative device number");
	assert_null(s);
}

static void test_validate_resources(void **state)
{
	struct skiff_err *e = NULL;
	struct spec_rt_memory m = {.has_limit = true, .limit = 1 << 20, .has_swap = true, .swap = 1 << 19};
	struct spec_rt_cpu c = {0};
	struct spec_rt_resources r = {.memory = &m};

	check_err(cg_validate_resources(&r, &e), &e, EINVAL, "memory.swap (524288) is lower than memory.limit");
	m.swap = -1;
	ok(cg_validate_resources(&r, &e), &e);
	m.limit = -5;
	check_err(cg_validate_resources(&r, &e), &e, EINVAL, "negative value");
	r.memory = NULL;
	r.cpu = &c;
	c.cpus = (char *)"0-3,5";
	ok(cg_validate_resources(&r, &e), &e);
	c.cpus = (char *)"0\nmemory.max";
	check_err(cg_validate_resources(&r, &e), &e, EINVAL, "cpu.cpus \"0?memory.max\"");
	c.cpus = NULL;
	c.mems = (char *)"all";
	check_err(cg_validate_resources(&r, &e), &e, EINVAL, "cpu.mems \"all\"");
	ok(cg_validate_resources(NULL, &e), &e);

	/* the warning flags */
	struct strv flags = STRV_INIT;
	m = (struct spec_rt_memory){.has_limit = true, .limit = 1 << 20};
	r = (struct spec_rt_resources){.memory = &m, .has_pids = true, .pids_limit = 10};
	cg_requested_flags(&r, &flags);
	assert_int_equal(flags.len, 2);
	assert_string_equal(flags.v[0], "--memory");
	assert_string_equal(flags.v[1], "--pids-limit");
	strv_release(&flags);
	assert_true(cg_needs_controller(&r, "memory"));
	assert_false(cg_needs_controller(&r, "cpu"));
	assert_true(cg_needs_any(&r, "cpu,pids"));
	assert_false(cg_needs_any(&r, "name=systemd"));
}

/* ---- a fake v1 cgroupfs ---- */

struct fake {
	char *t;
	char *mountinfo;
};

static const char *const v1_hiers[] = {"memory", "cpu,cpuacct", "cpuset", "pids", "devices", "freezer", "systemd"};

static void fake_v1_leaf(const char *t, const char *path)
{
	static const char *const files[][6] = {
		{"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes",
		 "memory.usage_in_bytes", "memory.oom_control", NULL},
		{"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpuacct.usage", NULL},
		{"cpuset.cpus", "cpuset.mems", NULL},
		{"pids.max", "pids.current", NULL},
		{"devices.allow", "devices.deny", NULL},
		{"freezer.state", NULL},
		{NULL},
	};
	for (size_t h = 0; h < ARRAY_SIZE(v1_hiers); h++) {
		cleanup_free char *dir = xasprintf("%s/%s%s", t, v1_hiers[h], path);
		mkdirs(dir);
		putf("", "%s/cgroup.procs", dir);
		for (size_t k = 0; files[h][k]; k++)
			putf("", "%s/%s", dir, files[h][k]);
	}
}

static void fake_v1(struct fake *f, const char *leaf)
{
	struct strbuf mi = STRBUF_INIT;
	f->t = tmpdir();
	strbuf_addf(&mi, "22 1 252:1 / / rw - ext4 /dev/vda1 rw\n");
	for (size_t h = 0; h < ARRAY_SIZE(v1_hiers); h++)
		strbuf_addf(&mi, "%zu 31 0:%zu / %s/%s rw,relatime - cgroup cgroup rw,%s\n", 32 + h, 29 + h, f->t,
			    v1_hiers[h], !strcmp(v1_hiers[h], "systemd") ? "name=systemd" : v1_hiers[h]);
	f->mountinfo = strbuf_detach(&mi, NULL);
	fake_v1_leaf(f->t, leaf);
	/* intermediate cpuset levels start empty, the root has the host's */
	putf("0-3\n", "%s/cpuset/cpuset.cpus", f->t);
	putf("0\n", "%s/cpuset/cpuset.mems", f->t);
	cleanup_free char *mid = xstrdup(leaf);
	for (char *slash = strrchr(mid, '/'); slash && slash != mid; slash = strrchr(mid, '/')) {
		*slash = '\0';
		putf("", "%s/cpuset%s/cpuset.cpus", f->t, mid);
		putf("", "%s/cpuset%s/cpuset.mems", f->t, mid);
	}
}

static void fake_release(struct fake *f)
{
	rmtree(f->t);
	free(f->t);
	free(f->mountinfo);
}

static void test_v1_fake(void **state)
{
	struct fake f;
	struct skiff_err *e = NULL;
	struct strv w = STRV_INIT;
	struct rt_cgroup *cg = NULL;
	struct spec_rt_memory mem = {.has_limit = true,
				     .limit = 64 << 20,
				     .has_swap = true,
				     .swap = 128 << 20,
				     .has_reservation = true,
				     .reservation = 32 << 20};
	struct spec_rt_cpu cpu = {.has_shares = true,
				  .shares = 512,
				  .has_quota = true,
				  .quota = 50000,
				  .has_period = true,
				  .period = 100000,
				  .cpus = (char *)"1"};
	struct spec_rt_device_rule devs[] = {{.allow = false, .access = (char *)"rwm"},
					     {.allow = true,
					      .type = (char *)"c",
					      .has_major = true,
					      .major = 1,
					      .has_minor = true,
					      .minor = 3,
					      .access = (char *)"rwm"}};
	struct spec_rt_resources res = {
		.memory = &mem, .cpu = &cpu, .has_pids = true, .pids_limit = 100, .devices = devs, .n_devices = 2};

	fake_v1(&f, "/skiff/t1");
	struct rt_cgroup_config cfg = {.id = "t1", .resources = &res, .test_mountinfo = f.mountinfo};
	ok(rt_cgroup_open(&cfg, &cg, &w, &e), &e);
	assert_int_equal(rt_cgroup_mode(cg), RT_CGROUP_V1);
	assert_int_equal(w.len, 0);
	assert_int_equal(cg->n_dirs, ARRAY_SIZE(v1_hiers));

	pid_t child = spawn_sleeper();
	ok(rt_cgroup_enter(cg, child, &w, &e), &e);
	assert_int_equal(w.len, 0);
	const char *t = f.t;
	assert_file("67108864", "%s/memory/skiff/t1/memory.limit_in_bytes", t);
	assert_file("134217728", "%s/memory/skiff/t1/memory.memsw.limit_in_bytes", t);
	assert_file("33554432", "%s/memory/skiff/t1/memory.soft_limit_in_bytes", t);
	assert_file("512", "%s/cpu,cpuacct/skiff/t1/cpu.shares", t);
	assert_file("100000", "%s/cpu,cpuacct/skiff/t1/cpu.cfs_period_us", t);
	assert_file("50000", "%s/cpu,cpuacct/skiff/t1/cpu.cfs_quota_us", t);
	assert_file("0-3", "%s/cpuset/skiff/cpuset.cpus", t); /* copied from the parent */
	assert_file("0", "%s/cpuset/skiff/cpuset.mems", t);
	assert_file("1", "%s/cpuset/skiff/t1/cpuset.cpus", t); /* then the requested value */
	assert_file("0", "%s/cpuset/skiff/t1/cpuset.mems", t);
	assert_file("100", "%s/pids/skiff/t1/pids.max", t);
	assert_file("a *:* rwm", "%s/devices/skiff/t1/devices.deny", t);
	assert_file("c 1:3 rwm", "%s/devices/skiff/t1/devices.allow", t);
	cleanup_free char *pidstr = xasprintf("%d", (int)child);
	for (size_t h = 0; h < ARRAY_SIZE(v1_hiers); h++)
		assert_file(pidstr, "%s/%s/skiff/t1/cgroup.procs", t, v1_hiers[h]);

	/* update */
	struct spec_rt_memory mem2 = {.has_limit = true, .limit = -1};
	struct spec_rt_resources res2 = {.memory = &mem2, .has_pids = true, .pids_limit = 0};
	ok(rt_cgroup_update(cg, &res2, &e), &e);
	assert_file("-1", "%s/memory/skiff/t1/memory.limit_in_bytes", t);
	assert_file("max", "%s/pids/skiff/t1/pids.max", t);
	struct spec_rt_cpu bad = {.cpus = (char *)"1;rm"};
	struct spec_rt_resources res3 = {.cpu = &bad};
	check_err(rt_cgroup_update(cg, &res3, &e), &e, EINVAL, "cpu.cpus \"1;rm\"");

	/* stats and oom */
	struct rt_cgroup_stats st;
	putf("1000\n", "%s/memory/skiff/t1/memory.usage_in_bytes", t);
	putf("9223372036854771712\n", "%s/memory/skiff/t1/memory.limit_in_bytes", t);
	putf("123456789\n", "%s/cpu,cpuacct/skiff/t1/cpuacct.usage", t);
	putf("3\n", "%s/pids/skiff/t1/pids.current", t);
	ok(rt_cgroup_stats(cg, &st, &e), &e);
	assert_int_equal(st.mem_usage, 1000);
	assert_true(st.mem_limit == UINT64_MAX);
	assert_int_equal(st.cpu_usage_ns, 123456789);
	assert_int_equal(st.pids_current, 3);
	putf("12abc\n", "%s/pids/skiff/t1/pids.current", t);
	check_err(rt_cgroup_stats(cg, &st, &e), &e, EINVAL, "pids.current: not a number");

	bool oom = true;
	putf("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n", "%s/memory/skiff/t1/memory.oom_control", t);
	ok(rt_cgroup_oom_killed(cg, &oom, &e), &e);
	assert_false(oom);
	putf("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n", "%s/memory/skiff/t1/memory.oom_control", t);
	ok(rt_cgroup_oom_killed(cg, &oom, &e), &e);
	assert_true(oom);
	putf("oom_kill x\n", "%s/memory/skiff/t1/memory.oom_control", t);
	check_err(rt_cgroup_oom_killed(cg, &oom, &e), &e, EINVAL, "bad value for oom_kill");

	/* freeze (a plain file reads back at once) */
	ok(rt_cgroup_freeze(cg, true, &e), &e);
	assert_file("FROZEN", "%s/freezer/skiff/t1/freezer.state", t);
	ok(rt_cgroup_freeze(cg, false, &e), &e);
	assert_file("THAWED", "%s/freezer/skiff/t1/freezer.state", t);

	/* pids, with a sub-cgroup; hostile cgroup.procs */
	pid_t *pids = NULL;
	size_t n = 0;
	mkdirsf("%s/pids/skiff/t1/sub", t);
	putf("789\n", "%s/pids/skiff/t1/sub/cgroup.procs", t);
	ok(rt_cgroup_pids(cg, &pids, &n, &e), &e);
	assert_int_equal(n, 2);
	assert_int_equal(pids[0], child);
	assert_int_equal(pids[1], 789);
	free(pids);
	putf("12x\n", "%s/pids/skiff/t1/sub/cgroup.procs", t);
	pids = NULL;
	check_err(rt_cgroup_pids(cg, &pids, &n, &e), &e, EINVAL, "sub/cgroup.procs line 1: not a pid");
	assert_null(pids);
	putf("", "%s/pids/skiff/t1/sub/cgroup.procs", t);

	/* serialise, reopen, kill everything through the reopened one */
	cleanup_free char *ser = rt_cgroup_serialize(cg);
	assert_string_equal(ser, "v1:/skiff/t1");
	struct rt_cgroup *cg2 = NULL;
	ok(cg_from_serialized_with(ser, f.mountinfo, &cg2, &e), &e);
	assert_int_equal(rt_cgroup_mode(cg2), RT_CGROUP_V1);
	assert_int_equal(cg2->n_dirs, ARRAY_SIZE(v1_hiers));
	ok(rt_cgroup_kill_all(cg2, SIGKILL, &e), &e);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_file("THAWED", "%s/freezer/skiff/t1/freezer.state", t);

	/* destroy: a leftover file is not EBUSY: reported, naming the directory */
	check_err(rt_cgroup_destroy(cg2, &e), &e, ENOTEMPTY, "cgroup: remove ");
	for (size_t h = 0; h < ARRAY_SIZE(v1_hiers); h++) {
		cleanup_free char *d = xasprintf("%s/%s/skiff/t1", t, v1_hiers[h]);
		strip_files(d);
	}
	ok(rt_cgroup_destroy(cg2, &e), &e);
	for (size_t h = 0; h < ARRAY_SIZE(v1_hiers); h++) {
		assert_false(exists("%s/%s/skiff/t1", t, v1_hiers[h]));
		assert_true(exists("%s/%s/skiff", t, v1_hiers[h]));
	}
	ok(rt_cgroup_destroy(cg2, &e), &e); /* gone already: fine */

	rt_cgroup_free(cg2);
	rt_cgroup_free(cg);
	strv_release(&w);
	fake_release(&f);
}

static void test_v1_missing_file(void **state)
{
	struct fake f;
	struct skiff_err *e = NULL;
	struct strv w = STRV_INIT;
	struct rt_cgroup *cg = NULL;
	struct spec_rt_memory mem = {.has_limit = true, .limit = 1 << 20};
	struct spec_rt_resources res = {.memory = &mem};

	fake_v1(&f, "/skiff/t3");
	cleanup_free char *lim = xasprintf("%s/memory/skiff/t3/memory.limit_in_bytes", f.t);
	assert_int_equal(unlink(lim), 0);

	/* root: a requested limit that cannot be written is an error naming the file */
	struct rt_cgroup_config cfg = {.id = "t3", .resources = &res, .test_mountinfo = f.mountinfo};
	ok(rt_cgroup_open(&cfg, &cg, &w, &e), &e);
	check_err(rt_cgroup_enter(cg, getpid(), &w, &e), &e, ENOENT, "memory/skiff/t3/memory.limit_in_bytes");
	rt_cgroup_free(cg);

	/* rootless (delegated here): the same becomes a warning */
	cfg.rootless = true;
	ok(rt_cgroup_open(&cfg, &cg, &w, &e), &e);
	assert_int_equal(rt_cgroup_mode(cg), RT_CGROUP_V1);
	ok(rt_cgroup_enter(cg, getpid(), &w, &e), &e);
	assert_int_equal(w.len, 1);
	assert_non_null(strstr(w.v[0], "memory.limit_in_bytes"));
	assert_non_null(strstr(w.v[0], "ignored"));
	rt_cgroup_free(cg);
	strv_release(&w);

	/* a hierarchy without a requested limit that cannot be created is dropped (root too) */
	cleanup_free char *sd = xasprintf("%s/systemd/skiff", f.t);
	rmtree(sd);
	putf("not a directory", "%s", sd);
	cfg.rootless = false;
	ok(rt_cgroup_open(&cfg, &cg, &w, &e), &e);
	putf("", "%s", lim);
	ok(rt_cgroup_enter(cg, getpid(), &w, &e), &e);
	assert_int_equal(w.len, 1);
	assert_non_null(strstr(w.v[0], "name=systemd controller not used"));
	cleanup_free char *ser = rt_cgroup_serialize(cg);
	assert_string_equal(ser, "v1:/skiff/t3\tname=systemd:-");
	struct rt_cgroup *cg2 = NULL;
	ok(cg_from_serialized_with(ser, f.mountinfo, &cg2, &e), &e);
	assert_int_equal(cg2->n_dirs, ARRAY_SIZE(v1_hiers) - 1);
	rt_cgroup_free(cg2);
	/* ... but the memory hierarchy carries --memory: as root, an error */
	cleanup_free char *md = xasprintf("%s/memory/skiff", f.t);
	rmtree(md);
	putf("x", "%s", md);
	rt_cgroup_free(cg);
	strv_release(&w);
	ok(rt_cgroup_open(&cfg, &cg, &w, &e), &e);
	check_err(rt_cgroup_enter(cg, getpid(), &w, &e), &e, ENOTDIR, "cgroup: mkdir ");
	rt_cgroup_free(cg);
	strv_release(&w);
	fake_release(&f);
}

static void test_v1_relative(void **state)
{
	struct fake f;
	struct skiff_err *e = NULL;
	struct strv w = STRV_INIT;
	struct rt_cgroup *cg = NULL;

	fake_v1(&f, "/rel/c");
	fake_v1_leaf(f.t, "/process_api/x/rel/c");
	struct rt_cgroup_config cfg = {.id = "t4",
				       .cgroups_path = "rel/c",
				       .test_mountinfo = f.mountinfo,
				       .test_proc_cgroup =
					       "9:name=systemd:/\n8:pids:/\n6:freezer:/\n5:devices:/\n"
					       "4:memory:/process_api/x\n3:cpuset:/\n1:cpu,cpuacct:/\n0::/\n"};
	ok(rt_cgroup_open(&cfg, &cg, &w, &e), &e);
	assert_int_equal(rt_cgroup_mode(cg), RT_CGROUP_V1);
	struct cg_dir *d = cg_find_dir(cg, "memory");
	assert_string_equal(d->path, "/process_api/x/rel/c");
	d = cg_find_dir(cg, "cpu");
	assert_string_equal(d->path, "/rel/c");
	cleanup_free char *ser = rt_cgroup_serialize(cg);
	assert_string_equal(ser, "v1:/rel/c\tmemory:/process_api/x/rel/c");
	ok(rt_cgroup_enter(cg, 4242, &w, &e), &e);
	assert_int_equal(w.len, 0);
	assert_file("4242", "%s/memory/process_api/x/rel/c/cgroup.procs", f.t);
	assert_file("0-3", "%s/cpuset/rel/c/cpuset.cpus", f.t);
	assert_file("4242", "%s/pids/rel/c/cgroup.procs", f.t);

	struct rt_cgroup *cg2 = NULL;
	ok(cg_from_serialized_with(ser, f.mountinfo, &cg2, &e), &e);
	assert_string_equal(cg_find_dir(cg2, "memory")->path, "/process_api/x/rel/c");
	assert_string_equal(cg_find_dir(cg2, "pids")->path, "/rel/c");
	rt_cgroup_free(cg2);
	rt_cgroup_free(cg);

	/* a relative path with no line for a hierarchy: disabled with a reason */
	cfg.test_proc_cgroup = "0::/\n";
	ok(rt_cgroup_open(&cfg, &cg, &w, &e), &e);
	assert_int_equal(rt_cgroup_mode(cg), RT_CGROUP_DISABLED);
	assert_int_equal(w.len, 1);
	assert_non_null(strstr(w.v[0], "cannot place cgroupsPath \"rel/c\""));
	rt_cgroup_free(cg);
	strv_release(&w);
	cfg.test_proc_cgroup = "4:memory:/../../outside\n";
	ok(rt_cgroup_open(&cfg, &cg, &w, &e), &e);
	assert_int_equal(rt_cgroup_mode(cg), RT_CGROUP_DISABLED);
	rt_cgroup_free(cg);
	strv_release(&w);
	cfg.test_proc_cgroup = "garbage";
	ok(rt_cgroup_open(&cfg, &cg, &w, &e), &e);
	assert_int_equal(rt_cgroup_mode(cg), RT_CGROUP_DISABLED);
	assert_non_null(strstr(w.v[0], "/proc/self/cgroup line 1"));
	rt_cgroup_free(cg);
	strv_release(&w);
	fake_release(&f);
}

/* ---- a fake v2 cgroupfs ---- */

static void fake_v2(struct fake *f, const char *leaf)
{
	static const char *const files[] = {"cgroup.procs", "memory.max",    "memory.low",    "memory.swap.max",
					    "cpu.weight",   "cpu.max",	     "cpuset.cpus",   "cpuset.mems",
					    "pids.max",	    "cgroup.freeze", "cgroup.events", "cgroup.kill"};
	f->t = tmpdir();
	f->mountinfo = xasprintf("22 1 252:1 / / rw - ext4 /dev/vda1 rw\n"
				 "29 23 0:26 / %s/unified rw shared:4 - cgroup2 cgroup2 rw,nsdelegate\n",
				 f->t);
	cleanup_free char *dir = xasprintf("%s/unified%s", f->t, leaf);
	mkdirs(dir);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		putf("", "%s/%s", dir, files[i]);
	putf("cpuset cpu io memory pids\n", "%s/unified/cgroup.controllers", f->t);
	putf("", "%s/unified/cgroup.subtree_control", f->t);
	putf("cpuset cpu io memory pids\n", "%s/unified/skiff/cgroup.controllers", f->t);
	putf("memory", "%s/unified/skiff/cgroup.subtree_control", f->t);
}

static void test_v2_fake(void **state)
{
	struct fake f;
	struct skiff_err *e = NULL;
	struct strv w = STRV_INIT;
	struct rt_cgroup *cg = NULL;
	struct spec_rt_memory mem = {.has_limit = true,
				     .limit = 64 << 20,
				     .has_swap = true,
				     .swap = 96 << 20,
				     .has_reservation = true,
				     .reservation = 32 << 20};
	struct spec_rt_cpu cpu = {.has_shares = true,
				  .shares = 512,
				  .has_quota = true,
				  .quota = 50000,
				  .has_period = true,
				  .period = 100000,
				  .cpus = (char *)"0-1",
				  .mems = (char *)"0"};
	struct spec_rt_device_rule devs[] = {{.allow = false}};
	struct spec_rt_resources res = {
		.memory = &mem, .cpu = &cpu, .has_pids = true, .pids_limit = -1, .devices = devs, .n_devices = 1};

	fake_v2(&f, "/skiff/t2");
	const char *t = f.t;
	struct rt_cgroup_config cfg = {
		.id = "t2", .resources = &res, .manager = "systemd", .test_mountinfo = f.mountinfo};
	ok(rt_cgroup_open(&cfg, &cg, &w, &e), &e);
	assert_int_equal(rt_cgroup_mode(cg), RT_CGROUP_V2);
	assert_int_equal(w.len, 1);
	assert_non_null(strstr(w.v[0], "systemd cgroup manager is not supported; using cgroupfs"));
	ok(rt_cgroup_enter(cg, 4343, &w, &e), &e);
	assert_int_equal(w.len, 1);
	assert_file("+cpuset +cpu +io +memory +pids", "%s/unified/cgroup.subtree_control", t);
	assert_file("+cpuset +cpu +io +pids", "%s/unified/skiff/cgroup.subtree_control", t);
	assert_file("67108864", "%s/unified/skiff/t2/memory.max", t);
	assert_file("33554432", "%s/unified/skiff/t2/memory.low", t);
	assert_file("33554432", "%s/unified/skiff/t2/memory.swap.max", t);
	assert_file("20", "%s/unified/skiff/t2/cpu.weight", t);
	assert_file("50000 100000", "%s/unified/skiff/t2/cpu.max", t);
	assert_file("0-1", "%s/unified/skiff/t2/cpuset.cpus", t);
	assert_file("0", "%s/unified/skiff/t2/cpuset.mems", t);
	assert_file("max", "%s/unified/skiff/t2/pids.max", t);
	assert_file("4343", "%s/unified/skiff/t2/cgroup.procs", t);

	/* update: a period alone keeps the quota; swap -1 is max */
	struct spec_rt_cpu cpu2 = {.has_period = true, .period = 20000};
	struct spec_rt_memory mem2 = {.has_swap = true, .swap = -1};
	struct spec_rt_resources res2 = {.cpu = &cpu2, .memory = &mem2};
	ok(rt_cgroup_update(cg, &res2, &e), &e);
	assert_file("50000 20000", "%s/unified/skiff/t2/cpu.max", t);
	assert_file("max", "%s/unified/skiff/t2/memory.swap.max", t);
	cleanup_free char *wfile = xasprintf("%s/unified/skiff/t2/cpu.weight", t);
	assert_int_equal(unlink(wfile), 0);
	struct spec_rt_cpu cpu3 = {.has_shares = true, .shares = 2};
	struct spec_rt_resources res3 = {.cpu = &cpu3};
	check_err(rt_cgroup_update(cg, &res3, &e), &e, ENOENT, "write \"1\" to ");

	/* freeze: waits for cgroup.events; bounded */
	putf("populated 1\nfrozen 1\n", "%s/unified/skiff/t2/cgroup.events", t);
	ok(rt_cgroup_freeze(cg, true, &e), &e);
	assert_file("1", "%s/unified/skiff/t2/cgroup.freeze", t);
	cg->timeout_ms = 30;
	check_err(rt_cgroup_freeze(cg, false, &e), &e, ETIMEDOUT, "cgroup.events: not thawed after 30 ms");
	putf("populated 1\nfrozen 0\n", "%s/unified/skiff/t2/cgroup.events", t);
	check_err(rt_cgroup_freeze(cg, true, &e), &e, ETIMEDOUT, "not frozen");
	assert_file("0", "%s/unified/skiff/t2/cgroup.freeze", t); /* not left half-frozen */
	ok(rt_cgroup_freeze(cg, false, &e), &e);

	/* kill: SIGKILL through cgroup.kill */
	ok(rt_cgroup_kill_all(cg, SIGKILL, &e), &e);
	assert_file("1", "%s/unified/skiff/t2/cgroup.kill", t);

	/* oom and stats */
	bool oom = false;
	cleanup_free char *events = xasprintf("%s/unified/skiff/t2/memory.events", t);
	check_err(rt_cgroup_oom_killed(cg, &oom, &e), &e, ENOTSUP, "no memory controller");
	putf("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n", "%s", events);
	ok(rt_cgroup_oom_killed(cg, &oom, &e), &e);
	assert_true(oom);
	struct rt_cgroup_stats st;
	putf("4096\n", "%s/unified/skiff/t2/memory.current", t);
	putf("max\n", "%s/unified/skiff/t2/memory.max", t);
	putf("usage_usec 5\nuser_usec 3\nsystem_usec 2\n", "%s/unified/skiff/t2/cpu.stat", t);
	ok(rt_cgroup_stats(cg, &st, &e), &e);
	assert_int_equal(st.mem_usage, 4096);
	assert_true(st.mem_limit == UINT64_MAX);
	assert_int_equal(st.cpu_usage_ns, 5000);
	assert_int_equal(st.pids_current, 0); /* no pids.current */

	/* serialise, reopen, destroy */
	cleanup_free char *ser = rt_cgroup_serialize(cg);
	assert_string_equal(ser, "v2:/skiff/t2");
	struct rt_cgroup *cg2 = NULL;
	ok(cg_from_serialized_with(ser, f.mountinfo, &cg2, &e), &e);
	assert_int_equal(rt_cgroup_mode(cg2), RT_CGROUP_V2);
	pid_t *pids = NULL;
	size_t n = 0;
	ok(rt_cgroup_pids(cg2, &pids, &n, &e), &e);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], 4343);
	free(pids);
	cleanup_free char *leaf = xasprintf("%s/unified/skiff/t2", t);
	strip_files(leaf);
	mkdirsf("%s/nested/deeper", leaf);
	ok(rt_cgroup_destroy(cg2, &e), &e);
	assert_false(exists("%s", leaf));
	assert_true(exists("%s/unified/skiff", t));

	rt_cgroup_free(cg2);
	rt_cgroup_free(cg);
	strv_release(&w);
	fake_release(&f);
}

/* ---- disabled, bad config, serialised hostile text ---- */

static void test_disabled(void **state)
{
	struct skiff_err *e = NULL;
	struct strv w = STRV_INIT;
	struct rt_cgroup *cg = NULL;
	struct spec_rt_memory mem = {.has_limit = true, .limit = 1 << 20};
	struct spec_rt_resources res = {.memory = &mem, .has_pids = true, .pids_limit = 5};

	struct rt_cgroup_config cfg = {.id = "d", .resources = &res, .manager = "disabled"};
	ok(rt_cgroup_open(&cfg, &cg, &w, &e), &e);
	assert_int_equal(rt_cgroup_mode(cg), RT_CGROUP_DISABLED);
	assert_int_equal(w.len, 1);
	assert_non_null(strstr(w.v[0], "(--memory, --pids-limit ignored)"));
	ok(rt_cgroup_enter(cg, getpid(), &w, &e), &e);
	check_err(rt_cgroup_freeze(cg, true, &e), &e, ENOTSUP, "without a cgroup");
	pid_t *pids = NULL;
	size_t n = 0;
	check_err(rt_cgroup_pids(cg, &pids, &n, &e), &e, ENOTSUP, "without a cgroup");
	check_err(rt_cgroup_kill_all(cg, SIGTERM, &e), &e, ENOTSUP, "without a cgroup");
	check_err(rt_cgroup_update(cg, &res, &e), &e, ENOTSUP, "cannot apply --memory, --pids-limit");
	struct spec_rt_resources none = {0};
	ok(rt_cgroup_update(cg, &none, &e), &e);
	ok(rt_cgroup_destroy(cg, &e), &e);
	cleanup_free char *ser = rt_cgroup_serialize(cg);
	assert_string_equal(ser, "disabled");
	rt_cgroup_free(cg);
	strv_release(&w);

	/* no cgroup mounted */
	cfg.manager = NULL;
	cfg.test_mountinfo = "22 1 252:1 / / rw - ext4 /dev/vda1 rw\n";
	ok(rt_cgroup_open(&cfg, &cg, &w, &e), &e);
	assert_int_equal(rt_cgroup_mode(cg), RT_CGROUP_DISABLED);
	assert_string_equal(w.v[0], "cgroups: no cgroup hierarchy is mounted; running without resource limits "
				    "(--memory, --pids-limit ignored)");
	rt_cgroup_free(cg);
	strv_release(&w);
	/* unreadable mount table: still not a failure */
	cfg.test_mountinfo = "garbage\n";
	ok(rt_cgroup_open(&cfg, &cg, NULL, &e), &e);
	assert_int_equal(rt_cgroup_mode(cg), RT_CGROUP_DISABLED);
	rt_cgroup_free(cg);

	/* bad config: EINVAL, *ret untouched */
	cg = NULL;
	cfg.manager = "bogus\n";
	check_err(rt_cgroup_open(&cfg, &cg, &w, &e), &e, EINVAL, "unknown cgroup manager \"bogus?\"");
	cfg.manager = NULL;
	cfg.cgroups_path = "/skiff/../../etc";
	check_err(rt_cgroup_open(&cfg, &cg, &w, &e), &e, EINVAL, "\"..\" is not allowed");
	cfg.cgroups_path = NULL;
	mem.has_swap = true;
	mem.swap = 10;
	check_err(rt_cgroup_open(&cfg, &cg, &w, &e), &e, EINVAL, "memory.swap (10)");
	assert_null(cg);
	assert_int_equal(w.len, 0);
	check_err(rt_cgroup_enter(&(struct rt_cgroup){.ops = &cg_ops_disabled}, 0, &w, &e), &e, EINVAL, "bad pid");
}

static void test_serialized_hostile(void **state)
{
	static const char *const bad[] = {
		"",
		"v3:/x",
		"v1:",
		"v1:relative",
		"v1:/a/../b",
		"v1:/a\tmemory",
		"v2:/a\tmemory:/b",
		"v1:/a\t:/b",
		"v1:/a\tmemory:rel",
		"v1:/a\nb",
		"disabled\n",
		"v2",
	};
	const char *mi = "29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct rt_cgroup *cg = NULL;
		struct skiff_err *e = NULL;
		check_err(cg_from_serialized_with(bad[i], mi, &cg, &e), &e, EINVAL, "bad serialized state");
		assert_null(cg);
	}
	struct rt_cgroup *cg = NULL;
	struct skiff_err *e = NULL;
	check_err(cg_from_serialized_with(NULL, mi, &cg, &e), &e, EINVAL, "no serialized state");
	check_err(cg_from_serialized_with("v1:/skiff/x", mi, &cg, &e), &e, ENOENT, "no cgroup v1 hierarchy");
	check_err(cg_from_serialized_with("v2:/skiff/x", "garbage", &cg, &e), &e, EINVAL, "mountinfo line 1");
	assert_null(cg);
	ok(cg_from_serialized_with("disabled", mi, &cg, &e), &e);
	assert_int_equal(rt_cgroup_mode(cg), RT_CGROUP_DISABLED);
	rt_cgroup_free(cg);
	ok(cg_from_serialized_with("v2:/skiff/x", mi, &cg, &e), &e);
	assert_string_equal(cg->dirs[0].dir, "/sys/fs/cgroup/skiff/x");
	rt_cgroup_free(cg);
}

/* ---- rootless without delegation ---- */

static int rootless_child(const char *mountinfo)
{
	struct skiff_err *e = NULL;
	struct strv w = STRV_INIT;
	struct rt_cgroup *cg = NULL;
	struct spec_rt_memory mem = {.has_limit = true, .limit = 1 << 20};
	struct spec_rt_resources res = {.memory = &mem};
	struct rt_cgroup_config cfg = {
		.id = "nodeleg", .resources = &res, .rootless = true, .test_mountinfo = mountinfo};

	if (rt_cgroup_open(&cfg, &cg, &w, &e) < 0)
		return 2;
	if (rt_cgroup_mode(cg) != RT_CGROUP_DISABLED || w.len != 1)
		return 3;
	if (strcmp(w.v[0], "cgroups: no delegated cgroup for rootless; running without resource limits "
			   "(--memory ignored)"))
		return 4;
	rt_cgroup_free(cg);
	strv_release(&w);
	return 0;
}

static void test_rootless_not_delegated(void **state)
{
	struct fake f;
	int status;

	f.t = tmpdir();
	assert_int_equal(chmod(f.t, 0755), 0);
	f.mountinfo = xasprintf("29 23 0:26 / %s/unified rw - cgroup2 cgroup2 rw\n", f.t);
	mkdirsf("%s/unified", f.t);
	putf("memory pids\n", "%s/unified/cgroup.controllers", f.t);
	cleanup_free char *u = xasprintf("%s/unified", f.t);
	assert_int_equal(chmod(u, 0555), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && setresuid(65534, 65534, 65534) < 0)
			_exit(10);
		_exit(rootless_child(f.mountinfo));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(chmod(u, 0755), 0);
	fake_release(&f);
}

/* ---- a real cgroup (root only) ---- */

static void test_real_cgroup(void **state)
{
	struct skiff_err *e = NULL;
	struct strv w = STRV_INIT;
	struct rt_cgroup *cg = NULL;
	struct spec_rt_memory mem = {.has_limit = true, .limit = 64 << 20};
	struct spec_rt_resources res = {.memory = &mem, .has_pids = true, .pids_limit = 50};

	if (geteuid() != 0) {
		print_message("skipped: needs root to create a real cgroup\n");
		skip();
	}
	cleanup_free char *path = xasprintf("/skiff-unit-test-%d", (int)getpid());
	struct rt_cgroup_config cfg = {.id = "x", .cgroups_path = path, .resources = &res};
	ok(rt_cgroup_open(&cfg, &cg, &w, &e), &e);
	if (rt_cgroup_mode(cg) == RT_CGROUP_DISABLED) {
		print_message("skipped: no usable cgroups here: %s\n", w.len ? w.v[0] : "?");
		rt_cgroup_free(cg);
		strv_release(&w);
		skip();
	}
	struct cg_dir *md = cg_find_dir(cg, "memory");
	if (rt_cgroup_mode(cg) == RT_CGROUP_V2)
		md = &cg->dirs[0];
	if (!md || faccessat(AT_FDCWD, md->mountpoint, W_OK, AT_EACCESS) < 0) {
		print_message("skipped: the memory cgroup hierarchy is not writable\n");
		rt_cgroup_free(cg);
		strv_release(&w);
		skip();
	}

	pid_t child = spawn_sleeper();
	if (rt_cgroup_enter(cg, child, &w, &e) < 0) {
		print_error("enter: %s\n", e->msg);
		err_clear(&e);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		rt_cgroup_destroy(cg, NULL);
		rt_cgroup_free(cg);
		fail();
	}
	for (size_t i = 0; i < w.len; i++)
		print_message("warning: %s\n", w.v[i]);
	if (rt_cgroup_mode(cg) == RT_CGROUP_V1)
		assert_file("67108864\n", "%s/memory.limit_in_bytes", md->dir);
	else
		assert_file("67108864\n", "%s/memory.max", md->dir);

	pid_t *pids = NULL;
	size_t n = 0;
	ok(rt_cgroup_pids(cg, &pids, &n, &e), &e);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], child);
	free(pids);

	/* raise limit and swap above the present memsw (v1 must write memsw first), then lower */
	bool has_swap = rt_cgroup_mode(cg) == RT_CGROUP_V1 ? exists("%s/memory.memsw.limit_in_bytes", md->dir)
							   : exists("%s/memory.swap.max", md->dir);
	if (has_swap) {
		struct spec_rt_memory m2 = {.has_limit = true, .limit = 256 << 20, .has_swap = true, .swap = 512 << 20};
		struct spec_rt_resources r2 = {.memory = &m2};
		ok(rt_cgroup_update(cg, &r2, &e), &e);
		if (rt_cgroup_mode(cg) == RT_CGROUP_V1) {
			assert_file("268435456\n", "%s/memory.limit_in_bytes", md->dir);
			assert_file("536870912\n", "%s/memory.memsw.limit_in_bytes", md->dir);
		} else {
			assert_file("268435456\n", "%s/memory.swap.max", md->dir);
		}
		/* 1 GiB > the present memsw (512 MiB): EINVAL, then memsw first */
		m2.limit = 1 << 30;
		m2.swap = 2LL << 30;
		ok(rt_cgroup_update(cg, &r2, &e), &e);
		if (rt_cgroup_mode(cg) == RT_CGROUP_V1) {
			assert_file("1073741824\n", "%s/memory.limit_in_bytes", md->dir);
			assert_file("2147483648\n", "%s/memory.memsw.limit_in_bytes", md->dir);
		}
		m2.limit = 64 << 20;
		m2.swap = 96 << 20;
		ok(rt_cgroup_update(cg, &r2, &e), &e);
		if (rt_cgroup_mode(cg) == RT_CGROUP_V1)
			assert_file("100663296\n", "%s/memory.memsw.limit_in_bytes", md->dir);
	} else {
		print_message("no swap accounting: memsw update not tested\n");
	}

	struct rt_cgroup_stats st;
	ok(rt_cgroup_stats(cg, &st, &e), &e);
	assert_int_equal(st.mem_limit, 64 << 20);
	assert_int_equal(st.pids_current, 1);
	bool oom = true;
	ok(rt_cgroup_oom_killed(cg, &oom, &e), &e);
	assert_false(oom);

	if (rt_cgroup_freeze(cg, true, &e) == 0) {
		ok(rt_cgroup_freeze(cg, false, &e), &e);
	} else {
		print_message("freeze: %s\n", e->msg);
		assert_int_equal(e->status, ENOTSUP);
		err_clear(&e);
	}

	cleanup_free char *ser = rt_cgroup_serialize(cg);
	struct rt_cgroup *cg2 = NULL;
	ok(rt_cgroup_from_serialized(ser, &cg2, &e), &e);
	ok(rt_cgroup_kill_all(cg2, SIGKILL, &e), &e);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ok(rt_cgroup_destroy(cg2, &e), &e);
	assert_false(exists("%s", md->dir));
	rt_cgroup_free(cg2);
	rt_cgroup_free(cg);
	strv_release(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mountinfo_hybrid),
		cmocka_unit_test(test_mountinfo_v2_v1_none),
		cmocka_unit_test(test_mountinfo_escapes_shadow_dups),
		cmocka_unit_test(test_mountinfo_hostile),
		cmocka_unit_test(test_proc_cgroup),
		cmocka_unit_test(test_normalize_path),
		cmocka_unit_test(test_conversions),
		cmocka_unit_test(test_device_rules),
		cmocka_unit_test(test_validate_resources),
		cmocka_unit_test(test_v1_fake),
		cmocka_unit_test(test_v1_missing_file),
		cmocka_unit_test(test_v1_relative),
		cmocka_unit_test(test_v2_fake),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_serialized_hostile),
		cmocka_unit_test(test_rootless_not_delegated),
		cmocka_unit_test(test_real_cgroup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
