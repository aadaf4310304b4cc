-- One passing and one failing test: exit 1, both in every report.
local fl = require "faultline"

describe("arithmetic", function()
  it("adds", function()
    expect(1 + 1).to_be(2)
  end)

  it("fails on purpose", function()
    local answer = 41
    expect(answer).to_be(42)
  end)
end)
