/* Resolved plans kept between cold launches, so that a launch whose
 * templates, settings and user have not changed neither parses nor
 * resolves (nor reads the user database).
 *
 * An entry is one file in a directory the caller trusts (the shim's:
 * STATE/plans, see shim/state.h), named by a hash of its key.  It holds
 * the key in full, the files the plan was made from with their stat
 * signatures (device, inode, size, mode, mtime, ctime; or "absent"), and
 * the plan's base (plan_codec.h).  An entry is used only when its key is
 * the same byte for byte, every file's signature is unchanged, and the
 * file itself is the caller's own and writable by nobody else.
 *
 * The key holds every input that is not a file: the paths of the
 * templates and nscell.conf, the user as named, the vhost, the settings
 * resolution reads (tmp_dir, user_database), the built-in template's text
 * and nscell's version.  The files are told by their stamps
 * (file_stamp.h): a plan is not stored while one of its files changed in
 * the last FILE_STAMP_SETTLE seconds. */
#ifndef NSCELL_PLAN_CACHE_H
#define NSCELL_PLAN_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "plan.h"
#include "plan_codec.h"

#define PLAN_CACHE_MAX_DEPS 8
#define PLAN_CACHE_MAX_SIZE (64u << 20)

struct plan_cache {
	int dirfd;                  /* the trusted directory; -1: no cache */
	struct codec_buf key;       /* every input that is not a file */
	const char *deps[PLAN_CACHE_MAX_DEPS]; /* paths, not owned */
	size_t ndeps;
	int settle;                 /* FILE_STAMP_SETTLE (tests set 0) */
	bool uncacheable;           /* an input the key cannot hold was used */
	bool hit, stored;           /* what plan_cache_get and _put did */
	const char *miss;           /* why get missed, for -v */
	const char *refused;        /* why put stored nothing, for -v */
};

/* dirfd is borrowed (closed by the caller after plan_cache_free). */
void plan_cache_init(struct plan_cache *c, int dirfd);
void plan_cache_free(struct plan_cache *c);

/* Add to the key: a string (NULL is distinct from ""), an integer. */
void plan_cache_key_str(struct plan_cache *c, const char *s);
void plan_cache_key_u32(struct plan_cache *c, unsigned v);
/* The plan depends on this file (absent counts too); path must outlive c. */
void plan_cache_dep(struct plan_cache *c, const char *path);
/* The plan depends on something no key can hold: store nothing. */
void plan_cache_refuse(struct plan_cache *c, const char *why);

/* 1: p (plan_init'ed) holds the cached base; 0: a miss, p untouched
 * (c->miss says why).  Never an error: a damaged entry is a miss. */
int plan_cache_get(struct plan_cache *c, struct plan *p);
/* Store p's base under the key with the dependencies added since init; 0
 * stored, -1 not (c->refused). */
int plan_cache_put(struct plan_cache *c, const struct plan *p);

#endif
