#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# run-bats.sh LABEL DIR... - run bats suites, stream TAP, and end with the
# plain closing line CI reads: "LABEL: N passed, M failed, K skipped".
# Exits with bats' status.
set -uo pipefail
label=$1
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
bats --tap "$@" | tee "$out"
status=${PIPESTATUS[0]}
skipped=$(grep -cE '^ok [0-9]+ .*# skip' "$out")
passed=$(( $(grep -cE '^ok [0-9]+' "$out") - skipped ))
failed=$(grep -cE '^not ok [0-9]+' "$out")
echo "$label: $passed passed, $failed failed, $skipped skipped"
exit "$status"
