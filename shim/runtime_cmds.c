/* The runtime's commands (see shim/runtime.h): create forks a monitor,
 * which builds the sandbox; under a subreaper (containerd's shim) it
 * exits once the container is created and leaves the sandbox's init to
 * it, which reaps it as runc's; else it stays the init's parent and
 * reaps it.  The container's command waits on ROOT/ID/exec.fifo until
 * start writes a byte there. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shim/runtime.h"
#include "shim/runtime_stages.h"
#include "shim/state.h"

/* after getopt: exactly one operand, the ID */
static int one_id(int argc, char **argv, const char *name, const char **id, nscell_error_t *err)
{
	if (optind != argc - 1)
		return nscell_error_set(err, 0, "%s: expected one container ID", name);
	*id = argv[optind];
	return 0;
}

static int bad_option(char **argv, const char *name, nscell_error_t *err)
{
	return nscell_error_set(err, 0, "%s: unknown option or missing argument '%s' (see --help)",
				name, argv[optind - 1]);
}

/* ---- create ---- */

struct created {
	struct rt_container c;
	struct rt_hooks hooks;
	struct go_fds go;
	int report;                  /* to the create command: 'K', or 'E' and why */
	bool orphan;                 /* a subreaper above us: the monitor leaves the init to it */
	const char *pid_file;
	struct console console;      /* process.terminal: sock -1 when none */
	struct rt_stages stages;     /* hooks before the pivot and the exec */
	struct rt_state stage_state; /* theirs: pid set before the pivot */
};

static int write_pid_file(const char *path, pid_t pid, nscell_error_t *err)
{
	_cleanup_free_ char *tmp = NULL;
	if (asprintf(&tmp, "%s.tmp%d", path, (int)getpid()) < 0)
		return nscell_error_set(err, ENOMEM, "out of memory");
	FILE *f = fopen(tmp, "we");
	if (!f || fprintf(f, "%d", (int)pid) < 0 || fclose(f) != 0 || rename(tmp, path) < 0)
		return nscell_error_errno(err, errno, "--pid-file %s", path);
	return 0;
}

/* Whether an orphan of ours goes to a subreaper (containerd's shim is
 * one) rather than to the init of our pid namespace: a grandchild says
 * who its parent is once its parent has exited. */
static bool subreaper_above(void)
{
	int p[2];
	pid_t adopter = 1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return false;
	pid_t mid = fork();
	if (mid == 0) {
		pid_t self = getpid(); /* mid is 0 here, and in the grandchild */
		if (fork() == 0) {
			while (getppid() == self)
				usleep(50);
			pid_t pp = getppid();
			shim_write_all(p[1], &pp, sizeof pp);
		}
		_exit(0);
	}
	close(p[1]);
	if (mid > 0 && read(p[0], &adopter, sizeof adopter) != (ssize_t)sizeof adopter)
		adopter = 1;
	close(p[0]);
	while (mid > 0 && waitpid(mid, NULL, 0) < 0 && errno == EINTR)
		;
	return adopter != 1;
}

/* in the monitor, the sandbox built and its command waiting: the hooks,
 * the state, the pid file.  Under a subreaper (cr->orphan) the monitor
 * then exits (create waits for that), and the init, its orphan, goes to
 * the subreaper: containerd's shim reaps it as it reaps runc's.  Else the
 * monitor stays its parent and reaps it (as `run` does), so that a
 * deleted container's pid is gone at once. */
static int created_after_spawn(struct shim *s, pid_t pid, nscell_error_t *err)
{
	struct created *cr = s->after_spawn_ctx;
	close(cr->go.wait);
	cr->go.wait = -1;
	if (cr->console.sock >= 0) /* the command has sent the master */
		close(cr->console.sock);
	cr->console.sock = -1;
	cr->c.pid = pid;
	if (state_proc_start(pid, &cr->c.start, NULL, 0) < 0)
		return nscell_error_set(err, ESRCH, "the container's pid %d is gone", (int)pid);
	/* with hooks before the pivot, the cgroup, prestart and createRuntime
	 * came then (created_before_pivot) */
	if ((!rt_stages_pivot_hooks(&cr->hooks) &&
	     rt_cgroup_apply(s->plan, cr->c.cgroup, pid, err) < 0) ||
	    rt_container_save(&cr->c, err) < 0 ||
	    (cr->pid_file && write_pid_file(cr->pid_file, pid, err) < 0))
		return -1;
	shim_write_all(cr->report, "K", 1);
	if (cr->orphan)
		_exit(0);
	close(cr->report);
	cr->report = -1;
	/* the container has its own stdio: the caller's pipes close with it */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; null >= 0 && fd < 3; fd++)
		dup2(null, fd);
	if (null > 2)
		close(null);
	return 0;
}

/* the host side's step before the pivot, ahead of prestart and createRuntime */
static int created_before_pivot(struct shim *s, pid_t pid, nscell_error_t *err)
{
	struct created *cr = s->after_spawn_ctx;
	return rt_cgroup_apply(s->plan, cr->c.cgroup, pid, err);
}

static void __attribute__((noreturn)) monitor(struct shim *s, struct created *cr)
{
	nscell_error_t err = { 0 };
	setsid();
	s->init_outlives_host = cr->orphan;
	s->before_exec = shim_bundle_wait_go;
	s->before_exec_ctx = &cr->go;
	/* the pty first: its master is sent before create returns */
	if (cr->console.sock >= 0)
		console_install(s, &cr->console);
	s->after_spawn = created_after_spawn;
	s->after_spawn_ctx = cr;
	cr->stage_state = (struct rt_state){ .id = cr->c.id, .status = "creating",
					     .bundle = cr->c.bundle, .annotations = cr->c.annotations };
	int status = -1;
	if (rt_stages_install(s, &cr->stages, &cr->hooks, &cr->stage_state, &err) == 0) {
		cr->stages.host_first = created_before_pivot;
		status = shim_launch(s, &err);
	}
	if (cr->report >= 0) {
		/* it never got to be created: the spec's delete step */
		if (cr->c.pid > 0 || cr->stage_state.pid > 0) {
			nscell_error_t e = { 0 };
			struct rt_state st = { .id = cr->c.id, .status = "stopped",
					       .bundle = cr->c.bundle, .annotations = cr->c.annotations };
			rt_hooks_run(&cr->hooks, RT_POSTSTOP, &st, true, &e);
			rt_cgroup_remove(cr->c.cgroup);
		}
		dprintf(cr->report, "E%s", err.msg[0] ? err.msg : "the sandbox was not built");
	}
	_exit(status < 0 ? NSCELL_EXIT_USAGE : 0);
}

static int copy_file(const char *from, const char *to, nscell_error_t *err)
{
	_cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	char buf[65536];
	ssize_t n;
	if (in < 0 || out < 0)
		return nscell_error_errno(err, errno, "copy %s to %s", from, to);
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (shim_write_all(out, buf, (size_t)n) < 0)
			return nscell_error_errno(err, errno, "write %s", to);
	return n < 0 ? nscell_error_errno(err, errno, "read %s", from) : 0;
}

/* root and its missing parents (0700, as runc makes them) */
static int make_root(const char *root, nscell_error_t *err)
{
	_cleanup_free_ char *path = strdup(root);
	if (!path)
		return nscell_error_set(err, ENOMEM, "out of memory");
	for (char *slash = path + 1;; slash++) {
		slash = strchr(slash, '/');
		if (slash)
			*slash = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return nscell_error_errno(err, errno, "--root %s", path);
		if (!slash)
			return 0;
		*slash = '/';
	}
}

/* ROOT/ID with config.json and exec.fifo (open O_RDWR in *fifo) */
static int make_container_dir(const char *root, struct created *cr, int *fifo, nscell_error_t *err)
{
	if (make_root(root, err) < 0)
		return -1;
	if (mkdir(cr->c.dir, 0700) < 0)
		return errno == EEXIST ? nscell_error_set(err, EEXIST, "container %s already exists "
							  "(in %s)", cr->c.id, root)
				       : nscell_error_errno(err, errno, "%s", cr->c.dir);
	_cleanup_free_ char *from = rt_path(cr->c.bundle, "config.json");
	_cleanup_free_ char *to = rt_path(cr->c.dir, "config.json");
	_cleanup_free_ char *ff = rt_path(cr->c.dir, "exec.fifo");
	if (!from || !to || !ff)
		return nscell_error_set(err, ENOMEM, "out of memory");
	if (copy_file(from, to, err) < 0)
		return -1;
	/* O_RDWR: opens without a writer, and the read blocks until start */
	if (mkfifo(ff, 0600) < 0 || (*fifo = open(ff, O_RDWR | O_CLOEXEC)) < 0)
		return nscell_error_errno(err, errno, "%s", ff);
	return 0;
}

static void remove_container_dir(const char *dir)
{
	static const char *const files[] = { "state.json", "config.json", "exec.fifo",
					     ".state.json.tmp", NULL };
	for (size_t i = 0; files[i]; i++) {
		_cleanup_free_ char *p = rt_path(dir, files[i]);
		if (p)
			unlink(p);
	}
	rmdir(dir);
}

/* the monitor's word: 0 when created */
static int await_report(int fd, nscell_error_t *err)
{
	char buf[sizeof err->msg + 1];
	size_t n = 0;
	ssize_t r;
	/* 'K' comes alone: the waiting command holds a copy of the write end */
	while (n < sizeof buf - 1 && (n == 0 || buf[0] != 'K') &&
	       ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0 || (r < 0 && errno == EINTR)))
		n += r > 0 ? (size_t)r : 0;
	buf[n] = '\0';
	if (n && buf[0] == 'K')
		return 0;
	return nscell_error_set(err, 0, "%s", n > 1 ? buf + 1 : "the runtime's monitor died");
}

int rt_cmd_create(struct rt_ctx *ctx, int argc, char **argv, nscell_error_t *err)
{
	enum { O_PIDFILE = 0x100, O_CONSOLE, O_PRESERVE, O_IGNORED };
	static const struct option longopts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "pid-file", required_argument, NULL, O_PIDFILE },
		{ "console-socket", required_argument, NULL, O_CONSOLE },
		{ "preserve-fds", required_argument, NULL, O_PRESERVE },
		{ "no-new-keyring", no_argument, NULL, O_IGNORED },
		{ NULL, 0, NULL, 0 },
	};
	const char *bundle = ".", *id = NULL, *console_socket = NULL;
	struct created cr = { .go = { -1, -1 }, .report = -1, .console = { .sock = -1 } };
	int c, preserve = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+b:", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': bundle = optarg; break;
		case O_PIDFILE: cr.pid_file = optarg; break;
		case O_CONSOLE: console_socket = optarg; break;
		case O_PRESERVE: preserve = atoi(optarg); break;
		case O_IGNORED: break;
		default: return bad_option(argv, "create", err);
		}
	}
	if (one_id(argc, argv, "create", &id, err) < 0)
		return -1;
	if (!rt_id_valid(id))
		return nscell_error_set(err, 0, "create: '%s' is not a container ID", id);
	if (preserve < 0 || preserve > 256)
		return nscell_error_set(err, 0, "create: --preserve-fds: 0 to 256");
	_cleanup_free_ char *pid_file_abs = NULL;
	if (cr.pid_file && cr.pid_file[0] != '/') {
		char cwd[4096];
		if (!getcwd(cwd, sizeof cwd) || asprintf(&pid_file_abs, "%s/%s", cwd, cr.pid_file) < 0)
			return nscell_error_errno(err, errno, "--pid-file %s", cr.pid_file);
		cr.pid_file = pid_file_abs;
	}
	if (shim_bundle_load(ctx->s, bundle, &cr.c.bundle, &cr.hooks, &cr.c.annotations, err) < 0) {
		rt_hooks_free(&cr.hooks);
		rt_container_free(&cr.c);
		return -1;
	}
	cr.c.id = strdup(id);
	cr.c.dir = rt_path(ctx->root, id);
	cr.c.created = (long long)time(NULL);
	/* absolute since shim_bundle_load: `state` prints it without the config */
	cr.c.rootfs = strdup(ctx->s->plan->rootfs);
	int rc = -1, fifo = -1, rep[2] = { -1, -1 };
	if (!cr.c.id || !cr.c.dir || !cr.c.rootfs) {
		nscell_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (rt_cgroup_path(ctx->s->plan, &cr.c.cgroup, err) < 0)
		goto out;
	if (rt_terminal_check(ctx->s->plan, console_socket, true, err) < 0 ||
	    shim_bundle_prepare(ctx->s, bundle, preserve, err) < 0)
		goto out;
	/* as runc: connected before anything is made */
	if (console_socket && (cr.console.sock = console_connect(console_socket, err)) < 0)
		goto out;
	if (make_container_dir(ctx->root, &cr, &fifo, err) < 0) {
		if (err->errnum != EEXIST)
			remove_container_dir(cr.c.dir);
		goto out;
	}
	if (pipe2(rep, O_CLOEXEC) < 0) {
		nscell_error_errno(err, errno, "pipe");
		goto fail;
	}
	cr.orphan = subreaper_above();
	pid_t m = fork();
	if (m == 0) {
		close(rep[0]);
		cr.report = rep[1];
		cr.go.wait = fifo;
		monitor(ctx->s, &cr);
	}
	if (m < 0) {
		nscell_error_errno(err, errno, "fork");
		goto fail;
	}
	close(rep[1]);
	rep[1] = -1;
	rc = await_report(rep[0], err);
	/* gone before we return: the container's init is the subreaper's
	 * child by then */
	while ((cr.orphan || rc < 0) && waitpid(m, NULL, 0) < 0 && errno == EINTR)
		;
fail:
	if (rc < 0)
		remove_container_dir(cr.c.dir);
out:
	if (cr.console.sock >= 0)
		close(cr.console.sock);
	if (fifo >= 0)
		close(fifo);
	for (int i = 0; i < 2; i++)
		if (rep[i] >= 0)
			close(rep[i]);
	rt_hooks_free(&cr.hooks);
	rt_container_free(&cr.c);
	return rc;
}

/* ---- run -d: create, then start ---- */

static bool takes_value(const char *arg)
{
	static const char *const opts[] = { "-b", "--bundle", "--pid-file", "--console-socket",
					    "--preserve-fds", NULL };
	for (size_t i = 0; opts[i]; i++)
		if (strcmp(arg, opts[i]) == 0)
			return true;
	return false;
}

int rt_cmd_run(struct rt_ctx *ctx, int argc, char **argv, nscell_error_t *err)
{
	_cleanup_free_ char **args = calloc((size_t)argc + 1, sizeof *args);
	int n = 0;
	bool detach = false;
	if (!args)
		return nscell_error_set(err, ENOMEM, "out of memory");
	args[n++] = "create";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "--detach") == 0) {
			detach = true;
			continue;
		}
		if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
			ctx->s->verbose = true;
			continue;
		}
		args[n++] = argv[i];
		if (takes_value(argv[i]) && i + 1 < argc)
			args[n++] = argv[++i];
	}
	if (!detach)
		return shim_bundle_run(argc, argv, ctx->s, err);
	if (rt_cmd_create(ctx, n, args, err) < 0)
		return -1;
	/* create took exactly one operand, the last */
	char *start[] = { "start", args[n - 1], NULL };
	if (rt_cmd_start(ctx, 2, start, err) == 0)
		return 0;
	nscell_error_t e = { 0 };
	char *del[] = { "delete", "-f", args[n - 1], NULL };
	rt_cmd_delete(ctx, 3, del, &e);
	return -1;
}
