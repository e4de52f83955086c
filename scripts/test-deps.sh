#!/usr/bin/env bash
# Prepares what the test suite needs on a fresh machine. Idempotent.
set -euo pipefail

# Chromium for the console's browser tests (chromedp drives Debian's
# package; nothing is downloaded by the test tool itself).
# (fc-list's whole output is read first: grep -q stopping early would fail
# the pipeline under pipefail and reinstall every time.)
fonts=$(fc-list 2>/dev/null || true)
if [ ! -x /usr/bin/chromium ] || ! grep -qi -e nanum -e 'noto.*cjk' <<<"$fonts"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium for the browser tests…"
    export DEBIAN_FRONTEND=noninteractive
    pkgs="chromium fonts-nanum"   # a Korean font, or screenshots show boxes
    apt-get install -y -q $pkgs >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $pkgs >/dev/null; }
  else
    echo "note: /usr/bin/chromium missing and cannot be installed here; browser tests will skip (outside CI)"
  fi
fi

# strace: the durability test watches the real process fsync its WAL
# before it acknowledges a message (cmd/munja TestAcknowledgedIsSynced).
if ! command -v strace >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing strace for the durability test…"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q strace >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q strace >/dev/null; }
  else
    echo "note: strace missing and cannot be installed here; the durability test will skip (outside CI)"
  fi
fi

# rpm and systemd-analyze: the package test (cmd/munja TestPackages) reads
# the .rpm back with rpm and verifies the units with systemd-analyze
# (dpkg-deb is on every Debian). Only the tools: nothing is started.
missing=""
command -v rpm >/dev/null 2>&1 || missing="$missing rpm"
command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing$missing for the package test…"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends $missing >/dev/null; }
  else
    echo "note:$missing missing and cannot be installed here; the package test will skip (outside CI)"
  fi
fi

# PostgreSQL: the store contract suite also runs against a real server
# (MUNJA_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/test).
if command -v pg_ctlcluster >/dev/null 2>&1; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "starting PostgreSQL…"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
fi
