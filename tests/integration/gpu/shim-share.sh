#!/bin/sh
# SPDX-License-Identifier: MIT
# The shim alone (no controller: a fixed rate) holds a backlogged job at its rate of the
# simulated GPU, the ground truth being what the simulator ran of the job's processes:
# one process, then two processes of one job (fork) drawing from one bucket. Within
# ±1.5 pp over 2 s after 1 s: once the initial bucket (50 ms) is spent, a backlogged job
# runs exactly what its tokens pay for, give or take one kernel (0.7 ms) at each end of
# the window; the estimate is learnt from events in the first launches.
# The simulated machine is made by shim-lib.sh with these kernels.
export CORUN_GPU_SIM_KERNELS="k1=700us"
. "$(dirname "$0")/shim-lib.sh"

# share_of PROCS: runs a job of PROCS processes at 30 % for 3.5 s, prints its GPU share
share_of() {
        region 0 300000 50
        tenant "$PROG" busy 3.5 "$1" 0 >"$WORK/pids" 2>&1 &
        _job=$!
        _pids=$(pids_in "$WORK/pids" "$1")
        sleep 1 # the window opens after the initial bucket: not a wait for a condition
        _a=$(done_now $_pids)
        sleep 2
        _b=$(done_now $_pids)
        wait $_job || fail "tenant failed: $(cat "$WORK/pids")"
        gpu_share "$_a" "$_b"
}
one=$(share_of 1)
assert_between "$one" 0.285 0.315 "GPU share of one process at rate 30 %"
[ "$(counters .gpus[0].waits)" -gt 0 ] || fail "a backlogged job never waited"
two=$(share_of 2)
assert_between "$two" 0.285 0.315 "GPU share of two processes of one job at rate 30 %"
assert_eq "$(counters .procs_claimed)" 0 "slots claimed without memory"

region 0 1000000 100/20
tenant "$PROG" busy 1.5 1 0 >"$WORK/pids" 2>&1 &
job=$!
pid=$(pids_in "$WORK/pids" 1)
most=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
        q=$(ctl show | awk -v p="pid ${pid% }:" 'index($0, p) { print $6 - $9 }')
        [ -z "$q" ] || [ "$q" -le "$most" ] || most=$q
        sleep 0.1
done
wait $job || fail "tenant failed: $(cat "$WORK/pids")"
[ "$most" -gt 0 ] || fail "never saw the tenant's queue"
assert_between "$most" 0 $((20000000 + 5000000 + 700000)) "most work queued (ns)"
[ "$(counters .gpus[0].waits)" -gt 0 ] || fail "the in-flight bound never made the job wait"
# One process driving both GPUs of a two-GPU job, each capped at 30 %: its fences and
# brackets are per GPU, their events made in that GPU's context (the simulator refuses a
# record across contexts, as the driver does), so both GPUs are timed and the in-flight
# bound waits only now and then, not at every launch.
rm -f "$REGION"
"$REGION_CTL" create "$REGION" "$UUID" 0 300000 50 "$UUID1" 0 300000 50 || fail "region-ctl create (two GPUs)"
CUDA_VISIBLE_DEVICES=$UUID,$UUID1 CORUN_GPU_REGION=$REGION LD_PRELOAD=$SHIM sim "$PROG" two 1 >"$WORK/out" 2>&1 ||
        fail "shim-prog two: $(cat "$WORK/out")"
grep -q "different contexts" "$WORK/out" && fail "an event recorded in another context: $(cat "$WORK/out")"
for i in 0 1; do
        [ "$(counters .gpus[$i].measured_ns)" -gt 0 ] || fail "GPU $i never timed: $(cat "$WORK/counters.json")"
        n=$(counters .gpus[$i].launches.cuLaunchKernel)
        w=$(counters .gpus[$i].waits)
        [ "$n" -gt 100 ] || fail "GPU $i: only $n launches"
        # Backlogged at 30 %: about one token wait per launch, and in-flight waits rare.
        [ "$w" -le $((n + n / 4)) ] || fail "GPU $i: $w waits for $n launches"
done
echo "PASS one=$one two=$two queued=$most"
