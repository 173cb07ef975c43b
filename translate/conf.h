/* nscell.conf: the web server's settings, mirrored.
 *
 *   # comment
 *   template = server.tpl          # server template, relative to this file
 *   state_dir = /run/nscell
 *   tmp_dir = $HOMEDIR/.nscell      # base of disk-backed tmp dirs
 *   persist = no
 *   cgroup_parent = nscell
 *   memory_max = 512M
 *   pids_max = 256
 *   cpu_max = 50000 100000           # quota period, microseconds
 *   hostexec = /usr/sbin/sendmail    # host programs relayed (as PATH,hostexec)
 *   hostexec_dir = /run/nscell-hostexec   # the listener's socket directory
 *   hostexec_client = /usr/local/libexec/nscell/nscell-hostexec
 *   user_database = auto | nss | files  # where users come from (identity.h)
 *   plan_cache = yes                 # keep resolved plans in STATE/plans (plan_cache.h)
 *   [vhost example.com]
 *   mode = on | off | inherit
 *   template = example.tpl
 *
 * A value may be quoted ("..." or '...').  `#` begins a comment at the
 * start of a line or after a blank.  Sizes take K, M, G, T (powers of
 * 1024); "max" means no limit.  cpu_max's period defaults to 100000.  An
 * unknown key, section or value is an error with FILE:LINE:COL; a key set
 * twice is a warning (the last one counts).  NSCELL_STATE_DIR in the
 * environment overrides state_dir.
 */
#ifndef NSCELL_CONF_H
#define NSCELL_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "identity.h"
#include "plan.h"

enum conf_vhost_mode { CONF_VHOST_INHERIT, CONF_VHOST_OFF, CONF_VHOST_ON };

struct conf_vhost {
	char *name;
	enum conf_vhost_mode mode;
	char *template; /* absolute (resolved against the conf's directory) or NULL */
	unsigned line;
};

/* conf_init zeroes the structure (it allocates nothing); conf_load fills in
 * the defaults, so after it every string below except the templates is set. */
struct nscell_conf {
	char *file;            /* NULL when no file was read */
	char *server_template; /* absolute or NULL (built-in default) */
	char *state_dir;       /* default /run/nscell */
	char *tmp_dir;         /* pattern, default $HOMEDIR/.nscell */
	bool persist;
	struct plan_cgroup cgroup;
	char *hostexec;        /* `hostexec =`: absolute paths separated by blanks, or NULL */
	unsigned hostexec_line, hostexec_col;
	char *hostexec_dir;    /* absolute or NULL (HX_SOCKET_DIR) */
	char *hostexec_client; /* absolute or NULL (the installed client) */
	enum identity_db user_database;
	bool plan_cache_off;   /* plan_cache = no */
	struct conf_vhost *vhosts;
	size_t nvhosts;
	bool loaded;           /* conf_load ran (even if no file was there) */
};

#ifndef NSCELL_DEFAULT_CONF
#define NSCELL_DEFAULT_CONF "/etc/nscell/nscell.conf"
#endif

void conf_init(struct nscell_conf *c);
void conf_free(struct nscell_conf *c);
/* Read path (NULL: NSCELL_DEFAULT_CONF); a missing file is fine when
 * !must_exist (defaults stay).
 * Errors go to d with FILE:LINE:COL.  Returns -1 on any error. */
int conf_load(struct nscell_conf *c, const char *path, bool must_exist, struct diags *d);
const struct conf_vhost *conf_find_vhost(const struct nscell_conf *c, const char *name);
/* "512M", "1G", "4096" → bytes; -1 when malformed */
int64_t conf_parse_size(const char *s);

#endif
