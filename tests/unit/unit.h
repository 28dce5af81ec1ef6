/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * unit.h - the one runner every C unit test uses.
 *
 * A test file lists its cases in a `static const struct unit_case
 * tests[]` table, each returning 1 for pass and 0 for fail, and ends
 * with UNIT_MAIN("suite").  The last line printed is the closing line
 * CI reads: "<suite>: N passed, M failed".
 */
#ifndef LIXS_UNIT_H
#define LIXS_UNIT_H

#include <stddef.h>
#include <stdio.h>

struct unit_case {
	const char *name;
	int (*fn)(void);
};

static inline int unit_run(const char *suite, const struct unit_case *cases, size_t n)
{
	int passed = 0, failed = 0;

	for (size_t i = 0; i < n; i++) {
		int ok = cases[i].fn();

		printf("%s %s\n", ok ? "ok  " : "FAIL", cases[i].name);
		if (ok)
			passed++;
		else
			failed++;
	}
	printf("%s: %d passed, %d failed\n", suite, passed, failed);
	return failed ? 1 : 0;
}

#define UNIT_MAIN(suite)                                                       \
	int main(void)                                                         \
	{                                                                      \
		return unit_run(suite, tests, sizeof(tests) / sizeof(tests[0])); \
	}

#endif
