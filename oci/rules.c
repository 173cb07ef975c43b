/* What nscell writes into a config.json, shared by the generator
 * (oci/emit.c), the reader (oci/read*.c) and the bundle exporter: the id
 * mappings, the options of each mount, where files hidden by a mount go,
 * the cgroup path.  The reader accepts exactly these, so both directions
 * agree by construction.
 *
 * runc behaviours these rules work around or rely on (runc 1.1.5):
 * - container uid 0 must be mapped in a user namespace (see
 *   oci_container_uid), so rootless runs the process as container root;
 * - runc always creates /dev/null, zero, full, random, urandom and tty (by
 *   mknod, or as binds of the host's nodes inside a user namespace), the
 *   /dev/fd, stdin, stdout, stderr symlinks, /dev/core when the host has a
 *   /proc/kcore (as the shim) and /dev/ptmx → pts/ptmx, so PLAN_DEV needs
 *   only its three mounts and no linux.devices;
 * - a bind's "ro", "nosuid" and "nodev" change its top mount only; the
 *   recursive "rro", "rnosuid" and "rnodev" (runc ≥ 1.1: mount_setattr
 *   with AT_RECURSIVE) cover the top mount and every mount below it, as
 *   the shim does, so binds carry those alone;
 * - runc mounts over the rootfs, so a file or directory below a mount is
 *   written to BUNDLE/files/ and bound from there (oci_hidden_by);
 * - runc resolves a relative bind source against the bundle directory. */
#include "oci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

bool oci_rootless(const struct plan *p, const struct oci_opts *o)
{
	return (o && o->rootless) || p->rootless;
}

bool oci_op_is_mount(enum plan_op op)
{
	switch (op) {
	case PLAN_BIND: case PLAN_TMP: case PLAN_TMPFS:
	case PLAN_PROC: case PLAN_MQUEUE: case PLAN_DEV:
	case PLAN_SYSFS: case PLAN_CGROUP:
		return true;
	default:
		return false;
	}
}

static bool path_is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

const struct plan_mount *oci_hidden_by(const struct plan *p, size_t i)
{
	const char *dst = p->mounts[i].dst;
	if (!dst)
		return NULL;
	for (size_t j = i; j-- > 0;) {
		const struct plan_mount *m = &p->mounts[j];
		if (oci_op_is_mount(m->op) && m->dst && path_is_under(dst, m->dst))
			return m;
	}
	return NULL;
}

/* runc 1.1.5 refuses a user namespace in which container uid 0 is not
 * mapped ("User namespaces enabled, but no user mapping found": it looks
 * up the host uid of container root before anything else).  An
 * unprivileged runc can write only one line, its own id, so rootless maps
 * container 0 → the caller and runs the process as container uid 0, which
 * is the caller on the host and holds no capability. */
uid_t oci_container_uid(const struct plan *p, bool rootless)
{
	return rootless ? 0 : p->id.uid;
}

gid_t oci_container_gid(const struct plan *p, bool rootless)
{
	return rootless ? 0 : p->id.gid;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Root: 0 (runc sets up the container as container root, mapped to host
 * root), the user's id, and for gids every supplementary group, as the
 * shim maps them.  All 1:1, sorted, duplicates dropped, neighbours merged
 * into one range. */
int oci_id_mappings(const struct plan *p, bool rootless, bool gids, struct oci_idmap **out,
		    size_t *n)
{
	*out = NULL;
	*n = 0;
	if (rootless) {
		struct oci_idmap *m = malloc(sizeof *m);
		if (!m)
			return -1;
		*m = (struct oci_idmap){ 0, gids ? p->id.gid : p->id.uid, 1 };
		*out = m;
		*n = 1;
		return 0;
	}
	size_t cap = 2 + (gids ? p->id.ngroups : 0);
	uint32_t *ids = malloc(cap * sizeof *ids);
	struct oci_idmap *m = malloc(cap * sizeof *m);
	if (!ids || !m) {
		free(ids);
		free(m);
		return -1;
	}
	size_t k = 0;
	ids[k++] = 0;
	ids[k++] = gids ? p->id.gid : p->id.uid;
	if (gids)
		for (size_t i = 0; i < p->id.ngroups; i++)
			ids[k++] = p->id.groups[i];
	qsort(ids, k, sizeof *ids, cmp_u32);
	size_t nm = 0;
	for (size_t i = 0; i < k; i++) {
		if (nm && ids[i] < m[nm - 1].container + m[nm - 1].size)
			continue; /* duplicate */
		if (nm && ids[i] == m[nm - 1].container + m[nm - 1].size) {
			m[nm - 1].size++;
			continue;
		}
		m[nm++] = (struct oci_idmap){ ids[i], ids[i], 1 };
	}
	free(ids);
	*out = m;
	*n = nm;
	return 0;
}

static void opts_add(struct oci_mount_opts *o, const char *s)
{
	if (o->n < OCI_MAX_OPTS)
		o->v[o->n++] = s;
}

void oci_mount_options(const struct plan *p, const struct plan_mount *m, bool rootless,
		       bool in_files, struct oci_mount_opts *o)
{
	memset(o, 0, sizeof *o);
	if (in_files) {
		/* generated and copied files are read-only; a directory the
		 * template made stays writable, like a PLAN_DIR in the rootfs */
		opts_add(o, "rbind");
		opts_add(o, "rnosuid");
		opts_add(o, "rnodev");
		if (m->op != PLAN_DIR)
			opts_add(o, "rro");
		return;
	}
	switch (m->op) {
	case PLAN_BIND:
	case PLAN_TMP:
		/* runc spec --rootless's /sys: runc's flags on the top mount */
		if (m->op == PLAN_BIND && (m->flags & PLAN_F_RUNC_TOP)) {
			static const char *const top[] = { "rbind", "nosuid", "noexec", "nodev",
							   "ro" };
			for (size_t i = 0; i < sizeof top / sizeof *top; i++)
				opts_add(o, top[i]);
			break;
		}
		opts_add(o, "rbind");
		opts_add(o, "rnosuid");
		if (!(m->op == PLAN_BIND && (m->flags & PLAN_F_DEVICES)))
			opts_add(o, "rnodev");
		/* PLAN_F_RO_TOP: a config's "ro", the top mount only */
		if (m->op == PLAN_BIND && (m->flags & PLAN_F_RO))
			opts_add(o, m->flags & PLAN_F_RO_TOP ? "ro" : "rro");
		break;
	case PLAN_TMPFS:
		opts_add(o, "nosuid");
		opts_add(o, "nodev");
		snprintf(o->mode, sizeof o->mode, "mode=%o", (unsigned)(m->mode & 07777));
		opts_add(o, o->mode);
		if (m->flags & PLAN_F_RUNC_TMPFS) { /* containerd's /run, as runc mounts it */
			opts_add(o, "strictatime");
			opts_add(o, "size=65536k");
			break;
		}
		/* a shared sticky directory belongs to root; any other mode
		 * is the user's own directory */
		if ((m->mode & 07777) != 01777) {
			snprintf(o->uid, sizeof o->uid, "uid=%u",
				 (unsigned)oci_container_uid(p, rootless));
			snprintf(o->gid, sizeof o->gid, "gid=%u",
				 (unsigned)oci_container_gid(p, rootless));
			opts_add(o, o->uid);
			opts_add(o, o->gid);
		}
		break;
	case PLAN_PROC:
	case PLAN_MQUEUE:
	case PLAN_SYSFS:
	case PLAN_CGROUP:
		opts_add(o, "nosuid");
		opts_add(o, "noexec");
		opts_add(o, "nodev");
		if (m->op == PLAN_CGROUP)
			opts_add(o, "relatime");
		if ((m->op == PLAN_SYSFS || m->op == PLAN_CGROUP) && (m->flags & PLAN_F_RO))
			opts_add(o, "ro");
		break;
	default:
		break;
	}
}

const char *const oci_dev_suffix[OCI_DEV_NPARTS] = { "", "/pts", "/shm" };
const char *const oci_dev_type[OCI_DEV_NPARTS] = { "tmpfs", "devpts", "tmpfs" };
const char *const oci_dev_source[OCI_DEV_NPARTS] = { "tmpfs", "devpts", "shm" };

/* runc spec's /dev (PLAN_F_RUNC_DEV): no noexec, devpts gid=5 (tty), a
 * noexec /dev/shm of 64 MiB; runc spec --rootless's (a user namespace, in
 * which gid 5 is not mapped) leaves gid=5 out */
static void runc_dev_options(enum oci_dev_part part, bool userns, struct oci_mount_opts *o)
{
	static const char *const parts[OCI_DEV_NPARTS][OCI_MAX_OPTS] = {
		{ "nosuid", "strictatime", "mode=755", "size=65536k" },
		{ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" },
		{ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" },
	};
	for (size_t i = 0; i < OCI_MAX_OPTS && parts[part][i]; i++)
		if (!(userns && strcmp(parts[part][i], "gid=5") == 0))
			opts_add(o, parts[part][i]);
}

/* The shim's /dev in runc's terms: /dev noexec, and nodev when there is a
 * user namespace, where runc binds the host's device nodes (a bind keeps
 * its source's flags).  Without one runc mknods them into the tmpfs, which
 * therefore cannot be nodev (a normalisation of nscell diff).  devpts
 * without gid=: the shim mounts it so, and the user is not in tty. */
void oci_dev_options(enum oci_dev_part part, bool userns, bool runc, struct oci_mount_opts *o)
{
	memset(o, 0, sizeof *o);
	if (runc) {
		runc_dev_options(part, userns, o);
		return;
	}
	switch (part) {
	case OCI_DEV_TMPFS:
		opts_add(o, "nosuid");
		opts_add(o, "noexec");
		if (userns)
			opts_add(o, "nodev");
		opts_add(o, "strictatime");
		opts_add(o, "mode=755");
		opts_add(o, "size=65536k");
		break;
	case OCI_DEV_PTS:
		opts_add(o, "nosuid");
		opts_add(o, "noexec");
		opts_add(o, "newinstance");
		opts_add(o, "ptmxmode=0666");
		opts_add(o, "mode=0620");
		break;
	default:
		opts_add(o, "nosuid");
		opts_add(o, "nodev");
		opts_add(o, "mode=1777");
		break;
	}
}

/* shim/dev.c proc_setup: read-only first, then the masked files and dirs */
const char *const oci_proc_masked[] = { "kcore", "sysrq-trigger", "keys", "timer_list",
					"latency_stats", "sched_debug", "timer_stats",
					"acpi", "scsi", "asound", NULL };
const char *const oci_proc_readonly[] = { "sys", "irq", "bus", "fs", NULL };

const char *oci_proc_path(char *buf, size_t size, const char *dst, const char *name)
{
	snprintf(buf, size, "%s/%s", strcmp(dst, "/") ? dst : "", name);
	return buf;
}

const uint32_t oci_seccomp_requests[OCI_SECCOMP_NREQUESTS] = { TIOCSTI, TIOCLINUX };
_Static_assert(OCI_SECCOMP_ERRNO == EPERM, "the shim's filter returns EPERM");

const char *const oci_seccomp_arches[] = {
#if defined(__x86_64__)
	"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
#elif defined(__i386__)
	"SCMP_ARCH_X86",
#elif defined(__aarch64__)
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM",
#endif
	NULL
};

bool oci_cgroup_limited(const struct plan *p)
{
	return p->cgroup.memory_max > 0 || p->cgroup.pids_max > 0 || p->cgroup.cpu_quota_us > 0;
}

char *oci_cgroup_path(const struct plan *p, nscell_error_t *err)
{
	const char *parent = p->cgroup.parent ? p->cgroup.parent : "";
	while (*parent == '/')
		parent++;
	size_t plen = strlen(parent);
	while (plen && parent[plen - 1] == '/')
		plen--;
	if (p->vhost && strchr(p->vhost, '/')) {
		nscell_error_set(err, 0, "linux.cgroupsPath: vhost '%s' contains '/'", p->vhost);
		return NULL;
	}
	char *path = NULL;
	int n = asprintf(&path, "%s%.*s/nscell-%u%s%s", plen ? "/" : "", (int)plen, parent,
			 (unsigned)p->id.uid, p->vhost ? "-" : "", p->vhost ? p->vhost : "");
	if (n < 0) {
		nscell_error_set(err, 0, "linux.cgroupsPath: out of memory");
		return NULL;
	}
	return path;
}
