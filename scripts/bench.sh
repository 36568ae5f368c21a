#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The benchmark suite from a fresh Debian 12 machine, as root: the same set-up
# as scripts/test.sh (packages, build, guest image, libvirtd/virtlogd/D-Bus),
# then tests/bench/run.sh, then stops what it started. Options go to run.sh
# (--help lists them); results land in bench-results/<date>/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
for a in "$@"; do
    case $a in -h | --help) exec "$HOCUS_ROOT/tests/bench/run.sh" --help ;; esac
done
need_root

"$HOCUS_ROOT/scripts/setup.sh"
"$HOCUS_ROOT/scripts/services.sh" start
trap '"$HOCUS_ROOT/scripts/services.sh" stop' EXIT

say "Running the benchmark suite (about 25 minutes under TCG)"
HOCUS_BUILD="$HOCUS_BUILD" HD_GUEST_DIR="$HOCUS_GUEST_DIR" "$HOCUS_ROOT/tests/bench/run.sh" "$@"
