/*
 * pkg/cli/template: the subset of Go's text/template that podman's --format accepts,
 * evaluated over a pkg/json DOM (one JSON object per row; keys are podman's Go field
 * names: "ID", "Repository", "Created" ...).
 *
 * Syntax: text; {{pipeline}}; comment actions; trim markers "{{- " and " -}}";
 * {{if P}} {{else if P}} {{else}} {{end}}; {{range P}} / {{range $e := P}} /
 * {{range $i, $e := P}} with {{else}}; {{with P}}; {{$x := P}} and {{$x = P}}.
 * Operands: . .Field .A.B $ $x $x.Field (P).Field "string" `raw` 'c' 12 -3 1.5 true
 * false nil, functions; a pipeline is commands joined by '|', the value of each one
 * passed as the last argument of the next.
 * Functions: podman's json lower upper title join truncate pad split, and Go's len
 * index printf print println not and or eq ne lt le gt ge.
 *
 * Values print as Go's %v does: strings raw, numbers as digits (floats shortest, 1e+06
 * style), true/false, [a b c], map[k:v] (keys sorted), JSON null as <nil>, and a missing
 * field as <no value>. Truth: false, 0, "", null, missing, [] and {} are false.
 * printf supports %v %s %d %q %x %X %o %c %t %e %E %f %F %g %G %% with flags "-+ #0",
 * width and precision; bad verbs, missing and extra arguments print as Go does
 * ("%!d(string=x)"); a width or precision above 1000000 gives "%!(NOVERB)". upper,
 * lower and title change ASCII letters only.
 *
 * Deliberate differences from Go, friendlier for JSON data: a field of null is a missing
 * value (Go: nil pointer error); len, join and range accept null as empty; index of a
 * missing map key, or of null, gives "" (podman's maps are map[string]string). Each row
 * runs on its own, so $ is the row (podman ranges over the list of rows).
 * Not supported: define, template, block, break, continue, html, js, urlquery, slice,
 * call, methods.
 */
#ifndef SKIFF_CLI_TEMPLATE_H
#define SKIFF_CLI_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "pkg/json/json.h"
#include "vendor-free/err.h"
#include "vendor-free/strbuf.h"

struct template;

/*
 * podman's normalisation of a user's --format. A leading "table " (or the whole string
 * "table") selects table mode (*ret_table) and is removed. Outside actions the
 * two-character sequences \t and \n become TAB and newline, and in table mode each space
 * becomes a TAB (a column break); text inside {{ }} is left alone, so "\n" in a string
 * literal keeps Go's meaning. A newline is appended when missing: every row is one line.
 * If ret_map is not NULL it receives, for each byte of the result and one past its end,
 * the offset in fmt it came from (caller frees). Returns a new string (caller frees).
 */
char *template_normalize(const char *fmt, bool *ret_table, size_t **ret_map);

/* fmt, or def when fmt is NULL, "" or exactly "table" (podman: the default table). */
const char *template_pick(const char *fmt, const char *def);

/*
 * Normalise and parse fmt. Errors are EINVAL "template: LINE:COL: problem" with the
 * position in fmt: "unclosed action", "function \"foo\" not defined", "unexpected EOF:
 * missing {{end}} for {{range}}", "wrong number of args for join: want 2 got 1" ...
 */
int template_parse(const char *fmt, struct template **ret, struct skiff_err **err);
void template_free(struct template *t);
static inline void template_freep(struct template **t)
{
	if (*t)
		template_free(*t);
}
#define cleanup_template __attribute__((cleanup(template_freep)))

bool template_is_table(const struct template *t);

/*
 * Execute t with dot = data (one row) and append the output to out. On error out is
 * left as it was and *err says where: "template: 1:3: error calling index: index out
 * of range: 5", "template: 1:9: can't evaluate field X in type string".
 */
int template_execute(const struct template *t, const struct json *data, struct strbuf *out, struct skiff_err **err);

/*
 * Append the table header: the template's top-level text as is, and for each top-level
 * action (or if/range/with) the header of the first field it names (".ID", ".A.B" gives
 * "A.B"; "$.X" counts too). header_for (may be NULL) maps a field to its header, or
 * returns NULL for the default: the last name split at CamelCase and upper-cased
 * ("CreatedAt" -> "CREATED AT"). An action naming no field gives its own text
 * upper-cased ("{{json .}}" -> "JSON ."); declarations give nothing.
 */
typedef const char *template_header_fn(const char *field, void *ud);
void template_header(const struct template *t, template_header_fn *header_for, void *ud, struct strbuf *out);

/* podman's header for a Go field name: "CreatedAt" -> "CREATED AT", "ID" -> "ID". */
void template_default_header(const char *field, struct strbuf *out);

/*
 * Render rows (a JSON array of rows, or one row) as podman does: each row through t;
 * in table mode preceded by the header (when header is true) and aligned with
 * tabwrite(). Appends to out; on error out is left as it was.
 */
int template_render(const struct template *t, const struct json *rows, bool header, template_header_fn *header_for,
		    void *ud, struct strbuf *out, struct skiff_err **err);

#endif
