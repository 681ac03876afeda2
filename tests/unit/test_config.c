#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/config/config.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

struct fix {
	char dir[64];
	char *etc, *usr; /* system file paths (not created until a test writes them) */
	struct config_host rootful, rootless;
};

static const char *const env_vars[] = {
	"CONTAINERS_STORAGE_CONF", "STORAGE_DRIVER",  "STORAGE_OPTS", "TMPDIR", "XDG_CONFIG_HOME",
	"XDG_DATA_HOME",	   "XDG_RUNTIME_DIR", "USER",	      "HOME",
};

static char *path_in(struct fix *fx, const char *name)
{
	return xasprintf("%s/%s", fx->dir, name);
}

/* Write content to dir/name (creating parent directories); returns the path. */
static char *write_file(struct fix *fx, const char *name, const char *content)
{
	char *path = path_in(fx, name);
	for (char *s = path + strlen(fx->dir) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
		*s = '/';
	}
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fputs(content, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static char *make_dir(struct fix *fx, const char *name)
{
	char *path = path_in(fx, name);
	assert_int_equal(mkdir(path, 0700), 0);
	return path;
}

static int setup(void **state)
{
	struct fix *fx = xzalloc(sizeof(*fx));

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_config.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	for (size_t i = 0; i < ARRAY_SIZE(env_vars); i++)
		unsetenv(env_vars[i]);
	fx->etc = path_in(fx, "etc-storage.conf");
	fx->usr = path_in(fx, "usr-storage.conf");
	fx->rootful = (struct config_host){false, 0, fx->etc, fx->usr};
	fx->rootless = (struct config_host){true, getuid(), fx->etc, fx->usr};
	/* rootless defaults need a home */
	cleanup_free char *home = make_dir(fx, "home");
	setenv("HOME", home, 1);
	*state = fx;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fix *fx = *state;
	assert_int_equal(nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(fx->etc);
	free(fx->usr);
	free(fx);
	return 0;
}

static void load_ok(struct skiff_config *cfg, const struct config_overrides *ov, const struct config_host *host)
{
	struct skiff_err *err = NULL;
	if (config_load_host(cfg, ov, host, &err) < 0) {
		print_error("unexpected error: %s\n", err->msg);
		err_free(err);
		fail();
	}
}

/* Loading must fail with status, a message starting with prefix and containing want; cfg untouched. */
static void load_err(const struct config_overrides *ov, const struct config_host *host, int status, const char *prefix,
		     const char *want)
{
	struct skiff_config cfg;
	struct skiff_err *err = NULL;

	memset(&cfg, 0x5a, sizeof(cfg));
	assert_int_equal(config_load_host(&cfg, ov, host, &err), -1);
	assert_non_null(err);
	if (err->status != status || strncmp(err->msg, prefix, strlen(prefix)) != 0 || !strstr(err->msg, want)) {
		print_error("want status %d, '%s...%s'; got %d '%s'\n", status, prefix, want, err->status, err->msg);
		err_free(err);
		fail();
	}
	err_free(err);
	for (size_t i = 0; i < sizeof(cfg); i++)
		assert_int_equal(((unsigned char *)&cfg)[i], 0x5a);
}

static void test_defaults_rootful(void **state)
{
	struct fix *fx = *state;
	struct skiff_config cfg;

	load_ok(&cfg, NULL, &fx->rootful);
	assert_false(cfg.rootless);
	assert_int_equal(cfg.uid, 0);
	assert_string_equal(cfg.graphroot, "/var/lib/skiff");
	assert_string_equal(cfg.runroot, "/run/skiff");
	assert_string_equal(cfg.driver, "overlay");
	assert_string_equal(cfg.tmpdir, "/var/tmp");
	assert_int_equal(cfg.driver_opts.len, 0);
	assert_null(cfg.storage_conf);
	assert_null(cfg.runtime_dir);
	config_release(&cfg);
	assert_null(cfg.graphroot);
	config_release(&cfg); /* twice is harmless */

	/* empty overrides count as not given */
	struct strv none = STRV_INIT;
	struct config_overrides ov = {"", "", "", &none, ""};
	load_ok(&cfg, &ov, &fx->rootful);
	assert_string_equal(cfg.graphroot, "/var/lib/skiff");
	assert_string_equal(cfg.driver, "overlay");
	assert_string_equal(cfg.tmpdir, "/var/tmp");
	config_release(&cfg);
}

static void test_defaults_rootless(void **state)
{
	struct fix *fx = *state;
	struct skiff_config cfg;
	cleanup_free char *run = make_dir(fx, "run");
	cleanup_free char *data = path_in(fx, "data");
	cleanup_free char *file = write_file(fx, "not-a-dir", "");
	const char *home = getenv("HOME");

	load_ok(&cfg, NULL, &fx->rootless);
	assert_true(cfg.rootless);
	cleanup_free char *g = xasprintf("%s/.local/share/skiff", home);
	assert_string_equal(cfg.graphroot, g);
	cleanup_free char *tr = xasprintf("/tmp/skiff-run-%u", (unsigned)getuid());
	assert_string_equal(cfg.runroot, tr);
	assert_string_equal(cfg.runtime_dir, tr);
	config_release(&cfg);

	setenv("XDG_DATA_HOME", data, 1);
	setenv("XDG_RUNTIME_DIR", run, 1);
	load_ok(&cfg, NULL, &fx->rootless);
	cleanup_free char *g2 = xasprintf("%s/skiff", data);
	cleanup_free char *r2 = xasprintf("%s/skiff", run);
	assert_string_equal(cfg.graphroot, g2);
	assert_string_equal(cfg.runroot, r2);
	assert_string_equal(cfg.runtime_dir, run);
	config_release(&cfg);

	/* XDG_RUNTIME_DIR owned by someone else, not a directory, missing or relative: /tmp */
	struct config_host other = fx->rootless;
	other.uid = 4242;
	load_ok(&cfg, NULL, &other);
	assert_string_equal(cfg.runroot, "/tmp/skiff-run-4242");
	assert_string_equal(cfg.runtime_dir, "/tmp/skiff-run-4242");
	config_release(&cfg);
	const char *bad_runtime[] = {file, "/nonexistent/run", "relative/run"};
	for (size_t i = 0; i < ARRAY_SIZE(bad_runtime); i++) {
		setenv("XDG_RUNTIME_DIR", bad_runtime[i], 1);
		load_ok(&cfg, NULL, &fx->rootless);
		assert_string_equal(cfg.runroot, tr);
		assert_string_equal(cfg.runtime_dir, tr);
		config_release(&cfg);
	}

	/* a relative XDG_DATA_HOME is ignored, as the XDG spec says */
	setenv("XDG_DATA_HOME", "rel/data", 1);
	load_ok(&cfg, NULL, &fx->rootless);
	assert_string_equal(cfg.graphroot, g);
	config_release(&cfg);
}

static void test_precedence(void **state)
{
	struct fix *fx = *state;
	struct skiff_config cfg;
	cleanup_free char *etc = write_file(fx, "etc-storage.conf",
					    "# podman's file\n"
					    "[storage]\n"
					    "driver = \"vfs\"\n"
					    "graphroot = \"/var/lib/containers/storage\"\n"
					    "runroot = \"/run/containers/storage\"\n"
					    "unknown_key = [1, 2]\n"
					    "[storage.options]\n"
					    "mount_program = \"/old/fuse-overlayfs\"\n"
					    "[storage.options.overlay]\n"
					    "mount_program = \"/usr/bin/fuse-overlayfs\"\n"
					    "mountopt = \"nodev\"\n"
					    "[something.else]\n"
					    "x = 1\n");

	/* file > default */
	load_ok(&cfg, NULL, &fx->rootful);
	assert_string_equal(cfg.storage_conf, etc);
	assert_string_equal(cfg.driver, "vfs");
	assert_string_equal(cfg.graphroot, "/var/lib/containers/storage");
	assert_string_equal(cfg.runroot, "/run/containers/storage");
	assert_int_equal(cfg.driver_opts.len, 1);
	assert_string_equal(cfg.driver_opts.v[0], "overlay.mount_program=/usr/bin/fuse-overlayfs");
	config_release(&cfg);

	/* env > file */
	setenv("STORAGE_DRIVER", "overlay", 1);
	setenv("STORAGE_OPTS", "overlay.mountopt=nodev,,overlay.size=1G", 1);
	setenv("TMPDIR", "/tmp/elsewhere/", 1);
	load_ok(&cfg, NULL, &fx->rootful);
	assert_string_equal(cfg.driver, "overlay");
	assert_int_equal(cfg.driver_opts.len, 2);
	assert_string_equal(cfg.driver_opts.v[0], "overlay.mountopt=nodev");
	assert_string_equal(cfg.driver_opts.v[1], "overlay.size=1G");
	assert_string_equal(cfg.tmpdir, "/tmp/elsewhere");
	config_release(&cfg);

	/* an empty STORAGE_OPTS means no options at all */
	setenv("STORAGE_OPTS", "", 1);
	load_ok(&cfg, NULL, &fx->rootful);
	assert_int_equal(cfg.driver_opts.len, 0);
	config_release(&cfg);

	/* flags > env */
	struct strv opts = STRV_INIT;
	strv_push(&opts, "vfs.ignore_chown_errors=true");
	struct config_overrides ov = {
		.root = "/srv/graph//x/./",
		.runroot = "/srv/run",
		.storage_driver = "vfs",
		.storage_opts = &opts,
		.tmpdir = "/scratch",
	};
	load_ok(&cfg, &ov, &fx->rootful);
	assert_string_equal(cfg.graphroot, "/srv/graph/x");
	assert_string_equal(cfg.runroot, "/srv/run");
	assert_string_equal(cfg.driver, "vfs");
	assert_int_equal(cfg.driver_opts.len, 1);
	assert_string_equal(cfg.driver_opts.v[0], "vfs.ignore_chown_errors=true");
	assert_string_equal(cfg.tmpdir, "/scratch");
	assert_string_equal(cfg.storage_conf, etc);
	config_release(&cfg);

	/* --storage-opt "" clears every option */
	strv_release(&opts);
	strv_push(&opts, "");
	load_ok(&cfg, &ov, &fx->rootful);
	assert_int_equal(cfg.driver_opts.len, 0);
	config_release(&cfg);
	strv_release(&opts);

	/* relative --root, --runroot, --tmpdir and TMPDIR become absolute */
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	struct config_overrides rel = {.root = "./my/root/", .runroot = "run", .tmpdir = "."};
	load_ok(&cfg, &rel, &fx->rootful);
	cleanup_free char *want_root = xasprintf("%s/my/root", cwd);
	cleanup_free char *want_run = xasprintf("%s/run", cwd);
	assert_string_equal(cfg.graphroot, want_root);
	assert_string_equal(cfg.runroot, want_run);
	assert_string_equal(cfg.tmpdir, cwd);
	config_release(&cfg);
	setenv("TMPDIR", "tmp", 1);
	load_ok(&cfg, NULL, &fx->rootful);
	cleanup_free char *want_tmp = xasprintf("%s/tmp", cwd);
	assert_string_equal(cfg.tmpdir, want_tmp);
	config_release(&cfg);
}

static void test_search_order(void **state)
{
	struct fix *fx = *state;
	struct skiff_config cfg;
	cleanup_free char *usr = write_file(fx, "usr-storage.conf", "[storage]\ngraphroot = \"/from/usr\"\n");

	/* /etc missing: /usr/share */
	load_ok(&cfg, NULL, &fx->rootful);
	assert_string_equal(cfg.graphroot, "/from/usr");
	assert_string_equal(cfg.storage_conf, usr);
	config_release(&cfg);

	/* /etc present: /usr/share is not even read */
	free(write_file(fx, "usr-storage.conf", "this is not TOML"));
	cleanup_free char *etc = write_file(fx, "etc-storage.conf", "[storage]\ngraphroot = \"/from/etc\"\n");
	load_ok(&cfg, NULL, &fx->rootful);
	assert_string_equal(cfg.graphroot, "/from/etc");
	assert_string_equal(cfg.storage_conf, etc);
	config_release(&cfg);

	/* $CONTAINERS_STORAGE_CONF replaces both */
	cleanup_free char *env = write_file(fx, "env.conf", "[storage]\ngraphroot = \"/from/env\"\n");
	setenv("CONTAINERS_STORAGE_CONF", env, 1);
	load_ok(&cfg, NULL, &fx->rootful);
	assert_string_equal(cfg.graphroot, "/from/env");
	assert_string_equal(cfg.storage_conf, env);
	config_release(&cfg);

	/* ... and must exist */
	cleanup_free char *missing = path_in(fx, "missing.conf");
	setenv("CONTAINERS_STORAGE_CONF", missing, 1);
	load_err(NULL, &fx->rootful, ENOENT, "CONTAINERS_STORAGE_CONF: open ", missing);
	setenv("CONTAINERS_STORAGE_CONF", fx->dir, 1);
	load_err(NULL, &fx->rootful, EISDIR, "CONTAINERS_STORAGE_CONF: ", fx->dir);

	/* an unreadable system file is an error, not skipped (root can read anything) */
	unsetenv("CONTAINERS_STORAGE_CONF");
	if (geteuid() != 0) {
		assert_int_equal(chmod(etc, 0), 0);
		load_err(NULL, &fx->rootful, EACCES, "open ", etc);
	}
}

static void test_rootless_files(void **state)
{
	struct fix *fx = *state;
	struct skiff_config cfg;
	const char *home = getenv("HOME");

	/* the system file: driver and rootless_storage_path count, graphroot/runroot do not */
	free(write_file(fx, "etc-storage.conf",
			"[storage]\n"
			"driver = \"vfs\"\n"
			"graphroot = \"/var/lib/containers/storage\"\n"
			"runroot = \"/run/containers/storage\"\n"
			"rootless_storage_path = \"$HOME/stor/$UID/${USER}/${UID}x/$UIDX/$OTHER/$\"\n"));
	setenv("USER", "alice", 1);
	load_ok(&cfg, NULL, &fx->rootless);
	assert_string_equal(cfg.driver, "vfs");
	cleanup_free char *want =
		xasprintf("%s/stor/%u/alice/%ux/$UIDX/$OTHER/$", home, (unsigned)getuid(), (unsigned)getuid());
	assert_string_equal(cfg.graphroot, want);
	cleanup_free char *tr = xasprintf("/tmp/skiff-run-%u", (unsigned)getuid());
	assert_string_equal(cfg.runroot, tr);
	config_release(&cfg);

	/* the user's file (~/.config) wins over the system file, and its paths count */
	cleanup_free char *user = write_file(fx, "home/.config/containers/storage.conf",
					     "[storage]\ngraphroot = \"/mine/graph\"\nrunroot = \"/mine/run\"\n");
	load_ok(&cfg, NULL, &fx->rootless);
	assert_string_equal(cfg.storage_conf, user);
	assert_string_equal(cfg.graphroot, "/mine/graph");
	assert_string_equal(cfg.runroot, "/mine/run");
	assert_string_equal(cfg.driver, "overlay"); /* the system file was not read */
	assert_string_equal(cfg.runtime_dir, tr);
	config_release(&cfg);

	/* $XDG_CONFIG_HOME moves the user file */
	cleanup_free char *xdg = path_in(fx, "xdgconf");
	cleanup_free char *user2 =
		write_file(fx, "xdgconf/containers/storage.conf", "[storage]\nrootless_storage_path = \"/r/$USER\"\n");
	setenv("XDG_CONFIG_HOME", xdg, 1);
	load_ok(&cfg, NULL, &fx->rootless);
	assert_string_equal(cfg.storage_conf, user2);
	assert_string_equal(cfg.graphroot, "/r/alice");
	config_release(&cfg);

	/* $CONTAINERS_STORAGE_CONF counts as the user's own */
	cleanup_free char *env = write_file(fx, "env.conf", "[storage]\ngraphroot = \"/env/graph\"\n");
	setenv("CONTAINERS_STORAGE_CONF", env, 1);
	load_ok(&cfg, NULL, &fx->rootless);
	assert_string_equal(cfg.graphroot, "/env/graph");
	config_release(&cfg);

	/* rootful ignores rootless_storage_path */
	free(write_file(fx, "env.conf", "[storage]\nrootless_storage_path = \"/r\"\n"));
	load_ok(&cfg, NULL, &fx->rootful);
	assert_string_equal(cfg.graphroot, "/var/lib/skiff");
	config_release(&cfg);

	/* --root still beats everything */
	struct config_overrides ov = {.root = "/flag/root"};
	load_ok(&cfg, &ov, &fx->rootless);
	assert_string_equal(cfg.graphroot, "/flag/root");
	config_release(&cfg);

	/* a rootless_storage_path that is not absolute after expansion */
	free(write_file(fx, "env.conf", "\n[storage]\nrootless_storage_path = \"$OTHER/x\"\n"));
	cleanup_free char *env_prefix = xasprintf("%s: line 3: ", env);
	load_err(NULL, &fx->rootless, EINVAL, env_prefix,
		 "rootless_storage_path must be an absolute path, not \"$OTHER/x\"");
}

static void test_bad_files(void **state)
{
	struct fix *fx = *state;
	static const struct {
		const char *content;
		const char *want;
	} cases[] = {
		{"[storage]\ndriver = \"vfs\"\ngraphroot = /var/lib\n", "line 3: expected a value, found '/'"},
		{"[storage]\n[storage]\n", "line 2: table [storage] defined twice"},
		{"[storage\n", "line 1: expected ']'"},
		{"[storage]\ndriver = 1\n", "line 2: driver: expected string, got integer"},
		{"storage = \"x\"\n", "line 1: storage: expected table, got string"},
		{"[storage]\noptions = []\n", "line 2: options: expected table, got array"},
		{"[storage.options]\noverlay = 1\n", "line 2: overlay: expected table, got integer"},
		{"[storage.options.overlay]\nmount_program = true\n", "line 2: mount_program: expected string"},
		{"\n\n[storage]\ngraphroot = \"relative/path\"\n",
		 "line 4: graphroot must be an absolute path, not \"relative/path\""},
		{"[storage]\nrunroot = \"run\"\n", "line 2: runroot must be an absolute path"},
		{"[storage]\n\ndriver = \"btrfs\"\n", "line 3: storage driver \"btrfs\" is not supported"},
		{"a = \"\xff\"\n", "line 1: invalid UTF-8"},
	};
	cleanup_free char *path = path_in(fx, "bad.conf");
	cleanup_free char *prefix = xasprintf("CONTAINERS_STORAGE_CONF: %s: ", path);

	setenv("CONTAINERS_STORAGE_CONF", path, 1);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		free(write_file(fx, "bad.conf", cases[i].content));
		if (strstr(cases[i].want, "not supported")) /* found after the file was read */
			load_err(NULL, &fx->rootful, EINVAL, path, cases[i].want);
		else
			load_err(NULL, &fx->rootful, EINVAL, prefix, cases[i].want);
	}
	unsetenv("CONTAINERS_STORAGE_CONF");

	/* a bad system file is an error too, naming it */
	free(write_file(fx, "etc-storage.conf", "[storage]\ndriver = \"overlay\"\ndriver = \"vfs\"\n"));
	cleanup_free char *etc_prefix = xasprintf("%s: line 3: ", fx->etc);
	load_err(NULL, &fx->rootful, EINVAL, etc_prefix, "duplicate key driver");
	load_err(NULL, &fx->rootless, EINVAL, etc_prefix, "duplicate key driver");
}

static void test_unknown_driver(void **state)
{
	struct fix *fx = *state;
	struct skiff_config cfg;
	struct config_overrides ov = {.storage_driver = "zfs"};

	load_err(&ov, &fx->rootful, EINVAL, "--storage-driver: ", "storage driver \"zfs\" is not supported");
	setenv("STORAGE_DRIVER", "aufs", 1);
	load_err(NULL, &fx->rootful, EINVAL, "STORAGE_DRIVER: ", "storage driver \"aufs\" is not supported");

	/* only the driver in effect is checked: a flag overrides a bad file or env value */
	free(write_file(fx, "etc-storage.conf", "[storage]\ndriver = \"btrfs\"\n"));
	ov.storage_driver = "vfs";
	load_ok(&cfg, &ov, &fx->rootful);
	assert_string_equal(cfg.driver, "vfs");
	config_release(&cfg);
	unsetenv("STORAGE_DRIVER");
	cleanup_free char *want = xasprintf("%s: line 2: ", fx->etc);
	load_err(NULL, &fx->rootful, EINVAL, want, "storage driver \"btrfs\" is not supported (use overlay or vfs)");

	/* empty strings in the file mean "not set" */
	free(write_file(fx, "etc-storage.conf", "[storage]\ndriver = \"\"\ngraphroot = \"\"\n"));
	load_ok(&cfg, NULL, &fx->rootful);
	assert_string_equal(cfg.driver, "overlay");
	assert_string_equal(cfg.graphroot, "/var/lib/skiff");
	config_release(&cfg);
}

/* config_load() itself: the real identity, the file from the environment. */
static void test_config_load(void **state)
{
	struct fix *fx = *state;
	struct skiff_config cfg;
	struct skiff_err *err = NULL;
	cleanup_free char *env = write_file(fx, "env.conf", "[storage]\ndriver = \"vfs\"\n");
	struct config_overrides ov = {.root = "/r", .runroot = "/rr"};

	setenv("CONTAINERS_STORAGE_CONF", env, 1);
	assert_int_equal(config_load(&cfg, &ov, &err), 0);
	assert_int_equal(cfg.rootless, geteuid() != 0);
	assert_int_equal(cfg.uid, getuid());
	assert_string_equal(cfg.driver, "vfs");
	assert_string_equal(cfg.graphroot, "/r");
	assert_string_equal(cfg.runroot, "/rr");
	assert_string_equal(cfg.storage_conf, env);
	config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults_rootful, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults_rootless, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rootless_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_load, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
