/* Unit tests for translate/template.c: lexing, the line grammar, every
 * command and error message with its line and column, and the malformed
 * corpus in tests/data/malformed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "translate/identity.h"
#include "translate/resolve.h"
#include "translate/template.h"

static struct tpl T;
static struct diags D;

static void setup(void)
{
	tpl_init(&T);
	diags_init(&D);
}

static void teardown(void)
{
	tpl_free(&T);
	diags_free(&D);
}

static void dump_diags(void)
{
	for (size_t i = 0; i < D.n; i++)
		fprintf(stderr, "# %u:%u %s: %s\n", D.v[i].line, D.v[i].col,
			D.v[i].warning ? "warning" : "error", D.v[i].msg);
}

static int parse(const char *text)
{
	tpl_free(&T);
	diags_free(&D);
	return tpl_parse_buffer(&T, "t.tpl", text, strlen(text), &D);
}

/* exactly one diagnostic, with this kind, place and text */
#define assert_only_diag(warn, ln, cl, text)                                     \
	do {                                                                     \
		if (D.n != 1)                                                    \
			dump_diags();                                            \
		ck_assert_uint_eq(D.n, 1);                                       \
		ck_assert_int_eq(D.v[0].warning, (warn));                        \
		ck_assert_uint_eq(D.v[0].line, (ln));                            \
		ck_assert_uint_eq(D.v[0].col, (cl));                             \
		ck_assert_str_eq(D.v[0].msg, (text));                            \
		ck_assert_str_eq(D.v[0].file, "t.tpl");                          \
	} while (0)

#define assert_clean() \
	do {                                \
		if (D.n)                    \
			dump_diags();       \
		ck_assert_uint_eq(D.n, 0);  \
	} while (0)

static void assert_entry(size_t i, enum tpl_cmd cmd, const char *src, const char *dst)
{
	ck_assert_uint_lt(i, T.n);
	ck_assert_str_eq(tpl_cmd_name(T.v[i].cmd), tpl_cmd_name(cmd));
	ck_assert_pstr_eq(T.v[i].src, src);
	ck_assert_pstr_eq(T.v[i].dst, dst);
}

static const char *srcdir(void)
{
	static char dir[4096];
	const char *env = getenv("SRCDIR");
	if (env && *env)
		return env;
	/* __FILE__ is SRCDIR/tests/unit/test_template.c in an out-of-tree build */
	snprintf(dir, sizeof dir, "%s", __FILE__);
	char *p = strstr(dir, "tests/unit/");
	if (!p || p == dir)
		return ".";
	p[-1] = '\0';
	return dir;
}

START_TEST(every_command)
{
	static const struct {
		const char *line;
		enum tpl_cmd cmd;
		const char *src, *dst;
	} cases[] = {
		{ "/a,bind", TPL_BIND, "/a", NULL },
		{ "/a /b,bind-try", TPL_BIND_TRY, "/a", "/b" },
		{ "/a ro-bind", TPL_RO_BIND, "/a", NULL },
		{ "/a /b ro-bind-try", TPL_RO_BIND_TRY, "/a", "/b" },
		{ "/dev/zero,dev-bind", TPL_DEV_BIND, "/dev/zero", NULL },
		{ "/a,/b,dev-bind-try", TPL_DEV_BIND_TRY, "/a", "/b" },
		{ "/etc/x,copy", TPL_COPY, "/etc/x", NULL },
		{ "/etc/x /etc/y,copy-try", TPL_COPY_TRY, "/etc/x", "/etc/y" },
		{ "/dev,dev", TPL_DEV, NULL, "/dev" },
		{ "/var,dir", TPL_DIR, NULL, "/var" },
		{ "box,hostname", TPL_HOSTNAME, "box", NULL },
		{ "/dev/mqueue,mqueue", TPL_MQUEUE, NULL, "/dev/mqueue" },
		{ "/proc,proc", TPL_PROC, NULL, "/proc" },
		{ "/usr,remount-ro", TPL_REMOUNT_RO, NULL, "/usr" },
		{ "../tmp var/tmp,symlink", TPL_SYMLINK, "../tmp", "var/tmp" },
		{ "/tmp,tmp", TPL_TMP, NULL, "/tmp" },
		{ "$HOMEDIR/t /tmp,tmp", TPL_TMP, "$HOMEDIR/t", "/tmp" },
		{ "/run,tmpfs", TPL_TMPFS, NULL, "/run" },
		{ "/usr/sbin/sendmail,hostexec", TPL_HOSTEXEC, NULL, "/usr/sbin/sendmail" },
		{ "no-unshare-user", TPL_NO_UNSHARE_USER, NULL, NULL },
		{ "$PASSWD", TPL_PASSWD, NULL, NULL },
		{ "$GROUP /etc/group2", TPL_GROUP, NULL, "/etc/group2" },
	};
	bool seen[TPL_NCMDS] = { false };
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		ck_assert_int_eq(parse(cases[i].line), 0);
		assert_clean();
		ck_assert_uint_eq(T.n, 1);
		assert_entry(0, cases[i].cmd, cases[i].src, cases[i].dst);
		ck_assert_uint_eq(T.v[0].line, 1);
		ck_assert_uint_eq(T.v[0].col, 1);
		seen[cases[i].cmd] = true;
	}
	ck_assert_int_eq(parse("/usr,ro-bind\n!/usr/x"), 0);
	assert_entry(1, TPL_EXCLUDE, NULL, "/usr/x");
	seen[TPL_EXCLUDE] = true;
	for (int c = 0; c < TPL_NCMDS; c++)
		ck_assert_msg(seen[c], "command %s not tested", tpl_cmd_name(c));
}
END_TEST

START_TEST(default_command)
{
	ck_assert_int_eq(parse("/etc/hosts\n/a /b\n/a relative/dest\n"), 0);
	assert_clean();
	ck_assert_uint_eq(T.n, 3);
	assert_entry(0, TPL_RO_BIND_TRY, "/etc/hosts", NULL);
	assert_entry(1, TPL_RO_BIND_TRY, "/a", "/b");
	assert_entry(2, TPL_RO_BIND_TRY, "/a", "relative/dest");
	ck_assert_uint_eq(T.v[2].dst_col, 4);
}
END_TEST

START_TEST(separators_and_columns)
{
	ck_assert_int_eq(parse("\n\t/a ,\t/b ,, ro-bind\n  /c,,/d,bind"), 0);
	assert_clean();
	ck_assert_uint_eq(T.n, 2);
	assert_entry(0, TPL_RO_BIND, "/a", "/b");
	ck_assert_uint_eq(T.v[0].line, 2);
	ck_assert_uint_eq(T.v[0].col, 2);
	ck_assert_uint_eq(T.v[0].src_col, 2);
	ck_assert_uint_eq(T.v[0].dst_col, 7);
	assert_entry(1, TPL_BIND, "/c", "/d");
	ck_assert_uint_eq(T.v[1].line, 3);
	ck_assert_uint_eq(T.v[1].col, 3);
	ck_assert_uint_eq(T.v[1].dst_col, 7);
}
END_TEST

START_TEST(quoting)
{
	ck_assert_int_eq(parse("\"/a b\" '/c,d',bind\n\"/a b\"/c\n/ab'c\n/x \"proc\"\n/x '#y'"), 0);
	assert_clean();
	ck_assert_uint_eq(T.n, 5);
	assert_entry(0, TPL_BIND, "/a b", "/c,d");
	ck_assert_uint_eq(T.v[0].dst_col, 9); /* the path, after its quote */
	assert_entry(1, TPL_RO_BIND_TRY, "/a b/c", NULL);
	assert_entry(2, TPL_RO_BIND_TRY, "/ab'c", NULL); /* a quote inside a token is kept */
	assert_entry(3, TPL_RO_BIND_TRY, "/x", "proc");   /* a quoted word is never a command */
	assert_entry(4, TPL_RO_BIND_TRY, "/x", "#y");     /* nor a comment */
}
END_TEST

START_TEST(unbalanced_quote)
{
	ck_assert_int_eq(parse("/ok\n\n/a \"/b c,bind\n"), -1);
	assert_only_diag(false, 3, 4, "unbalanced quote \"");
	ck_assert_uint_eq(T.n, 1);
	ck_assert_int_eq(parse("'/a"), -1);
	assert_only_diag(false, 1, 1, "unbalanced quote '");
}
END_TEST

START_TEST(empty_path)
{
	ck_assert_int_eq(parse("\"\" /b,bind"), -1);
	assert_only_diag(false, 1, 2, "empty path");
	ck_assert_int_eq(parse("/a '',bind"), -1);
	assert_only_diag(false, 1, 5, "empty path");
	ck_assert_uint_eq(T.n, 0);
}
END_TEST

START_TEST(comments_and_blanks)
{
	ck_assert_int_eq(parse("# c\n   # d\n\n \t \n/a /b # trailing, bind\n/a#b,bind\n/x,#c\n"
			       "/y /z,bind #c d e\r\n"),
			 0);
	assert_clean();
	ck_assert_uint_eq(T.n, 4);
	assert_entry(0, TPL_RO_BIND_TRY, "/a", "/b");
	ck_assert_uint_eq(T.v[0].line, 5);
	assert_entry(1, TPL_BIND, "/a#b", NULL); /* '#' inside a path is part of it */
	assert_entry(2, TPL_RO_BIND_TRY, "/x", NULL);
	assert_entry(3, TPL_BIND, "/y", "/z");
	ck_assert_uint_eq(T.v[3].line, 8);
}
END_TEST

START_TEST(crlf_and_no_final_newline)
{
	ck_assert_int_eq(parse("/a,bind\r\n\r\n/p,proc\r\n/b,bind"), 0);
	assert_clean();
	ck_assert_uint_eq(T.n, 3);
	assert_entry(1, TPL_PROC, NULL, "/p");
	ck_assert_uint_eq(T.v[1].line, 3);
	ck_assert_uint_eq(T.v[2].line, 4);
}
END_TEST

START_TEST(too_many_tokens)
{
	ck_assert_int_eq(parse("/a /b ro-bind extra"), -1);
	assert_only_diag(false, 1, 15, "unexpected 'extra' after the command");
	ck_assert_int_eq(parse("/a\n/a ro-bind /b"), -1);
	assert_only_diag(false, 2, 12, "unexpected '/b' after the command");
	ck_assert_int_eq(parse("/a /b /c ro-bind"), -1);
	assert_only_diag(false, 1, 7, "unexpected '/c' (an entry is SOURCE [DEST],COMMAND)");
	ck_assert_int_eq(parse("/a /b /c /d"), -1);
	assert_only_diag(false, 1, 7, "unknown command '/c'");
	ck_assert_uint_eq(T.n, 0);
}
END_TEST

START_TEST(bare_command)
{
	ck_assert_int_eq(parse("proc"), -1);
	assert_only_diag(false, 1, 1, "'proc' needs a path");
	ck_assert_int_eq(parse("\n  tmpfs"), -1);
	assert_only_diag(false, 2, 3, "'tmpfs' needs a path");
	ck_assert_int_eq(parse("hostname"), -1);
	assert_only_diag(false, 1, 1, "'hostname' needs a name");
	ck_assert_int_eq(parse("no-unshare-user"), 0);
	assert_clean();
	ck_assert_int_eq(parse("no-unshare-user /x"), -1);
	assert_only_diag(false, 1, 17, "unexpected '/x' after the command");
	ck_assert_int_eq(parse("/x no-unshare-user"), -1);
	assert_only_diag(false, 1, 1, "'no-unshare-user' takes no path");
	ck_assert_int_eq(parse("proc /proc"), -1);
	assert_only_diag(false, 1, 1, "'proc' goes after the paths: write PATH,proc");
}
END_TEST

START_TEST(symlink_needs_two_paths)
{
	ck_assert_int_eq(parse("/x,symlink"), -1);
	assert_only_diag(false, 1, 1,
			 "'symlink' needs a target and a link path (TARGET LINKPATH,symlink)");
	ck_assert_int_eq(parse("../../a/$USER /b/c,symlink"), 0); /* target kept as written */
	assert_entry(0, TPL_SYMLINK, "../../a/$USER", "/b/c");
}
END_TEST

START_TEST(single_path_commands_ignore_source)
{
	static const char *const cmds[] = { "dev", "dir", "mqueue", "proc", "remount-ro", "tmpfs" };
	for (size_t i = 0; i < 6; i++) {
		char line[64], msg[128];
		snprintf(line, sizeof line, "/a /b,%s", cmds[i]);
		snprintf(msg, sizeof msg, "'%s' takes one path: SOURCE '/a' is ignored", cmds[i]);
		ck_assert_int_eq(parse(line), 0);
		assert_only_diag(true, 1, 1, msg);
		ck_assert_uint_eq(T.n, 1);
		ck_assert_ptr_null(T.v[0].src);
		ck_assert_str_eq(T.v[0].dst, "/b");
	}
	ck_assert_int_eq(parse("x box,hostname"), 0);
	assert_only_diag(true, 1, 1, "'hostname' takes one name: SOURCE 'x' is ignored");
	assert_entry(0, TPL_HOSTNAME, "box", NULL);
}
END_TEST

START_TEST(hostname_too_long)
{
	char line[128];
	snprintf(line, sizeof line, "%065d,hostname", 0);
	ck_assert_int_eq(parse(line), -1);
	ck_assert_uint_eq(D.nerrors, 1);
	ck_assert_ptr_nonnull(strstr(D.v[0].msg, "is longer than 64 characters"));
}
END_TEST

START_TEST(bwrap_noops_warn)
{
	static const char *const words[] = {
		"unshare-all", "unshare-user", "unshare-user-try", "unshare-pid", "unshare-ipc",
		"unshare-uts", "unshare-net", "unshare-cgroup", "unshare-cgroup-try", "share-net",
		"die-with-parent", "cap-drop", "new-session",
	};
	for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
		char msg[128];
		snprintf(msg, sizeof msg,
			 "'%s' is a bubblewrap option with no effect in nscell (ignored)", words[i]);
		ck_assert_int_eq(parse(words[i]), 0);
		assert_only_diag(true, 1, 1, msg);
		ck_assert_uint_eq(T.n, 0);
	}
	ck_assert_int_eq(parse("/a /b unshare-net"), 0);
	assert_only_diag(true, 1, 7,
			 "'unshare-net' is a bubblewrap option with no effect in nscell (ignored)");
}
END_TEST

START_TEST(identity_options_are_errors)
{
	static const struct {
		const char *line, *msg;
		unsigned col;
	} cases[] = {
		{ "uid", "'uid' is not allowed in a template: nscell defines the uid (the user named with -u)", 1 },
		{ "gid 100", "'gid' is not allowed in a template: nscell defines the gid (the user's primary group)", 1 },
		{ "/x chdir", "'chdir' is not allowed in a template: nscell defines the working directory (-d, else the home)", 4 },
		{ "setenv A B", "'setenv' is not allowed in a template: nscell defines the environment", 1 },
		{ "unsetenv", "'unsetenv' is not allowed in a template: nscell defines the environment", 1 },
		{ "as-pid-1", "'as-pid-1' is not allowed in a template: nscell defines pid 1 (its own init reaps the sandbox's processes)", 1 },
		{ "/a /b cap-add", "'cap-add' is not allowed in a template: nscell defines the capabilities (none for the user's process)", 7 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		ck_assert_int_eq(parse(cases[i].line), -1);
		assert_only_diag(false, 1, cases[i].col, cases[i].msg);
	}
}
END_TEST

START_TEST(unknown_command)
{
	ck_assert_int_eq(parse("/a /b prco"), -1);
	assert_only_diag(false, 1, 7, "unknown command 'prco' (did you mean 'proc'?)");
	ck_assert_int_eq(parse("/a /b ro-bnid-try"), -1);
	assert_only_diag(false, 1, 7, "unknown command 'ro-bnid-try' (did you mean 'ro-bind-try'?)");
	ck_assert_int_eq(parse("/a /b zzzzzz"), -1);
	assert_only_diag(false, 1, 7, "unknown command 'zzzzzz'");
	/* two words: the second is a destination, but a near-command is pointed out */
	ck_assert_int_eq(parse("/a tmfps"), 0);
	assert_only_diag(true, 1, 4, "'tmfps' is taken as a destination (did you mean 'tmpfs'?)");
	assert_entry(0, TPL_RO_BIND_TRY, "/a", "tmfps");
}
END_TEST

START_TEST(relative_source)
{
	ck_assert_int_eq(parse("etc/x /y,bind"), -1);
	assert_only_diag(false, 1, 1, "relative source 'etc/x' (sources are host paths)");
	ck_assert_int_eq(parse("/ok\n  rel"), -1);
	assert_only_diag(false, 2, 3, "relative source 'rel' (sources are host paths)");
	ck_assert_int_eq(parse("data /tmp,tmp"), -1);
	assert_only_diag(false, 1, 1, "relative source 'data' (sources are host paths)");
	/* a symlink target may be relative, and a destination */
	ck_assert_int_eq(parse("rel/target link,symlink\n/a b/c"), 0);
	assert_clean();
}
END_TEST

START_TEST(dotdot_refused)
{
	ck_assert_int_eq(parse("/a/../b,bind"), -1);
	assert_only_diag(false, 1, 1, "'..' in path '/a/../b' (paths are taken literally)");
	ck_assert_int_eq(parse("/a ../b,bind"), -1);
	assert_only_diag(false, 1, 4, "'..' in path '../b' (paths are taken literally)");
	ck_assert_int_eq(parse("/a/..,proc"), -1);
	ck_assert_uint_eq(D.nerrors, 1);
	ck_assert_int_eq(parse("/a..b/..c /x..,bind\n../../t l,symlink"), 0);
	assert_clean();
}
END_TEST

START_TEST(symbols_checked)
{
	ck_assert_int_eq(parse("/home/$NOPE/x,bind"), -1);
	assert_only_diag(false, 1, 7, "unknown symbol '$NOPE'");
	ck_assert_int_eq(parse("/a \"/b $X\",bind"), -1);
	assert_only_diag(false, 1, 8, "unknown symbol '$X'");
	ck_assert_int_eq(parse("/x/$PASSWD"), -1);
	assert_only_diag(false, 1, 4, "'$PASSWD' is only valid as the first word of a line");
	ck_assert_int_eq(parse("$HOMEDIR/$USER/$UID-$GID-$GROUP/$USER,bind\n/a$ /b$/c"), 0);
	assert_clean();
	assert_entry(0, TPL_BIND, "$HOMEDIR/$USER/$UID-$GID-$GROUP/$USER", NULL);
}
END_TEST

START_TEST(generated_files)
{
	ck_assert_int_eq(parse("$PASSWD,nobody,root\n$GROUP /etc/g root"), 0);
	assert_clean();
	assert_entry(0, TPL_PASSWD, NULL, NULL);
	ck_assert_str_eq(T.v[0].names[0], "nobody");
	ck_assert_str_eq(T.v[0].names[1], "root");
	ck_assert_ptr_null(T.v[0].names[2]);
	ck_assert_uint_eq(T.v[0].name_cols[0], 9);
	ck_assert_uint_eq(T.v[0].name_cols[1], 16);
	assert_entry(1, TPL_GROUP, NULL, "/etc/g");
	ck_assert_str_eq(T.v[1].names[0], "root");
	ck_assert_int_eq(parse("$GROUP /a /b"), -1);
	assert_only_diag(false, 1, 11, "unexpected '/b': '$GROUP' takes one destination");
	ck_assert_int_eq(parse("$PASSWD,ro-bind"), -1);
	assert_only_diag(false, 1, 9, "'$PASSWD' takes no command (got 'ro-bind')");
	ck_assert_int_eq(parse("$PASSWD a:b"), -1);
	assert_only_diag(false, 1, 9, "invalid user name 'a:b'");
}
END_TEST

START_TEST(exclusions)
{
	ck_assert_int_eq(parse("/usr,ro-bind\n!/usr/x\n# c\n\n! /usr/y\n!rel\n"), 0);
	assert_clean();
	ck_assert_uint_eq(T.n, 4);
	assert_entry(1, TPL_EXCLUDE, NULL, "/usr/x");
	ck_assert_uint_eq(T.v[1].dst_col, 2);
	assert_entry(2, TPL_EXCLUDE, NULL, "/usr/y");
	ck_assert_uint_eq(T.v[2].dst_col, 3);
	assert_entry(3, TPL_EXCLUDE, NULL, "rel");

	ck_assert_int_eq(parse("!/a"), -1);
	assert_only_diag(false, 1, 1, "'!' with no preceding bind");
	ck_assert_int_eq(parse("/x,dir\n  !/x/y"), -1);
	assert_only_diag(false, 2, 3, "'!' with no preceding bind");
	ck_assert_int_eq(parse("/x,copy\n!/x/y"), -1);
	assert_only_diag(false, 2, 1, "'!' with no preceding bind");
	ck_assert_int_eq(parse("/a,bind\n!/a/b extra"), -1);
	assert_only_diag(false, 2, 7, "unexpected 'extra' after the path");
	ck_assert_int_eq(parse("/a,bind\n!"), -1);
	assert_only_diag(false, 2, 1, "'!' needs a path");
	/* after a broken bind line only that line has an error */
	ck_assert_int_eq(parse("/a /b ro-bind x\n!/b/c\n!/b/d"), -1);
	assert_only_diag(false, 1, 15, "unexpected 'x' after the command");
	/* a broken `!` line keeps the bind for the next ones */
	ck_assert_int_eq(parse("/a,bind\n!/a/.. \n!/a/c"), -1);
	ck_assert_uint_eq(D.nerrors, 1);
	ck_assert_uint_eq(T.n, 2);
}
END_TEST

START_TEST(nul_byte)
{
	static const char buf[] = "/usr,ro-bind\n/a\0b,bind\n/c";
	ck_assert_int_eq(tpl_parse_buffer(&T, "t.tpl", buf, sizeof buf - 1, &D), -1);
	assert_only_diag(false, 2, 3, "NUL byte in the line");
	ck_assert_uint_eq(T.n, 2);
}
END_TEST

START_TEST(parse_file_missing)
{
	ck_assert_int_eq(tpl_parse_file(&T, "/nonexistent/nscell.tpl", &D), -1);
	ck_assert_uint_eq(D.n, 1);
	ck_assert_str_eq(D.v[0].file, "/nonexistent/nscell.tpl");
	ck_assert_str_eq(D.v[0].msg, "cannot read template: No such file or directory");
}
END_TEST

START_TEST(default_template_parses)
{
	ck_assert_int_eq(tpl_parse_default(&T, &D), 0);
	assert_clean();
	ck_assert(T.builtin);
	ck_assert_str_eq(T.file, "built-in");
	ck_assert_uint_gt(T.n, 20);
	assert_entry(0, TPL_TMP, NULL, "/tmp");
}
END_TEST

START_TEST(data_templates_use_every_command)
{
	bool seen[TPL_NCMDS] = { false };
	for (int i = 1; i <= 3; i++) {
		char path[4200];
		struct tpl t;
		struct diags d;
		tpl_init(&t);
		diags_init(&d);
		snprintf(path, sizeof path, "%s/tests/data/templates/all%d.tpl", srcdir(), i);
		ck_assert_msg(tpl_parse_file(&t, path, &d) == 0, "%s", path);
		ck_assert_uint_eq(d.n, 0);
		ck_assert_str_eq(t.file, path);
		for (size_t j = 0; j < t.n; j++) {
			seen[t.v[j].cmd] = true;
			ck_assert_ptr_eq(t.v[j].file, t.file);
		}
		tpl_free(&t);
		diags_free(&d);
	}
	for (int c = 0; c < TPL_NCMDS; c++)
		ck_assert_msg(seen[c], "%s not used in all*.tpl", tpl_cmd_name(c));
}
END_TEST

/* Parse (and when that passes, resolve for root with sources checked):
 * the number of diagnostics. */
static size_t diagnose(const char *name, const char *buf, size_t len)
{
	struct tpl t;
	struct diags d;
	tpl_init(&t);
	diags_init(&d);
	if (tpl_parse_buffer(&t, name, buf, len, &d) == 0) {
		struct plan p;
		plan_init(&p);
		nscell_error_t err;
		ck_assert_int_eq(identity_lookup(&p.id, "root", &err), 0);
		const struct tpl *tpls[] = { &t };
		struct resolve_opts o = { .check_sources = true };
		plan_resolve(&p, tpls, 1, &o, &d);
		plan_free(&p);
	}
	size_t n = d.n;
	for (size_t i = 0; i < d.n; i++) {
		ck_assert_ptr_nonnull(d.v[i].msg);
		ck_assert_str_eq(d.v[i].file, name);
	}
	tpl_free(&t);
	diags_free(&d);
	return n;
}

START_TEST(malformed_corpus)
{
	char dirpath[4200], path[4600];
	snprintf(dirpath, sizeof dirpath, "%s/tests/data/malformed", srcdir());
	DIR *dir = opendir(dirpath);
	ck_assert_msg(dir != NULL, "%s", dirpath);
	size_t cases = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dirpath, de->d_name);
		FILE *f = fopen(path, "rb");
		ck_assert_ptr_nonnull(f);
		char *buf = NULL;
		size_t size = 0;
		FILE *mem = open_memstream(&buf, &size);
		char chunk[4096];
		size_t got;
		while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
			fwrite(chunk, 1, got, mem);
		fclose(f);
		fclose(mem);
		if (strcmp(de->d_name, "cases.txt") == 0) {
			/* one case a line */
			unsigned lineno = 0;
			for (char *line = buf, *next; line && *line; line = next) {
				next = strchr(line, '\n');
				if (next)
					*next++ = '\0';
				lineno++;
				if (line[0] == '#')
					continue;
				char name[64];
				snprintf(name, sizeof name, "cases.txt:%u", lineno);
				ck_assert_msg(diagnose(name, line, strlen(line)) > 0,
					      "no diagnostic for %s: %s", name, line);
				cases++;
			}
		} else {
			ck_assert_msg(diagnose(de->d_name, buf, size) > 0, "no diagnostic for %s",
				      de->d_name);
			cases++;
		}
		free(buf);
	}
	closedir(dir);
	ck_assert_uint_gt(cases, 60);
}
END_TEST

START_TEST(cmd_names)
{
	ck_assert_str_eq(tpl_cmd_name(TPL_RO_BIND_TRY), "ro-bind-try");
	ck_assert_str_eq(tpl_cmd_name(TPL_PASSWD), "$PASSWD");
	ck_assert_str_eq(tpl_cmd_name(TPL_EXCLUDE), "!");
	ck_assert_str_eq(tpl_cmd_name((enum tpl_cmd)99), "?");
	ck_assert(tpl_cmd_is_bind(TPL_DEV_BIND_TRY));
	ck_assert(!tpl_cmd_is_bind(TPL_COPY));
}
END_TEST

static Suite *template_suite(void)
{
	Suite *s = suite_create("template");
	TCase *t = tcase_create("template");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, every_command);
	tcase_add_test(t, default_command);
	tcase_add_test(t, separators_and_columns);
	tcase_add_test(t, quoting);
	tcase_add_test(t, unbalanced_quote);
	tcase_add_test(t, empty_path);
	tcase_add_test(t, comments_and_blanks);
	tcase_add_test(t, crlf_and_no_final_newline);
	tcase_add_test(t, too_many_tokens);
	tcase_add_test(t, bare_command);
	tcase_add_test(t, symlink_needs_two_paths);
	tcase_add_test(t, single_path_commands_ignore_source);
	tcase_add_test(t, hostname_too_long);
	tcase_add_test(t, bwrap_noops_warn);
	tcase_add_test(t, identity_options_are_errors);
	tcase_add_test(t, unknown_command);
	tcase_add_test(t, relative_source);
	tcase_add_test(t, dotdot_refused);
	tcase_add_test(t, symbols_checked);
	tcase_add_test(t, generated_files);
	tcase_add_test(t, exclusions);
	tcase_add_test(t, nul_byte);
	tcase_add_test(t, parse_file_missing);
	tcase_add_test(t, default_template_parses);
	tcase_add_test(t, data_templates_use_every_command);
	tcase_add_test(t, malformed_corpus);
	tcase_add_test(t, cmd_names);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(template_suite)
