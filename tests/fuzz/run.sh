#!/bin/sh
# Runs every libFuzzer target (FUZZ_BIN/fuzz_NAME, built by `make fuzz-build`)
# for FUZZ_S seconds on its seed corpus tests/fuzz/corpus/NAME. New inputs
# go to a scratch corpus (FUZZ_WORK, default a temporary directory), never
# into the repository; a crash leaves its input in FUZZ_WORK/NAME-crash-*
# and fails the run. Add that input to tests/fuzz/corpus/NAME once fixed.
#   FUZZ_S=60 FUZZ_ONLY=pact FUZZ_WORK=/tmp/f sh tests/fuzz/run.sh
set -eu
FUZZ_BIN=${FUZZ_BIN:-build/fuzz}
FUZZ_S=${FUZZ_S:-60}
FUZZ_ONLY=${FUZZ_ONLY:-}
keep_work=1
if [ -z "${FUZZ_WORK:-}" ]; then
	FUZZ_WORK=$(mktemp -d)
	keep_work=0
fi
cleanup() { [ "$keep_work" = 1 ] || rm -rf "$FUZZ_WORK"; }
trap cleanup EXIT INT TERM
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=""
n=0
for bin in "$FUZZ_BIN"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	case "$name" in *"$FUZZ_ONLY"*) ;; *) continue ;; esac
	seeds=tests/fuzz/corpus/$name
	[ -d "$seeds" ] || { echo "fuzz: no seed corpus $seeds" >&2; exit 2; }
	mkdir -p "$FUZZ_WORK/$name"
	log="$FUZZ_WORK/$name.log"
	n=$((n + 1))
	if "$bin" -max_total_time="$FUZZ_S" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$FUZZ_WORK/$name-" \
		"$FUZZ_WORK/$name" "$seeds" >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		printf '  ok    %-12s %ss, %s runs\n' "$name" "$FUZZ_S" "${execs:-?}"
	else
		failed="$failed $name"
		printf '  CRASH %-12s (log %s)\n' "$name" "$log"
		grep -E 'ERROR|SUMMARY|Test unit written|#[0-9]+ 0x' "$log" | head -20 | sed 's/^/        | /'
		keep_work=1
	fi
done
[ "$n" -gt 0 ] || { echo "fuzz: no targets in $FUZZ_BIN (make fuzz-build)" >&2; exit 2; }
if [ -n "$failed" ]; then
	echo "fuzz: crashes in:$failed (inputs and logs in $FUZZ_WORK)"
	exit 1
fi
