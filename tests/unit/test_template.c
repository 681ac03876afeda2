#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/cli/template.h"
#include "pkg/json/json.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

static const char *const DATA =
	"{\"ID\":\"a416a98b71e2f0b8\",\"Repository\":\"docker.io/library/busybox\",\"Tag\":\"latest\","
	"\"Size\":4500000,\"Count\":3,\"Names\":[\"web\",\"db\"],\"Labels\":{\"b\":\"2\",\"a\":\"1\"},"
	"\"Empty\":[],\"EmptyMap\":{},\"Null\":null,\"Zero\":0,\"False\":false,\"Float\":1.5,"
	"\"Nested\":{\"Inner\":{\"Deep\":\"x\"}},\"Str\":\"hello world\",\"HTML\":\"<a&b>\","
	"\"Ports\":[{\"Host\":80}]}";

static struct json *parse_json(const char *s)
{
	struct skiff_err *err = NULL;
	struct json *j = NULL;

	if (json_parse(s, strlen(s), &j, &err) < 0)
		fail_msg("bad test JSON %s: %s", s, err->msg);
	return j;
}

/* Parse fmt, run it over data (JSON text, NULL for DATA) and return the output. */
static char *run(const char *fmt, const char *data)
{
	struct skiff_err *err = NULL;
	struct template *t = NULL;
	struct strbuf out = STRBUF_INIT;
	struct json *j = parse_json(data ? data : DATA);

	if (template_parse(fmt, &t, &err) < 0)
		fail_msg("parse %s: %s", fmt, err->msg);
	if (template_execute(t, j, &out, &err) < 0)
		fail_msg("execute %s: %s", fmt, err->msg);
	template_free(t);
	json_free(j);
	return strbuf_detach(&out, NULL);
}

#define EXPECT_DATA(fmt, data, want)                                                                                   \
	do {                                                                                                           \
		char *got_ = run(fmt, data);                                                                           \
		if (strcmp(got_, want) != 0)                                                                           \
			fail_msg("%s: got \"%s\", want \"%s\"", fmt, got_, want);                                      \
		free(got_);                                                                                            \
	} while (0)
#define EXPECT(fmt, want) EXPECT_DATA(fmt, NULL, want)

static void parse_fails(const char *fmt, const char *want)
{
	struct skiff_err *err = NULL;
	struct template *t = NULL;

	if (template_parse(fmt, &t, &err) == 0)
		fail_msg("%s: parsed, want error \"%s\"", fmt, want);
	assert_null(t);
	assert_non_null(err);
	assert_int_equal(err->status, EINVAL);
	if (!strstr(err->msg, want) || strncmp(err->msg, "template: ", 10) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", fmt, err->msg, want);
	err_free(err);
}

static void exec_fails(const char *fmt, const char *want)
{
	struct skiff_err *err = NULL;
	struct template *t = NULL;
	struct strbuf out = STRBUF_INIT;
	struct json *j = parse_json(DATA);

	strbuf_addstr(&out, "keep:");
	if (template_parse(fmt, &t, &err) < 0)
		fail_msg("parse %s: %s", fmt, err->msg);
	if (template_execute(t, j, &out, &err) == 0)
		fail_msg("%s: ran (\"%s\"), want error \"%s\"", fmt, out.buf, want);
	assert_string_equal(out.buf, "keep:"); /* partial output is dropped */
	if (!strstr(err->msg, want))
		fail_msg("%s: got \"%s\", want \"%s\"", fmt, err->msg, want);
	err_free(err);
	template_free(t);
	json_free(j);
	strbuf_release(&out);
}

static void norm_is(const char *fmt, const char *want, bool want_table)
{
	bool table = !want_table;
	size_t *map = NULL;
	char *got = template_normalize(fmt, &table, &map);

	if (strcmp(got, want) != 0)
		fail_msg("normalize %s: got \"%s\", want \"%s\"", fmt, got, want);
	assert_int_equal(table, want_table);
	assert_int_equal(map[strlen(got)], strlen(fmt));
	free(got);
	free(map);
}

static void test_normalize(void **state)
{
	size_t *map = NULL;
	char *s;

	(void)state;
	norm_is("table {{.ID}}\\t{{.Repository}}", "{{.ID}}\t{{.Repository}}\n", true);
	norm_is("table", "\n", true);
	norm_is("tablex", "tablex\n", false);
	norm_is("{{.ID}}", "{{.ID}}\n", false);
	norm_is("{{.ID}}\n", "{{.ID}}\n", false);
	norm_is("", "\n", false);
	norm_is("a\\nb\\tc", "a\nb\tc\n", false);
	/* inside actions nothing changes: "\n" in a string keeps Go's meaning */
	norm_is("{{join .Names \"\\n\"}}", "{{join .Names \"\\n\"}}\n", false);
	/* table mode: spaces outside actions are column breaks */
	norm_is("table {{.ID}} {{join .Names \", \"}} x", "{{.ID}}\t{{join .Names \", \"}}\tx\n", true);
	norm_is("table {{\"}} x\"}} y", "{{\"}} x\"}}\ty\n", true);
	norm_is("table {{/* }} */}} y", "{{/* }} */}}\ty\n", true);

	s = template_normalize("table {{.ID}}\\t{{.X}}", NULL, &map);
	assert_string_equal(s, "{{.ID}}\t{{.X}}\n");
	assert_int_equal(map[0], 6);  /* "{{" */
	assert_int_equal(map[7], 13); /* the tab came from "\t" */
	assert_int_equal(map[8], 15);
	free(s);
	free(map);
	s = template_normalize("x", NULL, NULL);
	assert_string_equal(s, "x\n");
	free(s);

	assert_string_equal(template_pick(NULL, "d"), "d");
	assert_string_equal(template_pick("", "d"), "d");
	assert_string_equal(template_pick("table", "d"), "d");
	assert_string_equal(template_pick("table {{.X}}", "d"), "table {{.X}}");
}

static void test_fields_and_printing(void **state)
{
	struct skiff_err *err = NULL;
	struct template *t = NULL;

	(void)state;
	EXPECT("{{.ID}}", "a416a98b71e2f0b8\n");
	EXPECT("{{.Nested.Inner.Deep}}", "x\n");
	EXPECT("{{.Missing}}", "<no value>\n");
	EXPECT("{{.Missing.Deeper}}", "<no value>\n");
	EXPECT("{{.Null}}", "<nil>\n");
	EXPECT("{{.Null.X}}", "<no value>\n");
	EXPECT("{{.Size}} {{.Float}} {{.False}} {{.Zero}}", "4500000 1.5 false 0\n");
	EXPECT("{{.Names}}", "[web db]\n");
	EXPECT("{{.Labels}}", "map[a:1 b:2]\n");
	EXPECT("{{.Empty}}{{.EmptyMap}}", "[]map[]\n");
	EXPECT("{{.Ports}}", "[map[Host:80]]\n");
	EXPECT_DATA("{{.}}", "{\"b\":1,\"a\":[\"x\",null,true]}", "map[a:[x <nil> true] b:1]\n");
	EXPECT_DATA("{{.}}", "\"hi\"", "hi\n");
	EXPECT_DATA("{{.a}} {{.b}} {{.c}} {{.d}} {{.e}} {{.f}} {{.g}} {{.h}} {{.i}}",
		    "{\"a\":1000000.0,\"b\":123456.0,\"c\":0.0001,\"d\":0.00001,\"e\":1e21,"
		    "\"f\":-2.5,\"g\":0.1,\"h\":1234567.0,\"i\":-0.0}",
		    "1e+06 123456 0.0001 1e-05 1e+21 -2.5 0.1 1.234567e+06 -0\n");
	EXPECT("literal only", "literal only\n");

	assert_int_equal(template_parse("table {{.ID}}", &t, &err), 0);
	assert_true(template_is_table(t));
	template_free(t);
	assert_int_equal(template_parse("{{.ID}}", &t, &err), 0);
	assert_false(template_is_table(t));
	template_free(t);
	template_free(NULL);
}

static void test_json_func(void **state)
{
	(void)state;
	EXPECT("{{json .Labels}}", "{\"b\":\"2\",\"a\":\"1\"}\n");
	EXPECT("{{json .HTML}}", "\"<a&b>\"\n"); /* podman: SetEscapeHTML(false) */
	EXPECT("{{json .Missing}} {{json .Null}}", "null null\n");
	EXPECT("{{json .Names}} {{json .Empty}} {{json .EmptyMap}}", "[\"web\",\"db\"] [] {}\n");
	EXPECT("{{json .Nested}}", "{\"Inner\":{\"Deep\":\"x\"}}\n");
	EXPECT_DATA("{{json .s}}", "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001\\b\\f\\u2028\\u00e9\\u007f\"}",
		    "\"a\\\"b\\\\c\\n\\t\\u0001\\b\\f\\u2028\xc3\xa9\x7f\"\n");
	EXPECT_DATA("{{json .f}} {{json .g}} {{json .h}} {{json .i}} {{json .j}} {{json .k}}",
		    "{\"f\":0.1,\"g\":1e-7,\"h\":1e21,\"i\":100.0,\"j\":-12,\"k\":123456789.5}",
		    "0.1 1e-7 1e+21 100 -12 123456789.5\n");
	EXPECT_DATA("{{json .}}", "{\"a\":[1,true,null],\"b\":{}}", "{\"a\":[1,true,null],\"b\":{}}\n");
}

static void test_functions(void **state)
{
	(void)state;
	EXPECT("{{.Str | upper}}", "HELLO WORLD\n");
	EXPECT("{{lower \"ABC d\"}}", "abc d\n");
	EXPECT("{{\"hello wORLD-foo_bar x1y \xc3\xa9t\xc3\xa9\" | title}}",
	       "Hello WORLD-Foo_bar X1y \xc3\xa9t\xc3\xa9\n");
	EXPECT("{{.Str | lower | title}}", "Hello World\n");
	EXPECT("{{join .Names \", \"}}|{{join .Missing \",\"}}|{{join .Empty \",\"}}|{{join .Null \",\"}}",
	       "web, db|||\n");
	EXPECT("{{len .Names}} {{len .Labels}} {{len .Str}} {{len .Null}} {{len \"\xc3\xa9\"}} {{.Names | len}}",
	       "2 2 11 0 2 2\n");
	EXPECT("{{index .Labels \"a\"}}|{{index .Labels \"zz\"}}|{{index .Null \"a\"}}|{{index .Names 1}}", "1|||db\n");
	EXPECT("{{index .Str 0}} {{index .Ports 0 \"Host\"}} {{index .Names}}", "104 80 [web db]\n");
	EXPECT("{{truncate .ID 12}}|{{truncate .ID 100}}|{{truncate \"h\xc3\xa9llo\" 2}}|{{truncate .ID 0}}",
	       "a416a98b71e2|a416a98b71e2f0b8|h|\n");
	EXPECT("{{pad .Tag 2 3}}|{{pad \"\" 2 2}}|", "  latest   ||\n");
	EXPECT("{{split \"a,b,,c\" \",\"}} {{split \"h\xc3\xa9j\" \"\"}} {{index (split \"a:b\" \":\") 1}}",
	       "[a b  c] [h \xc3\xa9 j] b\n");
	EXPECT("{{split \"\" \",\"}}{{len (split \"\" \",\")}}", "[]1\n");
	EXPECT("{{printf \"%s-%d\" .Tag .Count}}", "latest-3\n");
	EXPECT("{{print \"a\" \"b\" 1 2 \"c\"}}|{{print}}|{{print .Missing}}", "ab1 2c||<nil>\n");
	EXPECT("{{println \"a\" 1}}", "a 1\n\n");
	EXPECT("{{printf \"%s|\" print}}", "|\n"); /* a function as an argument is called */
	EXPECT("{{eq .Tag \"latest\"}} {{eq .Count 3}} {{eq .Count 1 2 3}} {{ne .Tag \"x\"}} {{lt 1 2}} "
	       "{{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2}} {{eq .Missing .Null}} {{eq 2 2.0}} {{lt \"a\" \"ab\"}}",
	       "true true true true true true true false true true true\n");
	EXPECT("{{not .Zero}} {{and 1 0 2}} {{or 0 \"\" \"x\"}} {{and 1 2}} [{{or 0 \"\"}}]", "true 0 x 2 []\n");
	/* and/or stop at the deciding argument: the index is never evaluated */
	EXPECT("{{and .Empty (index .Empty 0)}} {{or .Names (index .Empty 0)}}", "[] [web db]\n");
	EXPECT("{{if and (eq .Tag \"latest\") (gt .Count 2)}}yes{{end}}", "yes\n");
	EXPECT("{{(index .Nested \"Inner\").Deep}} {{printf \"%s!\" (upper .Tag)}} {{len (split .Str \" \")}}",
	       "x LATEST! 2\n");
}

static void test_printf(void **state)
{
	static const char *const d = "{\"s\":\"hi\",\"n\":42,\"neg\":-255,\"f\":3.14159,\"b\":true,\"l\":[\"a\",\"b\"],"
				     "\"u\":\"h\\u00e9llo\",\"q\":\"a\\\"\\n\\u0001\\u0085\"}";

	(void)state;
	EXPECT_DATA("{{printf \"%s|%5s|%-5s|%.1s|%q|%v|%05s\" .s .s .s .s .s .s .s}}", d,
		    "hi|   hi|hi   |h|\"hi\"|hi|000hi\n");
	EXPECT_DATA(
		"{{printf \"%d|%5d|%-5d|%05d|%+d|%x|%X|%o|%#x|%x|%.4d|% d\" .n .n .n .n .n .n .n .n .n .neg .n .n}}", d,
		"42|   42|42   |00042|+42|2a|2A|52|0x2a|-ff|0042| 42\n");
	EXPECT_DATA("{{printf \"%v|%v|%v|%v|%v\" .f .b .l .s .n}}", d, "3.14159|true|[a b]|hi|42\n");
	EXPECT_DATA("{{printf \"%.2f|%8.3f|%e|%g|%.3g|%6.2f|%-10.3e|\" .f .f .f .f .f 2.5 1234.56}}", d,
		    "3.14|   3.142|3.141590e+00|3.14159|3.14|  2.50|1.235e+03 |\n");
	EXPECT_DATA("{{printf \"%t|%c|%q|%q|%q\" .b 65 .l .u .q}}", d,
		    "true|A|[\"a\" \"b\"]|\"h\xc3\xa9llo\"|\"a\\\"\\n\\x01\\u0085\"\n");
	EXPECT_DATA("{{printf \"%%|%d|%z|%s|%d\" .s .n .l .l}}", d,
		    "%|%!d(string=hi)|%!z(int=42)|[a b]|[%!d(string=a) %!d(string=b)]\n");
	EXPECT_DATA("{{printf \"%d %d\" .n}}", d, "42 %!d(MISSING)\n");
	EXPECT_DATA("{{printf \"%d\" .n .s 1 .Missing}}", d, "42%!(EXTRA string=hi, int=1, <nil>)\n");
	EXPECT_DATA("{{printf \"%s|%v|%d\" .Missing .Missing .b}}", d, "%!s(<nil>)|<nil>|%!d(bool=true)\n");
	EXPECT_DATA("{{printf \"%5.1s|%-8v|%8v|\" .u .u .u}}", d, "    h|h\xc3\xa9llo   |   h\xc3\xa9llo|\n");
	EXPECT_DATA("{{printf \"abc%\"}}|{{printf \"%-\"}}", d, "abc%!(NOVERB)|%!(NOVERB)\n");
	/* widths and precisions are capped at 1000000, as Go's fmt */
	EXPECT_DATA("{{printf \"%99999999s\" .s}}", d, "%!(NOVERB)%!(EXTRA string=hi)\n");
	EXPECT_DATA("{{printf \"%1000001d\" .n}}", d, "%!(NOVERB)%!(EXTRA int=42)\n");
	EXPECT_DATA("{{printf \"%.99999999f\" .f}}", d, "%!(NOVERB)%!(EXTRA float64=3.14159)\n");
	EXPECT_DATA("{{len (printf \"%1000000d\" .n)}}", d, "1000000\n");
	EXPECT_DATA("{{printf \"%v %v\" .Null 1e6}}", "{\"Null\":null}", "<nil> 1e+06\n");
	EXPECT_DATA("{{printf \"%+v|%08v|%G\" 1.5 -1.5 1e20}}", d, "+1.5|-00001.5|1E+20\n");
}

static void test_range(void **state)
{
	(void)state;
	EXPECT("{{range .Names}}{{.}} {{end}}", "web db \n");
	EXPECT("{{range $i, $e := .Names}}{{$i}}={{$e}},{{end}}", "0=web,1=db,\n");
	EXPECT("{{range $k, $v := .Labels}}{{$k}}:{{$v}} {{end}}", "a:1 b:2 \n");
	EXPECT("{{range .Labels}}{{.}}{{end}}", "12\n");
	EXPECT("{{range $e := .Names}}{{$e}}{{end}}", "webdb\n");
	EXPECT("{{range .Empty}}x{{else}}none{{end}} {{range .Missing}}x{{else}}none{{end}} "
	       "{{range .Null}}x{{else}}none{{end}} {{range .EmptyMap}}x{{else}}none{{end}}",
	       "none none none none\n");
	EXPECT("{{range .Ports}}{{.Host}}{{end}}", "80\n");
	EXPECT("{{range .Names}}{{$n := .}}{{range $.Names}}{{$n}}-{{.}} {{end}}{{end}}",
	       "web-web web-db db-web db-db \n");
	EXPECT("{{range .Names}}{{$.Tag}}{{end}}", "latestlatest\n");
	EXPECT("{{$last := \"\"}}{{range .Names}}{{$last = .}}{{end}}{{$last}}", "db\n");
	EXPECT("{{$i := 9}}{{range $i, $e := .Names}}{{end}}{{$i}}", "9\n"); /* range vars are scoped */
	EXPECT("{{$x := 1}}{{range $x = .Names}}{{end}}{{$x}}", "db\n");
	exec_fails("{{range .Str}}{{end}}", "1:1: range can't iterate over hello world");
	exec_fails("{{range .Count}}{{end}}", "range can't iterate over 3");
}

static void test_if_with(void **state)
{
	static const char *const falsy[] = {"false", "0", "0.0", "\"\"", "null", "[]", "{}"};
	static const char *const truthy[] = {"true", "1", "-1", "0.5", "\"a\"", "[0]", "{\"a\":0}"};
	char data[64];

	(void)state;
	for (size_t i = 0; i < sizeof(falsy) / sizeof(falsy[0]); i++) {
		snprintf(data, sizeof(data), "{\"X\":%s}", falsy[i]);
		EXPECT_DATA("{{if .X}}T{{else}}F{{end}}", data, "F\n");
		snprintf(data, sizeof(data), "{\"X\":%s}", truthy[i]);
		EXPECT_DATA("{{if .X}}T{{else}}F{{end}}", data, "T\n");
	}
	EXPECT("{{if .Missing}}T{{else}}F{{end}}", "F\n");
	EXPECT("{{if eq .Count 1}}one{{else if eq .Count 3}}three{{else}}other{{end}}", "three\n");
	EXPECT("{{if eq .Count 1}}one{{else if eq .Count 2}}two{{else}}other{{end}}", "other\n");
	EXPECT("{{with .Nested.Inner}}{{.Deep}}{{end}}", "x\n");
	EXPECT("{{with .Missing}}a{{else}}b{{end}}", "b\n");
	EXPECT("{{with .Missing}}a{{else with .Tag}}{{.}}{{end}}", "latest\n");
	EXPECT("{{with $x := .Tag}}{{$x}}{{.}}{{end}}", "latestlatest\n");
	EXPECT("{{if $x := .Tag}}{{$x}}{{else}}{{$x}}{{end}}", "latest\n");
	EXPECT("{{$x := .Tag}}{{$x}} {{$x = .Count}}{{$x}}", "latest 3\n");
}

static void test_syntax(void **state)
{
	(void)state;
	EXPECT("a  {{- .Tag -}}  b", "alatestb\n");
	EXPECT("a {{- .Tag}} b", "alatest b\n");
	EXPECT("a\n\n{{- .Tag -}}\n\nb", "alatestb\n");
	EXPECT("{{-3}} {{3 -}}  x", "-3 3x\n");
	EXPECT("a{{/* c }} */}}b|a {{- /* c */ -}} b", "ab|ab\n");
	EXPECT("{{\"a\\tb\\x41\\u00e9\\U0001F600\\101\\\\\\\"\"}}", "a\tbA\xc3\xa9\xf0\x9f\x98\x80"
								    "A\\\"\n");
	EXPECT("{{`raw\\n`}}", "raw\\n\n");
	EXPECT("{{'a'}} {{'\\n'}} {{'\xc3\xa9'}} {{'\\''}}", "97 10 233 39\n");
	EXPECT("{{0x1F}} {{-7}} {{1.5}} {{1e3}} {{.5}} {{+2}} {{true}} {{false}}", "31 -7 1.5 1000 0.5 2 true false\n");
	EXPECT("{{ \n .Tag \n }}", "latest\n");
	EXPECT("{{$}}", "map[Count:3 Empty:[] EmptyMap:map[] False:false Float:1.5 HTML:<a&b> "
			"ID:a416a98b71e2f0b8 Labels:map[a:1 b:2] Names:[web db] Nested:map[Inner:map[Deep:x]] "
			"Null:<nil> Ports:[map[Host:80]] Repository:docker.io/library/busybox Size:4500000 "
			"Str:hello world Tag:latest Zero:0]\n");
	EXPECT("{{.Tag}}{{\"}}\"}}", "latest}}\n");
	EXPECT("text with } and { and }}", "text with } and { and }}\n");
}

static const char *headers(const char *field, void *ud)
{
	int *calls = ud;

	(*calls)++;
	if (strcmp(field, "ID") == 0)
		return "IMAGE ID";
	if (strcmp(field, "State.Status") == 0)
		return "STATE";
	return NULL;
}

static void header_is(const char *fmt, const char *want)
{
	struct skiff_err *err = NULL;
	struct template *t = NULL;
	struct strbuf out = STRBUF_INIT;
	int calls = 0;

	if (template_parse(fmt, &t, &err) < 0)
		fail_msg("parse %s: %s", fmt, err->msg);
	template_header(t, headers, &calls, &out);
	if (strcmp(out.buf, want) != 0)
		fail_msg("header %s: got \"%s\", want \"%s\"", fmt, out.buf, want);
	strbuf_release(&out);
	template_free(t);
}

static void default_header_is(const char *field, const char *want)
{
	struct strbuf out = STRBUF_INIT;

	template_default_header(field, &out);
	if (strcmp(out.buf, want) != 0)
		fail_msg("default header %s: got \"%s\", want \"%s\"", field, out.buf, want);
	strbuf_release(&out);
}

static void test_headers(void **state)
{
	struct skiff_err *err = NULL;
	struct template *t = NULL;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	header_is("table {{.ID}}\\t{{.Repository}}\\t{{.CreatedAt}}", "IMAGE ID\tREPOSITORY\tCREATED AT\n");
	header_is("table {{json .}}", "JSON .\n");
	header_is("table {{ .ID | upper }} {{truncate .Repository 4}} {{range .Names}}{{.}}{{end}} "
		  "{{$x := 1}}{{$.Size}} {{printf \"%s\" (lower .Tag)}}",
		  "IMAGE ID\tREPOSITORY\tNAMES\tSIZE\tTAG\n");
	header_is("table {{.State.Status}} {{.State.StartedAt}}", "STATE\tSTARTED AT\n");
	header_is("table {{if .Running}}up{{else}}down{{end}}:{{.}}", "RUNNING:.\n");
	header_is("{{.ID}}", "IMAGE ID\n");

	default_header_is("CreatedAt", "CREATED AT");
	default_header_is("ID", "ID");
	default_header_is("ImageID", "IMAGE ID");
	default_header_is("PDFLoader", "PDF LOADER");
	default_header_is("GL11Version", "GL 11 VERSION");
	default_header_is("MyC", "MY C");
	default_header_is("AString", "A STRING");
	default_header_is("vimRPCPlugin", "VIM RPC PLUGIN");
	default_header_is("99Bottles", "99 BOTTLES");
	default_header_is("BFG9000", "BFG 9000");
	default_header_is("Two  spaces", "TWO    SPACES");
	default_header_is("lowercase", "LOWERCASE");
	default_header_is("", "");
	default_header_is("BadUTF8\xe2\xe2\xa1", "BADUTF8\xe2\xe2\xa1");

	/* no callback: defaults everywhere */
	assert_int_equal(template_parse("table {{.ID}} {{.CreatedAt}}", &t, &err), 0);
	template_header(t, NULL, NULL, &out);
	assert_string_equal(out.buf, "ID\tCREATED AT\n");
	strbuf_release(&out);
	template_free(t);
}

static void render_is(const char *fmt, const char *rows, bool header, const char *want)
{
	struct skiff_err *err = NULL;
	struct template *t = NULL;
	struct strbuf out = STRBUF_INIT;
	struct json *j = parse_json(rows);
	int calls = 0;

	if (template_parse(fmt, &t, &err) < 0)
		fail_msg("parse %s: %s", fmt, err->msg);
	if (template_render(t, j, header, headers, &calls, &out, &err) < 0)
		fail_msg("render %s: %s", fmt, err->msg);
	if (strcmp(out.buf, want) != 0)
		fail_msg("render %s: got \"%s\", want \"%s\"", fmt, out.buf, want);
	strbuf_release(&out);
	template_free(t);
	json_free(j);
}

static void test_render(void **state)
{
	static const char *const images =
		"[{\"Repository\":\"docker.io/library/busybox\",\"Tag\":\"latest\",\"ID\":\"a416a98b71e2\","
		"\"Created\":\"4 months ago\",\"Size\":\"4.5 MB\"},"
		"{\"Repository\":\"localhost/x\",\"Tag\":\"1\",\"ID\":\"0123456789ab\","
		"\"Created\":\"2 days ago\",\"Size\":\"1 kB\"}]";
	static const char *const fmt = "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.Created}}\\t{{.Size}}";
	struct skiff_err *err = NULL;
	struct template *t = NULL;
	struct strbuf out = STRBUF_INIT;
	struct json *j = parse_json("[{\"A\":\"1\"},{\"A\":[]}]");

	(void)state;
	render_is(fmt, images, true,
		  "REPOSITORY                 TAG         IMAGE ID      CREATED       SIZE\n"
		  "docker.io/library/busybox  latest      a416a98b71e2  4 months ago  4.5 MB\n"
		  "localhost/x                1           0123456789ab  2 days ago    1 kB\n");
	render_is(fmt, images, false,
		  "docker.io/library/busybox  latest      a416a98b71e2  4 months ago  4.5 MB\n"
		  "localhost/x                1           0123456789ab  2 days ago    1 kB\n");
	render_is(fmt, "[]", true, "REPOSITORY  TAG         IMAGE ID    CREATED     SIZE\n");
	render_is("table {{.ID}} {{.Tag}}", images, true, "IMAGE ID      TAG\na416a98b71e2  latest\n0123456789ab  1\n");
	render_is("{{.Repository}}:{{.Tag}}", images, true, "docker.io/library/busybox:latest\nlocalhost/x:1\n");
	render_is("{{.Repository}}\\t{{.Tag}}", images, true,
		  "docker.io/library/busybox\tlatest\nlocalhost/x\t1\n"); /* no table: tabs stay */
	render_is("{{.A}}", "{\"A\":\"one row\"}", true, "one row\n");

	/* an error in the second row: nothing is appended */
	assert_int_equal(template_parse("table {{upper .A}}", &t, &err), 0);
	strbuf_addstr(&out, "keep");
	assert_int_equal(template_render(t, j, true, NULL, NULL, &out, &err), -1);
	assert_string_equal(out.buf, "keep");
	assert_non_null(
		strstr(err->msg, "error calling upper: wrong type for value; expected string; got []interface {}"));
	err_free(err);
	template_free(t);
	json_free(j);
	strbuf_release(&out);
}

static void test_parse_errors(void **state)
{
	struct strbuf deep = STRBUF_INIT;

	(void)state;
	parse_fails("{{.ID", "template: 1:1: unclosed action");
	parse_fails("abc {{.ID ", "1:5: unclosed action");
	parse_fails("abc {{.ID}", "1:10: unexpected \"}\" in operand");
	parse_fails("{{.ID}}\n{{foo .X}}", "2:3: function \"foo\" not defined");
	parse_fails("table {{.ID}}\\t{{bad .X}}", "1:18: function \"bad\" not defined");
	parse_fails("{{range .Names}}x", "1:1: unexpected EOF: missing {{end}} for {{range}}");
	parse_fails("{{if .X}}a{{else}}b", "missing {{end}} for {{if}}");
	parse_fails("{{with .X}}a", "missing {{end}} for {{with}}");
	parse_fails("x{{end}}", "1:2: unexpected {{end}}");
	parse_fails("{{else}}", "1:1: unexpected {{else}}");
	parse_fails("{{else if .X}}", "unexpected {{else}}");
	parse_fails("{{if .X}}a{{else}}b{{else}}c{{end}}", "1:20: expected {{end}}; found {{else}}");
	parse_fails("{{range .X}}{{else if .Y}}{{end}}", "unexpected if after {{else}} in {{range}}");
	parse_fails("{{range}}x{{end}}", "missing value for range");
	parse_fails("{{if}}{{end}}", "missing value for if");
	parse_fails("{{range $a, $b, $c := .X}}{{end}}", "expected := after variables in range");
	parse_fails("{{range $i, $e .Names}}{{end}}", "expected := after variables in range");
	parse_fails("{{$a, $b := .X}}", "expected := after variables");
	parse_fails("{{$x}}", "undefined variable \"$x\"");
	parse_fails("{{$x = 1}}", "undefined variable \"$x\"");
	parse_fails("{{if .X}}{{$y := 1}}{{end}}{{$y}}", "undefined variable \"$y\"");
	parse_fails("{{ $ := 1 }}", "cannot declare or assign \"$\"");
	parse_fails("{{\"abc}}", "unterminated quoted string");
	parse_fails("{{\"abc\n\"}}", "unterminated quoted string");
	parse_fails("{{`abc}}", "unterminated raw quoted string");
	parse_fails("{{\"\\q\"}}", "invalid escape in quoted string");
	parse_fails("{{\"\\x4\"}}", "invalid escape");
	parse_fails("{{\"\\ud800\"}}", "invalid escape");
	parse_fails("{{\"\\777\"}}", "invalid escape");
	parse_fails("{{\"\\U00110000\"}}", "invalid escape");
	parse_fails("{{'ab'}}", "malformed character constant");
	parse_fails("{{''}}", "malformed character constant");
	parse_fails("{{12ab}}", "bad number syntax: \"12ab\"");
	parse_fails("{{1.2.3}}", "bad number syntax: \"1.2.3\"");
	parse_fails("{{}}", "1:1: missing value for command");
	parse_fails("{{ }}", "missing value for command");
	parse_fails("{{- -}}", "missing value for command");
	parse_fails("{{.X | }}", "missing command after \"|\"");
	parse_fails("{{| .X}}", "missing value for command");
	parse_fails("{{join .X}}", "1:3: wrong number of args for join: want 2 got 1");
	parse_fails("{{.X | join}}", "wrong number of args for join: want 2 got 1");
	parse_fails("{{printf}}", "wrong number of args for printf: want at least 1 got 0");
	parse_fails("{{upper .A .B}}", "wrong number of args for upper: want 1 got 2");
	parse_fails("{{printf \"%s\" upper}}", "wrong number of args for upper: want 1 got 0");
	parse_fails("{{.A .B}}", "can't give argument to non-function .A");
	parse_fails("{{.A | .B}}", "can't give argument to non-function .B");
	parse_fails("{{\"x\" | 1}}", "can't give argument to non-function 1");
	parse_fails("{{nil}}", "nil is not a command");
	parse_fails("{{define \"x\"}}{{end}}", "{{define}} is not supported");
	parse_fails("{{template \"x\"}}", "{{template}} is not supported");
	parse_fails("{{range .X}}{{break}}{{end}}", "{{break}} is not supported");
	parse_fails("{{.X-}}", "unexpected \"-\" in operand");
	parse_fails("{{.A.}}", "unexpected \".\" in operand");
	parse_fails("{{upper(.X)}}", "unexpected \"(\" in operand");
	parse_fails("{{(upper .X}}", "unclosed left paren");
	parse_fails("{{(upper .X", "unclosed left paren");
	parse_fails("{{upper .X)}}", "unexpected \")\"");
	parse_fails("{{/* abc }}", "unclosed comment");
	parse_fails("{{/* a */ .X}}", "comment ends before closing delimiter");
	parse_fails("{{.X #}}", "unexpected \"#\" in command");
	parse_fails("{{.X \x01}}", "unexpected byte 0x01 in command");
	parse_fails("{{if .X}}{{end x}}", "unexpected \"x\" in {{end}}");
	parse_fails("{{.X}} {{if}}", "1:8: missing value for if");
	parse_fails("{{range .X}}{{if .Y}}{{end}}", "1:1: unexpected EOF: missing {{end}} for {{range}}");

	/* nesting is bounded, and the limit is generous */
	for (int i = 0; i < 99; i++)
		strbuf_addstr(&deep, "{{if .X}}");
	for (int i = 0; i < 99; i++)
		strbuf_addstr(&deep, "{{end}}");
	EXPECT(deep.buf, "\n");
	strbuf_reset(&deep);
	for (int i = 0; i < 150; i++)
		strbuf_addstr(&deep, "{{if .X}}");
	parse_fails(deep.buf, "nesting too deep");
	strbuf_reset(&deep);
	strbuf_addstr(&deep, "{{len ");
	for (int i = 0; i < 5000; i++)
		strbuf_addch(&deep, '(');
	parse_fails(deep.buf, "nesting too deep");
	strbuf_reset(&deep);
	for (int i = 0; i < 200; i++)
		strbuf_addstr(&deep, "{{if .X}}a{{else if .Y}}");
	parse_fails(deep.buf, "nesting too deep");
	strbuf_release(&deep);
}

static void test_exec_errors(void **state)
{
	(void)state;
	exec_fails("{{index .Names 5}}", "template: 1:3: error calling index: index out of range: 5");
	exec_fails("{{index .Names -1}}", "index out of range: -1");
	exec_fails("{{index .Names \"a\"}}", "cannot index slice/array with type string");
	exec_fails("{{index .Labels 1}}", "cannot index map with int");
	exec_fails("{{index .Count 1}}", "can't index item of type int");
	exec_fails("{{upper .Count}}", "error calling upper: wrong type for value; expected string; got int");
	exec_fails("{{upper .Missing}}", "error calling upper: invalid value; expected string");
	exec_fails("{{join .Ports \",\"}}", "expected []string; got element 0 of type map[string]interface {}");
	exec_fails("{{join .Str \",\"}}", "wrong type for value; expected []string; got string");
	exec_fails("{{join .Names 1}}", "expected string; got int");
	exec_fails("{{truncate .Str -1}}", "error calling truncate: negative length -1");
	exec_fails("{{truncate .Str \"x\"}}", "expected int; got string");
	exec_fails("{{truncate .Str 1.5}}", "expected int; got float64");
	exec_fails("{{pad .Str 1000001 0}}", "pad count out of range");
	exec_fails("{{pad .Str 0 -1}}", "pad count out of range");
	exec_fails("{{len .Count}}", "len of type int");
	exec_fails("{{lt .Tag 1}}", "incompatible types for comparison");
	exec_fails("{{lt true false}}", "invalid type for comparison");
	exec_fails("{{lt .Missing 1}}", "invalid type for comparison");
	exec_fails("{{eq .Names .Names}}", "non-comparable type []interface {}");
	exec_fails("{{printf 1}}", "expected string; got int");
	exec_fails("{{.Str.X}}", "template: 1:3: can't evaluate field X in type string");
	exec_fails("{{.Names.X}}", "can't evaluate field X in type []interface {}");
	exec_fails("abc{{index .Names 9}}def", "index out of range: 9");
	exec_fails("{{range .Names}}{{.X}}{{end}}", "can't evaluate field X in type string");
	exec_fails("{{if .Names}}{{upper .}}{{end}}", "got map[string]interface {}");
	exec_fails("{{with .Names}}{{upper .}}{{end}}", "got []interface {}");
	exec_fails("a\n  {{split .Count \",\"}}x",
		   "2:5: error calling split: wrong type for value; expected string; got int");
}

/* Random token soup: every template either parses and runs or fails cleanly. */
static void test_fuzz(void **state)
{
	static const char *const tok[] = {
		"{{",
		"}}",
		"{{- ",
		" -}}",
		".",
		".Names",
		".Labels",
		".Str",
		".Missing",
		"$",
		"$x",
		" := ",
		" = ",
		"|",
		"(",
		")",
		"\"",
		"\"s\"",
		"`",
		"'a'",
		"if ",
		"else ",
		"end",
		"range ",
		"with ",
		"printf ",
		"index ",
		"len ",
		"join ",
		"upper ",
		"and ",
		"eq ",
		"json ",
		"split ",
		" ",
		"\\t",
		"table ",
		"1",
		"-1",
		"%",
		"\"%5d%s\"",
		"*/",
		"/*",
		",",
		"x",
		"\n",
		"\\",
		"\xff",
		"\xc3",
		"0x",
		"{{range .Names}}",
		"{{end}}",
		"{{if .Str}}",
		"{{else}}",
		"{{.}}",
		"{{$x := .Names}}",
	};
	struct json *j = parse_json(DATA);
	unsigned r = 12345;
	int parsed = 0;

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		struct strbuf fmt = STRBUF_INIT, out = STRBUF_INIT;
		struct skiff_err *err = NULL;
		struct template *t = NULL;
		int n = 1 + (int)((r >> 8) % 24);

		for (int k = 0; k < n; k++) {
			r = r * 1103515245u + 12345u;
			strbuf_addstr(&fmt, tok[(r >> 16) % (sizeof(tok) / sizeof(tok[0]))]);
		}
		if (template_parse(fmt.buf, &t, &err) == 0) {
			parsed++;
			if (template_execute(t, j, &out, &err) < 0) {
				assert_non_null(err);
				assert_int_equal(strncmp(err->msg, "template: ", 10), 0);
				assert_int_equal(out.len, 0);
				err_free(err);
			}
			template_header(t, NULL, NULL, &out);
			template_free(t);
		} else {
			assert_null(t);
			assert_non_null(err);
			assert_int_equal(strncmp(err->msg, "template: ", 10), 0);
			err_free(err);
		}
		strbuf_release(&fmt);
		strbuf_release(&out);
	}
	assert_true(parsed > 100);
	json_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),    cmocka_unit_test(test_fields_and_printing),
		cmocka_unit_test(test_json_func),    cmocka_unit_test(test_functions),
		cmocka_unit_test(test_printf),	     cmocka_unit_test(test_range),
		cmocka_unit_test(test_if_with),	     cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_headers),	     cmocka_unit_test(test_render),
		cmocka_unit_test(test_parse_errors), cmocka_unit_test(test_exec_errors),
		cmocka_unit_test(test_fuzz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
