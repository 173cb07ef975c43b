/* config.json process → plan: the command, its user, its capabilities and
 * its resource limits.
 *
 * What nscell writes has all five capability sets empty and no rlimits:
 * the plan then has none (has_caps false, as a template's), and the
 * command holds no capability.  A config naming capabilities (`runc spec`
 * writes CAP_AUDIT_WRITE, CAP_KILL and CAP_NET_BIND_SERVICE) gets exactly
 * those, as runc sets them (shim/creds.c); its rlimits are set before the
 * exec (shim/init.c).  process.terminal and consoleSize go into the plan
 * as they are: the runtime gives the command a terminal (shim/console.c). */
#include "reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_user(struct reader *r, yajl_val v)
{
	static const char *const known[] = { "uid", "gid", "additionalGids", "umask", NULL };
	if (rd_object(r, v, "process.user", true) < 0 ||
	    rd_check_keys(r, v, "process.user", known) < 0 ||
	    rd_u32(r, rd_get(v, "uid"), "process.user.uid", &r->user_uid) < 0 ||
	    rd_u32(r, rd_get(v, "gid"), "process.user.gid", &r->user_gid) < 0)
		return -1;
	yajl_val um = rd_get(v, "umask");
	/* runc's own default, and what nscell means by leaving it out */
	if (um && (!YAJL_IS_INTEGER(um) || YAJL_GET_INTEGER(um) != 18))
		return rd_bad(r, "process.user.umask", "only 18 (0022) is supported");
	yajl_val g = rd_get(v, "additionalGids");
	if (!g)
		return 0;
	if (!YAJL_IS_ARRAY(g))
		return rd_bad(r, "process.user.additionalGids", "expected an array of gids");
	r->has_groups = true;
	size_t n = g->u.array.len;
	if (!n)
		return 0;
	if (!(r->p->id.groups = calloc(n, sizeof *r->p->id.groups)))
		return rd_oom(r);
	char f[64];
	for (size_t i = 0; i < n; i++) {
		uint32_t gid;
		if (rd_u32(r, g->u.array.values[i],
			   rd_idx(f, sizeof f, "process.user.additionalGids", i), &gid) < 0)
			return -1;
		r->p->id.groups[r->p->id.ngroups++] = gid;
	}
	return 0;
}

/* One set: absent is empty (the runtime spec's default). */
static int read_cap_set(struct reader *r, yajl_val s, const char *field, uint64_t *out)
{
	char f[96];
	*out = 0;
	if (!s)
		return 0;
	if (!YAJL_IS_ARRAY(s))
		return rd_bad(r, field, "expected an array of capability names");
	for (size_t i = 0; i < s->u.array.len; i++) {
		yajl_val c = s->u.array.values[i];
		rd_idx(f, sizeof f, field, i);
		if (!YAJL_IS_STRING(c))
			return rd_bad(r, f, "expected a capability name such as \"CAP_KILL\"");
		int cap = plan_cap_from_name(c->u.string);
		if (cap < 0)
			return rd_bad(r, f, "'%s' is not a capability nscell knows", c->u.string);
		if (*out & (1ull << cap))
			return rd_bad(r, f, "'%s' given twice", c->u.string);
		*out |= 1ull << cap;
	}
	return 0;
}

/* the first capability of set that is not in of, as "field: 'CAP_X' ..." */
static int not_subset(struct reader *r, uint64_t set, uint64_t of, const char *field,
		      const char *what)
{
	for (int cap = 0; cap < PLAN_CAP_COUNT; cap++)
		if ((set & ~of) & (1ull << cap))
			return rd_bad(r, field, "'%s' is not in %s (the kernel refuses it)",
				      plan_cap_name(cap), what);
	return 0;
}

static int read_capabilities(struct reader *r, yajl_val v)
{
	static const char *const sets[] = { "bounding", "effective", "inheritable", "permitted",
					    "ambient", NULL };
	struct plan_process *pp = &r->p->proc;
	struct plan_caps *c = &pp->caps;
	uint64_t *slot[] = { &c->bounding, &c->effective, &c->inheritable, &c->permitted,
			     &c->ambient };
	/* without it runc leaves root every capability: nscell wants them named */
	if (rd_object(r, v, "process.capabilities", true) < 0 ||
	    rd_check_keys(r, v, "process.capabilities", sets) < 0)
		return -1;
	char f[64];
	for (size_t i = 0; sets[i]; i++)
		if (read_cap_set(r, rd_get(v, sets[i]), rd_sub(f, sizeof f, "process.capabilities",
								sets[i]), slot[i]) < 0)
			return -1;
	/* capset(2) refuses these, for runc as for the shim; ambient ones
	 * not in permitted and inheritable are left out, as runc does */
	if (not_subset(r, c->effective, c->permitted, "process.capabilities.effective",
		       "permitted") < 0 ||
	    not_subset(r, c->inheritable, c->bounding, "process.capabilities.inheritable",
		       "bounding") < 0)
		return -1;
	pp->has_caps = c->bounding || c->effective || c->inheritable || c->permitted ||
		       c->ambient;
	return 0;
}

/* 0 to 2^64-1 (RLIM_INFINITY), as the runtime spec's uint64 */
static int read_u64(struct reader *r, yajl_val v, const char *field, uint64_t *out)
{
	if (!v)
		return rd_bad(r, field, "missing (required)");
	const char *s = YAJL_IS_NUMBER(v) ? v->u.number.r : NULL;
	char *end;
	errno = 0;
	unsigned long long n = s && *s >= '0' && *s <= '9' ? strtoull(s, &end, 10) : 0;
	if (!s || *s < '0' || *s > '9' || errno || *end)
		return rd_bad(r, field, "expected an integer from 0 to 18446744073709551615");
	*out = n;
	return 0;
}

static int read_rlimit(struct reader *r, yajl_val v, const char *field, struct plan_rlimit *l)
{
	static const char *const known[] = { "type", "soft", "hard", NULL };
	char f[96];
	const char *type;
	if (rd_object(r, v, field, true) < 0 || rd_check_keys(r, v, field, known) < 0 ||
	    rd_string(r, rd_get(v, "type"), rd_sub(f, sizeof f, field, "type"), true, &type) < 0)
		return -1;
	if ((l->resource = plan_rlimit_from_name(type)) < 0)
		return rd_bad(r, f, "'%s' is not a limit nscell knows (RLIMIT_NOFILE, ...)", type);
	if (read_u64(r, rd_get(v, "soft"), rd_sub(f, sizeof f, field, "soft"), &l->soft) < 0 ||
	    read_u64(r, rd_get(v, "hard"), rd_sub(f, sizeof f, field, "hard"), &l->hard) < 0)
		return -1;
	if (l->soft > l->hard)
		return rd_bad(r, field, "soft %llu is above hard %llu", (unsigned long long)l->soft,
			      (unsigned long long)l->hard);
	return 0;
}

static int read_rlimits(struct reader *r, yajl_val v)
{
	struct plan_process *pp = &r->p->proc;
	if (!v)
		return 0;
	if (!YAJL_IS_ARRAY(v))
		return rd_bad(r, "process.rlimits", "expected an array of limits");
	size_t n = v->u.array.len;
	if (!n)
		return 0;
	if (!(pp->rlimits = calloc(n, sizeof *pp->rlimits)))
		return rd_oom(r);
	char f[64];
	for (size_t i = 0; i < n; i++) {
		struct plan_rlimit *l = &pp->rlimits[i];
		rd_idx(f, sizeof f, "process.rlimits", i);
		if (read_rlimit(r, v->u.array.values[i], f, l) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (pp->rlimits[j].resource == l->resource)
				return rd_bad(r, f, "%s given twice", plan_rlimit_name(l->resource));
		pp->nrlimits = i + 1;
	}
	return 0;
}

/* process.consoleSize: the terminal's size, {height, width} (TIOCSWINSZ
 * takes 16 bits each) */
static int read_console_size(struct reader *r, yajl_val v)
{
	static const char *const known[] = { "height", "width", NULL };
	struct plan_process *pp = &r->p->proc;
	uint32_t h, w;
	if (!v)
		return 0;
	if (rd_object(r, v, "process.consoleSize", true) < 0 ||
	    rd_check_keys(r, v, "process.consoleSize", known) < 0 ||
	    rd_u32(r, rd_get(v, "height"), "process.consoleSize.height", &h) < 0 ||
	    rd_u32(r, rd_get(v, "width"), "process.consoleSize.width", &w) < 0)
		return -1;
	if (h > 65535 || w > 65535)
		return rd_bad(r, "process.consoleSize", "%u x %u: at most 65535 each", h, w);
	pp->console_height = h;
	pp->console_width = w;
	return 0;
}

int rd_process(struct reader *r, yajl_val v)
{
	struct plan *p = r->p;
	static const char *const known[] = { "terminal", "consoleSize", "user", "args", "env",
					     "cwd", "capabilities", "noNewPrivileges", "rlimits",
					     NULL };
	if (rd_object(r, v, "process", true) < 0 || rd_check_keys(r, v, "process", known) < 0)
		return -1;
	bool nnp = false;
	/* a terminal is the runtime's to make (shim/console.c); the shim's
	 * template launch never reads a config */
	if (rd_bool(r, rd_get(v, "terminal"), "process.terminal", &p->proc.terminal) < 0 ||
	    read_console_size(r, rd_get(v, "consoleSize")) < 0)
		return -1;
	if (!rd_get(v, "noNewPrivileges"))
		return rd_bad(r, "process.noNewPrivileges", "missing (nscell requires true)");
	if (rd_bool(r, rd_get(v, "noNewPrivileges"), "process.noNewPrivileges", &nnp) < 0)
		return -1;
	if (!nnp)
		return rd_bad(r, "process.noNewPrivileges", "nscell requires true");
	if (read_rlimits(r, rd_get(v, "rlimits")) < 0 || read_user(r, rd_get(v, "user")) < 0 ||
	    read_capabilities(r, rd_get(v, "capabilities")) < 0)
		return -1;
	if (!rd_get(v, "args"))
		return rd_bad(r, "process.args", "missing (required)");
	if (rd_strv(r, rd_get(v, "args"), "process.args", true, &p->proc.argv) < 0)
		return -1;
	yajl_val env = rd_get(v, "env");
	if (env && rd_strv(r, env, "process.env", false, &p->proc.env) < 0)
		return -1;
	for (size_t i = 0; p->proc.env && p->proc.env[i]; i++) {
		const char *eq = strchr(p->proc.env[i], '=');
		char f[64];
		if (!eq || eq == p->proc.env[i])
			return rd_bad(r, rd_idx(f, sizeof f, "process.env", i),
				      "expected NAME=VALUE, not '%s'", p->proc.env[i]);
	}
	const char *cwd;
	if (rd_path(r, rd_get(v, "cwd"), "process.cwd", &cwd) < 0)
		return -1;
	if (!(p->proc.cwd = strdup(cwd)))
		return rd_oom(r);
	return 0;
}
