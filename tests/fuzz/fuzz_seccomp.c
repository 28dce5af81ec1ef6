/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_seccomp.c - libFuzzer target for the seccomp profile parser
 * (seccomp/profile.c, profile_parse on a buffer; nothing is loaded).
 * An accepted profile must be within its bounds; a refused one must say
 * why in a NUL-terminated message that names the profile.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct profile p;
	char err[PROFILE_ERR_MAX];
	char *text;
	int ret;

	if (size > PROFILE_FILE_MAX)
		return 0;
	/* Exactly `size` bytes, no terminator: the parser must not need one. */
	text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	memset(err, 0x55, sizeof(err));
	ret = profile_parse("fuzz", text, size, &p, err);
	if (ret == 0) {
		FUZZ_ASSERT(p.n <= PROFILE_MAX_SYSCALLS);
		FUZZ_ASSERT(p.action == PROFILE_KILL || p.action == PROFILE_LOG ||
			    p.action == PROFILE_DENY);
		for (unsigned int i = 0; i < p.n; i++)
			FUZZ_ASSERT(p.err[i] >= 0 && p.err[i] < 4096 && p.line[i] >= 1);
	} else {
		FUZZ_ASSERT(ret == EINVAL);
		FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
		FUZZ_ASSERT(strncmp(err, "fuzz", 4) == 0);
	}
	free(text);
	return 0;
}
