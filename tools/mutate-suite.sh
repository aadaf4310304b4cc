#!/bin/sh
# The default suites tools/mutate.py runs against a mutated tree (from the
# tree's root; env FAULTLINE, TRANSFERD, SEED from the caller).
#   ref       the reference system's shipped suite: faultline ref up, then
#             faultline run scenarios/e2e scenarios/chaos --seed SEED
#   ref-quick the reference system with two tests of scenarios/e2e/sagas.lua, a
#             completed and a compensated transfer (make test's quick
#             mutation check: it shows the machinery kills; make demo and
#             make mutate run the whole scenarios)
#   examples  the examples/orders system's suite (its e2e driver)
set -eu
FAULTLINE=${FAULTLINE:-build/faultline}
SEED=${SEED:-7}
QUICK_TESTS="internal transfer completes under latency|the bank rejects an external transfer"
SUITE=${1:-ref}
case "$SUITE" in
ref | ref-quick)
	set -- scenarios/e2e scenarios/chaos
	[ "$SUITE" = ref-quick ] && set -- scenarios/e2e/sagas.lua --grep "$QUICK_TESTS"
	D=$(mktemp -d)
	trap '"$FAULTLINE" ref down --data "$D/ref" >/dev/null 2>&1 || true; rm -rf "$D"' EXIT INT TERM
	"$FAULTLINE" ref up --data "$D/ref" --lease 10 --driver $$ --seed "$SEED" >"$D/up.log" 2>&1 || { cat "$D/up.log"; exit 1; }
	FL_REF_DATA="$D/ref" "$FAULTLINE" run "$@" --seed "$SEED" -e FL_REF_DATA="$D/ref"
	;;
examples)
	SEEDS=$SEED sh e2e/examples_orders.sh
	;;
*)
	echo "mutate-suite: unknown suite '$SUITE' (ref, ref-quick, examples)" >&2
	exit 2
	;;
esac
