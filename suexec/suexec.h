/* nscell-suexec: Apache's suexec calling convention in front of nscell-shim.
 *
 * Installed setuid root in place of Apache's suexec helper, it is called
 * by the web server's user as `suexec [~]USER GROUP PROGRAM [ARGS]` in the
 * program's directory, applies suexec's checks, and execs
 * `nscell-shim -p -u USER -d DIR -- DIR/PROGRAM ARGS` as a plain root
 * process with a clean environment.  Libc only, no template is read. */
#ifndef NSCELL_SUEXEC_H
#define NSCELL_SUEXEC_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "translate/error.h"

/* exit statuses: a refused request, a usage or setup error */
enum { SUEXEC_EXIT_REFUSED = 1, SUEXEC_EXIT_USAGE = 2 };

#define SUEXEC_VALUE_MAX 512

/* the settings: compiled-in defaults, then suexec.conf's lines */
struct suexec_conf {
	char httpd_user[64];            /* the only caller allowed */
	unsigned long uid_min, gid_min; /* lowest target ids */
	char docroot[SUEXEC_VALUE_MAX]; /* for non-~ requests; "" refuses them */
	char userdir[SUEXEC_VALUE_MAX]; /* below the home, for ~ requests; "" refuses them */
	char shim[SUEXEC_VALUE_MAX];    /* nscell-shim, exec'd as root */
	char safe_path[SUEXEC_VALUE_MAX];
};

/* what the web server asked for, once checked */
struct suexec_request {
	bool userdir;           /* a ~USER request: docroot is ~USER/userdir */
	uid_t uid;
	gid_t gid;
	char user[64];
	char home[PATH_MAX];
	char cwd[PATH_MAX];     /* physical, below the docroot */
	char program[PATH_MAX]; /* cwd/PROGRAM */
};

/* conf.c */
void suexec_conf_defaults(struct suexec_conf *c);
int suexec_conf_load(struct suexec_conf *c, const char *path, nscell_error_t *err);
void suexec_conf_print(const struct suexec_conf *c, const char *path);

/* checks.c: each returns -1 with err set when the request is refused */
int suexec_resolve_target(const struct suexec_conf *c, const char *user, const char *group,
			  struct suexec_request *r, nscell_error_t *err);
int suexec_check_command(const char *cmd, nscell_error_t *err);
int suexec_check_files(const struct suexec_conf *c, const char *cmd, struct suexec_request *r,
		       nscell_error_t *err);

#endif
