/* vendor-free/asyncpipe: order, completeness, errors, inline fallback-free paths. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vendor-free/asyncpipe.h"
#include "vendor-free/strbuf.h"

static int collect(void *ud, const void *data, size_t len)
{
	strbuf_add(ud, data, len);
	return 0;
}

struct failing {
	size_t seen, fail_after;
};

static int fail_later(void *ud, const void *data, size_t len)
{
	struct failing *f = ud;
	(void)data;
	f->seen += len;
	return f->seen > f->fail_after ? ENOSPC : 0;
}

static void test_order_and_completeness(void **state)
{
	struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;
	struct async_pipe *p = async_pipe_new(collect, &got);
	uint32_t x = 7;
	(void)state;
	/* 20 MiB in pieces from 1 byte to 3 MiB: more than the queue holds at once */
	for (size_t total = 0, step = 1; total < (20u << 20); step = (step * 5 + 1) % (3u << 20)) {
		char buf[4096];
		size_t n = step < sizeof(buf) ? step : sizeof(buf);
		for (size_t i = 0; i < n; i++) {
			x = x * 1664525u + 1013904223u;
			buf[i] = (char)(x >> 24);
		}
		async_pipe_write(p, buf, n);
		strbuf_add(&want, buf, n);
		total += n;
	}
	assert_int_equal(async_pipe_close(p), 0);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.buf, want.buf, want.len);
	/* writes after close are dropped; close again is harmless */
	async_pipe_write(p, "x", 1);
	assert_int_equal(async_pipe_close(p), 0);
	assert_int_equal(got.len, want.len);
	async_pipe_free(p);
	strbuf_release(&got);
	strbuf_release(&want);
}

static void test_errors_surface_at_close(void **state)
{
	struct failing f = {.fail_after = 3u << 20};
	struct async_pipe *p = async_pipe_new(fail_later, &f);
	static char chunk[1 << 16];
	(void)state;
	for (int i = 0; i < 200; i++) /* 12.5 MiB: the worker fails part way */
		async_pipe_write(p, chunk, sizeof(chunk));
	assert_int_equal(async_pipe_close(p), ENOSPC);
	assert_true(f.seen < (13u << 20));
	async_pipe_free(p);
	/* freed without close, with data pending */
	struct strbuf sink = STRBUF_INIT;
	p = async_pipe_new(collect, &sink);
	async_pipe_write(p, "abc", 3);
	async_pipe_free(p);
	assert_string_equal(sink.buf, "abc");
	strbuf_release(&sink);
}

static void test_zero_copy(void **state)
{
	struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;
	struct async_pipe *p = async_pipe_new(collect, &got);
	(void)state;
	for (int round = 0; round < 40; round++) { /* five times around the ring */
		size_t cap;
		char *buf = async_pipe_acquire(p, &cap);
		assert_true(cap >= 4096);
		size_t n = 1000 + (size_t)round * 37;
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)('a' + (round + (int)i) % 26);
		strbuf_add(&want, buf, n);
		async_pipe_commit(p, n);
		async_pipe_commit(p, 0); /* nothing */
	}
	assert_int_equal(async_pipe_close(p), 0);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.buf, want.buf, want.len);
	async_pipe_free(p);
	strbuf_release(&got);
	strbuf_release(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_completeness),
		cmocka_unit_test(test_errors_surface_at_close),
		cmocka_unit_test(test_zero_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
