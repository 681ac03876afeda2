/* Restart policies, as docker and podman spell them (monitor.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/monitor/monitor.h"

int mon_restart_parse(const char *s, struct mon_restart_policy *ret, struct skiff_err **err)
{
	static const struct {
		const char *name;
		enum mon_restart_kind kind;
	} names[] = {
		{"no", MON_RESTART_NO},
		{"on-failure", MON_RESTART_ON_FAILURE},
		{"always", MON_RESTART_ALWAYS},
		{"unless-stopped", MON_RESTART_UNLESS_STOPPED},
	};
	struct mon_restart_policy p = {MON_RESTART_NO, 0};
	const char *colon;
	size_t n;

	if (!s || !*s) {
		*ret = p;
		return 0;
	}
	colon = strchr(s, ':');
	n = colon ? (size_t)(colon - s) : strlen(s);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i].name) == n && !strncmp(s, names[i].name, n)) {
			p.kind = names[i].kind;
			goto found;
		}
	}
	return err_makex(err, EINVAL, "invalid restart policy \"%s\" (no, on-failure[:N], always, unless-stopped)", s);
found:
	if (colon) {
		const char *num = colon + 1;
		unsigned long v;
		char *end;

		if (p.kind != MON_RESTART_ON_FAILURE)
			return err_makex(err, EINVAL,
					 "invalid restart policy \"%s\": a retry count is for on-failure only", s);
		if (*num < '0' || *num > '9')
			return err_makex(err, EINVAL, "invalid restart policy \"%s\": bad retry count", s);
		errno = 0;
		v = strtoul(num, &end, 10);
		if (errno || *end || v > INT_MAX)
			return err_makex(err, EINVAL, "invalid restart policy \"%s\": bad retry count", s);
		p.max_retries = (unsigned)v;
	}
	*ret = p;
	return 0;
}

bool mon_restart_wanted(const struct mon_restart_policy *p, int exit_code, bool stopped_by_user, unsigned restarts)
{
	if (stopped_by_user)
		return false;
	switch (p->kind) {
	case MON_RESTART_ALWAYS:
	case MON_RESTART_UNLESS_STOPPED:
		return true;
	case MON_RESTART_ON_FAILURE:
		return exit_code != 0 && (p->max_retries == 0 || restarts < p->max_retries);
	default:
		return false;
	}
}

unsigned mon_restart_delay_ms(unsigned n)
{
	return n >= 7 ? 10000 : 100u << n; /* 100 .. 6400, then 10 s */
}
