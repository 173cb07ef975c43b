/* nscell-suexec: Apache's suexec helper, launching into nscell sandboxes.
 *
 * Trust model, and why it is suexec's: suexec trusts its compiled-in
 * settings and its caller's real uid (the web server's user); it checks the
 * request, becomes the target user and execs the program.  nscell-suexec
 * trusts the same two things (the settings also in a root-only file),
 * makes the same checks, and then, instead of becoming the user itself,
 * becomes plain root (all ids 0, no set-id state left, so the shim's
 * refusal to run set-id does not trip and nothing of the caller's is
 * trusted by the kernel or libc as "secure") and execs the root-owned
 * nscell-shim with a fixed argv: -p -u USER -d DIR -- DIR/PROGRAM ARGS.
 * The caller picks only what suexec's caller picks: the user (checked),
 * the program (checked, after "--", so never read as an option), its
 * arguments and its fds 0-2; the environment is cut down to suexec's safe
 * list (so no NSCELL_* or LD_* reaches the shim), the signal state is
 * reset.  The shim then does what suexec's setuid did, and more: the
 * user's ids and groups, no capabilities, no_new_privs, in the sandbox. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suexec/suexec.h"

#ifndef NSCELL_SUEXEC_CONF
#define NSCELL_SUEXEC_CONF "/etc/nscell/suexec.conf"
#endif

#define ENV_MAX 256

extern char **environ;

static void __attribute__((noreturn)) die(int status, const nscell_error_t *err)
{
	fprintf(stderr, "nscell-suexec: %s%s\n", status == SUEXEC_EXIT_REFUSED ? "refused: " : "", err->msg);
	exit(status);
}

/* Apache 2.4 suexec's safe list: prefixes, then whole names */
static const char *const safe_prefixes[] = { "HTTP_", "SSL_", NULL };
static const char *const safe_names[] = {
	"AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE", "CONTEXT_DOCUMENT_ROOT", "CONTEXT_PREFIX",
	"DATE_GMT", "DATE_LOCAL", "DOCUMENT_ARGS", "DOCUMENT_NAME", "DOCUMENT_PATH_INFO",
	"DOCUMENT_ROOT", "DOCUMENT_URI", "GATEWAY_INTERFACE", "HTTPS", "LAST_MODIFIED", "PATH_INFO",
	"PATH_TRANSLATED", "QUERY_STRING", "QUERY_STRING_UNESCAPED", "REMOTE_ADDR", "REMOTE_HOST",
	"REMOTE_IDENT", "REMOTE_PORT", "REMOTE_USER", "REDIRECT_ERROR_NOTES", "REDIRECT_HANDLER",
	"REDIRECT_QUERY_STRING", "REDIRECT_REMOTE_USER", "REDIRECT_CONTEXT_DOCUMENT_ROOT",
	"REDIRECT_CONTEXT_PREFIX", "REDIRECT_SCRIPT_FILENAME", "REDIRECT_STATUS", "REDIRECT_URL",
	"REQUEST_METHOD", "REQUEST_URI", "REQUEST_SCHEME", "SCRIPT_FILENAME", "SCRIPT_NAME",
	"SCRIPT_URI", "SCRIPT_URL", "SERVER_ADMIN", "SERVER_NAME", "SERVER_ADDR", "SERVER_PORT",
	"SERVER_PROTOCOL", "SERVER_SIGNATURE", "SERVER_SOFTWARE", "UNIQUE_ID", "USER_NAME", "TZ", NULL,
};

static bool env_is_safe(const char *entry)
{
	const char *eq = strchr(entry, '=');
	if (!eq || strncmp(eq + 1, "() ", 3) == 0 || strncmp(entry, "HTTP_PROXY=", 11) == 0)
		return false;
	size_t n = (size_t)(eq - entry);
	for (const char *const *p = safe_prefixes; *p; p++)
		if (strncmp(entry, *p, strlen(*p)) == 0 && n > strlen(*p))
			return true;
	for (const char *const *s = safe_names; *s; s++)
		if (strlen(*s) == n && strncmp(entry, *s, n) == 0)
			return true;
	return false;
}

/* PATH, then the safe part of the caller's */
static void clean_env(const struct suexec_conf *c, char **out)
{
	static char path[SUEXEC_VALUE_MAX + 8];
	int n = 0;
	snprintf(path, sizeof path, "PATH=%s", c->safe_path);
	out[n++] = path;
	for (char **e = environ; *e && n < ENV_MAX - 1; e++)
		if (env_is_safe(*e))
			out[n++] = *e;
	out[n] = NULL;
}

/* the file checks run with the target's effective ids; root stays saved */
static int become_target(const struct suexec_request *r, nscell_error_t *err)
{
	if (initgroups(r->user, r->gid) < 0 || setegid(r->gid) < 0 || seteuid(r->uid) < 0)
		return nscell_error_errno(err, errno, "cannot take the ids of %s", r->user);
	return 0;
}

/* plain root: real, effective and saved ids 0, no groups; nothing set-id left */
static int become_plain_root(nscell_error_t *err)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	if (seteuid(0) < 0 || setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return nscell_error_errno(err, errno, "cannot become root");
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru || eu || su || rg || eg || sg)
		return nscell_error_set(err, 0, "ids are not all 0 after setresuid");
	return 0;
}

/* the shim runs as root: root must own it and be the only one to write it */
static int check_shim(const char *shim, nscell_error_t *err)
{
	struct stat st;
	if (stat(shim, &st) < 0)
		return nscell_error_errno(err, errno, "shim %s", shim);
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) || (st.st_mode & (S_ISUID | S_ISGID)))
		return nscell_error_set(err, 0, "shim %s: not a root-owned file only root may write", shim);
	return 0;
}

static void reset_process_state(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	/* fds 0-2 open, so that nothing the shim opens lands there */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			_exit(SUEXEC_EXIT_USAGE);
}

/* the caller must be the web server's user; -V also answers root */
static void check_caller(const struct suexec_conf *c, bool version)
{
	nscell_error_t err = { 0 };
	errno = 0;
	struct passwd *pw = getpwnam(c->httpd_user);
	if (!pw) {
		nscell_error_set(&err, errno, "httpd_user %s does not exist", c->httpd_user);
		die(SUEXEC_EXIT_USAGE, &err);
	}
	uid_t caller = getuid();
	if (caller == pw->pw_uid || (version && caller == 0))
		return;
	nscell_error_set(&err, 0, "caller uid %u is not the web server's user %s (%u)", (unsigned)caller,
			 c->httpd_user, (unsigned)pw->pw_uid);
	die(SUEXEC_EXIT_REFUSED, &err);
}

static void exec_shim(const struct suexec_conf *c, const struct suexec_request *r, int nargs, char **args)
{
	char *env[ENV_MAX];
	char *argv[nargs + 10];
	int n = 0;
	argv[n++] = "nscell-shim";
	argv[n++] = "-p";
	argv[n++] = "-u";
	argv[n++] = (char *)r->user;
	argv[n++] = "-d";
	argv[n++] = (char *)r->cwd;
	argv[n++] = "--";
	argv[n++] = (char *)r->program;
	for (int i = 0; i < nargs; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	clean_env(c, env);
	execve(c->shim, argv, env);
	nscell_error_t err = { 0 };
	nscell_error_errno(&err, errno, "exec %s", c->shim);
	die(SUEXEC_EXIT_USAGE, &err);
}

int main(int argc, char **argv)
{
	nscell_error_t err = { 0 };
	struct suexec_conf conf;
	struct suexec_request req = { 0 };
	bool version = argc == 2 && strcmp(argv[1], "-V") == 0;
	suexec_conf_defaults(&conf);
	if (geteuid() != 0) {
		nscell_error_set(&err, 0, "not installed setuid root (effective uid %u)", (unsigned)geteuid());
		die(SUEXEC_EXIT_USAGE, &err);
	}
	if (suexec_conf_load(&conf, NSCELL_SUEXEC_CONF, &err) < 0)
		die(SUEXEC_EXIT_USAGE, &err);
	check_caller(&conf, version);
	if (version) {
		suexec_conf_print(&conf, NSCELL_SUEXEC_CONF);
		return 0;
	}
	if (argc < 4) {
		nscell_error_set(&err, 0, "usage: nscell-suexec [~]USER GROUP PROGRAM [ARGS...] "
					  "(run by the web server in PROGRAM's directory)");
		die(SUEXEC_EXIT_USAGE, &err);
	}
	if (suexec_check_command(argv[3], &err) < 0 ||
	    suexec_resolve_target(&conf, argv[1], argv[2], &req, &err) < 0 ||
	    become_target(&req, &err) < 0 || suexec_check_files(&conf, argv[3], &req, &err) < 0)
		die(SUEXEC_EXIT_REFUSED, &err);
	if (become_plain_root(&err) < 0 || check_shim(conf.shim, &err) < 0)
		die(SUEXEC_EXIT_USAGE, &err);
	reset_process_state();
	exec_shim(&conf, &req, argc - 4, argv + 4);
}
