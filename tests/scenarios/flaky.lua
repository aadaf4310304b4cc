-- A test that passes on its second try is reported flaky, with the failed try kept.
local tries = 0
it("passes the second time", { retries = 2 }, function()
  tries = tries + 1
  expect(tries).to_be(2)
end)
it("never passes", { retries = 1 }, function()
  expect(false).to_be_truthy()
end)
