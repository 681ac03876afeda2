/* libcurl through dlopen(): see curl.h for why. */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "pkg/registry/curl.h"

#define SYM(field, name)                                                                                               \
	{                                                                                                              \
#name, offsetof(struct curl_api, field)                                                                \
	}

static const struct {
	const char *name;
	size_t off;
} syms[] = {
	SYM(global_init, curl_global_init),
	SYM(easy_init, curl_easy_init),
	SYM(easy_setopt, curl_easy_setopt),
	SYM(easy_getinfo, curl_easy_getinfo),
	SYM(easy_perform, curl_easy_perform),
	SYM(easy_cleanup, curl_easy_cleanup),
	SYM(easy_reset, curl_easy_reset),
	SYM(easy_strerror, curl_easy_strerror),
	SYM(multi_init, curl_multi_init),
	SYM(multi_add_handle, curl_multi_add_handle),
	SYM(multi_remove_handle, curl_multi_remove_handle),
	SYM(multi_perform, curl_multi_perform),
	SYM(multi_poll, curl_multi_poll),
	SYM(multi_info_read, curl_multi_info_read),
	SYM(multi_cleanup, curl_multi_cleanup),
	SYM(multi_strerror, curl_multi_strerror),
	SYM(slist_append, curl_slist_append),
	SYM(slist_free_all, curl_slist_free_all),
	SYM(easy_escape, curl_easy_escape),
	SYM(free, curl_free),
};

int curl_api_load(struct curl_api *api, struct skiff_err **err)
{
	memset(api, 0, sizeof(*api));
	api->dl = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!api->dl)
		return err_makex(err, ENOENT, "load libcurl (install the libcurl4 package): %s", dlerror());
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(api->dl, syms[i].name);
		if (!p) {
			int rc = err_makex(err, ENOSYS, "libcurl.so.4 has no %s (libcurl 7.66 or newer is needed)",
					   syms[i].name);
			curl_api_unload(api);
			return rc;
		}
		memcpy((char *)api + syms[i].off, &p, sizeof(p));
	}
	CURLcode c = api->global_init(CURL_GLOBAL_ALL);
	if (c != CURLE_OK) {
		int rc = err_makex(err, EIO, "initialise libcurl: %s", api->easy_strerror(c));
		curl_api_unload(api);
		return rc;
	}
	return 0;
}

void curl_api_unload(struct curl_api *api)
{
	/* libcurl stays loaded: curl_global_cleanup() is not thread-safe and OpenSSL's
	 * atexit handlers point into the library. */
	memset(api, 0, sizeof(*api));
}
