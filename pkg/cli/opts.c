#include "pkg/cli/opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

static const struct cli_opt *find_long(const struct cli_opt *opts, const char *name, size_t len)
{
	for (const struct cli_opt *o = opts; o && o->type != OPT_END; o++)
		if (o->long_name && strlen(o->long_name) == len && strncmp(o->long_name, name, len) == 0)
			return o;
	return NULL;
}

static const struct cli_opt *find_short(const struct cli_opt *opts, char c)
{
	for (const struct cli_opt *o = opts; o && o->type != OPT_END; o++)
		if (o->short_name && o->short_name == c)
			return o;
	return NULL;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "t") || !strcmp(v, "TRUE") || !strcmp(v, "True")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "f") || !strcmp(v, "FALSE") || !strcmp(v, "False")) {
		*out = false;
		return 0;
	}
	return -1;
}

static int set_value(const struct cli_opt *o, const char *flagname, char *val, struct skiff_err **err)
{
	switch (o->type) {
	case OPT_BOOL:
		if (!val) {
			*(bool *)o->value = true;
		} else if (parse_bool(val, (bool *)o->value) < 0) {
			return err_makex(err, EINVAL, "invalid argument \"%s\" for \"%s\" flag: must be true or false",
					 val, flagname);
		}
		return 0;
	case OPT_STRING:
		*(const char **)o->value = val;
		return 0;
	case OPT_LIST:
		strv_push((struct strv *)o->value, val);
		return 0;
	case OPT_INT: {
		char *end;
		errno = 0;
		long v = strtol(val, &end, 10);
		if (errno || end == val || *end)
			return err_makex(err, EINVAL, "invalid argument \"%s\" for \"%s\" flag: not a number", val,
					 flagname);
		*(long *)o->value = v;
		return 0;
	}
	case OPT_END:
		break;
	}
	return err_makex(err, EINVAL, "internal: bad option type");
}

int cli_parse(const struct cli_opt *opts, int argc, char **argv, unsigned flags, bool *help, int *ret_npos,
	      char ***ret_pos, struct skiff_err **err)
{
	char **pos = xcalloc((size_t)argc + 1, sizeof(char *));
	int npos = 0;
	int i;

	for (i = 0; i < argc; i++) {
		char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			pos[npos++] = a;
			if (flags & CLI_PARSE_STOP_AT_POSITIONAL) {
				i++;
				break;
			}
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2;
			char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const struct cli_opt *o = find_long(opts, name, len);
			char *val = eq ? eq + 1 : NULL;
			if (!o) {
				if (len == 4 && strncmp(name, "help", 4) == 0) {
					*help = true;
					continue;
				}
				free(pos);
				return err_makex(err, EINVAL, "unknown flag: --%.*s", (int)len, name);
			}
			if (o->type != OPT_BOOL && !val) {
				if (i + 1 >= argc) {
					free(pos);
					return err_makex(err, EINVAL, "flag needs an argument: --%s", o->long_name);
				}
				val = argv[++i];
			}
			if (set_value(o, a, val, err) < 0) {
				free(pos);
				return -1;
			}
			continue;
		}
		/* a group of short flags: -aq, -o FILE, -oFILE */
		for (char *p = a + 1; *p; p++) {
			const struct cli_opt *o = find_short(opts, *p);
			char flagname[3] = {'-', *p, '\0'};
			if (!o) {
				if (*p == 'h') {
					*help = true;
					continue;
				}
				free(pos);
				return err_makex(err, EINVAL, "unknown shorthand flag: '%c' in %s", *p, a);
			}
			if (o->type == OPT_BOOL) {
				char *val = NULL;
				if (p[1] == '=') {
					val = p + 2;
				}
				if (set_value(o, flagname, val, err) < 0) {
					free(pos);
					return -1;
				}
				if (val)
					break;
				continue;
			}
			char *val = p[1] ? p + 1 : NULL;
			if (val && *val == '=')
				val++;
			if (!val) {
				if (i + 1 >= argc) {
					free(pos);
					return err_makex(err, EINVAL, "flag needs an argument: '%c' in %s", *p, a);
				}
				val = argv[++i];
			}
			if (set_value(o, flagname, val, err) < 0) {
				free(pos);
				return -1;
			}
			break;
		}
	}
	for (; i < argc; i++)
		pos[npos++] = argv[i];
	*ret_npos = npos;
	*ret_pos = pos;
	return 0;
}

void cli_print_opts(FILE *f, const struct cli_opt *opts)
{
	bool any = false;
	for (const struct cli_opt *o = opts; o && o->type != OPT_END; o++) {
		struct strbuf sb = STRBUF_INIT;
		if (o->flags & OPT_HIDDEN)
			continue;
		if (!any)
			fputs("\nOptions:\n", f);
		any = true;
		if (o->short_name)
			strbuf_addf(&sb, "  -%c, --%s", o->short_name, o->long_name);
		else
			strbuf_addf(&sb, "      --%s", o->long_name);
		if (o->type != OPT_BOOL)
			strbuf_addf(&sb, " %s", o->argname ? o->argname : "string");
		fprintf(f, "%-36s %s\n", sb.buf, o->help ? o->help : "");
		strbuf_release(&sb);
	}
}
