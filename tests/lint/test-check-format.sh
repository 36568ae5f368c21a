#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# check-format.sh on a tree that is not a git checkout (a release tarball):
# it checks the project's files and not what builds leave in the tree.
set -euo pipefail
root=$1
. "$(dirname "$0")/../lib/skip.sh"
command -v clang-format >/dev/null || skip "clang-format is not installed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for d in src include tests guest-image; do
    (cd "$root" && tar --exclude=guest-image/out -cf - "$d") | tar -xf - -C "$tmp"
done
cp "$root/.clang-format" "$tmp/"
# Build output: a guest tree with system headers in no project style.
mkdir -p "$tmp/guest-image/out/cache/root/usr/include" "$tmp/build/x"
printf 'int   x ;\n' > "$tmp/guest-image/out/cache/root/usr/include/bad.h"
printf 'int   y ;\n' > "$tmp/build/x/generated.c"
out=$("$root/tests/lint/check-format.sh" "$tmp") || { echo "$out"; echo "FAIL: build outputs were checked"; exit 1; }
# A project file out of style is still caught.
printf 'int   z ;\n' > "$tmp/src/core/bad.c"
if "$root/tests/lint/check-format.sh" "$tmp" >/dev/null; then
    echo "FAIL: a badly formatted src/core/bad.c passed"
    exit 1
fi
echo "check-format.sh checks the project's files in a tarball tree"
