/* SPDX-License-Identifier: MIT */
/* shim-real N: the CPU cost of cuLaunchKernel on the real driver, in ns per launch, for an
 * empty kernel (PTX, compiled by the driver: no CUDA toolkit). Launches go in batches of
 * 256 (well under the driver's queue, so a launch never waits for the GPU); only the
 * launch calls are timed, the synchronisation after each batch is not. Best of 5 rounds of
 * N launches. bench/gpu-device-check.sh runs it as a corun job without the shim, with the
 * shim counting only (share 100) and with the shim capped but never throttled (share 99),
 * in the same script: the difference is the shim's cost on a real driver. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gpu/gpu-dl.h"

static const char empty_ptx[] = ".version 6.0\n.target sm_50\n.address_size 64\n"
                                ".visible .entry corun_empty()\n{\n        ret;\n}\n";

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int check(const char *what, int r) {
        if (r != 0) {
                fprintf(stderr, "shim-real: %s failed: CUDA error %d\n", what, r);
                exit(1);
        }
        return r;
}

int main(int argc, char **argv) {
        unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
        char *why = NULL;
        const GpuCuda *cu = gpu_cuda(&why);
        if (!cu) {
                fprintf(stderr, "shim-real: no CUDA driver: %s\n", why);
                return 1;
        }
        CuDevice dev;
        CuContext ctx;
        CuModule mod;
        CuFunction fn;
        check("cuDeviceGet", cu->device_get(&dev, 0));
        check("cuDevicePrimaryCtxRetain", cu->primary_ctx_retain(&ctx, dev));
        check("cuCtxSetCurrent", cu->ctx_set_current(ctx));
        check("cuModuleLoadData", cu->module_load_data(&mod, empty_ptx));
        check("cuModuleGetFunction", cu->module_get_function(&fn, mod, "corun_empty"));
        for (int i = 0; i < 1000; i++)
                check("cuLaunchKernel", cu->launch_kernel(fn, 1, 1, 1, 32, 1, 1, 0, NULL, NULL, NULL));
        check("cuCtxSynchronize", cu->ctx_synchronize());
        double best = 1e30;
        for (int round = 0; round < 5; round++) {
                uint64_t spent = 0;
                for (unsigned long i = 0; i < n; i += 256) {
                        uint64_t t0 = now_ns();
                        for (int k = 0; k < 256; k++)
                                check("cuLaunchKernel",
                                      cu->launch_kernel(fn, 1, 1, 1, 32, 1, 1, 0, NULL, NULL, NULL));
                        spent += now_ns() - t0;
                        check("cuCtxSynchronize", cu->ctx_synchronize());
                }
                double ns = (double)spent / (double)((n + 255) / 256 * 256);
                if (ns < best)
                        best = ns;
        }
        printf("shim-real: %.1f ns per cuLaunchKernel (best of 5 rounds of %lu)\n", best, n);
        return 0;
}
