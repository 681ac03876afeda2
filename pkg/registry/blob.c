/* Blobs as streams: a reader the store unpacks from while libcurl (multi interface,
 * driven from the reader's own thread) downloads, resuming with a Range request when a
 * connection breaks; and uploads (monolithic, streamed in a chunked PATCH, or mounted
 * from another repository). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/registry/internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

#define ERRBODY_MAX (64u << 10)

struct registry_blob_reader {
	struct registry_repo *rp;
	struct curl_api *api;
	char *digest, *url;
	int64_t size;
	char *authz;
	CURLM *m;
	CURL *h;
	struct curl_slist *hdrs;
	struct reg_req hq; /* the response's headers */
	bool running, finished;
	CURLcode result;
	long status;
	bool overflow;
	struct strbuf buf; /* received, not yet read */
	size_t off;
	uint64_t received; /* body bytes accepted (offset for a resume) */
	uint64_t skip;	   /* bytes to drop: the server ignored our Range */
	struct strbuf errbody;
	unsigned attempts;
	bool reauthed, eof;
	struct skiff_err *err;
	void (*progress)(void *ud, uint64_t done);
	void *progress_ud;
};

static size_t reader_write(char *data, size_t size, size_t n, void *ud)
{
	struct registry_blob_reader *br = ud;
	size_t len = size * n;
	long st = 0;
	br->api->easy_getinfo(br->h, CURLINFO_RESPONSE_CODE, &st);
	if (st != 200 && st != 206) {
		if (br->errbody.len + len <= ERRBODY_MAX)
			strbuf_add(&br->errbody, data, len);
		return len;
	}
	if (st == 206)
		br->skip = 0;
	if (st == 200 && br->skip) {
		size_t k = len < br->skip ? len : (size_t)br->skip;
		br->skip -= k;
		data += k;
		len -= k;
		if (!len)
			return size * n;
	}
	if (br->size >= 0 && br->received + len > (uint64_t)br->size) {
		br->overflow = true;
		return 0;
	}
	strbuf_add(&br->buf, data, len);
	br->received += len;
	return size * n;
}

static void stop_transfer(struct registry_blob_reader *br)
{
	if (br->h) {
		if (br->running)
			br->api->multi_remove_handle(br->m, br->h);
		br->api->easy_cleanup(br->h);
		br->h = NULL;
	}
	br->api->slist_free_all(br->hdrs);
	br->hdrs = NULL;
	br->running = br->finished = false;
}

static int start_transfer(struct registry_blob_reader *br)
{
	struct curl_api *c = br->api;
	stop_transfer(br);
	if (!(br->h = c->easy_init()))
		return err_makex(&br->err, ENOMEM, "curl_easy_init");
	if (reg_setup_easy(br->rp, br->h, br->url, &br->err) < 0)
		return -1;
	if (br->authz)
		br->hdrs = c->slist_append(br->hdrs, br->authz);
	c->easy_setopt(br->h, CURLOPT_HTTPHEADER, br->hdrs);
	c->easy_setopt(br->h, CURLOPT_HEADERFUNCTION, reg_header_cb);
	c->easy_setopt(br->h, CURLOPT_HEADERDATA, &br->hq);
	c->easy_setopt(br->h, CURLOPT_WRITEFUNCTION, reader_write);
	c->easy_setopt(br->h, CURLOPT_WRITEDATA, br);
	if (br->received)
		c->easy_setopt(br->h, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)br->received);
	br->skip = br->received;
	strbuf_reset(&br->errbody);
	br->overflow = false;
	CURLMcode mc = c->multi_add_handle(br->m, br->h);
	if (mc != CURLM_OK)
		return err_makex(&br->err, EIO, "curl_multi_add_handle: %s", c->multi_strerror(mc));
	br->running = true;
	return 0;
}

/* The transfer ended: done, retry (resume) or fail. */
static int transfer_done(struct registry_blob_reader *br)
{
	struct registry *r = br->rp->r;
	CURLcode rc = br->result;
	long st = 0;
	br->api->easy_getinfo(br->h, CURLINFO_RESPONSE_CODE, &st);
	br->status = st;
	if (rc == CURLE_OK && (st == 200 || st == 206)) {
		if (br->skip)
			return err_makex(&br->err, EIO, "the registry sent less than it had before");
		if (br->size < 0 || br->received == (uint64_t)br->size) {
			br->eof = true;
			stop_transfer(br);
			return 0;
		}
		rc = CURLE_PARTIAL_FILE; /* closed early without saying so */
	}
	if (br->overflow)
		return err_makex(&br->err, EFBIG, "the registry sent more than the %lld bytes the manifest declares",
				 (long long)br->size);
	if (rc == CURLE_OK && st == 401 && !br->reauthed && br->hq.r_auth) {
		struct registry_challenge ch = {0};
		char *hdr;
		br->reauthed = true;
		if (registry_challenge_parse(br->hq.r_auth, &ch, &br->err) < 0)
			return -1;
		int k = reg_authorize_into(br->rp, &ch, br->rp->scope, true, &hdr, &br->err);
		registry_challenge_release(&ch);
		if (k < 0)
			return -1;
		free(br->authz);
		br->authz = hdr;
		return start_transfer(br);
	}
	if (rc == CURLE_OK && st == 416 && br->received)
		rc = CURLE_PARTIAL_FILE;
	bool transient = rc == CURLE_OK ? reg_transient_status(st) : reg_transient_curl(rc);
	if (transient && br->attempts < r->retries) {
		reg_backoff(r, br->attempts++, rc == CURLE_OK ? br->hq.r_retry_after : -1);
		return start_transfer(br);
	}
	if (rc != CURLE_OK) {
		int e = rc == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT : rc == CURLE_COULDNT_CONNECT ? ECONNREFUSED : EIO;
		return err_makex(&br->err, e, "after %llu bytes: %s", (unsigned long long)br->received,
				 br->api->easy_strerror(rc));
	}
	struct reg_req q = {.status = st, .resp = br->errbody};
	return reg_http_error(&q, NULL, &br->err);
}

static int pump(struct registry_blob_reader *br)
{
	struct curl_api *c = br->api;
	int running = 0, left;
	CURLMcode mc = c->multi_perform(br->m, &running);
	if (mc != CURLM_OK)
		return err_makex(&br->err, EIO, "curl_multi_perform: %s", c->multi_strerror(mc));
	CURLMsg *msg;
	while ((msg = c->multi_info_read(br->m, &left)))
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == br->h) {
			br->result = msg->data.result;
			br->finished = true;
		}
	if (br->finished)
		return transfer_done(br);
	if (br->buf.len == br->off && running) {
		mc = c->multi_poll(br->m, NULL, 0, 1000, NULL);
		if (mc != CURLM_OK)
			return err_makex(&br->err, EIO, "curl_multi_poll: %s", c->multi_strerror(mc));
	}
	return 0;
}

long registry_blob_read(void *reader, void *out, size_t n)
{
	struct registry_blob_reader *br = reader;
	while (!br->err) {
		if (br->off < br->buf.len) {
			size_t k = br->buf.len - br->off < n ? br->buf.len - br->off : n;
			memcpy(out, br->buf.buf + br->off, k);
			br->off += k;
			if (br->off == br->buf.len) {
				strbuf_reset(&br->buf);
				br->off = 0;
			}
			if (br->progress)
				br->progress(br->progress_ud, br->received - (br->buf.len - br->off));
			return (long)k;
		}
		if (br->eof)
			return 0;
		if (!br->running && start_transfer(br) < 0)
			break;
		if (pump(br) < 0)
			break;
	}
	err_wrap(&br->err, "fetching blob %s from %s", br->digest, br->rp->name);
	errno = err_status(br->err) ? err_status(br->err) : EIO;
	return -1;
}

int registry_blob_open(struct registry_repo *rp, const char *digest, int64_t size, struct registry_blob_reader **ret,
		       struct skiff_err **err)
{
	if (digest_check(digest, err) < 0 || reg_ready(rp, err) < 0)
		return err_wrap(err, "fetching blob %s", digest);
	struct registry_blob_reader *br = xcalloc(1, sizeof(*br));
	br->rp = rp;
	br->api = &rp->r->curl;
	br->digest = xstrdup(digest);
	br->url = reg_url(rp, "%s/blobs/%s", rp->path, digest);
	br->size = size;
	br->authz = rp->authz ? xstrdup(rp->authz) : NULL;
	strbuf_init(&br->buf, 0);
	strbuf_init(&br->errbody, 0);
	strbuf_init(&br->hq.resp, 0);
	if (!(br->m = br->api->multi_init())) {
		registry_blob_close(br);
		return err_makex(err, ENOMEM, "curl_multi_init");
	}
	*ret = br;
	return 0;
}

const struct skiff_err *registry_blob_error(const struct registry_blob_reader *br)
{
	return br->err;
}

int registry_blob_take_error(struct registry_blob_reader *br, struct skiff_err **err)
{
	if (!br->err)
		return err_makex(err, EIO, "fetching blob %s: failed", br->digest);
	*err = br->err;
	br->err = NULL;
	return -1;
}

uint64_t registry_blob_received(const struct registry_blob_reader *br)
{
	return br->received;
}

void registry_blob_on_progress(struct registry_blob_reader *br, void (*fn)(void *ud, uint64_t done), void *ud)
{
	br->progress = fn;
	br->progress_ud = ud;
}

void registry_blob_close(struct registry_blob_reader *br)
{
	if (!br)
		return;
	stop_transfer(br);
	if (br->m)
		br->api->multi_cleanup(br->m);
	reg_req_release(&br->hq);
	strbuf_release(&br->buf);
	strbuf_release(&br->errbody);
	err_clear(&br->err);
	free(br->digest);
	free(br->url);
	free(br->authz);
	free(br);
}

/* ---- uploads ---- */

/* An upload's Location, made absolute. */
static char *upload_url(struct registry_repo *rp, const char *loc, const char *digest)
{
	struct strbuf sb = STRBUF_INIT;
	if (!strncmp(loc, "http://", 7) || !strncmp(loc, "https://", 8))
		strbuf_addstr(&sb, loc);
	else
		strbuf_addf(&sb, "%s://%s%s%s", rp->scheme, rp->conn, *loc == '/' ? "" : "/", loc);
	if (digest)
		strbuf_addf(&sb, "%sdigest=%s", strchr(sb.buf, '?') ? "&" : "?", digest);
	return strbuf_detach(&sb, NULL);
}

/* POST .../blobs/uploads/: the session's Location. */
static int upload_start(struct registry_repo *rp, char **ret_loc, struct skiff_err **err)
{
	struct reg_req q = {.method = "POST", .body = "", .body_len = 0};
	int rc = -1;
	q.url = reg_url(rp, "%s/blobs/uploads/", rp->path);
	if (reg_do(rp, &q, err) < 0)
		goto out;
	if (q.status != 202) {
		reg_http_error(&q, "start upload", err);
		goto out;
	}
	if (!q.r_location || !*q.r_location) {
		err_makex(err, EIO, "start upload: the registry sent no Location");
		goto out;
	}
	*ret_loc = TAKE_PTR(q.r_location);
	rc = 0;
out:
	reg_req_release(&q);
	return rc;
}

static int upload_finish(struct registry_repo *rp, const char *loc, const char *digest, const void *data, size_t len,
			 struct skiff_err **err)
{
	struct reg_req q = {
		.method = "PUT", .content_type = "application/octet-stream", .body = data ? data : "", .body_len = len};
	int rc = -1;
	q.url = upload_url(rp, loc, digest);
	if (reg_do(rp, &q, err) < 0)
		goto out;
	if (q.status != 201 && q.status != 204) {
		reg_http_error(&q, "finish upload", err);
		goto out;
	}
	rc = 0;
out:
	reg_req_release(&q);
	return rc;
}

int registry_blob_put(struct registry_repo *rp, const char *digest, const void *data, size_t len,
		      struct skiff_err **err)
{
	cleanup_free char *loc = NULL;
	if (digest_check(digest, err) < 0 || reg_ready(rp, err) < 0 || upload_start(rp, &loc, err) < 0 ||
	    upload_finish(rp, loc, digest, data, len, err) < 0)
		return err_wrap(err, "uploading blob %s to %s", digest, rp->name);
	return 0;
}

struct hashing_read {
	registry_read_fn read;
	void *ud;
	struct digester *d;
	uint64_t n;
};

static long hashing_read(void *ud, void *buf, size_t n)
{
	struct hashing_read *h = ud;
	long k = h->read(h->ud, buf, n);
	if (k > 0) {
		digester_update(h->d, buf, (size_t)k);
		h->n += (uint64_t)k;
	}
	return k;
}

int registry_blob_upload(struct registry_repo *rp, registry_read_fn read, void *ud, char ret_digest[DIGEST_STR_LEN + 1],
			 uint64_t *ret_size, struct skiff_err **err)
{
	cleanup_free char *loc = NULL;
	cleanup_digester struct digester *d = digester_new();
	struct hashing_read hr = {read, ud, d, 0};
	struct reg_req q = {.method = "PATCH",
			    .content_type = "application/octet-stream",
			    .body_read = hashing_read,
			    .body_ud = &hr};
	char digest[DIGEST_STR_LEN + 1];
	int rc = -1;

	if (reg_ready(rp, err) < 0 || upload_start(rp, &loc, err) < 0)
		goto out;
	q.url = upload_url(rp, loc, NULL);
	if (reg_do(rp, &q, err) < 0)
		goto out;
	if (q.status != 202 && q.status != 204) {
		reg_http_error(&q, "upload", err);
		goto out;
	}
	digester_final(d, digest);
	if (upload_finish(rp, q.r_location && *q.r_location ? q.r_location : loc, digest, NULL, 0, err) < 0)
		goto out;
	memcpy(ret_digest, digest, sizeof(digest));
	*ret_size = hr.n;
	rc = 0;
out:
	reg_req_release(&q);
	if (rc < 0)
		err_wrap(err, "uploading blob to %s", rp->name);
	return rc;
}

int registry_blob_mount(struct registry_repo *rp, const char *digest, const char *from, struct skiff_err **err)
{
	struct reg_req q = {.method = "POST", .body = "", .body_len = 0, .no_redirect = true};
	struct registry_challenge ch;
	int rc = -1;
	if (digest_check(digest, err) < 0 || reg_ready(rp, err) < 0)
		return err_wrap(err, "mounting blob %s from %s", digest, from);
	reg_host_challenge(rp, &ch);
	if (ch.scheme && !strcmp(ch.scheme, "bearer")) {
		/* the token must also allow pulling from the source repository */
		cleanup_free char *scope = xasprintf("%s repository:%s:pull", rp->scope, from);
		char *hdr;
		struct skiff_err *e = NULL;
		if (reg_authorize_into(rp, &ch, scope, false, &hdr, &e) == 0) {
			free(rp->authz);
			rp->authz = hdr;
		}
		err_free(e);
	}
	registry_challenge_release(&ch);
	CURL *esc = rp->h;
	char *d = rp->r->curl.easy_escape(esc, digest, 0), *f = rp->r->curl.easy_escape(esc, from, 0);
	q.url = reg_url(rp, "%s/blobs/uploads/?mount=%s&from=%s", rp->path, d ? d : "", f ? f : "");
	rp->r->curl.free(d);
	rp->r->curl.free(f);
	if (reg_do(rp, &q, err) < 0)
		goto out;
	if (q.status == 201) {
		rc = 1;
	} else if (q.status == 202) {
		/* not mounted: the registry opened an upload session; close it */
		if (q.r_location) {
			struct reg_req del = {.method = "DELETE", .url = upload_url(rp, q.r_location, NULL)};
			struct skiff_err *e = NULL;
			reg_do(rp, &del, &e);
			err_free(e);
			reg_req_release(&del);
		}
		rc = 0;
	} else {
		reg_http_error(&q, "mount", err);
	}
out:
	reg_req_release(&q);
	if (rc < 0)
		err_wrap(err, "mounting blob %s from %s", digest, from);
	return rc;
}
