/*
 * Human-readable sizes and durations, matching what podman and docker print
 * through github.com/docker/go-units.
 */
#ifndef SKIFF_HUMANIZE_H
#define SKIFF_HUMANIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vendor-free/err.h"

/* Big enough for any output of the functions below. */
#define HUMAN_BUF_SIZE 64

/*
 * go-units HumanSizeWithPrecision: divide by 1000 while >= 1000 (units B kB
 * MB GB TB PB EB ZB YB), then "%.*g" with precision significant digits, then
 * the unit, with a space in between when space is true. Examples with
 * precision 3: "1.05 MB", "999 B", "1e+03 kB" (as Go prints 999.6 kB).
 *   docker:           human_size_precision(n, 4, false) == HumanSize (go-units >= 0.4)
 *   podman images:    human_size_precision(n, 3, true)
 *   podman ps --size: human_size_precision(n, 3, false)
 */
void human_size_precision(double size, int precision, bool space, char *buf, size_t n);

/* "%.4g %s": 4 significant digits and a space, e.g. "4.5 MB", "1.24 kB",
 * "999 B", "1 GB" (go-units HumanSize before it dropped the space). */
void human_size(uint64_t bytes, char *buf, size_t n);

/* go-units HumanDuration for a duration in whole seconds: "Less than a
 * second", "1 second", "N seconds", "About a minute", "N minutes", "About an
 * hour", "N hours", "N days", "N weeks", "N months", "N years". Negative
 * durations (clock skew) count as less than a second. */
void human_duration(int64_t seconds, char *buf, size_t n);

/* human_duration + " ago": podman's CREATED column ("3 hours ago"). */
void human_duration_ago(int64_t seconds, char *buf, size_t n);

/*
 * go-units RAMInBytes: a number (decimals allowed) and an optional binary
 * suffix, case-insensitive: b, k/kb/kib, m/mb/mib, g/gb/gib, t/tb/tib,
 * p/pb/pib (all powers of 1024), with at most one space between them.
 * "512m" -> 536870912, "1.5g" -> 1610612736, "1024" -> 1024; the result is
 * truncated toward zero. Errors (EINVAL, ERANGE beyond int64) name the input.
 */
int parse_size(const char *s, int64_t *ret, struct skiff_err **err);

#endif
