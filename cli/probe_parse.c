/* Raw facts (probe/collect.h) → struct probe.  The mount table is read
 * with libmount from the mountinfo lines the probe sent. */
#include <errno.h>
#include <fcntl.h>
#include <libmount.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/probe.h"
#include "probe/collect.h"

#define MAX_FIELDS 16

void probe_init(struct probe *p)
{
	memset(p, 0, sizeof *p);
	p->self_pid = -1;
}

static void kv_free(struct probe_kv *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

static void path_free(struct probe_path *e)
{
	char **f[] = { &e->path, &e->status, &e->type, &e->mode, &e->uid, &e->gid,
		       &e->rdev, &e->link, &e->access, &e->size };
	for (size_t i = 0; i < sizeof f / sizeof *f; i++)
		free(*f[i]);
}

void probe_free(struct probe *p)
{
	free(p->groups);
	kv_free(p->status, p->nstatus);
	kv_free(p->ns, p->nns);
	kv_free(p->rlimits, p->nrlimits);
	kv_free(p->procs, p->nprocs);
	char **v[] = { p->uid_map, p->gid_map, p->env, p->passwd, p->group, p->mountinfo };
	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		plan_strv_free(v[i]);
	free(p->passwd_error);
	free(p->group_error);
	free(p->hostname);
	free(p->cwd);
	for (size_t i = 0; i < p->nmounts; i++) {
		free(p->mounts[i].target);
		free(p->mounts[i].fstype);
	}
	free(p->mounts);
	for (size_t i = 0; i < p->npaths; i++)
		path_free(&p->paths[i]);
	free(p->paths);
	probe_init(p);
}

void probe_remove_path(struct probe *p, size_t i)
{
	path_free(&p->paths[i]);
	memmove(&p->paths[i], &p->paths[i + 1], (p->npaths - i - 1) * sizeof *p->paths);
	p->npaths--;
}

void probe_remove_mount(struct probe *p, size_t i)
{
	free(p->mounts[i].target);
	free(p->mounts[i].fstype);
	memmove(&p->mounts[i], &p->mounts[i + 1], (p->nmounts - i - 1) * sizeof *p->mounts);
	p->nmounts--;
}

struct probe_path *probe_find_path(struct probe *p, const char *path)
{
	for (size_t i = 0; i < p->npaths; i++)
		if (strcmp(p->paths[i].path, path) == 0)
			return &p->paths[i];
	return NULL;
}

/* \ooo escapes, in place */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static int strv_push(char ***v, const char *s)
{
	size_t n = plan_strv_len(*v);
	char **nv = realloc(*v, (n + 2) * sizeof *nv);
	if (!nv)
		return -1;
	*v = nv;
	if (!(nv[n] = strdup(s)))
		return -1;
	nv[n + 1] = NULL;
	return 0;
}

static int kv_push(struct probe_kv **v, size_t *n, const char *name, const char *value)
{
	struct probe_kv *nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		return -1;
	*v = nv;
	nv[*n].name = strdup(name);
	nv[*n].value = strdup(value);
	(*n)++;
	return nv[*n - 1].name && nv[*n - 1].value ? 0 : -1;
}

static int ids(unsigned long v[3], char **f, size_t nf)
{
	if (nf != 4)
		return -1;
	for (int i = 0; i < 3; i++) {
		char *end;
		v[i] = strtoul(f[i + 1], &end, 10);
		if (*end || end == f[i + 1])
			return -1;
	}
	return 0;
}

static int add_path(struct probe *p, char **f, size_t nf)
{
	if (nf != 11)
		return -1;
	struct probe_path *v = realloc(p->paths, (p->npaths + 1) * sizeof *v);
	if (!v)
		return -1;
	p->paths = v;
	struct probe_path *e = &v[p->npaths++];
	char **to[] = { &e->path, &e->status, &e->type, &e->mode, &e->uid, &e->gid,
			&e->rdev, &e->link, &e->access, &e->size };
	int rc = 0;
	for (size_t i = 0; i < sizeof to / sizeof *to; i++)
		if (!(*to[i] = strdup(f[i + 1])))
			rc = -1;
	return rc;
}

/* "file /etc/passwd LINE" or "file /etc/passwd -ERRNO" */
static int add_file_line(struct probe *p, char **f, size_t nf)
{
	if (nf != 3)
		return -1;
	bool passwd = strcmp(f[1], "/etc/passwd") == 0;
	if (!passwd && strcmp(f[1], "/etc/group") != 0)
		return 0; /* a file this version does not know */
	if (f[2][0] == '-' && f[2][1] == 'E') {
		char **e = passwd ? &p->passwd_error : &p->group_error;
		free(*e);
		return (*e = strdup(f[2] + 1)) ? 0 : -1;
	}
	return strv_push(passwd ? &p->passwd : &p->group, f[2]);
}

static int record(struct probe *p, char **f, size_t nf)
{
	const char *r = f[0];
	if (!strcmp(r, "uid"))
		return ids(p->uid, f, nf);
	if (!strcmp(r, "gid"))
		return ids(p->gid, f, nf);
	if (!strcmp(r, "groups")) {
		free(p->groups);
		p->ngroups = 0;
		if (!(p->groups = calloc(nf, sizeof *p->groups)))
			return -1;
		for (size_t i = 1; i < nf; i++)
			p->groups[p->ngroups++] = strtoul(f[i], NULL, 10);
		return 0;
	}
	if (!strcmp(r, "status") && nf == 3)
		return kv_push(&p->status, &p->nstatus, f[1], f[2]);
	if (!strcmp(r, "map") && nf == 3)
		return strv_push(!strcmp(f[1], "uid") ? &p->uid_map : &p->gid_map, f[2]);
	if (!strcmp(r, "ns") && nf == 3)
		return kv_push(&p->ns, &p->nns, f[1], f[2]);
	if (!strcmp(r, "hostname") && nf == 2)
		return (free(p->hostname), p->hostname = strdup(f[1])) ? 0 : -1;
	if (!strcmp(r, "cwd") && nf == 2)
		return (free(p->cwd), p->cwd = strdup(f[1])) ? 0 : -1;
	if (!strcmp(r, "env") && nf == 2)
		return strv_push(&p->env, f[1]);
	if (!strcmp(r, "rlimit") && nf == 4) {
		char v[80];
		snprintf(v, sizeof v, "%s %s", f[2], f[3]);
		return kv_push(&p->rlimits, &p->nrlimits, f[1], v);
	}
	if (!strcmp(r, "mountinfo") && nf == 2)
		return strv_push(&p->mountinfo, f[1]);
	if (!strcmp(r, "path"))
		return add_path(p, f, nf);
	if (!strcmp(r, "file"))
		return add_file_line(p, f, nf);
	if (!strcmp(r, "self") && nf == 2)
		return (p->self_pid = strtol(f[1], NULL, 10)), 0;
	if (!strcmp(r, "proc") && nf == 3)
		return kv_push(&p->procs, &p->nprocs, f[1], f[2]);
	return 0; /* a newer probe's record: ignored */
}

static const char *propagation(struct libmnt_fs *fs)
{
	unsigned long fl = 0;
	if (mnt_fs_get_propagation(fs, &fl) < 0)
		return "unknown";
	if (fl & MS_UNBINDABLE)
		return "unbindable";
	if ((fl & MS_SHARED) && (fl & MS_SLAVE))
		return "shared,slave";
	if (fl & MS_SHARED)
		return "shared";
	if (fl & MS_SLAVE)
		return "slave";
	return "private";
}

/* the mountinfo lines through libmount: target, type, per-mount flags */
static int parse_mounts(struct probe *p, const char *name, nscell_error_t *err)
{
	size_t len = 0;
	for (size_t i = 0; p->mountinfo && p->mountinfo[i]; i++)
		len += strlen(p->mountinfo[i]) + 1;
	if (!len)
		return nscell_error_set(err, 0, "%s: no mount table", name);
	_cleanup_free_ char *text = malloc(len + 1);
	if (!text)
		return nscell_error_set(err, ENOMEM, "out of memory");
	char *w = text;
	for (size_t i = 0; p->mountinfo[i]; i++)
		w += sprintf(w, "%s\n", p->mountinfo[i]);
	FILE *f = fmemopen(text, len, "r");
	struct libmnt_table *tb = mnt_new_table();
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	int rc = -1;
	if (!f || !tb || !it) {
		nscell_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (mnt_table_parse_stream(tb, f, name) < 0) {
		nscell_error_set(err, 0, "%s: libmount cannot read the mount table", name);
		goto out;
	}
	p->mounts = calloc((size_t)mnt_table_get_nents(tb) + 1, sizeof *p->mounts);
	if (!p->mounts) {
		nscell_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	struct libmnt_fs *fs;
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		struct probe_mount *m = &p->mounts[p->nmounts];
		unsigned long fl = 0;
		const char *vfs = mnt_fs_get_vfs_options(fs);
		if (vfs)
			mnt_optstr_get_flags(vfs, &fl, mnt_get_builtin_optmap(MNT_LINUX_MAP));
		const char *target = mnt_fs_get_target(fs), *type = mnt_fs_get_fstype(fs);
		m->target = strdup(target ? target : "?");
		m->fstype = strdup(type ? type : "?");
		if (!m->target || !m->fstype) {
			free(m->target);
			free(m->fstype);
			nscell_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
		m->ro = fl & MS_RDONLY;
		m->nosuid = fl & MS_NOSUID;
		m->nodev = fl & MS_NODEV;
		m->noexec = fl & MS_NOEXEC;
		m->propagation = propagation(fs);
		m->order = p->nmounts++;
	}
	rc = 0;
out:
	mnt_free_iter(it);
	mnt_unref_table(tb);
	if (f)
		fclose(f);
	return rc;
}

static int cmp_mount(const void *a, const void *b)
{
	const struct probe_mount *x = a, *y = b;
	int c = strcmp(x->target, y->target);
	return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(((const struct probe_path *)a)->path, ((const struct probe_path *)b)->path);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
	return (x > y) - (x < y);
}

/* normalised order: sorted, duplicates (a path given twice) dropped */
static void normalise_order(struct probe *p)
{
	qsort(p->mounts, p->nmounts, sizeof *p->mounts, cmp_mount);
	qsort(p->paths, p->npaths, sizeof *p->paths, cmp_path);
	for (size_t i = 1; i < p->npaths;) {
		if (strcmp(p->paths[i].path, p->paths[i - 1].path) == 0)
			probe_remove_path(p, i);
		else
			i++;
	}
	if (p->env)
		qsort(p->env, plan_strv_len(p->env), sizeof *p->env, cmp_str);
	qsort(p->groups, p->ngroups, sizeof *p->groups, cmp_ulong);
}

int probe_parse(struct probe *p, const char *name, const char *buf, size_t len,
		nscell_error_t *err)
{
	_cleanup_free_ char *copy = malloc(len + 1);
	if (!copy)
		return nscell_error_set(err, ENOMEM, "out of memory");
	memcpy(copy, buf, len);
	copy[len] = '\0';
	bool header = false, end = false;
	unsigned lineno = 0;
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[MAX_FIELDS];
		size_t nf = 0;
		lineno++;
		for (char *s = line; nf < MAX_FIELDS;) {
			f[nf++] = s;
			char *tab = strchr(s, '\t');
			if (!tab)
				break;
			*tab = '\0';
			s = tab + 1;
		}
		for (size_t i = 0; i < nf; i++)
			unescape(f[i]);
		if (!header) {
			if (strcmp(f[0], "nscell-probe") != 0 || nf != 2)
				return nscell_error_set(err, 0, "%s: not the output of nscell-probe", name);
			if (strcmp(f[1], PROBE_RAW_VERSION) != 0)
				return nscell_error_set(err, 0, "%s: nscell-probe format %s, this nscell "
							"reads %s", name, f[1], PROBE_RAW_VERSION);
			header = true;
			continue;
		}
		if (!strcmp(f[0], "end")) {
			end = true;
			break;
		}
		if (record(p, f, nf) < 0)
			return nscell_error_set(err, 0, "%s:%u: a bad '%s' record", name, lineno, f[0]);
	}
	if (!header)
		return nscell_error_set(err, 0, "%s: empty (the probe did not run)", name);
	if (!end)
		return nscell_error_set(err, 0, "%s: cut short (the probe died?)", name);
	if (parse_mounts(p, name, err) < 0)
		return -1;
	normalise_order(p);
	return 0;
}

int probe_read_file(const char *path, char **buf, size_t *len, nscell_error_t *err)
{
	_cleanup_close_ int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) :
							  open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nscell_error_errno(err, errno, "%s", path);
	size_t cap = 65536, n = 0;
	char *b = malloc(cap);
	for (;;) {
		if (!b)
			return nscell_error_set(err, ENOMEM, "out of memory");
		if (n + 1 >= cap) {
			char *nb = realloc(b, cap *= 2);
			if (!nb)
				free(b);
			b = nb;
			continue;
		}
		ssize_t r = read(fd, b + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(b);
			return nscell_error_errno(err, e, "read %s", path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

int probe_ref_ns_parse(struct probe_ref_ns *ref, size_t *n, const char *spec,
		       nscell_error_t *err)
{
	static const char *const types[PROBE_NS_TYPES] = { "cgroup", "ipc", "mnt", "net",
							   "pid", "time", "user", "uts" };
	*n = 0;
	if (!spec) {
		for (size_t i = 0; i < PROBE_NS_TYPES; i++) {
			char path[64];
			struct stat st;
			snprintf(path, sizeof path, "/proc/self/ns/%s", types[i]);
			if (stat(path, &st) < 0)
				continue;
			snprintf(ref[*n].name, sizeof ref[*n].name, "%s", types[i]);
			ref[(*n)++].ino = (unsigned long long)st.st_ino;
		}
		return 0;
	}
	_cleanup_free_ char *copy = strdup(spec);
	if (!copy)
		return nscell_error_set(err, ENOMEM, "out of memory");
	for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '='), *end;
		if (!eq || *n == PROBE_NS_TYPES)
			return nscell_error_set(err, 0, "--ref-ns '%s': want TYPE=INODE,...", spec);
		*eq = '\0';
		bool known = false;
		for (size_t i = 0; i < PROBE_NS_TYPES; i++)
			known |= strcmp(t, types[i]) == 0;
		unsigned long long ino = strtoull(eq + 1, &end, 10);
		if (!known || *end || end == eq + 1)
			return nscell_error_set(err, 0, "--ref-ns: '%s=%s': want one of cgroup ipc mnt "
						"net pid time user uts, and an inode number", t, eq + 1);
		snprintf(ref[*n].name, sizeof ref[*n].name, "%s", t);
		ref[(*n)++].ino = ino;
	}
	return 0;
}
