#!/bin/sh
# e2e: `faultline ref up` and `ref restart` hand their stdout/stderr to no
# detached process: piped through cat or captured by $(...), they return.
# Every service and the proxy read /dev/null and write to their own log.
set -eu
. "${ROOT:-.}/e2e/ref_lua/lib.sh"
D="$REF_TMP/stdio"
REF_SYSTEMS="$D"

# `| cat` returns only once every writer of the pipe has closed it
timeout 20 sh -c '"$1" ref up --data "$2" 2>&1 | cat' sh "$FAULTLINE" "$D" >"$REF_TMP/up.out" || {
	rc=$?
	cat "$REF_TMP/up.out"
	echo "ref up | cat did not return (rc $rc)"
	exit 1
}
grep -q "reference system up" "$REF_TMP/up.out" || { cat "$REF_TMP/up.out"; echo "no announcement"; exit 1; }

pids=$(sed -n 's/.*"pid": \([0-9][0-9]*\).*/\1/p' "$D/topology.json")
[ "$(echo "$pids" | wc -w)" -eq 8 ] || { echo "expected 8 pids (7 services + proxy), got: $pids"; exit 1; }
if [ -d /proc/self/fd ]; then
	for p in $pids; do
		in=$(readlink "/proc/$p/fd/0")
		out=$(readlink "/proc/$p/fd/1")
		errf=$(readlink "/proc/$p/fd/2")
		[ "$in" = /dev/null ] || { echo "pid $p: stdin is $in"; exit 1; }
		case "$out" in "$D"/logs/*.log) ;; *) echo "pid $p: stdout is $out"; exit 1 ;; esac
		[ "$errf" = "$out" ] || { echo "pid $p: stderr $errf differs from stdout $out"; exit 1; }
	done
fi
# the announcement went to the log (stdout), not to a dead pipe
grep -q "transferd money listening on" "$D/logs/money.log" || { echo "money.log lacks the announcement"; exit 1; }

# $(...) capture of a restart returns as well, and the restarted service is up
"$FAULTLINE" ref kill money --data "$D" >/dev/null
i=0
until "$FAULTLINE" ref status --data "$D" 2>/dev/null | grep -q "money .*DOWN"; do
	i=$((i + 1))
	[ $i -lt 200 ] || { echo "money did not die"; exit 1; }
	sleep 0.05
done
out=$(timeout 20 "$FAULTLINE" ref restart money --data "$D" 2>&1) || { echo "restart: $out"; exit 1; }
echo "$out" | grep -q "money restarted" || { echo "restart said: $out"; exit 1; }
[ "$(grep -c "transferd money listening on" "$D/logs/money.log")" -eq 2 ] || { echo "restart did not announce in money.log"; exit 1; }

"$FAULTLINE" ref down --data "$D" >"$REF_TMP/down.out" 2>&1 || { cat "$REF_TMP/down.out"; exit 1; }
grep -q "money.*exited 0" "$REF_TMP/down.out" || { cat "$REF_TMP/down.out"; exit 1; }
echo "ref up/restart detach from the caller's stdio"
