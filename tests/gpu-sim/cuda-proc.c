/* SPDX-License-Identifier: MIT */
/* The fake driver's cuGetProcAddress (CUDA 11.3) and cuGetProcAddress_v2 (12.0): the
 * symbol of the ABI the caller's CUDA version asks for (cuMemAlloc → cuMemAlloc_v2 from
 * 3.2, cuEventElapsedTime → _v2 from 12.8), and with the per-thread default stream flag
 * the _ptsz form where there is one, as the real driver does. They look up their own
 * exports, so the addresses are those of the exported symbols (what the shim maps), except
 * cuLaunchKernel under CORUN_GPU_SIM_PRIVATE_LAUNCH=1: a private entry point, as a driver
 * that hands out internal addresses would (the shim must notice, tests/integration/gpu). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda-fake.h"

enum {
        PROC_PER_THREAD_DEFAULT_STREAM = 2, /* CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM */
        PROC_SUCCESS = 0,                   /* CUdriverProcAddressQueryResult */
        PROC_SYMBOL_NOT_FOUND = 1,
        PROC_VERSION_NOT_SUFFICIENT = 2,
};

/* Names whose ABI changed: from `since`, the symbol is name + suffix. */
static const struct {
        const char *name, *suffix;
        int since;
} versioned[] = {
        {"cuMemAlloc", "_v2", 3020},          {"cuMemFree", "_v2", 3020},
        {"cuMemAllocPitch", "_v2", 3020},     {"cuMemGetInfo", "_v2", 3020},
        {"cuCtxCreate", "_v2", 3020},         {"cuStreamDestroy", "_v2", 4000},
        {"cuEventDestroy", "_v2", 4000},      {"cuDevicePrimaryCtxRelease", "_v2", 11000},
        {"cuStreamBeginCapture", "_v2", 10010}, {"cuGetProcAddress", "_v2", 12000},
        {"cuEventElapsedTime", "_v2", 12080}, {"cuDeviceGetUuid", "_v2", 11040},
};

/* The version a name first exists in (those the tests care about). */
static const struct {
        const char *name;
        int since;
} introduced[] = {
        {"cuLaunchKernel", 4000},   {"cuLaunchCooperativeKernel", 9000}, {"cuGraphLaunch", 10000},
        {"cuLaunchKernelEx", 11060}, {"cuMemAllocAsync", 11020},         {"cuGetProcAddress", 11030},
};

static void *self(void) {
        static void *h;
        if (!h) {
                Dl_info info;
                if (dladdr((void *)self, &info) && info.dli_fname)
                        h = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
        }
        return h;
}

static CUresult proc_address(const char *symbol, void **ret, int version, unsigned long long flags,
                             int *status) {
        if (!symbol || !ret)
                return CUDA_ERROR_INVALID_VALUE;
        *ret = NULL;
        for (size_t i = 0; i < sizeof introduced / sizeof introduced[0]; i++)
                if (strcmp(introduced[i].name, symbol) == 0 && version < introduced[i].since) {
                        *status = PROC_VERSION_NOT_SUFFICIENT;
                        return CUDA_ERROR_NOT_FOUND;
                }
        const char *priv = getenv("CORUN_GPU_SIM_PRIVATE_LAUNCH");
        if (priv && strcmp(priv, "1") == 0 && strcmp(symbol, "cuLaunchKernel") == 0) {
                *status = PROC_SUCCESS;
                *ret = (void *)fake_private_launch_kernel;
                return CUDA_SUCCESS;
        }
        char name[128];
        snprintf(name, sizeof name, "%s", symbol);
        for (size_t i = 0; i < sizeof versioned / sizeof versioned[0]; i++)
                if (strcmp(versioned[i].name, symbol) == 0 && version >= versioned[i].since)
                        snprintf(name, sizeof name, "%s%s", symbol, versioned[i].suffix);
        void *h = self(), *p = NULL;
        if (!h) {
                *status = PROC_SYMBOL_NOT_FOUND;
                return CUDA_ERROR_NOT_FOUND;
        }
        if ((flags & PROC_PER_THREAD_DEFAULT_STREAM) && version >= 7000) {
                char ptsz[140];
                snprintf(ptsz, sizeof ptsz, "%s_ptsz", name);
                p = dlsym(h, ptsz);
        }
        if (!p)
                p = dlsym(h, name);
        if (!p) {
                *status = PROC_SYMBOL_NOT_FOUND;
                return CUDA_ERROR_NOT_FOUND;
        }
        *status = PROC_SUCCESS;
        *ret = p;
        return CUDA_SUCCESS;
}

EXPORT CUresult cuGetProcAddress(const char *symbol, void **ret, int version, unsigned long long flags) {
        int status;
        return proc_address(symbol, ret, version, flags, &status);
}

EXPORT CUresult cuGetProcAddress_v2(const char *symbol, void **ret, int version, unsigned long long flags,
                                    int *status) {
        int st;
        CUresult r = proc_address(symbol, ret, version, flags, &st);
        if (status)
                *status = st;
        return r;
}
