#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every C file in the tree is formatted with the project's .clang-format.
set -euo pipefail
cd "$1"
. "$(dirname "$0")/../lib/skip.sh"
command -v clang-format >/dev/null || skip "clang-format is not installed"
# The project's own files: git's list in a checkout; in a release tarball (no
# .git, or inside someone else's repository) the source folders, without what
# builds leave there (guest-image/out holds a whole Debian tree, headers too).
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
    mapfile -t files < <(git ls-files '*.c' '*.h')
else
    mapfile -t files < <(find src include tests guest-image \
        \( -path guest-image/out -o -name 'build*' \) -prune -o -name '*.[ch]' -print | sort)
fi
bad=0
for f in "${files[@]}"; do
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "not formatted: $f (run: clang-format -i $f)"
        bad=1
    fi
done
echo "checked ${#files[@]} files"
exit $bad
