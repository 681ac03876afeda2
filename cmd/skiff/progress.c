/* Pull and push progress on stderr. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/skiff/progress.h"
#include "vendor-free/humanize.h"
#include "vendor-free/xalloc.h"

#define BAR_WIDTH 30

struct line {
	char *digest;
	uint64_t done, total;
	const char *state; /* NULL while copying, "done", "skipped: already exists" */
};

struct progress {
	FILE *out;
	bool quiet, tty;
	struct line *lines;
	size_t n, alloc;
	size_t drawn; /* lines on screen below the cursor's home */
};

struct progress *progress_new(FILE *out, bool quiet)
{
	struct progress *pr = xcalloc(1, sizeof(*pr));
	pr->out = out;
	pr->quiet = quiet;
	pr->tty = isatty(fileno(out)) && getenv("TERM") && strcmp(getenv("TERM"), "dumb") != 0;
	return pr;
}

void progress_free(struct progress *pr)
{
	if (!pr)
		return;
	for (size_t i = 0; i < pr->n; i++)
		free(pr->lines[i].digest);
	free(pr->lines);
	free(pr);
}

static const char *short_hex(const char *digest)
{
	const char *c = strchr(digest, ':');
	return c ? c + 1 : digest;
}

static struct line *line_for(struct progress *pr, const char *digest)
{
	for (size_t i = 0; i < pr->n; i++)
		if (!strcmp(pr->lines[i].digest, digest))
			return &pr->lines[i];
	ALLOC_GROW(pr->lines, pr->n + 1, pr->alloc);
	struct line *l = &pr->lines[pr->n++];
	memset(l, 0, sizeof(*l));
	l->digest = xstrdup(digest);
	return l;
}

static void draw_line(struct progress *pr, const struct line *l)
{
	char a[32], b[32];
	fprintf(pr->out, "\r\033[KCopying blob %.12s ", short_hex(l->digest));
	if (l->state) {
		fprintf(pr->out, "%s\n", l->state);
		return;
	}
	size_t fill = l->total ? (size_t)(BAR_WIDTH * (l->done > l->total ? l->total : l->done) / l->total) : 0;
	fputc('[', pr->out);
	for (size_t i = 0; i < BAR_WIDTH; i++)
		fputc(i < fill ? '=' : i == fill ? '>' : '-', pr->out);
	human_size(l->done, a, sizeof(a));
	human_size(l->total, b, sizeof(b));
	fprintf(pr->out, "] %s / %s\n", a, b);
}

static void redraw(struct progress *pr)
{
	if (pr->drawn)
		fprintf(pr->out, "\033[%zuA", pr->drawn);
	for (size_t i = 0; i < pr->n; i++)
		draw_line(pr, &pr->lines[i]);
	pr->drawn = pr->n;
	fflush(pr->out);
}

/* Blob lines end when anything else is printed. */
static void settle(struct progress *pr)
{
	for (size_t i = 0; i < pr->n; i++)
		free(pr->lines[i].digest);
	pr->n = 0;
	pr->drawn = 0;
}

void progress_event(void *ud, const struct pull_progress *p)
{
	struct progress *pr = ud;
	struct line *l;
	if (pr->quiet)
		return;
	switch (p->ev) {
	case PULL_TRYING:
		settle(pr);
		fprintf(pr->out, "Trying to pull %s...\n", p->ref);
		break;
	case PULL_SIGNATURES:
		settle(pr);
		fprintf(pr->out, "Getting image source signatures\n");
		break;
	case PULL_BLOB_START:
	case PULL_BLOB_PROGRESS:
	case PULL_BLOB_DONE:
	case PULL_BLOB_SKIPPED:
		if (!pr->tty) {
			if (p->ev == PULL_BLOB_START)
				fprintf(pr->out, "Copying blob %s\n", p->digest);
			else if (p->ev == PULL_BLOB_SKIPPED)
				fprintf(pr->out, "Copying blob %.12s skipped: already exists\n", short_hex(p->digest));
			break;
		}
		l = line_for(pr, p->digest);
		l->done = p->done;
		l->total = p->total;
		l->state = p->ev == PULL_BLOB_DONE	? "done"
			   : p->ev == PULL_BLOB_SKIPPED ? "skipped: already exists"
							: NULL;
		redraw(pr);
		return;
	case PULL_CONFIG:
		settle(pr);
		fprintf(pr->out, "Copying config %.12s done\n", short_hex(p->digest));
		break;
	case PULL_MANIFEST:
		settle(pr);
		fprintf(pr->out, "Writing manifest to image destination\n");
		break;
	}
	fflush(pr->out);
}
