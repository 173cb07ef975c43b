/* nscell ls: the persisted sandboxes, the shim's and runc's, with their
 * keeper, hash, state and how many processes run in each. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "cli/persisted.h"

static void ls_json(const struct sandbox *sbs, size_t n)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_gen_config(g, yajl_gen_beautify, 1);
#define KEY(k) yajl_gen_string(g, (const unsigned char *)(k), strlen(k))
#define STR(s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))
	yajl_gen_map_open(g);
	KEY("sandboxes");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		const struct sandbox *sb = &sbs[i];
		char when[32] = "";
		time_t t = (time_t)sb->r.created;
		struct tm tm;
		if (sb->readable && gmtime_r(&t, &tm))
			strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		yajl_gen_map_open(g);
		KEY("entry"); STR(sb->entry);
		KEY("kind"); STR(sb->runc ? "runc" : "shim");
		if (sb->runc) {
			KEY("container"); STR(sb->entry);
		}
		KEY("state"); STR(sb->readable ? sandbox_state_name(sb) : "unreadable");
		KEY("user"); STR(sb->r.user);
		KEY("uid"); yajl_gen_integer(g, sb->r.uid);
		KEY("vhost");
		if (sb->r.vhost[0])
			STR(sb->r.vhost);
		else
			yajl_gen_null(g);
		KEY("keeper"); yajl_gen_integer(g, sb->r.keeper);
		KEY("created"); STR(when);
		KEY("hash"); STR(sb->r.hash);
		KEY("processes");
		if (sb->live)
			yajl_gen_integer(g, sb->procs);
		else
			yajl_gen_null(g);
		KEY("rootless"); yajl_gen_bool(g, sb->r.rootless);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
#undef KEY
#undef STR
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	fwrite(buf, 1, len, stdout);
	yajl_gen_free(g);
}

static void ls_text(const struct sandbox *sbs, size_t n)
{
	printf("%-16s %8s %-20s %8s %-20s %-16s %5s %s\n", "USER", "UID", "VHOST", "KEEPER", "CREATED",
	       "HASH", "PROCS", "STATE");
	for (size_t i = 0; i < n; i++) {
		const struct sandbox *sb = &sbs[i];
		char when[32] = "-", procs[16] = "-";
		time_t t = (time_t)sb->r.created;
		struct tm tm;
		if (sb->readable && localtime_r(&t, &tm))
			strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
		if (sb->live)
			snprintf(procs, sizeof procs, "%ld", sb->procs);
		printf("%-16s %8u %-20s %8d %-20s %-16s %5s %s%s%s\n", sb->readable ? sb->r.user : sb->entry,
		       sb->r.uid, sb->r.vhost[0] ? sb->r.vhost : "-", (int)sb->r.keeper, when,
		       sb->r.hash[0] ? sb->r.hash : "-", procs, sb->readable ? sandbox_state_name(sb) : "unreadable",
		       sb->runc ? " runc:" : "", sb->runc ? sb->entry : "");
	}
}

int cmd_ls(struct cli *c)
{
	struct popts o = { .cmd = c->cmd };
	char path[PATH_MAX];
	int rc = popts_parse(c, &o, "C:Jv");
	if (rc)
		return rc;
	int dirfd = popts_state_dir(&o, path, sizeof path);
	if (dirfd == -2)
		return NSCELL_EXIT_USAGE;
	size_t n = 0, k = 0;
	struct sandbox *sbs = sandboxes_load(dirfd, NULL, NULL, &n);
	/* a retired sandbox whose keeper is gone has simply ended */
	for (size_t i = 0; i < n; i++)
		if (!sbs[i].retired || sbs[i].live)
			sbs[k++] = sbs[i];
	n = k;
	sbs = sandboxes_add_runc(sbs, &n, dirfd);
	sbs = sandboxes_add_orphans(sbs, &n, path, NULL, NULL);
	sandboxes_count_inside(sbs, n, false);
	if (o.json)
		ls_json(sbs, n);
	else
		ls_text(sbs, n);
	free(sbs);
	if (dirfd >= 0)
		close(dirfd);
	return 0;
}
