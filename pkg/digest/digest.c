#include "pkg/digest/digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vendor-free/asyncpipe.h"
#include "vendor-free/xalloc.h"

struct digester {
	EVP_MD_CTX *ctx;
};

struct digester *digester_new(void)
{
	struct digester *d = xmalloc(sizeof(*d));
	d->ctx = EVP_MD_CTX_new();
	if (!d->ctx || EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1)
		abort();
	return d;
}

void digester_update(struct digester *d, const void *data, size_t len)
{
	if (len && EVP_DigestUpdate(d->ctx, data, len) != 1)
		abort();
}

void digester_final(struct digester *d, char out[DIGEST_STR_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(d->ctx, md, &n) != 1 || n != 32)
		abort();
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < n; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[7 + 2 * i + 1] = hex[md[i] & 15];
	}
	out[DIGEST_STR_LEN] = '\0';
	if (EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1)
		abort();
}

void digester_free(struct digester *d)
{
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

void digest_buf(const void *data, size_t len, char out[DIGEST_STR_LEN + 1])
{
	cleanup_digester struct digester *d = digester_new();
	digester_update(d, data, len);
	digester_final(d, out);
}

int digest_fd(int fd, char out[DIGEST_STR_LEN + 1], size_t *ret_size, struct skiff_err **err)
{
	cleanup_digester struct digester *d = digester_new();
	char buf[1 << 16];
	size_t total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_make(err, errno, "read");
		}
		if (n == 0)
			break;
		digester_update(d, buf, (size_t)n);
		total += (size_t)n;
	}
	digester_final(d, out);
	if (ret_size)
		*ret_size = total;
	return 0;
}

bool digest_hex_valid(const char *s)
{
	size_t i;
	for (i = 0; i < DIGEST_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[i] == '\0';
}

bool digest_valid(const char *s)
{
	return s && strncmp(s, "sha256:", 7) == 0 && digest_hex_valid(s + 7);
}

int digest_check(const char *s, struct skiff_err **err)
{
	if (digest_valid(s))
		return 0;
	if (s && strchr(s, ':') && strncmp(s, "sha256:", 7) != 0)
		return err_makex(err, EINVAL, "unsupported digest algorithm in %s", s);
	return err_makex(err, EINVAL, "invalid digest %s", s ? s : "(null)");
}

/* ---- hashing on a worker thread ---- */

struct digester_async {
	struct digester *d;
	struct async_pipe *pipe;
};

static int async_hash(void *ud, const void *data, size_t len)
{
	digester_update(ud, data, len);
	return 0;
}

struct digester_async *digester_async_new(void)
{
	struct digester_async *a = xzalloc(sizeof(*a));
	a->d = digester_new();
	a->pipe = async_pipe_new(async_hash, a->d);
	return a;
}

void digester_async_update(struct digester_async *a, const void *data, size_t len)
{
	async_pipe_write(a->pipe, data, len);
}

void *digester_async_acquire(struct digester_async *a, size_t *ret_cap)
{
	return async_pipe_acquire(a->pipe, ret_cap);
}

void digester_async_commit(struct digester_async *a, size_t len)
{
	async_pipe_commit(a->pipe, len);
}

void digester_async_final(struct digester_async *a, char out[DIGEST_STR_LEN + 1])
{
	async_pipe_close(a->pipe);
	digester_final(a->d, out);
}

void digester_async_free(struct digester_async *a)
{
	if (!a)
		return;
	async_pipe_free(a->pipe);
	digester_free(a->d);
	free(a);
}
