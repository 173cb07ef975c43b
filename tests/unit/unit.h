/* Shared main for the Check unit tests: results as TAP on stdout, so the
 * automake TAP driver counts every test case. */
#ifndef NSCELL_UNIT_H
#define NSCELL_UNIT_H

#include <check.h>
#include <stdlib.h>

#define UNIT_MAIN(make_suite)                                              \
	int main(void)                                                     \
	{                                                                  \
		SRunner *sr = srunner_create(make_suite());                \
		srunner_set_tap(sr, "-");                                  \
		srunner_run_all(sr, CK_SILENT);                            \
		int failed = srunner_ntests_failed(sr);                    \
		srunner_free(sr);                                          \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;               \
	}

#endif
