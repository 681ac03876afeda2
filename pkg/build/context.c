/* The build context: a directory, a tarball or stdin, its Dockerfile and ignore file. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/build/context.h"
#include "pkg/build/copy-internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/pathres.h"
#include "vendor-free/xalloc.h"

#define DOCKERFILE_MAX (64u << 20)
#define IGNOREFILE_MAX (16u << 20)

void bctx_close(struct bctx *c)
{
	if (!c)
		return;
	if (c->dirfd >= 0)
		close(c->dirfd);
	if (c->tmpdir) {
		cleanup_err struct skiff_err *e = NULL;
		(void)rm_rf_at(AT_FDCWD, c->tmpdir, &e);
	}
	if (c->ignore)
		df_ignore_free(c->ignore);
	free(c->dir);
	free(c->tmpdir);
	free(c->dockerfile);
	free(c->dockerfile_buf);
	free(c);
}
DEFINE_CLEANUP_FUNC(struct bctx, bctx_close)

static int make_tmpdir(struct bctx *c, const char *tmp_parent, struct skiff_err **err)
{
	const char *parent = tmp_parent && *tmp_parent ? tmp_parent : getenv("TMPDIR");
	char *t = xasprintf("%s/build-context-XXXXXX", parent && *parent ? parent : "/var/tmp");
	if (!mkdtemp(t)) {
		int rc = err_make(err, errno, "make a directory for the build context in %s",
				  parent && *parent ? parent : "/var/tmp");
		free(t);
		return rc;
	}
	c->tmpdir = t;
	c->dir = xasprintf("%s/context", t);
	if (mkdir(c->dir, 0755) < 0)
		return err_make(err, errno, "mkdir %s", c->dir);
	c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0)
		return err_make(err, errno, "open %s", c->dir);
	return 0;
}

static int unpack_context(struct bctx *c, int fd, const char *what, struct skiff_err **err)
{
	struct copy_owner own = {.ignore = true};
	if (copy_extract_tar(fd, c->dirfd, &own, err) < 0)
		return err_wrap(err, "build context %s", what);
	return 0;
}

/* stdin: a tar, or a Dockerfile alone (then the context is empty). */
static int open_stdin_context(struct bctx *c, const char *tmp_parent, struct skiff_err **err)
{
	cleanup_close int fd = -1;
	if (make_tmpdir(c, tmp_parent, err) < 0)
		return -1;
	fd = openat(AT_FDCWD, c->tmpdir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
	if (fd < 0) {
		cleanup_free char *p = xasprintf("%s/stdin", c->tmpdir);
		fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_make(err, errno, "create %s", p);
		(void)unlink(p);
	}
	if (copy_fd(STDIN_FILENO, fd, NULL) < 0)
		return err_make(err, errno, "read the build context from stdin");
	if (copy_is_tar(fd))
		return unpack_context(c, fd, "from stdin", err);
	if (lseek(fd, 0, SEEK_SET) < 0)
		return err_make(err, errno, "seek");
	if (read_all_fd(fd, DOCKERFILE_MAX, &c->dockerfile_buf, &c->dockerfile_len, err) < 0)
		return err_wrap(err, "read the Dockerfile from stdin");
	c->dockerfile = xstrdup("-");
	return 0;
}

static int open_context(struct bctx *c, const char *context, const char *tmp_parent, bool *ret_unpacked,
			struct skiff_err **err)
{
	struct stat st;
	cleanup_close int fd = -1;
	if (!strcmp(context, "-")) {
		*ret_unpacked = true;
		return open_stdin_context(c, tmp_parent, err);
	}
	if (stat(context, &st) < 0)
		return err_make(err, errno, "build context %s", context);
	if (S_ISDIR(st.st_mode)) {
		c->dir = xstrdup(context);
		c->dirfd = open(context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (c->dirfd < 0)
			return err_make(err, errno, "open build context %s", context);
		*ret_unpacked = false;
		return 0;
	}
	fd = open(context, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_make(err, errno, "open build context %s", context);
	if (!S_ISREG(st.st_mode) || !copy_is_tar(fd))
		return err_makex(err, EINVAL, "build context %s: not a directory or a tar archive", context);
	if (make_tmpdir(c, tmp_parent, err) < 0)
		return -1;
	*ret_unpacked = true;
	return unpack_context(c, fd, context, err);
}

/* Read name (inside the context when in_ctx, else relative to the cwd). 0 when it is
 * missing (*ret untouched), 1 when read. */
static int read_opt(int ctxfd, bool in_ctx, const char *name, size_t max, char **ret, size_t *ret_len,
		    struct skiff_err **err)
{
	cleanup_err struct skiff_err *e = NULL;
	cleanup_close int fd =
		in_ctx ? pathres_open(ctxfd, name, O_RDONLY, 0, PATHRES_IN_ROOT, &e) : open(name, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0) {
		int st_ = in_ctx ? err_status(e) : errno;
		if (st_ == ENOENT || st_ == ENOTDIR)
			return 0;
		if (in_ctx) {
			*err = TAKE_PTR(e);
			return -1;
		}
		return err_make(err, st_, "open %s", name);
	}
	if (fstat(fd, &st) < 0)
		return err_make(err, errno, "stat %s", name);
	if (S_ISDIR(st.st_mode))
		return 0;
	if (read_all_fd(fd, max, ret, ret_len, err) < 0)
		return err_wrap(err, "read %s", name);
	return 1;
}

static char *ctx_name(const struct bctx *c, const char *context, const char *name)
{
	if (!strcmp(context, "-"))
		return xstrdup(name);
	size_t n = strlen(context);
	return xasprintf("%s%s%s", context, n && context[n - 1] == '/' ? "" : "/", name);
}

static int find_dockerfile(struct bctx *c, const char *context, const char *file, bool unpacked, struct skiff_err **err)
{
	static const char *const names[] = {"Containerfile", "Dockerfile"};
	int r;
	if (c->dockerfile_buf)
		return 0; /* stdin was the Dockerfile */
	if (file && !strcmp(file, "-")) {
		if (read_all_fd(STDIN_FILENO, DOCKERFILE_MAX, &c->dockerfile_buf, &c->dockerfile_len, err) < 0)
			return err_wrap(err, "read the Dockerfile from stdin");
		c->dockerfile = xstrdup("-");
		return 0;
	}
	if (file) {
		/* -f is relative to the cwd; for an unpacked context, a path inside it */
		r = read_opt(c->dirfd, unpacked, file, DOCKERFILE_MAX, &c->dockerfile_buf, &c->dockerfile_len, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return err_makex(err, ENOENT, "the Dockerfile %s%s does not exist", file,
					 unpacked ? " (in the build context)" : "");
		c->dockerfile = xstrdup(file);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		r = read_opt(c->dirfd, true, names[i], DOCKERFILE_MAX, &c->dockerfile_buf, &c->dockerfile_len, err);
		if (r < 0)
			return err_wrap(err, "%s", names[i]);
		if (r > 0) {
			c->dockerfile = ctx_name(c, context, names[i]);
			return 0;
		}
	}
	return err_makex(err, ENOENT, "cannot find Containerfile or Dockerfile in %s", context);
}

static int load_ignore(struct bctx *c, const char *file, bool unpacked, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	cleanup_free char *name = NULL;
	size_t len = 0;
	int r = 0;
	if (file && strcmp(file, "-") != 0) {
		static const char *const sfx[] = {".containerignore", ".dockerignore"};
		for (size_t i = 0; i < ARRAY_SIZE(sfx) && r == 0; i++) {
			free(name);
			name = xasprintf("%s%s", file, sfx[i]);
			r = read_opt(c->dirfd, unpacked, name, IGNOREFILE_MAX, &buf, &len, err);
		}
	}
	if (r == 0) {
		static const char *const names[] = {".containerignore", ".dockerignore"};
		for (size_t i = 0; i < ARRAY_SIZE(names) && r == 0; i++) {
			free(name);
			name = xstrdup(names[i]);
			r = read_opt(c->dirfd, true, name, IGNOREFILE_MAX, &buf, &len, err);
		}
	}
	if (r < 0)
		return -1;
	if (r == 0)
		return 0;
	if (df_ignore_parse(buf, len, &c->ignore, err) < 0)
		return err_wrap(err, "%s", name);
	return 0;
}

int bctx_open(const char *context, const char *file, const char *tmp_parent, struct bctx **ret, struct skiff_err **err)
{
	__attribute__((cleanup(bctx_closep))) struct bctx *c = xzalloc(sizeof(*c));
	bool unpacked = false;

	c->dirfd = -1;
	if (!context || !*context)
		return err_makex(err, EINVAL, "no build context given");
	if (!strcmp(context, "-") && file && !strcmp(file, "-"))
		return err_makex(err, EINVAL, "the build context and the Dockerfile cannot both be read from stdin");
	if (open_context(c, context, tmp_parent, &unpacked, err) < 0)
		return -1;
	if (find_dockerfile(c, context, file, unpacked, err) < 0)
		return -1;
	if (load_ignore(c, file, unpacked, err) < 0)
		return -1;
	*ret = TAKE_PTR(c);
	return 0;
}
