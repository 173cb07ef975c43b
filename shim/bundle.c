/* nscell-shim run -b DIR ID: run an OCI bundle.
 *
 * DIR/config.json goes through oci/'s reader (the one `nscell` uses)
 * into a plan, and the plan through the same executor as a template's:
 * the bundle's rootfs is bound as the new root (rootfs.c), the config's
 * mounts on top, then pivot, credentials and exec.  What the reader
 * does not know is an error naming the field.
 *
 * Hooks run in the runtime spec's order (shim/runtime_hooks.c): prestart
 * and createRuntime with the sandbox's pid once its mounts are made, then
 * createContainer in it, before its pivot (shim/runtime_stages.c); its
 * command waits (shim_bundle_wait_go); then the command is let go, runs
 * startContainer before its exec, and poststart follows; poststop once it
 * has exited, or after a failed createRuntime or createContainer, which
 * kills the sandbox first.
 *
 * process.terminal: the command makes its pty (shim/console.c); `run` in
 * the foreground passes our stdio through it (shim/runtime_tty.c),
 * create and run -d send its master to --console-socket (runc's rules
 * on which goes with which: rt_terminal_check).
 *
 * Only nscell-shim has this file (not libnscell.a): it is the one place
 * the shim touches JSON, and only for `run`; the template hot path never
 * calls into it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "oci/oci.h"
#include "shim/bundle.h"
#include "shim/runtime.h"
#include "shim/runtime_stages.h"

#define MAX_PRESERVE_FDS 256

static const char run_usage[] =
	"usage: nscell-shim run [-b DIR] [-d [--console-socket PATH] [--pid-file F]]\n"
	"                       [--preserve-fds N] [-v] ID\n"
	"\n"
	"Run the OCI bundle in DIR (default: the current directory) in the foreground,\n"
	"as `runc run -b DIR ID` does: DIR/config.json (as `nscell export` writes it) is\n"
	"read into a plan and built by the shim.  A field nscell does not support is an\n"
	"error naming it.  The config's hooks (prestart, createRuntime, createContainer,\n"
	"startContainer, poststart, poststop) run in the runtime spec's order.  With\n"
	"process.terminal the process gets a pty, which run passes our stdin and stdout\n"
	"through (our terminal in raw mode).\n"
	"  -b, --bundle DIR     the bundle directory\n"
	"  -d, --detach         create and start it, and return (as create, then start)\n"
	"  --console-socket PATH  (with -d) send process.terminal's pty master there\n"
	"  --preserve-fds N     pass fds 3 .. 3+N-1 on to the process\n"
	"  -v                   print each step on stderr\n"
	"Exit status: the process's (128+N when killed by signal N); 2 when the\n"
	"bundle could not be run, with one line on stderr saying why.\n";

struct run_options {
	const char *bundle;
	const char *id;
	const char *console_socket; /* an error in the foreground, as runc's */
	int preserve;
	bool verbose;
};

/* runc's rule: the ID names a directory of its state */
bool rt_id_valid(const char *id)
{
	return *id && !strchr(id, '/') && strcmp(id, ".") != 0 && strcmp(id, "..") != 0 &&
	       strlen(id) <= 1024;
}

/* runc's two rules (utils_linux.go), in its words */
int rt_terminal_check(const struct plan *p, const char *console_socket, bool detached,
		      nscell_error_t *err)
{
	if (detached && p->proc.terminal && !console_socket)
		return nscell_error_set(err, 0, "process.terminal is true: cannot allocate tty if "
					"the runtime will detach without setting console socket "
					"(--console-socket PATH)");
	if (console_socket && (!detached || !p->proc.terminal))
		return nscell_error_set(err, 0, "--console-socket: cannot use console socket if the "
					"runtime will not detach or allocate tty (%s)",
					!p->proc.terminal ? "process.terminal is false" :
							    "run without -d");
	return 0;
}

static int parse_run(int argc, char **argv, struct run_options *o, nscell_error_t *err)
{
	enum { OPT_PRESERVE = 0x100, OPT_HELP, OPT_CONSOLE };
	static const struct option longopts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "console-socket", required_argument, NULL, OPT_CONSOLE },
		{ "preserve-fds", required_argument, NULL, OPT_PRESERVE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;
	*o = (struct run_options){ .bundle = "." };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+b:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': o->bundle = optarg; break;
		case 'v': o->verbose = true; break;
		case OPT_CONSOLE: o->console_socket = optarg; break;
		case OPT_PRESERVE:
			errno = 0;
			long n = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || n < 0 || n > MAX_PRESERVE_FDS)
				return nscell_error_set(err, 0, "--preserve-fds '%s': not a count "
							"from 0 to %d", optarg, MAX_PRESERVE_FDS);
			o->preserve = (int)n;
			break;
		case 'h': case OPT_HELP:
			fputs(run_usage, stdout);
			exit(0);
		default:
			if (optopt == 'b' || optopt == OPT_PRESERVE || optopt == OPT_CONSOLE)
				return nscell_error_set(err, 0, "run: %s needs an argument (see run --help)",
							argv[optind - 1]);
			return nscell_error_set(err, 0, "run: unknown option '%s' (see run --help)",
						argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return nscell_error_set(err, 0, "run: expected one container ID after the options "
					"(see run --help)");
	o->id = argv[optind];
	if (!rt_id_valid(o->id))
		return nscell_error_set(err, 0, "run: '%s' is not a container ID (no '/', not "
					"empty, not . or ..)", o->id);
	return 0;
}

/* "DIR/rel", malloc'd; NULL with err */
static char *in_bundle(const char *dir, const char *rel, nscell_error_t *err)
{
	char *s;
	if (asprintf(&s, "%s/%s", dir, rel) < 0) {
		nscell_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	return s;
}

/* Relative paths in config.json are the bundle's, as runc reads them:
 * root.path and bind sources (the bundle's files/). */
static int resolve_paths(struct plan *p, const char *dir, nscell_error_t *err)
{
	if (p->rootfs[0] != '/') {
		char *abs = in_bundle(dir, p->rootfs, err);
		if (!abs)
			return -1;
		free(p->rootfs);
		p->rootfs = abs;
	}
	struct stat st;
	if (stat(p->rootfs, &st) < 0)
		return nscell_error_errno(err, errno, "root.path %s", p->rootfs);
	if (!S_ISDIR(st.st_mode))
		return nscell_error_set(err, ENOTDIR, "root.path %s: not a directory", p->rootfs);
	for (size_t i = 0; i < p->nmounts; i++) {
		struct plan_mount *m = &p->mounts[i];
		if ((m->op != PLAN_BIND && m->op != PLAN_TMP) || !m->src || m->src[0] == '/')
			continue;
		char *abs = in_bundle(dir, m->src, err);
		if (!abs)
			return -1;
		free(m->src);
		m->src = abs;
	}
	return 0;
}

/* A config not written by nscell names no user: the shim's messages and
 * the command's defaults need one. */
static int identity_defaults(struct plan *p, nscell_error_t *err)
{
	char name[32];
	snprintf(name, sizeof name, "uid %u", (unsigned)p->id.uid);
	if ((!p->id.user && !(p->id.user = strdup(name))) ||
	    (!p->id.home && !(p->id.home = strdup("/"))) ||
	    (!p->id.shell && !(p->id.shell = strdup("/bin/sh"))))
		return nscell_error_set(err, ENOMEM, "out of memory");
	return 0;
}

/* The home of uid in the rootfs's /etc/passwd (neither etc nor passwd
 * followed when a symlink), or "/": what runc gives HOME */
static void rootfs_home(const struct plan *p, char *home, size_t size)
{
	snprintf(home, size, "/");
	_cleanup_close_ int root = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int etc = root < 0 ? -1 :
		openat(root, "etc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int fd = etc < 0 ? -1 : openat(etc, "passwd", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "re");
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	/* runc spec --rootless's process is uid 0 of its user namespace */
	uid_t uid = p->userns_root ? 0 : p->id.uid;
	struct passwd *pw;
	while ((pw = fgetpwent(f)))
		if (pw->pw_uid == uid && pw->pw_dir && pw->pw_dir[0] == '/') {
			snprintf(home, size, "%s", pw->pw_dir);
			break;
		}
	fclose(f);
}

/* runc sets HOME when the config's env has none (runc spec's has none) */
static int home_default(struct plan *p, nscell_error_t *err)
{
	size_t n = 0;
	for (; p->proc.env && p->proc.env[n]; n++)
		if (strncmp(p->proc.env[n], "HOME=", 5) == 0)
			return 0;
	char home[PATH_MAX], **env = realloc(p->proc.env, (n + 2) * sizeof *env);
	if (!env)
		return nscell_error_set(err, ENOMEM, "out of memory");
	p->proc.env = env;
	env[n] = env[n + 1] = NULL;
	rootfs_home(p, home, sizeof home);
	char *h;
	if (asprintf(&h, "HOME=%s", home) < 0)
		return nscell_error_set(err, ENOMEM, "out of memory");
	env[n] = h;
	return 0;
}

int shim_bundle_load(struct shim *s, const char *bundle, char **abs_dir, struct rt_hooks *h,
		     char ***annotations, nscell_error_t *err)
{
	char dir[PATH_MAX];
	struct plan *p = s->plan;
	*abs_dir = NULL;
	memset(h, 0, sizeof *h);
	*annotations = NULL;
	if (!realpath(bundle, dir))
		return nscell_error_errno(err, errno, "bundle %s", bundle);
	_cleanup_free_ char *config = in_bundle(dir, "config.json", err);
	if (!config)
		return -1;
	plan_init(p);
	/* hooks are read (and run) by runtime_hooks.c, from the same parse */
	yajl_val tree = NULL;
	if (oci_config_read_file_any_hooks(p, config, &tree, err) < 0)
		return -1;
	int rc = rt_hooks_of(tree, config, h, annotations, err);
	yajl_tree_free(tree);
	if (rc < 0)
		return -1;
	if (!p->rootfs)
		return nscell_error_set(err, 0, "%s: root.path: missing", config);
	if (resolve_paths(p, dir, err) < 0 || identity_defaults(p, err) < 0 ||
	    home_default(p, err) < 0)
		return -1;
	if (!(*abs_dir = strdup(dir)))
		return nscell_error_set(err, ENOMEM, "out of memory");
	return 0;
}

int shim_bundle_prepare(struct shim *s, const char *bundle, int preserve, nscell_error_t *err)
{
	struct plan *p = s->plan;
	s->rootless = geteuid() != 0;
	if (s->rootless && (!p->rootless || p->id.uid != geteuid()))
		return nscell_error_set(err, EPERM, "bundle %s: an unprivileged caller runs only "
					"a rootless bundle made for itself (nscell export "
					"--rootless as uid %u)", bundle, (unsigned)geteuid());
	/* the config's umask: 0022, runc's (the reader accepts no other) */
	umask(0);
	s->umask = 022;
	int keep[MAX_PRESERVE_FDS];
	for (int i = 0; i < preserve; i++)
		keep[i] = 3 + i;
	return fds_setup(s, keep, (size_t)preserve, err);
}

int shim_bundle_wait_go(struct shim *s, nscell_error_t *err)
{
	struct go_fds *g = s->before_exec_ctx;
	if (g->other >= 0)
		close(g->other);
	/* the error pipe's EOF: the host side's launch returns, built */
	close(s->err_fd);
	s->err_fd = -1;
	/* a signal ends a command still waiting (kill before start) */
	sigprocmask(SIG_SETMASK, &s->caller_mask, NULL);
	char c;
	ssize_t n;
	while ((n = read(g->wait, &c, 1)) < 0 && errno == EINTR)
		;
	/* g->wait stays open (close-on-exec) until the command's fds are
	 * closed, after its startContainer hooks: the starter waits for that
	 * (rt_stages_wait_started) */
	if (n != 1)
		return nscell_error_set(err, EPIPE, "the runtime went away before the start");
	return 0;
}

/* run -b with hooks: what the host side does around the launch */
struct run_hooks {
	struct rt_hooks hooks;
	struct rt_state state;
	struct go_fds go;
	int release; /* the write end of go */
	struct rt_stages stages;
	char *cgroup; /* the plan's cgroup (rt_cgroup_path), applied before the command runs */
};

static int run_after_spawn(struct shim *s, pid_t pid, nscell_error_t *err)
{
	struct run_hooks *r = s->after_spawn_ctx;
	r->state.pid = pid;
	r->state.status = "creating";
	close(r->go.wait);
	r->go.wait = -1;
	if (rt_cgroup_apply(s->plan, r->cgroup, pid, err) < 0)
		return -1;
	/* prestart and createRuntime ran before the pivot (runtime_stages.c) */
	r->state.status = "running";
	if (shim_write_all(r->release, "1", 1) < 0)
		return nscell_error_errno(err, errno, "start the container");
	close(r->release);
	r->release = -1;
	/* a failed startContainer: no poststart, the command's status */
	if (rt_stages_started(&r->stages))
		return 0;
	return rt_hooks_run(&r->hooks, RT_POSTSTART, &r->state, true, err);
}

/* the launch, with the hooks' steps around it when there are hooks, and
 * process.terminal's pty passed through our stdio */
static int run_launch(struct shim *s, struct run_hooks *r, nscell_error_t *err)
{
	bool hooks = rt_hooks_any(&r->hooks) || r->cgroup, terminal = s->plan->proc.terminal;
	struct rt_tty tty = { .sock = { -1, -1 }, .master = -1, .copier = -1 };
	int p[2];
	if (hooks) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return nscell_error_errno(err, errno, "pipe");
		r->go = (struct go_fds){ .wait = p[0], .other = p[1] };
		r->release = p[1];
		s->before_exec = shim_bundle_wait_go;
		s->before_exec_ctx = &r->go;
		s->after_spawn = run_after_spawn;
		s->after_spawn_ctx = r;
	}
	int status = -1;
	bool ready = !hooks || rt_stages_install(s, &r->stages, &r->hooks, &r->state, err) == 0;
	if (ready && (!terminal || rt_tty_prepare(s, &tty, err) == 0))
		status = shim_launch(s, err);
	rt_tty_finish(&tty);
	if (r->go.wait >= 0)
		close(r->go.wait);
	if (r->release >= 0)
		close(r->release);
	rt_stages_free(&r->stages);
	/* after the container, or a failed createRuntime or createContainer:
	 * not when the sandbox was never there */
	if (hooks && r->state.pid > 0) {
		nscell_error_t e = { 0 };
		r->state.status = "stopped";
		r->state.pid = 0; /* left out once stopped, as state and runc do */
		rt_hooks_run(&r->hooks, RT_POSTSTOP, &r->state, true, &e);
	}
	rt_cgroup_remove(r->cgroup);
	return status;
}

int shim_bundle_run(int argc, char **argv, struct shim *s, nscell_error_t *err)
{
	struct run_options o;
	if (parse_run(argc, argv, &o, err) < 0)
		return -1;
	s->verbose = s->verbose || o.verbose;
	_cleanup_free_ char *dir = NULL, *cgroup = NULL;
	struct run_hooks r = { .state = { .id = o.id }, .go = { -1, -1 }, .release = -1 };
	int status = -1;
	if (shim_bundle_load(s, o.bundle, &dir, &r.hooks, &r.state.annotations, err) < 0)
		goto out;
	r.state.bundle = dir;
	if (rt_cgroup_path(s->plan, &cgroup, err) < 0)
		goto out;
	r.cgroup = cgroup;
	if (rt_terminal_check(s->plan, o.console_socket, false, err) == 0 &&
	    shim_bundle_prepare(s, o.bundle, o.preserve, err) == 0) {
		struct plan *p = s->plan;
		shim_log(s, NULL, "bundle %s, container %s: uid %u gid %u, %zu mount entries, "
			 "root %s%s", o.bundle, o.id, (unsigned)p->id.uid, (unsigned)p->id.gid,
			 p->nmounts, p->rootfs, p->rootfs_readonly ? " (read-only)" : "");
		status = run_launch(s, &r, err);
	}
out:
	rt_hooks_free(&r.hooks);
	plan_strv_free(r.state.annotations);
	return status;
}
