/* Unit tests for pkg/engine/stats: the parsers of cgroup and /proc files, sampling a fake
 * /proc and /sys/fs/cgroup in a temp dir (v1, v2, no cgroup), the display values, Go's
 * duration format; hostile content: garbage, missing files, huge numbers. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/engine/stats.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

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

/* ---- parsers ---- */

static void test_parse_u64(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	uint64_t v = 7;
	ok(stats_parse_u64("12345\n", "f", &v, &e), &e);
	assert_int_equal(v, 12345);
	ok(stats_parse_u64("max\n", "f", &v, &e), &e);
	assert_true(v == UINT64_MAX);
	ok(stats_parse_u64("18446744073709551615", "f", &v, &e), &e);
	assert_true(v == UINT64_MAX);
	v = 7;
	check_err(stats_parse_u64("18446744073709551616\n", "memory.current", &v, &e), &e, ERANGE,
		  "memory.current: number out of range");
	check_err(stats_parse_u64("", "pids.current", &v, &e), &e, EINVAL, "pids.current: not a number");
	check_err(stats_parse_u64("-1\n", "x", &v, &e), &e, EINVAL, "not a number");
	check_err(stats_parse_u64("12abc", "x", &v, &e), &e, EINVAL, "\"12abc\"");
	check_err(stats_parse_u64("12 13", "x", &v, &e), &e, EINVAL, "not a number");
	check_err(stats_parse_u64("maxi", "x", &v, &e), &e, EINVAL, "not a number");
	assert_int_equal(v, 7); /* untouched on errors */
}

static void test_parse_key(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	uint64_t v = 0;
	const char *cpu = "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n";
	ok(stats_parse_key(cpu, "usage_usec", "cpu.stat", &v, &e), &e);
	assert_int_equal(v, 1500);
	ok(stats_parse_key(cpu, "system_usec", "cpu.stat", &v, &e), &e);
	assert_int_equal(v, 500);
	/* a key that is a prefix of another does not match it */
	check_err(stats_parse_key("usage_usec_x 5\n", "usage_usec", "cpu.stat", &v, &e), &e, ENOENT,
		  "cpu.stat: no usage_usec");
	/* /proc/PID/io style */
	ok(stats_parse_key("rchar: 10\nread_bytes: 4096\nwrite_bytes: 0\n", "read_bytes", "io", &v, &e), &e);
	assert_int_equal(v, 4096);
	check_err(stats_parse_key("inactive_file lots\n", "inactive_file", "memory.stat", &v, &e), &e, EINVAL,
		  "memory.stat: inactive_file: bad value");
	check_err(stats_parse_key("inactive_file 99999999999999999999999\n", "inactive_file", "memory.stat", &v, &e),
		  &e, ERANGE, "inactive_file");
	check_err(stats_parse_key("", "x", "empty", &v, &e), &e, ENOENT, "empty: no x");
	check_err(stats_parse_key("\n\n\n", "x", "blank", &v, &e), &e, ENOENT, "blank: no x");
}

static void test_parse_blkio(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	uint64_t r = 1, w = 1;
	ok(stats_parse_blkio_v1("8:0 Read 100\n8:0 Write 20\n8:0 Sync 5\n8:0 Async 115\n8:0 Discard 0\n"
				"8:0 Total 120\n8:16 Read 1\n8:16 Write 2\nTotal 123\n",
				"blkio", &r, &w, &e),
	   &e);
	assert_int_equal(r, 101);
	assert_int_equal(w, 22);
	ok(stats_parse_blkio_v1("Total 0\n", "blkio", &r, &w, &e), &e);
	assert_int_equal(r + w, 0);
	ok(stats_parse_blkio_v1("", "blkio", &r, &w, &e), &e);
	/* huge values saturate instead of wrapping */
	ok(stats_parse_blkio_v1("8:0 Read 18446744073709551615\n8:1 Read 5\n", "blkio", &r, &w, &e), &e);
	assert_true(r == UINT64_MAX);
	r = w = 9;
	check_err(stats_parse_blkio_v1("8:0 Read\n", "blkio.throttle", &r, &w, &e), &e, EINVAL,
		  "blkio.throttle: line 1: expected");
	check_err(stats_parse_blkio_v1("8:0 Read 1\n8:0 Write -5\n", "blkio", &r, &w, &e), &e, EINVAL,
		  "line 2: bad byte count");
	check_err(stats_parse_blkio_v1("garbage here now\n", "blkio", &r, &w, &e), &e, EINVAL, "line 1");
	assert_int_equal(r, 9);
}

static void test_parse_io_v2(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	uint64_t r = 0, w = 0;
	ok(stats_parse_io_v2("8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
			     "253:1 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n",
			     "io.stat", &r, &w, &e),
	   &e);
	assert_int_equal(r, 4097);
	assert_int_equal(w, 8194);
	ok(stats_parse_io_v2("", "io.stat", &r, &w, &e), &e);
	assert_int_equal(r + w, 0);
	check_err(stats_parse_io_v2("8:0 rbytes=x\n", "io.stat", &r, &w, &e), &e, EINVAL,
		  "io.stat: line 1: bad rbytes");
	check_err(stats_parse_io_v2("8:0 rbytes\n", "io.stat", &r, &w, &e), &e, EINVAL, "\"rbytes\" is not KEY=VALUE");
	check_err(stats_parse_io_v2("rbytes=1 wbytes=2\n", "io.stat", &r, &w, &e), &e, EINVAL, "MAJ:MIN");
	check_err(stats_parse_io_v2("8:0 a=1 a=1 a=1 a=1 a=1 a=1 a=1 a=1 a=1 a=1 a=1 a=1 a=1 a=1 a=1 a=1\n", "io.stat",
				    &r, &w, &e),
		  &e, EINVAL, "line 1");
}

static const char net_dev[] =
	"Inter-|   Receive                                                |  Transmit\n"
	" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
	"carrier compressed\n"
	"    lo:     500       5    0    0    0     0          0         0      500       5    0    0    0     0     "
	"  0          0\n"
	"  eth0:    1000      10    0    0    0     0          0         0      200       2    0    0    0     0     "
	"  0          0\n"
	"  tap0:      24       1    0    0    0     0          0         0        6       1    0    0    0     0     "
	"  0          0\n";

static void test_parse_net_dev(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	uint64_t rx = 0, tx = 0;
	ok(stats_parse_net_dev(net_dev, "net/dev", &rx, &tx, &e), &e);
	assert_int_equal(rx, 1024); /* lo left out */
	assert_int_equal(tx, 206);
	ok(stats_parse_net_dev("Inter-|\n face |\n", "net/dev", &rx, &tx, &e), &e);
	assert_int_equal(rx + tx, 0);
	check_err(stats_parse_net_dev("", "/proc/1/net/dev", &rx, &tx, &e), &e, EINVAL,
		  "/proc/1/net/dev: not a net/dev");
	check_err(stats_parse_net_dev("just garbage\n", "d", &rx, &tx, &e), &e, EINVAL, "no header");
	check_err(stats_parse_net_dev("Inter-|\n face |\n eth0 1 2 3\n", "d", &rx, &tx, &e), &e, EINVAL,
		  "line 3: no interface name");
	check_err(stats_parse_net_dev("Inter-|\n face |\n eth0: 1 2 3\n", "d", &rx, &tx, &e), &e, EINVAL,
		  "line 3: expected 16 counters");
	check_err(stats_parse_net_dev("Inter-|\n face |\n eth0: x 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0\n", "d", &rx, &tx, &e),
		  &e, EINVAL, "line 3: bad byte count");
}

static void test_parse_proc_stat(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	struct stats_proc_stat s;
	/* a command name with spaces and parentheses */
	ok(stats_parse_proc_stat("42 (a) b (c)) S 7 42 42 0 -1 4194560 100 0 0 0 150 50 10 5 20 0 3 0 1000 "
				 "1234567 256 18446744073709551615 1 1 0 0 0\n",
				 "stat", &s, &e),
	   &e);
	assert_int_equal(s.pid, 42);
	assert_int_equal(s.ppid, 7);
	assert_int_equal(s.utime, 150);
	assert_int_equal(s.stime, 50);
	assert_int_equal(s.cutime, 10);
	assert_int_equal(s.cstime, 5);
	assert_int_equal(s.threads, 3);
	assert_int_equal(s.rss_pages, 256);
	/* negative %ld fields (a kernel thread's rss -1? priorities) read as 0 */
	ok(stats_parse_proc_stat("2 (kthreadd) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 -20 -5 1 0 1 0 -1", "stat", &s, &e), &e);
	assert_int_equal(s.rss_pages, 0);
	check_err(stats_parse_proc_stat("", "/proc/9/stat", &s, &e), &e, EINVAL, "/proc/9/stat: expected \"PID (COMM)");
	check_err(stats_parse_proc_stat("9 (x S 1 2", "st", &s, &e), &e, EINVAL, "no end of the command name");
	check_err(stats_parse_proc_stat("9 (x) S 1 2 3", "st", &s, &e), &e, EINVAL, "field 6: expected more");
	check_err(stats_parse_proc_stat("9 (x) S 1 2 3 4 5 6 7 8 9 10 zz 12", "st", &s, &e), &e, EINVAL,
		  "field 14: not a number");
	check_err(stats_parse_proc_stat("9 (x) S 99999999999 2", "st", &s, &e), &e, EINVAL, "");
	check_err(stats_parse_proc_stat("99999999999 (x) S 1", "st", &s, &e), &e, EINVAL, "expected \"PID");
}

static void test_cgroup_path(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	char *p = NULL;
	const char *hybrid = "9:name=systemd:/skiff/" ID "\n8:pids:/skiff/" ID "\n4:memory:/skiff/" ID
			     "\n2:cpu,cpuacct:/skiff/" ID "\n0::/\n";
	ok(stats_cgroup_path(hybrid, ID, "memory", &p, &e), &e);
	assert_string_equal(p, "/skiff/" ID);
	free(p);
	ok(stats_cgroup_path(hybrid, ID, "cpuacct", &p, &e), &e);
	assert_string_equal(p, "/skiff/" ID);
	free(p);
	/* the v2 line is "/": not the container's */
	check_err(stats_cgroup_path(hybrid, ID, NULL, &p, &e), &e, ENOENT, "cgroup / of v2 is not the container's");
	check_err(stats_cgroup_path(hybrid, ID, "blkio", &p, &e), &e, ENOENT, "no blkio cgroup");
	/* v2 with a sub-cgroup below the container's: the container's is the one naming it */
	ok(stats_cgroup_path("0::/user.slice/libpod-" ID ".scope/container\n", ID, NULL, &p, &e), &e);
	assert_string_equal(p, "/user.slice/libpod-" ID ".scope");
	free(p);
	/* a rootless container without cgroups sits in its user's session */
	check_err(stats_cgroup_path("0::/user.slice/user-1000.slice/session-2.scope\n", ID, NULL, &p, &e), &e, ENOENT,
		  "not the container's");
	check_err(stats_cgroup_path("0::/../../" ID "\n", ID, NULL, &p, &e), &e, EINVAL, "\"..\" in path");
	check_err(stats_cgroup_path("0::relative/" ID "\n", ID, NULL, &p, &e), &e, EINVAL, "is not absolute");
	check_err(stats_cgroup_path("garbage\n", ID, NULL, &p, &e), &e, EINVAL, "line 1: expected");
	check_err(stats_cgroup_path("0::/skiff/abc\n", "abc", NULL, &p, &e), &e, EINVAL, "not a container ID");
	check_err(stats_cgroup_path("0::/x\n", "../../etc/0123456789", NULL, &p, &e), &e, EINVAL, "not a container ID");
	/* a path containing ':' is kept whole */
	ok(stats_cgroup_path("0::/a:b/" ID "\n", ID, NULL, &p, &e), &e);
	assert_string_equal(p, "/a:b/" ID);
	free(p);
	assert_null(e);
}

static void test_go_duration(void **state)
{
	(void)state;
	static const struct {
		uint64_t ns;
		const char *want;
	} cases[] = {
		{0, "0s"},
		{1, "1ns"},
		{999, "999ns"},
		{1000, "1\xc2\xb5s"},
		{1500, "1.5\xc2\xb5s"},
		{4052689, "4.052689ms"},
		{1000000, "1ms"},
		{1960970389, "1.960970389s"},
		{1000000000, "1s"},
		{62500000000, "1m2.5s"},
		{120000000000, "2m0s"},
		{7201000000000, "2h0m1s"},
		{UINT64_MAX, "5124095h34m33.709551615s"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[64];
		stats_go_duration(cases[i].ns, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
	}
}

static void test_compute(void **state)
{
	(void)state;
	struct stats_view v;
	struct stats_sample a = {.running = true,
				 .have = STATS_CPU | STATS_MEM | STATS_MEM_LIMIT,
				 .started_ns = 1000000000000,
				 .when_ns = 1004000000000,
				 .cpu_ns = 2000000000,
				 .mem_usage = 1000,
				 .mem_limit = 0};
	/* first sample: against the start, as podman; unlimited memory is host RAM */
	stats_compute(NULL, &a, 4000, &v);
	assert_true(v.cpu_percent > 49.99 && v.cpu_percent < 50.01);
	assert_true(v.avg_cpu_percent > 49.99 && v.avg_cpu_percent < 50.01);
	assert_int_equal(v.mem_limit, 4000);
	assert_true(v.mem_percent > 24.99 && v.mem_percent < 25.01);
	/* a second sample 1 s later with 1 s more CPU: 100% now, 60% on average */
	struct stats_sample b = a;
	b.when_ns += 1000000000;
	b.cpu_ns += 1000000000;
	b.mem_limit = 2000;
	stats_compute(&a, &b, 4000, &v);
	assert_true(v.cpu_percent > 99.99 && v.cpu_percent < 100.01);
	assert_true(v.avg_cpu_percent > 59.99 && v.avg_cpu_percent < 60.01);
	assert_int_equal(v.mem_limit, 2000);
	/* a limit above the RAM is the RAM */
	b.mem_limit = UINT64_MAX;
	stats_compute(&a, &b, 4000, &v);
	assert_int_equal(v.mem_limit, 4000);
	/* restarted (CPU went down): compared with the start again */
	struct stats_sample c = b;
	c.cpu_ns = 10;
	stats_compute(&b, &c, 4000, &v);
	assert_true(v.cpu_percent >= 0 && v.cpu_percent < 0.01);
	/* unknown from /proc: no limit known, no MEM % */
	struct stats_sample p = a;
	p.have = STATS_CPU | STATS_MEM;
	stats_compute(NULL, &p, 4000, &v);
	assert_int_equal(v.mem_limit, 0);
	assert_true(v.mem_percent < 0);
	p.have = 0;
	stats_compute(NULL, &p, 4000, &v);
	assert_true(v.cpu_percent < 0 && v.avg_cpu_percent < 0);
	/* not running: zeros */
	struct stats_sample z = {0};
	stats_compute(&a, &z, 4000, &v);
	assert_true(v.cpu_percent == 0 && v.avg_cpu_percent == 0 && v.mem_percent == 0);
	/* a clock that went backwards does not divide by zero or go negative */
	struct stats_sample d = a;
	d.when_ns = d.started_ns - 5;
	stats_compute(NULL, &d, 4000, &v);
	assert_true(v.cpu_percent == 0);
}

/* ---- a fake /proc and /sys/fs/cgroup ---- */

struct fake {
	char root[64];
	char *proc, *cgroup;
};

static void put(const char *path, const char *text)
{
	struct skiff_err *e = NULL;
	cleanup_free char *dir = xstrdup(path);
	*strrchr(dir, '/') = 0;
	ok(mkdir_p_at(AT_FDCWD, dir, 0755, &e), &e);
	ok(write_file_replace(AT_FDCWD, path, text, strlen(text), 0644, &e), &e);
}

static void putf(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(const char *text, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *path = xvasprintf(fmt, ap);
	va_end(ap);
	put(path, text);
}

/* A process of the fake /proc: stat with utime/stime/rss, io, and its pid namespace (a
 * symlink to a shared file, so stat() gives the same inode as for a real ns link). */
static void fake_proc(struct fake *f, int pid, int ppid, unsigned ticks, unsigned rss, const char *ns)
{
	cleanup_free char *stat = xasprintf("%d (p %d) S %d 1 1 0 -1 0 0 0 0 0 %u %u 0 0 20 0 1 0 100 1000 %u 0 0\n",
					    pid, pid, ppid, ticks, ticks, rss);
	putf(stat, "%s/%d/stat", f->proc, pid);
	putf("rchar: 1\nwchar: 1\nread_bytes: 100\nwrite_bytes: 10\ncancelled_write_bytes: 0\n", "%s/%d/io", f->proc,
	     pid);
	cleanup_free char *target = xasprintf("%s/ns-%s", f->proc, ns);
	if (access(target, F_OK) != 0)
		put(target, "");
	cleanup_free char *link = xasprintf("%s/%d/ns/pid", f->proc, pid);
	cleanup_free char *nsdir = xasprintf("%s/%d/ns", f->proc, pid);
	assert_int_equal(mkdir(nsdir, 0755), 0);
	assert_int_equal(symlink(target, link), 0);
}

static void fake_init(struct fake *f)
{
	snprintf(f->root, sizeof(f->root), "/tmp/test_stats.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	f->proc = xasprintf("%s/proc", f->root);
	f->cgroup = xasprintf("%s/cgroup", f->root);
	assert_int_equal(mkdir(f->proc, 0755), 0);
	assert_int_equal(mkdir(f->cgroup, 0755), 0);
	/* self is in the host namespace */
	cleanup_free char *target = xasprintf("%s/ns-host", f->proc);
	put(target, "");
	cleanup_free char *nsdir = xasprintf("%s/self/ns", f->proc);
	struct skiff_err *e = NULL;
	ok(mkdir_p_at(AT_FDCWD, nsdir, 0755, &e), &e);
	cleanup_free char *link = xasprintf("%s/pid", nsdir);
	assert_int_equal(symlink(target, link), 0);
}

static void fake_release(struct fake *f)
{
	struct skiff_err *e = NULL;
	ok(rm_rf_at(AT_FDCWD, f->root, &e), &e);
	free(f->proc);
	free(f->cgroup);
}

static struct stats_env env_of(const struct fake *f)
{
	return (struct stats_env){.proc = f->proc, .cgroup = f->cgroup, .page_size = 4096, .clk_tck = 100};
}

static void test_sample_v1(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f);
	struct stats_env env = env_of(&f);
	fake_proc(&f, 100, 1, 1, 1, "ctr");
	putf("4:memory:/skiff/" ID "\n8:pids:/skiff/" ID "\n2:cpu,cpuacct:/skiff/" ID "\n7:blkio:/skiff/" ID "\n0::/\n",
	     "%s/100/cgroup", f.proc);
	putf(net_dev, "%s/100/net/dev", f.proc);
	putf("3279950\n", "%s/cpuacct/skiff/" ID "/cpuacct.usage", f.cgroup);
	putf("249856\n", "%s/memory/skiff/" ID "/memory.usage_in_bytes", f.cgroup);
	putf("cache 8192\ninactive_file 5\ntotal_inactive_file 4096\n", "%s/memory/skiff/" ID "/memory.stat", f.cgroup);
	putf("67108864\n", "%s/memory/skiff/" ID "/memory.limit_in_bytes", f.cgroup);
	putf("3\n", "%s/pids/skiff/" ID "/pids.current", f.cgroup);
	putf("8:0 Read 10\n8:0 Write 20\nTotal 30\n", "%s/blkio/skiff/" ID "/blkio.throttle.io_service_bytes_recursive",
	     f.cgroup);
	struct stats_sample s;
	struct skiff_err *e = NULL;
	ok(stats_sample_pid(&env, 100, ID, &s, &e), &e);
	assert_true(s.running);
	assert_int_equal(s.cgroup_version, 1);
	assert_int_equal(s.have, STATS_CPU | STATS_MEM | STATS_MEM_LIMIT | STATS_PIDS | STATS_NET | STATS_BLOCK);
	assert_int_equal(s.from_cgroup, STATS_CPU | STATS_MEM | STATS_MEM_LIMIT | STATS_PIDS | STATS_BLOCK);
	assert_int_equal(s.cpu_ns, 3279950);
	assert_int_equal(s.mem_usage, 249856 - 4096);
	assert_int_equal(s.mem_limit, 67108864);
	assert_int_equal(s.pids, 3);
	assert_int_equal(s.net_rx, 1024);
	assert_int_equal(s.blk_read, 10);
	assert_int_equal(s.blk_write, 20);
	assert_true(s.when_ns > 0);

	/* "unlimited" v1 limit reads as no limit */
	putf("9223372036854771712\n", "%s/memory/skiff/" ID "/memory.limit_in_bytes", f.cgroup);
	ok(stats_sample_pid(&env, 100, ID, &s, &e), &e);
	assert_int_equal(s.mem_limit, 0);
	assert_true(s.have & STATS_MEM_LIMIT);

	/* garbage in a cgroup file is an error naming the file */
	putf("lots\n", "%s/pids/skiff/" ID "/pids.current", f.cgroup);
	check_err(stats_sample_pid(&env, 100, ID, &s, &e), &e, EINVAL, "pids.current: not a number");
	putf("8:0 Read 10 extra\n", "%s/blkio/skiff/" ID "/blkio.throttle.io_service_bytes_recursive", f.cgroup);
	putf("3\n", "%s/pids/skiff/" ID "/pids.current", f.cgroup);
	check_err(stats_sample_pid(&env, 100, ID, &s, &e), &e, EINVAL, "io_service_bytes_recursive: line 1");
	/* a missing cgroup file falls back to /proc for that value */
	putf("8:0 Read 10\n", "%s/blkio/skiff/" ID "/blkio.throttle.io_service_bytes_recursive", f.cgroup);
	cleanup_free char *pc = xasprintf("%s/pids/skiff/" ID "/pids.current", f.cgroup);
	assert_int_equal(unlink(pc), 0);
	ok(stats_sample_pid(&env, 100, ID, &s, &e), &e);
	assert_int_equal(s.pids, 1);
	assert_false(s.from_cgroup & STATS_PIDS);
	/* a process that is gone */
	check_err(stats_sample_pid(&env, 555, ID, &s, &e), &e, ESRCH, "process 555 is gone");
	fake_release(&f);
}

static void test_sample_v2(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f);
	struct stats_env env = env_of(&f);
	fake_proc(&f, 200, 1, 1, 1, "ctr");
	putf("0::/skiff/" ID "\n", "%s/200/cgroup", f.proc);
	putf(net_dev, "%s/200/net/dev", f.proc);
	putf("cpu io memory pids\n", "%s/cgroup.controllers", f.cgroup);
	putf("usage_usec 1500\nuser_usec 1000\n", "%s/skiff/" ID "/cpu.stat", f.cgroup);
	putf("100000\n", "%s/skiff/" ID "/memory.current", f.cgroup);
	putf("anon 5\ninactive_file 200000\n", "%s/skiff/" ID "/memory.stat", f.cgroup);
	putf("max\n", "%s/skiff/" ID "/memory.max", f.cgroup);
	putf("2\n", "%s/skiff/" ID "/pids.current", f.cgroup);
	putf("8:0 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n", "%s/skiff/" ID "/io.stat", f.cgroup);
	struct stats_sample s;
	struct skiff_err *e = NULL;
	ok(stats_sample_pid(&env, 200, ID, &s, &e), &e);
	assert_int_equal(s.cgroup_version, 2);
	assert_int_equal(s.cpu_ns, 1500000);
	assert_int_equal(s.mem_usage, 0); /* inactive_file above current: 0, not a wrap */
	assert_int_equal(s.mem_limit, 0);
	assert_int_equal(s.pids, 2);
	assert_int_equal(s.blk_read, 1);
	assert_int_equal(s.blk_write, 2);
	assert_int_equal(s.from_cgroup, STATS_CPU | STATS_MEM | STATS_MEM_LIMIT | STATS_PIDS | STATS_BLOCK);
	/* huge usage_usec saturates */
	putf("usage_usec 18446744073709551615\n", "%s/skiff/" ID "/cpu.stat", f.cgroup);
	ok(stats_sample_pid(&env, 200, ID, &s, &e), &e);
	assert_true(s.cpu_ns == UINT64_MAX);
	putf("usage_usec 1\n", "%s/skiff/" ID "/cpu.stat", f.cgroup);
	putf("64m\n", "%s/skiff/" ID "/memory.max", f.cgroup);
	check_err(stats_sample_pid(&env, 200, ID, &s, &e), &e, EINVAL, "memory.max: not a number: \"64m");
	putf("67108864\n", "%s/skiff/" ID "/memory.max", f.cgroup);
	putf("Inter-| garbage\n", "%s/200/net/dev", f.proc);
	check_err(stats_sample_pid(&env, 200, ID, &s, &e), &e, EINVAL, "200/net/dev: not a net/dev table");
	fake_release(&f);
}

/* No cgroup of the container's own: everything from /proc, summed over its pid namespace. */
static void test_sample_proc(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f);
	struct stats_env env = env_of(&f);
	fake_proc(&f, 300, 1, 100, 10, "ctr");
	fake_proc(&f, 301, 300, 50, 5, "ctr");
	fake_proc(&f, 302, 1, 1000, 1000, "host"); /* someone else */
	fake_proc(&f, 303, 77, 50, 5, "ctr");	   /* exec'd in: its parent is outside */
	putf("0::/user.slice/user-1000.slice/session-1.scope\n", "%s/300/cgroup", f.proc);
	putf(net_dev, "%s/300/net/dev", f.proc);
	struct stats_sample s;
	struct skiff_err *e = NULL;
	ok(stats_sample_pid(&env, 300, ID, &s, &e), &e);
	assert_int_equal(s.cgroup_version, 0);
	assert_int_equal(s.from_cgroup, 0);
	assert_int_equal(s.have, STATS_CPU | STATS_MEM | STATS_PIDS | STATS_NET | STATS_BLOCK); /* no limit */
	/* (utime + stime) ticks at 100 Hz */
	assert_int_equal(s.cpu_ns, (uint64_t)(200 + 100 + 100) * 10000000);
	assert_int_equal(s.mem_usage, (uint64_t)(10 + 5 + 5) * 4096);
	assert_int_equal(s.pids, 3);
	assert_int_equal(s.blk_read, 300);
	assert_int_equal(s.blk_write, 30);
	/* an unreadable /proc/PID/io makes block I/O unknown, not smaller */
	cleanup_free char *io = xasprintf("%s/301/io", f.proc);
	assert_int_equal(unlink(io), 0);
	assert_int_equal(mkdir(io, 0755), 0); /* reading a directory fails (EISDIR) */
	check_err(stats_sample_pid(&env, 300, ID, &s, &e), &e, EISDIR, "301/io");
	assert_int_equal(rmdir(io), 0);
	ok(stats_sample_pid(&env, 300, ID, &s, &e), &e);
	assert_false(s.have & STATS_BLOCK);
	/* garbage in a process's stat names it */
	putf("garbage", "%s/301/stat", f.proc);
	check_err(stats_sample_pid(&env, 300, ID, &s, &e), &e, EINVAL, "301/stat: expected");
	fake_release(&f);
}

/* A container sharing the host's pid namespace: its init and that one's descendants. */
static void test_sample_proc_host_pidns(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f);
	struct stats_env env = env_of(&f);
	fake_proc(&f, 400, 1, 10, 1, "host");
	fake_proc(&f, 401, 400, 10, 1, "host");
	fake_proc(&f, 402, 401, 10, 1, "host");
	fake_proc(&f, 403, 1, 1000, 1000, "host");
	putf("0::/\n", "%s/400/cgroup", f.proc);
	struct stats_sample s;
	struct skiff_err *e = NULL;
	ok(stats_sample_pid(&env, 400, ID, &s, &e), &e);
	assert_int_equal(s.pids, 3);
	assert_int_equal(s.mem_usage, 3 * 4096);
	assert_false(s.have & STATS_NET); /* no net/dev file */
	fake_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_key),
		cmocka_unit_test(test_parse_blkio),
		cmocka_unit_test(test_parse_io_v2),
		cmocka_unit_test(test_parse_net_dev),
		cmocka_unit_test(test_parse_proc_stat),
		cmocka_unit_test(test_cgroup_path),
		cmocka_unit_test(test_go_duration),
		cmocka_unit_test(test_compute),
		cmocka_unit_test(test_sample_v1),
		cmocka_unit_test(test_sample_v2),
		cmocka_unit_test(test_sample_proc),
		cmocka_unit_test(test_sample_proc_host_pidns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
