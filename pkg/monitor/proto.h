/*
 * The monitor's control protocol (docs/design/monitor.md): one SOCK_SEQPACKET socket,
 * DIR/ctl, mode 0600. Every packet is one type byte and a payload; integers are big-endian.
 * On connect the monitor sends VERSION (u8 version, then the status text).
 *
 *     monitor -> client                   client -> monitor
 *     'V' VERSION  u8 version, text       'A' ATTACH      u8 flags (MON_ATTACH_*)     REPLY
 *     'o' STDOUT   data                   'I' STDIN       data                        -
 *     'e' STDERR   data                   'C' STDIN_CLOSE                             -
 *     'x' EXIT     i32 code, i32 signal   'W' RESIZE      u16 rows, u16 cols          -
 *     'r' REPLY    i32 errno, text        'S' START                                   REPLY
 *                                         'T' STOP        u32 timeout, u8 signal      REPLY
 *                                         'K' KILL        u8 signal                   REPLY
 *                                         'Q' STATUS                                  REPLY (text)
 *                                         'L' LOG_REOPEN                              REPLY
 *
 * Unknown types get REPLY EPROTO and the connection stays. A client that does not read
 * fast enough to keep its socket from filling is dropped (the container never waits).
 */
#ifndef SKIFF_MONITOR_PROTO_H
#define SKIFF_MONITOR_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "vendor-free/err.h"

#define MON_PROTO_VERSION 1
/* The largest packet, type byte included; data packets carry up to MON_DATA_MAX bytes. */
#define MON_PKT_MAX 16384
#define MON_DATA_MAX (MON_PKT_MAX - 1)

enum mon_pkt_type {
	/* monitor -> client */
	MON_PKT_VERSION = 'V',
	MON_PKT_STDOUT = 'o',
	MON_PKT_STDERR = 'e',
	MON_PKT_EXIT = 'x',
	MON_PKT_REPLY = 'r',
	/* client -> monitor */
	MON_PKT_ATTACH = 'A',
	MON_PKT_STDIN = 'I',
	MON_PKT_STDIN_CLOSE = 'C',
	MON_PKT_RESIZE = 'W',
	MON_PKT_START = 'S',
	MON_PKT_STOP = 'T',
	MON_PKT_KILL = 'K',
	MON_PKT_STATUS = 'Q',
	MON_PKT_LOG_REOPEN = 'L',
	MON_PKT_HEALTHCHECK = 'H',
};

#define MON_ATTACH_STDIN 0x1
#define MON_ATTACH_STDOUT 0x2
#define MON_ATTACH_STDERR 0x4
#define MON_ATTACH_ALL (MON_ATTACH_STDIN | MON_ATTACH_STDOUT | MON_ATTACH_STDERR)
/* The client does the exit command's work itself once it has the EXIT packet (an attached
 * `skiff run`): the monitor skips the exit command when EXIT reached such a client. */
#define MON_ATTACH_CLEANUP 0x8
/* The container's next exit is the client's doing (a checkpoint ends it): no restart. */
#define MON_ATTACH_NORESTART 0x10
#define MON_ATTACH_KNOWN (MON_ATTACH_ALL | MON_ATTACH_CLEANUP | MON_ATTACH_NORESTART)

/* STOP with this timeout (or signal 0) uses the monitor's --stop-timeout (--stop-signal). */
#define MON_STOP_DEFAULT_TIMEOUT UINT32_MAX

/* One packet, decoded. Which fields mean something depends on type (table above). */
struct mon_msg {
	uint8_t type;
	uint8_t version; /* VERSION */
	uint8_t flags;	 /* ATTACH */
	uint8_t signal;	 /* STOP, KILL */
	uint16_t rows, cols;
	uint32_t timeout; /* STOP */
	int32_t code;	  /* EXIT: exit code; REPLY: errno (0 = ok) */
	int32_t exit_signal;
	/* The rest: STDIN/STDOUT/STDERR data, VERSION/REPLY text. Decoded, it points into the
	 * packet buffer and is NUL-terminated there (the NUL not counted). */
	const char *data;
	size_t len;
};

/* A received packet: the decoded message and the buffer it points into. */
struct mon_packet {
	struct mon_msg msg;
	char buf[MON_PKT_MAX + 1];
};

/* Does type exist in this version of the protocol? */
bool mon_pkt_known(uint8_t type);

/* Encode m into buf (cap bytes): *ret_len gets the packet length. EMSGSIZE when it does
 * not fit in cap or MON_PKT_MAX; EINVAL for an unknown type. */
int mon_msg_encode(const struct mon_msg *m, char *buf, size_t cap, size_t *ret_len, struct skiff_err **err);

/* Decode the n-byte packet in raw (raw must have room for raw[n] = '\0', which this writes).
 * An unknown type decodes with only type and data/len set; a known type with a payload of
 * the wrong size is EINVAL naming the type; an empty packet is EINVAL. */
int mon_msg_decode(char *raw, size_t n, struct mon_msg *ret, struct skiff_err **err);

/* A sockaddr for name in the directory open as dirfd, through /proc/self/fd/N/NAME, so that
 * directories deeper than sun_path's 108 bytes work. ENAMETOOLONG when even that is too long. */
int mon_sockaddr_at(int dirfd, const char *name, struct sockaddr_un *ret, socklen_t *ret_len, struct skiff_err **err);

#endif
