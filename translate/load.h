/* Options of the CLI contract → a resolved plan.  Shared by nscell and
 * nscell-shim so that both see exactly the same sandbox. */
#ifndef NSCELL_LOAD_H
#define NSCELL_LOAD_H

#include <stdbool.h>

#include "conf.h"
#include "diag.h"
#include "error.h"
#include "plan.h"
#include "plan_cache.h"

struct load_opts {
	const char *conf_path;   /* -C; NULL = NSCELL_DEFAULT_CONF, missing is fine */
	const char *server_tpl;  /* -f; NULL = conf's template or the built-in default */
	const char *vhost_tpl;   /* -2; NULL = the vhost's template from the conf */
	const char *vhost;       /* -s; unknown vhost is an error */
	const char *user;        /* -u; NULL = identity_default_user() */
	char *const *argv;       /* command; NULL = the user's shell */
	char *const *env;        /* base environment; NULL = a minimal PATH */
	const char *cwd;         /* -d; NULL = home */
	bool rootless;           /* unprivileged caller (or --rootless) */
	bool check_sources;      /* stat sources (true for run/translate/export) */
	bool no_templates;       /* conf, vhost, user, process, cgroup only: no template is
				    read (a persisted sandbox's warm launch) */
	const struct plan_identity *identity; /* the user, looked up before (libnscell's
						 cache): copied, o->user is not looked up */
	struct plan_cache *cache; /* plan_cache_init'ed: take the base from it when
				     nothing changed, else store it there; NULL: none */
};

/* Everything from reading nscell.conf to plan_sort.  Template problems are
 * in d (print them with diags_print); the summary is in err: the first
 * error as "FILE:LINE:COL: message".
 *
 * p is initialised here (plan_free it afterwards, even on failure).  conf
 * must be conf_init'ed (or zeroed); it is loaded here unless already
 * loaded, and the caller conf_free's it.  When the vhost's mode is off,
 * p->sandbox_off is set and p has no mounts (identity, process and cgroup
 * are still filled in: the command runs as the user, unsandboxed).
 * Without a command (o->argv NULL) argv is the user's shell, [shell].
 * p->files lists nscell.conf (when one was read), then each template. */
int plan_load(struct plan *p, struct nscell_conf *conf, const struct load_opts *o,
	      struct diags *d, nscell_error_t *err);

/* plan_load in two steps, for a caller that keeps what the first needs
 * between calls (libnscell): plan_load_base reads nscell.conf (unless
 * conf is loaded), finds the vhost, the user (or copies o->identity) and
 * the templates, none of which depends on argv, env or cwd;
 * plan_load_process adds the process (argv, env, cwd), the cgroup limits
 * and rootless.  p must be plan_init'ed before plan_load_base; plan_load
 * is plan_init, then both. */
int plan_load_base(struct plan *p, struct nscell_conf *conf, const struct load_opts *o,
		   struct diags *d, nscell_error_t *err);
int plan_load_process(struct plan *p, const struct nscell_conf *conf, const struct load_opts *o,
		      nscell_error_t *err);

/* The environment of the sandboxed command: base (or PATH only) with HOME,
 * USER, LOGNAME and SHELL set for the user. */
char **load_process_env(const struct plan_identity *id, char *const *base);

#endif
