-- Tags and --grep select tests; skips and pending are reported as skipped.
local fl = require "faultline"

describe("tagged", { tags = { "fast" } }, function()
  it("fast one", function() expect(true).to_be_truthy() end)
  it("slow one", { tags = { "slow" } }, function() expect(true).to_be_truthy() end)
end)

it("untagged", function() expect(fl.env.MODE).to_be("ci") end)
it("skips itself", function() fl.skip("not on this machine") end)
pending("write me")
