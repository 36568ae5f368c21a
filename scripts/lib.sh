# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the scripts in this directory; source it, do not run it.

HOCUS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HOCUS_BUILD=${HOCUS_BUILD:-$HOCUS_ROOT/build}
HOCUS_PREFIX=${HOCUS_PREFIX:-/usr/local}
HOCUS_GUEST_DIR=${HOCUS_GUEST_DIR:-/var/lib/hocusd/guest}
HOCUS_RUN=/run/hocusd-scripts   # what these scripts started, so they stop only that

# Debian packages: build, run, test, guest image.
HOCUS_PACKAGES=(
    meson ninja-build pkg-config gcc libc6-dev
    libvirt-dev libvirt-glib-1.0-dev libglib2.0-dev libglib2.0-bin libjson-c-dev
    libsystemd-dev libcmocka-dev libxml2-dev
    libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils dbus libxml2-utils
    busybox-static cpio xz-utils gzip e2fsprogs debootstrap
    systemd man-db procps socat jq clang-format git gnuplot-nox
    clang libclang-rt-14-dev valgrind prometheus curl
    cockpit-ws cockpit-bridge cockpit-system chromium chromium-driver python3-selenium
    systemd-container
)
# The Cockpit page's PatternFly comes from the npm registry (src/cockpit):
# the machine's own Node.js and npm when there are, else Debian's.
command -v npm >/dev/null || HOCUS_PACKAGES+=(npm)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_root() {
    [ "$(id -u)" = 0 ] || die "run this as root (it installs packages and starts libvirtd)"
}

systemd_is_init() {
    [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]
}

install_packages() {
    local missing=()
    for p in "${HOCUS_PACKAGES[@]}"; do
        dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "Debian packages: all present"
        return
    fi
    say "Installing ${#missing[@]} Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # The tests run their own Prometheus on a loopback port; the package's
    # own server is not started (where no policy-rc.d decides already).
    local policy=/usr/sbin/policy-rc.d ours=false
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\ncase "$1" in prometheus) exit 101 ;; esac\nexit 0\n' > "$policy"
        chmod 0755 "$policy"
        ours=true
    fi
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}" || { $ours && rm -f "$policy"; return 1; }
    if $ours; then rm -f "$policy"; fi
}

# npm ci in src/cockpit unless node_modules already holds the locked
# PatternFly; then meson must configure again (it looks for it at setup).
fetch_page_deps() {
    local dir=$HOCUS_ROOT/src/cockpit want have
    want=$(jq -r '.packages["node_modules/@patternfly/patternfly"].version' "$dir/package-lock.json")
    have=$(jq -r .version "$dir/node_modules/@patternfly/patternfly/package.json" 2>/dev/null || true)
    [ "$want" = "$have" ] && return 0
    say "Fetching the Cockpit page's PatternFly $want from the npm registry (npm ci in src/cockpit)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$dir/meson.build"
}

build_and_install() {
    fetch_page_deps
    # Pinned on every run, so an older build directory cannot install elsewhere.
    local opts=(--prefix="$HOCUS_PREFIX" -Dguest_image_dir="$HOCUS_GUEST_DIR"
        -Ddbus_policy_dir=/usr/share/dbus-1/system.d -Dcockpit=enabled)
    if [ ! -f "$HOCUS_BUILD/build.ninja" ]; then
        say "Configuring the build in $HOCUS_BUILD"
        meson setup "$HOCUS_BUILD" "$HOCUS_ROOT" "${opts[@]}"
    else
        meson configure "$HOCUS_BUILD" "${opts[@]}"
    fi
    say "Building"
    ninja -C "$HOCUS_BUILD"
    say "Installing hocusd, hocusctl, the units, the bus policy and the Cockpit page under $HOCUS_PREFIX"
    meson install -C "$HOCUS_BUILD" --quiet
    getent group hocus >/dev/null || groupadd --system hocus
}

build_guest_image() {
    local flavour=${1:-all}
    say "Building the guest image ($flavour flavours; cached when inputs are unchanged)"
    "$HOCUS_ROOT/guest-image/build.sh" --flavour "$flavour" --agent-dir "$HOCUS_BUILD/guest-image"
    mkdir -p "$HOCUS_GUEST_DIR"
    chmod 0755 "$(dirname "$HOCUS_GUEST_DIR")" "$HOCUS_GUEST_DIR"
    for f in vmlinuz initrd.img workspace.qcow2 manifest.json; do
        [ -f "$HOCUS_ROOT/guest-image/out/$f" ] || continue
        if ! cmp -s "$HOCUS_ROOT/guest-image/out/$f" "$HOCUS_GUEST_DIR/$f"; then
            install -m 0644 "$HOCUS_ROOT/guest-image/out/$f" "$HOCUS_GUEST_DIR/$f"
        fi
    done
}

# Wait until a unix socket accepts connections.
wait_socket() {
    local path=$1 what=$2 i
    for i in $(seq 1 100); do
        [ -S "$path" ] && return 0
        sleep 0.1
    done
    die "$what did not create $path"
}

# Wait until libvirtd answers on qemu:///system (its socket can exist a
# moment before it accepts, and the QEMU driver probes capabilities first).
wait_libvirtd() {
    local i
    for i in $(seq 1 300); do
        virsh -c qemu:///system version >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    virsh -c qemu:///system version >/dev/null || die "libvirtd does not answer on qemu:///system after 30 s"
}

# Wait until hocusd answers on the system bus (name owned, workspaces known).
wait_hocusd() {
    local i
    for i in $(seq 1 300); do
        "$HOCUS_PREFIX/bin/hocusctl" list >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
