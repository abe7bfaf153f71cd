#!/bin/sh
# SPDX-License-Identifier: MIT
# A tenant killed with SIGKILL in the middle of launching, holding GPU memory, leaves
# nothing held: the other process of its job keeps running at the job's rate (the bucket
# is lock-free), and the dead one's slot and bytes are reaped.
# The simulated machine is made by shim-lib.sh with these kernels.
export CORUN_GPU_SIM_KERNELS="k1=500us"
. "$(dirname "$0")/shim-lib.sh"
mib=$((1024 * 1024))
region $((256 * mib)) 400000 50
tenant "$PROG" busy 5 1 $((100 * mib)) >"$WORK/a" 2>&1 &
a_job=$!
tenant "$PROG" busy 5 1 $((50 * mib)) >"$WORK/b" 2>&1 &
b_job=$!
a=$(pids_in "$WORK/a" 1)
b=$(pids_in "$WORK/b" 1)
assert_eq "$(counters .gpus[0].memory_used)" $((150 * mib)) "bytes of both tenants"
sleep 0.5 # both launching: the kill lands in the middle of it
kill -9 $a
wait $a_job 2>/dev/null || true
# The dead tenant's queued work (at most its in-flight bound, 100 ms) still runs on the
# simulated GPU, as a killed context's does until the driver tears it down.
sleep 0.5
s0=$(done_now $b)
sleep 2
s1=$(done_now $b)
share=$(gpu_share "$s0" "$s1")
# Alone now, b has the job's whole rate: nothing the dead one held stops it.
assert_between "$share" 0.37 0.43 "GPU share of the survivor at the job's rate 40 %"
assert_eq "$("$REGION_CTL" reap "$REGION")" 1 "slots reaped"
assert_eq "$(counters .gpus[0].memory_used)" $((50 * mib)) "bytes after the reap"
assert_eq "$(counters '.procs | map(.pid) | join(" ")')" "${b% }" "slots after the reap"
kill $b 2>/dev/null || true
wait $b_job 2>/dev/null || true
echo "PASS share=$share"
