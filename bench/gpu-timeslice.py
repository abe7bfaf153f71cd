#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/gpu-timeslice.py [SECONDS]: how a real NVIDIA GPU time-slices between processes,
to calibrate the simulated GPU's slice and context-switch cost (docs/gpu-sim.md).

1, 2 and 3 processes each run one single-thread kernel that spins on %globaltimer (the
GPU's own clock, the same for every context) for SECONDS (default 2) and records every
gap of more than 4 µs between two reads: the times it was not running. All of them start
their kernel at the same wall-clock instant. From the gaps: each process's runs (its time
slices), and, on the common window, the time no process ran (context switches) per
switch. Needs CuPy (NVRTC compiles the kernel); prints one JSON line per configuration
and a summary."""
import json
import os
import statistics
import subprocess
import sys
import time

SRC = r'''
extern "C" __global__ void gaps(unsigned long long dur, unsigned long long thr,
                                unsigned long long *out, unsigned int cap) {
        unsigned long long t0, prev, t;
        unsigned int n = 0;
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
        prev = t0;
        for (;;) {
                asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
                if (t - prev > thr) {
                        if (n < cap) { out[3 + 2 * n] = prev; out[4 + 2 * n] = t; }
                        n++;
                }
                prev = t;
                if (t - t0 >= dur) break;
        }
        out[0] = t0; out[1] = t; out[2] = n;
}
'''
CAP = 200000


def child(start_at, seconds):
    import cupy as cp
    k = cp.RawKernel(SRC, "gaps")
    out = cp.zeros(3 + 2 * CAP, dtype=cp.uint64)
    k((1,), (1,), (cp.uint64(10**6), cp.uint64(4000), out, cp.uint32(CAP)))  # compile, warm up
    cp.cuda.Device().synchronize()
    time.sleep(max(0.0, start_at - time.time()))
    k((1,), (1,), (cp.uint64(int(seconds * 1e9)), cp.uint64(4000), out, cp.uint32(CAP)))
    cp.cuda.Device().synchronize()
    o = out.get()
    n = int(o[2])
    gaps = [(int(o[3 + 2 * i]), int(o[4 + 2 * i])) for i in range(min(n, CAP))]
    print(json.dumps({"t0": int(o[0]), "t1": int(o[1]), "n": n, "gaps": gaps}))


def runs_of(p):
    """A process's run intervals: between its start, its gaps and its end."""
    runs, at = [], p["t0"]
    for a, b in p["gaps"]:
        runs.append((at, a))
        at = b
    runs.append((at, p["t1"]))
    return runs


def analyse(procs):
    lo = max(p["t0"] for p in procs)
    hi = min(p["t1"] for p in procs)
    res = {"processes": len(procs), "window_s": (hi - lo) / 1e9}
    inner = []  # runs that start and end inside the common window: whole slices
    for p in procs:
        inner += [(b - a) for a, b in runs_of(p)[1:-1] if a >= lo and b <= hi]
    gaps = [b - a for p in procs for a, b in p["gaps"] if a >= lo and b <= hi]
    if inner:
        res["slice_ms_median"] = statistics.median(inner) / 1e6
        res["slice_ms_p10_p90"] = [sorted(inner)[len(inner) // 10] / 1e6, sorted(inner)[len(inner) * 9 // 10] / 1e6]
    if gaps:
        res["gap_ms_median"] = statistics.median(gaps) / 1e6
        res["gaps"] = len(gaps)
    # Busy time of all processes together inside the window, and the switches in it.
    busy = sum(max(0, min(b, hi) - max(a, lo)) for p in procs for a, b in runs_of(p))
    switches = sum(1 for p in procs for a, b in p["gaps"] if lo <= a and b <= hi)
    res["busy_fraction"] = busy / (hi - lo) if hi > lo else None
    if len(procs) > 1 and switches:
        res["idle_per_switch_us"] = ((hi - lo) - busy) / switches / 1e3
    res["share_each"] = [sum(max(0, min(b, hi) - max(a, lo)) for a, b in runs_of(p)) / (hi - lo) for p in procs]
    return res


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(float(sys.argv[2]), float(sys.argv[3]))
        return
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    for n in (1, 2, 3):
        start_at = time.time() + 8.0
        ps = [subprocess.Popen([sys.executable, __file__, "--child", str(start_at), str(seconds)],
                               stdout=subprocess.PIPE, text=True) for _ in range(n)]
        procs = []
        for p in ps:
            out, _ = p.communicate()
            if p.returncode != 0:
                sys.exit(f"gpu-timeslice: a child failed ({p.returncode})")
            procs.append(json.loads(out.strip().splitlines()[-1]))
        res = analyse(procs)
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
