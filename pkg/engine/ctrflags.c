/* pkg/engine ctrflags: the values of `skiff create/run` flags (sizes, ulimits, volumes,
 * mounts, restart policies, env and label files, extra hosts). Every error is one line that
 * names the offending value. */
#include "pkg/engine/ctrconfig.h"
#include "pkg/engine/ctrconfig-internal.h"
#include "pkg/engine/volumes.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/humanize.h"
#include "vendor-free/pathres.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

/* Longest line of an env or label file, and largest such file. */
#define CTR_LINE_MAX (64u << 10)
#define CTR_FILE_MAX (16u << 20)

extern char **environ;

/* ---- small helpers ---- */

int ctr_err(struct skiff_err **err, int status, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	char *msg;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if (*p == '\n')
			strbuf_addstr(&sb, "\\n");
		else if (*p == '\t')
			strbuf_addstr(&sb, "\\t");
		else if (*p == '\r')
			strbuf_addstr(&sb, "\\r");
		else if (*p < 0x20 || *p == 0x7f)
			strbuf_addf(&sb, "\\x%02x", *p);
		else
			strbuf_addch(&sb, (char)*p);
	}
	free(msg);
	err_makex(err, status, "%s", sb.buf);
	strbuf_release(&sb);
	return -1;
}

static bool str_in(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* A decimal uint64 of digits only, at most max. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!all_digits(s) || strlen(s) > 20)
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*ret = v;
	return true;
}

/* An octal mode of at most 07777. */
static bool parse_mode(const char *s, unsigned *ret)
{
	unsigned long v;
	char *end;

	if (!*s || strlen(s) > 5 || strspn(s, "01234567") != strlen(s))
		return false;
	v = strtoul(s, &end, 8);
	if (*end || v > 07777)
		return false;
	*ret = (unsigned)v;
	return true;
}

/* An absolute path, lexically cleaned ("/a//b/../c" -> "/a/c"). what names it in errors. */
static int clean_abs(const char *in, const char *what, const char *spec, char **ret, struct skiff_err **err)
{
	cleanup_free char *rel = NULL;
	struct skiff_err *e = NULL;

	if (!in || in[0] != '/')
		return ctr_err(err, EINVAL, "invalid %s \"%.256s\" in \"%.256s\": must be an absolute path", what,
			       in ? in : "", spec);
	if (strlen(in) > 4096)
		return ctr_err(err, EINVAL, "invalid %s in \"%.64s...\": path too long", what, spec);
	if (path_clean(in, &rel, &e) < 0) {
		err_free(e);
		return ctr_err(err, EINVAL, "invalid %s \"%.256s\" in \"%.256s\"", what, in, spec);
	}
	*ret = strcmp(rel, ".") == 0 ? xstrdup("/") : xasprintf("/%s", rel);
	return 0;
}

/* ---- sizes, cpus ---- */

int ctr_parse_bytes(const char *s, bool allow_neg, int64_t *ret, struct skiff_err **err)
{
	struct skiff_err *e = NULL;
	int64_t v;

	if (!s || !*s)
		return ctr_err(err, EINVAL, "invalid size \"\": empty");
	if (allow_neg && strcmp(s, "-1") == 0) {
		*ret = -1;
		return 0;
	}
	if (strlen(s) > 64)
		return ctr_err(err, EINVAL, "invalid size \"%.64s...\": too long", s);
	if (parse_size(s, &v, &e) < 0) {
		bool big = e->status == ERANGE;
		err_free(e);
		return ctr_err(err, EINVAL, "invalid size \"%s\"%s", s, big ? ": too large" : "");
	}
	*ret = v;
	return 0;
}

int ctr_parse_cpus(const char *s, double *ret, struct skiff_err **err)
{
	size_t n = s ? strlen(s) : 0;
	size_t dots = 0;
	locale_t loc;
	double v;
	char *end;

	if (!n)
		return ctr_err(err, EINVAL, "invalid --cpus value \"\": empty");
	if (n > 32)
		return ctr_err(err, EINVAL, "invalid --cpus value \"%.32s...\": too long", s);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.')
			dots++;
		else if (s[i] < '0' || s[i] > '9')
			return ctr_err(err, EINVAL, "invalid --cpus value \"%s\": not a decimal number", s);
	}
	if (dots > 1 || strcmp(s, ".") == 0)
		return ctr_err(err, EINVAL, "invalid --cpus value \"%s\": not a decimal number", s);
	loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (loc == (locale_t)0)
		return err_make(err, errno, "invalid --cpus value \"%s\"", s);
	v = strtod_l(s, &end, loc);
	freelocale(loc);
	if (*end || !isfinite(v))
		return ctr_err(err, EINVAL, "invalid --cpus value \"%s\": not a decimal number", s);
	if (!(v > 0))
		return ctr_err(err, EINVAL, "invalid --cpus value \"%s\": must be greater than 0", s);
	/* docker keeps it as nanocpus in an int64 */
	if (v * 1e9 >= 9.2e18)
		return ctr_err(err, EINVAL, "invalid --cpus value \"%s\": too large", s);
	*ret = v;
	return 0;
}

/* ---- ulimits ---- */

static const char *const ulimit_names[][2] = {
	{"as", "RLIMIT_AS"},	       {"core", "RLIMIT_CORE"},		{"cpu", "RLIMIT_CPU"},
	{"data", "RLIMIT_DATA"},       {"fsize", "RLIMIT_FSIZE"},	{"locks", "RLIMIT_LOCKS"},
	{"memlock", "RLIMIT_MEMLOCK"}, {"msgqueue", "RLIMIT_MSGQUEUE"}, {"nice", "RLIMIT_NICE"},
	{"nofile", "RLIMIT_NOFILE"},   {"nproc", "RLIMIT_NPROC"},	{"rss", "RLIMIT_RSS"},
	{"rtprio", "RLIMIT_RTPRIO"},   {"rttime", "RLIMIT_RTTIME"},	{"sigpending", "RLIMIT_SIGPENDING"},
	{"stack", "RLIMIT_STACK"},
};

static bool ulimit_value(const char *s, uint64_t *ret)
{
	if (strcmp(s, "-1") == 0) {
		*ret = UINT64_MAX; /* RLIM_INFINITY */
		return true;
	}
	return parse_u64(s, INT64_MAX, ret);
}

int ctr_parse_ulimit(const char *s, struct ctr_ulimit *ret, struct skiff_err **err)
{
	cleanup_free char *name = NULL;
	const char *eq, *val, *colon;
	const char *rlimit = NULL;
	uint64_t soft, hard;

	if (!s || !*s)
		return ctr_err(err, EINVAL, "invalid ulimit \"\": empty");
	if (strlen(s) > 128)
		return ctr_err(err, EINVAL, "invalid ulimit \"%.64s...\": too long", s);
	eq = strchr(s, '=');
	if (!eq)
		return ctr_err(err, EINVAL, "invalid ulimit \"%s\": expected TYPE=SOFT[:HARD]", s);
	name = xstrndup(s, (size_t)(eq - s));
	for (size_t i = 0; i < ARRAY_SIZE(ulimit_names); i++)
		if (strcasecmp(name, ulimit_names[i][0]) == 0)
			rlimit = ulimit_names[i][1];
	if (!rlimit)
		return ctr_err(err, EINVAL, "invalid ulimit \"%s\": unknown type \"%s\"", s, name);
	val = eq + 1;
	colon = strchr(val, ':');
	if (colon) {
		cleanup_free char *sv = xstrndup(val, (size_t)(colon - val));
		if (!ulimit_value(sv, &soft) || !ulimit_value(colon + 1, &hard))
			return ctr_err(err, EINVAL, "invalid ulimit \"%s\": bad number", s);
	} else {
		if (!ulimit_value(val, &soft))
			return ctr_err(err, EINVAL, "invalid ulimit \"%s\": bad number", s);
		hard = soft;
	}
	if (soft > hard)
		return ctr_err(err, EINVAL,
			       "invalid ulimit \"%s\": soft limit must be less than or equal to hard limit", s);
	ret->name = xstrdup(rlimit);
	ret->soft = soft;
	ret->hard = hard;
	return 0;
}

/* ---- volumes, tmpfs, mounts ---- */

static const char *const propagations[] = {"shared", "rshared", "slave", "rslave", "private", "rprivate"};

static const char *const volume_opts[] = {
	"ro",	 "rw",	   "z",	   "Z",	  "shared", "rshared", "slave", "rslave", "private", "rprivate", "nosuid",
	"nodev", "noexec", "suid", "dev", "exec",   "U",       "copy",	"nocopy", "bind",    "rbind",
};

/* Check a list of mount options for conflicts: ro/rw, two propagations, z/Z, suid/nosuid,
 * dev/nodev, exec/noexec. */
static int check_conflicts(const struct strv *o, const char *spec, struct skiff_err **err)
{
	static const char *const pairs[][2] = {{"ro", "rw"},	 {"z", "Z"},	     {"suid", "nosuid"},
					       {"dev", "nodev"}, {"exec", "noexec"}, {"copy", "nocopy"},
					       {"bind", "rbind"}};
	const char *prop = NULL;

	for (size_t i = 0; i < o->len; i++) {
		if (!str_in(o->v[i], propagations, ARRAY_SIZE(propagations)))
			continue;
		if (prop && strcmp(prop, o->v[i]) != 0)
			return ctr_err(err, EINVAL, "invalid options in \"%.256s\": conflicting propagation %s and %s",
				       spec, prop, o->v[i]);
		prop = o->v[i];
	}
	for (size_t k = 0; k < ARRAY_SIZE(pairs); k++)
		if (strv_contains(o, pairs[k][0]) && strv_contains(o, pairs[k][1]))
			return ctr_err(err, EINVAL, "invalid options in \"%.256s\": %s and %s conflict", spec,
				       pairs[k][0], pairs[k][1]);
	return 0;
}

int ctr_parse_volume(const char *s, struct ctr_mount *ret, struct skiff_err **err)
{
	cleanup_strv struct strv parts = STRV_INIT;
	cleanup_strv struct strv opts = STRV_INIT;
	cleanup_free char *src = NULL, *dst = NULL;

	if (!s || !*s)
		return ctr_err(err, EINVAL, "invalid volume \"\": empty");
	if (strlen(s) > 8192)
		return ctr_err(err, EINVAL, "invalid volume \"%.64s...\": too long", s);
	strv_split(&parts, s, ':');
	if (parts.len > 3)
		return ctr_err(err, EINVAL, "invalid volume \"%s\": too many colons (SRC:DST[:OPTIONS])", s);
	bool named = false;
	if (parts.len == 1) {
		/* an anonymous volume at that path */
		if (clean_abs(parts.v[0], "destination", s, &dst, err) < 0)
			return -1;
		if (strcmp(dst, "/") == 0)
			return ctr_err(err, EINVAL, "invalid volume \"%s\": cannot mount over /", s);
		ret->type = xstrdup("volume");
		ret->source = NULL;
		ret->destination = TAKE_PTR(dst);
		ret->options = (struct strv)STRV_INIT;
		return 0;
	}
	if (!*parts.v[0])
		return ctr_err(err, EINVAL, "invalid volume \"%s\": empty source", s);
	if (!*parts.v[1])
		return ctr_err(err, EINVAL, "invalid volume \"%s\": empty destination", s);
	if (parts.v[0][0] == '.') {
		/* a relative host path, as podman: from the current directory */
		cleanup_free char *cwd = getcwd(NULL, 0);
		cleanup_free char *abs = NULL;
		if (!cwd)
			return err_make(err, errno, "volume \"%s\": getcwd", s);
		abs = xasprintf("%s/%s", cwd, parts.v[0]);
		if (clean_abs(abs, "source", s, &src, err) < 0)
			return -1;
	} else if (parts.v[0][0] != '/') {
		if (vol_check_name(parts.v[0], err) < 0)
			return err_wrap(err, "invalid volume \"%.256s\"", s);
		src = xstrdup(parts.v[0]);
		named = true;
	} else if (clean_abs(parts.v[0], "source", s, &src, err) < 0) {
		return -1;
	}
	if (clean_abs(parts.v[1], "destination", s, &dst, err) < 0)
		return -1;
	if (strcmp(dst, "/") == 0)
		return ctr_err(err, EINVAL, "invalid volume \"%s\": cannot mount over /", s);
	if (parts.len == 3) {
		if (!*parts.v[2])
			return ctr_err(err, EINVAL, "invalid volume \"%s\": empty options", s);
		strv_split(&opts, parts.v[2], ',');
		for (size_t i = 0; i < opts.len; i++)
			if (!str_in(opts.v[i], volume_opts, ARRAY_SIZE(volume_opts)))
				return ctr_err(err, EINVAL, "invalid volume \"%s\": unknown option \"%s\"", s,
					       opts.v[i]);
		if (check_conflicts(&opts, s, err) < 0)
			return -1;
	}
	ret->type = xstrdup(named ? "volume" : "bind");
	ret->source = TAKE_PTR(src);
	ret->destination = TAKE_PTR(dst);
	ret->options = opts;
	opts = (struct strv)STRV_INIT;
	return 0;
}

/* tmpfs options: flags, and key=value options whose value is checked. */
static const char *const tmpfs_flags[] = {
	"ro",	      "rw",	     "nosuid",	"suid",	   "nodev",    "dev",	     "noexec",	    "exec",
	"tmpcopyup",  "notmpcopyup", "shared",	"rshared", "slave",    "rslave",     "private",	    "rprivate",
	"unbindable", "runbindable", "noatime", "atime",   "relatime", "norelatime", "strictatime", "nostrictatime",
	"nodiratime", "diratime",    "sync",	"async",   "dirsync",  "mand",	     "nomand",
};

static bool tmpfs_size_ok(const char *v)
{
	size_t n = strspn(v, "0123456789");
	if (n == 0 || n > 19)
		return false;
	return v[n] == '\0' || (v[n + 1] == '\0' && strchr("kKmMgGtTpPeE%", v[n]));
}

static int check_tmpfs_opt(const char *o, const char *spec, struct skiff_err **err)
{
	const char *eq = strchr(o, '=');
	uint64_t n;
	unsigned mode;

	if (!eq) {
		if (str_in(o, tmpfs_flags, ARRAY_SIZE(tmpfs_flags)))
			return 0;
		return ctr_err(err, EINVAL, "invalid tmpfs \"%.256s\": unknown option \"%.64s\"", spec, o);
	}
	if (strncmp(o, "size=", 5) == 0) {
		if (tmpfs_size_ok(eq + 1))
			return 0;
	} else if (strncmp(o, "mode=", 5) == 0) {
		if (parse_mode(eq + 1, &mode))
			return 0;
	} else if (strncmp(o, "uid=", 4) == 0 || strncmp(o, "gid=", 4) == 0) {
		if (parse_u64(eq + 1, UINT32_MAX - 1, &n))
			return 0;
	} else if (strncmp(o, "nr_inodes=", 10) == 0 || strncmp(o, "nr_blocks=", 10) == 0) {
		if (tmpfs_size_ok(eq + 1) && eq[strlen(eq) - 1] != '%')
			return 0;
	} else {
		return ctr_err(err, EINVAL, "invalid tmpfs \"%.256s\": unknown option \"%.64s\"", spec, o);
	}
	return ctr_err(err, EINVAL, "invalid tmpfs \"%.256s\": bad value in \"%.64s\"", spec, o);
}

int ctr_parse_tmpfs(const char *s, struct ctr_mount *ret, struct skiff_err **err)
{
	cleanup_strv struct strv opts = STRV_INIT;
	cleanup_free char *dst = NULL, *dstin = NULL;
	const char *colon;

	if (!s || !*s)
		return ctr_err(err, EINVAL, "invalid tmpfs \"\": empty");
	if (strlen(s) > 8192)
		return ctr_err(err, EINVAL, "invalid tmpfs \"%.64s...\": too long", s);
	colon = strchr(s, ':');
	dstin = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
	if (clean_abs(dstin, "destination", s, &dst, err) < 0)
		return -1;
	if (strcmp(dst, "/") == 0)
		return ctr_err(err, EINVAL, "invalid tmpfs \"%s\": cannot mount over /", s);
	if (colon) {
		if (strchr(colon + 1, ':'))
			return ctr_err(err, EINVAL, "invalid tmpfs \"%s\": too many colons (DST[:OPTIONS])", s);
		if (!colon[1])
			return ctr_err(err, EINVAL, "invalid tmpfs \"%s\": empty options", s);
		strv_split(&opts, colon + 1, ',');
		for (size_t i = 0; i < opts.len; i++)
			if (check_tmpfs_opt(opts.v[i], s, err) < 0)
				return -1;
		if (check_conflicts(&opts, s, err) < 0)
			return -1;
	}
	ret->type = xstrdup("tmpfs");
	ret->source = NULL;
	ret->destination = TAKE_PTR(dst);
	ret->options = opts;
	opts = (struct strv)STRV_INIT;
	return 0;
}

static bool parse_bool_word(const char *v, bool *ret)
{
	if (!strcmp(v, "true") || !strcmp(v, "1")) {
		*ret = true;
		return true;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0")) {
		*ret = false;
		return true;
	}
	return false;
}

int ctr_parse_mount(const char *s, struct ctr_mount *ret, struct skiff_err **err)
{
	cleanup_strv struct strv kv = STRV_INIT;
	cleanup_strv struct strv opts = STRV_INIT;
	cleanup_free char *type = NULL, *src = NULL, *dst = NULL, *prop = NULL, *size = NULL, *mode = NULL;
	bool ro = false, seen_ro = false, nocopy = false, chown = false;

	if (!s || !*s)
		return ctr_err(err, EINVAL, "invalid mount \"\": empty");
	if (strlen(s) > 8192)
		return ctr_err(err, EINVAL, "invalid mount \"%.64s...\": too long", s);
	strv_split(&kv, s, ',');
	for (size_t i = 0; i < kv.len; i++) {
		const char *k = kv.v[i];
		const char *eq = strchr(k, '=');
		cleanup_free char *key = eq ? xstrndup(k, (size_t)(eq - k)) : xstrdup(k);
		const char *val = eq ? eq + 1 : NULL;
		char **slot = NULL;

		if (!*key)
			return ctr_err(err, EINVAL, "invalid mount \"%s\": empty option", s);
		if (!strcmp(key, "ro") || !strcmp(key, "readonly") || !strcmp(key, "rw")) {
			bool b = true;
			if (seen_ro)
				return ctr_err(err, EINVAL, "invalid mount \"%s\": %s given twice", s, key);
			if (val && !parse_bool_word(val, &b))
				return ctr_err(err, EINVAL, "invalid mount \"%s\": bad value for %s: \"%s\"", s, key,
					       val);
			ro = strcmp(key, "rw") == 0 ? !b : b;
			seen_ro = true;
			continue;
		}
		if (!strcmp(key, "volume-nocopy") || !strcmp(key, "nocopy")) {
			if (val && !parse_bool_word(val, &nocopy))
				return ctr_err(err, EINVAL, "invalid mount \"%s\": bad value for %s: \"%s\"", s, key,
					       val);
			if (!val)
				nocopy = true;
			continue;
		}
		if (!strcmp(key, "U") || !strcmp(key, "chown")) {
			/* podman's U=true: chown the source to the container's user at start */
			chown = true;
			if (val && !parse_bool_word(val, &chown))
				return ctr_err(err, EINVAL, "invalid mount \"%s\": bad value for %s: \"%s\"", s, key,
					       val);
			continue;
		}
		if (!strcmp(key, "type"))
			slot = &type;
		else if (!strcmp(key, "src") || !strcmp(key, "source"))
			slot = &src;
		else if (!strcmp(key, "dst") || !strcmp(key, "destination") || !strcmp(key, "target"))
			slot = &dst;
		else if (!strcmp(key, "bind-propagation"))
			slot = &prop;
		else if (!strcmp(key, "tmpfs-size"))
			slot = &size;
		else if (!strcmp(key, "tmpfs-mode"))
			slot = &mode;
		else
			return ctr_err(err, EINVAL, "invalid mount \"%s\": unknown option \"%s\"", s, key);
		if (!val || !*val)
			return ctr_err(err, EINVAL, "invalid mount \"%s\": %s needs a value", s, key);
		if (*slot)
			return ctr_err(err, EINVAL, "invalid mount \"%s\": %s given twice", s, key);
		*slot = xstrdup(val);
	}
	if (!type)
		return ctr_err(err, EINVAL, "invalid mount \"%s\": type is required", s);
	if (!strcmp(type, "volume")) {
		cleanup_free char *d = NULL;
		if (size || mode || prop)
			return ctr_err(err, EINVAL, "invalid mount \"%s\": bind or tmpfs options with type=volume", s);
		if (src && vol_check_name(src, err) < 0)
			return err_wrap(err, "invalid mount \"%.256s\"", s);
		if (!dst)
			return ctr_err(err, EINVAL, "invalid mount \"%s\": destination is required", s);
		if (clean_abs(dst, "destination", s, &d, err) < 0)
			return -1;
		if (strcmp(d, "/") == 0)
			return ctr_err(err, EINVAL, "invalid mount \"%s\": cannot mount over /", s);
		if (ro)
			strv_push(&opts, "ro");
		if (nocopy)
			strv_push(&opts, "nocopy");
		if (chown)
			strv_push(&opts, "U");
		ret->type = TAKE_PTR(type);
		ret->source = TAKE_PTR(src);
		ret->destination = TAKE_PTR(d);
		ret->options = opts;
		opts = (struct strv)STRV_INIT;
		return 0;
	}
	if (nocopy)
		return ctr_err(err, EINVAL, "invalid mount \"%s\": volume-nocopy needs type=volume", s);
	if (chown && strcmp(type, "bind") != 0)
		return ctr_err(err, EINVAL, "invalid mount \"%s\": U needs type=bind or type=volume", s);
	if (!strcmp(type, "image") || !strcmp(type, "devpts"))
		return ctr_err(err, ENOTSUP, "mount \"%s\": type=%s is not supported yet", s, type);
	if (strcmp(type, "bind") != 0 && strcmp(type, "tmpfs") != 0)
		return ctr_err(err, EINVAL, "invalid mount \"%s\": unknown type \"%s\"", s, type);
	if (!dst)
		return ctr_err(err, EINVAL, "invalid mount \"%s\": destination is required", s);
	{
		cleanup_free char *d = NULL;
		if (clean_abs(dst, "destination", s, &d, err) < 0)
			return -1;
		if (strcmp(d, "/") == 0)
			return ctr_err(err, EINVAL, "invalid mount \"%s\": cannot mount over /", s);
		free(dst);
		dst = TAKE_PTR(d);
	}
	if (ro)
		strv_push(&opts, "ro");
	if (chown)
		strv_push(&opts, "U");
	if (!strcmp(type, "bind")) {
		cleanup_free char *sc = NULL;
		if (size || mode)
			return ctr_err(err, EINVAL, "invalid mount \"%s\": tmpfs options with type=bind", s);
		if (!src)
			return ctr_err(err, EINVAL, "invalid mount \"%s\": source is required for type=bind", s);
		if (clean_abs(src, "source", s, &sc, err) < 0)
			return -1;
		free(src);
		src = TAKE_PTR(sc);
		if (prop) {
			if (!str_in(prop, propagations, ARRAY_SIZE(propagations)))
				return ctr_err(err, EINVAL, "invalid mount \"%s\": bad bind-propagation \"%s\"", s,
					       prop);
			strv_push(&opts, prop);
		}
	} else {
		if (src)
			return ctr_err(err, EINVAL, "invalid mount \"%s\": type=tmpfs takes no source", s);
		if (prop)
			return ctr_err(err, EINVAL, "invalid mount \"%s\": bind-propagation with type=tmpfs", s);
		if (size) {
			int64_t bytes;
			if (ctr_parse_bytes(size, false, &bytes, err) < 0)
				return err_wrap(err, "invalid mount \"%s\": tmpfs-size", s);
			strv_pushf(&opts, "size=%" PRId64, bytes);
		}
		if (mode) {
			unsigned m;
			if (!parse_mode(mode, &m))
				return ctr_err(err, EINVAL, "invalid mount \"%s\": bad tmpfs-mode \"%s\"", s, mode);
			strv_pushf(&opts, "mode=%o", m);
		}
	}
	ret->type = TAKE_PTR(type);
	ret->source = TAKE_PTR(src);
	ret->destination = TAKE_PTR(dst);
	ret->options = opts;
	opts = (struct strv)STRV_INIT;
	return 0;
}

/* ---- restart ---- */

int ctr_parse_restart(const char *s, enum ctr_restart *ret, unsigned *ret_max, struct skiff_err **err)
{
	const char *colon;
	size_t n;
	uint64_t max = 0;
	enum ctr_restart r;

	if (!s)
		s = "";
	if (strlen(s) > 64)
		return ctr_err(err, EINVAL, "invalid restart policy \"%.64s...\"", s);
	colon = strchr(s, ':');
	n = colon ? (size_t)(colon - s) : strlen(s);
	if ((n == 0 && !colon) || (n == 2 && !strncmp(s, "no", 2)))
		r = CTR_RESTART_NO;
	else if (n == 10 && !strncmp(s, "on-failure", 10))
		r = CTR_RESTART_ON_FAILURE;
	else if (n == 6 && !strncmp(s, "always", 6))
		r = CTR_RESTART_ALWAYS;
	else if (n == 14 && !strncmp(s, "unless-stopped", 14))
		r = CTR_RESTART_UNLESS_STOPPED;
	else
		return ctr_err(err, EINVAL,
			       "invalid restart policy \"%s\": must be no, on-failure[:N], always or unless-stopped",
			       s);
	if (colon) {
		if (r != CTR_RESTART_ON_FAILURE)
			return ctr_err(err, EINVAL,
				       "invalid restart policy \"%s\": only on-failure takes a retry count", s);
		if (!parse_u64(colon + 1, UINT32_MAX, &max))
			return ctr_err(err, EINVAL, "invalid restart policy \"%s\": bad retry count \"%s\"", s,
				       colon + 1);
	}
	*ret = r;
	if (ret_max)
		*ret_max = (unsigned)max;
	return 0;
}

/* ---- env ---- */

/* Set KEY=VALUE (kv) in env, replacing an entry with the same key. */
static void env_put(struct strv *env, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	for (size_t i = 0; i < env->len; i++) {
		if (strncmp(env->v[i], kv, klen) == 0 && (env->v[i][klen] == '=' || env->v[i][klen] == '\0')) {
			free(env->v[i]);
			env->v[i] = xstrdup(kv);
			return;
		}
	}
	strv_push(env, kv);
}

static bool has_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isspace((unsigned char)s[i]))
			return true;
	return false;
}

/* One -e value or env-file line into env. what is the context for errors. */
static int env_one(const char *s, struct strv *env, bool file, const char *what, struct skiff_err **err)
{
	const char *eq = strchr(s, '=');
	size_t klen = eq ? (size_t)(eq - s) : strlen(s);

	if (klen == 0)
		return ctr_err(err, EINVAL, "%sinvalid environment variable \"%.256s\": empty name", what, s);
	if (file && has_space(s, klen))
		return ctr_err(err, EINVAL, "%sinvalid environment variable \"%.256s\": name contains whitespace", what,
			       s);
	if (eq) {
		env_put(env, s);
		return 0;
	}
	if (s[klen - 1] == '*') {
		/* podman: every variable of ours whose name starts with the prefix */
		size_t plen = klen - 1;
		for (char **e = environ; e && *e; e++)
			if (strncmp(*e, s, plen) == 0 && strchr(*e, '='))
				env_put(env, *e);
		return 0;
	}
	const char *v = getenv(s);
	if (v) {
		cleanup_free char *kv = xasprintf("%s=%s", s, v);
		env_put(env, kv);
	}
	return 0;
}

int ctr_parse_env(const char *s, struct strv *env, struct skiff_err **err)
{
	if (!s || !*s)
		return ctr_err(err, EINVAL, "invalid environment variable \"\": empty");
	return env_one(s, env, false, "", err);
}

/* Read a whole env/label file: NUL bytes, lines over CTR_LINE_MAX and files over
 * CTR_FILE_MAX are EINVAL; a missing file is ENOENT. Lines go to *lines (no newline,
 * a trailing CR dropped). */
static int read_lines(const char *path, const char *kind, struct strv *lines, struct skiff_err **err)
{
	cleanup_free char *buf = NULL;
	struct skiff_err *e = NULL;
	size_t len, line = 1;
	const char *p, *end;

	if (!path || !*path)
		return ctr_err(err, EINVAL, "%s file \"\": empty path", kind);
	if (read_file_at(AT_FDCWD, path, CTR_FILE_MAX, &buf, &len, &e) < 0) {
		int st = e->status;
		if (st == EFBIG) {
			err_free(e);
			return ctr_err(err, EINVAL, "%s file %s: larger than %u bytes", kind, path, CTR_FILE_MAX);
		}
		ctr_err(err, st, "%s file: %s", kind, e->msg);
		err_free(e);
		return -1;
	}
	p = buf;
	end = buf + len;
	if (memchr(buf, '\0', len)) {
		line = 1;
		for (const char *q = buf; q < end && *q; q++)
			if (*q == '\n')
				line++;
		return ctr_err(err, EINVAL, "%s file %s: line %zu: contains a NUL byte", kind, path, line);
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t full = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t n = full;
		if (n > CTR_LINE_MAX)
			return ctr_err(err, EINVAL, "%s file %s: line %zu: longer than %u bytes", kind, path, line,
				       CTR_LINE_MAX);
		if (n && p[n - 1] == '\r')
			n--;
		strv_push_take(lines, xstrndup(p, n));
		p += full + (nl ? 1 : 0);
		line++;
	}
	return 0;
}

int ctr_parse_env_file(const char *path, struct strv *env, struct skiff_err **err)
{
	cleanup_strv struct strv lines = STRV_INIT;
	cleanup_strv struct strv tmp = STRV_INIT;

	if (read_lines(path, "env", &lines, err) < 0)
		return -1;
	for (size_t i = 0; i < env->len; i++)
		strv_push(&tmp, env->v[i]);
	for (size_t i = 0; i < lines.len; i++) {
		const char *l = lines.v[i];
		char what[64];
		while (*l == ' ' || *l == '\t')
			l++;
		if (!*l || *l == '#')
			continue;
		snprintf(what, sizeof(what), "line %zu: ", i + 1);
		if (env_one(l, &tmp, true, what, err) < 0)
			return err_wrap(err, "env file %s", path);
	}
	strv_release(env);
	*env = tmp;
	tmp = (struct strv)STRV_INIT;
	return 0;
}

/* ---- labels ---- */

static int label_one(const char *s, struct spec_map *labels, const char *what, struct skiff_err **err)
{
	const char *eq = strchr(s, '=');
	size_t klen = eq ? (size_t)(eq - s) : strlen(s);
	cleanup_free char *key = NULL;

	if (klen == 0)
		return ctr_err(err, EINVAL, "%sinvalid label \"%.256s\": empty name", what, s);
	key = xstrndup(s, klen);
	spec_map_set(labels, key, eq ? eq + 1 : "");
	return 0;
}

int ctr_parse_label(const char *s, struct spec_map *labels, struct skiff_err **err)
{
	if (!s || !*s)
		return ctr_err(err, EINVAL, "invalid label \"\": empty");
	return label_one(s, labels, "", err);
}

int ctr_parse_label_file(const char *path, struct spec_map *labels, struct skiff_err **err)
{
	cleanup_strv struct strv lines = STRV_INIT;
	struct spec_map tmp = {0};

	if (read_lines(path, "label", &lines, err) < 0)
		return -1;
	spec_map_copy(&tmp, labels);
	for (size_t i = 0; i < lines.len; i++) {
		char *l = lines.v[i];
		size_t n;
		char what[64];
		while (*l == ' ' || *l == '\t')
			l++;
		n = strlen(l);
		while (n && (l[n - 1] == ' ' || l[n - 1] == '\t'))
			l[--n] = '\0';
		if (!*l || *l == '#')
			continue;
		snprintf(what, sizeof(what), "line %zu: ", i + 1);
		if (label_one(l, &tmp, what, err) < 0) {
			spec_map_release(&tmp);
			return err_wrap(err, "label file %s", path);
		}
	}
	spec_map_release(labels);
	*labels = tmp;
	return 0;
}

/* ---- extra hosts ---- */

static bool hostname_ok(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.' && s[i] != '_')
			return false;
	return true;
}

int ctr_parse_add_host(const char *s, struct skiff_err **err)
{
	const char *colon, *ip, *p;
	unsigned char buf[16];

	if (!s || !*s)
		return ctr_err(err, EINVAL, "invalid --add-host \"\": empty");
	if (strlen(s) > 1024)
		return ctr_err(err, EINVAL, "invalid --add-host \"%.64s...\": too long", s);
	colon = strchr(s, ':');
	if (!colon)
		return ctr_err(err, EINVAL, "invalid --add-host \"%s\": expected HOST:IP", s);
	if (colon == s)
		return ctr_err(err, EINVAL, "invalid --add-host \"%s\": empty host name", s);
	/* "a;b;c:ip": several names for one address, as podman */
	for (p = s; p < colon;) {
		const char *semi = memchr(p, ';', (size_t)(colon - p));
		size_t n = semi ? (size_t)(semi - p) : (size_t)(colon - p);
		if (!hostname_ok(p, n))
			return ctr_err(err, EINVAL, "invalid --add-host \"%s\": bad host name \"%.*s\"", s, (int)n, p);
		p += n + (semi ? 1 : 0);
		if (semi && p == colon)
			return ctr_err(err, EINVAL, "invalid --add-host \"%s\": empty host name", s);
	}
	ip = colon + 1;
	if (!*ip)
		return ctr_err(err, EINVAL, "invalid --add-host \"%s\": empty IP address", s);
	if (!strcmp(ip, "host-gateway"))
		return ctr_err(err, ENOTSUP, "--add-host \"%s\": host-gateway is not supported yet", s);
	if (inet_pton(AF_INET, ip, buf) != 1 && inet_pton(AF_INET6, ip, buf) != 1)
		return ctr_err(err, EINVAL, "invalid --add-host \"%s\": bad IP address \"%s\"", s, ip);
	return 0;
}

/* ---- healthcheck ---- */

int ctr_parse_duration(const char *s, int64_t *ret_ns, struct skiff_err **err)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
	const char *p = s;
	double total = 0;

	if (!s || !*s)
		return ctr_err(err, EINVAL, "invalid duration \"\"");
	if (!strcmp(s, "0")) {
		*ret_ns = 0;
		return 0;
	}
	while (*p) {
		char *end;
		if (!isdigit((unsigned char)*p) && *p != '.')
			return ctr_err(err, EINVAL, "invalid duration \"%.64s\"", s);
		double v = strtod(p, &end);
		if (end == p)
			return ctr_err(err, EINVAL, "invalid duration \"%.64s\"", s);
		p = end;
		size_t best = 0, best_len = 0;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			size_t n = strlen(units[i].unit);
			if (!strncmp(p, units[i].unit, n) && n > best_len) {
				best = i;
				best_len = n;
			}
		}
		if (!best_len)
			return ctr_err(err, EINVAL, "invalid duration \"%.64s\": missing unit (ns, us, ms, s, m, h)",
				       s);
		total += v * units[best].ns;
		p += best_len;
	}
	if (!(total >= 0) || total > 9.2e18)
		return ctr_err(err, EINVAL, "invalid duration \"%.64s\": out of range", s);
	*ret_ns = (int64_t)total;
	return 0;
}

void ctr_resolve_health(struct ctr_config *c, const struct spec_healthcheck *img)
{
	if (!c->health_test.len && img)
		for (size_t i = 0; i < img->test.len; i++)
			strv_push(&c->health_test, img->test.v[i]);
	if (c->health_interval < 0)
		c->health_interval = img && img->interval > 0 ? img->interval : 30 * 1000000000LL;
	if (c->health_timeout < 0)
		c->health_timeout = img && img->timeout > 0 ? img->timeout : 30 * 1000000000LL;
	if (c->health_start_period < 0)
		c->health_start_period = img && img->start_period > 0 ? img->start_period : 0;
	if (c->health_retries == CTR_HEALTH_UNSET)
		c->health_retries = img && img->retries > 0 && img->retries < 1000000 ? (unsigned)img->retries : 3;
}

/* ---- published ports ---- */

int ctr_parse_publish(const char *s, struct ctr_config *c, struct skiff_err **err)
{
	struct net_port p;
	if (net_parse_port(s, &p, err) < 0)
		return -1;
	ALLOC_GROW(c->ports, c->n_ports + 1, c->alloc_ports);
	c->ports[c->n_ports++] = p;
	return 0;
}

int ctr_publish_exposed(struct ctr_config *c, const struct strv *exposed, struct skiff_err **err)
{
	for (size_t i = 0; i < exposed->len; i++) {
		struct net_port p;
		if (net_parse_expose(exposed->v[i], &p, err) < 0)
			return -1;
		for (unsigned k = 0; k < p.range; k++) {
			unsigned port = p.ctr_port + k;
			bool taken = false;
			for (size_t j = 0; !taken && j < c->n_ports; j++)
				taken = !strcmp(c->ports[j].proto, p.proto) && port >= c->ports[j].ctr_port &&
					port < (unsigned)c->ports[j].ctr_port + c->ports[j].range;
			if (taken)
				continue;
			struct net_port one = p;
			one.ctr_port = (uint16_t)port;
			one.range = 1;
			ALLOC_GROW(c->ports, c->n_ports + 1, c->alloc_ports);
			c->ports[c->n_ports++] = one;
		}
	}
	return 0;
}

struct json *ctr_ports_json(const struct ctr_config *c)
{
	struct json *o = json_new_object();
	for (size_t i = 0; i < c->n_ports; i++) {
		const struct net_port *p = &c->ports[i];
		for (unsigned k = 0; k < p->range; k++) {
			char key[16], hp[8];
			snprintf(key, sizeof(key), "%u/%s", p->ctr_port + k, p->proto);
			snprintf(hp, sizeof(hp), "%u", p->host_port + k);
			struct json *arr = json_object_get(o, key);
			if (!arr) {
				arr = json_new_array();
				json_object_set(o, key, arr);
			}
			struct json *b = json_new_object();
			json_object_set_string(b, "HostIp", p->host_ip);
			json_object_set_string(b, "HostPort", hp);
			json_array_append(arr, b);
		}
	}
	return o;
}
