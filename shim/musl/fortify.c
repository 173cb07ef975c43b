/* nscell-runtime on musl links Debian's libyajl_s.a, which glibc's
 * _FORTIFY_SOURCE compiled against these checked variants; musl has none.
 * Each checks what glibc's checks (the destination's size) and aborts
 * the same way on an overflow. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...);
int __snprintf_chk(char *s, size_t n, int flag, size_t slen, const char *fmt, ...);
void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen);

int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	/* (size_t)-1: the compiler did not know the size */
	int r = slen > INT_MAX ? vsprintf(s, fmt, ap) : vsnprintf(s, slen, fmt, ap);
	va_end(ap);
	if (r >= 0 && (size_t)r >= slen)
		abort();
	return r;
}

int __snprintf_chk(char *s, size_t n, int flag, size_t slen, const char *fmt, ...)
{
	if (n > slen)
		abort();
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(s, n > INT_MAX ? INT_MAX : n, fmt, ap);
	va_end(ap);
	return r;
}

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
	if (n > dstlen)
		abort();
	return memcpy(dst, src, n);
}
