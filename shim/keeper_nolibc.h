/* The few system calls the keeper makes, without libc (x86-64 and
 * arm64): a keeper built this way is a few KB of text and one page of
 * stack, so ten thousand of them cost next to nothing.  Each call returns
 * the kernel's value: -errno on failure. */
#ifndef NSCELL_SHIM_KEEPER_NOLIBC_H
#define NSCELL_SHIM_KEEPER_NOLIBC_H

#include <asm/unistd.h>
#include <stddef.h>

#ifndef __NR_close_range
#define __NR_close_range 436
#endif

static inline long ksys(long n, long a, long b, long c, long d)
{
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
	return x0;
#else
#error "no freestanding keeper for this architecture: configure builds it with libc"
#endif
}

/* The kernel's siginfo (128 bytes) as far as the keeper reads it: the
 * sender's pid sits after three ints and the union's alignment padding on
 * both 64-bit ports. */
struct ksiginfo {
	int signo, err, code, pad;
	int pid;
	unsigned uid;
	long rest[13];
};

struct ktimespec {
	long sec, nsec;
};

/* gcc may call these for struct copies even when freestanding */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

#endif
