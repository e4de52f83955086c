#!/usr/bin/env bash
# Cost of an agent watching 20 things every second and reporting them:
# munja-agent (the slim binary) vs munja agent vs Monit (same checks, `set
# daemon 1`), each alone for SECS after 5 s of warm-up, rounds alternating,
# medians of ROUNDS. The agents report to a stand-in server on 127.0.0.1
# (python, answers 202). Checks and monitrc from bench/footprint/gen.sh.
# Each binary is dropped from the page cache before it starts (as after a
# reboot): how many of a binary's pages one fault maps depends on how its
# file came into the cache (just written by the linker in big blocks, or
# read back), which moved munja-agent's RSS by up to 1 MiB (BENCHMARKS §9).
# Usage:
#   make build build-agent && bench/agent/run.sh bin/munja-agent bin/munja [secs=60] [rounds=3]
# BEFORE=/path/to/an-older-munja-agent adds it as a fourth, run first in
# each round (an A/B of two builds of munja-agent).
set -euo pipefail
SLIM=${1:?munja-agent binary}
FULL=${2:?munja binary}
SECS=${3:-60}
ROUNDS=${4:-3}
command -v monit >/dev/null || { echo "needs monit (apt-get install -y monit)"; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
cleanup() { [ -f "$work/pids" ] && kill $(cat "$work/pids") 2>/dev/null; kill $(jobs -p) 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

port=$((40000 + RANDOM % 20000))
python3 -c "
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        self.send_response(202); self.send_header('Content-Length', '0'); self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(('127.0.0.1', $port), H).serve_forever()" &
for _ in $(seq 50); do (: > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
agent="http://127.0.0.1:$port,bench-token" "$here/../footprint/gen.sh" 20 "$work" 1s

# cold FILE: writes FILE back and drops its pages from the page cache (those
# no process maps; a dirty page, e.g. of a binary just linked, would stay).
cold() { python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$(readlink -f "$1")"; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# measure PID: "cpu_s_per_min rss_mib anon_mib" over SECS after 5 s.
measure() {
  sleep 5
  local t0; t0=$(cpu_ticks "$1")
  sleep "$SECS"
  local t1; t1=$(cpu_ticks "$1")
  awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$SECS" '/^VmRSS/{r=$2} /^RssAnon/{a=$2} END{printf "%.3f %.2f %.2f\n", d/hz*60/s, r/1024, a/1024}' "/proc/$1/status"
}
median() { sort -n | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
: > "$work/slim.res"; : > "$work/full.res"; : > "$work/monit.res"; : > "$work/before.res"
BEFORE=${BEFORE:-}
for round in $(seq 1 "$ROUNDS"); do
  if [ -n "$BEFORE" ]; then
    cold "$BEFORE"
    "$BEFORE" --config "$work/munja.yaml" 2>"$work/before.err" & p=$!
    measure "$p" >> "$work/before.res"; kill "$p"; wait "$p" 2>/dev/null || true
    echo "round $round: munja-agent before $(tail -n1 "$work/before.res")" >&2
  fi
  cold "$SLIM"
  "$SLIM" --config "$work/munja.yaml" 2>"$work/slim.err" & p=$!
  measure "$p" >> "$work/slim.res"; kill "$p"; wait "$p" 2>/dev/null || true
  cold "$FULL"
  "$FULL" agent --config "$work/munja.yaml" 2>"$work/full.err" & p=$!
  measure "$p" >> "$work/full.res"; kill "$p"; wait "$p" 2>/dev/null || true
  rm -f "$work"/monit.state "$work"/monit.pid
  cold "$(command -v monit)"
  monit -I -c "$work/monitrc" >/dev/null 2>&1 & p=$!
  measure "$p" >> "$work/monit.res"; kill "$p"; wait "$p" 2>/dev/null || true
  echo "round $round: munja-agent $(tail -n1 "$work/slim.res"), munja agent $(tail -n1 "$work/full.res"), Monit $(tail -n1 "$work/monit.res") (CPU s/min, RSS MiB, anon MiB; load $(cut -d' ' -f1 /proc/loadavg))" >&2
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if grep -q "level=\(WARN\|ERROR\)" "$work/slim.err" "$work/full.err"; then
  echo "agent warnings:" >&2; grep -h "level=\(WARN\|ERROR\)" "$work/slim.err" "$work/full.err" | head -5 >&2
fi
row() { # name file
  printf '| %s | %s | %s | %s |\n' "$1" "$(cut -d' ' -f1 "$2" | median)" "$(cut -d' ' -f2 "$2" | median)" "$(cut -d' ' -f3 "$2" | median)"
}
echo "| agent (20 checks, every 1 s, reporting; median of $ROUNDS × ${SECS} s) | CPU s / min | RSS MiB | of which anonymous MiB |"
echo "|---|---|---|---|"
[ -n "$BEFORE" ] && row "munja-agent before ($BEFORE)" "$work/before.res"
row "munja-agent ($(du -m "$SLIM" | cut -f1) MB binary)" "$work/slim.res"
row "munja agent ($(du -m "$FULL" | cut -f1) MB binary)" "$work/full.res"
row "Monit $(monit -V | head -n1 | awk '{print $5}') (set daemon 1)" "$work/monit.res"
