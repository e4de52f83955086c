#!/usr/bin/env bash
# Runs a command (the test suite) while processes named like the ones the
# original script watched (httpd) run on the machine, so that a test that
# depends on what else runs here fails in every run, not only on a host
# with Apache. Usage: scripts/with-decoys.sh COMMAND [ARG…]
set -euo pipefail
dir=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
for name in httpd; do
  cp "$(command -v sleep)" "$dir/$name"
  "$dir/$name" 86400 &
  pids+=($!)
done
echo "decoy processes running: httpd (pid ${pids[0]})"
"$@"
