#!/bin/sh
# A faultline stage for CI pipelines: runs scenarios, writes JUnit and JSON
# reports, and exits with faultline's exit code (0 passed, 1 failed, 2 script
# error, 3 infrastructure error, 130 interrupted).
#
#   ci/faultline-stage.sh [SCENARIO_PATH...]
#
# Environment:
#   FAULTLINE        the faultline binary (default: build/faultline, else on PATH)
#   FL_REPORT_DIR    where reports go (default: faultline-reports)
#   FL_JOBS          files in parallel (default: number of CPUs)
#   FL_ARGS          extra arguments for `faultline run` (e.g. "--tag smoke -e BASE=http://...")
set -eu
FAULTLINE=${FAULTLINE:-}
if [ -z "$FAULTLINE" ]; then
	if [ -x build/faultline ]; then FAULTLINE=build/faultline; else FAULTLINE=faultline; fi
fi
command -v "$FAULTLINE" >/dev/null 2>&1 || [ -x "$FAULTLINE" ] || {
	echo "faultline-stage: faultline not found (set FAULTLINE)" >&2; exit 3; }
REPORTS=${FL_REPORT_DIR:-faultline-reports}
JOBS=${FL_JOBS:-$(nproc 2>/dev/null || echo 2)}
mkdir -p "$REPORTS"
[ $# -gt 0 ] || set -- scenarios
set +e
# shellcheck disable=SC2086
"$FAULTLINE" run "$@" --jobs "$JOBS" \
	--report console --report junit="$REPORTS/junit.xml" --report json="$REPORTS/journal.json" \
	${FL_ARGS:-}
rc=$?
set -e
echo "faultline-stage: exit $rc; reports in $REPORTS/"
exit $rc
