#!/usr/bin/env bash
# RSS of one munja serve over a long run: RSS, anonymous and file-backed
# MiB (/proc/PID/status) every STEP seconds for MINUTES, N checks from
# gen.sh (interval IV): whether memory keeps growing, and how much of the
# binary the running service keeps mapped. Usage:
#   go build -o /tmp/munja ./cmd/munja
#   bench/footprint/long.sh /tmp/munja [n=20] [minutes=10] [step=60] [interval=10s]
set -euo pipefail
BIN=${1:?munja binary}
N=${2:-20}
MINUTES=${3:-10}
STEP=${4:-60}
IV=${5:-10s}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
cleanup() { [ -f "$work/pids" ] && kill $(cat "$work/pids") 2>/dev/null; kill $(jobs -p) 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$here/gen.sh" "$N" "$work" "$IV"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$BIN" serve --config "$work/munja.yaml" 2>>"$work/serve.err" &
p=$!
end=$((SECONDS + MINUTES * 60))
echo "| after s | RSS MiB | anon MiB | file MiB |"
echo "|---|---|---|---|"
while [ "$SECONDS" -lt "$end" ]; do
  sleep "$STEP"
  awk -v s="$SECONDS" '/^VmRSS/{r=$2} /^RssAnon/{a=$2} /^RssFile/{f=$2} END{printf "| %d | %.1f | %.1f | %.1f |\n", s, r/1024, a/1024, f/1024}' "/proc/$p/status"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
kill "$p"; wait "$p" 2>/dev/null || true
