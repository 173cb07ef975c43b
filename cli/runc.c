/* runc-run containers in nscell's state directory (see cli/runc.h). */
#include "cli/runc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "translate/identity.h"
#include "translate/load.h"

#define LOCK_TIMEOUT_MS 5000

bool runc_id_valid(const char *id)
{
	size_t n = strlen(id);
	return n > 0 && n < STATE_NAME_MAX && id[0] != '.' &&
	       strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+.-") == n;
}

int runc_dir_open(int statefd, bool create, nscell_error_t *err)
{
	return state_subdir_open(statefd, RUNC_SUBDIR, create, err);
}

int runc_register(int rundir, const char *id, const struct state_rec *r, nscell_error_t *err)
{
	if (!runc_id_valid(id))
		return nscell_error_set(err, EINVAL, "container id '%s': not a name nscell records",
					id);
	int lock = state_lock(rundir, id, LOCK_EX, true, LOCK_TIMEOUT_MS, NULL, NULL, err);
	if (lock < 0)
		return -1;
	int rc = state_write(rundir, id, r, err);
	close(lock);
	return rc;
}

int runc_deregister(int rundir, const char *id, nscell_error_t *err)
{
	if (!runc_id_valid(id))
		return 0; /* never registered */
	int lock = state_lock(rundir, id, LOCK_EX, false, LOCK_TIMEOUT_MS, NULL, NULL, err);
	if (lock < 0)
		return err->errnum == ENOENT ? 0 : -1;
	int rc = 0;
	if (state_unlink(rundir, id, STATE_FILE) < 0 && errno != ENOENT)
		rc = nscell_error_errno(err, errno, "remove %s/%s", id, STATE_FILE);
	state_remove_entry(rundir, id);
	close(lock);
	return rc;
}

struct runc_entry *runc_entries_load(int statefd, size_t *n)
{
	nscell_error_t err;
	struct runc_entry *v = NULL;
	size_t cap = 0;
	*n = 0;
	int fd = statefd < 0 ? -1 : runc_dir_open(statefd, false, &err);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		struct runc_entry one = { 0 };
		const char *why;
		if (!runc_id_valid(e->d_name) ||
		    state_read(dirfd(d), e->d_name, STATE_FILE, &one.r, &err) != 0)
			continue;
		snprintf(one.id, sizeof one.id, "%s", e->d_name);
		int pidfd = state_keeper_open(&one.r, &why);
		one.live = pidfd >= 0;
		if (pidfd >= 0)
			close(pidfd);
		if (*n == cap) {
			struct runc_entry *nv = realloc(v, (cap = cap ? 2 * cap : 8) * sizeof *v);
			if (!nv)
				break;
			v = nv;
		}
		v[(*n)++] = one;
	}
	closedir(d);
	return v;
}

/* ---- enter */

/* after the ids: what setuid left (all of it for the sandbox's root) */
static int drop_capabilities(void)
{
	cap_t none = cap_init();
	int rc = none ? cap_set_proc(none) : -1;
	if (none)
		cap_free(none);
	if (rc == 0)
		rc = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return rc;
}

struct target {
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	bool set_groups; /* not in a rootless container: setgroups is denied there */
	const char *cwd;
	char **argv, **env;
};

static void __attribute__((noreturn)) command_main(const struct target *t, pid_t parent)
{
	const char *what = "setsid";
	if (setsid() < 0)
		goto fail;
	what = "dropping the bounding set";
	for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			goto fail;
	what = "setting the user's groups and ids";
	if ((t->set_groups && setgroups(t->ngroups, t->groups) < 0) || setgid(t->gid) < 0 ||
	    setuid(t->uid) < 0)
		goto fail;
	what = "dropping capabilities";
	if (drop_capabilities() < 0)
		goto fail;
	what = "no_new_privs";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		goto fail;
	if (getppid() != parent)
		_exit(2);
	if (chdir(t->cwd) < 0 && chdir("/") < 0) {
		what = "chdir";
		goto fail;
	}
	close_range(3, ~0U, 0);
	execvpe(t->argv[0], t->argv, t->env);
	fprintf(stderr, "nscell enter: %s: %s\n", t->argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
fail:
	fprintf(stderr, "nscell enter: %s: %s\n", what, strerror(errno));
	_exit(2);
}

static int wait_status(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return NSCELL_EXIT_USAGE;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The joiner: into the container's namespaces (the pid namespace applies
 * to its child, the command), then waits for the command and exits with
 * its status.  _exit: nothing of this process's own (stdio, atexit, a
 * sanitizer's leak check, which cannot work from inside the namespaces)
 * runs there. */
static void __attribute__((noreturn)) joiner_main(const struct runc_entry *e, int pidfd,
						  const struct target *t)
{
	unsigned long ns = e->r.ns & (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
				       CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWCGROUP);
	if (setns(pidfd, (int)ns) < 0) {
		fprintf(stderr, "nscell enter: joining runc container %s (pid %d): %s\n", e->id,
			(int)e->r.keeper, strerror(errno));
		_exit(NSCELL_EXIT_USAGE);
	}
	close(pidfd);
	/* the parent as the command sees it: 0, outside its pid namespace */
	pid_t parent = ns & CLONE_NEWPID ? 0 : getpid();
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "nscell enter: fork: %s\n", strerror(errno));
		_exit(NSCELL_EXIT_USAGE);
	}
	if (pid == 0)
		command_main(t, parent);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	_exit(wait_status(pid));
}

static int join_and_run(const struct runc_entry *e, const struct target *t)
{
	const char *why;
	int pidfd = state_keeper_open(&e->r, &why);
	if (pidfd < 0) {
		fprintf(stderr, "nscell enter: runc container %s: %s\n", e->id, why);
		return NSCELL_EXIT_USAGE;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "nscell enter: fork: %s\n", strerror(errno));
		close(pidfd);
		return NSCELL_EXIT_USAGE;
	}
	if (pid == 0)
		joiner_main(e, pidfd, t);
	close(pidfd);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	return wait_status(pid);
}

int runc_enter(const struct runc_entry *e, bool as_root, const char *cwd, char *const *argv)
{
	struct plan_identity id = { 0 };
	struct plan_identity root = { .user = "root", .home = "/root", .shell = "/bin/sh" };
	nscell_error_t err = { 0 };
	if (!as_root && identity_lookup(&id, e->r.user, &err) < 0) {
		fprintf(stderr, "nscell enter: %s\n", err.msg);
		return NSCELL_EXIT_USAGE;
	}
	if (!as_root && id.uid != e->r.uid) {
		fprintf(stderr, "nscell enter: user %s is uid %u now, the container was made for "
			"uid %u\n", e->r.user, (unsigned)id.uid, e->r.uid);
		identity_free(&id);
		return NSCELL_EXIT_USAGE;
	}
	const struct plan_identity *who = as_root ? &root : &id;
	char *shell[] = { (char *)(who->shell ? who->shell : "/bin/sh"), NULL };
	struct target t = {
		/* rootless: the process is container root, which is the user */
		.uid = as_root || e->r.rootless ? 0 : id.uid,
		.gid = as_root || e->r.rootless ? 0 : id.gid,
		.groups = as_root || e->r.rootless ? NULL : id.groups,
		.ngroups = as_root || e->r.rootless ? 0 : id.ngroups,
		.set_groups = !e->r.rootless,
		.cwd = cwd ? cwd : as_root ? "/" : e->r.cwd,
		.argv = argv && argv[0] ? (char **)argv : shell,
		.env = load_process_env(who, NULL),
	};
	int rc = NSCELL_EXIT_USAGE;
	if (!t.env)
		fprintf(stderr, "nscell enter: out of memory\n");
	else
		rc = join_and_run(e, &t);
	plan_strv_free(t.env);
	identity_free(&id);
	return rc;
}

/* ---- unmount and enter, next to the shim's sandboxes (cli/cmd_unmount.c) */

static bool selected(const struct runc_entry *e, long uid, const char *vhost)
{
	if (uid < 0)
		return true;
	return e->r.uid == (unsigned long)uid && (!vhost || strcmp(e->r.vhost, vhost) == 0);
}

static int end_one(int rundir, const struct runc_entry *e, bool kill, bool verbose)
{
	char what[700];
	const char *why;
	nscell_error_t err = { 0 };
	snprintf(what, sizeof what, "%s (uid %u%s%s, runc container %s, pid %d)", e->r.user,
		 e->r.uid, e->r.vhost[0] ? ", vhost " : "", e->r.vhost, e->id, (int)e->r.keeper);
	int pidfd = state_keeper_open(&e->r, &why);
	if (pidfd >= 0 && !kill) {
		/* nothing to retire: runc owns it */
		printf("%s: run by runc, left running (--kill ends it)\n", what);
		close(pidfd);
		return 0;
	}
	if (pidfd >= 0) {
		/* pid 1 gone: the kernel kills everything in its pid namespace */
		struct pollfd pf = { .fd = pidfd, .events = POLLIN };
		state_pidfd_signal(pidfd, SIGKILL);
		bool gone = poll(&pf, 1, LOCK_TIMEOUT_MS) == 1;
		close(pidfd);
		if (!gone) {
			fprintf(stderr, "nscell unmount: %s: pid 1 did not exit\n", what);
			return 1;
		}
		if (verbose)
			printf("%s: killed\n", what);
	} else if (verbose) {
		printf("%s: stale record removed\n", what);
	}
	/* runc's poststop hook may have removed it already */
	if (runc_deregister(rundir, e->id, &err) < 0) {
		fprintf(stderr, "nscell unmount: %s\n", err.msg);
		return 1;
	}
	return 0;
}

int runc_unmount(int statefd, long uid, const char *vhost, bool kill, bool verbose)
{
	size_t n = 0;
	nscell_error_t err;
	_cleanup_free_ struct runc_entry *v = runc_entries_load(statefd, &n);
	_cleanup_close_ int rundir = n ? runc_dir_open(statefd, false, &err) : -1;
	int rc = 0;
	for (size_t i = 0; rundir >= 0 && i < n; i++)
		if (selected(&v[i], uid, vhost))
			rc |= end_one(rundir, &v[i], kill, verbose);
	return rc;
}

struct enter_opts {
	const char *user, *vhost, *conf, *cwd;
	bool as_root;
	char **argv;
};

/* the options the shim's --enter takes; -1 for anything else */
static int parse_enter(char **args, struct enter_opts *o)
{
	enum { OPT_ROOT = 0x100 };
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' }, { "vhost", required_argument, NULL, 's' },
		{ "conf", required_argument, NULL, 'C' }, { "root", no_argument, NULL, OPT_ROOT },
		{ NULL, 0, NULL, 0 },
	};
	size_t n = plan_strv_len(args);
	_cleanup_free_ char **argv = calloc(n + 2, sizeof *argv);
	if (!argv)
		return -1;
	argv[0] = "enter";
	memcpy(argv + 1, args, n * sizeof *argv);
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long((int)n + 1, argv, "+u:s:C:d:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u': o->user = optarg; break;
		case 's': o->vhost = optarg; break;
		case 'C': o->conf = optarg; break;
		case 'd': o->cwd = optarg; break;
		case OPT_ROOT: o->as_root = true; break;
		default: return -1;
		}
	}
	o->argv = optind <= (int)n ? args + optind - 1 : NULL;
	return 0;
}

static int open_state(const char *conf_path)
{
	struct nscell_conf conf;
	struct diags d;
	nscell_error_t err;
	char path[PATH_MAX];
	conf_init(&conf);
	diags_init(&d);
	int rc = conf_load(&conf, conf_path, conf_path != NULL, &d);
	if (rc == 0)
		rc = state_dir_path(conf.state_dir, path, sizeof path, &err);
	diags_free(&d);
	conf_free(&conf);
	return rc < 0 ? -1 : state_dir_open(path, false, &err);
}

/* the shim has a live sandbox for (uid, vhost) */
static bool shim_has(int statefd, uid_t uid, const char *vhost)
{
	char name[STATE_NAME_MAX];
	struct state_rec r;
	nscell_error_t err;
	const char *why;
	if (state_entry_name(uid, vhost, name, sizeof name) < 0 ||
	    state_read(statefd, name, STATE_FILE, &r, &err) != 0)
		return false;
	int fd = state_keeper_open(&r, &why);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

int runc_enter_instead(char **args)
{
	struct enter_opts o = { 0 };
	if (parse_enter(args, &o) < 0)
		return -1;
	const char *user = o.user ? o.user : identity_default_user();
	struct passwd *pw = getpwnam(user);
	char *end;
	unsigned long num = strtoul(user, &end, 10);
	if (!pw && (!*user || *end || !(pw = getpwuid((uid_t)num))))
		return -1; /* the shim says so */
	uid_t uid = pw->pw_uid;
	_cleanup_close_ int statefd = open_state(o.conf);
	if (statefd < 0 || shim_has(statefd, uid, o.vhost))
		return -1;
	size_t n = 0;
	_cleanup_free_ struct runc_entry *v = runc_entries_load(statefd, &n);
	const struct runc_entry *best = NULL;
	for (size_t i = 0; i < n; i++)
		if (v[i].live && selected(&v[i], uid, o.vhost ? o.vhost : "") &&
		    (!best || v[i].r.created > best->r.created))
			best = &v[i];
	if (!best)
		return -1;
	if (o.as_root && geteuid() != 0) {
		fprintf(stderr, "nscell enter: --root: only for root\n");
		return NSCELL_EXIT_USAGE;
	}
	return runc_enter(best, o.as_root, o.cwd, o.argv);
}
