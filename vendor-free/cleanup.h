/* Scope-bound cleanup, as in crun (cleanup_free) and systemd (_cleanup_free_). */
#ifndef SKIFF_CLEANUP_H
#define SKIFF_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}

static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void cleanup_fclosep(FILE **f)
{
	if (*f) {
		int saved = errno;
		fclose(*f);
		errno = saved;
	}
}

static inline void cleanup_closedirp(DIR **d)
{
	if (*d) {
		int saved = errno;
		closedir(*d);
		errno = saved;
	}
}

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclosep)))
#define cleanup_dir __attribute__((cleanup(cleanup_closedirp)))

/* Declare a cleanup function for a type that has a free function. */
#define DEFINE_CLEANUP_FUNC(type, func)                                                                                \
	static inline void func##p(type **p)                                                                           \
	{                                                                                                              \
		if (*p)                                                                                                \
			func(*p);                                                                                      \
	}

/* Hand ownership away: return the value and clear the variable. */
#define TAKE_PTR(p)                                                                                                    \
	({                                                                                                             \
		__typeof__(p) take_ptr_ = (p);                                                                         \
		(p) = NULL;                                                                                            \
		take_ptr_;                                                                                             \
	})

#define TAKE_FD(fd)                                                                                                    \
	({                                                                                                             \
		int take_fd_ = (fd);                                                                                   \
		(fd) = -1;                                                                                             \
		take_fd_;                                                                                              \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
