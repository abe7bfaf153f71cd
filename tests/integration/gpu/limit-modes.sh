#!/bin/sh
# SPDX-License-Identifier: MIT
# GPU share mode and a tenant arriving mid-run (issue 16), end to end on the simulated GPU.
# GPU 0, mode share: `lender` (guarantee 30 %) runs from the start; `late` (guarantee
# 50 %) sleeps 5 s first. While `late` is idle its share is lent: `lender` runs far above
# its 30 % (a cap would hold it at 30); within a second of `late`'s first kernels the
# lent share is taken back (most of it within one control period), and while both run
# each gets at least its guarantee.
# GPU 1, mode cap: `steady` (cap 30) runs throughout; `step` (cap 40) starts 4 s in: it
# settles at its cap (±2 pp in its second second, ±1.5 pp over its second half), no 1-s
# window of it goes over its
# cap by more than the bucket and the work in flight allow (the simulator's count), and
# `steady` is undisturbed. Shares per tick come from each job's samples/*.gpu.csv.
. "$SRCDIR/tests/integration/gpu/gpu-lib.sh"
g0=$(uuid_of 1) # PCI order: NVML 1 is first
g1=$(uuid_of 0)
cat >"$WORK/s.yaml" <<YAML
name: modes
defaults: {cpus: all}
jobs:
  lender: {command: "exec $CORUN stress gpu --kernel-ms 1 --seconds 12", gpus: {devices: "$g0", share: 30, mode: share}}
  late: {command: "sleep 5; exec $CORUN stress gpu --kernel-ms 1 --seconds 7", gpus: {devices: "$g0", share: 50, mode: share}}
  steady: {command: "exec $CORUN stress gpu --kernel-ms 1 --seconds 12", gpus: {devices: "$g1", share: 30}}
  step: {command: "sleep 4; exec $CORUN stress gpu --kernel-ms 1 --seconds 8", gpus: {devices: "$g1", share: 40}}
YAML
"$SRCDIR/scripts/gpu-sim.sh" "$CORUN" run -q -o "$WORK/r" "$WORK/s.yaml" >"$WORK/out" 2>&1 &
runner=$! # gpu-sim.sh execs corun: the job's process is a child of this pid
# The step's GPU time as it runs, from the simulator (the truth): its stress process's
# cumulative GPU ns every 100 ms (gpu-sim-ctl done), for the overshoot check below.
step_pid() { pgrep -P "$runner" -f -- "stress gpu --kernel-ms 1 --seconds 8" | head -1; }
wait_for "the step's stress process" 20 sh -c "pgrep -P $runner -f -- 'stress gpu --kernel-ms 1 --seconds 8' >/dev/null"
sp=$(step_pid)
idx=$(ctl show | sed -n "s/^nvml \([0-9]*\): $g1 .*/\1/p")
while kill -0 "$sp" 2>/dev/null; do
        ctl done "$idx" "$sp" >>"$WORK/step-done" 2>/dev/null || true
        sleep 0.1
done
wait $runner || fail "run: $(cat "$WORK/out")"
R=$WORK/r/result.json
series() { echo "$WORK/r/$(job "$R" "$1" .gpu_samples)"; }
# mean JOB FROM TO: the job's mean SM share over the ticks with FROM <= t_s < TO
mean() {
        awk -F, -v a="$2" -v b="$3" 'NR > 1 && $1 >= a && $1 < b { s += $3; n++ } END { if (!n) exit 1; printf "%.4f", s / n }' \
                "$(series "$1")" || fail "$1: no samples between $2 and $3 s"
}
# first JOB: t_s of the job's first tick with a share above 5 %
first() { awk -F, 'NR > 1 && $3 > 0.05 { print $1; exit }' "$(series "$1")"; }
for j in lender late steady step; do echo "$j: $(awk -F, 'NR > 1 { printf "%s:%s ", $1, $3 }' "$(series $j)" | cut -c1-400)"; done

# Lending: alone, the lender uses what the idle guarantee leaves.
assert_between "$(mean lender 1.5 4.5)" 0.80 1.0 "lender while late is idle (lent share)"
t_late=$(first late)
[ -n "$t_late" ] || fail "late never ran"
# Reclaimed within one control period or so after late starts (NVML's 1/6 s period, the
# 200 ms tick and one bucket depth): from t_late + 1 s on, the lender is back near 30 %
# plus its part of the spare 18 %: no 1-s window of it (5 ticks) above 50 % until late
# nears its end.
awk -F, -v t="$t_late" 'NR > 1 && $1 >= t + 1.0 && $1 < t + 5 { v[n++] = $3 } END {
        for (i = 0; i + 5 <= n; i++) { s = 0; for (k = i; k < i + 5; k++) s += v[k]; if (s / 5 > m) m = s / 5 }
        printf "lender: highest 1-s window after the reclaim %.3f\n", m; exit !(n >= 10 && m <= 0.5) }' \
        "$(series lender)" || fail "the lent share was not taken back within a second of late's start"
# ... and already within one control period: the ticks from 0.3 s after late's first one
# (one 200 ms tick, with NVML's 1/6 s sample behind it) to 1 s: the lender is down from
# over 80 % to its share of the two (seen 0.50 per tick).
awk -F, -v t="$t_late" 'NR > 1 && $1 >= t + 0.3 && $1 < t + 1.0 { s += $3; n++ } END {
        printf "lender: %.3f in the ticks 0.3-1 s after late started\n", n ? s / n : -1; exit !(n >= 2 && s / n <= 0.55) }' \
        "$(series lender)" || fail "the lent share was not taken back within one control period of late's start"
m_l=$(mean lender "$(awk -v t="$t_late" 'BEGIN { print t + 1.5 }')" 11.5)
m_t=$(mean late "$(awk -v t="$t_late" 'BEGIN { print t + 1.5 }')" 11.5)
echo "both running: lender $m_l, late $m_t"
assert_between "$m_l" 0.285 0.50 "lender's guarantee while both run"
assert_between "$m_t" 0.485 0.72 "late's guarantee while both run"
assert_eq "$(job "$R" lender '.gpus[0].limit.mode')" share "mode"
# Applied share over the run: above the guarantee (it was lent more while late was idle).
assert_between "$(job "$R" lender '.gpus[0].limit.share_applied')" 0.35 1.0 "lender's applied share"

# The step: settles at its cap, overshoot bounded, steady undisturbed.
t_step=$(first step)
[ -n "$t_step" ] || fail "step never ran"
assert_between "$(mean step "$(awk -v t="$t_step" 'BEGIN { print t + 4 }')" 11.8)" 0.385 0.415 "step's share once settled"
# Settled within a few control periods: its second second (ticks 5 to 9) is at its cap.
assert_between "$(mean step "$(awk -v t="$t_step" 'BEGIN { print t + 1 }')" \
        "$(awk -v t="$t_step" 'BEGIN { print t + 2 }')")" 0.38 0.42 "step's share in its second second"
# Overshoot: in no 1-s window (from the simulator's own count of the step's GPU time)
# does it run more than the shim guarantees (research note §5.4): its cap's 400 ms, plus
# one bucket depth (50 ms), plus the work it may have in flight at the window's start (the
# in-flight bound, 2 depths), plus a kernel. Measured 27–36 ms over the cap on a quiet
# machine, up to 135 ms with the machine's two cores busy (a full make test beside it).
awk '{ t[n] = $1; d[n++] = $2 } END {
        for (i = 0; i < n; i++) for (k = i + 1; k < n; k++) if (t[k] - t[i] >= 1e9) {
                g = (d[k] - d[i]) / (t[k] - t[i]); if (g > m) m = g; break }
        printf "step: highest 1-s window %.3f of the GPU\n", m; exit !(n > 20 && m <= 0.40 + 0.05 + 0.10 + 0.002) }' \
        "$WORK/step-done" || fail "step overshot its cap by more than one bucket depth, the work in flight and a kernel"
assert_between "$(mean steady 1 4)" 0.285 0.315 "steady before the step"
assert_between "$(mean steady "$(awk -v t="$t_step" 'BEGIN { print t + 1 }')" 11.8)" 0.285 0.315 "steady after the step"
echo ok
