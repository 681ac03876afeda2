/* Unit tests for volumes: the name rule, -v/--mount parsing of volumes (with :U and
 * U=true), the store's volume rows (create, duplicate, in use, delete, crash recovery),
 * and the :U chown walk. */
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
#include <unistd.h>

#include "pkg/engine/ctrconfig.h"
#include "pkg/engine/volumes.h"
#include "pkg/store/store.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

static void check_err(int rc, struct skiff_err **e, int st, const char *want)
{
	if (rc != -1 || !*e || (*e)->status != st || !strstr((*e)->msg, want) || strchr((*e)->msg, '\n')) {
		print_error("rc %d, status %d (want %d), message \"%s\", wanted \"%s\"\n", rc, *e ? (*e)->status : 0,
			    st, *e ? (*e)->msg : "(none)", want);
		fail();
	}
	err_clear(e);
}

static void ok(int rc, struct skiff_err **e)
{
	if (rc != 0) {
		print_error("unexpected error: %s\n", *e ? (*e)->msg : "(none)");
		err_clear(e);
		fail();
	}
}

static void test_names(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	static const char *const good[] = {"a", "A0", "data_1.x-y", "0"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(vol_check_name(good[i], &e), &e);
	static const char *const bad[] = {"", "../x", "/x", ".x", "_x", "-x", "a/b", "a b", "a\nb", "a:b", "é"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_err(vol_check_name(bad[i], &e), &e, EINVAL, "volume name");
	check_err(vol_check_name(NULL, &e), &e, EINVAL, "volume name");
	char long_name[301];
	memset(long_name, 'x', 300);
	long_name[300] = 0;
	check_err(vol_check_name(long_name, &e), &e, EINVAL, "too long (300 bytes");
	long_name[255] = 0;
	ok(vol_check_name(long_name, &e), &e);
}

static void test_parse(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	struct ctr_mount m = {0};
	ok(ctr_parse_volume("data:/d:ro,nocopy", &m, &e), &e);
	assert_string_equal(m.type, "volume");
	assert_string_equal(m.source, "data");
	assert_string_equal(m.destination, "/d");
	assert_true(strv_contains(&m.options, "nocopy"));
	ctr_mount_release(&m);
	ok(ctr_parse_volume("/anon/../x", &m, &e), &e);
	assert_string_equal(m.type, "volume");
	assert_null(m.source);
	assert_string_equal(m.destination, "/x");
	ctr_mount_release(&m);
	ok(ctr_parse_volume("/host:/c", &m, &e), &e);
	assert_string_equal(m.type, "bind");
	ctr_mount_release(&m);
	check_err(ctr_parse_volume("x!y:/d", &m, &e), &e, EINVAL, "x!y");
	check_err(ctr_parse_volume("/", &m, &e), &e, EINVAL, "cannot mount over /");
	ok(ctr_parse_mount("type=volume,src=v,dst=/d,ro,volume-nocopy", &m, &e), &e);
	assert_string_equal(m.type, "volume");
	assert_string_equal(m.source, "v");
	assert_true(strv_contains(&m.options, "ro"));
	assert_true(strv_contains(&m.options, "nocopy"));
	ctr_mount_release(&m);
	ok(ctr_parse_mount("type=volume,dst=/d", &m, &e), &e);
	assert_null(m.source);
	ctr_mount_release(&m);
	check_err(ctr_parse_mount("type=volume,src=../x,dst=/d", &m, &e), &e, EINVAL, "../x");
	check_err(ctr_parse_mount("type=volume,src=v", &m, &e), &e, EINVAL, "destination is required");
	check_err(ctr_parse_mount("type=volume,src=v,dst=/d,tmpfs-size=1m", &m, &e), &e, EINVAL, "type=volume");
	check_err(ctr_parse_mount("type=bind,src=/a,dst=/d,volume-nocopy", &m, &e), &e, EINVAL, "volume-nocopy");
}

static void test_parse_chown(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	struct ctr_mount m = {0};
	ok(ctr_parse_volume("data:/d:U,ro", &m, &e), &e);
	assert_true(strv_contains(&m.options, "U"));
	ctr_mount_release(&m);
	ok(ctr_parse_volume("/host:/d:U", &m, &e), &e);
	assert_string_equal(m.type, "bind");
	assert_true(strv_contains(&m.options, "U"));
	ctr_mount_release(&m);
	static const char *const yes[] = {"type=volume,src=v,dst=/d,U", "type=volume,src=v,dst=/d,U=true",
					  "type=bind,src=/h,dst=/d,chown=true", "type=bind,src=/h,dst=/d,U=1"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		ok(ctr_parse_mount(yes[i], &m, &e), &e);
		assert_true(strv_contains(&m.options, "U"));
		ctr_mount_release(&m);
	}
	ok(ctr_parse_mount("type=volume,src=v,dst=/d,U=false", &m, &e), &e);
	assert_false(strv_contains(&m.options, "U"));
	ctr_mount_release(&m);
	check_err(ctr_parse_mount("type=volume,src=v,dst=/d,U=perhaps", &m, &e), &e, EINVAL, "bad value for U");
	check_err(ctr_parse_mount("type=tmpfs,dst=/d,U=true", &m, &e), &e, EINVAL, "U needs type=bind or type=volume");
	check_err(ctr_parse_volume("v:/d:U,X", &m, &e), &e, EINVAL, "unknown option \"X\"");
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void test_chown_tree(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	char dir[64], out[80];
	snprintf(dir, sizeof(dir), "/tmp/test_volchown.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s.outside", dir);
	int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(mkdirat(dfd, "a", 0755), 0);
	assert_int_equal(mkdirat(dfd, "a/b", 0755), 0);
	assert_int_equal(fchmodat(dfd, "a/b", 02775, 0), 0);
	fd = openat(dfd, "a/b/f", O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 04755), 0);
	close(fd);
	assert_int_equal(symlinkat(out, dfd, "a/link"), 0);
	assert_int_equal(mkfifoat(dfd, "fifo", 0600), 0);

	bool root = geteuid() == 0;
	uid_t uid = root ? 4321 : geteuid();
	gid_t gid = root ? 4322 : getegid();
	int before = count_fds();
	ok(vol_chown_tree(dfd, dir, uid, gid, &e), &e);
	assert_int_equal(count_fds(), before);
	static const char *const paths[] = {".", "a", "a/b", "a/b/f", "a/link", "fifo"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct stat st;
		assert_int_equal(fstatat(dfd, paths[i], &st, AT_SYMLINK_NOFOLLOW), 0);
		if (st.st_uid != uid || st.st_gid != gid) {
			print_error("%s: %u:%u, want %u:%u\n", paths[i], (unsigned)st.st_uid, (unsigned)st.st_gid,
				    (unsigned)uid, (unsigned)gid);
			fail();
		}
		if (!strcmp(paths[i], "a/b/f"))
			assert_int_equal(st.st_mode & 07777, 04755); /* setuid put back */
		if (!strcmp(paths[i], "a/b"))
			assert_int_equal(st.st_mode & 07777, 02775);
	}
	struct stat st;
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_uid, geteuid()); /* the symlink's target is not followed */
	/* a file, not a directory, is chowned alone */
	fd = openat(dfd, "a/b/f", O_PATH | O_CLOEXEC);
	assert_true(fd >= 0);
	ok(vol_chown_tree(fd, "f", uid, gid, &e), &e);
	close(fd);
	if (!root) {
		/* not permitted: the error names the path */
		check_err(vol_chown_tree(dfd, dir, 0, 0, &e), &e, EPERM, dir);
		assert_int_equal(count_fds(), before);
	}
	close(dfd);
	struct skiff_err *e2 = NULL;
	rm_rf_at(AT_FDCWD, dir, &e2);
	err_free(e2);
	unlink(out);
}

struct t {
	char dir[64];
	struct store *s;
};

static int setup(void **state)
{
	struct t *t = xzalloc(sizeof(*t));
	struct skiff_err *err = NULL;
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_volumes.XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	struct store_opts o = {.graphroot = t->dir, .driver = "vfs", .recover = true};
	if (store_open(&o, &t->s, &err) < 0) {
		err_free(err);
		return -1;
	}
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

static void test_store(void **state)
{
	struct t *t = *state;
	struct skiff_err *e = NULL;
	struct store_volume v = {
		.name = (char *)"v1", .labels_json = (char *)"{\"a\":\"b\"}", .created = 5, .needs_copy = true};
	ok(store_volume_create(t->s, &v, &e), &e);
	check_err(store_volume_create(t->s, &v, &e), &e, EEXIST, "volume with name v1 already exists");
	struct store_volume got = {0};
	ok(store_volume_get(t->s, "v1", &got, &e), &e);
	assert_string_equal(got.driver, "local");
	assert_string_equal(got.labels_json, "{\"a\":\"b\"}");
	assert_true(got.needs_copy);
	store_volume_release(&got);
	cleanup_free char *data = store_volume_data(t->s, "v1");
	struct stat st;
	assert_int_equal(stat(data, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	check_err(store_volume_get(t->s, "nope", &got, &e), &e, ENOENT, "no volume with name \"nope\" found");
	/* hostile names never reach the filesystem */
	struct store_volume bad = {.name = (char *)"../escape"};
	check_err(store_volume_create(t->s, &bad, &e), &e, EINVAL, "invalid volume name");
	check_err(store_volume_delete(t->s, "../escape", &e), &e, EINVAL, "invalid volume name");
	/* attach to a missing volume is ENOENT, and nothing is recorded */
	struct strv names = STRV_INIT;
	strv_push(&names, "missing");
	check_err(store_volume_attach(t->s, "c1", &names, &e), &e, ENOENT, "missing");
	strv_release(&names);
	struct store_volume *list = NULL;
	size_t n = 0;
	ok(store_volume_list(t->s, &list, &n, &e), &e);
	assert_int_equal(n, 1);
	store_volumes_free(list, n);
	ok(store_volume_set_copied(t->s, "v1", &e), &e);
	ok(store_volume_get(t->s, "v1", &got, &e), &e);
	assert_false(got.needs_copy);
	store_volume_release(&got);
	ok(store_volume_delete(t->s, "v1", &e), &e);
	assert_int_not_equal(stat(data, &st), 0);
	check_err(store_volume_delete(t->s, "v1", &e), &e, ENOENT, "v1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_chown),
		cmocka_unit_test(test_chown_tree),
		cmocka_unit_test_setup_teardown(test_store, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
