/* The container's seccomp filter: OCI linux.seccomp -> libseccomp -> BPF -> seccomp(2). */
#include "pkg/runtime/seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pkg/spec/seccomp.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

#define PREFIX "linux.seccomp"
#define X32_SYSCALL_BIT 0x40000000U

struct rt_seccomp {
	unsigned int flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
	unsigned short len;
	struct sock_filter insns[];
};

static const struct arch_token {
	const char *name;
	uint32_t token;
} arch_tokens[] = {
	{"SCMP_ARCH_NATIVE", SCMP_ARCH_NATIVE},
	{"SCMP_ARCH_X86", SCMP_ARCH_X86},
	{"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
	{"SCMP_ARCH_X32", SCMP_ARCH_X32},
	{"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
	{"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
	{"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
	{"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
	{"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
	{"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
	{"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
	{"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
	{"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
	{"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
	{"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
	{"SCMP_ARCH_S390", SCMP_ARCH_S390},
	{"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
	{"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
	{"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
#ifdef SCMP_ARCH_RISCV64
	{"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
#endif
#ifdef SCMP_ARCH_LOONGARCH64
	{"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
#endif
#ifdef SCMP_ARCH_M68K
	{"SCMP_ARCH_M68K", SCMP_ARCH_M68K},
#endif
#ifdef SCMP_ARCH_SH
	{"SCMP_ARCH_SH", SCMP_ARCH_SH},
	{"SCMP_ARCH_SHEB", SCMP_ARCH_SHEB},
#endif
};

#define MAX_FILTER_ARCHES (ARRAY_SIZE(arch_tokens) + 1)

static const char *const actions[] = {
	"SCMP_ACT_ALLOW",	 "SCMP_ACT_ERRNO",	 "SCMP_ACT_KILL",
	"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
	"SCMP_ACT_TRACE",	 "SCMP_ACT_TRAP",	 NULL,
};
static const char *const operators[] = {
	"SCMP_CMP_EQ", "SCMP_CMP_GE",	     "SCMP_CMP_GT", "SCMP_CMP_LE",
	"SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL,
};
static const char *const archs[] = {
	"SCMP_ARCH_X86",
	"SCMP_ARCH_X86_64",
	"SCMP_ARCH_X32",
	"SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64",
	"SCMP_ARCH_MIPS",
	"SCMP_ARCH_MIPS64",
	"SCMP_ARCH_MIPS64N32",
	"SCMP_ARCH_MIPSEL",
	"SCMP_ARCH_MIPSEL64",
	"SCMP_ARCH_MIPSEL64N32",
	"SCMP_ARCH_PPC",
	"SCMP_ARCH_PPC64",
	"SCMP_ARCH_PPC64LE",
	"SCMP_ARCH_S390",
	"SCMP_ARCH_S390X",
	"SCMP_ARCH_PARISC",
	"SCMP_ARCH_PARISC64",
#ifdef SCMP_ARCH_RISCV64
	"SCMP_ARCH_RISCV64",
#endif
#ifdef SCMP_ARCH_LOONGARCH64
	"SCMP_ARCH_LOONGARCH64",
#endif
#ifdef SCMP_ARCH_M68K
	"SCMP_ARCH_M68K",
#endif
#ifdef SCMP_ARCH_SH
	"SCMP_ARCH_SH",
	"SCMP_ARCH_SHEB",
#endif
	NULL,
};
static const char *const flags[] = {
	"SECCOMP_FILTER_FLAG_TSYNC",
	"SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW",
	NULL,
};

const char *const *rt_seccomp_actions(void)
{
	return actions;
}

const char *const *rt_seccomp_operators(void)
{
	return operators;
}

const char *const *rt_seccomp_archs(void)
{
	return archs;
}

const char *const *rt_seccomp_flags(void)
{
	return flags;
}

void rt_seccomp_free(struct rt_seccomp *f)
{
	free(f);
}

unsigned rt_seccomp_length(const struct rt_seccomp *f)
{
	return f ? f->len : 0;
}

static void ctx_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

static int map_action(enum spec_scmp_action a, bool has_errno, uint32_t errno_ret, const char *path, uint32_t *ret,
		      struct skiff_err **err)
{
	uint32_t data = has_errno ? errno_ret : EPERM;

	switch (a) {
	case SPEC_SCMP_ACT_KILL:
	case SPEC_SCMP_ACT_KILL_THREAD:
		*ret = SCMP_ACT_KILL_THREAD;
		return 0;
	case SPEC_SCMP_ACT_KILL_PROCESS:
		*ret = SCMP_ACT_KILL_PROCESS;
		return 0;
	case SPEC_SCMP_ACT_TRAP:
		*ret = SCMP_ACT_TRAP;
		return 0;
	case SPEC_SCMP_ACT_ERRNO:
		*ret = SCMP_ACT_ERRNO(data);
		return 0;
	case SPEC_SCMP_ACT_TRACE:
		*ret = SCMP_ACT_TRACE(data);
		return 0;
	case SPEC_SCMP_ACT_ALLOW:
		*ret = SCMP_ACT_ALLOW;
		return 0;
	case SPEC_SCMP_ACT_LOG:
		*ret = SCMP_ACT_LOG;
		return 0;
	case SPEC_SCMP_ACT_NOTIFY:
		return err_makex(err, EINVAL, PREFIX ": %s: SCMP_ACT_NOTIFY is not supported (no seccomp listener)",
				 path);
	case SPEC_SCMP_ACT_COUNT_:
		break;
	}
	return err_makex(err, EINVAL, PREFIX ": %s: unknown action %d", path, (int)a);
}

static enum scmp_compare map_op(enum spec_scmp_op op)
{
	switch (op) {
	case SPEC_SCMP_CMP_NE:
		return SCMP_CMP_NE;
	case SPEC_SCMP_CMP_LT:
		return SCMP_CMP_LT;
	case SPEC_SCMP_CMP_LE:
		return SCMP_CMP_LE;
	case SPEC_SCMP_CMP_EQ:
		return SCMP_CMP_EQ;
	case SPEC_SCMP_CMP_GE:
		return SCMP_CMP_GE;
	case SPEC_SCMP_CMP_GT:
		return SCMP_CMP_GT;
	case SPEC_SCMP_CMP_MASKED_EQ:
		return SCMP_CMP_MASKED_EQ;
	case SPEC_SCMP_CMP_COUNT_:
		break;
	}
	return _SCMP_CMP_MIN; /* invalid: libseccomp refuses it */
}

static const struct arch_token *arch_lookup(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(arch_tokens); i++)
		if (!strcmp(name, arch_tokens[i].name))
			return &arch_tokens[i];
	return NULL;
}

/* The arches of the filter and, per arch, the largest syscall number the profile names. */
struct arch_last {
	uint32_t token;
	int last;
};

static void track_last(struct arch_last *al, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name_arch(al[i].token, name);
		if (nr >= 0 && nr > al[i].last)
			al[i].last = nr;
	}
}

static int add_arches(scmp_filter_ctx ctx, const struct spec_seccomp *s, struct arch_last *al, size_t *ret_n,
		      struct skiff_err **err)
{
	size_t n = 0;

	al[n++] = (struct arch_last){.token = seccomp_arch_native(), .last = -1};
	for (size_t i = 0; i < s->architectures.len; i++) {
		const struct arch_token *t = arch_lookup(s->architectures.v[i]);
		bool dup = false;
		int rc;

		if (!t) /* a valid name this libseccomp does not know: it cannot be the native one */
			continue;
		rc = seccomp_arch_add(ctx, t->token);
		if (rc == -EEXIST)
			continue;
		if (rc < 0)
			return err_make(err, -rc, PREFIX ": architectures[%zu]: add %s", i, t->name);
		for (size_t j = 0; j < n; j++)
			dup = dup || al[j].token == t->token;
		if (!dup && n < MAX_FILTER_ARCHES)
			al[n++] = (struct arch_last){.token = t->token, .last = -1};
	}
	*ret_n = n;
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct spec_scmp_rule *r, size_t ri, const char *name, int nr,
		    uint32_t act, struct skiff_err **err)
{
	struct scmp_arg_cmp cmp[16];
	bool seen[6] = {false}, same_index = false;
	int rc;

	if (r->n_args > ARRAY_SIZE(cmp))
		return err_makex(err, EINVAL, PREFIX ": syscalls[%zu].args: too many", ri);
	for (size_t i = 0; i < r->n_args; i++) {
		const struct spec_scmp_arg *a = &r->args[i];
		if (a->index > 5)
			return err_makex(err, EINVAL, PREFIX ": syscalls[%zu].args[%zu].index: out of range 0..5", ri,
					 i);
		same_index = same_index || seen[a->index];
		seen[a->index] = true;
		cmp[i] = (struct scmp_arg_cmp){
			.arg = a->index,
			.op = map_op(a->op),
			.datum_a = a->value,
			.datum_b = a->op == SPEC_SCMP_CMP_MASKED_EQ ? a->value_two : 0,
		};
	}
	if (!same_index) {
		rc = seccomp_rule_add_array(ctx, act, nr, (unsigned)r->n_args, cmp);
		if (rc < 0)
			return err_make(err, -rc, PREFIX ": syscalls[%zu]: add rule for %s", ri, name);
		return 0;
	}
	for (size_t i = 0; i < r->n_args; i++) {
		rc = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[i]);
		if (rc < 0)
			return err_make(err, -rc, PREFIX ": syscalls[%zu]: add rule for %s (args[%zu])", ri, name, i);
	}
	return 0;
}

/*
 * The ENOSYS stub, run before libseccomp's program: for each arch of the filter, a syscall
 * numbered above the largest one the profile names returns ENOSYS. x32 calls (x86_64 arch
 * with the x32 bit) and s390 (which multiplexes unknown syscalls through 0) go straight to
 * the program. out NULL: just count.
 */
static size_t build_stub(const struct arch_last *al, size_t n, struct sock_filter *out)
{
	size_t total = 3, i = 0; /* load arch, jump to program, return ENOSYS */

	for (size_t a = 0; a < n; a++) {
		if (al[a].last < 0 || al[a].token == SCMP_ARCH_X32 || al[a].token == SCMP_ARCH_S390 ||
		    al[a].token == SCMP_ARCH_S390X)
			continue;
		total += al[a].token == SCMP_ARCH_X86_64 ? 5 : 4;
	}
	if (total == 3)
		return 0;
	if (!out)
		return total;
	out[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	for (size_t a = 0; a < n; a++) {
		bool x86_64 = al[a].token == SCMP_ARCH_X86_64;
		if (al[a].last < 0 || al[a].token == SCMP_ARCH_X32 || al[a].token == SCMP_ARCH_S390 ||
		    al[a].token == SCMP_ARCH_S390X)
			continue;
		out[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, al[a].token, 0, x86_64 ? 4 : 3);
		i++;
		out[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
		if (x86_64) {
			out[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 1, 0);
			i++;
		}
		out[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)al[a].last,
						      (uint8_t)(total - 1 - (i + 1)), 0);
		i++;
		out[i] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(total - (i + 1)));
		i++;
	}
	out[i] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 1);
	i++;
	out[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
	return total;
}

static int export_bpf(scmp_filter_ctx ctx, char **ret, size_t *ret_len, struct skiff_err **err)
{
	cleanup_close int fd = memfd_create("skiff-seccomp", MFD_CLOEXEC);
	int rc;

	if (fd < 0)
		return err_make(err, errno, PREFIX ": memfd_create");
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return err_make(err, -rc, PREFIX ": generate the BPF program");
	if (lseek(fd, 0, SEEK_SET) < 0)
		return err_make(err, errno, PREFIX ": lseek");
	if (read_all_fd(fd, (size_t)1 << 20, ret, ret_len, err) < 0)
		return err_wrap(err, PREFIX ": read the BPF program");
	return 0;
}

static unsigned filter_flags(const struct spec_seccomp *s)
{
	unsigned f = 0;

	for (size_t i = 0; i < s->flags.len; i++) {
		if (!strcmp(s->flags.v[i], "SECCOMP_FILTER_FLAG_TSYNC"))
			f |= SECCOMP_FILTER_FLAG_TSYNC;
		else if (!strcmp(s->flags.v[i], "SECCOMP_FILTER_FLAG_LOG"))
			f |= SECCOMP_FILTER_FLAG_LOG;
		else if (!strcmp(s->flags.v[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			f |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
		/* SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: only with a listener */
	}
	return f;
}

int rt_seccomp_compile(const struct json *oci, struct rt_seccomp **ret, struct skiff_err **err)
{
	cleanup_spec_seccomp struct spec_seccomp *s = NULL;
	__attribute__((cleanup(ctx_releasep))) scmp_filter_ctx ctx = NULL;
	struct arch_last al[MAX_FILTER_ARCHES];
	size_t n_arches = 0, prog_len, stub_len = 0, total;
	cleanup_free char *prog = NULL;
	uint32_t def;
	struct rt_seccomp *f;

	if (spec_seccomp_parse(oci, &s, err) < 0)
		return -1;
	if (map_action(s->default_action, s->has_default_errno_ret, s->default_errno_ret, "defaultAction", &def, err) <
	    0)
		return -1;
	ctx = seccomp_init(def);
	if (!ctx)
		return err_makex(err, EINVAL, PREFIX ": defaultAction: %s not supported by libseccomp or the kernel",
				 spec_seccomp_action_name(s->default_action));
	/* a binary tree over the syscall numbers: a few compares per syscall instead of a
	 * walk down the allow list (older libseccomp: the linear filter, as before) */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (add_arches(ctx, s, al, &n_arches, err) < 0)
		return -1;
	for (size_t i = 0; i < s->n_rules; i++) {
		const struct spec_scmp_rule *r = &s->rules[i];
		cleanup_free char *path = xasprintf("syscalls[%zu].action", i);
		uint32_t act;

		if (map_action(r->action, r->has_errno_ret, r->errno_ret, path, &act, err) < 0)
			return -1;
		for (size_t j = 0; j < r->names.len; j++) {
			int nr = seccomp_syscall_resolve_name(r->names.v[j]);
			track_last(al, n_arches, r->names.v[j]);
			if (nr == __NR_SCMP_ERROR || act == def)
				continue;
			if (add_rule(ctx, r, i, r->names.v[j], nr, act, err) < 0)
				return -1;
		}
	}
	if (export_bpf(ctx, &prog, &prog_len, err) < 0)
		return -1;
	if (!prog_len || prog_len % sizeof(struct sock_filter))
		return err_makex(err, EIO, PREFIX ": libseccomp exported a BPF program of %zu bytes", prog_len);
	if (s->default_action != SPEC_SCMP_ACT_ALLOW && s->default_action != SPEC_SCMP_ACT_LOG &&
	    s->default_action != SPEC_SCMP_ACT_TRACE && def != SCMP_ACT_ERRNO(ENOSYS))
		stub_len = build_stub(al, n_arches, NULL);
	total = stub_len + prog_len / sizeof(struct sock_filter);
	if (total > BPF_MAXINSNS)
		return err_makex(err, E2BIG,
				 PREFIX ": the filter has %zu BPF instructions, the kernel takes at most %d", total,
				 BPF_MAXINSNS);
	f = xzalloc(sizeof(*f) + total * sizeof(struct sock_filter));
	f->flags = filter_flags(s);
	f->len = (unsigned short)total;
	if (stub_len)
		build_stub(al, n_arches, f->insns);
	memcpy(f->insns + stub_len, prog, prog_len);
	*ret = f;
	return 0;
}

int rt_seccomp_load(const struct rt_seccomp *f, struct skiff_err **err)
{
	struct sock_fprog prog;
	long rc;

	if (!f)
		return 0;
	prog = (struct sock_fprog){.len = f->len, .filter = (struct sock_filter *)f->insns};
	rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, &prog);
	if (rc < 0 && errno == ENOSYS && !f->flags)
		rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
	if (rc == 0)
		return 0;
	if (rc > 0) /* TSYNC: a thread could not be synchronised */
		return err_makex(err, ESRCH, "load seccomp filter: thread %ld cannot take it (TSYNC)", rc);
	if (errno == EACCES)
		return err_makex(err, EACCES,
				 "load seccomp filter: not permitted without no_new_privs or CAP_SYS_ADMIN "
				 "(set process.noNewPrivileges or keep CAP_SYS_ADMIN)");
	return err_make(err, errno, "load seccomp filter");
}

/* ---- the compiled-filter cache format ---- */

#define BPF_MAGIC "SKIFFBPF1"

void rt_seccomp_serialize(const struct rt_seccomp *f, struct strbuf *out)
{
	uint32_t flags = f->flags;
	uint16_t len = f->len;
	strbuf_add(out, BPF_MAGIC, sizeof(BPF_MAGIC));
	strbuf_add(out, &flags, sizeof(flags));
	strbuf_add(out, &len, sizeof(len));
	strbuf_add(out, f->insns, (size_t)f->len * sizeof(struct sock_filter));
}

int rt_seccomp_deserialize(const char *buf, size_t n, struct rt_seccomp **ret, struct skiff_err **err)
{
	size_t hdr = sizeof(BPF_MAGIC) + sizeof(uint32_t) + sizeof(uint16_t);
	if (n < hdr || memcmp(buf, BPF_MAGIC, sizeof(BPF_MAGIC)))
		return err_makex(err, EINVAL, "compiled seccomp filter: bad header");
	uint32_t flags;
	uint16_t len;
	memcpy(&flags, buf + sizeof(BPF_MAGIC), sizeof(flags));
	memcpy(&len, buf + sizeof(BPF_MAGIC) + sizeof(flags), sizeof(len));
	if (!len || len > BPF_MAXINSNS || n != hdr + (size_t)len * sizeof(struct sock_filter))
		return err_makex(err, EINVAL, "compiled seccomp filter: bad length");
	struct rt_seccomp *f = xmalloc(sizeof(*f) + (size_t)len * sizeof(struct sock_filter));
	f->flags = flags;
	f->len = len;
	memcpy(f->insns, buf + hdr, (size_t)len * sizeof(struct sock_filter));
	*ret = f;
	return 0;
}

const char *rt_seccomp_library_version(void)
{
	static char v[32];
	const struct scmp_version *ver = seccomp_version();
	snprintf(v, sizeof(v), "%u.%u.%u", ver ? ver->major : 0, ver ? ver->minor : 0, ver ? ver->micro : 0);
	return v;
}
