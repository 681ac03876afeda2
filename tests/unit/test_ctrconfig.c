/* Unit tests for pkg/engine ctrconfig: the config's JSON form and the flag-value parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/engine/ctrconfig.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

/* rc must be -1 with status st and a message containing want; the error is cleared. */
static void check_err(int rc, struct skiff_err **e, int st, const char *want)
{
	if (rc != -1 || !*e || (*e)->status != st || !strstr((*e)->msg, want) || strchr((*e)->msg, '\n')) {
		print_error("rc %d, status %d (want %d), message \"%s\", wanted \"%s\"\n", rc, *e ? (*e)->status : 0,
			    st, *e ? (*e)->msg : "(none)", want);
		fail();
	}
	err_clear(e);
}

static void ok(int rc, struct skiff_err **e)
{
	if (rc != 0) {
		print_error("unexpected error: %s\n", *e ? (*e)->msg : "(none)");
		err_clear(e);
		fail();
	}
}

static char *dump(const struct json *j)
{
	struct strbuf sb = STRBUF_INIT;
	json_dump(j, 0, &sb);
	return strbuf_detach(&sb, NULL);
}

/* ---- JSON ---- */

static struct ctr_config *full_config(void)
{
	struct ctr_config *c = ctr_config_new();
	c->id = xstrdup("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	c->name = xstrdup("happy_turing");
	c->image = xstrdup("busybox");
	c->image_id = xstrdup("fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210");
	c->image_name = xstrdup("docker.io/library/busybox:latest");
	c->created = 1700000000123456789;
	c->has_entrypoint = true;
	strv_push(&c->entrypoint, "");
	strv_push(&c->command, "echo");
	strv_push(&c->command, "a b \"c\"\n");
	strv_push(&c->env, "A=1");
	strv_push(&c->env, "B=with=equals");
	c->workdir = xstrdup("/work");
	c->user = xstrdup("app:20");
	strv_push(&c->group_add, "wheel");
	c->hostname = xstrdup("box");
	c->tty = c->interactive = c->init = true;
	ALLOC_GROW(c->ulimits, 2, c->alloc_ulimits);
	c->ulimits[0] = (struct ctr_ulimit){xstrdup("RLIMIT_NOFILE"), 100, 200};
	c->ulimits[1] = (struct ctr_ulimit){xstrdup("RLIMIT_CORE"), UINT64_MAX, UINT64_MAX};
	c->n_ulimits = 2;
	c->has_oom_score_adj = true;
	c->oom_score_adj = -500;
	c->rm = true;
	c->restart = CTR_RESTART_ON_FAILURE;
	c->restart_max = 5;
	c->stop_signal = 2;
	c->has_stop_timeout = true;
	c->stop_timeout = 0;
	ALLOC_GROW(c->mounts, 2, c->alloc_mounts);
	memset(c->mounts, 0, 2 * sizeof(c->mounts[0]));
	c->mounts[0].type = xstrdup("bind");
	c->mounts[0].source = xstrdup("/src");
	c->mounts[0].destination = xstrdup("/dst");
	strv_push(&c->mounts[0].options, "ro");
	c->mounts[1].type = xstrdup("tmpfs");
	c->mounts[1].destination = xstrdup("/scratch");
	c->n_mounts = 2;
	c->read_only = true;
	c->read_only_tmpfs = false;
	c->privileged = true;
	strv_push(&c->cap_add, "CAP_NET_ADMIN");
	strv_push(&c->cap_drop, "ALL");
	c->seccomp_profile = xstrdup("/etc/profile.json");
	c->seccomp_json = xstrdup("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}");
	c->no_new_privileges = true;
	strv_push(&c->mask, "/a:/b");
	strv_push(&c->unmask, "ALL");
	c->memory = 512 << 20;
	c->memory_reservation = 256 << 20;
	c->memory_swap = -1;
	c->cpu_shares = 512;
	c->cpus = 1.5;
	c->cpu_period = 50000;
	c->cpu_quota = 25000;
	c->cpuset_cpus = xstrdup("0-2");
	c->cpuset_mems = xstrdup("0");
	c->has_pids_limit = true;
	c->pids_limit = -1;
	c->network = xstrdup("none");
	c->pid_mode = xstrdup("host");
	c->ipc_mode = xstrdup("container:abc");
	c->uts_mode = xstrdup("private");
	c->userns_mode = xstrdup("ns:/proc/1/ns/user");
	c->cgroupns_mode = xstrdup("host");
	strv_push(&c->dns, "9.9.9.9");
	strv_push(&c->dns_search, "example.com");
	strv_push(&c->dns_option, "ndots:2");
	strv_push(&c->add_host, "db:10.0.0.2");
	spec_map_set(&c->labels, "com.example.x", "1");
	spec_map_set(&c->labels, "empty", "");
	spec_map_set(&c->annotations, "a.b", "c");
	free(c->log_driver);
	c->log_driver = xstrdup("none");
	c->log_size_max = 1 << 20;
	c->runtime = xstrdup("crun");
	strv_push(&c->sysctls, "net.ipv4.ip_forward=1");
	return c;
}

static struct ctr_config *from_text(const char *text, struct skiff_err **e)
{
	cleanup_json struct json *j = NULL;
	struct ctr_config *c = NULL;
	if (json_parse(text, strlen(text), &j, e) < 0 || ctr_config_from_json(j, &c, e) < 0)
		return NULL;
	return c;
}

static void test_json_round_trip(void **state)
{
	(void)state;
	cleanup_ctr_config struct ctr_config *c = full_config();
	cleanup_json struct json *j = ctr_config_to_json(c);
	cleanup_free char *a = dump(j);
	struct skiff_err *e = NULL;
	cleanup_ctr_config struct ctr_config *c2 = from_text(a, &e);
	ok(c2 ? 0 : -1, &e);
	cleanup_json struct json *j2 = ctr_config_to_json(c2);
	cleanup_free char *b = dump(j2);
	assert_string_equal(a, b);

	/* and every field came back */
	assert_string_equal(c2->id, c->id);
	assert_int_equal(c2->created, 1700000000123456789);
	assert_true(c2->has_entrypoint);
	assert_int_equal(c2->entrypoint.len, 1);
	assert_string_equal(c2->entrypoint.v[0], "");
	assert_string_equal(c2->command.v[1], "a b \"c\"\n");
	assert_string_equal(c2->env.v[1], "B=with=equals");
	assert_string_equal(c2->user, "app:20");
	assert_true(c2->tty && c2->interactive && c2->init);
	assert_int_equal(c2->n_ulimits, 2);
	assert_int_equal(c2->ulimits[0].soft, 100);
	assert_int_equal(c2->ulimits[0].hard, 200);
	assert_true(c2->ulimits[1].soft == UINT64_MAX && c2->ulimits[1].hard == UINT64_MAX);
	assert_true(c2->has_oom_score_adj);
	assert_int_equal(c2->oom_score_adj, -500);
	assert_true(c2->rm);
	assert_int_equal(c2->restart, CTR_RESTART_ON_FAILURE);
	assert_int_equal(c2->restart_max, 5);
	assert_int_equal(c2->stop_signal, 2);
	assert_true(c2->has_stop_timeout);
	assert_int_equal(c2->stop_timeout, 0);
	assert_int_equal(c2->n_mounts, 2);
	assert_null(c2->mounts[1].source);
	assert_string_equal(c2->mounts[0].options.v[0], "ro");
	assert_true(c2->read_only);
	assert_false(c2->read_only_tmpfs);
	assert_true(c2->privileged && c2->no_new_privileges);
	assert_string_equal(c2->seccomp_json, c->seccomp_json);
	assert_int_equal(c2->memory, 512 << 20);
	assert_int_equal(c2->memory_swap, -1);
	assert_true(c2->cpus == 1.5);
	assert_int_equal(c2->cpu_period, 50000);
	assert_true(c2->has_pids_limit);
	assert_int_equal(c2->pids_limit, -1);
	assert_string_equal(c2->ipc_mode, "container:abc");
	assert_string_equal(c2->userns_mode, "ns:/proc/1/ns/user");
	assert_string_equal(spec_map_get(&c2->labels, "empty"), "");
	assert_string_equal(spec_map_get(&c2->annotations, "a.b"), "c");
	assert_string_equal(c2->log_driver, "none");
	assert_int_equal(c2->log_size_max, 1 << 20);
	assert_string_equal(c2->runtime, "crun");
	assert_string_equal(c2->sysctls.v[0], "net.ipv4.ip_forward=1");
}

static void test_json_defaults(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	/* unknown keys are ignored, null is absent */
	cleanup_ctr_config struct ctr_config *c = from_text("{\"future\":[1,2],\"name\":null,\"tty\":null}", &e);
	ok(c ? 0 : -1, &e);
	assert_null(c->name);
	assert_false(c->has_entrypoint);
	assert_false(c->has_stop_timeout);
	assert_int_equal(c->stop_timeout, 10);
	assert_true(c->read_only_tmpfs);
	assert_string_equal(c->log_driver, "k8s-file");
	assert_false(c->has_pids_limit);
	assert_false(c->has_oom_score_adj);

	/* a minimal config round-trips too */
	cleanup_ctr_config struct ctr_config *n = ctr_config_new();
	cleanup_json struct json *j = ctr_config_to_json(n);
	cleanup_free char *a = dump(j);
	cleanup_ctr_config struct ctr_config *n2 = from_text(a, &e);
	ok(n2 ? 0 : -1, &e);
	cleanup_json struct json *j2 = ctr_config_to_json(n2);
	cleanup_free char *b = dump(j2);
	assert_string_equal(a, b);
}

static void test_json_hostile(void **state)
{
	(void)state;
	static const struct {
		const char *doc, *want;
	} bad[] = {
		{"[]", "expected an object, got array"},
		{"\"x\"", "expected an object, got string"},
		{"{\"name\":5}", "name: expected a string, got number"},
		{"{\"name\":\"a\\u0000b\"}", "name: string contains a NUL byte"},
		{"{\"tty\":\"yes\"}", "tty: expected a boolean, got string"},
		{"{\"env\":\"A=1\"}", "env: expected an array, got string"},
		{"{\"env\":[\"A=1\",2]}", "env[1]: expected a string, got number"},
		{"{\"command\":[null]}", "command[0]: expected a string, got null"},
		{"{\"entrypoint\":{}}", "entrypoint: expected an array, got object"},
		{"{\"created\":1.5}", "created: expected an integer, got number"},
		{"{\"memory\":-5}", "memory: -5 is out of range"},
		{"{\"memory_swap\":-2}", "memory_swap: -2 is out of range"},
		{"{\"oom_score_adj\":5000}", "oom_score_adj: 5000 is out of range"},
		{"{\"stop_signal\":999}", "stop_signal: 999 is out of range"},
		{"{\"restart_max\":-1}", "restart_max: -1 is out of range"},
		{"{\"stop_timeout\":true}", "stop_timeout: expected an integer, got boolean"},
		{"{\"restart\":\"sometimes\"}", "restart: unknown policy \"sometimes\""},
		{"{\"restart\":1}", "restart: expected a string"},
		{"{\"cpus\":\"2\"}", "cpus: expected a number, got string"},
		{"{\"cpus\":-1}", "cpus: must be >= 0"},
		{"{\"cpu_shares\":-7}", "cpu_shares: -7 is out of range"},
		{"{\"mounts\":{}}", "mounts: expected an array, got object"},
		{"{\"mounts\":[5]}", "mounts[0]: expected an object, got number"},
		{"{\"mounts\":[{\"type\":\"bind\"}]}", "mounts[0].destination: missing"},
		{"{\"mounts\":[{\"destination\":\"/a\"}]}", "mounts[0].type: missing"},
		{"{\"mounts\":[{\"type\":\"bind\",\"destination\":7}]}", "mounts[0].destination: expected a string"},
		{"{\"mounts\":[{\"type\":\"bind\",\"destination\":\"/a\",\"options\":[1]}]}", "mounts[0].options[0]"},
		{"{\"ulimits\":[{\"name\":\"RLIMIT_NOFILE\",\"soft\":\"x\"}]}", "ulimits[0].soft: expected an integer"},
		{"{\"ulimits\":[{\"soft\":1}]}", "ulimits[0].name: missing"},
		{"{\"ulimits\":[{\"name\":\"RLIMIT_NOFILE\",\"hard\":-2}]}", "ulimits[0].hard: -2 is out of range"},
		{"{\"ulimits\":true}", "ulimits: expected an array"},
		{"{\"labels\":[]}", "labels: expected an object, got array"},
		{"{\"labels\":{\"a\":1}}", "labels.\"a\": expected a string"},
		{"{\"annotations\":{\"k\":null}}", "annotations.\"k\": expected a string"},
		{"{\"pids_limit\":\"10\"}", "pids_limit: expected an integer"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cleanup_json struct json *j = NULL;
		struct ctr_config *c = NULL;
		struct skiff_err *e = NULL;
		ok(json_parse(bad[i].doc, strlen(bad[i].doc), &j, &e), &e);
		int rc = ctr_config_from_json(j, &c, &e);
		if (rc == 0)
			print_error("accepted: %s\n", bad[i].doc);
		assert_null(c);
		check_err(rc, &e, EINVAL, bad[i].want);
	}
}

static void test_random_name(void **state)
{
	(void)state;
	regex_t re;
	assert_int_equal(regcomp(&re, "^[a-z]+_[a-z]+$", REG_EXTENDED | REG_NOSUB), 0);
	for (int i = 0; i < 50; i++) {
		cleanup_free char *n = ctr_random_name();
		assert_int_equal(regexec(&re, n, 0, NULL, 0), 0);
	}
	regfree(&re);
}

/* ---- sizes, cpus, ulimits ---- */

static void test_parse_bytes(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int64_t want;
	} good[] = {{"512m", 512LL << 20}, {"1g", 1LL << 30},  {"1024", 1024}, {"1.5g", 1610612736}, {"0", 0},
		    {"10k", 10240},	   {"2GB", 2LL << 30}, {"7b", 7}};
	static const char *const bad[] = {"",	 "99999999999g", "1.5.5g", "-5m",  "12q", "m",
					  "1gg", " 5",		 "5 5",	   "0x10", "-1",  "1e400"};
	struct skiff_err *e = NULL;
	int64_t v;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		ok(ctr_parse_bytes(good[i].s, false, &v, &e), &e);
		assert_int_equal(v, good[i].want);
	}
	ok(ctr_parse_bytes("-1", true, &v, &e), &e);
	assert_int_equal(v, -1);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 42;
		check_err(ctr_parse_bytes(bad[i], false, &v, &e), &e, EINVAL, bad[i]);
		assert_int_equal(v, 42);
	}
	check_err(ctr_parse_bytes("99999999999g", false, &v, &e), &e, EINVAL, "too large");
	check_err(ctr_parse_bytes(NULL, false, &v, &e), &e, EINVAL, "invalid size");
	check_err(ctr_parse_bytes("-2", true, &v, &e), &e, EINVAL, "\"-2\"");
}

static void test_parse_cpus(void **state)
{
	(void)state;
	static const char *const bad[] = {"",	 "0",	"0.0", "-1", "1.5.5", "abc",
					  "1e3", "nan", "inf", ".",  "1,5",   "99999999999999999999"};
	struct skiff_err *e = NULL;
	double v;

	ok(ctr_parse_cpus("1.5", &v, &e), &e);
	assert_true(v == 1.5);
	ok(ctr_parse_cpus("2", &v, &e), &e);
	assert_true(v == 2.0);
	ok(ctr_parse_cpus(".25", &v, &e), &e);
	assert_true(v == 0.25);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 7;
		check_err(ctr_parse_cpus(bad[i], &v, &e), &e, EINVAL, bad[i]);
		assert_true(v == 7);
	}
}

static void test_parse_ulimit(void **state)
{
	(void)state;
	static const char *const bad[] = {"",
					  "nofile",
					  "nofile=",
					  "nofile=2:1",
					  "nosuch=1",
					  "nofile=abc",
					  "nofile=1:2:3",
					  "nofile=-5",
					  "nofile=99999999999999999999999",
					  "core=-1:5",
					  "=5",
					  "nofile=1:",
					  "nofile= 1"};
	struct skiff_err *e = NULL;
	struct ctr_ulimit u = {0};

	ok(ctr_parse_ulimit("nofile=1024:2048", &u, &e), &e);
	assert_string_equal(u.name, "RLIMIT_NOFILE");
	assert_int_equal(u.soft, 1024);
	assert_int_equal(u.hard, 2048);
	free(u.name);
	ok(ctr_parse_ulimit("nproc=512", &u, &e), &e);
	assert_string_equal(u.name, "RLIMIT_NPROC");
	assert_true(u.soft == 512 && u.hard == 512);
	free(u.name);
	ok(ctr_parse_ulimit("core=-1", &u, &e), &e);
	assert_true(u.soft == UINT64_MAX && u.hard == UINT64_MAX);
	free(u.name);
	ok(ctr_parse_ulimit("NOFILE=5:-1", &u, &e), &e);
	assert_true(u.soft == 5 && u.hard == UINT64_MAX);
	free(u.name);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ctr_ulimit z = {0};
		check_err(ctr_parse_ulimit(bad[i], &z, &e), &e, EINVAL, bad[i]);
		assert_null(z.name);
	}
	check_err(ctr_parse_ulimit("nofile=2:1", &u, &e), &e, EINVAL, "soft limit");
	check_err(ctr_parse_ulimit("nosuch=1", &u, &e), &e, EINVAL, "unknown type \"nosuch\"");
}

/* ---- volumes, tmpfs, mounts ---- */

static void opts_are(const struct strv *o, const char *joined)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < o->len; i++)
		strbuf_addf(&sb, "%s%s", i ? "," : "", o->v[i]);
	assert_string_equal(sb.buf, joined);
	strbuf_release(&sb);
}

static void test_parse_volume(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	struct ctr_mount m = {0};
	static const struct {
		const char *s;
		int st;
		const char *want;
	} bad[] = {
		{"", EINVAL, "empty"},
		{"bad/name:/b", EINVAL, "bad/name"},
		{"/a:b", EINVAL, "\"b\" in \"/a:b\": must be an absolute path"},
		{"a:b:c:d", EINVAL, "\"a:b:c:d\": too many colons"},
		{"/a:/b:badopt", EINVAL, "unknown option \"badopt\""},
		{"/a:/b:ro,rw", EINVAL, "ro and rw conflict"},
		{"/a:/b:z,Z", EINVAL, "z and Z conflict"},
		{"/a:/b:shared,rslave", EINVAL, "conflicting propagation"},
		{"/a:/b:", EINVAL, "\"/a:/b:\": empty options"},
		{"/a:/b:ro,,rw", EINVAL, "unknown option \"\""},
		{"/a:/", EINVAL, "cannot mount over /"},
		{"/a:/b/..", EINVAL, "cannot mount over /"},
		{":/b", EINVAL, "empty source"},
		{"/a:", EINVAL, "empty destination"},
		{"/a:/../..", EINVAL, "/../.."},
	};

	ok(ctr_parse_volume("/a:/b", &m, &e), &e);
	assert_string_equal(m.type, "bind");
	assert_string_equal(m.source, "/a");
	assert_string_equal(m.destination, "/b");
	assert_int_equal(m.options.len, 0);
	ctr_mount_release(&m);
	ok(ctr_parse_volume("/a/../c//:/b//x/:ro,z,rshared,nosuid", &m, &e), &e);
	assert_string_equal(m.source, "/c");
	assert_string_equal(m.destination, "/b/x");
	opts_are(&m.options, "ro,z,rshared,nosuid");
	ctr_mount_release(&m);
	ok(ctr_parse_volume("./rel:/b", &m, &e), &e);
	{
		cleanup_free char *cwd = getcwd(NULL, 0);
		cleanup_free char *want = xasprintf("%s/rel", cwd);
		assert_string_equal(m.source, want);
	}
	ctr_mount_release(&m);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ctr_mount z = {0};
		check_err(ctr_parse_volume(bad[i].s, &z, &e), &e, bad[i].st, bad[i].want);
		assert_null(z.type);
		assert_null(z.destination);
	}
}

static void test_parse_tmpfs(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	struct ctr_mount m = {0};
	static const struct {
		const char *s, *want;
	} bad[] = {
		{"", "empty"},
		{"run", "\"run\" in \"run\": must be an absolute path"},
		{"/run:bogus", "unknown option \"bogus\""},
		{"/run:mode=999", "bad value in \"mode=999\""},
		{"/run:mode=", "bad value in \"mode=\""},
		{"/run:size=abc", "bad value in \"size=abc\""},
		{"/run:size=12xyz", "bad value in \"size=12xyz\""},
		{"/run:uid=-1", "bad value in \"uid=-1\""},
		{"/run:a:b", "too many colons"},
		{"/run:", "empty options"},
		{"/", "cannot mount over /"},
		{"/run:ro,rw", "ro and rw conflict"},
		{"/run:foo=bar", "unknown option \"foo=bar\""},
	};

	ok(ctr_parse_tmpfs("/run:rw,size=64m,mode=1777", &m, &e), &e);
	assert_string_equal(m.type, "tmpfs");
	assert_null(m.source);
	assert_string_equal(m.destination, "/run");
	opts_are(&m.options, "rw,size=64m,mode=1777");
	ctr_mount_release(&m);
	ok(ctr_parse_tmpfs("/scratch//", &m, &e), &e);
	assert_string_equal(m.destination, "/scratch");
	assert_int_equal(m.options.len, 0);
	ctr_mount_release(&m);
	ok(ctr_parse_tmpfs("/t:size=50%,uid=1000,gid=1000,nr_inodes=4k,noexec", &m, &e), &e);
	ctr_mount_release(&m);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ctr_mount z = {0};
		check_err(ctr_parse_tmpfs(bad[i].s, &z, &e), &e, EINVAL, bad[i].want);
		assert_null(z.destination);
	}
}

static void test_parse_mount(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	struct ctr_mount m = {0};
	static const struct {
		const char *s;
		int st;
		const char *want;
	} bad[] = {
		{"", EINVAL, "empty"},
		{"source=/a,target=/b", EINVAL, "type is required"},
		{"type=weird,target=/b", EINVAL, "unknown type \"weird\""},
		{"type=bind,source=/a", EINVAL, "destination is required"},
		{"type=bind,target=/b", EINVAL, "source is required"},
		{"type=bind,source=rel,target=/b", EINVAL, "\"rel\""},
		{"type=bind,source=/a,target=b", EINVAL, "\"b\""},
		{"type=bind,source=/a,target=/b,bogus=1", EINVAL, "unknown option \"bogus\""},
		{"type=bind,source=/a,target=/b,ro=maybe", EINVAL, "bad value for ro: \"maybe\""},
		{"type=bind,source=/a,target=/b,ro,readonly", EINVAL, "given twice"},
		{"type=bind,type=tmpfs,target=/b", EINVAL, "type given twice"},
		{"type=bind,source=/a,target=/b,bind-propagation=weird", EINVAL, "bad bind-propagation \"weird\""},
		{"type=bind,source=/a,target=/b,tmpfs-size=1m", EINVAL, "tmpfs options with type=bind"},
		{"type=tmpfs,source=/a,target=/b", EINVAL, "takes no source"},
		{"type=tmpfs,target=/b,tmpfs-mode=99", EINVAL, "bad tmpfs-mode \"99\""},
		{"type=tmpfs,target=/b,tmpfs-size=1.5.5g", EINVAL, "1.5.5g"},
		{"type=tmpfs,target=/b,bind-propagation=shared", EINVAL, "bind-propagation with type=tmpfs"},
		{"type=tmpfs,target=/", EINVAL, "cannot mount over /"},
		{"type=bind,source=,target=/b", EINVAL, "source needs a value"},
		{"type=bind,,source=/a,target=/b", EINVAL, "empty option"},
	};

	ok(ctr_parse_mount("type=bind,source=/a,destination=/b,ro", &m, &e), &e);
	assert_string_equal(m.type, "bind");
	assert_string_equal(m.source, "/a");
	assert_string_equal(m.destination, "/b");
	opts_are(&m.options, "ro");
	ctr_mount_release(&m);
	ok(ctr_parse_mount("type=bind,src=/a,dst=/b,readonly=false,bind-propagation=rslave", &m, &e), &e);
	opts_are(&m.options, "rslave");
	ctr_mount_release(&m);
	ok(ctr_parse_mount("type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1777,ro=true", &m, &e), &e);
	assert_string_equal(m.type, "tmpfs");
	assert_null(m.source);
	opts_are(&m.options, "ro,size=1048576,mode=1777");
	ctr_mount_release(&m);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ctr_mount z = {0};
		check_err(ctr_parse_mount(bad[i].s, &z, &e), &e, bad[i].st, bad[i].want);
		assert_null(z.type);
	}
}

/* ---- restart ---- */

static void test_parse_restart(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		enum ctr_restart r;
		unsigned max;
	} good[] = {{"no", CTR_RESTART_NO, 0},
		    {"", CTR_RESTART_NO, 0},
		    {"always", CTR_RESTART_ALWAYS, 0},
		    {"unless-stopped", CTR_RESTART_UNLESS_STOPPED, 0},
		    {"on-failure", CTR_RESTART_ON_FAILURE, 0},
		    {"on-failure:3", CTR_RESTART_ON_FAILURE, 3}};
	static const char *const bad[] = {"on-failure:-1",  "on-failure:x",
					  "always:3",	    "sometimes",
					  "on-failure:",    "on-failure:99999999999",
					  "no:1",	    "ALWAYS",
					  "on-failure:3:4", ":3"};
	struct skiff_err *e = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		enum ctr_restart r = CTR_RESTART_ALWAYS;
		unsigned max = 99;
		ok(ctr_parse_restart(good[i].s, &r, &max, &e), &e);
		assert_int_equal(r, good[i].r);
		assert_int_equal(max, good[i].max);
		assert_string_equal(ctr_restart_name(r), good[i].s[0] && strcmp(good[i].s, "on-failure:3")
								 ? good[i].s
								 : (r == CTR_RESTART_NO ? "no" : "on-failure"));
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		enum ctr_restart r = CTR_RESTART_UNLESS_STOPPED;
		unsigned max = 99;
		check_err(ctr_parse_restart(bad[i], &r, &max, &e), &e, EINVAL, bad[i]);
		assert_int_equal(r, CTR_RESTART_UNLESS_STOPPED);
		assert_int_equal(max, 99);
	}
}

/* ---- env, labels ---- */

static char *tmpdir;

static int setup(void **state)
{
	(void)state;
	char t[] = "/tmp/test_ctrconfig.XXXXXX";
	if (!mkdtemp(t))
		return -1;
	tmpdir = xstrdup(t);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf_at(AT_FDCWD, tmpdir, NULL);
	free(tmpdir);
	return 0;
}

static char *write_tmp(const char *name, const void *data, size_t len)
{
	char *p = xasprintf("%s/%s", tmpdir, name);
	struct skiff_err *e = NULL;
	ok(write_file_atomic(AT_FDCWD, p, data, len, 0644, &e), &e);
	return p;
}

static void strv_is(const struct strv *sv, const char *const *want, size_t n)
{
	if (sv->len != n) {
		for (size_t i = 0; i < sv->len; i++)
			print_error("  [%zu] %s\n", i, sv->v[i]);
	}
	assert_int_equal(sv->len, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(sv->v[i], want[i]);
}

static void test_parse_env(void **state)
{
	(void)state;
	cleanup_strv struct strv env = STRV_INIT;
	struct skiff_err *e = NULL;

	setenv("SKIFF_T_ONE", "1", 1);
	setenv("SKIFF_T_TWO", "two=2", 1);
	unsetenv("SKIFF_T_UNSET");
	ok(ctr_parse_env("A=1", &env, &e), &e);
	ok(ctr_parse_env("B=", &env, &e), &e);
	ok(ctr_parse_env("SKIFF_T_ONE", &env, &e), &e);
	ok(ctr_parse_env("SKIFF_T_UNSET", &env, &e), &e); /* dropped */
	ok(ctr_parse_env("A=override", &env, &e), &e);	  /* by key, in place */
	ok(ctr_parse_env("SKIFF_T_T*", &env, &e), &e);
	{
		static const char *const want[] = {"A=override", "B=", "SKIFF_T_ONE=1", "SKIFF_T_TWO=two=2"};
		strv_is(&env, want, ARRAY_SIZE(want));
	}
	check_err(ctr_parse_env("", &env, &e), &e, EINVAL, "invalid environment variable");
	check_err(ctr_parse_env("=x", &env, &e), &e, EINVAL, "\"=x\": empty name");
	check_err(ctr_parse_env(NULL, &env, &e), &e, EINVAL, "invalid environment variable");
	assert_int_equal(env.len, 4);
}

static void test_parse_env_file(void **state)
{
	(void)state;
	cleanup_strv struct strv env = STRV_INIT;
	struct skiff_err *e = NULL;
	static const char good[] = "# comment\n"
				   "\n"
				   "   \n"
				   "A=1\r\n"
				   "  B=two words\n"
				   "C=x=y\n"
				   "SKIFF_T_FILE\n"
				   "SKIFF_T_NOPE\n"
				   "A=again";
	cleanup_free char *p = write_tmp("good.env", good, strlen(good));

	setenv("SKIFF_T_FILE", "from-env", 1);
	unsetenv("SKIFF_T_NOPE");
	strv_push(&env, "PRE=0");
	ok(ctr_parse_env_file(p, &env, &e), &e);
	{
		static const char *const want[] = {"PRE=0", "A=again", "B=two words", "C=x=y", "SKIFF_T_FILE=from-env"};
		strv_is(&env, want, ARRAY_SIZE(want));
	}

	/* hostile files: the env is left as it was */
	static const char nul[] = "A=1\nB=x\0y\n";
	cleanup_free char *pn = write_tmp("nul.env", nul, sizeof(nul) - 1);
	check_err(ctr_parse_env_file(pn, &env, &e), &e, EINVAL, "line 2: contains a NUL byte");
	cleanup_free char *big = xmalloc(100000);
	memset(big, 'A', 100000);
	big[0] = 'X';
	big[1] = '=';
	cleanup_free char *pl = write_tmp("long.env", big, 100000);
	check_err(ctr_parse_env_file(pl, &env, &e), &e, EINVAL, "line 1: longer than");
	static const char sp[] = "OK=1\nBAD KEY=1\n";
	cleanup_free char *ps = write_tmp("space.env", sp, strlen(sp));
	check_err(ctr_parse_env_file(ps, &env, &e), &e, EINVAL, "line 2: invalid environment variable \"BAD KEY=1\"");
	static const char eq[] = "=nokey\n";
	cleanup_free char *pe = write_tmp("eq.env", eq, strlen(eq));
	check_err(ctr_parse_env_file(pe, &env, &e), &e, EINVAL, "\"=nokey\": empty name");
	cleanup_free char *missing = xasprintf("%s/missing.env", tmpdir);
	check_err(ctr_parse_env_file(missing, &env, &e), &e, ENOENT, "missing.env");
	check_err(ctr_parse_env_file(tmpdir, &env, &e), &e, EISDIR, tmpdir);
	check_err(ctr_parse_env_file("", &env, &e), &e, EINVAL, "empty path");
	assert_int_equal(env.len, 5);
	assert_string_equal(env.v[1], "A=again");
}

static void test_parse_labels(void **state)
{
	(void)state;
	struct spec_map labels = {0};
	struct skiff_err *e = NULL;
	static const char file[] = "# labels\n  k1=v1  \nflag\n\nk2=a=b\r\nk1=v2\n";
	cleanup_free char *p = write_tmp("labels", file, strlen(file));

	ok(ctr_parse_label("a=1", &labels, &e), &e);
	ok(ctr_parse_label("b", &labels, &e), &e);
	ok(ctr_parse_label("a=2", &labels, &e), &e);
	assert_string_equal(spec_map_get(&labels, "a"), "2");
	assert_string_equal(spec_map_get(&labels, "b"), "");
	check_err(ctr_parse_label("=x", &labels, &e), &e, EINVAL, "\"=x\": empty name");
	check_err(ctr_parse_label("", &labels, &e), &e, EINVAL, "invalid label");
	ok(ctr_parse_label_file(p, &labels, &e), &e);
	assert_string_equal(spec_map_get(&labels, "k1"), "v2");
	assert_string_equal(spec_map_get(&labels, "flag"), "");
	assert_string_equal(spec_map_get(&labels, "k2"), "a=b");
	assert_int_equal(labels.len, 5);

	static const char nul[] = "x=1\0\n";
	cleanup_free char *pn = write_tmp("nul.labels", nul, sizeof(nul) - 1);
	check_err(ctr_parse_label_file(pn, &labels, &e), &e, EINVAL, "line 1: contains a NUL byte");
	static const char bad[] = "ok=1\n=v\n";
	cleanup_free char *pb = write_tmp("bad.labels", bad, strlen(bad));
	check_err(ctr_parse_label_file(pb, &labels, &e), &e, EINVAL, "line 2: invalid label \"=v\"");
	assert_null(spec_map_get(&labels, "ok")); /* untouched on failure */
	cleanup_free char *missing = xasprintf("%s/nope", tmpdir);
	check_err(ctr_parse_label_file(missing, &labels, &e), &e, ENOENT, "nope");
	assert_int_equal(labels.len, 5);
	spec_map_release(&labels);
}

static void test_parse_add_host(void **state)
{
	(void)state;
	static const char *const good[] = {"h:1.2.3.4", "h:::1", "a;b.example:10.0.0.1", "x_y-z:fe80::1"};
	static const struct {
		const char *s;
		int st;
		const char *want;
	} bad[] = {
		{"", EINVAL, "empty"},
		{"h", EINVAL, "\"h\": expected HOST:IP"},
		{":1.2.3.4", EINVAL, "empty host name"},
		{"h:", EINVAL, "\"h:\": empty IP address"},
		{"h:notip", EINVAL, "bad IP address \"notip\""},
		{"h:1.2.3.256", EINVAL, "bad IP address"},
		{"h:host-gateway", ENOTSUP, "host-gateway"},
		{"bad host:1.2.3.4", EINVAL, "bad host name \"bad host\""},
		{"h\n:1.2.3.4", EINVAL, "bad host name"},
		{"a;:1.2.3.4", EINVAL, "empty host name"},
		{"h:[::1]", EINVAL, "bad IP address \"[::1]\""},
	};
	struct skiff_err *e = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		ok(ctr_parse_add_host(good[i], &e), &e);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		check_err(ctr_parse_add_host(bad[i].s, &e), &e, bad[i].st, bad[i].want);
}

static void test_parse_duration(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int64_t want;
	} good[] = {{"30s", 30000000000LL}, {"1m30s", 90000000000LL},
		    {"500ms", 500000000},   {"2h", 7200000000000LL},
		    {"1.5s", 1500000000},   {"0", 0},
		    {"10us", 10000},	    {"7ns", 7}};
	static const char *const bad[] = {"", "5", "s", "1x", "-1s", "1s-", " 1s", "1.2.3s", "99999999999h", "1e9999s"};
	struct skiff_err *e = NULL;
	int64_t v;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		ok(ctr_parse_duration(good[i].s, &v, &e), &e);
		assert_int_equal(v, good[i].want);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 42;
		assert_int_equal(ctr_parse_duration(bad[i], &v, &e), -1);
		assert_non_null(e);
		assert_non_null(strstr(e->msg, "invalid duration"));
		err_clear(&e);
		assert_int_equal(v, 42);
	}
}

static void test_health(void **state)
{
	(void)state;
	struct ctr_config *c = ctr_config_new();
	struct strv argv = STRV_INIT;
	assert_false(ctr_health_argv(c, &argv));
	struct spec_healthcheck img = {.interval = 5000000000LL, .retries = 7};
	strv_push(&img.test, "CMD");
	strv_push(&img.test, "/bin/check");
	strv_push(&img.test, "--fast");
	c->health_timeout = 1000000000LL; /* a flag beats the image */
	ctr_resolve_health(c, &img);
	assert_int_equal(c->health_interval, 5000000000LL);
	assert_int_equal(c->health_timeout, 1000000000LL);
	assert_int_equal(c->health_start_period, 0);
	assert_int_equal(c->health_retries, 7);
	assert_true(ctr_health_argv(c, &argv));
	assert_int_equal(argv.len, 2);
	assert_string_equal(argv.v[1], "--fast");
	strv_release(&argv);
	/* the store's round trip keeps it */
	struct json *j = ctr_config_to_json(c);
	struct ctr_config *back = NULL;
	struct skiff_err *e = NULL;
	ok(ctr_config_from_json(j, &back, &e), &e);
	assert_int_equal(back->health_retries, 7);
	assert_int_equal(back->health_test.len, 3);
	json_free(j);
	ctr_config_free(back);
	/* CMD-SHELL runs a shell; NONE and an empty CMD are none */
	strv_release(&c->health_test);
	strv_push(&c->health_test, "CMD-SHELL");
	strv_push(&c->health_test, "exit 0");
	assert_true(ctr_health_argv(c, &argv));
	assert_string_equal(argv.v[0], "/bin/sh");
	assert_string_equal(argv.v[2], "exit 0");
	strv_release(&argv);
	strv_release(&c->health_test);
	strv_push(&c->health_test, "NONE");
	assert_false(ctr_health_argv(c, &argv));
	strv_release(&c->health_test);
	strv_push(&c->health_test, "CMD");
	assert_false(ctr_health_argv(c, &argv));
	strv_release(&img.test);
	ctr_config_free(c);
	/* no image healthcheck: docker's defaults */
	c = ctr_config_new();
	ctr_resolve_health(c, NULL);
	assert_int_equal(c->health_interval, 30000000000LL);
	assert_int_equal(c->health_retries, 3);
	ctr_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_round_trip), cmocka_unit_test(test_json_defaults),
		cmocka_unit_test(test_json_hostile),	cmocka_unit_test(test_random_name),
		cmocka_unit_test(test_parse_bytes),	cmocka_unit_test(test_parse_cpus),
		cmocka_unit_test(test_parse_ulimit),	cmocka_unit_test(test_parse_volume),
		cmocka_unit_test(test_parse_tmpfs),	cmocka_unit_test(test_parse_mount),
		cmocka_unit_test(test_parse_restart),	cmocka_unit_test(test_parse_env),
		cmocka_unit_test(test_parse_env_file),	cmocka_unit_test(test_parse_labels),
		cmocka_unit_test(test_parse_add_host),	cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_health),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
