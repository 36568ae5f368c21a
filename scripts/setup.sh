#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what hocusd needs on Debian 12, builds it, installs it under
# /usr/local (bus policy in /usr/share/dbus-1/system.d) and builds the guest
# image, both flavours (the busybox test image and the Debian workspace disk).
# Safe to run again: every step is skipped when already done.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
install_packages
build_and_install
build_guest_image all
say "Setup done"
