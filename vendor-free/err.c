#include "vendor-free/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vendor-free/xalloc.h"

int err_vmake(struct skiff_err **err, int status, int with_strerror, const char *fmt, va_list ap)
{
	char *msg = xvasprintf(fmt, ap);
	struct skiff_err *e;

	if (!err) {
		free(msg);
		return -1;
	}
	if (with_strerror && status > 0) {
		char *full = xasprintf("%s: %s", msg, strerror(status));
		free(msg);
		msg = full;
	}
	e = xmalloc(sizeof(*e));
	e->status = status;
	e->msg = msg;
	if (*err) /* never lose an error: keep the first, it is the cause */
		err_free(e);
	else
		*err = e;
	return -1;
}

int err_make(struct skiff_err **err, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vmake(err, status, 1, fmt, ap);
	va_end(ap);
	return -1;
}

int err_makex(struct skiff_err **err, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vmake(err, status, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int err_wrap(struct skiff_err **err, const char *fmt, ...)
{
	va_list ap;
	char *ctx;

	if (!err)
		return -1;
	va_start(ap, fmt);
	ctx = xvasprintf(fmt, ap);
	va_end(ap);
	if (!*err) {
		struct skiff_err *e = xmalloc(sizeof(*e));
		e->status = 0;
		e->msg = ctx;
		*err = e;
		return -1;
	}
	char *msg = xasprintf("%s: %s", ctx, (*err)->msg);
	free(ctx);
	free((*err)->msg);
	(*err)->msg = msg;
	return -1;
}

void err_free(struct skiff_err *e)
{
	if (!e)
		return;
	free(e->msg);
	free(e);
}

void err_clear(struct skiff_err **err)
{
	if (err && *err) {
		err_free(*err);
		*err = NULL;
	}
}
