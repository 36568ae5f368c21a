#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The "workspace" flavour: a Debian 12 root filesystem on a qcow2 disk, for
# developers. hocusd workspaces use it as base_image (each gets a copy-on-write
# overlay) and boot it with the shared kernel and initramfs plus
# "hocus.root=/dev/vda" on the cmdline.
#
# Called by build.sh; inputs: the extracted kernel package (for its modules),
# hocus-agent. Needs root (debootstrap, chroot) and Debian's archive.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out="" kernel_dir="" agent_dir="" size=4G
mirror=${HOCUS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --kernel-dir) kernel_dir=$2; shift 2 ;;
        --agent-dir) agent_dir=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        *) echo "build-workspace.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[ -n "$out" ] && [ -d "$kernel_dir" ] || { echo "usage: build-workspace.sh --out DIR --kernel-dir DIR [--agent-dir DIR] [--size 4G]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "build-workspace.sh: needs root (debootstrap)" >&2; exit 1; }
for t in debootstrap mkfs.ext4 qemu-img ssh-keygen; do
    command -v $t >/dev/null || { echo "build-workspace.sh: missing $t" >&2; exit 1; }
done
log() { printf 'guest-image: %s\n' "$*" >&2; }

t0=$(date +%s)
root="$out/cache/workspace-root"

# debootstrap can leave /proc, /sys and /dev mounted inside the root: unmount
# everything below it (deepest first) before imaging it, and on any exit.
unmount_root() {
    { grep -o " $root/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
}
trap unmount_root EXIT
unmount_root
rm -rf "$root"
mkdir -p "$root" "$out/ssh"

log "debootstrap Debian 12 into $root (from $mirror)"
debootstrap --variant=minbase \
    --include=systemd-sysv,udev,kmod,dbus,openssh-server,sudo,e2fsprogs,iproute2,procps,less,ca-certificates,netbase,bash-completion \
    bookworm "$root" "$mirror" > "$out/cache/debootstrap.log" 2>&1 ||
    { tail -n 20 "$out/cache/debootstrap.log" >&2; exit 1; }

kver=$(ls "$kernel_dir/lib/modules")
log "installing kernel modules $kver"
mkdir -p "$root/lib/modules"
cp -a "$kernel_dir/lib/modules/$kver" "$root/lib/modules/"
chroot "$root" depmod "$kver"

log "configuring the system"
echo hocus-workspace > "$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 hocus-workspace\n' > "$root/etc/hosts"
cat > "$root/etc/fstab" <<FSTAB
# The workspace's overlay disk; discard returns freed blocks to the host.
/dev/vda / ext4 defaults,discard,errors=remount-ro 0 1
FSTAB
# The developer: key login only, passwordless sudo.
chroot "$root" useradd --create-home --shell /bin/bash --groups sudo dev
chroot "$root" passwd --lock dev >/dev/null
echo "dev ALL=(ALL) NOPASSWD:ALL" > "$root/etc/sudoers.d/dev"
chmod 0440 "$root/etc/sudoers.d/dev"
[ -f "$out/ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N "" -C "hocus demo key" -f "$out/ssh/id_ed25519"
install -d -m 0700 -o 1000 -g 1000 "$root/home/dev/.ssh"
install -m 0600 -o 1000 -g 1000 "$out/ssh/id_ed25519.pub" "$root/home/dev/.ssh/authorized_keys"
cat > "$root/etc/ssh/sshd_config.d/hocus.conf" <<SSHD
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
SSHD
# DHCP on any virtio NIC (workspaces get one when hocusd's "network" is set).
mkdir -p "$root/etc/systemd/network"
printf '[Match]\nName=en*\n\n[Network]\nDHCP=yes\n' > "$root/etc/systemd/network/80-dhcp.network"
chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1 || true
# The disk is an overlay that may be larger than this image: grow the filesystem.
cat > "$root/etc/systemd/system/hocus-growfs.service" <<UNIT
[Unit]
Description=Grow the root filesystem to the workspace disk
DefaultDependencies=no
After=local-fs.target
Before=sshd.service

[Service]
Type=oneshot
ExecStart=/usr/sbin/resize2fs /dev/vda

[Install]
WantedBy=multi-user.target
UNIT
chroot "$root" systemctl enable hocus-growfs.service >/dev/null 2>&1

if [ -n "$agent_dir" ] && [ -x "$agent_dir/hocus-agent" ]; then
    log "installing hocus-agent"
    install -m 0755 "$agent_dir/hocus-agent" "$root/usr/local/sbin/hocus-agent"
    install -m 0644 "$here/workspace/hocus-agent.service" "$root/etc/systemd/system/hocus-agent.service"
    chroot "$root" systemctl enable hocus-agent.service >/dev/null 2>&1
fi

log "trimming caches"
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/tmp/* "$root"/var/log/*.log

unmount_root
log "making the $size ext4 image"
rm -f "$out/workspace.raw"
truncate -s "$size" "$out/workspace.raw"
mkfs.ext4 -q -F -L hocus-root -d "$root" "$out/workspace.raw"
qemu-img convert -O qcow2 "$out/workspace.raw" "$out/workspace.qcow2.new"
rm -f "$out/workspace.raw"
mv "$out/workspace.qcow2.new" "$out/workspace.qcow2"
echo $(( $(date +%s) - t0 )) > "$out/.time-workspace"
log "workspace flavour: $(du -h "$out/workspace.qcow2" | cut -f1) allocated, built in $(cat "$out/.time-workspace") s"
