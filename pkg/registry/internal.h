/* Internals shared by the files of pkg/registry. */
#ifndef SKIFF_REGISTRY_INTERNAL_H
#define SKIFF_REGISTRY_INTERNAL_H

#include <pthread.h>

#include "pkg/registry/curl.h"
#include "pkg/registry/registry.h"
#include "vendor-free/strbuf.h"

/* What skiff knows of one registry host (by connect address). */
struct reg_host {
	char *conn;	    /* host[:port] connected to */
	const char *scheme; /* "https", "http", or NULL until pinged */
	bool pinged;
	struct registry_challenge ch; /* scheme NULL: no auth asked */
};

struct reg_token {
	char *conn, *scope;
	char *header; /* "Authorization: Bearer ..." */
};

struct registry {
	struct curl_api curl;
	int tls_verify;
	char *cert_dir;
	bool rootless;
	registry_cred_fn creds;
	void *creds_ud;
	struct registry_creds fixed;
	bool have_fixed;
	unsigned retries, retry_delay_ms;
	pthread_mutex_t mu; /* hosts and tokens */
	struct reg_host *hosts;
	size_t nhosts, ahosts;
	struct reg_token *tokens;
	size_t ntokens, atokens;
};

struct registry_repo {
	struct registry *r;
	char *host;	    /* named host: credentials */
	char *conn;	    /* host[:port] connected to */
	char *path;	    /* repository path at conn */
	char *name;	    /* host/path for messages */
	char *scope;	    /* "repository:PATH:pull[,push]" */
	const char *scheme; /* once ready */
	bool insecure;	    /* may use http / skip verification */
	bool ready;
	char *authz;	  /* header line, or NULL */
	CURL *h;	  /* for the synchronous requests */
	struct strbuf ca; /* PEM bundle when certs.d has CAs; empty otherwise */
	char *client_cert, *client_key;
	bool certs_loaded;
};

/* One HTTP exchange. */
struct reg_req {
	const char *method;	  /* GET HEAD PUT POST PATCH DELETE */
	char *url;		  /* absolute; owned */
	const char *accept;	  /* Accept header value, or NULL */
	const char *content_type; /* of the body */
	const void *body;	  /* PUT/POST/PATCH body in memory */
	size_t body_len;
	registry_read_fn body_read; /* or streamed (not retried) */
	void *body_ud;
	size_t max_resp; /* response bodies over this are cut and flagged (0: 1 MiB) */
	bool no_redirect;
	/* response */
	long status;
	struct strbuf resp;
	bool resp_too_big;
	char *r_type, *r_digest, *r_location, *r_auth, *r_range;
	long r_retry_after;	    /* seconds, -1 none */
	int64_t r_length;	    /* Content-Length, -1 none */
	struct skiff_err *body_err; /* from body_read */
};
void reg_req_release(struct reg_req *q);
void reg_req_reset_response(struct reg_req *q);

/* Run q on rp (ready, authenticated, retried); the status is the caller's to judge. */
int reg_do(struct registry_repo *rp, struct reg_req *q, struct skiff_err **err);
/* The error for an unexpected status: "what: message" with an errno fitting the status. */
int reg_http_error(const struct reg_req *q, const char *what, struct skiff_err **err);
/* "https://conn/v2/" + path + suffix (printf-style). */
char *reg_url(const struct registry_repo *rp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Set the options every request shares (TLS, timeouts, redirects) on h for rp. */
int reg_setup_easy(struct registry_repo *rp, CURL *h, const char *url, struct skiff_err **err);
/* The host's challenge (scheme NULL: none) once rp is ready; caller releases. */
void reg_host_challenge(struct registry_repo *rp, struct registry_challenge *ret);
/* Make rp ready (scheme known, authenticated for its scope). */
int reg_ready(struct registry_repo *rp, struct skiff_err **err);
/* After a 401 carrying challenge hdr: get a fresh authorization for rp (and the extra
 * scope, if any); 0 when a retry makes sense. */
int reg_reauth(struct registry_repo *rp, const char *hdr, const char *extra_scope, struct skiff_err **err);
/* Header-callback helper: capture the headers reg_req wants. */
size_t reg_header_cb(char *buf, size_t size, size_t n, void *ud);
/* Whether a curl result / HTTP status is worth retrying, and how long to wait. */
bool reg_transient_curl(CURLcode c);
bool reg_transient_status(long status);
void reg_backoff(const struct registry *r, unsigned attempt, long retry_after);

/* auth.c */
int reg_authorize_into(struct registry_repo *rp, const struct registry_challenge *ch, const char *scope, bool refresh,
		       char **ret_header, struct skiff_err **err);
int reg_authorize(struct registry_repo *rp, const struct registry_challenge *ch, const char *scope, bool refresh,
		  struct skiff_err **err);
char *reg_base64(const void *data, size_t len);

#endif
