#!/bin/sh
# SPDX-License-Identifier: MIT
# corun run measures each job's own GPU use: three tenants sharing one simulated GPU at
# 20, 30 and 40 % duty, a process outside every job on that GPU at 5 %, and a job of two
# processes (10 + 15 %) alone on the other GPU. Each job's sm_share_mean is within 1
# percentage point of what the simulated GPU ran for that job's own pids over its wall
# time (gpu-sim-ctl busy: the simulator's timeline is the truth); the outsider is never
# one of a job's pids nor in its memory; the fork job is the sum of its two processes.
. "$SRCDIR/tests/integration/gpu/gpu-lib.sh"
pci0=$(uuid_of 1) # first in PCI order

stress="$CORUN stress gpu --kernel-ms 1 --seconds 5"
# The outsider: on the tenants' GPU, outside corun, for longer than the run.
CUDA_VISIBLE_DEVICES=$pci0 sim $CORUN stress gpu --kernel-ms 1 --seconds 9 --duty 0.05 --mem 1G >"$WORK/outsider" &
outsider=$!
cat >"$WORK/s.yaml" <<YAML
name: share
defaults: {cpus: all}
jobs:
  t20: {command: "exec $stress --duty 0.2 --mem 256M", gpus: {count: 1, shared: true}}
  t30: {command: "exec $stress --duty 0.3", gpus: {count: 1, shared: true}}
  t40: {command: "exec $stress --duty 0.4", gpus: {count: 1, shared: true}}
  fork: {command: "$stress --duty 0.1 & $stress --duty 0.15; wait", gpus: 1}
YAML
sim "$CORUN" run -q -o "$WORK/r" "$WORK/s.yaml" >"$WORK/out" 2>&1 || fail "run: $(cat "$WORK/out")"
wait $outsider || fail "outsider: $(cat "$WORK/outsider")"
R=$WORK/r/result.json
cat "$WORK/r/summary.md" | sed -n '/GPU use/,$p'

# The three tenants share the first GPU in PCI order; the fork job has the other.
for j in t20 t30 t40; do
        assert_eq "$(job "$R" $j '.gpus[0].uuid')" "$pci0" "$j's GPU"
        assert_eq "$(job "$R" $j '.gpus[0].shared')" true "$j shared"
done
[ "$(job "$R" fork '.gpus[0].uuid')" != "$pci0" ] || fail "the fork job shares the tenants' GPU"

outsider_pid=$outsider # gpu-sim.sh execs the command when the state is given
for j in t20 t30 t40 fork; do
        m=$(job "$R" $j '.gpus[0].sm_share_mean')
        t=$(truth "$R" $j)
        echo "$j: measured $m, truth $t"
        assert_between "$m" "$(awk -v t="$t" 'BEGIN { print t - 0.01 }')" "$(awk -v t="$t" 'BEGIN { print t + 0.01 }')" \
                "$j's share against the simulator's truth $t"
        for p in $(job "$R" $j '.gpus[0].pids[]'); do
                [ "$p" != "$outsider_pid" ] || fail "$j counted the outsider's pid $p"
        done
done
# Known duty cycles come out distinct and in order (the summing bug would give them all
# the GPU's whole load).
assert_between "$(job "$R" t20 '.gpus[0].sm_share_mean')" 0.17 0.23 "t20"
assert_between "$(job "$R" t30 '.gpus[0].sm_share_mean')" 0.26 0.33 "t30"
assert_between "$(job "$R" t40 '.gpus[0].sm_share_mean')" 0.35 0.43 "t40"
# GPU memory: each job's own (the outsider holds 1 GiB on the same GPU).
assert_eq "$(job "$R" t20 '.gpus[0].memory_peak_bytes')" 268435456 "t20's GPU memory peak"
assert_eq "$(job "$R" t30 '.gpus[0].memory_peak_bytes')" 0 "t30's GPU memory peak"
assert_eq "$(job "$R" t20 '.gpus[0].memory_total_bytes')" 85899345920 "the GPU's size"
# The fork job: two processes seen, its share their sum.
assert_eq "$(job "$R" fork '.gpus[0].pids | length')" 2 "pids of the fork job"
assert_between "$(job "$R" fork '.gpus[0].sm_share_mean')" 0.21 0.27 "fork job (10 + 15 %)"
echo ok
