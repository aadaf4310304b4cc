#!/bin/sh
# Smoke run of the libFuzzer targets (tests/fuzz/): builds them with clang
# under ASan+UBSan in $BUILD/fuzz, replays each seed corpus (with its crash
# regressions) and fuzzes each target for a few seconds. The long runs are
# `make fuzz`. Skips (77) without clang and libFuzzer. FL_TEST_CORES (2
# unless tests/run.sh says 1): make -j and the targets fuzzed at once.
# test-lane: side (no socket, no shared file, no timing; CPU only)
set -eu
BUILD=${BUILD:-build}
FUZZ_SMOKE_S=${FUZZ_SMOKE_S:-5}
command -v clang >/dev/null 2>&1 || { echo "skip: clang not installed"; exit 77; }
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT INT TERM
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' > "$probe/p.c"
clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2>/dev/null ||
	{ echo "skip: libFuzzer not installed (clang -fsanitize=fuzzer fails)"; exit 77; }
# Under make test SANITIZE=..., BUILD is build/san; the fuzz build has its own directory.
CORES=${FL_TEST_CORES:-2}
make -s -j"$CORES" --no-print-directory BUILD="${BUILD%/san}" fuzz-build
# a target per core at a time: each libFuzzer process keeps one core busy
FUZZ_BIN="${BUILD%/san}/fuzz" FUZZ_S="$FUZZ_SMOKE_S" FUZZ_JOBS="$CORES" sh tests/fuzz/run.sh
