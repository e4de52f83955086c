#!/usr/bin/env bash
# Accepted messages per second through POST /api/v1/messages (202 only
# after the commit) for one or more munja binaries, alternating rounds.
# Usage: bench/accept/run.sh SECONDS ROUNDS BIN [BIN…]
# Prints one line per binary, round and client count: BIN ROUND CLIENTS REQ/S P99.
set -euo pipefail
secs=$1 rounds=$2; shift 2
here=$(cd "$(dirname "$0")/../.." && pwd)
load=$(mktemp -d)/apiload
(cd "$here" && go build -o "$load" ./bench/apiload)
for r in $(seq 1 "$rounds"); do
  for bin in "$@"; do
    dir=$(mktemp -d)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    printf 'server: {listen: "127.0.0.1:%s"}\ndatabase: %s/munja.db\nlog: {level: warn}\nsms: {limits: {per_day: 0, per_recipient_per_hour: 0}}\n' "$port" "$dir" > "$dir/munja.yaml"
    token=$("$bin" --config "$dir/munja.yaml" token create bench --scope send | tail -n1)
    "$bin" --config "$dir/munja.yaml" serve 2>"$dir/serve.log" &
    pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    for c in 1 8 32; do
      out=$("$load" -url "http://127.0.0.1:$port/api/v1/messages" -token "$token" -c "$c" -d "${secs}s" \
        -body '{"to":["010-5555-{{seq}}"],"text":"부하 시험"}' 2>&1)
      rps=$(awk '/^throughput/ {print $2}' <<<"$out")
      p99=$(awk '/^latency/ {for (i=1;i<NF;i++) if ($i=="p99") print $(i+1)}' <<<"$out")
      echo "$(basename "$bin") $r $c ${rps:-?} ${p99:-?}"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
  done
done
