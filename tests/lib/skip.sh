# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the shell tests. skip REASON: exit 77 (meson: skipped), or fail
# (exit 1) when skipping is not allowed: under CI=true, or HD_ALLOW_SKIPS=0
# (scripts/test.sh's default). HD_ALLOW_SKIPS=1 allows it even under CI.
hd_skips_allowed() {
    case "${HD_ALLOW_SKIPS:-}" in
    1) return 0 ;;
    0) return 1 ;;
    esac
    [ "${CI:-}" != true ]
}
skip() {
    if hd_skips_allowed; then
        echo "SKIP: $*"
        exit 77
    fi
    echo "FAIL: this test would be skipped: $* (skips fail under CI=true or HD_ALLOW_SKIPS=0; HD_ALLOW_SKIPS=1 allows them)"
    exit 1
}
