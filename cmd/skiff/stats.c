/* stats: CPU, memory, PIDs, network and block I/O of containers, as podman stats. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/skiff/ctr-cli.h"
#include "cmd/skiff/output.h"
#include "pkg/cli/template.h"
#include "pkg/engine/stats.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/humanize.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

static struct {
	bool all, latest, no_stream, no_reset, no_trunc;
	long interval;
	const char *format;
} o = {.interval = 5};

static const struct cli_opt stats_opts[] = {
	{"all", 'a', OPT_BOOL, &o.all, NULL,
	 "Show all containers (stopped ones with zeros); only running containers are shown by default", 0},
	{"format", 0, OPT_STRING, &o.format, "FORMAT",
	 "Pretty-print container statistics to JSON or using a Go template", 0},
	{"interval", 'i', OPT_INT, &o.interval, "SECONDS", "Time in seconds between stats reports (default 5)", 0},
	{"latest", 'l', OPT_BOOL, &o.latest, NULL, "Act on the latest container skiff is aware of", 0},
	{"no-reset", 0, OPT_BOOL, &o.no_reset, NULL, "Disable resetting the screen between intervals", 0},
	{"no-stream", 0, OPT_BOOL, &o.no_stream, NULL, "Disable streaming stats and only pull the first result", 0},
	{"no-trunc", 0, OPT_BOOL, &o.no_trunc, NULL, "Do not truncate output", 0},
	{0},
};

static const struct header_name stats_headers[] = {
	{"ID", "ID"},
	{"UpTime", "CPU TIME"},
	{"Up", "CPU TIME"},
	{"CPUPerc", "CPU %"},
	{"AVGCPU", "AVG CPU %"},
	{"MemUsage", "MEM USAGE / LIMIT"},
	{"MemUsageBytes", "MEM USAGE / LIMIT"},
	{"MemPerc", "MEM %"},
	{"NetIO", "NET IO"},
	{"BlockIO", "BLOCK IO"},
	{"PIDS", "PIDS"},
	{"PIDs", "PIDS"},
	{0},
};

#define UNKNOWN "--"

/* go-units HumanSize: decimal units, 4 significant digits, no space ("245.8kB"). */
static void human(uint64_t v, char *buf, size_t n)
{
	human_size_precision((double)v, 4, false, buf, n);
}

/* go-units BytesSize: binary units ("216KiB", "64MiB"). */
static void bytes_size(uint64_t v, char *buf, size_t n)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
	double d = (double)v;
	size_t i = 0;
	while (d >= 1024.0 && i + 1 < ARRAY_SIZE(units)) {
		d /= 1024.0;
		i++;
	}
	snprintf(buf, n, "%.4g%s", d, units[i]);
}

static void percent(double p, char *buf, size_t n)
{
	if (p < 0)
		snprintf(buf, n, UNKNOWN);
	else
		snprintf(buf, n, "%.2f%%", p);
}

/* "A / B" with each side known or "--". */
static void pair(bool known_a, uint64_t a, bool known_b, uint64_t b, void (*fmt)(uint64_t, char *, size_t), char *buf,
		 size_t n)
{
	char x[HUMAN_BUF_SIZE] = UNKNOWN, y[HUMAN_BUF_SIZE] = UNKNOWN;
	if (known_a)
		fmt(a, x, sizeof(x));
	if (known_b)
		fmt(b, y, sizeof(y));
	snprintf(buf, n, "%s / %s", x, y);
}

static void set_num(struct json *r, const char *key, bool known, uint64_t v)
{
	json_object_set(r, key, known ? json_new_int(v > INT64_MAX ? INT64_MAX : (int64_t)v) : json_new_null());
}

static void set_float(struct json *r, const char *key, double v)
{
	json_object_set(r, key, v < 0 ? json_new_null() : json_new_double(v));
}

/* One row: the template fields (podman's names) into rows, podman's --format json object into jrows. */
static void stats_row(const struct ctr *c, const struct stats_sample *s, const struct stats_view *v, struct json *rows,
		      struct json *jrows)
{
	bool run = s->running;
	unsigned h = run ? s->have : ~0u;
	char id[80], cpu[32], avg[32], memp[32], mem[160], memb[160], net[160], blk[160], up[64], pids[32];
	output_id(c->row.id, false, id);
	percent(v->cpu_percent, cpu, sizeof(cpu));
	percent(v->avg_cpu_percent, avg, sizeof(avg));
	percent(v->mem_percent, memp, sizeof(memp));
	bool lim_known = !run || v->mem_limit;
	pair(h & STATS_MEM, s->mem_usage, lim_known, v->mem_limit, human, mem, sizeof(mem));
	pair(h & STATS_MEM, s->mem_usage, lim_known, v->mem_limit, bytes_size, memb, sizeof(memb));
	pair(h & STATS_NET, s->net_rx, h & STATS_NET, s->net_tx, human, net, sizeof(net));
	pair(h & STATS_BLOCK, s->blk_read, h & STATS_BLOCK, s->blk_write, human, blk, sizeof(blk));
	if (h & STATS_CPU)
		stats_go_duration(s->cpu_ns, up, sizeof(up));
	else
		snprintf(up, sizeof(up), UNKNOWN);
	if (h & STATS_PIDS)
		snprintf(pids, sizeof(pids), "%" PRIu64, s->pids);
	else
		snprintf(pids, sizeof(pids), UNKNOWN);

	struct json *r = json_new_object();
	json_object_set_string(r, "ID", o.no_trunc ? c->row.id : id);
	json_object_set_string(r, "ContainerID", c->row.id);
	json_object_set_string(r, "Name", c->row.name);
	json_object_set_string(r, "CPUPerc", cpu);
	json_object_set_string(r, "AVGCPU", avg);
	json_object_set_string(r, "MemUsage", mem);
	json_object_set_string(r, "MemUsageBytes", memb);
	json_object_set_string(r, "MemPerc", memp);
	json_object_set_string(r, "NetIO", net);
	json_object_set_string(r, "BlockIO", blk);
	json_object_set_string(r, "PIDS", pids);
	json_object_set_string(r, "UpTime", up);
	json_object_set_string(r, "Up", up);
	set_float(r, "CPU", v->cpu_percent);
	set_float(r, "AvgCPU", v->avg_cpu_percent);
	set_num(r, "CPUNano", h & STATS_CPU, s->cpu_ns);
	set_num(r, "Duration", h & STATS_CPU, s->cpu_ns);
	set_num(r, "SystemNano", true, (uint64_t)(s->when_ns > 0 ? s->when_ns : 0));
	set_num(r, "MemLimit", lim_known, v->mem_limit);
	set_num(r, "NetInput", h & STATS_NET, s->net_rx);
	set_num(r, "NetOutput", h & STATS_NET, s->net_tx);
	set_num(r, "BlockInput", h & STATS_BLOCK, s->blk_read);
	set_num(r, "BlockOutput", h & STATS_BLOCK, s->blk_write);
	set_num(r, "PIDs", h & STATS_PIDS, s->pids);

	struct json *j = json_new_object();
	json_object_set_string(j, "id", o.no_trunc ? c->row.id : id);
	json_object_set_string(j, "name", c->row.name);
	json_object_set_string(j, "cpu_time", up);
	json_object_set_string(j, "cpu_percent", cpu);
	json_object_set_string(j, "avg_cpu", avg);
	json_object_set_string(j, "mem_usage", mem);
	json_object_set_string(j, "mem_percent", memp);
	json_object_set_string(j, "net_io", net);
	json_object_set_string(j, "block_io", blk);
	json_object_set_string(j, "pids", pids);
	json_array_append(rows, r);
	json_array_append(jrows, j);
}

/* The previous sample of each container, for CPU % between two reports. */
struct prev {
	char *id;
	struct stats_sample s;
};

static const struct stats_sample *prev_find(const struct prev *v, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].id, id))
			return &v[i].s;
	return NULL;
}

static void prev_free(struct prev *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].id);
	free(v);
}

/* The containers of one report: the named ones (an unknown name is an error), the
 * latest, all (-a) or the running ones. */
static int pick(struct engine *e, int argc, char **argv, struct ctr **ret, size_t *ret_n, struct skiff_err **err)
{
	struct ctr *v = NULL;
	size_t n = 0;
	if (argc > 0) {
		v = xcalloc((size_t)argc, sizeof(*v));
		for (int i = 0; i < argc; i++, n++)
			if (ctr_lookup(e, argv[i], &v[i], err) < 0) {
				ctr_list_free(v, n);
				return err_wrap(err, "unable to look up container %s", argv[i]);
			}
		*ret = v;
		*ret_n = n;
		return 0;
	}
	if (ctr_list(e, &v, &n, err) < 0)
		return err_wrap(err, "unable to get list of containers");
	if (o.latest) {
		for (size_t i = 1; i < n; i++)
			ctr_release(&v[i]);
		n = n ? 1 : 0;
	} else if (!o.all) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			const char *st = ctr_state_name(&v[i]);
			if (!strcmp(st, "running") || !strcmp(st, "paused"))
				v[k++] = v[i];
			else
				ctr_release(&v[i]);
		}
		n = k;
	}
	if (o.latest && !n) {
		free(v);
		return err_makex(err, ENOENT, "no containers to show stats for: there is no latest container");
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* podman's report.IsJSON */
static bool is_json(const char *f)
{
	return f && (!strcmp(f, "json") || !strcmp(f, "{{json .}}") || !strcmp(f, "{{ json . }}"));
}

static int print_report(const struct json *rows, const struct json *jrows, struct skiff_err **err)
{
	if (!o.no_reset && isatty(STDOUT_FILENO))
		fputs("\033[2J\033[1;1H", stdout); /* goterm's Clear and MoveCursor(1, 1), as podman */
	if (is_json(o.format)) {
		struct strbuf sb = STRBUF_INIT;
		json_dump(jrows, 1, &sb); /* podman: json.MarshalIndent(x, "", " ") */
		strbuf_addch(&sb, '\n');
		fwrite(sb.buf, 1, sb.len, stdout);
		strbuf_release(&sb);
	} else {
		const char *def = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t"
				  "{{.BlockIO}}\t{{.PIDS}}\t{{.UpTime}}\t{{.AVGCPU}}";
		if (output_rows(template_pick(o.format, def), def, rows, NULL, stats_headers, err) < 0)
			return -1;
	}
	if (fflush(stdout) == EOF)
		return err_make(err, errno, "write stats");
	return 0;
}

static int stats_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	if ((o.all ? 1 : 0) + (o.latest ? 1 : 0) + (argc > 0 ? 1 : 0) > 1)
		return err_makex(err, EINVAL, "--all, --latest and containers cannot be used together");
	if (o.interval < 1)
		return err_makex(err, EINVAL, "invalid interval, must be a positive number greater zero");
	if (o.format && !is_json(o.format)) {
		/* a bad template fails before any sampling */
		struct template *t = NULL;
		if (template_parse(template_pick(o.format, "table"), &t, err) < 0)
			return err_wrap(err, "--format");
		template_free(t);
	}
	struct engine e;
	if (ctr_cli_engine(ctx, &e, err) < 0)
		return -1;
	uint64_t ram = stats_host_ram();
	struct prev *prev = NULL;
	size_t nprev = 0;
	int rc = 0;
	for (;;) {
		struct ctr *v = NULL;
		size_t n = 0;
		if (pick(&e, argc, argv, &v, &n, err) < 0) {
			rc = -1;
			break;
		}
		struct json *rows = json_new_array(), *jrows = json_new_array();
		struct prev *next = xcalloc(n ? n : 1, sizeof(*next));
		size_t nnext = 0;
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct stats_sample s;
			struct stats_view view;
			if (ctr_stats_sample(&e, &v[i], &s, err) < 0) {
				rc = -1;
				break;
			}
			stats_compute(prev_find(prev, nprev, v[i].row.id), &s, ram, &view);
			stats_row(&v[i], &s, &view, rows, jrows);
			next[nnext].id = xstrdup(v[i].row.id);
			next[nnext++].s = s;
		}
		ctr_list_free(v, n);
		prev_free(prev, nprev);
		prev = next;
		nprev = nnext;
		if (rc == 0)
			rc = print_report(rows, jrows, err);
		json_free(rows);
		json_free(jrows);
		if (rc < 0 || o.no_stream)
			break;
		struct timespec ts = {.tv_sec = o.interval};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	prev_free(prev, nprev);
	ctr_cli_engine_release(&e);
	return rc;
}

const struct cli_impl cli_stats = {
	.usage = "[options] [CONTAINER...]",
	.description =
		"Display percentage of CPU, memory, network I/O, block I/O and PIDs for one or more containers: the "
		"running ones by default, all with -a, or those named. The report is redrawn every --interval "
		"seconds until interrupted, or printed once with --no-stream. Values come from the container's "
		"cgroup; where it has none (rootless on cgroup v1) they are summed over its processes from /proc, "
		"and what cannot be known (the memory limit) shows as \"--\".",
	.opts = stats_opts,
	.max_args = -1,
	.run = stats_run,
};
