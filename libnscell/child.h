/* The joined command's setup as a child that shares the caller's memory
 * (clone CLONE_VM|CLONE_VFORK): everything it needs is made by the caller
 * beforehand (join_fast.c), and the child (child.c) makes system calls
 * only: no allocation, no lock, no stdio, no glibc wrapper that talks to
 * other threads (setresuid and friends do, in a threaded caller), nothing
 * written to memory but its own stack, errno and the buffers the caller
 * set aside for it.  A step that fails is
 * reported as a struct child_report on err_fd; the caller words it. */
#ifndef NSCELL_LIBNSCELL_CHILD_H
#define NSCELL_LIBNSCELL_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum child_step {
	STEP_NONE,
	STEP_SETNS,        /* arg: the keeper's pid */
	STEP_STDIO,        /* arg: the fd (0, 1, 2) */
	STEP_KEEP_FD,      /* arg: the fd */
	STEP_SETSID,
	STEP_SETGROUPS,
	STEP_SETRESGID,
	STEP_BOUNDING,     /* arg: the capability */
	STEP_AMBIENT,
	STEP_SECUREBITS,
	STEP_SETRESUID,
	STEP_CAPSET,
	STEP_NO_NEW_PRIVS,
	STEP_IDS_CHECK,
	STEP_CAPS_CHECK,
	STEP_BOUNDING_CHECK, /* arg: the capability */
	STEP_SECCOMP,
	STEP_PDEATHSIG,
	STEP_PARENT_GONE,
	STEP_CWD,
	STEP_CWD_OUTSIDE,
	STEP_EXEC,
};

struct child_report {
	int step;   /* enum child_step */
	int errnum; /* 0: none */
	int arg;
};

struct sock_fprog;

struct child_plan {
	int pidfd;               /* the keeper's: setns(pidfd, ns) */
	int ns;                  /* CLONE_NEW* to join (the pid namespace is the caller's to enter) */
	pid_t keeper;
	int err_fd;              /* close-on-exec: struct child_report on failure */
	int stdio[3];            /* -1: the caller's */
	const int *keep;         /* sorted, unique, >= 3 */
	size_t nkeep;
	unsigned max_fd;         /* for closing one by one when close_range is missing */
	bool set_groups;
	const gid_t *groups;
	size_t ngroups;
	uid_t uid;
	gid_t gid;
	const struct sock_fprog *filter; /* the TIOCSTI filter, NULL when no terminal reaches the command */
	const char *cwd;
	bool cwd_given;          /* a missing cwd is an error, not / */
	char *const *argv;
	char *const *envp;
	const char *path;        /* PATH to search argv[0] in when it has no '/' */
	char *exec_buf;          /* room for the longest PATH entry + '/' + argv[0] */
	char **sh_argv;          /* room for argc + 2: ENOEXEC runs it with /bin/sh as execvp does */
	char *cwd_buf;           /* PATH_MAX bytes, for getcwd */
};

/* The child's function (clone's fn, or called after fork): never returns. */
int child_main(void *plan);

#endif
