/* Unit tests for pkg/dockerfile's .dockerignore matcher: moby/patternmatcher's rules. */
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

static struct df_ignore *ig_ok(const char *text)
{
	struct df_ignore *ig = NULL;
	struct skiff_err *err = NULL;
	if (df_ignore_parse(text, strlen(text), &ig, &err) < 0) {
		fail_msg("parse '%s': %s", text, err->msg);
		err_free(err);
	}
	return ig;
}

static void ig_fails(const char *text, size_t len, const char *want)
{
	struct df_ignore *ig = NULL;
	struct skiff_err *err = NULL;
	if (df_ignore_parse(text, len, &ig, &err) == 0) {
		df_ignore_free(ig);
		fail_msg("parse '%s' succeeded, want '%s'", text, want);
	}
	assert_null(ig);
	if (!strstr(err->msg, want))
		fail_msg("parse '%s': error '%s', want '%s'", text, err->msg, want);
	err_free(err);
}

/* patterns (newline-separated), a path, whether it is excluded */
static const struct {
	const char *patterns, *path;
	bool excluded;
} table[] = {
	{"*.go", "a.go", true},
	{"*.go", "dir/a.go", false},
	{"*.go", "a.goo", false},
	{"**/*.go", "a.go", true},
	{"**/*.go", "dir/a.go", true},
	{"**/*.go", "a/b/c.go", true},
	{"dir", "dir", true},
	{"dir", "dir/x", true},
	{"dir", "dir/x/y", true},
	{"dir", "dirx", false},
	{"dir", "x/dir", false},
	{"dir/", "dir/x", true},
	{"/dir", "dir/x", true},
	{"./dir", "dir", true},
	{"dir/**", "dir/x", true},
	{"dir/**", "dir/x/y", true},
	{"dir/**", "dir", false},
	{"dir/*", "dir/x", true},
	{"dir/*", "dir/x/y", true}, /* its parent dir/x matches */
	{"a?c", "abc", true},
	{"a?c", "a/c", false},
	{"[a-c]x", "bx", true},
	{"[a-c]x", "dx", false},
	{"[^a]x", "bx", true},
	{"[^a]x", "ax", false},
	{"[\\]]", "]", true},
	{"\\*x", "*x", true},
	{"\\*x", "ax", false},
	{"*.md\n!README.md", "a.md", true},
	{"*.md\n!README.md", "README.md", false},
	{"!a\na", "a", true},
	{"a\n!a", "a", false},
	{"dir\n!dir/keep", "dir/keep", false},
	{"dir\n!dir/keep", "dir/keep/deeper", false},
	{"dir\n!dir/keep", "dir/other", true},
	{"dir\n!dir/keep\ndir/keep/no", "dir/keep/no", true},
	{"**", "anything/at/all", true},
	{"a/**/b", "a/b", true},
	{"a/**/b", "a/x/b", true},
	{"a/**/b", "a/x/y/b", true},
	{"a/**/b", "a/xb", false},
	{"**/foo", "foo", true},
	{"**/foo", "x/y/foo", true},
	{"**/foo", "xfoo", false},
	{"**foo", "xfoo", true},
	{"**foo", "a/xfoo", true},
	{"# comment\n", "# comment", false},
	{" #x", "#x", true}, /* only a line starting with # is a comment */
	{"a/../b", "b", true},
	{"a//b/./c/", "a/b/c", true},
	{"  spaced  \r", "spaced", true},
	{"!  spaced\nspaced\n!spaced", "spaced", false},
	{"\n\n\n", "x", false},
	{"*", "x/y", true},
	{"*/*.txt", "a/b.txt", true},
	{"*/*.txt", "b.txt", false},
	{".git", ".git/objects/x", true},
	{"Dockerfile\n.dockerignore", ".dockerignore", true},
	{"a*", "abc/d", true},
	{"*a*b*c*", "xaybzc", true},
	{"*a*b*c*", "xaybz/c", false},
};

static void test_ignore_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct df_ignore *ig = ig_ok(table[i].patterns);
		bool got = df_ignore_excluded(ig, table[i].path);
		if (got != table[i].excluded)
			fail_msg("patterns '%s': '%s' excluded=%d, want %d", table[i].patterns, table[i].path, got,
				 table[i].excluded);
		df_ignore_free(ig);
	}
}

static void test_ignore_reinclude_and_errors(void **state)
{
	(void)state;
	struct df_ignore *ig = ig_ok("dir\n!dir/keep\n");
	assert_true(df_ignore_may_reinclude(ig, "dir"));
	assert_false(df_ignore_may_reinclude(ig, "other"));
	assert_false(df_ignore_may_reinclude(ig, "dirx"));
	assert_true(df_ignore_may_reinclude(ig, "dir/keep"));
	df_ignore_free(ig);
	ig = ig_ok("*\n!**/keep\n");
	assert_true(df_ignore_may_reinclude(ig, "any/dir"));
	df_ignore_free(ig);
	ig = ig_ok("dir\n");
	assert_false(df_ignore_may_reinclude(ig, "dir"));
	df_ignore_free(ig);
	ig = ig_ok("");
	assert_false(df_ignore_excluded(ig, "x"));
	df_ignore_free(ig);
	ig = ig_ok("\xef\xbb\xbf"
		   "a\n");
	assert_true(df_ignore_excluded(ig, "a"));
	df_ignore_free(ig);

	ig_fails("a\n!\n", 4, ".dockerignore:2: illegal exclusion pattern: \"!\"");
	ig_fails("[abc\n", 5, ".dockerignore:1: syntax error in pattern \"[abc\"");
	ig_fails("ok\na\\", 5, ".dockerignore:2: syntax error in pattern \"a\\\": trailing \\");
	ig_fails("[]\n", 3, "bad character class");
	ig_fails("[z-a]\n", 6, "bad range");
	ig_fails("a\0b\n", 4, ".dockerignore:1: NUL byte");
}

static void test_ignore_hostile(void **state)
{
	(void)state;
	/* many stars against a long path: the automaton is linear in the path */
	struct strbuf pat = STRBUF_INIT, path = STRBUF_INIT;
	for (int i = 0; i < 2000; i++)
		strbuf_addstr(&pat, "*a");
	strbuf_addch(&pat, 'b');
	for (int i = 0; i < 5000; i++)
		strbuf_addch(&path, 'a');
	struct df_ignore *ig = ig_ok(pat.buf);
	assert_false(df_ignore_excluded(ig, path.buf));
	df_ignore_free(ig);
	strbuf_reset(&pat);
	for (int i = 0; i < 3000; i++)
		strbuf_addstr(&pat, "**/");
	strbuf_addstr(&pat, "x");
	ig = ig_ok(pat.buf);
	strbuf_reset(&path);
	for (int i = 0; i < 2000; i++)
		strbuf_addstr(&path, "d/");
	strbuf_addstr(&path, "x");
	assert_true(df_ignore_excluded(ig, path.buf));
	df_ignore_free(ig);
	strbuf_release(&pat);
	strbuf_release(&path);

	/* random patterns and paths: an error or an answer, never a crash */
	uint32_t seed = 4242;
	static const char alphabet[] = "*?[]^-\\/!.#ab \n\r";
	for (int round = 0; round < 5000; round++) {
		char p[48], f[24];
		size_t pl = round % 47, fl = round % 23;
		for (size_t i = 0; i < pl; i++) {
			seed = seed * 1103515245 + 12345;
			p[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		for (size_t i = 0; i < fl; i++) {
			seed = seed * 1103515245 + 12345;
			f[i] = "ab/.x"[(seed >> 16) % 5];
		}
		f[fl] = 0;
		struct skiff_err *err = NULL;
		ig = NULL;
		if (df_ignore_parse(p, pl, &ig, &err) < 0) {
			assert_non_null(strstr(err->msg, ".dockerignore:"));
			err_free(err);
			continue;
		}
		(void)df_ignore_excluded(ig, f);
		(void)df_ignore_may_reinclude(ig, f);
		df_ignore_free(ig);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ignore_table),
		cmocka_unit_test(test_ignore_reinclude_and_errors),
		cmocka_unit_test(test_ignore_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
