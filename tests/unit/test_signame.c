/* Unit tests for vendor-free/signame: names and numbers as kill(1) and podman take them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "vendor-free/signame.h"

static int parse(const char *s)
{
	int sig = -1;
	struct skiff_err *err = NULL;
	if (sig_from_name(s, &sig, &err) < 0) {
		assert_int_equal(err->status, EINVAL);
		assert_non_null(strstr(err->msg, "invalid signal"));
		err_free(err);
		return -1;
	}
	return sig;
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(parse("TERM"), SIGTERM);
	assert_int_equal(parse("SIGTERM"), SIGTERM);
	assert_int_equal(parse("sigkill"), SIGKILL);
	assert_int_equal(parse("hup"), SIGHUP);
	assert_int_equal(parse("9"), 9);
	assert_int_equal(parse("64"), 64);
	assert_int_equal(parse("RTMIN"), SIGRTMIN);
	assert_int_equal(parse("SIGRTMIN+3"), SIGRTMIN + 3);
	assert_int_equal(parse("RTMAX-1"), SIGRTMAX - 1);
	assert_int_equal(parse("WINCH"), SIGWINCH);
}

static void test_hostile(void **state)
{
	(void)state;
	const char *bad[] = {"",	"0",	 "-1",	     "65",	  "99999999999999999999",
			     "SIG",	"TERMX", "RTMIN+99", "RTMIN-1",	  "RTMAX+1",
			     "RTMIN+x", "9x",	 " 9",	     "SIGSIGTERM"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i]) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	int sig = 0;
	struct skiff_err *err = NULL;
	assert_int_equal(sig_from_name(NULL, &sig, &err), -1);
	err_free(err);
}

static void test_sig_name(void **state)
{
	(void)state;
	assert_string_equal(sig_name(SIGTERM), "SIGTERM");
	assert_string_equal(sig_name(SIGKILL), "SIGKILL");
	assert_string_equal(sig_name(SIGABRT), "SIGABRT");
	assert_string_equal(sig_name(SIGIO), "SIGIO");
	assert_string_equal(sig_name(SIGRTMIN), "SIGRTMIN");
	assert_string_equal(sig_name(SIGRTMIN + 2), "SIGRTMIN+2");
	assert_null(sig_name(0));
	assert_null(sig_name(200));
	/* every name round-trips */
	for (int s = 1; s <= SIGRTMAX; s++) {
		const char *n = sig_name(s);
		if (n && parse(n) != s)
			fail_msg("%d -> %s does not parse back", s, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_sig_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
