#!/bin/sh
# SPDX-License-Identifier: MIT
# The shim sees every launch path (no bypass): direct calls, _ptsz, Ex, cooperative,
# graphs, through dlsym and through cuGetProcAddress(_v2) with versions 4000 and 7000 and
# the per-thread flag (which must give our wrapper of the _ptsz entry point): each entry
# point's count in the region equals the launches the program made on it. Captured
# launches are counted as captured and not charged; their graph is charged when launched.
# The region is 0600; without a usable region the shim says so once and passes through.
# The simulated machine is made by shim-lib.sh with these kernels.
export CORUN_GPU_SIM_KERNELS="k1=50us"
. "$(dirname "$0")/shim-lib.sh"

region 0 1000000 100
[ "$(stat -c %a "$REGION")" = 600 ] || fail "region mode $(stat -c %a "$REGION"), expected 600"
tenant "$PROG" paths 20 >"$WORK/expected.json" || fail "shim-prog paths failed"
counters .gpus[0].launches >/dev/null
for e in $(jq -r 'keys[]' "$WORK/expected.json"); do
        assert_eq "$(json "$WORK/counters.json" ".gpus[0].launches[\"$e\"]")" \
                "$(json "$WORK/expected.json" ".[\"$e\"]")" "launches counted on $e"
done
[ "$(counters .gpus[0].charged_ns)" -gt 0 ] || fail "nothing charged at rate 100 %"
assert_eq "$(counters .unmapped_lookups)" 0 "look-ups answered with addresses the shim does not know"

# A driver that answers cuGetProcAddress("cuLaunchKernel") with a private entry point
# (not the exported symbol's address): launches through it pass the shim by, and the
# shim says so: counted in the region for the runner, one line on stderr with the name.
region 0 1000000 100
tenant "$PROG" proc 5 >/dev/null 2>"$WORK/err" || fail "shim-prog proc: $(cat "$WORK/err")"
assert_eq "$(counters .gpus[0].launches.cuLaunchKernel)" 5 "launches through the exported entry point"
assert_eq "$(counters .unmapped_lookups)" 0 "look-ups not mapped, with the exported entry point"
! [ -s "$WORK/err" ] || fail "the shim spoke: $(cat "$WORK/err")"
region 0 1000000 100
CORUN_GPU_SIM_PRIVATE_LAUNCH=1 tenant "$PROG" proc 5 >/dev/null 2>"$WORK/err" ||
        fail "shim-prog proc with a private cuLaunchKernel: $(cat "$WORK/err")"
assert_eq "$(counters .gpus[0].launches.cuLaunchKernel)" 0 "launches the shim saw through a private entry point"
assert_eq "$(counters .unmapped_lookups)" 1 "look-ups not mapped"
assert_eq "$(grep -c '^corun shim: cuGetProcAddress("cuLaunchKernel", .* not counted against the job' "$WORK/err")" 1 \
        "the shim's line about the private entry point"

# Two GPUs: launches on the second device count on the second entry only.
rm -f "$REGION"
"$REGION_CTL" create "$REGION" "$UUID" 0 1000000 100 "$UUID1" 0 1000000 100 || fail "region-ctl create (two GPUs)"
CUDA_VISIBLE_DEVICES=$UUID,$UUID1 CORUN_GPU_REGION=$REGION LD_PRELOAD=$SHIM SHIM_PROG_DEVICE=1 \
        sim "$PROG" paths 5 >"$WORK/expected.json" || fail "shim-prog paths on the second GPU failed"
assert_eq "$(counters '[.gpus[0].launches[]] | add')" 0 "launches counted on the first GPU"
assert_eq "$(counters '[.gpus[1].launches[]] | add')" "$(jq '[.[]] | add' "$WORK/expected.json")" \
        "launches counted on the second GPU"

# Captured launches: counted, not charged, no events recorded into the capture.
region 0 500000 100
tenant "$PROG" capture 30 || fail "shim-prog capture failed"
assert_eq "$(counters .gpus[0].launches.captured)" 30 "captured launches"
assert_eq "$(counters '[.gpus[0].launches[]] | add')" 30 "launches other than captured"
assert_eq "$(counters .gpus[0].charged_ns)" 0 "charged for captured launches"

# A graph of 10 × 50 µs, launched 20 times after 5 warm-up launches of its kernel: charged
# per launch of the graph, at first what its captured kernels were estimated at, then
# what its launches measure (each bracket also holds the submission, a few µs here).
region 0 1000000 100
tenant "$PROG" graph 10 20 || fail "shim-prog graph failed"
assert_eq "$(counters .gpus[0].launches.cuGraphLaunch)" 20 "graph launches"
assert_eq "$(counters .gpus[0].launches.captured)" 10 "captured launches"
assert_between "$(counters .gpus[0].charged_ns)" $((1000000 + 20 * 500000 * 9 / 10)) \
        $((1500000 + 20 * 500000 * 12 / 10)) "charged for the warm-up and 20 graph launches (ns)"
[ "$(counters .gpus[0].measured_ns)" -gt 0 ] || fail "graph launches never measured"
# One launch of a graph of 40: its first estimate is its 40 kernels' (2 ms), not a
# kernel's (the process's mean); the warm-up costs 1 ms + 4 × 50 µs.
region 0 1000000 100
tenant "$PROG" graph 40 1 || fail "shim-prog graph failed"
assert_between "$(counters .gpus[0].charged_ns)" $((1200000 + 40 * 50000 * 9 / 10)) \
        $((1300000 + 40 * 50000 * 12 / 10)) "charged for the warm-up and one graph of 40 (ns)"

# A driver without cuLaunchKernelEx (before CUDA 12.0): the shim's wrapper refuses the
# call and charges nothing (no tokens taken, no wait), 100 times at a 1 % rate.
region 0 10000 50
CUDA_VISIBLE_DEVICES=$UUID CORUN_GPU_REGION=$REGION LD_PRELOAD=$SHIM LD_LIBRARY_PATH="$GPU_SIM_DIR/old:$GPU_SIM_DIR" \
        "$PROG" noex >"$WORK/out" 2>&1 || fail "shim-prog noex: $(cat "$WORK/out")"
assert_eq "$(counters .gpus[0].charged_ns)" 0 "charged for launches the driver lacks"
assert_eq "$(counters .gpus[0].waits)" 0 "waits for launches the driver lacks"

# No region: one line, once, and the program runs unchanged.
CUDA_VISIBLE_DEVICES=$UUID CORUN_GPU_REGION=$WORK/none LD_PRELOAD=$SHIM sim "$PROG" paths 2 >/dev/null 2>"$WORK/err" ||
        fail "shim-prog without a region failed: $(cat "$WORK/err")"
assert_eq "$(grep -c '^corun shim: .*GPU limits not applied$' "$WORK/err")" 1 "warnings without a region"
echo "PASS"
