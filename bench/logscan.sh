#!/usr/bin/env bash
# munja logscan --count vs GNU grep -c on a 1 GB syslog-like file in page
# cache, side by side with hyperfine. Usage:
#   go build -o /tmp/munja ./cmd/munja && bench/logscan.sh /tmp/munja [size]
set -euo pipefail
MUNJA=${1:?munja binary}
SIZE=${2:-1G}
f=${LOGSCAN_FILE:-/tmp/munja-bench-$SIZE.log}
[ -f "$f" ] || go run ./bench/loggen -size "$SIZE" -o "$f"
cat "$f" > /dev/null   # into page cache
echo "file: $f ($(du -h "$f" | cut -f1)); counts:"
echo "  grep -F: $(grep -F -c 'Out of memory' "$f")  munja: $("$MUNJA" logscan --count --pattern 'Out of memory' "$f")"
echo "  grep -E: $(grep -E -c 'Out of (memory|swap)' "$f")  munja: $("$MUNJA" logscan --regex --count --pattern 'Out of (memory|swap)' "$f")"
# Output goes to a file, not /dev/null: GNU grep stops at the first match
# when it sees /dev/null.
hyperfine -N --warmup 2 --runs ${RUNS:-10} --export-markdown /tmp/logscan.md --export-json /tmp/logscan.json \
  --output=pipe \
  "grep -F -c 'Out of memory' $f" \
  "$MUNJA logscan --count --pattern 'Out of memory' $f" \
  "grep -E -c 'Out of (memory|swap)' $f" \
  "$MUNJA logscan --regex --count --pattern 'Out of (memory|swap)' $f"
cat /tmp/logscan.md
# medians (hyperfine's table shows means; this machine is shared and noisy)
python3 - <<'PY'
import json
r = json.load(open('/tmp/logscan.json'))['results']
print('| command | median wall | min wall | mean user+sys |')
print('|---|---|---|---|')
for x in r:
    cmd = x['command'].replace('|', chr(92) + '|')
    print(f"| `{cmd}` | {x['median']*1000:.0f} ms | {x['min']*1000:.0f} ms | {(x['user'] + x['system'])*1000:.0f} ms |")
PY
