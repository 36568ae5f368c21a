#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hocusd --verbose turns on debug messages of every log domain the daemon's
# own code uses (HD_LOG_DOMAINS in src/main.c): a domain left out there hides
# that file's debug messages.
set -euo pipefail
root=$1
want=$(grep -rhoE '^#define G_LOG_DOMAIN "[^"]+"' "$root/src" --include='*.c' |
    sed -E 's/.*"(.*)"/\1/' | sort -u)
have=$(sed -n '/^#define HD_LOG_DOMAINS/,/^$/p' "$root/src/main.c" | grep -oE '"[^"]*"' |
    tr -d '"' | tr ' ' '\n' | sed '/^$/d' | sort -u)
missing=$(comm -23 <(echo "$want") <(echo "$have"))
if [ -n "$missing" ]; then
    echo "src/main.c HD_LOG_DOMAINS lacks: $missing"
    exit 1
fi
echo "HD_LOG_DOMAINS covers all $(echo "$want" | wc -l) log domains"
