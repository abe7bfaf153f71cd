#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/shim-launch.sh [BUILD] [N]: the shim's fast-path cost per launch, in ns, against
# launching without the shim, in the same run: cuLaunchKernel on a driver that does
# nothing (bench/stub-cuda.c), N calls (default 2 000 000), best of 5 rounds each:
#   none       no shim
#   unlimited  the shim, a region at rate unlimited (counts only)
#   limited    the shim, a region at rate 100 %: every launch refills and charges the
#              bucket, one in 64 is bracketed by events, nothing ever waits
set -eu
build=${1:-build}
n=${2:-2000000}
prog=$build/bench/shim-launch
shim=$build/src/shim/libcorun-cuda.so
[ -x "$prog" ] && [ -e "$shim" ] || { echo "shim-launch: build first (make build)" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/corun-shim-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$prog" region "$dir/unlimited" unlimited
"$prog" region "$dir/limited" 1000000
none=$("$prog" run "$n")
unlimited=$(CORUN_GPU_REGION=$dir/unlimited LD_PRELOAD=$shim "$prog" run "$n")
limited=$(CORUN_GPU_REGION=$dir/limited LD_PRELOAD=$shim "$prog" run "$n")
printf '%-10s %8s %10s %8s\n' mode ns/launch "+ns" ratio
for m in none unlimited limited; do
        eval v=\$$m
        awk -v m="$m" -v v="$v" -v b="$none" 'BEGIN { printf "%-10s %8.1f %10.1f %8.2f\n", m, v, v - b, v / b }'
done
