#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# systemd-analyze verify on the generated hocusd.service and the scrape
# target's socket and per-connection service. ExecStart is pointed at the
# freshly built binaries (verify checks that they exist); MANPATH at the
# tree's man pages (verify checks Documentation=man: entries).
set -euo pipefail
unit=$1 hocusd=$2 srcdir=$3 msocket=$4 mservice=$5 hocusctl=$6
. "$(dirname "$0")/../lib/skip.sh"
command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|^ExecStart=[^ ]*|ExecStart=$hocusd|" "$unit" > "$tmp/hocusd.service"
out=$(MANPATH="$srcdir/docs/man" systemd-analyze verify "$tmp/hocusd.service" 2>&1) || { echo "$out"; exit 1; }
# verify prints warnings without failing; a clean unit prints nothing about itself.
if echo "$out" | grep -q "hocusd.service"; then
    echo "$out"
    exit 1
fi
grep -q '^Type=notify' "$unit"
grep -q '^WatchdogSec=' "$unit"
grep -q '^Restart=on-failure' "$unit"
# hocusd reads its configuration at start only; a reload that does nothing
# would tell the operator it worked (systemctl reload). Restart instead.
if grep -q '^ExecReload=' "$unit"; then
    echo "hocusd.service has ExecReload, but hocusd does not reload its configuration"
    exit 1
fi
echo "hocusd.service verified"

cp "$msocket" "$tmp/hocusd-metrics.socket"
sed "s|^ExecStart=[^ ]*|ExecStart=$hocusctl|" "$mservice" > "$tmp/hocusd-metrics@.service"
out=$(cd "$tmp" && MANPATH="$srcdir/docs/man" systemd-analyze verify hocusd-metrics.socket \
    hocusd-metrics@.service 2>&1) || { echo "$out"; exit 1; }
if echo "$out" | grep -q "hocusd-metrics"; then
    echo "$out"
    exit 1
fi
grep -q '^Accept=yes' "$msocket"
grep -q '^ExecStart=.*hocusctl metrics --http$' "$mservice"
grep -q '^DynamicUser=yes' "$mservice"
echo "hocusd-metrics.socket and hocusd-metrics@.service verified"
