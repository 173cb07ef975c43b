/* Unit tests for translate/lexer.c: separators, quotes, comments, the
 * column of every token and of every byte in it, lexing errors, and
 * reading a template file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "translate/lexer.h"

static struct tpl_tokens K;
static struct diags D;

static void setup(void)
{
	memset(&K, 0, sizeof K);
	diags_init(&D);
}

static void teardown(void)
{
	tpl_tokens_free(&K);
	diags_free(&D);
}

static int lex(const char *line)
{
	tpl_tokens_clear(&K);
	diags_free(&D);
	return tpl_lex_line(&K, line, strlen(line), &D, "t.tpl", 7);
}

static void assert_token(size_t i, const char *s, unsigned col, bool quoted)
{
	ck_assert_uint_lt(i, K.n);
	ck_assert_str_eq(K.v[i].s, s);
	ck_assert_uint_eq(K.v[i].col, col);
	ck_assert_int_eq(tpl_tok_quoted(&K.v[i]), quoted);
}

static void assert_only_error(unsigned col, const char *msg)
{
	ck_assert_uint_eq(D.n, 1);
	ck_assert_uint_eq(D.nerrors, 1);
	ck_assert_int_eq(D.v[0].warning, false);
	ck_assert_str_eq(D.v[0].file, "t.tpl");
	ck_assert_uint_eq(D.v[0].line, 7);
	ck_assert_uint_eq(D.v[0].col, col);
	ck_assert_str_eq(D.v[0].msg, msg);
}

START_TEST(separators)
{
	/* space, tab, comma, CR, VT, FF, in any number and mix */
	ck_assert_int_eq(lex("/a /b,bind"), 0);
	ck_assert_uint_eq(K.n, 3);
	assert_token(0, "/a", 1, false);
	assert_token(1, "/b", 4, false);
	assert_token(2, "bind", 7, false);

	ck_assert_int_eq(lex(" \t,/a,, \r\v\f/b\r"), 0);
	ck_assert_uint_eq(K.n, 2);
	assert_token(0, "/a", 4, false);
	assert_token(1, "/b", 12, false);
	ck_assert_uint_eq(D.n, 0);
}
END_TEST

START_TEST(blank_lines)
{
	ck_assert_int_eq(lex(""), 0);
	ck_assert_uint_eq(K.n, 0);
	ck_assert_int_eq(lex(" \t , \r"), 0);
	ck_assert_uint_eq(K.n, 0);
	ck_assert_uint_eq(D.n, 0);
}
END_TEST

START_TEST(comments)
{
	ck_assert_int_eq(lex("# all of it"), 0);
	ck_assert_uint_eq(K.n, 0);
	ck_assert_int_eq(lex("   #indented"), 0);
	ck_assert_uint_eq(K.n, 0);
	/* at the start of a token, after a separator */
	ck_assert_int_eq(lex("/a,bind # \"unbalanced is fine here"), 0);
	ck_assert_uint_eq(K.n, 2);
	ck_assert_int_eq(lex("/a,#bind"), 0);
	ck_assert_uint_eq(K.n, 1);
	/* inside a token it is an ordinary character */
	ck_assert_int_eq(lex("/a#b /c#"), 0);
	ck_assert_uint_eq(K.n, 2);
	assert_token(0, "/a#b", 1, false);
	assert_token(1, "/c#", 6, false);
	/* and inside quotes, or right after them */
	ck_assert_int_eq(lex("\"# not\"#either"), 0);
	ck_assert_uint_eq(K.n, 1);
	assert_token(0, "# not#either", 1, true);
	ck_assert_uint_eq(D.n, 0);
}
END_TEST

START_TEST(quotes)
{
	ck_assert_int_eq(lex("\"/srv/my site\" '/var/w, w',bind"), 0);
	ck_assert_uint_eq(K.n, 3);
	assert_token(0, "/srv/my site", 1, true);
	assert_token(1, "/var/w, w", 16, true);
	assert_token(2, "bind", 28, false);
	/* the other kind of quote is an ordinary character inside */
	ck_assert_int_eq(lex("\"it's\" 'say \"hi\"'"), 0);
	assert_token(0, "it's", 1, true);
	assert_token(1, "say \"hi\"", 8, true);
	/* text after the closing quote joins the token; a quote later in a
	 * token is ordinary (LiteSpeed does the same) */
	ck_assert_int_eq(lex("\"/a b\"/c /d\"e /f'"), 0);
	ck_assert_uint_eq(K.n, 3);
	assert_token(0, "/a b/c", 1, true);
	assert_token(1, "/d\"e", 10, false);
	assert_token(2, "/f'", 15, false);
	/* an empty quoted token is a token */
	ck_assert_int_eq(lex("'' x"), 0);
	ck_assert_uint_eq(K.n, 2);
	assert_token(0, "", 1, true);
	ck_assert_uint_eq(D.n, 0);
}
END_TEST

START_TEST(byte_columns)
{
	/* unquoted: byte i is at col + i */
	ck_assert_int_eq(lex("  /ab"), 0);
	ck_assert_uint_eq(tpl_tok_col(&K.v[0], 0), 3);
	ck_assert_uint_eq(tpl_tok_col(&K.v[0], 2), 5);
	/* quoted: one past the opening quote, two past it after the close */
	ck_assert_int_eq(lex(" \"/a\"b$X"), 0);
	ck_assert_str_eq(K.v[0].s, "/ab$X");
	ck_assert_uint_eq(K.v[0].qlen, 2);
	ck_assert_uint_eq(tpl_tok_col(&K.v[0], 0), 3);  /* '/' */
	ck_assert_uint_eq(tpl_tok_col(&K.v[0], 1), 4);  /* 'a' */
	ck_assert_uint_eq(tpl_tok_col(&K.v[0], 2), 6);  /* 'b' */
	ck_assert_uint_eq(tpl_tok_col(&K.v[0], 3), 7);  /* '$' */
}
END_TEST

START_TEST(unbalanced_quote)
{
	ck_assert_int_eq(lex("/a \"/b c,bind"), -1);
	assert_only_error(4, "unbalanced quote \"");
	/* the tokens before the error are kept, for the caller to clear */
	ck_assert_uint_eq(K.n, 1);
	assert_token(0, "/a", 1, false);
	ck_assert_int_eq(lex("'/x\""), -1);
	assert_only_error(1, "unbalanced quote '");
}
END_TEST

START_TEST(nul_byte)
{
	const char line[] = "/a /b\0c,bind";
	tpl_tokens_clear(&K);
	ck_assert_int_eq(tpl_lex_line(&K, line, sizeof line - 1, &D, "t.tpl", 7), -1);
	assert_only_error(6, "NUL byte in the line");
	ck_assert_uint_eq(K.n, 0);
}
END_TEST

START_TEST(append_clear_reuse)
{
	/* tokens append until cleared; the storage grows past its first size */
	const char *line = "1 2 3 4 5 6 7 8 9 10 11 12";
	ck_assert_int_eq(tpl_lex_line(&K, line, strlen(line), &D, "t.tpl", 1), 0);
	ck_assert_int_eq(tpl_lex_line(&K, "13", 2, &D, "t.tpl", 2), 0);
	ck_assert_uint_eq(K.n, 13);
	assert_token(12, "13", 1, false);
	assert_token(11, "12", 25, false);
	/* only len bytes are read */
	tpl_tokens_clear(&K);
	ck_assert_uint_eq(K.n, 0);
	ck_assert_int_eq(tpl_lex_line(&K, "/abc,bind", 3, &D, "t.tpl", 3), 0);
	ck_assert_uint_eq(K.n, 1);
	assert_token(0, "/ab", 1, false);
	ck_assert_uint_eq(D.n, 0);
}
END_TEST

START_TEST(read_file)
{
	char path[] = "/tmp/nscell-test-lexer-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	const char text[] = "/usr,ro-bind\n/a\0b\n";
	ck_assert_int_eq(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
	close(fd);

	char *buf = NULL;
	size_t len = 0;
	ck_assert_int_eq(tpl_read_file(path, &buf, &len, &D), 0);
	ck_assert_uint_eq(len, sizeof text - 1);
	ck_assert_int_eq(memcmp(buf, text, len), 0);
	free(buf);
	ck_assert_uint_eq(D.n, 0);

	/* an empty file is an empty template */
	ck_assert_int_eq(truncate(path, 0), 0);
	buf = NULL;
	ck_assert_int_eq(tpl_read_file(path, &buf, &len, &D), 0);
	ck_assert_uint_eq(len, 0);
	free(buf);
	unlink(path);

	ck_assert_int_eq(tpl_read_file(path, &buf, &len, &D), -1);
	ck_assert_uint_eq(D.nerrors, 1);
	ck_assert_str_eq(D.v[0].file, path);
	ck_assert_uint_eq(D.v[0].line, 0);
	ck_assert_str_eq(D.v[0].msg, "cannot read template: No such file or directory");

	ck_assert_int_eq(tpl_read_file("/", &buf, &len, &D), -1);
	ck_assert_uint_eq(D.nerrors, 2);
	ck_assert_str_eq(D.v[1].msg, "cannot read template: not a regular file");
}
END_TEST

static Suite *lexer_suite(void)
{
	Suite *s = suite_create("lexer");
	TCase *t = tcase_create("lexer");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, separators);
	tcase_add_test(t, blank_lines);
	tcase_add_test(t, comments);
	tcase_add_test(t, quotes);
	tcase_add_test(t, byte_columns);
	tcase_add_test(t, unbalanced_quote);
	tcase_add_test(t, nul_byte);
	tcase_add_test(t, append_clear_reuse);
	tcase_add_test(t, read_file);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(lexer_suite)
