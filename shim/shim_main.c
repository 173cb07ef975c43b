/* nscell-shim: command line, plan loading, and the one place errors are printed
 * (shim_main: the main of nscell-shim and of nscell-shim-nss, shim/main.c).
 *
 * Verbose mode (one line per step on stderr, each naming the template line
 * that caused it) is on with -v, with NSCELL_DEBUG=1 in the environment, or
 * when the trigger file /etc/nscell/debug (next to nscell.conf) exists, so
 * an admin can debug a web server's launches without touching its config.
 *
 * NSCELL_SHIM_COMPAT=1 takes the code paths of kernels before 5.12 (no
 * openat2, open_tree or mount_setattr: O_NOFOLLOW walks, mount(2) and
 * remounts) so the tests can cover them on a new kernel. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shim/runtime.h"
#include "shim/shim.h"
#include "shim/state.h"
#include "translate/load.h"

#define MAX_KEEP_FDS 256

static const char usage_text[] =
	"usage: nscell-shim [-u USER] [-s VHOST] [-f TEMPLATE] [-2 TEMPLATE] [-C CONF]\n"
	"                   [-d DIR] [-c] [-p|-P] [-v] [--keep-fd N]... [-- CMD ARGS...]\n"
	"       nscell-shim --enter [--root] [-u USER] [-s VHOST] [-C CONF] [-d DIR] [-- CMD ARGS...]\n"
	"       nscell-shim run [-b DIR] [--preserve-fds N] ID   (an OCI bundle; see run --help)\n"
	"       nscell-shim [--root DIR] create|start|state|kill|delete|list ...   (see help)\n"
	"\n"
	"Run CMD (default: the user's shell) as USER in the sandbox its templates describe.\n"
	"  -u USER      the sandbox user (default: yourself; root: nobody)\n"
	"  -s VHOST     the virtual host (its template and mode from nscell.conf)\n"
	"  -f FILE      server template (default: nscell.conf's, or the built-in one)\n"
	"  -2 FILE      vhost template, applied after the server template\n"
	"  -C FILE      nscell.conf (default " NSCELL_DEFAULT_CONF ")\n"
	"  -d DIR       working directory inside the sandbox (default: the user's home)\n"
	"  -c           put the sandbox in the user's cgroup with nscell.conf's limits\n"
	"  -p           persist: keep the sandbox and join it on later launches (the\n"
	"               default with persist = yes in nscell.conf); it is rebuilt when\n"
	"               nscell.conf, a template or the user changes, or ~/.nscell_reload\n"
	"               exists.  State in state_dir (unprivileged: NSCELL_STATE_DIR,\n"
	"               $XDG_RUNTIME_DIR/nscell, /run/user/UID/nscell or /tmp/nscell-UID)\n"
	"  -P, --no-persist  a sandbox of its own even when nscell.conf says persist = yes\n"
	"  --enter      join the running persisted sandbox only, never build one\n"
	"  --root       (with --enter, root only) as the sandbox's root, not the user\n"
	"  -v           print each step on stderr, with the template line behind it;\n"
	"               also on when NSCELL_DEBUG=1 or the file debug next to the\n"
	"               default nscell.conf exists\n"
	"  --keep-fd N  pass file descriptor N to the command (repeatable); systemd's\n"
	"               LISTEN_FDS are passed on too, with LISTEN_PID rewritten\n"
	"  --version    its version, and the C library it was built on\n"
	"Exit status: the command's (128+N when killed by signal N); 2 when the sandbox\n"
	"could not be built, with one line on stderr saying why.\n";

static bool verbose_flag;

static int parse_fd(const char *arg, int *fd)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 0 || v > 1 << 20)
		return -1;
	*fd = (int)v;
	return 0;
}

/* systemd socket activation: LISTEN_FDS=n for us (LISTEN_PID unset or ours)
 * passes fds 3..3+n-1 on. */
static unsigned listen_fds_for_us(void)
{
	const char *n = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
	int v, want;
	if (!n || parse_fd(n, &v) < 0 || v <= 0 || v > MAX_KEEP_FDS)
		return 0;
	if (pid && (parse_fd(pid, &want) < 0 || want != (int)getpid()))
		return 0;
	return (unsigned)v;
}

struct options {
	struct load_opts load;
	int keep[MAX_KEEP_FDS];
	size_t nkeep;
	bool cgroups, persist, no_persist, enter, as_root, cwd_given;
	char **argv;
};

static int parse_options(int argc, char **argv, struct options *o, nscell_error_t *err)
{
	enum { OPT_KEEP_FD = 0x100, OPT_HELP, OPT_ENTER, OPT_ROOT, OPT_VERSION };
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "vhost", required_argument, NULL, 's' },
		{ "conf", required_argument, NULL, 'C' },
		{ "keep-fd", required_argument, NULL, OPT_KEEP_FD },
		{ "verbose", no_argument, NULL, 'v' },
		{ "persist", no_argument, NULL, 'p' },
		{ "no-persist", no_argument, NULL, 'P' },
		{ "enter", no_argument, NULL, OPT_ENTER },
		{ "root", no_argument, NULL, OPT_ROOT },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c, fd;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+u:s:f:2:C:d:cpPvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'u': o->load.user = optarg; break;
		case 's': o->load.vhost = optarg; break;
		case 'f': o->load.server_tpl = optarg; break;
		case '2': o->load.vhost_tpl = optarg; break;
		case 'C': o->load.conf_path = optarg; break;
		case 'd': o->load.cwd = optarg; o->cwd_given = true; break;
		case 'c': o->cgroups = true; break;
		case 'p': o->persist = true; break;
		case 'P': o->no_persist = true; break;
		case OPT_ENTER: o->enter = true; break;
		case OPT_ROOT: o->as_root = true; break;
		case 'v': verbose_flag = true; break;
		case OPT_KEEP_FD:
			if (parse_fd(optarg, &fd) < 0 || fd < 3)
				return nscell_error_set(err, 0,
							"--keep-fd '%s': not a file descriptor number above 2",
							optarg);
			if (o->nkeep == MAX_KEEP_FDS)
				return nscell_error_set(err, 0, "--keep-fd: more than %d", MAX_KEEP_FDS);
			o->keep[o->nkeep++] = fd;
			break;
		case 'h': case OPT_HELP:
			fputs(usage_text, stdout);
			exit(0);
		case OPT_VERSION:
			printf("nscell-shim version %s\n", PACKAGE_VERSION);
			shim_print_libc(stdout);
			exit(0);
		default:
			if (optopt && strchr("usf2Cd", optopt))
				return nscell_error_set(err, 0, "option -%c needs an argument (see --help)",
							optopt);
			return nscell_error_set(err, 0, "unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	o->argv = optind < argc ? argv + optind : NULL;
	return 0;
}

/* enter --root: root's environment, and /bin/sh when no command is given */
static int as_sandbox_root(struct plan *p, bool default_shell, nscell_error_t *err)
{
	struct plan_identity root = { .user = "root", .home = "/root", .shell = "/bin/sh" };
	char **env = load_process_env(&root, p->proc.env);
	char *sh[] = { "/bin/sh", NULL };
	char **argv = default_shell ? plan_strv_dup(sh) : NULL;
	if (!env || (default_shell && !argv)) {
		plan_strv_free(env);
		return nscell_error_set(err, ENOMEM, "out of memory");
	}
	plan_strv_free(p->proc.env);
	p->proc.env = env;
	if (argv) {
		plan_strv_free(p->proc.argv);
		p->proc.argv = argv;
	}
	return 0;
}

/* An OCI runtime command line: nscell-runtime's (shim/runtime_main.c),
 * next to this program or in bindir, with the same arguments */
static int exec_runtime(char **argv, nscell_error_t *err)
{
	char path[PATH_MAX + 32];
	shim_sibling("nscell-runtime", NSCELL_BINDIR, path, sizeof path);
	execv(path, argv);
	return nscell_error_errno(err, errno, "exec %s", path);
}

/* what a handover to nscell-shim-nss needs: the command line and the
 * caller's umask (the shim's own is 0 by then) */
static struct {
	char **argv;
	struct shim *s;
} handover;

/* A static nscell-shim loads no NSS module (shim/nss_handover.c): a launch
 * whose user only NSS knows is made by nscell-shim-nss, this same program
 * linked dynamically, from the same command line.  Called while the plan
 * is being loaded: nothing is built yet, the fds are as they came (those
 * not kept are close-on-exec already). */
int shim_nss_handover(nscell_error_t *err)
{
	char path[PATH_MAX + 32];
	if (!handover.s)
		return nscell_error_set(err, 0, "the user database: NSS before the command line was read");
	shim_sibling(SHIM_NSS_PROGRAM, NSCELL_BINDIR, path, sizeof path);
	shim_log(handover.s, NULL, "the user is in NSS, which a static nscell-shim does not load: "
		 "handing over to %s", path);
	umask(handover.s->umask);
	execv(path, handover.argv);
	umask(0);
	return nscell_error_errno(err, errno, "exec %s (the user is known to NSS only)", path);
}

/* plan_load, through the plan cache of a cold launch (STATE/plans) */
static int load_plan(struct shim *s, struct nscell_conf *conf, struct load_opts *lo,
		     struct diags *d, nscell_error_t *err)
{
	nscell_error_t why = { 0 };
	int dir = -1;
	if (!lo->no_templates && !conf->plan_cache_off)
		dir = state_plans_open(conf->state_dir, &why);
	struct plan_cache cache;
	plan_cache_init(&cache, dir);
	lo->cache = dir >= 0 ? &cache : NULL;
	int r = plan_load(s->plan, conf, lo, d, err);
	lo->cache = NULL;
	if (dir >= 0)
		close(dir);
	if (r == 0 && !lo->no_templates) {
		if (conf->plan_cache_off)
			shim_log(s, NULL, "plan cache: off (nscell.conf)");
		else if (dir < 0)
			shim_log(s, NULL, "plan cache: not used: %s", why.msg);
		else if (cache.hit)
			shim_log(s, NULL, "plan cache: hit");
		else if (cache.uncacheable)
			shim_log(s, NULL, "plan cache: not used: %s", cache.refused);
		else
			shim_log(s, NULL, "plan cache: miss (%s), %s", cache.miss,
				 cache.stored ? "stored" : cache.refused);
	}
	plan_cache_free(&cache);
	return r;
}

static int run(int argc, char **argv, struct shim *s, struct nscell_conf *conf,
	       struct diags *d, nscell_error_t *err)
{
	extern char **environ;
	struct options o = { 0 };
	struct plan *plan = s->plan;

	/* A setuid (or file-capability) shim would let any user pick
	 * templates (-f) and users (-u): root runs it, or the user for itself. */
	if (getauxval(AT_SECURE) || getuid() != geteuid() || getgid() != getegid())
		return nscell_error_set(err, 0, "refusing to run setuid, setgid or with file capabilities");
	if (shim_runtime_wanted(argc, argv))
		return exec_runtime(argv, err);
	if (parse_options(argc, argv, &o, err) < 0)
		return -1;
	s->verbose = verbose_flag || shim_debug_requested();
	verbose_flag = s->verbose;
	if (o.as_root && (!o.enter || geteuid() != 0))
		return nscell_error_set(err, EPERM, "--root: only with --enter, and only for root");
	if (o.enter && (o.load.server_tpl || o.load.vhost_tpl || o.cgroups || o.no_persist))
		return nscell_error_set(err, 0, "--enter takes no -f, -2, -c or -P: it joins what runs");

	/* our setup writes exact modes; the caller's umask is the command's */
	s->umask = umask(0);
	handover.argv = argv;
	handover.s = s;
	s->rootless = geteuid() != 0;
	s->want_cgroup = o.cgroups;
	s->cwd_given = o.cwd_given;
	const char *compat = getenv("NSCELL_SHIM_COMPAT");
	s->compat = compat && strcmp(compat, "1") == 0;

	s->listen_fds = listen_fds_for_us();
	for (unsigned i = 0; i < s->listen_fds && o.nkeep < MAX_KEEP_FDS; i++)
		o.keep[o.nkeep++] = 3 + (int)i;
	if (fds_setup(s, o.keep, o.nkeep, err) < 0)
		return -1;

	o.load.argv = o.argv;
	o.load.env = environ;
	o.load.rootless = s->rootless;
	/* sources are opened (and checked) once, when the sandbox is built */
	o.load.check_sources = false;
	conf_init(conf);
	/* nscell.conf first: whether to persist is in there */
	if (conf_load(conf, o.load.conf_path, o.load.conf_path != NULL, d) < 0) {
		diags_print(d, stderr);
		err->msg[0] = '\0';
		return -1;
	}
	bool persist = o.enter || (!o.no_persist && (o.persist || conf->persist));
	/* a warm launch reads no template (persist.c loads them to build) */
	o.load.no_templates = persist;
	int r = load_plan(s, conf, &o.load, d, err);
	if (d->nerrors || (s->verbose && d->nwarnings))
		diags_print(d, stderr);
	if (r < 0 && d->nerrors)
		err->msg[0] = '\0'; /* the diagnostics above said it all */
	if (r < 0)
		return -1;
	if (s->rootless && plan->id.uid != geteuid())
		return nscell_error_set(err, EPERM,
					"user '%s': an unprivileged caller can only launch for itself",
					plan->id.user);
	s->interactive = !o.argv && isatty(STDIN_FILENO);
	s->as_root = o.as_root;
	if (s->as_root && as_sandbox_root(plan, !o.argv, err) < 0)
		return -1;
	if (s->interactive && shim_make_interactive(plan, err) < 0)
		return -1;
	shim_log(s, NULL, "user %s uid %u gid %u, %zu mount entries, %s mode", plan->id.user,
		 (unsigned)plan->id.uid, (unsigned)plan->id.gid, plan->nmounts,
		 s->rootless ? "unprivileged" : "root");
	if (plan->sandbox_off && o.enter)
		return nscell_error_set(err, 0, "vhost %s: its mode is off, there is no sandbox to enter",
					plan->vhost);
	if (plan->sandbox_off)
		return shim_exec_unsandboxed(s, err);
	if (persist)
		return shim_persist(s, conf, &o.load, d, o.enter, err);
	return shim_launch(s, err);
}

int shim_main(int argc, char **argv)
{
	struct plan plan;
	struct nscell_conf conf;
	struct diags d;
	nscell_error_t err = { 0 };
	memset(&plan, 0, sizeof plan);
	memset(&conf, 0, sizeof conf);
	diags_init(&d);
	struct shim s = { .plan = &plan, .err_fd = -1, .status_fd = -1, .keeper_fd = -1, .commit_fd = -1 };
	shim_log_start();
	int status = run(argc, argv, &s, &conf, &d, &err);
	free(s.keep_fds);
	if (status < 0) {
		if (err.msg[0])
			fprintf(stderr, "nscell-shim: %s\n", err.msg);
		status = NSCELL_EXIT_USAGE;
	}
	plan_free(&plan);
	conf_free(&conf);
	diags_free(&d);
	return status;
}
