#!/bin/sh
# SPDX-License-Identifier: MIT
# corun run on the simulated GPU, whose NVML order is the reverse of PCI (and CUDA) order:
# a job given NVML index 0 sees exactly that GPU (its CUDA_VISIBLE_DEVICES UUID is what
# the fake driver opens) and is measured on it; a job given a UUID likewise; a job without
# gpus: sees none (CUDA_VISIBLE_DEVICES empty), one with gpus: any is left alone; the
# result names the GPUs, the host's GPUs and driver, and writes a GPU series.
. "$SRCDIR/tests/integration/gpu/gpu-lib.sh"
uuid0=$(uuid_of 0)
uuid1=$(uuid_of 1)

cat >"$WORK/s.yaml" <<YAML
name: assign
defaults: {cpus: all}
jobs:
  by-index: {command: [$CORUN, stress, gpu, --kernel-ms, "2", --work, "150"], gpus: "0"}
  by-uuid: {command: [$CORUN, stress, gpu, --kernel-ms, "2", --work, "150"], gpus: [$uuid1]}
  env-gpu: {command: 'echo "CVD=[$\${CUDA_VISIBLE_DEVICES-unset}] ORDER=[$\${CUDA_DEVICE_ORDER-unset}]"', gpus: "1"}
  plain: {command: 'echo "CVD=[$\${CUDA_VISIBLE_DEVICES-unset}] ORDER=[$\${CUDA_DEVICE_ORDER-unset}]"'}
  any: {command: 'echo "CVD=[$\${CUDA_VISIBLE_DEVICES-unset}]"', gpus: any}
YAML
sim "$CORUN" run -q -o "$WORK/r" "$WORK/s.yaml" >"$WORK/out" 2>&1 || fail "run: $(cat "$WORK/out")"
R=$WORK/r/result.json
log() { cat "$WORK/r/$(job "$R" "$1" .logs.stdout)"; }

# What the job's own CUDA opened is the GPU corun assigned, by UUID.
log by-index | grep -q "gpu=$uuid0\$" || fail "by-index opened another GPU: $(log by-index)"
log by-uuid | grep -q "gpu=$uuid1\$" || fail "by-uuid opened another GPU: $(log by-uuid)"
assert_eq "$(job "$R" by-index '.gpus | length')" 1 "GPUs of by-index"
assert_eq "$(job "$R" by-index '.gpus[0].uuid')" "$uuid0" "by-index's GPU in result.json"
assert_eq "$(job "$R" by-index '.gpus[0].index')" 0 "by-index's NVML index"
assert_eq "$(job "$R" by-uuid '.gpus[0].uuid')" "$uuid1" "by-uuid's GPU"
assert_eq "$(job "$R" by-index '.requested.gpus')" 0 "requested gpus"
# Measured on that GPU: its process did run there (2 ms kernels back to back: busy).
for j in by-index by-uuid; do
        assert_between "$(job "$R" $j '.gpus[0].sm_share_mean')" 0.5 1.0 "$j's SM share"
        [ "$(job "$R" $j '.gpus[0].samples')" -ge 1 ] || fail "$j: no NVML samples"
        pid=$(job "$R" $j '.gpus[0].pids[0]')
        [ "$pid" -gt 0 ] || fail "$j: no pid seen on its GPU"
done
# The environment: UUIDs and PCI order for GPU jobs, empty for jobs without, untouched for any.
assert_eq "$(log env-gpu)" "CVD=[$uuid1] ORDER=[PCI_BUS_ID]" "a GPU job's environment"
assert_eq "$(log plain)" "CVD=[] ORDER=[PCI_BUS_ID]" "a job without GPUs on a GPU machine"
assert_eq "$(log any)" "CVD=[unset]" "gpus: any"
assert_eq "$(job "$R" plain '.gpus | length')" 0 "GPUs of a job without any"
# The host's GPUs (PCI order) and the driver; the series.
assert_eq "$(json "$R" '[.host.gpus[].uuid] | join(",")')" "$uuid1,$uuid0" "host GPUs in PCI order"
assert_eq "$(json "$R" .host.gpu_driver)" 550.54.15 "driver version"
series=$WORK/r/$(job "$R" by-index .gpu_samples)
assert_eq "$(head -1 "$series")" "t_s,gpu,sm_share,memory_bytes,share_target,memory_limit_bytes,throttled_s,charged_share,rate,scale,others_busy,sm_clock_mhz,clock_events" "GPU series header"
[ "$(wc -l <"$series")" -ge 2 ] || fail "GPU series has no row"
# Reports: summary.md, results.csv and report.html carry the GPU columns and panel.
grep -q "^| default rep 1 | by-index | 0 | " "$WORK/r/summary.md" || fail "summary.md: $(cat "$WORK/r/summary.md")"
head -1 "$WORK/r/results.csv" | grep -q ",gpus,gpu_sm_share,gpu_memory_peak_bytes" || fail "results.csv header"
grep -q 'id="gpu"' "$WORK/r/report.html" || fail "report.html has no GPU panel"
# Backend none: a GPU job's memory: is not turned into RLIMIT_AS (the fake cuInit, like the
# real one, reserves far more address space than a job's memory limit).
sim "$CORUN" run -q --backend none -m 256M --gpus 1 -o "$WORK/none" -- "$CORUN" stress gpu --kernel-ms 1 --work 5 \
        >"$WORK/none.out" 2>&1 || fail "backend none, -m 256M, a GPU job: $(cat "$WORK/none.out")"
echo ok
