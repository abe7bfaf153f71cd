#!/bin/sh
# SPDX-License-Identifier: MIT
# corun doctor and the GPUs: none without an NVIDIA driver (and why), and on the
# simulated GPU each device in PCI order with its NVML index, UUID, name, memory, PCI bus
# id, NUMA node, SM count (from CUDA, matched by UUID), MIG mode and per-process
# sampling, in text and JSON.
. "$SRCDIR/tests/integration/lib.sh"
: "${GPU_SIM_DIR:?}"
export CORUN_GPU_SIM_LIBDIR=$GPU_SIM_DIR
sim() { "$SRCDIR/scripts/gpu-sim.sh" "$@"; }
# meson may put the fakes on LD_LIBRARY_PATH (they are dependencies): not for "no GPU".
unset LD_LIBRARY_PATH

# No driver on this machine: says so, and why.
"$CORUN" doctor >"$WORK/none" 2>&1 || true
grep -q "^ok    gpu          none: libnvidia-ml.so.1 not found (no NVIDIA driver on this machine)" "$WORK/none" ||
        fail "no-GPU line: $(grep gpu "$WORK/none")"
"$CORUN" doctor --json >"$WORK/none.json" 2>/dev/null || true
assert_eq "$(json "$WORK/none.json" '.gpus | length')" 0 "GPUs in JSON without a driver"
json "$WORK/none.json" .gpus_why_none | grep -q "libnvidia-ml.so.1 not found" || fail "gpus_why_none"

# Two simulated GPUs; NVML's order is the reverse of PCI order. Their time slices are not
# measured (tests/integration/gpu/timeslice.sh measures them).
export CORUN_GPU_SIM_STATE="$WORK/state" CORUN_GPU_TIMESLICE_FILE="$WORK/timeslice"
nots="time slice not measured (caps take an H200's 2.09 ms; corun doctor --gpu-timeslice)"
sim "$GPU_SIM_DIR/gpu-sim-ctl" show >"$WORK/show"
uuid0=$(sed -n 's/^nvml 0: \(GPU-[0-9a-f-]*\) .*/\1/p' "$WORK/show")
uuid1=$(sed -n 's/^nvml 1: \(GPU-[0-9a-f-]*\) .*/\1/p' "$WORK/show")
[ -n "$uuid0" ] && [ -n "$uuid1" ] || fail "gpu-sim-ctl show: $(cat "$WORK/show")"
sim "$CORUN" doctor >"$WORK/text" 2>&1 || true
grep -q "^ok    gpu          2 GPU(s), driver 550.54.15, CUDA 12.4; MPS daemon not running$" "$WORK/text" ||
        fail "summary line: $(grep gpu "$WORK/text")"
assert_eq "$(grep '^ok    gpu [0-9]' "$WORK/text")" \
"ok    gpu 1        $uuid1, corun simulated GPU, 80.0 GiB, PCI 00000000:10:00.0, NUMA node 0, 132 SMs at up to 1980 MHz, MIG off, per-process utilisation sampling works, $nots
ok    gpu 0        $uuid0, corun simulated GPU, 80.0 GiB, PCI 00000000:20:00.0, NUMA node 0, 132 SMs at up to 1980 MHz, MIG off, per-process utilisation sampling works, $nots" \
        "one line per GPU, PCI order"
sim "$CORUN" doctor --json >"$WORK/json" 2>/dev/null || true
assert_eq "$(json "$WORK/json" '[.gpus[] | "\(.index) \(.uuid) \(.pci_bus_id) \(.memory_bytes) \(.sm_count) \(.sm_clock_max_mhz) \(.mig) \(.process_utilization) \(.timeslice_ns)"] | join(";")')" \
        "1 $uuid1 00000000:10:00.0 85899345920 132 1980 off true null;0 $uuid0 00000000:20:00.0 85899345920 132 1980 off true null" \
        "GPUs in JSON"
assert_eq "$(json "$WORK/json" .gpu_driver)" 550.54.15 "driver in JSON"

# Devices that differ: the SM counts come from CUDA, whose default order (more SMs first)
# is neither NVML's nor PCI's: a match by index would swap them. MIG on and no
# per-process utilisation are warnings with a fix.
export CORUN_GPU_SIM_STATE="$WORK/state2"
export CORUN_GPU_SIM_DEVICES="name=Small,sm=20,mem=16G,bus=81,numa=1,mig=on,clock=1410;name=Big,sm=144,mem=141G,bus=3b,putil=0,mig=unsupported,clock=0"
sim "$CORUN" doctor >"$WORK/text2" 2>&1 || true
grep -q "^warn  gpu 1        GPU-.*, Big, 141 GiB, PCI 00000000:3B:00.0, NUMA node 0, 144 SMs, MIG not supported, per-process utilisation not available (jobs' SM shares cannot be measured), $nots; to fix: " "$WORK/text2" ||
        fail "gpu 1 line: $(grep gpu "$WORK/text2")"
grep -q "^warn  gpu 0        GPU-.*, Small, 16.0 GiB, PCI 00000000:81:00.0, NUMA node 1, 20 SMs at up to 1410 MHz, MIG on (corun assigns whole GPUs: MIG instances are not supported yet), per-process utilisation sampling works, $nots; to fix: nvidia-smi -i <index> -mig 0" "$WORK/text2" ||
        fail "gpu 0 line: $(grep gpu "$WORK/text2")"
# No clock from NVML (Big): nothing said of it, and no clock check. A GPU lowering its clocks
# now (hot, at its power limit): a warning with what to do; not for a clock someone set.
! grep -q "gpu [0-9] clock" "$WORK/text2" || fail "a clock check without a slowdown: $(grep clock "$WORK/text2")"
sim "$GPU_SIM_DIR/gpu-sim-ctl" clock 0 1200 0x22 || fail "gpu-sim-ctl clock"
sim "$CORUN" doctor >"$WORK/text3" 2>&1 || true
assert_eq "$(grep 'gpu [0-9] clock' "$WORK/text3")" \
        "warn  gpu 0 clock  GPU 0 is lowering its clocks now (sw_thermal_slowdown): work measured on it now runs slower than at full clock; to fix: let it cool or lighten its load before measuring; nvidia-smi -q -d PERFORMANCE says more" \
        "a GPU lowering its clocks now"
# A bad simulator configuration is refused with the reason.
CORUN_GPU_SIM_STATE="$WORK/state3" CORUN_GPU_SIM_DEVICES="sm=x" sim true 2>"$WORK/bad" && fail "bad configuration accepted"
grep -q "CORUN_GPU_SIM_DEVICES, device 0: bad value 'x' for sm" "$WORK/bad" || fail "bad configuration: $(cat "$WORK/bad")"
echo ok
