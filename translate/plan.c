/* The sandbox plan: construction, ordering and release. */
#include "plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

void plan_init(struct plan *p)
{
	memset(p, 0, sizeof *p);
	p->namespaces = PLAN_NS_MOUNT | PLAN_NS_PID | PLAN_NS_IPC | PLAN_NS_UTS |
			PLAN_NS_USER | PLAN_NS_CGROUP;
}

static void mount_free(struct plan_mount *m)
{
	free(m->src);
	free(m->dst);
	free(m->data);
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->nmounts; i++)
		mount_free(&p->mounts[i]);
	free(p->mounts);
	free(p->hostname);
	free(p->id.user);
	free(p->id.group);
	free(p->id.groups);
	free(p->id.home);
	free(p->id.shell);
	plan_strv_free(p->proc.argv);
	plan_strv_free(p->proc.env);
	free(p->proc.cwd);
	free(p->proc.rlimits);
	free(p->cgroup.parent);
	free(p->cgroup.path);
	free(p->cgroup.devices);
	free(p->vhost);
	free(p->rootfs);
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	free(p->files);
	memset(p, 0, sizeof *p);
}

const char *plan_intern_file(struct plan *p, const char *file)
{
	if (!file)
		return NULL;
	for (size_t i = 0; i < p->nfiles; i++)
		if (strcmp(p->files[i], file) == 0)
			return p->files[i];
	char **v = realloc(p->files, (p->nfiles + 1) * sizeof *v);
	if (!v)
		return NULL;
	p->files = v;
	if (!(v[p->nfiles] = strdup(file)))
		return NULL;
	return v[p->nfiles++];
}

static char *dup_or_null(const char *s, bool *failed)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*failed = true;
	return d;
}

struct plan_mount *plan_add_mount(struct plan *p, enum plan_op op, unsigned flags,
				  const char *src, const char *dst, mode_t mode,
				  const struct plan_origin *origin)
{
	if (p->nmounts == p->cap_mounts) {
		size_t cap = p->cap_mounts ? p->cap_mounts * 2 : 32;
		struct plan_mount *v = realloc(p->mounts, cap * sizeof *v);
		if (!v)
			return NULL;
		p->mounts = v;
		p->cap_mounts = cap;
	}
	struct plan_mount *m = &p->mounts[p->nmounts];
	bool failed = false;
	memset(m, 0, sizeof *m);
	m->op = op;
	m->flags = flags;
	m->mode = mode;
	m->src = dup_or_null(src, &failed);
	m->dst = dup_or_null(dst, &failed);
	if (origin) {
		m->origin = *origin;
		m->origin.file = plan_intern_file(p, origin->file);
	}
	if (failed) {
		mount_free(m);
		return NULL;
	}
	p->nmounts++;
	return m;
}

int plan_mount_set_data(struct plan_mount *m, const char *data, size_t len)
{
	char *d = malloc(len ? len : 1);
	if (!d)
		return -1;
	memcpy(d, data, len);
	free(m->data);
	m->data = d;
	m->len = len;
	return 0;
}

struct plan_mount *plan_find_dst(struct plan *p, const char *dst)
{
	for (size_t i = 0; i < p->nmounts; i++)
		if (p->mounts[i].dst && strcmp(p->mounts[i].dst, dst) == 0)
			return &p->mounts[i];
	return NULL;
}

void plan_remove_mount(struct plan *p, size_t index)
{
	if (index >= p->nmounts)
		return;
	mount_free(&p->mounts[index]);
	memmove(&p->mounts[index], &p->mounts[index + 1],
		(p->nmounts - index - 1) * sizeof *p->mounts);
	p->nmounts--;
}

void plan_clear_mount(struct plan *p, size_t index)
{
	if (index >= p->nmounts)
		return;
	mount_free(&p->mounts[index]);
	p->mounts[index] = (struct plan_mount){ .dst = NULL };
}

void plan_drop_cleared(struct plan *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nmounts; i++)
		if (p->mounts[i].dst)
			p->mounts[n++] = p->mounts[i];
	p->nmounts = n;
}

/* Compare paths so that a parent sorts before its children: '/' ranks
 * below every other byte. */
static int path_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char ca = *a == '/' ? 1 : (unsigned char)*a;
		unsigned char cb = *b == '/' ? 1 : (unsigned char)*b;
		if (ca != cb || !ca)
			return (int)ca - (int)cb;
	}
}

static int mount_rank(const struct plan_mount *m)
{
	return m->op == PLAN_REMOUNT_RO ? 1 : 0;
}

static int mount_cmp(const struct plan_mount *a, const struct plan_mount *b)
{
	int r = mount_rank(a) - mount_rank(b);
	if (r)
		return r;
	if (mount_rank(a))
		return 0; /* remount-ro entries keep their template order */
	return path_cmp(a->dst ? a->dst : "", b->dst ? b->dst : "");
}

/* Stable merge sort: equal keys keep their template order. */
void plan_sort(struct plan *p)
{
	size_t n = p->nmounts;
	if (n < 2)
		return;
	struct plan_mount *tmp = malloc(n * sizeof *tmp);
	if (!tmp) {
		/* insertion sort needs no memory; plans are small */
		for (size_t i = 1; i < n; i++) {
			struct plan_mount m = p->mounts[i];
			size_t j = i;
			for (; j > 0 && mount_cmp(&p->mounts[j - 1], &m) > 0; j--)
				p->mounts[j] = p->mounts[j - 1];
			p->mounts[j] = m;
		}
		return;
	}
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				tmp[k++] = mount_cmp(&p->mounts[j], &p->mounts[i]) < 0 ?
						   p->mounts[j++] : p->mounts[i++];
			while (i < mid)
				tmp[k++] = p->mounts[i++];
			while (j < hi)
				tmp[k++] = p->mounts[j++];
		}
		memcpy(p->mounts, tmp, n * sizeof *tmp);
	}
	free(tmp);
}

size_t plan_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

char **plan_strv_dup(char *const *v)
{
	if (!v)
		return NULL;
	size_t n = plan_strv_len(v);
	char **d = calloc(n + 1, sizeof *d);
	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!(d[i] = strdup(v[i]))) {
			plan_strv_free(d);
			return NULL;
		}
	}
	return d;
}

void plan_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

const char *plan_origin_str(const struct plan_origin *o, char *buf, size_t size)
{
	const char *file = o && o->file ? o->file : "built-in";
	if (!o || !o->line)
		snprintf(buf, size, "%s", file);
	else if (o->col)
		snprintf(buf, size, "%s:%u:%u", file, o->line, o->col);
	else
		snprintf(buf, size, "%s:%u", file, o->line);
	return buf;
}

static const char *const op_names[] = {
	[PLAN_BIND] = "bind",     [PLAN_TMP] = "tmp",       [PLAN_TMPFS] = "tmpfs",
	[PLAN_PROC] = "proc",     [PLAN_MQUEUE] = "mqueue", [PLAN_DEV] = "dev",
	[PLAN_DIR] = "dir",       [PLAN_SYMLINK] = "symlink", [PLAN_COPY] = "copy",
	[PLAN_FILE] = "file",     [PLAN_MASK] = "mask",     [PLAN_REMOUNT_RO] = "remount-ro",
	[PLAN_SYSFS] = "sysfs",   [PLAN_CGROUP] = "cgroup",
};

const char *plan_op_name(enum plan_op op)
{
	if ((size_t)op < sizeof op_names / sizeof *op_names && op_names[op])
		return op_names[op];
	return "?";
}

int plan_op_from_name(const char *name, enum plan_op *op)
{
	for (size_t i = 0; i < sizeof op_names / sizeof *op_names; i++) {
		if (op_names[i] && strcmp(op_names[i], name) == 0) {
			*op = (enum plan_op)i;
			return 0;
		}
	}
	return -1;
}

static const char *const rlimit_names[] = {
	[RLIMIT_CPU] = "RLIMIT_CPU",         [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
	[RLIMIT_DATA] = "RLIMIT_DATA",       [RLIMIT_STACK] = "RLIMIT_STACK",
	[RLIMIT_CORE] = "RLIMIT_CORE",       [RLIMIT_RSS] = "RLIMIT_RSS",
	[RLIMIT_NPROC] = "RLIMIT_NPROC",     [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
	[RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK", [RLIMIT_AS] = "RLIMIT_AS",
	[RLIMIT_LOCKS] = "RLIMIT_LOCKS",     [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
	[RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
	[RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",   [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
};

const char *plan_rlimit_name(int resource)
{
	if (resource < 0 || (size_t)resource >= sizeof rlimit_names / sizeof *rlimit_names)
		return NULL;
	return rlimit_names[resource];
}

int plan_rlimit_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof rlimit_names / sizeof *rlimit_names; i++)
		if (rlimit_names[i] && strcmp(rlimit_names[i], name) == 0)
			return (int)i;
	return -1;
}

/* capability(7), by number */
static const char *const cap_names[PLAN_CAP_COUNT] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

const char *plan_cap_name(int cap)
{
	return cap >= 0 && cap < PLAN_CAP_COUNT ? cap_names[cap] : NULL;
}

int plan_cap_from_name(const char *name)
{
	for (int i = 0; i < PLAN_CAP_COUNT; i++)
		if (strcmp(cap_names[i], name) == 0)
			return i;
	return -1;
}
