#!/usr/bin/env bash
# Writes the watched things and a munja config with N checks into DIR, in
# the mix of bench/resources (per 20: 5 processes, 5 listening ports, 4 log
# files, 2 TCP connects, 2 disks, memory, load), the checks cycling over 5
# processes, 5 ports and 4 log files. Starts the processes and listeners
# (their PIDs in DIR/pids), and DIR/monitrc: the same checks for Monit. Usage:
#   bench/footprint/gen.sh N DIR [interval]        # then: munja serve --config DIR/munja.yaml
# agent=URL,TOKEN in the environment adds host: and agent: for munja agent.
set -euo pipefail
N=${1:?number of checks}
DIR=${2:?directory}
IV=${3:-10s}
mkdir -p "$DIR"
: > "$DIR/pids"
# The process names are this run's own (svc1_PID...): a name shared with
# another run of gen.sh on the machine (another bench) made each process
# check watch two or three processes, and the numbers depend on that.
tag=$$
for i in 1 2 3 4 5; do
  cp /bin/sleep "$DIR/svc${i}_$tag"; "$DIR/svc${i}_$tag" 100000 & echo $! >> "$DIR/pids"
done
ports=()
for i in 1 2 3 4 5; do
  p=$((20000 + RANDOM % 20000)); ports+=("$p")
  python3 -c "import socket;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('127.0.0.1',$p));s.listen()
while True: s.accept()[0].close()" &
  echo $! >> "$DIR/pids"
done
for i in 1 2 3 4; do : > "$DIR/log$i"; done
( while sleep 1; do for i in 1 2 3 4; do echo "$(date) app[$$]: request served in 12ms" >> "$DIR/log$i"; done; done ) &
echo $! >> "$DIR/pids"
echo "${ports[*]}" > "$DIR/ports"

{
  echo "server: {listen: \"127.0.0.1:0\"}"
  echo "database: \"$DIR/munja.db\""
  echo "log: {level: warn}"
  echo "alerting: {interval: $IV, recipients: [\"01011112222\"]}"
  if [ -n "${agent:-}" ]; then
    echo "host: bench-agent"
    echo "agent: {server: \"${agent%,*}\", token: \"${agent#*,}\"}"
  fi
  echo "checks:"
  for ((k = 0; k < N; k++)); do
    r=$((k / 20)) j=$((k % 20))
    if ((j < 5)); then echo "  - {name: svc$j-$r, type: process, process: svc$((j + 1))_$tag}"
    elif ((j < 10)); then echo "  - {name: port$j-$r, type: listen, port: ${ports[j - 5]}}"
    elif ((j < 14)); then echo "  - {name: log$j-$r, type: log, path: \"$DIR/log$((j - 9))\", pattern: \"Out of memory\"}"
    elif ((j < 16)); then echo "  - {name: tcp$j-$r, type: tcp, address: \"127.0.0.1:${ports[j - 14]}\"}"
    elif ((j < 18)); then echo "  - {name: disk$j-$r, type: disk, mount: /, max_used_percent: 99}"
    elif ((j == 18)); then echo "  - {name: mem-$r, type: memory, max_used_percent: 99}"
    else echo "  - {name: load-$r, type: load, max_load: 1000}"
    fi
  done
} > "$DIR/munja.yaml"

{
  echo "set daemon ${MONIT_EVERY:-1}"
  echo "set logfile $DIR/monit.log"
  echo "set idfile $DIR/monit.id"
  echo "set statefile $DIR/monit.state"
  echo "set pidfile $DIR/monit.pid"
  for ((k = 0; k < N; k++)); do
    r=$((k / 20)) j=$((k % 20))
    if ((j < 5)); then echo "check process svc$j-$r matching \"$DIR/svc$((j + 1))_$tag\""
    elif ((j < 10)); then echo "check host port$j-$r with address 127.0.0.1"; echo "  if failed port ${ports[j - 5]} type tcp then alert"
    elif ((j < 14)); then echo "check file log$j-$r with path $DIR/log$((j - 9))"; echo "  if content = \"Out of memory\" then alert"
    elif ((j < 16)); then echo "check host tcp$j-$r with address 127.0.0.1"; echo "  if failed port ${ports[j - 14]} then alert"
    elif ((j < 18)); then echo "check filesystem disk$j-$r with path /"; echo "  if space usage > 99% then alert"
    elif ((r == 0 && j == 18)); then echo "check system localhost"; echo "  if memory usage > 99% then alert"
    elif ((r == 0)); then echo "  if loadavg (1min) > 1000 then alert" # Monit has one system check
    fi
  done
} > "$DIR/monitrc"
chmod 600 "$DIR/monitrc"
