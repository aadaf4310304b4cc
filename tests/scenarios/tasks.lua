-- Task edge cases: joins from several tasks, deadlocks detected, waits
-- only from scheduled code, pcall around waits.
local fl = require "faultline"
it("deadlock is detected", function()
  local a, b
  a = fl.spawn(function() fl.sleep(0.01); return fl.join(b) end)
  b = fl.spawn(function() fl.sleep(0.01); return fl.join(a) end)
  expect(function() fl.join(a) end).to_fail("deadlock")
end)
it("own coroutine cannot wait", function()
  local co = coroutine.wrap(function() fl.sleep(0.01) end)
  expect(co).to_fail("cannot wait here")
end)
it("pcall around a wait", function()
  local ok = pcall(function() fl.sleep(0.01) end)
  expect(ok).to_be(true)
end)
it("several tasks join one", function()
  local slow = fl.spawn(function() fl.sleep(0.05); return 7 end)
  local r = fl.parallel(3, function() return fl.join(slow) end)
  expect(r).to_equal({ 7, 7, 7 })
end)
