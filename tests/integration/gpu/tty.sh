#!/bin/sh
# SPDX-License-Identifier: MIT
# The live display on a terminal (tmux, as runner/tty.sh) shows a GPU job's SM share and
# GPU memory in its line, on the simulated GPU.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
: "${GPU_SIM_DIR:?}"
tmux_start_server
start gpu "CORUN_GPU_SIM_LIBDIR=$GPU_SIM_DIR CORUN_GPU_SIM_STATE=$WORK/state TERM=xterm NO_COLOR=1 $SRCDIR/scripts/gpu-sim.sh $CORUN run -n ttygpu -o $WORK/r --gpus 1 -c all '$CORUN stress gpu --seconds 4 --duty 0.5 --mem 64M'"
wait_for "the GPU share and memory in the job's line" 10 shows "^  corun +cpus .* gpu [0-9]+% 64.0 MiB"
wait_for "corun to exit 0" 60 shows "^corun-exited-0"
echo ok
