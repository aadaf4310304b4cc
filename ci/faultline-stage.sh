#!/bin/sh
# A faultline stage for CI pipelines: starts the team's system from its
# topology file, runs its scenarios and chaos experiments, writes JUnit,
# HTML and JSON reports, stops the system, and exits with faultline's exit
# code (0 passed, 1 failed, 2 script error or nothing matched, 3
# infrastructure error, 130 interrupted; the worst of the scenarios and the
# experiments).
#
#   ci/faultline-stage.sh [SCENARIO_PATH...]        (default: scenarios)
#
# The .deb installs it as /usr/share/faultline/faultline-stage.sh.
# Environment:
#   FAULTLINE        the faultline binary (default: build/faultline, else on PATH)
#   FL_TOPOLOGY      a topology file: `faultline up` before, `faultline down`
#                    after; the scenarios get -e FL_SYS=<its data directory>
#                    (also exported as FL_UP_DATA), and its logs are kept
#                    with the reports
#   FL_EXPERIMENT    chaos experiment files (space-separated), run after the
#                    scenarios (reports chaos-junit.xml, chaos.html, chaos-journal.json)
#   FL_REPORT_DIR    where reports go (default: faultline-reports)
#   FL_JOBS          scenario files in parallel (default: 1 with FL_TOPOLOGY,
#                    since the scenarios share one system; else the CPUs)
#   FL_SEED          the seed of every random draw (default: random, printed)
#   FL_ARGS          extra arguments for `faultline run` and `faultline chaos`
#                    (e.g. "--tag smoke -e BASE=http://...")
set -eu
FAULTLINE=${FAULTLINE:-}
if [ -z "$FAULTLINE" ]; then
	if [ -x build/faultline ]; then FAULTLINE=build/faultline; else FAULTLINE=faultline; fi
fi
command -v "$FAULTLINE" >/dev/null 2>&1 || [ -x "$FAULTLINE" ] || {
	echo "faultline-stage: faultline not found (set FAULTLINE)" >&2; exit 3; }
REPORTS=${FL_REPORT_DIR:-faultline-reports}
mkdir -p "$REPORTS"
REPORTS=$(cd "$REPORTS" && pwd)
[ $# -gt 0 ] || set -- scenarios
SEED=${FL_SEED:+--seed $FL_SEED}
SYS_ARGS=""
DATA=""

down() {
	[ -n "$DATA" ] || return 0
	"$FAULTLINE" down --data "$DATA" > "$REPORTS/down.txt" 2>&1 || true
	mkdir -p "$REPORTS/logs"
	cp "$DATA"/logs/*.log "$REPORTS/logs/" 2>/dev/null || true
	rm -rf "$DATA"
	DATA=""
}
trap down EXIT
trap 'down; exit 130' INT TERM

if [ -n "${FL_TOPOLOGY:-}" ]; then
	DATA=$(mktemp -d "${TMPDIR:-/tmp}/faultline-stage.XXXXXX")
	# the system lives until `down` (or 10 s after this script dies)
	if ! "$FAULTLINE" up "$FL_TOPOLOGY" --data "$DATA" --fresh $SEED > "$REPORTS/up.txt" 2>&1; then
		cat "$REPORTS/up.txt" >&2
		echo "faultline-stage: the system in $FL_TOPOLOGY did not start" >&2
		exit 3
	fi
	cat "$REPORTS/up.txt"
	export FL_UP_DATA="$DATA"
	SYS_ARGS="-e FL_SYS=$DATA"
	JOBS=${FL_JOBS:-1}
else
	JOBS=${FL_JOBS:-$(nproc 2>/dev/null || echo 2)}
fi

set +e
# shellcheck disable=SC2086
"$FAULTLINE" run "$@" --jobs "$JOBS" $SEED $SYS_ARGS \
	--report console --report junit="$REPORTS/junit.xml" --report json="$REPORTS/journal.json" \
	--report html="$REPORTS/report.html" ${FL_ARGS:-}
rc=$?
for exp in ${FL_EXPERIMENT:-}; do
	name=$(basename "$exp" .lua)
	# shellcheck disable=SC2086
	"$FAULTLINE" chaos "$exp" $SEED $SYS_ARGS --journal "$REPORTS/chaos-$name-journal.json" \
		--report console --report junit="$REPORTS/chaos-$name-junit.xml" \
		--report html="$REPORTS/chaos-$name.html" ${FL_ARGS:-}
	crc=$?
	# the worst outcome wins: interrupted, infrastructure, script, failed
	for worst in 130 3 2 1; do
		if [ "$rc" = "$worst" ] || [ "$crc" = "$worst" ]; then rc=$worst; break; fi
	done
done
set -e
echo "faultline-stage: exit $rc; reports in $REPORTS/"
exit $rc
