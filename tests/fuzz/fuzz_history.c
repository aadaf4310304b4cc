/* Fuzz target: the history reader of the checkers (checkers/history*.c):
 * a JSONL history file, loaded and sealed as `faultline check` does. */
#include "checkers/history.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	const char *path = fuzz_file(data, size, ".jsonl");
	struct fl_chk_history *h = fl_chk_history_load(path, err, sizeof(err));
	fl_chk_history_free(h);
	return 0;
}
