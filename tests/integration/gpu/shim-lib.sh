# SPDX-License-Identifier: MIT
# Sourced by the shim's tests (shim-*.sh): lib.sh, one simulated machine per test
# (CORUN_GPU_SIM_STATE in $WORK), no root needed. region PATH LIMIT RATE DEPTH_MS makes
# a one-GPU region on NVML index 0 the runner's way; tenant CMD... runs CMD as a process
# of that job (the shim preloaded, CORUN_GPU_REGION=$REGION); counters FILTER reads the
# region (jq on region-ctl show); share PID... is what the simulated GPU ran of PIDs'
# work between two done readings (gpu_share FROM TO).
. "$SRCDIR/tests/integration/lib.sh"
: "${GPU_SIM_DIR:?}" "${SHIM:?}"
export CORUN_GPU_SIM_LIBDIR=$GPU_SIM_DIR
export CORUN_GPU_SIM_STATE="$WORK/state"
unset LD_LIBRARY_PATH LD_PRELOAD CUDA_VISIBLE_DEVICES CUDA_DEVICE_ORDER CORUN_GPU_REGION
sim() { "$SRCDIR/scripts/gpu-sim.sh" "$@"; }
ctl() { sim "$GPU_SIM_DIR/gpu-sim-ctl" "$@"; }
REGION_CTL=$GPU_SIM_DIR/region-ctl
PROG=$GPU_SIM_DIR/shim-prog
UUID=$(ctl show | sed -n 's/^nvml 0: \(GPU-[0-9a-f-]*\) .*/\1/p')
UUID1=$(ctl show | sed -n 's/^nvml 1: \(GPU-[0-9a-f-]*\) .*/\1/p')
[ -n "$UUID" ] && [ -n "$UUID1" ] || fail "no simulated GPUs: $(ctl show)"
REGION="$WORK/job.gpu"
region() {
        rm -f "$REGION"
        "$REGION_CTL" create "$REGION" "$UUID" "$1" "$2" "$3" || fail "region-ctl create $*"
}
tenant() {
        CUDA_VISIBLE_DEVICES=$UUID CORUN_GPU_REGION=$REGION LD_PRELOAD=$SHIM sim "$@"
}
counters() {
        "$REGION_CTL" show "$REGION" >"$WORK/counters.json" || fail "region-ctl show"
        json "$WORK/counters.json" "$1"
}
# done_now PID...: "NOW DONE" (ns) of the simulated GPU for these processes
done_now() { ctl done 0 "$@"; }
# gpu_share "NOW0 DONE0" "NOW1 DONE1": the fraction of the GPU they ran in between
gpu_share() { echo "$1 $2" | awk '{ printf "%.4f", ($4 - $2) / ($3 - $1) }'; }
# pids_in FILE N: wait until FILE has N "pid PID" lines, then print the PIDs
pids_in() {
        wait_for "$2 tenant processes to start" 10 eval "[ \"\$(grep -c '^pid ' '$1' 2>/dev/null)\" -ge $2 ]"
        sed -n 's/^pid //p' "$1" | tr '\n' ' '
}
