#!/bin/sh
# Mutation testing, the quick part make test runs (make mutate runs them all):
# every mutant in mutants/ still applies to the tree, and one mutant run end
# to end (copy, rebuild, the suite against the mutated reference system) is
# killed, while the unmutated tree passes the same suite (mutate.py checks
# that baseline first and exits 3 when it fails).
set -eu
command -v python3 >/dev/null 2>&1 || { echo "python3 is not installed"; exit 77; }
BUILD=${BUILD:-build}
python3 tools/mutate.py --check
out=$(python3 tools/mutate.py --build "$BUILD" --only saga-completes-early \
	--suite 'sh tools/mutate-suite.sh ref-quick' --no-control --min-kill 1 2>&1) || {
	echo "$out"
	echo "mutate_quick: the mutant was not killed (or the baseline failed)"
	exit 1
}
echo "$out"
echo "$out" | grep -q '^baseline ref: passes' || { echo "mutate_quick: no baseline run"; exit 1; }
echo "$out" | grep -q 'KILLED .*saga-completes-early' || { echo "mutate_quick: not killed"; exit 1; }
