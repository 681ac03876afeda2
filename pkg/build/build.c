/* pkg/build: the build as a whole: context, Dockerfile, the stages the target needs, tags. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/build/build-internal.h"
#include "pkg/image/image.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

/* NAME=VALUE in v: the value, or NULL. */
static const char *arg_get(const struct strv *v, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = v->len; i-- > 0;)
		if (!strncmp(v->v[i], name, nl) && v->v[i][nl] == '=')
			return v->v[i] + nl + 1;
	return NULL;
}

/* The ARGs before the first FROM: defaults expanded in order, --build-arg overriding. */
static int global_args(struct builder *b, struct skiff_err **err)
{
	for (size_t i = 0; i < b->df->nargs; i++) {
		const struct df_instr *in = &b->df->args[i];
		for (size_t k = 0; k < in->nargs; k += 2) {
			const char *name = in->args[k];
			const char *def = k + 1 < in->nargs ? in->args[k + 1] : NULL;
			const char *given = b->o->build_args ? arg_get(b->o->build_args, name) : NULL;
			if (given) {
				strv_pushf(&b->global_args, "%s=%s", name, given);
			} else if (def) {
				char *v = NULL;
				if (df_expand(def, b->df->escape, &b->global_args, NULL, &v, err) < 0)
					return err_wrap(err, "%s:%d: ARG", b->df->path, in->line);
				strv_pushf(&b->global_args, "%s=%s", name, v);
				free(v);
			}
		}
	}
	return 0;
}

/* The stage a RUN --mount=...,from=NAME names (NULL: none). */
static const struct df_stage *mount_from_stage(const struct builder *b, const char *mount, size_t before)
{
	cleanup_strv struct strv parts = STRV_INIT;
	strv_split(&parts, mount ? mount : "", ',');
	for (size_t i = 0; i < parts.len; i++)
		if (!strncmp(parts.v[i], "from=", 5))
			return df_stage_find(b->df, parts.v[i] + 5, before);
	return NULL;
}

/* Which stages the target needs: itself, its FROM stage, its COPY --from and RUN --mount from=
 * stages, and theirs. */
static int mark_needed(struct builder *b, size_t idx, struct skiff_err **err)
{
	if (b->needed[idx])
		return 0;
	b->needed[idx] = true;
	const struct df_stage *st = &b->df->stages[idx];
	cleanup_free char *base = NULL;
	if (df_expand(st->base, b->df->escape, &b->global_args, NULL, &base, err) < 0)
		return err_wrap(err, "%s:%d: FROM", b->df->path, st->line);
	const struct df_stage *dep = df_stage_find(b->df, base, idx);
	if (dep && dep->name && mark_needed(b, dep->index, err) < 0)
		return -1;
	for (size_t i = 0; i < st->n; i++) {
		const struct df_instr *in = &st->instrs[i];
		if (in->kind == DF_RUN) {
			for (size_t f = 0; f < in->nflags; f++) {
				if (strcmp(in->flags[f].name, "mount"))
					continue;
				dep = mount_from_stage(b, in->flags[f].value, idx);
				if (dep && mark_needed(b, dep->index, err) < 0)
					return -1;
			}
			continue;
		}
		if (in->kind != DF_COPY)
			continue;
		const char *from = df_flag_get(in, "from", NULL);
		if (!from)
			continue;
		dep = df_stage_find(b->df, from, idx);
		if (dep && mark_needed(b, dep->index, err) < 0)
			return -1;
	}
	return 0;
}

static void remove_temp_images(struct builder *b, const char *keep)
{
	for (size_t i = b->temp_images.len; i-- > 0;) {
		const char *id = b->temp_images.v[i];
		if (keep && !strcmp(id, keep))
			continue;
		struct skiff_err *e = NULL;
		if (store_image_delete(b->e->store, id, &e) < 0)
			stage_debug(b, "remove intermediate image %.12s: %s", id, e->msg);
		err_free(e);
	}
}

int build_run(struct engine *e, const struct build_opts *o, char **ret_id, int *ret_run_status, struct skiff_err **err)
{
	struct builder b = {.e = e, .o = o, .run_status = -1};
	cleanup_free char *tmp = xasprintf("%s/tmp", store_graphroot(e->store));
	cleanup_free char *final_id = NULL;
	int rc = -1;
	size_t target = 0;

	if (o->squash && o->squash_all)
		return err_makex(err, EINVAL, "--squash and --squash-all cannot be used together");
	if (bctx_open(o->context, o->file, tmp, &b.ctx, err) < 0)
		return -1;
	if (df_parse(b.ctx->dockerfile, b.ctx->dockerfile_buf, b.ctx->dockerfile_len, &b.df, err) < 0)
		goto out;
	if (global_args(&b, err) < 0)
		goto out;
	target = b.df->nstages - 1;
	if (o->target && *o->target) {
		const struct df_stage *t = df_stage_find(b.df, o->target, b.df->nstages);
		if (!t || !t->name || strcasecmp(t->name, o->target)) {
			err_makex(err, ENOENT, "target stage \"%s\" not found", o->target);
			goto out;
		}
		target = t->index;
	}
	b.target = target;
	b.stage_ids = xcalloc(b.df->nstages, sizeof(char *));
	b.needed = xcalloc(b.df->nstages, sizeof(bool));
	if (mark_needed(&b, target, err) < 0)
		goto out;
	for (size_t i = 0; i <= target; i++)
		if (b.needed[i])
			b.nsteps += 1 + b.df->stages[i].n;
	for (size_t i = 0; i <= target; i++) {
		if (!b.needed[i])
			continue;
		if (stage_run(&b, i, err) < 0)
			goto out;
	}
	if (o->squash || o->squash_all) {
		if (build_squash(&b, b.stage_ids[target], o->squash ? b.target_base : NULL, &final_id, err) < 0)
			goto out;
	} else {
		final_id = xstrdup(b.stage_ids[target]);
	}
	/* names: each -t (normalized as commit does), moved to this image */
	for (size_t i = 0; o->tags && i < o->tags->len; i++) {
		cleanup_free char *name = NULL;
		if (image_commit_name(o->tags->v[i], &name, err) < 0)
			goto out;
		if (i == 0)
			stage_log(&b, "COMMIT %s", name);
		if (store_image_add_name(e->store, final_id, name, err) < 0)
			goto out;
	}
	if (!o->tags || !o->tags->len)
		stage_log(&b, "COMMIT");
	stage_log(&b, "--> %.12s", final_id);
	for (size_t i = 0; o->tags && i < o->tags->len; i++) {
		cleanup_free char *name = NULL;
		if (image_commit_name(o->tags->v[i], &name, err) == 0)
			stage_log(&b, "Successfully tagged %s", name);
	}
	rc = 0;
out:
	if (o->no_layers)
		remove_temp_images(&b, rc == 0 ? final_id : NULL);
	if (rc < 0 && b.run_status >= 0 && ret_run_status)
		*ret_run_status = b.run_status;
	if (rc == 0)
		*ret_id = TAKE_PTR(final_id);
	for (size_t i = 0; b.stage_ids && i < b.df->nstages; i++)
		free(b.stage_ids[i]);
	free(b.stage_ids);
	free(b.needed);
	free(b.target_base);
	strv_release(&b.global_args);
	strv_release(&b.temp_images);
	cachefrom_free(b.cf);
	if (b.df)
		df_free(b.df);
	bctx_close(b.ctx);
	return rc;
}
