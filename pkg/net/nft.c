/* pkg/net: nftables and iproute2 through their executables (nft -f, ip). libnftables has no
 * development package installed here, and the script form is the stable interface. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pkg/net/bridge-internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/strv.h"

static int run(const char *const *argv, const int *extra, size_t n_extra, struct skiff_err **err)
{
	struct spawn_opts o = SPAWN_OPTS_INIT;
	o.stdin_fd = SPAWN_DEVNULL;
	o.extra_fds = extra;
	o.n_extra_fds = n_extra;
	struct strbuf out = STRBUF_INIT, eout = STRBUF_INIT;
	int status = 0;
	int rc = run_capture(argv, &o, &out, &eout, &status, err);
	if (rc == 0 && status != 0) {
		strbuf_rtrim(&eout);
		struct strbuf cmd = STRBUF_INIT;
		for (size_t i = 0; argv[i]; i++)
			strbuf_addf(&cmd, "%s%s", i ? " " : "", argv[i]);
		rc = err_makex(err, EIO, "%s: %s", cmd.buf, eout.len ? eout.buf : "failed");
		strbuf_release(&cmd);
	}
	strbuf_release(&out);
	strbuf_release(&eout);
	return rc;
}

int net_ip(const char *netns, struct skiff_err **err, ...)
{
	struct strv argv = STRV_INIT;
	strv_push(&argv, "ip");
	va_list ap;
	va_start(ap, err);
	const char *a;
	while ((a = va_arg(ap, const char *)))
		strv_push(&argv, a);
	va_end(ap);
	int rc = 0;
	cleanup_close int self = -1, target = -1;
	if (netns) {
		self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		target = open(netns, O_RDONLY | O_CLOEXEC);
		if (self < 0 || target < 0)
			rc = err_make(err, errno, "open network namespace %s", netns);
		else if (setns(target, CLONE_NEWNET) < 0)
			rc = err_make(err, errno, "join network namespace %s", netns);
	}
	if (rc == 0) {
		rc = run((const char *const *)argv.v, NULL, 0, err);
		if (netns && setns(self, CLONE_NEWNET) < 0 && rc == 0)
			rc = err_make(err, errno, "return to the host's network namespace");
	}
	strv_release(&argv);
	return rc;
}

int net_nft_apply(const char *script, struct skiff_err **err)
{
	cleanup_close int fd = memfd_create("skiff-nft", MFD_CLOEXEC);
	if (fd < 0)
		return err_make(err, errno, "memfd_create");
	if (write_all(fd, script, strlen(script)) < 0)
		return err_make(err, errno, "write the nftables script");
	const char *argv[] = {"nft", "-f", "/proc/self/fd/3", NULL};
	if (run(argv, &fd, 1, err) < 0)
		return err_wrap(err, "apply the firewall rules");
	return 0;
}
