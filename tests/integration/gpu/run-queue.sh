#!/bin/sh
# SPDX-License-Identifier: MIT
# Four 1-GPU jobs on two simulated GPUs: two run at a time, never two on one GPU (their
# [start, end] on a GPU never overlap); both GPUs are used; a CPU-only job is not held
# back by the jobs that wait for a GPU.
. "$SRCDIR/tests/integration/gpu/gpu-lib.sh"

cat >"$WORK/s.yaml" <<YAML
name: queue
defaults: {cpus: all, command: "exec $CORUN stress gpu --kernel-ms 1 --seconds 1", gpus: 1}
jobs:
  g1: {}
  g2: {}
  g3: {}
  g4: {}
  cpu: {command: "sleep 0.3", gpus: 0}
YAML
sim "$CORUN" run -q -o "$WORK/r" "$WORK/s.yaml" >"$WORK/out" 2>&1 || fail "run: $(cat "$WORK/out")"
R=$WORK/r/result.json
# every job ran, each on one GPU, each measured there
for j in g1 g2 g3 g4; do
        assert_eq "$(job "$R" $j .reason)" exit "$j's end"
        assert_eq "$(job "$R" $j '.gpus | length')" 1 "$j's GPUs"
        assert_between "$(job "$R" $j '.gpus[0].sm_share_mean')" 0.5 1.0 "$j's SM share"
done
assert_eq "$(json "$R" '[.runs[0].jobs[].gpus[].uuid] | unique | length')" 2 "GPUs used"
# no two jobs on one GPU at once
overlaps=$(jq -r '[.runs[0].jobs[] | select(.gpus | length > 0)] as $j
        | [range(0; $j | length) as $a | range($a + 1; $j | length) as $b
           | select($j[$a].gpus[0].uuid == $j[$b].gpus[0].uuid
                    and $j[$a].started_s < $j[$b].ended_s and $j[$b].started_s < $j[$a].ended_s)
           | "\($j[$a].name)+\($j[$b].name)"] | join(" ")' "$R")
assert_eq "$overlaps" "" "jobs sharing a GPU at once"
# the CPU-only job started with the first two, not after the GPU jobs
cpu_start=$(job "$R" cpu .started_s)
g3_start=$(job "$R" g3 .started_s)
awk -v a="$cpu_start" -v b="$g3_start" 'BEGIN { exit !(a < b) }' || fail "the CPU-only job waited for a GPU ($cpu_start >= $g3_start)"
echo ok
