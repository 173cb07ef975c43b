/* Unit tests for translate/identity_files.c: when nsswitch.conf lets the
 * files be read directly, and that reading them gives what NSS gives. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "translate/identity.h"
#include "translate/identity_files.h"
#include "translate/pwent.h"

static bool usable(const char *text)
{
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/nscell-nss.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	bool r = identity_files_usable(path);
	unlink(path);
	return r;
}

START_TEST(nsswitch_files_first)
{
	ck_assert(usable("passwd: files\ngroup: files\n"));
	ck_assert(usable("# Debian's default\npasswd:         files systemd\ngroup:  files systemd # x\n"));
	ck_assert(usable("hosts: dns files\n  passwd: files\ngroup:\tfiles\tsystemd\n"));
}
END_TEST

START_TEST(nsswitch_other_sources)
{
	ck_assert(!usable("passwd: files ldap\ngroup: files\n"));
	ck_assert(!usable("passwd: sss files\ngroup: files\n"));
	ck_assert(!usable("passwd: files\ngroup: files [NOTFOUND=return] ldap\n"));
	ck_assert(!usable("passwd: compat\ngroup: compat\n"));
	ck_assert(!usable("passwd: systemd files\ngroup: files\n"));
	/* a database not listed falls back to glibc's defaults */
	ck_assert(!usable("passwd: files\n"));
	ck_assert(!usable(""));
	ck_assert(!identity_files_usable("/nonexistent/nsswitch.conf"));
}
END_TEST

static int cmp_gid(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;
	return x < y ? -1 : x > y;
}

/* every user of /etc/passwd: the same identity from the files as from NSS */
START_TEST(files_agree_with_nss)
{
	FILE *f = fopen("/etc/passwd", "re");
	ck_assert_ptr_nonnull(f);
	struct passwd *pw;
	unsigned compared = 0;
	while ((pw = fgetpwent(f))) {
		struct plan_identity a, b;
		nscell_error_t ea = { 0 }, eb = { 0 };
		identity_set_database(IDENTITY_DB_NSS);
		int ra = identity_lookup(&a, pw->pw_name, &ea);
		identity_set_database(IDENTITY_DB_FILES);
		int rb = identity_lookup(&b, pw->pw_name, &eb);
		ck_assert_msg(ra == rb, "%s: nss %d (%s), files %d (%s)", pw->pw_name, ra, ea.msg, rb,
			      eb.msg);
		if (ra == 0) {
			ck_assert_str_eq(a.user, b.user);
			ck_assert_uint_eq(a.uid, b.uid);
			ck_assert_uint_eq(a.gid, b.gid);
			ck_assert_str_eq(a.group, b.group);
			ck_assert_str_eq(a.home, b.home);
			ck_assert_str_eq(a.shell, b.shell);
			ck_assert_uint_eq(a.ngroups, b.ngroups);
			qsort(a.groups, a.ngroups, sizeof *a.groups, cmp_gid);
			qsort(b.groups, b.ngroups, sizeof *b.groups, cmp_gid);
			for (size_t i = 0; i < a.ngroups; i++)
				ck_assert_uint_eq(a.groups[i], b.groups[i]);
			identity_free(&a);
			identity_free(&b);
			compared++;
		}
	}
	fclose(f);
	identity_set_database(IDENTITY_DB_AUTO);
	ck_assert_uint_gt(compared, 0);
}
END_TEST

START_TEST(files_by_id_and_unknown)
{
	identity_set_database(IDENTITY_DB_FILES);
	struct plan_identity id;
	nscell_error_t err = { 0 };
	ck_assert_int_eq(identity_lookup(&id, "0", &err), 0); /* a number: by uid */
	ck_assert_str_eq(id.user, "root");
	identity_free(&id);
	ck_assert_int_eq(identity_lookup(&id, "nscell-no-such-user", &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "unknown user 'nscell-no-such-user'"));
	ck_assert_int_eq(identity_user_exists("root", &err), 1);
	ck_assert_int_eq(identity_group_exists("root", &err), 1);
	ck_assert_int_eq(identity_group_exists("nscell-no-such-group", &err), 0);
	identity_set_database(IDENTITY_DB_AUTO);
}
END_TEST

/* ---- pwent.h (musl's stand-in for fgetpwent_r): fgetpwent's entry,
 * copied, is what glibc's fgetpwent_r gives, entry for entry ---- */

static FILE *db(const char *text)
{
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	rewind(f);
	return f;
}

static const char passwd_text[] =
	"root:x:0:0:root:/root:/bin/bash\n"
	"web1:x:1001:1001:Web One,,,:/home/web1:/bin/sh\n"
	"empty::1002:1002:::\n"
	"long:x:1003:1003:a rather long gecos field for a small buffer:/home/long:/bin/sh\n";

START_TEST(pwent_users_as_glibc)
{
	FILE *a = db(passwd_text), *b = db(passwd_text);
	char ba[512], bb[512];
	struct passwd ea, eb, *ra;
	const struct passwd *p;
	int n = 0;
	while (fgetpwent_r(a, &ea, ba, sizeof ba, &ra) == 0 && (p = fgetpwent(b))) {
		ck_assert_int_eq(pwent_copy_user(&eb, p, bb, sizeof bb), 0);
		ck_assert_str_eq(eb.pw_name, ea.pw_name);
		ck_assert_str_eq(eb.pw_passwd, ea.pw_passwd);
		ck_assert_int_eq(eb.pw_uid, ea.pw_uid);
		ck_assert_int_eq(eb.pw_gid, ea.pw_gid);
		ck_assert_str_eq(eb.pw_gecos, ea.pw_gecos);
		ck_assert_str_eq(eb.pw_dir, ea.pw_dir);
		ck_assert_str_eq(eb.pw_shell, ea.pw_shell);
		ck_assert(eb.pw_name >= bb && eb.pw_shell < bb + sizeof bb); /* in the caller's buffer */
		n++;
	}
	ck_assert_int_eq(n, 4);
	ck_assert_ptr_null(fgetpwent(b));
	fclose(a);
	fclose(b);
}
END_TEST

START_TEST(pwent_user_too_long_is_erange)
{
	FILE *f = db(passwd_text);
	char small[32], big[256];
	struct passwd e;
	const struct passwd *p = fgetpwent(f);
	ck_assert_int_eq(pwent_copy_user(&e, p, small, sizeof small), 0); /* root fits */
	p = fgetpwent(f);
	ck_assert_int_eq(pwent_copy_user(&e, p, small, sizeof small), ERANGE);
	ck_assert_int_eq(pwent_copy_user(&e, p, NULL, 0), ERANGE);
	/* copied again with room: the same entry, nothing read twice */
	ck_assert_int_eq(pwent_copy_user(&e, p, big, sizeof big), 0);
	ck_assert_str_eq(e.pw_gecos, "Web One,,,");
	fclose(f);
}
END_TEST

static const char group_text[] =
	"root:x:0:\n"
	"www:x:33:web1,web2,web3\n"
	"solo:*:40:web1\n";

START_TEST(pwent_groups_as_glibc)
{
	FILE *a = db(group_text), *b = db(group_text);
	char ba[512], bb[512];
	struct group ea, eb, *ra;
	const struct group *g;
	int n = 0;
	while (fgetgrent_r(a, &ea, ba, sizeof ba, &ra) == 0 && (g = fgetgrent(b))) {
		/* an odd start: the member pointers must still be aligned */
		ck_assert_int_eq(pwent_copy_group(&eb, g, bb + 1, sizeof bb - 1), 0);
		ck_assert_str_eq(eb.gr_name, ea.gr_name);
		ck_assert_str_eq(eb.gr_passwd, ea.gr_passwd);
		ck_assert_int_eq(eb.gr_gid, ea.gr_gid);
		ck_assert_int_eq((uintptr_t)eb.gr_mem % sizeof(char *), 0);
		size_t i = 0;
		for (; ea.gr_mem[i]; i++)
			ck_assert_str_eq(eb.gr_mem[i], ea.gr_mem[i]);
		ck_assert_ptr_null(eb.gr_mem[i]);
		n++;
	}
	ck_assert_int_eq(n, 3);
	ck_assert_ptr_null(fgetgrent(b));
	/* three members do not fit in 40 bytes, nor anything in none */
	rewind(b);
	g = fgetgrent(b);
	g = fgetgrent(b);
	ck_assert_str_eq(g->gr_name, "www");
	ck_assert_int_eq(pwent_copy_group(&eb, g, bb, 40), ERANGE);
	ck_assert_int_eq(pwent_copy_group(&eb, g, NULL, 0), ERANGE);
	fclose(a);
	fclose(b);
}
END_TEST

static Suite *identity_suite(void)
{
	Suite *s = suite_create("identity");
	TCase *tc = tcase_create("files");
	tcase_add_test(tc, nsswitch_files_first);
	tcase_add_test(tc, nsswitch_other_sources);
	tcase_add_test(tc, files_agree_with_nss);
	tcase_add_test(tc, files_by_id_and_unknown);
	tcase_add_test(tc, pwent_users_as_glibc);
	tcase_add_test(tc, pwent_user_too_long_is_erange);
	tcase_add_test(tc, pwent_groups_as_glibc);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(identity_suite)
