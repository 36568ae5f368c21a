#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lib/exit.sh, the exit handling every shell test relies on: a failing
# test stays failed whatever its hooks return, every hook runs even after one
# fails, and no background job outlives the script holding its output (meson
# would wait for end of file until the test's timeout); and that the shell
# tests leave their EXIT trap to it.
set -euo pipefail
EXIT_SH="$(cd "$(dirname "$0")" && pwd)/exit.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail() { echo "FAIL: $*" >&2; exit 1; }

# scenario NAME WANT_RC BODY: runs BODY in a fresh bash that sourced exit.sh
# under set -e and checks its status. Its output is read through a pipe, as
# meson reads a test's: the reader sees end of file only once every process
# holding the pipe has gone, so a job left behind shows as a timeout here.
scenario() {
    local name=$1 want=$2 body=$3 rc prc=0
    n=$((n + 1))
    { timeout 15 bash -c "set -euo pipefail; . '$EXIT_SH'; $body" 2>&1; echo "exit $?"; } |
        timeout 20 cat > "$tmp/$name.out" || prc=$?
    [ "$prc" = 0 ] || fail "$name: its output was still open after 20 s: $(cat "$tmp/$name.out")"
    rc=$(sed -n 's/^exit //p' "$tmp/$name.out" | tail -n1)
    [ "$rc" != 124 ] || fail "$name: still running after 15 s: $(cat "$tmp/$name.out")"
    [ "$rc" = "$want" ] || fail "$name: exited $rc, want $want: $(cat "$tmp/$name.out")"
    echo "ok $n $name (exit $rc)"
}
has() { grep -qx "$2" "$tmp/$1.out" || fail "$1: no line '$2' in: $(cat "$tmp/$1.out")"; }
lacks() { ! grep -qx "$2" "$tmp/$1.out" || fail "$1: line '$2' in: $(cat "$tmp/$1.out")"; }

# A hook whose last command succeeds does not turn a failure into a pass.
scenario failed-stays-failed 1 'hd_at_exit "X=; true"; false'
# Nor one that fails under set -e, and the hooks before it still run.
scenario failing-hook 3 'hd_at_exit "echo first-registered"; hd_at_exit "false; echo after-false"; exit 3'
has failing-hook after-false
has failing-hook first-registered
# Last registered first; they see the variables' values at exit.
scenario order 0 'V=early; hd_at_exit "echo one \$V"; hd_at_exit "echo two \$HD_EXIT_RC"; V=late'
[ "$(cat "$tmp/order.out")" = "$(printf 'two 0\none late\nexit 0')" ] || fail "order: $(cat "$tmp/order.out")"
# A skip (77) stays a skip.
scenario skip-stays-skip 77 'hd_at_exit "true"; exit 77'
# A background job holding stdout is killed, and a failure stays a failure.
scenario stray-job 1 'sleep 300 & false'
# One that ignores SIGTERM is killed too.
scenario stubborn-job 1 '(trap "" TERM; while :; do sleep 0.2; done) & sleep 0.2; false'
grep -q "^--- background jobs .* did not stop on SIGTERM within 5 s; killing them$" \
    "$tmp/stubborn-job.out" || fail "stubborn-job was not killed: $(cat "$tmp/stubborn-job.out")"
# A signal ends the script through the hooks, with the signal's status.
scenario signal 143 'hd_at_exit "echo hooked"; (sleep 0.3; kill -TERM $$) & while :; do sleep 0.1; done'
has signal hooked
lacks stray-job hooked

# The shell tests use it: none sets an EXIT trap of its own, which would take
# the place of the shared teardown.
root=${1:-$(dirname "$0")/../..}
own=$(grep -ln "^[^#]*trap .*EXIT" "$root"/tests/e2e/*.sh "$root"/tests/bench/*.sh || true)
[ -z "$own" ] || fail "these set their own EXIT trap (use hd_at_exit): $own"
echo "PASS ($n scenarios; no shell test sets its own EXIT trap)"
