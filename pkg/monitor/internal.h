/* The monitor's insides, shared by monitor.c (setup, loop, exit), stdio.c (the container's
 * stdio and the runtime's create), ctl.c (the control socket) and exitrec.c. */
#ifndef SKIFF_MONITOR_INTERNAL_H
#define SKIFF_MONITOR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pkg/monitor/client.h"
#include "pkg/monitor/log.h"
#include "pkg/monitor/monitor.h"
#include "pkg/monitor/proto.h"
#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/strv.h"

/* Container output is read in chunks of this size (one packet to attached clients). */
#define MON_READ_CHUNK 8192

enum mon_state { ST_CREATED, ST_RUNNING, ST_STOPPING, ST_RESTARTING, ST_EXITED };

/* What an epoll event is about: epoll_data.ptr points at one of these (first member of a
 * client, or one of the fixed ones in struct monitor). */
enum src_kind {
	SRC_SIGNAL,
	SRC_PIDFD,
	SRC_TIMER,
	SRC_LISTEN,
	SRC_STDOUT,
	SRC_STDERR,
	SRC_STDIN,
	SRC_CLIENT,
	SRC_HEALTH_TIMER,
	SRC_HEALTH_PIDFD,
	SRC_HEALTH_OUT,
};

enum mon_health_status { HEALTH_NONE, HEALTH_STARTING, HEALTH_HEALTHY, HEALTH_UNHEALTHY };
struct mon_src {
	enum src_kind kind;
};

struct mon_client {
	struct mon_src src; /* first: epoll data */
	struct mon_client *next;
	int fd;
	uint8_t attach;	     /* MON_ATTACH_* */
	bool paused;	     /* not read while its stdin data waits for the container */
	bool dead;	     /* dropped; freed after the current batch of events */
	bool health_waiting; /* asked for a healthcheck: replied to when it ends */
	/* packets its socket did not take yet: [u32 length][packet]... */
	struct strbuf queue;
	size_t queue_off;	/* sent from the queue so far */
	bool behind;		/* its queue is over the mark: the container's output waits */
	int64_t stalled_since;	/* CLOCK_MONOTONIC ns of its last progress while behind */
	bool close_after_flush; /* EXIT is queued: drop it once sent */
};

enum timer_use { TIMER_NONE, TIMER_STOP, TIMER_RESTART, TIMER_EXEC_START };

struct monitor {
	const struct monitor_opts *o;
	int dirfd; /* O_PATH of o->dir */
	int epfd, sigfd, timerfd, listen_fd;
	int sync_fd; /* o->sync_fd until the sync line is sent */
	struct mon_src src_sig, src_pidfd, src_timer, src_listen, src_out, src_err, src_in;
	enum timer_use timer;

	/* this run of the container */
	enum mon_state state;
	pid_t ctr_pid;
	int pidfd;
	int out_fd, err_fd; /* read ends; in terminal mode out_fd is the pty master */
	int in_fd;	    /* stdin pipe's write end, or a dup of the master; -1 */
	bool out_watched, err_watched;
	bool stdin_closed;	 /* STDIN_CLOSE seen (terminal: data is dropped from then on) */
	struct strbuf stdin_buf; /* data the container did not take yet */
	int64_t started_at;	 /* unix ns; 0 while created */
	int64_t started_mono;	 /* CLOCK_MONOTONIC ns, for the restart back-off reset */
	uint64_t oom_base;	 /* oom_kill count when this run was created */

	unsigned restarts, backoff_n;
	bool stopped_by_user;
	bool restored;	      /* --restore was done: later runs are created */
	bool cleanup_claimed; /* EXIT reached a client that cleans up itself */
	bool shutdown;	      /* SIGTERM/SIGINT to the monitor: no restart */
	struct mon_exit last;
	bool have_last;

	struct mon_log log;
	/* healthcheck (health.c) */
	int health_timerfd; /* the interval, or the running check's timeout */
	struct mon_src src_health_timer, src_health_pidfd, src_health_out;
	pid_t health_pid; /* the running check, 0: none */
	int health_pidfd, health_out;
	int64_t health_started;
	struct strbuf health_out_buf;
	enum mon_health_status health_status;
	int health_streak;
	struct strv health_log; /* the last results, as JSON objects */
	bool force_restart;	/* --health-on-failure restart: restart after this exit */

	struct mon_client *clients; /* dropped ones are freed after each batch of events */
	unsigned clients_behind;    /* attached clients whose queue holds the container's output back */
	bool output_paused;	    /* the container's stdout/stderr are not read meanwhile */
	char *iobuf;		    /* MON_PKT_MAX: [0] a packet type, then data */
	struct mon_packet *pkt;
	bool quit;
};

/* monitor.c */
int64_t mon_now_ns(void);
int mon_watch(struct monitor *m, int fd, uint32_t events, struct mon_src *src, struct skiff_err **err);
void mon_unwatch(struct monitor *m, int fd);
void mon_rewatch(struct monitor *m, int fd, uint32_t events, struct mon_src *src);
const char *mon_state_name(enum mon_state s);
void mon_status_text(struct monitor *m, struct strbuf *out);
/* The runtime's argv: RUNTIME [runtime args] SUBCOMMAND; add the rest, then NULL-terminated. */
void mon_runtime_argv(struct monitor *m, struct strv *argv, const char *subcommand);
/* Last non-empty line of s (at most 500 bytes), for messages; caller frees. */
char *mon_last_line(const char *s);
/* RUNTIME [args] SUBCOMMAND [--force] ID, to completion; EIO quoting its stderr on failure. */
int mon_runtime_simple(struct monitor *m, const char *sub, bool force, struct skiff_err **err);
int mon_do_start(struct monitor *m, struct skiff_err **err);
int mon_do_stop(struct monitor *m, uint32_t timeout, int sig, struct skiff_err **err);
int mon_do_kill(struct monitor *m, int sig, struct skiff_err **err);

/* Signal the container's init (pidfd when there is one). */
int mon_send_signal(struct monitor *m, int sig);

/* health.c */
const char *mon_health_status_name(enum mon_health_status s);
bool mon_health_enabled(const struct monitor *m);
int mon_health_setup(struct monitor *m, struct skiff_err **err);
void mon_health_on_start(struct monitor *m);
void mon_health_on_timer(struct monitor *m);
void mon_health_on_output(struct monitor *m);
void mon_health_on_exit(struct monitor *m);
/* A reaped child: the running check's? Then its result is taken and true returned. */
bool mon_health_reap(struct monitor *m, pid_t pid, int st);
void mon_health_on_ctr_exit(struct monitor *m);
/* HEALTHCHECK from c: run one now (or join the running one); c gets the REPLY at its end. */
void mon_health_request(struct monitor *m, struct mon_client *c);
void mon_health_free(struct monitor *m);

/* stdio.c */
/* Set up fresh stdio, run `RUNTIME create`, take the pty master, read the pid file and open
 * a pidfd; on success the container is created and its output watched. */
int ctr_create(struct monitor *m, struct skiff_err **err);
/* Read what is there on the stream (SRC_STDOUT/SRC_STDERR): log it, send it to clients. */
void ctr_output(struct monitor *m, enum src_kind which);
/* After the exit: read what is left without waiting. */
void ctr_drain(struct monitor *m);
/* Data for the container's stdin from client c (which is paused when it does not fit). */
void ctr_stdin_write(struct monitor *m, struct mon_client *c, const char *data, size_t len);
void ctr_stdin_flush(struct monitor *m);
void ctr_stdin_close(struct monitor *m);
int ctr_resize(struct monitor *m, unsigned rows, unsigned cols, struct skiff_err **err);
void ctr_close_stdio(struct monitor *m);
/* Stop and resume reading the container's output (attached clients are behind). */
void ctr_output_pause(struct monitor *m, bool pause);
/* Did the kernel OOM-kill something of this run (--oom-file)? */
bool ctr_oom_killed(struct monitor *m);

/* ctl.c */
int ctl_listen(struct monitor *m, struct skiff_err **err);
void ctl_accept(struct monitor *m);
void ctl_client_event(struct monitor *m, struct mon_client *c, uint32_t events);
/* Send buf (a whole packet) to clients attached to stream (MON_ATTACH_STDOUT/STDERR). */
void ctl_broadcast(struct monitor *m, uint8_t attach_flag, const char *buf, size_t len);
/* EXIT to every client; attached ones are dropped after it. */
void ctl_send_exit(struct monitor *m, int code, int sig);
void ctl_drop(struct monitor *m, struct mon_client *c);
void ctl_unpause_all(struct monitor *m);
void ctl_free_dead(struct monitor *m);
void ctl_reply_text(struct monitor *m, struct mon_client *c, int code, const char *text);
/* Clients with queued packets (the loop keeps going for them after the container is gone). */
bool ctl_pending(const struct monitor *m);
/* Watch c for what it needs now: input unless paused, output while packets are queued. */
void ctl_client_rewatch(struct monitor *m, struct mon_client *c);
/* Drop the clients that made no progress for too long; true when some are still behind. */
bool ctl_check_stalled(struct monitor *m);
void ctl_close_all(struct monitor *m);

/* exitrec.c */
int mon_exit_write(int dirfd, const struct mon_exit *e, struct skiff_err **err);

#endif
