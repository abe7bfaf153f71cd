#!/bin/sh
# gpu-sim.sh CMD...: runs CMD against the simulated GPU (docs/gpu-sim.md): the fake
# libcuda.so.1 and libnvidia-ml.so.1 of the build come first on LD_LIBRARY_PATH, and
# every process below CMD shares one simulated machine through CORUN_GPU_SIM_STATE.
#
#   scripts/gpu-sim.sh build/corun doctor
#   CORUN_GPU_SIM_DEVICES=4 scripts/gpu-sim.sh build/corun run examples/gpu-share.yaml
#
# Configuration (read when the state is created): CORUN_GPU_SIM_DEVICES (a count, default
# 2, or per-device "key=value,..." separated by ';'), CORUN_GPU_SIM_SAMPLE (NVML sample
# period, default 166667us), CORUN_GPU_SIM_SLICE (time slice, 2ms), CORUN_GPU_SIM_SWITCH
# (context switch cost, 0), CORUN_GPU_SIM_KERNELS ("name=duration;..."),
# CORUN_GPU_SIM_DEFAULT_KERNEL (1ms), CORUN_GPU_SIM_CTX_MEM (0), CORUN_GPU_SIM_DRIVER,
# CORUN_GPU_SIM_CUDA. A CORUN_GPU_SIM_STATE given by the caller is used as is (and kept),
# so that several commands, and gpu-sim-ctl, see the same simulated GPUs.
# CORUN_GPU_SIM_LIBDIR: where the fakes are (default: build/tests/gpu-sim of this tree).
set -eu
if [ $# -eq 0 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
        sed -n '2,17s/^# \{0,1\}//p' "$0"
        [ $# -eq 0 ] && exit 2
        exit 0
fi
top=$(cd "$(dirname "$0")/.." && pwd)
libdir=${CORUN_GPU_SIM_LIBDIR:-$top/build/tests/gpu-sim}
if [ ! -e "$libdir/libcuda.so.1" ] || [ ! -e "$libdir/libnvidia-ml.so.1" ] || [ ! -x "$libdir/gpu-sim-ctl" ]; then
        echo "gpu-sim: the simulated GPU is not built in $libdir: run 'make build' (or set CORUN_GPU_SIM_LIBDIR)" >&2
        exit 2
fi
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH

if [ -n "${CORUN_GPU_SIM_STATE:-}" ]; then
        export CORUN_GPU_SIM_STATE
        "$libdir/gpu-sim-ctl" init
        exec "$@"
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/corun-gpu-sim.XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
CORUN_GPU_SIM_STATE=$dir/state
export CORUN_GPU_SIM_STATE
"$libdir/gpu-sim-ctl" init
status=0
"$@" || status=$?
exit "$status"
