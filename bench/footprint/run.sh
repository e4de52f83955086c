#!/usr/bin/env bash
# Footprint of munja serve by number of checks: RSS, anonymous RSS and OS
# threads (/proc/PID/status) after SECS of running, and the CPU seconds it
# used in them (start-up included, /proc/PID/stat), for two builds run
# alternately (A, B, A, B…) on a fresh database, medians of ROUNDS rounds.
# The N checks come from gen.sh (the 20-check mix of bench/resources,
# repeated; interval IV). Usage:
#   (build the two binaries first, e.g.)
#   go build -o /tmp/munja-new ./cmd/munja
#   bench/footprint/run.sh /tmp/munja-old /tmp/munja-new [secs=60] [rounds=3] ["20 200 1000"] [interval=10s]
set -euo pipefail
A=${1:?binary A (old)}
B=${2:?binary B (new)}
SECS=${3:-60}
ROUNDS=${4:-3}
COUNTS=${5:-20 200 1000}
IV=${6:-10s}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
cleanup() { [ -f "$work/pids" ] && kill $(cat "$work/pids") 2>/dev/null; kill $(jobs -p) 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# measure BIN: one line "rss_mib anon_mib threads cpu_s" after SECS.
measure() {
  rm -f "$work"/munja.db*
  "$1" serve --config "$work/munja.yaml" 2>>"$work/serve.err" &
  local p=$!
  sleep "$SECS"
  local cpu
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$p/stat")
  awk -v cpu="$cpu" '/^VmRSS/{r=$2} /^RssAnon/{a=$2} /^Threads/{t=$2} END{printf "%.1f %.1f %d %s\n", r/1024, a/1024, t, cpu}' "/proc/$p/status"
  kill "$p"; wait "$p" 2>/dev/null || true
}
median() { sort -n | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
col() { cut -d' ' -f"$1" "$2" | median; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
rows=()
for n in $COUNTS; do
  [ -f "$work/pids" ] && kill $(cat "$work/pids") 2>/dev/null || true
  "$here/gen.sh" "$n" "$work" "$IV"
  : > "$work/a.res"; : > "$work/b.res"
  for round in $(seq 1 "$ROUNDS"); do
    measure "$A" >> "$work/a.res"
    measure "$B" >> "$work/b.res"
    echo "$n checks, round $round: A $(tail -n1 "$work/a.res"), B $(tail -n1 "$work/b.res") (RSS MiB, anon MiB, threads, CPU s; load $(cut -d' ' -f1 /proc/loadavg))" >&2
  done
  rows+=("| $n | $(col 1 "$work/a.res") / $(col 2 "$work/a.res") / $(col 3 "$work/a.res") / $(col 4 "$work/a.res") | $(col 1 "$work/b.res") / $(col 2 "$work/b.res") / $(col 3 "$work/b.res") / $(col 4 "$work/b.res") |")
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "| checks (interval $IV; after ${SECS} s; median of $ROUNDS) | A: RSS MiB / anon MiB / threads / CPU s | B: RSS MiB / anon MiB / threads / CPU s |"
echo "|---|---|---|"
printf '%s\n' "${rows[@]}"
