-- fl.sys, fl.nemesis and fl.workload on a system faultline did not write
-- (tests/selftest/up/pair.lua): clients call front (which calls back through
-- its link) while a seeded schedule faults the link and the processes.
--   faultline up tests/selftest/up/pair.lua --data DIR
--   faultline run tests/selftest/up/chaos.lua -e FL_SYS=DIR --seed 7
local fl = require "faultline"
local http = fl.http

local DURATION = tonumber(fl.env.DURATION or "") or 4

describe("pair under a nemesis", function()
  it("sees the topology", function()
    local sys = fl.sys.open()
    expect(sys.name).to_be("pair")
    expect(table.concat(sys:started(), ",")).to_be("back,front")
    expect(table.concat(sys:link_names(), ",")).to_be("front->back")
    local r = http.get(sys:url("front", "/call"))
    expect(r.json.calls.FL_LINK_BACK).to_be("back")
  end)

  -- the driver runs this twice with one seed and once with another
  it("draws a schedule from the seed", function()
    local sys = fl.sys.open()
    local h = fl.history.open(os.tmpname())
    local plan = fl.nemesis.new(sys, { history = h }):plan(20)
    h:close()
    expect(#plan > 3).to_be(true)
    if fl.env.PLAN then
      local f = assert(io.open(fl.env.PLAN, "w"))
      f:write(fl.json.encode(plan))
      f:close()
    end
  end)

  it("clients record a history with the fault windows", { timeout = DURATION + 60 }, function()
    local sys = fl.sys.open()
    local path = fl.env.HISTORY or os.tmpname()
    local h = fl.history.open(path)
    local hold = tonumber(fl.env.HOLD or "")
    local nem = fl.nemesis.new(sys, { history = h, min = hold or 0.3, max = hold or 0.8, gap = 0.1,
      kinds = fl.env.KINDS and { [fl.env.KINDS] = 1 } or nil })
    fl.defer(function() nem:heal() end)
    nem:plan(DURATION)
    local done = false
    local task = fl.spawn(function() return nem:run(DURATION, function() return done end) end)
    local stats = fl.workload.clients{ history = h, clients = 3, rate = 30, duration = DURATION,
      ops = {
        call = function()
          local r = http.get(sys:url("front", "/call"), { timeout = 2, raise = false })
          if r.status == 0 then return "info", { error = r.error } end
          local via = r.json and r.json.calls and r.json.calls.FL_LINK_BACK
          if via == "back" then return "ok", { via = via } end
          return "fail", { status = r.status, via = via }
        end,
        hello = { invoke = function(c) return { client = c.client } end,
                  run = function()
                    local r = http.get(sys:url("back", "/hello"), { timeout = 2, raise = false })
                    return r.status == 200 and "ok" or "info", { status = r.status }
                  end },
      } }
    done = true
    local log = fl.join(task)
    nem:heal()
    h:close()
    print(string.format("  %d ops (%d ok, %d fail, %d info); faults: %s", stats.ops, stats.ok,
      stats.fail, stats.info, table.concat(log, ", ")))
    expect(stats.ops > 10).to_be(true)
    -- every operation's latency went into the live histograms
    expect(stats.latency_all:count()).to_be(stats.ops)
    expect(stats.latency.call:count()).to_be(stats.by_f.call)
    expect(stats.latency.hello:count()).to_be(stats.by_f.hello)
    expect(stats.latency_all:percentile(99) >= stats.latency_all:percentile(50)).to_be(true)
    expect(#log > 0).to_be(true)
    -- the history has the operations and the fault windows
    local f = assert(io.open(path))
    local text = f:read("a")
    f:close()
    expect(text:find('"type":"invoke"', 1, true) ~= nil).to_be(true)
    expect(text:find('"event":"fault"', 1, true) ~= nil).to_be(true)
    -- healed: both ready, the link clean
    for _, svc in ipairs(sys:started()) do expect(sys:wait_ready(svc, 10)).to_be(true) end
    expect(#sys:link("front->back"):toxics()).to_be(0)
  end)
end)
