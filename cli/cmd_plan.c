/* nscell plan: the resolved plan, as text or (-J) JSON. */
#include <inttypes.h>
#include <stdio.h>

#include "cli/cli.h"

static void print_flags(unsigned flags, FILE *out)
{
	if (flags & PLAN_F_RO)
		fputs(" ro", out);
	if (flags & PLAN_F_DEVICES)
		fputs(" devices", out);
	if (flags & PLAN_F_TRY)
		fputs(" try", out);
	if (flags & PLAN_F_USER_PATH)
		fputs(" user-path", out);
	if (flags & PLAN_F_HOSTEXEC)
		fputs(" hostexec", out);
}

static const char *const ns_names[] = { "mount", "pid", "ipc", "uts", "user", "cgroup", "network" };

void plan_text_print(const struct plan *p, FILE *out)
{
	fprintf(out, "user      %s (%u) group %s (%u) groups", p->id.user, (unsigned)p->id.uid,
		p->id.group, (unsigned)p->id.gid);
	for (size_t i = 0; i < p->id.ngroups; i++)
		fprintf(out, " %u", (unsigned)p->id.groups[i]);
	fprintf(out, "\nhome      %s\nshell     %s\nnamespaces", p->id.home, p->id.shell);
	for (size_t i = 0; i < sizeof ns_names / sizeof *ns_names; i++)
		if (p->namespaces & (1u << i))
			fprintf(out, " %s", ns_names[i]);
	fprintf(out, "\nmode      %s\n", p->rootless ? "rootless" : "root");
	if (p->hostname)
		fprintf(out, "hostname  %s\n", p->hostname);
	if (p->vhost)
		fprintf(out, "vhost     %s\n", p->vhost);
	fprintf(out, "cwd       %s\ncommand  ", p->proc.cwd ? p->proc.cwd : "");
	for (size_t i = 0; p->proc.argv && p->proc.argv[i]; i++)
		fprintf(out, " %s", p->proc.argv[i]);
	fputc('\n', out);
	if (p->cgroup.memory_max || p->cgroup.pids_max || p->cgroup.cpu_quota_us)
		fprintf(out, "cgroup    %s memory=%" PRId64 " pids=%" PRId64 " cpu=%" PRId64 "/%" PRId64 "\n",
			p->cgroup.parent ? p->cgroup.parent : "", p->cgroup.memory_max,
			p->cgroup.pids_max, p->cgroup.cpu_quota_us, p->cgroup.cpu_period_us);
	fprintf(out, "mounts:\n");
	for (size_t i = 0; i < p->nmounts; i++) {
		const struct plan_mount *m = &p->mounts[i];
		char where[512];
		fprintf(out, "  %-10s %s", plan_op_name(m->op), m->dst);
		if (m->src)
			fprintf(out, " <- %s", m->src);
		if (m->mode)
			fprintf(out, " mode=%04o", (unsigned)m->mode);
		if (m->op == PLAN_FILE)
			fprintf(out, " (%zu bytes)", m->len);
		print_flags(m->flags, out);
		fprintf(out, "   # %s\n", plan_origin_str(&m->origin, where, sizeof where));
	}
}

int cmd_plan(struct cli *c)
{
	struct plan p;
	int rc = cli_load_plan(c, &p, true);
	if (rc)
		return rc;
	if (c->json)
		rc = plan_json_print(&p, stdout) < 0 ? NSCELL_EXIT_USAGE : 0;
	else
		plan_text_print(&p, stdout);
	plan_free(&p);
	return rc;
}
