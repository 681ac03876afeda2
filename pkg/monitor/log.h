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
#include <sys/types.h>

#include "pkg/monitor/client.h"
#include "pkg/monitor/journald.h"
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
	int64_t size_max;  /* <= 0: no limit */
	int64_t size;	   /* bytes in the file now */
	unsigned max_file; /* > 1: rotate at size_max (docker's max-file) instead of truncating */
	struct strbuf buf;
	struct mon_journal journal; /* MON_LOG_JOURNALD */
};

/* Open (create, append) path for driver; MON_LOG_NONE opens nothing. */
int mon_log_open(struct mon_log *l, enum mon_log_driver driver, const char *path, int64_t size_max,
		 struct skiff_err **err);
/* The journald driver: entries sent to socket (NULL: MON_JOURNAL_SOCKET) with ids. */
int mon_log_open_journald(struct mon_log *l, const char *socket, const struct mon_journal_ids *ids,
			  struct skiff_err **err);
/* Keep max_file files (docker's json-file --log-opt max-file): PATH, PATH.1 (the newest
 * rotated) ... PATH.(max_file-1). 0 and 1: one file, truncated at size_max. */
void mon_log_set_max_file(struct mon_log *l, unsigned max_file);
/* Write a chunk of output as records. When the file would grow past size_max it is
 * truncated to 0 first (podman's behaviour), or, with max_file > 1, rotated: a new PATH
 * (made as PATH.rotate and renamed over PATH, so PATH never goes missing), the old one
 * PATH.1, PATH.1 PATH.2 and so on, the oldest beyond max_file dropped. The check is per
 * record, so a record is never split across files, and only a single record larger than
 * size_max can make a file exceed it. A failed rotation is returned and retried on the next
 * record; the record is still written, to the old file. */
int mon_log_write(struct mon_log *l, enum mon_stream stream, const char *data, size_t len, struct skiff_err **err);
/* Close and open the file again (after an outside rotation). */
int mon_log_reopen(struct mon_log *l, struct skiff_err **err);
void mon_log_close(struct mon_log *l);

/* ---- reading a rotated log ---- */

/* The name of log file i: path itself for 0, else "path.i" (caller frees). */
char *mon_log_file_name(const char *path, unsigned i);

struct mon_log_file {
	int fd; /* O_RDONLY */
	dev_t dev;
	ino_t ino;
};
struct mon_log_files {
	struct mon_log_file *v; /* oldest first: PATH.(n-1) ... PATH.1, PATH */
	size_t n;
};

/* Open the files of the log at path (max_file as for mon_log_set_max_file; 0 and 1 is PATH
 * alone) as one consistent set, oldest first: opened newest first, then checked again and
 * retried while a rotation moved any of them, so no file is missing or counted twice. Missing
 * files are left out (an empty set when there is no log yet). Errors other than ENOENT name
 * the file. */
int mon_log_files_open(const char *path, unsigned max_file, struct mon_log_files *ret, struct skiff_err **err);
/* The index in f of the file dev/ino, or -1. */
ssize_t mon_log_files_find(const struct mon_log_files *f, dev_t dev, ino_t ino);
void mon_log_files_close(struct mon_log_files *f);

#endif
