/* The registry flags shared by pull, push, login and run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/skiff/regopts.h"
#include "pkg/config/auth.h"
#include "pkg/config/registries.h"
#include "pkg/image/reference.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

static int parse_delay_ms(const char *s, unsigned *ret, struct skiff_err **err)
{
	char *end;
	double v = strtod(s, &end);
	double mul = !strcmp(end, "ms") ? 1 : (!strcmp(end, "s") || !*end) ? 1000 : !strcmp(end, "m") ? 60000 : -1;
	if (end == s || mul < 0 || v < 0 || v * mul > 3600e3)
		return err_makex(err, EINVAL, "invalid --retry-delay \"%s\": want a duration such as 500ms or 2s", s);
	*ret = (unsigned)(v * mul);
	return 0;
}

/* registry_cred_fn over auth.json (and docker's files, and credential helpers). */
static int creds_from_files(void *ud, const char *host, const char *path, struct registry_creds *ret,
			    struct skiff_err **err)
{
	struct cli_reg *r = ud;
	struct auth_cred c = {0};
	char *ref = *path ? xasprintf("%s/%s", host, path) : xstrdup(host);
	int found = auth_get(&r->paths, ref, &c, err);
	free(ref);
	if (found != 0)
		return found;
	ret->user = c.user;
	ret->pass = c.pass;
	ret->identity_token = c.identity_token;
	c.user = c.pass = c.identity_token = NULL;
	auth_cred_release(&c);
	return 0;
}

int cli_reg_setup(struct skiff_ctx *ctx, const struct cli_reg_flags *f, struct cli_reg *ret, struct skiff_err **err)
{
	struct cli_reg r = {0};
	r.rootless = ctx->cfg.rootless;
	r.ro.tls_verify = f->tls_verify ? 1 : 0;
	r.ro.cert_dir = f->cert_dir;
	r.ro.rootless = ctx->cfg.rootless;
	if (f->retry < 0 || f->retry > 100)
		return err_makex(err, EINVAL, "invalid --retry %ld: want 0 to 100", f->retry);
	r.ro.retries = (unsigned)f->retry;
	if (f->retry_delay && parse_delay_ms(f->retry_delay, &r.ro.retry_delay_ms, err) < 0)
		return -1;
	if (f->creds) {
		if (!*f->creds)
			return err_makex(err, EINVAL, "--creds must not be empty");
		const char *colon = strchr(f->creds, ':');
		if (colon == f->creds)
			return err_makex(err, EINVAL, "--creds: the username must not be empty");
		r.fixed.user = colon ? xstrndup(f->creds, (size_t)(colon - f->creds)) : xstrdup(f->creds);
		r.fixed.pass = xstrdup(colon ? colon + 1 : "");
		r.ro.fixed_creds = &r.fixed;
	}
	if (f->authfile) {
		if (access(f->authfile, R_OK) < 0 && errno != ENOENT) {
			registry_creds_release(&r.fixed);
			return err_make(err, errno, "--authfile %s", f->authfile);
		}
		r.authfile = xstrdup(f->authfile);
	}
	if (regconf_load_default(ctx->cfg.rootless, &r.conf, err) < 0) {
		registry_creds_release(&r.fixed);
		free(r.authfile);
		return -1;
	}
	auth_paths_default(&r.paths, f->authfile);
	r.signature_policy = f->signature_policy;
	*ret = r;
	if (r.ro.fixed_creds)
		ret->ro.fixed_creds = &ret->fixed;
	ret->ro.creds = creds_from_files;
	ret->ro.creds_ud = ret;
	return 0;
}

/* One candidate name's endpoints from registries.conf. */
static int add_source(struct cli_reg *r, const char *name, bool by_digest, struct pull_source *ret,
		      struct skiff_err **err)
{
	struct reg_endpoint *eps;
	size_t n;
	if (regconf_pull_sources(r->conf, name, by_digest, &eps, &n, err) < 0)
		return -1;
	ret->name = xstrdup(name);
	ret->eps = xcalloc(n, sizeof(*ret->eps));
	ret->neps = n;
	for (size_t i = 0; i < n; i++) {
		const char *nm = eps[i].name;
		size_t len = strcspn(nm, "@");
		const char *slash = strchr(nm, '/');
		/* drop a ":tag" after the last path component */
		const char *colon = memrchr(nm, ':', len);
		if (colon && slash && colon > slash)
			len = (size_t)(colon - nm);
		ret->eps[i].location = xstrndup(nm, len);
		ret->eps[i].host = slash ? xstrndup(nm, (size_t)(slash - nm)) : xstrdup(nm);
		ret->eps[i].insecure = eps[i].insecure;
	}
	reg_endpoints_free(eps, n);
	return 0;
}

static int sources_cb(void *ud, const char *domain, const char *path, bool short_name, bool by_digest,
		      struct pull_source **ret, size_t *ret_n, struct skiff_err **err)
{
	struct cli_reg *r = ud;
	struct strv names = STRV_INIT;
	struct regconf_resolution res;
	int rc = -1;

	if (short_name) {
		const char *shortn = !strncmp(path, "library/", 8) && !strchr(path + 8, '/') ? path + 8 : path;
		if (regconf_resolve_short(r->conf, shortn, &res, err) < 0)
			return -1;
		if (res.alias) {
			strv_push(&names, res.alias);
		} else {
			for (size_t i = 0; i < res.candidates.len; i++)
				strv_push(&names, res.candidates.v[i]);
		}
		bool enforcing = res.mode == REGCONF_SHORT_ENFORCING;
		regconf_resolution_release(&res);
		if (!names.len) {
			err_makex(err, ENOENT,
				  "short-name \"%s\" did not resolve to an alias and no unqualified-search registries "
				  "are defined in \"%s\"",
				  shortn,
				  regconf_files(r->conf)->len ? regconf_files(r->conf)->v[0] : "registries.conf");
			goto out;
		}
		if (enforcing && names.len > 1 && !(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))) {
			err_makex(err, EINVAL,
				  "short-name resolution enforced but cannot prompt without a TTY: use a fully "
				  "qualified name for \"%s\"",
				  shortn);
			goto out;
		}
	} else {
		strv_pushf(&names, "%s/%s", domain, path);
	}
	struct pull_source *v = xcalloc(names.len, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < names.len; i++) {
		if (add_source(r, names.v[i], by_digest, &v[n], err) < 0) {
			pull_sources_free(v, n);
			goto out;
		}
		n++;
	}
	*ret = v;
	*ret_n = n;
	rc = 0;
out:
	strv_release(&names);
	return rc;
}

int cli_reg_push_target(struct cli_reg *r, const char *dest, bool *ret_insecure, struct skiff_err **err)
{
	struct reg_endpoint ep;
	cleanup_ref struct image_ref *ref = NULL;
	if (!strncmp(dest, "docker://", 9))
		dest += 9;
	if (ref_parse(dest, &ref, NULL) < 0)
		return 0; /* the image's own name: checked again by push */
	cleanup_free char *name = xasprintf("%s/%s", ref->domain, ref->path);
	if (regconf_push_target(r->conf, name, &ep, err) < 0)
		return -1;
	*ret_insecure = ep.insecure;
	reg_endpoint_release(&ep);
	return 0;
}

void cli_reg_pull_opts(struct cli_reg *r, struct image_pull_opts *o)
{
	o->reg = r->ro;
	o->sources = sources_cb;
	o->sources_ud = r;
	o->signature_policy = r->signature_policy;
	o->rootless = r->rootless;
}

void cli_reg_release(struct cli_reg *r)
{
	registry_creds_release(&r->fixed);
	auth_paths_release(&r->paths);
	regconf_free(r->conf);
	free(r->authfile);
}

/* "os/arch[/variant]" into the three fields (which point into a copy kept in *keep). */
int cli_parse_platform(const char *s, char **keep, const char **os, const char **arch, const char **variant,
		       struct skiff_err **err)
{
	char *c = *keep = xstrdup(s);
	char *a = strchr(c, '/');
	if (!a || a == c || !a[1])
		return err_makex(err, EINVAL, "invalid platform \"%s\": want OS/ARCH[/VARIANT]", s);
	*a++ = '\0';
	char *v = strchr(a, '/');
	if (v) {
		*v++ = '\0';
		if (!*v || strchr(v, '/'))
			return err_makex(err, EINVAL, "invalid platform \"%s\": want OS/ARCH[/VARIANT]", s);
	}
	*os = c;
	*arch = a;
	*variant = v;
	return 0;
}
