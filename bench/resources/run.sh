#!/usr/bin/env bash
# Cost of watching 20 things every second: munja serve vs Monit (same checks,
# `set daemon 1`), and the cost of one run of the original cron script.
# Prints CPU seconds per minute and RSS, medians of ROUNDS rounds. Usage:
#   go build -o /tmp/munja ./cmd/munja && bench/resources/run.sh /tmp/munja [seconds] [rounds]
set -euo pipefail
MUNJA=${1:?munja binary}
SECS=${2:-60}
ROUNDS=${3:-3}
command -v monit >/dev/null || { echo "needs monit (apt-get install -y monit)"; exit 1; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; pkill -f "$work/" 2>/dev/null || true; rm -rf "$work"' EXIT

# The watched things: 5 processes, 5 listening ports, 4 log files.
for i in 1 2 3 4 5; do cp /bin/sleep "$work/svc$i"; "$work/svc$i" 100000 & done
ports=()
for i in 1 2 3 4 5; do
  p=$((20000 + RANDOM % 20000)); ports+=("$p")
  # accepts and closes, so the connect checks never fill the backlog
  python3 -c "import socket;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('127.0.0.1',$p));s.listen()
while True: s.accept()[0].close()" &
done
for i in 1 2 3 4; do : > "$work/log$i"; done
# keep the logs moving a little: one line per second each
( while sleep 1; do for i in 1 2 3 4; do echo "$(date) app[$$]: request served in 12ms" >> "$work/log$i"; done; done ) &

{
  echo "server: {listen: \"127.0.0.1:0\"}"
  echo "database: \"$work/munja.db\""
  echo "log: {level: warn}"
  echo "alerting: {interval: 1s, recipients: [\"01011112222\"]}"
  echo "checks:"
  for i in 1 2 3 4 5; do echo "  - {name: svc$i, type: process, process: svc$i}"; done
  for p in "${ports[@]}"; do echo "  - {name: port$p, type: listen, port: $p}"; done
  for i in 1 2 3 4; do echo "  - {name: log$i, type: log, path: \"$work/log$i\", pattern: \"Out of memory\"}"; done
  echo "  - {name: tcp1, type: tcp, address: \"127.0.0.1:${ports[0]}\"}"
  echo "  - {name: tcp2, type: tcp, address: \"127.0.0.1:${ports[1]}\"}"
  echo "  - {name: disk-root, type: disk, mount: /, max_used_percent: 99}"
  echo "  - {name: disk-tmp, type: disk, mount: /tmp, max_used_percent: 99}"
  echo "  - {name: mem, type: memory, max_used_percent: 99}"
  echo "  - {name: load, type: load, max_load: 1000}"
} > "$work/munja.yaml"

{
  echo "set daemon 1"
  echo "set logfile $work/monit.log"
  echo "set idfile $work/monit.id"
  echo "set statefile $work/monit.state"
  echo "set pidfile $work/monit.pid"
  for i in 1 2 3 4 5; do echo "check process svc$i matching \"$work/svc$i\""; done
  for p in "${ports[@]}"; do echo "check host port$p with address 127.0.0.1"; echo "  if failed port $p type tcp then alert"; done
  for i in 1 2 3 4; do echo "check file log$i with path $work/log$i"; echo "  if content = \"Out of memory\" then alert"; done
  echo "check host tcp1 with address 127.0.0.1"; echo "  if failed port ${ports[0]} then alert"
  echo "check host tcp2 with address 127.0.0.1"; echo "  if failed port ${ports[1]} then alert"
  echo "check filesystem root with path /"; echo "  if space usage > 99% then alert"
  echo "check filesystem tmp with path /tmp"; echo "  if space usage > 99% then alert"
  echo "check system localhost"; echo "  if memory usage > 99% then alert"; echo "  if loadavg (1min) > 1000 then alert"
} > "$work/monitrc"
chmod 600 "$work/monitrc"

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
anon_kb() { awk '/RssAnon/{print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

# measure PID: after 5 s of warm-up, CPU seconds per minute over SECS, and
# RSS / anonymous RSS (MiB) at the end; one line "cpu rss anon".
measure() {
  sleep 5
  local t0; t0=$(cpu_ticks "$1")
  sleep "$SECS"
  local t1; t1=$(cpu_ticks "$1")
  awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$SECS" -v rss="$(rss_kb "$1")" -v anon="$(anon_kb "$1")" \
    'BEGIN{printf "%.3f %.1f %.1f\n", d/hz*60/s, rss/1024, anon/1024}'
}
median() { sort -n | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# Rounds alternate munja and Monit, each alone on the machine for SECS.
: > "$work/munja.res"; : > "$work/monit.res"
for round in $(seq 1 "$ROUNDS"); do
  rm -f "$work"/munja.db*
  "$MUNJA" serve ${MUNJA_PROFILE:+--cpuprofile "$MUNJA_PROFILE.$round"} --config "$work/munja.yaml" 2>"$work/munja.err" &
  mpid=$!
  measure "$mpid" >> "$work/munja.res"
  kill "$mpid"; wait "$mpid" 2>/dev/null || true

  rm -f "$work"/monit.state "$work"/monit.pid
  monit -I -c "$work/monitrc" >/dev/null 2>&1 &
  npid=$!
  measure "$npid" >> "$work/monit.res"
  kill "$npid"; wait "$npid" 2>/dev/null || true
  echo "round $round: munja $(tail -n1 "$work/munja.res"), Monit $(tail -n1 "$work/monit.res") (CPU s/min, RSS MiB, anon MiB)" >&2
done

row() { # name file
  printf '| %s | %s | %s | %s |\n' "$1" "$(cut -d' ' -f1 "$2" | median)" "$(cut -d' ' -f2 "$2" | median)" "$(cut -d' ' -f3 "$2" | median)"
}
echo "| watcher (20 checks, every 1 s; median of $ROUNDS × ${SECS} s) | CPU s / min | RSS MiB | of which anonymous MiB |"
echo "|---|---|---|---|"
row "munja serve" "$work/munja.res"
row "Monit $(monit -V | head -n1 | awk '{print $5}') (set daemon 1)" "$work/monit.res"

# The original script (../shared/seed), pointed at nothing to send: one run
# per minute under cron. TIMEFORMAT reports user+sys of the script and its
# children (pgrep, ss, journalctl, grep).
cat > "$work/check_and_alert.sh" <<'SH'
#!/bin/bash
RECIPIENTS=("01099271179" "01012345678" "01056781234")
ALERT_MSG=""
PROCESS_NAME="httpd"
if ! pgrep -x "$PROCESS_NAME" > /dev/null; then
ALERT_MSG+="[경고] $PROCESS_NAME 프로세스가 동작하지 않습니다. "
fi
PORT=80
if ! ss -ltn | grep -q ":$PORT "; then
ALERT_MSG+="[경고] $PORT 포트가 열려있지 않습니다. "
fi
ERROR_PATTERN="Out of memory"
if journalctl --since "5 minutes ago" 2>/dev/null | grep -q "$ERROR_PATTERN"; then
ALERT_MSG+="[경고] 시스템 로그에서 '$ERROR_PATTERN' 탐지됨. "
fi
SH
chmod +x "$work/check_and_alert.sh"
TIMEFORMAT='%U %S'
tot=0
for _ in 1 2 3 4 5; do
  t=$( { time "$work/check_and_alert.sh" >/dev/null 2>&1; } 2>&1 )
  tot=$(awk -v a="$tot" -v t="$t" 'BEGIN{split(t,x," "); print a + x[1] + x[2]}')
done
awk -v t="$tot" 'BEGIN{printf "| original cron script (3 checks, once a minute; one run) | %.3f | – (exits) | – |\n", t/5}'
