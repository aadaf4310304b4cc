-- Contract test: remittance -> money
-- Scaffolded by `faultline contract scaffold` from scenarios/contract/pacts/remittance-money.json.
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

describe("contract remittance -> money", { tags = { "contract" } }, function()

  it("POST /money/credit -> 200", function()
    local r = fl.http.request("POST", provider() .. "/money/credit", {
      headers = { "Content-Type: application/json", "idempotency-key: S1:credit:fwd" },
      body = [[
{"membershipId":"1","amount":50000,"source":"CORP"}]],
    })
    contract.check(r, [[
    {
      "status": 200,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "result": "OK",
        "key": "S1:credit:fwd",
        "op": "credit",
        "membershipId": "1",
        "amount": 50000,
        "balance": 50000
      },
      "contentType": "application/json",
      "matchingRules": {
        "body": {
          "$.key": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.membershipId": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.amount": {
            "matchers": [
              {
                "match": "integer"
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

  it("POST /money/debit -> 200", function()
    local r = fl.http.request("POST", provider() .. "/money/debit", {
      headers = { "Content-Type: application/json", "idempotency-key: S4:debit:fwd" },
      body = [[
{"membershipId":"1","amount":1001}]],
    })
    contract.check(r, [[
    {
      "status": 200,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "result": "OK",
        "key": "S4:debit:fwd",
        "op": "debit",
        "membershipId": "1",
        "amount": 1001,
        "balance": 48999
      },
      "contentType": "application/json",
      "matchingRules": {
        "body": {
          "$.key": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.membershipId": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.amount": {
            "matchers": [
              {
                "match": "integer"
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

  it("POST /money/settle -> 200", function()
    local r = fl.http.request("POST", provider() .. "/money/settle", {
      headers = { "Content-Type: application/json", "idempotency-key: S7:settle:fwd" },
      body = [[
{"amount":101}]],
    })
    contract.check(r, [[
    {
      "status": 200,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "result": "OK",
        "key": "S7:settle:fwd",
        "op": "settle",
        "membershipId": "",
        "amount": 101,
        "balance": 0
      },
      "contentType": "application/json",
      "matchingRules": {
        "body": {
          "$.key": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.amount": {
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
