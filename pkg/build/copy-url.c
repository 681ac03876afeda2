/* ADD https://...: one download into the destination with libcurl (dlopened by
 * pkg/registry/curl, so a build without URLs never loads it). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/build/copy-internal.h"
#include "pkg/registry/curl.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/xalloc.h"

char *copy_url_basename(const char *url)
{
	const char *p = strstr(url, "://");
	const char *end, *slash;
	p = p ? p + 3 : url;
	end = p + strcspn(p, "?#");
	slash = memchr(p, '/', (size_t)(end - p));
	if (!slash)
		return xstrdup("");
	while (end > slash + 1 && end[-1] == '/')
		end--;
	for (const char *q = end; q > slash; q--) {
		if (q[-1] == '/') {
			char *name = xstrndup(q, (size_t)(end - q));
			if (!strcmp(name, ".") || !strcmp(name, "..")) {
				free(name);
				return xstrdup("");
			}
			return name;
		}
	}
	return xstrdup("");
}

struct sink {
	int fd;
	int werr;
};

static size_t sink_write(char *data, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	if (write_all(s->fd, data, size * n) < 0) {
		s->werr = errno;
		return 0;
	}
	return size * n;
}

int copy_fetch_url(const char *url, int dirfd, const char *name, const struct copy_owner *own, struct skiff_err **err)
{
	struct curl_api api;
	struct stat st;
	cleanup_close int fd = -1;
	struct sink s = {-1, 0};
	char errbuf[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;
	CURL *h;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			return err_makex(err, EISDIR, "ADD %s: destination %s is a directory", url, name);
		if (unlinkat(dirfd, name, 0) < 0)
			return err_make(err, errno, "remove %s", name);
	}
	if (curl_api_load(&api, err) < 0)
		return err_wrap(err, "ADD %s", url);
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_make(err, errno, "create %s", name);
	s.fd = fd;
	h = api.easy_init();
	if (!h) {
		unlinkat(dirfd, name, 0);
		return err_makex(err, ENOMEM, "ADD %s: curl_easy_init failed", url);
	}
	api.easy_setopt(h, CURLOPT_URL, url);
	api.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	api.easy_setopt(h, CURLOPT_USERAGENT, "skiff/" SKIFF_VERSION);
	api.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	api.easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	api.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	api.easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	api.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	api.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	api.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
	api.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	api.easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	api.easy_setopt(h, CURLOPT_WRITEDATA, &s);
	rc = api.easy_perform(h);
	api.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	api.easy_cleanup(h);
	curl_api_unload(&api);
	if (rc != CURLE_OK || code >= 400) {
		int saved = s.werr;
		unlinkat(dirfd, name, 0);
		if (saved)
			return err_make(err, saved, "ADD %s: write %s", url, name);
		if (rc == CURLE_OK)
			return err_makex(err, code == 404 ? ENOENT : EIO, "ADD %s: fetch failed: HTTP status %ld", url,
					 code);
		return err_makex(err, EIO, "ADD %s: fetch failed: %s", url, *errbuf ? errbuf : "transfer failed");
	}
	if (!own->ignore && fchown(fd, own->uid, own->gid) < 0)
		return err_make(err, errno, "chown %s", name);
	if (fchmod(fd, 0600) < 0)
		return err_make(err, errno, "chmod %s", name);
	return 0;
}
