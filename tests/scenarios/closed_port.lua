-- A test hitting a closed port fails with a message naming the address.
local fl = require "faultline"

it("calls a service that is not there", function()
  local r = fl.http.get("http://127.0.0.1:" .. fl.env.CLOSED_PORT .. "/health")
  expect(r.status).to_be(200)
end)
