/* The container's terminal: a pty made inside the container, its master handed out. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "pkg/runtime/internal.h"
#include "vendor-free/cleanup.h"

int rt_setup_terminal(const struct spec_rt_process *p, int *ret_master, struct skiff_err **err)
{
	cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return err_make(err, errno, "open /dev/ptmx");
	if (unlockpt(master) < 0)
		return err_make(err, errno, "unlockpt");
	/* TIOCGPTPEER opens the slave through the master: no path lookup in /dev/pts. */
	cleanup_close int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return err_make(err, errno, "open the pty slave");
	if (p->has_console_size) {
		struct winsize ws = {.ws_row = (unsigned short)p->console_height,
				     .ws_col = (unsigned short)p->console_width};
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return err_make(err, errno, "set the console size");
	}
	if (setsid() < 0 && errno != EPERM)
		return err_make(err, errno, "setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return err_make(err, errno, "make the pty the controlling terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return err_make(err, errno, "dup the pty onto fd %d", i);
	*ret_master = TAKE_FD(master);
	return 0;
}

int rt_send_console(const char *path, int fd, struct skiff_err **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	cleanup_free char *via = NULL;
	cleanup_close int dirfd = -1;
	const char *p = path;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		/* Too long for sun_path: go through /proc/self/fd of the directory. */
		const char *slash = strrchr(path, '/');
		cleanup_free char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
		if (!dir)
			return err_make(err, ENOMEM, "console socket %s", path);
		dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			return err_make(err, errno, "console socket %s", path);
		if (asprintf(&via, "/proc/self/fd/%d/%s", dirfd, slash ? slash + 1 : path) < 0)
			return err_make(err, ENOMEM, "console socket %s", path);
		p = via;
		if (strlen(p) >= sizeof(sa.sun_path))
			return err_makex(err, ENAMETOOLONG, "console socket %s: name too long", path);
	}
	memcpy(sa.sun_path, p, strlen(p) + 1);
	cleanup_close int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return err_make(err, errno, "console socket");
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return err_make(err, errno, "connect to the console socket %s", path);
	char name[] = "/dev/ptmx";
	struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0)
		return err_make(err, errno, "send the pty to the console socket %s", path);
	return 0;
}
