-- Contract test: orders -> payments
-- Scaffolded by `faultline contract scaffold` from examples/orders/scenarios/contract/pacts/orders-payments.json.
--
-- Each test sends one request of the pact to the provider and checks the answer
-- with fl.contract.check, which applies the pact's matching rules (types,
-- regexes, formats) and fails naming the path and both values. Edit freely:
-- set up provider states, tighten or loosen expectations, add plain expects.
--
-- Run: PROVIDER_URL=http://127.0.0.1:8080 faultline run THIS_FILE
local fl = require "faultline"
local contract = fl.contract

local function provider()
  if fl.env.PROVIDER_URL then return fl.env.PROVIDER_URL end
  if fl.env.CONTRACT_FRESH ~= "1" or not fl.env.FL_SYS then
    fl.skip("replays recorded requests: run after 00_traffic.lua on a fresh orders system " ..
            "(-e FL_SYS=DIR -e CONTRACT_FRESH=1; e2e/examples_orders.sh does)")
  end
  return fl.ref.system(fl.env.FL_SYS):url("payments")
end

describe("contract orders -> payments", { tags = { "contract" } }, function()

  it("POST /payments/charge -> 200", function()
    local r = fl.http.request("POST", provider() .. "/payments/charge", {
      headers = { "Content-Type: application/json", "idempotency-key: O1:charge:fwd" },
      body = [[
{"customer":"ann","amount":30,"order_id":"O1"}]],
    })
    contract.check(r, [[
    {
      "status": 200,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "result": "CHARGED",
        "key": "O1:charge:fwd",
        "amount": 30,
        "balance": 70
      },
      "contentType": "application/json",
      "matchingRules": {
        "body": {
          "$.result": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
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

  it("POST /payments/charge -> 402", function()
    local r = fl.http.request("POST", provider() .. "/payments/charge", {
      headers = { "Content-Type: application/json", "idempotency-key: O3:charge:fwd" },
      body = [[
{"customer":"ann","amount":1000,"order_id":"O3"}]],
    })
    contract.check(r, [[
    {
      "status": 402,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "result": "INSUFFICIENT_FUNDS",
        "key": "O3:charge:fwd",
        "balance": 70
      },
      "contentType": "application/json",
      "matchingRules": {
        "body": {
          "$.result": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.key": {
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

  it("POST /payments/refund -> 200", function()
    local r = fl.http.request("POST", provider() .. "/payments/refund", {
      headers = { "Content-Type: application/json", "idempotency-key: O2:charge:comp" },
      body = [[
{"forward_key":"O2:charge:fwd"}]],
    })
    contract.check(r, [[
    {
      "status": 200,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "result": "REFUNDED",
        "key": "O2:charge:comp",
        "forward_key": "O2:charge:fwd",
        "amount": 30
      },
      "contentType": "application/json",
      "matchingRules": {
        "body": {
          "$.result": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.key": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.forward_key": {
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
