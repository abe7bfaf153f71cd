/* SPDX-License-Identifier: MIT */
/* The fake driver's memory: every allocation entry point the shim checks, over one list
 * of this process's allocations (pointers and cuMemCreate handles from one counter), the
 * default pools of the stream-ordered allocator, and the memory queries. Simulated memory
 * runs out for real (CUDA_ERROR_OUT_OF_MEMORY). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cuda-fake.h"

/* Takes size bytes of the simulated device's memory for this process (size < 0: gives
 * them back). */
static CUresult device_take(int ordinal, int64_t size) {
        SimDevice *d = dev_of(ordinal);
        CUresult r = CUDA_SUCCESS;
        sim_lock(P.s);
        SimCtx *sc = sim_ctx(d, getpid(), size > 0);
        if (size < 0) {
                if (sc)
                        sc->mem_used -= (uint64_t)-size < sc->mem_used ? (uint64_t)-size : sc->mem_used;
        } else if (d->lost)
                r = CUDA_ERROR_UNKNOWN;
        else if (!sc || sim_mem_used(P.s, d) + (uint64_t)size > d->mem_total)
                r = CUDA_ERROR_OUT_OF_MEMORY;
        else
                sc->mem_used += (uint64_t)size;
        sim_unlock(P.s);
        return r;
}

/* The pool's reservation moved to what its blocks need, in granules, never under its
 * release threshold when shrinking. */
static CUresult pool_resize(Pool *pool) {
        uint64_t want = (pool->used + POOL_GRANULE - 1) / POOL_GRANULE * POOL_GRANULE;
        if (want < pool->reserved && want < pool->threshold)
                want = pool->threshold < pool->reserved ? pool->threshold : pool->reserved;
        CUresult r = device_take(pool->ordinal, (int64_t)want - (int64_t)pool->reserved);
        if (r == CUDA_SUCCESS)
                pool->reserved = want;
        return r;
}

/* Allocates size bytes on the device of CUDA ordinal `ordinal`, or from pool. */
static CUresult fake_alloc(int ordinal, Pool *pool, size_t size, CUdeviceptr *ret) {
        if (!ret || size == 0)
                return CUDA_ERROR_INVALID_VALUE;
        Alloc *a = calloc(1, sizeof *a);
        if (!a)
                return CUDA_ERROR_OUT_OF_MEMORY;
        CUresult r;
        if (pool) {
                pool->used += size;
                if ((r = pool_resize(pool)) != CUDA_SUCCESS)
                        pool->used -= size;
        } else
                r = device_take(ordinal, (int64_t)size);
        if (r) {
                free(a);
                return r;
        }
        *a = (Alloc){.next = P.allocs, .ptr = P.next_ptr, .size = size, .dev = ordinal, .pool = pool};
        P.allocs = a;
        P.next_ptr += (size + 0xfffff) & ~(CUdeviceptr)0xfffff;
        *ret = a->ptr;
        return CUDA_SUCCESS;
}

static CUresult fake_free(CUdeviceptr ptr) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        for (Alloc **p = &P.allocs; *p; p = &(*p)->next)
                if ((*p)->ptr == ptr) {
                        Alloc *a = *p;
                        if (a->pool) {
                                a->pool->used -= a->size;
                                pool_resize(a->pool);
                        } else
                                device_take(a->dev, -(int64_t)a->size);
                        *p = a->next;
                        free(a);
                        return CUDA_SUCCESS;
                }
        return CUDA_ERROR_INVALID_VALUE;
}

/* The current context's ordinal, or the error of a call without one. */
static CUresult current_ordinal(int *ret) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!current)
                return CUDA_ERROR_INVALID_CONTEXT;
        *ret = current->ordinal;
        return CUDA_SUCCESS;
}

EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *ret, size_t size) {
        int o;
        CUresult r = current_ordinal(&o);
        return r ? r : fake_alloc(o, NULL, size, ret);
}

EXPORT CUresult cuMemFree_v2(CUdeviceptr ptr) {
        return fake_free(ptr);
}

/* Rows padded to 512 bytes, as the real driver's texture pitch alignment does. */
EXPORT CUresult cuMemAllocPitch_v2(CUdeviceptr *ret, size_t *pitch, size_t width, size_t height,
                                   unsigned elem) {
        int o;
        CUresult r = current_ordinal(&o);
        if (r)
                return r;
        if (!pitch || width == 0 || height == 0 || (elem != 4 && elem != 8 && elem != 16))
                return CUDA_ERROR_INVALID_VALUE;
        size_t p = (width + 511) & ~(size_t)511;
        if ((r = fake_alloc(o, NULL, p * height, ret)) == CUDA_SUCCESS)
                *pitch = p;
        return r;
}

EXPORT CUresult cuMemAllocManaged(CUdeviceptr *ret, size_t size, unsigned flags) {
        int o;
        CUresult r = current_ordinal(&o);
        return r ? r : fake_alloc(o, NULL, size, ret);
}

/* From pool, or (NULL) the default pool of the stream's device. Frees are immediate:
 * stream order is not modelled. */
static CUresult pool_alloc(CUdeviceptr *ret, size_t size, Pool *pool, void *stream) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        Ctx *c = stream_ctx(stream);
        if (!c)
                return stream ? CUDA_ERROR_INVALID_HANDLE : CUDA_ERROR_INVALID_CONTEXT;
        if (pool && pool->magic != POOL_MAGIC)
                return CUDA_ERROR_INVALID_VALUE;
        return fake_alloc(c->ordinal, pool ? pool : &P.pools[c->ordinal], size, ret);
}

EXPORT CUresult cuMemAllocAsync(CUdeviceptr *ret, size_t size, void *stream) {
        return pool_alloc(ret, size, NULL, stream);
}

EXPORT CUresult cuMemAllocAsync_ptsz(CUdeviceptr *ret, size_t size, void *stream) {
        return pool_alloc(ret, size, NULL, stream);
}

EXPORT CUresult cuMemAllocFromPoolAsync(CUdeviceptr *ret, size_t size, Pool *pool, void *stream) {
        return pool ? pool_alloc(ret, size, pool, stream) : CUDA_ERROR_INVALID_VALUE;
}

EXPORT CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *ret, size_t size, Pool *pool, void *stream) {
        return pool ? pool_alloc(ret, size, pool, stream) : CUDA_ERROR_INVALID_VALUE;
}

EXPORT CUresult cuDeviceGetDefaultMemPool(Pool **ret, CUdevice dev) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!ret || dev < 0 || dev >= P.n)
                return CUDA_ERROR_INVALID_VALUE;
        *ret = &P.pools[dev];
        return CUDA_SUCCESS;
}

/* The current pool is always the default one. */
EXPORT CUresult cuDeviceGetMemPool(Pool **ret, CUdevice dev) {
        return cuDeviceGetDefaultMemPool(ret, dev);
}

enum {
        POOL_ATTR_RELEASE_THRESHOLD = 4,
        POOL_ATTR_RESERVED_MEM_CURRENT = 5,
        POOL_ATTR_USED_MEM_CURRENT = 7,
};

EXPORT CUresult cuMemPoolGetAttribute(Pool *pool, int attr, void *value) {
        if (!pool || pool->magic != POOL_MAGIC || !value)
                return CUDA_ERROR_INVALID_VALUE;
        uint64_t v;
        switch (attr) {
        case POOL_ATTR_RELEASE_THRESHOLD:
                v = pool->threshold;
                break;
        case POOL_ATTR_RESERVED_MEM_CURRENT:
                v = pool->reserved;
                break;
        case POOL_ATTR_USED_MEM_CURRENT:
                v = pool->used;
                break;
        default:
                return CUDA_ERROR_INVALID_VALUE;
        }
        memcpy(value, &v, sizeof v);
        return CUDA_SUCCESS;
}

EXPORT CUresult cuMemPoolSetAttribute(Pool *pool, int attr, void *value) {
        if (!pool || pool->magic != POOL_MAGIC || !value || attr != POOL_ATTR_RELEASE_THRESHOLD)
                return CUDA_ERROR_INVALID_VALUE;
        memcpy(&pool->threshold, value, sizeof pool->threshold);
        return pool_resize(pool);
}

/* Releases what the pool keeps beyond its blocks' needs and min_keep. */
EXPORT CUresult cuMemPoolTrimTo(Pool *pool, size_t min_keep) {
        if (!pool || pool->magic != POOL_MAGIC)
                return CUDA_ERROR_INVALID_VALUE;
        uint64_t threshold = pool->threshold;
        pool->threshold = min_keep;
        CUresult r = pool_resize(pool);
        pool->threshold = threshold;
        return r;
}

EXPORT CUresult cuMemFreeAsync(CUdeviceptr ptr, void *stream) {
        return fake_free(ptr);
}

EXPORT CUresult cuMemFreeAsync_ptsz(CUdeviceptr ptr, void *stream) {
        return fake_free(ptr);
}

/* CUmemAllocationProp up to its location (cuda.h): type, requestedHandleTypes,
 * location {type, id}. */
typedef struct AllocProp {
        int type, handle_types;
        int loc_type, loc_id;
} AllocProp;

EXPORT CUresult cuMemCreate(unsigned long long *handle, size_t size, const AllocProp *prop,
                            unsigned long long flags) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!prop || prop->loc_type != 1 /* CU_MEM_LOCATION_TYPE_DEVICE */ || prop->loc_id < 0 ||
            prop->loc_id >= P.n)
                return CUDA_ERROR_INVALID_VALUE;
        return fake_alloc(prop->loc_id, NULL, size, handle);
}

EXPORT CUresult cuMemRelease(unsigned long long handle) {
        return fake_free(handle);
}

EXPORT CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total) {
        int o;
        CUresult r = current_ordinal(&o);
        if (r)
                return r;
        if (!free_bytes || !total)
                return CUDA_ERROR_INVALID_VALUE;
        SimDevice *d = dev_of(o);
        sim_lock(P.s);
        uint64_t used = sim_mem_used(P.s, d);
        sim_unlock(P.s);
        *total = d->mem_total;
        *free_bytes = used < d->mem_total ? d->mem_total - used : 0;
        return CUDA_SUCCESS;
}

/* The CUDA 3.0 ABI: 32-bit sizes, clamped. */
EXPORT CUresult cuMemGetInfo(unsigned *free_bytes, unsigned *total) {
        size_t f, t;
        if (!free_bytes || !total)
                return CUDA_ERROR_INVALID_VALUE;
        CUresult r = cuMemGetInfo_v2(&f, &t);
        if (r)
                return r;
        *free_bytes = f > UINT_MAX ? UINT_MAX : (unsigned)f;
        *total = t > UINT_MAX ? UINT_MAX : (unsigned)t;
        return CUDA_SUCCESS;
}
