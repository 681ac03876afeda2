/* search */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/skiff/output.h"
#include "cmd/skiff/regopts.h"
#include "cmd/skiff/skiff.h"
#include "pkg/config/registries.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/xalloc.h"

static struct {
	struct cli_reg_flags reg;
	const char *format;
	struct strv filter;
	long limit;
	bool list_tags, no_trunc;
} se = {.reg = CLI_REG_FLAGS_INIT};

static const struct cli_opt search_opts[] = {
	CLI_REG_OPTS(se.reg),
	{"filter", 'f', OPT_LIST, &se.filter, "FILTER",
	 "Filter output based on conditions (stars=N, is-official, is-automated)", 0},
	{"format", 0, OPT_STRING, &se.format, "FORMAT", "Change the output format to JSON or a Go template", 0},
	{"limit", 0, OPT_INT, &se.limit, "N", "Limit the number of results (default 25 per registry)", 0},
	{"list-tags", 0, OPT_BOOL, &se.list_tags, NULL, "List the tags of the input registry", 0},
	{"no-trunc", 0, OPT_BOOL, &se.no_trunc, NULL, "Do not truncate the output", 0},
	{0},
};

static const struct header_name search_headers[] = {
	{"Index", "INDEX"},
	{"Name", "NAME"},
	{"Description", "DESCRIPTION"},
	{"Stars", "STARS"},
	{"Official", "OFFICIAL"},
	{"Automated", "AUTOMATED"},
	{"Tag", "TAG"},
	{NULL, NULL},
};

/* "host[:port]/rest": the registry part when the first component names one. */
static char *split_registry(const char *term, const char **rest)
{
	const char *slash = strchr(term, '/');
	if (!slash)
		return NULL;
	size_t n = (size_t)(slash - term);
	if (!memchr(term, '.', n) && !memchr(term, ':', n) && strncmp(term, "localhost", n) != 0)
		return NULL;
	*rest = slash + 1;
	return xstrndup(term, n);
}

struct filters {
	long stars;
	int official, automated; /* -1 any */
};

static int parse_filters(struct filters *f, struct skiff_err **err)
{
	*f = (struct filters){0, -1, -1};
	for (size_t i = 0; i < se.filter.len; i++) {
		const char *s = se.filter.v[i];
		char *end;
		if (!strncmp(s, "stars=", 6)) {
			f->stars = strtol(s + 6, &end, 10);
			if (!s[6] || *end || f->stars < 0)
				return err_makex(err, EINVAL, "invalid filter \"%s\": stars wants a number", s);
		} else if (!strcmp(s, "is-official") || !strcmp(s, "is-official=true")) {
			f->official = 1;
		} else if (!strcmp(s, "is-official=false")) {
			f->official = 0;
		} else if (!strcmp(s, "is-automated") || !strcmp(s, "is-automated=true")) {
			f->automated = 1;
		} else if (!strcmp(s, "is-automated=false")) {
			f->automated = 0;
		} else {
			return err_makex(err, EINVAL, "invalid filter \"%s\": use stars=N, is-official, is-automated",
					 s);
		}
	}
	return 0;
}

static int search_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	struct cli_reg reg;
	struct registry *r = NULL;
	struct json *rows = json_new_array();
	struct strv hosts = STRV_INIT;
	struct filters f;
	const char *term = argv[0], *query = term;
	cleanup_free char *host = split_registry(term, &query);
	int rc = -1;

	if (se.limit < 0)
		return err_makex(err, EINVAL, "invalid --limit %ld", se.limit);
	if (parse_filters(&f, err) < 0 || cli_reg_setup(ctx, &se.reg, &reg, err) < 0) {
		json_free(rows);
		return -1;
	}
	if (host) {
		strv_push(&hosts, host);
	} else {
		const struct strv *sr = regconf_search_registries(reg.conf);
		if (sr && sr->len)
			for (size_t i = 0; i < sr->len; i++)
				strv_push(&hosts, sr->v[i]);
		else if (!sr)
			strv_push(&hosts, "docker.io");
	}
	if (se.list_tags && (!host || !*query)) {
		err_makex(err, EINVAL, "--list-tags needs a full repository name, such as registry.example/repo");
		goto out;
	}
	if (registry_new(&reg.ro, &r, err) < 0)
		goto out;
	for (size_t h = 0; h < hosts.len; h++) {
		struct registry_endpoint ep = {.host = hosts.v[h], .insecure = regconf_insecure(reg.conf, hosts.v[h])};
		if (se.list_tags) {
			struct registry_repo *rp = NULL;
			struct strv tags = STRV_INIT;
			int k = registry_repo_open(r, &ep, query, REGISTRY_PULL, &rp, err);
			if (k == 0)
				k = registry_tags(rp, &tags, err);
			registry_repo_free(rp);
			strv_sort(&tags);
			if (k < 0) {
				strv_release(&tags);
				goto out;
			}
			for (size_t i = 0; i < tags.len && (!se.limit || (long)i < se.limit); i++) {
				struct json *o = json_new_object();
				json_object_set_string(o, "Name", term);
				json_object_set_string(o, "Tag", tags.v[i]);
				json_array_append(rows, o);
			}
			strv_release(&tags);
			continue;
		}
		struct registry_search_result *v = NULL;
		size_t n = 0;
		if (registry_search(r, &ep, query, se.limit ? (unsigned)se.limit : 25, &v, &n, err) < 0)
			goto out;
		for (size_t i = 0; i < n; i++) {
			if ((long)v[i].stars < f.stars || (f.official >= 0 && v[i].official != (f.official == 1)) ||
			    (f.automated >= 0 && v[i].automated != (f.automated == 1)))
				continue;
			struct json *o = json_new_object();
			cleanup_free char *name = xasprintf("%s/%s", hosts.v[h], v[i].name);
			char desc[64];
			const char *d = v[i].description;
			if (!se.no_trunc && strlen(d) > 45) {
				snprintf(desc, sizeof(desc), "%.42s...", d);
				d = desc;
			}
			json_object_set_string(o, "Index", hosts.v[h]);
			json_object_set_string(o, "Name", name);
			json_object_set_string(o, "Description", d);
			json_object_set_int(o, "Stars", v[i].stars);
			json_object_set_string(o, "Official", v[i].official ? "[OK]" : "");
			json_object_set_string(o, "Automated", v[i].automated ? "[OK]" : "");
			json_array_append(rows, o);
		}
		registry_search_results_free(v, n);
	}
	rc = output_rows(se.format, se.list_tags ? "table {{.Name}}\t{{.Tag}}" : "table {{.Name}}\t{{.Description}}",
			 rows, NULL, search_headers, err);
out:
	registry_free(r);
	cli_reg_release(&reg);
	strv_release(&hosts);
	json_free(rows);
	return rc;
}

const struct cli_impl cli_search = {
	.usage = "[options] TERM",
	.description = "Search registries for images: TERM is a word, or REGISTRY/word to search one registry; "
		       "without a registry the unqualified-search registries of registries.conf are searched "
		       "(docker.io when none is configured). Registries without a search API are searched through "
		       "their catalog (/v2/_catalog), whose names are matched against the word.",
	.opts = search_opts,
	.min_args = 1,
	.max_args = 1,
	.run = search_run,
};
