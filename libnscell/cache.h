/* What nscell_spawn() keeps between calls (nscell.h, "The cache"): the
 * loaded nscell.conf and the users looked up, valid while nscell.conf,
 * /etc/passwd, /etc/group and /etc/nsswitch.conf stat the same. */
#ifndef NSCELL_LIBNSCELL_CACHE_H
#define NSCELL_LIBNSCELL_CACHE_H

#include "translate/conf.h"
#include "translate/plan.h"

struct spawn_cache_gen;

/* A call's hold on one generation of the cache. */
struct spawn_cache_ref {
	struct spawn_cache_gen *gen; /* NULL: nothing held */
};

/* nscell.conf at path (NULL: the installed default) as loaded by conf_load,
 * shared and read only while ref is held; NULL when it cannot be kept (it
 * has errors, out of memory): the call loads its own and reports. */
const struct nscell_conf *spawn_cache_conf(const char *path, struct spawn_cache_ref *ref);

/* The identity of user (NULL: the default user, for this euid) kept in
 * ref's generation, read only while ref is held; NULL when none is. */
const struct plan_identity *spawn_cache_identity(struct spawn_cache_ref *ref, const char *user);

/* Keep a copy of id, looked up for user, when it came from /etc/passwd
 * and /etc/group themselves (an NSS source's changes cannot be seen by
 * stat, so its users are looked up on every call). */
void spawn_cache_keep_identity(struct spawn_cache_ref *ref, const char *user,
			       const struct plan_identity *id);

void spawn_cache_release(struct spawn_cache_ref *ref);

/* Everything kept is freed (nscell_spawn_cache_clear). */
void spawn_cache_clear(void);

#endif
