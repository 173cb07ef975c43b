/* nscell-probe: what this process sees, as raw facts on stdout (see
 * collect.h).  Statically linked, so it runs in any sandbox whatever that
 * sandbox holds; `nscell probe --raw` formats its output, `nscell diff`
 * runs it under runc and under the shim.
 *
 * usage: nscell-probe [PATH...]   (paths probed besides the fixed set) */
#include <stdio.h>
#include <string.h>

#include "probe/collect.h"

int main(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs("usage: nscell-probe [PATH...]\n"
		      "Print what this process sees (ids, capabilities, namespaces, mounts,\n"
		      "the given paths and more) as raw facts for `nscell probe --raw`.\n", stdout);
		return 0;
	}
	return probe_collect(stdout, argv + 1) < 0 ? 2 : 0;
}
