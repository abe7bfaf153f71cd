#!/bin/sh
# SPDX-License-Identifier: MIT
# The GPU memory limit is exact on every allocation path (shim-prog mem: to the limit,
# one byte more fails with CUDA_ERROR_OUT_OF_MEMORY, free then succeed, pitch charged by
# the returned pitch, async and pools, cuMemCreate, an unknown free passed through,
# cuMemGetInfo(_v2) and nvmlDeviceGetMemoryInfo(_v2) reporting the limit); afterwards
# the region holds nothing and the exited process's slot is free.
. "$(dirname "$0")/shim-lib.sh"
limit=$((64 * 1024 * 1024))
region $limit unlimited 100
tenant "$PROG" mem $limit >"$WORK/out" 2>&1 || fail "shim-prog mem: $(cat "$WORK/out")"
assert_eq "$(counters .gpus[0].memory_used)" 0 "bytes in use after exit"
assert_eq "$(counters .gpus[0].memory_peak)" $limit "peak bytes"
assert_eq "$(counters .gpus[0].memory_refused)" 7 "allocations refused"
assert_eq "$(counters '.procs | length')" 0 "slots held after exit"
assert_eq "$(counters .procs_claimed)" 1 "slots claimed"
echo "PASS"
