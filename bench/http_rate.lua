-- Request rate of fl.parallel(C, ...) GET loops against BASE for DURATION s;
-- with THREADS=N > 1, fl.parallel.load: the C clients over N worker threads.
-- Prints "rate: N req/s" and the runner's CPU time per request (user +
-- system of every thread, os.clock) for bench/run.sh.
local fl = require "faultline"

it("measures the request rate", { timeout = 120 }, function()
  local base = assert(fl.env.BASE, "-e BASE=http://host:port")
  local clients = tonumber(fl.env.CLIENTS or "64")
  local duration = tonumber(fl.env.DURATION or "5")
  local threads = math.tointeger(tonumber(fl.env.THREADS or "1"))
  local deadline = fl.now() + duration
  local started = fl.now()
  local cpu0 = os.clock()
  local function loop()
    local n = 0
    while fl.now() < deadline do
      local r = fl.http.get(base .. "/")
      if r.status ~= 200 then error("status " .. r.status) end
      n = n + 1
    end
    return n
  end
  local counts
  if threads > 1 then
    counts = fl.parallel.load{ threads = threads, clients = clients, fn = loop }
  else
    counts = fl.parallel(clients, loop)
  end
  local total = 0
  for _, n in ipairs(counts) do total = total + n end
  local cpu = os.clock() - cpu0
  print(string.format("rate: %.0f req/s (%d requests, %d clients, %d threads, %.2f s)",
    total / (fl.now() - started), total, clients, threads, fl.now() - started))
  print(string.format("cpu: %.2f us/req", cpu * 1e6 / math.max(total, 1)))
end)
