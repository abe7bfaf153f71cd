#!/bin/sh
# SPDX-License-Identifier: MIT
# The GPU memory limit is exact on every allocation path (shim-prog mem: to the limit,
# one byte more fails with CUDA_ERROR_OUT_OF_MEMORY, free then succeed, pitch charged by
# the returned pitch, async and pools, cuMemCreate, an unknown free passed through,
# cuMemGetInfo(_v2) and nvmlDeviceGetMemoryInfo(_v2) reporting the limit); afterwards
# the region holds nothing and the exited process's slot is free. Then a process that sees
# only the job's second GPU, and the runner's untracked bytes counted against the limit.
. "$(dirname "$0")/shim-lib.sh"
limit=$((64 * 1024 * 1024))
region $limit unlimited 100
tenant "$PROG" mem $limit >"$WORK/out" 2>&1 || fail "shim-prog mem: $(cat "$WORK/out")"
assert_eq "$(counters .gpus[0].memory_used)" 0 "bytes in use after exit"
assert_eq "$(counters .gpus[0].memory_peak)" $limit "peak bytes"
assert_eq "$(counters .gpus[0].memory_refused)" 7 "allocations refused"
assert_eq "$(counters '.procs | length')" 0 "slots held after exit"
assert_eq "$(counters .procs_claimed)" 1 "slots claimed"

# Two GPUs, a limit on each: the second device's allocations count on the second entry
# (the job's CUDA ordinal, found from the current context), never on the first.
rm -f "$REGION"
"$REGION_CTL" create "$REGION" "$UUID" $((limit * 2)) unlimited 100 "$UUID1" $limit unlimited 100 ||
        fail "region-ctl create (two GPUs)"
CUDA_VISIBLE_DEVICES=$UUID,$UUID1 CORUN_GPU_REGION=$REGION LD_PRELOAD=$SHIM SHIM_PROG_DEVICE=1 \
        sim "$PROG" mem $limit >"$WORK/out" 2>&1 || fail "shim-prog mem on the second GPU: $(cat "$WORK/out")"
assert_eq "$(counters .gpus[1].memory_peak)" $limit "peak bytes on the second GPU"
assert_eq "$(counters .gpus[0].memory_peak)" 0 "peak bytes on the first GPU"
assert_eq "$(counters .gpus[1].memory_refused)" 7 "allocations refused on the second GPU"

# A process that narrows CUDA_VISIBLE_DEVICES itself (rank 1 of the job sees only the
# job's second GPU, as its device 0): its memory and launches are the second entry's,
# found by UUID, not by its ordinal.
rm -f "$REGION"
"$REGION_CTL" create "$REGION" "$UUID" $((limit * 2)) unlimited 100 "$UUID1" $limit unlimited 100 ||
        fail "region-ctl create (two GPUs)"
CUDA_VISIBLE_DEVICES=$UUID1 CORUN_GPU_REGION=$REGION LD_PRELOAD=$SHIM SHIM_PROG_DEVICE=0 \
        sim "$PROG" mem $limit >"$WORK/out" 2>&1 || fail "shim-prog mem, the second GPU alone visible: $(cat "$WORK/out")"
CUDA_VISIBLE_DEVICES=$UUID1 CORUN_GPU_REGION=$REGION LD_PRELOAD=$SHIM \
        sim "$PROG" paths 1 >"$WORK/out" 2>&1 || fail "shim-prog paths, the second GPU alone visible: $(cat "$WORK/out")"
assert_eq "$(counters .gpus[1].memory_peak)" $limit "peak bytes on the second GPU (alone visible)"
assert_eq "$(counters .gpus[0].memory_peak)" 0 "peak bytes on the first GPU (the second alone visible)"
assert_eq "$(counters .gpus[1].launches.cuLaunchKernel)" 3 "launches counted on the second GPU"
assert_eq "$(counters .gpus[0].launches.cuLaunchKernel)" 0 "launches counted on the first GPU"

# What the runner measured beside the shim (memory_untracked: contexts, libraries)
# counts against the limit: in cuMemGetInfo and NVML's free and in every allocation.
region $limit unlimited 100
"$REGION_CTL" untracked "$REGION" 0 $((16 * 1024 * 1024)) || fail "region-ctl untracked"
tenant "$PROG" untracked $limit $((16 * 1024 * 1024)) >"$WORK/out" 2>&1 ||
        fail "shim-prog untracked: $(cat "$WORK/out")"
assert_eq "$(counters .gpus[0].memory_refused)" 2 "allocations refused with untracked bytes"
assert_eq "$(counters .gpus[0].memory_peak)" $((limit - 16 * 1024 * 1024)) "peak bytes with untracked bytes"
echo "PASS"
