-- Two passing tests and one failing: exit 1, all in every report.
local fl = require "faultline"

describe("arithmetic", function()
  it("adds", function()
    expect(1 + 1).to_be(2)
  end)

  it("fails on purpose", function()
    local answer = 41
    expect(answer).to_be(42)
  end)

  it("expects nil", function()
    local none
    expect(none).to_be_nil()
    expect(none).to_be_falsy()
    expect(none).never.to_be_truthy()
    expect(none).never.to_be(0)
  end)
end)
