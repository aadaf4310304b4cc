#!/bin/sh
# The reference system honours its committed contracts: on a fresh system,
# scenarios/contract/00_traffic.lua creates the data, then every pact in
# scenarios/contract/pacts verifies green (faultline contract verify --ref),
# the scaffolded Lua contract tests pass, and a pact with one field changed
# fails naming that path.
set -eu
FAULTLINE=${FAULTLINE:-build/faultline}
ROOT=${ROOT:-.}
TRANSFERD=${TRANSFERD:-build/transferd}
[ -x "$TRANSFERD" ] || { echo "no transferd built ($TRANSFERD)"; exit 77; }
T=$(mktemp -d)
cleanup() {
	"$FAULTLINE" ref down --data "$T/ref" > /dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

"$FAULTLINE" ref up --data "$T/ref" --lease 10 --driver $$ > "$T/up.log" 2>&1 || fail "ref up: $(tail -5 "$T/up.log")"
FL_REF="$T/ref" CONTRACT_REF=1 "$FAULTLINE" run "$ROOT/scenarios/contract" > "$T/run.log" 2>&1 ||
	fail "contract scenarios: $(tail -30 "$T/run.log")"
grep -q "0 failed" "$T/run.log" || fail "contract scenarios: $(tail -10 "$T/run.log")"
grep -q " skipped" "$T/run.log" && ! grep -q "0 skipped" "$T/run.log" && fail "tests were skipped: $(tail -10 "$T/run.log")"

"$FAULTLINE" contract verify "$ROOT/scenarios/contract/pacts" --ref --ref-data "$T/ref" > "$T/verify.log" 2>&1 ||
	fail "committed pacts do not verify (after an intended API change, regenerate them with
sh scenarios/contract/regenerate.sh): $(tail -30 "$T/verify.log")"

# every edge the traffic went through (each a recording fault-injector link)
# has its committed pact: an edge that bypassed its link would record
# nothing and get none (gateway->query once did)
PROXY=$(grep -o '"api": *"[^"]*"' "$T/ref/topology.json" | head -1 | sed 's/.*"\(http[^"]*\)"/\1/')
"$FAULTLINE" contract record --proxy "$PROXY" -o "$T/recorded.jsonl" > "$T/record.log" 2>&1 ||
	fail "contract record: $(tail -5 "$T/record.log")"
grep -o '"link":"[^"]*"' "$T/recorded.jsonl" | sed 's/"link":"\(.*\)->\(.*\)"/\1-\2/' | sort -u > "$T/edges"
[ "$(wc -l < "$T/edges")" -ge 10 ] || fail "only $(wc -l < "$T/edges") edges recorded: $(cat "$T/edges")"
grep -qx "gateway-query" "$T/edges" || fail "no exchange recorded on gateway->query: $(cat "$T/edges")"
while read -r e; do
	[ -f "$ROOT/scenarios/contract/pacts/$e.json" ] ||
		fail "edge $e carried traffic but has no pact (regenerate: sh scenarios/contract/regenerate.sh)"
done < "$T/edges"

# a planted change: the wallet balance's type, and the exact bank verification flag
sed 's/"valid": true/"valid": "yes"/' "$ROOT/scenarios/contract/pacts/remittance-banking.json" > "$T/changed.json"
cmp -s "$T/changed.json" "$ROOT/scenarios/contract/pacts/remittance-banking.json" && fail "nothing to change"
set +e
"$FAULTLINE" contract verify "$T/changed.json" --ref --ref-data "$T/ref" > "$T/changed.log" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || fail "changed pact gave exit $rc: $(tail -20 "$T/changed.log")"
grep -q '\$\.body\.valid' "$T/changed.log" || fail "mismatch does not name \$.body.valid: $(cat "$T/changed.log")"
echo "reference contracts: ok"
