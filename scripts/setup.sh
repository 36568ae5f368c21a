#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what hocusd needs on Debian 12, builds it, installs it under
# /usr/local (bus policy in /usr/share/dbus-1/system.d) and builds the guest
# image. Safe to run again: every step is skipped when already done.
#   scripts/setup.sh [--workspace]   --workspace also builds the Debian disk
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
flavour=test
[ "${1:-}" = --workspace ] && flavour=all
install_packages
build_and_install
build_guest_image "$flavour"
say "Setup done"
