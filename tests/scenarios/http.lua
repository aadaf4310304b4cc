-- fl.http against a real server (the driver passes its URL in fl.env.BASE).
local fl = require "faultline"
local base = fl.env.BASE

it("gets a page", function()
  local r = fl.http.get(base .. "/")
  expect(r.status).to_be(200)
  expect(r.body).to_contain("hello")
  expect(r.time).to_be_greater_than(0)
end)

it("runs 64 clients at once", function()
  local ok = 0
  fl.parallel(64, function()
    for _ = 1, 10 do
      local r = fl.http.get(base .. "/")
      if r.status == 200 then ok = ok + 1 end
    end
  end)
  expect(ok).to_be(640)
end)

it("shows the exchange when an expectation fails", function()
  local r = fl.http.get(base .. "/")
  expect(r.status).to_be(418)
end)

it("sends headers given as a map or a list, and bodies", function()
  local r = fl.http.post(base .. "/echo?headers=Idempotency-Key,X-List,Content-Type", {
    headers = { ["Idempotency-Key"] = "k-42", "X-List: from a list" },
    json = { amount = 100 },
  })
  expect(r.status).to_be(200)
  expect(r.json.headers["Idempotency-Key"]).to_be("k-42")
  expect(r.json.headers["X-List"]).to_be("from a list")
  expect(r.json.headers["Content-Type"]).to_match("^application/json")
  expect(fl.json.decode(r.json.body)).to_equal({ amount = 100 })
  expect(r.json.method).to_be("POST")
end)
