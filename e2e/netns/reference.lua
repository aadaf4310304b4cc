-- The reference system for e2e/netns_ref.sh: transfer-system/topology.lua
-- with direct edges (each service calls the others at their own hosts'
-- addresses), so a partition between two hosts cuts their traffic.
-- $NETNS_REF_ARGS: extra transferd arguments, separated by spaces.
local args = {}
for a in (os.getenv("NETNS_REF_ARGS") or ""):gmatch("%S+") do args[#args + 1] = a end
local ref = assert(loadfile((os.getenv("ROOT") or ".") .. "/transfer-system/topology.lua"))
return ref{ direct = true, args = args, transferd = os.getenv("TRANSFERD") }
