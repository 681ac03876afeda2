/* skiff version */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "cmd/skiff/skiff.h"

static const char *format;

static const struct cli_opt opts[] = {
	{ "format", 'f', OPT_STRING, &format, "FORMAT", "Change the output format to JSON or a Go template", 0 },
	{ 0 },
};

static int run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct utsname u;
	if (uname(&u) < 0)
		return err_make(err, errno, "uname");
	if (format && (!strcmp(format, "json") || !strcmp(format, "{{json .}}"))) {
		printf("{\n    \"Client\": {\n        \"Version\": \"%s\",\n        \"OsArch\": \"linux/%s\"\n    }\n}\n",
		       SKIFF_VERSION, u.machine);
		return 0;
	}
	printf("Version:      %s\n", SKIFF_VERSION);
	printf("API Version:  1.41\n");
	printf("Built:        %s %s\n", __DATE__, __TIME__);
	printf("OS/Arch:      linux/%s\n", u.machine);
	return 0;
}

const struct cli_impl cli_version = {
	.usage = "[options]",
	.description = "Display the skiff version information.",
	.opts = opts,
	.max_args = 0,
	.run = run,
};
