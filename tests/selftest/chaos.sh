#!/bin/sh
# Self-test of `faultline chaos`: hypothesis held / deviated / aborted by a
# safeguard / a target off the allowlist / dry run / Ctrl-C, with rollbacks
# checked through marker files and the journal's status.
set -eu
: "${FAULTLINE:=build/faultline}" "${FL_TEST_HELPERS:=build/tests/helpers}"
X=tests/scenarios/chaos_experiment.lua
T=$(mktemp -d)
SRV_PID=""
cleanup() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
fails=0
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then echo "ok   $d"; else echo "FAIL $d"; fails=$((fails + 1)); fi; }

. "${ROOT:-.}/tests/lib/static_http.sh"
static_http_start

run_mode() { # mode, expected exit, extra args...
	mode=$1 want=$2; shift 2
	rm -rf "$T/m"; mkdir "$T/m"
	set +e
	"$FAULTLINE" chaos $X -e BASE="$BASE" -e MODE="$mode" -e MARKER="$T/m" --journal "$T/m/journal.json" "$@" >"$T/out" 2>&1
	got=$?
	set -e
	if [ "$got" = "$want" ]; then echo "ok   $mode exits $want"; else
		echo "FAIL $mode: exit $got, want $want"; sed 's/^/     /' "$T/out" | head -20; fails=$((fails + 1)); fi
}

run_mode ok 0
check "ok: action ran" test -f "$T/m/action"
check "ok: its rollback ran" test -f "$T/m/rollback"
check "ok: the final rollback ran" test -f "$T/m/final"
check "ok: journal says completed" grep -q '"status": "completed"' "$T/m/journal.json"
check "ok: journal has both hypothesis checks" grep -q '"steady_state_after"' "$T/m/journal.json"

run_mode deviate 1
check "deviate: rollbacks ran" test -f "$T/m/rollback" -a -f "$T/m/final"
check "deviate: journal says deviated" grep -q '"status": "deviated"' "$T/m/journal.json"
check "deviate: the console names the deviation" grep -q "steady state after: answers 200 = 503" "$T/out"
check "deviate: the failure points at the experiment line" grep -q "chaos_experiment.lua:32" "$T/out"

run_mode safeguard 1
check "safeguard: the method stopped early" test ! -f "$T/m/second-action"
check "safeguard: rollbacks ran" test -f "$T/m/rollback" -a -f "$T/m/final"
check "safeguard: journal says aborted" grep -q '"status": "aborted"' "$T/m/journal.json"

run_mode forbidden 1
check "forbidden: nothing acted" test ! -f "$T/m/action"
check "forbidden: the allowlist message" grep -q "not on the allowlist" "$T/out"
check "forbidden: rollbacks still ran" test -f "$T/m/final"

run_mode target 2
check "target: nothing acted" test ! -f "$T/m/action"
check "target: no rollback either" test ! -f "$T/m/final"
check "target: the refusal names the targets" grep -q "not allowed: http://staging.invalid/, db.internal:5432" "$T/out"
run_mode target 2 --dry-run
check "target, dry run: refused too" grep -q "not allowed: http://staging.invalid/" "$T/out"
run_mode target 0 --allow staging.invalid --allow db.internal --dry-run
check "target, allowed: the plan lists them" grep -q '\[dry run\] target (allowed): db.internal:5432' "$T/out"

# --allow CIDR: IP targets inside the block pass, one outside refuses the
# file (dry run included); a malformed block is refused before anything runs
run_mode target_ip 2 --dry-run
check "target_ip: refused without --allow" grep -q "not allowed: http://198.18.0.9:8474/healthz, 198.18.0.200:5432" "$T/out"
run_mode target_ip 2 --allow 198.18.0.0/25 --dry-run
check "target_ip, /25: the one outside is refused" grep -q "not allowed: 198.18.0.200:5432); nothing was run\|not allowed: 198.18.0.200:5432 (" "$T/out"
run_mode target_ip 2 --allow 198.18.0.0/25
check "target_ip, /25: nothing acted" test ! -f "$T/m/action"
run_mode target_ip 0 --allow 198.18.0.0/24 --dry-run
check "target_ip, /24: the plan lists them" grep -q '\[dry run\] target (allowed): 198.18.0.200:5432' "$T/out"
run_mode target_ip 0 --allow db.internal,198.18.0.0/24 --dry-run
run_mode target_ip 2 --allow 198.18.0.0/33 --dry-run
check "--allow 198.18.0.0/33: refused, naming the entry" grep -q 'allow-list entry "198.18.0.0/33"' "$T/out"
check "--allow 198.18.0.0/33: nothing acted" test ! -f "$T/m/action" -a ! -f "$T/m/journal.json"

run_mode ok 0 --dry-run
check "dry run: no action" test ! -f "$T/m/action"
check "dry run: no rollback" test ! -f "$T/m/final"
check "dry run: prints the plan" grep -q '\[dry run\] method: action "break it" (with rollback)' "$T/out"
check "dry run: journal says dry-run" grep -q '"status": "dry-run"' "$T/m/journal.json"

# Ctrl-C during the method: rollbacks run, journal says interrupted, exit 130
rm -rf "$T/m"; mkdir "$T/m"
"$FAULTLINE" chaos $X -e BASE="$BASE" -e MARKER="$T/m" -e PAUSE=30 --journal "$T/m/journal.json" >"$T/out" 2>&1 &
pid=$!
i=0; while [ ! -f "$T/m/second-action" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $pid
set +e; wait $pid; got=$?; set -e
check "Ctrl-C: exit 130" test "$got" = 130
check "Ctrl-C: rollbacks ran" test -f "$T/m/rollback" -a -f "$T/m/final"
check "Ctrl-C: journal says interrupted" grep -q '"status": "interrupted"' "$T/m/journal.json"

check "chaos options are refused by run" sh -c "! '$FAULTLINE' run $X --dry-run"
[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all chaos self-tests passed"
