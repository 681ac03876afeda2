/* The request engine: sessions, endpoints, TLS, pings, retries, and the small
 * requests (manifests, small blobs, HEAD checks, tags, login checks). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pkg/json/json.h"
#include "pkg/registry/internal.h"
#include "pkg/spec/image.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

#define RESP_DEFAULT_MAX (1u << 20)
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static const char MANIFEST_ACCEPT[] =
	"application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
	"application/vnd.docker.distribution.manifest.v2+json, "
	"application/vnd.docker.distribution.manifest.list.v2+json, "
	"application/vnd.docker.distribution.manifest.v1+prettyjws";

int registry_new(const struct registry_opts *o, struct registry **ret, struct skiff_err **err)
{
	struct registry *r = xcalloc(1, sizeof(*r));
	if (curl_api_load(&r->curl, err) < 0) {
		free(r);
		return -1;
	}
	r->tls_verify = o->tls_verify;
	r->cert_dir = o->cert_dir ? xstrdup(o->cert_dir) : NULL;
	r->rootless = o->rootless;
	r->creds = o->creds;
	r->creds_ud = o->creds_ud;
	if (o->fixed_creds) {
		r->have_fixed = true;
		r->fixed.user = o->fixed_creds->user ? xstrdup(o->fixed_creds->user) : NULL;
		r->fixed.pass = o->fixed_creds->pass ? xstrdup(o->fixed_creds->pass) : NULL;
		r->fixed.identity_token =
			o->fixed_creds->identity_token ? xstrdup(o->fixed_creds->identity_token) : NULL;
	}
	r->retries = o->retries; /* --retry 0: no retries (the CLI's default is 3) */
	r->retry_delay_ms = o->retry_delay_ms ? o->retry_delay_ms : 1000;
	pthread_mutex_init(&r->mu, NULL);
	*ret = r;
	return 0;
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nhosts; i++) {
		free(r->hosts[i].conn);
		registry_challenge_release(&r->hosts[i].ch);
	}
	free(r->hosts);
	for (size_t i = 0; i < r->ntokens; i++) {
		free(r->tokens[i].conn);
		free(r->tokens[i].scope);
		free(r->tokens[i].header);
	}
	free(r->tokens);
	registry_creds_release(&r->fixed);
	free(r->cert_dir);
	pthread_mutex_destroy(&r->mu);
	curl_api_unload(&r->curl);
	free(r);
}

int registry_repo_open(struct registry *r, const struct registry_endpoint *ep, const char *path,
		       enum registry_access access, struct registry_repo **ret, struct skiff_err **err)
{
	const char *conn = ep->location && *ep->location ? ep->location : ep->host;
	if (!strcmp(conn, "docker.io"))
		conn = "registry-1.docker.io";
	if (!*conn || strchr(conn, '/') || strpbrk(conn, " \t\r\n?#@\\"))
		return err_makex(err, EINVAL, "invalid registry address \"%s\"", conn);
	struct registry_repo *rp = xcalloc(1, sizeof(*rp));
	rp->r = r;
	rp->host = xstrdup(ep->host);
	rp->conn = xstrdup(conn);
	rp->path = xstrdup(path);
	rp->name = xasprintf("%s/%s", ep->host, path);
	rp->scope = *path ? xasprintf("repository:%s:%s", path, access & REGISTRY_PUSH ? "pull,push" : "pull")
			  : xstrdup("");
	rp->insecure = ep->insecure;
	strbuf_init(&rp->ca, 0);
	*ret = rp;
	return 0;
}

void registry_repo_free(struct registry_repo *rp)
{
	if (!rp)
		return;
	if (rp->h)
		rp->r->curl.easy_cleanup(rp->h);
	free(rp->host);
	free(rp->conn);
	free(rp->path);
	free(rp->name);
	free(rp->scope);
	free(rp->authz);
	free(rp->client_cert);
	free(rp->client_key);
	strbuf_release(&rp->ca);
	free(rp);
}

const char *registry_repo_name(const struct registry_repo *rp)
{
	return rp->name;
}

void reg_req_reset_response(struct reg_req *q)
{
	q->status = 0;
	if (!q->resp.buf)
		strbuf_init(&q->resp, 0);
	strbuf_reset(&q->resp);
	q->resp_too_big = false;
	free(q->r_type);
	free(q->r_digest);
	free(q->r_location);
	free(q->r_auth);
	free(q->r_range);
	q->r_type = q->r_digest = q->r_location = q->r_auth = q->r_range = NULL;
	q->r_retry_after = -1;
	q->r_length = -1;
}

void reg_req_release(struct reg_req *q)
{
	reg_req_reset_response(q);
	strbuf_release(&q->resp);
	free(q->url);
	q->url = NULL;
	err_clear(&q->body_err);
}

char *reg_url(const struct registry_repo *rp, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	strbuf_addf(&sb, "%s://%s/v2/", rp->scheme ? rp->scheme : "https", rp->conn);
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return strbuf_detach(&sb, NULL);
}

/* ---- TLS material: certs.d ---- */

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

static void load_cert_dir(struct registry_repo *rp, const char *dir, bool *have_ca)
{
	cleanup_dir DIR *d = opendir(dir);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d))) {
		cleanup_free char *p = xasprintf("%s/%s", dir, e->d_name);
		if (has_suffix(e->d_name, ".crt")) {
			char *buf;
			size_t len;
			if (read_file_at(AT_FDCWD, p, 1u << 20, &buf, &len, NULL) < 0)
				continue;
			if (!*have_ca) {
				char *sys;
				size_t slen;
				if (read_file_at(AT_FDCWD, SYSTEM_CA_BUNDLE, 16u << 20, &sys, &slen, NULL) == 0) {
					strbuf_add(&rp->ca, sys, slen);
					strbuf_addch(&rp->ca, '\n');
					free(sys);
				}
				*have_ca = true;
			}
			strbuf_add(&rp->ca, buf, len);
			strbuf_addch(&rp->ca, '\n');
			free(buf);
		} else if (has_suffix(e->d_name, ".cert") && !rp->client_cert) {
			cleanup_free char *key = xasprintf("%.*s.key", (int)(strlen(p) - 5), p);
			if (access(key, R_OK) == 0) {
				rp->client_cert = xstrdup(p);
				rp->client_key = TAKE_PTR(key);
			}
		}
	}
}

static void load_certs(struct registry_repo *rp)
{
	bool have_ca = false;
	if (rp->certs_loaded)
		return;
	rp->certs_loaded = true;
	if (rp->r->cert_dir) {
		load_cert_dir(rp, rp->r->cert_dir, &have_ca);
		return;
	}
	if (rp->r->rootless) {
		const char *x = getenv("XDG_CONFIG_HOME");
		const char *home = getenv("HOME");
		cleanup_free char *d = x && *x	       ? xasprintf("%s/containers/certs.d/%s", x, rp->conn)
				       : home && *home ? xasprintf("%s/.config/containers/certs.d/%s", home, rp->conn)
						       : NULL;
		if (d)
			load_cert_dir(rp, d, &have_ca);
	}
	cleanup_free char *etc = xasprintf("/etc/containers/certs.d/%s", rp->conn);
	load_cert_dir(rp, etc, &have_ca);
	cleanup_free char *docker = xasprintf("/etc/docker/certs.d/%s", rp->conn);
	load_cert_dir(rp, docker, &have_ca);
}

int reg_setup_easy(struct registry_repo *rp, CURL *h, const char *url, struct skiff_err **err)
{
	struct curl_api *c = &rp->r->curl;
	bool verify = rp->r->tls_verify != 0 && !rp->insecure;

	if (c->easy_setopt(h, CURLOPT_URL, url) != CURLE_OK)
		return err_makex(err, EINVAL, "invalid URL %s", url);
	c->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	c->easy_setopt(h, CURLOPT_USERAGENT, "skiff/" SKIFF_VERSION);
	c->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	c->easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	c->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	c->easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	c->easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a transfer slower than 1 kB/s for 30 s is dead */
	c->easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	c->easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
	c->easy_setopt(h, CURLOPT_ACCEPT_ENCODING, NULL);
	c->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
	c->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
	load_certs(rp);
	if (rp->ca.len) {
		struct curl_blob b = {rp->ca.buf, rp->ca.len, CURL_BLOB_NOCOPY};
		c->easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
	}
	if (rp->client_cert) {
		c->easy_setopt(h, CURLOPT_SSLCERT, rp->client_cert);
		c->easy_setopt(h, CURLOPT_SSLKEY, rp->client_key);
	}
	return 0;
}

/* ---- responses ---- */

static char *header_value(const char *buf, size_t len, const char *name)
{
	size_t n = strlen(name);
	if (len <= n + 1 || strncasecmp(buf, name, n) != 0 || buf[n] != ':')
		return NULL;
	const char *v = buf + n + 1, *end = buf + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return xstrndup(v, (size_t)(end - v));
}

static void take_header(char **slot, char *v)
{
	if (!v)
		return;
	free(*slot);
	*slot = v;
}

size_t reg_header_cb(char *buf, size_t size, size_t n, void *ud)
{
	struct reg_req *q = ud;
	size_t len = size * n;
	if (len >= 5 && !strncmp(buf, "HTTP/", 5)) {
		/* a new response (after a redirect or 100-continue): forget the last one's */
		reg_req_reset_response(q);
		return len;
	}
	take_header(&q->r_type, header_value(buf, len, "Content-Type"));
	take_header(&q->r_digest, header_value(buf, len, "Docker-Content-Digest"));
	take_header(&q->r_location, header_value(buf, len, "Location"));
	take_header(&q->r_range, header_value(buf, len, "Range"));
	char *v = header_value(buf, len, "WWW-Authenticate");
	if (v && !q->r_auth)
		q->r_auth = v;
	else
		free(v);
	if ((v = header_value(buf, len, "Retry-After"))) {
		char *end;
		long s = strtol(v, &end, 10);
		q->r_retry_after = (*v && !*end && s >= 0) ? s : -1;
		free(v);
	}
	if ((v = header_value(buf, len, "Content-Length"))) {
		char *end;
		long long s = strtoll(v, &end, 10);
		q->r_length = (*v && !*end && s >= 0) ? s : -1;
		free(v);
	}
	return len;
}

static size_t body_write(char *buf, size_t size, size_t n, void *ud)
{
	struct reg_req *q = ud;
	size_t len = size * n, max = q->max_resp ? q->max_resp : RESP_DEFAULT_MAX;
	if (q->resp.len + len > max) {
		q->resp_too_big = true;
		return 0;
	}
	strbuf_add(&q->resp, buf, len);
	return len;
}

struct mem_body {
	const char *p;
	size_t left;
};

static size_t mem_read(char *buf, size_t size, size_t n, void *ud)
{
	struct mem_body *m = ud;
	size_t k = size * n < m->left ? size * n : m->left;
	memcpy(buf, m->p, k);
	m->p += k;
	m->left -= k;
	return k;
}

static size_t stream_read(char *buf, size_t size, size_t n, void *ud)
{
	struct reg_req *q = ud;
	long k = q->body_read(q->body_ud, buf, size * n);
	if (k < 0) {
		if (!q->body_err)
			err_make(&q->body_err, errno ? errno : EIO, "read upload");
		return CURL_READFUNC_ABORT;
	}
	return (size_t)k;
}

bool reg_transient_curl(CURLcode c)
{
	switch (c) {
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

bool reg_transient_status(long st)
{
	return st == 408 || st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

void reg_backoff(const struct registry *r, unsigned attempt, long retry_after)
{
	uint64_t ms = (uint64_t)r->retry_delay_ms << (attempt < 5 ? attempt : 5);
	if (retry_after >= 0)
		ms = (uint64_t)(retry_after < 30 ? retry_after : 30) * 1000;
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int reg_http_error(const struct reg_req *q, const char *what, struct skiff_err **err)
{
	cleanup_free char *txt = registry_error_text(q->resp.buf, q->resp.len);
	int e;
	const char *dflt;
	switch (q->status) {
	case 401:
		e = EACCES;
		dflt = "authentication required";
		break;
	case 403:
		e = EACCES;
		dflt = "requested access to the resource is denied";
		break;
	case 404:
		e = ENOENT;
		dflt = "not found";
		break;
	case 429:
		e = EAGAIN;
		dflt = "too many requests";
		break;
	default:
		e = EIO;
		dflt = NULL;
	}
	if (!what)
		return txt    ? err_makex(err, e, "%s", txt)
		       : dflt ? err_makex(err, e, "%s", dflt)
			      : err_makex(err, e, "unexpected HTTP status %ld", q->status);
	if (txt)
		return err_makex(err, e, "%s: %s", what, txt);
	if (dflt)
		return err_makex(err, e, "%s: %s", what, dflt);
	return err_makex(err, e, "%s: unexpected HTTP status %ld", what, q->status);
}

static bool is_loopback(const char *conn)
{
	return !strncmp(conn, "localhost", 9) ? (conn[9] == '\0' || conn[9] == ':')
	       : !strncmp(conn, "127.", 4)    ? true
					      : !strncmp(conn, "[::1]", 5);
}

/* One attempt of q on h, without auth or retries. */
static CURLcode perform(struct registry_repo *rp, CURL *h, struct reg_req *q, struct skiff_err **err)
{
	struct curl_api *c = &rp->r->curl;
	struct curl_slist *hdrs = NULL;
	struct mem_body mb = {q->body, q->body_len};
	cleanup_free char *accept = q->accept ? xasprintf("Accept: %s", q->accept) : NULL;
	cleanup_free char *ctype = q->content_type ? xasprintf("Content-Type: %s", q->content_type) : NULL;

	c->easy_reset(h);
	reg_req_reset_response(q);
	if (reg_setup_easy(rp, h, q->url, err) < 0)
		return CURLE_URL_MALFORMAT;
	if (q->no_redirect)
		c->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (rp->authz)
		hdrs = c->slist_append(hdrs, rp->authz);
	if (accept)
		hdrs = c->slist_append(hdrs, accept);
	if (ctype)
		hdrs = c->slist_append(hdrs, ctype);
	hdrs = c->slist_append(hdrs, "Expect:");
	c->easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	c->easy_setopt(h, CURLOPT_HEADERFUNCTION, reg_header_cb);
	c->easy_setopt(h, CURLOPT_HEADERDATA, q);
	c->easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
	c->easy_setopt(h, CURLOPT_WRITEDATA, q);
	if (!strcmp(q->method, "HEAD")) {
		c->easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(q->method, "GET") != 0) {
		c->easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
		if (q->body_read) {
			c->easy_setopt(h, CURLOPT_UPLOAD, 1L);
			/* big reads: fewer callbacks and sends for a layer */
			c->easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
			c->easy_setopt(h, CURLOPT_READFUNCTION, stream_read);
			c->easy_setopt(h, CURLOPT_READDATA, q);
		} else {
			c->easy_setopt(h, CURLOPT_UPLOAD, 1L);
			c->easy_setopt(h, CURLOPT_READFUNCTION, mem_read);
			c->easy_setopt(h, CURLOPT_READDATA, &mb);
			c->easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->body_len);
		}
	}
	CURLcode rc = c->easy_perform(h);
	c->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &q->status);
	c->slist_free_all(hdrs);
	if (rc != CURLE_OK)
		q->status = 0;
	return rc;
}

static int curl_error(struct registry_repo *rp, struct reg_req *q, CURLcode rc, struct skiff_err **err)
{
	if (q->body_err) {
		*err = q->body_err;
		q->body_err = NULL;
		return -1;
	}
	if (q->resp_too_big)
		return err_makex(err, EFBIG, "%s %s: response bigger than %zu bytes", q->method, q->url,
				 q->max_resp ? q->max_resp : RESP_DEFAULT_MAX);
	int e = rc == CURLE_COULDNT_CONNECT	   ? ECONNREFUSED
		: rc == CURLE_OPERATION_TIMEDOUT   ? ETIMEDOUT
		: rc == CURLE_COULDNT_RESOLVE_HOST ? ENXIO
						   : EIO;
	return err_makex(err, e, "%s %s: %s", q->method, q->url, rp->r->curl.easy_strerror(rc));
}

static int host_get(struct registry *r, const char *conn, struct reg_host *ret)
{
	int found = 0;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->nhosts; i++)
		if (!strcmp(r->hosts[i].conn, conn) && r->hosts[i].pinged) {
			ret->scheme = r->hosts[i].scheme;
			ret->pinged = true;
			struct registry_challenge *c = &r->hosts[i].ch;
			ret->ch.scheme = c->scheme ? xstrdup(c->scheme) : NULL;
			ret->ch.realm = c->realm ? xstrdup(c->realm) : NULL;
			ret->ch.service = c->service ? xstrdup(c->service) : NULL;
			found = 1;
			break;
		}
	pthread_mutex_unlock(&r->mu);
	return found;
}

static void host_put(struct registry *r, const char *conn, const char *scheme, const struct registry_challenge *ch)
{
	pthread_mutex_lock(&r->mu);
	ALLOC_GROW(r->hosts, r->nhosts + 1, r->ahosts);
	struct reg_host *h = &r->hosts[r->nhosts++];
	memset(h, 0, sizeof(*h));
	h->conn = xstrdup(conn);
	h->scheme = scheme;
	h->pinged = true;
	h->ch.scheme = ch->scheme ? xstrdup(ch->scheme) : NULL;
	h->ch.realm = ch->realm ? xstrdup(ch->realm) : NULL;
	h->ch.service = ch->service ? xstrdup(ch->service) : NULL;
	pthread_mutex_unlock(&r->mu);
}

/* GET /v2/ over https, then http where allowed: learn the scheme and the challenge. */
static int ping(struct registry_repo *rp, struct reg_host *hs, struct skiff_err **err)
{
	bool http_ok = rp->insecure || rp->r->tls_verify == 0 || is_loopback(rp->conn);
	/* Loopback registries are usually plain HTTP: asking HTTPS first would load the
	 * system CA bundle (15 ms) for nothing. Elsewhere HTTPS comes first. */
	static const char *const https_first[] = {"https", "http"}, *const http_first[] = {"http", "https"};
	const char *const *schemes = is_loopback(rp->conn) ? http_first : https_first;
	cleanup_err struct skiff_err *first = NULL;

	for (size_t i = 0; i < (http_ok ? 2u : 1u); i++) {
		struct reg_req q = {.method = "GET", .url = xasprintf("%s://%s/v2/", schemes[i], rp->conn)};
		CURLcode rc = CURLE_OK;
		for (unsigned attempt = 0;; attempt++) {
			rc = perform(rp, rp->h, &q, err);
			if (rc == CURLE_URL_MALFORMAT && *err) {
				reg_req_release(&q);
				return -1;
			}
			if (rc == CURLE_OK && reg_transient_status(q.status) && attempt < rp->r->retries) {
				reg_backoff(rp->r, attempt, q.r_retry_after);
				continue;
			}
			if (rc != CURLE_OK && reg_transient_curl(rc) && attempt < rp->r->retries) {
				reg_backoff(rp->r, attempt, -1);
				continue;
			}
			break;
		}
		if (rc != CURLE_OK) {
			struct skiff_err *e = NULL;
			curl_error(rp, &q, rc, &e);
			reg_req_release(&q);
			if (!first || err_status(first) == EPROTO) {
				err_free(first);
				first = e;
			} else {
				err_free(e);
			}
			/* a TLS server whose certificate fails is not a plain-HTTP one */
			if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
			    rc == CURLE_SSL_CERTPROBLEM)
				break;
			continue;
		}
		if (q.status == 200 || q.status == 401) {
			struct registry_challenge ch = {0};
			if (q.status == 401 && q.r_auth && registry_challenge_parse(q.r_auth, &ch, err) < 0) {
				reg_req_release(&q);
				return err_wrap(err, "pinging container registry %s", rp->conn);
			}
			if (q.status == 401 && !q.r_auth) {
				reg_req_release(&q);
				return err_makex(
					err, EACCES,
					"pinging container registry %s: 401 without a WWW-Authenticate challenge",
					rp->conn);
			}
			host_put(rp->r, rp->conn, schemes[i], &ch);
			hs->scheme = schemes[i];
			hs->pinged = true;
			hs->ch = ch;
			reg_req_release(&q);
			return 0;
		}
		if (!strcmp(schemes[i], "http") && q.status == 400 && http_ok) {
			/* plain HTTP to a TLS port: the HTTPS attempt says more */
			if (!first)
				err_makex(&first, EPROTO, "GET %s: HTTP status 400: the registry speaks HTTPS", q.url);
			reg_req_release(&q);
			continue;
		}
		cleanup_free char *what = xasprintf("pinging container registry %s", rp->conn);
		reg_http_error(&q, what, err);
		reg_req_release(&q);
		return -1;
	}
	*err = TAKE_PTR(first);
	if (err_status(*err) == EIO && strstr((*err)->msg, "certificate"))
		err_wrap(err, "(--cert-dir, certs.d or --tls-verify=false)");
	return err_wrap(err, "pinging container registry %s", rp->conn);
}

int reg_ready(struct registry_repo *rp, struct skiff_err **err)
{
	struct reg_host hs = {0};
	int rc = 0;

	if (rp->ready)
		return 0;
	if (!rp->h && !(rp->h = rp->r->curl.easy_init()))
		return err_makex(err, ENOMEM, "curl_easy_init");
	if (!host_get(rp->r, rp->conn, &hs) && ping(rp, &hs, err) < 0)
		return -1;
	rp->scheme = hs.scheme;
	if (hs.ch.scheme && *rp->scope) {
		struct registry_creds probe = {0};
		bool basic_without = false;
		if (!strcmp(hs.ch.scheme, "basic") && !rp->r->have_fixed) {
			struct skiff_err *e = NULL;
			int have = rp->r->creds ? rp->r->creds(rp->r->creds_ud, rp->host, rp->path, &probe, &e) : 1;
			err_free(e);
			basic_without = have != 0;
			registry_creds_release(&probe);
		}
		/* Basic without credentials: a 401 on the first request says so. */
		if (!basic_without)
			rc = reg_authorize(rp, &hs.ch, rp->scope, false, err);
	}
	registry_challenge_release(&hs.ch);
	if (rc < 0)
		return -1;
	rp->ready = true;
	return 0;
}

int reg_reauth(struct registry_repo *rp, const char *hdr, const char *extra_scope, struct skiff_err **err)
{
	struct registry_challenge ch = {0};
	if (registry_challenge_parse(hdr, &ch, err) < 0)
		return -1;
	cleanup_free char *scope = NULL;
	if (ch.scope && strcmp(ch.scope, rp->scope) != 0)
		scope = xasprintf("%s %s", rp->scope, ch.scope);
	else if (extra_scope)
		scope = xasprintf("%s %s", rp->scope, extra_scope);
	else
		scope = xstrdup(rp->scope);
	int rc = reg_authorize(rp, &ch, scope, true, err);
	registry_challenge_release(&ch);
	return rc;
}

int reg_do(struct registry_repo *rp, struct reg_req *q, struct skiff_err **err)
{
	bool reauthed = false;
	if (reg_ready(rp, err) < 0)
		return -1;
	for (unsigned attempt = 0;; attempt++) {
		CURLcode rc = perform(rp, rp->h, q, err);
		bool replay = !q->body_read;
		if (rc != CURLE_OK) {
			if (rc == CURLE_URL_MALFORMAT && *err)
				return -1;
			if (replay && !q->resp_too_big && reg_transient_curl(rc) && attempt < rp->r->retries) {
				reg_backoff(rp->r, attempt, -1);
				continue;
			}
			return curl_error(rp, q, rc, err);
		}
		if (q->status == 401 && !reauthed && q->r_auth && replay) {
			reauthed = true;
			if (reg_reauth(rp, q->r_auth, NULL, err) < 0)
				return -1;
			continue;
		}
		if (reg_transient_status(q->status) && replay && attempt < rp->r->retries) {
			reg_backoff(rp->r, attempt, q->r_retry_after);
			continue;
		}
		return 0;
	}
}

/* ---- manifests ---- */

void registry_manifest_release(struct registry_manifest *m)
{
	free(m->data);
	free(m->media_type);
	memset(m, 0, sizeof(*m));
}

static bool is_digest_ref(const char *ref)
{
	return strchr(ref, ':') != NULL;
}

static int check_ref(const char *ref, struct skiff_err **err)
{
	if (is_digest_ref(ref))
		return digest_check(ref, err);
	for (const char *p = ref; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-'))
			return err_makex(err, EINVAL, "invalid tag \"%s\"", ref);
	if (!*ref || strlen(ref) > 128)
		return err_makex(err, EINVAL, "invalid tag \"%s\"", ref);
	return 0;
}

int registry_manifest_get(struct registry_repo *rp, const char *ref, struct registry_manifest *ret,
			  struct skiff_err **err)
{
	struct reg_req q = {.method = "GET", .accept = MANIFEST_ACCEPT, .max_resp = REGISTRY_MANIFEST_MAX};
	cleanup_free char *what = xasprintf("reading manifest %s in %s", ref, rp->name);
	struct registry_manifest m = {0};
	const char *mt = NULL;
	int rc = -1;

	if (check_ref(ref, err) < 0)
		return err_wrap(err, "%s", what);
	if (reg_ready(rp, err) < 0)
		return err_wrap(err, "%s", what);
	q.url = reg_url(rp, "%s/manifests/%s", rp->path, ref);
	if (reg_do(rp, &q, err) < 0) {
		if (q.resp_too_big) {
			err_clear(err);
			err_makex(err, EFBIG, "manifest is bigger than %u bytes", REGISTRY_MANIFEST_MAX);
		}
		goto out;
	}
	if (q.status != 200) {
		reg_http_error(&q, NULL, err);
		goto out;
	}
	digest_buf(q.resp.buf, q.resp.len, m.digest);
	if (is_digest_ref(ref) && strcmp(ref, m.digest) != 0) {
		err_makex(err, EINVAL, "manifest digest mismatch: asked for %s, the registry sent %s", ref, m.digest);
		goto out;
	}
	struct skiff_err *e = NULL;
	if (spec_detect_media_type(q.resp.buf, q.resp.len, &mt, &e) < 0 || !mt) {
		err_free(e);
		mt = NULL;
	}
	if (!mt && q.r_type) {
		char *semi = strchr(q.r_type, ';');
		if (semi)
			*semi = '\0';
		mt = q.r_type;
	}
	if (!mt || !*mt) {
		err_makex(err, EINVAL, "manifest has no media type");
		goto out;
	}
	if (!strncmp(mt, "application/vnd.docker.distribution.manifest.v1", 48)) {
		err_makex(err, ENOTSUP, "Docker schema 1 manifests are not supported (%s)", mt);
		goto out;
	}
	if (!spec_media_type_is_manifest(mt) && !spec_media_type_is_index(mt)) {
		err_makex(err, ENOTSUP, "unsupported manifest media type \"%.100s\"", mt);
		goto out;
	}
	m.media_type = xstrdup(mt);
	m.data = strbuf_detach(&q.resp, &m.len);
	*ret = m;
	rc = 0;
out:
	reg_req_release(&q);
	if (rc < 0)
		err_wrap(err, "%s", what);
	return rc;
}

int registry_manifest_head(struct registry_repo *rp, const char *ref, char ret_digest[DIGEST_STR_LEN + 1],
			   struct skiff_err **err)
{
	struct reg_req q = {.method = "HEAD", .accept = MANIFEST_ACCEPT};
	int rc = -1;
	if (check_ref(ref, err) < 0 || reg_ready(rp, err) < 0)
		return err_wrap(err, "checking manifest %s in %s", ref, rp->name);
	q.url = reg_url(rp, "%s/manifests/%s", rp->path, ref);
	if (reg_do(rp, &q, err) < 0)
		goto out;
	if (q.status != 200) {
		reg_http_error(&q, NULL, err);
		goto out;
	}
	if (!q.r_digest || !digest_valid(q.r_digest)) {
		err_makex(err, EINVAL, "the registry sent no valid Docker-Content-Digest");
		goto out;
	}
	memcpy(ret_digest, q.r_digest, DIGEST_STR_LEN + 1);
	rc = 0;
out:
	reg_req_release(&q);
	if (rc < 0)
		err_wrap(err, "checking manifest %s in %s", ref, rp->name);
	return rc;
}

int registry_manifest_put(struct registry_repo *rp, const char *ref, const char *data, size_t len,
			  const char *media_type, struct skiff_err **err)
{
	struct reg_req q = {.method = "PUT", .content_type = media_type, .body = data, .body_len = len};
	int rc = -1;
	if (check_ref(ref, err) < 0 || reg_ready(rp, err) < 0)
		return err_wrap(err, "writing manifest %s to %s", ref, rp->name);
	q.url = reg_url(rp, "%s/manifests/%s", rp->path, ref);
	if (reg_do(rp, &q, err) < 0)
		goto out;
	if (q.status != 201 && q.status != 200) {
		reg_http_error(&q, NULL, err);
		goto out;
	}
	rc = 0;
out:
	reg_req_release(&q);
	if (rc < 0)
		err_wrap(err, "writing manifest %s to %s", ref, rp->name);
	return rc;
}

/* ---- small blobs ---- */

int registry_blob_get(struct registry_repo *rp, const char *digest, size_t max, char **ret, size_t *ret_len,
		      struct skiff_err **err)
{
	struct reg_req q = {.method = "GET", .max_resp = max};
	char got[DIGEST_STR_LEN + 1];
	int rc = -1;
	if (digest_check(digest, err) < 0 || reg_ready(rp, err) < 0)
		return err_wrap(err, "fetching blob %s", digest);
	q.url = reg_url(rp, "%s/blobs/%s", rp->path, digest);
	if (reg_do(rp, &q, err) < 0) {
		if (q.resp_too_big) {
			err_clear(err);
			err_makex(err, EFBIG, "blob is bigger than %zu bytes", max);
		}
		goto out;
	}
	if (q.status != 200) {
		reg_http_error(&q, NULL, err);
		goto out;
	}
	digest_buf(q.resp.buf, q.resp.len, got);
	if (strcmp(got, digest) != 0) {
		err_makex(err, EINVAL, "digest mismatch: the registry sent %s", got);
		goto out;
	}
	*ret = strbuf_detach(&q.resp, ret_len);
	rc = 0;
out:
	reg_req_release(&q);
	if (rc < 0)
		err_wrap(err, "fetching blob %s", digest);
	return rc;
}

int registry_blob_exists(struct registry_repo *rp, const char *digest, int64_t *ret_size, struct skiff_err **err)
{
	struct reg_req q = {.method = "HEAD"};
	int rc = -1;
	if (digest_check(digest, err) < 0 || reg_ready(rp, err) < 0)
		return err_wrap(err, "checking blob %s", digest);
	q.url = reg_url(rp, "%s/blobs/%s", rp->path, digest);
	if (reg_do(rp, &q, err) < 0)
		goto out;
	if (q.status == 200) {
		if (ret_size)
			*ret_size = q.r_length;
		rc = 1;
	} else if (q.status == 404) {
		rc = 0;
	} else {
		reg_http_error(&q, NULL, err);
	}
out:
	reg_req_release(&q);
	if (rc < 0)
		err_wrap(err, "checking blob %s in %s", digest, rp->name);
	return rc;
}

int registry_tags(struct registry_repo *rp, struct strv *ret, struct skiff_err **err)
{
	struct reg_req q = {.method = "GET", .max_resp = 16u << 20};
	cleanup_json struct json *j = NULL;
	int rc = -1;
	if (reg_ready(rp, err) < 0)
		return err_wrap(err, "listing tags of %s", rp->name);
	q.url = reg_url(rp, "%s/tags/list", rp->path);
	if (reg_do(rp, &q, err) < 0)
		goto out;
	if (q.status != 200) {
		reg_http_error(&q, NULL, err);
		goto out;
	}
	if (json_parse(q.resp.buf, q.resp.len, &j, err) < 0)
		goto out;
	struct json *tags = json_object_get(j, "tags");
	for (size_t i = 0; i < json_array_len(tags); i++)
		if (json_string(json_array_get(tags, i)))
			strv_push(ret, json_string(json_array_get(tags, i)));
	rc = 0;
out:
	reg_req_release(&q);
	if (rc < 0)
		err_wrap(err, "listing tags of %s", rp->name);
	return rc;
}

int registry_check_login(struct registry *r, const struct registry_endpoint *ep, struct skiff_err **err)
{
	struct registry_repo *rp;
	struct reg_host hs = {0};
	int rc = -1;
	if (registry_repo_open(r, ep, "", REGISTRY_PULL, &rp, err) < 0)
		return -1;
	if (!(rp->h = r->curl.easy_init())) {
		registry_repo_free(rp);
		return err_makex(err, ENOMEM, "curl_easy_init");
	}
	if (ping(rp, &hs, err) < 0)
		goto out;
	rp->scheme = hs.scheme;
	rp->ready = true;
	if (!hs.ch.scheme) {
		rc = 0; /* the registry asks for nothing */
		goto out;
	}
	if (reg_authorize(rp, &hs.ch, "", true, err) < 0)
		goto out;
	struct reg_req q = {.method = "GET", .url = reg_url(rp, "%s", "")};
	if (reg_do(rp, &q, err) == 0) {
		if (q.status == 200)
			rc = 0;
		else
			reg_http_error(&q, "login", err);
	}
	reg_req_release(&q);
out:
	registry_challenge_release(&hs.ch);
	registry_repo_free(rp);
	return rc < 0 ? err_wrap(err, "logging in to %s", ep->host) : 0;
}

int registry_repo_connect(struct registry_repo *rp, struct skiff_err **err)
{
	return reg_ready(rp, err);
}

void reg_host_challenge(struct registry_repo *rp, struct registry_challenge *ret)
{
	struct reg_host hs = {0};
	memset(ret, 0, sizeof(*ret));
	if (host_get(rp->r, rp->conn, &hs))
		*ret = hs.ch;
}

void registry_search_results_free(struct registry_search_result *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].description);
	}
	free(v);
}

/* Docker Hub's v1 search API: 1 when the registry has none (404), 0 with results. */
static int search_v1(struct registry_repo *rp, const char *term, unsigned limit, struct registry_search_result **ret,
		     size_t *ret_n, struct skiff_err **err)
{
	struct reg_req q = {.method = "GET", .max_resp = 16u << 20};
	char *e = rp->r->curl.easy_escape(rp->h, term, 0);
	q.url = xasprintf("%s://%s/v1/search?q=%s&n=%u", rp->scheme, rp->conn, e ? e : "", limit);
	rp->r->curl.free(e);
	cleanup_json struct json *j = NULL;
	int rc = -1;
	if (reg_do(rp, &q, err) < 0)
		goto out;
	if (q.status != 200) {
		rc = 1;
		goto out;
	}
	if (json_parse(q.resp.buf, q.resp.len, &j, NULL) < 0) {
		rc = 1;
		goto out;
	}
	struct json *res = json_object_get(j, "results");
	size_t n = json_array_len(res), k = 0;
	struct registry_search_result *v = xcalloc(n ? n : 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		struct json *it = json_array_get(res, i);
		const char *name = json_object_get_string(it, "name");
		if (!name)
			continue;
		v[k].name = xstrdup(name);
		v[k].description = xstrdup(json_object_get_string(it, "description") ?: "");
		struct json *st = json_object_get(it, "star_count");
		v[k].stars =
			json_is(st, JSON_NUMBER) && st->u.num.is_int && st->u.num.i > 0 ? (unsigned)st->u.num.i : 0;
		struct json *off = json_object_get(it, "is_official"), *aut = json_object_get(it, "is_automated");
		v[k].official = json_is(off, JSON_BOOL) && off->u.b;
		v[k].automated = json_is(aut, JSON_BOOL) && aut->u.b;
		k++;
	}
	*ret = v;
	*ret_n = k;
	rc = 0;
out:
	reg_req_release(&q);
	return rc;
}

int registry_search(struct registry *r, const struct registry_endpoint *ep, const char *term, unsigned limit,
		    struct registry_search_result **ret, size_t *ret_n, struct skiff_err **err)
{
	struct registry_repo *rp = NULL;
	struct reg_req q = {.method = "GET", .max_resp = 64u << 20};
	cleanup_json struct json *j = NULL;
	struct registry_search_result *v = NULL;
	size_t k = 0, alloc = 0;
	char *last = NULL;
	int rc = -1;

	if (registry_repo_open(r, ep, "", REGISTRY_PULL, &rp, err) < 0)
		return -1;
	if (reg_ready(rp, err) < 0)
		goto out;
	rc = search_v1(rp, term, limit, ret, ret_n, err);
	if (rc <= 0)
		goto out;
	/* no v1 search: the v2 catalog (pages of 1000, the registry's usual maximum),
	 * filtered by the term */
	rc = -1;
	for (unsigned page = 0; page < 100; page++) {
		char *el = last ? rp->r->curl.easy_escape(rp->h, last, 0) : NULL;
		free(q.url);
		q.url = reg_url(rp, "_catalog?n=1000%s%s", el ? "&last=" : "", el ? el : "");
		rp->r->curl.free(el);
		json_free(j);
		j = NULL;
		if (reg_do(rp, &q, err) < 0)
			break;
		if (q.status != 200) {
			reg_http_error(&q, "catalog", err);
			break;
		}
		if (json_parse(q.resp.buf, q.resp.len, &j, err) < 0)
			break;
		struct json *repos = json_object_get(j, "repositories");
		size_t n = json_array_len(repos);
		for (size_t i = 0; i < n && (!limit || k < limit); i++) {
			const char *name = json_string(json_array_get(repos, i));
			if (!name || (*term && !strstr(name, term)))
				continue;
			ALLOC_GROW(v, k + 1, alloc);
			v[k].name = xstrdup(name);
			v[k].description = xstrdup("");
			v[k].stars = 0;
			v[k].official = v[k].automated = false;
			k++;
		}
		if (n < 1000 || (limit && k >= limit)) {
			rc = 0;
			break;
		}
		free(last);
		last = xstrdup(json_string(json_array_get(repos, n - 1)) ?: "");
	}
	if (rc < 0) {
		registry_search_results_free(v, k);
		goto out;
	}
	if (!v)
		v = xcalloc(1, sizeof(*v));
	*ret = v;
	*ret_n = k;
	rc = 0;
out:
	free(last);
	reg_req_release(&q);
	registry_repo_free(rp);
	if (rc < 0)
		err_wrap(err, "searching %s", ep->host);
	return rc;
}

int registry_get_url(struct registry *r, const char *url, size_t max, char **ret, size_t *ret_len,
		     struct skiff_err **err)
{
	struct registry_endpoint ep = {.host = "lookaside"};
	struct registry_repo *rp = NULL;
	struct reg_req q = {.method = "GET", .max_resp = max};
	int rc = -1;
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return err_makex(err, EINVAL, "not an http(s) URL: %s", url);
	if (registry_repo_open(r, &ep, "", REGISTRY_PULL, &rp, err) < 0)
		return -1;
	if (!(rp->h = r->curl.easy_init())) {
		registry_repo_free(rp);
		return err_makex(err, ENOMEM, "curl_easy_init");
	}
	rp->ready = true; /* no ping, no auth: a plain web server */
	q.url = xstrdup(url);
	if (reg_do(rp, &q, err) < 0) {
		if (q.resp_too_big) {
			err_clear(err);
			err_makex(err, EFBIG, "%s is bigger than %zu bytes", url, max);
		}
		goto out;
	}
	if (q.status == 404) {
		rc = 1;
		goto out;
	}
	if (q.status != 200) {
		reg_http_error(&q, url, err);
		goto out;
	}
	*ret = strbuf_detach(&q.resp, ret_len);
	rc = 0;
out:
	reg_req_release(&q);
	registry_repo_free(rp);
	return rc;
}
