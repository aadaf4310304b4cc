#!/bin/sh
# Installs faultline's build, test and benchmark dependencies from Debian's
# packages. Idempotent; needs root (or sudo). Works on a fresh Debian 12.
#   ci/install-deps.sh           build + test dependencies
#   ci/install-deps.sh --bench   also the benchmark baselines (nginx, wrk, haproxy, iperf3, tshark)
set -eu

BUILD_PKGS="build-essential pkg-config libcurl4-openssl-dev libjansson-dev libpcap-dev
liblua5.4-dev lua5.4 libcmocka-dev libevent-dev libssl-dev libhttp-parser-dev libsqlite3-dev sqlite3
libpcre2-dev libnftables-dev libnl-route-3-dev"
TEST_PKGS="curl libxml2-utils perl iproute2 tcpdump prometheus procps psmisc nftables clang-format
openssl clang libfuzzer-14-dev"
# node and npm only where the machine has no node of its own (some images ship
# NodeSource builds whose npm conflicts with Debian's); tests skip without them.
# chromium renders the HTML reports in tests/selftest/report_html.sh (skipped
# without it).
OPTIONAL_PKGS="chromium"
command -v node >/dev/null 2>&1 || OPTIONAL_PKGS="$OPTIONAL_PKGS nodejs npm"
BENCH_PKGS="nginx wrk haproxy iperf3 tshark hyperfine"

pkgs="$BUILD_PKGS $TEST_PKGS $OPTIONAL_PKGS"
[ "${1:-}" = "--bench" ] && pkgs="$pkgs $BENCH_PKGS"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install:$missing" >&2; exit 3; }
	SUDO=sudo
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -qq
required=""
for p in $missing; do
	case " $OPTIONAL_PKGS " in *" $p "*) ;; *) required="$required $p" ;; esac
done
# shellcheck disable=SC2086
[ -z "$required" ] || $SUDO apt-get install -y -qq --no-install-recommends $required
for p in $OPTIONAL_PKGS; do
	case " $missing " in *" $p "*)
		$SUDO apt-get install -y -qq --no-install-recommends "$p" ||
			echo "install-deps: optional package $p could not be installed; tests that need it will skip" >&2 ;;
	esac
done
