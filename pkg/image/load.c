/* `load`: docker-archive and oci-archive into the store.
 *
 * Pass 1 reads the archive's small files (manifests, configs, index) into memory and
 * skips the rest. The plan then says which layer each archive path becomes (by chain
 * id); layers the store already has are held, not read. Pass 2 streams each needed
 * layer from the archive straight into the store (verified while unpacking). Last,
 * each image is committed in one transaction. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/digest/digest.h"
#include "pkg/image/image-internal.h"
#include "pkg/image/image.h"
#include "pkg/image/reference.h"
#include "pkg/spec/image.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/crashpoint.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

#define SMALL_FILE_MAX (4u << 20)
#define SMALL_TOTAL_MAX (256u << 20)

struct afile {
	char *path;
	int64_t size;
	char *data; /* NULL when not kept */
};

struct layer_job {
	char *path;   /* in the archive */
	char *id;     /* chain id */
	char *parent; /* parent chain id */
	char *diff_id;
	char *digest;	  /* expected blob digest (OCI), may be NULL */
	bool verify_only; /* the layer exists: only check the blob matches its digest */
	bool done;
};

struct plan_image {
	char *config;
	size_t config_len;
	struct spec_image_config *cfg;
	char *manifest; /* OCI: the archive's manifest; docker-archive: generated after unpacking */
	size_t manifest_len;
	char *manifest_type;
	struct strv names;
	struct strv layer_ids;
};

struct load {
	struct store *s;
	int fd;
	struct afile *files;
	size_t nfiles, alloc_files;
	size_t kept_total;
	struct layer_job *jobs;
	size_t njobs, alloc_jobs;
	struct plan_image *imgs;
	size_t nimgs, alloc_imgs;
	struct store_layer_hold *hold;
};

static char *clean_path(const char *p)
{
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	while (*p == '/')
		p++;
	return xstrdup(p);
}

static struct afile *find_file(struct load *l, const char *path)
{
	cleanup_free char *c = clean_path(path);
	for (size_t i = 0; i < l->nfiles; i++)
		if (!strcmp(l->files[i].path, c))
			return &l->files[i];
	return NULL;
}

static int open_outer(struct load *l, struct archive **ret, struct skiff_err **err)
{
	struct archive *a = archive_read_new();
	if (lseek(l->fd, 0, SEEK_SET) < 0)
		return err_make(err, errno, "seek archive");
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open_fd(a, l->fd, 1 << 16) != ARCHIVE_OK) {
		int rc = err_makex(err, EINVAL, "not a tar archive: %s", archive_error_string(a));
		archive_read_free(a);
		return rc;
	}
	*ret = a;
	return 0;
}

static bool keep_small(const char *path, int64_t size)
{
	if (size < 0 || (uint64_t)size > SMALL_FILE_MAX)
		return false;
	const char *dot = strrchr(path, '.');
	if (!strcmp(path, "manifest.json") || !strcmp(path, "index.json") || !strcmp(path, "oci-layout") ||
	    !strcmp(path, "repositories"))
		return true;
	if (dot && !strcmp(dot, ".json"))
		return true;
	return strncmp(path, "blobs/", 6) == 0 && size <= 256 * 1024;
}

static int pass1(struct load *l, struct skiff_err **err)
{
	struct archive *a;
	struct archive_entry *e;
	int r;

	if (open_outer(l, &a, err) < 0)
		return -1;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		struct afile f = {.path = clean_path(archive_entry_pathname(e)), .size = archive_entry_size(e)};
		if (keep_small(f.path, f.size) && l->kept_total + (size_t)f.size <= SMALL_TOTAL_MAX) {
			f.data = xmalloc((size_t)f.size + 1);
			la_ssize_t n = archive_read_data(a, f.data, (size_t)f.size);
			if (n != f.size) {
				err_makex(err, EINVAL, "read %s from archive: %s", f.path,
					  n < 0 ? archive_error_string(a) : "truncated");
				free(f.path);
				free(f.data);
				archive_read_free(a);
				return -1;
			}
			f.data[f.size] = '\0';
			l->kept_total += (size_t)f.size;
		}
		ALLOC_GROW(l->files, l->nfiles + 1, l->alloc_files);
		l->files[l->nfiles++] = f;
	}
	if (r != ARCHIVE_EOF) {
		r = err_makex(err, EINVAL, "read archive: %s", archive_error_string(a));
		archive_read_free(a);
		return r;
	}
	archive_read_free(a);
	if (l->nfiles == 0)
		return err_makex(err, EINVAL, "archive is empty");
	return 0;
}

static struct afile *need_file(struct load *l, const char *path, struct skiff_err **err)
{
	struct afile *f = find_file(l, path);
	if (!f)
		err_makex(err, EINVAL, "archive has no file %s", path);
	return f;
}

static struct plan_image *add_image(struct load *l)
{
	ALLOC_GROW(l->imgs, l->nimgs + 1, l->alloc_imgs);
	struct plan_image *pi = &l->imgs[l->nimgs++];
	memset(pi, 0, sizeof(*pi));
	return pi;
}

/* Plan the layers of pi: one job per (path, chain id) not yet in the store. */
static int plan_layers(struct load *l, struct plan_image *pi, const struct strv *paths, const struct strv *digests,
		       struct skiff_err **err)
{
	char id[65];
	const char *parent = NULL;
	if (paths->len != pi->cfg->diff_ids.len)
		return err_makex(err, EINVAL, "image has %zu layers but its config lists %zu diff IDs", paths->len,
				 pi->cfg->diff_ids.len);
	for (size_t i = 0; i < paths->len; i++) {
		const char *diff_id = pi->cfg->diff_ids.v[i];
		store_chain_id(parent, diff_id, id);
		strv_push(&pi->layer_ids, id);
		parent = pi->layer_ids.v[i];
		if (!find_file(l, paths->v[i]))
			return err_makex(err, EINVAL, "archive has no layer file %s", paths->v[i]);
		bool verify_only = false;
		if (store_layer_hold_existing(l->s, l->hold, id)) {
			/* Known content; still refuse a blob that does not match its descriptor. */
			struct store_layer_info info;
			if (!digests || !digests->v[i][0])
				continue;
			if (store_layer_info(l->s, id, &info, err) < 0)
				return -1;
			verify_only = !info.compressed_digest || strcmp(info.compressed_digest, digests->v[i]) != 0;
			store_layer_info_release(&info);
			if (!verify_only)
				continue;
		}
		bool dup = false;
		for (size_t j = 0; j < l->njobs; j++)
			if (!strcmp(l->jobs[j].id, id))
				dup = true;
		if (dup)
			continue;
		ALLOC_GROW(l->jobs, l->njobs + 1, l->alloc_jobs);
		struct layer_job *j = &l->jobs[l->njobs++];
		memset(j, 0, sizeof(*j));
		j->path = clean_path(paths->v[i]);
		j->id = xstrdup(id);
		j->parent = i ? xstrdup(pi->layer_ids.v[i - 1]) : NULL;
		j->diff_id = xstrdup(diff_id);
		j->digest = digests && digests->v[i][0] ? xstrdup(digests->v[i]) : NULL;
		j->verify_only = verify_only;
	}
	return 0;
}

static int parse_config(struct plan_image *pi, const char *data, size_t len, const char *what, struct skiff_err **err)
{
	pi->config = xmalloc(len + 1);
	memcpy(pi->config, data, len);
	pi->config[len] = '\0';
	pi->config_len = len;
	if (spec_image_config_parse(data, len, &pi->cfg, err) < 0)
		return err_wrap(err, "config %s", what);
	return 0;
}

static int add_name(struct plan_image *pi, const char *name, struct skiff_err **err)
{
	char *n = NULL;
	if (image_normalize_name(name, &n, err) < 0)
		return -1;
	if (!strv_contains(&pi->names, n))
		strv_push(&pi->names, n);
	free(n);
	return 0;
}

static int plan_docker(struct load *l, struct afile *mf, struct skiff_err **err)
{
	cleanup_spec_archive_manifest struct spec_archive_manifest *am = NULL;
	if (spec_archive_manifest_parse(mf->data, (size_t)mf->size, &am, err) < 0)
		return err_wrap(err, "manifest.json");
	if (am->len == 0)
		return err_makex(err, EINVAL, "manifest.json lists no images");
	for (size_t i = 0; i < am->len; i++) {
		struct spec_archive_image *ai = &am->images[i];
		struct plan_image *pi = add_image(l);
		struct afile *cf = need_file(l, ai->config, err);
		if (!cf)
			return -1;
		if (!cf->data)
			return err_makex(err, EFBIG, "config %s is too large", ai->config);
		if (parse_config(pi, cf->data, (size_t)cf->size, ai->config, err) < 0)
			return -1;
		for (size_t t = 0; t < ai->repo_tags.len; t++)
			if (add_name(pi, ai->repo_tags.v[t], err) < 0)
				return -1;
		if (plan_layers(l, pi, &ai->layers, NULL, err) < 0)
			return -1;
	}
	return 0;
}

static char *blob_path(const char *digest)
{
	return xasprintf("blobs/sha256/%s", digest_hex(digest));
}

static struct afile *blob_file(struct load *l, const struct spec_descriptor *d, struct skiff_err **err)
{
	cleanup_free char *p = NULL;
	struct afile *f;
	char got[DIGEST_STR_LEN + 1];
	if (digest_check(d->digest, err) < 0)
		return NULL;
	p = blob_path(d->digest);
	f = need_file(l, p, err);
	if (!f)
		return NULL;
	if (!f->data) {
		err_makex(err, EFBIG, "blob %s is too large for a manifest or config", d->digest);
		return NULL;
	}
	digest_buf(f->data, (size_t)f->size, got);
	if (strcmp(got, d->digest) != 0) {
		err_makex(err, EINVAL, "blob %s: digest mismatch: expected %s, got %s", p, d->digest, got);
		return NULL;
	}
	return f;
}

static int plan_oci_manifest(struct load *l, const struct spec_descriptor *d, const char *name, struct skiff_err **err)
{
	cleanup_spec_manifest struct spec_manifest *m = NULL;
	struct strv paths = STRV_INIT, digests = STRV_INIT;
	struct afile *f = blob_file(l, d, err);
	int rc = -1;
	if (!f)
		return -1;
	if (spec_manifest_parse(f->data, (size_t)f->size, &m, err) < 0 || spec_manifest_validate_image(m, err) < 0)
		return err_wrap(err, "manifest %s", d->digest);
	struct plan_image *pi = add_image(l);
	pi->manifest = xmalloc((size_t)f->size + 1);
	memcpy(pi->manifest, f->data, (size_t)f->size + 1);
	pi->manifest_len = (size_t)f->size;
	pi->manifest_type = xstrdup(m->media_type);
	struct afile *cf = blob_file(l, &m->config, err);
	if (!cf || parse_config(pi, cf->data, (size_t)cf->size, m->config.digest, err) < 0)
		goto out;
	for (size_t i = 0; i < m->layers.len; i++) {
		const struct spec_descriptor *ld = &m->layers.v[i];
		if (!spec_layer_media_type_known(ld->media_type)) {
			err_makex(err, EINVAL, "layer %s: unsupported media type %s", ld->digest, ld->media_type);
			goto out;
		}
		if (digest_check(ld->digest, err) < 0)
			goto out;
		strv_push_take(&paths, blob_path(ld->digest));
		strv_push(&digests, ld->digest);
	}
	if (name) {
		/* ref.name is a full reference (podman, skopeo) or just a tag (then no name). */
		cleanup_ref struct image_ref *r = NULL;
		struct skiff_err *e = NULL;
		if ((strchr(name, '/') || strchr(name, ':')) && ref_parse(name, &r, &e) == 0) {
			if (add_name(pi, name, err) < 0)
				goto out;
		}
		err_free(e);
	}
	rc = plan_layers(l, pi, &paths, &digests, err);
out:
	strv_release(&paths);
	strv_release(&digests);
	return rc;
}

static int plan_oci(struct load *l, struct afile *idxf, int depth, struct skiff_err **err)
{
	cleanup_spec_index struct spec_index *idx = NULL;
	if (depth > 4)
		return err_makex(err, EINVAL, "index nesting too deep");
	if (spec_index_parse(idxf->data, (size_t)idxf->size, &idx, err) < 0)
		return err_wrap(err, "%s", depth ? "nested index" : "index.json");
	if (idx->manifests.len == 0)
		return err_makex(err, EINVAL, "index.json lists no images");
	for (size_t i = 0; i < idx->manifests.len; i++) {
		const struct spec_descriptor *d = &idx->manifests.v[i];
		/* ref.name may be a full reference or just a tag; docker and containerd also
		 * write the full name in io.containerd.image.name. */
		const char *name = spec_map_get(&d->annotations, SPEC_ANNOTATION_REF_NAME);
		const char *full = spec_map_get(&d->annotations, SPEC_ANNOTATION_CONTAINERD_NAME);
		if (full && (!name || (!strchr(name, '/') && !strchr(name, ':'))))
			name = full;
		if (spec_media_type_is_index(d->media_type)) {
			struct afile *f = blob_file(l, d, err);
			if (!f || plan_oci(l, f, depth + 1, err) < 0)
				return -1;
		} else if (spec_media_type_is_manifest(d->media_type)) {
			if (plan_oci_manifest(l, d, name, err) < 0)
				return -1;
		} else {
			return err_makex(err, EINVAL, "index entry %s: unsupported media type %s", d->digest,
					 d->media_type);
		}
	}
	return 0;
}

struct reader {
	struct archive *a;
};

static long read_outer(void *ud, void *buf, size_t n)
{
	struct reader *r = ud;
	return (long)archive_read_data(r->a, buf, n);
}

static int verify_blob(struct archive *a, const struct layer_job *j, struct skiff_err **err)
{
	cleanup_digester struct digester *d = digester_new();
	char buf[1 << 16], got[DIGEST_STR_LEN + 1];
	la_ssize_t n;
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
		digester_update(d, buf, (size_t)n);
	if (n < 0)
		return err_makex(err, EINVAL, "read %s: %s", j->path, archive_error_string(a));
	digester_final(d, got);
	if (strcmp(got, j->digest) != 0)
		return err_makex(err, EINVAL, "layer %s: digest mismatch: expected %s, got %s", j->path, j->digest,
				 got);
	return 0;
}

/* Pass 2: stream each needed layer out of the archive into the store. */
static int pass2(struct load *l, struct skiff_err **err)
{
	for (;;) {
		struct archive *a;
		struct archive_entry *e;
		size_t pending = 0;
		int r;
		for (size_t i = 0; i < l->njobs; i++)
			pending += !l->jobs[i].done;
		if (!pending)
			return 0;
		if (open_outer(l, &a, err) < 0)
			return -1;
		size_t progress = 0;
		while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
			cleanup_free char *p = clean_path(archive_entry_pathname(e));
			struct layer_job *j = NULL;
			for (size_t i = 0; i < l->njobs && !j; i++)
				if (!l->jobs[i].done && !strcmp(l->jobs[i].path, p))
					j = &l->jobs[i];
			if (!j || archive_entry_filetype(e) != AE_IFREG)
				continue;
			/* vfs layers copy their parent's tree: wait for it (next pass). */
			if (!j->verify_only && j->parent && store_layers_need_parent(l->s) &&
			    !store_layer_complete(l->s, j->parent))
				continue;
			if (j->verify_only) {
				if (verify_blob(a, j, err) < 0) {
					archive_read_free(a);
					return -1;
				}
				j->done = true;
				progress++;
				continue;
			}
			struct reader rd = {a};
			struct store_layer_src src = {
				.read = read_outer,
				.ud = &rd,
				.expected_diff_id = j->diff_id,
				.expected_digest = j->digest,
			};
			bool created;
			if (store_layer_ensure(l->s, l->hold, j->id, j->parent, j->diff_id, &src, &created, err) < 0) {
				archive_read_free(a);
				return err_wrap(err, "layer %s", j->path);
			}
			j->done = true;
			progress++;
		}
		if (r != ARCHIVE_EOF) {
			r = err_makex(err, EINVAL, "read archive: %s", archive_error_string(a));
			archive_read_free(a);
			return r;
		}
		archive_read_free(a);
		if (!progress)
			return err_makex(err, EINVAL, "archive ended before all layers were read");
	}
}

/* docker-archive images get a schema2 manifest describing the uncompressed layers. */
static int make_docker_manifest(struct load *l, struct plan_image *pi, struct skiff_err **err)
{
	cleanup_spec_manifest struct spec_manifest *m = spec_manifest_new(SPEC_FORMAT_DOCKER);
	struct strbuf out = STRBUF_INIT;
	char cd[DIGEST_STR_LEN + 1];

	digest_buf(pi->config, pi->config_len, cd);
	if (spec_descriptor_set(&m->config, SPEC_MT_DOCKER_CONFIG, cd, (int64_t)pi->config_len, err) < 0)
		return -1;
	for (size_t i = 0; i < pi->layer_ids.len; i++) {
		struct store_layer_info info;
		if (store_layer_info(l->s, pi->layer_ids.v[i], &info, err) < 0)
			return -1;
		int rc = spec_manifest_add_layer(m, SPEC_MT_DOCKER_LAYER, info.diff_id, (int64_t)info.size, err);
		store_layer_info_release(&info);
		if (rc < 0)
			return -1;
	}
	if (spec_manifest_generate(m, &out, NULL, err) < 0) {
		strbuf_release(&out);
		return -1;
	}
	pi->manifest = strbuf_detach(&out, &pi->manifest_len);
	pi->manifest_type = xstrdup(SPEC_MT_DOCKER_MANIFEST);
	return 0;
}

static int commit_all(struct load *l, const char *what, struct strv *ret_names, struct skiff_err **err)
{
	for (size_t i = 0; i < l->nimgs; i++) {
		struct plan_image *pi = &l->imgs[i];
		cleanup_free char *id = NULL;
		cleanup_free char *labels = NULL;
		if (!pi->manifest && make_docker_manifest(l, pi, err) < 0)
			return -1;
		if (pi->cfg->config.labels.len) {
			struct json *o = json_new_object();
			struct strbuf sb = STRBUF_INIT;
			for (size_t k = 0; k < pi->cfg->config.labels.len; k++)
				json_object_set_string(o, pi->cfg->config.labels.items[k].key,
						       pi->cfg->config.labels.items[k].value);
			json_dump(o, 0, &sb);
			json_free(o);
			labels = strbuf_detach(&sb, NULL);
		}
		struct store_image_new in = {
			.config = pi->config,
			.config_len = pi->config_len,
			.manifest = pi->manifest,
			.manifest_len = pi->manifest_len,
			.manifest_type = pi->manifest_type,
			.layers = &pi->layer_ids,
			.names = &pi->names,
			.created = pi->cfg->created.sec,
			.created_nsec = pi->cfg->created.nsec,
			.labels_json = labels,
		};
		if (store_image_commit(l->s, &in, &id, NULL, err) < 0)
			return -1;
		image_event(l->s, "load", id, what);
		if (pi->names.len == 0)
			strv_pushf(ret_names, "sha256:%s", id);
		for (size_t k = 0; k < pi->names.len; k++)
			strv_push(ret_names, pi->names.v[k]);
	}
	return 0;
}

static void load_release(struct load *l)
{
	for (size_t i = 0; i < l->nfiles; i++) {
		free(l->files[i].path);
		free(l->files[i].data);
	}
	free(l->files);
	for (size_t i = 0; i < l->njobs; i++) {
		free(l->jobs[i].path);
		free(l->jobs[i].id);
		free(l->jobs[i].parent);
		free(l->jobs[i].diff_id);
		free(l->jobs[i].digest);
	}
	free(l->jobs);
	for (size_t i = 0; i < l->nimgs; i++) {
		struct plan_image *pi = &l->imgs[i];
		free(pi->config);
		spec_image_config_free(pi->cfg);
		free(pi->manifest);
		free(pi->manifest_type);
		strv_release(&pi->names);
		strv_release(&pi->layer_ids);
	}
	free(l->imgs);
	store_hold_release(l->hold);
	if (l->fd >= 0)
		close(l->fd);
}

int image_load(struct store *s, const struct image_load_opts *o, struct strv *ret_names, struct skiff_err **err)
{
	struct load l = {.s = s, .fd = -1};
	struct afile *f;
	int rc = -1;
	const char *what = (o->input && strcmp(o->input, "-")) ? o->input : "stdin";

	if (image_open_input(o->input, o->tmpdir, &l.fd, err) < 0)
		return err_wrap(err, "payload does not match any of the supported image formats");
	l.hold = store_hold_new(s);
	if (pass1(&l, err) < 0)
		goto out;
	if ((f = find_file(&l, "manifest.json")) && f->data) {
		if (plan_docker(&l, f, err) < 0)
			goto out;
	} else if ((f = find_file(&l, "index.json")) && f->data) {
		struct afile *lay = find_file(&l, "oci-layout");
		if (!lay || !lay->data || spec_oci_layout_check(lay->data, (size_t)lay->size, err) < 0) {
			if (!lay)
				err_makex(err, EINVAL, "oci-archive has no oci-layout file");
			goto out;
		}
		if (plan_oci(&l, f, 0, err) < 0)
			goto out;
	} else {
		err_makex(err, EINVAL, "not a docker-archive or oci-archive (no manifest.json or index.json)");
		goto out;
	}
	if (pass2(&l, err) < 0)
		goto out;
	crashpoint("layers-loaded");
	if (commit_all(&l, what, ret_names, err) < 0)
		goto out;
	rc = 0;
out:
	load_release(&l);
	if (rc < 0)
		err_wrap(err, "load %s", what);
	return rc;
}
