/*
 * OpenPGP through gpgme, loaded with dlopen() on first use: linking libgpgme would
 * make every skiff process load it with libassuan and libgpg-error (about 0.2 ms per
 * start, measured), and only pull and push with signatures need it.
 *
 * Verification uses an ephemeral keyring (a temporary GNUPGHOME holding only the
 * policy's keys), as containers/image does; signing uses the user's keyring.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gpgme.h>

#include "pkg/trust/internal.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

struct gpgme_api {
	const char *(*check_version_internal)(const char *req, size_t offset_sig_validity);
	gpgme_error_t (*engine_check_version)(gpgme_protocol_t proto);
	gpgme_error_t (*new_ctx)(gpgme_ctx_t *ctx);
	void (*release)(gpgme_ctx_t ctx);
	gpgme_error_t (*set_protocol)(gpgme_ctx_t ctx, gpgme_protocol_t proto);
	gpgme_error_t (*ctx_set_engine_info)(gpgme_ctx_t ctx, gpgme_protocol_t proto, const char *file_name,
					     const char *home_dir);
	void (*set_armor)(gpgme_ctx_t ctx, int yes);
	void (*set_offline)(gpgme_ctx_t ctx, int yes);
	gpgme_error_t (*set_pinentry_mode)(gpgme_ctx_t ctx, gpgme_pinentry_mode_t mode);
	void (*set_passphrase_cb)(gpgme_ctx_t ctx, gpgme_passphrase_cb_t cb, void *hook);
	gpgme_error_t (*data_new)(gpgme_data_t *dh);
	gpgme_error_t (*data_new_from_mem)(gpgme_data_t *dh, const char *buf, size_t size, int copy);
	void (*data_release)(gpgme_data_t dh);
	char *(*data_release_and_get_mem)(gpgme_data_t dh, size_t *len);
	void (*free)(void *p);
	gpgme_error_t (*op_import)(gpgme_ctx_t ctx, gpgme_data_t keydata);
	gpgme_import_result_t (*op_import_result)(gpgme_ctx_t ctx);
	gpgme_error_t (*op_verify)(gpgme_ctx_t ctx, gpgme_data_t sig, gpgme_data_t signed_text, gpgme_data_t plain);
	gpgme_verify_result_t (*op_verify_result)(gpgme_ctx_t ctx);
	gpgme_error_t (*op_sign)(gpgme_ctx_t ctx, gpgme_data_t plain, gpgme_data_t sig, gpgme_sig_mode_t mode);
	gpgme_error_t (*signers_add)(gpgme_ctx_t ctx, const gpgme_key_t key);
	gpgme_error_t (*op_keylist_start)(gpgme_ctx_t ctx, const char *pattern, int secret_only);
	gpgme_error_t (*op_keylist_next)(gpgme_ctx_t ctx, gpgme_key_t *key);
	gpgme_error_t (*op_keylist_end)(gpgme_ctx_t ctx);
	gpgme_error_t (*get_key)(gpgme_ctx_t ctx, const char *fpr, gpgme_key_t *key, int secret);
	void (*key_unref)(gpgme_key_t key);
	const char *(*strerror)(gpgme_error_t err);
	int (*io_writen)(int fd, const void *buf, size_t n);
};

#define SYM(field, name)                                                                                               \
	{                                                                                                              \
#name, offsetof(struct gpgme_api, field)                                                               \
	}

static const struct {
	const char *name;
	size_t off;
} syms[] = {
	SYM(check_version_internal, gpgme_check_version_internal),
	SYM(engine_check_version, gpgme_engine_check_version),
	SYM(new_ctx, gpgme_new),
	SYM(release, gpgme_release),
	SYM(set_protocol, gpgme_set_protocol),
	SYM(ctx_set_engine_info, gpgme_ctx_set_engine_info),
	SYM(set_armor, gpgme_set_armor),
	SYM(set_offline, gpgme_set_offline),
	SYM(set_pinentry_mode, gpgme_set_pinentry_mode),
	SYM(set_passphrase_cb, gpgme_set_passphrase_cb),
	SYM(data_new, gpgme_data_new),
	SYM(data_new_from_mem, gpgme_data_new_from_mem),
	SYM(data_release, gpgme_data_release),
	SYM(data_release_and_get_mem, gpgme_data_release_and_get_mem),
	SYM(free, gpgme_free),
	SYM(op_import, gpgme_op_import),
	SYM(op_import_result, gpgme_op_import_result),
	SYM(op_verify, gpgme_op_verify),
	SYM(op_verify_result, gpgme_op_verify_result),
	SYM(op_sign, gpgme_op_sign),
	SYM(signers_add, gpgme_signers_add),
	SYM(op_keylist_start, gpgme_op_keylist_start),
	SYM(op_keylist_next, gpgme_op_keylist_next),
	SYM(op_keylist_end, gpgme_op_keylist_end),
	SYM(get_key, gpgme_get_key),
	SYM(key_unref, gpgme_key_unref),
	SYM(strerror, gpgme_strerror),
	SYM(io_writen, gpgme_io_writen),
};

/*
 * Load libgpgme.so.11 once per call site. The handle is never closed (gpgme keeps
 * global state and may have threads); dlopen() of a loaded library is cheap, so each
 * caller loads its own table and no global is needed.
 */
static int gpgme_load(struct gpgme_api *api, struct skiff_err **err)
{
	void *dl = dlopen("libgpgme.so.11", RTLD_NOW | RTLD_LOCAL);

	memset(api, 0, sizeof(*api));
	if (!dl)
		return err_makex(err, ENOENT, "load gpgme (install the libgpgme11 package): %s", dlerror());
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(dl, syms[i].name);
		if (!p)
			return err_makex(err, ENOSYS, "libgpgme.so.11 has no %s (gpgme 1.8 or newer is needed)",
					 syms[i].name);
		memcpy((char *)api + syms[i].off, &p, sizeof(p));
	}
	/* gpgme_check_version() initialises the library; it is safe to call again. */
	if (!api->check_version_internal(NULL, offsetof(struct _gpgme_signature, validity)))
		return err_makex(err, ENOSYS, "gpgme: version check failed");
	gpgme_error_t e = api->engine_check_version(GPGME_PROTOCOL_OpenPGP);
	if (e)
		return err_makex(err, ENOENT, "gpgme: no usable gpg (install the gnupg package): %s", api->strerror(e));
	return 0;
}

static int gpg_fail(const struct gpgme_api *api, struct skiff_err **err, gpgme_error_t e, const char *what)
{
	return err_makex(err, EIO, "%s: %s", what, api->strerror(e));
}

/* ---- verification ---- */

struct gpg_verifier {
	struct gpgme_api api;
	gpgme_ctx_t ctx;
	char home[64];
	struct strv fprs; /* the imported (trusted) primary key fingerprints */
};

void gpg_verifier_free(struct gpg_verifier *v)
{
	if (!v)
		return;
	if (v->ctx)
		v->api.release(v->ctx);
	if (v->home[0]) {
		struct skiff_err *e = NULL;
		if (rm_rf_at(AT_FDCWD, v->home, &e) < 0)
			err_free(e);
	}
	strv_release(&v->fprs);
	free(v);
}

int gpg_verifier_new(const struct trust_sig *keyrings, size_t n, struct gpg_verifier **ret, struct skiff_err **err)
{
	struct gpg_verifier *v = xzalloc(sizeof(*v));
	gpgme_data_t kd = NULL;
	gpgme_error_t e;
	const char *tmp = getenv("TMPDIR");
	int r = -1;

	if (gpgme_load(&v->api, err) < 0)
		goto out;
	/* A short path: gpg-agent's socket, if one starts, must fit sun_path. */
	if (!tmp || tmp[0] != '/' || strlen(tmp) > 30)
		tmp = "/tmp";
	snprintf(v->home, sizeof(v->home), "%s/skiff-gpg-XXXXXX", tmp);
	if (!mkdtemp(v->home)) {
		err_make(err, errno, "create a temporary keyring in %s", tmp);
		v->home[0] = '\0';
		goto out;
	}
	if ((e = v->api.new_ctx(&v->ctx)) || (e = v->api.set_protocol(v->ctx, GPGME_PROTOCOL_OpenPGP)) ||
	    (e = v->api.ctx_set_engine_info(v->ctx, GPGME_PROTOCOL_OpenPGP, NULL, v->home))) {
		gpg_fail(&v->api, err, e, "gpgme");
		goto out;
	}
	v->api.set_offline(v->ctx, 1);
	for (size_t i = 0; i < n; i++) {
		if ((e = v->api.data_new_from_mem(&kd, keyrings[i].data, keyrings[i].len, 0))) {
			gpg_fail(&v->api, err, e, "gpgme");
			goto out;
		}
		e = v->api.op_import(v->ctx, kd);
		v->api.data_release(kd);
		kd = NULL;
		if (e) {
			gpg_fail(&v->api, err, e, "import the policy's keys");
			goto out;
		}
		gpgme_import_result_t ir = v->api.op_import_result(v->ctx);
		for (gpgme_import_status_t s = ir ? ir->imports : NULL; s; s = s->next)
			if (s->result == 0 && s->fpr && !strv_contains(&v->fprs, s->fpr))
				strv_push(&v->fprs, s->fpr);
	}
	if (v->fprs.len == 0) {
		err_makex(err, EACCES, "No public keys imported");
		goto out;
	}
	r = 0;
out:
	if (kd)
		v->api.data_release(kd);
	if (r < 0) {
		gpg_verifier_free(v);
		return -1;
	}
	*ret = v;
	return 0;
}

int gpg_verify(struct gpg_verifier *v, const char *sig, size_t len, char **ret_payload, size_t *ret_len,
	       struct skiff_err **err)
{
	gpgme_data_t sd = NULL, plain = NULL;
	gpgme_error_t e;
	gpgme_verify_result_t vr;
	gpgme_signature_t s;
	size_t count = 0;
	int r = -1;

	if ((e = v->api.data_new_from_mem(&sd, sig, len, 0)) || (e = v->api.data_new(&plain))) {
		gpg_fail(&v->api, err, e, "gpgme");
		goto out;
	}
	if ((e = v->api.op_verify(v->ctx, sd, NULL, plain))) {
		err_makex(err, EACCES, "Invalid GPG signature: %s", v->api.strerror(e));
		goto out;
	}
	vr = v->api.op_verify_result(v->ctx);
	for (s = vr ? vr->signatures : NULL; s; s = s->next)
		count++;
	if (count != 1) {
		err_makex(err, EACCES, "Unexpected GPG signature count %zu", count);
		goto out;
	}
	s = vr->signatures;
	if (s->status || s->validity == GPGME_VALIDITY_NEVER || s->chain_model || s->wrong_key_usage) {
		err_makex(err, EACCES, "Invalid GPG signature: %s",
			  s->status ? v->api.strerror(s->status) : "not valid");
		goto out;
	}
	/* The signing key may be a subkey: accept it when its primary key is trusted. */
	bool trusted = s->fpr && strv_contains(&v->fprs, s->fpr);
	if (!trusted && s->fpr) {
		gpgme_key_t key = NULL;
		if (v->api.get_key(v->ctx, s->fpr, &key, 0) == 0 && key) {
			trusted = key->subkeys && key->subkeys->fpr && strv_contains(&v->fprs, key->subkeys->fpr);
			v->api.key_unref(key);
		}
	}
	if (!trusted) {
		err_makex(err, EACCES, "signature by key %s is not accepted", s->fpr ? s->fpr : "(unknown)");
		goto out;
	}
	size_t n = 0;
	char *mem = v->api.data_release_and_get_mem(plain, &n);
	plain = NULL;
	char *copy = xmalloc(n + 1);
	if (n)
		memcpy(copy, mem, n);
	copy[n] = '\0';
	v->api.free(mem);
	*ret_payload = copy;
	*ret_len = n;
	r = 0;
out:
	if (sd)
		v->api.data_release(sd);
	if (plain)
		v->api.data_release(plain);
	return r;
}

/* ---- signing ---- */

static gpgme_error_t passphrase_cb(void *hook, const char *uid_hint, const char *info, int prev_bad, int fd)
{
	const struct {
		const struct gpgme_api *api;
		const char *pass;
	} *h = hook;

	if (prev_bad)
		return GPG_ERR_BAD_PASSPHRASE;
	if (h->api->io_writen(fd, h->pass, strlen(h->pass)) < 0 || h->api->io_writen(fd, "\n", 1) < 0)
		return GPG_ERR_CANCELED;
	return 0;
}

/* The one secret key key names. */
static int find_secret_key(const struct gpgme_api *api, gpgme_ctx_t ctx, const char *key, gpgme_key_t *ret,
			   struct skiff_err **err)
{
	gpgme_key_t found = NULL, k = NULL;
	gpgme_error_t e;
	size_t n = 0;

	if ((e = api->op_keylist_start(ctx, key, 1)))
		return gpg_fail(api, err, e, "list secret keys");
	while ((e = api->op_keylist_next(ctx, &k)) == 0) {
		if (!found && !k->revoked && !k->expired && !k->disabled && k->can_sign) {
			found = k;
			n++;
		} else {
			if (!k->revoked && !k->expired && !k->disabled && k->can_sign)
				n++;
			api->key_unref(k);
		}
	}
	api->op_keylist_end(ctx);
	if (gpgme_err_code(e) != GPG_ERR_EOF) {
		if (found)
			api->key_unref(found);
		return gpg_fail(api, err, e, "list secret keys");
	}
	if (!found)
		return err_makex(err, ENOENT, "no usable secret key matches \"%s\"", key);
	if (n > 1) {
		api->key_unref(found);
		return err_makex(err, EINVAL, "\"%s\" matches %zu secret keys: name one by its fingerprint", key, n);
	}
	*ret = found;
	return 0;
}

int gpg_sign(const char *key, const char *passphrase, const char *payload, size_t len, char **ret, size_t *ret_len,
	     struct skiff_err **err)
{
	struct gpgme_api api;
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t k = NULL;
	gpgme_data_t in = NULL, out = NULL;
	gpgme_error_t e;
	int r = -1;
	struct {
		const struct gpgme_api *api;
		const char *pass;
	} hook = {&api, passphrase};

	if (!key || !*key)
		return err_makex(err, EINVAL, "no signing key given");
	if (gpgme_load(&api, err) < 0)
		return -1;
	if ((e = api.new_ctx(&ctx)) || (e = api.set_protocol(ctx, GPGME_PROTOCOL_OpenPGP))) {
		gpg_fail(&api, err, e, "gpgme");
		goto out;
	}
	api.set_armor(ctx, 0);
	if (passphrase) {
		if ((e = api.set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK))) {
			gpg_fail(&api, err, e, "gpgme: loopback pinentry");
			goto out;
		}
		api.set_passphrase_cb(ctx, passphrase_cb, &hook);
	}
	if (find_secret_key(&api, ctx, key, &k, err) < 0)
		goto out;
	if ((e = api.signers_add(ctx, k))) {
		gpg_fail(&api, err, e, "gpgme: add the signer");
		goto out;
	}
	if ((e = api.data_new_from_mem(&in, payload, len, 0)) || (e = api.data_new(&out))) {
		gpg_fail(&api, err, e, "gpgme");
		goto out;
	}
	if ((e = api.op_sign(ctx, in, out, GPGME_SIG_MODE_NORMAL))) {
		err_makex(err, EIO, "sign with key %s: %s", key, api.strerror(e));
		goto out;
	}
	size_t n = 0;
	char *mem = api.data_release_and_get_mem(out, &n);
	out = NULL;
	if (!mem || n == 0) {
		if (mem)
			api.free(mem);
		err_makex(err, EIO, "sign with key %s: gpg produced no signature", key);
		goto out;
	}
	*ret = xmalloc(n);
	memcpy(*ret, mem, n);
	*ret_len = n;
	api.free(mem);
	r = 0;
out:
	if (in)
		api.data_release(in);
	if (out)
		api.data_release(out);
	if (k)
		api.key_unref(k);
	if (ctx)
		api.release(ctx);
	return r;
}
