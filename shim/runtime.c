/* The OCI runtime (the nscell-runtime program, which nscell-shim hands
 * runtime command lines to): the global options (runc's --root,
 * --log, --log-format), the dispatch to the commands (runtime_cmds.c),
 * and the state of each container:
 *
 *   ROOT/                 --root, default /run/nscell-runtime (root) or
 *                         $XDG_RUNTIME_DIR/nscell-runtime (0700)
 *     ID/state.json       the runtime's own record (rt_container)
 *     ID/config.json      the bundle's config at create (its hooks run
 *                         at start and delete)
 *     ID/exec.fifo        until start: the container's command waits to
 *                         read a byte from it
 *
 * The container's pid is its sandbox's pid 1 (nscell's init): signals
 * sent to it reach the command's process group; SIGKILL ends it all. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "oci/oci.h"
#include "shim/runtime.h"
#include "shim/state.h"

#define DEFAULT_ROOT "/run/nscell-runtime"
#define STATE_MAX (1u << 20)

char *rt_path(const char *dir, const char *name)
{
	char *s;
	return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

void rt_container_free(struct rt_container *c)
{
	free(c->dir);
	free(c->id);
	free(c->bundle);
	free(c->cgroup);
	free(c->rootfs);
	plan_strv_free(c->annotations);
	memset(c, 0, sizeof *c);
}

static yajl_val get(yajl_val obj, const char *key, yajl_type t)
{
	const char *path[] = { key, NULL };
	return yajl_tree_get(obj, path, t);
}

static int parse_record(struct rt_container *c, const char *text, const char *path,
			nscell_error_t *err)
{
	yajl_val root = yajl_tree_parse(text, NULL, 0);
	yajl_val id = get(root, "id", yajl_t_string), bundle = get(root, "bundle", yajl_t_string);
	yajl_val pid = get(root, "pid", yajl_t_number), start = get(root, "start", yajl_t_number);
	yajl_val created = get(root, "created", yajl_t_number);
	yajl_val ann = get(root, "annotations", yajl_t_object);
	yajl_val cgroup = get(root, "cgroup", yajl_t_string);
	yajl_val rootfs = get(root, "rootfs", yajl_t_string);
	int rc = 0;
	if (!id || !bundle || !pid || !start || !YAJL_IS_INTEGER(pid) || !YAJL_IS_INTEGER(start))
		rc = nscell_error_set(err, EINVAL, "%s: not a state record of nscell-shim", path);
	else if (!(c->id = strdup(id->u.string)) || !(c->bundle = strdup(bundle->u.string)))
		rc = nscell_error_set(err, ENOMEM, "out of memory");
	if (rc == 0) {
		c->pid = (pid_t)YAJL_GET_INTEGER(pid);
		c->start = (unsigned long long)YAJL_GET_INTEGER(start);
		c->started = YAJL_IS_TRUE(get(root, "started", yajl_t_true));
		c->created = created && YAJL_IS_INTEGER(created) ? YAJL_GET_INTEGER(created) : 0;
		if ((cgroup && !(c->cgroup = strdup(cgroup->u.string))) ||
		    (rootfs && !(c->rootfs = strdup(rootfs->u.string))))
			rc = nscell_error_set(err, ENOMEM, "out of memory");
	}
	if (rc == 0 && ann && ann->u.object.len) {
		size_t n = 0;
		c->annotations = calloc(2 * ann->u.object.len + 1, sizeof *c->annotations);
		for (size_t i = 0; c->annotations && i < ann->u.object.len; i++)
			if (YAJL_IS_STRING(ann->u.object.values[i])) {
				c->annotations[n++] = strdup(ann->u.object.keys[i]);
				c->annotations[n++] = strdup(ann->u.object.values[i]->u.string);
			}
	}
	yajl_tree_free(root);
	return rc;
}

int rt_container_load(const char *root, const char *id, struct rt_container *c, nscell_error_t *err)
{
	memset(c, 0, sizeof *c);
	if (!rt_id_valid(id))
		return nscell_error_set(err, EINVAL, "'%s' is not a container ID", id);
	if (!(c->dir = rt_path(root, id)))
		return nscell_error_set(err, ENOMEM, "out of memory");
	_cleanup_free_ char *path = rt_path(c->dir, "state.json");
	char *text = malloc(STATE_MAX);
	ssize_t n = path && text ? shim_read_small(path, text, STATE_MAX) : -1;
	int rc;
	if (n < 0 && errno == ENOENT)
		rc = nscell_error_set(err, ENOENT, "container %s does not exist (in %s)", id, root);
	else if (n < 0)
		rc = nscell_error_errno(err, errno, "%s", path ? path : id);
	else
		rc = parse_record(c, text, path, err);
	free(text);
	if (rc < 0)
		rt_container_free(c);
	return rc;
}

void rt_gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

void rt_gen_annotations(yajl_gen g, char *const *a)
{
	rt_gen_str(g, "annotations");
	yajl_gen_map_open(g);
	for (; a && a[0] && a[1]; a += 2) {
		rt_gen_str(g, a[0]);
		rt_gen_str(g, a[1]);
	}
	yajl_gen_map_close(g);
}

char *rt_gen_take(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;
	char *out = NULL;
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
		out = strndup((const char *)buf, len);
	yajl_gen_free(g);
	return out;
}

int rt_container_save(const struct rt_container *c, nscell_error_t *err)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (!g)
		return nscell_error_set(err, ENOMEM, "out of memory");
	yajl_gen_map_open(g);
	rt_gen_str(g, "id");
	rt_gen_str(g, c->id);
	rt_gen_str(g, "bundle");
	rt_gen_str(g, c->bundle);
	rt_gen_str(g, "pid");
	yajl_gen_integer(g, c->pid);
	rt_gen_str(g, "start");
	yajl_gen_integer(g, (long long)c->start);
	rt_gen_str(g, "started");
	yajl_gen_bool(g, c->started);
	rt_gen_str(g, "created");
	yajl_gen_integer(g, c->created);
	rt_gen_annotations(g, c->annotations);
	if (c->cgroup) {
		rt_gen_str(g, "cgroup");
		rt_gen_str(g, c->cgroup);
	}
	if (c->rootfs) {
		rt_gen_str(g, "rootfs");
		rt_gen_str(g, c->rootfs);
	}
	yajl_gen_map_close(g);
	_cleanup_free_ char *text = rt_gen_take(g);
	_cleanup_free_ char *path = rt_path(c->dir, "state.json");
	_cleanup_free_ char *tmp = rt_path(c->dir, ".state.json.tmp");
	if (!text || !path || !tmp)
		return nscell_error_set(err, ENOMEM, "out of memory");
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || shim_write_all(fd, text, strlen(text)) < 0 || rename(tmp, path) < 0)
		return nscell_error_errno(err, errno, "%s/state.json", c->dir);
	return 0;
}

/* a zombie (its monitor gone before reaping it) is stopped too */
static bool zombie(pid_t pid)
{
	char path[32], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (shim_read_small(path, buf, sizeof buf) < 0)
		return true;
	char *p = strrchr(buf, ')');
	return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

const char *rt_container_status(const struct rt_container *c)
{
	unsigned long long start;
	if (c->pid <= 0 || state_proc_start(c->pid, &start, NULL, 0) < 0 || start != c->start ||
	    zombie(c->pid))
		return "stopped";
	return c->started ? "running" : "created";
}

struct rt_state rt_container_state(const struct rt_container *c)
{
	const char *status = rt_container_status(c);
	return (struct rt_state){ .id = c->id, .status = status, .bundle = c->bundle,
				  .pid = strcmp(status, "stopped") ? c->pid : 0,
				  .annotations = c->annotations };
}

int rt_container_hooks(const struct rt_container *c, struct rt_hooks *h, nscell_error_t *err)
{
	_cleanup_free_ char *config = rt_path(c->dir, "config.json");
	if (!config)
		return nscell_error_set(err, ENOMEM, "out of memory");
	return rt_hooks_read(config, h, err);
}

/* ---- the command line ---- */

static const char usage_text[] =
	"usage: nscell-shim [--root DIR] [--log FILE] [--log-format text|json] COMMAND ...\n"
	"  run [-b DIR] [-d] ID        build and run the bundle, in the foreground\n"
	"                              (-d: create and start it, and return)\n"
	"  create [-b DIR] [--pid-file FILE] [--console-socket PATH] ID\n"
	"                              build it; the process waits for start\n"
	"  start ID                    let the created container's process run\n"
	"  state ID                    the runtime spec's state JSON\n"
	"  kill ID [SIGNAL]            (default SIGTERM)\n"
	"  delete [-f] ID              remove a stopped (with -f: any) container\n"
	"  list [-q] [-f table|json]   the containers under --root\n"
	"  ps [-f table|json] ID [ARGS]  its processes (ps ARGS, default -ef)\n"
	"  --version, -v               its version, the spec's, and its C library\n"
	"--root: the containers' state (default " DEFAULT_ROOT ", unprivileged\n"
	"$XDG_RUNTIME_DIR/nscell-runtime).  Errors go to stderr and, with --log, to FILE\n"
	"(one JSON object a line with --log-format json, as runc writes).\n";

struct globals {
	const char *root, *log, *log_format;
};

/* as runc -v, and which C library it runs on, static or not */
static void print_version(void)
{
	printf("nscell-runtime version %s\nspec: %s\n", PACKAGE_VERSION, OCI_VERSION);
	shim_print_libc(stdout);
}

static int parse_globals(int argc, char **argv, struct globals *g, nscell_error_t *err)
{
	enum { O_ROOT = 0x100, O_LOG, O_LOGFMT, O_IGNORED, O_IGNORED_ARG, O_HELP, O_VERSION };
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, O_ROOT },
		{ "log", required_argument, NULL, O_LOG },
		{ "log-format", required_argument, NULL, O_LOGFMT },
		{ "debug", no_argument, NULL, O_IGNORED },
		{ "systemd-cgroup", no_argument, NULL, O_IGNORED },
		{ "criu", required_argument, NULL, O_IGNORED_ARG },
		{ "rootless", required_argument, NULL, O_IGNORED_ARG },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+hv", longopts, NULL)) != -1) {
		switch (c) {
		case O_ROOT: g->root = optarg; break;
		case O_LOG: g->log = optarg; break;
		case O_LOGFMT:
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				return nscell_error_set(err, 0, "--log-format '%s': text or json", optarg);
			g->log_format = optarg;
			break;
		case O_IGNORED: case O_IGNORED_ARG: break;
		case 'h': case O_HELP: fputs(usage_text, stdout); exit(0);
		case 'v': case O_VERSION: print_version(); exit(0);
		default:
			return nscell_error_set(err, 0, "unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	return optind;
}

static void log_error(const struct globals *g, const char *msg)
{
	FILE *f = g->log ? fopen(g->log, "ae") : NULL;
	if (!f)
		return;
	char when[64];
	time_t now = time(NULL);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	if (g->log_format && strcmp(g->log_format, "json") == 0) {
		yajl_gen y = yajl_gen_alloc(NULL);
		const unsigned char *buf;
		size_t len;
		yajl_gen_map_open(y);
		rt_gen_str(y, "level");
		rt_gen_str(y, "error");
		rt_gen_str(y, "msg");
		rt_gen_str(y, msg);
		rt_gen_str(y, "time");
		rt_gen_str(y, when);
		yajl_gen_map_close(y);
		yajl_gen_get_buf(y, &buf, &len);
		fprintf(f, "%.*s\n", (int)len, buf);
		yajl_gen_free(y);
	} else {
		fprintf(f, "time=\"%s\" level=error msg=\"%s\"\n", when, msg);
	}
	fclose(f);
}

static const char *default_root(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (geteuid() == 0 || !xdg || xdg[0] != '/')
		return geteuid() == 0 ? DEFAULT_ROOT : (snprintf(buf, size, "/tmp/nscell-runtime-%u",
								 (unsigned)geteuid()), buf);
	snprintf(buf, size, "%s/nscell-runtime", xdg);
	return buf;
}

static int dispatch(struct rt_ctx *c, int argc, char **argv, nscell_error_t *err)
{
	static int (*const fns[])(struct rt_ctx *, int, char **, nscell_error_t *) = {
		NULL, rt_cmd_create, rt_cmd_start, rt_cmd_state, rt_cmd_kill, rt_cmd_delete,
		rt_cmd_list, rt_cmd_ps,
	};
	if (argc < 1)
		return nscell_error_set(err, 0, "expected a command: run, create, start, state, "
					"kill, delete, list or ps (see --help)");
	for (size_t i = 0; rt_commands[i]; i++) {
		if (strcmp(argv[0], rt_commands[i]) != 0)
			continue;
		if (i == 0)
			return rt_cmd_run(c, argc, argv, err);
		return fns[i](c, argc, argv, err);
	}
	return nscell_error_set(err, 0, "unknown command '%s' (see --help)", argv[0]);
}

int shim_runtime_main(int argc, char **argv, struct shim *s)
{
	struct globals g = { 0 };
	nscell_error_t err = { 0 };
	char buf[512];
	int status = parse_globals(argc, argv, &g, &err);
	if (status >= 0) {
		struct rt_ctx c = { .root = g.root ? g.root : default_root(buf, sizeof buf), .s = s };
		status = dispatch(&c, argc - status, argv + status, &err);
	}
	if (status < 0) {
		if (err.msg[0]) {
			fprintf(stderr, "nscell-shim: %s\n", err.msg);
			log_error(&g, err.msg);
		}
		status = NSCELL_EXIT_USAGE;
	}
	return status;
}
