-- Worker threads (tests/selftest/threads.sh): MODE=workload (2 threads of
-- fl.workload.clients at a rate, one history: per-worker counts, distinct
-- streams, merged latency, time order), draws (each worker's seeded
-- stream, printed), parallel (fl.parallel.load results by client; helper
-- functions as upvalues, recursive and sharing a counter), rate
-- (fl.rate threads=2 holds its rate), error (a worker's error with its file:line), upvalue (a
-- value that cannot cross), stop (stop() ends the workers early), threshold
-- (a p99 threshold on the merged latency fails the test), timeout (the
-- test's timeout stops busy workers).
local fl = require "faultline"
local base, mode = fl.env.BASE, fl.env.MODE

local function get()
  local r = fl.http.get(base .. "/", { raise = false })
  return r.status == 200
end

local function read_history(path)
  local evs = {}
  for line in io.lines(path) do evs[#evs + 1] = fl.json.decode(line) end
  return evs
end

it("threads " .. mode, { timeout = mode == "timeout" and 1 or 30 }, function()
  if mode == "workload" then
    local path = fl.env.HIST
    local h = assert(fl.history.open(path))
    local stats = fl.workload.clients{ history = h, threads = 2, clients = 8, rate = 100,
      duration = 1, ops = {
        get = function(c)
          local w = fl.parallel.worker()
          return get() and "ok" or "fail", { w = w, draw = fl.random(1000000000) }
        end,
      } }
    h:close()
    local evs = read_history(path)
    local per_w, draws, last_t, invokes, oks = { 0, 0 }, { {}, {} }, 0, 0, 0
    for _, e in ipairs(evs) do
      assert(e.t >= last_t, "history out of time order at t " .. e.t)
      last_t = e.t
      if e.type == "invoke" then invokes = invokes + 1 end
      if e.type == "ok" then
        oks = oks + 1
        per_w[e.value.w] = per_w[e.value.w] + 1
        draws[e.value.w][#draws[e.value.w] + 1] = e.value.draw
        assert((e.process <= 4) == (e.value.w == 1), "client " .. e.process .. " ran in worker " .. e.value.w)
      end
    end
    print(string.format("workload: ops %d ok %d sent %d planned %d held %s hist %d invokes %d " ..
      "history ok %d worker1 %d worker2 %d", stats.ops, stats.ok, stats.sent, stats.planned,
      tostring(stats.held), stats.latency_all:count(), invokes, oks, per_w[1], per_w[2]))
    assert(stats.planned == 100 and stats.sent == 100 and stats.ops == 100 and stats.ok == 100,
      "not every operation ran")
    assert(stats.latency_all:count() == stats.ops and stats.latency.get:count() == stats.ops,
      "merged histograms do not count every operation")
    assert(invokes == 100 and oks == 100, "history does not hold every operation")
    assert(per_w[1] == 52 and per_w[2] == 48, "each worker runs its 4 clients' share")
    local c = 0
    for k = 1, 8 do c = c + stats.per_client[k] end
    assert(c == 100, "per-client counts")
    local seen, common = {}, 0
    for _, d in ipairs(draws[1]) do seen[d] = true end
    for _, d in ipairs(draws[2]) do if seen[d] then common = common + 1 end end
    assert(common == 0, "workers share a stream: " .. common .. " draws in common")
  elseif mode == "draws" then
    -- each client draws before its first wait, so the order is fixed
    local res = fl.parallel.load{ threads = 2, clients = 4, fn = function()
      local d = { fl.random(1000000000), fl.random(1000000000) }
      assert(get())
      return table.concat(d, ",")
    end }
    print("draws " .. table.concat(res, " "))
  elseif mode == "parallel" then
    local deadline = fl.now() + 0.5
    -- helpers as upvalues: a recursive one, and two sharing a counter
    local function fact(k) return k <= 1 and 1 or k * fact(k - 1) end
    local count = 0
    local function inc() count = count + 1 end
    local function value() return count end
    local res = fl.parallel.load{ threads = 2, clients = 6, fn = function(i)
      inc(); inc()
      local n = 0
      while fl.now() < deadline do assert(get()); n = n + 1 end
      return { i = i, w = fl.parallel.worker(), n = n, fact = fact(5), count = value() }
    end }
    assert(count == 0, "a worker changed the main thread's upvalue")
    local total = 0
    for i = 1, 6 do
      assert(res[i].i == i and res[i].w == (i <= 3 and 1 or 2), "client " .. i .. " result")
      assert(res[i].fact == 120, "recursive helper")
      assert(res[i].count == 6, "shared upvalue: count " .. tostring(res[i].count))
      assert(res[i].n > 0, "client " .. i .. " made no request")
      total = total + res[i].n
    end
    print("parallel: 6 clients, " .. total .. " requests")
  elseif mode == "rate" then
    local res = fl.rate{ threads = 2, rate = 200, duration = 2, clients = 8,
      fn = function() assert(get()) end }
    print(string.format("rate: planned %d sent %d held %s errors %d count %d", res.planned,
      res.sent, tostring(res.held), res.errors, fl.metrics.get("rate_latency"):count()))
    assert(res.sent == 400 and res.held and res.errors == 0)
  elseif mode == "error" then
    fl.parallel.load{ threads = 2, clients = 4, fn = function(i)
      if i == 3 then error("client three fails") end
      return i
    end }
  elseif mode == "upvalue" then
    local sys = setmetatable({}, { __index = {} })
    fl.parallel.load{ threads = 2, clients = 2, fn = function() return sys end }
  elseif mode == "stop" then
    local h = assert(fl.history.open(fl.env.HIST))
    local t0 = fl.now()
    local stats = fl.workload.clients{ history = h, threads = 2, clients = 4, rate = 100,
      duration = 20, stop = function() return fl.now() > t0 + 0.3 end,
      ops = { get = function() return get() and "ok" or "fail" end } }
    local took = fl.now() - t0
    print(string.format("stop: %d ops in %.2f s", stats.ops, took))
    assert(took < 3 and stats.ops > 0 and stats.ops < 400, "stop() did not end the workers")
  elseif mode == "threshold" then
    local h = assert(fl.history.open(fl.env.HIST))
    fl.workload.clients{ history = h, threads = 2, clients = 4, rate = 50, duration = 0.5,
      name = "tight", thresholds = { "p(99) < 0.000001" },
      ops = { get = function() return get() and "ok" or "fail" end } }
  elseif mode == "timeout" then
    fl.parallel.load{ threads = 2, clients = 2, fn = function()
      local t = fl.now() + 10
      while fl.now() < t do fl.sleep(0.01) end
    end }
  end
end)
