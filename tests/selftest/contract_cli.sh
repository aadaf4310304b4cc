#!/bin/sh
# faultline contract end to end: recorded exchanges -> generate -> stub ->
# verify (green), a planted change (exit 1, the path named), an unreachable
# provider (exit 3), a malformed pact (exit 2), scaffold -> run the scaffolded
# Lua test against the stub, and the Lua API (fl.contract.stub/interaction/
# verify/check) in a consumer scenario.
set -eu
FAULTLINE=${FAULTLINE:-build/faultline}
T=$(mktemp -d)
STUB_PID=
cleanup() {
	if [ -n "$STUB_PID" ]; then kill "$STUB_PID" 2>/dev/null || true; wait "$STUB_PID" 2>/dev/null || true; fi
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

# --- the fault injector's recording of a link ------------------------------------
for i in 1 2 3; do
	printf '{"event":"http_exchange","link":"remittance->money","method":"GET","path":"/accounts/10%s","status":200,"fault":null,"req_headers":{"authorization":"Bearer top-secret"},"resp_headers":{"content-type":"application/json"},"resp_body":"{\\"id\\":10%s,\\"currency\\":\\"KRW\\",\\"balance\\":%s00}"}\n' "$i" "$i" "$i"
done > "$T/events.jsonl"
printf '{"event":"http_exchange","link":"remittance->money","method":"POST","path":"/transfers","status":201,"fault":null,"req_headers":{"content-type":"application/json"},"req_body":"{\\"from\\":101,\\"to\\":102,\\"amount\\":5}","resp_headers":{"content-type":"application/json"},"resp_body":"{\\"id\\":\\"3f2b8c1e-1d2a-4c3b-9a8e-0f1e2d3c4b5a\\",\\"state\\":\\"PENDING\\"}"}\n' >> "$T/events.jsonl"
printf '{"event":"http_exchange","link":"remittance->money","method":"GET","path":"/accounts/9","status":503,"fault":"http_abort"}\n' >> "$T/events.jsonl"

"$FAULTLINE" contract generate --events "$T/events.jsonl" -o "$T/pacts" > "$T/gen.log"
PACT="$T/pacts/remittance-money.json"
[ -f "$PACT" ] || fail "no pact written: $(cat "$T/gen.log")"
grep -q "top-secret" "$PACT" && fail "a secret reached the pact"
grep -q '"GET /accounts/{id} -> 200"' "$PACT" || fail "no generalised interaction"
"$FAULTLINE" contract generate --events "$T/events.jsonl" -o "$T/pacts2" > /dev/null
cmp -s "$PACT" "$T/pacts2/remittance-money.json" || fail "generation is not deterministic"

# --- a stub answering from the pact ------------------------------------------------
"$FAULTLINE" contract stub "$T/pacts" --listen 127.0.0.1:0 --ready-file "$T/ready" > "$T/stub.log" 2>&1 &
STUB_PID=$!
i=0
while [ ! -s "$T/ready" ]; do
	i=$((i + 1)); [ $i -le 200 ] || fail "stub did not start: $(cat "$T/stub.log")"
	kill -0 "$STUB_PID" 2>/dev/null || fail "stub exited: $(cat "$T/stub.log")"
	sleep 0.05
done
ADDR=$(cat "$T/ready")
# a method in another case matches (Pact compares methods ignoring case), an
# unknown one gets a JSON answer, never evhttp's HTML 501
code=$(curl -s -o "$T/lower.out" -w '%{http_code}' -X get "http://$ADDR/accounts/1")
grep -q "<HTML>" "$T/lower.out" && fail "lower-case method: HTML answer"
[ "$code" = 200 ] && grep -q '"currency"' "$T/lower.out" || fail "lower-case get: $code $(cat "$T/lower.out")"
curl -s -X PROPFIND "http://$ADDR/accounts/1" | grep -q '"error"' || fail "PROPFIND: no JSON error"

# --- verify: green, then a planted change, unreachable, malformed -----------------------
"$FAULTLINE" contract verify "$PACT" --provider-url "http://$ADDR" --report "json=$T/verify.json" \
	> "$T/verify.log" 2>&1 || fail "verification against the stub failed: $(cat "$T/verify.log")"
grep -q '"passed"' "$T/verify.json" || fail "no JSON report"

sed 's/"KRW"/"USD"/' "$PACT" > "$T/changed.json"
set +e
"$FAULTLINE" contract verify "$T/changed.json" --provider-url "http://$ADDR" > "$T/changed.log" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || fail "a changed field gave exit $rc, want 1: $(cat "$T/changed.log")"
grep -q '\$\.body\.currency' "$T/changed.log" || fail "the mismatch does not name \$.body.currency: $(cat "$T/changed.log")"
grep -q 'USD' "$T/changed.log" && grep -q 'KRW' "$T/changed.log" || fail "both values not shown"

# a port that was just free: a second stub started and stopped
"$FAULTLINE" contract stub "$PACT" --listen 127.0.0.1:0 --ready-file "$T/ready2" > "$T/stub2.log" 2>&1 &
DOWN_PID=$!
i=0
while [ ! -s "$T/ready2" ]; do
	i=$((i + 1)); [ $i -le 200 ] || fail "second stub did not start: $(cat "$T/stub2.log")"
	kill -0 "$DOWN_PID" 2>/dev/null || fail "second stub exited: $(cat "$T/stub2.log")"
	sleep 0.05
done
kill "$DOWN_PID"; wait "$DOWN_PID" 2>/dev/null || true
DOWN=$(cat "$T/ready2")
set +e
"$FAULTLINE" contract verify "$PACT" --provider-url "http://$DOWN" --timeout 2 > "$T/down.log" 2>&1
rc=$?
set -e
[ $rc -eq 3 ] || fail "unreachable provider gave exit $rc, want 3: $(cat "$T/down.log")"

printf '{"interactions":[{"request":{},"response":{"matchingRules":{"body":{"$.x":{"matchers":[{"match":"psychic"}]}}}}}]}' > "$T/bad.json"
set +e
"$FAULTLINE" contract verify "$T/bad.json" --provider-url "http://$ADDR" > "$T/bad.log" 2>&1
rc=$?
set -e
[ $rc -eq 2 ] || fail "malformed pact gave exit $rc, want 2"
grep -q "unknown matcher type 'psychic'" "$T/bad.log" || fail "no clear message: $(cat "$T/bad.log")"

# --- scaffold, then run the scaffolded test against the stub --------------------------
"$FAULTLINE" contract scaffold "$PACT" -o "$T/money_contract.lua" > /dev/null
grep -q 'contract.check(r' "$T/money_contract.lua" || fail "scaffold has no checks"
PROVIDER_URL="http://$ADDR" "$FAULTLINE" run "$T/money_contract.lua" > "$T/run.log" 2>&1 \
	|| fail "scaffolded test failed: $(cat "$T/run.log")"

# --- the Lua API in a consumer scenario ------------------------------------------------
cat > "$T/consumer.lua" <<'EOF'
local fl = require "faultline"
local contract = fl.contract

describe("consumer of money", function()
  it("gets the pact's answers from an inline stub", function()
    local stub = contract.stub{ consumer = "web", provider = "money", interactions = {
      contract.interaction{
        description = "a member",
        request = { method = "GET", path = "/members/42" },
        response = { status = 200, body = { id = 42, name = "Ann" },
                     rules = { ["$.name"] = { match = "type" } } },
      },
    } }
    local r = fl.http.get(stub:url("/members/42"))
    expect(r.status).to_be(200)
    expect(r.json.name).to_be("Ann")
    local miss = fl.http.get(stub:url("/members/7"))
    expect(miss.status).to_be(500)
    expect(miss.json.candidates[1].mismatches[1].path).to_be("$.path")
    contract.check(r, { status = 200, body = { id = 1, name = "x" },
                        rules = { ["$.id"] = { match = "integer" }, ["$.name"] = { match = "type" } } })
    expect(function()
      contract.check(r, { status = 200, body = { id = 42, name = "Bob" } })
    end).to_fail("name")
    -- the provider side, against the same stub on this event loop
    local res = contract.verify{ interactions = {
      contract.interaction{ description = "a member",
                            request = { path = "/members/42" },
                            response = { body = { id = 42, name = "Ann" } } } },
      provider = stub:url() }
    expect(res.ok).to_be(true)
    expect(res.passed).to_be(1)
    stub:close()
  end)
end)
EOF
"$FAULTLINE" run "$T/consumer.lua" > "$T/consumer.log" 2>&1 || fail "consumer scenario failed: $(cat "$T/consumer.log")"
echo "contract CLI: ok"
