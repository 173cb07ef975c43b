/* Diagnostics of template checking: every error and warning, each with
 * FILE:LINE:COL, so `nscell check` can print them all at once. */
#ifndef NSCELL_DIAG_H
#define NSCELL_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct diag {
	char *file;
	unsigned line, col;
	bool warning;
	char *msg;
};

struct diags {
	struct diag *v;
	size_t n, cap;
	size_t nerrors, nwarnings;
};

void diags_init(struct diags *d);
void diags_free(struct diags *d);
/* Record an error (warning=false) or a warning. file may be NULL ("built-in"). */
void diags_add(struct diags *d, bool warning, const char *file, unsigned line, unsigned col,
	       const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* "FILE:LINE:COL: error: message" one per line */
void diags_print(const struct diags *d, FILE *out);
/* The first error as one line, for callers that stop at the first (NULL if none). */
const struct diag *diags_first_error(const struct diags *d);

#endif
