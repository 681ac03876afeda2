/*
 * skiff-init: the tiny init `skiff run --init` puts at PID 1 (podman uses catatonit).
 * Runs its arguments as a child, forwards the signals a container gets to it, reaps every
 * zombie, and exits with the child's status (128+N when a signal N ended it).
 * Static, libc only: it is bind-mounted into containers whatever their libc.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int first = 1;
	if (argc > 1 && !strcmp(argv[1], "--"))
		first = 2;
	if (argc <= first) {
		fputs("usage: skiff-init [--] COMMAND [ARG...]\n", stderr);
		return 125;
	}
	if (getpid() != 1)
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t child = fork();
	if (child < 0) {
		perror("skiff-init: fork");
		return 125;
	}
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		setpgid(0, 0);
		execvp(argv[first], argv + first);
		fprintf(stderr, "skiff-init: exec %s: %s\n", argv[first], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	for (;;) {
		int sig = 0;
		if (sigwait(&all, &sig) != 0)
			continue;
		if (sig != SIGCHLD) {
			/* to the child, as a foreground program expects */
			kill(child, sig);
			continue;
		}
		int st;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			if (p == child)
				return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
	}
}
