#include "vendor-free/crashpoint.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

void crashpoint(const char *name)
{
	const char *at = getenv("_SKIFF_TEST_CRASH_AT");
	if (at && strcmp(at, name) == 0)
		raise(SIGKILL);
}
