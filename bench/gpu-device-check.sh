#!/bin/sh
# One pass on a machine with a real NVIDIA GPU (docs/performance.md, "GPUs"): doctor, the
# stress kernel alone and two at once, the two GPU examples with nvidia-smi pmon beside
# the shared one (uncapped, capped at 20/30/40 %, lending), the NVML monitor's runner CPU,
# and the caps matrix with the shim's cost. Writes everything under $OUT (or
# ./gpu-check). Needs build/corun; root for partitions (else --backend none).
set -u
OUT=${OUT:-$PWD/gpu-check}
mkdir -p "$OUT"
export PATH="$PWD/build:$PATH"
B=""
[ "$(id -u)" = 0 ] || B="--backend none"
{
        uname -a; id; nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
        corun --version
} >"$OUT/machine.txt" 2>&1
corun doctor >"$OUT/doctor.txt" 2>&1
corun doctor --json >"$OUT/doctor.json" 2>/dev/null
for ms in 0.1 1 10; do
        corun stress gpu --kernel-ms "$ms" --seconds 5 >>"$OUT/stress-alone.txt" 2>&1
done
corun stress gpu --kernel-ms 1 --seconds 5 >"$OUT/stress-pair-a.txt" 2>&1 &
corun stress gpu --kernel-ms 1 --seconds 5 >"$OUT/stress-pair-b.txt" 2>&1
wait
corun run $B -o "$OUT/excl" examples/gpu-exclusive.yaml >"$OUT/excl.txt" 2>&1
(nvidia-smi pmon -s u -d 1 -c 25 >"$OUT/pmon.txt" 2>&1 &)
corun run $B -o "$OUT/share" --repeat 1 examples/gpu-share.yaml >"$OUT/share.txt" 2>&1
# the NVML monitor's cost: 16 tenants at 5 % duty for 12 s, runner CPU from /proc
cat >"$OUT/cost.yaml" <<Y
defaults: {cpus: all, gpus: {count: 1, shared: true}, command: [corun, stress, gpu, --kernel-ms, "1", --duty, "0.05", --seconds, "12"]}
jobs: {g0: {}, g1: {}, g2: {}, g3: {}, g4: {}, g5: {}, g6: {}, g7: {}, g8: {}, g9: {}, g10: {}, g11: {}, g12: {}, g13: {}, g14: {}, g15: {}}
Y
sed 's/gpus: {count: 1, shared: true}/gpus: any/' "$OUT/cost.yaml" >"$OUT/cost-any.yaml"
for m in cost cost-any; do
        corun run $B -q -o "$OUT/$m" "$OUT/$m.yaml" &
        p=$!
        sleep 3; a=$(awk '{print $14+$15}' /proc/$p/stat); sleep 6; b=$(awk '{print $14+$15}' /proc/$p/stat)
        echo "$m: runner ticks in 6 s: $((b - a)) (CLK_TCK $(getconf CLK_TCK))" >>"$OUT/cost.txt"
        wait $p
done
# Caps (issue 16): 1-3 tenants each capped at 10/30/50 % (at most 100 % in all), kernels of 0.1,
# 1 and 10 ms: its NVML share and throughput against the cap (bench/run.py gpu-caps), and
# the shim's cost on a driver stub (bench/shim-launch.sh; the real driver's own cost is
# the same with and without the shim).
CORUN_BENCH_REAL_GPU=1 python3 bench/run.py --quick gpu-caps >"$OUT/caps.txt" 2>&1
sh bench/shim-launch.sh build >"$OUT/shim-launch.txt" 2>&1
echo done >"$OUT/done"
