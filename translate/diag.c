/* Diagnostics of template checking, kept in order of discovery. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diags_init(struct diags *d)
{
	memset(d, 0, sizeof *d);
}

void diags_free(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof *d);
}

void diags_add(struct diags *d, bool warning, const char *file, unsigned line, unsigned col,
	       const char *fmt, ...)
{
	if (warning)
		d->nwarnings++;
	else
		d->nerrors++;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct diag *v = realloc(d->v, cap * sizeof *v);
		if (!v)
			return; /* counted, not kept: the caller still sees the failure */
		d->v = v;
		d->cap = cap;
	}
	struct diag *g = &d->v[d->n];
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&g->msg, fmt, ap) < 0)
		g->msg = NULL;
	va_end(ap);
	g->file = file ? strdup(file) : NULL;
	g->line = line;
	g->col = col;
	g->warning = warning;
	d->n++;
}

static void diag_print(const struct diag *g, FILE *out)
{
	const char *file = g->file ? g->file : "built-in";
	const char *kind = g->warning ? "warning" : "error";
	const char *msg = g->msg ? g->msg : "(out of memory)";
	if (g->line && g->col)
		fprintf(out, "%s:%u:%u: %s: %s\n", file, g->line, g->col, kind, msg);
	else if (g->line)
		fprintf(out, "%s:%u: %s: %s\n", file, g->line, kind, msg);
	else
		fprintf(out, "%s: %s: %s\n", file, kind, msg);
}

void diags_print(const struct diags *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++)
		diag_print(&d->v[i], out);
}

const struct diag *diags_first_error(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (!d->v[i].warning)
			return &d->v[i];
	return NULL;
}
