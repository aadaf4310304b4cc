-- faultline.inspect: values as short, stable, readable text for failure
-- messages. Tables print with sorted keys, nested to a depth, long strings
-- cut; the same value always prints the same way.
local json_null = require("faultline.json").null

local M = {}

local function is_ident(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil
end

local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local function fmt(v, depth, seen, max_str)
  local t = type(v)
  if t == "string" then
    if #v > max_str then
      v = v:sub(1, max_str) .. string.format("...(%d more bytes)", #v - max_str)
    end
    return string.format("%q", v):gsub("\\\n", "\\n")
  elseif t == "number" or t == "boolean" or t == "nil" then
    return tostring(v)
  elseif v == json_null then
    return "null"
  elseif t ~= "table" then
    return "<" .. t .. ">"
  end
  if seen[v] then return "<cycle>" end
  if depth <= 0 then return "{...}" end
  seen[v] = true
  local parts, n = {}, #v
  for i = 1, n do parts[#parts + 1] = fmt(v[i], depth - 1, seen, max_str) end
  local keys = {}
  for k in pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, key_order)
  for _, k in ipairs(keys) do
    local ks = is_ident(k) and k or ("[" .. fmt(k, 1, seen, max_str) .. "]")
    parts[#parts + 1] = ks .. " = " .. fmt(v[k], depth - 1, seen, max_str)
  end
  seen[v] = nil
  if #parts == 0 then return "{}" end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

--- inspect(value [, {depth = 4, max_string = 200}]) -> string
function M.inspect(v, opts)
  opts = opts or {}
  return fmt(v, opts.depth or 4, {}, opts.max_string or 200)
end

return setmetatable(M, { __call = function(_, v, opts) return M.inspect(v, opts) end })
