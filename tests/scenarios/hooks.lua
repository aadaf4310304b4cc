-- Hooks, defers and timeouts run in the documented order; the last test
-- checks the order, so a wrong order fails this file.
local fl = require "faultline"
local log = {}
local function note(s) log[#log + 1] = s end

describe("outer", function()
  setup(function() note("setup") end)
  teardown(function() note("teardown") end)
  before_each(function() note("before") end)
  after_each(function() note("after") end)

  it("defers run last first, also after a failure", function(t)
    fl.defer(function() note("defer1") end)
    t:defer(function() note("defer2") end)
    note("body1")
  end)

  describe("inner", function()
    before_each(function() note("inner-before") end)
    after_each(function() note("inner-after") end)
    it("sees both hook levels", function()
      note("body2")
    end)
  end)

  it("times out and still cleans up", { timeout = 0.2 }, function()
    fl.defer(function() note("defer-after-timeout") end)
    fl.sleep(10)
  end)
end)

it("ran everything in order", function()
  expect(log).to_equal({
    "setup",
    "before", "body1", "after", "defer2", "defer1",
    "before", "inner-before", "body2", "inner-after", "after",
    "before", "after", "defer-after-timeout",
    "teardown",
  })
end)
