#!/bin/sh
# The orphan sweep of --netns systems (root; exit 77 otherwise). Three
# systems of e2e/netns/pair.lua: A kept (live); B whose warden and driver
# are SIGKILLed; C whose launcher (and driver) are SIGKILLed half-way
# through `up`, its hosts and agents made, its service never ready.
# `faultline down --sweep` stops B (its processes gone, DATA/down.json
# says why) and removes its namespaces, veths and bridge; the next
# `up --netns` sweeps C the same way; A, and a faultline-looking namespace
# that no record owns, are never touched.
set -eu
ROOT=${ROOT:-$(pwd)}
export ROOT
. "$ROOT/tests/lib/netns.sh"
netns_need_up python3
TOPO="$ROOT/e2e/netns/pair.lua"

tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=""
DECOY=""
cleanup() {
	set +e
	for d in "$tmp"/*; do
		[ -f "$d/topology.json" ] && "$FAULTLINE" down --data "$d" >/dev/null 2>&1
	done
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	"$FAULTLINE" down --sweep >/dev/null 2>&1
	[ -n "$DECOY" ] && ip netns del "$DECOY" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*"; for f in "$tmp"/*.out "$tmp"/*/logs/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 8 "$f"; }; done; exit 1; }
ms() { echo $(($(date +%s%N) / 1000000)); }
# js FILE EXPR: a value of a JSON file (t), by a Python expression
js() { python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
made() { js "$1/topology.json" '" ".join([t["netns"]["bridge"]] + [h["ns"] + " " + h["veth"] for h in t["netns"]["hosts"].values()])'; }
procs() { js "$1/topology.json" '" ".join(str(p) for p in [v["pid"] for v in t["services"].values()] + [h["agent"]["pid"] for h in t["netns"]["hosts"].values()] + [t["proxy"]["pid"]])'; }
present() { ip netns list | grep -q "^$1\( \|$\)" || ip link show "$1" >/dev/null 2>&1; }
all_present() { for n in "$@"; do present "$n" || return 1; done; }
none_present() { for n in "$@"; do present "$n" && return 1; done; return 0; }
# gone PID: wait (up to 5 s) until it has exited (a zombie not yet reaped counts)
gone() {
	t=0
	while [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" | grep -q '^[ZX]'; do
		t=$((t + 1)); [ $t -lt 50 ] || fail "pid $1 still running"; sleep 0.1
	done
}
none_alive() { for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }

echo "== A: a kept system (live)"
A="$tmp/a"
"$FAULTLINE" up "$TOPO" --netns --keep --data "$A" >"$tmp/a.out" 2>&1 || fail "up A"
names_a=$(made "$A")

echo "== C: a launcher blocked half-way through up (SIGKILLed below)"
C="$tmp/c"
cat >"$tmp/slow.lua" <<EOF
local svc = os.getenv("ROOT") .. "/tests/selftest/up/svc.py"
return { name = "netns-slow", services = {
  { name = "never", command = "python3", args = { svc, "--host", "{host}", "--port", "{port}" },
    ready = { cmd = { "test", "-e", "$tmp/never" } }, timeout = 60 } } }
EOF
sleep 60 &
drv_c=$!
pids="$pids $drv_c"
"$FAULTLINE" up "$tmp/slow.lua" --netns --driver "$drv_c" --data "$C" >"$tmp/c.out" 2>&1 &
up_c=$!
pids="$pids $up_c"
# until its service runs: the record names C's data, and a process listens in its host
rec_c=""
t0=$(ms)
while :; do
	rec_c=$(grep -l "\"data\": \"$C\"" /run/faultline-netns/*.json 2>/dev/null || true)
	if [ -n "$rec_c" ]; then
		ns_c="faultline$(js "$rec_c" 't["index"]')-never"
		ip netns exec "$ns_c" ss -ltnH 2>/dev/null | grep -qv ':8474 ' && break
	fi
	[ $(($(ms) - t0)) -lt 15000 ] || fail "C's service never started"
	sleep 0.1
done

echo "== B: a lease system (its warden and driver are SIGKILLed below)"
B="$tmp/b"
sleep 60 &
drv_b=$!
pids="$pids $drv_b"
"$FAULTLINE" up "$TOPO" --netns --lease 30 --driver "$drv_b" --data "$B" >"$tmp/b.out" 2>&1 || fail "up B"
names_b=$(made "$B")
procs_b=$(procs "$B")

echo "== SIGKILL B's warden and driver, C's launcher and driver"
w=$(js "$B/topology.json" 't["warden"]["pid"]')
kill -9 "$w" "$drv_b"
wait "$drv_b" 2>/dev/null || true
gone "$w"
ix_c=$(js "$rec_c" 't["index"]')
names_c="faultline$ix_c $ns_c fl${ix_c}v2"
kill -9 "$up_c" "$drv_c"
wait "$up_c" 2>/dev/null || true
wait "$drv_c" 2>/dev/null || true
procs_c=$(ip netns pids "$ns_c" | tr '\n' ' ')
[ -n "$procs_c" ] || fail "no process in $ns_c to leave behind"
# shellcheck disable=SC2086
all_present $names_b $names_c || fail "the orphans' names are not all there: $names_b $names_c"

# a faultline-looking namespace that no record owns
for i in 511 510 509; do
	if [ ! -e "/run/faultline-netns/$i.json" ] && ! ip netns list | grep -q "^faultline$i-"; then
		DECOY="faultline$i-decoy"
		break
	fi
done
[ -n "$DECOY" ] && ip netns add "$DECOY"

echo "== down --sweep: B and C go (all their owners dead), A stays"
t0=$(ms)
"$FAULTLINE" down --sweep >"$tmp/sweep.out" 2>&1 || fail "down --sweep: $(cat "$tmp/sweep.out")"
echo "down --sweep: $(($(ms) - t0)) ms"
sed 's/^/  /' "$tmp/sweep.out"
# shellcheck disable=SC2086
none_present $names_b || fail "B left after the sweep: $(ip netns list; ip -br link)"
# shellcheck disable=SC2086
none_alive $procs_b || fail "B's processes left: $procs_b"
[ -f "$B/topology.down.json" ] && [ ! -f "$B/topology.json" ] || fail "B's data still records it"
grep -q 'swept' "$B/down.json" || fail "no reason in B's down.json"
# shellcheck disable=SC2086
none_present $names_c || fail "C left after the sweep: $(ip netns list)"
# shellcheck disable=SC2086
none_alive $procs_c || fail "C's processes left in its host: $procs_c"
[ -e "$rec_c" ] && fail "C's record left"
# shellcheck disable=SC2086
all_present $names_a || fail "the live system A was touched: $(ip netns list)"
grep -q "kept .*$A" "$tmp/sweep.out" || fail "A not reported as kept"
"$FAULTLINE" status --data "$A" >"$tmp/a.status" 2>&1 || fail "A not ready after the sweep: $(cat "$tmp/a.status")"
[ -z "$DECOY" ] || ip netns list | grep -q "^$DECOY" || fail "the unrecorded $DECOY was removed"

echo "== up --netns sweeps first"
D="$tmp/d"
sleep 60 &
drv_d=$!
pids="$pids $drv_d"
"$FAULTLINE" up "$TOPO" --netns --lease 30 --driver "$drv_d" --data "$D" >"$tmp/d.out" 2>&1 || fail "up D"
procs_d=$(procs "$D")
w=$(js "$D/topology.json" 't["warden"]["pid"]')
kill -9 "$w" "$drv_d"
wait "$drv_d" 2>/dev/null || true
gone "$w"
E="$tmp/e"
"$FAULTLINE" up "$TOPO" --netns --keep --data "$E" >"$tmp/e.out" 2>"$tmp/e.err" || fail "up E: $(cat "$tmp/e.err")"
grep -q "swept the orphaned hosts of .*$D" "$tmp/e.err" || fail "up E did not say it swept D: $(cat "$tmp/e.err")"
# (E may take D's index, so D's names again: D's processes and record tell)
# shellcheck disable=SC2086
none_alive $procs_d || fail "D's processes left after up E swept: $procs_d"
grep -q 'swept' "$D/down.json" || fail "no reason in D's down.json"
# shellcheck disable=SC2086
all_present $names_a || fail "A touched by up E"
"$FAULTLINE" down --data "$E" >/dev/null || fail "down E"
"$FAULTLINE" down --data "$A" >/dev/null || fail "down A"
# shellcheck disable=SC2086
none_present $names_a || fail "A left after down"
echo "ok"
