/*
 * pkg/config: storage configuration (containers-storage.conf(5)) and the engine's
 * paths, read in podman's places and order. See config.h for the rules.
 */
#include "pkg/config/config.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/toml.h"
#include "vendor-free/xalloc.h"

#define ROOTFUL_GRAPHROOT "/var/lib/skiff"
#define ROOTFUL_RUNROOT "/run/skiff"
#define DEFAULT_DRIVER "overlay"
#define DEFAULT_TMPDIR "/var/tmp"

/* What one storage.conf said; every string may be NULL. */
struct storage_file {
	char *path;
	bool user; /* $CONTAINERS_STORAGE_CONF or the user's own file: graphroot/runroot count when rootless */
	char *driver;
	size_t driver_line;
	char *graphroot, *runroot, *rootless_storage_path;
	size_t rootless_storage_path_line;
	char *mount_program;
};

static void storage_file_release(struct storage_file *f)
{
	free(f->path);
	free(f->driver);
	free(f->graphroot);
	free(f->runroot);
	free(f->rootless_storage_path);
	free(f->mount_program);
	memset(f, 0, sizeof(*f));
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

static const char *getenv_nonempty(const char *name)
{
	return nonempty(getenv(name));
}

static const char *getenv_abs(const char *name)
{
	const char *s = getenv(name);
	return s && s[0] == '/' ? s : NULL;
}

/*
 * Lexically tidy an absolute path: no empty or "." components, no trailing slash.
 * ".." is kept: resolving it needs the file system, because of symlinks.
 */
static char *path_tidy(const char *abs)
{
	struct strbuf sb = STRBUF_INIT;
	const char *s = abs;

	while (*s) {
		const char *e;
		size_t n;
		while (*s == '/')
			s++;
		e = strchrnul(s, '/');
		n = (size_t)(e - s);
		if (n && !(n == 1 && s[0] == '.')) {
			strbuf_addch(&sb, '/');
			strbuf_add(&sb, s, n);
		}
		s = e;
	}
	if (!sb.len)
		strbuf_addch(&sb, '/');
	return strbuf_detach(&sb, NULL);
}

/* path made absolute against the working directory, and tidied. */
static int path_absolute(const char *path, char **ret, struct skiff_err **err)
{
	if (path[0] == '/') {
		*ret = path_tidy(path);
		return 0;
	}
	cleanup_free char *cwd = getcwd(NULL, 0);
	if (!cwd)
		return err_make(err, errno, "make %s absolute: getcwd", path);
	cleanup_free char *joined = xasprintf("%s/%s", cwd, path);
	*ret = path_tidy(joined);
	return 0;
}

/* The passwd entry of uid: home directory and/or name (either may be NULL). */
static int passwd_lookup(uid_t uid, char **ret_home, char **ret_name, struct skiff_err **err)
{
	long max = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t size = max > 0 ? (size_t)max : 16384;

	for (;;) {
		cleanup_free char *buf = xmalloc(size);
		struct passwd pw, *res = NULL;
		int r = getpwuid_r(uid, &pw, buf, size, &res);
		if (r == ERANGE && size < (1u << 20)) {
			size *= 2;
			continue;
		}
		if (r != 0)
			return err_make(err, r, "look up uid %u in the user database", (unsigned)uid);
		if (!res)
			return err_makex(err, ENOENT, "uid %u is not in the user database", (unsigned)uid);
		if (ret_home)
			*ret_home = xstrdup(pw.pw_dir);
		if (ret_name)
			*ret_name = xstrdup(pw.pw_name);
		return 0;
	}
}

/* $HOME, or the user database's home directory. */
static int home_dir(uid_t uid, char **ret, struct skiff_err **err)
{
	const char *h = getenv_abs("HOME");
	char *home = NULL;

	if (h) {
		*ret = xstrdup(h);
		return 0;
	}
	if (passwd_lookup(uid, &home, NULL, err) < 0)
		return err_wrap(err, "find the home directory (HOME is not set)");
	if (home[0] != '/') {
		free(home);
		return err_makex(err, EINVAL, "home directory of uid %u is not an absolute path (set HOME)",
				 (unsigned)uid);
	}
	*ret = home;
	return 0;
}

/*
 * Expand $UID, $HOME and $USER (also as ${NAME}) in a rootless_storage_path;
 * anything else is kept as written, as containers/storage does for unknown names.
 */
static int expand_vars(const char *s, uid_t uid, char **ret, struct skiff_err **err)
{
	struct strbuf sb = STRBUF_INIT;

	while (*s) {
		const char *name, *end;
		size_t n;
		bool braced;

		if (*s != '$') {
			strbuf_addch(&sb, *s++);
			continue;
		}
		braced = s[1] == '{';
		name = s + 1 + braced;
		for (end = name; (*end >= 'A' && *end <= 'Z') || (*end >= 'a' && *end <= 'z') ||
				 (*end >= '0' && *end <= '9') || *end == '_';
		     end++)
			;
		n = (size_t)(end - name);
		if (braced && *end != '}')
			n = 0;
		if (n == 3 && strncmp(name, "UID", 3) == 0) {
			strbuf_addf(&sb, "%u", (unsigned)uid);
		} else if (n == 4 && strncmp(name, "HOME", 4) == 0) {
			char *home = NULL;
			if (home_dir(uid, &home, err) < 0) {
				strbuf_release(&sb);
				return -1;
			}
			strbuf_addstr(&sb, home);
			free(home);
		} else if (n == 4 && strncmp(name, "USER", 4) == 0) {
			const char *u = getenv_nonempty("USER");
			char *name_pw = NULL;
			if (!u) {
				if (passwd_lookup(uid, NULL, &name_pw, err) < 0) {
					strbuf_release(&sb);
					return err_wrap(err, "expand $USER (USER is not set)");
				}
				u = name_pw;
			}
			strbuf_addstr(&sb, u);
			free(name_pw);
		} else {
			strbuf_addch(&sb, *s++);
			continue;
		}
		s = end + braced;
	}
	*ret = strbuf_detach(&sb, NULL);
	return 0;
}

/* Read key (a string) from table tab into *ret (NULL when absent or empty). */
static int read_str(const struct toml *tab, const char *key, char **ret, size_t *ret_line, struct skiff_err **err)
{
	const char *s = NULL;
	int r = toml_get_string(tab, key, &s, err);

	if (r < 0)
		return -1;
	if (r > 0 && *s) {
		free(*ret);
		*ret = xstrdup(s);
		if (ret_line)
			*ret_line = toml_table_get(tab, key)->line;
	}
	return 0;
}

static int require_absolute(const struct toml *tab, const char *key, const char *val, struct skiff_err **err)
{
	if (val && val[0] != '/')
		return err_makex(err, EINVAL, "line %zu: %s must be an absolute path, not \"%s\"",
				 toml_table_get(tab, key)->line, key, val);
	return 0;
}

/* The settings of doc we use. Errors are "line N: ..."; the caller adds the path. */
static int storage_file_read(struct storage_file *f, const struct toml *doc, struct skiff_err **err)
{
	const struct toml *storage = NULL, *options = NULL, *overlay = NULL;

	if (toml_get_table(doc, "storage", &storage, err) < 0)
		return -1;
	if (!storage)
		return 0;
	if (read_str(storage, "driver", &f->driver, &f->driver_line, err) < 0 ||
	    read_str(storage, "graphroot", &f->graphroot, NULL, err) < 0 ||
	    read_str(storage, "runroot", &f->runroot, NULL, err) < 0 ||
	    read_str(storage, "rootless_storage_path", &f->rootless_storage_path, &f->rootless_storage_path_line, err) <
		    0)
		return -1;
	if (require_absolute(storage, "graphroot", f->graphroot, err) < 0 ||
	    require_absolute(storage, "runroot", f->runroot, err) < 0)
		return -1;
	if (toml_get_table(storage, "options", &options, err) < 0)
		return -1;
	if (!options)
		return 0;
	if (read_str(options, "mount_program", &f->mount_program, NULL, err) < 0)
		return -1;
	if (toml_get_table(options, "overlay", &overlay, err) < 0)
		return -1;
	if (overlay && read_str(overlay, "mount_program", &f->mount_program, NULL, err) < 0)
		return -1;
	return 0;
}

/*
 * Try to read path. Returns 1 when read, 0 when it does not exist (and missing_ok),
 * -1 on error.
 */
static int storage_file_try(struct storage_file *f, const char *path, bool user, bool missing_ok,
			    struct skiff_err **err)
{
	cleanup_toml struct toml *doc = NULL;
	struct skiff_err *e = NULL;

	if (toml_parse_file(path, &doc, &e) < 0) {
		if (missing_ok && (e->status == ENOENT || e->status == ENOTDIR)) {
			err_free(e);
			return 0;
		}
		if (err && !*err)
			*err = e;
		else
			err_free(e);
		return -1;
	}
	if (storage_file_read(f, doc, err) < 0)
		return err_wrap(err, "%s", path);
	f->path = xstrdup(path);
	f->user = user;
	return 1;
}

/* Find and read the storage.conf that applies (none at all is fine). */
static int storage_file_load(struct storage_file *f, const struct config_host *host, struct skiff_err **err)
{
	const char *env = getenv_nonempty("CONTAINERS_STORAGE_CONF");
	int r;

	if (env) {
		if (storage_file_try(f, env, true, false, err) < 0)
			return err_wrap(err, "CONTAINERS_STORAGE_CONF");
		return 0;
	}
	if (host->rootless) {
		cleanup_free char *user = NULL;
		const char *xdg = getenv_abs("XDG_CONFIG_HOME");
		if (xdg) {
			user = xasprintf("%s/containers/storage.conf", xdg);
		} else {
			cleanup_free char *home = NULL;
			struct skiff_err *e = NULL;
			if (home_dir(host->uid, &home, &e) == 0) /* no home: no user file */
				user = xasprintf("%s/.config/containers/storage.conf", home);
			err_clear(&e);
		}
		if (user) {
			r = storage_file_try(f, user, true, true, err);
			if (r != 0)
				return r < 0 ? -1 : 0;
		}
	}
	if (host->etc_storage_conf) {
		r = storage_file_try(f, host->etc_storage_conf, false, true, err);
		if (r != 0)
			return r < 0 ? -1 : 0;
	}
	if (host->usr_storage_conf) {
		r = storage_file_try(f, host->usr_storage_conf, false, true, err);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Rootless: $XDG_RUNTIME_DIR when it is an absolute directory owned by uid, else /tmp/skiff-run-UID. */
static char *rootless_runtime_dir(uid_t uid, bool *ret_xdg)
{
	const char *xdg = getenv_abs("XDG_RUNTIME_DIR");
	struct stat st;

	if (xdg && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid) {
		*ret_xdg = true;
		return path_tidy(xdg);
	}
	*ret_xdg = false;
	return xasprintf("/tmp/skiff-run-%u", (unsigned)uid);
}

static bool driver_supported(const char *d)
{
	return strcmp(d, "overlay") == 0 || strcmp(d, "vfs") == 0;
}

static int pick_driver(struct skiff_config *c, const struct config_overrides *ov, const struct storage_file *f,
		       struct skiff_err **err)
{
	const char *d, *from = NULL;

	if ((d = nonempty(ov->storage_driver))) {
		from = "--storage-driver";
	} else if ((d = getenv_nonempty("STORAGE_DRIVER"))) {
		from = "STORAGE_DRIVER";
	} else if ((d = f->driver)) {
		from = NULL;
	} else {
		d = DEFAULT_DRIVER;
	}
	if (!driver_supported(d)) {
		if (from)
			return err_makex(err, EINVAL, "%s: storage driver \"%s\" is not supported (use overlay or vfs)",
					 from, d);
		return err_makex(err, EINVAL,
				 "%s: line %zu: storage driver \"%s\" is not supported (use overlay or vfs)", f->path,
				 f->driver_line, d);
	}
	c->driver = xstrdup(d);
	return 0;
}

/* --storage-opt replaces everything (--storage-opt "" means none); then $STORAGE_OPTS; then the file. */
static void pick_driver_opts(struct skiff_config *c, const struct config_overrides *ov, const struct storage_file *f)
{
	const char *env = getenv("STORAGE_OPTS");

	if (ov->storage_opts && ov->storage_opts->len) {
		for (size_t i = 0; i < ov->storage_opts->len; i++)
			if (*ov->storage_opts->v[i])
				strv_push(&c->driver_opts, ov->storage_opts->v[i]);
		return;
	}
	if (env) {
		cleanup_strv struct strv parts = STRV_INIT;
		strv_split(&parts, env, ',');
		for (size_t i = 0; i < parts.len; i++)
			if (*parts.v[i])
				strv_push(&c->driver_opts, parts.v[i]);
		return;
	}
	if (f->mount_program)
		strv_pushf(&c->driver_opts, "overlay.mount_program=%s", f->mount_program);
}

static int pick_graphroot(struct skiff_config *c, const struct config_overrides *ov, const struct storage_file *f,
			  struct skiff_err **err)
{
	if (nonempty(ov->root))
		return path_absolute(ov->root, &c->graphroot, err);
	if (f->graphroot && (!c->rootless || f->user)) {
		c->graphroot = path_tidy(f->graphroot);
		return 0;
	}
	if (!c->rootless) {
		c->graphroot = xstrdup(ROOTFUL_GRAPHROOT);
		return 0;
	}
	if (f->rootless_storage_path) {
		cleanup_free char *p = NULL;
		if (expand_vars(f->rootless_storage_path, c->uid, &p, err) < 0)
			return err_wrap(err, "%s: line %zu: rootless_storage_path", f->path,
					f->rootless_storage_path_line);
		if (p[0] != '/')
			return err_makex(err, EINVAL,
					 "%s: line %zu: rootless_storage_path must be an absolute path, not \"%s\"",
					 f->path, f->rootless_storage_path_line, p);
		c->graphroot = path_tidy(p);
		return 0;
	}
	const char *data = getenv_abs("XDG_DATA_HOME");
	if (data) {
		cleanup_free char *p = xasprintf("%s/skiff", data);
		c->graphroot = path_tidy(p);
		return 0;
	}
	cleanup_free char *home = NULL;
	if (home_dir(c->uid, &home, err) < 0)
		return err_wrap(err, "choose the rootless storage directory");
	cleanup_free char *p = xasprintf("%s/.local/share/skiff", home);
	c->graphroot = path_tidy(p);
	return 0;
}

static int pick_runroot(struct skiff_config *c, const struct config_overrides *ov, const struct storage_file *f,
			struct skiff_err **err)
{
	bool xdg = false;

	if (c->rootless)
		c->runtime_dir = rootless_runtime_dir(c->uid, &xdg);
	if (nonempty(ov->runroot))
		return path_absolute(ov->runroot, &c->runroot, err);
	if (f->runroot && (!c->rootless || f->user)) {
		c->runroot = path_tidy(f->runroot);
		return 0;
	}
	if (!c->rootless)
		c->runroot = xstrdup(ROOTFUL_RUNROOT);
	else if (xdg)
		c->runroot = xasprintf("%s/skiff", strcmp(c->runtime_dir, "/") == 0 ? "" : c->runtime_dir);
	else
		c->runroot = xstrdup(c->runtime_dir);
	return 0;
}

int config_load_host(struct skiff_config *cfg, const struct config_overrides *ov, const struct config_host *host,
		     struct skiff_err **err)
{
	const struct config_overrides none = {0};
	struct skiff_config c = {.rootless = host->rootless, .uid = host->uid};
	struct storage_file f = {0};
	const char *tmp;
	int r = -1;

	if (!ov)
		ov = &none;
	if (storage_file_load(&f, host, err) < 0)
		goto out;
	if (pick_driver(&c, ov, &f, err) < 0 || pick_graphroot(&c, ov, &f, err) < 0 ||
	    pick_runroot(&c, ov, &f, err) < 0)
		goto out;
	pick_driver_opts(&c, ov, &f);
	if ((tmp = nonempty(ov->tmpdir)) || (tmp = getenv_nonempty("TMPDIR"))) {
		if (path_absolute(tmp, &c.tmpdir, err) < 0)
			goto out;
	} else {
		c.tmpdir = xstrdup(DEFAULT_TMPDIR);
	}
	c.storage_conf = TAKE_PTR(f.path);
	*cfg = c;
	memset(&c, 0, sizeof(c));
	r = 0;
out:
	config_release(&c);
	storage_file_release(&f);
	return r;
}

int config_load(struct skiff_config *cfg, const struct config_overrides *ov, struct skiff_err **err)
{
	const struct config_host host = {
		.rootless = geteuid() != 0,
		.uid = getuid(),
		.etc_storage_conf = "/etc/containers/storage.conf",
		.usr_storage_conf = "/usr/share/containers/storage.conf",
	};
	return config_load_host(cfg, ov, &host, err);
}

void config_release(struct skiff_config *cfg)
{
	free(cfg->graphroot);
	free(cfg->runroot);
	free(cfg->driver);
	free(cfg->tmpdir);
	free(cfg->storage_conf);
	free(cfg->runtime_dir);
	strv_release(&cfg->driver_opts);
	memset(cfg, 0, sizeof(*cfg));
}
