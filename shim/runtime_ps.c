/* nscell-runtime ps: the container's processes, those in the pid
 * namespace of its pid 1 (runc lists its cgroup's; the same processes
 * here), as a JSON array of host pids (--format json, what containerd's
 * shim asks for) or as ps prints them (runc's table: ps -ef, or the
 * arguments after the ID, the lines whose PID is the container's). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/runtime.h"

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* every pid in the pid namespace of c's pid 1 (it included), sorted */
static int container_pids(const struct rt_container *c, pid_t **pids, size_t *n,
			  nscell_error_t *err)
{
	char path[64];
	struct stat ns, st;
	*pids = NULL;
	*n = 0;
	snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)c->pid);
	if (strcmp(rt_container_status(c), "stopped") == 0 || stat(path, &ns) < 0)
		return 0;
	DIR *d = opendir("/proc");
	if (!d)
		return nscell_error_errno(err, errno, "/proc");
	size_t cap = 0;
	for (struct dirent *e; (e = readdir(d));) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		snprintf(path, sizeof path, "/proc/%s/ns/pid", e->d_name);
		if (*end || pid <= 0 || stat(path, &st) < 0 || st.st_ino != ns.st_ino ||
		    st.st_dev != ns.st_dev)
			continue;
		if (*n == cap) {
			pid_t *more = realloc(*pids, (cap = cap ? 2 * cap : 16) * sizeof **pids);
			if (!more) {
				closedir(d);
				return nscell_error_set(err, ENOMEM, "out of memory");
			}
			*pids = more;
		}
		(*pids)[(*n)++] = (pid_t)pid;
	}
	closedir(d);
	qsort(*pids, *n, sizeof **pids, cmp_pid);
	return 0;
}

static bool listed(const pid_t *pids, size_t n, long pid)
{
	return bsearch(&(pid_t){ (pid_t)pid }, pids, n, sizeof *pids, cmp_pid) != NULL;
}

/* as runc: ps (ARGS, default -ef) with the header and the container's lines */
static int ps_table(const pid_t *pids, size_t n, char **args, int nargs, nscell_error_t *err)
{
	_cleanup_free_ char **argv = calloc((size_t)nargs + 2, sizeof *argv);
	int p[2];
	if (!argv || pipe2(p, O_CLOEXEC) < 0)
		return nscell_error_errno(err, errno ? errno : ENOMEM, "ps");
	argv[0] = "ps";
	for (int i = 0; i < nargs; i++)
		argv[i + 1] = args[i];
	if (!nargs)
		argv[1] = "-ef";
	pid_t child = fork();
	if (child == 0) {
		dup2(p[1], 1);
		execvp("ps", argv);
		_exit(127);
	}
	close(p[1]);
	FILE *f = fdopen(p[0], "r");
	char line[4096];
	int column = -1;
	while (f && fgets(line, sizeof line, f)) {
		char copy[4096], *save = NULL;
		snprintf(copy, sizeof copy, "%s", line);
		char *w = strtok_r(copy, " \t\n", &save);
		for (int k = 0; w; k++, w = strtok_r(NULL, " \t\n", &save)) {
			if (column < 0 && strcmp(w, "PID") == 0) { /* the header */
				column = k;
				fputs(line, stdout);
				break;
			}
			if (column >= 0 && k == column) {
				if (listed(pids, n, strtol(w, NULL, 10)))
					fputs(line, stdout);
				break;
			}
		}
	}
	if (f)
		fclose(f);
	int st = 0;
	waitpid(child, &st, 0);
	if (child < 0 || column < 0)
		return nscell_error_set(err, 0, "ps: no PID column in ps's output (ps %s)",
					nargs ? args[0] : "-ef");
	return 0;
}

int rt_cmd_ps(struct rt_ctx *ctx, int argc, char **argv, nscell_error_t *err)
{
	const char *format = "table";
	int i = 1;
	if (i < argc && (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--format") == 0) &&
	    i + 1 < argc) {
		format = argv[i + 1];
		i += 2;
	} else if (i < argc && strncmp(argv[i], "--format=", 9) == 0) {
		format = argv[i] + 9;
		i++;
	}
	if (strcmp(format, "json") && strcmp(format, "table"))
		return nscell_error_set(err, 0, "ps: --format '%s': table or json", format);
	bool json = strcmp(format, "json") == 0;
	if (i >= argc)
		return nscell_error_set(err, 0, "ps: expected a container ID");
	struct rt_container c;
	if (rt_container_load(ctx->root, argv[i], &c, err) < 0)
		return -1;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int rc = container_pids(&c, &pids, &n, err);
	if (rc == 0 && json) {
		printf("[");
		for (size_t k = 0; k < n; k++)
			printf("%s%d", k ? "," : "", (int)pids[k]);
		printf("]\n");
	} else if (rc == 0) {
		fflush(stdout);
		rc = ps_table(pids, n, argv + i + 1, argc - i - 1, err);
	}
	rt_container_free(&c);
	return rc;
}
