/* nscell-runtime: nscell's OCI runtime, runc's command line (run -b,
 * create, start, state, kill, delete, list; shim/runtime*.c, bundle.c).
 * A program of its own so that nscell-shim, which hands such command
 * lines over to it, links no JSON parser: a template launch, the web
 * server's hot path, stays as small as it was.  It looks no user up (a
 * config names numeric ids), so it is linked
 * statically when the shim is (configure). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "shim/runtime.h"

int main(int argc, char **argv)
{
	struct plan plan;
	memset(&plan, 0, sizeof plan);
	/* every bundle the reader takes carries the TIOCSTI filter (linux.seccomp) */
	struct shim s = { .plan = &plan, .err_fd = -1, .status_fd = -1, .keeper_fd = -1, .commit_fd = -1,
			  .bundle_seccomp = true };
	shim_log_start();
	/* as nscell-shim: root runs it, or a user for itself */
	if (getauxval(AT_SECURE) || getuid() != geteuid() || getgid() != getegid()) {
		fputs("nscell-shim: refusing to run setuid, setgid or with file capabilities\n", stderr);
		return NSCELL_EXIT_USAGE;
	}
	s.verbose = shim_debug_requested();
	int status = shim_runtime_main(argc, argv, &s);
	free(s.keep_fds);
	plan_free(&plan);
	return status;
}
