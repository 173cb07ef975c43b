/* Unit tests for shim/state.c: entry names, records, the directory's
 * checks, the lock, and telling a keeper from a process that took its pid. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/state.h"
#include "tests/unit/unit.h"

static char dir[64];
static int dirfd_;

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/nscell-test-state.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	chmod(dir, 0700);
	nscell_error_t err = { 0 };
	dirfd_ = state_dir_open(dir, false, &err);
	ck_assert_msg(dirfd_ >= 0, "%s", err.msg);
}

static void teardown(void)
{
	char cmd[128];
	close(dirfd_);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct state_rec sample(void)
{
	struct state_rec r;
	memset(&r, 0, sizeof r);
	r.keeper = getpid();
	ck_assert_int_eq(state_proc_start(getpid(), &r.start, NULL, 0), 0);
	snprintf(r.boot, sizeof r.boot, "%s", state_boot_id());
	r.created = 1700000000;
	snprintf(r.hash, sizeof r.hash, "0123456789abcdef");
	snprintf(r.user, sizeof r.user, "alice\nkeeper=1");
	r.uid = 1001;
	snprintf(r.vhost, sizeof r.vhost, "example.com");
	r.ns = 0x7e020000;
	r.rootless = true;
	snprintf(r.cwd, sizeof r.cwd, "/home/alice");
	return r;
}

START_TEST(entry_names)
{
	char buf[STATE_NAME_MAX];
	ck_assert_int_eq(state_entry_name(1001, NULL, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "1001");
	ck_assert_int_eq(state_entry_name(1001, "example.com", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "1001@example.com");
	/* a vhost cannot climb out or hide: '/' and a leading '.' are escaped */
	ck_assert_int_eq(state_entry_name(7, "../x/y z", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "7@%2E.%2Fx%2Fy%20z");
	ck_assert_int_eq(state_entry_name(7, "a.b", buf, 6), 0); /* "7@a.b" and its NUL */
	ck_assert_int_eq(state_entry_name(7, "a.b", buf, 5), -1);
}
END_TEST

START_TEST(record_round_trip)
{
	nscell_error_t err = { 0 };
	struct state_rec w = sample(), r;
	ck_assert_int_eq(state_read(dirfd_, "1001", STATE_FILE, &r, &err), 1); /* no entry */
	ck_assert_int_eq(mkdirat(dirfd_, "1001", 0700), 0);
	ck_assert_int_eq(state_read(dirfd_, "1001", STATE_FILE, &r, &err), 1); /* no record */
	ck_assert_int_eq(state_write(dirfd_, "1001", &w, &err), 0);
	ck_assert_int_eq(state_read(dirfd_, "1001", STATE_FILE, &r, &err), 0);
	ck_assert_int_eq(r.keeper, w.keeper);
	ck_assert(r.start == w.start);
	ck_assert_str_eq(r.boot, w.boot);
	ck_assert(r.created == w.created);
	ck_assert_str_eq(r.hash, w.hash);
	/* a newline in a name cannot add a line (a forged keeper=) */
	ck_assert_str_eq(r.user, "alice?keeper=1");
	ck_assert_uint_eq(r.uid, 1001);
	ck_assert_str_eq(r.vhost, "example.com");
	ck_assert_uint_eq(r.ns, 0x7e020000);
	ck_assert(r.rootless);
	ck_assert_str_eq(r.cwd, "/home/alice");
	struct stat st;
	ck_assert_int_eq(fstatat(dirfd_, "1001/" STATE_FILE, &st, 0), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(fstatat(dirfd_, "1001/" STATE_TMP, &st, 0), -1);
}
END_TEST

START_TEST(malformed_records)
{
	nscell_error_t err = { 0 };
	struct state_rec r;
	static const char *const bad[] = {
		"", "garbage\n", "keeper=12x\nstart=1\nboot=b\nhash=h\nuid=1\nns=0\n",
		"keeper=1\nstart=1\nboot=b\nhash=h\nuid=1\nns=0\n", /* pid 1 is no keeper */
		"start=1\nboot=b\nhash=h\nuid=1\nns=0\n",
	};
	ck_assert_int_eq(mkdirat(dirfd_, "9", 0700), 0);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int fd = openat(dirfd_, "9/" STATE_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, bad[i], strlen(bad[i])), (ssize_t)strlen(bad[i]));
		close(fd);
		ck_assert_msg(state_read(dirfd_, "9", STATE_FILE, &r, &err) == -1, "accepted: %s", bad[i]);
	}
	/* a symlink is not followed */
	ck_assert_int_eq(unlinkat(dirfd_, "9/" STATE_FILE, 0), 0);
	ck_assert_int_eq(symlinkat("/etc/passwd", dirfd_, "9/" STATE_FILE), 0);
	ck_assert_int_eq(state_read(dirfd_, "9", STATE_FILE, &r, &err), -1);
}
END_TEST

START_TEST(retire_and_remove)
{
	nscell_error_t err = { 0 };
	struct state_rec w = sample();
	int lock = state_lock(dirfd_, "5", LOCK_EX, true, 0, NULL, NULL, &err);
	ck_assert_msg(lock >= 0, "%s", err.msg);
	ck_assert_int_eq(state_write(dirfd_, "5", &w, &err), 0);
	ck_assert_int_eq(state_retire(dirfd_, "5", &w, &err), 0);
	char **recs = state_records(dirfd_, "5", &err);
	char want[32];
	snprintf(want, sizeof want, STATE_RETIRED "%d", (int)w.keeper);
	ck_assert_ptr_nonnull(recs);
	ck_assert_str_eq(recs[0], want);
	ck_assert_ptr_null(recs[1]);
	state_records_free(recs);
	ck_assert_int_eq(state_remove_entry(dirfd_, "5"), 1); /* a record is left */
	ck_assert_int_eq(state_unlink(dirfd_, "5", want), 0);
	ck_assert_int_eq(state_remove_entry(dirfd_, "5"), 0);
	ck_assert_int_eq(faccessat(dirfd_, "5", F_OK, 0), -1);
	close(lock);
}
END_TEST

START_TEST(lock_waits_and_follows_a_new_file)
{
	nscell_error_t err = { 0 };
	int a = state_lock(dirfd_, "6", LOCK_EX, true, 0, NULL, NULL, &err);
	ck_assert_int_ge(a, 0);
	/* held: a shared lock does not come within 50 ms */
	ck_assert_int_eq(state_lock(dirfd_, "6", LOCK_SH, true, 50, NULL, NULL, &err), -1);
	ck_assert_int_eq(err.errnum, EWOULDBLOCK);
	/* the entry removed under the lock: the next locker gets a fresh one */
	ck_assert_int_eq(state_remove_entry(dirfd_, "6"), 0);
	int b = state_lock(dirfd_, "6", LOCK_SH, true, 0, NULL, NULL, &err);
	ck_assert_msg(b >= 0, "%s", err.msg);
	struct stat sa, sb;
	ck_assert_int_eq(fstat(a, &sa), 0);
	ck_assert_int_eq(fstat(b, &sb), 0);
	ck_assert(sa.st_ino != sb.st_ino || sa.st_nlink == 0);
	close(a);
	close(b);
	/* without create, a missing entry is ENOENT */
	ck_assert_int_eq(state_lock(dirfd_, "nope", LOCK_SH, false, 0, NULL, NULL, &err), -1);
	ck_assert_int_eq(err.errnum, ENOENT);
}
END_TEST

START_TEST(directory_checks)
{
	nscell_error_t err = { 0 };
	char sub[128];
	snprintf(sub, sizeof sub, "%s/made", dir);
	int fd = state_dir_open(sub, true, &err);
	ck_assert_msg(fd >= 0, "%s", err.msg);
	close(fd);
	struct stat st;
	ck_assert_int_eq(stat(sub, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(chmod(sub, 0777), 0);
	ck_assert_int_eq(state_dir_open(sub, false, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "writable by group or others"));
	ck_assert_int_eq(chmod(sub, 0755), 0);
	fd = state_dir_open(sub, false, &err);
	if (geteuid() == 0) {
		ck_assert_int_ge(fd, 0); /* root's may be readable by others */
		close(fd);
	} else {
		ck_assert_int_eq(fd, -1); /* a user's must be 0700 */
	}
	snprintf(sub, sizeof sub, "%s/missing", dir);
	ck_assert_int_eq(state_dir_open(sub, false, &err), -1);
	ck_assert_int_eq(err.errnum, ENOENT);
}
END_TEST

START_TEST(keeper_identity)
{
	const char *why = NULL;
	struct state_rec r = sample();
	char comm[32];
	unsigned long long start;
	ck_assert_int_eq(state_proc_start(getpid(), &start, comm, sizeof comm), 0);
	ck_assert(start == r.start);
	ck_assert_str_eq(comm, "test_state");
	int fd = state_keeper_open(&r, &why);
	ck_assert_msg(fd >= 0, "%s", why);
	close(fd);
	r.start++; /* another process under the same pid */
	ck_assert_int_eq(state_keeper_open(&r, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "another process"));
	r = sample();
	snprintf(r.boot, sizeof r.boot, "not-this-boot");
	ck_assert_int_eq(state_keeper_open(&r, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "reboot"));
	r = sample();
	r.keeper = 0x3ffffff0; /* no such pid */
	ck_assert_int_eq(state_keeper_open(&r, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "not running"));
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *t = tcase_create("state");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, entry_names);
	tcase_add_test(t, record_round_trip);
	tcase_add_test(t, malformed_records);
	tcase_add_test(t, retire_and_remove);
	tcase_add_test(t, lock_waits_and_follows_a_new_file);
	tcase_add_test(t, directory_checks);
	tcase_add_test(t, keeper_identity);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(state_suite)
