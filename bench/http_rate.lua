-- Request rate of fl.parallel(C, ...) GET loops against BASE for DURATION s.
-- Prints "rate: N req/s" and the runner's CPU time per request (user +
-- system, os.clock) for bench/run.sh.
local fl = require "faultline"

it("measures the request rate", { timeout = 120 }, function()
  local base = assert(fl.env.BASE, "-e BASE=http://host:port")
  local clients = tonumber(fl.env.CLIENTS or "64")
  local duration = tonumber(fl.env.DURATION or "5")
  local deadline = fl.now() + duration
  local started = fl.now()
  local cpu0 = os.clock()
  local counts = fl.parallel(clients, function()
    local n = 0
    while fl.now() < deadline do
      local r = fl.http.get(base .. "/")
      if r.status ~= 200 then error("status " .. r.status) end
      n = n + 1
    end
    return n
  end)
  local total = 0
  for _, n in ipairs(counts) do total = total + n end
  local cpu = os.clock() - cpu0
  print(string.format("rate: %.0f req/s (%d requests, %d clients, %.2f s)",
    total / (fl.now() - started), total, clients, fl.now() - started))
  print(string.format("cpu: %.2f us/req", cpu * 1e6 / math.max(total, 1)))
end)
