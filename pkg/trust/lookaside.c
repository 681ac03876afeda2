/*
 * registries.d (containers-registries.d(5)) and the lookaside signature storage
 * (containers/image docker/registries_d.go): which URL holds the signatures of an
 * image, and reading and adding them under file:// URLs.
 *
 * The YAML files are read with libyaml, loaded with dlopen() on first use (only pull
 * and push with signatures need it).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "pkg/digest/digest.h"
#include "pkg/trust/internal.h"
#include "pkg/trust/trust.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/strv.h"
#include "vendor-free/xalloc.h"

#define REGD_FILE_MAX (1u << 20)
#define YAML_MAX_DEPTH 64
#define YAML_MAX_NODES 100000

/* ---- libyaml through dlopen ---- */

struct yaml_api {
	int (*parser_initialize)(yaml_parser_t *p);
	void (*parser_delete)(yaml_parser_t *p);
	void (*parser_set_input_string)(yaml_parser_t *p, const unsigned char *input, size_t size);
	int (*parser_parse)(yaml_parser_t *p, yaml_event_t *e);
	void (*event_delete)(yaml_event_t *e);
};

#define YSYM(field, name)                                                                                              \
	{                                                                                                              \
#name, offsetof(struct yaml_api, field)                                                                \
	}

static const struct {
	const char *name;
	size_t off;
} ysyms[] = {
	YSYM(parser_initialize, yaml_parser_initialize),
	YSYM(parser_delete, yaml_parser_delete),
	YSYM(parser_set_input_string, yaml_parser_set_input_string),
	YSYM(parser_parse, yaml_parser_parse),
	YSYM(event_delete, yaml_event_delete),
};

static int yaml_load(struct yaml_api *api, struct skiff_err **err)
{
	void *dl = dlopen("libyaml-0.so.2", RTLD_NOW | RTLD_LOCAL);

	if (!dl)
		return err_makex(err, ENOENT, "load libyaml (install the libyaml-0-2 package): %s", dlerror());
	for (size_t i = 0; i < sizeof(ysyms) / sizeof(ysyms[0]); i++) {
		void *p = dlsym(dl, ysyms[i].name);
		if (!p)
			return err_makex(err, ENOSYS, "libyaml-0.so.2 has no %s", ysyms[i].name);
		memcpy((char *)api + ysyms[i].off, &p, sizeof(p));
	}
	return 0;
}

/* ---- a small YAML tree: scalars, sequences, mappings (keys and values alternate) ---- */

enum ynode_type { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ynode_type type;
	char *s;     /* scalar value */
	bool null;   /* a plain "", "~", "null" scalar */
	size_t line; /* 1-based */
	struct ynode **kids;
	size_t n, alloc;
};

static void ynode_free(struct ynode *y)
{
	if (!y)
		return;
	for (size_t i = 0; i < y->n; i++)
		ynode_free(y->kids[i]);
	free(y->kids);
	free(y->s);
	free(y);
}

struct ybuild {
	const struct yaml_api *api;
	yaml_parser_t parser;
	size_t nodes;
};

static int ynext(struct ybuild *b, yaml_event_t *ev, struct skiff_err **err)
{
	if (!b->api->parser_parse(&b->parser, ev)) {
		yaml_parser_t *p = &b->parser;
		return err_makex(err, EINVAL, "line %zu: %s", p->problem_mark.line + 1,
				 p->problem ? p->problem : "invalid YAML");
	}
	return 0;
}

/* Build the node that starts with ev (consumed). */
static int ybuild_node(struct ybuild *b, yaml_event_t *ev, int depth, struct ynode **ret, struct skiff_err **err)
{
	struct ynode *y;
	yaml_event_type_t end;

	if (++b->nodes > YAML_MAX_NODES)
		return err_makex(err, EINVAL, "more than %d YAML nodes", YAML_MAX_NODES);
	if (depth > YAML_MAX_DEPTH)
		return err_makex(err, EINVAL, "line %zu: nested deeper than %d levels", ev->start_mark.line + 1,
				 YAML_MAX_DEPTH);
	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		y = xzalloc(sizeof(*y));
		y->type = Y_SCALAR;
		y->line = ev->start_mark.line + 1;
		y->s = xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		if (strlen(y->s) != ev->data.scalar.length) {
			ynode_free(y);
			return err_makex(err, EINVAL, "line %zu: NUL byte in a scalar", ev->start_mark.line + 1);
		}
		y->null = ev->data.scalar.plain_implicit && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			  (!*y->s || !strcmp(y->s, "~") || !strcmp(y->s, "null") || !strcmp(y->s, "Null") ||
			   !strcmp(y->s, "NULL"));
		*ret = y;
		return 0;
	}
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		break;
	case YAML_ALIAS_EVENT:
		return err_makex(err, EINVAL, "line %zu: YAML aliases are not supported", ev->start_mark.line + 1);
	default:
		return err_makex(err, EINVAL, "line %zu: unexpected YAML event", ev->start_mark.line + 1);
	}
	y = xzalloc(sizeof(*y));
	y->type = ev->type == YAML_MAPPING_START_EVENT ? Y_MAP : Y_SEQ;
	y->line = ev->start_mark.line + 1;
	end = y->type == Y_MAP ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
	for (;;) {
		yaml_event_t kid;
		struct ynode *k = NULL;
		if (ynext(b, &kid, err) < 0) {
			ynode_free(y);
			return -1;
		}
		if (kid.type == end) {
			b->api->event_delete(&kid);
			break;
		}
		int r = ybuild_node(b, &kid, depth + 1, &k, err);
		b->api->event_delete(&kid);
		if (r < 0) {
			ynode_free(y);
			return -1;
		}
		ALLOC_GROW(y->kids, y->n + 1, y->alloc);
		y->kids[y->n++] = k;
	}
	*ret = y;
	return 0;
}

/* The first document of data, or NULL when it has none. */
static int yaml_parse_doc(const struct yaml_api *api, const char *data, size_t len, struct ynode **ret,
			  struct skiff_err **err)
{
	struct ybuild b = {.api = api};
	struct ynode *root = NULL;
	yaml_event_t ev;
	int r = -1;

	if (!api->parser_initialize(&b.parser))
		return err_makex(err, ENOMEM, "initialise libyaml");
	api->parser_set_input_string(&b.parser, (const unsigned char *)data, len);
	for (;;) {
		if (ynext(&b, &ev, err) < 0)
			goto out;
		yaml_event_type_t t = ev.type;
		if (t == YAML_STREAM_END_EVENT) {
			api->event_delete(&ev);
			break;
		}
		if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_START_EVENT) {
			api->event_delete(&ev);
			continue;
		}
		int rr = ybuild_node(&b, &ev, 0, &root, err);
		api->event_delete(&ev);
		if (rr < 0)
			goto out;
		break; /* the first document only, as yaml.Unmarshal */
	}
	*ret = root;
	root = NULL;
	r = 0;
out:
	ynode_free(root);
	api->parser_delete(&b.parser);
	return r;
}

/* ---- registries.d ---- */

struct section {
	char *scope; /* NULL for default-docker */
	char *file;
	char *lookaside, *lookaside_staging, *sigstore, *sigstore_staging;
};

struct trust_regd {
	struct section *v;
	size_t n, alloc;
	bool has_default;
};

void trust_regd_free(struct trust_regd *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct section *s = &c->v[i];
		free(s->scope), free(s->file), free(s->lookaside), free(s->lookaside_staging);
		free(s->sigstore), free(s->sigstore_staging);
	}
	free(c->v);
	free(c);
}

/* Duplicate keys in a mapping are an error, as in yaml.v3. */
static int check_dup_keys(const struct ynode *map, struct skiff_err **err)
{
	for (size_t i = 0; i + 1 < map->n; i += 2)
		for (size_t j = i + 2; j + 1 < map->n; j += 2)
			if (map->kids[i]->type == Y_SCALAR && map->kids[j]->type == Y_SCALAR &&
			    !strcmp(map->kids[i]->s, map->kids[j]->s))
				return err_makex(err, EINVAL,
						 "line %zu: mapping key \"%s\" already defined at line %zu",
						 map->kids[j]->line, map->kids[j]->s, map->kids[i]->line);
	return 0;
}

static int parse_section(const struct ynode *y, struct section *s, struct skiff_err **err)
{
	if (y->type == Y_SCALAR && y->null)
		return 0;
	if (y->type != Y_MAP)
		return err_makex(err, EINVAL, "line %zu: a section must be a mapping", y->line);
	if (check_dup_keys(y, err) < 0)
		return -1;
	for (size_t i = 0; i + 1 < y->n; i += 2) {
		const struct ynode *k = y->kids[i], *v = y->kids[i + 1];
		char **dst = NULL;
		if (k->type != Y_SCALAR)
			return err_makex(err, EINVAL, "line %zu: a key must be a scalar", k->line);
		if (!strcmp(k->s, "lookaside"))
			dst = &s->lookaside;
		else if (!strcmp(k->s, "lookaside-staging"))
			dst = &s->lookaside_staging;
		else if (!strcmp(k->s, "sigstore"))
			dst = &s->sigstore;
		else if (!strcmp(k->s, "sigstore-staging"))
			dst = &s->sigstore_staging;
		else
			continue; /* use-sigstore-attachments and unknown keys: ignored, as yaml.v3 does */
		if (v->type != Y_SCALAR)
			return err_makex(err, EINVAL, "line %zu: %s must be a string", v->line, k->s);
		free(*dst);
		*dst = v->null || !*v->s ? NULL : xstrdup(v->s);
	}
	return 0;
}

static struct section *find_section(const struct trust_regd *c, const char *scope)
{
	for (size_t i = 0; i < c->n; i++)
		if ((scope == NULL) == (c->v[i].scope == NULL) && (!scope || !strcmp(scope, c->v[i].scope)))
			return &c->v[i];
	return NULL;
}

static int add_section(struct trust_regd *c, const char *scope, const char *file, const struct ynode *y,
		       struct skiff_err **err)
{
	struct section s = {0}, *old = find_section(c, scope);

	if (old && scope)
		return err_makex(err, EINVAL,
				 "Error parsing signature storage configuration: \"docker\" namespace \"%s\" defined "
				 "both in \"%s\" and \"%s\"",
				 scope, old->file, file);
	if (old)
		return err_makex(err, EINVAL,
				 "Error parsing signature storage configuration: \"default-docker\" defined both in "
				 "\"%s\" and \"%s\"",
				 old->file, file);
	if (parse_section(y, &s, err) < 0) {
		free(s.lookaside), free(s.lookaside_staging), free(s.sigstore), free(s.sigstore_staging);
		return err_wrap(err, "parsing %s", file);
	}
	s.scope = scope ? xstrdup(scope) : NULL;
	s.file = xstrdup(file);
	ALLOC_GROW(c->v, c->n + 1, c->alloc);
	c->v[c->n++] = s;
	return 0;
}

static int merge_file(struct trust_regd *c, const struct yaml_api *api, const char *path, const char *data, size_t len,
		      struct skiff_err **err)
{
	struct ynode *root = NULL;
	int r = -1;

	if (yaml_parse_doc(api, data, len, &root, err) < 0)
		return err_wrap(err, "parsing %s", path);
	if (!root || (root->type == Y_SCALAR && root->null)) {
		ynode_free(root);
		return 0;
	}
	if (root->type != Y_MAP) {
		err_makex(err, EINVAL, "parsing %s: line %zu: the file must hold a mapping", path, root->line);
		goto out;
	}
	if (check_dup_keys(root, err) < 0) {
		err_wrap(err, "parsing %s", path);
		goto out;
	}
	for (size_t i = 0; i + 1 < root->n; i += 2) {
		const struct ynode *k = root->kids[i], *v = root->kids[i + 1];
		if (k->type != Y_SCALAR) {
			err_makex(err, EINVAL, "parsing %s: line %zu: a key must be a scalar", path, k->line);
			goto out;
		}
		if (!strcmp(k->s, "default-docker")) {
			if (v->type == Y_SCALAR && v->null)
				continue;
			if (add_section(c, NULL, path, v, err) < 0)
				goto out;
		} else if (!strcmp(k->s, "docker")) {
			if (v->type == Y_SCALAR && v->null)
				continue;
			if (v->type != Y_MAP) {
				err_makex(err, EINVAL, "parsing %s: line %zu: docker must be a mapping", path, v->line);
				goto out;
			}
			if (check_dup_keys(v, err) < 0) {
				err_wrap(err, "parsing %s", path);
				goto out;
			}
			for (size_t j = 0; j + 1 < v->n; j += 2) {
				if (v->kids[j]->type != Y_SCALAR) {
					err_makex(err, EINVAL, "parsing %s: line %zu: a key must be a scalar", path,
						  v->kids[j]->line);
					goto out;
				}
				if (add_section(c, v->kids[j]->s, path, v->kids[j + 1], err) < 0)
					goto out;
			}
		}
	}
	r = 0;
out:
	ynode_free(root);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int trust_regd_load(const char *dir, struct trust_regd **ret, struct skiff_err **err)
{
	cleanup_free char *home = NULL, *user = NULL;
	cleanup_strv struct strv names = STRV_INIT;
	struct trust_regd *c;
	struct yaml_api api;
	struct dirent *de;
	DIR *d;
	int fd;

	if (!dir) {
		struct skiff_err *e = NULL;
		struct stat st;
		if (trust_home(&home, &e) == 0) {
			user = xasprintf("%s/%s", home, TRUST_REGD_USER);
			if (stat(user, &st) == 0)
				dir = user;
		}
		err_free(e);
		if (!dir)
			dir = TRUST_REGD_SYSTEM;
	}
	c = xzalloc(sizeof(*c));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			*ret = c;
			return 0;
		}
		trust_regd_free(c);
		return err_make(err, errno, "open %s", dir);
	}
	d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		trust_regd_free(c);
		return err_make(err, e, "read %s", dir);
	}
	while ((errno = 0, de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n > 5 && !strcmp(de->d_name + n - 5, ".yaml"))
			strv_push(&names, de->d_name);
	}
	if (errno) {
		int e = errno;
		closedir(d);
		trust_regd_free(c);
		return err_make(err, e, "read %s", dir);
	}
	qsort(names.v, names.len, sizeof(*names.v), cmp_str);
	if (names.len && yaml_load(&api, err) < 0) {
		closedir(d);
		trust_regd_free(c);
		return err_wrap(err, "registries.d %s", dir);
	}
	for (size_t i = 0; i < names.len; i++) {
		cleanup_free char *data = NULL;
		cleanup_free char *path = xasprintf("%s/%s", dir, names.v[i]);
		size_t len;
		if (read_file_at(dirfd(d), names.v[i], REGD_FILE_MAX, &data, &len, err) < 0) {
			if (err_status(*err) == ENOENT) { /* removed since the listing */
				err_clear(err);
				continue;
			}
			closedir(d);
			trust_regd_free(c);
			return err_wrap(err, "read %s", path);
		}
		if (merge_file(c, &api, path, data, len, err) < 0) {
			closedir(d);
			trust_regd_free(c);
			return -1;
		}
	}
	closedir(d);
	*ret = c;
	return 0;
}

static const char *section_url(const struct section *s, bool write)
{
	if (write && s->lookaside_staging)
		return s->lookaside_staging;
	if (write && s->sigstore_staging)
		return s->sigstore_staging;
	return s->lookaside ? s->lookaside : s->sigstore;
}

int trust_regd_lookaside(const struct trust_regd *c, const char *name, bool write, bool rootless, char **ret_url,
			 struct skiff_err **err)
{
	cleanup_dref struct dref r = {0};
	cleanup_free char *identity = NULL, *home = NULL, *fallback = NULL;
	cleanup_strv struct strv ns = STRV_INIT;
	const char *url = NULL;
	const struct section *s;

	if (dref_parse(name, false, &r, err) < 0)
		return err_wrap(err, "signature storage");
	if (dref_name_only(&r))
		r.tag = xstrdup("latest");
	if (dref_policy_identity(&r, &identity, err) < 0)
		return err_wrap(err, "signature storage");
	if ((s = find_section(c, identity)))
		url = section_url(s, write);
	dref_policy_namespaces(&r, &ns);
	for (size_t i = 0; !url && i < ns.len; i++)
		if ((s = find_section(c, ns.v[i])))
			url = section_url(s, write);
	if (!url && (s = find_section(c, NULL)))
		url = section_url(s, write);
	if (!url) {
		if (rootless) {
			if (trust_home(&home, err) < 0)
				return err_wrap(err, "signature storage");
			fallback = xasprintf("file://%s/%s", home, TRUST_LOOKASIDE_USER);
		} else {
			fallback = xstrdup("file://" TRUST_LOOKASIDE_ROOT);
		}
		url = fallback;
	}
	if (strpbrk(url, "?#"))
		return err_makex(err, EINVAL, "signature storage URL %s: a query or fragment is not supported", url);
	if (!strstr(url, "://") && strncmp(url, "file:/", 6) != 0)
		return err_makex(err, EINVAL, "Invalid signature storage URL %s: no scheme", url);
	*ret_url = xasprintf("%s/%s", url, r.name + r.domain_len + 1);
	return 0;
}

int trust_lookaside_for(bool rootless, const char *name, bool write, char **ret_url, struct skiff_err **err)
{
	cleanup_trust_regd struct trust_regd *c = NULL;

	if (trust_regd_load(NULL, &c, err) < 0)
		return -1;
	return trust_regd_lookaside(c, name, write, rootless, ret_url, err);
}

int trust_sig_url(const char *base, const char *digest, unsigned index, char **ret, struct skiff_err **err)
{
	if (!digest_valid(digest))
		return err_makex(err, EINVAL, "invalid manifest digest \"%s\"", digest);
	if (index == 0)
		return err_makex(err, EINVAL, "signature index 0: they count from 1");
	*ret = xasprintf("%s@sha256=%s/signature-%u", base, digest_hex(digest), index);
	return 0;
}

/* ---- file:// lookaside ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The local directory of a file:// URL (percent escapes decoded). */
static int file_url_path(const char *url, char **ret, struct skiff_err **err)
{
	const char *p;
	struct strbuf sb = STRBUF_INIT;

	if (!strncmp(url, "file://", 7))
		p = url + 7;
	else if (!strncmp(url, "file:/", 6))
		p = url + 5;
	else
		return err_makex(err, EINVAL, "signature storage %s: only file:// URLs are read and written here", url);
	if (*p != '/')
		return err_makex(err, EINVAL, "signature storage %s: a file:// URL names no host", url);
	for (; *p; p++) {
		if (*p == '%') {
			int h = hexval(p[1]), l = h >= 0 ? hexval(p[2]) : -1;
			if (h < 0 || l < 0 || (h == 0 && l == 0)) {
				strbuf_release(&sb);
				return err_makex(err, EINVAL, "signature storage %s: bad percent escape", url);
			}
			strbuf_addch(&sb, (char)(h * 16 + l));
			p += 2;
		} else {
			strbuf_addch(&sb, *p);
		}
	}
	/* No ".." may climb out of the storage: references never contain one. */
	if (strstr(sb.buf, "/../") || (sb.len >= 3 && !strcmp(sb.buf + sb.len - 3, "/.."))) {
		strbuf_release(&sb);
		return err_makex(err, EINVAL, "signature storage %s: \"..\" in the path", url);
	}
	*ret = strbuf_detach(&sb, NULL);
	return 0;
}

void trust_sigs_free(struct trust_sig *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].data);
	free(v);
}

static int sig_dir(const char *base, const char *digest, char **ret, struct skiff_err **err)
{
	cleanup_free char *root = NULL;

	if (!digest_valid(digest))
		return err_makex(err, EINVAL, "invalid manifest digest \"%s\"", digest);
	if (file_url_path(base, &root, err) < 0)
		return -1;
	*ret = xasprintf("%s@sha256=%s", root, digest_hex(digest));
	return 0;
}

int trust_sigs_read(const char *base, const char *digest, struct trust_sig **ret, size_t *ret_n, struct skiff_err **err)
{
	cleanup_free char *dir = NULL;
	struct trust_sig *v = NULL;
	size_t n = 0;

	if (sig_dir(base, digest, &dir, err) < 0)
		return -1;
	for (unsigned i = 1;; i++) {
		cleanup_free char *path = xasprintf("%s/signature-%u", dir, i);
		char *data = NULL;
		size_t len;
		if (i > TRUST_MAX_SIGNATURES) {
			trust_sigs_free(v, n);
			return err_makex(err, EFBIG, "%s: more than %d signatures", dir, TRUST_MAX_SIGNATURES);
		}
		if (read_file_at(AT_FDCWD, path, TRUST_MAX_SIGNATURE_SIZE, &data, &len, err) < 0) {
			if (err_status(*err) == ENOENT) {
				err_clear(err);
				break;
			}
			trust_sigs_free(v, n);
			return err_wrap(err, "read signature");
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n].data = data;
		v[n].len = len;
		n++;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int trust_sig_store(const char *base, const char *digest, const void *sig, size_t len, struct skiff_err **err)
{
	cleanup_free char *dir = NULL;
	cleanup_close int dfd = -1;

	if (len == 0 || len > TRUST_MAX_SIGNATURE_SIZE)
		return err_makex(err, EINVAL, "store signature: %zu bytes", len);
	if (sig_dir(base, digest, &dir, err) < 0)
		return err_wrap(err, "store signature");
	if (mkdir_p_at(AT_FDCWD, dir, 0755, err) < 0)
		return err_wrap(err, "store signature");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "store signature: open %s", dir);
	for (unsigned i = 1; i <= TRUST_MAX_SIGNATURES; i++) {
		cleanup_free char *name = xasprintf("signature-%u", i);
		cleanup_free char *data = NULL;
		size_t dlen;
		if (read_file_at(dfd, name, TRUST_MAX_SIGNATURE_SIZE, &data, &dlen, err) == 0) {
			if (dlen == len && !memcmp(data, sig, len))
				return 0;
			continue;
		}
		if (err_status(*err) != ENOENT)
			return err_wrap(err, "store signature in %s", dir);
		err_clear(err);
		if (write_file_atomic(dfd, name, sig, len, 0644, err) < 0)
			return err_wrap(err, "store signature in %s", dir);
		return 0;
	}
	return err_makex(err, EFBIG, "store signature: %s already holds %d signatures", dir, TRUST_MAX_SIGNATURES);
}
