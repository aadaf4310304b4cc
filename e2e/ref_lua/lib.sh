# Shared by the e2e/ref_*.sh drivers (sourced): start a reference system
# in a temporary directory, run Lua scenarios against it, always stop it.
FAULTLINE=${FAULTLINE:-$(pwd)/build/faultline}
TRANSFERD=${TRANSFERD:-$(pwd)/build/transferd}
ROOT=${ROOT:-$(pwd)}
export TRANSFERD
[ -x "$FAULTLINE" ] || { echo "faultline not built ($FAULTLINE)"; exit 77; }
[ -x "$TRANSFERD" ] || { echo "transferd not built ($TRANSFERD)"; exit 77; }
REF_TMP=$(mktemp -d)
REF_SYSTEMS=""

ref_cleanup() {
	for d in $REF_SYSTEMS; do
		if [ -f "$d/topology.json" ]; then
			"$FAULTLINE" ref down --data "$d" >/dev/null 2>&1 || true
		fi
	done
	rm -rf "$REF_TMP"
}
trap ref_cleanup EXIT INT TERM

# ref_up NAME [faultline ref up args...]: starts a system in $REF_TMP/NAME
ref_up() {
	name=$1
	shift
	REF_DATA="$REF_TMP/$name"
	REF_SYSTEMS="$REF_SYSTEMS $REF_DATA"
	"$FAULTLINE" ref up --data "$REF_DATA" --lease 10 --driver $$ "$@" >"$REF_TMP/$name.up" 2>&1 || {
		cat "$REF_TMP/$name.up"
		exit 1
	}
}

# ref_run FILE [faultline run args...]: runs a scenario file against $REF_DATA
ref_run() {
	file=$1
	shift
	if ! FL_REF="$REF_DATA" "$FAULTLINE" run "$ROOT/$file" "$@"; then
		keep="$ROOT/${BUILD:-build}/test-logs/ref-$(basename "$REF_DATA")"
		rm -rf "$keep" && mkdir -p "$keep" && cp -r "$REF_DATA/logs" "$REF_DATA/run" "$keep/" 2>/dev/null || true
		echo "--- service logs kept in $keep; last lines: ---"
		"$FAULTLINE" ref logs --data "$REF_DATA" 2>/dev/null | tail -n 30
		exit 1
	fi
}

# ref_down: stops $REF_DATA and fails unless every process exited 0
ref_down() {
	"$FAULTLINE" ref down --data "$REF_DATA"
}
