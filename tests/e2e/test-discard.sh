#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Disk space returns: after the guest writes a file, deletes it and runs
# fstrim, the qcow2 file's allocated size on the host drops
# (discard='unmap' detect_zeroes='unmap').
. "$(dirname "$0")/lib.sh"

write_config
start_hocusd
new_name ws discard
hocusctl create "$ws" >/dev/null
measure "boot_seconds=$(boot "$ws")"
disk=$(virsh -c $URI vol-path "$ws.qcow2" --pool hocusd-e2e)
alloc() { du -k "$disk" | cut -f1; }

guest_run "$ws" 60 "hocus-disk fill 8" >/dev/null      # make the filesystem first
guest_run "$ws" 60 "hocus-disk trim" >/dev/null
before=$(alloc)
guest_run "$ws" 240 "hocus-disk fill 200" >/dev/null || fail "cannot write in the guest"
filled=$(alloc)
guest_run "$ws" 120 "hocus-disk trim" >/dev/null || fail "fstrim failed in the guest"
after=$(alloc)
measure "discard qcow2_allocated_mib before=$(mib "$before") filled=$(mib "$filled") after_trim=$(mib "$after")"

[ $((filled - before)) -gt $((150 * 1024)) ] || fail "writing 200 MiB grew the image by only $(mib $((filled - before))) MiB"
[ $((filled - after)) -gt $((150 * 1024)) ] || fail "fstrim gave back only $(mib $((filled - after))) MiB of 200"
echo PASS
