-- Contract test: query -> money
-- Scaffolded by `faultline contract scaffold` from scenarios/contract/pacts/query-money.json.
--
-- Each test sends one request of the pact to the provider and checks the answer
-- with fl.contract.check, which applies the pact's matching rules (types,
-- regexes, formats) and fails naming the path and both values. Edit freely:
-- set up provider states, tighten or loosen expectations, add plain expects.
--
-- Run: PROVIDER_URL=http://127.0.0.1:8080 faultline run THIS_FILE
local fl = require "faultline"
local contract = fl.contract

-- The provider: $PROVIDER_URL, else money of the running reference system
-- (faultline ref up); the tests are skipped when there is neither.
local function provider()
  if fl.env.CONTRACT_REF ~= "1" then
    fl.skip("replays recorded requests: set CONTRACT_REF=1 on a fresh reference system " ..
            "(tests/selftest/contract_ref.sh does)")
  end
  if fl.env.PROVIDER_URL then return fl.env.PROVIDER_URL end
  local ok, sys = pcall(fl.ref.system)
  if not ok then
    fl.skip("no provider: set PROVIDER_URL or start the reference system " ..
            "(faultline ref up)")
  end
  return sys:url("money")
end

describe("contract query -> money", { tags = { "contract" } }, function()

  it("GET /events?after&wait&limit -> 200", function()
    local r = fl.http.request("GET", provider() .. "/events?after=0&wait=1000&limit=2000")
    contract.check(r, [[
    {
      "status": 200,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "service": "money",
        "events": [
          {
            "type": "money_changed",
            "service": "money",
            "t": 5364178755195,
            "ts": "2026-11-22T00:36:28.303Z",
            "seq": 1
          }
        ],
        "last": 1,
        "head": 1
      },
      "contentType": "application/json",
      "matchingRules": {
        "body": {
          "$.events": {
            "matchers": [
              {
                "match": "type",
                "min": 1
              }
            ]
          },
          "$.events[*].t": {
            "matchers": [
              {
                "match": "integer"
              }
            ]
          },
          "$.events[*].ts": {
            "matchers": [
              {
                "match": "regex",
                "regex": "\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})?"
              }
            ]
          },
          "$.events[*].seq": {
            "matchers": [
              {
                "match": "integer"
              }
            ]
          },
          "$.last": {
            "matchers": [
              {
                "match": "integer"
              }
            ]
          },
          "$.head": {
            "matchers": [
              {
                "match": "integer"
              }
            ]
          }
        }
      }
    }
    ]])
  end)
end)
