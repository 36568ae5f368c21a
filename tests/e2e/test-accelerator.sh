#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The accelerator choice (docs/accelerator.md), on whatever host this runs:
# 1. hocusd publishes a choice and its reason, and a workspace boots under it.
# 2. KVM present but failing, forced on any host: the probe guest runs on an
#    emulator that dies the way QEMU 7.2 did on a nested cloud VM ("failed to
#    set MSR 0x10a", an assertion, SIGABRT). hocusd falls back to TCG, says
#    why on D-Bus, caches the verdict, and a restart reuses it without probing.
# 3. accelerator "tcg" never probes.
. "$(dirname "$0")/lib.sh"

note "1. the host's own choice"
write_config
start_hocusd
virt=$(accelerator)
reason=$(mgr_prop VirtualizationReason | jq -r .)
note "Virtualization=$virt VirtualizationReason=$reason"
[[ $reason == "$virt: "* ]] || fail "the reason '$reason' does not start with '$virt: '"
if [ ! -e /dev/kvm ]; then
    [ "$virt" = tcg ] || fail "no /dev/kvm here, yet hocusd chose $virt"
    [[ $reason == *"does not exist"* ]] || fail "the reason does not say /dev/kvm is missing"
fi
new_name ws accel
t0=$(now)
hocusctl create "$ws" >/dev/null
measure "create_seconds=$(elapsed "$t0")"
grep -qF "<domain type='$(domain_type)'" <<< "$(virsh -c $URI dumpxml --inactive "$ws")" ||
    fail "$ws is not defined as a $(domain_type) domain"
t0=$(now)
hocusctl start "$ws" >/dev/null
[ -n "$(first_agent_line "$ws" 120)" ] || fail "$ws did not boot under $virt"
measure "boot_seconds=$(elapsed "$t0") accelerator=$virt"
hocusctl stop "$ws" --force >/dev/null
stop_pid "$HOCUSD_PID"
HOCUSD_PID=

note "2. KVM that fails: the probe's emulator aborts like QEMU on a nested host"
cat > "$E2E_DIR/fake-kvm-qemu" <<'SH'
#!/bin/bash
# libvirt probes an emulator's capabilities with "-machine none,...": answer as QEMU.
prev=
for a in "$@"; do
    if [ "$prev" = -machine ]; then
        case $a in none | none,*) exec /usr/bin/qemu-system-x86_64 "$@" ;; esac
    fi
    prev=$a
done
echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:2893: kvm_buf_set_msrs: Assertion \`ret == cpu->kvm_msr_buf->nmsrs' failed." >&2
kill -ABRT $$
SH
chmod 755 "$E2E_DIR/fake-kvm-qemu"
mkdir -p "$E2E_DIR/state"
probe_config="\"state_dir\": \"$E2E_DIR/state\", \"accelerator_probe\": { \"domain_type\": \"qemu\", \"emulator\": \"$E2E_DIR/fake-kvm-qemu\", \"timeout_s\": 30 }"
write_config "$probe_config"
: > "$E2E_DIR/hocusd.log"
t0=$(now)
start_hocusd
[ "$(accelerator)" = tcg ] || fail "hocusd chose $(accelerator) although every probe aborted"
measure "probe_seconds=$(elapsed "$t0") (4 CPU choices, all failing)"
reason=$(mgr_prop VirtualizationReason | jq -r .)
note "VirtualizationReason=$reason"
[[ $reason == "tcg: kvm probe failed: "* ]] || fail "reason: $reason"
for cpu in host-passthrough host-passthrough,-arch-capabilities host-model kvm64; do
    [[ $reason == *"$cpu"* ]] || fail "the reason does not name CPU choice $cpu"
done
[[ $reason == *"failed to set MSR 0x10a to 0x69"* ]] || fail "QEMU's own words are not in the reason"
[ "$(grep -c 'Probing KVM: booting a guest' "$E2E_DIR/hocusd.log")" = 4 ] ||
    fail "expected four probe boots in the log"
grep -q "Accelerator: TCG (tcg: kvm probe failed" "$E2E_DIR/hocusd.log" || fail "no verdict in the log"
[ "$(jq -r .accelerator "$E2E_DIR/state/accelerator.json")" = tcg ] || fail "the verdict was not cached"
virsh -c $URI dominfo hocusd-accel-probe >/dev/null 2>&1 && fail "the probe guest was left behind"

note "the fallback is usable: a workspace is defined for TCG"
new_name ws2 fallback
hocusctl create "$ws2" >/dev/null
grep -qF "<domain type='qemu'" <<< "$(virsh -c $URI dumpxml --inactive "$ws2")" ||
    fail "$ws2 is not a TCG domain"
hocusctl status | grep -q "^Accelerator:  tcg (tcg: kvm probe failed" || fail "status does not show the choice"

note "a restart reuses the cached verdict: no probe boot"
stop_pid "$HOCUSD_PID"
HOCUSD_PID=
: > "$E2E_DIR/hocusd.log"
start_hocusd
[ "$(accelerator)" = tcg ] || fail "after a restart: $(accelerator)"
grep -q "Probing KVM" "$E2E_DIR/hocusd.log" && fail "the restart probed again despite the cache"
grep -q "\[cached probe verdict\]" "$E2E_DIR/hocusd.log" || fail "the log does not say the verdict was cached"
[ "$(mgr_prop VirtualizationReason | jq -r .)" = "$reason" ] || fail "the cached reason differs"
stop_pid "$HOCUSD_PID"
HOCUSD_PID=

note "3. accelerator \"tcg\" never probes"
write_config "$probe_config, \"accelerator\": \"tcg\""
rm -f "$E2E_DIR/state/accelerator.json"
: > "$E2E_DIR/hocusd.log"
start_hocusd
[ "$(accelerator)" = tcg ] || fail "accelerator tcg gave $(accelerator)"
[ "$(mgr_prop VirtualizationReason | jq -r .)" = 'tcg: configured (accelerator "tcg"); KVM not probed' ] ||
    fail "reason: $(mgr_prop VirtualizationReason)"
grep -q "Probing KVM" "$E2E_DIR/hocusd.log" && fail "accelerator tcg probed"
[ ! -e "$E2E_DIR/state/accelerator.json" ] || fail "accelerator tcg wrote a probe verdict"
echo PASS
