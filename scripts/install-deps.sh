#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install the Debian packages lixs needs, but only those that are missing.
# Usage: scripts/install-deps.sh build|check
# "build" is enough to compile and run the daemon; "check" adds what the
# test suite drives (bats, the upstream clients and daemons, clang).
set -eu

build_pkgs="gcc make pkg-config libc6-dev libxen-dev libseccomp-dev libcap-ng-dev libsystemd-dev libzstd-dev"
check_pkgs="$build_pkgs bats xenstore-utils xen-utils-4.17 clang libclang-rt-14-dev valgrind procps systemd man-db gnuplot-nox"

case "${1:-build}" in
build) want=$build_pkgs ;;
check) want=$check_pkgs ;;
*) echo "usage: $0 build|check" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing missing Debian packages:$missing" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >&2
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing >&2
