# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the end-to-end tests: real libvirtd (qemu:///system), real QEMU,
# the real guest image; hocusd from the build tree on a private bus that loads
# the real bus policy. Source it; it sets up and tears down on exit.
set -euo pipefail

: "${HD_HOCUSD:?run through meson}" "${HD_HOCUSCTL:?}" "${HD_POLICY:?}" "${HD_TEST_DATA_DIR:?}"
GUEST_DIR=${HD_GUEST_DIR:-/var/lib/hocusd/guest}
URI=qemu:///system

# skip REASON (tests/lib/skip.sh); the benchmark runner sets HD_ALLOW_SKIPS=0:
# there a missing part is an error.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/skip.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/exit.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }
# poll N STEP CMD...: runs CMD until it succeeds, at most N times, STEP s
# apart; its status is CMD's last.
poll() {
    local n=$1 step=$2 i
    shift 2
    for i in $(seq 1 "$n"); do
        "$@" && return 0
        [ "$i" -lt "$n" ] && sleep "$step"
    done
    return 1
}
note() { echo "--- $*"; }
measure() { echo "MEASURE $*"; }

[ "$(id -u)" = 0 ] || skip "needs root"
[ -S /run/libvirt/libvirt-sock ] || skip "libvirtd is not running (scripts/services.sh start)"
command -v qemu-system-x86_64 >/dev/null || skip "QEMU is not installed"
[ -s "$GUEST_DIR/vmlinuz" ] && [ -s "$GUEST_DIR/initrd.img" ] ||
    skip "no guest image in $GUEST_DIR (scripts/setup.sh builds it)"
for t in socat jq virsh dbus-daemon; do
    command -v $t >/dev/null || skip "$t is not installed"
done

E2E_DIR=$(mktemp -d /tmp/hocusd-e2e-XXXXXX)
chmod 755 "$E2E_DIR"
E2E_IMAGES=/var/lib/hocusd/e2e-images
E2E_WORKSPACES=()
HOCUSD_PID=
BUS_PID=

# SIGTERM, then SIGKILL after 10 s: a hung process must not hang the test.
stop_pid() {
    local pid=$1 i
    kill "$pid" 2>/dev/null || return 0
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        echo "--- $pid did not stop on SIGTERM within 10 s; killing it"
        kill -9 "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null || true
}

# The shared teardown, registered first so that it runs after every hook a
# test adds (tests/lib/exit.sh; a test never sets its own EXIT trap).
cleanup() {
    for ws in "${E2E_WORKSPACES[@]+"${E2E_WORKSPACES[@]}"}"; do
        virsh -c $URI destroy "$ws" >/dev/null 2>&1
        virsh -c $URI undefine "$ws" >/dev/null 2>&1
        virsh -c $URI vol-delete "$ws.qcow2" --pool hocusd-e2e >/dev/null 2>&1
        # define_variant made its disk with qemu-img, outside the pool's view.
        rm -f "$E2E_IMAGES/$ws.qcow2"
    done
    [ -n "$HOCUSD_PID" ] && stop_pid "$HOCUSD_PID"
    [ -n "$BUS_PID" ] && stop_pid "$BUS_PID"
    if [ "$HD_EXIT_RC" -ne 0 ] && [ "$HD_EXIT_RC" -ne 77 ]; then
        echo "--- hocusd log:"
        tail -n 60 "$E2E_DIR/hocusd.log" 2>/dev/null
        echo "--- bus log:"
        tail -n 20 "$E2E_DIR/bus.log" 2>/dev/null
    fi
    rm -rf "$E2E_DIR"
}
hd_at_exit cleanup

start_bus() {
    sed -e "s|@SOCKET@|$E2E_DIR/bus|" -e "s|@POLICY@|$HD_POLICY|" \
        "$HD_TEST_DATA_DIR/system-bus.conf.in" > "$E2E_DIR/bus.conf"
    dbus-daemon --nofork --nopidfile --config-file "$E2E_DIR/bus.conf" \
        --print-address=3 3> "$E2E_DIR/bus.address" > "$E2E_DIR/bus.log" 2>&1 &
    BUS_PID=$!
    poll 50 0.1 test -s "$E2E_DIR/bus.address" || true
    BUS=$(head -n1 "$E2E_DIR/bus.address")
    [ -n "$BUS" ] || fail "the test bus did not start"
    # Not exported: virsh and libvirtd must keep using the real system bus.
}

# extra JSON keys for the config, e.g. '"stop_timeout_s": 20'
write_config() {
    cat > "$E2E_DIR/hocusd.json" <<JSON
{
  "libvirt_uri": "$URI",
  "image_dir": "$E2E_IMAGES",
  "storage_pool": "hocusd-e2e",
  "guest": { "kernel": "$GUEST_DIR/vmlinuz", "initrd": "$GUEST_DIR/initrd.img" },
  "defaults": { "memory_max": "1G", "memory_min": "256M", "vcpus": 1, "disk_size": "1G" }${1:+,
  $1}
}
JSON
}

start_hocusd() {
    "$HD_HOCUSD" --config "$E2E_DIR/hocusd.json" --bus-address "$BUS" --verbose \
        >> "$E2E_DIR/hocusd.log" 2>&1 &
    HOCUSD_PID=$!
    # Ready when ListWorkspaces answers: the name is owned and the workspaces known.
    for _ in $(seq 1 200); do
        hocusctl list >/dev/null 2>&1 && return 0
        kill -0 "$HOCUSD_PID" 2>/dev/null || fail "hocusd exited at start"
        sleep 0.1
    done
    fail "hocusd did not answer on the bus within 20 s"
}

hocusctl() { "$HD_HOCUSCTL" --bus-address "$BUS" "$@"; }

# new_name VAR WORD: set VAR to a unique workspace name that is removed again
# at exit whatever happens. (Not "$(new_name)": a subshell could not record it.)
new_name() {
    local n="e2e-$2-$$"
    E2E_WORKSPACES+=("$n")
    printf -v "$1" '%s' "$n"
}

state_of() { hocusctl --json show "$1" | jq -r .state; }

# libvirtd_stop / libvirtd_start: an outage of the host's libvirtd; hocusd
# sees Connected turn false, then reconnects by itself (at most 20 s).
libvirtd_stop() {
    local pid
    pid=$(pgrep -xo libvirtd) || fail "libvirtd is not running"
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && fail "libvirtd did not stop"
    for _ in $(seq 1 50); do [ "$(mgr_prop Connected)" = false ] && return 0; sleep 0.1; done
    fail "Connected did not turn false"
}
libvirtd_start() {
    # Not with this test's bus as its system bus: it would exit when the test ends.
    if [ "$(cat /proc/1/comm)" = systemd ]; then
        systemctl start libvirtd.service
    else
        env -u DBUS_SYSTEM_BUS_ADDRESS setsid -f libvirtd -d
    fi
    for _ in $(seq 1 100); do [ "$(mgr_prop Connected)" = true ] && return 0; sleep 0.2; done
    fail "hocusd did not reconnect to libvirtd"
}

in_state() { [ "$(state_of "$1" 2>/dev/null)" = "$2" ]; }
listed() { hocusctl show "$1" >/dev/null 2>&1; }
wait_state() {
    local ws=$1 want=$2 secs=$3
    poll $((secs * 5)) 0.2 in_state "$ws" "$want" && return 0
    fail "$ws did not reach state $want within $secs s (it is $(state_of "$ws" 2>/dev/null))"
}

qemu_pid() { cat "/run/libvirt/qemu/$1.pid"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

agent_socket() {
    virsh -c $URI dumpxml "$1" | sed -n "s/.*path='\([^']*dev\.hocus\.agent\.0\)'.*/\1/p" | head -n1
}

# A workspace's D-Bus property, as JSON, from hocusd on the test bus.
ws_path() { echo "/dev/hocus/Hocusd1/workspace/${1//-/_}"; }
ws_prop() {
    busctl --address "$BUS" --json=short get-property dev.hocus.Hocusd1 "$(ws_path "$1")" \
        dev.hocus.Hocusd1.Workspace "$2" | jq -c .data
}
mgr_prop() {
    busctl --address "$BUS" --json=short get-property dev.hocus.Hocusd1 /dev/hocus/Hocusd1 \
        dev.hocus.Hocusd1.Manager "$1" | jq -c .data
}

# The accelerator hocusd chose ("kvm" or "tcg"; it may take a probe's time on
# a first start) and the libvirt domain type that goes with it.
accelerator() {
    local v i
    for i in $(seq 1 600); do
        v=$(mgr_prop Virtualization | jq -r .)
        [ -n "$v" ] && { echo "$v"; return 0; }
        sleep 0.2
    done
    fail "hocusd chose no accelerator within 120 s: $(mgr_prop VirtualizationReason)"
}
domain_type() { [ "$(accelerator)" = kvm ] && echo kvm || echo qemu; }

# A new line from the guest's agent channel (the first one means: booted),
# or "" after TIMEOUT s. hocusd holds the channel of its workspaces (QEMU
# serves one client), so for those the line comes from hocusd's AgentLine
# property; other domains (define_variant copies) are read with socat.
first_agent_line() {
    local ws=$1 secs=${2:-120} sock line= before i
    if [ "${E2E_AGENT_CHANNEL:-true}" = true ] && before=$(ws_prop "$ws" AgentLine 2>/dev/null); then
        for i in $(seq 1 $((secs * 5))); do
            line=$(ws_prop "$ws" AgentLine)   # a JSON string: "" before any line
            if [ "$line" != '""' ] && [ "$line" != "$before" ]; then
                jq -r . <<< "$line"
                return 0
            fi
            sleep 0.2
        done
        echo ""
        return 0
    fi
    sock=$(agent_socket "$ws")
    [ -S "$sock" ] || fail "no agent channel socket for $ws"
    coproc AGENT { exec socat -u "UNIX-CONNECT:$sock" - 2>/dev/null; }
    read -r -t "$secs" line <&"${AGENT[0]}" || true
    kill "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || true
    echo "$line"
}

# Wall-clock seconds with microseconds, without a fork (the benchmark's 200 ms
# sampler calls it for every sample; guest_run's GUEST_RUN_TS uses the same clock).
now() { printf '%s' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

start_bus

# ---- driving the guest through its serial console, as a user at the keyboard ----

# guest_run WS TIMEOUT COMMAND: run COMMAND in the guest's console shell, print
# its output, return its exit status. The output is what the guest prints
# between a start and an end marker, so that a prompt, or the part of one the
# console kept from an earlier command, never counts as output; each marker is
# built from two quoted halves so that the shell's echo of the command line
# never matches it. With
# GUEST_RUN_TS=1 each line is printed as it arrives, after the host time
# ($EPOCHREALTIME) it arrived at.
guest_run() {
    # In a subshell: meson runs tests as session leaders, and a session leader
    # that opens a tty makes it its controlling terminal; destroying the VM
    # would then hang it up and SIGHUP the test in the middle of its cleanup.
    (
        ws=$1 t=$2 rc=124 out="" started=false
        shift 2
        tag="HD$RANDOM$RANDOM"
        tty=$(virsh -c $URI ttyconsole "$ws")
        exec {fd}<>"$tty"
        stty -F "$tty" raw -echo 2>/dev/null || true
        # One line: the shell reads it whole before running anything (stty in
        # the guest flushes pending input), and "( CMD & )" is valid where
        # "CMD &;" is not.
        printf '( echo "%s""-start"; %s ); echo "%s""-end rc=$?"\n' "$tag" "$*" "$tag" >&"$fd"
        while IFS= read -r -t "$t" line <&"$fd"; do
            line=${line%$'\r'}
            # Anywhere in the line: a prompt, or a kernel message on the
            # console, may precede a marker.
            if [[ $line == *"$tag-start"* ]]; then
                started=true
                continue
            fi
            if [[ $line =~ $tag-end\ rc=([0-9]+) ]]; then
                rc=${BASH_REMATCH[1]}
                break
            fi
            $started || continue
            if [ -n "${GUEST_RUN_TS:-}" ]; then
                printf '%s %s\n' "$EPOCHREALTIME" "$line"
            else
                out+="$line"$'\n'
            fi
        done
        exec {fd}>&-
        printf '%s' "$out"
        exit "$rc"
    )
}

# Wait until the guest's console shell answers; turn its echo off so that
# only output comes back.
wait_guest_shell() {
    local ws=$1 i
    for i in $(seq 1 30); do
        if guest_run "$ws" 5 "stty -echo" >/dev/null 2>&1; then
            # No prompt either: it is not part of any answer.
            (printf "PS1=''\n" > "$(virsh -c $URI ttyconsole "$ws")") # subshell: see guest_run
            return 0
        fi
    done
    fail "no shell on the console of $ws"
}

# ---- control domains: hocusd's definition with parts of the recipe removed ----

# define_variant SRC_WS NEW_NAME SED_EXPR...: define NEW_NAME from SRC_WS's
# inactive XML, without hocusd's metadata (hocusd ignores it), with a disk of
# its own like the source's (same size, same base image), the sed expressions
# applied. Removed again at exit.
define_variant() {
    local src=$1 name=$2 xml disk srcdisk backing size
    shift 2
    E2E_WORKSPACES+=("$name")
    disk="$E2E_IMAGES/$name.qcow2"
    # The same kind of disk as the source: an overlay of the same base, if any.
    srcdisk="$E2E_IMAGES/$src.qcow2"
    backing=$(qemu-img info -U --output=json "$srcdisk" | jq -r '."backing-filename" // empty')
    size=$(qemu-img info -U --output=json "$srcdisk" | jq -r '."virtual-size"')
    if [ -n "$backing" ]; then
        qemu-img create -q -f qcow2 -F qcow2 -b "$backing" "$disk" "$size"
    else
        qemu-img create -q -f qcow2 "$disk" "$size"
    fi
    xml=$(virsh -c $URI dumpxml --inactive "$src" |
        sed -e "/<metadata>/,/<\/metadata>/d" -e "/<uuid>/d" \
            -e "s|<name>$src</name>|<name>$name</name>|" \
            -e "s|$E2E_IMAGES/$src.qcow2|$disk|")
    for expr in "$@"; do xml=$(sed -e "$expr" <<< "$xml"); done
    virsh -c $URI define /dev/stdin <<< "$xml" >/dev/null
}

# Host RSS (KiB) of a running domain's QEMU.
domain_rss() { rss_kib "$(qemu_pid "$1")"; }

# bracket_rss WS READER: whether hocusd's RssBytes for WS lies within 5 % of
# the range READER WS (a command printing bytes) gives 1.5 s before and just
# after it. Just after a boot or a reset the RSS moves by 5 % a second (free
# page reporting) and hocusd's figure is up to a tick (1 s) old, so a single
# read to compare with proves nothing either way; tried up to 15 times.
# Sets RSS_DBUS, RSS_BEFORE and RSS_AFTER to the last try's figures.
bracket_rss() {
    local ws=$1 reader=$2 i lo hi
    for i in $(seq 1 15); do
        RSS_BEFORE=$("$reader" "$ws")
        sleep 1.5
        RSS_DBUS=$(ws_prop "$ws" RssBytes)
        RSS_AFTER=$("$reader" "$ws")
        [ -n "$RSS_BEFORE" ] && [ -n "$RSS_AFTER" ] || fail "$reader gave no RSS for $ws"
        lo=$((RSS_BEFORE < RSS_AFTER ? RSS_BEFORE : RSS_AFTER))
        hi=$((RSS_BEFORE > RSS_AFTER ? RSS_BEFORE : RSS_AFTER))
        [ $((RSS_DBUS * 20)) -ge $((lo * 19)) ] && [ $((RSS_DBUS * 20)) -le $((hi * 21)) ] && return 0
        note "try $i: RssBytes $RSS_DBUS, $reader $RSS_BEFORE before and $RSS_AFTER after"
    done
    return 1
}
proc_rss_bytes() { echo $(($(domain_rss "$1") * 1024)); }

# Sample RSS every 0.5 s for up to SECS until it is <= TARGET KiB; prints the
# last value and the seconds it took (or SECS when it never got there).
wait_rss_below() {
    local ws=$1 target=$2 secs=$3 t0 r
    t0=$(now)
    while :; do
        r=$(domain_rss "$ws")
        if [ "$r" -le "$target" ]; then
            echo "$r $(elapsed "$t0")"
            return 0
        fi
        if awk -v e="$(elapsed "$t0")" -v s="$secs" 'BEGIN { exit !(e >= s) }'; then
            echo "$r $secs"
            return 1
        fi
        sleep 0.5
    done
}

# ---- measuring ----

# boot WS: start it (through hocusd if it is a workspace, else virsh), wait
# for the agent's first line and a console shell; prints the boot seconds.
boot() {
    local ws=$1 t0
    t0=$(now)
    if hocusctl show "$ws" >/dev/null 2>&1; then
        hocusctl start "$ws" >/dev/null
    else
        virsh -c $URI start "$ws" >/dev/null
    fi
    [ -n "$(first_agent_line "$ws" 120)" ] || fail "$ws sent nothing on its agent channel"
    elapsed "$t0"
    wait_guest_shell "$ws"
}

# Wait until the QEMU RSS of WS changes by less than 2 MiB over 2 s (at most 40 s).
settle_rss() {
    local ws=$1 prev=0 r i
    for i in $(seq 1 20); do
        r=$(domain_rss "$ws")
        [ $((r > prev ? r - prev : prev - r)) -lt 2048 ] && return 0
        prev=$r
        sleep 2
    done
}

# guest_wait_for WS FILE TEXT SECS: until FILE in the guest contains TEXT.
guest_wait_for() {
    local ws=$1 file=$2 text=$3 secs=$4 i
    for i in $(seq 1 $((secs * 2))); do
        guest_run "$ws" 10 "grep -q '$text' $file" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    fail "$ws: '$text' did not appear in $file within $secs s"
}

# Highest RSS of WS seen by a sampler running in the background.
start_rss_sampler() {
    local ws=$1
    ( while :; do domain_rss "$ws" 2>/dev/null; sleep 0.2; done ) > "$E2E_DIR/rss-$ws.log" &
    SAMPLER_PID=$!
}
stop_rss_sampler() {
    kill "$SAMPLER_PID" 2>/dev/null
    wait "$SAMPLER_PID" 2>/dev/null || true
    sort -n "$E2E_DIR/rss-$1.log" | tail -n1
}

mib() { echo $(($1 / 1024)); }   # KiB -> MiB

# ---- a host made small: a memory limit on the cgroup of the QEMU processes ----

# machine_cgroup WS: find libvirt's cgroup that holds the QEMU of WS (the
# parent of its own); sets MACHINE_CG, LIMIT_FILE, USAGE_FILE and UNLIMITED
# (cgroup v1: memory.limit_in_bytes / -1; v2: memory.max / max). Skips when
# the limit cannot be written. The limit is lifted at exit whatever happens.
machine_cgroup() {
    local line
    line=$(grep -E '^[0-9]+:(memory|[^:]*,memory[^:]*):|^0::' "/proc/$(qemu_pid "$1")/cgroup" |
           sort | tail -n1)
    case $line in
    0::*) MACHINE_CG=/sys/fs/cgroup/unified$(dirname "${line#0::}")
          [ -d "$MACHINE_CG" ] || MACHINE_CG=/sys/fs/cgroup$(dirname "${line#0::}")
          LIMIT_FILE=$MACHINE_CG/memory.max USAGE_FILE=$MACHINE_CG/memory.current UNLIMITED=max ;;
    *)    MACHINE_CG=/sys/fs/cgroup/memory$(dirname "${line##*:}")
          LIMIT_FILE=$MACHINE_CG/memory.limit_in_bytes
          USAGE_FILE=$MACHINE_CG/memory.usage_in_bytes UNLIMITED=-1 ;;
    esac
    [ -w "$LIMIT_FILE" ] || skip "no writable memory limit for the machine cgroup ($LIMIT_FILE)"
    hd_at_exit 'echo $UNLIMITED > "$LIMIT_FILE" 2>/dev/null || true'
}
set_machine_limit() { echo "$1" > "$LIMIT_FILE"; }
lift_machine_limit() { echo "$UNLIMITED" > "$LIMIT_FILE"; }
