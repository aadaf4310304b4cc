-- Contract test: gateway -> remittance
-- Scaffolded by `faultline contract scaffold` from scenarios/contract/pacts/gateway-remittance.json.
--
-- Each test sends one request of the pact to the provider and checks the answer
-- with fl.contract.check, which applies the pact's matching rules (types,
-- regexes, formats) and fails naming the path and both values. Edit freely:
-- set up provider states, tighten or loosen expectations, add plain expects.
--
-- Run: PROVIDER_URL=http://127.0.0.1:8080 faultline run THIS_FILE
local fl = require "faultline"
local contract = fl.contract

-- The provider: $PROVIDER_URL, else remittance of the running reference system
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
  return sys:url("remittance")
end

describe("contract gateway -> remittance", { tags = { "contract" } }, function()

  it("GET /remittance/{id} -> 200", function()
    local r = fl.http.request("GET", provider() .. "/remittance/1")
    contract.check(r, [[
    {
      "status": 200,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "count": 6,
        "sagas": [
          {
            "saga_id": "S10",
            "state": "FAILED",
            "reason": "BANK_REJECTED",
            "remittanceType": 2,
            "type": "topup",
            "fromMembershipId": "1",
            "toMembershipId": "",
            "bankName": "KB",
            "bankAccountNumber": "CT-1",
            "amount": 701,
            "created_ms": 1795307788413,
            "deadline_ms": 1795307818413,
            "deadlineMs": 30000,
            "steps": [
              {
                "step": "validate",
                "participant": "banking",
                "fwd": "SUCCEEDED",
                "key": "S10:validate:fwd",
                "pivot": false,
                "compensable": false,
                "attempts": 1,
                "result": ""
              }
            ]
          }
        ]
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
          "$.sagas": {
            "matchers": [
              {
                "match": "type",
                "min": 1
              }
            ]
          },
          "$.sagas[*].saga_id": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.sagas[*].state": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.sagas[*].reason": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.sagas[*].remittanceType": {
            "matchers": [
              {
                "match": "integer"
              }
            ]
          },
          "$.sagas[*].type": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.sagas[*].fromMembershipId": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.sagas[*].toMembershipId": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.sagas[*].bankName": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.sagas[*].bankAccountNumber": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.sagas[*].amount": {
            "matchers": [
              {
                "match": "integer"
              }
            ]
          },
          "$.sagas[*].created_ms": {
            "matchers": [
              {
                "match": "integer"
              }
            ]
          },
          "$.sagas[*].deadline_ms": {
            "matchers": [
              {
                "match": "integer"
              }
            ]
          },
          "$.sagas[*].steps": {
            "matchers": [
              {
                "match": "type",
                "min": 1
              }
            ]
          },
          "$.sagas[*].steps[*].step": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.sagas[*].steps[*].participant": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.sagas[*].steps[*].fwd": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.sagas[*].steps[*].key": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.sagas[*].steps[*].pivot": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.sagas[*].steps[*].compensable": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.sagas[*].steps[*].attempts": {
            "matchers": [
              {
                "match": "integer"
              }
            ]
          },
          "$.sagas[*].steps[*].result": {
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
