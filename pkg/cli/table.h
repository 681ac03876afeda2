/*
 * pkg/cli/table: column alignment with the semantics of Go's text/tabwriter as podman
 * configures it (tabwriter.NewWriter(out, 12, 2, 2, ' ', StripEscape)).
 *
 * Input is text whose cells end with '\t' (or '\v') and whose lines end with '\n'
 * (or '\f', which also ends every column block). A column is the run of tab-terminated
 * cells at the same index on consecutive lines; its width is the widest cell in the run
 * plus padding, at least minwidth. The last cell of a line is not part of a column and
 * is written as is. Widths count UTF-8 characters (an invalid byte counts as one).
 * Text between two 0xff bytes is opaque (tabs and newlines in it are not separators) and
 * the 0xff bytes are dropped. A final line without '\n' is written without one.
 */
#ifndef SKIFF_CLI_TABLE_H
#define SKIFF_CLI_TABLE_H

#include <stddef.h>

#include "vendor-free/strbuf.h"

#define TABWRITE_MINWIDTH 12
#define TABWRITE_PADDING 2

/* Align len bytes of text with podman's settings and append the result to out. */
void tabwrite(const char *text, size_t len, struct strbuf *out);
/* The same with another minimal cell width and padding. */
void tabwrite_opts(const char *text, size_t len, size_t minwidth, size_t padding, struct strbuf *out);

/* Number of characters in s as Go's utf8.RuneCount counts them. */
size_t text_width(const char *s, size_t len);
/* Length (1..4) of the valid UTF-8 sequence at s, or 0 when s[0] does not start one. */
size_t text_utf8_len(const char *s, size_t len);

#endif
