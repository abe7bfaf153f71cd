#!/bin/sh
# One pass on a machine with a real NVIDIA GPU (docs/performance.md, "GPUs"): doctor, the
# stress kernel alone and two at once, the two GPU examples with nvidia-smi pmon beside
# the shared one, and the NVML monitor's runner CPU. Writes everything under $OUT (or
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
echo done >"$OUT/done"
