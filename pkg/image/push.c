/* `push`: see push.h. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "pkg/image/image-internal.h"
#include "pkg/image/image.h"
#include "pkg/image/push.h"
#include "pkg/image/reference.h"
#include "pkg/spec/image.h"
#include "pkg/trust/trust.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

struct push_layer {
	const char *id;	  /* layer (chain) id */
	char *known;	  /* blob digest the store remembers, or NULL */
	char *known_type; /* its media type when the stored manifest lists it */
	char digest[DIGEST_STR_LEN + 1];
	char *media_type;
	uint64_t size;
};

struct push_ctx {
	struct store *s;
	struct registry *r;
	const struct registry_endpoint *ep;
	const char *path;
	struct strv mount_from; /* other repositories of this registry the image came from */
	enum spec_format fmt;
	const struct image_push_opts *o;
	pthread_mutex_t mu;
	struct push_layer *layers;
	size_t n, next;
	struct skiff_err *err;
	int failed;
};

static void emit(struct push_ctx *c, enum pull_event ev, const char *digest, uint64_t done, uint64_t total)
{
	if (!c->o->progress)
		return;
	struct pull_progress p = {ev, NULL, digest, done, total};
	pthread_mutex_lock(&c->mu);
	c->o->progress(c->o->progress_ud, &p);
	pthread_mutex_unlock(&c->mu);
}

/* ---- a layer's tar, gzip-compressed, into a socket ----
 *
 * zlib directly (libarchive's gzip filter cannot change level mid-stream): each 64 KiB
 * of input whose bytes look random (already compressed files, which are most of many
 * images' bytes) goes into stored blocks instead of being compressed in vain, which
 * costs a byte histogram instead of a deflate pass. No timestamp in the gzip header: the
 * same layer always gives the same blob. */

#define GZ_BLOCK (64u << 10)
#define GZ_OUT (256u << 10)

struct gz {
	z_stream z;
	int fd;
	int level, cur; /* wanted level for compressible data; the level in use */
	int write_errno;
	size_t npend;
	unsigned char pend[GZ_BLOCK];
	unsigned char out[GZ_OUT];
};

static bool high_entropy(const unsigned char *p, size_t n)
{
	uint32_t h[256] = {0};
	double e = 0;
	size_t m = 0;
	if (n < 4096)
		return false;
	/* every 4th byte is enough for an estimate (its bias is under 0.02 bits) */
	for (size_t i = 0; i < n; i += 4, m++)
		h[p[i]]++;
	for (int i = 0; i < 256; i++)
		if (h[i]) {
			double q = (double)h[i] / (double)m;
			e -= q * log2(q);
		}
	/* bits per byte: random data is ~7.99; above 7.5 deflate saves a few percent at
	 * most, at ~30 MB/s */
	return e > 7.5;
}

/* Send what deflate produced; make room again. */
static int gz_drain(struct gz *g)
{
	size_t n = GZ_OUT - g->z.avail_out, done = 0;
	while (done < n) {
		ssize_t k = send(g->fd, g->out + done, n - done, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			g->write_errno = errno;
			return -1;
		}
		done += (size_t)k;
	}
	g->z.next_out = g->out;
	g->z.avail_out = GZ_OUT;
	return 0;
}

static int gz_deflate(struct gz *g, const unsigned char *data, size_t n, int flush)
{
	g->z.next_in = (unsigned char *)data;
	g->z.avail_in = (uInt)n;
	for (;;) {
		int rc = deflate(&g->z, flush);
		if (rc == Z_STREAM_ERROR) {
			errno = EIO;
			return -1;
		}
		if (g->z.avail_out == 0 || (flush == Z_FINISH && rc == Z_STREAM_END)) {
			if (gz_drain(g) < 0)
				return -1;
		}
		if (flush == Z_FINISH ? rc == Z_STREAM_END : (g->z.avail_in == 0 && g->z.avail_out != 0))
			return 0;
	}
}

static int gz_block(struct gz *g, const unsigned char *data, size_t n)
{
	int want = high_entropy(data, n) ? 0 : g->level;
	if (want != g->cur) {
		g->z.avail_in = 0;
		for (;;) {
			int rc = deflateParams(&g->z, want, Z_DEFAULT_STRATEGY);
			if (rc == Z_OK)
				break;
			if (rc != Z_BUF_ERROR || gz_drain(g) < 0) {
				if (!g->write_errno)
					errno = EIO;
				return -1;
			}
		}
		g->cur = want;
	}
	return gz_deflate(g, data, n, Z_NO_FLUSH);
}

static int gz_write(void *ud, const void *buf, size_t n)
{
	struct gz *g = ud;
	const unsigned char *p = buf;
	while (n) {
		size_t k = GZ_BLOCK - g->npend < n ? GZ_BLOCK - g->npend : n;
		memcpy(g->pend + g->npend, p, k);
		g->npend += k;
		p += k;
		n -= k;
		if (g->npend == GZ_BLOCK) {
			if (gz_block(g, g->pend, g->npend) < 0) {
				errno = g->write_errno ? g->write_errno : EIO;
				return -1;
			}
			g->npend = 0;
		}
	}
	return 0;
}

struct producer {
	struct store *s;
	const char *id;
	int fd;
	int level;
	struct skiff_err *err;
	bool sink_broken; /* the upload stopped reading */
};

static void *produce(void *ud)
{
	struct producer *p = ud;
	struct gz *g = xcalloc(1, sizeof(*g));
	g->fd = p->fd;
	g->level = g->cur = p->level;
	if (deflateInit2(&g->z, p->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		err_makex(&p->err, ENOMEM, "start compressing");
	} else {
		g->z.next_out = g->out;
		g->z.avail_out = GZ_OUT;
		if (store_layer_write_tar(p->s, p->id, gz_write, g, &p->err) == 0 &&
		    ((g->npend && gz_block(g, g->pend, g->npend) < 0) || gz_deflate(g, NULL, 0, Z_FINISH) < 0))
			err_make(&p->err, g->write_errno ? g->write_errno : EIO, "compress");
		deflateEnd(&g->z);
	}
	p->sink_broken = g->write_errno != 0;
	free(g);
	close(p->fd);
	return NULL;
}

/* Fill buf (to the end of the stream): curl sends each read as an HTTP chunk. */
static long sock_read(void *ud, void *buf, size_t n)
{
	int fd = *(int *)ud;
	size_t got = 0;
	while (got < n) {
		ssize_t k = read(fd, (char *)buf + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return got ? (long)got : -1;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (long)got;
}

/* Compress and upload layer l. */
static int upload_layer(struct push_ctx *c, struct registry_repo *rp, struct push_layer *l, struct skiff_err **err)
{
	int sv[2];
	pthread_t tid;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return err_make(err, errno, "socketpair");
	int bufsz = 1 << 20; /* fewer wake-ups between the compressor and the upload */
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	struct producer p = {c->s, l->id, sv[1], c->o->compression_level > 0 ? c->o->compression_level : 1,
			     NULL, false};
	if (pthread_create(&tid, NULL, produce, &p) != 0) {
		close(sv[0]);
		close(sv[1]);
		return err_makex(err, EAGAIN, "start compression thread");
	}
	int rc = registry_blob_upload(rp, sock_read, &sv[0], l->digest, &l->size, err);
	close(sv[0]); /* a producer still writing gets EPIPE */
	pthread_join(tid, NULL);
	if (p.err && rc < 0 && p.sink_broken) {
		err_free(p.err); /* the upload failed first and stopped reading */
		p.err = NULL;
	}
	if (p.err) {
		/* the store's error (a layer that fails its diff id) explains the upload's */
		err_clear(err);
		*err = p.err;
		return err_wrap(err, "layer %s", l->id);
	}
	if (rc < 0)
		return -1;
	l->media_type = xstrdup(c->fmt == SPEC_FORMAT_DOCKER ? SPEC_MT_DOCKER_LAYER_GZIP : SPEC_MT_OCI_LAYER_GZIP);
	struct skiff_err *e = NULL;
	if (store_layer_set_blob(c->s, l->id, l->digest, l->size, &e) < 0)
		err_free(e); /* only a lost shortcut for the next push */
	return 0;
}

static int push_one(struct push_ctx *c, struct registry_repo *rp, struct push_layer *l, struct skiff_err **err)
{
	if (l->known) {
		int64_t size = -1;
		int have = registry_blob_exists(rp, l->known, &size, err);
		if (have < 0)
			return -1;
		for (size_t i = 0; !have && i < c->mount_from.len; i++) {
			have = registry_blob_mount(rp, l->known, c->mount_from.v[i], err);
			if (have < 0)
				return -1;
			if (have && registry_blob_exists(rp, l->known, &size, err) < 0)
				return -1;
		}
		if (have && size >= 0) {
			memcpy(l->digest, l->known, DIGEST_STR_LEN + 1);
			l->size = (uint64_t)size;
			l->media_type = xstrdup(l->known_type		       ? l->known_type
						: c->fmt == SPEC_FORMAT_DOCKER ? SPEC_MT_DOCKER_LAYER_GZIP
									       : SPEC_MT_OCI_LAYER_GZIP);
			emit(c, PULL_BLOB_SKIPPED, l->known, 0, 0);
			return 0;
		}
	}
	emit(c, PULL_BLOB_START, l->known ? l->known : l->id, 0, 0);
	if (upload_layer(c, rp, l, err) < 0)
		return -1;
	emit(c, PULL_BLOB_DONE, l->known ? l->known : l->id, l->size, l->size);
	return 0;
}

static void *push_worker(void *ud)
{
	struct push_ctx *c = ud;
	struct registry_repo *rp = NULL;
	struct skiff_err *e = NULL;
	if (registry_repo_open(c->r, c->ep, c->path, REGISTRY_PUSH, &rp, &e) < 0)
		goto fail;
	for (;;) {
		pthread_mutex_lock(&c->mu);
		struct push_layer *l = (!__atomic_load_n(&c->failed, __ATOMIC_RELAXED) && c->next < c->n)
					       ? &c->layers[c->next++]
					       : NULL;
		pthread_mutex_unlock(&c->mu);
		if (!l)
			break;
		if (push_one(c, rp, l, &e) < 0)
			goto fail;
	}
	registry_repo_free(rp);
	return NULL;
fail:
	registry_repo_free(rp);
	pthread_mutex_lock(&c->mu);
	if (!c->err) {
		c->err = e;
		e = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	err_free(e);
	__atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* Blob digests (and types) the stored manifest gives for each layer, by position. */
static void known_blobs(struct push_ctx *c, const struct store_image *img, const struct spec_manifest *m)
{
	for (size_t i = 0; i < c->n; i++) {
		struct store_layer_info info;
		struct skiff_err *e = NULL;
		if (store_layer_info(c->s, c->layers[i].id, &info, &e) < 0) {
			err_free(e);
			continue;
		}
		if (info.compressed_digest && digest_valid(info.compressed_digest) &&
		    strcmp(info.compressed_digest, info.diff_id) != 0) {
			c->layers[i].known = xstrdup(info.compressed_digest);
			if (m && i < m->layers.len && !strcmp(m->layers.v[i].digest, info.compressed_digest))
				c->layers[i].known_type = xstrdup(m->layers.v[i].media_type);
		}
		store_layer_info_release(&info);
	}
	(void)img;
}

static int make_manifest(struct push_ctx *c, const char *config_digest, size_t config_len, struct strbuf *out,
			 char digest[DIGEST_STR_LEN + 1], struct skiff_err **err)
{
	cleanup_spec_manifest struct spec_manifest *m = spec_manifest_new(c->fmt);
	if (spec_descriptor_set(&m->config, c->fmt == SPEC_FORMAT_DOCKER ? SPEC_MT_DOCKER_CONFIG : SPEC_MT_OCI_CONFIG,
				config_digest, (int64_t)config_len, err) < 0)
		return -1;
	for (size_t i = 0; i < c->n; i++)
		if (spec_manifest_add_layer(m, c->layers[i].media_type, c->layers[i].digest, (int64_t)c->layers[i].size,
					    err) < 0)
			return -1;
	return spec_manifest_generate(m, out, digest, err);
}

/* --sign-by: a simple signature of the manifest about to be pushed (made first, so that
 * a key that cannot sign leaves nothing pushed), for the lookaside storage registries.d
 * names for the destination (a file:// staging place). */
static int sign_manifest(const struct image_push_opts *o, const struct image_ref *ref, const char *digest,
			 char **ret_base, char **ret_sig, size_t *ret_len, struct skiff_err **err)
{
	cleanup_free char *name = xasprintf("%s/%s:%s", ref->domain, ref->path, ref->tag);
	cleanup_free char *base = NULL;
	if (trust_lookaside_for(o->rootless, name, true, &base, err) < 0)
		return err_wrap(err, "signing");
	if (!base)
		return err_makex(err, ENOENT,
				 "signing: no lookaside storage (lookaside-staging) for %s in registries.d", name);
	if (trust_sign(o->sign_by, o->sign_passphrase, name, digest, ret_sig, ret_len, err) < 0)
		return err_wrap(err, "signing");
	*ret_base = TAKE_PTR(base);
	return 0;
}

int image_push(struct store *s, const char *src, const char *dest, const struct image_push_opts *o,
	       char ret_digest[DIGEST_STR_LEN + 1], struct skiff_err **err)
{
	struct push_ctx c = {.s = s, .o = o, .mount_from = STRV_INIT};
	struct store_image *img = NULL;
	cleanup_ref struct image_ref *ref = NULL;
	cleanup_spec_manifest struct spec_manifest *stored = NULL;
	char *config = NULL, *manifest = NULL;
	size_t config_len = 0, manifest_len = 0;
	struct registry_repo *rp = NULL;
	struct strbuf mf = STRBUF_INIT;
	char config_digest[DIGEST_STR_LEN + 1], digest[DIGEST_STR_LEN + 1];
	char *sig = NULL, *sig_base = NULL;
	size_t sig_len = 0;
	int rc = -1;

	pthread_mutex_init(&c.mu, NULL);
	if (image_lookup(s, src, &img, err) < 0)
		goto out;
	if (!dest) {
		cleanup_free char *full = NULL;
		if (image_normalize_name(src, &full, NULL) == 0)
			for (size_t i = 0; i < img->names.len && !dest; i++)
				if (!strcmp(img->names.v[i], full))
					dest = img->names.v[i];
		if (!dest && img->names.len && strncmp(img->id, src, strlen(src)) != 0 && !ref_looks_like_id(src))
			dest = img->names.v[0];
		if (!dest) {
			err_makex(err, EINVAL, "no destination given for image %s: skiff push IMAGE DESTINATION", src);
			goto out;
		}
	}
	if (!strncmp(dest, "docker://", 9))
		dest += 9;
	if (ref_parse(dest, &ref, err) < 0)
		goto out;
	if (ref->digest) {
		err_makex(err, EINVAL, "cannot push to a digest reference \"%s\": name a tag", dest);
		goto out;
	}
	if (store_image_config(s, img->id, &config, &config_len, err) < 0)
		goto out;
	if (store_image_manifest(s, img->id, &manifest, &manifest_len, err) == 0 && manifest)
		spec_manifest_parse(manifest, manifest_len, &stored, NULL);
	c.fmt = stored ? spec_manifest_format(stored) : SPEC_FORMAT_OCI;
	if (o->format && !strcmp(o->format, "oci"))
		c.fmt = SPEC_FORMAT_OCI;
	else if (o->format && (!strcmp(o->format, "v2s2") || !strcmp(o->format, "docker")))
		c.fmt = SPEC_FORMAT_DOCKER;
	else if (o->format) {
		err_makex(err, EINVAL, "unsupported manifest format \"%s\": use oci or v2s2", o->format);
		goto out;
	}
	for (size_t i = 0; i < img->names.len; i++) {
		cleanup_ref struct image_ref *nr = NULL;
		if (ref_parse(img->names.v[i], &nr, NULL) == 0 && !strcmp(nr->domain, ref->domain) &&
		    strcmp(nr->path, ref->path) != 0 && !strv_contains(&c.mount_from, nr->path))
			strv_push(&c.mount_from, nr->path);
	}
	c.n = img->layers.len;
	c.layers = xcalloc(c.n ? c.n : 1, sizeof(*c.layers));
	for (size_t i = 0; i < c.n; i++)
		c.layers[i].id = img->layers.v[i];
	known_blobs(&c, img, stored);

	struct registry_endpoint ep = {.host = ref->domain, .insecure = o->insecure};
	c.ep = &ep;
	c.path = ref->path;
	if (registry_new(&o->reg, &c.r, err) < 0)
		goto out;
	/* the first request (ping, auth) once, before the threads share what it learnt */
	if (registry_repo_open(c.r, &ep, ref->path, REGISTRY_PUSH, &rp, err) < 0 || registry_repo_connect(rp, err) < 0)
		goto out;
	if (o->progress) {
		struct pull_progress p = {PULL_SIGNATURES, NULL, NULL, 0, 0};
		o->progress(o->progress_ud, &p);
	}
	size_t nthreads = c.n < PULL_PARALLEL ? c.n : PULL_PARALLEL;
	pthread_t tids[PULL_PARALLEL];
	size_t started = 0;
	for (size_t i = 1; i < nthreads; i++) {
		if (pthread_create(&tids[started], NULL, push_worker, &c) != 0)
			break;
		started++;
	}
	if (c.n)
		push_worker(&c);
	for (size_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (c.failed) {
		*err = c.err;
		c.err = NULL;
		if (!*err)
			err_makex(err, EIO, "push failed");
		goto out;
	}
	digest_buf(config, config_len, config_digest);
	int have = registry_blob_exists(rp, config_digest, NULL, err);
	if (have < 0 || (!have && registry_blob_put(rp, config_digest, config, config_len, err) < 0))
		goto out;
	emit(&c, PULL_CONFIG, config_digest, 0, 0);
	if (make_manifest(&c, config_digest, config_len, &mf, digest, err) < 0)
		goto out;
	if (o->sign_by && sign_manifest(o, ref, digest, &sig_base, &sig, &sig_len, err) < 0)
		goto out;
	emit(&c, PULL_MANIFEST, NULL, 0, 0);
	if (registry_manifest_put(rp, o->by_digest ? digest : ref->tag, mf.buf, mf.len,
				  c.fmt == SPEC_FORMAT_DOCKER ? SPEC_MT_DOCKER_MANIFEST : SPEC_MT_OCI_MANIFEST,
				  err) < 0)
		goto out;
	if (sig && trust_sig_store(sig_base, digest, sig, sig_len, err) < 0) {
		err_wrap(err, "signing: store the signature");
		goto out;
	}
	memcpy(ret_digest, digest, sizeof(digest));
	image_event(s, "push", img->id, dest);
	rc = 0;
out:
	if (rc < 0)
		err_wrap(err, "pushing %s", dest ? dest : src);
	registry_repo_free(rp);
	registry_free(c.r);
	for (size_t i = 0; i < c.n; i++) {
		free(c.layers[i].known);
		free(c.layers[i].known_type);
		free(c.layers[i].media_type);
	}
	free(c.layers);
	err_free(c.err);
	strv_release(&c.mount_from);
	strbuf_release(&mf);
	free(sig);
	free(sig_base);
	free(config);
	free(manifest);
	store_image_free(img);
	pthread_mutex_destroy(&c.mu);
	return rc;
}
