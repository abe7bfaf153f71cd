/* SPDX-License-Identifier: MIT */
#pragma once

/* The shim libcorun-cuda.so (docs/gpu.md "The shim"): what its files share. shim.c loads
 * the real driver and maps the region at the first driver call, answers the look-ups
 * (dlsym, cuGetProcAddress) with our wrappers, and resets per-process state in a forked
 * child; launch.c charges launches to the job's bucket; memory.c checks and accounts
 * allocations and virtualises the memory queries. Every symbol is hidden except the
 * interposed entry points (SHIM_EXPORT). */
#include <stdatomic.h>
#include <stdbool.h>

#include "gpu/region.h"
#include "shim/cuda-min.h"

#define SHIM_EXPORT __attribute__((visibility("default")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
/* Per-thread state without __tls_get_addr: the shim is preloaded, so it has static TLS. */
#define SHIM_TLS __thread __attribute__((tls_model("initial-exec")))

/* The real driver's entry points the shim calls (NULL: absent from this driver). */
typedef struct ShimReal {
        CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                                   CUstream, void **, void **);
        CUresult (*cuLaunchKernel_ptsz)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                                        unsigned, CUstream, void **, void **);
        CUresult (*cuLaunchKernelEx)(const CUlaunchConfig *, CUfunction, void **, void **);
        CUresult (*cuLaunchKernelEx_ptsz)(const CUlaunchConfig *, CUfunction, void **, void **);
        CUresult (*cuLaunchCooperativeKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned,
                                              unsigned, unsigned, CUstream, void **);
        CUresult (*cuLaunchCooperativeKernel_ptsz)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned,
                                                   unsigned, unsigned, CUstream, void **);
        CUresult (*cuGraphLaunch)(CUgraphExec, CUstream);
        CUresult (*cuGraphLaunch_ptsz)(CUgraphExec, CUstream);
        CUresult (*cuGetProcAddress)(const char *, void **, int, unsigned long long);
        CUresult (*cuGetProcAddress_v2)(const char *, void **, int, unsigned long long, int *);

        CUresult (*cuMemAlloc_v2)(CUdeviceptr *, size_t);
        CUresult (*cuMemAllocPitch_v2)(CUdeviceptr *, size_t *, size_t, size_t, unsigned);
        CUresult (*cuMemAllocManaged)(CUdeviceptr *, size_t, unsigned);
        CUresult (*cuMemAllocAsync)(CUdeviceptr *, size_t, CUstream);
        CUresult (*cuMemAllocAsync_ptsz)(CUdeviceptr *, size_t, CUstream);
        CUresult (*cuMemAllocFromPoolAsync)(CUdeviceptr *, size_t, CUmemoryPool, CUstream);
        CUresult (*cuMemAllocFromPoolAsync_ptsz)(CUdeviceptr *, size_t, CUmemoryPool, CUstream);
        CUresult (*cuMemFree_v2)(CUdeviceptr);
        CUresult (*cuMemFreeAsync)(CUdeviceptr, CUstream);
        CUresult (*cuMemFreeAsync_ptsz)(CUdeviceptr, CUstream);
        CUresult (*cuMemCreate)(CUmemGenericAllocationHandle *, size_t, const CUmemAllocationPropHead *,
                                unsigned long long);
        CUresult (*cuMemRelease)(CUmemGenericAllocationHandle);
        CUresult (*cuMemGetInfo_v2)(size_t *, size_t *);
        CUresult (*cuMemGetInfo)(unsigned *, unsigned *); /* mapped, never called */

        /* Called, never wrapped. */
        CUresult (*cuCtxGetCurrent)(CUcontext *);
        CUresult (*cuCtxGetDevice)(CUdevice *);
        CUresult (*cuDeviceGetUuid)(CUuuid *, CUdevice);
        CUresult (*cuDeviceGetUuid_v2)(CUuuid *, CUdevice);
        CUresult (*cuStreamIsCapturing)(CUstream, int *);
        CUresult (*cuStreamIsCapturing_ptsz)(CUstream, int *);
        CUresult (*cuEventCreate)(CUevent *, unsigned);
        CUresult (*cuEventRecord)(CUevent, CUstream);
        CUresult (*cuEventRecord_ptsz)(CUevent, CUstream);
        CUresult (*cuEventQuery)(CUevent);
        CUresult (*cuEventSynchronize)(CUevent);
        CUresult (*cuEventElapsedTime)(float *, CUevent, CUevent);
        CUresult (*cuDeviceGetMemPool)(CUmemoryPool *, CUdevice);
        CUresult (*cuMemPoolGetAttribute)(CUmemoryPool, int, void *);
        CUresult (*cuMemPoolTrimTo)(CUmemoryPool, size_t);

        CUresult (*cuStreamEndCapture)(CUstream, CUgraph *);
        CUresult (*cuStreamEndCapture_ptsz)(CUstream, CUgraph *);
        CUresult (*cuGraphInstantiateWithFlags)(CUgraphExec *, CUgraph, unsigned long long);
        CUresult (*cuGraphInstantiateWithParams)(CUgraphExec *, CUgraph, void *);
        CUresult (*cuGraphInstantiateWithParams_ptsz)(CUgraphExec *, CUgraph, void *);

        nvmlReturn_t (*nvmlDeviceGetMemoryInfo)(nvmlDevice_t, nvmlMemory_t *);
        nvmlReturn_t (*nvmlDeviceGetMemoryInfo_v2)(nvmlDevice_t, nvmlMemory_v2_t *);
        nvmlReturn_t (*nvmlDeviceGetUUID)(nvmlDevice_t, char *, unsigned);
} ShimReal;

typedef struct Shim {
        _Atomic bool ready; /* shim_init() has run */
        GpuRegion *region;  /* NULL: no (valid) region, everything passes through */
        unsigned n_gpus;
        ShimReal real;
} Shim;

extern Shim shim;

/* In a wrapper: the driver lacks the entry point the program called (through us). */
#define NOT_LOADED(f)                                                                                              \
        if (unlikely(!shim.real.f))                                                                                \
        return CUDA_ERROR_NOT_INITIALIZED

/* Loads the real driver and maps the region, once; cheap after the first call. */
void shim_init_slow(void);
static inline void shim_init(void) {
        if (unlikely(!atomic_load_explicit(&shim.ready, memory_order_acquire)))
                shim_init_slow();
}

/* The job's GPU index of the current context's device (per-thread cache), -1 when it
 * is not one of the region's. Devices are matched to region entries by UUID, not by
 * ordinal: a process may narrow CUDA_VISIBLE_DEVICES itself (rank k sees only the
 * job's k-th GPU, as its ordinal 0). */
int shim_current_gpu(void);
/* The job's GPU index of CUDA device ordinal d (cached per ordinal), -1 none. */
int shim_device_gpu(CUdevice d);

uint64_t shim_now_ns(void);

/* One entry point: its name, where its real address goes, our wrapper (NULL: called,
 * never wrapped). Each file lists those it wraps; shim.c loads and maps them all. */
typedef struct ShimSym {
        const char *name;
        void **real;
        void *wrapper;
} ShimSym;
#define WRAP(name) {#name, (void **)&shim.real.name, (void *)name}
extern const ShimSym shim_launch_syms[], shim_memory_syms[], shim_lookup_syms[];
extern const size_t shim_launch_n, shim_memory_n, shim_lookup_n;

/* The libc dlsym (ours answers the program). */
void *shim_real_dlsym(void *handle, const char *name);

/* Finds NVML's real memory queries once libnvidia-ml.so.1 is loaded (memory.c). */
void shim_nvml_load(void);

/* memory.c, for pool.c: the job's limit on a GPU (shim_reserve false: refused and
 * counted), this process's slot, its map of allocations (size 0 with a pool: the pool's
 * reservation is what counts), the GPU of an allocation now (-1: not accounted). */
bool shim_reserve(int gpu, uint64_t size);
void shim_unreserve(int gpu, uint64_t size);
void shim_slot_add(int gpu, int64_t delta);
void shim_remember(unsigned long long key, uint64_t size, int gpu, CUmemoryPool pool);
int shim_alloc_gpu(void);
/* pool.c: brings the job's charge for a pool (all pools) to what it has reserved now;
 * false when that is over the limit (nothing more charged). */
bool shim_pool_settle(CUmemoryPool pool, int gpu);
void shim_pools_settle(void);
void shim_pool_forget(void);
extern const ShimSym shim_pool_syms[];
extern const size_t shim_pool_n;

/* launch.c, for graph.c: the estimates of the launches this thread captured since the
 * last call; a cost for a key not measured yet. */
int64_t shim_capture_take(void);
void shim_cost_seed(const void *key, int64_t ns);
extern const ShimSym shim_graph_syms[];
extern const size_t shim_graph_n;
void shim_graph_forget(void);

/* Forked child: forget the parent's per-process state (launch.c, memory.c). */
void shim_launch_forget(void);
void shim_memory_forget(void);
