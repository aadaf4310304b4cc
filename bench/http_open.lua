-- Open-model load against BASE at RATE req/s for DURATION s (fl.rate, on
-- THREADS worker threads, default 1):
-- prints "open: target T achieved A held H p50 .. p99 .. lag_p99 .." for
-- bench/run.sh. A missed rate is reported, not failed (allow_miss).
local fl = require "faultline"

it("holds a request rate", { timeout = 120 }, function()
  local base = assert(fl.env.BASE, "-e BASE=http://host:port")
  local res = fl.rate{
    rate = tonumber(fl.env.RATE or "1000"), duration = tonumber(fl.env.DURATION or "5"),
    clients = math.tointeger(tonumber(fl.env.CLIENTS or "64")), allow_miss = true,
    threads = math.tointeger(tonumber(fl.env.THREADS or "1")),
    fn = function()
      local r = fl.http.get(base .. "/") -- base: an upvalue, copied to each worker
      if r.status ~= 200 then error("status " .. r.status) end
    end,
  }
  print(string.format("open: target %.1f achieved %.1f held %s sent %d planned %d errors %d " ..
    "p50 %.3f ms p99 %.3f ms lag_p99 %.3f ms", res.target_rate, res.achieved_rate,
    tostring(res.held), res.sent, res.planned, res.errors, res.p50 * 1e3, res.p99 * 1e3,
    res.lag_p99 * 1e3))
end)
