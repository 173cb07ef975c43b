/* nscell hook STAGE: the OCI hooks `nscell export` writes into config.json
 * (oci/hooks.c), run by runc with the container's state JSON on stdin.
 *
 * createRuntime (runc calls it after its mounts, before pivot_root, with
 * the container's pid 1 waiting): rebuild the plan from the templates the
 * bundle names (annotations org.nscell.*) on this host with plan_load,
 * refuse when they changed since the export (org.nscell.hash), then bring
 * the bundle up to date: the generated /etc/passwd and /etc/group from the
 * user database as it is now, the `copy` entries copied again, each
 * written over the bundle's file in place (the same inode, so the binds
 * runc made of files/ show the new contents), the disk-backed tmp dirs
 * made when missing; last, register the container in nscell's state
 * directory (cli/runc.h).
 * poststop: remove that record.
 * Any failure: one line on stderr and status 2, and runc does not start
 * the container. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "bundles/bundle.h"
#include "cli/cli.h"
#include "cli/runc.h"
#include "oci/oci.h"

#ifndef NSCELL_BINDIR
#define NSCELL_BINDIR "/usr/local/bin"
#endif

#define STATE_JSON_MAX (1u << 20)

/* what runc hands a hook on stdin */
struct hook_state {
	yajl_val tree;
	const char *id, *bundle;
	long long pid;
};

/* ---- the origin hash: raw bytes of nscell.conf and the templates */

static void fnv(uint64_t *h, const void *p, size_t n)
{
	for (const unsigned char *c = p; n--; c++)
		*h = (*h ^ *c) * 1099511628211ull;
}

int hook_plan_hash(const struct plan *p, char *out, size_t size, nscell_error_t *err)
{
	uint64_t h = 14695981039346656037ull;
	char buf[65536];
	for (size_t i = 0; i < p->nfiles; i++) {
		_cleanup_close_ int fd = open(p->files[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return nscell_error_errno(err, errno, "%s", p->files[i]);
		ssize_t n;
		while ((n = read(fd, buf, sizeof buf)) > 0)
			fnv(&h, buf, (size_t)n);
		if (n < 0)
			return nscell_error_errno(err, errno, "read %s", p->files[i]);
		fnv(&h, "", 1); /* files end */
	}
	snprintf(out, size, "%016llx", (unsigned long long)h);
	return 0;
}

static int absolute(const char *given, char **out, nscell_error_t *err)
{
	*out = NULL;
	if (given && !(*out = realpath(given, NULL)))
		return nscell_error_errno(err, errno, "%s", given);
	return 0;
}

int hook_info_for(const struct cli *c, const struct plan *p, struct oci_hooks *h,
		  nscell_error_t *err)
{
	const char *bin = getenv("NSCELL_HOOK_BIN");
	const char *state = getenv("NSCELL_STATE_DIR");
	char hash[24];
	memset(h, 0, sizeof *h);
	if (!bin || !*bin)
		bin = NSCELL_BINDIR "/nscell";
	if (bin[0] != '/')
		return nscell_error_set(err, EINVAL, "NSCELL_HOOK_BIN '%s': not an absolute path", bin);
	if (state && *state && state[0] != '/')
		return nscell_error_set(err, EINVAL, "NSCELL_STATE_DIR '%s': not an absolute path",
					state);
	if (!(h->bin = strdup(bin)) || (state && *state && !(h->state_dir = strdup(state))))
		return nscell_error_set(err, ENOMEM, "out of memory");
	if (absolute(c->load.conf_path, &h->conf, err) < 0 ||
	    absolute(c->load.server_tpl, &h->server_tpl, err) < 0 ||
	    absolute(c->load.vhost_tpl, &h->vhost_tpl, err) < 0 ||
	    hook_plan_hash(p, hash, sizeof hash, err) < 0)
		return -1;
	if (!(h->hash = strdup(hash)))
		return nscell_error_set(err, ENOMEM, "out of memory");
	return 0;
}

/* ---- the state on stdin */

static int read_state(struct hook_state *s, nscell_error_t *err)
{
	_cleanup_free_ char *buf = malloc(STATE_JSON_MAX + 1);
	size_t len = 0;
	ssize_t n;
	if (!buf)
		return nscell_error_set(err, ENOMEM, "out of memory");
	while (len <= STATE_JSON_MAX && (n = read(0, buf + len, STATE_JSON_MAX + 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nscell_error_errno(err, errno, "reading the container state on stdin");
		len += (size_t)n;
	}
	if (len > STATE_JSON_MAX)
		return nscell_error_set(err, EFBIG, "the container state on stdin is over 1 MiB");
	buf[len] = '\0';
	char msg[256];
	if (!(s->tree = yajl_tree_parse(buf, msg, sizeof msg))) {
		msg[strcspn(msg, "\n")] = '\0';
		return nscell_error_set(err, EINVAL, "the container state on stdin: invalid JSON: %s",
					msg);
	}
	const char *idp[] = { "id", NULL }, *bp[] = { "bundle", NULL }, *pp[] = { "pid", NULL };
	yajl_val id = yajl_tree_get(s->tree, idp, yajl_t_string);
	yajl_val bundle = yajl_tree_get(s->tree, bp, yajl_t_string);
	yajl_val pid = yajl_tree_get(s->tree, pp, yajl_t_number);
	if (!id || !bundle)
		return nscell_error_set(err, EINVAL, "the container state on stdin has no %s "
					"(is this run by an OCI runtime?)", id ? "bundle" : "id");
	s->id = id->u.string;
	s->bundle = bundle->u.string;
	s->pid = pid && YAJL_IS_INTEGER(pid) ? YAJL_GET_INTEGER(pid) : 0;
	if (s->bundle[0] != '/')
		return nscell_error_set(err, EINVAL, "bundle '%s': not an absolute path", s->bundle);
	return 0;
}

/* ---- writing into the bundle: in place, never following a symlink */

static int open_in(int base, const char *rel, nscell_error_t *err)
{
	_cleanup_free_ char *buf = strdup(rel);
	if (!buf)
		return nscell_error_set(err, ENOMEM, "out of memory");
	int fd = dup(base);
	char *save = NULL, *next;
	for (char *c = strtok_r(buf, "/", &save); fd >= 0 && c; c = next) {
		next = strtok_r(NULL, "/", &save);
		int nfd = openat(fd, c, (next ? O_PATH | O_DIRECTORY : O_WRONLY | O_NONBLOCK) |
					O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		if (nfd < 0) {
			int e = errno;
			close(fd);
			return nscell_error_errno(err, e, "%s", rel);
		}
		close(fd);
		fd = nfd;
	}
	return fd < 0 ? nscell_error_errno(err, errno, "dup") : fd;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t w = write(fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The contents of a PLAN_FILE or PLAN_COPY entry; *skip for a copy-try
 * whose source is gone (the bundle's copy stays). */
static int entry_contents(const struct plan_mount *m, char **data, size_t *len, mode_t *mode,
			  bool *skip, nscell_error_t *err)
{
	*skip = false;
	if (m->op == PLAN_FILE) {
		*mode = m->mode;
		*len = m->len;
		*data = malloc(m->len + 1);
		if (!*data)
			return nscell_error_set(err, ENOMEM, "out of memory");
		if (m->len)
			memcpy(*data, m->data, m->len);
		return 0;
	}
	int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	if (m->flags & PLAN_F_USER_PATH)
		flags |= O_NOFOLLOW;
	_cleanup_close_ int fd = open(m->src, flags);
	struct stat st;
	if (fd < 0 && errno == ENOENT && (m->flags & PLAN_F_TRY))
		return *skip = true, 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		return nscell_error_errno(err, errno, "copy %s: source %s", m->dst, m->src);
	if (!S_ISREG(st.st_mode))
		return nscell_error_set(err, EINVAL, "copy %s: source %s is not a regular file",
					m->dst, m->src);
	*mode = st.st_mode & 01777; /* as export: no set-id bits on root's copy */
	*data = malloc((size_t)st.st_size + 1);
	*len = 0;
	if (!*data)
		return nscell_error_set(err, ENOMEM, "out of memory");
	ssize_t n;
	while (*len < (size_t)st.st_size &&
	       (n = read(fd, *data + *len, (size_t)st.st_size - *len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nscell_error_errno(err, errno, "copy %s: read %s", m->dst, m->src);
		*len += (size_t)n;
	}
	return 0;
}

/* m (of the plan rebuilt here) over its file in the bundle: files/DST when
 * the bundle binds it from there (the reader gives it back as PLAN_FILE),
 * else ROOTFS/DST */
static int refresh_file(const struct plan *bp, int bundle_fd, int rootfs_fd,
			const struct plan_mount *m, nscell_error_t *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	mode_t mode = 0644;
	bool skip;
	if (entry_contents(m, &data, &len, &mode, &skip, err) < 0 || skip)
		return skip ? 0 : -1;
	const struct plan_mount *in_files = plan_find_dst((struct plan *)bp, m->dst);
	_cleanup_free_ char *rel = NULL;
	bool files = in_files && in_files->op == PLAN_FILE;
	if (asprintf(&rel, "%s%s", files ? OCI_FILES_DIR : "", m->dst) < 0)
		return nscell_error_set(err, ENOMEM, "out of memory");
	_cleanup_close_ int fd = open_in(files ? bundle_fd : rootfs_fd, rel, err);
	struct stat st;
	if (fd < 0)
		return nscell_error_wrap(err, "%s %s: the bundle's file (export it again)",
					 plan_op_name(m->op), m->dst);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return nscell_error_set(err, EINVAL, "%s %s: the bundle's %s is not a regular file",
					plan_op_name(m->op), m->dst, rel);
	if (ftruncate(fd, 0) < 0 || write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0)
		return nscell_error_errno(err, errno, "%s %s: writing the bundle's %s",
					  plan_op_name(m->op), m->dst, rel);
	return 0;
}

static int refresh_bundle(const struct plan *bp, const struct plan *np, const char *bundle,
			  nscell_error_t *err)
{
	_cleanup_close_ int bfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0)
		return nscell_error_errno(err, errno, "bundle %s", bundle);
	const char *root = bp->rootfs ? bp->rootfs : "rootfs";
	_cleanup_close_ int rfd = root[0] == '/' ?
		open(root, O_PATH | O_DIRECTORY | O_CLOEXEC) :
		openat(bfd, root, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rfd < 0)
		return nscell_error_errno(err, errno, "bundle %s: root %s", bundle, root);
	for (size_t i = 0; i < np->nmounts; i++) {
		const struct plan_mount *m = &np->mounts[i];
		if ((m->op == PLAN_FILE || m->op == PLAN_COPY) &&
		    refresh_file(bp, bfd, rfd, m, err) < 0)
			return -1;
		if (m->op == PLAN_TMP && bundle_make_tmp_source(np, m, np->rootless, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- the stages */

struct hook {
	struct hook_state st;
	struct plan bp;        /* the bundle's config.json */
	struct oci_hooks info; /* its hooks and origin annotations */
	struct nscell_conf conf;
};

/* the plan of the bundle's templates on this host */
static int rebuild_plan(struct hook *k, struct plan *np, nscell_error_t *err)
{
	struct diags d;
	struct load_opts lo = {
		.conf_path = k->info.conf, .server_tpl = k->info.server_tpl,
		.vhost_tpl = k->info.vhost_tpl, .vhost = k->bp.vhost, .user = k->bp.id.user,
		.rootless = k->bp.rootless, .check_sources = true,
	};
	if (!lo.user)
		return nscell_error_set(err, EINVAL, "config.json has no " OCI_ANN_USER
					" annotation: not a bundle nscell exported");
	diags_init(&d);
	int rc = plan_load(np, &k->conf, &lo, &d, err);
	diags_print(&d, stderr);
	diags_free(&d);
	if (rc < 0)
		return nscell_error_wrap(err, "rebuilding the plan of %s", lo.user);
	char hash[24];
	if (k->info.hash && hook_plan_hash(np, hash, sizeof hash, err) < 0)
		return -1;
	if (k->info.hash && strcmp(hash, k->info.hash) != 0)
		return nscell_error_set(err, 0, "nscell.conf or a template changed since the bundle "
					"was exported (hash %s, now %s): export it again",
					k->info.hash, hash);
	if (np->id.uid != k->bp.id.uid)
		return nscell_error_set(err, 0, "user %s is uid %u now, the bundle was made for uid "
					"%u: export it again", lo.user, (unsigned)np->id.uid,
					(unsigned)k->bp.id.uid);
	return 0;
}

static unsigned long clone_flags(unsigned ns)
{
	unsigned long f = 0;
	f |= ns & PLAN_NS_MOUNT ? CLONE_NEWNS : 0;
	f |= ns & PLAN_NS_PID ? CLONE_NEWPID : 0;
	f |= ns & PLAN_NS_IPC ? CLONE_NEWIPC : 0;
	f |= ns & PLAN_NS_UTS ? CLONE_NEWUTS : 0;
	f |= ns & PLAN_NS_USER ? CLONE_NEWUSER : 0;
	f |= ns & PLAN_NS_CGROUP ? CLONE_NEWCGROUP : 0;
	f |= ns & PLAN_NS_NET ? CLONE_NEWNET : 0;
	return f;
}

static int open_runc_dir(struct hook *k, bool create, nscell_error_t *err)
{
	char path[PATH_MAX];
	if (state_dir_path(k->conf.state_dir, path, sizeof path, err) < 0)
		return -1;
	_cleanup_close_ int sfd = state_dir_open(path, create, err);
	if (sfd < 0)
		return -1;
	return runc_dir_open(sfd, create, err);
}

static int create_runtime(struct hook *k, nscell_error_t *err)
{
	struct plan np;
	plan_init(&np);
	if (k->st.pid <= 1 || k->st.pid > INT_MAX) {
		plan_free(&np);
		return nscell_error_set(err, EINVAL, "the container state has no pid");
	}
	int rc = rebuild_plan(k, &np, err);
	if (rc == 0)
		rc = refresh_bundle(&k->bp, &np, k->st.bundle, err);
	struct state_rec r = { .keeper = (pid_t)k->st.pid, .created = (long long)time(NULL),
			       .uid = (unsigned)k->bp.id.uid, .rootless = k->bp.rootless,
			       .ns = clone_flags(k->bp.namespaces) };
	if (rc == 0 && state_proc_start(r.keeper, &r.start, NULL, 0) < 0)
		rc = nscell_error_set(err, ESRCH, "the container's pid %d is gone", (int)r.keeper);
	if (rc == 0) {
		snprintf(r.boot, sizeof r.boot, "%s", state_boot_id());
		snprintf(r.hash, sizeof r.hash, "%s", k->info.hash ? k->info.hash : "");
		snprintf(r.user, sizeof r.user, "%s", np.id.user);
		snprintf(r.vhost, sizeof r.vhost, "%s", k->bp.vhost ? k->bp.vhost : "");
		snprintf(r.cwd, sizeof r.cwd, "%s", k->bp.proc.cwd ? k->bp.proc.cwd : "/");
		_cleanup_close_ int rdir = open_runc_dir(k, true, err);
		rc = rdir < 0 ? -1 : runc_register(rdir, k->st.id, &r, err);
	}
	plan_free(&np);
	return rc;
}

static int post_stop(struct hook *k, nscell_error_t *err)
{
	_cleanup_close_ int rdir = open_runc_dir(k, false, err);
	if (rdir < 0)
		return err->errnum == ENOENT ? 0 : -1;
	return runc_deregister(rdir, k->st.id, err);
}

static int load_bundle(struct hook *k, nscell_error_t *err)
{
	char path[PATH_MAX];
	struct diags d;
	if (read_state(&k->st, err) < 0)
		return -1;
	if (snprintf(path, sizeof path, "%s/config.json", k->st.bundle) >= (int)sizeof path)
		return nscell_error_set(err, ENAMETOOLONG, "bundle %s: path too long", k->st.bundle);
	if (oci_config_read_file_hooks(&k->bp, path, &k->info, err) < 0)
		return -1;
	diags_init(&d);
	int rc = conf_load(&k->conf, k->info.conf, k->info.conf != NULL, &d);
	if (rc < 0) {
		diags_print(&d, stderr);
		nscell_error_set(err, EINVAL, "%s: cannot be read", k->info.conf);
	}
	diags_free(&d);
	return rc;
}

int cmd_hook(struct cli *c)
{
	const char *stage = c->argv[0];
	bool create = stage && strcmp(stage, OCI_HOOK_CREATE_RUNTIME) == 0;
	if (!stage || c->argv[1] || (!create && strcmp(stage, OCI_HOOK_POSTSTOP) != 0)) {
		fprintf(stderr, "nscell hook: expected one stage, " OCI_HOOK_CREATE_RUNTIME " or "
			OCI_HOOK_POSTSTOP ", with the container state on stdin (see nscell --help)\n");
		return NSCELL_EXIT_USAGE;
	}
	struct hook k = { 0 };
	nscell_error_t err = { 0 };
	plan_init(&k.bp);
	conf_init(&k.conf);
	int rc = load_bundle(&k, &err);
	if (rc == 0)
		rc = create ? create_runtime(&k, &err) : post_stop(&k, &err);
	if (rc < 0)
		fprintf(stderr, "nscell hook %s: container %s: %s\n", stage,
			k.st.id ? k.st.id : "?", err.msg);
	yajl_tree_free(k.st.tree);
	plan_free(&k.bp);
	oci_hooks_free(&k.info);
	conf_free(&k.conf);
	return rc < 0 ? NSCELL_EXIT_USAGE : 0;
}
