#!/bin/sh
# Regenerate examples/orders/scenarios/contract/pacts/ and the scaffolded
# tests from recorded traffic:
#   1. faultline up the orders system (its calls go through fault-injector
#      links, which record every HTTP exchange)
#   2. drive traffic (00_traffic.lua)
#   3. faultline contract record   -> recorded.jsonl
#   4. faultline contract generate -> one pact per consumer/provider edge
#   5. verify every pact against the live providers (must be green)
#   6. faultline contract scaffold -> orders-<provider>.lua
# Usage: sh examples/orders/scenarios/contract/regenerate.sh   (from the repository root)
set -eu
FAULTLINE=${FAULTLINE:-build/faultline}
HERE=$(dirname "$0")
DATA=$(mktemp -d)
cleanup() {
	"$FAULTLINE" down --data "$DATA" > /dev/null 2>&1 || true
	rm -rf "$DATA"
}
trap cleanup EXIT INT TERM
"$FAULTLINE" up "$HERE/../../topology.lua" --data "$DATA" --fresh > /dev/null
"$FAULTLINE" run "$HERE/00_traffic.lua" -e FL_SYS="$DATA" -e CONTRACT_FRESH=1 > /dev/null
PROXY=$(sed -n 's/.*"api": *"\(http[^"]*\)".*/\1/p' "$DATA/topology.json" | head -1)
"$FAULTLINE" contract record --proxy "$PROXY" -o "$DATA/recorded.jsonl"
rm -rf "$HERE/pacts"
"$FAULTLINE" contract generate --events "$DATA/recorded.jsonl" -o "$HERE/pacts"
for pact in "$HERE"/pacts/*.json; do
	provider=$(basename "$pact" .json); provider=${provider#orders-}
	purl=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["services"][sys.argv[2]]["url"])' \
		"$DATA/topology.json" "$provider")
	"$FAULTLINE" contract verify "$pact" --provider-url "$purl" > "$DATA/verify.txt" 2>&1 \
		|| { echo "regenerate: $pact does not verify against the live $provider"; cat "$DATA/verify.txt"; exit 1; }
	out="$HERE/$(basename "$pact" .json).lua"
	"$FAULTLINE" contract scaffold "$pact" -o "$out" > /dev/null
	# the provider: $PROVIDER_URL, else that service of the orders system
	# (-e FL_SYS=DIR) on which 00_traffic.lua just ran (the replayed
	# requests carry its keys)
	python3 - "$out" "$provider" <<'PY'
import re, sys
path, provider = sys.argv[1], sys.argv[2]
s = open(path).read()
start = s.index("local function provider()")
end = s.index("\nend\n", start) + len("\nend\n")
s = s[:start] + '''local function provider()
  if fl.env.PROVIDER_URL then return fl.env.PROVIDER_URL end
  if fl.env.CONTRACT_FRESH ~= "1" or not fl.env.FL_SYS then
    fl.skip("replays recorded requests: run after 00_traffic.lua on a fresh orders system " ..
            "(-e FL_SYS=DIR -e CONTRACT_FRESH=1; e2e/examples_orders.sh does)")
  end
  return fl.ref.system(fl.env.FL_SYS):url("%s")
end
''' % provider + s[end:]
open(path, "w").write(s)
PY
done
echo "regenerate: pacts and scaffolded tests written to $HERE"
