/* Image documents: media types, string maps, times, GOARCH, typed JSON readers,
 * descriptors, docker-archive manifest.json / repositories and the OCI layout file.
 * Manifests and indexes are in image_manifest.c, image configs in image_config.c. */
#include "pkg/spec/image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pkg/spec/image_internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

/* ---- media types ---- */

static const struct {
	const char *mt;
	enum spec_format fmt;
	enum spec_compression comp;
	bool nondistributable;
} layer_types[] = {
	{SPEC_MT_OCI_LAYER, SPEC_FORMAT_OCI, SPEC_COMPRESSION_NONE, false},
	{SPEC_MT_OCI_LAYER_GZIP, SPEC_FORMAT_OCI, SPEC_COMPRESSION_GZIP, false},
	{SPEC_MT_OCI_LAYER_ZSTD, SPEC_FORMAT_OCI, SPEC_COMPRESSION_ZSTD, false},
	{SPEC_MT_OCI_LAYER_ND, SPEC_FORMAT_OCI, SPEC_COMPRESSION_NONE, true},
	{SPEC_MT_OCI_LAYER_ND_GZIP, SPEC_FORMAT_OCI, SPEC_COMPRESSION_GZIP, true},
	{SPEC_MT_OCI_LAYER_ND_ZSTD, SPEC_FORMAT_OCI, SPEC_COMPRESSION_ZSTD, true},
	{SPEC_MT_DOCKER_LAYER, SPEC_FORMAT_DOCKER, SPEC_COMPRESSION_NONE, false},
	{SPEC_MT_DOCKER_LAYER_GZIP, SPEC_FORMAT_DOCKER, SPEC_COMPRESSION_GZIP, false},
	{SPEC_MT_DOCKER_FOREIGN_LAYER, SPEC_FORMAT_DOCKER, SPEC_COMPRESSION_NONE, true},
	{SPEC_MT_DOCKER_FOREIGN_LAYER_GZIP, SPEC_FORMAT_DOCKER, SPEC_COMPRESSION_GZIP, true},
};

static int layer_type_index(const char *mt)
{
	if (!mt)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(layer_types); i++)
		if (strcmp(mt, layer_types[i].mt) == 0)
			return (int)i;
	return -1;
}

static bool restricted_name_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return !first && c && strchr("!#$&-^_.+", c);
}

static size_t restricted_name_len(const char *s)
{
	size_t n = 0;
	while (restricted_name_char(s[n], n == 0))
		n++;
	return n;
}

bool spec_media_type_valid(const char *mt)
{
	size_t n;
	if (!mt)
		return false;
	n = restricted_name_len(mt);
	if (n == 0 || n > 127 || mt[n] != '/')
		return false;
	mt += n + 1;
	n = restricted_name_len(mt);
	return n > 0 && n <= 127 && mt[n] == '\0';
}

bool spec_layer_media_type_known(const char *mt)
{
	return layer_type_index(mt) >= 0;
}

enum spec_compression spec_layer_compression(const char *mt)
{
	int i = layer_type_index(mt);
	return i < 0 ? SPEC_COMPRESSION_UNKNOWN : layer_types[i].comp;
}

bool spec_layer_nondistributable(const char *mt)
{
	int i = layer_type_index(mt);
	return i >= 0 && layer_types[i].nondistributable;
}

const char *spec_layer_media_type(enum spec_format fmt, enum spec_compression c)
{
	for (size_t i = 0; i < ARRAY_SIZE(layer_types); i++)
		if (layer_types[i].fmt == fmt && layer_types[i].comp == c && !layer_types[i].nondistributable)
			return layer_types[i].mt;
	return NULL;
}

static bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

bool spec_media_type_is_index(const char *mt)
{
	return streq(mt, SPEC_MT_OCI_INDEX) || streq(mt, SPEC_MT_DOCKER_LIST);
}

bool spec_media_type_is_manifest(const char *mt)
{
	return streq(mt, SPEC_MT_OCI_MANIFEST) || streq(mt, SPEC_MT_DOCKER_MANIFEST);
}

bool spec_media_type_is_config(const char *mt)
{
	return streq(mt, SPEC_MT_OCI_CONFIG) || streq(mt, SPEC_MT_DOCKER_CONFIG);
}

int spec_media_type_format(const char *mt)
{
	int i = layer_type_index(mt);
	if (i >= 0)
		return (int)layer_types[i].fmt;
	if (streq(mt, SPEC_MT_OCI_INDEX) || streq(mt, SPEC_MT_OCI_MANIFEST) || streq(mt, SPEC_MT_OCI_CONFIG))
		return SPEC_FORMAT_OCI;
	if (streq(mt, SPEC_MT_DOCKER_LIST) || streq(mt, SPEC_MT_DOCKER_MANIFEST) || streq(mt, SPEC_MT_DOCKER_CONFIG))
		return SPEC_FORMAT_DOCKER;
	return -1;
}

/* ---- times ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (era arithmetic). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *ret_y, int *ret_m, int *ret_d)
{
	int64_t era, doe, yoe, y, doy, mp;
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*ret_d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*ret_m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*ret_y = y + (*ret_m <= 2);
}

static bool leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* n decimal digits at s; -1 when any is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int spec_time_parse(const char *s, struct spec_time *ret, struct skiff_err **err)
{
	int year, mon, day, hour, min, sec, nsec = 0, off = 0;
	const char *p;

	if (!s)
		return err_makex(err, EINVAL, "invalid time: missing");
	if (strnlen(s, 20) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
	    s[16] != ':')
		goto bad;
	year = digits(s, 4);
	mon = digits(s + 5, 2);
	day = digits(s + 8, 2);
	hour = digits(s + 11, 2);
	min = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (year < 0 || mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour < 0 || hour > 23 ||
	    min < 0 || min > 59 || sec < 0 || sec > 59)
		goto bad;
	p = s + 19;
	if (*p == '.') {
		int n = 0;
		p++;
		while (*p >= '0' && *p <= '9') {
			if (n < 9)
				nsec = nsec * 10 + (*p - '0');
			n++;
			p++;
		}
		if (n == 0)
			goto bad;
		for (; n < 9; n++)
			nsec *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (strnlen(p, 6) < 6 || p[3] != ':')
			goto bad;
		oh = digits(p + 1, 2);
		om = digits(p + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			goto bad;
		off = (oh * 60 + om) * 60;
		if (*p == '-')
			off = -off;
		p += 6;
	} else {
		goto bad;
	}
	if (*p)
		goto bad;
	ret->sec = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec - off;
	ret->nsec = nsec;
	ret->set = true;
	return 0;
bad:
	return err_makex(err, EINVAL, "invalid RFC 3339 time \"%.64s\"", s);
}

int spec_time_format(const struct spec_time *t, struct strbuf *out, struct skiff_err **err)
{
	int64_t days, rem, y;
	int m, d;

	if (!t->set)
		return err_makex(err, EINVAL, "cannot format an unset time");
	if (t->nsec < 0 || t->nsec > 999999999)
		return err_makex(err, EINVAL, "time: nanoseconds %d out of range", (int)t->nsec);
	days = t->sec / 86400;
	rem = t->sec % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return err_makex(err, EINVAL, "time: year %lld outside 0000-9999", (long long)y);
	strbuf_addf(out, "%04d-%02d-%02dT%02d:%02d:%02d", (int)y, m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
		    (int)(rem % 60));
	if (t->nsec) {
		char frac[16];
		int n = 9;
		snprintf(frac, sizeof(frac), "%09d", (int)t->nsec);
		while (n > 0 && frac[n - 1] == '0')
			n--;
		strbuf_addch(out, '.');
		strbuf_add(out, frac, (size_t)n);
	}
	strbuf_addch(out, 'Z');
	return 0;
}

struct spec_time spec_time_now(void)
{
	struct timespec ts;
	struct spec_time t = {0};
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		abort(); /* cannot fail with a valid clock and pointer */
	t.sec = ts.tv_sec;
	t.nsec = (int32_t)ts.tv_nsec;
	t.set = true;
	return t;
}

/* ---- typed JSON readers ---- */

static bool absent(const struct json *v)
{
	return !v || v->type == JSON_NULL;
}

/* A string value without NUL bytes; EINVAL naming what otherwise. */
static int string_value(const struct json *v, const char *what, const char **ret, struct skiff_err **err)
{
	if (!json_is(v, JSON_STRING))
		return err_makex(err, EINVAL, "%s: expected a string, got %s", what, specj_type_name(v));
	if (strlen(v->u.str.s) != v->u.str.len)
		return err_makex(err, EINVAL, "%s: string contains a NUL byte", what);
	*ret = v->u.str.s;
	return 0;
}

int specj_string(const struct json *obj, const char *key, bool required, char **ret, struct skiff_err **err)
{
	struct json *v = json_object_get(obj, key);
	const char *s;

	if (absent(v)) {
		if (required)
			return err_makex(err, EINVAL, "%s: missing", key);
		return 0;
	}
	if (string_value(v, key, &s, err) < 0)
		return -1;
	free(*ret);
	*ret = xstrdup(s);
	return 0;
}

int specj_strv(const struct json *obj, const char *key, bool allow_string, struct strv *out, struct skiff_err **err)
{
	struct json *v = json_object_get(obj, key);
	cleanup_strv struct strv sv = STRV_INIT;
	const char *s;

	if (absent(v))
		return 0;
	if (allow_string && v->type == JSON_STRING) {
		if (string_value(v, key, &s, err) < 0)
			return -1;
		strv_push(&sv, s);
	} else if (v->type == JSON_ARRAY) {
		for (size_t i = 0; i < v->u.arr.len; i++) {
			struct json *it = v->u.arr.items[i];
			if (!json_is(it, JSON_STRING))
				return err_makex(err, EINVAL, "%s[%zu]: expected a string, got %s", key, i,
						 specj_type_name(it));
			if (strlen(it->u.str.s) != it->u.str.len)
				return err_makex(err, EINVAL, "%s[%zu]: string contains a NUL byte", key, i);
			strv_push(&sv, it->u.str.s);
		}
	} else {
		return err_makex(err, EINVAL, "%s: expected an array of strings, got %s", key, specj_type_name(v));
	}
	strv_release(out);
	*out = sv;
	sv = (struct strv)STRV_INIT;
	return 0;
}

int specj_map(const struct json *obj, const char *key, struct spec_map *out, struct skiff_err **err)
{
	struct json *v = json_object_get(obj, key);
	struct spec_map m = {0};

	if (absent(v))
		return 0;
	if (v->type != JSON_OBJECT)
		return err_makex(err, EINVAL, "%s: expected an object of strings, got %s", key, specj_type_name(v));
	for (size_t i = 0; i < v->u.obj.len; i++) {
		struct json *val = v->u.obj.vals[i];
		const char *s;
		if (!json_is(val, JSON_STRING) || strlen(val->u.str.s) != val->u.str.len) {
			spec_map_release(&m);
			if (!json_is(val, JSON_STRING))
				return err_makex(err, EINVAL, "%s: \"%.128s\": expected a string, got %s", key,
						 v->u.obj.keys[i], specj_type_name(val));
			return err_makex(err, EINVAL, "%s: \"%.128s\": string contains a NUL byte", key,
					 v->u.obj.keys[i]);
		}
		/* The DOM's keys are unique already: append. */
		s = val->u.str.s;
		ALLOC_GROW(m.items, m.len + 1, m.alloc);
		m.items[m.len].key = xstrdup(v->u.obj.keys[i]);
		m.items[m.len].value = xstrdup(s);
		m.len++;
	}
	spec_map_release(out);
	*out = m;
	return 0;
}

int specj_set(const struct json *obj, const char *key, struct strv *out, struct skiff_err **err)
{
	struct json *v = json_object_get(obj, key);
	cleanup_strv struct strv sv = STRV_INIT;

	if (absent(v))
		return 0;
	if (v->type != JSON_OBJECT)
		return err_makex(err, EINVAL, "%s: expected an object, got %s", key, specj_type_name(v));
	for (size_t i = 0; i < v->u.obj.len; i++) {
		struct json *val = v->u.obj.vals[i];
		if (!absent(val) && val->type != JSON_OBJECT)
			return err_makex(err, EINVAL, "%s: \"%.128s\": expected an object, got %s", key,
					 v->u.obj.keys[i], specj_type_name(val));
		strv_push(&sv, v->u.obj.keys[i]);
	}
	strv_release(out);
	*out = sv;
	sv = (struct strv)STRV_INIT;
	return 0;
}

int specj_int(const struct json *obj, const char *key, bool required, int64_t *ret, bool *ret_present,
	      struct skiff_err **err)
{
	struct json *v = json_object_get(obj, key);

	if (absent(v)) {
		if (required)
			return err_makex(err, EINVAL, "%s: missing", key);
		if (ret_present)
			*ret_present = false;
		return 0;
	}
	if (v->type != JSON_NUMBER)
		return err_makex(err, EINVAL, "%s: expected an integer, got %s", key, specj_type_name(v));
	if (!v->u.num.is_int)
		return err_makex(err, EINVAL, "%s: expected an integer, got %g", key, v->u.num.d);
	*ret = v->u.num.i;
	if (ret_present)
		*ret_present = true;
	return 0;
}

int specj_bool(const struct json *obj, const char *key, bool *ret, struct skiff_err **err)
{
	struct json *v = json_object_get(obj, key);

	if (absent(v))
		return 0;
	if (v->type != JSON_BOOL)
		return err_makex(err, EINVAL, "%s: expected a boolean, got %s", key, specj_type_name(v));
	*ret = v->u.b;
	return 0;
}

int specj_time(const struct json *obj, const char *key, struct spec_time *ret, struct skiff_err **err)
{
	cleanup_free char *s = NULL;
	struct spec_time t;

	if (specj_string(obj, key, false, &s, err) < 0)
		return -1;
	if (!s)
		return 0;
	if (spec_time_parse(s, &t, err) < 0)
		return err_wrap(err, "%s", key);
	*ret = t;
	return 0;
}

int specj_schema_version(const struct json *obj, struct skiff_err **err)
{
	int64_t v;
	if (specj_int(obj, "schemaVersion", true, &v, NULL, err) < 0)
		return -1;
	if (v == 1)
		return err_makex(err, EINVAL, "schemaVersion: Docker schema1 manifests are not supported");
	if (v != 2)
		return err_makex(err, EINVAL, "schemaVersion: unsupported version %lld (want 2)", (long long)v);
	return 0;
}

int specj_digest_check(const char *s, struct skiff_err **err)
{
	if (digest_valid(s))
		return 0;
	if (!s)
		return err_makex(err, EINVAL, "missing digest");
	if (strlen(s) > 80)
		return err_makex(err, EINVAL, "invalid digest \"%.71s...\"", s);
	return digest_check(s, err);
}

/* ---- descriptors ---- */

int specj_media_type(const struct json *obj, const char *key, bool required, char **ret, struct skiff_err **err)
{
	cleanup_free char *mt = NULL;
	if (specj_string(obj, key, required, &mt, err) < 0)
		return -1;
	if (mt && !spec_media_type_valid(mt))
		return err_makex(err, EINVAL, "%s: invalid media type \"%.128s\"", key, mt);
	free(*ret);
	*ret = TAKE_PTR(mt);
	return 0;
}

void spec_platform_free(struct spec_platform *p)
{
	if (!p)
		return;
	free(p->architecture);
	free(p->os);
	free(p->os_version);
	strv_release(&p->os_features);
	free(p->variant);
	free(p);
}

struct spec_platform *spec_platform_new(const char *architecture, const char *os, const char *variant)
{
	struct spec_platform *p = xzalloc(sizeof(*p));
	p->architecture = architecture ? xstrdup(architecture) : NULL;
	p->os = os ? xstrdup(os) : NULL;
	p->variant = variant ? xstrdup(variant) : NULL;
	return p;
}

struct spec_platform *spec_platform_copy(const struct spec_platform *src)
{
	struct spec_platform *p;
	if (!src)
		return NULL;
	p = spec_platform_new(src->architecture, src->os, src->variant);
	p->os_version = src->os_version ? xstrdup(src->os_version) : NULL;
	for (size_t i = 0; i < src->os_features.len; i++)
		strv_push(&p->os_features, src->os_features.v[i]);
	return p;
}

DEFINE_CLEANUP_FUNC(struct spec_platform, spec_platform_free)

static int parse_platform(const struct json *j, struct spec_platform **ret, struct skiff_err **err)
{
	__attribute__((cleanup(spec_platform_freep))) struct spec_platform *p = NULL;

	if (specj_expect_object(j, NULL, err) < 0)
		return -1;
	p = xzalloc(sizeof(*p));
	if (specj_string(j, "architecture", true, &p->architecture, err) < 0 ||
	    specj_string(j, "os", true, &p->os, err) < 0 ||
	    specj_string(j, "os.version", false, &p->os_version, err) < 0 ||
	    specj_strv(j, "os.features", false, &p->os_features, err) < 0 ||
	    specj_string(j, "variant", false, &p->variant, err) < 0)
		return -1;
	if (!*p->architecture || !*p->os)
		return err_makex(err, EINVAL, "%s: empty", *p->architecture ? "os" : "architecture");
	*ret = TAKE_PTR(p);
	return 0;
}

void spec_descriptor_release(struct spec_descriptor *d)
{
	free(d->media_type);
	free(d->digest);
	strv_release(&d->urls);
	spec_map_release(&d->annotations);
	free(d->data);
	spec_platform_free(d->platform);
	free(d->artifact_type);
	memset(d, 0, sizeof(*d));
}

void spec_descriptor_copy(struct spec_descriptor *dst, const struct spec_descriptor *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->media_type = src->media_type ? xstrdup(src->media_type) : NULL;
	dst->digest = src->digest ? xstrdup(src->digest) : NULL;
	dst->size = src->size;
	for (size_t i = 0; i < src->urls.len; i++)
		strv_push(&dst->urls, src->urls.v[i]);
	spec_map_copy(&dst->annotations, &src->annotations);
	dst->data = src->data ? xstrdup(src->data) : NULL;
	dst->platform = spec_platform_copy(src->platform);
	dst->artifact_type = src->artifact_type ? xstrdup(src->artifact_type) : NULL;
}

int specj_descriptor(const struct json *j, struct spec_descriptor *out, struct skiff_err **err)
{
	struct json *p;

	if (specj_expect_object(j, NULL, err) < 0)
		return -1;
	if (specj_media_type(j, "mediaType", true, &out->media_type, err) < 0 ||
	    specj_string(j, "digest", true, &out->digest, err) < 0)
		goto fail;
	if (specj_digest_check(out->digest, err) < 0) {
		err_wrap(err, "digest");
		goto fail;
	}
	if (specj_int(j, "size", true, &out->size, NULL, err) < 0)
		goto fail;
	if (out->size < 0) {
		err_makex(err, EINVAL, "size: must be >= 0, got %lld", (long long)out->size);
		goto fail;
	}
	if (specj_strv(j, "urls", false, &out->urls, err) < 0 ||
	    specj_map(j, "annotations", &out->annotations, err) < 0 ||
	    specj_string(j, "data", false, &out->data, err) < 0 ||
	    specj_media_type(j, "artifactType", false, &out->artifact_type, err) < 0)
		goto fail;
	p = json_object_get(j, "platform");
	if (!absent(p) && parse_platform(p, &out->platform, err) < 0) {
		err_wrap(err, "platform");
		goto fail;
	}
	return 0;
fail:
	spec_descriptor_release(out);
	return -1;
}

int spec_descriptor_check(const struct spec_descriptor *d, struct skiff_err **err)
{
	if (!spec_media_type_valid(d->media_type))
		return err_makex(err, EINVAL, "mediaType: invalid media type \"%.128s\"",
				 d->media_type ? d->media_type : "");
	if (specj_digest_check(d->digest, err) < 0)
		return err_wrap(err, "digest");
	if (d->size < 0)
		return err_makex(err, EINVAL, "size: must be >= 0, got %lld", (long long)d->size);
	if (d->artifact_type && !spec_media_type_valid(d->artifact_type))
		return err_makex(err, EINVAL, "artifactType: invalid media type \"%.128s\"", d->artifact_type);
	if (d->platform && (!d->platform->architecture || !*d->platform->architecture))
		return err_makex(err, EINVAL, "platform: architecture: missing");
	if (d->platform && (!d->platform->os || !*d->platform->os))
		return err_makex(err, EINVAL, "platform: os: missing");
	return 0;
}

int spec_descriptor_set(struct spec_descriptor *d, const char *media_type, const char *digest, int64_t size,
			struct skiff_err **err)
{
	if (!spec_media_type_valid(media_type))
		return err_makex(err, EINVAL, "invalid media type \"%.128s\"", media_type ? media_type : "");
	if (specj_digest_check(digest, err) < 0)
		return -1;
	if (size < 0)
		return err_makex(err, EINVAL, "invalid size %lld for %s", (long long)size, digest);
	/* Copy before freeing: the arguments may alias d's own strings. */
	char *mt = xstrdup(media_type), *dg = xstrdup(digest);
	free(d->media_type);
	d->media_type = mt;
	free(d->digest);
	d->digest = dg;
	d->size = size;
	return 0;
}

void spec_descriptor_list_release(struct spec_descriptor_list *l)
{
	for (size_t i = 0; i < l->len; i++)
		spec_descriptor_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct spec_descriptor *spec_descriptor_list_add(struct spec_descriptor_list *l)
{
	ALLOC_GROW(l->v, l->len + 1, l->alloc);
	memset(&l->v[l->len], 0, sizeof(l->v[0]));
	return &l->v[l->len++];
}

/* ---- generation helpers ---- */

void specj_add_string(struct json *obj, const char *key, const char *s)
{
	if (s && *s)
		json_object_set_string(obj, key, s);
}

void specj_add_strv(struct json *obj, const char *key, const struct strv *sv)
{
	struct json *a;
	if (!sv->len)
		return;
	a = json_new_array();
	for (size_t i = 0; i < sv->len; i++)
		json_array_append(a, json_new_string(sv->v[i]));
	json_object_set(obj, key, a);
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp((*(const struct spec_kv *const *)a)->key, (*(const struct spec_kv *const *)b)->key);
}

void specj_add_map(struct json *obj, const char *key, const struct spec_map *m)
{
	cleanup_free const struct spec_kv **sorted = NULL;
	struct json *o;

	if (!m->len)
		return;
	sorted = xcalloc(m->len, sizeof(*sorted));
	for (size_t i = 0; i < m->len; i++)
		sorted[i] = &m->items[i];
	qsort(sorted, m->len, sizeof(*sorted), cmp_kv);
	o = json_new_object();
	for (size_t i = 0; i < m->len; i++)
		json_object_set_string(o, sorted[i]->key, sorted[i]->value);
	json_object_set(obj, key, o);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void specj_add_set(struct json *obj, const char *key, const struct strv *sv)
{
	cleanup_free char **sorted = NULL;
	struct json *o;

	if (!sv->len)
		return;
	sorted = xcalloc(sv->len, sizeof(*sorted));
	memcpy(sorted, sv->v, sv->len * sizeof(*sorted));
	qsort(sorted, sv->len, sizeof(*sorted), cmp_str);
	o = json_new_object();
	for (size_t i = 0; i < sv->len; i++)
		json_object_set(o, sorted[i], json_new_object());
	json_object_set(obj, key, o);
}

static struct json *platform_gen(const struct spec_platform *p)
{
	struct json *o = json_new_object();
	json_object_set_string(o, "architecture", p->architecture ? p->architecture : "");
	json_object_set_string(o, "os", p->os ? p->os : "");
	specj_add_string(o, "os.version", p->os_version);
	specj_add_strv(o, "os.features", &p->os_features);
	specj_add_string(o, "variant", p->variant);
	return o;
}

struct json *specj_descriptor_gen(const struct spec_descriptor *d, enum spec_format fmt)
{
	struct json *o = json_new_object();

	json_object_set_string(o, "mediaType", d->media_type);
	if (fmt == SPEC_FORMAT_DOCKER) {
		json_object_set_int(o, "size", d->size);
		json_object_set_string(o, "digest", d->digest);
	} else {
		json_object_set_string(o, "digest", d->digest);
		json_object_set_int(o, "size", d->size);
	}
	specj_add_strv(o, "urls", &d->urls);
	specj_add_map(o, "annotations", &d->annotations);
	if (fmt == SPEC_FORMAT_OCI)
		specj_add_string(o, "data", d->data);
	if (d->platform)
		json_object_set(o, "platform", platform_gen(d->platform));
	if (fmt == SPEC_FORMAT_OCI)
		specj_add_string(o, "artifactType", d->artifact_type);
	return o;
}

void specj_emit(const struct json *doc, struct strbuf *out, char ret_digest[DIGEST_STR_LEN + 1])
{
	size_t start = out->len;
	json_dump(doc, 0, out);
	if (ret_digest)
		digest_buf(out->buf + start, out->len - start, ret_digest);
}

/* ---- docker-archive manifest.json ---- */

static void archive_image_release(struct spec_archive_image *im)
{
	free(im->config);
	strv_release(&im->repo_tags);
	strv_release(&im->layers);
	free(im->parent);
	for (size_t i = 0; i < im->n_layer_sources; i++) {
		free(im->layer_sources[i].diff_id);
		spec_descriptor_release(&im->layer_sources[i].desc);
	}
	free(im->layer_sources);
	memset(im, 0, sizeof(*im));
}

void spec_archive_manifest_free(struct spec_archive_manifest *am)
{
	if (!am)
		return;
	for (size_t i = 0; i < am->len; i++)
		archive_image_release(&am->images[i]);
	free(am->images);
	free(am);
}

struct spec_archive_manifest *spec_archive_manifest_new(void)
{
	return xzalloc(sizeof(struct spec_archive_manifest));
}

struct spec_archive_image *spec_archive_manifest_add(struct spec_archive_manifest *am)
{
	ALLOC_GROW(am->images, am->len + 1, am->alloc);
	memset(&am->images[am->len], 0, sizeof(am->images[0]));
	return &am->images[am->len++];
}

static int check_paths(const struct strv *sv, const char *key, struct skiff_err **err)
{
	for (size_t i = 0; i < sv->len; i++)
		if (!*sv->v[i])
			return err_makex(err, EINVAL, "%s[%zu]: empty path", key, i);
	return 0;
}

static int parse_archive_image(const struct json *j, struct spec_archive_image *im, struct skiff_err **err)
{
	struct json *ls;

	if (specj_expect_object(j, NULL, err) < 0 || specj_string(j, "Config", true, &im->config, err) < 0)
		return -1;
	if (!*im->config)
		return err_makex(err, EINVAL, "Config: empty path");
	if (specj_strv(j, "RepoTags", false, &im->repo_tags, err) < 0 ||
	    specj_strv(j, "Layers", false, &im->layers, err) < 0 || check_paths(&im->layers, "Layers", err) < 0 ||
	    specj_string(j, "Parent", false, &im->parent, err) < 0)
		return -1;
	if (!json_object_get(j, "Layers"))
		return err_makex(err, EINVAL, "Layers: missing");
	for (size_t i = 0; i < im->repo_tags.len; i++)
		if (!*im->repo_tags.v[i])
			return err_makex(err, EINVAL, "RepoTags[%zu]: empty", i);
	ls = json_object_get(j, "LayerSources");
	if (absent(ls))
		return 0;
	if (ls->type != JSON_OBJECT)
		return err_makex(err, EINVAL, "LayerSources: expected an object, got %s", specj_type_name(ls));
	for (size_t i = 0; i < ls->u.obj.len; i++) {
		const char *key = ls->u.obj.keys[i];
		struct spec_layer_source *src;
		if (specj_digest_check(key, err) < 0)
			return err_wrap(err, "LayerSources");
		ALLOC_GROW(im->layer_sources, im->n_layer_sources + 1, im->alloc_layer_sources);
		src = &im->layer_sources[im->n_layer_sources];
		memset(src, 0, sizeof(*src));
		if (specj_descriptor(ls->u.obj.vals[i], &src->desc, err) < 0)
			return err_wrap(err, "LayerSources: %s", key);
		src->diff_id = xstrdup(key);
		im->n_layer_sources++;
	}
	return 0;
}

int spec_archive_manifest_parse(const char *buf, size_t len, struct spec_archive_manifest **ret, struct skiff_err **err)
{
	cleanup_json struct json *j = NULL;
	__attribute__((cleanup(spec_archive_manifest_freep))) struct spec_archive_manifest *am = NULL;

	if (json_parse(buf, len, &j, err) < 0)
		return err_wrap(err, "docker-archive manifest.json");
	if (!json_is(j, JSON_ARRAY))
		return err_makex(err, EINVAL, "docker-archive manifest.json: expected an array, got %s",
				 specj_type_name(j));
	am = spec_archive_manifest_new();
	for (size_t i = 0; i < j->u.arr.len; i++) {
		struct spec_archive_image *im = spec_archive_manifest_add(am);
		if (parse_archive_image(j->u.arr.items[i], im, err) < 0)
			return err_wrap(err, "docker-archive manifest.json: [%zu]", i);
	}
	*ret = TAKE_PTR(am);
	return 0;
}

static int cmp_layer_source(const void *a, const void *b)
{
	return strcmp((*(const struct spec_layer_source *const *)a)->diff_id,
		      (*(const struct spec_layer_source *const *)b)->diff_id);
}

static int gen_archive_image(const struct spec_archive_image *im, struct json *o, struct skiff_err **err)
{
	struct json *a;

	if (!im->config || !*im->config)
		return err_makex(err, EINVAL, "Config: missing");
	if (check_paths(&im->layers, "Layers", err) < 0)
		return -1;
	json_object_set_string(o, "Config", im->config);
	a = json_new_array();
	for (size_t i = 0; i < im->repo_tags.len; i++)
		json_array_append(a, json_new_string(im->repo_tags.v[i]));
	json_object_set(o, "RepoTags", a);
	a = json_new_array();
	for (size_t i = 0; i < im->layers.len; i++)
		json_array_append(a, json_new_string(im->layers.v[i]));
	json_object_set(o, "Layers", a);
	specj_add_string(o, "Parent", im->parent);
	if (im->n_layer_sources) {
		cleanup_free const struct spec_layer_source **sorted = xcalloc(im->n_layer_sources, sizeof(*sorted));
		struct json *ls = json_new_object();
		json_object_set(o, "LayerSources", ls);
		for (size_t i = 0; i < im->n_layer_sources; i++) {
			const struct spec_layer_source *src = &im->layer_sources[i];
			if (specj_digest_check(src->diff_id, err) < 0)
				return err_wrap(err, "LayerSources");
			if (spec_descriptor_check(&src->desc, err) < 0)
				return err_wrap(err, "LayerSources: %s", src->diff_id);
			sorted[i] = src;
		}
		qsort(sorted, im->n_layer_sources, sizeof(*sorted), cmp_layer_source);
		for (size_t i = 0; i < im->n_layer_sources; i++)
			json_object_set(ls, sorted[i]->diff_id,
					specj_descriptor_gen(&sorted[i]->desc, SPEC_FORMAT_DOCKER));
	}
	return 0;
}

int spec_archive_manifest_generate(const struct spec_archive_manifest *am, struct strbuf *out, struct skiff_err **err)
{
	cleanup_json struct json *doc = json_new_array();

	for (size_t i = 0; i < am->len; i++) {
		struct json *o = json_new_object();
		json_array_append(doc, o);
		if (gen_archive_image(&am->images[i], o, err) < 0)
			return err_wrap(err, "docker-archive manifest.json: [%zu]", i);
	}
	specj_emit(doc, out, NULL);
	return 0;
}

/* ---- docker-archive repositories ---- */

static int cmp_repo_tag(const void *a, const void *b)
{
	const struct spec_repo_tag *x = *(const struct spec_repo_tag *const *)a;
	const struct spec_repo_tag *y = *(const struct spec_repo_tag *const *)b;
	int c = strcmp(x->repo, y->repo);
	return c ? c : strcmp(x->tag, y->tag);
}

int spec_docker_repositories_generate(const struct spec_repo_tag *tags, size_t n, struct strbuf *out,
				      struct skiff_err **err)
{
	cleanup_free const struct spec_repo_tag **sorted = NULL;
	cleanup_json struct json *doc = json_new_object();
	struct json *cur = NULL;

	for (size_t i = 0; i < n; i++) {
		if (!tags[i].repo || !*tags[i].repo)
			return err_makex(err, EINVAL, "repositories: entry %zu: empty repository", i);
		if (!tags[i].tag || !*tags[i].tag)
			return err_makex(err, EINVAL, "repositories: %s: empty tag", tags[i].repo);
		if (!tags[i].id || !digest_hex_valid(tags[i].id))
			return err_makex(err, EINVAL, "repositories: %s:%s: invalid layer id \"%.80s\"", tags[i].repo,
					 tags[i].tag, tags[i].id ? tags[i].id : "");
	}
	if (n) {
		sorted = xcalloc(n, sizeof(*sorted));
		for (size_t i = 0; i < n; i++)
			sorted[i] = &tags[i];
		qsort(sorted, n, sizeof(*sorted), cmp_repo_tag);
	}
	for (size_t i = 0; i < n; i++) {
		if (i && cmp_repo_tag(&sorted[i - 1], &sorted[i]) == 0)
			return err_makex(err, EINVAL, "repositories: duplicate tag %s:%s", sorted[i]->repo,
					 sorted[i]->tag);
		if (!i || strcmp(sorted[i - 1]->repo, sorted[i]->repo) != 0) {
			cur = json_new_object();
			json_object_set(doc, sorted[i]->repo, cur);
		}
		json_object_set_string(cur, sorted[i]->tag, sorted[i]->id);
	}
	specj_emit(doc, out, NULL);
	return 0;
}

/* ---- OCI layout ---- */

void spec_oci_layout_generate(struct strbuf *out)
{
	cleanup_json struct json *doc = json_new_object();
	json_object_set_string(doc, "imageLayoutVersion", SPEC_OCI_LAYOUT_VERSION);
	specj_emit(doc, out, NULL);
}

int spec_oci_layout_check(const char *buf, size_t len, struct skiff_err **err)
{
	cleanup_json struct json *j = NULL;
	cleanup_free char *v = NULL;

	if (json_parse(buf, len, &j, err) < 0)
		return err_wrap(err, SPEC_OCI_LAYOUT_FILE);
	if (specj_expect_object(j, SPEC_OCI_LAYOUT_FILE, err) < 0)
		return -1;
	if (specj_string(j, "imageLayoutVersion", true, &v, err) < 0)
		return err_wrap(err, SPEC_OCI_LAYOUT_FILE);
	if (strcmp(v, SPEC_OCI_LAYOUT_VERSION) != 0)
		return err_makex(err, EINVAL, "%s: imageLayoutVersion: unsupported version \"%.64s\"",
				 SPEC_OCI_LAYOUT_FILE, v);
	return 0;
}
