/*
 * pkg/events: the events log, as podman's file backend (events_logger = "file") keeps it:
 * one JSON object per line, {"ContainerExitCode":N,"ID":..,"Image":..,"Name":..,
 * "Status":..,"Time":"RFC 3339 nano","Type":..,"Attributes":{..}}, in
 * graphroot/events/events.log, so that it survives a reboot.
 *
 * Writers append one whole line with one write(2) on an O_APPEND descriptor, holding a
 * shared OFD lock on events.log.lock (many writers at once). When the file would grow past
 * the limit, one writer takes that lock exclusively and renames it to events.log.1 (the
 * one old file kept). Readers read events.log.1, then events.log; a follower drains the
 * file it has open after a rotation, then goes on with the new one.
 *
 * Reading is forgiving: a line that is not a JSON object, misses Type, Status or Time,
 * or is too long (EVENTS_MAX_LINE) is skipped, never an error.
 */
#ifndef SKIFF_EVENTS_H
#define SKIFF_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/json/json.h"
#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/strv.h"

/* podman's events_logfile_max_size default ("1m" = 1000000 bytes). */
#define EVENTS_DEFAULT_MAX_SIZE 1000000
/* Lines longer than this are skipped by readers; writers drop attributes to stay below. */
#define EVENTS_MAX_LINE (64 * 1024)

struct events_attr {
	const char *key, *value;
};

/* An event to append. NULL strings are left out of the record. */
struct event_new {
	const char *type;   /* "container", "image", "volume", "pod", "system" ... */
	const char *status; /* "create", "start", "died", "tag" ... */
	const char *id, *name, *image;
	const struct events_attr *attrs; /* written sorted by key */
	size_t nattrs;
	bool has_exit_code; /* ContainerExitCode (died) */
	int exit_code;
	int64_t time_ns; /* 0: now */
};

/* The directory of the log under a graphroot (caller frees). */
char *events_dir(const char *graphroot);

/*
 * Append ev to dir/events.log (dir created 0700 if missing), rotating first when the file
 * would exceed max_size bytes (0: never rotate). EINVAL when type or status is missing.
 */
int events_append_at(const char *dir, uint64_t max_size, const struct event_new *ev, struct skiff_err **err);

/*
 * events_append_at(events_dir(graphroot), the limit, ev). The limit is
 * $SKIFF_EVENTS_LOGFILE_MAX_SIZE when set (a size as parse_size() reads it: "1m",
 * "4096"; 0 disables rotation), else EVENTS_DEFAULT_MAX_SIZE.
 */
int events_append(const char *graphroot, const struct event_new *ev, struct skiff_err **err);

/* One event as read back. */
struct event {
	char *type, *status, *id, *name, *image; /* id, name, image: "" when absent */
	int64_t time_ns;
	bool has_exit_code;
	int exit_code;
	struct {
		char *key, *value;
	} * attrs; /* sorted by key */
	size_t nattrs;
};
void event_release(struct event *ev);

/* Parse one log line (no newline). EINVAL naming what is wrong; ret is written only on success. */
int event_parse(const char *line, size_t len, struct event *ret, struct skiff_err **err);

/* The record as written to the log (podman's JSON; no newline). */
void event_to_json_line(const struct event *ev, struct strbuf *out);

/*
 * podman's human line: "2024-01-02 15:04:05.999999999 +0000 UTC container start ID (image=..,
 * name=.., key=value...)"; for images "TIME image tag ID NAME"; system and volume events
 * "TIME TYPE STATUS NAME". The time is local, as Go prints it. With trunc, IDs are 12 chars.
 */
void event_human(const struct event *ev, bool trunc, struct strbuf *out);

/*
 * The row for --format templates: ID, Image, Name, Status, Type, Time (as Go prints a
 * time: "2024-01-02 15:04:05.1 +0000 UTC"), TimeNano (int), ContainerExitCode (when
 * known) and Attributes (an object).
 */
struct json *event_to_template_row(const struct event *ev);

/* Go's Time.String() of t (local zone): "2024-01-02 15:04:05.123 +0100 CET". */
void events_format_time(int64_t t_ns, struct strbuf *out);
/* RFC 3339 with nanoseconds, trailing zeros dropped, local offset ("Z" in UTC), as Go's RFC3339Nano. */
void events_format_rfc3339(int64_t t_ns, struct strbuf *out);

/*
 * --since/--until values: RFC 3339 (with or without fraction and zone; no zone means
 * local time), a date "2024-01-02", unix seconds ("1700000000.5"), or a duration before
 * now_ns ("10m", "1h30m", "1.5h", "300ms"; units h m s ms us ns). EINVAL naming s.
 */
int events_parse_time(const char *s, int64_t now_ns, int64_t *ret, struct skiff_err **err);

/* ---- filters ---- */

/*
 * podman's --filter keys (case-insensitive): container=NAME|ID-prefix, image=NAME|ID-prefix,
 * pod=, volume=NAME-prefix, event=STATUS (status= too; "die" means "died"), type=TYPE,
 * label=KEY or label=KEY=VALUE (an attribute). Values of one key are alternatives, keys
 * all have to match. since/until bound the time (exclusive). EINVAL: "KEY is an invalid
 * filter".
 */
struct events_filter;
int events_filter_new(const struct strv *filters, int64_t since_ns, int64_t until_ns, struct events_filter **ret,
		      struct skiff_err **err);
void events_filter_free(struct events_filter *f);
bool events_filter_match(const struct events_filter *f, const struct event *ev);

/* ---- reading ---- */

/* Called for each matching event: return 0 to go on, 1 to stop, -1 (with *err) to fail. */
typedef int events_fn(const struct event *ev, void *ud, struct skiff_err **err);

struct events_read_opts {
	const struct events_filter *filter; /* NULL: every event */
	bool from_start;		    /* false: only events appended after the call */
	bool follow;			    /* wait for more at the end */
	int64_t until_ns;		    /* follow: stop at this wall-clock time (0: never) */
	int stop_fd;			    /* follow: stop when readable (a signalfd); -1: none */
	int poll_ms;			    /* follow: the fallback re-check interval (0: 1000) */
};

/* Read dir/events.log.1 then dir/events.log, in order; a missing log is empty. */
int events_read_at(const char *dir, const struct events_read_opts *o, events_fn *fn, void *ud, struct skiff_err **err);

#endif
