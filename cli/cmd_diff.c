/* nscell diff: what a process sees under the shim, against runc running
 * the exported bundle.
 *
 * The plan is exported to a temporary directory with the static probe
 * helper as the command; runc runs the bundle and nscell-shim the same
 * templates, both with the same environment; the two raw reports are
 * read, normalised (probe_compare.c) and compared fact by fact, and each
 * difference is printed with the template line behind it.
 *
 * The helper gets in without touching either sandbox: it is an open file
 * descriptor, 3, passed with `runc run --preserve-fds 1` and `nscell-shim
 * --keep-fd 3`, and executed as /proc/self/fd/3 (the sandbox's /proc
 * resolves it to the host's file).  Nothing is added to the bundle's
 * rootfs or the template; the only trace is the open fd 3, which the probe
 * does not report.  A template without /proc cannot be probed this way.
 *
 * --bundle DIR compares a bundle instead of templates: its config.json,
 * with the probe as the command (diff_bundle.c), under runc and under
 * `nscell-shim run -b`, both on DIR's own rootfs.
 *
 * Exit: 0 the same, 1 they differ, 2 it could not run. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "bundles/bundle.h"
#include "oci/oci.h"
#include "cli/cli.h"
#include "cli/probe.h"
#include "shim/shim.h"

#ifndef NSCELL_BINDIR
#define NSCELL_BINDIR "/usr/local/bin"
#endif
#ifndef NSCELL_LIBEXECDIR
#define NSCELL_LIBEXECDIR "/usr/local/libexec/nscell"
#endif

#define PROBE_FD 3
#define RUN_TIMEOUT_S 120

/* test knob: a shell command run after the export, before either run
 * (NSCELL_DIFF_BUNDLE names the bundle), e.g. to edit the template so
 * that the two sides differ on purpose */
#define AFTER_EXPORT_ENV "NSCELL_DIFF_TEST_AFTER_EXPORT"

static const char usage_text[] =
	"usage: nscell diff [-u USER] [-s VHOST] [-f F] [-2 F] [-C CONF] [-J] [-v] [--keep]\n"
	"                   [--rootless]\n"
	"       nscell diff --bundle DIR [-J] [-v] [--keep]\n"
	"Run a probe under runc (on the exported bundle) and under nscell-shim, and print\n"
	"what differs, with the template line behind it.  Root, or an unprivileged user\n"
	"with --rootless.  --keep leaves the bundle and both reports in a directory.\n"
	"--bundle DIR: an OCI bundle (nscell export) under runc and `nscell-shim run -b`;\n"
	"as root, or unprivileged with a rootless bundle of its own.\n"
	"Exit status: 0 the same, 1 they differ, 2 it could not run.\n";

struct diff_run {
	struct cli *c;
	bool keep;
	const char *bundle;        /* --bundle DIR as given, or NULL */
	char bundle_dir[PATH_MAX]; /* DIR, absolute */
	char work[PATH_MAX];
	char **env;         /* for the export and both runs */
	char **probe_argv;  /* /proc/self/fd/3 PATH... */
	int probe_fd;
	char runc_id[64];
	nscell_error_t err;
};

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = strdup(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	for (char *save = NULL, *d = copy ? strtok_r(copy, ":", &save) : NULL; d;
	     d = strtok_r(NULL, ":", &save)) {
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s/%s", d, prog);
		if (access(p, X_OK) == 0)
			return true;
	}
	return false;
}

/* the caller's environment minus LISTEN_* (the shim drops those unless it
 * passes sockets on; runc would keep them): the same for both sides */
static char **base_env(void)
{
	extern char **environ;
	size_t n = plan_strv_len(environ), k = 0;
	char **env = calloc(n + 1, sizeof *env);
	for (size_t i = 0; env && i < n; i++)
		if (strncmp(environ[i], "LISTEN_", 7) != 0)
			env[k++] = environ[i];
	return env;
}

/* the template's destinations, the home, and what /proc masks */
static int probe_argv(struct diff_run *d, const struct plan *p)
{
	static const char *const proc_masked[] = { "kcore", "sysrq-trigger", "keys", "timer_list",
						   "latency_stats", "sched_debug", "timer_stats",
						   "acpi", "scsi", "asound", "sys", "irq", "bus",
						   "fs" };
	size_t max = p->nmounts * (1 + sizeof proc_masked / sizeof *proc_masked) + 3, k = 0;
	char **v = calloc(max, sizeof *v);
	if (!v)
		return nscell_error_set(&d->err, ENOMEM, "out of memory");
	d->probe_argv = v;
	char fdpath[32];
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", PROBE_FD);
	if (!(v[k++] = strdup(fdpath)) || (p->id.home && !(v[k++] = strdup(p->id.home))))
		return nscell_error_set(&d->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < p->nmounts; i++) {
		const struct plan_mount *m = &p->mounts[i];
		if (m->dst && !(v[k++] = strdup(m->dst)))
			return nscell_error_set(&d->err, ENOMEM, "out of memory");
		if (m->op != PLAN_PROC)
			continue;
		for (size_t j = 0; j < sizeof proc_masked / sizeof *proc_masked; j++)
			if (asprintf(&v[k++], "%s/%s", strcmp(m->dst, "/") ? m->dst : "",
				     proc_masked[j]) < 0)
				return nscell_error_set(&d->err, ENOMEM, "out of memory");
	}
	return 0;
}

static bool has_proc(const struct plan *p)
{
	for (size_t i = 0; i < p->nmounts; i++)
		if (p->mounts[i].op == PLAN_PROC && strcmp(p->mounts[i].dst, "/proc") == 0)
			return true;
	return false;
}

/* Run argv with the probe on fd 3, stdout to WORK/NAME.raw and stderr to
 * WORK/NAME.err; the exit status, or -1 with d->err set. */
static int run_probe(struct diff_run *d, const char *name, char **argv)
{
	char out[PATH_MAX + 16], errf[PATH_MAX + 16];
	snprintf(out, sizeof out, "%s/%s.raw", d->work, name);
	snprintf(errf, sizeof errf, "%s/%s.err", d->work, name);
	if (d->c->verbose) {
		fprintf(stderr, "nscell diff: running");
		for (size_t i = 0; argv[i]; i++)
			fprintf(stderr, " %s", argv[i]);
		fprintf(stderr, "\n");
	}
	pid_t pid = fork();
	if (pid < 0)
		return nscell_error_errno(&d->err, errno, "fork");
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		int e = open(errf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (o < 0 || e < 0 || in < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		/* dup2 onto itself would keep close-on-exec */
		if (d->probe_fd == PROBE_FD ? fcntl(PROBE_FD, F_SETFD, 0) < 0 :
					      dup2(d->probe_fd, PROBE_FD) < 0)
			_exit(127);
		/* a new process group: a timeout kills runc or the shim and all below */
		setpgid(0, 0);
		execvpe(argv[0], argv, d->env);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st;
	for (int waited = 0;; waited++) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return nscell_error_errno(&d->err, errno, "wait for %s", name);
		if (waited == RUN_TIMEOUT_S * 20) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return nscell_error_set(&d->err, ETIMEDOUT, "%s: no result after %d s",
						name, RUN_TIMEOUT_S);
		}
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	char msg[600] = "";
	_cleanup_close_ int fd = open(errf, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, msg, sizeof msg - 1);
	msg[n > 0 ? n : 0] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	return nscell_error_set(&d->err, 0, "%s failed (%s %d)%s%s", name,
				WIFEXITED(st) ? "exit" : "signal",
				WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), msg[0] ? ": " : "", msg);
}

static int run_runc(struct diff_run *d, const char *bundle)
{
	char state[PATH_MAX + 16], fds[16];
	snprintf(state, sizeof state, "%s/runc-state", d->work);
	snprintf(fds, sizeof fds, "%d", PROBE_FD - 2);
	char *argv[16];
	size_t k = 0;
	argv[k++] = "runc";
	if (d->c->rootless) {
		/* rootless runc keeps its state where the caller may write */
		argv[k++] = "--root";
		argv[k++] = state;
		argv[k++] = "--rootless";
		argv[k++] = "true";
	}
	argv[k++] = "run";
	argv[k++] = "--preserve-fds";
	argv[k++] = fds;
	argv[k++] = "-b";
	argv[k++] = (char *)bundle;
	argv[k++] = d->runc_id;
	argv[k] = NULL;
	int rc = run_probe(d, "runc", argv);
	if (rc < 0) {
		/* a container left behind by a failed run */
		char *del[] = { "runc", "--root", state, "delete", "-f", d->runc_id, NULL };
		char *del_root[] = { "runc", "delete", "-f", d->runc_id, NULL };
		pid_t pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);
			dup2(null, 1);
			dup2(null, 2);
			execvp("runc", d->c->rootless ? del : del_root);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	return rc;
}

static int run_shim(struct diff_run *d)
{
	const struct load_opts *l = &d->c->load;
	char shim[PATH_MAX + 16], fd[16];
	shim_sibling("nscell-shim", NSCELL_BINDIR, shim, sizeof shim);
	snprintf(fd, sizeof fd, "%d", PROBE_FD);
	size_t n = plan_strv_len(d->probe_argv);
	char **argv = calloc(n + 16, sizeof *argv);
	if (!argv)
		return nscell_error_set(&d->err, ENOMEM, "out of memory");
	size_t k = 0;
	argv[k++] = shim;
	if (d->bundle) {
		char bundle[PATH_MAX + 16];
		snprintf(bundle, sizeof bundle, "%s/bundle", d->work);
		char *run[] = { "run", "--preserve-fds", "1", "-b", bundle, d->runc_id, NULL };
		memcpy(argv + k, run, sizeof run);
		int rc = run_probe(d, "nscell-shim", argv);
		free(argv);
		return rc;
	}
	const char *opts[][2] = { { "-C", l->conf_path }, { "-f", l->server_tpl },
				  { "-2", l->vhost_tpl }, { "-s", l->vhost }, { "-u", l->user } };
	for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
		if (opts[i][1]) {
			argv[k++] = (char *)opts[i][0];
			argv[k++] = (char *)opts[i][1];
		}
	argv[k++] = "--keep-fd";
	argv[k++] = fd;
	argv[k++] = "--";
	memcpy(argv + k, d->probe_argv, (n + 1) * sizeof *argv);
	int rc = run_probe(d, "nscell-shim", argv);
	free(argv);
	return rc;
}

static int read_report(struct diff_run *d, const char *name, struct probe *p)
{
	char path[PATH_MAX + 16];
	_cleanup_free_ char *buf = NULL;
	size_t len;
	snprintf(path, sizeof path, "%s/%s.raw", d->work, name);
	if (probe_read_file(path, &buf, &len, &d->err) < 0 ||
	    probe_parse(p, name, buf, len, &d->err) < 0)
		return -1;
	return 0;
}

/* --keep: each report as it was, in JSON */
static void save_json(struct diff_run *d, const char *name, const struct probe *p,
		      const struct probe_ref_ns *ref, size_t nref)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/%s.json", d->work, name);
	FILE *f = fopen(path, "we");
	if (f) {
		probe_json_print(p, ref, nref, f, NULL);
		fclose(f);
	}
}

/* --keep: the facts compared, after normalisation */
static void save_compared(struct diff_run *d, const char *name, const struct probe_facts *facts)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/%s.compared.txt", d->work, name);
	FILE *f = fopen(path, "we");
	if (f) {
		probe_facts_print(facts, f);
		fclose(f);
	}
}

/* where a fact about no place comes from */
static const char *origin_of_key(const char *key)
{
	static const struct {
		const char *prefix, *origin;
	} known[] = {
		{ "uid_map", "the id mapping: nscell's own" },
		{ "gid_map", "the id mapping: nscell's own" },
		{ "uid", "the user (-u)" },     { "gid", "the user (-u)" },
		{ "groups", "the user (-u)" },  { "cwd", "the user's home (-d)" },
		{ "env ", "the caller's environment" },
		{ "hostname", "the hostname line, or the host's name" },
	};
	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		if (strncmp(key, known[i].prefix, strlen(known[i].prefix)) == 0)
			return known[i].origin;
	return "no template line: nscell's own";
}

static const char *origin_of(const struct plan *plan, const struct probe_fact *a,
			     const struct probe_fact *b, char *buf, size_t size)
{
	const char *path = a ? a->path : b->path;
	const struct plan_mount *m = diff_origin(plan, path);
	if (!m)
		return origin_of_key(a ? a->key : b->key);
	char where[512];
	snprintf(buf, size, "%s: %s %s", plan_origin_str(&m->origin, where, sizeof where),
		 plan_op_name(m->op), m->dst);
	return buf;
}

static void print_text(const struct diff_run *d, const struct plan *plan,
		       const struct diff_result *r)
{
	for (size_t i = 0; i < r->ndiffs; i++) {
		const struct probe_fact *a = r->diffs[2 * i], *b = r->diffs[2 * i + 1];
		char o[1024];
		const char *origin = origin_of(plan, a, b, o, sizeof o);
		printf("- %s (%s)\n    runc: %s\n    shim: %s\n", a ? a->key : b->key, origin,
		       a ? a->value : "-", b ? b->value : "-");
	}
	printf("%zu difference%s between runc and nscell-shim\n", r->ndiffs,
	       r->ndiffs == 1 ? "" : "s");
	for (size_t i = 0; i < r->nnotes; i++)
		printf("normalised: %s\n", r->notes[i]);
}

static void js(yajl_gen g, const char *s)
{
	if (s)
		yajl_gen_string(g, (const unsigned char *)s, strlen(s));
	else
		yajl_gen_null(g);
}

static int print_json(const struct diff_run *d, const struct plan *plan,
		      const struct diff_result *r)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (!g)
		return -1;
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "  ");
	yajl_gen_map_open(g);
	js(g, "same");
	yajl_gen_bool(g, r->ndiffs == 0);
	js(g, "differences");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < r->ndiffs; i++) {
		const struct probe_fact *a = r->diffs[2 * i], *b = r->diffs[2 * i + 1];
		char o[1024];
		yajl_gen_map_open(g);
		js(g, "fact"); js(g, a ? a->key : b->key);
		js(g, "path"); js(g, a ? a->path : b->path);
		js(g, "runc"); js(g, a ? a->value : NULL);
		js(g, "shim"); js(g, b ? b->value : NULL);
		js(g, "origin"); js(g, origin_of(plan, a, b, o, sizeof o));
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	js(g, "normalised");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < r->nnotes; i++)
		js(g, r->notes[i]);
	yajl_gen_array_close(g);
	js(g, "kept");
	js(g, d->keep ? d->work : NULL);
	yajl_gen_map_close(g);
	const unsigned char *buf;
	size_t len;
	int rc = -1;
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
		rc = fwrite(buf, 1, len, stdout) == len ? 0 : -1;
	yajl_gen_free(g);
	return rc;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(type == FTW_DP ? rmdir : unlink)(path);
	return 0;
}

static int parse(struct diff_run *d, int argc, char **argv)
{
	enum { OPT_KEEP = 0x100, OPT_ROOTLESS, OPT_HELP, OPT_BUNDLE };
	static const struct option longopts[] = {
		{ "bundle", required_argument, NULL, OPT_BUNDLE },
		{ "keep", no_argument, NULL, OPT_KEEP },
		{ "rootless", no_argument, NULL, OPT_ROOTLESS },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct cli *c = d->c;
	int ch;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+C:f:2:s:u:Jv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'C': c->load.conf_path = optarg; break;
		case 'f': c->load.server_tpl = optarg; break;
		case '2': c->load.vhost_tpl = optarg; break;
		case 's': c->load.vhost = optarg; break;
		case 'u': c->load.user = optarg; break;
		case 'J': c->json = true; break;
		case 'v': c->verbose = true; break;
		case OPT_KEEP: d->keep = true; break;
		case OPT_ROOTLESS: c->rootless = true; break;
		case OPT_BUNDLE: d->bundle = optarg; break;
		case OPT_HELP: fputs(usage_text, stdout); exit(0);
		default:
			fprintf(stderr, "nscell diff: unknown option or missing argument\n%s", usage_text);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nscell diff: no command: the probe is the command\n%s", usage_text);
		return -1;
	}
	const struct load_opts *l = &c->load;
	if (d->bundle && (l->conf_path || l->server_tpl || l->vhost_tpl || l->vhost || l->user ||
			  c->rootless)) {
		fprintf(stderr, "nscell diff: --bundle takes no -C, -f, -2, -s, -u or --rootless: "
			"the bundle says it all\n%s", usage_text);
		return -1;
	}
	return 0;
}

/* --bundle: the plan the bundle's config.json reads as (for the probe's
 * paths and the normalisations); root runs a bundle for root, an
 * unprivileged caller a rootless one */
static int load_bundle_plan(struct diff_run *d, struct plan *p)
{
	char config[PATH_MAX + 16];
	if (!realpath(d->bundle, d->bundle_dir))
		return nscell_error_errno(&d->err, errno, "bundle %s", d->bundle);
	snprintf(config, sizeof config, "%s/config.json", d->bundle_dir);
	if (oci_config_read_file(p, config, &d->err) < 0)
		return -1;
	d->c->rootless = geteuid() != 0;
	if (p->rootless != d->c->rootless)
		return nscell_error_set(&d->err, 0, "bundle %s: %s", d->bundle, p->rootless ?
					"a rootless bundle: run nscell diff as its user" :
					"not rootless: nscell diff needs root for it");
	return 0;
}

static int load_plan(struct diff_run *d, struct plan *p)
{
	struct cli *c = d->c;
	if (d->bundle)
		return load_bundle_plan(d, p);
	c->load.env = d->env;
	c->load.rootless = c->rootless;
	if (cli_load_plan(c, p, true) != 0) {
		d->err.msg[0] = '\0'; /* cli_load_plan said why */
		return -1;
	}
	return 0;
}

static int write_bundle(struct diff_run *d, struct plan *p, const char *bundle)
{
	if (d->bundle) {
		if (mkdir(bundle, 0700) < 0)
			return nscell_error_errno(&d->err, errno, "mkdir %s", bundle);
		return diff_bundle_write(d->bundle_dir, bundle, d->probe_argv, &d->err);
	}
	struct oci_opts o = { .rootless = d->c->rootless, .hooks = false };
	if (bundle_export(p, bundle, &o, &d->err) < 0)
		return nscell_error_wrap(&d->err, "export");
	return 0;
}

/* everything up to the two reports */
static int prepare_and_run(struct diff_run *d, struct plan *p)
{
	struct cli *c = d->c;
	if (d->bundle && geteuid() != 0)
		c->rootless = true;
	if (geteuid() != 0 && !c->rootless)
		return nscell_error_set(&d->err, EPERM, "needs root (or --rootless, as an "
					"unprivileged user)");
	if (geteuid() == 0 && c->rootless)
		return nscell_error_set(&d->err, EINVAL, "--rootless is for an unprivileged "
					"caller: run by root the shim is not rootless");
	if (!in_path("runc"))
		return nscell_error_set(&d->err, ENOENT, "runc is not installed (not in PATH)");
	char helper[PATH_MAX + 16];
	shim_sibling("nscell-probe", NSCELL_LIBEXECDIR, helper, sizeof helper);
	if ((d->probe_fd = open(helper, O_RDONLY | O_CLOEXEC)) < 0)
		return nscell_error_errno(&d->err, errno, "the probe helper %s", helper);
	if (!(d->env = base_env()))
		return nscell_error_set(&d->err, ENOMEM, "out of memory");
	if (load_plan(d, p) < 0)
		return -1;
	if (p->sandbox_off)
		return nscell_error_set(&d->err, 0, "the vhost's sandbox is off: nothing to compare");
	if (!has_proc(p))
		return nscell_error_set(&d->err, 0, "the template mounts no /proc: the probe runs "
					"as /proc/self/fd/%d", PROBE_FD);
	if (probe_argv(d, p) < 0)
		return -1;
	plan_strv_free(p->proc.argv);
	if (!(p->proc.argv = plan_strv_dup(d->probe_argv)))
		return nscell_error_set(&d->err, ENOMEM, "out of memory");

	const char *tmp = getenv("TMPDIR");
	snprintf(d->work, sizeof d->work, "%s/nscell-diff.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(d->work)) {
		d->work[0] = '\0';
		return nscell_error_errno(&d->err, errno, "make a work directory");
	}
	snprintf(d->runc_id, sizeof d->runc_id, "nscell-diff-%d", (int)getpid());
	char bundle[PATH_MAX + 16];
	snprintf(bundle, sizeof bundle, "%s/bundle", d->work);
	if (write_bundle(d, p, bundle) < 0)
		return -1;
	const char *hook = getenv(AFTER_EXPORT_ENV);
	if (hook && *hook) {
		setenv("NSCELL_DIFF_BUNDLE", bundle, 1);
		int st = system(hook);
		unsetenv("NSCELL_DIFF_BUNDLE");
		if (st != 0)
			return nscell_error_set(&d->err, 0, "%s failed", AFTER_EXPORT_ENV);
	}
	/* runc sets umask 0022 in the container (process.user.umask is not in
	 * the 1.0.2 schema); the shim passes the caller's on: both get 0022 */
	umask(022);
	if (run_runc(d, bundle) < 0 || run_shim(d) < 0)
		return -1;
	return 0;
}

int cmd_diff(struct cli *c)
{
	/* main() hands the arguments on unparsed (see cmd_probe.c) */
	char **argv = c->argv - 1;
	struct diff_run d = { .c = c, .probe_fd = -1 };
	if (parse(&d, (int)plan_strv_len(argv), argv) < 0)
		return NSCELL_EXIT_USAGE;
	struct plan p;
	plan_init(&p);
	struct probe runc, shim;
	probe_init(&runc);
	probe_init(&shim);
	struct diff_result r = { 0 };
	struct probe_ref_ns ref[PROBE_NS_TYPES];
	size_t nref = 0;
	int rc = NSCELL_EXIT_USAGE;
	if (prepare_and_run(&d, &p) < 0 || read_report(&d, "runc", &runc) < 0 ||
	    read_report(&d, "nscell-shim", &shim) < 0 ||
	    probe_ref_ns_parse(ref, &nref, NULL, &d.err) < 0)
		goto out;
	if (d.keep) {
		save_json(&d, "runc", &runc, ref, nref);
		save_json(&d, "nscell-shim", &shim, ref, nref);
	}
	struct diff_ctx ctx = { .plan = &p, .rootless = c->rootless,
				.caller_uid = geteuid(), .caller_gid = getegid() };
	if (diff_compare(&runc, &shim, &ctx, ref, nref, &r, &d.err) < 0)
		goto out;
	if (d.keep) {
		save_compared(&d, "runc", &r.runc);
		save_compared(&d, "nscell-shim", &r.shim);
	}
	if (c->json ? print_json(&d, &p, &r) < 0 : (print_text(&d, &p, &r), false)) {
		nscell_error_set(&d.err, 0, "write the result");
		goto out;
	}
	rc = fflush(stdout) != 0 ? NSCELL_EXIT_USAGE : r.ndiffs ? NSCELL_EXIT_NOT_SO : 0;
out:
	if (rc == NSCELL_EXIT_USAGE && d.err.msg[0])
		fprintf(stderr, "nscell diff: %s\n", d.err.msg);
	if (d.work[0] && d.keep)
		fprintf(stderr, "nscell diff: kept %s (bundle/, *.raw, *.json, *.compared.txt)\n",
			d.work);
	else if (d.work[0])
		nftw(d.work, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	diff_result_free(&r);
	probe_free(&runc);
	probe_free(&shim);
	plan_free(&p);
	plan_strv_free(d.probe_argv);
	free(d.env);
	if (d.probe_fd >= 0)
		close(d.probe_fd);
	return rc;
}
