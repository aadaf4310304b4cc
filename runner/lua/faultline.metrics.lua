-- faultline.metrics: measurements and k6-style thresholds (fl.metrics).
--
--   local lat = fl.metrics.trend("transfer_latency")     -- numbers: min/max/avg/med/p(N)
--   lat:add(r.time)
--   fl.metrics.counter("transfers"):add(1)               -- totals and per-second rate
--   fl.metrics.rate("errors"):add(r.status >= 500)       -- the fraction of true values
--   fl.metrics.hist("latency"):add(s)                    -- a trend in an HDR histogram (fl.hist):
--                                                        -- fixed memory, p(N) within 1/128
--   fl.metrics.check{                                    -- fails the test when one is crossed
--     transfer_latency = { "p(99) < 0.5", "avg < 0.2" },
--     errors = { "rate < 0.01" },
--     transfers = { "count >= 100" },
--   }
--   print(fl.metrics.summary())
--
-- Metrics live per scenario file; fl.metrics.reset() clears them.
local core = require "faultline.core"

local M = {}
local registry = {}

local Trend, Counter, Rate, Hist = {}, {}, {}, {}
Trend.__index, Counter.__index, Rate.__index, Hist.__index = Trend, Counter, Rate, Hist

local function get(kind, mt, name)
  assert(type(name) == "string", "metrics: a metric needs a name")
  local m = registry[name]
  if m then
    if m.kind ~= kind then
      error(string.format("metrics: %q is a %s, not a %s", name, m.kind, kind), 3)
    end
    return m
  end
  m = setmetatable({ name = name, kind = kind, started = core.now() }, mt)
  m:reset()
  registry[name] = m
  return m
end

-- trend ------------------------------------------------------------------
function Trend:reset() self.values, self.sorted, self.sum = {}, true, 0 end
function Trend:add(v)
  assert(type(v) == "number", "trend:add needs a number")
  local vs = self.values
  vs[#vs + 1] = v
  self.sum = self.sum + v
  self.sorted = false
  return self
end
function Trend:count() return #self.values end
function Trend:avg() return #self.values > 0 and self.sum / #self.values or 0 end
function Trend:min() self:_sort(); return self.values[1] or 0 end
function Trend:max() self:_sort(); return self.values[#self.values] or 0 end
function Trend:_sort()
  if not self.sorted then table.sort(self.values); self.sorted = true end
end
--- p(q): the q-th percentile (0..100), nearest rank
function Trend:p(q)
  self:_sort()
  local n = #self.values
  if n == 0 then return 0 end
  local rank = math.max(1, math.ceil(q / 100 * n))
  return self.values[math.min(rank, n)]
end
function Trend:med() return self:p(50) end
function Trend:stat(name, arg)
  if name == "p" then return self:p(arg) end
  local f = Trend[name]
  if name == "count" or name == "avg" or name == "min" or name == "max" or name == "med" then return f(self) end
  return nil
end
function Trend:describe()
  return string.format("count=%d min=%.4g avg=%.4g med=%.4g p(90)=%.4g p(95)=%.4g p(99)=%.4g max=%.4g",
    self:count(), self:min(), self:avg(), self:med(), self:p(90), self:p(95), self:p(99), self:max())
end

-- counter ----------------------------------------------------------------
function Counter:reset() self.total = 0; self.started = core.now() end
function Counter:add(n) self.total = self.total + (n or 1); return self end
function Counter:count() return self.total end
function Counter:rate()
  local dt = core.now() - self.started
  return dt > 0 and self.total / dt or 0
end
function Counter:stat(name)
  if name == "count" then return self.total end
  if name == "rate" then return self:rate() end
  return nil
end
function Counter:describe() return string.format("count=%d rate=%.4g/s", self.total, self:rate()) end

-- rate -------------------------------------------------------------------
function Rate:reset() self.yes, self.n = 0, 0 end
function Rate:add(b) self.n = self.n + 1; if b then self.yes = self.yes + 1 end; return self end
function Rate:rate() return self.n > 0 and self.yes / self.n or 0 end
function Rate:count() return self.n end
function Rate:stat(name)
  if name == "rate" then return self:rate() end
  if name == "count" then return self.n end
  if name == "passes" then return self.yes end
  if name == "fails" then return self.n - self.yes end
  return nil
end
function Rate:describe() return string.format("rate=%.4g (%d of %d)", self:rate(), self.yes, self.n) end

-- hist: a trend kept in core/hist (fixed size, for millions of values) ----
function Hist:reset() self.hist = require("faultline.hist").new() end
function Hist:add(v)
  assert(type(v) == "number" and v >= 0, "hist:add needs a number >= 0")
  self.hist:record(v)
  return self
end
function Hist:count() return self.hist:count() end
function Hist:p(q) return self.hist:count() > 0 and self.hist:percentile(q) or 0 end
function Hist:avg() return self.hist:count() > 0 and self.hist:mean() or 0 end
function Hist:min() return self.hist:count() > 0 and self.hist:min() or 0 end
function Hist:max() return self.hist:count() > 0 and self.hist:max() or 0 end
function Hist:med() return self:p(50) end
function Hist:stat(name, arg)
  if name == "p" then return self:p(arg) end
  if name == "count" or name == "avg" or name == "min" or name == "max" or name == "med" then
    return Hist[name](self)
  end
  return nil
end
Hist.describe = Trend.describe

function M.hist(name) return get("hist", Hist, name) end
function M.trend(name) return get("trend", Trend, name) end
function M.counter(name) return get("counter", Counter, name) end
function M.rate(name) return get("rate", Rate, name) end
function M.get(name) return registry[name] end
function M.reset() registry = {} end

local ops = {
  ["<"] = function(a, b) return a < b end, ["<="] = function(a, b) return a <= b end,
  [">"] = function(a, b) return a > b end, [">="] = function(a, b) return a >= b end,
  ["=="] = function(a, b) return a == b end, ["!="] = function(a, b) return a ~= b end,
}

-- "p(99) < 0.5" -> stat, arg, op, limit
local function parse(expr)
  local stat, arg, op, limit = expr:match("^%s*(%a+)%(([%d%.]+)%)%s*([<>=!]=?)%s*([%d%.eE+-]+)%s*$")
  if not stat then
    stat, op, limit = expr:match("^%s*(%a+)%s*([<>=!]=?)%s*([%d%.eE+-]+)%s*$")
  end
  if not stat or not ops[op] or not tonumber(limit) then return nil end
  return stat, tonumber(arg), op, tonumber(limit)
end

--- check{name = {"expr", ...}, ...}: every threshold must hold; otherwise
--- the test fails with every crossed threshold and its measured value.
function M.check(thresholds)
  assert(type(thresholds) == "table", "metrics.check needs a table of thresholds")
  local crossed = {}
  local names = {}
  for name in pairs(thresholds) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local list = thresholds[name]
    if type(list) == "string" then list = { list } end
    local m = registry[name]
    if not m then
      crossed[#crossed + 1] = string.format("%s: no such metric (nothing was recorded)", name)
    else
      for _, expr in ipairs(list) do
        local stat, arg, op, limit = parse(expr)
        if not stat then error(string.format("metrics.check: cannot read threshold %q of %s", expr, name), 2) end
        local v = m:stat(stat, arg)
        if v == nil then
          error(string.format("metrics.check: a %s has no %q (threshold %q)", m.kind, stat, expr), 2)
        end
        if not ops[op](v, limit) then
          crossed[#crossed + 1] = string.format("%s %s%s = %.4g (want %s %s)", name, stat,
            arg and ("(" .. arg .. ")") or "", v, op, limit)
        end
      end
    end
  end
  if #crossed > 0 then
    error({ fl_fail = true, message = "thresholds crossed: " .. table.concat(crossed, "; ") }, 0)
  end
  return true
end

--- summary() -> one line per metric, sorted by name
function M.summary()
  local names = {}
  for name in pairs(registry) do names[#names + 1] = name end
  table.sort(names)
  local out = {}
  for _, name in ipairs(names) do
    out[#out + 1] = string.format("  %-28s %s", name, registry[name]:describe())
  end
  return table.concat(out, "\n")
end

return M
