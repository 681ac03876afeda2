/* Internal to pkg/spec/image*.c: typed reads from the JSON DOM with errors naming the
 * key, and descriptor parse/generate shared by manifests, indexes and archives. */
#ifndef SKIFF_SPEC_IMAGE_INTERNAL_H
#define SKIFF_SPEC_IMAGE_INTERNAL_H

#include "pkg/spec/image.h"

/* "string", "object" ... for messages. */
const char *specj_type_name(const struct json *j);
/* An object with clones of obj's keys that are not in known (n names); NULL when there are none. */
struct json *specj_collect_extra(const struct json *obj, const char *const *known, size_t n);
/* Make sure j is an object; EINVAL "what: expected an object, got T" otherwise. */
int specj_expect_object(const struct json *j, const char *what, struct skiff_err **err);
/* Readers: an absent key or JSON null leaves the output untouched (absent), a wrong
 * type is EINVAL naming key. Strings with NUL bytes are rejected. */
int specj_string(const struct json *obj, const char *key, bool required, char **ret, struct skiff_err **err);
/* Array of strings (or, with allow_string, a single string); appended to an empty *out. */
int specj_strv(const struct json *obj, const char *key, bool allow_string, struct strv *out, struct skiff_err **err);
/* Object of strings. */
int specj_map(const struct json *obj, const char *key, struct spec_map *out, struct skiff_err **err);
/* Object whose values are empty objects (or null): its keys. */
int specj_set(const struct json *obj, const char *key, struct strv *out, struct skiff_err **err);
/* Integer (no fraction, fits int64). *ret_present (may be NULL) says whether it was there. */
int specj_int(const struct json *obj, const char *key, bool required, int64_t *ret, bool *ret_present,
	      struct skiff_err **err);
int specj_bool(const struct json *obj, const char *key, bool *ret, struct skiff_err **err);
int specj_time(const struct json *obj, const char *key, struct spec_time *ret, struct skiff_err **err);
/* A string that must be a valid media type (spec_media_type_valid). */
int specj_media_type(const struct json *obj, const char *key, bool required, char **ret, struct skiff_err **err);
/* schemaVersion must be the integer 2. */
int specj_schema_version(const struct json *obj, struct skiff_err **err);
/* A descriptor object into *out (zeroed by the caller; released on failure). */
int specj_descriptor(const struct json *j, struct spec_descriptor *out, struct skiff_err **err);
/* A digest string check with a short message for hostile input. */
int specj_digest_check(const char *s, struct skiff_err **err);

/* Generation helpers: add only when non-empty. Maps and sets are written sorted. */
void specj_add_string(struct json *obj, const char *key, const char *s);
void specj_add_strv(struct json *obj, const char *key, const struct strv *sv);
void specj_add_map(struct json *obj, const char *key, const struct spec_map *m);
void specj_add_set(struct json *obj, const char *key, const struct strv *sv);
struct json *specj_descriptor_gen(const struct spec_descriptor *d, enum spec_format fmt);
/* Dump compact to out and digest the added bytes into ret_digest (may be NULL). */
void specj_emit(const struct json *doc, struct strbuf *out, char ret_digest[DIGEST_STR_LEN + 1]);

void spec_descriptor_list_release(struct spec_descriptor_list *l);
struct spec_descriptor *spec_descriptor_list_add(struct spec_descriptor_list *l);

#endif
