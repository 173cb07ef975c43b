/* Unit tests for the config.json reader on configs nscell did not write:
 * runc spec's (runc 1.1.5) into a plan (capabilities, rlimits, runc's
 * /dev, sysfs, cgroup, masked and read-only paths with runc's meaning),
 * that plan written and read back, and what stays refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "oci/oci.h"
#include "tests/unit/unit.h"

/* `runc spec` (runc 1.1.5), process.terminal false, a /usr bind added */
static const char runc_spec[] =
	"{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,"
	"\"gid\":0},\"args\":[\"sh\"],\"env\":[\"PATH=/usr/bin:/bin\",\"TERM=xterm\"],"
	"\"cwd\":\"/\",\"capabilities\":{"
	"\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
	"\"noNewPrivileges\":true},\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
	"\"hostname\":\"runc\",\"mounts\":["
	"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\","
	"\"strictatime\",\"mode=755\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":["
	"\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
	"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\","
	"\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":["
	"\"nosuid\",\"noexec\",\"nodev\"]},"
	"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\","
	"\"noexec\",\"nodev\",\"ro\"]},"
	"{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\",\"options\":["
	"\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]},"
	"{\"destination\":\"/usr\",\"type\":\"bind\",\"source\":\"/usr\",\"options\":[\"rbind\","
	"\"ro\"]}],"
	"\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
	"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
	"{\"type\":\"uts\"},{\"type\":\"mount\"}],"
	"\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
	"\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\","
	"\"/sys/firmware\",\"/proc/scsi\"],"
	"\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
	"\"/proc/sysrq-trigger\"]}}";

#define CAPS_3 ((1ull << 5) | (1ull << 10) | (1ull << 29)) /* KILL NET_BIND_SERVICE AUDIT_WRITE */

static void read_ok(struct plan *p, const char *json)
{
	nscell_error_t err = { 0 };
	plan_init(p);
	ck_assert_msg(oci_config_read_buffer(p, "config.json", json, strlen(json), &err) == 0,
		      "%s", err.msg);
}

static size_t count(const struct plan *p, enum plan_op op, unsigned flags)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nmounts; i++)
		n += p->mounts[i].op == op && (p->mounts[i].flags & flags) == flags;
	return n;
}

START_TEST(runc_spec_reads)
{
	struct plan p;
	read_ok(&p, runc_spec);
	ck_assert_uint_eq(p.id.uid, 0);
	ck_assert_uint_eq(p.namespaces, PLAN_NS_PID | PLAN_NS_NET | PLAN_NS_IPC | PLAN_NS_UTS |
					PLAN_NS_MOUNT);
	ck_assert(p.proc.has_caps);
	ck_assert_uint_eq(p.proc.caps.bounding, CAPS_3);
	ck_assert_uint_eq(p.proc.caps.permitted, CAPS_3);
	ck_assert_uint_eq(p.proc.caps.ambient, CAPS_3);
	ck_assert_uint_eq(p.proc.caps.inheritable, 0);
	ck_assert_uint_eq(p.proc.nrlimits, 1);
	ck_assert_int_eq(p.proc.rlimits[0].resource, RLIMIT_NOFILE);
	ck_assert_uint_eq(p.proc.rlimits[0].soft, 1024);
	ck_assert_str_eq(p.hostname, "runc");
	ck_assert(p.rootfs_readonly);
	ck_assert_int_eq(plan_find_dst(&p, "/proc")->op, PLAN_PROC);
	ck_assert_int_eq(plan_find_dst(&p, "/dev")->op, PLAN_DEV);
	ck_assert_uint_eq(plan_find_dst(&p, "/dev")->flags, PLAN_F_RUNC_DEV);
	ck_assert_int_eq(plan_find_dst(&p, "/dev/mqueue")->op, PLAN_MQUEUE);
	ck_assert_int_eq(plan_find_dst(&p, "/sys")->op, PLAN_SYSFS);
	ck_assert_uint_eq(plan_find_dst(&p, "/sys")->flags, PLAN_F_RO);
	struct plan_mount *cg = plan_find_dst(&p, "/sys/fs/cgroup");
	ck_assert_int_eq(cg->op, PLAN_CGROUP);
	ck_assert_str_eq(cg->src, "/sys/fs/cgroup");
	struct plan_mount *usr = plan_find_dst(&p, "/usr");
	ck_assert_int_eq(usr->op, PLAN_BIND);
	ck_assert_uint_eq(usr->flags, PLAN_F_RO | PLAN_F_RO_TOP | PLAN_F_DEVICES);
	/* every entry of the lists, with runc's meaning */
	ck_assert_uint_eq(count(&p, PLAN_MASK, PLAN_F_RUNC_MASK), 10);
	ck_assert_uint_eq(count(&p, PLAN_REMOUNT_RO, PLAN_F_TRY), 5);
	plan_free(&p);
}
END_TEST

static char *gen(const struct plan *p)
{
	nscell_error_t err = { 0 };
	char *out = NULL;
	size_t len;
	ck_assert_msg(oci_config_generate(p, NULL, &out, &len, &err) == 0, "%s", err.msg);
	return out;
}

/* q, read back from first, is written as first again */
static void same_when_written_again(const char *first, const struct plan *q)
{
	char *second = gen(q);
	ck_assert_str_eq(first, second);
	free(second);
}

/* runc spec's plan written by nscell, read back, written again: the same */
START_TEST(runc_spec_round_trip)
{
	struct plan p, q;
	read_ok(&p, runc_spec);
	p.proc.rlimits = realloc(p.proc.rlimits, 2 * sizeof *p.proc.rlimits);
	p.proc.rlimits[1] = (struct plan_rlimit){ RLIMIT_CORE, 0, UINT64_MAX };
	p.proc.nrlimits = 2;
	char *first = gen(&p);
	ck_assert_ptr_nonnull(strstr(first, "\"CAP_AUDIT_WRITE\""));
	ck_assert_ptr_nonnull(strstr(first, "18446744073709551615"));
	ck_assert_ptr_nonnull(strstr(first, "\"gid=5\""));
	ck_assert_ptr_nonnull(strstr(first, "\"sysfs\""));
	read_ok(&q, first);
	ck_assert_uint_eq(q.proc.caps.effective, CAPS_3);
	ck_assert_uint_eq(q.proc.rlimits[1].hard, UINT64_MAX);
	ck_assert_int_eq(q.proc.rlimits[1].resource, RLIMIT_CORE);
	ck_assert_uint_eq(plan_find_dst(&q, "/usr")->flags, PLAN_F_RO | PLAN_F_RO_TOP | PLAN_F_DEVICES);
	same_when_written_again(first, &q);
	free(first);
	plan_free(&q);
	plan_free(&p);
}
END_TEST

/* runc_spec with each FROM replaced by its TO (pairs, NULL-terminated) */
static char *edited(const char *const *pairs)
{
	char *json = strdup(runc_spec);
	for (size_t i = 0; pairs[i]; i += 2) {
		char *at = strstr(json, pairs[i]);
		ck_assert_msg(at, "'%s' not in the config", pairs[i]);
		size_t n = strlen(json) + strlen(pairs[i + 1]) + 1;
		char *next = malloc(n);
		snprintf(next, n, "%.*s%s%s", (int)(at - json), json, pairs[i + 1],
			 at + strlen(pairs[i]));
		free(json);
		json = next;
	}
	return json;
}

/* process.terminal and consoleSize: read into the plan, written back */
START_TEST(terminal_round_trip)
{
	static const char *const pairs[] = {
		"\"terminal\":false",
		"\"terminal\":true,\"consoleSize\":{\"height\":24,\"width\":80}", NULL
	};
	char *json = edited(pairs);
	struct plan p, q;
	read_ok(&p, json);
	ck_assert(p.proc.terminal);
	ck_assert_uint_eq(p.proc.console_height, 24);
	ck_assert_uint_eq(p.proc.console_width, 80);
	char *first = gen(&p);
	ck_assert_ptr_nonnull(strstr(first, "\"terminal\": true"));
	ck_assert_ptr_nonnull(strstr(first, "\"consoleSize\""));
	ck_assert_ptr_nonnull(strstr(first, "\"height\": 24"));
	ck_assert_ptr_nonnull(strstr(first, "\"width\": 80"));
	read_ok(&q, first);
	ck_assert(q.proc.terminal);
	same_when_written_again(first, &q);
	/* runc spec's own (terminal false) stays false, with no size */
	plan_free(&q);
	read_ok(&q, runc_spec);
	char *plain = gen(&q);
	ck_assert_ptr_nonnull(strstr(plain, "\"terminal\": false"));
	ck_assert_ptr_null(strstr(plain, "consoleSize"));
	free(plain);
	free(first);
	free(json);
	plan_free(&q);
	plan_free(&p);
}
END_TEST

/* empty capability sets: the plan has none, as a template's */
START_TEST(empty_caps_are_none)
{
	char *json = strdup(runc_spec);
	char *caps = strstr(json, "\"capabilities\":{");
	char *end = strstr(caps, "]},") + 2;
	memmove(caps + 17, end, strlen(end) + 1);
	memcpy(caps, "\"capabilities\":{}", 17);
	struct plan p;
	read_ok(&p, json);
	ck_assert(!p.proc.has_caps);
	plan_free(&p);
	free(json);
}
END_TEST

/* `runc spec --rootless`'s changes: a user namespace mapping container 0
 * to the caller, no network namespace, no device rule, devpts without
 * gid=5, the host's /sys bound (type none) */
static const char *const rootless_edits[] = {
	"\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},",
	"\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
	"\"gidMappings\":[{\"containerID\":0,\"hostID\":1001,\"size\":1}],",
	"{\"type\":\"network\"},", "",
	"{\"type\":\"mount\"}]", "{\"type\":\"mount\"},{\"type\":\"user\"}]",
	",\"gid=5\"", "",
	"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[",
	"{\"destination\":\"/sys\",\"type\":\"none\",\"source\":\"/sys\",\"options\":[\"rbind\",",
	NULL
};

START_TEST(runc_spec_rootless)
{
	char *json = edited(rootless_edits);
	struct plan p, q;
	read_ok(&p, json);
	ck_assert(p.rootless);
	ck_assert(p.userns_root);
	ck_assert_uint_eq(p.id.uid, 1000);
	ck_assert_uint_eq(p.id.gid, 1001);
	ck_assert_uint_eq(p.proc.caps.permitted, CAPS_3);
	ck_assert_uint_eq(plan_find_dst(&p, "/dev")->flags, PLAN_F_RUNC_DEV);
	struct plan_mount *sys = plan_find_dst(&p, "/sys");
	ck_assert_int_eq(sys->op, PLAN_BIND);
	ck_assert_str_eq(sys->src, "/sys");
	ck_assert_uint_eq(sys->flags, PLAN_F_RO | PLAN_F_RO_TOP | PLAN_F_RUNC_TOP);
	/* written back (type bind, runc's flags) and read again: the same */
	char *first = gen(&p);
	ck_assert_ptr_null(strstr(first, "\"gid=5\""));
	read_ok(&q, first);
	/* now a config nscell wrote (org.nscell.uid): the shim runs it as its
	 * own rootless bundles, the caller keeping its ids */
	ck_assert(!q.userns_root);
	ck_assert_uint_eq(plan_find_dst(&q, "/sys")->flags, sys->flags);
	same_when_written_again(first, &q);
	free(first);
	plan_free(&q);
	plan_free(&p);
	free(json);
}
END_TEST

/* what stays refused around runc spec --rootless's mounts */
START_TEST(runc_spec_rootless_refused)
{
	struct {
		const char *from, *to, *want;
	} cases[] = {
		{ "\"/sys\",\"options\":[\"rbind\",", "\"/proc\",\"options\":[\"rbind\",",
		  "mounts[5].type: mount type 'none' not supported by nscell (only as runc spec "
		  "--rootless's /sys bind" },
		{ "\"rbind\",\"nosuid\",\"noexec\"", "\"rbind\",\"nosuid\"",
		  "mounts[5].type: mount type 'none' not supported" },
		{ "\"mode=0620\"", "\"mode=0620\",\"gid=5\"",
		  "mounts[2].options: 'gid=5' not supported by nscell on a devpts mount" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *base = edited(rootless_edits);
		char *at = strstr(base, cases[i].from);
		ck_assert_msg(at, "'%s' not in the config", cases[i].from);
		size_t n = strlen(base) + strlen(cases[i].to) + 1;
		char *json = malloc(n);
		snprintf(json, n, "%.*s%s%s", (int)(at - base), base, cases[i].to,
			 at + strlen(cases[i].from));
		struct plan p;
		nscell_error_t err = { 0 };
		plan_init(&p);
		ck_assert_msg(oci_config_read_buffer(&p, "config.json", json, strlen(json), &err) < 0,
			      "no error, wanted '%s'", cases[i].want);
		ck_assert_msg(strstr(err.msg, cases[i].want), "wanted '%s' in '%s'", cases[i].want,
			      err.msg);
		plan_free(&p);
		free(json);
		free(base);
	}
}
END_TEST

static void expect_error(const char *from, const char *to, const char *want)
{
	const char *const pairs[] = { from, to, NULL };
	char *json = edited(pairs);
	struct plan p;
	nscell_error_t err = { 0 };
	plan_init(&p);
	ck_assert_msg(oci_config_read_buffer(&p, "config.json", json, strlen(json), &err) < 0,
		      "no error, wanted '%s'", want);
	ck_assert_msg(strstr(err.msg, want), "wanted '%s' in '%s'", want, err.msg);
	plan_free(&p);
	free(json);
}

START_TEST(refused)
{
	expect_error("\"terminal\":false", "\"terminal\":true,\"consoleSize\":{\"height\":70000,"
		     "\"width\":80}", "process.consoleSize: 70000 x 80: at most 65535 each");
	expect_error("\"CAP_KILL\",\"CAP_NET", "\"CAP_KILL\",\"CAP_KILL\",\"CAP_NET",
		     "process.capabilities.bounding[2]: 'CAP_KILL' given twice");
	expect_error("\"RLIMIT_NOFILE\",\"hard\":1024", "\"RLIMIT_NOFILE\",\"hard\":-1",
		     "process.rlimits[0].hard: expected an integer from 0 to 18446744073709551615");
	expect_error("\"hard\":1024,\"soft\":1024}", "\"hard\":1024,\"soft\":1024},{\"type\":"
		     "\"RLIMIT_NOFILE\",\"hard\":1,\"soft\":1}", "process.rlimits[1]: "
		     "RLIMIT_NOFILE given twice");
	expect_error("\"allow\":false", "\"allow\":false,\"type\":\"c\"",
		     "linux.resources.devices[0].type: not supported by nscell");
	expect_error("\"access\":\"rwm\"", "\"access\":\"rw\"", "linux.resources.devices[0]: only");
	expect_error("\"mode=0620\",\"gid=5\"", "\"mode=0620\",\"gid=6\"",
		     "mounts[2].options: 'gid=6' not supported by nscell on a devpts mount");
	expect_error("\"relatime\",\"ro\"", "\"relatime\"", "mounts[6].options: 'ro' missing");
	expect_error("{\"type\":\"mount\"}", "{\"type\":\"mount\"},{\"type\":\"cgroup\"}",
		     "mounts[6].type: a cgroup mount in a cgroup namespace");
	/* runc's /dev in a user namespace: gid 5 is not mapped (runc spec
	 * --rootless leaves it out, runc_spec_rootless below) */
	expect_error("{\"type\":\"mount\"}]", "{\"type\":\"mount\"},{\"type\":\"user\"}],"
		     "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
		     "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]",
		     "mounts[2].options: 'gid=5' not supported by nscell on a devpts mount");
	expect_error("\"/proc/scsi\"", "\"proc/scsi\"", "linux.maskedPaths[9]: 'proc/scsi'");
	expect_error("\"source\":\"proc\"}", "\"source\":\"proc\",\"options\":[\"ro\"]}",
		     "mounts[0].options: 'ro' not supported by nscell on a proc mount");
}
END_TEST

static Suite *runc_suite(void)
{
	Suite *s = suite_create("oci_runc");
	TCase *tc = tcase_create("runc_spec");
	tcase_add_test(tc, runc_spec_reads);
	tcase_add_test(tc, runc_spec_round_trip);
	tcase_add_test(tc, terminal_round_trip);
	tcase_add_test(tc, empty_caps_are_none);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, runc_spec_rootless);
	tcase_add_test(tc, runc_spec_rootless_refused);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(runc_suite)
