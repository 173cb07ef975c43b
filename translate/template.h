/* The LiteSpeed "namespace containers" template language: lexing and parsing.
 *
 * Parsing turns a file into a list of entries, symbols still unexpanded;
 * translate/resolve.c expands them for one user and builds the plan.
 * Every problem goes into a struct diags with FILE:LINE:COL.
 *
 * A line is `SOURCE [DEST],COMMAND`: tokens separated by blanks or commas,
 * a token opened by a quote runs to the matching quote (the quotes are
 * dropped), `#` at the start of a token begins a comment.  What the parser
 * checks on its own (syntax, relative sources, "..", unknown symbols) never
 * reaches the resolver; what needs the user (symbol values, sources on
 * disk, exclusions against the expanded bind) is checked there. */
#ifndef NSCELL_TEMPLATE_H
#define NSCELL_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

enum tpl_cmd {
	TPL_BIND, TPL_BIND_TRY,
	TPL_RO_BIND, TPL_RO_BIND_TRY,
	TPL_DEV_BIND, TPL_DEV_BIND_TRY,
	TPL_COPY, TPL_COPY_TRY,
	TPL_DEV, TPL_DIR, TPL_HOSTNAME, TPL_MQUEUE, TPL_PROC,
	TPL_REMOUNT_RO, TPL_SYMLINK, TPL_TMP, TPL_TMPFS,
	TPL_HOSTEXEC,  /* PATH,hostexec: PATH runs on the host through the relay */
	TPL_NO_UNSHARE_USER,
	TPL_PASSWD,   /* $PASSWD [DEST] [names...]: generated /etc/passwd */
	TPL_GROUP,    /* $GROUP [DEST] [names...]: generated /etc/group */
	TPL_EXCLUDE,  /* !PATH below the preceding bind */
};
#define TPL_NCMDS (TPL_EXCLUDE + 1)

/* What src and dst hold, by command:
 *   binds, copies     src = SOURCE, dst = DEST or NULL (same as SOURCE)
 *   dev dir mqueue proc remount-ro tmpfs hostexec   src = NULL, dst = the path
 *   tmp               dst = DEST, src = backing dir or NULL (the default)
 *   symlink           src = TARGET (as written), dst = LINKPATH
 *   hostname          src = the name, dst = NULL
 *   $PASSWD $GROUP    dst = DEST or NULL (/etc/passwd, /etc/group), names
 *   !PATH             dst = PATH, src = NULL
 *   no-unshare-user   both NULL */
struct tpl_entry {
	enum tpl_cmd cmd;
	char *src;      /* as written (symbols unexpanded); NULL when the command takes none */
	char *dst;      /* as written; NULL means "same as src" for binds/copies */
	char **names;   /* $PASSWD/$GROUP extra names, NULL-terminated or NULL */
	unsigned *name_cols; /* column of each name */
	const char *file; /* points into struct tpl.file */
	unsigned line, col;       /* of the line's first token */
	unsigned src_col, dst_col;
};

struct tpl {
	char *file;  /* path as given, or "built-in" */
	char *dir;   /* directory of the file, for relative names; NULL for built-in */
	bool builtin; /* the compiled-in default: plan origins carry no file */
	struct tpl_entry *v;
	size_t n, cap;
};

void tpl_init(struct tpl *t);
void tpl_free(struct tpl *t);

/* Parse a whole buffer.  Errors and warnings go to d; entries with errors
 * are left out.  Returns 0 if no error was found, -1 otherwise.  One
 * struct tpl holds one file: entries point at its name. */
int tpl_parse_buffer(struct tpl *t, const char *name, const char *buf, size_t len,
		     struct diags *d);
/* Read and parse a file (an unreadable file is one error naming it). */
int tpl_parse_file(struct tpl *t, const char *path, struct diags *d);
/* The built-in default template (translate/default.tpl compiled in). */
int tpl_parse_default(struct tpl *t, struct diags *d);

/* "ro-bind-try", "$PASSWD", "!" ... */
const char *tpl_cmd_name(enum tpl_cmd cmd);
/* Binds of every kind (what a `!PATH` line may follow). */
bool tpl_cmd_is_bind(enum tpl_cmd cmd);

extern const char nscell_default_template[];

#endif
