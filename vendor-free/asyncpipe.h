/*
 * A one-way pipe to a worker thread: the caller's bytes are copied into a bounded
 * queue of 1 MiB buffers and handed, in order, to consume() on a thread of its own.
 * Used so that hashing and compressing a layer overlap with unpacking it.
 * If the thread cannot be started, consume() runs inline.
 */
#ifndef SKIFF_ASYNCPIPE_H
#define SKIFF_ASYNCPIPE_H

#include <stddef.h>

/* 0, or an errno value; after the first error the rest of the stream is dropped. */
typedef int (*async_consume_fn)(void *ud, const void *data, size_t len);

struct async_pipe;

struct async_pipe *async_pipe_new(async_consume_fn consume, void *ud);
void async_pipe_write(struct async_pipe *p, const void *data, size_t len);
/*
 * Zero-copy use (instead of async_pipe_write, never mixed with it): acquire() gives
 * the next free buffer (*ret_cap bytes) to fill directly, commit() hands len bytes of
 * it to the worker. The worker only reads it, so the caller may go on reading it too;
 * a buffer is reused only after the worker is done with it and the other slots have
 * been committed, i.e. after 7 more acquire/commit rounds.
 */
void *async_pipe_acquire(struct async_pipe *p, size_t *ret_cap);
void async_pipe_commit(struct async_pipe *p, size_t len);
/* Hand over what is buffered and wait for the worker: its first error, or 0. */
int async_pipe_close(struct async_pipe *p);
/* Close (when still open) and free. */
void async_pipe_free(struct async_pipe *p);

#endif
