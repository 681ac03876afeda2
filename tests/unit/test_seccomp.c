/* Unit tests for pkg/spec/seccomp (profile -> OCI) and pkg/runtime/seccomp (the filter). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/runtime/seccomp.h"
#include "pkg/spec/seccomp.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

static const char *const podman_caps[] = {
	"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FOWNER",  "CAP_FSETID", "CAP_KILL",	  "CAP_NET_BIND_SERVICE",
	"CAP_SETFCAP", "CAP_SETGID",	   "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT", NULL,
};

/* JSON in this file is written with single quotes: ' -> " (no test string needs an apostrophe). */
static char *dq(const char *s)
{
	char *d = xstrdup(s);
	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static struct json *parse_q(const char *text)
{
	cleanup_free char *t = dq(text);
	struct skiff_err *err = NULL;
	struct json *j = NULL;

	if (json_parse(t, strlen(t), &j, &err) < 0) {
		print_error("%s\n", err->msg);
		err_free(err);
		fail();
	}
	return j;
}

static void caps_fill(struct strv *sv, const char *const *caps)
{
	for (size_t i = 0; caps && caps[i]; i++)
		strv_push(sv, caps[i]);
}

static int convert(const char *text, const char *const *caps, const char *arch, struct json **ret,
		   struct skiff_err **err)
{
	cleanup_strv struct strv sv = STRV_INIT;
	cleanup_free char *t = dq(text);

	caps_fill(&sv, caps);
	return spec_seccomp_profile_to_oci(t, strlen(t), &sv, arch, ret, err);
}

static struct json *convert_ok(const char *text, const char *const *caps, const char *arch)
{
	struct skiff_err *err = NULL;
	struct json *j = NULL;

	if (convert(text, caps, arch, &j, &err) < 0) {
		print_error("convert failed: %s\n", err->msg);
		err_free(err);
		fail();
	}
	assert_non_null(j);
	return j;
}

static char *dump(const struct json *j)
{
	struct strbuf sb = STRBUF_INIT;
	json_dump(j, 0, &sb);
	return strbuf_detach(&sb, NULL);
}

static void check_err(int rc, struct skiff_err **e, int status, const char *want_q)
{
	cleanup_free char *want = dq(want_q);

	if (rc != -1 || !*e || (*e)->status != status || !strstr((*e)->msg, want)) {
		print_error("rc %d, status %d, message '%s', wanted '%s'\n", rc, *e ? (*e)->status : 0,
			    *e ? (*e)->msg : "(none)", want);
		fail();
	}
	err_clear(e);
}

static bool names_have(const struct json *rule, const char *name)
{
	const struct json *names = json_object_get(rule, "names");
	for (size_t i = 0; i < json_array_len(names); i++)
		if (!strcmp(json_string(json_array_get(names, i)), name))
			return true;
	return false;
}

/* How many rules name `name` with action (NULL: any action). */
static size_t count_rules(const struct json *oci, const char *name, const char *action)
{
	const struct json *calls = json_object_get(oci, "syscalls");
	size_t n = 0;

	for (size_t i = 0; i < json_array_len(calls); i++) {
		const struct json *r = json_array_get(calls, i);
		if (names_have(r, name) && (!action || !strcmp(json_object_get_string(r, "action"), action)))
			n++;
	}
	return n;
}

static const struct json *find_rule(const struct json *oci, const char *name, const char *action)
{
	const struct json *calls = json_object_get(oci, "syscalls");

	for (size_t i = 0; i < json_array_len(calls); i++) {
		const struct json *r = json_array_get(calls, i);
		if (names_have(r, name) && !strcmp(json_object_get_string(r, "action"), action))
			return r;
	}
	return NULL;
}

static char *read_default_profile(size_t *ret_len)
{
	const char *dir = getenv("SKIFF_SRCDIR");
	cleanup_free char *path = xasprintf("%s/data/seccomp.json", dir && *dir ? dir : ".");
	struct skiff_err *err = NULL;
	char *buf = NULL;

	if (read_file_at(AT_FDCWD, path, (size_t)1 << 22, &buf, ret_len, &err) < 0) {
		print_error("%s\n", err->msg);
		err_free(err);
		fail();
	}
	return buf;
}

/* ---- conversion ---- */

static void test_native_arch(void **state)
{
	(void)state;
	const char *a = spec_seccomp_native_arch();
	assert_non_null(a);
#if defined(__x86_64__) && !defined(__ILP32__)
	assert_string_equal(a, "amd64");
#elif defined(__aarch64__)
	assert_string_equal(a, "arm64");
#endif
	assert_string_equal(spec_seccomp_action_name(SPEC_SCMP_ACT_KILL_PROCESS), "SCMP_ACT_KILL_PROCESS");
	assert_string_equal(spec_seccomp_op_name(SPEC_SCMP_CMP_MASKED_EQ), "SCMP_CMP_MASKED_EQ");
	assert_null(spec_seccomp_action_name(SPEC_SCMP_ACT_COUNT_));
	assert_true(spec_seccomp_arch_known("SCMP_ARCH_X86_64"));
	assert_false(spec_seccomp_arch_known("SCMP_ARCH_VAX"));
}

static const char caps_profile[] = "{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':1,"
				   "'defaultErrno':'EPERM','comment':'ignored','syscalls':["
				   "{'names':['read','write'],'action':'SCMP_ACT_ALLOW','comment':'x'},"
				   "{'names':['mount'],'action':'SCMP_ACT_ALLOW',"
				   "'includes':{'caps':['CAP_SYS_ADMIN']},'excludes':{}},"
				   "{'names':['bpf'],'action':'SCMP_ACT_ALLOW',"
				   "'includes':{'caps':['CAP_SYS_ADMIN','CAP_BPF']}},"
				   "{'names':['clone3'],'action':'SCMP_ACT_ERRNO','errnoRet':38,"
				   "'errno':'ENOSYS','excludes':{'caps':['CAP_SYS_ADMIN']}},"
				   "{'name':'acct','action':'SCMP_ACT_ALLOW',"
				   "'includes':{'caps':['sys_pacct']}}"
				   "]}";

static void test_convert_caps(void **state)
{
	(void)state;
	static const char *const admin[] = {"CAP_SYS_ADMIN", NULL};
	static const char *const both[] = {"CAP_SYS_ADMIN", "CAP_BPF", "CAP_SYS_PACCT", NULL};
	cleanup_json struct json *none = convert_ok(caps_profile, NULL, "amd64");
	cleanup_json struct json *a = convert_ok(caps_profile, admin, "amd64");
	cleanup_json struct json *b = convert_ok(caps_profile, both, "amd64");
	cleanup_free char *d = dump(none);
	cleanup_free char *want = NULL;

	/* no caps: base rule and the clone3 ENOSYS rule only; comments and errno strings dropped */
	want = dq("{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':1,'syscalls':["
		  "{'names':['read','write'],'action':'SCMP_ACT_ALLOW'},"
		  "{'names':['clone3'],'action':'SCMP_ACT_ERRNO','errnoRet':38}]}");
	assert_string_equal(d, want);
	assert_int_equal(count_rules(a, "mount", "SCMP_ACT_ALLOW"), 1);
	assert_int_equal(count_rules(a, "bpf", NULL), 0); /* includes: all caps needed */
	assert_int_equal(count_rules(a, "clone3", NULL), 0);
	assert_int_equal(count_rules(a, "acct", NULL), 0);
	assert_int_equal(count_rules(b, "bpf", "SCMP_ACT_ALLOW"), 1);
	assert_int_equal(count_rules(b, "acct", "SCMP_ACT_ALLOW"), 1); /* "sys_pacct" == "CAP_SYS_PACCT" */
	assert_int_equal(count_rules(b, "read", "SCMP_ACT_ALLOW"), 1);
}

static const char arch_profile[] =
	"{'defaultAction':'SCMP_ACT_ERRNO','archMap':["
	"{'architecture':'SCMP_ARCH_X86_64','subArchitectures':['SCMP_ARCH_X86','SCMP_ARCH_X32']},"
	"{'architecture':'SCMP_ARCH_AARCH64','subArchitectures':['SCMP_ARCH_ARM']},"
	"{'architecture':'SCMP_ARCH_RISCV64','subArchitectures':null}],"
	"'syscalls':["
	"{'names':['arch_prctl'],'action':'SCMP_ACT_ALLOW','includes':{'arches':['amd64','x32']}},"
	"{'names':['set_tls'],'action':'SCMP_ACT_ALLOW','includes':{'arches':['arm','arm64']}},"
	"{'names':['clone'],'action':'SCMP_ACT_ALLOW','args':[{'index':0,'value':2114060288,"
	"'valueTwo':0,'op':'SCMP_CMP_MASKED_EQ'}],'excludes':{'arches':['s390','s390x']}},"
	"{'names':['clone'],'action':'SCMP_ACT_ALLOW','args':[{'index':1,'value':2114060288,"
	"'op':'SCMP_CMP_MASKED_EQ'}],'includes':{'arches':['s390','s390x']}}"
	"]}";

static void arch_list_is(const struct json *oci, const char *const *want)
{
	const struct json *a = json_object_get(oci, "architectures");
	size_t n = 0;

	while (want[n])
		n++;
	if (!n) {
		assert_null(a);
		return;
	}
	assert_int_equal(json_array_len(a), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(json_string(json_array_get(a, i)), want[i]);
}

static void test_convert_arches(void **state)
{
	(void)state;
	static const char *const x86[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL};
	static const char *const arm[] = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL};
	static const char *const rv[] = {"SCMP_ARCH_RISCV64", NULL};
	static const char *const nothing[] = {NULL};
	cleanup_json struct json *amd = convert_ok(arch_profile, NULL, "amd64");
	cleanup_json struct json *uname_form = convert_ok(arch_profile, NULL, "x86_64");
	cleanup_json struct json *a64 = convert_ok(arch_profile, NULL, "aarch64");
	cleanup_json struct json *riscv = convert_ok(arch_profile, NULL, "riscv64");
	cleanup_json struct json *s390 = convert_ok(arch_profile, NULL, "s390x");
	cleanup_json struct json *native = convert_ok(arch_profile, NULL, NULL);
	cleanup_free char *d1 = dump(amd), *d2 = dump(uname_form);
	const struct json *clone;

	arch_list_is(amd, x86);
	assert_string_equal(d1, d2);
	assert_int_equal(count_rules(amd, "arch_prctl", NULL), 1);
	assert_int_equal(count_rules(amd, "set_tls", NULL), 0);
	clone = find_rule(amd, "clone", "SCMP_ACT_ALLOW");
	assert_non_null(clone);
	assert_int_equal(count_rules(amd, "clone", NULL), 1);
	assert_string_equal(json_object_get_string(json_array_get(json_object_get(clone, "args"), 0), "op"),
			    "SCMP_CMP_MASKED_EQ");

	arch_list_is(a64, arm);
	assert_int_equal(count_rules(a64, "arch_prctl", NULL), 0);
	assert_int_equal(count_rules(a64, "set_tls", NULL), 1);
	arch_list_is(riscv, rv);
	arch_list_is(s390, nothing); /* not in the archMap: native only */
	assert_int_equal(count_rules(s390, "clone", NULL), 1);
	{
		const struct json *c = find_rule(s390, "clone", "SCMP_ACT_ALLOW");
		assert_int_equal(json_object_get(json_array_get(json_object_get(c, "args"), 0), "index")->u.num.i, 1);
	}
	assert_non_null(native);
#if defined(__x86_64__) && !defined(__ILP32__)
	arch_list_is(native, x86);
#endif
}

static void kernel_now(unsigned k[3])
{
	struct utsname u;
	assert_int_equal(uname(&u), 0);
	k[0] = k[1] = k[2] = 0;
	assert_true(sscanf(u.release, "%u.%u.%u", &k[0], &k[1], &k[2]) >= 2);
}

static void test_min_kernel(void **state)
{
	(void)state;
	unsigned k[3];
	char buf[2048];
	cleanup_json struct json *j = NULL;

	kernel_now(k);
	snprintf(buf, sizeof(buf),
		 "{'defaultAction':'SCMP_ACT_ERRNO','syscalls':["
		 "{'names':['old'],'action':'SCMP_ACT_ALLOW','includes':{'minKernel':'1.0'}},"
		 "{'names':['same'],'action':'SCMP_ACT_ALLOW','includes':{'minKernel':'%u.%u'}},"
		 "{'names':['samepatch'],'action':'SCMP_ACT_ALLOW','includes':{'minKernel':'%u.%u.%u'}},"
		 "{'names':['nextminor'],'action':'SCMP_ACT_ALLOW','includes':{'minKernel':'%u.%u'}},"
		 "{'names':['future'],'action':'SCMP_ACT_ALLOW','includes':{'minKernel':'%u.0'}},"
		 "{'names':['legacy'],'action':'SCMP_ACT_ALLOW','excludes':{'minKernel':'%u.0'}},"
		 "{'names':['gone'],'action':'SCMP_ACT_ALLOW','excludes':{'minKernel':'2.6'}}"
		 "]}",
		 k[0], k[1], k[0], k[1], k[2], k[0], k[1] + 1, k[0] + 1, k[0] + 1);
	j = convert_ok(buf, NULL, "amd64");
	assert_int_equal(count_rules(j, "old", NULL), 1);
	assert_int_equal(count_rules(j, "same", NULL), 1);
	assert_int_equal(count_rules(j, "samepatch", NULL), 1);
	assert_int_equal(count_rules(j, "nextminor", NULL), 0);
	assert_int_equal(count_rules(j, "future", NULL), 0);
	assert_int_equal(count_rules(j, "legacy", NULL), 1);
	assert_int_equal(count_rules(j, "gone", NULL), 0);
}

static void test_default_profile(void **state)
{
	(void)state;
	static const char *const x86[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL};
	static const char *const admin[] = {"CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_AUDIT_WRITE", NULL};
	static const char *const keyring[] = {"keyctl", "add_key", "request_key"};
	size_t len;
	cleanup_free char *buf = read_default_profile(&len);
	cleanup_json struct json *raw = NULL;
	cleanup_json struct json *oci = NULL, *oci_admin = NULL;
	struct skiff_err *err = NULL;
	cleanup_strv struct strv caps = STRV_INIT, acaps = STRV_INIT;
	const struct json *r, *calls;

	/* our own formatting: every group's names sorted and unique */
	assert_int_equal(json_parse(buf, len, &raw, &err), 0);
	calls = json_object_get(raw, "syscalls");
	assert_true(json_array_len(calls) > 10);
	for (size_t i = 0; i < json_array_len(calls); i++) {
		const struct json *names = json_object_get(json_array_get(calls, i), "names");
		for (size_t j = 1; j < json_array_len(names); j++)
			assert_true(strcmp(json_string(json_array_get(names, j - 1)),
					   json_string(json_array_get(names, j))) < 0);
	}

	caps_fill(&caps, podman_caps);
	assert_int_equal(spec_seccomp_profile_to_oci(buf, len, &caps, "amd64", &oci, &err), 0);
	assert_string_equal(json_object_get_string(oci, "defaultAction"), "SCMP_ACT_ERRNO");
	assert_int_equal(json_object_get(oci, "defaultErrnoRet")->u.num.i, 1);
	arch_list_is(oci, x86);
	for (size_t i = 0; i < ARRAY_SIZE(keyring); i++)
		assert_int_equal(count_rules(oci, keyring[i], NULL), 0);
	assert_int_equal(count_rules(oci, "read", "SCMP_ACT_ALLOW"), 1);
	assert_int_equal(count_rules(oci, "arch_prctl", "SCMP_ACT_ALLOW"), 1);
	assert_int_equal(count_rules(oci, "chroot", "SCMP_ACT_ALLOW"), 1); /* CAP_SYS_CHROOT */
	assert_int_equal(count_rules(oci, "mount", NULL), 0);
	assert_int_equal(count_rules(oci, "unshare", NULL), 0);
	assert_int_equal(count_rules(oci, "setns", NULL), 0);
	assert_int_equal(count_rules(oci, "reboot", NULL), 0);
	assert_int_equal(count_rules(oci, "init_module", NULL), 0);
	assert_int_equal(count_rules(oci, "bpf", NULL), 0);
	assert_int_equal(count_rules(oci, "set_tls", NULL), 0);
	assert_int_equal(count_rules(oci, "ptrace", "SCMP_ACT_ALLOW"), 1); /* minKernel 4.8 */
	r = find_rule(oci, "clone3", "SCMP_ACT_ERRNO");
	assert_non_null(r);
	assert_int_equal(json_object_get(r, "errnoRet")->u.num.i, ENOSYS);
	r = find_rule(oci, "clone", "SCMP_ACT_ALLOW");
	assert_non_null(r);
	assert_int_equal(json_array_len(json_object_get(r, "args")), 1);
	assert_int_equal(json_object_get(json_array_get(json_object_get(r, "args"), 0), "value")->u.num.i, 0x7E020000);
	assert_int_equal(count_rules(oci, "personality", "SCMP_ACT_ALLOW"), 5);
	r = find_rule(oci, "socket", "SCMP_ACT_ERRNO"); /* NETLINK_AUDIT without CAP_AUDIT_WRITE */
	assert_non_null(r);
	assert_int_equal(json_object_get(r, "errnoRet")->u.num.i, EINVAL);
	assert_int_equal(count_rules(oci, "socket", "SCMP_ACT_ALLOW"), 2);

	caps_fill(&acaps, admin);
	assert_int_equal(spec_seccomp_profile_to_oci(buf, len, &acaps, "x86_64", &oci_admin, &err), 0);
	assert_int_equal(count_rules(oci_admin, "mount", "SCMP_ACT_ALLOW"), 1);
	assert_int_equal(count_rules(oci_admin, "clone3", "SCMP_ACT_ERRNO"), 0);
	assert_int_equal(count_rules(oci_admin, "clone3", "SCMP_ACT_ALLOW"), 1);
	assert_null(find_rule(oci_admin, "socket", "SCMP_ACT_ERRNO"));
	assert_int_equal(count_rules(oci_admin, "kcmp", "SCMP_ACT_ALLOW"), 1);
	for (size_t i = 0; i < ARRAY_SIZE(keyring); i++)
		assert_int_equal(count_rules(oci_admin, keyring[i], NULL), 0);
}

static void test_oci_passthrough(void **state)
{
	(void)state;
	static const char oci[] = "{'defaultAction':'SCMP_ACT_KILL_PROCESS','architectures':['SCMP_ARCH_X86_64'],"
				  "'flags':['SECCOMP_FILTER_FLAG_LOG'],'listenerPath':'/run/l.sock','syscalls':["
				  "{'names':['read'],'action':'SCMP_ACT_ALLOW'},"
				  "{'names':['kill'],'action':'SCMP_ACT_ERRNO','errnoRet':13,'args':["
				  "{'index':1,'value':0,'op':'SCMP_CMP_EQ'},"
				  "{'index':2,'value':255,'valueTwo':7,'op':'SCMP_CMP_MASKED_EQ'}]},"
				  "{'names':['ptrace'],'action':'SCMP_ACT_TRACE','errnoRet':60000},"
				  "{'names':['uname'],'action':'SCMP_ACT_NOTIFY'}]}";
	cleanup_json struct json *j = convert_ok(oci, podman_caps, "arm64");
	cleanup_json struct json *dom = parse_q(oci);
	cleanup_free char *d = dump(j), *want = dq(oci);
	struct skiff_err *err = NULL;
	cleanup_spec_seccomp struct spec_seccomp *s = NULL;
	cleanup_json struct json *back = NULL;
	cleanup_free char *d2 = NULL;

	assert_string_equal(d, want);
	assert_int_equal(spec_seccomp_parse(dom, &s, &err), 0);
	assert_int_equal(s->default_action, SPEC_SCMP_ACT_KILL_PROCESS);
	assert_int_equal(s->n_rules, 4);
	assert_int_equal(s->rules[1].n_args, 2);
	assert_int_equal(s->rules[1].args[1].value_two, 7);
	assert_int_equal(s->rules[2].errno_ret, 60000);
	back = spec_seccomp_to_json(s);
	d2 = dump(back);
	assert_string_equal(d2, want);
}

struct bad_case {
	const char *json;
	const char *want;
};

static void test_hostile_profiles(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{"not json", "seccomp profile: invalid JSON at offset"},
		{"", "seccomp profile"},
		{"[]", "seccomp profile: expected an object, got an array"},
		{"{}", "seccomp profile: defaultAction: missing"},
		{"{'defaultAction':5}", "seccomp profile: defaultAction: expected a string, got a number"},
		{"{'defaultAction':'SCMP_ACT_FOO'}", "seccomp profile: defaultAction: unknown action 'SCMP_ACT_FOO'"},
		{"{'defaultAction':'SCMP_ACT_NOTIFY'}", "defaultAction: SCMP_ACT_NOTIFY cannot be the default"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','defaultErrnoRet':1}",
		 "defaultErrnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':-1}", "defaultErrnoRet: -1 out of range"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':'EPERM'}",
		 "defaultErrnoRet: expected an unsigned integer, got a string"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':{}}", "syscalls: expected an array, got an object"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[7]}", "syscalls[0]: expected an object, got a number"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'action':'SCMP_ACT_ERRNO'}]}",
		 "syscalls[0].names: missing or empty"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':[],'action':'SCMP_ACT_ERRNO'}]}",
		 "syscalls[0].names: missing or empty"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':'read','action':'SCMP_ACT_ERRNO'}]}",
		 "syscalls[0].names: expected an array, got a string"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read',5],'action':'SCMP_ACT_ERRNO'}]}",
		 "syscalls[0].names[1]: expected a string, got a number"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['../etc'],'action':'SCMP_ACT_ERRNO'}]}",
		 "syscalls[0].names[0]: invalid syscall name '../etc'"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['re\\u0000ad'],'action':'SCMP_ACT_ERRNO'}]}",
		 "syscalls[0].names[0]: invalid syscall name 're\\u0000ad'"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':[''],'action':'SCMP_ACT_ERRNO'}]}",
		 "syscalls[0].names[0]: invalid syscall name ''"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read']},{'names':['x']}]}",
		 "syscalls[0].action: missing"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO'},"
		 "{'names':['write'],'action':'SCMP_ACT_SOMETIMES'}]}",
		 "seccomp profile: syscalls[1].action: unknown action 'SCMP_ACT_SOMETIMES'"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO',"
		 "'args':[{'index':0,'value':1,'op':'FOO'}]}]}",
		 "seccomp profile: syscalls[0].args[0].op: unknown operator 'FOO'"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO',"
		 "'args':[{'index':9,'value':1,'op':'SCMP_CMP_EQ'}]}]}",
		 "seccomp profile: syscalls[0].args[0].index: 9 out of range 0..5"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO',"
		 "'args':[{'index':-1,'value':1,'op':'SCMP_CMP_EQ'}]}]}",
		 "syscalls[0].args[0].index: -1 out of range"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO',"
		 "'args':[{'index':0,'op':'SCMP_CMP_EQ'}]}]}",
		 "syscalls[0].args[0].value: missing"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO',"
		 "'args':[{'value':1,'op':'SCMP_CMP_EQ'}]}]}",
		 "syscalls[0].args[0].index: missing"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO',"
		 "'args':[{'index':0,'value':1}]}]}",
		 "syscalls[0].args[0].op: missing"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO',"
		 "'args':[{'index':0,'value':1.5,'op':'SCMP_CMP_EQ'}]}]}",
		 "syscalls[0].args[0].value: expected an unsigned integer, got 1.5"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO',"
		 "'args':[{'index':0,'value':18446744073709551615,'op':'SCMP_CMP_EQ'}]}]}",
		 "syscalls[0].args[0].value: 18446744073709551616: values above 9223372036854775807 are not supported"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO',"
		 "'args':[{'index':0,'value':1,'valueTwo':true,'op':'SCMP_CMP_EQ'}]}]}",
		 "syscalls[0].args[0].valueTwo: expected an unsigned integer, got a boolean"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO',"
		 "'args':['x']}]}",
		 "syscalls[0].args[0]: expected an object, got a string"},
		{"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO',"
		 "'errnoRet':5000}]}",
		 "syscalls[0].errnoRet: 5000 out of range 0..4095"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['read'],'action':'SCMP_ACT_ALLOW',"
		 "'errnoRet':1}]}",
		 "syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not SCMP_ACT_ALLOW"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['read'],'action':'SCMP_ACT_ALLOW',"
		 "'includes':{'caps':'CAP_SYS_ADMIN'}}]}",
		 "syscalls[0].includes.caps: expected an array, got a string"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['read'],'action':'SCMP_ACT_ALLOW',"
		 "'excludes':{'arches':[1]}}]}",
		 "syscalls[0].excludes.arches[0]: expected a string, got a number"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['read'],'action':'SCMP_ACT_ALLOW',"
		 "'includes':[]}]}",
		 "syscalls[0].includes: expected an object, got an array"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['read'],'action':'SCMP_ACT_ALLOW',"
		 "'includes':{'minKernel':'4'}}]}",
		 "syscalls[0].includes.minKernel: invalid kernel version '4'"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['read'],'action':'SCMP_ACT_ALLOW',"
		 "'includes':{'minKernel':'4.8-rc1'}}]}",
		 "syscalls[0].includes.minKernel: invalid kernel version '4.8-rc1'"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['read'],'action':'SCMP_ACT_ALLOW',"
		 "'includes':{'minKernel':'99999999.1'}}]}",
		 "syscalls[0].includes.minKernel: invalid kernel version"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','architectures':['SCMP_ARCH_X86'],'archMap':["
		 "{'architecture':'SCMP_ARCH_X86_64'}]}",
		 "architectures: both architectures and archMap given"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','architectures':['SCMP_ARCH_VAX']}",
		 "architectures[0]: unknown architecture 'SCMP_ARCH_VAX'"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','archMap':[{'subArchitectures':[]}]}",
		 "archMap[0].architecture: missing"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','archMap':[{'architecture':'SCMP_ARCH_X86_64',"
		 "'subArchitectures':['SCMP_ARCH_Z80']}]}",
		 "archMap[0].subArchitectures[0]: unknown architecture 'SCMP_ARCH_Z80'"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','flags':['SECCOMP_FILTER_FLAG_MAGIC']}",
		 "flags[0]: unknown flag 'SECCOMP_FILTER_FLAG_MAGIC'"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','listenerPath':7}", "listenerPath: expected a string"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct skiff_err *err = NULL;
		struct json *ret = NULL;
		int rc = convert(cases[i].json, podman_caps, "amd64", &ret, &err);
		if (rc != -1)
			print_error("case %zu: %s accepted\n", i, cases[i].json);
		check_err(rc, &err, EINVAL, cases[i].want);
		assert_null(ret);
	}
}

static char *big_profile(size_t rules, size_t names_per_rule, size_t args)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[");
	for (size_t r = 0; r < rules; r++) {
		strbuf_addstr(&sb, r ? ",{'names':[" : "{'names':[");
		for (size_t n = 0; n < names_per_rule; n++)
			strbuf_addf(&sb, "%s'sc%zu_%zu'", n ? "," : "", r, n);
		strbuf_addstr(&sb, "],'action':'SCMP_ACT_ALLOW'");
		if (args) {
			strbuf_addstr(&sb, ",'args':[");
			for (size_t a = 0; a < args; a++)
				strbuf_addf(&sb, "%s{'index':0,'value':%zu,'op':'SCMP_CMP_EQ'}", a ? "," : "", a);
			strbuf_addch(&sb, ']');
		}
		strbuf_addch(&sb, '}');
	}
	strbuf_addstr(&sb, "]}");
	return strbuf_detach(&sb, NULL);
}

static void test_huge_profiles(void **state)
{
	(void)state;
	struct {
		size_t rules, names, args;
		const char *want;
	} cases[] = {
		{5000, 1, 0, "syscalls: too many elements (5000, at most 4096)"},
		{1, 5000, 0, "syscalls[0].names: too many elements (5000, at most 4096)"},
		{1, 1, 17, "syscalls[0].args: too many elements (17, at most 16)"},
		{20, 4000, 0, "syscalls[16]: too many syscall names in the profile"},
	};
	char longname[200];
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cleanup_free char *p = big_profile(cases[i].rules, cases[i].names, cases[i].args);
		struct skiff_err *err = NULL;
		struct json *ret = NULL;
		check_err(convert(p, NULL, "amd64", &ret, &err), &err, EINVAL, cases[i].want);
		assert_null(ret);
	}
	{ /* at the limits it works */
		cleanup_free char *p = big_profile(16, 4000, 16);
		cleanup_json struct json *j = convert_ok(p, NULL, "amd64");
		assert_int_equal(json_array_len(json_object_get(j, "syscalls")), 16);
	}
	/* a long name is cut short in the message */
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	strbuf_addf(&sb, "{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['%s'],'action':'X'}]}", longname);
	{
		struct skiff_err *err = NULL;
		struct json *ret = NULL;
		assert_int_equal(convert(sb.buf, NULL, "amd64", &ret, &err), -1);
		assert_non_null(strstr(err->msg, "invalid syscall name \"aaaa"));
		assert_non_null(strstr(err->msg, "...\""));
		assert_true(strlen(err->msg) < 200);
		err_free(err);
	}
	strbuf_release(&sb);
	/* deep nesting */
	for (int i = 0; i < 2000; i++)
		strbuf_addch(&sb, '[');
	{
		struct skiff_err *err = NULL;
		struct json *ret = NULL;
		check_err(convert(sb.buf, NULL, "amd64", &ret, &err), &err, EINVAL, "seccomp profile");
		assert_null(ret);
	}
	strbuf_release(&sb);
}

static void test_bad_arch_param(void **state)
{
	(void)state;
	struct skiff_err *err = NULL;
	struct json *ret = NULL;

	check_err(convert(caps_profile, NULL, "sparc64", &ret, &err), &err, EINVAL,
		  "seccomp profile: unknown architecture 'sparc64'");
	assert_null(ret);
}

static void test_oci_parse_rejects_profile_keys(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{"{'defaultAction':'SCMP_ACT_ERRNO','archMap':[{'architecture':'SCMP_ARCH_X86_64'}]}",
		 "linux.seccomp: archMap: a profile key"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['mount'],'action':'SCMP_ACT_ALLOW',"
		 "'includes':{'caps':['CAP_SYS_ADMIN']}}]}",
		 "linux.seccomp: syscalls[0].includes: a profile condition"},
		{"{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['read'],'action':'SCMP_ACT_ALLOW',"
		 "'args':[{'index':6,'value':1,'op':'SCMP_CMP_EQ'}]}]}",
		 "linux.seccomp: syscalls[0].args[0].index: 6 out of range 0..5"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cleanup_json struct json *dom = parse_q(cases[i].json);
		struct skiff_err *err = NULL;
		struct spec_seccomp *s = NULL;
		check_err(spec_seccomp_parse(dom, &s, &err), &err, EINVAL, cases[i].want);
		assert_null(s);
	}
	{ /* podman's empty includes/excludes objects are fine */
		static const char ok[] = "{'defaultAction':'SCMP_ACT_ERRNO','archMap':[],'syscalls':[{'names':"
					 "['read'],'action':'SCMP_ACT_ALLOW','includes':{},'excludes':{}}]}";
		cleanup_json struct json *dom = parse_q(ok);
		cleanup_spec_seccomp struct spec_seccomp *s = NULL;
		struct skiff_err *err = NULL;
		assert_int_equal(spec_seccomp_parse(dom, &s, &err), 0);
		assert_int_equal(s->n_rules, 1);
	}
}

/* ---- the runtime filter ---- */

static struct rt_seccomp *compile_text(const char *text)
{
	cleanup_json struct json *dom = parse_q(text);
	struct skiff_err *err = NULL;
	struct rt_seccomp *f = NULL;

	if (rt_seccomp_compile(dom, &f, &err) < 0) {
		print_error("compile: %s\n", err->msg);
		err_free(err);
		fail();
	}
	assert_non_null(f);
	return f;
}

static void check_compile_err(const char *text, int status, const char *want)
{
	cleanup_json struct json *dom = parse_q(text);
	struct skiff_err *err = NULL;
	struct rt_seccomp *f = NULL;

	check_err(rt_seccomp_compile(dom, &f, &err), &err, status, want);
	assert_null(f);
}

static void test_compile_default_profile(void **state)
{
	(void)state;
	size_t len;
	cleanup_free char *buf = read_default_profile(&len);
	cleanup_strv struct strv caps = STRV_INIT;
	cleanup_json struct json *oci = NULL;
	struct skiff_err *err = NULL;
	cleanup_rt_seccomp struct rt_seccomp *f = NULL, *g = NULL;
	static const char *const all[] = {"CAP_SYS_ADMIN",
					  "CAP_SYS_PTRACE",
					  "CAP_SYS_BOOT",
					  "CAP_SYS_MODULE",
					  "CAP_SYS_TIME",
					  "CAP_SYS_NICE",
					  "CAP_SYSLOG",
					  "CAP_BPF",
					  "CAP_PERFMON",
					  "CAP_AUDIT_WRITE",
					  NULL};
	cleanup_strv struct strv allcaps = STRV_INIT;
	cleanup_json struct json *oci_all = NULL;

	caps_fill(&caps, podman_caps);
	assert_int_equal(spec_seccomp_profile_to_oci(buf, len, &caps, NULL, &oci, &err), 0);
	if (rt_seccomp_compile(oci, &f, &err) < 0) {
		print_error("%s\n", err->msg);
		fail();
	}
	assert_true(rt_seccomp_length(f) > 100);
	assert_true(rt_seccomp_length(f) <= 4096);

	caps_fill(&allcaps, all);
	assert_int_equal(spec_seccomp_profile_to_oci(buf, len, &allcaps, NULL, &oci_all, &err), 0);
	if (rt_seccomp_compile(oci_all, &g, &err) < 0) {
		print_error("%s\n", err->msg);
		fail();
	}
	assert_true(rt_seccomp_length(g) <= 4096);
}

static void test_compile_errors(void **state)
{
	(void)state;
	check_compile_err("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['uname'],"
			  "'action':'SCMP_ACT_NOTIFY'}]}",
			  EINVAL, "linux.seccomp: syscalls[0].action: SCMP_ACT_NOTIFY is not supported");
	check_compile_err("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['uname'],"
			  "'action':'SCMP_ACT_ERRNO','args':[{'index':0,'value':0,'op':'SCMP_CMP_BOGUS'}]}]}",
			  EINVAL, "linux.seccomp: syscalls[0].args[0].op: unknown operator 'SCMP_CMP_BOGUS'");
	check_compile_err("{'defaultAction':'SCMP_ACT_ALLOW','architectures':['SCMP_ARCH_PDP11']}", EINVAL,
			  "linux.seccomp: architectures[0]: unknown architecture 'SCMP_ARCH_PDP11'");
	check_compile_err("{'defaultAction':'SCMP_ACT_KILL_SOMETIMES'}", EINVAL,
			  "linux.seccomp: defaultAction: unknown action");
	check_compile_err("[1]", EINVAL, "linux.seccomp: expected an object");
	{ /* unknown names are skipped, not errors */
		cleanup_rt_seccomp struct rt_seccomp *f =
			compile_text("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':"
				     "['no_such_syscall_xyz','uname'],'action':'SCMP_ACT_ERRNO'}]}");
		assert_true(rt_seccomp_length(f) > 0);
	}
	{ /* rules with the default action are skipped */
		cleanup_rt_seccomp struct rt_seccomp *f =
			compile_text("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':"
				     "['uname'],'action':'SCMP_ACT_ALLOW'}]}");
		assert_true(rt_seccomp_length(f) > 0);
	}
	{
		const char *const *a = rt_seccomp_actions(), *const *o = rt_seccomp_operators();
		size_t n = 0;
		while (a[n])
			n++;
		assert_int_equal(n, 8);
		for (n = 0; o[n]; n++)
			;
		assert_int_equal(n, 7);
		assert_non_null(rt_seccomp_archs()[0]);
		assert_string_equal(rt_seccomp_flags()[0], "SECCOMP_FILTER_FLAG_TSYNC");
	}
	assert_int_equal(rt_seccomp_load(NULL, NULL), 0);
}

/*
 * Run body in a forked child after loading f (with no_new_privs when nnp); the child
 * exits with body's result. Returns the raw wait status.
 */
static int in_child(const struct rt_seccomp *f, bool nnp, int (*body)(void))
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct skiff_err *err = NULL;
		if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(90);
		if (rt_seccomp_load(f, &err) < 0)
			_exit(91);
		/* exit_group directly: sanitizers' _exit hooks need syscalls the filter may deny */
		syscall(SYS_exit_group, body());
		_exit(99);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static int body_uname(void)
{
	struct utsname u;
	if (uname(&u) != -1)
		return 1;
	if (errno != EPERM)
		return 2;
	return 0;
}

static void test_load_uname_eperm(void **state)
{
	(void)state;
	cleanup_rt_seccomp struct rt_seccomp *f = compile_text(
		"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['uname'],'action':'SCMP_ACT_ERRNO',"
		"'errnoRet':1}]}");
	struct utsname u;
	int status = in_child(f, true, body_uname);

	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(uname(&u), 0); /* the parent is untouched */
}

/* umask: (mask & 0700) == 0700 -> EACCES; getpriority(which == 99) -> ENOTSUP; getpgid
 * with two args on index 0 (either matches) -> EDOM; everything else allowed. */
static int body_args(void)
{
	long rc;

	errno = 0;
	rc = syscall(SYS_umask, 0777);
	if (rc != -1 || errno != EACCES)
		return 1;
	rc = syscall(SYS_umask, 0022);
	if (rc < 0)
		return 2;
	errno = 0;
	rc = syscall(SYS_getpriority, 99, 0);
	if (rc != -1 || errno != ENOTSUP)
		return 3;
	rc = syscall(SYS_getpriority, PRIO_PROCESS, 0);
	if (rc < 0)
		return 4;
	errno = 0;
	if (syscall(SYS_getpgid, 11111111) != -1 || errno != EDOM)
		return 5;
	errno = 0;
	if (syscall(SYS_getpgid, 22222222) != -1 || errno != EDOM)
		return 6;
	if (syscall(SYS_getpgid, 0) < 0)
		return 7;
	return 0;
}

static void test_load_args(void **state)
{
	(void)state;
	char text[1024];
	cleanup_rt_seccomp struct rt_seccomp *f = NULL;
	int status;

	snprintf(text, sizeof(text),
		 "{'defaultAction':'SCMP_ACT_ALLOW','flags':['SECCOMP_FILTER_FLAG_TSYNC'],'syscalls':["
		 "{'names':['umask'],'action':'SCMP_ACT_ERRNO','errnoRet':%d,"
		 "'args':[{'index':0,'value':448,'valueTwo':448,'op':'SCMP_CMP_MASKED_EQ'}]},"
		 "{'names':['getpriority'],'action':'SCMP_ACT_ERRNO','errnoRet':%d,"
		 "'args':[{'index':0,'value':99,'op':'SCMP_CMP_EQ'},{'index':1,'value':0,'op':'SCMP_CMP_EQ'}]},"
		 "{'names':['getpgid'],'action':'SCMP_ACT_ERRNO','errnoRet':%d,"
		 "'args':[{'index':0,'value':11111111,'op':'SCMP_CMP_EQ'},"
		 "{'index':0,'value':22222222,'op':'SCMP_CMP_EQ'}]}]}",
		 EACCES, ENOTSUP, EDOM);
	f = compile_text(text);
	status = in_child(f, true, body_args);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int body_kill(void)
{
	struct utsname u;
	(void)uname(&u);
	return 0;
}

static void test_load_kill_process(void **state)
{
	(void)state;
	cleanup_rt_seccomp struct rt_seccomp *f =
		compile_text("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['uname'],"
			     "'action':'SCMP_ACT_KILL_PROCESS'}]}");
	int status = in_child(f, true, body_kill);

	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

/* The filter denies everything but exit/exit_group/getppid: getpid is EPERM (the default),
 * a syscall numbered above all of those is ENOSYS (the stub). */
static int body_enosys(void)
{
	errno = 0;
	if (syscall(SYS_getppid) < 0)
		return 1;
	if (syscall(SYS_getpid) != -1 || errno != EPERM)
		return 2;
	errno = 0;
	if (syscall(SYS_pidfd_open, 1, 0) != -1 || errno != ENOSYS)
		return 3;
	return 0;
}

static void test_load_enosys_stub(void **state)
{
	(void)state;
	cleanup_rt_seccomp struct rt_seccomp *f =
		compile_text("{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['exit','exit_group','getppid'],"
			     "'action':'SCMP_ACT_ALLOW'}]}");
	int status;

	if (SYS_pidfd_open < SYS_exit_group || SYS_getpid > SYS_exit_group)
		skip();
	status = in_child(f, true, body_enosys);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The default profile with podman's caps, loaded for real. */
static int body_default(void)
{
	struct utsname u;
	int fds[2];

	if (uname(&u) < 0 || getpid() <= 0)
		return 1;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return 2;
	close(fds[0]);
	close(fds[1]);
	errno = 0;
	if (syscall(SYS_keyctl, 0, 0, 0, 0, 0) != -1 || errno != EPERM)
		return 3;
	errno = 0;
	if (syscall(SYS_add_key, "user", "x", "y", 1, -2) != -1 || errno != EPERM)
		return 4;
	errno = 0;
	if (syscall(SYS_request_key, "user", "x", NULL, -2) != -1 || errno != EPERM)
		return 5;
	errno = 0;
	if (syscall(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */) != -1 || errno != EPERM)
		return 6;
	errno = 0;
	if (syscall(SYS_mount, "none", "/", "tmpfs", 0, NULL) != -1 || errno != EPERM)
		return 7;
#ifdef SYS_clone3
	errno = 0;
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		return 8;
#endif
	errno = 0;
	if (syscall(SYS_socket, 16 /* AF_NETLINK */, 3 /* SOCK_RAW */, 9 /* NETLINK_AUDIT */) != -1 || errno != EINVAL)
		return 9;
	return 0;
}

static void test_load_default_profile(void **state)
{
	(void)state;
	size_t len;
	cleanup_free char *buf = read_default_profile(&len);
	cleanup_strv struct strv caps = STRV_INIT;
	cleanup_json struct json *oci = NULL;
	struct skiff_err *err = NULL;
	cleanup_rt_seccomp struct rt_seccomp *f = NULL;
	int status;

	caps_fill(&caps, podman_caps);
	assert_int_equal(spec_seccomp_profile_to_oci(buf, len, &caps, NULL, &oci, &err), 0);
	assert_int_equal(rt_seccomp_compile(oci, &f, &err), 0);
	status = in_child(f, true, body_default);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		print_error("child status %#x (exit %d)\n", status, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Without no_new_privs and without CAP_SYS_ADMIN the kernel refuses: EACCES, explained. */
static void test_load_needs_nnp(void **state)
{
	(void)state;
	cleanup_rt_seccomp struct rt_seccomp *f = compile_text(
		"{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['uname'],'action':'SCMP_ACT_ERRNO'}]}");
	int pipefd[2];
	pid_t pid;
	int status;
	char msg[512] = "";
	ssize_t n;

	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
		struct __user_cap_data_struct data[2];
		struct skiff_err *err = NULL;

		close(pipefd[0]);
		if (syscall(SYS_capget, &hdr, data) < 0)
			_exit(90);
		data[CAP_SYS_ADMIN / 32].effective &= ~(1U << (CAP_SYS_ADMIN % 32));
		if (syscall(SYS_capset, &hdr, data) < 0)
			_exit(91);
		if (rt_seccomp_load(f, &err) == 0)
			_exit(92);
		if (write(pipefd[1], err->msg, strlen(err->msg)) < 0)
			_exit(93);
		_exit(err->status == EACCES ? 0 : 94);
	}
	close(pipefd[1]);
	n = read(pipefd[0], msg, sizeof(msg) - 1);
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		print_error("child exit %d: %s\n", WEXITSTATUS(status), msg);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(n > 0);
	assert_non_null(strstr(msg, "no_new_privs"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_native_arch),
		cmocka_unit_test(test_convert_caps),
		cmocka_unit_test(test_convert_arches),
		cmocka_unit_test(test_min_kernel),
		cmocka_unit_test(test_default_profile),
		cmocka_unit_test(test_oci_passthrough),
		cmocka_unit_test(test_hostile_profiles),
		cmocka_unit_test(test_huge_profiles),
		cmocka_unit_test(test_bad_arch_param),
		cmocka_unit_test(test_oci_parse_rejects_profile_keys),
		cmocka_unit_test(test_compile_default_profile),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_load_uname_eperm),
		cmocka_unit_test(test_load_args),
		cmocka_unit_test(test_load_kill_process),
		cmocka_unit_test(test_load_enosys_stub),
		cmocka_unit_test(test_load_default_profile),
		cmocka_unit_test(test_load_needs_nnp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
