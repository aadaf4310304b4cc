-- faultline.rate: open-model load at a fixed or ramped request rate
-- (fl.rate), with latency measured from each request's *intended* send time
-- (the coordinated-omission correction of wrk2): a slow answer delays the
-- requests queued behind it, and that delay is counted, not hidden.
--
--   local res = fl.rate{
--     rate = 500, duration = 10,                -- or stages = {{duration = 5, target = 200},
--                                               --              {duration = 10, target = 800}}
--     clients = 64,                             -- concurrent senders (default 64)
--     name = "checkout_latency",                -- the fl.metrics histogram (default "rate_latency")
--     thresholds = { "p(95) < 0.2", "p(99) < 0.5" },   -- fail the test when crossed (k6's)
--     allow_miss = false,                       -- true: report a missed rate instead of failing
--     fn = function(i) fl.http.get(base .. "/") end,
--   }
--   -- res: planned, sent, errors, first_error, target_rate, achieved_rate, held,
--   --      lag_p99 (s a send started after its intended time), hist (fl.hist),
--   --      p50, p95, p99, max (s, from the intended send time)
--
-- Request k (1-based) is due at the time the planned arrivals reach k - 1
-- (a constant rate: (k - 1) / rate; stages ramp linearly from the previous
-- target, like k6's ramping-arrival-rate). Client j sends requests j,
-- j + clients, ... each at its due time, or at once when it is behind. A
-- request not started within the schedule plus 1 % (at least 50 ms) is
-- dropped. The rate is held when the requests started reach 99 % of those
-- planned; otherwise the run fails ("cannot hold 5000 req/s: ..."), unless
-- allow_miss = true, which returns held = false and says so on stderr.
local core = require "faultline.core"
local metrics = require "faultline.metrics"

local M = {}

-- The plan: segments {t0, t1, r0, r1} and the total duration.
local function plan(o)
  local segs, t = {}, 0
  if o.stages ~= nil then
    assert(type(o.stages) == "table" and #o.stages > 0, "rate: stages must be a non-empty list")
    local prev = o.start_rate or 0
    for i, s in ipairs(o.stages) do
      assert(type(s.duration) == "number" and s.duration > 0,
        "rate: stage " .. i .. " needs duration > 0")
      assert(type(s.target) == "number" and s.target >= 0, "rate: stage " .. i .. " needs target >= 0")
      segs[#segs + 1] = { t0 = t, t1 = t + s.duration, r0 = prev, r1 = s.target }
      t, prev = t + s.duration, s.target
    end
  else
    assert(type(o.rate) == "number" and o.rate > 0, "rate: rate (requests per second) > 0 is required")
    assert(type(o.duration) == "number" and o.duration > 0, "rate: duration (s) > 0 is required")
    segs[1] = { t0 = 0, t1 = o.duration, r0 = o.rate, r1 = o.rate }
    t = o.duration
  end
  return segs, t
end

-- arrivals planned in [0, t)
local function arrivals(segs, t)
  local n = 0
  for _, s in ipairs(segs) do
    if t <= s.t0 then break end
    local d, len = math.min(t, s.t1) - s.t0, s.t1 - s.t0
    n = n + s.r0 * d + (s.r1 - s.r0) * d * d / (2 * len)
  end
  return n
end

-- the time at which arrivals reach m (m < total)
local function due(segs, m)
  local before = 0
  for _, s in ipairs(segs) do
    local len = s.t1 - s.t0
    local inseg = s.r0 * len + (s.r1 - s.r0) * len / 2
    if m < before + inseg then
      local x, a = m - before, (s.r1 - s.r0) / len
      local d
      if math.abs(a) < 1e-12 then d = x / s.r0
      else d = (-s.r0 + math.sqrt(math.max(0, s.r0 * s.r0 + 2 * a * x))) / a end
      return s.t0 + d
    end
    before = before + inseg
  end
  return segs[#segs].t1
end

function M.run(o)
  assert(type(o) == "table", "rate: expected a table of options")
  assert(type(o.fn) == "function", "rate: fn must be a function")
  local segs, T = plan(o)
  local clients = o.clients or 64
  assert(math.type(clients) == "integer" and clients > 0, "rate: clients must be a positive integer")
  local planned = math.floor(arrivals(segs, T) + 1e-9)
  local name = o.name or "rate_latency"
  local h = metrics.hist(name)
  local lag = require("faultline.hist").new()
  local grace = math.max(0.05, T * 0.01)
  local sent, errors, first_error = 0, 0, nil
  local start = core.now() + 0.01
  local last_start = start
  local tasks = {}
  for j = 1, math.min(clients, math.max(planned, 1)) do
    tasks[#tasks + 1] = core.spawn(function()
      local k = j
      while k <= planned do
        local intended = start + due(segs, k - 1)
        local now = core.now()
        if now < intended then core.sleep(intended - now); now = core.now() end
        if now > start + T + grace then break end -- dropped: too late to count as sent
        sent = sent + 1
        if now > last_start then last_start = now end
        lag:record(math.max(0, now - intended)) -- the timer may fire a hair early
        local ok, err = pcall(o.fn, k)
        local t = math.max(0, core.now() - intended)
        if ok then h:add(t) else
          errors = errors + 1
          first_error = first_error or err
        end
        k = k + clients
      end
    end)
  end
  if #tasks > 0 then
    local rs = table.pack(core.join(table.unpack(tasks)))
    for i = 1, rs.n do if not rs[i].ok then error(rs[i][1], 0) end end
  end
  local span = math.max(T, last_start - start)
  local res = {
    planned = planned, sent = sent, dropped = planned - sent, errors = errors,
    first_error = first_error, target_rate = planned / T, achieved_rate = sent / span,
    hist = h.hist, lag_p99 = lag:count() > 0 and lag:percentile(99) or 0,
    p50 = h:p(50), p95 = h:p(95), p99 = h:p(99), max = h:max(),
  }
  res.held = sent >= 0.99 * planned and res.achieved_rate >= 0.99 * res.target_rate
  if not res.held then
    local msg = string.format("rate: cannot hold %.0f req/s: %d of %d planned requests sent " ..
      "(%.0f req/s), sends up to %.3f s late (p99)", res.target_rate, sent, planned,
      res.achieved_rate, res.lag_p99)
    if not o.allow_miss then error({ fl_fail = true, message = msg }, 0) end
    io.stderr:write("faultline: " .. msg .. "\n")
  end
  if o.thresholds then metrics.check{ [name] = o.thresholds } end
  return res
end

return M
