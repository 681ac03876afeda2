/*
 * pkg/engine stats: resource usage of running containers, as `podman stats` shows it.
 *
 * A sample holds the raw counters of one container at one moment: CPU time, memory
 * usage and limit, PIDs, network and block I/O. They come from the container's own
 * cgroup (v1 or v2, found through /proc/PID/cgroup; only a cgroup whose path names the
 * container's ID counts, never a user session's) and, for what no cgroup gives, from
 * /proc: the container's processes (its pid namespace, or the descendants of its init
 * when it shares the host's) summed: utime+stime, RSS, /proc/PID/io bytes. Network
 * bytes always come from /proc/INIT/net/dev (the container's network namespace), all
 * interfaces but lo. A counter that cannot be known is left out of `have`, so the
 * front prints "--" instead of a misleading number (e.g. the memory limit without a
 * memory cgroup).
 *
 * stats_compute() turns two samples (or one: the first is compared against the
 * container's start, as podman does) into the display values.
 */
#ifndef SKIFF_ENGINE_STATS_H
#define SKIFF_ENGINE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/engine/container.h"
#include "vendor-free/err.h"

/* Bits of stats_sample.have / .from_cgroup. */
enum {
	STATS_CPU = 1 << 0,
	STATS_MEM = 1 << 1,
	STATS_MEM_LIMIT = 1 << 2, /* mem_limit is a real cgroup limit (or "max": mem_limit 0) */
	STATS_PIDS = 1 << 3,
	STATS_NET = 1 << 4,
	STATS_BLOCK = 1 << 5,
};

struct stats_sample {
	bool running;	      /* false: not running, every counter 0 */
	unsigned have;	      /* STATS_* read successfully */
	unsigned from_cgroup; /* STATS_* that came from the container's cgroup */
	int cgroup_version;   /* 1 or 2 when some value came from a cgroup, else 0 */
	int64_t when_ns;      /* CLOCK_REALTIME when taken */
	int64_t started_ns;   /* the container's start (unix ns) */
	uint64_t cpu_ns;
	uint64_t mem_usage;
	uint64_t mem_limit; /* 0: no limit */
	uint64_t pids;
	uint64_t net_rx, net_tx;
	uint64_t blk_read, blk_write;
};

/* Where the kernel's files are: "/proc" and "/sys/fs/cgroup" (tests point elsewhere). */
struct stats_env {
	const char *proc;
	const char *cgroup;
	uint64_t page_size; /* 0: sysconf */
	uint64_t clk_tck;   /* 0: sysconf */
};

/* Sample the container whose init is pid (host pid namespace) and whose ID is id: sets
 * running and when_ns, not started_ns. ESRCH when the process is gone; EINVAL naming
 * the file for content that is not what the kernel writes. */
int stats_sample_pid(const struct stats_env *env, int pid, const char *id, struct stats_sample *ret,
		     struct skiff_err **err);

/* Sample c (its state as refreshed by ctr_lookup/ctr_list): not running or paused gives
 * a zero sample with running false; a process gone meanwhile too. */
int ctr_stats_sample(struct engine *e, const struct ctr *c, struct stats_sample *ret, struct skiff_err **err);

/* Display values. Percentages are negative when unknown. */
struct stats_view {
	double cpu_percent;	/* since prev (or since the start when prev is NULL) */
	double avg_cpu_percent; /* since the start */
	double mem_percent;
	uint64_t mem_limit; /* the limit, or host RAM when unlimited (as podman); 0 unknown */
};
/* prev may be NULL (or from an earlier run of the container: cpu went down). host_ram 0:
 * ask sysinfo. */
void stats_compute(const struct stats_sample *prev, const struct stats_sample *cur, uint64_t host_ram,
		   struct stats_view *ret);
/* Physical RAM in bytes (sysinfo), 0 when unknown. */
uint64_t stats_host_ram(void);

/* Go's time.Duration String(): "0s", "4.052689ms", "1.96097s", "1m2.5s", "2h0m1s". */
void stats_go_duration(uint64_t ns, char *buf, size_t n);

/* ---- parsers, public for the unit tests; each names `what` in its errors ---- */
/* One unsigned decimal number (trailing newline allowed); "max" gives UINT64_MAX. */
int stats_parse_u64(const char *text, const char *what, uint64_t *ret, struct skiff_err **err);
/* "key value" lines (memory.stat, cpu.stat, /proc/PID/io "key: value"): the value of
 * key. ENOENT when absent, EINVAL when not a number. */
int stats_parse_key(const char *text, const char *key, const char *what, uint64_t *ret, struct skiff_err **err);
/* v1 blkio.*io_service_bytes*: "MAJ:MIN Read N" / "Write N" summed ("Total" ignored). */
int stats_parse_blkio_v1(const char *text, const char *what, uint64_t *ret_read, uint64_t *ret_write,
			 struct skiff_err **err);
/* v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N ..." summed over devices. */
int stats_parse_io_v2(const char *text, const char *what, uint64_t *ret_read, uint64_t *ret_write,
		      struct skiff_err **err);
/* /proc/PID/net/dev: receive and transmit bytes summed over interfaces but lo. */
int stats_parse_net_dev(const char *text, const char *what, uint64_t *ret_rx, uint64_t *ret_tx, struct skiff_err **err);
/* /proc/PID/stat: the fields stats needs. */
struct stats_proc_stat {
	int pid, ppid;
	uint64_t utime, stime, cutime, cstime; /* clock ticks */
	uint64_t threads;
	uint64_t rss_pages;
};
int stats_parse_proc_stat(const char *text, const char *what, struct stats_proc_stat *ret, struct skiff_err **err);
/* /proc/PID/cgroup and the container's ID: the container's cgroup directory for a v1
 * controller ("memory", "cpuacct", "pids", "blkio"; NULL: the v2 hierarchy), that is
 * the path up to and including the first component naming id. ENOENT when the process
 * is in no such cgroup for that hierarchy (a rootless container without cgroups sits in
 * its user's session: that cgroup is not the container's). */
int stats_cgroup_path(const char *proc_cgroup, const char *id, const char *controller, char **ret,
		      struct skiff_err **err);

#endif
