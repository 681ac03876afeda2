/* `top`: the processes of a running container, found by its pid namespace. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/engine/container.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/pathres.h"
#include "vendor-free/xalloc.h"

struct proc_info {
	int pid, ns_pid, ppid;
	unsigned uid;
	unsigned long long utime, stime, start;
	int tty;
	char *cmd;
};

static int read_small(const char *path, char **ret)
{
	size_t len = 0;
	struct skiff_err *e = NULL;
	int rc = read_file_at(AT_FDCWD, path, 1 << 20, ret, &len, &e);
	err_free(e);
	return rc;
}

static bool read_proc(int pid, struct proc_info *p)
{
	char path[64];
	cleanup_free char *status = NULL, *stat = NULL, *cmdline = NULL;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_small(path, &status) < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_small(path, &stat) < 0)
		return false;
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	for (char *l = status; l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		if (!strncmp(l, "Uid:", 4))
			p->uid = (unsigned)strtoul(l + 4, NULL, 10);
		else if (!strncmp(l, "PPid:", 5))
			p->ppid = atoi(l + 5);
		else if (!strncmp(l, "NSpid:", 6)) {
			char *last = strrchr(l, '\t');
			p->ns_pid = atoi(last ? last + 1 : l + 6);
		}
		l = nl ? nl + 1 : NULL;
	}
	char *rp = strrchr(stat, ')');
	if (!rp)
		return false;
	/* fields after the command: state ppid pgrp session tty_nr ... utime(14) stime(15) ... starttime(22) */
	char *f = rp + 2;
	int idx = 3;
	for (char *tok = strtok(f, " "); tok; tok = strtok(NULL, " "), idx++) {
		if (idx == 7)
			p->tty = atoi(tok);
		else if (idx == 14)
			p->utime = strtoull(tok, NULL, 10);
		else if (idx == 15)
			p->stime = strtoull(tok, NULL, 10);
		else if (idx == 22) {
			p->start = strtoull(tok, NULL, 10);
			break;
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	size_t len = 0;
	struct skiff_err *e = NULL;
	if (read_file_at(AT_FDCWD, path, 1 << 16, &cmdline, &len, &e) == 0 && len) {
		for (size_t i = 0; i + 1 < len; i++)
			if (!cmdline[i])
				cmdline[i] = ' ';
		p->cmd = xstrndup(cmdline, len);
	} else {
		err_free(e);
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		cleanup_free char *comm = NULL;
		if (read_small(path, &comm) == 0) {
			comm[strcspn(comm, "\n")] = 0;
			p->cmd = xasprintf("[%s]", comm);
		} else {
			p->cmd = xstrdup("?");
		}
	}
	return true;
}

/* A user name from the container's /etc/passwd, else the number. */
static char *user_name(int rootfd, unsigned uid)
{
	if (rootfd >= 0) {
		struct skiff_err *e = NULL;
		int fd = pathres_open(rootfd, "etc/passwd", O_RDONLY, 0, PATHRES_IN_ROOT, &e);
		err_free(e);
		if (fd >= 0) {
			cleanup_free char *buf = NULL;
			size_t len = 0;
			if (read_all_fd(fd, 1 << 20, &buf, &len, &e) == 0) {
				for (char *l = buf; l && *l;) {
					char *nl = strchr(l, '\n');
					if (nl)
						*nl = 0;
					char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
					if (c1 && c2 && strtoul(c2 + 1, NULL, 10) == uid && c2[1] >= '0' &&
					    c2[1] <= '9') {
						close(fd);
						return xstrndup(l, (size_t)(c1 - l));
					}
					l = nl ? nl + 1 : NULL;
				}
			}
			err_free(e);
			close(fd);
		}
	}
	return xasprintf("%u", uid);
}

int ctr_top(struct engine *e, struct ctr *c, struct json **ret_rows, struct skiff_err **err)
{
	if (strcmp(ctr_state_name(c), "running") && strcmp(ctr_state_name(c), "paused"))
		return err_makex(err, EINVAL, "top can only be used on running containers: %s is %s", c->row.name,
				 ctr_state_name(c));
	char path[64];
	struct stat want;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", c->row.pid);
	if (stat(path, &want) < 0)
		return err_make(err, errno, "container %s: %s", c->row.name, path);
	cleanup_free char *dir = store_container_dir(e->store, c->row.id);
	cleanup_free char *root = xasprintf("%s/%s", dir, strcmp(store_driver(e->store), "vfs") ? "merged" : "rootfs");
	cleanup_close int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	long hz = sysconf(_SC_CLK_TCK);
	struct timespec up;
	clock_gettime(CLOCK_BOOTTIME, &up);
	double now = (double)up.tv_sec + (double)up.tv_nsec / 1e9;

	DIR *d = opendir("/proc");
	if (!d)
		return err_make(err, errno, "open /proc");
	struct proc_info *ps = NULL;
	size_t n = 0, alloc = 0;
	for (struct dirent *de; (de = readdir(d));) {
		int pid = atoi(de->d_name);
		if (pid <= 0)
			continue;
		struct stat st;
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
		if (stat(path, &st) < 0 || st.st_ino != want.st_ino || st.st_dev != want.st_dev)
			continue;
		ALLOC_GROW(ps, n + 1, alloc);
		if (read_proc(pid, &ps[n]))
			n++;
	}
	closedir(d);
	struct json *rows = json_new_array();
	for (size_t i = 0; i < n; i++) {
		struct proc_info *p = &ps[i];
		int ppid = 0;
		for (size_t k = 0; k < n; k++)
			if (ps[k].pid == p->ppid)
				ppid = ps[k].ns_pid;
		double elapsed = now - (double)p->start / (double)hz;
		double cpu = (double)(p->utime + p->stime) / (double)hz;
		struct json *r = json_new_object();
		cleanup_free char *user = user_name(rootfd, p->uid);
		char buf[64];
		json_object_set_string(r, "User", user);
		json_object_set_int(r, "PID", p->ns_pid);
		json_object_set_int(r, "PPID", ppid);
		snprintf(buf, sizeof(buf), "%.3f", elapsed > 0 ? 100.0 * cpu / elapsed : 0.0);
		json_object_set_string(r, "CPU", buf);
		snprintf(buf, sizeof(buf), "%.3fs", elapsed > 0 ? elapsed : 0.0);
		json_object_set_string(r, "Elapsed", buf);
		if (p->tty) {
			unsigned maj = ((unsigned)p->tty >> 8) & 0xfff,
				 min = ((unsigned)p->tty & 0xff) | (((unsigned)p->tty >> 12) & 0xfff00);
			if (maj >= 136 && maj <= 143)
				snprintf(buf, sizeof(buf), "pts/%u", (maj - 136) * 256 + min);
			else
				snprintf(buf, sizeof(buf), "%u:%u", maj, min);
		} else {
			snprintf(buf, sizeof(buf), "?");
		}
		json_object_set_string(r, "TTY", buf);
		snprintf(buf, sizeof(buf), "%.0fs", cpu);
		json_object_set_string(r, "Time", buf);
		json_object_set_string(r, "Command", p->cmd);
		json_array_append(rows, r);
		free(p->cmd);
	}
	free(ps);
	*ret_rows = rows;
	return 0;
}
