#!/bin/sh
# SPDX-License-Identifier: MIT
# examples/gpu-share.yaml and examples/gpu-exclusive.yaml on the simulated GPU, as the
# docs tell a user without a GPU to run them: the three tenants share one GPU (about a
# third each, and about 3x slower than alone), the exclusive jobs get a GPU each and the
# CPU-only job sees none; corun plan places them the same way.
. "$SRCDIR/tests/integration/gpu/gpu-lib.sh"
sim "$CORUN" run -q -o "$WORK/share" "$SRCDIR/examples/gpu-share.yaml" >"$WORK/out" 2>&1 || fail "gpu-share: $(cat "$WORK/out")"
R=$WORK/share/result.json
for t in tenant-a tenant-b tenant-c; do
        share=$(json "$R" "[.runs[] | select(.solo | not) | .jobs[] | select(.name == \"$t\")][0].gpus[0].sm_share_mean")
        assert_between "$share" 0.25 0.42 "$t's share of the shared GPU"
done
assert_eq "$(json "$R" '[.runs[].jobs[].gpus[0].uuid] | unique | length')" 1 "GPUs the tenants used"
assert_eq "$(job "$R" tenant-b '.gpus[0].memory_peak_bytes')" 536870912 "tenant-b's --mem 512M"
grep -q "^| shared | tenant-a | .* | [2-3]\.[0-9][0-9]x |$" "$WORK/share/summary.md" || fail "slowdown: $(grep tenant-a "$WORK/share/summary.md")"

sim "$CORUN" run -q -o "$WORK/excl" "$SRCDIR/examples/gpu-exclusive.yaml" >"$WORK/out" 2>&1 || fail "gpu-exclusive: $(cat "$WORK/out")"
R=$WORK/excl/result.json
assert_eq "$(json "$R" '[.runs[0].jobs[] | select(.name != "cpu-side") | .gpus[0].uuid] | unique | length')" 2 "one GPU each"
grep -q "^CUDA_VISIBLE_DEVICES=\[\]$" "$WORK/excl/$(job "$R" cpu-side .logs.stdout)" || fail "cpu-side saw a GPU"
sim "$CORUN" plan "$SRCDIR/examples/gpu-exclusive.yaml" >"$WORK/plan" || fail "plan: $(cat "$WORK/plan")"
grep -q "^  train .* at once, GPU 1$" "$WORK/plan" || fail "plan of train: $(cat "$WORK/plan")"
grep -q "^  infer .* at once, GPU 0$" "$WORK/plan" || fail "plan of infer: $(cat "$WORK/plan")"
echo ok
