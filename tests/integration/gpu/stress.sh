#!/bin/sh
# SPDX-License-Identifier: MIT
# corun stress gpu on the simulated GPU: kernels/s, --work, --seconds with --duty, the
# device chosen through CUDA_VISIBLE_DEVICES (UUIDs, or indices in PCI order), two
# tenants time-sliced on one GPU, device memory, and every error with its reason.
. "$SRCDIR/tests/integration/lib.sh"
: "${GPU_SIM_DIR:?}"
export CORUN_GPU_SIM_LIBDIR=$GPU_SIM_DIR
export CORUN_GPU_SIM_STATE="$WORK/state"
sim() { "$SRCDIR/scripts/gpu-sim.sh" "$@"; }
unset LD_LIBRARY_PATH
field() { sed -n "s/^stress gpu: kernels=.* $1=\([^ ]*\).*/\1/p" "$2"; }

sim "$CORUN" stress gpu --kernel-ms 1 --work 200 >"$WORK/w" || fail "stress gpu --work: $(cat "$WORK/w")"
assert_eq "$(sed -n 1p "$WORK/w")" "stress gpu: phase kernels start" "start marker"
assert_eq "$(sed -n 2p "$WORK/w")" "stress gpu: phase kernels end" "end marker"
grep -q "^stress gpu: kernels=200 kernel_ms=1.000 duty=1.00 wall_s=" "$WORK/w" || fail "result line: $(cat "$WORK/w")"
# 200 kernels of 1 ms of GPU time cannot take less than 0.2 s: at most 1000/s. The lower
# bound only catches a stall (the machine is shared; two kernels are kept in flight).
assert_between "$(field kernels_per_s "$WORK/w")" 100 1000 "kernels/s of 1 ms kernels"

# --duty 0.5 with 2 ms kernels: one kernel every 4 ms for 1 s, at most 250.
sim "$CORUN" stress gpu --kernel-ms 2 --seconds 1 --duty 0.5 >"$WORK/d" || fail "stress gpu --duty: $(cat "$WORK/d")"
kernels=$(sed -n 's/^stress gpu: kernels=\([0-9]*\) .*/\1/p' "$WORK/d")
assert_between "$kernels" 200 250 "kernels at duty 0.5"

# Which device: a UUID, or an index in PCI order (CUDA_DEVICE_ORDER=PCI_BUS_ID).
sim "$GPU_SIM_DIR/gpu-sim-ctl" show >"$WORK/show"
uuid0=$(sed -n 's/^nvml 0: \(GPU-[0-9a-f-]*\) .*/\1/p' "$WORK/show")
uuid1=$(sed -n 's/^nvml 1: \(GPU-[0-9a-f-]*\) .*/\1/p' "$WORK/show")
CUDA_VISIBLE_DEVICES=$uuid0 sim "$CORUN" stress gpu --work 5 >"$WORK/u0"
assert_eq "$(field gpu "$WORK/u0")" "$uuid0" "the GPU named by UUID"
CUDA_VISIBLE_DEVICES=$uuid1 sim "$CORUN" stress gpu --work 5 >"$WORK/u1"
assert_eq "$(field gpu "$WORK/u1")" "$uuid1" "the other GPU named by UUID"
# NVML index 0 is the second GPU in PCI order (the simulator's NVML order is reversed).
CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=1 sim "$CORUN" stress gpu --work 5 >"$WORK/i1"
assert_eq "$(field gpu "$WORK/i1")" "$uuid0" "CUDA index 1 in PCI order"
CUDA_VISIBLE_DEVICES=$uuid1 sim "$CORUN" stress gpu --work 5 --device 1 >"$WORK/dev1" 2>&1 &&
        fail "--device 1 with one visible GPU: $(cat "$WORK/dev1")"
grep -q "no CUDA device 1: 1 visible (CUDA_VISIBLE_DEVICES=$uuid1)" "$WORK/dev1" || fail "--device 1: $(cat "$WORK/dev1")"
CUDA_VISIBLE_DEVICES= sim "$CORUN" stress gpu --work 5 >"$WORK/none" 2>&1 && fail "ran with no GPU visible"
grep -q "cuInit failed: no CUDA-capable device is detected (no device visible: check CUDA_VISIBLE_DEVICES)" \
        "$WORK/none" || fail "no GPU visible: $(cat "$WORK/none")"

# Two tenants back to back on one GPU share it by time slices: each gets about half
# (alone, 1 ms kernels run at up to 1000/s). Started a little apart, each runs alone for
# at most that little while: below 700/s each unless the GPU is not shared at all.
CUDA_VISIBLE_DEVICES=$uuid0 sim "$CORUN" stress gpu --seconds 2 >"$WORK/a" &
pa=$!
CUDA_VISIBLE_DEVICES=$uuid0 sim "$CORUN" stress gpu --seconds 2 >"$WORK/b" &
pb=$!
wait $pa || fail "tenant a: $(cat "$WORK/a")"
wait $pb || fail "tenant b: $(cat "$WORK/b")"
assert_between "$(field kernels_per_s "$WORK/a")" 250 700 "tenant a's kernels/s on a shared GPU"
assert_between "$(field kernels_per_s "$WORK/b")" 250 700 "tenant b's kernels/s on a shared GPU"

# Device memory: the simulated GPUs have 80 GiB.
sim "$CORUN" stress gpu --work 1 --mem 100G >"$WORK/oom" 2>&1 && fail "100G allocated on an 80G GPU"
grep -q "stress gpu: cuMemAlloc of 100 GiB: out of memory" "$WORK/oom" || fail "oom: $(cat "$WORK/oom")"
sim "$CORUN" stress gpu --work 1 --mem 1G >/dev/null || fail "1G on an 80G GPU"

# Bad options: exit 2, naming the flag.
for args in "--duty 0" "--duty 1.5" "--kernel-ms 0" "--work 0" "--work 1 --seconds 1" "--seconds 0" "--bogus" "extra"; do
        rc=0
        # shellcheck disable=SC2086
        sim "$CORUN" stress gpu $args >"$WORK/bad" 2>&1 || rc=$?
        assert_eq "$rc" 2 "status for 'stress gpu $args'"
        grep -q "stress gpu: " "$WORK/bad" || fail "message for '$args': $(cat "$WORK/bad")"
done

# No driver at all.
rc=0
"$CORUN" stress gpu --work 1 >"$WORK/nodrv" 2>&1 || rc=$?
assert_eq "$rc" 1 "status without a driver"
grep -q "stress gpu: libcuda.so.1 not found (no NVIDIA driver on this machine)" "$WORK/nodrv" ||
        fail "without a driver: $(cat "$WORK/nodrv")"
echo ok
