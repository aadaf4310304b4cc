-- faultline.rate: open-model load at a fixed or ramped request rate
-- (fl.rate), with latency measured from each request's *intended* send time
-- (the coordinated-omission correction of wrk2): a slow answer delays the
-- requests queued behind it, and that delay is counted, not hidden.
--
--   local res = fl.rate{
--     rate = 500, duration = 10,                -- or stages = {{duration = 5, target = 200},
--                                               --              {duration = 10, target = 800}}
--     clients = 64,                             -- concurrent senders (default 64)
--     threads = 2,                              -- worker threads (default 1; faultline.load)
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
-- With threads = N the senders are shared out over N worker threads
-- (faultline.load) with one start time: each keeps its requests, so the rate
-- splits with them; counts and histograms merge. fl.workload.clients runs
-- its operations on the same schedule (M.schedule, M.client).
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

--- schedule(o) -> the plan of a rate or stages option set (o.rate and
--- o.duration, or o.stages, start_rate): {segs, T (s), planned (requests),
--- grace (s a send may start past T)}; raises on bad options
function M.schedule(o)
  local segs, T = plan(o)
  return { segs = segs, T = T, planned = math.floor(arrivals(segs, T) + 1e-9),
           grace = math.max(0.05, T * 0.01) }
end

--- tally() -> the counts of one sender group: sent, errors, first_error,
--- last_start, lat (fl.hist of latency from the intended send time), lag
--- (fl.hist of how late sends started)
function M.tally()
  local H = require "faultline.hist"
  return { sent = 0, errors = 0, last_start = 0, lat = H.new(), lag = H.new() }
end

--- client(sched, start, j, clients, fn, acc [, stop]): sender j of `clients`
--- sends requests j, j + clients, ... each at its due time after `start`
--- (fl.now() seconds; the same for every thread of a run), or at once when
--- behind; a request that cannot start by the end of the plan plus its grace
--- is dropped. fn(k, intended) makes request k; when it raises, the error is counted
--- in acc.errors (the first kept), else its latency from the intended send
--- time goes into acc.lat. stop() true ends the sender early.
function M.client(sched, start, j, clients, fn, acc, stop)
  local k, segs, T, grace = j, sched.segs, sched.T, sched.grace
  while k <= sched.planned do
    local intended = start + due(segs, k - 1)
    local now = core.now()
    if now < intended then core.sleep(intended - now); now = core.now() end
    if now > start + T + grace or (stop and stop()) then break end -- dropped: too late
    acc.sent = acc.sent + 1
    if now > acc.last_start then acc.last_start = now end
    acc.lag:record(math.max(0, now - intended)) -- the timer may fire a hair early
    local ok, err = pcall(fn, k, intended)
    if ok then acc.lat:record(math.max(0, core.now() - intended)) else
      acc.errors = acc.errors + 1
      if acc.first_error == nil then acc.first_error = err end
    end
    k = k + clients
  end
end

--- add(into, acc): acc's counts added to the tally `into`
function M.add(into, acc)
  into.sent, into.errors = into.sent + acc.sent, into.errors + acc.errors
  if into.first_error == nil then into.first_error = acc.first_error end
  if acc.last_start > into.last_start then into.last_start = acc.last_start end
  into.lat:merge(acc.lat)
  into.lag:merge(acc.lag)
end

--- verdict(sched, start, acc, o) -> the result table of fl.rate; raises
--- (or warns with o.allow_miss) when the rate was not held. `what` names
--- the caller in the message ("rate", "workload").
function M.verdict(sched, start, acc, o, what)
  local T, planned = sched.T, sched.planned
  local span = math.max(T, acc.last_start - start)
  local h = acc.lat
  local res = {
    planned = planned, sent = acc.sent, dropped = planned - acc.sent, errors = acc.errors,
    first_error = acc.first_error, target_rate = planned / T, achieved_rate = acc.sent / span,
    hist = h, lag_p99 = acc.lag:count() > 0 and acc.lag:percentile(99) or 0,
    p50 = h:count() > 0 and h:percentile(50) or 0, p95 = h:count() > 0 and h:percentile(95) or 0,
    p99 = h:count() > 0 and h:percentile(99) or 0, max = h:max(),
  }
  res.held = acc.sent >= 0.99 * planned and res.achieved_rate >= 0.99 * res.target_rate
  if not res.held then
    local msg = string.format("%s: cannot hold %.0f req/s: %d of %d planned requests sent " ..
      "(%.0f req/s), sends up to %.3f s late (p99)", what or "rate", res.target_rate, acc.sent,
      planned, res.achieved_rate, res.lag_p99)
    res.miss = msg
    if not o.allow_miss then error({ fl_fail = true, message = msg }, 0) end
    io.stderr:write("faultline: " .. msg .. "\n")
  end
  return res
end

-- In a worker thread (faultline.load): senders first..last of a run.
function M._worker(i, n, a)
  local load = require "faultline.load"
  local first, last = load.split(a.clients, n, i)
  local acc = M.tally()
  local tasks = {}
  for j = first, last do
    tasks[#tasks + 1] = core.spawn(M.client, a.sched, a.start, j, a.clients, a.fn, acc, load.stopping)
  end
  if #tasks > 0 then
    local rs = table.pack(core.join(table.unpack(tasks)))
    for k = 1, rs.n do if not rs[k].ok then error(rs[k][1], 0) end end
  end
  return acc
end

function M.run(o)
  assert(type(o) == "table", "rate: expected a table of options")
  assert(type(o.fn) == "function", "rate: fn must be a function")
  local sched = M.schedule(o)
  local clients = o.clients or 64
  assert(math.type(clients) == "integer" and clients > 0, "rate: clients must be a positive integer")
  local threads = o.threads or 1
  assert(math.type(threads) == "integer" and threads >= 1, "rate: threads must be a positive integer")
  local name = o.name or "rate_latency"
  local m = metrics.hist(name)
  clients = math.min(clients, math.max(sched.planned, 1))
  threads = math.min(threads, clients)
  local start = core.now() + (threads > 1 and 0.05 or 0.01) -- time for the workers to start
  local acc = M.tally()
  if threads > 1 then
    local fn = o.fn
    local per = require("faultline.load").run(threads, M._worker,
      { sched = sched, start = start, clients = clients, fn = fn },
      { what = "the worker", what_arg = "fn" })
    for _, a in ipairs(per) do M.add(acc, a) end
  else
    local tasks = {}
    for j = 1, clients do tasks[j] = core.spawn(M.client, sched, start, j, clients, o.fn, acc) end
    local rs = table.pack(core.join(table.unpack(tasks)))
    for i = 1, rs.n do if not rs[i].ok then error(rs[i][1], 0) end end
  end
  m.hist:merge(acc.lat)
  local res = M.verdict(sched, start, acc, o, "rate")
  if o.thresholds then metrics.check{ [name] = o.thresholds } end
  return res
end

return M
