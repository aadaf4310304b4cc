#!/bin/sh
# ci/faultline-stage.sh on the worked case, examples/orders, as a team's
# pipeline calls it: the system started from its topology file, the unit
# scenarios and the chaos experiment run, JUnit/HTML/JSON reports and the
# services' logs left in the report directory, the system stopped; exit 0.
# With a planted bug (missing-compensation) the stage exits 1 and the JUnit
# report carries the failed invariant.
set -eu
FAULTLINE=${FAULTLINE:-build/faultline}
command -v python3 > /dev/null 2>&1 || { echo "skip: no python3"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
export FAULTLINE FL_TOPOLOGY=examples/orders/topology.lua FL_SEED=3

set +e
FL_REPORT_DIR="$T/ok" FL_EXPERIMENT=examples/orders/scenarios/chaos/random-faults.lua \
	FL_ARGS="-e CHAOS_DURATION=2 -e ORDERS_OUT=$T" sh ci/faultline-stage.sh examples/orders/scenarios/unit \
	> "$T/ok.log" 2>&1
rc=$?
set -e
[ $rc -eq 0 ] || { tail -30 "$T/ok.log"; fail "stage on the correct system exited $rc"; }
for f in junit.xml report.html journal.json chaos-random-faults-junit.xml chaos-random-faults.html \
	chaos-random-faults-journal.json logs/orders.log logs/payments.log; do
	[ -s "$T/ok/$f" ] || fail "no $f in the report directory"
done
grep -q '<testcase' "$T/ok/junit.xml" || fail "junit.xml has no test case"
grep -q 'failures="0"' "$T/ok/junit.xml" || fail "junit.xml reports failures"
grep -q "exited 0" "$T/ok/down.txt" || fail "the system was not stopped: $(cat "$T/ok/down.txt")"
echo "stage on examples/orders: exit 0, reports: $(cd "$T/ok" && ls | tr '\n' ' ')"

set +e
ORDERS_BUGS=missing-compensation FL_REPORT_DIR="$T/bug" FL_ARGS="-e ORDERS_OUT=$T" \
	sh ci/faultline-stage.sh examples/orders/scenarios/e2e/sagas.lua > "$T/bug.log" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || { tail -30 "$T/bug.log"; fail "stage with a planted bug exited $rc, want 1"; }
grep -q "S2 net effect" "$T/bug/junit.xml" || fail "junit.xml does not name S2"
echo "stage with missing-compensation: exit 1, junit.xml names S2"

# the CI examples point at files that exist (the worked case) and call the
# stage script the package installs
for f in $(grep -ho 'examples/orders/[A-Za-z0-9_./-]*' ci/examples/*.yml | sort -u); do
	[ -e "$f" ] || fail "ci/examples names $f, which does not exist"
done
grep -q /usr/share/faultline/faultline-stage.sh ci/examples/github-actions.yml ci/examples/gitlab-ci.yml \
	|| fail "ci/examples do not call the packaged stage script"
echo "ci/examples: every path they name exists"
