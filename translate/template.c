/* The template language: one line at a time, lexed into tokens
 * (translate/lexer.c), then matched against the line grammar here.  Nothing
 * here knows the user: symbols stay as written, only their names are
 * checked. */
#include "template.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "lexer.h"

#define HOSTNAME_MAX 64

/* How a command takes its paths. */
enum tpl_args { ARGS_BIND, ARGS_ONE, ARGS_TMP, ARGS_SYMLINK, ARGS_NAME, ARGS_NONE, ARGS_SPECIAL };

static const struct {
	const char *name;
	enum tpl_args args;
} cmds[TPL_NCMDS] = {
	[TPL_BIND] = { "bind", ARGS_BIND },
	[TPL_BIND_TRY] = { "bind-try", ARGS_BIND },
	[TPL_RO_BIND] = { "ro-bind", ARGS_BIND },
	[TPL_RO_BIND_TRY] = { "ro-bind-try", ARGS_BIND },
	[TPL_DEV_BIND] = { "dev-bind", ARGS_BIND },
	[TPL_DEV_BIND_TRY] = { "dev-bind-try", ARGS_BIND },
	[TPL_COPY] = { "copy", ARGS_BIND },
	[TPL_COPY_TRY] = { "copy-try", ARGS_BIND },
	[TPL_DEV] = { "dev", ARGS_ONE },
	[TPL_DIR] = { "dir", ARGS_ONE },
	[TPL_HOSTNAME] = { "hostname", ARGS_NAME },
	[TPL_MQUEUE] = { "mqueue", ARGS_ONE },
	[TPL_PROC] = { "proc", ARGS_ONE },
	[TPL_REMOUNT_RO] = { "remount-ro", ARGS_ONE },
	[TPL_SYMLINK] = { "symlink", ARGS_SYMLINK },
	[TPL_TMP] = { "tmp", ARGS_TMP },
	[TPL_TMPFS] = { "tmpfs", ARGS_ONE },
	[TPL_HOSTEXEC] = { "hostexec", ARGS_ONE },
	[TPL_NO_UNSHARE_USER] = { "no-unshare-user", ARGS_NONE },
	[TPL_PASSWD] = { "$PASSWD", ARGS_SPECIAL },
	[TPL_GROUP] = { "$GROUP", ARGS_SPECIAL },
	[TPL_EXCLUDE] = { "!", ARGS_SPECIAL },
};

/* bubblewrap options that nscell does anyway, or that make no sense for it:
 * accepted so that bwrap-style templates keep working. */
static const char *const noop_words[] = {
	"unshare-all", "unshare-user", "unshare-user-try", "unshare-pid", "unshare-ipc",
	"unshare-uts", "unshare-net", "unshare-cgroup", "unshare-cgroup-try", "share-net",
	"die-with-parent", "cap-drop", "new-session",
};

/* bubblewrap options that would contradict what nscell decides itself. */
static const struct {
	const char *name, *what;
} identity_words[] = {
	{ "uid", "the uid (the user named with -u)" },
	{ "gid", "the gid (the user's primary group)" },
	{ "chdir", "the working directory (-d, else the home)" },
	{ "setenv", "the environment" },
	{ "unsetenv", "the environment" },
	{ "as-pid-1", "pid 1 (its own init reaps the sandbox's processes)" },
	{ "cap-add", "the capabilities (none for the user's process)" },
};

static const char *const symbols[] = { "UID", "GID", "USER", "GROUP", "HOMEDIR" };

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))

const char *tpl_cmd_name(enum tpl_cmd cmd)
{
	if ((unsigned)cmd < TPL_NCMDS)
		return cmds[cmd].name;
	return "?";
}

bool tpl_cmd_is_bind(enum tpl_cmd cmd)
{
	return cmd <= TPL_DEV_BIND_TRY;
}

void tpl_init(struct tpl *t)
{
	memset(t, 0, sizeof *t);
}

static void entry_free(struct tpl_entry *e)
{
	free(e->src);
	free(e->dst);
	for (size_t i = 0; e->names && e->names[i]; i++)
		free(e->names[i]);
	free(e->names);
	free(e->name_cols);
}

void tpl_free(struct tpl *t)
{
	for (size_t i = 0; i < t->n; i++)
		entry_free(&t->v[i]);
	free(t->v);
	free(t->file);
	free(t->dir);
	memset(t, 0, sizeof *t);
}

/* ---- one line ---- */

struct line {
	struct tpl *t;
	struct diags *d;
	unsigned lineno;
	struct tpl_tokens tk;
	bool failed;
};

static void line_error(struct line *l, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void line_error(struct line *l, unsigned col, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diags_add(l->d, false, l->t->file, l->lineno, col, "%s", msg);
	l->failed = true;
}

#define line_warn(l, col, ...) diags_add((l)->d, true, (l)->t->file, (l)->lineno, (col), __VA_ARGS__)

/* ---- words ---- */

enum word { W_PATH, W_CMD, W_NOOP, W_IDENTITY };

static enum word classify(const struct tpl_token *k, enum tpl_cmd *cmd, const char **what)
{
	if (tpl_tok_quoted(k))
		return W_PATH; /* a quoted word is always a path */
	for (int c = 0; c <= TPL_NO_UNSHARE_USER; c++) {
		if (strcmp(k->s, cmds[c].name) == 0) {
			*cmd = (enum tpl_cmd)c;
			return W_CMD;
		}
	}
	for (size_t i = 0; i < N_ELEMS(noop_words); i++)
		if (strcmp(k->s, noop_words[i]) == 0)
			return W_NOOP;
	for (size_t i = 0; i < N_ELEMS(identity_words); i++) {
		if (strcmp(k->s, identity_words[i].name) == 0) {
			*what = identity_words[i].what;
			return W_IDENTITY;
		}
	}
	return W_PATH;
}

/* Levenshtein distance with transpositions (optimal string alignment):
 * "tmfps" is one step from "tmpfs". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 32 || lb > 32)
		return 99;
	size_t m[33][33];
	for (size_t i = 0; i <= la; i++)
		m[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		m[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t best = m[i - 1][j - 1] + (tolower(a[i - 1]) != tolower(b[j - 1]));
			if (m[i - 1][j] + 1 < best)
				best = m[i - 1][j] + 1;
			if (m[i][j - 1] + 1 < best)
				best = m[i][j - 1] + 1;
			if (i > 1 && j > 1 && tolower(a[i - 1]) == tolower(b[j - 2]) &&
			    tolower(a[i - 2]) == tolower(b[j - 1]) &&
			    m[i - 2][j - 2] + 1 < best)
				best = m[i - 2][j - 2] + 1;
			m[i][j] = best;
		}
	}
	return m[la][lb];
}

/* The closest command name, or NULL when none is close. */
static const char *did_you_mean(const char *word)
{
	const char *best = NULL;
	size_t best_d = 3;
	for (int c = 0; c <= TPL_NO_UNSHARE_USER; c++) {
		size_t dist = edit_distance(word, cmds[c].name);
		if (dist < best_d && dist < strlen(word)) {
			best = cmds[c].name;
			best_d = dist;
		}
	}
	return best;
}

static void unknown_command(struct line *l, const struct tpl_token *k)
{
	const char *near = did_you_mean(k->s);
	if (near)
		line_error(l, k->col, "unknown command '%s' (did you mean '%s'?)", k->s, near);
	else
		line_error(l, k->col, "unknown command '%s'", k->s);
}

/* ---- paths ---- */

enum role { R_SOURCE, R_DEST, R_TARGET, R_EXCLUDE, R_NAME };

/* Symbol names are checked here so that `nscell check` sees them without a user. */
static bool check_symbols(struct line *l, const struct tpl_token *k, size_t from)
{
	const char *s = k->s;
	for (size_t i = from; s[i]; i++) {
		if (s[i] != '$')
			continue;
		size_t n = 0;
		while (s[i + 1 + n] == '_' || (s[i + 1 + n] >= 'A' && s[i + 1 + n] <= 'Z') ||
		       (s[i + 1 + n] >= 'a' && s[i + 1 + n] <= 'z') ||
		       (s[i + 1 + n] >= '0' && s[i + 1 + n] <= '9'))
			n++;
		if (n == 0)
			continue; /* a lone '$' is an ordinary character */
		bool known = false;
		for (size_t j = 0; j < N_ELEMS(symbols); j++)
			if (strlen(symbols[j]) == n && memcmp(symbols[j], s + i + 1, n) == 0)
				known = true;
		if (!known) {
			if (n == 6 && memcmp(s + i + 1, "PASSWD", 6) == 0)
				line_error(l, tpl_tok_col(k, i),
					   "'$PASSWD' is only valid as the first word of a line");
			else
				line_error(l, tpl_tok_col(k, i), "unknown symbol '$%.*s'", (int)n,
					   s + i + 1);
			return false;
		}
		i += n;
	}
	return true;
}

static bool has_dotdot(const char *s)
{
	for (const char *p = s; (p = strstr(p, "..")); p += 2)
		if ((p == s || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return true;
	return false;
}

/* Checks that need no user; from is where the path starts in the token. */
static bool check_path(struct line *l, const struct tpl_token *k, size_t from, enum role role)
{
	const char *s = k->s + from;
	if (!*s) {
		line_error(l, tpl_tok_col(k, from), "empty %s", role == R_NAME ? "name" : "path");
		return false;
	}
	if (!check_symbols(l, k, from))
		return false;
	if (role == R_SOURCE && s[0] != '/' && s[0] != '$') {
		line_error(l, tpl_tok_col(k, from), "relative source '%s' (sources are host paths)", s);
		return false;
	}
	if ((role == R_SOURCE || role == R_DEST || role == R_EXCLUDE) && has_dotdot(s)) {
		line_error(l, tpl_tok_col(k, from), "'..' in path '%s' (paths are taken literally)", s);
		return false;
	}
	if (role == R_NAME && !strchr(s, '$') && strlen(s) > HOSTNAME_MAX) {
		line_error(l, tpl_tok_col(k, from), "hostname '%s' is longer than %d characters", s,
			   HOSTNAME_MAX);
		return false;
	}
	return true;
}

/* ---- entries ---- */

static struct tpl_entry *add_entry(struct line *l, enum tpl_cmd cmd)
{
	struct tpl *t = l->t;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		struct tpl_entry *v = realloc(t->v, cap * sizeof *v);
		if (!v) {
			line_error(l, 1, "out of memory");
			return NULL;
		}
		t->v = v;
		t->cap = cap;
	}
	struct tpl_entry *e = &t->v[t->n++];
	memset(e, 0, sizeof *e);
	e->cmd = cmd;
	e->file = t->file;
	e->line = l->lineno;
	e->col = l->tk.v[0].col;
	return e;
}

/* Take a token's text (from offset from) into *dst. */
static int take(struct line *l, struct tpl_token *k, size_t from, char **dst, unsigned *col)
{
	if (from) {
		*dst = strdup(k->s + from);
		if (!*dst) {
			line_error(l, k->col, "out of memory");
			return -1;
		}
	} else {
		*dst = NSCELL_TAKE(k->s);
	}
	*col = tpl_tok_col(k, from);
	return 0;
}

/* `!PATH` (or `! PATH`) below the preceding bind. */
static void parse_exclude(struct line *l, bool after_bind)
{
	struct tpl_token *k = &l->tk.v[0];
	size_t from = 1, next = 1;
	if (!k->s[1] && l->tk.n > 1) {
		k = &l->tk.v[1];
		from = 0;
		next = 2;
	}
	if (next < l->tk.n) {
		line_error(l, l->tk.v[next].col, "unexpected '%s' after the path", l->tk.v[next].s);
		return;
	}
	if (!k->s[from]) {
		line_error(l, l->tk.v[0].col, "'!' needs a path");
		return;
	}
	if (!after_bind) {
		line_error(l, l->tk.v[0].col, "'!' with no preceding bind");
		return;
	}
	if (!check_path(l, k, from, R_EXCLUDE))
		return;
	struct tpl_entry *e = add_entry(l, TPL_EXCLUDE);
	if (e && take(l, k, from, &e->dst, &e->dst_col) < 0)
		l->t->n--;
}

/* `$PASSWD [DEST] [NAME...]` and `$GROUP ...` */
static void parse_generated(struct line *l, enum tpl_cmd cmd)
{
	struct tpl_token *dest = NULL;
	size_t nnames = 0;
	for (size_t i = 1; i < l->tk.n; i++) {
		struct tpl_token *k = &l->tk.v[i];
		enum tpl_cmd c;
		const char *what;
		if (k->s[0] == '/') {
			if (dest) {
				line_error(l, k->col, "unexpected '%s': '%s' takes one destination",
					   k->s, cmds[cmd].name);
				return;
			}
			if (!check_path(l, k, 0, R_DEST))
				return;
			dest = k;
		} else if (classify(k, &c, &what) != W_PATH) {
			line_error(l, k->col, "'%s' takes no command (got '%s')", cmds[cmd].name,
				   k->s);
			return;
		} else if (!k->s[0] || strchr(k->s, ':') || strchr(k->s, '$')) {
			line_error(l, k->col, "invalid %s name '%s'",
				   cmd == TPL_PASSWD ? "user" : "group", k->s);
			return;
		} else {
			nnames++;
		}
	}
	struct tpl_entry *e = add_entry(l, cmd);
	if (!e)
		return;
	if (nnames) {
		e->names = calloc(nnames + 1, sizeof *e->names);
		e->name_cols = calloc(nnames, sizeof *e->name_cols);
		if (!e->names || !e->name_cols)
			goto oom;
	}
	size_t j = 0;
	for (size_t i = 1; i < l->tk.n; i++) {
		struct tpl_token *k = &l->tk.v[i];
		if (k == dest) {
			e->dst = NSCELL_TAKE(k->s);
			e->dst_col = k->col;
		} else {
			e->name_cols[j] = k->col;
			e->names[j++] = NSCELL_TAKE(k->s);
		}
	}
	return;
oom:
	line_error(l, l->tk.v[0].col, "out of memory");
	entry_free(e);
	l->t->n--;
}

/* paths[0..npaths) come before the command token cmdk. */
static void parse_command(struct line *l, enum tpl_cmd cmd, size_t npaths)
{
	struct tpl_token *a = npaths > 0 ? &l->tk.v[0] : NULL;
	struct tpl_token *b = npaths > 1 ? &l->tk.v[1] : NULL;
	const char *name = cmds[cmd].name;
	struct tpl_token *src = NULL, *dst = NULL;
	enum role src_role = R_SOURCE;

	if (npaths == 0 && cmds[cmd].args != ARGS_NONE) {
		line_error(l, l->tk.v[0].col, "'%s' needs a %s", name,
			   cmd == TPL_HOSTNAME ? "name" : "path");
		return;
	}
	switch (cmds[cmd].args) {
	case ARGS_NONE:
		if (npaths) {
			line_error(l, a->col, "'%s' takes no path", name);
			return;
		}
		break;
	case ARGS_BIND:
		src = a;
		dst = b;
		break;
	case ARGS_TMP:
		src = b ? a : NULL;
		dst = b ? b : a;
		break;
	case ARGS_SYMLINK:
		if (!b) {
			line_error(l, a->col,
				   "'symlink' needs a target and a link path (TARGET LINKPATH,symlink)");
			return;
		}
		src = a;
		src_role = R_TARGET;
		dst = b;
		break;
	case ARGS_ONE:
	case ARGS_NAME:
		if (b)
			line_warn(l, a->col, "'%s' takes one %s: SOURCE '%s' is ignored", name,
				  cmd == TPL_HOSTNAME ? "name" : "path", a->s);
		if (cmd == TPL_HOSTNAME) {
			src = b ? b : a;
			src_role = R_NAME;
		} else {
			dst = b ? b : a;
		}
		break;
	case ARGS_SPECIAL:
		return;
	}
	if (src && !check_path(l, src, 0, src_role))
		return;
	if (dst && !check_path(l, dst, 0, R_DEST))
		return;
	struct tpl_entry *e = add_entry(l, cmd);
	if (!e)
		return;
	if (src)
		take(l, src, 0, &e->src, &e->src_col);
	if (dst)
		take(l, dst, 0, &e->dst, &e->dst_col);
}

/* The line grammar, on tokens already split: decide where the command is. */
static void parse_tokens(struct line *l, bool after_bind)
{
	struct tpl_token *t = l->tk.v;
	size_t n = l->tk.n;
	enum tpl_cmd cmd;
	const char *what = NULL;

	if (t[0].s[0] == '!' && !tpl_tok_quoted(&t[0])) {
		parse_exclude(l, after_bind);
		return;
	}
	if (!tpl_tok_quoted(&t[0]) && strcmp(t[0].s, "$PASSWD") == 0) {
		parse_generated(l, TPL_PASSWD);
		return;
	}
	if (!tpl_tok_quoted(&t[0]) && strcmp(t[0].s, "$GROUP") == 0) {
		parse_generated(l, TPL_GROUP);
		return;
	}

	/* a command first (bubblewrap's order) is a mistake worth naming */
	enum word first = classify(&t[0], &cmd, &what);
	if (first == W_CMD && n > 1 && cmd != TPL_NO_UNSHARE_USER) {
		line_error(l, t[0].col, "'%s' goes after the paths: write PATH,%s", t[0].s,
			   t[0].s);
		return;
	}
	if (first == W_IDENTITY && n > 1) {
		line_error(l, t[0].col, "'%s' is not allowed in a template: nscell defines %s",
			   t[0].s, what);
		return;
	}

	size_t last = n - 1;
	enum word w = classify(&t[last], &cmd, &what);
	if (w == W_PATH || n > 3) {
		/* a command before the last word: something follows it */
		for (size_t i = 0; i + 1 < n; i++) {
			enum tpl_cmd c2;
			const char *w2;
			if (classify(&t[i], &c2, &w2) != W_PATH) {
				line_error(l, t[i + 1].col, "unexpected '%s' after the command",
					   t[i + 1].s);
				return;
			}
		}
		if (n > 3 && w != W_PATH) {
			line_error(l, t[2].col,
				   "unexpected '%s' (an entry is SOURCE [DEST],COMMAND)", t[2].s);
			return;
		}
		if (n == 1 || n == 2) {
			if (n == 2 && !strchr(t[1].s, '/') && !tpl_tok_quoted(&t[1])) {
				const char *near = did_you_mean(t[1].s);
				if (near)
					line_warn(l, t[1].col,
						  "'%s' is taken as a destination (did you mean '%s'?)",
						  t[1].s, near);
			}
			parse_command(l, TPL_RO_BIND_TRY, n);
			return;
		}
		unknown_command(l, &t[2]);
		return;
	}
	if (w == W_NOOP) {
		line_warn(l, t[last].col, "'%s' is a bubblewrap option with no effect in nscell (ignored)",
			  t[last].s);
		return;
	}
	if (w == W_IDENTITY) {
		line_error(l, t[last].col, "'%s' is not allowed in a template: nscell defines %s",
			   t[last].s, what);
		return;
	}
	parse_command(l, cmd, last);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int tpl_parse_buffer(struct tpl *t, const char *name, const char *buf, size_t len,
		     struct diags *d)
{
	size_t errors = d->nerrors;
	if (!t->file) {
		t->file = strdup(name ? name : "built-in");
		if (!t->builtin && name)
			t->dir = dir_of(name);
		if (!t->file || (!t->builtin && name && !t->dir)) {
			diags_add(d, false, name, 0, 0, "out of memory");
			return -1;
		}
	}
	struct line l = { .t = t, .d = d };
	/* state for `!` lines: they belong to the bind on the line before them */
	bool after_bind = false, after_error = false;
	size_t pos = 0;
	while (pos < len) {
		const char *s = buf + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		pos += n + 1;
		l.lineno++;
		l.failed = false;
		if (tpl_lex_line(&l.tk, s, n, d, t->file, l.lineno) < 0)
			l.failed = true;
		else if (l.tk.n == 0)
			continue; /* blank or comment: keeps the state */
		if (!l.failed && l.tk.v[0].s[0] == '!' && !tpl_tok_quoted(&l.tk.v[0])) {
			/* after a broken bind line the error is already there */
			if (!after_error)
				parse_tokens(&l, after_bind);
			tpl_tokens_clear(&l.tk);
			continue;
		}
		size_t before = t->n;
		if (!l.failed)
			parse_tokens(&l, after_bind);
		after_bind = !l.failed && t->n > before && tpl_cmd_is_bind(t->v[t->n - 1].cmd);
		after_error = l.failed;
		tpl_tokens_clear(&l.tk);
	}
	tpl_tokens_free(&l.tk);
	return d->nerrors > errors ? -1 : 0;
}

int tpl_parse_file(struct tpl *t, const char *path, struct diags *d)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (tpl_read_file(path, &buf, &len, d) < 0)
		return -1;
	return tpl_parse_buffer(t, path, buf, len, d);
}

int tpl_parse_default(struct tpl *t, struct diags *d)
{
	t->builtin = true;
	return tpl_parse_buffer(t, "built-in", nscell_default_template,
				strlen(nscell_default_template), d);
}
