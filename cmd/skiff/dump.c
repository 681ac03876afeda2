/*
 * skiff __dump: the command table and every option table as JSON, for
 * build-aux/generate (man pages, shell completions). Hidden; its output is an
 * interface between the binary and the generator, described in build-aux/generate.
 *
 * {
 *   "program": "skiff", "version": "0.1.0",
 *   "global_options": [ OPTION... ],
 *   "commands": [ {
 *     "name": "image ls", "summary": "...", "usage": "[options]" | null,
 *     "description": "..." | null,
 *     "flags": ["hidden", "group", "need-store", "need-userns", "need-config", "0x.."],
 *     "hidden": false, "group": false,
 *     "min_args": 0, "max_args": -1, "stop_at_positional": false,
 *     "alias_of": null | "images",       (an earlier row has the same implementation)
 *     "aliases": ["image list", ...],      (later rows with the same implementation;
 *                                           group words are never aliases)
 *     "options": [ OPTION... ] } ]
 * }
 * OPTION = { "long": "format" | null, "short": "f" | null,
 *            "type": "bool" | "string" | "list" | "int" | "unknown",
 *            "argname": "FORMAT" | null, "help": "..." | null, "hidden": false }
 */
#include <errno.h>
#include <stdio.h>

#include "cmd/skiff/skiff.h"
#include "pkg/json/json.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"

static const char *opt_type_name(enum cli_opt_type t)
{
	switch (t) {
	case OPT_BOOL:
		return "bool";
	case OPT_STRING:
		return "string";
	case OPT_LIST:
		return "list";
	case OPT_INT:
		return "int";
	case OPT_END:
		break;
	}
	return "unknown";
}

static struct json *dump_opts(const struct cli_opt *opts)
{
	struct json *arr = json_new_array();

	for (const struct cli_opt *o = opts; o && o->type != OPT_END; o++) {
		struct json *j = json_new_object();
		char shortname[2] = {o->short_name, '\0'};

		json_object_set_string(j, "long", o->long_name);
		json_object_set_string(j, "short", o->short_name ? shortname : NULL);
		json_object_set_string(j, "type", opt_type_name(o->type));
		json_object_set_string(j, "argname", o->type == OPT_BOOL ? NULL : o->argname);
		json_object_set_string(j, "help", o->help);
		json_object_set_bool(j, "hidden", (o->flags & OPT_HIDDEN) != 0);
		json_array_append(arr, j);
	}
	return arr;
}

static struct json *dump_flags(unsigned flags)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{CMD_HIDDEN, "hidden"},	      {CMD_GROUP, "group"},	    {NEED_STORE, "need-store"},
		{NEED_USERNS, "need-userns"}, {NEED_CONFIG, "need-config"},
	};
	struct json *arr = json_new_array();

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (flags & names[i].bit) {
			json_array_append(arr, json_new_string(names[i].name));
			flags &= ~names[i].bit;
		}
	}
	if (flags) {
		/* A bit this file does not know yet: keep it visible rather than drop it. */
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "0x%x", flags);
		json_array_append(arr, json_new_string(sb.buf));
		strbuf_release(&sb);
	}
	return arr;
}

static struct json *dump_command(size_t idx)
{
	const struct cli_command *c = &skiff_commands[idx];
	const struct cli_command *first = NULL;
	struct json *j = json_new_object();
	struct json *aliases = json_new_array();

	/* Group words share one implementation (listing subcommands) without being
	 * aliases of each other. */
	for (size_t i = 0; i < skiff_ncommands && !(c->flags & CMD_GROUP); i++) {
		if (skiff_commands[i].impl != c->impl || (skiff_commands[i].flags & CMD_GROUP))
			continue;
		if (i < idx && !first)
			first = &skiff_commands[i];
		else if (i > idx && !first)
			json_array_append(aliases, json_new_string(skiff_commands[i].name));
	}

	json_object_set_string(j, "name", c->name);
	json_object_set_string(j, "summary", c->summary);
	json_object_set_string(j, "usage", c->impl->usage);
	json_object_set_string(j, "description", c->impl->description);
	json_object_set(j, "flags", dump_flags(c->flags));
	json_object_set_bool(j, "hidden", (c->flags & CMD_HIDDEN) != 0);
	json_object_set_bool(j, "group", (c->flags & CMD_GROUP) != 0);
	json_object_set_int(j, "min_args", c->impl->min_args);
	json_object_set_int(j, "max_args", c->impl->max_args);
	json_object_set_bool(j, "stop_at_positional", (c->impl->parse_flags & CLI_PARSE_STOP_AT_POSITIONAL) != 0);
	json_object_set_string(j, "alias_of", first ? first->name : NULL);
	json_object_set(j, "aliases", aliases);
	json_object_set(j, "options", dump_opts(c->impl->opts));
	return j;
}

static int dump_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	cleanup_json struct json *root = json_new_object();
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	struct json *cmds = json_new_array();

	json_object_set_string(root, "program", "skiff");
	json_object_set_string(root, "version", SKIFF_VERSION);
	json_object_set(root, "global_options", dump_opts(skiff_global_opts));
	for (size_t i = 0; i < skiff_ncommands; i++)
		json_array_append(cmds, dump_command(i));
	json_object_set(root, "commands", cmds);

	json_dump(root, 2, &out);
	strbuf_addch(&out, '\n');
	errno = 0;
	if (fwrite(out.buf, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
		return err_make(err, errno ? errno : EIO, "__dump: write standard output");
	return 0;
}

const struct cli_impl cli_dump = {
	.usage = "",
	.description = "Print the command table and all option tables as JSON (used by build-aux/generate).",
	.max_args = 0,
	.run = dump_run,
};
