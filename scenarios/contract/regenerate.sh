#!/bin/sh
# Regenerate scenarios/contract/pacts/ and the scaffolded tests from a
# recorded run of the reference system:
#   1. start the reference system (every service-to-service edge is a
#      fault-injector link that records HTTP exchanges)
#   2. drive traffic (scenarios/contract/00_traffic.lua)
#   3. faultline contract record  -> recorded.jsonl
#   4. faultline contract generate -> one pact per consumer/provider edge
#   5. verify every pact against the live providers (must be green)
#   6. faultline contract scaffold --ref -> <consumer>-<provider>.lua
# Usage: sh scenarios/contract/regenerate.sh   (from the repository root)
set -eu
FAULTLINE=${FAULTLINE:-build/faultline}
HERE=$(dirname "$0")
DATA=$(mktemp -d)
cleanup() {
	"$FAULTLINE" ref down --data "$DATA" > /dev/null 2>&1 || true
	rm -rf "$DATA"
}
trap cleanup EXIT INT TERM
"$FAULTLINE" ref up --data "$DATA" > /dev/null
FL_REF="$DATA" CONTRACT_RECORD=1 "$FAULTLINE" run "$HERE/00_traffic.lua"
PROXY=$(grep -o '"api": *"[^"]*"' "$DATA/topology.json" | head -1 | sed 's/.*"\(http[^"]*\)"/\1/')
"$FAULTLINE" contract record --proxy "$PROXY" -o "$DATA/recorded.jsonl"
rm -rf "$HERE/pacts"
"$FAULTLINE" contract generate --events "$DATA/recorded.jsonl" -o "$HERE/pacts"
"$FAULTLINE" contract verify "$HERE/pacts" --ref --ref-data "$DATA" --report "tap=$DATA/verify.tap" \
	> /dev/null || { echo "regenerate: the pacts do not verify against the live system"; cat "$DATA/verify.tap"; exit 1; }
for pact in "$HERE"/pacts/*.json; do
	out="$HERE/$(basename "$pact" .json).lua"
	"$FAULTLINE" contract scaffold "$pact" --ref -o "$out" > /dev/null
	# the replayed requests need the data 00_traffic.lua makes on a fresh
	# system: run only when asked (CONTRACT_REF=1), never on a used system
	sed 's/^local function provider()$/local function provider()\
  if fl.env.CONTRACT_REF ~= "1" then\
    fl.skip("replays recorded requests: set CONTRACT_REF=1 on a fresh reference system " ..\
            "(tests\/selftest\/contract_ref.sh does)")\
  end/' "$out" > "$out.tmp" && mv "$out.tmp" "$out"
done
echo "regenerate: pacts and scaffolded tests written to $HERE"
