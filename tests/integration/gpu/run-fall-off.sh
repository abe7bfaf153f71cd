#!/bin/sh
# SPDX-License-Identifier: MIT
# A GPU that falls off the bus during a run (NVML errors from then on): one warning naming
# it in result.json, the run goes on, the job on the other GPU is still measured.
. "$SRCDIR/tests/integration/gpu/gpu-lib.sh"
cat >"$WORK/s.yaml" <<YAML
defaults: {cpus: all}
jobs:
  lost: {command: "touch $WORK/lost-started; exec $CORUN stress gpu --kernel-ms 1 --seconds 3 --duty 0.5", gpus: "0"}
  kept: {command: "exec $CORUN stress gpu --kernel-ms 1 --seconds 3 --duty 0.5", gpus: "1"}
YAML
sim "$CORUN" run -v -o "$WORK/r" "$WORK/s.yaml" >"$WORK/out" 2>&1 &
run=$!
wait_for "job 'lost' to start" 10 test -e "$WORK/lost-started"
# Let the sampler see both GPUs work for a while, then NVML index 0 falls off.
wait_for "a first GPU sample of job 'lost'" 10 sh -c "grep -q '^[0-9.]*,0,0\.[1-9]' $WORK/r/samples/*lost.gpu.csv"
ctl fall-off 0 || fail "gpu-sim-ctl fall-off"
R=$WORK/r/result.json
wait_for "the run to end" 30 sh -c "jq -e '.partial == false' '$R' >/dev/null 2>&1"
wait $run || true
n=$(json "$R" '[.warnings[] | select(test("^GPU 0 [(].*GPU is lost"))] | length')
assert_eq "$n" 1 "warnings about the lost GPU; the run said: $(cat "$WORK/out")"
assert_eq "$(job "$R" kept .reason)" exit "the other job's end"
assert_between "$(job "$R" kept '.gpus[0].sm_share_mean')" 0.4 0.6 "the other job still measured"
echo ok
