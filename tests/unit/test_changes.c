/* Unit tests for pkg/engine/changes (diff of an overlay upper dir and of two trees, OCI
 * layer tars with whiteouts converted, whole-tree tars) and image_apply_change (commit -c),
 * on temporary directories, with hostile names and odd file types. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "pkg/engine/changes.h"
#include "pkg/image/image.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#define T0 1600000000

static char *top;

static int mk_top(void **state)
{
	(void)state;
	const char *base = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/test_changes.XXXXXX", base && *base ? base : "/tmp");
	top = mkdtemp(tmpl);
	return top ? 0 : -1;
}

static int rm_top(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	if (!top)
		return -1;
	char *slash = strrchr(top, '/');
	*slash = '\0';
	cleanup_close int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = rm_rf_at(fd, slash + 1, &e);
	err_free(e);
	free(top);
	return rc;
}

static int dir_at(const char *name)
{
	cleanup_free char *p = xasprintf("%s/%s", top, name);
	assert_int_equal(mkdir(p, 0755), 0);
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void set_time(int dfd, const char *name)
{
	struct timespec ts[2] = {{T0, 0}, {T0, 0}};
	assert_int_equal(utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void file_at(int dfd, const char *name, const char *content)
{
	struct skiff_err *e = NULL;
	assert_int_equal(write_file_replace(dfd, name, content, strlen(content), 0644, &e), 0);
	set_time(dfd, name);
}

static void mkdir_at(int dfd, const char *name)
{
	assert_int_equal(mkdirat(dfd, name, 0755), 0);
}

/* "C /a\nA /b\n" */
static char *list_str(const struct change_list *l)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < l->len; i++)
		strbuf_addf(&sb, "%s %s\n", change_kind_letter(l->v[i].kind), l->v[i].path);
	return strbuf_detach(&sb, NULL);
}

/* A whiteout: the 0/0 device as root, else the OCI file (fuse-overlayfs' fallback). */
static void whiteout_at(int dfd, const char *name)
{
	if (mknodat(dfd, name, S_IFCHR | 0, makedev(0, 0)) == 0)
		return;
	cleanup_free char *wh = xasprintf(".wh.%s", name);
	file_at(dfd, wh, "");
}

static bool set_opaque(int dfd, const char *name)
{
	cleanup_close int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) == 0 ||
	       fsetxattr(fd, "user.overlay.opaque", "y", 1, 0) == 0;
}

/* ---- tar capture ---- */

static int sb_write(void *ud, const void *buf, size_t n)
{
	strbuf_add(ud, buf, n);
	return 0;
}

static int fail_write(void *ud, const void *buf, size_t n)
{
	(void)ud;
	(void)buf;
	(void)n;
	errno = ENOSPC;
	return -1;
}

/* "name type size [-> link]" lines of a tar */
static char *tar_listing(const struct strbuf *tar)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, tar->buf, tar->len), ARCHIVE_OK);
	struct archive_entry *e;
	struct strbuf sb = STRBUF_INIT;
	int r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *hl = archive_entry_hardlink(e);
		const char *sl = archive_entry_symlink(e);
		char t = S_ISDIR(archive_entry_mode(e))	   ? 'd'
			 : S_ISLNK(archive_entry_mode(e))  ? 'l'
			 : S_ISFIFO(archive_entry_mode(e)) ? 'p'
			 : hl				   ? 'h'
							   : 'f';
		strbuf_addf(&sb, "%s %c %lld%s%s\n", archive_entry_pathname(e), t, (long long)archive_entry_size(e),
			    hl || sl ? " -> " : "",
			    hl	 ? hl
			    : sl ? sl
				 : "");
	}
	assert_int_equal(r, ARCHIVE_EOF);
	archive_read_free(a);
	return strbuf_detach(&sb, NULL);
}

/* ---- overlay ---- */

struct ov {
	int lower, upper;
};

static void make_overlay(struct ov *o, const char *tag, bool *opaque_ok)
{
	cleanup_free char *ln = xasprintf("%s-lower", tag), *un = xasprintf("%s-upper", tag);
	o->lower = dir_at(ln);
	o->upper = dir_at(un);
	/* lower: etc/passwd, bin/cut, bin/ls, opt/old, home/ */
	mkdir_at(o->lower, "etc");
	cleanup_close int le = openat(o->lower, "etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	file_at(le, "passwd", "root:x:0:0::/:/bin/sh\n");
	set_time(o->lower, "etc");
	mkdir_at(o->lower, "bin");
	cleanup_close int lb = openat(o->lower, "bin", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	file_at(lb, "cut", "x");
	file_at(lb, "ls", "x");
	set_time(o->lower, "bin");
	mkdir_at(o->lower, "opt");
	cleanup_close int lo = openat(o->lower, "opt", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	file_at(lo, "old", "x");
	set_time(o->lower, "opt");

	/* upper: etc copied up unchanged (same mode and time), passwd changed; a whiteout
	 * for bin/cut; opt replaced (opaque); new entries with hostile names */
	mkdir_at(o->upper, "etc");
	cleanup_close int ue = openat(o->upper, "etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	file_at(ue, "passwd", "root:x:0:0::/:/bin/sh\nnew:x:1:1::/:/bin/sh\n");
	set_time(o->upper, "etc");
	mkdir_at(o->upper, "bin");
	cleanup_close int ub = openat(o->upper, "bin", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	whiteout_at(ub, "cut");
	set_time(o->upper, "bin");
	mkdir_at(o->upper, "opt");
	*opaque_ok = set_opaque(o->upper, "opt");
	cleanup_close int uo = openat(o->upper, "opt", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	file_at(uo, "o", "o");
	file_at(o->upper, "new\nline", "nl");
	assert_int_equal(mkfifoat(o->upper, "fifo", 0600), 0);
	assert_int_equal(symlinkat("../../etc/shadow", o->upper, "link"), 0);
}

static void test_overlay_diff(void **state)
{
	(void)state;
	struct ov o;
	bool opaque;
	make_overlay(&o, "ov1", &opaque);
	struct change_list l = {0};
	struct skiff_err *e = NULL;
	assert_int_equal(changes_overlay(o.upper, &o.lower, 1, &l, &e), 0);
	cleanup_free char *s = list_str(&l);
	/* etc is the same dir: not listed for a changed file inside it; bin has a deletion:
	 * listed first as C; opt opaque: D, then its new file */
	const char *want_opaque = "C /bin\nD /bin/cut\nC /etc/passwd\nA /fifo\nA /link\nA /new\nline\n"
				  "D /opt\nA /opt/o\n";
	const char *want_plain = "C /bin\nD /bin/cut\nC /etc/passwd\nA /fifo\nA /link\nA /new\nline\n"
				 "C /opt\nA /opt/o\n";
	assert_string_equal(s, opaque ? want_opaque : want_plain);
	change_list_release(&l);

	/* no lower layers: everything is added; a parent is listed once */
	assert_int_equal(changes_overlay(o.upper, NULL, 0, &l, &e), 0);
	cleanup_free char *s2 = list_str(&l);
	assert_non_null(strstr(s2, "A /etc\nA /etc/passwd\n"));
	change_list_release(&l);
	close(o.lower);
	close(o.upper);
}

static void test_upper_tar(void **state)
{
	(void)state;
	struct ov o;
	bool opaque;
	make_overlay(&o, "ov2", &opaque);
	struct strbuf tar = STRBUF_INIT;
	struct skiff_err *e = NULL;
	assert_int_equal(changes_tar_upper(o.upper, sb_write, &tar, &e), 0);
	cleanup_free char *s = tar_listing(&tar);
	assert_non_null(strstr(s, "bin/ d 0\nbin/.wh.cut f 0\n"));
	assert_non_null(strstr(s, "etc/passwd f 43\n"));
	assert_non_null(strstr(s, "fifo p 0\n"));
	assert_non_null(strstr(s, "link l 0 -> ../../etc/shadow\n"));
	assert_non_null(strstr(s, "new\nline f 2\n"));
	if (opaque)
		assert_non_null(strstr(s, "opt/ d 0\nopt/.wh..wh..opq f 0\nopt/o f 1\n"));
	strbuf_release(&tar);

	/* a failing sink is an error naming the cause, not a crash */
	assert_int_equal(changes_tar_upper(o.upper, fail_write, NULL, &e), -1);
	assert_non_null(e);
	assert_int_equal(e->status, ENOSPC);
	err_clear(&e);
	close(o.lower);
	close(o.upper);
}

/* ---- two trees (vfs) ---- */

static void test_trees(void **state)
{
	(void)state;
	int base = dir_at("vfs-base"), new = dir_at("vfs-new");
	struct skiff_err *e = NULL;
	for (int side = 0; side < 2; side++) {
		int d = side ? new : base;
		mkdir_at(d, "etc");
		cleanup_close int ed = openat(d, "etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		file_at(ed, "passwd", side ? "changed!" : "original");
		file_at(ed, "same", "same");
		set_time(d, "etc");
		file_at(d, "gone", "x");
		mkdir_at(d, "dir");
		assert_int_equal(symlinkat(side ? "/b" : "/a", d, "ln"), 0);
	}
	/* new: a file in etc changed (same size and time: not seen), etc/passwd mtime changed
	 * below; a deleted file; a new dir tree; a retargeted symlink */
	unlinkat(new, "gone", 0);
	struct timespec ts[2] = {{T0 + 5, 0}, {T0 + 5, 0}};
	cleanup_close int ed = openat(new, "etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(utimensat(ed, "passwd", ts, 0), 0);
	mkdir_at(new, "add");
	cleanup_close int ad = openat(new, "add", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	file_at(ad, "f", "f");
	struct change_list l = {0};
	assert_int_equal(changes_trees(base, new, &l, &e), 0);
	cleanup_free char *s = list_str(&l);
	assert_string_equal(s, "A /add\nA /add/f\nC /etc\nC /etc/passwd\nD /gone\nC /ln\n");

	struct strbuf tar = STRBUF_INIT;
	assert_int_equal(changes_tar_list(new, &l, sb_write, &tar, &e), 0);
	cleanup_free char *t = tar_listing(&tar);
	assert_string_equal(t, "add/ d 0\nadd/f f 1\netc/ d 0\netc/passwd f 8\n.wh.gone f 0\nln l 0 -> /b\n");
	strbuf_release(&tar);
	change_list_release(&l);

	/* against nothing: all added */
	assert_int_equal(changes_trees(-1, new, &l, &e), 0);
	assert_int_equal(l.v[0].kind, CHANGE_ADD);
	change_list_release(&l);
	close(base);
	close(new);
}

/* ---- whole trees, hard links, sockets, deep and long paths ---- */

static void test_tree_tar(void **state)
{
	(void)state;
	int d = dir_at("tree");
	struct skiff_err *e = NULL;
	file_at(d, "a", "hello");
	assert_int_equal(linkat(d, "a", d, "b", 0), 0);
	/* a socket cannot go into a tar: skipped */
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	cleanup_free char *sp = xasprintf("%s/tree/sock", top);
	if (strlen(sp) < sizeof(sa.sun_path)) {
		memcpy(sa.sun_path, sp, strlen(sp) + 1);
		assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	close(s);
	/* a path far longer than a ustar header: 40 levels of 200-character names */
	char name[201];
	memset(name, 'n', 200);
	name[200] = '\0';
	int cur = dup(d);
	for (int i = 0; i < 40; i++) {
		assert_int_equal(mkdirat(cur, name, 0755), 0);
		int next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(cur);
		cur = next;
	}
	file_at(cur, "deep", "d");
	close(cur);
	struct strbuf tar = STRBUF_INIT;
	assert_int_equal(changes_tar_tree(d, sb_write, &tar, &e), 0);
	cleanup_free char *t = tar_listing(&tar);
	assert_non_null(strstr(t, "a f 5\nb h 0 -> a\n"));
	assert_null(strstr(t, "sock"));
	assert_non_null(strstr(t, "/deep f 1\n"));
	assert_true(strlen(t) > 40 * 200);
	strbuf_release(&tar);
	close(d);
}

static void test_too_deep(void **state)
{
	(void)state;
	int d = dir_at("deep");
	int cur = dup(d);
	for (int i = 0; i < 600; i++) {
		assert_int_equal(mkdirat(cur, "d", 0755), 0);
		int next = openat(cur, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(cur);
		cur = next;
	}
	close(cur);
	struct change_list l = {0};
	struct skiff_err *e = NULL;
	assert_int_equal(changes_overlay(d, NULL, 0, &l, &e), -1);
	assert_int_equal(e->status, ELOOP);
	assert_non_null(strstr(e->msg, "directory levels"));
	err_clear(&e);
	change_list_release(&l);
	struct strbuf tar = STRBUF_INIT;
	assert_int_equal(changes_tar_tree(d, sb_write, &tar, &e), -1);
	assert_int_equal(e->status, ELOOP);
	err_clear(&e);
	strbuf_release(&tar);
	close(d);
}

/* ---- commit -c ---- */

static void test_changes_good(void **state)
{
	(void)state;
	struct spec_image_config *c = spec_image_config_new();
	struct skiff_err *e = NULL;
	static const char *const good[] = {
		"CMD [\"sh\", \"-c\", \"echo hi\"]",
		"entrypoint echo $HOME",
		"ENV A=1 B=\"x y\" C='q \"z\"' D=a\\ b",
		"ENV OLD the rest of it",
		"LABEL l1=v1 \"l 2\"=v2",
		"EXPOSE 80 53/udp 9000-9002",
		"VOLUME [\"/v1\", \"/v2\"]",
		"VOLUME /v3 /v1",
		"STOPSIGNAL SIGKILL",
		"USER 12:12",
		"WORKDIR /w",
		"WORKDIR sub",
		"ONBUILD RUN make",
		"CMD=[\"x\"]",
	};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		if (image_apply_change(c, good[i], &e) < 0)
			fail_msg("%s: %s", good[i], e->msg);
	}
	assert_int_equal(c->config.cmd.len, 1);
	assert_string_equal(c->config.cmd.v[0], "x");
	assert_int_equal(c->config.entrypoint.len, 3);
	assert_string_equal(c->config.entrypoint.v[2], "echo $HOME");
	assert_true(strv_contains(&c->config.env, "A=1"));
	assert_true(strv_contains(&c->config.env, "B=x y"));
	assert_true(strv_contains(&c->config.env, "C=q \"z\""));
	assert_true(strv_contains(&c->config.env, "D=a b"));
	assert_true(strv_contains(&c->config.env, "OLD=the rest of it"));
	assert_string_equal(spec_map_get(&c->config.labels, "l 2"), "v2");
	assert_true(strv_contains(&c->config.exposed_ports, "80/tcp"));
	assert_true(strv_contains(&c->config.exposed_ports, "53/udp"));
	assert_true(strv_contains(&c->config.exposed_ports, "9001/tcp"));
	assert_int_equal(c->config.volumes.len, 3);
	assert_string_equal(c->config.stop_signal, "9");
	assert_string_equal(c->config.user, "12:12");
	assert_string_equal(c->config.working_dir, "/w/sub");
	assert_string_equal(c->config.on_build.v[0], "RUN make");
	spec_image_config_free(c);
}

static void test_changes_bad(void **state)
{
	(void)state;
	struct spec_image_config *c = spec_image_config_new();
	static const struct {
		const char *change, *want;
	} bad[] = {
		{"BOGUS x", "invalid instruction BOGUS"},
		{"", "invalid instruction (empty)"},
		{"   ", "invalid instruction (empty)"},
		{"CMD", "must be formatted as KEY VALUE"},
		{"ENV", "must be formatted as KEY VALUE"},
		{"ENV A", "has no value"},
		{"ENV =x", "the key is empty"},
		{"ENV A=1 B", "\"B\" is not KEY=VALUE"},
		{"ENV A=\"unterminated", "unterminated double quote"},
		{"LABEL a='x", "unterminated single quote"},
		{"EXPOSE abc", "invalid port \"abc\""},
		{"EXPOSE 70000", "invalid port \"70000\""},
		{"EXPOSE 0", "invalid port \"0\""},
		{"EXPOSE 80/xyz", "invalid protocol \"xyz\""},
		{"EXPOSE 90-80", "invalid range"},
		{"STOPSIGNAL NOPE", "STOPSIGNAL"},
		{"ONBUILD FROM x", "ONBUILD FROM is not allowed"},
		{"ONBUILD onbuild x", "is not allowed"},
		{"RUN\nrm -rf /", "invalid instruction RUN"},
		{"VOLUME [\"\"]", "empty path"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct skiff_err *e = NULL;
		if (image_apply_change(c, bad[i].change, &e) == 0)
			fail_msg("accepted: %s", bad[i].change);
		assert_int_equal(e->status, EINVAL);
		if (!strstr(e->msg, bad[i].want) || !strstr(e->msg, "invalid change \""))
			fail_msg("%s: message %s lacks %s", bad[i].change, e->msg, bad[i].want);
		err_free(e);
	}
	spec_image_config_free(c);
}

static void test_commit_name(void **state)
{
	(void)state;
	struct skiff_err *e = NULL;
	char *n = NULL;
	assert_int_equal(image_commit_name("c1", &n, &e), 0);
	assert_string_equal(n, "localhost/c1:latest");
	free(n);
	assert_int_equal(image_commit_name("quay.io/x/y:2", &n, &e), 0);
	assert_string_equal(n, "quay.io/x/y:2");
	free(n);
	assert_int_equal(image_commit_name("Bad:Name", &n, &e), -1);
	assert_int_equal(e->status, EINVAL);
	err_clear(&e);
	assert_int_equal(
		image_commit_name("x@sha256:0123456789012345678901234567890123456789012345678901234567890123", &n, &e),
		-1);
	assert_non_null(strstr(e->msg, "digest"));
	err_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlay_diff), cmocka_unit_test(test_upper_tar),
		cmocka_unit_test(test_trees),	     cmocka_unit_test(test_tree_tar),
		cmocka_unit_test(test_too_deep),     cmocka_unit_test(test_changes_good),
		cmocka_unit_test(test_changes_bad),  cmocka_unit_test(test_commit_name),
	};
	return cmocka_run_group_tests(tests, mk_top, rm_top);
}
