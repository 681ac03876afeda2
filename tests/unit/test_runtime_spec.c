/* Unit tests for pkg/spec/runtime: OCI runtime-spec config.json. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkg/spec/runtime.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

#define S(lit) (lit), strlen(lit)

static void check_err(int rc, struct skiff_err **e, const char *want)
{
	if (rc != -1 || !*e || (*e)->status != EINVAL || !strstr((*e)->msg, want)) {
		print_error("rc %d, status %d, message \"%s\", wanted \"%s\"\n", rc, *e ? (*e)->status : 0,
			    *e ? (*e)->msg : "(none)", want);
		fail();
	}
	err_clear(e);
}

/* Parse must fail with EINVAL naming want, leaving ret untouched. */
static void parse_fails(const char *doc, size_t len, const char *want)
{
	struct spec_runtime *s = NULL;
	struct skiff_err *e = NULL;
	int rc = spec_runtime_parse(doc, len, &s, &e);
	if (rc == 0)
		print_error("parsed unexpectedly: %.300s\n", doc);
	assert_null(s);
	check_err(rc, &e, want);
}

static struct spec_runtime *parse_ok(const char *doc, size_t len)
{
	struct spec_runtime *s = NULL;
	struct skiff_err *e = NULL;
	if (spec_runtime_parse(doc, len, &s, &e) < 0) {
		print_error("parse: %s\n", e->msg);
		err_free(e);
		fail();
	}
	return s;
}

static char *gen_ok(const struct spec_runtime *s)
{
	struct strbuf sb = STRBUF_INIT;
	struct skiff_err *e = NULL;
	if (spec_runtime_generate(s, &sb, &e) < 0) {
		print_error("generate: %s\n", e->msg);
		err_free(e);
		fail();
	}
	return strbuf_detach(&sb, NULL);
}

/* generate -> parse -> generate gives the same bytes; returns the first generation. */
static char *round_trip(const struct spec_runtime *s)
{
	char *a = gen_ok(s);
	cleanup_spec_runtime struct spec_runtime *s2 = parse_ok(a, strlen(a));
	cleanup_free char *b = gen_ok(s2);
	assert_string_equal(a, b);
	return a;
}

/* ---- the default spec ---- */

static void test_default_rootful(void **state)
{
	(void)state;
	cleanup_spec_runtime struct spec_runtime *s = spec_runtime_default(false);
	cleanup_free char *j = round_trip(s);
	struct spec_rt_process *p = s->process;

	assert_string_equal(s->oci_version, SPEC_RUNTIME_VERSION);
	assert_int_equal(p->args.len, 1);
	assert_string_equal(p->args.v[0], "sh");
	assert_string_equal(p->env.v[0], SPEC_RUNTIME_DEFAULT_PATH);
	assert_string_equal(p->env.v[1], "TERM=xterm");
	assert_string_equal(p->cwd, "/");
	assert_int_equal(p->capabilities->bounding.len, 11);
	assert_true(strv_contains(&p->capabilities->effective, "CAP_NET_BIND_SERVICE"));
	assert_true(strv_contains(&p->capabilities->permitted, "CAP_SYS_CHROOT"));
	assert_int_equal(p->capabilities->inheritable.len, 0);
	assert_int_equal(p->n_rlimits, 1);
	assert_string_equal(p->rlimits[0].type, "RLIMIT_NOFILE");
	assert_true(p->no_new_privileges);
	assert_string_equal(s->root_path, "rootfs");
	assert_true(s->root_readonly);
	assert_int_equal(s->n_mounts, 7);
	assert_string_equal(s->mounts[2].destination, "/dev/pts");
	assert_true(strv_contains(&s->mounts[2].options, "gid=5"));
	assert_string_equal(s->mounts[5].type, "sysfs");
	assert_null(spec_runtime_find_namespace(s, SPEC_NS_USER));
	assert_non_null(spec_runtime_find_namespace(s, SPEC_NS_CGROUP));
	assert_int_equal(s->linux_spec->n_namespaces, 6);
	assert_int_equal(s->linux_spec->uid_mappings.len, 0);
	assert_int_equal(s->linux_spec->masked_paths.len, 10);
	assert_int_equal(s->linux_spec->readonly_paths.len, 5);

	/* Key order follows the spec. */
	assert_memory_equal(
		j,
		"{\"ociVersion\":\"1.0.0\",\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},"
		"\"args\":[\"sh\"],",
		strlen("{\"ociVersion\":\"1.0.0\",\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},"
		       "\"args\":[\"sh\"],"));
	assert_non_null(strstr(j, "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
				  "\"noNewPrivileges\":true},\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
				  "\"hostname\":\"skiff\",\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\","
				  "\"source\":\"proc\"},"));
	assert_non_null(strstr(j, "\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
				  "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
				  "{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}],\"maskedPaths\":["));
	assert_non_null(strstr(j, "\"/proc/scsi\"],\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\","
				  "\"/proc/sys\",\"/proc/sysrq-trigger\"]}}"));
}

static void test_default_rootless(void **state)
{
	(void)state;
	cleanup_spec_runtime struct spec_runtime *s = spec_runtime_default(true);
	cleanup_free char *j = round_trip(s);
	cleanup_free char *want = NULL;
	struct spec_rt_linux *l = s->linux_spec;

	assert_false(strv_contains(&s->mounts[2].options, "gid=5"));
	assert_true(strv_contains(&s->mounts[2].options, "ptmxmode=0666"));
	assert_string_equal(s->mounts[5].destination, "/sys");
	assert_string_equal(s->mounts[5].source, "/sys");
	assert_true(strv_contains(&s->mounts[5].options, "rbind"));
	assert_true(strv_contains(&s->mounts[5].options, "ro"));
	assert_non_null(spec_runtime_find_namespace(s, SPEC_NS_USER));
	assert_int_equal(l->n_namespaces, 7);
	assert_null(l->resources);
	assert_int_equal(l->uid_mappings.len, 1);
	assert_int_equal(l->uid_mappings.v[0].container_id, 0);
	assert_int_equal(l->uid_mappings.v[0].host_id, geteuid());
	assert_int_equal(l->gid_mappings.v[0].host_id, getegid());
	assert_int_equal(l->gid_mappings.v[0].size, 1);
	want = xasprintf("\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":%u,\"size\":1}],",
			 (unsigned)geteuid());
	assert_non_null(strstr(j, want));
	assert_non_null(strstr(j, "{\"type\":\"cgroup\"},{\"type\":\"user\"}]"));
}

/* ---- a real-shaped config.json (as podman writes for crun), with keys we keep opaque ---- */

static const char podman_config[] =
	"{\n"
	"  \"ociVersion\": \"1.1.0+dev\",\n"
	"  \"process\": {\n"
	"    \"user\": {\"uid\": 1000, \"gid\": 1000, \"umask\": 18, \"additionalGids\": [10, 1000]},\n"
	"    \"args\": [\"/bin/sh\", \"-c\", \"echo <hi> & bye\"],\n"
	"    \"env\": [\"PATH=/usr/bin:/bin\", \"TERM=xterm\", \"container=podman\", \"HOME=/root\"],\n"
	"    \"cwd\": \"/work\",\n"
	"    \"consoleSize\": {\"height\": 24, \"width\": 80},\n"
	"    \"capabilities\": {\n"
	"      \"bounding\": [\"CAP_CHOWN\", \"CAP_KILL\"], \"effective\": [\"CAP_CHOWN\"],\n"
	"      \"permitted\": [\"CAP_CHOWN\"], \"ambient\": []\n"
	"    },\n"
	"    \"rlimits\": [\n"
	"      {\"type\": \"RLIMIT_NOFILE\", \"hard\": 1048576, \"soft\": 1048576},\n"
	"      {\"type\": \"RLIMIT_CORE\", \"hard\": 18446744073709551615, \"soft\": 18446744073709551615},\n"
	"      {\"type\": \"RLIMIT_NPROC\", \"hard\": 4194304, \"soft\": 4194304}\n"
	"    ],\n"
	"    \"noNewPrivileges\": false,\n"
	"    \"apparmorProfile\": \"containers-default-0.50.0\",\n"
	"    \"oomScoreAdj\": -500,\n"
	"    \"selinuxLabel\": \"system_u:system_r:container_t:s0:c1,c2\",\n"
	"    \"scheduler\": {\"policy\": \"SCHED_OTHER\", \"nice\": 5},\n"
	"    \"terminal\": false\n"
	"  },\n"
	"  \"root\": {\"path\": \"/var/lib/containers/storage/overlay/abc/merged\"},\n"
	"  \"hostname\": \"0123456789ab\",\n"
	"  \"mounts\": [\n"
	"    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\", \"options\": [\"nosuid\", "
	"\"noexec\", \"nodev\"]},\n"
	"    {\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/home/u/data\", \"options\": [\"rbind\"],"
	"     \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]},\n"
	"    {\"destination\": \"/etc/hosts\", \"type\": \"bind\", \"source\": \"/run/x/hosts\", \"options\": "
	"[\"bind\", \"rprivate\"]}\n"
	"  ],\n"
	"  \"hooks\": {\"prestart\": [{\"path\": \"/usr/bin/hook\", \"args\": [\"hook\", \"x\"], \"timeout\": 5}]},\n"
	"  \"annotations\": {\"io.podman.annotations.autoremove\": \"FALSE\", \"io.container.manager\": \"libpod\"},\n"
	"  \"linux\": {\n"
	"    \"sysctl\": {\"net.ipv4.ping_group_range\": \"0 0\"},\n"
	"    \"resources\": {\n"
	"      \"devices\": [{\"allow\": false, \"access\": \"rwm\"}, {\"allow\": true, \"type\": \"c\", \"major\": 1, "
	"\"minor\": 3, \"access\": \"rwm\"}],\n"
	"      \"memory\": {\"limit\": 536870912, \"swap\": 1073741824, \"swappiness\": 60, \"disableOOMKiller\": "
	"false},\n"
	"      \"cpu\": {\"shares\": 1024, \"quota\": 50000, \"period\": 100000, \"cpus\": \"0-3\", \"mems\": \"0\", "
	"\"burst\": 0},\n"
	"      \"pids\": {\"limit\": 2048},\n"
	"      \"blockIO\": {\"weight\": 100},\n"
	"      \"unified\": {\"memory.high\": \"max\"}\n"
	"    },\n"
	"    \"cgroupsPath\": \"machine.slice:libpod:0123456789ab\",\n"
	"    \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\", \"path\": \"/run/netns/netns-1\"}, "
	"{\"type\": \"ipc\"}, {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"}, {\"type\": \"time\", "
	"\"path\": \"\"}],\n"
	"    \"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229, \"fileMode\": "
	"438, "
	"\"uid\": 0, \"gid\": 0}, {\"path\": \"/dev/fifo\", \"type\": \"p\"}],\n"
	"    \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, \"architectures\": "
	"[\"SCMP_ARCH_X86_64\"], \"syscalls\": [{\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"}]},\n"
	"    \"rootfsPropagation\": \"rprivate\",\n"
	"    \"maskedPaths\": [\"/proc/acpi\", \"/proc/kcore\"],\n"
	"    \"readonlyPaths\": [\"/proc/sys\"],\n"
	"    \"mountLabel\": \"system_u:object_r:container_file_t:s0:c1,c2\",\n"
	"    \"personality\": {\"domain\": \"LINUX32\"},\n"
	"    \"intelRdt\": {\"closID\": \"x\"}\n"
	"  },\n"
	"  \"vm\": {\"hypervisor\": {\"path\": \"/usr/bin/qemu\"}}\n"
	"}\n";

static void test_podman_config(void **state)
{
	(void)state;
	cleanup_spec_runtime struct spec_runtime *s = parse_ok(S(podman_config));
	struct spec_rt_process *p = s->process;
	struct spec_rt_linux *l = s->linux_spec;
	cleanup_free char *j = NULL;

	assert_string_equal(s->oci_version, "1.1.0+dev");
	assert_int_equal(p->user.uid, 1000);
	assert_true(p->user.has_umask);
	assert_int_equal(p->user.umask, 18);
	assert_int_equal(p->user.additional_gids.len, 2);
	assert_int_equal(p->user.additional_gids.v[0], 10);
	assert_string_equal(p->args.v[2], "echo <hi> & bye");
	assert_true(p->has_console_size);
	assert_int_equal(p->console_width, 80);
	assert_int_equal(p->capabilities->bounding.len, 2);
	assert_int_equal(p->n_rlimits, 3);
	assert_true(p->rlimits[1].hard == UINT64_MAX && p->rlimits[1].soft == UINT64_MAX);
	assert_true(p->has_oom_score_adj);
	assert_int_equal(p->oom_score_adj, -500);
	assert_non_null(json_object_get(p->extra, "scheduler"));
	assert_false(s->root_readonly);
	assert_int_equal(s->n_mounts, 3);
	assert_non_null(json_object_get(s->mounts[1].extra, "uidMappings"));
	assert_null(s->mounts[0].extra);
	assert_non_null(s->hooks);
	assert_string_equal(spec_map_get(&s->annotations, "io.container.manager"), "libpod");
	assert_string_equal(spec_map_get(&l->sysctl, "net.ipv4.ping_group_range"), "0 0");
	assert_int_equal(l->resources->n_devices, 2);
	assert_false(l->resources->devices[0].allow);
	assert_false(l->resources->devices[0].has_major);
	assert_true(l->resources->devices[1].has_major);
	assert_true(l->resources->memory->has_limit);
	assert_false(l->resources->memory->has_reservation);
	assert_int_equal(l->resources->memory->limit, 536870912);
	assert_non_null(json_object_get(l->resources->memory->extra, "swappiness"));
	assert_int_equal(l->resources->cpu->quota, 50000);
	assert_string_equal(l->resources->cpu->cpus, "0-3");
	assert_int_equal(l->resources->pids_limit, 2048);
	assert_non_null(json_object_get(l->resources->extra, "unified"));
	assert_int_equal(l->n_namespaces, 7);
	assert_int_equal(l->namespaces[1].type, SPEC_NS_NETWORK);
	assert_string_equal(l->namespaces[1].path, "/run/netns/netns-1");
	assert_int_equal(l->namespaces[6].type, SPEC_NS_TIME);
	assert_int_equal(l->n_devices, 2);
	assert_int_equal(l->devices[0].type, 'c');
	assert_int_equal(l->devices[0].minor, 229);
	assert_true(l->devices[0].has_file_mode);
	assert_int_equal(l->devices[0].file_mode, 0666);
	assert_int_equal(l->devices[1].type, 'p');
	assert_string_equal(json_object_get_string(l->seccomp, "defaultAction"), "SCMP_ACT_ERRNO");
	assert_string_equal(l->rootfs_propagation, "rprivate");
	assert_string_equal(l->personality->domain, "LINUX32");
	assert_non_null(json_object_get(l->extra, "intelRdt"));
	assert_non_null(json_object_get(s->extra, "vm"));

	j = round_trip(s);
	assert_memory_equal(
		j, "{\"ociVersion\":\"1.1.0+dev\",\"process\":{\"consoleSize\":{\"height\":24,\"width\":80},",
		strlen("{\"ociVersion\":\"1.1.0+dev\",\"process\":{\"consoleSize\":{\"height\":24,\"width\":80},"));
	assert_non_null(
		strstr(j, "{\"type\":\"RLIMIT_CORE\",\"hard\":18446744073709551615,\"soft\":18446744073709551615}"));
	assert_non_null(strstr(j, "\"user\":{\"uid\":1000,\"gid\":1000,\"umask\":18,\"additionalGids\":[10,1000]}"));
	assert_non_null(strstr(j, "\"echo \\u003chi\\u003e \\u0026 bye\""));
	assert_non_null(strstr(j, "\"oomScoreAdj\":-500,\"selinuxLabel\":\"system_u:system_r:container_t:s0:c1,c2\","
				  "\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":5}}"));
	assert_non_null(
		strstr(j, "\"options\":[\"rbind\"],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]}"));
	/* Annotations sorted; hooks verbatim. */
	assert_non_null(strstr(j, "\"hooks\":{\"prestart\":[{\"path\":\"/usr/bin/hook\",\"args\":[\"hook\",\"x\"],"
				  "\"timeout\":5}]},\"annotations\":{\"io.container.manager\":\"libpod\","
				  "\"io.podman.annotations.autoremove\":\"FALSE\"},\"linux\":{\"sysctl\":"));
	assert_non_null(strstr(j,
			       "\"memory\":{\"limit\":536870912,\"swap\":1073741824,\"swappiness\":60,"
			       "\"disableOOMKiller\":false},\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,"
			       "\"cpus\":\"0-3\",\"mems\":\"0\",\"burst\":0},\"pids\":{\"limit\":2048},\"blockIO\":"));
	assert_non_null(strstr(j, "{\"type\":\"time\"}]"));
	assert_non_null(strstr(j, "{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229,\"fileMode\":438,"
				  "\"uid\":0,\"gid\":0},{\"path\":\"/dev/fifo\",\"type\":\"p\"}]"));
	assert_non_null(strstr(j, "\"personality\":{\"domain\":\"LINUX32\"},\"intelRdt\":{\"closID\":\"x\"}},"
				  "\"vm\":{\"hypervisor\":{\"path\":\"/usr/bin/qemu\"}}}"));
	assert_null(strstr(j, "terminal"));
	assert_null(strstr(j, "noNewPrivileges"));
}

/* ---- validation ---- */

#define MIN_ROOT "\"root\":{\"path\":\"rootfs\"}"
#define DOC(...) "{\"ociVersion\":\"1.0.0\"," MIN_ROOT "," __VA_ARGS__ "}"
#define PROC(...) "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"," __VA_ARGS__ "}"
#define LNX(...) "\"linux\":{" __VA_ARGS__ "}"

static void test_validation(void **state)
{
	(void)state;
	static const struct {
		const char *doc;
		const char *want;
	} cases[] = {
		{DOC(LNX("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"foo\"}]")),
		 "linux.namespaces[2].type: unknown namespace type \"foo\""},
		{DOC(LNX("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]")),
		 "linux.namespaces[1].type: duplicate namespace type \"pid\""},
		{DOC(LNX("\"namespaces\":[{\"path\":\"/x\"}]")), "linux.namespaces[0].type: missing"},
		{DOC(LNX("\"namespaces\":[{\"type\":\"net\"}]")), "unknown namespace type \"net\""},
		{DOC(LNX("\"namespaces\":[{\"type\":\"pid\",\"path\":\"proc/1/ns/pid\"}]")),
		 "linux.namespaces[0].path: must be absolute"},
		{DOC(LNX("\"namespaces\":[\"pid\"]")), "linux.namespaces[0]: expected an object, got string"},
		{DOC("\"process\":{\"args\":[],\"cwd\":\"/\"}"), "process.args: must not be empty"},
		{DOC("\"process\":{\"cwd\":\"/\"}"), "process.args: must not be empty"},
		{DOC("\"process\":{\"args\":[\"sh\"]}"), "process.cwd: missing"},
		{DOC("\"process\":{\"args\":[\"sh\"],\"cwd\":\"work\"}"),
		 "process.cwd: must be absolute, got \"work\""},
		{DOC("\"mounts\":[{\"destination\":\"proc\",\"type\":\"proc\"}]"),
		 "mounts[0].destination: must be absolute, got \"proc\""},
		{DOC("\"mounts\":[{\"destination\":\"/a\"},{\"type\":\"proc\"}]"), "mounts[1].destination: missing"},
		{DOC("\"mounts\":[{\"destination\":\"/a\",\"options\":[\"ro\",1]}]"),
		 "mounts[0].options[1]: expected a string, got number"},
		{DOC(LNX("\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":0}]")),
		 "linux.uidMappings[0].size: must not be 0"},
		{DOC(LNX("\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1},{\"containerID\":1,"
			 "\"hostID\":"
			 "100000,\"size\":0}]")),
		 "linux.gidMappings[1].size: must not be 0"},
		{DOC(LNX("\"uidMappings\":[{\"containerID\":0,\"hostID\":4294967295,\"size\":2}]")),
		 "linux.uidMappings[0]: range overflows"},
		{DOC(LNX("\"uidMappings\":[{\"containerID\":0,\"hostID\":4294967296,\"size\":1}]")),
		 "linux.uidMappings[0].hostID: must be <= 4294967295"},
		{DOC(LNX("\"uidMappings\":[{\"containerID\":0,\"size\":1}]")), "linux.uidMappings[0].hostID: missing"},
		{DOC(LNX("\"uidMappings\":{}")), "linux.uidMappings: expected an array, got object"},
		{DOC(PROC("\"rlimits\":[{\"type\":\"NOFILE\",\"hard\":1,\"soft\":1}]")),
		 "process.rlimits[0].type: unknown rlimit type \"NOFILE\""},
		{DOC(PROC("\"rlimits\":[{\"type\":\"RLIMIT_FOO\",\"hard\":1,\"soft\":1}]")),
		 "unknown rlimit type \"RLIMIT_FOO\""},
		{DOC(PROC("\"rlimits\":[{\"hard\":1,\"soft\":1}]")), "process.rlimits[0].type: missing"},
		{DOC(PROC("\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":1,\"soft\":1},{\"type\":\"RLIMIT_CORE\","
			  "\"hard\":2,\"soft\":2}]")),
		 "process.rlimits[1].type: duplicate rlimit type \"RLIMIT_CORE\""},
		{DOC(PROC("\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":1,\"soft\":2}]")),
		 "process.rlimits[0]: soft limit 2 is above hard limit 1"},
		{DOC(PROC("\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":-1,\"soft\":0}]")),
		 "process.rlimits[0].hard: must be >= 0, got -1"},
		{DOC(PROC("\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":1.5,\"soft\":0}]")),
		 "process.rlimits[0].hard: expected an integer, got 1.5"},
		{DOC(PROC("\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":1e30,\"soft\":0}]")),
		 "process.rlimits[0].hard: expected an integer"},
		{DOC(PROC("\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"chown\"]}")),
		 "process.capabilities.bounding[1]: invalid capability \"chown\""},
		{DOC(PROC("\"capabilities\":{\"ambient\":[\"CAP_\"]}")), "process.capabilities.ambient[0]"},
		{DOC(PROC("\"oomScoreAdj\":1001")), "process.oomScoreAdj: must be in -1000..1000, got 1001"},
		{DOC(PROC("\"user\":{\"uid\":-1}")), "process.user.uid: must be >= 0, got -1"},
		{DOC(PROC("\"user\":{\"uid\":\"root\"}")), "process.user.uid: expected an integer, got string"},
		{DOC(PROC("\"user\":{\"uid\":0,\"additionalGids\":[1,\"x\"]}")), "process.user.additionalGids[1]"},
		{DOC(PROC("\"user\":{\"umask\":4096}")), "process.user.umask: must be <= 0777"},
		{DOC(PROC("\"terminal\":\"yes\"")), "process.terminal: expected a boolean, got string"},
		{DOC(PROC("\"env\":\"A=b\"")), "process.env: expected an array, got string"},
		{DOC(PROC("\"consoleSize\":{\"height\":-3}")), "process.consoleSize.height: must be >= 0"},
		{"{\"ociVersion\":\"1.0.0\"}", "root.path: missing"},
		{"{\"ociVersion\":\"1.0.0\",\"root\":{\"readonly\":true}}", "root.path: missing"},
		{"{\"ociVersion\":\"1.0.0\",\"root\":\"rootfs\"}", "root: expected an object, got string"},
		{"{" MIN_ROOT "}", "ociVersion: missing"},
		{"{\"ociVersion\":\"one\"," MIN_ROOT "}", "ociVersion: not a SemVer version: \"one\""},
		{"{\"ociVersion\":1," MIN_ROOT "}", "ociVersion: expected a string, got number"},
		{DOC("\"hostname\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""),
		 "hostname: too long (65 bytes, max 64)"},
		{DOC("\"domainname\":[]"), "domainname: expected a string, got array"},
		{DOC("\"hooks\":[]"), "hooks: expected an object, got array"},
		{DOC("\"annotations\":{\"a\":1}"), "annotations: \"a\": expected a string, got number"},
		{DOC(LNX("\"sysctl\":{\"net.x\":true}")), "linux.sysctl: \"net.x\": expected a string, got boolean"},
		{DOC(LNX("\"devices\":[{\"path\":\"/dev/x\",\"type\":\"x\",\"major\":1,\"minor\":1}]")),
		 "linux.devices[0].type: must be one of c, b, u, p, got \"x\""},
		{DOC(LNX("\"devices\":[{\"path\":\"/dev/x\",\"type\":\"c\",\"minor\":1}]")),
		 "linux.devices[0].major: missing (required for type c)"},
		{DOC(LNX("\"devices\":[{\"path\":\"dev/x\",\"type\":\"p\"}]")),
		 "linux.devices[0].path: must be absolute"},
		{DOC(LNX("\"devices\":[{\"path\":\"/dev/x\"}]")), "linux.devices[0].type: missing"},
		{DOC(LNX("\"resources\":{\"devices\":[{\"access\":\"rwm\"}]}")),
		 "linux.resources.devices[0].allow: missing"},
		{DOC(LNX("\"resources\":{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}")),
		 "linux.resources.devices[0].access: must be letters of \"rwm\", got \"rwx\""},
		{DOC(LNX("\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"p\"}]}")),
		 "linux.resources.devices[0].type: must be a, c or b"},
		{DOC(LNX("\"resources\":{\"memory\":{\"limit\":-2}}")),
		 "linux.resources.memory.limit: must be >= -1, got -2"},
		{DOC(LNX("\"resources\":{\"memory\":{\"swap\":\"1g\"}}")),
		 "linux.resources.memory.swap: expected an integer, got string"},
		{DOC(LNX("\"resources\":{\"cpu\":{\"cpus\":\"all\"}}")),
		 "linux.resources.cpu.cpus: invalid cpu list \"all\""},
		{DOC(LNX("\"resources\":{\"cpu\":{\"shares\":-5}}")), "linux.resources.cpu.shares: must be >= 0"},
		{DOC(LNX("\"resources\":{\"pids\":{\"limit\":\"max\"}}")),
		 "linux.resources.pids.limit: expected an integer"},
		{DOC(LNX("\"resources\":[]")), "linux.resources: expected an object, got array"},
		{DOC(LNX("\"rootfsPropagation\":\"bogus\"")), "linux.rootfsPropagation: unknown propagation \"bogus\""},
		{DOC(LNX("\"maskedPaths\":[\"/proc/kcore\",\"proc/keys\"]")), "linux.maskedPaths[1]: must be absolute"},
		{DOC(LNX("\"readonlyPaths\":[\"\"]")), "linux.readonlyPaths[0]: missing"},
		{DOC(LNX("\"personality\":{\"domain\":\"BSD\"}")),
		 "linux.personality.domain: must be LINUX or LINUX32"},
		{DOC(LNX("\"seccomp\":\"default\"")), "linux.seccomp: expected an object, got string"},
		{DOC("\"linux\":true"), "linux: expected an object, got boolean"},
		{DOC("\"process\":[]"), "process: expected an object, got array"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		parse_fails(cases[i].doc, strlen(cases[i].doc), cases[i].want);

	/* The same documents with the fault removed parse. */
	cleanup_spec_runtime struct spec_runtime *s =
		parse_ok(S(DOC(LNX("\"namespaces\":[{\"type\":\"pid\",\"path\":\"\"}],\"rootfsPropagation\":\"\""))));
	assert_null(s->linux_spec->namespaces[0].path);
	assert_string_equal(s->linux_spec->rootfs_propagation, "");
}

static void test_lengths(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;

	/* 341 mappings */
	strbuf_addstr(&sb, "{\"ociVersion\":\"1.0.0\"," MIN_ROOT ",\"linux\":{\"uidMappings\":[");
	for (int i = 0; i < 341; i++)
		strbuf_addf(&sb, "%s{\"containerID\":%d,\"hostID\":%d,\"size\":1}", i ? "," : "", i, 100000 + i);
	strbuf_addstr(&sb, "]}}");
	parse_fails(sb.buf, sb.len, "linux.uidMappings: too many mappings (341, max 340)");

	/* A 5000-byte destination */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "{\"ociVersion\":\"1.0.0\"," MIN_ROOT ",\"mounts\":[{\"destination\":\"/");
	strbuf_addchars(&sb, 'a', 5000);
	strbuf_addstr(&sb, "\"}]}");
	parse_fails(sb.buf, sb.len, "mounts[0].destination: too long (5001 bytes, max 4096)");

	/* A huge ociVersion */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "{\"ociVersion\":\"1.0.");
	strbuf_addchars(&sb, '0', 100);
	strbuf_addstr(&sb, "\"," MIN_ROOT "}");
	parse_fails(sb.buf, sb.len, "ociVersion: not a SemVer version");
	strbuf_release(&sb);
}

/* ---- hostile input ---- */

static void test_hostile(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	cleanup_spec_runtime struct spec_runtime *def = spec_runtime_default(true);
	cleanup_free char *j = gen_ok(def);

	/* Every truncation of a valid document fails cleanly. */
	for (size_t n = 0; n < strlen(j); n++) {
		struct spec_runtime *s = NULL;
		struct skiff_err *e = NULL;
		assert_int_equal(spec_runtime_parse(j, n, &s, &e), -1);
		assert_null(s);
		assert_non_null(e);
		assert_int_equal(e->status, EINVAL);
		err_free(e);
	}
	parse_fails(S("[]"), "runtime spec: expected an object, got array");
	parse_fails(S("null"), "expected an object, got null");
	parse_fails(S(""), "runtime spec");
	parse_fails(S("{\"ociVersion\":\"1.0.0\",}"), "runtime spec");

	/* NUL bytes in strings, keys and list items */
	parse_fails(S(DOC("\"hostname\":\"a\\u0000b\"")), "hostname: string contains a NUL byte");
	parse_fails(S(DOC(PROC("\"env\":[\"A=1\",\"B=\\u0000\"]"))), "process.env[1]: string contains a NUL byte");
	parse_fails(S(DOC("\"annotations\":{\"k\":\"\\u0000\"}")), "annotations: \"k\": string contains a NUL byte");
	parse_fails(S(DOC(LNX("\"namespaces\":[{\"type\":\"pid\\u0000x\"}]"))),
		    "linux.namespaces[0].type: string contains a NUL byte");
	/* A NUL byte in the raw document is not JSON. */
	parse_fails("{\"ociVersion\":\"1.0.0\"\0}", 23, "runtime spec");

	/* Wrong types everywhere */
	parse_fails(S(DOC("\"mounts\":{}")), "mounts: expected an array, got object");
	parse_fails(S(DOC("\"mounts\":[null]")), "mounts[0]: expected an object, got null");
	parse_fails(S(DOC("\"annotations\":[]")), "annotations: expected an object, got array");
	parse_fails(S(DOC(PROC("\"capabilities\":{\"bounding\":\"CAP_CHOWN\"}"))),
		    "process.capabilities.bounding: expected an array, got string");
	parse_fails(S(DOC(PROC("\"rlimits\":[5]"))), "process.rlimits[0]: expected an object, got number");

	/* Deep nesting inside the opaque parts: kept as long as pkg/json accepts it. */
	strbuf_addstr(&sb, "{\"ociVersion\":\"1.0.0\"," MIN_ROOT ",\"hooks\":{\"x\":");
	for (int i = 0; i < 400; i++)
		strbuf_addch(&sb, '[');
	for (int i = 0; i < 400; i++)
		strbuf_addch(&sb, ']');
	strbuf_addstr(&sb, "}}");
	{
		cleanup_spec_runtime struct spec_runtime *s = parse_ok(sb.buf, sb.len);
		cleanup_free char *g = round_trip(s);
		assert_non_null(strstr(g, "[[[[]]]]"));
	}
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "{\"ociVersion\":\"1.0.0\",\"hooks\":");
	for (int i = 0; i < 100000; i++)
		strbuf_addch(&sb, '[');
	parse_fails(sb.buf, sb.len, "runtime spec");
	strbuf_release(&sb);
}

static void test_many_mounts(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "{\"ociVersion\":\"1.0.0\"," MIN_ROOT ",\"mounts\":[");
	for (int i = 0; i < 10000; i++)
		strbuf_addf(
			&sb,
			"%s{\"destination\":\"/m/%d\",\"type\":\"bind\",\"source\":\"/s/%d\",\"options\":[\"rbind\"]}",
			i ? "," : "", i, i);
	strbuf_addstr(&sb, "]}");
	{
		cleanup_spec_runtime struct spec_runtime *s = parse_ok(sb.buf, sb.len);
		cleanup_free char *g = NULL;
		assert_int_equal(s->n_mounts, 10000);
		assert_string_equal(s->mounts[9999].destination, "/m/9999");
		g = round_trip(s);
		assert_string_equal(g, sb.buf);
	}
	strbuf_release(&sb);
}

/* ---- builders and generation checks ---- */

static void test_builders(void **state)
{
	(void)state;
	cleanup_spec_runtime struct spec_runtime *s = spec_runtime_default(false);
	struct strbuf sb = STRBUF_INIT;
	struct skiff_err *e = NULL;
	struct spec_rt_mount *m;

	spec_runtime_setenv(s, "TERM", "dumb");
	spec_runtime_setenv(s, "HOME", "/root");
	assert_int_equal(s->process->env.len, 3);
	assert_string_equal(s->process->env.v[1], "TERM=dumb");
	assert_string_equal(s->process->env.v[2], "HOME=/root");

	spec_runtime_set_namespace(s, SPEC_NS_NETWORK, "/run/netns/x");
	assert_string_equal(spec_runtime_find_namespace(s, SPEC_NS_NETWORK)->path, "/run/netns/x");
	assert_true(spec_runtime_remove_namespace(s, SPEC_NS_CGROUP));
	assert_false(spec_runtime_remove_namespace(s, SPEC_NS_CGROUP));
	assert_int_equal(s->linux_spec->n_namespaces, 5);

	spec_runtime_set_rlimit(s, "RLIMIT_NOFILE", 4096, 2048);
	spec_runtime_set_rlimit(s, "RLIMIT_CORE", UINT64_MAX, UINT64_MAX);
	assert_int_equal(s->process->n_rlimits, 2);
	assert_int_equal(s->process->rlimits[0].soft, 2048);

	m = spec_runtime_add_mount(s, "/data", "bind", "/srv/data", "rbind,ro");
	assert_int_equal(m->options.len, 2);
	spec_map_set(&s->annotations, "z", "1");
	spec_map_set(&s->annotations, "a", "2");
	s->extra = json_new_object();
	json_object_set_string(s->extra, "hostname", "ignored: a known key");
	json_object_set_string(s->extra, "x-custom", "kept");
	{
		cleanup_free char *j = round_trip(s);
		assert_non_null(strstr(j, "\"network\",\"path\":\"/run/netns/x\"}"));
		assert_non_null(strstr(j, "\"hard\":18446744073709551615"));
		assert_non_null(strstr(j, "\"annotations\":{\"a\":\"2\",\"z\":\"1\"}"));
		assert_non_null(strstr(j, "\"x-custom\":\"kept\"}"));
		assert_null(strstr(j, "ignored"));
	}

	/* Generation validates; out is untouched on failure. */
	strbuf_addstr(&sb, "prefix");
	free(m->destination);
	m->destination = xstrdup("data");
	check_err(spec_runtime_generate(s, &sb, &e), &e, "mounts[7].destination: must be absolute");
	assert_string_equal(sb.buf, "prefix");
	free(m->destination);
	m->destination = xstrdup("/data");

	spec_runtime_set_rlimit(s, "RLIMIT_NOFILE", 1, 2);
	check_err(spec_runtime_generate(s, &sb, &e), &e, "soft limit 2 is above hard limit 1");
	spec_runtime_set_rlimit(s, "RLIMIT_NOFILE", 2, 2);

	spec_runtime_set_namespace(s, SPEC_NS_PID, NULL);
	s->linux_spec->namespaces[1].type = SPEC_NS_PID;
	check_err(spec_runtime_generate(s, &sb, &e), &e, "linux.namespaces[1].type: duplicate namespace type \"pid\"");
	s->linux_spec->namespaces[1].type = SPEC_NS_NETWORK;

	strv_release(&s->process->args);
	check_err(spec_runtime_generate(s, &sb, &e), &e, "process.args: must not be empty");
	strv_push(&s->process->args, "/bin/true");
	assert_int_equal(spec_runtime_generate(s, &sb, &e), 0);
	assert_memory_equal(sb.buf, "prefix{\"ociVersion\"", 19);
	strbuf_release(&sb);

	assert_string_equal(spec_ns_type_name(SPEC_NS_TIME), "time");
	assert_null(spec_ns_type_name(SPEC_NS_COUNT_));
	assert_int_equal(spec_ns_type_from_name("network"), SPEC_NS_NETWORK);
	assert_int_equal(spec_ns_type_from_name("net"), -1);
	assert_true(spec_rlimit_type_known("RLIMIT_RTTIME"));
	assert_false(spec_rlimit_type_known("RLIMIT_"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_rootful), cmocka_unit_test(test_default_rootless),
		cmocka_unit_test(test_podman_config),	cmocka_unit_test(test_validation),
		cmocka_unit_test(test_lengths),		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_many_mounts),	cmocka_unit_test(test_builders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
