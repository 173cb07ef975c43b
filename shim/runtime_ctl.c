/* The runtime's commands on a created container: start, state, kill,
 * delete, list (see shim/runtime.h; ps in runtime_ps.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "shim/runtime.h"
#include "shim/runtime_stages.h"
#include "shim/state.h"

static int only_id(int argc, char **argv, const char *name, const char **id, nscell_error_t *err)
{
	if (argc != 2 || argv[1][0] == '-')
		return nscell_error_set(err, 0, "%s: expected one container ID", name);
	*id = argv[1];
	return 0;
}

int rt_cmd_start(struct rt_ctx *ctx, int argc, char **argv, nscell_error_t *err)
{
	const char *id = NULL;
	struct rt_container c;
	if (only_id(argc, argv, "start", &id, err) < 0 || rt_container_load(ctx->root, id, &c, err) < 0)
		return -1;
	int rc = -1;
	const char *status = rt_container_status(&c);
	_cleanup_free_ char *fifo = rt_path(c.dir, "exec.fifo");
	_cleanup_close_ int fd = -1;
	if (strcmp(status, "created") != 0) {
		nscell_error_set(err, 0, "start: container %s is %s, not created", id, status);
		goto out;
	}
	/* ENXIO: nobody reads it, the command is gone */
	if (!fifo || (fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    shim_write_all(fd, "1", 1) < 0) {
		nscell_error_errno(err, errno, "start: container %s: %s", id, fifo ? fifo : "fifo");
		goto out;
	}
	unlink(fifo);
	c.started = true;
	if (rt_container_save(&c, err) < 0)
		goto out;
	struct rt_hooks h;
	if (rt_container_hooks(&c, &h, err) < 0)
		goto out;
	/* poststart after the startContainer hooks: the command holds the
	 * fifo open until they have run */
	rt_stages_wait_started(&h, fd);
	struct rt_state st = rt_container_state(&c);
	st.status = "running";
	rc = rt_hooks_run(&h, RT_POSTSTART, &st, true, err);
	rt_hooks_free(&h);
out:
	rt_container_free(&c);
	return rc;
}

/* the spec's state with runc's own fields (rootfs, created, owner), as
 * `runc state` prints it and containerd's shim reads it */
static char *state_json(const struct rt_container *c)
{
	struct rt_state st = rt_container_state(c);
	char created[40];
	time_t t = (time_t)c->created;
	strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	yajl_gen g = yajl_gen_alloc(NULL);
	if (!g)
		return NULL;
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	const char *const pairs[][2] = { { "ociVersion", "1.0.2" }, { "id", st.id },
					 { "status", st.status }, { "bundle", st.bundle },
					 { "rootfs", c->rootfs ? c->rootfs : "" },
					 { "created", created }, { "owner", "" } };
	for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
		rt_gen_str(g, pairs[i][0]);
		rt_gen_str(g, pairs[i][1]);
		if (i == 2 && st.pid > 0) { /* left out once stopped (runc: 0) */
			rt_gen_str(g, "pid");
			yajl_gen_integer(g, st.pid);
		}
	}
	if (st.annotations)
		rt_gen_annotations(g, st.annotations);
	yajl_gen_map_close(g);
	return rt_gen_take(g);
}

int rt_cmd_state(struct rt_ctx *ctx, int argc, char **argv, nscell_error_t *err)
{
	const char *id = NULL;
	struct rt_container c;
	if (only_id(argc, argv, "state", &id, err) < 0 || rt_container_load(ctx->root, id, &c, err) < 0)
		return -1;
	char *json = state_json(&c);
	if (json)
		printf("%s\n", json);
	free(json);
	rt_container_free(&c);
	return json ? 0 : nscell_error_set(err, ENOMEM, "out of memory");
}

static int parse_signal(const char *s, int *sig)
{
	static const struct { const char *name; int sig; } names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "STOP", SIGSTOP },
		{ "CONT", SIGCONT }, { "WINCH", SIGWINCH }, { "ALRM", SIGALRM }, { "PIPE", SIGPIPE },
	};
	char *end;
	long n = strtol(s, &end, 10);
	if (end != s && !*end && n > 0 && n < NSIG) {
		*sig = (int)n;
		return 0;
	}
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strcmp(s, names[i].name) == 0) {
			*sig = names[i].sig;
			return 0;
		}
	return -1;
}

int rt_cmd_kill(struct rt_ctx *ctx, int argc, char **argv, nscell_error_t *err)
{
	int i = 1, sig = SIGTERM;
	/* --all, -a: the pid namespace goes with its init anyway */
	if (i < argc && (strcmp(argv[i], "--all") == 0 || strcmp(argv[i], "-a") == 0))
		i++;
	if (argc - i < 1 || argc - i > 2)
		return nscell_error_set(err, 0, "kill: expected a container ID and maybe a signal");
	if (argc - i == 2 && parse_signal(argv[i + 1], &sig) < 0)
		return nscell_error_set(err, EINVAL, "kill: '%s' is not a signal", argv[i + 1]);
	struct rt_container c;
	if (rt_container_load(ctx->root, argv[i], &c, err) < 0)
		return -1;
	int rc = 0;
	if (strcmp(rt_container_status(&c), "stopped") == 0)
		rc = nscell_error_set(err, ESRCH, "kill: container %s is not running", c.id);
	else if (kill(c.pid, sig) < 0)
		rc = nscell_error_errno(err, errno, "kill: container %s (pid %d)", c.id, (int)c.pid);
	rt_container_free(&c);
	return rc;
}

/* a stopped pid 1 may still be a zombie: its parent (containerd's shim,
 * or whoever reaps our caller's orphans) reaps it; wait a second at most
 * for that, so that its pid is gone when delete returns */
static void await_reaped(const struct rt_container *c)
{
	unsigned long long start;
	for (int i = 0; i < 1000; i++) {
		if (c->pid <= 0 || state_proc_start(c->pid, &start, NULL, 0) < 0 || start != c->start)
			return;
		usleep(1000);
	}
}

/* SIGKILL and wait (10 s at most) until c's pid 1 is gone */
static int stop_container(struct rt_container *c, nscell_error_t *err)
{
	kill(c->pid, SIGKILL);
	for (int i = 0; i < 10000; i++) {
		if (strcmp(rt_container_status(c), "stopped") == 0)
			return 0;
		usleep(1000);
	}
	return nscell_error_set(err, EBUSY, "delete: container %s (pid %d) did not stop", c->id,
				(int)c->pid);
}

int rt_cmd_delete(struct rt_ctx *ctx, int argc, char **argv, nscell_error_t *err)
{
	bool force = argc == 3 && (strcmp(argv[1], "-f") == 0 || strcmp(argv[1], "--force") == 0);
	if (argc != 2 + force || argv[argc - 1][0] == '-')
		return nscell_error_set(err, 0, "delete: expected [-f] and one container ID");
	struct rt_container c;
	if (rt_container_load(ctx->root, argv[argc - 1], &c, err) < 0) {
		/* as runc: nothing to force away (containerd's shim deletes twice) */
		if (force && err->errnum == ENOENT) {
			memset(err, 0, sizeof *err);
			return 0;
		}
		return -1;
	}
	const char *status = rt_container_status(&c);
	int rc = 0;
	/* runc deletes a created container without -f: it never ran */
	if (strcmp(status, "running") == 0 && !force)
		rc = nscell_error_set(err, EBUSY, "delete: container %s is running (stop it, or "
				      "delete -f)", c.id);
	else if (strcmp(status, "stopped") != 0)
		rc = stop_container(&c, err);
	if (rc == 0) {
		await_reaped(&c);
		rt_cgroup_remove(c.cgroup);
	}
	struct rt_hooks h;
	if (rc == 0 && rt_container_hooks(&c, &h, err) == 0) {
		struct rt_state st = rt_container_state(&c);
		rt_hooks_run(&h, RT_POSTSTOP, &st, true, err);
		rt_hooks_free(&h);
	}
	if (rc == 0) {
		static const char *const files[] = { "state.json", "config.json", "exec.fifo", NULL };
		for (size_t i = 0; files[i]; i++) {
			_cleanup_free_ char *p = rt_path(c.dir, files[i]);
			if (p)
				unlink(p);
		}
		if (rmdir(c.dir) < 0)
			rc = nscell_error_errno(err, errno, "delete: %s", c.dir);
	}
	rt_container_free(&c);
	return rc;
}

static void list_one(const struct rt_container *c, bool quiet, bool json, bool *first)
{
	if (quiet) {
		printf("%s\n", c->id);
		return;
	}
	struct rt_state st = rt_container_state(c);
	if (json) {
		char *s = rt_state_json(&st, false);
		printf("%s%s", *first ? "" : ",", s ? s : "{}");
		free(s);
	} else {
		char when[32];
		time_t t = (time_t)c->created;
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		printf("%-12s %-8d %-10s %-40s %s\n", c->id, (int)st.pid, st.status, c->bundle, when);
	}
	*first = false;
}

int rt_cmd_list(struct rt_ctx *ctx, int argc, char **argv, nscell_error_t *err)
{
	bool quiet = false, json = false, first = true;
	int c;
	optind = 1;
	while ((c = getopt(argc, argv, "+qf:")) != -1) {
		if (c == 'q')
			quiet = true;
		else if (c == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0))
			json = strcmp(optarg, "json") == 0;
		else
			return nscell_error_set(err, 0, "list: [-q] [-f table|json]");
	}
	DIR *d = opendir(ctx->root);
	if (!d && errno != ENOENT)
		return nscell_error_errno(err, errno, "list: %s", ctx->root);
	if (json && !quiet)
		printf("[");
	else if (!quiet)
		printf("%-12s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
	for (struct dirent *e; d && (e = readdir(d));) {
		struct rt_container ct;
		nscell_error_t ignored = { 0 };
		if (e->d_name[0] == '.' || rt_container_load(ctx->root, e->d_name, &ct, &ignored) < 0)
			continue;
		list_one(&ct, quiet, json, &first);
		rt_container_free(&ct);
	}
	if (json && !quiet)
		printf("]\n");
	if (d)
		closedir(d);
	return 0;
}
