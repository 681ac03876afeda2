/* Images as users name them: lookup, names, removal, prune. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/image/image-internal.h"
#include "pkg/image/image.h"
#include "pkg/image/manifest.h"
#include "pkg/image/reference.h"
#include "pkg/events/events.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

int image_open_input(const char *path, const char *tmpdir, int *ret_fd, struct skiff_err **err)
{
	int fd;
	if (path && strcmp(path, "-") != 0) {
		struct stat st;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return err_make(err, errno, "open %s", path);
		if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
			close(fd);
			return err_makex(err, EISDIR, "%s is a directory", path);
		}
	} else {
		fd = dup(STDIN_FILENO);
		if (fd < 0)
			return err_make(err, errno, "read stdin");
		if (isatty(fd)) {
			close(fd);
			return err_makex(err, EINVAL,
					 "cannot read an archive from a terminal: use -i or redirect stdin");
		}
	}
	if (lseek(fd, 0, SEEK_CUR) >= 0) {
		*ret_fd = fd;
		return 0;
	}
	/* A pipe: spool it to a temporary file (unlinked; gone when closed). */
	int tmp = -1;
	if (tmpfile_in_dir(tmpdir ? tmpdir : "/var/tmp", &tmp, err) < 0) {
		close(fd);
		return -1;
	}
	if (copy_fd(fd, tmp, NULL) < 0) {
		int e = errno;
		close(fd);
		close(tmp);
		return err_make(err, e, "copy stdin to a temporary file");
	}
	close(fd);
	*ret_fd = tmp;
	return 0;
}

void image_event(struct store *s, const char *status, const char *id, const char *name)
{
	struct event_new ev = {.type = "image", .status = status, .id = id, .name = name};
	struct skiff_err *e = NULL;
	events_append(store_graphroot(s), &ev, &e);
	err_free(e);
}

int image_tag(struct store *s, const struct store_image *img, const char *name, struct skiff_err **err)
{
	if (store_image_add_name(s, img->id, name, err) < 0)
		return -1;
	image_event(s, "tag", img->id, name);
	return 0;
}

int image_untag(struct store *s, const struct store_image *img, const char *name, struct skiff_err **err)
{
	if (store_image_remove_name(s, img->id, name, err) < 0)
		return -1;
	image_event(s, "untag", img->id, name);
	return 0;
}

int image_normalize_name(const char *input, char **ret, struct skiff_err **err)
{
	cleanup_ref struct image_ref *r = NULL;
	if (ref_parse(input, &r, err) < 0)
		return -1;
	*ret = ref_string(r);
	return 0;
}

int image_lookup(struct store *s, const char *input, struct store_image **ret, struct skiff_err **err)
{
	struct skiff_err *e = NULL;
	struct store_image **all = NULL;
	size_t n = 0;
	int best = REF_MATCH_NONE, nbest = 0;
	const char *best_name = NULL;

	if (!*input)
		return err_makex(err, EINVAL, "image name must not be empty");
	/* ID, ID prefix or the name exactly as stored. */
	if (store_image_get(s, input, ret, &e) == 0)
		return 0;
	if (err_status(e) != ENOENT) {
		*err = e;
		return -1;
	}
	err_clear(&e);
	/* The normalised name. */
	{
		cleanup_free char *full = NULL;
		if (image_normalize_name(input, &full, &e) < 0) {
			/* not a reference at all */
			if (ref_looks_like_id(input)) {
				err_free(e);
				return err_makex(err, ENOENT, "%s: image not known", input);
			}
			*err = e;
			return -1;
		}
		if (store_image_by_name(s, full, ret, &e) == 0)
			return 0;
		err_clear(&e);
	}
	/* Short names: podman matches them against every stored name. */
	if (store_image_list(s, &all, &n, err) < 0)
		return -1;
	/* NAME@DIGEST: the image of that repository whose manifest has that digest */
	{
		cleanup_ref struct image_ref *want = NULL;
		if (ref_parse(input, &want, NULL) == 0 && want->digest) {
			cleanup_free char *repo = ref_name(want);
			for (size_t i = 0; i < n; i++) {
				if (!all[i]->digest || strcmp(all[i]->digest, want->digest) != 0)
					continue;
				for (size_t k = 0; k < all[i]->names.len; k++) {
					cleanup_ref struct image_ref *have = NULL;
					cleanup_free char *hrepo = NULL;
					if (ref_parse(all[i]->names.v[k], &have, NULL) < 0)
						continue;
					hrepo = ref_name(have);
					if (!strcmp(hrepo, repo)) {
						int rc = store_image_get(s, all[i]->id, ret, err);
						store_images_free(all, n);
						return rc;
					}
				}
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < all[i]->names.len; k++) {
			int r = ref_match(all[i]->names.v[k], input, 0);
			if (r > best) {
				best = r;
				nbest = 1;
				best_name = all[i]->names.v[k];
			} else if (r == best && r != REF_MATCH_NONE) {
				nbest++;
			}
		}
	}
	int rc;
	if (best == REF_MATCH_NONE)
		rc = err_makex(err, ENOENT, "%s: image not known", input);
	else if (nbest > 1)
		rc = err_makex(err, EINVAL, "%s: short name is ambiguous: more than one image matches", input);
	else
		rc = store_image_by_name(s, best_name, ret, err);
	store_images_free(all, n);
	return rc;
}

void image_rm_report_release(struct image_rm_report *r)
{
	strv_release(&r->untagged);
	strv_release(&r->deleted);
}

static bool input_is_id(const struct store_image *img, const char *input)
{
	const char *p = strncmp(input, "sha256:", 7) == 0 ? input + 7 : input;
	return strlen(p) >= 3 && strncmp(img->id, p, strlen(p)) == 0;
}

static int delete_image(struct store *s, struct store_image *img, const char *ref, struct image_rm_report *rep,
			struct skiff_err **err)
{
	struct strv users = STRV_INIT;
	if (store_image_containers(s, img->id, &users, err) < 0) {
		strv_release(&users);
		return -1;
	}
	if (users.len) {
		int rc = err_makex(err, EBUSY,
				   "image used by %s: image is in use by a container: consider listing external "
				   "containers and force-removing image",
				   users.v[0]);
		strv_release(&users);
		return rc;
	}
	strv_release(&users);
	for (size_t i = 0; i < img->names.len; i++)
		strv_push(&rep->untagged, img->names.v[i]);
	if (store_image_delete(s, img->id, err) < 0)
		return -1;
	for (size_t i = 0; i < img->names.len; i++)
		image_event(s, "untag", img->id, img->names.v[i]);
	image_event(s, "remove", img->id, ref);
	strv_push(&rep->deleted, img->id);
	return 0;
}

int image_remove(struct store *s, const char *input, bool force, struct image_rm_report *rep, struct skiff_err **err)
{
	struct store_image *img = NULL;
	int rc;
	if (image_lookup(s, input, &img, err) < 0) {
		/* not an image: a manifest list of that name goes, as with podman */
		struct skiff_err *e = NULL;
		if (err_status(*err) == ENOENT && manifest_list_delete(s, input, rep, &e) == 0) {
			err_clear(err);
			return 0;
		}
		err_free(e);
		return -1;
	}
	if (!input_is_id(img, input) && img->names.len > 1) {
		/* One of several names: untag just that one. */
		const char *name = NULL;
		cleanup_free char *full = NULL;
		if (image_normalize_name(input, &full, NULL) == 0 && strv_contains(&img->names, full))
			name = full;
		for (size_t i = 0; !name && i < img->names.len; i++)
			if (ref_match_name(img->names.v[i], input))
				name = img->names.v[i];
		if (name) {
			rc = image_untag(s, img, name, err);
			if (rc == 0)
				strv_push(&rep->untagged, name);
			store_image_free(img);
			return rc;
		}
	}
	if (input_is_id(img, input) && img->names.len > 1 && !force) {
		rc = err_makex(
			err, EBUSY,
			"unable to delete image \"%s\" by ID with more than one tag (%s, ...): please force removal",
			img->id, img->names.v[0]);
		store_image_free(img);
		return rc;
	}
	rc = delete_image(s, img, input, rep, err);
	store_image_free(img);
	return rc;
}

int image_prune(struct store *s, bool all, struct image_rm_report *rep, struct skiff_err **err)
{
	struct store_image **imgs = NULL;
	size_t n = 0;
	int rc = 0;
	if (store_image_list(s, &imgs, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		/* -a removes every unused image, else dangling ones; images with containers stay */
		if (!all && imgs[i]->names.len > 0)
			continue;
		struct strv users = STRV_INIT;
		rc = store_image_containers(s, imgs[i]->id, &users, err);
		bool used = users.len > 0;
		strv_release(&users);
		if (rc < 0 || used)
			continue;
		rc = delete_image(s, imgs[i], imgs[i]->id, rep, err);
	}
	store_images_free(imgs, n);
	return rc;
}
