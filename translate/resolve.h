/* Templates + user → plan: expand symbols, apply overrides, check sources,
 * generate passwd/group, order the mounts. */
#ifndef NSCELL_RESOLVE_H
#define NSCELL_RESOLVE_H

#include <stdbool.h>

#include "diag.h"
#include "plan.h"
#include "template.h"

struct resolve_opts {
	const char *tmp_base;  /* pattern for disk-backed tmp dirs; NULL = "$HOMEDIR/.nscell" */
	bool check_sources;    /* stat sources: skip missing -try ones, error on missing required */
	const char *hostexec_client; /* the relay client; NULL = $(pkglibexecdir)/nscell-hostexec */
	const char *hostexec_dir;    /* host dir of the listener's socket; NULL = HX_SOCKET_DIR */
};

/* p->id must already hold the looked-up user.  Applies the templates in
 * order (server, then vhost): a later entry with the same destination
 * overrides an earlier one (a warning names both lines).  Errors go to d
 * with the entry's FILE:LINE:COL; returns -1 if any. */
int plan_resolve(struct plan *p, const struct tpl *const *tpls, size_t ntpls,
		 const struct resolve_opts *o, struct diags *d);

/* Replace $UID $GID $USER $GROUP $HOMEDIR everywhere in s; an unknown
 * $NAME is an error (returns NULL, *bad = offset of the '$'). */
char *resolve_symbols(const char *s, const struct plan_identity *id, size_t *bad);
/* Lexically normalise an absolute path: collapse "//" and "/./", drop a
 * trailing '/'.  ".." components are refused (NULL). */
char *resolve_normalise(const char *path);

#endif
