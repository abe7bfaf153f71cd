#!/bin/sh
# SPDX-License-Identifier: MIT
# A GPU that falls off the bus while jobs are measured on it: one warning naming it, and
# the jobs on the other GPU are still measured (share-check.c --fall-off).
. "$SRCDIR/tests/integration/lib.sh"
: "${GPU_SIM_DIR:?}" "${SHARE_CHECK:?}"
export CORUN_GPU_SIM_LIBDIR=$GPU_SIM_DIR
"$SRCDIR/scripts/gpu-sim.sh" "$SHARE_CHECK" "$CORUN" --fall-off >"$WORK/out" 2>&1 || fail "$(cat "$WORK/out")"
grep -q "^warning at poll .*GPU is lost" "$WORK/out" || fail "no warning: $(cat "$WORK/out")"
cat "$WORK/out"
