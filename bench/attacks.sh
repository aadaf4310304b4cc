#!/bin/sh
# An agent under attack, the long variants (not part of make test): the
# driver tests/selftest/agent_attacks.sh with QUICK=0 (600 slow connections
# held 5 s under a 512-descriptor limit, 200 malformed requests, 4 x 8 MiB
# through slicer 1 B + latency 60 s, the regex bombs, self-loops and names),
# in ROUNDS rounds. In each round the neighbouring link's throughput with no
# attack is measured right before each attack (none, attack, none, attack),
# and the ratio taken against it. Prints each round's table, then per
# attack: rounds alive, the API p99 of a fresh client during the attack,
# the RSS peak and the neighbour ratio, as median and range; and the load
# average before and after (the machine may be shared).
# Env: BUILD (build), BENCH_ROUNDS (default 3), STRICT (passed on).
set -eu
: "${BUILD:=build}"
export FAULTLINE="${FAULTLINE:-$BUILD/faultline}" FL_TEST_HELPERS="${FL_TEST_HELPERS:-$BUILD/tests/helpers}"
ROUNDS=${BENCH_ROUNDS:-3}
. bench/lib.sh
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
echo "== agent under attack: QUICK=0, $ROUNDS rounds, the neighbour's baseline before each attack =="
echo "  load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
r=1
while [ $r -le "$ROUNDS" ]; do
	echo "  -- round $r"
	rc=0
	QUICK=0 BASE_EACH=1 sh tests/selftest/agent_attacks.sh >"$T/round$r" 2>&1 || rc=$?
	sed 's/^/  /' "$T/round$r"
	[ $rc -eq 0 ] || echo "  (round $r: the driver failed, exit $rc)"
	[ $rc -ne 77 ] || exit 77
	r=$((r + 1))
done
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  summary (per attack, over $ROUNDS rounds):"
for a in regex slowloris garbage memory selfloop; do
	rows=$(cat "$T"/round* | awk -v a="$a" '$1 == a && ($2 == "yes" || $2 == "no")')
	[ -n "$rows" ] || { echo "    $a: no result"; continue; }
	alive=$(printf '%s\n' "$rows" | awk '$2 == "yes"' | wc -l)
	n=$(printf '%s\n' "$rows" | wc -l)
	# shellcheck disable=SC2046
	{
	p99=$(stats $(printf '%s\n' "$rows" | awk '{ print $4 }'))
	rss=$(stats $(printf '%s\n' "$rows" | awk '{ print $5 }'))
	nb=$(stats $(printf '%s\n' "$rows" | awk '{ print $7 }'))
	}
	printf '    %-10s alive %d/%d; API p99 ms %s; RSS peak MB %s; neighbour/no attack %s\n' \
		"$a" "$alive" "$n" "$p99" "$rss" "$nb"
done
