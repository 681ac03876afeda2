/* pkg/net: nftables through its executable (nft -f): libnftables has no development package
 * installed here, and the script form is the stable interface. The table's handle is read over
 * nfnetlink, so an unchanged ruleset is not applied again (each commit costs ~15 ms).
 * `ip` (net_ip) remains for bridge-conf.c's network rm; the bridge path uses netlink.c. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pkg/net/bridge-internal.h"
#include "pkg/net/net.h"
#include "pkg/net/netlink.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/spawn.h"
#include "vendor-free/strv.h"
#include "vendor-free/xalloc.h"

static int run(const char *const *argv_in, const int *extra, size_t n_extra, struct skiff_err **err)
{
	/* nft and ip live in /usr/sbin, which a user's PATH may lack */
	size_t argc = 0;
	while (argv_in[argc])
		argc++;
	cleanup_free const char **argv = xcalloc(argc + 1, sizeof(*argv));
	memcpy(argv, argv_in, argc * sizeof(*argv));
	cleanup_free char *exe = net_find_tool(argv_in[0]);
	if (exe)
		argv[0] = exe;
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

int net_nft_table_handle(const char *table, uint64_t *ret, struct skiff_err **err)
{
	struct nl_sock s = NL_SOCK_INIT;
	if (nl_open_proto(NETLINK_NETFILTER, &s, err) < 0)
		return -1;
	struct nfgenmsg g = {.nfgen_family = NFPROTO_INET, .version = NFNETLINK_V0};
	struct nl_msg m;
	nl_msg_init(&m, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, 0, &g, sizeof(g));
	nl_msg_put_str(&m, NFTA_TABLE_NAME, table);
	unsigned char buf[512];
	size_t len = 0;
	int rc = nl_request(&s, &m, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE, buf, sizeof(buf), &len, err,
			    "nftables table inet %s", table);
	nl_close(&s);
	if (rc < 0)
		return -1;
	const void *d;
	size_t dl;
	uint64_t h;
	if (len < NLMSG_ALIGN(sizeof(g)) ||
	    nl_attr_find(buf + NLMSG_ALIGN(sizeof(g)), len - NLMSG_ALIGN(sizeof(g)), NFTA_TABLE_HANDLE, &d, &dl) < 0 ||
	    dl != sizeof(h))
		return err_makex(err, EBADMSG, "nftables table inet %s: no handle in the reply", table);
	memcpy(&h, d, sizeof(h));
	*ret = be64toh(h);
	return 0;
}

/* The stamp: "handle N\n" then the script applied, when the table was made with it. */
int net_nft_sync(const char *table, const char *script, int dirfd, const char *stamp, bool force,
		 struct skiff_err **err)
{
	uint64_t handle = 0;
	if (!force) {
		cleanup_free char *old = NULL;
		size_t ol = 0;
		struct skiff_err *e2 = NULL;
		if (read_file_at(dirfd, stamp, 4u << 20, &old, &ol, &e2) == 0) {
			char *nl = memchr(old, '\n', ol);
			uint64_t was = 0;
			if (nl && sscanf(old, "handle %" SCNu64, &was) == 1 && !strcmp(nl + 1, script) &&
			    net_nft_table_handle(table, &handle, &e2) == 0 && handle == was)
				return 0; /* the table is there, made from this very script */
		}
		err_free(e2);
	}
	if (net_nft_apply(script, err) < 0)
		return -1;
	/* best effort: without a stamp the next change applies again */
	struct skiff_err *e2 = NULL;
	int fd = -1;
	if (net_nft_table_handle(table, &handle, &e2) == 0 &&
	    (fd = openat(dirfd, stamp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) >= 0) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "handle %" PRIu64 "\n%s", handle, script);
		if (write_all(fd, sb.buf, sb.len) < 0)
			unlinkat(dirfd, stamp, 0);
		strbuf_release(&sb);
	} else {
		unlinkat(dirfd, stamp, 0);
	}
	if (fd >= 0)
		close(fd);
	err_free(e2);
	return 0;
}
