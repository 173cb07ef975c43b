/* nscell_spawn(): the shim's warm launch, from the caller's process.
 *
 * The same steps as `nscell-shim -p` with no template read: plan_load of
 * nscell.conf and the user (translate/load.c), then shim_persist
 * (shim/persist.c) with warm_only (never build, never remove anything)
 * and no_wait (shim/join.c returns the command's pid once it exec'd
 * instead of waiting for it).  The command's last steps are
 * shim/init.c's command_exec, with spawn_child_setup first.  Anything
 * else (a build, a sandbox of its own, a vhost whose mode is off) execs
 * nscell-shim (via_shim.c). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libnscell/cache.h"
#include "libnscell/internal.h"
#include "translate/load.h"

#define SPAWN_MAX_KEEP_FDS 1024

void nscell_spawn_opts_init(struct nscell_spawn_opts *o)
{
	memset(o, 0, sizeof *o);
	o->stdio[0] = o->stdio[1] = o->stdio[2] = -1;
}

int spawn_child_setup(struct shim *s, nscell_error_t *err)
{
	const struct nscell_spawn_opts *o = s->before_exec_ctx;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	/* the caller's handlers must not run here, nor survive (SIG_IGN) */
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	/* the caller's umask, read where no other thread can race the read */
	s->umask = umask(0);
	umask(s->umask);
	for (int fd = 0; fd < 3; fd++) {
		int from = o->stdio[fd];
		if (from < 0 || from == fd) {
			if (fcntl(fd, F_SETFD, 0) < 0)
				return nscell_error_errno(err, errno, "fd %d", fd);
		} else if (dup2(from, fd) < 0) {
			return nscell_error_errno(err, errno, "stdio[%d]: dup2 %d onto %d", fd, from, fd);
		}
	}
	for (size_t i = 0; i < s->nkeep_fds; i++)
		if (fcntl(s->keep_fds[i], F_SETFD, 0) < 0)
			return nscell_error_errno(err, errno, "keep fd %d", s->keep_fds[i]);
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* checked in the caller, which none of it changes */
static int check_fds(const struct nscell_spawn_opts *o, struct shim *s, nscell_error_t *err)
{
	for (int fd = 0; fd < 3; fd++) {
		if (!fd_open(fd))
			return nscell_error_set(err, EBADF, "fd %d is closed in the caller: open it "
						"(on /dev/null) first", fd);
		if (o->stdio[fd] >= 0 && !fd_open(o->stdio[fd]))
			return nscell_error_set(err, EBADF, "stdio[%d]: fd %d is not open", fd, o->stdio[fd]);
	}
	if (o->nkeep_fds > SPAWN_MAX_KEEP_FDS || (o->nkeep_fds && !o->keep_fds))
		return nscell_error_set(err, EINVAL, "keep_fds: %zu fds (at most %d)", o->nkeep_fds,
					SPAWN_MAX_KEEP_FDS);
	int *v = calloc(o->nkeep_fds + 1, sizeof *v);
	if (!v)
		return nscell_error_set(err, ENOMEM, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < o->nkeep_fds; i++) {
		int fd = o->keep_fds[i];
		if (fd < 3 || !fd_open(fd)) {
			free(v);
			return nscell_error_set(err, EBADF, "keep_fds: %d is not an open fd above 2", fd);
		}
		v[n++] = fd;
	}
	qsort(v, n, sizeof *v, cmp_int);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (!u || v[u - 1] != v[i])
			v[u++] = v[i];
	s->keep_fds = v;
	s->nkeep_fds = u;
	return 0;
}

static int check_request(const struct nscell_spawn_opts *o, nscell_error_t *err)
{
	if (!o || !o->argv || !o->argv[0] || !o->argv[0][0])
		return nscell_error_set(err, EINVAL, "no program: argv is empty");
	if ((o->flags & NSCELL_SPAWN_PERSIST) && (o->flags & NSCELL_SPAWN_NO_PERSIST))
		return nscell_error_set(err, EINVAL, "NSCELL_SPAWN_PERSIST and NSCELL_SPAWN_NO_PERSIST "
					"together");
	if (o->flags & ~(NSCELL_SPAWN_PERSIST | NSCELL_SPAWN_NO_PERSIST | NSCELL_SPAWN_CGROUP |
			 NSCELL_SPAWN_VERBOSE | NSCELL_SPAWN_NO_CACHE))
		return nscell_error_set(err, EINVAL, "flags 0x%x: unknown bits", o->flags);
	/* as nscell-shim: a setuid caller would let anyone pick users */
	if (getauxval(AT_SECURE) || getuid() != geteuid() || getgid() != getegid())
		return nscell_error_set(err, EPERM, "refusing to run setuid, setgid or with file "
					"capabilities");
	return 0;
}

struct spawn {
	struct shim s;
	struct plan plan;
	struct nscell_conf own_conf; /* without the cache */
	struct nscell_conf *conf;    /* own_conf, or the cache's (read only) */
	struct spawn_cache_ref cache;
	struct diags d;
	struct load_opts lo;
};

/* plan_load, with nscell.conf and the user from the cache when it has them
 * (cache.c), and the user kept there after a lookup */
static int load(const struct nscell_spawn_opts *o, struct spawn *sp, nscell_error_t *err)
{
	const struct nscell_conf *cached = NULL;
	if (!(o->flags & NSCELL_SPAWN_NO_CACHE))
		cached = spawn_cache_conf(o->conf, &sp->cache);
	/* the cache's conf is loaded: plan_load_base only reads it */
	sp->conf = cached ? (struct nscell_conf *)cached : &sp->own_conf;
	sp->lo.identity = cached ? spawn_cache_identity(&sp->cache, o->user) : NULL;
	if (plan_load_base(&sp->plan, sp->conf, &sp->lo, &sp->d, err) < 0)
		return -1;
	if (cached && !sp->lo.identity)
		spawn_cache_keep_identity(&sp->cache, o->user, &sp->plan.id);
	return plan_load_process(&sp->plan, sp->conf, &sp->lo, err);
}

static pid_t join_or_shim(const struct nscell_spawn_opts *o, struct spawn *sp, nscell_error_t *err)
{
	static char *const no_env[] = { NULL };
	struct shim *s = &sp->s;
	s->rootless = geteuid() != 0;
	sp->lo = (struct load_opts){ .conf_path = o->conf, .vhost = o->vhost, .user = o->user,
				     .argv = o->argv, .env = o->envp ? o->envp : no_env, .cwd = o->cwd,
				     .rootless = s->rootless, .no_templates = true };
	if (load(o, sp, err) < 0)
		return -1;
	if (s->rootless && sp->plan.id.uid != geteuid())
		return nscell_error_set(err, EPERM, "user '%s': an unprivileged caller can only spawn "
					"for itself", sp->plan.id.user);
	if (sp->plan.sandbox_off)
		return spawn_via_shim(o, s, (o->flags & NSCELL_SPAWN_PERSIST) ? "-p" : "-P", err);
	if (shim_persist(s, sp->conf, &sp->lo, &sp->d, false, err) == 0)
		return s->spawned;
	if (!s->cold || !(o->flags & NSCELL_SPAWN_PERSIST)) {
		size_t n = strlen(err->msg);
		if (s->cold)
			snprintf(err->msg + n, sizeof err->msg - n, " (NSCELL_SPAWN_PERSIST builds one)");
		return -1;
	}
	shim_log(s, NULL, "%s: building it through nscell-shim -p", err->msg);
	memset(err, 0, sizeof *err);
	return spawn_via_shim(o, s, "-p", err);
}

static pid_t spawn(const struct nscell_spawn_opts *o, struct spawn *sp, nscell_error_t *err)
{
	struct shim *s = &sp->s;
	if (check_request(o, err) < 0 || check_fds(o, s, err) < 0)
		return -1;
	s->plan = &sp->plan;
	s->err_fd = s->status_fd = s->keeper_fd = s->commit_fd = -1;
	s->verbose = o->flags & NSCELL_SPAWN_VERBOSE;
	s->want_cgroup = o->flags & NSCELL_SPAWN_CGROUP;
	s->cwd_given = o->cwd != NULL;
	s->no_wait = s->warm_only = true;
	s->before_exec = spawn_child_setup;
	s->before_exec_ctx = (void *)o;
	s->join_fast = spawn_join_fast;
	sigemptyset(&s->caller_mask); /* the command's mask: empty */
	if (s->verbose)
		shim_log_start();
	if (o->flags & NSCELL_SPAWN_NO_PERSIST)
		return spawn_via_shim(o, s, "-P", err);
	return join_or_shim(o, sp, err);
}

pid_t nscell_spawn(const struct nscell_spawn_opts *o, struct nscell_spawn_error *out)
{
	struct spawn sp;
	nscell_error_t err = { 0 };
	sigset_t all, mask;
	memset(&sp, 0, sizeof sp);
	conf_init(&sp.own_conf);
	plan_init(&sp.plan);
	diags_init(&sp.d);
	/* nothing of the caller's may run in the child before it execs */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &mask);
	pid_t pid = spawn(o, &sp, &err);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	free(sp.s.keep_fds);
	plan_free(&sp.plan);
	conf_free(&sp.own_conf);
	spawn_cache_release(&sp.cache);
	diags_free(&sp.d);
	if (pid < 0) {
		if (!err.msg[0])
			nscell_error_set(&err, err.errnum, "spawn failed");
		out->errnum = err.errnum ? err.errnum : EINVAL;
		snprintf(out->msg, sizeof out->msg, "%s", err.msg);
		errno = out->errnum;
		return -1;
	}
	out->errnum = 0;
	out->msg[0] = '\0';
	return pid;
}

void nscell_spawn_cache_clear(void)
{
	spawn_cache_clear();
}
