-- Contract test: orders -> inventory
-- Scaffolded by `faultline contract scaffold` from examples/orders/scenarios/contract/pacts/orders-inventory.json.
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
  return fl.ref.system(fl.env.FL_SYS):url("inventory")
end

describe("contract orders -> inventory", { tags = { "contract" } }, function()

  it("POST /inventory/reserve -> 200", function()
    local r = fl.http.request("POST", provider() .. "/inventory/reserve", {
      headers = { "Content-Type: application/json", "idempotency-key: O1:reserve:fwd" },
      body = [[
{"item":"lamp","qty":1,"order_id":"O1"}]],
    })
    contract.check(r, [[
    {
      "status": 200,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "result": "RESERVED",
        "key": "O1:reserve:fwd",
        "item": "lamp",
        "qty": 1
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
          "$.item": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.qty": {
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

  it("POST /inventory/reserve -> 409", function()
    local r = fl.http.request("POST", provider() .. "/inventory/reserve", {
      headers = { "Content-Type: application/json", "idempotency-key: O2:reserve:fwd" },
      body = [[
{"item":"lamp","qty":1,"order_id":"O2"}]],
    })
    contract.check(r, [[
    {
      "status": 409,
      "headers": {
        "Content-Type": "application/json"
      },
      "body": {
        "result": "OUT_OF_STOCK",
        "key": "O2:reserve:fwd",
        "item": "lamp",
        "stock": 0
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
          "$.item": {
            "matchers": [
              {
                "match": "type"
              }
            ]
          },
          "$.stock": {
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
