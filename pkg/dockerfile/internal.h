/* Shared between the files of pkg/dockerfile; not part of its API. */
#ifndef SKIFF_DOCKERFILE_INTERNAL_H
#define SKIFF_DOCKERFILE_INTERNAL_H

#include <stdbool.h>

#include "pkg/dockerfile/dockerfile.h"
#include "vendor-free/err.h"
#include "vendor-free/strv.h"

/* How deeply ${...} may nest inside one word: bounds the recursion on hostile input. */
#define DF_MAX_NESTING 64

/* The shell lexer behind df_expand, with buildkit's switches: raw_quotes keeps the quote
 * characters, raw_escapes keeps the escape characters, skip_unset leaves references to
 * unset variables as written. ret_words (may be NULL) receives the words split at unquoted
 * whitespace; ret (may be NULL) the whole result. */
struct df_lex_opts {
	char escape;
	bool raw_quotes;
	bool raw_escapes;
	bool skip_unset;
};
int df_lex(const char *word, const struct df_lex_opts *o, const struct strv *vars, struct strv *ret_used, char **ret,
	   struct strv *ret_words, struct skiff_err **err);

#endif
