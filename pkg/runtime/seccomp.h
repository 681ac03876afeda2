/*
 * pkg/runtime seccomp: compile an OCI linux.seccomp object into a BPF filter (libseccomp)
 * in the runtime, load it in the container child right before execve.
 *
 * Compile does all the work and allocation: it validates (spec_seccomp_parse), builds the
 * libseccomp filter and exports its BPF program. Load only hands that program to
 * seccomp(2), so it never allocates, and it never sets no_new_privs itself: without
 * no_new_privs the kernel requires CAP_SYS_ADMIN, and loading fails with EACCES saying so.
 *
 * Semantics, as runc and crun:
 *   - the native arch is always in the filter; architectures[] adds the others;
 *   - syscall names this libseccomp does not know are skipped (older library or kernel);
 *   - rules whose action equals the default action are skipped;
 *   - errnoRet defaults to EPERM for SCMP_ACT_ERRNO and SCMP_ACT_TRACE;
 *   - several args on the same index make one rule per arg (any of them matches), else
 *     all args of an entry must match;
 *   - SCMP_ACT_NOTIFY (seccomp user notification, listenerPath) is not supported: EINVAL;
 *   - flags TSYNC, LOG and SPEC_ALLOW are passed to seccomp(2); WAIT_KILLABLE_RECV only
 *     matters with a listener and is ignored;
 *   - unless the default action lets syscalls through (ALLOW, LOG, TRACE), a syscall whose
 *     number is above every syscall the profile names (for that arch) fails with ENOSYS
 *     instead of the default action, so that a profile or libseccomp older than the
 *     kernel does not break libc fallbacks for new syscalls (runc does the same).
 */
#ifndef SKIFF_RUNTIME_SECCOMP_H
#define SKIFF_RUNTIME_SECCOMP_H

#include "pkg/json/json.h"
#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"

struct rt_seccomp; /* a compiled filter */

/* Build a filter from an OCI linux.seccomp object; unknown syscall names are skipped
 * (older kernels/libseccomp), bad actions/ops/arches are EINVAL naming the field. */
int rt_seccomp_compile(const struct json *oci, struct rt_seccomp **ret, struct skiff_err **err);
/* Load it into the calling thread (seccomp(2), with the spec's flags). Called in the
 * container child after no_new_privs/caps, right before execve; does not allocate on
 * success. f NULL: nothing to do. */
int rt_seccomp_load(const struct rt_seccomp *f, struct skiff_err **err);
void rt_seccomp_free(struct rt_seccomp *f);
static inline void rt_seccomp_freep(struct rt_seccomp **p)
{
	if (*p)
		rt_seccomp_free(*p);
}
#define cleanup_rt_seccomp __attribute__((cleanup(rt_seccomp_freep)))

/* Number of BPF instructions of a compiled filter. */
unsigned rt_seccomp_length(const struct rt_seccomp *f);

/* For `skiff-runtime features` (NULL-terminated lists): the action and operator names
 * supported, the SCMP_ARCH_* names this libseccomp knows, and the flags supported. */
const char *const *rt_seccomp_actions(void);
const char *const *rt_seccomp_operators(void);
const char *const *rt_seccomp_archs(void);
const char *const *rt_seccomp_flags(void);

/* A compiled filter as bytes (the cache format) and back; bad bytes are EINVAL. */
void rt_seccomp_serialize(const struct rt_seccomp *f, struct strbuf *out);
int rt_seccomp_deserialize(const char *buf, size_t n, struct rt_seccomp **ret, struct skiff_err **err);
/* libseccomp's version, part of the cache key. */
const char *rt_seccomp_library_version(void);

#endif
