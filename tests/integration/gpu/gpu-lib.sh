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
