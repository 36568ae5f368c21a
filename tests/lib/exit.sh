# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the shell tests: one EXIT trap for the whole script, so that a
# test's own teardown can neither skip the shared one nor change the status.
#
#   hd_at_exit 'COMMAND...'  run COMMAND at exit (evaluated then, so it sees
#                            the variables' values at exit); hooks run last
#                            registered first, with errexit off, whatever
#                            each returns
#   HD_EXIT_RC               the status the script is exiting with, for hooks
#
# After the hooks, every background job still running is killed (SIGTERM,
# then SIGKILL): a job left holding the test's stdout would keep meson
# waiting for end of file until the test's timeout. The script exits with the
# status it was exiting with before the hooks ran. Signals end the script
# through exit, so the hooks run for them too.
HD_EXIT_HOOKS=()
HD_EXIT_RC=0
hd_at_exit() { HD_EXIT_HOOKS+=("$*"); }

hd_kill_jobs() {
    local pids i
    pids=$(jobs -pr)
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086 # one pid per word
    kill $pids 2>/dev/null
    for i in $(seq 1 50); do
        pids=$(jobs -pr)
        [ -n "$pids" ] || return 0
        sleep 0.1
    done
    echo "--- background jobs $(echo $pids) did not stop on SIGTERM within 5 s; killing them"
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null
}

hd_run_exit_hooks() {
    HD_EXIT_RC=$?
    set +e
    trap - EXIT
    local i
    for ((i = ${#HD_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
        eval "${HD_EXIT_HOOKS[i]}"
    done
    hd_kill_jobs
    exit "$HD_EXIT_RC"
}
trap hd_run_exit_hooks EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
