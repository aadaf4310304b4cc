-- Interrupted while a test waits: its cleanup still runs, also when the
-- cleanup itself waits (the driver checks the marker file), the remaining
-- tests do not, the run exits 130. A second interrupt abandons the cleanup.
local fl = require "faultline"

it("waits for a long time", function()
  fl.defer(function()
    fl.sleep(tonumber(fl.env.CLEANUP_SLEEP or "0.2"))
    local f = assert(io.open(fl.env.MARKER, "w"))
    f:write("cleaned up\n")
    f:close()
  end)
  local f = assert(io.open(fl.env.MARKER .. ".started", "w"))
  f:close()
  fl.sleep(30)
end)

it("never starts", function()
  local f = assert(io.open(fl.env.MARKER .. ".second", "w"))
  f:close()
end)
