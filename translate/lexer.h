/* The template lexer: the bytes of a template file, and one line of it
 * into tokens with columns.
 *
 * Tokens are separated by blanks (space, tab, CR, VT, FF) or commas.  A
 * token opened by a quote (" or ') runs to the matching quote, the quotes
 * are dropped, and what follows the closing quote up to the next separator
 * belongs to the same token; a quote later in a token is an ordinary
 * character (as in LiteSpeed).  `#` at the start of a token begins a
 * comment that runs to the end of the line; inside a token it is part of it.
 * Columns count bytes from 1.  The line grammar is translate/template.c. */
#ifndef NSCELL_LEXER_H
#define NSCELL_LEXER_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

struct tpl_token {
	char *s;        /* the text, quotes dropped */
	unsigned col;   /* of the token's first character (an opening quote included) */
	size_t qlen;    /* length of the quoted part, or SIZE_MAX when not quoted */
};

/* The tokens of one line; reused from line to line. */
struct tpl_tokens {
	struct tpl_token *v;
	size_t n, cap;
};

/* Read a whole template file (a regular file of at most 16 MiB) into a
 * malloc'd *buf of *len bytes, not NUL-terminated.  On failure records one
 * error in d naming the file (line 0) and returns -1. */
int tpl_read_file(const char *path, char **buf, size_t *len, struct diags *d);

/* Append the tokens of s[0..len) (one line, no '\n') to tk.  On an
 * unbalanced quote, a NUL byte or no memory, records one error in d at
 * FILE:LINENO:COL and returns -1; tokens already appended stay in tk.
 * A blank or comment line appends nothing and returns 0. */
int tpl_lex_line(struct tpl_tokens *tk, const char *s, size_t len, struct diags *d,
		 const char *file, unsigned lineno);
/* Drop the tokens, keep the storage for the next line. */
void tpl_tokens_clear(struct tpl_tokens *tk);
void tpl_tokens_free(struct tpl_tokens *tk);

/* Column in the line of byte off of a token's text (the quotes are not in
 * the text, so a byte after the quoted part is two columns further on). */
unsigned tpl_tok_col(const struct tpl_token *k, size_t off);
/* A quoted token is always a path, never a command or a special word. */
bool tpl_tok_quoted(const struct tpl_token *k);

#endif
