/* A caller of libnscell for tests/integration/libnscell.sh, built against
 * the library and its header as an embedding server would be.
 *
 *   spawn_test [-u USER] [-s VHOST] [-C CONF] [-d DIR] [-x SHIM] [-p|-P] [-v]
 *              [-O FD]... [-k FD]... [-o FILE] [-n COUNT] [-E SHELLCMD] [-N] -- CMD ARGS
 *
 * -O FD opens /dev/null on FD (inheritable), -k FD keeps FD, -o FILE is
 * the child's stdout (stdio[1]), -n spawns COUNT times one after the
 * other, -E runs SHELLCMD (sh -c) between two spawns (a change the next
 * spawn must see), -N sets NSCELL_SPAWN_NO_CACHE.  Each spawn: "pid N" then, after waitpid, "exit N" or "signal N"
 * on stderr; a failed spawn prints "error ERRNAME: MESSAGE" and the
 * program exits 3.  At the end "caller unchanged" when nothing of the
 * caller's differs from before (signal mask and dispositions, umask,
 * cwd, fds and their flags, the pid namespace for children), else
 * "caller changed: WHAT" and exit 4. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <nscell.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FDS 16

struct caller_state {
	sigset_t mask;
	void (*handlers[NSIG])(int);
	mode_t umask;
	char cwd[4096];
	char pidns[64];
	int fdflags[64];
};

static void on_usr1(int sig)
{
	(void)sig;
}

static void snapshot(struct caller_state *c)
{
	memset(c, 0, sizeof *c);
	sigprocmask(SIG_BLOCK, NULL, &c->mask);
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;
		if (sigaction(sig, NULL, &sa) == 0)
			c->handlers[sig] = sa.sa_handler;
	}
	c->umask = umask(0);
	umask(c->umask);
	if (!getcwd(c->cwd, sizeof c->cwd))
		c->cwd[0] = '\0';
	ssize_t n = readlink("/proc/self/ns/pid_for_children", c->pidns, sizeof c->pidns - 1);
	c->pidns[n > 0 ? n : 0] = '\0';
	for (int fd = 0; fd < 64; fd++)
		c->fdflags[fd] = fcntl(fd, F_GETFD);
}

static const char *compare(const struct caller_state *a, const struct caller_state *b)
{
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&a->mask, sig) != sigismember(&b->mask, sig))
			return "signal mask";
	if (memcmp(a->handlers, b->handlers, sizeof a->handlers))
		return "signal dispositions";
	if (a->umask != b->umask)
		return "umask";
	if (strcmp(a->cwd, b->cwd))
		return "cwd";
	if (strcmp(a->pidns, b->pidns))
		return "pid namespace for children";
	if (memcmp(a->fdflags, b->fdflags, sizeof a->fdflags))
		return "fds or their flags";
	return NULL;
}

static void open_null_on(int fd)
{
	int n = open("/dev/null", O_RDWR);
	if (n < 0 || (n != fd && (dup2(n, fd) < 0 || close(n) < 0))) {
		perror("open /dev/null");
		exit(2);
	}
}

static int spawn_and_wait(const struct nscell_spawn_opts *o)
{
	struct nscell_spawn_error e;
	pid_t pid = nscell_spawn(o, &e);
	if (pid < 0) {
		fprintf(stderr, "error %s: %s\n", strerrorname_np(e.errnum), e.msg);
		return -1;
	}
	fprintf(stderr, "pid %d\n", (int)pid);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			perror("waitpid");
			return -1;
		}
	if (WIFEXITED(st))
		fprintf(stderr, "exit %d\n", WEXITSTATUS(st));
	else
		fprintf(stderr, "signal %d\n", WTERMSIG(st));
	return 0;
}

int main(int argc, char **argv)
{
	struct nscell_spawn_opts o;
	int keep[MAX_FDS], nkeep = 0, count = 1, c, out = -1;
	const char *between = NULL;
	nscell_spawn_opts_init(&o);
	/* a caller with a handler of its own: it must not reach the child */
	signal(SIGUSR1, on_usr1);
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt(argc, argv, "+u:s:C:d:x:pPvO:k:o:n:E:N")) != -1) {
		switch (c) {
		case 'u': o.user = optarg; break;
		case 's': o.vhost = optarg; break;
		case 'C': o.conf = optarg; break;
		case 'd': o.cwd = optarg; break;
		case 'x': o.shim = optarg; break;
		case 'p': o.flags |= NSCELL_SPAWN_PERSIST; break;
		case 'P': o.flags |= NSCELL_SPAWN_NO_PERSIST; break;
		case 'v': o.flags |= NSCELL_SPAWN_VERBOSE; break;
		case 'O': open_null_on(atoi(optarg)); break;
		case 'k': if (nkeep < MAX_FDS) keep[nkeep++] = atoi(optarg); break;
		case 'o':
			out = open(optarg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (out < 0) {
				perror(optarg);
				return 2;
			}
			o.stdio[1] = out;
			break;
		case 'n': count = atoi(optarg); break;
		case 'E': between = optarg; break;
		case 'N': o.flags |= NSCELL_SPAWN_NO_CACHE; break;
		default: return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: spawn_test [options] -- CMD ARGS\n");
		return 2;
	}
	o.argv = argv + optind;
	o.keep_fds = keep;
	o.nkeep_fds = (size_t)nkeep;
	struct caller_state before, after;
	snapshot(&before);
	for (int i = 0; i < count; i++) {
		if (i && between && system(between) != 0) {
			fprintf(stderr, "-E %s: failed\n", between);
			return 2;
		}
		if (spawn_and_wait(&o) < 0)
			return 3;
	}
	snapshot(&after);
	const char *what = compare(&before, &after);
	fprintf(stderr, what ? "caller changed: %s\n" : "caller unchanged\n", what);
	return what ? 4 : 0;
}
