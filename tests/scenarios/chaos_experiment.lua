-- A chaos experiment against a local service (the driver passes BASE and a
-- MARKER directory). MODE=ok: the hypothesis holds; MODE=deviate: the
-- method breaks the service and the hypothesis fails; MODE=safeguard: a
-- safeguard trips during the method; MODE=forbidden: a probe targets a host
-- that is not on the allowlist; MODE=target: a declared target is not on
-- it (the file is refused before anything runs); MODE=target_ip: IP targets
-- in 198.18.0.0/24 (for --allow CIDR). Rollbacks leave marker files.
local fl = require "faultline"
local mode = fl.env.MODE or "ok"
local broken = false

local function mark(name)
  local f = assert(io.open(fl.env.MARKER .. "/" .. name, "w"))
  f:close()
end

local function status()
  if broken then return 503 end
  local url = mode == "forbidden" and "http://staging.invalid/" or fl.env.BASE .. "/"
  return fl.http.get(url).status
end

local targets = { fl.env.BASE .. "/" }
if mode == "target" then
  targets[#targets + 1] = "http://staging.invalid/"
  targets[#targets + 1] = "db.internal:5432"
elseif mode == "target_ip" then
  targets[#targets + 1] = "http://198.18.0.9:8474/healthz"
  targets[#targets + 1] = "198.18.0.200:5432"
end

fl.chaos.experiment {
  title = "the service keeps answering",
  targets = targets,
  steady_state = {
    { name = "answers 200", probe = status, tolerance = 200 },
    { name = "answers fast", probe = function()
        local t0 = fl.now(); fl.http.get(fl.env.BASE .. "/"); return fl.now() - t0
      end, tolerance = { max = 1 } },
  },
  safeguards = mode == "safeguard" and {
    { name = "never broken", probe = function() return not broken end, tolerance = true, every = 0.05 },
  } or nil,
  method = {
    { name = "break it", action = function()
        mark("action")
        if mode ~= "ok" then broken = true end
      end,
      rollback = function() broken = false; mark("rollback") end,
      pause_after = mode == "safeguard" and 1 or 0.1 },
    { name = "look", probe = status },
    { name = "wait", action = function() mark("second-action") end, pause_after = tonumber(fl.env.PAUSE or "0") },
  },
  rollbacks = {
    { name = "final cleanup", action = function() fl.sleep(0.05); mark("final") end },
  },
}
