/* Unit tests for store_layer_create_from_container(): a container's upper dir becomes a
 * layer by rename, with the diff id, id and tar (tar-split) the tar path gives for the
 * same tree; failures put the upper dir back and leave nothing in tmp/. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "pkg/digest/digest.h"
#include "pkg/engine/changes.h"
#include "pkg/store/store.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#define CTR "c0ffee"

struct t {
	char dir[64];
	struct store *s;
	bool have_whiteout;
};

static void ok_(int rc, struct skiff_err **e, int line)
{
	if (rc < 0)
		fail_msg("line %d: %s", line, *e ? (*e)->msg : "(no message)");
}
#define ok(rc, e) ok_((rc), (e), __LINE__)

static void check_err(int rc, struct skiff_err **e, int status, const char *part)
{
	assert_int_equal(rc, -1);
	assert_non_null(*e);
	if (!strstr((*e)->msg, part))
		fail_msg("\"%s\" not in \"%s\"", part, (*e)->msg);
	assert_int_equal(err_status(*e), status);
	err_clear(e);
}

static int open_store(struct t *t, const char *driver)
{
	struct skiff_err *err = NULL;
	struct store_opts o = {.graphroot = t->dir, .driver = driver, .recover = true};
	if (store_open(&o, &t->s, &err) < 0) {
		err_free(err);
		return -1;
	}
	return 0;
}

static int setup(void **state)
{
	struct t *t = xzalloc(sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_store_fromdir.XXXXXX");
	if (!mkdtemp(t->dir) || open_store(t, "overlay") < 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	struct skiff_err *err = NULL;
	store_close(t->s);
	rm_rf_at(AT_FDCWD, t->dir, &err);
	err_free(err);
	free(t);
	return 0;
}

static void put(int dfd, const char *name, const char *content, mode_t mode)
{
	cleanup_close int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, content, strlen(content)), 0);
	assert_int_equal(fchmod(fd, mode), 0);
}

static void stamp(int dfd, const char *name, time_t sec)
{
	struct timespec ts[2] = {{sec, 0}, {sec, 0}};
	assert_int_equal(utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* An upper dir as overlayfs leaves it: new files, a hard link, a symlink, a deleted
 * file (0:0 character device), an opaque (replaced) directory, odd names. */
static int make_upper(struct t *t)
{
	cleanup_free char *upper = xasprintf("%s/containers/%s/diff", t->dir, CTR);
	cleanup_free char *cdir = xasprintf("%s/containers/%s", t->dir, CTR);
	cleanup_free char *cs = xasprintf("%s/containers", t->dir);
	assert_true(mkdir(cs, 0700) == 0 || errno == EEXIST);
	assert_int_equal(mkdir(cdir, 0700), 0);
	assert_int_equal(mkdir(upper, 0755), 0);
	int u = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(u >= 0);
	assert_int_equal(mkdirat(u, "etc", 0755), 0);
	assert_int_equal(mkdirat(u, "etc/sub", 0700), 0);
	cleanup_close int etc = openat(u, "etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	put(etc, "b", "bbbb\n", 0644);
	put(etc, "a", "", 0600);
	put(etc, "sub/x y", "with a space", 0755);
	put(etc, "big", "", 0644);
	{
		cleanup_close int fd = openat(etc, "big", O_WRONLY | O_CLOEXEC);
		char buf[4096];
		memset(buf, 'z', sizeof(buf));
		for (int i = 0; i < 300; i++)
			assert_int_equal(write_all(fd, buf, sizeof(buf)), 0);
	}
	assert_int_equal(linkat(etc, "b", etc, "hard", 0), 0);
	assert_int_equal(symlinkat("../b", etc, "sub/link"), 0);
	assert_int_equal(mkdirat(u, "opq", 0755), 0);
	put(u, "opq/new", "n", 0644);
	cleanup_close int opq = openat(u, "opq", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *attr = geteuid() == 0 ? "trusted.overlay.opaque" : "user.overlay.opaque";
	assert_int_equal(fsetxattr(opq, attr, "y", 1, 0), 0);
	t->have_whiteout = mknodat(etc, "gone", S_IFCHR | 0, makedev(0, 0)) == 0;
	const char *names[] = {"etc/b",	  "etc/a",   "etc/sub/x y", "etc/big", "etc/sub/link",
			       "opq/new", "etc/sub", "opq",	    "etc"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		stamp(u, names[i], 1600000000 + (time_t)i);
	if (t->have_whiteout)
		stamp(etc, "gone", 1600000100);
	return u;
}

static int upper_tar(void *ud, int dirfd, store_write_fn write, void *wud, struct skiff_err **err)
{
	(void)ud;
	return changes_tar_upper(dirfd, write, wud, err);
}

static int write_fd(void *ud, const void *buf, size_t n)
{
	return write_all(*(int *)ud, buf, n);
}

static int tmpfile_fd(void)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	return fd;
}

static void file_bytes(int fd, struct strbuf *sb)
{
	assert_true(lseek(fd, 0, SEEK_SET) == 0);
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_add(sb, buf, (size_t)n);
	assert_true(n == 0);
}

static size_t count_entries(const char *path)
{
	DIR *d = opendir(path);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* The layer made by rename is the layer the tar path makes of the same tree. */
static void test_same_as_tar(void **state)
{
	struct t *t = *state;
	struct skiff_err *e = NULL;
	cleanup_close int u = make_upper(t);

	/* the tar path: the same tree as a tar */
	cleanup_close int tarfd = tmpfile_fd();
	ok(changes_tar_upper(u, write_fd, &tarfd, &e), &e);
	cleanup_strbuf struct strbuf want = STRBUF_INIT;
	file_bytes(tarfd, &want);
	char want_diff[DIGEST_STR_LEN + 1];
	digest_buf(want.buf, want.len, want_diff);

	struct store_layer_hold *h = store_hold_new(t->s);
	cleanup_free char *id = NULL, *diff = NULL;
	ok(store_layer_create_from_container(t->s, h, NULL, CTR, upper_tar, NULL, &id, &diff, &e), &e);
	assert_string_equal(diff, want_diff);
	char chain[65];
	store_chain_id(NULL, want_diff, chain);
	assert_string_equal(id, chain);
	assert_true(store_layer_complete(t->s, id));
	struct store_layer_info info;
	ok(store_layer_info(t->s, id, &info, &e), &e);
	assert_int_equal(info.size, want.len);
	assert_string_equal(info.diff_id, want_diff);
	store_layer_info_release(&info);

	/* the container keeps an empty upper dir; the files moved, not copied */
	struct stat before, after;
	assert_int_equal(fstatat(u, "etc/big", &before, 0), 0);
	cleanup_free char *upper = xasprintf("%s/containers/%s/diff", t->dir, CTR);
	assert_int_equal(count_entries(upper), 0);
	cleanup_free char *moved = xasprintf("%s/layers/%s/diff/etc/big", t->dir, id);
	assert_int_equal(stat(moved, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	if (t->have_whiteout) {
		cleanup_free char *wh = xasprintf("%s/layers/%s/diff/etc/gone", t->dir, id);
		assert_int_equal(lstat(wh, &after), 0);
		assert_true(S_ISCHR(after.st_mode) && after.st_rdev == makedev(0, 0));
	}
	cleanup_free char *tmp = xasprintf("%s/tmp", t->dir);
	assert_int_equal(count_entries(tmp), 0);

	/* save/push get exactly that tar back (from the tar-split) */
	cleanup_close int outfd = tmpfile_fd();
	ok(store_layer_write_tar(t->s, id, write_fd, &outfd, &e), &e);
	cleanup_strbuf struct strbuf got = STRBUF_INIT;
	file_bytes(outfd, &got);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.buf, want.buf, want.len);

	/* and the tar path gives the same layer, found and not made again: through the same
	 * hold, and through a second hold while the first still holds it (an exclusive OFD
	 * lock would wait on our own shared one for ever) */
	assert_true(lseek(tarfd, 0, SEEK_SET) == 0);
	int fd = tarfd;
	struct store_layer_src src = {.read = store_read_fd, .ud = &fd};
	cleanup_free char *id2 = NULL, *diff2 = NULL;
	ok(store_layer_create_unknown(t->s, h, NULL, &src, &id2, &diff2, &e), &e);
	assert_string_equal(id2, id);
	assert_string_equal(diff2, diff);
	struct store_layer_hold *h2 = store_hold_new(t->s);
	assert_true(lseek(tarfd, 0, SEEK_SET) == 0);
	cleanup_free char *id3 = NULL, *diff3 = NULL;
	ok(store_layer_create_unknown(t->s, h2, NULL, &src, &id3, &diff3, &e), &e);
	assert_string_equal(id3, id);
	assert_string_equal(diff3, diff);
	store_hold_release(h);
	store_hold_release(h2);
	assert_int_equal(count_entries(tmp), 0);
}

/* Two layers from the same tree on a parent: the same chain id as the tar path. */
static void test_on_parent(void **state)
{
	struct t *t = *state;
	struct skiff_err *e = NULL;
	cleanup_close int u = make_upper(t);
	cleanup_close int tarfd = tmpfile_fd();
	ok(changes_tar_upper(u, write_fd, &tarfd, &e), &e);
	char want_diff[DIGEST_STR_LEN + 1];
	assert_true(lseek(tarfd, 0, SEEK_SET) == 0);
	ok(digest_fd(tarfd, want_diff, NULL, &e), &e);
	const char *parent = "1111111111111111111111111111111111111111111111111111111111111111";
	struct store_layer_hold *h = store_hold_new(t->s);
	cleanup_free char *id = NULL, *diff = NULL;
	ok(store_layer_create_from_container(t->s, h, parent, CTR, upper_tar, NULL, &id, &diff, &e), &e);
	char chain[65];
	store_chain_id(parent, want_diff, chain);
	assert_string_equal(id, chain);
	assert_string_equal(diff, want_diff);
	store_hold_release(h);
}

static int fail_tar(void *ud, int dirfd, store_write_fn write, void *wud, struct skiff_err **err)
{
	(void)ud;
	(void)dirfd;
	if (write(wud, "partial", 7) < 0)
		return err_make(err, errno, "write");
	return err_makex(err, EIO, "disk on fire");
}

static int garbage_tar(void *ud, int dirfd, store_write_fn write, void *wud, struct skiff_err **err)
{
	(void)ud;
	(void)dirfd;
	char buf[2048];
	memset(buf, 'G', sizeof(buf));
	for (int i = 0; i < 100; i++) /* more than a pipe holds: the writer must not hang */
		if (write(wud, buf, sizeof(buf)) < 0)
			return err_make(err, errno, "write");
	return 0;
}

/* Failures: the upper dir is back where it was, tmp/ is empty, no layer is left. */
static void test_failures(void **state)
{
	struct t *t = *state;
	struct skiff_err *e = NULL;
	cleanup_close int u = make_upper(t);
	struct store_layer_hold *h = store_hold_new(t->s);
	char *id = NULL, *diff = NULL;
	cleanup_free char *upper = xasprintf("%s/containers/%s/diff", t->dir, CTR);
	cleanup_free char *tmp = xasprintf("%s/tmp", t->dir);
	struct stat st;

	check_err(store_layer_create_from_container(t->s, h, NULL, CTR, fail_tar, NULL, &id, &diff, &e), &e, EIO,
		  "disk on fire");
	assert_int_equal(stat(upper, &st), 0);
	assert_int_equal(count_entries(upper), 2); /* etc, opq */
	assert_int_equal(count_entries(tmp), 0);

	check_err(store_layer_create_from_container(t->s, h, NULL, CTR, garbage_tar, NULL, &id, &diff, &e), &e, EINVAL,
		  "layer tar");
	assert_int_equal(count_entries(upper), 2);
	assert_int_equal(count_entries(tmp), 0);

	check_err(store_layer_create_from_container(t->s, h, NULL, "../../etc", upper_tar, NULL, &id, &diff, &e), &e,
		  EINVAL, "invalid container id \"../../etc\"");
	check_err(store_layer_create_from_container(t->s, h, NULL, "nosuch", upper_tar, NULL, &id, &diff, &e), &e,
		  ENOENT, "containers/nosuch/diff");
	assert_null(id);
	assert_null(diff);
	cleanup_free char *layers = xasprintf("%s/layers", t->dir);
	assert_int_equal(count_entries(layers), 0);
	store_hold_release(h);
}

/* vfs has no upper dir */
static void test_vfs(void **state)
{
	struct t *t = *state;
	struct skiff_err *e = NULL;
	char *id = NULL, *diff = NULL;
	struct store_layer_hold *h = store_hold_new(t->s);
	check_err(store_layer_create_from_container(t->s, h, NULL, CTR, upper_tar, NULL, &id, &diff, &e), &e, ENOTSUP,
		  "vfs");
	store_hold_release(h);
}

static int setup_vfs(void **state)
{
	struct t *t = xzalloc(sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_store_fromdir.XXXXXX");
	if (!mkdtemp(t->dir) || open_store(t, "vfs") < 0)
		return -1;
	*state = t;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_as_tar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_on_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vfs, setup_vfs, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
