/* NULL-terminated string vectors (argv-like), owned: strv_free() frees all. */
#ifndef SKIFF_STRV_H
#define SKIFF_STRV_H

#include <stdbool.h>
#include <stddef.h>

struct strv {
	char **v; /* always NULL-terminated once anything was pushed; may be NULL when empty */
	size_t len, alloc;
};

#define STRV_INIT                                                                                                      \
	{                                                                                                              \
		NULL, 0, 0                                                                                             \
	}

void strv_push(struct strv *sv, const char *s); /* copies s */
void strv_push_take(struct strv *sv, char *s);	/* takes ownership of s */
void strv_pushf(struct strv *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool strv_contains(const struct strv *sv, const char *s);
/* Remove the element at index i (freeing it). */
void strv_remove(struct strv *sv, size_t i);
void strv_sort(struct strv *sv);
void strv_release(struct strv *sv);
/* Split s at every occurrence of sep (empty fields kept). */
void strv_split(struct strv *sv, const char *s, char sep);
static inline const char *strv_get(const struct strv *sv, size_t i)
{
	return i < sv->len ? sv->v[i] : NULL;
}

static inline void strv_cleanup(struct strv *sv)
{
	strv_release(sv);
}
#define cleanup_strv __attribute__((cleanup(strv_cleanup)))

#endif
