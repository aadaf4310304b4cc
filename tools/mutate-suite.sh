#!/bin/sh
# The default suites tools/mutate.py runs against a mutated tree (from the
# tree's root; env FAULTLINE, TRANSFERD, SEED from the caller).
#   ref       the reference system's shipped suite: faultline ref up, then
#             faultline run scenarios/e2e scenarios/chaos --seed SEED
#   ref-quick the reference system with scenarios/e2e/sagas.lua only (make test's
#             quick mutation check)
#   examples  the examples/orders system's suite (its e2e driver)
set -eu
FAULTLINE=${FAULTLINE:-build/faultline}
SEED=${SEED:-7}
case "${1:-ref}" in
ref | ref-quick)
	WHAT="scenarios/e2e scenarios/chaos"
	[ "$1" = ref-quick ] && WHAT=scenarios/e2e/sagas.lua
	D=$(mktemp -d)
	trap '"$FAULTLINE" ref down --data "$D/ref" >/dev/null 2>&1 || true; rm -rf "$D"' EXIT INT TERM
	"$FAULTLINE" ref up --data "$D/ref" --seed "$SEED" >"$D/up.log" 2>&1 || { cat "$D/up.log"; exit 1; }
	# shellcheck disable=SC2086
	FL_REF_DATA="$D/ref" "$FAULTLINE" run $WHAT --seed "$SEED" -e FL_REF_DATA="$D/ref"
	;;
examples)
	SEEDS=$SEED sh e2e/examples_orders.sh
	;;
*)
	echo "mutate-suite: unknown suite '$1' (ref, ref-quick, examples)" >&2
	exit 2
	;;
esac
