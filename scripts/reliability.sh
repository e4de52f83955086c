#!/usr/bin/env bash
# make reliability: the fault and attack scenarios in their long version
# (up to 30 minutes), gathered into docs/RELIABILITY.md. The short version
# of each runs in `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-deps.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
start=$(date -u +%FT%TZ)
status=0
go test -count=1 -timeout 40m ./reliability/... -args -full -report "$out" || status=$?
{
  echo "# Reliability: faults and attacks, measured"
  echo
  echo "Written by \`make reliability\` (\`scripts/reliability.sh\`: \`go test ./reliability/... -args -full -report DIR\`)"
  echo "on $(uname -m), $(nproc) cores, commit $(git rev-parse --short HEAD), started $start."
  echo "Each section says what its scenario does and what it measured; the short version of every"
  echo "scenario runs in \`make test\` (seconds), so a fix cannot regress unseen."
  if [ "$status" != 0 ]; then echo; echo "**The run FAILED (go test exit $status): see the sections below and the test log.**"; fi
  echo
  for f in $(ls "$out"/*.md 2>/dev/null | sort); do cat "$f"; echo; done
} > docs/RELIABILITY.md
echo "wrote docs/RELIABILITY.md"
exit "$status"
