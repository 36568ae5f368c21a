#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# systemd/hocusd.example.json is valid and lists exactly the built-in defaults
# (regenerate with: echo {} > e.json; hocusd --config e.json --dump-config).
set -euo pipefail
hocusd=$1 example=$2
"$hocusd" --config "$example" --check-config
# The built-in defaults: what hocusd dumps for an empty configuration (not
# for the example itself, which would only echo the example back).
empty=$(mktemp)
trap 'rm -f "$empty"' EXIT
echo '{}' > "$empty"
want=$("$hocusd" --config "$empty" --dump-config)
got=$(cat "$example")
if [ "$want" != "$got" ]; then
    echo "$example differs from the defaults hocusd dumps:"
    diff <(echo "$want") <(echo "$got") || true
    exit 1
fi
echo "example config matches the defaults"
