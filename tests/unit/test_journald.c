/* Unit tests for pkg/monitor/journald: the native journal protocol writer, against a fake
 * journal socket (a datagram socket bound in a temporary directory). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pkg/monitor/journald.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct fake {
	char dir[64];
	char sock[96];
	int fd; /* the listener */
};

static int listen_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static int setup(void **state)
{
	struct fake *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_journald.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->sock, sizeof(f->sock), "%s/socket", f->dir);
	f->fd = listen_at(f->sock);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	if (f->fd >= 0)
		close(f->fd);
	unlink(f->sock);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* One datagram, or the content of the memfd it carries (*ret_memfd set). */
static char *recv_entry(int fd, size_t *ret_len, bool *ret_memfd)
{
	size_t cap = 1 << 20;
	char *buf = xmalloc(cap);
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b)};
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	assert_true(n >= 0);
	*ret_memfd = false;
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_type == SCM_RIGHTS) {
		int mfd;
		struct stat st;
		memcpy(&mfd, CMSG_DATA(c), sizeof(int));
		assert_int_equal(n, 0);
		int seals = fcntl(mfd, F_GET_SEALS);
		assert_true(seals & F_SEAL_WRITE);
		assert_true(seals & F_SEAL_SHRINK);
		assert_int_equal(fstat(mfd, &st), 0);
		free(buf);
		buf = xmalloc((size_t)st.st_size + 1);
		assert_int_equal(pread(mfd, buf, (size_t)st.st_size, 0), st.st_size);
		close(mfd);
		n = st.st_size;
		*ret_memfd = true;
	}
	*ret_len = (size_t)n;
	return buf;
}

static bool has(const char *buf, size_t len, const char *field)
{
	size_t fl = strlen(field);
	for (size_t i = 0; i + fl <= len; i++)
		if ((i == 0 || buf[i - 1] == '\n') && !memcmp(buf + i, field, fl) && buf[i + fl] == '\n')
			return true;
	return false;
}

static void test_field_encoding(void **state)
{
	(void)state;
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	mon_journal_field(&sb, "MESSAGE", "hello", 5);
	assert_string_equal(sb.buf, "MESSAGE=hello\n");
	strbuf_reset(&sb);
	mon_journal_field(&sb, "MESSAGE", "a\nb", 3);
	/* KEY\n, 64-bit little-endian length, value, \n */
	assert_int_equal(sb.len, 8 + 8 + 3 + 1);
	assert_memory_equal(sb.buf, "MESSAGE\n\x03\0\0\0\0\0\0\0a\nb\n", sb.len);
	strbuf_reset(&sb);
	mon_journal_field(&sb, "MESSAGE", "", 0);
	assert_string_equal(sb.buf, "MESSAGE=\n");
}

static void test_ids(void **state)
{
	(void)state;
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	struct skiff_err *err = NULL;
	struct mon_journal_ids ids = {.id = ID, .name = "web"};

	assert_int_equal(mon_journal_ids_encode(&sb, &ids, &err), 0);
	assert_true(has(sb.buf, sb.len, "CONTAINER_ID_FULL=" ID));
	assert_true(has(sb.buf, sb.len, "CONTAINER_ID=0123456789ab"));
	assert_true(has(sb.buf, sb.len, "CONTAINER_NAME=web"));
	assert_true(has(sb.buf, sb.len, "SYSLOG_IDENTIFIER=web"));
	assert_null(strstr(sb.buf, "CONTAINER_TAG"));

	strbuf_reset(&sb);
	ids.tag = "mytag";
	assert_int_equal(mon_journal_ids_encode(&sb, &ids, &err), 0);
	assert_true(has(sb.buf, sb.len, "CONTAINER_TAG=mytag"));
	assert_true(has(sb.buf, sb.len, "SYSLOG_IDENTIFIER=mytag"));

	strbuf_reset(&sb);
	ids = (struct mon_journal_ids){.id = ID};
	assert_int_equal(mon_journal_ids_encode(&sb, &ids, &err), 0);
	assert_true(has(sb.buf, sb.len, "SYSLOG_IDENTIFIER=0123456789ab"));

	ids.id = "0123456789ab";
	assert_int_equal(mon_journal_ids_encode(&sb, &ids, &err), -1);
	assert_int_equal(err_status(err), EINVAL);
	assert_non_null(strstr(err->msg, "\"0123456789ab\" is too short"));
	err_free(err);
}

static void test_missing_socket(void **state)
{
	struct fake *f = *state;
	struct mon_journal j;
	struct skiff_err *err = NULL;
	struct mon_journal_ids ids = {.id = ID};
	cleanup_free char *nope = xasprintf("%s/nosuch", f->dir);

	assert_int_equal(mon_journal_open(&j, nope, &ids, &err), -1);
	assert_int_equal(err_status(err), ENOENT);
	cleanup_free char *want = xasprintf("journald is not running: %s is missing", nope);
	assert_non_null(strstr(err->msg, want));
	err_free(err);
	err = NULL;

	/* a socket nobody listens on any more */
	close(f->fd);
	f->fd = -1;
	assert_int_equal(mon_journal_open(&j, f->sock, &ids, &err), -1);
	assert_int_equal(err_status(err), ECONNREFUSED);
	assert_non_null(strstr(err->msg, "journald is not running"));
	err_free(err);
}

static void test_lines(void **state)
{
	struct fake *f = *state;
	struct mon_journal j;
	struct skiff_err *err = NULL;
	struct mon_journal_ids ids = {.id = ID, .name = "c1"};
	size_t len;
	bool memfd;

	assert_int_equal(mon_journal_open(&j, f->sock, &ids, &err), 0);
	assert_int_equal(mon_journal_write(&j, MON_STREAM_STDOUT, "one\n\ntwo\nthr", 12, &err), 0);
	assert_int_equal(mon_journal_write(&j, MON_STREAM_STDERR, "oops\n", 5, &err), 0);
	assert_int_equal(mon_journal_write(&j, MON_STREAM_STDOUT, "", 0, &err), 0);

	const char *want[] = {"MESSAGE=one", "MESSAGE=", "MESSAGE=two", "MESSAGE=thr", "MESSAGE=oops"};
	for (size_t i = 0; i < 5; i++) {
		cleanup_free char *e = recv_entry(f->fd, &len, &memfd);
		assert_false(memfd);
		assert_true(has(e, len, want[i]));
		assert_true(has(e, len, "CONTAINER_ID_FULL=" ID));
		assert_true(has(e, len, "CONTAINER_NAME=c1"));
		assert_true(has(e, len, i == 4 ? "PRIORITY=3" : "PRIORITY=6"));
		assert_int_equal(has(e, len, "CONTAINER_PARTIAL_MESSAGE=true"), i == 3);
	}
	char c;
	assert_int_equal(recv(f->fd, &c, 1, MSG_DONTWAIT), -1); /* nothing more */
	mon_journal_close(&j);
}

static void test_big_entry_memfd(void **state)
{
	struct fake *f = *state;
	struct mon_journal j;
	struct skiff_err *err = NULL;
	struct mon_journal_ids ids = {.id = ID};
	size_t big = 16 << 20, len;
	bool memfd;
	cleanup_free char *data = xmalloc(big);

	memset(data, 'x', big);
	assert_int_equal(mon_journal_open(&j, f->sock, &ids, &err), 0);
	/* the receiver must not fill up with a datagram of this size: it cannot be one */
	assert_int_equal(mon_journal_write(&j, MON_STREAM_STDOUT, data, big, &err), 0);
	cleanup_free char *e = recv_entry(f->fd, &len, &memfd);
	assert_true(memfd);
	assert_true(len > big);
	assert_memory_equal(e, "MESSAGE=xxxx", 12);
	assert_true(has(e, len, "CONTAINER_PARTIAL_MESSAGE=true"));
	mon_journal_close(&j);
}

static void test_reconnect(void **state)
{
	struct fake *f = *state;
	struct mon_journal j;
	struct skiff_err *err = NULL;
	struct mon_journal_ids ids = {.id = ID};
	size_t len;
	bool memfd;

	assert_int_equal(mon_journal_open(&j, f->sock, &ids, &err), 0);
	/* journald restarts: a new socket at the same place */
	close(f->fd);
	unlink(f->sock);
	f->fd = listen_at(f->sock);
	assert_int_equal(mon_journal_write(&j, MON_STREAM_STDOUT, "again\n", 6, &err), 0);
	cleanup_free char *e = recv_entry(f->fd, &len, &memfd);
	assert_true(has(e, len, "MESSAGE=again"));

	/* and gone for good: the error names the socket */
	close(f->fd);
	f->fd = -1;
	unlink(f->sock);
	assert_int_equal(mon_journal_write(&j, MON_STREAM_STDOUT, "lost\nlost\n", 10, &err), -1);
	assert_non_null(strstr(err->msg, f->sock));
	err_free(err);
	mon_journal_close(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_encoding),
		cmocka_unit_test(test_ids),
		cmocka_unit_test_setup_teardown(test_missing_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_entry_memfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
