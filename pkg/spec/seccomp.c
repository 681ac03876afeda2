/* OCI linux.seccomp: parse, validate, generate; docker/podman profile conversion. */
#include "pkg/spec/seccomp.h"

#include "pkg/spec/image.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#define MAX_RULES 4096
#define MAX_NAMES 4096	    /* per entry */
#define MAX_NAMES_ALL 65536 /* in the whole document */
#define MAX_ARGS 16	    /* per entry */
#define MAX_LIST 256	    /* caps, arches, flags, archMap, architectures */
#define MAX_SYSCALL_NAME 64
#define MAX_ERRNO 4095
#define MAX_TRACE_DATA 65535

static const char *const action_names[SPEC_SCMP_ACT_COUNT_] = {
	[SPEC_SCMP_ACT_KILL] = "SCMP_ACT_KILL",
	[SPEC_SCMP_ACT_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
	[SPEC_SCMP_ACT_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
	[SPEC_SCMP_ACT_TRAP] = "SCMP_ACT_TRAP",
	[SPEC_SCMP_ACT_ERRNO] = "SCMP_ACT_ERRNO",
	[SPEC_SCMP_ACT_TRACE] = "SCMP_ACT_TRACE",
	[SPEC_SCMP_ACT_ALLOW] = "SCMP_ACT_ALLOW",
	[SPEC_SCMP_ACT_LOG] = "SCMP_ACT_LOG",
	[SPEC_SCMP_ACT_NOTIFY] = "SCMP_ACT_NOTIFY",
};

static const char *const op_names[SPEC_SCMP_CMP_COUNT_] = {
	[SPEC_SCMP_CMP_NE] = "SCMP_CMP_NE",
	[SPEC_SCMP_CMP_LT] = "SCMP_CMP_LT",
	[SPEC_SCMP_CMP_LE] = "SCMP_CMP_LE",
	[SPEC_SCMP_CMP_EQ] = "SCMP_CMP_EQ",
	[SPEC_SCMP_CMP_GE] = "SCMP_CMP_GE",
	[SPEC_SCMP_CMP_GT] = "SCMP_CMP_GT",
	[SPEC_SCMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static const char *const scmp_arches[] = {
	"SCMP_ARCH_NATIVE",	 "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",
	"SCMP_ARCH_ARM",	 "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",	    "SCMP_ARCH_MIPS64",
	"SCMP_ARCH_MIPS64N32",	 "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
	"SCMP_ARCH_PPC",	 "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",
	"SCMP_ARCH_S390X",	 "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
	"SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",	    "SCMP_ARCH_SHEB",
};

static const char *const filter_flags[] = {
	"SECCOMP_FILTER_FLAG_TSYNC",
	"SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW",
	"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

/* Arch names as users, Go, uname and libseccomp-golang spell them: the canonical
 * (libseccomp-golang) name and the SCMP_ARCH_ an archMap entry would use. */
static const struct arch_alias {
	const char *name, *canon, *scmp;
} arch_aliases[] = {
	{"amd64", "amd64", "SCMP_ARCH_X86_64"},
	{"x86_64", "amd64", "SCMP_ARCH_X86_64"},
	{"386", "x86", "SCMP_ARCH_X86"},
	{"x86", "x86", "SCMP_ARCH_X86"},
	{"i386", "x86", "SCMP_ARCH_X86"},
	{"i486", "x86", "SCMP_ARCH_X86"},
	{"i586", "x86", "SCMP_ARCH_X86"},
	{"i686", "x86", "SCMP_ARCH_X86"},
	{"x32", "x32", "SCMP_ARCH_X32"},
	{"arm64", "arm64", "SCMP_ARCH_AARCH64"},
	{"aarch64", "arm64", "SCMP_ARCH_AARCH64"},
	{"arm", "arm", "SCMP_ARCH_ARM"},
	{"armv6l", "arm", "SCMP_ARCH_ARM"},
	{"armv7l", "arm", "SCMP_ARCH_ARM"},
	{"armv8l", "arm", "SCMP_ARCH_ARM"},
	{"mips", "mips", "SCMP_ARCH_MIPS"},
	{"mipsle", "mipsel", "SCMP_ARCH_MIPSEL"},
	{"mipsel", "mipsel", "SCMP_ARCH_MIPSEL"},
	{"mips64", "mips64", "SCMP_ARCH_MIPS64"},
	{"mips64le", "mipsel64", "SCMP_ARCH_MIPSEL64"},
	{"mipsel64", "mipsel64", "SCMP_ARCH_MIPSEL64"},
	{"mips64n32", "mips64n32", "SCMP_ARCH_MIPS64N32"},
	{"mipsel64n32", "mipsel64n32", "SCMP_ARCH_MIPSEL64N32"},
	{"ppc", "ppc", "SCMP_ARCH_PPC"},
	{"ppc64", "ppc64", "SCMP_ARCH_PPC64"},
	{"ppc64le", "ppc64le", "SCMP_ARCH_PPC64LE"},
	{"s390", "s390", "SCMP_ARCH_S390"},
	{"s390x", "s390x", "SCMP_ARCH_S390X"},
	{"riscv64", "riscv64", "SCMP_ARCH_RISCV64"},
	{"loong64", "loong64", "SCMP_ARCH_LOONGARCH64"},
	{"loongarch64", "loong64", "SCMP_ARCH_LOONGARCH64"},
	{"parisc", "parisc", "SCMP_ARCH_PARISC"},
	{"parisc64", "parisc64", "SCMP_ARCH_PARISC64"},
};

const char *spec_seccomp_action_name(enum spec_scmp_action a)
{
	if ((int)a < 0 || a >= SPEC_SCMP_ACT_COUNT_)
		return NULL;
	return action_names[a];
}

const char *spec_seccomp_op_name(enum spec_scmp_op op)
{
	if ((int)op < 0 || op >= SPEC_SCMP_CMP_COUNT_)
		return NULL;
	return op_names[op];
}

static int lookup(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (list[i] && !strcmp(s, list[i]))
			return (int)i;
	return -1;
}

bool spec_seccomp_arch_known(const char *name)
{
	return lookup(name, scmp_arches, ARRAY_SIZE(scmp_arches)) >= 0;
}

static const struct arch_alias *arch_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(arch_aliases); i++)
		if (!strcmp(name, arch_aliases[i].name))
			return &arch_aliases[i];
	return NULL;
}

const char *spec_seccomp_native_arch(void)
{
	/* the Go name of the build's arch, as image configs use */
	return spec_goarch();
}

/* ---- freeing ---- */

static void rule_release(struct spec_scmp_rule *r)
{
	strv_release(&r->names);
	free(r->args);
	memset(r, 0, sizeof(*r));
}

void spec_seccomp_free(struct spec_seccomp *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_rules; i++)
		rule_release(&s->rules[i]);
	free(s->rules);
	strv_release(&s->architectures);
	strv_release(&s->flags);
	free(s->listener_path);
	free(s->listener_metadata);
	free(s);
}

/* ---- parsing ---- */

struct pctx {
	const char *prefix; /* "seccomp profile" or "linux.seccomp" */
	bool profile;	    /* conditions allowed and evaluated */
	const struct strv *caps;
	const char *arch; /* canonical name (profile mode), or NULL */
	const char *arch_scmp;
	bool have_kernel;
	unsigned kernel[3];
	size_t names_total;
};

static int bad(struct skiff_err **err, const struct pctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad(struct skiff_err **err, const struct pctx *c, const char *path, const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	return err_makex(err, EINVAL, "%s: %s%s%s", c->prefix, path, *path ? ": " : "", msg);
}

/* A short quoted rendering of a hostile string for messages. */
static char *quoted(const char *s, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	bool cut = len > 64;

	json_quote(s, cut ? 64 : len, &sb);
	if (cut) { /* "aaa..." */
		strbuf_setlen(&sb, sb.len - 1);
		strbuf_addstr(&sb, "...\"");
	}
	return strbuf_detach(&sb, NULL);
}

static const char *tname(const struct json *j)
{
	if (!j)
		return "nothing";
	switch (j->type) {
	case JSON_NULL:
		return "null";
	case JSON_BOOL:
		return "a boolean";
	case JSON_NUMBER:
		return "a number";
	case JSON_STRING:
		return "a string";
	case JSON_ARRAY:
		return "an array";
	case JSON_OBJECT:
		return "an object";
	}
	return "?";
}

static bool absent(const struct json *v)
{
	return !v || v->type == JSON_NULL;
}

static char *subpath(const char *path, const char *key)
{
	return *path ? xasprintf("%s.%s", path, key) : xstrdup(key);
}

static int want_string(const struct pctx *c, const struct json *v, const char *path, const char **ret,
		       struct skiff_err **err)
{
	if (v->type != JSON_STRING)
		return bad(err, c, path, "expected a string, got %s", tname(v));
	if (strlen(v->u.str.s) != v->u.str.len)
		return bad(err, c, path, "string contains a NUL byte");
	*ret = v->u.str.s;
	return 0;
}

/* Optional string member (absent or null: *ret untouched). */
static int rd_string(const struct pctx *c, const struct json *obj, const char *path, const char *key, const char **ret,
		     struct skiff_err **err)
{
	const struct json *v = json_object_get(obj, key);
	cleanup_free char *p = NULL;

	if (absent(v))
		return 0;
	p = subpath(path, key);
	return want_string(c, v, p, ret, err);
}

/* Optional unsigned integer member. */
static int rd_uint(const struct pctx *c, const struct json *obj, const char *path, const char *key, uint64_t max,
		   uint64_t *ret, bool *ret_present, struct skiff_err **err)
{
	const struct json *v = json_object_get(obj, key);
	cleanup_free char *p = NULL;

	if (absent(v)) {
		if (ret_present)
			*ret_present = false;
		return 0;
	}
	p = subpath(path, key);
	if (v->type != JSON_NUMBER)
		return bad(err, c, p, "expected an unsigned integer, got %s", tname(v));
	if (!v->u.num.is_int) {
		/* doubles this large are whole numbers: a uint64 above INT64_MAX, not exactly kept */
		if (v->u.num.d >= 9223372036854775808.0 && v->u.num.d <= 18446744073709551616.0)
			return bad(err, c, p, "%.0f: values above %" PRId64 " are not supported", v->u.num.d,
				   INT64_MAX);
		return bad(err, c, p, "expected an unsigned integer, got %g", v->u.num.d);
	}
	if (v->u.num.i < 0 || (uint64_t)v->u.num.i > max)
		return bad(err, c, p, "%" PRId64 " out of range 0..%" PRIu64, v->u.num.i, max);
	*ret = (uint64_t)v->u.num.i;
	if (ret_present)
		*ret_present = true;
	return 0;
}

/* Optional array member: *ret NULL when absent or null. */
static int rd_array(const struct pctx *c, const struct json *obj, const char *path, const char *key, size_t max,
		    const struct json **ret, struct skiff_err **err)
{
	const struct json *v = json_object_get(obj, key);
	cleanup_free char *p = NULL;

	*ret = NULL;
	if (absent(v))
		return 0;
	p = subpath(path, key);
	if (v->type != JSON_ARRAY)
		return bad(err, c, p, "expected an array, got %s", tname(v));
	if (v->u.arr.len > max)
		return bad(err, c, p, "too many elements (%zu, at most %zu)", v->u.arr.len, max);
	*ret = v;
	return 0;
}

/* Optional array of strings appended to out. */
static int rd_strv(const struct pctx *c, const struct json *obj, const char *path, const char *key, struct strv *out,
		   struct skiff_err **err)
{
	const struct json *a;

	if (rd_array(c, obj, path, key, MAX_LIST, &a, err) < 0)
		return -1;
	for (size_t i = 0; a && i < a->u.arr.len; i++) {
		cleanup_free char *p = xasprintf("%s%s%s[%zu]", path, *path ? "." : "", key, i);
		const char *s;
		if (want_string(c, a->u.arr.items[i], p, &s, err) < 0)
			return -1;
		strv_push(out, s);
	}
	return 0;
}

static int want_object(const struct pctx *c, const struct json *v, const char *path, struct skiff_err **err)
{
	if (!v || v->type != JSON_OBJECT)
		return bad(err, c, path, "expected an object, got %s", tname(v));
	return 0;
}

static int parse_action(const struct pctx *c, const struct json *obj, const char *path, const char *key,
			enum spec_scmp_action *ret, struct skiff_err **err)
{
	const struct json *v = json_object_get(obj, key);
	cleanup_free char *p = subpath(path, key);
	const char *s;
	int a;

	if (absent(v))
		return bad(err, c, p, "missing");
	if (want_string(c, v, p, &s, err) < 0)
		return -1;
	a = lookup(s, action_names, ARRAY_SIZE(action_names));
	if (a < 0) {
		cleanup_free char *q = quoted(s, v->u.str.len);
		return bad(err, c, p, "unknown action %s", q);
	}
	*ret = (enum spec_scmp_action)a;
	return 0;
}

/* errnoRet/defaultErrnoRet: only meaningful for ERRNO and TRACE. */
static int parse_errno_ret(const struct pctx *c, const struct json *obj, const char *path, const char *key,
			   enum spec_scmp_action act, bool *ret_has, uint32_t *ret, struct skiff_err **err)
{
	uint64_t v = 0;
	bool has = false;

	if (rd_uint(c, obj, path, key, act == SPEC_SCMP_ACT_TRACE ? MAX_TRACE_DATA : MAX_ERRNO, &v, &has, err) < 0)
		return -1;
	if (has && act != SPEC_SCMP_ACT_ERRNO && act != SPEC_SCMP_ACT_TRACE) {
		cleanup_free char *p = subpath(path, key);
		return bad(err, c, p, "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not %s", action_names[act]);
	}
	*ret_has = has;
	*ret = (uint32_t)v;
	return 0;
}

static bool syscall_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > MAX_SYSCALL_NAME || strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static int check_syscall_name(const struct pctx *c, const struct json *v, const char *path, struct skiff_err **err)
{
	if (v->type != JSON_STRING)
		return bad(err, c, path, "expected a string, got %s", tname(v));
	if (!syscall_name_ok(v->u.str.s, v->u.str.len)) {
		cleanup_free char *q = quoted(v->u.str.s, v->u.str.len);
		return bad(err, c, path, "invalid syscall name %s", q);
	}
	return 0;
}

static int parse_names(struct pctx *c, const struct json *e, const char *path, struct strv *out, struct skiff_err **err)
{
	const struct json *a, *one = json_object_get(e, "name");

	if (rd_array(c, e, path, "names", MAX_NAMES, &a, err) < 0)
		return -1;
	for (size_t i = 0; a && i < a->u.arr.len; i++) {
		cleanup_free char *p = xasprintf("%s.names[%zu]", path, i);
		if (check_syscall_name(c, a->u.arr.items[i], p, err) < 0)
			return -1;
		strv_push(out, a->u.arr.items[i]->u.str.s);
	}
	if (!absent(one)) {
		cleanup_free char *p = xasprintf("%s.name", path);
		if (check_syscall_name(c, one, p, err) < 0)
			return -1;
		strv_push(out, one->u.str.s);
	}
	if (!out->len) {
		cleanup_free char *p = xasprintf("%s.names", path);
		return bad(err, c, p, "missing or empty");
	}
	c->names_total += out->len;
	if (c->names_total > MAX_NAMES_ALL)
		return bad(err, c, path, "too many syscall names in the profile (more than %d)", MAX_NAMES_ALL);
	return 0;
}

static int parse_args(const struct pctx *c, const struct json *e, const char *path, struct spec_scmp_rule *r,
		      struct skiff_err **err)
{
	const struct json *a;

	if (rd_array(c, e, path, "args", MAX_ARGS, &a, err) < 0)
		return -1;
	if (!a || !a->u.arr.len)
		return 0;
	r->args = xcalloc(a->u.arr.len, sizeof(*r->args));
	for (size_t i = 0; i < a->u.arr.len; i++) {
		const struct json *it = a->u.arr.items[i], *opv;
		struct spec_scmp_arg *arg = &r->args[r->n_args];
		cleanup_free char *p = xasprintf("%s.args[%zu]", path, i);
		cleanup_free char *opp = NULL;
		uint64_t index = 0;
		bool has_index = false, has_value = false;
		const char *op;
		int o;

		if (want_object(c, it, p, err) < 0)
			return -1;
		if (rd_uint(c, it, p, "index", UINT64_MAX >> 1, &index, &has_index, err) < 0)
			return -1;
		if (!has_index) {
			cleanup_free char *ip = xasprintf("%s.index", p);
			return bad(err, c, ip, "missing");
		}
		if (index > 5) {
			cleanup_free char *ip = xasprintf("%s.index", p);
			return bad(err, c, ip, "%" PRIu64 " out of range 0..5", index);
		}
		if (rd_uint(c, it, p, "value", INT64_MAX, &arg->value, &has_value, err) < 0 ||
		    rd_uint(c, it, p, "valueTwo", INT64_MAX, &arg->value_two, NULL, err) < 0)
			return -1;
		if (!has_value) {
			cleanup_free char *vp = xasprintf("%s.value", p);
			return bad(err, c, vp, "missing");
		}
		opp = xasprintf("%s.op", p);
		opv = json_object_get(it, "op");
		if (absent(opv))
			return bad(err, c, opp, "missing");
		if (want_string(c, opv, opp, &op, err) < 0)
			return -1;
		o = lookup(op, op_names, ARRAY_SIZE(op_names));
		if (o < 0) {
			cleanup_free char *q = quoted(op, opv->u.str.len);
			return bad(err, c, opp, "unknown operator %s", q);
		}
		arg->index = (unsigned)index;
		arg->op = (enum spec_scmp_op)o;
		r->n_args++;
	}
	return 0;
}

/* "4.8" or "5.10.2": up to three numbers. */
static bool parse_kver(const char *s, unsigned v[3])
{
	int n = 0;

	v[0] = v[1] = v[2] = 0;
	while (n < 3) {
		unsigned long x = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9') {
			x = x * 10 + (unsigned long)(*s++ - '0');
			if (++digits > 6)
				return false;
		}
		if (!digits)
			return false;
		v[n++] = (unsigned)x;
		if (*s == '\0')
			return n >= 2;
		if (*s != '.')
			return false;
		s++;
	}
	return false;
}

static int running_kernel(struct pctx *c, struct skiff_err **err)
{
	struct utsname u;
	const char *s;

	if (c->have_kernel)
		return 0;
	if (uname(&u) < 0)
		return err_make(err, errno, "uname");
	s = u.release;
	for (int n = 0; n < 3; n++) {
		unsigned long x = 0;
		while (*s >= '0' && *s <= '9' && x < 1000000)
			x = x * 10 + (unsigned long)(*s++ - '0');
		c->kernel[n] = (unsigned)x;
		if (*s != '.')
			break;
		s++;
	}
	c->have_kernel = true;
	return 0;
}

static int kernel_at_least(const unsigned k[3], const unsigned want[3])
{
	for (int i = 0; i < 3; i++)
		if (k[i] != want[i])
			return k[i] > want[i];
	return 1;
}

static bool cap_eq(const char *a, const char *b)
{
	if (!strncasecmp(a, "CAP_", 4))
		a += 4;
	if (!strncasecmp(b, "CAP_", 4))
		b += 4;
	return !strcasecmp(a, b);
}

static bool has_cap(const struct strv *caps, const char *name)
{
	for (size_t i = 0; caps && i < caps->len; i++)
		if (cap_eq(caps->v[i], name))
			return true;
	return false;
}

static bool arch_matches(const char *canon, const char *listed)
{
	const struct arch_alias *a = arch_find(listed);

	if (!canon)
		return false;
	return !strcmp(canon, a ? a->canon : listed);
}

/*
 * includes (include=true) or excludes of an entry: validate, and say whether the
 * condition holds (includes: all satisfied; excludes: any matches).
 */
static int parse_filter(struct pctx *c, const struct json *e, const char *path, const char *key, bool include,
			bool *ret_hit, struct skiff_err **err)
{
	const struct json *f = json_object_get(e, key);
	cleanup_free char *p = subpath(path, key);
	cleanup_strv struct strv caps = STRV_INIT, arches = STRV_INIT;
	const char *mk = NULL;
	unsigned want[3] = {0, 0, 0};
	bool all = true, any = false;

	*ret_hit = include;
	if (absent(f))
		return 0;
	if (want_object(c, f, p, err) < 0)
		return -1;
	if (!c->profile) {
		if (f->u.obj.len)
			return bad(err, c, p, "a profile condition: convert the profile before use");
		return 0;
	}
	if (rd_strv(c, f, p, "caps", &caps, err) < 0 || rd_strv(c, f, p, "arches", &arches, err) < 0 ||
	    rd_string(c, f, p, "minKernel", &mk, err) < 0)
		return -1;
	if (mk && !parse_kver(mk, want)) {
		cleanup_free char *mp = xasprintf("%s.minKernel", p);
		cleanup_free char *q = quoted(mk, strlen(mk));
		return bad(err, c, mp, "invalid kernel version %s (want MAJOR.MINOR)", q);
	}
	for (size_t i = 0; i < caps.len; i++) {
		bool h = has_cap(c->caps, caps.v[i]);
		all = all && h;
		any = any || h;
	}
	if (arches.len) {
		bool m = false;
		for (size_t i = 0; i < arches.len; i++)
			m = m || arch_matches(c->arch, arches.v[i]);
		all = all && m;
		any = any || m;
	}
	if (mk) {
		bool newer;
		if (running_kernel(c, err) < 0)
			return -1;
		newer = kernel_at_least(c->kernel, want);
		all = all && newer;
		any = any || newer;
	}
	*ret_hit = include ? all : any;
	return 0;
}

/* One syscalls[] entry. *ret_keep says whether its conditions hold for this container. */
static int parse_rule(struct pctx *c, const struct json *e, const char *path, struct spec_scmp_rule *r, bool *ret_keep,
		      struct skiff_err **err)
{
	bool inc, exc;

	if (want_object(c, e, path, err) < 0 || parse_names(c, e, path, &r->names, err) < 0 ||
	    parse_action(c, e, path, "action", &r->action, err) < 0 ||
	    parse_errno_ret(c, e, path, "errnoRet", r->action, &r->has_errno_ret, &r->errno_ret, err) < 0 ||
	    parse_args(c, e, path, r, err) < 0 || parse_filter(c, e, path, "includes", true, &inc, err) < 0 ||
	    parse_filter(c, e, path, "excludes", false, &exc, err) < 0)
		return -1;
	*ret_keep = inc && !exc;
	return 0;
}

static int check_arch_list(const struct pctx *c, const struct strv *sv, const char *path, struct skiff_err **err)
{
	for (size_t i = 0; i < sv->len; i++) {
		if (!spec_seccomp_arch_known(sv->v[i])) {
			cleanup_free char *p = xasprintf("%s[%zu]", path, i);
			cleanup_free char *q = quoted(sv->v[i], strlen(sv->v[i]));
			return bad(err, c, p, "unknown architecture %s", q);
		}
	}
	return 0;
}

static void push_unique(struct strv *sv, const char *s)
{
	if (!strv_contains(sv, s))
		strv_push(sv, s);
}

/* archMap (profile mode): the native entry's architecture and subArchitectures. */
static int parse_arch_map(struct pctx *c, const struct json *doc, struct strv *out, struct skiff_err **err)
{
	const struct json *a;

	if (rd_array(c, doc, "", "archMap", MAX_LIST, &a, err) < 0)
		return -1;
	if (a && a->u.arr.len && !c->profile)
		return bad(err, c, "archMap", "a profile key: convert the profile before use");
	for (size_t i = 0; a && i < a->u.arr.len; i++) {
		const struct json *it = a->u.arr.items[i];
		cleanup_free char *p = xasprintf("archMap[%zu]", i);
		cleanup_free char *sp = xasprintf("%s.subArchitectures", p);
		cleanup_strv struct strv subs = STRV_INIT;
		const char *arch = NULL;

		if (want_object(c, it, p, err) < 0 || rd_string(c, it, p, "architecture", &arch, err) < 0 ||
		    rd_strv(c, it, p, "subArchitectures", &subs, err) < 0)
			return -1;
		if (!arch) {
			cleanup_free char *ap = xasprintf("%s.architecture", p);
			return bad(err, c, ap, "missing");
		}
		if (!spec_seccomp_arch_known(arch)) {
			cleanup_free char *ap = xasprintf("%s.architecture", p);
			cleanup_free char *q = quoted(arch, strlen(arch));
			return bad(err, c, ap, "unknown architecture %s", q);
		}
		if (check_arch_list(c, &subs, sp, err) < 0)
			return -1;
		if (!out->len && c->arch_scmp && !strcmp(arch, c->arch_scmp)) {
			push_unique(out, arch);
			for (size_t j = 0; j < subs.len; j++)
				push_unique(out, subs.v[j]);
		}
	}
	return 0;
}

static int parse_doc(struct pctx *c, const struct json *doc, struct spec_seccomp **ret, struct skiff_err **err)
{
	cleanup_spec_seccomp struct spec_seccomp *s = xzalloc(sizeof(*s));
	const struct json *calls;
	const char *lp = NULL, *lm = NULL;
	cleanup_strv struct strv from_map = STRV_INIT;

	if (want_object(c, doc, "", err) < 0 ||
	    parse_action(c, doc, "", "defaultAction", &s->default_action, err) < 0 ||
	    parse_errno_ret(c, doc, "", "defaultErrnoRet", s->default_action, &s->has_default_errno_ret,
			    &s->default_errno_ret, err) < 0 ||
	    rd_strv(c, doc, "", "architectures", &s->architectures, err) < 0 ||
	    check_arch_list(c, &s->architectures, "architectures", err) < 0 ||
	    parse_arch_map(c, doc, &from_map, err) < 0 || rd_strv(c, doc, "", "flags", &s->flags, err) < 0 ||
	    rd_string(c, doc, "", "listenerPath", &lp, err) < 0 ||
	    rd_string(c, doc, "", "listenerMetadata", &lm, err) < 0 ||
	    rd_array(c, doc, "", "syscalls", MAX_RULES, &calls, err) < 0)
		return -1;
	if (s->default_action == SPEC_SCMP_ACT_NOTIFY)
		return bad(err, c, "defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
	if (s->architectures.len && json_array_len(json_object_get(doc, "archMap")))
		return bad(err, c, "architectures", "both architectures and archMap given");
	if (from_map.len) {
		strv_release(&s->architectures);
		s->architectures = from_map;
		from_map = (struct strv)STRV_INIT;
	}
	for (size_t i = 0; i < s->flags.len; i++) {
		if (lookup(s->flags.v[i], filter_flags, ARRAY_SIZE(filter_flags)) < 0) {
			cleanup_free char *p = xasprintf("flags[%zu]", i);
			cleanup_free char *q = quoted(s->flags.v[i], strlen(s->flags.v[i]));
			return bad(err, c, p, "unknown flag %s", q);
		}
	}
	s->listener_path = lp ? xstrdup(lp) : NULL;
	s->listener_metadata = lm ? xstrdup(lm) : NULL;
	if (calls && calls->u.arr.len)
		s->rules = xcalloc(calls->u.arr.len, sizeof(*s->rules));
	for (size_t i = 0; calls && i < calls->u.arr.len; i++) {
		cleanup_free char *p = xasprintf("syscalls[%zu]", i);
		struct spec_scmp_rule r = {.names = STRV_INIT};
		bool keep;

		if (parse_rule(c, calls->u.arr.items[i], p, &r, &keep, err) < 0) {
			rule_release(&r);
			return -1;
		}
		if (keep)
			s->rules[s->n_rules++] = r;
		else
			rule_release(&r);
	}
	*ret = TAKE_PTR(s);
	return 0;
}

int spec_seccomp_parse(const struct json *oci, struct spec_seccomp **ret, struct skiff_err **err)
{
	struct pctx c = {.prefix = "linux.seccomp"};

	return parse_doc(&c, oci, ret, err);
}

/* ---- generation ---- */

struct json *spec_seccomp_to_json(const struct spec_seccomp *s)
{
	struct json *o = json_new_object(), *calls = json_new_array();

	json_object_set_string(o, "defaultAction", action_names[s->default_action]);
	if (s->has_default_errno_ret)
		json_object_set_int(o, "defaultErrnoRet", s->default_errno_ret);
	if (s->architectures.len) {
		struct json *a = json_new_array();
		for (size_t i = 0; i < s->architectures.len; i++)
			json_array_append(a, json_new_string(s->architectures.v[i]));
		json_object_set(o, "architectures", a);
	}
	if (s->flags.len) {
		struct json *a = json_new_array();
		for (size_t i = 0; i < s->flags.len; i++)
			json_array_append(a, json_new_string(s->flags.v[i]));
		json_object_set(o, "flags", a);
	}
	if (s->listener_path)
		json_object_set_string(o, "listenerPath", s->listener_path);
	if (s->listener_metadata)
		json_object_set_string(o, "listenerMetadata", s->listener_metadata);
	for (size_t i = 0; i < s->n_rules; i++) {
		const struct spec_scmp_rule *r = &s->rules[i];
		struct json *e = json_new_object(), *names = json_new_array();

		for (size_t j = 0; j < r->names.len; j++)
			json_array_append(names, json_new_string(r->names.v[j]));
		json_object_set(e, "names", names);
		json_object_set_string(e, "action", action_names[r->action]);
		if (r->has_errno_ret)
			json_object_set_int(e, "errnoRet", r->errno_ret);
		if (r->n_args) {
			struct json *args = json_new_array();
			for (size_t j = 0; j < r->n_args; j++) {
				struct json *a = json_new_object();
				json_object_set_int(a, "index", r->args[j].index);
				json_object_set_int(a, "value", (int64_t)r->args[j].value);
				if (r->args[j].value_two)
					json_object_set_int(a, "valueTwo", (int64_t)r->args[j].value_two);
				json_object_set_string(a, "op", op_names[r->args[j].op]);
				json_array_append(args, a);
			}
			json_object_set(e, "args", args);
		}
		json_array_append(calls, e);
	}
	json_object_set(o, "syscalls", calls);
	return o;
}

int spec_seccomp_profile_to_oci(const char *buf, size_t len, const struct strv *caps, const char *arch,
				struct json **ret, struct skiff_err **err)
{
	struct pctx c = {.prefix = "seccomp profile", .profile = true, .caps = caps};
	cleanup_json struct json *doc = NULL;
	cleanup_spec_seccomp struct spec_seccomp *s = NULL;
	const struct arch_alias *a;

	if (!arch)
		arch = spec_seccomp_native_arch();
	if (arch) {
		a = arch_find(arch);
		if (!a) {
			cleanup_free char *q = quoted(arch, strlen(arch));
			return err_makex(err, EINVAL, "seccomp profile: unknown architecture %s", q);
		}
		c.arch = a->canon;
		c.arch_scmp = a->scmp;
	}
	if (json_parse(buf, len, &doc, err) < 0)
		return err_wrap(err, "seccomp profile");
	if (parse_doc(&c, doc, &s, err) < 0)
		return -1;
	*ret = spec_seccomp_to_json(s);
	return 0;
}
