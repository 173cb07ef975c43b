/* Unit tests for translate/plan_codec.c and translate/plan_cache.c: a plan
 * survives bytes unchanged, damaged bytes are refused without harm, and
 * a cached plan is used only while its key and files are as they were
 * and the entry is the caller's own. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "translate/file_stamp.h"
#include "translate/plan_cache.h"
#include "translate/plan_codec.h"

static char dir[64], dep[96], entry[128];
static int dirfd_;

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/nscell-test-plans.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dirfd_, 0);
	snprintf(dep, sizeof dep, "%s/server.tpl", dir);
	FILE *f = fopen(dep, "w");
	ck_assert_ptr_nonnull(f);
	fputs("/usr,ro-bind\n", f);
	fclose(f);
}

static void teardown(void)
{
	char cmd[128];
	close(dirfd_);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* a plan with one of everything the codec must carry */
static void sample(struct plan *p)
{
	plan_init(p);
	ck_assert_ptr_nonnull(plan_intern_file(p, "/etc/nscell/nscell.conf"));
	struct plan_origin tpl = { .file = "/etc/nscell/server.tpl", .line = 3, .col = 1 };
	struct plan_origin none = { 0 };
	ck_assert_ptr_nonnull(plan_add_mount(p, PLAN_BIND, PLAN_F_RO | PLAN_F_TRY, "/usr", "/usr",
					     0, &tpl));
	ck_assert_ptr_nonnull(plan_add_mount(p, PLAN_TMPFS, 0, NULL, "/tmp", 01777, &none));
	struct plan_mount *m = plan_add_mount(p, PLAN_FILE, 0, NULL, "/etc/passwd", 0644, &tpl);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(plan_mount_set_data(m, "a:x:1:1::/h:/bin/sh\n\0bin", 24), 0);
	m = plan_add_mount(p, PLAN_FILE, 0, NULL, "/etc/empty", 0600, &tpl);
	ck_assert_int_eq(plan_mount_set_data(m, "", 0), 0);
	ck_assert_ptr_nonnull(plan_add_mount(p, PLAN_REMOUNT_RO, 0, NULL, "/", 0, &none));
	p->namespaces &= ~(unsigned)PLAN_NS_USER;
	p->hostname = strdup("sandbox");
	p->vhost = strdup("example.com");
	p->id.user = strdup("alice");
	p->id.group = strdup("alice");
	p->id.uid = 1001;
	p->id.gid = 1002;
	p->id.groups = malloc(2 * sizeof *p->id.groups);
	p->id.groups[0] = 1002;
	p->id.groups[1] = 27;
	p->id.ngroups = 2;
	p->id.home = strdup("/home/alice");
	p->id.shell = strdup("/bin/bash");
}

static struct codec_buf encode(const struct plan *p)
{
	struct codec_buf w = { 0 };
	ck_assert_int_eq(plan_encode(&w, p), 0);
	return w;
}

START_TEST(codec_round_trip)
{
	struct plan p, q;
	sample(&p);
	struct codec_buf w = encode(&p);
	struct codec_in r = { .b = w.b, .len = w.len };
	plan_init(&q);
	ck_assert_int_eq(plan_decode(&r, &q), 0);
	struct codec_buf again = encode(&q);
	ck_assert_uint_eq(again.len, w.len);
	ck_assert_int_eq(memcmp(again.b, w.b, w.len), 0);
	ck_assert_uint_eq(q.nmounts, 5);
	ck_assert_uint_eq(q.mounts[2].len, 24);
	ck_assert_int_eq(memcmp(q.mounts[2].data, "a:x:1:1::/h:/bin/sh\n\0bin", 24), 0);
	ck_assert_ptr_nonnull(q.mounts[3].data);
	ck_assert_ptr_null(q.mounts[1].src);
	ck_assert_str_eq(q.mounts[0].origin.file, "/etc/nscell/server.tpl");
	ck_assert_ptr_null(q.mounts[1].origin.file);
	ck_assert_uint_eq(q.mounts[0].origin.line, 3);
	ck_assert_uint_eq(q.mounts[1].mode, 01777);
	ck_assert_uint_eq(q.namespaces, p.namespaces);
	ck_assert_str_eq(q.hostname, "sandbox");
	ck_assert_uint_eq(q.id.ngroups, 2);
	ck_assert_uint_eq(q.id.groups[1], 27);
	free(w.b);
	free(again.b);
	plan_free(&p);
	plan_free(&q);
}
END_TEST

/* every truncation, and every byte flipped, is refused or decoded, never
 * read out of bounds (ASan) nor leaked */
START_TEST(codec_damage)
{
	struct plan p;
	sample(&p);
	struct codec_buf w = encode(&p);
	for (size_t n = 0; n < w.len; n++) {
		struct plan q;
		plan_init(&q);
		struct codec_in r = { .b = w.b, .len = n };
		ck_assert_int_eq(plan_decode(&r, &q), -1);
		plan_free(&q);
	}
	for (size_t i = 0; i < w.len; i++) {
		w.b[i] ^= 0xff;
		struct plan q;
		plan_init(&q);
		struct codec_in r = { .b = w.b, .len = w.len };
		(void)plan_decode(&r, &q);
		plan_free(&q);
		w.b[i] ^= 0xff;
	}
	free(w.b);
	plan_free(&p);
}
END_TEST

static void key(struct plan_cache *c, const char *user)
{
	plan_cache_init(c, dirfd_);
	c->settle = 0;
	plan_cache_key_str(c, user);
	plan_cache_key_u32(c, 7);
	plan_cache_dep(c, dep);
	plan_cache_dep(c, "/nonexistent/nscell-dep");
}

static int get(const char *user, struct plan *q)
{
	struct plan_cache c;
	key(&c, user);
	plan_init(q);
	int r = plan_cache_get(&c, q);
	plan_cache_free(&c);
	return r;
}

static void put(void)
{
	struct plan p;
	struct plan_cache c;
	sample(&p);
	key(&c, "alice");
	ck_assert_int_eq(plan_cache_put(&c, &p), 0);
	ck_assert(c.stored);
	plan_cache_free(&c);
	plan_free(&p);
}

/* the single entry's path in dir */
static const char *entry_path(void)
{
	char cmd[160];
	snprintf(cmd, sizeof cmd, "ls %s | grep -v tpl", dir);
	FILE *f = popen(cmd, "r");
	char name[64] = "";
	ck_assert_ptr_nonnull(fgets(name, sizeof name, f));
	pclose(f);
	name[strcspn(name, "\n")] = '\0';
	snprintf(entry, sizeof entry, "%s/%s", dir, name);
	return entry;
}

START_TEST(cache_hit_and_key)
{
	struct plan q;
	ck_assert_int_eq(get("alice", &q), 0); /* nothing stored yet */
	plan_free(&q);
	put();
	ck_assert_int_eq(get("alice", &q), 1);
	ck_assert_str_eq(q.id.user, "alice");
	ck_assert_uint_eq(q.nmounts, 5);
	ck_assert_str_eq(q.mounts[0].dst, "/usr");
	plan_free(&q);
	ck_assert_int_eq(get("bob", &q), 0);
	plan_free(&q);
}
END_TEST

START_TEST(cache_file_changes)
{
	struct plan q;
	put();
	/* rewritten in place, same size: the ctime moves */
	sleep(1);
	FILE *f = fopen(dep, "r+");
	fputs("/bin", f);
	fclose(f);
	ck_assert_int_eq(get("alice", &q), 0);
	plan_free(&q);
	put();
	ck_assert_int_eq(get("alice", &q), 1);
	plan_free(&q);
	unlink(dep);
	ck_assert_int_eq(get("alice", &q), 0);
	plan_free(&q);
}
END_TEST

START_TEST(cache_settle)
{
	struct plan p;
	struct plan_cache c;
	sample(&p);
	key(&c, "alice");
	c.settle = FILE_STAMP_SETTLE; /* dep was written just now */
	ck_assert_int_eq(plan_cache_put(&c, &p), -1);
	ck_assert_ptr_nonnull(c.refused);
	plan_cache_free(&c);
	key(&c, "alice");
	plan_cache_refuse(&c, "test");
	ck_assert_int_eq(plan_cache_put(&c, &p), -1);
	ck_assert_str_eq(c.refused, "test");
	plan_cache_free(&c);
	plan_free(&p);
	struct plan q;
	ck_assert_int_eq(get("alice", &q), 0);
	plan_free(&q);
}
END_TEST

START_TEST(cache_trust)
{
	struct plan q;
	put();
	const char *e = entry_path();
	ck_assert_int_eq(chmod(e, 0666), 0);
	ck_assert_int_eq(get("alice", &q), 0);
	plan_free(&q);
	ck_assert_int_eq(chmod(e, 0600), 0);
	char other[160];
	snprintf(other, sizeof other, "%s.link", dir);
	ck_assert_int_eq(link(e, other), 0); /* a second name: not ours alone */
	ck_assert_int_eq(get("alice", &q), 0);
	plan_free(&q);
	unlink(other);
	ck_assert_int_eq(get("alice", &q), 1);
	plan_free(&q);
	/* damaged: cut short */
	struct stat st;
	ck_assert_int_eq(stat(e, &st), 0);
	ck_assert_int_eq(truncate(e, st.st_size - 3), 0);
	ck_assert_int_eq(get("alice", &q), 0);
	plan_free(&q);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("plan_cache");
	TCase *t = tcase_create("codec");
	tcase_add_test(t, codec_round_trip);
	tcase_add_test(t, codec_damage);
	suite_add_tcase(s, t);
	t = tcase_create("cache");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, cache_hit_and_key);
	tcase_add_test(t, cache_file_changes);
	tcase_add_test(t, cache_settle);
	tcase_add_test(t, cache_trust);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(suite)
