/* Registry auth: WWW-Authenticate challenges, Basic credentials and Bearer tokens
 * (distribution's token spec: GET realm?service=..&scope=.., or the OAuth2 refresh-token
 * POST when the login left an identity token). Tokens are cached per host and scope. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "pkg/json/json.h"
#include "pkg/registry/internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

#define CHALLENGE_MAX 8192

void registry_creds_release(struct registry_creds *c)
{
	if (c->pass)
		explicit_bzero(c->pass, strlen(c->pass));
	free(c->user);
	free(c->pass);
	free(c->identity_token);
	memset(c, 0, sizeof(*c));
}

void registry_challenge_release(struct registry_challenge *c)
{
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

char *reg_base64(const void *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* RFC 7230 tchar */
static bool is_tchar(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static char *lower(const char *s, size_t n)
{
	char *r = xstrndup(s, n);
	for (char *q = r; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	return r;
}

/* One auth-param value: token or quoted-string. */
static int param_value(const char **pp, char **ret, struct skiff_err **err)
{
	const char *p = *pp;
	struct strbuf sb = STRBUF_INIT;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (!*p) {
				strbuf_release(&sb);
				return err_makex(err, EINVAL, "unterminated quoted string");
			}
			if (*p == '\\' && p[1])
				p++;
			if ((unsigned char)*p < 0x20 && *p != '\t') {
				strbuf_release(&sb);
				return err_makex(err, EINVAL, "control character in quoted string");
			}
			strbuf_addch(&sb, *p);
		}
		p++;
	} else {
		const char *s = p;
		while (is_tchar((unsigned char)*p) || *p == '/' || *p == '=' || *p == ':')
			p++;
		if (p == s)
			return err_makex(err, EINVAL, "missing parameter value");
		strbuf_add(&sb, s, (size_t)(p - s));
	}
	*pp = p;
	*ret = strbuf_detach(&sb, NULL);
	return 0;
}

/* Parse one challenge starting at *pp; leaves *pp after it (at a "," before the next
 * scheme, or the end). */
static int parse_one(const char **pp, struct registry_challenge *c, struct skiff_err **err)
{
	const char *p = skip_ws(*pp);
	const char *s = p;
	while (is_tchar((unsigned char)*p))
		p++;
	if (p == s)
		return err_makex(err, EINVAL, "missing auth scheme");
	c->scheme = lower(s, (size_t)(p - s));
	for (;;) {
		p = skip_ws(p);
		while (*p == ',')
			p = skip_ws(p + 1);
		if (!*p)
			break;
		const char *k = p;
		while (is_tchar((unsigned char)*p))
			p++;
		if (p == k)
			return err_makex(err, EINVAL, "unexpected character '%c'", *p);
		size_t klen = (size_t)(p - k);
		const char *q = skip_ws(p);
		if (*q != '=') {
			/* "token68" of this scheme, or the next challenge's scheme */
			if (*q == '\0' || *q == ',') {
				p = q;
				continue;
			}
			*pp = k;
			return 0;
		}
		p = skip_ws(q + 1);
		cleanup_free char *key = lower(k, klen);
		char *val = NULL;
		if (param_value(&p, &val, err) < 0)
			return err_wrap(err, "parameter %s", key);
		char **slot = !strcmp(key, "realm")	? &c->realm
			      : !strcmp(key, "service") ? &c->service
			      : !strcmp(key, "scope")	? &c->scope
			      : !strcmp(key, "error")	? &c->error
							: NULL;
		if (slot) {
			free(*slot);
			*slot = val;
		} else {
			free(val);
		}
	}
	*pp = p;
	return 0;
}

int registry_challenge_parse(const char *hdr, struct registry_challenge *ret, struct skiff_err **err)
{
	if (strlen(hdr) > CHALLENGE_MAX)
		return err_makex(err, EINVAL, "WWW-Authenticate header is longer than %u bytes", CHALLENGE_MAX);
	const char *p = hdr;
	while (*skip_ws(p)) {
		struct registry_challenge c = {0};
		if (parse_one(&p, &c, err) < 0) {
			registry_challenge_release(&c);
			return err_wrap(err, "WWW-Authenticate \"%.80s\"", hdr);
		}
		if (!strcmp(c.scheme, "basic") || !strcmp(c.scheme, "bearer")) {
			if (!strcmp(c.scheme, "bearer") && (!c.realm || !*c.realm)) {
				registry_challenge_release(&c);
				return err_makex(err, EINVAL,
						 "WWW-Authenticate \"%.80s\": Bearer challenge without realm", hdr);
			}
			*ret = c;
			return 0;
		}
		registry_challenge_release(&c);
	}
	return err_makex(err, ENOTSUP, "WWW-Authenticate \"%.80s\": no Basic or Bearer challenge", hdr);
}

char *registry_error_text(const char *body, size_t len)
{
	cleanup_json struct json *j = NULL;
	if (!body || !len || json_parse(body, len, &j, NULL) < 0)
		return NULL;
	struct json *errs = json_object_get(j, "errors");
	if (!json_is(errs, JSON_ARRAY) || !json_array_len(errs))
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < json_array_len(errs) && i < 8; i++) {
		struct json *e = json_array_get(errs, i);
		const char *code = json_object_get_string(e, "code");
		const char *msg = json_object_get_string(e, "message");
		if (!code && !msg)
			continue;
		if (sb.len)
			strbuf_addstr(&sb, "; ");
		if (code) {
			cleanup_free char *lc = lower(code, strlen(code));
			for (char *q = lc; *q; q++)
				if (*q == '_')
					*q = ' ';
			strbuf_addstr(&sb, lc);
		}
		if (msg && (!code || strcasecmp(msg, sb.buf + sb.len - strlen(code)) != 0))
			strbuf_addf(&sb, "%s%.300s", code ? ": " : "", msg);
	}
	if (!sb.len) {
		strbuf_release(&sb);
		return NULL;
	}
	/* the registry's text is shown on a terminal: no control characters */
	for (char *q = sb.buf; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = '?';
	return strbuf_detach(&sb, NULL);
}

static int get_creds(struct registry_repo *rp, struct registry_creds *ret, struct skiff_err **err)
{
	struct registry *r = rp->r;
	if (r->have_fixed) {
		ret->user = r->fixed.user ? xstrdup(r->fixed.user) : NULL;
		ret->pass = r->fixed.pass ? xstrdup(r->fixed.pass) : NULL;
		ret->identity_token = r->fixed.identity_token ? xstrdup(r->fixed.identity_token) : NULL;
		return 0;
	}
	if (!r->creds)
		return 1;
	int rc = r->creds(r->creds_ud, rp->host, rp->path, ret, err);
	if (rc < 0)
		return err_wrap(err, "credentials for %s", rp->host);
	return rc;
}

static char *basic_header(const struct registry_creds *c)
{
	cleanup_free char *up = xasprintf("%s:%s", c->user ? c->user : "", c->pass ? c->pass : "");
	cleanup_free char *b = reg_base64(up, strlen(up));
	explicit_bzero(up, strlen(up));
	return xasprintf("Authorization: Basic %s", b);
}

static char *token_cached(struct registry *r, const char *conn, const char *scope)
{
	char *h = NULL;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->ntokens && !h; i++)
		if (!strcmp(r->tokens[i].conn, conn) && !strcmp(r->tokens[i].scope, scope))
			h = xstrdup(r->tokens[i].header);
	pthread_mutex_unlock(&r->mu);
	return h;
}

static void token_store(struct registry *r, const char *conn, const char *scope, const char *header)
{
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->ntokens; i++)
		if (!strcmp(r->tokens[i].conn, conn) && !strcmp(r->tokens[i].scope, scope)) {
			free(r->tokens[i].header);
			r->tokens[i].header = xstrdup(header);
			pthread_mutex_unlock(&r->mu);
			return;
		}
	ALLOC_GROW(r->tokens, r->ntokens + 1, r->atokens);
	r->tokens[r->ntokens++] = (struct reg_token){xstrdup(conn), xstrdup(scope), xstrdup(header)};
	pthread_mutex_unlock(&r->mu);
}

static void add_param(CURL *h, const struct curl_api *api, struct strbuf *sb, const char *key, const char *val)
{
	char *e = api->easy_escape(h, val, 0);
	strbuf_addf(sb, "%s%s=%s", sb->len ? "&" : "", key, e ? e : "");
	api->free(e);
}

static size_t token_write(char *buf, size_t size, size_t n, void *ud)
{
	struct strbuf *sb = ud;
	if (sb->len + size * n > (1u << 20))
		return 0;
	strbuf_add(sb, buf, size * n);
	return size * n;
}

/* Ask the realm for a token for scope (space-separated scopes allowed). */
static int fetch_token(struct registry_repo *rp, const struct registry_challenge *ch, const char *scope,
		       const struct registry_creds *cr, char **ret, struct skiff_err **err)
{
	struct curl_api *api = &rp->r->curl;
	CURL *h = api->easy_init();
	struct strbuf q = STRBUF_INIT, resp = STRBUF_INIT;
	struct curl_slist *hdrs = NULL;
	cleanup_free char *url = NULL, *basic = NULL;
	cleanup_strv struct strv scopes = STRV_INIT;
	cleanup_json struct json *j = NULL; /* declared before the first goto (clang) */
	int rc = -1;
	long status = 0;

	if (!h)
		return err_makex(err, ENOMEM, "curl_easy_init");
	if (ch->service)
		add_param(h, api, &q, "service", ch->service);
	strv_split(&scopes, scope, ' ');
	for (size_t i = 0; i < scopes.len; i++)
		if (*scopes.v[i])
			add_param(h, api, &q, "scope", scopes.v[i]);
	if (cr && cr->identity_token) {
		add_param(h, api, &q, "grant_type", "refresh_token");
		add_param(h, api, &q, "refresh_token", cr->identity_token);
		add_param(h, api, &q, "client_id", "skiff");
		url = xstrdup(ch->realm);
	} else {
		url = xasprintf("%s%s%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?", q.buf);
		if (cr && (cr->user || cr->pass))
			basic = basic_header(cr);
	}
	if (reg_setup_easy(rp, h, url, err) < 0)
		goto out;
	if (basic)
		hdrs = api->slist_append(hdrs, basic);
	if (cr && cr->identity_token) {
		api->easy_setopt(h, CURLOPT_POST, 1L);
		api->easy_setopt(h, CURLOPT_POSTFIELDS, q.buf);
		api->easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)q.len);
	}
	api->easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	api->easy_setopt(h, CURLOPT_WRITEFUNCTION, token_write);
	api->easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	CURLcode c = api->easy_perform(h);
	if (c != CURLE_OK) {
		err_makex(err, c == CURLE_WRITE_ERROR ? EFBIG : EIO, "get token from %s: %s", ch->realm,
			  c == CURLE_WRITE_ERROR ? "response too big" : api->easy_strerror(c));
		goto out;
	}
	api->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		cleanup_free char *txt = registry_error_text(resp.buf, resp.len);
		if (status == 401 || status == 403)
			err_makex(err, EACCES, "get token from %s: %s", ch->realm,
				  txt ? txt : "invalid username/password");
		else
			err_makex(err, EIO, "get token from %s: HTTP status %ld%s%s", ch->realm, status,
				  txt ? ": " : "", txt ? txt : "");
		goto out;
	}
	if (json_parse(resp.buf, resp.len, &j, err) < 0) {
		err_wrap(err, "token from %s", ch->realm);
		goto out;
	}
	const char *tok = json_object_get_string(j, "token");
	if (!tok || !*tok)
		tok = json_object_get_string(j, "access_token");
	if (!tok || !*tok) {
		err_makex(err, EINVAL, "token from %s: the response has no token", ch->realm);
		goto out;
	}
	for (const char *p = tok; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			err_makex(err, EINVAL, "token from %s: invalid character in token", ch->realm);
			goto out;
		}
	*ret = xasprintf("Authorization: Bearer %s", tok);
	rc = 0;
out:
	api->slist_free_all(hdrs);
	api->easy_cleanup(h);
	strbuf_release(&q);
	strbuf_release(&resp);
	return rc;
}

int reg_authorize_into(struct registry_repo *rp, const struct registry_challenge *ch, const char *scope, bool refresh,
		       char **ret_header, struct skiff_err **err)
{
	struct registry_creds cr = {0};
	int have;
	char *hdr = NULL;

	if (!strcmp(ch->scheme, "bearer") && !refresh && (hdr = token_cached(rp->r, rp->conn, scope))) {
		*ret_header = hdr;
		return 0;
	}
	have = get_creds(rp, &cr, err);
	if (have < 0)
		return -1;
	if (!strcmp(ch->scheme, "basic")) {
		if (have == 1) {
			registry_creds_release(&cr);
			return err_makex(err, EACCES, "authentication required for %s: no credentials (skiff login %s)",
					 rp->host, rp->host);
		}
		hdr = basic_header(&cr);
	} else {
		int rc = fetch_token(rp, ch, scope, have == 0 ? &cr : NULL, &hdr, err);
		if (rc < 0) {
			registry_creds_release(&cr);
			return -1;
		}
		token_store(rp->r, rp->conn, scope, hdr);
	}
	registry_creds_release(&cr);
	*ret_header = hdr;
	return 0;
}

int reg_authorize(struct registry_repo *rp, const struct registry_challenge *ch, const char *scope, bool refresh,
		  struct skiff_err **err)
{
	char *hdr;
	if (reg_authorize_into(rp, ch, scope, refresh, &hdr, err) < 0)
		return -1;
	free(rp->authz);
	rp->authz = hdr;
	return 0;
}
