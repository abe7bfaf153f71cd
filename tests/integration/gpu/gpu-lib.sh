# SPDX-License-Identifier: MIT
# Sourced by the tests that run corun on the simulated GPU (tests/gpu-sim): lib.sh, root
# for partitions, one simulated machine per test (CORUN_GPU_SIM_STATE in $WORK), nothing
# GPU inherited from the caller; sim CMD... runs CMD against it, ctl is gpu-sim-ctl, and
# uuid_of N is the UUID of NVML index N.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
: "${GPU_SIM_DIR:?}"
export CORUN_GPU_SIM_LIBDIR=$GPU_SIM_DIR
export CORUN_GPU_SIM_STATE="$WORK/state"
unset LD_LIBRARY_PATH CUDA_VISIBLE_DEVICES CUDA_DEVICE_ORDER
sim() { "$SRCDIR/scripts/gpu-sim.sh" "$@"; }
ctl() { sim "$GPU_SIM_DIR/gpu-sim-ctl" "$@"; }
uuid_of() {
        _u=$(ctl show | sed -n "s/^nvml $1: \(GPU-[0-9a-f-]*\) .*/\1/p")
        [ -n "$_u" ] || fail "no NVML index $1 in: $(ctl show)"
        echo "$_u"
}
# truth RESULT JOB: Σ over the job's pids of what the simulator ran for them on its first
# GPU / the job's wall time: its real share (the simulator's timeline is the truth).
truth() {
        _idx=$(job "$1" "$2" '.gpus[0].index')
        _busy=0
        for _pid in $(job "$1" "$2" '.gpus[0].pids[]'); do
                _b=$(ctl busy "$_idx" "$_pid" 0 18446744073709551615) || fail "gpu-sim-ctl busy"
                _busy=$((_busy + _b))
        done
        awk -v b="$_busy" -v w="$(job "$1" "$2" .wall_s)" 'BEGIN { printf "%.4f", b / 1e9 / w }'
}
# steady RESULT_DIR JOB FROM: the job's mean SM share over its series' ticks from FROM s
# on (samples/*.gpu.csv): its share once the controller has settled, without CUDA's start.
steady() {
        _f="$1/$(job "$1/result.json" "$2" .gpu_samples)"
        awk -F, -v a="$3" 'NR > 1 && $1 >= a { s += $3; n++ } END { if (!n) exit 1; printf "%.4f", s / n }' "$_f" ||
                fail "$2: no GPU samples after $3 s in $_f"
}
