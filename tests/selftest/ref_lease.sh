#!/bin/sh
# `faultline ref up --lease S --driver PID`: when the driver dies, the
# launcher's warden stops the whole reference system S seconds later (no
# orphan left by a killed test driver); without --lease the system is kept.
set -eu
: "${FAULTLINE:=build/faultline}"
[ -x "$FAULTLINE" ] || { echo "skip: $FAULTLINE not built"; exit 77; }
T=$(mktemp -d)
DRIVER=""
cleanup() {
	[ -n "$DRIVER" ] && kill "$DRIVER" 2>/dev/null
	for d in "$T/leased" "$T/kept"; do
		[ -f "$d/topology.json" ] && "$FAULTLINE" ref down --data "$d" >/dev/null 2>&1
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*"; exit 1; }
pids_of() { sed -n 's/.*"pid": \([0-9][0-9]*\).*/\1/p' "$1"; }

# a stand-in driver, and a leased system it holds; a kept system beside it
sleep 300 &
DRIVER=$!
"$FAULTLINE" ref up --data "$T/leased" --lease 1 --driver "$DRIVER" >"$T/up.out" 2>&1 ||
	fail "ref up --lease: $(cat "$T/up.out")"
grep -q "lease: stopped 1 s after pid $DRIVER ends" "$T/up.out" || fail "no lease line: $(cat "$T/up.out")"
"$FAULTLINE" ref up --data "$T/kept" >"$T/kept.out" 2>&1 || fail "ref up: $(cat "$T/kept.out")"
pids=$(pids_of "$T/leased/topology.json")
[ "$(echo "$pids" | wc -w)" -ge 9 ] || fail "expected 7 services, the proxy and the warden: $pids"
"$FAULTLINE" ref status --data "$T/leased" >/dev/null || fail "the leased system is not ready"

# the driver dies: within the lease and the stop (each service drains 2 s)
kill "$DRIVER"
wait "$DRIVER" 2>/dev/null || true
DRIVER=""
i=0
while [ -f "$T/leased/topology.json" ]; do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "the system still runs 15 s after its driver died"
	sleep 0.05
done
for p in $pids; do
	j=0
	while kill -0 "$p" 2>/dev/null; do
		j=$((j + 1))
		[ $j -lt 200 ] || fail "pid $p still runs after the warden stopped the system"
		sleep 0.05
	done
done
grep -q "driver .* is gone" "$T/leased/logs/warden.log" || fail "warden log: $(cat "$T/leased/logs/warden.log")"
echo "leased: stopped by its warden $(awk "BEGIN { print $i * 0.05 }") s after the driver died"

# the kept one (no --lease) runs on; --driver alone is refused
"$FAULTLINE" ref status --data "$T/kept" >/dev/null || fail "the kept system stopped too"
rc=0
"$FAULTLINE" ref up --data "$T/other" --driver 1 >"$T/bad.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--driver goes with --lease" "$T/bad.out" || fail "--driver alone: exit $rc: $(cat "$T/bad.out")"
"$FAULTLINE" ref down --data "$T/kept" >/dev/null || fail "ref down of the kept system"
echo "ok"
