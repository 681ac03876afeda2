/* pkg/build stage: one stage's instructions, from FROM to its last step. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/build/build-internal.h"
#include "pkg/engine/changes.h"
#include "pkg/image/image.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/pathres.h"
#include "vendor-free/xalloc.h"

static void vlog(void (*fn)(void *, const char *), void *ud, const char *fmt, va_list ap)
{
	if (!fn)
		return;
	struct strbuf sb = STRBUF_INIT;
	strbuf_vaddf(&sb, fmt, ap);
	fn(ud, sb.buf);
	strbuf_release(&sb);
}

void stage_log(struct builder *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(b->o->log, b->o->log_ud, fmt, ap);
	va_end(ap);
}

void stage_debug(struct builder *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(b->o->debug, b->o->log_ud, fmt, ap);
	va_end(ap);
}

bool build_is_proxy_arg(const char *name)
{
	static const char *const proxy[] = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
					    "ftp_proxy",  "NO_PROXY",	"no_proxy",    "ALL_PROXY",   "all_proxy"};
	for (size_t i = 0; i < ARRAY_SIZE(proxy); i++)
		if (!strcmp(name, proxy[i]))
			return true;
	return false;
}

char *build_run_created_by(const struct strv *shell, const char *cmd, const struct strv *args)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = 0;
	for (size_t i = 0; args && i < args->len; i++) {
		size_t kl = strcspn(args->v[i], "=");
		cleanup_free char *k = xstrndup(args->v[i], kl);
		if (!build_is_proxy_arg(k))
			n++;
	}
	if (n) {
		strbuf_addf(&sb, "|%zu", n);
		for (size_t i = 0; i < args->len; i++) {
			size_t kl = strcspn(args->v[i], "=");
			cleanup_free char *k = xstrndup(args->v[i], kl);
			if (!build_is_proxy_arg(k))
				strbuf_addf(&sb, " %s", args->v[i]);
		}
		strbuf_addch(&sb, ' ');
	}
	for (size_t i = 0; i < shell->len; i++)
		strbuf_addf(&sb, "%s ", shell->v[i]);
	strbuf_addstr(&sb, cmd);
	return strbuf_detach(&sb, NULL);
}

/* NAME=VALUE in v: the value, or NULL. */
static const char *kv_get(const struct strv *v, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = v->len; i-- > 0;)
		if (!strncmp(v->v[i], name, nl) && v->v[i][nl] == '=')
			return v->v[i] + nl + 1;
	return NULL;
}

static void kv_put(struct strv *v, const char *name, const char *value)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < v->len; i++)
		if (!strncmp(v->v[i], name, nl) && v->v[i][nl] == '=') {
			free(v->v[i]);
			v->v[i] = xasprintf("%s=%s", name, value);
			return;
		}
	strv_pushf(v, "%s=%s", name, value);
}

/* The variables instructions expand with: the ARGs in scope, the proxy build args, then
 * ENV (which wins over an ARG of the same name). */
static void stage_vars(struct stage *st, struct strv *out)
{
	const struct strv *ba = st->b->o->build_args;
	for (size_t i = 0; ba && i < ba->len; i++) {
		size_t kl = strcspn(ba->v[i], "=");
		cleanup_free char *k = xstrndup(ba->v[i], kl);
		if (build_is_proxy_arg(k) && ba->v[i][kl] == '=')
			strv_push(out, ba->v[i]);
	}
	for (size_t i = 0; i < st->args.len; i++)
		strv_push(out, st->args.v[i]);
	for (size_t i = 0; i < st->cfg->config.env.len; i++)
		strv_push(out, st->cfg->config.env.v[i]);
}

static int expand(struct stage *st, const char *word, char **ret, struct skiff_err **err)
{
	cleanup_strv struct strv vars = STRV_INIT;
	stage_vars(st, &vars);
	return df_expand(word, st->b->df->escape, &vars, NULL, ret, err);
}

static int expand_words(struct stage *st, const char *text, struct strv *out, struct skiff_err **err)
{
	cleanup_strv struct strv vars = STRV_INIT;
	stage_vars(st, &vars);
	return df_expand_words(text, st->b->df->escape, &vars, NULL, out, err);
}

static void add_hist(struct stage *st, const char *created_by)
{
	if (st->nhist == st->alloc_hist) {
		st->alloc_hist = st->alloc_hist ? 2 * st->alloc_hist : 8;
		st->hist = xreallocarray(st->hist, st->alloc_hist, sizeof(*st->hist));
	}
	struct spec_history *h = &st->hist[st->nhist++];
	memset(h, 0, sizeof(*h));
	h->created_by = xstrdup(created_by);
	h->empty_layer = true;
}

/* Replace st's image and config by image id (a cache hit or a FROM). */
static int load_image(struct stage *st, const char *id, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (store_image_config(st->b->e->store, id, &buf, &len, err) < 0)
		return -1;
	cleanup_free char *digest = xasprintf("sha256:%s", id);
	struct spec_image_config *c = NULL;
	if (spec_image_config_parse_known(buf, len, digest, &c, err) < 0)
		return err_wrap(err, "config of image %s", id);
	if (st->cfg)
		spec_image_config_free(st->cfg);
	st->cfg = c;
	free(st->image_id);
	st->image_id = xstrdup(id);
	for (size_t i = 0; i < st->nhist; i++)
		spec_history_release(&st->hist[i]);
	st->nhist = 0;
	strbuf_reset(&st->pending);
	return 0;
}

/* A step that makes an image: look key up; on a hit, take the image. After a miss, a step
 * that makes a layer (h, NULL for none) may continue a --cache-from image. 1: a hit, 0: a
 * miss, -1: the store failed. */
static int step_cached(struct stage *st, const char *step, char key[65], const struct spec_history *h,
		       struct skiff_err **err)
{
	struct builder *b = st->b;
	/* the image format is in every image a step makes: a docker-format image is no hit
	 * for an OCI build */
	cleanup_free char *material = xasprintf("format=%d\n%s", (int)b->o->format, step);
	cache_key(st->image_id, st->pending.buf, material, key);
	if (st->cache_broken)
		return 0;
	cleanup_free char *id = NULL;
	if (!cache_lookup(b, key, &id)) {
		if (!b->o->no_cache && !b->o->no_layers)
			stage_debug(b, "cache miss: no image recorded for key %.12s (parent %.12s, step %s)", key,
				    st->image_id ? st->image_id : "scratch", step);
		if (h && cachefrom_lookup(st, h, err)) {
			strv_release(&st->workdirs); /* the reused layer has them */
			cache_record(b, key, st->image_id);
			stage_log(b, "--> Using cache %s", st->image_id);
			return 1;
		}
		if (*err)
			return -1;
		st->cache_broken = true;
		return 0;
	}
	struct skiff_err *e = NULL;
	if (load_image(st, id, &e) < 0) {
		stage_debug(b, "cache miss: %s", e->msg);
		err_free(e);
		st->cache_broken = true;
		return 0;
	}
	strv_release(&st->workdirs); /* the cached image has them */
	stage_log(b, "--> Using cache %s", id);
	return 1;
}

static void log_committed(struct stage *st)
{
	stage_log(st->b, "--> %.12s", st->image_id);
}

/* ---------------- containers for RUN and COPY ---------------- */

int bctr_create(struct builder *b, const char *image_id, struct ctr_config *cfg, struct bctr *ret,
		struct skiff_err **err)
{
	cfg->image = xstrdup(image_id);
	strv_push(&cfg->health_test, "NONE");
	if (b->o->runtime && !cfg->runtime)
		cfg->runtime = xstrdup(b->o->runtime);
	if (ctr_create(b->e, cfg, err) < 0)
		return err_wrap(err, "create a build container");
	ret->created = true;
	if (ctr_lookup(b->e, cfg->id, &ret->c, err) < 0)
		return -1;
	return 0;
}

void bctr_remove(struct builder *b, struct bctr *bc, bool keep)
{
	struct skiff_err *e = NULL;
	if (bc->mounted)
		ctr_umount(b->e, &bc->c, &e);
	err_clear(&e);
	if (bc->created && !keep) {
		struct ctr again = {0};
		if (ctr_lookup(b->e, bc->c.row.id, &again, &e) == 0) {
			again.remove_volumes = true;
			ctr_remove(b->e, &again, true, &e);
			ctr_release(&again);
		}
		err_clear(&e);
	}
	ctr_release(&bc->c);
	free(bc->rootfs);
	memset(bc, 0, sizeof(*bc));
}

int bctr_mount(struct builder *b, struct bctr *bc, int *ret_fd, struct skiff_err **err)
{
	if (ctr_mount(b->e, &bc->c, &bc->rootfs, err) < 0)
		return -1;
	bc->mounted = true;
	int fd = open(bc->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_make(err, errno, "open %s", bc->rootfs);
	*ret_fd = fd;
	return 0;
}

int write_fd_fn(void *ud, const void *buf, size_t n)
{
	return write_all(*(int *)ud, buf, n);
}

/* What the engine makes in every RUN container only to mount over it (buildah leaves them
 * out of the layer too). */
static const char *const run_mount_targets[] = {"/etc/hosts", "/etc/resolv.conf", "/etc/hostname",
						"/run/.containerenv"};

/* The layer of build container bc as a tar in a new temporary file (rewound), without
 * the mount targets (NULL: none) a RUN left. */
static int bctr_layer(struct builder *b, struct bctr *bc, const struct strv *targets, int *ret_fd,
		      struct skiff_err **err)
{
	cleanup_close int fd = -1;
	if (cache_tmpfile(b, &fd, err) < 0)
		return -1;
	cleanup_free char *dir = store_container_dir(b->e->store, bc->c.row.id);
	if (!strcmp(store_driver(b->e->store), "vfs")) {
		struct store_image *img = NULL;
		if (store_image_get(b->e->store, bc->c.row.image_id, &img, err) < 0)
			return -1;
		cleanup_close int base = -1, new = -1;
		if (img->layers.len) {
			cleanup_free char *p = xasprintf("%s/layers/%s/diff", store_graphroot(b->e->store),
							 img->layers.v[img->layers.len - 1]);
			base = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		}
		store_image_free(img);
		cleanup_free char *rootfs = xasprintf("%s/rootfs", dir);
		new = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (new < 0)
			return err_make(err, errno, "open %s", rootfs);
		if (targets)
			build_strip_mount_targets(new, base, targets);
		struct change_list l = {0};
		int rc = changes_trees(base, new, &l, err);
		if (rc == 0)
			rc = changes_tar_list(new, &l, write_fd_fn, &fd, err);
		change_list_release(&l);
		if (rc < 0)
			return -1;
	} else {
		cleanup_free char *upper = xasprintf("%s/diff", dir);
		cleanup_close int ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (ufd < 0)
			return err_make(err, errno, "open %s", upper);
		if (targets)
			build_strip_mount_targets(ufd, -1, targets);
		if (changes_tar_upper(ufd, write_fd_fn, &fd, err) < 0)
			return -1;
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		return err_make(err, errno, "rewind the layer");
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Make the pending WORKDIRs in rootfd, or (-1) in bc's mounted rootfs (left mounted). */
static int stage_make_workdirs(struct stage *st, struct bctr *bc, int rootfd, struct skiff_err **err)
{
	cleanup_close int own = -1;
	if (rootfd < 0) {
		if (bctr_mount(st->b, bc, &own, err) < 0)
			return -1;
		rootfd = own;
	}
	for (size_t i = 0; i < st->workdirs.len; i++)
		if (build_mkdir_in_root(rootfd, st->workdirs.v[i], err) < 0)
			return err_wrap(err, "WORKDIR %s", st->workdirs.v[i]);
	strv_release(&st->workdirs);
	return 0;
}

/* ---------------- RUN ---------------- */

/* --mount=type=secret|cache|bind|tmpfs,... into cfg's mounts. */
static int copy_source_image(struct stage *st, const char *what, const char *from, char **ret_id,
			     struct skiff_err **err);

/* The host path of path inside rootfd (resolved there: symlinks stay inside). */
static int path_in_root(int rootfd, const char *path, char **ret, struct skiff_err **err)
{
	cleanup_close int fd = pathres_open(rootfd, path, O_PATH, 0, PATHRES_IN_ROOT, err);
	if (fd < 0)
		return -1;
	char link[64], buf[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 0)
		return err_make(err, errno, "readlink %s", link);
	buf[n] = '\0';
	*ret = xstrdup(buf);
	return 0;
}

/* Make the RUN's binds ready: the from= containers mounted, the context (or its copy). */
static int run_binds_ready(struct stage *st, struct ctr_config *cfg, struct skiff_err **err)
{
	struct builder *b = st->b;
	for (size_t i = 0; i < st->n_binds; i++) {
		struct run_bind *rb = &st->binds[i];
		struct ctr_mount *m = &cfg->mounts[rb->mount];
		if (rb->from_id) {
			rb->c = xzalloc(sizeof(*rb->c));
			struct ctr_config *cc = ctr_config_new();
			int rc = bctr_create(b, rb->from_id, cc, rb->c, err);
			ctr_config_free(cc);
			cleanup_close int fd = -1;
			if (rc < 0 || bctr_mount(b, rb->c, &fd, err) < 0 ||
			    path_in_root(fd, rb->source, &m->source, err) < 0)
				return err_wrap(err, "RUN --mount source %s", rb->source);
			continue;
		}
		if (!rb->rw && !b->ctx->ignore) {
			if (path_in_root(b->ctx->dirfd, rb->source, &m->source, err) < 0)
				return err_wrap(err, "RUN --mount source %s", rb->source);
			continue;
		}
		/* a copy: writes never reach the user's files, ignored files are not there */
		const char *tmp = b->o->tmpdir && *b->o->tmpdir ? b->o->tmpdir : "/var/tmp";
		char *dir = xasprintf("%s/skiff-build-XXXXXX", tmp);
		if (!mkdtemp(dir)) {
			int e = errno;
			free(dir);
			return err_make(err, e, "RUN --mount: create a directory in %s", tmp);
		}
		rb->tmpdir = dir;
		cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return err_make(err, errno, "open %s", dir);
		struct bcopy_src src = {.rootfd = b->ctx->dirfd, .ignore = b->ctx->ignore, .is_context = true};
		cleanup_strv struct strv srcs = STRV_INIT;
		strv_push(&srcs, rb->source);
		struct bcopy_opts co = {.srcs = &srcs, .dest = "/", .workdir = "/"};
		struct stat sb;
		cleanup_close int sfd = pathres_open(b->ctx->dirfd, rb->source, O_PATH, 0, PATHRES_IN_ROOT, err);
		if (sfd < 0 || fstat(sfd, &sb) < 0 || bcopy_run(&src, dfd, &co, err) < 0)
			return err_wrap(err, "RUN --mount source %s", rb->source);
		const char *base = strrchr(rb->source, '/') ? strrchr(rb->source, '/') + 1 : rb->source;
		m->source = S_ISDIR(sb.st_mode) ? xstrdup(dir) : xasprintf("%s/%s", dir, base);
	}
	return 0;
}

static void run_binds_release(struct stage *st)
{
	for (size_t i = 0; i < st->n_binds; i++) {
		struct run_bind *rb = &st->binds[i];
		if (rb->c) {
			bctr_remove(st->b, rb->c, false);
			free(rb->c);
		}
		if (rb->tmpdir) {
			struct skiff_err *e = NULL;
			if (rm_rf_at(AT_FDCWD, rb->tmpdir, &e) < 0)
				err_free(e);
			free(rb->tmpdir);
		}
		free(rb->from_id);
		free(rb->source);
	}
	st->n_binds = 0;
}

static int run_mount(struct stage *st, const char *spec, struct ctr_config *cfg, struct strbuf *key,
		     struct skiff_err **err)
{
	struct builder *b = st->b;
	cleanup_strv struct strv parts = STRV_INIT;
	strv_split(&parts, spec, ',');
	const char *type = "bind", *id = NULL, *target = NULL, *source = NULL, *from = NULL;
	bool rw = false;
	for (size_t i = 0; i < parts.len; i++) {
		char *p = parts.v[i];
		char *eq = strchr(p, '=');
		const char *v = eq ? eq + 1 : "";
		if (eq)
			*eq = '\0';
		if (!strcmp(p, "type"))
			type = v;
		else if (!strcmp(p, "id"))
			id = v;
		else if (!strcmp(p, "target") || !strcmp(p, "dst") || !strcmp(p, "destination"))
			target = v;
		else if (!strcmp(p, "source") || !strcmp(p, "src"))
			source = v;
		else if (!strcmp(p, "from"))
			from = v;
		else if (!strcmp(p, "rw") || !strcmp(p, "readwrite"))
			rw = !eq || !strcmp(v, "true");
	}
	if (cfg->n_mounts == cfg->alloc_mounts) {
		cfg->alloc_mounts = cfg->alloc_mounts ? 2 * cfg->alloc_mounts : 4;
		cfg->mounts = xreallocarray(cfg->mounts, cfg->alloc_mounts, sizeof(*cfg->mounts));
	}
	struct ctr_mount *m = &cfg->mounts[cfg->n_mounts];
	memset(m, 0, sizeof(*m));
	if (!strcmp(type, "secret")) {
		if (!id && target)
			id = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
		if (!id || !*id)
			return err_makex(err, EINVAL, "--mount=%s: a secret needs an id", spec);
		const char *src = NULL;
		for (size_t i = 0; b->o->secrets && i < b->o->secrets->len && !src; i++) {
			cleanup_strv struct strv kv = STRV_INIT;
			strv_split(&kv, b->o->secrets->v[i], ',');
			const char *sid = NULL, *ssrc = NULL;
			for (size_t k = 0; k < kv.len; k++) {
				if (!strncmp(kv.v[k], "id=", 3))
					sid = kv.v[k] + 3;
				else if (!strncmp(kv.v[k], "src=", 4))
					ssrc = kv.v[k] + 4;
				else if (!strncmp(kv.v[k], "source=", 7))
					ssrc = kv.v[k] + 7;
			}
			if (sid && ssrc && !strcmp(sid, id)) {
				src = ssrc;
				m->source = realpath(ssrc, NULL);
				if (!m->source)
					return err_make(err, errno, "secret %s: %s", id, ssrc);
			}
		}
		if (!src)
			return err_makex(err, ENOENT, "secret %s: not given with --secret id=%s,src=FILE", id, id);
		m->type = xstrdup("bind");
		m->destination = target ? xstrdup(target) : xasprintf("/run/secrets/%s", id);
		strv_push(&m->options, "ro");
		strbuf_addf(key, " secret=%s:%s", id, m->destination);
	} else if (!strcmp(type, "cache")) {
		if (!target)
			return err_makex(err, EINVAL, "--mount=%s: a cache mount needs a target", spec);
		cleanup_free char *name = NULL;
		char k[65];
		cache_key("cache-mount", NULL, id && *id ? id : target, k);
		name = xasprintf("build-cache/%.32s", k);
		if (mkdir_p_at(store_graphroot_fd(b->e->store), name, 0755, err) < 0)
			return -1;
		m->type = xstrdup("bind");
		m->source = xasprintf("%s/%s", store_graphroot(b->e->store), name);
		m->destination = xstrdup(target);
		strv_push(&m->options, "rw");
		strbuf_addf(key, " cache=%s", target);
	} else if (!strcmp(type, "tmpfs")) {
		if (!target)
			return err_makex(err, EINVAL, "--mount=%s: a tmpfs mount needs a target", spec);
		m->type = xstrdup("tmpfs");
		m->destination = xstrdup(target);
		strbuf_addf(key, " tmpfs=%s", target);
	} else if (!strcmp(type, "bind")) {
		if (!target)
			return err_makex(err, EINVAL, "--mount=%s: a bind mount needs a target", spec);
		/* the source is made ready (and its tree read) only when the step runs: a bind
		 * of pending[] with the mount's index; the key has the source's content */
		cleanup_free char *rel = NULL;
		if (path_clean(source ? source : ".", &rel, err) < 0)
			return err_wrap(err, "--mount=%s: source", spec);
		struct run_bind rb = {.mount = cfg->n_mounts, .source = xstrdup(rel), .rw = rw};
		if (from) {
			if (copy_source_image(st, "--mount from", from, &rb.from_id, err) < 0) {
				free(rb.source);
				return -1;
			}
			strbuf_addf(key, " bind=%s:%s:%s:%s", rb.from_id, rel, target, rw ? "rw" : "ro");
		} else {
			/* the context's content under the source, after .dockerignore: a changed
			 * file there misses, as for COPY */
			struct bcopy_src src = {.rootfd = b->ctx->dirfd, .ignore = b->ctx->ignore, .is_context = true};
			cleanup_strv struct strv srcs = STRV_INIT;
			strv_push(&srcs, rel);
			struct bcopy_opts co = {.srcs = &srcs, .dest = "/", .workdir = "/"};
			cleanup_free char *digest = NULL;
			if (bcopy_digest(&src, &co, &digest, err) < 0) {
				free(rb.source);
				return err_wrap(err, "--mount=%s", spec);
			}
			strbuf_addf(key, " bind=%s:%s:%s:%s", rel, digest, target, rw ? "rw" : "ro");
		}
		if (st->n_binds == st->alloc_binds) {
			st->alloc_binds = st->alloc_binds ? 2 * st->alloc_binds : 2;
			st->binds = xreallocarray(st->binds, st->alloc_binds, sizeof(*st->binds));
		}
		st->binds[st->n_binds++] = rb;
		m->type = xstrdup("bind");
		m->destination = xstrdup(target);
		strv_push(&m->options, rw ? "rw" : "ro");
	} else {
		return err_makex(err, EINVAL, "--mount=%s: unknown type \"%s\"", spec, type);
	}
	cfg->n_mounts++;
	return 0;
}

/* The command text of a shell-form RUN with its heredocs. */
static char *run_command_text(const struct df_instr *in)
{
	const char *t = in->args[0];
	while (*t == ' ' || *t == '\t')
		t++;
	if (in->nheredocs && !strncmp(t, "<<", 2) && !strchr(t, ' ')) /* RUN <<EOF: the body is the script */
		return xstrdup(in->heredocs[0].body);
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, in->args[0]);
	for (size_t i = 0; i < in->nheredocs; i++)
		strbuf_addf(&sb, "\n%s%s", in->heredocs[i].body, in->heredocs[i].name);
	return strbuf_detach(&sb, NULL);
}

static int run_step(struct stage *st, const struct df_instr *in, const char *stepname, struct skiff_err **err);

static int do_run(struct stage *st, const struct df_instr *in, const char *stepname, struct skiff_err **err)
{
	int rc = run_step(st, in, stepname, err);
	run_binds_release(st);
	return rc;
}

static int run_step(struct stage *st, const struct df_instr *in, const char *stepname, struct skiff_err **err)
{
	struct builder *b = st->b;
	cleanup_strv struct strv shell = STRV_INIT, argv = STRV_INIT, env = STRV_INIT;
	if (st->cfg->config.shell.len)
		for (size_t i = 0; i < st->cfg->config.shell.len; i++)
			strv_push(&shell, st->cfg->config.shell.v[i]);
	else {
		strv_push(&shell, "/bin/sh");
		strv_push(&shell, "-c");
	}
	cleanup_free char *cmd = NULL;
	if (in->exec_form) {
		/* history and the cache key keep the array, quoted: ["echo","a b"] is neither
		 * ["echo a","b"] nor the shell form "echo a b" */
		struct strbuf sb = STRBUF_INIT;
		strbuf_addch(&sb, '[');
		for (size_t i = 0; i < in->nargs; i++) {
			strv_push(&argv, in->args[i]);
			if (i)
				strbuf_addch(&sb, ',');
			strbuf_addch(&sb, '"');
			for (const char *c = in->args[i]; *c; c++) {
				if (*c == '"' || *c == '\\')
					strbuf_addch(&sb, '\\');
				strbuf_addch(&sb, *c);
			}
			strbuf_addch(&sb, '"');
		}
		strbuf_addch(&sb, ']');
		cmd = strbuf_detach(&sb, NULL);
	} else {
		cmd = run_command_text(in);
		for (size_t i = 0; i < shell.len; i++)
			strv_push(&argv, shell.v[i]);
		strv_push(&argv, cmd);
	}
	cleanup_free char *created_by = in->exec_form ? NULL : build_run_created_by(&shell, cmd, &st->args);
	if (in->exec_form) {
		struct strv none = STRV_INIT;
		created_by = build_run_created_by(&none, cmd, &st->args);
	}
	cleanup_ctr_config struct ctr_config *cfg = ctr_config_new();
	cleanup_strbuf struct strbuf key = STRBUF_INIT;
	strbuf_addf(&key, "RUN\n%s\n%s", in->exec_form ? "exec" : "shell", created_by);
	size_t key_base = key.len;
	const char *network = b->o->network;
	for (size_t i = 0; i < in->nflags; i++) {
		const struct df_flag *f = &in->flags[i];
		if (!strcmp(f->name, "mount")) {
			cleanup_free char *v = NULL;
			if (expand(st, f->value ? f->value : "", &v, err) < 0 || run_mount(st, v, cfg, &key, err) < 0)
				return -1;
		} else if (!strcmp(f->name, "network")) {
			network = f->value;
			strbuf_addf(&key, " network=%s", f->value ? f->value : "");
		} else if (!strcmp(f->name, "security")) {
			if (f->value && strcmp(f->value, "sandbox"))
				return err_makex(err, ENOTSUP, "RUN --security=%s is not supported", f->value);
		} else {
			return err_makex(err, EINVAL, "RUN: unknown flag --%s", f->name);
		}
	}
	/* history names what the key does (mounts, network): --cache-from matches on it */
	if (key.len > key_base) {
		char *by = xasprintf("%s #%s", created_by, key.buf + key_base);
		free(created_by);
		created_by = by;
	}
	char k[65];
	struct spec_history h = {.created_by = created_by};
	int hit = step_cached(st, key.buf, k, &h, err);
	if (hit)
		return hit < 0 ? -1 : 0;
	if (!st->image_id)
		return err_makex(err, EINVAL, "RUN needs a base image with a shell: the stage is FROM scratch");

	/* the environment: ENV, then the ARGs in scope that ENV does not set */
	for (size_t i = 0; i < st->cfg->config.env.len; i++)
		strv_push(&env, st->cfg->config.env.v[i]);
	cleanup_strv struct strv vars = STRV_INIT;
	stage_vars(st, &vars);
	for (size_t i = 0; i < vars.len; i++) {
		size_t kl = strcspn(vars.v[i], "=");
		cleanup_free char *name = xstrndup(vars.v[i], kl);
		if (!kv_get(&env, name))
			strv_push(&env, vars.v[i]);
	}
	cfg->has_entrypoint = true;
	strv_push(&cfg->entrypoint, "");
	for (size_t i = 0; i < argv.len; i++)
		strv_push(&cfg->command, argv.v[i]);
	for (size_t i = 0; i < env.len; i++)
		strv_push(&cfg->env, env.v[i]);
	if (st->cfg->config.user && *st->cfg->config.user)
		cfg->user = xstrdup(st->cfg->config.user);
	if (st->cfg->config.working_dir && *st->cfg->config.working_dir)
		cfg->workdir = xstrdup(st->cfg->config.working_dir);
	/* the host's network unless asked (see build.h): no per-RUN network setup */
	if (!network || !*network)
		network = "host";
	cfg->network = xstrdup(!strcmp(network, "default") ? "" : network);

	if (run_binds_ready(st, cfg, err) < 0)
		return -1;
	struct bctr bc = {0};
	int rc = bctr_create(b, st->image_id, cfg, &bc, err);
	if (rc == 0 && st->workdirs.len)
		rc = stage_make_workdirs(st, &bc, -1, err);
	if (rc == 0)
		rc = ctr_start(b->e, &bc.c, true, err);
	int code = 0;
	if (rc == 0) {
		struct ctr_attach_opts ao = {
			.out = true,
			.err = true,
			.in_fd = -1,
			.out_fd = b->o->out_fd,
			.err_fd = b->o->err_fd,
			.cleanup = true,
		};
		rc = ctr_attach(b->e, &bc.c, &ao, true, &code, err);
		if (rc == 1)
			rc = 0;
	}
	if (rc == 0 && code != 0) {
		b->run_status = code < 0 ? 125 : code;
		rc = err_makex(err, ECHILD, "error building at STEP \"%s\": exit status %d", stepname, code);
	}
	cleanup_close int lfd = -1;
	/* overlay: the upper dir becomes the layer as it is (a kept container keeps its own) */
	bool direct = strcmp(store_driver(b->e->store), "vfs") && !b->o->keep_containers;
	if (rc == 0) {
		cleanup_strv struct strv targets = STRV_INIT;
		for (size_t i = 0; i < ARRAY_SIZE(run_mount_targets); i++)
			strv_push(&targets, run_mount_targets[i]);
		for (size_t i = 0; i < cfg->n_mounts; i++)
			strv_push(&targets, cfg->mounts[i].destination);
		if (direct) {
			cleanup_free char *cdir = store_container_dir(b->e->store, bc.c.row.id);
			cleanup_free char *upper = xasprintf("%s/diff", cdir);
			cleanup_close int ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (ufd < 0)
				rc = err_make(err, errno, "open %s", upper);
			else
				build_strip_mount_targets(ufd, -1, &targets);
			if (rc == 0)
				rc = stage_commit_container(st, bc.c.row.id, &h, err);
		} else {
			rc = bctr_layer(b, &bc, &targets, &lfd, err);
		}
	}
	bctr_remove(b, &bc, rc == 0 && b->o->keep_containers);
	if (rc < 0)
		return -1;
	if (!direct && stage_commit(st, lfd, &h, err) < 0)
		return -1;
	cache_record(b, k, st->image_id);
	log_committed(st);
	return 0;
}

/* ---------------- COPY / ADD ---------------- */

static int copy_source_image(struct stage *st, const char *what, const char *from, char **ret_id,
			     struct skiff_err **err)
{
	struct builder *b = st->b;
	const struct df_stage *src = df_stage_find(b->df, from, st->st->index);
	if (src) {
		if (!b->stage_ids[src->index])
			return err_makex(err, EINVAL, "%s=%s: stage was not built", what, from);
		*ret_id = xstrdup(b->stage_ids[src->index]);
		return 0;
	}
	struct store_image *img = NULL;
	struct skiff_err *e2 = NULL;
	if (image_lookup(b->e->store, from, &img, &e2) == 0) {
		*ret_id = xstrdup(img->id);
		store_image_free(img);
		return 0;
	}
	if (err_status(e2) != ENOENT || b->o->pull == BUILD_PULL_NEVER || !b->o->pull_image) {
		*err = e2;
		return err_wrap(err, "%s=%s", what, from);
	}
	err_free(e2);
	return b->o->pull_image(b->o->pull_ud, from, ret_id, err);
}

static int do_copy(struct stage *st, const struct df_instr *in, struct skiff_err **err)
{
	struct builder *b = st->b;
	bool add = in->kind == DF_ADD;
	const char *what = add ? "ADD" : "COPY";
	if (in->nargs < 2)
		return err_makex(err, EINVAL, "%s requires at least two arguments", what);
	cleanup_free char *from = NULL, *chown = NULL, *chmod = NULL, *dest = NULL, *from_id = NULL;
	bool link = false;
	for (size_t i = 0; i < in->nflags; i++) {
		const struct df_flag *f = &in->flags[i];
		char **slot = !strcmp(f->name, "from")	  ? &from
			      : !strcmp(f->name, "chown") ? &chown
			      : !strcmp(f->name, "chmod") ? &chmod
							  : NULL;
		if (!strcmp(f->name, "link")) {
			link = !f->value || strcmp(f->value, "false");
			continue;
		}
		if (!slot || (!strcmp(f->name, "from") && add))
			return err_makex(err, EINVAL, "%s: unknown flag --%s", what, f->name);
		if (!f->value || !*f->value)
			return err_makex(err, EINVAL, "%s: --%s needs a value", what, f->name);
		free(*slot);
		if (expand(st, f->value, slot, err) < 0)
			return -1;
	}
	cleanup_strv struct strv srcs = STRV_INIT;
	for (size_t i = 0; i + 1 < in->nargs; i++) {
		char *v = NULL;
		if (!strncmp(in->args[i], "<<", 2))
			v = xstrdup(in->args[i]);
		else if (expand(st, in->args[i], &v, err) < 0)
			return -1;
		strv_push_take(&srcs, v);
	}
	if (expand(st, in->args[in->nargs - 1], &dest, err) < 0)
		return -1;
	struct df_heredoc *hd = in->nheredocs ? xcalloc(in->nheredocs, sizeof(*hd)) : NULL;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < in->nheredocs; i++) {
		hd[i] = in->heredocs[i];
		hd[i].body = NULL;
		if (in->heredocs[i].expand)
			rc = expand(st, in->heredocs[i].body, &hd[i].body, err);
		else
			hd[i].body = xstrdup(in->heredocs[i].body);
	}
	struct bcopy_opts co = {
		.srcs = &srcs,
		.dest = dest,
		.workdir =
			st->cfg->config.working_dir && *st->cfg->config.working_dir ? st->cfg->config.working_dir : "/",
		.add = add,
		.link = link,
		.heredocs = hd,
		.nheredocs = in->nheredocs,
	};
	if (rc == 0 && chmod) {
		char *end = NULL;
		unsigned long mode = strtoul(chmod, &end, 8);
		if (!*chmod || *end || mode > 07777)
			rc = err_makex(err, EINVAL, "%s --chmod=%s: not an octal mode", what, chmod);
		co.have_chmod = true;
		co.mode = (mode_t)mode;
	}
	struct bctr srcc = {0}, dstc = {0};
	cleanup_close int srcfd = -1, dstfd = -1, lfd = -1;
	bool direct = false;
	cleanup_free char *digest = NULL, *stagedir = NULL;
	struct bcopy_src src = {.rootfd = b->ctx->dirfd, .ignore = b->ctx->ignore, .is_context = true};
	if (rc == 0 && from) {
		rc = copy_source_image(st, "COPY --from", from, &from_id, err);
		if (rc == 0) {
			struct ctr_config *cc = ctr_config_new();
			rc = bctr_create(b, from_id, cc, &srcc, err);
			ctr_config_free(cc);
		}
		if (rc == 0)
			rc = bctr_mount(b, &srcc, &srcfd, err);
		src = (struct bcopy_src){.rootfd = srcfd};
	}
	if (rc == 0)
		rc = bcopy_digest(&src, &co, &digest, err);
	cleanup_strbuf struct strbuf key = STRBUF_INIT;
	cleanup_free char *by = NULL;
	struct spec_history h = {0};
	char k[65];
	if (rc == 0) {
		strbuf_addf(&key, "%s\nfrom=%s\nchown=%s\nchmod=%s\nsrc=%s\ndest=%s", what, from_id ? from_id : "",
			    chown ? chown : "", chmod ? chmod : "", digest, dest);
		/* buildah's form: the step's text, with the sources' digest (which stands for
		 * --from's content) and the flags that change the layer */
		cleanup_strbuf struct strbuf flags = STRBUF_INIT;
		if (chown)
			strbuf_addf(&flags, "--chown=%s ", chown);
		if (chmod)
			strbuf_addf(&flags, "--chmod=%s ", chmod);
		by = xasprintf("/bin/sh -c #(nop) %s %s%s in %s ", what, flags.buf, digest, dest);
		h.created_by = by;
		int hit = step_cached(st, key.buf, k, &h, err);
		if (hit < 0)
			rc = -1;
		if (hit)
			goto out;
	}
	/* the destination: a build container of the current image, or a staging dir over scratch */
	if (rc == 0 && st->image_id) {
		struct ctr_config *cc = ctr_config_new();
		rc = bctr_create(b, st->image_id, cc, &dstc, err);
		ctr_config_free(cc);
		if (rc == 0)
			rc = bctr_mount(b, &dstc, &dstfd, err);
	} else if (rc == 0) {
		const char *tmp = b->o->tmpdir && *b->o->tmpdir ? b->o->tmpdir : "/var/tmp";
		stagedir = xasprintf("%s/skiff-build-XXXXXX", tmp);
		if (!mkdtemp(stagedir)) {
			rc = err_make(err, errno, "create a staging directory in %s", tmp);
			free(TAKE_PTR(stagedir));
		} else if ((dstfd = open(stagedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			rc = err_make(err, errno, "open %s", stagedir);
		}
	}
	if (rc == 0 && chown) {
		rc = bcopy_chown_lookup(dstfd, chown, &co.uid, &co.gid, err);
		co.have_chown = true;
	}
	if (rc == 0 && st->workdirs.len)
		rc = stage_make_workdirs(st, NULL, dstfd, err);
	if (rc == 0)
		rc = bcopy_run(&src, dstfd, &co, err);
	if (rc == 0 && stagedir) {
		rc = cache_tmpfile(b, &lfd, err);
		if (rc == 0)
			rc = changes_tar_tree(dstfd, write_fd_fn, &lfd, err);
		if (rc == 0 && lseek(lfd, 0, SEEK_SET) < 0)
			rc = err_make(err, errno, "rewind the layer");
	} else if (rc == 0 && strcmp(store_driver(b->e->store), "vfs")) {
		/* overlay: what the copy wrote is the container's upper dir, which becomes the
		 * layer as it is (as for RUN) */
		close(TAKE_FD(dstfd));
		direct = true;
		rc = stage_commit_container(st, dstc.c.row.id, &h, err);
	} else if (rc == 0) {
		rc = bctr_layer(b, &dstc, NULL, &lfd, err);
	}
	if (rc == 0) {
		if (!direct)
			rc = stage_commit(st, lfd, &h, err);
		if (rc == 0) {
			cache_record(b, k, st->image_id);
			log_committed(st);
		}
	}
out:
	for (size_t i = 0; i < in->nheredocs; i++)
		free(hd[i].body);
	free(hd);
	if (stagedir) {
		struct skiff_err *e2 = NULL;
		if (rm_rf_at(AT_FDCWD, stagedir, &e2) < 0)
			err_free(e2);
	}
	bctr_remove(b, &srcc, false);
	bctr_remove(b, &dstc, false);
	return rc;
}

/* ---------------- metadata ---------------- */

static void set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? xstrdup(v) : NULL;
}

/* WORKDIR: relative to the previous one, cleaned. */
static char *join_workdir(const char *cur, const char *v)
{
	struct strbuf sb = STRBUF_INIT;
	if (v[0] != '/')
		strbuf_addf(&sb, "%s/", cur && *cur ? cur : "/");
	strbuf_addstr(&sb, v);
	/* clean: collapse "//", "/./", resolve ".." */
	cleanup_strv struct strv parts = STRV_INIT, out = STRV_INIT;
	strv_split(&parts, sb.buf, '/');
	strbuf_release(&sb);
	for (size_t i = 0; i < parts.len; i++) {
		if (!*parts.v[i] || !strcmp(parts.v[i], "."))
			continue;
		if (!strcmp(parts.v[i], "..")) {
			if (out.len)
				strv_remove(&out, out.len - 1);
			continue;
		}
		strv_push(&out, parts.v[i]);
	}
	struct strbuf r = STRBUF_INIT;
	for (size_t i = 0; i < out.len; i++)
		strbuf_addf(&r, "/%s", out.v[i]);
	if (!r.len)
		strbuf_addch(&r, '/');
	return strbuf_detach(&r, NULL);
}

static int healthcheck(struct stage *st, const struct df_instr *in, struct strbuf *key, struct skiff_err **err)
{
	struct spec_container_config *k = &st->cfg->config;
	struct spec_healthcheck *h = xzalloc(sizeof(*h));
	if (!strcasecmp(in->args[0], "NONE")) {
		strv_push(&h->test, "NONE");
	} else {
		if (in->exec_form) {
			strv_push(&h->test, "CMD");
			for (size_t i = 1; i < in->nargs; i++)
				strv_push(&h->test, in->args[i]);
		} else {
			strv_push(&h->test, "CMD-SHELL");
			strv_push(&h->test, in->nargs > 1 ? in->args[1] : "");
		}
		for (size_t i = 0; i < in->nflags; i++) {
			const struct df_flag *f = &in->flags[i];
			int64_t *slot = !strcmp(f->name, "interval")	     ? &h->interval
					: !strcmp(f->name, "timeout")	     ? &h->timeout
					: !strcmp(f->name, "start-period")   ? &h->start_period
					: !strcmp(f->name, "start-interval") ? &h->start_interval
									     : NULL;
			int rc = 0;
			if (slot)
				rc = ctr_parse_duration(f->value ? f->value : "", slot, err);
			else if (!strcmp(f->name, "retries")) {
				char *end = NULL;
				long r = strtol(f->value ? f->value : "", &end, 10);
				if (!f->value || !*f->value || *end || r < 0)
					rc = err_makex(err, EINVAL, "HEALTHCHECK --retries=%s: not a number",
						       f->value ? f->value : "");
				h->retries = r;
			} else
				rc = err_makex(err, EINVAL, "HEALTHCHECK: unknown flag --%s", f->name);
			if (rc < 0) {
				strv_release(&h->test);
				free(h);
				return -1;
			}
			strbuf_addf(key, " --%s=%s", f->name, f->value);
		}
	}
	if (k->healthcheck) {
		strv_release(&k->healthcheck->test);
		free(k->healthcheck);
	}
	k->healthcheck = h;
	return 0;
}

static void command_of(struct stage *st, const struct df_instr *in, struct strv *out)
{
	strv_release(out);
	if (in->exec_form) {
		for (size_t i = 0; i < in->nargs; i++)
			strv_push(out, in->args[i]);
		return;
	}
	if (st->cfg->config.shell.len)
		for (size_t i = 0; i < st->cfg->config.shell.len; i++)
			strv_push(out, st->cfg->config.shell.v[i]);
	else {
		strv_push(out, "/bin/sh");
		strv_push(out, "-c");
	}
	strv_push(out, in->nargs ? in->args[0] : "");
}

/* ARG in a stage: --build-arg, else its default, else the global ARG's value. */
static int do_arg(struct stage *st, const struct df_instr *in, struct strbuf *key, struct skiff_err **err)
{
	for (size_t i = 0; i + 1 < in->nargs || i < in->nargs; i += 2) {
		const char *name = in->args[i];
		const char *def = i + 1 < in->nargs ? in->args[i + 1] : NULL;
		const char *given = st->b->o->build_args ? kv_get(st->b->o->build_args, name) : NULL;
		cleanup_free char *v = NULL;
		if (given)
			v = xstrdup(given);
		else if (def && expand(st, def, &v, err) < 0)
			return -1;
		else if (!def && kv_get(&st->b->global_args, name))
			v = xstrdup(kv_get(&st->b->global_args, name));
		if (v)
			kv_put(&st->args, name, v);
		strbuf_addf(key, " %s=%s", name, v ? v : "");
	}
	return 0;
}

/* s for history: as is when plain, else in double quotes with \ and " escaped. */
static void add_quoted(struct strbuf *sb, const char *s)
{
	if (*s && !s[strcspn(s, " \t\n\"'\\$=")]) {
		strbuf_addstr(sb, s);
		return;
	}
	strbuf_addch(sb, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_addch(sb, '\\');
		strbuf_addch(sb, *s);
	}
	strbuf_addch(sb, '"');
}

static int do_meta(struct stage *st, const struct df_instr *in, struct skiff_err **err)
{
	struct spec_container_config *k = &st->cfg->config;
	cleanup_strbuf struct strbuf key = STRBUF_INIT, hist = STRBUF_INIT;
	cleanup_free char *v = NULL;
	strbuf_addstr(&key, df_kind_name(in->kind));
	switch (in->kind) {
	case DF_ENV:
	case DF_LABEL:
		for (size_t i = 0; i + 1 < in->nargs; i += 2) {
			cleanup_free char *kk = NULL, *vv = NULL;
			if (expand(st, in->args[i], &kk, err) < 0 || expand(st, in->args[i + 1], &vv, err) < 0)
				return -1;
			if (!*kk)
				return err_makex(err, EINVAL, "%s: empty name", df_kind_name(in->kind));
			if (in->kind == DF_ENV)
				kv_put(&k->env, kk, vv);
			else
				spec_map_set(&k->labels, kk, vv);
			strbuf_addf(&key, " %s=%s", kk, vv);
			strbuf_addch(&hist, ' ');
			add_quoted(&hist, kk);
			strbuf_addch(&hist, '=');
			add_quoted(&hist, vv);
		}
		break;
	case DF_ARG:
		if (do_arg(st, in, &key, err) < 0)
			return -1;
		break;
	case DF_EXPOSE: {
		cleanup_strv struct strv w = STRV_INIT;
		for (size_t i = 0; i < in->nargs; i++)
			if (expand_words(st, in->args[i], &w, err) < 0)
				return -1;
		for (size_t i = 0; i < w.len; i++) {
			cleanup_free char *p = strchr(w.v[i], '/') ? xstrdup(w.v[i]) : xasprintf("%s/tcp", w.v[i]);
			for (char *c = p; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
			if (!strv_contains(&k->exposed_ports, p))
				strv_push(&k->exposed_ports, p);
			strbuf_addf(&key, " %s", p);
		}
		break;
	}
	case DF_VOLUME: {
		cleanup_strv struct strv w = STRV_INIT;
		for (size_t i = 0; i < in->nargs; i++) {
			if (in->exec_form) {
				char *x = NULL;
				if (expand(st, in->args[i], &x, err) < 0)
					return -1;
				strv_push_take(&w, x);
			} else if (expand_words(st, in->args[i], &w, err) < 0) {
				return -1;
			}
		}
		for (size_t i = 0; i < w.len; i++) {
			if (!*w.v[i])
				return err_makex(err, EINVAL, "VOLUME: empty path");
			if (!strv_contains(&k->volumes, w.v[i]))
				strv_push(&k->volumes, w.v[i]);
			strbuf_addf(&key, " %s", w.v[i]);
		}
		break;
	}
	case DF_USER:
	case DF_STOPSIGNAL:
	case DF_MAINTAINER:
		if (expand(st, in->nargs ? in->args[0] : "", &v, err) < 0)
			return -1;
		if (!*v)
			return err_makex(err, EINVAL, "%s requires an argument", df_kind_name(in->kind));
		set_str(in->kind == DF_USER	    ? &k->user
			: in->kind == DF_STOPSIGNAL ? &k->stop_signal
						    : &st->cfg->author,
			v);
		strbuf_addf(&key, " %s", v);
		break;
	case DF_WORKDIR: {
		if (expand(st, in->nargs ? in->args[0] : "", &v, err) < 0)
			return -1;
		if (!*v)
			return err_makex(err, EINVAL, "WORKDIR requires an argument");
		char *w = join_workdir(k->working_dir, v);
		free(k->working_dir);
		k->working_dir = w;
		if (!strv_contains(&st->workdirs, w))
			strv_push(&st->workdirs, w);
		strbuf_addf(&key, " %s", w);
		break;
	}
	case DF_CMD:
		command_of(st, in, &k->cmd);
		st->cmd_set = true;
		for (size_t i = 0; i < k->cmd.len; i++)
			strbuf_addf(&key, " %zu:%s", strlen(k->cmd.v[i]), k->cmd.v[i]);
		break;
	case DF_ENTRYPOINT:
		command_of(st, in, &k->entrypoint);
		if (!st->cmd_set)
			strv_release(&k->cmd); /* docker: an ENTRYPOINT resets the base image's CMD */
		for (size_t i = 0; i < k->entrypoint.len; i++)
			strbuf_addf(&key, " %zu:%s", strlen(k->entrypoint.v[i]), k->entrypoint.v[i]);
		break;
	case DF_SHELL:
		if (!in->nargs)
			return err_makex(err, EINVAL, "SHELL requires at least one argument");
		strv_release(&k->shell);
		for (size_t i = 0; i < in->nargs; i++) {
			strv_push(&k->shell, in->args[i]);
			strbuf_addf(&key, " %zu:%s", strlen(in->args[i]), in->args[i]);
		}
		break;
	case DF_HEALTHCHECK:
		if (!in->nargs)
			return err_makex(err, EINVAL, "HEALTHCHECK requires an argument");
		if (healthcheck(st, in, &key, err) < 0)
			return -1;
		for (size_t i = 0; i < k->healthcheck->test.len; i++)
			strbuf_addf(&key, " %zu:%s", strlen(k->healthcheck->test.v[i]), k->healthcheck->test.v[i]);
		break;
	case DF_ONBUILD: {
		const char *t = in->trigger && in->trigger->text ? in->trigger->text : in->text;
		if (!in->trigger && !strncasecmp(t, "ONBUILD", 7))
			t += 7;
		while (*t == ' ' || *t == '\t')
			t++;
		strv_push(&k->on_build, t);
		strbuf_addf(&key, " %s", t);
		break;
	}
	default:
		return err_makex(err, EINVAL, "%s: not a metadata instruction", df_kind_name(in->kind));
	}
	if (in->kind != DF_ARG) {
		/* with a variable, the expanded form: history (and so --cache-from) must tell
		 * "ENV A=$X" with X=1 from X=2; the commands of CMD, SHELL ... are not expanded */
		bool expands = in->kind != DF_CMD && in->kind != DF_ENTRYPOINT && in->kind != DF_SHELL &&
			       in->kind != DF_HEALTHCHECK && in->kind != DF_ONBUILD;
		cleanup_free char *by = NULL;
		if (!expands || !strchr(in->text, '$'))
			by = xasprintf("/bin/sh -c #(nop) %s", in->text);
		else if (in->kind == DF_ENV || in->kind == DF_LABEL)
			by = xasprintf("/bin/sh -c #(nop) %s%s", df_kind_name(in->kind), hist.buf);
		else
			by = xasprintf("/bin/sh -c #(nop) %s", key.buf);
		add_hist(st, by);
	}
	strbuf_addf(&st->pending, "%zu:%s\n", key.len, key.buf);
	return 0;
}

/* WORKDIRs no RUN or COPY made: their own layer (buildah's too), given to the last
 * WORKDIR's history entry. */
static int workdir_layer(struct stage *st, int *ret_fd, struct skiff_err **err)
{
	struct builder *b = st->b;
	struct bctr bc = {0};
	cleanup_close int rootfd = -1, lfd = -1;
	cleanup_free char *stagedir = NULL;
	int rc = 0;
	if (st->image_id) {
		struct ctr_config *cc = ctr_config_new();
		rc = bctr_create(b, st->image_id, cc, &bc, err);
		ctr_config_free(cc);
		if (rc == 0)
			rc = stage_make_workdirs(st, &bc, -1, err);
		if (rc == 0)
			rc = bctr_layer(b, &bc, NULL, &lfd, err);
	} else {
		const char *tmp = b->o->tmpdir && *b->o->tmpdir ? b->o->tmpdir : "/var/tmp";
		stagedir = xasprintf("%s/skiff-build-XXXXXX", tmp);
		if (!mkdtemp(stagedir)) {
			rc = err_make(err, errno, "create a staging directory in %s", tmp);
			free(TAKE_PTR(stagedir));
		} else if ((rootfd = open(stagedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			rc = err_make(err, errno, "open %s", stagedir);
		}
		if (rc == 0)
			rc = stage_make_workdirs(st, NULL, rootfd, err);
		if (rc == 0)
			rc = cache_tmpfile(b, &lfd, err);
		if (rc == 0)
			rc = changes_tar_tree(rootfd, write_fd_fn, &lfd, err);
		if (rc == 0 && lseek(lfd, 0, SEEK_SET) < 0)
			rc = err_make(err, errno, "rewind the layer");
	}
	bctr_remove(b, &bc, false);
	if (stagedir) {
		struct skiff_err *e2 = NULL;
		if (rm_rf_at(AT_FDCWD, stagedir, &e2) < 0)
			err_free(e2);
	}
	if (rc < 0)
		return -1;
	for (size_t i = st->nhist; i-- > 0;)
		if (strstr(st->hist[i].created_by, "#(nop) WORKDIR")) {
			st->hist[i].empty_layer = false;
			break;
		}
	*ret_fd = TAKE_FD(lfd);
	return 0;
}

/* ---------------- the stage ---------------- */

static int do_instr(struct stage *st, const struct df_instr *in, struct skiff_err **err)
{
	switch (in->kind) {
	case DF_RUN:
		return do_run(st, in, in->text, err);
	case DF_COPY:
	case DF_ADD:
		return do_copy(st, in, err);
	case DF_FROM:
		return err_makex(err, EINVAL, "FROM inside a stage");
	default:
		return do_meta(st, in, err);
	}
}

static int step(struct stage *st, const struct df_instr *in, struct skiff_err **err)
{
	struct builder *b = st->b;
	b->step++;
	stage_log(b, "STEP %zu/%zu: %s", b->step, b->nsteps, in->text);
	if (do_instr(st, in, err) < 0) {
		if (b->run_status >= 0 && in->kind == DF_RUN)
			return -1; /* the message names the step already */
		return err_wrap(err, "%s:%d: %s", b->df->path, in->line, df_kind_name(in->kind));
	}
	return 0;
}

/* FROM: the base's image id (NULL for scratch) and its name for messages. */
static int resolve_base(struct stage *st, char **ret_id, struct skiff_err **err)
{
	struct builder *b = st->b;
	cleanup_free char *base = NULL;
	if (df_expand(st->st->base, b->df->escape, &b->global_args, NULL, &base, err) < 0)
		return -1;
	if (!*base)
		return err_makex(err, EINVAL, "FROM: base name (%s) should not be blank", st->st->base);
	st->base_name = xstrdup(base);
	if (!strcmp(base, "scratch")) {
		*ret_id = NULL;
		return 0;
	}
	const struct df_stage *prev = df_stage_find(b->df, base, st->st->index);
	if (prev && prev->name) {
		*ret_id = xstrdup(b->stage_ids[prev->index]);
		return 0;
	}
	if (st->st->platform) {
		cleanup_free char *p = NULL;
		if (df_expand(st->st->platform, b->df->escape, &b->global_args, NULL, &p, err) < 0)
			return -1;
		cleanup_free char *native = xasprintf("%s/%s", spec_goos(), spec_goarch());
		if (*p && strcmp(p, native) && strncmp(p, native, strlen(native)))
			return err_makex(err, ENOTSUP, "FROM --platform=%s: only the native platform (%s) is supported",
					 p, native);
	}
	struct store_image *img = NULL;
	struct skiff_err *e2 = NULL;
	bool have = image_lookup(b->e->store, base, &img, &e2) == 0;
	if (have && b->o->pull != BUILD_PULL_ALWAYS) {
		*ret_id = xstrdup(img->id);
		store_image_free(img);
		return 0;
	}
	store_image_free(img);
	if (!have && (err_status(e2) != ENOENT || b->o->pull == BUILD_PULL_NEVER || !b->o->pull_image)) {
		*err = e2;
		return -1;
	}
	err_free(e2);
	return b->o->pull_image(b->o->pull_ud, base, ret_id, err);
}

/* The triggers a base image registered with ONBUILD, run after its FROM. */
static int run_onbuild(struct stage *st, struct strv *triggers, struct skiff_err **err)
{
	for (size_t i = 0; i < triggers->len; i++) {
		cleanup_free char *text = xasprintf("FROM scratch\n%s\n", triggers->v[i]);
		struct dockerfile *df = NULL;
		if (df_parse("ONBUILD", text, strlen(text), &df, err) < 0)
			return -1;
		int rc = 0;
		for (size_t k = 0; rc == 0 && k < df->stages[0].n; k++) {
			stage_log(st->b, "--> ONBUILD %s", df->stages[0].instrs[k].text);
			rc = do_instr(st, &df->stages[0].instrs[k], err);
		}
		df_free(df);
		if (rc < 0)
			return err_wrap(err, "ONBUILD %s", triggers->v[i]);
	}
	return 0;
}

static void stage_release(struct stage *st)
{
	if (st->cfg)
		spec_image_config_free(st->cfg);
	free(st->image_id);
	free(st->base_name);
	strbuf_release(&st->pending);
	for (size_t i = 0; i < st->nhist; i++)
		spec_history_release(&st->hist[i]);
	free(st->hist);
	strv_release(&st->args);
	strv_release(&st->workdirs);
	run_binds_release(st);
	free(st->binds);
}

int stage_run(struct builder *b, size_t idx, struct skiff_err **err)
{
	const struct df_stage *ds = &b->df->stages[idx];
	struct stage st = {.b = b, .st = ds, .pending = STRBUF_INIT};
	cleanup_free char *base_id = NULL;
	cleanup_strv struct strv triggers = STRV_INIT;
	int rc = 0;
	b->step++;
	stage_log(b, "STEP %zu/%zu: %s", b->step, b->nsteps, ds->from->text);
	if (resolve_base(&st, &base_id, err) < 0) {
		rc = err_wrap(err, "%s:%d: FROM", b->df->path, ds->line);
		goto out;
	}
	if (idx == b->target && base_id)
		b->target_base = xstrdup(base_id);
	if (base_id) {
		if ((rc = load_image(&st, base_id, err)) < 0)
			goto out;
		for (size_t i = 0; i < st.cfg->config.on_build.len; i++)
			strv_push(&triggers, st.cfg->config.on_build.v[i]);
		if (triggers.len) {
			strv_release(&st.cfg->config.on_build);
			strbuf_addstr(&st.pending, "ONBUILD-CLEARED\n");
		}
	} else {
		st.cfg = spec_image_config_new();
	}
	if ((rc = run_onbuild(&st, &triggers, err)) < 0)
		goto out;
	for (size_t i = 0; i < ds->n; i++)
		if ((rc = step(&st, &ds->instrs[i], err)) < 0)
			goto out;
	bool final = idx + 1 == b->df->nstages || (b->o->target && ds->name && !strcmp(ds->name, b->o->target));
	if (final) {
		for (size_t i = 0; b->o->labels && i < b->o->labels->len; i++) {
			const char *l = b->o->labels->v[i];
			size_t kl = strcspn(l, "=");
			cleanup_free char *kk = xstrndup(l, kl);
			spec_map_set(&st.cfg->config.labels, kk, l[kl] ? l + kl + 1 : "");
			strbuf_addf(&st.pending, "label:%s\n", l);
		}
	}
	/* the stage's own image: commit what is pending (the base alone is reused) */
	if (st.pending.len || !st.image_id) {
		char k[65];
		int hit = step_cached(&st, "END", k, NULL, err);
		if (hit < 0) {
			rc = -1;
			goto out;
		}
		if (!hit) {
			cleanup_close int lfd = -1;
			if (st.workdirs.len && (rc = workdir_layer(&st, &lfd, err)) < 0)
				goto out;
			if ((rc = stage_commit(&st, lfd, NULL, err)) < 0)
				goto out;
			cache_record(b, k, st.image_id);
		}
	}
	b->stage_ids[idx] = TAKE_PTR(st.image_id);
out:
	stage_release(&st);
	return rc;
}
