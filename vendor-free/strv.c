#include "vendor-free/strv.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vendor-free/xalloc.h"

void strv_push_take(struct strv *sv, char *s)
{
	ALLOC_GROW(sv->v, sv->len + 2, sv->alloc);
	sv->v[sv->len++] = s;
	sv->v[sv->len] = NULL;
}

void strv_push(struct strv *sv, const char *s)
{
	strv_push_take(sv, xstrdup(s));
}

void strv_pushf(struct strv *sv, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strv_push_take(sv, xvasprintf(fmt, ap));
	va_end(ap);
}

bool strv_contains(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->len; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

void strv_remove(struct strv *sv, size_t i)
{
	if (i >= sv->len)
		return;
	free(sv->v[i]);
	memmove(sv->v + i, sv->v + i + 1, (sv->len - i) * sizeof(char *));
	sv->len--;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(struct strv *sv)
{
	if (sv->len > 1)
		qsort(sv->v, sv->len, sizeof(char *), cmp_str);
}

void strv_release(struct strv *sv)
{
	for (size_t i = 0; i < sv->len; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->len = sv->alloc = 0;
}

void strv_split(struct strv *sv, const char *s, char sep)
{
	const char *p;
	while ((p = strchr(s, sep))) {
		strv_push_take(sv, xstrndup(s, (size_t)(p - s)));
		s = p + 1;
	}
	strv_push(sv, s);
}
