/*
 * pkg/spec seccomp: the OCI runtime-spec `linux.seccomp` object, typed and validated, and
 * the conversion of a docker/podman seccomp profile (data/seccomp.json, --security-opt
 * seccomp=FILE) into it. Pure logic: no libseccomp here (pkg/runtime compiles the filter).
 *
 * A profile is the OCI object plus conditions, evaluated for one container:
 *   - `archMap`: [{architecture, subArchitectures}]; the entry of the container's arch gives
 *     `architectures` = [architecture, subArchitectures...] (none matching: no list, which
 *     means the native arch only). `architectures` and `archMap` together are an error.
 *   - per syscall entry, `includes` {caps, arches, minKernel} and `excludes` {caps, arches,
 *     minKernel}: an entry is kept when all of includes.caps are in the capability set, the
 *     arch is one of includes.arches (when given) and the running kernel is at least
 *     includes.minKernel; and none of excludes.caps is in the set, the arch is not one of
 *     excludes.arches and the kernel is older than excludes.minKernel (when given).
 *   - `name` (one string) is accepted beside `names`; `comment`, `errno`, `defaultErrno` and
 *     other unknown keys are ignored.
 * Arches in conditions are Go/libseccomp-golang names ("amd64", "x86", "x32", "arm64",
 * "arm", "ppc64le", "s390x", "riscv64", ...); the uname forms ("x86_64", "aarch64", "i686")
 * are accepted everywhere and mean the same.
 *
 * Validation is the same for both forms, and happens for every entry, kept or not: actions
 * (SCMP_ACT_KILL, KILL_PROCESS, KILL_THREAD, TRAP, ERRNO, TRACE, ALLOW, LOG, NOTIFY), ops
 * (SCMP_CMP_NE, LT, LE, EQ, GE, GT, MASKED_EQ), arg index 0..5, values 0..INT64_MAX (larger
 * ones cannot be represented exactly by pkg/json and are refused), errnoRet only with ERRNO
 * (0..4095) or TRACE (0..65535), syscall names [a-z0-9_]{1,64}, SCMP_ARCH_* names, the four
 * SECCOMP_FILTER_FLAG_* flags of the runtime-spec, and sizes (at most 4096 entries, 4096
 * names per entry and 65536 in all, 16 args per entry). Errors are EINVAL naming the path:
 *   seccomp profile: syscalls[3].args[0].op: unknown operator "FOO"
 */
#ifndef SKIFF_SPEC_SECCOMP_H
#define SKIFF_SPEC_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/json/json.h"
#include "vendor-free/err.h"
#include "vendor-free/strv.h"

enum spec_scmp_action {
	SPEC_SCMP_ACT_KILL, /* = KILL_THREAD */
	SPEC_SCMP_ACT_KILL_PROCESS,
	SPEC_SCMP_ACT_KILL_THREAD,
	SPEC_SCMP_ACT_TRAP,
	SPEC_SCMP_ACT_ERRNO,
	SPEC_SCMP_ACT_TRACE,
	SPEC_SCMP_ACT_ALLOW,
	SPEC_SCMP_ACT_LOG,
	SPEC_SCMP_ACT_NOTIFY,
	SPEC_SCMP_ACT_COUNT_
};

enum spec_scmp_op {
	SPEC_SCMP_CMP_NE,
	SPEC_SCMP_CMP_LT,
	SPEC_SCMP_CMP_LE,
	SPEC_SCMP_CMP_EQ,
	SPEC_SCMP_CMP_GE,
	SPEC_SCMP_CMP_GT,
	SPEC_SCMP_CMP_MASKED_EQ, /* (arg & value) == valueTwo */
	SPEC_SCMP_CMP_COUNT_
};

struct spec_scmp_arg {
	unsigned index; /* 0..5 */
	uint64_t value, value_two;
	enum spec_scmp_op op;
};

struct spec_scmp_rule {
	struct strv names; /* at least one */
	enum spec_scmp_action action;
	bool has_errno_ret;
	uint32_t errno_ret;
	struct spec_scmp_arg *args;
	size_t n_args;
};

struct spec_seccomp {
	enum spec_scmp_action default_action;
	bool has_default_errno_ret;
	uint32_t default_errno_ret;
	struct strv architectures; /* SCMP_ARCH_* */
	struct strv flags;	   /* SECCOMP_FILTER_FLAG_* */
	char *listener_path;	   /* NULL when absent */
	char *listener_metadata;   /* NULL when absent */
	struct spec_scmp_rule *rules;
	size_t n_rules;
};

/* Validate an OCI linux.seccomp object into *ret. Profile-only keys (archMap, non-empty
 * includes/excludes) are rejected: a profile must be converted first. */
int spec_seccomp_parse(const struct json *oci, struct spec_seccomp **ret, struct skiff_err **err);
void spec_seccomp_free(struct spec_seccomp *s);
static inline void spec_seccomp_freep(struct spec_seccomp **p)
{
	if (*p)
		spec_seccomp_free(*p);
}
#define cleanup_spec_seccomp __attribute__((cleanup(spec_seccomp_freep)))

/* The OCI object for s (keys in specs-go order; errnoRet and valueTwo only when set). */
struct json *spec_seccomp_to_json(const struct spec_seccomp *s);

/*
 * Convert len bytes of a docker/podman profile (or an OCI linux.seccomp object, which
 * passes through after validation) for a container with capability set caps ("CAP_X"
 * names; NULL: none) on arch (Go or uname name; NULL: spec_seccomp_native_arch()) into an
 * OCI linux.seccomp object (*ret, caller frees). minKernel conditions are evaluated
 * against the running kernel (uname). Errors are EINVAL "seccomp profile: PATH: ...".
 */
int spec_seccomp_profile_to_oci(const char *buf, size_t len, const struct strv *caps, const char *arch,
				struct json **ret, struct skiff_err **err);

/* Go-style name of the architecture this was built for ("amd64", "arm64", "386", ...),
 * NULL when unknown. */
const char *spec_seccomp_native_arch(void);

/* "SCMP_ACT_ALLOW" ... / "SCMP_CMP_EQ" ...; NULL when out of range. */
const char *spec_seccomp_action_name(enum spec_scmp_action a);
const char *spec_seccomp_op_name(enum spec_scmp_op op);
/* Is name one of the SCMP_ARCH_* names the runtime-spec allows? */
bool spec_seccomp_arch_known(const char *name);

#endif
