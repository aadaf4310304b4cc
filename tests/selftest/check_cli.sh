#!/bin/sh
# `faultline check` on history files written here: exit codes (0 valid,
# 1 invalid, 4 unknown, 2 usage/config/history errors), console, --json and
# --report junit= output, configurations from files (a /breakers listing).
set -eu
: "${FAULTLINE:=build/faultline}"
tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
expect_rc() { # want, command...
	want=$1; shift
	rc=0; "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ $rc -eq "$want" ] || fail "$*: exit $rc, want $want; $(cat "$tmp/out" "$tmp/err" | head -20)"
}

# --- saga: a completed transfer and a compensation that never refunded ---
cat >"$tmp/good.jsonl" <<'H'
{"t":0,"process":0,"type":"invoke","f":"transfer","value":{"amount":100}}
{"event":"saga_started","t":1,"saga_id":"s1","amount":100,"pivot_step":2}
{"event":"step_succeeded","t":2,"saga_id":"s1","step":1,"dir":"fwd","key":"s1:1:fwd"}
{"event":"step_succeeded","t":3,"saga_id":"s1","step":2,"dir":"fwd","key":"s1:2:fwd"}
{"event":"saga_ended","t":4,"saga_id":"s1","state":"COMPLETED"}
{"t":5,"process":0,"type":"ok","f":"transfer","value":{"saga_id":"s1","state":"COMPLETED"}}
{"event":"money_snapshot","t":6,"accounts":{"wallet:A":900,"wallet:B":1100,"TRANSIT":0,"CORP":-2000}}
{"event":"something_else","t":7}
H
expect_rc 0 "$FAULTLINE" check saga "$tmp/good.jsonl"
grep -q "check saga: valid true" "$tmp/out" || fail "verdict line: $(cat "$tmp/out")"
grep -q "8 events (1 ignored)" "$tmp/out" || fail "event count: $(head -1 "$tmp/out")"

cat >"$tmp/bad.jsonl" <<'H'
{"event":"saga_started","t":1,"saga_id":"s2","amount":100,"pivot_step":2}
{"event":"step_succeeded","t":2,"saga_id":"s2","step":1,"dir":"fwd","key":"s2:1:fwd"}
{"event":"step_failed","t":3,"saga_id":"s2","step":2,"dir":"fwd","key":"s2:2:fwd","reason":"REJECTED"}
{"event":"saga_ended","t":4,"saga_id":"s2","state":"COMPENSATED"}
{"event":"money_snapshot","t":5,"accounts":{"wallet:A":900,"TRANSIT":100,"CORP":-1000}}
H
expect_rc 1 "$FAULTLINE" check saga "$tmp/bad.jsonl" --report "junit=$tmp/j.xml" --report "json=$tmp/r.json"
grep -q "FAIL S2" "$tmp/out" || fail "S2 not failed: $(cat "$tmp/out")"
grep -q "saga s2 COMPENSATED but step 1 was applied and never compensated" "$tmp/out" || fail "S2 message"
grep -q '"saga_id":"s2"' "$tmp/out" || fail "no evidence in console"
grep -q '<testsuite name="check.saga" tests="13" failures="[1-9]' "$tmp/j.xml" || fail "junit: $(head -3 "$tmp/j.xml")"
grep -c '<testcase ' "$tmp/j.xml" | grep -qx 13 || fail "one testcase per invariant (M1-M3, S1-S8, Q1-Q2)"
grep -q '"valid": false' "$tmp/r.json" || fail "json report"
expect_rc 1 "$FAULTLINE" check saga "$tmp/bad.jsonl" --json
grep -q '"valid": false' "$tmp/out" || fail "--json verdict"
grep -q '"S2": {' "$tmp/out" || fail "--json invariants"

# unknown: a saga still young when the history ends -> 4
cat >"$tmp/young.jsonl" <<'H'
{"event":"saga_started","t":1000,"saga_id":"s3","amount":5}
{"event":"step_requested","t":2000,"saga_id":"s3","step":1,"dir":"fwd"}
H
expect_rc 4 "$FAULTLINE" check saga "$tmp/young.jsonl"
grep -q "valid unknown" "$tmp/out" || fail "unknown verdict"
# with a 0 ms deadline and no grace the same saga is stuck -> 1
echo '{"deadline_ms":0,"grace_ms":0}' >"$tmp/saga.json"
expect_rc 1 "$FAULTLINE" check saga "$tmp/young.jsonl" --config "$tmp/saga.json"
grep -q "FAIL S1" "$tmp/out" || fail "S1 with config"

# --since: only what starts at or after it is checked (bad.jsonl's saga
# starts at t=1, good.jsonl's at 1); shifted copies start at 1000
sed 's/"t":\([0-9]\)/"t":100\1/' "$tmp/good.jsonl" >"$tmp/late.jsonl"
expect_rc 1 "$FAULTLINE" check saga "$tmp/bad.jsonl" "$tmp/late.jsonl"
expect_rc 0 "$FAULTLINE" check saga "$tmp/bad.jsonl" "$tmp/late.jsonl" --since 1000 --json
grep -q '"since": 1000' "$tmp/out" || fail "--since in the stats: $(grep -A8 stats "$tmp/out")"
expect_rc 1 "$FAULTLINE" check saga "$tmp/bad.jsonl" "$tmp/late.jsonl" --since 0
expect_rc 2 "$FAULTLINE" check saga "$tmp/good.jsonl" --since soon
expect_rc 2 "$FAULTLINE" check bank "$tmp/good.jsonl" --since 5

# several files merge into one history (here: a saga split across two)
head -3 "$tmp/bad.jsonl" >"$tmp/part1.jsonl"
tail -2 "$tmp/bad.jsonl" >"$tmp/part2.jsonl"
expect_rc 1 "$FAULTLINE" check saga "$tmp/part2.jsonl" "$tmp/part1.jsonl"
grep -q "FAIL S2" "$tmp/out" || fail "merged files: $(cat "$tmp/out")"

# --- bank ---
cat >"$tmp/bank.jsonl" <<'H'
{"event":"bank_snapshot","t":1,"accounts":{"a":50,"b":50},"initial_total":100}
{"t":2,"process":1,"type":"ok","f":"read","value":{"accounts":{"a":70,"b":40}}}
H
echo '{"total":100}' >"$tmp/bank.json"
expect_rc 1 "$FAULTLINE" check bank "$tmp/bank.jsonl" --config "$tmp/bank.json"
grep -q "FAIL B1" "$tmp/out" || fail "bank B1"
echo '{"total":100,"sources":["bank_snapshot"]}' >"$tmp/bank2.json"
expect_rc 0 "$FAULTLINE" check bank "$tmp/bank.jsonl" --config "$tmp/bank2.json"

# --- breaker: config from a /breakers listing; never opens -> C3 ---
cat >"$tmp/breakers.json" <<'H'
{"breakers":[{"name":"remittance->banking","state":"CLOSED","config":{"window_type":"COUNT_BASED",
 "window":10,"minimum_calls":5,"failure_rate_threshold":50,"slow_call_duration_ms":1000,
 "slow_call_rate_threshold":100,"wait_in_open_ms":5000,"permitted_calls_in_half_open":3,
 "automatic_transition":false}},{"name":"remittance->money","state":"CLOSED","config":{}}]}
H
: >"$tmp/br.jsonl"
for i in 1 2 3 4 5 6 7 8; do
	echo "{\"type\":\"breaker_call\",\"service\":\"remittance\",\"t\":${i}00000000,\"breaker\":\"remittance->banking\",\"outcome\":\"failure\",\"duration_ms\":5}" >>"$tmp/br.jsonl"
done
expect_rc 1 "$FAULTLINE" check breaker "$tmp/br.jsonl" --config "$tmp/breakers.json" --breaker "remittance->banking"
grep -q "FAIL C3" "$tmp/out" || fail "breaker C3: $(cat "$tmp/out")"
# the same history with the transition reported after the 5th failure is valid
head -5 "$tmp/br.jsonl" >"$tmp/br2.jsonl"
echo '{"type":"breaker_transition","t":500000001,"breaker":"remittance->banking","from":"CLOSED","to":"OPEN"}' >>"$tmp/br2.jsonl"
echo '{"type":"breaker_call","t":600000000,"breaker":"remittance->banking","outcome":"rejected"}' >>"$tmp/br2.jsonl"
expect_rc 0 "$FAULTLINE" check breaker "$tmp/br2.jsonl" --config "$tmp/breakers.json" --breaker "remittance->banking"
# --since on a breaker: the C3 violation (never opened after the 5th
# failure at 0.5 s) shows until the service restarts at 0.85 s; from 0.9 s
# the new lifetime's calls are fine; from 0.7 s the violation is still seen
cp "$tmp/br.jsonl" "$tmp/br3.jsonl"
echo '{"event":"process","t":850000000,"service":"remittance","action":"started"}' >>"$tmp/br3.jsonl"
for i in 9 10; do
	echo "{\"type\":\"breaker_call\",\"service\":\"remittance\",\"t\":${i}00000000,\"breaker\":\"remittance->banking\",\"outcome\":\"success\",\"duration_ms\":5}" >>"$tmp/br3.jsonl"
done
set -- check breaker "$tmp/br3.jsonl" --config "$tmp/breakers.json" --breaker "remittance->banking"
expect_rc 1 "$FAULTLINE" "$@"
expect_rc 0 "$FAULTLINE" "$@" --since 900000000
expect_rc 1 "$FAULTLINE" "$@" --since 700000000
grep -q "FAIL C3" "$tmp/out" || fail "breaker --since: $(cat "$tmp/out")"
# several breakers and none named: a configuration error
expect_rc 2 "$FAULTLINE" check breaker "$tmp/br.jsonl" --config "$tmp/breakers.json"
grep -q "several breakers" "$tmp/err" || fail "several breakers message"

# --- usage, configuration and history errors ---
expect_rc 2 "$FAULTLINE" check
expect_rc 2 "$FAULTLINE" check nosuch "$tmp/good.jsonl"
expect_rc 2 "$FAULTLINE" check saga
expect_rc 2 "$FAULTLINE" check saga "$tmp/missing.jsonl"
grep -q "missing.jsonl" "$tmp/err" || fail "missing file message"
printf '{"event":"saga_started","t":1,"saga_id":"x"}\n{"event":"step_requested"}\n' >"$tmp/broken.jsonl"
expect_rc 2 "$FAULTLINE" check saga "$tmp/broken.jsonl"
grep -q "broken.jsonl:2:" "$tmp/err" || fail "history error names FILE:LINE: $(cat "$tmp/err")"
echo '{"deadline_ms":"x"}' >"$tmp/badcfg.json"
expect_rc 2 "$FAULTLINE" check saga "$tmp/good.jsonl" --config "$tmp/badcfg.json"
grep -q "deadline_ms" "$tmp/err" || fail "config error names the field"
# every report format: one page with the verdicts, TAP
expect_rc 1 "$FAULTLINE" check saga "$tmp/bad.jsonl" --report "html=$tmp/c.html" --report "tap=$tmp/c.tap"
grep -q 'S2' "$tmp/c.html" || fail "html report names the failed invariant"
grep -q "class='mark violation'" "$tmp/c.html" || fail "html: the violation marked on the timeline"
grep -q "data-inv='S2'" "$tmp/c.html" || fail "html: S2's verdict row"
grep -q '^not ok .* S2 ' "$tmp/c.tap" || fail "tap: $(cat "$tmp/c.tap")"
expect_rc 2 "$FAULTLINE" check saga "$tmp/good.jsonl" --report xml=x
"$FAULTLINE" check --help | grep -q "Usage: faultline check" || fail "--help"
echo ok
