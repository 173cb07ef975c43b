/* The template lexer: the bytes of a template.  Reading the file, then,
 * line by line, quotes, separators, comments, and the column of every token
 * so that each diagnostic can point at the byte it is about.  What the
 * words mean is translate/template.c's business. */
#include "lexer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

#define TPL_MAX_FILE (16u << 20)

int tpl_read_file(const char *path, char **bufp, size_t *lenp, struct diags *d)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		diags_add(d, false, path, 0, 0, "cannot read template: %s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > TPL_MAX_FILE) {
		diags_add(d, false, path, 0, 0, "cannot read template: %s",
			  S_ISREG(st.st_mode) ? "larger than 16 MiB" : "not a regular file");
		return -1;
	}
	size_t size = (size_t)st.st_size, len = 0;
	_cleanup_free_ char *buf = malloc(size + 1);
	if (!buf) {
		diags_add(d, false, path, 0, 0, "cannot read template: out of memory");
		return -1;
	}
	while (len < size) {
		ssize_t r = read(fd, buf + len, size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			diags_add(d, false, path, 0, 0, "cannot read template: %s", strerror(errno));
			return -1;
		}
		if (r == 0)
			break; /* shrank while reading: parse what is there */
		len += (size_t)r;
	}
	*bufp = NSCELL_TAKE(buf);
	*lenp = len;
	return 0;
}

static bool is_sep(char c)
{
	return c == ' ' || c == '\t' || c == ',' || c == '\r' || c == '\v' || c == '\f';
}

unsigned tpl_tok_col(const struct tpl_token *k, size_t off)
{
	if (k->qlen == SIZE_MAX)
		return k->col + (unsigned)off;
	return k->col + (unsigned)off + (off < k->qlen || off == 0 ? 1 : 2);
}

bool tpl_tok_quoted(const struct tpl_token *k)
{
	return k->qlen != SIZE_MAX;
}

static int push_token(struct tpl_tokens *tk, const char *s, size_t len, unsigned col,
		      size_t qlen)
{
	if (tk->n == tk->cap) {
		size_t cap = tk->cap ? tk->cap * 2 : 8;
		struct tpl_token *v = realloc(tk->v, cap * sizeof *v);
		if (!v)
			return -1;
		tk->v = v;
		tk->cap = cap;
	}
	char *c = strndup(s, len);
	if (!c)
		return -1;
	tk->v[tk->n++] = (struct tpl_token){ c, col, qlen };
	return 0;
}

void tpl_tokens_clear(struct tpl_tokens *tk)
{
	for (size_t i = 0; i < tk->n; i++)
		free(tk->v[i].s);
	tk->n = 0;
}

void tpl_tokens_free(struct tpl_tokens *tk)
{
	tpl_tokens_clear(tk);
	free(tk->v);
	tk->v = NULL;
	tk->cap = 0;
}

int tpl_lex_line(struct tpl_tokens *tk, const char *s, size_t len, struct diags *d,
		 const char *file, unsigned lineno)
{
	/* a NUL would silently cut a token short (and a binary file is no template) */
	const char *nul = memchr(s, '\0', len);
	if (nul) {
		diags_add(d, false, file, lineno, (unsigned)(nul - s) + 1, "NUL byte in the line");
		return -1;
	}
	size_t i = 0;
	char *buf = malloc(len + 1);
	if (!buf) {
		diags_add(d, false, file, lineno, 1, "out of memory");
		return -1;
	}
	while (i < len) {
		if (is_sep(s[i])) {
			i++;
			continue;
		}
		if (s[i] == '#')
			break; /* a comment: at the start of a line or of a token */
		unsigned col = (unsigned)i + 1;
		size_t n = 0, qlen = SIZE_MAX;
		if (s[i] == '"' || s[i] == '\'') {
			const char *close = memchr(s + i + 1, s[i], len - i - 1);
			if (!close) {
				diags_add(d, false, file, lineno, col, "unbalanced quote %c", s[i]);
				free(buf);
				return -1;
			}
			qlen = (size_t)(close - (s + i + 1));
			memcpy(buf, s + i + 1, qlen);
			n = qlen;
			i = (size_t)(close - s) + 1;
		}
		while (i < len && !is_sep(s[i]))
			buf[n++] = s[i++];
		if (push_token(tk, buf, n, col, qlen) < 0) {
			diags_add(d, false, file, lineno, col, "out of memory");
			free(buf);
			return -1;
		}
	}
	free(buf);
	return 0;
}
