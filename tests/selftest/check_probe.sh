#!/bin/sh
# `faultline probe` against a real HTTP server on loopback whose /health
# answer follows a schedule (tests/helpers/check_flipserver.c): readiness is
# removed from endpoints and added back, liveness restarts the container,
# slow answers count as failures at the timeout, a startup probe holds the
# others back; --json output is a history `faultline check probe` reads.
set -eu
: "${FAULTLINE:=build/faultline}" "${FL_TEST_HELPERS:=build/tests/helpers}"
FLIP="$FL_TEST_HELPERS/check_flipserver"
[ -x "$FLIP" ] || { echo "skip: $FLIP not built"; exit 77; }
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

# start_server NAME STEP... -> sets $port
start_server() {
	name=$1; shift
	"$FLIP" --max 30 "$@" >"$tmp/$name.out" 2>&1 &
	pids="$pids $!"
	i=0
	while ! grep -q '^port ' "$tmp/$name.out" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 200 ] || fail "$name: server did not start: $(cat "$tmp/$name.out")"
		sleep 0.02
	done
	port=$(sed -n 's/^port //p' "$tmp/$name.out")
}

# usage errors
"$FAULTLINE" probe --help | grep -q "Usage: faultline probe" || fail "--help"
rc=0; "$FAULTLINE" probe http://127.0.0.1:1/ 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "missing --kind: exit $rc, want 2"
rc=0; "$FAULTLINE" probe http://127.0.0.1:1/ --kind liveness --success-threshold 2 2>"$tmp/e" || rc=$?
[ $rc -eq 2 ] || fail "liveness successThreshold 2: exit $rc, want 2"
grep -q "must be 1" "$tmp/e" || fail "message for successThreshold: $(cat "$tmp/e")"
rc=0; "$FAULTLINE" probe ftp://x --kind readiness 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "bad URL: exit $rc, want 2"
rc=0; "$FAULTLINE" probe http://127.0.0.1:1/ --kind readiness --period zero 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "bad period: exit $rc, want 2"

# readiness: 200, then 503 for 0.6 s, then 200: added, removed, added; ends ready (exit 0)
start_server ready 200:0.6 503:0.6 200
rc=0
"$FAULTLINE" probe "http://127.0.0.1:$port/health" --kind readiness --period 0.1 --timeout 0.5 \
	--failure-threshold 2 --duration 2 --service svc --json >"$tmp/ready.jsonl" || rc=$?
[ $rc -eq 0 ] || fail "readiness run: exit $rc, want 0"
grep '"probe_transition"' "$tmp/ready.jsonl" | sed 's/.*"action":"\([a-z]*\)".*/\1/' | tr '\n' ' ' >"$tmp/actions"
[ "$(cat "$tmp/actions")" = "added removed added " ] || fail "readiness transitions: $(cat "$tmp/actions")"
n=$(grep -c '"event":"probe"' "$tmp/ready.jsonl")
[ "$n" -ge 15 ] && [ "$n" -le 25 ] || fail "readiness: $n results in 2 s at 0.1 s period"
# the removal comes after exactly 2 failures
grep '"action":"removed"' "$tmp/ready.jsonl" | grep -q '"after":2' || fail "removed after 2 failures"
# the recorded probe timeline is a history the probe checker reads
"$FAULTLINE" check probe "$tmp/ready.jsonl" --service svc >"$tmp/check.out" || fail "check probe on a fast server: $(cat "$tmp/check.out")"
grep -q "H3" "$tmp/check.out" || fail "H3 not shown"

# liveness failing for good: the container is restarted (exit 1), text output
start_server live 200:0.3 500
rc=0
"$FAULTLINE" probe "http://127.0.0.1:$port/health" --kind liveness --period 0.1 --timeout 0.5 \
	--failure-threshold 3 --duration 1.2 >"$tmp/live.out" || rc=$?
[ $rc -eq 1 ] || fail "liveness run: exit $rc, want 1"
grep -q "liveness  FAILING after 3 failures: container restarted" "$tmp/live.out" ||
	fail "no restart line: $(cat "$tmp/live.out")"
grep -q "^summary: .* [1-9][0-9]* restart" "$tmp/live.out" || fail "summary: $(tail -1 "$tmp/live.out")"

# answers slower than the timeout fail (and the probe loop is not held up by them)
start_server slow 200@600
rc=0
"$FAULTLINE" probe "http://127.0.0.1:$port/health" --kind readiness --period 0.1 --timeout 0.2 \
	--duration 1 -v >"$tmp/slow.out" || rc=$?
[ $rc -eq 1 ] || fail "slow run: exit $rc, want 1 (never ready)"
grep -q "readiness failed: timeout" "$tmp/slow.out" || fail "no timeout result: $(cat "$tmp/slow.out")"
t=$(grep -c "failed: timeout" "$tmp/slow.out")
[ "$t" -ge 3 ] || fail "only $t timeouts in 1 s"

# startup holds readiness back until it passes; --observe-held still sends them
start_server start 503:0.5 200
rc=0
"$FAULTLINE" probe "http://127.0.0.1:$port/health" --kind startup --period 0.1 --timeout 0.5 \
	--failure-threshold 20 --also "readiness=http://127.0.0.1:$port/health" --observe-held \
	--duration 1.2 --json --history "$tmp/hist.jsonl" >"$tmp/start.jsonl" || rc=$?
[ $rc -eq 0 ] || fail "startup run: exit $rc, want 0"
first_started=$(grep -n '"action":"started"' "$tmp/start.jsonl" | head -1 | cut -d: -f1)
first_ready=$(grep -n '"action":"added"' "$tmp/start.jsonl" | head -1 | cut -d: -f1)
[ -n "$first_started" ] && [ -n "$first_ready" ] && [ "$first_started" -lt "$first_ready" ] ||
	fail "readiness added before startup passed"
grep '"kind":"readiness"' "$tmp/start.jsonl" | grep -q '"held":true' || fail "no held readiness results"
[ "$(grep -c . "$tmp/hist.jsonl")" -eq "$(grep -c . "$tmp/start.jsonl")" ] || fail "--history differs from --json"
"$FAULTLINE" check probe "$tmp/hist.jsonl" --json >"$tmp/h5.json" || true
grep -q '"H5"' "$tmp/h5.json" || fail "check probe --json"

# a server that is down: connection refused counts as failure, no crash
start_server gone 200
kill "$(echo $pids | awk '{print $NF}')"
wait "$(echo $pids | awk '{print $NF}')" 2>/dev/null || true
rc=0
"$FAULTLINE" probe "http://127.0.0.1:$port/health" --kind readiness --period 0.1 --duration 0.4 -v \
	>"$tmp/down.out" || rc=$?
[ $rc -eq 1 ] || fail "down: exit $rc, want 1"
grep -q "readiness failed:" "$tmp/down.out" || fail "down: $(cat "$tmp/down.out")"
echo "ok"
