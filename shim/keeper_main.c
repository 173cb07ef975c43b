/* nscell-keeper COMMIT_FD [STATE/ENTRY]: pid 1 of a persisted sandbox
 * (see keeper.h), run only by nscell-shim; the label only names it.  Static, so it needs nothing from the
 * sandbox's tree; with KEEPER_NOLIBC without libc at all. */
#include "shim/keeper.h"

static int parse_fd(const char *s)
{
	long v = 0;
	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 1 << 20)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return (int)v;
}

#ifdef KEEPER_NOLIBC
#include "shim/keeper_nolibc.h"

void keeper_start(long *sp) __attribute__((noreturn, used));

/* the kernel's initial stack: argc, argv[], NULL, envp[], NULL, auxv */
#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n"
	"\txor %rbp, %rbp\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall keeper_start\n\thlt\n");
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n"
	"\tmov x29, #0\n\tmov x30, #0\n\tmov x0, sp\n\tbl keeper_start\n");
#endif

void keeper_start(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	int fd = argc == 2 || argc == 3 ? parse_fd(argv[1]) : -1;
	/* only ever a sandbox's pid 1 */
	if (fd < 0 || ksys(__NR_getpid, 0, 0, 0, 0) != 1)
		for (;;)
			ksys(__NR_exit_group, 2, 0, 0, 0);
	keeper_run(fd);
}
#else
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd = argc == 2 || argc == 3 ? parse_fd(argv[1]) : -1;
	if (fd < 0 || getpid() != 1)
		return 2; /* only ever a sandbox's pid 1 */
	keeper_run(fd);
}
#endif
