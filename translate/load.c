/* The CLI contract's options → a resolved plan, the same for nscell and
 * nscell-shim: nscell.conf, server template, vhost template, user,
 * resolve, process, cgroup limits. */
#include "load.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity.h"
#include "identity_files.h"
#include "resolve.h"
#include "template.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static bool env_is(const char *entry, const char *key)
{
	size_t n = strlen(key);
	return strncmp(entry, key, n) == 0 && entry[n] == '=';
}

char **load_process_env(const struct plan_identity *id, char *const *base)
{
	static const char *const own[] = { "HOME", "USER", "LOGNAME", "SHELL" };
	const char *values[] = { id->home, id->user, id->user, id->shell };
	size_t n = plan_strv_len(base), k = 0;
	char **env = calloc(n + 6, sizeof *env);
	if (!env)
		return NULL;
	bool have_path = false;
	for (size_t i = 0; i < n; i++) {
		bool replaced = false;
		for (size_t j = 0; j < 4; j++)
			replaced |= env_is(base[i], own[j]);
		if (replaced)
			continue;
		have_path |= env_is(base[i], "PATH");
		if (!(env[k++] = strdup(base[i])))
			goto oom;
	}
	if (!have_path && !(env[k++] = strdup(DEFAULT_PATH)))
		goto oom;
	for (size_t j = 0; j < 4; j++)
		if (asprintf(&env[k++], "%s=%s", own[j], values[j] ? values[j] : "") < 0) {
			env[--k] = NULL;
			goto oom;
		}
	return env;
oom:
	plan_strv_free(env);
	return NULL;
}

/* err: the first error of d, located */
static int summarise(const struct diags *d, nscell_error_t *err, const char *what)
{
	const struct diag *g = diags_first_error(d);
	if (!g)
		return nscell_error_set(err, 0, "%s: out of memory", what);
	char more[64] = "";
	if (d->nerrors > 1)
		snprintf(more, sizeof more, " (and %zu more error%s)", d->nerrors - 1,
			 d->nerrors > 2 ? "s" : "");
	const char *file = g->file ? g->file : "built-in";
	const char *msg = g->msg ? g->msg : "out of memory";
	if (g->line)
		return nscell_error_set(err, 0, "%s:%u:%u: %s%s", file, g->line, g->col, msg, more);
	return nscell_error_set(err, 0, "%s: %s%s", file, msg, more);
}

/* nscell.conf's `hostexec = PATH...` as `PATH,hostexec` entries of a
 * template of its own, applied after the others (LiteSpeed adds its
 * hostexec binds last too); they name nscell.conf's line. */
static int conf_hostexec_tpl(const struct nscell_conf *conf, struct tpl *t, struct diags *d)
{
	const char *v = conf->hostexec;
	if (!v)
		return 0;
	if (!(t->file = strdup(conf->file ? conf->file : "nscell.conf")))
		goto oom;
	for (size_t off = strspn(v, " \t"); v[off]; off += strspn(v + off, " \t")) {
		size_t n = strcspn(v + off, " \t");
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 8;
			struct tpl_entry *grown = realloc(t->v, cap * sizeof *grown);
			if (!grown)
				goto oom;
			t->v = grown;
			t->cap = cap;
		}
		struct tpl_entry *e = &t->v[t->n];
		*e = (struct tpl_entry){ .cmd = TPL_HOSTEXEC, .file = t->file,
					 .line = conf->hostexec_line,
					 .col = conf->hostexec_col + (unsigned)off };
		e->dst_col = e->col;
		if (!(e->dst = strndup(v + off, n)))
			goto oom;
		t->n++;
		off += n;
	}
	return 0;
oom:
	diags_add(d, false, conf->file, conf->hostexec_line, 0, "out of memory");
	return -1;
}

static int load_templates(struct plan *p, const struct nscell_conf *conf,
			  const struct conf_vhost *vh, const struct load_opts *o,
			  struct diags *d)
{
	struct tpl server, vhost, hostexec;
	tpl_init(&server);
	tpl_init(&vhost);
	tpl_init(&hostexec);
	const char *server_file = o->server_tpl ? o->server_tpl : conf->server_template;
	const char *vhost_file = o->vhost_tpl ? o->vhost_tpl : vh ? vh->template : NULL;
	int r = server_file ? tpl_parse_file(&server, server_file, d) :
			      tpl_parse_default(&server, d);
	if (vhost_file && tpl_parse_file(&vhost, vhost_file, d) < 0)
		r = -1;
	if (conf_hostexec_tpl(conf, &hostexec, d) < 0)
		r = -1;
	/* a relayed program is looked up on the host (realpath) at each load */
	for (size_t i = 0; o->cache && i < vhost.n; i++)
		if (vhost.v[i].cmd == TPL_HOSTEXEC)
			plan_cache_refuse(o->cache, "hostexec entries (looked up on the host each time)");
	for (size_t i = 0; o->cache && i < server.n; i++)
		if (server.v[i].cmd == TPL_HOSTEXEC)
			plan_cache_refuse(o->cache, "hostexec entries (looked up on the host each time)");
	/* resolve even after parse errors: `nscell check` shows every problem */
	const struct tpl *tpls[] = { &server, vhost_file ? &vhost : &hostexec, &hostexec };
	struct resolve_opts ro = { .tmp_base = conf->tmp_dir, .check_sources = o->check_sources,
				   .hostexec_client = conf->hostexec_client,
				   .hostexec_dir = conf->hostexec_dir };
	if (plan_resolve(p, tpls, (vhost_file ? 2 : 1) + (hostexec.n ? 1 : 0), &ro, d) < 0)
		r = -1;
	tpl_free(&server);
	tpl_free(&vhost);
	tpl_free(&hostexec);
	return r;
}

/* Whether the home is a directory inside the sandbox, made by the last
 * entry at it or above it (plan order: parents first): a bind or tmp whose
 * source holds it, a tmpfs or dir at it.  Both back ends start the command
 * in plan->proc.cwd: a home that is not there would be an empty root-owned
 * directory under runc (it creates process.cwd) and missing in the shim. */
static bool home_in_sandbox(const struct plan *p)
{
	const char *home = p->id.home;
	size_t hl = home ? strlen(home) : 0;
	bool there = false;
	for (size_t i = 0; hl > 1 && home[0] == '/' && i < p->nmounts; i++) {
		const struct plan_mount *m = &p->mounts[i];
		size_t n = m->dst ? strlen(m->dst) : 0;
		bool at = n == hl && strcmp(m->dst, home) == 0;
		if (!at && !(n == 1 && m->dst[0] == '/') &&
		    !(n && n < hl && strncmp(home, m->dst, n) == 0 && home[n] == '/'))
			continue;
		struct stat st;
		_cleanup_free_ char *inside = NULL;
		switch (m->op) {
		case PLAN_TMP:
			if (at) { /* made as the user before the launch */
				there = true;
				break;
			}
			/* fall through */
		case PLAN_BIND: {
			/* the home's place in the source */
			const char *rest = at ? "" : n == 1 ? home : home + n;
			if (!m->src || asprintf(&inside, "%s%s", m->src, rest) < 0) {
				inside = NULL;
				there = false;
				break;
			}
			there = stat(inside, &st) == 0 && S_ISDIR(st.st_mode);
			break;
		}
		case PLAN_TMPFS:
		case PLAN_DIR:
			there = at || (m->op == PLAN_DIR && there);
			break;
		case PLAN_REMOUNT_RO:
			break;
		default: /* a fresh fs, a mask, a file or link in the way */
			there = false;
			break;
		}
	}
	return there;
}

static int load_process(struct plan *p, const struct load_opts *o, nscell_error_t *err)
{
	if (o->argv && o->argv[0]) {
		p->proc.argv = plan_strv_dup(o->argv);
	} else {
		char *shell[] = { p->id.shell, NULL };
		p->proc.argv = plan_strv_dup(shell);
	}
	p->proc.env = load_process_env(&p->id, o->env);
	if (o->cwd) {
		p->proc.cwd = resolve_normalise(o->cwd);
		if (!p->proc.cwd)
			return nscell_error_set(err, 0,
						"working directory '%s': not an absolute path without '..'",
						o->cwd);
	} else {
		/* the home, or "/" when the user has none (as login(1) does) or
		 * the sandbox does not have it */
		struct stat st;
		bool home = p->sandbox_off ? p->id.home && stat(p->id.home, &st) == 0 :
					     home_in_sandbox(p);
		p->proc.cwd = strdup(home ? p->id.home : "/");
	}
	if (!p->proc.argv || !p->proc.env || !p->proc.cwd)
		return nscell_error_set(err, 0, "process: out of memory");
	return 0;
}

/* Every input of plan_load_base that is not a file, into the cache's key
 * (plan_cache.h); what cannot be keyed refuses the cache. */
static void cache_key(struct plan_cache *c, const struct nscell_conf *conf,
		      const struct conf_vhost *vh, const struct load_opts *o)
{
	const char *server = o->server_tpl ? o->server_tpl : conf->server_template;
	const char *vhost = o->vhost_tpl ? o->vhost_tpl : vh ? vh->template : NULL;
	plan_cache_key_str(c, PACKAGE_VERSION);
	plan_cache_key_str(c, server ? server : nscell_default_template);
	plan_cache_key_u32(c, server != NULL);
	plan_cache_key_str(c, vhost);
	plan_cache_key_str(c, conf->file);
	plan_cache_key_str(c, o->vhost);
	plan_cache_key_str(c, o->user);
	plan_cache_key_u32(c, o->user ? 0 : (unsigned)geteuid()); /* the default user */
	plan_cache_key_u32(c, o->rootless);
	plan_cache_key_str(c, conf->tmp_dir);
	plan_cache_key_u32(c, conf->user_database);
	if (server)
		plan_cache_dep(c, server);
	if (vhost)
		plan_cache_dep(c, vhost);
	if (conf->hostexec)
		plan_cache_refuse(c, "hostexec in nscell.conf (looked up on the host each time)");
	if (o->check_sources)
		plan_cache_refuse(c, "sources checked (each one's presence is an input)");
}

/* after a load: the user database's files, unless NSS answered */
static void cache_store(struct plan_cache *c, const struct nscell_conf *conf,
			const struct plan *p, unsigned long nss_before)
{
	if (identity_nss_lookups() != nss_before)
		plan_cache_refuse(c, "the user came from NSS, not the files");
	plan_cache_dep(c, IDENTITY_PASSWD_FILE);
	plan_cache_dep(c, IDENTITY_GROUP_FILE);
	if (conf->user_database == IDENTITY_DB_AUTO)
		plan_cache_dep(c, IDENTITY_NSSWITCH_FILE);
	plan_cache_put(c, p);
}

int plan_load_base(struct plan *p, struct nscell_conf *conf, const struct load_opts *o,
		   struct diags *d, nscell_error_t *err)
{
	if (!conf->loaded && conf_load(conf, o->conf_path, o->conf_path != NULL, d) < 0)
		return summarise(d, err, "nscell.conf");
	if (conf->file && !plan_intern_file(p, conf->file))
		return nscell_error_set(err, 0, "out of memory");

	const struct conf_vhost *vh = NULL;
	if (o->vhost) {
		vh = conf_find_vhost(conf, o->vhost);
		if (!vh)
			return nscell_error_set(err, 0, "unknown vhost '%s' (%s%s)", o->vhost,
						conf->file ? "not in " : "no nscell.conf at ",
						conf->file ? conf->file :
							     o->conf_path ? o->conf_path :
									    NSCELL_DEFAULT_CONF);
		if (!(p->vhost = strdup(o->vhost)))
			return nscell_error_set(err, 0, "out of memory");
	}
	bool off = vh && vh->mode == CONF_VHOST_OFF;
	struct plan_cache *cache = !off && !o->no_templates && !o->identity ? o->cache : NULL;
	if (cache) {
		cache_key(cache, conf, vh, o);
		if (!cache->uncacheable && plan_cache_get(cache, p) == 1)
			return 0;
	}
	unsigned long nss_before = identity_nss_lookups();
	if (o->identity) {
		if (identity_copy(&p->id, o->identity) < 0)
			return nscell_error_set(err, ENOMEM, "user '%s': out of memory", o->identity->user);
	} else {
		identity_set_database(conf->user_database);
		const char *user = o->user ? o->user : identity_default_user();
		if (identity_lookup(&p->id, user, err) < 0)
			return -1;
	}

	p->sandbox_off = off;
	if (!p->sandbox_off && !o->no_templates && load_templates(p, conf, vh, o, d) < 0)
		return summarise(d, err, "templates");
	if (cache)
		cache_store(cache, conf, p, nss_before);
	return 0;
}

int plan_load_process(struct plan *p, const struct nscell_conf *conf, const struct load_opts *o,
		      nscell_error_t *err)
{
	if (load_process(p, o, err) < 0)
		return -1;
	p->cgroup = conf->cgroup;
	p->cgroup.parent = conf->cgroup.parent ? strdup(conf->cgroup.parent) : NULL;
	if (conf->cgroup.parent && !p->cgroup.parent)
		return nscell_error_set(err, 0, "out of memory");
	p->rootless = o->rootless;
	return 0;
}

int plan_load(struct plan *p, struct nscell_conf *conf, const struct load_opts *o,
	      struct diags *d, nscell_error_t *err)
{
	plan_init(p);
	if (plan_load_base(p, conf, o, d, err) < 0)
		return -1;
	return plan_load_process(p, conf, o, err);
}
