# SPDX-License-Identifier: LGPL-2.1-or-later
# B1-B3: the memory recipe against plain libvirt, on real QEMU guests booted
# from the same kernel and initramfs. The four configurations run at the same
# time, on the same host, one guest each, so every comparison is between
# guests that saw the same machine. Sourced by run.sh.
#
#   A  a hocusd workspace: the whole recipe, hocus-agent reclaiming
#   B  a plain libvirt domain: virtio memballoon without free page reporting
#      (nor stats, nor autodeflate), only console= and panic= on the cmdline
#   C  B with free page reporting on, the kernel's default reporting order
#   D  A with the agent's reclaim off (hocus.reclaim=0)
#
# B, C and D are copies of A's domain XML with parts taken away (e2e lib's
# define_variant), so everything else (machine type, TCG translation cache,
# disk, memory size) is the same.

CONFIGS=(A B C D)
STRIP_RECIPE_CMDLINE=(
    "s/ page_reporting\.page_reporting_order=0//"
    "s/ transparent_hugepage=never//"
    "s/ damon_reclaim\.[a-z_]*=[^ <]*//g"
)
NO_AGENT_RECLAIM="s|</cmdline>| hocus.reclaim=0</cmdline>|"
NO_FPR=("s/ freePageReporting='on'//" "s/ autodeflate='on'//" "/<stats period=/d")

declare -A WS   # configuration letter -> domain name of the B1/B2 guest

# new_config_domain X SRC WORD: define a guest of configuration X (A through
# hocusd; the others from SRC, an A domain); its name is left in E2E_NEW (not
# printed: new_name must run in this shell to be cleaned up at exit).
new_config_domain() {
    local x=$1 src=$2 word=$3 name
    new_name name "$word"
    case $x in
    A) hocusctl create "$name" >/dev/null ;;
    B) define_variant "$src" "$name" "${STRIP_RECIPE_CMDLINE[@]}" "$NO_AGENT_RECLAIM" "${NO_FPR[@]}" ;;
    C) define_variant "$src" "$name" "${STRIP_RECIPE_CMDLINE[@]}" "$NO_AGENT_RECLAIM" ;;
    D) define_variant "$src" "$name" "$NO_AGENT_RECLAIM" ;;
    esac
    E2E_NEW=$name
}

# The XML of each configuration, checked, and kept with the results.
check_config() {
    local x=$1 name=$2 xml
    xml=$(virsh -c $URI dumpxml --inactive "$name")
    mkdir -p "$BENCH_OUT/domains"
    printf '%s\n' "$xml" > "$BENCH_OUT/domains/$x.xml"
    has() { grep -q -- "$1" <<< "$xml"; }
    case $x in
    A) has "freePageReporting='on'" && has page_reporting_order=0 && ! has hocus.reclaim=0 ;;
    B) ! has freePageReporting && ! has page_reporting_order && ! has damon_reclaim && has hocus.reclaim=0 ;;
    C) has "freePageReporting='on'" && ! has page_reporting_order && ! has transparent_hugepage && has hocus.reclaim=0 ;;
    D) has "freePageReporting='on'" && has page_reporting_order=0 && has hocus.reclaim=0 ;;
    esac || fail "configuration $x ($name) is not what the benchmark says it is"
}

bench_configs() {
    local x
    new_config_domain A "" ba
    WS[A]=$E2E_NEW
    for x in B C D; do
        new_config_domain "$x" "${WS[A]}" "b${x,}"
        WS[$x]=$E2E_NEW
    done
    for x in "${CONFIGS[@]}"; do check_config "$x" "${WS[$x]}"; done
}

# boot_all NAME...: start them all at once, then wait until each has sent an
# agent line and has a console shell.
boot_all() {
    local ws
    for ws in "$@"; do
        if hocusctl show "$ws" >/dev/null 2>&1; then
            hocusctl start "$ws" >/dev/null
        else
            virsh -c $URI start "$ws" >/dev/null
        fi
    done
    for ws in "$@"; do
        [ -n "$(first_agent_line "$ws" 300)" ] || fail "$ws did not boot within 300 s"
        wait_guest_shell "$ws"
    done
}

# wait_all WHAT PID...: wait for every background job; fail if any failed.
wait_all() {
    local what=$1 pid
    shift
    for pid in "$@"; do wait "$pid" || fail "$what failed"; done
}

destroy_all() {
    local ws
    for ws in "$@"; do virsh -c $URI destroy "$ws" >/dev/null 2>&1 || true; done
}

# wait_line FILE PATTERN SECS: until a line of FILE (a GUEST_RUN_TS output)
# matches PATTERN; prints that line's host time.
wait_line() {
    local file=$1 pattern=$2 secs=$3 i t
    for i in $(seq 1 $((secs * 5))); do
        t=$(awk -v p="$pattern" '$0 ~ p { print $1; exit }' "$file" 2>/dev/null)
        [ -n "$t" ] && { echo "$t"; return 0; }
        sleep 0.2
    done
    return 1
}

# run_job SCENARIO REP PREP JOB END_PATTERN FREED_MIB: one repetition on fresh
# guests of all four configurations. PREP runs first (untimed), then RSS is
# sampled every 200 ms from 2 s before JOB until 30 s after each guest printed
# END_PATTERN. FREED_MIB is what the guest gave back (0: "back to the level
# before the job" is the measure, as for page cache).
run_job() {
    local scenario=$1 rep=$2 prep=$3 job=$4 end=$5 freed=$6 x ws pairs=() jobs=() t_start t_end last=0
    local series="$SERIES/$scenario-$rep.tsv" sampler
    : > "$series"
    boot_all "${WS[@]}"
    if [ -n "$prep" ]; then
        for x in "${CONFIGS[@]}"; do guest_run "${WS[$x]}" 600 "$prep" >/dev/null & jobs+=($!); done
        wait_all "$scenario: preparation '$prep'" "${jobs[@]}"
        jobs=()
    fi
    for x in "${CONFIGS[@]}"; do settle_rss "${WS[$x]}"; pairs+=("$x=$(qemu_pid "${WS[$x]}")"); done
    sample_rss "$series" "${pairs[@]}" &
    sampler=$!
    sleep 2
    t_start=$(now)
    for x in "${CONFIGS[@]}"; do
        GUEST_RUN_TS=1 guest_run "${WS[$x]}" 600 "$job" > "$E2E_DIR/job-$x.out" &
        jobs+=($!)
    done
    for x in "${CONFIGS[@]}"; do
        t_end=$(wait_line "$E2E_DIR/job-$x.out" "$end" 600) ||
            fail "$scenario rep $rep: configuration $x never printed '$end'"
        record "{\"bench\":\"$scenario\",\"config\":\"$x\",\"rep\":$rep,\"t_start\":$t_start,
                 \"t_end\":$t_end,\"freed_mib\":$freed,\"series\":\"series/$scenario-$rep.tsv\"}"
        last=$(awk -v a="$last" -v b="$t_end" 'BEGIN { printf "%.6f", (b > a) ? b : a }')
    done
    sleep "$(awk -v l="$last" -v n="$(now)" 'BEGIN { s = l + 31 - n; if (s < 0) s = 0; printf "%.1f", s }')"
    kill "$sampler"; wait "$sampler" 2>/dev/null || true
    destroy_all "${WS[@]}"
    wait "${jobs[@]}" 2>/dev/null || true   # their consoles closed with the guests
    say "$scenario rep $rep done"
}

# B1: 600 MiB of anonymous memory allocated and freed at once; then the same
# with every other 4 KiB page freed (300 MiB in scattered pages, the other
# half kept by the process until the guest is destroyed).
b1_run() {
    local rep
    say "B1: anonymous memory, ${BENCH_REPS} repetitions x A B C D"
    for rep in $(seq 1 "$BENCH_REPS"); do
        run_job anon "$rep" "" "hocus-mem alloc 600 1" "^[0-9.]+ freed 600 MiB" 600
    done
    for rep in $(seq 1 "$BENCH_REPS"); do
        run_job frag "$rep" "" "hocus-mem frag 600 600" "^[0-9.]+ freed 300 MiB fragmented" 300
    done
}

# B2: read a 400 MiB file (written once beforehand, in a boot of its own),
# then idle. PREP mounts the disk and drops the caches, so that the level
# before the job is an idle guest's.
b2_run() {
    local rep x jobs=()
    say "B2: page cache, ${BENCH_REPS} repetitions x A B C D"
    boot_all "${WS[@]}"
    for x in "${CONFIGS[@]}"; do guest_run "${WS[$x]}" 600 "hocus-disk prepare 400" >/dev/null & jobs+=($!); done
    wait_all "B2: writing the 400 MiB file" "${jobs[@]}"
    destroy_all "${WS[@]}"
    for rep in $(seq 1 "$BENCH_REPS"); do
        run_job cache "$rep" "hocus-disk prepare 400" "hocus-disk cache 400" "^[0-9.]+ cached 400 MiB" 0
    done
}

# B3: N guests of each configuration at once; each does a burst of work
# (300 MiB allocated and freed, a 200 MiB file written and read back), then
# idles for 60 s; then host RSS three times 5 s apart and the guest's own
# count of its used memory (MemTotal - MemFree - Buffers - Cached) and of its
# page cache (Buffers + Cached: the initramfs root lives there too).
b3_run() {
    local n=$1 i x ws src all=() jobs=() k used cached max
    declare -A CONF=()
    say "B3: $n idle guests of each configuration at once"
    for i in $(seq 1 "$n"); do
        new_config_domain A "" "i${i}a"
        src=$E2E_NEW
        CONF[$src]=A
        all+=("$src")
        for x in B C D; do
            new_config_domain "$x" "$src" "i$i${x,}"
            CONF[$E2E_NEW]=$x
            all+=("$E2E_NEW")
        done
    done
    boot_all "${all[@]}"
    for ws in "${all[@]}"; do
        guest_run "$ws" 900 "hocus-mem alloc 300 0 >/dev/null && hocus-disk cache 200" >/dev/null & jobs+=($!)
    done
    wait_all "B3: a work burst" "${jobs[@]}"
    say "B3: bursts done; idle for 60 s"
    sleep 60
    declare -A SAMPLES=()
    for k in 1 2 3; do
        for ws in "${all[@]}"; do SAMPLES[$ws]+="$(domain_rss "$ws"),"; done
        [ $k = 3 ] || sleep 5
    done
    for ws in "${all[@]}"; do
        read -r used cached <<< "$(guest_run "$ws" 30 "awk '/^(MemTotal|MemFree|Buffers|Cached):/ { v[\$1] = \$2 } END { print v[\"MemTotal:\"] - v[\"MemFree:\"] - v[\"Buffers:\"] - v[\"Cached:\"], v[\"Buffers:\"] + v[\"Cached:\"] }' /proc/meminfo")"
        [[ $used =~ ^[0-9]+$ && $cached =~ ^[0-9]+$ ]] ||
            fail "B3: $ws: cannot read the guest's used memory ('$used $cached')"
        max=$(virsh -c $URI dumpxml "$ws" | sed -n "s|.*<memory unit='KiB'>\([0-9]*\)</memory>.*|\1|p")
        record "{\"bench\":\"idle\",\"config\":\"${CONF[$ws]}\",\"workspace\":\"$ws\",
                 \"rss_kib\":[${SAMPLES[$ws]%,}],\"guest_used_kib\":$used,\"guest_cached_kib\":$cached,\"memory_max_kib\":$max}"
    done
    destroy_all "${all[@]}"
}
