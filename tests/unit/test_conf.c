/* Unit tests for translate/conf.c (nscell.conf) and translate/load.c
 * (plan_load: conf → templates → user → plan). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "translate/conf.h"
#include "translate/load.h"

static char dir[PATH_MAX];
static struct nscell_conf C;
static struct diags D;
static struct plan P;

static void rm_rf(const char *path)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	ck_assert_int_eq(system(cmd), 0);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/nscell-conf.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *real = realpath(dir, NULL);
	snprintf(dir, sizeof dir, "%s", real);
	free(real);
	conf_init(&C);
	diags_init(&D);
	plan_init(&P);
	unsetenv("NSCELL_STATE_DIR");
}

static void teardown(void)
{
	conf_free(&C);
	diags_free(&D);
	plan_free(&P);
	rm_rf(dir);
}

static const char *write_file(const char *name, const char *text)
{
	static char paths[8][PATH_MAX + 256]; /* a few live at once */
	static unsigned next;
	char *path = paths[next++ % 8];
	snprintf(path, sizeof paths[0], "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void dump_diags(void)
{
	for (size_t i = 0; i < D.n; i++)
		fprintf(stderr, "# %s:%u:%u %s: %s\n", D.v[i].file ? D.v[i].file : "-", D.v[i].line,
			D.v[i].col, D.v[i].warning ? "warning" : "error", D.v[i].msg);
}

/* load text as nscell.conf, fresh */
static int load(const char *text)
{
	conf_free(&C);
	diags_free(&D);
	return conf_load(&C, write_file("nscell.conf", text), true, &D);
}

#define assert_only_diag(warn, ln, cl, text)                       \
	do {                                                       \
		if (D.n != 1)                                      \
			dump_diags();                              \
		ck_assert_uint_eq(D.n, 1);                         \
		ck_assert_int_eq(D.v[0].warning, (warn));          \
		ck_assert_uint_eq(D.v[0].line, (ln));              \
		ck_assert_uint_eq(D.v[0].col, (cl));               \
		ck_assert_str_eq(D.v[0].msg, (text));              \
		ck_assert_str_eq(D.v[0].file, C.file);             \
	} while (0)

START_TEST(defaults_without_a_file)
{
	ck_assert_int_eq(conf_load(&C, "/nonexistent/nscell.conf", false, &D), 0);
	ck_assert_uint_eq(D.n, 0);
	ck_assert(C.loaded);
	ck_assert_ptr_null(C.file);
	ck_assert_ptr_null(C.server_template);
	ck_assert_str_eq(C.state_dir, "/run/nscell");
	ck_assert_str_eq(C.tmp_dir, "$HOMEDIR/.nscell");
	ck_assert_str_eq(C.cgroup.parent, "nscell");
	ck_assert(!C.persist);
	ck_assert_int_eq(C.cgroup.memory_max, 0);
	ck_assert_uint_eq(C.nvhosts, 0);
}
END_TEST

START_TEST(missing_file_named)
{
	ck_assert_int_eq(conf_load(&C, "/nonexistent/nscell.conf", true, &D), -1);
	ck_assert_uint_eq(D.n, 1);
	ck_assert_str_eq(D.v[0].file, "/nonexistent/nscell.conf");
	ck_assert_str_eq(D.v[0].msg, "cannot read nscell.conf: No such file or directory");
}
END_TEST

START_TEST(full_file)
{
	ck_assert_int_eq(load("# nscell.conf\n"
			      "template = server.tpl     # relative to this file\n"
			      "state_dir = /var/run/x\n"
			      "tmp_dir = \"/srv/tmp dir/$USER\"\n"
			      "persist = yes\n"
			      "cgroup_parent = /web/nscell\n"
			      "memory_max = 512M\n"
			      "pids_max = 256\n"
			      "cpu_max = 50000 100000\n"
			      "\n"
			      "[vhost example.com]\n"
			      "mode = off\n"
			      "template = /abs/example.tpl\n"
			      "[ vhost   other.org ]  # comment\n"
			      "  mode = on\n"
			      "\ttemplate = sub/other#1.tpl\n"
			      "[vhost third]\n"),
			 0);
	if (D.n)
		dump_diags();
	ck_assert_uint_eq(D.n, 0);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof want, "%s/server.tpl", dir);
	ck_assert_str_eq(C.server_template, want);
	ck_assert_str_eq(C.state_dir, "/var/run/x");
	ck_assert_str_eq(C.tmp_dir, "/srv/tmp dir/$USER");
	ck_assert(C.persist);
	ck_assert_str_eq(C.cgroup.parent, "web/nscell");
	ck_assert_int_eq(C.cgroup.memory_max, 512 << 20);
	ck_assert_int_eq(C.cgroup.pids_max, 256);
	ck_assert_int_eq(C.cgroup.cpu_quota_us, 50000);
	ck_assert_int_eq(C.cgroup.cpu_period_us, 100000);
	ck_assert_uint_eq(C.nvhosts, 3);
	const struct conf_vhost *v = conf_find_vhost(&C, "example.com");
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(v->mode, CONF_VHOST_OFF);
	ck_assert_str_eq(v->template, "/abs/example.tpl");
	ck_assert_uint_eq(v->line, 11);
	v = conf_find_vhost(&C, "other.org");
	ck_assert_int_eq(v->mode, CONF_VHOST_ON);
	snprintf(want, sizeof want, "%s/sub/other#1.tpl", dir);
	ck_assert_str_eq(v->template, want);
	v = conf_find_vhost(&C, "third");
	ck_assert_int_eq(v->mode, CONF_VHOST_INHERIT);
	ck_assert_ptr_null(v->template);
	ck_assert_ptr_null(conf_find_vhost(&C, "nope"));
}
END_TEST

START_TEST(relative_conf_path)
{
	char cwd[PATH_MAX];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	write_file("nscell.conf", "template = ./s.tpl\n[vhost v]\ntemplate = v.tpl\n");
	ck_assert_int_eq(chdir(dir), 0);
	int r = conf_load(&C, "nscell.conf", true, &D);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_int_eq(r, 0);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof want, "%s/s.tpl", dir);
	ck_assert_str_eq(C.server_template, want);
	snprintf(want, sizeof want, "%s/v.tpl", dir);
	ck_assert_str_eq(conf_find_vhost(&C, "v")->template, want);
}
END_TEST

START_TEST(unknown_keys)
{
	ck_assert_int_eq(load("# c\n  foo = 1\n"), -1);
	assert_only_diag(false, 2, 3, "unknown key 'foo'");
	ck_assert_int_eq(load("mode = on\n"), -1);
	assert_only_diag(false, 1, 1, "'mode' belongs in a [vhost NAME] section");
	ck_assert_int_eq(load("[vhost v]\nmemory_max = 1G\n"), -1);
	assert_only_diag(false, 2, 1, "'memory_max' is not a vhost setting (a vhost has mode and template)");
	ck_assert_int_eq(load("[vhost v]\n\tbar = x\n"), -1);
	assert_only_diag(false, 2, 2, "unknown key 'bar' in [vhost v]");
}
END_TEST

START_TEST(bad_values)
{
	static const struct {
		const char *text, *msg;
		unsigned line, col;
	} cases[] = {
		{ "memory_max = 12Q\n", "memory_max: expected a size like 512M or 1G, got '12Q'", 1, 14 },
		{ "pids_max = 1k\n", "pids_max: expected a number, got '1k'", 1, 12 },
		{ "persist = maybe\n", "expected yes or no, got 'maybe'", 1, 11 },
		{ "cpu_max = a b\n", "cpu_max: expected QUOTA [PERIOD] in microseconds, got 'a b'", 1, 11 },
		{ "cpu_max = 1 2 3\n", "cpu_max: expected QUOTA [PERIOD] in microseconds, got '1 2 3'", 1, 11 },
		{ "[vhost v]\nmode = sometimes\n", "mode: expected on, off or inherit, got 'sometimes'", 2, 8 },
		{ "\n[section]\n", "unknown section '[section]' (expected [vhost NAME])", 2, 2 },
		{ "[vhost]\n", "expected [vhost NAME]", 1, 1 },
		{ "[vhost a b]\n", "expected [vhost NAME]", 1, 8 },
		{ "[vhost a] x\n", "expected [vhost NAME]", 1, 1 },
		{ "novalue\n", "expected 'key = value'", 1, 1 },
		{ "= x\n", "expected 'key = value'", 1, 1 },
		{ "state_dir = run\n", "state_dir must be an absolute path, got 'run'", 1, 13 },
		{ "tmp_dir = t\n", "tmp_dir must be an absolute path (symbols allowed), got 't'", 1, 11 },
		{ "cgroup_parent = a/../b\n", "cgroup_parent must be a cgroup path without '..', got 'a/../b'", 1, 17 },
		{ "template =   # nothing\n", "'template' needs a value", 1, 14 },
		{ "template = \"a\n", "unbalanced quote", 1, 12 },
		{ "template = \"a\" b\n", "unexpected text after the quoted value", 1, 12 },
		{ "[vhost a]\n[vhost a]\n", "vhost 'a' is already defined at line 1", 2, 8 },
		{ "user_database = ldap\n", "user_database: expected auto, nss or files, got 'ldap'", 1, 17 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		ck_assert_int_eq(load(cases[i].text), -1);
		assert_only_diag(false, cases[i].line, cases[i].col, cases[i].msg);
		/* the defaults are there all the same */
		ck_assert_str_eq(C.state_dir, "/run/nscell");
	}
}
END_TEST

START_TEST(user_database)
{
	ck_assert_int_eq(load("# nothing\n"), 0);
	ck_assert_int_eq(C.user_database, IDENTITY_DB_AUTO);
	ck_assert_int_eq(load("user_database = nss\n"), 0);
	ck_assert_int_eq(C.user_database, IDENTITY_DB_NSS);
	ck_assert_int_eq(load("user_database = files\n"), 0);
	ck_assert_int_eq(C.user_database, IDENTITY_DB_FILES);
	ck_assert_int_eq(load("user_database = auto\n"), 0);
	ck_assert_int_eq(C.user_database, IDENTITY_DB_AUTO);
}
END_TEST

START_TEST(key_set_twice_warns)
{
	ck_assert_int_eq(load("pids_max = 1\npids_max = 2\n"), 0);
	assert_only_diag(true, 2, 1, "'pids_max' is set again (first at line 1); the last one counts");
	ck_assert_int_eq(C.cgroup.pids_max, 2);
}
END_TEST

START_TEST(sizes)
{
	static const struct {
		const char *s;
		int64_t v;
	} cases[] = {
		{ "4096", 4096 }, { "512M", 512ll << 20 }, { "1G", 1ll << 30 }, { "1g", 1ll << 30 },
		{ "2T", 2ll << 40 }, { "10K", 10240 }, { "512MB", 512ll << 20 }, { "0", 0 },
		{ "max", 0 }, { "", -1 }, { "M", -1 }, { "-1", -1 }, { "1.5G", -1 }, { "1X", -1 },
		{ "99999999999T", -1 }, { "1GG", -1 }, { "18446744073709551616", -1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		ck_assert_msg(conf_parse_size(cases[i].s) == cases[i].v, "%s", cases[i].s);
	ck_assert_int_eq(conf_parse_size(NULL), -1);
	ck_assert_int_eq(load("cpu_max = max\nmemory_max = max\n"), 0);
	ck_assert_int_eq(C.cgroup.cpu_quota_us, 0);
	ck_assert_int_eq(C.cgroup.cpu_period_us, 0);
	ck_assert_int_eq(load("cpu_max = 20000\n"), 0);
	ck_assert_int_eq(C.cgroup.cpu_quota_us, 20000);
	ck_assert_int_eq(C.cgroup.cpu_period_us, 100000);
}
END_TEST

START_TEST(state_dir_from_environment)
{
	setenv("NSCELL_STATE_DIR", "/srv/state", 1);
	ck_assert_int_eq(load("state_dir = /var/x\n"), 0);
	unsetenv("NSCELL_STATE_DIR");
	ck_assert_str_eq(C.state_dir, "/srv/state");
}
END_TEST

/* ---- plan_load ---- */

static int plan_load_with(struct load_opts *o, nscell_error_t *err)
{
	plan_free(&P);
	conf_free(&C);
	diags_free(&D);
	return plan_load(&P, &C, o, &D, err);
}

START_TEST(load_unknown_vhost)
{
	const char *conf = write_file("nscell.conf", "[vhost a]\n");
	struct load_opts o = { .conf_path = conf, .vhost = "nope", .user = "root" };
	nscell_error_t err;
	ck_assert_int_eq(plan_load_with(&o, &err), -1);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof want, "unknown vhost 'nope' (not in %s)", conf);
	ck_assert_str_eq(err.msg, want);
}
END_TEST

START_TEST(load_vhost_off)
{
	const char *conf = write_file("nscell.conf", "memory_max = 1G\n[vhost off.example]\nmode = off\n");
	struct load_opts o = { .conf_path = conf, .vhost = "off.example", .user = "root" };
	nscell_error_t err;
	ck_assert_int_eq(plan_load_with(&o, &err), 0);
	ck_assert(P.sandbox_off);
	ck_assert_uint_eq(P.nmounts, 0);
	ck_assert_str_eq(P.vhost, "off.example");
	ck_assert_str_eq(P.proc.argv[0], P.id.shell);
	ck_assert_ptr_null(P.proc.argv[1]);
	ck_assert_str_eq(P.proc.cwd, P.id.home);
	ck_assert_int_eq(P.cgroup.memory_max, 1 << 30);
	ck_assert_str_eq(P.cgroup.parent, "nscell");
}
END_TEST

START_TEST(load_conf_templates)
{
	write_file("server.tpl", "/usr,ro-bind\n/tmp,tmp\n");
	write_file("v.tpl", "/srv/vhost-only,dir\n/tmp,tmpfs\n");
	const char *conf = write_file("nscell.conf", "template = server.tpl\ntmp_dir = /srv/t/$UID\n"
						     "pids_max = 64\n[vhost v]\ntemplate = v.tpl\n");
	char *argv[] = { "/bin/true", "x", NULL };
	struct load_opts o = { .conf_path = conf, .vhost = "v", .user = "root", .argv = argv,
			       .cwd = "/srv//x/", .rootless = true };
	nscell_error_t err;
	ck_assert_msg(plan_load_with(&o, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(D.nerrors, 0);
	ck_assert_uint_eq(D.nwarnings, 1); /* v.tpl overrides /tmp */
	ck_assert(!P.sandbox_off);
	ck_assert_uint_eq(P.nmounts, 3);
	ck_assert_str_eq(P.mounts[0].dst, "/srv/vhost-only");
	ck_assert_str_eq(P.mounts[1].dst, "/tmp");
	ck_assert_int_eq(P.mounts[1].op, PLAN_TMPFS);
	ck_assert_uint_eq(P.nfiles, 3);
	ck_assert_str_eq(P.files[0], conf);
	ck_assert_str_eq(P.proc.argv[1], "x");
	ck_assert_str_eq(P.proc.cwd, "/srv/x");
	ck_assert(P.rootless);
	ck_assert_int_eq(P.cgroup.pids_max, 64);

	/* -f and -2 win over the conf's templates */
	const char *f = write_file("f.tpl", "/tmp,tmp\n");
	const char *two = write_file("two.tpl", "/etc,dir\n");
	o.server_tpl = f;
	o.vhost_tpl = two;
	ck_assert_int_eq(plan_load_with(&o, &err), 0);
	ck_assert_uint_eq(P.nmounts, 2);
	ck_assert_str_eq(P.mounts[0].dst, "/etc");
	ck_assert_str_eq(P.mounts[1].src, "/srv/t/0/tmp");
}
END_TEST

START_TEST(load_defaults)
{
	const char *conf = write_file("nscell.conf", "# empty\n");
	struct load_opts o = { .conf_path = conf, .check_sources = true };
	nscell_error_t err;
	ck_assert_msg(plan_load_with(&o, &err) == 0, "%s", err.msg);
	if (D.n)
		dump_diags();
	ck_assert_uint_eq(D.n, 0);
	ck_assert_str_eq(P.id.user, geteuid() == 0 ? "nobody" : P.id.user);
	ck_assert_uint_gt(P.nmounts, 10); /* the built-in default */
	ck_assert_uint_eq(P.nfiles, 1);
	ck_assert_str_eq(P.proc.argv[0], P.id.shell);
	bool home = false;
	for (size_t i = 0; P.proc.env[i]; i++)
		if (strncmp(P.proc.env[i], "HOME=", 5) == 0 && strcmp(P.proc.env[i] + 5, P.id.home) == 0)
			home = true;
	ck_assert(home);
	ck_assert(!P.rootless);
	ck_assert_ptr_null(P.vhost);
}
END_TEST

START_TEST(load_errors)
{
	nscell_error_t err;
	struct load_opts o = { .conf_path = "/nonexistent/nscell.conf" };
	ck_assert_int_eq(plan_load_with(&o, &err), -1);
	ck_assert_str_eq(err.msg, "/nonexistent/nscell.conf: cannot read nscell.conf: No such file or directory");

	const char *conf = write_file("nscell.conf", "\n");
	const char *bad = write_file("bad.tpl", "/usr\n/a /b ro-bind extra\n/c /d zzz\n");
	o = (struct load_opts){ .conf_path = conf, .server_tpl = bad, .user = "root" };
	ck_assert_int_eq(plan_load_with(&o, &err), -1);
	char want[PATH_MAX + 128];
	snprintf(want, sizeof want, "%s:2:15: unexpected 'extra' after the command (and 1 more error)",
		 bad);
	ck_assert_str_eq(err.msg, want);
	ck_assert_uint_eq(D.nerrors, 2);

	o = (struct load_opts){ .conf_path = conf, .user = "nscell-no-such-user" };
	ck_assert_int_eq(plan_load_with(&o, &err), -1);
	ck_assert_str_eq(err.msg, "unknown user 'nscell-no-such-user'");

	o = (struct load_opts){ .conf_path = conf, .user = "root", .cwd = "rel" };
	ck_assert_int_eq(plan_load_with(&o, &err), -1);
	ck_assert_str_eq(err.msg, "working directory 'rel': not an absolute path without '..'");

	o = (struct load_opts){ .conf_path = conf, .server_tpl = "/nonexistent/s.tpl", .user = "root" };
	ck_assert_int_eq(plan_load_with(&o, &err), -1);
	ck_assert_str_eq(err.msg, "/nonexistent/s.tpl: cannot read template: No such file or directory");
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *t = tcase_create("conf");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, defaults_without_a_file);
	tcase_add_test(t, missing_file_named);
	tcase_add_test(t, full_file);
	tcase_add_test(t, relative_conf_path);
	tcase_add_test(t, unknown_keys);
	tcase_add_test(t, bad_values);
	tcase_add_test(t, key_set_twice_warns);
	tcase_add_test(t, sizes);
	tcase_add_test(t, state_dir_from_environment);
	tcase_add_test(t, load_unknown_vhost);
	tcase_add_test(t, load_vhost_off);
	tcase_add_test(t, load_conf_templates);
	tcase_add_test(t, load_defaults);
	tcase_add_test(t, load_errors);
	tcase_add_test(t, user_database);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(conf_suite)
