/* Shared helpers for the libFuzzer targets (tests/fuzz/fuzz_*.c). */
#ifndef FL_TESTS_FUZZ_H
#define FL_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* For readers that take a path: write the input to one file per process
 * (reused for every input) and return its path (static storage). Aborts if
 * the file cannot be written, which is the harness's failure, not the
 * target's. */
static inline const char *fuzz_file(const uint8_t *data, size_t size, const char *suffix)
{
	static char path[128];
	if (!path[0]) {
		const char *dir = getenv("TMPDIR");
		snprintf(path, sizeof(path), "%s/faultline-fuzz-%d%s", dir && *dir ? dir : "/tmp",
			 (int)getpid(), suffix);
	}
	FILE *f = fopen(path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
	return path;
}

#endif
