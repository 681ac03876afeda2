/*
 * The container's root filesystem: the spec's mounts in order, device nodes, /dev links,
 * pivot_root, then masked and read-only paths and a read-only root.
 *
 * Every destination is resolved inside the rootfs (pathres, RESOLVE_IN_ROOT), so a
 * symlink in an image can never point a mount outside it; the mount itself targets the
 * resolved O_PATH fd through /proc/self/fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pkg/runtime/internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/pathres.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

struct mount_opts {
	unsigned long flags, clear, propagation;
	bool bind, rec_bind;
	struct strbuf data;
};

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} flag_table[] = {
	{"defaults", false, 0},
	{"ro", false, MS_RDONLY},
	{"rw", true, MS_RDONLY},
	{"nosuid", false, MS_NOSUID},
	{"suid", true, MS_NOSUID},
	{"nodev", false, MS_NODEV},
	{"dev", true, MS_NODEV},
	{"noexec", false, MS_NOEXEC},
	{"exec", true, MS_NOEXEC},
	{"sync", false, MS_SYNCHRONOUS},
	{"async", true, MS_SYNCHRONOUS},
	{"dirsync", false, MS_DIRSYNC},
	{"remount", false, MS_REMOUNT},
	{"mand", false, MS_MANDLOCK},
	{"nomand", true, MS_MANDLOCK},
	{"atime", true, MS_NOATIME},
	{"noatime", false, MS_NOATIME},
	{"diratime", true, MS_NODIRATIME},
	{"nodiratime", false, MS_NODIRATIME},
	{"relatime", false, MS_RELATIME},
	{"norelatime", true, MS_RELATIME},
	{"strictatime", false, MS_STRICTATIME},
	{"nostrictatime", true, MS_STRICTATIME},
	{"nosymfollow", false, MS_NOSYMFOLLOW},
	{"symfollow", true, MS_NOSYMFOLLOW},
};

static const struct {
	const char *name;
	unsigned long flag;
} prop_table[] = {
	{"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
	{"shared", MS_SHARED},	       {"rshared", MS_SHARED | MS_REC},
	{"slave", MS_SLAVE},	       {"rslave", MS_SLAVE | MS_REC},
	{"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static int parse_options(const struct strv *opts, struct mount_opts *mo, struct skiff_err **err)
{
	for (size_t i = 0; i < opts->len; i++) {
		const char *o = opts->v[i];
		bool known = false;
		for (size_t k = 0; k < sizeof(flag_table) / sizeof(flag_table[0]) && !known; k++) {
			if (strcmp(o, flag_table[k].name))
				continue;
			known = true;
			if (flag_table[k].clear) {
				mo->flags &= ~flag_table[k].flag;
				mo->clear |= flag_table[k].flag;
			} else {
				mo->flags |= flag_table[k].flag;
			}
		}
		for (size_t k = 0; k < sizeof(prop_table) / sizeof(prop_table[0]) && !known; k++) {
			if (!strcmp(o, prop_table[k].name)) {
				mo->propagation = prop_table[k].flag;
				known = true;
			}
		}
		if (known)
			continue;
		if (!strcmp(o, "bind")) {
			mo->bind = true;
		} else if (!strcmp(o, "rbind")) {
			mo->bind = mo->rec_bind = true;
		} else if (!strcmp(o, "tmpcopyup") || !strcmp(o, "notmpcopyup") || !strcmp(o, "z") || !strcmp(o, "Z") ||
			   !strcmp(o, "U") || !strncmp(o, "copy", 4) || !strcmp(o, "nocopy")) {
			/* engine-level options (podman passes some through): nothing for the kernel */
		} else if (!strcmp(o, "idmap") || !strncmp(o, "idmap=", 6)) {
			return err_makex(err, ENOTSUP, "mount option \"%s\" is not supported", o);
		} else {
			if (mo->data.len)
				strbuf_addch(&mo->data, ',');
			strbuf_addstr(&mo->data, o);
		}
	}
	return 0;
}

/* Resolve dest inside the root, creating it (a directory, or an empty file when
 * want_file) and its missing parents. Returns an O_PATH fd. */
static int open_dest(int rootfd, const char *dest, bool want_file, struct skiff_err **err)
{
	cleanup_free char *clean = NULL;
	if (path_clean(dest, &clean, err) < 0)
		return -1;
	int fd = pathres_open(rootfd, clean, O_PATH, 0, PATHRES_IN_ROOT, err);
	if (fd >= 0 || err_status(*err) != ENOENT)
		return fd;
	err_clear(err);
	if (!strcmp(clean, "."))
		return pathres_open(rootfd, ".", O_PATH, 0, PATHRES_IN_ROOT, err);
	/* create one component at a time, each prefix resolved in the root */
	size_t len = strlen(clean);
	for (size_t end = 0; end <= len; end++) {
		if (clean[end] != '/' && clean[end] != '\0')
			continue;
		char saved = clean[end];
		clean[end] = '\0';
		cleanup_close int probe = pathres_open(rootfd, clean, O_PATH, 0, PATHRES_IN_ROOT, err);
		if (probe < 0 && err_status(*err) == ENOENT) {
			err_clear(err);
			char *slash = strrchr(clean, '/');
			const char *base = slash ? slash + 1 : clean;
			cleanup_close int parent = -1;
			if (slash) {
				*slash = '\0';
				parent = pathres_open(rootfd, clean, O_PATH | O_DIRECTORY, 0, PATHRES_IN_ROOT, err);
				*slash = '/';
			} else {
				parent = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
				if (parent < 0)
					err_make(err, errno, "dup");
			}
			if (parent < 0) {
				clean[end] = saved;
				return err_wrap(err, "mount destination %s", dest);
			}
			int rc;
			if (saved == '\0' && want_file) {
				rc = openat(parent, base, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
				if (rc >= 0)
					close(rc);
			} else {
				rc = mkdirat(parent, base, 0755);
			}
			if (rc < 0 && errno != EEXIST) {
				clean[end] = saved;
				return err_make(err, errno, "create mount destination %s", dest);
			}
		} else if (probe < 0) {
			clean[end] = saved;
			return err_wrap(err, "mount destination %s", dest);
		}
		clean[end] = saved;
	}
	return pathres_open(rootfd, clean, O_PATH, 0, PATHRES_IN_ROOT, err);
}

static void fdpath(char *buf, size_t n, int fd)
{
	snprintf(buf, n, "/proc/self/fd/%d", fd);
}

/* Flags a remount of a bind must keep (the kernel locks them in a user namespace). */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

static int remount_bind(const char *target, unsigned long flags, unsigned long clear, struct skiff_err **err)
{
	unsigned long keep = locked_flags(target) & ~clear;
	unsigned long f = MS_BIND | MS_REMOUNT | flags | keep;
	if (mount(NULL, target, NULL, f, NULL) == 0)
		return 0;
	int e = errno;
	/* some locked atime flags differ between kernels: retry keeping only the hard ones */
	f = MS_BIND | MS_REMOUNT | flags | (keep & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY));
	if (mount(NULL, target, NULL, f, NULL) == 0)
		return 0;
	return err_make(err, e, "remount");
}

static int do_bind(const char *source, const char *target, const struct mount_opts *mo, struct skiff_err **err)
{
	if (mount(source, target, NULL, MS_BIND | (mo->rec_bind ? MS_REC : 0), NULL) < 0)
		return err_make(err, errno, "bind");
	return 0;
}

/* A bind mount's source path: absolute, or relative to the bundle. */
static char *bind_source(const struct rt_ctx *c, const struct spec_rt_mount *m)
{
	return m->source[0] == '/' ? xstrdup(m->source) : xasprintf("%s/%s", c->bundle, m->source);
}

/* srcfd: the bind source opened before the ids changed (see rt_setup_rootfs), or -1 with
 * src_errno saying why it could not be opened */
static int mount_one(struct rt_ctx *c, int rootfd, const struct spec_rt_mount *m, int srcfd, int src_errno,
		     struct skiff_err **err)
{
	struct mount_opts mo = {.data = STRBUF_INIT};
	int rc = -1;
	cleanup_free char *source = NULL;
	cleanup_close int dfd = -1;
	const char *type = m->type ? m->type : "";
	if (parse_options(&m->options, &mo, err) < 0)
		goto out;
	if (!strcmp(type, "bind"))
		mo.bind = true;
	if (mo.bind) {
		if (!m->source) {
			err_makex(err, EINVAL, "bind mount without a source");
			goto out;
		}
		source = bind_source(c, m);
	}
	char srcpath[64] = "";
	if (mo.bind && srcfd < 0) {
		err_make(err, src_errno, "source %s", source);
		goto out;
	}
	struct stat sst;
	if (mo.bind && fstat(srcfd, &sst) < 0) {
		err_make(err, errno, "source %s", source);
		goto out;
	}
	bool want_file = mo.bind && !S_ISDIR(sst.st_mode);
	if (mo.bind)
		fdpath(srcpath, sizeof(srcpath), srcfd);
	dfd = open_dest(rootfd, m->destination, want_file, err);
	if (dfd < 0)
		goto out;
	char target[64];
	fdpath(target, sizeof(target), dfd);
	const char *data = mo.data.len ? mo.data.buf : NULL;
	unsigned long remount_flags = 0;
	if (mo.bind) {
		if (do_bind(srcpath, target, &mo, err) < 0) {
			err_wrap(err, "%s", source);
			goto out;
		}
		remount_flags = mo.flags & ~MS_REMOUNT;
	} else if (mount(m->source ? m->source : type, target, type, mo.flags & ~MS_REMOUNT, data) < 0) {
		int e = errno;
		/* Rootless fallbacks, as crun: what the user namespace may not mount is bound
		 * from the host instead. */
		struct mount_opts alt = {.flags = mo.flags, .clear = mo.clear, .rec_bind = true, .bind = true};
		const char *host = NULL;
		if (!strcmp(type, "sysfs"))
			host = "/sys";
		else if (!strcmp(type, "mqueue"))
			host = "/dev/mqueue";
		else if (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2"))
			host = "/sys/fs/cgroup";
		if ((e == EPERM || e == EINVAL || e == EBUSY || e == ENODEV) && host) {
			if (access(host, F_OK) < 0) {
				rc = 0; /* nothing to bind (no mqueue on the host): leave it out */
				goto out;
			}
			if (do_bind(host, target, &alt, err) < 0)
				goto out;
			remount_flags = mo.flags & ~MS_REMOUNT;
		} else if (e == EINVAL && !strcmp(type, "devpts") && strstr(data ? data : "", "gid=")) {
			/* gid 5 (tty) is not mapped in this user namespace: drop it */
			struct strbuf d2 = STRBUF_INIT;
			struct strv parts = STRV_INIT;
			strv_split(&parts, data, ',');
			for (size_t i = 0; i < parts.len; i++) {
				if (!strncmp(parts.v[i], "gid=", 4))
					continue;
				if (d2.len)
					strbuf_addch(&d2, ',');
				strbuf_addstr(&d2, parts.v[i]);
			}
			strv_release(&parts);
			int r2 = mount(type, target, type, mo.flags & ~MS_REMOUNT, d2.buf);
			int e2 = errno;
			strbuf_release(&d2);
			if (r2 < 0) {
				err_make(err, e2, "mount %s", type);
				goto out;
			}
		} else {
			err_make(err, e, "mount %s", type);
			goto out;
		}
	}
	/* the fd still names the directory under the new mount: look again */
	if (remount_flags || mo.propagation) {
		close(dfd);
		dfd = open_dest(rootfd, m->destination, want_file, err);
		if (dfd < 0)
			goto out;
		fdpath(target, sizeof(target), dfd);
	}
	if (remount_flags && remount_bind(target, remount_flags, mo.clear, err) < 0)
		goto out;
	if (mo.propagation && mount(NULL, target, NULL, mo.propagation, NULL) < 0) {
		err_make(err, errno, "set propagation");
		goto out;
	}
	rc = 0;
out:
	strbuf_release(&mo.data);
	if (rc < 0)
		err_wrap(err, "mount %s", m->destination);
	return rc;
}

/* ---- devices ---- */

struct dev_node {
	const char *path;
	char type;
	unsigned major, minor;
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

static const struct dev_node default_devices[] = {
	{"/dev/null", 'c', 1, 3, 0666, 0, 0},	 {"/dev/zero", 'c', 1, 5, 0666, 0, 0},
	{"/dev/full", 'c', 1, 7, 0666, 0, 0},	 {"/dev/random", 'c', 1, 8, 0666, 0, 0},
	{"/dev/urandom", 'c', 1, 9, 0666, 0, 0}, {"/dev/tty", 'c', 5, 0, 0666, 0, 0},
};

static int make_device(int rootfd, const struct dev_node *d, bool bind_only, struct skiff_err **err)
{
	cleanup_free char *base = NULL;
	cleanup_close int parent = -1;
	cleanup_free char *clean = NULL;
	if (path_clean(d->path, &clean, err) < 0)
		return -1;
	/* parents of device nodes are made like mount destinations */
	char *slash = strrchr(clean, '/');
	if (slash) {
		*slash = '\0';
		cleanup_close int pd = open_dest(rootfd, clean, false, err);
		*slash = '/';
		if (pd < 0)
			return -1;
		parent = TAKE_FD(pd);
		base = xstrdup(slash + 1);
	} else {
		parent = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
		if (parent < 0)
			return err_make(err, errno, "dup");
		base = xstrdup(clean);
	}
	mode_t kind = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	if (!bind_only) {
		if (mknodat(parent, base, kind | (d->mode & 07777), makedev(d->major, d->minor)) == 0 ||
		    errno == EEXIST) {
			if (fchownat(parent, base, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL)
				return err_make(err, errno, "chown device %s", d->path);
			if (fchmodat(parent, base, d->mode & 07777, 0) < 0)
				return err_make(err, errno, "chmod device %s", d->path);
			return 0;
		}
		if (errno != EPERM)
			return err_make(err, errno, "mknod %s", d->path);
	}
	/* a user namespace cannot mknod: bind the host's node over an empty file */
	int fd = openat(parent, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0000);
	if (fd < 0 && errno != EEXIST)
		return err_make(err, errno, "create %s", d->path);
	if (fd >= 0)
		close(fd);
	cleanup_close int tfd = openat(parent, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (tfd < 0)
		return err_make(err, errno, "open %s", d->path);
	char target[64];
	fdpath(target, sizeof(target), tfd);
	if (mount(d->path, target, NULL, MS_BIND, NULL) < 0)
		return err_make(err, errno, "bind device %s", d->path);
	return 0;
}

static int make_devices(struct rt_ctx *c, int rootfd, struct skiff_err **err)
{
	bool bind_only = c->new_userns || c->rootless;
	const struct spec_rt_linux *l = c->spec->linux_spec;
	for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++) {
		bool listed = false;
		for (size_t k = 0; l && k < l->n_devices; k++)
			listed |= !strcmp(l->devices[k].path, default_devices[i].path);
		if (!listed && make_device(rootfd, &default_devices[i], bind_only, err) < 0)
			return -1;
	}
	for (size_t k = 0; l && k < l->n_devices; k++) {
		const struct spec_rt_device *sd = &l->devices[k];
		struct dev_node d = {
			.path = sd->path,
			.type = sd->type == 'u' ? 'c' : sd->type,
			.major = (unsigned)sd->major,
			.minor = (unsigned)sd->minor,
			.mode = sd->has_file_mode ? sd->file_mode : 0666,
			.uid = sd->has_uid ? sd->uid : 0,
			.gid = sd->has_gid ? sd->gid : 0,
		};
		if (make_device(rootfd, &d, bind_only, err) < 0)
			return -1;
	}
	static const char *const links[][2] = {
		{"/proc/self/fd", "dev/fd"},	   {"/proc/self/fd/0", "dev/stdin"}, {"/proc/self/fd/1", "dev/stdout"},
		{"/proc/self/fd/2", "dev/stderr"}, {"pts/ptmx", "dev/ptmx"},	     {"/proc/kcore", "dev/core"},
	};
	cleanup_close int devfd = pathres_open(rootfd, "dev", O_PATH | O_DIRECTORY, 0, PATHRES_IN_ROOT, err);
	if (devfd < 0) {
		if (err_status(*err) == ENOENT) {
			err_clear(err);
			return 0;
		}
		return -1;
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		const char *name = links[i][1] + 4;
		if (!strcmp(name, "ptmx")) {
			/* with a devpts instance, /dev/ptmx must be its ptmx */
			struct stat st;
			if (fstatat(devfd, "pts/ptmx", &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			if (unlinkat(devfd, "ptmx", 0) < 0 && errno != ENOENT)
				return err_make(err, errno, "replace /dev/ptmx");
		}
		if (symlinkat(links[i][0], devfd, name) < 0 && errno != EEXIST)
			return err_make(err, errno, "link /dev/%s", name);
	}
	return 0;
}

static int pivot(struct rt_ctx *c, int rootfd, struct skiff_err **err)
{
	if (fchdir(rootfd) < 0)
		return err_make(err, errno, "chdir to the rootfs");
	if (c->opts->no_pivot) {
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return err_make(err, errno, "move the rootfs to /");
		if (chroot(".") < 0)
			return err_make(err, errno, "chroot");
	} else {
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return err_make(err, errno, "pivot_root");
		/* the old root is stacked under the new one: detach it */
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			return err_make(err, errno, "make the old root a slave");
		if (umount2(".", MNT_DETACH) < 0)
			return err_make(err, errno, "detach the old root");
	}
	if (chdir("/") < 0)
		return err_make(err, errno, "chdir /");
	return 0;
}

static unsigned long propagation_of(const char *p)
{
	if (!p)
		return MS_PRIVATE | MS_REC;
	for (size_t k = 0; k < sizeof(prop_table) / sizeof(prop_table[0]); k++)
		if (!strcmp(prop_table[k].name, p))
			return prop_table[k].flag;
	return MS_PRIVATE | MS_REC;
}

/* Root of the new user namespace, when root is mapped, with no supplementary group of the
 * outside (a group the creator's directories deny would still match; rt_apply_user sets
 * the process's own groups later). */
static int become_ns_root(struct skiff_err **err)
{
	if (setresgid(0, 0, 0) < 0 && errno != EINVAL)
		return err_make(err, errno, "setgid 0 in the user namespace");
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		return err_make(err, errno, "drop the supplementary groups in the user namespace");
	if (setresuid(0, 0, 0) < 0 && errno != EINVAL)
		return err_make(err, errno, "setuid 0 in the user namespace");
	return 0;
}

int rt_setup_rootfs(struct rt_ctx *c, struct skiff_err **err)
{
	const struct spec_rt_linux *l = c->spec->linux_spec;
	unsigned long prop = propagation_of(l ? l->rootfs_propagation : NULL);
	if (mount(NULL, "/", NULL, (prop & MS_SHARED) ? (MS_SLAVE | MS_REC) : prop, NULL) < 0)
		return err_make(err, errno, "make / %s",
				l && l->rootfs_propagation ? l->rootfs_propagation : "rprivate");
	/* The rootfs and the bind sources are reached with the ids we were created with, before
	 * we become root of a new user namespace: that root may be a user the paths on the way
	 * do not let through (--userns=auto: a rootless user's 0700 home or XDG_RUNTIME_DIR).
	 * The O_PATH fds are of this mount namespace, so the mounts take them through
	 * /proc/self/fd without walking those paths again. */
	if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return err_make(err, errno, "bind the rootfs %s", c->rootfs);
	cleanup_close int rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_make(err, errno, "open the rootfs %s", c->rootfs);
	size_t n = c->spec->n_mounts;
	int *srcfd = xcalloc(n ? n : 1, sizeof(*srcfd));
	int *srcerr = xcalloc(n ? n : 1, sizeof(*srcerr));
	for (size_t i = 0; i < n; i++) {
		const struct spec_rt_mount *m = &c->spec->mounts[i];
		srcfd[i] = -1;
		if (!m->source || !rt_mount_is_bind(m))
			continue;
		cleanup_free char *src = bind_source(c, m);
		srcfd[i] = open(src, O_PATH | O_CLOEXEC);
		srcerr[i] = errno;
	}
	int rc = c->new_userns ? become_ns_root(err) : 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = mount_one(c, rootfd, &c->spec->mounts[i], srcfd[i], srcerr[i], err);
	for (size_t i = 0; i < n; i++)
		if (srcfd[i] >= 0)
			close(srcfd[i]);
	free(srcfd);
	free(srcerr);
	if (rc < 0)
		return -1;
	if (make_devices(c, rootfd, err) < 0)
		return err_wrap(err, "devices");
	if (pivot(c, rootfd, err) < 0)
		return -1;
	if (l && l->rootfs_propagation && (prop & MS_SHARED) && mount(NULL, "/", NULL, prop, NULL) < 0)
		return err_make(err, errno, "make / %s", l->rootfs_propagation);
	return 0;
}

static int mask_path(const char *path, struct skiff_err **err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : err_make(err, errno, "masked path %s", path);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k") < 0)
			return err_make(err, errno, "mask %s", path);
	} else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_make(err, errno, "mask %s", path);
	}
	return 0;
}

static int readonly_path(const char *path, struct skiff_err **err)
{
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return errno == ENOENT ? 0 : err_make(err, errno, "read-only path %s", path);
	if (remount_bind(path, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, err) < 0)
		return err_wrap(err, "read-only path %s", path);
	return 0;
}

int rt_write_sysctl(const char *key, const char *value, struct skiff_err **err)
{
	struct strbuf p = STRBUF_INIT;
	strbuf_addstr(&p, "/proc/sys/");
	for (const char *k = key; *k; k++)
		strbuf_addch(&p, *k == '.' ? '/' : *k);
	int rc = 0;
	if (strstr(key, "..") || strchr(key, '/'))
		rc = err_makex(err, EINVAL, "sysctl %s: bad name", key);
	if (rc == 0) {
		cleanup_close int fd = open(p.buf, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write_all(fd, value, strlen(value)) < 0)
			rc = err_make(err, errno, "sysctl %s", key);
	}
	strbuf_release(&p);
	return rc;
}

int rt_finish_rootfs(struct rt_ctx *c, struct skiff_err **err)
{
	const struct spec_rt_linux *l = c->spec->linux_spec;
	if (l) {
		for (size_t i = 0; i < l->sysctl.len; i++)
			if (rt_write_sysctl(l->sysctl.items[i].key, l->sysctl.items[i].value, err) < 0)
				return -1;
		for (size_t i = 0; i < l->masked_paths.len; i++)
			if (mask_path(l->masked_paths.v[i], err) < 0)
				return -1;
		for (size_t i = 0; i < l->readonly_paths.len; i++)
			if (readonly_path(l->readonly_paths.v[i], err) < 0)
				return -1;
	}
	if (c->spec->root_readonly && remount_bind("/", MS_RDONLY, 0, err) < 0)
		return err_wrap(err, "make the rootfs read-only");
	return 0;
}

bool rt_mount_is_bind(const struct spec_rt_mount *m)
{
	if (m->type && !strcmp(m->type, "bind"))
		return true;
	for (size_t i = 0; i < m->options.len; i++)
		if (!strcmp(m->options.v[i], "bind") || !strcmp(m->options.v[i], "rbind"))
			return true;
	return false;
}
