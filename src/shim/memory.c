/* SPDX-License-Identifier: MIT */
/* GPU memory: every checked allocation is reserved against the job's limit on its GPU
 * with one atomic add on memory_used (over the limit: undone, the dead processes' slots
 * reaped, tried once more, then CUDA_ERROR_OUT_OF_MEMORY), and remembered by pointer (or
 * cuMemCreate handle) in a per-process map with its size and GPU, so that its free gives
 * back exactly what it took. Frees of pointers not in the map go to the driver untouched.
 * The process's bytes are also kept in its slot of the region, so that whoever finds it
 * dead can take them out of memory_used (SIGKILL leaves nothing held).
 *
 * Sizes: the requested size; pitched allocations pitch × height (the pitch the driver
 * returned); stream-ordered allocations the memory their pool has reserved (pool.c).
 * Managed memory counts on the current device. The runner's memory_untracked (what NVML
 * sees the job hold beyond memory_used) counts against the limit too. cuMemGetInfo and
 * NVML's memory queries report the limit as the total and the limit less the job's use
 * and untracked bytes (never more than the driver's free) as free. */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/shim.h"

#define BUCKETS 1024

typedef struct Block {
        struct Block *next;
        unsigned long long key;
        uint64_t size; /* 0 for a pool's block: the pool's reservation is charged (pool.c) */
        int gpu;
        CUmemoryPool pool;
} Block;

static struct {
        pthread_mutex_t lock;
        Block *bucket[BUCKETS];
        int slot; /* our proc slot, -1 none yet, -2 none to be had */
} M = {.lock = PTHREAD_MUTEX_INITIALIZER, .slot = -1};

static size_t bucket_of(unsigned long long key) {
        return (size_t)((key >> 12) * UINT64_C(0x9E3779B97F4A7C15) >> 54) % BUCKETS;
}

/* Claims a free slot of the region for this process (CAS on pid 0), once. Lock held. */
static GpuRegionProc *my_slot(void) {
        GpuRegion *r = shim.region;
        if (M.slot == -1) {
                M.slot = -2;
                int32_t me = (int32_t)getpid();
                for (int pass = 0; pass < 2 && M.slot < 0; pass++) {
                        for (int k = 0; k < GPU_REGION_PROCS; k++) {
                                int32_t free_pid = 0;
                                if (atomic_compare_exchange_strong(&r->proc[k].pid, &free_pid, me)) {
                                        M.slot = k;
                                        atomic_fetch_add(&r->procs_claimed, 1);
                                        break;
                                }
                        }
                        if (M.slot < 0)
                                gpu_region_reap(r);
                }
        }
        return M.slot >= 0 ? &r->proc[M.slot] : NULL;
}

/* Moves delta bytes in or out of this process's slot (the pools' reservations). */
void shim_slot_add(int gpu, int64_t delta) {
        pthread_mutex_lock(&M.lock);
        GpuRegionProc *p = my_slot();
        if (p)
                atomic_fetch_add(&p->memory_bytes[gpu], (uint64_t)delta);
        pthread_mutex_unlock(&M.lock);
}

/* Reserves size bytes of the job's limit on gpu: what the shim accounted plus what the
 * runner measured beside it (memory_untracked: contexts, libraries) must stay within
 * the limit. */
bool shim_reserve(int gpu, uint64_t size) {
        GpuRegionGpu *g = &shim.region->gpu[gpu];
        uint64_t limit = g->memory_limit;
        for (int pass = 0; pass < 2; pass++) {
                uint64_t before = atomic_fetch_add(&g->memory_used, size);
                uint64_t untracked = atomic_load_explicit(&g->memory_untracked, memory_order_relaxed);
                if (limit == 0 || (before + size <= limit && untracked <= limit - before - size)) {
                        uint64_t peak = atomic_load(&g->memory_peak);
                        while (before + size > peak && !atomic_compare_exchange_weak(&g->memory_peak, &peak, before + size))
                                ;
                        return true;
                }
                atomic_fetch_sub(&g->memory_used, size);
                if (pass == 0 && gpu_region_reap(shim.region) == 0)
                        break; /* nobody dead: nothing will change */
        }
        atomic_fetch_add(&g->memory_refused, 1);
        return false;
}

void shim_unreserve(int gpu, uint64_t size) {
        atomic_fetch_sub(&shim.region->gpu[gpu].memory_used, size);
}

void shim_remember(unsigned long long key, uint64_t size, int gpu, CUmemoryPool pool) {
        Block *b = malloc(sizeof *b);
        pthread_mutex_lock(&M.lock);
        GpuRegionProc *p = size ? my_slot() : NULL;
        if (p)
                atomic_fetch_add(&p->memory_bytes[gpu], size);
        if (b) {
                /* Without memory for the map entry the bytes stay charged until exit: safe. */
                *b = (Block){.next = M.bucket[bucket_of(key)], .key = key, .size = size, .gpu = gpu, .pool = pool};
                M.bucket[bucket_of(key)] = b;
        }
        pthread_mutex_unlock(&M.lock);
}

static Block *take(unsigned long long key) {
        pthread_mutex_lock(&M.lock);
        Block *found = NULL;
        for (Block **b = &M.bucket[bucket_of(key)]; *b; b = &(*b)->next)
                if ((*b)->key == key) {
                        found = *b;
                        *b = found->next;
                        break;
                }
        pthread_mutex_unlock(&M.lock);
        return found;
}

static void put_back(Block *b) {
        pthread_mutex_lock(&M.lock);
        b->next = M.bucket[bucket_of(b->key)];
        M.bucket[bucket_of(b->key)] = b;
        pthread_mutex_unlock(&M.lock);
}

static void release(Block *b) {
        pthread_mutex_lock(&M.lock);
        GpuRegionProc *p = M.slot >= 0 ? &shim.region->proc[M.slot] : NULL;
        if (p)
                atomic_fetch_sub(&p->memory_bytes[b->gpu], b->size);
        pthread_mutex_unlock(&M.lock);
        shim_unreserve(b->gpu, b->size);
        if (b->pool)
                shim_pool_settle(b->pool, b->gpu); /* the free may have shrunk it */
        free(b);
}

/* The GPU the allocation goes to, -1: not accounted (no region, not a job GPU). */
int shim_alloc_gpu(void) {
        shim_init();
        return shim.region ? shim_current_gpu() : -1;
}

/* An allocation of known size: reserve, allocate, remember (or give the reservation
 * back). */
#define CHECKED_ALLOC(gpu, size, key_ptr, call)                                                                    \
        ({                                                                                                         \
                CUresult _r;                                                                                       \
                int _g = (gpu);                                                                                    \
                uint64_t _size = (size);                                                                           \
                if (_g < 0)                                                                                        \
                        _r = (call);                                                                               \
                else if (!shim_reserve(_g, _size))                                                                      \
                        _r = CUDA_ERROR_OUT_OF_MEMORY;                                                             \
                else if ((_r = (call)) == CUDA_SUCCESS)                                                            \
                        shim_remember(*(key_ptr), _size, _g, NULL);                                                           \
                else                                                                                               \
                        shim_unreserve(_g, _size);                                                                      \
                _r;                                                                                                \
        })

#define R shim.real

SHIM_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *ptr, size_t size) {
        int g = shim_alloc_gpu();
        NOT_LOADED(cuMemAlloc_v2);
        if (!ptr || size == 0)
                return R.cuMemAlloc_v2(ptr, size);
        return CHECKED_ALLOC(g, size, ptr, R.cuMemAlloc_v2(ptr, size));
}

SHIM_EXPORT CUresult cuMemAllocManaged(CUdeviceptr *ptr, size_t size, unsigned flags) {
        int g = shim_alloc_gpu();
        NOT_LOADED(cuMemAllocManaged);
        if (!ptr || size == 0)
                return R.cuMemAllocManaged(ptr, size, flags);
        return CHECKED_ALLOC(g, size, ptr, R.cuMemAllocManaged(ptr, size, flags));
}

/* The pitch is the driver's choice: allocate, then charge pitch × height, and free it
 * again when that is over the limit. */
SHIM_EXPORT CUresult cuMemAllocPitch_v2(CUdeviceptr *ptr, size_t *pitch, size_t width, size_t height,
                                        unsigned elem) {
        int g = shim_alloc_gpu();
        NOT_LOADED(cuMemAllocPitch_v2);
        CUresult r = R.cuMemAllocPitch_v2(ptr, pitch, width, height, elem);
        if (r != CUDA_SUCCESS || g < 0)
                return r;
        uint64_t size = (uint64_t)*pitch * height;
        if (!shim_reserve(g, size)) {
                if (R.cuMemFree_v2)
                        R.cuMemFree_v2(*ptr);
                return CUDA_ERROR_OUT_OF_MEMORY;
        }
        shim_remember(*ptr, size, g, NULL);
        return r;
}

/* Physical memory of the virtual memory API: on the device its properties name. */
SHIM_EXPORT CUresult cuMemCreate(CUmemGenericAllocationHandle *h, size_t size, const CUmemAllocationPropHead *prop,
                                 unsigned long long flags) {
        shim_init();
        NOT_LOADED(cuMemCreate);
        int g = -1;
        if (shim.region && h && prop && size > 0 && prop->location_type == CU_MEM_LOCATION_TYPE_DEVICE)
                g = shim_device_gpu(prop->location_id);
        return CHECKED_ALLOC(g, size, h, R.cuMemCreate(h, size, prop, flags));
}

/* A free of something we accounted: the driver first, then the bytes (a refused free
 * keeps them). */
#define ACCOUNTED_FREE(key, call)                                                                                  \
        ({                                                                                                         \
                shim_init();                                                                                       \
                Block *_b = shim.region ? take(key) : NULL;                                                        \
                CUresult _r = (call);                                                                              \
                if (_b && _r == CUDA_SUCCESS)                                                                      \
                        release(_b);                                                                               \
                else if (_b)                                                                                       \
                        put_back(_b);                                                                              \
                _r;                                                                                                \
        })

SHIM_EXPORT CUresult cuMemFree_v2(CUdeviceptr ptr) {
        shim_init();
        NOT_LOADED(cuMemFree_v2);
        return ACCOUNTED_FREE(ptr, R.cuMemFree_v2(ptr));
}

/* Stream-ordered frees: the pool's reservation is settled after (release()). */
SHIM_EXPORT CUresult cuMemFreeAsync(CUdeviceptr ptr, CUstream s) {
        shim_init();
        NOT_LOADED(cuMemFreeAsync);
        return ACCOUNTED_FREE(ptr, R.cuMemFreeAsync(ptr, s));
}

SHIM_EXPORT CUresult cuMemFreeAsync_ptsz(CUdeviceptr ptr, CUstream s) {
        shim_init();
        NOT_LOADED(cuMemFreeAsync_ptsz);
        return ACCOUNTED_FREE(ptr, R.cuMemFreeAsync_ptsz(ptr, s));
}

SHIM_EXPORT CUresult cuMemRelease(CUmemGenericAllocationHandle h) {
        shim_init();
        NOT_LOADED(cuMemRelease);
        return ACCOUNTED_FREE(h, R.cuMemRelease(h));
}

/* The job's view of gpu: total = limit, free = limit − used − untracked (never below 0),
 * at most the real free. */
static void job_view(int gpu, uint64_t *free_bytes, uint64_t *total) {
        if (gpu < 0)
                return;
        GpuRegionGpu *g = &shim.region->gpu[gpu];
        if (g->memory_limit == 0)
                return;
        uint64_t used = atomic_load(&g->memory_used);
        uint64_t untracked = atomic_load_explicit(&g->memory_untracked, memory_order_relaxed);
        uint64_t f = used < g->memory_limit ? g->memory_limit - used : 0;
        f = untracked < f ? f - untracked : 0;
        *total = g->memory_limit;
        if (f < *free_bytes)
                *free_bytes = f;
}

/* The job's view of the current device, from the driver's answer. */
static CUresult meminfo(uint64_t *free_bytes, uint64_t *total) {
        int g = shim_alloc_gpu();
        shim_pools_settle(); /* a pool may have released memory since */
        NOT_LOADED(cuMemGetInfo_v2);
        size_t f, t;
        CUresult r = R.cuMemGetInfo_v2(&f, &t);
        if (r == CUDA_SUCCESS) {
                *free_bytes = f;
                *total = t;
                job_view(g, free_bytes, total);
        }
        return r;
}

SHIM_EXPORT CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total) {
        uint64_t f, t;
        CUresult r = meminfo(&f, &t);
        if (r == CUDA_SUCCESS && free_bytes)
                *free_bytes = (size_t)f;
        if (r == CUDA_SUCCESS && total)
                *total = (size_t)t;
        return r;
}

/* The CUDA 3.0 ABI (32-bit sizes), clamped like the driver's; answered from _v2, which
 * every driver that has cuMemGetInfo also has. */
SHIM_EXPORT CUresult cuMemGetInfo(unsigned *free_bytes, unsigned *total) {
        uint64_t f, t;
        CUresult r = meminfo(&f, &t);
        if (r == CUDA_SUCCESS && free_bytes)
                *free_bytes = f > UINT32_MAX ? UINT32_MAX : (unsigned)f;
        if (r == CUDA_SUCCESS && total)
                *total = t > UINT32_MAX ? UINT32_MAX : (unsigned)t;
        return r;
}

/* ---- NVML ---- */

void shim_nvml_load(void) {
        if (R.nvmlDeviceGetMemoryInfo)
                return;
        void *h = dlopen("libnvidia-ml.so.1", RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
        if (!h)
                return; /* not loaded by the program (yet): nothing of it to answer */
        for (size_t i = 0; i < shim_memory_n; i++)
                if (strncmp(shim_memory_syms[i].name, "nvml", 4) == 0)
                        /* The handle's own definition, never ours. */
                        *shim_memory_syms[i].real = shim_real_dlsym(h, shim_memory_syms[i].name);
}

/* The job's GPU index of an NVML device, by UUID; -1 none. */
static int nvml_gpu(nvmlDevice_t dev) {
        char uuid[96];
        if (!shim.region || !R.nvmlDeviceGetUUID || R.nvmlDeviceGetUUID(dev, uuid, sizeof uuid) != NVML_SUCCESS)
                return -1;
        for (unsigned i = 0; i < shim.n_gpus; i++)
                if (strncmp(uuid, shim.region->gpu[i].uuid, sizeof uuid) == 0)
                        return (int)i;
        return -1;
}

/* NVML's answer for dev turned into the job's view; used is what is not free (less
 * what the driver reserves, for _v2). */
static void nvml_view(nvmlDevice_t dev, unsigned long long *free_bytes, unsigned long long *total,
                      unsigned long long *used, unsigned long long reserved) {
        uint64_t f = *free_bytes, t = *total;
        job_view(nvml_gpu(dev), &f, &t);
        *free_bytes = f;
        *total = t;
        *used = t - f > reserved ? t - f - reserved : 0;
}

SHIM_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t dev, nvmlMemory_t *m) {
        shim_init();
        shim_nvml_load();
        if (!R.nvmlDeviceGetMemoryInfo)
                return 12; /* NVML_ERROR_FUNCTION_NOT_FOUND */
        nvmlReturn_t r = R.nvmlDeviceGetMemoryInfo(dev, m);
        if (r == NVML_SUCCESS && m)
                nvml_view(dev, &m->free, &m->total, &m->used, 0);
        return r;
}

SHIM_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t dev, nvmlMemory_v2_t *m) {
        shim_init();
        shim_nvml_load();
        if (!R.nvmlDeviceGetMemoryInfo_v2)
                return 12;
        nvmlReturn_t r = R.nvmlDeviceGetMemoryInfo_v2(dev, m);
        if (r == NVML_SUCCESS && m)
                nvml_view(dev, &m->free, &m->total, &m->used, m->reserved);
        return r;
}

/* A process that exits normally gives its slot back at once (the driver frees its memory
 * with its context); one killed leaves it to whoever reaps it. */
__attribute__((destructor)) static void memory_exit(void) {
        if (shim.region && M.slot >= 0)
                gpu_region_release_proc(shim.region, &shim.region->proc[M.slot], (int32_t)getpid());
}

void shim_memory_forget(void) {
        /* The parent's allocations are the parent's (its slot keeps them). */
        memset(M.bucket, 0, sizeof M.bucket);
        M.slot = -1;
        pthread_mutex_init(&M.lock, NULL);
}

const ShimSym shim_memory_syms[] = {
        WRAP(cuMemAlloc_v2),
        WRAP(cuMemAllocPitch_v2),
        WRAP(cuMemAllocManaged),
        WRAP(cuMemFree_v2),
        WRAP(cuMemFreeAsync),
        WRAP(cuMemFreeAsync_ptsz),
        WRAP(cuMemCreate),
        WRAP(cuMemRelease),
        WRAP(cuMemGetInfo_v2),
        WRAP(cuMemGetInfo),
        WRAP(nvmlDeviceGetMemoryInfo),
        WRAP(nvmlDeviceGetMemoryInfo_v2),
        {"nvmlDeviceGetUUID", (void **)&shim.real.nvmlDeviceGetUUID, NULL},
};
const size_t shim_memory_n = sizeof shim_memory_syms / sizeof shim_memory_syms[0];
