/* nscell_spawn()'s cache between calls: one generation at a time, made of
 * a loaded nscell.conf and the users looked up with it.  A generation is
 * valid while the files it was made from have the stamps they had
 * (translate/file_stamp.h), and only if they had been left alone for a
 * moment when it was made; a call that finds one of them changed starts a
 * new generation, and the old one is freed when the
 * last call holding it releases it.  A generation never changes what it
 * handed out: users are only added, in slots of their own.  The
 * generation is also keyed by NSCELL_STATE_DIR, which conf_load reads. */
#include "libnscell/cache.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "translate/diag.h"
#include "translate/file_stamp.h"
#include "translate/identity.h"
#include "translate/identity_files.h"

#define CACHE_USERS 64

enum { STAMP_CONF, STAMP_PASSWD, STAMP_GROUP, STAMP_NSSWITCH, NSTAMPS };

struct cached_user {
	char *key; /* as the caller named the user ("" for the default) */
	uid_t euid;
	struct plan_identity id;
};

struct spawn_cache_gen {
	unsigned refs; /* the cache's own and each call's */
	char *conf_path;
	bool must_exist; /* the path was the caller's (a missing file is an error) */
	char *state_env; /* NSCELL_STATE_DIR when conf was loaded (it overrides state_dir) */
	struct file_stamp stamps[NSTAMPS];
	bool settled; /* its files were left alone long enough to be told by stamps */
	struct nscell_conf conf;
	struct cached_user users[CACHE_USERS];
	size_t nusers;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct spawn_cache_gen *current;

static void stamps_take(struct file_stamp *v, const char *conf_path)
{
	file_stamp_take(&v[STAMP_CONF], conf_path);
	file_stamp_take(&v[STAMP_PASSWD], IDENTITY_PASSWD_FILE);
	file_stamp_take(&v[STAMP_GROUP], IDENTITY_GROUP_FILE);
	file_stamp_take(&v[STAMP_NSSWITCH], IDENTITY_NSSWITCH_FILE);
}

/* a file changed a moment ago may change again unseen (file_stamp.h) */
static bool stamps_settled(const struct file_stamp *v)
{
	for (size_t i = 0; i < NSTAMPS; i++)
		if (!file_stamp_settled(&v[i], FILE_STAMP_SETTLE))
			return false;
	return true;
}

static const char *state_env(void)
{
	return getenv("NSCELL_STATE_DIR");
}

static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static void gen_unref(struct spawn_cache_gen *g)
{
	if (!g || --g->refs)
		return;
	for (size_t i = 0; i < g->nusers; i++) {
		free(g->users[i].key);
		identity_free(&g->users[i].id);
	}
	conf_free(&g->conf);
	free(g->conf_path);
	free(g->state_env);
	free(g);
}

/* A new generation for path, its stamps taken before the file is read (a
 * change while it is read shows at the next call). */
static struct spawn_cache_gen *gen_new(const char *path, bool must_exist,
				       const struct file_stamp *stamps)
{
	struct spawn_cache_gen *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	struct diags d;
	diags_init(&d);
	conf_init(&g->conf);
	g->refs = 1;
	g->must_exist = must_exist;
	memcpy(g->stamps, stamps, sizeof g->stamps);
	g->settled = stamps_settled(stamps);
	g->conf_path = strdup(path);
	g->state_env = state_env() ? strdup(state_env()) : NULL;
	int r = g->conf_path && (g->state_env || !state_env()) ? conf_load(&g->conf, path, must_exist, &d) : -1;
	diags_free(&d);
	if (r < 0 || !g->conf.loaded) {
		gen_unref(g);
		return NULL;
	}
	return g;
}

const struct nscell_conf *spawn_cache_conf(const char *path, struct spawn_cache_ref *ref)
{
	struct file_stamp now[NSTAMPS];
	const char *conf_path = path ? path : NSCELL_DEFAULT_CONF;
	ref->gen = NULL;
	pthread_mutex_lock(&cache_lock);
	stamps_take(now, conf_path);
	struct spawn_cache_gen *g = current;
	bool valid = g && g->settled && strcmp(g->conf_path, conf_path) == 0 &&
		     g->must_exist == (path != NULL) && same_string(g->state_env, state_env());
	for (size_t i = 0; valid && i < NSTAMPS; i++)
		valid = file_stamp_same(&g->stamps[i], &now[i]);
	if (!valid) {
		gen_unref(current);
		current = gen_new(conf_path, path != NULL, now);
	}
	if (current) {
		current->refs++;
		ref->gen = current;
	}
	pthread_mutex_unlock(&cache_lock);
	return ref->gen ? &ref->gen->conf : NULL;
}

const struct plan_identity *spawn_cache_identity(struct spawn_cache_ref *ref, const char *user)
{
	const char *key = user ? user : "";
	uid_t euid = geteuid();
	const struct plan_identity *found = NULL;
	if (!ref->gen)
		return NULL;
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; !found && i < ref->gen->nusers; i++) {
		const struct cached_user *u = &ref->gen->users[i];
		if (u->euid == euid && strcmp(u->key, key) == 0)
			found = &u->id;
	}
	pthread_mutex_unlock(&cache_lock);
	return found;
}

/* whether the user and its primary group are lines of /etc/passwd and
 * /etc/group, which the lookup read (directly or through NSS's files) */
static bool from_files(const struct nscell_conf *conf, const struct plan_identity *id)
{
	struct passwd pw;
	struct group gr;
	char *buf = NULL;
	nscell_error_t e;
	if (conf->user_database == IDENTITY_DB_NSS ||
	    (conf->user_database == IDENTITY_DB_AUTO && !identity_files_usable(NULL)))
		return false;
	bool files = identity_files_user(id->user, 0, &pw, &buf, &e) == 1 && pw.pw_uid == id->uid &&
		     identity_files_group(NULL, id->gid, &gr, &buf, &e) == 1;
	free(buf);
	return files;
}

void spawn_cache_keep_identity(struct spawn_cache_ref *ref, const char *user,
			       const struct plan_identity *id)
{
	struct spawn_cache_gen *g = ref->gen;
	struct cached_user u = { .euid = geteuid() };
	if (!g || !from_files(&g->conf, id))
		return;
	if (!(u.key = strdup(user ? user : "")) || identity_copy(&u.id, id) < 0) {
		free(u.key);
		return;
	}
	pthread_mutex_lock(&cache_lock);
	bool kept = g->nusers < CACHE_USERS;
	for (size_t i = 0; kept && i < g->nusers; i++)
		kept = !(g->users[i].euid == u.euid && strcmp(g->users[i].key, u.key) == 0);
	if (kept)
		g->users[g->nusers++] = u;
	pthread_mutex_unlock(&cache_lock);
	if (!kept) {
		free(u.key);
		identity_free(&u.id);
	}
}

void spawn_cache_release(struct spawn_cache_ref *ref)
{
	if (!ref->gen)
		return;
	pthread_mutex_lock(&cache_lock);
	gen_unref(ref->gen);
	pthread_mutex_unlock(&cache_lock);
	ref->gen = NULL;
}

void spawn_cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	gen_unref(current);
	current = NULL;
	pthread_mutex_unlock(&cache_lock);
}
