/* events (and system events): the events log, listed or followed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cmd/skiff/skiff.h"
#include "pkg/cli/template.h"
#include "pkg/events/events.h"
#include "vendor-free/cleanup.h"

static struct {
	struct strv filters;
	const char *format, *since, *until;
	bool stream, no_trunc;
} o = {.stream = true, .no_trunc = true};

static const struct cli_opt events_opts[] = {
	{"filter", 'f', OPT_LIST, &o.filters, "FILTER",
	 "Filter output (container=, image=, pod=, volume=, event=, type=, label=)", 0},
	{"format", 0, OPT_STRING, &o.format, "FORMAT", "Format the output: json, or a Go template", 0},
	{"no-trunc", 0, OPT_BOOL, &o.no_trunc, NULL, "Do not truncate the output (default true)", 0},
	{"since", 0, OPT_STRING, &o.since, "TIME",
	 "Show all events created since TIME (RFC 3339, unix time, or a duration like 10m)", 0},
	{"stream", 0, OPT_BOOL, &o.stream, NULL,
	 "Stream events and do not exit when returning the last known event (default true)", 0},
	{"until", 0, OPT_STRING, &o.until, "TIME", "Show all events created until TIME", 0},
	{0},
};

struct printer {
	struct template *tmpl; /* NULL: json or the human line */
	bool json;
	struct strbuf line;
};

static int print_event(const struct event *ev, void *ud, struct skiff_err **err)
{
	struct printer *p = ud;
	strbuf_reset(&p->line);
	if (p->json) {
		event_to_json_line(ev, &p->line);
		strbuf_addch(&p->line, '\n');
	} else if (p->tmpl) {
		cleanup_json struct json *row = event_to_template_row(ev);
		if (template_execute(p->tmpl, row, &p->line, err) < 0)
			return -1;
	} else {
		event_human(ev, !o.no_trunc, &p->line);
		strbuf_addch(&p->line, '\n');
	}
	/* one event at a time: a reader behind a pipe sees it at once */
	if (fwrite(p->line.buf, 1, p->line.len, stdout) != p->line.len || fflush(stdout) != 0)
		return 1; /* stdout is gone: stop quietly, as podman does on a closed pipe */
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int events_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	int64_t now = now_ns(), since = 0, until = 0;
	if (o.since && events_parse_time(o.since, now, &since, err) < 0)
		return err_wrap(err, "--since");
	if (o.until && events_parse_time(o.until, now, &until, err) < 0)
		return err_wrap(err, "--until");
	struct events_filter *f = NULL;
	if (events_filter_new(&o.filters, since, until, &f, err) < 0)
		return err_wrap(err, "failed to parse event filters");

	struct printer p = {.line = STRBUF_INIT};
	if (o.format && *o.format) {
		p.json = !strcmp(o.format, "json") || !strcmp(o.format, "{{json .}}") ||
			 !strcmp(o.format, "{{ json . }}");
		if (!p.json && template_parse(o.format, &p.tmpl, err) < 0) {
			events_filter_free(f);
			return -1;
		}
	}
	struct events_read_opts ro = {
		.filter = f,
		/* podman: streaming without --since/--until shows only what happens from now on */
		.from_start = o.since || o.until || !o.stream,
		.follow = o.stream,
		.until_ns = o.until ? until : 0,
		.stop_fd = -1,
	};
	sigset_t mask, old;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	int sfd = -1;
	if (ro.follow) {
		/* SIGINT/SIGTERM end the stream cleanly (exit 0, output flushed) */
		sigprocmask(SIG_BLOCK, &mask, &old);
		sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
		if (sfd < 0) {
			int e = errno;
			sigprocmask(SIG_SETMASK, &old, NULL);
			strbuf_release(&p.line);
			if (p.tmpl)
				template_free(p.tmpl);
			events_filter_free(f);
			return err_make(err, e, "signalfd");
		}
		ro.stop_fd = sfd;
	}
	char *dir = events_dir(ctx->cfg.graphroot);
	int rc = events_read_at(dir, &ro, print_event, &p, err);
	free(dir);
	if (sfd >= 0) {
		/* consume the signal that stopped us, so that unblocking does not deliver it */
		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		}
		close(sfd);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	strbuf_release(&p.line);
	if (p.tmpl)
		template_free(p.tmpl);
	events_filter_free(f);
	strv_release(&o.filters);
	(void)argc;
	(void)argv;
	return rc < 0 ? -1 : 0;
}

const struct cli_impl cli_events = {
	.usage = "[options]",
	.description = "Monitor skiff events: what commands did to containers and images.\n\n"
		       "By default, streaming mode is used, printing new events as they occur until SIGINT or "
		       "SIGTERM. Previous events can be listed with --since and --until, or with --stream=false. "
		       "Events are kept in GRAPHROOT/events/events.log, one JSON object per line, rotated to "
		       "events.log.1 when it grows past 1 MB ($SKIFF_EVENTS_LOGFILE_MAX_SIZE overrides).",
	.opts = events_opts,
	.max_args = 0,
	.run = events_run,
};
