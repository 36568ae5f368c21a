#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds the hocusd guest image:
#   OUT/vmlinuz          Debian 12's 6.12 cloud kernel (PAGE_REPORTING, DAMON, PSI)
#   OUT/initrd.img       busybox initramfs with hocus-agent, workload helpers and
#                        the virtio modules; boots in seconds under TCG ("test")
#   OUT/workspace.qcow2  Debian 12 root disk with sshd, user "dev" and hocus-agent
#                        ("workspace"; boot with cmdline hocus.root=/dev/vda)
#   OUT/manifest.json    versions, sizes, input hash, build times
#
# Outputs are rebuilt only when their inputs change (kernel package version,
# busybox version, agent binaries, the files of this directory).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out="$here/out"
flavour=test
agent_dir=""
force=0
mirror=${HOCUS_DEBIAN_MIRROR:-}

usage() {
    cat <<USAGE
Usage: guest-image/build.sh [--out DIR] [--flavour test|workspace|all]
                            [--agent-dir DIR] [--force]

  --out DIR        where the outputs go (default guest-image/out)
  --flavour F      test: kernel + initramfs (default); workspace: also the Debian
                   root disk (debootstrap, several minutes); all: both
  --agent-dir DIR  directory with hocus-agent and the helper binaries (static);
                   default: the build directory's guest-image/
  --force          rebuild even when the inputs did not change
USAGE
}

while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --flavour) flavour=$2; shift 2 ;;
        --agent-dir) agent_dir=$2; shift 2 ;;
        --force) force=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "build.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
case "$flavour" in test|workspace|all) ;; *) echo "build.sh: bad --flavour '$flavour'" >&2; exit 2 ;; esac

log() { printf 'guest-image: %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null || { log "missing tool '$1' (apt-get install $2)"; exit 1; }; }
need apt-get apt; need dpkg dpkg; need cpio cpio; need gzip gzip; need xz xz-utils
[ -x /bin/busybox ] || { log "missing /bin/busybox (apt-get install busybox-static)"; exit 1; }

mkdir -p "$out/cache"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}

# The kernel: whatever Debian's 6.12 cloud meta-package points at today.
kernel_pkg=$(apt-cache depends linux-image-6.12-cloud-amd64 2>/dev/null |
    awk '/Depends: linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64/ {print $2; exit}')
if [ -z "$kernel_pkg" ]; then
    log "cannot resolve linux-image-6.12-cloud-amd64 (run apt-get update?)"
    exit 1
fi
kernel_ver=$(apt-cache policy "$kernel_pkg" | awk '/Candidate:/ {print $2}')
busybox_ver=$(dpkg-query -W -f '${Version}' busybox-static)

if [ -z "$agent_dir" ]; then
    for d in "$here/../build/guest-image" "$here/../builddir/guest-image"; do
        [ -x "$d/hocus-agent" ] && agent_dir=$(cd "$d" && pwd) && break
    done
fi
agent_bins=()
if [ -n "$agent_dir" ]; then
    for b in hocus-agent hocus-mem hocus-io; do
        [ -x "$agent_dir/$b" ] && agent_bins+=("$agent_dir/$b")
    done
fi
[ ${#agent_bins[@]} -gt 0 ] || log "no hocus-agent binaries found; the image announces itself but runs no agent"

input_hash() {
    {
        echo "kernel $kernel_pkg $kernel_ver"
        echo "busybox $busybox_ver"
        (cd "$here" && find build.sh initramfs workspace -type f 2>/dev/null | LC_ALL=C sort | xargs sha256sum)
        for b in "${agent_bins[@]}"; do sha256sum "$b" | sed "s#  .*/#  #"; done
    } | sha256sum | cut -d' ' -f1
}
hash_test=$(input_hash)

fetch_kernel() {
    local deb
    deb=$(ls "$out/cache/${kernel_pkg}_"*.deb 2>/dev/null | head -n1 || true)
    if [ -z "$deb" ]; then
        log "downloading $kernel_pkg $kernel_ver"
        (cd "$out/cache" && apt-get download "$kernel_pkg=$kernel_ver" >/dev/null)
        deb=$(ls "$out/cache/${kernel_pkg}_"*.deb | head -n1)
    fi
    rm -rf "$out/cache/kernel"
    dpkg -x "$deb" "$out/cache/kernel"
}

build_test() {
    local t0 root kdir moddir
    t0=$(date +%s)
    fetch_kernel
    kdir=$(ls -d "$out/cache/kernel/lib/modules/"*)
    cp "$out/cache/kernel/boot/vmlinuz-"* "$out/vmlinuz.new"

    root=$(mktemp -d)
    trap 'rm -rf "$root"' RETURN
    mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,run,tmp,mnt,root,newroot,lib/modules,usr/bin,usr/sbin}
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(/bin/busybox --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
    done
    ln -sf ../bin/busybox "$root/sbin/init"
    for a in acpid poweroff reboot halt insmod switch_root; do ln -sf ../bin/busybox "$root/sbin/$a"; done
    install -m 0755 "$here/initramfs/init" "$root/init"
    install -m 0644 "$here/initramfs/inittab" "$root/etc/inittab"
    install -m 0755 "$here/initramfs/rc.sysinit" "$root/etc/rc.sysinit"
    install -m 0755 "$here/initramfs/rc.agent" "$root/etc/rc.agent"
    install -m 0644 "$here/initramfs/profile" "$root/etc/profile"
    install -m 0644 "$here/initramfs/modules.order" "$root/etc/modules.order"
    install -m 0755 "$here/initramfs/hocus-disk" "$root/bin/hocus-disk"
    install -m 0755 "$here/initramfs/hocus-damon-probe" "$root/bin/hocus-damon-probe"
    cp -r "$here/initramfs/acpi" "$root/etc/acpi"
    echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
    echo "root:x:0:" > "$root/etc/group"
    for b in "${agent_bins[@]}"; do install -m 0755 "$b" "$root/sbin/$(basename "$b")"; done
    ln -sf ../sbin/hocus-mem "$root/bin/hocus-mem"
    ln -sf ../sbin/hocus-io "$root/bin/hocus-io"

    moddir="$root/lib/modules"
    while read -r mod; do
        [ -n "$mod" ] || continue
        f=$(find "$kdir/kernel" -name "$mod.ko.xz" | head -n1)
        [ -n "$f" ] || { log "module $mod not found in $kernel_pkg"; exit 1; }
        xz -dc "$f" > "$moddir/$mod.ko"
    done < "$here/initramfs/modules.order"

    find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    (cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible -R 0:0 | gzip -9n) > "$out/initrd.img.new"
    mv "$out/vmlinuz.new" "$out/vmlinuz"
    mv "$out/initrd.img.new" "$out/initrd.img"
    echo "$hash_test" > "$out/.stamp-test"
    echo $(( $(date +%s) - t0 )) > "$out/.time-test"
    log "test flavour: vmlinuz $(du -h "$out/vmlinuz" | cut -f1), initrd.img $(du -h "$out/initrd.img" | cut -f1) in $(cat "$out/.time-test") s"
}

build_workspace() {
    "$here/build-workspace.sh" --out "$out" --kernel-dir "$out/cache/kernel" ${agent_dir:+--agent-dir "$agent_dir"}
    echo "$hash_test" > "$out/.stamp-workspace"
}

if [ "$force" = 1 ] || [ "$(cat "$out/.stamp-test" 2>/dev/null)" != "$hash_test" ] ||
        [ ! -s "$out/vmlinuz" ] || [ ! -s "$out/initrd.img" ]; then
    build_test
else
    log "test flavour is up to date"
fi
if [ "$flavour" != test ]; then
    if [ "$force" = 1 ] || [ "$(cat "$out/.stamp-workspace" 2>/dev/null)" != "$hash_test" ] ||
            [ ! -s "$out/workspace.qcow2" ]; then
        [ -d "$out/cache/kernel" ] || fetch_kernel
        build_workspace
    else
        log "workspace flavour is up to date"
    fi
fi

cat > "$out/manifest.json" <<JSON
{
  "kernel_package": "$kernel_pkg",
  "kernel_version": "$kernel_ver",
  "busybox_version": "$busybox_ver",
  "agent": $([ ${#agent_bins[@]} -gt 0 ] && echo true || echo false),
  "input_hash": "$hash_test",
  "initrd_bytes": $(stat -c %s "$out/initrd.img"),
  "vmlinuz_bytes": $(stat -c %s "$out/vmlinuz"),
  "test_build_seconds": $(cat "$out/.time-test" 2>/dev/null || echo null),
  "workspace_build_seconds": $(cat "$out/.time-workspace" 2>/dev/null || echo null)
}
JSON
log "outputs in $out"
