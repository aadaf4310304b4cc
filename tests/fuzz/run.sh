#!/bin/sh
# Runs every libFuzzer target (FUZZ_BIN/fuzz_NAME, built by `make fuzz-build`)
# for FUZZ_S seconds on its seed corpus tests/fuzz/corpus/NAME. New inputs
# go to a scratch corpus (FUZZ_WORK, default a temporary directory), never
# into the repository; a crash leaves its input in FUZZ_WORK/NAME-crash-*
# and fails the run. Add that input to tests/fuzz/corpus/NAME once fixed.
# FUZZ_JOBS targets run at once (default 1).
#   FUZZ_S=60 FUZZ_ONLY=pact FUZZ_WORK=/tmp/f sh tests/fuzz/run.sh
set -eu
FUZZ_BIN=${FUZZ_BIN:-build/fuzz}
FUZZ_S=${FUZZ_S:-60}
FUZZ_ONLY=${FUZZ_ONLY:-}
FUZZ_JOBS=${FUZZ_JOBS:-1}
keep_work=1
if [ -z "${FUZZ_WORK:-}" ]; then
	FUZZ_WORK=$(mktemp -d)
	keep_work=0
fi
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	[ "$keep_work" = 1 ] || rm -rf "$FUZZ_WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# FUZZ_JOBS targets at a time (each libFuzzer process uses one core); the
# results are printed in the targets' order as each batch ends
failed=""
n=0
batch=""
finish() { # waits for the batch, reports each target
	set -- $pids
	for name in $batch; do
		log="$FUZZ_WORK/$name.log"
		rc=0
		wait "$1" || rc=$?
		shift
		if [ "$rc" -eq 0 ]; then
			execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
			printf '  ok    %-12s %ss, %s runs\n' "$name" "$FUZZ_S" "${execs:-?}"
		else
			failed="$failed $name"
			printf '  CRASH %-12s (log %s)\n' "$name" "$log"
			grep -E 'ERROR|SUMMARY|Test unit written|#[0-9]+ 0x' "$log" | head -20 | sed 's/^/        | /'
			keep_work=1
		fi
	done
	batch="" pids=""
}
for bin in "$FUZZ_BIN"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	case "$name" in *"$FUZZ_ONLY"*) ;; *) continue ;; esac
	seeds=tests/fuzz/corpus/$name
	[ -d "$seeds" ] || { echo "fuzz: no seed corpus $seeds" >&2; exit 2; }
	mkdir -p "$FUZZ_WORK/$name"
	n=$((n + 1))
	"$bin" -max_total_time="$FUZZ_S" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$FUZZ_WORK/$name-" \
		"$FUZZ_WORK/$name" "$seeds" >"$FUZZ_WORK/$name.log" 2>&1 &
	pids="$pids $!"
	batch="$batch $name"
	[ "$(echo $batch | wc -w)" -lt "$FUZZ_JOBS" ] || finish
done
finish
[ "$n" -gt 0 ] || { echo "fuzz: no targets in $FUZZ_BIN (make fuzz-build)" >&2; exit 2; }
if [ -n "$failed" ]; then
	echo "fuzz: crashes in:$failed (inputs and logs in $FUZZ_WORK)"
	exit 1
fi
