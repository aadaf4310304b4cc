-- A syntax error on line 5: exit 2 naming file:line.
describe("broken", function()
  it("never runs", function()
    local x =
  end)
end)
