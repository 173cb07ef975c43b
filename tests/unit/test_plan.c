/* Unit tests for translate/plan.c: construction, ordering, release. */
#include <string.h>

#include "tests/unit/unit.h"
#include "translate/plan.h"

static struct plan_mount *add(struct plan *p, enum plan_op op, const char *dst, unsigned line)
{
	struct plan_origin o = { "t.conf", line, 1 };
	return plan_add_mount(p, op, 0, "/src", dst, 0, &o);
}

START_TEST(sort_parents_before_children)
{
	struct plan p;
	plan_init(&p);
	add(&p, PLAN_BIND, "/usr/lib", 1);
	add(&p, PLAN_REMOUNT_RO, "/usr", 2);
	add(&p, PLAN_BIND, "/usr", 3);
	add(&p, PLAN_BIND, "/usr-local", 4);
	add(&p, PLAN_DIR, "/", 5);
	add(&p, PLAN_MASK, "/usr/lib/secret", 6);
	plan_sort(&p);
	const char *want[] = { "/", "/usr", "/usr/lib", "/usr/lib/secret", "/usr-local", "/usr" };
	ck_assert_uint_eq(p.nmounts, 6);
	for (size_t i = 0; i < 6; i++)
		ck_assert_str_eq(p.mounts[i].dst, want[i]);
	ck_assert_int_eq(p.mounts[5].op, PLAN_REMOUNT_RO);
	plan_free(&p);
}
END_TEST

START_TEST(sort_is_stable)
{
	struct plan p;
	plan_init(&p);
	for (unsigned i = 1; i <= 40; i++)
		add(&p, i % 2 ? PLAN_REMOUNT_RO : PLAN_BIND, i % 3 ? "/b" : "/a", i);
	plan_sort(&p);
	unsigned last_line = 0;
	const char *last_dst = "";
	int last_rank = 0;
	for (size_t i = 0; i < p.nmounts; i++) {
		struct plan_mount *m = &p.mounts[i];
		int rank = m->op == PLAN_REMOUNT_RO;
		if (rank == last_rank && (rank || strcmp(m->dst, last_dst) == 0))
			ck_assert_uint_gt(m->origin.line, last_line);
		ck_assert_int_ge(rank, last_rank);
		last_line = m->origin.line;
		last_dst = m->dst;
		last_rank = rank;
	}
	plan_free(&p);
}
END_TEST

START_TEST(intern_and_origin)
{
	struct plan p;
	plan_init(&p);
	struct plan_mount *a = add(&p, PLAN_BIND, "/a", 3);
	struct plan_mount *b = add(&p, PLAN_BIND, "/b", 4);
	ck_assert_ptr_eq(p.mounts[0].origin.file, p.mounts[1].origin.file);
	ck_assert_uint_eq(p.nfiles, 1);
	(void)a;
	(void)b;
	char buf[64];
	ck_assert_str_eq(plan_origin_str(&p.mounts[0].origin, buf, sizeof buf), "t.conf:3:1");
	struct plan_origin none = { 0 };
	ck_assert_str_eq(plan_origin_str(&none, buf, sizeof buf), "built-in");
	plan_free(&p);
}
END_TEST

START_TEST(find_remove_data)
{
	struct plan p;
	plan_init(&p);
	add(&p, PLAN_BIND, "/a", 1);
	struct plan_mount *f = add(&p, PLAN_FILE, "/etc/passwd", 2);
	ck_assert_int_eq(plan_mount_set_data(f, "root:x:0:0::/:/bin/sh\n", 22), 0);
	add(&p, PLAN_BIND, "/c", 3);
	ck_assert_ptr_nonnull(plan_find_dst(&p, "/etc/passwd"));
	ck_assert_uint_eq(plan_find_dst(&p, "/etc/passwd")->len, 22);
	plan_remove_mount(&p, 0);
	ck_assert_ptr_null(plan_find_dst(&p, "/a"));
	ck_assert_str_eq(p.mounts[0].dst, "/etc/passwd");
	ck_assert_str_eq(p.mounts[1].dst, "/c");
	plan_free(&p);
}
END_TEST

START_TEST(op_names_round_trip)
{
	for (int op = PLAN_BIND; op <= PLAN_REMOUNT_RO; op++) {
		enum plan_op back;
		ck_assert_int_eq(plan_op_from_name(plan_op_name(op), &back), 0);
		ck_assert_int_eq(back, op);
	}
	enum plan_op x;
	ck_assert_int_eq(plan_op_from_name("nonsense", &x), -1);
}
END_TEST

START_TEST(strv)
{
	char *v[] = { "a", "bb", NULL };
	char **d = plan_strv_dup(v);
	ck_assert_uint_eq(plan_strv_len(d), 2);
	ck_assert_str_eq(d[1], "bb");
	plan_strv_free(d);
	ck_assert_ptr_null(plan_strv_dup(NULL));
}
END_TEST

static Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *t = tcase_create("plan");
	tcase_add_test(t, sort_parents_before_children);
	tcase_add_test(t, sort_is_stable);
	tcase_add_test(t, intern_and_origin);
	tcase_add_test(t, find_remove_data);
	tcase_add_test(t, op_names_round_trip);
	tcase_add_test(t, strv);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(plan_suite)
