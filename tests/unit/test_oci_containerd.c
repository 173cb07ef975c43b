/* Unit tests for the config.json reader on the spec containerd 1.6
 * writes for `ctr run --rootfs DIR --mount ...` (its /run tmpfs, device
 * list, cgroupsPath, cpu shares, capabilities): read for nscell-runtime,
 * which applies linux.cgroupsPath and linux.resources itself
 * (shim/runtime_cgroup.c), it passes; read for anything else the cgroup
 * is refused by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/oci.h"
#include "tests/unit/unit.h"

/* containerd 1.6.20, ctr run --rootfs rootfs --mount (4 binds) c1 /bin/sh -c 'exit 3' */
static const char spec[] =
	"{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"/bin/sh\",\"-c\",\"exit"
	" 3\"],\"cwd\":\"/\",\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FSETID\",\"CA"
	"P_FOWNER\",\"CAP_MKNOD\",\"CAP_NET_RAW\",\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETFCAP\",\"CAP_SETPCAP\","
	"\"CAP_NET_BIND_SERVICE\",\"CAP_SYS_CHROOT\",\"CAP_KILL\",\"CAP_AUDIT_WRITE\"],\"effective\":[\"CAP_CH"
	"OWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FSETID\",\"CAP_FOWNER\",\"CAP_MKNOD\",\"CAP_NET_RAW\",\"CAP_SETGID\",\""
	"CAP_SETUID\",\"CAP_SETFCAP\",\"CAP_SETPCAP\",\"CAP_NET_BIND_SERVICE\",\"CAP_SYS_CHROOT\",\"CAP_KILL\""
	",\"CAP_AUDIT_WRITE\"],\"permitted\":[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FSETID\",\"CAP_FOWNER\","
	"\"CAP_MKNOD\",\"CAP_NET_RAW\",\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETFCAP\",\"CAP_SETPCAP\",\"CAP_NET_B"
	"IND_SERVICE\",\"CAP_SYS_CHROOT\",\"CAP_KILL\",\"CAP_AUDIT_WRITE\"]},\"rlimits\":[{\"type\":\"RLIMIT_NO"
	"FILE\",\"hard\":1024,\"soft\":1024}],\"noNewPrivileges\":true},\"root\":{\"path\":\"rootfs\"},\"mounts\":"
	"[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\",\"options\":[\"nosuid\",\"noexec\",\"nodev\""
	"]},{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"strictatime\""
	",\"mode=755\",\"size=65536k\"]},{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"o"
	"ptions\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},{\"destinati"
	"on\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=17"
	"77\",\"size=65536k\"]},{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"option"
	"s\":[\"nosuid\",\"noexec\",\"nodev\"]},{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"opt"
	"ions\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},{\"destination\":\"/run\",\"type\":\"tmpfs\",\"source\":\"tmp"
	"fs\",\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},{\"destination\":\"/usr\",\"ty"
	"pe\":\"bind\",\"source\":\"/usr\",\"options\":[\"rbind\",\"ro\"]},{\"destination\":\"/bin\",\"type\":\"bind\",\""
	"source\":\"/bin\",\"options\":[\"rbind\",\"ro\"]},{\"destination\":\"/lib\",\"type\":\"bind\",\"source\":\"/li"
	"b\",\"options\":[\"rbind\",\"ro\"]},{\"destination\":\"/lib64\",\"type\":\"bind\",\"source\":\"/lib64\",\"opti"
	"ons\":[\"rbind\",\"ro\"]}],\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"al"
	"low\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":"
	"1,\"minor\":8,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":7,\"access\":\"rwm\"},{"
	"\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":0,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"majo"
	"r\":1,\"minor\":5,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":9,\"access\":\"rwm\""
	"},{\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":1,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"m"
	"ajor\":136,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":2,\"access\":\"rwm\"}],\"c"
	"pu\":{\"shares\":1024}},\"cgroupsPath\":\"/default/c1\",\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc"
	"\"},{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"network\"}],\"maskedPaths\":[\"/proc/acpi\",\"/proc/"
	"asound\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_s"
	"tats\",\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],\"readonlyPaths\":[\"/proc/bus\",\"/pro"
	"c/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]}}";

/* text with from replaced by to, written to DIR/config.json; the path */
static char *write_config(char *dir, const char *from, const char *to)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *path;
	ck_assert_int_ge(asprintf(&path, "%s/config.json", dir), 0);
	const char *at = from ? strstr(spec, from) : NULL;
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	if (at)
		fprintf(f, "%.*s%s%s", (int)(at - spec), spec, to, at + strlen(from));
	else
		fputs(spec, f);
	fclose(f);
	return path;
}

static void remove_config(char *dir, char *path)
{
	unlink(path);
	rmdir(dir);
	free(path);
}

START_TEST(runtime_reads_it)
{
	char dir[] = "/tmp/nscell-ctd-unit.XXXXXX";
	char *path = write_config(dir, NULL, NULL);
	struct plan p;
	nscell_error_t err = { 0 };
	plan_init(&p);
	ck_assert_msg(oci_config_read_file_any_hooks(&p, path, NULL, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(p.id.uid, 0);
	ck_assert(p.proc.has_caps);
	struct plan_mount *run = plan_find_dst(&p, "/run");
	ck_assert_int_eq(run->op, PLAN_TMPFS);
	ck_assert_uint_eq(run->flags, PLAN_F_RUNC_TMPFS);
	ck_assert_uint_eq(run->mode, 0755);
	ck_assert_int_eq(plan_find_dst(&p, "/dev")->op, PLAN_DEV);
	ck_assert_uint_eq(plan_find_dst(&p, "/dev")->flags, PLAN_F_RUNC_DEV);
	ck_assert_int_eq(plan_find_dst(&p, "/dev/mqueue")->op, PLAN_MQUEUE);
	ck_assert_int_eq(plan_find_dst(&p, "/usr")->op, PLAN_BIND);
	/* the cgroup, as nscell-runtime applies it (shim/runtime_cgroup.c) */
	ck_assert_str_eq(p.cgroup.path, "/default/c1");
	ck_assert_int_eq(p.cgroup.cpu_shares, 1024);
	ck_assert_int_eq(p.cgroup.cpu_quota_us, 0);
	ck_assert_int_eq(p.cgroup.memory_max, 0);
	ck_assert_uint_eq(p.cgroup.ndevices, 10);
	const struct plan_device_rule *d = p.cgroup.devices;
	ck_assert(!d[0].allow && d[0].type == 'a' && d[0].major == -1 && d[0].minor == -1);
	ck_assert_str_eq(d[0].access, "rwm");
	ck_assert(d[1].allow && d[1].type == 'c' && d[1].major == 1 && d[1].minor == 3);
	/* {"type": "c", "major": 136}: every pty slave */
	ck_assert(d[8].allow && d[8].type == 'c' && d[8].major == 136 && d[8].minor == -1);
	plan_free(&p);
	remove_config(dir, path);
}
END_TEST

/* memory, pids and cpu quota land in the plan's limits */
START_TEST(runtime_reads_the_limits)
{
	char dir[] = "/tmp/nscell-ctd-unit.XXXXXX";
	char *path = write_config(dir, "\"cpu\":{\"shares\":1024}",
				  "\"cpu\":{\"quota\":50000,\"period\":100000},"
				  "\"memory\":{\"limit\":268435456},\"pids\":{\"limit\":64}");
	struct plan p;
	nscell_error_t err = { 0 };
	plan_init(&p);
	ck_assert_msg(oci_config_read_file_any_hooks(&p, path, NULL, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(p.cgroup.cpu_quota_us, 50000);
	ck_assert_int_eq(p.cgroup.cpu_period_us, 100000);
	ck_assert_int_eq(p.cgroup.memory_max, 268435456);
	ck_assert_int_eq(p.cgroup.pids_max, 64);
	ck_assert_int_eq(p.cgroup.cpu_shares, 0);
	plan_free(&p);
	remove_config(dir, path);
}
END_TEST

/* read for nscell (not the runtime): the cgroup nobody would apply */
START_TEST(others_refuse_the_cgroup)
{
	struct plan p;
	nscell_error_t err = { 0 };
	plan_init(&p);
	ck_assert_int_lt(oci_config_read_buffer(&p, "config.json", spec, strlen(spec), &err), 0);
	ck_assert_msg(strstr(err.msg, "linux.resources.devices") != NULL, "%s", err.msg);
	plan_free(&p);
}
END_TEST

static void runtime_refuses(const char *from, const char *to, const char *want)
{
	char dir[] = "/tmp/nscell-ctd-unit.XXXXXX";
	char *path = write_config(dir, from, to);
	struct plan p;
	nscell_error_t err = { 0 };
	plan_init(&p);
	ck_assert_int_lt(oci_config_read_file_any_hooks(&p, path, NULL, &err), 0);
	ck_assert_msg(strstr(err.msg, want) != NULL, "wanted '%s' in '%s'", want, err.msg);
	plan_free(&p);
	remove_config(dir, path);
}

START_TEST(refused)
{
	runtime_refuses("\"noNewPrivileges\":true", "\"noNewPrivileges\":false",
			"process.noNewPrivileges: nscell requires true");
	runtime_refuses("\"/default/c1\"", "\"system.slice:cri:c1\"",
			"linux.cgroupsPath: 'system.slice:cri:c1'");
	runtime_refuses("\"/default/c1\"", "\"/default/../c1\"", "linux.cgroupsPath");
	runtime_refuses("\"cpu\":{\"shares\":1024}", "\"blockIO\":{}",
			"linux.resources.blockIO");
	runtime_refuses("\"cpu\":{\"shares\":1024}", "\"cpu\":{\"realtimeRuntime\":1}",
			"linux.resources.cpu.realtimeRuntime");
	runtime_refuses("\"minor\":3,", "\"minor\":3,\"x\":1,", "linux.resources.devices[1].x");
	runtime_refuses("\"access\":\"rwm\"}", "\"access\":\"rwx\"}",
			"linux.resources.devices[0].access: expected letters of rwm");
	runtime_refuses("\"size=65536k\"]},{\"destination\":\"/usr\"",
			"\"size=65536k\",\"noexec\"]},{\"destination\":\"/usr\"",
			"'noexec' not supported by nscell on a tmpfs mount");
}
END_TEST

static Suite *containerd_suite(void)
{
	Suite *s = suite_create("oci_containerd");
	TCase *tc = tcase_create("containerd_spec");
	tcase_add_test(tc, runtime_reads_it);
	tcase_add_test(tc, runtime_reads_the_limits);
	tcase_add_test(tc, others_refuse_the_cgroup);
	tcase_add_test(tc, refused);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(containerd_suite)
