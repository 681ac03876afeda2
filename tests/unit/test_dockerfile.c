/* Unit tests for pkg/dockerfile: the parser (buildkit's rules) and hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/dockerfile/dockerfile.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

static struct dockerfile *parse_ok(const char *text)
{
	struct dockerfile *df = NULL;
	struct skiff_err *err = NULL;
	if (df_parse("Dockerfile", text, strlen(text), &df, &err) < 0) {
		fail_msg("parse failed: %s\n--- input:\n%s", err->msg, text);
		err_free(err);
	}
	return df;
}

/* The parse fails and the message contains want. */
static void parse_fails(const char *text, size_t len, const char *want)
{
	struct dockerfile *df = NULL;
	struct skiff_err *err = NULL;
	if (df_parse("Dockerfile", text, len, &df, &err) == 0) {
		df_free(df);
		fail_msg("parse succeeded, want error '%s'\n--- input:\n%s", want, text);
	}
	assert_null(df);
	if (!strstr(err->msg, want))
		fail_msg("error '%s', want '%s'", err->msg, want);
	assert_int_equal(err->status, EINVAL);
	err_free(err);
}
#define FAILS(text, want) parse_fails(text, strlen(text), want)

static void check_args(const struct df_instr *in, ...)
{
	va_list ap;
	va_start(ap, in);
	size_t i = 0;
	for (const char *want; (want = va_arg(ap, const char *)); i++) {
		if (i >= in->nargs)
			fail_msg("%s: %zu args, want more (next '%s')", in->text, in->nargs, want);
		if (strcmp(want, "(null)") == 0 ? in->args[i] != NULL : !in->args[i] || strcmp(in->args[i], want) != 0)
			fail_msg("%s: arg %zu = '%s', want '%s'", in->text, i, in->args[i] ? in->args[i] : "(null)",
				 want);
	}
	va_end(ap);
	if (i != in->nargs)
		fail_msg("%s: %zu args, want %zu", in->text, in->nargs, i);
}
#define ARGS(in, ...) check_args(in, __VA_ARGS__, (const char *)NULL)
#define NOARGS(in) check_args(in, (const char *)NULL)

static void test_from_stages(void **state)
{
	(void)state;
	struct dockerfile *df = parse_ok("ARG BASE=busybox\n"
					 "ARG TAG\n"
					 "from --platform=$BUILDPLATFORM ${BASE}:$TAG AS Build\n"
					 "RUN make\n"
					 "FROM scratch\n"
					 "COPY --from=build /out /\n"
					 "FROM build as Final\n");
	assert_int_equal(df->nargs, 2);
	ARGS(&df->args[0], "BASE", "busybox");
	ARGS(&df->args[1], "TAG", "(null)");
	assert_int_equal(df->nstages, 3);
	const struct df_stage *s0 = &df->stages[0];
	assert_int_equal(s0->index, 0);
	assert_string_equal(s0->name, "build");
	assert_string_equal(s0->base, "${BASE}:$TAG");
	assert_string_equal(s0->platform, "$BUILDPLATFORM");
	assert_int_equal(s0->line, 3);
	assert_int_equal(s0->from->kind, DF_FROM);
	ARGS(s0->from, "${BASE}:$TAG", "AS", "Build");
	assert_int_equal(s0->n, 1);
	assert_int_equal(s0->instrs[0].kind, DF_RUN);
	assert_int_equal(s0->instrs[0].line, 4);
	assert_null(df->stages[1].name);
	assert_null(df->stages[1].platform);
	assert_string_equal(df->stages[1].base, "scratch");
	assert_string_equal(df_flag_get(&df->stages[1].instrs[0], "from", NULL), "build");
	assert_string_equal(df->stages[2].name, "final");

	assert_ptr_equal(df_stage_find(df, "BUILD", df->nstages), &df->stages[0]);
	assert_ptr_equal(df_stage_find(df, "1", df->nstages), &df->stages[1]);
	assert_null(df_stage_find(df, "final", 2)); /* not before stage 2 */
	assert_null(df_stage_find(df, "build", 0));
	assert_null(df_stage_find(df, "3", df->nstages));
	assert_null(df_stage_find(df, "nope", df->nstages));
	assert_null(df_stage_find(df, "99999999999999999999", df->nstages));
	df_free(df);

	FAILS("FROM\n", "Dockerfile:1: FROM requires either one or three arguments");
	FAILS("FROM a b\n", "FROM requires either one or three arguments");
	FAILS("FROM a AS\n", "FROM requires either one or three arguments");
	FAILS("FROM a to b\n", "FROM requires either one or three arguments");
	FAILS("FROM a AS 1x\n", "invalid name for build stage: \"1x\"");
	FAILS("FROM a AS x$y\n", "invalid name for build stage");
	FAILS("FROM a AS x\nFROM b AS X\n", "Dockerfile:2: FROM: duplicate stage name \"x\" (also on line 1)");
	FAILS("", "Dockerfile: no FROM instruction");
	FAILS("# just a comment\n\n", "no FROM instruction");
	FAILS("ARG A\n", "no FROM instruction");
	FAILS("RUN x\nFROM a\n", "Dockerfile:1: RUN before the first FROM (only ARG may come before it)");
	FAILS("ENV A=b\nFROM a\n", "ENV before the first FROM");
}

static void test_run_cmd_forms(void **state)
{
	(void)state;
	struct dockerfile *df = parse_ok("FROM a\n"
					 "RUN echo hi   \n"
					 "RUN [\"/bin/echo\", \"a b\", \"\\u00e9\"]\n"
					 "RUN [ \"echo\" ] \n"
					 "RUN [\"a\", \"b\",]\n"
					 "RUN [\"a\"\n"
					 "RUN --mount=type=cache,target=/c --network=none --security=insecure make\n"
					 "CMD [\"sh\"]\n"
					 "CMD sleep 1\n"
					 "CMD []\n"
					 "ENTRYPOINT [\"/init\", \"--\"]\n"
					 "entrypoint exec \"$@\"\n"
					 "RUN --link --quoted=\"a b\" x\n"
					 "RUN -- --notaflag\n"
					 "CMD\n");
	struct df_instr *in = df->stages[0].instrs;
	assert_int_equal(df->stages[0].n, 14);
	ARGS(&in[0], "echo hi");
	assert_false(in[0].exec_form);
	assert_string_equal(in[0].text, "RUN echo hi");
	ARGS(&in[1], "/bin/echo", "a b", "\xc3\xa9");
	assert_true(in[1].exec_form);
	ARGS(&in[2], "echo");
	assert_true(in[2].exec_form);
	ARGS(&in[3], "[\"a\", \"b\",]"); /* not JSON: shell form, silently */
	assert_false(in[3].exec_form);
	ARGS(&in[4], "[\"a\"");
	assert_int_equal(in[5].nflags, 3);
	assert_string_equal(in[5].flags[0].name, "mount");
	assert_string_equal(in[5].flags[0].value, "type=cache,target=/c");
	assert_string_equal(in[5].flags[1].name, "network");
	assert_string_equal(in[5].flags[2].value, "insecure");
	ARGS(&in[5], "make");
	ARGS(&in[6], "sh");
	assert_int_equal(in[6].kind, DF_CMD);
	ARGS(&in[7], "sleep 1");
	NOARGS(&in[8]);
	assert_true(in[8].exec_form);
	ARGS(&in[9], "/init", "--");
	assert_int_equal(in[10].kind, DF_ENTRYPOINT);
	ARGS(&in[10], "exec \"$@\"");
	bool present = false;
	assert_null(df_flag_get(&in[11], "link", &present));
	assert_true(present);
	assert_string_equal(df_flag_get(&in[11], "quoted", NULL), "a b");
	assert_null(df_flag_get(&in[11], "nope", &present));
	assert_false(present);
	ARGS(&in[11], "x");
	assert_int_equal(in[12].nflags, 0);
	ARGS(&in[12], "--notaflag");
	NOARGS(&in[13]);
	df_free(df);

	FAILS("FROM a\nRUN\n", "Dockerfile:2: RUN requires at least one argument");
	FAILS("FROM a\nRUN [1, 2]\n", "RUN: when using JSON array syntax, arrays must be comprised of strings only");
	FAILS("FROM a\nCMD [\"a\", null]\n", "CMD: when using JSON array syntax");
	FAILS("FROM a\nCMD --foo x\n", "CMD: unknown flag: --foo");
	FAILS("FROM a\nENV --x=1 A=b\n", "ENV: unknown flag: --x");
	FAILS("FROM a\nRUN [\"a\\u0000b\"]\n", "NUL character");
}

static void test_shell_healthcheck(void **state)
{
	(void)state;
	struct dockerfile *df = parse_ok("FROM a\n"
					 "SHELL [\"/bin/bash\", \"-c\"]\n"
					 "HEALTHCHECK NONE\n"
					 "HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://x/ || exit 1\n"
					 "healthcheck cmd [\"/bin/check\", \"a\"]\n"
					 "STOPSIGNAL SIGKILL\n"
					 "MAINTAINER Jane Doe <jane@example.com>\n"
					 "USER 1000:1000\n"
					 "WORKDIR /a b/$X\n");
	struct df_instr *in = df->stages[0].instrs;
	ARGS(&in[0], "/bin/bash", "-c");
	ARGS(&in[1], "NONE");
	ARGS(&in[2], "CMD", "curl -f http://x/ || exit 1");
	assert_false(in[2].exec_form);
	assert_string_equal(df_flag_get(&in[2], "interval", NULL), "5s");
	assert_string_equal(df_flag_get(&in[2], "retries", NULL), "3");
	ARGS(&in[3], "CMD", "/bin/check", "a");
	assert_true(in[3].exec_form);
	ARGS(&in[4], "SIGKILL");
	ARGS(&in[5], "Jane Doe <jane@example.com>");
	ARGS(&in[6], "1000:1000");
	ARGS(&in[7], "/a b/$X");
	df_free(df);

	FAILS("FROM a\nSHELL /bin/sh -c\n", "Dockerfile:2: SHELL requires the arguments to be in JSON form");
	FAILS("FROM a\nSHELL [\"sh\"\n", "SHELL requires the arguments to be in JSON form");
	FAILS("FROM a\nSHELL []\n", "SHELL requires at least one argument");
	FAILS("FROM a\nSHELL [1]\n", "arrays must be comprised of strings only");
	FAILS("FROM a\nHEALTHCHECK\n", "HEALTHCHECK requires at least one argument");
	FAILS("FROM a\nHEALTHCHECK NONE x\n", "HEALTHCHECK NONE takes no arguments");
	FAILS("FROM a\nHEALTHCHECK CMD\n", "missing command after HEALTHCHECK CMD");
	FAILS("FROM a\nHEALTHCHECK RUN x\n", "unknown type \"RUN\"");
	FAILS("FROM a\nUSER\n", "USER requires exactly one argument");
	FAILS("FROM a\nWORKDIR   \n", "WORKDIR requires exactly one argument");
	FAILS("FROM a\nSTOPSIGNAL\n", "STOPSIGNAL requires exactly one argument");
}

static void test_copy_add(void **state)
{
	(void)state;
	struct dockerfile *df = parse_ok("FROM a\n"
					 "COPY --from=build --chown=1:2 --chmod=0755 --link a b /dst/\n"
					 "ADD [\"a b\", \"/c d/\"]\n"
					 "ADD --keep-git-dir=true --checksum=sha256:00 https://x/y.git /src\n"
					 "COPY --exclude=*.md --parents . /\n");
	struct df_instr *in = df->stages[0].instrs;
	ARGS(&in[0], "a", "b", "/dst/");
	assert_int_equal(in[0].nflags, 4);
	assert_string_equal(df_flag_get(&in[0], "chown", NULL), "1:2");
	assert_string_equal(df_flag_get(&in[0], "chmod", NULL), "0755");
	ARGS(&in[1], "a b", "/c d/");
	assert_true(in[1].exec_form);
	assert_int_equal(in[2].kind, DF_ADD);
	assert_string_equal(df_flag_get(&in[2], "keep-git-dir", NULL), "true");
	ARGS(&in[3], ".", "/");
	assert_string_equal(df_flag_get(&in[3], "exclude", NULL), "*.md");
	df_free(df);

	FAILS("FROM a\nCOPY a\n", "Dockerfile:2: COPY requires at least two arguments");
	FAILS("FROM a\nADD\n", "ADD requires at least two arguments");
	FAILS("FROM a\nCOPY [\"a\"]\n", "COPY requires at least two arguments");
}

static void test_env_label_arg(void **state)
{
	(void)state;
	struct dockerfile *df = parse_ok("FROM a\n"
					 "ENV A=1 B=\"two words\" C='x y' D=a\\ b E=\n"
					 "ENV old value with  spaces\n"
					 "LABEL \"com.example.a\"=\"b\" c=d\n"
					 "LABEL k v\n"
					 "ARG X Y=1 Z=\"a b\"\n"
					 "ENV F=\"unterminated\n"
					 "EXPOSE 80/tcp 443\n"
					 "VOLUME /a /b\n"
					 "VOLUME [\"/c\", \"/d e\"]\n");
	struct df_instr *in = df->stages[0].instrs;
	ARGS(&in[0], "A", "1", "B", "\"two words\"", "C", "'x y'", "D", "a\\ b", "E", "");
	ARGS(&in[1], "old", "value with  spaces");
	ARGS(&in[2], "\"com.example.a\"", "\"b\"", "c", "d");
	ARGS(&in[3], "k", "v");
	ARGS(&in[4], "X", "(null)", "Y", "1", "Z", "\"a b\"");
	ARGS(&in[5], "F", "\"unterminated");
	ARGS(&in[6], "80/tcp", "443");
	ARGS(&in[7], "/a", "/b");
	assert_false(in[7].exec_form);
	ARGS(&in[8], "/c", "/d e");
	assert_true(in[8].exec_form);
	df_free(df);

	FAILS("FROM a\nENV\n", "Dockerfile:2: ENV requires at least one argument");
	FAILS("FROM a\nENV A\n", "ENV must have two arguments");
	FAILS("FROM a\nENV A=1 B\n", "can't find = in \"B\"");
	FAILS("FROM a\nENV =1\n", "ENV names can not be blank");
	FAILS("FROM a\nLABEL\n", "LABEL requires at least one argument");
	FAILS("FROM a\nLABEL a=b c\n", "LABEL: syntax error - can't find = in \"c\"");
	FAILS("FROM a\nARG\n", "ARG requires at least one argument");
	FAILS("FROM a\nARG =x\n", "ARG names can not be blank");
	FAILS("FROM a\nEXPOSE\n", "EXPOSE requires at least one argument");
	FAILS("FROM a\nVOLUME\n", "VOLUME requires at least one argument");
}

static void test_onbuild(void **state)
{
	(void)state;
	struct dockerfile *df = parse_ok("FROM a\n"
					 "ONBUILD RUN echo hi\n"
					 "onbuild copy --from=x a /b\n");
	struct df_instr *in = df->stages[0].instrs;
	assert_int_equal(in[0].kind, DF_ONBUILD);
	assert_string_equal(in[0].text, "ONBUILD RUN echo hi");
	assert_non_null(in[0].trigger);
	assert_int_equal(in[0].trigger->kind, DF_RUN);
	assert_string_equal(in[0].trigger->text, "RUN echo hi");
	ARGS(in[0].trigger, "echo hi");
	assert_int_equal(in[1].nflags, 0);
	assert_int_equal(in[1].trigger->kind, DF_COPY);
	assert_string_equal(df_flag_get(in[1].trigger, "from", NULL), "x");
	ARGS(in[1].trigger, "a", "/b");
	df_free(df);

	FAILS("FROM a\nONBUILD\n", "ONBUILD requires at least one argument");
	FAILS("FROM a\nONBUILD ONBUILD RUN x\n", "chaining ONBUILD via ONBUILD ONBUILD isn't allowed");
	FAILS("FROM a\nONBUILD FROM b\n", "FROM isn't allowed as an ONBUILD trigger");
	FAILS("FROM a\nONBUILD maintainer me\n", "MAINTAINER isn't allowed as an ONBUILD trigger");
	FAILS("FROM a\nONBUILD FORM b\n", "Dockerfile:2: unknown instruction: FORM");
	FAILS("FROM a\nONBUILD COPY a\n", "COPY requires at least two arguments");
}

static void test_continuations_comments(void **state)
{
	(void)state;
	struct dockerfile *df = parse_ok("# a comment\n"
					 "FROM a\n"
					 "RUN echo a \\\n"
					 "  b \\  \n"
					 "# a comment inside\n"
					 "   # an indented one\n"
					 "\n"
					 "  \t \n"
					 "  c\n"
					 "   RUN x # not a comment\n"
					 "RUN y \\\n"
					 "\n"
					 "CMD z \\\n"
					 "\\\n"
					 "  w\r\n"
					 "ENV A=1 \\\n"
					 "    B=2\n"
					 "RUN trailing \\");
	const struct df_stage *s = &df->stages[0];
	assert_int_equal(s->n, 5);
	ARGS(&s->instrs[0], "echo a   b   c");
	assert_string_equal(s->instrs[0].text, "RUN echo a   b   c");
	assert_int_equal(s->instrs[0].line, 3);
	ARGS(&s->instrs[1], "x # not a comment");
	assert_int_equal(s->instrs[1].line, 10);
	/* an empty line inside a continuation is skipped: the instruction goes on */
	assert_int_equal(s->instrs[2].kind, DF_RUN);
	ARGS(&s->instrs[2], "y CMD z   w");
	assert_int_equal(s->instrs[3].kind, DF_ENV);
	ARGS(&s->instrs[3], "A", "1", "B", "2");
	assert_int_equal(s->instrs[3].line, 16);
	ARGS(&s->instrs[4], "trailing");
	df_free(df);
}

static void test_directives(void **state)
{
	(void)state;
	struct dockerfile *df = parse_ok("# syntax=docker/dockerfile:1\n"
					 "#ESCAPE = `\n"
					 "FROM a\n"
					 "RUN echo a `\n"
					 "  b\n"
					 "COPY a\\b c\\d\n");
	assert_int_equal(df->escape, '`');
	assert_string_equal(df->syntax, "docker/dockerfile:1");
	ARGS(&df->stages[0].instrs[0], "echo a   b");
	ARGS(&df->stages[0].instrs[1], "a\\b", "c\\d");
	df_free(df);

	/* a directive after a comment, a blank line or an instruction is a comment */
	df = parse_ok("# hello\n# escape=`\nFROM a\nRUN a \\\n b\n");
	assert_int_equal(df->escape, '\\');
	assert_null(df->syntax);
	ARGS(&df->stages[0].instrs[0], "a  b");
	df_free(df);
	df = parse_ok("\n# escape=`\nFROM a\n");
	assert_int_equal(df->escape, '\\');
	df_free(df);
	df = parse_ok("FROM a\n# escape=`\n");
	assert_int_equal(df->escape, '\\');
	df_free(df);
	/* an unknown directive ends the directives */
	df = parse_ok("# foo=bar\n# escape=`\nFROM a\n");
	assert_int_equal(df->escape, '\\');
	df_free(df);
	/* the BOM is dropped */
	df = parse_ok("\xef\xbb\xbf# escape=`\nFROM a\n");
	assert_int_equal(df->escape, '`');
	df_free(df);

	FAILS("# escape=x\nFROM a\n", "Dockerfile:1: invalid escape token 'x' does not match ` or \\");
	FAILS("# escape=\\\n# escape=`\nFROM a\n", "Dockerfile:2: only one escape parser directive can be used");
}

static void test_heredocs(void **state)
{
	(void)state;
	struct dockerfile *df = parse_ok("FROM a\n"
					 "RUN <<EOF\n"
					 "echo $HOME\n"
					 "  indented\n"
					 "EOF\n"
					 "RUN <<-\"END\" python3\n"
					 "\tprint(1)\n"
					 "\t\tx\n"
					 "\tEND\n"
					 "RUN cat <<A <<'B' > out\n"
					 "a\n"
					 "A\n"
					 "b\n"
					 "B\n"
					 "COPY <<EOF /dst\n"
					 "content\n"
					 "EOF\n"
					 "COPY --chmod=755 <<one <<two /dir/\n"
					 "1\n"
					 "one\n"
					 "two\n"
					 "RUN [\"echo\", \"<<EOF\"]\n"
					 "RUN echo '<<NOT' \"<<NOPE\" 2<<E\n"
					 "e\n"
					 "E\n"
					 "ONBUILD RUN <<X\n"
					 "x\n"
					 "X\n"
					 "RUN <<EOF\n"
					 "EOF\n");
	struct df_instr *in = df->stages[0].instrs;
	assert_int_equal(df->stages[0].n, 9);
	ARGS(&in[0], "<<EOF");
	assert_int_equal(in[0].nheredocs, 1);
	assert_string_equal(in[0].heredocs[0].name, "EOF");
	assert_string_equal(in[0].heredocs[0].body, "echo $HOME\n  indented\n");
	assert_true(in[0].heredocs[0].expand);
	assert_false(in[0].heredocs[0].strip_tabs);

	ARGS(&in[1], "<<-\"END\" python3");
	assert_string_equal(in[1].heredocs[0].name, "END");
	assert_string_equal(in[1].heredocs[0].body, "print(1)\nx\n");
	assert_false(in[1].heredocs[0].expand);
	assert_true(in[1].heredocs[0].strip_tabs);
	assert_int_equal(in[1].line, 6);

	assert_int_equal(in[2].nheredocs, 2);
	assert_string_equal(in[2].heredocs[0].name, "A");
	assert_string_equal(in[2].heredocs[0].body, "a\n");
	assert_true(in[2].heredocs[0].expand);
	assert_string_equal(in[2].heredocs[1].name, "B");
	assert_string_equal(in[2].heredocs[1].body, "b\n");
	assert_false(in[2].heredocs[1].expand);

	ARGS(&in[3], "<<EOF", "/dst");
	assert_string_equal(in[3].heredocs[0].body, "content\n");
	ARGS(&in[4], "<<one", "<<two", "/dir/");
	assert_string_equal(in[4].heredocs[0].body, "1\n");
	assert_string_equal(in[4].heredocs[1].body, "");

	assert_int_equal(in[5].nheredocs, 0); /* exec form has none */
	assert_int_equal(in[6].nheredocs, 1);
	assert_string_equal(in[6].heredocs[0].name, "E");
	assert_int_equal(in[7].trigger->nheredocs, 1);
	assert_string_equal(in[7].trigger->heredocs[0].body, "x\n");
	assert_string_equal(in[8].heredocs[0].body, "");
	assert_int_equal(in[8].line, 29);
	df_free(df);

	FAILS("FROM a\nRUN <<EOF\nno end\n", "Dockerfile:2: RUN: unterminated heredoc <<EOF");
	FAILS("FROM a\nRUN <<A <<B\nA\nno end\n", "unterminated heredoc <<B");
	FAILS("FROM a\nCOPY <<EOF <<DST\nx\nEOF\ny\nDST\n", "COPY cannot accept a heredoc as a destination");
	FAILS("FROM a\nRUN <<\"EOF\nx\n", ""); /* an unterminated quote in a heredoc word */
}

static void test_unknown_and_case(void **state)
{
	(void)state;
	FAILS("FROM a\nFORM b\n", "Dockerfile:2: unknown instruction: FORM");
	FAILS("FROM a\n  frobnicate\n", "unknown instruction: FROBNICATE");
	struct dockerfile *df = parse_ok("fRoM a\nrUn x\nCoPy a b\n");
	assert_int_equal(df->stages[0].instrs[0].kind, DF_RUN);
	assert_int_equal(df->stages[0].instrs[1].kind, DF_COPY);
	df_free(df);
	for (int k = DF_FROM; k <= DF_MAINTAINER; k++)
		assert_true(strlen(df_kind_name((enum df_kind)k)) >= 3);
	assert_string_equal(df_kind_name(DF_HEALTHCHECK), "HEALTHCHECK");
	assert_string_equal(df_kind_name((enum df_kind)99), "?");
}

static void test_hostile(void **state)
{
	(void)state;
	parse_fails("FROM a\nRUN a\0b\n", 13, "Dockerfile:2: NUL byte");
	/* a line over 1 MiB */
	size_t n = 1024 * 1024 + 16;
	char *big = xmalloc(n + 1);
	memcpy(big, "FROM a\nRUN ", 11);
	memset(big + 11, 'x', n - 11);
	big[n] = 0;
	parse_fails(big, n, "Dockerfile:2: line longer than");
	/* just under: accepted */
	big[1024 * 1024 - 1] = '\n';
	big[1024 * 1024] = 0;
	struct dockerfile *df = parse_ok(big);
	assert_int_equal(df->stages[0].n, 1);
	df_free(df);
	free(big);

	/* invalid UTF-8 passes through as bytes */
	df = parse_ok("FROM a\nRUN \xff\xfe\xc3\n");
	ARGS(&df->stages[0].instrs[0], "\xff\xfe\xc3");
	df_free(df);

	/* 100k instructions: linear time */
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "FROM a\n");
	for (int i = 0; i < 100000; i++)
		strbuf_addf(&sb, "ENV K%d=v%d \\\n  L=x\n", i, i);
	df = parse_ok(sb.buf);
	assert_int_equal(df->stages[0].n, 100000);
	assert_int_equal(df->stages[0].instrs[99999].line, 2 + 2 * 99999);
	df_free(df);
	strbuf_release(&sb);

	/* a deeply nested ${ in a heredoc word and an ENV value: no crash */
	strbuf_addstr(&sb, "FROM a\nRUN <<");
	for (int i = 0; i < 100000; i++)
		strbuf_addstr(&sb, "${A:-");
	strbuf_addstr(&sb, "\nx\n");
	/* the line does not lex (too deep): no heredoc, as buildkit; "x" is the next line */
	parse_fails(sb.buf, sb.len, "Dockerfile:3: unknown instruction: X");
	strbuf_release(&sb);

	/* random bytes with a fixed seed: errors or results, never a crash or a leak */
	uint32_t seed = 12345;
	static const char alphabet[] = "FROMRUNCOPYENVARG \t\n\\`#=\"'[]{}$<<-:,AS0123 --x\r\0\xff";
	for (int round = 0; round < 3000; round++) {
		size_t len = (seed >> 7) % 300;
		char *buf = xmalloc(len + 8);
		memcpy(buf, "FROM a\n", 7);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			buf[7 + i] =
				(round % 3 == 0) ? (char)(seed >> 16) : alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		struct skiff_err *err = NULL;
		df = NULL;
		if (df_parse("F", buf, len + 7, &df, &err) < 0) {
			assert_non_null(err);
			assert_non_null(strstr(err->msg, "F"));
			err_free(err);
		} else {
			assert_non_null(df);
			df_free(df);
		}
		free(buf);
	}
}

/* ---- df_expand ---- */

static const char *const test_vars[] = {"A=a", "E=", "B=b c", "AB=x", "D=1", "V=/usr/local/bin", "D=2", NULL};

static void vars_init(struct strv *sv)
{
	for (size_t i = 0; test_vars[i]; i++)
		strv_push(sv, test_vars[i]);
}

static void expands(const char *word, const char *want)
{
	struct strv vars cleanup_strv = STRV_INIT;
	struct skiff_err *err = NULL;
	char *got = NULL;
	vars_init(&vars);
	if (df_expand(word, '\\', &vars, NULL, &got, &err) < 0) {
		fail_msg("expand '%s': %s", word, err->msg);
		err_free(err);
	}
	if (strcmp(got, want) != 0)
		fail_msg("expand '%s' = '%s', want '%s'", word, got, want);
	free(got);
}

static void expand_fails(const char *word, const char *want)
{
	struct strv vars cleanup_strv = STRV_INIT;
	struct skiff_err *err = NULL;
	char *got = NULL;
	vars_init(&vars);
	if (df_expand(word, '\\', &vars, NULL, &got, &err) == 0) {
		fail_msg("expand '%s' = '%s', want error '%s'", word, got, want);
		free(got);
	}
	assert_null(got);
	if (!strstr(err->msg, want))
		fail_msg("expand '%s': error '%s', want '%s'", word, err->msg, want);
	err_free(err);
}

/* Checked against podman 4.3 (buildah's imagebuilder) where it supports the form, and
 * against buildkit's lexer rules where it does not (-, +, ?, #, %, / modifiers, $@). */
static void test_expand_table(void **state)
{
	(void)state;
	static const struct {
		const char *word, *want;
	} t[] = {
		{"$A", "a"},
		{"${A}", "a"},
		{"${U:-def}", "def"},
		{"${E:-def}", "def"},
		{"${E-def}", ""},
		{"${U-def}", "def"},
		{"${A:+alt}", "alt"},
		{"${E:+alt}", ""},
		{"${E+alt}", "alt"},
		{"${U+alt}", ""},
		{"'$A'", "$A"},
		{"\"$A\"", "a"},
		{"\\$A", "$A"},
		{"$1", ""},
		{"$12x", "x"},
		{"$", "$"},
		{"a$", "a$"},
		{"$ a", "$ a"},
		{"\"${A}x\"", "ax"},
		{"${U:-${A}}", "a"},
		{"${U:-${U2:-${A:+${B}}}}", "b c"},
		{"$@", ""}, /* buildkit: a special parameter, unset (podman keeps "$@") */
		{"\"x\\y\"", "x\\y"},
		{"'x\\y'", "x\\y"},
		{"x\\y", "xy"},
		{"\"a\\\"b\"", "a\"b"},
		{"\"a\\$A\"", "a$A"},
		{"\"a\\\\b\"", "a\\b"},
		{"$A_x", ""},
		{"${A}_x", "a_x"},
		{"\"${U:-a b}\"", "a b"},
		{"$B", "b c"},
		{"$A$A", "aa"},
		{"$A\\ $A", "a a"},
		{"${A:-'q w'}", "a"},
		{"${U:-'q w'}", "q w"},
		{"a\"b\"'c'", "abc"},
		{"''", ""},
		{"\"\"", ""},
		{"\\\"q\\\"", "\"q\""},
		{"$D", "2"}, /* the last one wins */
		{"$AB", "x"},
		{"a\\", "a"},
		{"${A:?}", "a"},
		{"${E?}", ""},
		{"${V##*/}", "bin"},
		{"${V#*/}", "usr/local/bin"},
		{"${V%/*}", "/usr/local"},
		{"${V%%/*}", ""},
		{"${B#b }", "c"},
		{"${B%% *}", "b"},
		{"${V#nomatch}", "/usr/local/bin"},
		{"${V/local/X}", "/usr/X/bin"},
		{"${V//\\//_}", "_usr_local_bin"},
		{"${V/u*/Z}", "/Z"},
		{"${V/\\*/Z}", "/usr/local/bin"},
		{"${U/a/b}", ""},
		{"\xff\xfe$A", "\xff\xfe"
			       "a"},
		{"}", "}"},
		{"{$A}", "{a}"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (strcmp(t[i].word, "\"a\\\"") != 0)
			expands(t[i].word, t[i].want);

	expand_fails("\"a\\\"", "unterminated double quote");
	expand_fails("${A:x}", "expand \"${A:x}\": unsupported modifier (:x) in substitution");
	expand_fails("${A!}", "unsupported modifier (!) in substitution");
	expand_fails("${", "missing '}'");
	expand_fails("${A", "missing '}'");
	expand_fails("${A:-x", "missing '}'");
	expand_fails("${A:-${B", "missing '}'");
	expand_fails("${}", "bad substitution");
	expand_fails("${:}", "bad substitution");
	expand_fails("${{A}}", "bad substitution");
	expand_fails("'abc", "unterminated single quote");
	expand_fails("\"abc", "unterminated double quote");
	expand_fails("${U:?must be set}", "U: must be set");
	expand_fails("${U?}", "U: is not allowed to be unset");
	expand_fails("${E:?}", "E: is not allowed to be empty");
	expand_fails("${V#\\x}", "invalid pattern");

	/* the backtick as the escape character */
	struct skiff_err *err = NULL;
	char *got = NULL;
	assert_int_equal(df_expand("a`$A\\b\"`\"\"", '`', NULL, NULL, &got, &err), 0);
	assert_string_equal(got, "a$A\\b\"");
	free(got);
}

static void test_expand_nesting_words_used(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < 60; i++)
		strbuf_addstr(&sb, "${U:-");
	strbuf_addstr(&sb, "$A");
	for (int i = 0; i < 60; i++)
		strbuf_addch(&sb, '}');
	expands(sb.buf, "a");
	strbuf_reset(&sb);
	for (int i = 0; i < 200000; i++)
		strbuf_addstr(&sb, "${U:-");
	expand_fails(sb.buf, "nested more than 64 deep");
	strbuf_reset(&sb);
	for (int i = 0; i < 200000; i++)
		strbuf_addstr(&sb, "\"$A'\"");
	struct strv vars cleanup_strv = STRV_INIT;
	vars_init(&vars);
	char *got = NULL;
	struct skiff_err *err = NULL;
	assert_int_equal(df_expand(sb.buf, '\\', &vars, NULL, &got, &err), 0);
	assert_int_equal(strlen(got), 400000);
	free(got);
	strbuf_release(&sb);

	/* the names referenced, once each, set or not */
	struct strv used cleanup_strv = STRV_INIT;
	assert_int_equal(df_expand("$A ${U:-$B} $A ${Z+x}", '\\', &vars, &used, &got, &err), 0);
	assert_string_equal(got, "a b c a ");
	free(got);
	assert_int_equal(used.len, 4);
	assert_true(strv_contains(&used, "A"));
	assert_true(strv_contains(&used, "B"));
	assert_true(strv_contains(&used, "U"));
	assert_true(strv_contains(&used, "Z"));

	/* words: split at unquoted whitespace, after expansion */
	struct strv words cleanup_strv = STRV_INIT;
	assert_int_equal(df_expand_words("  a \"b c\" $B '' d\\ e x$E'y z'  ", '\\', &vars, NULL, &words, &err), 0);
	assert_int_equal(words.len, 6);
	assert_string_equal(words.v[0], "a");
	assert_string_equal(words.v[1], "b c");
	assert_string_equal(words.v[2], "b");
	assert_string_equal(words.v[3], "c");
	assert_string_equal(words.v[4], "d e");
	assert_string_equal(words.v[5], "xy z");
	strv_release(&words);
	assert_int_equal(df_expand_words("80/tcp\t${P:-443}", '\\', &vars, NULL, &words, &err), 0);
	assert_int_equal(words.len, 2);
	assert_string_equal(words.v[1], "443");
	strv_release(&words);
	assert_int_equal(df_expand_words("", '\\', &vars, NULL, &words, &err), 0);
	assert_int_equal(words.len, 0);
	assert_int_equal(df_expand_words("a 'b", '\\', &vars, NULL, &words, &err), -1);
	assert_non_null(strstr(err->msg, "unterminated single quote"));
	assert_int_equal(words.len, 0);
	err_clear(&err);

	/* random words: an error or a result, never a crash */
	uint32_t seed = 777;
	static const char alphabet[] = "${}:-+?#%/\\'\" \tAB_1*@x`";
	for (int round = 0; round < 20000; round++) {
		char w[40];
		size_t len = round % 39;
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			w[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		w[len] = 0;
		err = NULL;
		got = NULL;
		if (df_expand(w, round % 2 ? '`' : '\\', &vars, &used, &got, &err) < 0) {
			assert_null(got);
			assert_non_null(strstr(err->msg, "expand \""));
			err_clear(&err);
		} else {
			free(got);
		}
		if (df_expand_words(w, '\\', &vars, NULL, &words, &err) < 0)
			err_clear(&err);
		strv_release(&words);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_stages),
		cmocka_unit_test(test_run_cmd_forms),
		cmocka_unit_test(test_shell_healthcheck),
		cmocka_unit_test(test_copy_add),
		cmocka_unit_test(test_env_label_arg),
		cmocka_unit_test(test_onbuild),
		cmocka_unit_test(test_continuations_comments),
		cmocka_unit_test(test_directives),
		cmocka_unit_test(test_heredocs),
		cmocka_unit_test(test_unknown_and_case),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_expand_table),
		cmocka_unit_test(test_expand_nesting_words_used),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
