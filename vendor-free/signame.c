/* Signal names and numbers. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vendor-free/signame.h"

static const struct {
	const char *name;
	int sig;
} table[] = {
	{"HUP", SIGHUP},   {"INT", SIGINT},	  {"QUIT", SIGQUIT}, {"ILL", SIGILL},	  {"TRAP", SIGTRAP},
	{"ABRT", SIGABRT}, {"IOT", SIGIOT},	  {"BUS", SIGBUS},   {"FPE", SIGFPE},	  {"KILL", SIGKILL},
	{"USR1", SIGUSR1}, {"SEGV", SIGSEGV},	  {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},	  {"ALRM", SIGALRM},
	{"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},	  {"STOP", SIGSTOP},
	{"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},	  {"TTOU", SIGTTOU}, {"URG", SIGURG},	  {"XCPU", SIGXCPU},
	{"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
	{"POLL", SIGPOLL}, {"PWR", SIGPWR},	  {"SYS", SIGSYS},
};

const char *sig_name(int sig)
{
	static __thread char buf[24];
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (table[i].sig == sig && strcmp(table[i].name, "IOT") && strcmp(table[i].name, "POLL")) {
			snprintf(buf, sizeof(buf), "SIG%s", table[i].name);
			return buf;
		}
	}
	if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
		if (sig == SIGRTMIN)
			return "SIGRTMIN";
		snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
		return buf;
	}
	return NULL;
}

int sig_from_name(const char *s, int *ret, struct skiff_err **err)
{
	if (!s || !*s)
		return err_makex(err, EINVAL, "invalid signal \"\"");
	char *end;
	errno = 0;
	long n = (s[0] >= '0' && s[0] <= '9') ? strtol(s, &end, 10) : (end = (char *)s, 0);
	if (end != s && *end == '\0') {
		if (errno == ERANGE)
			return err_makex(err, EINVAL, "invalid signal \"%s\"", s);
		if (n < 1 || n > SIGRTMAX)
			return err_makex(err, EINVAL, "invalid signal \"%s\"", s);
		*ret = (int)n;
		return 0;
	}
	const char *name = strncasecmp(s, "SIG", 3) ? s : s + 3;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (!strcasecmp(name, table[i].name)) {
			*ret = table[i].sig;
			return 0;
		}
	}
	if (!strncasecmp(name, "RTMIN", 5) || !strncasecmp(name, "RTMAX", 5)) {
		bool min = !strncasecmp(name, "RTMIN", 5);
		long off = 0;
		if (name[5]) {
			if (name[5] != '+' && name[5] != '-')
				return err_makex(err, EINVAL, "invalid signal \"%s\"", s);
			off = strtol(name + 5, &end, 10);
			if (*end || (min && off < 0) || (!min && off > 0))
				return err_makex(err, EINVAL, "invalid signal \"%s\"", s);
		}
		long v = (min ? SIGRTMIN : SIGRTMAX) + off;
		if (v < SIGRTMIN || v > SIGRTMAX)
			return err_makex(err, EINVAL, "invalid signal \"%s\"", s);
		*ret = (int)v;
		return 0;
	}
	return err_makex(err, EINVAL, "invalid signal \"%s\"", s);
}
