/* bench timer: run a command and time it from fork() to wait4(), with
 * nothing else in between (bench/run compiles it on the fly).
 *
 *   timer [-u UID -g GID [-G G1,G2...]] [-q | -o FILE] -- CMD ARGS
 *       one launch; prints "NANOSECONDS STATUS MAXRSS_KB" on stdout
 *   timer [-u ...] [-q | -o FILE] -j PARALLEL -n TOTAL -- CMD ARGS
 *       TOTAL launches, PARALLEL at a time; prints "NANOSECONDS FAILURES"
 *
 * -u/-g/-G: the child becomes that user before exec (as a web server's
 * CGI daemon does before it execs bwrap).  -q: the child's stdout goes to
 * /dev/null; -o: to FILE (to check what it printed).  Our own stdout is
 * only ever the result line.  An argument "{n}" anywhere is replaced by
 * the launch number (unique runc container ids).  A tiny C parent forks in microseconds, so
 * the launcher adds next to nothing to what is measured. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long uid = -1, gid = -1;
static gid_t groups[64];
static int ngroups = -1;
static const char *out_file = "/dev/null";

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* argv with every "{n}" replaced by n (strings leak: the child execs) */
static char **subst(char **argv, unsigned long n)
{
	size_t argc = 0;
	while (argv[argc])
		argc++;
	char **out = calloc(argc + 1, sizeof *out);
	if (!out)
		return argv;
	for (size_t i = 0; i < argc; i++) {
		char *at = strstr(argv[i], "{n}");
		if (!at) {
			out[i] = argv[i];
			continue;
		}
		if (asprintf(&out[i], "%.*s%lu%s", (int)(at - argv[i]), argv[i], n, at + 3) < 0)
			out[i] = argv[i];
	}
	return out;
}

static pid_t launch(char **argv, unsigned long n)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int out = open(out_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0 || dup2(out, 1) < 0) {
		perror(out_file);
		_exit(127);
	}
	if ((ngroups >= 0 && setgroups((size_t)ngroups, groups) < 0) ||
	    (gid >= 0 && setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0) ||
	    (uid >= 0 && setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)) {
		perror("timer: become the user");
		_exit(127);
	}
	char **args = subst(argv, n);
	execv(args[0], args);
	fprintf(stderr, "timer: exec %s: %s\n", args[0], strerror(errno));
	_exit(127);
}

static int one(char **argv)
{
	struct rusage ru;
	int st;
	uint64_t t0 = now_ns();
	pid_t pid = launch(argv, 0);
	if (pid < 0 || wait4(pid, &st, 0, &ru) != pid) {
		perror("timer");
		return 2;
	}
	uint64_t t1 = now_ns();
	int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	printf("%llu %d %ld\n", (unsigned long long)(t1 - t0), status, ru.ru_maxrss);
	return 0;
}

static int parallel(char **argv, unsigned long jobs, unsigned long total)
{
	unsigned long started = 0, running = 0, failed = 0;
	uint64_t t0 = now_ns();
	while (started < total || running) {
		while (running < jobs && started < total) {
			if (launch(argv, started++) < 0) {
				perror("timer: fork");
				failed++;
				continue;
			}
			running++;
		}
		int st;
		if (wait(&st) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		running--;
		failed += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	printf("%llu %lu\n", (unsigned long long)(now_ns() - t0), failed);
	return 0;
}

static void parse_groups(char *list)
{
	ngroups = 0;
	for (char *save = NULL, *g = strtok_r(list, ",", &save); g && ngroups < 64;
	     g = strtok_r(NULL, ",", &save))
		groups[ngroups++] = (gid_t)strtoul(g, NULL, 10);
}

int main(int argc, char **argv)
{
	unsigned long jobs = 0, total = 0;
	int c;
	while ((c = getopt(argc, argv, "+u:g:G:qo:j:n:")) != -1) {
		switch (c) {
		case 'u': uid = strtol(optarg, NULL, 10); break;
		case 'g': gid = strtol(optarg, NULL, 10); break;
		case 'G': parse_groups(optarg); break;
		case 'q': out_file = "/dev/null"; break;
		case 'o': out_file = optarg; break;
		case 'j': jobs = strtoul(optarg, NULL, 10); break;
		case 'n': total = strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: timer [-u UID -g GID [-G LIST]] [-q | -o FILE] [-j N -n TOTAL] -- CMD ARGS\n");
			return 2;
		}
	}
	if (optind >= argc || argv[optind][0] != '/') {
		fprintf(stderr, "timer: an absolute command path is needed\n");
		return 2;
	}
	/* stdout may be a pipe read only at the end: no interleaving with children */
	setvbuf(stdout, NULL, _IOFBF, 0);
	return jobs ? parallel(argv + optind, jobs, total ? total : jobs) : one(argv + optind);
}
