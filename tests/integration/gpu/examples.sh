#!/bin/sh
# SPDX-License-Identifier: MIT
# examples/gpu-share.yaml and examples/gpu-exclusive.yaml on the simulated GPU, as the
# docs tell a user without a GPU to run them: uncapped, the three tenants share one GPU
# (about a third each, and about 3x slower than alone); capped at 20/30/40 %, each gets its
# cap; lending (mode share), each gets at least its share and the last one more once the
# others are done; the exclusive jobs get a GPU each and the CPU-only job sees none; corun
# plan places them the same way.
. "$SRCDIR/tests/integration/gpu/gpu-lib.sh"
sim "$CORUN" run -q -o "$WORK/share" "$SRCDIR/examples/gpu-share.yaml" >"$WORK/out" 2>&1 || fail "gpu-share: $(cat "$WORK/out")"
R=$WORK/share/result.json
# sc SCENARIO JOB FIELD: a job's field in the scenario's run (not the solo ones)
sc() { json "$R" "[.runs[] | select(.scenario == \"$1\" and (.solo | not)) | .jobs[] | select(.name == \"$2\")][0] | $3"; }
for t in tenant-a tenant-b tenant-c; do
        assert_between "$(sc uncapped $t .gpus[0].sm_share_mean)" 0.25 0.42 "$t's share of the shared GPU"
done
# Capped: the three in order, each within 6 pp of its cap over its run. Loose on purpose:
# with fixed work the tenants end at different times, and when one starts or leaves the
# others' controllers take a second or more to settle (several points over or under the
# cap meanwhile: a known weakness, issue 16's note); the bound that holds while the
# tenants run together is limit-caps.sh's (1.5 pp).
a=$(sc capped tenant-a .gpus[0].sm_share_mean) b=$(sc capped tenant-b .gpus[0].sm_share_mean)
c=$(sc capped tenant-c .gpus[0].sm_share_mean)
echo "capped: tenant-a $a, tenant-b $b, tenant-c $c"
assert_between "$a" 0.14 0.26 "tenant-a capped at 20"
assert_between "$b" 0.24 0.36 "tenant-b capped at 30"
assert_between "$c" 0.34 0.46 "tenant-c capped at 40"
awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN { exit !(a < b && b < c) }' || fail "capped shares out of order"
assert_eq "$(sc capped tenant-b .gpus[0].limit.memory_limit_bytes)" 1073741824 "tenant-b's GPU memory limit"
# Lending: never below the guarantee, and the one that runs longest gets more than its share.
assert_between "$(sc lending lend-a .gpus[0].sm_share_mean)" 0.25 1.0 "lend-a (20 % guaranteed, lent the rest)"
assert_eq "$(sc lending lend-a .gpus[0].limit.mode)" share "lending mode"
assert_eq "$(json "$R" '[.runs[].jobs[].gpus[0].uuid] | unique | length')" 1 "GPUs the tenants used"
assert_eq "$(job "$R" tenant-b '.gpus[0].memory_peak_bytes')" 536870912 "tenant-b's --mem 512M"
grep -q "^| uncapped | tenant-a | .* | [2-3]\.[0-9][0-9]x |$" "$WORK/share/summary.md" || fail "slowdown: $(grep tenant-a "$WORK/share/summary.md")"

sim "$CORUN" run -q -o "$WORK/excl" "$SRCDIR/examples/gpu-exclusive.yaml" >"$WORK/out" 2>&1 || fail "gpu-exclusive: $(cat "$WORK/out")"
R=$WORK/excl/result.json
assert_eq "$(json "$R" '[.runs[0].jobs[] | select(.name != "cpu-side") | .gpus[0].uuid] | unique | length')" 2 "one GPU each"
grep -q "^CUDA_VISIBLE_DEVICES=\[\]$" "$WORK/excl/$(job "$R" cpu-side .logs.stdout)" || fail "cpu-side saw a GPU"
sim "$CORUN" plan "$SRCDIR/examples/gpu-exclusive.yaml" >"$WORK/plan" || fail "plan: $(cat "$WORK/plan")"
grep -q "^  train .* at once, GPU 1$" "$WORK/plan" || fail "plan of train: $(cat "$WORK/plan")"
grep -q "^  infer .* at once, GPU 0$" "$WORK/plan" || fail "plan of infer: $(cat "$WORK/plan")"
echo ok
