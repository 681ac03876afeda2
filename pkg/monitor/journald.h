/*
 * The journald log driver: the monitor writes each line of the container's output as one
 * journal entry over systemd's native journal protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL):
 * a datagram to /run/systemd/journal/socket holding the fields, "KEY=VALUE\n" each, or, for
 * a value with a newline in it, "KEY\n", its length as a little-endian 64-bit number, the
 * value and "\n". An entry too big for a datagram goes in a sealed memfd whose fd is sent
 * alone with SCM_RIGHTS. libc only: no libsystemd in the monitor.
 *
 * The fields are conmon's (so podman's `logs` and `journalctl CONTAINER_NAME=...` work on
 * them): MESSAGE (the line without its newline), CONTAINER_ID_FULL, CONTAINER_ID (its first
 * 12 characters), CONTAINER_NAME, CONTAINER_TAG (with a tag), SYSLOG_IDENTIFIER (the tag,
 * else the name, else the short id), PRIORITY (6 for stdout, 3 for stderr), and
 * CONTAINER_PARTIAL_MESSAGE=true for output that did not end with a newline.
 */
#ifndef SKIFF_MONITOR_JOURNALD_H
#define SKIFF_MONITOR_JOURNALD_H

#include <stdbool.h>
#include <stddef.h>

#include "pkg/monitor/client.h"
#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"

#define MON_JOURNAL_SOCKET "/run/systemd/journal/socket"

/* Who wrote an entry. id: the full container id (more than 12 characters); name and tag
 * may be NULL. */
struct mon_journal_ids {
	const char *id, *name, *tag;
};

struct mon_journal {
	int fd; /* AF_UNIX datagram socket, connected to socket */
	char *socket;
	struct strbuf ids; /* the fields every entry carries, encoded */
};

/* Append one field, encoded (KEY=VALUE\n, or the binary form when value has a '\n'). */
void mon_journal_field(struct strbuf *out, const char *key, const char *value, size_t len);
/* The identity fields of ids, encoded. EINVAL for an id of 12 characters or less. */
int mon_journal_ids_encode(struct strbuf *out, const struct mon_journal_ids *ids, struct skiff_err **err);
/* One whole entry: MESSAGE, ids (encoded), PRIORITY, and CONTAINER_PARTIAL_MESSAGE. */
void mon_journal_entry(struct strbuf *out, const struct strbuf *ids, enum mon_stream stream, bool partial,
		       const char *msg, size_t len);

/* Connect to socket (NULL: MON_JOURNAL_SOCKET). A missing socket is ENOENT "journald is not
 * running: /run/systemd/journal/socket is missing". */
int mon_journal_open(struct mon_journal *j, const char *socket, const struct mon_journal_ids *ids,
		     struct skiff_err **err);
/* Send one entry per line of data (a last line without newline: a partial entry). After a
 * journald restart the socket is connected again once. The first failure is returned; the
 * other lines are still sent. */
int mon_journal_write(struct mon_journal *j, enum mon_stream stream, const char *data, size_t len,
		      struct skiff_err **err);
/* Send an encoded entry: a datagram, or a sealed memfd when it is too big for one. */
int mon_journal_send(struct mon_journal *j, const char *entry, size_t len, struct skiff_err **err);
void mon_journal_close(struct mon_journal *j);

#endif
