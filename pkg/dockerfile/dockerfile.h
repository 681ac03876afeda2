/*
 * Dockerfile/Containerfile parsing: the file into stages of instructions, the word
 * expansion of ARG/ENV variables, and .dockerignore patterns. Nothing here runs anything
 * or touches the filesystem; pkg/build executes what this returns.
 *
 * The parser keeps arguments as written (unexpanded): what a variable means depends on the
 * ARG/ENV state at that step, which only the executor knows. It expands with df_expand().
 */
#ifndef SKIFF_DOCKERFILE_H
#define SKIFF_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "vendor-free/err.h"
#include "vendor-free/strv.h"

enum df_kind {
	DF_FROM,
	DF_RUN,
	DF_CMD,
	DF_ENTRYPOINT,
	DF_COPY,
	DF_ADD,
	DF_ENV,
	DF_ARG,
	DF_LABEL,
	DF_EXPOSE,
	DF_USER,
	DF_WORKDIR,
	DF_VOLUME,
	DF_SHELL,
	DF_HEALTHCHECK,
	DF_ONBUILD,
	DF_STOPSIGNAL,
	DF_MAINTAINER,
};

/* "--name=value" before the arguments; value is NULL for a bare "--name" (COPY --link). */
struct df_flag {
	char *name; /* without the dashes */
	char *value;
};

/* A here-document: RUN <<EOF, COPY <<EOF /dst. */
struct df_heredoc {
	char *name;	 /* the delimiter word, quotes removed */
	char *body;	 /* the lines between, each ending in '\n' (tabs stripped for <<-) */
	bool expand;	 /* the delimiter was unquoted: the executor expands variables in body */
	bool strip_tabs; /* <<- */
};

/*
 * One instruction. args, by kind (all unexpanded, as written, quotes kept unless said):
 *   RUN, CMD, ENTRYPOINT: exec_form ? the JSON array's strings : args[0] = the command text
 *                         (the rest of the line, continuations joined; for RUN <<EOF the
 *                         text on the RUN line, heredocs in heredocs[])
 *   SHELL:                the JSON array's strings (exec form is required)
 *   COPY, ADD:            exec_form ? the JSON strings : the whitespace-separated words;
 *                         the last one is the destination; heredoc sources are named in
 *                         args as "<<NAME" and carried in heredocs[]
 *   ENV, LABEL:           pairs: args[2i] = key, args[2i+1] = value (the old form
 *                         "ENV key value with spaces" gives one pair, the value the rest
 *                         of the line); quotes are kept for df_expand to remove
 *   ARG:                  pairs: name, default or NULL when there is no "="
 *   EXPOSE, VOLUME:       the words (VOLUME also in exec form)
 *   USER, WORKDIR, STOPSIGNAL, MAINTAINER: args[0] = the rest of the line
 *   HEALTHCHECK:          args[0] = "NONE", or "CMD" followed by the command as for CMD
 *                         (exec_form tells which); the options are flags (interval,
 *                         timeout, start-period, start-interval, retries)
 *   ONBUILD:              trigger = the instruction it registers (not FROM, ONBUILD,
 *                         MAINTAINER); text keeps the trigger's text
 *   FROM:                 args = the words (image, and "AS", name when given); flags
 *                         (platform); also summarised in struct df_stage
 */
struct df_instr {
	enum df_kind kind;
	int line;   /* 1-based line of its first line */
	char *text; /* as written from the keyword on, continuations joined with the
		       escape and newline removed, comments dropped: for STEP lines, history
		       and errors */
	struct df_flag *flags;
	size_t nflags;
	bool exec_form;
	char **args;
	size_t nargs;
	struct df_heredoc *heredocs;
	size_t nheredocs;
	struct df_instr *trigger; /* ONBUILD only */
};

struct df_stage {
	size_t index;		 /* 0-based position */
	char *name;		 /* "AS name", lowercased; NULL when unnamed */
	char *base;		 /* the image or stage name as written (unexpanded: FROM may use ARGs
				    declared before the first FROM) */
	char *platform;		 /* --platform=..., unexpanded; NULL when absent */
	int line;		 /* the FROM's line */
	struct df_instr *from;	 /* the FROM itself */
	struct df_instr *instrs; /* what follows the FROM, in order */
	size_t n;
};

struct dockerfile {
	char *path;	       /* as given to df_parse, for messages */
	char escape;	       /* '\\' or '`' (# escape= directive) */
	char *syntax;	       /* # syntax= directive, or NULL (informational) */
	struct df_instr *args; /* ARG instructions before the first FROM */
	size_t nargs;
	struct df_stage *stages;
	size_t nstages;
};

/*
 * Parse a whole file. Errors name the file, the line and the instruction, e.g.
 * "Containerfile:7: COPY requires at least two arguments" or
 * "Dockerfile:3: unknown instruction: FORM". A file without FROM, an instruction other than
 * ARG before the first FROM, JSON that does not parse where exec form was meant to be
 * strict (SHELL), an unterminated heredoc and a NUL byte are errors. Unknown flags are
 * left for the executor (it knows which it supports) except where the kind takes no
 * flags at all.
 */
int df_parse(const char *path, const char *buf, size_t len, struct dockerfile **ret, struct skiff_err **err);
void df_free(struct dockerfile *df);

/* "RUN", "COPY", ... */
const char *df_kind_name(enum df_kind k);

/* The flag's value (NULL when absent); *ret_present tells a bare flag from an absent one. */
const char *df_flag_get(const struct df_instr *in, const char *name, bool *ret_present);

/* The stage named name (case-insensitive), or by its index as a decimal string; NULL if none
 * or if it is not before stage `before` (COPY --from may only name an earlier stage;
 * pass df->nstages for no limit). */
const struct df_stage *df_stage_find(const struct dockerfile *df, const char *name, size_t before);

/*
 * Word expansion as docker does it for one argument: $VAR, ${VAR}, ${VAR:-word},
 * ${VAR-word}, ${VAR:+word}, ${VAR+word}, ${VAR:?msg} (an error naming VAR), nested words;
 * single quotes are literal, double quotes allow expansion, the escape character quotes the
 * next character; quotes are removed. vars holds "NAME=value" entries (the last one of a
 * name wins); an unset variable expands to "". When ret_used is not NULL, every variable
 * name referenced is pushed to it once (set or not): the build cache keys on them.
 * Errors name the word: "bad substitution in \"${A:x}\"", "unterminated quote in ...".
 */
int df_expand(const char *word, char escape, const struct strv *vars, struct strv *ret_used, char **ret,
	      struct skiff_err **err);

/* Like df_expand, then split into words at unquoted whitespace (what docker does for
 * EXPOSE, VOLUME and ONBUILD's trigger words after expansion). */
int df_expand_words(const char *text, char escape, const struct strv *vars, struct strv *ret_used,
		    struct strv *ret_words, struct skiff_err **err);

/*
 * .dockerignore / .containerignore: docker's rules (filepath.Match patterns with "**",
 * leading "/" and "./" ignored, paths cleaned, "!" exceptions, the last matching pattern
 * wins, comments "#", blank lines skipped). Paths given to the matchers are relative to the
 * context root, '/'-separated, cleaned, without a leading "./" or "/".
 */
struct df_ignore;
int df_ignore_parse(const char *buf, size_t len, struct df_ignore **ret, struct skiff_err **err);
void df_ignore_free(struct df_ignore *ig);
/* Whether relpath is excluded. A path is also excluded when a parent directory is, unless
 * an exception re-includes it: call with every path, not only the top directories. */
bool df_ignore_excluded(const struct df_ignore *ig, const char *relpath);
/* Whether an excluded directory may still hold re-included paths (an exception pattern
 * could match below it): the walker must then descend into it. */
bool df_ignore_may_reinclude(const struct df_ignore *ig, const char *reldir);

#endif
