/*
 * pkg/registry/curl: libcurl, loaded with dlopen() when a command first talks to a
 * registry. Linking libcurl would make every skiff command load its ~30 libraries
 * (5 ms per start, measured); only pull, push, login and search need it.
 * Internal to pkg/registry.
 */
#ifndef SKIFF_REGISTRY_CURL_H
#define SKIFF_REGISTRY_CURL_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "vendor-free/err.h"

struct curl_api {
	void *dl;
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	CURLcode (*easy_perform)(CURL *h);
	void (*easy_cleanup)(CURL *h);
	void (*easy_reset)(CURL *h);
	const char *(*easy_strerror)(CURLcode c);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_perform)(CURLM *m, int *running);
	CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd *fds, unsigned n, int timeout_ms, int *ret);
	CURLMsg *(*multi_info_read)(CURLM *m, int *left);
	CURLMcode (*multi_cleanup)(CURLM *m);
	const char *(*multi_strerror)(CURLMcode c);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
	char *(*easy_escape)(CURL *h, const char *s, int len);
	void (*free)(void *p);
};

/* Load libcurl.so.4 and initialise it (call before any thread uses it). */
int curl_api_load(struct curl_api *api, struct skiff_err **err);
void curl_api_unload(struct curl_api *api);

#endif
