#!/bin/sh
# SPDX-License-Identifier: MIT
# Per-job GPU measurement on the simulated GPU: three tenants at 20, 30 and 40 % of one
# GPU and a process outside every job, a job of two processes on the other GPU beside
# another outsider; each job measured by corun's sampler within 1 percentage point of
# what the simulated device ran for that job's own pids (share-check.c says how).
. "$SRCDIR/tests/integration/lib.sh"
: "${GPU_SIM_DIR:?}" "${SHARE_CHECK:?}"
export CORUN_GPU_SIM_LIBDIR=$GPU_SIM_DIR
"$SRCDIR/scripts/gpu-sim.sh" "$SHARE_CHECK" "$CORUN" >"$WORK/out" 2>&1 || fail "$(cat "$WORK/out")"
cat "$WORK/out"
