/* Templates + user → plan.  Symbols are expanded here (every occurrence),
 * paths normalised, later entries override earlier ones with the same
 * destination, and sources are looked at when asked to. */
#include "resolve.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hostexec/protocol.h"
#include "identity.h"
#include "slot_index.h"

#define DEFAULT_TMP_BASE "$HOMEDIR/.nscell"
#define HOSTNAME_MAX 64

struct singleton {
	bool set;
	char *dst;
	struct plan_origin at;
	size_t index; /* of its plan entry (nothing else moves while resolving) */
};

struct rctx {
	struct plan *p;
	const struct resolve_opts *o;
	struct diags *d;
	const char *file;  /* interned file of the template being applied; NULL built-in */
	char *tmp_base;    /* expanded on first use */
	struct singleton passwd, group, hostname;
	/* the bind that `!PATH` lines refer to */
	bool bind_kept;
	char *bind_src, *bind_dst;
	struct slot_index slots;
};

static void rerr(struct rctx *c, const struct tpl_entry *e, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void rerr(struct rctx *c, const struct tpl_entry *e, unsigned col, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diags_add(c->d, false, e->file, e->line, col ? col : e->col, "%s", msg);
}

static const char *where(const struct plan_origin *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s:%u:%u", o->file ? o->file : "built-in", o->line, o->col);
	return buf;
}

/* ---- symbols and paths ---- */

static size_t symbol_len(const char *s)
{
	size_t n = 0;
	while (s[n] == '_' || (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
	       (s[n] >= '0' && s[n] <= '9'))
		n++;
	return n;
}

/* The value of the symbol of n characters at s, or NULL when unknown. */
static const char *symbol_value(const char *s, size_t n, const struct plan_identity *id,
				const char *uid, const char *gid)
{
	const struct {
		const char *name, *value;
	} sym[] = {
		{ "UID", uid }, { "GID", gid }, { "USER", id->user },
		{ "GROUP", id->group }, { "HOMEDIR", id->home },
	};
	for (size_t j = 0; j < sizeof sym / sizeof *sym; j++)
		if (strlen(sym[j].name) == n && memcmp(sym[j].name, s, n) == 0)
			return sym[j].value ? sym[j].value : "";
	return NULL;
}

/* Two passes, measure then copy: this runs for every path of every
 * template line, on the launch's hot path. */
char *resolve_symbols(const char *s, const struct plan_identity *id, size_t *bad)
{
	char uid[16], gid[16];
	snprintf(uid, sizeof uid, "%u", (unsigned)id->uid);
	snprintf(gid, sizeof gid, "%u", (unsigned)id->gid);
	char *out = NULL;
	size_t len = 0;
	for (int pass = 0; pass < 2; pass++) {
		if (pass && !(out = malloc(len + 1))) {
			*bad = SIZE_MAX;
			return NULL;
		}
		len = 0;
		for (size_t i = 0; s[i]; i++) {
			size_t n = s[i] == '$' ? symbol_len(s + i + 1) : 0;
			if (!n) {
				if (pass)
					out[len] = s[i];
				len++;
				continue;
			}
			const char *value = symbol_value(s + i + 1, n, id, uid, gid);
			if (!value) {
				*bad = i;
				return NULL; /* in the first pass: nothing to free */
			}
			size_t vlen = strlen(value);
			if (pass)
				memcpy(out + len, value, vlen);
			len += vlen;
			i += n;
		}
	}
	out[len] = '\0';
	return out;
}

char *resolve_normalise(const char *path)
{
	if (!path || path[0] != '/')
		return NULL;
	char *out = malloc(strlen(path) + 2);
	if (!out)
		return NULL;
	size_t n = 0;
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			free(out);
			return NULL;
		}
		if (len && !(len == 1 && p[0] == '.')) {
			out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p = end;
	}
	if (!n)
		out[n++] = '/';
	out[n] = '\0';
	return out;
}

/* path == dir or below it */
static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool strictly_under(const char *path, const char *dir)
{
	return under(path, dir) && strcmp(path, dir) != 0;
}

static char *expand(struct rctx *c, const struct tpl_entry *e, const char *s, unsigned col)
{
	size_t bad = 0;
	char *x = resolve_symbols(s, &c->p->id, &bad);
	if (!x && bad == SIZE_MAX)
		rerr(c, e, col, "out of memory");
	else if (!x)
		rerr(c, e, col + (unsigned)bad, "unknown symbol '$%.*s'",
		     (int)symbol_len(s + bad + 1), s + bad + 1);
	return x;
}

enum role { R_SOURCE, R_DEST };

/* Expanded and normalised; a relative destination is below the sandbox root. */
static char *path_of(struct rctx *c, const struct tpl_entry *e, const char *raw, unsigned col,
		     enum role role)
{
	_cleanup_free_ char *x = expand(c, e, raw, col);
	if (!x)
		return NULL;
	if (x[0] != '/') {
		if (role == R_SOURCE) {
			rerr(c, e, col, "relative source '%s' (sources are host paths)", x);
			return NULL;
		}
		char *abs;
		if (asprintf(&abs, "/%s", x) < 0) {
			rerr(c, e, col, "out of memory");
			return NULL;
		}
		free(x);
		x = abs;
	}
	char *n = resolve_normalise(x);
	if (!n)
		rerr(c, e, col, "'..' in path '%s' (paths are taken literally)", x);
	return n;
}

/* ---- plan entries ---- */

/* Add an entry; one already at the same slot is overridden (removed). */
static struct plan_mount *add(struct rctx *c, const struct tpl_entry *e, enum plan_op op,
			      unsigned flags, const char *src, const char *dst, mode_t mode)
{
	struct plan *p = c->p;
	size_t *cell = slot_index_cell(&c->slots, p, dst, op == PLAN_REMOUNT_RO);
	struct plan_origin o = { c->file, e->line, e->col };
	struct plan_mount *m = cell ? plan_add_mount(p, op, flags, src, dst, mode, &o) : NULL;
	if (!m) {
		rerr(c, e, 0, "out of memory");
		return NULL;
	}
	if (*cell) {
		char at[512];
		diags_add(c->d, true, e->file, e->line, e->col, "'%s' overrides the entry at %s",
			  dst, where(&p->mounts[*cell - 1].origin, at, sizeof at));
		plan_clear_mount(p, *cell - 1);
	}
	*cell = p->nmounts;
	return m;
}

static void forget_bind(struct rctx *c)
{
	c->bind_kept = false;
	free(c->bind_src);
	free(c->bind_dst);
	c->bind_src = c->bind_dst = NULL;
}

static void resolve_bind(struct rctx *c, const struct tpl_entry *e)
{
	static const struct {
		enum plan_op op;
		unsigned flags;
	} kinds[] = {
		[TPL_BIND] = { PLAN_BIND, 0 },
		[TPL_BIND_TRY] = { PLAN_BIND, PLAN_F_TRY },
		[TPL_RO_BIND] = { PLAN_BIND, PLAN_F_RO },
		[TPL_RO_BIND_TRY] = { PLAN_BIND, PLAN_F_RO | PLAN_F_TRY },
		[TPL_DEV_BIND] = { PLAN_BIND, PLAN_F_DEVICES },
		[TPL_DEV_BIND_TRY] = { PLAN_BIND, PLAN_F_DEVICES | PLAN_F_TRY },
		[TPL_COPY] = { PLAN_COPY, 0 },
		[TPL_COPY_TRY] = { PLAN_COPY, PLAN_F_TRY },
	};
	unsigned flags = kinds[e->cmd].flags;
	_cleanup_free_ char *src = path_of(c, e, e->src, e->src_col, R_SOURCE);
	if (!src)
		return;
	_cleanup_free_ char *dst = e->dst ? path_of(c, e, e->dst, e->dst_col, R_DEST) :
					    strdup(src);
	if (!dst)
		return;
	struct stat st;
	if (c->o->check_sources && stat(src, &st) < 0) {
		bool missing = errno == ENOENT || errno == ENOTDIR;
		if (missing && (flags & PLAN_F_TRY))
			return; /* dropped, and so are its exclusions */
		if (missing)
			rerr(c, e, e->src_col, "%s %s: source missing", tpl_cmd_name(e->cmd), src);
		else if (!(flags & PLAN_F_TRY))
			rerr(c, e, e->src_col, "%s %s: %s", tpl_cmd_name(e->cmd), src,
			     strerror(errno));
		if (!(flags & PLAN_F_TRY))
			return;
	}
	if (c->p->id.home && under(src, c->p->id.home))
		flags |= PLAN_F_USER_PATH;
	if (!add(c, e, kinds[e->cmd].op, flags, src, dst, 0) || !tpl_cmd_is_bind(e->cmd))
		return;
	c->bind_kept = true;
	c->bind_src = NSCELL_TAKE(src);
	c->bind_dst = NSCELL_TAKE(dst);
}

/* `!PATH`: a path under the bind's DEST, or under its SOURCE (mapped). */
static void resolve_exclude(struct rctx *c, const struct tpl_entry *e)
{
	if (!c->bind_kept)
		return; /* the bind itself was dropped (or failed) */
	_cleanup_free_ char *x = path_of(c, e, e->dst, e->dst_col, R_DEST);
	if (!x)
		return;
	_cleanup_free_ char *mapped = NULL;
	const char *src = c->bind_src, *dst = c->bind_dst;
	if (strictly_under(x, dst)) {
		mapped = NSCELL_TAKE(x);
	} else if (strcmp(src, dst) != 0 && strictly_under(x, src)) {
		const char *rest = strcmp(src, "/") == 0 ? x : x + strlen(src);
		if (asprintf(&mapped, "%s%s", strcmp(dst, "/") == 0 ? "" : dst, rest) < 0) {
			rerr(c, e, 0, "out of memory");
			return;
		}
	} else if (strcmp(x, dst) == 0 || strcmp(x, src) == 0) {
		rerr(c, e, e->dst_col, "'!%s' excludes the whole bound tree %s", x, dst);
		return;
	} else {
		rerr(c, e, e->dst_col, "'!%s' is outside the bound tree %s", x, dst);
		return;
	}
	add(c, e, PLAN_MASK, 0, NULL, mapped, 0);
}

/* Backing dir of `DEST,tmp`: TMPBASE/<dest, '/' → '_'>. */
static char *tmp_backing(struct rctx *c, const struct tpl_entry *e, const char *dst)
{
	if (!c->tmp_base) {
		const char *pattern = c->o->tmp_base ? c->o->tmp_base : DEFAULT_TMP_BASE;
		size_t bad = 0;
		_cleanup_free_ char *x = resolve_symbols(pattern, &c->p->id, &bad);
		c->tmp_base = x ? resolve_normalise(x) : NULL;
		if (!c->tmp_base) {
			rerr(c, e, 0, "tmp_dir '%s': %s", pattern,
			     !x ? "unknown symbol" : "not an absolute path without '..'");
			return NULL;
		}
	}
	char *name = strdup(dst[1] ? dst + 1 : "_");
	if (!name) {
		rerr(c, e, 0, "out of memory");
		return NULL;
	}
	for (char *s = name; *s; s++)
		if (*s == '/')
			*s = '_';
	char *backing = NULL;
	if (asprintf(&backing, "%s/%s", strcmp(c->tmp_base, "/") ? c->tmp_base : "", name) < 0) {
		rerr(c, e, 0, "out of memory");
		backing = NULL;
	}
	free(name);
	return backing;
}

static void resolve_tmp(struct rctx *c, const struct tpl_entry *e)
{
	_cleanup_free_ char *dst = path_of(c, e, e->dst, e->dst_col, R_DEST);
	if (!dst)
		return;
	_cleanup_free_ char *src = e->src ? path_of(c, e, e->src, e->src_col, R_SOURCE) :
					    tmp_backing(c, e, dst);
	if (!src)
		return;
	unsigned flags = c->p->id.home && under(src, c->p->id.home) ? PLAN_F_USER_PATH : 0;
	struct stat st;
	if (flags && c->o->check_sources && stat(c->p->id.home, &st) < 0) {
		/* a user without a home (nobody's /nonexistent) still gets a
		 * private /tmp: memory-backed, gone with the sandbox */
		add(c, e, PLAN_TMPFS, 0, NULL, dst, 01777);
		return;
	}
	add(c, e, PLAN_TMP, flags, src, dst, 0);
}

static mode_t tmpfs_mode(const char *dst)
{
	const char *base = strrchr(dst, '/');
	if (strcmp(dst, "/tmp") == 0 || strcmp(dst, "/var/tmp") == 0 ||
	    strcmp(dst, "/dev/shm") == 0 || (base && strcmp(base, "/tmp") == 0))
		return 01777;
	return 0755;
}

static void resolve_one_path(struct rctx *c, const struct tpl_entry *e)
{
	enum plan_op op;
	mode_t mode = 0;
	switch (e->cmd) {
	case TPL_DEV: op = PLAN_DEV; break;
	case TPL_PROC: op = PLAN_PROC; break;
	case TPL_MQUEUE: op = PLAN_MQUEUE; break;
	case TPL_REMOUNT_RO: op = PLAN_REMOUNT_RO; break;
	case TPL_DIR: op = PLAN_DIR; mode = 0755; break;
	default: op = PLAN_TMPFS; break;
	}
	_cleanup_free_ char *dst = path_of(c, e, e->dst, e->dst_col, R_DEST);
	if (!dst)
		return;
	if (op == PLAN_TMPFS)
		mode = tmpfs_mode(dst);
	add(c, e, op, 0, NULL, dst, mode);
}

static void resolve_symlink(struct rctx *c, const struct tpl_entry *e)
{
	_cleanup_free_ char *target = expand(c, e, e->src, e->src_col);
	if (!target)
		return;
	if (!*target) {
		rerr(c, e, e->src_col, "symlink: empty target");
		return;
	}
	_cleanup_free_ char *dst = path_of(c, e, e->dst, e->dst_col, R_DEST);
	if (dst)
		add(c, e, PLAN_SYMLINK, 0, target, dst, 0);
}

#ifndef NSCELL_LIBEXECDIR
#define NSCELL_LIBEXECDIR "/usr/local/libexec/nscell"
#endif

/* `PATH,hostexec`: the relay client read-only over PATH, and once the
 * listener's socket directory at HX_SOCKET_DIR (a directory, so that a
 * restarted listener's new socket is seen).  PATH is taken as the host
 * resolves it (/usr/sbin/sendmail -> exim4): the bind lands on the file
 * the program really is, and that is the name the client reports.  A
 * program the host does not have is left out: nothing to relay to. */
static void resolve_hostexec(struct rctx *c, const struct tpl_entry *e)
{
	_cleanup_free_ char *path = path_of(c, e, e->dst, e->dst_col, R_DEST);
	if (!path)
		return;
	const char *home = strcmp(c->p->id.home, "/") ? c->p->id.home : NULL;
	if ((home && under(path, home)) || under(path, HX_SOCKET_DIR)) {
		rerr(c, e, e->dst_col, "hostexec %s: not a host program (inside %s)", path,
		     home && under(path, home) ? "the user's home" : HX_SOCKET_DIR);
		return;
	}
	/* looked up even without check_sources: the shim and the listener
	 * must agree on what is relayed */
	_cleanup_free_ char *real = realpath(path, NULL);
	if (!real)
		return;
	const char *dst = real;
	if (home && under(dst, home)) {
		rerr(c, e, e->dst_col, "hostexec %s: resolves to %s in the user's home", path, dst);
		return;
	}
	const char *client = c->o->hostexec_client ? c->o->hostexec_client :
				NSCELL_LIBEXECDIR "/" HX_CLIENT_NAME;
	struct stat st;
	errno = 0;
	if (c->o->check_sources && (stat(client, &st) < 0 || !S_ISREG(st.st_mode))) {
		rerr(c, e, e->dst_col, "hostexec %s: relay client %s: %s", path, client,
		     errno ? strerror(errno) : "not a regular file");
		return;
	}
	if (!add(c, e, PLAN_BIND, PLAN_F_RO | PLAN_F_HOSTEXEC, client, dst, 0) ||
	    plan_find_dst(c->p, HX_SOCKET_DIR))
		return;
	const char *dir = c->o->hostexec_dir ? c->o->hostexec_dir : HX_SOCKET_DIR;
	if (c->o->check_sources && stat(dir, &st) < 0)
		return; /* no listener yet: the client says so (status 75) */
	add(c, e, PLAN_BIND, PLAN_F_RO | PLAN_F_TRY, dir, HX_SOCKET_DIR, 0);
}

/* Singletons: a later one replaces an earlier one, wherever it was. */
static void replace_singleton(struct rctx *c, const struct tpl_entry *e, struct singleton *s,
			      const char *what)
{
	if (!s->set)
		return;
	char at[512];
	diags_add(c->d, true, e->file, e->line, e->col, "'%s' overrides the one at %s", what,
		  where(&s->at, at, sizeof at));
	/* unless a later line overrode it already */
	struct plan_mount *m = s->dst ? &c->p->mounts[s->index] : NULL;
	if (m && m->op == PLAN_FILE && m->dst && strcmp(m->dst, s->dst) == 0 &&
	    m->origin.file == s->at.file && m->origin.line == s->at.line)
		plan_clear_mount(c->p, s->index);
	free(s->dst);
	s->dst = NULL;
	s->set = false;
}

static void resolve_hostname(struct rctx *c, const struct tpl_entry *e)
{
	char *name = expand(c, e, e->src, e->src_col);
	if (!name)
		return;
	if (!*name || strlen(name) > HOSTNAME_MAX || strpbrk(name, "/ \t")) {
		rerr(c, e, e->src_col, "invalid hostname '%s' (1 to %d characters, no '/')", name,
		     HOSTNAME_MAX);
		free(name);
		return;
	}
	replace_singleton(c, e, &c->hostname, "hostname");
	free(c->p->hostname);
	c->p->hostname = name;
	c->hostname = (struct singleton){ true, NULL, { c->file, e->line, e->col }, 0 };
}

static void resolve_generated(struct rctx *c, const struct tpl_entry *e)
{
	bool passwd = e->cmd == TPL_PASSWD;
	const char *what = passwd ? "$PASSWD" : "$GROUP";
	nscell_error_t err = { 0 };
	bool ok = true;
	for (size_t i = 0; e->names && e->names[i]; i++) {
		int r = passwd ? identity_user_exists(e->names[i], &err) :
				 identity_group_exists(e->names[i], &err);
		if (r <= 0) {
			if (r == 0)
				rerr(c, e, e->name_cols[i], "%s: unknown %s '%s'", what,
				     passwd ? "user" : "group", e->names[i]);
			else
				rerr(c, e, e->name_cols[i], "%s: %s", what, err.msg);
			ok = false;
		}
	}
	if (!ok)
		return;
	_cleanup_free_ char *dst = e->dst ? path_of(c, e, e->dst, e->dst_col, R_DEST) :
					    strdup(passwd ? "/etc/passwd" : "/etc/group");
	if (!dst)
		return;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = passwd ? identity_passwd_file(&c->p->id, e->names, &data, &len, &err) :
			 identity_group_file(&c->p->id, e->names, &data, &len, &err);
	if (r < 0) {
		rerr(c, e, 0, "%s: %s", what, err.msg);
		return;
	}
	struct singleton *s = passwd ? &c->passwd : &c->group;
	replace_singleton(c, e, s, what);
	struct plan_mount *m = add(c, e, PLAN_FILE, 0, NULL, dst, 0644);
	if (!m)
		return;
	if (plan_mount_set_data(m, data, len) < 0)
		rerr(c, e, 0, "out of memory");
	*s = (struct singleton){ true, NSCELL_TAKE(dst), { c->file, e->line, e->col },
				 (size_t)(m - c->p->mounts) };
}

static void resolve_entry(struct rctx *c, const struct tpl_entry *e)
{
	if (e->cmd != TPL_EXCLUDE)
		forget_bind(c);
	switch (e->cmd) {
	case TPL_BIND: case TPL_BIND_TRY: case TPL_RO_BIND: case TPL_RO_BIND_TRY:
	case TPL_DEV_BIND: case TPL_DEV_BIND_TRY: case TPL_COPY: case TPL_COPY_TRY:
		resolve_bind(c, e);
		break;
	case TPL_EXCLUDE:
		resolve_exclude(c, e);
		break;
	case TPL_TMP:
		resolve_tmp(c, e);
		break;
	case TPL_DEV: case TPL_DIR: case TPL_MQUEUE: case TPL_PROC: case TPL_REMOUNT_RO:
	case TPL_TMPFS:
		resolve_one_path(c, e);
		break;
	case TPL_SYMLINK:
		resolve_symlink(c, e);
		break;
	case TPL_HOSTNAME:
		resolve_hostname(c, e);
		break;
	case TPL_NO_UNSHARE_USER:
		c->p->namespaces &= ~(unsigned)PLAN_NS_USER;
		break;
	case TPL_PASSWD: case TPL_GROUP:
		resolve_generated(c, e);
		break;
	case TPL_HOSTEXEC:
		resolve_hostexec(c, e);
		break;
	}
}

int plan_resolve(struct plan *p, const struct tpl *const *tpls, size_t ntpls,
		 const struct resolve_opts *o, struct diags *d)
{
	static const struct resolve_opts defaults = { 0 };
	size_t errors = d->nerrors;
	struct rctx c = { .p = p, .o = o ? o : &defaults, .d = d };
	if (!p->id.user || !p->id.home) {
		diags_add(d, false, NULL, 0, 0, "resolving templates: no user looked up");
		return -1;
	}
	for (size_t i = 0; i < ntpls; i++) {
		const struct tpl *t = tpls[i];
		c.file = t->builtin ? NULL : plan_intern_file(p, t->file);
		forget_bind(&c);
		for (size_t j = 0; j < t->n; j++)
			resolve_entry(&c, &t->v[j]);
	}
	forget_bind(&c);
	free(c.tmp_base);
	free(c.passwd.dst);
	free(c.group.dst);
	slot_index_free(&c.slots);
	plan_drop_cleared(p);
	plan_sort(p);
	return d->nerrors > errors ? -1 : 0;
}
