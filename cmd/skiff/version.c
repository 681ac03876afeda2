/* skiff version */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/skiff/output.h"
#include "cmd/skiff/skiff.h"
#include "pkg/spec/image.h"
#include "vendor-free/xalloc.h"

static const char *format;

static const struct cli_opt opts[] = {
	{"format", 'f', OPT_STRING, &format, "FORMAT", "Change the output format to JSON or a Go template", 0},
	{0},
};

static int run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	char *osarch = xasprintf("linux/%s", spec_goarch());
	struct json *v = json_new_object(), *client = json_new_object();
	int rc = 0;

	json_object_set_string(client, "APIVersion", "1.41");
	json_object_set_string(client, "Version", SKIFF_VERSION);
	json_object_set_string(client, "Built", __DATE__ " " __TIME__);
	json_object_set_string(client, "OsArch", osarch);
	json_object_set_string(client, "Os", "linux");
	json_object_set(v, "Client", client);
	if (format) {
		rc = output_rows(format, NULL, v, NULL, NULL, err);
	} else {
		printf("Version:      %s\n", SKIFF_VERSION);
		printf("API Version:  1.41\n");
		printf("Built:        %s %s\n", __DATE__, __TIME__);
		printf("OS/Arch:      %s\n", osarch);
	}
	json_free(v);
	free(osarch);
	return rc;
}

const struct cli_impl cli_version = {
	.usage = "[options]",
	.description = "Display the skiff version information.",
	.opts = opts,
	.max_args = 0,
	.run = run,
};
