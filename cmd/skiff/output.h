/* Printing rows as podman does: a default table, --format json, or a Go template. */
#ifndef SKIFF_OUTPUT_H
#define SKIFF_OUTPUT_H

#include "pkg/json/json.h"
#include "vendor-free/err.h"

/* Headers for template fields ("ID" -> "IMAGE ID"); NULL entries end the table. */
struct header_name {
	const char *field, *header;
};

/*
 * rows: a JSON array of objects. format: the user's --format (NULL: default_format).
 * "json" prints json_rows (or rows when NULL) as an indented JSON array.
 */
int output_rows(const char *format, const char *default_format, const struct json *rows, const struct json *json_rows,
		const struct header_name *headers, struct skiff_err **err);
/* Print one JSON value indented as podman does (4 spaces). */
void output_json(const struct json *j);
/* A short ID (12 hex) or the full one. */
const char *output_id(const char *id, bool full, char buf[80]);

#endif
