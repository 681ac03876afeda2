/* Allocation that cannot fail: out of memory aborts, as in crun and git. */
#ifndef SKIFF_XALLOC_H
#define SKIFF_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow *p (nmemb elements of size) so that at least want elements fit. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Ensure the array *arr (element size sz) has room for want elements; *alloc is its capacity. */
#define ALLOC_GROW(arr, want, alloc)                                                                                   \
	do {                                                                                                           \
		if ((want) > (alloc)) {                                                                                \
			size_t alloc_grow_n_ = (alloc) < 8 ? 8 : (alloc)*2;                                            \
			if (alloc_grow_n_ < (want))                                                                    \
				alloc_grow_n_ = (want);                                                                \
			(arr) = xreallocarray((arr), alloc_grow_n_, sizeof(*(arr)));                                   \
			(alloc) = alloc_grow_n_;                                                                       \
		}                                                                                                      \
	} while (0)

#endif
