#!/bin/sh
# SPDX-License-Identifier: MIT
# Bad GPU requests are refused before anything starts (exit 2, no results directory, no
# job run), naming file:line:col or the flag and what this machine has: more GPUs than
# exist, an unknown NVML index or UUID, GPUs on a machine without any; and the bad values
# themselves.
. "$SRCDIR/tests/integration/gpu/gpu-lib.sh"

# refused WANT_MESSAGE [sim] ARGS...: exit 2, the message, nothing started or written
refused() {
        _want=$1
        shift
        rm -f "$WORK/started"
        _rc=0
        (cd "$WORK" && "$@") >"$WORK/err" 2>&1 || _rc=$?
        assert_eq "$_rc" 2 "exit status of: $*"
        grep -qF -- "$_want" "$WORK/err" || fail "message of '$*': expected '$_want', got: $(cat "$WORK/err")"
        [ ! -e "$WORK/started" ] || fail "a job started: $*"
        [ ! -e "$WORK/corun-results" ] || fail "a results directory was left: $*"
}
yaml() { printf 'jobs:\n  a: {command: "touch %s/started", gpus: %s}\n' "$WORK" "$1" >"$WORK/s.yaml"; }

yaml 3
refused "s.yaml:2:$(( 40 + ${#WORK} )): job 'a' asks for 3 GPUs but this machine has 2: 1 (GPU-" sim "$CORUN" run s.yaml
yaml '"5"'
refused "job 'a' asks for GPU 5 but this machine has no such GPU; the GPUs are 1 (GPU-" sim "$CORUN" run s.yaml
yaml '[GPU-00000000-dead]'
refused "job 'a' asks for GPU GPU-00000000-dead but this machine has no such GPU" sim "$CORUN" run s.yaml
refused "--gpus: job 'touch' asks for 4 GPUs but this machine has 2" sim "$CORUN" run --gpus 4 "touch $WORK/started"
# No GPU at all (no driver): said with the reason.
yaml 1
refused "s.yaml:2:$(( 40 + ${#WORK} )): job 'a' asks for 1 GPU but this machine has none: libnvidia-ml.so.1 not found (no NVIDIA driver on this machine)" "$CORUN" run s.yaml
# Values that are wrong whatever the machine.
yaml many
refused "gpus: expected a GPU count like 1" "$CORUN" run s.yaml
yaml '{count: 1, shared: perhaps}'
refused "gpus: shared: expected true or false, got 'perhaps'" "$CORUN" run s.yaml
refused "--gpus: expected a GPU count from 0 to 64, got '99'" "$CORUN" run --gpus 99 true
# plan says the same, with status 1 (never fits) and nothing run.
yaml 3
rc=0
sim "$CORUN" plan "$WORK/s.yaml" >"$WORK/plan" 2>&1 || rc=$?
assert_eq "$rc" 1 "plan's status for a job that never fits"
grep -q "never fits: .*s.yaml:2:[0-9]*: job 'a' asks for 3 GPUs but this machine has 2" "$WORK/plan" || fail "plan: $(cat "$WORK/plan")"
echo ok
