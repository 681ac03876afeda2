/* Unit tests for pkg/store/archive: layer apply (plain, gzip, zstd), whiteouts in both
 * modes, hostile tars, broken streams, digests, and the byte-exact tar-split round trip.
 * Tars are built here with libarchive's writer, or by hand for odd framings. */
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
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "pkg/digest/digest.h"
#include "pkg/store/archive.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/err.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#define T0 1600000000

/* ---- temp dirs ---- */

struct fx {
	char *top;
	int rootfd; /* top/root: the layer directory */
	int outfd;  /* top/outside: must never be touched */
	char *outside;
};

/* Test trees go with the project's own rm -rf (vendor-free/fileio, tested there). */
static void rm_tree_at(int dfd, const char *name)
{
	rm_rf_at(dfd, name, NULL);
}

static int setup(void **state)
{
	struct fx *f = xzalloc(sizeof(*f));
	cleanup_free char *root = NULL;

	f->top = xstrdup("/tmp/skiff-test-archive-XXXXXX");
	assert_non_null(mkdtemp(f->top));
	root = xasprintf("%s/root", f->top);
	f->outside = xasprintf("%s/outside", f->top);
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(f->outside, 0755), 0);
	f->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	f->outfd = open(f->outside, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->rootfd >= 0 && f->outfd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	close(f->rootfd);
	close(f->outfd);
	rm_tree_at(AT_FDCWD, f->top);
	free(f->top);
	free(f->outside);
	free(f);
	return 0;
}

static char *read_at(int dfd, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t n;
	int fd = openat(dfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_add(&sb, buf, (size_t)n);
	close(fd);
	return strbuf_detach(&sb, NULL);
}

static void write_at(int dfd, const char *path, const char *text)
{
	int fd = openat(dfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void expect_content(int dfd, const char *path, const char *want)
{
	cleanup_free char *got = read_at(dfd, path);
	if (strcmp(got, want) != 0)
		fail_msg("%s: '%s', want '%s'", path, got, want);
}

static bool exists_at(int dfd, const char *path)
{
	struct stat st;
	return fstatat(dfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* ---- building tars ---- */

struct tent {
	const char *name;
	mode_t mode; /* with the S_IF type; 0: a regular 0644 file */
	const char *data;
	size_t len;	      /* 0: strlen(data) */
	const char *link;     /* symlink target */
	const char *hardlink; /* hard link target */
	int64_t uid, gid;
	time_t mtime; /* 0: T0 */
	dev_t rdev;
	const char *xname;
	const char *xval;
};

static la_ssize_t sb_write(struct archive *a, void *ud, const void *buf, size_t n)
{
	(void)a;
	strbuf_add(ud, buf, n);
	return (la_ssize_t)n;
}

static struct archive *tar_begin(struct strbuf *out, int format)
{
	struct archive *a = archive_write_new();
	assert_int_equal(archive_write_set_format(a, format), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_none(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open(a, out, NULL, sb_write, NULL), ARCHIVE_OK);
	return a;
}

static void tar_add(struct archive *a, const struct tent *t)
{
	struct archive_entry *e = archive_entry_new();
	size_t len = t->data ? (t->len ? t->len : strlen(t->data)) : 0;
	mode_t mode = t->mode ? t->mode : (S_IFREG | 0644);

	archive_entry_set_pathname(e, t->name);
	archive_entry_set_mode(e, mode);
	archive_entry_set_uid(e, t->uid);
	archive_entry_set_gid(e, t->gid);
	archive_entry_set_mtime(e, t->mtime ? t->mtime : T0, 0);
	if (t->link)
		archive_entry_set_symlink(e, t->link);
	if (t->hardlink) {
		archive_entry_set_hardlink(e, t->hardlink);
		len = 0;
	}
	if (S_ISCHR(mode) || S_ISBLK(mode))
		archive_entry_set_rdev(e, t->rdev);
	if (t->xname)
		archive_entry_xattr_add_entry(e, t->xname, t->xval, strlen(t->xval));
	archive_entry_set_size(e, (la_int64_t)len);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		fail_msg("write header %s: %s", t->name, archive_error_string(a));
	if (len)
		assert_int_equal(archive_write_data(a, t->data, len), (la_ssize_t)len);
	archive_entry_free(e);
}

static void tar_end(struct archive *a)
{
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static void build_tar(struct strbuf *out, int format, const struct tent *ents, size_t n)
{
	struct archive *a = tar_begin(out, format);
	for (size_t i = 0; i < n; i++)
		tar_add(a, &ents[i]);
	tar_end(a);
}

/* Compress with a libarchive filter (the raw format writes the bytes as they are). */
static void compress(const struct strbuf *in, int filter, struct strbuf *out)
{
	struct archive *a;
	struct archive_entry *e;

	if (filter == ARCHIVE_FILTER_NONE) {
		strbuf_add(out, in->buf, in->len);
		return;
	}
	a = archive_write_new();
	assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter(a, filter), ARCHIVE_OK);
	assert_int_equal(archive_write_set_bytes_per_block(a, 0), ARCHIVE_OK);
	assert_int_equal(archive_write_open(a, out, NULL, sb_write, NULL), ARCHIVE_OK);
	e = archive_entry_new();
	archive_entry_set_pathname(e, "data");
	archive_entry_set_mode(e, S_IFREG | 0644);
	archive_entry_set_size(e, (la_int64_t)in->len);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	if (in->len)
		assert_int_equal(archive_write_data(a, in->buf, in->len), (la_ssize_t)in->len);
	archive_entry_free(e);
	tar_end(a);
}

/* n-1 octal digits and a NUL */
static void put_octal(unsigned char *f, size_t n, uint64_t v)
{
	f[n - 1] = '\0';
	for (size_t i = n - 1; i > 0; i--, v >>= 3)
		f[i - 1] = (unsigned char)('0' + (v & 7));
}

static void fix_checksum(unsigned char *h)
{
	unsigned sum = 0;
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	put_octal(h + 148, 7, sum);
}

/* A hand-made ustar header (for framings libarchive's writer does not produce). */
static void raw_header(struct strbuf *out, const char *name, char type, uint64_t size, bool base256)
{
	unsigned char h[512];

	memset(h, 0, sizeof(h));
	memcpy(h, name, strlen(name));
	memcpy(h + 100, "0000644", 7);
	memcpy(h + 108, "0000000", 7);
	memcpy(h + 116, "0000000", 7);
	if (base256) {
		h[124] = 0x80;
		for (int i = 0; i < 8; i++)
			h[135 - i] = (unsigned char)(size >> (8 * i));
	} else {
		put_octal(h + 124, 12, size);
	}
	put_octal(h + 136, 12, T0);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	fix_checksum(h);
	strbuf_add(out, h, sizeof(h));
}

static void raw_body(struct strbuf *out, const char *data, size_t n)
{
	strbuf_add(out, data, n);
	strbuf_addchars(out, '\0', (512 - n % 512) % 512);
}

static void raw_pax(struct strbuf *out, const char *records)
{
	raw_header(out, "PaxHeader", 'x', strlen(records), false);
	raw_body(out, records, strlen(records));
}

/* Append one pax record "LEN key=value\n", LEN counting itself. */
static void pax_rec(struct strbuf *recs, const char *key, const char *value)
{
	size_t body = 1 + strlen(key) + 1 + strlen(value) + 1, len = body + 1;
	while (snprintf(NULL, 0, "%zu", len) + body != len)
		len++;
	strbuf_addf(recs, "%zu %s=%s\n", len, key, value);
}

static void raw_end(struct strbuf *out)
{
	strbuf_addchars(out, '\0', 1024);
}

/* ---- applying ---- */

static int memfd_with(const void *buf, size_t n)
{
	int fd = memfd_create("blob", MFD_CLOEXEC);
	assert_true(fd >= 0);
	if (n)
		assert_int_equal(write(fd, buf, n), (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static int apply_blob(const struct strbuf *blob, int dirfd, const struct archive_apply_opts *o,
		      struct archive_apply_result *r, struct skiff_err **err)
{
	int fd = memfd_with(blob->buf, blob->len);
	int rc = archive_apply(fd, dirfd, o, r, err);
	close(fd);
	return rc;
}

/* Reassemble with the tar-split in tsfd and compare with the original tar. */
static void expect_roundtrip(int dirfd, int tsfd, const struct strbuf *tar, const char *diffid)
{
	struct skiff_err *err = NULL;
	int out = memfd_create("out", MFD_CLOEXEC);
	struct stat st;
	char *map;

	assert_int_equal(lseek(tsfd, 0, SEEK_SET), 0);
	if (archive_tarsplit_write(dirfd, tsfd, out, diffid, &err) < 0)
		fail_msg("tarsplit_write: %s", err->msg);
	assert_int_equal(fstat(out, &st), 0);
	assert_int_equal((size_t)st.st_size, tar->len);
	if (tar->len) {
		map = mmap(NULL, tar->len, PROT_READ, MAP_PRIVATE, out, 0);
		assert_true(map != MAP_FAILED);
		assert_memory_equal(map, tar->buf, tar->len);
		munmap(map, tar->len);
	}
	close(out);
}

static off_t last_tarsplit_size;

/* Apply tar (compressed with filter) with a tar-split, check the result, round trip. */
static void apply_and_roundtrip(int dirfd, const struct strbuf *tar, int filter, const struct archive_apply_opts *base,
				struct archive_apply_result *r)
{
	struct strbuf blob = STRBUF_INIT;
	struct archive_apply_opts o = *base;
	struct skiff_err *err = NULL;
	char want_diffid[DIGEST_STR_LEN + 1], want_digest[DIGEST_STR_LEN + 1];
	int tsfd = memfd_create("ts", MFD_CLOEXEC);

	compress(tar, filter, &blob);
	digest_buf(tar->buf, tar->len, want_diffid);
	digest_buf(blob.buf, blob.len, want_digest);
	o.tarsplit_fd = tsfd;
	o.expected_diffid = want_diffid;
	o.expected_digest = want_digest;
	if (apply_blob(&blob, dirfd, &o, r, &err) < 0)
		fail_msg("apply: %s", err->msg);
	assert_string_equal(r->diffid, want_diffid);
	assert_string_equal(r->digest, want_digest);
	assert_int_equal(r->size, tar->len);
	assert_int_equal(r->compressed_size, blob.len);
	expect_roundtrip(dirfd, tsfd, tar, want_diffid);
	expect_roundtrip(dirfd, tsfd, tar, NULL);
	last_tarsplit_size = lseek(tsfd, 0, SEEK_END);
	close(tsfd);
	strbuf_release(&blob);
}

static void expect_apply_error(int dirfd, const struct strbuf *blob, const struct archive_apply_opts *o, int status,
			       const char *substr)
{
	struct skiff_err *err = NULL;
	struct archive_apply_result r;
	memset(&r, 0x5a, sizeof(r));
	int rc = apply_blob(blob, dirfd, o, &r, &err);
	if (rc == 0)
		fail_msg("apply succeeded, want an error with '%s'", substr);
	assert_non_null(err);
	if (err->status != status || !strstr(err->msg, substr))
		fail_msg("error %d '%s', want %d with '%s'", err->status, err->msg, status, substr);
	assert_int_equal(r.entries, 0x5a5a5a5a5a5a5a5aULL); /* untouched on failure */
	err_free(err);
}

/* As non-root the tar's owners cannot be applied: those runs ignore them. */
#define NONROOT (geteuid() != 0)

static struct archive_apply_opts defaults = {.whiteout_mode = ARCHIVE_WHITEOUT_OVERLAY, .tarsplit_fd = -1};

/* ---- a typical layer, in every format and compression ---- */

static char long_name[300];

static void check_layer(struct fx *f, int format, int filter)
{
	static const char bigdata_seed[] = "0123456789abcdef";
	struct strbuf tar = STRBUF_INIT, big = STRBUF_INIT;
	struct archive_apply_result r;
	struct stat st, st2;
	cleanup_free char *target = NULL;

	for (int i = 0; i < 20000; i++) /* spans several reads and 512-byte blocks */
		strbuf_addstr(&big, bigdata_seed);
	memset(long_name, 0, sizeof(long_name));
	strbuf_reset(&tar);
	{
		struct strbuf ln = STRBUF_INIT;
		strbuf_addstr(&ln, "usr/share/");
		while (ln.len < 180)
			strbuf_addstr(&ln, "very-long-directory-name/");
		strbuf_addstr(&ln, "file.txt");
		memcpy(long_name, ln.buf, ln.len);
		strbuf_release(&ln);
	}
	const struct tent ents[] = {
		{.name = "./", .mode = S_IFDIR | 0755},
		{.name = "etc/", .mode = S_IFDIR | 0755, .mtime = T0 + 100},
		{.name = "etc/hosts", .data = "127.0.0.1 localhost\n", .mtime = T0 + 5},
		{.name = "etc/empty", .data = NULL},
		{.name = "bin/", .mode = S_IFDIR | 0700, .mtime = T0 + 200},
		{.name = "bin/sh", .mode = S_IFREG | 04755, .data = "#!shell"},
		{.name = "bin/sh2", .hardlink = "bin/sh", .mode = S_IFREG | 04755},
		{.name = "bin/ls", .mode = S_IFLNK | 0777, .link = "sh"},
		{.name = "lib", .mode = S_IFLNK | 0777, .link = "/usr/lib"},
		{.name = "big", .data = big.buf, .len = big.len},
		{.name = "run/", .mode = S_IFDIR | 01777},
		{.name = "run/fifo", .mode = S_IFIFO | 0600},
		{.name = "dev/", .mode = S_IFDIR | 0755},
		{.name = "dev/null", .mode = S_IFCHR | 0666, .rdev = makedev(1, 3)},
		{.name = long_name, .data = "deep"},
		{.name = "x/attr", .data = "x", .xname = "user.skiff", .xval = "yes"},
		{.name = "._apple", .data = "not metadata"},
		{.name = "apple", .data = "fruit"},
	};
	build_tar(&tar, format, ents, ARRAY_SIZE(ents));
	apply_and_roundtrip(f->rootfd, &tar, filter, &defaults, &r);
	assert_int_equal(r.entries, ARRAY_SIZE(ents));
	assert_int_equal(r.skipped_devices, geteuid() == 0 ? 0 : 1);
	/* file contents are references, not copies: the split is a small fraction of the tar */
	assert_true(last_tarsplit_size > 0 && (size_t)last_tarsplit_size < tar.len / 20);

	expect_content(f->rootfd, "etc/hosts", "127.0.0.1 localhost\n");
	expect_content(f->rootfd, "etc/empty", "");
	expect_content(f->rootfd, "bin/sh", "#!shell");
	expect_content(f->rootfd, long_name, "deep");
	expect_content(f->rootfd, "._apple", "not metadata");
	expect_content(f->rootfd, "apple", "fruit");
	cleanup_free char *bigback = read_at(f->rootfd, "big");
	assert_int_equal(strlen(bigback), big.len);
	assert_memory_equal(bigback, big.buf, big.len);

	assert_int_equal(fstatat(f->rootfd, "bin/sh", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 04755);
	assert_int_equal(st.st_mtime, T0);
	assert_int_equal(fstatat(f->rootfd, "bin/sh2", &st2, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_ino, st2.st_ino);
	assert_int_equal(st.st_nlink, 2);

	target = xmalloc(64);
	ssize_t n = readlinkat(f->rootfd, "lib", target, 63);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "/usr/lib");
	n = readlinkat(f->rootfd, "bin/ls", target, 63);
	target[n] = '\0';
	assert_string_equal(target, "sh");
	assert_int_equal(fstatat(f->rootfd, "lib", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mtime, T0);

	/* directory times survive the entries written into them later */
	assert_int_equal(fstatat(f->rootfd, "etc", &st, 0), 0);
	assert_int_equal(st.st_mtime, T0 + 100);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(fstatat(f->rootfd, "bin", &st, 0), 0);
	assert_int_equal(st.st_mtime, T0 + 200);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(fstatat(f->rootfd, "run", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 01777);
	/* a parent without an entry of its own is made 0755 */
	assert_int_equal(fstatat(f->rootfd, "usr/share", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0755);

	assert_int_equal(fstatat(f->rootfd, "run/fifo", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISFIFO(st.st_mode));
	if (geteuid() == 0) {
		assert_int_equal(fstatat(f->rootfd, "dev/null", &st, AT_SYMLINK_NOFOLLOW), 0);
		assert_true(S_ISCHR(st.st_mode));
		assert_int_equal(st.st_rdev, makedev(1, 3));
	}

	if (format != ARCHIVE_FORMAT_TAR_GNUTAR) { /* GNU tar format has no xattrs */
		char xv[16] = {0};
		cleanup_free char *xpath = xasprintf("%s/root/x/attr", f->top);
		ssize_t xl = lgetxattr(xpath, "user.skiff", xv, sizeof(xv) - 1);
		if (xl < 0 && errno == ENOTSUP)
			print_message("user xattrs not supported on %s: skipping that check\n", f->top);
		else
			assert_string_equal(xv, "yes");
	}

	strbuf_release(&tar);
	strbuf_release(&big);
}

#define LAYER_TEST(fmt, filt, tname)                                                                                   \
	static void tname(void **state)                                                                                \
	{                                                                                                              \
		check_layer(*state, fmt, filt);                                                                        \
	}
LAYER_TEST(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE, test_layer_pax_plain)
LAYER_TEST(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP, test_layer_pax_gzip)
LAYER_TEST(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_ZSTD, test_layer_pax_zstd)
LAYER_TEST(ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE, ARCHIVE_FILTER_GZIP, test_layer_paxfull_gzip)
LAYER_TEST(ARCHIVE_FORMAT_TAR_GNUTAR, ARCHIVE_FILTER_NONE, test_layer_gnutar_plain)
LAYER_TEST(ARCHIVE_FORMAT_TAR_GNUTAR, ARCHIVE_FILTER_ZSTD, test_layer_gnutar_zstd)

/* ---- owners, modes, xattrs as root ---- */

static void test_owners(void **state)
{
	struct fx *f = *state;
	struct strbuf tar = STRBUF_INIT;
	struct archive_apply_result r;
	struct stat st;
	/* security.capability v2: cap_net_raw (13) permitted + effective */
	static const char cap[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00};

	if (geteuid() != 0) {
		print_message("skipped: chown needs root (running as uid %u)\n", (unsigned)geteuid());
		skip();
	}
	const struct tent ents[] = {
		{.name = "d/", .mode = S_IFDIR | 02750, .uid = 1234, .gid = 5678},
		{.name = "d/suid", .mode = S_IFREG | 06755, .data = "x", .uid = 1234, .gid = 5678},
		{.name = "d/link", .mode = S_IFLNK | 0777, .link = "suid", .uid = 4321, .gid = 8765},
		{.name = "d/big", .data = "x", .uid = 3000000000LL, .gid = 3000000001LL},
		{.name = "d/trusted", .data = "t", .xname = "trusted.skiff", .xval = "1"},
	};
	build_tar(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ents, ARRAY_SIZE(ents));
	apply_and_roundtrip(f->rootfd, &tar, ARCHIVE_FILTER_GZIP, &defaults, &r);
	assert_int_equal(fstatat(f->rootfd, "d", &st, 0), 0);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 5678);
	assert_int_equal(st.st_mode & 07777, 02750);
	assert_int_equal(fstatat(f->rootfd, "d/suid", &st, 0), 0);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_mode & 07777, 06755); /* chmod came after chown */
	assert_int_equal(fstatat(f->rootfd, "d/link", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_uid, 4321);
	assert_int_equal(st.st_gid, 8765);
	assert_int_equal(fstatat(f->rootfd, "d/big", &st, 0), 0);
	assert_int_equal(st.st_uid, 3000000000U);
	cleanup_free char *tp = xasprintf("%s/root/d/trusted", f->top);
	char v[8] = {0};
	if (getxattr(tp, "trusted.skiff", v, sizeof(v)) < 0)
		fail_msg("trusted.skiff not set as root: %s", strerror(errno));
	assert_string_equal(v, "1");
	strbuf_release(&tar);

	/* a file capability survives the chown that would clear it */
	struct archive *a;
	struct strbuf t2 = STRBUF_INIT;
	struct archive_entry *e = archive_entry_new();
	a = tar_begin(&t2, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	archive_entry_set_pathname(e, "ping");
	archive_entry_set_mode(e, S_IFREG | 0755);
	archive_entry_set_uid(e, 1000);
	archive_entry_set_size(e, 1);
	archive_entry_xattr_add_entry(e, "security.capability", cap, sizeof(cap));
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, "p", 1), 1);
	archive_entry_free(e);
	tar_end(a);
	apply_and_roundtrip(f->rootfd, &t2, ARCHIVE_FILTER_NONE, &defaults, &r);
	cleanup_free char *pp = xasprintf("%s/root/ping", f->top);
	char got[32];
	ssize_t n = getxattr(pp, "security.capability", got, sizeof(got));
	if (n < 0)
		fail_msg("security.capability: %s", strerror(errno));
	assert_int_equal(n, sizeof(cap));
	assert_memory_equal(got, cap, sizeof(cap));
	strbuf_release(&t2);

	/* ignore_owners: everything is ours */
	struct strbuf t3 = STRBUF_INIT;
	const struct tent e3[] = {{.name = "mine", .data = "m", .uid = 77, .gid = 77}};
	build_tar(&t3, ARCHIVE_FORMAT_TAR_USTAR, e3, 1);
	apply_and_roundtrip(f->rootfd, &t3, ARCHIVE_FILTER_NONE,
			    &(struct archive_apply_opts){.ignore_owners = true, .tarsplit_fd = -1}, &r);
	assert_int_equal(fstatat(f->rootfd, "mine", &st, 0), 0);
	assert_int_equal(st.st_uid, geteuid());
	strbuf_release(&t3);
}

/* ---- whiteouts ---- */

static void check_opaque_xattr(struct fx *f, const char *dir, const char *key)
{
	cleanup_free char *p = xasprintf("%s/root/%s", f->top, dir);
	char v[8] = {0};
	if (getxattr(p, key, v, sizeof(v)) < 0)
		fail_msg("%s on %s: %s", key, dir, strerror(errno));
	assert_string_equal(v, "y");
}

static void test_whiteout_overlay(void **state)
{
	struct fx *f = *state;
	struct strbuf tar = STRBUF_INIT;
	struct archive_apply_result r;
	struct skiff_err *err = NULL;
	struct stat st;
	const struct tent ents[] = {
		{.name = ".wh.gone", .data = NULL},
		{.name = "d/", .mode = S_IFDIR | 0755},
		{.name = "d/.wh..wh..opq", .data = NULL},
		{.name = "d/new", .data = "new"},
		{.name = "e/.wh.f", .data = "whiteouts may carry data"},
		{.name = ".wh..wh.plnk/123", .data = "aufs"},
		{.name = ".wh..wh..opq", .data = NULL},
	};

	build_tar(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ents, ARRAY_SIZE(ents));
	struct archive_apply_opts o = defaults;
	int tsfd = memfd_create("ts", MFD_CLOEXEC);
	o.tarsplit_fd = tsfd;
	if (apply_blob(&tar, f->rootfd, &o, &r, &err) < 0) {
		/* the only acceptable refusal: this file system will not take trusted.* */
		if (err->status == EPERM || err->status == ENOTSUP) {
			print_message("skipped: the file system at %s refuses trusted.* xattrs (%s)\n", f->top,
				      err->msg);
			err_free(err);
			close(tsfd);
			skip();
		}
		fail_msg("apply: %s", err->msg);
	}
	assert_int_equal(r.entries, ARRAY_SIZE(ents));
	assert_int_equal(fstatat(f->rootfd, "gone", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(0, 0));
	assert_int_equal(fstatat(f->rootfd, "e/f", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_false(exists_at(f->rootfd, ".wh.gone"));
	assert_false(exists_at(f->rootfd, "e/.wh.f"));
	assert_false(exists_at(f->rootfd, ".wh..wh.plnk"));
	expect_content(f->rootfd, "d/new", "new");
	check_opaque_xattr(f, "d", "trusted.overlay.opaque");
	check_opaque_xattr(f, ".", "trusted.overlay.opaque");
	expect_roundtrip(f->rootfd, tsfd, &tar, r.diffid);
	close(tsfd);
	strbuf_release(&tar);
}

static void test_whiteout_overlay_userns_xattr(void **state)
{
	struct fx *f = *state;
	struct strbuf tar = STRBUF_INIT;
	struct archive_apply_result r;
	const struct tent ents[] = {
		{.name = "d/", .mode = S_IFDIR | 0755},
		{.name = "d/.wh..wh..opq", .data = NULL},
		{.name = "t", .data = "t", .xname = "trusted.no", .xval = "1"},
	};
	build_tar(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ents, ARRAY_SIZE(ents));
	apply_and_roundtrip(
		f->rootfd, &tar, ARCHIVE_FILTER_NONE,
		&(struct archive_apply_opts){.userns_xattrs = true, .ignore_owners = true, .tarsplit_fd = -1}, &r);
	check_opaque_xattr(f, "d", "user.overlay.opaque");
	cleanup_free char *p = xasprintf("%s/root/d", f->top);
	char v[4];
	assert_true(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)) < 0);
	cleanup_free char *tp = xasprintf("%s/root/t", f->top);
	assert_true(getxattr(tp, "trusted.no", v, sizeof(v)) < 0); /* trusted.* skipped in a userns */
	strbuf_release(&tar);
}

static void test_whiteout_delete(void **state)
{
	struct fx *f = *state;
	struct strbuf tar = STRBUF_INIT;
	struct archive_apply_result r;
	struct stat st;

	/* the parent layers' tree */
	write_at(f->rootfd, "gone", "old");
	assert_int_equal(mkdirat(f->rootfd, "gonedir", 0755), 0);
	assert_int_equal(mkdirat(f->rootfd, "gonedir/sub", 0755), 0);
	write_at(f->rootfd, "gonedir/sub/x", "x");
	assert_int_equal(mkdirat(f->rootfd, "d", 0755), 0);
	write_at(f->rootfd, "d/old", "old");
	assert_int_equal(mkdirat(f->rootfd, "d/sub", 0755), 0);
	write_at(f->rootfd, "d/sub/oldfile", "old");
	assert_int_equal(mkdirat(f->rootfd, "d/olddir", 0755), 0);
	write_at(f->rootfd, "d/olddir/y", "y");
	write_at(f->rootfd, "keep", "keep");
	assert_int_equal(symlinkat(f->outside, f->rootfd, "escape"), 0);
	write_at(f->outfd, "victim", "must survive");

	const struct tent ents[] = {
		{.name = ".wh.gone"},
		{.name = ".wh.gonedir"},
		{.name = ".wh.missing"},
		{.name = "nodir/.wh.x"},
		{.name = "d/", .mode = S_IFDIR | 0755},
		{.name = "d/new", .data = "new"},
		{.name = "d/sub/newfile", .data = "new"}, /* d/sub has no entry of its own */
		{.name = "d/.wh..wh..opq"},		  /* after this layer's own files */
		{.name = "d/later", .data = "later"},
		{.name = "escape/.wh.victim"}, /* through a symlink: refused */
	};
	build_tar(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ents, ARRAY_SIZE(ents) - 1);
	apply_and_roundtrip(f->rootfd, &tar, ARCHIVE_FILTER_GZIP,
			    &(struct archive_apply_opts){.whiteout_mode = ARCHIVE_WHITEOUT_DELETE,
							 .ignore_owners = NONROOT,
							 .tarsplit_fd = -1},
			    &r);
	assert_false(exists_at(f->rootfd, "gone"));
	assert_false(exists_at(f->rootfd, "gonedir"));
	assert_false(exists_at(f->rootfd, "nodir"));
	assert_false(exists_at(f->rootfd, "d/old"));
	assert_false(exists_at(f->rootfd, "d/olddir"));
	assert_false(exists_at(f->rootfd, "d/sub/oldfile"));
	assert_false(exists_at(f->rootfd, "d/.wh..wh..opq"));
	expect_content(f->rootfd, "d/new", "new");
	expect_content(f->rootfd, "d/sub/newfile", "new");
	expect_content(f->rootfd, "d/later", "later");
	expect_content(f->rootfd, "keep", "keep");
	assert_int_equal(fstatat(f->rootfd, "d", &st, 0), 0);
	strbuf_release(&tar);

	/* a whiteout behind a symlinked parent deletes nothing outside */
	strbuf_init(&tar, 0);
	build_tar(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, &ents[ARRAY_SIZE(ents) - 1], 1);
	expect_apply_error(f->rootfd, &tar,
			   &(struct archive_apply_opts){.whiteout_mode = ARCHIVE_WHITEOUT_DELETE,
							.ignore_owners = NONROOT,
							.tarsplit_fd = -1},
			   EINVAL, "layer entry \"escape/.wh.victim\": parent is a symlink");
	expect_content(f->outfd, "victim", "must survive");
	strbuf_release(&tar);
}

/* ---- hostile tars ---- */

static void hostile(struct fx *f, const struct tent *ents, size_t n, const char *substr)
{
	struct strbuf tar = STRBUF_INIT;
	build_tar(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ents, n);
	expect_apply_error(f->rootfd, &tar, &defaults, EINVAL, substr);
	strbuf_release(&tar);
}

static void test_hostile(void **state)
{
	struct fx *f = *state;
	cleanup_free char *abs_out = xasprintf("%s", f->outside);
	cleanup_free char *abs_target = xasprintf("%s/target", f->outside);
	struct archive_apply_result r;
	struct stat st;

	write_at(f->outfd, "target", "original");

	hostile(f, (struct tent[]){{.name = "../x", .data = "x"}}, 1,
		"layer entry \"../x\": path escapes the layer root");
	hostile(f, (struct tent[]){{.name = "/abs/../../x", .data = "x"}}, 1,
		"layer entry \"/abs/../../x\": path escapes the layer root");
	hostile(f, (struct tent[]){{.name = "a/b/../../../outside/x", .data = "x"}}, 1, "path escapes the layer root");
	hostile(f,
		(struct tent[]){{.name = "a", .mode = S_IFLNK | 0777, .link = "/etc"},
				{.name = "a/skiff-h4-canary", .data = "pwned"}},
		2, "layer entry \"a/skiff-h4-canary\": parent is a symlink");
	assert_int_equal(access("/etc/skiff-h4-canary", F_OK), -1);
	hostile(f,
		(struct tent[]){{.name = "o", .mode = S_IFLNK | 0777, .link = abs_out},
				{.name = "o/sub/x", .data = "pwned"}},
		2, "layer entry \"o/sub/x\": parent is a symlink");
	hostile(f,
		(struct tent[]){{.name = "r", .mode = S_IFLNK | 0777, .link = "../outside"},
				{.name = "r/x", .mode = S_IFDIR | 0755}},
		2, "parent is a symlink");
	assert_false(exists_at(f->outfd, "x"));
	assert_false(exists_at(f->outfd, "sub"));
	hostile(f, (struct tent[]){{.name = "h", .hardlink = "../../etc/passwd"}}, 1,
		"layer entry \"h\": hard link target \"../../etc/passwd\" escapes the layer root");
	hostile(f,
		(struct tent[]){{.name = "a", .mode = S_IFLNK | 0777, .link = "/etc"},
				{.name = "h", .hardlink = "a/passwd"}},
		2, "hard link target \"a/passwd\": parent is a symlink");
	hostile(f,
		(struct tent[]){{.name = "s", .mode = S_IFLNK | 0777, .link = abs_target},
				{.name = "h", .hardlink = "s"}},
		2, "hard link target \"s\" is not a regular file");
	hostile(f, (struct tent[]){{.name = "h", .hardlink = "nothing"}}, 1,
		"hard link target \"nothing\" does not exist");
	hostile(f, (struct tent[]){{.name = "d/.wh..", .data = NULL}}, 1, "invalid whiteout");
	hostile(f, (struct tent[]){{.name = ".wh...", .data = NULL}}, 1, "invalid whiteout");
	hostile(f, (struct tent[]){{.name = ".", .data = "file over the root"}}, 1, "cannot replace the layer root");
	hostile(f, (struct tent[]){{.name = "f", .data = "file"}, {.name = "f/x", .data = "x"}}, 2,
		"layer entry \"f/x\": parent is not a directory");
	expect_content(f->outfd, "target", "original");

	/* a regular file over a symlink replaces the link, never writes through it */
	struct strbuf tar = STRBUF_INIT;
	const struct tent over[] = {
		{.name = "s", .mode = S_IFLNK | 0777, .link = abs_target},
		{.name = "s", .data = "replaced"},
		{.name = "t", .mode = S_IFLNK | 0777, .link = "../outside/target"},
		{.name = "t", .mode = S_IFDIR | 0755},
	};
	build_tar(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, over, ARRAY_SIZE(over));
	apply_and_roundtrip(f->rootfd, &tar, ARCHIVE_FILTER_NONE, &defaults, &r);
	expect_content(f->outfd, "target", "original");
	expect_content(f->rootfd, "s", "replaced");
	assert_int_equal(fstatat(f->rootfd, "t", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(st.st_mode));
	strbuf_release(&tar);
}

/* ---- duplicates ---- */

static void test_duplicates(void **state)
{
	struct fx *f = *state;
	struct strbuf tar = STRBUF_INIT;
	struct archive_apply_result r;
	struct stat st;
	const struct tent ents[] = {
		{.name = "x", .data = NULL}, /* file, then a directory */
		{.name = "x/", .mode = S_IFDIR | 0750, .mtime = T0 + 1},
		{.name = "x/y", .data = "y"},
		{.name = "d/", .mode = S_IFDIR | 0755}, /* directory, then a file */
		{.name = "d/z", .data = NULL},
		{.name = "d", .data = NULL},
		{.name = "f", .mode = S_IFLNK | 0777, .link = "x"}, /* link, file, link */
		{.name = "f", .data = NULL},
		{.name = "f", .mode = S_IFLNK | 0777, .link = "final"},
		{.name = "m/", .mode = S_IFDIR | 0700, .mtime = T0 + 7},
		{.name = "m/", .mode = S_IFDIR | 0711, .mtime = T0 + 9}, /* later wins */
		{.name = "m/c", .data = "c"},
	};
	build_tar(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ents, ARRAY_SIZE(ents));
	apply_and_roundtrip(f->rootfd, &tar, ARCHIVE_FILTER_ZSTD, &defaults, &r);
	assert_int_equal(fstatat(f->rootfd, "x", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_mtime, T0 + 1);
	expect_content(f->rootfd, "x/y", "y");
	assert_int_equal(fstatat(f->rootfd, "d", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(fstatat(f->rootfd, "f", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(fstatat(f->rootfd, "m", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 0711);
	assert_int_equal(st.st_mtime, T0 + 9);
	strbuf_release(&tar);

	/* documented limitation: content a later entry overwrote cannot be reassembled */
	struct strbuf t2 = STRBUF_INIT;
	const struct tent e2[] = {{.name = "o", .data = "first"}, {.name = "o", .data = "second"}};
	struct skiff_err *err = NULL;
	int tsfd = memfd_create("ts", MFD_CLOEXEC), out = memfd_create("out", MFD_CLOEXEC);
	build_tar(&t2, ARCHIVE_FORMAT_TAR_USTAR, e2, 2);
	struct archive_apply_opts o = defaults;
	o.tarsplit_fd = tsfd;
	assert_int_equal(apply_blob(&t2, f->rootfd, &o, &r, &err), 0);
	expect_content(f->rootfd, "o", "second");
	assert_int_equal(lseek(tsfd, 0, SEEK_SET), 0);
	assert_int_equal(archive_tarsplit_write(f->rootfd, tsfd, out, r.diffid, &err), -1);
	assert_non_null(strstr(err->msg, "layer content changed"));
	err_free(err);
	close(tsfd);
	close(out);
	strbuf_release(&t2);
}

/* ---- broken streams ---- */

static void test_bad_streams(void **state)
{
	struct fx *f = *state;
	struct strbuf tar = STRBUF_INIT, gz = STRBUF_INIT, zst = STRBUF_INIT, cut = STRBUF_INIT;
	const struct tent ents[] = {
		{.name = "a", .data = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		{.name = "b", .data = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
	};

	build_tar(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ents, ARRAY_SIZE(ents));
	compress(&tar, ARCHIVE_FILTER_GZIP, &gz);
	compress(&tar, ARCHIVE_FILTER_ZSTD, &zst);

	/* zero-length */
	expect_apply_error(f->rootfd, &cut, &defaults, EINVAL, "layer blob is empty");
	/* garbage */
	strbuf_addstr(&cut, "this is not a tar archive, nor compressed; just garbage bytes for the test");
	expect_apply_error(f->rootfd, &cut, &defaults, EINVAL, "layer is not a tar archive");
	strbuf_reset(&cut);
	strbuf_addchars(&cut, '\xff', 4096);
	expect_apply_error(f->rootfd, &cut, &defaults, EINVAL, "layer");
	/* gzip header, then garbage */
	strbuf_reset(&cut);
	strbuf_add(&cut, gz.buf, 10);
	strbuf_addchars(&cut, 'Z', 200);
	expect_apply_error(f->rootfd, &cut, &defaults, EINVAL, "decompress layer");
	/* truncated gzip */
	strbuf_reset(&cut);
	strbuf_add(&cut, gz.buf, gz.len / 2);
	expect_apply_error(f->rootfd, &cut, &defaults, EINVAL, "decompress layer");
	/* truncated zstd */
	strbuf_reset(&cut);
	strbuf_add(&cut, zst.buf, zst.len / 2);
	expect_apply_error(f->rootfd, &cut, &defaults, EINVAL, "decompress layer");
	/* truncated tar: inside the second file's content, and inside a header */
	strbuf_reset(&cut);
	strbuf_add(&cut, tar.buf, 1024 + 512 + 40);
	expect_apply_error(f->rootfd, &cut, &defaults, EINVAL, "runcated");
	strbuf_reset(&cut);
	strbuf_add(&cut, tar.buf, 512 + 512 + 100);
	expect_apply_error(f->rootfd, &cut, &defaults, EINVAL, "runcated");
	/* a damaged header checksum */
	strbuf_reset(&cut);
	strbuf_add(&cut, tar.buf, tar.len);
	cut.buf[1024 + 5] ^= 0x40;
	expect_apply_error(f->rootfd, &cut, &defaults, EINVAL, "layer tar");
	/* a gzip of garbage */
	strbuf_reset(&cut);
	strbuf_reset(&gz);
	strbuf_addchars(&cut, 'G', 5000);
	compress(&cut, ARCHIVE_FILTER_GZIP, &gz);
	expect_apply_error(f->rootfd, &gz, &defaults, EINVAL, "layer is not a tar archive");

	strbuf_release(&tar);
	strbuf_release(&gz);
	strbuf_release(&zst);
	strbuf_release(&cut);
}

static void test_digest_mismatch(void **state)
{
	struct fx *f = *state;
	struct strbuf tar = STRBUF_INIT, gz = STRBUF_INIT;
	const struct tent ents[] = {{.name = "a", .data = "a"}};
	char good[DIGEST_STR_LEN + 1], good_tar[DIGEST_STR_LEN + 1];
	const char *bad = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	struct archive_apply_opts o = defaults;
	cleanup_free char *want = NULL;

	build_tar(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ents, 1);
	compress(&tar, ARCHIVE_FILTER_GZIP, &gz);
	digest_buf(gz.buf, gz.len, good);
	o.expected_digest = bad;
	want = xasprintf("digest mismatch: expected %s, got %s", bad, good);
	expect_apply_error(f->rootfd, &gz, &o, EINVAL, want);
	o.expected_digest = good;
	o.expected_diffid = bad;
	digest_buf(tar.buf, tar.len, good_tar);
	free(want);
	want = xasprintf("diffID digest mismatch: expected %s, got %s", bad, good_tar);
	expect_apply_error(f->rootfd, &gz, &o, EINVAL, want);
	o.expected_diffid = "md5:abc";
	expect_apply_error(f->rootfd, &gz, &o, EINVAL, "unsupported digest algorithm in md5:abc");
	strbuf_release(&tar);
	strbuf_release(&gz);
}

/* ---- tar-split ---- */

static void test_tarsplit_tamper(void **state)
{
	struct fx *f = *state;
	struct strbuf tar = STRBUF_INIT;
	struct archive_apply_result r;
	struct skiff_err *err = NULL;
	const struct tent ents[] = {{.name = "a", .data = "hello"}, {.name = "b", .data = "world"}};
	int tsfd = memfd_create("ts", MFD_CLOEXEC), out = memfd_create("out", MFD_CLOEXEC);
	struct archive_apply_opts o = defaults;

	build_tar(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ents, ARRAY_SIZE(ents));
	o.tarsplit_fd = tsfd;
	assert_int_equal(apply_blob(&tar, f->rootfd, &o, &r, &err), 0);
	expect_roundtrip(f->rootfd, tsfd, &tar, r.diffid);

#define EXPECT_TS_ERROR(diffid, substr)                                                                                \
	do {                                                                                                           \
		assert_int_equal(lseek(tsfd, 0, SEEK_SET), 0);                                                         \
		assert_int_equal(ftruncate(out, 0), 0);                                                                \
		assert_int_equal(archive_tarsplit_write(f->rootfd, tsfd, out, diffid, &err), -1);                      \
		if (!strstr(err->msg, substr))                                                                         \
			fail_msg("error '%s', want '%s'", err->msg, substr);                                           \
		err_clear(&err);                                                                                       \
	} while (0)

	/* same size, other content */
	write_at(f->rootfd, "a", "HELLO");
	EXPECT_TS_ERROR(r.diffid, "layer content changed: diffID expected");
	EXPECT_TS_ERROR(NULL, "layer content changed: diffID expected");
	/* another size */
	write_at(f->rootfd, "a", "hello!");
	EXPECT_TS_ERROR(r.diffid, "layer content changed: a is not the regular file of 5 bytes");
	/* a symlink is not followed */
	assert_int_equal(unlinkat(f->rootfd, "a", 0), 0);
	assert_int_equal(symlinkat("b", f->rootfd, "a"), 0);
	EXPECT_TS_ERROR(r.diffid, "layer content changed");
	/* gone */
	assert_int_equal(unlinkat(f->rootfd, "a", 0), 0);
	EXPECT_TS_ERROR(r.diffid, "layer content changed");
	write_at(f->rootfd, "a", "hello");
	expect_roundtrip(f->rootfd, tsfd, &tar, r.diffid);
	/* a diffID that is not this layer's */
	EXPECT_TS_ERROR("sha256:1111111111111111111111111111111111111111111111111111111111111111",
			"layer content changed: diffID expected sha256:1111");

	/* a truncated tar-split, a foreign file, garbage */
	struct stat st;
	assert_int_equal(fstat(tsfd, &st), 0);
	char *ts = xmalloc((size_t)st.st_size);
	assert_int_equal(pread(tsfd, ts, (size_t)st.st_size, 0), st.st_size);
	int bad = memfd_with(ts, (size_t)st.st_size / 2);
	assert_int_equal(archive_tarsplit_write(f->rootfd, bad, out, r.diffid, &err), -1);
	assert_non_null(strstr(err->msg, "corrupt tar-split"));
	err_clear(&err);
	close(bad);
	bad = memfd_with("SKIFFTS1R\xff\xff\xff\xff", 13);
	assert_int_equal(archive_tarsplit_write(f->rootfd, bad, out, r.diffid, &err), -1);
	assert_non_null(strstr(err->msg, "corrupt tar-split"));
	err_clear(&err);
	close(bad);
	bad = memfd_with("SKIFFTS1F\x05\0\0\0\0\0\0\0\x09\0\0\0../../etc", 30);
	assert_int_equal(archive_tarsplit_write(f->rootfd, bad, out, r.diffid, &err), -1);
	assert_non_null(strstr(err->msg, "corrupt tar-split: bad path"));
	err_clear(&err);
	close(bad);
	bad = memfd_with("random garbage, not gzip", 24);
	assert_int_equal(archive_tarsplit_write(f->rootfd, bad, out, r.diffid, &err), -1);
	assert_non_null(strstr(err->msg, "corrupt tar-split"));
	err_clear(&err);
	close(bad);
	free(ts);
	close(tsfd);
	close(out);
	strbuf_release(&tar);
}

/* Odd but valid framings, made by hand. */
static void test_framing(void **state)
{
	struct fx *f = *state;
	struct strbuf tar = STRBUF_INIT;
	struct archive_apply_result r;

	/* pax global header, base-256 size, pax size on a symlink (a body libarchive skips),
	 * GNU volume label, no end-of-archive blocks */
	raw_header(&tar, "vol", 'V', 0, false);
	raw_pax(&tar, "21 comment=global hi\n");
	tar.buf[tar.len - 1024 + 156] = 'g'; /* make that pax header global */
	fix_checksum((unsigned char *)tar.buf + tar.len - 1024);
	raw_header(&tar, "b256", '0', 5, true);
	raw_body(&tar, "12345", 5);
	raw_pax(&tar, "11 size=10\n");
	raw_header(&tar, "sym", '2', 0, false);
	memcpy(tar.buf + tar.len - 512 + 157, "b256", 4);
	fix_checksum((unsigned char *)tar.buf + tar.len - 512);
	raw_body(&tar, "0123456789", 10);
	raw_header(&tar, ".wh.gone", '0', 4, false);
	raw_body(&tar, "data", 4);
	{
		/* a UTF-8 name in a pax header, as Go writes it: kept byte for byte */
		struct strbuf recs = STRBUF_INIT;
		pax_rec(&recs, "path", "h\xc3\xa9llo-\xe6\x97\xa5");
		raw_pax(&tar, recs.buf);
		strbuf_release(&recs);
		raw_header(&tar, "ignored", '0', 2, false);
		raw_body(&tar, "u8", 2);
	}
	raw_header(&tar, "last", '0', 600, false);
	strbuf_addchars(&tar, 'L', 600);
	strbuf_addchars(&tar, '\0', 1024 - 600);
	apply_and_roundtrip(f->rootfd, &tar, ARCHIVE_FILTER_GZIP, &defaults, &r);
	expect_content(f->rootfd, "b256", "12345");
	expect_content(f->rootfd, "h\xc3\xa9llo-\xe6\x97\xa5", "u8");
	assert_int_equal(r.entries, 5);

	/* garbage after the end-of-archive blocks is part of the diffID and the split */
	rm_tree_at(f->rootfd, "b256");
	rm_tree_at(f->rootfd, "sym");
	rm_tree_at(f->rootfd, "gone");
	rm_tree_at(f->rootfd, "last");
	rm_tree_at(f->rootfd, "h\xc3\xa9llo-\xe6\x97\xa5");
	strbuf_reset(&tar);
	raw_header(&tar, "f", '0', 3, false);
	raw_body(&tar, "abc", 3);
	raw_end(&tar);
	strbuf_addstr(&tar, "trailing junk that is not a tar");
	apply_and_roundtrip(f->rootfd, &tar, ARCHIVE_FILTER_ZSTD, &defaults, &r);
	assert_int_equal(r.entries, 1);

	/* refused: GNU sparse, pax sparse, a regular file whose body libarchive ignores */
	strbuf_reset(&tar);
	raw_header(&tar, "sparse", 'S', 0, false);
	raw_end(&tar);
	expect_apply_error(f->rootfd, &tar, &defaults, EINVAL, "sparse files are not supported");
	strbuf_reset(&tar);
	{
		/* a GNU 1.0 sparse file libarchive reads: map "1 block: 0, 5", then the data */
		struct strbuf recs = STRBUF_INIT;
		pax_rec(&recs, "GNU.sparse.major", "1");
		pax_rec(&recs, "GNU.sparse.minor", "0");
		pax_rec(&recs, "GNU.sparse.name", "sp");
		pax_rec(&recs, "GNU.sparse.realsize", "5");
		raw_pax(&tar, recs.buf);
		strbuf_release(&recs);
	}
	raw_header(&tar, "GNUSparseFile.0/sp", '0', 512 + 5, false);
	raw_body(&tar, "1\n0\n5\n", 6);
	raw_body(&tar, "hello", 5);
	raw_end(&tar);
	expect_apply_error(f->rootfd, &tar, &defaults, EINVAL, "sparse files are not supported");
	strbuf_reset(&tar);
	raw_header(&tar, "dirlike/", '0', 5, false);
	raw_body(&tar, "12345", 5);
	raw_end(&tar);
	expect_apply_error(f->rootfd, &tar, &defaults, EINVAL, "unsupported framing");
	strbuf_reset(&tar);
	{
		struct strbuf recs = STRBUF_INIT;
		pax_rec(&recs, "size", "-5");
		raw_pax(&tar, recs.buf);
		strbuf_release(&recs);
	}
	raw_header(&tar, "neg", '0', 0, false);
	raw_end(&tar);
	expect_apply_error(f->rootfd, &tar, &defaults, EINVAL, "negative");
	strbuf_reset(&tar);
	raw_header(&tar, "huge", 'x', 5u << 20, false);
	expect_apply_error(f->rootfd, &tar, &defaults, EINVAL, "too large");
	strbuf_release(&tar);
}

static void test_empty_layer(void **state)
{
	struct fx *f = *state;
	struct strbuf tar = STRBUF_INIT;
	struct archive_apply_result r;

	build_tar(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, NULL, 0);
	assert_true(tar.len >= 1024);
	apply_and_roundtrip(f->rootfd, &tar, ARCHIVE_FILTER_GZIP, &defaults, &r);
	assert_int_equal(r.entries, 0);
	strbuf_release(&tar);
}

/* A rootless apply: in a user namespace mapping only our own id, devices are skipped,
 * whiteouts still work, and an unmapped owner gives the userns error. */
static void test_userns(void **state)
{
	struct fx *f = *state;
	struct strbuf tar = STRBUF_INIT, tar2 = STRBUF_INIT;
	int pipefd[2];
	pid_t pid;
	char report[1024] = {0};
	const struct tent ents[] = {
		{.name = "dev/", .mode = S_IFDIR | 0755},
		{.name = "dev/null", .mode = S_IFCHR | 0666, .rdev = makedev(1, 3)},
		{.name = "dev/sda", .mode = S_IFBLK | 0660, .rdev = makedev(8, 0)},
		{.name = ".wh.gone"},
		{.name = "o/", .mode = S_IFDIR | 0755},
		{.name = "o/.wh..wh..opq"},
		{.name = "file", .data = "x"},
	};
	const struct tent ents2[] = {{.name = "owned", .data = "x", .uid = 1234, .gid = 1234}};

	build_tar(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ents, ARRAY_SIZE(ents));
	build_tar(&tar2, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ents2, 1);
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct skiff_err *err = NULL;
		struct archive_apply_result r;
		struct strbuf out = STRBUF_INIT;
		char map[64];
		int fd;
		uid_t uid = geteuid();
		gid_t gid = getegid();

		close(pipefd[0]);
		if (unshare(CLONE_NEWUSER) < 0) {
			dprintf(pipefd[1], "SKIP unshare: %s", strerror(errno));
			_exit(0);
		}
		fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			(void)!write(fd, "deny", 4);
			close(fd);
		}
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid); /* root inside: the tar's 0:0 */
		fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, map, strlen(map)) < 0) {
			dprintf(pipefd[1], "SKIP uid_map: %s", strerror(errno));
			_exit(0);
		}
		close(fd);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		fd = open("/proc/self/gid_map", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, map, strlen(map)) < 0) {
			dprintf(pipefd[1], "SKIP gid_map: %s", strerror(errno));
			_exit(0);
		}
		close(fd);
		struct archive_apply_opts o = {
			.whiteout_mode = ARCHIVE_WHITEOUT_OVERLAY, .userns_xattrs = true, .tarsplit_fd = -1};
		if (apply_blob(&tar, f->rootfd, &o, &r, &err) < 0)
			strbuf_addf(&out, "ERR1 %s\n", err->msg);
		else
			strbuf_addf(&out, "OK entries=%llu skipped=%llu\n", (unsigned long long)r.entries,
				    (unsigned long long)r.skipped_devices);
		err_clear(&err);
		if (apply_blob(&tar2, f->rootfd, &o, &r, &err) < 0)
			strbuf_addf(&out, "ERR2 %d %s\n", err->status, err->msg);
		else
			strbuf_addstr(&out, "OK2\n");
		(void)!write(pipefd[1], out.buf, out.len);
		_exit(0);
	}
	close(pipefd[1]);
	ssize_t n = read(pipefd[0], report, sizeof(report) - 1);
	close(pipefd[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(n > 0);
	if (!strncmp(report, "SKIP", 4)) {
		print_message("skipped: no user namespace here (%s)\n", report);
		skip();
	}
	if (!strstr(report, "OK entries=7 skipped=2\n"))
		fail_msg("report: %s", report);
	if (!strstr(report, "ERR2 22 potentially insufficient UIDs or GIDs available in user namespace "
			    "(requested 1234:1234 for /owned)"))
		fail_msg("report: %s", report);
	struct stat st;
	assert_int_equal(fstatat(f->rootfd, "gone", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_false(exists_at(f->rootfd, "dev/null"));
	check_opaque_xattr(f, "o", "user.overlay.opaque");
	strbuf_release(&tar);
	strbuf_release(&tar2);
}

/* Many small entries: the walker runs far ahead of the extractor. */
static void test_many_files(void **state)
{
	struct fx *f = *state;
	struct strbuf tar = STRBUF_INIT, data = STRBUF_INIT;
	struct archive_apply_result r;
	struct archive *a = tar_begin(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);

	for (int i = 0; i < 1500; i++)
		strbuf_addch(&data, (char)('a' + i % 26));
	for (int i = 0; i < 3000; i++) {
		char name[64];
		snprintf(name, sizeof(name), "d%d/%0*d", i % 7, 1 + i % 40, i);
		tar_add(a, &(struct tent){.name = name, .data = data.buf, .len = (size_t)(i * 37) % 1500 + 1});
		if (i % 500 == 0) {
			snprintf(name, sizeof(name), "l%d", i);
			tar_add(a, &(struct tent){.name = name, .mode = S_IFLNK | 0777, .link = "d0"});
		}
	}
	tar_end(a);
	apply_and_roundtrip(f->rootfd, &tar, ARCHIVE_FILTER_GZIP, &defaults, &r);
	assert_int_equal(r.entries, 3006);
	for (int i = 0; i < 3000; i += 97) {
		char name[64];
		snprintf(name, sizeof(name), "d%d/%0*d", i % 7, 1 + i % 40, i);
		cleanup_free char *got = read_at(f->rootfd, name);
		assert_int_equal(strlen(got), (size_t)(i * 37) % 1500 + 1);
		assert_memory_equal(got, data.buf, strlen(got));
	}
	strbuf_release(&tar);
	strbuf_release(&data);
}

/* New files are created with their mode and chowned/chmodded only where that differs:
 * whatever the umask, and in a setgid directory (which gives new files its group). */
static void test_new_file_modes(void **state)
{
	struct fx *f = *state;
	struct strbuf tar = STRBUF_INIT;
	struct archive_apply_result r;
	struct stat st;
	const bool root = geteuid() == 0;
	const struct {
		const char *name;
		mode_t mode;
	} want[] = {{"m/a644", 0644},	 {"m/a755", 0755},  {"m/a444", 0444},  {"m/a600", 0600},
		    {"m/sticky", 01755}, {"m/sgid", 02755}, {"m/suid", 04711}, {"m/a000", 0}};
	struct archive *a = tar_begin(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);

	/* as non-root a mode-0 file could not be read back for the tar-split round trip */
	for (size_t i = 0; i < ARRAY_SIZE(want) - (root ? 0 : 1); i++)
		tar_add(a, &(struct tent){.name = want[i].name,
					  .mode = S_IFREG | want[i].mode,
					  .data = "x",
					  .uid = geteuid(),
					  .gid = getegid()});
	if (root) {
		tar_add(a, &(struct tent){.name = "g/", .mode = S_IFDIR | 02775, .gid = 5678});
		tar_add(a, &(struct tent){.name = "g/root", .data = "r"});
		tar_add(a, &(struct tent){.name = "g/inherit", .data = "i", .gid = 5678});
		tar_add(a, &(struct tent){.name = "g/other", .data = "o", .uid = 42, .gid = 43});
	}
	tar_end(a);
	mode_t old = umask(077);
	apply_and_roundtrip(f->rootfd, &tar, ARCHIVE_FILTER_NONE, &defaults, &r);
	umask(old);
	for (size_t i = 0; i < ARRAY_SIZE(want) - (root ? 0 : 1); i++) {
		assert_int_equal(fstatat(f->rootfd, want[i].name, &st, AT_SYMLINK_NOFOLLOW), 0);
		if ((st.st_mode & 07777) != want[i].mode)
			fail_msg("%s: mode %04o, want %04o", want[i].name, (unsigned)(st.st_mode & 07777),
				 (unsigned)want[i].mode);
		assert_int_equal(st.st_uid, geteuid());
		assert_int_equal(st.st_gid, getegid());
	}
	if (root) {
		const struct {
			const char *name;
			uid_t uid;
			gid_t gid;
		} own[] = {{"g/root", 0, 0}, {"g/inherit", 0, 5678}, {"g/other", 42, 43}};
		for (size_t i = 0; i < ARRAY_SIZE(own); i++) {
			assert_int_equal(fstatat(f->rootfd, own[i].name, &st, AT_SYMLINK_NOFOLLOW), 0);
			if (st.st_uid != own[i].uid || st.st_gid != own[i].gid)
				fail_msg("%s: owner %u:%u, want %u:%u", own[i].name, (unsigned)st.st_uid,
					 (unsigned)st.st_gid, (unsigned)own[i].uid, (unsigned)own[i].gid);
			assert_int_equal(st.st_mode & 07777, 0644);
		}
	}
	strbuf_release(&tar);
}

/* The tar-split is compressed on a thread of its own: its write errors still fail the
 * apply, with the tar-split named, whether zlib meets them while the layer unpacks
 * (incompressible symlink targets, more than its buffer) or when it closes (small). */
static void test_tarsplit_write_error(void **state)
{
	struct fx *f = *state;
	struct strbuf small = STRBUF_INIT, big = STRBUF_INIT;
	struct archive_apply_opts o = defaults;
	struct archive *a = tar_begin(&big, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	const struct tent one[] = {{.name = "a", .data = "small"}};
	char target[4001];
	unsigned seed = 12345;

	build_tar(&small, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, one, 1);
	for (int i = 0; i < 200; i++) {
		char name[16];
		for (size_t k = 0; k < sizeof(target) - 1; k++)
			target[k] = (char)('!' + (seed = seed * 1103515245u + 12345u) % 90);
		target[sizeof(target) - 1] = '\0';
		snprintf(name, sizeof(name), "l%03d", i);
		tar_add(a, &(struct tent){.name = name, .mode = S_IFLNK | 0777, .link = target});
	}
	tar_end(a);
	o.tarsplit_fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	assert_true(o.tarsplit_fd >= 0);
	expect_apply_error(f->rootfd, &small, &o, ENOSPC, "tar-split");
	rm_tree_at(f->rootfd, "a");
	expect_apply_error(f->rootfd, &big, &o, ENOSPC, "write tar-split");
	close(o.tarsplit_fd);
	strbuf_release(&small);
	strbuf_release(&big);
}

/* The reader callback API and a failing source. */
struct chunky {
	const char *buf;
	size_t len, off;
	size_t fail_at; /* fail once off reaches this (0: never) */
};

static long chunky_read(void *ud, void *buf, size_t n)
{
	struct chunky *c = ud;
	if (c->fail_at && c->off >= c->fail_at)
		return -ECONNRESET;
	if (n > 7)
		n = 7; /* tiny reads */
	if (n > c->len - c->off)
		n = c->len - c->off;
	memcpy(buf, c->buf + c->off, n);
	c->off += n;
	return (long)n;
}

static void test_read_callback(void **state)
{
	struct fx *f = *state;
	struct strbuf tar = STRBUF_INIT, gz = STRBUF_INIT;
	struct archive_apply_result r;
	struct skiff_err *err = NULL;
	const struct tent ents[] = {{.name = "a", .data = "callback"}};

	build_tar(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ents, 1);
	compress(&tar, ARCHIVE_FILTER_GZIP, &gz);
	struct chunky c = {.buf = gz.buf, .len = gz.len};
	assert_int_equal(archive_apply_read(chunky_read, &c, f->rootfd, &defaults, &r, &err), 0);
	expect_content(f->rootfd, "a", "callback");
	assert_int_equal(r.compressed_size, gz.len);
	struct chunky c2 = {.buf = gz.buf, .len = gz.len, .fail_at = gz.len / 2};
	assert_int_equal(archive_apply_read(chunky_read, &c2, f->rootfd, &defaults, &r, &err), -1);
	assert_int_equal(err->status, ECONNRESET);
	assert_non_null(strstr(err->msg, "read layer blob"));
	err_free(err);
	strbuf_release(&tar);
	strbuf_release(&gz);
}

int main(void)
{
	defaults.ignore_owners = NONROOT;
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_layer_pax_plain),
		T(test_layer_pax_gzip),
		T(test_layer_pax_zstd),
		T(test_layer_paxfull_gzip),
		T(test_layer_gnutar_plain),
		T(test_layer_gnutar_zstd),
		T(test_owners),
		T(test_whiteout_overlay),
		T(test_whiteout_overlay_userns_xattr),
		T(test_whiteout_delete),
		T(test_hostile),
		T(test_duplicates),
		T(test_bad_streams),
		T(test_digest_mismatch),
		T(test_tarsplit_tamper),
		T(test_framing),
		T(test_empty_layer),
		T(test_userns),
		T(test_many_files),
		T(test_read_callback),
		T(test_new_file_modes),
		T(test_tarsplit_write_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
