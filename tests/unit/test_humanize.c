/* Unit tests for vendor-free/humanize: values from go-units' own tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <locale.h>
#include <string.h>

#include "vendor-free/humanize.h"

#define KiB 1024LL
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define TiB (1024 * GiB)
#define PiB (1024 * TiB)

static void check_size(uint64_t bytes, const char *want)
{
	char buf[HUMAN_BUF_SIZE];
	human_size(bytes, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fail_msg("human_size(%llu) = '%s', want '%s'", (unsigned long long)bytes, buf, want);
}

static void check_prec(double size, int prec, bool space, const char *want)
{
	char buf[HUMAN_BUF_SIZE];
	human_size_precision(size, prec, space, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fail_msg("human_size_precision(%.17g, %d) = '%s', want '%s'", size, prec, buf, want);
}

static void test_human_size(void **state)
{
	(void)state;
	check_size(0, "0 B");
	check_size(1, "1 B");
	check_size(999, "999 B");
	check_size(1000, "1 kB");
	check_size(1024, "1.024 kB");
	check_size(1240, "1.24 kB");
	check_size(1000000, "1 MB");
	check_size(1048576, "1.049 MB");
	check_size(2000000, "2 MB");
	check_size(4500000, "4.5 MB");
	check_size(3420000000ULL, "3.42 GB");
	check_size(5372000000000ULL, "5.372 TB");
	check_size(2220000000000000ULL, "2.22 PB");
	check_size(1000000000, "1 GB");
	check_size(999999, "1000 kB"); /* %.4g of 999.999 */
	check_size(UINT64_MAX, "18.45 EB");
}

/* go-units TestHumanSize, current format (no space, 4 digits) */
static void test_go_units_humansize(void **state)
{
	(void)state;
	check_prec(1000, 4, false, "1kB");
	check_prec(1024, 4, false, "1.024kB");
	check_prec(1000000, 4, false, "1MB");
	check_prec(1048576, 4, false, "1.049MB");
	check_prec(2e6, 4, false, "2MB");
	check_prec(3.42e9, 4, false, "3.42GB");
	check_prec(5.372e12, 4, false, "5.372TB");
	check_prec(2.22e15, 4, false, "2.22PB");
	check_prec(10000000000000.0 * 1e15, 4, false, "1e+04YB");
	/* podman: precision 3 */
	check_prec(72800000, 3, true, "72.8 MB");
	check_prec(5882000, 3, true, "5.88 MB");
	check_prec(999600, 3, false, "1e+03kB");
	check_prec(0, 3, true, "0 B");
	check_prec(12, 0, false, "1e+01B"); /* Go's %.0g is %.1g */
	check_prec(-5, 3, false, "-5B");
}

static void check_dur(int64_t s, const char *want)
{
	char buf[HUMAN_BUF_SIZE];
	human_duration(s, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fail_msg("human_duration(%lld) = '%s', want '%s'", (long long)s, buf, want);
}

static void test_human_duration(void **state)
{
	const int64_t min = 60, hour = 3600, day = 24 * hour, week = 7 * day, month = 30 * day, year = 365 * day;
	(void)state;
	/* go-units TestHumanDuration */
	check_dur(0, "Less than a second");
	check_dur(-5, "Less than a second");
	check_dur(1, "1 second");
	check_dur(45, "45 seconds");
	check_dur(46, "46 seconds");
	check_dur(59, "59 seconds");
	check_dur(60, "About a minute");
	check_dur(119, "About a minute");
	check_dur(3 * min, "3 minutes");
	check_dur(35 * min, "35 minutes");
	check_dur(35 * min + 40, "35 minutes");
	check_dur(45 * min, "45 minutes");
	check_dur(45 * min + 40, "45 minutes");
	check_dur(46 * min, "46 minutes");
	check_dur(59 * min, "59 minutes");
	check_dur(hour, "About an hour");
	check_dur(hour + 29 * min, "About an hour");
	check_dur(hour + 31 * min, "2 hours");
	check_dur(hour + 59 * min, "2 hours");
	check_dur(3 * hour, "3 hours");
	check_dur(3 * hour + 29 * min, "3 hours");
	check_dur(3 * hour + 31 * min, "4 hours");
	check_dur(3 * hour + 59 * min, "4 hours");
	check_dur(3 * hour + 60 * min, "4 hours");
	check_dur(24 * hour, "24 hours");
	check_dur(day + 12 * hour, "36 hours");
	check_dur(2 * day, "2 days");
	check_dur(7 * day, "7 days");
	check_dur(13 * day + 5 * hour, "13 days");
	check_dur(2 * week, "2 weeks");
	check_dur(2 * week + 4 * day, "2 weeks");
	check_dur(3 * week, "3 weeks");
	check_dur(4 * week, "4 weeks");
	check_dur(4 * week + 3 * day, "4 weeks");
	check_dur(month, "4 weeks");
	check_dur(month + 2 * week, "6 weeks");
	check_dur(2 * month, "2 months");
	check_dur(2 * month + 2 * week, "2 months");
	check_dur(3 * month, "3 months");
	check_dur(3 * month + week, "3 months");
	check_dur(5 * month + 2 * week, "5 months");
	check_dur(13 * month, "13 months");
	check_dur(23 * month, "23 months");
	check_dur(24 * month, "24 months");
	check_dur(2 * year, "2 years");
	check_dur(3 * year + 2 * month, "3 years");
	check_dur(INT64_MAX, "292471208677 years");
}

static void test_human_duration_ago(void **state)
{
	char buf[HUMAN_BUF_SIZE];
	char tiny[8];
	(void)state;
	human_duration_ago(3 * 3600, buf, sizeof(buf));
	assert_string_equal(buf, "3 hours ago");
	human_duration_ago(0, buf, sizeof(buf));
	assert_string_equal(buf, "Less than a second ago");
	human_duration_ago(90000, tiny, sizeof(tiny)); /* truncated, NUL-terminated */
	assert_string_equal(tiny, "25 hour");
	human_size(1048576, tiny, sizeof(tiny));
	assert_string_equal(tiny, "1.049 M");
	human_size(1, NULL, 0); /* no crash */
}

static void ok_size(const char *s, int64_t want)
{
	struct skiff_err *err = NULL;
	int64_t v = -12345;
	if (parse_size(s, &v, &err) < 0)
		fail_msg("parse_size('%s'): %s", s, err->msg);
	if (v != want)
		fail_msg("parse_size('%s') = %lld, want %lld", s, (long long)v, (long long)want);
}

static void bad_size(const char *s, int status, const char *mention)
{
	struct skiff_err *err = NULL;
	int64_t v = -12345;
	if (parse_size(s, &v, &err) == 0)
		fail_msg("parse_size('%s') succeeded with %lld", s, (long long)v);
	assert_non_null(err);
	assert_int_equal(v, -12345); /* untouched */
	if (err->status != status)
		fail_msg("parse_size('%s'): status %d, want %d (%s)", s, err->status, status, err->msg);
	if (!strstr(err->msg, mention))
		fail_msg("parse_size('%s'): '%s' does not mention '%s'", s, err->msg, mention);
	err_free(err);
}

static void test_parse_size(void **state)
{
	(void)state;
	/* go-units TestRAMInBytes */
	ok_size("32", 32);
	ok_size("32b", 32);
	ok_size("32B", 32);
	ok_size("32k", 32 * KiB);
	ok_size("32K", 32 * KiB);
	ok_size("32kb", 32 * KiB);
	ok_size("32Kb", 32 * KiB);
	ok_size("32Kib", 32 * KiB);
	ok_size("32KIB", 32 * KiB);
	ok_size("32Mb", 32 * MiB);
	ok_size("32Gb", 32 * GiB);
	ok_size("32Tb", 32 * TiB);
	ok_size("32Pb", 32 * PiB);
	ok_size("32PB", 32 * PiB);
	ok_size("32P", 32 * PiB);
	ok_size("32.3", 32);
	ok_size("32.3 mb", (int64_t)(32.3 * MiB));
	ok_size("0.3MB", (int64_t)(0.3 * MiB));
	/* the brief's examples and go-units parseSize corner cases */
	ok_size("512m", 512 * MiB);
	ok_size("1g", GiB);
	ok_size("100k", 100 * KiB);
	ok_size("1024", 1024);
	ok_size("1.5g", 1610612736);
	ok_size("0", 0);
	ok_size("0 B", 0);
	ok_size("0 ", 0);
	ok_size("-0", 0);
	ok_size("-0 B", 0);
	ok_size("32.", 32);
	ok_size("32. b", 32);
	ok_size(".3k", 307);
	ok_size("1e3", 1000);
	ok_size("7p", 7 * PiB);
	ok_size("7.99999p", (int64_t)(7.99999 * PiB));

	bad_size("", EINVAL, "''");
	bad_size("hello", EINVAL, "'hello'");
	bad_size("-32", EINVAL, "'-32'");
	bad_size("-32b", EINVAL, "'-32b'");
	bad_size(" 32 ", EINVAL, "' 32 '");
	bad_size(" 0", EINVAL, "' 0'");
	bad_size("0b ", EINVAL, "'0b '");
	bad_size("32m b", EINVAL, "'32m b'");
	bad_size("32bm", EINVAL, "bm");
	bad_size("32 bb", EINVAL, "bb");
	bad_size("32  b", EINVAL, "'32  b'");
	bad_size("32x", EINVAL, "'x'");
	bad_size("32kibi", EINVAL, "kibi");
	bad_size("32kx", EINVAL, "kx");
	bad_size("32kix", EINVAL, "kix");
	bad_size(".", EINVAL, "'.'");
	bad_size("1.2.3", EINVAL, "'1.2.3'");
	bad_size("0x10", EINVAL, "0x10");
	bad_size("inf b", EINVAL, "inf");
	bad_size("nan b", EINVAL, "nan");
	bad_size("1_000", EINVAL, "1_000");
	bad_size("8192p", ERANGE, "8192p"); /* 2^63 does not fit */
	ok_size("8191p", 8191 * PiB);
	bad_size("1e400", ERANGE, "1e400");
	bad_size("99999999999999999999", ERANGE, "9999");
	bad_size(NULL, EINVAL, "none");
}

/* A locale with a decimal comma must not change parsing. */
static void test_parse_size_locale(void **state)
{
	(void)state;
	/* where neither locale is installed this runs in "C": still a valid check */
	if (!setlocale(LC_NUMERIC, "de_DE.UTF-8"))
		(void)setlocale(LC_NUMERIC, "fr_FR.UTF-8");
	ok_size("1.5g", 1610612736);
	ok_size("0.5 KiB", 512);
	setlocale(LC_NUMERIC, "C");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_human_size),     cmocka_unit_test(test_go_units_humansize),
		cmocka_unit_test(test_human_duration), cmocka_unit_test(test_human_duration_ago),
		cmocka_unit_test(test_parse_size),     cmocka_unit_test(test_parse_size_locale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
