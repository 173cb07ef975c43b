/* libnscell bench: nscell_spawn() of a program into a warm persisted
 * sandbox, against plain posix_spawn() of it and against exec'ing the
 * shim warm (`nscell-shim -p`), each timed from the call to waitpid's
 * return, in interleaved rounds.
 *
 *   spawn-bench -u USER [-x SHIM] [-C CONF] [-n ROUNDS] [-w WARMUP] [-J] [-- CMD ARGS]
 *
 * CMD defaults to /bin/true.  Run as root (or as USER for itself, with
 * NSCELL_STATE_DIR as for the shim).  The first nscell_spawn() builds
 * the sandbox (NSCELL_SPAWN_PERSIST); the warm-up rounds are not
 * counted.  Prints one line per launcher: median, p10 and p90 in
 * microseconds and the median as a multiple of posix_spawn's; -J: one
 * JSON object instead ({"rounds": N, "launchers": {NAME: {"median_us",
 * "p10_us", "p90_us", "vs_posix"}}}), for bench/run --spawn. */
#include <errno.h>
#include <getopt.h>
#include <nscell.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { POSIX_SPAWN, NSCELL_SPAWN, SHIM_EXEC, NKINDS };
static const char *const names[NKINDS] = { "posix_spawn", "nscell_spawn (persisted)",
					   "nscell-shim -p (exec, warm)" };

struct bench {
	struct nscell_spawn_opts o;
	char **shim_argv;
	char **cmd;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int wait_ok(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* one launch of kind k: nanoseconds, or 0 on failure */
static uint64_t launch(struct bench *b, int k)
{
	struct nscell_spawn_error e;
	pid_t pid = -1;
	uint64_t t0 = now_ns();
	if (k == POSIX_SPAWN && posix_spawn(&pid, b->cmd[0], NULL, NULL, b->cmd, environ) != 0)
		pid = -1;
	else if (k == NSCELL_SPAWN && (pid = nscell_spawn(&b->o, &e)) < 0)
		fprintf(stderr, "spawn-bench: nscell_spawn: %s\n", e.msg);
	else if (k == SHIM_EXEC &&
		 posix_spawn(&pid, b->shim_argv[0], NULL, NULL, b->shim_argv, environ) != 0)
		pid = -1;
	if (pid < 0 || wait_ok(pid) < 0)
		return 0;
	return now_ns() - t0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static double at(const uint64_t *v, int n, double q)
{
	return (double)v[(int)(q * (n - 1) + 0.5)] / 1000.0;
}

static char **shim_argv(const char *shim, const char *user, const char *conf, char **cmd)
{
	size_t n = 0;
	while (cmd[n])
		n++;
	char **v = calloc(n + 9, sizeof *v);
	size_t k = 0;
	v[k++] = (char *)shim;
	v[k++] = "-p";
	v[k++] = "-u";
	v[k++] = (char *)user;
	if (conf) {
		v[k++] = "-C";
		v[k++] = (char *)conf;
	}
	v[k++] = "--";
	for (size_t i = 0; i < n; i++)
		v[k++] = cmd[i];
	return v;
}

int main(int argc, char **argv)
{
	static char *true_argv[] = { "/bin/true", NULL };
	struct bench b;
	const char *shim = NSCELL_BINDIR "/nscell-shim", *user = NULL, *conf = NULL;
	int rounds = 300, warmup = 20, c;
	bool json = false;
	nscell_spawn_opts_init(&b.o);
	while ((c = getopt(argc, argv, "+u:x:C:n:w:J")) != -1) {
		switch (c) {
		case 'u': user = optarg; break;
		case 'x': shim = optarg; break;
		case 'C': conf = optarg; break;
		case 'n': rounds = atoi(optarg); break;
		case 'w': warmup = atoi(optarg); break;
		case 'J': json = true; break;
		default: return 2;
		}
	}
	if (!user || rounds < 1 || warmup < 1) {
		fprintf(stderr, "usage: spawn-bench -u USER [-x SHIM] [-C CONF] [-n ROUNDS] [-w WARMUP] [-J] [-- CMD]\n");
		return 2;
	}
	b.cmd = optind < argc ? argv + optind : true_argv;
	b.shim_argv = shim_argv(shim, user, conf, b.cmd);
	b.o = (struct nscell_spawn_opts){ .user = user, .conf = conf, .argv = b.cmd, .shim = shim,
					  .flags = NSCELL_SPAWN_PERSIST, .stdio = { -1, -1, -1 } };
	uint64_t *t[NKINDS];
	for (int k = 0; k < NKINDS; k++)
		t[k] = calloc((size_t)rounds, sizeof *t[k]);
	for (int i = -warmup; i < rounds; i++)
		for (int k = 0; k < NKINDS; k++) {
			uint64_t ns = launch(&b, k);
			if (!ns) {
				fprintf(stderr, "spawn-bench: %s of %s failed\n", names[k], b.cmd[0]);
				return 1;
			}
			if (i >= 0)
				t[k][i] = ns;
		}
	for (int k = 0; k < NKINDS; k++)
		qsort(t[k], (size_t)rounds, sizeof *t[k], cmp_u64);
	if (json) {
		printf("{\"rounds\": %d, \"warmup\": %d, \"command\": \"%s\", \"launchers\": {", rounds,
		       warmup, b.cmd[0]);
		for (int k = 0; k < NKINDS; k++)
			printf("%s\"%s\": {\"median_us\": %.1f, \"p10_us\": %.1f, \"p90_us\": %.1f, "
			       "\"vs_posix\": %.3f}", k ? ", " : "", names[k], at(t[k], rounds, 0.5),
			       at(t[k], rounds, 0.1), at(t[k], rounds, 0.9),
			       at(t[k], rounds, 0.5) / at(t[0], rounds, 0.5));
		printf("}}\n");
		return 0;
	}
	printf("%d rounds (+%d warm-up) of %s, microseconds\n", rounds, warmup, b.cmd[0]);
	printf("%-30s %10s %10s %10s %8s\n", "launcher", "median", "p10", "p90", "x posix");
	for (int k = 0; k < NKINDS; k++)
		printf("%-30s %10.1f %10.1f %10.1f %8.2f\n", names[k], at(t[k], rounds, 0.5),
		       at(t[k], rounds, 0.1), at(t[k], rounds, 0.9),
		       at(t[k], rounds, 0.5) / at(t[0], rounds, 0.5));
	return 0;
}
