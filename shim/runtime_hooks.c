/* config.json's hooks, run as the runtime spec says: each hook's path is
 * exec'd with its args and env, the state of the container as JSON on its
 * stdin; a timeout kills it.  Where each stage runs (the runtime's
 * namespaces, or the container's: createContainer, startContainer) is the
 * caller's part (shim/runtime_stages.c).  And the state JSON itself, which
 * `state` prints too.
 *
 * The oci/ reader checks only the stage names of a bundle's hooks
 * (oci_config_read_file_any_hooks), and gives its parsed document back:
 * the runtime reads them from it here (rt_hooks_of). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "shim/runtime.h"
#include "shim/runtime_stages.h"

static const char *const stage_names[RT_NSTAGES] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

const char *rt_stage_name(enum rt_stage st)
{
	return stage_names[st];
}

void rt_hooks_free(struct rt_hooks *h)
{
	for (int st = 0; st < RT_NSTAGES; st++) {
		for (size_t i = 0; i < h->n[st]; i++) {
			free(h->stage[st][i].path);
			plan_strv_free(h->stage[st][i].args);
			plan_strv_free(h->stage[st][i].env);
		}
		free(h->stage[st]);
	}
	memset(h, 0, sizeof *h);
}

bool rt_hooks_any(const struct rt_hooks *h)
{
	for (int st = 0; st < RT_NSTAGES; st++)
		if (h->n[st])
			return true;
	return false;
}

static yajl_val get(yajl_val obj, const char *key)
{
	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

/* an array of strings into a strv (NULL stays NULL) */
static int strv_of(yajl_val v, const char *field, char ***out, nscell_error_t *err)
{
	*out = NULL;
	if (!v)
		return 0;
	if (!YAJL_IS_ARRAY(v))
		return nscell_error_set(err, EINVAL, "%s: expected an array of strings", field);
	char **sv = calloc(v->u.array.len + 1, sizeof *sv);
	if (!sv)
		return nscell_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val e = v->u.array.values[i];
		if (!YAJL_IS_STRING(e) || !(sv[i] = strdup(e->u.string))) {
			plan_strv_free(sv);
			return nscell_error_set(err, EINVAL, "%s[%zu]: expected a string", field, i);
		}
	}
	*out = sv;
	return 0;
}

static int read_hook(yajl_val v, const char *field, struct rt_hook *hk, nscell_error_t *err)
{
	char f[96];
	yajl_val path = get(v, "path"), timeout = get(v, "timeout");
	if (!YAJL_IS_OBJECT(v))
		return nscell_error_set(err, EINVAL, "%s: expected an object", field);
	for (size_t i = 0; i < v->u.object.len; i++) {
		const char *k = v->u.object.keys[i];
		if (strcmp(k, "path") && strcmp(k, "args") && strcmp(k, "env") && strcmp(k, "timeout"))
			return nscell_error_set(err, EINVAL, "%s.%s: not an OCI hook field", field, k);
	}
	if (!YAJL_IS_STRING(path) || path->u.string[0] != '/')
		return nscell_error_set(err, EINVAL, "%s.path: expected an absolute path", field);
	if (timeout && (!YAJL_IS_INTEGER(timeout) || YAJL_GET_INTEGER(timeout) <= 0))
		return nscell_error_set(err, EINVAL, "%s.timeout: expected a positive integer", field);
	hk->timeout = timeout ? (long)YAJL_GET_INTEGER(timeout) : 0;
	if (!(hk->path = strdup(path->u.string)))
		return nscell_error_set(err, ENOMEM, "out of memory");
	snprintf(f, sizeof f, "%s.args", field);
	if (strv_of(get(v, "args"), f, &hk->args, err) < 0)
		return -1;
	snprintf(f, sizeof f, "%s.env", field);
	return strv_of(get(v, "env"), f, &hk->env, err);
}

static int read_stage(yajl_val v, enum rt_stage st, struct rt_hooks *h, nscell_error_t *err)
{
	char f[64];
	snprintf(f, sizeof f, "hooks.%s", stage_names[st]);
	if (!YAJL_IS_ARRAY(v))
		return nscell_error_set(err, EINVAL, "%s: expected an array", f);
	if (!(h->stage[st] = calloc(v->u.array.len + 1, sizeof *h->stage[st])))
		return nscell_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < v->u.array.len; i++) {
		char fi[80];
		snprintf(fi, sizeof fi, "%s[%zu]", f, i);
		h->n[st] = i + 1;
		if (read_hook(v->u.array.values[i], fi, &h->stage[st][i], err) < 0)
			return -1;
	}
	return 0;
}

static int read_annotations(yajl_val v, char ***out, nscell_error_t *err)
{
	*out = NULL;
	if (!YAJL_IS_OBJECT(v) || !v->u.object.len)
		return 0;
	char **sv = calloc(2 * v->u.object.len + 1, sizeof *sv);
	if (!sv)
		return nscell_error_set(err, ENOMEM, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < v->u.object.len; i++) {
		yajl_val val = v->u.object.values[i];
		if (!YAJL_IS_STRING(val))
			continue; /* the reader has refused those already */
		if (!(sv[n++] = strdup(v->u.object.keys[i])) || !(sv[n++] = strdup(val->u.string))) {
			plan_strv_free(sv);
			return nscell_error_set(err, ENOMEM, "out of memory");
		}
	}
	*out = sv;
	return 0;
}

int rt_hooks_of(yajl_val root, const char *config, struct rt_hooks *h, char ***annotations,
		nscell_error_t *err)
{
	memset(h, 0, sizeof *h);
	if (annotations)
		*annotations = NULL;
	yajl_val hooks = get(root, "hooks");
	int rc = 0;
	for (int st = 0; st < RT_NSTAGES && rc == 0; st++) {
		yajl_val v = get(hooks, stage_names[st]);
		if (v)
			rc = read_stage(v, (enum rt_stage)st, h, err);
	}
	if (rc == 0 && annotations)
		rc = read_annotations(get(root, "annotations"), annotations, err);
	if (rc < 0) {
		nscell_error_wrap(err, "%s", config);
		rt_hooks_free(h);
	}
	return rc;
}

int rt_hooks_read(const char *config, struct rt_hooks *h, nscell_error_t *err)
{
	memset(h, 0, sizeof *h);
	FILE *f = fopen(config, "re");
	if (!f)
		return nscell_error_errno(err, errno, "%s", config);
	_cleanup_free_ char *text = NULL;
	size_t cap = 0;
	ssize_t len = getdelim(&text, &cap, '\0', f);
	fclose(f);
	if (len < 0)
		return nscell_error_set(err, EINVAL, "%s: cannot be read", config);
	char msg[256];
	yajl_val root = yajl_tree_parse(text, msg, sizeof msg);
	if (!root)
		return nscell_error_set(err, EINVAL, "%s: invalid JSON", config);
	int rc = rt_hooks_of(root, config, h, NULL, err);
	yajl_tree_free(root);
	return rc;
}

char *rt_state_json(const struct rt_state *state, bool pretty)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (!g)
		return NULL;
	yajl_gen_config(g, yajl_gen_beautify, pretty ? 1 : 0);
	yajl_gen_map_open(g);
	rt_gen_str(g, "ociVersion");
	rt_gen_str(g, "1.0.2");
	rt_gen_str(g, "id");
	rt_gen_str(g, state->id);
	rt_gen_str(g, "status");
	rt_gen_str(g, state->status);
	if (state->pid > 0) {
		rt_gen_str(g, "pid");
		yajl_gen_integer(g, state->pid);
	}
	rt_gen_str(g, "bundle");
	rt_gen_str(g, state->bundle);
	if (state->annotations)
		rt_gen_annotations(g, state->annotations);
	yajl_gen_map_close(g);
	return rt_gen_take(g);
}

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_execveat
#define __NR_execveat 322
#endif

/* wait for pid, killing it after timeout seconds (0: none); its status,
 * or -1 with *timed_out */
static int wait_hook(pid_t pid, long timeout, bool *timed_out)
{
	int st;
	*timed_out = false;
	if (timeout > 0) {
		_cleanup_close_ int pfd = (int)syscall(__NR_pidfd_open, pid, 0);
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		struct timespec end, now;
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += timeout;
		for (;;) {
			if (waitpid(pid, &st, WNOHANG) == pid)
				return st;
			clock_gettime(CLOCK_MONOTONIC, &now);
			long ms = (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
			if (ms <= 0)
				break;
			if (pfd < 0 || poll(&p, 1, (int)(ms < 10 ? ms : pfd < 0 ? 10 : ms)) < 0)
				usleep(10000);
		}
		*timed_out = true;
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return *timed_out ? -1 : st;
}

/* where a hook runs: exec_fd, the program opened already (-1: hk->path);
 * cwd_fd, its working directory (-1: ours) */
struct hook_at {
	int exec_fd, cwd_fd;
};

static void __attribute__((noreturn)) exec_hook(const struct rt_hook *hk, int in,
						const struct hook_at *at)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* the runtime builds with umask 0: a hook gets the process's, 0022 */
	umask(022);
	if (dup2(in, STDIN_FILENO) < 0 || (at->cwd_fd >= 0 && fchdir(at->cwd_fd) < 0))
		_exit(127);
	char *argv0[] = { hk->path, NULL }, *env0[] = { NULL };
	char **argv = hk->args && hk->args[0] ? hk->args : argv0, **env = hk->env ? hk->env : env0;
	/* a script's interpreter reads it as /dev/fd/N: N stays open */
	if (at->exec_fd >= 0 && fcntl(at->exec_fd, F_SETFD, 0) == 0)
		syscall(__NR_execveat, at->exec_fd, "", argv, env, AT_EMPTY_PATH);
	else
		execve(hk->path, argv, env);
	fprintf(stderr, "nscell-shim: exec hook %s: %s\n", hk->path, strerror(errno));
	_exit(127);
}

static int run_one(const struct rt_hook *hk, const char *field, const char *json,
		   const struct hook_at *at, nscell_error_t *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return nscell_error_errno(err, errno, "%s: pipe", field);
	pid_t pid = fork();
	if (pid == 0)
		exec_hook(hk, p[0], at);
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return nscell_error_errno(err, errno, "%s: fork", field);
	}
	/* a hook that does not read its stdin is no error */
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	shim_write_all(p[1], json, strlen(json));
	close(p[1]);
	signal(SIGPIPE, old);
	bool timed_out;
	int st = wait_hook(pid, hk->timeout, &timed_out);
	if (timed_out)
		return nscell_error_set(err, ETIMEDOUT, "%s (%s): timed out after %ld s", field,
					hk->path, hk->timeout);
	if (st < 0)
		return nscell_error_errno(err, errno, "%s (%s): wait", field, hk->path);
	if (WIFSIGNALED(st))
		return nscell_error_set(err, 0, "%s (%s): killed by signal %d", field, hk->path,
					WTERMSIG(st));
	if (WEXITSTATUS(st))
		return nscell_error_set(err, 0, "%s (%s): exit status %d", field, hk->path,
					WEXITSTATUS(st));
	return 0;
}

static int run_stage(const struct rt_hooks *h, enum rt_stage st, const struct rt_state *state,
		     bool warn, const int *exec_fds, int cwd_fd, nscell_error_t *err)
{
	if (!h->n[st])
		return 0;
	_cleanup_free_ char *json = rt_state_json(state, false);
	if (!json)
		return nscell_error_set(err, ENOMEM, "hooks.%s: the state JSON: out of memory",
					stage_names[st]);
	for (size_t i = 0; i < h->n[st]; i++) {
		char field[64];
		snprintf(field, sizeof field, "hooks.%s[%zu]", stage_names[st], i);
		nscell_error_t e = { 0 };
		struct hook_at at = { .exec_fd = exec_fds ? exec_fds[i] : -1, .cwd_fd = cwd_fd };
		if (run_one(&h->stage[st][i], field, json, &at, &e) == 0)
			continue;
		if (!warn) {
			*err = e;
			return -1;
		}
		fprintf(stderr, "nscell-shim: warning: container %s: %s\n", state->id, e.msg);
	}
	return 0;
}

int rt_hooks_run(const struct rt_hooks *h, enum rt_stage st, const struct rt_state *state,
		 bool warn, nscell_error_t *err)
{
	return run_stage(h, st, state, warn, NULL, -1, err);
}

int rt_hooks_run_at(const struct rt_hooks *h, enum rt_stage st, const struct rt_state *state,
		    const int *exec_fds, int cwd_fd, nscell_error_t *err)
{
	return run_stage(h, st, state, false, exec_fds, cwd_fd, err);
}
