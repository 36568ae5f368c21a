#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Cockpit page as a person uses it: the page installed by `meson install`
# (tag cockpit), Debian's cockpit-ws on loopback with a local session (no
# login), headless Chromium driven by Selenium (cockpit-page.py), a live
# hocusd on the test's bus with its real policy, and real workspaces. As root
# the figures match hocusctl, a workspace made with hocusctl appears, and
# Start and Stop work from the page; as an unprivileged user (nobody) the
# page shows the bus policy's refusal and nothing starts. Screenshots are
# kept in the build directory's meson-logs/ (HD_SCREENSHOT_DIR overrides).
. "$(dirname "$0")/lib.sh"
: "${HD_BUILD_ROOT:?run through meson}"
WS_BIN=/usr/lib/cockpit/cockpit-ws
[ -x "$WS_BIN" ] || skip "cockpit-ws is not installed"
command -v cockpit-bridge >/dev/null || skip "cockpit-bridge is not installed"
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || skip "chromium and chromium-driver are not installed"
/usr/bin/python3 -c "import selenium" 2>/dev/null || skip "python3-selenium is not installed"
SHOTS=${HD_SCREENSHOT_DIR:-$HD_BUILD_ROOT/meson-logs}
mkdir -p "$SHOTS"

ROOT_WS_PID= VIEWER_WS_PID=
hd_at_exit 'stop_pid "$ROOT_WS_PID"; stop_pid "$VIEWER_WS_PID"'

note "the page as meson installs it"
meson install -C "$HD_BUILD_ROOT" --no-rebuild --quiet --tags cockpit --destdir "$E2E_DIR/stage" \
    > "$E2E_DIR/install.log" 2>&1 || fail "meson install --tags cockpit: $(cat "$E2E_DIR/install.log")"
manifest=$(find "$E2E_DIR/stage" -path '*/cockpit/hocusd/manifest.json' | head -n1)
[ -n "$manifest" ] || fail "meson install --tags cockpit installed no cockpit/hocusd/manifest.json"
share=${manifest%/cockpit/hocusd/manifest.json}
[ -s "$share/cockpit/hocusd/patternfly.min.css" ] ||
    fail "the page was installed without PatternFly (npm ci in src/cockpit; scripts/setup.sh runs it)"
chmod -R a+rX "$E2E_DIR/stage"

write_config
start_hocusd
new_name run cockpit-run
new_name off cockpit-off
new_name added cockpit-new
hocusctl create "$run" >/dev/null
hocusctl create "$off" >/dev/null
measure "boot_seconds=$(boot "$run")"

# cockpit-ws USER PORT: Cockpit on loopback, its bridge (and so the page's
# D-Bus client) running as USER, with the test's bus as the system bus.
cockpit_ws() {
    local user=$1 port=$2 home="$E2E_DIR/home-$1"
    mkdir -p "$home"
    chown "$user" "$home"
    setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups \
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$home" LANG=C.UTF-8 \
        XDG_DATA_DIRS="$share:/usr/share" DBUS_SYSTEM_BUS_ADDRESS="$BUS" \
        "$WS_BIN" --no-tls --address 127.0.0.1 --port "$port" --local-session=cockpit-bridge \
        > "$E2E_DIR/cockpit-$user.log" 2>&1 &
}
page_up() { curl -sf -o /dev/null "http://127.0.0.1:$1/cockpit/@localhost/hocusd/index.html"; }
port=$((20000 + $$ % 20000)) vport=$((20000 + ($$ + 7) % 20000))
cockpit_ws root "$port"
ROOT_WS_PID=$!
cockpit_ws nobody "$vport"
VIEWER_WS_PID=$!
poll 100 0.1 page_up "$port" || fail "cockpit-ws (root) does not serve the page: $(cat "$E2E_DIR/cockpit-root.log")"
poll 100 0.1 page_up "$vport" || fail "cockpit-ws (nobody) does not serve the page: $(cat "$E2E_DIR/cockpit-nobody.log")"

export HD_BUS=$BUS
page=/cockpit/@localhost/hocusd/index.html
/usr/bin/python3 "$(dirname "$0")/cockpit-page.py" root "http://127.0.0.1:$port$page" \
    "$run" "$off" "$added" "$SHOTS" || fail "the page as root (above); cockpit log: $(tail -n 20 "$E2E_DIR/cockpit-root.log")"
/usr/bin/python3 "$(dirname "$0")/cockpit-page.py" viewer "http://127.0.0.1:$vport$page" \
    "$off" "$SHOTS" || fail "the page as nobody (above); cockpit log: $(tail -n 20 "$E2E_DIR/cockpit-nobody.log")"
measure "screenshots=$SHOTS/cockpit-hocusd.png,$SHOTS/cockpit-hocusd-phone.png,$SHOTS/cockpit-hocusd-refused.png"
echo PASS
