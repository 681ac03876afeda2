/*
 * Go text/tabwriter semantics without its recursion: a column block for column c is a
 * maximal run of consecutive lines that each have a tab-terminated cell at index c (and
 * so at every index below c). One pass over the lines keeps, per column, the block that
 * is still open; a line with fewer columns closes the blocks to its right.
 */
#include "pkg/cli/table.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vendor-free/xalloc.h"

#define ESCAPE 0xff
#define NO_BLOCK SIZE_MAX

size_t text_utf8_len(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (!len)
		return 0;
	if (u[0] < 0x80)
		return 1;
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		n = 2;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		n = 3;
		if (u[0] == 0xe0)
			lo = 0xa0;
		else if (u[0] == 0xed)
			hi = 0x9f; /* no UTF-16 surrogates */
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		n = 4;
		if (u[0] == 0xf0)
			lo = 0x90;
		else if (u[0] == 0xf4)
			hi = 0x8f; /* nothing above U+10FFFF */
	} else {
		return 0;
	}
	if (len < n || u[1] < lo || u[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (u[i] < 0x80 || u[i] > 0xbf)
			return 0;
	return n;
}

size_t text_width(const char *s, size_t len)
{
	size_t w = 0;

	for (size_t i = 0; i < len; w++) {
		size_t n = text_utf8_len(s + i, len - i);
		i += n ? n : 1;
	}
	return w;
}

struct tw_cell {
	size_t off, len; /* in the escape-stripped text */
	size_t width;
	size_t block; /* NO_BLOCK for the last cell of a line */
};

struct tw_line {
	size_t first, n; /* cells[first .. first+n) */
	bool newline;	 /* ended by '\n' or '\f' (the last line may not be) */
	bool formfeed;
};

struct tw {
	struct strbuf text;
	struct tw_cell *cells;
	size_t ncells, cells_alloc;
	struct tw_line *lines;
	size_t nlines, lines_alloc;
};

static void add_cell(struct tw *t, size_t start)
{
	struct tw_cell *c;

	ALLOC_GROW(t->cells, t->ncells + 1, t->cells_alloc);
	c = &t->cells[t->ncells++];
	c->off = start;
	c->len = t->text.len - start;
	c->width = text_width(t->text.buf + start, c->len);
	c->block = NO_BLOCK;
}

static void add_line(struct tw *t, size_t first, bool newline, bool formfeed)
{
	ALLOC_GROW(t->lines, t->nlines + 1, t->lines_alloc);
	t->lines[t->nlines++] = (struct tw_line){first, t->ncells - first, newline, formfeed};
}

static void split(struct tw *t, const char *s, size_t len)
{
	size_t cell_start = 0, line_first = 0;
	bool escaped = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == ESCAPE) {
			escaped = !escaped;
			continue;
		}
		if (escaped) {
			strbuf_addch(&t->text, (char)ch);
			continue;
		}
		switch (ch) {
		case '\t':
		case '\v':
			add_cell(t, cell_start);
			cell_start = t->text.len;
			break;
		case '\n':
		case '\f':
			add_cell(t, cell_start);
			cell_start = t->text.len;
			add_line(t, line_first, true, ch == '\f');
			line_first = t->ncells;
			break;
		default:
			strbuf_addch(&t->text, (char)ch);
		}
	}
	/* As tabwriter's Flush: a pending cell counts only when it holds text. */
	if (t->text.len > cell_start)
		add_cell(t, cell_start);
	if (t->ncells > line_first)
		add_line(t, line_first, false, false);
}

void tabwrite_opts(const char *text, size_t len, size_t minwidth, size_t padding, struct strbuf *out)
{
	struct tw t = {.text = STRBUF_INIT};
	size_t *widths = NULL, nblocks = 0, blocks_alloc = 0;
	size_t *open = NULL, nopen = 0, open_alloc = 0;

	split(&t, text, len);

	for (size_t l = 0; l < t.nlines; l++) {
		const struct tw_line *line = &t.lines[l];
		size_t ncols = line->n ? line->n - 1 : 0;

		ALLOC_GROW(open, ncols, open_alloc);
		for (size_t c = 0; c < ncols; c++) {
			struct tw_cell *cell = &t.cells[line->first + c];
			size_t w = cell->width + padding;

			if (c >= nopen) {
				ALLOC_GROW(widths, nblocks + 1, blocks_alloc);
				widths[nblocks] = minwidth;
				open[c] = nblocks++;
			}
			cell->block = open[c];
			if (w > widths[open[c]])
				widths[open[c]] = w;
		}
		nopen = line->formfeed ? 0 : ncols;
	}

	for (size_t l = 0; l < t.nlines; l++) {
		const struct tw_line *line = &t.lines[l];

		for (size_t j = 0; j < line->n; j++) {
			const struct tw_cell *cell = &t.cells[line->first + j];

			strbuf_add(out, t.text.buf + cell->off, cell->len);
			if (cell->block != NO_BLOCK && widths[cell->block] > cell->width)
				strbuf_addchars(out, ' ', widths[cell->block] - cell->width);
		}
		if (line->newline)
			strbuf_addch(out, '\n');
	}

	free(open);
	free(widths);
	free(t.cells);
	free(t.lines);
	strbuf_release(&t.text);
}

void tabwrite(const char *text, size_t len, struct strbuf *out)
{
	tabwrite_opts(text, len, TABWRITE_MINWIDTH, TABWRITE_PADDING, out);
}
