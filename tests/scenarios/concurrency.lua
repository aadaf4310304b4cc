-- fl.parallel clients overlap their waits; errors name the client;
-- the seeded PRNG replays; fl.eventually retries.
local fl = require "faultline"

it("runs clients concurrently", function()
  local t0 = fl.now()
  local r = fl.parallel(50, function(i) fl.sleep(0.1); return i * i end)
  expect(#r).to_be(50)
  expect(r[7]).to_be(49)
  expect(fl.now() - t0).to_be_less_than(0.5)
end)

it("reports the first failing client", function()
  expect(function()
    fl.parallel(5, function(i) if i == 3 then error("client three broke") end end)
  end).to_fail("client three broke")
end)

it("draws from the seed", function()
  local a = {}
  for i = 1, 5 do a[i] = fl.random(1, 1000000) end
  print("draws " .. table.concat(a, ","))
end)

it("retries until true", function()
  local n = 0
  local v = fl.eventually(function() n = n + 1; return n >= 4 and n end, { within = 2, every = 0.01 })
  expect(v).to_be(4)
end)

it("gives up with the last failure", function()
  expect(function()
    fl.eventually(function() expect(1).to_be(2) end, { within = 0.1, every = 0.02 })
  end).to_fail("not satisfied within 0.1 s")
end)

it("matchers read well", function()
  expect({ 1, 2, 3 }).to_contain(2)
  expect("hello world").to_contain("lo w")
  expect("abc123").to_match("^%a+%d+$")
  expect("2026-11-21").to_match_re("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
  expect(3.14159).to_be_close_to(3.14, 0.01)
  expect(1).not_.to_be(2)
  expect({ a = { b = 1 } }).to_equal({ a = { b = 1 } })
  expect(fl.json.decode('{"x":[1,2]}')).to_equal({ x = { 1, 2 } })
  expect(10).to_be_at_least(10)
  expect("x").to_be_a("string")
  expect(7).to_be_a("integer")
end)
