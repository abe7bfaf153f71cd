/* SPDX-License-Identifier: MIT */
/* Stream-ordered allocations (cuMemAllocAsync, cuMemAllocFromPoolAsync): a pool keeps
 * the memory of freed blocks for reuse, so what a job holds on the GPU is what its pools
 * have reserved, not what its live blocks add up to. The job is charged each pool's
 * reservation (CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT), read after every allocation and
 * free from it and at every memory query: growth is reserved against the limit (over it:
 * the block is freed, the pool trimmed back to what was charged, and the allocation fails
 * with CUDA_ERROR_OUT_OF_MEMORY), shrinking gives the bytes back. Without the pool API
 * (an old driver) a block is charged its requested size instead. */
#include <pthread.h>
#include <string.h>

#include "shim/shim.h"

#define POOLS 64

static struct {
        pthread_mutex_t lock;
        unsigned n;
        struct {
                CUmemoryPool pool;
                int gpu;
                uint64_t charged;
        } p[POOLS];
} PA = {.lock = PTHREAD_MUTEX_INITIALIZER};

#define R shim.real

static uint64_t *charged_of(CUmemoryPool pool, int gpu) {
        for (unsigned i = 0; i < PA.n; i++)
                if (PA.p[i].pool == pool)
                        return &PA.p[i].charged;
        if (PA.n == POOLS)
                return NULL;
        PA.p[PA.n].pool = pool;
        PA.p[PA.n].gpu = gpu;
        PA.p[PA.n].charged = 0;
        return &PA.p[PA.n++].charged;
}

/* Lock held. */
static bool settle_locked(CUmemoryPool pool, int gpu) {
        uint64_t reserved;
        if (R.cuMemPoolGetAttribute(pool, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT, &reserved) != CUDA_SUCCESS)
                return true;
        uint64_t *charged = charged_of(pool, gpu);
        if (!charged)
                return true; /* more pools than we follow: their blocks are not charged */
        if (reserved > *charged) {
                if (!shim_reserve(gpu, reserved - *charged))
                        return false;
                shim_slot_add(gpu, (int64_t)(reserved - *charged));
        } else if (reserved < *charged) {
                shim_unreserve(gpu, *charged - reserved);
                shim_slot_add(gpu, -(int64_t)(*charged - reserved));
        }
        *charged = reserved;
        return true;
}

bool shim_pool_settle(CUmemoryPool pool, int gpu) {
        if (!R.cuMemPoolGetAttribute)
                return true;
        pthread_mutex_lock(&PA.lock);
        bool ok = settle_locked(pool, gpu);
        pthread_mutex_unlock(&PA.lock);
        return ok;
}

void shim_pools_settle(void) {
        if (!R.cuMemPoolGetAttribute || !shim.region)
                return;
        pthread_mutex_lock(&PA.lock);
        for (unsigned i = 0; i < PA.n; i++)
                settle_locked(PA.p[i].pool, PA.p[i].gpu);
        pthread_mutex_unlock(&PA.lock);
}

/* After the driver allocated from pool: charge its growth, or undo the allocation. */
static CUresult pooled(CUresult r, int gpu, CUmemoryPool pool, CUdeviceptr *ptr, size_t size, CUstream s,
                       bool ptsz) {
        if (r != CUDA_SUCCESS || gpu < 0)
                return r;
        if (!pool || !R.cuMemPoolGetAttribute) {
                /* No pool API: the block's size, like a cuMemAlloc (checked after the fact). */
                if (!shim_reserve(gpu, size)) {
                        CUresult (*free_async)(CUdeviceptr, CUstream) = ptsz ? R.cuMemFreeAsync_ptsz
                                                                             : R.cuMemFreeAsync;
                        if (free_async)
                                free_async(*ptr, s);
                        return CUDA_ERROR_OUT_OF_MEMORY;
                }
                shim_remember(*ptr, size, gpu, NULL);
                return r;
        }
        pthread_mutex_lock(&PA.lock);
        bool ok = settle_locked(pool, gpu);
        if (!ok) {
                CUresult (*free_async)(CUdeviceptr, CUstream) = ptsz ? R.cuMemFreeAsync_ptsz : R.cuMemFreeAsync;
                uint64_t *charged = charged_of(pool, gpu);
                if (free_async)
                        free_async(*ptr, s);
                if (R.cuMemPoolTrimTo && charged)
                        R.cuMemPoolTrimTo(pool, *charged);
                settle_locked(pool, gpu); /* only lower now */
        }
        pthread_mutex_unlock(&PA.lock);
        if (!ok)
                return CUDA_ERROR_OUT_OF_MEMORY;
        shim_remember(*ptr, 0, gpu, pool);
        return r;
}

/* The pool cuMemAllocAsync draws from: the current device's current one (asked by the
 * device's CUDA ordinal, which need not be its region index). */
static CUmemoryPool current_pool(int gpu) {
        CUmemoryPool pool = NULL;
        CUdevice d;
        if (gpu < 0 || !R.cuDeviceGetMemPool || !R.cuCtxGetDevice || R.cuCtxGetDevice(&d) != CUDA_SUCCESS ||
            R.cuDeviceGetMemPool(&pool, d) != CUDA_SUCCESS)
                return NULL;
        return pool;
}


SHIM_EXPORT CUresult cuMemAllocAsync(CUdeviceptr *ptr, size_t size, CUstream s) {
        int g = shim_alloc_gpu();
        NOT_LOADED(cuMemAllocAsync);
        return pooled(R.cuMemAllocAsync(ptr, size, s), g, current_pool(g), ptr, size, s, false);
}

SHIM_EXPORT CUresult cuMemAllocAsync_ptsz(CUdeviceptr *ptr, size_t size, CUstream s) {
        int g = shim_alloc_gpu();
        NOT_LOADED(cuMemAllocAsync_ptsz);
        return pooled(R.cuMemAllocAsync_ptsz(ptr, size, s), g, current_pool(g), ptr, size, s, true);
}

SHIM_EXPORT CUresult cuMemAllocFromPoolAsync(CUdeviceptr *ptr, size_t size, CUmemoryPool pool, CUstream s) {
        int g = shim_alloc_gpu();
        NOT_LOADED(cuMemAllocFromPoolAsync);
        return pooled(R.cuMemAllocFromPoolAsync(ptr, size, pool, s), g, pool, ptr, size, s, false);
}

SHIM_EXPORT CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *ptr, size_t size, CUmemoryPool pool, CUstream s) {
        int g = shim_alloc_gpu();
        NOT_LOADED(cuMemAllocFromPoolAsync_ptsz);
        return pooled(R.cuMemAllocFromPoolAsync_ptsz(ptr, size, pool, s), g, pool, ptr, size, s, true);
}

void shim_pool_forget(void) {
        memset(&PA, 0, sizeof PA);
        pthread_mutex_init(&PA.lock, NULL);
}

const ShimSym shim_pool_syms[] = {
        WRAP(cuMemAllocAsync),
        WRAP(cuMemAllocAsync_ptsz),
        WRAP(cuMemAllocFromPoolAsync),
        WRAP(cuMemAllocFromPoolAsync_ptsz),
};
const size_t shim_pool_n = sizeof shim_pool_syms / sizeof shim_pool_syms[0];
