-- Contract test: remittance -> banking
-- Scaffolded by `faultline contract scaffold` from scenarios/contract/pacts/remittance-banking.json.
--
-- Each test sends one request of the pact to the provider and checks the answer
-- with fl.contract.check, which applies the pact's matching rules (types,
-- regexes, formats) and fails naming the path and both values. Edit freely:
-- set up provider states, tighten or loosen expectations, add plain expects.
--
-- Run: PROVIDER_URL=http://127.0.0.1:8080 faultline run THIS_FILE
local fl = require "faultline"
local contract = fl.contract

-- The provider: $PROVIDER_URL, else banking of the running reference system
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
  return sys:url("banking")
end

describe("contract remittance -> banking", { tags = { "contract" } }, function()

  it("POST /banking/account/verify -> 200", function()
    local r = fl.http.request("POST", provider() .. "/banking/account/verify", {
      headers = { "Content-Type: application/json" },
      body = [[
{"bankName":"KB","bankAccountNumber":"CT-2"}]],
    })
    contract.check(r, [[
    {
      "status": 200,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "bankName": "KB",
        "bankAccountNumber": "CT-2",
        "valid": true
      },
      "contentType": "application/json",
      "matchingRules": {
        "body": {
          "$.bankAccountNumber": {
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

  it("GET /banking/account/{id}?verify -> 200", function()
    local r = fl.http.request("GET", provider() .. "/banking/account/1?verify=1")
    contract.check(r, [[
    {
      "status": 200,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "membershipId": "1",
        "bankName": "KB",
        "bankAccountNumber": "CT-1",
        "valid": true
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
          "$.bankAccountNumber": {
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

  it("POST /banking/firmbanking/request -> 200", function()
    local r = fl.http.request("POST", provider() .. "/banking/firmbanking/request", {
      headers = { "Content-Type: application/json", "idempotency-key: S1:firmbank:fwd" },
      body = [[
{"fromBankName":"KB","fromBankAccountNumber":"CT-1","toBankName":"fl-bank","toBankAccountNumber":"000-CORP","amount":50000}]],
    })
    contract.check(r, [[
    {
      "status": 200,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "key": "S1:firmbank:fwd",
        "fromBankName": "KB",
        "fromBankAccountNumber": "CT-1",
        "toBankName": "fl-bank",
        "toBankAccountNumber": "000-CORP",
        "amount": 50000,
        "status": "APPLIED",
        "reason": ""
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
          "$.fromBankName": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.fromBankAccountNumber": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.toBankName": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.toBankAccountNumber": {
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
          "$.status": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.reason": {
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
