#!/bin/sh
# Self-test of load on worker threads (fl.parallel.load, threads= of
# fl.workload.clients and fl.rate) against a loopback server: two workers
# both send (counts per worker from the history), with distinct seeded
# streams replayed by --seed, merged histograms counting every request, one
# history in time order; a worker's error reaches the run with its file:line;
# a value that cannot cross is refused; a threshold on the merged latency
# fails the test; stop() and the test's timeout end the workers.
set -eu
: "${FAULTLINE:=build/faultline}" "${FL_TEST_HELPERS:=build/tests/helpers}"
X=tests/scenarios/threads.lua
T=$(mktemp -d)
SRV_PID=""
cleanup() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
fails=0

. "${ROOT:-.}/tests/lib/static_http.sh"
static_http_start

run() { # mode, expected exit, text expected in the output, [seed]
	set +e
	"$FAULTLINE" run $X --seed "${4:-1}" -e BASE="$BASE" -e MODE="$1" -e HIST="$T/h-$1.jsonl" >"$T/out" 2>&1
	got=$?
	set -e
	if [ "$got" = "$2" ] && grep -q "$3" "$T/out"; then echo "ok   $1 exits $2 ($3)"; else
		echo "FAIL $1: exit $got, want $2 and '$3'"; sed 's/^/     /' "$T/out" | head -30; fails=$((fails + 1)); fi
}

run workload 0 "ops 100 ok 100 sent 100 planned 100 held true hist 100 invokes 100 history ok 100 worker1 52 worker2 48"
run parallel 0 "parallel: 6 clients"
run rate 0 "planned 400 sent 400 held true errors 0 count 400"
run error 1 "worker 2: .*threads.lua:[0-9]*: client three fails"
run upvalue 1 "upvalue 'sys' of the function at .*threads.lua:[0-9]* is a table with a metatable"
run stop 0 "stop: [0-9]* ops"
run threshold 1 "thresholds crossed: tight p(99)"
start=$(date +%s)
run timeout 1 "timed out after 1 s"
took=$(( $(date +%s) - start ))
if [ $took -le 4 ]; then echo "ok   timeout stops the workers (${took} s)"; else echo "FAIL timeout took ${took} s"; fails=$((fails + 1)); fi

# the same seed replays each worker's stream; another seed changes it
run draws 0 "draws " 7; grep '^draws' "$T/out" >"$T/d7a"
run draws 0 "draws " 7; grep '^draws' "$T/out" >"$T/d7b"
run draws 0 "draws " 8; grep '^draws' "$T/out" >"$T/d8"
if cmp -s "$T/d7a" "$T/d7b" && ! cmp -s "$T/d7a" "$T/d8"; then echo "ok   seeded streams replay"; else
	echo "FAIL seeded streams:"; cat "$T/d7a" "$T/d7b" "$T/d8"; fails=$((fails + 1)); fi
[ $fails -eq 0 ]
