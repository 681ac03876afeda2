#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/toml.h"
#include "vendor-free/xalloc.h"

static struct toml *parse_ok_n(const char *doc, size_t len)
{
	struct skiff_err *err = NULL;
	struct toml *t = NULL;

	if (toml_parse(doc, len, &t, &err) < 0) {
		print_error("unexpected error: %s\n", err->msg);
		err_free(err);
		fail();
	}
	assert_non_null(t);
	assert_null(err);
	return t;
}

static struct toml *parse_ok(const char *doc)
{
	return parse_ok_n(doc, strlen(doc));
}

/* doc (len bytes) must fail with EINVAL, message "line N: ...want..." */
static void expect_err_n(const char *doc, size_t len, size_t line, const char *want)
{
	struct skiff_err *err = NULL;
	struct toml *t = (struct toml *)0x1;
	char prefix[32];

	if (toml_parse(doc, len, &t, &err) == 0) {
		print_error("expected an error containing '%s' for:\n%s\n", want, doc);
		fail();
	}
	assert_ptr_equal(t, (struct toml *)0x1); /* untouched */
	assert_non_null(err);
	assert_int_equal(err->status, EINVAL);
	snprintf(prefix, sizeof(prefix), "line %zu: ", line);
	if (strncmp(err->msg, prefix, strlen(prefix)) != 0 || !strstr(err->msg, want)) {
		print_error("doc:\n%s\nwant '%s...%s', got '%s'\n", doc, prefix, want, err->msg);
		err_free(err);
		fail();
	}
	err_free(err);
}

static void expect_err(const char *doc, size_t line, const char *want)
{
	expect_err_n(doc, strlen(doc), line, want);
}

static void test_empty_and_comments(void **state)
{
	cleanup_toml struct toml *a = parse_ok("");
	cleanup_toml struct toml *b = parse_ok("# only a comment\n\n   \t# another\r\n");
	cleanup_toml struct toml *c = parse_ok("\xef\xbb\xbfkey = 1 # trailing\n");
	cleanup_toml struct toml *d = parse_ok_n(NULL, 0);

	assert_true(toml_is(a, TOML_TABLE));
	assert_int_equal(toml_table_len(a), 0);
	assert_int_equal(toml_table_len(b), 0);
	assert_int_equal(toml_int_or(toml_table_get(c, "key"), 0), 1);
	assert_int_equal(toml_table_len(d), 0);
}

static void test_tables(void **state)
{
	cleanup_toml struct toml *t = parse_ok("top = \"t\"\n"
					       "[storage]\n"
					       "driver = \"overlay\"\n"
					       "[storage.options.overlay]\n"
					       "mount_program = \"/usr/bin/fuse-overlayfs\"\n"
					       "[ storage . options ]\n"
					       "size = \"\"\n"
					       "[\"quoted.name\".'lit' . bare]\n"
					       "x = 1\n"
					       "[a.b.c]\n"
					       "[a]\n"
					       "y = 2\n"
					       "[dotted]\n"
					       "p.q.r = 1\n"
					       "p.q.s = 2\n"
					       "\"k.e.y\" = 3\n"
					       "[dotted.p.q.sub]\n"
					       "z = 4\n");

	assert_string_equal(toml_string(toml_get(t, NULL, "top")), "t");
	assert_string_equal(toml_string(toml_get(t, "storage", "driver")), "overlay");
	assert_string_equal(toml_string(toml_get(t, "storage.options.overlay", "mount_program")),
			    "/usr/bin/fuse-overlayfs");
	assert_string_equal(toml_string(toml_get(t, "storage.options", "size")), "");
	assert_true(toml_is(toml_get(t, "storage.options", NULL), TOML_TABLE));
	assert_int_equal(toml_get(t, "storage.options", NULL)->line, 6);
	assert_null(toml_get(t, "storage.driver", "x")); /* not a table on the way */
	assert_null(toml_get(t, "nope", "x"));
	assert_null(toml_get(t, "storage", "nope"));
	const struct toml *q = toml_table_get(t, "quoted.name");
	assert_int_equal(toml_int_or(toml_table_get(toml_table_get(toml_table_get(q, "lit"), "bare"), "x"), 0), 1);
	assert_int_equal(toml_int_or(toml_get(t, "a", "y"), 0), 2);
	assert_true(toml_is(toml_get(t, "a.b", "c"), TOML_TABLE));
	assert_int_equal(toml_int_or(toml_get(t, "dotted.p.q", "r"), 0), 1);
	assert_int_equal(toml_int_or(toml_get(t, "dotted.p.q", "s"), 0), 2);
	assert_int_equal(toml_int_or(toml_get(t, "dotted", "k.e.y"), 0), 3);
	assert_int_equal(toml_int_or(toml_get(t, "dotted.p.q.sub", "z"), 0), 4);

	/* document order is kept */
	assert_int_equal(toml_table_len(t), 5);
	assert_string_equal(toml_table_key_at(t, 0), "top");
	assert_string_equal(toml_table_key_at(t, 1), "storage");
	assert_string_equal(toml_table_key_at(t, 2), "quoted.name");
	assert_string_equal(toml_table_key_at(t, 3), "a");
	assert_string_equal(toml_table_key_at(t, 4), "dotted");
	assert_null(toml_table_key_at(t, 5));
	assert_null(toml_table_value_at(t, 5));
	assert_true(toml_is(toml_table_value_at(t, 1), TOML_TABLE));
}

static void test_array_of_tables(void **state)
{
	cleanup_toml struct toml *t = parse_ok("[[registry]]\n"
					       "location = \"a.io\"\n"
					       "[[registry.mirror]]\n"
					       "location = \"m1\"\n"
					       "[[registry.mirror]]\n"
					       "location = \"m2\"\n"
					       "[registry.extra]\n"
					       "k = true\n"
					       "[[registry]]\n"
					       "location = \"b.io\"\n"
					       "[[x.y]]\n"
					       "[[x.y]]\n");
	const struct toml *regs = toml_table_get(t, "registry");

	assert_true(toml_is(regs, TOML_ARRAY));
	assert_int_equal(toml_array_len(regs), 2);
	const struct toml *r0 = toml_array_at(regs, 0);
	assert_string_equal(toml_string(toml_table_get(r0, "location")), "a.io");
	const struct toml *m = toml_table_get(r0, "mirror");
	assert_int_equal(toml_array_len(m), 2);
	assert_string_equal(toml_string(toml_get(toml_array_at(m, 1), NULL, "location")), "m2");
	assert_true(toml_bool_or(toml_get(r0, "extra", "k"), false));
	assert_string_equal(toml_string(toml_get(toml_array_at(regs, 1), "", "location")), "b.io");
	assert_null(toml_table_get(toml_array_at(regs, 1), "mirror"));
	assert_null(toml_array_at(regs, 2));
	assert_int_equal(toml_array_len(toml_get(t, "x", "y")), 2);
	/* toml_get does not walk through arrays */
	assert_null(toml_get(t, "registry", "location"));
}

static void test_strings(void **state)
{
	cleanup_toml struct toml *t = parse_ok("basic = \"tab\\there \\\"q\\\" back\\\\slash \\b\\f\\r\\n\"\n"
					       "uni = \"\\u00e9\\u20AC\\U0001F600\"\n"
					       "raw = \"caf\xc3\xa9 \xe2\x82\xac\"\n"
					       "lit = 'C:\\Users\\no\\escapes \"here\"'\n"
					       "empty = \"\"\n"
					       "elit = ''\n"
					       "ml = \"\"\"\nline1\n  line2 \\\n     continued\n\"\"\"\n"
					       "ml2 = \"\"\"one \"two\" \"\"three\"\"\"\"\"\n"
					       "ml3 = \"\"\"\r\nwin\r\n\"\"\"\n"
					       "mll = '''\nraw \\n ''kept'' '''\n"
					       "mll2 = '''x'''''\n"
					       "tab = \"a\tb\"\n");

	assert_string_equal(toml_string(toml_table_get(t, "basic")), "tab\there \"q\" back\\slash \b\f\r\n");
	assert_string_equal(toml_string(toml_table_get(t, "uni")), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	assert_string_equal(toml_string(toml_table_get(t, "raw")), "caf\xc3\xa9 \xe2\x82\xac");
	assert_string_equal(toml_string(toml_table_get(t, "lit")), "C:\\Users\\no\\escapes \"here\"");
	assert_string_equal(toml_string(toml_table_get(t, "empty")), "");
	assert_int_equal(toml_table_get(t, "empty")->u.str.len, 0);
	assert_string_equal(toml_string(toml_table_get(t, "elit")), "");
	assert_string_equal(toml_string(toml_table_get(t, "ml")), "line1\n  line2 continued\n");
	assert_string_equal(toml_string(toml_table_get(t, "ml2")), "one \"two\" \"\"three\"\"");
	assert_string_equal(toml_string(toml_table_get(t, "ml3")), "win\n");
	assert_string_equal(toml_string(toml_table_get(t, "mll")), "raw \\n ''kept'' ");
	assert_string_equal(toml_string(toml_table_get(t, "mll2")), "x''");
	assert_string_equal(toml_string(toml_table_get(t, "tab")), "a\tb");
	assert_int_equal(toml_table_get(t, "uni")->u.str.len, 9);
	/* lines are counted inside multi-line strings */
	assert_int_equal(toml_table_get(t, "ml2")->line, 12);
	assert_int_equal(toml_table_get(t, "tab")->line, 19);
}

static void test_integers(void **state)
{
	cleanup_toml struct toml *t = parse_ok("a = 42\nb = +17\nc = -5\nd = 0\ne = -0\nf = 1_000_000\n"
					       "g = 9223372036854775807\nh = -9223372036854775808\n"
					       "i = 0xDEAD_beef\nj = 0o755\nk = 0b1101\nl = 0x00ff\n"
					       "m = 0x7fffffffffffffff\n");
	static const struct {
		const char *key;
		int64_t v;
	} want[] = {
		{"a", 42},	{"b", 17},	  {"c", -5},	    {"d", 0},	       {"e", 0},
		{"f", 1000000}, {"g", INT64_MAX}, {"h", INT64_MIN}, {"i", 0xdeadbeef}, {"j", 0755},
		{"k", 13},	{"l", 255},	  {"m", INT64_MAX},
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct toml *v = toml_table_get(t, want[i].key);
		assert_true(toml_is(v, TOML_INT));
		assert_true(v->u.i == want[i].v);
	}
}

static void test_floats_bools_dates(void **state)
{
	cleanup_toml struct toml *t = parse_ok("a = 3.14\nb = -0.01\nc = 5e+22\nd = 1e06\ne = -2E-2\n"
					       "f = 6.626e-34\ng = 224_617.445_991\nh = inf\ni = -inf\nj = nan\n"
					       "k = +nan\nl = 0.0\nm = 1e-400\n"
					       "t = true\nu = false\n"
					       "odt = 1979-05-27T07:32:00Z\nodt2 = 1979-05-27T00:32:00.999999-07:00\n"
					       "odt3 = 1979-05-27 07:32:00+05:30\nldt = 1979-05-27t07:32:00\n"
					       "ld = 2024-02-29\nlt = 00:32:00.5\nlt2 = 23:59:60\n");

	assert_true(toml_is(toml_table_get(t, "a"), TOML_FLOAT));
	assert_true(toml_float_or(toml_table_get(t, "a"), 0) == 3.14);
	assert_true(toml_float_or(toml_table_get(t, "b"), 0) == -0.01);
	assert_true(toml_float_or(toml_table_get(t, "c"), 0) == 5e22);
	assert_true(toml_float_or(toml_table_get(t, "d"), 0) == 1e6);
	assert_true(toml_float_or(toml_table_get(t, "e"), 0) == -2e-2);
	assert_true(toml_float_or(toml_table_get(t, "f"), 0) == 6.626e-34);
	assert_true(toml_float_or(toml_table_get(t, "g"), 0) == 224617.445991);
	assert_true(isinf(toml_float_or(toml_table_get(t, "h"), 0)) && toml_float_or(toml_table_get(t, "h"), 0) > 0);
	assert_true(isinf(toml_float_or(toml_table_get(t, "i"), 0)) && toml_float_or(toml_table_get(t, "i"), 0) < 0);
	assert_true(isnan(toml_float_or(toml_table_get(t, "j"), 0)));
	assert_true(isnan(toml_float_or(toml_table_get(t, "k"), 0)));
	assert_true(toml_float_or(toml_table_get(t, "l"), 1) == 0.0);
	assert_true(toml_float_or(toml_table_get(t, "m"), 1) == 0.0); /* underflow is fine */
	assert_true(toml_float_or(toml_table_get(t, "missing"), 2.5) == 2.5);
	assert_true(toml_bool_or(toml_table_get(t, "t"), false));
	assert_false(toml_bool_or(toml_table_get(t, "u"), true));
	assert_true(toml_bool_or(toml_table_get(t, "a"), true)); /* wrong type: default */

	assert_true(toml_is(toml_table_get(t, "odt"), TOML_DATETIME));
	assert_string_equal(toml_string(toml_table_get(t, "odt")), "1979-05-27T07:32:00Z");
	assert_string_equal(toml_string(toml_table_get(t, "odt2")), "1979-05-27T00:32:00.999999-07:00");
	assert_string_equal(toml_string(toml_table_get(t, "odt3")), "1979-05-27 07:32:00+05:30");
	assert_string_equal(toml_string(toml_table_get(t, "ldt")), "1979-05-27t07:32:00");
	assert_string_equal(toml_string(toml_table_get(t, "ld")), "2024-02-29");
	assert_string_equal(toml_string(toml_table_get(t, "lt")), "00:32:00.5");
	assert_true(toml_is(toml_table_get(t, "lt2"), TOML_DATETIME));
}

static void test_arrays(void **state)
{
	cleanup_toml struct toml *t = parse_ok("empty = []\n"
					       "ws = [ ]\n"
					       "nums = [1, 2, 3]\n"
					       "multi = [\n"
					       "  \"a\", # comment\n"
					       "\n"
					       "  'b',\r\n"
					       "]\n"
					       "nested = [[1, 2], [\"x\", [true]], []]\n"
					       "mixed = [1, \"two\", 3.0, {k = \"v\"}, 1979-05-27]\n"
					       "after = 1\n");

	assert_int_equal(toml_array_len(toml_table_get(t, "empty")), 0);
	assert_true(toml_is(toml_table_get(t, "empty"), TOML_ARRAY));
	assert_int_equal(toml_array_len(toml_table_get(t, "ws")), 0);
	assert_int_equal(toml_array_len(toml_table_get(t, "nums")), 3);
	assert_int_equal(toml_int_or(toml_array_at(toml_table_get(t, "nums"), 2), 0), 3);
	const struct toml *m = toml_table_get(t, "multi");
	assert_int_equal(toml_array_len(m), 2);
	assert_string_equal(toml_string(toml_array_at(m, 1)), "b");
	const struct toml *n = toml_table_get(t, "nested");
	assert_int_equal(toml_array_len(n), 3);
	assert_true(toml_bool_or(toml_array_at(toml_array_at(toml_array_at(n, 1), 1), 0), false));
	assert_int_equal(toml_array_len(toml_array_at(n, 2)), 0);
	const struct toml *x = toml_table_get(t, "mixed");
	assert_true(toml_is(toml_array_at(x, 0), TOML_INT));
	assert_true(toml_is(toml_array_at(x, 1), TOML_STRING));
	assert_true(toml_is(toml_array_at(x, 2), TOML_FLOAT));
	assert_string_equal(toml_string(toml_get(toml_array_at(x, 3), NULL, "k")), "v");
	assert_true(toml_is(toml_array_at(x, 4), TOML_DATETIME));
	assert_null(toml_array_at(x, 5));
	assert_null(toml_array_at(toml_table_get(t, "after"), 0));
	assert_int_equal(toml_table_get(t, "after")->line, 11);
}

static void test_inline_tables(void **state)
{
	cleanup_toml struct toml *t = parse_ok("name = { first = \"Tom\", last = \"P\" }\n"
					       "point = {x=1,y=2}\n"
					       "empty = {}\n"
					       "deep = { a.b = 1, a.c = { d = [1, {e = 'f'}] } }\n"
					       "\"quoted key\" = { \"in ner\" = true }\n");

	assert_string_equal(toml_string(toml_get(t, "name", "last")), "P");
	assert_int_equal(toml_int_or(toml_get(t, "point", "y"), 0), 2);
	assert_int_equal(toml_table_len(toml_table_get(t, "empty")), 0);
	assert_int_equal(toml_int_or(toml_get(t, "deep.a", "b"), 0), 1);
	const struct toml *d = toml_get(t, "deep.a.c", "d");
	assert_string_equal(toml_string(toml_get(toml_array_at(d, 1), NULL, "e")), "f");
	assert_true(toml_bool_or(toml_get(toml_table_get(t, "quoted key"), NULL, "in ner"), false));
}

static void test_typed_getters(void **state)
{
	cleanup_toml struct toml *t = parse_ok("s = \"str\"\ni = 7\nb = true\ntab = {}\n"
					       "list = [\"a\", \"b\"]\nbad = [\"a\", 2]\n\"we\\\"ird\" = 1\n");
	struct skiff_err *err = NULL;
	const char *s = "untouched";
	int64_t i = -1;
	bool b = false;
	const struct toml *tab = NULL;
	struct strv sv = STRV_INIT;

	assert_int_equal(toml_get_string(t, "s", &s, &err), 1);
	assert_string_equal(s, "str");
	assert_int_equal(toml_get_int(t, "i", &i, &err), 1);
	assert_int_equal(i, 7);
	assert_int_equal(toml_get_bool(t, "b", &b, &err), 1);
	assert_true(b);
	assert_int_equal(toml_get_table(t, "tab", &tab, &err), 1);
	assert_non_null(tab);
	assert_int_equal(toml_get_strv(t, "list", &sv, &err), 1);
	assert_int_equal(sv.len, 2);
	assert_string_equal(sv.v[1], "b");
	assert_null(err);

	/* absent: 0, output untouched; a NULL table is absent too */
	s = "untouched";
	assert_int_equal(toml_get_string(t, "nope", &s, &err), 0);
	assert_int_equal(toml_get_string(NULL, "s", &s, &err), 0);
	assert_string_equal(s, "untouched");
	assert_null(err);

	/* wrong type: error naming line and key; output untouched */
	assert_int_equal(toml_get_string(t, "i", &s, &err), -1);
	assert_string_equal(s, "untouched");
	assert_int_equal(err->status, EINVAL);
	assert_string_equal(err->msg, "line 2: i: expected string, got integer");
	err_clear(&err);
	assert_int_equal(toml_get_int(t, "s", &i, &err), -1);
	assert_string_equal(err->msg, "line 1: s: expected integer, got string");
	err_clear(&err);
	assert_int_equal(toml_get_bool(t, "we\"ird", &b, &err), -1);
	assert_string_equal(err->msg, "line 7: \"we\\\"ird\": expected boolean, got integer");
	err_clear(&err);
	assert_int_equal(toml_get_table(t, "s", &tab, &err), -1);
	err_clear(&err);
	assert_int_equal(toml_get_strv(t, "bad", &sv, &err), -1);
	assert_string_equal(err->msg, "line 6: bad: item 2: expected string, got integer");
	assert_int_equal(sv.len, 2); /* nothing appended */
	err_clear(&err);
	assert_int_equal(toml_get_strv(t, "s", &sv, &err), -1);
	err_clear(&err);
	strv_release(&sv);

	assert_string_equal(toml_type_name(TOML_DATETIME), "datetime");
	assert_false(toml_is(NULL, TOML_TABLE));
	assert_null(toml_string(NULL));
	assert_null(toml_table_get(NULL, "x"));
	assert_null(toml_get(toml_table_get(t, "s"), NULL, NULL));
	assert_int_equal(toml_table_len(toml_table_get(t, "s")), 0);
}

/* Many keys: the hash index must find each, and catch a late duplicate. */
static void test_many_keys(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	const int n = 5000;

	for (int i = 0; i < n; i++)
		strbuf_addf(&sb, "key%d = %d\n", i, i);
	{
		cleanup_toml struct toml *t = parse_ok(sb.buf);
		assert_int_equal(toml_table_len(t), n);
		for (int i = 0; i < n; i += 7) {
			char k[32];
			snprintf(k, sizeof(k), "key%d", i);
			assert_int_equal(toml_int_or(toml_table_get(t, k), -1), i);
		}
		assert_null(toml_table_get(t, "key5000"));
		assert_null(toml_table_get(t, "key"));
	}
	strbuf_addstr(&sb, "key1234 = 0\n");
	expect_err(sb.buf, (size_t)n + 1, "duplicate key key1234 (first defined at line 1235)");
	strbuf_release(&sb);
}

static void test_bad_syntax(void **state)
{
	static const struct {
		const char *doc;
		size_t line;
		const char *want;
	} cases[] = {
		/* unterminated everything */
		{"a = \"abc", 1, "unterminated string"},
		{"a = \"abc\nb = 1\n", 1, "unterminated string"},
		{"a = 'abc", 1, "unterminated string"},
		{"x = 1\na = \"\"\"abc\n\n", 2, "unterminated multi-line string"},
		{"a = '''abc''", 1, "unterminated multi-line string"},
		{"a = [1, 2", 1, "unterminated array"},
		{"a = [1,\n2,\n", 1, "unterminated array"},
		{"a = {x = 1", 1, "unterminated inline table"},
		{"a = {x = 1\n}", 1, "unterminated inline table"},
		{"[table", 1, "expected ']'"},
		{"[[aot]", 1, "expected ']]'"},
		{"[[aot] ]", 1, "expected ']]'"},
		{"[]", 1, "expected a key"},
		{"a = ", 1, "expected a value, found end of input"},
		{"a =\n1", 1, "expected a value, found end of line"},
		{"a", 1, "expected '=' after key a, found end of input"},
		{"a b = 1", 1, "expected '=' after key a"},
		{"= 1", 1, "expected a key, found '='"},
		{"\"a\nb\" = 1", 1, "unterminated string"},
		{"\"\"\"k\"\"\" = 1", 1, "multi-line string used as a key"},
		/* escapes */
		{"a = \"\\x41\"", 1, "invalid escape sequence in string: \\ followed by 'x'"},
		{"a = \"\\ \"", 1, "invalid escape"},
		{"a = \"\\u12\"", 1, "expected 4 hex digits"},
		{"a = \"\\U0000123\"", 1, "expected 8 hex digits"},
		{"a = \"\\uD800\"", 1, "not a Unicode scalar value"},
		{"a = \"\\U00110000\"", 1, "not a Unicode scalar value"},
		{"a = \"\\u0000\"", 1, "NUL"},
		{"a = \"\"\"\n\\q\"\"\"", 2, "invalid escape"},
		{"a = \"bell\x07\"", 1, "control character U+0007 in string"},
		{"a = '''x\x7f'''", 1, "control character U+007F"},
		{"a = \"\"\"x\"\"\"\"\"\"", 1, "too many quotes"},
		/* values */
		{"a = tru", 1, "invalid value 'tru' (strings must be quoted)"},
		{"a = bare", 1, "strings must be quoted"},
		{"a = True", 1, "strings must be quoted"},
		{"a = 1 2", 1, "expected the end of the line, found '2'"},
		{"a = 1,", 1, "found ','"},
		{"a = 01", 1, "invalid number '01'"},
		{"a = +01", 1, "invalid number"},
		{"a = 1__0", 1, "invalid number"},
		{"a = _1", 1, "strings must be quoted"},
		{"a = 1_", 1, "invalid number"},
		{"a = 0x", 1, "invalid number"},
		{"a = 0xg1", 1, "invalid number"},
		{"a = 0b102", 1, "invalid number"},
		{"a = -0x1", 1, "invalid number"},
		{"a = 0X1", 1, "invalid number"},
		{"a = 1.", 1, "invalid number"},
		{"a = .5", 1, "invalid number"},
		{"a = 1.e5", 1, "invalid number"},
		{"a = 1e", 1, "invalid number"},
		{"a = 00.5", 1, "invalid number"},
		{"a = 1.2.3", 1, "invalid number"},
		{"a = infinity", 1, "strings must be quoted"},
		{"a = 9223372036854775808", 1, "number '9223372036854775808' is out of range"},
		{"a = -9223372036854775809", 1, "out of range"},
		{"a = 99999999999999999999999999", 1, "out of range"},
		{"a = 0x8000000000000000", 1, "out of range"},
		{"a = 0b11111111111111111111111111111111111111111111111111111111111111111", 1, "out of range"},
		{"a = 1e999", 1, "out of range"},
		{"a = 1979-13-01", 1, "invalid date or time '1979-13-01'"},
		{"a = 2023-02-29", 1, "invalid date or time"},
		{"a = 1979-05-27T25:00:00", 1, "invalid date or time"},
		{"a = 1979-05-27T07:32", 1, "invalid date or time"},
		{"a = 07:32:00Zz", 1, "invalid date or time"},
		{"a = 1979-05-27T07:32:00+5:00", 1, "invalid date or time"},
		{"a = [1 2]", 1, "expected ',' or ']' in array, found '2'"},
		{"a = [,]", 1, "expected a value, found ','"},
		{"a = [1,,2]", 1, "expected a value, found ','"},
		{"a = {x = 1,}", 1, "trailing comma in inline table"},
		{"a = {x = 1 y = 2}", 1, "expected ',' or '}' in inline table, found 'y'"},
		{"a = {,}", 1, "expected a key, found ','"},
		{"[a] x = 1", 1, "expected the end of the line"},
		{"a = 1\n\rb = 2", 2, "carriage return"},
		{"a = 1\r", 1, "found U+000D"},
		{"# bell \x07\n", 1, "control character U+0007 in comment"},
		{"a = 1 # \x1b[31m\n", 1, "control character U+001B in comment"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		expect_err(cases[i].doc, cases[i].line, cases[i].want);
}

static void test_redefinitions(void **state)
{
	static const struct {
		const char *doc;
		size_t line;
		const char *want;
	} cases[] = {
		{"a = 1\na = 2", 2, "duplicate key a (first defined at line 1)"},
		{"a = 1\n\"a\" = 2", 2, "duplicate key a"},
		{"a = 1\n'a' = 2", 2, "duplicate key a"},
		{"[t]\nk.\"x y\" = 1\nk.'x y' = 2", 3, "duplicate key k.\"x y\""},
		{"[a]\n[a]", 2, "table [a] defined twice (first at line 1)"},
		{"[a.b]\n[a]\n[a.b]", 3, "table [a.b] defined twice"},
		{"[a]\nb = 1\n[a.b]", 3, "table [a.b]: already defined as an integer (line 2)"},
		{"a = 1\n[a.b]", 2, "table [a.b]: a is already an integer (line 1)"},
		{"a = [1]\n[a.b]", 2, "a is already an array"},
		{"a = [1]\n[[a]]", 2, "array of tables [[a]]: already defined as a static array (line 1)"},
		{"a = {}\n[[a]]", 2, "already defined as a table"},
		{"[a]\n[[a]]", 2, "array of tables [[a]]: already defined as a table"},
		{"[[a]]\n[a]", 2, "table [a]: already defined as an array (line 1)"},
		{"a = {x = 1}\n[a]", 2, "table [a]: already defined as an inline table"},
		{"a = {x = 1}\n[a.y]", 2, "a is an inline table (line 1) and cannot be extended"},
		{"a = {x = 1}\na.y = 2", 2, "key a.y: table a (line 1) cannot be extended with dotted keys"},
		{"a = {x = {y = 1}, x.z = 2}", 1, "table x (line 1) cannot be extended"},
		{"a = {b = 1, b = 2}", 1, "duplicate key b"},
		{"a.b = 1\n[a]", 2, "table [a]: already defined by dotted keys (line 1)"},
		{"[x]\na.b = 1\n[x.a]", 3, "table [x.a]: already defined by dotted keys"},
		{"[a.b.c]\n[a]\nb.d = 1", 3, "key b.d: table b (line 1) cannot be extended with dotted keys"},
		{"[a]\nb.c = 1\n[a.d]\n[a.b.c]", 4, "table [a.b.c]: already defined as an integer"},
		{"a = 1\na.b = 2", 2, "key a.b: a is already an integer (line 1)"},
		{"a.b = 1\na.b.c = 2", 2, "key a.b.c: a.b is already an integer"},
		{"[[a]]\nb = 1\n[a.b]", 3, "already defined as an integer"},
		{"[\"a.b\"]\n[a.b]\n[\"a.b\"]", 3, "table [\"a.b\"] defined twice"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		expect_err(cases[i].doc, cases[i].line, cases[i].want);

	/* ... and what is allowed */
	cleanup_toml struct toml *t = parse_ok("[a.b.c]\n[a]\n[a.b]\nx = 1\n"
					       "[d]\ne.f = 1\n[d.e.g]\n"
					       "[[h]]\n[h.i]\n[[h]]\n[h.i]\n");
	assert_int_equal(toml_int_or(toml_get(t, "a.b", "x"), 0), 1);
	assert_true(toml_is(toml_get(t, "d.e", "g"), TOML_TABLE));
	assert_int_equal(toml_array_len(toml_table_get(t, "h")), 2);
}

static void test_encoding(void **state)
{
	expect_err_n("a = 1\n\0b = 2", 13, 2, "NUL byte");
	expect_err_n("a = \"x\0y\"", 9, 1, "NUL byte");
	expect_err("a = 1\nb = \"\xff\"", 2, "invalid UTF-8 (byte 0xff)");
	expect_err("# \xc3\n", 1, "invalid UTF-8");		    /* truncated */
	expect_err("a = \"\xc0\xaf\"", 1, "invalid UTF-8");	    /* overlong '/' */
	expect_err("a = \"\xe0\x80\xaf\"", 1, "invalid UTF-8");	    /* overlong, 3 bytes */
	expect_err("a = \"\xed\xa0\x80\"", 1, "invalid UTF-8");	    /* encoded surrogate */
	expect_err("a = \"\xf4\x90\x80\x80\"", 1, "invalid UTF-8"); /* > U+10FFFF */
	expect_err("\n\n\xe2\x82", 3, "invalid UTF-8");		    /* cut at the end */
	expect_err("\xe2\x82\xac = 1", 1, "expected a key, found '\xe2\x82\xac'");
	/* valid UTF-8 in comments, strings and quoted keys is fine */
	cleanup_toml struct toml *t = parse_ok("# \xe2\x82\xac\n\"\xc3\xa9\" = '\xf0\x9f\x98\x80'\n");
	assert_string_equal(toml_string(toml_table_get(t, "\xc3\xa9")), "\xf0\x9f\x98\x80");
}

static void test_depth(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	/* arrays: 100000 '[' must not blow the stack */
	strbuf_addstr(&sb, "a = ");
	strbuf_addchars(&sb, '[', 100000);
	expect_err(sb.buf, 1, "nesting deeper than");
	strbuf_reset(&sb);

	strbuf_addstr(&sb, "a = ");
	for (int i = 0; i < 100000; i++)
		strbuf_addstr(&sb, "{b = ");
	expect_err(sb.buf, 1, "nesting deeper than");
	strbuf_reset(&sb);

	strbuf_addstr(&sb, "[a");
	for (int i = 0; i < 100000; i++)
		strbuf_addstr(&sb, ".a");
	strbuf_addstr(&sb, "]\n");
	expect_err(sb.buf, 1, "key has more than");
	strbuf_reset(&sb);

	/* dotted keys inside nested inline tables add up */
	strbuf_addstr(&sb, "x = ");
	for (int i = 0; i < 100; i++)
		strbuf_addstr(&sb, "{a.b.c = ");
	expect_err(sb.buf, 1, "nesting deeper than");
	strbuf_reset(&sb);

	/* headers: depth accumulates through a deep header and deep dotted keys */
	strbuf_addstr(&sb, "[a");
	for (int i = 0; i < 100; i++)
		strbuf_addstr(&sb, ".a");
	strbuf_addstr(&sb, "]\nb");
	for (int i = 0; i < 100; i++)
		strbuf_addstr(&sb, ".b");
	strbuf_addstr(&sb, " = 1\n");
	expect_err(sb.buf, 2, "nesting deeper than");
	strbuf_reset(&sb);

	/* just under the limit is fine */
	strbuf_addstr(&sb, "a = ");
	strbuf_addchars(&sb, '[', TOML_MAX_DEPTH - 1);
	strbuf_addchars(&sb, ']', TOML_MAX_DEPTH - 1);
	{
		cleanup_toml struct toml *t = parse_ok(sb.buf);
		assert_true(toml_is(toml_table_get(t, "a"), TOML_ARRAY));
	}
	strbuf_release(&sb);
}

static void test_parse_file(void **state)
{
	char dir[] = "/tmp/test_toml.XXXXXX";
	struct skiff_err *err = NULL;
	struct toml *t = NULL;

	assert_non_null(mkdtemp(dir));
	cleanup_free char *good = xasprintf("%s/good.toml", dir);
	cleanup_free char *bad = xasprintf("%s/bad.toml", dir);
	cleanup_free char *missing = xasprintf("%s/missing.toml", dir);
	FILE *f = fopen(good, "we");
	assert_non_null(f);
	fputs("[storage]\ndriver = \"vfs\"\n", f);
	assert_int_equal(fclose(f), 0);
	f = fopen(bad, "we");
	assert_non_null(f);
	fputs("[storage]\ndriver = vfs\n", f);
	assert_int_equal(fclose(f), 0);

	assert_int_equal(toml_parse_file(good, &t, &err), 0);
	assert_string_equal(toml_string(toml_get(t, "storage", "driver")), "vfs");
	toml_free(t);
	t = NULL;

	assert_int_equal(toml_parse_file(bad, &t, &err), -1);
	assert_null(t);
	assert_int_equal(err->status, EINVAL);
	cleanup_free char *want = xasprintf("%s: line 2: invalid value 'vfs' (strings must be quoted)", bad);
	assert_string_equal(err->msg, want);
	err_clear(&err);

	assert_int_equal(toml_parse_file(missing, &t, &err), -1);
	assert_int_equal(err->status, ENOENT);
	assert_non_null(strstr(err->msg, missing));
	err_clear(&err);

	assert_int_equal(toml_parse_file(dir, &t, &err), -1);
	assert_int_equal(err->status, EISDIR);
	assert_non_null(strstr(err->msg, dir));
	err_clear(&err);

	/* /dev/null reads as an empty document */
	assert_int_equal(toml_parse_file("/dev/null", &t, &err), 0);
	assert_int_equal(toml_table_len(t), 0);
	toml_free(t);

	assert_int_equal(unlink(good), 0);
	assert_int_equal(unlink(bad), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_comments),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_array_of_tables),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_floats_bools_dates),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_inline_tables),
		cmocka_unit_test(test_typed_getters),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_bad_syntax),
		cmocka_unit_test(test_redefinitions),
		cmocka_unit_test(test_encoding),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_parse_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
