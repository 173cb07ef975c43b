/* The joined command's last steps before exec, in a child that may share
 * the caller's memory (child.h).  The same steps, in the same order and
 * with the same checks, as shim/init.c's command_exec after
 * spawn_child_setup, for a joined command of a privileged caller
 * (shim/creds.c become_user, shim/fds.c fds_finish): only raw system
 * calls here.  glibc's setresuid, setresgid and setgroups are not used:
 * in a threaded caller they signal the other threads to change theirs
 * too, and this child is no thread of it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libnscell/child.h"

#ifndef __NR_close_range
#define __NR_close_range 436
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#define CAP_PROBE_MAX 64

/* what the kernel's rt_sigaction takes */
struct ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

static void __attribute__((noreturn)) die(const struct child_plan *c, int step, int e, int arg)
{
	struct child_report r = { .step = step, .errnum = e, .arg = arg };
	syscall(SYS_write, c->err_fd, &r, sizeof r);
	syscall(SYS_exit_group, 2);
	__builtin_unreachable();
}

#define CHECK(call, step, arg) \
	do { \
		if ((call) < 0) \
			die(c, step, errno, arg); \
	} while (0)

/* signal dispositions back to the default (the caller's handlers must not
 * run here, nor its SIG_IGN survive the exec); every signal is blocked */
static void default_signals(void)
{
	struct ksigaction dfl = { .handler = SIG_DFL };
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
}

static void setup_fds(const struct child_plan *c)
{
	for (int fd = 0; fd < 3; fd++) {
		int from = c->stdio[fd];
		if (from < 0 || from == fd)
			CHECK(syscall(SYS_fcntl, fd, F_SETFD, 0), STEP_STDIO, fd);
		else
			CHECK(syscall(SYS_dup2, from, fd), STEP_STDIO, fd);
	}
	for (size_t i = 0; i < c->nkeep; i++)
		CHECK(syscall(SYS_fcntl, c->keep[i], F_SETFD, 0), STEP_KEEP_FD, c->keep[i]);
}

static void drop_bounding_set(const struct child_plan *c)
{
	for (int cap = 0; cap < CAP_PROBE_MAX; cap++) {
		if (syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL)
			break; /* past the kernel's last capability */
		die(c, STEP_BOUNDING, errno, cap);
	}
}

static void check_no_caps(const struct child_plan *c)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	memset(data, 0xff, sizeof data);
	CHECK(syscall(SYS_capget, &hdr, data), STEP_CAPS_CHECK, 0);
	for (int i = 0; i < 2; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			die(c, STEP_CAPS_CHECK, 0, 0);
	for (int cap = 0; cap < CAP_PROBE_MAX; cap++) {
		long r = syscall(SYS_prctl, PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0)
			break;
		if (r > 0)
			die(c, STEP_BOUNDING_CHECK, 0, cap);
	}
}

/* shim/creds.c become_user for a privileged caller */
static void become_user(const struct child_plan *c)
{
	if (c->set_groups)
		CHECK(syscall(SYS_setgroups, c->ngroups, c->groups), STEP_SETGROUPS, 0);
	CHECK(syscall(SYS_setresgid, c->gid, c->gid, c->gid), STEP_SETRESGID, (int)c->gid);
	drop_bounding_set(c);
	if (syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		die(c, STEP_AMBIENT, errno, 0);
	unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
			     SECBIT_KEEP_CAPS_LOCKED;
	CHECK(syscall(SYS_prctl, PR_SET_SECUREBITS, bits, 0, 0, 0), STEP_SECUREBITS, 0);
	CHECK(syscall(SYS_setresuid, c->uid, c->uid, c->uid), STEP_SETRESUID, (int)c->uid);
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[2] = { { 0 } };
	CHECK(syscall(SYS_capset, &hdr, none), STEP_CAPSET, 0);
	CHECK(syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), STEP_NO_NEW_PRIVS, 0);
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	if (syscall(SYS_getresuid, &ru, &eu, &su) < 0 || syscall(SYS_getresgid, &rg, &eg, &sg) < 0 ||
	    ru != c->uid || eu != c->uid || su != c->uid || rg != c->gid || eg != c->gid || sg != c->gid)
		die(c, STEP_IDS_CHECK, 0, 0);
	check_no_caps(c);
}

/* last: any credential change clears the parent-death signal; the
 * parent is outside the pid namespace (getppid() says 0), the error
 * pipe's reader end tells whether it is still there */
static void tie_to_parent(const struct child_plan *c)
{
	CHECK(syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), STEP_PDEATHSIG, 0);
	struct pollfd pfd = { .fd = c->err_fd, .events = POLLOUT };
	if (syscall(SYS_getppid) != 0 ||
	    (syscall(SYS_poll, &pfd, 1, 0) == 1 && (pfd.revents & POLLERR)))
		die(c, STEP_PARENT_GONE, 0, 0);
}

static void enter_cwd(const struct child_plan *c)
{
	if (syscall(SYS_chdir, c->cwd) < 0) {
		int e = errno;
		/* the home need not be in the sandbox: then start at / */
		if (c->cwd_given || syscall(SYS_chdir, "/") < 0)
			die(c, STEP_CWD, e, 0);
	}
	/* "(unreachable)/..." or an error: the cwd is outside our root */
	if (syscall(SYS_getcwd, c->cwd_buf, 4096) < 0 || c->cwd_buf[0] != '/')
		die(c, STEP_CWD_OUTSIDE, 0, 0);
}

static void close_range_or_loop(const struct child_plan *c, int first, int last)
{
	if (first > last || syscall(__NR_close_range, (unsigned)first, (unsigned)last, 0) == 0)
		return;
	for (int fd = first; fd <= last && (unsigned)fd < c->max_fd; fd++)
		syscall(SYS_close, fd);
}

/* every fd but 0, 1, 2, the kept ones and the error pipe (close-on-exec) */
static void close_others(const struct child_plan *c)
{
	int next = 3;
	for (size_t i = 0; i <= c->nkeep; i++) {
		int keep = i < c->nkeep ? c->keep[i] : 0x7fffffff;
		if (c->err_fd >= next && c->err_fd < keep) {
			close_range_or_loop(c, next, c->err_fd - 1);
			next = c->err_fd + 1;
		}
		close_range_or_loop(c, next, keep - 1);
		if (i == c->nkeep)
			break;
		next = keep + 1;
	}
}

static void try_exec(const struct child_plan *c, const char *file)
{
	syscall(SYS_execve, file, c->argv, c->envp);
	if (errno != ENOEXEC)
		return;
	/* as execvp: a file without a #! line is a shell script */
	size_t i = 1;
	c->sh_argv[0] = "/bin/sh";
	c->sh_argv[1] = (char *)file;
	for (; c->argv[i]; i++)
		c->sh_argv[i + 1] = c->argv[i];
	c->sh_argv[i + 1] = NULL;
	syscall(SYS_execve, "/bin/sh", c->sh_argv, c->envp);
	errno = ENOEXEC;
}

/* execvp's search, without its allocations */
static void __attribute__((noreturn)) exec_command(const struct child_plan *c)
{
	const char *file = c->argv[0];
	if (strchr(file, '/')) {
		try_exec(c, file);
		die(c, STEP_EXEC, errno, 0);
	}
	bool eacces = false;
	size_t flen = strlen(file);
	for (const char *p = c->path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);
		memcpy(c->exec_buf, p, dlen);
		if (dlen)
			c->exec_buf[dlen++] = '/';
		memcpy(c->exec_buf + dlen, file, flen + 1);
		try_exec(c, c->exec_buf);
		if (errno == EACCES)
			eacces = true;
		else if (errno != ENOENT && errno != ESTALE && errno != ENOTDIR && errno != ENODEV &&
			 errno != ETIMEDOUT)
			die(c, STEP_EXEC, errno, 0);
		if (!*end)
			break;
		p = end;
	}
	die(c, STEP_EXEC, eacces ? EACCES : ENOENT, 0);
}

int child_main(void *plan)
{
	const struct child_plan *c = plan;
	CHECK(syscall(SYS_setns, c->pidfd, c->ns), STEP_SETNS, (int)c->keeper);
	default_signals();
	setup_fds(c);
	/* a new session: no controlling terminal to push input into */
	CHECK(syscall(SYS_setsid), STEP_SETSID, 0);
	become_user(c);
	if (c->filter)
		CHECK(syscall(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, c->filter, 0, 0), STEP_SECCOMP, 0);
	tie_to_parent(c);
	enter_cwd(c);
	close_others(c);
	/* the command's mask: empty */
	unsigned long none = 0;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
	exec_command(c);
}
