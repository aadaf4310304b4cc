-- The consumer side of a contract: remittance's calls to money, tested
-- against a stub that answers from the committed pact (no money service
-- needed). A request the pact does not allow gets a 500 that names what
-- did not match.
local fl = require "faultline"

local HERE = (fl.file or ""):match("^(.*)/[^/]*$") or "."
local PACT = HERE .. "/pacts/remittance-money.json"

describe("remittance as a consumer of money (stubbed from the pact)", { tags = { "contract" } }, function()
  local stub

  before_each(function()
    stub = fl.contract.stub{ pact = PACT }
  end)

  after_each(function()
    stub:close()
  end)

  it("a debit gets the pact's answer", function()
    local r = fl.http.post(stub:url("/money/debit"), {
      json = { membershipId = "7", amount = 500 },
      headers = { "Idempotency-Key: S9:debit:fwd" },
    })
    expect(r.status).to_be(200)
    expect(r.json.result).to_be("OK")
    expect(r.json.op).to_be("debit")
  end)

  it("a debit the contract does not allow is refused with the reason", function()
    local r = fl.http.post(stub:url("/money/debit"), {
      json = { membershipId = "7", amount = "lots" },
      headers = { "Idempotency-Key: S9:debit:fwd" },
    })
    expect(r.status).to_be(500)
    local why = r.json.candidates[1]
    expect(why.description).to_be("POST /money/debit -> 200")
    expect(why.mismatches[1].path).to_be("$.body.amount")
  end)
end)
