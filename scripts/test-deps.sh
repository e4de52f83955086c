#!/usr/bin/env bash
# Prepares what the test suite needs on a fresh machine. Idempotent.
set -euo pipefail

# PostgreSQL: the store contract suite also runs against a real server
# (MUNJA_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/test).
if command -v pg_ctlcluster >/dev/null 2>&1; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "starting PostgreSQL…"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
fi
