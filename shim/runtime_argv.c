/* Which command lines are the OCI runtime's (shim/runtime*.c, the
 * nscell-runtime program): nscell-shim hands those over to it, so that
 * the template launch, the web server's hot path, links no JSON parser. */
#include <stdbool.h>
#include <string.h>

#include "shim/runtime.h"

const char *const rt_commands[] = { "run", "create", "start", "state", "kill", "delete",
				    "list", "ps", NULL };
/* runc's global options that take a value / take none */
static const char *const global_value[] = { "--root", "--log", "--log-format", "--criu",
					    "--rootless", NULL };
static const char *const global_flag[] = { "--debug", "--systemd-cgroup", NULL };

static bool in_list(const char *const *l, const char *s, bool prefix_eq)
{
	for (; *l; l++) {
		size_t n = strlen(*l);
		if (strcmp(*l, s) == 0 || (prefix_eq && strncmp(*l, s, n) == 0 && s[n] == '='))
			return true;
	}
	return false;
}

bool shim_runtime_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (in_list(rt_commands, argv[i], false))
			return true;
		if (in_list(global_flag, argv[i], false) || in_list(global_value, argv[i], true))
			i += strchr(argv[i], '=') || in_list(global_flag, argv[i], false) ? 0 : 1;
		else
			return false;
	}
	return false;
}
