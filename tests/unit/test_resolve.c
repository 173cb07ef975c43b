/* Unit tests for translate/resolve.c and translate/identity.c: symbols,
 * normalisation, every command's plan entry, overrides, exclusions,
 * sources, generated passwd/group, ordering, the default and data
 * templates for root and for nobody. */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "translate/identity.h"
#include "translate/load.h"
#include "translate/resolve.h"
#include "translate/template.h"

static struct plan P;
static struct diags D;
static struct tpl T1, T2;

static void setup(void)
{
	plan_init(&P);
	diags_init(&D);
	tpl_init(&T1);
	tpl_init(&T2);
}

static void teardown(void)
{
	plan_free(&P);
	diags_free(&D);
	tpl_free(&T1);
	tpl_free(&T2);
}

static void dump_diags(void)
{
	for (size_t i = 0; i < D.n; i++)
		fprintf(stderr, "# %s:%u:%u %s: %s\n", D.v[i].file ? D.v[i].file : "built-in",
			D.v[i].line, D.v[i].col, D.v[i].warning ? "warning" : "error", D.v[i].msg);
}

static void start(const char *user)
{
	teardown();
	setup();
	nscell_error_t err;
	ck_assert_msg(identity_lookup(&P.id, user, &err) == 0, "%s", err.msg);
}

/* Parse s1 (as s.tpl) and s2 (as v.tpl, when not NULL) and resolve them
 * for user.  Parsing must pass. */
static int resolve2(const char *user, bool check, const char *s1, const char *s2)
{
	start(user);
	ck_assert_int_eq(tpl_parse_buffer(&T1, "s.tpl", s1, strlen(s1), &D), 0);
	if (s2)
		ck_assert_int_eq(tpl_parse_buffer(&T2, "v.tpl", s2, strlen(s2), &D), 0);
	ck_assert_uint_eq(D.n, 0);
	const struct tpl *tpls[] = { &T1, &T2 };
	struct resolve_opts o = { .check_sources = check };
	return plan_resolve(&P, tpls, s2 ? 2 : 1, &o, &D);
}

static int resolve1(const char *user, const char *s)
{
	return resolve2(user, false, s, NULL);
}

static const struct plan_mount *at(const char *dst, enum plan_op op)
{
	for (size_t i = 0; i < P.nmounts; i++)
		if (strcmp(P.mounts[i].dst, dst) == 0 && P.mounts[i].op == op)
			return &P.mounts[i];
	ck_abort_msg("no %s at %s", plan_op_name(op), dst);
	return NULL;
}

#define assert_only_diag(warn, file_, ln, cl, text)                  \
	do {                                                         \
		if (D.n != 1)                                        \
			dump_diags();                                \
		ck_assert_uint_eq(D.n, 1);                           \
		ck_assert_int_eq(D.v[0].warning, (warn));            \
		ck_assert_str_eq(D.v[0].file, (file_));              \
		ck_assert_uint_eq(D.v[0].line, (ln));                \
		ck_assert_uint_eq(D.v[0].col, (cl));                 \
		ck_assert_str_eq(D.v[0].msg, (text));                \
	} while (0)

#define assert_clean()                     \
	do {                               \
		if (D.n)                   \
			dump_diags();      \
		ck_assert_uint_eq(D.n, 0); \
	} while (0)

static const char *srcdir(void)
{
	static char dir[4096];
	const char *env = getenv("SRCDIR");
	if (env && *env)
		return env;
	snprintf(dir, sizeof dir, "%s", __FILE__);
	char *p = strstr(dir, "tests/unit/");
	if (!p || p == dir)
		return ".";
	p[-1] = '\0';
	return dir;
}

START_TEST(symbols_every_occurrence)
{
	start("root");
	size_t bad = 0;
	char *s = resolve_symbols("$HOMEDIR/$USER/$USER-$UID.$GID/$GROUP$USER", &P.id, &bad);
	ck_assert_str_eq(s, "/root/root/root-0.0/rootroot");
	free(s);
	s = resolve_symbols("/a$/b$", &P.id, &bad);
	ck_assert_str_eq(s, "/a$/b$");
	free(s);
	ck_assert_ptr_null(resolve_symbols("/a/$USER/$NOPE", &P.id, &bad));
	ck_assert_uint_eq(bad, 9);
	ck_assert_ptr_null(resolve_symbols("$USERS", &P.id, &bad));
	ck_assert_uint_eq(bad, 0);
}
END_TEST

START_TEST(normalise)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "//a//b/./c/", "/a/b/c" }, { "/", "/" }, { "/./", "/" }, { "///", "/" },
		{ "/a/.b/..c/...", "/a/.b/..c/..." }, { "/a/..", NULL }, { "/../a", NULL },
		{ "a/b", NULL }, { "", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *n = resolve_normalise(cases[i].in);
		ck_assert_pstr_eq(n, cases[i].out);
		free(n);
	}
	ck_assert_ptr_null(resolve_normalise(NULL));
}
END_TEST

START_TEST(every_command_to_plan)
{
	ck_assert_int_eq(resolve1("root", "/usr,bind\n"
					  "/u1 /d1,bind-try\n"
					  "/u2 /d2,ro-bind\n"
					  "/u3 /d3,ro-bind-try\n"
					  "/u4 /d4,dev-bind\n"
					  "/u5 /d5,dev-bind-try\n"
					  "/u6 /d6,copy\n"
					  "/u7 /d7,copy-try\n"
					  "/u8 /d8\n"
					  "/proc,proc\n"
					  "/dev,dev\n"
					  "/dev/mqueue,mqueue\n"
					  "/x,dir\n"
					  "/usr,remount-ro\n"
					  "/run,tmpfs\n"
					  "../tmp var/tmp,symlink\n"
					  "box-$USER,hostname\n"
					  "no-unshare-user\n"),
			 0);
	assert_clean();
	static const struct {
		const char *dst;
		enum plan_op op;
		unsigned flags;
		const char *src;
		mode_t mode;
	} want[] = {
		{ "/usr", PLAN_BIND, 0, "/usr", 0 },
		{ "/d1", PLAN_BIND, PLAN_F_TRY, "/u1", 0 },
		{ "/d2", PLAN_BIND, PLAN_F_RO, "/u2", 0 },
		{ "/d3", PLAN_BIND, PLAN_F_RO | PLAN_F_TRY, "/u3", 0 },
		{ "/d4", PLAN_BIND, PLAN_F_DEVICES, "/u4", 0 },
		{ "/d5", PLAN_BIND, PLAN_F_DEVICES | PLAN_F_TRY, "/u5", 0 },
		{ "/d6", PLAN_COPY, 0, "/u6", 0 },
		{ "/d7", PLAN_COPY, PLAN_F_TRY, "/u7", 0 },
		{ "/d8", PLAN_BIND, PLAN_F_RO | PLAN_F_TRY, "/u8", 0 },
		{ "/proc", PLAN_PROC, 0, NULL, 0 },
		{ "/dev", PLAN_DEV, 0, NULL, 0 },
		{ "/dev/mqueue", PLAN_MQUEUE, 0, NULL, 0 },
		{ "/x", PLAN_DIR, 0, NULL, 0755 },
		{ "/usr", PLAN_REMOUNT_RO, 0, NULL, 0 },
		{ "/run", PLAN_TMPFS, 0, NULL, 0755 },
		{ "/var/tmp", PLAN_SYMLINK, 0, "../tmp", 0 },
	};
	ck_assert_uint_eq(P.nmounts, sizeof want / sizeof *want);
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		const struct plan_mount *m = at(want[i].dst, want[i].op);
		ck_assert_uint_eq(m->flags, want[i].flags);
		ck_assert_pstr_eq(m->src, want[i].src);
		ck_assert_uint_eq(m->mode, want[i].mode);
	}
	ck_assert_str_eq(P.hostname, "box-root");
	ck_assert(!(P.namespaces & PLAN_NS_USER));
	ck_assert(P.namespaces & PLAN_NS_PID);
}
END_TEST

START_TEST(user_paths_flagged)
{
	ck_assert_int_eq(resolve1("root", "$HOMEDIR/x,bind\n/root,ro-bind\n/rootfoo,bind\n"
					  "$HOMEDIR/f /f,copy\n/etc/x /g,copy\n"),
			 0);
	ck_assert_uint_eq(at("/root/x", PLAN_BIND)->flags, PLAN_F_USER_PATH);
	ck_assert_uint_eq(at("/root", PLAN_BIND)->flags, PLAN_F_RO | PLAN_F_USER_PATH);
	ck_assert_uint_eq(at("/rootfoo", PLAN_BIND)->flags, 0);
	ck_assert_uint_eq(at("/f", PLAN_COPY)->flags, PLAN_F_USER_PATH);
	ck_assert_uint_eq(at("/g", PLAN_COPY)->flags, 0);
}
END_TEST

START_TEST(tmp_backing_dirs)
{
	ck_assert_int_eq(resolve1("root", "/tmp,tmp\n/var/tmp/,tmp\n/data/$USER /x,tmp\nw/t,tmp\n"), 0);
	assert_clean();
	const struct plan_mount *m = at("/tmp", PLAN_TMP);
	ck_assert_str_eq(m->src, "/root/.nscell/tmp");
	ck_assert_uint_eq(m->flags, PLAN_F_USER_PATH);
	ck_assert_str_eq(at("/var/tmp", PLAN_TMP)->src, "/root/.nscell/var_tmp");
	ck_assert_str_eq(at("/w/t", PLAN_TMP)->src, "/root/.nscell/w_t");
	m = at("/x", PLAN_TMP);
	ck_assert_str_eq(m->src, "/data/root");
	ck_assert_uint_eq(m->flags, 0);

	ck_assert_int_eq(resolve1("nobody", "/tmp,tmp"), 0);
	ck_assert_str_eq(at("/tmp", PLAN_TMP)->src, "/nonexistent/.nscell/tmp");

	/* the conf's tmp_dir pattern */
	start("root");
	ck_assert_int_eq(tpl_parse_buffer(&T1, "s.tpl", "/tmp,tmp", 8, &D), 0);
	const struct tpl *tpls[] = { &T1 };
	struct resolve_opts o = { .tmp_base = "/srv//tmp/$USER/" };
	ck_assert_int_eq(plan_resolve(&P, tpls, 1, &o, &D), 0);
	m = at("/tmp", PLAN_TMP);
	ck_assert_str_eq(m->src, "/srv/tmp/root/tmp");
	ck_assert_uint_eq(m->flags, 0);
}
END_TEST

START_TEST(tmpfs_modes)
{
	ck_assert_int_eq(resolve1("root", "/tmp,tmpfs\n/var/tmp,tmpfs\n/dev/shm,tmpfs\n"
					  "/srv/x/tmp,tmpfs\n/run,tmpfs\n/srv/tmpx,tmpfs\n"),
			 0);
	ck_assert_uint_eq(at("/tmp", PLAN_TMPFS)->mode, 01777);
	ck_assert_uint_eq(at("/var/tmp", PLAN_TMPFS)->mode, 01777);
	ck_assert_uint_eq(at("/dev/shm", PLAN_TMPFS)->mode, 01777);
	ck_assert_uint_eq(at("/srv/x/tmp", PLAN_TMPFS)->mode, 01777);
	ck_assert_uint_eq(at("/run", PLAN_TMPFS)->mode, 0755);
	ck_assert_uint_eq(at("/srv/tmpx", PLAN_TMPFS)->mode, 0755);
}
END_TEST

START_TEST(relative_dest_and_normalised_paths)
{
	ck_assert_int_eq(resolve1("root", "/usr lib/x,ro-bind\n//etc//./a/ //b//c/,bind\n"), 0);
	assert_clean();
	ck_assert_str_eq(at("/lib/x", PLAN_BIND)->src, "/usr");
	ck_assert_str_eq(at("/b/c", PLAN_BIND)->src, "/etc/a");
}
END_TEST

START_TEST(relative_source_after_expansion)
{
	ck_assert_int_eq(resolve1("root", "/ok\n  $USER/x /y,bind"), -1);
	assert_only_diag(false, "s.tpl", 2, 3, "relative source 'root/x' (sources are host paths)");
	ck_assert_uint_eq(P.nmounts, 1);
}
END_TEST

START_TEST(override_warns_with_both_lines)
{
	ck_assert_int_eq(resolve2("root", false, "/usr,ro-bind\n/tmp,tmp\n", "# vhost\n/tmp/,tmpfs\n"),
			 0);
	assert_only_diag(true, "v.tpl", 2, 1, "'/tmp' overrides the entry at s.tpl:2:1");
	ck_assert_uint_eq(P.nmounts, 2);
	const struct plan_mount *m = at("/tmp", PLAN_TMPFS);
	ck_assert_str_eq(m->origin.file, "v.tpl");
	ck_assert_uint_eq(m->origin.line, 2);

	/* within one file, and remount-ro does not override what it remounts */
	ck_assert_int_eq(resolve1("root", "/usr,ro-bind\n/usr,remount-ro\n /usr//,bind\n"), 0);
	assert_only_diag(true, "s.tpl", 3, 2, "'/usr' overrides the entry at s.tpl:1:1");
	ck_assert_uint_eq(P.nmounts, 2);
	ck_assert_uint_eq(at("/usr", PLAN_BIND)->flags, 0);
	at("/usr", PLAN_REMOUNT_RO);
}
END_TEST

START_TEST(singletons_override)
{
	ck_assert_int_eq(resolve2("root", false, "a,hostname\n$PASSWD\n$GROUP\n",
				  "b,hostname\n$PASSWD /etc/passwd2\n$GROUP /etc/group\n"),
			 0);
	ck_assert_str_eq(P.hostname, "b");
	ck_assert_uint_eq(D.nwarnings, 3);
	ck_assert_uint_eq(D.nerrors, 0);
	ck_assert_str_eq(D.v[0].msg, "'hostname' overrides the one at s.tpl:1:1");
	ck_assert_uint_eq(D.v[0].line, 1);
	ck_assert_str_eq(D.v[1].msg, "'$PASSWD' overrides the one at s.tpl:2:1");
	ck_assert_str_eq(D.v[2].msg, "'$GROUP' overrides the one at s.tpl:3:1");
	ck_assert_uint_eq(P.nmounts, 2);
	at("/etc/passwd2", PLAN_FILE);
	ck_assert_uint_eq(at("/etc/group", PLAN_FILE)->origin.line, 3);
	ck_assert_str_eq(at("/etc/group", PLAN_FILE)->origin.file, "v.tpl");
}
END_TEST

START_TEST(exclusions_mapped)
{
	ck_assert_int_eq(resolve1("root", "/usr/share/doc /srv/doc,ro-bind\n"
					  "!/srv/doc/bash\n"
					  "!/usr/share/doc/coreutils/\n"
					  "!srv/doc/rel\n"
					  "/ /host,ro-bind\n"
					  "!/etc/shadow\n"
					  "/ /,ro-bind\n"
					  "!/etc/gshadow\n"
					  "$HOMEDIR,bind\n"
					  "!$HOMEDIR/.ssh\n"),
			 0);
	assert_clean();
	at("/srv/doc/bash", PLAN_MASK);
	at("/srv/doc/coreutils", PLAN_MASK);
	at("/srv/doc/rel", PLAN_MASK);
	at("/host/etc/shadow", PLAN_MASK);
	at("/etc/gshadow", PLAN_MASK);
	const struct plan_mount *m = at("/root/.ssh", PLAN_MASK);
	ck_assert_ptr_null(m->src);
	ck_assert_uint_eq(m->origin.line, 10);
	ck_assert_uint_eq(P.nmounts, 10);

	ck_assert_int_eq(resolve1("root", "/usr/share/doc /srv/doc,ro-bind\n!/etc/x\n"), -1);
	assert_only_diag(false, "s.tpl", 2, 2, "'!/etc/x' is outside the bound tree /srv/doc");
	ck_assert_int_eq(resolve1("root", "/usr /srv/usr,ro-bind\n !/usr\n"), -1);
	assert_only_diag(false, "s.tpl", 2, 3, "'!/usr' excludes the whole bound tree /srv/usr");

	/* a dropped bind takes its exclusions along */
	ck_assert_int_eq(resolve2("root", true, "/nonexistent/nscell /x,ro-bind-try\n!/x/y\n", NULL), 0);
	assert_clean();
	ck_assert_uint_eq(P.nmounts, 0);
}
END_TEST

START_TEST(sources_checked)
{
	ck_assert_int_eq(resolve2("root", true, "/nonexistent/a,ro-bind-try\n/nonexistent/b\n"
				  "/nonexistent/c /c,bind-try\n/nonexistent/d /d,copy-try\n"
				  "/nonexistent/e /e,dev-bind-try\n/usr/nonexistent /f\n",
				  NULL),
			 0);
	assert_clean();
	ck_assert_uint_eq(P.nmounts, 0);

	static const char *const required[] = { "bind", "ro-bind", "dev-bind", "copy" };
	for (size_t i = 0; i < 4; i++) {
		char text[128], msg[128];
		snprintf(text, sizeof text, "/usr,ro-bind\n/etc/hostname\n  /nonexistent/x /x,%s\n",
			 required[i]);
		snprintf(msg, sizeof msg, "%s /nonexistent/x: source missing", required[i]);
		ck_assert_int_eq(resolve2("root", true, text, NULL), -1);
		assert_only_diag(false, "s.tpl", 3, 3, msg);
		ck_assert_uint_eq(P.nmounts, 2);
	}
	/* without check_sources everything stays */
	ck_assert_int_eq(resolve2("root", false, "/nonexistent/x,bind\n/nonexistent/y\n", NULL), 0);
	ck_assert_uint_eq(P.nmounts, 2);
}
END_TEST

static char *pw_line(const char *name)
{
	struct passwd *pw = getpwnam(name);
	ck_assert_ptr_nonnull(pw);
	char *s;
	ck_assert_int_ge(asprintf(&s, "%s:x:%u:%u:%s:%s:%s\n", pw->pw_name, pw->pw_uid,
				  pw->pw_gid, pw->pw_gecos, pw->pw_dir, pw->pw_shell),
			 0);
	return s;
}

static char *gr_line(const char *name)
{
	struct group *gr = getgrnam(name);
	ck_assert_ptr_nonnull(gr);
	char *s;
	ck_assert_int_ge(asprintf(&s, "%s:x:%u:\n", gr->gr_name, gr->gr_gid), 0);
	return s;
}

static void assert_data(const struct plan_mount *m, const char *want)
{
	ck_assert_uint_eq(m->mode, 0644);
	ck_assert_uint_eq(m->len, strlen(want));
	ck_assert_int_eq(memcmp(m->data, want, m->len), 0);
}

START_TEST(passwd_with_extra_names)
{
	char *root = pw_line("root"), *nobody = pw_line("nobody");
	char *groot = gr_line("root"), *gnogroup = gr_line("nogroup");
	char want[4096];

	ck_assert_int_eq(resolve1("nobody", "$PASSWD,nobody,root\n$GROUP,root\n"), 0);
	assert_clean();
	snprintf(want, sizeof want, "%s%s", nobody, root);
	assert_data(at("/etc/passwd", PLAN_FILE), want);
	snprintf(want, sizeof want, "%s%s", gnogroup, groot);
	assert_data(at("/etc/group", PLAN_FILE), want);

	ck_assert_int_eq(resolve1("root", "$PASSWD,nobody,root,nobody\n$GROUP /etc/g2\n"), 0);
	snprintf(want, sizeof want, "%s%s", root, nobody);
	assert_data(at("/etc/passwd", PLAN_FILE), want);
	assert_data(at("/etc/g2", PLAN_FILE), groot);

	ck_assert_int_eq(resolve1("nobody", "$PASSWD\n"), 0);
	assert_data(at("/etc/passwd", PLAN_FILE), nobody);

	ck_assert_int_eq(resolve1("root", "/usr\n$PASSWD,root,nscell-no-such-user\n"), -1);
	assert_only_diag(false, "s.tpl", 2, 14, "$PASSWD: unknown user 'nscell-no-such-user'");
	ck_assert_int_eq(resolve1("root", "$GROUP nscell-no-such-group"), -1);
	assert_only_diag(false, "s.tpl", 1, 8, "$GROUP: unknown group 'nscell-no-such-group'");
	free(root);
	free(nobody);
	free(groot);
	free(gnogroup);
}
END_TEST

START_TEST(plan_sorted_and_files_recorded)
{
	ck_assert_int_eq(resolve2("root", false,
				  "/usr/lib,ro-bind\n/usr,remount-ro\n/usr,ro-bind\n/usr-local,bind\n"
				  "/usr/share,ro-bind\n!/usr/share/secret\n",
				  "/a,dir\n"),
			 0);
	const char *want[] = { "/a", "/usr", "/usr/lib", "/usr/share", "/usr/share/secret",
			       "/usr-local", "/usr" };
	ck_assert_uint_eq(P.nmounts, 7);
	for (size_t i = 0; i < 7; i++)
		ck_assert_str_eq(P.mounts[i].dst, want[i]);
	ck_assert_int_eq(P.mounts[6].op, PLAN_REMOUNT_RO);
	ck_assert_int_eq(P.mounts[4].op, PLAN_MASK);
	ck_assert_uint_eq(P.nfiles, 2);
	ck_assert_str_eq(P.files[0], "s.tpl");
	ck_assert_str_eq(P.files[1], "v.tpl");
	ck_assert_ptr_eq(P.mounts[0].origin.file, P.files[1]);
	ck_assert_ptr_eq(P.mounts[1].origin.file, P.files[0]);
	ck_assert_uint_eq(P.mounts[1].origin.line, 3);
	ck_assert_uint_eq(P.mounts[1].origin.col, 1);
}
END_TEST

/* the default template: no errors or warnings for root and for nobody */
static void default_for(const char *user)
{
	start(user);
	ck_assert_int_eq(tpl_parse_default(&T1, &D), 0);
	const struct tpl *tpls[] = { &T1 };
	struct resolve_opts o = { .check_sources = true };
	ck_assert_int_eq(plan_resolve(&P, tpls, 1, &o, &D), 0);
	assert_clean();
	ck_assert_uint_eq(P.nfiles, 0);
	ck_assert_ptr_null(at("/usr", PLAN_BIND)->origin.file);
	at("/proc", PLAN_PROC);
	at("/dev", PLAN_DEV);
	ck_assert_str_eq(at("/var/tmp", PLAN_SYMLINK)->src, "../tmp");
	char *want = pw_line(user);
	assert_data(at("/etc/passwd", PLAN_FILE), want);
	free(want);
}

START_TEST(default_template_root)
{
	default_for("root");
	ck_assert_str_eq(at("/tmp", PLAN_TMP)->src, "/root/.nscell/tmp");
	ck_assert_uint_eq(at("/root", PLAN_BIND)->flags, PLAN_F_TRY | PLAN_F_USER_PATH);
	at("/run/user/0", PLAN_DIR);
}
END_TEST

START_TEST(default_template_nobody)
{
	default_for("nobody");
	at("/run/user/65534", PLAN_DIR);
	/* nobody has no home: a private memory-backed /tmp, and cwd "/" */
	ck_assert_uint_eq(at("/tmp", PLAN_TMPFS)->mode, 01777);
}
END_TEST

/* all1..3.tpl resolve cleanly for root and nobody, alone; together the
 * later ones override with warnings but no error */
START_TEST(data_templates_resolve)
{
	static const char *const users[] = { "root", "nobody" };
	for (size_t u = 0; u < 2; u++) {
		for (int i = 1; i <= 3; i++) {
			char path[4200];
			snprintf(path, sizeof path, "%s/tests/data/templates/all%d.tpl", srcdir(), i);
			start(users[u]);
			ck_assert_int_eq(tpl_parse_file(&T1, path, &D), 0);
			const struct tpl *tpls[] = { &T1 };
			struct resolve_opts o = { .check_sources = true };
			ck_assert_msg(plan_resolve(&P, tpls, 1, &o, &D) == 0, "%s", path);
			assert_clean();
			ck_assert_uint_gt(P.nmounts, 15);
			ck_assert_str_eq(P.files[0], path);
		}
	}
	char p1[4200], p2[4200];
	snprintf(p1, sizeof p1, "%s/tests/data/templates/all1.tpl", srcdir());
	snprintf(p2, sizeof p2, "%s/tests/data/templates/all2.tpl", srcdir());
	start("root");
	ck_assert_int_eq(tpl_parse_file(&T1, p1, &D), 0);
	ck_assert_int_eq(tpl_parse_file(&T2, p2, &D), 0);
	const struct tpl *tpls[] = { &T1, &T2 };
	struct resolve_opts o = { .check_sources = true };
	ck_assert_int_eq(plan_resolve(&P, tpls, 2, &o, &D), 0);
	ck_assert_uint_eq(D.nerrors, 0);
	ck_assert_uint_gt(D.nwarnings, 5);
	ck_assert_int_eq(at("/tmp", PLAN_TMPFS)->mode, 01777); /* all2 wins */
	ck_assert_str_eq(P.hostname, "nscell-all2");
}
END_TEST

START_TEST(identity_lookups)
{
	struct plan_identity id;
	nscell_error_t err;
	ck_assert_int_eq(identity_lookup(&id, "root", &err), 0);
	ck_assert_uint_eq(id.uid, 0);
	ck_assert_uint_eq(id.gid, 0);
	ck_assert_str_eq(id.user, "root");
	ck_assert_str_eq(id.group, "root");
	ck_assert_str_eq(id.home, getpwnam("root")->pw_dir);
	ck_assert_uint_ge(id.ngroups, 1);
	identity_free(&id);
	ck_assert_int_eq(identity_lookup(&id, "65534", &err), 0);
	ck_assert_str_eq(id.user, "nobody");
	ck_assert_str_eq(id.home, "/nonexistent");
	identity_free(&id);
	ck_assert_int_eq(identity_lookup(&id, "nscell-no-such-user", &err), -1);
	ck_assert_str_eq(err.msg, "unknown user 'nscell-no-such-user'");
	ck_assert_int_eq(identity_lookup(&id, "", &err), -1);
	ck_assert_str_eq(err.msg, "empty user name");
	if (geteuid() == 0)
		ck_assert_str_eq(identity_default_user(), "nobody");
	else
		ck_assert_str_eq(identity_default_user(), getpwuid(geteuid())->pw_name);
}
END_TEST

START_TEST(process_env)
{
	start("root");
	char *base[] = { "PATH=/x", "HOME=/wrong", "TERM=xterm", "USER=someone", NULL };
	char **env = load_process_env(&P.id, base);
	ck_assert_ptr_nonnull(env);
	char want_shell[300];
	snprintf(want_shell, sizeof want_shell, "SHELL=%s", P.id.shell);
	const char *want[] = { "PATH=/x", "TERM=xterm", "HOME=/root", "USER=root", "LOGNAME=root",
			       want_shell };
	ck_assert_uint_eq(plan_strv_len(env), 6);
	for (size_t i = 0; i < 6; i++)
		ck_assert_str_eq(env[i], want[i]);
	plan_strv_free(env);
	env = load_process_env(&P.id, NULL);
	ck_assert_str_eq(env[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	ck_assert_str_eq(env[1], "HOME=/root");
	ck_assert_uint_eq(plan_strv_len(env), 5);
	plan_strv_free(env);
}
END_TEST

START_TEST(resolve_needs_a_user)
{
	const struct tpl *tpls[] = { &T1 };
	ck_assert_int_eq(plan_resolve(&P, tpls, 1, NULL, &D), -1);
	ck_assert_uint_eq(D.nerrors, 1);
}
END_TEST

static Suite *resolve_suite(void)
{
	Suite *s = suite_create("resolve");
	TCase *t = tcase_create("resolve");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, symbols_every_occurrence);
	tcase_add_test(t, normalise);
	tcase_add_test(t, every_command_to_plan);
	tcase_add_test(t, user_paths_flagged);
	tcase_add_test(t, tmp_backing_dirs);
	tcase_add_test(t, tmpfs_modes);
	tcase_add_test(t, relative_dest_and_normalised_paths);
	tcase_add_test(t, relative_source_after_expansion);
	tcase_add_test(t, override_warns_with_both_lines);
	tcase_add_test(t, singletons_override);
	tcase_add_test(t, exclusions_mapped);
	tcase_add_test(t, sources_checked);
	tcase_add_test(t, passwd_with_extra_names);
	tcase_add_test(t, plan_sorted_and_files_recorded);
	tcase_add_test(t, default_template_root);
	tcase_add_test(t, default_template_nobody);
	tcase_add_test(t, data_templates_resolve);
	tcase_add_test(t, identity_lookups);
	tcase_add_test(t, process_env);
	tcase_add_test(t, resolve_needs_a_user);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(resolve_suite)
