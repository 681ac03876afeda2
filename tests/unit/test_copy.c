/* Unit tests for pkg/engine/copy: docker's cp rules and containment, on real temp
 * directories: a "container" root full of hostile symlinks, a host side, and an
 * "outside" directory that nothing may ever read through or write to. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pkg/engine/copy.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/err.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

struct fx {
	char *top;     /* temp dir */
	char *host;    /* top/host: the host side */
	char *outside; /* top/outside: never to be touched */
	int rootfd;    /* top/root: the container */
	int hostfd;
};

static struct fx *F;

static void write_at(int dfd, const char *name, const char *text)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The content of dfd/name, or NULL when it cannot be read (caller frees). */
static char *read_at(int dfd, const char *name)
{
	char *buf = NULL;
	size_t len;
	cleanup_err struct skiff_err *e = NULL;
	if (read_file_at(dfd, name, 1 << 20, &buf, &len, &e) < 0)
		return NULL;
	return buf;
}

static bool exists_at(int dfd, const char *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool is_link_at(int dfd, const char *name, const char *target)
{
	char buf[4096];
	ssize_t n = readlinkat(dfd, name, buf, sizeof(buf) - 1);
	if (n < 0)
		return false;
	buf[n] = 0;
	return !strcmp(buf, target);
}

static void outside_untouched(void)
{
	int ofd = open(F->outside, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(ofd >= 0);
	cleanup_free char *s = read_at(ofd, "secret");
	assert_non_null(s);
	assert_string_equal(s, "secret");
	/* nothing else appeared there */
	int n = 0;
	DIR *d = fdopendir(ofd);
	for (struct dirent *de; (de = readdir(d));)
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	assert_int_equal(n, 1);
}

static int setup(void **state)
{
	struct fx *f = xzalloc(sizeof(*f));
	const char *tmp = getenv("TMPDIR");
	f->top = xasprintf("%s/skiff-test-copy-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->top));
	f->outside = xasprintf("%s/outside", f->top);
	f->host = xasprintf("%s/host", f->top);
	cleanup_free char *root = xasprintf("%s/root", f->top);
	assert_int_equal(mkdir(f->outside, 0755), 0);
	assert_int_equal(mkdir(f->host, 0755), 0);
	assert_int_equal(mkdir(root, 0755), 0);
	int ofd = open(f->outside, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	write_at(ofd, "secret", "secret");
	close(ofd);

	int r = f->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(r >= 0);
	assert_int_equal(mkdirat(r, "etc", 0755), 0);
	write_at(r, "etc/passwd", "fake");
	assert_int_equal(mkdirat(r, "tmp", 01777), 0);
	assert_int_equal(mkdirat(r, "d", 0750), 0);
	write_at(r, "d/f", "eff");
	assert_int_equal(mkdirat(r, "d/sub", 0755), 0);
	write_at(r, "d/sub/g", "gee");
	assert_int_equal(symlinkat("/etc", r, "d/lnk"), 0);
	assert_int_equal(linkat(r, "d/f", r, "d/f2", 0), 0);
	assert_int_equal(symlinkat("/etc", r, "abs"), 0);
	assert_int_equal(symlinkat("../../../../../../etc", r, "up"), 0);
	assert_int_equal(symlinkat("/", r, "rootlink"), 0);
	assert_int_equal(symlinkat(f->outside, r, "outlink"), 0);
	cleanup_free char *sec = xasprintf("%s/secret", f->outside);
	assert_int_equal(symlinkat(sec, r, "tmp/evil"), 0);
	assert_int_equal(symlinkat("/etc/passwd", r, "tmp/pw"), 0);
	assert_int_equal(symlinkat("loop2", r, "loop1"), 0);
	assert_int_equal(symlinkat("loop1", r, "loop2"), 0);

	int h = f->hostfd = open(f->host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(h >= 0);
	write_at(h, "hf", "host");
	assert_int_equal(mkdirat(h, "hd", 0700), 0);
	write_at(h, "hd/x", "ex");
	assert_int_equal(mkdirat(h, "hd/y", 0755), 0);
	write_at(h, "hd/y/z", "zed");
	F = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	close(f->rootfd);
	close(f->hostfd);
	rm_rf_at(AT_FDCWD, f->top, NULL);
	free(f->top);
	free(f->host);
	free(f->outside);
	free(f);
	return 0;
}

static struct copy_loc ctr(const char *path)
{
	return (struct copy_loc){.rootfd = F->rootfd, .in_root = true, .path = path, .where = "container c1"};
}

/* host paths are absolute under F->host */
static char *hp(const char *rel)
{
	return xasprintf("%s/%s", F->host, rel);
}

static struct copy_loc host(const char *abs)
{
	return (struct copy_loc){.rootfd = AT_FDCWD, .path = abs, .where = "the host"};
}

static int cp(struct copy_loc s, struct copy_loc d, struct copy_opts *o, struct skiff_err **err)
{
	struct copy_opts def = {0};
	return copy_path(&s, &d, o ? o : &def, err);
}

/* (e is passed by address: it is read after rc was computed) */
static void expect_err(int rc, struct skiff_err **ep, int status, const char *substr)
{
	struct skiff_err *e = *ep;
	assert_int_equal(rc, -1);
	assert_non_null(e);
	if (status)
		assert_int_equal(e->status, status);
	if (!strstr(e->msg, substr))
		fail_msg("error \"%s\" lacks \"%s\"", e->msg, substr);
}

/* ---- docker's table, into the container ---- */

static void test_file_in(void **state)
{
	(void)state;
	cleanup_free char *hf = hp("hf"), *hd = hp("hd"), *hdx = hp("hd/x/");
	struct skiff_err *e = NULL;
	/* DEST missing: the file is created there */
	assert_int_equal(cp(host(hf), ctr("/tmp/new"), NULL, &e), 0);
	cleanup_free char *s = read_at(F->rootfd, "tmp/new");
	assert_string_equal(s, "host");
	/* DEST an existing file: overwritten */
	write_at(F->hostfd, "hf", "host2");
	assert_int_equal(cp(host(hf), ctr("tmp/new"), NULL, &e), 0); /* no leading '/': the same */
	free(s);
	s = read_at(F->rootfd, "tmp/new");
	assert_string_equal(s, "host2");
	/* DEST a directory: into it */
	assert_int_equal(cp(host(hf), ctr("/etc"), NULL, &e), 0);
	assert_true(exists_at(F->rootfd, "etc/hf"));
	/* DEST ending in '/' must exist */
	expect_err(cp(host(hf), ctr("/nodir/"), NULL, &e), &e, ENOENT,
		   "\"/nodir/\" could not be found on container c1");
	err_clear(&e);
	/* the parent must exist */
	expect_err(cp(host(hf), ctr("/no/such"), NULL, &e), &e, ENOENT, "/no/such");
	err_clear(&e);
	/* DEST ending in '/' that is a file */
	expect_err(cp(host(hf), ctr("/etc/passwd/"), NULL, &e), &e, ENOTDIR, "/etc/passwd/");
	err_clear(&e);
	/* SRC missing, SRC "file/" */
	cleanup_free char *nosuch = hp("nosuch"), *hfslash = hp("hf/");
	expect_err(cp(host(nosuch), ctr("/tmp"), NULL, &e), &e, ENOENT, "could not be found on the host");
	err_clear(&e);
	expect_err(cp(host(hfslash), ctr("/tmp"), NULL, &e), &e, ENOTDIR, "hf/");
	err_clear(&e);
	(void)hd;
	(void)hdx;
}

static void test_dir_in(void **state)
{
	(void)state;
	cleanup_free char *hd = hp("hd"), *hddot = hp("hd/."), *hf = hp("hf");
	struct skiff_err *e = NULL;
	struct copy_opts o = {0};
	/* DEST missing: made, with SRC's contents */
	assert_int_equal(cp(host(hd), ctr("/tmp/n1"), &o, &e), 0);
	assert_true(exists_at(F->rootfd, "tmp/n1/x"));
	assert_true(exists_at(F->rootfd, "tmp/n1/y/z"));
	struct stat st;
	assert_int_equal(fstatat(F->rootfd, "tmp/n1", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0700); /* the mode is kept */
	assert_int_equal(o.ret_copied, 4);
	/* DEST an existing directory: SRC goes into it */
	assert_int_equal(cp(host(hd), ctr("/tmp/n1"), NULL, &e), 0);
	assert_true(exists_at(F->rootfd, "tmp/n1/hd/y/z"));
	/* SRC/. : the contents are merged */
	assert_int_equal(cp(host(hddot), ctr("/etc"), NULL, &e), 0);
	assert_true(exists_at(F->rootfd, "etc/x"));
	assert_true(exists_at(F->rootfd, "etc/y/z"));
	assert_false(exists_at(F->rootfd, "etc/hd"));
	cleanup_free char *pw = read_at(F->rootfd, "etc/passwd");
	assert_string_equal(pw, "fake");
	/* DEST a file */
	expect_err(cp(host(hd), ctr("/etc/passwd"), NULL, &e), &e, EISDIR,
		   "destination must be a directory when copying a directory");
	err_clear(&e);
	/* a file onto a directory, and a directory onto a file: only with overwrite */
	assert_int_equal(mkdirat(F->hostfd, "m", 0755), 0);
	write_at(F->hostfd, "m/y", "now a file");
	cleanup_free char *m = hp("m/.");
	expect_err(cp(host(m), ctr("/etc"), NULL, &e), &e, EEXIST, "cannot overwrite directory \"y\" on container c1");
	err_clear(&e);
	o = (struct copy_opts){.overwrite = true};
	assert_int_equal(cp(host(m), ctr("/etc"), &o, &e), 0);
	cleanup_free char *y = read_at(F->rootfd, "etc/y");
	assert_string_equal(y, "now a file");
	assert_int_equal(unlinkat(F->hostfd, "m/y", 0), 0);
	assert_int_equal(mkdirat(F->hostfd, "m/passwd", 0755), 0);
	expect_err(cp(host(m), ctr("/etc"), NULL, &e), &e, EEXIST, "non-directory \"passwd\"");
	err_clear(&e);
	assert_int_equal(cp(host(m), ctr("/etc"), &o, &e), 0);
	assert_int_equal(fstatat(F->rootfd, "etc/passwd", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(st.st_mode));
	(void)hf;
}

/* ---- containment ---- */

static void test_hostile_dest(void **state)
{
	(void)state;
	cleanup_free char *hf = hp("hf"), *hd = hp("hd");
	struct skiff_err *e = NULL;
	/* an absolute symlink to /etc is the container's /etc */
	assert_int_equal(cp(host(hf), ctr("/abs/"), NULL, &e), 0);
	assert_true(exists_at(F->rootfd, "etc/hf"));
	assert_int_equal(cp(host(hd), ctr("/up/deep"), NULL, &e), 0);
	assert_true(exists_at(F->rootfd, "etc/deep/y/z"));
	assert_int_equal(cp(host(hf), ctr("/rootlink/../../../etc/r"), NULL, &e), 0);
	assert_true(exists_at(F->rootfd, "etc/r"));
	/* ".." in the path stays at the root */
	assert_int_equal(cp(host(hf), ctr("../../../../tmp/dots"), NULL, &e), 0);
	assert_true(exists_at(F->rootfd, "tmp/dots"));
	/* a symlink to a host path is read inside the root: that path does not exist there */
	expect_err(cp(host(hf), ctr("/outlink/pwned"), NULL, &e), &e, ENOENT, "/outlink/pwned");
	err_clear(&e);
	expect_err(cp(host(hf), ctr("/outlink/"), NULL, &e), &e, ENOENT, "/outlink/");
	err_clear(&e);
	/* a final symlink to a host file: followed inside the root only */
	expect_err(cp(host(hf), ctr("/tmp/evil"), NULL, &e), &e, ENOENT, "/tmp/evil");
	err_clear(&e);
	/* a final symlink to a file inside: that file is overwritten */
	assert_int_equal(cp(host(hf), ctr("/tmp/pw"), NULL, &e), 0);
	cleanup_free char *pw = read_at(F->rootfd, "etc/passwd");
	assert_string_equal(pw, "host");
	assert_true(is_link_at(F->rootfd, "tmp/pw", "/etc/passwd"));
	/* loops */
	expect_err(cp(host(hf), ctr("/loop1"), NULL, &e), &e, ELOOP, "/loop1");
	err_clear(&e);
	/* a symlink inside a merged tree is replaced, not written through */
	assert_int_equal(symlinkat(F->outside, F->rootfd, "tmp/x"), 0);
	cleanup_free char *hddot = hp("hd/.");
	assert_int_equal(cp(host(hddot), ctr("/tmp"), NULL, &e), 0);
	cleanup_free char *x = read_at(F->rootfd, "tmp/x");
	assert_string_equal(x, "ex");
	struct stat st;
	assert_int_equal(fstatat(F->rootfd, "tmp/x", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	/* and a directory symlink in the way of a directory is an error (never followed) */
	assert_int_equal(symlinkat(F->outside, F->rootfd, "tmp/y2"), 0);
	assert_int_equal(renameat(F->hostfd, "hd/y", F->hostfd, "hd/y2"), 0);
	expect_err(cp(host(hddot), ctr("/tmp"), NULL, &e), &e, EEXIST, "non-directory \"y2\"");
	err_clear(&e);
	outside_untouched();
}

static void test_out(void **state)
{
	(void)state;
	cleanup_free char *out = hp("out"), *outf = hp("out/f");
	assert_int_equal(mkdirat(F->hostfd, "out", 0755), 0);
	struct skiff_err *e = NULL;
	struct copy_opts o = {.skip_devices = true};
	/* through the container's own symlinks, never the host's */
	assert_int_equal(cp(ctr("/abs/passwd"), host(outf), &o, &e), 0);
	cleanup_free char *s = read_at(F->hostfd, "out/f");
	assert_string_equal(s, "fake");
	assert_int_equal(cp(ctr("/up/passwd"), host(out), &o, &e), 0);
	assert_true(exists_at(F->hostfd, "out/passwd"));
	expect_err(cp(ctr("/outlink/secret"), host(out), &o, &e), &e, ENOENT,
		   "\"/outlink/secret\" could not be found on container c1");
	err_clear(&e);
	expect_err(cp(ctr("/tmp/evil"), host(out), &(struct copy_opts){.follow_link = true}, &e), &e, ENOENT,
		   "/tmp/evil");
	err_clear(&e);
	/* a symlink is copied as a symlink; -L follows it (inside) and keeps its name */
	assert_int_equal(cp(ctr("/tmp/evil"), host(out), &o, &e), 0);
	cleanup_free char *sec = xasprintf("%s/secret", F->outside);
	assert_true(is_link_at(F->hostfd, "out/evil", sec));
	o.follow_link = true;
	assert_int_equal(cp(ctr("/abs"), host(out), &o, &e), 0);
	cleanup_free char *p2 = read_at(F->hostfd, "out/abs/passwd");
	assert_string_equal(p2, "fake");
	o.follow_link = false;
	/* a tree: modes, symlinks as they are, hard links kept */
	assert_int_equal(cp(ctr("/d"), host(out), &o, &e), 0);
	assert_true(is_link_at(F->hostfd, "out/d/lnk", "/etc"));
	struct stat a, b;
	assert_int_equal(fstatat(F->hostfd, "out/d", &a, 0), 0);
	assert_int_equal(a.st_mode & 07777, 0750);
	assert_int_equal(fstatat(F->hostfd, "out/d/f", &a, 0), 0);
	assert_int_equal(fstatat(F->hostfd, "out/d/f2", &b, 0), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	/* the root: its contents */
	assert_int_equal(mkdirat(F->hostfd, "all", 0755), 0);
	cleanup_free char *all = hp("all");
	assert_int_equal(cp(ctr("/"), host(all), &o, &e), 0);
	assert_true(exists_at(F->hostfd, "all/etc/passwd"));
	assert_true(is_link_at(F->hostfd, "all/rootlink", "/"));
	/* SRC "dir/" that is a file; SRC/. that is a file */
	expect_err(cp(ctr("/etc/passwd/"), host(out), &o, &e), &e, ENOTDIR, "/etc/passwd/");
	err_clear(&e);
	expect_err(cp(ctr("/etc/passwd/."), host(out), &o, &e), &e, 0, "/etc/passwd/.");
	err_clear(&e);
	outside_untouched();
}

static void test_between_containers(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	/* the same root on both sides: a directory copied into itself stops at itself */
	assert_int_equal(cp(ctr("/d"), ctr("/d/sub"), NULL, &e), 0);
	assert_true(exists_at(F->rootfd, "d/sub/d/sub/g"));
	assert_false(exists_at(F->rootfd, "d/sub/d/sub/d"));
}

/* ---- tar streams ---- */

static int tmpfile_fd(void)
{
	cleanup_free char *name = xasprintf("%s/tar-XXXXXX", F->top);
	int fd = mkostemp(name, O_CLOEXEC);
	assert_true(fd >= 0);
	unlink(name);
	return fd;
}

static void test_tar_roundtrip(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	struct copy_opts o = {0};
	cleanup_close int fd = tmpfile_fd();
	struct copy_loc s = ctr("/d");
	assert_int_equal(copy_tar_out(&s, fd, &o, &e), 0);
	assert_int_equal(o.ret_copied, 6);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	struct copy_loc d = ctr("/tmp");
	assert_int_equal(copy_tar_in(fd, &d, &o, &e), 0);
	assert_true(exists_at(F->rootfd, "tmp/d/sub/g"));
	assert_true(is_link_at(F->rootfd, "tmp/d/lnk", "/etc"));
	struct stat a, b;
	assert_int_equal(fstatat(F->rootfd, "tmp/d/f", &a, 0), 0);
	assert_int_equal(fstatat(F->rootfd, "tmp/d/f2", &b, 0), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(fstatat(F->rootfd, "tmp/d", &a, 0), 0);
	assert_int_equal(a.st_mode & 07777, 0750);
	/* "dir/." : no top entry */
	cleanup_close int fd2 = tmpfile_fd();
	s = ctr("/d/.");
	assert_int_equal(copy_tar_out(&s, fd2, &o, &e), 0);
	assert_int_equal(lseek(fd2, 0, SEEK_SET), 0);
	d = ctr("/etc");
	assert_int_equal(copy_tar_in(fd2, &d, &o, &e), 0);
	assert_true(exists_at(F->rootfd, "etc/sub/g"));
	/* the destination must be a directory */
	assert_int_equal(lseek(fd2, 0, SEEK_SET), 0);
	d = ctr("/etc/passwd");
	expect_err(copy_tar_in(fd2, &d, &o, &e), &e, ENOTDIR,
		   "destination must be a directory when copying from stdin");
	err_clear(&e);
	d = ctr("/nosuch");
	expect_err(copy_tar_in(fd2, &d, &o, &e), &e, ENOENT, "/nosuch");
	err_clear(&e);
	s = ctr("/nosuch");
	expect_err(copy_tar_out(&s, fd2, &o, &e), &e, ENOENT, "\"/nosuch\" could not be found on container c1");
	err_clear(&e);
}

enum { T_FILE, T_DIR, T_LINK, T_HARD };

struct member {
	int type;
	const char *name, *arg; /* arg: content, or link target */
};

static int make_tar(const struct member *m, size_t n)
{
	int fd = tmpfile_fd();
	struct archive *a = archive_write_new();
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ent = archive_entry_new();
		archive_entry_set_pathname(ent, m[i].name);
		archive_entry_set_perm(ent, 0644);
		switch (m[i].type) {
		case T_FILE:
			archive_entry_set_filetype(ent, AE_IFREG);
			archive_entry_set_size(ent, (la_int64_t)strlen(m[i].arg));
			break;
		case T_DIR:
			archive_entry_set_filetype(ent, AE_IFDIR);
			archive_entry_set_perm(ent, 0755);
			break;
		case T_LINK:
			archive_entry_set_filetype(ent, AE_IFLNK);
			archive_entry_set_symlink(ent, m[i].arg);
			break;
		case T_HARD:
			archive_entry_set_filetype(ent, AE_IFREG);
			archive_entry_set_hardlink(ent, m[i].arg);
			break;
		}
		assert_int_equal(archive_write_header(a, ent), ARCHIVE_OK);
		if (m[i].type == T_FILE)
			assert_int_equal(archive_write_data(a, m[i].arg, strlen(m[i].arg)),
					 (la_ssize_t)strlen(m[i].arg));
		archive_entry_free(ent);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void tar_expect(const struct member *m, size_t n, const char *dest, int status, const char *substr)
{
	cleanup_close int fd = make_tar(m, n);
	struct copy_opts o = {0};
	struct copy_loc d = ctr(dest);
	struct skiff_err *e = NULL;
	int rc = copy_tar_in(fd, &d, &o, &e);
	if (!substr) {
		if (rc < 0)
			fail_msg("unexpected error: %s", e->msg);
		return;
	}
	expect_err(rc, &e, status, substr);
	err_clear(&e);
}

static void test_tar_hostile(void **state)
{
	(void)state;
	cleanup_free char *sec = xasprintf("%s/secret", F->outside);
	/* climbing out */
	struct member up[] = {{T_FILE, "../../../escape", "x"}};
	tar_expect(up, 1, "/tmp", EINVAL, "tar member \"../../../escape\"");
	struct member up2[] = {{T_FILE, "a/../../escape", "x"}};
	tar_expect(up2, 1, "/tmp", EINVAL, "escapes");
	/* a symlink member, then a file through it */
	struct member through[] = {{T_LINK, "l", F->outside}, {T_FILE, "l/pwned", "x"}};
	tar_expect(through, 2, "/tmp", ELOOP, "tar member \"l/pwned\"");
	struct member through2[] = {{T_LINK, "r", "/"}, {T_FILE, "r/etc/passwd", "x"}};
	tar_expect(through2, 2, "/tmp", ELOOP, "r/etc/passwd");
	/* a symlink member, then a file of the same name: replaced, not written through */
	struct member swap[] = {{T_LINK, "s", sec}, {T_FILE, "s", "mine"}};
	tar_expect(swap, 2, "/tmp", 0, NULL);
	cleanup_free char *s = read_at(F->rootfd, "tmp/s");
	assert_string_equal(s, "mine");
	/* hard links must point inside the destination, at a non-directory */
	struct member hard[] = {{T_HARD, "h", "../outside/secret"}};
	tar_expect(hard, 1, "/tmp", EINVAL, "hard link");
	struct member hard2[] = {{T_HARD, "h", "evil"}}; /* tmp/evil: a symlink to the host's secret */
	tar_expect(hard2, 1, "/tmp", 0, NULL);
	assert_true(is_link_at(F->rootfd, "tmp/h", sec)); /* linked the symlink itself */
	/* absolute members land below the destination; missing parents are made */
	struct member absm[] = {{T_FILE, "/new/deep/file", "abs"}};
	tar_expect(absm, 1, "/tmp", 0, NULL);
	cleanup_free char *a = read_at(F->rootfd, "tmp/new/deep/file");
	assert_string_equal(a, "abs");
	/* the destination itself resolves inside the root */
	struct member plain[] = {{T_FILE, "p", "p"}};
	tar_expect(plain, 1, "/outlink", ENOENT, "/outlink");
	tar_expect(plain, 1, "/abs", 0, NULL);
	assert_true(exists_at(F->rootfd, "etc/p"));
	/* not a tar at all */
	cleanup_close int fd = tmpfile_fd();
	assert_int_equal(write(fd, "hello, not a tar\n", 17), 17);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	struct copy_opts o = {0};
	struct copy_loc d = ctr("/tmp");
	struct skiff_err *e = NULL;
	expect_err(copy_tar_in(fd, &d, &o, &e), &e, EINVAL, "tar");
	err_clear(&e);
	outside_untouched();
}

static void test_owner(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	cleanup_free char *hd = hp("hd");
	struct skiff_err *e = NULL;
	struct copy_opts o = {.chown = true, .uid = 1234, .gid = 4321};
	assert_int_equal(cp(host(hd), ctr("/tmp/owned"), &o, &e), 0);
	struct stat st;
	assert_int_equal(fstatat(F->rootfd, "tmp/owned/y/z", &st, 0), 0);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 4321);
	assert_int_equal(fstatat(F->rootfd, "tmp/owned", &st, 0), 0);
	assert_int_equal(st.st_uid, 1234);
	/* keep_owner: the source's */
	assert_int_equal(fchownat(F->hostfd, "hf", 777, 888, 0), 0);
	cleanup_free char *hf = hp("hf");
	o = (struct copy_opts){.keep_owner = true};
	assert_int_equal(cp(host(hf), ctr("/tmp/kept"), &o, &e), 0);
	assert_int_equal(fstatat(F->rootfd, "tmp/kept", &st, 0), 0);
	assert_int_equal(st.st_uid, 777);
	assert_int_equal(st.st_gid, 888);
	/* neither: ours */
	o = (struct copy_opts){0};
	assert_int_equal(cp(host(hf), ctr("/tmp/ours"), &o, &e), 0);
	assert_int_equal(fstatat(F->rootfd, "tmp/ours", &st, 0), 0);
	assert_int_equal(st.st_uid, 0);
	/* device nodes: created in a container, skipped towards the host */
	assert_int_equal(mknodat(F->rootfd, "null", S_IFCHR | 0666, makedev(1, 3)), 0);
	assert_int_equal(fchmodat(F->rootfd, "null", 0666, 0), 0);
	cleanup_free char *out = hp("nul");
	o = (struct copy_opts){.skip_devices = true};
	assert_int_equal(cp(ctr("/null"), host(out), &o, &e), 0);
	assert_int_equal(o.ret_skipped, 1);
	assert_false(exists_at(F->hostfd, "nul"));
	o = (struct copy_opts){0};
	assert_int_equal(cp(ctr("/null"), ctr("/tmp/null2"), &o, &e), 0);
	assert_int_equal(fstatat(F->rootfd, "tmp/null2", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0666);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_dest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_between_containers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tar_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tar_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
