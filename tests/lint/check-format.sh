#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every C file in the tree is formatted with the project's .clang-format.
set -euo pipefail
cd "$1"
command -v clang-format >/dev/null || { echo "SKIP: clang-format is not installed"; exit 77; }
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find src include tests guest-image -name '*.[ch]')
bad=0
for f in "${files[@]}"; do
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "not formatted: $f (run: clang-format -i $f)"
        bad=1
    fi
done
echo "checked ${#files[@]} files"
exit $bad
