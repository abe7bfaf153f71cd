/* SPDX-License-Identifier: MIT */
/* The fake driver's memory: every allocation entry point the shim checks, over one list
 * of this process's allocations (pointers and cuMemCreate handles from one counter), and
 * the memory queries. Simulated memory runs out for real (CUDA_ERROR_OUT_OF_MEMORY). */
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "cuda-fake.h"

/* Allocates size bytes on the device of CUDA ordinal `ordinal`. */
static CUresult fake_alloc(int ordinal, size_t size, CUdeviceptr *ret) {
        if (!ret || size == 0)
                return CUDA_ERROR_INVALID_VALUE;
        Alloc *a = calloc(1, sizeof *a);
        if (!a)
                return CUDA_ERROR_OUT_OF_MEMORY;
        SimDevice *d = dev_of(ordinal);
        CUresult r = CUDA_SUCCESS;
        sim_lock(P.s);
        SimCtx *sc = sim_ctx(d, getpid(), true);
        if (d->lost)
                r = CUDA_ERROR_UNKNOWN;
        else if (!sc || sim_mem_used(P.s, d) + size > d->mem_total)
                r = CUDA_ERROR_OUT_OF_MEMORY;
        else
                sc->mem_used += size;
        sim_unlock(P.s);
        if (r) {
                free(a);
                return r;
        }
        *a = (Alloc){.next = P.allocs, .ptr = P.next_ptr, .size = size, .dev = ordinal};
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
                        SimDevice *d = dev_of(a->dev);
                        sim_lock(P.s);
                        SimCtx *sc = sim_ctx(d, getpid(), false);
                        if (sc)
                                sc->mem_used -= a->size < sc->mem_used ? a->size : sc->mem_used;
                        sim_unlock(P.s);
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
        return r ? r : fake_alloc(o, size, ret);
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
        if ((r = fake_alloc(o, p * height, ret)) == CUDA_SUCCESS)
                *pitch = p;
        return r;
}

EXPORT CUresult cuMemAllocManaged(CUdeviceptr *ret, size_t size, unsigned flags) {
        int o;
        CUresult r = current_ordinal(&o);
        return r ? r : fake_alloc(o, size, ret);
}

EXPORT CUresult cuMemAllocAsync(CUdeviceptr *ret, size_t size, void *stream) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        Ctx *c = stream_ctx(stream);
        if (!c)
                return stream ? CUDA_ERROR_INVALID_HANDLE : CUDA_ERROR_INVALID_CONTEXT;
        return fake_alloc(c->ordinal, size, ret);
}

EXPORT CUresult cuMemAllocAsync_ptsz(CUdeviceptr *ret, size_t size, void *stream) {
        return cuMemAllocAsync(ret, size, stream);
}

/* Pools are not modelled: every pool is the device's default pool. */
EXPORT CUresult cuMemAllocFromPoolAsync(CUdeviceptr *ret, size_t size, void *pool, void *stream) {
        return cuMemAllocAsync(ret, size, stream);
}

EXPORT CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *ret, size_t size, void *pool, void *stream) {
        return cuMemAllocAsync(ret, size, stream);
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
        return fake_alloc(prop->loc_id, size, handle);
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
