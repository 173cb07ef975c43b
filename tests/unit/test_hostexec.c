/* Unit tests for hostexec/protocol.c (the request and reply a client and
 * the listener exchange) and the environment policy of hostexec/policy.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostexec/daemon.h"
#include "hostexec/protocol.h"
#include "tests/unit/unit.h"

/* encode, then split into header and strings as the listener reads them */
static char *encode(const char *program, char *const *argv, char *const *env,
		    struct hx_request_header *h)
{
	nscell_error_t err = { 0 };
	char *buf;
	size_t len;
	ck_assert_msg(hx_request_encode(program, argv, env, &buf, &len, &err) == 0, "%s", err.msg);
	ck_assert_uint_ge(len, sizeof *h);
	memcpy(h, buf, sizeof *h);
	ck_assert_uint_eq(len, sizeof *h + h->len);
	memmove(buf, buf + sizeof *h, h->len);
	return buf;
}

static int decode(struct hx_request_header *h, char *data, struct hx_request *req, char *msg)
{
	nscell_error_t err = { 0 };
	int r = hx_request_decode(h, data, req, &err);
	if (msg)
		snprintf(msg, 256, "%s", err.msg);
	return r;
}

START_TEST(round_trip)
{
	char *argv[] = { "sendmail", "-t", "", "-f x@y", NULL };
	char *env[] = { "A=1", "LD_PRELOAD=/x.so", "EMPTY=", NULL };
	struct hx_request_header h;
	char *data = encode("/usr/sbin/sendmail", argv, env, &h);
	ck_assert_uint_eq(h.magic, HX_MAGIC);
	ck_assert_uint_eq(h.argc, 4);
	ck_assert_uint_eq(h.envc, 3);
	struct hx_request req;
	ck_assert_int_eq(decode(&h, data, &req, NULL), 0);
	ck_assert_str_eq(req.program, "/usr/sbin/sendmail");
	for (int i = 0; argv[i]; i++)
		ck_assert_str_eq(req.argv[i], argv[i]);
	ck_assert_ptr_null(req.argv[4]);
	for (int i = 0; env[i]; i++)
		ck_assert_str_eq(req.env[i], env[i]);
	ck_assert_ptr_null(req.env[3]);
	hx_request_free(&req);
	free(data);
}
END_TEST

START_TEST(empty_environment)
{
	char *argv[] = { "x", NULL };
	struct hx_request_header h;
	char *data = encode("/bin/x", argv, NULL, &h);
	struct hx_request req;
	ck_assert_int_eq(decode(&h, data, &req, NULL), 0);
	ck_assert_uint_eq(req.envc, 0);
	ck_assert_ptr_null(req.env[0]);
	hx_request_free(&req);
	free(data);
}
END_TEST

START_TEST(encode_limits)
{
	nscell_error_t err = { 0 };
	char *buf = NULL;
	size_t len;
	char *none[] = { NULL };
	ck_assert_int_eq(hx_request_encode("/bin/x", none, NULL, &buf, &len, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "argv[0]"));
	char *big = malloc(HX_MAX_STRING + 1);
	memset(big, 'a', HX_MAX_STRING);
	big[HX_MAX_STRING] = '\0';
	char *argv[] = { "x", big, NULL };
	ck_assert_int_eq(hx_request_encode("/bin/x", argv, NULL, &buf, &len, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "longer than"));
	big[HX_MAX_STRING / 2] = '\0';
	char *many[] = { "x", big, big, big, big, NULL }; /* 4 x 64 KiB */
	ck_assert_int_eq(hx_request_encode("/bin/x", many, NULL, &buf, &len, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "more than"));
	free(big);
	ck_assert_ptr_null(buf);
}
END_TEST

START_TEST(bad_headers)
{
	nscell_error_t err = { 0 };
	struct hx_request_header good = { HX_MAGIC, HX_VERSION, 10, 1, 0 };
	ck_assert_int_eq(hx_request_check_header(&good, &err), 0);
	struct hx_request_header bad[] = {
		{ 0x41414141, HX_VERSION, 10, 1, 0 },       /* magic */
		{ HX_MAGIC, HX_VERSION + 1, 10, 1, 0 },     /* version */
		{ HX_MAGIC, HX_VERSION, 10, 0, 0 },         /* no argv[0] */
		{ HX_MAGIC, HX_VERSION, 10, HX_MAX_ARGS + 1, 0 },
		{ HX_MAGIC, HX_VERSION, 10, 1, HX_MAX_ARGS + 1 },
		{ HX_MAGIC, HX_VERSION, HX_MAX_BYTES + 1, 1, 0 },
		{ HX_MAGIC, HX_VERSION, 3, 1, 5 },          /* fewer bytes than strings */
		{ HX_MAGIC, HX_VERSION, 0xffffffffu, 1, 0 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		ck_assert_msg(hx_request_check_header(&bad[i], &err) == -1, "case %zu", i);
}
END_TEST

/* the header is right, the strings are not */
static void assert_refused(const char *bytes, size_t len, uint32_t argc, uint32_t envc,
			   const char *why)
{
	struct hx_request_header h = { HX_MAGIC, HX_VERSION, (uint32_t)len, argc, envc };
	char *data = malloc(len);
	memcpy(data, bytes, len);
	struct hx_request req;
	char msg[256];
	ck_assert_int_eq(decode(&h, data, &req, msg), -1);
	ck_assert_msg(strstr(msg, why), "'%s' lacks '%s'", msg, why);
	ck_assert_ptr_null(req.argv);
	free(data);
}

START_TEST(malformed_strings)
{
	assert_refused("/bin/x\0a\0b", 10, 1, 0, "NUL");         /* no final NUL */
	assert_refused("/bin/x\0a\0b\0", 11, 1, 0, "more strings");
	assert_refused("/bin/x\0a\0", 9, 1, 1, "strings, expected");
	assert_refused("bin/x\0a\0", 8, 1, 0, "absolute");
	assert_refused("\0a\0", 3, 1, 0, "absolute");
}
END_TEST

START_TEST(replies)
{
	nscell_error_t err = { 0 };
	struct hx_reply ok[] = {
		{ HX_MAGIC, HX_EXITED, 0, 0 }, { HX_MAGIC, HX_EXITED, 255, 0 },
		{ HX_MAGIC, HX_SIGNALED, 9, 0 }, { HX_MAGIC, HX_REFUSED, 77, HX_MAX_MESSAGE },
	};
	struct hx_reply bad[] = {
		{ 0, HX_EXITED, 0, 0 }, { HX_MAGIC, 0, 0, 0 }, { HX_MAGIC, 4, 0, 0 },
		{ HX_MAGIC, HX_EXITED, 256, 0 }, { HX_MAGIC, HX_EXITED, -1, 0 },
		{ HX_MAGIC, HX_SIGNALED, 0, 0 }, { HX_MAGIC, HX_REFUSED, 0, 0 },
		{ HX_MAGIC, HX_REFUSED, 77, HX_MAX_MESSAGE + 1 },
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		ck_assert_msg(hx_reply_check(&ok[i], &err) == 0, "ok case %zu: %s", i, err.msg);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		ck_assert_msg(hx_reply_check(&bad[i], &err) == -1, "bad case %zu", i);
}
END_TEST

START_TEST(environment_policy)
{
	const char *dropped[] = { "LD_PRELOAD=/x.so", "LD_LIBRARY_PATH=/x", "GLIBC_TUNABLES=a",
				  "BASH_ENV=/x", "ENV=/x", "IFS= ", "PYTHONPATH=/x",
				  "PYTHONSTARTUP=/x", "NODE_OPTIONS=--require /x", "PERL5LIB=/x",
				  "PERL5OPT=-d", "RUBYOPT=-r/x", "RUBYLIB=/x", "BASH_FUNC_ls%%=() { :; }",
				  "PATH=/home/u/bin", "HOME=/root", "noequals", "=value" };
	const char *kept[] = { "LANG=C.UTF-8", "TZ=UTC", "SERVER_NAME=example.com", "LDX=1",
			       "MY_LD_PRELOAD=1" };
	for (size_t i = 0; i < sizeof dropped / sizeof *dropped; i++)
		ck_assert_msg(hx_policy_env_unsafe(dropped[i]), "%s kept", dropped[i]);
	for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
		ck_assert_msg(!hx_policy_env_unsafe(kept[i]), "%s dropped", kept[i]);

	struct plan_identity id = { .user = "alice", .home = "/home/alice", .shell = "/bin/sh" };
	char *env[] = { "LANG=C", "LD_PRELOAD=/x.so", "HOME=/root", "USER=root", NULL };
	char **out = hx_policy_env(&id, env);
	ck_assert_ptr_nonnull(out);
	bool lang = false, home = false, path = false;
	for (size_t i = 0; out[i]; i++) {
		ck_assert_msg(strncmp(out[i], "LD_", 3) != 0, "%s", out[i]);
		ck_assert_str_ne(out[i], "USER=root");
		lang |= strcmp(out[i], "LANG=C") == 0;
		home |= strcmp(out[i], "HOME=/home/alice") == 0;
		path |= strncmp(out[i], "PATH=/", 6) == 0;
	}
	ck_assert(lang && home && path);
	plan_strv_free(out);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hostexec");
	TCase *t = tcase_create("protocol");
	tcase_add_test(t, round_trip);
	tcase_add_test(t, empty_environment);
	tcase_add_test(t, encode_limits);
	tcase_add_test(t, bad_headers);
	tcase_add_test(t, malformed_strings);
	tcase_add_test(t, replies);
	tcase_add_test(t, environment_policy);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(suite)
