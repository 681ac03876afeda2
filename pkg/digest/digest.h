/* pkg/digest: sha256 (libcrypto), streaming, and "sha256:<hex>" digest strings. */
#ifndef SKIFF_DIGEST_H
#define SKIFF_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "vendor-free/err.h"

#define DIGEST_HEX_LEN 64
#define DIGEST_STR_LEN (7 + DIGEST_HEX_LEN) /* "sha256:" + hex */

struct digester; /* opaque streaming sha256 */

struct digester *digester_new(void);
void digester_update(struct digester *d, const void *data, size_t len);
/* Write "sha256:<hex>" into out (DIGEST_STR_LEN + 1 bytes); the digester may be reused after. */
void digester_final(struct digester *d, char out[DIGEST_STR_LEN + 1]);
void digester_free(struct digester *d);
static inline void digester_freep(struct digester **d)
{
	if (*d)
		digester_free(*d);
}
#define cleanup_digester __attribute__((cleanup(digester_freep)))

/*
 * A digester that hashes on a thread of its own, so hashing a stream overlaps with
 * whatever the caller does with it (unpacking a layer). update() copies the bytes
 * into a bounded queue of buffers; final() waits for the thread.
 */
struct digester_async;
struct digester_async *digester_async_new(void);
void digester_async_update(struct digester_async *d, const void *data, size_t len);
/* Zero-copy: read into the buffer acquire() gives, then commit() what was read. */
void *digester_async_acquire(struct digester_async *d, size_t *ret_cap);
void digester_async_commit(struct digester_async *d, size_t len);
void digester_async_final(struct digester_async *d, char out[DIGEST_STR_LEN + 1]);
void digester_async_free(struct digester_async *d);

/* One-shot digest of a buffer. */
void digest_buf(const void *data, size_t len, char out[DIGEST_STR_LEN + 1]);
/* Digest a whole file by fd from its current offset. */
int digest_fd(int fd, char out[DIGEST_STR_LEN + 1], size_t *ret_size, struct skiff_err **err);

/* True when s is "sha256:" followed by 64 lowercase hex digits. */
bool digest_valid(const char *s);
/* True when s is 64 lowercase hex digits. */
bool digest_hex_valid(const char *s);
/* Validate s; EINVAL naming s when it is not a supported digest. */
int digest_check(const char *s, struct skiff_err **err);
/* The hex part of a valid digest string. */
static inline const char *digest_hex(const char *digest)
{
	return digest + 7;
}

#endif
