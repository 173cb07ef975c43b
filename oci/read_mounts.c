/* config.json mounts → plan entries: the mounts oci/emit.c writes (bind,
 * tmp, tmpfs, proc, mqueue, nscell's /dev, files/ binds), with exactly its
 * options, and the ones `runc spec` writes (runc's /dev, sysfs, cgroup, a
 * proc mount without options, binds with "ro" and without "rnosuid"; runc
 * spec --rootless's /dev without gid=5 and its /sys bind of type "none");
 * anything else is an error naming the field.  Where nscell-shim is
 * stricter than the config (it mounts proc and binds nosuid always),
 * README.md says so. */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct mount_in {
	const char *field;
	const char *dst, *type, *src;
	yajl_val options;
};

static int parse_mount(struct reader *r, yajl_val v, const char *field, struct mount_in *m)
{
	static const char *const known[] = { "destination", "type", "source", "options", NULL };
	char f[96];
	memset(m, 0, sizeof *m);
	m->field = field;
	if (rd_object(r, v, field, true) < 0 || rd_check_keys(r, v, field, known) < 0 ||
	    rd_path(r, rd_get(v, "destination"), rd_sub(f, sizeof f, field, "destination"),
		    &m->dst) < 0 ||
	    rd_string(r, rd_get(v, "type"), rd_sub(f, sizeof f, field, "type"), true,
		      &m->type) < 0 ||
	    rd_string(r, rd_get(v, "source"), rd_sub(f, sizeof f, field, "source"), true,
		      &m->src) < 0)
		return -1;
	/* absent: none, as runc reads it (emit.c writes them always) */
	static struct yajl_val_s no_options = { .type = yajl_t_array };
	m->options = rd_get(v, "options");
	rd_sub(f, sizeof f, field, "options");
	if (!m->options)
		m->options = &no_options;
	if (!YAJL_IS_ARRAY(m->options))
		return rd_bad(r, f, "expected an array of strings");
	for (size_t i = 0; i < m->options->u.array.len; i++)
		if (!YAJL_IS_STRING(m->options->u.array.values[i]))
			return rd_bad(r, f, "expected an array of strings");
	return 0;
}

static bool has_opt(yajl_val opts, const char *o)
{
	for (size_t i = 0; i < opts->u.array.len; i++)
		if (strcmp(opts->u.array.values[i]->u.string, o) == 0)
			return true;
	return false;
}

static bool same_opts(yajl_val opts, const struct oci_mount_opts *want)
{
	if (opts->u.array.len != want->n)
		return false;
	for (size_t i = 0; i < want->n; i++)
		if (!has_opt(opts, want->v[i]))
			return false;
	return true;
}

static bool in_strv(const char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* The options must be the ones nscell writes for this kind, those in
 * optional (NULL-terminated, or NULL) may be left out. */
static int match_some_opts(struct reader *r, const struct mount_in *m,
			   const struct oci_mount_opts *want, const char *const *optional,
			   const char *kind)
{
	char f[96];
	yajl_val o = m->options;
	rd_sub(f, sizeof f, m->field, "options");
	for (size_t i = 0; i < o->u.array.len; i++) {
		const char *s = o->u.array.values[i]->u.string;
		for (size_t j = 0; j < i; j++)
			if (strcmp(o->u.array.values[j]->u.string, s) == 0)
				return rd_bad(r, f, "'%s' given twice", s);
		size_t k = 0, rk = 0;
		while (k < want->n && strcmp(want->v[k], s) != 0)
			k++;
		/* "ro" where nscell writes "rro": the top mount only */
		while (rk < want->n && !(want->v[rk][0] == 'r' && strcmp(want->v[rk] + 1, s) == 0))
			rk++;
		if (k == want->n && rk < want->n)
			return rd_bad(r, f, "'%s' (the top mount only) not supported by nscell on a "
				      "%s mount: use '%s'", s, kind, want->v[rk]);
		if (k == want->n)
			return rd_bad(r, f, "'%s' not supported by nscell on a %s mount", s, kind);
	}
	for (size_t k = 0; k < want->n; k++)
		if (!has_opt(o, want->v[k]) && !in_strv(optional, want->v[k]))
			return rd_bad(r, f, "'%s' missing (nscell writes it on a %s mount)",
				      want->v[k], kind);
	return 0;
}

/* exactly the ones nscell writes for this kind */
static int match_opts(struct reader *r, const struct mount_in *m,
		      const struct oci_mount_opts *want, const char *kind)
{
	return match_some_opts(r, m, want, NULL, kind);
}

static int want_source(struct reader *r, const struct mount_in *m, const char *src)
{
	char f[96];
	if (strcmp(m->src, src) != 0)
		return rd_bad(r, rd_sub(f, sizeof f, m->field, "source"), "expected '%s'", src);
	return 0;
}

static bool in_list(const char *list, const char *s)
{
	size_t n = strlen(s);
	for (const char *c = list; c && *c;) {
		const char *end = strchrnul(c, ',');
		if ((size_t)(end - c) == n && strncmp(c, s, n) == 0)
			return true;
		c = *end ? end + 1 : end;
	}
	return false;
}

/* A file or directory bound from the bundle's files/: read it back. */
static int read_bundle_entry(struct reader *r, const struct mount_in *m, bool *done)
{
	struct plan *p = r->p;
	char f[96];
	*done = false;
	if (r->bundle_fd < 0 || strncmp(m->src, OCI_FILES_DIR, strlen(OCI_FILES_DIR)) != 0 ||
	    strcmp(m->src + strlen(OCI_FILES_DIR), m->dst) != 0)
		return 0;
	struct plan_mount probe = { .op = PLAN_DIR, .dst = (char *)m->dst };
	if (!plan_add_mount(p, PLAN_DIR, 0, NULL, m->dst, 0, NULL))
		return rd_oom(r);
	bool hidden = oci_hidden_by(p, p->nmounts - 1) != NULL;
	plan_remove_mount(p, p->nmounts - 1);
	if (!hidden)
		return 0;
	/* every component below the bundle, never following a symlink */
	_cleanup_close_ int fd = dup(r->bundle_fd);
	_cleanup_free_ char *rel = strdup(m->src);
	if (fd < 0 || !rel)
		return rd_oom(r);
	char *save = NULL, *next;
	for (char *c = strtok_r(rel, "/", &save); c; c = next) {
		next = strtok_r(NULL, "/", &save);
		int nfd = openat(fd, c, (next ? O_PATH | O_DIRECTORY : O_RDONLY | O_NONBLOCK) |
					O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0)
			return nscell_error_errno(r->err, errno, "%s: %s: %s",
						  r->name, rd_sub(f, sizeof f, m->field, "source"),
						  m->src);
		close(fd);
		fd = nfd;
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return nscell_error_errno(r->err, errno, "%s: %s", r->name, m->src);
	probe.op = S_ISDIR(st.st_mode) ? PLAN_DIR : PLAN_FILE;
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return 0;
	struct oci_mount_opts want;
	oci_mount_options(p, &probe, r->rootless, true, &want);
	if (!same_opts(m->options, &want))
		return 0;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > READ_MAX_FILE)
			return rd_bad(r, m->field, "%s is larger than 64 MiB", m->src);
		if (!(data = malloc(st.st_size ? st.st_size : 1)))
			return rd_oom(r);
		while (len < (size_t)st.st_size) {
			ssize_t k = read(fd, data + len, st.st_size - len);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return nscell_error_errno(r->err, k < 0 ? errno : EIO,
							  "%s: reading %s", r->name, m->src);
			len += k;
		}
	}
	struct plan_mount *e = plan_add_mount(p, probe.op, 0, NULL, m->dst,
					      st.st_mode & 07777, NULL);
	if (!e || (data && plan_mount_set_data(e, data, len) < 0))
		return rd_oom(r);
	*done = true;
	return 0;
}

static int read_bind(struct reader *r, const struct mount_in *m)
{
	char f[96];
	if (has_opt(m->options, "bind") && !has_opt(m->options, "rbind"))
		return rd_bad(r, rd_sub(f, sizeof f, m->field, "options"),
			      "'bind' (not recursive) not supported by nscell: use 'rbind'");
	if (!*m->src)
		return rd_bad(r, rd_sub(f, sizeof f, m->field, "source"), "is empty");
	bool done;
	if (m->src[0] != '/' && read_bundle_entry(r, m, &done) < 0)
		return -1;
	if (m->src[0] != '/' && done)
		return 0;
	bool tmp = in_list(r->ann_tmp, m->dst);
	unsigned flags = 0;
	/* "ro" (runc spec's): runc remounts the top mount alone read-only */
	if (!tmp && has_opt(m->options, "rro"))
		flags |= PLAN_F_RO;
	else if (!tmp && has_opt(m->options, "ro"))
		flags |= PLAN_F_RO | PLAN_F_RO_TOP;
	/* the plain form only to say that nscell writes the recursive one */
	if (!tmp && !has_opt(m->options, "rnodev") && !has_opt(m->options, "nodev"))
		flags |= PLAN_F_DEVICES;
	struct plan_mount *e = plan_add_mount(r->p, tmp ? PLAN_TMP : PLAN_BIND, flags, m->src,
					      m->dst, 0, NULL);
	if (!e)
		return rd_oom(r);
	struct oci_mount_opts want;
	oci_mount_options(r->p, e, r->rootless, false, &want);
	/* the shim binds everything nosuid, whatever the config says */
	static const char *const optional[] = { "rnosuid", NULL };
	return match_some_opts(r, m, &want, tmp ? NULL : optional,
			       tmp ? "disk-backed tmp" : "bind");
}

static bool has_size(yajl_val opts)
{
	for (size_t i = 0; i < opts->u.array.len; i++)
		if (strncmp(opts->u.array.values[i]->u.string, "size=", 5) == 0)
			return true;
	return false;
}

static int read_tmpfs(struct reader *r, const struct mount_in *m)
{
	unsigned mode = 0;
	bool have_mode = false;
	for (size_t i = 0; i < m->options->u.array.len; i++) {
		const char *s = m->options->u.array.values[i]->u.string;
		char *end;
		if (strncmp(s, "mode=", 5) != 0)
			continue;
		errno = 0;
		unsigned long v = strtoul(s + 5, &end, 8);
		have_mode = *end == '\0' && end != s + 5 && !errno && v <= 07777;
		mode = v;
		break;
	}
	char f[96];
	if (!have_mode)
		return rd_bad(r, rd_sub(f, sizeof f, m->field, "options"),
			      "a tmpfs needs mode=OCTAL (nscell writes it)");
	/* containerd's /run (runc's /dev options): strictatime, size=65536k,
	 * owned by root; the shim adds nodev, so it may be left out */
	bool runc = has_opt(m->options, "strictatime") || has_size(m->options);
	struct plan_mount *e = plan_add_mount(r->p, PLAN_TMPFS, runc ? PLAN_F_RUNC_TMPFS : 0, NULL,
					      m->dst, mode, NULL);
	if (!e)
		return rd_oom(r);
	struct oci_mount_opts want;
	oci_mount_options(r->p, e, r->rootless, false, &want);
	if (want_source(r, m, "tmpfs") < 0)
		return -1;
	static const char *const optional[] = { "nodev", NULL };
	return match_some_opts(r, m, &want, runc ? optional : NULL, "tmpfs");
}

/* mounts[i + 1] is at dst/pts: a /dev (read_dev checks the rest), not
 * another tmpfs with the same options (containerd's /run) */
static bool dev_follows(yajl_val mounts, size_t i, const char *dst)
{
	if (i + 1 >= mounts->u.array.len)
		return true; /* read_dev says what is missing */
	yajl_val d = rd_get(mounts->u.array.values[i + 1], "destination");
	size_t n = strlen(dst);
	if (!YAJL_IS_STRING(d))
		return true;
	if (strcmp(dst, "/") == 0)
		return strcmp(d->u.string, "/pts") == 0;
	return strncmp(d->u.string, dst, n) == 0 && strcmp(d->u.string + n, "/pts") == 0;
}

/* DST tmpfs, DST/pts devpts, DST/shm tmpfs, as emit.c writes PLAN_DEV,
 * nscell's own or (runc) as `runc spec` writes /dev. */
static int read_dev(struct reader *r, yajl_val mounts, size_t *i, const struct mount_in *m,
		    bool runc)
{
	/* with a user namespace, runc's devpts has no gid=5 (runc spec
	 * --rootless's: gid 5 is not mapped there) */
	bool userns = r->p->namespaces & PLAN_NS_USER;
	struct mount_in parts[OCI_DEV_NPARTS];
	parts[OCI_DEV_TMPFS] = *m;
	char fields[OCI_DEV_NPARTS][64], want_dst[4096];
	for (int k = 1; k < OCI_DEV_NPARTS; k++) {
		rd_idx(fields[k], sizeof fields[k], "mounts", *i + k);
		snprintf(want_dst, sizeof want_dst, "%s%s", strcmp(m->dst, "/") ? m->dst : "",
			 oci_dev_suffix[k]);
		if (*i + k >= mounts->u.array.len)
			return rd_bad(r, m->field, "a /dev tmpfs must be followed by %s "
				      "(nscell's /dev)", want_dst);
		if (parse_mount(r, mounts->u.array.values[*i + k], fields[k], &parts[k]) < 0)
			return -1;
		if (strcmp(parts[k].dst, want_dst) != 0 || strcmp(parts[k].type, oci_dev_type[k]))
			return rd_bad(r, fields[k], "expected the %s %s of nscell's /dev at %s",
				      oci_dev_type[k], want_dst, m->dst);
	}
	for (int k = 0; k < OCI_DEV_NPARTS; k++) {
		struct oci_mount_opts want;
		oci_dev_options(k, userns, runc, &want);
		if (want_source(r, &parts[k], oci_dev_source[k]) < 0 ||
		    match_opts(r, &parts[k], &want, oci_dev_type[k]) < 0)
			return -1;
	}
	if (!plan_add_mount(r->p, PLAN_DEV, runc ? PLAN_F_RUNC_DEV : 0, NULL, m->dst, 0, NULL))
		return rd_oom(r);
	*i += OCI_DEV_NPARTS - 1;
	return 0;
}

/* proc (the shim mounts it nosuid, nodev and noexec whatever the options
 * say, so any of them may be left out: runc spec gives none) or mqueue */
static int read_kernel_fs(struct reader *r, const struct mount_in *m)
{
	enum plan_op op = m->type[0] == 'p' ? PLAN_PROC : PLAN_MQUEUE;
	static const char *const optional[] = { "nosuid", "noexec", "nodev", NULL };
	struct plan_mount *e = plan_add_mount(r->p, op, 0, NULL, m->dst, 0, NULL);
	struct oci_mount_opts want;
	if (!e)
		return rd_oom(r);
	oci_mount_options(r->p, e, r->rootless, false, &want);
	if (want_source(r, m, m->type) < 0)
		return -1;
	return match_some_opts(r, m, &want, op == PLAN_PROC ? optional : NULL, m->type);
}

/* sysfs, read-only or not, nosuid, noexec and nodev as runc spec writes it */
static int read_sysfs(struct reader *r, const struct mount_in *m)
{
	unsigned flags = has_opt(m->options, "ro") ? PLAN_F_RO : 0;
	struct plan_mount *e = plan_add_mount(r->p, PLAN_SYSFS, flags, NULL, m->dst, 0, NULL);
	struct oci_mount_opts want;
	if (!e)
		return rd_oom(r);
	oci_mount_options(r->p, e, r->rootless, false, &want);
	if (want_source(r, m, "sysfs") < 0)
		return -1;
	return match_opts(r, m, &want, "sysfs");
}

/* cgroup: runc mounts the container's own cgroups there (v1: a tmpfs of
 * binds); nscell binds the host's /sys/fs/cgroup tree, read-only only,
 * and never in a cgroup namespace, where runc would show its root */
static int read_cgroup_fs(struct reader *r, const struct mount_in *m)
{
	char f[96];
	if (r->p->namespaces & PLAN_NS_CGROUP)
		return rd_bad(r, rd_sub(f, sizeof f, m->field, "type"), "a cgroup mount in a "
			      "cgroup namespace not supported by nscell (it binds the host's "
			      "/sys/fs/cgroup tree, read-only)");
	if (!has_opt(m->options, "ro"))
		return rd_bad(r, rd_sub(f, sizeof f, m->field, "options"), "'ro' missing (nscell "
			      "binds the host's /sys/fs/cgroup tree there, read-only only)");
	struct plan_mount *e = plan_add_mount(r->p, PLAN_CGROUP, PLAN_F_RO, "/sys/fs/cgroup",
					      m->dst, 0, NULL);
	struct oci_mount_opts want;
	if (!e)
		return rd_oom(r);
	oci_mount_options(r->p, e, r->rootless, false, &want);
	static const char *const optional[] = { "relatime", NULL };
	if (want_source(r, m, "cgroup") < 0)
		return -1;
	return match_some_opts(r, m, &want, optional, "cgroup");
}

/* runc spec --rootless's /sys (no network namespace, so no sysfs of its
 * own): the host's /sys bound, runc's plain flags on the top mount; only
 * that one, in a user namespace, with type "none" as runc spec writes it
 * or "bind" as nscell does */
static int read_runc_sys(struct reader *r, const struct mount_in *m)
{
	char f[96];
	struct plan_mount probe = { .op = PLAN_BIND,
				    .flags = PLAN_F_RO | PLAN_F_RO_TOP | PLAN_F_RUNC_TOP };
	struct oci_mount_opts want;
	oci_mount_options(r->p, &probe, r->rootless, false, &want);
	bool sys = strcmp(m->src, "/sys") == 0 && strcmp(m->dst, "/sys") == 0 &&
		   same_opts(m->options, &want);
	if (!sys || !(r->p->namespaces & PLAN_NS_USER))
		return rd_bad(r, rd_sub(f, sizeof f, m->field, "type"), "mount type '%s' not "
			      "supported by nscell (only as runc spec --rootless's /sys bind, with a "
			      "user namespace)", m->type);
	if (!plan_add_mount(r->p, PLAN_BIND, probe.flags, m->src, m->dst, 0, NULL))
		return rd_oom(r);
	return 0;
}

/* a bind that is runc spec --rootless's /sys (read_runc_sys checks it) */
static bool is_runc_sys(const struct mount_in *m)
{
	return strcmp(m->dst, "/sys") == 0 && has_opt(m->options, "rbind") &&
	       has_opt(m->options, "noexec") && !has_opt(m->options, "rnosuid");
}

static int read_one(struct reader *r, yajl_val v, size_t *i, const struct mount_in *m)
{
	char f[96];
	bool userns = r->p->namespaces & PLAN_NS_USER;
	struct oci_mount_opts dev, runc_dev;
	oci_dev_options(OCI_DEV_TMPFS, userns, false, &dev);
	oci_dev_options(OCI_DEV_TMPFS, userns, true, &runc_dev);
	bool tmpfs = strcmp(m->type, "tmpfs") == 0;
	/* runc makes any mount with a bind option a bind; nscell wants the
	 * type to say so */
	if (strcmp(m->type, "none") == 0 || (strcmp(m->type, "bind") == 0 && is_runc_sys(m)))
		return read_runc_sys(r, m);
	if (strcmp(m->type, "bind") == 0)
		return read_bind(r, m);
	if (tmpfs && (same_opts(m->options, &dev) || same_opts(m->options, &runc_dev)) &&
	    dev_follows(v, *i, m->dst))
		return want_source(r, m, "tmpfs") < 0 ? -1 :
			read_dev(r, v, i, m, !same_opts(m->options, &dev));
	if (tmpfs)
		return read_tmpfs(r, m);
	if (strcmp(m->type, "proc") == 0 || strcmp(m->type, "mqueue") == 0)
		return read_kernel_fs(r, m);
	if (strcmp(m->type, "sysfs") == 0)
		return read_sysfs(r, m);
	if (strcmp(m->type, "cgroup") == 0)
		return read_cgroup_fs(r, m);
	if (strcmp(m->type, "devpts") == 0)
		return rd_bad(r, rd_sub(f, sizeof f, m->field, "type"),
			      "devpts only as part of a /dev (after its tmpfs)");
	return rd_bad(r, rd_sub(f, sizeof f, m->field, "type"),
		      "mount type '%s' not supported by nscell", m->type);
}

int rd_mounts(struct reader *r, yajl_val v)
{
	if (!v)
		return 0;
	if (!YAJL_IS_ARRAY(v))
		return rd_bad(r, "mounts", "expected an array of mounts");
	for (size_t i = 0; i < v->u.array.len; i++) {
		char field[64];
		struct mount_in m;
		rd_idx(field, sizeof field, "mounts", i);
		if (parse_mount(r, v->u.array.values[i], field, &m) < 0 ||
		    read_one(r, v, &i, &m) < 0)
			return -1;
	}
	if (r->ann_tmp) {
		_cleanup_free_ char *list = strdup(r->ann_tmp);
		char *save = NULL;
		if (!list)
			return rd_oom(r);
		for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			struct plan_mount *e = plan_find_dst(r->p, t);
			if (!e || e->op != PLAN_TMP)
				return rd_bad(r, "annotations." OCI_ANN_TMP, "no bind mount at %s", t);
		}
	}
	return 0;
}
