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

# Waiting (CONVENTIONS 21): never `sleep N; check`. Poll the condition with a deadline and
# fail, naming what was awaited, when the deadline passes. Deadlines are generous (they
# bound a hang, they do not measure anything), and TCG in the VM runs everything several
# times slower: TIME_SCALE multiplies every deadline there.
TIME_SCALE=1
[ "${CORUN_IN_VM:-0}" = 1 ] && TIME_SCALE=4
# uptime_cs: CLOCK_BOOTTIME in centiseconds (/proc/uptime always has two decimals; no
# `date +%N` in the VM's busybox).
uptime_cs() { read -r _up _rest </proc/uptime && echo "${_up%.*}${_up#*.}" | sed 's/^0*//; s/^$/0/'; }
# poll SECONDS CMD...: 0 as soon as CMD succeeds (polled every 50 ms), 1 once SECONDS
# (times TIME_SCALE; decimals allowed) have passed without it.
poll() {
        _end=$(( $(uptime_cs) + $(awk -v s="$1" -v k="$TIME_SCALE" 'BEGIN { printf "%d", s * k * 100 }') ))
        shift
        while ! "$@"; do
                [ "$(uptime_cs)" -lt "$_end" ] || { "$@"; return; }
                sleep 0.05
        done
}
# wait_for DESC SECONDS CMD...: poll, and fail with "timed out after SECONDS s waiting for
# DESC" when the deadline passes. WAIT_DETAIL, if set, is evaluated for the message.
wait_for() {
        _desc=$1 _secs=$2
        shift 2
        poll "$_secs" "$@" && return 0
        fail "timed out after $(awk -v s="$_secs" -v k="$TIME_SCALE" 'BEGIN { print s * k }') s waiting for $_desc${WAIT_DETAIL:+:
$(eval "$WAIT_DETAIL")}"
}
# not CMD...: the negation, for wait_for ("wait until it is gone").
not() { ! "$@"; }

# The processes of a corun run, found through its own journal and groups rather than by
# name (`pgrep sleep` would match any sleep on a machine shared with other test runs).
# run_journal PID: the journal whose header names runner PID (empty if none yet).
run_journal() {
        grep -l "^corun-journal [0-9]* pid=$1 " /run/corun/*.journal 2>/dev/null | head -n 1
}
# run_procs PID: every process in the groups of runner PID's journal but the runner
# itself, one per line, sorted.
run_procs() {
        _j=$(run_journal "$1")
        [ -n "$_j" ] || return 0
        sed -n 's/^cgroup //p' "$_j" | while read -r _g; do
                cat "$_g/cgroup.procs" 2>/dev/null || true
        done | grep -vx "$1" | sort -un
}
# nprocs_at_least PID N: runner PID's groups hold at least N processes.
nprocs_at_least() { [ "$(run_procs "$1" | wc -l)" -ge "$2" ]; }
# none_alive PID...: none of these processes is still running.
none_alive() {
        for _p in "$@"; do
                alive "$_p" && return 1
        done
        return 0
}
# alive PID: the process exists and is not a zombie (this machine's PID 1 may not reap
# orphans, so a killed daemon can linger as a zombie).
alive() {
        [ -r "/proc/$1/stat" ] || return 1
        st=$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)
        [ "$st" != Z ] && [ "$st" != X ]
}

# The live display on a real terminal (runner/tty.sh, gpu/tty.sh): a private tmux server
# (its socket in $WORK, no user config), kept alive by a dummy session and `exit-empty
# off`, killed by its pid at exit whatever happened (on the shared default server,
# killing the only session and starting a new one at once raced with the server's own
# exit). tm runs tmux against it; start NAME CMD runs CMD in a session, then a line saying
# how it ended, then idles so the screen stays readable; shows REGEX... is true when the
# screen of session $S, captured once into $screen, has a line matching every REGEX.
tmux_start_server() {
        command -v tmux >/dev/null || fail "tmux missing (scripts/install-deps.sh installs it)"
        SOCK=$WORK/tmux.sock
        tm new-session -d -s keep -x 140 -y 40 "sleep 100000" || fail "cannot start a tmux server on socket $SOCK"
        tm set -g exit-empty off >/dev/null || fail "tmux: cannot set exit-empty off"
        server=$(tm display-message -p -t keep '#{pid}') || fail "tmux: no server pid"
        trap stop_tmux EXIT
        WAIT_DETAIL='printf "screen:\n%s\n" "$screen"'
}
tm() { tmux -S "$SOCK" -f /dev/null "$@"; }
stop_tmux() {
        kill "$server" 2>/dev/null || true
        poll 5 not alive "$server" || kill -9 "$server" 2>/dev/null || true
        cleanup_work
}
start() {
        tm new-session -d -s "$1" -x 140 -y 40 "$2; echo corun-exited-\$?; sleep 100000" ||
                fail "tmux: cannot start session $1"
        S=$1
}
shows() {
        screen=$(tm capture-pane -p -t "$S") || return 1
        for _re in "$@"; do
                printf '%s\n' "$screen" | grep -Eq -- "$_re" || return 1
        done
}
