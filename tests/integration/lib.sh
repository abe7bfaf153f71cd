# Shared helpers for integration tests (sourced). Each test is a script run by meson
# with CORUN (the binary), HELPERS (tests/helpers build dir) and SRCDIR set.
set -eu
: "${CORUN:?CORUN not set (run through meson test)}"
: "${HELPERS:?}"
: "${SRCDIR:?}"
export PATH="$(dirname "$CORUN"):$PATH"

TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/corun-test-$TEST_NAME.XXXXXX")
cleanup_work() {
        # Never leave a group or process behind, even when the test fails.
        "$CORUN" cleanup -q >/dev/null 2>&1 || true
        # A run still finishing in the background (tmux tests) may add files while we
        # remove them: try again once.
        rm -rf "$WORK" 2>/dev/null || { sleep 1; rm -rf "$WORK" || true; }
}
trap cleanup_work EXIT

fail() {
        echo "FAIL ($TEST_NAME): $*" >&2
        exit 1
}
skip() {
        echo "SKIP ($TEST_NAME): $*" >&2
        exit 77
}
need_root_cgroups() {
        [ "$(id -u)" = 0 ] || skip "needs root to create cgroups"
        [ -w /sys/fs/cgroup/memory ] || [ -w /sys/fs/cgroup/cgroup.subtree_control ] || skip "no writable cgroup hierarchy"
}
# json FILE FILTER: jq -r with a clear failure
json() {
        _out=$(jq -r "$2" "$1" 2>/dev/null) && [ -n "$_out" ] ||
                fail "jq '$2' on $1 gave nothing; file: $(head -c 1500 "$1")"
        printf '%s\n' "$_out"
}
assert_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
# assert_between VALUE LOW HIGH WHAT (floating point)
assert_between() {
        awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }' || fail "$4: $1 not in [$2, $3]"
}
# job FILE NAME FIELD: a job's field from the first run that has it
job() { json "$1" "[.runs[].jobs[] | select(.name == \"$2\")][0] | $3"; }
# alive PID: the process exists and is not a zombie (this machine's PID 1 may not reap
# orphans, so a killed daemon can linger as a zombie).
alive() {
        [ -r "/proc/$1/stat" ] || return 1
        st=$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)
        [ "$st" != Z ] && [ "$st" != X ]
}
