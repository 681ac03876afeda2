#include "vendor-free/humanize.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

static const char *const decimal_units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};

void human_size_precision(double size, int precision, bool space, char *buf, size_t n)
{
	size_t i = 0;

	if (!buf || !n)
		return;
	if (precision < 1)
		precision = 1; /* Go's %.0g is %.1g, as C's */
	if (precision > 17)
		precision = 17;
	while (size >= 1000.0 && i < ARRAY_SIZE(decimal_units) - 1) {
		size /= 1000.0;
		i++;
	}
	if (isnan(size))
		snprintf(buf, n, "NaN%s%s", space ? " " : "", decimal_units[i]);
	else if (isinf(size))
		snprintf(buf, n, "%sInf%s%s", size < 0 ? "-" : "+", space ? " " : "", decimal_units[i]);
	else
		snprintf(buf, n, "%.*g%s%s", precision, size, space ? " " : "", decimal_units[i]);
}

void human_size(uint64_t bytes, char *buf, size_t n)
{
	human_size_precision((double)bytes, 4, true, buf, n);
}

void human_duration(int64_t seconds, char *buf, size_t n)
{
	int64_t minutes, hours;

	if (!buf || !n)
		return;
	if (seconds < 1) {
		snprintf(buf, n, "Less than a second");
		return;
	}
	if (seconds == 1) {
		snprintf(buf, n, "1 second");
		return;
	}
	if (seconds < 60) {
		snprintf(buf, n, "%lld seconds", (long long)seconds);
		return;
	}
	minutes = seconds / 60;
	if (minutes == 1) {
		snprintf(buf, n, "About a minute");
		return;
	}
	if (minutes < 60) {
		snprintf(buf, n, "%lld minutes", (long long)minutes);
		return;
	}
	hours = (int64_t)((double)seconds / 3600.0 + 0.5); /* rounded, as go-units */
	if (hours == 1)
		snprintf(buf, n, "About an hour");
	else if (hours < 48)
		snprintf(buf, n, "%lld hours", (long long)hours);
	else if (hours < 24 * 7 * 2)
		snprintf(buf, n, "%lld days", (long long)(hours / 24));
	else if (hours < 24 * 30 * 2)
		snprintf(buf, n, "%lld weeks", (long long)(hours / 24 / 7));
	else if (hours < 24 * 365 * 2)
		snprintf(buf, n, "%lld months", (long long)(hours / 24 / 30));
	else /* years from the truncated hours, as go-units */
		snprintf(buf, n, "%lld years", (long long)(seconds / 3600 / 24 / 365));
}

void human_duration_ago(int64_t seconds, char *buf, size_t n)
{
	size_t len;

	human_duration(seconds, buf, n);
	if (!buf || !n)
		return;
	len = strlen(buf);
	snprintf(buf + len, n - len, " ago");
}

/* Parse a whole string as a decimal float independent of the locale, as Go's
 * strconv.ParseFloat would accept it (no hex, inf or nan: they cannot end
 * in a digit anyway). */
static int parse_float(const char *num, double *ret)
{
	locale_t c;
	char *end;
	double v;

	if (!*num || strspn(num, "0123456789.eE+-") != strlen(num))
		return -1;
	c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (c == (locale_t)0)
		return -1;
	errno = 0;
	v = strtod_l(num, &end, c);
	freelocale(c);
	if (end == num || *end)
		return -1;
	if (errno == ERANGE && (v > 1.0 || v < -1.0))
		return -2; /* overflow; underflow to 0 is fine, as in Go */
	*ret = v;
	return 0;
}

int parse_size(const char *s, int64_t *ret, struct skiff_err **err)
{
	static const struct {
		char c;
		double mul;
	} units[] = {
		{'k', 1024.0},
		{'m', 1024.0 * 1024},
		{'g', 1024.0 * 1024 * 1024},
		{'t', 1024.0 * 1024 * 1024 * 1024},
		{'p', 1024.0 * 1024 * 1024 * 1024 * 1024},
	};
	cleanup_free char *num = NULL;
	char sfx[4] = "";
	const char *space, *sfx_in;
	size_t sfx_len;
	double size;
	int r;

	if (!s)
		return err_makex(err, EINVAL, "invalid size: none given");
	space = strchr(s, ' ');
	if (space) {
		num = xstrndup(s, (size_t)(space - s));
		sfx_in = space + 1;
	} else {
		/* the suffix starts after the last digit or dot */
		const char *sep = NULL;
		for (const char *p = s; *p; p++)
			if ((*p >= '0' && *p <= '9') || *p == '.')
				sep = p;
		if (!sep)
			return err_makex(err, EINVAL, "invalid size '%.100s'", s);
		num = xstrndup(s, (size_t)(sep - s) + 1);
		sfx_in = sep + 1;
	}
	r = parse_float(num, &size);
	if (r == -2)
		return err_makex(err, ERANGE, "invalid size '%.100s': too large", s);
	if (r < 0 || size < 0)
		return err_makex(err, EINVAL, "invalid size '%.100s'", s);

	sfx_len = strlen(sfx_in);
	if (sfx_len > 3)
		return err_makex(err, EINVAL, "invalid size '%.100s': bad suffix '%.100s'", s, sfx_in);
	for (size_t i = 0; i < sfx_len; i++) {
		char c = sfx_in[i];
		sfx[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	sfx[sfx_len] = '\0';
	if (sfx_len > 0 && !(sfx[0] == 'b' && sfx_len == 1)) {
		bool ok = false;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			if (sfx[0] == units[i].c) {
				size *= units[i].mul;
				ok = true;
				break;
			}
		}
		if (ok && sfx_len == 2 && sfx[1] != 'b')
			ok = false;
		if (ok && sfx_len == 3 && strcmp(sfx + 1, "ib") != 0)
			ok = false;
		if (!ok)
			return err_makex(err, EINVAL, "invalid size '%.100s': bad suffix '%s'", s, sfx_in);
	}
	if (!(size < 9223372036854775808.0)) /* 2^63; also catches NaN */
		return err_makex(err, ERANGE, "invalid size '%.100s': too large", s);
	*ret = (int64_t)size;
	return 0;
}
