/* STUB: replaced by the real implementation. */
#include "pkg/config/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vendor-free/xalloc.h"

int config_load(struct skiff_config *cfg, const struct config_overrides *ov, struct skiff_err **err)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->uid = getuid();
	cfg->rootless = geteuid() != 0;
	cfg->graphroot = xstrdup(ov->root ? ov->root : "/var/lib/skiff");
	cfg->runroot = xstrdup(ov->runroot ? ov->runroot : "/run/skiff");
	cfg->driver = xstrdup(ov->storage_driver ? ov->storage_driver : "overlay");
	cfg->tmpdir = xstrdup("/var/tmp");
	return 0;
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
