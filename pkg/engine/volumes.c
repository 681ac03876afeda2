/* pkg/engine volumes: see volumes.h. */
#include "pkg/engine/volumes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/engine/copy.h"
#include "pkg/engine/ctrconfig-internal.h"
#include "pkg/store/store.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/pathres.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#define VOL_NAME_MAX 255

int vol_check_name(const char *name, struct skiff_err **err)
{
	size_t n = name ? strlen(name) : 0;
	bool ok = n > 0 && n <= VOL_NAME_MAX;
	for (size_t i = 0; ok && i < n; i++) {
		char ch = name[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
		ok = alnum || (i > 0 && (ch == '_' || ch == '.' || ch == '-'));
	}
	if (ok)
		return 0;
	if (n > VOL_NAME_MAX)
		return err_makex(err, EINVAL, "volume name \"%.32s...\" is too long (%zu bytes, at most %d)", name, n,
				 VOL_NAME_MAX);
	/* %.64s and no control characters in a one-line message */
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; name && i < n && i < 64; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			strbuf_addf(&sb, "\\x%02x", (unsigned char)name[i]);
		else
			strbuf_addch(&sb, name[i]);
	err_makex(err, EINVAL, "invalid volume name \"%s\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*", sb.buf);
	strbuf_release(&sb);
	return -1;
}

char *vol_data_path(struct engine *e, const char *name)
{
	return store_volume_data(e->store, name);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void random_name(char out[65])
{
	ctr_random_id(out);
}

/* The -o options that need a mount(2) of their own. */
static bool needs_mount(const struct json *opts)
{
	return opts && (json_object_get_string(opts, "type") || json_object_get_string(opts, "device"));
}

int vol_create(struct engine *e, const char *name, const struct vol_create_opts *o, char **ret_name,
	       struct skiff_err **err)
{
	char rnd[65];
	if (name) {
		if (vol_check_name(name, err) < 0)
			return -1;
	} else {
		random_name(rnd);
		name = rnd;
	}
	if (o->driver && strcmp(o->driver, "local") != 0)
		return err_makex(err, EINVAL, "volume driver \"%s\": only the local driver is supported", o->driver);
	cleanup_json struct json *opts = NULL;
	if (o->options && o->options->len) {
		opts = json_new_object();
		for (size_t i = 0; i < o->options->len; i++) {
			const char *kv = o->options->v[i];
			const char *eq = strchr(kv, '=');
			if (!eq || eq == kv)
				return err_makex(err, EINVAL, "volume option \"%s\": expected KEY=VALUE", kv);
			cleanup_free char *k = xstrndup(kv, (size_t)(eq - kv));
			static const char *const known[] = {"type", "device", "o",    "size",  "inodes",
							    "uid",  "gid",    "copy", "nocopy"};
			bool ok = false;
			for (size_t j = 0; j < sizeof(known) / sizeof(known[0]); j++)
				ok |= !strcmp(k, known[j]);
			if (!ok)
				return err_makex(err, EINVAL, "volume option \"%s\": unknown option %s", kv, k);
			json_object_set_string(opts, k, eq + 1);
		}
		if (needs_mount(opts) && e->cfg->rootless)
			return err_makex(err, EPERM,
					 "volume %s: mount options (type=, device=) need root: a rootless volume "
					 "cannot mount a device",
					 name);
		if (json_object_get_string(opts, "device") && !json_object_get_string(opts, "type"))
			return err_makex(err, EINVAL, "volume %s: device= needs type=", name);
	}
	cleanup_json struct json *labels = NULL;
	if (o->labels && o->labels->len)
		labels = ctr_map_json(o->labels);
	struct strbuf so = STRBUF_INIT, sl = STRBUF_INIT;
	if (opts)
		json_dump(opts, 0, &so);
	if (labels)
		json_dump(labels, 0, &sl);
	struct store_volume v = {
		.name = (char *)name,
		.driver = (char *)"local",
		.options_json = opts ? so.buf : NULL,
		.labels_json = labels ? sl.buf : NULL,
		.created = now_ns(),
		.anonymous = o->anonymous,
		.needs_copy = true,
	};
	int rc = store_volume_create(e->store, &v, err);
	strbuf_release(&so);
	strbuf_release(&sl);
	if (rc < 0) {
		if (o->ignore && err_status(*err) == EEXIST) {
			err_clear(err);
		} else {
			return -1;
		}
	}
	if (ret_name)
		*ret_name = xstrdup(name);
	return 0;
}

static void set_time(struct json *o, const char *key, int64_t ns)
{
	char buf[80], z[8];
	time_t t = ns / 1000000000;
	struct tm tm;
	localtime_r(&t, &tm);
	size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, ".%09lld", (long long)(ns % 1000000000));
	if (strftime(z, sizeof(z), "%z", &tm) == 5 && strcmp(z, "+0000") != 0)
		snprintf(buf + n, sizeof(buf) - n, "%.3s:%.2s", z, z + 3);
	else
		snprintf(buf + n, sizeof(buf) - n, "Z");
	json_object_set_string(o, key, buf);
}

static struct json *parse_or_empty(const char *text)
{
	struct json *j = NULL;
	if (text && json_parse(text, strlen(text), &j, NULL) == 0 && json_is(j, JSON_OBJECT))
		return j;
	json_free(j);
	return json_new_object();
}

static struct json *inspect_json(struct engine *e, const struct store_volume *v, size_t users)
{
	struct json *j = json_new_object();
	cleanup_free char *data = store_volume_data(e->store, v->name);
	json_object_set_string(j, "Name", v->name);
	json_object_set_string(j, "Driver", v->driver ? v->driver : "local");
	json_object_set_string(j, "Mountpoint", data);
	set_time(j, "CreatedAt", v->created);
	json_object_set(j, "Labels", parse_or_empty(v->labels_json));
	json_object_set_string(j, "Scope", "local");
	json_object_set(j, "Options", parse_or_empty(v->options_json));
	json_object_set_int(j, "MountCount", (int64_t)users);
	json_object_set_bool(j, "NeedsCopyUp", v->needs_copy);
	json_object_set_bool(j, "NeedsChown", v->needs_copy);
	if (v->anonymous)
		json_object_set_bool(j, "Anonymous", true);
	return j;
}

int vol_inspect(struct engine *e, const char *name, struct json **ret, struct skiff_err **err)
{
	struct store_volume v = {0};
	struct strv users = STRV_INIT;
	if (store_volume_get(e->store, name, &v, err) < 0)
		return -1;
	if (store_volume_users(e->store, name, &users, err) < 0) {
		store_volume_release(&v);
		return -1;
	}
	*ret = inspect_json(e, &v, users.len);
	store_volume_release(&v);
	strv_release(&users);
	return 0;
}

/* label=KEY or label=KEY=VALUE against the volume's labels */
static bool label_match(const struct json *labels, const char *want)
{
	const char *eq = strchr(want, '=');
	cleanup_free char *k = eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
	const struct json *v = json_object_get(labels, k);
	if (!v)
		return false;
	return !eq || (json_string(v) && !strcmp(json_string(v), eq + 1));
}

static bool glob_or_eq(const char *pat, const char *s)
{
	/* podman's name filter is a regular expression; a plain substring covers its usual use */
	return strstr(s, pat) != NULL;
}

static int filter_match(const struct json *vol, const struct strv *filters, bool *ret, struct skiff_err **err)
{
	static const char *const keys[] = {"name", "label", "label!", "driver", "dangling", "anonymous", "until"};
	bool all = true;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		bool seen = false, any = false;
		size_t kl = strlen(keys[k]);
		for (size_t i = 0; filters && i < filters->len; i++) {
			const char *f = filters->v[i];
			if (strncmp(f, keys[k], kl) != 0 || f[kl] != '=')
				continue;
			const char *val = f + kl + 1;
			seen = true;
			bool m = false;
			if (!strcmp(keys[k], "name"))
				m = glob_or_eq(val, json_object_get_string(vol, "Name"));
			else if (!strcmp(keys[k], "label"))
				m = label_match(json_object_get(vol, "Labels"), val);
			else if (!strcmp(keys[k], "label!"))
				m = !label_match(json_object_get(vol, "Labels"), val);
			else if (!strcmp(keys[k], "driver"))
				m = !strcmp(val, json_object_get_string(vol, "Driver"));
			else if (!strcmp(keys[k], "dangling") || !strcmp(keys[k], "anonymous")) {
				bool want;
				if (!strcmp(val, "true") || !strcmp(val, "1"))
					want = true;
				else if (!strcmp(val, "false") || !strcmp(val, "0"))
					want = false;
				else
					return err_makex(err, EINVAL, "invalid filter \"%s\": %s wants true or false",
							 f, keys[k]);
				const struct json *mc =
					json_object_get(vol, keys[k][0] == 'd' ? "MountCount" : "Anonymous");
				bool is = keys[k][0] == 'd' ? (mc && mc->u.num.i == 0) : (mc != NULL);
				m = is == want;
			} else {
				return err_makex(err, ENOTSUP, "filter \"%s\" is not supported", f);
			}
			any |= m;
		}
		if (seen && !any)
			all = false;
	}
	for (size_t i = 0; filters && i < filters->len; i++) {
		const char *f = filters->v[i];
		const char *eq = strchr(f, '=');
		bool known = false;
		for (size_t k = 0; eq && k < sizeof(keys) / sizeof(keys[0]); k++)
			known |= strlen(keys[k]) == (size_t)(eq - f) && !strncmp(f, keys[k], (size_t)(eq - f));
		if (!known)
			return err_makex(err, EINVAL,
					 "invalid filter \"%s\": unknown key (name, label, driver, dangling)", f);
	}
	*ret = all;
	return 0;
}

int vol_list(struct engine *e, const struct strv *filters, struct json **ret, struct skiff_err **err)
{
	struct store_volume *v = NULL;
	size_t n = 0;
	if (store_volume_list(e->store, &v, &n, err) < 0)
		return -1;
	struct json *arr = json_new_array();
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct strv users = STRV_INIT;
		rc = store_volume_users(e->store, v[i].name, &users, err);
		if (rc == 0) {
			struct json *j = inspect_json(e, &v[i], users.len);
			bool m = false;
			rc = filter_match(j, filters, &m, err);
			if (rc == 0 && m)
				json_array_append(arr, j);
			else
				json_free(j);
		}
		strv_release(&users);
	}
	store_volumes_free(v, n);
	if (rc < 0) {
		json_free(arr);
		return -1;
	}
	*ret = arr;
	return 0;
}

int vol_remove(struct engine *e, const char *name, bool force, struct skiff_err **err)
{
	if (vol_check_name(name, err) < 0)
		return -1;
	if (force) {
		struct strv users = STRV_INIT;
		int rc = store_volume_users(e->store, name, &users, err);
		for (size_t i = 0; rc == 0 && i < users.len; i++) {
			struct ctr c = {0};
			rc = ctr_lookup(e, users.v[i], &c, err);
			if (rc == 0)
				rc = ctr_remove(e, &c, true, err);
			ctr_release(&c);
		}
		strv_release(&users);
		if (rc < 0)
			return err_wrap(err, "remove volume %s", name);
	}
	return store_volume_delete(e->store, name, err);
}

int vol_prune(struct engine *e, const struct strv *filters, struct strv *ret_removed, struct skiff_err **err)
{
	struct strv f = STRV_INIT;
	for (size_t i = 0; filters && i < filters->len; i++) {
		if (strncmp(filters->v[i], "label=", 6) && strncmp(filters->v[i], "label!=", 7) &&
		    strncmp(filters->v[i], "until=", 6)) {
			strv_release(&f);
			return err_makex(err, EINVAL, "invalid filter \"%s\" for volume prune (label, label!)",
					 filters->v[i]);
		}
		strv_push(&f, filters->v[i]);
	}
	strv_push(&f, "dangling=true");
	cleanup_json struct json *arr = NULL;
	int rc = vol_list(e, &f, &arr, err);
	strv_release(&f);
	for (size_t i = 0; rc == 0 && i < json_array_len(arr); i++) {
		const char *name = json_object_get_string(json_array_get(arr, i), "Name");
		struct skiff_err *e2 = NULL;
		/* a container may have taken it meanwhile: leave it */
		if (store_volume_delete(e->store, name, &e2) == 0)
			strv_push(ret_removed, name);
		else if (err_status(e2) == EBUSY || err_status(e2) == ENOENT)
			err_free(e2);
		else {
			*err = e2;
			rc = -1;
		}
	}
	return rc;
}

static int du_at(int dirfd, uint64_t *bytes)
{
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return -1;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		*bytes += (uint64_t)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			if (fd >= 0)
				du_at(fd, bytes);
		}
	}
	closedir(d);
	return 0;
}

int vol_usage(struct engine *e, uint64_t *ret_count, uint64_t *ret_active, uint64_t *ret_bytes, struct skiff_err **err)
{
	struct store_volume *v = NULL;
	size_t n = 0;
	uint64_t active = 0, bytes = 0;
	if (store_volume_list(e->store, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct strv users = STRV_INIT;
		if (store_volume_users(e->store, v[i].name, &users, NULL) == 0 && users.len)
			active++;
		strv_release(&users);
		cleanup_free char *data = store_volume_data(e->store, v[i].name);
		int fd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0)
			du_at(fd, &bytes);
	}
	store_volumes_free(v, n);
	*ret_count = n;
	*ret_active = active;
	*ret_bytes = bytes;
	return 0;
}

/* ---- containers ---- */

static bool mount_at(const struct ctr_config *cfg, const char *dest)
{
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if (cfg->mounts[i].destination && !strcmp(cfg->mounts[i].destination, dest))
			return true;
	return false;
}

static void add_mount(struct ctr_config *cfg, const char *type, const char *src, const char *dst,
		      const struct strv *opts)
{
	ALLOC_GROW(cfg->mounts, cfg->n_mounts + 1, cfg->alloc_mounts);
	struct ctr_mount *m = &cfg->mounts[cfg->n_mounts++];
	memset(m, 0, sizeof(*m));
	m->type = xstrdup(type);
	m->source = src ? xstrdup(src) : NULL;
	m->destination = xstrdup(dst);
	for (size_t i = 0; opts && i < opts->len; i++)
		strv_push(&m->options, opts->v[i]);
}

/* --volumes-from CTR[:ro|rw]: its volumes and bind mounts, at the same places */
static int volumes_from(struct engine *e, struct ctr_config *cfg, const char *spec, struct skiff_err **err)
{
	const char *colon = strchr(spec, ':');
	cleanup_free char *ref = colon ? xstrndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
	const char *mode = colon ? colon + 1 : NULL;
	if (mode && strcmp(mode, "ro") && strcmp(mode, "rw") && strcmp(mode, "z"))
		return err_makex(err, EINVAL, "--volumes-from %s: invalid option %s (ro, rw)", spec, mode);
	struct ctr other = {0};
	if (ctr_lookup(e, ref, &other, err) < 0)
		return err_wrap(err, "--volumes-from %s", spec);
	for (size_t i = 0; i < other.cfg->n_mounts; i++) {
		const struct ctr_mount *m = &other.cfg->mounts[i];
		if (strcmp(m->type, "volume") && strcmp(m->type, "bind"))
			continue;
		if (mount_at(cfg, m->destination))
			continue;
		struct strv o = STRV_INIT;
		for (size_t k = 0; k < m->options.len; k++)
			if (!mode || (strcmp(m->options.v[k], "ro") && strcmp(m->options.v[k], "rw")))
				strv_push(&o, m->options.v[k]);
		if (mode && strcmp(mode, "z"))
			strv_push(&o, mode);
		add_mount(cfg, m->type, m->source, m->destination, &o);
		strv_release(&o);
	}
	ctr_release(&other);
	return 0;
}

int vol_ctr_prepare(struct engine *e, struct ctr_config *cfg, const struct spec_image_config *img,
		    const struct strv *vfrom, struct strv *ret_names, struct skiff_err **err)
{
	for (size_t i = 0; vfrom && i < vfrom->len; i++)
		if (volumes_from(e, cfg, vfrom->v[i], err) < 0)
			return -1;
	/* the image's VOLUMEs that nothing else covers: anonymous volumes */
	for (size_t i = 0; img && i < img->config.volumes.len; i++) {
		cleanup_free char *clean = NULL;
		const char *d = img->config.volumes.v[i];
		if (!d || d[0] != '/' || path_clean(d, &clean, NULL) < 0 || !*clean || !strcmp(clean, "."))
			continue;
		cleanup_free char *abs = xasprintf("/%s", clean);
		if (!mount_at(cfg, abs))
			add_mount(cfg, "volume", NULL, abs, NULL);
	}
	struct strv names = STRV_INIT;
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		struct ctr_mount *m = &cfg->mounts[i];
		if (strcmp(m->type, "volume") != 0)
			continue;
		struct vol_create_opts o = {.ignore = true, .anonymous = !m->source};
		char *name = NULL;
		if (vol_create(e, m->source, &o, &name, err) < 0) {
			strv_release(&names);
			return err_wrap(err, "volume for %s", m->destination);
		}
		free(m->source);
		m->source = name;
		if (!strv_contains(&names, name))
			strv_push(&names, name);
	}
	*ret_names = names;
	return 0;
}

int vol_ctr_attach(struct engine *e, const char *ctr_id, const struct strv *names, struct skiff_err **err)
{
	return store_volume_attach(e->store, ctr_id, names, err);
}

/* Root, a volume made with -o type=/device=: mount it on _data unless something is. */
static int mount_device(struct engine *e, const struct store_volume *v, struct skiff_err **err)
{
	cleanup_json struct json *o = parse_or_empty(v->options_json);
	if (!needs_mount(o))
		return 0;
	if (e->cfg->rootless)
		return err_makex(err, EPERM, "volume %s: mount options need root", v->name);
	cleanup_free char *data = store_volume_data(e->store, v->name);
	cleanup_free char *dir = store_volume_dir(e->store, v->name);
	struct stat a, b;
	if (stat(data, &a) < 0 || stat(dir, &b) < 0)
		return err_make(err, errno, "volume %s", v->name);
	if (a.st_dev != b.st_dev)
		return 0; /* mounted already */
	const char *type = json_object_get_string(o, "type");
	const char *dev = json_object_get_string(o, "device");
	const char *opt = json_object_get_string(o, "o");
	if (mount(dev ? dev : type, data, type, 0, opt) < 0)
		return err_make(err, errno, "volume %s: mount %s (type %s, options \"%s\") on %s", v->name,
				dev ? dev : type, type, opt ? opt : "", data);
	return 0;
}

static int chown_ids(struct engine *e, struct ctr *c, int rootfd, uid_t *ret_uid, gid_t *ret_gid,
		     struct skiff_err **err);
static int chown_mount(struct engine *e, const struct ctr_mount *m, uid_t uid, gid_t gid, struct skiff_err **err);

int vol_ctr_start(struct engine *e, struct ctr *c, const char *rootfs, struct skiff_err **err)
{
	cleanup_close int rootfd = -1;
	bool have_ids = false;
	uid_t uid = 0;
	gid_t gid = 0;
	for (size_t i = 0; i < c->cfg->n_mounts; i++) {
		const struct ctr_mount *m = &c->cfg->mounts[i];
		bool vol = !strcmp(m->type, "volume"), chown = strv_contains(&m->options, "U");
		if (!m->source || !(vol || (chown && !strcmp(m->type, "bind"))))
			continue;
		if (rootfd < 0)
			rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			return err_make(err, errno, "open rootfs %s", rootfs);
		int rc = 0;
		if (vol) {
			struct store_volume v = {0};
			if (store_volume_get(e->store, m->source, &v, err) < 0)
				return -1;
			rc = mount_device(e, &v, err);
			if (rc == 0 && v.needs_copy && !strv_contains(&m->options, "nocopy")) {
				struct skiff_err *e2 = NULL;
				int src = pathres_open(rootfd, m->destination, O_RDONLY | O_DIRECTORY, 0,
						       PATHRES_IN_ROOT, &e2);
				if (src >= 0) {
					rc = store_volume_copy_up(e->store, v.name, src, err);
					close(src);
				} else {
					/* nothing in the image there: nothing to copy, ever */
					err_free(e2);
					rc = store_volume_set_copied(e->store, v.name, err);
				}
			}
			store_volume_release(&v);
		}
		/* :U, on every start as podman: the content belongs to the container's user */
		if (rc == 0 && chown && !have_ids) {
			rc = chown_ids(e, c, rootfd, &uid, &gid, err);
			have_ids = rc == 0;
		}
		if (rc == 0 && chown)
			rc = chown_mount(e, m, uid, gid, err);
		if (rc < 0)
			return vol ? err_wrap(err, "volume %s", m->source) : -1;
	}
	return 0;
}

int vol_ctr_anonymous(struct engine *e, const char *ctr_id, struct strv *ret, struct skiff_err **err)
{
	return store_container_volumes(e->store, ctr_id, true, ret, err);
}

int vol_remove_unused(struct engine *e, const struct strv *names, struct skiff_err **err)
{
	int rc = 0;
	for (size_t i = 0; i < names->len; i++) {
		struct skiff_err *e2 = NULL;
		if (store_volume_delete(e->store, names->v[i], &e2) < 0) {
			if (err_status(e2) == EBUSY || err_status(e2) == ENOENT)
				err_free(e2);
			else if (rc == 0) {
				*err = e2;
				rc = -1;
			} else
				err_free(e2);
		}
	}
	return rc;
}

/* ---- export, import ---- */

/* The volume's _data, opened as an O_PATH directory; its record in ret_v when asked. */
static int open_data(struct engine *e, const char *name, struct skiff_err **err)
{
	struct store_volume v = {0};
	if (vol_check_name(name, err) < 0 || store_volume_get(e->store, name, &v, err) < 0)
		return -1;
	/* a volume made with -o type=/device= holds its data on that mount */
	int rc = mount_device(e, &v, err);
	store_volume_release(&v);
	if (rc < 0)
		return -1;
	cleanup_free char *data = store_volume_data(e->store, name);
	int fd = open(data, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_make(err, errno, "volume %s: open %s", name, data);
	return fd;
}

int vol_export(struct engine *e, const char *name, int out_fd, struct skiff_err **err)
{
	cleanup_close int fd = open_data(e, name, err);
	if (fd < 0)
		return -1;
	char where[300];
	snprintf(where, sizeof(where), "volume %s", name);
	struct copy_loc src = {.rootfd = fd, .in_root = true, .path = "/.", .where = where};
	struct copy_opts o = {.keep_owner = true};
	if (copy_tar_out(&src, out_fd, &o, err) < 0)
		return err_wrap(err, "export volume %s", name);
	return 0;
}

int vol_import(struct engine *e, const char *name, int in_fd, struct skiff_err **err)
{
	cleanup_close int fd = open_data(e, name, err);
	if (fd < 0)
		return -1;
	char where[300];
	snprintf(where, sizeof(where), "volume %s", name);
	struct copy_loc dst = {.rootfd = fd, .in_root = true, .path = "/", .where = where};
	struct copy_opts o = {.keep_owner = true, .overwrite = true};
	if (copy_tar_in(in_fd, &dst, &o, err) < 0)
		return err_wrap(err, "import into volume %s", name);
	/* it holds content now: a container's first use must not copy the image's over it */
	return store_volume_set_copied(e->store, name, err);
}

/* ---- :U ---- */

struct chown_walk {
	uid_t uid;
	gid_t gid;
	dev_t dev;
	struct strbuf path; /* for messages */
};

/* Owner of the open fd (a directory or a file), keeping setuid/setgid bits. */
static int chown_fd(struct chown_walk *w, int fd, const struct stat *st, struct skiff_err **err)
{
	if (st->st_uid == w->uid && st->st_gid == w->gid)
		return 0;
	if (fchownat(fd, "", w->uid, w->gid, AT_EMPTY_PATH) < 0)
		return err_make(err, errno, "chown %s to %u:%u", w->path.buf, (unsigned)w->uid, (unsigned)w->gid);
	if ((st->st_mode & (S_ISUID | S_ISGID)) && fchmod(fd, st->st_mode & 07777) < 0)
		return err_make(err, errno, "chmod %s", w->path.buf);
	return 0;
}

static int chown_children(struct chown_walk *w, int fd, int depth, struct skiff_err **err)
{
	if (depth > 512)
		return err_makex(err, ELOOP, "chown %s: directories nested too deep", w->path.buf);
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_make(err, errno, "open %s", w->path.buf);
	cleanup_dir DIR *d = fdopendir(dfd);
	if (!d) {
		int rc = err_make(err, errno, "open %s", w->path.buf);
		close(dfd);
		return rc;
	}
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				return err_make(err, errno, "read %s", w->path.buf);
			return 0;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		size_t mark = w->path.len;
		strbuf_addf(&w->path, "/%s", de->d_name);
		struct stat st;
		int rc = 0;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT) /* gone meanwhile: nothing to own */
				rc = err_make(err, errno, "stat %s", w->path.buf);
		} else if (st.st_dev != w->dev) {
			/* a mount point inside: another file system, left alone */
		} else if (S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)))) {
			int flags = S_ISDIR(st.st_mode) ? O_RDONLY | O_DIRECTORY : O_PATH;
			cleanup_close int cfd = openat(dfd, de->d_name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
			if (cfd < 0)
				rc = err_make(err, errno, "open %s", w->path.buf);
			else if (S_ISREG(st.st_mode)) {
				/* fchmod needs a real fd: reopen through the O_PATH one, no symlink */
				cleanup_free char *proc = xasprintf("/proc/self/fd/%d", cfd);
				cleanup_close int rfd = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
				rc = rfd < 0 ? err_make(err, errno, "open %s", w->path.buf)
					     : chown_fd(w, rfd, &st, err);
			} else {
				rc = chown_fd(w, cfd, &st, err);
				if (rc == 0)
					rc = chown_children(w, cfd, depth + 1, err);
			}
		} else if ((st.st_uid != w->uid || st.st_gid != w->gid) &&
			   fchownat(dfd, de->d_name, w->uid, w->gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT) {
			rc = err_make(err, errno, "chown %s to %u:%u", w->path.buf, (unsigned)w->uid, (unsigned)w->gid);
		}
		strbuf_setlen(&w->path, mark);
		if (rc < 0)
			return -1;
	}
}

int vol_chown_tree(int dirfd, const char *where, uid_t uid, gid_t gid, struct skiff_err **err)
{
	struct stat st;
	if (fstat(dirfd, &st) < 0)
		return err_make(err, errno, "stat %s", where);
	struct chown_walk w = {.uid = uid, .gid = gid, .dev = st.st_dev, .path = STRBUF_INIT};
	strbuf_addstr(&w.path, where);
	int rc;
	if (!S_ISDIR(st.st_mode)) {
		rc = fchownat(dirfd, "", uid, gid, AT_EMPTY_PATH) < 0
			     ? err_make(err, errno, "chown %s to %u:%u", where, (unsigned)uid, (unsigned)gid)
			     : 0;
	} else {
		cleanup_close int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		rc = fd < 0 ? err_make(err, errno, "open %s", where) : chown_fd(&w, fd, &st, err);
		if (rc == 0)
			rc = chown_children(&w, fd, 0, err);
	}
	strbuf_release(&w.path);
	return rc;
}

/* The ids :U gives, as podman: the container's user (--user, else the image's User)
 * resolved in its /etc/passwd and /etc/group, then mapped to this namespace's ids with
 * --userns=auto (keep-id: the caller's own ids when no --user). */
static int chown_ids(struct engine *e, struct ctr *c, int rootfd, uid_t *ret_uid, gid_t *ret_gid,
		     struct skiff_err **err)
{
	const struct ctr_config *cfg = c->cfg;
	bool keep = cfg->userns_mode && !strcmp(cfg->userns_mode, "keep-id");
	const char *spec = cfg->user && *cfg->user ? cfg->user : NULL;
	if (keep && !spec) {
		*ret_uid = 0;
		*ret_gid = 0;
		return 0;
	}
	struct ctr_exec_user u = {0};
	int rc = ctr_lookup_container_user(e, c, spec, rootfd, &u, err);
	if (rc < 0)
		return err_wrap(err, ":U: user");
	uint32_t uid = u.uid, gid = u.gid;
	ctr_exec_user_release(&u);
	if (ctr_userns_is_auto(cfg) && cfg->userns_size) {
		if (uid >= cfg->userns_size || gid >= cfg->userns_size)
			return err_makex(err, EINVAL, ":U: user %u:%u is outside the container's %u ids", uid, gid,
					 cfg->userns_size);
		uid += cfg->userns_uid;
		gid += cfg->userns_gid;
	}
	*ret_uid = uid;
	*ret_gid = gid;
	return 0;
}

/* chown -R the source of a mount with :U (a volume's _data, or a bind mount's source). */
static int chown_mount(struct engine *e, const struct ctr_mount *m, uid_t uid, gid_t gid, struct skiff_err **err)
{
	bool vol = !strcmp(m->type, "volume");
	cleanup_free char *path = vol ? store_volume_data(e->store, m->source) : xstrdup(m->source);
	/* a bind source is the user's own path: a symlink there is followed, as mount(2) does */
	cleanup_close int fd = open(path, O_PATH | O_CLOEXEC | (vol ? O_NOFOLLOW | O_DIRECTORY : 0));
	if (fd < 0)
		return err_make(err, errno, ":U: open %s", path);
	if (vol_chown_tree(fd, path, uid, gid, err) < 0)
		return err_wrap(err, ":U on %s", m->destination);
	return 0;
}
