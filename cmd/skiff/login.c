/* login and logout: registry credentials in auth.json (pkg/config/auth.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/skiff/skiff.h"
#include "pkg/config/auth.h"
#include "pkg/registry/registry.h"
#include "vendor-free/cleanup.h"
#include "vendor-free/fileio.h"
#include "vendor-free/strbuf.h"
#include "vendor-free/xalloc.h"

/* The registry when none is given: docker's default (podman takes the first
 * unqualified-search registry of registries.conf). */
#define DEFAULT_REGISTRY "docker.io"
/* Most a password read by --password-stdin may be. */
#define PASSWORD_MAX (64u << 10)

static struct {
	const char *username, *password, *authfile, *cert_dir;
	bool password_stdin, get_login, tls_verify, verbose;
	bool all;
} o = {.tls_verify = true};

static const struct cli_opt login_opts[] = {
	{"authfile", 0, OPT_STRING, &o.authfile, "PATH",
	 "Path of the authentication file (default ${XDG_RUNTIME_DIR}/containers/auth.json; "
	 "$REGISTRY_AUTH_FILE overrides it)",
	 0},
	{"cert-dir", 0, OPT_STRING, &o.cert_dir, "DIR", "Use certificates at DIR to access the registry", 0},
	{"get-login", 0, OPT_BOOL, &o.get_login, NULL, "Print the user logged into the registry", 0},
	{"password", 'p', OPT_STRING, &o.password, "PASSWORD", "Password for the registry", 0},
	{"password-stdin", 0, OPT_BOOL, &o.password_stdin, NULL, "Take the password from stdin", 0},
	{"tls-verify", 0, OPT_BOOL, &o.tls_verify, NULL,
	 "Require HTTPS and verify certificates when contacting the registry (default true)", 0},
	{"username", 'u', OPT_STRING, &o.username, "USERNAME", "Username for the registry", 0},
	{"verbose", 'v', OPT_BOOL, &o.verbose, NULL, "Print the file the credentials were written to", 0},
	{0},
};

static const struct cli_opt logout_opts[] = {
	{"all", 'a', OPT_BOOL, &o.all, NULL, "Remove the credentials of all registries in the authentication file", 0},
	{"authfile", 0, OPT_STRING, &o.authfile, "PATH",
	 "Path of the authentication file (default ${XDG_RUNTIME_DIR}/containers/auth.json; "
	 "$REGISTRY_AUTH_FILE overrides it)",
	 0},
	{0},
};

/*
 * Check user:pass against the registry before they are stored.
 * The registry is asked (GET /v2/ with the credentials, through its Basic or Bearer
 * challenge); what it refuses is not stored.
 */
static int verify_login(const char *host, const char *user, const char *pass, bool tls_verify, const char *cert_dir,
			struct skiff_err **err)
{
	struct registry_creds cr = {.user = (char *)user, .pass = (char *)pass};
	struct registry_opts ro = {
		.tls_verify = tls_verify ? 1 : 0,
		.cert_dir = cert_dir,
		.rootless = geteuid() != 0,
		.fixed_creds = &cr,
		.retries = 3,
	};
	struct registry_endpoint ep = {.host = host};
	struct registry *r;
	if (registry_new(&ro, &r, err) < 0)
		return -1;
	int rc = registry_check_login(r, &ep, err);
	registry_free(r);
	return rc;
}

/* ---------------- prompting ---------------- */

static int tty_fd = -1;
static struct termios tty_saved;
static volatile sig_atomic_t tty_echo_off;

static void restore_tty_and_die(int sig)
{
	if (tty_echo_off)
		tcsetattr(tty_fd, TCSANOW, &tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Read one line from the terminal (without its newline), echoing it or not. */
static int tty_read_line(const char *prompt, bool echo, char **ret, struct skiff_err **err)
{
	struct strbuf line = STRBUF_INIT;
	struct sigaction sa = {.sa_handler = restore_tty_and_die}, old_int, old_term, old_hup;
	int rc = 0;

	/* echo goes off before the prompt shows: what is typed after it is never echoed */
	if (!echo) {
		struct termios t;
		if (tcgetattr(tty_fd, &tty_saved) < 0)
			return err_make(err, errno, "reading password: /dev/tty");
		t = tty_saved;
		t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		t.c_lflag |= ICANON;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		sigaction(SIGHUP, &sa, &old_hup);
		if (tcsetattr(tty_fd, TCSANOW, &t) < 0) {
			rc = err_make(err, errno, "reading password: /dev/tty");
			goto out;
		}
		tty_echo_off = 1;
	}
	if (write_all(tty_fd, prompt, strlen(prompt)) < 0) {
		rc = err_make(err, errno, "write to /dev/tty");
		goto out;
	}
	for (;;) {
		char c;
		ssize_t n = read(tty_fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_make(err, errno, "reading %s", echo ? "username" : "password");
			break;
		}
		if (n == 0) {
			rc = err_makex(err, EIO, "reading %s: EOF", echo ? "username" : "password");
			break;
		}
		if (c == '\n')
			break;
		if (line.len >= PASSWORD_MAX) {
			rc = err_makex(err, E2BIG, "reading %s: longer than %u bytes", echo ? "username" : "password",
				       PASSWORD_MAX);
			break;
		}
		strbuf_addch(&line, c);
	}
out:
	if (!echo) {
		if (tty_echo_off)
			tcsetattr(tty_fd, TCSANOW, &tty_saved);
		tty_echo_off = 0;
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		sigaction(SIGHUP, &old_hup, NULL);
		if (write_all(tty_fd, "\n", 1) < 0) {
			/* the newline the user typed was not echoed; nothing else to do */
		}
	}
	if (rc < 0) {
		explicit_bzero(line.buf, line.len);
		strbuf_release(&line);
		return rc;
	}
	if (line.len && line.buf[line.len - 1] == '\r')
		strbuf_setlen(&line, line.len - 1);
	*ret = strbuf_detach(&line, NULL);
	return 0;
}

/* --password-stdin: all of stdin, its line breaks dropped (podman joins the lines). */
static int read_password_stdin(char **ret, struct skiff_err **err)
{
	char *buf = NULL;
	size_t len = 0, j = 0;

	if (read_all_fd(STDIN_FILENO, PASSWORD_MAX, &buf, &len, err) < 0)
		return err_wrap(err, "reading password from stdin");
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n' || (buf[i] == '\r' && (i + 1 == len || buf[i + 1] == '\n')))
			continue;
		buf[j++] = buf[i];
	}
	explicit_bzero(buf + j, len - j);
	buf[j] = 0;
	*ret = buf;
	return 0;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Ask for what -u/-p did not give, on the terminal; old_user is offered as the default. */
static int ask_user_and_pass(const char *old_user, char **user, char **pass, struct skiff_err **err)
{
	if (!isatty(STDIN_FILENO))
		return err_makex(err, ENOTTY, "cannot prompt for %s: stdin is not a terminal (use %s)",
				 *user ? "the password" : "the username",
				 *user ? "--password or --password-stdin" : "--username");
	tty_fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (tty_fd < 0)
		return err_make(err, errno, "cannot prompt for credentials: open /dev/tty");
	int rc = 0;
	if (!*user) {
		cleanup_free char *prompt =
			old_user && *old_user ? xasprintf("Username (%s): ", old_user) : xstrdup("Username: ");
		char *u = NULL;
		rc = tty_read_line(prompt, true, &u, err);
		if (rc == 0) {
			/* trim blanks; an empty answer keeps the stored user */
			char *s = u, *e = u + strlen(u);
			while (*s == ' ' || *s == '\t')
				s++;
			while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
				*--e = 0;
			*user = xstrdup(*s ? s : old_user ? old_user : "");
			free(u);
		}
	}
	if (rc == 0 && !*pass)
		rc = tty_read_line("Password: ", false, pass, err);
	close(tty_fd);
	tty_fd = -1;
	if (rc < 0)
		return err_wrap(err, "getting username and password");
	return 0;
}

/* ---------------- login ---------------- */

static int login_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	cleanup_free char *key = NULL;
	cleanup_free char *registry = NULL;
	cleanup_free char *where = NULL;
	struct auth_paths paths;
	struct auth_cred cur = {0};
	char *user = NULL, *pass = NULL;
	int rc = -1, found;

	if (auth_parse_key(argc > 0 ? argv[0] : DEFAULT_REGISTRY, &key, &registry, err) < 0)
		return -1;
	if (o.password_stdin && o.password)
		return err_makex(err, EINVAL, "Can't specify both --password-stdin and --password");
	if (o.password_stdin && !o.username)
		return err_makex(err, EINVAL, "Must provide --username with --password-stdin");

	auth_paths_default(&paths, o.authfile);
	found = auth_get(&paths, key, &cur, err);
	if (found < 0) {
		err_wrap(err, "get credentials");
		goto out;
	}
	if (o.get_login) {
		if (found != 0 || !cur.user || !*cur.user) {
			err_makex(err, ENOENT, "not logged into %s", key);
			goto out;
		}
		printf("%s\n", cur.user);
		rc = 0;
		goto out;
	}
	if (found == 0 && cur.identity_token) {
		err_makex(err, EINVAL, "currently logged in, auth file contains an Identity token");
		goto out;
	}

	user = o.username ? xstrdup(o.username) : NULL;
	if (o.password_stdin) {
		if (read_password_stdin(&pass, err) < 0)
			goto out;
	} else if (o.password) {
		pass = xstrdup(o.password);
	}
	/* neither given: the stored credentials, if they still work */
	if (!user && !pass && found == 0 && cur.user && *cur.user && cur.pass && *cur.pass) {
		printf("Authenticating with existing credentials for %s\n", key);
		struct skiff_err *verr = NULL;
		if (verify_login(registry, cur.user, cur.pass, o.tls_verify, o.cert_dir, &verr) == 0) {
			printf("Existing credentials are valid. Already logged in to %s\n", registry);
			rc = 0;
			goto out;
		}
		err_free(verr);
		printf("Existing credentials are invalid, please enter valid username and password\n");
	}
	fflush(stdout);
	if ((!user || !pass) && ask_user_and_pass(found == 0 ? cur.user : NULL, &user, &pass, err) < 0)
		goto out;
	if (!*user) {
		err_makex(err, EINVAL, "getting username and password: the username is empty");
		goto out;
	}
	if (verify_login(registry, user, pass, o.tls_verify, o.cert_dir, err) < 0) {
		err_wrap(err, "authenticating creds for \"%s\"", key);
		goto out;
	}
	if (auth_set(paths.primary, key, user, pass, &where, err) < 0)
		goto out;
	if (o.verbose)
		printf("Used:  %s\n", where);
	printf("Login Succeeded!\n");
	rc = 0;
out:
	free(user);
	free_secret(pass);
	auth_cred_release(&cur);
	auth_paths_release(&paths);
	return rc;
}

const struct cli_impl cli_login = {
	.usage = "[options] [REGISTRY]",
	.description = "Log in to a container registry: check the username and password with the registry and store "
		       "them in the authentication file (${XDG_RUNTIME_DIR}/containers/auth.json, or "
		       "/run/containers/UID/auth.json; --authfile or $REGISTRY_AUTH_FILE name another one). "
		       "REGISTRY is host[:port], optionally followed by /namespace or /namespace/repository for "
		       "credentials that apply to that part of the registry only; docker.io when omitted. Without "
		       "--username or --password they are asked for on the terminal. --get-login prints the user "
		       "logged in, found in the authentication file or, without --authfile, in "
		       "~/.config/containers/auth.json, ~/.docker/config.json or ~/.dockercfg.",
	.opts = login_opts,
	.max_args = 1,
	.run = login_run,
};

/* ---------------- logout ---------------- */

static int logout_run(struct skiff_ctx *ctx, int argc, char **argv, struct skiff_err **err)
{
	cleanup_free char *key = NULL;
	cleanup_free char *registry = NULL;
	cleanup_free char *file = auth_default_file(o.authfile);
	cleanup_free char *explicit_file = auth_explicit_file(o.authfile);
	struct stat st;

	/* podman checks a file the user named, and only that */
	if (explicit_file && stat(explicit_file, &st) < 0)
		return err_make(err, errno, "checking authfile: stat %s", explicit_file);
	if (o.all) {
		if (argc > 0)
			return err_makex(err, EINVAL, "--all takes no arguments");
		if (auth_remove_all(file, err) < 0)
			return -1;
		printf("Removed login credentials for all registries\n");
		return 0;
	}
	if (auth_parse_key(argc > 0 ? argv[0] : DEFAULT_REGISTRY, &key, &registry, err) < 0)
		return -1;
	if (auth_remove(file, key, err) == 0) {
		printf("Removed login credentials for %s\n", key);
		return 0;
	}
	if (err_status(*err) != ENOENT)
		return err_wrap(err, "logging out of \"%s\"", key);
	err_clear(err);

	/* not in our file: maybe in docker's, which logout leaves alone */
	struct auth_paths paths;
	struct auth_cred cur = {0};
	auth_paths_default(&paths, o.authfile);
	int found = auth_get(&paths, key, &cur, err);
	auth_paths_release(&paths);
	if (found < 0)
		return err_wrap(err, "get credentials");
	/* found in another file (docker's): say so, without asking the registry */
	bool elsewhere = found == 0 && strcmp(cur.file, file) != 0 && cur.user && *cur.user && cur.pass && *cur.pass;
	auth_cred_release(&cur);
	if (elsewhere) {
		printf("Not logged into %s with current tool. Existing credentials were established via docker login. "
		       "Please use docker logout instead.\n",
		       key);
		return 0;
	}
	return err_makex(err, ENOENT, "not logged into %s", key);
}

const struct cli_impl cli_logout = {
	.usage = "[options] [REGISTRY]",
	.description = "Log out of a container registry: remove the credentials of REGISTRY (host[:port], "
		       "optionally with /namespace or /namespace/repository; docker.io when omitted) from the "
		       "authentication file (${XDG_RUNTIME_DIR}/containers/auth.json, --authfile or "
		       "$REGISTRY_AUTH_FILE), or of every registry with --all. Credentials in docker's "
		       "~/.docker/config.json are left alone.",
	.opts = logout_opts,
	.max_args = 1,
	.run = logout_run,
};
