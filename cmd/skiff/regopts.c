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

/* Ask on the terminal which candidate a short name means (podman prompts whenever it
 * can, in both permissive and enforcing mode). 0 and *ret (an index), or -1. */
static int prompt_choice(const char *shortn, const struct strv *names, size_t *ret, struct skiff_err **err)
{
	char line[64];
	fprintf(stdout, "? Please select an image for \"%s\":\n", shortn);
	for (size_t i = 0; i < names->len; i++)
		fprintf(stdout, "  %zu) %s\n", i + 1, names->v[i]);
	for (int tries = 0; tries < 3; tries++) {
		fprintf(stdout, "Choose 1-%zu: ", names->len);
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			break;
		char *end;
		unsigned long k = strtoul(line, &end, 10);
		if (end != line && (*end == '\n' || !*end) && k >= 1 && k <= names->len) {
			*ret = k - 1;
			return 0;
		}
	}
	return err_makex(err, ECANCELED, "short-name \"%s\": no image selected", shortn);
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
			if (!r->quiet)
				fprintf(stderr, "Resolved \"%s\" as an alias (%s)\n", shortn,
					res.alias_origin ? res.alias_origin : "registries.conf");
		} else {
			for (size_t i = 0; i < res.candidates.len; i++)
				strv_push(&names, res.candidates.v[i]);
		}
		bool enforcing = res.mode == REGCONF_SHORT_ENFORCING;
		bool disabled = res.mode == REGCONF_SHORT_DISABLED;
		regconf_resolution_release(&res);
		if (!names.len) {
			err_makex(err, ENOENT,
				  "short-name \"%s\" did not resolve to an alias and no unqualified-search registries "
				  "are defined in \"%s\"",
				  shortn,
				  regconf_files(r->conf)->len ? regconf_files(r->conf)->v[0] : "registries.conf");
			goto out;
		}
		bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
		if (names.len > 1 && tty && !disabled) {
			size_t k = 0;
			if (prompt_choice(shortn, &names, &k, err) < 0)
				goto out;
			char *chosen = xstrdup(names.v[k]);
			strv_release(&names);
			strv_push_take(&names, chosen);
			/* remembered in the alias cache once the pull worked */
			free(r->alias_name);
			free(r->alias_value);
			r->alias_name = xstrdup(shortn);
			r->alias_value = xstrdup(chosen);
		}
		if (enforcing && names.len > 1 && !tty) {
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
	free(r->alias_name);
	free(r->alias_value);
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

void cli_reg_record_alias(struct cli_reg *r)
{
	struct regconf_paths p;
	struct strv buf = STRV_INIT;
	struct skiff_err *e = NULL;
	if (!r->alias_name)
		return;
	if (regconf_default_paths(r->rootless, &p, &buf, &e) == 0 && p.alias_cache &&
	    regconf_record_alias(p.alias_cache, r->alias_name, r->alias_value, &e) == 0) {
		if (!r->quiet)
			fprintf(stderr, "Recorded \"%s\" as an alias of %s in %s\n", r->alias_name, r->alias_value,
				p.alias_cache);
	}
	err_free(e); /* only a lost shortcut */
	strv_release(&buf);
}
