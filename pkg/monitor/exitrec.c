/*
 * The exit record, DIR/exit: one JSON object the monitor writes atomically when the container
 * exits, made and read by hand (the monitor links no JSON library):
 *
 *     {"version":1,"pid":123,"exitCode":137,"signal":9,"oomKilled":false,"startedAt":N,
 *      "finishedAt":N,"restartCount":0,"stoppedByUser":false}
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "pkg/monitor/client.h"
#include "pkg/monitor/internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

#define EXIT_RECORD_MAX 65536
#define MAX_DEPTH 32

void mon_exit_format(const struct mon_exit *e, struct strbuf *out)
{
	strbuf_addf(out,
		    "{\"version\":1,\"pid\":%d,\"exitCode\":%d,\"signal\":%d,\"oomKilled\":%s,\"startedAt\":%" PRId64
		    ",\"finishedAt\":%" PRId64 ",\"restartCount\":%d,\"stoppedByUser\":%s,\"restarting\":%s}\n",
		    e->pid, e->exit_code, e->signal, e->oom_killed ? "true" : "false", e->started_at, e->finished_at,
		    e->restart_count, e->stopped_by_user ? "true" : "false", e->restarting ? "true" : "false");
}

int mon_exit_write(int dirfd, const struct mon_exit *e, struct skiff_err **err)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;

	mon_exit_format(e, &sb);
	if (write_file_replace(dirfd, "exit", sb.buf, sb.len, 0644, err) < 0)
		return err_wrap(err, "write exit record");
	return 0;
}

/* ---- the reader ---- */

struct parser {
	const char *start, *p, *end;
	const char *what;
	struct skiff_err **err;
};

static int perr(struct parser *ps, const char *fmt, const char *arg)
{
	return err_makex(ps->err, EINVAL, "%s: malformed exit record at offset %zu: %s%s", ps->what,
			 (size_t)(ps->p - ps->start), fmt, arg ? arg : "");
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static bool eat(struct parser *ps, char c)
{
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == c) {
		ps->p++;
		return true;
	}
	return false;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A JSON string at ps->p (after skip_ws). Its ASCII decoding goes into key (cap bytes) when
 * key is not NULL; a string that does not fit, or has non-ASCII characters, gets key[0] = 1
 * (matches no known key). */
static int parse_string(struct parser *ps, char *key, size_t cap)
{
	size_t n = 0;
	bool odd = false;

	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != '"')
		return perr(ps, "expected a string", NULL);
	ps->p++;
	for (;;) {
		char c;
		int ch;

		if (ps->p >= ps->end)
			return perr(ps, "unterminated string", NULL);
		c = *ps->p++;
		if (c == '"')
			break;
		if ((unsigned char)c < 0x20)
			return perr(ps, "control character in a string", NULL);
		ch = (unsigned char)c;
		if (c == '\\') {
			if (ps->p >= ps->end)
				return perr(ps, "unterminated string", NULL);
			c = *ps->p++;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				ch = c;
				break;
			case 'b':
				ch = '\b';
				break;
			case 'f':
				ch = '\f';
				break;
			case 'n':
				ch = '\n';
				break;
			case 'r':
				ch = '\r';
				break;
			case 't':
				ch = '\t';
				break;
			case 'u':
				ch = 0;
				for (int i = 0; i < 4; i++) {
					int h = ps->p < ps->end ? hexval(*ps->p) : -1;
					if (h < 0)
						return perr(ps, "bad \\u escape in a string", NULL);
					ch = ch * 16 + h;
					ps->p++;
				}
				break;
			default:
				return perr(ps, "bad escape in a string", NULL);
			}
		}
		if (ch == 0 || ch >= 0x80)
			odd = true;
		else if (key && n + 1 < cap)
			key[n++] = (char)ch;
		else
			odd = true;
	}
	if (key) {
		key[n] = '\0';
		if (odd)
			key[0] = 1;
	}
	return 0;
}

/* A JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? ; *ret_int tells whether it was
 * a plain integer. */
static int scan_number(struct parser *ps, bool *ret_int)
{
	bool is_int = true;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
		return perr(ps, "expected a value", NULL);
	if (*ps->p == '0') {
		ps->p++;
	} else {
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && *ps->p == '.') {
		is_int = false;
		ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return perr(ps, "bad number", NULL);
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		is_int = false;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return perr(ps, "bad number", NULL);
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	*ret_int = is_int;
	return 0;
}

static bool eat_word(struct parser *ps, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(ps->end - ps->p) >= n && !memcmp(ps->p, w, n)) {
		ps->p += n;
		return true;
	}
	return false;
}

/* Skip any JSON value (for unknown keys). */
static int skip_value(struct parser *ps, int depth)
{
	bool is_int;

	if (depth > MAX_DEPTH)
		return perr(ps, "nested too deeply", NULL);
	skip_ws(ps);
	if (ps->p >= ps->end)
		return perr(ps, "expected a value", NULL);
	switch (*ps->p) {
	case '"':
		return parse_string(ps, NULL, 0);
	case '{':
		ps->p++;
		if (eat(ps, '}'))
			return 0;
		do {
			if (parse_string(ps, NULL, 0) < 0)
				return -1;
			if (!eat(ps, ':'))
				return perr(ps, "expected ':'", NULL);
			if (skip_value(ps, depth + 1) < 0)
				return -1;
		} while (eat(ps, ','));
		if (!eat(ps, '}'))
			return perr(ps, "expected ',' or '}'", NULL);
		return 0;
	case '[':
		ps->p++;
		if (eat(ps, ']'))
			return 0;
		do {
			if (skip_value(ps, depth + 1) < 0)
				return -1;
		} while (eat(ps, ','));
		if (!eat(ps, ']'))
			return perr(ps, "expected ',' or ']'", NULL);
		return 0;
	default:
		if (eat_word(ps, "true") || eat_word(ps, "false") || eat_word(ps, "null"))
			return 0;
		return scan_number(ps, &is_int);
	}
}

static int parse_int(struct parser *ps, const char *key, int64_t min, int64_t max, int64_t *ret)
{
	const char *s;
	bool neg = false, is_int;
	uint64_t v = 0, limit;

	skip_ws(ps);
	s = ps->p;
	if (scan_number(ps, &is_int) < 0)
		return err_wrap(ps->err, "key \"%s\"", key);
	if (!is_int)
		return perr(ps, "not an integer: key ", key);
	if (*s == '-') {
		neg = true;
		s++;
	}
	if (!neg)
		limit = (uint64_t)max;
	else if (min >= 0)
		limit = 0;
	else
		limit = (uint64_t)(-(min + 1)) + 1;
	for (; s < ps->p; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > limit / 10 || (v == limit / 10 && d > limit % 10))
			return perr(ps, "integer out of range: key ", key);
		v = v * 10 + d;
	}
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static int parse_bool(struct parser *ps, const char *key, bool *ret)
{
	skip_ws(ps);
	if (eat_word(ps, "true"))
		*ret = true;
	else if (eat_word(ps, "false"))
		*ret = false;
	else
		return perr(ps, "not true or false: key ", key);
	return 0;
}

enum field {
	F_VERSION,
	F_PID,
	F_EXIT_CODE,
	F_SIGNAL,
	F_OOM,
	F_STARTED,
	F_FINISHED,
	F_RESTARTS,
	F_STOPPED,
	F_RESTARTING,
	F_N
};

static const char *const field_names[F_N] = {
	"version",   "pid",	   "exitCode",	   "signal",	    "oomKilled",
	"startedAt", "finishedAt", "restartCount", "stoppedByUser", "restarting",
};

int mon_exit_parse(const char *buf, size_t len, const char *what, struct mon_exit *ret, struct skiff_err **err)
{
	struct parser ps = {.start = buf, .p = buf, .end = buf + len, .what = what, .err = err};
	struct mon_exit e = {0};
	bool seen[F_N] = {false};
	int64_t version = 0;
	char key[32];

	if (!eat(&ps, '{'))
		return perr(&ps, "expected '{'", NULL);
	if (!eat(&ps, '}')) {
		do {
			int64_t v = 0;
			bool b = false;
			int f;

			if (parse_string(&ps, key, sizeof(key)) < 0)
				return -1;
			if (!eat(&ps, ':'))
				return perr(&ps, "expected ':'", NULL);
			for (f = 0; f < F_N; f++)
				if (!strcmp(key, field_names[f]))
					break;
			if (f == F_N) {
				if (skip_value(&ps, 1) < 0)
					return -1;
				continue;
			}
			if (seen[f])
				return perr(&ps, "duplicate key ", field_names[f]);
			seen[f] = true;
			switch (f) {
			case F_OOM:
			case F_STOPPED:
			case F_RESTARTING:
				if (parse_bool(&ps, key, &b) < 0)
					return -1;
				if (f == F_OOM)
					e.oom_killed = b;
				else if (f == F_STOPPED)
					e.stopped_by_user = b;
				else
					e.restarting = b;
				break;
			case F_STARTED:
			case F_FINISHED:
				if (parse_int(&ps, key, 0, INT64_MAX, &v) < 0)
					return -1;
				if (f == F_STARTED)
					e.started_at = v;
				else
					e.finished_at = v;
				break;
			case F_EXIT_CODE:
				if (parse_int(&ps, key, INT_MIN, INT_MAX, &v) < 0)
					return -1;
				e.exit_code = (int)v;
				break;
			default:
				if (parse_int(&ps, key, 0, INT_MAX, &v) < 0)
					return -1;
				if (f == F_VERSION)
					version = v;
				else if (f == F_PID)
					e.pid = (int)v;
				else if (f == F_SIGNAL)
					e.signal = (int)v;
				else
					e.restart_count = (int)v;
				break;
			}
		} while (eat(&ps, ','));
		if (!eat(&ps, '}'))
			return perr(&ps, "expected ',' or '}'", NULL);
	}
	skip_ws(&ps);
	if (ps.p != ps.end)
		return perr(&ps, "trailing data after the object", NULL);
	if (!seen[F_VERSION])
		return err_makex(err, EINVAL, "%s: malformed exit record: no \"version\"", what);
	if (version != 1)
		return err_makex(err, EINVAL, "%s: exit record version %" PRId64 " is not supported (only 1)", what,
				 version);
	if (!seen[F_EXIT_CODE])
		return err_makex(err, EINVAL, "%s: malformed exit record: no \"exitCode\"", what);
	*ret = e;
	return 0;
}

int mon_read_exit(const char *dir, struct mon_exit *ret, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	cleanup_free char *path = NULL;
	cleanup_close int dfd = -1;
	size_t len;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "open %s", dir);
	if (read_file_at(dfd, "exit", EXIT_RECORD_MAX, &buf, &len, err) < 0)
		return err_wrap(err, "exit record of %s", dir);
	if (memchr(buf, '\0', len))
		return err_makex(err, EINVAL, "%s/exit: malformed exit record: NUL byte", dir);
	path = xasprintf("%s/exit", dir);
	return mon_exit_parse(buf, len, path, ret, err);
}
