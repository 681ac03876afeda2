/*
 * Errors, after crun's convention: a fallible function takes `struct skiff_err **err`,
 * returns a negative value on failure and fills *err with an allocated error (errno-like
 * status + message). Callers add context with err_wrap(); only cmd/ prints.
 *
 *     if (fd < 0)
 *             return err_make(err, errno, "open %s", path);
 *     if (load(x, err) < 0)
 *             return err_wrap(err, "load %s", name);
 */
#ifndef SKIFF_ERR_H
#define SKIFF_ERR_H

#include <stdarg.h>

struct skiff_err {
	int status; /* an errno value: ENOENT not found, EINVAL bad input, EEXIST ... (0: none) */
	char *msg;  /* "context: context: cause" */
};

/* Fill *err (which must be NULL) and return -1. status is an errno value; when it is
 * not 0 its strerror() is appended to the message. */
int err_make(struct skiff_err **err, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like err_make() but never appends strerror(status). */
int err_makex(struct skiff_err **err, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int err_vmake(struct skiff_err **err, int status, int with_strerror, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
/* Prefix "context: " to an existing error; returns -1. With *err NULL it makes a new one. */
int err_wrap(struct skiff_err **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_free(struct skiff_err *e);
/* Free *err and set it to NULL (for errors that are handled, not reported). */
void err_clear(struct skiff_err **err);
static inline int err_status(const struct skiff_err *e)
{
	return e ? e->status : 0;
}

static inline void err_cleanup(struct skiff_err **e)
{
	err_clear(e);
}
#define cleanup_err __attribute__((cleanup(err_cleanup)))

#endif
