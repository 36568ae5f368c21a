# SPDX-License-Identifier: LGPL-2.1-or-later
# B4, the daemon's own cost: hocusd watching N workspaces of libvirt's test
# driver (no QEMU behind them), run inside libvirtd (test+unix://) so that,
# as in production, every call is an RPC and the driver's own memory is
# libvirtd's, not hocusd's. Its host root is a directory whose proc/ and
# sys/ are the real ones and whose run/libvirt/qemu/<name>.pid files all name
# one real sleeping process, so every per-workspace read of /proc and of the
# cgroup's memory.pressure is a real read. Sourced by run.sh.

# b4_node_xml N FILE: a test-driver host with N running hocusd workspaces.
b4_node_xml() {
    local n=$1 file=$2 i name
    {
        echo "<node>"
        for i in $(seq 1 "$n"); do
            printf -v name 'bench-%04d' "$i"
            cat <<XML
  <domain type='test'>
    <name>$name</name>
    <memory>1048576</memory>
    <os><type>hvm</type></os>
    <metadata>
      <hocus:workspace xmlns:hocus="https://hocus.dev/xmlns/hocusd/1" version="1">
        <hocus:name>$name</hocus:name>
        <hocus:vcpus>1</hocus:vcpus>
        <hocus:memory_max>1073741824</hocus:memory_max>
        <hocus:memory_min>268435456</hocus:memory_min>
        <hocus:disk_size>1073741824</hocus:disk_size>
        <hocus:kernel>$GUEST_DIR/vmlinuz</hocus:kernel>
        <hocus:initrd>$GUEST_DIR/initrd.img</hocus:initrd>
        <hocus:storage_pool>hocusd-bench</hocus:storage_pool>
        <hocus:volume>$name.qcow2</hocus:volume>
        <hocus:created_usec>1700000000000000</hocus:created_usec>
      </hocus:workspace>
    </metadata>
  </domain>
XML
        done
        echo "</node>"
    } > "$file"
}

# b4_host_root N DIR PID: proc and sys are the host's; every workspace's QEMU
# pid file names PID.
b4_host_root() {
    local n=$1 dir=$2 pid=$3 i
    mkdir -p "$dir/run/libvirt/qemu"
    ln -sfn /proc "$dir/proc"
    ln -sfn /sys "$dir/sys"
    for i in $(seq 1 "$n"); do
        printf '%s\n' "$pid" > "$(printf '%s/run/libvirt/qemu/bench-%04d.pid' "$dir" "$i")"
    done
}

b4_workspaces() {
    busctl --address "$BUS" --json=short call dev.hocus.Hocusd1 /dev/hocus/Hocusd1 \
        dev.hocus.Hocusd1.Manager ListWorkspaces 2>/dev/null | jq '.data[0] | length'
}

b4_sample_time() {
    busctl --address "$BUS" --json=short get-property dev.hocus.Hocusd1 /dev/hocus/Hocusd1 \
        dev.hocus.Hocusd1.Manager SampleTimeUsec | jq .data
}

# b4_measure N REPS: one hocusd for N workspaces; REPS windows of CPU, then
# RSS, the D-Bus dump times and virsh domstats over the same domains.
b4_measure() {
    local n=$1 reps=$2 dir="$E2E_DIR/b4-$1" pid i c0 c1 t0 t1 s0 s1 rss dbus virsh_ms started
    mkdir -p "$dir"
    b4_node_xml "$n" "$dir/node.xml"
    sleep infinity &
    local sleeper=$!
    b4_host_root "$n" "$dir/root" "$sleeper"
    cat > "$dir/hocusd.json" <<JSON
{
  "libvirt_uri": "test+unix://$dir/node.xml",
  "image_dir": "$dir/images",
  "storage_pool": "hocusd-bench",
  "guest": { "kernel": "$GUEST_DIR/vmlinuz", "initrd": "$GUEST_DIR/initrd.img" },
  "host_root": "$dir/root",
  "sample_interval_ms": 1000
}
JSON
    started=$(now)
    # The environment hocusd.service gives it (GLib's slice allocator off).
    G_SLICE=always-malloc "$HD_HOCUSD" --config "$dir/hocusd.json" --bus-address "$BUS" \
        > "$dir/hocusd.log" 2>&1 &
    pid=$!
    for i in $(seq 1 1200); do
        [ "$(b4_workspaces)" = "$n" ] && break
        kill -0 "$pid" 2>/dev/null || { cat "$dir/hocusd.log" >&2; fail "hocusd for $n workspaces exited"; }
        sleep 0.1
    done
    [ "$(b4_workspaces)" = "$n" ] || fail "hocusd did not list $n workspaces within 120 s"
    local ready_s
    ready_s=$(elapsed "$started")
    sleep 3   # a few ticks first: CPU usage needs two samples

    for i in $(seq 1 "$reps"); do
        s0=$(b4_sample_time) c0=$(cpu_ticks "$pid") t0=$(now)
        sleep 10
        c1=$(cpu_ticks "$pid") t1=$(now) s1=$(b4_sample_time)
        rss=$(rss_kib "$pid")
        record "{\"bench\":\"B4\",\"kind\":\"cpu\",\"n\":$n,\"rep\":$i,
                 \"cpu_s\":$(awk -v c=$((c1 - c0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", c / hz }'),
                 \"wall_s\":$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'),
                 \"sample_advance_s\":$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }'),
                 \"interval_s\":1, \"rss_kib\":$rss, \"ready_s\":$ready_s}"
    done
    dbus=$("$HD_BENCH_DBUS" --address "$BUS" --repeat 5)
    record "{\"bench\":\"B4\",\"kind\":\"dbus\",\"n\":$n,\"calls\":$dbus}"

    # The floor: the same statistics hocusd asks libvirt for, from virsh over
    # the same RPC (virsh -t times each command; the first call warms up).
    virsh_ms=$(virsh -t -c "test+unix://$dir/node.xml" \
        "$(printf 'domstats --state --cpu-total --balloon;%.0s' $(seq 1 6))" 2>&1 |
        sed -n 's/^(Time: \([0-9.]*\) ms)$/\1/p' | tail -n +2 | paste -sd, -)
    [ -n "$virsh_ms" ] || fail "virsh -t printed no timings"
    record "{\"bench\":\"B4\",\"kind\":\"domstats\",\"n\":$n,\"virsh_ms\":[$virsh_ms]}"

    stop_pid "$pid"
    kill "$sleeper" 2>/dev/null; wait "$sleeper" 2>/dev/null || true
    say "B4 n=$n: ready in ${ready_s}s, RSS $(mib "$rss") MiB, virsh domstats ms: $virsh_ms"
}

b4_run() {
    local n
    for n in "$@"; do b4_measure "$n" "$BENCH_REPS"; done
}
