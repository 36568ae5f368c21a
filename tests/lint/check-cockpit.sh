#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Cockpit page's files parse: the script (node --check, when Node.js is
# there), the manifest and the npm pin (JSON), and package-lock.json pins the
# same PatternFly version that package.json asks for.
set -euo pipefail
dir=${1:?usage: check-cockpit.sh SOURCE_ROOT}/src/cockpit
for f in manifest.json package.json package-lock.json; do
    jq -e . "$dir/$f" >/dev/null || { echo "FAIL: $f is not valid JSON"; exit 1; }
done
want=$(jq -r '.dependencies["@patternfly/patternfly"]' "$dir/package.json")
locked=$(jq -r '.packages["node_modules/@patternfly/patternfly"].version' "$dir/package-lock.json")
[ "$want" = "$locked" ] || { echo "FAIL: package.json asks for PatternFly $want, package-lock.json pins $locked"; exit 1; }
if command -v node >/dev/null; then
    node --check "$dir/hocusd.js" || { echo "FAIL: hocusd.js does not parse"; exit 1; }
else
    echo "node is not installed: hocusd.js not parsed"
fi
echo "PASS (PatternFly $locked)"
