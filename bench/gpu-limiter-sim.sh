#!/bin/sh
# The GPU share controller on its time-sliced plant (tests/unit/gpu/gpu-plant.c): every
# scenario of the unit test gpu-limiter, simulated 60 s each, with its per-tenant share
# error over 1 s windows, and one summary line, the figure docs/performance.md records:
# the mean absolute error (pp) over every steady-state window of the matrix and the worst
# window. Needs the build (CORUN_SKIP_DEPS=1 make build); BUILD= to use another one.
set -eu
BUILD=${BUILD:-build}
ninja -C "$BUILD" tests/test-gpu-limiter >/dev/null
CORUN_GPU_LIMITER_BENCH=1 "$BUILD/tests/test-gpu-limiter" 2>&1 | grep -v "^\[ *\(RUN\|OK\) *\]"
