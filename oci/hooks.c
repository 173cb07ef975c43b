/* nscell's OCI hooks in config.json: written by emit.c, read by read.c.
 *
 *   "hooks": {
 *     "createRuntime": [ { "path": BIN, "args": ["nscell", "hook", "createRuntime"],
 *                          "env": ["NSCELL_STATE_DIR=..."] } ],
 *     "poststop":      [ { the same, "poststop" } ]
 *   }
 *
 * "env" only when a state directory was given at export.  The reader
 * accepts exactly this (no other stage, no other program: a hook nscell
 * did not write is an error naming it, never a silent difference). */
#include "reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#define STATE_ENV "NSCELL_STATE_DIR="

static const char *const stages[] = { OCI_HOOK_CREATE_RUNTIME, OCI_HOOK_POSTSTOP, NULL };

void oci_hooks_free(struct oci_hooks *h)
{
	if (!h)
		return;
	free(h->bin);
	free(h->state_dir);
	free(h->conf);
	free(h->server_tpl);
	free(h->vhost_tpl);
	free(h->hash);
	memset(h, 0, sizeof *h);
}

static yajl_gen_status gstr(yajl_gen g, const char *s)
{
	return yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static yajl_gen_status emit_one(yajl_gen g, const struct oci_hooks *h, const char *stage,
				const char *env)
{
	yajl_gen_status s = yajl_gen_status_ok;
#define G(call) do { if (s == yajl_gen_status_ok) s = (call); } while (0)
	G(gstr(g, stage));
	G(yajl_gen_array_open(g));
	G(yajl_gen_map_open(g));
	G(gstr(g, "path"));
	G(gstr(g, h->bin));
	G(gstr(g, "args"));
	G(yajl_gen_array_open(g));
	G(gstr(g, "nscell"));
	G(gstr(g, "hook"));
	G(gstr(g, stage));
	G(yajl_gen_array_close(g));
	if (env) {
		G(gstr(g, "env"));
		G(yajl_gen_array_open(g));
		G(gstr(g, env));
		G(yajl_gen_array_close(g));
	}
	G(yajl_gen_map_close(g));
	G(yajl_gen_array_close(g));
#undef G
	return s;
}

int oci_hooks_emit(struct yajl_gen_t *g, const struct oci_hooks *h, nscell_error_t *err)
{
	if (!h->bin || h->bin[0] != '/')
		return nscell_error_set(err, 0, "hooks: the hook program '%s' is not an absolute path",
					h->bin ? h->bin : "");
	if (h->state_dir && h->state_dir[0] != '/')
		return nscell_error_set(err, 0, "hooks: the state directory '%s' is not an absolute "
					"path", h->state_dir);
	_cleanup_free_ char *env = NULL;
	if (h->state_dir && asprintf(&env, STATE_ENV "%s", h->state_dir) < 0)
		return nscell_error_set(err, 0, "hooks: out of memory");
	yajl_gen_status s = gstr(g, "hooks");
	if (s == yajl_gen_status_ok)
		s = yajl_gen_map_open(g);
	for (size_t i = 0; stages[i] && s == yajl_gen_status_ok; i++)
		s = emit_one(g, h, stages[i], env);
	if (s == yajl_gen_status_ok)
		s = yajl_gen_map_close(g);
	if (s != yajl_gen_status_ok)
		return nscell_error_set(err, 0, "hooks: %s", s == yajl_gen_invalid_string ?
					"a string is not valid UTF-8" : "JSON generation failed");
	return 0;
}

/* args must be ["nscell", "hook", STAGE] */
static int read_args(struct reader *r, yajl_val v, const char *field, const char *stage)
{
	_cleanup_free_ char **args = NULL;
	if (!v)
		return rd_bad(r, field, "missing (nscell writes [\"nscell\", \"hook\", \"%s\"])", stage);
	if (rd_strv(r, v, field, true, &args) < 0)
		return -1;
	bool same = plan_strv_len(args) == 3 && !strcmp(args[0], "nscell") &&
		    !strcmp(args[1], "hook") && !strcmp(args[2], stage);
	plan_strv_free(NSCELL_TAKE(args));
	if (!same)
		return rd_bad(r, field, "not nscell's hook (expected [\"nscell\", \"hook\", \"%s\"])",
			      stage);
	return 0;
}

/* env: absent, or ["NSCELL_STATE_DIR=/abs"]; *dir points into the tree */
static int read_env(struct reader *r, yajl_val v, const char *field, const char **dir)
{
	*dir = NULL;
	if (!v)
		return 0;
	if (!YAJL_IS_ARRAY(v) || v->u.array.len != 1 || !YAJL_IS_STRING(v->u.array.values[0]))
		return rd_bad(r, field, "expected [\"" STATE_ENV "DIR\"] or nothing");
	const char *s = v->u.array.values[0]->u.string;
	if (strncmp(s, STATE_ENV, strlen(STATE_ENV)) != 0 || s[strlen(STATE_ENV)] != '/')
		return rd_bad(r, field, "'%s': nscell's hooks take only " STATE_ENV
			      "(an absolute path)", s);
	*dir = s + strlen(STATE_ENV);
	return 0;
}

static int read_stage(struct reader *r, yajl_val v, const char *stage, const char **path,
		      const char **dir)
{
	static const char *const known[] = { "path", "args", "env", NULL };
	char s[48], f[64], g[96];
	rd_sub(s, sizeof s, "hooks", stage);
	if (!v)
		return rd_bad(r, s, "missing (nscell writes createRuntime and poststop together)");
	if (!YAJL_IS_ARRAY(v) || v->u.array.len != 1)
		return rd_bad(r, s, "expected one hook (nscell's own)");
	yajl_val h = v->u.array.values[0];
	rd_idx(f, sizeof f, s, 0);
	if (rd_object(r, h, f, true) < 0 || rd_check_keys(r, h, f, known) < 0 ||
	    rd_path(r, rd_get(h, "path"), rd_sub(g, sizeof g, f, "path"), path) < 0 ||
	    read_args(r, rd_get(h, "args"), rd_sub(g, sizeof g, f, "args"), stage) < 0 ||
	    read_env(r, rd_get(h, "env"), rd_sub(g, sizeof g, f, "env"), dir) < 0)
		return -1;
	return 0;
}

int rd_hooks(struct reader *r, yajl_val v)
{
	static const char *const oci_stages[] = { "prestart", "createRuntime", "createContainer",
						  "startContainer", "poststart", "poststop", NULL };
	if (rd_object(r, v, "hooks", false) <= 0)
		return v ? -1 : 0;
	if (r->any_hooks)
		return rd_check_keys(r, v, "hooks", oci_stages);
	char f[64];
	for (size_t i = 0; i < v->u.object.len; i++) {
		size_t j = 0;
		while (stages[j] && strcmp(stages[j], v->u.object.keys[i]) != 0)
			j++;
		if (!stages[j])
			return rd_bad(r, rd_sub(f, sizeof f, "hooks", v->u.object.keys[i]),
				      "not supported by nscell (it writes only its own createRuntime "
				      "and poststop hooks)");
	}
	if (rd_check_keys(r, v, "hooks", stages) < 0)
		return -1;
	const char *path[2], *dir[2];
	for (size_t i = 0; i < 2; i++)
		if (read_stage(r, rd_get(v, stages[i]), stages[i], &path[i], &dir[i]) < 0)
			return -1;
	if (strcmp(path[0], path[1]) != 0 || (!dir[0] != !dir[1]) ||
	    (dir[0] && strcmp(dir[0], dir[1]) != 0))
		return rd_bad(r, "hooks.poststop", "not the same program and environment as "
			      "hooks.createRuntime");
	struct oci_hooks *h = r->hooks;
	if (!(h->bin = strdup(path[0])) || (dir[0] && !(h->state_dir = strdup(dir[0]))))
		return rd_oom(r);
	return 0;
}
