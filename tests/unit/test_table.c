#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pkg/cli/table.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

/* Align text with podman's settings and compare. */
static void check(const char *in, const char *want)
{
	struct strbuf out = STRBUF_INIT;

	tabwrite(in, strlen(in), &out);
	assert_string_equal(out.buf, want);
	strbuf_release(&out);
}

static void test_podman_images(void **state)
{
	(void)state;
	/* podman images: REPOSITORY is 25 wide + 2 padding; TAG is below the minimum 12;
	 * IMAGE ID and CREATED are 12 + 2; SIZE is the last cell and is not padded. */
	check("REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n"
	      "docker.io/library/busybox\tlatest\ta416a98b71e2\t4 months ago\t4.5 MB\n",
	      "REPOSITORY                 TAG         IMAGE ID      CREATED       SIZE\n"
	      "docker.io/library/busybox  latest      a416a98b71e2  4 months ago  4.5 MB\n");
}

static void test_minwidth_and_last_cell(void **state)
{
	(void)state;
	check("a\tb\n", "a           b\n");
	/* the last cell is never padded, however long */
	check("a\tbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\nc\td\n",
	      "a           bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\nc           d\n");
	/* exactly minwidth - padding fits; one more widens the column */
	check("0123456789\tx\n", "0123456789  x\n");
	check("0123456789A\tx\n", "0123456789A  x\n");
	/* a line ending with a tab: the empty last cell */
	check("a\t\n", "a           \n");
}

static void test_blocks(void **state)
{
	(void)state;
	/* a line without a tab ends the column block */
	check("aaaaaaaaaaaaaaaaaaaa\tb\nc\nd\te\n", "aaaaaaaaaaaaaaaaaaaa  b\nc\nd           e\n");
	/* column 1 is split by a line that has column 0 only */
	check("a\tb\tc\n"
	      "a\tXXXXXXXXXXXXXXXXXXXX\n"
	      "a\tbbbbbbbbbbbbbbbbbbbb\tc\n",
	      "a           b           c\n"
	      "a           XXXXXXXXXXXXXXXXXXXX\n"
	      "a           bbbbbbbbbbbbbbbbbbbb  c\n");
	/* empty cells still take the column width */
	check("\t\tx\nlonglonglonglong\t\ty\n", "                              x\n" /* 18 + 12 */
						"longlonglonglong              y\n");
	/* a form feed ends every block and is written as a newline */
	check("aaaaaaaaaaaaaaaaaaaa\tb\fc\td\n", "aaaaaaaaaaaaaaaaaaaa  b\nc           d\n");
	/* '\v' ends a cell like '\t' */
	check("a\vb\n", "a           b\n");
}

static void test_unterminated(void **state)
{
	(void)state;
	check("", "");
	check("abc", "abc");
	check("a\tb", "a           b");
	/* tabwriter's Flush: a trailing empty cell is dropped, so "b" is the last cell */
	check("a\tb\t", "a           b");
	check("x\ny\tz", "x\ny           z");
	check("\n\n", "\n\n");
}

static void test_utf8_width(void **state)
{
	(void)state;
	/* widths count characters, not bytes */
	check("h\xc3\xa9llo\tx\nab\ty\n", "h\xc3\xa9llo       x\nab          y\n");
	check("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
	      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\tx\n",
	      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
	      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5  x\n");
	/* invalid bytes count one each and are passed through */
	check("\xc3\tx\n", "\xc3           x\n");

	assert_int_equal(text_width("", 0), 0);
	assert_int_equal(text_width("abc", 3), 3);
	assert_int_equal(text_width("\xf0\x9f\x98\x80!", 5), 2);   /* U+1F600 */
	assert_int_equal(text_width("\xe2\x82", 2), 2);		   /* truncated */
	assert_int_equal(text_utf8_len("\xc0\x80", 2), 0);	   /* overlong */
	assert_int_equal(text_utf8_len("\xe0\x80\x80", 3), 0);	   /* overlong */
	assert_int_equal(text_utf8_len("\xed\xa0\x80", 3), 0);	   /* surrogate */
	assert_int_equal(text_utf8_len("\xf4\x90\x80\x80", 4), 0); /* > U+10FFFF */
	assert_int_equal(text_utf8_len("\xf4\x8f\xbf\xbf", 4), 4); /* U+10FFFF */
	assert_int_equal(text_utf8_len("\xff", 1), 0);
	assert_int_equal(text_utf8_len("\x80", 1), 0);
	assert_int_equal(text_utf8_len("\xc3\xa9", 1), 0); /* cut by len */
	assert_int_equal(text_utf8_len("", 0), 0);
}

static void test_escape(void **state)
{
	(void)state;
	/* 0xff brackets opaque text: its tab is no separator; the 0xff bytes go */
	check("\xff"
	      "a\tb\xff\tc\n",
	      "a\tb         c\n");
	/* an unterminated escape runs to the end */
	check("\xff"
	      "a\tb\nc",
	      "a\tb\nc");
}

static void test_opts(void **state)
{
	struct strbuf out = STRBUF_INIT;

	(void)state;
	tabwrite_opts("a\tbb\tc\nddd\te\tf\n", 15, 0, 1, &out);
	assert_string_equal(out.buf, "a   bb c\nddd e  f\n");
	strbuf_release(&out);
}

static void test_hostile(void **state)
{
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;

	(void)state;
	/* 200000 columns on one line and a staircase of lines: no recursion, no overflow */
	strbuf_addchars(&in, '\t', 200000);
	strbuf_addstr(&in, "end\n");
	for (int i = 0; i < 2000; i++) {
		strbuf_addchars(&in, '\t', (size_t)(i % 50));
		strbuf_addstr(&in, "x\n");
	}
	tabwrite(in.buf, in.len, &out);
	assert_true(out.len > 200000 * 12);
	assert_memory_equal(out.buf + 200000 * 12, "end\n", 4);
	strbuf_release(&in);
	strbuf_release(&out);

	/* arbitrary bytes: no crash, every content byte comes through exactly once */
	for (unsigned seed = 1; seed < 300; seed++) {
		char buf[64];
		size_t n = 0, kept = 0, got = 0;
		unsigned r = seed;
		for (; n < sizeof(buf); n++) {
			r = r * 1103515245u + 12345u;
			buf[n] = "a\t\n\f\v\xff\xc3\xa9 "[(r >> 16) % 9];
			if (strchr("a\xc3\xa9", buf[n]))
				kept++;
		}
		tabwrite(buf, n, &out);
		for (size_t k = 0; k < out.len; k++)
			if (strchr("a\xc3\xa9", out.buf[k]) && out.buf[k])
				got++;
		assert_int_equal(got, kept);
		strbuf_release(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_podman_images), cmocka_unit_test(test_minwidth_and_last_cell),
		cmocka_unit_test(test_blocks),	      cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_utf8_width),    cmocka_unit_test(test_escape),
		cmocka_unit_test(test_opts),	      cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
