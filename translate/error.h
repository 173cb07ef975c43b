/* Errors that carry their context up to the one place that prints them. */
#ifndef NSCELL_ERROR_H
#define NSCELL_ERROR_H

#include <stdarg.h>

/* Exit statuses of the CLI contract. */
enum {
	NSCELL_EXIT_OK = 0,
	NSCELL_EXIT_NOT_SO = 1,   /* the thing checked is not so: template errors, differences */
	NSCELL_EXIT_USAGE = 2,    /* usage or environment error */
};

typedef struct nscell_error {
	int errnum;     /* errno of the root cause, 0 when none */
	char msg[1024]; /* "bind /var/www: source missing (server.conf:12)" */
} nscell_error_t;

/* Record a message (printf-style) and an errno; returns -1 so callers can
 * `return nscell_error_set(err, ...)`. A NULL err is allowed. */
int nscell_error_set(nscell_error_t *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, appending ": strerror(errnum)". */
int nscell_error_errno(nscell_error_t *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix the existing message with context: "CONTEXT: old message". */
int nscell_error_wrap(nscell_error_t *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* cleanup helpers for __attribute__((cleanup)) */
void nscell_freep(void *p);
void nscell_closep(int *fd);
void nscell_fclosep(void *fp);
#define _cleanup_free_ __attribute__((cleanup(nscell_freep)))
#define _cleanup_close_ __attribute__((cleanup(nscell_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(nscell_fclosep)))

/* steal a pointer out of a cleanup variable */
#define NSCELL_TAKE(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })

#endif
