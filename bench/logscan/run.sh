#!/usr/bin/env bash
# munja logscan vs grep -F / grep -E on generated syslog-like files (64 MiB,
# 256 MiB, 1 GiB; rare matches), one core (taskset -c 0) and two, A/B
# alternating, medians of wall time, CPU time and peak RSS.
#   bench/logscan/run.sh                 # builds munja as `make build` does
#   ROUNDS=9 SIZES=64M bench/logscan/run.sh
#   MUNJA=/usr/bin/munja bench/logscan/run.sh
# The files are written to a temp dir and removed (up to 1 GiB at a time).
set -euo pipefail
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install -y time)"; exit 1; }
command -v taskset >/dev/null || { echo "needs taskset (apt-get install -y util-linux)"; exit 1; }
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "${MUNJA:-}" ]; then
  CGO_ENABLED=0 go build -trimpath -o "$tmp/munja" ./cmd/munja
  MUNJA=$tmp/munja
fi
go build -o "$tmp/bench" ./bench/logscan
"$tmp/bench" -munja "$MUNJA" -sizes "${SIZES:-64M,256M,1G}" -rounds "${ROUNDS:-5}" \
  -patterns "${PATTERNS:-}" -dir "$tmp"
