#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/gpu-torch-cap.py mem GIB | matmul SECONDS: a PyTorch program to run as a corun job
with a GPU share or memory limit (bench/gpu-device-check.sh), to check the shim on a real
CUDA runtime: PyTorch reaches the driver through cudart's cuGetProcAddress, not through
symbols, so a wrapper the look-up misses is a bypass.

mem GIB:        torch.cuda.mem_get_info() inside the job (the total must be the limit),
                an allocation of GIB - 1 GiB (fits), then one of 2 GiB more (must fail
                with torch.cuda.OutOfMemoryError).
matmul SECONDS: bf16 8192 x 8192 products back to back; prints products per second."""
import sys
import time

import torch


def mem(gib):
    free, total = torch.cuda.mem_get_info()
    print(f"torch-cap: mem_get_info free={free} total={total} limit={gib << 30}", flush=True)
    a = torch.empty((gib - 1) << 30, dtype=torch.uint8, device="cuda")
    print(f"torch-cap: allocated {(gib - 1)} GiB: ok", flush=True)
    try:
        b = torch.empty(2 << 30, dtype=torch.uint8, device="cuda")
        print(f"torch-cap: allocated 2 GiB more: NOT refused ({b.numel()})", flush=True)
    except torch.cuda.OutOfMemoryError as e:
        print(f"torch-cap: 2 GiB more refused: OutOfMemoryError: {str(e).splitlines()[0][:200]}", flush=True)
    del a


def matmul(seconds):
    x = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
    y = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
    for _ in range(3):
        x @ y
    torch.cuda.synchronize()
    print("torch-cap: phase matmul start", flush=True)
    n, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < seconds:
        for _ in range(4):
            x @ y
        torch.cuda.synchronize()
        n += 4
    dt = time.monotonic() - t0
    print("torch-cap: phase matmul end", flush=True)
    print(f"torch-cap: products={n} wall_s={dt:.3f} products_per_s={n / dt:.2f}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "mem":
        mem(int(sys.argv[2]))
    else:
        matmul(float(sys.argv[2]))
