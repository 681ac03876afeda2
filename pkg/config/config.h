/*
 * pkg/config: podman's configuration files, read in podman's places and order.
 * This header covers storage (containers-storage.conf(5)) and the engine paths;
 * containers.conf, registries.conf, policy.json and auth.json come with later issues.
 */
#ifndef SKIFF_CONFIG_H
#define SKIFF_CONFIG_H

#include <stdbool.h>
#include <sys/types.h>

#include "vendor-free/err.h"
#include "vendor-free/strv.h"

/* What the command line says; NULL/empty means "not given". */
struct config_overrides {
	const char *root;		 /* --root */
	const char *runroot;		 /* --runroot */
	const char *storage_driver;	 /* --storage-driver */
	const struct strv *storage_opts; /* --storage-opt (repeatable) */
	const char *tmpdir;		 /* --tmpdir */
};

struct skiff_config {
	bool rootless;		 /* geteuid() != 0 on the host */
	uid_t uid;		 /* the invoking user's host uid */
	char *graphroot;	 /* rootful /var/lib/skiff; rootless $XDG_DATA_HOME/skiff or ~/.local/share/skiff */
	char *runroot;		 /* rootful /run/skiff; rootless $XDG_RUNTIME_DIR/skiff, else /tmp/skiff-run-UID */
	char *driver;		 /* "overlay" (default) or "vfs" */
	struct strv driver_opts; /* storage options, "overlay.mount_program=..." etc. */
	char *tmpdir;		 /* for big temporary files; default /var/tmp */
	char *storage_conf;	 /* the storage.conf file that was read, or NULL */
	char *runtime_dir;	 /* rootless: the XDG runtime dir used (pause.pid lives under runroot) */
};

/*
 * Fill cfg. Precedence: overrides (flags) > environment > files > built-in defaults.
 * storage.conf: $CONTAINERS_STORAGE_CONF if set; else rootless
 * $XDG_CONFIG_HOME/containers/storage.conf (~/.config/...), falling back to
 * /etc/containers/storage.conf then /usr/share/containers/storage.conf; rootful the
 * /etc then /usr/share files. Keys read from [storage]: driver, graphroot, runroot,
 * rootless_storage_path (rootless only; $UID/$HOME/$USER expanded), and
 * [storage.options] mount_program / [storage.options.overlay] mount_program. A bad file
 * is an error naming the file and line; unknown keys are ignored. Rootless ignores the
 * system file's graphroot/runroot (podman does too) but honours driver.
 * Drivers other than overlay and vfs are an EINVAL error naming the driver.
 */
int config_load(struct skiff_config *cfg, const struct config_overrides *ov, struct skiff_err **err);
void config_release(struct skiff_config *cfg);

/*
 * What config_load() takes from the host besides the environment: who we are and
 * where the system files live. config_load() uses {geteuid() != 0, getuid(),
 * "/etc/containers/storage.conf", "/usr/share/containers/storage.conf"};
 * config_load_host() lets tests (and callers that already know) say otherwise.
 * A NULL system path is skipped.
 */
struct config_host {
	bool rootless;
	uid_t uid;
	const char *etc_storage_conf;
	const char *usr_storage_conf;
};
int config_load_host(struct skiff_config *cfg, const struct config_overrides *ov, const struct config_host *host,
		     struct skiff_err **err);

#endif
