/* `nscell plan -J`: the plan as JSON, through yajl_gen. */
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "cli/cli.h"

static void str(yajl_gen g, const char *s)
{
	if (s)
		yajl_gen_string(g, (const unsigned char *)s, strlen(s));
	else
		yajl_gen_null(g);
}

static void key(yajl_gen g, const char *k)
{
	str(g, k);
}

static void strv(yajl_gen g, char *const *v)
{
	if (!v) {
		yajl_gen_null(g);
		return;
	}
	yajl_gen_array_open(g);
	for (size_t i = 0; v[i]; i++)
		str(g, v[i]);
	yajl_gen_array_close(g);
}

static void identity(yajl_gen g, const struct plan_identity *id)
{
	yajl_gen_map_open(g);
	key(g, "user"); str(g, id->user);
	key(g, "uid"); yajl_gen_integer(g, id->uid);
	key(g, "group"); str(g, id->group);
	key(g, "gid"); yajl_gen_integer(g, id->gid);
	key(g, "groups");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < id->ngroups; i++)
		yajl_gen_integer(g, id->groups[i]);
	yajl_gen_array_close(g);
	key(g, "home"); str(g, id->home);
	key(g, "shell"); str(g, id->shell);
	yajl_gen_map_close(g);
}

static void mount_flags(yajl_gen g, unsigned flags)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ PLAN_F_RO, "ro" }, { PLAN_F_DEVICES, "devices" },
		{ PLAN_F_TRY, "try" }, { PLAN_F_USER_PATH, "user-path" },
		{ PLAN_F_HOSTEXEC, "hostexec" },
	};
	yajl_gen_array_open(g);
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (flags & names[i].bit)
			str(g, names[i].name);
	yajl_gen_array_close(g);
}

static void mount_entry(yajl_gen g, const struct plan_mount *m)
{
	char buf[512];
	yajl_gen_map_open(g);
	key(g, "op"); str(g, plan_op_name(m->op));
	key(g, "destination"); str(g, m->dst);
	key(g, "source"); str(g, m->src);
	key(g, "flags"); mount_flags(g, m->flags);
	if (m->mode) {
		snprintf(buf, sizeof buf, "%04o", (unsigned)m->mode);
		key(g, "mode"); str(g, buf);
	}
	if (m->op == PLAN_FILE) {
		key(g, "data");
		yajl_gen_string(g, (const unsigned char *)(m->data ? m->data : ""), m->len);
	}
	key(g, "origin"); str(g, plan_origin_str(&m->origin, buf, sizeof buf));
	yajl_gen_map_close(g);
}

static void namespaces(yajl_gen g, unsigned ns)
{
	static const char *const names[] = { "mount", "pid", "ipc", "uts", "user", "cgroup", "network" };
	yajl_gen_array_open(g);
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (ns & (1u << i))
			str(g, names[i]);
	yajl_gen_array_close(g);
}

static void cgroup(yajl_gen g, const struct plan_cgroup *c)
{
	yajl_gen_map_open(g);
	key(g, "parent"); str(g, c->parent);
	key(g, "memory_max"); yajl_gen_integer(g, c->memory_max);
	key(g, "pids_max"); yajl_gen_integer(g, c->pids_max);
	key(g, "cpu_quota_us"); yajl_gen_integer(g, c->cpu_quota_us);
	key(g, "cpu_period_us"); yajl_gen_integer(g, c->cpu_period_us);
	yajl_gen_map_close(g);
}

int plan_json_print(const struct plan *p, FILE *out)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (!g)
		return -1;
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_validate_utf8, 0);
	yajl_gen_map_open(g);
	key(g, "identity"); identity(g, &p->id);
	key(g, "rootless"); yajl_gen_bool(g, p->rootless);
	key(g, "namespaces"); namespaces(g, p->namespaces);
	key(g, "hostname"); str(g, p->hostname);
	key(g, "vhost"); str(g, p->vhost);
	key(g, "rootfs"); str(g, p->rootfs);
	key(g, "files");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < p->nfiles; i++)
		str(g, p->files[i]);
	yajl_gen_array_close(g);
	key(g, "process");
	yajl_gen_map_open(g);
	key(g, "argv"); strv(g, p->proc.argv);
	key(g, "env"); strv(g, p->proc.env);
	key(g, "cwd"); str(g, p->proc.cwd);
	yajl_gen_map_close(g);
	key(g, "cgroup"); cgroup(g, &p->cgroup);
	key(g, "mounts");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < p->nmounts; i++)
		mount_entry(g, &p->mounts[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);

	const unsigned char *buf;
	size_t len;
	int rc = -1;
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok && fwrite(buf, 1, len, out) == len)
		rc = 0;
	yajl_gen_free(g);
	return rc;
}
