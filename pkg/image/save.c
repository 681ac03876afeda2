/* `save`: images from the store to docker-archive, oci-archive or oci-dir. Layers are
 * reassembled from their tar-split, so they are byte-identical to what was loaded. */
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
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

/* Where files go: a tar archive or a directory. */
struct sink {
	struct archive *a; /* archive mode */
	int dirfd;	   /* directory mode */
	int fd;		   /* current file in directory mode */
	struct strv written;
};

static int sink_begin(struct sink *k, const char *name, uint64_t size, struct skiff_err **err)
{
	if (k->a) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, name);
		archive_entry_set_size(e, (la_int64_t)size);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_mtime(e, 0, 0);
		int r = archive_write_header(k->a, e);
		archive_entry_free(e);
		if (r != ARCHIVE_OK)
			return err_makex(err, EIO, "write %s: %s", name, archive_error_string(k->a));
		return 0;
	}
	cleanup_free char *dir = xstrdup(name);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		if (mkdir_p_at(k->dirfd, dir, 0755, err) < 0)
			return -1;
	}
	k->fd = openat(k->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (k->fd < 0)
		return err_make(err, errno, "create %s", name);
	return 0;
}

static int sink_write(void *ud, const void *buf, size_t n)
{
	struct sink *k = ud;
	if (k->a) {
		la_ssize_t w = archive_write_data(k->a, buf, n);
		return w == (la_ssize_t)n ? 0 : -1;
	}
	return write_all(k->fd, buf, n);
}

static int sink_end(struct sink *k, const char *name, struct skiff_err **err)
{
	strv_push(&k->written, name);
	if (k->a)
		return 0;
	int rc = close(k->fd);
	k->fd = -1;
	return rc < 0 ? err_make(err, errno, "close %s", name) : 0;
}

static int sink_file(struct sink *k, const char *name, const void *data, size_t len, struct skiff_err **err)
{
	if (sink_begin(k, name, len, err) < 0)
		return -1;
	if (sink_write(k, data, len) < 0)
		return err_make(err, errno ? errno : EIO, "write %s", name);
	return sink_end(k, name, err);
}

static int sink_layer(struct store *s, struct sink *k, const char *layer_id, const char *name, struct skiff_err **err)
{
	struct store_layer_info info;
	if (strv_contains(&k->written, name))
		return 0;
	if (store_layer_info(s, layer_id, &info, err) < 0)
		return -1;
	int rc = sink_begin(k, name, info.size, err);
	if (rc == 0)
		rc = store_layer_write_tar(s, layer_id, sink_write, k, err);
	if (rc == 0)
		rc = sink_end(k, name, err);
	store_layer_info_release(&info);
	return rc;
}

struct saved {
	struct store_image *img;
	char *name; /* the name the user gave, normalised, or NULL for an ID */
};

static int resolve(struct store *s, const struct strv *inputs, struct saved **ret, struct skiff_err **err)
{
	struct saved *v = xcalloc(inputs->len, sizeof(*v));
	for (size_t i = 0; i < inputs->len; i++) {
		const char *in = inputs->v[i];
		if (image_lookup(s, in, &v[i].img, err) < 0)
			goto fail;
		const char *p = strncmp(in, "sha256:", 7) == 0 ? in + 7 : in;
		if (!strncmp(v[i].img->id, p, strlen(p)))
			continue; /* by ID: untagged */
		for (size_t k = 0; k < v[i].img->names.len && !v[i].name; k++)
			if (ref_match_name(v[i].img->names.v[k], in) || !strcmp(v[i].img->names.v[k], in))
				v[i].name = xstrdup(v[i].img->names.v[k]);
	}
	*ret = v;
	return 0;
fail:
	for (size_t i = 0; i < inputs->len; i++) {
		store_image_free(v[i].img);
		free(v[i].name);
	}
	free(v);
	return -1;
}

static int save_docker(struct store *s, struct sink *k, struct saved *v, size_t n, struct skiff_err **err)
{
	cleanup_spec_archive_manifest struct spec_archive_manifest *am = spec_archive_manifest_new();
	struct strbuf out = STRBUF_INIT;
	int rc = -1;
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *config = NULL;
		size_t clen;
		struct spec_archive_image *ai;
		if (store_image_config(s, v[i].img->id, &config, &clen, err) < 0)
			goto out;
		for (size_t l = 0; l < v[i].img->layers.len; l++) {
			struct store_layer_info info;
			if (store_layer_info(s, v[i].img->layers.v[l], &info, err) < 0)
				goto out;
			cleanup_free char *lname = xasprintf("%s.tar", digest_hex(info.diff_id));
			store_layer_info_release(&info);
			if (sink_layer(s, k, v[i].img->layers.v[l], lname, err) < 0)
				goto out;
		}
		cleanup_free char *cname = xasprintf("%s.json", v[i].img->id);
		if (!strv_contains(&k->written, cname) && sink_file(k, cname, config, clen, err) < 0)
			goto out;
		ai = spec_archive_manifest_add(am);
		ai->config = xstrdup(cname);
		if (v[i].name)
			strv_push(&ai->repo_tags, v[i].name);
		for (size_t l = 0; l < v[i].img->layers.len; l++) {
			struct store_layer_info info;
			if (store_layer_info(s, v[i].img->layers.v[l], &info, err) < 0)
				goto out;
			strv_pushf(&ai->layers, "%s.tar", digest_hex(info.diff_id));
			store_layer_info_release(&info);
		}
	}
	if (spec_archive_manifest_generate(am, &out, err) < 0 ||
	    sink_file(k, "manifest.json", out.buf, out.len, err) < 0)
		goto out;
	rc = 0;
out:
	strbuf_release(&out);
	return rc;
}

static int save_oci(struct store *s, struct sink *k, struct saved *v, struct skiff_err **err)
{
	cleanup_spec_manifest struct spec_manifest *m = spec_manifest_new(SPEC_FORMAT_OCI);
	cleanup_spec_index struct spec_index *idx = spec_index_new(SPEC_FORMAT_OCI);
	struct strbuf man = STRBUF_INIT, ib = STRBUF_INIT, layout = STRBUF_INIT;
	cleanup_free char *config = NULL;
	char cdigest[DIGEST_STR_LEN + 1], mdigest[DIGEST_STR_LEN + 1];
	size_t clen;
	int rc = -1;

	spec_oci_layout_generate(&layout);
	if (sink_file(k, SPEC_OCI_LAYOUT_FILE, layout.buf, layout.len, err) < 0)
		goto out;
	for (size_t l = 0; l < v->img->layers.len; l++) {
		struct store_layer_info info;
		if (store_layer_info(s, v->img->layers.v[l], &info, err) < 0)
			goto out;
		cleanup_free char *lname = xasprintf("blobs/sha256/%s", digest_hex(info.diff_id));
		int r = spec_manifest_add_layer(m, SPEC_MT_OCI_LAYER, info.diff_id, (int64_t)info.size, err);
		store_layer_info_release(&info);
		if (r < 0 || sink_layer(s, k, v->img->layers.v[l], lname, err) < 0)
			goto out;
	}
	if (store_image_config(s, v->img->id, &config, &clen, err) < 0)
		goto out;
	digest_buf(config, clen, cdigest);
	{
		cleanup_free char *cname = xasprintf("blobs/sha256/%s", digest_hex(cdigest));
		if (sink_file(k, cname, config, clen, err) < 0)
			goto out;
	}
	if (spec_descriptor_set(&m->config, SPEC_MT_OCI_CONFIG, cdigest, (int64_t)clen, err) < 0 ||
	    spec_manifest_generate(m, &man, mdigest, err) < 0)
		goto out;
	{
		cleanup_free char *mname = xasprintf("blobs/sha256/%s", digest_hex(mdigest));
		if (sink_file(k, mname, man.buf, man.len, err) < 0)
			goto out;
	}
	struct spec_descriptor *d = spec_index_add(idx, SPEC_MT_OCI_MANIFEST, mdigest, (int64_t)man.len, NULL, err);
	if (!d)
		goto out;
	if (v->name) {
		spec_map_set(&d->annotations, SPEC_ANNOTATION_CONTAINERD_NAME, v->name);
		spec_map_set(&d->annotations, SPEC_ANNOTATION_REF_NAME, v->name);
	}
	if (spec_index_generate(idx, &ib, NULL, err) < 0 || sink_file(k, SPEC_OCI_INDEX_FILE, ib.buf, ib.len, err) < 0)
		goto out;
	rc = 0;
out:
	strbuf_release(&man);
	strbuf_release(&ib);
	strbuf_release(&layout);
	return rc;
}

int image_save(struct store *s, const struct image_save_opts *o, const struct strv *inputs, struct skiff_err **err)
{
	struct saved *v = NULL;
	struct sink k = {.dirfd = -1, .fd = -1};
	int outfd = -1, rc = -1;
	bool to_stdout = !o->output || !strcmp(o->output, "-");
	cleanup_free char *tmpname = NULL;

	if (resolve(s, inputs, &v, err) < 0)
		return -1;
	if (o->format == SAVE_OCI_DIR) {
		if (mkdir_p_at(AT_FDCWD, o->output, 0755, err) < 0)
			goto out;
		k.dirfd = open(o->output, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (k.dirfd < 0) {
			err_make(err, errno, "open %s", o->output);
			goto out;
		}
	} else {
		if (to_stdout) {
			outfd = dup(STDOUT_FILENO);
		} else {
			/* write next to the target, rename when complete: no half archive is left */
			tmpname = xasprintf("%s.skiff-tmp-%ld", o->output, (long)getpid());
			outfd = open(tmpname, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		}
		if (outfd < 0) {
			err_make(err, errno, "create %s", to_stdout ? "stdout" : o->output);
			goto out;
		}
		k.a = archive_write_new();
		archive_write_set_format_pax_restricted(k.a);
		archive_write_set_bytes_in_last_block(k.a, 1);
		if (archive_write_open_fd(k.a, outfd) != ARCHIVE_OK) {
			err_makex(err, EIO, "write archive: %s", archive_error_string(k.a));
			goto out;
		}
	}
	if (o->format == SAVE_DOCKER_ARCHIVE)
		rc = save_docker(s, &k, v, inputs->len, err);
	else
		rc = save_oci(s, &k, &v[0], err);
	if (rc == 0 && k.a && archive_write_close(k.a) != ARCHIVE_OK)
		rc = err_makex(err, EIO, "write archive: %s", archive_error_string(k.a));
	if (rc == 0 && outfd >= 0 && !to_stdout && fsync(outfd) < 0)
		rc = err_make(err, errno, "fsync %s", o->output);
	if (rc == 0 && tmpname && rename(tmpname, o->output) < 0)
		rc = err_make(err, errno, "rename to %s", o->output);
	for (size_t i = 0; rc == 0 && i < inputs->len; i++)
		image_event(s, "save", v[i].img->id, to_stdout ? "stdout" : o->output);
out:
	if (k.a)
		archive_write_free(k.a);
	if (outfd >= 0)
		close(outfd);
	if (rc < 0 && tmpname)
		unlink(tmpname);
	if (k.dirfd >= 0)
		close(k.dirfd);
	strv_release(&k.written);
	for (size_t i = 0; i < inputs->len; i++) {
		store_image_free(v[i].img);
		free(v[i].name);
	}
	free(v);
	if (rc < 0)
		err_wrap(err, "save");
	return rc;
}
