/* Unit tests for pkg/build context and COPY/ADD: real trees in temp dirs, hostile sources,
 * hostile destination rootfs symlinks, hostile tars, the cache key, the context. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/build/context.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strv.h"
#include "vendor-free/xalloc.h"

/* ---- fixture ---- */

struct fx {
	char *top;
	int ctx;     /* top/ctx: the build context */
	int root;    /* top/root: the destination rootfs */
	int outside; /* top/outside: never written */
	char *outside_path;
};

static void write_at(int dfd, const char *name, const char *text, mode_t mode)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static char *read_at(int dfd, const char *name)
{
	char *buf = NULL;
	cleanup_err struct skiff_err *e = NULL;
	if (read_file_at(dfd, name, 1 << 20, &buf, NULL, &e) < 0)
		return NULL;
	return buf;
}

static int opendir_at(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static int setup(void **state)
{
	struct fx *f = xzalloc(sizeof(*f));
	int top;
	const char *tmp = getenv("TMPDIR");
	f->top = xasprintf("%s/skiff-test-bcopy-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->top));
	top = opendir_at(AT_FDCWD, f->top);
	assert_int_equal(mkdirat(top, "ctx", 0755), 0);
	assert_int_equal(mkdirat(top, "root", 0755), 0);
	assert_int_equal(mkdirat(top, "outside", 0755), 0);
	f->ctx = opendir_at(top, "ctx");
	f->root = opendir_at(top, "root");
	f->outside = opendir_at(top, "outside");
	f->outside_path = xasprintf("%s/outside", f->top);
	close(top);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	close(f->ctx);
	close(f->root);
	close(f->outside);
	rm_rf_at(AT_FDCWD, f->top, NULL);
	free(f->top);
	free(f->outside_path);
	free(f);
	return 0;
}

static bool outside_empty(struct fx *f)
{
	cleanup_dir DIR *d = fdopendir(dup(f->outside));
	struct dirent *de;
	int n = 0;
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	return n == 0;
}

/* Run one COPY/ADD; returns the error (or NULL) for the caller to check and free. */
static struct skiff_err *run(struct fx *f, bool add, const char *dest, const struct bcopy_opts *extra, const char *src,
			     ...)
{
	struct strv srcs = STRV_INIT;
	struct bcopy_opts o = {0};
	struct bcopy_src s = {.rootfd = f->ctx, .is_context = true};
	struct skiff_err *e = NULL;
	va_list ap;
	if (extra)
		o = *extra;
	va_start(ap, src);
	for (const char *p = src; p; p = va_arg(ap, const char *))
		strv_push(&srcs, p);
	va_end(ap);
	o.srcs = &srcs;
	o.dest = dest;
	o.add = add;
	o.ignore_owners = geteuid() != 0;
	if (bcopy_run(&s, f->root, &o, &e) < 0)
		assert_non_null(e);
	strv_release(&srcs);
	return e;
}

static void expect_ok(struct skiff_err *e)
{
	if (e)
		fail_msg("unexpected error: %s", e->msg);
}

static void expect_err(struct skiff_err *e, const char *needle)
{
	assert_non_null(e);
	if (!strstr(e->msg, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", e->msg, needle);
	err_free(e);
}

static mode_t mode_at(int dfd, const char *name)
{
	struct stat st;
	assert_int_equal(fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_mode;
}

/* ---- COPY ---- */

static void test_file_into_dir(void **state)
{
	struct fx *f = *state;
	cleanup_free char *c = NULL;
	write_at(f->ctx, "a.txt", "alpha", 0640);
	expect_ok(run(f, false, "/app/", NULL, "a.txt", NULL));
	c = read_at(f->root, "app/a.txt");
	assert_string_equal(c, "alpha");
	assert_int_equal(mode_at(f->root, "app/a.txt") & 07777, 0640);
	assert_int_equal(mode_at(f->root, "app") & 07777, 0755);
	if (geteuid() == 0) {
		struct stat st;
		assert_int_equal(fstatat(f->root, "app/a.txt", &st, 0), 0);
		assert_int_equal(st.st_uid, 0);
	}
}

static void test_file_rename_and_workdir(void **state)
{
	struct fx *f = *state;
	cleanup_free char *c = NULL, *d = NULL;
	struct bcopy_opts o = {.workdir = "/w/d"};
	write_at(f->ctx, "a.txt", "alpha", 0644);
	expect_ok(run(f, false, "/b.txt", NULL, "./a.txt", NULL));
	c = read_at(f->root, "b.txt");
	assert_string_equal(c, "alpha");
	expect_ok(run(f, false, "rel.txt", &o, "a.txt", NULL));
	d = read_at(f->root, "w/d/rel.txt");
	assert_string_equal(d, "alpha");
}

static void test_dir_contents(void **state)
{
	struct fx *f = *state;
	cleanup_free char *x = NULL, *y = NULL;
	assert_int_equal(mkdirat(f->ctx, "dir", 0750), 0);
	assert_int_equal(mkdirat(f->ctx, "dir/sub", 0700), 0);
	write_at(f->ctx, "dir/x", "x", 0644);
	write_at(f->ctx, "dir/sub/y", "y", 0755);
	expect_ok(run(f, false, "/d", NULL, "dir", NULL));
	x = read_at(f->root, "d/x");
	y = read_at(f->root, "d/sub/y");
	assert_string_equal(x, "x");
	assert_string_equal(y, "y");
	assert_int_equal(mode_at(f->root, "d/sub") & 07777, 0700);
	assert_int_equal(mode_at(f->root, "d/sub/y") & 07777, 0755);
	assert_int_equal(faccessat(f->root, "d/dir", F_OK, AT_SYMLINK_NOFOLLOW), -1);
}

static void test_globs_and_dest_rules(void **state)
{
	struct fx *f = *state;
	write_at(f->ctx, "a.txt", "a", 0644);
	write_at(f->ctx, "b.txt", "b", 0644);
	write_at(f->ctx, "c.md", "c", 0644);
	expect_ok(run(f, false, "/g/", NULL, "*.txt", NULL));
	assert_int_equal(faccessat(f->root, "g/a.txt", F_OK, 0), 0);
	assert_int_equal(faccessat(f->root, "g/b.txt", F_OK, 0), 0);
	assert_int_equal(faccessat(f->root, "g/c.md", F_OK, 0), -1);
	expect_ok(run(f, false, "/q/", NULL, "?.md", "[ab].txt", NULL));
	assert_int_equal(faccessat(f->root, "q/c.md", F_OK, 0), 0);
	assert_int_equal(faccessat(f->root, "q/a.txt", F_OK, 0), 0);
	/* several sources need a directory destination */
	expect_err(run(f, false, "/nodir", NULL, "*.txt", NULL), "must be a directory");
	expect_err(run(f, false, "/nodir", NULL, "a.txt", "c.md", NULL), "must be a directory");
	/* ... unless it exists as one */
	expect_ok(run(f, false, "/g", NULL, "a.txt", "c.md", NULL));
	assert_int_equal(faccessat(f->root, "g/c.md", F_OK, 0), 0);
	expect_err(run(f, false, "/x/", NULL, "*.nothing", NULL), "no source files were specified");
	expect_err(run(f, false, "/x/", NULL, "missing.txt", NULL), "stat missing.txt: no such file");
	expect_err(run(f, false, "/x/", NULL, NULL), "no source files were specified");
}

static void test_chmod_chown(void **state)
{
	struct fx *f = *state;
	struct bcopy_opts o = {.have_chmod = true, .mode = 0600, .have_chown = true, .uid = 1234, .gid = 5678};
	struct stat st;
	write_at(f->ctx, "a.txt", "a", 0755);
	expect_ok(run(f, false, "/m/", &o, "a.txt", NULL));
	assert_int_equal(fstatat(f->root, "m/a.txt", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	if (geteuid() == 0) {
		assert_int_equal(st.st_uid, 1234);
		assert_int_equal(st.st_gid, 5678);
		assert_int_equal(fstatat(f->root, "m", &st, 0), 0);
		assert_int_equal(st.st_uid, 1234);
	}
}

static void test_symlinks_kept(void **state)
{
	struct fx *f = *state;
	char buf[256];
	ssize_t n;
	assert_int_equal(mkdirat(f->ctx, "dir", 0755), 0);
	assert_int_equal(symlinkat("/etc", f->ctx, "dir/abs"), 0);
	assert_int_equal(symlinkat("../x", f->ctx, "dir/rel"), 0);
	expect_ok(run(f, false, "/s/", NULL, "dir", NULL));
	n = readlinkat(f->root, "s/abs", buf, sizeof(buf) - 1);
	assert_int_equal(n, 4);
	buf[n] = 0;
	assert_string_equal(buf, "/etc");
	n = readlinkat(f->root, "s/rel", buf, sizeof(buf) - 1);
	assert_int_equal(n, 4);
}

static void test_hardlinks_kept(void **state)
{
	struct fx *f = *state;
	struct stat a, b;
	assert_int_equal(mkdirat(f->ctx, "dir", 0755), 0);
	write_at(f->ctx, "dir/h1", "same", 0644);
	assert_int_equal(linkat(f->ctx, "dir/h1", f->ctx, "dir/h2", 0), 0);
	expect_ok(run(f, false, "/h", NULL, "dir", NULL));
	assert_int_equal(fstatat(f->root, "h/h1", &a, 0), 0);
	assert_int_equal(fstatat(f->root, "h/h2", &b, 0), 0);
	assert_int_equal(a.st_ino, b.st_ino);
}

static void test_heredoc_and_urls(void **state)
{
	struct fx *f = *state;
	struct df_heredoc hd = {.name = (char *)"EOF", .body = (char *)"hello\n"};
	struct bcopy_opts o = {.heredocs = &hd, .nheredocs = 1};
	cleanup_free char *c = NULL;
	expect_ok(run(f, false, "/hd.txt", &o, "<<EOF", NULL));
	c = read_at(f->root, "hd.txt");
	assert_string_equal(c, "hello\n");
	assert_int_equal(mode_at(f->root, "hd.txt") & 07777, 0644);
	expect_err(run(f, false, "/x/", &o, "<<NOPE", NULL), "NOPE");
	expect_err(run(f, false, "/x/", NULL, "http://127.0.0.1:1/f", NULL), "can't be a URL");
	expect_err(run(f, true, "/x/", NULL, "http://127.0.0.1:1/f", NULL), "http://127.0.0.1:1/f");
	assert_int_equal(faccessat(f->root, "x/f", F_OK, 0), -1);
}

/* A one-shot HTTP server on 127.0.0.1 for ADD URL. */
struct srv {
	int lfd;
	const char *reply;
};

static void *serve(void *arg)
{
	struct srv *s = arg;
	char buf[4096];
	int c = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return NULL;
	(void)!read(c, buf, sizeof(buf));
	(void)!write(c, s->reply, strlen(s->reply));
	close(c);
	return NULL;
}

static int start_srv(struct srv *s, pthread_t *t)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 1), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &len), 0);
	assert_int_equal(pthread_create(t, NULL, serve, s), 0);
	return ntohs(a.sin_port);
}

static void test_add_url(void **state)
{
	struct fx *f = *state;
	struct srv s = {.reply = "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello"};
	pthread_t t;
	int port = start_srv(&s, &t);
	cleanup_free char *url = xasprintf("http://127.0.0.1:%d/dir/file.bin?x=1", port);
	cleanup_free char *c = NULL;
	expect_ok(run(f, true, "/dl/", NULL, url, NULL));
	pthread_join(t, NULL);
	close(s.lfd);
	c = read_at(f->root, "dl/file.bin");
	assert_string_equal(c, "hello");
	assert_int_equal(mode_at(f->root, "dl/file.bin") & 07777, 0600);

	struct srv s2 = {.reply = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n"};
	port = start_srv(&s2, &t);
	free(url);
	url = xasprintf("http://127.0.0.1:%d/gone", port);
	expect_err(run(f, true, "/dl/", NULL, url, NULL), "404");
	pthread_join(t, NULL);
	close(s2.lfd);
	assert_int_equal(faccessat(f->root, "dl/gone", F_OK, 0), -1);
}

/* ---- hostile ---- */

static void test_source_outside_context(void **state)
{
	struct fx *f = *state;
	write_at(f->outside, "secret", "secret", 0644);
	expect_err(run(f, false, "/x/", NULL, "../../etc/passwd", NULL), "outside the build context");
	expect_err(run(f, false, "/x/", NULL, "../outside/secret", NULL), "outside the build context");
	/* an absolute symlink resolves inside the context: there is no etc/passwd there */
	assert_int_equal(symlinkat("/etc/passwd", f->ctx, "pw"), 0);
	expect_err(run(f, false, "/x/", NULL, "pw", NULL), "pw");
	assert_int_equal(faccessat(f->root, "x/pw", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	/* a symlinked directory climbing out lands on the context root */
	assert_int_equal(symlinkat("../../../../..", f->ctx, "up"), 0);
	write_at(f->ctx, "mine", "mine", 0644);
	expect_ok(run(f, false, "/y/", NULL, "up/mine", NULL));
	cleanup_free char *c = read_at(f->root, "y/mine");
	assert_string_equal(c, "mine");
}

static void test_dest_symlink_contained(void **state)
{
	struct fx *f = *state;
	write_at(f->ctx, "a.txt", "a", 0644);
	assert_int_equal(symlinkat(f->outside_path, f->root, "evil"), 0);
	assert_int_equal(symlinkat("../../../../../../../../outside", f->root, "evil2"), 0);
	cleanup_free char *victim = xasprintf("%s/victim", f->outside_path);
	assert_int_equal(symlinkat(victim, f->root, "file"), 0);
	expect_ok(run(f, false, "/evil/", NULL, "a.txt", NULL));
	expect_ok(run(f, false, "/evil2/sub/", NULL, "a.txt", NULL));
	/* a file destination that is a symlink is replaced, not written through */
	expect_ok(run(f, false, "/file", NULL, "a.txt", NULL));
	assert_true(S_ISREG(mode_at(f->root, "file")));
	assert_true(outside_empty(f));
	/* the writes stayed in the rootfs, where the links point when it is "/" */
	cleanup_free char *in = xasprintf("%s/a.txt", f->outside_path + 1);
	assert_int_equal(faccessat(f->root, in, F_OK, 0), 0);
	assert_int_equal(faccessat(f->root, "outside/sub/a.txt", F_OK, 0), 0);
}

struct tent {
	const char *name;
	mode_t type;
	const char *data; /* content, or the link target */
};

static void make_tar(const char *path, int filter, const struct tent *ents, size_t n)
{
	struct archive *a = archive_write_new();
	assert_non_null(a);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	if (filter == 'z')
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	if (filter == 'x')
		assert_int_equal(archive_write_add_filter_xz(a), ARCHIVE_OK);
	if (filter == 's')
		assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, ents[i].name);
		archive_entry_set_filetype(e, ents[i].type);
		archive_entry_set_perm(e, ents[i].type == AE_IFDIR ? 0755 : 0644);
		if (ents[i].type == AE_IFREG)
			archive_entry_set_size(e, (la_int64_t)strlen(ents[i].data));
		if (ents[i].type == AE_IFLNK)
			archive_entry_set_symlink(e, ents[i].data);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (ents[i].type == AE_IFREG)
			assert_int_equal(archive_write_data(a, ents[i].data, strlen(ents[i].data)),
					 (la_ssize_t)strlen(ents[i].data));
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static void test_add_tar(void **state)
{
	struct fx *f = *state;
	static const struct tent good[] = {{"d", AE_IFDIR, NULL}, {"d/f", AE_IFREG, "tarred"}, {"l", AE_IFLNK, "d/f"}};
	static const struct tent dotdot[] = {{"ok", AE_IFREG, "ok"}, {"../../escape", AE_IFREG, "bad"}};
	static const struct tent via_link[] = {{"lnk", AE_IFLNK, "/"}, {"lnk/pwn", AE_IFREG, "bad"}};
	cleanup_free char *p1 = xasprintf("%s/ctx/good.tar.zst", f->top);
	cleanup_free char *p2 = xasprintf("%s/ctx/dotdot.tar", f->top);
	cleanup_free char *p3 = xasprintf("%s/ctx/link.tar.gz", f->top);
	cleanup_free char *c = NULL;
	make_tar(p1, 's', good, 3);
	make_tar(p2, 0, dotdot, 2);
	make_tar(p3, 'z', via_link, 2);
	expect_ok(run(f, true, "/t", NULL, "good.tar.zst", NULL));
	c = read_at(f->root, "t/d/f");
	assert_string_equal(c, "tarred");
	assert_true(S_ISLNK(mode_at(f->root, "t/l")));
	/* COPY does not extract */
	expect_ok(run(f, false, "/c/", NULL, "good.tar.zst", NULL));
	assert_true(S_ISREG(mode_at(f->root, "c/good.tar.zst")));
	expect_err(run(f, true, "/t2", NULL, "dotdot.tar", NULL), "../../escape");
	expect_err(run(f, true, "/t3", NULL, "link.tar.gz", NULL), "lnk/pwn");
	assert_true(outside_empty(f));
	assert_int_equal(faccessat(f->root, "escape", F_OK, 0), -1);
	assert_int_equal(faccessat(f->root, "pwn", F_OK, 0), -1);
}

/* ---- the cache key ---- */

static char *digest_of(struct fx *f, const char *src)
{
	struct strv srcs = STRV_INIT;
	struct bcopy_src s = {.rootfd = f->ctx, .is_context = true};
	struct bcopy_opts o = {.srcs = &srcs, .dest = "/"};
	char *d = NULL;
	cleanup_err struct skiff_err *e = NULL;
	strv_push(&srcs, src);
	if (bcopy_digest(&s, &o, &d, &e) < 0)
		fail_msg("digest: %s", e->msg);
	strv_release(&srcs);
	return d;
}

static void test_digest(void **state)
{
	struct fx *f = *state;
	struct timespec ts[2] = {{1000, 0}, {1000, 0}};
	assert_int_equal(mkdirat(f->ctx, "dir", 0755), 0);
	write_at(f->ctx, "dir/a", "content", 0644);
	assert_int_equal(symlinkat("a", f->ctx, "dir/l"), 0);
	cleanup_free char *d1 = digest_of(f, "dir");
	cleanup_free char *d2 = digest_of(f, "dir");
	assert_string_equal(d1, d2);
	assert_int_equal(utimensat(f->ctx, "dir/a", ts, 0), 0);
	cleanup_free char *d3 = digest_of(f, "dir");
	assert_string_equal(d1, d3);
	write_at(f->ctx, "dir/a", "contenT", 0644);
	cleanup_free char *d4 = digest_of(f, "dir");
	assert_string_not_equal(d1, d4);
	write_at(f->ctx, "dir/a", "content", 0600);
	cleanup_free char *d5 = digest_of(f, "dir");
	assert_string_not_equal(d1, d5);
	write_at(f->ctx, "dir/a", "content", 0644);
	cleanup_free char *d6 = digest_of(f, "dir");
	assert_string_equal(d1, d6);
	assert_int_equal(unlinkat(f->ctx, "dir/l", 0), 0);
	assert_int_equal(symlinkat("b", f->ctx, "dir/l"), 0);
	cleanup_free char *d7 = digest_of(f, "dir");
	assert_string_not_equal(d1, d7);
	cleanup_free char *d8 = digest_of(f, "dir/a");
	assert_string_not_equal(d1, d8);
	assert_true(strncmp(d8, "sha256:", 7) == 0);
}

static void test_ignore_rules(void **state)
{
	struct fx *f = *state;
	struct df_ignore *ig = NULL;
	struct skiff_err *e = NULL;
	struct strv srcs = STRV_INIT;
	struct bcopy_src s = {.rootfd = f->ctx, .is_context = true};
	struct bcopy_opts o = {.srcs = &srcs, .dest = "/i/", .ignore_owners = geteuid() != 0};
	write_at(f->ctx, "keep.txt", "k", 0644);
	write_at(f->ctx, "drop.log", "d", 0644);
	assert_int_equal(df_ignore_parse("*.log\n", 6, &ig, &e), 0);
	s.ignore = ig;
	strv_push(&srcs, ".");
	assert_int_equal(bcopy_run(&s, f->root, &o, &e), 0);
	assert_int_equal(faccessat(f->root, "i/keep.txt", F_OK, 0), 0);
	assert_int_equal(faccessat(f->root, "i/drop.log", F_OK, 0), -1);
	strv_release(&srcs);
	strv_push(&srcs, "drop.log");
	assert_int_equal(bcopy_run(&s, f->root, &o, &e), -1);
	expect_err(e, "excluded by .dockerignore");
	strv_release(&srcs);
	df_ignore_free(ig);
}

static void test_chown_lookup(void **state)
{
	struct fx *f = *state;
	uid_t u = 99;
	gid_t g = 99;
	struct skiff_err *e = NULL;
	assert_int_equal(mkdirat(f->root, "etc", 0755), 0);
	write_at(f->root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n", 0644);
	write_at(f->root, "etc/group", "root:x:0:\ngrp:x:2000:app\n", 0644);
	assert_int_equal(bcopy_chown_lookup(f->root, "app", &u, &g, &e), 0);
	assert_int_equal(u, 1000);
	assert_int_equal(g, 1001);
	assert_int_equal(bcopy_chown_lookup(f->root, "app:grp", &u, &g, &e), 0);
	assert_int_equal(g, 2000);
	assert_int_equal(bcopy_chown_lookup(f->root, "1000", &u, &g, &e), 0);
	assert_int_equal(g, 1000);
	assert_int_equal(bcopy_chown_lookup(f->root, "5", &u, &g, &e), 0);
	assert_int_equal(u, 5);
	assert_int_equal(g, 5);
	assert_int_equal(bcopy_chown_lookup(f->root, "1000:7", &u, &g, &e), 0);
	assert_int_equal(g, 7);
	assert_int_equal(bcopy_chown_lookup(f->root, "nobody", &u, &g, &e), -1);
	expect_err(e, "no such user: nobody");
	e = NULL;
	assert_int_equal(bcopy_chown_lookup(f->root, "app:nogroup", &u, &g, &e), -1);
	expect_err(e, "no such group: nogroup");
	e = NULL;
	assert_int_equal(bcopy_chown_lookup(f->root, "app:", &u, &g, &e), -1);
	expect_err(e, "invalid --chown");
	e = NULL;
	/* /etc/passwd as a symlink out of the rootfs is read inside it */
	assert_int_equal(unlinkat(f->root, "etc/passwd", 0), 0);
	assert_int_equal(symlinkat("/../../../../etc/shadow", f->root, "etc/passwd"), 0);
	assert_int_equal(bcopy_chown_lookup(f->root, "root", &u, &g, &e), -1);
	expect_err(e, "no such user: root");
}

/* ---- the context ---- */

static void test_bctx_dir(void **state)
{
	struct fx *f = *state;
	struct bctx *c = NULL;
	struct skiff_err *e = NULL;
	cleanup_free char *ctx = xasprintf("%s/ctx", f->top);
	cleanup_free char *df = xasprintf("%s/ctx/other.df", f->top);
	assert_int_equal(bctx_open(ctx, NULL, f->top, &c, &e), -1);
	expect_err(e, "cannot find Containerfile or Dockerfile in");
	e = NULL;
	write_at(f->ctx, "Dockerfile", "FROM d\n", 0644);
	assert_int_equal(bctx_open(ctx, NULL, f->top, &c, &e), 0);
	assert_string_equal(c->dockerfile_buf, "FROM d\n");
	assert_null(c->ignore);
	assert_null(c->tmpdir);
	bctx_close(c);
	write_at(f->ctx, "Containerfile", "FROM c\n", 0644);
	write_at(f->ctx, ".dockerignore", "*.log\n", 0644);
	assert_int_equal(bctx_open(ctx, NULL, f->top, &c, &e), 0);
	assert_string_equal(c->dockerfile_buf, "FROM c\n");
	assert_non_null(c->ignore);
	assert_true(df_ignore_excluded(c->ignore, "x.log"));
	bctx_close(c);
	write_at(f->ctx, "other.df", "FROM o\n", 0644);
	assert_int_equal(bctx_open(ctx, df, f->top, &c, &e), 0);
	assert_string_equal(c->dockerfile_buf, "FROM o\n");
	bctx_close(c);
	assert_int_equal(bctx_open(ctx, "/nonexistent/df", f->top, &c, &e), -1);
	expect_err(e, "/nonexistent/df");
	e = NULL;
	assert_int_equal(bctx_open("/nonexistent-ctx", NULL, f->top, &c, &e), -1);
	expect_err(e, "/nonexistent-ctx");
}

static void test_bctx_tar(void **state)
{
	struct fx *f = *state;
	static const struct tent ents[] = {{"Dockerfile", AE_IFREG, "FROM t\n"}, {"sub/f", AE_IFREG, "f"}};
	static const struct tent bad[] = {{"Dockerfile", AE_IFREG, "FROM t\n"}, {"../evil", AE_IFREG, "x"}};
	cleanup_free char *p1 = xasprintf("%s/c.tar", f->top);
	cleanup_free char *p2 = xasprintf("%s/c.tar.gz", f->top);
	cleanup_free char *p3 = xasprintf("%s/bad.tar.xz", f->top);
	cleanup_free char *notar = xasprintf("%s/ctx/plain", f->top);
	struct bctx *c = NULL;
	struct skiff_err *e = NULL;
	make_tar(p1, 0, ents, 2);
	make_tar(p2, 'z', ents, 2);
	make_tar(p3, 'x', bad, 2);
	for (int i = 0; i < 2; i++) {
		cleanup_free char *tmp = NULL;
		cleanup_free char *sub = NULL;
		assert_int_equal(bctx_open(i ? p2 : p1, NULL, f->top, &c, &e), 0);
		assert_string_equal(c->dockerfile_buf, "FROM t\n");
		assert_non_null(c->tmpdir);
		sub = read_at(c->dirfd, "sub/f");
		assert_string_equal(sub, "f");
		tmp = xstrdup(c->tmpdir);
		bctx_close(c);
		assert_int_equal(access(tmp, F_OK), -1);
	}
	assert_int_equal(bctx_open(p3, NULL, f->top, &c, &e), -1);
	expect_err(e, "../evil");
	write_at(f->ctx, "plain", "just text", 0644);
	e = NULL;
	assert_int_equal(bctx_open(notar, NULL, f->top, &c, &e), -1);
	expect_err(e, "not a directory or a tar archive");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_into_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_rename_and_workdir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_contents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_globs_and_dest_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chmod_chown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hardlinks_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heredoc_and_urls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_url, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_outside_context, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dest_symlink_contained, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_tar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ignore_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chown_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bctx_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bctx_tar, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
