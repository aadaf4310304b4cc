-- Contract test: gateway -> money
-- Scaffolded by `faultline contract scaffold` from scenarios/contract/pacts/gateway-money.json.
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

describe("contract gateway -> money", { tags = { "contract" } }, function()

  it("POST /money/member-money -> 200", function()
    local r = fl.http.request("POST", provider() .. "/money/member-money", {
      headers = { "Content-Type: application/json" },
      body = [[
{"membershipIds":["1"]}]],
    })
    contract.check(r, [[
    {
      "status": 200,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "members": [
          {
            "membershipId": "1",
            "balance": 46891
          }
        ],
        "sum": 52791
      },
      "contentType": "application/json",
      "matchingRules": {
        "body": {
          "$.members": {
            "matchers": [
              {
                "match": "type",
                "min": 1
              }
            ]
          },
          "$.members[*].membershipId": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.members[*].balance": {
            "matchers": [
              {
                "match": "integer"
              }
            ]
          },
          "$.sum": {
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

  it("GET /money/{id} -> 200", function()
    local r = fl.http.request("GET", provider() .. "/money/1")
    contract.check(r, [[
    {
      "status": 200,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "membershipId": "1",
        "balance": 46891,
        "closed": false
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
          "$.balance": {
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
