/* `pull`: see pull.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/image/image-internal.h"
#include "pkg/image/image.h"
#include "pkg/image/pull.h"
#include "pkg/image/reference.h"
#include "pkg/json/json.h"
#include "pkg/spec/image.h"
#include "pkg/trust/trust.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/crashpoint.h"
#include "vendor-free/xalloc.h"

#define PROGRESS_STEP (512u << 10)

struct pull_job {
	const struct spec_descriptor *d;
	char id[65];
	const char *parent; /* previous job's id, or NULL */
	const char *diff_id;
	uint64_t reported;
	struct pull_ctx *ctx;
};

struct pull_ctx {
	struct store *s;
	struct registry *r;
	const struct trust_policy *policy;
	struct store_layer_hold *hold;
	struct registry_repo *rp;
	const struct image_pull_opts *o;
	pthread_mutex_t mu; /* progress calls, the job queue, err */
	struct pull_job *jobs;
	size_t njobs, next;
	struct skiff_err *err;
	int failed; /* atomic */
};

void pull_sources_free(struct pull_source *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		for (size_t k = 0; k < v[i].neps; k++) {
			free((char *)v[i].eps[k].host);
			free((char *)v[i].eps[k].location);
		}
		free(v[i].eps);
	}
	free(v);
}

static void emit(struct pull_ctx *c, enum pull_event ev, const char *ref, const char *digest, uint64_t done,
		 uint64_t total)
{
	if (!c->o->progress)
		return;
	struct pull_progress p = {ev, ref, digest, done, total};
	pthread_mutex_lock(&c->mu);
	c->o->progress(c->o->progress_ud, &p);
	pthread_mutex_unlock(&c->mu);
}

static void on_progress(void *ud, uint64_t done)
{
	struct pull_job *j = ud;
	if (done - j->reported < PROGRESS_STEP)
		return;
	j->reported = done;
	emit(j->ctx, PULL_BLOB_PROGRESS, NULL, j->d->digest, done, (uint64_t)j->d->size);
}

struct job_reader {
	struct pull_ctx *ctx;
	struct registry_blob_reader *br;
};

static long job_read(void *ud, void *buf, size_t n)
{
	struct job_reader *jr = ud;
	if (__atomic_load_n(&jr->ctx->failed, __ATOMIC_RELAXED)) {
		errno = ECANCELED;
		return -1;
	}
	return registry_blob_read(jr->br, buf, n);
}

static void job_fail(struct pull_ctx *c, struct skiff_err *e)
{
	pthread_mutex_lock(&c->mu);
	if (!c->err && err_status(e) != ECANCELED) {
		c->err = e;
		e = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	err_free(e);
	__atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
}

static void run_job(struct pull_ctx *c, struct pull_job *j)
{
	struct skiff_err *e = NULL;
	struct job_reader jr = {c, NULL};
	bool created;

	emit(c, PULL_BLOB_START, NULL, j->d->digest, 0, (uint64_t)j->d->size);
	if (registry_blob_open(c->rp, j->d->digest, j->d->size, &jr.br, &e) < 0) {
		job_fail(c, e);
		return;
	}
	registry_blob_on_progress(jr.br, on_progress, j);
	struct store_layer_src src = {
		.read = job_read,
		.ud = &jr,
		.expected_diff_id = j->diff_id,
		.expected_digest = j->d->digest,
	};
	if (store_layer_ensure(c->s, c->hold, j->id, j->parent, j->diff_id, &src, &created, &e) < 0) {
		if (registry_blob_error(jr.br)) {
			/* the download's own error says more than "read failed" */
			err_free(e);
			e = NULL;
			registry_blob_take_error(jr.br, &e);
		}
		err_wrap(&e, "copying blob %s", j->d->digest);
		registry_blob_close(jr.br);
		job_fail(c, e);
		return;
	}
	registry_blob_close(jr.br);
	emit(c, PULL_BLOB_DONE, NULL, j->d->digest, (uint64_t)j->d->size, (uint64_t)j->d->size);
}

static void *worker(void *ud)
{
	struct pull_ctx *c = ud;
	for (;;) {
		pthread_mutex_lock(&c->mu);
		struct pull_job *j = (!__atomic_load_n(&c->failed, __ATOMIC_RELAXED) && c->next < c->njobs)
					     ? &c->jobs[c->next++]
					     : NULL;
		pthread_mutex_unlock(&c->mu);
		if (!j)
			return NULL;
		run_job(c, j);
	}
}

static int run_jobs(struct pull_ctx *c, struct skiff_err **err)
{
	size_t nthreads = c->njobs < PULL_PARALLEL ? c->njobs : PULL_PARALLEL;
	pthread_t tids[PULL_PARALLEL];
	size_t started = 0;

	/* vfs layers copy their parent's tree: one at a time, bottom first */
	if (store_layers_need_parent(c->s))
		nthreads = 1;
	for (size_t i = 1; i < nthreads; i++) {
		if (pthread_create(&tids[started], NULL, worker, c) != 0)
			break;
		started++;
	}
	worker(c);
	for (size_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (c->failed) {
		if (!c->err)
			return err_makex(err, ECANCELED, "pull cancelled");
		*err = c->err;
		c->err = NULL;
		return -1;
	}
	return 0;
}

/* The index entry for the wanted platform. */
static const struct spec_descriptor *choose_platform(const struct spec_index *idx, const char *os, const char *arch,
						     const char *variant, struct skiff_err **err)
{
	const struct spec_descriptor *best = NULL;
	for (size_t i = 0; i < idx->manifests.len; i++) {
		const struct spec_descriptor *d = &idx->manifests.v[i];
		const struct spec_platform *p = d->platform;
		if (!p || !spec_media_type_is_manifest(d->media_type))
			continue;
		if (strcmp(p->os, os) != 0 || strcmp(p->architecture, arch) != 0)
			continue;
		if (variant && *variant) {
			if (p->variant && !strcmp(p->variant, variant))
				return d;
			continue;
		}
		if (!best ||
		    (!best->platform->variant && p->variant && !strcmp(arch, "arm64") && !strcmp(p->variant, "v8")))
			best = d;
	}
	if (!best)
		err_makex(err, ENOENT, "no image found in manifest list for architecture %s, variant \"%s\", OS %s",
			  arch, variant ? variant : "", os);
	return best;
}

#define SIG_MAX (4u << 20)
#define SIG_COUNT_MAX 128

/* The policy's verdict on the manifest, with the signatures from the lookaside storage. */
static int check_policy(struct pull_ctx *c, const char *ref_name, const struct registry_manifest *m,
			struct skiff_err **err)
{
	struct trust_sig *sigs = NULL;
	size_t n = 0, alloc = 0;
	cleanup_free char *base = NULL;
	int rc = -1;

	if (!c->policy)
		return 0;
	if (trust_needs_signatures(c->policy, ref_name)) {
		if (trust_lookaside_for(c->o->rootless, ref_name, false, &base, err) < 0)
			return -1;
		if (base && !strncmp(base, "file://", 7)) {
			if (trust_sigs_read(base, m->digest, &sigs, &n, err) < 0)
				return -1;
		} else if (base) {
			for (unsigned i = 1; i <= SIG_COUNT_MAX; i++) {
				cleanup_free char *url = NULL;
				char *data = NULL;
				size_t len = 0;
				if (trust_sig_url(base, m->digest, i, &url, err) < 0)
					goto out;
				int k = registry_get_url(c->r, url, SIG_MAX, &data, &len, err);
				if (k < 0)
					goto out;
				if (k == 1)
					break;
				ALLOC_GROW(sigs, n + 1, alloc);
				sigs[n].data = data;
				sigs[n].len = len;
				n++;
			}
		}
	}
	rc = trust_check(c->policy, ref_name, m->data, m->len, sigs, n, err);
out:
	trust_sigs_free(sigs, n);
	return rc;
}

/* Pull name:ref from one endpoint. */
static int pull_from(struct store *s, struct registry *r, const struct trust_policy *policy,
		     const struct registry_endpoint *ep, const char *name, const char *path, const char *ref,
		     bool by_digest, const struct image_pull_opts *o, char **ret_id, struct skiff_err **err)
{
	struct pull_ctx c = {.s = s, .o = o, .r = r, .policy = policy};
	struct registry_manifest top = {0}, img = {0};
	cleanup_spec_manifest struct spec_manifest *m = NULL;
	struct spec_image_config *cfg = NULL;
	char *config = NULL;
	size_t config_len = 0;
	cleanup_free char *labels = NULL, *stored = NULL;
	struct strv layer_ids = STRV_INIT, names = STRV_INIT;
	const char *os = o->os ? o->os : spec_goos();
	const char *arch = o->arch ? o->arch : spec_goarch();
	const char *variant = o->variant ? o->variant : (o->arch ? NULL : spec_goarch_variant());
	int rc = -1;

	pthread_mutex_init(&c.mu, NULL);
	c.hold = store_hold_new(s);
	if (registry_repo_open(r, ep, path, REGISTRY_PULL, &c.rp, err) < 0)
		goto out;
	if (registry_manifest_get(c.rp, ref, &top, err) < 0)
		goto out;
	if (spec_media_type_is_index(top.media_type)) {
		cleanup_spec_index struct spec_index *idx = NULL;
		if (spec_index_parse(top.data, top.len, &idx, err) < 0) {
			err_wrap(err, "manifest list %s", top.digest);
			goto out;
		}
		const struct spec_descriptor *d = choose_platform(idx, os, arch, variant, err);
		if (!d || registry_manifest_get(c.rp, d->digest, &img, err) < 0)
			goto out;
		if (!spec_media_type_is_manifest(img.media_type)) {
			err_makex(err, EINVAL, "manifest list entry %s is not an image manifest", d->digest);
			goto out;
		}
	} else {
		img = top;
		memset(&top, 0, sizeof(top));
	}
	if (spec_manifest_parse(img.data, img.len, &m, err) < 0 || spec_manifest_validate_image(m, err) < 0) {
		err_wrap(err, "manifest %s", img.digest);
		goto out;
	}
	emit(&c, PULL_SIGNATURES, NULL, NULL, 0, 0);
	stored = by_digest ? xasprintf("%s@%s", name, ref) : xasprintf("%s:%s", name, ref);
	/* before any blob: a rejected image stores nothing */
	if (check_policy(&c, stored, &img, err) < 0)
		goto out;
	if (store_image_exists(s, digest_hex(m->config.digest))) {
		/* the image is here (its layers with it): name it, fetch nothing */
		for (size_t i = 0; i < m->layers.len; i++)
			emit(&c, PULL_BLOB_SKIPPED, NULL, m->layers.v[i].digest, 0, (uint64_t)m->layers.v[i].size);
		emit(&c, PULL_CONFIG, NULL, m->config.digest, 0, 0);
		emit(&c, PULL_MANIFEST, NULL, NULL, 0, 0);
		if (store_image_add_name(s, digest_hex(m->config.digest), stored, err) < 0)
			goto out;
		*ret_id = xstrdup(digest_hex(m->config.digest));
		rc = 0;
		goto out;
	}
	if (registry_blob_get(c.rp, m->config.digest, REGISTRY_CONFIG_MAX, &config, &config_len, err) < 0)
		goto out;
	if (spec_image_config_parse_known(config, config_len, m->config.digest, &cfg, err) < 0) {
		err_wrap(err, "image config %s", m->config.digest);
		goto out;
	}
	if (cfg->diff_ids.len != m->layers.len) {
		err_makex(err, EINVAL, "image has %zu layers but its config lists %zu diff IDs", m->layers.len,
			  cfg->diff_ids.len);
		goto out;
	}
	c.jobs = xcalloc(m->layers.len ? m->layers.len : 1, sizeof(*c.jobs));
	for (size_t i = 0; i < m->layers.len; i++) {
		const char *parent = i ? layer_ids.v[i - 1] : NULL;
		char id[65];
		store_chain_id(parent, cfg->diff_ids.v[i], id);
		strv_push(&layer_ids, id);
		if (store_layer_hold_existing(s, c.hold, id)) {
			emit(&c, PULL_BLOB_SKIPPED, NULL, m->layers.v[i].digest, 0, (uint64_t)m->layers.v[i].size);
			continue;
		}
		struct pull_job *j = &c.jobs[c.njobs++];
		j->d = &m->layers.v[i];
		memcpy(j->id, id, sizeof(id));
		j->diff_id = cfg->diff_ids.v[i];
		j->ctx = &c;
	}
	/* parents by id (layer_ids is complete now: its strings no longer move) */
	for (size_t i = 0, k = 0; i < m->layers.len && k < c.njobs; i++)
		if (!strcmp(layer_ids.v[i], c.jobs[k].id))
			c.jobs[k++].parent = i ? layer_ids.v[i - 1] : NULL;
	if (run_jobs(&c, err) < 0)
		goto out;
	crashpoint("pull-layers");
	emit(&c, PULL_CONFIG, NULL, m->config.digest, 0, 0);
	emit(&c, PULL_MANIFEST, NULL, NULL, 0, 0);
	/* by digest: "name@sha256:..." (podman's name for it; images shows tag <none>) */
	strv_push(&names, stored);
	labels = image_labels_json(&cfg->config.labels);
	struct store_image_new in = {
		.config = config,
		.config_len = config_len,
		.manifest = img.data,
		.manifest_len = img.len,
		.manifest_type = img.media_type,
		.layers = &layer_ids,
		.names = &names,
		.created = cfg->created.sec,
		.created_nsec = cfg->created.nsec,
		.labels_json = labels,
	};
	if (store_image_commit(s, &in, ret_id, NULL, err) < 0)
		goto out;
	image_event(s, "pull", *ret_id, stored);
	rc = 0;
out:
	if (c.err)
		err_free(c.err);
	store_hold_release(c.hold);
	if (rc < 0 && c.njobs) {
		/* layers this pull made that no image uses */
		struct skiff_err *e = NULL;
		if (store_prune_layers(s, &e) < 0)
			err_free(e);
	}
	registry_repo_free(c.rp);
	registry_manifest_release(&top);
	registry_manifest_release(&img);
	spec_image_config_free(cfg);
	free(config);
	free(c.jobs);
	strv_release(&layer_ids);
	strv_release(&names);
	pthread_mutex_destroy(&c.mu);
	return rc;
}

/* policy.json: the one named, or podman's default places; none there: no policy
 * (docker has none; podman would refuse to pull). */
static int load_policy(const struct image_pull_opts *o, struct trust_policy **ret, struct skiff_err **err)
{
	struct skiff_err *e = NULL;
	if (trust_policy_load(o->signature_policy, ret, &e) == 0)
		return 0;
	if (!o->signature_policy && err_status(e) == ENOENT) {
		err_free(e);
		*ret = NULL;
		return 0;
	}
	*err = e;
	return -1;
}

/* An endpoint whose location is "host[:port]/path" holds the repository at that path:
 * *conn gets the host part (in *keep, which the caller frees) and *path the path;
 * otherwise the endpoint as it is, and name_path. */
static void endpoint_split(const struct registry_endpoint *ep, const char *name_path, struct registry_endpoint *conn,
			   const char **path, char **keep)
{
	const char *ls = ep->location ? strchr(ep->location, '/') : NULL;
	*conn = *ep;
	*path = name_path;
	*keep = NULL;
	if (!ls)
		return;
	*keep = xstrndup(ep->location, (size_t)(ls - ep->location));
	conn->location = *keep;
	*path = ls + 1;
}

static int default_source(const char *domain, const char *path, struct pull_source **ret, size_t *ret_n)
{
	struct pull_source *v = xcalloc(1, sizeof(*v));
	v->name = xasprintf("%s/%s", domain, path);
	v->eps = xcalloc(1, sizeof(*v->eps));
	v->eps[0].host = xstrdup(domain);
	v->neps = 1;
	*ret = v;
	*ret_n = 1;
	return 0;
}

int image_pull(struct store *s, const char *input, const struct image_pull_opts *o, char **ret_id,
	       struct skiff_err **err)
{
	cleanup_ref struct image_ref *ref = NULL;
	struct pull_source *src = NULL;
	size_t nsrc = 0;
	struct registry *r = NULL;
	struct trust_policy *policy = NULL;
	struct strv errors = STRV_INIT;
	int rc = -1, last = EIO;

	if (ref_parse(input, &ref, err) < 0)
		return -1;
	const char *tagref = ref->digest ? ref->digest : ref->tag;
	bool by_digest = ref->digest != NULL;
	if (o->sources) {
		if (o->sources(o->sources_ud, ref->domain, ref->path, ref->domain_implicit, by_digest, &src, &nsrc,
			       err) < 0)
			return -1;
	} else {
		default_source(ref->domain, ref->path, &src, &nsrc);
	}
	if (load_policy(o, &policy, err) < 0)
		goto out;
	if (registry_new(&o->reg, &r, err) < 0)
		goto out;
	for (size_t i = 0; i < nsrc; i++) {
		const char *slash = strchr(src[i].name, '/');
		const char *name_path = slash ? slash + 1 : src[i].name;
		cleanup_free char *shown = xasprintf("%s%s%s", src[i].name, by_digest ? "@" : ":", tagref);
		struct pull_ctx pc = {.o = o};
		pthread_mutex_init(&pc.mu, NULL);
		emit(&pc, PULL_TRYING, shown, NULL, 0, 0);
		pthread_mutex_destroy(&pc.mu);
		for (size_t k = 0; k < src[i].neps; k++) {
			const struct registry_endpoint *ep = &src[i].eps[k];
			struct skiff_err *e = NULL;
			struct registry_endpoint conn;
			const char *path;
			cleanup_free char *lhost = NULL;
			endpoint_split(ep, name_path, &conn, &path, &lhost);
			if (pull_from(s, r, policy, &conn, src[i].name, path, tagref, by_digest, o, ret_id, &e) == 0) {
				rc = 0;
				goto out;
			}
			int st = err_status(e);
			last = st ? st : EIO;
			strv_push_take(&errors, xasprintf("initializing source docker://%s: %s", shown, e->msg));
			err_free(e);
			/* a broken image or a local failure is not a reason to try elsewhere */
			if (st != ENOENT && st != EACCES && st != ECONNREFUSED && st != ENXIO && st != ETIMEDOUT &&
			    st != EIO && st != EAGAIN) {
				i = nsrc;
				break;
			}
		}
	}
	if (errors.len == 1) {
		err_makex(err, last, "%s", errors.v[0]);
	} else {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "%zu errors occurred while pulling:", errors.len);
		for (size_t i = 0; i < errors.len; i++)
			strbuf_addf(&sb, "\n * %s", errors.v[i]);
		err_makex(err, last, "%s", sb.buf);
		strbuf_release(&sb);
	}
	rc = -1;
out:
	registry_free(r);
	trust_policy_free(policy);
	pull_sources_free(src, nsrc);
	strv_release(&errors);
	return rc;
}

int image_pull_list_tags(const char *input, const struct image_pull_opts *o, struct strv *ret, struct skiff_err **err)
{
	cleanup_ref struct image_ref *ref = NULL;
	struct pull_source *src = NULL;
	size_t nsrc = 0;
	struct registry *r = NULL;
	int rc = -1;

	if (ref_parse(input, &ref, err) < 0)
		return -1;
	if (!ref->tag_implicit)
		return err_makex(err, EINVAL, "--all-tags: \"%s\" must name a repository without tag or digest", input);
	if (o->sources) {
		if (o->sources(o->sources_ud, ref->domain, ref->path, ref->domain_implicit, false, &src, &nsrc, err) <
		    0)
			return -1;
	} else {
		default_source(ref->domain, ref->path, &src, &nsrc);
	}
	if (registry_new(&o->reg, &r, err) < 0)
		goto out;
	for (size_t i = 0; i < nsrc && rc < 0; i++) {
		const char *slash = strchr(src[i].name, '/');
		for (size_t k = 0; k < src[i].neps && rc < 0; k++) {
			struct registry_endpoint conn;
			const char *path;
			cleanup_free char *lhost = NULL;
			endpoint_split(&src[i].eps[k], slash ? slash + 1 : src[i].name, &conn, &path, &lhost);
			struct registry_repo *rp = NULL;
			struct strv tags = STRV_INIT;
			if (*err)
				err_clear(err);
			if (registry_repo_open(r, &conn, path, REGISTRY_PULL, &rp, err) == 0 &&
			    registry_tags(rp, &tags, err) == 0) {
				strv_sort(&tags);
				for (size_t t = 0; t < tags.len; t++)
					strv_pushf(ret, "%s:%s", src[i].name, tags.v[t]);
				rc = 0;
			}
			strv_release(&tags);
			registry_repo_free(rp);
		}
	}
out:
	registry_free(r);
	pull_sources_free(src, nsrc);
	return rc;
}
