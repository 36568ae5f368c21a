#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Starts what hocusd runs on: virtlogd, libvirtd and the system D-Bus daemon.
# Without systemd as PID 1 it starts each one itself, only if it is not
# already running, and records it; "stop" stops only what "start" started.
#   scripts/services.sh start|stop|status
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
mkdir -p "$HOCUS_RUN"

started() { grep -qx "$1" "$HOCUS_RUN/started" 2>/dev/null; }
record() { started "$1" || echo "$1" >> "$HOCUS_RUN/started"; }

start_system_bus() {
    if [ -S /run/dbus/system_bus_socket ] && busctl --system list >/dev/null 2>&1; then
        # Running already: make sure it has read hocusd's policy.
        busctl --system call org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus ReloadConfig >/dev/null 2>&1 || true
        return
    fi
    say "Starting the system D-Bus daemon"
    mkdir -p /run/dbus
    rm -f /run/dbus/system_bus_socket /run/dbus/pid
    setsid -f dbus-daemon --system --fork
    wait_socket /run/dbus/system_bus_socket dbus-daemon
    record dbus
}

# Where no udev runs (containers, minimal VMs), /dev/kvm keeps the kernel's
# crw------- root:root. libvirtd then cannot give it to QEMU's user and
# re-probes QEMU on every call (a define took 52 s). Give it what Debian's udev
# rule gives it. libvirt caches its check by the device's ctime, so a libvirtd
# that already runs must restart to notice.
prepare_kvm() {
    local qemu_user=libvirt-qemu
    [ -e /dev/kvm ] || return 0
    if pgrep -x systemd-udevd >/dev/null || pgrep -x udevd >/dev/null; then
        return 0
    fi
    runuser -u "$qemu_user" -- test -r /dev/kvm -a -w /dev/kvm 2>/dev/null && return 0
    getent group kvm >/dev/null || groupadd --system kvm
    say "No udev here: giving /dev/kvm group kvm and mode 0660 (Debian's udev rule) for $qemu_user"
    chgrp kvm /dev/kvm
    chmod 0660 /dev/kvm
    if pgrep -x libvirtd >/dev/null; then
        if started libvirtd; then
            say "Restarting libvirtd (started by these scripts) so that it sees /dev/kvm's new mode"
            stop_daemon libvirtd /run/libvirtd.pid
        else
            echo "warning: libvirtd was already running; restart it so that it sees /dev/kvm's new mode" >&2
        fi
    fi
}

start_daemon() {
    local name=$1 pidfile=$2
    if pgrep -x "$name" >/dev/null; then
        return
    fi
    say "Starting $name"
    # Not running, so whatever pid file or socket a previous boot of the
    # machine (or a killed session) left behind is stale: a stale socket
    # would make the wait below return before the daemon listens.
    rm -f "$pidfile"
    case $name in
    libvirtd) rm -f /run/libvirt/libvirt-sock /run/libvirt/libvirt-sock-ro \
                    /run/libvirt/libvirt-admin-sock ;;
    virtlogd) rm -f /run/libvirt/virtlogd-sock /run/libvirt/virtlogd-admin-sock ;;
    esac
    # A session of its own, so that nothing that ends this script's process
    # group (a test runner, a terminal) takes the daemon with it.
    setsid -f "$name" -d
    record "$name"
}

stop_daemon() {
    local name=$1 pidfile=$2 pid i
    started "$name" || return 0
    pid=$(cat "$pidfile" 2>/dev/null || pgrep -xo "$name" || true)
    if [ -n "$pid" ]; then
        say "Stopping $name (started by these scripts)"
        kill "$pid" 2>/dev/null || true
        for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    sed -i "/^$name\$/d" "$HOCUS_RUN/started"
}

case "${1:-}" in
start)
    if systemd_is_init; then
        systemctl start dbus.service virtlogd.service libvirtd.service
        exit 0
    fi
    start_system_bus
    prepare_kvm
    start_daemon virtlogd /run/virtlogd.pid
    start_daemon libvirtd /run/libvirtd.pid
    wait_socket /run/libvirt/libvirt-sock libvirtd
    wait_libvirtd
    ;;
stop)
    systemd_is_init && exit 0
    stop_daemon libvirtd /run/libvirtd.pid
    stop_daemon virtlogd /run/virtlogd.pid
    if started dbus; then
        say "Stopping the system D-Bus daemon (started by these scripts)"
        kill "$(cat /run/dbus/pid)" 2>/dev/null || true
        sed -i "/^dbus\$/d" "$HOCUS_RUN/started"
    fi
    ;;
status)
    for p in dbus-daemon virtlogd libvirtd hocusd; do
        printf '%-12s %s\n' "$p" "$(pgrep -x "$p" >/dev/null && echo running || echo stopped)"
    done
    printf 'started by these scripts: %s\n' "$(tr '\n' ' ' < "$HOCUS_RUN/started" 2>/dev/null)"
    ;;
*)
    echo "usage: scripts/services.sh start|stop|status" >&2
    exit 2
    ;;
esac
