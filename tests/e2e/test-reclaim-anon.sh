#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Anonymous memory the guest frees goes back to the host (free page reporting),
# and it is the mechanism that does it: the same guest without free page
# reporting keeps the memory.
. "$(dirname "$0")/lib.sh"

write_config
start_hocusd
new_name ws anon
new_name control anon-nofpr
hocusctl create "$ws" >/dev/null
define_variant "$ws" "$control" "s/freePageReporting='on'/freePageReporting='off'/"
grep -q "freePageReporting='off'" <<< "$(virsh -c $URI dumpxml "$control")" ||
    fail "the control still reports free pages"

# anon_cycle WS: allocate 600 MiB, free it, follow RSS for 20 s.
# Prints "peak_kib final_kib returned_pct seconds_to_90pct".
anon_cycle() {
    local ws=$1 peak t0 r returned t90=none want=$((600 * 1024))
    settle_rss "$ws"
    guest_run "$ws" 10 "hocus-mem alloc 600 3 > /tmp/anon.log 2>&1 &" >/dev/null
    guest_wait_for "$ws" /tmp/anon.log allocated 120
    peak=$(domain_rss "$ws")
    guest_wait_for "$ws" /tmp/anon.log freed 60
    t0=$(now)
    while awk -v e="$(elapsed "$t0")" 'BEGIN { exit !(e < 20) }'; do
        r=$(domain_rss "$ws")
        returned=$((peak - r))
        if [ "$t90" = none ] && [ $((returned * 10)) -ge $((want * 9)) ]; then t90=$(elapsed "$t0"); fi
        sleep 0.5
    done
    r=$(domain_rss "$ws")
    echo "$peak $r $(((peak - r) * 100 / want)) $t90"
}

for w in "$ws" "$control"; do
    measure "boot_seconds_$w=$(boot "$w")"
done
read -r peak final pct t90 <<< "$(anon_cycle "$ws")"
measure "anon_recipe peak_mib=$(mib "$peak") after_20s_mib=$(mib "$final") returned_pct=$pct seconds_to_90pct=$t90"
read -r cpeak cfinal cpct ct90 <<< "$(anon_cycle "$control")"
measure "anon_no_fpr peak_mib=$(mib "$cpeak") after_20s_mib=$(mib "$cfinal") returned_pct=$cpct"

[ "$pct" -ge 90 ] || fail "with the recipe only $pct% of 600 MiB came back within 20 s (want >= 90%)"
[ "$cpct" -lt 20 ] || fail "without free page reporting $cpct% came back: the test does not isolate the mechanism"
echo PASS
