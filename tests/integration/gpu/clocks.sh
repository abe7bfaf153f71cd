#!/bin/sh
# SPDX-License-Identifier: MIT
# The GPU's clocks while jobs run (docs/gpu.md, "Clocks"), on one simulated GPU whose
# clock tests set with gpu-sim-ctl: a job that runs at the highest clock, then under a
# power cap at 1410 MHz, has both in its series (sm_clock_mhz, clock_events), its min,
# mean and max and the reason in result.json, and the run warns once that the GPU lowered
# its clocks; polls while the GPU was idle (between its two halves) are not in the min;
# the host's highest clock is in host.gpus. A job counts only the polls while it had a
# process on the GPU. A GPU whose NVML gives no clocks: clocks null,
# empty columns, no warning.
export CORUN_GPU_SIM_DEVICES="clock=1980"
. "$SRCDIR/tests/integration/gpu/gpu-lib.sh"
ctl init || fail "gpu-sim-ctl init"

# Between a's halves the GPU is idle at some polls (the simulated GPU drops to its idle
# clock 0.1 s after its last work). b opens the GPU during a's second half, under the cap.
cat >"$WORK/s.yaml" <<YAML
name: clocks
defaults: {cpus: all, gpus: "0"}
jobs:
  a:
    command: [sh, -c, '$CORUN stress gpu --seconds 1.2s && sleep 0.6 && "\$CTL" clock 0 1410 0x4 && $CORUN stress gpu --seconds 1.5s']
    env: {CTL: "$GPU_SIM_DIR/gpu-sim-ctl"}
  b:
    command: [sh, -c, 'sleep 2.4 && exec $CORUN stress gpu --seconds 0.5s']
YAML
sim "$CORUN" run -q -o "$WORK/r" "$WORK/s.yaml" >"$WORK/out" 2>&1 || fail "run: $(cat "$WORK/out")"
R=$WORK/r/result.json
c() { job "$R" a ".gpus[0].clocks.$1"; }
echo "a: $(job "$R" a '.gpus[0].clocks | tostring')"
assert_eq "$(c sm_mhz_min)" 1410 "a's lowest SM clock while its GPU was busy"
assert_eq "$(c sm_mhz_max)" 1980 "a's highest SM clock"
assert_between "$(c sm_mhz_mean)" 1500 1890 "a's mean SM clock (about half of each)"
assert_eq "$(c 'events | join(",")')" sw_power_cap "reasons seen while a ran (gpu_idle never)"
assert_eq "$(json "$R" '.host.gpus[0].sm_clock_max_mhz')" 1980 "the GPU's highest clock"
# The series: the clock and reasons of each poll, the idle ones at the simulated idle clock.
series=$WORK/r/$(job "$R" a .gpu_samples)
cols() {
        awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "sm_clock_mhz") m = i; if ($i == "clock_events") e = i }; next }
                 { print $m "," $e }' "$series"
}
for want in 1980, 345,gpu_idle 1410,sw_power_cap; do
        cols | grep -qx "$want" || fail "no poll '$want' in a's series: $(cols | tr '\n' ' ')"
done
# b's clocks are those of its own time on the GPU, all under the cap, though the GPU ran
# at 1980 MHz while b waited. Warned once for the GPU, naming the first job to end (either)
# though both saw it.
assert_eq "$(job "$R" b '.gpus[0].clocks.sm_mhz_max')" 1410 "b's highest clock"
assert_eq "$(job "$R" b '.gpus[0].clocks.events | join(",")')" sw_power_cap "reasons seen while b ran"
assert_eq "$(json "$R" '[.warnings[] | select(contains("lowered its clocks"))] | length')" 1 "clock warnings"
json "$R" '.warnings[]' | grep -Eq "GPU 0 lowered its clocks while job '[ab]' ran \(sw_power_cap; SM clock 1410-(1410|1980) MHz of at most 1980\)" ||
        fail "clock warning: $(json "$R" '.warnings')"
grep -q "lowered its clocks" "$WORK/r/summary.md" || fail "summary.md does not carry the warning"

# No clocks from NVML (clock=0 on the simulated GPU: "not supported").
rm -f "$CORUN_GPU_SIM_STATE"
CORUN_GPU_SIM_DEVICES="clock=0" sim "$CORUN" run -q -o "$WORK/n" --gpus 1 -- "$CORUN" stress gpu --seconds 0.6s \
        >"$WORK/n.out" 2>&1 || fail "run without clocks: $(cat "$WORK/n.out")"
R=$WORK/n/result.json
assert_eq "$(json "$R" '.runs[0].jobs[0].gpus[0].clocks')" null "clocks without NVML's"
assert_eq "$(json "$R" '.host.gpus[0].sm_clock_max_mhz')" null "highest clock without NVML's"
assert_eq "$(json "$R" '[.warnings[] | select(contains("clocks"))] | length')" 0 "no clock warning"
series=$WORK/n/$(json "$R" '.runs[0].jobs[0].gpu_samples')
assert_eq "$(cols | sort -u)" , "clock columns without NVML's clocks"
echo ok
