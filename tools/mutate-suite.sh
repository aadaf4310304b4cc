#!/bin/sh
# The default suites tools/mutate.py runs against a mutated tree (from the
# tree's root; env FAULTLINE, TRANSFERD, SEED from the caller).
#   ref       the reference system's shipped suite: faultline ref up, then
#             faultline run scenarios/e2e scenarios/chaos --seed SEED --bail
#             (the first failing test kills the mutant: the rest is not run)
#   ref-quick the reference system with two tests of scenarios/e2e/sagas.lua, a
#             completed and a compensated transfer (make test's quick
#             mutation check: it shows the machinery kills; make demo and
#             make mutate run the whole scenarios)
#   examples  the examples/orders system's suite (its e2e driver; it stops
#             at its first failing part, and its scenarios run with --bail)
# The control run of a kill (the unmutated tree, same seed) reruns only what
# failed: for ref, SUITE_PATHS (the failing tests' files, instead of the
# suite's) and SUITE_GREP (their names); for examples, EXAMPLES_PARTS (the
# driver's failing part). MUTATE_REPORT: where a ref run writes its JSON
# journal (mutate.py reads the failing tests from it).
set -eu
FAULTLINE=${FAULTLINE:-build/faultline}
SEED=${SEED:-7}
QUICK_TESTS="internal transfer completes under latency|the bank rejects an external transfer"
SUITE=${1:-ref}
case "$SUITE" in
ref | ref-quick)
	set -- scenarios/e2e scenarios/chaos
	[ "$SUITE" = ref-quick ] && set -- scenarios/e2e/sagas.lua --grep "$QUICK_TESTS"
	# shellcheck disable=SC2086 # SUITE_PATHS: scenario files, no spaces
	[ -n "${SUITE_PATHS:-}" ] && set -- $SUITE_PATHS --grep "$SUITE_GREP"
	[ -n "${MUTATE_REPORT:-}" ] && set -- "$@" --report json="$MUTATE_REPORT"
	D=$(mktemp -d)
	trap '"$FAULTLINE" ref down --data "$D/ref" >/dev/null 2>&1 || true; rm -rf "$D"' EXIT INT TERM
	"$FAULTLINE" ref up --data "$D/ref" --lease 10 --driver $$ --seed "$SEED" >"$D/up.log" 2>&1 || { cat "$D/up.log"; exit 1; }
	FL_REF_DATA="$D/ref" "$FAULTLINE" run "$@" --seed "$SEED" --bail -e FL_REF_DATA="$D/ref"
	;;
examples)
	SEEDS=$SEED BAIL=1 sh e2e/examples_orders.sh
	;;
*)
	echo "mutate-suite: unknown suite '$SUITE' (ref, ref-quick, examples)" >&2
	exit 2
	;;
esac
