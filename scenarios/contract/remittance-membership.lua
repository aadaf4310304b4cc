-- Contract test: remittance -> membership
-- Scaffolded by `faultline contract scaffold` from scenarios/contract/pacts/remittance-membership.json.
--
-- Each test sends one request of the pact to the provider and checks the answer
-- with fl.contract.check, which applies the pact's matching rules (types,
-- regexes, formats) and fails naming the path and both values. Edit freely:
-- set up provider states, tighten or loosen expectations, add plain expects.
--
-- Run: PROVIDER_URL=http://127.0.0.1:8080 faultline run THIS_FILE
local fl = require "faultline"
local contract = fl.contract

-- The provider: $PROVIDER_URL, else membership of the running reference system
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
  return sys:url("membership")
end

describe("contract remittance -> membership", { tags = { "contract" } }, function()

  it("GET /membership/{id} -> 200", function()
    local r = fl.http.request("GET", provider() .. "/membership/1")
    contract.check(r, [[
    {
      "status": 200,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "membershipId": "1",
        "name": "contract-1",
        "address": "강남구",
        "email": "",
        "status": "ACTIVE",
        "isCorp": false
      },
      "contentType": "application/json",
      "matchingRules": {
        "body": {
          "$.membershipId": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.name": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.address": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          }
        }
      }
    }
    ]])
  end)
end)
