/* Printing rows as podman does: a default table, --format json, or a Go template. */
#include "cmd/skiff/output.h"

#include <stdio.h>
#include <string.h>

#include "pkg/cli/template.h"
#include "vendor-free/strbuf.h"

static const char *header_lookup(const char *field, void *ud)
{
	const struct header_name *h = ud;
	for (; h && h->field; h++)
		if (!strcmp(h->field, field))
			return h->header;
	return NULL;
}

void output_json(const struct json *j)
{
	struct strbuf sb = STRBUF_INIT;
	json_dump(j, 4, &sb);
	strbuf_addch(&sb, '\n');
	fwrite(sb.buf, 1, sb.len, stdout);
	strbuf_release(&sb);
}

int output_rows(const char *format, const char *default_format, const struct json *rows, const struct json *json_rows,
		const struct header_name *headers, struct skiff_err **err)
{
	struct template *t = NULL;
	struct strbuf out = STRBUF_INIT;
	const char *fmt = format && *format ? format : default_format;

	if (fmt && (!strcmp(fmt, "json") || !strcmp(fmt, "{{json .}}") || !strcmp(fmt, "{{ json . }}"))) {
		output_json(json_rows ? json_rows : rows);
		return 0;
	}
	if (!fmt)
		fmt = "{{json .}}";
	if (template_parse(fmt, &t, err) < 0)
		return err_wrap(err, "--format");
	if (template_render(t, rows, true, header_lookup, (void *)headers, &out, err) < 0) {
		template_free(t);
		strbuf_release(&out);
		return err_wrap(err, "--format");
	}
	fwrite(out.buf, 1, out.len, stdout);
	template_free(t);
	strbuf_release(&out);
	return 0;
}

const char *output_id(const char *id, bool full, char buf[80])
{
	if (!id)
		return "";
	if (full) {
		if (strlen(id) == 64 && !strchr(id, '<'))
			snprintf(buf, 80, "sha256:%s", id);
		else
			snprintf(buf, 80, "%s", id);
		return buf;
	}
	snprintf(buf, 80, "%.12s", id);
	return buf;
}
