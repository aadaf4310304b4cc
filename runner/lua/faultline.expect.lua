-- faultline.expect: readable assertions.
--
--   expect(r.status).to_be(200)            -- equality (==)
--   expect(t).to_equal({ a = 1 })          -- deep equality on tables
--   expect(x).not_.to_be(nil)              -- negation of any matcher
--   expect(n).to_be_greater_than(3)        -- also _at_least, _less_than, _at_most
--   expect(s).to_match("^%d+$")            -- Lua pattern; to_match_re: POSIX regex
--   expect(s_or_t).to_contain(x)           -- substring, or element (deep equality)
--   expect(v).to_be_a("table")             -- type; also "integer", "float"
--   expect(x).to_be_close_to(1.0, 0.01)
--   expect(t).to_have_key("id"); expect(t).to_have_length(3)
--   expect(v).to_be_truthy(); to_be_falsy(); to_be_nil()
--   expect(fn).to_fail("pattern")          -- fn raises an error matching pattern
-- Matchers work with '.' and ':'. A failure raises a record
-- { fl_fail = true, message, expected, actual } that the runner shows with
-- the scenario line and the last HTTP exchange.
local core = require "faultline.core"
local inspect = require("faultline.inspect").inspect
local json_null = require("faultline.json").null

local M = {}

local function deep_equal(a, b, seen)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then
    if type(a) == "number" and type(b) == "number" then return a == b end
    return false
  end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, v in pairs(a) do
    if not deep_equal(v, b[k], seen) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end
M.deep_equal = deep_equal

-- Where two tables first differ, as a path ("$.user.id"), for messages.
local function first_difference(a, b, path)
  if type(a) ~= "table" or type(b) ~= "table" then
    if not deep_equal(a, b) then return path, a, b end
    return nil
  end
  local keys = {}
  for k in pairs(a) do keys[#keys + 1] = k end
  for k in pairs(b) do if a[k] == nil then keys[#keys + 1] = k end end
  table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
  for _, k in ipairs(keys) do
    local sub = type(k) == "number" and string.format("%s[%d]", path, k) or (path .. "." .. tostring(k))
    local p, x, y = first_difference(a[k], b[k], sub)
    if p then return p, x, y end
  end
  return nil
end

local function fail(message, expected, actual, has_expected)
  error({ fl_fail = true, message = message, expected = expected, actual = actual,
          has_expected = has_expected }, 0)
end

-- Each matcher: function(actual, ...) -> pass(bool), message-if-failed, message-if-negated-failed
local matchers = {}

function matchers.to_be(a, e)
  return a == e, string.format("expected %s, got %s", inspect(e), inspect(a)),
         string.format("expected a value other than %s", inspect(e))
end

function matchers.to_equal(a, e)
  local ok = deep_equal(a, e)
  local msg = string.format("expected %s, got %s", inspect(e), inspect(a))
  if not ok and type(a) == "table" and type(e) == "table" then
    local p, x, y = first_difference(a, e, "$")
    if p then msg = msg .. string.format("\n  first difference at %s: expected %s, got %s", p, inspect(y), inspect(x)) end
  end
  return ok, msg, string.format("expected a value not equal to %s", inspect(e))
end

local function num(a, name)
  if type(a) ~= "number" then
    fail(string.format("%s needs a number, got %s", name, inspect(a)))
  end
end

function matchers.to_be_greater_than(a, e)
  num(a, "to_be_greater_than")
  return a > e, string.format("expected a value > %s, got %s", inspect(e), inspect(a)),
         string.format("expected a value <= %s, got %s", inspect(e), inspect(a))
end
function matchers.to_be_at_least(a, e)
  num(a, "to_be_at_least")
  return a >= e, string.format("expected a value >= %s, got %s", inspect(e), inspect(a)),
         string.format("expected a value < %s, got %s", inspect(e), inspect(a))
end
function matchers.to_be_less_than(a, e)
  num(a, "to_be_less_than")
  return a < e, string.format("expected a value < %s, got %s", inspect(e), inspect(a)),
         string.format("expected a value >= %s, got %s", inspect(e), inspect(a))
end
function matchers.to_be_at_most(a, e)
  num(a, "to_be_at_most")
  return a <= e, string.format("expected a value <= %s, got %s", inspect(e), inspect(a)),
         string.format("expected a value > %s, got %s", inspect(e), inspect(a))
end
matchers.to_be_gt, matchers.to_be_ge = matchers.to_be_greater_than, matchers.to_be_at_least
matchers.to_be_lt, matchers.to_be_le = matchers.to_be_less_than, matchers.to_be_at_most

function matchers.to_be_close_to(a, e, tol)
  num(a, "to_be_close_to")
  tol = tol or 1e-9
  return math.abs(a - e) <= tol,
         string.format("expected %s ± %s, got %s (off by %s)", inspect(e), inspect(tol), inspect(a), inspect(math.abs(a - e))),
         string.format("expected a value outside %s ± %s, got %s", inspect(e), inspect(tol), inspect(a))
end

function matchers.to_match(a, pattern)
  if type(a) ~= "string" then return false, string.format("expected a string matching %q, got %s", pattern, inspect(a)), "" end
  return a:match(pattern) ~= nil, string.format("expected %s to match pattern %q", inspect(a), pattern),
         string.format("expected %s not to match pattern %q", inspect(a), pattern)
end

function matchers.to_match_re(a, re)
  if type(a) ~= "string" then return false, string.format("expected a string matching /%s/, got %s", re, inspect(a)), "" end
  return core.regex_find(re, a), string.format("expected %s to match /%s/", inspect(a), re),
         string.format("expected %s not to match /%s/", inspect(a), re)
end

function matchers.to_contain(a, x)
  if type(a) == "string" then
    return type(x) == "string" and a:find(x, 1, true) ~= nil,
           string.format("expected %s to contain %s", inspect(a), inspect(x)),
           string.format("expected %s not to contain %s", inspect(a), inspect(x))
  elseif type(a) == "table" then
    for _, v in pairs(a) do
      if deep_equal(v, x) then
        return true, "", string.format("expected %s not to contain %s", inspect(a), inspect(x))
      end
    end
    return false, string.format("expected %s to contain %s", inspect(a), inspect(x)), ""
  end
  return false, string.format("to_contain needs a string or a table, got %s", inspect(a)), ""
end

function matchers.to_be_a(a, tname)
  local actual = type(a)
  local ok = actual == tname
  if tname == "integer" or tname == "float" then ok = math.type(a) == tname; actual = math.type(a) or actual end
  if tname == "null" then ok = a == json_null; actual = a == json_null and "null" or actual end
  return ok, string.format("expected a value of type %s, got %s %s", tname, actual, inspect(a)),
         string.format("expected a value not of type %s, got %s", tname, inspect(a))
end
matchers.to_be_an = matchers.to_be_a

function matchers.to_have_key(a, k)
  if type(a) ~= "table" then return false, string.format("expected a table with key %s, got %s", inspect(k), inspect(a)), "" end
  return a[k] ~= nil, string.format("expected %s to have key %s", inspect(a), inspect(k)),
         string.format("expected %s not to have key %s", inspect(a), inspect(k))
end

function matchers.to_have_length(a, n)
  local len = (type(a) == "string" or type(a) == "table") and #a or nil
  return len == n, string.format("expected length %d, got %s (%s)", n, inspect(len), inspect(a)),
         string.format("expected a length other than %d", n)
end

function matchers.to_be_truthy(a)
  return not not a, string.format("expected a truthy value, got %s", inspect(a)),
         string.format("expected a falsy value, got %s", inspect(a))
end
function matchers.to_be_falsy(a)
  return not a, string.format("expected a falsy value, got %s", inspect(a)),
         string.format("expected a truthy value, got %s", inspect(a))
end
function matchers.to_be_nil(a)
  return a == nil, string.format("expected nil, got %s", inspect(a)), "expected a value, got nil"
end

function matchers.to_fail(a, pattern)
  if type(a) ~= "function" then return false, "to_fail needs a function, got " .. inspect(a), "" end
  local ok, err = pcall(a)
  if ok then return false, "expected the function to raise an error, it returned", "" end
  local msg = type(err) == "table" and (err.message or inspect(err)) or tostring(err)
  if pattern and not msg:find(pattern) then
    return false, string.format("expected an error matching %q, got %q", pattern, msg), ""
  end
  return true, "", string.format("expected no error, got %q", msg)
end
matchers.to_error = matchers.to_fail

local expectation_mt = {}

local function make(actual, negated)
  local self = { actual = actual, negated = negated }
  return setmetatable(self, expectation_mt)
end

expectation_mt.__index = function(self, key)
  -- rawget: a nil actual is a missing field, which would come back here
  local actual = rawget(self, "actual")
  if key == "not_" or key == "never" then return make(actual, not self.negated) end
  local m = matchers[key]
  if not m then error(string.format("expect: unknown matcher '%s'", tostring(key)), 2) end
  return function(...)
    local args = table.pack(...)
    if args.n > 0 and args[1] == self then args = table.pack(select(2, ...)) end -- called with ':'
    local ok, msg, negmsg = m(actual, table.unpack(args, 1, args.n))
    if self.negated then
      if ok then fail(negmsg, args[1], actual, args.n > 0) end
    elseif not ok then
      fail(msg, args[1], actual, args.n > 0)
    end
    return self
  end
end

--- expect(actual) -> expectation
function M.expect(actual)
  return make(actual, false)
end

--- Add a matcher: fn(actual, ...) -> ok, message, negated_message
function M.extend(name, fn)
  matchers[name] = fn
end

return M
