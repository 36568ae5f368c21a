#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Changes made behind hocusd's back (virsh destroy, undefine, a redefinition
# as with virsh edit) and while libvirtd is down (a domain's file appears,
# another's goes): after each, hocusd's D-Bus view equals libvirt's. And the
# two refusals a client retries: Busy while another operation on the
# workspace is in flight, Unavailable while libvirtd is down.
. "$(dirname "$0")/lib.sh"

write_config
start_hocusd
new_name run ext-run
new_name gone ext-gone
new_name edited ext-edit
new_name appears ext-new
new_name late ext-late
for w in "$run" "$gone" "$edited"; do hocusctl create "$w" >/dev/null; done

# hocusd's workspaces of this test, and libvirt's domains that carry hocusd's
# metadata, by name.
ours() { grep -E "^e2e-ext-[a-z]+-$$\$" | sort; }
hocusd_view() { hocusctl --json list | jq -r '.[].name' | ours; }
libvirt_view() {
    local d
    for d in $(virsh -c $URI list --all --name | ours); do
        virsh -c $URI metadata "$d" --uri https://hocus.dev/xmlns/hocusd/1 >/dev/null 2>&1 &&
            echo "$d"
    done
}
same_view() {  # WHEN
    local h l
    for _ in $(seq 1 50); do
        h=$(hocusd_view) l=$(libvirt_view)
        [ "$h" = "$l" ] && return 0
        sleep 0.2
    done
    fail "$1: hocusd lists [$(echo $h)], libvirt has [$(echo $l)]"
}
same_view "at the start"

note "virsh destroy: the running workspace is shut off"
boot "$run" >/dev/null
virsh -c $URI destroy "$run" >/dev/null
wait_state "$run" shutoff 10 || fail "$run is $(state_of "$run") after virsh destroy"

note "Busy: a second operation while one is in flight (libvirtd frozen); the retry succeeds"
lv=$(pgrep -xo libvirtd)
kill -STOP "$lv"
hocusctl start "$run" >/dev/null 2>&1 &
starter=$!
sleep 1
rc=0
out=$(hocusctl stop "$run" --force 2>&1) || rc=$?
kill -CONT "$lv"
wait "$starter" || fail "the start held up by the frozen libvirtd failed"
[ "$rc" != 0 ] || fail "a stop during the start was not refused"
grep -q "another operation in progress" <<< "$out" || fail "the refusal was: $out"
wait_state "$run" running 60
hocusctl stop "$run" --force >/dev/null || fail "the retried stop failed"
wait_state "$run" shutoff 30

note "virsh undefine: the workspace goes"
virsh -c $URI undefine "$gone" >/dev/null
unlisted() { ! listed "$1"; }
poll 50 0.2 unlisted "$gone" || fail "hocusd still lists $gone after virsh undefine"
same_view "after virsh undefine"

note "a redefinition (virsh edit): hocusd reads the new metadata"
xml=$(virsh -c $URI dumpxml --inactive "$edited")
sed 's|<hocus:vcpus>1</hocus:vcpus>|<hocus:vcpus>2</hocus:vcpus>|' <<< "$xml" > "$E2E_DIR/edited.xml"
grep -q '<hocus:vcpus>2</hocus:vcpus>' "$E2E_DIR/edited.xml" || fail "the test's edit did not apply"
virsh -c $URI define "$E2E_DIR/edited.xml" >/dev/null
vcpus_are() { [ "$(hocusctl --json show "$1" | jq -r .spec.vcpus)" = "$2" ]; }
poll 50 0.2 vcpus_are "$edited" 2 ||
    fail "hocusd shows vcpus $(hocusctl --json show "$edited" | jq -c .spec.vcpus) after the redefinition"

note "while libvirtd is down a domain appears and another goes; hocusd sees both once reconnected"
# libvirtd reads its persistent domains from these files when it starts.
confdir=/etc/libvirt/qemu
[ -f "$confdir/$run.xml" ] || fail "no $confdir/$run.xml: libvirtd keeps its domains elsewhere"
libvirtd_stop
sed -e "s|<name>$run</name>|<name>$appears</name>|" -e "/<uuid>/d" \
    -e "s|<hocus:name>$run</hocus:name>|<hocus:name>$appears</hocus:name>|" \
    "$confdir/$run.xml" > "$confdir/$appears.xml"
rm "$confdir/$edited.xml"
rc=0
out=$(hocusctl create "$late" 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "a create while libvirtd was down succeeded"
grep -q "not connected to libvirt" <<< "$out" || fail "the refusal was: $out"
libvirtd_start
hocusctl create "$late" >/dev/null || fail "the retried create failed"
poll 50 0.2 listed "$appears" || fail "hocusd does not list $appears, defined while libvirtd was down"
listed "$edited" && fail "hocusd still lists $edited, gone while libvirtd was down"
same_view "after the outage"
echo PASS
