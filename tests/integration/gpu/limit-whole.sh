#!/bin/sh
# SPDX-License-Identifier: MIT
# GPU caps when NVML's per-process samples are not per process (issue 16): on an H200
# (driver 580) each sample period's whole utilisation goes to one of the processes that
# time-slice, so a measured per-job share is noise. The simulated GPU does the same with
# putil=whole, and its slice and switch cost are the H200's (2.09 ms, 150 µs: bench/
# gpu-timeslice.py). corun must notice (result.json: feedback "estimates") and hold the
# caps on the shim's own estimates, scaled together by what the samples add up to:
# caps 10/20/30 on one GPU each within 2.5 pp below and 1.5 pp above its cap over the
# whole run (CUDA's start-up included), in order. A 30 % cap beside a share-100 tenant
# that is always busy (its time is charged to no one: the estimates at face value) within
# 3 pp below and 1.5 pp above (30.0 % here, 30.2 % on the H200 with 1 ms kernels). The
# same with 10 ms kernels: every one is sliced by the other's, so every timing holds its
# slices too (the H200 gave 17.4 %, the simulated GPU 15.6 % before the shim took them
# out on the runner's word that the other is always busy: docs/gpu.md), within 3 pp
# below and 2 pp above. On a GPU whose samples do split, the same run keeps "nvml".
# The series carry what the runner told the shims (below).
. "$SRCDIR/tests/integration/gpu/gpu-lib.sh"
export CORUN_GPU_SIM_DEVICES="putil=whole;putil=whole;sm=20;putil=whole"
export CORUN_GPU_SIM_SLICE=2090us CORUN_GPU_SIM_SWITCH=150us
g0=$(uuid_of 0)
g1=$(uuid_of 1)
g2=$(uuid_of 2)
g3=$(uuid_of 3)
stress="$CORUN stress gpu --kernel-ms 1 --seconds 8"
long="$CORUN stress gpu --kernel-ms 10 --seconds 8"
cat >"$WORK/s.yaml" <<YAML
name: whole
defaults: {cpus: all}
jobs:
  c10: {command: "exec $stress", gpus: {devices: "$g0", share: 10}}
  c20: {command: "exec $stress", gpus: {devices: "$g0", share: 20}}
  c30: {command: "exec $stress", gpus: {devices: "$g0", share: 30}}
  h30: {command: "exec $stress", gpus: {devices: "$g1", share: 30}}
  hog: {command: "exec $stress", gpus: {devices: "$g1", share: 100}}
  s20: {command: "exec $stress", gpus: {devices: "$g2", share: 20}}
  s30: {command: "exec $stress", gpus: {devices: "$g2", share: 30}}
  l30: {command: "exec $long", gpus: {devices: "$g3", share: 30}}
  lhog: {command: "exec $long", gpus: {devices: "$g3", share: 100}}
YAML
sim "$CORUN" run -q -o "$WORK/r" "$WORK/s.yaml" >"$WORK/out" 2>&1 || fail "run: $(cat "$WORK/out")"
R=$WORK/r/result.json
# within JOB CAP BELOW ABOVE: the simulator's truth over the job's whole run.
within() {
        _t=$(truth "$R" "$1")
        echo "$1: truth $_t, cap $2 (feedback $(job "$R" "$1" '.gpus[0].limit.feedback'))"
        assert_between "$_t" "$(awk -v c="$2" -v t="$3" 'BEGIN { print c - t }')" \
                "$(awk -v c="$2" -v t="$4" 'BEGIN { print c + t }')" "$1's share of the GPU (cap $2)"
}
for j in c10 c20 c30 h30 l30; do
        assert_eq "$(job "$R" $j '.gpus[0].limit.feedback')" estimates "$j: NVML's whole samples noticed"
done
assert_eq "$(job "$R" s30 '.gpus[0].limit.feedback')" nvml "s30: samples per process are used"
within c10 0.10 0.025 0.015
within c20 0.20 0.025 0.015
within c30 0.30 0.025 0.015
within h30 0.30 0.03 0.015
within l30 0.30 0.03 0.02
within s20 0.20 0.025 0.015
within s30 0.30 0.025 0.015
# The controller's columns of the series (samples/*.gpu.csv, docs/result-schema.md): what
# the runner told l30's shim of its neighbour, from 1 s on (after its first periods): at
# least the 0.75 at which the shim takes the neighbour's slices out (the hog never idles);
# on c10's GPU only capped tenants run: 0 throughout. l30 runs on its estimates at face
# value beside an unlimited tenant: rate = cap. The hog is measured only: nothing there.
col() { # JOB COLUMN FROM: the column's mean over the ticks from FROM s on
        _f="$WORK/r/$(job "$R" "$1" .gpu_samples)"
        awk -F, -v c="$2" -v a="$3" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next }
                k && $1 >= a && $k != "" { s += $k; n++ } END { if (!n) exit 1; printf "%.4f", s / n }' "$_f" ||
                fail "$1: no $2 in $_f after $3 s: $(head -3 "$_f")"
}
echo "l30: others_busy $(col l30 others_busy 1), rate $(col l30 rate 1); c10: others_busy $(col c10 others_busy 0)"
assert_between "$(col l30 others_busy 1)" 0.75 1 "l30's neighbour's busy time, told to its shim"
assert_eq "$(col c10 others_busy 0)" 0.0000 "c10's GPU has no uncapped neighbour"
assert_eq "$(col l30 rate 1)" 0.3000 "l30's rate beside an unlimited tenant (the estimates at face value)"
# l30's shim corrected its timings for the hog's slices (result.json counts the estimates),
# c30's 1 ms kernels never needed it; the simulated GPU's slice was not measured, so the
# run said once that the correction took an H200's slices.
sliced=$(job "$R" l30 '.gpus[0].limit.sliced_estimates')
echo "l30: $sliced estimates with the neighbour's slices taken out"
[ "$sliced" -gt 0 ] || fail "l30: no estimate corrected for the neighbour's slices"
assert_eq "$(job "$R" c30 '.gpus[0].limit.sliced_estimates')" 0 "c30's 1 ms kernels: nothing to correct"
assert_eq "$(grep -c "job 'l30': its kernels on GPU 3 are longer than a time slice" "$WORK/out")" 1 \
        "the warning that the slice was not measured: $(cat "$WORK/out")"
grep -q "corun doctor --gpu-timeslice" "$WORK/out" || fail "the warning says how to measure it"
hog_series="$WORK/r/$(job "$R" hog .gpu_samples)"
awk -F, 'NR > 1 && ($8 $9 $10 $11) != "" { exit 1 }' "$hog_series" ||
        fail "the share-100 hog has controller columns: $(sed -n 2p "$hog_series")"
awk -v a="$(truth "$R" c10)" -v b="$(truth "$R" c20)" -v c="$(truth "$R" c30)" 'BEGIN { exit !(a < b && b < c) }' ||
        fail "the caps are not in order"
echo ok
