#include "pkg/digest/digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#define ASYNC_SLOTS 8
#define ASYNC_SLOT_SIZE (1u << 20)

struct digester_async {
	struct digester *d;
	pthread_t thread;
	bool threaded; /* false: the thread could not start, hash inline */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *buf[ASYNC_SLOTS];
	size_t len[ASYNC_SLOTS];
	size_t head, count; /* queue of full slots (under mu): head is the oldest */
	size_t slot, fill;  /* the producer's own: the slot it fills and its bytes */
	bool done;
};

static void *async_main(void *arg)
{
	struct digester_async *a = arg;
	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (!a->count && !a->done)
			pthread_cond_wait(&a->cv, &a->mu);
		if (!a->count)
			break;
		size_t i = a->head;
		pthread_mutex_unlock(&a->mu);
		digester_update(a->d, a->buf[i], a->len[i]);
		pthread_mutex_lock(&a->mu);
		a->head = (a->head + 1) % ASYNC_SLOTS;
		a->count--;
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

struct digester_async *digester_async_new(void)
{
	struct digester_async *a = xzalloc(sizeof(*a));
	a->d = digester_new();
	for (size_t i = 0; i < ASYNC_SLOTS; i++)
		a->buf[i] = xmalloc(ASYNC_SLOT_SIZE);
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	a->threaded = pthread_create(&a->thread, NULL, async_main, a) == 0;
	return a;
}

/* Hand the slot being filled to the worker (waiting while the queue is full). */
static void async_push(struct digester_async *a)
{
	pthread_mutex_lock(&a->mu);
	a->len[a->slot] = a->fill;
	a->count++;
	pthread_cond_broadcast(&a->cv);
	/* the next slot is free once fewer than all slots are queued */
	while (a->count == ASYNC_SLOTS)
		pthread_cond_wait(&a->cv, &a->mu);
	pthread_mutex_unlock(&a->mu);
	a->slot = (a->slot + 1) % ASYNC_SLOTS;
	a->fill = 0;
}

void digester_async_update(struct digester_async *a, const void *data, size_t len)
{
	const char *p = data;
	if (!a->threaded) {
		digester_update(a->d, data, len);
		return;
	}
	while (len) {
		/* the slot being filled is never in the queue, so only we touch it */
		size_t n = ASYNC_SLOT_SIZE - a->fill;
		if (n > len)
			n = len;
		memcpy(a->buf[a->slot] + a->fill, p, n);
		a->fill += n;
		p += n;
		len -= n;
		if (a->fill == ASYNC_SLOT_SIZE)
			async_push(a);
	}
}

static void async_stop(struct digester_async *a)
{
	if (!a->threaded)
		return;
	if (a->fill)
		async_push(a);
	pthread_mutex_lock(&a->mu);
	a->done = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);
	a->threaded = false;
}

void digester_async_final(struct digester_async *a, char out[DIGEST_STR_LEN + 1])
{
	async_stop(a);
	digester_final(a->d, out);
}

void digester_async_free(struct digester_async *a)
{
	if (!a)
		return;
	async_stop(a);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	for (size_t i = 0; i < ASYNC_SLOTS; i++)
		free(a->buf[i]);
	digester_free(a->d);
	free(a);
}
