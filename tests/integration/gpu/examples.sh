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
# Capped: the three in order, each within 2 pp of its cap over its run; from 0.4 s on
# (CUDA's start and the first burst left out) every 1 s window (5 ticks of 200 ms) within
# 2 pp and every tick within 5 pp (five runs: 0.4 and 1 pp at worst; NVML's integer
# percent, periods of 1/6 s read at 1/5 s ticks). With fixed work the tenants end at
# different times, and the others hold their caps while tenants start together and when
# one leaves. Two causes of swings found here (issue 16): the simulated GPU stamped events
# on an idle stream while another context held the GPU (15 pp for seconds; fixed in the
# simulator), and the controller learnt its first scale from a period whose sample held
# the job's start (the 40 % tenant at 48 % for a second after the solo runs, 4 runs in 10
# over 4 pp; fixed in the runner, src/exec/gpu-limit.c).
a=$(sc capped tenant-a .gpus[0].sm_share_mean) b=$(sc capped tenant-b .gpus[0].sm_share_mean)
c=$(sc capped tenant-c .gpus[0].sm_share_mean)
echo "capped: tenant-a $a, tenant-b $b, tenant-c $c"
assert_between "$a" 0.18 0.22 "tenant-a capped at 20"
assert_between "$b" 0.28 0.32 "tenant-b capped at 30"
assert_between "$c" 0.38 0.42 "tenant-c capped at 40"
# worst FILE CAP FROM: the worst 1 s window and the worst tick off CAP from FROM s on.
worst() {
        awk -F, -v cap="$2" -v from="$3" 'function abs(x) { return x < 0 ? -x : x }
                NR > 1 && $1 >= from { v[n++] = $3; if (abs($3 - cap) > t) t = abs($3 - cap) }
                END { for (i = 0; i + 5 <= n; i++) { s = 0; for (k = i; k < i + 5; k++) s += v[k];
                                                     if (abs(s / 5 - cap) > w) w = abs(s / 5 - cap) }
                      printf "%.4f %.4f", w, t }' "$1"
}
for tc in tenant-a:0.20 tenant-b:0.30 tenant-c:0.40; do
        f="$WORK/share/$(sc capped "${tc%:*}" .gpu_samples)"
        w=$(worst "$f" "${tc#*:}" 0.4)
        echo "${tc%:*}: from 0.4 s on, worst 1 s window and worst tick off its cap by $w"
        assert_between "${w% *}" 0 0.02 "${tc%:*}'s worst 1 s window against its cap"
        assert_between "${w#* }" 0 0.05 "${tc%:*}'s worst 200 ms tick against its cap"
done
awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN { exit !(a < b && b < c) }' || fail "capped shares out of order"
assert_eq "$(sc capped tenant-b .gpus[0].limit.memory_limit_bytes)" 1073741824 "tenant-b's GPU memory limit"
# Lending: never below the guarantee (the means include CUDA's start, hence a point
# under), the same work ends in the order of the guarantees, and what the finished ones
# leave is lent: the one that runs longest gets well over its 20 %, and the two that
# outlive lend-c were given more than their guarantee (share_applied, the mean of what
# the limiter aimed at).
assert_between "$(sc lending lend-a .gpus[0].sm_share_mean)" 0.25 1.0 "lend-a (20 % guaranteed, lent the rest)"
assert_between "$(sc lending lend-b .gpus[0].sm_share_mean)" 0.29 1.0 "lend-b (30 % guaranteed)"
assert_between "$(sc lending lend-c .gpus[0].sm_share_mean)" 0.39 1.0 "lend-c (40 % guaranteed)"
awk -v a="$(sc lending lend-a .wall_s)" -v b="$(sc lending lend-b .wall_s)" -v c="$(sc lending lend-c .wall_s)" \
        'BEGIN { exit !(c < b && b < a) }' || fail "lending: lend-c, lend-b, lend-a should end in that order"
for jg in lend-a:0.2 lend-b:0.3; do
        awk -v x="$(sc lending "${jg%:*}" .gpus[0].limit.share_applied)" -v g="${jg#*:}" 'BEGIN { exit !(x > g + 0.02) }' ||
                fail "${jg%:*} was lent nothing: share_applied $(sc lending "${jg%:*}" .gpus[0].limit.share_applied)"
done
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
