#!/bin/sh
# A real capture: tcpdump on loopback while scenarios/contract/00_traffic.lua
# drives the reference system a second time (the first run creates the
# members, so the capture holds the steady traffic that can be replayed,
# not one-off setup calls), then `faultline contract generate --pcap`
# (services named by port, connections to the fault-injector links ignored)
# gives pacts that verify green against the live services, and generating
# twice gives the same files. Needs root and tcpdump (skipped otherwise).
set -eu
FAULTLINE=${FAULTLINE:-build/faultline}
ROOT=${ROOT:-.}
TRANSFERD=${TRANSFERD:-build/transferd}
[ "$(id -u)" -eq 0 ] || { echo "needs root to capture on loopback"; exit 77; }
command -v tcpdump > /dev/null 2>&1 || { echo "tcpdump not installed"; exit 77; }
[ -x "$TRANSFERD" ] || { echo "no transferd built ($TRANSFERD)"; exit 77; }
T=$(mktemp -d)
DUMP_PID=
cleanup() {
	if [ -n "$DUMP_PID" ]; then kill "$DUMP_PID" 2>/dev/null || true; wait "$DUMP_PID" 2>/dev/null || true; fi
	"$FAULTLINE" ref down --data "$T/ref" > /dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

"$FAULTLINE" ref up --data "$T/ref" --lease 10 --driver $$ > "$T/up.log" 2>&1 || fail "ref up: $(tail -5 "$T/up.log")"
# the services' ports, from the topology ("services": { "NAME": { ... "port": N ...
awk '/^  "services": \{/ { s = 1; next } s && /^  [}]/ { s = 0 }
     s && /^    "[a-z]+": \{/ { gsub(/[":{ ]/, ""); name = $0 }
     s && /^      "port": / { gsub(/[^0-9]/, ""); print "--map 127.0.0.1:" $0 "=" name }' \
	"$T/ref/topology.json" > "$T/maps"
[ "$(wc -l < "$T/maps")" -ge 5 ] || fail "no service ports in the topology: $(cat "$T/maps")"

FL_REF="$T/ref" CONTRACT_RECORD=1 "$FAULTLINE" run "$ROOT/scenarios/contract/00_traffic.lua" > "$T/setup.log" 2>&1 ||
	fail "setup traffic: $(tail -20 "$T/setup.log")"
tcpdump -i lo -U -s 0 -w "$T/cap.pcap" 'tcp' > "$T/tcpdump.log" 2>&1 &
DUMP_PID=$!
i=0
while ! grep -q "listening on" "$T/tcpdump.log" 2>/dev/null; do
	i=$((i + 1)); [ $i -le 100 ] || fail "tcpdump did not start: $(cat "$T/tcpdump.log")"
	kill -0 "$DUMP_PID" 2>/dev/null || { echo "tcpdump cannot capture here: $(cat "$T/tcpdump.log")"; exit 77; }
	sleep 0.05
done
FL_REF="$T/ref" CT_RUN=2 CONTRACT_RECORD=1 "$FAULTLINE" run "$ROOT/scenarios/contract/00_traffic.lua" > "$T/run.log" 2>&1 ||
	fail "traffic: $(tail -20 "$T/run.log")"
# let tcpdump drain what the kernel already passed it: wait until the file
# stops growing (the services' long-polls keep a trickle going, so bounded)
last=-1 same=0 i=0
while [ $same -lt 3 ] && [ $i -lt 50 ]; do
	size=$(wc -c < "$T/cap.pcap")
	if [ "$size" -eq "$last" ]; then same=$((same + 1)); else same=0; fi
	last=$size i=$((i + 1))
	sleep 0.1
done
kill -INT "$DUMP_PID"; wait "$DUMP_PID" 2>/dev/null || true
DUMP_PID=

# shellcheck disable=SC2046
"$FAULTLINE" contract generate --pcap "$T/cap.pcap" --only-mapped $(cat "$T/maps") -o "$T/p1" > "$T/gen.log" 2>&1 ||
	fail "generate: $(cat "$T/gen.log")"
# shellcheck disable=SC2046
"$FAULTLINE" contract generate --pcap "$T/cap.pcap" --only-mapped $(cat "$T/maps") -o "$T/p2" > /dev/null 2>&1
for f in "$T"/p1/*.json; do
	cmp -s "$f" "$T/p2/$(basename "$f")" || fail "generation is not deterministic: $f"
done
n=$(ls "$T"/p1/*.json | wc -l)
[ "$n" -ge 4 ] || fail "only $n pacts from the capture: $(cat "$T/gen.log")"
grep -l '"name": "money"' "$T"/p1/*.json > /dev/null || fail "no pact with money as provider"
# the services' outbox feeds (GET /events?after=N) answer with whatever
# happened since N: their shape depends on the system's history, so they are
# not replayed here
"$FAULTLINE" contract verify "$T/p1" --ref --ref-data "$T/ref" --exclude-description '^GET /events' \
	> "$T/verify.log" 2>&1 ||
	fail "pacts from the capture do not verify: $(tail -40 "$T/verify.log")"
echo "live capture: $n pacts, $(tail -1 "$T/verify.log")"
