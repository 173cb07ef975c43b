/* `nscell hostexec-daemon`: the listener on the host.
 *
 * daemon.c   the socket and the accept loop: one child per connection
 *            (a slow client holds only its own), reaped, at most
 *            HX_MAX_CHILDREN at a time; children die with the listener.
 * request.c  one connection: the peer's uid from SO_PEERCRED, the request
 *            read within bounds and a deadline, the program checked, run
 *            on the host as the user, its status sent back.
 * policy.c   what a uid may run (the hostexec programs of the plans the
 *            admin's templates and nscell.conf give that user) and the
 *            environment it gets. */
#ifndef NSCELL_HOSTEXEC_DAEMON_H
#define NSCELL_HOSTEXEC_DAEMON_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "translate/error.h"
#include "translate/plan.h"

#define HX_MAX_CHILDREN 512     /* relays at once; more wait in the backlog */
#define HX_REQUEST_TIMEOUT_S 10 /* to send a whole request */

struct hx_daemon {
	const char *conf_path; /* -C; NULL = the default nscell.conf */
	const char *socket;    /* --socket; NULL = hostexec_dir/hostexec.sock */
	bool foreground;       /* -f */
	bool verbose;          /* -v: one line per request on stderr */
	int listen_fd;
	char path[PATH_MAX];   /* the socket's path (unlinked at exit if we made it) */
	bool made_socket;
};

/* Listen and serve until SIGTERM or SIGINT.  Returns the exit status. */
int hx_daemon_run(struct hx_daemon *d);

/* request.c: serve one connection (in its own child); never returns. */
void __attribute__((noreturn)) hx_serve(const struct hx_daemon *d, int conn);

/* policy.c: 1 when uid may run program (*plan is then the plan that lists
 * it: identity, cgroup), 0 when not (*err says why, for the client), -1 on
 * an error.  *plan is always initialised; plan_free it. */
int hx_policy_check(const char *conf_path, uid_t uid, const char *program, struct plan *plan,
		    nscell_error_t *err);
/* The program's environment: env without what changes how programs,
 * loaders and interpreters behave (LD_*, GLIBC_TUNABLES, BASH_ENV, ...),
 * with PATH, HOME, USER, LOGNAME and SHELL of the host's.  NULL on ENOMEM. */
char **hx_policy_env(const struct plan_identity *id, char *const *env);
/* Whether one "NAME=value" entry is dropped. */
bool hx_policy_env_unsafe(const char *entry);

#endif
