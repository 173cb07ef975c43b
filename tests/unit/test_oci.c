/* Unit tests for oci/emit.c, oci/read.c and bundles/export.c: config.json
 * from hand-built plans, determinism, round trips, every broken-config
 * error, and bundle export. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "bundles/bundle.h"
#include "oci/oci.h"
#include "tests/unit/unit.h"
#include "translate/conf.h"
#include "translate/load.h"

static const struct plan_origin origin = { "t.tpl", 1, 1 };

static void set_identity(struct plan *p, uid_t uid, gid_t gid, const char *home)
{
	p->id.user = strdup("alice");
	p->id.group = strdup("alice");
	p->id.uid = uid;
	p->id.gid = gid;
	p->id.home = strdup(home);
	p->id.shell = strdup("/bin/sh");
}

static void set_groups(struct plan *p, size_t n, ...)
{
	va_list ap;
	va_start(ap, n);
	p->id.groups = calloc(n, sizeof *p->id.groups);
	for (size_t i = 0; i < n; i++)
		p->id.groups[i] = va_arg(ap, unsigned);
	p->id.ngroups = n;
	va_end(ap);
}

static void add(struct plan *p, enum plan_op op, unsigned flags, const char *src,
		const char *dst, mode_t mode)
{
	ck_assert_ptr_nonnull(plan_add_mount(p, op, flags, src, dst, mode, &origin));
}

/* A plan with every kind of entry, sorted as a front end leaves it. */
static void full_plan(struct plan *p, uid_t uid)
{
	plan_init(p);
	set_identity(p, uid, uid, "/home/alice");
	set_groups(p, 3, uid, 27, 28);
	add(p, PLAN_BIND, PLAN_F_RO, "/usr", "/usr", 0);
	add(p, PLAN_BIND, PLAN_F_RO | PLAN_F_TRY, "/etc", "/etc", 0);
	add(p, PLAN_BIND, 0, "/home/alice", "/home/alice", 0);
	add(p, PLAN_BIND, PLAN_F_DEVICES, "/dev/fuse", "/dev/fuse", 0);
	add(p, PLAN_TMP, 0, "/home/alice/.nscell/tmp", "/tmp", 0);
	add(p, PLAN_TMPFS, 0, NULL, "/run", 0755);
	add(p, PLAN_TMPFS, 0, NULL, "/scratch", 01777);
	add(p, PLAN_PROC, 0, NULL, "/proc", 0);
	add(p, PLAN_MQUEUE, 0, NULL, "/dev/mqueue", 0);
	add(p, PLAN_DEV, 0, NULL, "/dev", 0);
	add(p, PLAN_DIR, 0, NULL, "/var", 0755);
	add(p, PLAN_DIR, 0, NULL, "/run/user/1000", 0700);
	add(p, PLAN_SYMLINK, 0, "../tmp", "/var/tmp", 0);
	struct plan_mount *f = plan_add_mount(p, PLAN_FILE, 0, NULL, "/etc/passwd", 0644, &origin);
	plan_mount_set_data(f, "alice:x:1000:1000::/home/alice:/bin/sh\n", 39);
	add(p, PLAN_MASK, 0, NULL, "/etc/shadow", 0);
	add(p, PLAN_REMOUNT_RO, 0, NULL, "/var", 0);
	plan_sort(p);
	char *argv[] = { "/bin/sh", "-c", "id", NULL };
	char *env[] = { "PATH=/usr/bin:/bin", "HOME=/home/alice", NULL };
	p->proc.argv = plan_strv_dup(argv);
	p->proc.env = plan_strv_dup(env);
}

static char *gen(const struct plan *p, bool rootless)
{
	struct oci_opts o = { .rootless = rootless };
	nscell_error_t err = { 0 };
	char *out = NULL;
	size_t len = 0;
	int rc = oci_config_generate(p, &o, &out, &len, &err);
	ck_assert_msg(rc == 0, "generate: %s", err.msg);
	ck_assert_uint_eq(strlen(out), len);
	return out;
}

static yajl_val parse(const char *json)
{
	char msg[256];
	yajl_val v = yajl_tree_parse(json, msg, sizeof msg);
	ck_assert_msg(v != NULL, "parse: %s", msg);
	return v;
}

/* "process.user.uid" → the value (NULL when absent) */
static yajl_val at(yajl_val root, const char *dotted)
{
	char buf[256], *save = NULL;
	const char *path[16];
	size_t n = 0;
	snprintf(buf, sizeof buf, "%s", dotted);
	for (char *t = strtok_r(buf, ".", &save); t && n < 15; t = strtok_r(NULL, ".", &save))
		path[n++] = t;
	path[n] = NULL;
	return yajl_tree_get(root, path, yajl_t_any);
}

static long long num_at(yajl_val root, const char *dotted)
{
	yajl_val v = at(root, dotted);
	ck_assert_msg(YAJL_IS_INTEGER(v), "%s is not an integer", dotted);
	return YAJL_GET_INTEGER(v);
}

static const char *str_at(yajl_val root, const char *dotted)
{
	yajl_val v = at(root, dotted);
	ck_assert_msg(YAJL_IS_STRING(v), "%s is not a string", dotted);
	return YAJL_GET_STRING(v);
}

/* annotation keys have dots: one path element */
static const char *ann_at(yajl_val root, const char *key)
{
	const char *path[] = { "annotations", key, NULL };
	yajl_val v = yajl_tree_get(root, path, yajl_t_string);
	return v ? v->u.string : NULL;
}

static yajl_val mount_at(yajl_val root, const char *dst)
{
	yajl_val m = at(root, "mounts");
	ck_assert(YAJL_IS_ARRAY(m));
	for (size_t i = 0; i < m->u.array.len; i++) {
		const char *p[] = { "destination", NULL };
		yajl_val d = yajl_tree_get(m->u.array.values[i], p, yajl_t_string);
		if (d && strcmp(d->u.string, dst) == 0)
			return m->u.array.values[i];
	}
	return NULL;
}

/* "type source opt,opt,..." of the mount at dst */
static void expect_mount(yajl_val root, const char *dst, const char *type, const char *src,
			 const char *opts)
{
	yajl_val m = mount_at(root, dst);
	ck_assert_msg(m != NULL, "no mount at %s", dst);
	ck_assert_str_eq(str_at(m, "type"), type);
	ck_assert_str_eq(str_at(m, "source"), src);
	yajl_val o = at(m, "options");
	char got[256] = "";
	for (size_t i = 0; i < o->u.array.len; i++) {
		if (i)
			strcat(got, ",");
		strcat(got, o->u.array.values[i]->u.string);
	}
	ck_assert_str_eq(got, opts);
}

static void expect_strs(yajl_val arr, const char *joined)
{
	char got[512] = "";
	ck_assert(YAJL_IS_ARRAY(arr));
	for (size_t i = 0; i < arr->u.array.len; i++) {
		if (i)
			strcat(got, " ");
		if (YAJL_IS_STRING(arr->u.array.values[i]))
			strcat(got, arr->u.array.values[i]->u.string);
		else
			snprintf(got + strlen(got), sizeof got - strlen(got), "%lld",
				 YAJL_GET_INTEGER(arr->u.array.values[i]));
	}
	ck_assert_str_eq(got, joined);
}

/* idmaps as "c:h:s c:h:s" */
static void expect_maps(yajl_val root, const char *field, const char *want)
{
	yajl_val a = at(root, field);
	char got[256] = "";
	ck_assert_msg(YAJL_IS_ARRAY(a), "%s missing", field);
	for (size_t i = 0; i < a->u.array.len; i++)
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld:%lld:%lld",
			 i ? " " : "", num_at(a->u.array.values[i], "containerID"),
			 num_at(a->u.array.values[i], "hostID"),
			 num_at(a->u.array.values[i], "size"));
	ck_assert_str_eq(got, want);
}

START_TEST(generate_root)
{
	struct plan p;
	full_plan(&p, 1000);
	char *json = gen(&p, false);
	yajl_val c = parse(json);
	ck_assert_str_eq(str_at(c, "ociVersion"), "1.0.2");
	ck_assert(YAJL_IS_FALSE(at(c, "process.terminal")));
	ck_assert_int_eq(num_at(c, "process.user.uid"), 1000);
	ck_assert_int_eq(num_at(c, "process.user.gid"), 1000);
	ck_assert_ptr_null(at(c, "process.user.umask"));
	expect_strs(at(c, "process.user.additionalGids"), "1000 27 28");
	expect_strs(at(c, "process.args"), "/bin/sh -c id");
	expect_strs(at(c, "process.env"), "PATH=/usr/bin:/bin HOME=/home/alice");
	ck_assert_str_eq(str_at(c, "process.cwd"), "/home/alice");
	const char *sets[] = { "bounding", "effective", "inheritable", "permitted", "ambient" };
	for (size_t i = 0; i < 5; i++) {
		char path[64];
		snprintf(path, sizeof path, "process.capabilities.%s", sets[i]);
		yajl_val s = at(c, path);
		ck_assert_msg(YAJL_IS_ARRAY(s) && s->u.array.len == 0, "%s not empty", path);
	}
	ck_assert(YAJL_IS_TRUE(at(c, "process.noNewPrivileges")));
	ck_assert_ptr_null(at(c, "process.rlimits"));
	ck_assert_str_eq(str_at(c, "root.path"), "rootfs");
	ck_assert(YAJL_IS_FALSE(at(c, "root.readonly")));
	ck_assert_ptr_null(at(c, "hostname"));
	/* the shim's own below /proc first, in its order, then the plan's */
	expect_strs(at(c, "linux.maskedPaths"),
		    "/proc/kcore /proc/sysrq-trigger /proc/keys /proc/timer_list "
		    "/proc/latency_stats /proc/sched_debug /proc/timer_stats /proc/acpi "
		    "/proc/scsi /proc/asound /etc/shadow");
	expect_strs(at(c, "linux.readonlyPaths"), "/proc/sys /proc/irq /proc/bus /proc/fs /var");
	ck_assert_ptr_null(at(c, "linux.rootfsPropagation")); /* runc's rslave */
	ck_assert_ptr_null(at(c, "linux.cgroupsPath"));
	ck_assert_ptr_null(at(c, "linux.resources"));
	ck_assert_ptr_null(at(c, "linux.devices"));
	ck_assert_str_eq(ann_at(c, "org.nscell.user"), "alice");
	ck_assert_str_eq(ann_at(c, "org.nscell.uid"), "1000");
	ck_assert_str_eq(ann_at(c, "org.nscell.templates"), "t.tpl");
	ck_assert_str_eq(ann_at(c, "org.nscell.tmp"), "/tmp");
	ck_assert_ptr_null(ann_at(c, "org.nscell.vhost"));
	/* mounts in plan order: parents first */
	yajl_val m = at(c, "mounts");
	const char *order[] = { "/dev", "/dev/pts", "/dev/shm", "/dev/fuse", "/dev/mqueue",
				"/etc", "/etc/passwd", "/home/alice", "/proc", "/run",
				"/run/user/1000", "/scratch", "/tmp", "/usr" };
	ck_assert_uint_eq(m->u.array.len, sizeof order / sizeof *order);
	for (size_t i = 0; i < m->u.array.len; i++)
		ck_assert_str_eq(str_at(m->u.array.values[i], "destination"), order[i]);
	yajl_tree_free(c);
	free(json);
	plan_free(&p);
}
END_TEST

START_TEST(mount_kinds)
{
	struct plan p;
	full_plan(&p, 1000);
	char *json = gen(&p, false);
	yajl_val c = parse(json);
	/* recursive: the shim's flags cover every mount below a bind too */
	expect_mount(c, "/usr", "bind", "/usr", "rbind,rnosuid,rnodev,rro");
	expect_mount(c, "/home/alice", "bind", "/home/alice", "rbind,rnosuid,rnodev");
	expect_mount(c, "/dev/fuse", "bind", "/dev/fuse", "rbind,rnosuid");
	expect_mount(c, "/tmp", "bind", "/home/alice/.nscell/tmp", "rbind,rnosuid,rnodev");
	expect_mount(c, "/run", "tmpfs", "tmpfs", "nosuid,nodev,mode=755,uid=1000,gid=1000");
	expect_mount(c, "/scratch", "tmpfs", "tmpfs", "nosuid,nodev,mode=1777");
	expect_mount(c, "/proc", "proc", "proc", "nosuid,noexec,nodev");
	expect_mount(c, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
	/* a user namespace: runc binds the nodes, /dev can be nodev; devpts
	 * without gid=5, as the shim mounts it */
	expect_mount(c, "/dev", "tmpfs", "tmpfs",
		     "nosuid,noexec,nodev,strictatime,mode=755,size=65536k");
	expect_mount(c, "/dev/pts", "devpts", "devpts",
		     "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620");
	expect_mount(c, "/dev/shm", "tmpfs", "shm", "nosuid,nodev,mode=1777");
	/* hidden by the /etc bind and the /run tmpfs: bound from files/ */
	expect_mount(c, "/etc/passwd", "bind", "files/etc/passwd", "rbind,rnosuid,rnodev,rro");
	expect_mount(c, "/run/user/1000", "bind", "files/run/user/1000", "rbind,rnosuid,rnodev");
	/* in the rootfs, not mounts */
	ck_assert_ptr_null(mount_at(c, "/var"));
	ck_assert_ptr_null(mount_at(c, "/var/tmp"));
	ck_assert_ptr_null(mount_at(c, "/etc/shadow"));
	yajl_tree_free(c);
	free(json);
	plan_free(&p);
}
END_TEST

START_TEST(mappings_root)
{
	struct plan p;
	full_plan(&p, 1000);
	free(p.id.groups);
	set_groups(&p, 6, 1000, 28, 27, 1001, 27, 4);
	char *json = gen(&p, false);
	yajl_val c = parse(json);
	expect_maps(c, "linux.uidMappings", "0:0:1 1000:1000:1");
	/* 27 28 merge, 1000 1001 merge; no 5 (tty): devpts has no gid=5, and
	 * the shim maps only the user's groups */
	expect_maps(c, "linux.gidMappings", "0:0:1 4:4:1 27:27:2 1000:1000:2");
	expect_strs(at(c, "process.user.additionalGids"), "1000 28 27 1001 27 4");
	yajl_val ns = at(c, "linux.namespaces");
	char got[128] = "";
	for (size_t i = 0; i < ns->u.array.len; i++)
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? " " : "",
			 str_at(ns->u.array.values[i], "type"));
	ck_assert_str_eq(got, "pid ipc uts mount user cgroup");
	yajl_tree_free(c);
	free(json);
	plan_free(&p);

	/* root itself: one line each */
	plan_init(&p);
	set_identity(&p, 0, 0, "/root");
	add(&p, PLAN_PROC, 0, NULL, "/proc", 0);
	json = gen(&p, false);
	c = parse(json);
	expect_maps(c, "linux.uidMappings", "0:0:1");
	expect_maps(c, "linux.gidMappings", "0:0:1");
	yajl_tree_free(c);
	free(json);
	plan_free(&p);
}
END_TEST

START_TEST(generate_rootless)
{
	struct plan p;
	full_plan(&p, 1000);
	p.cgroup.memory_max = 1 << 30; /* ignored: rootless runc manages no cgroup */
	char *json = gen(&p, true);
	yajl_val c = parse(json);
	ck_assert_int_eq(num_at(c, "process.user.uid"), 0);
	ck_assert_int_eq(num_at(c, "process.user.gid"), 0);
	ck_assert_ptr_null(at(c, "process.user.additionalGids"));
	expect_maps(c, "linux.uidMappings", "0:1000:1");
	expect_maps(c, "linux.gidMappings", "0:1000:1");
	expect_mount(c, "/dev/pts", "devpts", "devpts",
		     "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620");
	expect_mount(c, "/run", "tmpfs", "tmpfs", "nosuid,nodev,mode=755,uid=0,gid=0");
	ck_assert_ptr_null(at(c, "linux.cgroupsPath"));
	ck_assert_ptr_null(at(c, "linux.resources"));
	ck_assert_str_eq(ann_at(c, "org.nscell.uid"), "1000");
	yajl_tree_free(c);
	free(json);
	/* the plan's own flag does the same */
	p.rootless = true;
	char *again = gen(&p, false);
	json = gen(&p, true);
	ck_assert_str_eq(json, again);
	free(json);
	free(again);
	plan_free(&p);
}
END_TEST

START_TEST(cgroups_hostname_vhost_net)
{
	struct plan p;
	full_plan(&p, 1000);
	p.cgroup.parent = strdup("/nscell/");
	p.cgroup.memory_max = 512 << 20;
	p.cgroup.pids_max = 256;
	p.cgroup.cpu_quota_us = 50000;
	p.cgroup.cpu_period_us = 100000;
	p.vhost = strdup("example.com");
	p.hostname = strdup("sandbox");
	p.namespaces |= PLAN_NS_NET;
	char *json = gen(&p, false);
	yajl_val c = parse(json);
	ck_assert_str_eq(str_at(c, "linux.cgroupsPath"), "/nscell/nscell-1000-example.com");
	ck_assert_int_eq(num_at(c, "linux.resources.memory.limit"), 512 << 20);
	ck_assert_int_eq(num_at(c, "linux.resources.pids.limit"), 256);
	ck_assert_int_eq(num_at(c, "linux.resources.cpu.quota"), 50000);
	ck_assert_int_eq(num_at(c, "linux.resources.cpu.period"), 100000);
	ck_assert_str_eq(str_at(c, "hostname"), "sandbox");
	ck_assert_str_eq(ann_at(c, "org.nscell.vhost"), "example.com");
	ck_assert_str_eq(str_at(at(c, "linux.namespaces")->u.array.values[1], "type"), "network");
	yajl_tree_free(c);
	free(json);
	plan_free(&p);
}
END_TEST

START_TEST(shell_when_no_argv)
{
	struct plan p;
	plan_init(&p);
	set_identity(&p, 1000, 1000, "/home/alice");
	plan_add_mount(&p, PLAN_PROC, 0, NULL, "/proc", 0, NULL);
	char *json = gen(&p, false);
	yajl_val c = parse(json);
	expect_strs(at(c, "process.args"), "/bin/sh");
	expect_strs(at(c, "process.env"), "");
	ck_assert_str_eq(str_at(c, "process.cwd"), "/home/alice");
	ck_assert_ptr_null(ann_at(c, "org.nscell.templates"));
	yajl_tree_free(c);
	free(json);
	plan_free(&p);
}
END_TEST

START_TEST(generate_refuses)
{
	struct plan p;
	nscell_error_t err = { 0 };
	char *out = NULL;
	size_t len;
	struct oci_opts o = { 0 };

	full_plan(&p, 1000);
	add(&p, PLAN_SYMLINK, 0, "x", "/usr/lib/hidden", 0);
	ck_assert_int_lt(oci_config_generate(&p, &o, &out, &len, &err), 0);
	ck_assert_ptr_null(strstr(err.msg, "\n"));
	ck_assert_msg(strstr(err.msg, "symlink /usr/lib/hidden: hidden by the bind mount at /usr"),
		      "%s", err.msg);
	plan_free(&p);

	full_plan(&p, 1000);
	p.namespaces &= ~PLAN_NS_USER;
	o.rootless = true;
	ck_assert_int_lt(oci_config_generate(&p, &o, &out, &len, &err), 0);
	ck_assert_msg(strstr(err.msg, "rootless needs a user namespace"), "%s", err.msg);
	o.rootless = false;
	p.hostname = strdup("h");
	p.namespaces &= ~PLAN_NS_UTS;
	ck_assert_int_lt(oci_config_generate(&p, &o, &out, &len, &err), 0);
	ck_assert_msg(strstr(err.msg, "needs a uts namespace"), "%s", err.msg);
	plan_free(&p);

	full_plan(&p, 1000);
	free(p.proc.argv[2]);
	p.proc.argv[2] = strdup("\xff\xfe");
	ck_assert_int_lt(oci_config_generate(&p, &o, &out, &len, &err), 0);
	ck_assert_msg(strstr(err.msg, "not valid UTF-8"), "%s", err.msg);
	ck_assert_ptr_null(out);
	plan_free(&p);
}
END_TEST

START_TEST(deterministic)
{
	struct plan a, b;
	full_plan(&a, 1000);
	full_plan(&b, 1000);
	char *x = gen(&a, false), *y = gen(&a, false), *z = gen(&b, false);
	ck_assert_uint_eq(strlen(x), strlen(y));
	ck_assert_int_eq(memcmp(x, y, strlen(x)), 0);
	ck_assert_int_eq(memcmp(x, z, strlen(x) + 1), 0);
	free(x);
	free(y);
	free(z);
	plan_free(&a);
	plan_free(&b);
}
END_TEST

static yajl_val item(yajl_val arr, size_t i)
{
	ck_assert(YAJL_IS_ARRAY(arr));
	ck_assert_uint_gt(arr->u.array.len, i);
	return arr->u.array.values[i];
}

/* linux.seccomp is the shim's filter: ioctl TIOCSTI and TIOCLINUX fail
 * with EPERM, the request masked to its low 32 bits (value the mask,
 * valueTwo the request: runc's order, checked against runc 1.1.5), for
 * every plan */
static void expect_seccomp(yajl_val c)
{
	ck_assert_str_eq(str_at(c, "linux.seccomp.defaultAction"), "SCMP_ACT_ALLOW");
#if defined(__x86_64__)
	expect_strs(at(c, "linux.seccomp.architectures"),
		    "SCMP_ARCH_X86_64 SCMP_ARCH_X86 SCMP_ARCH_X32");
#endif
	yajl_val calls = at(c, "linux.seccomp.syscalls");
	ck_assert_uint_eq(calls->u.array.len, 2);
	const long long want[] = { TIOCSTI, TIOCLINUX };
	for (size_t i = 0; i < 2; i++) {
		yajl_val r = item(calls, i);
		expect_strs(at(r, "names"), "ioctl");
		ck_assert_str_eq(str_at(r, "action"), "SCMP_ACT_ERRNO");
		ck_assert_int_eq(num_at(r, "errnoRet"), EPERM);
		ck_assert_uint_eq(at(r, "args")->u.array.len, 1);
		yajl_val a = item(at(r, "args"), 0);
		ck_assert_int_eq(num_at(a, "index"), 1);
		ck_assert_int_eq(num_at(a, "value"), 0xffffffffLL);
		ck_assert_int_eq(num_at(a, "valueTwo"), want[i]);
		ck_assert_str_eq(str_at(a, "op"), "SCMP_CMP_MASKED_EQ");
	}
#if defined(__x86_64__)
	ck_assert_int_eq(want[0], 0x5412);
	ck_assert_int_eq(want[1], 0x541C);
#endif
}

START_TEST(seccomp_filter)
{
	struct plan p;
	full_plan(&p, 1000);
	for (int rootless = 0; rootless < 2; rootless++) {
		char *json = gen(&p, rootless);
		yajl_val c = parse(json);
		expect_seccomp(c);
		yajl_tree_free(c);
		free(json);
	}
	plan_free(&p);
	/* a plan without /proc or /dev too */
	plan_init(&p);
	set_identity(&p, 1000, 1000, "/home/alice");
	char *json = gen(&p, false);
	yajl_val c = parse(json);
	expect_seccomp(c);
	expect_strs(at(c, "linux.maskedPaths"), "");
	expect_strs(at(c, "linux.readonlyPaths"), "");
	yajl_tree_free(c);
	free(json);
	plan_free(&p);
}
END_TEST

/* what the shim hides below every proc mount: in the config, and gone
 * again when read back */
START_TEST(proc_defaults)
{
	struct plan p, q;
	nscell_error_t err = { 0 };
	plan_init(&p);
	set_identity(&p, 1000, 1000, "/home/alice");
	add(&p, PLAN_PROC, 0, NULL, "/proc", 0);
	add(&p, PLAN_PROC, 0, NULL, "/srv/proc", 0);
	add(&p, PLAN_MASK, 0, NULL, "/proc/kcore", 0); /* also the template's own */
	add(&p, PLAN_REMOUNT_RO, 0, NULL, "/srv/proc/sys", 0);
	plan_sort(&p);
	char *json = gen(&p, false);
	yajl_val c = parse(json);
	expect_strs(at(c, "linux.readonlyPaths"), "/proc/sys /proc/irq /proc/bus /proc/fs "
		    "/srv/proc/sys /srv/proc/irq /srv/proc/bus /srv/proc/fs /srv/proc/sys");
	yajl_val m = at(c, "linux.maskedPaths");
	ck_assert_uint_eq(m->u.array.len, 21);
	ck_assert_str_eq(item(m, 0)->u.string, "/proc/kcore");
	ck_assert_str_eq(item(m, 9)->u.string, "/proc/asound");
	ck_assert_str_eq(item(m, 10)->u.string, "/srv/proc/kcore");
	ck_assert_str_eq(item(m, 20)->u.string, "/proc/kcore");
	yajl_tree_free(c);

	plan_init(&q);
	ck_assert_msg(oci_config_read_buffer(&q, NULL, json, strlen(json), &err) == 0, "%s",
		      err.msg);
	size_t masks = 0, ro = 0;
	for (size_t i = 0; i < q.nmounts; i++) {
		masks += q.mounts[i].op == PLAN_MASK;
		ro += q.mounts[i].op == PLAN_REMOUNT_RO;
	}
	ck_assert_uint_eq(masks, 1);
	ck_assert_uint_eq(ro, 1);
	ck_assert_int_eq(plan_find_dst(&q, "/srv/proc/sys")->op, PLAN_REMOUNT_RO);
	char *again = gen(&q, false);
	ck_assert_str_eq(json, again);
	free(again);
	free(json);
	plan_free(&q);
	plan_free(&p);
}
END_TEST

/* /dev: noexec always, nodev only with a user namespace (without one runc
 * mknods the nodes there); devpts never gid=5 */
START_TEST(dev_without_userns)
{
	struct plan p;
	full_plan(&p, 1000);
	p.namespaces &= ~PLAN_NS_USER;
	char *json = gen(&p, false);
	yajl_val c = parse(json);
	expect_mount(c, "/dev", "tmpfs", "tmpfs", "nosuid,noexec,strictatime,mode=755,size=65536k");
	expect_mount(c, "/dev/pts", "devpts", "devpts",
		     "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620");
	ck_assert_ptr_null(at(c, "linux.gidMappings"));
	yajl_tree_free(c);
	/* /dev nodev is not what nscell writes without a user namespace */
	const char *o = strstr(json, "\"noexec\",\n        \"strictatime\"");
	ck_assert_ptr_nonnull(o);
	char *bad = malloc(strlen(json) + 16);
	sprintf(bad, "%.*s\"nodev\", %s", (int)(o - json), json, o);
	struct plan q;
	nscell_error_t err = { 0 };
	plan_init(&q);
	ck_assert_int_lt(oci_config_read_buffer(&q, NULL, bad, strlen(bad), &err), 0);
	ck_assert_msg(strstr(err.msg, "mounts[0].options"), "%s", err.msg);
	plan_free(&q);
	free(bad);
	free(json);
	plan_free(&p);
}
END_TEST

/* generate → read → generate gives the same bytes */
static void round_trip(struct plan *p, bool rootless)
{
	char *first = gen(p, rootless);
	struct plan q;
	nscell_error_t err = { 0 };
	plan_init(&q);
	int rc = oci_config_read_buffer(&q, "config.json", first, strlen(first), &err);
	ck_assert_msg(rc == 0, "read: %s", err.msg);
	ck_assert_int_eq(q.rootless, rootless || p->rootless);
	ck_assert_uint_eq(q.id.uid, p->id.uid);
	char *second = gen(&q, false);
	ck_assert_str_eq(first, second);
	free(first);
	free(second);
	plan_free(&q);
}

START_TEST(round_trips)
{
	struct plan p;
	full_plan(&p, 1000);
	round_trip(&p, false);
	round_trip(&p, true);
	p.cgroup.memory_max = 1 << 28;
	p.cgroup.cpu_quota_us = 20000;
	p.cgroup.parent = strdup("web/users");
	p.vhost = strdup("example.org");
	p.hostname = strdup("box");
	p.rootfs_readonly = true;
	p.namespaces |= PLAN_NS_NET;
	round_trip(&p, false);
	plan_free(&p);

	full_plan(&p, 1000);
	p.namespaces &= ~(PLAN_NS_USER | PLAN_NS_CGROUP);
	round_trip(&p, false);
	plan_free(&p);

	plan_init(&p);
	set_identity(&p, 0, 0, "/root");
	add(&p, PLAN_DEV, 0, NULL, "/dev", 0);
	round_trip(&p, false);
	plan_free(&p);
}
END_TEST

/* process.cwd, decided once by plan_load for both back ends: the home when
 * the sandbox has it, else "/" (runc would make an empty root-owned home) */
static const char *cwd_for(const char *dir, const char *tpl, const char *cwd)
{
	static char got[256];
	char path[512];
	snprintf(path, sizeof path, "%s/t.tpl", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(tpl, f);
	fclose(f);
	struct nscell_conf conf;
	struct diags d;
	struct plan p;
	nscell_error_t err = { 0 };
	conf_init(&conf);
	diags_init(&d);
	char conf_path[512];
	snprintf(conf_path, sizeof conf_path, "%s/nscell.conf", dir);
	struct load_opts o = { .conf_path = conf_path, .server_tpl = path, .user = "root",
			       .cwd = cwd };
	ck_assert_msg(plan_load(&p, &conf, &o, &d, &err) == 0, "%s: %s", tpl, err.msg);
	ck_assert_str_eq(p.id.home, "/root");
	snprintf(got, sizeof got, "%s", p.proc.cwd);
	char *json = gen(&p, false);
	yajl_val c = parse(json);
	ck_assert_str_eq(str_at(c, "process.cwd"), got);
	yajl_tree_free(c);
	free(json);
	plan_free(&p);
	diags_free(&d);
	conf_free(&conf);
	return got;
}

START_TEST(cwd_home_in_sandbox)
{
	char dir[256], path[512];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/nscell-cwd-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/nscell.conf", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	/* not in the sandbox */
	ck_assert_str_eq(cwd_for(dir, "/proc,proc\n", NULL), "/");
	ck_assert_str_eq(cwd_for(dir, "/proc,proc\n$HOMEDIR/sub,tmpfs\n", NULL), "/");
	ck_assert_str_eq(cwd_for(dir, "/,ro-bind\n!$HOMEDIR\n", NULL), "/");
	ck_assert_str_eq(cwd_for(dir, "/nonexistent/nscell-src /,ro-bind-try\n", NULL), "/");
	/* bound, or made, at the home or by a bind above it */
	ck_assert_str_eq(cwd_for(dir, "/proc,proc\n$HOMEDIR,bind\n", NULL), "/root");
	ck_assert_str_eq(cwd_for(dir, "$HOMEDIR,tmpfs\n", NULL), "/root");
	ck_assert_str_eq(cwd_for(dir, "$HOMEDIR,dir\n", NULL), "/root");
	ck_assert_str_eq(cwd_for(dir, "/,ro-bind\n", NULL), "/root");
	ck_assert_str_eq(cwd_for(dir, "/,ro-bind\n$HOMEDIR,remount-ro\n", NULL), "/root");
	/* -d is taken as given */
	ck_assert_str_eq(cwd_for(dir, "/proc,proc\n", "/srv/x"), "/srv/x");
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ---- broken configs: edit a good one through yajl and expect a message ---- */

enum edit_kind { DROP, SET_STR, SET_NUM, SET_TRUE, SET_OBJ, SET_STRS };
struct edit {
	const char *path; /* "a/b/0/c": keys and array indexes */
	enum edit_kind kind;
	const char *s;
	const char *want; /* the error */
};

static void put_value(yajl_gen g, const struct edit *e)
{
	switch (e->kind) {
	case SET_STR:
		yajl_gen_string(g, (const unsigned char *)e->s, strlen(e->s));
		break;
	case SET_NUM:
		yajl_gen_integer(g, atoll(e->s));
		break;
	case SET_TRUE:
		yajl_gen_bool(g, 1);
		break;
	case SET_OBJ:
		yajl_gen_map_open(g);
		yajl_gen_map_close(g);
		break;
	case SET_STRS:
		yajl_gen_array_open(g);
		yajl_gen_string(g, (const unsigned char *)e->s, strlen(e->s));
		yajl_gen_array_close(g);
		break;
	case DROP:
		break;
	}
}

static void put_tree(yajl_gen g, yajl_val v, const char *path, const struct edit *e)
{
	char child[256];
	if (YAJL_IS_OBJECT(v)) {
		bool seen = false;
		yajl_gen_map_open(g);
		for (size_t i = 0; i < v->u.object.len; i++) {
			const char *k = v->u.object.keys[i];
			snprintf(child, sizeof child, "%s%s%s", path, *path ? "/" : "", k);
			bool hit = strcmp(child, e->path) == 0;
			seen |= hit;
			if (hit && e->kind == DROP)
				continue;
			yajl_gen_string(g, (const unsigned char *)k, strlen(k));
			if (hit)
				put_value(g, e);
			else
				put_tree(g, v->u.object.values[i], child, e);
		}
		const char *dot = strrchr(e->path, '/');
		size_t plen = dot ? (size_t)(dot - e->path) : 0;
		if (!seen && e->kind != DROP && strlen(path) == plen &&
		    strncmp(path, e->path, plen) == 0) {
			const char *k = dot ? dot + 1 : e->path;
			yajl_gen_string(g, (const unsigned char *)k, strlen(k));
			put_value(g, e);
		}
		yajl_gen_map_close(g);
	} else if (YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (size_t i = 0; i < v->u.array.len; i++) {
			snprintf(child, sizeof child, "%s/%zu", path, i);
			if (strcmp(child, e->path) == 0)
				put_value(g, e);
			else
				put_tree(g, v->u.array.values[i], child, e);
		}
		yajl_gen_array_close(g);
	} else if (YAJL_IS_STRING(v)) {
		yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
	} else if (YAJL_IS_INTEGER(v)) {
		yajl_gen_integer(g, YAJL_GET_INTEGER(v));
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		yajl_gen_bool(g, YAJL_IS_TRUE(v));
	} else {
		yajl_gen_null(g);
	}
}

static void expect_read_error(const char *json, size_t len, const char *want)
{
	struct plan q;
	nscell_error_t err = { 0 };
	plan_init(&q);
	ck_assert_msg(oci_config_read_buffer(&q, "config.json", json, len, &err) < 0,
		      "no error, wanted '%s'", want);
	ck_assert_msg(strstr(err.msg, want), "wanted '%s' in '%s'", want, err.msg);
	ck_assert_msg(!strchr(err.msg, '\n'), "message not on one line: '%s'", err.msg);
	plan_free(&q);
}

static const struct edit broken[] = {
	{ "ociVersion", DROP, NULL, "config.json: ociVersion: missing (required)" },
	{ "ociVersion", SET_STR, "2.0.0", "config.json: ociVersion: version '2.0.0' not supported" },
	{ "root/path", DROP, NULL, "config.json: root.path: missing (required)" },
	{ "root", DROP, NULL, "config.json: root: missing (required)" },
	{ "process", DROP, NULL, "config.json: process: missing (required)" },
	{ "process/args", DROP, NULL, "config.json: process.args: missing (required)" },
	{ "process/args", SET_STR, "x", "config.json: process.args: expected an array of strings" },
	{ "process/args/1", SET_NUM, "3", "config.json: process.args: expected an array of strings" },
	{ "process/cwd", SET_STR, "home", "config.json: process.cwd: 'home' is not an absolute" },
	{ "process/env/0", SET_STR, "NOEQUALS", "config.json: process.env[0]: expected NAME=VALUE" },
	{ "process/user/uid", SET_STR, "0", "config.json: process.user.uid: expected an integer" },
	{ "process/user/gid", SET_NUM, "-1", "config.json: process.user.gid: expected an integer" },
	{ "process/user/umask", SET_NUM, "7", "config.json: process.user.umask: only 18" },
	{ "process/user/username", SET_STR, "x", "config.json: process.user.username: not supported" },
	{ "process/terminal", SET_STR, "yes", "config.json: process.terminal: expected true or false" },
	{ "process/consoleSize", SET_OBJ, NULL,
	  "config.json: process.consoleSize.height: missing (required)" },
	{ "process/noNewPrivileges", DROP, NULL, "config.json: process.noNewPrivileges: missing" },
	{ "process/capabilities/bounding", SET_STRS, "CAP_FOO",
	  "config.json: process.capabilities.bounding[0]: 'CAP_FOO' is not a capability" },
	{ "process/capabilities/effective", SET_STRS, "CAP_KILL",
	  "config.json: process.capabilities.effective: 'CAP_KILL' is not in permitted" },
	{ "process/capabilities", DROP, NULL, "config.json: process.capabilities: missing" },
	{ "process/rlimits", SET_STRS, "x", "config.json: process.rlimits[0]: expected an object" },
	{ "process/oomScoreAdj", SET_NUM, "5", "config.json: process.oomScoreAdj: not supported" },
	{ "process/apparmorProfile", SET_STR, "x",
	  "config.json: process.apparmorProfile: not supported" },
	{ "hooks", SET_OBJ, NULL, "config.json: hooks.createRuntime: missing (nscell writes "
	  "createRuntime and poststop together)" },
	{ "domainname", SET_STR, "x", "config.json: domainname: not supported by nscell" },
	{ "linux/seccomp", DROP, NULL, "config.json: linux.seccomp: missing (nscell's filter "
	  "makes ioctl TIOCSTI and TIOCLINUX fail with EPERM" },
	{ "linux/seccomp", SET_OBJ, NULL, "config.json: linux.seccomp.defaultAction: missing" },
	{ "linux/seccomp", SET_STRS, "x", "config.json: linux.seccomp: expected an object" },
	{ "linux/seccomp/defaultAction", SET_STR, "SCMP_ACT_ERRNO",
	  "config.json: linux.seccomp.defaultAction: 'SCMP_ACT_ERRNO' not supported by nscell "
	  "(expected 'SCMP_ACT_ALLOW'" },
	{ "linux/seccomp/defaultErrnoRet", SET_NUM, "1",
	  "config.json: linux.seccomp.defaultErrnoRet: not supported by nscell" },
	{ "linux/seccomp/flags", SET_STRS, "SECCOMP_FILTER_FLAG_LOG",
	  "config.json: linux.seccomp.flags: not supported by nscell" },
	{ "linux/seccomp/listenerPath", SET_STR, "/run/x",
	  "config.json: linux.seccomp.listenerPath: not supported by nscell" },
	{ "linux/seccomp/architectures", DROP, NULL,
	  "config.json: linux.seccomp.architectures: missing (nscell names this build's" },
	{ "linux/seccomp/architectures/0", SET_STR, "SCMP_ARCH_MIPS",
	  "config.json: linux.seccomp.architectures[0]: 'SCMP_ARCH_MIPS' not supported" },
	{ "linux/seccomp/syscalls", DROP, NULL, "config.json: linux.seccomp.syscalls: missing" },
	{ "linux/seccomp/syscalls", SET_STRS, "x",
	  "config.json: linux.seccomp.syscalls: expected two rules, TIOCSTI and TIOCLINUX" },
	{ "linux/seccomp/syscalls/1", SET_STRS, "x",
	  "config.json: linux.seccomp.syscalls[1]: expected an object" },
	{ "linux/seccomp/syscalls/1/names/0", SET_STR, "write",
	  "config.json: linux.seccomp.syscalls[1].names[0]: 'write' not supported by nscell" },
	{ "linux/seccomp/syscalls/0/names", SET_OBJ, NULL,
	  "config.json: linux.seccomp.syscalls[0].names: expected [\"ioctl\"]" },
	{ "linux/seccomp/syscalls/0/action", SET_STR, "SCMP_ACT_KILL",
	  "config.json: linux.seccomp.syscalls[0].action: 'SCMP_ACT_KILL' not supported" },
	{ "linux/seccomp/syscalls/0/errnoRet", DROP, NULL,
	  "config.json: linux.seccomp.syscalls[0].errnoRet: missing (required)" },
	{ "linux/seccomp/syscalls/0/errnoRet", SET_NUM, "38",
	  "config.json: linux.seccomp.syscalls[0].errnoRet: expected 1 (nscell's filter" },
	{ "linux/seccomp/syscalls/0/comment", SET_STR, "x",
	  "config.json: linux.seccomp.syscalls[0].comment: not supported by nscell" },
	{ "linux/seccomp/syscalls/0/args", SET_STRS, "x",
	  "config.json: linux.seccomp.syscalls[0].args[0]: expected an object" },
	{ "linux/seccomp/syscalls/0/args", SET_OBJ, NULL,
	  "config.json: linux.seccomp.syscalls[0].args: expected one argument condition" },
	{ "linux/seccomp/syscalls/0/args/0/index", SET_NUM, "0",
	  "config.json: linux.seccomp.syscalls[0].args[0].index: expected 1" },
	{ "linux/seccomp/syscalls/0/args/0/op", SET_STR, "SCMP_CMP_EQ",
	  "config.json: linux.seccomp.syscalls[0].args[0].op: 'SCMP_CMP_EQ' not supported" },
	/* the mask and the request the other way round blocks more (runc 1.1.5) */
	{ "linux/seccomp/syscalls/0/args/0/value", SET_NUM, "21522",
	  "config.json: linux.seccomp.syscalls[0].args[0].value: expected 4294967295" },
	{ "linux/seccomp/syscalls/1/args/0/valueTwo", SET_NUM, "21522",
	  "config.json: linux.seccomp.syscalls[1].args[0].valueTwo: expected 21532" },
	{ "linux/seccomp/syscalls/0/args/0/valueTwo", DROP, NULL,
	  "config.json: linux.seccomp.syscalls[0].args[0].valueTwo: missing (required)" },
	{ "linux/maskedPaths", DROP, NULL, "config.json: linux.maskedPaths: '/proc/kcore' missing "
	  "(nscell-shim hides it below the proc mount at /proc" },
	{ "linux/maskedPaths/1", SET_STR, "/proc/keys",
	  "config.json: linux.maskedPaths[1]: expected '/proc/sysrq-trigger'" },
	{ "linux/readonlyPaths/3", SET_STR, "/var",
	  "config.json: linux.readonlyPaths[3]: expected '/proc/fs'" },
	{ "linux/readonlyPaths", SET_STRS, "/proc/sys",
	  "config.json: linux.readonlyPaths: '/proc/irq' missing" },
	{ "linux/sysctl", SET_OBJ, NULL, "config.json: linux.sysctl: not supported by nscell" },
	{ "linux/devices", SET_STRS, "x", "config.json: linux.devices: not supported by nscell" },
	{ "linux", DROP, NULL, "config.json: linux: missing (required)" },
	{ "linux/namespaces/0/type", SET_STR, "time",
	  "config.json: linux.namespaces[0].type: namespace 'time' not supported" },
	{ "linux/namespaces/0/path", SET_STR, "/proc/1/ns/pid",
	  "config.json: linux.namespaces[0].path: not supported by nscell (joining" },
	{ "linux/rootfsPropagation", SET_STR, "shared",
	  "config.json: linux.rootfsPropagation: 'shared' not supported" },
	{ "linux/uidMappings/1/hostID", SET_NUM, "2000",
	  "config.json: linux.uidMappings: not a mapping nscell writes for uid 1000" },
	{ "linux/gidMappings", DROP, NULL, "config.json: linux.gidMappings: missing" },
	{ "linux/resources", SET_OBJ, NULL, "config.json: linux.cgroupsPath: missing" },
	{ "linux/maskedPaths/10", SET_STR, "rel", "config.json: linux.maskedPaths[10]: 'rel'" },
	{ "mounts/0/type", SET_STR, "securityfs",
	  "config.json: mounts[0].type: mount type 'securityfs'" },
	{ "mounts", SET_STRS, "x", "config.json: mounts[0]: expected an object" },
	{ "mounts/12/type", SET_STR, "overlay", "config.json: mounts[12].type: mount type 'overlay'" },
	{ "mounts/9/options/0", SET_STR, "rbind",
	  "config.json: mounts[9].options: 'rbind' not supported by nscell on a tmpfs mount" },
	{ "mounts/9/type", SET_STR, "cgroup",
	  "config.json: mounts[9].type: a cgroup mount in a cgroup namespace not supported" },
	{ "mounts/13/options/1", SET_STR, "noexec",
	  "config.json: mounts[13].options: 'noexec' not supported by nscell on a bind mount" },
	{ "mounts/13/options/0", SET_STR, "bind",
	  "config.json: mounts[13].options: 'bind' (not recursive) not supported" },
	{ "mounts/13/options/2", SET_STR, "rnosuid",
	  "config.json: mounts[13].options: 'rnosuid' given twice" },
	/* the plain forms change the top mount only */
	{ "mounts/13/options/1", SET_STR, "ro", "config.json: mounts[13].options: 'ro' (the top "
	  "mount only) not supported by nscell on a bind mount: use 'rro'" },
	{ "mounts/7/options/1", SET_STR, "nosuid", "config.json: mounts[7].options: 'nosuid' (the "
	  "top mount only) not supported by nscell on a bind mount: use 'rnosuid'" },
	{ "mounts/7/options/2", SET_STR, "nodev", "config.json: mounts[7].options: 'nodev' (the "
	  "top mount only) not supported by nscell on a bind mount: use 'rnodev'" },
	{ "mounts/6/options/1", SET_STR, "ro", "config.json: mounts[6].options: 'ro' (the top "
	  "mount only) not supported by nscell on a bind mount: use 'rro'" },
	/* /dev without nodev in a user namespace, devpts with gid=5 */
	{ "mounts/0/options/2", DROP, NULL,
	  "config.json: mounts[0].options: 'noexec' not supported by nscell on a tmpfs mount" },
	{ "mounts/1/options/4", SET_STR, "gid=5",
	  "config.json: mounts[1].options: 'gid=5' not supported by nscell on a devpts mount" },
	{ "mounts/13/destination", DROP, NULL, "config.json: mounts[13].destination: missing" },
	{ "mounts/13/destination", SET_STR, "/usr/../etc",
	  "config.json: mounts[13].destination: '/usr/../etc' is not an absolute, normalised" },
	{ "mounts/13/uidMappings", SET_OBJ, NULL,
	  "config.json: mounts[13].uidMappings: not supported by nscell" },
	{ "mounts/1/source", SET_STR, "x", "config.json: mounts[1].source: expected 'devpts'" },
	{ "mounts/1/type", SET_STR, "tmpfs", "config.json: mounts[1]: expected the devpts /dev/pts" },
	{ "mounts/9/options/2", SET_STR, "mode=abc",
	  "config.json: mounts[9].options: a tmpfs needs mode=OCTAL" },
	{ "mounts/9/options/3", SET_STR, "uid=0",
	  "config.json: mounts[9].options: 'uid=0' not supported by nscell on a tmpfs mount" },
	{ "mounts/9/options/4", DROP, NULL,
	  "config.json: mounts[9].options: 'gid=1000' missing (nscell writes it on a tmpfs" },
	{ "annotations/org.nscell.uid", SET_STR, "7",
	  "config.json: annotations.org.nscell.uid: '7' is not the user's uid 1000" },
	{ "annotations/org.nscell.colour", SET_STR, "red",
	  "config.json: annotations.org.nscell.colour: not an annotation nscell knows" },
	{ "annotations/org.nscell.tmp", SET_STR, "/nowhere",
	  "config.json: annotations.org.nscell.tmp: no bind mount at /nowhere" },
};

START_TEST(broken_configs)
{
	struct plan p;
	full_plan(&p, 1000);
	char *good = gen(&p, false);
	yajl_val tree = parse(good);
	/* the indexes above are into this list */
	ck_assert_str_eq(str_at(at(tree, "mounts")->u.array.values[13], "destination"), "/usr");
	ck_assert_str_eq(str_at(at(tree, "mounts")->u.array.values[9], "destination"), "/run");
	for (size_t i = 0; i < sizeof broken / sizeof *broken; i++) {
		yajl_gen g = yajl_gen_alloc(NULL);
		put_tree(g, tree, "", &broken[i]);
		const unsigned char *buf;
		size_t len;
		ck_assert_int_eq(yajl_gen_get_buf(g, &buf, &len), yajl_gen_status_ok);
		expect_read_error((const char *)buf, len, broken[i].want);
		yajl_gen_free(g);
	}
	/* bad JSON: cut short, trailing garbage, not an object, a NUL */
	expect_read_error(good, strlen(good) / 2, "config.json: invalid JSON: ");
	char *twice = malloc(2 * strlen(good) + 1);
	strcpy(twice, good);
	strcat(twice, good);
	expect_read_error(twice, strlen(twice), "config.json: invalid JSON: ");
	free(twice);
	expect_read_error("", 0, "config.json: invalid JSON");
	expect_read_error("[1]", 3, "config.json: expected a JSON object");
	expect_read_error(good, strlen(good) + 1, "config.json: invalid JSON: contains a NUL");
	/* a duplicate key */
	char *dup = strdup(good);
	char *k = strstr(dup, "\"mounts\"");
	ck_assert_ptr_nonnull(k);
	memcpy(k, "\"linux\" ", 8);
	expect_read_error(dup, strlen(dup), "config.json: linux: given twice");
	free(dup);
	yajl_tree_free(tree);
	free(good);
	plan_free(&p);

	/* a file that is not there names itself */
	struct plan q;
	nscell_error_t err = { 0 };
	plan_init(&q);
	ck_assert_int_lt(oci_config_read_file(&q, "/nonexistent/config.json", &err), 0);
	ck_assert_msg(strstr(err.msg, "/nonexistent/config.json"), "%s", err.msg);
	plan_free(&q);
}
END_TEST

START_TEST(foreign_annotations_ignored)
{
	struct plan p;
	full_plan(&p, 1000);
	char *good = gen(&p, false);
	yajl_val tree = parse(good);
	struct edit e = { "annotations/com.example.x", SET_STR, "y", NULL };
	yajl_gen g = yajl_gen_alloc(NULL);
	put_tree(g, tree, "", &e);
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	struct plan q;
	nscell_error_t err = { 0 };
	plan_init(&q);
	ck_assert_msg(oci_config_read_buffer(&q, NULL, (const char *)buf, len, &err) == 0, "%s",
		      err.msg);
	char *again = gen(&q, false);
	ck_assert_str_eq(again, good);
	free(again);
	plan_free(&q);
	yajl_gen_free(g);
	yajl_tree_free(tree);
	free(good);
	plan_free(&p);
}
END_TEST


/* ---- nscell's hooks and origin annotations (oci/hooks.c) ---- */

static char *gen_hooks(const struct plan *p, const struct oci_hooks *h)
{
	struct oci_opts o = { .hooks = true, .hook_info = h };
	nscell_error_t err = { 0 };
	char *out = NULL;
	size_t len = 0;
	ck_assert_msg(oci_config_generate(p, &o, &out, &len, &err) == 0, "generate: %s", err.msg);
	return out;
}

/* a copy of json with the first `from` replaced by `to` */
static char *replaced(const char *json, const char *from, const char *to)
{
	const char *at = strstr(json, from);
	ck_assert_msg(at != NULL, "'%s' not in the config", from);
	char *out = malloc(strlen(json) + strlen(to) + 1);
	size_t head = (size_t)(at - json);
	memcpy(out, json, head);
	strcpy(out + head, to);
	strcat(out, at + strlen(from));
	return out;
}

START_TEST(hooks_round_trip)
{
	struct plan p;
	full_plan(&p, 1000);
	struct oci_hooks h = { .bin = "/usr/bin/nscell", .state_dir = "/run/test-state",
			       .conf = "/etc/nscell/nscell.conf", .server_tpl = "/etc/nscell/s.tpl",
			       .vhost_tpl = "/etc/nscell/v.tpl", .hash = "0123456789abcdef" };
	char *first = gen_hooks(&p, &h);
	yajl_val c = parse(first);
	const char *cr[] = { "hooks", "createRuntime", NULL };
	yajl_val v = yajl_tree_get(c, cr, yajl_t_array);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(v->u.array.len, 1);
	ck_assert_str_eq(str_at(v->u.array.values[0], "path"), "/usr/bin/nscell");
	expect_strs(at(v->u.array.values[0], "args"), "nscell hook createRuntime");
	expect_strs(at(v->u.array.values[0], "env"), "NSCELL_STATE_DIR=/run/test-state");
	const char *ps[] = { "hooks", "poststop", NULL };
	ck_assert_ptr_nonnull(yajl_tree_get(c, ps, yajl_t_array));
	ck_assert_str_eq(ann_at(c, OCI_ANN_CONF), "/etc/nscell/nscell.conf");
	ck_assert_str_eq(ann_at(c, OCI_ANN_SERVER_TPL), "/etc/nscell/s.tpl");
	ck_assert_str_eq(ann_at(c, OCI_ANN_VHOST_TPL), "/etc/nscell/v.tpl");
	ck_assert_str_eq(ann_at(c, OCI_ANN_HASH), "0123456789abcdef");
	yajl_tree_free(c);

	/* read back: the same hooks and annotations, the same bytes again */
	struct plan q;
	struct oci_hooks r;
	nscell_error_t err = { 0 };
	plan_init(&q);
	ck_assert_msg(oci_config_read_buffer_hooks(&q, NULL, first, strlen(first), &r, &err) == 0,
		      "read: %s", err.msg);
	ck_assert_str_eq(r.bin, h.bin);
	ck_assert_str_eq(r.state_dir, h.state_dir);
	ck_assert_str_eq(r.conf, h.conf);
	ck_assert_str_eq(r.server_tpl, h.server_tpl);
	ck_assert_str_eq(r.vhost_tpl, h.vhost_tpl);
	ck_assert_str_eq(r.hash, h.hash);
	char *second = gen_hooks(&q, &r);
	ck_assert_str_eq(first, second);
	free(second);
	/* the plain reader accepts them as well (and drops them) */
	plan_free(&q);
	plan_init(&q);
	ck_assert_msg(oci_config_read_buffer(&q, NULL, first, strlen(first), &err) == 0, "%s",
		      err.msg);
	char *plain = gen(&q, false), *want = gen(&p, false);
	ck_assert_str_eq(plain, want);
	free(plain);
	free(want);
	oci_hooks_free(&r);
	plan_free(&q);
	free(first);

	/* no state directory, no origin: no env, no such annotations */
	struct oci_hooks bare = { .bin = "/usr/bin/nscell" };
	first = gen_hooks(&p, &bare);
	ck_assert_ptr_null(strstr(first, "NSCELL_STATE_DIR"));
	ck_assert_ptr_null(strstr(first, OCI_ANN_HASH));
	plan_init(&q);
	ck_assert_int_eq(oci_config_read_buffer_hooks(&q, NULL, first, strlen(first), &r, &err), 0);
	ck_assert_ptr_null(r.state_dir);
	second = gen_hooks(&q, &r);
	ck_assert_str_eq(first, second);
	oci_hooks_free(&r);
	plan_free(&q);
	free(first);
	free(second);

	/* what the generator refuses */
	struct oci_hooks rel = { .bin = "nscell" };
	struct oci_opts o = { .hooks = true, .hook_info = &rel };
	char *out = NULL;
	size_t len;
	ck_assert_int_lt(oci_config_generate(&p, &o, &out, &len, &err), 0);
	ck_assert_msg(strstr(err.msg, "hooks: the hook program 'nscell' is not an absolute path"),
		      "%s", err.msg);
	o.hook_info = NULL;
	ck_assert_int_lt(oci_config_generate(&p, &o, &out, &len, &err), 0);
	ck_assert_msg(strstr(err.msg, "no hook program given"), "%s", err.msg);
	plan_free(&p);
}
END_TEST

START_TEST(hooks_refused)
{
	static const struct {
		const char *from, *to, *want;
	} bad[] = {
		{ "\"createRuntime\": [", "\"prestart\": [",
		  "config.json: hooks.prestart: not supported by nscell" },
		{ "\"hook\",\n          \"createRuntime\"", "\"hook\",\n          \"poststop\"",
		  "hooks.createRuntime[0].args: not nscell's hook" },
		{ "\"path\": \"/usr/bin/nscell\"", "\"path\": \"/usr/bin/other\"",
		  "hooks.poststop: not the same program and environment as hooks.createRuntime" },
		{ "\"path\": \"/usr/bin/nscell\"", "\"path\": \"nscell\"",
		  "hooks.createRuntime[0].path: 'nscell' is not an absolute, normalised path" },
		{ "NSCELL_STATE_DIR=/s", "LD_PRELOAD=/x.so",
		  "hooks.createRuntime[0].env: 'LD_PRELOAD=/x.so': nscell's hooks take only" },
		{ "\"NSCELL_STATE_DIR=/s\"", "\"NSCELL_STATE_DIR=/s\"], \"timeout\": [5",
		  "hooks.createRuntime[0].timeout: not supported by nscell" },
		{ "\"/etc/nscell/nscell.conf\"", "\"nscell.conf\"",
		  "annotations.org.nscell.conf: 'nscell.conf' is not an absolute, normalised path" },
		{ "\"0123456789abcdef\"", "\"xyz\"",
		  "annotations.org.nscell.hash: 'xyz' is not a hash nscell writes" },
	};
	struct plan p;
	full_plan(&p, 1000);
	struct oci_hooks h = { .bin = "/usr/bin/nscell", .state_dir = "/s",
			       .conf = "/etc/nscell/nscell.conf", .hash = "0123456789abcdef" };
	char *good = gen_hooks(&p, &h);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char *json = replaced(good, bad[i].from, bad[i].to);
		expect_read_error(json, strlen(json), bad[i].want);
		free(json);
	}
	/* a stage missing */
	char *json = replaced(good, "\"poststop\": [", "\"createRuntime\": [");
	expect_read_error(json, strlen(json), "hooks.createRuntime: given twice");
	free(json);
	free(good);
	plan_free(&p);
}
END_TEST

/* ---- bundle export ---- */

static char T[256];   /* scratch dir of the test */
static uid_t T_uid;   /* the sandbox user: nobody when root, else ourselves */

static void path_of(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", T, rel);
}

static void write_host_file(const char *rel, size_t size, mode_t mode)
{
	char path[512];
	path_of(path, sizeof path, rel);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < size; i++)
		fputc('a' + i % 26, f);
	fclose(f);
	chmod(path, mode);
}

static void export_setup(void)
{
	snprintf(T, sizeof T, "%s/nscell-oci-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(T));
	chmod(T, 0755);
	T_uid = geteuid() == 0 ? 65534 : geteuid();
	char path[512];
	path_of(path, sizeof path, "home");
	mkdir(path, 0755);
	if (geteuid() == 0)
		ck_assert_int_eq(chown(path, T_uid, T_uid), 0);
	path_of(path, sizeof path, "srcdir");
	mkdir(path, 0755);
	write_host_file("srcfile", 10, 0644);
	write_host_file("copysrc", 300000, 0640); /* more than a pipe holds */
}

static void export_teardown(void)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", T);
	ck_assert_int_eq(system(cmd), 0);
}

static void export_plan(struct plan *p)
{
	char home[512], tmp[512], srcdir[512], srcfile[512], copysrc[512], missing[512];
	char run_user[64];
	path_of(home, sizeof home, "home");
	path_of(tmp, sizeof tmp, "home/.nscell/tmp");
	path_of(srcdir, sizeof srcdir, "srcdir");
	path_of(srcfile, sizeof srcfile, "srcfile");
	path_of(copysrc, sizeof copysrc, "copysrc");
	path_of(missing, sizeof missing, "missing");
	snprintf(run_user, sizeof run_user, "/run/user/%u", (unsigned)T_uid);
	plan_init(p);
	set_identity(p, T_uid, T_uid, home);
	add(p, PLAN_BIND, PLAN_F_RO, "/usr", "/usr", 0);
	add(p, PLAN_BIND, 0, srcdir, "/data", 0);
	add(p, PLAN_BIND, PLAN_F_RO, srcfile, "/conf/file", 0);
	add(p, PLAN_TMP, 0, tmp, "/tmp", 0);
	add(p, PLAN_TMPFS, 0, NULL, "/run", 0755);
	add(p, PLAN_DIR, 0, NULL, run_user, 0700);
	add(p, PLAN_DIR, 0, NULL, "/var", 0751);
	add(p, PLAN_SYMLINK, 0, "../tmp", "/var/tmp", 0);
	add(p, PLAN_PROC, 0, NULL, "/proc", 0);
	add(p, PLAN_DEV, 0, NULL, "/dev", 0);
	struct plan_mount *f = plan_add_mount(p, PLAN_FILE, 0, NULL, "/etc/passwd", 0644, &origin);
	plan_mount_set_data(f, "alice:x:1:1::/:/bin/sh\n", 23);
	add(p, PLAN_COPY, 0, copysrc, "/etc/copied", 0);
	add(p, PLAN_COPY, PLAN_F_TRY, missing, "/etc/missing", 0);
	add(p, PLAN_COPY, 0, copysrc, "/data/hidden-copy", 0);
	plan_sort(p);
}

static void expect_stat(const char *rel, mode_t type, mode_t mode, uid_t uid)
{
	char path[512];
	struct stat st;
	path_of(path, sizeof path, rel);
	ck_assert_msg(lstat(path, &st) == 0, "%s: %s", rel, strerror(errno));
	ck_assert_msg((st.st_mode & S_IFMT) == type, "%s: wrong type", rel);
	ck_assert_msg((st.st_mode & 07777) == mode, "%s: mode %o, wanted %o", rel,
		      (unsigned)(st.st_mode & 07777), (unsigned)mode);
	ck_assert_msg(st.st_uid == uid, "%s: owner %u, wanted %u", rel, (unsigned)st.st_uid,
		      (unsigned)uid);
}

static bool exists(const char *rel)
{
	char path[512];
	struct stat st;
	path_of(path, sizeof path, rel);
	return lstat(path, &st) == 0;
}

static char *slurp(const char *rel, size_t *len)
{
	char path[512];
	path_of(path, sizeof path, rel);
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", rel, strerror(errno));
	char *buf = NULL;
	size_t cap = 0;
	*len = 0;
	for (;;) {
		if (*len + 65536 + 1 > cap)
			buf = realloc(buf, cap = 2 * cap + 65536 + 1);
		size_t n = fread(buf + *len, 1, 65536, f);
		if (!n)
			break;
		*len += n;
	}
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static int export_to(const struct plan *p, const char *rel, bool rootless, nscell_error_t *err)
{
	char dir[512];
	struct oci_opts o = { .rootless = rootless };
	path_of(dir, sizeof dir, rel);
	return bundle_export(p, dir, &o, err);
}

START_TEST(export_layout)
{
	struct plan p;
	nscell_error_t err = { 0 };
	uid_t me = geteuid();
	char rel[128];
	export_plan(&p);
	ck_assert_msg(export_to(&p, "b", false, &err) == 0, "%s", err.msg);
	expect_stat("b", S_IFDIR, 0700, me);
	expect_stat("b/config.json", S_IFREG, 0644, me);
	expect_stat("b/rootfs", S_IFDIR, 0755, me);
	expect_stat("b/rootfs/usr", S_IFDIR, 0755, me);
	expect_stat("b/rootfs/data", S_IFDIR, 0755, me);
	expect_stat("b/rootfs/conf", S_IFDIR, 0755, me);
	expect_stat("b/rootfs/conf/file", S_IFREG, 0644, me); /* a file bind's mount point */
	expect_stat("b/rootfs/tmp", S_IFDIR, 0755, me);
	expect_stat("b/rootfs/proc", S_IFDIR, 0755, me);
	expect_stat("b/rootfs/dev", S_IFDIR, 0755, me);
	expect_stat("b/rootfs/run", S_IFDIR, 0755, me);
	expect_stat("b/rootfs/var", S_IFDIR, 0751, T_uid);
	expect_stat("b/rootfs/var/tmp", S_IFLNK, 0777, me);
	expect_stat("b/rootfs/etc/passwd", S_IFREG, 0644, me);
	expect_stat("b/rootfs/etc/copied", S_IFREG, 0640, me);
	ck_assert(!exists("b/rootfs/etc/missing"));
	/* hidden by the /run tmpfs and the /data bind: in files/ */
	ck_assert(!exists("b/rootfs/run/user"));
	snprintf(rel, sizeof rel, "b/files/run/user/%u", (unsigned)T_uid);
	expect_stat(rel, S_IFDIR, 0700, T_uid);
	expect_stat("b/files/data/hidden-copy", S_IFREG, 0640, me);
	ck_assert(!exists("b/rootfs/data/hidden-copy"));
	/* the tmp source, made as the user */
	expect_stat("home/.nscell/tmp", S_IFDIR, 0700, T_uid);

	char target[64];
	char link[512];
	path_of(link, sizeof link, "b/rootfs/var/tmp");
	ssize_t n = readlink(link, target, sizeof target - 1);
	ck_assert_int_eq(n, 6);
	target[n] = '\0';
	ck_assert_str_eq(target, "../tmp");
	size_t len, srclen;
	char *data = slurp("b/rootfs/etc/passwd", &len);
	ck_assert_str_eq(data, "alice:x:1:1::/:/bin/sh\n");
	free(data);
	char *src = slurp("copysrc", &srclen);
	data = slurp("b/rootfs/etc/copied", &len);
	ck_assert_uint_eq(len, 300000);
	ck_assert_int_eq(memcmp(src, data, len), 0);
	free(data);
	free(src);

	/* config.json: the plan without the skipped copy-try */
	char *json = slurp("b/config.json", &len);
	yajl_val c = parse(json);
	ck_assert_ptr_null(mount_at(c, "/etc/missing"));
	ck_assert_ptr_null(mount_at(c, "/etc/passwd"));
	expect_mount(c, "/data/hidden-copy", "bind", "files/data/hidden-copy",
		     "rbind,rnosuid,rnodev,rro");
	snprintf(rel, sizeof rel, "/run/user/%u", (unsigned)T_uid);
	snprintf(target, sizeof target, "files%s", rel);
	expect_mount(c, rel, "bind", target, "rbind,rnosuid,rnodev");
	yajl_tree_free(c);
	free(json);
	plan_free(&p);
}
END_TEST

START_TEST(export_read_export)
{
	struct plan p, q;
	nscell_error_t err = { 0 };
	char path[512];
	export_plan(&p);
	ck_assert_msg(export_to(&p, "b1", false, &err) == 0, "%s", err.msg);
	size_t len;
	char *first = slurp("b1/config.json", &len);

	/* read the bundle back: the same config, and files/ as plan entries */
	plan_init(&q);
	path_of(path, sizeof path, "b1/config.json");
	ck_assert_msg(oci_config_read_file(&q, path, &err) == 0, "%s", err.msg);
	struct plan_mount *hc = plan_find_dst(&q, "/data/hidden-copy");
	ck_assert_ptr_nonnull(hc);
	ck_assert_int_eq(hc->op, PLAN_FILE);
	ck_assert_uint_eq(hc->len, 300000);
	ck_assert_uint_eq(hc->mode, 0640);
	ck_assert_ptr_nonnull(q.rootfs);
	ck_assert_str_eq(q.rootfs, "rootfs");
	char *again = gen(&q, false);
	ck_assert_str_eq(first, again);
	free(again);

	/* and export it again: byte-identical config.json and files/ */
	ck_assert_msg(export_to(&q, "b2", false, &err) == 0, "%s", err.msg);
	char *second = slurp("b2/config.json", &len);
	ck_assert_str_eq(first, second);
	size_t l1, l2;
	char *f1 = slurp("b1/files/data/hidden-copy", &l1);
	char *f2 = slurp("b2/files/data/hidden-copy", &l2);
	ck_assert_uint_eq(l1, l2);
	ck_assert_int_eq(memcmp(f1, f2, l1), 0);
	char rel[128];
	snprintf(rel, sizeof rel, "b2/files/run/user/%u", (unsigned)T_uid);
	expect_stat(rel, S_IFDIR, 0700, T_uid);
	free(f1);
	free(f2);
	free(first);
	free(second);
	plan_free(&q);

	/* a buffer has no bundle: the binds stay relative, and export refuses them */
	first = slurp("b1/config.json", &len);
	plan_init(&q);
	ck_assert_msg(oci_config_read_buffer(&q, "b1", first, len, &err) == 0, "%s", err.msg);
	hc = plan_find_dst(&q, "/data/hidden-copy");
	ck_assert_int_eq(hc->op, PLAN_BIND);
	ck_assert_str_eq(hc->src, "files/data/hidden-copy");
	again = gen(&q, false);
	ck_assert_str_eq(first, again);
	ck_assert_int_lt(export_to(&q, "b3", false, &err), 0);
	ck_assert_msg(strstr(err.msg, "relative to the bundle"), "%s", err.msg);
	ck_assert(!exists("b3"));
	free(again);
	free(first);
	plan_free(&q);
	plan_free(&p);
}
END_TEST

START_TEST(export_refuses_and_cleans_up)
{
	struct plan p;
	nscell_error_t err = { 0 };
	char path[512], other[512];
	export_plan(&p);

	/* a non-empty directory is left alone */
	path_of(path, sizeof path, "full");
	mkdir(path, 0755);
	write_host_file("full/keep", 3, 0644);
	ck_assert_int_lt(export_to(&p, "full", false, &err), 0);
	ck_assert_msg(strstr(err.msg, "exists and is not empty"), "%s", err.msg);
	ck_assert(exists("full/keep"));
	ck_assert(!exists("full/rootfs"));

	/* a symlink is refused, and what it points to untouched */
	path_of(path, sizeof path, "empty");
	mkdir(path, 0755);
	path_of(other, sizeof other, "link");
	ck_assert_int_eq(symlink(path, other), 0);
	ck_assert_int_lt(export_to(&p, "link", false, &err), 0);
	ck_assert_msg(strstr(err.msg, "a symlink"), "%s", err.msg);
	ck_assert(!exists("empty/rootfs"));

	/* a missing source: the error names it and its line, nothing is left */
	add(&p, PLAN_BIND, 0, "/nonexistent/nscell-src", "/zzz", 0);
	ck_assert_int_lt(export_to(&p, "gone", false, &err), 0);
	ck_assert_msg(strstr(err.msg, "bind /zzz: source /nonexistent/nscell-src: No such file"),
		      "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "(t.tpl:1:1)"), "%s", err.msg);
	ck_assert(!exists("gone"));
	/* an empty directory that was there stays, empty */
	ck_assert_int_lt(export_to(&p, "empty", false, &err), 0);
	ck_assert(exists("empty"));
	ck_assert(!exists("empty/rootfs"));
	ck_assert(!exists("empty/config.json"));
	plan_free(&p);

	/* a planted symlink in the user's tmp path is never followed */
	export_plan(&p);
	path_of(path, sizeof path, "home/.nscell");
	path_of(other, sizeof other, "srcdir");
	ck_assert_int_eq(symlink(other, path), 0);
	ck_assert_int_lt(export_to(&p, "b", false, &err), 0);
	ck_assert_msg(strstr(err.msg, "component '.nscell' is a symlink"), "%s", err.msg);
	ck_assert(!exists("b"));
	ck_assert(!exists("srcdir/tmp"));
	plan_free(&p);

	/* nor a symlink as the source of a bind in a user's tree */
	export_plan(&p);
	path_of(path, sizeof path, "home/evil");
	ck_assert_int_eq(symlink("/etc", path), 0);
	add(&p, PLAN_BIND, PLAN_F_USER_PATH, path, "/evil", 0);
	ck_assert_int_lt(export_to(&p, "b", false, &err), 0);
	ck_assert_msg(strstr(err.msg, "is a symlink in a user's tree"), "%s", err.msg);
	ck_assert(!exists("b"));
	plan_free(&p);
}
END_TEST

START_TEST(export_rootless_owned_by_caller)
{
	struct plan p;
	nscell_error_t err = { 0 };
	export_plan(&p);
	ck_assert_msg(export_to(&p, "b", true, &err) == 0, "%s", err.msg);
	expect_stat("b/rootfs/var", S_IFDIR, 0751, geteuid());
	size_t len;
	char *json = slurp("b/config.json", &len);
	yajl_val c = parse(json);
	char want[64];
	snprintf(want, sizeof want, "0:%u:1", (unsigned)T_uid);
	expect_maps(c, "linux.uidMappings", want);
	ck_assert_int_eq(num_at(c, "process.user.uid"), 0);
	yajl_tree_free(c);
	free(json);
	plan_free(&p);
}
END_TEST

static Suite *oci_export_suite(void)
{
	Suite *s = suite_create("oci");
	TCase *tc = tcase_create("export");
	tcase_add_checked_fixture(tc, export_setup, export_teardown);
	tcase_add_test(tc, export_layout);
	tcase_add_test(tc, export_read_export);
	tcase_add_test(tc, export_refuses_and_cleans_up);
	tcase_add_test(tc, export_rootless_owned_by_caller);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *oci_suite(void)
{
	Suite *s = oci_export_suite();
	TCase *tc = tcase_create("oci");
	tcase_add_test(tc, generate_root);
	tcase_add_test(tc, mount_kinds);
	tcase_add_test(tc, mappings_root);
	tcase_add_test(tc, generate_rootless);
	tcase_add_test(tc, cgroups_hostname_vhost_net);
	tcase_add_test(tc, shell_when_no_argv);
	tcase_add_test(tc, generate_refuses);
	tcase_add_test(tc, deterministic);
	tcase_add_test(tc, seccomp_filter);
	tcase_add_test(tc, proc_defaults);
	tcase_add_test(tc, dev_without_userns);
	tcase_add_test(tc, cwd_home_in_sandbox);
	tcase_add_test(tc, round_trips);
	tcase_add_test(tc, broken_configs);
	tcase_add_test(tc, foreign_annotations_ignored);
	tcase_add_test(tc, hooks_round_trip);
	tcase_add_test(tc, hooks_refused);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(oci_suite)
