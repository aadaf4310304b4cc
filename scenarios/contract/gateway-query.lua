-- Contract test: gateway -> query
-- Scaffolded by `faultline contract scaffold` from scenarios/contract/pacts/gateway-query.json.
--
-- Each test sends one request of the pact to the provider and checks the answer
-- with fl.contract.check, which applies the pact's matching rules (types,
-- regexes, formats) and fails naming the path and both values. Edit freely:
-- set up provider states, tighten or loosen expectations, add plain expects.
--
-- Run: PROVIDER_URL=http://127.0.0.1:8080 faultline run THIS_FILE
local fl = require "faultline"
local contract = fl.contract

-- The provider: $PROVIDER_URL, else query of the running reference system
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
  return sys:url("query")
end

describe("contract gateway -> query", { tags = { "contract" } }, function()

  it("GET /money/query/get-money-sum-by-address/{get-money-sum-by-address} -> 200", function()
    local r = fl.http.request("GET", provider() .. "/money/query/get-money-sum-by-address/강남구")
    contract.check(r, [[
    {
      "status": 200,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "address": "강남구",
        "sum": 52791,
        "members": 2,
        "feeds": {
          "membership": {
            "last": 3,
            "up": true
          },
          "money": {
            "last": 15,
            "up": true
          },
          "remittance": {
            "last": 144,
            "up": true
          }
        }
      },
      "contentType": "application/json",
      "matchingRules": {
        "body": {
          "$.address": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.sum": {
            "matchers": [
              {
                "match": "integer"
              }
            ]
          },
          "$.members": {
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

  it("GET /stats/failed-transfers -> 200", function()
    local r = fl.http.request("GET", provider() .. "/stats/failed-transfers")
    contract.check(r, [[
    {
      "status": 200,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "count": 3,
        "failed": 3,
        "compensated": 0,
        "by_reason": {
          "BANK_REJECTED": {
            "failed": 3,
            "compensated": 0
          }
        }
      },
      "contentType": "application/json",
      "matchingRules": {
        "body": {
          "$.count": {
            "matchers": [
              {
                "match": "integer"
              }
            ]
          },
          "$.failed": {
            "matchers": [
              {
                "match": "integer"
              }
            ]
          },
          "$.compensated": {
            "matchers": [
              {
                "match": "integer"
              }
            ]
          },
          "$.by_reason.BANK_REJECTED.failed": {
            "matchers": [
              {
                "match": "integer"
              }
            ]
          },
          "$.by_reason.BANK_REJECTED.compensated": {
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
