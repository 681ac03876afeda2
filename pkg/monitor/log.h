/*
 * The container log as the monitor writes it: k8s-file (podman's and conmon's format), or
 * none. One record per line of output:
 *
 *     2026-11-22T17:00:00.123456789+00:00 stdout F hello
 *
 * F: the content ended with a newline (which is not repeated); P: a partial chunk, the read
 * ended without a newline. The parser is mon_log_parse_line() in client.h.
 */
#ifndef SKIFF_MONITOR_LOG_H
#define SKIFF_MONITOR_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "pkg/monitor/client.h"
#include "pkg/monitor/monitor.h"
#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"

/* RFC 3339 with nanoseconds and the zone offset: 2026-11-22T17:00:00.123456789+01:00 for
 * time_ns (unix ns) in a zone gmtoff seconds east of UTC. */
void mon_log_format_time(struct strbuf *out, int64_t time_ns, long gmtoff);

/* Append the records for one chunk of output of stream to out. */
void mon_log_format(struct strbuf *out, int64_t time_ns, long gmtoff, enum mon_stream stream, const char *data,
		    size_t len);

struct mon_log {
	enum mon_log_driver driver;
	char *path;
	int fd;
	int64_t size_max; /* <= 0: no limit */
	int64_t size;	  /* bytes in the file now */
	struct strbuf buf;
};

/* Open (create, append) path for driver; MON_LOG_NONE opens nothing. */
int mon_log_open(struct mon_log *l, enum mon_log_driver driver, const char *path, int64_t size_max,
		 struct skiff_err **err);
/* Write a chunk of output as records. When the file would grow past size_max it is
 * truncated to 0 first (podman's behaviour); the check is per record, so only a single
 * record larger than size_max can make the file exceed it. */
int mon_log_write(struct mon_log *l, enum mon_stream stream, const char *data, size_t len, struct skiff_err **err);
/* Close and open the file again (after an outside rotation). */
int mon_log_reopen(struct mon_log *l, struct skiff_err **err);
void mon_log_close(struct mon_log *l);

#endif
