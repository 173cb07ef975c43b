/* What a user may run through hostexec, and with what environment.  The
 * list comes from the plans the listener builds itself from the admin's
 * templates and nscell.conf, never from the client. */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "hostexec/daemon.h"
#include "translate/load.h"

/* names dropped as they are, and prefixes of families of them: what the
 * dynamic loader, glibc, shells and interpreters read to change what a
 * program does (glibc's own "unsecure" list for setuid programs, and more) */
static const char *const unsafe_names[] = {
	"GLIBC_TUNABLES", "BASH_ENV", "ENV", "IFS", "CDPATH", "SHELLOPTS", "BASHOPTS", "PS4",
	"PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONINSPECT", "PYTHONUSERBASE",
	"PERLLIB", "PERL5LIB", "PERL5OPT", "PERL5DB", "PERLIO", "RUBYOPT", "RUBYLIB",
	"NODE_OPTIONS", "NODE_PATH", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",
	"GCONV_PATH", "GETCONF_DIR", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "NIS_PATH",
	"NLSPATH", "RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR", "TZDIR", "MALLOC_TRACE",
	"OPENSSL_CONF", "OPENSSL_ENGINES", "SSLKEYLOGFILE", "GIT_EXEC_PATH", "EDITOR", "VISUAL",
	/* set from the host's passwd entry instead */
	"PATH", "HOME", "USER", "LOGNAME", "SHELL",
};
static const char *const unsafe_prefixes[] = {
	"LD_", "BASH_FUNC_", "PYTHON", "PERL5", "RUBY", "NODE_", "MALLOC_", "GLIBC_", "NSCELL_",
};

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))

bool hx_policy_env_unsafe(const char *entry)
{
	const char *eq = strchr(entry, '=');
	if (!eq || eq == entry)
		return true; /* not NAME=value */
	size_t n = (size_t)(eq - entry);
	for (size_t i = 0; i < N_ELEMS(unsafe_names); i++)
		if (strlen(unsafe_names[i]) == n && memcmp(entry, unsafe_names[i], n) == 0)
			return true;
	for (size_t i = 0; i < N_ELEMS(unsafe_prefixes); i++)
		if (strncmp(entry, unsafe_prefixes[i], strlen(unsafe_prefixes[i])) == 0)
			return true;
	return false;
}

char **hx_policy_env(const struct plan_identity *id, char *const *env)
{
	size_t n = plan_strv_len(env), k = 0;
	_cleanup_free_ char **kept = calloc(n + 1, sizeof *kept);
	if (!kept)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!hx_policy_env_unsafe(env[i]))
			kept[k++] = env[i];
	return load_process_env(id, kept);
}

static bool lists(const struct plan *p, const char *program)
{
	for (size_t i = 0; i < p->nmounts; i++) {
		const struct plan_mount *m = &p->mounts[i];
		if (m->op == PLAN_BIND && (m->flags & PLAN_F_HOSTEXEC) && strcmp(m->dst, program) == 0)
			return true;
	}
	return false;
}

/* the plan of user (for vhost, or none); 1 when it lists program */
static int plan_lists(struct nscell_conf *conf, const char *conf_path, const char *user,
		      const char *vhost, const char *program, struct plan *p, nscell_error_t *err)
{
	struct load_opts o = { .conf_path = conf_path, .user = user, .vhost = vhost };
	struct diags d;
	diags_init(&d);
	plan_free(p);
	int r = plan_load(p, conf, &o, &d, err);
	diags_free(&d);
	if (r < 0)
		return nscell_error_wrap(err, "the plan of %s%s%s", user, vhost ? " for vhost " : "",
					 vhost ? vhost : "");
	return lists(p, program);
}

int hx_policy_check(const char *conf_path, uid_t uid, const char *program, struct plan *plan,
		    nscell_error_t *err)
{
	plan_init(plan);
	errno = 0;
	struct passwd *pw = getpwuid(uid);
	if (!pw)
		return nscell_error_set(err, errno, "uid %u has no passwd entry", (unsigned)uid);
	_cleanup_free_ char *user = strdup(pw->pw_name);
	if (!user)
		return nscell_error_set(err, ENOMEM, "out of memory");
	struct nscell_conf conf;
	conf_init(&conf);
	/* the user's sandbox without a vhost, then each vhost's: a user may
	 * launch any of them for itself */
	int r = plan_lists(&conf, conf_path, user, NULL, program, plan, err);
	for (size_t i = 0; r == 0 && i < conf.nvhosts; i++)
		if (conf.vhosts[i].mode != CONF_VHOST_OFF)
			r = plan_lists(&conf, conf_path, user, conf.vhosts[i].name, program, plan, err);
	conf_free(&conf);
	if (r == 0)
		nscell_error_set(err, EPERM, "%s is not a hostexec program of user %s's sandbox",
				 program, user);
	return r;
}
