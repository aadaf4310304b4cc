#!/bin/sh
# fl.nemesis over the hosts of `faultline up --netns` (root; exit 77
# otherwise): fl.fleet.of(sys) finds each host's agent and token in the
# system's topology.json, and a seeded schedule of host partitions between
# front and back cuts their direct TCP path while each is held (from
# front's namespace to back's address) and restores it after.
set -eu
ROOT=${ROOT:-$(pwd)}
export ROOT
. "$ROOT/tests/lib/netns.sh"
netns_need_root
command -v python3 >/dev/null 2>&1 || { echo "skip: no python3"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "skip: no curl"; exit 77; }
FAULTLINE=${FAULTLINE:-$ROOT/build/faultline}
case $FAULTLINE in /*) ;; *) FAULTLINE=$ROOT/$FAULTLINE ;; esac

tmp=$(mktemp -d)
chmod 755 "$tmp"
cleanup() {
	[ -f "$tmp/sys/topology.json" ] && "$FAULTLINE" down --data "$tmp/sys" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*"; for f in "$tmp"/up.out "$tmp"/sys/logs/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 8 "$f"; }; done; exit 1; }

"$FAULTLINE" up "$ROOT/e2e/netns/pair.lua" --netns --data "$tmp/sys" >"$tmp/up.out" 2>&1 || fail "up --netns"
grep -q "loopback" "$tmp/up.out" && { echo "skip: up --netns fell back to loopback"; exit 77; }

cat >"$tmp/nemesis_up.lua" <<'EOF'
local fl = require "faultline"

-- front -> back directly (not through the link): "200", or "000" when cut
local function direct(sys)
  local p = io.popen(string.format("ip netns exec %s curl -s -m 0.5 -o /dev/null -w '%%{http_code}' %s",
    sys.services.front.netns, sys:url("back", "/hello")))
  local code = p:read("a")
  p:close()
  return code
end

describe("fl.nemesis over faultline up --netns", function()
  it("partitions the system's hosts by seed", function()
    local sys = fl.sys.open()
    local fleet = fl.fleet.of(sys)
    expect(table.concat(fleet:names(), ",")).to_be("back,front")
    expect(fleet:address("back")).to_be(sys.services.back.host)
    expect(direct(sys)).to_be("200")
    local nem = fl.nemesis.new(sys, { fleet = fleet, history = fl.history.open(os.tmpname()),
      kinds = { host_partition = 1 }, min = 5, max = 5 })
    local plan = nem:plan(20)
    io.write(nem:describe())
    for _, step in ipairs(plan) do
      local undo, desc = nem:apply(step.spec)
      expect(undo ~= nil).to_be(true)
      local held = direct(sys)
      undo()
      local after = direct(sys)
      print(string.format("  %-32s front -> back: %s while held, %s after", desc, held, after))
      expect(held).to_be("000")
      expect(after).to_be("200")
    end
  end)
end)
EOF
cd "$tmp"
"$FAULTLINE" run nemesis_up.lua -e FL_SYS="$tmp/sys" --seed 7 >"$tmp/run.out" 2>&1 ||
	{ cat "$tmp/run.out"; fail "nemesis over up --netns"; }
grep 'while held' "$tmp/run.out"
grep -q "1 passed" "$tmp/run.out" || { cat "$tmp/run.out"; fail "expected 1 passed"; }
echo ok
