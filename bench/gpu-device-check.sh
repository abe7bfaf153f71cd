#!/bin/sh
# SPDX-License-Identifier: MIT
# One pass on a machine with a real NVIDIA GPU (docs/performance.md, "GPUs" and "GPU caps
# and memory limits"), about 8 minutes. Needs build/ (make build); root. Everything goes
# under $OUT/check (or ./gpu-check/check) and into $OUT/check.tgz.
#   machine, doctor             the GPU as corun sees it
#   doctor-timeslice            its time slice, measured by corun doctor --gpu-timeslice
#   launch-*                    the shim's cost on the real driver (bench/shim-real.c): an
#                               empty kernel's cuLaunchKernel without the shim, with it
#                               counting (share 100) and capped (share 99)
#   torch-*                     PyTorch under the shim (bench/gpu-torch-cap.py): memory
#                               limit seen and enforced, caps 30 + 50 on matmuls, and
#                               the SM clocks each job ran at
#   timeslice.txt               the GPU's time slice and switch cost (bench/gpu-timeslice.py)
#   hog-*                       a 30 % cap beside an uncapped tenant (1 and 10 ms kernels);
#                               samples/*.gpu.csv hold what the controller worked with
#   neighbours.txt              a 30 % cap beside 1-3 uncapped tenants (bench/run.py
#                               gpu-neighbours), 1 and 10 ms kernels
#   example                     examples/gpu-share.yaml's capped and lending scenarios, twice
#   caps.txt                    caps {10,30,50} x {1,2,3} tenants x {0.1,1,10} ms kernels
#   mps-*                       via: mps, if nvidia-cuda-mps-control is installed (and the
#                               daemon's own logs and server list, when it does not answer)
#   stress-*                    corun stress gpu alone and two at once (each kernel is GPU
#                               time: two at once get about half each)
# Arguments name the steps to run (launch torch timeslice hog neighbours example caps mps
# stress);
# none: all of them. CHECK_ISSUE15=1 adds part 1's figures (the exclusive example, the
# NVML monitor's runner CPU). CORUN_BENCH_CAPS_KERNELS=1,10 narrows the caps matrix.
set -u
OUT=${OUT:-$PWD/gpu-check}
R=$OUT/check
mkdir -p "$R"
ROOT=$PWD
export PATH="$ROOT/build:$PATH" PYTHONUNBUFFERED=1
export CORUN_SHIM="$ROOT/build/src/shim/libcorun-cuda.so"
STEPS=${*:-launch torch timeslice hog neighbours example caps mps stress}
want() { case " $STEPS " in *" $1 "*) step "$1" ;; *) return 1 ;; esac; }
step() { echo "== $(date +%T) $*" | tee -a "$R/progress.txt"; }
finish() { step done; tar -C "$OUT" -czf "$OUT/check.tgz" check; }
trap finish EXIT

step machine
{
        uname -a; id; nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total,compute_mode --format=csv
        nvidia-smi compute-policy -l 2>&1 | head -20
        corun --version; python3 --version
} >"$R/machine.txt" 2>&1
corun doctor >"$R/doctor.txt" 2>&1
# The GPU's time slice as corun measures it (against timeslice.txt's), kept for the runs below.
corun doctor --gpu-timeslice >"$R/doctor-timeslice.txt" 2>&1
# A VM whose cgroup holds other processes cannot give corun partitions: backend none.
B=""
corun run -q -o "$R/probe" -- true >"$R/probe.txt" 2>&1 || B=none
BK=${B:+--backend $B}
BY=${B:+backend: $B}
export CORUN_BENCH_BACKEND=$B
echo "backend: ${B:-auto}" >>"$R/machine.txt"

if want launch; then
        for m in "none:--gpus 1" "count:--gpu-share 100" "capped:--gpu-share 99"; do
                corun run $BK -q -o "$R/launch-${m%%:*}" --cpus 2 ${m#*:} -- build/bench/shim-real 200000 >/dev/null 2>&1
                printf '%s: %s %s\n' "${m%%:*}" "$(cat "$R/launch-${m%%:*}"/logs/*/shim-real.out 2>/dev/null)" \
                        "$(grep -o '"throttled_s": [0-9.e+-]*' "$R/launch-${m%%:*}/result.json" 2>/dev/null)" >>"$R/launch.txt"
        done
fi

if want torch; then
        cat >"$R/torch.yaml" <<Y
name: torch-cap
$BY
defaults: {cpus: 4, timeout: 120s}
jobs:
  mem8: {command: [python3, $ROOT/bench/gpu-torch-cap.py, mem, "8"], gpus: {count: 1, memory: 8G}}
  t30: {command: [python3, $ROOT/bench/gpu-torch-cap.py, matmul, "8"], gpus: {count: 1, share: 30}}
  t50: {command: [python3, $ROOT/bench/gpu-torch-cap.py, matmul, "8"], gpus: {count: 1, share: 50}}
  free: {command: [python3, $ROOT/bench/gpu-torch-cap.py, matmul, "8"], gpus: {count: 1, shared: true}}
scenarios:
  memory: {jobs: [mem8]}
  caps: {jobs: [t30, t50]}
  alone: {jobs: [free]}
Y
        timeout 150 corun run -o "$R/torch" "$R/torch.yaml" >"$R/torch.txt" 2>&1
        grep -h "torch-cap:" "$R"/torch/logs/*/*.out >>"$R/torch.txt" 2>/dev/null
        # The SM clocks each job ran at (docs/gpu.md, "Clocks"): whether the capped jobs'
        # products ran at higher clocks than the one alone.
        python3 -c 'import json, sys
for r in json.load(open(sys.argv[1]))["runs"]:
    for j in r["jobs"]:
        print("clocks", r["scenario"], j["name"], json.dumps((j.get("gpus") or [{}])[0].get("clocks")))' \
                "$R/torch/result.json" >>"$R/torch.txt" 2>&1
fi

if want timeslice; then
        timeout 90 python3 bench/gpu-timeslice.py 2 >"$R/timeslice.txt" 2>&1
fi

if want hog; then
        for ms in 1 10; do
                cat >"$R/hog-$ms.yaml" <<Y
name: hog-$ms
$BY
defaults: {cpus: all, timeout: 60s}
jobs:
  hog: {command: [corun, stress, gpu, --kernel-ms, "$ms", --seconds, "8"], gpus: {count: 1, share: 100}}
  c30: {command: [corun, stress, gpu, --kernel-ms, "$ms", --seconds, "8"], gpus: {count: 1, share: 30}}
Y
                timeout 60 corun run -o "$R/hog-$ms" "$R/hog-$ms.yaml" >"$R/hog-$ms.txt" 2>&1
        done
fi

if want neighbours; then
        timeout 120 env CORUN_BENCH_REAL_GPU=1 python3 bench/run.py --quick gpu-neighbours >"$R/neighbours.txt" 2>&1
fi

if want example; then
        sed '/^  uncapped:/,/solo: true/d' examples/gpu-share.yaml >"$R/example.yaml"
        [ -n "$B" ] && sed -i "s/^name: gpu-share/name: gpu-share\nbackend: $B/" "$R/example.yaml"
        timeout 120 corun run -o "$R/example" --repeat 2 "$R/example.yaml" >"$R/example.txt" 2>&1
fi

if want caps; then
        timeout 330 env CORUN_BENCH_REAL_GPU=1 python3 bench/run.py --quick gpu-caps >"$R/caps.txt" 2>&1
fi

if command -v nvidia-cuda-mps-control >/dev/null && want mps; then
        export CUDA_MPS_PIPE_DIRECTORY=/tmp/corun-mps-pipe CUDA_MPS_LOG_DIRECTORY=/tmp/corun-mps-log
        mkdir -p $CUDA_MPS_PIPE_DIRECTORY $CUDA_MPS_LOG_DIRECTORY
        nvidia-cuda-mps-control -d >"$R/mps-daemon.txt" 2>&1
        echo "started: $?" >>"$R/mps-daemon.txt"
        ls -la $CUDA_MPS_PIPE_DIRECTORY >>"$R/mps-daemon.txt" 2>&1
        echo get_server_list | timeout 10 nvidia-cuda-mps-control >>"$R/mps-daemon.txt" 2>&1
        echo "get_server_list: $?" >>"$R/mps-daemon.txt"
        corun doctor >"$R/mps-doctor.txt" 2>&1
        cat >"$R/mps.yaml" <<Y
name: mps
$BY
defaults: {cpus: all, timeout: 40s}
jobs:
  m30: {command: [corun, stress, gpu, --kernel-ms, "1", --seconds, "6"], gpus: {count: 1, share: 30, via: mps}}
  m60: {command: [corun, stress, gpu, --kernel-ms, "1", --seconds, "6"], gpus: {count: 1, share: 60, via: mps}}
Y
        timeout 50 corun run -o "$R/mps" "$R/mps.yaml" >"$R/mps.txt" 2>&1
        echo get_server_list | timeout 10 nvidia-cuda-mps-control >>"$R/mps-daemon.txt" 2>&1
        echo quit | timeout 10 nvidia-cuda-mps-control >>"$R/mps-daemon.txt" 2>&1
        for f in $CUDA_MPS_LOG_DIRECTORY/*.log; do [ -f "$f" ] && cp "$f" "$R/mps-${f##*/}"; done
fi

if want stress; then
        for ms in 0.1 1 10; do
                corun stress gpu --kernel-ms "$ms" --seconds 3 >>"$R/stress-alone.txt" 2>&1
        done
        corun stress gpu --kernel-ms 1 --seconds 4 >"$R/stress-pair-a.txt" 2>&1 &
        corun stress gpu --kernel-ms 1 --seconds 4 >"$R/stress-pair-b.txt" 2>&1
        wait
fi

if [ "${CHECK_ISSUE15:-0}" = 1 ]; then
        step issue15
        corun run $BK -o "$R/excl" examples/gpu-exclusive.yaml >"$R/excl.txt" 2>&1
        cat >"$R/cost.yaml" <<Y
defaults: {cpus: all, gpus: {count: 1, shared: true}, command: [corun, stress, gpu, --kernel-ms, "1", --duty, "0.05", --seconds, "12"]}
jobs: {g0: {}, g1: {}, g2: {}, g3: {}, g4: {}, g5: {}, g6: {}, g7: {}, g8: {}, g9: {}, g10: {}, g11: {}, g12: {}, g13: {}, g14: {}, g15: {}}
Y
        sed 's/gpus: {count: 1, shared: true}/gpus: any/' "$R/cost.yaml" >"$R/cost-any.yaml"
        for m in cost cost-any; do
                corun run $BK -q -o "$R/$m" "$R/$m.yaml" &
                p=$!
                sleep 3; a=$(awk '{print $14+$15}' /proc/$p/stat); sleep 6; b=$(awk '{print $14+$15}' /proc/$p/stat)
                echo "$m: runner ticks in 6 s: $((b - a)) (CLK_TCK $(getconf CLK_TCK))" >>"$R/cost.txt"
                wait $p
        done
fi
