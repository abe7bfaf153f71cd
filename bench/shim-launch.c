/* SPDX-License-Identifier: MIT */
/* shim-launch: ns per cuLaunchKernel call (bench/shim-launch.sh runs it with and without
 * the shim, against bench/stub-cuda.c's driver that does nothing).
 *   shim-launch region PATH RATE_PPM|unlimited   makes a one-GPU region (depth 100 ms)
 *   shim-launch run N                            N launches, 5 rounds: the best ns/launch */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu/region.h"

int cuInit(unsigned);
int cuLaunchKernel(void *, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void *, void **,
                   void **);

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
        if (argc == 4 && strcmp(argv[1], "region") == 0) {
                uint64_t rate = strcmp(argv[3], "unlimited") == 0 ? GPU_RATE_UNLIMITED : strtoull(argv[3], NULL, 10);
                GpuRegionGpuSpec spec = {.uuid = "GPU-bench", .rate_ppm = rate, .share_ppm = 1000000,
                                         .depth_ns = 100000000};
                GpuRegion *r;
                int e = gpu_region_create(argv[2], (uid_t)-1, (gid_t)-1, &spec, 1, &r);
                if (e < 0) {
                        fprintf(stderr, "shim-launch: cannot create %s: %s\n", argv[2], strerror(-e));
                        return 1;
                }
                gpu_region_unmap(r);
                return 0;
        }
        if (argc != 3 || strcmp(argv[1], "run") != 0) {
                fprintf(stderr, "usage: shim-launch region PATH RATE|unlimited | run N\n");
                return 2;
        }
        unsigned long n = strtoul(argv[2], NULL, 10);
        static int fn;
        cuInit(0);
        double best = 1e30;
        for (int round = 0; round < 5; round++) {
                uint64_t t0 = now_ns();
                for (unsigned long i = 0; i < n; i++)
                        cuLaunchKernel(&fn, 1, 1, 1, 32, 1, 1, 0, NULL, NULL, NULL);
                double ns = (double)(now_ns() - t0) / (double)n;
                if (ns < best)
                        best = ns;
        }
        printf("%.1f\n", best);
        return 0;
}
