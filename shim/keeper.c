/* The keeper's loop (see keeper.h).  No allocation, no stdio.  Built
 * with KEEPER_NOLIBC it talks to the kernel directly (keeper_nolibc.h);
 * otherwise (the shim's fallback, other architectures) through libc. */
#include "shim/keeper.h"

/* How often a retired keeper looks whether its last process is gone:
 * processes it is not the parent of (the joined commands: their parent is
 * the shim on the host) send it nothing when they exit. */
#define RETIRED_POLL_NS 200000000L

#ifdef KEEPER_NOLIBC
#include "shim/keeper_nolibc.h"

#define K_PR_SET_PDEATHSIG 1
#define K_PR_SET_DUMPABLE 4
#define K_SIGCHLD 17
#define K_SIGUSR1 10
#define K_ESRCH 3
#define K_EINTR 4
#define K_WNOHANG 1
#define K_SIG_SETMASK 2

typedef unsigned long kset_t;

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;
	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *q = d;
	const unsigned char *p = s;
	while (n--)
		*q++ = *p++;
	return d;
}

static void k_prctl(int op, long arg) { ksys(__NR_prctl, op, arg, 0, 0); }
static void __attribute__((noreturn)) k_exit(int status)
{
	for (;;)
		ksys(__NR_exit_group, status, 0, 0, 0);
}
static long k_read(int fd, void *buf, long n) { return ksys(__NR_read, fd, (long)buf, n, 0); }
static void k_block(const kset_t *set)
{
	ksys(__NR_rt_sigprocmask, K_SIG_SETMASK, (long)set, 0, sizeof *set);
}
/* the signal taken, or a negative errno (timeout: -EAGAIN) */
static int k_wait(const kset_t *set, int *from_host, long timeout_ns)
{
	struct ksiginfo si;
	struct ktimespec t = { 0, timeout_ns };
	long sig = ksys(__NR_rt_sigtimedwait, (long)set, (long)&si, timeout_ns ? (long)&t : 0,
			sizeof *set);
	*from_host = sig > 0 && si.pid == 0;
	return (int)sig;
}
static int k_reap(void) { return ksys(__NR_wait4, -1, 0, K_WNOHANG, 0) > 0; }
static int k_alone(void) { return ksys(__NR_kill, -1, 0, 0, 0) == -K_ESRCH; }
static int k_chdir_root(void) { return ksys(__NR_chdir, (long)"/", 0, 0, 0) == 0; }
static void k_close_all(void)
{
	if (ksys(__NR_close_range, 0, ~0U, 0, 0) == 0)
		return;
	for (int fd = 0; fd < 1024; fd++)
		ksys(__NR_close, fd, 0, 0, 0);
}
static void k_init_set(kset_t *set)
{
	*set = 1UL << (K_SIGCHLD - 1) | 1UL << (K_SIGUSR1 - 1);
}
static int k_is_retire(int sig) { return sig == K_SIGUSR1; }
#define K_EINTR_RET (-K_EINTR)

#else /* libc */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_close_range
#define __NR_close_range 436
#endif

typedef sigset_t kset_t;

static void k_prctl(int op, long arg) { prctl(op, arg, 0, 0, 0); }
static void __attribute__((noreturn)) k_exit(int status) { _exit(status); }
static long k_read(int fd, void *buf, long n)
{
	ssize_t r = read(fd, buf, (size_t)n);
	return r < 0 ? -errno : r;
}
static void k_block(const kset_t *set) { sigprocmask(SIG_SETMASK, set, NULL); }
static int k_wait(const kset_t *set, int *from_host, long timeout_ns)
{
	siginfo_t si;
	struct timespec t = { 0, timeout_ns };
	int sig = timeout_ns ? sigtimedwait(set, &si, &t) : sigwaitinfo(set, &si);
	*from_host = sig > 0 && si.si_pid == 0;
	return sig < 0 ? -errno : sig;
}
static int k_reap(void) { return waitpid(-1, NULL, WNOHANG) > 0; }
static int k_alone(void) { return kill(-1, 0) < 0 && errno == ESRCH; }
static int k_chdir_root(void) { return chdir("/") == 0; }
static void k_close_all(void)
{
	if (syscall(__NR_close_range, 0U, ~0U, 0U) == 0)
		return;
	for (int fd = 0; fd < 1024; fd++)
		close(fd);
}
static void k_init_set(kset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, KEEPER_RETIRE_SIGNAL);
	/* an inherited SIG_IGN would reap children behind our back: harmless,
	 * but the default is what the loop expects */
	signal(SIGCHLD, SIG_DFL);
}
static int k_is_retire(int sig) { return sig == KEEPER_RETIRE_SIGNAL; }
#define K_EINTR_RET (-EINTR)
#define K_PR_SET_PDEATHSIG PR_SET_PDEATHSIG
#define K_PR_SET_DUMPABLE PR_SET_DUMPABLE
#endif

void keeper_run(int commit_fd)
{
	kset_t set;
	/* not dumpable: no ptrace, no /proc/1/{fd,root,mem} for the user */
	k_prctl(K_PR_SET_DUMPABLE, 0);
	/* Blocked signals queue for the wait below; every other one finds
	 * pid 1 without a handler and is dropped (the kernel's rule for an
	 * init), except SIGKILL from the host. */
	k_init_set(&set);
	k_block(&set);

	char c = 0;
	long n;
	do
		n = k_read(commit_fd, &c, 1);
	while (n == K_EINTR_RET);
	if (n != 1 || c != KEEPER_COMMIT)
		k_exit(1);
	/* recorded: from now on the sandbox outlives the launch that built it */
	k_prctl(K_PR_SET_PDEATHSIG, 0);
	k_close_all();
	if (!k_chdir_root())
		k_exit(1);

	int retired = 0;
	for (;;) {
		int from_host;
		int sig = k_wait(&set, &from_host, retired ? RETIRED_POLL_NS : 0);
		/* only the host may retire it: a process inside (same uid,
		 * unprivileged mode) sends with its own pid, never 0 */
		if (k_is_retire(sig) && from_host)
			retired = 1;
		while (k_reap())
			;
		if (retired && k_alone())
			k_exit(0);
	}
}
