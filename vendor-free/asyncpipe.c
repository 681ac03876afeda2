#include "vendor-free/asyncpipe.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vendor-free/xalloc.h"

#define SLOTS 8
#define SLOT_SIZE (1u << 20)

struct async_pipe {
	async_consume_fn consume;
	void *ud;
	pthread_t thread;
	bool threaded, closed;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *buf[SLOTS];
	size_t len[SLOTS];
	size_t head, count; /* queue of full slots (under mu): head is the oldest */
	bool done;	    /* under mu */
	int error;	    /* the worker's first error (read after join) */
	size_t slot, fill;  /* the producer's own: the slot it fills and its bytes */
};

static void consume(struct async_pipe *p, const void *data, size_t len)
{
	if (!p->error && len)
		p->error = p->consume(p->ud, data, len);
}

static void *worker(void *arg)
{
	struct async_pipe *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->count && !p->done)
			pthread_cond_wait(&p->cv, &p->mu);
		if (!p->count)
			break;
		size_t i = p->head;
		pthread_mutex_unlock(&p->mu);
		consume(p, p->buf[i], p->len[i]);
		pthread_mutex_lock(&p->mu);
		p->head = (p->head + 1) % SLOTS;
		p->count--;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct async_pipe *async_pipe_new(async_consume_fn fn, void *ud)
{
	struct async_pipe *p = xzalloc(sizeof(*p));
	p->consume = fn;
	p->ud = ud;
	for (size_t i = 0; i < SLOTS; i++)
		p->buf[i] = xmalloc(SLOT_SIZE);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->threaded = pthread_create(&p->thread, NULL, worker, p) == 0;
	return p;
}

/* Queue the slot being filled (waiting while every slot is queued). */
static void push(struct async_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->len[p->slot] = p->fill;
	p->count++;
	pthread_cond_broadcast(&p->cv);
	while (p->count == SLOTS)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	p->slot = (p->slot + 1) % SLOTS;
	p->fill = 0;
}

void async_pipe_write(struct async_pipe *p, const void *data, size_t len)
{
	const char *s = data;
	if (p->closed)
		return;
	if (!p->threaded) {
		consume(p, data, len);
		return;
	}
	while (len) {
		/* the slot being filled is never queued, so only this thread touches it */
		size_t n = SLOT_SIZE - p->fill;
		if (n > len)
			n = len;
		memcpy(p->buf[p->slot] + p->fill, s, n);
		p->fill += n;
		s += n;
		len -= n;
		if (p->fill == SLOT_SIZE)
			push(p);
	}
}

void *async_pipe_acquire(struct async_pipe *p, size_t *ret_cap)
{
	*ret_cap = SLOT_SIZE;
	return p->buf[p->slot];
}

void async_pipe_commit(struct async_pipe *p, size_t len)
{
	if (p->closed || !len)
		return;
	if (!p->threaded) {
		consume(p, p->buf[p->slot], len);
		return;
	}
	p->fill = len;
	push(p);
}

int async_pipe_close(struct async_pipe *p)
{
	if (p->closed)
		return p->error;
	p->closed = true;
	if (p->threaded) {
		if (p->fill)
			push(p);
		pthread_mutex_lock(&p->mu);
		p->done = true;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->thread, NULL);
	}
	return p->error;
}

void async_pipe_free(struct async_pipe *p)
{
	if (!p)
		return;
	async_pipe_close(p);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	for (size_t i = 0; i < SLOTS; i++)
		free(p->buf[i]);
	free(p);
}
