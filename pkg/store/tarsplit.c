/* The tar-split: record a layer tar's framing while it is extracted, and rebuild the
 * byte-identical tar later from the tar-split and the unpacked files (format: archive.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "pkg/digest/digest.h"
#include "pkg/store/archive-internal.h"
#include "vendor-free/asyncpipe.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/pathres.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#define TS_MAGIC "SKIFFTS1"
#define TS_MAGIC_LEN 8
#define TS_RAW_MAX (1u << 20)	 /* largest 'R' record */
#define TS_RAW_FLUSH (64u << 10) /* raw bytes are gathered up to this before a record */
#define GZ_BATCH (64u << 10)	 /* bytes handed to the compressing thread at a time */
#define BLOCK 512
#define SPECIAL_MAX (1u << 20) /* extension headers larger than this are refused (as libarchive does) */
#define SIZE_LIMIT (1ull << 62)

enum wstate { W_HEADER, W_SPECIAL, W_BODY, W_PAD, W_TRAILER, W_BROKEN };

struct seg {
	bool marker; /* an entry body, supplied later by the extractor */
	uint64_t index, body;
	struct strbuf raw; /* !marker: raw bytes */
};

struct tarsplit {
	gzFile gz; /* NULL: no output */
	/* Compressing runs on a thread of its own: gz_put() fills the pipe's buffer
	 * (slot) and hands it over every GZ_BATCH bytes, so that little is left to
	 * compress at the end; the worker writes to gz and keeps its first failure (read
	 * after async_pipe_close). */
	struct async_pipe *pipe;
	char *slot;
	size_t cap, fill;
	int werr;
	char *wmsg;
	struct strbuf out; /* raw bytes not yet written as an 'R' record */

	/* the walker */
	enum wstate state;
	unsigned char hdr[BLOCK];
	size_t hdr_len;
	uint64_t remaining, pad;
	uint64_t offset; /* bytes walked */
	bool collect;	 /* gathering a pax header's payload */
	struct strbuf pax;
	bool pax_size_set, pax_sparse;
	uint64_t pax_size;
	uint64_t next_index;
	/* W_BROKEN: why. Reported when the extractor reaches that entry (or the end), so
	 * that libarchive, which reads the same header, explains a damaged tar first. */
	char *broken;
	uint64_t broken_index; /* the first entry it concerns */

	/* output waiting behind an entry body the extractor has not supplied yet */
	struct seg *segs;
	size_t head, nsegs, alloc;

	/* the entry the extractor is in */
	bool in_entry, active;
	uint64_t index, body;
};

static void put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int gz_fail(gzFile gz, struct skiff_err **err, const char *what)
{
	int zerr = Z_OK;
	const char *msg = gz ? gzerror(gz, &zerr) : NULL;
	if (zerr == Z_ERRNO)
		return err_make(err, errno ? errno : EIO, "%s", what);
	return err_makex(err, EIO, "%s: %s", what, msg && *msg ? msg : "zlib error");
}

/* The worker: compress and write. 0, or an errno value (the details in werr, wmsg). */
static int gz_consume(void *ud, const void *buf, size_t n)
{
	struct tarsplit *ts = ud;
	const char *p = buf;
	while (n) {
		unsigned k = n > (1u << 30) ? (1u << 30) : (unsigned)n;
		int w = gzwrite(ts->gz, p, k);
		if (w <= 0) {
			int zerr = Z_OK;
			const char *msg = gzerror(ts->gz, &zerr);
			ts->werr = zerr == Z_ERRNO && errno ? errno : EIO;
			if (zerr != Z_ERRNO)
				ts->wmsg = xstrdup(msg && *msg ? msg : "zlib error");
			return ts->werr;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Queue bytes for the worker (its failures come out of gz_drain()). */
static int gz_put(struct tarsplit *ts, const void *buf, size_t n, struct skiff_err **err)
{
	const char *p = buf;
	while (n) {
		size_t batch, k;
		if (!ts->slot) {
			ts->slot = async_pipe_acquire(ts->pipe, &ts->cap);
			ts->fill = 0;
		}
		batch = ts->cap < GZ_BATCH ? ts->cap : GZ_BATCH;
		k = n < batch - ts->fill ? n : batch - ts->fill;
		memcpy(ts->slot + ts->fill, p, k);
		ts->fill += k;
		p += k;
		n -= k;
		if (ts->fill == batch) {
			async_pipe_commit(ts->pipe, ts->fill);
			ts->slot = NULL;
		}
	}
	return 0;
}

/* Wait for the worker to write everything queued: 0, or its failure. */
static int gz_drain(struct tarsplit *ts, struct skiff_err **err)
{
	if (ts->slot && ts->fill)
		async_pipe_commit(ts->pipe, ts->fill);
	ts->slot = NULL;
	if (!async_pipe_close(ts->pipe))
		return 0;
	if (ts->wmsg)
		return err_makex(err, ts->werr, "write tar-split: %s", ts->wmsg);
	return err_make(err, ts->werr, "write tar-split");
}

static int out_flush(struct tarsplit *ts, struct skiff_err **err)
{
	size_t off = 0;
	while (off < ts->out.len) {
		size_t k = ts->out.len - off;
		unsigned char hdr[5];
		if (k > TS_RAW_MAX)
			k = TS_RAW_MAX;
		hdr[0] = 'R';
		put_le(hdr + 1, k, 4);
		if (gz_put(ts, hdr, sizeof(hdr), err) < 0 || gz_put(ts, ts->out.buf + off, k, err) < 0)
			return -1;
		off += k;
	}
	strbuf_reset(&ts->out);
	return 0;
}

static int out_raw(struct tarsplit *ts, const void *buf, size_t n, struct skiff_err **err)
{
	if (!ts->gz || !n)
		return 0;
	strbuf_add(&ts->out, buf, n);
	return ts->out.len >= TS_RAW_FLUSH ? out_flush(ts, err) : 0;
}

/* Write out the raw segments at the head of the queue, up to the first entry body. */
static int flush_ready(struct tarsplit *ts, struct skiff_err **err)
{
	while (ts->head < ts->nsegs && !ts->segs[ts->head].marker) {
		struct seg *s = &ts->segs[ts->head++];
		int rc = out_raw(ts, s->raw.buf, s->raw.len, err);
		strbuf_release(&s->raw);
		if (rc < 0)
			return -1;
	}
	if (ts->head == ts->nsegs) {
		ts->head = ts->nsegs = 0;
	} else if (ts->head >= 64 && ts->head * 2 >= ts->nsegs) {
		/* the walker stays ahead on tars of many small files: do not grow forever */
		memmove(ts->segs, ts->segs + ts->head, (ts->nsegs - ts->head) * sizeof(*ts->segs));
		ts->nsegs -= ts->head;
		ts->head = 0;
	}
	return 0;
}

/* Raw tar bytes from the walker: written at once unless an entry body is pending. */
static int walker_raw(struct tarsplit *ts, const void *buf, size_t n, struct skiff_err **err)
{
	struct seg *last;

	if (ts->head == ts->nsegs)
		return out_raw(ts, buf, n, err);
	if (!ts->gz)
		return 0;
	last = &ts->segs[ts->nsegs - 1];
	if (last->marker) {
		ALLOC_GROW(ts->segs, ts->nsegs + 1, ts->alloc);
		last = &ts->segs[ts->nsegs++];
		memset(last, 0, sizeof(*last));
		strbuf_init(&last->raw, 0);
	}
	strbuf_add(&last->raw, buf, n);
	return 0;
}

static void push_marker(struct tarsplit *ts, uint64_t index, uint64_t body)
{
	struct seg *s;
	ALLOC_GROW(ts->segs, ts->nsegs + 1, ts->alloc);
	s = &ts->segs[ts->nsegs++];
	memset(s, 0, sizeof(*s));
	strbuf_init(&s->raw, 0);
	s->marker = true;
	s->index = index;
	s->body = body;
}

/* A tar numeric field: octal, or base-256 when the high bit of the first byte is set
 * (as GNU tar and libarchive read them). Negative values and overflow are refused. */
static int parse_number(const unsigned char *f, size_t n, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] & 0x40)
			return -1; /* negative */
		v = f[0] & 0x3f;
		for (i = 1; i < n; i++) {
			if (v >> 55)
				return -1;
			v = (v << 8) | f[i];
		}
	} else {
		while (i < n && (f[i] == ' ' || f[i] == '\t'))
			i++;
		if (i < n && f[i] == '-')
			return -1;
		for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
			if (v >> 60)
				return -1;
			v = v * 8 + (uint64_t)(f[i] - '0');
		}
	}
	if (v >= SIZE_LIMIT)
		return -1;
	*ret = v;
	return 0;
}

__attribute__((format(printf, 2, 3))) static int walker_break(struct tarsplit *ts, const char *fmt, ...)
{
	va_list ap;
	if (!ts->broken) {
		va_start(ap, fmt);
		ts->broken = xvasprintf(fmt, ap);
		va_end(ap);
		ts->broken_index = ts->next_index;
	}
	ts->state = W_BROKEN;
	return 0;
}

/* The records of a pax 'x' header that change the framing: "size" and GNU.sparse.*.
 * A malformed record ends the parse, as in libarchive (the rest is ignored). */
static int parse_pax(struct tarsplit *ts, struct skiff_err **err)
{
	const char *p = ts->pax.buf;
	size_t left = ts->pax.len;

	while (left) {
		size_t len = 0, i = 0;
		const char *key, *eq, *end;

		while (i < left && p[i] != ' ') {
			if (p[i] < '0' || p[i] > '9' || len > 999999)
				return 0;
			len = len * 10 + (size_t)(p[i] - '0');
			i++;
		}
		if (i >= left || len > left || len < i + 2 || p[len - 1] != '\n')
			return 0;
		key = p + i + 1;
		end = p + len - 1;
		eq = memchr(key, '=', (size_t)(end - key));
		if (!eq || eq == key)
			return 0;
		if ((size_t)(eq - key) == 4 && !memcmp(key, "size", 4)) {
			const char *v = eq + 1;
			uint64_t n = 0;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			if (v < end && *v == '-')
				return walker_break(ts, "layer tar: negative pax size at offset %llu",
						    (unsigned long long)ts->offset);
			for (; v < end && *v >= '0' && *v <= '9'; v++) {
				n = n * 10 + (uint64_t)(*v - '0');
				if (n >= SIZE_LIMIT)
					return walker_break(ts, "layer tar: pax size overflows at offset %llu",
							    (unsigned long long)ts->offset);
			}
			ts->pax_size = n;
			ts->pax_size_set = true;
		} else if ((size_t)(eq - key) > 11 && !memcmp(key, "GNU.sparse.", 11)) {
			ts->pax_sparse = true;
		}
		p += len;
		left -= len;
	}
	return 0;
}

static void after_body(struct tarsplit *ts)
{
	ts->remaining = ts->pad;
	ts->state = ts->pad ? W_PAD : W_HEADER;
}

static uint64_t padding(uint64_t n)
{
	return (BLOCK - n % BLOCK) % BLOCK;
}

/* The header checksum, as tar readers check it (unsigned, or signed for old tars). */
static bool checksum_ok(const unsigned char *h)
{
	uint64_t want;
	long su = 0, ss = 0;

	for (int i = 148; i < 156; i++)
		if (h[i] != ' ' && h[i] != '\0' && (h[i] < '0' || h[i] > '7'))
			return false;
	if (parse_number(h + 148, 8, &want) < 0)
		return false;
	for (int i = 0; i < BLOCK; i++) {
		unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
		su += c;
		ss += (signed char)c;
	}
	return want == (uint64_t)su || (ss >= 0 && want == (uint64_t)ss);
}

/* A whole 512-byte header block has been walked. */
static int walk_header(struct tarsplit *ts, struct skiff_err **err)
{
	unsigned long long at = (unsigned long long)(ts->offset - BLOCK);
	char type = (char)ts->hdr[156];
	uint64_t size, body;
	size_t i;

	for (i = 0; i < BLOCK && !ts->hdr[i]; i++)
		;
	if (i == BLOCK) { /* end of archive: the rest is stored as it is */
		ts->state = W_TRAILER;
		return 0;
	}
	if (!checksum_ok(ts->hdr))
		return walker_break(ts, "layer tar: damaged header at offset %llu", at);
	if (parse_number(ts->hdr + 124, 12, &size) < 0)
		return walker_break(ts, "layer tar: bad size field in the header at offset %llu", at);
	switch (type) {
	case 'x':
	case 'X':
		/* only the last pax header before an entry counts (as libarchive reads them) */
		ts->pax_size_set = ts->pax_sparse = false;
		/* fallthrough */
	case 'g':
	case 'L':
	case 'K':
	case 'A':
		if (size > SPECIAL_MAX)
			return walker_break(ts, "layer tar: extension header of %llu bytes at offset %llu is too large",
					    (unsigned long long)size, at);
		ts->collect = type == 'x' || type == 'X';
		strbuf_reset(&ts->pax);
		ts->pad = padding(size);
		ts->remaining = size;
		ts->state = W_SPECIAL;
		if (!size) {
			ts->collect = false;
			after_body(ts);
		}
		return 0;
	case 'V': /* GNU volume label: no body */
		return 0;
	case 'S':
		return walker_break(ts, "layer tar: GNU sparse file at offset %llu: sparse files are not supported",
				    at);
	default:
		break;
	}
	if (ts->pax_sparse)
		return walker_break(ts, "layer tar: pax sparse file at offset %llu: sparse files are not supported",
				    at);
	/* header-only types have no body unless pax says otherwise */
	body = ts->pax_size_set ? ts->pax_size : (type >= '1' && type <= '6') ? 0 : size;
	ts->pax_size_set = false;
	if (body) {
		push_marker(ts, ts->next_index, body);
		ts->remaining = body;
		ts->pad = padding(body);
		ts->state = W_BODY;
	}
	ts->next_index++;
	return 0;
}

int tarsplit_feed(struct tarsplit *ts, const void *buf, size_t n, struct skiff_err **err)
{
	const unsigned char *p = buf;

	while (n) {
		size_t k = n;

		switch (ts->state) {
		case W_HEADER:
			if (k > BLOCK - ts->hdr_len)
				k = BLOCK - ts->hdr_len;
			memcpy(ts->hdr + ts->hdr_len, p, k);
			ts->hdr_len += k;
			ts->offset += k;
			if (walker_raw(ts, p, k, err) < 0)
				return -1;
			if (ts->hdr_len == BLOCK) {
				ts->hdr_len = 0;
				if (walk_header(ts, err) < 0)
					return -1;
			}
			break;
		case W_SPECIAL:
		case W_BODY:
		case W_PAD:
			if (k > ts->remaining)
				k = (size_t)ts->remaining;
			ts->remaining -= k;
			ts->offset += k;
			if (ts->state != W_BODY && walker_raw(ts, p, k, err) < 0)
				return -1;
			if (ts->state == W_SPECIAL && ts->collect)
				strbuf_add(&ts->pax, p, k);
			if (ts->remaining)
				break;
			if (ts->state == W_PAD) {
				ts->state = W_HEADER;
			} else {
				if (ts->state == W_SPECIAL && ts->collect) {
					ts->collect = false;
					if (parse_pax(ts, err) < 0)
						return -1;
				}
				after_body(ts);
			}
			break;
		case W_TRAILER:
			ts->offset += k;
			if (walker_raw(ts, p, k, err) < 0)
				return -1;
			break;
		case W_BROKEN: /* the apply fails at the next entry: nothing to keep */
			ts->offset += k;
			break;
		}
		p += k;
		n -= k;
	}
	return 0;
}

static int framing_error(struct skiff_err **err, uint64_t index, uint64_t got, uint64_t want)
{
	return err_makex(
		err, EINVAL,
		"layer tar: unsupported framing at entry %llu: the reader took %llu body bytes, the headers say %llu",
		(unsigned long long)index + 1, (unsigned long long)got, (unsigned long long)want);
}

int tarsplit_entry_begin(struct tarsplit *ts, uint64_t index, const char *ref_path, struct skiff_err **err)
{
	struct seg *s;

	if (ts->in_entry)
		return err_makex(err, EINVAL, "tar-split: entry %llu begins inside another", (unsigned long long)index);
	if (ts->broken && index >= ts->broken_index)
		return err_makex(err, EINVAL, "%s", ts->broken);
	if (flush_ready(ts, err) < 0)
		return -1;
	ts->in_entry = true;
	ts->active = false;
	ts->index = index;
	ts->body = 0;
	if (ts->head == ts->nsegs)
		return 0;
	s = &ts->segs[ts->head];
	if (s->index < index) /* the walker saw an entry the reader skipped */
		return framing_error(err, s->index, 0, s->body);
	if (s->index > index)
		return 0;
	ts->active = true;
	ts->body = s->body;
	if (ref_path && ts->gz) {
		size_t len = strlen(ref_path);
		unsigned char hdr[13];
		if (!len || len >= PATH_MAX)
			return err_makex(err, EINVAL, "tar-split: bad path \"%s\"", ref_path);
		if (out_flush(ts, err) < 0)
			return -1;
		hdr[0] = 'F';
		put_le(hdr + 1, s->body, 8);
		put_le(hdr + 9, len, 4);
		if (gz_put(ts, hdr, sizeof(hdr), err) < 0 || gz_put(ts, ref_path, len, err) < 0)
			return -1;
		s->body = 0; /* supplied */
	}
	return 0;
}

int tarsplit_entry_data(struct tarsplit *ts, const void *buf, size_t n, struct skiff_err **err)
{
	if (!ts->active || !ts->segs[ts->head].body)
		return 0; /* no body, or a file reference: nothing to store */
	return out_raw(ts, buf, n, err);
}

int tarsplit_entry_end(struct tarsplit *ts, uint64_t nread, struct skiff_err **err)
{
	if (!ts->in_entry)
		return err_makex(err, EINVAL, "tar-split: entry ends outside an entry");
	ts->in_entry = false;
	if (nread != ts->body)
		return framing_error(err, ts->index, nread, ts->body);
	if (!ts->active)
		return 0;
	ts->active = false;
	strbuf_release(&ts->segs[ts->head].raw);
	ts->head++;
	return flush_ready(ts, err);
}

int tarsplit_finish(struct tarsplit *ts, uint64_t total, const char *diffid, struct skiff_err **err)
{
	unsigned char rec[9];
	gzFile gz;

	if (ts->in_entry)
		return err_makex(err, EINVAL, "tar-split: finished inside an entry");
	if (ts->broken)
		return err_makex(err, EINVAL, "%s", ts->broken);
	if (ts->state != W_TRAILER && !(ts->state == W_HEADER && ts->hdr_len == 0))
		return err_makex(err, EINVAL, "layer tar is truncated (%s at offset %llu)",
				 ts->state == W_HEADER ? "inside a header"
				 : ts->state == W_BODY ? "inside an entry's content"
				 : ts->state == W_PAD  ? "inside padding"
						       : "inside an extension header",
				 (unsigned long long)ts->offset);
	if (ts->head < ts->nsegs && ts->segs[ts->head].marker)
		return framing_error(err, ts->segs[ts->head].index, 0, ts->segs[ts->head].body);
	if (flush_ready(ts, err) < 0)
		return -1;
	if (!ts->gz)
		return 0;
	if (strlen(diffid) != DIGEST_STR_LEN)
		return err_makex(err, EINVAL, "tar-split: bad diffID %s", diffid);
	if (out_flush(ts, err) < 0)
		return -1;
	rec[0] = 'E';
	put_le(rec + 1, total, 8);
	if (gz_put(ts, rec, sizeof(rec), err) < 0 || gz_put(ts, diffid, DIGEST_STR_LEN, err) < 0 ||
	    gz_drain(ts, err) < 0)
		return -1;
	gz = ts->gz;
	ts->gz = NULL;
	if (gzclose(gz) != Z_OK)
		return err_make(err, errno ? errno : EIO, "close tar-split");
	return 0;
}

struct tarsplit *tarsplit_new(int fd, struct skiff_err **err)
{
	struct tarsplit *ts = xzalloc(sizeof(*ts));
	int dfd;

	strbuf_init(&ts->out, 0);
	strbuf_init(&ts->pax, 0);
	if (fd < 0)
		return ts;
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0) {
		err_make(err, errno, "tar-split: dup");
		tarsplit_free(ts);
		return NULL;
	}
	ts->gz = gzdopen(dfd, "wb1");
	if (!ts->gz) {
		close(dfd);
		err_make(err, errno ? errno : ENOMEM, "tar-split: gzdopen");
		tarsplit_free(ts);
		return NULL;
	}
	gzbuffer(ts->gz, 128 << 10);
	ts->pipe = async_pipe_new(gz_consume, ts);
	if (gz_put(ts, TS_MAGIC, TS_MAGIC_LEN, err) < 0) {
		tarsplit_free(ts);
		return NULL;
	}
	return ts;
}

void tarsplit_free(struct tarsplit *ts)
{
	if (!ts)
		return;
	async_pipe_free(ts->pipe); /* first: its worker uses gz */
	if (ts->gz)
		gzclose(ts->gz);
	free(ts->wmsg);
	for (size_t i = 0; i < ts->nsegs; i++)
		strbuf_release(&ts->segs[i].raw);
	free(ts->segs);
	strbuf_release(&ts->out);
	strbuf_release(&ts->pax);
	free(ts->broken);
	free(ts);
}

/* ---- reassembly ---- */

struct reasm {
	gzFile gz;
	archive_write_fn write;
	void *ud;
	struct digester *d;
	uint64_t total;
	char buf[128 << 10];
};

/* Read exactly n bytes. 0, or -1 ("corrupt tar-split: truncated ..."). */
static int gz_read_full(struct reasm *r, void *buf, size_t n, const char *what, struct skiff_err **err)
{
	char *p = buf;
	while (n) {
		unsigned k = n > (1u << 30) ? (1u << 30) : (unsigned)n;
		int got = gzread(r->gz, p, k);
		if (got < 0)
			return gz_fail(r->gz, err, "corrupt tar-split");
		if (got == 0) {
			int zerr = Z_OK;
			const char *msg = gzerror(r->gz, &zerr);
			if (zerr != Z_OK && msg && *msg)
				return err_makex(err, EINVAL, "corrupt tar-split: truncated %s (%s)", what, msg);
			return err_makex(err, EINVAL, "corrupt tar-split: truncated %s", what);
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

static int emit(struct reasm *r, const void *buf, size_t n, struct skiff_err **err)
{
	int rc = r->write(r->ud, buf, n);
	if (rc < 0) {
		int e = rc < -1 ? -rc : (errno ? errno : EIO);
		return err_make(err, e, "write layer tar");
	}
	digester_update(r->d, buf, n);
	r->total += n;
	return 0;
}

static int emit_file(struct reasm *r, int dirfd, const char *path, uint64_t size, struct skiff_err **err)
{
	cleanup_close int fd = -1;
	struct stat st;

	/* O_NONBLOCK: a fifo put in the file's place must not hang us */
	fd = pathres_open(dirfd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0, PATHRES_NO_SYMLINKS, err);
	if (fd < 0)
		return err_wrap(err, "layer content changed");
	if (fstat(fd, &st) < 0)
		return err_make(err, errno, "stat %s", path);
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
		return err_makex(err, EINVAL, "layer content changed: %s is not the regular file of %llu bytes it was",
				 path, (unsigned long long)size);
	while (size) {
		size_t k = size > sizeof(r->buf) ? sizeof(r->buf) : (size_t)size;
		ssize_t n = read(fd, r->buf, k);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_make(err, errno, "read %s", path);
		if (n == 0)
			return err_makex(err, EINVAL, "layer content changed: %s is shorter than it was", path);
		if (emit(r, r->buf, (size_t)n, err) < 0)
			return -1;
		size -= (uint64_t)n;
	}
	return 0;
}

static int reassemble(struct reasm *r, int dirfd, const char *expected, struct skiff_err **err)
{
	char magic[TS_MAGIC_LEN];
	unsigned char hdr[12];

	if (gz_read_full(r, magic, sizeof(magic), "header", err) < 0)
		return -1;
	if (memcmp(magic, TS_MAGIC, TS_MAGIC_LEN) != 0)
		return err_makex(err, EINVAL, "corrupt tar-split: not a skiff tar-split (bad magic)");
	for (;;) {
		unsigned char tag;

		if (gz_read_full(r, &tag, 1, "record", err) < 0)
			return -1;
		if (tag == 'R') {
			uint64_t n;
			if (gz_read_full(r, hdr, 4, "raw record", err) < 0)
				return -1;
			n = get_le(hdr, 4);
			if (!n || n > TS_RAW_MAX)
				return err_makex(err, EINVAL, "corrupt tar-split: raw record of %llu bytes",
						 (unsigned long long)n);
			while (n) {
				size_t k = n > sizeof(r->buf) ? sizeof(r->buf) : (size_t)n;
				if (gz_read_full(r, r->buf, k, "raw record", err) < 0 || emit(r, r->buf, k, err) < 0)
					return -1;
				n -= k;
			}
		} else if (tag == 'F') {
			cleanup_free char *path = NULL, *clean = NULL;
			uint64_t size, len;
			if (gz_read_full(r, hdr, 12, "file record", err) < 0)
				return -1;
			size = get_le(hdr, 8);
			len = get_le(hdr + 8, 4);
			if (!len || len >= PATH_MAX || size >= SIZE_LIMIT)
				return err_makex(err, EINVAL, "corrupt tar-split: bad file record");
			path = xmalloc((size_t)len + 1);
			if (gz_read_full(r, path, (size_t)len, "file record", err) < 0)
				return -1;
			path[len] = '\0';
			if (strlen(path) != len || path_clean(path, &clean, NULL) < 0 || strcmp(clean, path) != 0 ||
			    !strcmp(path, "."))
				return err_makex(err, EINVAL, "corrupt tar-split: bad path in a file record");
			if (emit_file(r, dirfd, path, size, err) < 0)
				return -1;
		} else if (tag == 'E') {
			char recorded[DIGEST_STR_LEN + 1], got[DIGEST_STR_LEN + 1];
			unsigned char extra;
			uint64_t total;
			if (gz_read_full(r, hdr, 8, "end record", err) < 0 ||
			    gz_read_full(r, recorded, DIGEST_STR_LEN, "end record", err) < 0)
				return -1;
			recorded[DIGEST_STR_LEN] = '\0';
			total = get_le(hdr, 8);
			if (!digest_valid(recorded))
				return err_makex(err, EINVAL, "corrupt tar-split: bad diffID in the end record");
			if (gzread(r->gz, &extra, 1) != 0)
				return err_makex(err, EINVAL, "corrupt tar-split: data after the end record");
			if (total != r->total)
				return err_makex(err, EINVAL, "corrupt tar-split: %llu bytes, the end record says %llu",
						 (unsigned long long)r->total, (unsigned long long)total);
			digester_final(r->d, got);
			if (!expected)
				expected = recorded;
			if (strcmp(got, expected) != 0)
				return err_makex(err, EINVAL, "layer content changed: diffID expected %s, got %s",
						 expected, got);
			return 0;
		} else {
			return err_makex(err, EINVAL, "corrupt tar-split: unknown record type 0x%02x", tag);
		}
	}
}

int archive_tarsplit_write_cb(int dirfd, int tarsplit_fd, archive_write_fn write, void *ud, const char *expected_diffid,
			      struct skiff_err **err)
{
	cleanup_free struct reasm *r = NULL;
	int dfd, rc;

	if (expected_diffid && digest_check(expected_diffid, err) < 0)
		return -1;
	dfd = fcntl(tarsplit_fd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0)
		return err_make(err, errno, "tar-split: dup");
	r = xzalloc(sizeof(*r));
	r->gz = gzdopen(dfd, "rb");
	if (!r->gz) {
		close(dfd);
		return err_make(err, errno ? errno : ENOMEM, "tar-split: gzdopen");
	}
	gzbuffer(r->gz, 128 << 10);
	r->write = write;
	r->ud = ud;
	r->d = digester_new();
	rc = reassemble(r, dirfd, expected_diffid, err);
	digester_free(r->d);
	gzclose_r(r->gz);
	return rc;
}

static int fd_write(void *ud, const void *buf, size_t n)
{
	return write_all(*(int *)ud, buf, n) < 0 ? -(errno ? errno : EIO) : 0;
}

int archive_tarsplit_write(int dirfd, int tarsplit_fd, int out_fd, const char *expected_diffid, struct skiff_err **err)
{
	return archive_tarsplit_write_cb(dirfd, tarsplit_fd, fd_write, &out_fd, expected_diffid, err);
}
