/* A probe report as facts ("key: value" lines, what `nscell probe` prints
 * and `nscell diff` compares) and as JSON (yajl).  Nothing here depends on
 * pids, inode numbers or time: two probes of one sandbox print the same. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <yajl/yajl_gen.h>

#include "cli/probe.h"

void probe_facts_free(struct probe_facts *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].key);
		free(f->v[i].value);
		free(f->v[i].path);
	}
	free(f->v);
	memset(f, 0, sizeof *f);
}

/* add "key" → printf(fmt); path: the place in the sandbox it is about, or NULL */
static int __attribute__((format(printf, 4, 5)))
fact(struct probe_facts *f, const char *key, const char *path, const char *fmt, ...)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct probe_fact *v = realloc(f->v, cap * sizeof *v);
		if (!v)
			return -1;
		f->v = v;
		f->cap = cap;
	}
	struct probe_fact *e = &f->v[f->n];
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&e->value, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -1;
	e->key = strdup(key);
	e->path = path ? strdup(path) : NULL;
	if (!e->key || (path && !e->path)) {
		free(e->key);
		free(e->value);
		free(e->path);
		return -1;
	}
	f->n++;
	return 0;
}

/* the name field of the passwd or group line for id */
static const char *name_in(char *const *lines, unsigned long id, char *buf, size_t size)
{
	for (size_t i = 0; lines && lines[i]; i++) {
		const char *l = lines[i];
		const char *c1 = strchr(l, ':');
		const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		char *end;
		unsigned long v = strtoul(c2 + 1, &end, 10);
		if (end != c2 + 1 && *end == ':' && v == id) {
			snprintf(buf, size, "%.*s", (int)(c1 - l), l);
			return buf;
		}
	}
	return NULL;
}

const char *probe_user_name(const struct probe *p, unsigned long uid, char *buf, size_t size)
{
	return name_in(p->passwd, uid, buf, size);
}

const char *probe_group_name(const struct probe *p, unsigned long gid, char *buf, size_t size)
{
	return name_in(p->group, gid, buf, size);
}

static const char *status_of(const struct probe *p, const char *name)
{
	for (size_t i = 0; i < p->nstatus; i++)
		if (strcmp(p->status[i].name, name) == 0)
			return p->status[i].value;
	return NULL;
}

static const struct {
	const char *status, *set;
} cap_sets[] = {
	{ "CapBnd", "bounding" }, { "CapEff", "effective" }, { "CapInh", "inheritable" },
	{ "CapPrm", "permitted" }, { "CapAmb", "ambient" },
};

/* "none", "all" or "cap_kill,cap_chown": *out malloc'd */
static int cap_names(const char *hex, char **out)
{
	unsigned long long mask = hex ? strtoull(hex, NULL, 16) : 0;
	int max = (int)cap_max_bits();
	unsigned long long all = max >= 64 ? ~0ULL : (1ULL << max) - 1;
	if (!hex)
		return (*out = strdup("unknown")) ? 0 : -1;
	if (mask == 0)
		return (*out = strdup("none")) ? 0 : -1;
	if (mask == all)
		return (*out = strdup("all")) ? 0 : -1;
	size_t len = 0;
	char *s = NULL;
	for (int c = 0; c < 64; c++) {
		if (!(mask & (1ULL << c)))
			continue;
		char *name = cap_to_name((cap_value_t)c);
		size_t n = name ? strlen(name) : 0;
		char *ns = realloc(s, len + n + 2);
		if (!name || !ns) {
			cap_free(name);
			free(ns ? ns : s);
			return -1;
		}
		s = ns;
		len += (size_t)sprintf(s + len, "%s%s", len ? "," : "", name);
		cap_free(name);
	}
	*out = s;
	return 0;
}

/* host / new / unknown (no reference) / absent (no such namespace) */
static const char *ns_state(const struct probe_kv *ns, const struct probe_ref_ns *ref, size_t nref)
{
	if (strcmp(ns->value, "-") == 0)
		return "absent";
	for (size_t i = 0; i < nref; i++)
		if (strcmp(ref[i].name, ns->name) == 0)
			return strtoull(ns->value, NULL, 10) == ref[i].ino ? "host" : "new";
	return "unknown";
}

static const char *seccomp_mode(const char *v)
{
	if (!v)
		return "unknown";
	return !strcmp(v, "0") ? "disabled" : !strcmp(v, "1") ? "strict" : !strcmp(v, "2") ? "filter" : v;
}

static char *joined(char *const *v, const char *sep)
{
	size_t len = 1;
	for (size_t i = 0; v && v[i]; i++)
		len += strlen(v[i]) + strlen(sep);
	char *s = calloc(1, len);
	for (size_t i = 0; s && v && v[i]; i++) {
		if (i)
			strcat(s, sep);
		strcat(s, v[i]);
	}
	return s;
}

/* pid 1 as the probe sees it */
static const char *pid1(const struct probe *p)
{
	if (p->self_pid == 1)
		return "the probe itself";
	for (size_t i = 0; i < p->nprocs; i++)
		if (strcmp(p->procs[i].name, "1") == 0)
			return p->procs[i].value;
	return "not visible";
}

static int identity_facts(const struct probe *p, struct probe_facts *f)
{
	char nb[256], *s;
	int r = 0;
	const char *kinds[2] = { "uid", "gid" };
	for (int k = 0; k < 2; k++) {
		const unsigned long *v = k ? p->gid : p->uid;
		const char *name = k ? probe_group_name(p, v[0], nb, sizeof nb) :
				       probe_user_name(p, v[0], nb, sizeof nb);
		if (v[0] == v[1] && v[1] == v[2])
			r |= fact(f, kinds[k], NULL, "%lu (%s)", v[0], name ? name : "?");
		else
			r |= fact(f, kinds[k], NULL, "real %lu (%s) effective %lu saved %lu", v[0],
				  name ? name : "?", v[1], v[2]);
	}
	size_t len = 0;
	char *g = strdup(p->ngroups ? "" : "none");
	for (size_t i = 0; g && i < p->ngroups; i++) {
		const char *name = probe_group_name(p, p->groups[i], nb, sizeof nb);
		char one[300];
		int n = snprintf(one, sizeof one, "%s%lu (%s)", i ? ", " : "", p->groups[i],
				 name ? name : "?");
		char *ng = realloc(g, len + (size_t)n + 1);
		if (!ng)
			free(g);
		g = ng;
		if (g)
			len += (size_t)sprintf(g + len, "%s", one);
	}
	if (!g)
		return -1;
	r |= fact(f, "groups", NULL, "%s", g);
	free(g);
	if (!(s = joined(p->uid_map, "; ")))
		return -1;
	r |= fact(f, "uid_map", NULL, "%s", s);
	free(s);
	if (!(s = joined(p->gid_map, "; ")))
		return -1;
	r |= fact(f, "gid_map", NULL, "%s", s);
	free(s);
	return r;
}

static int privilege_facts(const struct probe *p, const struct probe_ref_ns *ref, size_t nref,
			   struct probe_facts *f)
{
	int r = 0;
	for (size_t i = 0; i < sizeof cap_sets / sizeof *cap_sets; i++) {
		char *names, key[32];
		if (cap_names(status_of(p, cap_sets[i].status), &names) < 0)
			return -1;
		snprintf(key, sizeof key, "capabilities %s", cap_sets[i].set);
		r |= fact(f, key, NULL, "%s", names);
		free(names);
	}
	const char *nnp = status_of(p, "NoNewPrivs"), *filters = status_of(p, "Seccomp_filters");
	r |= fact(f, "no_new_privs", NULL, "%s", nnp ? nnp : "unknown");
	r |= fact(f, "seccomp", NULL, "%s%s%s", seccomp_mode(status_of(p, "Seccomp")),
		  filters ? ", filters " : "", filters ? filters : "");
	for (size_t i = 0; i < p->nns; i++) {
		char key[48];
		snprintf(key, sizeof key, "namespace %s", p->ns[i].name);
		r |= fact(f, key, NULL, "%s", ns_state(&p->ns[i], ref, nref));
	}
	return r;
}

static int process_facts(const struct probe *p, struct probe_facts *f)
{
	const char *umask = status_of(p, "Umask");
	int r = fact(f, "hostname", NULL, "%s", p->hostname ? p->hostname : "?");
	r |= fact(f, "cwd", NULL, "%s", p->cwd ? p->cwd : "?");
	r |= fact(f, "umask", NULL, "%s", umask ? umask : "unknown");
	for (size_t i = 0; p->env && p->env[i]; i++) {
		char key[300];
		snprintf(key, sizeof key, "env %s", p->env[i]);
		r |= fact(f, key, NULL, "set");
	}
	for (size_t i = 0; i < p->nrlimits; i++) {
		char key[64];
		snprintf(key, sizeof key, "rlimit %s", p->rlimits[i].name);
		r |= fact(f, key, NULL, "%s", p->rlimits[i].value);
	}
	return r;
}

static int mount_facts(const struct probe *p, struct probe_facts *f)
{
	int r = 0;
	for (size_t i = 0, same = 0; i < p->nmounts; i++) {
		const struct probe_mount *m = &p->mounts[i];
		same = i && !strcmp(m->target, p->mounts[i - 1].target) ? same + 1 : 0;
		char key[4200];
		if (same)
			snprintf(key, sizeof key, "mount %s (#%zu)", m->target, same + 1);
		else
			snprintf(key, sizeof key, "mount %s", m->target);
		r |= fact(f, key, m->target, "%s %s%s%s%s %s", m->fstype, m->ro ? "ro" : "rw",
			  m->nosuid ? ",nosuid" : "", m->nodev ? ",nodev" : "",
			  m->noexec ? ",noexec" : "", m->propagation);
	}
	return r;
}

static int path_facts(const struct probe *p, struct probe_facts *f)
{
	int r = 0;
	for (size_t i = 0; i < p->npaths; i++) {
		const struct probe_path *e = &p->paths[i];
		char key[4200];
		snprintf(key, sizeof key, "path %s", e->path);
		if (strcmp(e->status, "ok") != 0) {
			r |= fact(f, key, e->path, "%s", strcmp(e->status, "ENOENT") == 0 ? "absent" : e->status);
			continue;
		}
		char extra[4200] = "";
		size_t n = 0;
		if (strcmp(e->rdev, "-") != 0)
			n += (size_t)snprintf(extra + n, sizeof extra - n, " device %s", e->rdev);
		if (strcmp(e->link, "-") != 0)
			n += (size_t)snprintf(extra + n, sizeof extra - n, " -> %s", e->link);
		if (strcmp(e->size, "-") != 0)
			snprintf(extra + n, sizeof extra - n, " %s %s", e->size,
				 strcmp(e->type, "dir") == 0 ? "entries" : "bytes");
		r |= fact(f, key, e->path, "%s %s %s:%s %s%s", e->type, e->mode, e->uid, e->gid, e->access,
			  extra);
	}
	return r;
}

/* "passwd NAME" → the rest of the line */
static int db_facts(const char *db, char *const *lines, const char *error, struct probe_facts *f)
{
	char file[32];
	snprintf(file, sizeof file, "/etc/%s", db);
	if (error)
		return fact(f, db, file, "unreadable (%s)", error);
	int r = 0;
	for (size_t i = 0; lines && lines[i]; i++) {
		const char *colon = strchr(lines[i], ':');
		char key[300];
		snprintf(key, sizeof key, "%s %.*s", db, colon ? (int)(colon - lines[i]) : 200, lines[i]);
		r |= fact(f, key, file, "%s", colon ? colon + 1 : "");
	}
	return r;
}

int probe_facts_make(const struct probe *p, const struct probe_ref_ns *ref, size_t nref,
		     struct probe_facts *f, nscell_error_t *err)
{
	memset(f, 0, sizeof *f);
	if (identity_facts(p, f) || privilege_facts(p, ref, nref, f) || process_facts(p, f) ||
	    mount_facts(p, f) || path_facts(p, f) ||
	    db_facts("passwd", p->passwd, p->passwd_error, f) ||
	    db_facts("group", p->group, p->group_error, f) ||
	    fact(f, "pid 1", NULL, "%s", pid1(p)) || fact(f, "processes", NULL, "%zu", p->nprocs)) {
		probe_facts_free(f);
		return nscell_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

void probe_facts_print(const struct probe_facts *f, FILE *out)
{
	for (size_t i = 0; i < f->n; i++)
		fprintf(out, "%s: %s\n", f->v[i].key, f->v[i].value);
}

/* ---- JSON ---- */

static void js(yajl_gen g, const char *s)
{
	if (s)
		yajl_gen_string(g, (const unsigned char *)s, strlen(s));
	else
		yajl_gen_null(g);
}

static void ids_json(yajl_gen g, const struct probe *p, const char *name, const unsigned long *v,
		     bool group)
{
	char nb[256];
	const char *n = group ? probe_group_name(p, v[0], nb, sizeof nb) :
				probe_user_name(p, v[0], nb, sizeof nb);
	js(g, name);
	yajl_gen_map_open(g);
	js(g, "real"); yajl_gen_integer(g, (long long)v[0]);
	js(g, "effective"); yajl_gen_integer(g, (long long)v[1]);
	js(g, "saved"); yajl_gen_integer(g, (long long)v[2]);
	js(g, "name"); js(g, n);
	yajl_gen_map_close(g);
}

static void strv_json(yajl_gen g, const char *name, char *const *v)
{
	js(g, name);
	yajl_gen_array_open(g);
	for (size_t i = 0; v && v[i]; i++)
		js(g, v[i]);
	yajl_gen_array_close(g);
}

static void path_json(yajl_gen g, const struct probe_path *e)
{
	yajl_gen_map_open(g);
	js(g, "path"); js(g, e->path);
	js(g, "exists"); yajl_gen_bool(g, strcmp(e->status, "ok") == 0);
	if (strcmp(e->status, "ok") != 0) {
		js(g, "error"); js(g, e->status);
		yajl_gen_map_close(g);
		return;
	}
	js(g, "type"); js(g, e->type);
	js(g, "mode"); js(g, e->mode);
	js(g, "uid"); yajl_gen_integer(g, strtoll(e->uid, NULL, 10));
	js(g, "gid"); yajl_gen_integer(g, strtoll(e->gid, NULL, 10));
	if (strcmp(e->rdev, "-") != 0) {
		js(g, "device"); js(g, e->rdev);
	}
	if (strcmp(e->link, "-") != 0) {
		js(g, "link"); js(g, e->link);
	}
	js(g, "readable"); yajl_gen_bool(g, e->access[0] == 'r');
	js(g, "writable"); yajl_gen_bool(g, e->access[1] == 'w');
	js(g, "executable"); yajl_gen_bool(g, e->access[2] == 'x');
	if (strcmp(e->size, "-") != 0) {
		js(g, strcmp(e->type, "dir") == 0 ? "entries" : "size");
		yajl_gen_integer(g, strtoll(e->size, NULL, 10));
	}
	yajl_gen_map_close(g);
}

static void mounts_json(yajl_gen g, const struct probe *p)
{
	js(g, "mounts");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < p->nmounts; i++) {
		const struct probe_mount *m = &p->mounts[i];
		yajl_gen_map_open(g);
		js(g, "target"); js(g, m->target);
		js(g, "fstype"); js(g, m->fstype);
		js(g, "read_only"); yajl_gen_bool(g, m->ro);
		js(g, "nosuid"); yajl_gen_bool(g, m->nosuid);
		js(g, "nodev"); yajl_gen_bool(g, m->nodev);
		js(g, "noexec"); yajl_gen_bool(g, m->noexec);
		js(g, "propagation"); js(g, m->propagation);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

static int privileges_json(yajl_gen g, const struct probe *p, const struct probe_ref_ns *ref,
			   size_t nref)
{
	js(g, "capabilities");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < sizeof cap_sets / sizeof *cap_sets; i++) {
		const char *hex = status_of(p, cap_sets[i].status);
		unsigned long long mask = hex ? strtoull(hex, NULL, 16) : 0;
		js(g, cap_sets[i].set);
		yajl_gen_array_open(g);
		for (int c = 0; c < 64; c++) {
			if (!(mask & (1ULL << c)))
				continue;
			char *name = cap_to_name((cap_value_t)c);
			if (!name)
				return -1;
			js(g, name);
			cap_free(name);
		}
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
	const char *nnp = status_of(p, "NoNewPrivs"), *filters = status_of(p, "Seccomp_filters");
	js(g, "no_new_privs"); yajl_gen_bool(g, nnp && strcmp(nnp, "1") == 0);
	js(g, "seccomp");
	yajl_gen_map_open(g);
	js(g, "mode"); js(g, seccomp_mode(status_of(p, "Seccomp")));
	js(g, "filters"); yajl_gen_integer(g, filters ? strtoll(filters, NULL, 10) : 0);
	yajl_gen_map_close(g);
	js(g, "namespaces");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < p->nns; i++) {
		js(g, p->ns[i].name);
		js(g, ns_state(&p->ns[i], ref, nref));
	}
	yajl_gen_map_close(g);
	return 0;
}

static void limits_json(yajl_gen g, const struct probe *p)
{
	js(g, "rlimits");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < p->nrlimits; i++) {
		char soft[40], hard[40];
		if (sscanf(p->rlimits[i].value, "%39s %39s", soft, hard) != 2)
			continue;
		js(g, p->rlimits[i].name);
		yajl_gen_map_open(g);
		js(g, "soft"); js(g, soft);
		js(g, "hard"); js(g, hard);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
}

int probe_json_print(const struct probe *p, const struct probe_ref_ns *ref, size_t nref,
		     FILE *out, nscell_error_t *err)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (!g)
		return nscell_error_set(err, ENOMEM, "out of memory");
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "  ");
	yajl_gen_map_open(g);
	ids_json(g, p, "uid", p->uid, false);
	ids_json(g, p, "gid", p->gid, true);
	js(g, "groups");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < p->ngroups; i++) {
		char nb[256];
		yajl_gen_map_open(g);
		js(g, "gid"); yajl_gen_integer(g, (long long)p->groups[i]);
		js(g, "name"); js(g, probe_group_name(p, p->groups[i], nb, sizeof nb));
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	strv_json(g, "uid_map", p->uid_map);
	strv_json(g, "gid_map", p->gid_map);
	int rc = privileges_json(g, p, ref, nref);
	const char *umask = status_of(p, "Umask");
	js(g, "hostname"); js(g, p->hostname);
	js(g, "cwd"); js(g, p->cwd);
	js(g, "umask"); js(g, umask);
	strv_json(g, "environment", p->env);
	limits_json(g, p);
	mounts_json(g, p);
	js(g, "paths");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < p->npaths; i++)
		path_json(g, &p->paths[i]);
	yajl_gen_array_close(g);
	strv_json(g, "passwd", p->passwd_error ? NULL : p->passwd);
	strv_json(g, "group", p->group_error ? NULL : p->group);
	js(g, "pid1"); js(g, pid1(p));
	js(g, "processes"); yajl_gen_integer(g, (long long)p->nprocs);
	yajl_gen_map_close(g);
	const unsigned char *buf;
	size_t len;
	if (rc == 0 && yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
		if (fwrite(buf, 1, len, out) != len)
			rc = nscell_error_errno(err, errno, "write the report");
	} else {
		rc = nscell_error_set(err, 0, "JSON generation failed");
	}
	yajl_gen_free(g);
	return rc;
}
