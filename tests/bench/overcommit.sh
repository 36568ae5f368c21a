# SPDX-License-Identifier: LGPL-2.1-or-later
# B5: an overcommitted host. A memory limit on libvirt's machine cgroup
# makes the host small for its VMs (the machine's 24 GiB would hide the
# problem); B5_N workspaces of 1 GiB add up to twice that limit. Each guest
# runs the same staggered workload: a burst of anonymous memory, a file
# read, an idle phase, again. Three configurations, one after the other, on
# the same host:
#
#   active   hocusd workspaces, memory policy active
#   observe  hocusd workspaces, policy observe: the recipe only
#   plain    plain libvirt domains (configuration B of B1-B3)
#
# Per configuration: QEMU processes killed by the host (the cgroup's OOM
# killer), OOM kills inside the guests, seconds with host PSI memory full
# avg10 above 10 %, work completed (workload rounds), peak and mean total
# QEMU RSS; then the largest number of workspaces it held before the first
# kill, found by adding workspaces (each does one round, then idles) until
# one dies. Sourced by run.sh; raw figures go to OUT/b5.jsonl and
# OUT/series/b5-*.tsv, tests/bench/report-b5.py makes OUT/b5.md and plots.

B5_N=${B5_N:-4}
B5_RUN_S=${B5_RUN_S:-150}
B5_MAX_WS=${B5_MAX_WS:-7}
B5_STEP_S=${B5_STEP_S:-40}
B5_LIMIT=$((B5_N * 512 * 1024 * 1024)) # memory_max adds up to 2x this
B5_BURST_MIB=320
B5_FILE_MIB=96
B5_IDLE_S=35

b5_record() { jq -c . <<< "$1" >> "$BENCH_OUT/b5.jsonl"; }

# The workload: prepare the file, wait OFFSET s, then rounds of burst,
# read, idle; /tmp/b5.done counts completed rounds. ROUNDS 0: forever.
b5_workload() {
    local offset=$1 rounds=$2
    printf '%s' "hocus-disk prepare $B5_FILE_MIB >/dev/null 2>&1; sleep $offset; i=0; " \
        "while [ $rounds = 0 ] || [ \$i -lt $rounds ]; do " \
        "hocus-mem alloc $B5_BURST_MIB 10 >/dev/null 2>&1 && hocus-disk cache $B5_FILE_MIB >/dev/null 2>&1 && " \
        "i=\$((i + 1)) && echo \$i > /tmp/b5.done; sleep $B5_IDLE_S; done"
}

# b5_new MODE TEMPLATE: a guest of MODE; its name in B5_NEW. For plain, a
# copy of TEMPLATE (a workspace) without the recipe.
b5_new() {
    local mode=$1 template=$2 name
    new_name name "b5-$mode-$((${#B5_GUESTS[@]} + 1))"
    if [ "$mode" = plain ]; then
        define_variant "$template" "$name" "${STRIP_RECIPE_CMDLINE[@]}" "$NO_AGENT_RECLAIM" "${NO_FPR[@]}"
    else
        hocusctl create "$name" >/dev/null
    fi
    B5_GUESTS+=("$name")
    B5_NEW=$name
}

b5_alive() { [ "$(virsh -c $URI domstate "$1" 2>/dev/null)" = running ]; }

# One sample a second: time, sum of QEMU RSS (KiB), host PSI full and some
# avg10, then name:rss_kib:balloon_kib for every guest (0 when dead).
b5_sampler() {
    local file=$1 t g pid rss bal sum line
    while kill -0 $$ 2>/dev/null; do
        t=$(now) sum=0 line=
        for g in "${B5_GUESTS[@]}"; do
            rss=0 bal=0
            # A killed guest is what B5 looks for: every read may fail, none may end the loop.
            if pid=$(cat "/run/libvirt/qemu/$g.pid" 2>/dev/null) && [ -r "/proc/$pid/status" ]; then
                rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || rss=0
            fi
            bal=$(virsh -c $URI dommemstat "$g" 2>/dev/null | awk '$1 == "actual" {print $2}') || bal=0
            sum=$((sum + ${rss:-0}))
            line+=" $g:${rss:-0}:${bal:-0}"
        done
        printf '%s %s %s %s%s\n' "$t" "$sum" \
            "$(awk '/^full/ {sub("avg10=", "", $2); print $2}' /proc/pressure/memory)" \
            "$(awk '/^some/ {sub("avg10=", "", $2); print $2}' /proc/pressure/memory)" "$line"
        sleep 1
    done >> "$file"
}

b5_start_hocusd() {
    local mode=$1
    [ -n "${HOCUSD_PID:-}" ] && stop_pid "$HOCUSD_PID"
    write_config "\"policy\": { \"mode\": \"$([ "$mode" = active ] && echo active || echo observe)\" }"
    start_hocusd
}

b5_teardown() {
    local g
    lift_machine_limit
    for g in "${B5_GUESTS[@]}"; do
        virsh -c $URI destroy "$g" >/dev/null 2>&1 || true
        if hocusctl show "$g" >/dev/null 2>&1; then
            hocusctl delete "$g" >/dev/null 2>&1 || true
        else
            virsh -c $URI undefine "$g" >/dev/null 2>&1 || true
        fi
    done
    B5_GUESTS=()
}

# b5_phase MODE: the staggered workload on B5_N guests for B5_RUN_S.
b5_phase() {
    local mode=$1 template="" g i series pid done_total=0 guest_oom=0 killed=0 n
    B5_GUESTS=()
    b5_start_hocusd "$mode"
    # A plain guest is a copy of a workspace's definition.
    if [ "$mode" = plain ]; then
        new_name template b5-template
        hocusctl create "$template" >/dev/null
    fi
    for i in $(seq 1 "$B5_N"); do
        b5_new "$mode" "$template"
        boot "$B5_NEW" >/dev/null
    done
    machine_cgroup "${B5_GUESTS[0]}"
    set_machine_limit "$B5_LIMIT"
    series="$SERIES/b5-$mode.tsv"
    : > "$series"
    b5_sampler "$series" &
    pid=$!
    i=0
    for g in "${B5_GUESTS[@]}"; do
        guest_run "$g" 10 "( $(b5_workload $((i * 15)) 0) ) > /dev/null 2>&1 &" >/dev/null || true
        i=$((i + 1))
    done
    sleep "$B5_RUN_S"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for g in "${B5_GUESTS[@]}"; do
        if b5_alive "$g"; then
            n=$(guest_run "$g" 10 "cat /tmp/b5.done 2>/dev/null || echo 0" | tr -dc 0-9) || n=0
            done_total=$((done_total + ${n:-0}))
            n=$(guest_run "$g" 10 "dmesg | grep -c 'Killed process' || true" | tr -dc 0-9) || n=0
            guest_oom=$((guest_oom + ${n:-0}))
        else
            killed=$((killed + 1))
        fi
    done
    b5_record "$(jq -n --arg mode "$mode" --argjson n "$B5_N" --argjson limit "$B5_LIMIT" \
        --argjson secs "$B5_RUN_S" --argjson killed "$killed" --argjson guest_oom "$guest_oom" \
        --argjson work "$done_total" --rawfile series "$series" '
        ($series | split("\n") | map(select(length > 0) | split(" "))) as $rows |
        {bench: "B5", phase: "run", mode: $mode, guests: $n, limit_bytes: $limit, seconds: $secs,
         qemu_killed: $killed, guest_oom_kills: $guest_oom, work_rounds: $work,
         psi_full_gt10_s: ($rows | map(select((.[2] | tonumber) > 10)) | length),
         peak_rss_mib: (($rows | map(.[1] | tonumber) | max) / 1024 | floor),
         mean_rss_mib: (($rows | map(.[1] | tonumber) | add / length) / 1024 | floor)}')"
    b5_teardown
    if [ -n "$template" ]; then hocusctl delete "$template" >/dev/null 2>&1 || true; fi
}

# b5_capacity MODE: add guests (one round each, then idle) until one dies.
b5_capacity() {
    local mode=$1 template="" g held=0 died=none
    B5_GUESTS=()
    b5_start_hocusd "$mode"
    if [ "$mode" = plain ]; then
        new_name template b5-cap-template
        hocusctl create "$template" >/dev/null
    fi
    while [ "${#B5_GUESTS[@]}" -lt "$B5_MAX_WS" ]; do
        b5_new "$mode" "$template"
        if ! boot "$B5_NEW" >/dev/null 2>&1; then
            died="boot of guest $((${#B5_GUESTS[@]}))"
            break
        fi
        if [ "${#B5_GUESTS[@]}" = 1 ]; then
            machine_cgroup "$B5_NEW"
            set_machine_limit "$B5_LIMIT"
        fi
        guest_run "$B5_NEW" 10 "( $(b5_workload 0 1) ) > /dev/null 2>&1 &" >/dev/null || true
        sleep "$B5_STEP_S" # the round (about 20 s under TCG) and some idle time after it
        for g in "${B5_GUESTS[@]}"; do
            b5_alive "$g" || died=$g
        done
        [ "$died" = none ] || break
        held=${#B5_GUESTS[@]}
    done
    b5_record "$(jq -n --arg mode "$mode" --argjson held "$held" --arg died "$died" \
        --argjson max "$B5_MAX_WS" --argjson limit "$B5_LIMIT" \
        '{bench: "B5", phase: "capacity", mode: $mode, held: $held, first_death: $died,
          max_tried: $max, limit_bytes: $limit}')"
    b5_teardown
    if [ -n "$template" ]; then hocusctl delete "$template" >/dev/null 2>&1 || true; fi
}

b5_run() {
    local mode
    rm -f "$BENCH_OUT/b5.jsonl"
    for mode in active observe plain; do
        say "B5 ($mode): $B5_N workspaces of 1 GiB under a $((B5_LIMIT >> 20)) MiB limit, ${B5_RUN_S} s"
        b5_phase "$mode"
    done
    for mode in active observe plain; do
        say "B5 ($mode): how many workspaces fit under the limit (at most $B5_MAX_WS)"
        b5_capacity "$mode"
    done
    python3 "$BENCH_DIR/report-b5.py" "$BENCH_OUT"
}
